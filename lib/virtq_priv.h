/* SPDX-License-Identifier: MIT */
/*
 * Private declarations of the virtqueue layer: the queue structure, the
 * split-ring layout (VIRTIO 1.2 section 2.7) and the helpers shared by
 * lib/virtq.c (ring, notifications, push) and lib/virtq_chain.c (the
 * descriptor chain walk and the mapping of its buffers).
 */
#ifndef RAMDEV_VIRTQ_PRIV_H
#define RAMDEV_VIRTQ_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ramdev/access.h"
#include "ramdev/virtq.h"
#include "ratelimit.h"

/* Descriptor flags, VIRTIO 1.2 section 2.7.5. */
#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u
#define VIRTQ_DESC_F_INDIRECT 4u

/* Ring flags: avail (2.7.6) and used (2.7.8). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_USED_F_NO_NOTIFY 1u

/* Sizes of the ring structures (2.7, table "Virtqueue Part"). */
#define VIRTQ_DESC_SIZE 16u
#define VIRTQ_USED_ELEM_SIZE 8u

/* Field offsets inside a descriptor (struct virtq_desc, 2.7.5). */
#define VIRTQ_DESC_ADDR 0u
#define VIRTQ_DESC_LEN 8u
#define VIRTQ_DESC_FLAGS 12u
#define VIRTQ_DESC_NEXT 14u

/* Ring header: le16 flags at 0, le16 idx at 2, ring[] at 4. */
#define VIRTQ_RING_FLAGS 0u
#define VIRTQ_RING_IDX 2u
#define VIRTQ_RING_ENTRIES 4u

/* Largest queue size (2.7: "Queue Size ... maximum is 32768"). */
#define VIRTQ_MAX_SIZE 32768u
/* Default cap on segments per element (ramdev_virtq_config.max_segs). */
#define VIRTQ_DEFAULT_MAX_SEGS 1024u
/* Indirect table cap: entries are addressed by a le16 next (2.7.5.3). */
#define VIRTQ_MAX_INDIRECT 65535u
/* Total length of a chain (2.7.5.2: not above 2^32 bytes). */
#define VIRTQ_MAX_CHAIN_LEN (UINT64_C(1) << 32)

/* Guest-triggerable messages: at most this many per second per queue. */
#define VIRTQ_LOG_BURST 10u

/** One descriptor as read from guest memory, in host order. */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* Elements with room for this many segments are kept for reuse (most
 * chains: a header, a few data buffers, a status byte), at most
 * VIRTQ_ELEM_CACHE of them per queue. */
#define VIRTQ_ELEM_SEGS 8u
#define VIRTQ_ELEM_CACHE 32u

/* Indirect tables up to this size (256 entries) are copied in one go. */
#define VIRTQ_ITAB_BYTES 4096u

/** A ring area translated once at creation, with a region reference. */
struct virtq_area {
	uint8_t *host;                /* host address of the area's first byte */
	struct ramdev_region *region; /* reference held until free */
};

struct ramdev_virtq {
	struct ramdev_dma *dma;
	struct ramdev_as *as;
	struct ramdev_virtq_config cfg;

	struct virtq_area desc;  /* descriptor table */
	struct virtq_area avail; /* available (driver) ring */
	struct virtq_area used;  /* used (device) ring */

	uint16_t last_avail; /* next avail ring slot to pop */
	uint16_t used_idx;   /* shadow of used->idx (the device owns it) */
	uint16_t signalled;  /* used_idx at the last should_notify() */
	uint32_t unsignalled; /* pushes since then (u16 wrap guard) */
	bool signalled_valid; /* false after set_last_avail() */
	bool notify_on;      /* set_notify(true) is in force */
	unsigned inflight;   /* popped, not pushed */

	enum ramdev_virtq_err err; /* sticky, RAMDEV_VIRTQ_OK while healthy */

	/* Chain walk scratch: guest ranges, then their mapped segments. */
	struct ramdev_sg *sg;
	struct ramdev_dma_seg *segs;
	/* Released elements of VIRTQ_ELEM_SEGS segments, for the next pops. */
	struct virtq_elem_priv *elem_cache;
	unsigned elem_cached;
	/* A copy of the indirect table being walked (virtq_chain.c). */
	uint8_t itab[VIRTQ_ITAB_BYTES];

	ramdev_log_fn *log_fn;
	void *log_opaque;
	/* ramdev_virtq_new() has no log callback yet: a configuration error
	 * is kept here and logged by set_log() or the first pop(). */
	bool log_deferred;
	bool log_pending;
	char pending[256];
	struct ramdev_ratelimit log_rl; /* of ramdev_virtq_fail() */

	/* virtq_inflight.c: hooks (vhost-user inflight tracking) and heads
	 * to pop again before the avail ring (resubmission). */
	struct ramdev_virtq_hooks hooks;
	uint16_t *resubmit;
	unsigned resubmit_n, resubmit_pos;
};

/*
 * One allocation per popped element: the public part, its owner and the
 * segment array right after it.
 */
struct virtq_elem_priv {
	struct ramdev_virtq_elem pub;
	struct ramdev_virtq *owner;
	struct virtq_elem_priv *next; /* in vq->elem_cache */
	unsigned cap;                 /* room in segs[] */
	struct ramdev_dma_seg segs[];
};

/* a + b, or false when it wraps: every guest value goes through this. */
static inline bool virtq_add_ok(uint64_t a, uint64_t b, uint64_t *sum)
{
	return !__builtin_add_overflow(a, b, sum);
}

/**
 * ramdev_virtq_fail - mark @vq broken with @err and log why (rate-limited).
 * Returns: -EIO, for the caller to return.
 */
int ramdev_virtq_fail(struct ramdev_virtq *vq, enum ramdev_virtq_err err,
		      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/** ramdev_virtq_log - log one line through the queue's callback. */
void ramdev_virtq_log(struct ramdev_virtq *vq, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * ramdev_virtq_chain_pop - walk and map the chain starting at @head.
 * Returns: 1 with *@out set; -EIO (queue now broken); -ENOBUFS (QEMU_BOUNCE
 * pool busy, queue now broken); -EAGAIN (bounce pool busy, nothing mapped);
 * -ENOMEM.
 */
int ramdev_virtq_chain_pop(struct ramdev_virtq *vq, uint16_t head,
			   struct ramdev_virtq_elem **out);

/** ramdev_virtq_elem_release - unmap @elem's segments and free it (or
 * keep it in the queue's cache). */
void ramdev_virtq_elem_release(struct ramdev_virtq *vq,
			       struct ramdev_virtq_elem *elem, uint32_t written);

/** ramdev_virtq_elem_cache_free - free the queue's cached elements. */
void ramdev_virtq_elem_cache_free(struct ramdev_virtq *vq);

/* virtq_inflight.c: pop the next head of the resubmit list (1, or -errno
 * as ramdev_virtq_pop()). */
int ramdev_virtq_pop_resubmit(struct ramdev_virtq *vq,
			      struct ramdev_virtq_elem **out);

/* virtq_inflight.c: free the resubmit list (ramdev_virtq_free()). */
void ramdev_virtq_resubmit_free(struct ramdev_virtq *vq);

#endif /* RAMDEV_VIRTQ_PRIV_H */
