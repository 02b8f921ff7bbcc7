// SPDX-License-Identifier: MIT
/*
 * The split virtqueue, device side (VIRTIO 1.2 section 2.7), the first
 * stage of a queue's life: its creation from the configuration, logging,
 * the getters and its end.  Then pop.c (the avail side and the chain walk),
 * used.c (push, notifications), with the element (elem.c) in between.
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
#include "elem.h"
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
void ramdev_virtq_flush_pending(struct ramdev_virtq *vq)
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
	ramdev_virtq_flush_pending(vq);
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

RAMDEV_EXPORT uint16_t ramdev_virtq_used_idx(const struct ramdev_virtq *vq)
{
	return vq ? vq->used_idx : 0;
}
