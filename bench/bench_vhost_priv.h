/* SPDX-License-Identifier: MIT */
/*
 * `ramdev bench vhost`, private: the cells and results that the driving side
 * (bench_vhost.c) hands to the report (bench_vhost_report.c: table, targets,
 * JSON, plot).
 */
#ifndef RAMDEV_BENCH_BENCH_VHOST_PRIV_H
#define RAMDEV_BENCH_BENCH_VHOST_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VB_MAX_BACKENDS 4u
#define VB_MAX_CELLS 64u
#define VB_MODES 2u /* 0: O_DIRECT, 1: buffered */

/* One workload. */
struct vb_cell {
	const char *op;  /* "randread", "randwrite", "read", "write" */
	uint32_t bs;     /* request bytes */
	unsigned qd;     /* requests in flight per queue */
	unsigned nq;     /* queues driven */
	bool dev;        /* buffers in the device-memory region */
};

/* One measured run of a cell on one back end. */
struct vb_result {
	bool have;
	double secs;
	uint64_t reqs, bytes, errors;
	double iops, mbps;
	double p50_us, p99_us;
	double cpu_s;          /* back end's CPU over the run; < 0: unknown */
	double cpu_s_per_gb;
	double cpu_s_per_mreq;
};

struct vb_run {
	int quick;
	unsigned nbackends;
	const char *backend[VB_MAX_BACKENDS]; /* names for the table */
	unsigned ncells;
	struct vb_cell cell[VB_MAX_CELLS];
	bool mode_run[VB_MODES];
	/* best of the repetitions, by IOPS */
	struct vb_result res[VB_MODES][VB_MAX_BACKENDS][VB_MAX_CELLS];
	double cell_s, warm_s;
	unsigned reps;
	uint64_t image_size;
	const char *image_dir;
	double seconds; /* wall time of the whole run */
	char note[256]; /* e.g. a back end that could not start */
};

extern const char *const vb_mode_name[VB_MODES];

/* bench_vhost_report.c */
void vb_print_table(const struct vb_run *r);
/* Returns the number of targets missed (printed), or -1 without both
 * "ramdev" and "qsd". */
int vb_print_targets(const struct vb_run *r);
int vb_write_json(const char *path, const struct vb_run *r);
int vb_plot(const char *png, const struct vb_run *r);

#endif
