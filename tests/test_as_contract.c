/* SPDX-License-Identifier: MIT */
/*
 * The address space's contract as a VMM author reads it in as.h (issue 12,
 * items 4, 7 and 14), cmocka suite 'as': MMIO widening stays inside the
 * region, RAMDEV_AS_UNASSIGNED is negative, the log is limited per kind of
 * message and says how many were suppressed, the log sink is one pair, and
 * ramdev_as_synchronize() waits for release callbacks.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "test_as.h"

/* ---- item 4: widening to impl.min_size never leaves the region ---- */

struct widen_dev {
	uint64_t size;
	unsigned calls;
	uint64_t last_off;
	unsigned last_size;
	int beyond; /* accesses that reached past the region's end */
};

static void widen_seen(struct widen_dev *d, uint64_t off, unsigned size)
{
	d->calls++;
	d->last_off = off;
	d->last_size = size;
	if (off + size > d->size)
		d->beyond++;
}

static int widen_read(void *opaque, uint64_t off, unsigned size,
		      uint64_t *val)
{
	widen_seen(opaque, off, size);
	*val = 0;
	return 0;
}

static int widen_write(void *opaque, uint64_t off, unsigned size,
		       uint64_t val)
{
	(void)val;
	widen_seen(opaque, off, size);
	return 0;
}

static const struct ramdev_mmio_ops widen_ops = {
	.read = widen_read,
	.write = widen_write,
	.valid = { .min_size = 1, .max_size = 8, .unaligned = true },
	.impl = { .min_size = 4, .max_size = 4, .unaligned = false },
};

/* Callers may issue only naturally aligned accesses. */
static const struct ramdev_mmio_ops aligned_ops = {
	.read = widen_read,
	.write = widen_write,
	.valid = { .min_size = 1, .max_size = 8, .unaligned = false },
	.impl = { .min_size = 1, .max_size = 8, .unaligned = false },
};

/* A 6-byte region with impl.min_size 4: a byte access at offset 5 would be
 * widened to [4, 8), two bytes past the end.  Refused at creation. */
void test_ramdev_region_new_mmio_size_not_multiple_of_impl(void **state)
{
	struct test_fix *f = *state;
	struct widen_dev d = { .size = 6 };
	struct ramdev_region *r = NULL;
	uint64_t v;
	int rc;

	rc = ramdev_region_new_mmio(&r, "short", d.size, &widen_ops, &d);
	if (rc == 0) {
		/* Before the fix: show the access that leaves the region. */
		assert_int_equal(ramdev_region_add(ramdev_as_root(f->as),
						   0x1000, r, 0), 0);
		ramdev_as_ld(f->as, 0x1005, 1, &v);
		ramdev_as_st(f->as, 0x1005, 1, 0);
		ramdev_region_unref(r);
		assert_int_equal(d.beyond, 0);
	}
	assert_int_equal(rc, -EINVAL);
	assert_null(r);
}

void test_ramdev_as_ld_mmio_widen_inside_region(void **state)
{
	struct test_fix *f = *state;
	struct widen_dev d = { .size = 8 };
	struct ramdev_region *r;
	uint64_t v;

	assert_int_equal(ramdev_region_new_mmio(&r, "ok", d.size, &widen_ops,
						&d), 0);
	assert_int_equal(ramdev_region_add(ramdev_as_root(f->as), 0x1000, r,
					   0), 0);
	ramdev_region_unref(r);
	assert_int_equal(ramdev_as_ld(f->as, 0x1007, 1, &v), 0);
	assert_int_equal(d.last_off, 4);
	assert_int_equal(d.last_size, 4);
	assert_int_equal(ramdev_as_st(f->as, 0x1006, 2, 0xabcd), 0);
	assert_int_equal(d.last_off, 4);
	assert_int_equal(d.beyond, 0);
}

/* ---- item 14: RAMDEV_AS_UNASSIGNED is a negative errno ---- */

void test_ramdev_as_st_unassigned_negative(void **state)
{
	struct test_fix *f = *state;
	uint64_t v = 0;
	uint8_t b[3];

	assert_true(RAMDEV_AS_UNASSIGNED < 0);
	assert_int_equal(RAMDEV_AS_UNASSIGNED, -ENXIO);
	/* The check a caller writes must catch a store to nothing. */
	assert_true(ramdev_as_st(f->as, 0x5000, 4, 1) < 0);
	assert_true(ramdev_as_write(f->as, 0x5000, b, sizeof(b)) < 0);
	/* *val after a load of nothing: 0xff bytes, zero above @size. */
	v = 0x1234;
	assert_int_equal(ramdev_as_ld(f->as, 0x5000, 2, &v),
			 RAMDEV_AS_UNASSIGNED);
	assert_int_equal(v, 0xffff);
	assert_int_equal(ramdev_as_ld(f->as, 0x5000, 8, &v),
			 RAMDEV_AS_UNASSIGNED);
	assert_int_equal(v, UINT64_MAX);
}

/* ---- item 14: rate limit per kind, with a count of the suppressed ---- */

struct log_rec {
	char msgs[8][256];
	unsigned n;
};

static void rec_log(void *opaque, int level, const char *msg)
{
	struct log_rec *l = opaque;

	(void)level;
	if (l->n < 8)
		snprintf(l->msgs[l->n], sizeof(l->msgs[0]), "%s", msg);
	l->n++;
}

void test_ramdev_as_log_rate_limit_per_kind(void **state)
{
	struct test_fix *f = *state;
	struct widen_dev d = { .size = 8 };
	struct ramdev_region *r;
	struct log_rec l = { .n = 0 };
	struct timespec pause = { 1, 100 * 1000 * 1000 };
	uint64_t v;
	int i;

	assert_int_equal(ramdev_region_new_mmio(&r, "regs", d.size,
						&aligned_ops, &d), 0);
	assert_int_equal(ramdev_region_add(ramdev_as_root(f->as), 0x1000, r,
					   0), 0);
	ramdev_region_unref(r);
	ramdev_as_set_log(f->as, rec_log, &l);
	/* A harmless warning first: an access the valid rules refuse. */
	assert_int_equal(ramdev_as_ld(f->as, 0x1001, 4, &v), -EINVAL);
	assert_int_equal(l.n, 1);
	assert_non_null(strstr(l.msgs[0], "unaligned"));
	/* The store that explains the problem must not be dropped. */
	assert_int_equal(ramdev_as_st(f->as, 0x9000, 4, 1),
			 RAMDEV_AS_UNASSIGNED);
	assert_int_equal(l.n, 2);
	assert_non_null(strstr(l.msgs[1], "unassigned store"));
	/* A load of nothing is its own kind too. */
	assert_int_equal(ramdev_as_ld(f->as, 0x9000, 4, &v),
			 RAMDEV_AS_UNASSIGNED);
	assert_int_equal(l.n, 3);
	/* Three more stores in the same second: suppressed ... */
	for (i = 0; i < 3; i++)
		ramdev_as_st(f->as, 0x9000, 4, 1);
	assert_int_equal(l.n, 3);
	/* ... and counted in the next one that gets through. */
	nanosleep(&pause, NULL);
	ramdev_as_st(f->as, 0x9000, 4, 1);
	assert_int_equal(l.n, 4);
	assert_non_null(strstr(l.msgs[3], "unassigned store"));
	assert_non_null(strstr(l.msgs[3], "(3 similar suppressed)"));
	ramdev_as_set_log(f->as, test_quiet_log, NULL);
}

/* ---- item 7: the log sink is published as one pair ---- */

struct pair_race {
	struct ramdev_as *as;
	int stop;
	unsigned long mismatches;
};

static struct pair_race *race;
static char opaque_a, opaque_b;

static void sink_a(void *opaque, int level, const char *msg)
{
	(void)level, (void)msg;
	if (opaque != &opaque_a)
		__atomic_fetch_add(&race->mismatches, 1, __ATOMIC_RELAXED);
}

static void sink_b(void *opaque, int level, const char *msg)
{
	(void)level, (void)msg;
	if (opaque != &opaque_b)
		__atomic_fetch_add(&race->mismatches, 1, __ATOMIC_RELAXED);
}

static void *pair_setter(void *arg)
{
	struct pair_race *p = arg;

	while (!__atomic_load_n(&p->stop, __ATOMIC_RELAXED)) {
		ramdev_as_set_log(p->as, sink_a, &opaque_a);
		ramdev_as_set_log(p->as, sink_b, &opaque_b);
	}
	return NULL;
}

/* Messages that are not rate-limited: a region add that fails.  Before
 * the fix, a message between the two stores of set_log paired one sink's
 * function with the other's opaque.  (A race: the test can pass by luck on
 * the old code, never fail on the new.) */
void test_ramdev_as_set_log_one_pair(void **state)
{
	struct test_fix *f = *state;
	struct pair_race p = { .as = f->as };
	struct ramdev_region *c;
	pthread_t t;
	int i;

	race = &p;
	assert_int_equal(ramdev_region_new_container(&c, "c", 0x1000), 0);
	assert_int_equal(pthread_create(&t, NULL, pair_setter, &p), 0);
	for (i = 0; i < 20000; i++)
		assert_int_equal(ramdev_region_add(ramdev_as_root(f->as),
						   UINT64_MAX, c, 0),
				 -EOVERFLOW);
	__atomic_store_n(&p.stop, 1, __ATOMIC_RELAXED);
	assert_int_equal(pthread_join(t, NULL), 0);
	ramdev_region_unref(c);
	ramdev_as_set_log(f->as, test_quiet_log, NULL);
	assert_int_equal(p.mismatches, 0);
}

/* ---- item 14: waiting for release callbacks ---- */

struct release_rec {
	int released;
	pthread_t thread;
};

static void on_release(void *opaque)
{
	struct release_rec *r = opaque;

	r->thread = pthread_self();
	__atomic_store_n(&r->released, 1, __ATOMIC_RELEASE);
}

static struct ramdev_region *placed_ram(struct test_fix *f, uint8_t *mem,
					size_t size, struct release_rec *rec)
{
	struct ramdev_region *r;

	assert_int_equal(ramdev_region_new_ram(&r, "bar", mem, size), 0);
	ramdev_region_set_release(r, on_release, rec);
	assert_int_equal(ramdev_region_add(ramdev_as_root(f->as), 0x4000, r,
					   0), 0);
	return r;
}

/* The unplug sequence of as.h: del, drop the handle, synchronize; the
 * release callback (a VMM's vfio close) has run when synchronize returns. */
void test_ramdev_as_synchronize_runs_release(void **state)
{
	struct test_fix *f = *state;
	static uint8_t mem[64];
	struct release_rec rec = { 0 };
	struct ramdev_region *r = placed_ram(f, mem, sizeof(mem), &rec);

	assert_int_equal(ramdev_region_del(ramdev_as_root(f->as), r), 0);
	ramdev_region_unref(r);
	ramdev_as_synchronize();
	assert_int_equal(__atomic_load_n(&rec.released, __ATOMIC_ACQUIRE), 1);
}

/* del drops the parent's reference, not the caller's: after del and a
 * synchronize the region lives on until the caller's unref, which then
 * releases it at once, on the caller's thread. */
void test_ramdev_region_del_keeps_caller_reference(void **state)
{
	struct test_fix *f = *state;
	static uint8_t mem[64];
	struct release_rec rec = { 0 };
	struct ramdev_region *r = placed_ram(f, mem, sizeof(mem), &rec);

	assert_int_equal(ramdev_region_del(ramdev_as_root(f->as), r), 0);
	ramdev_as_synchronize();
	assert_int_equal(rec.released, 0);
	assert_string_equal(ramdev_region_name(r), "bar");
	ramdev_region_unref(r);
	assert_int_equal(rec.released, 1);
	assert_true(pthread_equal(rec.thread, pthread_self()));
}

/* From a release callback on liburcu's thread, synchronize would wait for
 * itself: it must return at once (and say so), not hang. */
static void sync_in_release(void *opaque)
{
	ramdev_as_synchronize();
	__atomic_store_n((int *)opaque, 1, __ATOMIC_RELEASE);
}

void test_ramdev_as_synchronize_in_release_returns(void **state)
{
	struct test_fix *f = *state;
	static uint8_t mem[64];
	struct ramdev_region *r;
	int done = 0;

	assert_int_equal(ramdev_region_new_ram(&r, "bar", mem, sizeof(mem)),
			 0);
	ramdev_region_set_release(r, sync_in_release, &done);
	assert_int_equal(ramdev_region_add(ramdev_as_root(f->as), 0x4000, r,
					   0), 0);
	ramdev_region_unref(r); /* the tree and the view hold it now */
	assert_int_equal(ramdev_region_del(ramdev_as_root(f->as), r), 0);
	ramdev_as_synchronize();
	assert_int_equal(__atomic_load_n(&done, __ATOMIC_ACQUIRE), 1);
}

/* ---- as.h: add/del from an MMIO callback (a guest moving a BAR) ---- */

struct bar_ctl {
	struct ramdev_as *as;
	struct ramdev_region *self, *bar;
	uint64_t bar_gpa;
};

static int ctl_read(void *opaque, uint64_t off, unsigned size, uint64_t *val)
{
	struct bar_ctl *c = opaque;

	(void)off, (void)size;
	*val = c->bar_gpa;
	return 0;
}

/* A write moves the BAR to the written address, and 0 unplugs the
 * control register itself. */
static int ctl_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct bar_ctl *c = opaque;
	struct ramdev_region *root = ramdev_as_root(c->as);

	(void)off, (void)size;
	if (val == 0)
		return ramdev_region_del(root, c->self);
	if (ramdev_region_del(root, c->bar))
		return -EIO;
	c->bar_gpa = val;
	return ramdev_region_add(root, val, c->bar, 0);
}

void test_ramdev_region_add_from_mmio_callback(void **state)
{
	struct test_fix *f = *state;
	static const struct ramdev_mmio_ops ctl_ops = {
		.read = ctl_read, .write = ctl_write,
		.valid = { .min_size = 8, .max_size = 8 },
		.impl = { .min_size = 8, .max_size = 8 },
	};
	static uint8_t mem[4096];
	struct bar_ctl c = { .as = f->as, .bar_gpa = 0x10000 };
	struct ramdev_region *root = ramdev_as_root(f->as);
	uint64_t v = 0;

	memset(mem, 0x3c, sizeof(mem));
	assert_int_equal(ramdev_region_new_ram(&c.bar, "bar", mem, 4096), 0);
	assert_int_equal(ramdev_region_add(root, c.bar_gpa, c.bar, 0), 0);
	assert_int_equal(ramdev_region_new_mmio(&c.self, "ctl", 8, &ctl_ops,
						&c), 0);
	assert_int_equal(ramdev_region_add(root, 0x1000, c.self, 0), 0);
	assert_int_equal(ramdev_as_st(f->as, 0x1000, 8, 0x20000), 0);
	assert_int_equal(ramdev_as_ld(f->as, 0x20000, 1, &v), 0);
	assert_int_equal(v, 0x3c);
	assert_int_equal(ramdev_as_ld(f->as, 0x10000, 1, &v),
			 RAMDEV_AS_UNASSIGNED);
	/* The region whose callback runs removes itself. */
	assert_int_equal(ramdev_as_st(f->as, 0x1000, 8, 0), 0);
	assert_int_equal(ramdev_as_ld(f->as, 0x1000, 8, &v),
			 RAMDEV_AS_UNASSIGNED);
	ramdev_region_unref(c.self);
	ramdev_region_unref(c.bar);
}
