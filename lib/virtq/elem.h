/* SPDX-License-Identifier: MIT */
/*
 * virtqueue private header: the popped element (struct virtq_elem_priv,
 * the allocation behind a struct ramdev_virtq_elem), built by pop.c,
 * released by used.c, kept for reuse in the queue's cache (elem.c).
 */
#ifndef RAMDEV_VIRTQ_ELEM_H
#define RAMDEV_VIRTQ_ELEM_H

#include <stdbool.h>
#include <stdint.h>

#include "queue.h"

/* Elements with room for this many segments are kept for reuse (most
 * chains: a header, a few data buffers, a status byte), at most
 * VIRTQ_ELEM_CACHE of them per queue. */
#define VIRTQ_ELEM_SEGS 8u
#define VIRTQ_ELEM_CACHE 32u

/*
 * One allocation per popped element: the public part, its owner and the
 * segment array right after it.
 */
struct virtq_elem_priv {
	struct ramdev_virtq_elem pub;
	struct ramdev_virtq *owner;
	struct virtq_elem_priv *next; /* in vq->elem_cache */
	unsigned cap;                 /* room in segs[] */
	bool dev;                     /* a segment in device memory (RAMDEV_SEG_DEV)
				       * or bounced: see virtq_dev_wmb() */
	struct ramdev_dma_seg segs[];
};

/** virtq_elem_alloc - an element with room for @n segments, from the
 * queue's cache when it fits; NULL when out of memory. */
struct virtq_elem_priv *virtq_elem_alloc(struct ramdev_virtq *vq, unsigned n);

/** ramdev_virtq_elem_release - unmap @elem's segments (the first @written
 * device-writable bytes copied back from bounce buffers and marked in the
 * dirty log) and free it (or keep it in the queue's cache).  @elem is gone
 * afterwards: read what you need of it first. */
void ramdev_virtq_elem_release(struct ramdev_virtq *vq,
			       struct ramdev_virtq_elem *elem, uint32_t written);

/** ramdev_virtq_elem_cache_free - free the queue's cached elements. */
void ramdev_virtq_elem_cache_free(struct ramdev_virtq *vq);

#endif /* RAMDEV_VIRTQ_ELEM_H */
