/* SPDX-License-Identifier: MIT */
/*
 * ramdev DMA: map guest-physical ranges for a device model.
 *
 * RAM and RAM-device (RAMD) memory are mapped directly: the segment points at
 * the host memory itself.  Every copy the library makes into or out of guest
 * memory (ramdev_dma_read/_write, ramdev_dma_seg_read/_write, bounce fills
 * and copy-backs) goes through the access core (ramdev/access.h), for RAM
 * too: each guest byte is read or written exactly once, and a naturally
 * aligned 1/2/4/8-byte span is one access of that width, so a guest racing
 * with the device never sees a byte stored twice (memcpy may do that).
 * A RAMD segment is device memory and must be accessed only through the
 * access core (ramdev_dma_seg_read/_write below do that), never handed to
 * memcpy or to the kernel (preadv into a BAR would copy with whatever the
 * kernel's memcpy does).  A RAM segment's base may be handed to the kernel
 * (preadv), but the kernel's copy is not exact; the device model decides.
 * MMIO cannot be mapped, so it is bounced through a bounded pool (default
 * 4096 bytes, like QEMU).
 *
 * Policies:
 *  - RAMDEV_DMA_DIRECT (default): as above.  When the bounce pool is
 *    exhausted, ramdev_dma_map returns -EAGAIN and ramdev_dma_on_free() tells
 *    the caller when to retry (see the protocol there), while
 *    ramdev_dma_map_sg never waits: it maps what the pool cannot hold as
 *    RAMDEV_SEG_MMIO segments, which ramdev_dma_seg_read/_write carry out
 *    through the region's callbacks at access time (like
 *    ramdev_dma_read/_write, in chunks, without bounce space).  A valid
 *    request never fails or stalls for lack of bounce space, whatever its
 *    size.
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
 *    i.e. 512 calls per 4 KiB.  Two deviations: QEMU allows unaligned
 *    pieces there (impl.unaligned), ramdev keeps every device access
 *    naturally aligned (as the access core does), so a span that is not
 *    8-byte aligned takes up to six narrower pieces at its ends; and QEMU
 *    translates the guest address again at unmap, ramdev flushes into the
 *    region the map holds (a BAR moved meanwhile keeps its data).  The
 *    dirty log is still kept.  ramdev_dma_read/_write are not part of the
 *    model and stay exact bulk copies.  The policy exists to show the
 *    problem side by side with the fix.
 *
 * Writes through a mapping are logged in the region's dirty bitmap at unmap
 * (for the bytes the device says it wrote), writes through ramdev_dma_write
 * at once.
 *
 * A mapping holds a reference on its region (see "Lifetime" in as.h): a
 * region removed while mapped stays alive, its memory in place, until the
 * last unmap, and a bounced segment is filled from and copied back to that
 * region, never to whatever the guest address maps by then.  Messages go to
 * the address space's log (ramdev_as_set_log); those a guest can trigger
 * are rate-limited per kind.
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

/**
 * struct ramdev_dma_config - how a DMA context maps.
 * @policy:      RAMDEV_DMA_DIRECT (0, the default) or RAMDEV_DMA_QEMU_BOUNCE.
 * @bounce_size: bytes in the bounce pool; 0 means 4096.
 * @owner:       the device that DMAs through this context, as given to
 *               ramdev_region_set_owner() for its MMIO regions; NULL: none.
 *               The re-entrancy guard (as.h) engages it on the calling
 *               thread for the duration of every call on the context that
 *               can reach MMIO (map and map_sg with their bounce fills,
 *               unmap and unmap_sg with their copy-backs, ramdev_dma_read/
 *               _write, ramdev_dma_seg_read/_write of its segments): an
 *               access they make to a region of @owner is refused with
 *               RAMDEV_AS_REENTRANT, even on a thread that is not inside
 *               one of the device's callbacks (a device that processes
 *               its queues on an I/O thread).  Without it, only the
 *               callbacks engage the guard (a queue processed from the
 *               notify register's write callback is still covered).
 */
struct ramdev_dma_config {
	enum ramdev_dma_policy policy;
	size_t bounce_size;
	const void *owner;
};

/**
 * enum ramdev_seg_kind - how a mapped segment's memory must be touched.
 * Whatever the kind, ramdev_dma_seg_read/_write do the right thing.
 */
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

/** struct ramdev_sg - one guest-physical range of a scatter-gather list. */
struct ramdev_sg {
	uint64_t gpa;
	uint64_t len;
};

/** struct ramdev_dma_stats - counters since ramdev_dma_new(). */
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
 * @out: receives the context.
 * @as:  the address space; must outlive the context.
 * @cfg: NULL for the defaults (DIRECT, 4096-byte pool).
 * Returns: 0; -EINVAL (NULL @as or @out, unknown policy, a pool larger than
 * 1 GiB); -ENOMEM.
 * Context: any thread.
 */
RAMDEV_EXPORT int ramdev_dma_new(struct ramdev_dma **out, struct ramdev_as *as,
				 const struct ramdev_dma_config *cfg);

/**
 * ramdev_dma_free - free the context (NULL: nothing).
 * Every mapping must be unmapped first: segments still mapped are reported
 * in the log and their regions stay referenced (a leak, not a crash).
 * Context: any thread, no other thread using @dma; not from a callback.
 */
RAMDEV_EXPORT void ramdev_dma_free(struct ramdev_dma *dma);

/**
 * ramdev_dma_map - map the start of [@gpa, @gpa + @len).
 * @dma: the context.
 * @gpa: first guest-physical address.
 * @len: > 0.
 * @dir: what the device will do with the memory.
 * @seg: receives the mapping.  seg->len may be shorter than @len (the range
 *       crosses a region boundary, or a bounce is capped by the pool size):
 *       map the rest with another call.
 * The segment holds a reference on the region until ramdev_dma_unmap().
 * TO_DEVICE and BIDIR bounce buffers are filled here; FROM_DEVICE ones
 * start zeroed.
 * Returns: 0; -EINVAL (NULL argument, @len 0, bad @dir); -EOVERFLOW (range
 * wraps); -EFAULT (@gpa unassigned); -EAGAIN (DIRECT: the bounce pool is
 * full, see ramdev_dma_on_free()); -ENOBUFS (QEMU_BOUNCE: pool busy, the
 * request fails as it does in QEMU); an MMIO callback's error while
 * filling a bounce buffer, or RAMDEV_AS_REENTRANT (the fill reached a
 * region of an owner engaged on this thread: see struct
 * ramdev_dma_config).
 * Context: any thread; takes the RCU read lock itself.
 */
RAMDEV_EXPORT int ramdev_dma_map(struct ramdev_dma *dma, uint64_t gpa,
				 uint64_t len, enum ramdev_dma_dir dir,
				 struct ramdev_dma_seg *seg);

/**
 * ramdev_dma_unmap - end a mapping.
 * @dma:     the context that mapped @seg.
 * @seg:     a segment from ramdev_dma_map() or ramdev_dma_map_sg().
 * @written: bytes from the segment's start that the device wrote (FROM_DEVICE
 *           or BIDIR; ignored for TO_DEVICE; clamped to seg->len with a
 *           warning): copied back from a bounce buffer into the mapped
 *           region, and marked dirty.
 * Drops the segment's region reference (which may free a removed region
 * and run its release callback on this thread) and releases bounce space
 * (which runs the ramdev_dma_on_free() callbacks on this thread).  A
 * copy-back the re-entrancy guard refuses (see struct ramdev_dma_config)
 * is dropped and logged, like any failed copy-back.  A second
 * unmap of the same segment, even concurrently, is caught and logged.
 * Context: any thread; not inside an RCU read-side section of the caller's
 * that still uses the segment's memory.
 */
RAMDEV_EXPORT void ramdev_dma_unmap(struct ramdev_dma *dma,
				    struct ramdev_dma_seg *seg, size_t written);

/**
 * ramdev_dma_map_sg - map a whole scatter-gather list into segments.
 * @dma:      the context.
 * @sg:       @nsg ranges, each mapped as by ramdev_dma_map() (a range that
 *            crosses regions takes several segments).
 * @nsg:      0 maps nothing and returns 0.
 * @dir:      for every range.
 * @segs:     receives the segments, in list order.
 * @max_segs: room in @segs.
 * Under the DIRECT policy, MMIO that the bounce pool cannot hold right now
 * becomes RAMDEV_SEG_MMIO segments instead of an -EAGAIN, so a list of any
 * size maps at once.  The whole list is translated in one view of the
 * address space.
 * Returns: the number of segments (<= @max_segs), or a negative errno as for
 * ramdev_dma_map() (never -EAGAIN), plus -E2BIG (needs more than
 * @max_segs).  All or nothing: on error nothing stays mapped.
 * Context: any thread; takes the RCU read lock itself.
 */
RAMDEV_EXPORT int ramdev_dma_map_sg(struct ramdev_dma *dma,
				    const struct ramdev_sg *sg, unsigned nsg,
				    enum ramdev_dma_dir dir,
				    struct ramdev_dma_seg *segs,
				    unsigned max_segs);

/**
 * ramdev_dma_unmap_sg - unmap @nsegs segments, as ramdev_dma_unmap() each.
 * @dma:     the context that mapped them.
 * @segs:    what ramdev_dma_map_sg() returned.
 * @nsegs:   its return value.
 * @written: bytes the device wrote, counted from the start of @segs[0]
 *           across the segments in order (the used length of a virtio
 *           chain): segment i gets min(what is left, segs[i].len), so with
 *           segments of 64 and 64 bytes, 100 means all of the first and 36
 *           bytes of the second.  Only FROM_DEVICE/BIDIR segments copy back
 *           or mark dirty, but every segment consumes its length.
 * Context: as ramdev_dma_unmap().
 */
RAMDEV_EXPORT void ramdev_dma_unmap_sg(struct ramdev_dma *dma,
				       struct ramdev_dma_seg *segs,
				       unsigned nsegs, size_t written);

/**
 * ramdev_dma_on_free - call @fn(@opaque) once, the next time bounce space is
 * released.
 * @dma:    the context.
 * @fn:     called on the thread that releases the space (inside its
 *          ramdev_dma_unmap), outside the pool's lock, oldest registration
 *          first; it may map again.
 * @opaque: passed to @fn.
 * Space released between a map's -EAGAIN and this registration does not
 * call @fn.  The protocol that loses no wake-up: after -EAGAIN, register,
 * then retry the map once.  If the retry succeeds, go on (@fn still runs at
 * the next release: treat that call as spurious).  If it fails with
 * -EAGAIN, the pool was still full after the registration, so @fn is
 * called when space comes back.
 * Returns: 0; -EINVAL (NULL @dma or @fn); -ENOMEM.
 * Context: any thread.
 */
RAMDEV_EXPORT int ramdev_dma_on_free(struct ramdev_dma *dma,
				     void (*fn)(void *opaque), void *opaque);

/**
 * ramdev_dma_read / ramdev_dma_write - copy between guest memory and @buf,
 * across regions, without bounce space.
 * @dma: the context.
 * @gpa: first guest-physical address.
 * @buf: @len bytes of ordinary memory.
 * @len: 0 does nothing.
 * RAM and RAMD through the access core (each byte once, aligned 1/2/4/8
 * bytes in one access), MMIO through its callbacks.  Writes mark the dirty
 * log.
 * Returns: 0; -EINVAL (NULL @dma, NULL @buf with @len > 0); -EOVERFLOW;
 * -EFAULT (some byte unassigned: nothing of guest memory is accessed, @buf
 * is left as it was; checked and copied in one view of the address space);
 * RAMDEV_AS_REENTRANT (an MMIO access refused by the re-entrancy guard, see
 * struct ramdev_dma_config: a read's refused bytes are 0xff, nothing after
 * it is done); an MMIO callback's or valid rule's error.
 * Context: any thread; takes the RCU read lock itself.
 */
RAMDEV_EXPORT int ramdev_dma_read(struct ramdev_dma *dma, uint64_t gpa,
				  void *buf, size_t len);
RAMDEV_EXPORT int ramdev_dma_write(struct ramdev_dma *dma, uint64_t gpa,
				   const void *buf, size_t len);

/**
 * ramdev_dma_seg_read / _write - copy @n bytes at @off inside a mapped
 * segment to/from ordinary memory @buf.
 * @seg: a mapped segment.
 * @off: offset in the segment.
 * @buf: @n bytes of ordinary memory.
 * @n:   0 does nothing.
 * With the access the segment's kind requires: the access core for RAM
 * (wide exact copy) and DEV, the region's callbacks for MMIO (the region
 * the segment holds, even if it was removed or moved meanwhile).
 * Returns: 0; -EINVAL (NULL argument, a segment not mapped, @off + @n past
 * the segment); RAMDEV_AS_REENTRANT (an MMIO segment of an owner engaged on
 * this thread: see struct ramdev_dma_config); an MMIO callback's or valid
 * rule's error.
 * Context: any thread, while @seg is mapped.
 */
RAMDEV_EXPORT int ramdev_dma_seg_read(const struct ramdev_dma_seg *seg,
				      size_t off, void *buf, size_t n);
RAMDEV_EXPORT int ramdev_dma_seg_write(const struct ramdev_dma_seg *seg,
				       size_t off, const void *buf, size_t n);

/**
 * ramdev_dma_get_stats - sum of the per-thread counters into @st.
 * Counters of maps racing with the call may or may not be included.
 * A NULL @dma reads as all zeroes; a NULL @st is ignored.
 * Context: any thread.
 */
RAMDEV_EXPORT void ramdev_dma_get_stats(struct ramdev_dma *dma,
					struct ramdev_dma_stats *st);
/**
 * ramdev_dma_policy - the policy given to ramdev_dma_new()
 * (RAMDEV_DMA_DIRECT for a NULL @dma).
 * Context: any thread.
 */
RAMDEV_EXPORT enum ramdev_dma_policy ramdev_dma_policy(struct ramdev_dma *dma);
/**
 * ramdev_dma_as - the address space given to ramdev_dma_new() (NULL for a
 * NULL @dma).
 * Context: any thread.
 */
RAMDEV_EXPORT struct ramdev_as *ramdev_dma_as(struct ramdev_dma *dma);

#ifdef __cplusplus
}
#endif

#endif /* RAMDEV_DMA_H */
