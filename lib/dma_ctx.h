/* SPDX-License-Identifier: MIT */
/*
 * DMA layer, private: the context and the segment magic, shared by
 * lib/dma.c (the context, map and unmap), lib/dma_sg.c (scatter-gather
 * lists and descriptor chains) and lib/dma_copy.c (copies by guest address
 * and through a mapped segment); the helpers map and unmap share.
 *
 * ramdev_dma_seg private fields: `dir` carries a magic in its upper bits
 * while the segment is mapped and another once it was unmapped, so a double
 * unmap or an unmap of garbage is caught and logged instead of corrupting
 * the pool or a region's reference count.
 */
#ifndef RAMDEV_DMA_CTX_H
#define RAMDEV_DMA_CTX_H

#include "as/as_lib.h" /* first: it defines _LGPL_SOURCE for liburcu */

#include <stdint.h>
#include <syslog.h>

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

/* ---- shared by map/unmap (dma.c) and the lists (dma_sg.c) ---- */

static inline void dma_count(struct ramdev_dma *dma, enum dma_stat i,
			     uint64_t n)
{
	ramdev_dma_stats_add(&dma->stats, i, n);
}

static inline bool dma_dir_ok(enum ramdev_dma_dir dir)
{
	return dir == RAMDEV_DMA_TO_DEVICE || dir == RAMDEV_DMA_FROM_DEVICE ||
	       dir == RAMDEV_DMA_BIDIR;
}

static inline bool dma_needs_bounce(const struct ramdev_dma *dma,
				    enum ramdev_region_kind kind)
{
	if (kind == RAMDEV_REGION_RAM)
		return false;
	if (kind == RAMDEV_REGION_RAMD)
		return dma->policy == RAMDEV_DMA_QEMU_BOUNCE;
	return true;
}

/* RAM or RAMD mapped in place. */
static inline void dma_map_direct(struct ramdev_dma_seg *seg,
				  const struct ramdev_xlate *x)
{
	seg->base = x->host;
	seg->len = x->len > SIZE_MAX ? SIZE_MAX : (size_t)x->len;
	seg->kind = x->kind == RAMDEV_REGION_RAMD ? RAMDEV_SEG_DEV
						  : RAMDEV_SEG_RAM;
	seg->bounce = 0;
}

/*
 * A scatter-gather list being mapped, under one read-side section: the
 * flat range of the last translation (the next segment is usually in it:
 * a request's header, data and status), and the direct maps counted once
 * for the list instead of per segment.
 */
struct dma_sg_map {
	struct ramdev_as_hint *hint; /* the caller's, for its section */
	uint64_t direct, bytes;
	struct ramdev_region *run; /* region of the last segments ... */
	unsigned nrun;             /* ... whose references are not taken yet */
	bool dev;                  /* a segment in device memory, or bounced */
};

/* dma.c: the checks of a map's arguments, logging the one that fails:
 * 0, -EINVAL or -EOVERFLOW. */
int ramdev_dma_map_check(struct ramdev_dma *dma, uint64_t gpa, uint64_t len,
			 enum ramdev_dma_dir dir, struct ramdev_dma_seg *seg);
/* dma.c: fill @seg for @gpa from its translation (@ret, @x): bounce,
 * indirect MMIO or in place; see there. */
int ramdev_dma_map_xlated(struct ramdev_dma *dma, uint64_t gpa,
			  enum ramdev_dma_dir dir, struct ramdev_dma_seg *seg,
			  int ret, const struct ramdev_xlate *x,
			  struct dma_sg_map *sgm);
/* dma.c: why an unmap could not claim @seg, in the log. */
void ramdev_dma_unmap_claim_failed(struct ramdev_dma *dma,
				   const struct ramdev_dma_seg *seg,
				   uint32_t old, bool won)
	__attribute__((cold));
/* dma.c: copy a bounce buffer back (@written bytes) and free it. */
void ramdev_dma_unmap_bounce(struct ramdev_dma *dma,
			     struct ramdev_dma_seg *seg, size_t written);

/*
 * Claim @seg for unmapping: flip its magic from mapped to unmapped with a
 * CAS, so of two racing unmaps of one segment only one proceeds.
 */
static inline bool dma_unmap_claim(struct ramdev_dma *dma,
				   struct ramdev_dma_seg *seg)
{
	uint32_t old = __atomic_load_n(&seg->dir, __ATOMIC_RELAXED);

	/* seg->region is read only by the thread whose CAS won: a losing
	 * unmap of the same segment must not read it while the winner clears
	 * it.  A mapped segment always has a region (ramdev_dma_map_xlated
	 * sets it before the magic), so a winner that finds none was handed
	 * garbage. */
	if ((old & SEG_MAGIC_MASK) == SEG_MAPPED &&
	    __atomic_compare_exchange_n(&seg->dir, &old,
					SEG_UNMAPPED | (old & SEG_DIR_MASK),
					false, __ATOMIC_ACQ_REL,
					__ATOMIC_RELAXED)) {
		if (seg->region)
			return true;
		ramdev_dma_unmap_claim_failed(dma, seg, old, true);
		return false;
	}
	ramdev_dma_unmap_claim_failed(dma, seg, old, false);
	return false;
}

/*
 * Everything of an unmap but dropping the region reference: returns the
 * region whose reference the caller drops, or NULL (not a mapped segment).
 * Inline: a scatter-gather unmap runs it per segment.
 */
static inline struct ramdev_region *dma_unmap_one(struct ramdev_dma *dma,
						  struct ramdev_dma_seg *seg,
						  size_t written)
{
	struct ramdev_region *r;

	if (!dma_unmap_claim(dma, seg))
		return NULL;
	if (written > seg->len) {
		dma_log(dma, LOG_WARNING,
			"unmap: written 0x%zx > segment length 0x%zx, clamped",
			written, seg->len);
		written = seg->len;
	}
	if (!(seg->dir & RAMDEV_DMA_FROM_DEVICE))
		written = 0;
	if (seg->bounce)
		ramdev_dma_unmap_bounce(dma, seg, written);
	else if (written)
		ramdev_region_dirty_mark(seg->region, seg->region_offset,
					 written);
	r = seg->region;
	seg->region = NULL;
	return r;
}

#endif /* RAMDEV_DMA_CTX_H */
