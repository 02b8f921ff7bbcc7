// SPDX-License-Identifier: MIT
/*
 * ramdev demo: the QEMU failure and the fix, side by side.
 *
 * A guest's page cache lives partly in a GPU BAR hot-added as guest memory
 * (a RAM-device region).  The guest writes the page cache back through a
 * virtio-blk device, the way Linux's virtio_blk does: one request per run of
 * file pages, a 16-byte header and a status byte in RAM, one 4 KiB segment
 * per page, 4 KiB to 512 KiB per request, several requests in flight.
 *
 *  - qemu-bounce: the DMA layer treats RAM-device memory as indirect, as
 *    QEMU did: every BAR page needs the single 4096-byte bounce buffer.  The
 *    first request that needs it while it is taken fails to map; the queue
 *    breaks with QEMU's "virtio: bogus descriptor or out of resources", and
 *    the guest waits forever for its writeback.  The demo notices the broken
 *    queue and stops there, as the guest cannot.
 *  - direct: RAM-device memory is mapped in place; virtio-blk stages BAR
 *    pages through per-request RAM buffers with the exact access core.
 *    Every request completes and the image holds exactly what the guest
 *    wrote.
 *
 * Exit status (also in `ramdev demo --help` and `ramdev help`):
 *   0  the direct policy ran, completed every request and the image
 *      verifies;
 *   1  the direct policy failed: a request failed or never completed, the
 *      image does not verify, or the run could not be set up (the last line
 *      says which);
 *   2  bad usage, 4-9 a bad option value or file argument (demo_args.h);
 *   3  the direct policy was not run (--policy qemu-bounce): the failure is
 *      shown, nothing is verified.
 * The qemu-bounce run failing is the expected outcome and never changes the
 * status.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ramdev/blk.h"
#include "ramdev/dma.h"
#include "ramdev/virtq.h"
#include "vring_driver.h"

#include "commands.h"
#include "demo.h"
#include "demo_args.h"

#define PAGE 4096u
#define QSIZE 128u
#define MAX_PAGES_PER_REQ 128u /* 512 KiB */
#define DESC_GPA 0x0ull
#define AVAIL_GPA 0x1000ull
#define USED_GPA 0x2000ull
#define INDIRECT_GPA 0x10000ull
#define INDIRECT_MAX (MAX_PAGES_PER_REQ + 2u)
#define HDR_GPA 0x100000ull
#define STATUS_GPA 0x101000ull
#define PAGES_GPA 0x200000ull
#define DEFAULT_IMAGE_SIZE (64ull << 20)
#define WATCHDOG_SEC 10

struct demo_opts {
	const char *bar;
	const char *image;
	int policy; /* -1: both */
	enum ramdev_blk_engine engine;
	unsigned inflight;
	unsigned bar_width; /* 0: the default (8) */
};

struct result {
	const char *name;
	unsigned submitted, completed, failed, hung;
	uint64_t bytes;
	double secs;
	uint64_t pages, bar_pages, pages_bad;
	bool broken, verified;
	char msg[256];
	struct ramdev_dma_stats dma;
	struct ramdev_blk_stats blk;
	enum ramdev_blk_engine engine;
};

/* The guest's state for one run. */
struct guest {
	struct demo_machine *m;
	struct vring_drv *drv;
	uint64_t npages, bar_pages, mult;
	uint64_t seed;
	struct {
		uint64_t first;
		unsigned n;
		unsigned slot;
		bool flush;
	} req[QSIZE];
	unsigned free_slots[QSIZE], nfree;
	uint64_t rng;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- page cache: where each file page lives, and what it holds ---- */

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* File page @p's guest address: a fixed scatter, about half in the BAR. */
static uint64_t page_gpa(const struct guest *g, uint64_t p)
{
	uint64_t s = (p * g->mult + 7) % g->npages;

	if (s < g->bar_pages)
		return g->m->bar_gpa + s * PAGE;
	return PAGES_GPA + (s - g->bar_pages) * PAGE;
}

static void page_pattern(uint64_t seed, uint64_t p, uint8_t *buf)
{
	for (unsigned i = 0; i < PAGE / 8; i++) {
		uint64_t x = ((p << 12 | i) ^ seed) * 0x9e3779b97f4a7c15ull;

		x ^= x >> 29;
		memcpy(buf + i * 8, &x, 8);
	}
}

/* The guest CPU dirties its page cache (BAR pages: exact device stores). */
static int fill_page_cache(struct guest *g)
{
	uint8_t buf[PAGE];

	for (uint64_t p = 0; p < g->npages; p++) {
		page_pattern(g->seed, p, buf);
		if (ramdev_as_write(g->m->as, page_gpa(g, p), buf, PAGE) != 0)
			return -EFAULT;
	}
	return 0;
}

/* ---- the guest driver ---- */

static unsigned pick_pages(struct guest *g, uint64_t left)
{
	unsigned n;

	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	n = 1u << (g->rng % 8); /* 4 KiB .. 512 KiB */
	return left < n ? (unsigned)left : n;
}

static void put_header(struct guest *g, unsigned slot, uint32_t type,
		       uint64_t sector)
{
	uint8_t *h = g->m->ram + HDR_GPA + slot * 16u;
	uint32_t t = htole32(type), zero = 0;
	uint64_t s = htole64(sector);

	memcpy(h, &t, 4);
	memcpy(h + 4, &zero, 4);
	memcpy(h + 8, &s, 8);
	g->m->ram[STATUS_GPA + slot] = 0xff;
}

/* Add one write-back request of @n pages from @first (or a FLUSH). */
static int add_request(struct guest *g, uint64_t first, unsigned n, bool flush)
{
	struct vring_drv_buf out[1 + MAX_PAGES_PER_REQ], in;
	unsigned slot;
	int head;

	if (!g->nfree)
		return -ENOSPC;
	slot = g->free_slots[g->nfree - 1];
	put_header(g, slot, flush ? RAMDEV_BLK_T_FLUSH : RAMDEV_BLK_T_OUT,
		   first * (PAGE / RAMDEV_BLK_SECTOR_SIZE));
	out[0] = (struct vring_drv_buf){ HDR_GPA + slot * 16u, 16 };
	for (unsigned i = 0; i < n; i++)
		out[1 + i] = (struct vring_drv_buf){ page_gpa(g, first + i), PAGE };
	in = (struct vring_drv_buf){ STATUS_GPA + slot, 1 };
	head = vring_drv_add(g->drv, out, 1 + n, &in, 1, true);
	if (head < 0)
		return head;
	g->nfree--;
	g->req[head].first = first;
	g->req[head].n = n;
	g->req[head].slot = slot;
	g->req[head].flush = flush;
	return head;
}

/* The interrupt handler: take used buffers, read their status. */
static unsigned reap_used(struct guest *g, struct result *r)
{
	unsigned n = 0;
	uint32_t len;
	uint16_t id;

	while (vring_drv_get_used(g->drv, &id, &len) == 1) {
		unsigned slot = g->req[id % QSIZE].slot;

		if (g->m->ram[STATUS_GPA + slot] == RAMDEV_BLK_S_OK) {
			r->completed++;
			r->bytes += (uint64_t)g->req[id % QSIZE].n * PAGE;
		} else {
			r->failed++;
		}
		g->free_slots[g->nfree++] = slot;
		n++;
	}
	return n;
}

static void capture_log(void *opaque, int level, const char *msg)
{
	struct result *r = opaque;

	if (level <= LOG_WARNING && !r->msg[0])
		snprintf(r->msg, sizeof(r->msg), "%s", msg);
}

/* The device side reacts to a kick, then to completions. */
static void device_kick(struct ramdev_blk *blk, struct result *r)
{
	int ret = ramdev_blk_process(blk, 0, NULL);

	if (ret < 0 && !r->broken) {
		r->broken = true;
		if (!r->msg[0])
			snprintf(r->msg, sizeof(r->msg), "virtio-blk: %s",
				 strerror(-ret));
	}
}

/* Write back every page, several requests in flight, then FLUSH. */
static void writeback(struct guest *g, struct ramdev_blk *blk, unsigned depth,
		      struct result *r)
{
	uint64_t next = 0;
	unsigned inflight = 0;
	bool flushed = false;
	double last_progress = now();

	for (;;) {
		unsigned added = 0, got;

		while (!r->broken && inflight < depth && next < g->npages) {
			unsigned n = pick_pages(g, g->npages - next);

			if (add_request(g, next, n, false) < 0)
				break;
			next += n;
			inflight++;
			added++;
		}
		if (!r->broken && !flushed && next >= g->npages && !inflight) {
			if (add_request(g, 0, 0, true) >= 0) {
				flushed = true;
				inflight++;
				added++;
			}
		}
		r->submitted += added;
		if (added && vring_drv_publish(g->drv) && !r->broken)
			device_kick(blk, r);
		if (ramdev_blk_inflight(blk))
			(void)ramdev_blk_wait(blk, 100, NULL);
		else
			(void)ramdev_blk_complete(blk, NULL);
		got = reap_used(g, r);
		inflight -= got;
		if (got || added)
			last_progress = now();
		if (flushed && !inflight)
			break;
		/* A broken queue never completes the rest: the guest hangs. */
		if (r->broken && !ramdev_blk_inflight(blk))
			break;
		if (now() - last_progress > WATCHDOG_SEC) {
			snprintf(r->msg, sizeof(r->msg),
				 "no progress for %d s", WATCHDOG_SEC);
			r->broken = true;
			break;
		}
	}
	(void)ramdev_blk_drain(blk, NULL);
	inflight -= reap_used(g, r);
	r->hung = inflight;
}

/* Read the image back and compare each page with what the guest wrote. */
static int verify(int fd, const struct guest *g, struct result *r)
{
	uint8_t *buf = malloc(1u << 20), want[PAGE];

	if (!buf)
		return -ENOMEM;
	r->pages_bad = 0;
	for (uint64_t p = 0; p < g->npages; p += (1u << 20) / PAGE) {
		uint64_t n = g->npages - p < (1u << 20) / PAGE ? g->npages - p
							      : (1u << 20) / PAGE;
		ssize_t got = pread(fd, buf, n * PAGE, (off_t)(p * PAGE));

		if (got != (ssize_t)(n * PAGE)) {
			free(buf);
			return got < 0 ? -errno : -EIO;
		}
		for (uint64_t i = 0; i < n; i++) {
			page_pattern(g->seed, p + i, want);
			if (memcmp(buf + i * PAGE, want, PAGE))
				r->pages_bad++;
		}
	}
	free(buf);
	r->verified = r->pages_bad == 0;
	return 0;
}

/* ---- one run ---- */

struct run {
	struct demo_machine *m;
	struct ramdev_dma *dma;
	struct ramdev_virtq *vq;
	struct ramdev_blk *blk;
	struct guest g;
};

static int run_setup(struct run *x, const struct demo_opts *o,
		     enum ramdev_dma_policy policy, int img, uint64_t img_pages,
		     struct result *r)
{
	struct ramdev_dma_config dc = { .policy = policy };
	struct ramdev_virtq_config qc = {
		.size = QSIZE, .desc = DESC_GPA, .avail = AVAIL_GPA,
		.used = USED_GPA, .event_idx = true, .indirect = true,
	};
	struct vring_drv_config vc = vring_drv_config_of(&qc, INDIRECT_GPA,
							 INDIRECT_MAX);
	struct ramdev_blk_options bo = { .fd = img, .engine = o->engine,
					 .serial = "ramdev-demo" };
	uint64_t ram_pages, bar_pages;
	int ret;

	ret = demo_machine_new(&x->m, o->bar, o->bar_width);
	if (ret == 0)
		ret = ramdev_dma_new(&x->dma, x->m->as, &dc);
	if (ret == 0)
		ret = ramdev_virtq_new(&x->vq, x->dma, &qc);
	if (ret == 0)
		ret = ramdev_blk_open(&x->blk, &bo);
	if (ret == 0)
		ret = vring_drv_new(&x->g.drv, x->m->as, &vc);
	if (ret < 0)
		return ret;
	ramdev_virtq_set_log(x->vq, capture_log, r);
	ramdev_blk_set_log(x->blk, capture_log, r);
	ret = ramdev_blk_attach_queue(x->blk, 0, x->vq, x->dma);
	if (ret < 0)
		return ret;

	/* About half of the page cache in the BAR, the rest in RAM. */
	x->g.m = x->m;
	ram_pages = (x->m->ram_size - PAGES_GPA) / PAGE;
	bar_pages = x->m->bar_size / PAGE;
	x->g.npages = img_pages;
	if (x->g.npages > 2 * bar_pages)
		x->g.npages = 2 * bar_pages;
	x->g.bar_pages = x->g.npages / 2;
	if (x->g.npages - x->g.bar_pages > ram_pages)
		x->g.npages = x->g.bar_pages + ram_pages;
	/* parse_opts keeps the BAR and image to at least a page each; an
	 * empty page cache would make the coprime search below endless. */
	if (!x->g.npages)
		return -EINVAL;
	x->g.mult = 7919;
	while (gcd(x->g.mult, x->g.npages) != 1)
		x->g.mult += 2;
	x->g.seed = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^
		    ((uint64_t)policy + 1) * 0x51ed270b27ull;
	x->g.rng = 0x2545f4914f6cdd1dull;
	for (unsigned i = 0; i < QSIZE; i++)
		x->g.free_slots[x->g.nfree++] = i;
	r->pages = x->g.npages;
	r->bar_pages = x->g.bar_pages;
	r->engine = ramdev_blk_engine(x->blk);
	return fill_page_cache(&x->g);
}

static void run_teardown(struct run *x)
{
	if (x->blk) {
		ramdev_blk_drain(x->blk, NULL);
		ramdev_blk_detach_queue(x->blk, 0);
		ramdev_blk_close(x->blk);
	}
	vring_drv_free(x->g.drv);
	ramdev_virtq_free(x->vq);
	ramdev_dma_free(x->dma);
	demo_machine_free(x->m);
}

static int run_policy(const struct demo_opts *o, enum ramdev_dma_policy policy,
		      int img, uint64_t img_pages, struct result *r)
{
	struct run x = { 0 };
	double t0;
	int ret;

	r->name = policy == RAMDEV_DMA_QEMU_BOUNCE ? "qemu-bounce" : "direct";
	ret = run_setup(&x, o, policy, img, img_pages, r);
	if (ret < 0) {
		fprintf(stderr, "ramdev demo: %s: setup failed: %s\n", r->name,
			strerror(-ret));
		run_teardown(&x);
		return ret;
	}
	t0 = now();
	writeback(&x.g, x.blk, o->inflight, r);
	r->secs = now() - t0;
	ramdev_dma_get_stats(x.dma, &r->dma);
	ramdev_blk_get_stats(x.blk, &r->blk);
	ret = verify(img, &x.g, r);
	run_teardown(&x);
	return ret;
}

/* ---- output ---- */

static void print_row(const struct result *r)
{
	char rate[32] = "-", check[96];

	if (r->secs > 0 && r->bytes)
		snprintf(rate, sizeof(rate), "%.1f", (double)r->bytes / r->secs / 1e6);
	if (r->verified)
		snprintf(check, sizeof(check), "OK (%llu pages, %llu MiB)",
			 (unsigned long long)r->pages,
			 (unsigned long long)(r->pages * PAGE >> 20));
	else
		snprintf(check, sizeof(check), "MISMATCH: %llu of %llu pages",
			 (unsigned long long)r->pages_bad,
			 (unsigned long long)r->pages);
	printf("%-12s %10u %10u %8u %10s  %s\n", r->name, r->submitted,
	       r->completed, r->failed + r->hung, rate, check);
}

static void print_notes(const struct result *r)
{
	printf("%s:\n", r->name);
	if (r->broken)
		printf("  %s\n  queue broken (DEVICE_NEEDS_RESET): %u request(s) "
		       "never completed; a real guest hangs here in writeback\n",
		       r->msg[0] ? r->msg : "queue broken", r->hung);
	else if (r->failed)
		printf("  %u request(s) completed with an error status: %s\n",
		       r->failed, r->msg);
	printf("  DMA: %llu segment(s) mapped in place, %llu bounced, %llu bounce "
	       "failures; blk: %llu KiB of device memory staged, %llu flush(es)\n",
	       (unsigned long long)r->dma.maps_direct,
	       (unsigned long long)r->dma.maps_bounced,
	       (unsigned long long)r->dma.bounce_failures,
	       (unsigned long long)(r->blk.bytes_staged >> 10),
	       (unsigned long long)r->blk.flushes);
}

/* ---- the command ---- */

static int usage(FILE *f)
{
	fprintf(f,
		"usage: ramdev demo [--policy qemu-bounce|direct] [--bar PATH]\n"
		"                   [--image FILE] [--engine auto|uring|sync]\n"
		"                   [--inflight N] [--bar-width N]\n"
		"  --policy P   run only policy P (default: qemu-bounce, then direct)\n"
		"  --bar PATH   map a real BAR (/sys/bus/pci/devices/.../resourceN)\n"
		"               instead of a memfd: a regular file, readable,\n"
		"               writable and mappable, %u bytes to %llu GiB\n"
		"  --image FILE raw image to write (its content is overwritten): a\n"
		"               regular file of at least %u bytes, read-write; a\n"
		"               missing or empty one is made %llu MiB; default: a\n"
		"               temporary file in $TMPDIR or /var/tmp\n"
		"  --engine E   virtio-blk engine: auto (default: io_uring if\n"
		"               usable), uring or sync\n"
		"  --inflight N requests the guest keeps in flight, 1..%u (default 32)\n"
		"  --bar-width N  widest access the library's copies make in the\n"
		"               BAR: 1, 2, 4, 8 (default), 16, 32 or 64 bytes (4 for\n"
		"               a BAR that takes only 32-bit accesses, 16..64 for one\n"
		"               mapped write-combining)\n"
		"%s", PAGE, DEMO_BAR_MAX >> 30, PAGE, DEFAULT_IMAGE_SIZE >> 20,
		QSIZE, DEMO_EXIT_HELP);
	return f == stderr ? 2 : 0;
}

/* The rules of the demo's file arguments (DEMO_EXIT_HELP). */
static const struct arg_file_rule bar_rule = {
	.min = PAGE, .max = DEMO_BAR_MAX, .map = true, .what = "BAR",
};
static const struct arg_file_rule image_rule = {
	.min = PAGE, .max = UINT64_MAX, .create = DEFAULT_IMAGE_SIZE,
	.what = "image",
};

/* --bar-width: a power of two in 1..64 (ramdev_region_set_dma_width). */
static int arg_bar_width(const char *cmd, const char *val, unsigned *out)
{
	int ret = arg_uint(cmd, "--bar-width", val, 1, 64, out);

	if (ret == 0 && (*out & (*out - 1))) {
		fprintf(stderr, "%s: --bar-width %s: not a power of two (1, 2, "
			"4, 8, 16, 32 or 64)\n", cmd, val);
		ret = RAMDEV_EXIT_BAD_VALUE;
	}
	return ret;
}

/* 0, -1 after --help, or the exit status of a bad argument. */
static int parse_opts(int argc, char **argv, struct demo_opts *o)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "bar", required_argument, NULL, 'b' },
		{ "image", required_argument, NULL, 'i' },
		{ "engine", required_argument, NULL, 'e' },
		{ "inflight", required_argument, NULL, 'n' },
		{ "bar-width", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const policies[] = { "qemu-bounce", "direct", NULL };
	static const enum ramdev_dma_policy policy_of[] = {
		RAMDEV_DMA_QEMU_BOUNCE, RAMDEV_DMA_DIRECT
	};
	static const char *const engines[] = { "auto", "uring", "sync", NULL };
	static const enum ramdev_blk_engine engine_of[] = {
		RAMDEV_BLK_ENGINE_AUTO, RAMDEV_BLK_ENGINE_URING,
		RAMDEV_BLK_ENGINE_SYNC
	};
	const char *cmd = "ramdev demo";
	unsigned i;
	int c, ret = 0;

	*o = (struct demo_opts){ .policy = -1, .inflight = 32 };
	opterr = 0;
	while (!ret && (c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			ret = arg_word(cmd, "--policy", optarg, policies, &i);
			if (!ret)
				o->policy = (int)policy_of[i];
			break;
		case 'b':
			o->bar = optarg;
			break;
		case 'i':
			o->image = optarg;
			break;
		case 'e':
			ret = arg_word(cmd, "--engine", optarg, engines, &i);
			if (!ret)
				o->engine = engine_of[i];
			break;
		case 'n':
			ret = arg_uint(cmd, "--inflight", optarg, 1, QSIZE,
				       &o->inflight);
			break;
		case 'w':
			ret = arg_bar_width(cmd, optarg, &o->bar_width);
			break;
		case 'h':
			return usage(stdout) - 1;
		default:
			return arg_getopt_error(cmd, c, argv);
		}
	}
	if (!ret && optind < argc)
		ret = arg_extra(cmd, argv[optind]);
	/* The BAR is mapped again by each run: checked here, once. */
	if (!ret && o->bar)
		ret = arg_file(cmd, "--bar", o->bar, &bar_rule, NULL,
			       &(uint64_t){ 0 });
	return ret;
}

/* The image: --image FILE checked (exit status on failure), or a new
 * temporary file (-1 and errno on failure). */
static int open_image(const struct demo_opts *o, char *tmp, size_t tmplen,
		      int *fd, uint64_t *pages)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp";
	uint64_t size;
	int ret;

	if (o->image) {
		ret = arg_file("ramdev demo", "--image", o->image, &image_rule,
			       fd, &size);
		*pages = size / PAGE;
		return ret;
	}
	snprintf(tmp, tmplen, "%s/ramdev-demo-XXXXXX", dir);
	*fd = mkostemp(tmp, O_CLOEXEC);
	if (*fd >= 0 && ftruncate(*fd, DEFAULT_IMAGE_SIZE) < 0) {
		close(*fd);
		unlink(tmp);
		*fd = -1;
	}
	if (*fd < 0) {
		fprintf(stderr, "ramdev demo: cannot create a temporary image "
			"in %s: %s (set TMPDIR or use --image FILE)\n", dir,
			strerror(errno));
		return 1;
	}
	*pages = DEFAULT_IMAGE_SIZE / PAGE;
	return 0;
}

/*
 * The exit status and its reason (DEMO_EXIT_HELP): only the direct run
 * decides; @ran says whether it ran, @setup_err its setup error
 * (@qemu_err: the qemu-bounce run's, which only matters when it ran alone).
 */
static int verdict(const struct result *d, bool ran, int setup_err,
		   int qemu_err, char *why, size_t len)
{
	if (!ran && qemu_err < 0) {
		snprintf(why, len, "FAILED: qemu-bounce: %s", strerror(-qemu_err));
		return 1;
	}
	if (!ran) {
		snprintf(why, len, "NOT VERIFIED: the direct policy was not run "
				   "(--policy qemu-bounce shows the failure only)");
		return 3;
	}
	if (setup_err < 0)
		snprintf(why, len, "FAILED: direct: %s", strerror(-setup_err));
	else if (d->failed)
		snprintf(why, len, "FAILED: direct: %u of %u request(s) "
			 "completed with an error status", d->failed, d->submitted);
	else if (d->hung || d->completed != d->submitted)
		snprintf(why, len, "FAILED: direct: %u of %u request(s) never "
			 "completed%s%s", d->submitted - d->completed, d->submitted,
			 d->msg[0] ? ": " : "", d->msg);
	else if (!d->verified)
		snprintf(why, len, "FAILED: direct: the image does not verify "
			 "(%llu of %llu pages differ)",
			 (unsigned long long)d->pages_bad,
			 (unsigned long long)d->pages);
	else {
		snprintf(why, len, "OK: direct: all %u requests completed, "
			 "image verified", d->submitted);
		return 0;
	}
	return 1;
}

int cmd_demo(int argc, char **argv)
{
	struct result res[2] = { 0 };
	static const enum ramdev_dma_policy order[2] = {
		RAMDEV_DMA_QEMU_BOUNCE, RAMDEV_DMA_DIRECT
	};
	struct demo_opts o;
	char tmp[256] = "", why[320];
	uint64_t pages;
	int fd, ret, status, direct_err = 0, qemu_err = 0;
	bool ran_direct = false, sync = false;

	ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret < 0 ? 0 : ret;
	ret = open_image(&o, tmp, sizeof(tmp), &fd, &pages);
	if (ret)
		return ret;
	printf("ramdev demo: a guest writes back its page cache through virtio-blk;\n"
	       "about half of the pages live in \"%s mmaps[0]\", a BAR hot-added\n"
	       "as guest memory (%s) at 0x%llx.\n", DEMO_BAR_NAME,
	       o.bar ? o.bar : "memfd", (unsigned long long)DEMO_BAR_GPA);
	printf("image %s (%llu MiB), 4 KiB-512 KiB requests, up to %u in flight; "
	       "the BAR's DMA width: %u bytes\n\n",
	       o.image ? o.image : tmp,
	       (unsigned long long)(pages * PAGE >> 20), o.inflight,
	       o.bar_width ? o.bar_width : 8);
	for (unsigned i = 0; i < 2; i++) {
		if (o.policy >= 0 && (int)order[i] != o.policy)
			continue;
		ret = run_policy(&o, order[i], fd, pages, &res[i]);
		if (order[i] == RAMDEV_DMA_DIRECT) {
			ran_direct = true;
			direct_err = ret;
		} else {
			qemu_err = ret;
		}
		sync |= res[i].engine == RAMDEV_BLK_ENGINE_SYNC;
	}
	printf("%-12s %10s %10s %8s %10s  %s\n", "policy", "requests",
	       "completed", "failed", "MB/s", "image check");
	for (unsigned i = 0; i < 2; i++)
		if (res[i].name)
			print_row(&res[i]);
	printf("\n");
	for (unsigned i = 0; i < 2; i++)
		if (res[i].name)
			print_notes(&res[i]);
	status = verdict(&res[1], ran_direct, direct_err, qemu_err, why,
			 sizeof(why));
	printf("\nengine: %s; result: %s (exit %d)\n",
	       sync ? "preadv/pwritev" : "io_uring", why, status);
	close(fd);
	if (tmp[0])
		unlink(tmp);
	return status;
}
