// SPDX-License-Identifier: MIT
/*
 * DMA: scatter-gather lists (include/ramdev/dma.h) and descriptor chains
 * (lib/dma_lib.h, for the virtqueue), mapped and unmapped as lib/dma.c maps
 * and unmaps one range, with what a list of them shares: one read-side
 * section, one hint of the flat range the last piece fell in, the region
 * references of a run of pieces in one region taken and dropped at once,
 * the statistics counted once per list.
 */
#include "dma_ctx.h" /* first: it defines _LGPL_SOURCE for liburcu */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

#include "dma_lib.h"

/* ---- scatter-gather ---- */

/* Map one piece from @gpa (at most @left bytes) into @seg. */
static inline int map_piece(struct ramdev_dma *dma, uint64_t gpa,
			    uint64_t left, enum ramdev_dma_dir dir,
			    struct ramdev_dma_seg *seg, struct dma_sg_map *sgm)
{
	struct ramdev_xlate x;
	int ret = ramdev_as_translate_hint(dma->as, gpa, left, &x, sgm->hint);

	if (ret || dma_needs_bounce(dma, x.kind))
		return ramdev_dma_map_xlated(dma, gpa, dir, seg, ret, &x, sgm);
	/* Mapped in place, the usual case. */
	*seg = (struct ramdev_dma_seg){ .gpa = gpa };
	dma_map_direct(seg, &x);
	seg->region = x.region;
	seg->region_offset = x.offset;
	seg->dir = SEG_MAPPED | dir;
	sgm->direct++;
	sgm->bytes += seg->len;
	return 0;
}

/*
 * Map the @nsg entries of @sg into @segs[0..max_segs) under the caller's
 * read-side section and guard, the segments' references counted in @sgm
 * (sg_refs() takes them).  *@mapped: segments mapped, also on failure (the
 * caller unmaps them once the references are taken).  0 or -errno.
 */
static int map_list(struct ramdev_dma *dma, const struct ramdev_sg *sg,
		    unsigned nsg, enum ramdev_dma_dir dir,
		    struct ramdev_dma_seg *segs, unsigned max_segs,
		    struct dma_sg_map *sgm, unsigned *mapped)
{
	unsigned n = 0;
	int ret = 0;

	for (unsigned i = 0; i < nsg && !ret; i++) {
		uint64_t gpa = sg[i].gpa, left = sg[i].len;

		/* Reject the whole entry up front, not after mapping half
		 * (ramdev_dma_map_check logs why). */
		if (!dma_dir_ok(dir) || !left ||
		    ramdev_dma_range_wraps(gpa, left))
			ret = ramdev_dma_map_check(dma, gpa, left, dir,
						   &segs[0]);
		while (!ret && left) {
			struct ramdev_dma_seg *seg = &segs[n];

			if (n == max_segs) {
				ret = -E2BIG;
				break;
			}
			ret = map_piece(dma, gpa, left, dir, seg, sgm);
			if (ret)
				break;
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
static void sg_refs(struct dma_sg_map *sgm)
{
	ramdev_region_ref_n(sgm->run, sgm->nrun);
	sgm->run = NULL;
	sgm->nrun = 0;
}

/* The direct maps of a list, in one slot lookup; before a failure's unmap
 * counts them unmapped. */
static void sg_count(struct ramdev_dma *dma, const struct dma_sg_map *sgm)
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
	struct dma_sg_map sgm = { .hint = &hint };
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
	struct dma_sg_map sgm = { .hint = &c->hint };
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
		struct ramdev_region *r = dma_unmap_one(dma, &segs[i], w);

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
		dma_count(dma, DMA_ST_UNMAPS, ul->unmapped);
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
