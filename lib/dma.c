// SPDX-License-Identifier: MIT
/*
 * DMA: map guest-physical ranges for device models (include/ramdev/dma.h).
 *
 * RAM and RAMD ranges are mapped in place; MMIO (and RAMD under the
 * QEMU_BOUNCE policy) goes through the bounded bounce pool of
 * lib/dma_bounce.c.  A mapping holds a reference on its region so a
 * hot-removed region's memory is not released under a running DMA.
 * Scatter-gather lists and descriptor chains are in lib/dma_sg.c, copies
 * by guest address and through a mapped segment in lib/dma_copy.c; the
 * context, the segment magic and what map and unmap share in
 * lib/dma_ctx.h.
 */
#include "dma_ctx.h" /* first: it defines _LGPL_SOURCE for liburcu */

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "ramdev/access.h"

/* ---- context ---- */

int ramdev_dma_new(struct ramdev_dma **out, struct ramdev_as *as,
		   const struct ramdev_dma_config *cfg)
{
	struct ramdev_dma_config def = { RAMDEV_DMA_DIRECT, 0, NULL };
	struct ramdev_dma *dma;
	size_t size;

	if (!out || !as)
		return -EINVAL;
	if (!cfg)
		cfg = &def;
	size = cfg->bounce_size ? cfg->bounce_size : RAMDEV_DMA_BOUNCE_DEFAULT;
	if ((cfg->policy != RAMDEV_DMA_DIRECT &&
	     cfg->policy != RAMDEV_DMA_QEMU_BOUNCE) ||
	    size > RAMDEV_DMA_BOUNCE_MAX)
		return -EINVAL;
	dma = calloc(1, sizeof(*dma));
	if (!dma)
		return -ENOMEM;
	if (ramdev_dma_pool_init(&dma->pool, cfg->policy, size)) {
		free(dma);
		return -ENOMEM;
	}
	if (ramdev_dma_stats_init(&dma->stats)) {
		ramdev_dma_pool_fini(&dma->pool);
		free(dma);
		return -ENOMEM;
	}
	dma->as = as;
	dma->policy = cfg->policy;
	dma->owner = cfg->owner;
	*out = dma;
	return 0;
}

void ramdev_dma_free(struct ramdev_dma *dma)
{
	uint64_t v[DMA_ST_N], live;

	if (!dma)
		return;
	ramdev_dma_stats_sum(&dma->stats, v);
	live = v[DMA_ST_DIRECT] + v[DMA_ST_BOUNCED] + v[DMA_ST_INDIRECT] -
	       v[DMA_ST_UNMAPS];
	if (live) /* their regions stay referenced: a leak, not a crash */
		dma_log(dma, LOG_ERR, "freed with %llu segment(s) still mapped",
			(unsigned long long)live);
	ramdev_dma_stats_fini(&dma->stats);
	ramdev_dma_pool_fini(&dma->pool);
	free(dma);
}

enum ramdev_dma_policy ramdev_dma_policy(struct ramdev_dma *dma)
{
	return dma ? dma->policy : RAMDEV_DMA_DIRECT;
}

struct ramdev_as *ramdev_dma_as(struct ramdev_dma *dma)
{
	return dma ? dma->as : NULL;
}

void ramdev_dma_get_stats(struct ramdev_dma *dma, struct ramdev_dma_stats *st)
{
	uint64_t v[DMA_ST_N];

	if (!st)
		return;
	if (!dma) {
		memset(st, 0, sizeof(*st));
		return;
	}

	ramdev_dma_stats_sum(&dma->stats, v);
	st->maps_direct = v[DMA_ST_DIRECT];
	st->maps_bounced = v[DMA_ST_BOUNCED];
	st->bounce_retries = v[DMA_ST_RETRIES];
	st->bounce_failures = v[DMA_ST_FAILURES];
	st->bytes_mapped = v[DMA_ST_BYTES];
	st->maps_indirect = v[DMA_ST_INDIRECT];
}

int ramdev_dma_on_free(struct ramdev_dma *dma, void (*fn)(void *opaque),
		       void *opaque)
{
	if (!dma || !fn)
		return -EINVAL;
	return ramdev_dma_pool_on_free(&dma->pool, fn, opaque);
}

/* ---- map / unmap ---- */

/*
 * Translate and take a reference (map_sg takes them for a run of segments
 * at once instead).  The caller holds the RCU read lock: the reference
 * must be taken while the view that returned the region is still
 * protected, or the region could be freed between the two.
 */
static int lookup_ref(struct ramdev_dma *dma, uint64_t gpa, uint64_t len,
		      struct ramdev_xlate *x)
{
	int ret = ramdev_as_translate(dma->as, gpa, len, x);

	if (!ret)
		ramdev_region_ref(x->region);
	return ret;
}

/*
 * Fill a TO_DEVICE bounce buffer from the region the map holds a reference
 * on (@x->region at @x->offset), never from a new translation of the guest
 * address: a BAR moved between the translation and the fill must not give
 * the device another region's bytes.  DIRECT: only MMIO is bounced, through
 * its callbacks.  QEMU_BOUNCE: as QEMU's address_space_map() does with
 * flatview_read(): RAMD too goes through its per-access ops table, at most
 * 8 bytes per indirect call.
 */
static int bounce_fill(struct ramdev_dma *dma, struct ramdev_dma_seg *seg,
		       const struct ramdev_xlate *x)
{
	return ramdev_as_region_copy(dma->as, x->region, x->offset, seg->base,
				     seg->len, false,
				     dma->policy == RAMDEV_DMA_QEMU_BOUNCE);
}

/* @whole: all of the range or nothing (-EAGAIN), see
 * ramdev_dma_map_xlated(). */
static int map_bounce(struct ramdev_dma *dma, struct ramdev_dma_seg *seg,
		      const struct ramdev_xlate *x, bool whole)
{
	size_t want = x->len > SIZE_MAX ? SIZE_MAX : (size_t)x->len;
	void *buf;
	uint32_t tag;
	int ret;

	ret = ramdev_dma_pool_get(&dma->pool, want, &buf, &seg->len, &tag);
	if (ret == -ENOBUFS)
		dma_count(dma, DMA_ST_FAILURES, 1);
	if (ret)
		return ret;
	if (whole && seg->len < want) {
		ramdev_dma_pool_put(&dma->pool, buf, tag);
		return -EAGAIN;
	}
	seg->base = buf;
	seg->kind = RAMDEV_SEG_RAM;
	seg->bounce = tag;
	if (seg->dir & RAMDEV_DMA_TO_DEVICE) {
		ret = bounce_fill(dma, seg, x);
		if (ret) {
			ramdev_dma_pool_put(&dma->pool, buf, tag);
			return ret;
		}
	} else {
		/* Device-writable only: unmap copies back `written` bytes
		 * counted from the start, which may cover bytes the device
		 * never wrote (a status byte at the end of a larger buffer).
		 * Those must be zeros, not an earlier request's data. */
		memset(buf, 0, seg->len);
	}
	dma_count(dma, DMA_ST_BOUNCED, 1);
	return 0;
}

/*
 * DIRECT policy, pool busy, inside a scatter-gather map: leave the MMIO
 * range unmapped.  ramdev_dma_seg_read/_write reach it through the region's
 * callbacks when the device touches it, so the request goes on at once
 * instead of waiting for bounce space it may never get (a buffer larger
 * than the whole pool would wait forever).
 */
static void map_indirect(struct ramdev_dma *dma, struct ramdev_dma_seg *seg,
			 const struct ramdev_xlate *x)
{
	seg->base = NULL;
	seg->len = x->len > SIZE_MAX ? SIZE_MAX : (size_t)x->len;
	seg->kind = RAMDEV_SEG_MMIO;
	seg->bounce = 0;
	seg->owner = dma;
	dma_count(dma, DMA_ST_INDIRECT, 1);
}

int ramdev_dma_map_check(struct ramdev_dma *dma, uint64_t gpa, uint64_t len,
		     enum ramdev_dma_dir dir, struct ramdev_dma_seg *seg)
{
	if (!dma || !seg) {
		dma_log(dma, LOG_ERR, "map: NULL argument");
		return -EINVAL;
	}
	if (!dma_dir_ok(dir) || !len) {
		dma_guest_log(dma, DMA_ARG,
			"map: bad argument (gpa 0x%llx len 0x%llx dir 0x%x)",
			(unsigned long long)gpa, (unsigned long long)len,
			(unsigned)dir);
		return -EINVAL;
	}
	if (ramdev_dma_range_wraps(gpa, len)) {
		dma_guest_log(dma, DMA_ARG, "map: range wraps (gpa 0x%llx len 0x%llx)",
			(unsigned long long)gpa, (unsigned long long)len);
		return -EOVERFLOW;
	}
	return 0;
}

/*
 * Fill @seg for [@gpa, ...) from @ret and @x, the result of its
 * translation.  @sgm: called for a list (dma_sg.c), which under DIRECT
 * may leave MMIO unmapped (map_indirect), takes the segment's region
 * reference itself (for a run of segments at once) once this returns 0,
 * and counts direct maps for the list; otherwise the caller took a
 * reference with the translation, dropped here if the map fails.  Called
 * inside an RCU read-side section (ramdev_as_rdlock), so a scatter-gather
 * list is mapped under one.
 */
int ramdev_dma_map_xlated(struct ramdev_dma *dma, uint64_t gpa,
			  enum ramdev_dma_dir dir, struct ramdev_dma_seg *seg,
			  int ret, const struct ramdev_xlate *x,
			  struct dma_sg_map *sgm)
{
	bool in_sg = sgm != NULL;

	/* Until the map succeeds the segment is "never mapped" for unmap. */
	*seg = (struct ramdev_dma_seg){ .gpa = gpa, .dir = dir };
	if (ret) {
		if (ret == -EFAULT)
			dma_guest_log(dma, DMA_UNASSIGNED, "map: gpa 0x%llx unassigned",
				(unsigned long long)gpa);
		return ret;
	}
	seg->region_offset = x->offset;
	if (dma_needs_bounce(dma, x->kind)) {
		/* Deferring (map_sg, DIRECT): bounce a piece only whole.  A
		 * piece split between bounce and callbacks would reach the
		 * device in two orders (bounce at unmap, callbacks at once)
		 * and a fragmented pool could cut it into dozens of segments
		 * (review finding). */
		bool defer = in_sg && dma->policy == RAMDEV_DMA_DIRECT;

		ret = map_bounce(dma, seg, x, defer);
		if (ret == -EAGAIN && defer) {
			map_indirect(dma, seg, x);
			ret = 0;
		}
		if (ret == -EAGAIN)
			dma_count(dma, DMA_ST_RETRIES, 1);
		if (ret) {
			if (!in_sg)
				ramdev_region_unref(x->region);
			return ret;
		}
		dma_count(dma, DMA_ST_BYTES, seg->len);
	} else {
		dma_map_direct(seg, x);
		if (in_sg) {
			sgm->direct++;
			sgm->bytes += seg->len;
		} else {
			/* Both counters in one slot lookup. */
			ramdev_dma_stats_add2(&dma->stats, DMA_ST_DIRECT, 1,
					      DMA_ST_BYTES, seg->len);
		}
	}
	seg->region = x->region;
	seg->dir = SEG_MAPPED | dir;
	return 0;
}

/* One map outside a list: checked, translated with a reference. */
static int map_one(struct ramdev_dma *dma, uint64_t gpa, uint64_t len,
		   enum ramdev_dma_dir dir, struct ramdev_dma_seg *seg)
{
	struct ramdev_xlate x;
	int ret = ramdev_dma_map_check(dma, gpa, len, dir, seg);

	if (ret)
		return ret;
	ret = lookup_ref(dma, gpa, len, &x);
	return ramdev_dma_map_xlated(dma, gpa, dir, seg, ret, &x, NULL);
}

int ramdev_dma_map(struct ramdev_dma *dma, uint64_t gpa, uint64_t len,
		   enum ramdev_dma_dir dir, struct ramdev_dma_seg *seg)
{
	struct ramdev_as_guard_frame gf;
	int ret;

	ramdev_dma_guard_enter(&gf, dma);
	ramdev_as_rdlock();
	ret = map_one(dma, gpa, len, dir, seg);
	ramdev_as_rdunlock();
	ramdev_as_guard_exit(&gf);
	return ret;
}

/* Why a claim (dma_unmap_claim) failed, in the log (caller bugs: not
 * rate-limited). */
void ramdev_dma_unmap_claim_failed(struct ramdev_dma *dma,
				   const struct ramdev_dma_seg *seg,
				   uint32_t old, bool won)
{
	if (won)
		dma_log(dma, LOG_ERR, "unmap: mapped segment without a region "
			"(gpa 0x%llx len 0x%zx): not a segment of map",
			(unsigned long long)seg->gpa, seg->len);
	else if ((old & SEG_MAGIC_MASK) == SEG_UNMAPPED)
		dma_log(dma, LOG_ERR,
			"unmap: segment unmapped twice (gpa 0x%llx len 0x%zx)",
			(unsigned long long)seg->gpa, seg->len);
	else
		dma_log(dma, LOG_ERR,
			"unmap: segment was never mapped (dir field 0x%x)",
			(unsigned)old);
}

void ramdev_dma_unmap_bounce(struct ramdev_dma *dma,
			     struct ramdev_dma_seg *seg, size_t written)
{
	int ret = 0;

	/* Exactly the bytes the device wrote, into the region the map holds
	 * a reference on (not what seg->gpa maps now: a BAR moved meanwhile
	 * must not get half of the buffer).  MMIO through its callbacks;
	 * under QEMU_BOUNCE RAMD too, per access through its ops table, as
	 * QEMU's address_space_unmap() -> address_space_write() does (QEMU
	 * translates the address again there; ramdev does not). */
	if (written && (seg->dir & RAMDEV_DMA_FROM_DEVICE))
		ret = ramdev_as_region_copy(dma->as, seg->region,
					    seg->region_offset, seg->base,
					    written, true,
					    dma->policy ==
						    RAMDEV_DMA_QEMU_BOUNCE);
	if (ret)
		dma_guest_log(dma, DMA_COPYBACK,
			      "unmap: copy-back to gpa 0x%llx len 0x%zx: %d",
			      (unsigned long long)seg->gpa, written, ret);
	if (ramdev_dma_pool_put(&dma->pool, seg->base, seg->bounce))
		dma_log(dma, LOG_ERR,
			"unmap: bounce buffer %p tag 0x%x not in use",
			seg->base, (unsigned)seg->bounce);
}

void ramdev_dma_unmap(struct ramdev_dma *dma, struct ramdev_dma_seg *seg,
		      size_t written)
{
	struct ramdev_as_guard_frame gf;
	struct ramdev_region *r;

	if (!dma || !seg) {
		dma_log(dma, LOG_ERR, "unmap: NULL argument");
		return;
	}
	ramdev_dma_guard_enter(&gf, dma); /* the copy-back */
	r = dma_unmap_one(dma, seg, written);
	ramdev_as_guard_exit(&gf);
	if (r) {
		ramdev_region_unref(r);
		dma_count(dma, DMA_ST_UNMAPS, 1);
	}
}
