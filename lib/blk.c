// SPDX-License-Identifier: MIT
/*
 * virtio-blk: opening the image, the config space, and request parsing and
 * validation (VIRTIO 1.2 section 5.2.6).  Execution is in blk_exec.c, the
 * queue glue in blk_queue.c.
 *
 * A request is a chain: a 16-byte header (le32 type, le32 reserved, le64
 * sector) in the device-readable part, then data, then one status byte, the
 * last byte of the device-writable part.  The framing is free (ANY_LAYOUT is
 * part of VIRTIO 1.x): the header may span segments and the status byte may
 * share a segment with data, so everything here walks byte ranges across
 * segments (blk_stage.c walks them).  Device-memory and MMIO segments are
 * never handed to the kernel: they are staged through a RAM buffer
 * (blk_stage.c, bounded per device) and touched only through the access
 * core or the DMA layer's MMIO accessors.
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

#include "blk_priv.h"
#include "log.h"

#define BLK_HDR_LEN 16u
#define BLK_DWZ_LEN 16u
#define BLK_MAX_RANGES 256u

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
	int saved = errno;
	char msg[256];

	if (level > LOG_ERR &&
	    !ramdev_ratelimit_allow(rl, CLOCK_MONOTONIC, RAMDEV_BLK_LOG_PER_SEC)) {
		errno = saved;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	ramdev_log_emit(blk->log_fn, blk->log_opaque, level, msg);
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
	if (!blk)
		return;
	blk->log_fn = fn;
	blk->log_opaque = opaque;
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

	if (!out || !opt || (!opt->path) == (opt->fd < 0))
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

RAMDEV_EXPORT void ramdev_blk_close(struct ramdev_blk *blk)
{
	if (!blk)
		return;
	if (ramdev_blk_drain(blk, NULL) < 0 || blk->inflight)
		ramdev_blk_cancel(blk);
	blk->engine->fini(blk->engine_opaque, blk);
	while (blk->req_cache) {
		struct blk_req *req = blk->req_cache;

		blk->req_cache = req->next;
		free(req->stage);
		free(req);
	}
	close(blk->event_fd);
	close(blk->fd);
	free(blk->zeroes);
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

/* ---- byte ranges across segments (blk_stage.c walks them) ---- */

static void gather(const struct ramdev_virtq_elem *e, unsigned first,
		   unsigned count, uint64_t skip, void *buf, size_t len)
{
	const struct ramdev_dma_seg *seg;
	struct blk_cursor c;
	uint8_t *p = buf;
	size_t off, n;

	ramdev_blk_cursor_init(&c, e, first, count, skip);
	while ((n = ramdev_blk_cursor_next(&c, len, &seg, &off)) > 0) {
		if (ramdev_blk_seg_copy_in(p, seg, off, n))
			memset(p, 0xff, n); /* as an unassigned read */
		p += n;
		len -= n;
	}
}

static void scatter(const struct ramdev_virtq_elem *e, unsigned first,
		    unsigned count, uint64_t skip, const void *buf, size_t len)
{
	const struct ramdev_dma_seg *seg;
	const uint8_t *p = buf;
	struct blk_cursor c;
	size_t off, n;

	ramdev_blk_cursor_init(&c, e, first, count, skip);
	while ((n = ramdev_blk_cursor_next(&c, len, &seg, &off)) > 0) {
		(void)ramdev_blk_seg_copy_out(seg, off, p, n);
		p += n;
		len -= n;
	}
}

/* ---- validation ---- */

static enum ramdev_blk_err check_range(const struct ramdev_blk *blk,
				       uint64_t sector, uint64_t nsect,
				       uint64_t *off)
{
	uint64_t end;

	/* VIRTIO 1.2 5.2.6.1: no request beyond the capacity. */
	if (__builtin_add_overflow(sector, nsect, &end) ||
	    sector > (UINT64_MAX >> RAMDEV_BLK_SECTOR_SHIFT))
		return RAMDEV_BLK_OVERFLOW;
	if (end > blk->capacity)
		return RAMDEV_BLK_RANGE;
	*off = sector << RAMDEV_BLK_SECTOR_SHIFT;
	return RAMDEV_BLK_OK;
}

static uint8_t err_status(enum ramdev_blk_err err)
{
	switch (err) {
	case RAMDEV_BLK_OK:
		return RAMDEV_BLK_S_OK;
	case RAMDEV_BLK_TYPE:
	case RAMDEV_BLK_DWZ_SEGS:
	case RAMDEV_BLK_DWZ_FLAGS:
	case RAMDEV_BLK_DISCARD_UNMAP:
		return RAMDEV_BLK_S_UNSUPP;
	default:
		return RAMDEV_BLK_S_IOERR;
	}
}

static enum ramdev_blk_err req_fail(struct blk_req *req, enum ramdev_blk_err err,
				    uint64_t a, uint64_t b)
{
	ramdev_blk_req_log(req, LOG_WARNING,
		       "virtio-blk: head 0x%x type 0x%x: %s (0x%llx, 0x%llx)",
		       req->elem->head, req->type, ramdev_blk_strerror(err),
		       (unsigned long long)a, (unsigned long long)b);
	req->err = err;
	req->status = err_status(err);
	req->op = BLK_OP_NONE;
	return err;
}

static enum ramdev_blk_err parse_rw(struct blk_req *req, uint64_t sector)
{
	struct ramdev_blk *blk = req->blk;
	struct ramdev_virtq_elem *e = req->elem;
	uint64_t out_data = e->out_len - BLK_HDR_LEN, in_data = e->in_len - 1;
	bool is_in = req->type == RAMDEV_BLK_T_IN;
	uint64_t len = is_in ? in_data : out_data, a = 0, b = 0;
	enum ramdev_blk_err err;

	if (is_in ? out_data != 0 : in_data != 0)
		return req_fail(req, RAMDEV_BLK_DATA_DIR, out_data, in_data);
	if (!is_in && blk->read_only)
		return req_fail(req, RAMDEV_BLK_READ_ONLY, sector, len);
	if (len % RAMDEV_BLK_SECTOR_SIZE)
		return req_fail(req, RAMDEV_BLK_DATA_LEN, sector, len);
	err = check_range(blk, sector, len >> RAMDEV_BLK_SECTOR_SHIFT, &req->off);
	if (err)
		return req_fail(req, err, sector, len);
	if (len == 0)
		return RAMDEV_BLK_OK; /* nothing to move: OK */
	if (is_in)
		err = ramdev_blk_plan_data(req, e->out_num, e->in_num, 0, len,
					   &a, &b);
	else
		err = ramdev_blk_plan_data(req, 0, e->out_num, BLK_HDR_LEN, len,
					   &a, &b);
	if (err)
		return req_fail(req, err, a, b);
	/* Staging (if any) is set up when the request starts (blk_stage.c). */
	req->op = is_in ? BLK_OP_READ : BLK_OP_WRITE;
	req->counts_as_write = !is_in;
	return RAMDEV_BLK_OK;
}

/* DISCARD and WRITE_ZEROES: a list of 16-byte ranges (VIRTIO 1.2 5.2.6). */
static enum ramdev_blk_err parse_dwz(struct blk_req *req)
{
	struct ramdev_blk *blk = req->blk;
	bool discard = req->type == RAMDEV_BLK_T_DISCARD;
	uint64_t data = req->elem->out_len - BLK_HDR_LEN;
	uint32_t max_seg = discard ? blk->max_discard_seg : blk->max_wz_seg;
	uint32_t max_sect = discard ? blk->max_discard_sectors : blk->max_wz_sectors;
	uint64_t n = data / BLK_DWZ_LEN;

	if (blk->read_only)
		return req_fail(req, RAMDEV_BLK_READ_ONLY, data, 0);
	if (data == 0 || data % BLK_DWZ_LEN)
		return req_fail(req, RAMDEV_BLK_DWZ_LEN, data, 0);
	if (n > max_seg)
		return req_fail(req, RAMDEV_BLK_DWZ_SEGS, n, max_seg);
	req->ranges = calloc((size_t)n, sizeof(*req->ranges));
	if (!req->ranges)
		return req_fail(req, RAMDEV_BLK_NOMEM, n, 0);
	for (unsigned i = 0; i < n; i++) {
		uint8_t raw[BLK_DWZ_LEN];
		uint64_t sector, off;
		uint32_t nsect, flags;
		enum ramdev_blk_err err;

		gather(req->elem, 0, req->elem->out_num,
		       BLK_HDR_LEN + (uint64_t)i * BLK_DWZ_LEN, raw, sizeof(raw));
		memcpy(&sector, raw, 8);
		memcpy(&nsect, raw + 8, 4);
		memcpy(&flags, raw + 12, 4);
		sector = le64toh(sector);
		nsect = le32toh(nsect);
		flags = le32toh(flags);
		/* 5.2.6.2: unknown flags, and UNMAP on a discard, are UNSUPP. */
		if (flags & ~RAMDEV_BLK_WZ_FLAG_UNMAP)
			return req_fail(req, RAMDEV_BLK_DWZ_FLAGS, flags, i);
		if (discard && flags)
			return req_fail(req, RAMDEV_BLK_DISCARD_UNMAP, flags, i);
		if (nsect > max_sect)
			return req_fail(req, RAMDEV_BLK_DWZ_SECTORS, nsect, max_sect);
		err = check_range(blk, sector, nsect, &off);
		if (err)
			return req_fail(req, err, sector, nsect);
		req->ranges[i] = (struct blk_range){
			off, (uint64_t)nsect << RAMDEV_BLK_SECTOR_SHIFT,
			flags & RAMDEV_BLK_WZ_FLAG_UNMAP
		};
	}
	req->nranges = (unsigned)n;
	req->op = discard ? BLK_OP_DISCARD : BLK_OP_WZ;
	req->zmode = ramdev_blk_first_zmode(req);
	req->counts_as_write = true;
	return RAMDEV_BLK_OK;
}

static void parse_get_id(struct blk_req *req)
{
	uint64_t n = req->elem->in_len - 1;

	/* The serial is NUL-padded to 20 bytes; a shorter buffer gets a prefix. */
	if (n > RAMDEV_BLK_ID_BYTES)
		n = RAMDEV_BLK_ID_BYTES;
	scatter(req->elem, req->elem->out_num, req->elem->in_num, 0,
		req->blk->serial, (size_t)n);
}

/*
 * A request with room for @e's segments (and at least BLK_REQ_MIN_SEGS):
 * from the device's cache of finished requests when the top one is big
 * enough (with its staging buffer, if it kept one), else a new allocation.
 * Only the fixed part is cleared: the arrays after it and the staging
 * buffer are written before they are read.
 */
static struct blk_req *req_alloc(struct ramdev_blk *blk,
				 struct ramdev_virtq_elem *e)
{
	unsigned nseg = e->out_num + e->in_num;
	unsigned cap = nseg < BLK_REQ_MIN_SEGS ? BLK_REQ_MIN_SEGS : nseg;
	struct blk_req *req = blk->req_cache;
	uint8_t *stage = NULL;
	size_t stage_cap = 0;

	if (req && req->cap >= nseg) {
		blk->req_cache = req->next;
		blk->req_cached--;
		cap = req->cap;
		stage = req->stage;
		stage_cap = req->stage_cap;
	} else {
		/* cap is bounded by the queue's max_segs (<= 2^16). */
		req = malloc(sizeof(*req) +
			     (size_t)cap * (2 * sizeof(struct iovec) +
					    sizeof(struct blk_stage)));
		if (!req)
			return NULL;
	}
	memset(req, 0, sizeof(*req));
	req->cap = cap;
	req->stage = stage;
	req->stage_cap = stage_cap;
	req->iov = (struct iovec *)(req + 1);
	req->rest = req->iov + cap;
	req->rest_max = cap;
	req->dev = (struct blk_stage *)(req->rest + cap);
	return req;
}

int ramdev_blk_req_parse(struct ramdev_blk *blk, struct ramdev_virtq_elem *e,
			 unsigned qidx, struct blk_req **out)
{
	struct blk_req *req = req_alloc(blk, e);
	uint8_t hdr[BLK_HDR_LEN];
	uint64_t sector;
	uint32_t type;

	if (!req)
		return -ENOMEM;
	req->blk = blk;
	req->elem = e;
	req->qidx = qidx;
	req->status = RAMDEV_BLK_S_OK;
	*out = req;

	/* The status is the last byte of the device-writable part (5.2.6). */
	if (e->in_num == 0 || e->in_len == 0 ||
	    e->segs[e->out_num + e->in_num - 1].len == 0) {
		req_fail(req, RAMDEV_BLK_NO_STATUS, e->in_num, e->in_len);
		return 0;
	}
	req->status_seg = e->out_num + e->in_num - 1;
	req->status_off = e->segs[req->status_seg].len - 1;
	if (e->out_len < BLK_HDR_LEN) {
		req_fail(req, RAMDEV_BLK_HDR_SHORT, e->out_len, 0);
		return 0;
	}
	gather(e, 0, e->out_num, 0, hdr, sizeof(hdr));
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);
	req->type = le32toh(type);
	sector = le64toh(sector);

	switch (req->type) {
	case RAMDEV_BLK_T_IN:
	case RAMDEV_BLK_T_OUT:
		parse_rw(req, sector);
		break;
	case RAMDEV_BLK_T_FLUSH:
		req->op = BLK_OP_FLUSH;
		break;
	case RAMDEV_BLK_T_GET_ID:
		parse_get_id(req);
		break;
	case RAMDEV_BLK_T_DISCARD:
	case RAMDEV_BLK_T_WRITE_ZEROES:
		parse_dwz(req);
		break;
	default:
		req_fail(req, RAMDEV_BLK_TYPE, req->type, sector);
		break;
	}
	return 0;
}

/* Best effort when not even a request could be allocated. */
uint32_t ramdev_blk_elem_ioerr(struct ramdev_virtq_elem *e)
{
	const struct ramdev_dma_seg *seg;
	uint8_t st = RAMDEV_BLK_S_IOERR;

	if (e->in_num == 0 || e->in_len == 0)
		return 0;
	seg = &e->segs[e->out_num + e->in_num - 1];
	if (seg->len == 0)
		return 0;
	(void)ramdev_blk_seg_copy_out(seg, seg->len - 1, &st, 1);
	return e->in_len > UINT32_MAX ? UINT32_MAX : (uint32_t)e->in_len;
}

/*
 * Copy staged data back (successful IN), write the status byte, count.
 * @written: what to tell the driver: the whole writable part (the status
 * byte is its last byte), or 0 for a chain without a status byte.
 */
void ramdev_blk_req_finish(struct blk_req *req, uint32_t *written)
{
	struct ramdev_blk *blk = req->blk;
	struct ramdev_virtq_elem *e = req->elem;

	if (req->op == BLK_OP_READ && req->status == RAMDEV_BLK_S_OK &&
	    !ramdev_blk_stage_copy_out(req))
		req->status = RAMDEV_BLK_S_IOERR; /* the last window's */
	if (req->status == RAMDEV_BLK_S_OK) {
		if (req->op == BLK_OP_READ)
			blk->stats.bytes_read += req->len;
		else if (req->op == BLK_OP_WRITE)
			blk->stats.bytes_written += req->len;
	}
	blk->stats.errors[req->err]++;
	ramdev_blk_qstats_count(req);
	if (req->err == RAMDEV_BLK_NO_STATUS || req->err == RAMDEV_BLK_HDR_SHORT) {
		*written = 0;
		return;
	}
	(void)ramdev_blk_seg_copy_out(&e->segs[req->status_seg], req->status_off,
				      &req->status, 1);
	blk->stats.status[req->status]++;
	*written = e->in_len > UINT32_MAX ? UINT32_MAX : (uint32_t)e->in_len;
}

/*
 * Keep @req for the next request (up to BLK_REQ_CACHE of them), with its
 * staging buffer up to BLK_STAGE_KEEP bytes (a fresh malloc per request
 * costs page faults once glibc trims the heap), or free it.
 */
void ramdev_blk_req_free(struct blk_req *req)
{
	struct ramdev_blk *blk = req->blk;

	ramdev_blk_stage_release(req);
	free(req->ranges);
	if (blk->req_cached >= BLK_REQ_CACHE || req->stage_cap > BLK_STAGE_KEEP) {
		free(req->stage);
		req->stage = NULL;
		req->stage_cap = 0;
	}
	if (blk->req_cached >= BLK_REQ_CACHE) {
		free(req);
		return;
	}
	req->next = blk->req_cache;
	blk->req_cache = req;
	blk->req_cached++;
}
