// SPDX-License-Identifier: MIT
/*
 * virtio-blk queue glue: the first and the last stage of a request's life.
 * ramdev_blk_process() pops a chain, has req.c parse it and stage.c stage
 * it, and starts it on the engine (engine.h); the engine calls
 * ramdev_blk_req_done(), which has req.c finish it and pushes it back.
 * Completions, drain, flush and reset are in drain.c.
 *
 * Counters: blk->inflight (popped, not pushed) bounds the work per device
 * (options.depth); blk->submitted is what the engine holds;
 * blk->writes_inflight the write-type requests among them.
 *
 * FLUSH: it starts once every write started before it (on any queue: one
 * fdatasync covers the whole file) completed, and stops no queue meanwhile:
 * requests after it, writes included, are popped and run, and do not delay
 * it.  For that, writes carry a generation: a write joins blk->write_gen, a
 * FLUSH waits for every generation up to the one current when it was
 * popped, and the device opens a new generation as soon as the one before
 * the current drained, so writes that come later join a generation the
 * FLUSH does not wait for.  At most two generations are ever in flight
 * (write_gen - 1 and write_gen), counted in writes_of_gen[gen & 1].
 *
 * A queue stops when the depth is reached, when pop cannot take a chain
 * now (-EAGAIN, -ENOMEM: stop_and_retry()), after a batch, or when a
 * request waits for staging space (stage.c: then every queue stops
 * popping, so at most one request waits and it is the next to start);
 * ramdev_blk_complete() (drain.c) resumes it.  At the depth or a staging
 * wait the engine is kicked first (kick_for_room()): the sync engine
 * finishes its batch there, and popping goes on.
 *
 * The queues are reached through struct ramdev_blk_queue_ops (dev.h), so
 * the tests can feed hand-built chains; the default ops below plug in
 * virtq.h.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "dev.h"
#include "engine.h"
#include "req.h"
#include "stage.h"

/* ---- the default queue ops: virtio-blk on real virtqueues (virtq.h) ---- */

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

static int vq_pop(void *q, struct ramdev_virtq_elem **out)
{
	return ramdev_virtq_pop(q, out);
}

static int vq_push(void *q, struct ramdev_virtq_elem *elem, uint32_t written)
{
	return ramdev_virtq_push(q, elem, written);
}

static bool vq_should_notify(void *q)
{
	return ramdev_virtq_should_notify(q);
}

static bool vq_set_notify(void *q, bool on)
{
	return ramdev_virtq_set_notify(q, on);
}

static const struct ramdev_blk_queue_ops virtq_ops = {
	.pop = vq_pop,
	.push = vq_push,
	.should_notify = vq_should_notify,
	.set_notify = vq_set_notify,
};

RAMDEV_EXPORT int ramdev_blk_attach_queue(struct ramdev_blk *blk, unsigned idx,
					  struct ramdev_virtq *vq,
					  struct ramdev_dma *dma)
{
	(void)dma; /* see blk.h: nothing waits for bounce space any more */
	return ramdev_blk_attach_queue_ops(blk, idx, &virtq_ops, vq);
}

/* ---- a request's life: pop, start, done, push ---- */

/* Finish @req and give it back to its queue. */
static void req_push(struct blk_req *req)
{
	struct ramdev_blk *blk = req->blk;
	struct ramdev_blk_queue *q = &blk->queues[req->qidx];
	enum ramdev_blk_err err = req->err;
	struct ramdev_virtq_elem *elem;
	uint32_t written;
	int ret;

	/* Detach and reset refuse a queue with requests in flight. */
	assert(q->ops);
	if (req->kernel_may_use_buffers) {
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
	/* The request is recycled here: only its element is left. */
	elem = ramdev_blk_req_finish(req, &written);
	ret = q->ops->push(q->q, elem, written);
	if (ret < 0)
		ramdev_blk_log(blk, LOG_WARNING,
			       "virtio-blk: queue %u: push failed (%d)",
			       q->idx, ret);
	q->inflight--;
	blk->inflight--;
	blk->stats.completed++;
	blk->pushed |= 1ull << q->idx;
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
		req->gen = blk->write_gen;
		blk->writes_of_gen[req->gen & 1]++;
	}
	blk->engine->submit(blk->engine_opaque, blk, req);
}

/* No write of generation <= @gen is in flight (only write_gen - 1 and
 * write_gen can be). */
static bool flush_ready(const struct ramdev_blk *blk, uint64_t gen)
{
	uint64_t cur = blk->write_gen;

	if (gen + 1 < cur)
		return true;
	if (blk->writes_of_gen[(cur - 1) & 1])
		return false;
	return gen < cur || blk->writes_of_gen[cur & 1] == 0;
}

/*
 * A FLUSH waits for the current generation: open a new one for later
 * writes, once the older slot is free for it.  Then start the FLUSHes whose
 * writes all completed (in order: their generations never decrease).
 */
static void flush_progress(struct ramdev_blk *blk)
{
	if (blk->flush_wait.tail && blk->flush_wait.tail->gen == blk->write_gen &&
	    blk->writes_of_gen[(blk->write_gen - 1) & 1] == 0)
		blk->write_gen++;
	while (blk->flush_wait.head &&
	       flush_ready(blk, blk->flush_wait.head->gen))
		req_start(blk, ramdev_blk_fifo_pop(&blk->flush_wait));
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
	blk->writes_of_gen[gen & 1]--;
	if (blk->flush_wait.head)
		flush_progress(blk);
}

/* Add the queues pushed to that need a notification to *@notify. */
void ramdev_blk_collect_notify(struct ramdev_blk *blk, uint64_t *notify)
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
void ramdev_blk_stage_resume(struct ramdev_blk *blk)
{
	while (blk->stage_wait.head &&
	       ramdev_blk_stage_begin(blk->stage_wait.head))
		req_start(blk, ramdev_blk_fifo_pop(&blk->stage_wait));
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
		req->gen = blk->write_gen;
		ramdev_blk_fifo_push(&blk->flush_wait, req);
		flush_progress(blk);
		return 1;
	}
	if (req->stage_need && (blk->stage_wait.head || !ramdev_blk_stage_begin(req))) {
		/* Not enough staging space free: wait for completions. */
		blk->stats.stage_waits++;
		ramdev_blk_fifo_push(&blk->stage_wait, req);
		return 1;
	}
	req_start(blk, req);
	return 1;
}

static void engine_kick(struct ramdev_blk *blk)
{
	if (blk->engine->kick(blk->engine_opaque, blk) < 0 && !blk->broken) {
		blk->broken = RAMDEV_BLK_IO;
		ramdev_blk_log(blk, LOG_ERR, "virtio-blk: engine %s failed",
			       blk->engine->name);
	}
}

/*
 * The depth is reached, or a request waits for staging space: kick the
 * engine now.  One that finishes requests inline (the sync engine runs its
 * batch then) frees room, and popping goes on; true if it did.
 */
static bool kick_for_room(struct ramdev_blk *blk)
{
	engine_kick(blk);
	ramdev_blk_stage_resume(blk);
	return !blk->broken && blk->inflight < blk->depth && !blk->stage_wait.head;
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
	ramdev_blk_stage_resume(blk);
	while (!blk->broken) {
		if ((blk->inflight >= blk->depth || blk->stage_wait.head) &&
		    !kick_for_room(blk)) {
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
	engine_kick(blk);
	/* Stopped on the way (pop's -EAGAIN/-ENOMEM, the depth) and nothing
	 * left in the engine: the kick finished it all (the sync engine's
	 * batch), so no completion will bring the event loop back. */
	if ((blk->stopped & (1ull << idx)) && !blk->submitted && !blk->broken)
		ramdev_blk_signal(blk);
	ramdev_blk_collect_notify(blk, notify);
	if (ret < 0)
		return ret;
	return blk->broken ? -EIO : n;
}
