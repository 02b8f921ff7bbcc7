// SPDX-License-Identifier: MIT
/*
 * virtio-blk data segments: walking byte ranges across a chain's segments,
 * the advertised per-segment limits, and staging.
 *
 * Device-memory and MMIO segments are never handed to the kernel: their
 * bytes go through a RAM buffer of the request ("staging"), copied with the
 * access core or the MMIO callbacks.  A guest decides how big that is (it
 * may point many descriptors at one device range), so staging is bounded
 * per device (options.stage_budget):
 *
 * - a request reserves min(its staged bytes, the budget) before it starts;
 *   when that is not free it waits, the queues stop popping (as at the
 *   depth limit) and complete() starts it once completions freed space;
 * - a request staging more than the budget runs in windows: a stretch of
 *   its data whose staged bytes fit the reservation is staged, read or
 *   written, copied back, and the next stretch follows (window ends fall on
 *   512-byte boundaries).  So a valid request never fails for lack of
 *   staging space, and the device never stages more than the budget.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "ramdev/access.h"
#include "blk_priv.h"

/* ---- copies with the access a segment's kind requires ---- */

/* (An MMIO segment's base is NULL: no pointer arithmetic on it.) */
int ramdev_blk_seg_copy_in(void *ram, const struct ramdev_dma_seg *seg,
			   size_t off, size_t n)
{
	switch (seg->kind) {
	case RAMDEV_SEG_RAM:
		memcpy(ram, (const uint8_t *)seg->base + off, n);
		return 0;
	case RAMDEV_SEG_DEV:
		ramdev_read(ram, (const uint8_t *)seg->base + off, n);
		return 0;
	default:
		return ramdev_dma_seg_read(seg, off, ram, n);
	}
}

int ramdev_blk_seg_copy_out(const struct ramdev_dma_seg *seg, size_t off,
			    const void *ram, size_t n)
{
	switch (seg->kind) {
	case RAMDEV_SEG_RAM:
		memcpy((uint8_t *)seg->base + off, ram, n);
		return 0;
	case RAMDEV_SEG_DEV:
		ramdev_write((uint8_t *)seg->base + off, ram, n);
		return 0;
	default:
		return ramdev_dma_seg_write(seg, off, ram, n);
	}
}

/* ---- a cursor over byte ranges of a chain ---- */

/*
 * @count segments from @first, starting @skip bytes in.  The caller has
 * checked that the bytes it walks exist (against out_len/in_len), so the
 * walk never runs off the segment array.
 */
void ramdev_blk_cursor_init(struct blk_cursor *c,
			    const struct ramdev_virtq_elem *e, unsigned first,
			    unsigned count, uint64_t skip)
{
	c->segs = e->segs;
	c->idx = first;
	c->end = first + count;
	while (c->idx < c->end && skip >= c->segs[c->idx].len) {
		skip -= c->segs[c->idx].len;
		c->idx++;
	}
	c->off = (size_t)skip;
}

/* The next piece of at most @want bytes; 0 when the segments ran out. */
size_t ramdev_blk_cursor_next(struct blk_cursor *c, uint64_t want,
			      const struct ramdev_dma_seg **seg, size_t *off)
{
	size_t n;

	while (c->idx < c->end && c->off >= c->segs[c->idx].len) {
		c->idx++;
		c->off = 0;
	}
	if (c->idx >= c->end || want == 0)
		return 0;
	*seg = &c->segs[c->idx];
	*off = c->off;
	n = (*seg)->len - c->off;
	if (n > want)
		n = (size_t)want;
	c->off += n;
	return n;
}

/* ---- planning: limits, staged bytes ---- */

static void data_cursor(const struct blk_req *req, struct blk_cursor *c,
			uint64_t from)
{
	ramdev_blk_cursor_init(c, req->elem, req->data_first, req->data_count,
			       req->data_skip + from);
}

/*
 * Check the data against seg_max and size_max (VIRTIO 1.2 5.2.4) and count
 * the bytes to stage.  A descriptor the DMA layer split (it crossed a
 * region boundary) is one segment to the driver: pieces contiguous in guest
 * memory count once, and size_max is checked per piece.  Neither check can
 * then refuse a request that keeps the limits.
 */
static enum ramdev_blk_err plan_walk(struct blk_req *req, uint64_t *a,
				     uint64_t *b)
{
	const struct ramdev_blk *blk = req->blk;
	const struct ramdev_dma_seg *seg;
	uint64_t segs = 0, next_gpa = 0, staged = 0, start;
	bool has_next = false; /* next_gpa is an address (did not wrap) */
	struct blk_cursor c;
	size_t off, n;

	data_cursor(req, &c, 0);
	for (uint64_t left = req->len;
	     (n = ramdev_blk_cursor_next(&c, left, &seg, &off)); left -= n) {
		/* Checked: a piece may end at 2^64 - 1, and then nothing
		 * continues it (address 0 is not its next byte).  The queue
		 * made the ranges, but other queue ops bring their own. */
		bool wrap = __builtin_add_overflow(seg->gpa, off, &start);

		if (!has_next || wrap || start != next_gpa)
			segs++;
		has_next = !wrap && !__builtin_add_overflow(start, n, &next_gpa);
		if (blk->size_max && n > blk->size_max) {
			*a = n;
			*b = blk->size_max;
			return RAMDEV_BLK_SIZE_MAX;
		}
		if (segs > blk->seg_max) {
			*a = segs;
			*b = blk->seg_max;
			return RAMDEV_BLK_SEG_MAX;
		}
		if (seg->kind != RAMDEV_SEG_RAM)
			staged += n;
	}
	req->stage_need = staged;
	return RAMDEV_BLK_OK;
}

/*
 * Plan @len data bytes of @count segments from @first, @skip bytes in.
 * Without staging the iovec list is built at once (one window); otherwise
 * ramdev_blk_stage_begin() builds it once staging space is reserved.
 */
enum ramdev_blk_err ramdev_blk_plan_data(struct blk_req *req, unsigned first,
					 unsigned count, uint64_t skip,
					 uint64_t len, uint64_t *a, uint64_t *b)
{
	const struct ramdev_dma_seg *seg;
	struct blk_cursor c;
	enum ramdev_blk_err err;
	size_t off, n;

	req->data_first = first;
	req->data_count = count;
	req->data_skip = skip;
	req->len = len;
	err = plan_walk(req, a, b);
	if (err || req->stage_need)
		return err;
	data_cursor(req, &c, 0);
	for (uint64_t left = len;
	     (n = ramdev_blk_cursor_next(&c, left, &seg, &off)); left -= n)
		req->iov[req->iovcnt++] =
			(struct iovec){ (uint8_t *)seg->base + off, n };
	req->win_end = len;
	return RAMDEV_BLK_OK;
}

/* ---- windows ---- */

/* Where the window from req->done ends: its staged bytes fit stage_res. */
static uint64_t window_end(const struct blk_req *req)
{
	const struct ramdev_dma_seg *seg;
	uint64_t pos = req->done, staged = 0, end;
	struct blk_cursor c;
	size_t off, n;

	data_cursor(req, &c, pos);
	while ((n = ramdev_blk_cursor_next(&c, req->len - pos, &seg, &off))) {
		if (seg->kind != RAMDEV_SEG_RAM) {
			if (staged + n > req->stage_res)
				break;
			staged += n;
		}
		pos += n;
	}
	if (pos >= req->len)
		return req->len;
	/* Cut inside this piece where the reservation is full, on a sector
	 * boundary: the window starts on one and stages stage_res >= 4096
	 * bytes before the cut, so rounding down never empties it (and if it
	 * did, the cut stays unrounded: never more than stage_res staged). */
	end = pos + (req->stage_res - staged);
	if ((end & ~(uint64_t)(RAMDEV_BLK_SECTOR_SIZE - 1)) > req->done)
		end &= ~(uint64_t)(RAMDEV_BLK_SECTOR_SIZE - 1);
	return end;
}

static bool stage_fail(struct blk_req *req, enum ramdev_blk_err err)
{
	ramdev_blk_req_log(req, LOG_WARNING,
		       "virtio-blk: head 0x%x type 0x%x: %s at data offset 0x%llx",
		       req->elem->head, req->type, ramdev_blk_strerror(err),
		       (unsigned long long)req->done);
	req->status = RAMDEV_BLK_S_IOERR;
	req->err = err;
	req->op = BLK_OP_NONE;
	return false;
}

/* Copy the staged pieces of the current window back to the guest (IN). */
bool ramdev_blk_stage_copy_out(struct blk_req *req)
{
	for (unsigned i = 0; i < req->ndev; i++)
		if (ramdev_blk_seg_copy_out(req->dev[i].seg, req->dev[i].seg_off,
					    req->stage + req->dev[i].off,
					    req->dev[i].len))
			return false;
	return true;
}

/*
 * Finish the current window (IN: copy it back) and build the next one from
 * req->done: its iovec list, its staged pieces (OUT: copied in).  False
 * when a copy failed: the request then fails with IOERR.
 */
bool ramdev_blk_stage_window(struct blk_req *req)
{
	const struct ramdev_dma_seg *seg;
	uint64_t end, pos = req->done;
	struct blk_cursor c;
	size_t off, n, staged = 0;

	if (req->op == BLK_OP_READ && req->win_end &&
	    !ramdev_blk_stage_copy_out(req))
		return stage_fail(req, RAMDEV_BLK_IO);
	end = window_end(req);
	req->iovcnt = 0;
	req->ndev = 0;
	data_cursor(req, &c, pos);
	while ((n = ramdev_blk_cursor_next(&c, end - pos, &seg, &off))) {
		uint8_t *p;

		if (seg->kind == RAMDEV_SEG_RAM) {
			p = (uint8_t *)seg->base + off;
		} else {
			req->dev[req->ndev++] =
				(struct blk_stage){ seg, off, n, staged };
			p = req->stage + staged;
			staged += n;
		}
		req->iov[req->iovcnt++] = (struct iovec){ p, n };
		pos += n;
	}
	req->win_start = req->done;
	req->win_end = end;
	req->stage_len = staged;
	req->blk->stats.bytes_staged += staged;
	if (req->op == BLK_OP_WRITE)
		for (unsigned i = 0; i < req->ndev; i++)
			if (ramdev_blk_seg_copy_in(req->stage + req->dev[i].off,
						   req->dev[i].seg,
						   req->dev[i].seg_off,
						   req->dev[i].len))
				return stage_fail(req, RAMDEV_BLK_IO);
	return true;
}

/* ---- the device's budget ---- */

/*
 * Reserve staging space for @req and build its first window.  False when
 * the space is not free now (the caller makes the request wait); true
 * otherwise, also when the request failed (no memory, an MMIO copy): it is
 * then BLK_OP_NONE with IOERR, ready to be pushed.
 */
bool ramdev_blk_stage_begin(struct blk_req *req)
{
	struct ramdev_blk *blk = req->blk;
	uint64_t res = req->stage_need < blk->stage_budget ? req->stage_need
							   : blk->stage_budget;

	if (res > blk->stage_budget - blk->stage_used)
		return false;
	blk->stage_used += res;
	req->stage_res = res;
	if (blk->stage_used > blk->stats.stage_peak)
		blk->stats.stage_peak = blk->stage_used;
	if (res > req->stage_cap) {
		/* A cached request may bring a buffer big enough already. */
		free(req->stage);
		req->stage_cap = 0;
		req->stage = malloc((size_t)res);
		if (!req->stage)
			return !stage_fail(req, RAMDEV_BLK_NOMEM);
		req->stage_cap = (size_t)res;
	}
	(void)ramdev_blk_stage_window(req);
	return true;
}

/* Give @req's reservation back (when it is freed). */
void ramdev_blk_stage_release(struct blk_req *req)
{
	req->blk->stage_used -= req->stage_res;
	req->stage_res = 0;
}
