/* SPDX-License-Identifier: MIT */
/*
 * virtqueue private header: the queue object (struct ramdev_virtq), its
 * limits and log, and the accessors of its ring fields that pop.c (avail
 * side) and used.c (used side) share.  The ring layout and barriers are in
 * ring.h, the popped element in elem.h.
 *
 * The files of lib/virtq/ follow a queue's life in one direction: queue.c
 * (creation, configuration, logging, getters, free), pop.c (the avail side
 * and the chain walk), elem.c (the element between pop and push), used.c
 * (push, notifications), inflight.c (vhost-user hooks, resubmit list).
 * Calls go one way, never back: pop.c and used.c call queue.c
 * (ramdev_virtq_fail) and elem.c; queue.c calls elem.c and inflight.c (to
 * free); elem.c and inflight.c call no other file here.
 */
#ifndef RAMDEV_VIRTQ_QUEUE_H
#define RAMDEV_VIRTQ_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ramdev/access.h"
#include "ramdev/virtq.h"
#include "ratelimit.h"
#include "ring.h"

/* Largest queue size (2.7: "Queue Size ... maximum is 32768"). */
#define VIRTQ_MAX_SIZE 32768u
/* Default cap on segments per element (ramdev_virtq_config.max_segs). */
#define VIRTQ_DEFAULT_MAX_SEGS 1024u
/* Largest max_segs accepted (virtq.h): a chain has at most 32768 direct
 * descriptors plus one indirect table of 65535 entries; a DMA split of a
 * buffer across regions adds pieces, and 2^16 keeps the per-queue scratch
 * (and virtio-blk's per-request arrays) bounded: 2^16 * 64 bytes. */
#define VIRTQ_MAX_SEGS RAMDEV_VIRTQ_MAX_SEGS
/* Indirect table cap: entries are addressed by a le16 next (2.7.5.3). */
#define VIRTQ_MAX_INDIRECT 65535u
/* Total length of a chain (2.7.5.2: not above 2^32 bytes). */
#define VIRTQ_MAX_CHAIN_LEN (UINT64_C(1) << 32)

/* Guest-triggerable messages: at most this many per second per queue. */
#define VIRTQ_LOG_BURST 10u

/* Indirect tables up to this size (256 entries) are copied in one go. */
#define VIRTQ_ITAB_BYTES 4096u

/** A ring area translated once at creation, with a region reference. */
struct virtq_area {
	uint8_t *host;                /* host address of the area's first byte */
	struct ramdev_region *region; /* reference held until free */
	uint64_t offset;              /* of the area in @region (dirty log) */
	bool dev;                     /* in a RAMD region: device memory */
};

/*
 * The log callback and its opaque pointer, published together: set_log()
 * allocates a new pair and swaps the pointer atomically, so a message never
 * pairs one call's function with another call's opaque.  Replaced pairs
 * stay allocated until the queue is freed (a thread may still be using
 * one), on the retired list.
 */
struct virtq_log_pair {
	ramdev_log_fn *fn;
	void *opaque;
	struct virtq_log_pair *retired;
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
	/* A copy of the indirect table being walked (pop.c). */
	uint8_t itab[VIRTQ_ITAB_BYTES];

	struct virtq_log_pair *log;     /* atomic: see struct virtq_log_pair */
	struct virtq_log_pair *log_old; /* retired pairs, freed with the queue */
	/* ramdev_virtq_new() has no log callback yet: a configuration error
	 * is kept here (written before the queue is returned, read-only
	 * after) and logged once, by set_log() or the first pop(), whichever
	 * takes log_pending (atomic exchange) first. */
	bool log_deferred;
	bool log_pending;
	char pending[256];
	struct ramdev_ratelimit log_rl; /* of ramdev_virtq_fail() */

	/* inflight.c: hooks (vhost-user inflight tracking) and heads to pop
	 * again before the avail ring (resubmission, pop.c). */
	struct ramdev_virtq_hooks hooks;
	uint16_t *resubmit;
	unsigned resubmit_n, resubmit_pos;
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

/* queue.c: log the configuration error kept by ramdev_virtq_new(), once
 * (set_log() or the first pop(), whichever comes first). */
void ramdev_virtq_flush_pending(struct ramdev_virtq *vq);

/* inflight.c: free the resubmit list (ramdev_virtq_free()). */
void ramdev_virtq_resubmit_free(struct ramdev_virtq *vq);

/* ---- ring field accessors: one exact little-endian access each ----
 * The words the driver writes concurrently (idx, flags, events) go through
 * virtq_word_ld/_st: the same access, made visible to TSan as what it is
 * (see ring.h). */

static inline uint16_t virtq_avail_idx(struct ramdev_virtq *vq)
{
	return virtq_word_ld(vq->avail.host + VIRTQ_RING_IDX);
}

static inline uint16_t virtq_avail_flags(struct ramdev_virtq *vq)
{
	return virtq_word_ld(vq->avail.host + VIRTQ_RING_FLAGS);
}

/* avail->ring[slot]; slot < size (2.7.6). */
static inline uint16_t virtq_avail_ring(struct ramdev_virtq *vq, unsigned slot)
{
	return ramdev_ld_le16(vq->avail.host + VIRTQ_RING_ENTRIES + 2u * slot);
}

/* used_event sits after avail->ring[size] (2.7.6). */
static inline uint16_t virtq_used_event(struct ramdev_virtq *vq)
{
	return virtq_word_ld(vq->avail.host + VIRTQ_RING_ENTRIES +
			     2u * vq->cfg.size);
}

/*
 * Every store to the used ring goes into the dirty log (a migration that
 * copies the pages the log names must not lose a completion), after the
 * store: a log taken between the two then leaves the bit for the next
 * round.  A no-op call when logging is off.
 */
static inline void virtq_used_dirty(struct ramdev_virtq *vq, uint64_t off,
				    uint64_t len)
{
	ramdev_region_dirty_mark(vq->used.region, vq->used.offset + off, len);
}

/* avail_event sits after used->ring[size] (2.7.8). */
static inline void virtq_set_avail_event(struct ramdev_virtq *vq, uint16_t v)
{
	uint64_t off = VIRTQ_RING_ENTRIES +
		       (uint64_t)VIRTQ_USED_ELEM_SIZE * vq->cfg.size;

	virtq_word_st(vq->used.host + off, v);
	virtq_used_dirty(vq, off, 2);
}

#endif /* RAMDEV_VIRTQ_QUEUE_H */
