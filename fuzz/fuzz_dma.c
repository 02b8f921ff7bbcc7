// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the DMA layer (clang only; scripts/fuzz.sh): random
 * sequences of map / unmap / map_sg / unmap_sg and segment accesses on the
 * test guest (RAM, RAM-device and MMIO regions with holes between them)
 * with a tiny bounce pool, under both policies.
 *
 * Checks:
 *  - every mapped segment lies inside its region's host memory or the pool,
 *    and a map_sg's segments add up to the list's lengths;
 *  - under DIRECT, a map_sg of valid ranges (each inside one region) never
 *    fails for lack of bounce space: it maps (or says -E2BIG when the
 *    segment array is too small), and ramdev_dma_map of RAM or RAMD never
 *    fails; invalid ranges are refused with -EFAULT/-EOVERFLOW/-EINVAL;
 *  - a segment read right after its map (no write since) returns what
 *    ramdev_dma_read() returns for the same range; the bytes a device wrote
 *    to a segment are in guest memory after its unmap (the written count);
 *  - after each input everything is unmapped: each region's reference count
 *    is back where it was, and the whole pool can be mapped again (nothing
 *    of the bounce space leaked).
 *
 * Input:
 *   u8 flags              bit0 QEMU_BOUNCE policy
 *   ops until the end     (see enum op); a range is u8 where (region, hole or
 *                         near 2^64), u16 offset, u16 length
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "as/as_priv.h"
#include "ramdev/dma.h"
#include "test_guest.h"
#include "fuzz_input.h"

#define RAM_SIZE (16u << 10)
#define RAMD_SIZE (16u << 10)
#define MMIO_SIZE 4096u
#define POOL 256u
#define MAX_MAPS 16
#define MAX_SG 8
#define MAX_SEGS 24

/* A broken invariant: say which one, then crash for libFuzzer. */
#define FAIL() fail(__LINE__)

static void fail(int line)
{
	fprintf(stderr, "fuzz_dma: check at line %d failed\n", line);
	__builtin_trap();
}

enum op {
	OP_MAP,       /* range, u8 dir */
	OP_UNMAP,     /* u8 which, u16 written */
	OP_MAP_SG,    /* u8 n, n ranges, u8 dir */
	OP_UNMAP_SG,  /* u8 which, u16 written */
	OP_SEG_WRITE, /* u8 which, u8 seg, u8 pattern: fill the segment */
	OP_SEG_READ,  /* u8 which, u8 seg */
	OP_COUNT
};

/* A mapping made by the input: one segment or an sg list. */
struct map {
	struct ramdev_dma_seg segs[MAX_SEGS];
	unsigned nsegs;
	uint64_t gpa[MAX_SEGS];
	uint8_t *shadow[MAX_SEGS]; /* what the device wrote, or NULL */
	unsigned wgen;		   /* the latest shadow's write number */
	unsigned gen;		   /* writes before the map */
};

struct state {
	struct test_guest *g;
	struct map maps[MAX_MAPS];
	unsigned n;
	unsigned writes; /* guest memory writes so far: segment writes and
			  * copy-backs (a shadow or a read is stale after) */
};

static void quiet(void *opaque, int level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

static struct test_guest *guest(int qemu)
{
	static struct test_guest *g[2];

	if (!g[qemu]) {
		struct test_guest_config c = {
			.ram_size = RAM_SIZE, .ramd_size = RAMD_SIZE,
			.mmio_size = MMIO_SIZE, .bounce_size = POOL,
			.policy = qemu ? RAMDEV_DMA_QEMU_BOUNCE : RAMDEV_DMA_DIRECT,
		};

		if (test_guest_new(&g[qemu], &c) != 0)
			abort();
		ramdev_as_set_log(g[qemu]->as, quiet, NULL);
	}
	return g[qemu];
}

static int in_region(struct test_guest *g, uint64_t gpa)
{
	return gpa - TEST_GUEST_RAM_GPA < g->ram_size ||
	       gpa - TEST_GUEST_RAMD_GPA < g->ramd_size ||
	       gpa - TEST_GUEST_MMIO_GPA < g->mmio_size;
}

/* Whether @a and @b are in the same region (both inside some region). */
static int same_region(uint64_t a, uint64_t b)
{
	return (a >= TEST_GUEST_MMIO_GPA) == (b >= TEST_GUEST_MMIO_GPA) &&
	       (a >= TEST_GUEST_RAMD_GPA) == (b >= TEST_GUEST_RAMD_GPA);
}

/* A range; *valid says whether it lies inside one region (length >= 1):
 * in_region() of both ends, and no region boundary between them. */
static struct ramdev_sg get_range(struct input *in, struct test_guest *g,
				  int *valid)
{
	static const uint64_t base[4] = { TEST_GUEST_RAM_GPA, TEST_GUEST_RAMD_GPA,
					  TEST_GUEST_MMIO_GPA, 0 };
	uint8_t where = get8(in) % 6;
	uint64_t off = get16(in), len = get16(in), size;
	struct ramdev_sg sg;

	size = where == 0 ? g->ram_size : where == 1 ? g->ramd_size
			    : where == 2 ? g->mmio_size : 0;
	if (where < 3) {
		off %= size;
		if (len > size - off)
			len %= size - off + 1;
		sg.gpa = base[where] + off;
	} else if (where == 3) { /* anywhere: holes, spans across edges */
		sg.gpa = (uint64_t)off << 14;
	} else if (where == 4) { /* near the top: wrapping ranges */
		sg.gpa = UINT64_MAX - off;
	} else { /* just before a region: crosses its start */
		sg.gpa = TEST_GUEST_MMIO_GPA - (off & 0xff);
	}
	sg.len = len;
	*valid = len > 0 && in_region(g, sg.gpa) &&
		 !__builtin_add_overflow(sg.gpa, len - 1, &off) &&
		 in_region(g, off) && same_region(sg.gpa, off);
	return sg;
}

static int inside(const uint8_t *p, size_t n, const uint8_t *base, size_t size)
{
	return p >= base && n <= size && (size_t)(p - base) <= size - n;
}

/* A mapped segment points into its region's memory, or is MMIO/bounced. */
static void check_seg(struct test_guest *g, const struct ramdev_dma_seg *s)
{
	if (s->len == 0)
		FAIL();
	if (s->bounce || s->kind == RAMDEV_SEG_MMIO)
		return;
	if (!inside(s->base, s->len, g->ram_host, g->ram_size) &&
	    !inside(s->base, s->len, g->ramd_host, g->ramd_size))
		FAIL();
}

static enum ramdev_dma_dir get_dir(struct input *in)
{
	return (enum ramdev_dma_dir)(1 + get8(in) % 3);
}

/*
 * Whether a valid range at @gpa may fail with @ret: only for bounce space,
 * for map (not map_sg) of MMIO under DIRECT (-EAGAIN), and for MMIO or RAMD
 * under QEMU_BOUNCE (-ENOBUFS).
 */
static int may_lack_pool(struct test_guest *g, uint64_t gpa, int ret, int sg)
{
	if (ramdev_dma_policy(g->dma) == RAMDEV_DMA_DIRECT)
		return !sg && ret == -EAGAIN && gpa >= TEST_GUEST_MMIO_GPA;
	return ret == -ENOBUFS && gpa >= TEST_GUEST_RAMD_GPA;
}

static void do_map(struct input *in, struct state *st)
{
	int valid, ret;
	struct ramdev_sg sg = get_range(in, st->g, &valid);
	enum ramdev_dma_dir dir = get_dir(in);
	struct map *m = &st->maps[st->n];

	if (st->n == MAX_MAPS)
		return;
	memset(m, 0, sizeof(*m));
	m->gen = st->writes;
	ret = ramdev_dma_map(st->g->dma, sg.gpa, sg.len, dir, &m->segs[0]);
	if (ret == 0) {
		/* A map may take just the start of a range that leaves its
		 * region: the first byte must be inside one. */
		if (!in_region(st->g, sg.gpa) || m->segs[0].len > sg.len)
			FAIL();
		check_seg(st->g, &m->segs[0]);
		m->gpa[0] = sg.gpa;
		m->nsegs = 1;
		st->n++;
		return;
	}
	if (valid && !may_lack_pool(st->g, sg.gpa, ret, false))
		FAIL();
}

static void do_map_sg(struct input *in, struct state *st)
{
	struct ramdev_sg sg[MAX_SG];
	unsigned nsg = get8(in) % (MAX_SG + 1), all_valid = 1;
	enum ramdev_dma_dir dir;
	struct map *m = &st->maps[st->n];
	uint64_t total = 0, got = 0;
	int valid, ret;

	for (unsigned i = 0; i < nsg; i++) {
		sg[i] = get_range(in, st->g, &valid);
		all_valid &= (unsigned)valid;
		total += sg[i].len;
	}
	dir = get_dir(in);
	if (st->n == MAX_MAPS)
		return;
	memset(m, 0, sizeof(*m));
	m->gen = st->writes;
	ret = ramdev_dma_map_sg(st->g->dma, sg, nsg, dir, m->segs, MAX_SEGS);
	if (ret < 0) {
		if (all_valid && ret != -E2BIG &&
		    !may_lack_pool(st->g, TEST_GUEST_MMIO_GPA, ret, true))
			FAIL();
		return;
	}
	if (!all_valid || ret > MAX_SEGS)
		FAIL();
	if (ret == 0)
		return; /* an empty list */
	/* Segments follow the list in order, none across two entries. */
	for (unsigned i = 0, k = 0; i < (unsigned)ret; i++) {
		while (k < nsg && got == sg[k].len) {
			k++;
			got = 0;
		}
		if (k == nsg || m->segs[i].len > sg[k].len - got)
			FAIL();
		check_seg(st->g, &m->segs[i]);
		m->gpa[i] = sg[k].gpa + got;
		got += m->segs[i].len;
		total -= m->segs[i].len;
	}
	if (total != 0)
		FAIL();
	m->nsegs = (unsigned)ret;
	st->n++;
}

/* Fill segment @i of @m with a pattern, as the device would. */
static void do_seg_write(struct state *st, struct map *m, unsigned i,
			 uint8_t pat)
{
	struct ramdev_dma_seg *s = &m->segs[i];
	uint8_t *buf;

	if (!(s->dir & RAMDEV_DMA_FROM_DEVICE))
		return;
	buf = m->shadow[i] ? m->shadow[i] : malloc(s->len);
	if (!buf)
		abort();
	for (size_t k = 0; k < s->len; k++)
		buf[k] = (uint8_t)(pat + k * 7);
	if (ramdev_dma_seg_write(s, 0, buf, s->len) != 0)
		FAIL();
	m->shadow[i] = buf;
	m->wgen = ++st->writes;
}

static void do_seg_read(struct state *st, struct map *m, unsigned i)
{
	struct ramdev_dma_seg *s = &m->segs[i];
	uint8_t *a, *b;

	if (!(s->dir & RAMDEV_DMA_TO_DEVICE) || m->gen != st->writes)
		return;
	a = malloc(s->len);
	b = malloc(s->len);
	if (!a || !b)
		abort();
	if (ramdev_dma_seg_read(s, 0, a, s->len) != 0 ||
	    ramdev_dma_read(st->g->dma, m->gpa[i], b, s->len) != 0 ||
	    memcmp(a, b, s->len) != 0)
		FAIL();
	free(a);
	free(b);
}

/* Unmap @m with @written bytes (counted from its first segment). */
static void do_unmap(struct state *st, unsigned which, size_t written)
{
	struct map *m = &st->maps[which];
	size_t left = written;

	/* The one written segment, and no guest write since: checkable. */
	int check = m->nsegs == 1 && m->shadow[0] && m->wgen == st->writes;

	if (m->nsegs == 1)
		ramdev_dma_unmap(st->g->dma, &m->segs[0], written);
	else
		ramdev_dma_unmap_sg(st->g->dma, m->segs, m->nsegs, written);
	if (written)
		st->writes++; /* a bounce copy-back */
	/* What the device wrote and reported is in guest memory now. */
	for (unsigned i = 0; check && i < m->nsegs && left; i++) {
		size_t w = left < m->segs[i].len ? left : m->segs[i].len;

		left -= w;
		if (m->shadow[i] && (m->segs[i].dir & RAMDEV_DMA_FROM_DEVICE)) {
			uint8_t *b = malloc(w);

			if (!b || ramdev_dma_read(st->g->dma, m->gpa[i], b, w) ||
			    memcmp(b, m->shadow[i], w) != 0)
				FAIL();
			free(b);
		}
	}
	for (unsigned i = 0; i < m->nsegs; i++)
		free(m->shadow[i]);
	st->maps[which] = st->maps[--st->n];
}

static uint64_t refs(const struct ramdev_region *r)
{
	return __atomic_load_n(&r->refs, __ATOMIC_RELAXED);
}

/* The pool is whole again: one map of MMIO takes all of it. */
static void check_pool(struct test_guest *g)
{
	struct ramdev_dma_seg s;

	if (ramdev_dma_map(g->dma, TEST_GUEST_MMIO_GPA, POOL,
			   RAMDEV_DMA_TO_DEVICE, &s) != 0 ||
	    s.len != POOL || !s.bounce)
		FAIL();
	ramdev_dma_unmap(g->dma, &s, 0);
}

static void run_ops(struct input *in, struct state *st)
{
	unsigned which, seg;

	while (in->left) {
		switch (get8(in) % OP_COUNT) {
		case OP_MAP:
			do_map(in, st);
			break;
		case OP_MAP_SG:
			do_map_sg(in, st);
			break;
		case OP_UNMAP:
		case OP_UNMAP_SG:
			which = get8(in);
			seg = get16(in);
			if (st->n)
				do_unmap(st, which % st->n, seg);
			break;
		case OP_SEG_WRITE:
			which = get8(in);
			seg = get8(in);
			if (st->n) {
				struct map *m = &st->maps[which % st->n];

				do_seg_write(st, m, seg % m->nsegs, get8(in));
			} else {
				get8(in);
			}
			break;
		case OP_SEG_READ:
			which = get8(in);
			seg = get8(in);
			if (st->n) {
				struct map *m = &st->maps[which % st->n];

				do_seg_read(st, m, seg % m->nsegs);
			}
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	static struct state st;
	static bool made;
	uint64_t r0[3];

	/* Both guests at once: adding a region anywhere rebuilds every
	 * address space's view, and each old view drops its region references
	 * in an RCU callback, later.  Wait for those callbacks, so the
	 * reference counts an input starts from stay put. */
	if (!made) {
		guest(0);
		guest(1);
		urcu_memb_barrier();
		made = true;
	}
	st.g = guest(get8(&in) & 1);
	st.n = 0;
	st.writes = 0;
	test_guest_clear(st.g);
	r0[0] = refs(st.g->ram);
	r0[1] = refs(st.g->ramd);
	r0[2] = refs(st.g->mmio);
	run_ops(&in, &st);
	while (st.n)
		do_unmap(&st, st.n - 1, 0);
	if (refs(st.g->ram) != r0[0] || refs(st.g->ramd) != r0[1] ||
	    refs(st.g->mmio) != r0[2])
		FAIL();
	check_pool(st.g);
	return 0;
}
