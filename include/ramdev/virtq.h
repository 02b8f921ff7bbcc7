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
 * memory may itself live in RAM-device memory.  Buffers are mapped through
 * the DMA layer: RAM and RAMD directly, MMIO bounced.
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

/** ramdev_virtq_strerror - a short description of @err (never NULL). */
RAMDEV_EXPORT const char *ramdev_virtq_strerror(enum ramdev_virtq_err err);

struct ramdev_virtq_config {
	uint16_t size;     /* queue size: power of two, 1..32768 */
	uint64_t desc;     /* guest-physical address of the descriptor table */
	uint64_t avail;    /* ... of the available (driver) ring */
	uint64_t used;     /* ... of the used (device) ring */
	bool event_idx;    /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;     /* VIRTIO_F_INDIRECT_DESC negotiated */
	unsigned max_segs; /* segment cap per element; 0 means 1024 */
};

/**
 * ramdev_virtq_new - a queue over guest memory reached through @dma.
 * The ring addresses are validated here (size, alignment, rings inside RAM
 * or RAMD regions); a bad configuration is not an error of this call: the
 * queue is created broken with the reason, as a device would set
 * NEEDS_RESET.
 * Returns: 0, -EINVAL (NULL arguments), -ENOMEM.
 */
RAMDEV_EXPORT int ramdev_virtq_new(struct ramdev_virtq **out,
				   struct ramdev_dma *dma,
				   const struct ramdev_virtq_config *cfg);
RAMDEV_EXPORT void ramdev_virtq_free(struct ramdev_virtq *vq);
RAMDEV_EXPORT void ramdev_virtq_set_log(struct ramdev_virtq *vq,
					ramdev_log_fn *fn, void *opaque);

/**
 * struct ramdev_virtq_elem - one popped descriptor chain.
 * @segs: @out_num device-readable segments, then @in_num device-writable
 *        ones, mapped through the DMA layer (see enum ramdev_seg_kind for how
 *        to touch each).
 * @out_len/@in_len: total bytes of each part.
 * Owned by the queue until returned with ramdev_virtq_push().
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
 * Returns: 1 with *@out set; 0 when the ring is empty; -EIO when the queue
 * is broken (now or before: see ramdev_virtq_error()); -EAGAIN if the
 * DMA layer asks to wait for bounce space (nothing consumed: call again
 * after ramdev_dma_on_free(); the DIRECT policy never does, it hands out
 * RAMDEV_SEG_MMIO segments instead); -ENOBUFS under the QEMU_BOUNCE policy
 * when the pool is busy (the queue is then broken with "virtio: bogus descriptor or
 * out of resources", as QEMU reports it); -ENOMEM.
 * Context: one thread per queue at a time.
 */
RAMDEV_EXPORT int ramdev_virtq_pop(struct ramdev_virtq *vq,
				   struct ramdev_virtq_elem **out);

/**
 * ramdev_virtq_push - return @elem to the driver with @written bytes
 * written into its device-writable part; unmaps its segments and frees it.
 * The used index is published at once (after a write barrier ordering the
 * used element before it).
 * Returns: 0, -EIO (queue broken; @elem is still freed), -EINVAL
 * (@written > in_len).
 */
RAMDEV_EXPORT int ramdev_virtq_push(struct ramdev_virtq *vq,
				    struct ramdev_virtq_elem *elem,
				    uint32_t written);

/**
 * ramdev_virtq_should_notify - whether the driver wants an interrupt for
 * what was pushed since the last call (event index or NO_INTERRUPT flag,
 * VIRTIO 1.2 section 2.7.7.2).
 */
RAMDEV_EXPORT bool ramdev_virtq_should_notify(struct ramdev_virtq *vq);

/**
 * ramdev_virtq_set_notify - ask the driver to kick (@on) or not: sets
 * avail_event (EVENT_IDX) or the used ring's NO_NOTIFY flag.  Returns true
 * when buffers became available meanwhile (re-check before sleeping).
 */
RAMDEV_EXPORT bool ramdev_virtq_set_notify(struct ramdev_virtq *vq, bool on);

/** ramdev_virtq_error - why the queue is broken, RAMDEV_VIRTQ_OK if not. */
RAMDEV_EXPORT enum ramdev_virtq_err
ramdev_virtq_error(const struct ramdev_virtq *vq);

/** Where popping resumes (vhost-user GET/SET_VRING_BASE). */
RAMDEV_EXPORT uint16_t ramdev_virtq_last_avail(const struct ramdev_virtq *vq);
RAMDEV_EXPORT void ramdev_virtq_set_last_avail(struct ramdev_virtq *vq,
					       uint16_t idx);

/** Elements popped and not yet pushed. */
RAMDEV_EXPORT unsigned ramdev_virtq_inflight(const struct ramdev_virtq *vq);

/* ---- inflight tracking support (lib/virtq_inflight.c) ---- */

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

/** ramdev_virtq_used_idx - the used idx the device published last. */
RAMDEV_EXPORT uint16_t ramdev_virtq_used_idx(const struct ramdev_virtq *vq);

#ifdef __cplusplus
}
#endif

#endif /* RAMDEV_VIRTQ_H */
