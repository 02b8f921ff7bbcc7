// SPDX-License-Identifier: MIT
/*
 * Support for inflight I/O tracking (vhost-user INFLIGHT_SHMFD): hooks that
 * see every head popped and pushed, and a resubmit list of heads popped by
 * an earlier instance of the device, which pop.c returns before the avail
 * ring.  The last file of a queue's life: it calls no other file here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

RAMDEV_EXPORT void ramdev_virtq_set_hooks(struct ramdev_virtq *vq,
					  const struct ramdev_virtq_hooks *hooks)
{
	if (!vq)
		return;
	if (hooks)
		vq->hooks = *hooks;
	else
		memset(&vq->hooks, 0, sizeof(vq->hooks));
}

RAMDEV_EXPORT int ramdev_virtq_set_resubmit(struct ramdev_virtq *vq,
					    const uint16_t *heads, unsigned n)
{
	uint16_t *copy = NULL;

	if (!vq || (n && !heads) || n > vq->cfg.size)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (heads[i] >= vq->cfg.size)
			return -EINVAL;
	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, heads, n * sizeof(*copy));
	}
	free(vq->resubmit);
	vq->resubmit = copy;
	vq->resubmit_n = n;
	vq->resubmit_pos = 0;
	return 0;
}

void ramdev_virtq_resubmit_free(struct ramdev_virtq *vq)
{
	free(vq->resubmit);
	vq->resubmit = NULL;
	vq->resubmit_n = vq->resubmit_pos = 0;
}
