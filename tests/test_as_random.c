/* SPDX-License-Identifier: MIT */
/*
 * Random layouts against the brute-force model (as_model.h): thousands of
 * seeded, reproducible trees of containers, aliases and leaves with random
 * offsets and priorities, random adds (each errno predicted by the model),
 * random deletes, and for each layout a few hundred addresses whose
 * translation must match the model's owner, offset and run length.
 *
 * Reproduce one layout: RAMDEV_AS_SEED=<seed> (printed on failure).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "as_model.h"
#include "test_as.h"

#define NREG 16
#define NLAYOUTS 3000
#define NLOOKUPS 200

struct layout {
	uint64_t rng;
	struct ramdev_as *as;
	struct mreg m[NREG + 1]; /* m[0] is the root */
	int n;
	uint8_t host[0x10000];
};

static uint64_t rnd(struct layout *l)
{
	/* xorshift64*: small, seeded, the same on every host */
	l->rng ^= l->rng >> 12;
	l->rng ^= l->rng << 25;
	l->rng ^= l->rng >> 27;
	return l->rng * UINT64_C(2685821657736338717);
}

static uint64_t rnd_in(struct layout *l, uint64_t n)
{
	return n ? rnd(l) % n : 0;
}

static const struct ramdev_mmio_ops null_ops = {
	.read = test_null_read, .write = test_null_write,
};

static void make_region(struct layout *l, struct mreg *m, int i)
{
	char name[16];
	uint64_t size = 1 + rnd_in(l, rnd_in(l, 2) ? 0x400 : 0x8000);
	int kind = (int)rnd_in(l, 5), rc;

	snprintf(name, sizeof(name), "r%d", i);
	if (kind == RAMDEV_REGION_ALIAS && l->n > 1) {
		struct mreg *t = &l->m[1 + rnd_in(l, (uint64_t)l->n - 1)];
		uint64_t toff = rnd_in(l, t->last + 1);

		size = 1 + rnd_in(l, t->last - toff + 1);
		rc = ramdev_region_new_alias(&m->r, name, t->r, toff, size);
		m->target = t;
		m->toff = toff;
	} else if (kind == RAMDEV_REGION_CONTAINER) {
		rc = ramdev_region_new_container(&m->r, name, size);
	} else if (kind == RAMDEV_REGION_RAM) {
		size = 1 + rnd_in(l, sizeof(l->host));
		rc = ramdev_region_new_ram(&m->r, name, l->host, size);
	} else {
		kind = RAMDEV_REGION_MMIO;
		rc = ramdev_region_new_mmio(&m->r, name, size, &null_ops, NULL);
	}
	assert_int_equal(rc, 0);
	m->kind = m->target ? RAMDEV_REGION_ALIAS
			    : (enum ramdev_region_kind)kind;
	m->last = size - 1;
}

static void try_add(struct layout *l)
{
	struct mreg *c = &l->m[1 + rnd_in(l, (uint64_t)l->n - 1)];
	struct mreg *p = &l->m[rnd_in(l, (uint64_t)l->n)];
	int prio = (int)rnd_in(l, 4), expect, rc;
	uint64_t off;

	if (p->kind != RAMDEV_REGION_CONTAINER)
		p = &l->m[0];
	if (p->is_root && rnd_in(l, 8) == 0)
		off = UINT64_MAX - rnd_in(l, 0x10000); /* near the top */
	else
		off = rnd_in(l, p->is_root ? 0x10000 : p->last + 1);
	expect = model_add_expect(p, off, c, prio);
	if (expect == -ENOSPC)
		return;
	rc = ramdev_region_add(p->r, off, c->r, prio);
	assert_int_equal(rc, expect);
	if (rc == 0)
		model_add(p, off, c, prio);
}

static void try_del(struct layout *l)
{
	struct mreg *c = &l->m[1 + rnd_in(l, (uint64_t)l->n - 1)];

	if (!c->parent) {
		assert_int_equal(ramdev_region_del(l->m[0].r, c->r), -ENOENT);
		return;
	}
	assert_int_equal(ramdev_region_del(c->parent->r, c->r), 0);
	model_del(c);
}

static const struct mreg *owner(struct layout *l, uint64_t gpa, uint64_t *o)
{
	return model_owner(&l->m[0], gpa, o);
}

/* One address: translate against the model, including the run length. */
static void check_addr(struct layout *l, uint64_t gpa)
{
	uint64_t req = gpa ? 0 - gpa : UINT64_MAX, lo = 0, lo2 = 0, end;
	const struct mreg *m = owner(l, gpa, &lo), *m2;
	struct ramdev_xlate x;
	int rc;

	ramdev_as_read_lock();
	rc = ramdev_as_translate(l->as, gpa, req, &x);
	ramdev_as_read_unlock();
	assert_int_equal(rc, m ? 0 : -EFAULT);
	assert_true(x.len >= 1 && x.len <= req);
	end = gpa + (x.len - 1);
	m2 = owner(l, end, &lo2);
	if (m) {
		assert_ptr_equal(x.region, m->r);
		assert_int_equal(x.offset, lo);
		assert_ptr_equal(m2, m);
		assert_int_equal(lo2, lo + (x.len - 1));
	} else {
		assert_null(m2);
	}
	if (x.len == req)
		return;
	/* The run ends where the owner changes or stops being contiguous. */
	m2 = owner(l, end + 1, &lo2);
	if (m)
		assert_false(m2 == m && lo2 == lo + x.len);
	else
		assert_non_null(m2);
}

static void check_layout(struct layout *l)
{
	int i, j;

	for (i = 0; i < NLOOKUPS; i++)
		check_addr(l, rnd_in(l, 8) ? rnd_in(l, 0x14000)
					    : UINT64_MAX - rnd_in(l, 0x14000));
	/* Every edge of every placed region, in absolute addresses. */
	for (i = 1; i <= l->n - 1; i++) {
		const struct mreg *m = &l->m[i], *p;
		uint64_t base = 0;

		for (p = m; p && !p->is_root; p = p->parent)
			base += p->off;
		if (!p)
			continue; /* not reachable from the root */
		for (j = -1; j <= 1; j++) {
			check_addr(l, base + (uint64_t)j);
			check_addr(l, base + m->last + (uint64_t)j);
		}
	}
}

/* One layout in @as, whose root is empty before and after. */
static void one_layout(struct ramdev_as *as, uint64_t seed)
{
	struct layout *l = calloc(1, sizeof(*l));
	int i, ops;

	assert_non_null(l);
	l->rng = seed * 0x9e3779b97f4a7c15ull + 1;
	l->as = as;
	l->m[0] = (struct mreg){ .r = ramdev_as_root(l->as), .is_root = true,
				 .kind = RAMDEV_REGION_CONTAINER,
				 .last = UINT64_MAX };
	l->n = 1;
	for (i = 1; i <= NREG - (int)rnd_in(l, 8); i++, l->n++)
		make_region(l, &l->m[i], i);
	for (ops = 0; ops < 3 * l->n; ops++) {
		if (rnd_in(l, 6) == 0)
			try_del(l);
		else
			try_add(l);
	}
	check_layout(l);
	for (i = 1; i < l->n; i++)
		if (l->m[i].parent)
			assert_int_equal(ramdev_region_del(l->m[i].parent->r,
							   l->m[i].r), 0);
	for (i = 1; i < l->n; i++)
		ramdev_region_unref(l->m[i].r);
	free(l);
}

void test_ramdev_as_translate_random_layouts(void **state)
{
	const char *env = getenv("RAMDEV_AS_SEED");
	uint64_t seed;

	struct test_fix *f = *state;

	/* Rejections are expected here by the thousand. */
	ramdev_as_set_log(f->as, test_quiet_log, NULL);
	if (env) {
		f->seed = strtoull(env, NULL, 0);
		one_layout(f->as, f->seed);
		f->seed = 0;
		return;
	}
	/* f->seed stays set if an assertion fails: teardown prints it. */
	for (seed = 1; seed <= NLAYOUTS; seed++) {
		f->seed = seed;
		one_layout(f->as, seed);
	}
	f->seed = 0;
}

/*
 * The reader's 8-ary search against every boundary of views of 0 to 1100
 * ranges (each count around the search's block sizes): @n RAM regions of
 * 0x1000 bytes every 0x3000, so each region and each hole is one range.
 */
static void check_many(struct test_fix *f, unsigned n, uint8_t *mem)
{
	struct ramdev_region *root = ramdev_as_root(f->as);
	struct ramdev_region **r = calloc(n ? n : 1, sizeof(*r));
	struct ramdev_xlate x;
	char name[32];

	assert_non_null(r);
	ramdev_as_begin(f->as);
	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "r%u", i);
		assert_int_equal(ramdev_region_new_ram(&r[i], name, mem,
						       0x1000), 0);
		assert_int_equal(ramdev_region_add(root, 0x3000ull * i, r[i],
						   0), 0);
	}
	assert_int_equal(ramdev_as_commit(f->as), 0);
	ramdev_as_read_lock();
	for (unsigned i = 0; i < n; i++) {
		uint64_t base = 0x3000ull * i;

		assert_int_equal(ramdev_as_translate(f->as, base, 0x10000, &x),
				 0);
		assert_ptr_equal(x.region, r[i]);
		assert_int_equal(x.len, 0x1000);
		assert_int_equal(ramdev_as_translate(f->as, base + 0xfff, 8,
						     &x), 0);
		assert_ptr_equal(x.region, r[i]);
		assert_ptr_equal(x.host, mem + 0xfff);
		assert_int_equal(x.len, 1);
		assert_int_equal(ramdev_as_translate(f->as, base + 0x1000, 8,
						     &x), -EFAULT);
		assert_int_equal(x.len, 8);
		assert_int_equal(ramdev_as_translate(f->as, base + 0x1000,
						     0x10000, &x), -EFAULT);
		assert_int_equal(x.len, i + 1 < n ? 0x2000 : 0x10000);
	}
	assert_int_equal(ramdev_as_translate(f->as, UINT64_MAX, 1, &x),
			 -EFAULT);
	ramdev_as_read_unlock();
	ramdev_as_begin(f->as);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(ramdev_region_del(root, r[i]), 0);
		ramdev_region_unref(r[i]);
	}
	assert_int_equal(ramdev_as_commit(f->as), 0);
	free(r);
}

void test_ramdev_as_translate_many_regions(void **state)
{
	static const unsigned counts[] = { 0, 1, 4, 5, 8, 9, 32, 33, 64, 65,
					   71, 511, 512, 513, 1024, 1100 };
	static uint8_t mem[0x1000];
	struct test_fix *f = *state;

	/* Ranges = regions + the holes between them (and after the last). */
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++)
		check_many(f, counts[c], mem);
}
