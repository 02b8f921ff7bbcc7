/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk private header: request merging (merge.c).  Transfers of
 * different requests that lie back to back in the image go to the kernel
 * as one preadv/pwritev (or one io_uring SQE), as QEMU's virtio-blk does
 * for the requests of one batch.  A guest that keeps many small sequential
 * requests in flight then pays one system call for several of them.
 * Not installed.
 */
#ifndef RAMDEV_BLK_MERGE_H
#define RAMDEV_BLK_MERGE_H

#include <stdint.h>
#include <sys/uio.h>

#include "dev.h"
#include "engine.h"

struct blk_req;

/*
 * Only transfers of at most BLK_MERGE_STEP_MAX bytes merge: a call costs
 * about as much as copying 4 KiB, so larger transfers gain a few percent
 * at most, and staged ones would lose their staging buffer's warmth (a
 * run of 64 KiB reads stages a whole run before the first copy out).
 * Bounds of one merged call: requests, iovec pieces, bytes.
 */
#define BLK_MERGE_STEP_MAX (32u * 1024u)
#define BLK_MERGE_MAX_REQS 32u
#define BLK_MERGE_MAX_IOV 256u
#define BLK_MERGE_MAX_BYTES (1u << 20)

/* A run of requests whose current steps (req->step) form one transfer. */
struct blk_merge {
	struct blk_step st;  /* the transfer: m->iov, the pieces in order */
	struct blk_merge *next_free, *next_all;  /* an engine's pool */
	unsigned nreq;
	struct blk_req *reqs[BLK_MERGE_MAX_REQS];
	struct iovec iov[BLK_MERGE_MAX_IOV];
};

/* Can the step @st join a merged call?  (A small READV/WRITEV not marked
 * alone.) */
static inline bool ramdev_blk_step_mergeable(const struct blk_step *st)
{
	return (st->kind == BLK_STEP_READV || st->kind == BLK_STEP_WRITEV) &&
	       !st->alone && st->len <= BLK_MERGE_STEP_MAX;
}

/*
 * @b: an engine's batch, the requests whose current step waits to be
 * issued (ramdev_blk_fifo_push(), req.h).
 * Take the requests at the head of @b whose steps follow each other in the
 * image (same kind, each starting where the one before ends) into @m, at
 * least one.  m->nreq == 1: m->st is that request's own step; above 1,
 * m->st is the merged transfer over m->iov.
 */
void ramdev_blk_batch_take(struct blk_fifo *b, struct blk_merge *m);

/* What an engine does with a request after a merged call: issue its next
 * step *@st (BLK_STEP_DONE: report it done). */
typedef void blk_merge_next_fn(void *ctx, struct blk_req *req,
			       struct blk_step *st);

/*
 * Share @res, the merged call's result, among m's requests in order: a
 * request the bytes moved cover gets its length, the one they end in gets
 * what it got (step.c resumes the rest), the ones after it get nothing and
 * retry their step alone (st.alone), so an error or a short transfer is
 * reported per request exactly as without merging.  Calls @next for each.
 */
void ramdev_blk_merge_result(struct blk_merge *m, int64_t res,
			     blk_merge_next_fn *next, void *ctx);

#endif /* RAMDEV_BLK_MERGE_H */
