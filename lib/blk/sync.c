// SPDX-License-Identifier: MIT
/*
 * virtio-blk, the sync engine (engine.h): the stage of a request's life
 * between its start (queue.c submits it) and its end.  It runs every step
 * inline with preadv/pwritev/fdatasync/fallocate (step.c) on the calling
 * thread, requests in the order they started.  A request whose first step
 * is a transfer waits in a batch (and so does every request behind it)
 * until the kick that ends ramdev_blk_process() (or a reap), so that the
 * transfers of a batch that lie back to back go as one call (merge.h);
 * with merging off, and with no batch waiting, other requests run before
 * submit returns.  Either way a request is done when the call that
 * started it returns.
 */
#include <errno.h>
#include <stdlib.h>

#include "dev.h"
#include "engine.h"
#include "merge.h"
#include "req.h"

struct blk_sync {
	struct blk_fifo batch;
	bool running;           /* in sync_run: do not recurse */
	struct blk_merge merge;
};

static int sync_init(struct ramdev_blk *blk, void **opaque)
{
	(void)blk;
	*opaque = calloc(1, sizeof(struct blk_sync));
	return *opaque ? 0 : -ENOMEM;
}

static void sync_fini(void *opaque, struct ramdev_blk *blk)
{
	(void)blk;
	free(opaque);
}

/* Run the request's steps from *@st on until it is done. */
static void run_rest(void *ctx, struct blk_req *req, struct blk_step *st)
{
	(void)ctx;
	while (st->kind != BLK_STEP_DONE)
		ramdev_blk_req_step_inline(req, st);
	ramdev_blk_req_done(req);
}

static void sync_submit(void *opaque, struct ramdev_blk *blk,
			struct blk_req *req)
{
	struct blk_sync *s = opaque;
	struct blk_step st;

	ramdev_blk_req_next(req, &st);
	/* Behind a batch, any request waits too: requests run in order. */
	if (blk->merge && (ramdev_blk_step_mergeable(&st) || s->batch.head))
		ramdev_blk_fifo_push(&s->batch, req);
	else
		run_rest(NULL, req, &st);
}

/* Run the batch, merged.  Requests finishing here may start others (a
 * FLUSH that waited for them): those join the batch and run too. */
static void sync_run(struct blk_sync *s, struct ramdev_blk *blk)
{
	struct blk_merge *m = &s->merge;

	if (s->running)
		return;
	s->running = true;
	while (s->batch.head) {
		ramdev_blk_batch_take(&s->batch, m);
		if (m->nreq == 1) {
			struct blk_step st = m->reqs[0]->step;

			run_rest(NULL, m->reqs[0], &st);
			continue;
		}
		ramdev_blk_merge_result(m, ramdev_blk_step_sync(blk, &m->st),
					run_rest, NULL);
	}
	s->running = false;
}

static int sync_kick(void *opaque, struct ramdev_blk *blk)
{
	sync_run(opaque, blk);
	return 0;
}

static int sync_reap(void *opaque, struct ramdev_blk *blk, int timeout_ms)
{
	uint64_t before = blk->stats.completed;

	(void)timeout_ms;
	sync_run(opaque, blk);
	return (int)(blk->stats.completed - before);
}

const struct ramdev_blk_engine_ops ramdev_blk_engine_sync = {
	.name = "sync",
	.init = sync_init,
	.fini = sync_fini,
	.submit = sync_submit,
	.kick = sync_kick,
	.reap = sync_reap,
};
