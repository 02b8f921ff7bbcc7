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
	uint64_t offset;              /* of the area in @region (dirty log) */
	bool dev;                     /* in a RAMD region: device memory */
};

/*
 * Barriers for device memory.  A ring or buffer in a RAMD region may be a
 * BAR the VMM mapped write-combining (sysfs resourceN_wc) or, on AArch64,
 * Device / Normal-NC memory.  There the CPU's ordinary ordering does not
 * hold, and the C11 fences the RAM path uses emit nothing on x86 (release
 * and acquire are free under TSO):
 * - x86: the WC memory type is weakly ordered (Intel SDM vol. 3, "Methods
 *   of Caching Available" and "Memory Ordering"): WC stores sit in the
 *   write-combining buffers and may become visible after later stores, and
 *   WC reads may be speculative.  sfence drains the WC buffers before any
 *   later store; lfence completes every earlier load before a later one
 *   starts.
 * - AArch64: dmb in the outer-shareable domain (the device's observers are
 *   not in the inner one), store-store (oshst) or load-load/store (oshld).
 * Elsewhere a full fence.
 */
static inline void virtq_dev_wmb(void)
{
#if defined(__x86_64__)
	__asm__ __volatile__("sfence" ::: "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("dmb oshst" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

static inline void virtq_dev_rmb(void)
{
#if defined(__x86_64__)
	__asm__ __volatile__("lfence" ::: "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("dmb oshld" ::: "memory");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/*
 * ThreadSanitizer and the ring.  The split ring is shared with the driver
 * (a guest, or drivers/vring_driver.c on another thread in the tests) and
 * ordered by the protocol's barriers (2.7.13): the driver writes
 * descriptors and avail entries, a release barrier, then avail->idx; the
 * device reads avail->idx, an acquire barrier, then the entries, and
 * symmetrically for the used ring.  TSan does not model stand-alone fences
 * (and the device-memory barriers are inline assembly), so it sees plain
 * loads and stores racing.  Under -fsanitize=thread only:
 *  - the ring words both sides write and read concurrently by design
 *    (avail and used idx, the ring flags, used_event and avail_event) are
 *    accessed as relaxed atomics of their width, which on every host the
 *    library supports is the same single aligned load or store as the
 *    exact access ramdev_ld/_st makes (so TSan checks the rest, not them);
 *  - each barrier that publishes or consumes an idx is annotated on that
 *    idx's address: __tsan_release just before the store that publishes
 *    (what was written before it, descriptors, entries, buffers, the used
 *    element, happens before the other side's acquire), __tsan_acquire
 *    just after the load that consumes, next to the barrier.
 * Every other ring and buffer access stays a plain, instrumented access,
 * so a write the protocol does not order (a device touching an entry it
 * has not acquired, a driver reusing a descriptor before the used idx said
 * so) is still reported.  Outside TSan builds the macros compile to the
 * ordinary exact accesses and to nothing.
 */
#if defined(__SANITIZE_THREAD__)
#define VIRTQ_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define VIRTQ_TSAN 1
#endif
#endif

#ifdef VIRTQ_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define virtq_tsan_acquire(p) __tsan_acquire((void *)(p))
#define virtq_tsan_release(p) __tsan_release((void *)(p))
static inline uint16_t virtq_word_ld(const uint8_t *p)
{
	uint16_t v = __atomic_load_n((const uint16_t *)(const void *)p,
				     __ATOMIC_RELAXED);

	return RAMDEV_LE(16, v);
}

static inline void virtq_word_st(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)(void *)p, RAMDEV_LE(16, v),
			 __ATOMIC_RELAXED);
}
#else
#define virtq_tsan_acquire(p) ((void)(p))
#define virtq_tsan_release(p) ((void)(p))
#define virtq_word_ld(p) ramdev_ld_le16(p)
#define virtq_word_st(p, v) ramdev_st_le16(p, v)
#endif

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
	/* A copy of the indirect table being walked (virtq_chain.c). */
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
	bool dev;                     /* a segment in device memory (RAMDEV_SEG_DEV)
				       * or bounced: see virtq_dev_wmb() */
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

/**
 * ramdev_virtq_chain_pop - walk and map the chain starting at @head.
 * Returns: 1 with *@out set; -EIO (queue now broken); -ENOBUFS (QEMU_BOUNCE
 * pool busy, queue now broken); -ENOMEM (nothing consumed).
 */
int ramdev_virtq_chain_pop(struct ramdev_virtq *vq, uint16_t head,
			   struct ramdev_virtq_elem **out);

/** ramdev_virtq_elem_release - unmap @elem's segments (the first @written
 * device-writable bytes copied back from bounce buffers and marked in the
 * dirty log) and free it (or keep it in the queue's cache).  @elem is gone
 * afterwards: read what you need of it first. */
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
