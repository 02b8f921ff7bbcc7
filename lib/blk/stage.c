// SPDX-License-Identifier: MIT
/*
 * virtio-blk, staging: the stage of a request's life between its parse
 * (req.c, which counted the bytes to stage) and the engine, and again at
 * its end.  queue.c calls ramdev_blk_stage_begin() when the request
 * starts, step.c ramdev_blk_stage_window() between the windows of a request
 * bigger than its reservation, req.c ramdev_blk_stage_end() when it
 * finishes.
 *
 * Device-memory and MMIO segments are never handed to the kernel: their
 * bytes go through a RAM buffer of the request ("staging"), copied with the
 * access core or the MMIO callbacks.  A guest decides how big that is (it
 * may point many descriptors at one device range), so staging is bounded
 * per device (options.stage_budget):
 *
 * - a request reserves min(its staged bytes, the budget) before it starts;
 *   when that is not free it waits, the queues stop popping (as at the
 *   depth limit) and completions start it once they freed space (queue.c);
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

#include "dev.h"
#include "req.h"
#include "stage.h"

/* ---- windows ---- */

/* Where the window from req->done ends: its staged bytes fit stage_res. */
static uint64_t window_end(const struct blk_req *req)
{
	const struct ramdev_dma_seg *seg;
	uint64_t pos = req->done, staged = 0, end;
	struct blk_cursor c;
	size_t off, n;

	/* The common case: the reservation holds all the request stages, so
	 * its data is one window (no walk: the window walk follows anyway). */
	if (pos == 0 && req->stage_res >= req->stage_need)
		return req->len;
	ramdev_blk_data_cursor(req, &c, pos);
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
static bool stage_copy_out(struct blk_req *req)
{
	for (unsigned i = 0; i < req->nstaged; i++) {
		const struct blk_staged_piece *p = &req->staged[i];

		if (ramdev_blk_seg_copy_out(p->seg, p->seg_off,
					    req->stage + p->off, p->len))
			return false;
	}
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
	    !stage_copy_out(req))
		return stage_fail(req, RAMDEV_BLK_IO);
	end = window_end(req);
	req->iovcnt = 0;
	req->nstaged = 0;
	ramdev_blk_data_cursor(req, &c, pos);
	while ((n = ramdev_blk_cursor_next(&c, end - pos, &seg, &off))) {
		uint8_t *p;

		if (seg->kind == RAMDEV_SEG_RAM) {
			p = (uint8_t *)seg->base + off;
		} else {
			req->staged[req->nstaged++] =
				(struct blk_staged_piece){ seg, off, n,
							   staged };
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
		for (unsigned i = 0; i < req->nstaged; i++) {
			const struct blk_staged_piece *sp = &req->staged[i];

			if (ramdev_blk_seg_copy_in(req->stage + sp->off,
						   sp->seg, sp->seg_off,
						   sp->len))
				return stage_fail(req, RAMDEV_BLK_IO);
		}
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
		/* Page-aligned: an O_DIRECT image takes the buffer as it is,
		 * and refuses (EINVAL) one that is not block-aligned. */
		if (posix_memalign((void **)&req->stage, BLK_STAGE_ALIGN,
				   (size_t)res))
			req->stage = NULL;
		if (!req->stage)
			return !stage_fail(req, RAMDEV_BLK_NOMEM);
		req->stage_cap = (size_t)res;
	}
	(void)ramdev_blk_stage_window(req);
	return true;
}

/* Give @req's reservation back. */
void ramdev_blk_stage_release(struct blk_req *req)
{
	req->blk->stage_used -= req->stage_res;
	req->stage_res = 0;
}

/*
 * @req finished: copy its last window back if it is a successful IN (false
 * when that copy failed: the request then fails with IOERR), and give its
 * reservation back.
 */
bool ramdev_blk_stage_end(struct blk_req *req)
{
	bool ok = true;

	if (req->op == BLK_OP_READ && req->status == RAMDEV_BLK_S_OK)
		ok = stage_copy_out(req);
	ramdev_blk_stage_release(req);
	return ok;
}
