// SPDX-License-Identifier: MIT
/*
 * virtio-blk, the request as a state machine: the stage of a request's
 * life between its start (queue.c hands it to an engine, engine.h) and its
 * end (the engine calls ramdev_blk_req_done(), queue.c).  Both engines
 * (sync.c, uring.c) run it:
 * ramdev_blk_req_next() says what system call comes next (preadv, pwritev,
 * fdatasync, fallocate) and ramdev_blk_req_result() applies its result:
 * short transfers are resumed where they stopped, EINTR/EAGAIN retry the
 * step up to BLK_RETRY_MAX times in a row (then IOERR), a transfer of 0
 * bytes is an error (end of file on a read, no space on a
 * write), any other error fails the request alone with IOERR.  Discard and
 * write-zeroes walk their ranges through a fallback chain:
 *   DISCARD:                 PUNCH_HOLE, or nothing (a discard is a hint)
 *   WRITE_ZEROES with UNMAP: PUNCH_HOLE, ZERO_RANGE, writing zeroes
 *   WRITE_ZEROES:            ZERO_RANGE, writing zeroes
 * (all fallocate modes with KEEP_SIZE); a mode the file system refuses is
 * remembered per device and skipped afterwards.
 *
 * The sync engine runs the machine inline (ramdev_blk_req_run()).  The
 * io_uring engine turns each step into one SQE whose user_data is the
 * request, and feeds each CQE back.  The kernel only ever sees RAM:
 * device-memory segments are staged (stage.c: reserved when the request
 * starts, copied per window in ramdev_blk_req_next()).
 */
#define _GNU_SOURCE /* fallocate, preadv */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "dev.h"
#include "engine.h"
#include "req.h"
#include "stage.h"

/* ---- the request state machine ---- */

static void io_fail(struct blk_req *req, const struct blk_step *st, int err)
{
	ramdev_blk_req_log(req, LOG_WARNING,
		       "virtio-blk: head 0x%x type 0x%x: I/O error at 0x%llx: %s",
		       req->elem->head, req->type, (unsigned long long)st->off,
		       strerror(err));
	req->status = RAMDEV_BLK_S_IOERR;
	req->err = RAMDEV_BLK_IO;
	req->op = BLK_OP_NONE;
}

/*
 * A write-back error the kernel reports once (fdatasync) or a write EIO:
 * pages may be clean in the page cache and wrong on disk, and a later
 * fdatasync would succeed.  Remember it: every later FLUSH fails (blk.h).
 */
void ramdev_blk_wb_fail(struct ramdev_blk *blk, int err)
{
	if (blk->wb_err)
		return;
	blk->wb_err = err;
	ramdev_blk_log(blk, LOG_ERR,
		       "virtio-blk: write-back failed (%s): every flush fails "
		       "until reset", strerror(err));
}

/* The window's iovec list without the bytes done of it. */
static unsigned iov_remaining(struct blk_req *req)
{
	uint64_t skip = req->done - req->win_start;
	unsigned i = 0, n = 0;

	while (i < req->iovcnt && skip >= req->iov[i].iov_len)
		skip -= req->iov[i++].iov_len;
	for (; i < req->iovcnt && n < IOV_MAX; i++) {
		req->step_iov[n].iov_base =
			(uint8_t *)req->iov[i].iov_base + skip;
		req->step_iov[n].iov_len = req->iov[i].iov_len - (size_t)skip;
		skip = 0;
		n++;
	}
	return n;
}

/* Up to req->step_iov_max pieces of the zero buffer covering @len bytes. */
static unsigned iov_zeroes(struct blk_req *req, uint64_t len)
{
	unsigned n = 0;

	while (len && n < req->step_iov_max) {
		size_t piece = len < RAMDEV_BLK_ZERO_BUF ? (size_t)len
							 : RAMDEV_BLK_ZERO_BUF;

		req->step_iov[n++] = (struct iovec){ req->blk->zeroes, piece };
		len -= piece;
	}
	return n;
}

enum blk_zero_method ramdev_blk_first_zero_method(const struct blk_req *req)
{
	if (req->op == BLK_OP_DISCARD || req->ranges[req->range].unmap)
		return BLK_ZERO_BY_PUNCH;
	return BLK_ZERO_BY_ZERO_RANGE;
}

static void range_advance(struct blk_req *req)
{
	req->range++;
	req->done = 0;
	if (req->range < req->nranges)
		req->zero_method = ramdev_blk_first_zero_method(req);
}

/* The next step of a DISCARD or WRITE_ZEROES: false when all ranges are done. */
static bool next_range_step(struct blk_req *req, struct blk_step *st)
{
	struct ramdev_blk *blk = req->blk;

	while (req->range < req->nranges) {
		const struct blk_range *r = &req->ranges[req->range];

		if (r->len == 0 || req->done >= r->len) {
			range_advance(req);
			continue;
		}
		if (req->zero_method == BLK_ZERO_BY_PUNCH && blk->no_punch)
			req->zero_method = req->op == BLK_OP_DISCARD
						   ? BLK_ZERO_BY_WRITE
						   : BLK_ZERO_BY_ZERO_RANGE;
		if (req->zero_method == BLK_ZERO_BY_ZERO_RANGE &&
		    blk->no_zero_range)
			req->zero_method = BLK_ZERO_BY_WRITE;
		if (req->op == BLK_OP_DISCARD &&
		    req->zero_method != BLK_ZERO_BY_PUNCH) {
			range_advance(req); /* no way to discard: a hint, skip */
			continue;
		}
		st->off = r->off + req->done;
		st->len = r->len - req->done;
		if (req->zero_method == BLK_ZERO_BY_PUNCH) {
			st->kind = BLK_STEP_FALLOCATE;
			st->mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		} else if (req->zero_method == BLK_ZERO_BY_ZERO_RANGE) {
			st->kind = BLK_STEP_FALLOCATE;
			st->mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		} else {
			if (!blk->zeroes)
				blk->zeroes = calloc(1, RAMDEV_BLK_ZERO_BUF);
			if (!blk->zeroes) {
				io_fail(req, st, ENOMEM);
				req->err = RAMDEV_BLK_NOMEM;
				return false;
			}
			uint64_t cap = (uint64_t)req->step_iov_max *
				       RAMDEV_BLK_ZERO_BUF;

			if (st->len > cap)
				st->len = cap;
			st->kind = BLK_STEP_WRITEV;
			st->iov = req->step_iov;
			st->iovcnt = iov_zeroes(req, st->len);
		}
		return true;
	}
	return false;
}

void ramdev_blk_req_next(struct blk_req *req, struct blk_step *st)
{
	memset(st, 0, sizeof(*st));
	st->kind = BLK_STEP_DONE;
	switch (req->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		/* A request staging more than its reservation: next window. */
		if (req->done >= req->win_end && req->done < req->len &&
		    !ramdev_blk_stage_window(req))
			break;
		if (req->done >= req->len)
			break;
		st->kind = req->op == BLK_OP_READ ? BLK_STEP_READV
						  : BLK_STEP_WRITEV;
		if (req->done == req->win_start && req->iovcnt <= IOV_MAX) {
			st->iov = req->iov; /* the first try: the whole list */
			st->iovcnt = req->iovcnt;
		} else {
			st->iov = req->step_iov;
			st->iovcnt = iov_remaining(req);
		}
		st->off = req->off + req->done;
		st->len = req->win_end - req->done;
		break;
	case BLK_OP_FLUSH:
		if (req->blk->wb_err) {
			/* No fdatasync: it could say 0 for lost data. */
			req->status = RAMDEV_BLK_S_IOERR;
			req->err = RAMDEV_BLK_WRITEBACK;
			req->op = BLK_OP_NONE;
		} else if (req->done == 0) {
			st->kind = BLK_STEP_FDATASYNC;
		}
		break;
	case BLK_OP_DISCARD:
	case BLK_OP_WZ:
		if (!next_range_step(req, st))
			st->kind = BLK_STEP_DONE;
		break;
	case BLK_OP_NONE:
		break;
	}
	req->step = *st;
}

/* fallocate said "not here": remember it and take the next mode. */
static bool falloc_unsupported(int err)
{
	return err == EOPNOTSUPP || err == ENOSYS || err == ENODEV ||
	       err == ENOTTY || err == EINVAL;
}

static void falloc_result(struct blk_req *req, const struct blk_step *st,
			  int64_t res)
{
	struct ramdev_blk *blk = req->blk;

	if (res == 0) {
		range_advance(req);
		return;
	}
	if (!falloc_unsupported((int)-res)) {
		io_fail(req, st, (int)-res);
		return;
	}
	if (req->zero_method == BLK_ZERO_BY_PUNCH) {
		blk->no_punch = true;
		req->zero_method = BLK_ZERO_BY_ZERO_RANGE;
	} else {
		blk->no_zero_range = true;
		req->zero_method = BLK_ZERO_BY_WRITE;
	}
	if (req->op == BLK_OP_DISCARD)
		range_advance(req);
}

void ramdev_blk_req_result(struct blk_req *req, const struct blk_step *st,
			   int64_t res)
{
	if (res == -EINTR || res == -EAGAIN) {
		req->blk->stats.retries++;
		if (++req->again < BLK_RETRY_MAX)
			return; /* the same step again */
		io_fail(req, st, (int)-res);
		return;
	}
	req->again = 0;
	if (res == -EIO && (st->kind == BLK_STEP_WRITEV ||
			    st->kind == BLK_STEP_FALLOCATE))
		ramdev_blk_wb_fail(req->blk, EIO);
	switch (st->kind) {
	case BLK_STEP_READV:
	case BLK_STEP_WRITEV:
		if (res < 0) {
			io_fail(req, st, (int)-res);
		} else if (res == 0) {
			/* No progress: end of file, or a full disk. */
			io_fail(req, st, st->kind == BLK_STEP_READV ? EIO
								    : ENOSPC);
		} else if ((uint64_t)res > st->len) {
			io_fail(req, st, EIO); /* the kernel moved too much */
		} else {
			req->done += (uint64_t)res;
			if ((uint64_t)res < st->len)
				req->blk->stats.retries++;
		}
		break;
	case BLK_STEP_FDATASYNC:
		if (res < 0) {
			ramdev_blk_wb_fail(req->blk, (int)-res);
			io_fail(req, st, (int)-res);
		} else {
			req->done = 1;
			req->blk->stats.flushes++;
		}
		break;
	case BLK_STEP_FALLOCATE:
		falloc_result(req, st, res);
		break;
	case BLK_STEP_DONE:
		break;
	}
}

/* One step as a blocking system call: bytes or 0, or -errno. */
long ramdev_blk_step_sync(struct ramdev_blk *blk, const struct blk_step *st)
{
	ssize_t n = 0;

	/* One buffer (a contiguous request): the plain calls, which spare
	 * the kernel the iovec copy and check. */
	switch (st->kind) {
	case BLK_STEP_READV:
		if (st->iovcnt == 1)
			n = pread(blk->fd, st->iov[0].iov_base,
				  st->iov[0].iov_len, (off_t)st->off);
		else
			n = preadv(blk->fd, st->iov, (int)st->iovcnt,
				   (off_t)st->off);
		break;
	case BLK_STEP_WRITEV:
		if (st->iovcnt == 1)
			n = pwrite(blk->fd, st->iov[0].iov_base,
				   st->iov[0].iov_len, (off_t)st->off);
		else
			n = pwritev(blk->fd, st->iov, (int)st->iovcnt,
				    (off_t)st->off);
		break;
	case BLK_STEP_FDATASYNC:
		n = fdatasync(blk->fd);
		break;
	case BLK_STEP_FALLOCATE:
		n = fallocate(blk->fd, st->mode, (off_t)st->off, (off_t)st->len);
		break;
	case BLK_STEP_DONE:
		return 0;
	}
	return n < 0 ? -errno : (long)n;
}

/*
 * Apply @res, the result of the step in *@st, and put the request's next
 * step in *@st: an engine that got a result enters this file once for both.
 */
void ramdev_blk_req_advance(struct blk_req *req, struct blk_step *st,
			    int64_t res)
{
	struct blk_step ran = *st;

	ramdev_blk_req_result(req, &ran, res);
	ramdev_blk_req_next(req, st);
}

/* Run the step in *@st as a blocking system call, then as
 * ramdev_blk_req_advance(). */
void ramdev_blk_req_step_inline(struct blk_req *req, struct blk_step *st)
{
	ramdev_blk_req_advance(req, st, ramdev_blk_step_sync(req->blk, st));
}

/* Every step of @req inline, as blocking system calls, until it is done. */
void ramdev_blk_req_run(struct blk_req *req)
{
	struct blk_step st;

	ramdev_blk_req_next(req, &st);
	while (st.kind != BLK_STEP_DONE)
		ramdev_blk_req_step_inline(req, &st);
}
