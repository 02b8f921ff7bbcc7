/* SPDX-License-Identifier: MIT */
/*
 * virtqueue private header: the split ring as the driver lays it out in
 * guest memory (VIRTIO 1.2 section 2.7: descriptor, avail and used ring
 * fields), the barriers that order it when it lives in device memory, and
 * the ThreadSanitizer annotations of the ring words both sides share.
 * Nothing here knows the queue object (queue.h).
 */
#ifndef RAMDEV_VIRTQ_RING_H
#define RAMDEV_VIRTQ_RING_H

#include <stdint.h>

#include "ramdev/access.h"

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

/** One descriptor as read from guest memory, in host order. */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
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

#endif /* RAMDEV_VIRTQ_RING_H */
