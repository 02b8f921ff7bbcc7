/* SPDX-License-Identifier: MIT */
/*
 * ramdev_as_vcpu_access (the vCPU path, lib/as/vcpu.c) without KVM: every
 * size 1..8 x start offset 0..7 x region kind (RAM, RAM-device with each
 * misaligned policy, MMIO) x direction, against the documented outcome,
 * with the bytes around each access checked untouched; then the cases
 * that reach no device: spanning two regions or a hole, unassigned, bad
 * sizes, wrap-around, MMIO refusals; the policy setter; the counters; the
 * DMA width setter, whose width the vCPU path ignores.
 * On x86, where perf_event_open allows it, hardware breakpoints also count
 * the device accesses of every RAM-device cell (one for an aligned access,
 * the aligned pieces for a split one, none for a rejected one, none to the
 * bytes around it); `ramdev vcpu-demo` does the same for a real vCPU.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ramdev/as.h"

#if defined(__x86_64__) || defined(__i386__)
#include "../tools/hwbp_watch.h"
#define HAVE_HWBP 1
#else
#define HAVE_HWBP 0
#endif

#define BASE 0x10000ull	 /* each kind's region lies at BASE */
#define RSIZE 64u	 /* region size */
#define PAD 16u		 /* bytes around the region, checked untouched */

enum kind { K_RAM, K_RAMD_SPLIT, K_RAMD_REJECT, K_MMIO, K_COUNT };

static const char *const kind_names[] = { "ram", "ramd-split",
					  "ramd-reject", "mmio" };

struct rec {
	uint8_t *mem;	/* the MMIO region's bytes */
	unsigned calls, bad; /* callbacks; callbacks that broke impl */
	unsigned sizes[8];   /* sizes of the last calls */
	int fail;	     /* a callback returns this when nonzero */
};

struct fix {
	struct ramdev_as *as;
	_Alignas(64) uint8_t buf[PAD + RSIZE + PAD]; /* region at buf+PAD */
	struct rec rec;
	char msg[512];
	unsigned nmsg;
	bool hwbp; /* breakpoints count the RAM-device cells' accesses */
};

static void quiet_log(void *opaque, int level, const char *msg)
{
	struct fix *f = opaque;

	(void)level;
	strncpy(f->msg, msg, sizeof(f->msg) - 1);
	f->nmsg++;
}

static void rec_note(struct rec *d, uint64_t off, unsigned size)
{
	if ((size & (size - 1)) || size > 8 || (off & (size - 1)) ||
	    off + size > RSIZE)
		d->bad++; /* impl below: 1..8, aligned */
	if (d->calls < 8)
		d->sizes[d->calls] = size;
	d->calls++;
}

static int rec_read(void *opaque, uint64_t off, unsigned size, uint64_t *val)
{
	struct rec *d = opaque;

	rec_note(d, off, size);
	if (d->fail)
		return d->fail;
	*val = 0;
	for (unsigned i = 0; i < size; i++)
		*val |= (uint64_t)d->mem[off + i] << (8 * i);
	return 0;
}

static int rec_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct rec *d = opaque;

	rec_note(d, off, size);
	if (d->fail)
		return d->fail;
	for (unsigned i = 0; i < size; i++)
		d->mem[off + i] = (uint8_t)(val >> (8 * i));
	return 0;
}

static const struct ramdev_mmio_ops rec_ops = {
	.read = rec_read,
	.write = rec_write,
	.valid = { .min_size = 1, .max_size = 8, .unaligned = true },
	.impl = { .min_size = 1, .max_size = 8, .unaligned = false },
};

/* Only 32-bit aligned accesses are valid (a typical register block). */
static const struct ramdev_mmio_ops rec_ops_32 = {
	.read = rec_read,
	.write = rec_write,
	.valid = { .min_size = 4, .max_size = 4, .unaligned = false },
	.impl = { .min_size = 4, .max_size = 4, .unaligned = false },
};

static int setup(void **state)
{
	/* aligned_alloc, not test_calloc: struct fix is 64-byte aligned
	 * (buf), which cmocka's allocator does not promise. */
	struct fix *f = aligned_alloc(_Alignof(struct fix), sizeof(*f));

	assert_non_null(f);
	memset(f, 0, sizeof(*f));
	assert_int_equal(0, ramdev_as_new(&f->as, "vcpu-test"));
	ramdev_as_set_log(f->as, quiet_log, f);
	f->rec.mem = f->buf + PAD;
#if HAVE_HWBP
	{
		struct watch w;
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = hwbp_on_sigtrap;
		sigaction(SIGTRAP, &sa, NULL);
		f->hwbp = watch_open(&w, f->buf, sizeof(f->buf),
				     f->buf + PAD, 8) == 0;
		if (f->hwbp)
			watch_close(&w);
	}
#endif
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	ramdev_as_free(f->as);
	free(f);
	return 0;
}

/* Place @r at @gpa in the root and drop the caller's reference. */
static void place(struct fix *f, struct ramdev_region *r, uint64_t gpa)
{
	assert_int_equal(0, ramdev_region_add(ramdev_as_root(f->as), gpa, r, 0));
	ramdev_region_unref(r);
}

static void add_kind(struct fix *f, enum kind k)
{
	struct ramdev_region *r;
	void *host = f->buf + PAD;

	switch (k) {
	case K_RAM:
		assert_int_equal(0, ramdev_region_new_ram(&r, "ram", host, RSIZE));
		break;
	case K_RAMD_SPLIT:
	case K_RAMD_REJECT:
		assert_int_equal(0, ramdev_region_new_ramd(&r, "ramd", host, RSIZE));
		if (k == K_RAMD_REJECT)
			assert_int_equal(0, ramdev_region_set_misaligned(
				r, RAMDEV_MISALIGNED_REJECT));
		break;
	default:
		assert_int_equal(0, ramdev_region_new_mmio(&r, "mmio", RSIZE,
							   &rec_ops, &f->rec));
		break;
	}
	place(f, r, BASE);
}

static bool one_access(unsigned size, unsigned off)
{
	return (size & (size - 1)) == 0 && (off & (size - 1)) == 0;
}

/* Aligned pieces ramdev_read/ramdev_write make of [off, off + n). */
static unsigned split_pieces(uint64_t off, unsigned n)
{
	unsigned pieces = 0, w;

	for (; n; off += w, n -= w, pieces++)
		for (w = 8; (off & (w - 1)) || w > n; w >>= 1)
			;
	return pieces;
}

/* The access, with the device accesses of a RAM-device cell counted by
 * hardware breakpoints when they are available. */
static int counted_access(struct fix *f, enum kind k, unsigned off,
			  uint8_t *data, unsigned size, bool write)
{
	int rc;
#if HAVE_HWBP
	uint8_t *p = f->buf + PAD + 8 + off;
	bool rejected = k == K_RAMD_REJECT && !one_access(size, off);
	uint64_t want = rejected ? 0 : one_access(size, off) ? 1
			: split_pieces(off, size);
	uint64_t inside, outside;
	sig_atomic_t traps = hwbp_stray_traps;
	struct watch w;

	if (f->hwbp && (k == K_RAMD_SPLIT || k == K_RAMD_REJECT)) {
		assert_int_equal(0, watch_open(&w, f->buf, sizeof(f->buf), p,
					       size));
		watch_start(&w);
		rc = ramdev_as_vcpu_access(f->as, BASE + 8 + off, data, size,
					   write);
		watch_stop(&w, &inside, &outside);
		if (traps == hwbp_stray_traps) { /* else a hit may be lost */
			assert_int_equal(want, inside);
			assert_int_equal(0, outside);
		}
		return rc;
	}
#endif
	(void)k;
	rc = ramdev_as_vcpu_access(f->as, BASE + 8 + off, data, size, write);
	return rc;
}

static void stats(struct fix *f, struct ramdev_vcpu_stats *s)
{
	assert_int_equal(0, ramdev_as_vcpu_stats(f->as, s));
}

/* One cell of the matrix.  The buffer holds i ^ 0x5a at byte i before. */
static void cell(struct fix *f, enum kind k, unsigned size, unsigned off,
		 bool write)
{
	bool rejected = k == K_RAMD_REJECT && !one_access(size, off);
	uint8_t data[8], want[sizeof(f->buf)];
	struct ramdev_vcpu_stats s0, s1;
	unsigned i;
	int rc;

	for (i = 0; i < sizeof(f->buf); i++)
		f->buf[i] = want[i] = (uint8_t)(i ^ 0x5a);
	for (i = 0; i < 8; i++)
		data[i] = (uint8_t)(0xc0 + i);
	f->rec.calls = f->rec.bad = 0;
	stats(f, &s0);
	rc = counted_access(f, k, off, data, size, write);
	stats(f, &s1);
	if (rejected) {
		assert_int_equal(-EOPNOTSUPP, rc);
		assert_int_equal(s0.misaligned_rejected + 1,
				 s1.misaligned_rejected);
		for (i = 0; !write && i < size; i++)
			assert_int_equal(0xff, data[i]); /* all-ones */
	} else {
		assert_int_equal(0, rc);
		for (i = 0; i < size; i++) /* guest order: byte i at gpa + i */
			if (write)
				want[PAD + 8 + off + i] = data[i];
			else
				assert_int_equal(want[PAD + 8 + off + i], data[i]);
	}
	/* Nothing outside [gpa, gpa + size) changed: written bytes only. */
	assert_memory_equal(want, f->buf, sizeof(f->buf));
	assert_int_equal(s0.misaligned_split +
			 (k == K_RAMD_SPLIT && !one_access(size, off)),
			 s1.misaligned_split);
	if (k == K_MMIO) {
		assert_int_equal(0, f->rec.bad);
		if (one_access(size, off)) { /* impl allows it as issued */
			assert_int_equal(1, f->rec.calls);
			assert_int_equal(size, f->rec.sizes[0]);
		}
	}
}

static void test_ramdev_as_vcpu_access_matrix(void **state)
{
	for (enum kind k = 0; k < K_COUNT; k++) {
		struct fix *f;

		teardown(state);
		setup(state);
		f = *state;
		add_kind(f, k);
		for (unsigned size = 1; size <= 8; size++)
			for (unsigned off = 0; off < 8; off++) {
				cell(f, k, size, off, false);
				cell(f, k, size, off, true);
			}
		if (k == K_RAMD_SPLIT && !f->hwbp)
			print_message("SKIP device access counts: no hardware "
				      "breakpoints (perf_event_open)\n");
		(void)kind_names;
	}
}

static void all_ones(const uint8_t *d, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(0xff, d[i]);
}

/* RAM [BASE, BASE + 32) then RAM-device [BASE + 32, BASE + 64), then a
 * hole; an access across either boundary touches neither region. */
static void test_ramdev_as_vcpu_access_spanning(void **state)
{
	struct fix *f = *state;
	struct ramdev_region *a, *b;
	struct ramdev_vcpu_stats s;
	uint8_t data[8], before[sizeof(f->buf)];

	assert_int_equal(0, ramdev_region_new_ram(&a, "a", f->buf + PAD, 32));
	assert_int_equal(0, ramdev_region_new_ramd(&b, "b", f->buf + PAD + 32,
						   32));
	place(f, a, BASE);
	place(f, b, BASE + 32);
	memset(f->buf, 0x33, sizeof(f->buf));
	memcpy(before, f->buf, sizeof(before));
	memset(data, 0, sizeof(data));
	/* region | region */
	assert_int_equal(-EFAULT, ramdev_as_vcpu_access(f->as, BASE + 30, data,
							4, false));
	all_ones(data, 4);
	assert_non_null(strstr(f->msg, "spans two regions"));
	assert_int_equal(-EFAULT, ramdev_as_vcpu_access(f->as, BASE + 28, data,
							8, true));
	/* region | hole, and hole | region */
	assert_int_equal(-EFAULT, ramdev_as_vcpu_access(f->as, BASE + 62, data,
							4, true));
	assert_int_equal(-EFAULT, ramdev_as_vcpu_access(f->as, BASE - 2, data,
							4, false));
	all_ones(data, 4);
	assert_memory_equal(before, f->buf, sizeof(before));
	stats(f, &s);
	assert_int_equal(4, s.spanning);
	assert_int_equal(0, s.unassigned);
}

static void test_ramdev_as_vcpu_access_unassigned(void **state)
{
	struct fix *f = *state;
	struct ramdev_vcpu_stats s;
	uint8_t data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	assert_int_equal(RAMDEV_AS_UNASSIGNED,
			 ramdev_as_vcpu_access(f->as, 0xfee00000, data, 8, false));
	all_ones(data, 8);
	assert_non_null(strstr(f->msg, "unassigned gpa 0xfee00000"));
	assert_int_equal(RAMDEV_AS_UNASSIGNED,
			 ramdev_as_vcpu_access(f->as, 0xfee00000, data, 2, true));
	stats(f, &s);
	assert_int_equal(2, s.unassigned);
}

static void test_ramdev_as_vcpu_access_bad_size(void **state)
{
	struct fix *f = *state;
	struct ramdev_vcpu_stats s;
	uint8_t data[16];

	add_kind(f, K_RAMD_SPLIT);
	memset(f->buf, 0x33, sizeof(f->buf));
	memset(data, 0, sizeof(data));
	assert_int_equal(-EINVAL, ramdev_as_vcpu_access(f->as, BASE, data, 0,
							true));
	/* The first guest-triggered line; later ones are rate-limited. */
	assert_non_null(strstr(f->msg, "size 0x0 not 1..8"));
	assert_int_equal(-EINVAL, ramdev_as_vcpu_access(f->as, BASE, data, 16,
							true));
	assert_int_equal(-EINVAL, ramdev_as_vcpu_access(f->as, BASE, data, 9,
							false));
	all_ones(data, 8);
	for (unsigned i = 0; i < sizeof(f->buf); i++)
		assert_int_equal(0x33, f->buf[i]); /* no write got through */
	stats(f, &s);
	assert_int_equal(3, s.bad_size);
	assert_int_equal(-EINVAL, ramdev_as_vcpu_access(NULL, BASE, data, 4,
							false));
	assert_int_equal(-EINVAL, ramdev_as_vcpu_access(f->as, BASE, NULL, 4,
							false));
}

static void test_ramdev_as_vcpu_access_wraps(void **state)
{
	struct fix *f = *state;
	struct ramdev_vcpu_stats s;
	uint8_t data[4] = { 0 };

	assert_int_equal(-EFAULT, ramdev_as_vcpu_access(f->as, UINT64_MAX - 1,
							data, 4, false));
	all_ones(data, 4);
	/* The last byte of the space is fine (unassigned here). */
	assert_int_equal(RAMDEV_AS_UNASSIGNED,
			 ramdev_as_vcpu_access(f->as, UINT64_MAX, data, 1, true));
	stats(f, &s);
	assert_int_equal(1, s.spanning);
	assert_int_equal(1, s.unassigned);
}

static void test_ramdev_as_vcpu_access_mmio_refused(void **state)
{
	struct fix *f = *state;
	struct ramdev_region *r;
	struct ramdev_vcpu_stats s;
	uint8_t data[8] = { 0 };

	assert_int_equal(0, ramdev_region_new_mmio(&r, "regs", RSIZE,
						   &rec_ops_32, &f->rec));
	place(f, r, BASE);
	/* valid: 4 bytes, aligned.  No callback for what it forbids. */
	assert_int_equal(-EINVAL, ramdev_as_vcpu_access(f->as, BASE, data, 2,
							false));
	all_ones(data, 2);
	assert_int_equal(-EINVAL, ramdev_as_vcpu_access(f->as, BASE + 2, data,
							4, true));
	assert_int_equal(0, f->rec.calls);
	assert_int_equal(0, ramdev_as_vcpu_access(f->as, BASE + 4, data, 4,
						  false));
	assert_int_equal(1, f->rec.calls);
	f->rec.fail = -EIO;
	assert_int_equal(-EIO, ramdev_as_vcpu_access(f->as, BASE, data, 4,
						     false));
	all_ones(data, 4);
	stats(f, &s);
	assert_int_equal(3, s.mmio_errors);
}

static void test_ramdev_region_set_misaligned_rules(void **state)
{
	struct fix *f = *state;
	struct ramdev_region *ram, *ramd, *alias;

	assert_int_equal(0, ramdev_region_new_ram(&ram, "ram", f->buf, 16));
	assert_int_equal(-EINVAL, ramdev_region_set_misaligned(
		ram, RAMDEV_MISALIGNED_REJECT));
	ramdev_region_unref(ram);
	assert_int_equal(-EINVAL, ramdev_region_set_misaligned(
		NULL, RAMDEV_MISALIGNED_SPLIT));
	assert_int_equal(0, ramdev_region_new_ramd(&ramd, "ramd", f->buf, 16));
	assert_int_equal(-EINVAL, ramdev_region_set_misaligned(
		ramd, (enum ramdev_misaligned)7));
	assert_int_equal(0, ramdev_region_set_misaligned(
		ramd, RAMDEV_MISALIGNED_REJECT));
	/* Aliased: other holders may already use it. */
	assert_int_equal(0, ramdev_region_new_alias(&alias, "alias", ramd, 0, 16));
	assert_int_equal(-EBUSY, ramdev_region_set_misaligned(
		ramd, RAMDEV_MISALIGNED_SPLIT));
	ramdev_region_unref(alias);
	/* Placed: readers may see it. */
	assert_int_equal(0, ramdev_region_add(ramdev_as_root(f->as), BASE,
					      ramd, 0));
	assert_int_equal(-EBUSY, ramdev_region_set_misaligned(
		ramd, RAMDEV_MISALIGNED_SPLIT));
	ramdev_region_unref(ramd);
}

static void test_ramdev_region_set_dma_width_rules(void **state)
{
	struct fix *f = *state;
	struct ramdev_region *ram, *ramd, *mmio, *alias;
	static const unsigned bad[] = { 0, 3, 6, 12, 65, 128, 256 };
	static const unsigned good[] = { 1, 2, 4, 8, 16, 32, 64 };

	assert_int_equal(0, ramdev_region_new_ram(&ram, "ram", f->buf, 16));
	assert_int_equal(-EINVAL, ramdev_region_set_dma_width(ram, 4));
	assert_int_equal(0, ramdev_region_dma_width(ram));
	ramdev_region_unref(ram);
	assert_int_equal(0, ramdev_region_new_mmio(&mmio, "mmio", RSIZE,
						   &rec_ops, &f->rec));
	assert_int_equal(-EINVAL, ramdev_region_set_dma_width(mmio, 4));
	assert_int_equal(0, ramdev_region_dma_width(mmio));
	ramdev_region_unref(mmio);
	assert_int_equal(-EINVAL, ramdev_region_set_dma_width(NULL, 8));
	assert_int_equal(0, ramdev_region_dma_width(NULL));

	assert_int_equal(0, ramdev_region_new_ramd(&ramd, "ramd", f->buf, 16));
	assert_int_equal(8, ramdev_region_dma_width(ramd)); /* the default */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(-EINVAL,
				 ramdev_region_set_dma_width(ramd, bad[i]));
		assert_int_equal(8, ramdev_region_dma_width(ramd));
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(0, ramdev_region_set_dma_width(ramd, good[i]));
		assert_int_equal(good[i], ramdev_region_dma_width(ramd));
	}
	assert_int_equal(0, ramdev_region_set_dma_width(ramd, 4));
	/* Aliased: other holders may already copy through it. */
	assert_int_equal(0, ramdev_region_new_alias(&alias, "alias", ramd, 0, 16));
	assert_int_equal(-EBUSY, ramdev_region_set_dma_width(ramd, 16));
	assert_int_equal(4, ramdev_region_dma_width(ramd));
	assert_int_equal(0, ramdev_region_dma_width(alias)); /* not RAMD */
	ramdev_region_unref(alias);
	/* Placed: readers may see it. */
	assert_int_equal(0, ramdev_region_add(ramdev_as_root(f->as), BASE,
					      ramd, 0));
	assert_int_equal(-EBUSY, ramdev_region_set_dma_width(ramd, 16));
	assert_int_equal(4, ramdev_region_dma_width(ramd));
	ramdev_region_unref(ramd);
}

/*
 * A width-4 region: the library's copies (ramdev_as_write/_read) of an
 * aligned 8-byte span make two 4-byte accesses, a vCPU's aligned 8-byte
 * access stays one (hardware breakpoints count them where they can); the
 * bytes are right either way.
 */
static void test_ramdev_region_set_dma_width_copies_not_vcpu(void **state)
{
	struct fix *f = *state;
	struct ramdev_region *r;
	uint8_t in[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[8];
	uint8_t *p = f->buf + PAD + 8;

	assert_int_equal(0, ramdev_region_new_ramd(&r, "bar32", f->buf + PAD,
						   RSIZE));
	assert_int_equal(0, ramdev_region_set_dma_width(r, 4));
	place(f, r, BASE);
	assert_int_equal(0, ramdev_as_write(f->as, BASE + 8, in, 8));
	assert_memory_equal(p, in, 8);
	memset(out, 0, sizeof(out));
	assert_int_equal(0, ramdev_as_vcpu_access(f->as, BASE + 8, out, 8,
						  false));
	assert_memory_equal(out, in, 8);
#if HAVE_HWBP
	if (f->hwbp) {
		sig_atomic_t traps = hwbp_stray_traps;
		uint64_t copy_in, copy_out, vcpu_in, vcpu_out;
		struct watch w;

		assert_int_equal(0, watch_open(&w, f->buf, sizeof(f->buf), p, 8));
		watch_start(&w);
		assert_int_equal(0, ramdev_as_read(f->as, BASE + 8, out, 8));
		watch_stop(&w, &copy_in, &copy_out); /* closes the watch */
		assert_int_equal(0, watch_open(&w, f->buf, sizeof(f->buf), p, 8));
		watch_start(&w);
		assert_int_equal(0, ramdev_as_vcpu_access(f->as, BASE + 8, out,
							  8, true));
		watch_stop(&w, &vcpu_in, &vcpu_out);
		if (traps == hwbp_stray_traps) { /* else a hit may be lost */
			assert_int_equal(2, copy_in);
			assert_int_equal(1, vcpu_in);
			assert_int_equal(0, copy_out + vcpu_out);
		}
	}
#endif
}

/* A rejected access through an alias follows the target's policy. */
static void test_ramdev_as_vcpu_access_alias_policy(void **state)
{
	struct fix *f = *state;
	struct ramdev_region *ramd, *alias;
	uint8_t data[4] = { 1, 2, 3, 4 };

	assert_int_equal(0, ramdev_region_new_ramd(&ramd, "ramd", f->buf + PAD,
						   RSIZE));
	assert_int_equal(0, ramdev_region_set_misaligned(
		ramd, RAMDEV_MISALIGNED_REJECT));
	assert_int_equal(0, ramdev_region_new_alias(&alias, "win", ramd, 16, 32));
	ramdev_region_unref(ramd);
	place(f, alias, BASE);
	assert_int_equal(-EOPNOTSUPP,
			 ramdev_as_vcpu_access(f->as, BASE + 1, data, 4, true));
	assert_non_null(strstr(f->msg, "rejected by region ramd"));
	assert_int_equal(0, ramdev_as_vcpu_access(f->as, BASE + 4, data, 4,
						  true));
	assert_memory_equal(data, f->buf + PAD + 16 + 4, 4);
}

/* Writes to RAM-device memory mark the dirty log, as ramdev_as_st does. */
static void test_ramdev_as_vcpu_access_dirty(void **state)
{
	struct fix *f = *state;
	struct ramdev_region *r;
	uint8_t data[8] = { 0 };
	uint64_t bits[1];

	assert_int_equal(0, ramdev_region_new_ramd(&r, "ramd", f->buf + PAD,
						   RSIZE));
	assert_int_equal(0, ramdev_region_dirty_enable(r, true));
	ramdev_region_ref(r);
	place(f, r, BASE);
	assert_int_equal(0, ramdev_as_vcpu_access(f->as, BASE, data, 8, false));
	assert_int_equal(0, ramdev_region_dirty_take(r, bits, 1));
	assert_int_equal(0, ramdev_as_vcpu_access(f->as, BASE + 3, data, 2,
						  true));
	assert_int_equal(1, ramdev_region_dirty_take(r, bits, 1));
	ramdev_region_unref(r);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ramdev_as_vcpu_access_matrix),
		T(test_ramdev_as_vcpu_access_spanning),
		T(test_ramdev_as_vcpu_access_unassigned),
		T(test_ramdev_as_vcpu_access_bad_size),
		T(test_ramdev_as_vcpu_access_wraps),
		T(test_ramdev_as_vcpu_access_mmio_refused),
		T(test_ramdev_region_set_misaligned_rules),
		T(test_ramdev_region_set_dma_width_rules),
		T(test_ramdev_region_set_dma_width_copies_not_vcpu),
		T(test_ramdev_as_vcpu_access_alias_policy),
		T(test_ramdev_as_vcpu_access_dirty),
	};

	return cmocka_run_group_tests_name("as_vcpu", tests, NULL, NULL);
}
