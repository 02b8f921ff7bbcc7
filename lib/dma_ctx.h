/* SPDX-License-Identifier: MIT */
/*
 * DMA layer, private: the context and the segment magic, shared by
 * lib/dma.c (the context, map and unmap) and lib/dma_copy.c (copies by
 * guest address and through a mapped segment).
 *
 * ramdev_dma_seg private fields: `dir` carries a magic in its upper bits
 * while the segment is mapped and another once it was unmapped, so a double
 * unmap or an unmap of garbage is caught and logged instead of corrupting
 * the pool or a region's reference count.
 */
#ifndef RAMDEV_DMA_CTX_H
#define RAMDEV_DMA_CTX_H

#include "as/as_lib.h" /* first: it defines _LGPL_SOURCE for liburcu */

#include "dma_priv.h"

#define SEG_MAGIC_MASK 0xffffff00u
#define SEG_MAPPED 0x6d617000u   /* "map" */
#define SEG_UNMAPPED 0x64656400u /* "ded" */
#define SEG_DIR_MASK 0xffu
/* RAM segments: the widest exact access the host has (the access core caps
 * it at ramdev_wide_limit()), for memcpy speed. */
#define SEG_RAM_WIDTH 64u

struct ramdev_dma {
	struct ramdev_as *as;
	enum ramdev_dma_policy policy;
	struct ramdev_dma_pool pool;
	struct ramdev_dma_stat_set stats;
	const void *owner; /* re-entrancy guard (as.h), engaged per call */
};

/* The DMA layer's part of the re-entrancy guard (as.h, dma.h): every call
 * that can reach MMIO engages the context's owner on the calling thread,
 * with a frame on its stack (ramdev_as_guard_exit before it returns). */
static inline void ramdev_dma_guard_enter(struct ramdev_as_guard_frame *f,
					  const struct ramdev_dma *dma)
{
	ramdev_as_guard_enter(f, dma ? dma->owner : NULL);
}

/*
 * Messages go to the address space's log.  Guest-triggerable ones (a bad
 * descriptor address) are rate-limited there; caller bugs (a double unmap)
 * are not, they should be seen every time.
 */
#define dma_guest_log(dma, kind, ...) \
	ramdev_as_guest_logf((dma)->as, RAMDEV_AS_LOG_##kind, __VA_ARGS__)
#define dma_log(dma, level, ...) \
	ramdev_as_logf((dma) ? (dma)->as : NULL, level, __VA_ARGS__)

/* -EOVERFLOW when [gpa, gpa + len) wraps past 2^64 (len > 0). */
static inline int ramdev_dma_range_wraps(uint64_t gpa, uint64_t len)
{
	uint64_t last;

	return __builtin_add_overflow(gpa, len - 1, &last) ? -EOVERFLOW : 0;
}

#endif /* RAMDEV_DMA_CTX_H */
