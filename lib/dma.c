// SPDX-License-Identifier: MIT
/*
 * DMA: map guest-physical ranges for device models (include/ramdev/dma.h).
 *
 * RAM and RAMD ranges are mapped in place; MMIO (and RAMD under the
 * QEMU_BOUNCE policy) goes through the bounded bounce pool of
 * lib/dma_bounce.c.  A mapping holds a reference on its region so a
 * hot-removed region's memory is not released under a running DMA.
 * Copies by guest address and through a mapped segment are in
 * lib/dma_copy.c; the context and the segment magic in lib/dma_ctx.h.
 */
#include "dma_ctx.h" /* first: it defines _LGPL_SOURCE for liburcu */

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "dma_lib.h"
#include "ramdev/access.h"

static void count(struct ramdev_dma *dma, enum dma_stat i, uint64_t n)
{
	ramdev_dma_stats_add(&dma->stats, i, n);
}

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

static bool dir_ok(enum ramdev_dma_dir dir)
{
	return dir == RAMDEV_DMA_TO_DEVICE || dir == RAMDEV_DMA_FROM_DEVICE ||
	       dir == RAMDEV_DMA_BIDIR;
}

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

static bool needs_bounce(const struct ramdev_dma *dma,
			 enum ramdev_region_kind kind)
{
	if (kind == RAMDEV_REGION_RAM)
		return false;
	if (kind == RAMDEV_REGION_RAMD)
		return dma->policy == RAMDEV_DMA_QEMU_BOUNCE;
	return true;
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

/* @whole: all of the range or nothing (-EAGAIN), see map_one(). */
static int map_bounce(struct ramdev_dma *dma, struct ramdev_dma_seg *seg,
		      const struct ramdev_xlate *x, bool whole)
{
	size_t want = x->len > SIZE_MAX ? SIZE_MAX : (size_t)x->len;
	void *buf;
	uint32_t tag;
	int ret;

	ret = ramdev_dma_pool_get(&dma->pool, want, &buf, &seg->len, &tag);
	if (ret == -ENOBUFS)
		count(dma, DMA_ST_FAILURES, 1);
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
	count(dma, DMA_ST_BOUNCED, 1);
	return 0;
}

static void map_direct(struct ramdev_dma_seg *seg,
		       const struct ramdev_xlate *x)
{
	seg->base = x->host;
	seg->len = x->len > SIZE_MAX ? SIZE_MAX : (size_t)x->len;
	seg->kind = x->kind == RAMDEV_REGION_RAMD ? RAMDEV_SEG_DEV
						  : RAMDEV_SEG_RAM;
	seg->bounce = 0;
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
	count(dma, DMA_ST_INDIRECT, 1);
}

static int map_check(struct ramdev_dma *dma, uint64_t gpa, uint64_t len,
		     enum ramdev_dma_dir dir, struct ramdev_dma_seg *seg)
{
	if (!dma || !seg) {
		dma_log(dma, LOG_ERR, "map: NULL argument");
		return -EINVAL;
	}
	if (!dir_ok(dir) || !len) {
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
 * A scatter-gather list being mapped, under one read-side section: the
 * flat range of the last translation (the next segment is usually in it:
 * a request's header, data and status), and the direct maps counted once
 * for the list instead of per segment.
 */
struct sg_map {
	struct ramdev_as_hint *hint; /* the caller's, for its section */
	uint64_t direct, bytes;
	struct ramdev_region *run; /* region of the last segments ... */
	unsigned nrun;             /* ... whose references are not taken yet */
	bool dev;                  /* a segment in device memory, or bounced */
};

/*
 * Fill @seg for [@gpa, ...) from @ret and @x, the result of its
 * translation.  @sgm: called by map_sg, which under DIRECT may leave MMIO
 * unmapped (map_indirect), takes the segment's region reference itself
 * (for a run of segments at once) once this returns 0, and counts direct
 * maps for the list; otherwise the caller took a reference with the
 * translation, dropped here if the map fails.  Called inside an RCU
 * read-side section (ramdev_as_rdlock), so a scatter-gather list is mapped
 * under one.
 */
static int map_xlated(struct ramdev_dma *dma, uint64_t gpa,
		      enum ramdev_dma_dir dir, struct ramdev_dma_seg *seg,
		      int ret, const struct ramdev_xlate *x, struct sg_map *sgm)
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
	if (needs_bounce(dma, x->kind)) {
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
			count(dma, DMA_ST_RETRIES, 1);
		if (ret) {
			if (!in_sg)
				ramdev_region_unref(x->region);
			return ret;
		}
		count(dma, DMA_ST_BYTES, seg->len);
	} else {
		map_direct(seg, x);
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
	int ret = map_check(dma, gpa, len, dir, seg);

	if (ret)
		return ret;
	ret = lookup_ref(dma, gpa, len, &x);
	return map_xlated(dma, gpa, dir, seg, ret, &x, NULL);
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

/*
 * Claim @seg for unmapping: flip its magic from mapped to unmapped with a
 * CAS, so of two racing unmaps of one segment only one proceeds.
 */
/* Why a claim failed, in the log (caller bugs: not rate-limited). */
static void __attribute__((noinline, cold))
unmap_claim_failed(struct ramdev_dma *dma, const struct ramdev_dma_seg *seg,
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

static inline bool unmap_claim(struct ramdev_dma *dma,
			       struct ramdev_dma_seg *seg)
{
	uint32_t old = __atomic_load_n(&seg->dir, __ATOMIC_RELAXED);

	/* seg->region is read only by the thread whose CAS won: a losing
	 * unmap of the same segment must not read it while the winner clears
	 * it.  A mapped segment always has a region (map_one sets it before
	 * the magic), so a winner that finds none was handed garbage. */
	if ((old & SEG_MAGIC_MASK) == SEG_MAPPED &&
	    __atomic_compare_exchange_n(&seg->dir, &old,
					SEG_UNMAPPED | (old & SEG_DIR_MASK),
					false, __ATOMIC_ACQ_REL,
					__ATOMIC_RELAXED)) {
		if (seg->region)
			return true;
		unmap_claim_failed(dma, seg, old, true);
		return false;
	}
	unmap_claim_failed(dma, seg, old, false);
	return false;
}

static void unmap_bounce(struct ramdev_dma *dma, struct ramdev_dma_seg *seg,
			 size_t written)
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

/*
 * Everything of an unmap but dropping the region reference: returns the
 * region whose reference the caller drops, or NULL (not a mapped segment).
 */
static inline struct ramdev_region *unmap_one(struct ramdev_dma *dma,
					      struct ramdev_dma_seg *seg,
					      size_t written)
{
	struct ramdev_region *r;

	if (!unmap_claim(dma, seg))
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
		unmap_bounce(dma, seg, written);
	else if (written)
		ramdev_region_dirty_mark(seg->region, seg->region_offset,
					 written);
	r = seg->region;
	seg->region = NULL;
	return r;
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
	r = unmap_one(dma, seg, written);
	ramdev_as_guard_exit(&gf);
	if (r) {
		ramdev_region_unref(r);
		count(dma, DMA_ST_UNMAPS, 1);
	}
}

/* ---- scatter-gather ---- */

/*
 * Map the @nsg entries of @sg into @segs[0..max_segs) under the caller's
 * read-side section and guard, the segments' references counted in @sgm
 * (sg_refs() takes them).  *@mapped: segments mapped, also on failure (the
 * caller unmaps them once the references are taken).  0 or -errno.
 */
static int map_list(struct ramdev_dma *dma, const struct ramdev_sg *sg,
		    unsigned nsg, enum ramdev_dma_dir dir,
		    struct ramdev_dma_seg *segs, unsigned max_segs,
		    struct sg_map *sgm, unsigned *mapped)
{
	unsigned n = 0;
	int ret = 0;

	for (unsigned i = 0; i < nsg && !ret; i++) {
		uint64_t gpa = sg[i].gpa, left = sg[i].len;

		/* Reject the whole entry up front, not after mapping half
		 * (map_check logs why). */
		if (!dir_ok(dir) || !left || ramdev_dma_range_wraps(gpa, left))
			ret = map_check(dma, gpa, left, dir, &segs[0]);
		while (!ret && left) {
			struct ramdev_dma_seg *seg = &segs[n];
			struct ramdev_xlate x;

			if (n == max_segs) {
				ret = -E2BIG;
				break;
			}
			ret = ramdev_as_translate_hint(dma->as, gpa, left, &x,
						       sgm->hint);
			if (!ret && !needs_bounce(dma, x.kind)) {
				/* Mapped in place, the usual case. */
				*seg = (struct ramdev_dma_seg){ .gpa = gpa };
				map_direct(seg, &x);
				seg->region = x.region;
				seg->region_offset = x.offset;
				seg->dir = SEG_MAPPED | dir;
				sgm->direct++;
				sgm->bytes += seg->len;
			} else {
				ret = map_xlated(dma, gpa, dir, seg, ret, &x,
						 sgm);
				if (ret)
					break;
			}
			/* One reference per segment, taken per run of
			 * segments in one region (the header, data and
			 * status of a request usually are): one atomic
			 * operation per run. */
			if (seg->region != sgm->run) {
				ramdev_region_ref_n(sgm->run, sgm->nrun);
				sgm->run = seg->region;
				sgm->nrun = 0;
			}
			sgm->nrun++;
			sgm->dev |= seg->kind == RAMDEV_SEG_DEV || seg->bounce;
			gpa += seg->len;
			left -= seg->len;
			n++;
		}
	}
	*mapped = n;
	return ret;
}

/* Take the references of the last run; still under the read lock. */
static void sg_refs(struct sg_map *sgm)
{
	ramdev_region_ref_n(sgm->run, sgm->nrun);
	sgm->run = NULL;
	sgm->nrun = 0;
}

/* The direct maps of a list, in one slot lookup; before a failure's unmap
 * counts them unmapped. */
static void sg_count(struct ramdev_dma *dma, const struct sg_map *sgm)
{
	if (sgm->direct)
		ramdev_dma_stats_add2(&dma->stats, DMA_ST_DIRECT, sgm->direct,
				      DMA_ST_BYTES, sgm->bytes);
}

int ramdev_dma_map_sg(struct ramdev_dma *dma, const struct ramdev_sg *sg,
		      unsigned nsg, enum ramdev_dma_dir dir,
		      struct ramdev_dma_seg *segs, unsigned max_segs)
{
	struct ramdev_as_hint hint = { .valid = false };
	struct sg_map sgm = { .hint = &hint };
	struct ramdev_as_guard_frame gf;
	unsigned n;
	int ret;

	if (!dma || (nsg && (!sg || !segs)))
		return -EINVAL;
	/* One read-side section for the whole list: bounce fills and MMIO
	 * callbacks inside nest in it, as they nest in the address space's
	 * own dispatch. */
	ramdev_dma_guard_enter(&gf, dma);
	ramdev_as_rdlock();
	ret = map_list(dma, sg, nsg, dir, segs, max_segs, &sgm, &n);
	sg_refs(&sgm);
	ramdev_as_rdunlock();
	ramdev_as_guard_exit(&gf);
	sg_count(dma, &sgm);
	if (!ret)
		return (int)n;
	ramdev_dma_unmap_sg(dma, segs, n, 0);
	return ret;
}

/* ---- a descriptor chain, in one read-side section (dma_lib.h) ---- */

void ramdev_dma_chain_begin(struct ramdev_dma_chain *c,
			    struct ramdev_dma *dma)
{
	*c = (struct ramdev_dma_chain){ .dma = dma };
	ramdev_as_rdlock();
}

int ramdev_dma_chain_translate(struct ramdev_dma_chain *c, uint64_t gpa,
			       uint64_t len, struct ramdev_xlate *x)
{
	if (!c->dma)
		return -EINVAL;
	return ramdev_as_translate_hint(c->dma->as, gpa, len, x, &c->hint);
}

int ramdev_dma_chain_map(struct ramdev_dma_chain *c,
			 const struct ramdev_sg *sg, unsigned nout,
			 unsigned nin, struct ramdev_dma_seg *segs,
			 unsigned max_segs, struct ramdev_dma_chain_map *res)
{
	struct ramdev_dma *dma = c->dma;
	struct sg_map sgm = { .hint = &c->hint };
	struct ramdev_as_guard_frame gf;
	unsigned n_in = 0;
	int ret;

	res->out_segs = 0;
	res->in_failed = false;
	res->dev = false;
	if (!dma || c->nundo || ((nout || nin) && (!sg || !segs)))
		return -EINVAL;
	/* As ramdev_dma_map_sg() twice, under the chain's section. */
	ramdev_dma_guard_enter(&gf, dma);
	ret = map_list(dma, sg, nout, RAMDEV_DMA_TO_DEVICE, segs, max_segs,
		       &sgm, &res->out_segs);
	if (!ret && nin) {
		res->in_failed = true;
		ret = map_list(dma, sg + nout, nin, RAMDEV_DMA_FROM_DEVICE,
			       segs + res->out_segs, max_segs - res->out_segs,
			       &sgm, &n_in);
		if (!ret)
			res->in_failed = false;
	}
	sg_refs(&sgm);
	ramdev_as_guard_exit(&gf);
	sg_count(dma, &sgm);
	res->dev = sgm.dev;
	if (!ret)
		return (int)(res->out_segs + n_in);
	/* Unmapped by _end, outside the section: dropping the last
	 * reference of a region removed meanwhile runs its release. */
	c->undo = segs;
	c->nundo = res->out_segs + n_in;
	return ret;
}

void ramdev_dma_chain_end(struct ramdev_dma_chain *c)
{
	ramdev_as_rdunlock();
	if (c->nundo)
		ramdev_dma_unmap_sg(c->dma, c->undo, c->nundo, 0);
	c->nundo = 0;
}

/*
 * Unmap @segs[0..nsegs) as ramdev_dma_unmap per segment, but for the
 * region references, dropped per run of segments in one region (the
 * caller drops the last run's, ul->run x ul->nrun), and the count.
 */
struct sg_unmap {
	struct ramdev_region *run;
	unsigned nrun, unmapped;
};

static void unmap_list(struct ramdev_dma *dma, struct ramdev_dma_seg *segs,
		       unsigned nsegs, size_t written, struct sg_unmap *ul)
{
	for (unsigned i = 0; i < nsegs; i++) {
		size_t w = written < segs[i].len ? written : segs[i].len;
		struct ramdev_region *r = unmap_one(dma, &segs[i], w);

		written -= w;
		if (!r)
			continue;
		if (r != ul->run) {
			ramdev_region_unref_n(ul->run, ul->nrun);
			ul->run = r;
			ul->nrun = 0;
		}
		ul->nrun++;
		ul->unmapped++;
	}
}

/* Drop the last run's references and count the unmaps. */
static void unmap_end(struct ramdev_dma *dma, const struct sg_unmap *ul)
{
	ramdev_region_unref_n(ul->run, ul->nrun);
	if (ul->unmapped)
		count(dma, DMA_ST_UNMAPS, ul->unmapped);
}

void ramdev_dma_unmap_sg(struct ramdev_dma *dma, struct ramdev_dma_seg *segs,
			 unsigned nsegs, size_t written)
{
	struct sg_unmap ul = { NULL, 0, 0 };
	struct ramdev_as_guard_frame gf;

	if (!dma || (nsegs && !segs)) {
		dma_log(dma, LOG_ERR, "unmap: NULL argument");
		return;
	}
	ramdev_dma_guard_enter(&gf, dma); /* the copy-backs */
	unmap_list(dma, segs, nsegs, written, &ul);
	ramdev_as_guard_exit(&gf);
	unmap_end(dma, &ul);
}

void ramdev_dma_unmap_chain(struct ramdev_dma *dma,
			    struct ramdev_dma_seg *segs, unsigned nout,
			    unsigned nin, size_t written)
{
	struct sg_unmap ul = { NULL, 0, 0 };
	struct ramdev_as_guard_frame gf;

	if (!dma || ((nout || nin) && !segs)) {
		dma_log(dma, LOG_ERR, "unmap: NULL argument");
		return;
	}
	ramdev_dma_guard_enter(&gf, dma); /* the copy-backs */
	unmap_list(dma, segs, nout, 0, &ul);
	unmap_list(dma, segs + nout, nin, written, &ul);
	ramdev_as_guard_exit(&gf);
	unmap_end(dma, &ul);
}
