/* SPDX-License-Identifier: MIT */
/*
 * What the virtqueue layer uses of the DMA layer beyond its public header:
 * a descriptor chain's two scatter-gather lists mapped and unmapped in one
 * call each.  Not installed, not exported (the library is built with
 * hidden visibility).
 */
#ifndef RAMDEV_DMA_LIB_H
#define RAMDEV_DMA_LIB_H

#include <stdbool.h>
#include <stddef.h>

#include "ramdev/dma.h"

/* What ramdev_dma_map_chain() mapped, or where it failed. */
struct ramdev_dma_chain_map {
	unsigned out_segs; /* segments of the device-readable part */
	bool in_failed;    /* on failure: the device-writable part failed
			    * (out_segs then says how many segments the
			    * readable part took) */
};

/**
 * ramdev_dma_map_chain - map a chain's buffers: ramdev_dma_map_sg() of the
 * @nout device-readable ranges of @sg (RAMDEV_DMA_TO_DEVICE, at most
 * @max_segs segments), then of the @nin device-writable ranges after them
 * (RAMDEV_DMA_FROM_DEVICE, into the segments left), as those two calls
 * would, but in one read-side section, with one search of the flat view
 * per flat range the chain stays in, and the statistics counted once.
 * @dma:      the context.
 * @sg:       @nout + @nin ranges, readable ones first.
 * @segs:     receives the segments (readable ones first).
 * @max_segs: room in @segs.
 * @res:      receives the readable part's segment count, and on failure
 *            which part failed.
 * Returns: the number of segments; on failure nothing stays mapped and the
 * error is ramdev_dma_map_sg()'s for the part that failed (-EINVAL,
 * -EOVERFLOW, -EFAULT, -E2BIG, -ENOBUFS, -EAGAIN).
 * Context: as ramdev_dma_map_sg().
 */
int ramdev_dma_map_chain(struct ramdev_dma *dma, const struct ramdev_sg *sg,
			 unsigned nout, unsigned nin,
			 struct ramdev_dma_seg *segs, unsigned max_segs,
			 struct ramdev_dma_chain_map *res);

/**
 * ramdev_dma_unmap_chain - ramdev_dma_unmap_sg(@segs, @nout, 0), then
 * ramdev_dma_unmap_sg(@segs + @nout, @nin, @written), in one call: the
 * first @written bytes of the device-writable part are copied back from
 * bounce buffers and marked dirty.
 * Context: as ramdev_dma_unmap_sg().
 */
void ramdev_dma_unmap_chain(struct ramdev_dma *dma,
			    struct ramdev_dma_seg *segs, unsigned nout,
			    unsigned nin, size_t written);

#endif /* RAMDEV_DMA_LIB_H */
