// SPDX-License-Identifier: MIT
/*
 * virtio-blk, the sync engine (engine.h): the stage of a request's life
 * between its start (queue.c submits it) and its end.  It runs every step
 * inline with preadv/pwritev/fdatasync/fallocate (ramdev_blk_req_run(),
 * step.c) and reports the request done (queue.c) before submit returns.
 */
#include "dev.h"
#include "engine.h"

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
	(void)opaque;
	(void)blk;
	ramdev_blk_req_run(req);
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
