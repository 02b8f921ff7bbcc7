// SPDX-License-Identifier: MIT
/*
 * virtio-blk completions and quiescing: after the engine took a request
 * (queue.c started it), ramdev_blk_complete()/_wait() reap what the engine
 * finished (each finished request goes back through queue.c) and resume
 * stopped queues; drain, flush, detach and reset wait for the requests in
 * flight; and close's last resort fails what a dead engine holds.
 *
 * Quiescing: drain (and so detach, reset, close) waits for the requests in
 * flight only.  Meanwhile completions resume no queue, so a driver that
 * keeps its ring full cannot keep a reset from returning; the stopped
 * queues are resumed after the drain (ramdev_blk_drain() signals event_fd
 * for that; detach and reset forget them).
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <syslog.h>
#include <unistd.h>

#include "dev.h"
#include "engine.h"
#include "req.h"

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
	if (blk->stage_wait.head) {
		ramdev_blk_stage_resume(blk);
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
	ramdev_blk_collect_notify(blk, notify);
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
	while (blk->submitted || blk->flush_wait.head || blk->stage_wait.head) {
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
	ramdev_blk_req_cache_free(blk);
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

		req->kernel_may_use_buffers = !safe;
		dead_submit(NULL, blk, req);
	}
	/* FLUSHes waiting for those writes were started (and failed) as
	 * the writes finished; requests waiting for staging start (and
	 * fail) now that no space is reserved. */
	ramdev_blk_stage_resume(blk);
	assert(!blk->flush_wait.head && !blk->stage_wait.head);
}
