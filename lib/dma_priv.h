/* SPDX-License-Identifier: MIT */
/*
 * DMA layer, private: the bounce pool shared by lib/dma.c (map/unmap) and
 * lib/dma_bounce.c (the allocator and the on_free waiters).
 */
#ifndef RAMDEV_DMA_PRIV_H
#define RAMDEV_DMA_PRIV_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ramdev/dma.h"

#define RAMDEV_DMA_BOUNCE_DEFAULT 4096u
/* The allocation length is kept in the segment's 32-bit `bounce` field. */
#define RAMDEV_DMA_BOUNCE_MAX (1u << 30)

/* A free span of the pool: [off, off + len). */
struct ramdev_dma_extent {
	size_t off;
	size_t len;
};

/* Someone to tell when bounce space is released (ramdev_dma_on_free). */
struct ramdev_dma_waiter {
	struct ramdev_dma_waiter *next;
	void (*fn)(void *opaque);
	void *opaque;
};

/*
 * The bounce pool.  DIRECT: first-fit over a sorted free list, so several
 * maps share the pool.  QEMU_BOUNCE: one buffer, in use or not, as QEMU's
 * single bounce buffer was.  Everything below is under @lock.
 */
struct ramdev_dma_pool {
	pthread_mutex_t lock;
	enum ramdev_dma_policy policy;
	uint8_t *mem;
	size_t size;
	bool busy;                       /* QEMU_BOUNCE only */
	struct ramdev_dma_extent *free;  /* DIRECT only, sorted by offset */
	size_t nfree;
	size_t cap;
	struct ramdev_dma_waiter *waiters;
};

int ramdev_dma_pool_init(struct ramdev_dma_pool *p,
			 enum ramdev_dma_policy policy, size_t size);
void ramdev_dma_pool_fini(struct ramdev_dma_pool *p);

/*
 * Take up to @want bytes.  On success *@buf and *@got (1..@want) are set and
 * *@tag is what ramdev_dma_pool_put() needs back (nonzero).
 * Returns 0, -EAGAIN (DIRECT, no space) or -ENOBUFS (QEMU_BOUNCE, busy).
 */
int ramdev_dma_pool_get(struct ramdev_dma_pool *p, size_t want, void **buf,
			size_t *got, uint32_t *tag);
/*
 * Give back what _get returned, then run the waiters (outside the lock).
 * Returns 0, or -EINVAL when @buf/@tag do not describe a span in use.
 */
int ramdev_dma_pool_put(struct ramdev_dma_pool *p, void *buf, uint32_t tag);
int ramdev_dma_pool_on_free(struct ramdev_dma_pool *p, void (*fn)(void *),
			    void *opaque);

/* ---- statistics (lib/dma_stats.c) ---- */

enum dma_stat {
	DMA_ST_DIRECT,  /* successful maps, direct ... */
	DMA_ST_BOUNCED, /* ... and bounced */
	DMA_ST_RETRIES,
	DMA_ST_FAILURES,
	DMA_ST_BYTES,
	DMA_ST_UNMAPS, /* maps - unmaps = segments mapped now */
	DMA_ST_INDIRECT, /* MMIO left unmapped by map_sg (pool busy) */
	DMA_ST_N
};

/* One thread's counters: written only by that thread. */
struct ramdev_dma_tstats {
	struct ramdev_dma_tstats *next;
	pthread_t owner;
	atomic_uint_fast64_t v[DMA_ST_N];
};

struct ramdev_dma_stat_set {
	pthread_mutex_t lock; /* the slot list */
	uint64_t id;	      /* unique per context, for the thread caches */
	struct ramdev_dma_tstats *head;
	atomic_uint_fast64_t shared[DMA_ST_N]; /* when a slot can't be made */
};

int ramdev_dma_stats_init(struct ramdev_dma_stat_set *s);
void ramdev_dma_stats_fini(struct ramdev_dma_stat_set *s);
void ramdev_dma_stats_add(struct ramdev_dma_stat_set *s, enum dma_stat i,
			  uint64_t n);
/* Two counters at once: @n to @i and @m to @j. */
void ramdev_dma_stats_add2(struct ramdev_dma_stat_set *s, enum dma_stat i,
			   uint64_t n, enum dma_stat j, uint64_t m);
void ramdev_dma_stats_sum(struct ramdev_dma_stat_set *s,
			  uint64_t out[DMA_ST_N]);

#endif /* RAMDEV_DMA_PRIV_H */
