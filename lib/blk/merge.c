// SPDX-License-Identifier: MIT
/*
 * virtio-blk request merging (merge.h): between a request's start and its
 * end, an engine puts transfer steps in a batch instead of issuing them
 * one by one, and issues the batch when it is kicked: requests whose
 * steps lie back to back in the image go as one call.  Only the system
 * call is shared: each request keeps its own step, status and result.
 */
#include <errno.h>
#include <string.h>

#include "dev.h"
#include "merge.h"
#include "req.h"

/* Bytes of @st's pieces: a step whose list stops short of its length
 * (more pieces than IOV_MAX) cannot be followed by the next request's. */
static uint64_t iov_bytes(const struct blk_step *st)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < st->iovcnt; i++)
		n += st->iov[i].iov_len;
	return n;
}

/* May @st join the run in @m (m->nreq 0: start it)? */
static bool joins(const struct blk_merge *m, const struct blk_step *st)
{
	if (m->nreq && (st->kind != m->st.kind ||
			st->off != m->st.off + m->st.len))
		return false;
	return m->nreq < BLK_MERGE_MAX_REQS && ramdev_blk_step_mergeable(st) &&
	       st->iovcnt <= BLK_MERGE_MAX_IOV - m->st.iovcnt &&
	       st->len <= BLK_MERGE_MAX_BYTES - m->st.len &&
	       iov_bytes(st) == st->len;
}

void ramdev_blk_batch_take(struct blk_fifo *b, struct blk_merge *m)
{
	struct blk_req *req = b->head;

	m->nreq = 0;
	m->st = req->step;
	m->st.iovcnt = 0;
	m->st.len = 0;
	while (req && joins(m, &req->step)) {
		const struct blk_step *st = &req->step;

		memcpy(m->iov + m->st.iovcnt, st->iov,
		       st->iovcnt * sizeof(m->iov[0]));
		m->st.iovcnt += st->iovcnt;
		m->st.len += st->len;
		m->reqs[m->nreq++] = req;
		req = req->next;
	}
	if (m->nreq > 1) {
		m->st.iov = m->iov;
		m->reqs[0]->blk->stats.merged += m->nreq;
	} else { /* alone, on its own step */
		if (!m->nreq) {
			m->reqs[0] = req;
			req = req->next;
		}
		m->nreq = 1;
		m->st = m->reqs[0]->step;
	}
	b->head = req;
	if (!req)
		b->tail = NULL;
}

void ramdev_blk_merge_result(struct blk_merge *m, int64_t res,
			     blk_merge_next_fn *next, void *ctx)
{
	uint64_t before = 0;

	if (res > 0 && (uint64_t)res > m->st.len)
		res = -EIO; /* the kernel moved too much: each retries alone */
	if (res == -EINTR || res == -EAGAIN)
		m->reqs[0]->blk->stats.retries++;
	for (unsigned i = 0; i < m->nreq; i++) {
		struct blk_req *req = m->reqs[i];
		struct blk_step st = req->step;
		uint64_t len = st.len;

		if (res >= 0 && (uint64_t)res >= before + len) {
			ramdev_blk_req_advance(req, &st, (int64_t)len);
		} else if (res > 0 && (uint64_t)res > before) {
			ramdev_blk_req_advance(req, &st,
					       res - (int64_t)before);
		} else {
			st.alone = true; /* retried by itself */
			req->step = st;
		}
		before += len;
		next(ctx, req, &st);
	}
}
