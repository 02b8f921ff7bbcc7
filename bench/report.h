/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for `ramdev bench`: timing (best of several runs, each
 * repeated to a minimum duration), result rows, JSON and gnuplot output.
 */
#ifndef RAMDEV_BENCH_REPORT_H
#define RAMDEV_BENCH_REPORT_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* Runs the measured operation @iters times; returns elapsed nanoseconds. */
typedef uint64_t bench_batch_fn(void *ctx, uint64_t iters);

struct bench_timing {
	uint64_t min_ns; /* each run repeats the operation at least this long */
	unsigned runs;   /* best of this many runs (callers interleave them) */
};

/*
 * bench_calibrate - a repeat count for which one batch takes about
 * @min_ns (found by doubling, then scaling); also warms the caches.
 */
uint64_t bench_calibrate(bench_batch_fn *batch, void *ctx, uint64_t min_ns);

/* bench_run_ns - one batch of @iters; returns nanoseconds per operation. */
double bench_run_ns(bench_batch_fn *batch, void *ctx, uint64_t iters);

/* One measured cell: @series on @op at @size bytes, device offset @offset. */
struct bench_row {
	const char *op;     /* "write", "read" */
	const char *series; /* function name */
	size_t size;
	unsigned offset;
	double ns;   /* best time per call */
	double gbps; /* size / ns */
	/* Operations that failed, of @attempts (all runs); both 0 when the
	 * benchmark does not count failures, and then not in the JSON. */
	uint64_t failures;
	uint64_t attempts;
};

struct bench_rows {
	struct bench_row *v;
	size_t n, cap;
};

/* Returns 0, or -ENOMEM. */
int bench_rows_add(struct bench_rows *rows, const struct bench_row *row);
void bench_rows_free(struct bench_rows *rows);
const struct bench_row *bench_rows_find(const struct bench_rows *rows,
					const char *op, const char *series,
					size_t size, unsigned offset);

/* A target checked over the results: the worst ratio and where it was. */
struct bench_check {
	const char *name;
	double want;  /* ratio required (a bound, for @at_most checks) */
	double worst; /* worst ratio (or value) measured */
	char where[64];
	int met;
	int at_most; /* the target is worst <= want (e.g. ns), not >= */
};

struct bench_meta {
	const char *bench; /* "access", "as" */
	int quick;
	struct bench_timing timing;
	double seconds; /* wall time of the whole run */
};

/* Human-readable size: "8 B", "4 KiB", "64 MiB". */
const char *bench_size_str(size_t size, char *buf, size_t len);

/* Returns 0, or -errno (the file could not be written). */
int bench_write_json(const char *path, const struct bench_meta *meta,
		     const struct bench_rows *rows,
		     const struct bench_check *checks, size_t nchecks);

/* 0 when a gnuplot executable is on PATH, -ENOENT otherwise. */
int bench_have_gnuplot(void);

/*
 * bench_plot - draw GB/s against size (log x), one panel per (op, offset)
 * in order of first appearance, one line per series.  Returns 0, -ENOENT
 * (no gnuplot) or -EIO (gnuplot failed).
 */
int bench_plot(const char *png, const char *title,
	       const struct bench_rows *rows);

#endif
