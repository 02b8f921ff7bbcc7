/* SPDX-License-Identifier: MIT */
/*
 * ramdev virtqueue: the device side of a virtio 1.x split virtqueue
 * (VIRTIO 1.2 section 2.7), with indirect descriptors and event index.
 *
 * Every value the guest controls is validated before use; the first
 * violation marks the queue broken (the device should then set
 * DEVICE_NEEDS_RESET), logs one message naming the rule with the values in
 * hex, and every later call returns -EIO until the queue is freed and made
 * again (the device reset).  No guest
 * input can crash the process or make it touch memory outside the guest's.
 *
 * Ring indices and flags are read and written with single exact-width
 * accesses (the access core), so a 2-byte index is never torn, and ring
 * memory may itself live in RAM-device memory (with the barriers device
 * memory needs, see struct ramdev_virtq_config).  Buffers are mapped through
 * the DMA layer: RAM and RAMD directly, MMIO bounced or reached through its
 * callbacks.  Every device write to the used ring and to the buffers (the
 * bytes push() is told were written) goes into the regions' dirty logs.
 *
 * Threads: a queue is driven by one thread at a time (the "queue's
 * thread" below); different queues are independent.
 */
#ifndef RAMDEV_VIRTQ_H
#define RAMDEV_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "ramdev/as.h"
#include "ramdev/dma.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ramdev_virtq;

/** One value per validation rule (STYLE.md rule 5). */
enum ramdev_virtq_err {
	RAMDEV_VIRTQ_OK = 0,
	RAMDEV_VIRTQ_NOT_READY,       /* rings not set up, or the queue was reset */
	RAMDEV_VIRTQ_SIZE,            /* size not a power of two in 1..32768 */
	RAMDEV_VIRTQ_ALIGN,           /* ring address misaligned (2.7: 16/2/4) */
	RAMDEV_VIRTQ_RING_UNMAPPED,   /* a ring is not in guest RAM/RAMD */
	RAMDEV_VIRTQ_AVAIL_IDX,       /* avail idx moved by more than size */
	RAMDEV_VIRTQ_HEAD_INDEX,      /* head index >= size */
	RAMDEV_VIRTQ_NEXT_INDEX,      /* next index >= table size */
	RAMDEV_VIRTQ_LOOP,            /* chain longer than its table */
	RAMDEV_VIRTQ_INDIRECT_NESTED, /* indirect inside an indirect table */
	RAMDEV_VIRTQ_INDIRECT_LEN,    /* table length 0 or not a multiple of 16 */
	RAMDEV_VIRTQ_INDIRECT_NEXT,   /* INDIRECT together with NEXT */
	RAMDEV_VIRTQ_INDIRECT_OFF,    /* INDIRECT not negotiated */
	RAMDEV_VIRTQ_ZERO_LEN,        /* buffer of length 0 */
	RAMDEV_VIRTQ_ORDER,           /* readable descriptor after a writable one */
	RAMDEV_VIRTQ_CHAIN_TOO_LONG,  /* total length above 4 GiB */
	RAMDEV_VIRTQ_ADDR_OVERFLOW,   /* addr + len wraps past 2^64 */
	RAMDEV_VIRTQ_UNMAPPED,        /* buffer outside guest memory */
	RAMDEV_VIRTQ_TOO_MANY_SEGS,   /* more segments than max_segs */
	RAMDEV_VIRTQ_USED_IDX,        /* push of an element the queue did not pop */
	RAMDEV_VIRTQ_ERR_COUNT
};

/**
 * ramdev_virtq_strerror - a short description of @err.
 * @err: a value of enum ramdev_virtq_err (others are answered too).
 * Returns: a static string, never NULL ("unknown virtqueue error" for a
 * value out of range).
 * Context: any thread.
 */
RAMDEV_EXPORT const char *ramdev_virtq_strerror(enum ramdev_virtq_err err);

/**
 * struct ramdev_virtq_config - a queue as the driver set it up.
 * @size:      queue size: a power of two in 1..32768 (VIRTIO 1.2 2.7); 0
 *             means "not available" (4.1.4.3): the queue is made broken
 *             with RAMDEV_VIRTQ_NOT_READY.
 * @desc:      guest-physical address of the descriptor table (16-byte
 *             aligned, 16 * @size bytes).
 * @avail:     ... of the available (driver) ring (2-byte aligned,
 *             6 + 2 * @size bytes).
 * @used:      ... of the used (device) ring (4-byte aligned,
 *             6 + 8 * @size bytes).
 * @event_idx: VIRTIO_F_EVENT_IDX was negotiated.
 * @indirect:  VIRTIO_F_INDIRECT_DESC was negotiated.
 * @max_segs:  the most mapped segments one element may have (a buffer the
 *             DMA layer splits at region boundaries counts per piece);
 *             0 means 1024, at most RAMDEV_VIRTQ_MAX_SEGS.  The queue
 *             keeps two scratch arrays of this many entries.
 *
 * Each ring must lie within one RAM or RAMD region.  Rings in RAMD (device
 * memory, e.g. a BAR mapped write-combining) are supported: the queue then
 * orders its ring accesses with the barriers device memory needs (sfence /
 * lfence on x86-64, dmb osh on AArch64) instead of the C11 fences that
 * suffice for RAM; likewise for elements with a buffer in device memory.
 */
struct ramdev_virtq_config {
	uint16_t size;
	uint64_t desc;
	uint64_t avail;
	uint64_t used;
	bool event_idx;
	bool indirect;
	unsigned max_segs;
};

/* Upper bound of ramdev_virtq_config.max_segs. */
#define RAMDEV_VIRTQ_MAX_SEGS 65536u

/**
 * ramdev_virtq_new - create a queue over guest memory reached through @dma.
 * @out: receives the queue, also when the configuration is bad.
 * @dma: the DMA context buffers are mapped through; its address space holds
 *       the rings.  Must outlive the queue.
 * @cfg: the configuration; copied.
 *
 * The ring addresses are validated here (size, alignment, each ring inside
 * one RAM or RAMD region); a bad configuration from the driver is not an
 * error of this call: the queue is created broken with the reason (see
 * ramdev_virtq_error()), as a device would set DEVICE_NEEDS_RESET, and the
 * message is logged once the queue has a log callback (ramdev_virtq_set_log()
 * or the first ramdev_virtq_pop(), whichever comes first).  The queue holds a
 * reference on each ring's region until ramdev_virtq_free().
 *
 * Returns: 0 with *@out set; -EINVAL (NULL argument, @cfg->max_segs above
 * RAMDEV_VIRTQ_MAX_SEGS, or @dma without an address space); -ENOMEM.
 * Context: any thread; takes the address space's RCU read side.
 */
RAMDEV_EXPORT int ramdev_virtq_new(struct ramdev_virtq **out,
				   struct ramdev_dma *dma,
				   const struct ramdev_virtq_config *cfg);

/**
 * ramdev_virtq_free - free @vq: drop the ring region references, the cached
 * elements and the log pairs.  NULL is a no-op.
 * @vq: the queue; every element popped from it must have been pushed (an
 *      element still out is not unmapped: its segments keep their region
 *      references).
 * Context: the queue's thread, with no other call on @vq running.
 */
RAMDEV_EXPORT void ramdev_virtq_free(struct ramdev_virtq *vq);

/**
 * ramdev_virtq_set_log - route the queue's messages to @fn(@opaque, level,
 * msg) (see ramdev_log_fn in as.h); NULL @fn: warnings and errors go to
 * stderr.
 * @vq:     the queue; NULL is a no-op.
 * @fn:     the callback, called on the thread that logs.
 * @opaque: passed to @fn.
 *
 * The pair is published as one: each call allocates a new immutable
 * {@fn, @opaque} and swaps it in atomically, so the queue's thread, logging
 * meanwhile, uses either the old pair or the new one, never a mix.  A
 * replaced pair stays allocated (a few bytes) until ramdev_virtq_free(), so
 * @opaque of an old pair may still be passed to its @fn until this returns
 * plus one message; keep it valid until then.  If the allocation fails the
 * old pair stays in force (and says so through it).
 * A configuration error kept by ramdev_virtq_new() is logged here, once.
 * Context: any thread; calls of set_log on one queue must not overlap
 * each other.
 */
RAMDEV_EXPORT void ramdev_virtq_set_log(struct ramdev_virtq *vq,
					ramdev_log_fn *fn, void *opaque);

/**
 * struct ramdev_virtq_elem - one popped descriptor chain.
 * @head:    the chain's head index (the used element's id).
 * @out_num: device-readable segments, first in @segs.
 * @in_num:  device-writable segments, after them.
 * @out_len: total bytes of the device-readable part.
 * @in_len:  total bytes of the device-writable part.
 * @segs:    @out_num + @in_num segments mapped through the DMA layer (see
 *           enum ramdev_seg_kind for how to touch each: RAMDEV_SEG_DEV only
 *           through the access core, RAMDEV_SEG_MMIO only through
 *           ramdev_dma_seg_read/_write).
 * Owned by the queue; the caller may read and write the buffers until it
 * hands the element back with ramdev_virtq_push(), which frees it.
 */
struct ramdev_virtq_elem {
	uint16_t head;
	unsigned out_num;
	unsigned in_num;
	uint64_t out_len;
	uint64_t in_len;
	struct ramdev_dma_seg *segs;
};

/**
 * ramdev_virtq_pop - take the next available chain.
 * @vq:  the queue.
 * @out: receives the element when 1 is returned; untouched otherwise.
 *
 * Reads the avail idx, then (ordered after it) the ring entry and the
 * descriptors; validates the chain (one rule per enum ramdev_virtq_err
 * value) and maps every buffer through the DMA layer.  With EVENT_IDX and
 * notifications on, asks for a kick at the next entry (avail_event).
 *
 * Returns: 1 with *@out set; 0 when the ring is empty; -EINVAL (NULL
 * argument); -EIO (the queue is broken, now or before: see
 * ramdev_virtq_error(); later calls return -EIO until the queue is freed
 * and made again); -ENOBUFS (DMA policy QEMU_BOUNCE and its bounce buffer
 * is busy: the queue is then broken with QEMU's words, "virtio: bogus
 * descriptor or out of resources"); -ENOMEM (nothing consumed: call again
 * later).  Under the DIRECT policy a busy bounce pool never makes pop fail
 * or wait: MMIO that does not fit becomes RAMDEV_SEG_MMIO segments.
 * Context: the queue's thread (one thread per queue at a time: pop, push,
 * should_notify, set_notify, set_last_avail are not synchronized with each
 * other); takes the address space's RCU read side.
 */
RAMDEV_EXPORT int ramdev_virtq_pop(struct ramdev_virtq *vq,
				   struct ramdev_virtq_elem **out);

/**
 * ramdev_virtq_push - return @elem to the driver as used.
 * @vq:      the queue @elem was popped from.
 * @elem:    the element; freed by this call (also on -EIO).
 * @written: the used element's len (VIRTIO 1.2 2.7.8.1): the device wrote
 *           at least this many bytes at the start of the device-writable
 *           part.  It is also how many bytes of that part are copied back
 *           from bounce buffers and marked in the dirty log: bytes beyond
 *           it that the device wrote are not (so a device that writes a
 *           trailing status byte reports the whole part, as virtio-blk
 *           does: see blk.h).
 *
 * Unmaps the segments (bounced bytes reach guest memory first), writes the
 * used element, then publishes the used index, with a barrier ordering the
 * buffer writes and the element before the index (a store fence when the
 * used ring or a buffer is in device memory).  Every store to the used ring
 * (element, idx; also avail_event and flags, by pop and set_notify) is
 * marked in the ring region's dirty log after it is made.
 *
 * Returns: 0; -EINVAL (NULL argument, @elem not popped from @vq, @written
 * > @elem->in_len: @elem is then left as it was; an element pushed already
 * is freed memory, not something this can detect); -EIO
 * (the queue is broken: no used element is written, but @elem is unmapped
 * with @written, so its data is in guest memory and the dirty log, and
 * freed; also when @elem makes the queue break with RAMDEV_VIRTQ_USED_IDX,
 * pushed with nothing in flight).
 * Context: the queue's thread.
 */
RAMDEV_EXPORT int ramdev_virtq_push(struct ramdev_virtq *vq,
				    struct ramdev_virtq_elem *elem,
				    uint32_t written);

/**
 * ramdev_virtq_should_notify - whether the driver wants a used-buffer
 * notification (an interrupt) for what was pushed since the last call.
 * @vq: the queue; NULL or broken: false.
 *
 * Event index (used_event) when EVENT_IDX was negotiated, else the avail
 * ring's NO_INTERRUPT flag (VIRTIO 1.2 2.7.7.2); a full barrier orders the
 * used idx store of push before the load of either.  After 65536 pushes
 * without a call, or after ramdev_virtq_set_last_avail(), answers true.
 * Returns: true to notify; false when nothing was pushed since the last
 * call, or the driver suppressed it.
 * Context: the queue's thread, after the pushes it covers.
 */
RAMDEV_EXPORT bool ramdev_virtq_should_notify(struct ramdev_virtq *vq);

/**
 * ramdev_virtq_set_notify - ask the driver to send available-buffer
 * notifications (kicks) (@on) or not.
 * @vq: the queue; NULL or broken: false.
 * @on: true to ask for kicks.
 *
 * Sets avail_event to the current avail idx (EVENT_IDX; off leaves it to go
 * stale) or the used ring's NO_NOTIFY flag (VIRTIO 1.2 2.7.10), marks it in
 * the dirty log, then, after a full barrier, re-reads the avail idx.
 * Returns: true when buffers are available that were not popped (re-check
 * before sleeping: the driver may have added them without seeing the
 * request); false otherwise.
 * Context: the queue's thread.
 */
RAMDEV_EXPORT bool ramdev_virtq_set_notify(struct ramdev_virtq *vq, bool on);

/**
 * ramdev_virtq_error - why the queue is broken.
 * @vq: the queue.
 * Returns: the sticky enum ramdev_virtq_err value, RAMDEV_VIRTQ_OK while the
 * queue is healthy; RAMDEV_VIRTQ_NOT_READY for NULL.
 * Context: any thread (a plain read: from another thread it may lag).
 */
RAMDEV_EXPORT enum ramdev_virtq_err
ramdev_virtq_error(const struct ramdev_virtq *vq);

/**
 * ramdev_virtq_last_avail - the avail ring index popping resumes at (for
 * vhost-user GET_VRING_BASE, or migration).
 * @vq: the queue.
 * Returns: the index; 0 for NULL.
 * Context: the queue's thread, or any thread while the queue is stopped.
 */
RAMDEV_EXPORT uint16_t ramdev_virtq_last_avail(const struct ramdev_virtq *vq);

/**
 * ramdev_virtq_set_last_avail - resume popping at avail index @idx (vhost-user
 * SET_VRING_BASE, or migration).  The next should_notify() answers true.
 * @vq:  the queue; NULL is a no-op.
 * @idx: the index.
 * Context: the queue's thread, or any thread while the queue is stopped.
 */
RAMDEV_EXPORT void ramdev_virtq_set_last_avail(struct ramdev_virtq *vq,
					       uint16_t idx);

/**
 * ramdev_virtq_inflight - elements popped and not yet pushed.
 * @vq: the queue.
 * Returns: the count (at most the queue size); 0 for NULL.
 * Context: the queue's thread.
 */
RAMDEV_EXPORT unsigned ramdev_virtq_inflight(const struct ramdev_virtq *vq);

/* ---- inflight tracking support (lib/virtq/inflight.c) ---- */

/**
 * struct ramdev_virtq_hooks - calls made as chains change hands, for a
 * log of the heads in flight that survives the process (vhost-user
 * INFLIGHT_SHMFD).  Any may be NULL.
 * @popped:   @head was popped (also when popped again from the resubmit
 *            list).
 * @pre_push: @head is about to be written to the used ring.
 * @pushed:   @head is in the used ring and the used idx is now @used_idx.
 */
struct ramdev_virtq_hooks {
	void (*popped)(void *opaque, uint16_t head);
	void (*pre_push)(void *opaque, uint16_t head);
	void (*pushed)(void *opaque, uint16_t head, uint16_t used_idx);
	void *opaque;
};

/**
 * ramdev_virtq_set_hooks - install @hooks (copied), or remove them (NULL).
 * The hooks run on the thread that pops and pushes, must not block and
 * must not call back into the queue.
 * Context: the queue's thread, or before the queue is used.
 */
RAMDEV_EXPORT void ramdev_virtq_set_hooks(struct ramdev_virtq *vq,
					  const struct ramdev_virtq_hooks *hooks);

/**
 * ramdev_virtq_set_resubmit - have ramdev_virtq_pop() return the chains at
 * @heads (in that order) before it looks at the avail ring again: the
 * requests a previous instance of the device had popped and not finished.
 * Each counts as in flight once popped; last_avail does not move for them
 * (set it with ramdev_virtq_set_last_avail() past them).
 * @heads: @n head indices, each < the queue size; copied.
 * Returns: 0; -EINVAL (NULL, a head out of range, @n > size); -ENOMEM.
 * Context: before the queue is used.
 */
RAMDEV_EXPORT int ramdev_virtq_set_resubmit(struct ramdev_virtq *vq,
					    const uint16_t *heads, unsigned n);

/**
 * ramdev_virtq_used_idx - the used idx the device published last (read
 * from the ring when the queue was made, then kept).
 * Returns: that index; 0 for NULL.
 * Context: the queue's thread.
 */
RAMDEV_EXPORT uint16_t ramdev_virtq_used_idx(const struct ramdev_virtq *vq);

#ifdef __cplusplus
}
#endif

#endif /* RAMDEV_VIRTQ_H */
