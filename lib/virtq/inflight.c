// SPDX-License-Identifier: MIT
/*
 * Support for inflight I/O tracking (vhost-user INFLIGHT_SHMFD): hooks that
 * see every head popped and pushed, and a resubmit list of heads popped by
 * an earlier instance of the device, returned by pop before the avail ring.
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

int ramdev_virtq_pop_resubmit(struct ramdev_virtq *vq,
			      struct ramdev_virtq_elem **out)
{
	uint16_t head = vq->resubmit[vq->resubmit_pos];
	int ret;

	/* Each in-flight chain holds one of the size descriptors (2.7.5). */
	if (vq->inflight >= vq->cfg.size)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_AVAIL_IDX,
					 "virtq: %s: 0x%x chains in flight, "
					 "size 0x%x (resubmit)",
					 ramdev_virtq_strerror(RAMDEV_VIRTQ_AVAIL_IDX),
					 vq->inflight, vq->cfg.size);
	ret = ramdev_virtq_chain_pop(vq, head, out);
	if (ret <= 0)
		return ret;
	vq->resubmit_pos++;
	vq->inflight++;
	if (vq->hooks.popped)
		vq->hooks.popped(vq->hooks.opaque, head);
	return 1;
}

void ramdev_virtq_resubmit_free(struct ramdev_virtq *vq)
{
	free(vq->resubmit);
	vq->resubmit = NULL;
	vq->resubmit_n = vq->resubmit_pos = 0;
}

RAMDEV_EXPORT uint16_t ramdev_virtq_used_idx(const struct ramdev_virtq *vq)
{
	return vq ? vq->used_idx : 0;
}
