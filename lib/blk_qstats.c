// SPDX-License-Identifier: MIT
/* Per-queue counters of virtio-blk requests (ramdev_blk_get_queue_stats). */
#include <errno.h>

#include "blk_priv.h"

void ramdev_blk_qstats_count(const struct blk_req *req)
{
	struct ramdev_blk_queue_stats *st;

	if (req->qidx >= RAMDEV_BLK_MAX_QUEUES)
		return;
	st = &req->blk->qstats[req->qidx];
	st->requests++;
	if (req->status != RAMDEV_BLK_S_OK) {
		st->errors++;
		return;
	}
	if (req->op == BLK_OP_READ)
		st->bytes_read += req->len;
	else if (req->op == BLK_OP_WRITE)
		st->bytes_written += req->len;
	else
		return;
	/* stage_need: the data bytes in non-RAM segments (blk_stage.c). */
	st->bytes_devmem += req->stage_need;
}

RAMDEV_EXPORT int ramdev_blk_get_queue_stats(const struct ramdev_blk *blk,
					     unsigned idx,
					     struct ramdev_blk_queue_stats *st)
{
	if (!blk || !st || idx >= blk->num_queues)
		return -EINVAL;
	*st = blk->qstats[idx];
	return 0;
}
