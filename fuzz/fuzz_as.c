// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the address space (clang only; scripts/fuzz.sh):
 * random region trees (RAM, RAM-device, MMIO, containers, aliases,
 * priorities), hot add and remove, batched changes, and accesses, each
 * checked against the brute-force model of tests/as_model.h:
 *  - every ramdev_region_add() returns the errno the model predicts;
 *  - outside a batch, ramdev_as_translate() of an address gives the model's
 *    owner and offset, and a run length over which the owner stays the same
 *    and contiguous (and ends where it changes);
 *  - ramdev_as_read() returns, byte for byte, the model owner's memory (RAM
 *    and RAMD host bytes, an MMIO region's pattern, 0xff for unassigned) and
 *    says RAMDEV_AS_UNASSIGNED exactly when some byte has no owner;
 *  - ramdev_as_write() changes exactly the host bytes the model's owners of
 *    the span map to (in ascending order), nothing else;
 *  - MMIO callbacks are called only inside their region.
 *
 * Input: ops until the end (see enum op).  Missing bytes read as zero.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "as_model.h"
#include "ramdev/as.h"
#include "fuzz_input.h"

#define NREG 12
#define HOST 0x4000u
#define SPAN_MAX 64u

#define FAIL() fail(__LINE__)

static void fail(int line)
{
	fprintf(stderr, "fuzz_as: check at line %d failed\n", line);
	__builtin_trap();
}

enum op {
	OP_NEW,    /* u8 kind, u16 size, u8 target, u16 target offset */
	OP_ADD,    /* u8 child, u8 parent, u8 where, u16 offset, u8 priority */
	OP_DEL,    /* u8 child */
	OP_XLATE,  /* u8 where, u16 address */
	OP_READ,   /* u8 where, u16 address, u8 length */
	OP_WRITE,  /* u8 where, u16 address, u8 length, u8 pattern */
	OP_BEGIN,  /* start a batch (checks wait for its commit) */
	OP_COMMIT, /* end one */
	OP_COUNT
};

struct state {
	struct ramdev_as *as;
	struct mreg m[NREG + 1]; /* m[0] is the root */
	uint8_t *host[NREG + 1]; /* RAM/RAMD: where the region's memory is */
	uint64_t id[NREG + 1];   /* MMIO: the pattern's seed */
	int n;
	int depth; /* open batches */
	uint8_t mem[HOST];
};

/* An MMIO region's bytes: a function of its seed and offset. */
static uint8_t pattern(uint64_t id, uint64_t off)
{
	return (uint8_t)(id * 37 + off * 5 + (off >> 8));
}

struct mmio_dev {
	uint64_t id, size;
};

static struct mmio_dev devs[NREG + 1];

static int pat_read(void *opaque, uint64_t off, unsigned size, uint64_t *val)
{
	struct mmio_dev *d = opaque;
	uint64_t v = 0;

	if (off >= d->size || size > d->size - off)
		FAIL();
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)pattern(d->id, off + i) << (8 * i);
	*val = v;
	return 0;
}

static int pat_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct mmio_dev *d = opaque;

	(void)val;
	if (off >= d->size || size > d->size - off)
		FAIL();
	return 0;
}

/* Two flavours: byte-exact callbacks, and 4-byte-only ones (widening). */
static const struct ramdev_mmio_ops pat_ops[2] = {
	{ .read = pat_read, .write = pat_write,
	  .valid = { 1, 8, true }, .impl = { 1, 8, true } },
	{ .read = pat_read, .write = pat_write,
	  .valid = { 1, 8, true }, .impl = { 4, 4, false } },
};

static void quiet(void *opaque, int level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

static void op_new(struct input *in, struct state *s)
{
	unsigned kind = get8(in) % 6, ti = get8(in);
	uint64_t size = 1 + get16(in) % 0x6000, toff = get16(in);
	int i = s->n, rc;
	struct mreg *m = &s->m[i];
	char name[16];

	if (s->n > NREG)
		return;
	memset(m, 0, sizeof(*m));
	snprintf(name, sizeof(name), "r%d", i);
	if (kind == 0 || kind == 1) { /* RAM, RAMD: inside s->mem */
		uint64_t off = toff % HOST;

		size = 1 + (size - 1) % (HOST - off);
		s->host[i] = s->mem + off;
		rc = kind ? ramdev_region_new_ramd(&m->r, name, s->host[i], size)
			  : ramdev_region_new_ram(&m->r, name, s->host[i], size);
		m->kind = kind ? RAMDEV_REGION_RAMD : RAMDEV_REGION_RAM;
	} else if (kind == 2 || kind == 3) {
		size = (size + 7) & ~UINT64_C(7); /* widened reads stay inside */
		devs[i] = (struct mmio_dev){ .id = (uint64_t)i * 1000 + toff,
					     .size = size };
		rc = ramdev_region_new_mmio(&m->r, name, size, &pat_ops[kind - 2],
					    &devs[i]);
		m->kind = RAMDEV_REGION_MMIO;
	} else if (kind == 4 || s->n == 1) {
		rc = ramdev_region_new_container(&m->r, name, size);
		m->kind = RAMDEV_REGION_CONTAINER;
	} else {
		struct mreg *t = &s->m[1 + ti % (s->n - 1)];

		toff %= t->last + 1;
		size = 1 + (size - 1) % (t->last - toff + 1);
		rc = ramdev_region_new_alias(&m->r, name, t->r, toff, size);
		m->kind = RAMDEV_REGION_ALIAS;
		m->target = t;
		m->toff = toff;
	}
	if (rc != 0)
		FAIL();
	m->last = size - 1;
	s->n++;
}

static uint64_t get_addr(struct input *in)
{
	uint8_t where = get8(in);
	uint64_t a = get16(in);

	if (where % 8 == 7)
		return UINT64_MAX - a; /* near the top */
	return a % 0x14000;
}

static void op_add(struct input *in, struct state *s)
{
	unsigned ci = get8(in), pi = get8(in);
	uint64_t off = get_addr(in);
	int prio = (int)(get8(in) % 4) - 1, expect, rc;
	struct mreg *c, *p;

	if (s->n < 2)
		return;
	c = &s->m[1 + ci % (s->n - 1)];
	p = &s->m[pi % s->n];
	if (!p->is_root)
		off %= p->last + 1;
	expect = model_add_expect(p, off, c, prio);
	if (expect == -ENOSPC)
		return;
	rc = ramdev_region_add(p->r, off, c->r, prio);
	if (rc != expect)
		FAIL();
	if (rc == 0)
		model_add(p, off, c, prio);
}

static void op_del(struct input *in, struct state *s)
{
	unsigned ci = get8(in);
	struct mreg *c;

	if (s->n < 2)
		return;
	c = &s->m[1 + ci % (s->n - 1)];
	if (!c->parent) {
		if (ramdev_region_del(s->m[0].r, c->r) != -ENOENT)
			FAIL();
		return;
	}
	if (ramdev_region_del(c->parent->r, c->r) != 0)
		FAIL();
	model_del(c);
}

/* One address against the model (tests/test_as_random.c's check_addr). */
static void check_xlate(struct state *s, uint64_t gpa)
{
	uint64_t req = gpa ? 0 - gpa : UINT64_MAX, lo = 0, lo2 = 0, end;
	const struct mreg *m = model_owner(&s->m[0], gpa, &lo), *m2;
	struct ramdev_xlate x;
	int rc;

	if (req > 0x100000)
		req = 0x100000;
	ramdev_as_read_lock();
	rc = ramdev_as_translate(s->as, gpa, req, &x);
	ramdev_as_read_unlock();
	if (rc != (m ? 0 : -EFAULT) || x.len < 1 || x.len > req)
		FAIL();
	end = gpa + (x.len - 1);
	m2 = model_owner(&s->m[0], end, &lo2);
	if (m && (x.region != m->r || x.offset != lo || m2 != m ||
		  lo2 != lo + (x.len - 1)))
		FAIL();
	if (!m && m2)
		FAIL();
	if (x.len == req)
		return;
	m2 = model_owner(&s->m[0], end + 1, &lo2);
	if (m ? (m2 == m && lo2 == lo + x.len) : !m2)
		FAIL();
}

/* The byte the model says a read of @gpa returns; *host its RAM byte. */
static uint8_t model_byte(struct state *s, uint64_t gpa, uint8_t **host,
			  int *unassigned)
{
	uint64_t off;
	const struct mreg *m = model_owner(&s->m[0], gpa, &off);
	int i;

	*host = NULL;
	if (!m) {
		*unassigned = 1;
		return 0xff;
	}
	i = (int)(m - s->m);
	if (m->kind == RAMDEV_REGION_MMIO)
		return pattern(devs[i].id, off);
	*host = s->host[i] + off;
	return **host;
}

static void op_read(struct input *in, struct state *s)
{
	uint64_t gpa = get_addr(in);
	size_t len = 1 + get8(in) % SPAN_MAX;
	uint8_t buf[SPAN_MAX], *h;
	int rc, un = 0;

	rc = ramdev_as_read(s->as, gpa, buf, len);
	if (gpa + (len - 1) < gpa) {
		if (rc != -EOVERFLOW)
			FAIL();
		return;
	}
	if (s->depth)
		return;
	for (size_t i = 0; i < len; i++)
		if (buf[i] != model_byte(s, gpa + i, &h, &un))
			FAIL();
	if (rc != (un ? RAMDEV_AS_UNASSIGNED : 0))
		FAIL();
}

static void op_write(struct input *in, struct state *s)
{
	uint64_t gpa = get_addr(in);
	size_t len = 1 + get8(in) % SPAN_MAX;
	uint8_t pat = get8(in), buf[SPAN_MAX], *h;
	static uint8_t want[HOST];
	int rc, un = 0;

	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(pat + i * 3);
	if (s->depth || gpa + (len - 1) < gpa) {
		rc = ramdev_as_write(s->as, gpa, buf, len);
		if (gpa + (len - 1) < gpa && rc != -EOVERFLOW)
			FAIL();
		return;
	}
	memcpy(want, s->mem, HOST);
	for (size_t i = 0; i < len; i++) {
		model_byte(s, gpa + i, &h, &un);
		if (h)
			want[h - s->mem] = buf[i];
	}
	rc = ramdev_as_write(s->as, gpa, buf, len);
	if (rc != (un ? RAMDEV_AS_UNASSIGNED : 0) ||
	    memcmp(want, s->mem, HOST) != 0)
		FAIL();
}

static void run_ops(struct input *in, struct state *s)
{
	while (in->left) {
		switch (get8(in) % OP_COUNT) {
		case OP_NEW:
			op_new(in, s);
			break;
		case OP_ADD:
			op_add(in, s);
			break;
		case OP_DEL:
			op_del(in, s);
			break;
		case OP_XLATE: {
			uint64_t gpa = get_addr(in);

			if (!s->depth)
				check_xlate(s, gpa);
			break;
		}
		case OP_READ:
			op_read(in, s);
			break;
		case OP_WRITE:
			op_write(in, s);
			break;
		case OP_BEGIN:
			if (s->depth < 4) {
				ramdev_as_begin(s->as);
				s->depth++;
			}
			break;
		case OP_COMMIT:
			if (s->depth) {
				if (ramdev_as_commit(s->as) != 0)
					FAIL();
				s->depth--;
			}
			break;
		}
	}
}

/* Every edge of every placed region, after the input's changes. */
static void check_edges(struct state *s)
{
	for (int i = 1; i < s->n; i++) {
		const struct mreg *m = &s->m[i], *p;
		uint64_t base = 0;

		for (p = m; p && !p->is_root; p = p->parent)
			base += p->off;
		if (!p)
			continue;
		for (int j = -1; j <= 1; j++) {
			check_xlate(s, base + (uint64_t)j);
			check_xlate(s, base + m->last + (uint64_t)j);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct state *s;
	static uint8_t init[HOST];
	struct input in = { data, size };

	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s || ramdev_as_new(&s->as, "fuzz") != 0)
			abort();
		ramdev_as_set_log(s->as, quiet, NULL);
		for (unsigned i = 0; i < HOST; i++)
			init[i] = (uint8_t)(i * 13 + (i >> 8));
	}
	memcpy(s->mem, init, HOST); /* a loop here would be traced per byte */
	s->m[0] = (struct mreg){ .r = ramdev_as_root(s->as), .is_root = true,
				 .kind = RAMDEV_REGION_CONTAINER,
				 .last = UINT64_MAX };
	s->n = 1;
	s->depth = 0;
	run_ops(&in, s);
	while (s->depth--)
		if (ramdev_as_commit(s->as) != 0)
			FAIL();
	s->depth = 0;
	check_edges(s);
	/* Empty the root again, in one batch. */
	ramdev_as_begin(s->as);
	for (int i = 1; i < s->n; i++)
		if (s->m[i].parent &&
		    ramdev_region_del(s->m[i].parent->r, s->m[i].r) != 0)
			FAIL();
	if (ramdev_as_commit(s->as) != 0)
		FAIL();
	for (int i = 1; i < s->n; i++)
		ramdev_region_unref(s->m[i].r);
	return 0;
}
