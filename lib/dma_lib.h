/* SPDX-License-Identifier: MIT */
/*
 * What the virtqueue layer uses of the DMA layer beyond its public header:
 * a descriptor chain walked and its two scatter-gather lists mapped in one
 * read-side section, and unmapped in one call.  Not installed, not
 * exported (the library is built with hidden visibility).
 */
#ifndef RAMDEV_DMA_LIB_H
#define RAMDEV_DMA_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "as/as_access.h" /* struct ramdev_as_hint */
#include "ramdev/as.h"
#include "ramdev/dma.h"

/*
 * A descriptor chain being walked and mapped, in one read-side section:
 * translations inside it share one hint (ramdev_as_translate_hint()), so a
 * chain whose table and buffers lie in one flat range costs one search of
 * the flat view.  Lives on the caller's stack between _begin and _end.
 */
struct ramdev_dma_chain {
	struct ramdev_dma *dma;
	struct ramdev_as_hint hint;
	struct ramdev_dma_seg *undo; /* a failed map's segments, for _end */
	unsigned nundo;
};

/* What ramdev_dma_chain_map() mapped, or where it failed. */
struct ramdev_dma_chain_map {
	unsigned out_segs; /* segments of the device-readable part */
	bool in_failed;    /* on failure: the device-writable part failed
			    * (out_segs then says how many segments the
			    * readable part took) */
	bool dev;          /* a segment is RAMDEV_SEG_DEV or bounced */
};

/**
 * ramdev_dma_chain_begin - enter the read-side section of a chain's walk
 * and map, for @dma.  Every _begin is matched by ramdev_dma_chain_end() on
 * the same thread; in between the caller must not block nor wait for a
 * grace period (ramdev_as_synchronize()).
 * Context: any thread.
 */
void ramdev_dma_chain_begin(struct ramdev_dma_chain *c,
			    struct ramdev_dma *dma);

/**
 * ramdev_dma_chain_translate - ramdev_as_translate() of @c's address space,
 * with the chain's hint.  The result is valid until ramdev_dma_chain_end()
 * (no reference is taken).
 * Returns: as ramdev_as_translate(); -EINVAL without a DMA context.
 */
int ramdev_dma_chain_translate(struct ramdev_dma_chain *c, uint64_t gpa,
			       uint64_t len, struct ramdev_xlate *x);

/**
 * ramdev_dma_chain_map - map a chain's buffers: ramdev_dma_map_sg() of the
 * @nout device-readable ranges of @sg (RAMDEV_DMA_TO_DEVICE, at most
 * @max_segs segments), then of the @nin device-writable ranges after them
 * (RAMDEV_DMA_FROM_DEVICE, into the segments left), as those two calls
 * would, but in the chain's section, with its hint, and the statistics
 * counted once.  At most once per _begin.
 * @c:        the chain, between _begin and _end.
 * @sg:       @nout + @nin ranges, readable ones first.
 * @segs:     receives the segments (readable ones first).
 * @max_segs: room in @segs.
 * @res:      receives the readable part's segment count, and on failure
 *            which part failed.
 * Returns: the number of segments; on failure the error of
 * ramdev_dma_map_sg() for the part that failed (-EINVAL, -EOVERFLOW,
 * -EFAULT, -E2BIG, -ENOBUFS, -EAGAIN), and ramdev_dma_chain_end() unmaps
 * what was mapped (outside the section), so nothing stays mapped.
 */
int ramdev_dma_chain_map(struct ramdev_dma_chain *c,
			 const struct ramdev_sg *sg, unsigned nout,
			 unsigned nin, struct ramdev_dma_seg *segs,
			 unsigned max_segs, struct ramdev_dma_chain_map *res);

/**
 * ramdev_dma_chain_end - leave the section; unmap the segments of a failed
 * ramdev_dma_chain_map().  Translations of the chain are stale afterwards.
 */
void ramdev_dma_chain_end(struct ramdev_dma_chain *c);

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
