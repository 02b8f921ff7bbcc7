// SPDX-License-Identifier: MIT
/*
 * virtio-blk, the first and the last stage of a request: parsing a chain
 * into a request (validation, VIRTIO 1.2 section 5.2.6, and the plan of its
 * data), and, once the engine finished it, writing the status byte back
 * and recycling the request.  queue.c calls ramdev_blk_req_parse() right
 * after pop and ramdev_blk_req_finish() right before push; in between the
 * request goes through stage.c (device-memory data) and an engine.
 *
 * A request is a chain: a 16-byte header (le32 type, le32 reserved, le64
 * sector) in the device-readable part, then data, then one status byte, the
 * last byte of the device-writable part.  The framing is free (seg.h walks
 * byte ranges across segments).  Device-memory and MMIO segments are never
 * handed to the kernel: the plan counts their bytes, which stage.c stages
 * through a RAM buffer when the request starts.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "dev.h"
#include "req.h"
#include "stage.h"

#define BLK_HDR_LEN 16u
#define BLK_DWZ_LEN 16u

/* ---- byte ranges across segments (seg.h walks them) ---- */

static void gather(const struct ramdev_virtq_elem *e, unsigned first,
		   unsigned count, uint64_t skip, void *buf, size_t len)
{
	const struct ramdev_dma_seg *seg;
	struct blk_cursor c;
	uint8_t *p = buf;
	size_t off, n;

	/* The usual header: all in the first RAM segment. */
	if (count && e->segs[first].kind == RAMDEV_SEG_RAM &&
	    skip < e->segs[first].len && e->segs[first].len - skip >= len) {
		memcpy(buf, (const uint8_t *)e->segs[first].base + skip, len);
		return;
	}
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

/* ---- planning the data: limits, staged bytes ---- */

/*
 * Plan @len data bytes of @count segments from @first, @skip bytes in, in
 * one walk: check them against seg_max and size_max (VIRTIO 1.2 5.2.4),
 * count the bytes to stage, and build the iovec list (one window) when
 * nothing stages; otherwise ramdev_blk_stage_begin() (stage.c) builds it
 * once staging space is reserved.  A descriptor the DMA layer split (it
 * crossed a region boundary) is one segment to the driver: pieces
 * contiguous in guest memory count once, and size_max is checked per
 * piece.  Neither check can then refuse a request that keeps the limits.
 * A piece is at most one segment, so the list fits req->iov (req->cap).
 */
static enum ramdev_blk_err plan_data(struct blk_req *req, unsigned first,
				     unsigned count, uint64_t skip,
				     uint64_t len, uint64_t *a, uint64_t *b)
{
	const struct ramdev_blk *blk = req->blk;
	const struct ramdev_dma_seg *seg;
	uint64_t segs = 0, next_gpa = 0, staged = 0, start;
	bool has_next = false; /* next_gpa is an address (did not wrap) */
	enum ramdev_blk_err err = RAMDEV_BLK_OK;
	struct blk_cursor c;
	size_t off, n;

	req->data_first = first;
	req->data_count = count;
	req->data_skip = skip;
	req->len = len;
	ramdev_blk_data_cursor(req, &c, 0);
	for (uint64_t left = len;
	     (n = ramdev_blk_cursor_next(&c, left, &seg, &off)); left -= n) {
		/* Checked: a piece may end at 2^64 - 1, and then nothing
		 * continues it (address 0 is not its next byte).  The queue
		 * made the ranges, but other queue ops bring their own. */
		bool wrap = __builtin_add_overflow(seg->gpa, off, &start);

		if (!has_next || wrap || start != next_gpa)
			segs++;
		has_next = !wrap && !__builtin_add_overflow(start, n, &next_gpa);
		if (blk->size_max && n > blk->size_max) {
			*a = n;
			*b = blk->size_max;
			err = RAMDEV_BLK_SIZE_MAX;
			break;
		}
		if (segs > blk->seg_max) {
			*a = segs;
			*b = blk->seg_max;
			err = RAMDEV_BLK_SEG_MAX;
			break;
		}
		if (seg->kind != RAMDEV_SEG_RAM)
			staged += n;
		else
			req->iov[req->iovcnt++] =
				(struct iovec){ (uint8_t *)seg->base + off, n };
	}
	req->stage_need = staged;
	if (err || staged) {
		req->iovcnt = 0; /* stage.c builds the windows */
		return err;
	}
	req->win_end = len;
	return RAMDEV_BLK_OK;
}

/* ---- parsing ---- */

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
		err = plan_data(req, e->out_num, e->in_num, 0, len, &a, &b);
	else
		err = plan_data(req, 0, e->out_num, BLK_HDR_LEN, len, &a,
				&b);
	if (err)
		return req_fail(req, err, a, b);
	/* Staging (if any) is set up when the request starts (stage.c). */
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
	req->zero_method = ramdev_blk_first_zero_method(req);
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
		blk->stage_kept -= req->stage_cap;
		cap = req->cap;
		stage = req->stage;
		stage_cap = req->stage_cap;
	} else {
		/* cap is bounded by the queue's max_segs, at most 2^16
		 * (RAMDEV_VIRTQ_MAX_SEGS, enforced by ramdev_virtq_new()): at most
		 * 4 MiB; other queue ops bring their own elements. */
		req = malloc(sizeof(*req) +
			     (size_t)cap * (2 * sizeof(struct iovec) +
					    sizeof(struct blk_staged_piece)));
		if (!req)
			return NULL;
	}
	memset(req, 0, sizeof(*req));
	req->cap = cap;
	req->stage = stage;
	req->stage_cap = stage_cap;
	req->iov = (struct iovec *)(req + 1);
	req->step_iov = req->iov + cap;
	req->step_iov_max = cap;
	req->staged = (struct blk_staged_piece *)(req->step_iov + cap);
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

/* ---- the end: status byte, used length, recycling ---- */

/* Count a finished request in its queue's counters
 * (ramdev_blk_get_queue_stats()). */
static void qstats_count(const struct blk_req *req)
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
	/* stage_need: the data bytes in non-RAM segments (the plan). */
	st->bytes_devmem += req->stage_need;
}

/*
 * Zeroes over bytes [@from, @to) of @e's device-writable part (see the used
 * length rule in blk.h).  Through the segment's own access (RAM, the access
 * core, MMIO callbacks); an MMIO write that fails is skipped.
 */
static void fill_zero(const struct ramdev_virtq_elem *e, uint64_t from,
		      uint64_t to)
{
	static const uint8_t zero[4096];

	while (from < to) {
		size_t n = to - from < sizeof(zero) ? (size_t)(to - from)
						    : sizeof(zero);

		scatter(e, e->out_num, e->in_num, from, zero, n);
		from += n;
	}
}

/* The used length of a chain whose status byte is written (blk.h): the
 * whole device-writable part.  Below 2^32: a chain is at most 2^32 bytes
 * (2.7.5.2) with at least one readable byte; the cap is for other queue
 * ops. */
static uint32_t used_len(const struct ramdev_virtq_elem *e)
{
	return e->in_len > UINT32_MAX ? UINT32_MAX : (uint32_t)e->in_len;
}

/* Best effort when not even a request could be allocated: IOERR, with the
 * used length rule kept (zeroes before the status byte). */
uint32_t ramdev_blk_elem_ioerr(struct ramdev_virtq_elem *e)
{
	const struct ramdev_dma_seg *seg;
	uint8_t st = RAMDEV_BLK_S_IOERR;

	if (e->in_num == 0 || e->in_len == 0)
		return 0;
	seg = &e->segs[e->out_num + e->in_num - 1];
	if (seg->len == 0)
		return 0;
	fill_zero(e, 0, e->in_len - 1);
	(void)ramdev_blk_seg_copy_out(seg, seg->len - 1, &st, 1);
	return used_len(e);
}

/*
 * Bytes at the start of the device-writable part that @req wrote before
 * its status byte: a successful IN its data, GET_ID its serial (at most 20
 * bytes), anything else none.
 */
static uint64_t bytes_written(const struct blk_req *req)
{
	uint64_t room = req->elem->in_len - 1;

	if (req->status != RAMDEV_BLK_S_OK)
		return 0;
	if (req->op == BLK_OP_READ)
		return req->len; /* == room: parse_rw checked it */
	if (req->type == RAMDEV_BLK_T_GET_ID)
		return room < RAMDEV_BLK_ID_BYTES ? room : RAMDEV_BLK_ID_BYTES;
	return 0;
}

/*
 * Keep @req for the next request (up to BLK_REQ_CACHE of them), or free it.
 * It keeps its staging buffer when that is at most BLK_STAGE_KEEP bytes, or
 * while the buffers of all cached requests fit in the staging budget: a
 * large buffer freed and allocated again per request costs glibc an mmap,
 * a page fault and zeroing per page, and a munmap (measured: two thirds of
 * the daemon's time on 1 MiB device-memory requests).  Its staging
 * reservation is already back (ramdev_blk_stage_end()).
 */
static void req_recycle(struct blk_req *req)
{
	struct ramdev_blk *blk = req->blk;
	bool keep_req = blk->req_cached < BLK_REQ_CACHE;

	if (req->ranges) /* DISCARD / WRITE_ZEROES only */
		free(req->ranges);
	if (!keep_req || (req->stage_cap > BLK_STAGE_KEEP &&
			  blk->stage_kept + req->stage_cap > blk->stage_budget)) {
		free(req->stage);
		req->stage = NULL;
		req->stage_cap = 0;
	}
	if (!keep_req) {
		free(req);
		return;
	}
	blk->stage_kept += req->stage_cap;
	req->next = blk->req_cache;
	blk->req_cache = req;
	blk->req_cached++;
}

/*
 * Copy staged data back (successful IN) and give the staging space back,
 * write the status byte, count, and recycle @req (it is gone on return).
 * Returns @req's element, for the queue to push with *@written: the used
 * length (the rule is in blk.h): the whole writable part, every byte of
 * which the device has now written (zeroes where the request had nothing
 * to put: a failed read, a GET_ID buffer past the serial, any writable
 * byte another request type does not use), or 0 for a chain without a
 * status byte (nothing written).
 */
struct ramdev_virtq_elem *ramdev_blk_req_finish(struct blk_req *req,
						uint32_t *written)
{
	struct ramdev_blk *blk = req->blk;
	struct ramdev_virtq_elem *e = req->elem;

	if (!ramdev_blk_stage_end(req))
		req->status = RAMDEV_BLK_S_IOERR; /* the last window's */
	if (req->status == RAMDEV_BLK_S_OK) {
		if (req->op == BLK_OP_READ)
			blk->stats.bytes_read += req->len;
		else if (req->op == BLK_OP_WRITE)
			blk->stats.bytes_written += req->len;
	}
	blk->stats.errors[req->err]++;
	qstats_count(req);
	if (req->err == RAMDEV_BLK_NO_STATUS || req->err == RAMDEV_BLK_HDR_SHORT) {
		*written = 0;
	} else {
		fill_zero(e, bytes_written(req), e->in_len - 1);
		(void)ramdev_blk_seg_copy_out(&e->segs[req->status_seg],
					      req->status_off, &req->status, 1);
		blk->stats.status[req->status]++;
		*written = used_len(e);
	}
	req_recycle(req);
	return e;
}
