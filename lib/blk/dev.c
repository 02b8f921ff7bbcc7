// SPDX-License-Identifier: MIT
/*
 * virtio-blk, the device and its options: opening the image, the config
 * space and features, the stats, the log; close.  Before and after every
 * request's life: a request meets this file only to log (dev.h lists the
 * files in the order a request meets them).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "dev.h"
#include "engine.h"
#include "log.h"
#include "req.h"

#define BLK_MAX_RANGES 256u /* max_discard_seg, max_write_zeroes_seg */

_Static_assert(sizeof(struct ramdev_blk_config) == 72,
	       "virtio_blk_config layout (VIRTIO 1.2 5.2.4)");

static const char *const blk_err_str[RAMDEV_BLK_ERR_COUNT] = {
	[RAMDEV_BLK_OK] = "no error",
	[RAMDEV_BLK_HDR_SHORT] = "request header shorter than 16 bytes",
	[RAMDEV_BLK_NO_STATUS] = "no device-writable byte for the status",
	[RAMDEV_BLK_TYPE] = "unsupported request type",
	[RAMDEV_BLK_DATA_LEN] = "data length not a multiple of 512",
	[RAMDEV_BLK_DATA_DIR] = "data buffer in the wrong direction",
	[RAMDEV_BLK_RANGE] = "sector range beyond the capacity",
	[RAMDEV_BLK_OVERFLOW] = "sector arithmetic overflows",
	[RAMDEV_BLK_READ_ONLY] = "write to a read-only device",
	[RAMDEV_BLK_DWZ_LEN] = "discard/write-zeroes data not a multiple of 16",
	[RAMDEV_BLK_DWZ_SEGS] = "too many discard/write-zeroes ranges",
	[RAMDEV_BLK_DWZ_FLAGS] = "unknown discard/write-zeroes flags",
	[RAMDEV_BLK_DISCARD_UNMAP] = "unmap flag set on a discard",
	[RAMDEV_BLK_DWZ_SECTORS] = "discard/write-zeroes range too long",
	[RAMDEV_BLK_IO] = "host I/O error",
	[RAMDEV_BLK_NOMEM] = "host out of memory",
	[RAMDEV_BLK_WRITEBACK] = "an earlier write-back failed: flush refused",
	[RAMDEV_BLK_SEG_MAX] = "more data segments than seg_max",
	[RAMDEV_BLK_SIZE_MAX] = "data segment larger than size_max",
};

RAMDEV_EXPORT const char *ramdev_blk_strerror(enum ramdev_blk_err err)
{
	if ((unsigned)err >= RAMDEV_BLK_ERR_COUNT)
		return "unknown virtio-blk error";
	return blk_err_str[err];
}

/* ---- logging (rate-limited: a guest can trigger most messages) ---- */

static void __attribute__((format(printf, 4, 0)))
blk_vlog(struct ramdev_blk *blk, struct ramdev_ratelimit *rl, int level,
	 const char *fmt, va_list ap)
{
	const struct blk_log_pair *lp;
	uint64_t suppressed = 0;
	int saved = errno;
	char msg[256];
	int n;

	if (level > LOG_ERR &&
	    !ramdev_ratelimit_check(rl, CLOCK_MONOTONIC, RAMDEV_BLK_LOG_PER_SEC,
				    &suppressed)) {
		errno = saved;
		return;
	}
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Say what the limit hid, so a reader knows the flood was there. */
	if (suppressed && n >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n,
			 " (%llu similar suppressed)",
			 (unsigned long long)suppressed);
	/* Acquire: pairs with the release in ramdev_blk_set_log(). */
	lp = __atomic_load_n(&blk->log, __ATOMIC_ACQUIRE);
	ramdev_log_emit(lp ? lp->fn : NULL, lp ? lp->opaque : NULL, level, msg);
	errno = saved;
}

void ramdev_blk_log(struct ramdev_blk *blk, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	blk_vlog(blk, &blk->log_rl, level, fmt, ap);
	va_end(ap);
}

void ramdev_blk_req_log(const struct blk_req *req, int level,
			const char *fmt, ...)
{
	struct ramdev_blk *blk = req->blk;
	va_list ap;

	va_start(ap, fmt);
	blk_vlog(blk, &blk->queues[req->qidx].log_rl, level, fmt, ap);
	va_end(ap);
}

RAMDEV_EXPORT void ramdev_blk_set_log(struct ramdev_blk *blk, ramdev_log_fn *fn,
				      void *opaque)
{
	struct blk_log_pair *lp, *old;

	if (!blk)
		return;
	lp = malloc(sizeof(*lp));
	if (!lp) {
		/* Keep the pair in force: a message through it beats none. */
		ramdev_blk_log(blk, LOG_ERR, "virtio-blk: set_log: out of "
			       "memory, callback not changed");
		return;
	}
	*lp = (struct blk_log_pair){ .fn = fn, .opaque = opaque };
	/* Release: the pair is complete before a reader can see it.  The old
	 * one may still be in use on the device's thread: retire it. */
	old = __atomic_exchange_n(&blk->log, lp, __ATOMIC_ACQ_REL);
	if (old) {
		old->retired = blk->log_old;
		blk->log_old = old;
	}
}

static void log_pairs_free(struct ramdev_blk *blk)
{
	free(blk->log);
	while (blk->log_old) {
		struct blk_log_pair *lp = blk->log_old;

		blk->log_old = lp->retired;
		free(lp);
	}
}

/* ---- open / close ---- */

static int image_sectors(int fd, uint64_t *sectors)
{
	struct stat st;
	uint64_t bytes = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		bytes = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
			return -errno;
	} else {
		*sectors = UINT64_MAX; /* a character device: no size to check */
		return 0;
	}
	*sectors = bytes >> RAMDEV_BLK_SECTOR_SHIFT;
	return 0;
}

static int blk_apply_options(struct ramdev_blk *blk,
			     const struct ramdev_blk_options *opt)
{
	uint64_t size = 0;
	int ret;

	ret = image_sectors(blk->fd, &size);
	if (ret < 0)
		return ret;
	if (opt->capacity > size)
		return -EINVAL;
	blk->capacity = opt->capacity ? opt->capacity
				      : (size == UINT64_MAX ? 0 : size);
	blk->read_only = opt->read_only;
	blk->num_queues = opt->num_queues ? opt->num_queues : 1;
	blk->depth = opt->depth ? opt->depth : 128;
	blk->seg_max = opt->seg_max ? opt->seg_max : 254;
	blk->size_max = opt->size_max;
	blk->stage_budget = opt->stage_budget ? opt->stage_budget
					      : RAMDEV_BLK_STAGE_BUDGET;
	blk->max_discard_sectors =
		opt->max_discard_sectors ? opt->max_discard_sectors : 1u << 22;
	blk->max_discard_seg = opt->max_discard_seg ? opt->max_discard_seg : 1;
	blk->max_wz_sectors = opt->max_write_zeroes_sectors
				      ? opt->max_write_zeroes_sectors : 1u << 22;
	blk->max_wz_seg = opt->max_write_zeroes_seg ? opt->max_write_zeroes_seg
						    : 1;
	if (blk->num_queues > RAMDEV_BLK_MAX_QUEUES || blk->depth > 32768 ||
	    blk->max_discard_seg > BLK_MAX_RANGES ||
	    blk->max_wz_seg > BLK_MAX_RANGES ||
	    blk->stage_budget < RAMDEV_BLK_STAGE_MIN)
		return -EINVAL;
	blk->uring_offload_writes = opt->uring_offload_writes;
	blk->merge = !opt->no_merge;
	if (opt->serial)
		memcpy(blk->serial, opt->serial,
		       strnlen(opt->serial, sizeof(blk->serial)));
	return 0;
}

static int blk_start_engine(struct ramdev_blk *blk, enum ramdev_blk_engine e)
{
	int ret;

	if (e == RAMDEV_BLK_ENGINE_AUTO || e == RAMDEV_BLK_ENGINE_URING) {
		blk->engine = &ramdev_blk_engine_uring;
		blk->engine_kind = RAMDEV_BLK_ENGINE_URING;
		ret = blk->engine->init(blk, &blk->engine_opaque);
		if (ret == 0)
			return 0;
		if (e == RAMDEV_BLK_ENGINE_URING)
			return ret;
		ramdev_blk_log(blk, LOG_INFO,
			       "io_uring unavailable (%s), using preadv/pwritev",
			       strerror(-ret));
	} else if (e != RAMDEV_BLK_ENGINE_SYNC) {
		return -EINVAL;
	}
	blk->engine = &ramdev_blk_engine_sync;
	blk->engine_kind = RAMDEV_BLK_ENGINE_SYNC;
	return blk->engine->init(blk, &blk->engine_opaque);
}

RAMDEV_EXPORT int ramdev_blk_open(struct ramdev_blk **out,
				  const struct ramdev_blk_options *opt)
{
	struct ramdev_blk *blk;
	int ret;

	/* One source (blk.h): @path, with @fd left 0 (a zeroed struct) or -1;
	 * or no @path and @fd >= 0. */
	if (!out || !opt ||
	    (opt->path ? opt->fd != 0 && opt->fd != -1 : opt->fd < 0))
		return -EINVAL;
	blk = calloc(1, sizeof(*blk));
	if (!blk)
		return -ENOMEM;
	blk->event_fd = -1;
	if (opt->path)
		blk->fd = open(opt->path,
			       (opt->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	else
		blk->fd = fcntl(opt->fd, F_DUPFD_CLOEXEC, 0);
	if (blk->fd < 0) {
		ret = -errno;
		free(blk);
		return ret;
	}
	ret = blk_apply_options(blk, opt);
	if (ret < 0)
		goto fail;
	blk->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (blk->event_fd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = blk_start_engine(blk, opt->engine);
	if (ret < 0)
		goto fail;
	*out = blk;
	return 0;
fail:
	if (blk->event_fd >= 0)
		close(blk->event_fd);
	close(blk->fd);
	free(blk);
	return ret;
}

/*
 * Free the finished requests kept for reuse and their staging buffers
 * (close, and reset: a reset guest may stay away for long, and the next
 * driver may use other sizes; the first requests after it allocate again).
 */
void ramdev_blk_req_cache_free(struct ramdev_blk *blk)
{
	while (blk->req_cache) {
		struct blk_req *req = blk->req_cache;

		blk->req_cache = req->next;
		free(req->stage);
		free(req);
	}
	blk->req_cached = 0;
	blk->stage_kept = 0;
}

RAMDEV_EXPORT void ramdev_blk_close(struct ramdev_blk *blk)
{
	if (!blk)
		return;
	if (ramdev_blk_drain(blk, NULL) < 0 || blk->inflight)
		ramdev_blk_cancel(blk);
	blk->engine->fini(blk->engine_opaque, blk);
	ramdev_blk_req_cache_free(blk);
	close(blk->event_fd);
	close(blk->fd);
	free(blk->zeroes);
	log_pairs_free(blk);
	free(blk);
}

/* ---- config space and introspection ---- */

RAMDEV_EXPORT int ramdev_blk_get_config(const struct ramdev_blk *blk,
					struct ramdev_blk_config *cfg)
{
	if (!blk || !cfg)
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	cfg->capacity = htole64(blk->capacity);
	cfg->size_max = htole32(blk->size_max);
	cfg->seg_max = htole32(blk->seg_max);
	cfg->blk_size = htole32(RAMDEV_BLK_SECTOR_SIZE);
	cfg->min_io_size = htole16(1);
	cfg->opt_io_size = htole32(0);
	cfg->num_queues = htole16((uint16_t)blk->num_queues);
	cfg->max_discard_sectors = htole32(blk->max_discard_sectors);
	cfg->max_discard_seg = htole32(blk->max_discard_seg);
	cfg->discard_sector_alignment = htole32(1);
	cfg->max_write_zeroes_sectors = htole32(blk->max_wz_sectors);
	cfg->max_write_zeroes_seg = htole32(blk->max_wz_seg);
	cfg->write_zeroes_may_unmap = 1;
	return 0;
}

RAMDEV_EXPORT uint64_t ramdev_blk_features(const struct ramdev_blk *blk)
{
	uint64_t f = (1ull << RAMDEV_BLK_F_SEG_MAX) |
		     (1ull << RAMDEV_BLK_F_BLK_SIZE) |
		     (1ull << RAMDEV_BLK_F_FLUSH) |
		     (1ull << RAMDEV_BLK_F_TOPOLOGY) |
		     (1ull << RAMDEV_BLK_F_DISCARD) |
		     (1ull << RAMDEV_BLK_F_WRITE_ZEROES);

	if (!blk)
		return 0;
	if (blk->size_max)
		f |= 1ull << RAMDEV_BLK_F_SIZE_MAX;
	if (blk->read_only)
		f |= 1ull << RAMDEV_BLK_F_RO;
	if (blk->num_queues > 1)
		f |= 1ull << RAMDEV_BLK_F_MQ;
	return f;
}

RAMDEV_EXPORT uint64_t ramdev_blk_capacity(const struct ramdev_blk *blk)
{
	return blk ? blk->capacity : 0;
}

RAMDEV_EXPORT enum ramdev_blk_engine
ramdev_blk_engine(const struct ramdev_blk *blk)
{
	return blk ? blk->engine_kind : RAMDEV_BLK_ENGINE_AUTO;
}

RAMDEV_EXPORT void ramdev_blk_get_stats(const struct ramdev_blk *blk,
					struct ramdev_blk_stats *st)
{
	if (blk && st)
		*st = blk->stats;
}

RAMDEV_EXPORT enum ramdev_blk_err ramdev_blk_error(const struct ramdev_blk *blk)
{
	return blk ? blk->broken : RAMDEV_BLK_OK;
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
