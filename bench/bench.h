/* SPDX-License-Identifier: MIT */
/* `ramdev bench`: sub-benchmarks, one function each (bench/bench_<name>.c). */
#ifndef RAMDEV_BENCH_BENCH_H
#define RAMDEV_BENCH_BENCH_H

/* argv[0] is the sub-benchmark's name; returns the process exit status. */
typedef int bench_fn(int argc, char **argv);

bench_fn bench_access;
bench_fn bench_as;
bench_fn bench_blk;
bench_fn bench_vhost;

#endif
