// SPDX-License-Identifier: MIT
/*
 * `ramdev bench as`: the read side of the address space and the DMA layer.
 *
 *  - lookup: ramdev_as_translate() of random addresses in a view of 1, 16,
 *    256 and 1024 RAM regions (64 KiB each, 64 KiB apart), once inside one
 *    read-side section per batch ("translate") and once taking and dropping
 *    the read lock around every lookup ("lock+translate").
 *  - map+unmap: ramdev_dma_map + ramdev_dma_unmap of 4 KiB of RAM (direct),
 *    4 KiB of RAMD (direct, a DEV segment) and 64 B of MMIO (bounced).
 *  - 64 KiB device writes into RAMD (a memfd mapping standing in for a BAR),
 *    the way a virtio device model carries a request:
 *      direct        DIRECT policy: one map, ramdev_dma_seg_write, unmap;
 *      qemu-sg       QEMU_BOUNCE: the request mapped whole, as QEMU's
 *                    virtqueue_map_desc() does: it cannot be (one 4 KiB
 *                    bounce buffer), every request fails and is counted;
 *      qemu-pieces   QEMU_BOUNCE: the data carried through the one bounce
 *                    buffer 4 KiB at a time (map, copy, unmap), RAMD filled
 *                    and flushed through its per-access MMIO-style dispatch
 *                    as QEMU's ram_device_mem_ops are;
 *      core          ramdev_write() alone, for scale.
 *
 * Method as `bench access`: each cell runs a loop calibrated to >= 20 ms
 * (2 ms with --quick), best of 3 (2) runs, the runs of a cell spread over
 * interleaved passes.  One thread.  Targets are reported, not asserted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ramdev/access.h"
#include "ramdev/dma.h"

#include "bench.h"
#include "report.h"

#define RAM_BASE 0x0ull
#define RAMD_BASE 0x40000000ull
#define MMIO_BASE 0x80000000ull
#define MEM_SIZE (4ull << 20)
#define MMIO_SIZE 0x10000ull
#define REQ (64u * 1024u)
#define PIECE 4096u

#define LOOKUP_REGION (64u * 1024u)
#define LOOKUP_ADDRS 4096u /* power of two */

static const unsigned nregions[] = { 1, 16, 256, 1024 };
#define NLOOKUP (sizeof(nregions) / sizeof(nregions[0]))

/* ---- the guests ---- */

struct guest {
	struct ramdev_as *as;
	uint8_t *ram;
	uint8_t *ramd;
	uint8_t mmio[MMIO_SIZE];
	struct ramdev_dma *direct, *qemu;
	struct ramdev_as *lk[NLOOKUP]; /* lookup spaces */
	uint8_t *lk_mem;
	uint64_t *addrs; /* LOOKUP_ADDRS random gpas per lookup space */
	uint8_t *src;	 /* one request's data */
};

static int mmio_rd(void *opaque, uint64_t off, unsigned size, uint64_t *val)
{
	const uint8_t *m = opaque;
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)m[off + i] << (8 * i);
	*val = v;
	return 0;
}

static int mmio_wr(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	uint8_t *m = opaque;

	for (unsigned i = 0; i < size; i++)
		m[off + i] = (uint8_t)(val >> (8 * i));
	return 0;
}

static const struct ramdev_mmio_ops mmio_ops = {
	.read = mmio_rd,
	.write = mmio_wr,
	.valid = { 1, 8, true },
	.impl = { 1, 8, false },
};

/* Place @r (just created with result @ret) and drop the creator's ref. */
static int place(struct ramdev_as *as, struct ramdev_region *r, uint64_t at,
		 int ret)
{
	if (ret)
		return ret;
	ret = ramdev_region_add(ramdev_as_root(as), at, r, 0);
	ramdev_region_unref(r);
	return ret;
}

static int guest_build_dma(struct guest *g)
{
	struct ramdev_dma_config dc = { .policy = RAMDEV_DMA_DIRECT,
					.bounce_size = 4096 };
	struct ramdev_dma_config qc = { .policy = RAMDEV_DMA_QEMU_BOUNCE,
					.bounce_size = 4096 };
	struct ramdev_region *r = NULL;
	int fd = memfd_create("bench-bar", 0), ret;

	g->ram = calloc(1, MEM_SIZE);
	if (fd < 0 || ftruncate(fd, MEM_SIZE) || !g->ram) {
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	g->ramd = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       0);
	close(fd);
	if (g->ramd == MAP_FAILED) {
		g->ramd = NULL;
		return -ENOMEM;
	}
	memset(g->ramd, 0, MEM_SIZE); /* fault the "BAR" in before timing */
	ret = ramdev_as_new(&g->as, "bench");
	if (ret)
		return ret;
	ramdev_as_begin(g->as);
	ret = place(g->as, r, RAM_BASE,
		    ramdev_region_new_ram(&r, "ram", g->ram, MEM_SIZE));
	if (!ret)
		ret = place(g->as, r, RAMD_BASE,
			    ramdev_region_new_ramd(&r, "bar", g->ramd,
						   MEM_SIZE));
	if (!ret)
		ret = place(g->as, r, MMIO_BASE,
			    ramdev_region_new_mmio(&r, "mmio", MMIO_SIZE,
						   &mmio_ops, g->mmio));
	if (!ret)
		ret = ramdev_as_commit(g->as);
	if (!ret)
		ret = ramdev_dma_new(&g->direct, g->as, &dc);
	if (!ret)
		ret = ramdev_dma_new(&g->qemu, g->as, &qc);
	return ret;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Lookup space @k: nregions[k] RAM regions sharing one host buffer. */
static int guest_build_lookup(struct guest *g, size_t k)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull + k;
	unsigned n = nregions[k];
	char name[32];
	int ret = ramdev_as_new(&g->lk[k], "lookup");

	if (ret)
		return ret;
	ramdev_as_begin(g->lk[k]);
	for (unsigned i = 0; i < n && !ret; i++) {
		struct ramdev_region *r = NULL;

		snprintf(name, sizeof(name), "r%u", i);
		ret = place(g->lk[k], r, 2ull * LOOKUP_REGION * i,
			    ramdev_region_new_ram(&r, name, g->lk_mem,
						  LOOKUP_REGION));
	}
	if (!ret)
		ret = ramdev_as_commit(g->lk[k]);
	for (unsigned i = 0; i < LOOKUP_ADDRS; i++)
		g->addrs[k * LOOKUP_ADDRS + i] =
			2ull * LOOKUP_REGION * (rnd(&seed) % n) +
			rnd(&seed) % (LOOKUP_REGION - 8);
	return ret;
}

static int guest_build(struct guest *g)
{
	int ret;

	g->lk_mem = calloc(1, LOOKUP_REGION);
	g->addrs = calloc(NLOOKUP * LOOKUP_ADDRS, sizeof(*g->addrs));
	g->src = malloc(REQ);
	if (!g->lk_mem || !g->addrs || !g->src)
		return -ENOMEM;
	memset(g->src, 0x5a, REQ);
	ret = guest_build_dma(g);
	for (size_t k = 0; k < NLOOKUP && !ret; k++)
		ret = guest_build_lookup(g, k);
	return ret;
}

static void guest_free(struct guest *g)
{
	ramdev_dma_free(g->direct);
	ramdev_dma_free(g->qemu);
	if (g->as)
		ramdev_as_free(g->as);
	for (size_t k = 0; k < NLOOKUP; k++)
		if (g->lk[k])
			ramdev_as_free(g->lk[k]);
	if (g->ramd)
		munmap(g->ramd, MEM_SIZE);
	free(g->ram);
	free(g->lk_mem);
	free(g->addrs);
	free(g->src);
}

/* ---- the measured operations ---- */

struct cell {
	const char *op;
	const char *series;
	size_t size; /* regions for lookups, bytes otherwise */
	bench_batch_fn *fn;
	struct guest *g;
	size_t k;	  /* lookup space */
	uint64_t gpa;	  /* map cells */
	uint64_t len;
	uint64_t iters;	  /* calibrated on the first pass */
	double best_ns;
	uint64_t failures, attempts;
};

static volatile uint64_t sink;

static uint64_t run_translate(void *ctx, uint64_t iters)
{
	struct cell *c = ctx;
	struct ramdev_as *as = c->g->lk[c->k];
	const uint64_t *a = c->g->addrs + c->k * LOOKUP_ADDRS;
	struct ramdev_xlate x;
	uint64_t sum = 0, t0 = bench_now_ns();

	ramdev_as_read_lock();
	for (uint64_t i = 0; i < iters; i++) {
		ramdev_as_translate(as, a[i & (LOOKUP_ADDRS - 1)], 8, &x);
		sum += x.len;
	}
	ramdev_as_read_unlock();
	t0 = bench_now_ns() - t0;
	sink = sum;
	return t0;
}

static uint64_t run_translate_locked(void *ctx, uint64_t iters)
{
	struct cell *c = ctx;
	struct ramdev_as *as = c->g->lk[c->k];
	const uint64_t *a = c->g->addrs + c->k * LOOKUP_ADDRS;
	struct ramdev_xlate x;
	uint64_t sum = 0, t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		ramdev_as_read_lock();
		ramdev_as_translate(as, a[i & (LOOKUP_ADDRS - 1)], 8, &x);
		sum += x.len;
		ramdev_as_read_unlock();
	}
	t0 = bench_now_ns() - t0;
	sink = sum;
	return t0;
}

static struct ramdev_dma *cell_dma(const struct cell *c)
{
	return strncmp(c->series, "qemu", 4) ? c->g->direct : c->g->qemu;
}

static uint64_t run_map(void *ctx, uint64_t iters)
{
	struct cell *c = ctx;
	struct ramdev_dma *dma = c->g->direct;
	uint64_t fails = 0, t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		struct ramdev_dma_seg seg;

		if (ramdev_dma_map(dma, c->gpa, c->len, RAMDEV_DMA_TO_DEVICE,
				   &seg)) {
			fails++;
			continue;
		}
		ramdev_dma_unmap(dma, &seg, 0);
	}
	t0 = bench_now_ns() - t0;
	c->failures += fails;
	c->attempts += iters;
	return t0;
}

/* One 64 KiB request under DIRECT: one map (short = failure). */
static int write_direct(struct ramdev_dma *dma, uint64_t gpa, const uint8_t *src)
{
	struct ramdev_dma_seg seg;
	int ret = ramdev_dma_map(dma, gpa, REQ, RAMDEV_DMA_FROM_DEVICE, &seg);

	if (ret)
		return ret;
	ret = seg.len == REQ ? ramdev_dma_seg_write(&seg, 0, src, REQ)
			     : -ENOBUFS;
	ramdev_dma_unmap(dma, &seg, ret ? 0 : REQ);
	return ret;
}

/* The request mapped whole, as virtqueue_map_desc() maps a descriptor. */
static int write_sg(struct ramdev_dma *dma, uint64_t gpa, const uint8_t *src)
{
	struct ramdev_sg sg = { gpa, REQ };
	struct ramdev_dma_seg segs[REQ / PIECE];
	int n = ramdev_dma_map_sg(dma, &sg, 1, RAMDEV_DMA_FROM_DEVICE, segs,
				  REQ / PIECE);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		ramdev_dma_seg_write(&segs[i], 0, src, segs[i].len);
		src += segs[i].len;
	}
	ramdev_dma_unmap_sg(dma, segs, (unsigned)n, REQ);
	return 0;
}

/* Through the one bounce buffer, one piece at a time. */
static int write_pieces(struct ramdev_dma *dma, uint64_t gpa,
			const uint8_t *src)
{
	for (size_t off = 0; off < REQ;) {
		struct ramdev_dma_seg seg;
		int ret = ramdev_dma_map(dma, gpa + off, REQ - off,
					 RAMDEV_DMA_FROM_DEVICE, &seg);

		if (ret)
			return ret;
		ramdev_dma_seg_write(&seg, 0, src + off, seg.len);
		ramdev_dma_unmap(dma, &seg, seg.len);
		off += seg.len;
	}
	return 0;
}

static int write_core(struct ramdev_dma *dma, uint64_t gpa, const uint8_t *src)
{
	(void)dma;
	ramdev_write((void *)(uintptr_t)gpa, src, REQ);
	return 0;
}

typedef int write_fn(struct ramdev_dma *dma, uint64_t gpa, const uint8_t *src);

static write_fn *cell_writer(const struct cell *c)
{
	if (!strcmp(c->series, "direct"))
		return write_direct;
	if (!strcmp(c->series, "qemu-sg"))
		return write_sg;
	if (!strcmp(c->series, "qemu-pieces"))
		return write_pieces;
	return write_core;
}

static uint64_t run_write(void *ctx, uint64_t iters)
{
	struct cell *c = ctx;
	struct ramdev_dma *dma = cell_dma(c);
	write_fn *fn = cell_writer(c);
	uint64_t base = fn == write_core ? (uintptr_t)c->g->ramd : RAMD_BASE;
	uint64_t fails = 0, off = 0, t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		if (fn(dma, base + off, c->g->src))
			fails++;
		off = (off + REQ) % MEM_SIZE;
	}
	t0 = bench_now_ns() - t0;
	c->failures += fails;
	c->attempts += iters;
	return t0;
}

/* ---- the table of cells ---- */

#define MAX_CELLS 32

static size_t cells_init(struct cell *c, struct guest *g)
{
	static const struct {
		const char *series;
		uint64_t gpa, len;
	} maps[] = {
		{ "ram direct", RAM_BASE + 8192, 4096 },
		{ "ramd direct", RAMD_BASE + 8192, 4096 },
		{ "mmio bounced", MMIO_BASE + 256, 64 },
	};
	static const char *const writes[] = { "direct", "qemu-sg",
					      "qemu-pieces", "core" };
	size_t n = 0;

	for (size_t k = 0; k < NLOOKUP; k++) {
		c[n++] = (struct cell){ .op = "lookup", .series = "translate",
					.size = nregions[k],
					.fn = run_translate, .g = g, .k = k };
		c[n++] = (struct cell){ .op = "lookup",
					.series = "lock+translate",
					.size = nregions[k],
					.fn = run_translate_locked, .g = g,
					.k = k };
	}
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		c[n++] = (struct cell){ .op = "map+unmap",
					.series = maps[i].series,
					.size = maps[i].len, .fn = run_map,
					.g = g, .gpa = maps[i].gpa,
					.len = maps[i].len };
	for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++)
		c[n++] = (struct cell){ .op = "write64k", .series = writes[i],
					.size = REQ, .fn = run_write, .g = g };
	return n;
}

static void measure(struct cell *c, const struct bench_timing *t)
{
	double ns;

	if (!c->iters) {
		/* One cold call first (page faults, first bounce, caches), so
		 * calibration does not scale from an outlier. */
		c->fn(c, 1);
		c->iters = bench_calibrate(c->fn, c, t->min_ns);
		c->failures = c->attempts = 0; /* count only the timed runs */
	}
	ns = bench_run_ns(c->fn, c, c->iters);
	if (!c->best_ns || ns < c->best_ns)
		c->best_ns = ns;
}

static const struct cell *find(const struct cell *c, size_t n, const char *op,
			       const char *series, size_t size)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(c[i].op, op) && !strcmp(c[i].series, series) &&
		    (!size || c[i].size == size))
			return &c[i];
	return NULL;
}

static double mb_s(const struct cell *c)
{
	/* Failed requests moved no data. */
	double ok = c->attempts ? 1.0 - (double)c->failures /
						(double)c->attempts
				: 1.0;

	return c->best_ns > 0 ? (double)c->size * ok / c->best_ns * 1e3 : 0;
}

static void print_table(const struct cell *c, size_t n)
{
	printf("\nlookup: ns per ramdev_as_translate, random addresses\n");
	printf("%8s %12s %16s\n", "regions", "translate", "lock+translate");
	for (size_t k = 0; k < NLOOKUP; k++)
		printf("%8u %12.1f %16.1f\n", nregions[k],
		       find(c, n, "lookup", "translate", nregions[k])->best_ns,
		       find(c, n, "lookup", "lock+translate",
			    nregions[k])->best_ns);
	printf("\nmap + unmap, ns per pair (DIRECT policy)\n");
	for (size_t i = 0; i < n; i++)
		if (!strcmp(c[i].op, "map+unmap"))
			printf("  %-14s %5zu B %10.1f ns  %llu/%llu failed\n",
			       c[i].series, c[i].size, c[i].best_ns,
			       (unsigned long long)c[i].failures,
			       (unsigned long long)c[i].attempts);
	printf("\n64 KiB device writes into ramd\n");
	printf("  %-12s %12s %10s %18s\n", "series", "us/request", "MB/s",
	       "failed/requests");
	for (size_t i = 0; i < n; i++)
		if (!strcmp(c[i].op, "write64k"))
			printf("  %-12s %12.2f %10.1f %8llu/%-9llu\n",
			       c[i].series, c[i].best_ns / 1e3, mb_s(&c[i]),
			       (unsigned long long)c[i].failures,
			       (unsigned long long)c[i].attempts);
}

static void check_at_most(struct bench_check *k, const char *name,
			  double want, double got, const char *where)
{
	*k = (struct bench_check){ .name = name, .want = want, .worst = got,
				   .met = got <= want, .at_most = 1 };
	snprintf(k->where, sizeof(k->where), "%s", where);
}

static size_t check_targets(struct bench_check *k, const struct cell *c,
			    size_t n)
{
	const struct cell *l = find(c, n, "lookup", "translate", 1024);
	const struct cell *ram = find(c, n, "map+unmap", "ram direct", 0);
	const struct cell *ramd = find(c, n, "map+unmap", "ramd direct", 0);
	const struct cell *d = find(c, n, "write64k", "direct", 0);
	const struct cell *q = find(c, n, "write64k", "qemu-pieces", 0);
	const struct cell *w = ram->best_ns > ramd->best_ns ? ram : ramd;
	double ratio = mb_s(q) > 0 ? mb_s(d) / mb_s(q) : 0;
	size_t m = 0;

	check_at_most(&k[m++], "lookup <= 20 ns at 1024 regions", 20,
		      l->best_ns, "translate, 1024 regions");
	check_at_most(&k[m++], "direct map+unmap <= 50 ns", 50, w->best_ns,
		      w->series);
	k[m] = (struct bench_check){ .name = "64 KiB into ramd: direct >= 10x "
					     "qemu policy",
				     .want = 10, .worst = ratio,
				     .met = ratio >= 10 };
	snprintf(k[m++].where, sizeof(k->where), "direct / qemu-pieces MB/s");
	check_at_most(&k[m++], "direct 64 KiB writes: 0 failures", 0,
		      (double)d->failures, "direct");
	return m;
}

static int report(const struct cell *c, size_t n, struct bench_meta *meta,
		  const char *json)
{
	struct bench_rows rows = { 0 };
	struct bench_check k[8];
	size_t nk = check_targets(k, c, n);
	double load[3] = { -1, -1, -1 };
	int ret = 0;

	getloadavg(load, 3); /* the machine may be shared: say how busy */
	printf("ramdev bench as%s: best of %u interleaved runs of >= %.0f ms "
	       "each, %.1f s, load average %.2f %.2f %.2f\n",
	       meta->quick ? " --quick" : "", meta->timing.runs,
	       (double)meta->timing.min_ns / 1e6, meta->seconds, load[0],
	       load[1], load[2]);
	print_table(c, n);
	printf("\ntargets:\n");
	for (size_t i = 0; i < nk; i++)
		printf("  %-4s %-44s %s %.1f (%s)\n", k[i].met ? "MET" : "MISS",
		       k[i].name, k[i].at_most ? "got" : "ratio", k[i].worst,
		       k[i].where);
	if (!json)
		return 0;
	for (size_t i = 0; i < n && !ret; i++) {
		struct bench_row r = { .op = c[i].op, .series = c[i].series,
				       .size = c[i].size, .ns = c[i].best_ns,
				       .failures = c[i].failures,
				       .attempts = c[i].attempts };

		if (!strcmp(c[i].op, "write64k"))
			r.gbps = (double)c[i].size / c[i].best_ns;
		ret = bench_rows_add(&rows, &r);
	}
	if (!ret)
		ret = bench_write_json(json, meta, &rows, k, nk);
	if (ret)
		fprintf(stderr, "ramdev bench as: %s: %s\n", json,
			strerror(-ret));
	bench_rows_free(&rows);
	return ret ? 1 : 0;
}

static int usage(FILE *f)
{
	fprintf(f, "usage: ramdev bench as [--quick] [--json FILE]\n");
	return f == stderr ? 2 : 0;
}

int bench_as(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "json", required_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_meta meta = { .bench = "as" };
	struct cell cells[MAX_CELLS];
	struct guest *g = calloc(1, sizeof(*g));
	const char *json = NULL;
	int opt, ret = 1, tty = isatty(2);
	size_t n;
	uint64_t t0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "qj:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			meta.quick = 1;
			break;
		case 'j':
			json = optarg;
			break;
		case 'h':
			free(g);
			return usage(stdout);
		default:
			free(g);
			return usage(stderr);
		}
	}
	if (optind != argc) {
		free(g);
		return usage(stderr);
	}
	meta.timing.min_ns = meta.quick ? 2000000 : 20000000;
	meta.timing.runs = meta.quick ? 2 : 3;
	if (!g || (ret = guest_build(g))) {
		fprintf(stderr, "ramdev bench as: setup failed: %s\n",
			strerror(g ? -ret : ENOMEM));
		ret = 1;
		goto out;
	}
	n = cells_init(cells, g);
	t0 = bench_now_ns();
	for (unsigned pass = 0; pass < meta.timing.runs; pass++) {
		for (size_t i = 0; i < n; i++) {
			fprintf(stderr, "%sbench as: pass %u/%u %-9s %-14s%s",
				tty ? "\r" : "", pass + 1, meta.timing.runs,
				cells[i].op, cells[i].series,
				tty ? "   " : "\n");
			measure(&cells[i], &meta.timing);
		}
	}
	meta.seconds = (double)(bench_now_ns() - t0) / 1e9;
	if (tty)
		fprintf(stderr, "\n");
	ret = report(cells, n, &meta, json);
out:
	if (g)
		guest_free(g);
	free(g);
	return ret;
}
