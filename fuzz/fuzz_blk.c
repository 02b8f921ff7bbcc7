// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for virtio-blk (clang only; scripts/fuzz.sh): whole
 * requests (header, data, DISCARD/WRITE_ZEROES ranges, GET_ID, FLUSH, unknown
 * types), and raw chains (any buffers, order, addresses), on a real split
 * ring through virtq + blk, on a 64 KiB memfd image; headers, data, ranges
 * and status bytes spread over RAM, RAM-device and MMIO.  Machines: sync
 * engine under DIRECT or QEMU_BOUNCE (1 KiB bounce pool), io_uring, sync
 * under the fault engine (blk_fault_engine.h), sync with request merging.
 *
 * With the sync engine and merging off (options.no_merge) each request is
 * pushed before the next is popped,
 * so at each push a model replays it on copies of the image and of guest
 * memory (DIRECT, no raw chain): the status it owes (a whole number of
 * sectors inside the capacity: OK; else not; an injected failure: IOERR;
 * after a write-back error FLUSH fails), then its effect.  At the end the
 * image and all guest data memory must equal the model's.  Every input:
 * well-formed chains all pushed (DIRECT), status bytes valid, nothing in
 * flight, no staging reserved, the bounce pool whole, references balanced.
 * docs/robustness.md says what the model takes as it finds it.
 *
 * Input:
 *   u8 flags              bit0 QEMU_BOUNCE policy, bit1 direct descriptors,
 *                         bit2 (DIRECT only) the io_uring engine, bit4
 *                         (DIRECT, sync) request merging on, bit3
 *                         (DIRECT, sync) the fault engine, whose rules
 *                         follow: u8 n (% 5), each u8 step kind, u8 nth,
 *                         u8 times, u8 action, u16 bytes (see
 *                         blk_fault_engine.h and get_rules())
 *   requests until the end:
 *     u8 kind             < 0xe0: a request; else a raw chain
 *     request: u8 type (see req_type()), u8 sector mode, u16 sector,
 *              place header, u8 n data segments (% 5), u8 misc (bit0: data
 *              in the wrong direction), each segment: u8 length, place,
 *              then for DISCARD/WRITE_ZEROES u8 ranges (% 4), each u16
 *              sector, u16 sectors, u8 flags; for OUT u8 fill;
 *              place status
 *     raw: u8 n (% 6 + 1), u8 readable count, each: u8 where, u16 offset,
 *          u16 length
 *   place: u8 where (RAM, RAMD, MMIO data areas), u16 offset
 */
#define _GNU_SOURCE /* memfd_create */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "as/as_priv.h"
#include "blk_priv.h"
#include "ramdev/access.h"
#include "test_guest.h"
#include "vring_driver.h"

#include "blk_fault_engine.h"
#include "fuzz_input.h"

#define IMG (64u << 10)
#define RAM_SIZE (32u << 10)
#define RAMD_SIZE (16u << 10)
#define MMIO_SIZE 4096u
#define POOL 1024u
#define QSIZE 64u
#define RING_END 0x5000u /* rings and indirect tables below, data above */
#define MAX_REQS 24
#define MAX_SEGS 6
#define SERIAL "ramdev-fuzz"

#define FAIL() fail(__LINE__)

static void fail(int line)
{
	fprintf(stderr, "fuzz_blk: check at line %d failed\n", line);
	__builtin_trap();
}

/* A buffer: where in guest memory (area 0 RAM, 1 RAMD, 2 MMIO). */
struct buf {
	int area;
	uint32_t off, len;
};

struct req {
	struct buf seg[MAX_SEGS]; /* header, data..., status */
	unsigned nseg, nout;
	int head;
	bool pushed;
	bool self_overlap; /* writable buffers overlap: see build_req() */
};

/* The machine: guest, device, and the model's copies. */
struct mach {
	struct test_guest *g;
	struct ramdev_blk *blk;
	int img;
	uint8_t model_img[IMG];
	uint8_t real_img[IMG];
	uint8_t *model[3]; /* copies of the three data areas */
	uint8_t *tmp;
	struct req reqs[MAX_REQS];
	unsigned nreq;
	bool raw;   /* a raw chain was added: no model check */
	bool exact; /* replay on the model (DIRECT, sync, no raw chain) */
	bool merging; /* machine 4: no model (see machine()) */
	bool uring; /* the io_uring engine: requests overlap, no model */
	struct fault_engine_state *fe; /* machine 3: injected faults */
	bool wb;    /* the model's write-back error (FLUSH must fail) */
	struct ramdev_virtq *vq;
};

static const uint64_t area_gpa[3] = { TEST_GUEST_RAM_GPA, TEST_GUEST_RAMD_GPA,
				      TEST_GUEST_MMIO_GPA };
static const uint32_t area_lo[3] = { RING_END, 0, 0 };
static const uint32_t area_hi[3] = { RAM_SIZE, RAMD_SIZE, MMIO_SIZE };

static void quiet(void *opaque, int level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

/* Real guest memory of an area, at an offset. */
static uint8_t *real_at(struct mach *m, int area, uint32_t off)
{
	return area == 0 ? m->g->ram_host + off
	       : area == 1 ? m->g->ramd_host + off : m->g->mmio_mem + off;
}

/* Copy @n bytes to real memory (RAMD through the access core) and model. */
static void put(struct mach *m, int area, uint32_t off, const void *src,
		size_t n)
{
	if (area == 1)
		ramdev_write(real_at(m, area, off), src, n);
	else
		memcpy(real_at(m, area, off), src, n);
	memcpy(m->model[area] + off, src, n);
}

static struct buf get_place(struct input *in, uint32_t want)
{
	struct buf b;
	uint32_t span;

	b.area = get8(in) % 3;
	span = area_hi[b.area] - area_lo[b.area];
	b.off = area_lo[b.area] + get16(in) % span;
	b.len = want;
	if (b.len > area_hi[b.area] - b.off)
		b.len = area_hi[b.area] - b.off;
	return b;
}

static bool overlap(const struct buf *a, const struct buf *b)
{
	return a->area == b->area && a->off < b->off + b->len &&
	       b->off < a->off + a->len;
}

static uint32_t req_type(struct input *in)
{
	static const uint32_t types[7] = {
		RAMDEV_BLK_T_IN, RAMDEV_BLK_T_OUT, RAMDEV_BLK_T_FLUSH,
		RAMDEV_BLK_T_GET_ID, RAMDEV_BLK_T_DISCARD,
		RAMDEV_BLK_T_WRITE_ZEROES, 3 /* unknown */
	};
	uint8_t v = get8(in) % 8;
	uint16_t v16;

	if (v < 7)
		return types[v];
	v16 = get16(in);
	return (uint32_t)v16 << 16 | get16(in);
}

/* The data of a DISCARD/WRITE_ZEROES (ranges) or an OUT (a fill byte). */
static void fill_data(struct input *in, struct mach *m, const struct req *r,
		      uint32_t type)
{
	unsigned ndata = r->nseg - 1;

	if (ndata && (type == RAMDEV_BLK_T_DISCARD ||
		      type == RAMDEV_BLK_T_WRITE_ZEROES)) {
		unsigned nr = get8(in) % 4;
		const struct buf *b = &r->seg[1];

		for (unsigned k = 0; k < nr && 16 * (k + 1) <= b->len; k++) {
			uint64_t s = htole64(get16(in));
			uint32_t n = htole32(get16(in) % 256);
			uint32_t f = htole32(get8(in) % 4);
			uint8_t range[16];

			memcpy(range, &s, 8);
			memcpy(range + 8, &n, 4);
			memcpy(range + 12, &f, 4);
			put(m, b->area, b->off + 16 * k, range, 16);
		}
	} else if (ndata && type == RAMDEV_BLK_T_OUT) {
		uint8_t fill = get8(in);

		for (unsigned i = 1; i <= ndata; i++)
			for (uint32_t k = 0; k < r->seg[i].len; k += 64) {
				uint8_t line[64];
				uint32_t n = r->seg[i].len - k < 64
						     ? r->seg[i].len - k : 64;

				memset(line, (uint8_t)(fill + i + k / 64), n);
				put(m, r->seg[i].area, r->seg[i].off + k, line, n);
			}
	}
}

/* Build one well-formed request in memory (and the model). */
static void build_req(struct input *in, struct mach *m, struct req *r)
{
	uint32_t type = req_type(in), sector_lo;
	uint8_t mode = get8(in), hdr[16] = { 0 }, misc, st = 0xee;
	uint64_t sector;
	unsigned ndata;

	sector_lo = get16(in);
	sector = mode & 0x80 ? UINT64_MAX - sector_lo
			     : sector_lo % (IMG / 512 + 16);
	type = htole32(type);
	sector = htole64(sector);
	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	type = le32toh(type);
	r->seg[0] = get_place(in, 16);
	if (r->seg[0].len < 16) { /* too close to the end: move it back */
		r->seg[0].off = area_hi[r->seg[0].area] - 16;
		r->seg[0].len = 16;
	}
	put(m, r->seg[0].area, r->seg[0].off, hdr, 16);
	ndata = get8(in) % 5;
	misc = get8(in);
	for (unsigned i = 0; i < ndata; i++) {
		uint8_t l = get8(in);
		uint32_t len = l & 0x80 ? (l & 0x7fu) + 1u : (l % 16u + 1u) * 512u;
		struct buf b = get_place(in, len);

		r->seg[1 + i] = b;
	}
	r->nseg = 1 + ndata;
	fill_data(in, m, r, type);
	/* Readable: header, then data for OUT/DISCARD/WZ (or flipped). */
	r->nout = 1;
	if (type != RAMDEV_BLK_T_IN && type != RAMDEV_BLK_T_GET_ID)
		r->nout += ndata;
	if (misc & 1)
		r->nout = r->nout == 1 ? 1 + ndata : 1;
	r->seg[r->nseg] = get_place(in, 1);
	put(m, r->seg[r->nseg].area, r->seg[r->nseg].off, &st, 1);
	/*
	 * Writable buffers of one request that overlap (data with data, or
	 * with the status byte): the order in which the device's writes land
	 * is not defined (a bounced segment is copied back at push, after a
	 * staged one was written; the status byte is written before either).
	 * The guest asked for it: the model takes the result as it is.
	 */
	r->self_overlap = false;
	for (unsigned i = r->nout; i <= r->nseg; i++)
		for (unsigned k = i + 1; k <= r->nseg; k++)
			if (overlap(&r->seg[i], &r->seg[k]))
				r->self_overlap = true;
	r->nseg++;
}

static void add_chain(struct mach *m, struct vring_drv *d, struct req *r,
		      bool indirect)
{
	struct vring_drv_buf b[MAX_SEGS];

	for (unsigned i = 0; i < r->nseg; i++)
		b[i] = (struct vring_drv_buf){ area_gpa[r->seg[i].area] +
						       r->seg[i].off,
					       r->seg[i].len };
	r->head = vring_drv_add(d, b, r->nout, b + r->nout, r->nseg - r->nout,
				indirect);
	if (r->head >= 0)
		m->nreq++;
}

/* A chain of any buffers, addresses and order (only crash-checked). */
static void add_raw(struct input *in, struct mach *m, struct vring_drv *d,
		    bool indirect)
{
	static const uint64_t base[5] = { TEST_GUEST_RAM_GPA, TEST_GUEST_RAMD_GPA,
					  TEST_GUEST_MMIO_GPA, 0x20000000,
					  UINT64_MAX - 0xffff };
	struct vring_drv_buf b[MAX_SEGS];
	unsigned n = get8(in) % 6 + 1, nout = get8(in) % (n + 1);

	for (unsigned i = 0; i < n; i++) {
		uint8_t w = get8(in) % 5;
		uint64_t off = get16(in);

		b[i].gpa = base[w] + (w == 0 ? RING_END + off % 0xc000 : off);
		b[i].len = get16(in);
	}
	m->raw = true;
	(void)vring_drv_add(d, b, nout, b + nout, n - nout, indirect);
}

/* Gather @len data bytes of @r (segments 1..) from model memory. */
static void gather(struct mach *m, const struct req *r, uint8_t *dst,
		   uint64_t len)
{
	for (unsigned i = 1; i + 1 < r->nseg && len; i++) {
		uint32_t n = r->seg[i].len < len ? r->seg[i].len : (uint32_t)len;

		memcpy(dst, m->model[r->seg[i].area] + r->seg[i].off, n);
		dst += n;
		len -= n;
	}
}

static void scatter(struct mach *m, const struct req *r, const uint8_t *src,
		    uint64_t len)
{
	for (unsigned i = 1; i + 1 < r->nseg && len; i++) {
		uint32_t n = r->seg[i].len < len ? r->seg[i].len : (uint32_t)len;

		memcpy(m->model[r->seg[i].area] + r->seg[i].off, src, n);
		src += n;
		len -= n;
	}
}

/* Model bytes of the device-writable data segments := the real ones. */
static void trust_data(struct mach *m, const struct req *r)
{
	for (unsigned i = r->nout; i + 1 < r->nseg; i++) {
		const struct buf *b = &r->seg[i];

		if (b->area == 1)
			ramdev_read(m->model[1] + b->off, real_at(m, 1, b->off),
				    b->len);
		else
			memcpy(m->model[b->area] + b->off,
			       real_at(m, b->area, b->off), b->len);
	}
}

/* What a failed check was about, on stderr. */
static void dump(const struct req *r, uint32_t type, uint64_t sector,
		 uint8_t status)
{
	fprintf(stderr, "fuzz_blk: head %d type %u sector/written 0x%llx status "
		"%u, %u readable:", r->head, type, (unsigned long long)sector,
		status, r->nout);
	for (unsigned i = 0; i < r->nseg; i++)
		fprintf(stderr, " %d:0x%x+0x%x", r->seg[i].area, r->seg[i].off,
			r->seg[i].len);
	fprintf(stderr, "\n");
}

/* The model image takes the real bytes of [@off, @off + @len) now. */
static void trust_image(struct mach *m, uint64_t off, uint64_t len)
{
	if (off > IMG || len > IMG - off)
		return;
	if (pread(m->img, m->model_img + off, len, (off_t)off) != (ssize_t)len)
		abort();
}

/* IN/OUT with @data bytes of data: the device's answer, then the model. */
static void replay_rw(struct mach *m, const struct req *r, uint32_t type,
		      uint64_t sector, uint64_t data, bool dir_ok,
		      uint8_t status, uint8_t hits)
{
	uint64_t end;
	bool fits = !__builtin_mul_overflow(sector, 512, &end) &&
		    !__builtin_add_overflow(end, data, &end) && end <= IMG;
	bool valid = dir_ok && data % 512 == 0 && fits;

	if (hits & FE_HIT_ERR) {
		/* An injected failure: IOERR, and an OUT may have written
		 * part of its sectors (a short write, then the error). */
		if (valid && type == RAMDEV_BLK_T_OUT)
			trust_image(m, sector * 512, data);
		return;
	}
	/* Otherwise (short transfers and EINTR are resumed) the answer
	 * depends on the request alone: later requests still work. */
	if (valid != (status == RAMDEV_BLK_S_OK)) {
		dump(r, type, sector, status);
		FAIL();
	}
	if (valid && type == RAMDEV_BLK_T_IN)
		scatter(m, r, m->model_img + sector * 512, data);
	else if (valid)
		gather(m, r, m->model_img + sector * 512, data);
}

/* DISCARD/WRITE_ZEROES: the ranges are the whole data part. */
static void replay_dwz(struct mach *m, const struct req *r, uint32_t type,
		       uint64_t data, uint8_t status, uint8_t hits)
{
	/* Once fallocate said EOPNOTSUPP to a punch (the fault engine can),
	 * the device skips discards for good (blk->no_punch, not cleared by
	 * a reset): a discard's content is unspecified (VIRTIO 1.2 5.2.6). */
	bool unspecified = (hits & FE_HIT_ANY) ||
			   (m->fe && type == RAMDEV_BLK_T_DISCARD);

	if (status != RAMDEV_BLK_S_OK && !(hits & FE_HIT_ANY))
		return;
	if (status == RAMDEV_BLK_S_OK && (data % 16 || data > RAMD_SIZE))
		FAIL(); /* OK although not n x 16 bytes */
	if (data > RAMD_SIZE)
		return;
	gather(m, r, m->tmp, data);
	for (uint64_t k = 0; k < data / 16; k++) {
		const uint8_t *rg = m->tmp + 16 * k;
		uint64_t s;
		uint32_t n;

		memcpy(&s, rg, 8);
		memcpy(&n, rg + 8, 4);
		s = le64toh(s);
		n = le32toh(n);
		if (s > IMG / 512 || n > IMG / 512 - s) {
			if (status == RAMDEV_BLK_S_OK)
				FAIL(); /* OK although out of range */
			continue;
		}
		/* A fault (a failed or unsupported fallocate, a short
		 * write of zeroes) leaves the range as it happens to be.
		 * Else zeroes, for DISCARD too: on tmpfs every way the
		 * device discards (punch, zero range, write) leaves zeroes
		 * behind, though the spec leaves it open. */
		if (unspecified)
			trust_image(m, s * 512, n * 512u);
		else
			memset(m->model_img + s * 512, 0, n * 512u);
	}
}

/* Replay one pushed request on the model, given the status it got. */
static void replay(struct mach *m, const struct req *r, uint8_t status)
{
	const uint8_t *h = m->model[r->seg[0].area] + r->seg[0].off;
	uint8_t hits = m->fe ? m->fe->hit[r->head % FE_HEADS] : 0;
	uint32_t type;
	uint64_t sector, data = 0;
	bool dir_ok = true;

	memcpy(&type, h, 4);
	memcpy(&sector, h + 8, 8);
	type = le32toh(type);
	sector = le64toh(sector);
	for (unsigned i = 1; i + 1 < r->nseg; i++) {
		data += r->seg[i].len;
		if ((i < r->nout) != (type != RAMDEV_BLK_T_IN))
			dir_ok = false;
	}
	/* An injected failure fails its request; after a write-back error
	 * every FLUSH fails (blk.h), until the reset between inputs. */
	if ((hits & FE_HIT_ERR) && status == RAMDEV_BLK_S_OK)
		FAIL();
	if (type == RAMDEV_BLK_T_FLUSH && m->wb && status == RAMDEV_BLK_S_OK)
		FAIL();
	if (hits & FE_HIT_WB)
		m->wb = true;
	if ((type == RAMDEV_BLK_T_IN || type == RAMDEV_BLK_T_OUT) && data)
		replay_rw(m, r, type, sector, data, dir_ok, status, hits);
	else if (type == RAMDEV_BLK_T_DISCARD ||
		 type == RAMDEV_BLK_T_WRITE_ZEROES)
		replay_dwz(m, r, type, data, status, hits);
	/*
	 * Writable data the device did not fill (GET_ID's is not modelled):
	 * the used length is the whole writable part (the status byte is its
	 * last), so the DMA layer copies bounced data segments back whole,
	 * the bytes the device never wrote as zeroes (lib/dma.c zeroes a
	 * device-writable bounce buffer at map).  Whether a segment was
	 * bounced depends on the pool: take what is there.
	 */
	if (type != RAMDEV_BLK_T_IN || status != RAMDEV_BLK_S_OK)
		trust_data(m, r);
	m->model[r->seg[r->nseg - 1].area][r->seg[r->nseg - 1].off] = status;
}

static uint8_t real_byte(struct mach *m, const struct buf *b)
{
	uint8_t v;

	if (b->area == 1)
		ramdev_read(&v, real_at(m, 1, b->off), 1);
	else
		v = *real_at(m, b->area, b->off);
	return v;
}

/*
 * A request was pushed.  With the sync engine this happens before the next
 * one is popped, so guest memory now shows exactly what this request did:
 * read its status, replay it on the model.
 */
static void on_push(struct mach *m, uint16_t head, uint32_t written)
{
	struct req *r = NULL;
	uint8_t st;

	for (unsigned i = 0; i < m->nreq && !r; i++)
		if (m->reqs[i].head == head && !m->reqs[i].pushed)
			r = &m->reqs[i];
	if (!r)
		return; /* a raw chain */
	r->pushed = true;
	st = real_byte(m, &r->seg[r->nseg - 1]);
	if (getenv("FUZZ_BLK_TRACE"))
		dump(r, 0, written, st);
	if (r->self_overlap) {
		if (m->fe && (m->fe->hit[head % FE_HEADS] & FE_HIT_WB))
			m->wb = true;
		if (m->exact) { /* the model takes what happened */
			trust_data(m, r);
			m->model[r->seg[r->nseg - 1].area]
				[r->seg[r->nseg - 1].off] = st;
		}
		return;
	}
	/* With io_uring, another request's data may be landing on this
	 * status byte right now: only the used length is checked. */
	if ((!m->uring && st > RAMDEV_BLK_S_UNSUPP) || written < 1)
		FAIL();
	if (m->exact)
		replay(m, r, st);
}

/* Queue ops: the virtqueue's, with on_push() after each push. */
static int w_pop(void *q, struct ramdev_virtq_elem **out)
{
	return ramdev_virtq_pop(((struct mach *)q)->vq, out);
}

static int w_push(void *q, struct ramdev_virtq_elem *elem, uint32_t written)
{
	struct mach *m = q;
	uint16_t head = elem->head;
	int ret = ramdev_virtq_push(m->vq, elem, written);

	on_push(m, head, written);
	return ret;
}

static bool w_should_notify(void *q)
{
	return ramdev_virtq_should_notify(((struct mach *)q)->vq);
}

static bool w_set_notify(void *q, bool on)
{
	return ramdev_virtq_set_notify(((struct mach *)q)->vq, on);
}

static const struct ramdev_blk_queue_ops w_ops = {
	.pop = w_pop, .push = w_push, .should_notify = w_should_notify,
	.set_notify = w_set_notify,
};

/* After the run: every chain pushed, image and memory as the model's. */
/* @real must equal @model: else name the first byte that differs, fail. */
static void same(const char *what, int area, uint32_t base,
		 const uint8_t *real, const uint8_t *model, uint32_t n)
{
	if (memcmp(real, model, n) == 0) /* not a traced loop per byte */
		return;
	for (uint32_t k = 0; k < n; k++)
		if (real[k] != model[k]) {
			fprintf(stderr, "fuzz_blk: %s %d byte 0x%x: 0x%02x, "
				"model 0x%02x\n", what, area, base + k, real[k],
				model[k]);
			FAIL();
		}
}

static void check_run(struct mach *m, bool direct)
{
	for (unsigned i = 0; direct && !m->raw && i < m->nreq; i++)
		if (!m->reqs[i].pushed)
			FAIL(); /* a well-formed chain was dropped */
	if (!m->exact)
		return;
	if (pread(m->img, m->real_img, IMG, 0) != (ssize_t)IMG)
		abort();
	same("image", 0, 0, m->real_img, m->model_img, IMG);
	for (int a = 0; a < 3; a++) {
		uint32_t n = area_hi[a] - area_lo[a];

		if (a == 1)
			ramdev_read(m->tmp, m->g->ramd_host, n);
		else
			memcpy(m->tmp, real_at(m, a, area_lo[a]), n);
		same("area", a, area_lo[a], m->tmp, m->model[a] + area_lo[a], n);
	}
}

/*
 * Machine 0: DIRECT, sync; 1: QEMU_BOUNCE, sync; 2: DIRECT, io_uring;
 * 3: DIRECT, sync under the fault engine; 4: DIRECT, sync, merging.
 * The model replays requests one by one, so the machines it checks run
 * them one by one (no_merge): with merging the sync engine pops a whole
 * batch before it runs it, and a request's header or staged data may be
 * read before an earlier request of the batch wrote over it.
 */
#define NMACHINES 5
static struct mach *machine(int kind)
{
	static struct mach *ms[NMACHINES];
	struct test_guest_config c = {
		.ram_size = RAM_SIZE, .ramd_size = RAMD_SIZE,
		.mmio_size = MMIO_SIZE, .bounce_size = POOL,
		.policy = kind == 1 ? RAMDEV_DMA_QEMU_BOUNCE : RAMDEV_DMA_DIRECT,
	};
	struct ramdev_blk_options o = { .engine = RAMDEV_BLK_ENGINE_SYNC,
					.serial = SERIAL,
					.max_discard_seg = 2,
					.max_write_zeroes_seg = 2,
					.no_merge = kind != 2 && kind != 4 };
	struct mach *m = ms[kind];

	if (m)
		return m;
	m = calloc(1, sizeof(*m));
	if (!m || test_guest_new(&m->g, &c) != 0)
		abort();
	ramdev_as_set_log(m->g->as, quiet, NULL);
	m->img = memfd_create("fuzz-blk", MFD_CLOEXEC);
	if (m->img < 0 || ftruncate(m->img, IMG) != 0)
		abort();
	o.fd = m->img;
	if (kind == 2) { /* every request in flight in io_uring at once */
		o.engine = RAMDEV_BLK_ENGINE_URING;
		o.uring_offload_writes = true;
		m->uring = ramdev_blk_open(&m->blk, &o) == 0;
		o.engine = RAMDEV_BLK_ENGINE_SYNC; /* no io_uring here */
	}
	if (!m->uring && ramdev_blk_open(&m->blk, &o) != 0)
		abort();
	ramdev_blk_set_log(m->blk, quiet, NULL);
	for (int a = 0; a < 3; a++)
		m->model[a] = calloc(1, area_hi[a]);
	m->tmp = malloc(RAMD_SIZE);
	if (!m->model[0] || !m->model[1] || !m->model[2] || !m->tmp)
		abort();
	if (kind == 3) {
		m->fe = calloc(1, sizeof(*m->fe));
		if (!m->fe)
			abort();
		fe_install(m->fe, m->blk);
	}
	m->merging = kind == 4;
	ms[kind] = m;
	return m;
}

/*
 * Machine @kind, after making all of them once: adding a region anywhere
 * rebuilds every address space's view, and each old view drops its region
 * references in an RCU callback, later.  Wait for those callbacks, so the
 * reference counts an input starts from stay put.
 */
static struct mach *machines(int kind)
{
	static bool made;

	if (!made) {
		for (int k = 0; k < NMACHINES; k++)
			machine(k);
		urcu_memb_barrier();
		made = true;
	}
	return machine(kind);
}

static uint64_t refs(const struct ramdev_region *r)
{
	return __atomic_load_n(&r->refs, __ATOMIC_RELAXED);
}

/* Nothing in flight or reserved, the pool whole, references balanced. */
static void check_idle(struct mach *m, const uint64_t r0[3])
{
	struct ramdev_dma_seg s;

	if (ramdev_blk_inflight(m->blk) != 0 || m->blk->stage_used != 0)
		FAIL();
	if (refs(m->g->ram) != r0[0] || refs(m->g->ramd) != r0[1] ||
	    refs(m->g->mmio) != r0[2]) {
		fprintf(stderr, "fuzz_blk: references 0x%llx 0x%llx 0x%llx, "
			"were 0x%llx 0x%llx 0x%llx\n",
			(unsigned long long)refs(m->g->ram),
			(unsigned long long)refs(m->g->ramd),
			(unsigned long long)refs(m->g->mmio),
			(unsigned long long)r0[0], (unsigned long long)r0[1],
			(unsigned long long)r0[2]);
		FAIL();
	}
	if (ramdev_dma_map(m->g->dma, TEST_GUEST_MMIO_GPA, POOL,
			   RAMDEV_DMA_TO_DEVICE, &s) != 0 ||
	    s.len != POOL || !s.bounce)
		FAIL();
	ramdev_dma_unmap(m->g->dma, &s, 0);
}

/* What an action byte of the input stands for (the corpus encodes these). */
static const struct { enum fe_action action; int err; } input_actions[] = {
	{ FE_ERR, EIO }, { FE_ERR, ENOSPC }, { FE_ERR, EINTR },
	{ FE_ERR, EOPNOTSUPP }, { FE_ZERO, 0 }, { FE_SHORT, 0 },
};
#define INPUT_ACTIONS (sizeof(input_actions) / sizeof(input_actions[0]))

/* u8 n (% 5), then n rules: u8 kind, u8 nth, u8 times, u8 action, u16. */
static void get_rules(struct input *in, struct fault_engine_state *fe)
{
	unsigned n = get8(in) % (FE_MAX_RULES + 1);

	for (unsigned i = 0; i < n; i++) {
		struct fe_rule r;
		unsigned a;

		r.kind = (enum blk_step_kind)(BLK_STEP_READV + get8(in) % 4);
		r.nth = 1 + get8(in) % 16;
		r.times = 1 + get8(in) % 2;
		a = get8(in) % INPUT_ACTIONS;
		r.action = input_actions[a].action;
		r.err = input_actions[a].err;
		r.bytes = 1 + get16(in) % 4096;
		(void)fe_add_rule(fe, &r);
	}
}

static void prepare(struct mach *m)
{
	if (ftruncate(m->img, 0) != 0 || ftruncate(m->img, IMG) != 0)
		abort();
	memset(m->model_img, 0, IMG);
	test_guest_clear(m->g);
	for (int a = 0; a < 3; a++)
		memset(m->model[a], 0, area_hi[a]);
	m->nreq = 0;
	m->raw = false;
	m->wb = false;
	if (m->fe)
		fe_reset(m->fe);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	uint8_t flags = get8(&in);
	struct mach *m = machines(flags & 1 ? 1 : flags & 4 ? 2 : flags & 8 ? 3 :
				  flags & 16 ? 4 : 0);
	struct ramdev_virtq_config vc = { .size = QSIZE, .desc = 0x0,
					  .avail = 0x1000, .used = 0x2000,
					  .indirect = true };
	struct vring_drv_config dc = vring_drv_config_of(&vc, 0x3000, MAX_SEGS);
	bool indirect = !(flags & 2);
	struct ramdev_virtq *vq;
	struct vring_drv *d;
	uint64_t r0[3];

	prepare(m);
	if (m->fe)
		get_rules(&in, m->fe);
	r0[0] = refs(m->g->ram);
	r0[1] = refs(m->g->ramd);
	r0[2] = refs(m->g->mmio);
	if (vring_drv_new(&d, m->g->as, &dc) != 0 ||
	    ramdev_virtq_new(&vq, m->g->dma, &vc) != 0)
		abort();
	ramdev_virtq_set_log(vq, quiet, NULL);
	m->vq = vq;
	if (ramdev_blk_attach_queue_ops(m->blk, 0, &w_ops, m) != 0)
		abort();
	while (in.left && m->nreq < MAX_REQS) {
		if (get8(&in) >= 0xe0) {
			add_raw(&in, m, d, indirect);
			continue;
		}
		build_req(&in, m, &m->reqs[m->nreq]);
		m->reqs[m->nreq].pushed = false;
		add_chain(m, d, &m->reqs[m->nreq], indirect);
	}
	m->exact = !m->raw && !(flags & 1) && !m->uring && !m->merging;
	vring_drv_publish(d);
	(void)ramdev_blk_process(m->blk, 0, NULL);
	(void)ramdev_blk_drain(m->blk, NULL);
	check_run(m, !(flags & 1));
	if (ramdev_blk_reset(m->blk) != 0)
		FAIL();
	ramdev_virtq_free(vq);
	vring_drv_free(d);
	check_idle(m, r0);
	return 0;
}
