// SPDX-License-Identifier: MIT
/*
 * The DMA bounce pool: bounded memory for the parts of a DMA that cannot be
 * mapped in place (MMIO, and RAMD under the QEMU_BOUNCE policy).
 *
 * DIRECT policy: first-fit over a sorted list of free extents.  Allocations
 * are rounded up to a cache line so bounce buffers do not share lines
 * between concurrent maps; a request larger than every free extent is capped
 * to the largest one (the caller maps the rest with another call), so a map
 * only fails when the pool is completely full.
 *
 * QEMU_BOUNCE policy: one buffer of the whole pool size, exactly like QEMU's
 * single bounce buffer in address_space_map(): a second map while it is in
 * use fails.
 */
#include <errno.h>
#include <stdlib.h>

#include "dma_priv.h"

#define UNIT 64u

static size_t round_unit(size_t n)
{
	return (n + UNIT - 1) / UNIT * UNIT;
}

int ramdev_dma_pool_init(struct ramdev_dma_pool *p,
			 enum ramdev_dma_policy policy, size_t size)
{
	*p = (struct ramdev_dma_pool){ .policy = policy, .size = size };
	p->mem = aligned_alloc(UNIT, round_unit(size));
	/* Free extents never outnumber allocations + 1, at most one per unit. */
	p->cap = round_unit(size) / UNIT + 1;
	p->free = calloc(p->cap, sizeof(*p->free));
	if (!p->mem || !p->free || pthread_mutex_init(&p->lock, NULL)) {
		free(p->mem);
		free(p->free);
		return -ENOMEM;
	}
	p->free[0] = (struct ramdev_dma_extent){ 0, size };
	p->nfree = 1;
	return 0;
}

void ramdev_dma_pool_fini(struct ramdev_dma_pool *p)
{
	struct ramdev_dma_waiter *w = p->waiters;

	/* Waiters still registered are dropped, not called: no one unmaps now. */
	while (w) {
		struct ramdev_dma_waiter *next = w->next;

		free(w);
		w = next;
	}
	pthread_mutex_destroy(&p->lock);
	free(p->free);
	free(p->mem);
}

/* First extent that holds @need bytes, else the largest; -1 when full. */
static long pick_extent(const struct ramdev_dma_pool *p, size_t need)
{
	long best = -1;

	for (size_t i = 0; i < p->nfree; i++) {
		if (p->free[i].len >= need)
			return (long)i;
		if (best < 0 || p->free[i].len > p->free[best].len)
			best = (long)i;
	}
	return best;
}

static void remove_extent(struct ramdev_dma_pool *p, size_t i)
{
	for (; i + 1 < p->nfree; i++)
		p->free[i] = p->free[i + 1];
	p->nfree--;
}

static int direct_get(struct ramdev_dma_pool *p, size_t want, void **buf,
		      size_t *got, uint32_t *tag)
{
	long i = pick_extent(p, round_unit(want));
	struct ramdev_dma_extent *e;
	size_t take;

	if (i < 0)
		return -EAGAIN;
	e = &p->free[i];
	take = round_unit(want) < e->len ? round_unit(want) : e->len;
	*buf = p->mem + e->off;
	*got = want < take ? want : take;
	*tag = (uint32_t)take;
	e->off += take;
	e->len -= take;
	if (!e->len)
		remove_extent(p, (size_t)i);
	return 0;
}

/* Give [off, off + len) back, merging with its neighbours. */
static int direct_put(struct ramdev_dma_pool *p, size_t off, size_t len)
{
	size_t i = 0;

	while (i < p->nfree && p->free[i].off < off)
		i++;
	/* Overlap with a free neighbour means the span was not allocated. */
	if ((i > 0 && p->free[i - 1].off + p->free[i - 1].len > off) ||
	    (i < p->nfree && off + len > p->free[i].off))
		return -EINVAL;
	if (i > 0 && p->free[i - 1].off + p->free[i - 1].len == off) {
		p->free[i - 1].len += len;
		if (i < p->nfree && off + len == p->free[i].off) {
			p->free[i - 1].len += p->free[i].len;
			remove_extent(p, i);
		}
		return 0;
	}
	if (i < p->nfree && off + len == p->free[i].off) {
		p->free[i].off = off;
		p->free[i].len += len;
		return 0;
	}
	if (p->nfree == p->cap)
		return -EINVAL; /* cannot happen for spans we handed out */
	for (size_t j = p->nfree; j > i; j--)
		p->free[j] = p->free[j - 1];
	p->free[i] = (struct ramdev_dma_extent){ off, len };
	p->nfree++;
	return 0;
}

int ramdev_dma_pool_get(struct ramdev_dma_pool *p, size_t want, void **buf,
			size_t *got, uint32_t *tag)
{
	int ret = 0;

	if (want > p->size)
		want = p->size;
	pthread_mutex_lock(&p->lock);
	if (p->policy == RAMDEV_DMA_DIRECT) {
		ret = direct_get(p, want, buf, got, tag);
	} else if (p->busy) {
		ret = -ENOBUFS;
	} else {
		p->busy = true;
		*buf = p->mem;
		*got = want;
		*tag = (uint32_t)p->size;
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

/* Run and free a detached waiter list, oldest registration first. */
static void run_waiters(struct ramdev_dma_waiter *w)
{
	struct ramdev_dma_waiter *fifo = NULL;

	while (w) {
		struct ramdev_dma_waiter *next = w->next;

		w->next = fifo;
		fifo = w;
		w = next;
	}
	while (fifo) {
		struct ramdev_dma_waiter *next = fifo->next;

		fifo->fn(fifo->opaque);
		free(fifo);
		fifo = next;
	}
}

int ramdev_dma_pool_put(struct ramdev_dma_pool *p, void *buf, uint32_t tag)
{
	uintptr_t b = (uintptr_t)buf, m = (uintptr_t)p->mem;
	struct ramdev_dma_waiter *w = NULL;
	int ret = -EINVAL;

	/* The segment's private fields are caller memory: check, never trust. */
	if (b < m || b - m > p->size || tag > p->size - (b - m) || !tag)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	if (p->policy == RAMDEV_DMA_DIRECT) {
		ret = direct_put(p, b - m, tag);
	} else if (p->busy && b == m) {
		p->busy = false;
		ret = 0;
	}
	if (!ret) {
		w = p->waiters;
		p->waiters = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	/* Outside the lock: a waiter typically maps again right away. */
	run_waiters(w);
	return ret;
}

int ramdev_dma_pool_on_free(struct ramdev_dma_pool *p, void (*fn)(void *),
			    void *opaque)
{
	struct ramdev_dma_waiter *w = malloc(sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->fn = fn;
	w->opaque = opaque;
	pthread_mutex_lock(&p->lock);
	w->next = p->waiters;
	p->waiters = w;
	pthread_mutex_unlock(&p->lock);
	return 0;
}
