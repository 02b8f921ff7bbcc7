// SPDX-License-Identifier: MIT
/*
 * The split virtqueue, device side (VIRTIO 1.2 section 2.7): queue set-up,
 * the available ring (pop), the used ring (push) and notification
 * suppression in both directions.  The descriptor chain walk lives in
 * virtq_chain.c.
 *
 * The three ring areas are translated once, at creation, and must each lie
 * in one RAM or RAMD region; a reference on each region keeps its host
 * memory mapped until the queue is freed.  Every ring field is then read or
 * written with one exact-width little-endian access of the access core, so
 * an index is never torn and the rings may live in device memory.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"
#include "queue.h"

static const char *const err_names[RAMDEV_VIRTQ_ERR_COUNT] = {
	[RAMDEV_VIRTQ_OK] = "no error",
	[RAMDEV_VIRTQ_NOT_READY] = "queue not ready",
	[RAMDEV_VIRTQ_SIZE] = "bad queue size",
	[RAMDEV_VIRTQ_ALIGN] = "misaligned ring",
	[RAMDEV_VIRTQ_RING_UNMAPPED] = "ring not in guest RAM",
	[RAMDEV_VIRTQ_AVAIL_IDX] = "avail index moved too far",
	[RAMDEV_VIRTQ_HEAD_INDEX] = "head index out of range",
	[RAMDEV_VIRTQ_NEXT_INDEX] = "next index out of range",
	[RAMDEV_VIRTQ_LOOP] = "looped descriptor chain",
	[RAMDEV_VIRTQ_INDIRECT_NESTED] = "nested indirect table",
	[RAMDEV_VIRTQ_INDIRECT_LEN] = "bad indirect table length",
	[RAMDEV_VIRTQ_INDIRECT_NEXT] = "indirect descriptor with NEXT",
	[RAMDEV_VIRTQ_INDIRECT_OFF] = "indirect descriptor not negotiated",
	[RAMDEV_VIRTQ_ZERO_LEN] = "zero-length buffer",
	[RAMDEV_VIRTQ_ORDER] = "readable descriptor after writable",
	[RAMDEV_VIRTQ_CHAIN_TOO_LONG] = "chain longer than 4 GiB",
	[RAMDEV_VIRTQ_ADDR_OVERFLOW] = "buffer address overflow",
	[RAMDEV_VIRTQ_UNMAPPED] = "buffer not in guest memory",
	[RAMDEV_VIRTQ_TOO_MANY_SEGS] = "too many segments",
	[RAMDEV_VIRTQ_USED_IDX] = "push of an element not popped",
};

RAMDEV_EXPORT const char *ramdev_virtq_strerror(enum ramdev_virtq_err err)
{
	if ((unsigned)err >= RAMDEV_VIRTQ_ERR_COUNT)
		return "unknown virtqueue error";
	return err_names[err];
}

/* ---- logging ---- */

static void emit(struct ramdev_virtq *vq, int level, const char *msg)
{
	/* Acquire: pairs with the release in set_log(), so the pair's
	 * fields are seen as they were written. */
	const struct virtq_log_pair *lp =
		__atomic_load_n(&vq->log, __ATOMIC_ACQUIRE);

	ramdev_log_emit(lp ? lp->fn : NULL, lp ? lp->opaque : NULL, level, msg);
}

static void __attribute__((format(printf, 3, 0)))
vlog(struct ramdev_virtq *vq, int level, const char *fmt, va_list ap)
{
	int saved = errno;
	char msg[sizeof(vq->pending)];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (vq->log_deferred) {
		memcpy(vq->pending, msg, sizeof(msg));
		vq->log_pending = true;
	} else {
		emit(vq, level, msg);
	}
	errno = saved;
}

/* Log the configuration error kept by ramdev_virtq_new(), once, whichever
 * of set_log() and pop() comes first (they may run on different threads). */
static void flush_pending(struct ramdev_virtq *vq)
{
	int saved = errno;

	if (__atomic_load_n(&vq->log_pending, __ATOMIC_RELAXED) &&
	    __atomic_exchange_n(&vq->log_pending, false, __ATOMIC_ACQ_REL))
		emit(vq, LOG_ERR, vq->pending);
	errno = saved;
}

int ramdev_virtq_fail(struct ramdev_virtq *vq, enum ramdev_virtq_err err,
		      const char *fmt, ...)
{
	va_list ap;

	if (vq->err == RAMDEV_VIRTQ_OK)
		vq->err = err;
	/* Guest-triggerable: VIRTQ_LOG_BURST per second per queue. */
	if (ramdev_ratelimit_allow(&vq->log_rl, CLOCK_MONOTONIC_COARSE,
				   VIRTQ_LOG_BURST)) {
		va_start(ap, fmt);
		vlog(vq, LOG_ERR, fmt, ap);
		va_end(ap);
	}
	return -EIO;
}

RAMDEV_EXPORT void ramdev_virtq_set_log(struct ramdev_virtq *vq,
					ramdev_log_fn *fn, void *opaque)
{
	struct virtq_log_pair *lp, *old;

	if (!vq)
		return;
	lp = malloc(sizeof(*lp));
	if (!lp) {
		/* Keep the pair in force: a message through it beats none. */
		emit(vq, LOG_ERR, "virtq: set_log: out of memory, callback "
		     "not changed");
		return;
	}
	*lp = (struct virtq_log_pair){ .fn = fn, .opaque = opaque };
	/* Release: the pair is complete before a reader can see it.  The old
	 * one may still be in use by the queue's thread: retire it. */
	old = __atomic_exchange_n(&vq->log, lp, __ATOMIC_ACQ_REL);
	if (old) {
		old->retired = vq->log_old;
		vq->log_old = old;
	}
	flush_pending(vq);
}

/* ---- set-up ---- */

/*
 * Translate one ring area of @len bytes at @gpa: it must lie in a single
 * RAM or RAMD region (2.7: the rings are in guest memory the device reads
 * and writes in place), and be aligned to @align both as a guest address and
 * as a host address (the exact accessors need natural alignment).
 */
static int area_map(struct ramdev_virtq *vq, struct virtq_area *area,
		    const char *what, uint64_t gpa, uint64_t len,
		    unsigned align)
{
	struct ramdev_xlate x;
	int ret;

	if (gpa & (align - 1))
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_ALIGN,
					 "virtq: %s: %s ring at 0x%llx is not "
					 "%u-byte aligned (2.7)",
					 ramdev_virtq_strerror(RAMDEV_VIRTQ_ALIGN),
					 what, (unsigned long long)gpa, align);
	ramdev_as_read_lock();
	ret = ramdev_as_translate(vq->as, gpa, len, &x);
	if (ret == 0 && (x.kind == RAMDEV_REGION_RAM ||
			 x.kind == RAMDEV_REGION_RAMD) &&
	    x.len == len && x.host) {
		ramdev_region_ref(x.region);
		area->region = x.region;
		area->host = x.host;
		area->offset = x.offset;
		area->dev = x.kind == RAMDEV_REGION_RAMD;
	}
	ramdev_as_read_unlock();
	if (!area->region)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_RING_UNMAPPED,
					 "virtq: %s: %s ring 0x%llx+0x%llx is "
					 "not inside one RAM/RAMD region (%d)",
					 ramdev_virtq_strerror(RAMDEV_VIRTQ_RING_UNMAPPED),
					 what, (unsigned long long)gpa,
					 (unsigned long long)len, ret);
	if ((uintptr_t)area->host & (align - 1))
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_ALIGN,
					 "virtq: %s: %s ring at 0x%llx has a "
					 "host address not %u-byte aligned",
					 ramdev_virtq_strerror(RAMDEV_VIRTQ_ALIGN),
					 what, (unsigned long long)gpa, align);
	return 0;
}

/* Validate the configuration and translate the rings; 0 or -EIO. */
static int queue_setup(struct ramdev_virtq *vq)
{
	const struct ramdev_virtq_config *c = &vq->cfg;
	uint64_t n = c->size;

	/* A queue size of 0 means the queue is not available (4.1.4.3). */
	if (n == 0)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_NOT_READY,
					 "virtq: %s: queue size 0",
					 ramdev_virtq_strerror(RAMDEV_VIRTQ_NOT_READY));
	/* 2.7: the queue size is a power of 2, at most 32768. */
	if ((n & (n - 1)) || n > VIRTQ_MAX_SIZE)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_SIZE,
					 "virtq: %s: size 0x%llx is not a power "
					 "of two in 1..0x8000 (2.7)",
					 ramdev_virtq_strerror(RAMDEV_VIRTQ_SIZE),
					 (unsigned long long)n);
	/* 2.7 table: desc 16 * size, align 16; avail 6 + 2 * size, align 2;
	 * used 6 + 8 * size, align 4. */
	if (area_map(vq, &vq->desc, "descriptor", c->desc,
		     VIRTQ_DESC_SIZE * n, 16) ||
	    area_map(vq, &vq->avail, "avail", c->avail, 6 + 2 * n, 2) ||
	    area_map(vq, &vq->used, "used", c->used,
		     6 + VIRTQ_USED_ELEM_SIZE * n, 4))
		return -EIO;
	vq->used_idx = ramdev_ld_le16(vq->used.host + VIRTQ_RING_IDX);
	vq->signalled = vq->used_idx;
	vq->signalled_valid = true;
	return 0;
}

RAMDEV_EXPORT int ramdev_virtq_new(struct ramdev_virtq **out,
				   struct ramdev_dma *dma,
				   const struct ramdev_virtq_config *cfg)
{
	struct ramdev_virtq *vq;

	if (!out || !dma || !cfg || cfg->max_segs > VIRTQ_MAX_SEGS)
		return -EINVAL;
	vq = calloc(1, sizeof(*vq));
	if (!vq)
		return -ENOMEM;
	vq->dma = dma;
	vq->as = ramdev_dma_as(dma);
	vq->cfg = *cfg;
	if (vq->cfg.max_segs == 0)
		vq->cfg.max_segs = VIRTQ_DEFAULT_MAX_SEGS;
	vq->notify_on = true;
	vq->sg = calloc(vq->cfg.max_segs, sizeof(*vq->sg));
	vq->segs = calloc(vq->cfg.max_segs, sizeof(*vq->segs));
	if (!vq->as || !vq->sg || !vq->segs) {
		int ret = vq->as ? -ENOMEM : -EINVAL; /* vq is gone after free */

		ramdev_virtq_free(vq);
		return ret;
	}
	vq->log_deferred = true;
	queue_setup(vq); /* a bad configuration leaves the queue broken */
	vq->log_deferred = false;
	*out = vq;
	return 0;
}

RAMDEV_EXPORT void ramdev_virtq_free(struct ramdev_virtq *vq)
{
	if (!vq)
		return;
	if (vq->desc.region)
		ramdev_region_unref(vq->desc.region);
	if (vq->avail.region)
		ramdev_region_unref(vq->avail.region);
	if (vq->used.region)
		ramdev_region_unref(vq->used.region);
	ramdev_virtq_elem_cache_free(vq);
	ramdev_virtq_resubmit_free(vq);
	free(vq->sg);
	free(vq->segs);
	free(vq->log);
	while (vq->log_old) {
		struct virtq_log_pair *lp = vq->log_old;

		vq->log_old = lp->retired;
		free(lp);
	}
	free(vq);
}

/* ---- ring field accessors: one exact little-endian access each ----
 * The words the driver writes concurrently (idx, flags, events) go through
 * virtq_word_ld/_st: the same access, made visible to TSan as what it is
 * (see virtq_priv.h). */

static inline uint16_t avail_idx(struct ramdev_virtq *vq)
{
	return virtq_word_ld(vq->avail.host + VIRTQ_RING_IDX);
}

static inline uint16_t avail_flags(struct ramdev_virtq *vq)
{
	return virtq_word_ld(vq->avail.host + VIRTQ_RING_FLAGS);
}

/* avail->ring[slot]; slot < size (2.7.6). */
static inline uint16_t avail_ring(struct ramdev_virtq *vq, unsigned slot)
{
	return ramdev_ld_le16(vq->avail.host + VIRTQ_RING_ENTRIES + 2u * slot);
}

/* used_event sits after avail->ring[size] (2.7.6). */
static inline uint16_t used_event(struct ramdev_virtq *vq)
{
	return virtq_word_ld(vq->avail.host + VIRTQ_RING_ENTRIES +
			     2u * vq->cfg.size);
}

/*
 * Every store to the used ring goes into the dirty log (a migration that
 * copies the pages the log names must not lose a completion), after the
 * store: a log taken between the two then leaves the bit for the next
 * round.  A no-op call when logging is off.
 */
static inline void used_dirty(struct ramdev_virtq *vq, uint64_t off,
			      uint64_t len)
{
	ramdev_region_dirty_mark(vq->used.region, vq->used.offset + off, len);
}

/* avail_event sits after used->ring[size] (2.7.8). */
static inline void set_avail_event(struct ramdev_virtq *vq, uint16_t v)
{
	uint64_t off = VIRTQ_RING_ENTRIES +
		       (uint64_t)VIRTQ_USED_ELEM_SIZE * vq->cfg.size;

	virtq_word_st(vq->used.host + off, v);
	used_dirty(vq, off, 2);
}

/* ---- pop ---- */

RAMDEV_EXPORT int ramdev_virtq_pop(struct ramdev_virtq *vq,
				   struct ramdev_virtq_elem **out)
{
	uint16_t idx, pending, head;
	int ret;

	if (!vq || !out)
		return -EINVAL;
	if (vq->err != RAMDEV_VIRTQ_OK) {
		flush_pending(vq);
		return -EIO;
	}
	if (vq->resubmit_pos < vq->resubmit_n)
		return ramdev_virtq_pop_resubmit(vq, out);
	idx = avail_idx(vq);
	pending = (uint16_t)(idx - vq->last_avail);
	/* 2.7.6: the driver makes at most size heads available at a time;
	 * a larger jump is a corrupt index (and would let the guest make us
	 * walk stale slots). */
	if (pending > vq->cfg.size)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_AVAIL_IDX,
					 "virtq: %s: avail idx 0x%x, last 0x%x, "
					 "size 0x%x",
					 ramdev_virtq_strerror(RAMDEV_VIRTQ_AVAIL_IDX),
					 idx, vq->last_avail, vq->cfg.size);
	if (pending == 0)
		return 0;
	/* Each in-flight chain holds at least one of the size descriptors
	 * (2.7.5), so more than size in flight means heads were reused. */
	if (vq->inflight >= vq->cfg.size)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_AVAIL_IDX,
					 "virtq: %s: 0x%x chains in flight, "
					 "size 0x%x",
					 ramdev_virtq_strerror(RAMDEV_VIRTQ_AVAIL_IDX),
					 vq->inflight, vq->cfg.size);
	/* Orders the avail idx load above before the loads of the ring entry
	 * and of the descriptors it names (2.7.13: the driver writes them
	 * before it publishes idx).  In RAM an acquire fence (nothing on
	 * x86); rings in device memory need the real barrier (see
	 * virtq_dev_rmb()). */
	if (vq->avail.dev || vq->desc.dev)
		virtq_dev_rmb();
	else
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	virtq_tsan_acquire(vq->avail.host + VIRTQ_RING_IDX);
	/* 2.7.6: ring[] has size entries; size is a power of two. */
	head = avail_ring(vq, vq->last_avail & (vq->cfg.size - 1u));
	/* 2.7.5: a head indexes the descriptor table of size entries. */
	if (head >= vq->cfg.size)
		return ramdev_virtq_fail(vq, RAMDEV_VIRTQ_HEAD_INDEX,
					 "virtq: %s: head 0x%x at avail slot "
					 "0x%x >= size 0x%x",
					 ramdev_virtq_strerror(RAMDEV_VIRTQ_HEAD_INDEX),
					 head, vq->last_avail, vq->cfg.size);
	ret = ramdev_virtq_chain_pop(vq, head, out);
	if (ret <= 0)
		return ret;
	/* Buffers in device memory are read by the caller after this returns:
	 * order those loads after the avail idx load as well. */
	if (((struct virtq_elem_priv *)*out)->dev)
		virtq_dev_rmb();
	vq->last_avail++;
	vq->inflight++;
	if (vq->hooks.popped)
		vq->hooks.popped(vq->hooks.opaque, head);
	/* 2.7.10: with EVENT_IDX, ask for a kick when the driver makes the
	 * next buffer after this one available. */
	if (vq->cfg.event_idx && vq->notify_on)
		set_avail_event(vq, vq->last_avail);
	return 1;
}

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
	used_dirty(vq, slot, VIRTQ_USED_ELEM_SIZE);
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
	used_dirty(vq, VIRTQ_RING_IDX, 2);
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
		return !(avail_flags(vq) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	}
	/* u16 arithmetic cannot tell 65536 pushes from none, and after
	 * set_last_avail() the old index means nothing: notify. */
	if (pushed > UINT16_MAX || !valid)
		return true;
	/* 2.7.7.2 with EVENT_IDX: flags ignored; MUST notify when the used
	 * idx that placed a descriptor equalled used_event. */
	return need_event(used_event(vq), vq->used_idx, old);
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
			set_avail_event(vq, avail_idx(vq));
	} else {
		/* 2.7.10 without EVENT_IDX: the used ring's flags. */
		virtq_word_st(vq->used.host + VIRTQ_RING_FLAGS,
			      on ? 0 : VIRTQ_USED_F_NO_NOTIFY);
		used_dirty(vq, VIRTQ_RING_FLAGS, 2);
	}
	/* Full barrier: orders the avail_event / flags store above before
	 * the avail idx load below, so a buffer the driver added without
	 * seeing our store is seen here (2.7.10). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return avail_idx(vq) != vq->last_avail;
}

/* ---- state ---- */

RAMDEV_EXPORT enum ramdev_virtq_err
ramdev_virtq_error(const struct ramdev_virtq *vq)
{
	return vq ? vq->err : RAMDEV_VIRTQ_NOT_READY;
}

RAMDEV_EXPORT uint16_t ramdev_virtq_last_avail(const struct ramdev_virtq *vq)
{
	return vq ? vq->last_avail : 0;
}

RAMDEV_EXPORT void ramdev_virtq_set_last_avail(struct ramdev_virtq *vq,
					       uint16_t idx)
{
	if (!vq)
		return;
	vq->last_avail = idx;
	/* The old signalled index means nothing for the new position. */
	vq->signalled_valid = false;
}

RAMDEV_EXPORT unsigned ramdev_virtq_inflight(const struct ramdev_virtq *vq)
{
	return vq ? vq->inflight : 0;
}
