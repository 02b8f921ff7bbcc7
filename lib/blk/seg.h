/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk private header: byte ranges across a chain's segments, and
 * copies with the access each segment's kind requires.  Every stage of a
 * request uses these (the parser reads the header and writes the status
 * byte, staging copies data), so they are inline here rather than a file
 * every stage calls into.  Not installed.
 *
 * The framing is free (ANY_LAYOUT is part of VIRTIO 1.x): a header may
 * span segments and the status byte may share a segment with data, so the
 * device walks byte ranges, never whole segments.  Device-memory (DEV) and
 * MMIO segments are touched only through the access core or the DMA
 * layer's MMIO accessors.
 */
#ifndef RAMDEV_BLK_SEG_H
#define RAMDEV_BLK_SEG_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "as/as_access.h" /* ramdev_as_ramd_read/_write */
#include "ramdev/blk.h"

/* ---- copies with the access a segment's kind requires ---- */

/* (An MMIO segment's base is NULL: no pointer arithmetic on it.)  Device
 * memory (DEV) at the DMA width of the segment's region
 * (ramdev_region_set_dma_width()), which the segment holds a reference on. */
static inline int ramdev_blk_seg_copy_in(void *ram,
					 const struct ramdev_dma_seg *seg,
					 size_t off, size_t n)
{
	switch (seg->kind) {
	case RAMDEV_SEG_RAM:
		memcpy(ram, (const uint8_t *)seg->base + off, n);
		return 0;
	case RAMDEV_SEG_DEV:
		ramdev_as_ramd_read(seg->region, ram,
				    (const uint8_t *)seg->base + off, n);
		return 0;
	default:
		return ramdev_dma_seg_read(seg, off, ram, n);
	}
}

static inline int ramdev_blk_seg_copy_out(const struct ramdev_dma_seg *seg,
					  size_t off, const void *ram, size_t n)
{
	switch (seg->kind) {
	case RAMDEV_SEG_RAM:
		memcpy((uint8_t *)seg->base + off, ram, n);
		return 0;
	case RAMDEV_SEG_DEV:
		ramdev_as_ramd_write(seg->region, (uint8_t *)seg->base + off,
				     ram, n);
		return 0;
	default:
		return ramdev_dma_seg_write(seg, off, ram, n);
	}
}

/* ---- a cursor over byte ranges of a chain ---- */

struct blk_cursor {
	const struct ramdev_dma_seg *segs;
	unsigned idx, end;
	size_t off;
};

/*
 * @count segments from @first, starting @skip bytes in.  The caller has
 * checked that the bytes it walks exist (against out_len/in_len), so the
 * walk never runs off the segment array.
 */
static inline void ramdev_blk_cursor_init(struct blk_cursor *c,
					  const struct ramdev_virtq_elem *e,
					  unsigned first, unsigned count,
					  uint64_t skip)
{
	c->segs = e->segs;
	c->idx = first;
	c->end = first + count;
	while (c->idx < c->end && skip >= c->segs[c->idx].len) {
		skip -= c->segs[c->idx].len;
		c->idx++;
	}
	c->off = (size_t)skip;
}

/* The next piece of at most @want bytes; 0 when the segments ran out. */
static inline size_t ramdev_blk_cursor_next(struct blk_cursor *c,
					    uint64_t want,
					    const struct ramdev_dma_seg **seg,
					    size_t *off)
{
	size_t n;

	while (c->idx < c->end && c->off >= c->segs[c->idx].len) {
		c->idx++;
		c->off = 0;
	}
	if (c->idx >= c->end || want == 0)
		return 0;
	*seg = &c->segs[c->idx];
	*off = c->off;
	n = (*seg)->len - c->off;
	if (n > want)
		n = (size_t)want;
	c->off += n;
	return n;
}

#endif /* RAMDEV_BLK_SEG_H */
