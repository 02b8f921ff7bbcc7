// SPDX-License-Identifier: MIT
/*
 * virtio-blk executor: runs a parsed request against the image.
 *
 * A request is a small state machine shared by both engines:
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
 * The sync engine runs the machine inline.  The io_uring engine turns each
 * step into one SQE whose user_data is the request, and feeds each CQE back.
 * The kernel only ever sees RAM: device-memory segments are staged
 * (blk_stage.c: reserved when the request starts, copied per window in
 * ramdev_blk_req_next()).
 */
#define _GNU_SOURCE /* fallocate, preadv */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "blk_priv.h"

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
static unsigned iov_rest(struct blk_req *req)
{
	uint64_t skip = req->done - req->win_start;
	unsigned i = 0, n = 0;

	while (i < req->iovcnt && skip >= req->iov[i].iov_len)
		skip -= req->iov[i++].iov_len;
	for (; i < req->iovcnt && n < IOV_MAX; i++) {
		req->rest[n].iov_base = (uint8_t *)req->iov[i].iov_base + skip;
		req->rest[n].iov_len = req->iov[i].iov_len - (size_t)skip;
		skip = 0;
		n++;
	}
	return n;
}

/* Up to req->rest_max pieces of the zero buffer covering @len bytes. */
static unsigned iov_zeroes(struct blk_req *req, uint64_t len)
{
	unsigned n = 0;

	while (len && n < req->rest_max) {
		size_t piece = len < RAMDEV_BLK_ZERO_BUF ? (size_t)len
							 : RAMDEV_BLK_ZERO_BUF;

		req->rest[n++] = (struct iovec){ req->blk->zeroes, piece };
		len -= piece;
	}
	return n;
}

enum blk_zmode ramdev_blk_first_zmode(const struct blk_req *req)
{
	if (req->op == BLK_OP_DISCARD || req->ranges[req->range].unmap)
		return BLK_Z_PUNCH;
	return BLK_Z_ZERO;
}

static void range_advance(struct blk_req *req)
{
	req->range++;
	req->done = 0;
	if (req->range < req->nranges)
		req->zmode = ramdev_blk_first_zmode(req);
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
		if (req->zmode == BLK_Z_PUNCH && blk->no_punch)
			req->zmode = req->op == BLK_OP_DISCARD ? BLK_Z_WRITE
							       : BLK_Z_ZERO;
		if (req->zmode == BLK_Z_ZERO && blk->no_zero_range)
			req->zmode = BLK_Z_WRITE;
		if (req->op == BLK_OP_DISCARD && req->zmode != BLK_Z_PUNCH) {
			range_advance(req); /* no way to discard: a hint, skip */
			continue;
		}
		st->off = r->off + req->done;
		st->len = r->len - req->done;
		if (req->zmode == BLK_Z_PUNCH) {
			st->kind = BLK_STEP_FALLOCATE;
			st->mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		} else if (req->zmode == BLK_Z_ZERO) {
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
			uint64_t cap = (uint64_t)req->rest_max * RAMDEV_BLK_ZERO_BUF;

			if (st->len > cap)
				st->len = cap;
			st->kind = BLK_STEP_WRITEV;
			st->iov = req->rest;
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
			st->iov = req->rest;
			st->iovcnt = iov_rest(req);
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
	if (req->zmode == BLK_Z_PUNCH) {
		blk->no_punch = true;
		req->zmode = BLK_Z_ZERO;
	} else {
		blk->no_zero_range = true;
		req->zmode = BLK_Z_WRITE;
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

/* ---- the sync engine: preadv/pwritev inline ---- */

static int sync_init(struct ramdev_blk *blk, void **opaque)
{
	(void)blk;
	*opaque = NULL;
	return 0;
}

static void sync_fini(void *opaque, struct ramdev_blk *blk)
{
	(void)opaque;
	(void)blk;
}

static void sync_submit(void *opaque, struct ramdev_blk *blk,
			struct blk_req *req)
{
	struct blk_step st;

	(void)opaque;
	for (;;) {
		ramdev_blk_req_next(req, &st);
		if (st.kind == BLK_STEP_DONE)
			break;
		ramdev_blk_req_result(req, &st, ramdev_blk_step_sync(blk, &st));
	}
	ramdev_blk_req_done(req);
}

static int sync_kick(void *opaque, struct ramdev_blk *blk)
{
	(void)opaque;
	(void)blk;
	return 0;
}

static int sync_reap(void *opaque, struct ramdev_blk *blk, int timeout_ms)
{
	(void)opaque;
	(void)blk;
	(void)timeout_ms;
	return 0;
}

const struct ramdev_blk_engine_ops ramdev_blk_engine_sync = {
	.name = "sync",
	.init = sync_init,
	.fini = sync_fini,
	.submit = sync_submit,
	.kick = sync_kick,
	.reap = sync_reap,
};

/* ---- the io_uring engine ---- */

/*
 * Buffered writes (see ramdev_blk_options.uring_offload_writes).  io_uring
 * first tries a write without blocking (IOCB_NOWAIT) and hands it to an
 * io-wq worker thread when that fails; a file system without non-blocking
 * buffered writes (no FMODE_BUF_WASYNC: ext4, tmpfs) fails every one of
 * them, so every write costs a thread hop and a wake-up.  pwritev2 with
 * RWF_NOWAIT asks the same question of the file system (EOPNOTSUPP: it has
 * no such path), on the first write that can tell.
 */
enum uring_wmode {
	WR_PROBE,   /* not known yet: ask on the next write */
	WR_URING,   /* io_uring: it can start writes inline, or we offload */
	WR_INLINE,  /* it cannot: pwritev on the calling thread */
};

struct blk_uring {
	struct io_uring ring;
	unsigned pending;  /* SQEs handed out and not yet completed */
	unsigned queued;   /* prepared, not yet submitted */
	bool has_falloc;
	bool has_rw;       /* IORING_OP_READ/WRITE (5.6) */
	enum uring_wmode wmode;
};

static int uring_probe(struct blk_uring *u)
{
	struct io_uring_probe *probe = io_uring_get_probe_ring(&u->ring);
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	int ret;

	if (!probe)
		return -ENOSYS;
	ret = io_uring_opcode_supported(probe, IORING_OP_READV) &&
	      io_uring_opcode_supported(probe, IORING_OP_WRITEV) &&
	      io_uring_opcode_supported(probe, IORING_OP_FSYNC);
	u->has_falloc = io_uring_opcode_supported(probe, IORING_OP_FALLOCATE);
	u->has_rw = io_uring_opcode_supported(probe, IORING_OP_READ) &&
		    io_uring_opcode_supported(probe, IORING_OP_WRITE);
	io_uring_free_probe(probe);
	if (!ret)
		return -ENOSYS;
	/* A NOP round trip: setup may work while io_uring_enter is filtered. */
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data(sqe, NULL);
	ret = io_uring_submit_and_wait(&u->ring, 1);
	if (ret < 0)
		return ret;
	ret = io_uring_peek_cqe(&u->ring, &cqe);
	if (ret < 0)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(&u->ring, cqe);
	return ret < 0 ? ret : 0;
}

static int uring_init(struct ramdev_blk *blk, void **opaque)
{
	struct blk_uring *u = calloc(1, sizeof(*u));
	unsigned entries = 1;
	int ret;

	if (!u)
		return -ENOMEM;
	while (entries < blk->depth && entries < 4096)
		entries <<= 1;
	ret = io_uring_queue_init(entries, &u->ring, 0);
	if (ret < 0) {
		free(u);
		return ret;
	}
	ret = uring_probe(u);
	if (ret == 0)
		ret = io_uring_register_eventfd(&u->ring, blk->event_fd);
	if (ret < 0) {
		io_uring_queue_exit(&u->ring);
		free(u);
		return ret;
	}
	blk->kernel_signals = true; /* every CQE writes event_fd */
	u->wmode = WR_PROBE;
	if (blk->uring_offload_writes || blk->read_only ||
	    (fcntl(blk->fd, F_GETFL) & O_DIRECT))
		u->wmode = WR_URING;
	*opaque = u;
	return 0;
}

/*
 * A write step io_uring may give to a worker thread: run it here instead
 * when the file system cannot start it without blocking (see WR_*).
 * Returns true with *res set (the step's result), false to submit it.
 */
static bool uring_write_inline(struct blk_uring *u, struct ramdev_blk *blk,
			       const struct blk_step *st, long *res)
{
	ssize_t n;

	if (u->wmode == WR_INLINE) {
		*res = ramdev_blk_step_sync(blk, st);
		return true;
	}
	n = pwritev2(blk->fd, st->iov, (int)st->iovcnt, (off_t)st->off,
		     RWF_NOWAIT);
	if (n > 0) {
		/* It can: io_uring starts such writes inline itself. */
		u->wmode = WR_URING;
		*res = n;
		return true;
	}
	if (n < 0 && errno == EOPNOTSUPP) {
		u->wmode = WR_INLINE;
		ramdev_blk_log(blk, LOG_INFO,
			       "virtio-blk: io_uring: the file system has no "
			       "non-blocking buffered writes: writes run inline "
			       "(uring_offload_writes keeps them on io-wq)");
		*res = ramdev_blk_step_sync(blk, st);
		return true;
	}
	if (n < 0 && (errno == ENOSYS || errno == EINVAL))
		u->wmode = WR_URING; /* no RWF_NOWAIT here: cannot tell */
	/* EAGAIN (would block this time), 0 bytes, an I/O error: io_uring
	 * carries it out and reports it; ask again on the next write. */
	return false;
}

static void uring_fini(void *opaque, struct ramdev_blk *blk)
{
	struct blk_uring *u = opaque;

	(void)blk;
	if (!u)
		return;
	io_uring_queue_exit(&u->ring);
	free(u);
}

/*
 * Cancel everything in the ring and wait for it (IORING_REGISTER_SYNC_CANCEL,
 * Linux 6.0) until nothing matches any more: then no request can touch its
 * buffers.  Without it, or when that takes too long, say "unsafe".
 */
static bool uring_cancel(void *opaque, struct ramdev_blk *blk)
{
	struct blk_uring *u = opaque;
	bool safe = false;

	for (int i = 0; i < 100; i++) {
		struct io_uring_sync_cancel_reg reg;
		int ret;

		memset(&reg, 0, sizeof(reg));
		reg.flags = IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL;
		reg.fd = -1;
		reg.timeout.tv_nsec = 10 * 1000 * 1000;
		ret = io_uring_register_sync_cancel(&u->ring, &reg);
		if (ret == -ENOENT) {
			safe = true;
			break;
		}
		if (ret < 0 && ret != -EALREADY && ret != -ETIME &&
		    ret != -EINTR)
			break; /* not supported, or the ring is gone */
	}
	uring_fini(u, blk);
	return safe;
}

static struct io_uring_sqe *uring_sqe(struct blk_uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe && io_uring_submit(&u->ring) >= 0) {
		u->queued = 0;
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

/* Issue @req's next step, or finish it. */
static void uring_issue(struct blk_uring *u, struct ramdev_blk *blk,
			struct blk_req *req)
{
	struct io_uring_sqe *sqe;
	struct blk_step st;
	long res;

	for (;;) {
		ramdev_blk_req_next(req, &st);
		if (st.kind == BLK_STEP_DONE) {
			ramdev_blk_req_done(req);
			return;
		}
		if (st.kind == BLK_STEP_WRITEV && u->wmode != WR_URING &&
		    uring_write_inline(u, blk, &st, &res)) {
			ramdev_blk_req_result(req, &st, res);
			continue;
		}
		sqe = NULL;
		if (st.kind != BLK_STEP_FALLOCATE || u->has_falloc)
			sqe = uring_sqe(u);
		if (sqe)
			break;
		/* No SQE (or no async fallocate): do this step inline. */
		ramdev_blk_req_result(req, &st, ramdev_blk_step_sync(blk, &st));
	}
	/* One buffer: READ/WRITE, no iovec for the kernel to import. */
	switch (st.kind) {
	case BLK_STEP_READV:
		if (st.iovcnt == 1 && u->has_rw &&
		    st.iov[0].iov_len <= UINT_MAX)
			io_uring_prep_read(sqe, blk->fd, st.iov[0].iov_base,
					   (unsigned)st.iov[0].iov_len, st.off);
		else
			io_uring_prep_readv(sqe, blk->fd, st.iov, st.iovcnt,
					    st.off);
		break;
	case BLK_STEP_WRITEV:
		if (st.iovcnt == 1 && u->has_rw &&
		    st.iov[0].iov_len <= UINT_MAX)
			io_uring_prep_write(sqe, blk->fd, st.iov[0].iov_base,
					    (unsigned)st.iov[0].iov_len, st.off);
		else
			io_uring_prep_writev(sqe, blk->fd, st.iov, st.iovcnt,
					     st.off);
		break;
	case BLK_STEP_FDATASYNC:
		io_uring_prep_fsync(sqe, blk->fd, IORING_FSYNC_DATASYNC);
		break;
	case BLK_STEP_FALLOCATE:
		io_uring_prep_fallocate(sqe, blk->fd, st.mode, st.off, st.len);
		break;
	case BLK_STEP_DONE:
		break;
	}
	io_uring_sqe_set_data(sqe, req);
	u->pending++;
	u->queued++;
}

static void uring_submit(void *opaque, struct ramdev_blk *blk,
			 struct blk_req *req)
{
	uring_issue(opaque, blk, req);
}

static int uring_kick(void *opaque, struct ramdev_blk *blk)
{
	struct blk_uring *u = opaque;
	int ret;

	(void)blk;
	if (!u->queued)
		return 0;
	/* EINTR: a few more tries; then the SQEs stay queued for the next
	 * kick or reap (bounded work per call, like BLK_RETRY_MAX). */
	for (unsigned i = 0; i < BLK_RETRY_MAX; i++) {
		ret = io_uring_submit(&u->ring);
		if (ret != -EINTR)
			break;
	}
	if (ret < 0 && ret != -EAGAIN && ret != -EBUSY && ret != -EINTR)
		return ret;
	if (ret >= 0)
		u->queued = 0;
	return 0;
}

static int uring_reap(void *opaque, struct ramdev_blk *blk, int timeout_ms)
{
	struct blk_uring *u = opaque;
	struct io_uring_cqe *cqe;
	int ret = 0, n = 0;

	if (!u->pending)
		return 0;
	ret = uring_kick(u, blk);
	if (ret < 0)
		return ret;
	if (timeout_ms < 0) {
		ret = io_uring_wait_cqe(&u->ring, &cqe);
	} else if (timeout_ms > 0) {
		struct __kernel_timespec ts = {
			.tv_sec = timeout_ms / 1000,
			.tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
		};
		ret = io_uring_wait_cqe_timeout(&u->ring, &cqe, &ts);
	}
	if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN)
		return ret;
	while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		struct blk_req *req = io_uring_cqe_get_data(cqe);
		int64_t res = cqe->res;

		io_uring_cqe_seen(&u->ring, cqe);
		if (!req)
			continue;
		u->pending--;
		ramdev_blk_req_result(req, &req->step, res);
		uring_issue(u, blk, req);
		n++;
	}
	ret = uring_kick(u, blk);
	return ret < 0 ? ret : n;
}

const struct ramdev_blk_engine_ops ramdev_blk_engine_uring = {
	.name = "io_uring",
	.init = uring_init,
	.fini = uring_fini,
	.submit = uring_submit,
	.kick = uring_kick,
	.reap = uring_reap,
	.cancel = uring_cancel,
};
