// SPDX-License-Identifier: MIT
/*
 * virtio-blk, the io_uring engine (engine.h): the stage of a request's life
 * between its start (queue.c submits it) and its end.  Each step of the
 * request (step.c) becomes one SQE whose user_data is the request; reap
 * feeds each CQE back and gets the next step (ramdev_blk_req_advance()),
 * issues it, and reports the request done (queue.c) after its last.
 * Two kinds of step may run on the calling thread instead: buffered
 * writes the file system would hand to a worker (uring_write_inline), and
 * large staged reads of cached data (uring_read_inline).  Transfer steps
 * wait in a batch until the next kick, which issues back-to-back ones of
 * several requests as one SQE (merge.h); its user_data is the merge, with
 * bit 0 set.
 */
#define _GNU_SOURCE /* pwritev2 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/uio.h>

#include "dev.h"
#include "engine.h"
#include "merge.h"
#include "req.h"

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

/*
 * Reads of staged data (device memory: stage.c) of at least this many
 * bytes try preadv2(RWF_NOWAIT) on the calling thread first (see
 * uring_read_inline()).  Measured: 64 KiB requests gain, 4 KiB ones (a
 * batch's staging stays in cache) do not pay for a system call each.
 */
#define URING_READ_INLINE_MIN (32u * 1024u)

struct blk_uring {
	struct io_uring ring;
	unsigned pending;  /* SQEs handed out and not yet completed */
	unsigned queued;   /* prepared, not yet submitted */
	bool has_falloc;
	bool has_rw;       /* IORING_OP_READ/WRITE (5.6) */
	bool read_inline;  /* page-cache image: try staged reads inline */
	enum uring_wmode wmode;
	struct blk_fifo batch;       /* transfer steps to issue at kick */
	struct blk_merge *merge_free; /* merges not in flight */
	struct blk_merge *merge_all;  /* every merge allocated */
};

#define URING_MERGE_TAG 1u /* user_data of a merged SQE: the merge | 1 */

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
	u->read_inline = !(fcntl(blk->fd, F_GETFL) & O_DIRECT);
	if (blk->uring_offload_writes || blk->read_only || !u->read_inline)
		u->wmode = WR_URING;
	*opaque = u;
	return 0;
}

/*
 * A write step io_uring may give to a worker thread: run it here instead
 * when the file system cannot start it without blocking (see WR_*).
 * Returns true with the request advanced (*@st: its next step), false to
 * submit the step.
 */
static bool uring_write_inline(struct blk_uring *u, struct ramdev_blk *blk,
			       struct blk_req *req, struct blk_step *st)
{
	ssize_t n;

	if (u->wmode == WR_INLINE) {
		ramdev_blk_req_step_inline(req, st);
		return true;
	}
	n = pwritev2(blk->fd, st->iov, (int)st->iovcnt, (off_t)st->off,
		     RWF_NOWAIT);
	if (n > 0) {
		/* It can: io_uring starts such writes inline itself. */
		u->wmode = WR_URING;
		ramdev_blk_req_advance(req, st, n);
		return true;
	}
	if (n < 0 && errno == EOPNOTSUPP) {
		u->wmode = WR_INLINE;
		ramdev_blk_log(blk, LOG_INFO,
			       "virtio-blk: io_uring: the file system has no "
			       "non-blocking buffered writes: writes run inline "
			       "(uring_offload_writes keeps them on io-wq)");
		ramdev_blk_req_step_inline(req, st);
		return true;
	}
	if (n < 0 && (errno == ENOSYS || errno == EINVAL))
		u->wmode = WR_URING; /* no RWF_NOWAIT here: cannot tell */
	/* EAGAIN (would block this time), 0 bytes, an I/O error: io_uring
	 * carries it out and reports it; ask again on the next write. */
	return false;
}

/*
 * A read whose data is staged, from an image in the page cache: io_uring
 * copies cached pages inline at submit anyway, but for a whole batch of
 * requests first, and each one's copy to device memory (stage.c) follows
 * at reap, from a staging buffer the rest of the batch has pushed out of
 * the cache (16 requests of 64 KiB: 1 MiB of staging, as much of page
 * cache).  Read on the calling thread instead, the request finishes here:
 * its copy reads a buffer still in cache, and the next request reuses
 * that buffer.  RWF_NOWAIT: data not in the page cache (EAGAIN), the rest
 * of a short read, any error go through io_uring as before; a file that
 * cannot say (EOPNOTSUPP, EINVAL, ENOSYS) is not asked again.
 * Returns true with the request advanced (*@st: its next step), false to
 * submit the step.
 */
static bool uring_read_inline(struct blk_uring *u, struct ramdev_blk *blk,
			      struct blk_req *req, struct blk_step *st)
{
	ssize_t n;

	if (!u->read_inline || req->stage_len < URING_READ_INLINE_MIN ||
	    st->iovcnt > IOV_MAX)
		return false;
	n = preadv2(blk->fd, st->iov, (int)st->iovcnt, (off_t)st->off,
		    RWF_NOWAIT);
	if (n > 0) {
		ramdev_blk_req_advance(req, st, n);
		return true;
	}
	if (n < 0 && (errno == EOPNOTSUPP || errno == EINVAL ||
		      errno == ENOSYS))
		u->read_inline = false;
	return false;
}

static void uring_fini(void *opaque, struct ramdev_blk *blk)
{
	struct blk_uring *u = opaque;

	(void)blk;
	if (!u)
		return;
	io_uring_queue_exit(&u->ring);
	while (u->merge_all) {
		struct blk_merge *m = u->merge_all;

		u->merge_all = m->next_all;
		free(m);
	}
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
	if (!safe)
		u->merge_all = NULL; /* the kernel may still read their iovecs */
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

/* The SQE for the transfer or call in @st; the caller sets its user_data. */
static void uring_prep(struct blk_uring *u, struct ramdev_blk *blk,
		       struct io_uring_sqe *sqe, const struct blk_step *st)
{
	bool write = st->kind == BLK_STEP_WRITEV;

	switch (st->kind) {
	case BLK_STEP_READV:
	case BLK_STEP_WRITEV:
		/* One buffer: READ/WRITE, no iovec for the kernel to import. */
		if (st->iovcnt == 1 && u->has_rw &&
		    st->iov[0].iov_len <= UINT_MAX)
			io_uring_prep_rw(write ? IORING_OP_WRITE
					       : IORING_OP_READ,
					 sqe, blk->fd, st->iov[0].iov_base,
					 (unsigned)st->iov[0].iov_len, st->off);
		else
			io_uring_prep_rw(write ? IORING_OP_WRITEV
					       : IORING_OP_READV,
					 sqe, blk->fd, st->iov, st->iovcnt,
					 st->off);
		break;
	case BLK_STEP_FDATASYNC:
		io_uring_prep_fsync(sqe, blk->fd, IORING_FSYNC_DATASYNC);
		break;
	case BLK_STEP_FALLOCATE:
		io_uring_prep_fallocate(sqe, blk->fd, st->mode, st->off,
					st->len);
		break;
	case BLK_STEP_DONE:
		break;
	}
}

/* May the step @st wait in the batch for a merge? */
static bool uring_batches(const struct blk_uring *u,
			  const struct ramdev_blk *blk,
			  const struct blk_step *st)
{
	/* A write while the write mode is not known yet goes alone: it asks
	 * the file system (uring_write_inline). */
	return blk->merge && ramdev_blk_step_mergeable(st) &&
	       (st->kind == BLK_STEP_READV || u->wmode != WR_PROBE);
}

/*
 * Issue @req's next step (@step), or finish it.  @batch: a transfer may
 * wait in the batch (merge.h) rather than go now.
 */
static void uring_issue(struct blk_uring *u, struct ramdev_blk *blk,
			struct blk_req *req, const struct blk_step *step,
			bool batch)
{
	struct io_uring_sqe *sqe;
	struct blk_step st = *step;

	for (;;) {
		if (st.kind == BLK_STEP_DONE) {
			ramdev_blk_req_done(req);
			return;
		}
		/* Behind a batch, any step waits too: issue order is kept
		 * (an inline read must not pass a write waiting there). */
		if (batch && (uring_batches(u, blk, &st) ||
			      (u->batch.head && blk->merge))) {
			req->step = st;
			ramdev_blk_fifo_push(&u->batch, req);
			return;
		}
		if (st.kind == BLK_STEP_READV &&
		    uring_read_inline(u, blk, req, &st))
			continue;
		if (st.kind == BLK_STEP_WRITEV && u->wmode != WR_URING &&
		    uring_write_inline(u, blk, req, &st))
			continue;
		sqe = NULL;
		if (st.kind != BLK_STEP_FALLOCATE || u->has_falloc)
			sqe = uring_sqe(u);
		if (sqe)
			break;
		/* No SQE (or no async fallocate): do this step inline. */
		ramdev_blk_req_step_inline(req, &st);
	}
	uring_prep(u, blk, sqe, &st);
	io_uring_sqe_set_data(sqe, req);
	u->pending++;
	u->queued++;
}

/* After a merged call: the request's next step may merge again. */
static void uring_next(void *ctx, struct blk_req *req, struct blk_step *st)
{
	struct blk_uring *u = ctx;

	uring_issue(u, req->blk, req, st, true);
}

static struct blk_merge *merge_get(struct blk_uring *u)
{
	struct blk_merge *m = u->merge_free;

	if (m) {
		u->merge_free = m->next_free;
		return m;
	}
	m = malloc(sizeof(*m));
	if (m) {
		m->next_all = u->merge_all;
		u->merge_all = m;
	}
	return m;
}

static void merge_put(struct blk_uring *u, struct blk_merge *m)
{
	m->next_free = u->merge_free;
	u->merge_free = m;
}

/*
 * Issue the batch: runs of back-to-back transfers as one SQE each (or one
 * pwritev where writes run inline), the others alone.  Requests whose next
 * step joins the batch meanwhile are issued in the same loop.
 */
static void uring_issue_batch(struct blk_uring *u, struct ramdev_blk *blk)
{
	while (u->batch.head) {
		struct blk_merge *m = merge_get(u);
		struct io_uring_sqe *sqe;

		if (!m) { /* no memory for a merge: this one goes alone */
			struct blk_req *req = ramdev_blk_fifo_pop(&u->batch);

			uring_issue(u, blk, req, &req->step, false);
			continue;
		}
		ramdev_blk_batch_take(&u->batch, m);
		if (m->nreq == 1) {
			merge_put(u, m);
			uring_issue(u, blk, m->reqs[0], &m->reqs[0]->step,
				    false);
			continue;
		}
		sqe = NULL;
		if (m->st.kind == BLK_STEP_READV || u->wmode == WR_URING)
			sqe = uring_sqe(u);
		if (!sqe) {
			/* Writes the file system would hand to a worker (or
			 * no SQE): one pwritev/preadv here. */
			ramdev_blk_merge_result(m, ramdev_blk_step_sync(blk,
								       &m->st),
						uring_next, u);
			merge_put(u, m);
			continue;
		}
		uring_prep(u, blk, sqe, &m->st);
		io_uring_sqe_set_data(sqe, (void *)((uintptr_t)m |
						    URING_MERGE_TAG));
		u->pending++;
		u->queued++;
	}
}

static void uring_submit(void *opaque, struct ramdev_blk *blk,
			 struct blk_req *req)
{
	struct blk_step st;

	ramdev_blk_req_next(req, &st);
	uring_issue(opaque, blk, req, &st, true);
}

static int uring_kick(void *opaque, struct ramdev_blk *blk)
{
	struct blk_uring *u = opaque;
	int ret;

	uring_issue_batch(u, blk);
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

	ret = uring_kick(u, blk); /* the batch first: it may be all there is */
	if (ret < 0)
		return ret;
	if (!u->pending)
		return 0;
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
		uintptr_t data = (uintptr_t)io_uring_cqe_get_data(cqe);
		struct blk_req *req = (struct blk_req *)data;
		int64_t res = cqe->res;
		struct blk_step st;

		io_uring_cqe_seen(&u->ring, cqe);
		if (!data)
			continue;
		u->pending--;
		n++;
		if (data & URING_MERGE_TAG) {
			struct blk_merge *m = (struct blk_merge *)(data &
							~(uintptr_t)URING_MERGE_TAG);

			ramdev_blk_merge_result(m, res, uring_next, u);
			merge_put(u, m);
			continue;
		}
		st = req->step;
		ramdev_blk_req_advance(req, &st, res);
		uring_issue(u, blk, req, &st, true);
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
