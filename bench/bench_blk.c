// SPDX-License-Identifier: MIT
/*
 * `ramdev bench blk`: virtio-blk requests through the whole data path, beside
 * a raw pread/pwrite loop on the same image in the same run.
 *
 * The path measured: a guest driver (drivers/vring_driver) writes a header,
 * a data descriptor and a status byte (in an indirect table, as Linux's
 * virtio_blk does) into rings in guest RAM of a test
 * machine (drivers/test_guest); the device side pops the chain through the
 * virtqueue and DMA layers, parses and executes it (ramdev_blk_process, the
 * io_uring or the preadv/pwritev engine) against an image file, pushes it,
 * and the driver reaps the used ring and checks the status.  DEPTH requests
 * are kept in flight.  Each request's data is one physically contiguous
 * buffer, so it is one descriptor, as Linux sends it (the block layer merges
 * contiguous pages into one segment); --per-page makes it one descriptor per
 * 4 KiB page instead, as for a page cache whose pages are scattered (what
 * `ramdev demo` does).  The data pages live in guest RAM or in a RAM-device
 * region (RAMD, standing in for a GPU BAR), under both DMA policies; and,
 * under the direct policy, in "RAMD64": the same device memory as a second
 * RAM-device region whose DMA width is 64 (ramdev_region_set_dma_width: a
 * BAR that takes 64-byte accesses, e.g. a prefetchable BAR mapped
 * write-combining), so the two differ only in the width of the copies.
 * (qemu-bounce reaches RAMD through its 8-byte ops table whatever the
 * width, as QEMU does: RAMD64 rows there would repeat the RAMD ones.)
 *
 *  - direct: RAM and RAMD mapped in place; virtio-blk stages RAMD pages
 *    through a per-request RAM buffer with the access core.
 *  - qemu-bounce: QEMU before the fix: RAMD is bounced through one 4096-byte
 *    buffer, and a map that finds it busy breaks the queue.  The bench then
 *    does what a VMM's device reset would: it drains the device, rebuilds
 *    the queue and the driver's rings, counts the requests the guest never
 *    got back as failed, and goes on.  So it reports how far that policy
 *    gets, not an error.
 *
 * Baseline ("raw"): pwrite/pread of the same sizes from one RAM buffer, one at
 * a time, sequentially through the same image.  Both sides use the page
 * cache (no O_DIRECT): the same open file (blk gets a dup of the raw
 * descriptor), the same flags, the same offsets, and the image is written
 * once beforehand so every access hits cached, allocated pages.  The ratio
 * "x raw" therefore compares the whole virtio-blk data path with the bare
 * system call doing the same copy.  A second baseline ("raw staged") makes
 * the same calls through one RAM buffer and copies each request's data to
 * or from its RAMD page with the access core: what staging costs with
 * nothing else of the path, the floor for the RAMD rows.
 *
 * Timing: each cell runs for at least min_ms (150 ms; 20 ms with --quick)
 * and then drains; the best of several runs (3; 2 with --quick) is kept, and
 * the runs of one cell are interleaved with the other cells' so a burst of
 * load from the rest of the machine spoils one run, not the cell.  The raw
 * run of an (op, size) group alternates between first and last in it, so
 * it does not always inherit the write-back of the group before.
 *
 * This file drives the runs; bench_blk_report.c checks the targets and
 * prints the table and the JSON.
 */
#define _GNU_SOURCE /* mkostemp */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "ramdev/access.h"
#include "ramdev/blk.h"
#include "ramdev/dma.h"
#include "ramdev/virtq.h"
#include "test_guest.h"
#include "vring_driver.h"

#include "bench.h"
#include "bench_blk_priv.h"
#include "report.h"

#define PAGE 4096u
#define MAX_REQ (64u * 1024u)
#define MAX_PAGES (MAX_REQ / PAGE)

/* Guest memory layout (RAM at 0, RAMD at TEST_GUEST_RAMD_GPA). */
#define DESC_GPA 0x0ull
#define AVAIL_GPA 0x1000ull
#define USED_GPA 0x2000ull
#define INDIRECT_GPA 0x10000ull
#define INDIRECT_MAX (MAX_PAGES + 2u)
#define HDR_GPA 0x20000ull
#define STATUS_GPA 0x21000ull
#define DATA_RAM_GPA 0x100000ull
#define RAMD64_GPA (TEST_GUEST_RAMD_GPA + 0x10000000ull)
#define GUEST_RAM (4ull << 20)
#define GUEST_RAMD (2ull << 20)

const size_t bench_blk_sizes[NSIZES] = { 4096, MAX_REQ };
const char *const bench_blk_ops[NOPS] = { "write", "read" };
const char *const bench_blk_mems[NMEMS] = { "RAM", "RAMD", "RAMD64" };

struct ctx {
	int img;
	uint64_t pos;   /* next image offset */
	uint8_t *buf;   /* MAX_REQ bytes to write the image with */
	uint8_t *raw_buf; /* raw baseline's DEPTH buffers of MAX_REQ */
	uint8_t *ramd_buf; /* the RAMD data pages (host view), DEPTH of them */
	uint8_t *stage;   /* the staged baseline's one RAM buffer */
	unsigned slot;  /* the raw buffer to use next */
	uint64_t min_ns;
	bool per_page;  /* one descriptor per 4 KiB page */
	bool no_merge;  /* ramdev_blk_options.no_merge */
	const char *only; /* run only blk cells whose name contains this */
};

/* ---- the rig ---- */

static void rig_log(void *opaque, int level, const char *msg)
{
	struct rig *r = opaque;

	if (level <= LOG_WARNING && !r->msg[0])
		snprintf(r->msg, sizeof(r->msg), "%s", msg);
}

static int rig_queue_new(struct rig *r)
{
	struct ramdev_virtq_config qc = {
		.size = QSIZE, .desc = DESC_GPA, .avail = AVAIL_GPA,
		.used = USED_GPA, .event_idx = true, .indirect = true,
	};
	struct vring_drv_config vc = vring_drv_config_of(&qc, INDIRECT_GPA,
							 INDIRECT_MAX);
	int ret;

	ret = ramdev_virtq_new(&r->vq, r->g->dma, &qc);
	if (ret == 0)
		ret = vring_drv_new(&r->drv, r->g->as, &vc);
	if (ret == 0)
		ret = ramdev_blk_attach_queue(r->blk, 0, r->vq, r->g->dma);
	if (ret < 0)
		return ret;
	ramdev_virtq_set_log(r->vq, rig_log, r);
	r->nfree = 0;
	for (unsigned i = 0; i < DEPTH; i++)
		r->free_slots[r->nfree++] = i;
	r->inflight = 0;
	r->broken = false;
	return 0;
}

static void rig_queue_free(struct rig *r)
{
	if (r->blk && r->vq)
		(void)ramdev_blk_detach_queue(r->blk, 0);
	vring_drv_free(r->drv);
	ramdev_virtq_free(r->vq);
	r->drv = NULL;
	r->vq = NULL;
}

/* RAMD64: the guest's RAM-device memory once more, as a region of DMA
 * width 64 at RAMD64_GPA.  The region does not own the memory; the test
 * guest frees it after its address space, and with it this region. */
static int rig_add_ramd64(struct rig *r)
{
	struct ramdev_region *bar = NULL;
	int ret;

	ret = ramdev_region_new_ramd(&bar, "bar64", r->g->ramd_host,
				     GUEST_RAMD);
	if (ret == 0)
		ret = ramdev_region_set_dma_width(bar, 64);
	if (ret == 0)
		ret = ramdev_region_add(ramdev_as_root(r->g->as), RAMD64_GPA,
					bar, 0);
	ramdev_region_unref(bar);
	return ret;
}

static int rig_new(struct rig *r, int img)
{
	struct test_guest_config gc = {
		.ram_size = GUEST_RAM, .ramd_size = GUEST_RAMD,
		.policy = r->policy,
	};
	struct ramdev_blk_options bo = { .fd = img, .engine = r->engine,
					 .serial = "ramdev-bench",
					 .no_merge = r->no_merge };
	int ret;

	ret = test_guest_new(&r->g, &gc);
	if (ret == 0)
		ret = rig_add_ramd64(r);
	if (ret < 0)
		return ret;
	r->ram = test_guest_host(r->g, TEST_GUEST_RAM_GPA, GUEST_RAM);
	ret = ramdev_blk_open(&r->blk, &bo);
	if (ret < 0) {
		r->open_err = ret;
		r->blk = NULL;
		return 0; /* e.g. no io_uring here: these rows are skipped */
	}
	ramdev_blk_set_log(r->blk, rig_log, r);
	return rig_queue_new(r);
}

static void rig_free(struct rig *r)
{
	rig_queue_free(r);
	ramdev_blk_close(r->blk);
	test_guest_free(r->g);
}

/*
 * The queue broke (qemu-bounce): reset as a VMM would.  The device drains
 * what it popped; the guest never sees those (the used ring is dead), so
 * every request it still waits for counts as failed.
 */
static int rig_rebuild(struct rig *r, struct sample *s)
{
	s->failed += r->inflight;
	rig_queue_free(r);
	(void)ramdev_blk_reset(r->blk);
	r->rebuilds++;
	return rig_queue_new(r);
}

/* ---- the guest driver ---- */

static uint64_t next_pos(struct ctx *c, size_t size)
{
	uint64_t off = c->pos;

	c->pos += size;
	if (c->pos + size > IMG_SIZE)
		c->pos = 0;
	return off;
}

/* Add one IN/OUT request of @size bytes at image offset @off. */
static int add_request(struct rig *r, bool write, size_t size, size_t mem,
		       bool per_page, uint64_t off)
{
	struct vring_drv_buf out[1 + MAX_PAGES], in[1 + MAX_PAGES];
	unsigned slot, nout = 0, nin = 0;
	unsigned nbufs = per_page ? (unsigned)(size / PAGE) : 1;
	uint32_t blen = (uint32_t)(size / nbufs);
	uint32_t type = htole32(write ? RAMDEV_BLK_T_OUT : RAMDEV_BLK_T_IN);
	uint64_t sector = htole64(off / RAMDEV_BLK_SECTOR_SIZE), data;
	uint8_t *h;
	int head;

	if (!r->nfree)
		return -ENOSPC;
	slot = r->free_slots[r->nfree - 1];
	h = r->ram + HDR_GPA + slot * 16u;
	memcpy(h, &type, 4);
	memset(h + 4, 0, 4);
	memcpy(h + 8, &sector, 8);
	r->ram[STATUS_GPA + slot] = 0xff;
	data = (mem == MEM_RAMD64 ? RAMD64_GPA
		: mem == MEM_RAMD ? TEST_GUEST_RAMD_GPA
				  : DATA_RAM_GPA) + (uint64_t)slot * MAX_REQ;
	out[nout++] = (struct vring_drv_buf){ HDR_GPA + slot * 16u, 16 };
	for (unsigned i = 0; i < nbufs; i++) {
		struct vring_drv_buf b = { data + (uint64_t)i * blen, blen };

		if (write)
			out[nout++] = b;
		else
			in[nin++] = b;
	}
	in[nin++] = (struct vring_drv_buf){ STATUS_GPA + slot, 1 };
	head = vring_drv_add(r->drv, out, nout, in, nin, true);
	if (head < 0)
		return head;
	r->nfree--;
	r->slot_of[head] = slot;
	r->inflight++;
	return head;
}

/* The guest's interrupt handler: take used chains, check their status. */
static void reap_used(struct rig *r, size_t size, struct sample *s)
{
	uint32_t len;
	uint16_t id;

	while (vring_drv_get_used(r->drv, &id, &len) == 1) {
		unsigned slot = r->slot_of[id % QSIZE];

		if (r->ram[STATUS_GPA + slot] == RAMDEV_BLK_S_OK) {
			s->completed++;
			s->bytes += size;
		} else {
			s->failed++;
		}
		r->free_slots[r->nfree++] = slot;
		r->inflight--;
	}
}

/* ---- one run of a cell ---- */

/* The device's answer to a kick. */
static void kick(struct rig *r)
{
	if (ramdev_blk_process(r->blk, 0, NULL) < 0 ||
	    ramdev_virtq_error(r->vq) != RAMDEV_VIRTQ_OK)
		r->broken = true;
}

/* blk requests for at least c->min_ns, then drain.  0 or -errno. */
static int run_blk(struct ctx *c, struct rig *r, bool write, size_t size,
		   size_t mem, struct sample *s)
{
	uint64_t t0 = bench_now_ns(), t;
	bool adding = true;
	int ret;

	*s = (struct sample){ 0 };
	for (;;) {
		unsigned added = 0;

		t = bench_now_ns();
		if (t - t0 >= c->min_ns)
			adding = false;
		while (adding && r->inflight < DEPTH &&
		       add_request(r, write, size, mem, c->per_page,
				   next_pos(c, size)) >= 0)
			added++;
		if (added && vring_drv_publish(r->drv))
			kick(r);
		if (ramdev_blk_inflight(r->blk)) {
			ret = ramdev_blk_wait(r->blk, -1, NULL);
		} else {
			ret = ramdev_blk_complete(r->blk, NULL);
			/* Nothing in the device but the guest waits: a kick
			 * it was told to skip (harmless, a real VMM may see
			 * the same from a spurious kick). */
			if (ret == 0 && !added && r->inflight && !r->broken)
				kick(r);
		}
		if (ret < 0)
			return ret;
		reap_used(r, size, s);
		if (r->broken) {
			ret = rig_rebuild(r, s);
			if (ret < 0)
				return ret;
		}
		if (!adding && !r->inflight)
			break;
	}
	s->secs = (double)(bench_now_ns() - t0) / 1e9;
	return 0;
}

/*
 * The baseline: pwrite/pread of @size bytes, one at a time, rotating over
 * DEPTH buffers like the blk requests in flight (the same memory footprint:
 * one hot buffer would flatter the baseline with cache hits).  The buffers
 * are the RAM data pages of the first rig's guest (c->raw_buf), so raw and
 * blk RAM cells copy from and to the same kind of memory (a shared memfd
 * mapping, no transparent huge pages).  The clock is read once per DEPTH
 * calls, as run_blk reads it about once per DEPTH requests.
 */
/* One staged call: through c->stage, the RAMD page copied with the
 * access core (as blk stages it, minus the rest of the data path). */
static ssize_t staged_call(struct ctx *c, bool write, size_t size, off_t off)
{
	uint8_t *dev = c->ramd_buf + (size_t)c->slot * MAX_REQ;
	ssize_t n;

	if (write) {
		ramdev_read(c->stage, dev, size);
		return pwrite(c->img, c->stage, size, off);
	}
	n = pread(c->img, c->stage, size, off);
	if (n == (ssize_t)size)
		ramdev_write(dev, c->stage, size);
	return n;
}

/*
 * @staged: the floor of staging instead: the same calls through one RAM
 * buffer, each request's data copied to or from its RAMD page with the
 * access core (blk's RAMD cells against it: what the rest of the path adds).
 */
static int run_raw(struct ctx *c, bool write, size_t size, bool staged,
		   struct sample *s)
{
	uint64_t t0 = bench_now_ns();

	*s = (struct sample){ 0 };
	while (bench_now_ns() - t0 < c->min_ns) {
		for (unsigned k = 0; k < DEPTH; k++) {
			off_t off = (off_t)next_pos(c, size);
			uint8_t *buf = c->raw_buf + (size_t)c->slot * MAX_REQ;
			ssize_t n = staged ? staged_call(c, write, size, off) :
				    write ? pwrite(c->img, buf, size, off)
					  : pread(c->img, buf, size, off);

			c->slot = (c->slot + 1) % DEPTH;
			if (n != (ssize_t)size)
				return n < 0 ? -errno : -EIO;
			s->completed++;
			s->bytes += size;
		}
	}
	s->secs = (double)(bench_now_ns() - t0) / 1e9;
	return 0;
}

static void keep_best(struct cell *cell, const struct sample *s)
{
	double rate = s->secs > 0 ? (double)s->bytes / s->secs : 0;

	if (!cell->have || rate > cell->best_rate ||
	    (rate == cell->best_rate && s->failed < cell->best.failed)) {
		cell->best = *s;
		cell->best_rate = rate;
		cell->have = true;
	}
}

/* ---- the cells ---- */

static const struct {
	enum ramdev_dma_policy policy;
	enum ramdev_blk_engine engine;
	const char *policy_name, *engine_name;
} rig_kinds[NRIGS] = {
	{ RAMDEV_DMA_DIRECT, RAMDEV_BLK_ENGINE_URING, "direct", "io_uring" },
	{ RAMDEV_DMA_DIRECT, RAMDEV_BLK_ENGINE_SYNC, "direct", "sync" },
	{ RAMDEV_DMA_QEMU_BOUNCE, RAMDEV_BLK_ENGINE_URING, "qemu-bounce",
	  "io_uring" },
	{ RAMDEV_DMA_QEMU_BOUNCE, RAMDEV_BLK_ENGINE_SYNC, "qemu-bounce", "sync" },
};

/* TEXT anywhere in @name; "TEXT$" only at its end ("... RAM$" is not RAMD). */
static bool only_matches(const char *name, const char *text)
{
	size_t n = strlen(name), t = strlen(text);

	if (t && text[t - 1] == '$')
		return t - 1 <= n &&
		       strncmp(name + n - (t - 1), text, t - 1) == 0;
	return strstr(name, text) != NULL;
}

/* "write 4 KiB sync direct RAM": what --only matches against.  No RAMD64
 * cells under qemu-bounce (see the top of this file). */
static bool cell_wanted(const struct ctx *c, size_t o, size_t i, size_t rg,
			size_t m)
{
	char name[96], sz[32];

	if (m == MEM_RAMD64 && rig_kinds[rg].policy != RAMDEV_DMA_DIRECT)
		return false;
	if (!c->only)
		return true;
	snprintf(name, sizeof(name), "%s %s %s %s %s", bench_blk_ops[o],
		 bench_size_str(bench_blk_sizes[i], sz, sizeof(sz)),
		 rig_kinds[rg].engine_name, rig_kinds[rg].policy_name,
		 bench_blk_mems[m]);
	return only_matches(name, c->only);
}

/* The raw and the staged baselines of (op @o, size @i).  0 or -errno. */
static int run_raws(struct ctx *c, struct cell *cells, size_t o, size_t i)
{
	struct sample s;
	int ret;

	ret = run_raw(c, o == 0, bench_blk_sizes[i], false, &s);
	if (ret < 0)
		return ret;
	keep_best(&cells[raw_idx(o, i)], &s);
	ret = run_raw(c, o == 0, bench_blk_sizes[i], true, &s);
	if (ret < 0)
		return ret;
	keep_best(&cells[staged_idx(o, i)], &s);
	return 0;
}

/* One pass over every cell.  0 or -errno. */
static int pass(struct ctx *c, struct rig *rigs, struct cell *cells,
		unsigned p, unsigned runs)
{
	int tty = isatty(2), ret;
	struct sample s;
	char sz[32];

	for (size_t o = 0; o < NOPS; o++) {
		for (size_t i = 0; i < NSIZES; i++) {
			size_t size = bench_blk_sizes[i];

			fprintf(stderr, "%sbench blk: pass %u/%u %-5s %-6s%s",
				tty ? "\r" : "", p + 1, runs, bench_blk_ops[o],
				bench_size_str(size, sz, sizeof(sz)),
				tty ? "   " : "\n");
			/* The raw run goes first in even passes and last in
			 * odd ones: the first cell of a group inherits the
			 * write-back the previous group started. */
			if (p % 2 == 0) {
				ret = run_raws(c, cells, o, i);
				if (ret < 0)
					return ret;
			}
			for (size_t rg = 0; rg < NRIGS; rg++) {
				if (!rigs[rg].blk)
					continue;
				for (size_t m = 0; m < NMEMS; m++) {
					if (!cell_wanted(c, o, i, rg, m))
						continue;
					ret = run_blk(c, &rigs[rg], o == 0,
						      size, m, &s);
					if (ret < 0)
						return ret;
					keep_best(&cells[blk_idx(o, i, rg, m)],
						  &s);
				}
			}
			if (p % 2 == 1) {
				ret = run_raws(c, cells, o, i);
				if (ret < 0)
					return ret;
			}
		}
	}
	if (tty)
		fprintf(stderr, "\n");
	return 0;
}


/* ---- the command ---- */

/* A temporary image, written once so every access hits cached pages. */
static int make_image(char *path, size_t len, uint8_t *buf)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp";
	int fd;

	snprintf(path, len, "%s/ramdev-bench-blk-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	unlink(path); /* gone when the bench exits, however it exits */
	for (uint64_t off = 0; off < IMG_SIZE; off += MAX_REQ) {
		memset(buf, (int)(off >> 16), MAX_REQ);
		if (pwrite(fd, buf, MAX_REQ, (off_t)off) != (ssize_t)MAX_REQ) {
			int err = errno ? -errno : -EIO;

			close(fd);
			return err;
		}
	}
	return fd;
}

static int usage(FILE *f)
{
	fprintf(f, "usage: ramdev bench blk [--quick] [--json FILE] [--per-page] "
		   "[--no-merge] [--only TEXT]\n"
		   "  --per-page  one descriptor per 4 KiB data page (scattered "
		   "page cache)\n             instead of one per request\n"
		   "  --no-merge  one system call per request (the library merges "
		   "back-to-back\n             requests of up to 32 KiB by "
		   "default)\n"
		   "  --only TEXT run only the blk cells whose name (\"write 4 KiB "
		   "sync direct RAM\")\n             contains TEXT (for "
		   "profiling; a trailing $ anchors TEXT at the end, so\n             \"RAMD$\" is not RAMD64; \"64 KiB\" selects a size, \"64\" also\n             RAMD64; the raw cells always run)\n");
	return f == stderr ? 2 : 0;
}

static int parse_args(int argc, char **argv, struct bench_meta *meta,
		      const char **json, struct ctx *c)
{
	static const struct option longopts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "per-page", no_argument, NULL, 'P' },
		{ "no-merge", no_argument, NULL, 'M' },
		{ "json", required_argument, NULL, 'j' },
		{ "only", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "qj:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			meta->quick = 1;
			break;
		case 'j':
			*json = optarg;
			break;
		case 'P':
			c->per_page = true;
			break;
		case 'M':
			c->no_merge = true;
			break;
		case 'o':
			c->only = optarg;
			break;
		case 'h':
			return usage(stdout) - 1;
		default:
			return usage(stderr);
		}
	}
	if (optind != argc)
		return usage(stderr);
	meta->timing.min_ns = meta->quick ? 20000000 : 150000000;
	meta->timing.runs = meta->quick ? 2 : 3;
	return 0;
}


int bench_blk(int argc, char **argv)
{
	struct bench_meta meta = { .bench = "blk" };
	struct rig rigs[NRIGS] = { 0 };
	struct cell *cells = NULL;
	struct bench_check checks[4];
	struct ctx c = { .img = -1 };
	const char *json = NULL;
	char path[256], load0[64], load1[64];
	int ret, status = 1;
	uint64_t t0;
	size_t nk;

	ret = parse_args(argc, argv, &meta, &json, &c);
	if (ret)
		return ret < 0 ? 0 : ret;
	bench_blk_loadavg(load0, sizeof(load0));
	c.min_ns = meta.timing.min_ns;
	cells = calloc(NCELLS, sizeof(*cells));
	c.buf = aligned_alloc(PAGE, MAX_REQ);
	c.stage = aligned_alloc(PAGE, MAX_REQ);
	if (!cells || !c.buf || !c.stage) {
		fprintf(stderr, "ramdev bench blk: out of memory\n");
		goto out;
	}
	c.img = make_image(path, sizeof(path), c.buf);
	if (c.img < 0) {
		fprintf(stderr, "ramdev bench blk: image: %s\n", strerror(-c.img));
		goto out;
	}
	for (size_t rg = 0; rg < NRIGS; rg++) {
		rigs[rg].policy = rig_kinds[rg].policy;
		rigs[rg].engine = rig_kinds[rg].engine;
		rigs[rg].policy_name = rig_kinds[rg].policy_name;
		rigs[rg].engine_name = rig_kinds[rg].engine_name;
		rigs[rg].no_merge = c.no_merge;
		ret = rig_new(&rigs[rg], c.img);
		if (ret < 0) {
			fprintf(stderr, "ramdev bench blk: %s/%s: setup: %s\n",
				rigs[rg].engine_name, rigs[rg].policy_name,
				strerror(-ret));
			goto out;
		}
	}
	c.raw_buf = rigs[0].ram + DATA_RAM_GPA;
	memset(c.raw_buf, 0x5a, (size_t)DEPTH * MAX_REQ);
	c.ramd_buf = test_guest_host(rigs[0].g, TEST_GUEST_RAMD_GPA,
				     (size_t)DEPTH * MAX_REQ);
	memset(c.stage, 0x5a, MAX_REQ);
	t0 = bench_now_ns();
	for (unsigned p = 0; p < meta.timing.runs; p++) {
		ret = pass(&c, rigs, cells, p, meta.timing.runs);
		if (ret < 0) {
			fprintf(stderr, "ramdev bench blk: %s\n", strerror(-ret));
			goto out;
		}
	}
	meta.seconds = (double)(bench_now_ns() - t0) / 1e9;
	bench_blk_loadavg(load1, sizeof(load1));
	nk = bench_blk_check_targets(checks, rigs, cells);
	bench_blk_print_report(&meta, c.per_page, path, load0, load1, rigs,
			       cells, checks, nk);
	status = 0;
	if (json) {
		ret = bench_blk_write_json(json, &meta, c.per_page, load0,
					   load1, rigs, cells, checks, nk);
		if (ret < 0) {
			fprintf(stderr, "ramdev bench blk: %s: %s\n", json,
				strerror(-ret));
			status = 1;
		}
	}
out:
	for (size_t rg = 0; rg < NRIGS; rg++)
		rig_free(&rigs[rg]);
	if (c.img >= 0)
		close(c.img);
	free(c.buf);
	free(c.stage);
	free(cells);
	return status;
}
