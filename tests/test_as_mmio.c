/* SPDX-License-Identifier: MIT */
/*
 * MMIO dispatch against the rules: a recording device asserts that every
 * callback gets a size and alignment its `impl` allows, that the pieces are
 * ascending and disjoint and cover the access, and that data round-trips
 * (writes zero-extend into widened blocks, as QEMU does).  Also `valid`
 * rejection and RAMD value checks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "test_as.h"

#define DEV_BYTES 96
#define REGION_SIZE 64
#define MAXLOG 64

struct rec {
	uint8_t mem[DEV_BYTES];
	struct ramdev_access_rules impl; /* normalised */
	struct {
		uint64_t off;
		unsigned size;
	} log[MAXLOG];
	unsigned n;
	unsigned bad; /* callbacks that broke impl */
	uint64_t fail_from; /* callbacks at or above this offset fail */
};

static void rec_note(struct rec *d, uint64_t off, unsigned size)
{
	const struct ramdev_access_rules *im = &d->impl;

	if ((size & (size - 1)) || size < im->min_size || size > im->max_size ||
	    (!im->unaligned && (off & (size - 1))) || off + size > DEV_BYTES)
		d->bad++;
	if (d->n < MAXLOG) {
		d->log[d->n].off = off;
		d->log[d->n].size = size;
	}
	d->n++;
}

static int rec_read(void *opaque, uint64_t off, unsigned size, uint64_t *val)
{
	struct rec *d = opaque;
	unsigned i;

	rec_note(d, off, size);
	if (off >= d->fail_from)
		return -EIO;
	*val = 0;
	for (i = 0; i < size && off + i < DEV_BYTES; i++)
		*val |= (uint64_t)d->mem[off + i] << (8 * i);
	return 0;
}

static int rec_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct rec *d = opaque;
	unsigned i;

	rec_note(d, off, size);
	if (off >= d->fail_from)
		return -EIO;
	for (i = 0; i < size && off + i < DEV_BYTES; i++)
		d->mem[off + i] = (uint8_t)(val >> (8 * i));
	return 0;
}

static struct ramdev_region *add_rec(struct test_fix *f, struct rec *d,
				     uint64_t gpa,
				     struct ramdev_access_rules valid,
				     struct ramdev_access_rules impl)
{
	struct ramdev_mmio_ops ops = { rec_read, rec_write, valid, impl };
	struct ramdev_region *r;

	memset(d, 0, sizeof(*d));
	d->fail_from = UINT64_MAX;
	d->impl = impl;
	if (!d->impl.min_size)
		d->impl.min_size = 1;
	if (!d->impl.max_size)
		d->impl.max_size = 4;
	assert_int_equal(ramdev_region_new_mmio(&r, "rec", REGION_SIZE, &ops, d), 0);
	assert_int_equal(ramdev_region_add(ramdev_as_root(f->as), gpa, r, 0), 0);
	ramdev_region_unref(r);
	return r;
}

/* Pieces ascending, disjoint, each touching [off, off + size), together
 * covering it. */
static void check_cover(const struct rec *d, uint64_t off, unsigned size)
{
	uint64_t next = 0;
	unsigned i;

	assert_int_equal(d->bad, 0);
	assert_true(d->n >= 1 && d->n <= MAXLOG);
	for (i = 0; i < d->n; i++) {
		uint64_t s = d->log[i].off, e = s + d->log[i].size;

		assert_true(s >= next);
		assert_true(e > off && s < off + size);
		if (i == 0)
			assert_true(s <= off);
		else
			assert_int_equal(s, next);
		next = e;
	}
	assert_true(next >= off + size);
}

static bool in_pieces(const struct rec *d, uint64_t b)
{
	unsigned i;

	for (i = 0; i < d->n; i++)
		if (b >= d->log[i].off && b < d->log[i].off + d->log[i].size)
			return true;
	return false;
}

static void one_impl_case(struct test_fix *f, struct rec *d, uint64_t gpa,
			  uint64_t off, unsigned size, uint64_t seed)
{
	uint8_t before[DEV_BYTES];
	uint64_t v = 0, want = 0, sv = seed * 0x9e3779b97f4a7c15ull;
	unsigned i;

	for (i = 0; i < DEV_BYTES; i++)
		d->mem[i] = (uint8_t)(seed + i * 7 + 1);
	for (i = 0; i < size; i++)
		want |= (uint64_t)d->mem[off + i] << (8 * i);
	d->n = 0;
	assert_int_equal(ramdev_as_ld(f->as, gpa + off, size, &v), 0);
	check_cover(d, off, size);
	assert_int_equal(v, want);

	memcpy(before, d->mem, sizeof(before));
	d->n = 0;
	assert_int_equal(ramdev_as_st(f->as, gpa + off, size, sv), 0);
	check_cover(d, off, size);
	for (i = 0; i < DEV_BYTES; i++) {
		if (i >= off && i < off + size)
			assert_int_equal(d->mem[i], (uint8_t)(sv >> (8 * (i - off))));
		else if (in_pieces(d, i))
			assert_int_equal(d->mem[i], 0); /* zero-extended */
		else
			assert_int_equal(d->mem[i], before[i]);
	}
}

void test_ramdev_as_ld_mmio_impl_matrix(void **state)
{
	struct test_fix *f = *state;
	const struct ramdev_access_rules any = { 1, 8, true };
	unsigned imin, imax, una, size;
	uint64_t gpa = 0x10000, off, seed = 1;
	struct rec d;

	for (imin = 1; imin <= 8; imin *= 2)
		for (imax = imin; imax <= 8; imax *= 2)
			for (una = 0; una < 2; una++) {
				struct ramdev_access_rules im = { imin, imax, una };
				struct ramdev_region *r = add_rec(f, &d, gpa, any, im);

				for (size = 1; size <= 8; size *= 2)
					for (off = 0; off + size <= 40; off++)
						one_impl_case(f, &d, gpa, off, size, seed++);
				assert_int_equal(ramdev_region_del(ramdev_as_root(f->as), r), 0);
				gpa += 0x1000;
			}
}

void test_ramdev_as_read_mmio_greedy(void **state)
{
	struct test_fix *f = *state;
	const struct ramdev_access_rules any = { 1, 8, true };
	const struct ramdev_access_rules v4 = { 1, 4, true };
	uint8_t buf[13], back[13];
	struct rec d;
	unsigned i;

	add_rec(f, &d, 0x1000, any, any);
	for (i = 0; i < DEV_BYTES; i++)
		d.mem[i] = (uint8_t)i;
	assert_int_equal(ramdev_as_read(f->as, 0x1003, buf, sizeof(buf)), 0);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.log[0].off, 3);
	assert_int_equal(d.log[0].size, 1);
	assert_int_equal(d.log[1].off, 4);
	assert_int_equal(d.log[1].size, 4);
	assert_int_equal(d.log[2].off, 8);
	assert_int_equal(d.log[2].size, 8);
	for (i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 3 + i);

	/* valid.max_size 4 caps the greedy width; impl 1..2 splits further. */
	add_rec(f, &d, 0x2000, v4, (struct ramdev_access_rules){ 1, 2, false });
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(0xa0 + i);
	assert_int_equal(ramdev_as_write(f->as, 0x2003, buf, sizeof(buf)), 0);
	assert_int_equal(d.bad, 0);
	assert_int_equal(d.n, 1 + 2 + 2 + 2);
	assert_int_equal(ramdev_as_read(f->as, 0x2003, back, sizeof(back)), 0);
	assert_memory_equal(buf, back, sizeof(buf));
}

void test_ramdev_as_ld_mmio_valid_reject(void **state)
{
	struct test_fix *f = *state;
	const struct ramdev_access_rules four = { 4, 4, false };
	struct rec d;
	uint64_t v;

	add_rec(f, &d, 0x1000, four, four);
	assert_int_equal(ramdev_as_ld(f->as, 0x1000, 2, &v), -EINVAL);
	assert_non_null(strstr(f->last_msg, "0x2"));
	assert_int_equal(ramdev_as_ld(f->as, 0x1000, 8, &v), -EINVAL);
	assert_int_equal(ramdev_as_st(f->as, 0x1002, 4, 0), -EINVAL);
	assert_int_equal(d.n, 0);
	assert_int_equal(ramdev_as_ld(f->as, 0x1004, 4, &v), 0);
	assert_int_equal(d.n, 1);
	/* A callback's error reaches the caller. */
	d.fail_from = 0x20;
	assert_int_equal(ramdev_as_ld(f->as, 0x1020, 4, &v), -EIO);
}

void test_ramdev_as_write_mmio_valid_stops(void **state)
{
	struct test_fix *f = *state;
	const struct ramdev_access_rules four = { 4, 4, false };
	uint8_t buf[6] = { 1, 2, 3, 4, 5, 6 };
	struct rec d;

	add_rec(f, &d, 0x1000, four, four);
	assert_int_equal(ramdev_as_write(f->as, 0x1000, buf, sizeof(buf)),
			 -EINVAL);
	assert_int_equal(d.n, 1); /* the 4-byte piece, nothing after */
	assert_int_equal(d.log[0].size, 4);
	assert_int_equal(d.mem[4], 0);
}

void test_ramdev_as_ld_ramd_exact(void **state)
{
	struct test_fix *f = *state;
	static _Alignas(64) uint8_t bar[64];
	struct ramdev_region *r;
	uint64_t v, w8;
	uint32_t w4;
	unsigned i;

	assert_int_equal(ramdev_region_new_ramd(&r, "bar", bar, sizeof(bar)), 0);
	assert_int_equal(ramdev_region_add(ramdev_as_root(f->as), 0x4000, r, 0), 0);
	ramdev_region_unref(r);
	for (i = 0; i < sizeof(bar); i++)
		bar[i] = (uint8_t)i;
	/* Values are in host order: compare with memcpy from the bytes. */
	assert_int_equal(ramdev_as_ld(f->as, 0x4008, 8, &v), 0);
	memcpy(&w8, bar + 8, 8);
	assert_int_equal(v, w8);
	assert_int_equal(ramdev_as_ld(f->as, 0x4003, 4, &v), 0);
	memcpy(&w4, bar + 3, 4);
	assert_int_equal(v, w4);
	assert_int_equal(ramdev_as_st(f->as, 0x4011, 8, 0x8877665544332211ull), 0);
	memcpy(&w8, bar + 0x11, 8);
	assert_int_equal(w8, 0x8877665544332211ull);
	assert_int_equal(bar[0x10], 0x10);
	assert_int_equal(bar[0x19], 0x19);
	/* Spanning the end of the region: two "regions". */
	assert_int_equal(ramdev_as_ld(f->as, 0x403e, 4, &v), -EFAULT);
}
