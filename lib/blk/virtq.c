// SPDX-License-Identifier: MIT
/* virtio-blk on real virtqueues (virtq.h): the default queue ops. */
#include <errno.h>

#include "blk_priv.h"

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
