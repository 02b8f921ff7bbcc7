/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the address space (include/ramdev/as.h), cmocka suite 'as'.
 * Random layouts against a brute-force model live in test_as_random.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <urcu/urcu-memb.h>

#include "test_as.h"

/* ---- fixture and helpers ---- */

static void fix_log(void *opaque, int level, const char *msg)
{
	struct test_fix *f = opaque;

	snprintf(f->last_msg, sizeof(f->last_msg), "%s", msg);
	f->last_level = level;
	f->nmsg++;
}

void test_quiet_log(void *opaque, int level, const char *msg)
{
	(void)opaque, (void)level, (void)msg;
}

int test_null_read(void *opaque, uint64_t off, unsigned size, uint64_t *val)
{
	(void)opaque, (void)off, (void)size;
	*val = 0;
	return 0;
}

int test_null_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	(void)opaque, (void)off, (void)size, (void)val;
	return 0;
}

int test_as_setup(void **state)
{
	struct test_fix *f = calloc(1, sizeof(*f));

	if (!f || ramdev_as_new(&f->as, "test"))
		return -1;
	ramdev_as_set_log(f->as, fix_log, f);
	*state = f;
	return 0;
}

int test_as_teardown(void **state)
{
	struct test_fix *f = *state;

	if (f->seed)
		fprintf(stderr, "failing layout: RAMDEV_AS_SEED=%llu\n",
			(unsigned long long)f->seed);
	ramdev_as_free(f->as);
	free(f);
	return 0;
}

static const struct ramdev_mmio_ops null_ops = {
	.read = test_null_read, .write = test_null_write,
};

/* Add a fresh region to the root and drop our handle (the tree keeps it). */
static struct ramdev_region *add_ram(struct test_fix *f, const char *name,
				     void *host, uint64_t gpa, uint64_t size,
				     int prio)
{
	struct ramdev_region *r;

	assert_int_equal(ramdev_region_new_ram(&r, name, host, size), 0);
	assert_int_equal(ramdev_region_add(ramdev_as_root(f->as), gpa, r,
					   prio), 0);
	ramdev_region_unref(r);
	return r;
}

static int xlate(struct test_fix *f, uint64_t gpa, uint64_t len,
		 struct ramdev_xlate *x)
{
	int rc;

	ramdev_as_read_lock();
	rc = ramdev_as_translate(f->as, gpa, len, x);
	ramdev_as_read_unlock();
	return rc;
}

/* ---- resolution ---- */

static void test_ramdev_as_translate_ram(void **state)
{
	struct test_fix *f = *state;
	static uint8_t mem[0x2000];
	struct ramdev_region *r = add_ram(f, "ram", mem, 0x10000, sizeof(mem), 0);
	struct ramdev_xlate x;

	assert_int_equal(xlate(f, 0x10010, 0x100, &x), 0);
	assert_ptr_equal(x.region, r);
	assert_int_equal(x.kind, RAMDEV_REGION_RAM);
	assert_int_equal(x.offset, 0x10);
	assert_int_equal(x.len, 0x100);
	assert_ptr_equal(x.host, mem + 0x10);
	assert_int_equal(xlate(f, 0x11ff0, 0x100, &x), 0);
	assert_int_equal(x.len, 0x10); /* clipped at the region's end */
	assert_int_equal(xlate(f, 0xff00, 0x1000, &x), -EFAULT);
	assert_int_equal(x.len, 0x100); /* the hole up to the region */
}

static void test_ramdev_as_translate_priority_alias_container(void **state)
{
	struct test_fix *f = *state;
	static uint8_t lo[0x4000], hi[0x1000];
	struct ramdev_region *c, *a, *rl, *rh;
	struct ramdev_xlate x;

	/* c [0x0-0x3fff] prio 1 holds hi at 0x1000; lo below it at prio 0. */
	rl = add_ram(f, "lo", lo, 0, sizeof(lo), 0);
	assert_int_equal(ramdev_region_new_container(&c, "c", 0x4000), 0);
	assert_int_equal(ramdev_region_new_ram(&rh, "hi", hi, sizeof(hi)), 0);
	assert_int_equal(ramdev_region_add(c, 0x1000, rh, 0), 0);
	assert_int_equal(ramdev_region_add(ramdev_as_root(f->as), 0, c, 1), 0);
	/* The container's uncovered space is transparent. */
	assert_int_equal(xlate(f, 0x800, 1, &x), 0);
	assert_ptr_equal(x.region, rl);
	assert_int_equal(xlate(f, 0x1800, 0x1000, &x), 0);
	assert_ptr_equal(x.region, rh);
	assert_int_equal(x.offset, 0x800);
	assert_int_equal(x.len, 0x800);
	assert_int_equal(xlate(f, 0x2000, 1, &x), 0);
	assert_ptr_equal(x.region, rl);
	assert_int_equal(x.offset, 0x2000);
	/* An alias of lo's second page at 0x10000. */
	assert_int_equal(ramdev_region_new_alias(&a, "a", rl, 0x1000, 0x1000), 0);
	assert_int_equal(ramdev_region_add(ramdev_as_root(f->as), 0x10000, a, 0), 0);
	assert_int_equal(xlate(f, 0x10010, 0x2000, &x), 0);
	assert_ptr_equal(x.region, rl);
	assert_int_equal(x.offset, 0x1010);
	assert_int_equal(x.len, 0xff0);
	assert_ptr_equal(x.host, lo + 0x1010);
	ramdev_region_unref(a);
	ramdev_region_unref(rh);
	ramdev_region_unref(c);
}

static void test_ramdev_as_commit_batches(void **state)
{
	struct test_fix *f = *state;
	static uint8_t mem[0x1000];
	struct ramdev_xlate x;

	ramdev_as_begin(f->as);
	ramdev_as_begin(f->as);
	add_ram(f, "ram", mem, 0x1000, sizeof(mem), 0);
	assert_int_equal(ramdev_as_commit(f->as), 0);
	assert_int_equal(xlate(f, 0x1000, 1, &x), -EFAULT); /* not yet */
	assert_int_equal(ramdev_as_commit(f->as), 0);
	assert_int_equal(xlate(f, 0x1000, 1, &x), 0);
	assert_int_equal(ramdev_as_commit(f->as), -EINVAL);
}

/* ---- bad input: one test per rule, exact errno, message in hex ---- */

static void test_ramdev_region_new_size_zero(void **state)
{
	struct ramdev_region *r = NULL;
	uint8_t b;

	(void)state;
	assert_int_equal(ramdev_region_new_ram(&r, "z", &b, 0), -EINVAL);
	assert_int_equal(ramdev_region_new_ramd(&r, "z", &b, 0), -EINVAL);
	assert_int_equal(ramdev_region_new_container(&r, "z", 0), -EINVAL);
	assert_int_equal(ramdev_region_new_mmio(&r, "z", 0, &null_ops, NULL),
			 -EINVAL);
	assert_null(r);
}

static void test_ramdev_region_new_null(void **state)
{
	struct ramdev_region *r = NULL;
	uint8_t b;

	(void)state;
	assert_int_equal(ramdev_region_new_ram(NULL, "n", &b, 1), -EINVAL);
	assert_int_equal(ramdev_region_new_ram(&r, NULL, &b, 1), -EINVAL);
	assert_int_equal(ramdev_region_new_ram(&r, "n", NULL, 1), -EINVAL);
	assert_int_equal(ramdev_region_new_mmio(&r, "n", 1, NULL, NULL), -EINVAL);
	assert_int_equal(ramdev_region_new_alias(&r, "n", NULL, 0, 1), -EINVAL);
	assert_int_equal(ramdev_as_new(NULL, "n"), -EINVAL);
	assert_null(r);
}

static void test_ramdev_region_new_mmio_bad_rules(void **state)
{
	static const struct ramdev_access_rules bad[] = {
		{ 3, 4, false }, { 1, 16, false }, { 8, 4, false }, { 0, 2 + 1, 0 },
	};
	struct ramdev_mmio_ops ops = null_ops;
	struct ramdev_region *r = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ops.valid = bad[i];
		ops.impl = (struct ramdev_access_rules){ 0 };
		assert_int_equal(ramdev_region_new_mmio(&r, "m", 8, &ops, NULL),
				 -EINVAL);
		ops.valid = ops.impl;
		ops.impl = bad[i];
		assert_int_equal(ramdev_region_new_mmio(&r, "m", 8, &ops, NULL),
				 -EINVAL);
	}
	assert_null(r);
}

static void test_ramdev_region_new_alias_out_of_target(void **state)
{
	struct ramdev_region *t, *a = NULL;

	(void)state;
	assert_int_equal(ramdev_region_new_container(&t, "t", 0x1000), 0);
	assert_int_equal(ramdev_region_new_alias(&a, "a", t, 0x800, 0x801),
			 -EOVERFLOW);
	assert_int_equal(ramdev_region_new_alias(&a, "a", t, 0x1000, 1),
			 -EOVERFLOW);
	assert_int_equal(ramdev_region_new_alias(&a, "a", t, UINT64_MAX, 2),
			 -EOVERFLOW);
	assert_int_equal(ramdev_region_new_alias(&a, "a", t, 0, 0), -EINVAL);
	assert_null(a);
	assert_int_equal(ramdev_region_new_alias(&a, "a", t, 0x800, 0x800), 0);
	ramdev_region_unref(a);
	ramdev_region_unref(t);
}

static void test_ramdev_region_add_wraps(void **state)
{
	struct test_fix *f = *state;
	struct ramdev_region *c, *r;

	assert_int_equal(ramdev_region_new_container(&c, "c", 0x2000), 0);
	assert_int_equal(ramdev_region_new_container(&r, "r", 0x1000), 0);
	assert_int_equal(ramdev_region_add(ramdev_as_root(f->as),
					   UINT64_MAX - 0xffe, r, 0), -EOVERFLOW);
	assert_non_null(strstr(f->last_msg, "0xfffffffffffff001"));
	/* Leaving a container is the same rule. */
	assert_int_equal(ramdev_region_add(c, 0x1001, r, 0), -EOVERFLOW);
	assert_int_equal(ramdev_region_add(c, 0x1000, r, 0), 0);
	ramdev_region_unref(r);
	ramdev_region_unref(c);
}

static void test_ramdev_region_add_twice(void **state)
{
	struct test_fix *f = *state;
	struct ramdev_region *r, *root = ramdev_as_root(f->as);

	assert_int_equal(ramdev_region_new_container(&r, "r", 0x1000), 0);
	assert_int_equal(ramdev_region_add(root, 0, r, 0), 0);
	assert_int_equal(ramdev_region_add(root, 0x10000, r, 1), -EINVAL);
	assert_non_null(strstr(f->last_msg, "already placed"));
	ramdev_region_unref(r);
}

static void test_ramdev_region_add_not_container(void **state)
{
	struct test_fix *f = *state;
	struct ramdev_region *m, *r;

	assert_int_equal(ramdev_region_new_mmio(&m, "m", 0x1000, &null_ops,
						NULL), 0);
	assert_int_equal(ramdev_region_new_container(&r, "r", 0x10), 0);
	assert_int_equal(ramdev_region_add(m, 0, r, 0), -EINVAL);
	assert_int_equal(ramdev_region_add(NULL, 0, r, 0), -EINVAL);
	assert_int_equal(ramdev_region_add(r, 0, NULL, 0), -EINVAL);
	/* The root of an address space cannot be placed anywhere. */
	assert_int_equal(ramdev_region_add(r, 0, ramdev_as_root(f->as), 0),
			 -EINVAL);
	ramdev_region_unref(r);
	ramdev_region_unref(m);
}

static void test_ramdev_region_add_equal_priority_overlap(void **state)
{
	struct test_fix *f = *state;
	struct ramdev_region *a, *b, *root = ramdev_as_root(f->as);

	assert_int_equal(ramdev_region_new_container(&a, "a", 0x1000), 0);
	assert_int_equal(ramdev_region_new_container(&b, "b", 0x1000), 0);
	assert_int_equal(ramdev_region_add(root, 0x1000, a, 2), 0);
	assert_int_equal(ramdev_region_add(root, 0x1fff, b, 2), -EBUSY);
	assert_non_null(strstr(f->last_msg, "0x1fff"));
	assert_int_equal(ramdev_region_add(root, 0x1fff, b, 3), 0);
	ramdev_region_unref(a);
	ramdev_region_unref(b);
}

static void test_ramdev_region_add_cycle(void **state)
{
	struct ramdev_region *c, *d, *a;

	(void)state;
	assert_int_equal(ramdev_region_new_container(&c, "c", 0x1000), 0);
	assert_int_equal(ramdev_region_new_container(&d, "d", 0x1000), 0);
	assert_int_equal(ramdev_region_new_alias(&a, "a", c, 0, 0x100), 0);
	assert_int_equal(ramdev_region_add(c, 0, c, 0), -ELOOP);
	assert_int_equal(ramdev_region_add(d, 0, a, 0), 0);
	/* c -> d -> a -> c */
	assert_int_equal(ramdev_region_add(c, 0, d, 0), -ELOOP);
	assert_int_equal(ramdev_region_add(c, 0, a, 0), -EINVAL); /* placed */
	ramdev_region_unref(a);
	ramdev_region_unref(d);
	ramdev_region_unref(c);
}

static void test_ramdev_region_del_not_child(void **state)
{
	struct test_fix *f = *state;
	struct ramdev_region *c, *r;

	assert_int_equal(ramdev_region_new_container(&c, "c", 0x1000), 0);
	assert_int_equal(ramdev_region_new_container(&r, "r", 0x10), 0);
	assert_int_equal(ramdev_region_del(ramdev_as_root(f->as), r), -ENOENT);
	assert_int_equal(ramdev_region_add(c, 0, r, 0), 0);
	assert_int_equal(ramdev_region_del(ramdev_as_root(f->as), r), -ENOENT);
	assert_int_equal(ramdev_region_del(c, r), 0);
	assert_int_equal(ramdev_region_del(c, r), -ENOENT);
	assert_int_equal(ramdev_region_del(NULL, r), -EINVAL);
	ramdev_region_unref(r);
	ramdev_region_unref(c);
}

static void test_ramdev_as_translate_bad_args(void **state)
{
	struct test_fix *f = *state;
	struct ramdev_xlate x;
	uint64_t v;
	uint8_t b[2];

	assert_int_equal(xlate(f, 0, 0, &x), -EINVAL);
	assert_int_equal(xlate(f, UINT64_MAX, 2, &x), -EOVERFLOW);
	assert_int_equal(ramdev_as_ld(f->as, 0, 3, &v), -EINVAL);
	assert_int_equal(ramdev_as_st(f->as, 0, 16, 0), -EINVAL);
	assert_int_equal(ramdev_as_ld(f->as, UINT64_MAX - 2, 4, &v), -EOVERFLOW);
	assert_int_equal(ramdev_as_read(f->as, UINT64_MAX, b, 2), -EOVERFLOW);
	assert_int_equal(ramdev_as_write(f->as, UINT64_MAX, b, 2), -EOVERFLOW);
}

/* ---- top of the 64-bit space ---- */

static void test_ramdev_as_translate_top(void **state)
{
	struct test_fix *f = *state;
	static uint8_t mem[4096];
	const uint64_t top = UINT64_MAX - 4095;
	struct ramdev_region *r, *big;
	struct ramdev_xlate x;
	uint8_t buf[16];
	uint64_t v;

	assert_int_equal(ramdev_region_new_container(&big, "big", 8192), 0);
	assert_int_equal(ramdev_region_add(ramdev_as_root(f->as), top, big, 1),
			 -EOVERFLOW);
	ramdev_region_unref(big);
	r = add_ram(f, "top", mem, top, sizeof(mem), 0);
	assert_int_equal(xlate(f, UINT64_MAX, 1, &x), 0);
	assert_ptr_equal(x.region, r);
	assert_int_equal(x.offset, 4095);
	assert_int_equal(xlate(f, top, 4096, &x), 0);
	assert_int_equal(x.len, 4096);
	assert_int_equal(xlate(f, top, 4097, &x), -EOVERFLOW);
	assert_int_equal(xlate(f, top - 1, 2, &x), -EFAULT);
	assert_int_equal(x.len, 1);
	assert_int_equal(ramdev_as_st(f->as, UINT64_MAX - 7, 8, 0x1122334455667788ull), 0);
	assert_int_equal(ramdev_as_ld(f->as, UINT64_MAX - 7, 8, &v), 0);
	assert_int_equal(v, 0x1122334455667788ull);
	assert_int_equal(ramdev_as_read(f->as, UINT64_MAX - 15, buf, 16), 0);
	assert_int_equal(ramdev_as_write(f->as, UINT64_MAX - 15, buf, 16), 0);
}

/* ---- unassigned ---- */

static void test_ramdev_as_read_unassigned(void **state)
{
	struct test_fix *f = *state;
	static uint8_t mem[16];
	uint8_t buf[32];
	uint64_t v = 0;
	int i;

	memset(mem, 0x5a, sizeof(mem));
	add_ram(f, "ram", mem, 0x1000, sizeof(mem), 0);
	assert_int_equal(ramdev_as_read(f->as, 0x1008, buf, sizeof(buf)),
			 RAMDEV_AS_UNASSIGNED);
	for (i = 0; i < 32; i++)
		assert_int_equal(buf[i], i < 8 ? 0x5a : 0xff);
	assert_int_equal(f->nmsg, 1);
	assert_non_null(strstr(f->last_msg, "gpa 0x1010 len 0x18"));
	assert_int_equal(ramdev_as_ld(f->as, 0x2000, 4, &v),
			 RAMDEV_AS_UNASSIGNED);
	assert_int_equal(v, 0xffffffffu);
	/* An access that spans a region and a hole spans two "regions". */
	assert_int_equal(ramdev_as_ld(f->as, 0x100e, 4, &v), -EFAULT);
}

static void test_ramdev_as_write_unassigned(void **state)
{
	struct test_fix *f = *state;
	static uint8_t mem[16];
	uint8_t buf[32];

	memset(buf, 0x77, sizeof(buf));
	add_ram(f, "ram", mem, 0x1000, sizeof(mem), 0);
	assert_int_equal(ramdev_as_write(f->as, 0xff8, buf, sizeof(buf)),
			 RAMDEV_AS_UNASSIGNED);
	assert_int_equal(mem[0], 0x77);
	assert_int_equal(mem[15], 0x77);
	assert_int_equal(ramdev_as_st(f->as, 0x3000, 8, 1), RAMDEV_AS_UNASSIGNED);
	/* Rate limit: a burst logs once. */
	assert_int_equal(f->nmsg, 1);
}

/* ---- dirty log ---- */

static void test_ramdev_region_dirty_take(void **state)
{
	struct test_fix *f = *state;
	static uint8_t mem[70 * RAMDEV_DIRTY_PAGE];
	struct ramdev_region *r;
	uint64_t bits[2], one = 1;

	r = add_ram(f, "ram", mem, 0x100000, sizeof(mem), 0);
	assert_int_equal(ramdev_region_dirty_take(r, bits, 2), -EINVAL); /* off */
	assert_int_equal(ramdev_region_dirty_enable(r, true), 0);
	assert_int_equal(ramdev_region_dirty_take(r, bits, 1), -EINVAL);
	/* 2 bytes across the page 0/1 boundary, one st in page 65. */
	assert_int_equal(ramdev_as_write(f->as, 0x100fff, &one, 2), 0);
	assert_int_equal(ramdev_as_st(f->as, 0x100000 + 65 * 4096, 4, 1), 0);
	ramdev_region_dirty_mark(r, 69 * 4096, UINT64_MAX); /* clamped */
	ramdev_region_dirty_mark(r, sizeof(mem), 10);	     /* outside */
	assert_int_equal(ramdev_region_dirty_take(r, bits, 2), 4);
	assert_int_equal(bits[0], 3);
	assert_int_equal(bits[1], (1ull << 1) | (1ull << 5));
	assert_int_equal(ramdev_region_dirty_take(r, bits, 2), 0);
	assert_int_equal(bits[0] | bits[1], 0);
	assert_int_equal(ramdev_region_dirty_enable(r, false), 0);
	assert_int_equal(ramdev_region_dirty_take(r, bits, 2), -EINVAL);
}

static void test_ramdev_region_dirty_enable_mmio(void **state)
{
	struct ramdev_region *m;

	(void)state;
	assert_int_equal(ramdev_region_new_mmio(&m, "m", 8, &null_ops, NULL), 0);
	assert_int_equal(ramdev_region_dirty_enable(m, true), -EINVAL);
	ramdev_region_unref(m);
}

/* ---- release after del + grace period + last reference ---- */

static void count_release(void *opaque)
{
	++*(int *)opaque;
}

static void test_ramdev_region_release_after_grace_and_unref(void **state)
{
	struct test_fix *f = *state;
	static uint8_t mem[64];
	struct ramdev_region *r;
	struct ramdev_xlate x;
	int released = 0;

	r = add_ram(f, "ram", mem, 0, sizeof(mem), 0);
	ramdev_region_set_release(r, count_release, &released);
	ramdev_as_read_lock();
	assert_int_equal(ramdev_as_translate(f->as, 0, 1, &x), 0);
	ramdev_region_ref(x.region); /* like a DMA mapping */
	assert_int_equal(ramdev_region_del(ramdev_as_root(f->as), r), 0);
	assert_int_equal(released, 0);
	/* The grace period cannot end while we are in the read section. */
	ramdev_as_read_unlock();
	urcu_memb_barrier();
	assert_int_equal(released, 0); /* the mapping still holds it */
	assert_int_equal(mem[0], 0);
	ramdev_region_unref(x.region);
	assert_int_equal(released, 1);
}

/* ---- dump ---- */

static void test_ramdev_as_dump_mtree(void **state)
{
	struct test_fix *f = *state;
	static uint8_t ram[64], bar[64];
	struct ramdev_region *d, *a;
	char *out = NULL;
	size_t n = 0;
	FILE *m = open_memstream(&out, &n);
	const char *expect =
		"address-space: test\n"
		"  0000000000000000-ffffffffffffffff (prio 0, container): system\n"
		"    0000000000000000-000000003fffffff (prio 0, ram): pc.ram\n"
		"    0000000080000000-0000000080000fff (prio 0, alias): lowmem @pc.ram 0000000000001000-0000000000001fff\n"
		"    0000004000000000-00000043ffffffff (prio 1, ramd): 0000:3b:00.0 BAR 4 mmaps[0]\n";

	assert_non_null(m);
	/* Sizes only matter for the dump; the host pointers are never used. */
	d = add_ram(f, "pc.ram", ram, 0, 0x40000000, 0);
	assert_int_equal(ramdev_region_new_ramd(&a, "0000:3b:00.0 BAR 4 mmaps[0]",
						bar, 0x400000000ull), 0);
	assert_int_equal(ramdev_region_add(ramdev_as_root(f->as),
					   0x4000000000ull, a, 1), 0);
	ramdev_region_unref(a);
	assert_int_equal(ramdev_region_new_alias(&a, "lowmem", d, 0x1000, 0x1000), 0);
	assert_int_equal(ramdev_region_add(ramdev_as_root(f->as), 0x80000000, a, 0), 0);
	ramdev_region_unref(a);
	assert_int_equal(ramdev_as_dump(f->as, m), 0);
	fclose(m);
	assert_string_equal(out, expect);
	free(out);
}

/* ---- registration of short-lived threads ---- */

#include <pthread.h>

static void *short_reader(void *arg)
{
	struct test_fix *f = arg;
	uint8_t b[8];

	return (void *)(intptr_t)ramdev_as_read(f->as, 0, b, sizeof(b));
}

static void test_ramdev_as_read_lock_short_threads(void **state)
{
	struct test_fix *f = *state;
	static uint8_t mem[64];
	struct ramdev_region *r;
	pthread_t t;
	void *ret;
	int i;

	r = add_ram(f, "ram", mem, 0, sizeof(mem), 0);
	for (i = 0; i < 200; i++) {
		assert_int_equal(pthread_create(&t, NULL, short_reader, f), 0);
		assert_int_equal(pthread_join(t, &ret), 0);
		assert_int_equal((intptr_t)ret, 0);
	}
	/* A grace period must not wait for (or touch) the exited threads. */
	assert_int_equal(ramdev_region_del(ramdev_as_root(f->as), r), 0);
	urcu_memb_synchronize_rcu();
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, test_as_setup, test_as_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ramdev_as_translate_ram),
		T(test_ramdev_as_translate_priority_alias_container),
		T(test_ramdev_as_commit_batches),
		T(test_ramdev_region_new_size_zero),
		T(test_ramdev_region_new_null),
		T(test_ramdev_region_new_mmio_bad_rules),
		T(test_ramdev_region_new_alias_out_of_target),
		T(test_ramdev_region_add_wraps),
		T(test_ramdev_region_add_twice),
		T(test_ramdev_region_add_not_container),
		T(test_ramdev_region_add_equal_priority_overlap),
		T(test_ramdev_region_add_cycle),
		T(test_ramdev_region_del_not_child),
		T(test_ramdev_as_translate_bad_args),
		T(test_ramdev_as_translate_top),
		T(test_ramdev_as_read_unassigned),
		T(test_ramdev_as_write_unassigned),
		T(test_ramdev_region_dirty_take),
		T(test_ramdev_region_dirty_enable_mmio),
		T(test_ramdev_region_release_after_grace_and_unref),
		T(test_ramdev_as_dump_mtree),
		T(test_ramdev_as_read_lock_short_threads),
		T(test_ramdev_as_ld_mmio_impl_matrix),
		T(test_ramdev_as_read_mmio_greedy),
		T(test_ramdev_as_ld_mmio_valid_reject),
		T(test_ramdev_as_write_mmio_valid_stops),
		T(test_ramdev_as_ld_ramd_exact),
		T(test_ramdev_as_translate_random_layouts),
		T(test_ramdev_as_translate_many_regions),
		T(test_ramdev_region_new_mmio_size_not_multiple_of_impl),
		T(test_ramdev_as_ld_mmio_widen_inside_region),
		T(test_ramdev_as_st_unassigned_negative),
		T(test_ramdev_as_log_rate_limit_per_kind),
		T(test_ramdev_as_set_log_one_pair),
		T(test_ramdev_as_synchronize_runs_release),
		T(test_ramdev_region_del_keeps_caller_reference),
		T(test_ramdev_as_synchronize_in_release_returns),
		T(test_ramdev_region_add_from_mmio_callback),
	};

	return cmocka_run_group_tests_name("as", tests, NULL, NULL);
}
