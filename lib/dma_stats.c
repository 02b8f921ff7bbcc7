// SPDX-License-Identifier: MIT
/*
 * DMA statistics, one slot per thread.
 *
 * A locked read-modify-write costs ~10 ns on the hosts we measured (more in
 * VMs), and a direct map+unmap would need four of them for its counters.
 * Instead each thread owns a slot that only it writes (relaxed load + store,
 * no lock prefix) and readers sum the slots.  Slots live until the context
 * is freed; a thread finds its own through a small thread-local cache keyed
 * by the context's unique id (not its address, which malloc may reuse).
 */
#include <stdlib.h>

#include "dma_priv.h"

#define CACHE_WAYS 4

static atomic_uint_fast64_t next_id = 1;

/* initial-exec: one %fs-relative access on the map/unmap path instead of a
 * __tls_get_addr call (a few dozen bytes of static TLS). */
#define STATS_TLS _Thread_local __attribute__((tls_model("initial-exec")))

static STATS_TLS struct {
	uint64_t id;
	struct ramdev_dma_tstats *slot;
} cache[CACHE_WAYS];

int ramdev_dma_stats_init(struct ramdev_dma_stat_set *s)
{
	*s = (struct ramdev_dma_stat_set){ 0 };
	s->id = atomic_fetch_add(&next_id, 1);
	return pthread_mutex_init(&s->lock, NULL) ? -ENOMEM : 0;
}

void ramdev_dma_stats_fini(struct ramdev_dma_stat_set *s)
{
	while (s->head) {
		struct ramdev_dma_tstats *next = s->head->next;

		free(s->head);
		s->head = next;
	}
	pthread_mutex_destroy(&s->lock);
}

/* Slow path: this thread's slot in @s, made on first use.  NULL: no memory. */
static struct ramdev_dma_tstats *find_slot(struct ramdev_dma_stat_set *s)
{
	pthread_t self = pthread_self();
	struct ramdev_dma_tstats *t;

	pthread_mutex_lock(&s->lock);
	for (t = s->head; t; t = t->next)
		if (pthread_equal(t->owner, self))
			break;
	if (!t && (t = calloc(1, sizeof(*t)))) {
		t->owner = self; /* a later thread with a reused id may take it
				  * over: the old owner has exited by then */
		t->next = s->head;
		s->head = t;
	}
	pthread_mutex_unlock(&s->lock);
	return t;
}

/* Slow path of my_slot(): another way of the cache, moved to the front,
 * or the slot found (or made) and put there. */
static struct ramdev_dma_tstats *my_slot_miss(struct ramdev_dma_stat_set *s)
{
	struct ramdev_dma_tstats *t = NULL;
	unsigned i;

	for (i = 1; i < CACHE_WAYS; i++)
		if (cache[i].id == s->id) {
			t = cache[i].slot;
			break;
		}
	if (!t) {
		t = find_slot(s);
		if (!t)
			return NULL;
		i = CACHE_WAYS - 1; /* the least recently used way goes */
	}
	for (; i > 0; i--)
		cache[i] = cache[i - 1];
	cache[0].id = s->id;
	cache[0].slot = t;
	return t;
}

/* This thread's slot: the most recently used context is the first way. */
static inline struct ramdev_dma_tstats *my_slot(struct ramdev_dma_stat_set *s)
{
	if (__builtin_expect(cache[0].id == s->id, 1))
		return cache[0].slot;
	return my_slot_miss(s);
}

/* Single writer per slot: no read-modify-write needed, only no tearing. */
static void slot_add(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

void ramdev_dma_stats_add(struct ramdev_dma_stat_set *s, enum dma_stat i,
			  uint64_t n)
{
	struct ramdev_dma_tstats *t = my_slot(s);

	if (!t) { /* no slot (out of memory): the shared, locked counter */
		atomic_fetch_add_explicit(&s->shared[i], n,
					  memory_order_relaxed);
		return;
	}
	slot_add(&t->v[i], n);
}

void ramdev_dma_stats_add2(struct ramdev_dma_stat_set *s, enum dma_stat i,
			   uint64_t n, enum dma_stat j, uint64_t m)
{
	struct ramdev_dma_tstats *t = my_slot(s);

	if (!t) {
		atomic_fetch_add_explicit(&s->shared[i], n,
					  memory_order_relaxed);
		atomic_fetch_add_explicit(&s->shared[j], m,
					  memory_order_relaxed);
		return;
	}
	slot_add(&t->v[i], n);
	slot_add(&t->v[j], m);
}

void ramdev_dma_stats_sum(struct ramdev_dma_stat_set *s,
			  uint64_t out[DMA_ST_N])
{
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < DMA_ST_N; i++) {
		out[i] = atomic_load_explicit(&s->shared[i],
					      memory_order_relaxed);
		for (struct ramdev_dma_tstats *t = s->head; t; t = t->next)
			out[i] += atomic_load_explicit(&t->v[i],
						       memory_order_relaxed);
	}
	pthread_mutex_unlock(&s->lock);
}
