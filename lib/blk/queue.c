// SPDX-License-Identifier: MIT
/*
 * virtio-blk queue glue: pop, start, complete, push, notify.
 *
 * Counters: blk->inflight (popped, not pushed) bounds the work per device
 * (options.depth); blk->submitted is what the engine holds;
 * blk->writes_inflight the write-type requests among them.
 *
 * FLUSH: it starts once every write started before it (on any queue: one
 * fdatasync covers the whole file) completed, and stops no queue meanwhile:
 * requests after it, writes included, are popped and run, and do not delay
 * it.  For that, writes carry a generation: a write joins blk->wgen, a FLUSH
 * waits for every generation up to the one current when it was popped, and
 * the device opens a new generation as soon as the one before the current
 * drained, so writes that come later join a generation the FLUSH does not
 * wait for.  At most two generations are ever in flight (wgen - 1 and wgen),
 * counted in wgen_count[gen & 1].
 *
 * A queue stops when the depth is reached, when pop cannot take a chain
 * now (-EAGAIN, -ENOMEM: stop_and_retry()), after a batch, or when a
 * request waits for staging space (blk_stage.c: then every queue stops
 * popping, so at most one request waits and it is the next to start);
 * ramdev_blk_complete() resumes it.
 *
 * Quiescing: drain (and so detach, reset, close) waits for the requests in
 * flight only.  Meanwhile completions resume no queue, so a driver that
 * keeps its ring full cannot keep a reset from returning; the stopped
 * queues are resumed after the drain (ramdev_blk_drain() signals event_fd
 * for that; detach and reset forget them).
 *
 * The queues are reached through struct ramdev_blk_queue_ops, so the tests
 * can feed hand-built chains; blk_virtq.c plugs in virtq.h.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "blk_priv.h"

void ramdev_blk_signal(struct ramdev_blk *blk)
{
	uint64_t one = 1;

	/* Before the write: complete() reads the fd only when this is set
	 * (or the kernel writes it too), see there. */
	__atomic_store_n(&blk->signalled, true, __ATOMIC_RELEASE);
	if (write(blk->event_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, so it is readable anyway */
	}
}

int ramdev_blk_attach_queue_ops(struct ramdev_blk *blk, unsigned idx,
				const struct ramdev_blk_queue_ops *ops, void *q)
{
	struct ramdev_blk_queue *bq;

	if (!blk || !ops || !q || idx >= blk->num_queues)
		return -EINVAL;
	bq = &blk->queues[idx];
	if (bq->ops)
		return -EBUSY;
	*bq = (struct ramdev_blk_queue){
		.ops = ops, .q = q, .blk = blk, .idx = idx,
	};
	return 0;
}

/* Finish @req and give it back to its queue. */
static void req_push(struct blk_req *req)
{
	struct ramdev_blk *blk = req->blk;
	struct ramdev_blk_queue *q = &blk->queues[req->qidx];
	enum ramdev_blk_err err = req->err;
	uint32_t written;
	int ret;

	/* Detach and reset refuse a queue with requests in flight. */
	assert(q->ops);
	if (req->lost) {
		/* An engine we could not stop may still read or write its
		 * buffers: pushing would unmap them (bounce buffers back to
		 * the pool, region references dropped).  Leak the request,
		 * its element, their mappings and its staging buffer instead
		 * (close only), but give its staging reservation back: the
		 * budget is bookkeeping, and requests still waiting for it
		 * must start (and fail on the stopped engine) for close to
		 * finish. */
		ramdev_blk_stage_release(req);
		q->inflight--;
		blk->inflight--;
		return;
	}
	ramdev_blk_req_finish(req, &written);
	ret = q->ops->push(q->q, req->elem, written);
	if (ret < 0)
		ramdev_blk_log(blk, LOG_WARNING,
			       "virtio-blk: queue %u: push failed (%d)",
			       req->qidx, ret);
	q->inflight--;
	blk->inflight--;
	blk->stats.completed++;
	blk->pushed |= 1ull << req->qidx;
	ramdev_blk_req_free(req);
	if ((err == RAMDEV_BLK_HDR_SHORT || err == RAMDEV_BLK_NO_STATUS) &&
	    !blk->broken) {
		/* The driver broke the framing: the device needs a reset. */
		blk->broken = err;
		ramdev_blk_log(blk, LOG_ERR,
			       "virtio-blk: device broken: %s",
			       ramdev_blk_strerror(err));
	}
}

static void req_start(struct ramdev_blk *blk, struct blk_req *req)
{
	if (req->op == BLK_OP_NONE) {
		req_push(req);
		return;
	}
	blk->submitted++;
	req->sub_prev = NULL;
	req->sub_next = blk->sub_head;
	if (blk->sub_head)
		blk->sub_head->sub_prev = req;
	blk->sub_head = req;
	if (req->counts_as_write) {
		blk->writes_inflight++;
		req->gen = blk->wgen;
		blk->wgen_count[req->gen & 1]++;
	}
	blk->engine->submit(blk->engine_opaque, blk, req);
}

/* No write of generation <= @gen is in flight (only wgen - 1, wgen can be). */
static bool flush_ready(const struct ramdev_blk *blk, uint64_t gen)
{
	uint64_t cur = blk->wgen;

	if (gen + 1 < cur)
		return true;
	if (blk->wgen_count[(cur - 1) & 1])
		return false;
	return gen < cur || blk->wgen_count[cur & 1] == 0;
}

/*
 * A FLUSH waits for the current generation: open a new one for later
 * writes, once the older slot is free for it.  Then start the FLUSHes whose
 * writes all completed (in order: their generations never decrease).
 */
static void flush_progress(struct ramdev_blk *blk)
{
	if (blk->flush_tail && blk->flush_tail->gen == blk->wgen &&
	    blk->wgen_count[(blk->wgen - 1) & 1] == 0)
		blk->wgen++;
	while (blk->flush_head && flush_ready(blk, blk->flush_head->gen)) {
		struct blk_req *f = blk->flush_head;

		blk->flush_head = f->next;
		if (!blk->flush_head)
			blk->flush_tail = NULL;
		req_start(blk, f);
	}
}

/* Called by the engine when a started request finished. */
void ramdev_blk_req_done(struct blk_req *req)
{
	struct ramdev_blk *blk = req->blk;
	bool was_write = req->counts_as_write;
	uint64_t gen = req->gen;

	if (req->sub_prev)
		req->sub_prev->sub_next = req->sub_next;
	else
		blk->sub_head = req->sub_next;
	if (req->sub_next)
		req->sub_next->sub_prev = req->sub_prev;
	blk->submitted--;
	req_push(req);
	if (!was_write)
		return;
	blk->writes_inflight--;
	blk->wgen_count[gen & 1]--;
	if (blk->flush_head)
		flush_progress(blk);
}

static void collect_notify(struct ramdev_blk *blk, uint64_t *notify)
{
	uint64_t pushed = blk->pushed;

	blk->pushed = 0;
	for (unsigned i = 0; pushed; i++, pushed >>= 1) {
		struct ramdev_blk_queue *q = &blk->queues[i];

		if ((pushed & 1) && q->ops && q->ops->should_notify(q->q) &&
		    notify)
			*notify |= 1ull << i;
	}
}

/*
 * pop could not take a chain now (-EAGAIN: the DMA layer asks to wait;
 * -ENOMEM): the chain stays available.  Stop the queue; our own completions
 * resume it, or, with none in flight, event_fd made readable brings the
 * event loop back to ramdev_blk_complete(), which retries.  Kicks are off
 * while popping, so without this the queue would wait for an unrelated kick.
 */
static void stop_and_retry(struct ramdev_blk *blk, unsigned idx)
{
	blk->stopped |= 1ull << idx;
	if (!blk->submitted)
		ramdev_blk_signal(blk);
}

/* Start the requests waiting for staging space, in order, while it lasts. */
static void stage_resume(struct ramdev_blk *blk)
{
	while (blk->stage_head && ramdev_blk_stage_begin(blk->stage_head)) {
		struct blk_req *req = blk->stage_head;

		blk->stage_head = req->next;
		if (!blk->stage_head)
			blk->stage_tail = NULL;
		req_start(blk, req);
	}
}

/* Take one chain from @q and start it.  1 popped, 0 empty, -errno. */
static int pop_one(struct ramdev_blk *blk, struct ramdev_blk_queue *q)
{
	struct ramdev_virtq_elem *elem;
	struct blk_req *req;
	int ret;

	ret = q->ops->pop(q->q, &elem);
	if (ret <= 0)
		return ret;
	blk->stats.requests++;
	q->inflight++;
	blk->inflight++;
	if (ramdev_blk_req_parse(blk, elem, q->idx, &req) < 0) {
		ramdev_blk_log(blk, LOG_WARNING,
			       "virtio-blk: queue %u: out of memory", q->idx);
		blk->stats.errors[RAMDEV_BLK_NOMEM]++;
		blk->stats.status[RAMDEV_BLK_S_IOERR]++;
		ret = q->ops->push(q->q, elem, ramdev_blk_elem_ioerr(elem));
		(void)ret;
		q->inflight--;
		blk->inflight--;
		blk->stats.completed++;
		blk->pushed |= 1ull << q->idx;
		return 1;
	}
	if (req->op == BLK_OP_FLUSH && blk->writes_inflight) {
		/* Wait for the writes started so far (see the top). */
		blk->stats.flush_waits++;
		req->gen = blk->wgen;
		req->next = NULL;
		if (blk->flush_tail)
			blk->flush_tail->next = req;
		else
			blk->flush_head = req;
		blk->flush_tail = req;
		flush_progress(blk);
		return 1;
	}
	if (req->stage_need && (blk->stage_head || !ramdev_blk_stage_begin(req))) {
		/* Not enough staging space free: wait for completions. */
		blk->stats.stage_waits++;
		req->next = NULL;
		if (blk->stage_tail)
			blk->stage_tail->next = req;
		else
			blk->stage_head = req;
		blk->stage_tail = req;
		return 1;
	}
	req_start(blk, req);
	return 1;
}

RAMDEV_EXPORT int ramdev_blk_process(struct ramdev_blk *blk, unsigned idx,
				     uint64_t *notify)
{
	struct ramdev_blk_queue *q;
	int ret = 0, n = 0, work = 0;

	if (!blk || idx >= blk->num_queues || !blk->queues[idx].ops)
		return -EINVAL;
	q = &blk->queues[idx];
	if (blk->broken)
		return -EIO;
	blk->stopped &= ~(1ull << idx);
	/* No kicks while we pop anyway (VIRTIO 1.2 2.7.10). */
	if (q->ops->set_notify)
		q->ops->set_notify(q->q, false);
	stage_resume(blk);
	while (!blk->broken) {
		if (blk->inflight >= blk->depth || blk->stage_head) {
			blk->stopped |= 1ull << idx; /* resumed by complete() */
			break;
		}
		/* A guest that refills its ring as fast as we finish requests
		 * (always possible with the sync engine, which finishes them
		 * inline), or that makes the empty re-check below see buffers
		 * pop then does not find (moving avail idx back and forth),
		 * must not hold this thread: after a bounded batch of pops and
		 * re-checks, yield to the event loop, with event_fd readable
		 * so its next ramdev_blk_complete() carries on. */
		if (work++ >= RAMDEV_BLK_PROCESS_BATCH) {
			blk->stopped |= 1ull << idx;
			ramdev_blk_signal(blk);
			break;
		}
		ret = pop_one(blk, q);
		if (ret == -EAGAIN || ret == -ENOMEM) {
			stop_and_retry(blk, idx);
			if (ret == -EAGAIN)
				ret = 0; /* not an error: it will be retried */
			break;
		}
		if (ret < 0)
			break;
		if (ret == 0) {
			/* Empty: ask for kicks again, then look once more for
			 * buffers the driver added before it saw that. */
			if (!q->ops->set_notify || !q->ops->set_notify(q->q, true))
				break;
			continue;
		}
		n++;
	}
	if (blk->engine->kick(blk->engine_opaque, blk) < 0 && !blk->broken) {
		blk->broken = RAMDEV_BLK_IO;
		ramdev_blk_log(blk, LOG_ERR, "virtio-blk: engine %s failed",
			       blk->engine->name);
	}
	collect_notify(blk, notify);
	if (ret < 0)
		return ret;
	return blk->broken ? -EIO : n;
}

RAMDEV_EXPORT int ramdev_blk_event_fd(const struct ramdev_blk *blk)
{
	return blk ? blk->event_fd : -EINVAL;
}

/*
 * Reap without blocking (or up to @timeout_ms), then resume stopped queues.
 * Returns the number pushed; *@reaped gets the engine's answer (-errno: it
 * failed, and the device is broken).
 */
static int complete(struct ramdev_blk *blk, int timeout_ms, uint64_t *notify,
		    int *reaped)
{
	uint64_t before = blk->stats.completed, stopped, buf;
	int ret;

	/* Drain event_fd before reaping, so a completion that lands after
	 * the reap leaves it readable.  One read takes the whole counter.
	 * Only io_uring (registered) and ramdev_blk_signal() write it: with
	 * neither there is nothing to read, and no system call is made. */
	if (blk->kernel_signals ||
	    __atomic_exchange_n(&blk->signalled, false, __ATOMIC_ACQ_REL)) {
		if (read(blk->event_fd, &buf, sizeof(buf)) < 0) {
			/* EAGAIN: nothing was pending */
		}
	}
	ret = blk->engine->reap(blk->engine_opaque, blk, timeout_ms);
	*reaped = ret;
	if (ret < 0 && !blk->broken) {
		blk->broken = RAMDEV_BLK_IO;
		ramdev_blk_log(blk, LOG_ERR, "virtio-blk: engine %s failed (%d)",
			       blk->engine->name, ret);
	}
	/* Requests popped and waiting for staging space are in flight: they
	 * start even while quiescing. */
	if (blk->stage_head) {
		stage_resume(blk);
		if (blk->engine->kick(blk->engine_opaque, blk) < 0 &&
		    !blk->broken)
			blk->broken = RAMDEV_BLK_IO;
	}
	stopped = blk->stopped;
	if (stopped && blk->inflight < blk->depth && !blk->broken &&
	    !blk->quiescing) {
		for (unsigned i = 0; stopped; i++, stopped >>= 1) {
			struct ramdev_blk_queue *q = &blk->queues[i];

			if ((stopped & 1) && q->ops)
				(void)ramdev_blk_process(blk, i, notify);
		}
	}
	collect_notify(blk, notify);
	return (int)(blk->stats.completed - before);
}

/* Requests pushed; -EIO only when nothing was and the engine failed. */
static int complete_public(struct ramdev_blk *blk, int timeout_ms,
			   uint64_t *notify)
{
	int reaped, n = complete(blk, timeout_ms, notify, &reaped);

	if (n == 0 && blk->broken == RAMDEV_BLK_IO)
		return -EIO;
	return n;
}

RAMDEV_EXPORT int ramdev_blk_complete(struct ramdev_blk *blk, uint64_t *notify)
{
	if (!blk)
		return -EINVAL;
	return complete_public(blk, 0, notify);
}

RAMDEV_EXPORT int ramdev_blk_wait(struct ramdev_blk *blk, int timeout_ms,
				  uint64_t *notify)
{
	if (!blk)
		return -EINVAL;
	return complete_public(blk, blk->submitted ? timeout_ms : 0, notify);
}

RAMDEV_EXPORT int ramdev_blk_drain(struct ramdev_blk *blk, uint64_t *notify)
{
	unsigned tries = 0;
	int ret = 0, total = 0;

	if (!blk)
		return -EINVAL;
	blk->quiescing++;
	/* An engine that failed (the device is broken) may still finish
	 * what it holds: keep reaping while it does. */
	while (blk->submitted || blk->flush_head || blk->stage_head) {
		int reaped, n = complete(blk, -1, notify, &reaped);

		total += n;
		if (n > 0 || reaped >= 0) {
			tries = 0;
			continue;
		}
		if (++tries >= BLK_DRAIN_TRIES) {
			ret = -EIO; /* requests stay in flight */
			break;
		}
		usleep(BLK_DRAIN_PAUSE_US);
	}
	blk->quiescing--;
	/* Queues stopped meanwhile: let the event loop's next complete()
	 * resume them (no completion will wake it up any more). */
	if (blk->stopped && !blk->quiescing && !blk->broken)
		ramdev_blk_signal(blk);
	return ret < 0 ? ret : total;
}

RAMDEV_EXPORT int ramdev_blk_flush(struct ramdev_blk *blk, uint64_t *notify)
{
	int ret;

	if (!blk)
		return -EINVAL;
	ret = ramdev_blk_drain(blk, notify);
	if (ret < 0)
		return ret;
	if (blk->wb_err)
		return -EIO;
	if (fdatasync(blk->fd) < 0) {
		ret = -errno;
		if (ret != -EINTR)
			ramdev_blk_wb_fail(blk, -ret);
		return ret;
	}
	blk->stats.flushes++;
	return 0;
}

RAMDEV_EXPORT unsigned ramdev_blk_inflight(const struct ramdev_blk *blk)
{
	return blk ? blk->inflight : 0;
}

RAMDEV_EXPORT int ramdev_blk_detach_queue(struct ramdev_blk *blk, unsigned idx)
{
	if (!blk || idx >= blk->num_queues)
		return -EINVAL;
	if (!blk->queues[idx].ops)
		return -ENOENT;
	(void)ramdev_blk_drain(blk, NULL);
	if (blk->queues[idx].inflight)
		return -EBUSY; /* a failed engine still holds some */
	blk->stopped &= ~(1ull << idx);
	blk->pushed &= ~(1ull << idx);
	blk->queues[idx] = (struct ramdev_blk_queue){ 0 };
	return 0;
}

RAMDEV_EXPORT int ramdev_blk_reset(struct ramdev_blk *blk)
{
	if (!blk)
		return -EINVAL;
	(void)ramdev_blk_drain(blk, NULL);
	if (blk->inflight) {
		ramdev_blk_log(blk, LOG_ERR, "virtio-blk: reset: %u requests "
			       "still in flight", blk->inflight);
		return -EBUSY;
	}
	for (unsigned i = 0; i < blk->num_queues; i++)
		blk->queues[i] = (struct ramdev_blk_queue){ 0 };
	blk->stopped = 0;
	blk->pushed = 0;
	blk->broken = RAMDEV_BLK_OK;
	blk->wb_err = 0;
	return 0;
}

/* ---- the last resort: fail what a dead engine holds ---- */

static int dead_init(struct ramdev_blk *blk, void **opaque)
{
	(void)blk;
	*opaque = NULL;
	return -ENODEV;
}

static void dead_fini(void *opaque, struct ramdev_blk *blk)
{
	(void)opaque;
	(void)blk;
}

/* Fails @req at once: the engine it was meant for is gone. */
static void dead_submit(void *opaque, struct ramdev_blk *blk,
			struct blk_req *req)
{
	(void)opaque;
	(void)blk;
	req->status = RAMDEV_BLK_S_IOERR;
	req->err = RAMDEV_BLK_IO;
	req->op = BLK_OP_NONE;
	ramdev_blk_req_done(req);
}

static int dead_kick(void *opaque, struct ramdev_blk *blk)
{
	(void)opaque;
	(void)blk;
	return 0;
}

static int dead_reap(void *opaque, struct ramdev_blk *blk, int timeout_ms)
{
	(void)opaque;
	(void)blk;
	(void)timeout_ms;
	return 0;
}

static const struct ramdev_blk_engine_ops blk_engine_dead = {
	.name = "stopped", .init = dead_init, .fini = dead_fini,
	.submit = dead_submit, .kick = dead_kick, .reap = dead_reap,
};

/*
 * close() with requests the engine cannot finish: stop the engine, then
 * fail every request in flight with IOERR and push it, so no element and
 * no region reference is lost.  When the engine could not confirm that the
 * kernel is done with their buffers, the requests are not pushed: their
 * elements, mappings and staging buffers are leaked on purpose (a bounded
 * loss, not a kernel write into memory reused or released meanwhile).
 */
void ramdev_blk_cancel(struct ramdev_blk *blk)
{
	const struct ramdev_blk_engine_ops *e = blk->engine;
	bool safe = false;

	if (e->cancel) {
		safe = e->cancel(blk->engine_opaque, blk);
	} else {
		/* Without a cancel op, fini stops the engine synchronously:
		 * nothing of it runs once it returns. */
		e->fini(blk->engine_opaque, blk);
		safe = true;
	}
	blk->engine = &blk_engine_dead;
	blk->engine_opaque = NULL;
	ramdev_blk_log(blk, LOG_ERR,
		       "virtio-blk: engine %s stopped with %u requests in "
		       "flight: they fail with IOERR%s", e->name, blk->inflight,
		       safe ? "" : " (not pushed, their buffers leaked: the "
		       "kernel may still use them)");
	while (blk->sub_head) {
		struct blk_req *req = blk->sub_head;

		req->lost = !safe;
		dead_submit(NULL, blk, req);
	}
	/* FLUSHes waiting for those writes were started (and failed) as
	 * the writes finished; requests waiting for staging start (and
	 * fail) now that no space is reserved. */
	stage_resume(blk);
	assert(!blk->flush_head && !blk->stage_head);
}
