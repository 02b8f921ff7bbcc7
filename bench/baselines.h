/* SPDX-License-Identifier: MIT */
/*
 * Baselines for `ramdev bench access`: the copies ramdev's access core is
 * measured against, written from their published behaviour (no code copied).
 * Each has the shape of ramdev_write/ramdev_read: the device side first for
 * writes (dst), second for reads (src).
 */
#ifndef RAMDEV_BENCH_BASELINES_H
#define RAMDEV_BENCH_BASELINES_H

#include <stddef.h>

/* dst <- src, n bytes; which side is the device depends on the direction. */
typedef void bench_copy_fn(void *dst, const void *src, size_t n);

/* RAM -> device (dst is the device side). */
bench_copy_fn bl_memcpy_write;  /* glibc memcpy: no exactness at all */
bench_copy_fn bl_bytes_write;   /* volatile 1-byte stores: exact, slow */
bench_copy_fn bl_v1_write;      /* seed v1: n = 1/2/4/8 in one access, else memcpy */
bench_copy_fn bl_v2_write;      /* seed v2: greedy width per step, volatile */
bench_copy_fn bl_toio_write;    /* Linux memcpy_toio: bytes to 8-aligned, 8-byte body, byte tail */

/* device -> RAM (src is the device side): the mirror images. */
bench_copy_fn bl_memcpy_read;
bench_copy_fn bl_bytes_read;
bench_copy_fn bl_v1_read;
bench_copy_fn bl_v2_read;
bench_copy_fn bl_fromio_read;   /* Linux memcpy_fromio */

#endif
