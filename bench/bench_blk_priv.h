/* SPDX-License-Identifier: MIT */
/*
 * `ramdev bench blk`, private: what the driving side (bench_blk.c: rigs,
 * guest driver, runs, passes) hands to the report (bench_blk_report.c:
 * targets, table, notes, JSON).
 */
#ifndef RAMDEV_BENCH_BENCH_BLK_PRIV_H
#define RAMDEV_BENCH_BENCH_BLK_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ramdev/blk.h"
#include "ramdev/dma.h"

#include "report.h"

#define QSIZE 64u
#define DEPTH 16u
#define IMG_SIZE (64ull << 20)

/* The matrix: op x size x rig x mem (bench_blk.c defines the names). */
#define NOPS 2u
#define NSIZES 2u
#define NRIGS 4u
#define NMEMS 3u
extern const char *const bench_blk_ops[NOPS];   /* "write", "read" */
extern const size_t bench_blk_sizes[NSIZES];    /* request bytes */
extern const char *const bench_blk_mems[NMEMS]; /* "RAM", "RAMD", "RAMD64" */
#define MEM_RAMD 1u   /* the RAM-device region, DMA width 8 (default) */
#define MEM_RAMD64 2u /* the same memory as a region of DMA width 64 */

/* A device with its queue, driver rings and guest: one per policy x engine. */
struct rig {
	enum ramdev_dma_policy policy;
	enum ramdev_blk_engine engine;
	const char *policy_name, *engine_name;
	int open_err;             /* ramdev_blk_open's error: rows skipped */
	bool no_merge;            /* --no-merge: ramdev_blk_options.no_merge */
	struct test_guest *g;
	struct ramdev_virtq *vq;
	struct vring_drv *drv;
	struct ramdev_blk *blk;
	uint8_t *ram;             /* guest RAM, host view */
	unsigned slot_of[QSIZE];  /* head -> slot */
	unsigned free_slots[DEPTH], nfree;
	unsigned inflight;        /* added, not yet reaped */
	bool broken;
	uint64_t rebuilds;
	char msg[160];            /* first warning logged */
};

/* One measured run of a cell. */
struct sample {
	double secs;
	uint64_t completed, failed, bytes;
};

/* A cell's state across passes: the best run, by bytes per second. */
struct cell {
	struct sample best;
	double best_rate;
	bool have;
};

/*
 * Cell indices: the raw baseline per (op, size), the staged raw baseline
 * (the same calls through one RAM buffer and the access core to the RAMD
 * pages: the floor of staging) per (op, size), then blk per rig and mem.
 */
static inline size_t raw_idx(size_t o, size_t i)
{
	return o * NSIZES + i;
}

static inline size_t staged_idx(size_t o, size_t i)
{
	return NOPS * NSIZES + o * NSIZES + i;
}

static inline size_t blk_idx(size_t o, size_t i, size_t rg, size_t m)
{
	return 2 * NOPS * NSIZES + ((o * NSIZES + i) * NRIGS + rg) * NMEMS + m;
}
#define NCELLS (NOPS * NSIZES * (2 + NRIGS * NMEMS))

/* bench_blk_report.c */

/* "1.23 0.98 0.70": the 1, 5 and 15 minute load averages, or "unknown". */
void bench_blk_loadavg(char *buf, size_t len);

/* Fills @k (room for 4) from the best runs; returns how many it filled. */
size_t bench_blk_check_targets(struct bench_check *k, const struct rig *rigs,
			       const struct cell *cells);

/* The whole text report on stdout: header, table, notes, targets. */
void bench_blk_print_report(const struct bench_meta *meta, bool per_page,
			    const char *path, const char *load0,
			    const char *load1, const struct rig *rigs,
			    const struct cell *cells,
			    const struct bench_check *k, size_t nk);

/* The same results as JSON in @path.  Returns 0, or -errno. */
int bench_blk_write_json(const char *path, const struct bench_meta *meta,
			 bool per_page, const char *load0, const char *load1,
			 const struct rig *rigs, const struct cell *cells,
			 const struct bench_check *k, size_t nk);

#endif
