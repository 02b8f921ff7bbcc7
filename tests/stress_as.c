/* SPDX-License-Identifier: MIT */
/*
 * Stress of live updates: a writer thread hot-adds and removes RAM and RAMD
 * regions in a few slots while reader threads translate, read and write.
 *
 * Every 8-byte word of a region's memory holds TAG(slot); readers know the
 * slot from the address, so a word with another value means the reader saw
 * the wrong region's memory or memory already released (the release
 * callback poisons it before freeing, and ASan catches any later touch).
 * Readers write back the tag they read, which keeps the invariant; each
 * reader stays in its own 16-byte stripes, so readers never race with each
 * other on guest memory (that would be a real, if benign, data race that
 * TSan rightly reports) and every report is about the library.  Some
 * readers hold a region reference across the read-side section, as a DMA
 * mapping does.
 *
 * Usage: stress_as [seconds] (default 2).  Exit 0, or 1 with a message.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ramdev/access.h"
#include "ramdev/as.h"

#define SLOTS 4
#define SLOT_SIZE 0x2000u
#define SLOT_GPA(s) (0x100000ull + (uint64_t)(s) * 0x10000ull)
#define TAG(s) (0x7a6b5c4d00000000ull | (uint64_t)(s))
#define POISON 0xdeaddeaddeaddeadull
#define READERS 3

struct stress {
	struct ramdev_as *as;
	int stop; /* __atomic */
	int failed; /* __atomic */
	unsigned long reads, swaps, created, released; /* __atomic */
	unsigned next_id; /* __atomic: reader stripes */
};

struct slot_mem {
	struct stress *st;
	uint64_t *words;
};

static void fail(struct stress *st, const char *what, uint64_t gpa,
		 uint64_t got)
{
	if (__atomic_exchange_n(&st->failed, 1, __ATOMIC_RELAXED) == 0)
		fprintf(stderr, "stress_as: %s at gpa 0x%" PRIx64 ": 0x%" PRIx64
			"\n", what, gpa, got);
	__atomic_store_n(&st->stop, 1, __ATOMIC_RELAXED);
}

static void release_mem(void *opaque)
{
	struct slot_mem *m = opaque;
	size_t i;

	for (i = 0; i < SLOT_SIZE / 8; i++)
		__atomic_store_n(&m->words[i], POISON, __ATOMIC_RELAXED);
	__atomic_fetch_add(&m->st->released, 1, __ATOMIC_RELAXED);
	free(m->words);
	free(m);
}

static struct ramdev_region *new_slot_region(struct stress *st, int slot,
					     int ramd)
{
	struct slot_mem *m = malloc(sizeof(*m));
	struct ramdev_region *r;
	char name[32];
	size_t i;

	if (!m || !(m->words = aligned_alloc(64, SLOT_SIZE)))
		abort(); /* test setup failure */
	m->st = st;
	st->created++; /* writer thread only */
	for (i = 0; i < SLOT_SIZE / 8; i++)
		m->words[i] = TAG(slot);
	snprintf(name, sizeof(name), "slot%d", slot);
	if ((ramd ? ramdev_region_new_ramd : ramdev_region_new_ram)(
		    &r, name, m->words, SLOT_SIZE))
		abort();
	ramdev_region_set_release(r, release_mem, m);
	return r;
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Translate, take a reference, leave the read-side section, then use the
 * memory: the DMA pattern. */
static void read_with_ref(struct stress *st, uint64_t gpa, int slot)
{
	struct ramdev_xlate x;
	uint64_t v = 0;
	int rc;

	ramdev_as_read_lock();
	rc = ramdev_as_translate(st->as, gpa, 8, &x);
	if (rc == 0)
		ramdev_region_ref(x.region);
	ramdev_as_read_unlock();
	if (rc)
		return; /* the slot is empty right now */
	if (x.kind == RAMDEV_REGION_RAMD)
		v = ramdev_ld(x.host, 8);
	else
		v = __atomic_load_n((uint64_t *)x.host, __ATOMIC_RELAXED);
	if (v != TAG(slot))
		fail(st, "referenced region has wrong/freed memory", gpa, v);
	ramdev_region_unref(x.region);
}

static void read_and_write_back(struct stress *st, uint64_t gpa, int slot)
{
	uint64_t v[2];
	int rc = ramdev_as_read(st->as, gpa, v, sizeof(v));

	if (rc == RAMDEV_AS_UNASSIGNED)
		return; /* removed meanwhile (or half of it) */
	if (rc || v[0] != TAG(slot) || v[1] != TAG(slot)) {
		fail(st, "read saw wrong/freed memory", gpa, v[0] ^ v[1]);
		return;
	}
	rc = ramdev_as_write(st->as, gpa, v, sizeof(v));
	/* Removed between the read and the write: a negative errno too. */
	if (rc < 0 && rc != RAMDEV_AS_UNASSIGNED)
		fail(st, "write failed", gpa, (uint64_t)rc);
}

static void *reader(void *arg)
{
	struct stress *st = arg;
	uint64_t id = __atomic_fetch_add(&st->next_id, 1, __ATOMIC_RELAXED);
	uint64_t seed = (id + 1) * 0x9e3779b97f4a7c15ull;

	while (!__atomic_load_n(&st->stop, __ATOMIC_RELAXED)) {
		int slot = (int)(rng_next(&seed) % SLOTS);
		uint64_t stripe = rng_next(&seed) % (SLOT_SIZE / 16 / READERS);
		uint64_t off = (stripe * READERS + id) * 16;
		uint64_t gpa = SLOT_GPA(slot) + off;

		if (rng_next(&seed) & 1)
			read_with_ref(st, gpa, slot);
		else
			read_and_write_back(st, gpa, slot);
		__atomic_fetch_add(&st->reads, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void writer(struct stress *st, double seconds)
{
	struct ramdev_region *cur[SLOTS] = { 0 };
	struct ramdev_region *root = ramdev_as_root(st->as);
	struct timespec t0, t;
	uint64_t seed = 88172645463325252ull;
	int s;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		s = (int)(rng_next(&seed) % SLOTS);
		if (cur[s]) {
			if (ramdev_region_del(root, cur[s]))
				fail(st, "del", SLOT_GPA(s), 0);
			ramdev_region_unref(cur[s]);
			cur[s] = NULL;
		} else {
			cur[s] = new_slot_region(st, s, (int)(rng_next(&seed) & 1));
			if (ramdev_region_add(root, SLOT_GPA(s), cur[s], 0))
				fail(st, "add", SLOT_GPA(s), 0);
		}
		__atomic_fetch_add(&st->swaps, 1, __ATOMIC_RELAXED);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (!__atomic_load_n(&st->stop, __ATOMIC_RELAXED) &&
		 (double)(t.tv_sec - t0.tv_sec) +
				 (double)(t.tv_nsec - t0.tv_nsec) / 1e9 <
			 seconds);
	for (s = 0; s < SLOTS; s++)
		if (cur[s]) {
			ramdev_region_del(root, cur[s]);
			ramdev_region_unref(cur[s]);
		}
}

static void quiet(void *opaque, int level, const char *msg)
{
	(void)opaque, (void)level, (void)msg;
}

int main(int argc, char **argv)
{
	struct stress st = { 0 };
	pthread_t th[READERS];
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	int i;

	if (ramdev_as_new(&st.as, "stress"))
		return 1;
	ramdev_as_set_log(st.as, quiet, NULL); /* unassigned reads expected */
	for (i = 0; i < READERS; i++)
		if (pthread_create(&th[i], NULL, reader, &st))
			return 1;
	writer(&st, seconds);
	__atomic_store_n(&st.stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < READERS; i++)
		pthread_join(th[i], NULL);
	ramdev_as_free(st.as); /* waits for pending releases */
	printf("stress_as: %lu reads, %lu swaps, %lu of %lu regions "
	       "released\n", st.reads, st.swaps, st.released, st.created);
	if (st.released != st.created) {
		fprintf(stderr, "stress_as: regions not released\n");
		return 1;
	}
	return st.failed;
}
