/* SPDX-License-Identifier: MIT */
/* DMA benchmark, run by `ramdev bench` (and bench/dma_bench_main.c). */
#ifndef RAMDEV_BENCH_DMA_H
#define RAMDEV_BENCH_DMA_H

/* argv[0] is the benchmark's name; returns the process exit status. */
int bench_dma_main(int argc, char **argv);

#endif
