/* SPDX-License-Identifier: MIT */
/*
 * ramdev DMA: map guest-physical ranges for a device model.
 *
 * RAM and RAM-device (RAMD) memory are mapped directly: the segment points at
 * the host memory itself.  A RAMD segment is device memory and must be
 * accessed only through the access core (ramdev_dma_seg_read/_write below do
 * that), never handed to memcpy or to the kernel (preadv into a BAR would
 * copy with whatever the kernel's memcpy does).  MMIO cannot be mapped, so it
 * is bounced through a bounded pool (default 4096 bytes, like QEMU).
 *
 * Policies (DESIGN.md section 3):
 *  - RAMDEV_DMA_DIRECT (default): as above.  When the bounce pool is
 *    exhausted, ramdev_dma_map returns -EAGAIN and ramdev_dma_on_free() tells
 *    the caller when to retry, while ramdev_dma_map_sg never waits: it maps
 *    what the pool cannot hold as RAMDEV_SEG_MMIO segments, which
 *    ramdev_dma_seg_read/_write carry out through the region's callbacks at
 *    access time (like ramdev_dma_read/_write, in chunks, without bounce
 *    space).  A valid request never fails or stalls for lack of bounce
 *    space, whatever its size.
 *  - RAMDEV_DMA_QEMU_BOUNCE: QEMU before the fix, faithfully.  RAMD is
 *    "indirect" (QEMU's memory_access_is_direct() is false for a ram_device
 *    region), so a map bounces it like MMIO: one pool used as a single
 *    buffer, a map is capped to it (4096 bytes by default: QEMU's
 *    TARGET_PAGE_SIZE cap in address_space_map()), and a map that finds it
 *    in use fails with -ENOBUFS.  The buffer is filled at map (TO_DEVICE,
 *    BIDIR) and flushed at unmap (the @written bytes) the way QEMU's
 *    flatview_read/write_continue do it: through the region's MMIO-style
 *    ops table (QEMU's ram_device_mem_ops, valid and impl 1..8 bytes), one
 *    valid check and one indirect callback per piece of at most 8 bytes,
 *    i.e. 512 calls per 4 KiB.  One deviation: QEMU allows unaligned
 *    pieces there (impl.unaligned), ramdev keeps every device access
 *    naturally aligned (access core rule S3), so a span that is not 8-byte
 *    aligned takes up to six narrower pieces at its ends.  The dirty log
 *    is still kept.  ramdev_dma_read/_write are not part of the model and
 *    stay exact bulk copies.  The policy exists to show the problem side
 *    by side with the fix.
 *
 * Writes through a mapping are logged in the region's dirty bitmap at unmap
 * (for the bytes the device says it wrote), writes through ramdev_dma_write
 * at once.
 */
#ifndef RAMDEV_DMA_H
#define RAMDEV_DMA_H

#include <stddef.h>
#include <stdint.h>

#include "ramdev/as.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ramdev_dma;

enum ramdev_dma_dir {
	RAMDEV_DMA_TO_DEVICE = 1,   /* the device reads guest memory */
	RAMDEV_DMA_FROM_DEVICE = 2, /* the device writes guest memory */
	RAMDEV_DMA_BIDIR = 3,
};

enum ramdev_dma_policy {
	RAMDEV_DMA_DIRECT = 0,
	RAMDEV_DMA_QEMU_BOUNCE = 1,
};

struct ramdev_dma_config {
	enum ramdev_dma_policy policy;
	size_t bounce_size; /* bytes in the bounce pool; 0 means 4096 */
};

/** How a mapped segment's memory must be touched. */
enum ramdev_seg_kind {
	RAMDEV_SEG_RAM = 0,  /* ordinary memory: guest RAM or a bounce buffer */
	RAMDEV_SEG_DEV = 1,  /* device memory: access core only */
	RAMDEV_SEG_MMIO = 2, /* not mapped (base is NULL): MMIO reached through
			      * ramdev_dma_seg_read/_write only */
};

/**
 * struct ramdev_dma_seg - one mapped piece: an iovec plus how to touch it.
 * The fields after @kind are the layer's own; leave them alone.
 */
struct ramdev_dma_seg {
	void *base;
	size_t len;
	enum ramdev_seg_kind kind;
	/* private */
	struct ramdev_region *region; /* reference held while mapped */
	uint64_t gpa;
	uint64_t region_offset;
	uint32_t dir;
	uint32_t bounce; /* nonzero: base is in the bounce pool */
	struct ramdev_dma *owner; /* for RAMDEV_SEG_MMIO accesses */
};

/** One guest-physical range of a scatter-gather list. */
struct ramdev_sg {
	uint64_t gpa;
	uint64_t len;
};

struct ramdev_dma_stats {
	uint64_t maps_direct;     /* segments mapped in place */
	uint64_t maps_bounced;    /* segments mapped through the bounce pool */
	uint64_t bounce_retries;  /* -EAGAIN returned (DIRECT policy) */
	uint64_t bounce_failures; /* -ENOBUFS returned (QEMU_BOUNCE policy) */
	uint64_t bytes_mapped;
	uint64_t maps_indirect;   /* MMIO segments left unmapped (map_sg, pool busy) */
};

/**
 * ramdev_dma_new - a DMA context over @as.
 * @cfg: NULL for the defaults (DIRECT, 4096-byte pool).
 * Returns: 0, -EINVAL (NULL @as or @out, unknown policy), -ENOMEM.
 */
RAMDEV_EXPORT int ramdev_dma_new(struct ramdev_dma **out, struct ramdev_as *as,
				 const struct ramdev_dma_config *cfg);

/** ramdev_dma_free - free the context; every mapping must be unmapped. */
RAMDEV_EXPORT void ramdev_dma_free(struct ramdev_dma *dma);

/**
 * ramdev_dma_map - map the start of [@gpa, @gpa + @len).
 * @seg: receives the mapping.  seg->len may be shorter than @len (the range
 *       crosses a region boundary, or a bounce is capped by the pool size):
 *       map the rest with another call.
 * Returns: 0; -EINVAL (@len 0, bad @dir); -EOVERFLOW (range wraps);
 * -EFAULT (unassigned); -EAGAIN (DIRECT: bounce pool busy, retry after
 * ramdev_dma_on_free()); -ENOBUFS (QEMU_BOUNCE: pool busy, the request fails
 * as it does in QEMU).
 * Context: any thread.
 */
RAMDEV_EXPORT int ramdev_dma_map(struct ramdev_dma *dma, uint64_t gpa,
				 uint64_t len, enum ramdev_dma_dir dir,
				 struct ramdev_dma_seg *seg);

/**
 * ramdev_dma_unmap - end a mapping.
 * @written: bytes from the segment's start that the device wrote (FROM_DEVICE
 *           or BIDIR): copied back from a bounce buffer, marked dirty.
 */
RAMDEV_EXPORT void ramdev_dma_unmap(struct ramdev_dma *dma,
				    struct ramdev_dma_seg *seg, size_t written);

/**
 * ramdev_dma_map_sg - map a whole scatter-gather list into segments.
 * Under the DIRECT policy, MMIO that the bounce pool cannot hold right now
 * becomes RAMDEV_SEG_MMIO segments instead of an -EAGAIN, so a list of any
 * size maps at once.
 * Returns: the number of segments (<= @max_segs), or a negative errno as for
 * ramdev_dma_map() (never -EAGAIN), plus -E2BIG (needs more than
 * @max_segs).  All or nothing: on error nothing stays mapped.
 */
RAMDEV_EXPORT int ramdev_dma_map_sg(struct ramdev_dma *dma,
				    const struct ramdev_sg *sg, unsigned nsg,
				    enum ramdev_dma_dir dir,
				    struct ramdev_dma_seg *segs,
				    unsigned max_segs);

/** ramdev_dma_unmap_sg - unmap @nsegs segments; @written counts from the start. */
RAMDEV_EXPORT void ramdev_dma_unmap_sg(struct ramdev_dma *dma,
				       struct ramdev_dma_seg *segs,
				       unsigned nsegs, size_t written);

/**
 * ramdev_dma_on_free - call @fn(@opaque) once, the next time bounce space is
 * released (from the unmapping thread).  Returns 0 or -ENOMEM.
 */
RAMDEV_EXPORT int ramdev_dma_on_free(struct ramdev_dma *dma,
				     void (*fn)(void *opaque), void *opaque);

/**
 * ramdev_dma_read / ramdev_dma_write - copy between guest memory and @buf,
 * across regions, without bounce space: RAMD exactly through the access core,
 * MMIO through its callbacks, RAM by memcpy.  Writes mark the dirty log.
 * Returns: 0, -EOVERFLOW, -EFAULT (some byte unassigned: nothing of guest
 * memory is accessed, @buf is left as it was; checked and copied in one
 * view of the address space), an MMIO error.
 */
RAMDEV_EXPORT int ramdev_dma_read(struct ramdev_dma *dma, uint64_t gpa,
				  void *buf, size_t len);
RAMDEV_EXPORT int ramdev_dma_write(struct ramdev_dma *dma, uint64_t gpa,
				   const void *buf, size_t len);

/**
 * ramdev_dma_seg_read / _write - copy @n bytes at @off inside a mapped
 * segment to/from ordinary memory @buf, with the access the segment's kind
 * requires (memcpy for RAM, the access core for DEV, the region's callbacks
 * for MMIO).
 * Returns: 0, -EINVAL (@off + @n past the segment), an MMIO callback's or
 * valid-rule error, -EFAULT (the MMIO range was removed meanwhile).
 */
RAMDEV_EXPORT int ramdev_dma_seg_read(const struct ramdev_dma_seg *seg,
				      size_t off, void *buf, size_t n);
RAMDEV_EXPORT int ramdev_dma_seg_write(const struct ramdev_dma_seg *seg,
				       size_t off, const void *buf, size_t n);

RAMDEV_EXPORT void ramdev_dma_get_stats(struct ramdev_dma *dma,
					struct ramdev_dma_stats *st);
RAMDEV_EXPORT enum ramdev_dma_policy ramdev_dma_policy(struct ramdev_dma *dma);
RAMDEV_EXPORT struct ramdev_as *ramdev_dma_as(struct ramdev_dma *dma);

#ifdef __cplusplus
}
#endif

#endif /* RAMDEV_DMA_H */
