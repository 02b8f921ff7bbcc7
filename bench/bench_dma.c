// SPDX-License-Identifier: MIT
/*
 * DMA benchmark: what mapping costs, and what the QEMU_BOUNCE policy costs a
 * device that writes 64 KiB requests into RAM-device memory.
 *
 * Guest: 4 MiB RAM (malloc), 4 MiB RAMD (memfd mapping standing in for a
 * BAR), 64 KiB MMIO (callbacks over an array).  Everything runs on one
 * thread; each case runs for a fixed time and reports the mean.
 *
 * Usage: bench_dma [--quick]    (--quick: 0.05 s per case instead of 0.3 s)
 * Targets (reported, not asserted): direct map+unmap <= 50 ns; 64 KiB
 * writes into RAMD >= 10x faster with DIRECT than with QEMU_BOUNCE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ramdev/access.h"
#include "ramdev/dma.h"
#include "bench_dma.h"

#define RAM_BASE 0x0ull
#define RAMD_BASE 0x40000000ull
#define MMIO_BASE 0x80000000ull
#define MEM_SIZE (4ull << 20)
#define MMIO_SIZE 0x10000ull
#define REQ (64u * 1024u)
#define BATCH 256u

struct guest {
	struct ramdev_as *as;
	uint8_t *ram;
	uint8_t *ramd;
	uint8_t mmio[MMIO_SIZE];
};

struct result {
	double ns_per_op;
	double mb_s;
	unsigned long ops;
	unsigned long failures;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int mmio_rd(void *opaque, uint64_t off, unsigned size, uint64_t *val)
{
	const uint8_t *m = opaque;

	*val = 0;
	memcpy(val, m + off, size); /* little-endian host assumed: a bench */
	return 0;
}

static int mmio_wr(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	memcpy((uint8_t *)opaque + off, &val, size);
	return 0;
}

static const struct ramdev_mmio_ops mmio_ops = {
	.read = mmio_rd,
	.write = mmio_wr,
	.valid = { 1, 8, true },
	.impl = { 1, 8, false },
};

static int add(struct guest *g, struct ramdev_region *r, uint64_t at, int ret)
{
	if (ret)
		return ret;
	ret = ramdev_region_add(ramdev_as_root(g->as), at, r, 0);
	ramdev_region_unref(r); /* the address space holds it */
	return ret;
}

static int guest_build(struct guest *g)
{
	struct ramdev_region *r = NULL;
	int fd = memfd_create("bench-bar", 0), ret;

	g->ram = calloc(1, MEM_SIZE);
	if (fd < 0 || ftruncate(fd, MEM_SIZE) || !g->ram)
		return -ENOMEM;
	g->ramd = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (g->ramd == MAP_FAILED)
		return -ENOMEM;
	ret = ramdev_as_new(&g->as, "bench");
	if (ret)
		return ret;
	ramdev_as_begin(g->as);
	ret = add(g, r, RAM_BASE, ramdev_region_new_ram(&r, "ram", g->ram,
							 MEM_SIZE));
	if (!ret)
		ret = add(g, r, RAMD_BASE, ramdev_region_new_ramd(&r, "bar",
								   g->ramd,
								   MEM_SIZE));
	if (!ret)
		ret = add(g, r, MMIO_BASE,
			  ramdev_region_new_mmio(&r, "mmio", MMIO_SIZE,
						 &mmio_ops, g->mmio));
	return ret ? ret : ramdev_as_commit(g->as);
}

static void guest_free(struct guest *g)
{
	if (g->as)
		ramdev_as_free(g->as);
	if (g->ramd && g->ramd != MAP_FAILED)
		munmap(g->ramd, MEM_SIZE);
	free(g->ram);
}

/* ---- map + unmap latency ---- */

static unsigned long map_batch(struct ramdev_dma *dma, uint64_t gpa,
			       uint64_t len)
{
	unsigned long fails = 0;

	for (unsigned i = 0; i < BATCH; i++) {
		struct ramdev_dma_seg seg;

		if (ramdev_dma_map(dma, gpa, len, RAMDEV_DMA_TO_DEVICE, &seg)) {
			fails++;
			continue;
		}
		ramdev_dma_unmap(dma, &seg, 0);
	}
	return fails;
}

static struct result time_map(struct ramdev_dma *dma, uint64_t gpa,
			      uint64_t len, double secs)
{
	struct result r = { 0 };
	double t0 = now_s(), t;

	do {
		r.failures += map_batch(dma, gpa, len);
		r.ops += BATCH;
		t = now_s() - t0;
	} while (t < secs);
	r.ns_per_op = t * 1e9 / (double)r.ops;
	return r;
}

/* ---- 64 KiB device writes into RAMD ---- */

/* One request the way a device model does it under DIRECT: one map. */
static int write_direct(struct ramdev_dma *dma, uint64_t gpa,
			const uint8_t *src)
{
	struct ramdev_dma_seg seg;
	int ret = ramdev_dma_map(dma, gpa, REQ, RAMDEV_DMA_FROM_DEVICE, &seg);

	if (ret)
		return ret;
	if (seg.len != REQ)
		ret = -EAGAIN;
	else
		ret = ramdev_dma_seg_write(&seg, 0, src, REQ);
	ramdev_dma_unmap(dma, &seg, ret ? 0 : REQ);
	return ret;
}

/* Under QEMU_BOUNCE the only way through: map/copy/unmap 4 KiB pieces. */
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

/* The request mapped whole, as virtqueue_pop maps a descriptor chain. */
static int write_whole(struct ramdev_dma *dma, uint64_t gpa,
		       const uint8_t *src)
{
	struct ramdev_sg sg = { gpa, REQ };
	struct ramdev_dma_seg segs[REQ / 4096];
	int n = ramdev_dma_map_sg(dma, &sg, 1, RAMDEV_DMA_FROM_DEVICE, segs,
				  REQ / 4096);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		ramdev_dma_seg_write(&segs[i], 0, src, segs[i].len);
		src += segs[i].len;
	}
	ramdev_dma_unmap_sg(dma, segs, (unsigned)n, REQ);
	return 0;
}

/* Baseline: the access core alone, no DMA layer. */
static int write_core(struct ramdev_dma *dma, uint64_t gpa, const uint8_t *src)
{
	(void)dma;
	ramdev_write((void *)(uintptr_t)gpa, src, REQ);
	return 0;
}

typedef int write_fn(struct ramdev_dma *dma, uint64_t gpa, const uint8_t *src);

static struct result time_writes(struct ramdev_dma *dma, write_fn *fn,
				 uint64_t base, const uint8_t *src, double secs)
{
	struct result r = { 0 };
	double t0 = now_s(), t;
	uint64_t off = 0;

	do {
		for (unsigned i = 0; i < BATCH / 16; i++) {
			if (fn(dma, base + off, src))
				r.failures++;
			off = (off + REQ) % MEM_SIZE;
			r.ops++;
		}
		t = now_s() - t0;
	} while (t < secs);
	r.ns_per_op = t * 1e9 / (double)r.ops;
	r.mb_s = (double)(r.ops - r.failures) * REQ / t / 1e6;
	return r;
}

/* ---- report ---- */

static void row_map(const char *what, struct result r)
{
	printf("  %-40s %10.1f ns/op  %8lu failures\n", what, r.ns_per_op,
	       r.failures);
}

static void row_tput(const char *what, struct result r)
{
	printf("  %-40s %10.1f MB/s   %8lu/%lu failed\n", what, r.mb_s,
	       r.failures, r.ops);
}

static int new_dma(struct ramdev_dma **dma, struct guest *g,
		   enum ramdev_dma_policy pol)
{
	struct ramdev_dma_config cfg = { .policy = pol, .bounce_size = 4096 };

	return ramdev_dma_new(dma, g->as, &cfg);
}

static void run_maps(struct ramdev_dma *direct, double secs, double *direct_ns)
{
	struct result r;

	printf("map + unmap (one thread)\n");
	fprintf(stderr, "bench dma: map+unmap...\n");
	r = time_map(direct, RAM_BASE + 8192, 4096, secs);
	row_map("ram, direct, 4 KiB", r);
	*direct_ns = r.ns_per_op;
	r = time_map(direct, RAMD_BASE + 8192, 4096, secs);
	row_map("ramd, direct (DEV segment), 4 KiB", r);
	if (r.ns_per_op > *direct_ns)
		*direct_ns = r.ns_per_op;
	row_map("mmio, bounced, 64 B",
		time_map(direct, MMIO_BASE + 256, 64, secs));
}

static double run_writes(struct ramdev_dma *direct, struct ramdev_dma *qemu,
			 struct guest *g, const uint8_t *src, double secs)
{
	struct result d, q;

	printf("64 KiB device writes into ramd\n");
	fprintf(stderr, "bench dma: 64 KiB writes...\n");
	row_tput("access core alone (ramdev_write)",
		 time_writes(NULL, write_core, (uintptr_t)g->ramd, src, secs));
	d = time_writes(direct, write_direct, RAMD_BASE, src, secs);
	row_tput("direct: map, seg_write, unmap", d);
	row_tput("direct: whole request as sg",
		 time_writes(direct, write_whole, RAMD_BASE, src, secs));
	q = time_writes(qemu, write_pieces, RAMD_BASE, src, secs);
	row_tput("qemu-bounce: 16 x 4 KiB map/copy/unmap", q);
	row_tput("qemu-bounce: whole request as sg",
		 time_writes(qemu, write_whole, RAMD_BASE, src, secs));
	if (d.failures)
		printf("  !! direct policy had %lu failures\n", d.failures);
	return q.mb_s > 0 ? d.mb_s / q.mb_s : 0;
}

int bench_dma_main(int argc, char **argv)
{
	double secs = argc > 1 && !strcmp(argv[1], "--quick") ? 0.05 : 0.3;
	struct ramdev_dma *direct = NULL, *qemu = NULL;
	struct guest g = { 0 };
	uint8_t *src = malloc(REQ);
	double direct_ns, ratio;
	int ret = src ? guest_build(&g) : -ENOMEM;

	if (!ret)
		ret = new_dma(&direct, &g, RAMDEV_DMA_DIRECT);
	if (!ret)
		ret = new_dma(&qemu, &g, RAMDEV_DMA_QEMU_BOUNCE);
	if (ret) {
		fprintf(stderr, "bench dma: setup failed: %s\n", strerror(-ret));
	} else {
		memset(src, 0x5a, REQ);
		run_maps(direct, secs, &direct_ns);
		ratio = run_writes(direct, qemu, &g, src, secs);
		printf("direct map+unmap: %.1f ns (target <= 50)\n", direct_ns);
		printf("64 KiB writes, direct / qemu-bounce: %.1fx (target >= 10x)\n",
		       ratio);
	}
	ramdev_dma_free(direct);
	ramdev_dma_free(qemu);
	guest_free(&g);
	free(src);
	return ret ? 1 : 0;
}
