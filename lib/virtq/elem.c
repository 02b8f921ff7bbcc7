// SPDX-License-Identifier: MIT
/*
 * The split virtqueue, the element between pop and push: one allocation
 * holding the public element and its segments (elem.h), taken by pop.c,
 * released by used.c (unmap, copy-back, dirty log) and kept in a small
 * per-queue cache for the next pops.  Calls only the DMA layer.
 */
#include <stdlib.h>

#include "dma_lib.h"
#include "elem.h"

/* An element with room for @n segments: from the cache when it fits. */
struct virtq_elem_priv *virtq_elem_alloc(struct ramdev_virtq *vq, unsigned n)
{
	struct virtq_elem_priv *p = vq->elem_cache;
	unsigned cap = n > VIRTQ_ELEM_SEGS ? n : VIRTQ_ELEM_SEGS;

	if (n <= VIRTQ_ELEM_SEGS && p) {
		vq->elem_cache = p->next;
		vq->elem_cached--;
		return p;
	}
	p = malloc(sizeof(*p) + sizeof(p->segs[0]) * (size_t)cap);
	if (p)
		p->cap = cap;
	return p;
}

void ramdev_virtq_elem_cache_free(struct ramdev_virtq *vq)
{
	while (vq->elem_cache) {
		struct virtq_elem_priv *p = vq->elem_cache;

		vq->elem_cache = p->next;
		free(p);
	}
	vq->elem_cached = 0;
}

void ramdev_virtq_elem_release(struct ramdev_virtq *vq,
			       struct ramdev_virtq_elem *elem, uint32_t written)
{
	struct virtq_elem_priv *p = (struct virtq_elem_priv *)elem;

	ramdev_dma_unmap_chain(vq->dma, elem->segs, elem->out_num,
			       elem->in_num, written);
	p->owner = NULL;
	if (p->cap == VIRTQ_ELEM_SEGS && vq->elem_cached < VIRTQ_ELEM_CACHE) {
		p->next = vq->elem_cache;
		vq->elem_cache = p;
		vq->elem_cached++;
		return;
	}
	free(p);
}
