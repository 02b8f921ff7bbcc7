// SPDX-License-Identifier: MIT
/*
 * The split virtqueue, the last stage of an element's life: push (the used
 * ring, VIRTIO 1.2 section 2.7.8) and notification suppression in both
 * directions (2.7.7, 2.7.10).  Before it: pop.c.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "elem.h"
#include "queue.h"

/* ---- push ---- */

RAMDEV_EXPORT int ramdev_virtq_push(struct ramdev_virtq *vq,
				    struct ramdev_virtq_elem *elem,
				    uint32_t written)
{
	struct virtq_elem_priv *p;
	uint64_t slot;
	uint16_t head;
	bool dev;

	if (!vq || !elem)
		return -EINVAL;
	p = (struct virtq_elem_priv *)elem;
	if (p->owner != vq || written > elem->in_len)
		return -EINVAL;
	head = elem->head; /* @elem is gone once released */
	dev = p->dev;
	if (vq->err != RAMDEV_VIRTQ_OK) {
		/* No used element any more, but the data the device wrote is
		 * in guest memory: copied back and in the dirty log all the
		 * same. */
		ramdev_virtq_elem_release(vq, elem, written);
		return -EIO;
	}
	if (vq->inflight == 0) {
		ramdev_virtq_elem_release(vq, elem, written);
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_USED_IDX,
					 "virtq: %s: head 0x%x pushed with "
					 "nothing in flight",
					 ramdev_virtq_strerror(RAMDEV_VIRTQ_USED_IDX),
					 head);
	}
	/* Unmap first: bounced bytes reach guest memory before the driver
	 * can see the element as used. */
	ramdev_virtq_elem_release(vq, elem, written);
	vq->inflight--;
	if (vq->hooks.pre_push)
		vq->hooks.pre_push(vq->hooks.opaque, head);
	/* 2.7.8: used->ring[] has size entries of {le32 id, le32 len}. */
	slot = VIRTQ_RING_ENTRIES +
	       (uint64_t)VIRTQ_USED_ELEM_SIZE * (vq->used_idx & (vq->cfg.size - 1u));
	ramdev_st_le32(vq->used.host + slot, head);
	ramdev_st_le32(vq->used.host + slot + 4, written);
	virtq_used_dirty(vq, slot, VIRTQ_USED_ELEM_SIZE);
	/* Orders the buffer writes and the used element above before the
	 * used idx store that publishes them (2.7.8: len is set, and the
	 * bytes written, "prior to updating the used idx").  Ring and
	 * buffers in RAM: a release fence (nothing on x86, TSO keeps store
	 * order).  The used ring or a buffer in device memory (possibly
	 * write-combining, whose stores TSO does not order): sfence / dmb,
	 * see virtq_dev_wmb(). */
	if (vq->used.dev || dev)
		virtq_dev_wmb();
	else
		__atomic_thread_fence(__ATOMIC_RELEASE);
	vq->used_idx++;
	vq->unsignalled++;
	virtq_tsan_release(vq->used.host + VIRTQ_RING_IDX);
	virtq_word_st(vq->used.host + VIRTQ_RING_IDX, vq->used_idx);
	virtq_used_dirty(vq, VIRTQ_RING_IDX, 2);
	if (vq->hooks.pushed)
		vq->hooks.pushed(vq->hooks.opaque, head, vq->used_idx);
	return 0;
}

/* ---- notifications ---- */

/*
 * 2.7.7.2 (event index): notify when the used idx passed used_event since
 * the last notification, i.e. event is in [old, new) in u16 arithmetic.
 */
static bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1u) < (uint16_t)(new_idx - old_idx);
}

RAMDEV_EXPORT bool ramdev_virtq_should_notify(struct ramdev_virtq *vq)
{
	uint16_t old;
	uint32_t pushed;
	bool valid;

	if (!vq || vq->err != RAMDEV_VIRTQ_OK)
		return false;
	old = vq->signalled;
	pushed = vq->unsignalled;
	valid = vq->signalled_valid;
	vq->signalled = vq->used_idx;
	vq->unsignalled = 0;
	vq->signalled_valid = true;
	if (pushed == 0)
		return false;
	/* Full barrier: orders the used idx store of push() before the loads
	 * of used_event / flags below; otherwise the driver may re-enable
	 * interrupts, miss our new used idx, and we miss its event (2.7.7). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->cfg.event_idx) {
		/* 2.7.7.2 without EVENT_IDX: flags 1 -> SHOULD NOT,
		 * flags 0 -> MUST; used_event is ignored. */
		return !(virtq_avail_flags(vq) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	}
	/* u16 arithmetic cannot tell 65536 pushes from none, and after
	 * set_last_avail() the old index means nothing: notify. */
	if (pushed > UINT16_MAX || !valid)
		return true;
	/* 2.7.7.2 with EVENT_IDX: flags ignored; MUST notify when the used
	 * idx that placed a descriptor equalled used_event. */
	return need_event(virtq_used_event(vq), vq->used_idx, old);
}

RAMDEV_EXPORT bool ramdev_virtq_set_notify(struct ramdev_virtq *vq, bool on)
{
	if (!vq || vq->err != RAMDEV_VIRTQ_OK)
		return false;
	vq->notify_on = on;
	if (vq->cfg.event_idx) {
		/* 2.7.10: the driver kicks once it publishes the entry at
		 * avail_event; off leaves the old event to go stale. */
		if (on)
			virtq_set_avail_event(vq, virtq_avail_idx(vq));
	} else {
		/* 2.7.10 without EVENT_IDX: the used ring's flags. */
		virtq_word_st(vq->used.host + VIRTQ_RING_FLAGS,
			      on ? 0 : VIRTQ_USED_F_NO_NOTIFY);
		virtq_used_dirty(vq, VIRTQ_RING_FLAGS, 2);
	}
	/* Full barrier: orders the avail_event / flags store above before
	 * the avail idx load below, so a buffer the driver added without
	 * seeing our store is seen here (2.7.10). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return virtq_avail_idx(vq) != vq->last_avail;
}
