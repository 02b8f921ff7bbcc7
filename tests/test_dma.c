// SPDX-License-Identifier: MIT
/*
 * DMA layer tests: direct and bounced maps, the bounce pool, scatter-gather,
 * the dirty log, bad input and copies without bounce space; main() runs
 * every test of the suite (see test_dma.h for the files and the fixture).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_dma.h"

/* ---- direct and bounced maps ---- */

static void test_dma_map_ramd_direct(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma_seg seg;
	struct ramdev_dma_stats st;
	static uint8_t data[1 << 20];

	fill(data, sizeof(data), 1);
	assert_int_equal(0, ramdev_dma_map(f->dma, RAMD_BASE, 1 << 20,
					   RAMDEV_DMA_FROM_DEVICE, &seg));
	assert_int_equal(1 << 20, seg.len);
	assert_int_equal(RAMDEV_SEG_DEV, seg.kind);
	assert_ptr_equal(f->ramd_mem, seg.base);
	assert_int_equal(0, ramdev_dma_seg_write(&seg, 0, data, sizeof(data)));
	ramdev_dma_unmap(f->dma, &seg, seg.len);
	assert_memory_equal(data, f->ramd_mem, sizeof(data));
	ramdev_dma_get_stats(f->dma, &st);
	assert_int_equal(1, st.maps_direct);
	assert_int_equal(0, st.maps_bounced);
	assert_int_equal(1 << 20, st.bytes_mapped);
}

static void test_dma_map_ram_direct(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma_seg seg;
	uint8_t out[100];

	fill(f->ram_mem + 0x1234, 100, 2);
	assert_int_equal(0, ramdev_dma_map(f->dma, RAM_BASE + 0x1234, 100,
					   RAMDEV_DMA_TO_DEVICE, &seg));
	assert_int_equal(100, seg.len);
	assert_int_equal(RAMDEV_SEG_RAM, seg.kind);
	assert_ptr_equal(f->ram_mem + 0x1234, seg.base);
	assert_int_equal(0, ramdev_dma_seg_read(&seg, 0, out, 100));
	assert_memory_equal(f->ram_mem + 0x1234, out, 100);
	ramdev_dma_unmap(f->dma, &seg, 0);
}

static void test_dma_map_mmio_bounce(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma_seg seg;
	uint8_t in[300], out[300];
	unsigned long reads;

	fill(f->dev.mem + 0x100, 300, 3);
	assert_int_equal(0, ramdev_dma_map(f->dma, MMIO_BASE + 0x100, 300,
					   RAMDEV_DMA_TO_DEVICE, &seg));
	assert_int_equal(300, seg.len);
	assert_int_equal(RAMDEV_SEG_RAM, seg.kind);
	assert_int_equal(0, ramdev_dma_seg_read(&seg, 0, out, 300));
	assert_memory_equal(f->dev.mem + 0x100, out, 300);
	ramdev_dma_unmap(f->dma, &seg, 0);
	assert_int_equal(0, f->dev.writes);

	/* FROM_DEVICE: only the @written bytes reach the device. */
	fill(in, sizeof(in), 4);
	memset(f->dev.mem + 0x800, 0xaa, 400);
	assert_int_equal(0, ramdev_dma_map(f->dma, MMIO_BASE + 0x800, 300,
					   RAMDEV_DMA_FROM_DEVICE, &seg));
	reads = f->dev.reads;
	assert_int_equal(0, ramdev_dma_seg_write(&seg, 0, in, 300));
	ramdev_dma_unmap(f->dma, &seg, 200);
	assert_int_equal(reads, f->dev.reads); /* FROM_DEVICE: no fill */
	assert_memory_equal(in, f->dev.mem + 0x800, 200);
	assert_int_equal(0xaa, f->dev.mem[0x800 + 200]);
	assert_int_equal(200, f->dev.bytes_written);
}

/*
 * A device-writable bounce buffer starts as zeros: an earlier request's
 * data left in the pool must not reach guest memory through bytes the
 * device did not write but `written` covers (review finding: a FLUSH's
 * large writable part received the previous OUT's payload).
 */
static void test_dma_map_bounce_from_device_starts_zeroed(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma_seg seg;

	memset(f->dev.mem + 0x100, 'S', 512);
	assert_int_equal(0, ramdev_dma_map(f->dma, MMIO_BASE + 0x100, 512,
					   RAMDEV_DMA_TO_DEVICE, &seg));
	ramdev_dma_unmap(f->dma, &seg, 0); /* pool now holds 'S' bytes */
	memset(f->dev.mem + 0x1000, 0xaa, 1024);
	assert_int_equal(0, ramdev_dma_map(f->dma, MMIO_BASE + 0x1000, 1024,
					   RAMDEV_DMA_FROM_DEVICE, &seg));
	assert_int_equal(0, ramdev_dma_seg_write(&seg, 1023, "\0", 1));
	ramdev_dma_unmap(f->dma, &seg, 1024);
	for (unsigned i = 0; i < 1024; i++)
		assert_int_equal(0, f->dev.mem[0x1000 + i]);
}

static void test_dma_map_qemu_bounce_fails_like_qemu(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma *dma = new_dma(f, RAMDEV_DMA_QEMU_BOUNCE, 0);
	struct ramdev_dma_seg a, b;
	struct ramdev_dma_stats st;

	fill(f->ramd_mem, 8192, 5);
	/* RAMD is indirect here: a 64 KiB request is capped to the buffer. */
	assert_int_equal(0, ramdev_dma_map(dma, RAMD_BASE, 65536,
					   RAMDEV_DMA_TO_DEVICE, &a));
	assert_int_equal(4096, a.len);
	assert_int_equal(RAMDEV_SEG_RAM, a.kind);
	assert_ptr_not_equal(f->ramd_mem, a.base);
	assert_memory_equal(f->ramd_mem, a.base, 4096);
	/* The single buffer is in use: the second map fails, RAM or not. */
	assert_int_equal(-ENOBUFS, ramdev_dma_map(dma, RAMD_BASE + 4096, 16,
						  RAMDEV_DMA_TO_DEVICE, &b));
	assert_int_equal(-ENOBUFS, ramdev_dma_map(dma, MMIO_BASE, 16,
						  RAMDEV_DMA_TO_DEVICE, &b));
	/* RAM is still direct, as in QEMU. */
	assert_int_equal(0, ramdev_dma_map(dma, RAM_BASE, 65536,
					   RAMDEV_DMA_TO_DEVICE, &b));
	assert_int_equal(65536, b.len);
	ramdev_dma_unmap(dma, &b, 0);
	ramdev_dma_unmap(dma, &a, 0);
	assert_int_equal(0, ramdev_dma_map(dma, RAMD_BASE + 4096, 4096,
					   RAMDEV_DMA_TO_DEVICE, &b));
	assert_memory_equal(f->ramd_mem + 4096, b.base, 4096);
	ramdev_dma_unmap(dma, &b, 0);
	ramdev_dma_get_stats(dma, &st);
	assert_int_equal(2, st.bounce_failures);
	assert_int_equal(2, st.maps_bounced);
	ramdev_dma_free(dma);
}

static void test_dma_map_qemu_bounce_copies_back(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma *dma = new_dma(f, RAMDEV_DMA_QEMU_BOUNCE, 0);
	struct ramdev_dma_seg seg;
	uint8_t in[4096];

	fill(in, sizeof(in), 6);
	memset(f->ramd_mem, 0x5a, 8192);
	assert_int_equal(0, ramdev_dma_map(dma, RAMD_BASE, 8192,
					   RAMDEV_DMA_FROM_DEVICE, &seg));
	assert_int_equal(4096, seg.len);
	assert_int_equal(0, ramdev_dma_seg_write(&seg, 0, in, 4096));
	ramdev_dma_unmap(dma, &seg, 1000);
	assert_memory_equal(in, f->ramd_mem, 1000);
	assert_int_equal(0x5a, f->ramd_mem[1000]);
	ramdev_dma_free(dma);
}

static int on_free_calls;

static void count_on_free(void *opaque)
{
	(void)opaque;
	on_free_calls++;
}

static void test_dma_on_free_direct(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma *dma = new_dma(f, RAMDEV_DMA_DIRECT, 256);
	struct ramdev_dma_seg a, b;
	struct ramdev_dma_stats st;

	on_free_calls = 0;
	assert_int_equal(0, ramdev_dma_map(dma, MMIO_BASE, 1000,
					   RAMDEV_DMA_TO_DEVICE, &a));
	assert_int_equal(256, a.len); /* capped to the pool */
	assert_int_equal(-EAGAIN, ramdev_dma_map(dma, MMIO_BASE + 256, 16,
						 RAMDEV_DMA_TO_DEVICE, &b));
	/* RAMD stays direct under the DIRECT policy even with a full pool. */
	assert_int_equal(0, ramdev_dma_map(dma, RAMD_BASE, 65536,
					   RAMDEV_DMA_TO_DEVICE, &b));
	ramdev_dma_unmap(dma, &b, 0);
	assert_int_equal(0, ramdev_dma_on_free(dma, count_on_free, NULL));
	ramdev_dma_unmap(dma, &a, 0);
	assert_int_equal(1, on_free_calls);
	assert_int_equal(0, ramdev_dma_map(dma, MMIO_BASE + 256, 16,
					   RAMDEV_DMA_TO_DEVICE, &b));
	ramdev_dma_unmap(dma, &b, 0);
	assert_int_equal(1, on_free_calls); /* once, not on every release */
	ramdev_dma_get_stats(dma, &st);
	assert_int_equal(1, st.bounce_retries);
	ramdev_dma_free(dma);
}

/* ---- scatter-gather ---- */

static void test_dma_map_sg_crosses_regions(void **state)
{
	struct fx *f = *state;
	/* ram's last 100 bytes + ramd's first 200, then 100 bytes of mmio. */
	struct ramdev_sg sg[] = { { RAMD_BASE - 100, 300 },
				  { MMIO_BASE, 100 } };
	struct ramdev_dma_seg segs[4];

	assert_int_equal(3, ramdev_dma_map_sg(f->dma, sg, 2,
					      RAMDEV_DMA_TO_DEVICE, segs, 4));
	assert_int_equal(100, segs[0].len);
	assert_int_equal(RAMDEV_SEG_RAM, segs[0].kind);
	assert_ptr_equal(f->ram_mem + RAM_SIZE - 100, segs[0].base);
	assert_int_equal(200, segs[1].len);
	assert_int_equal(RAMDEV_SEG_DEV, segs[1].kind);
	assert_ptr_equal(f->ramd_mem, segs[1].base);
	assert_int_equal(100, segs[2].len);
	assert_int_equal(RAMDEV_SEG_RAM, segs[2].kind);
	ramdev_dma_unmap_sg(f->dma, segs, 3, 0);
}

static void test_dma_map_sg_e2big(void **state)
{
	struct fx *f = *state;
	struct ramdev_sg sg[] = { { RAMD_BASE - 100, 300 },
				  { MMIO_BASE, 100 } };
	struct ramdev_dma_seg segs[2];

	assert_int_equal(-E2BIG, ramdev_dma_map_sg(f->dma, sg, 2,
						   RAMDEV_DMA_TO_DEVICE, segs,
						   2));
	assert_pool_free(f->dma, 4096);
}

static void test_dma_map_sg_pool_busy(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma *direct = new_dma(f, RAMDEV_DMA_DIRECT, 256);
	struct ramdev_dma *qemu = new_dma(f, RAMDEV_DMA_QEMU_BOUNCE, 0);
	/* 512 bytes of MMIO: more than either pool holds. */
	struct ramdev_sg sg[] = { { RAM_BASE, 64 }, { MMIO_BASE, 512 },
				  { MMIO_BASE + 1024, 128 } };
	struct ramdev_sg sg2[] = { { RAMD_BASE, 64 }, { MMIO_BASE, 16 } };
	struct ramdev_dma_seg segs[8];

	struct ramdev_dma_stats st;
	uint8_t buf[512];

	/* DIRECT never waits: a piece the pool cannot hold whole stays MMIO,
	 * reached through the callbacks (a list larger than the whole pool
	 * would otherwise wait forever); one that fits is bounced.  A piece
	 * is never split between the two (review finding: two orders). */
	memset(f->dev.mem, 0x3c, 512);
	memset(f->dev.mem + 1024, 0x4d, 128);
	assert_int_equal(3, ramdev_dma_map_sg(direct, sg, 3,
					      RAMDEV_DMA_TO_DEVICE, segs, 8));
	assert_int_equal(RAMDEV_SEG_RAM, segs[0].kind);
	assert_int_equal(RAMDEV_SEG_MMIO, segs[1].kind);
	assert_null(segs[1].base);
	assert_int_equal(512, segs[1].len);
	assert_int_equal(RAMDEV_SEG_RAM, segs[2].kind); /* bounced, whole */
	assert_int_equal(128, segs[2].len);
	assert_int_equal(0, ramdev_dma_seg_read(&segs[1], 0, buf, 512));
	assert_int_equal(0x3c, buf[0]);
	assert_int_equal(0x3c, buf[511]);
	assert_int_equal(-EINVAL, ramdev_dma_seg_read(&segs[1], 1, buf, 512));
	assert_int_equal(0, ramdev_dma_seg_read(&segs[2], 0, buf, 128));
	assert_int_equal(0x4d, buf[127]);
	ramdev_dma_get_stats(direct, &st);
	assert_int_equal(1, st.maps_indirect);
	assert_int_equal(1, st.maps_bounced);
	assert_int_equal(0, st.bounce_retries);
	ramdev_dma_unmap_sg(direct, segs, 3, 0);
	assert_pool_free(direct, 256);
	/* A single map still reports the busy pool. */
	assert_int_equal(0, ramdev_dma_map(direct, MMIO_BASE, 256,
					   RAMDEV_DMA_TO_DEVICE, &segs[0]));
	assert_int_equal(-EAGAIN, ramdev_dma_map(direct, MMIO_BASE + 256, 16,
						 RAMDEV_DMA_TO_DEVICE,
						 &segs[1]));
	ramdev_dma_unmap(direct, &segs[0], 0);
	/* QEMU: the RAMD entry takes the buffer, the MMIO one fails. */
	assert_int_equal(-ENOBUFS, ramdev_dma_map_sg(qemu, sg2, 2,
						     RAMDEV_DMA_TO_DEVICE,
						     segs, 8));
	assert_pool_free(qemu, 4096);
	ramdev_dma_free(direct);
	ramdev_dma_free(qemu);
}

/*
 * An MMIO segment keeps reaching the region it was mapped from: a guest
 * that covers the window with RAM meanwhile must not split one buffer
 * between two devices (review finding).
 */
static void test_dma_seg_mmio_follows_its_region(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma *direct = new_dma(f, RAMDEV_DMA_DIRECT, 64);
	struct ramdev_sg sg[] = { { MMIO_BASE, 512 } };
	struct ramdev_region *over;
	struct ramdev_dma_seg seg;
	uint8_t *mem = calloc(1, 4096), buf[512];
	unsigned long reads;

	assert_non_null(mem);
	memset(mem, 0x55, 4096);
	memset(f->dev.mem, 0xaa, 512);
	assert_int_equal(1, ramdev_dma_map_sg(direct, sg, 1,
					      RAMDEV_DMA_BIDIR, &seg, 1));
	assert_int_equal(RAMDEV_SEG_MMIO, seg.kind);
	assert_int_equal(0, ramdev_region_new_ram(&over, "over", mem, 4096));
	ramdev_region_set_release(over, free, mem);
	assert_int_equal(0, ramdev_region_add(ramdev_as_root(f->as), MMIO_BASE,
					      over, 10));
	reads = f->dev.reads;
	assert_int_equal(0, ramdev_dma_seg_read(&seg, 0, buf, 512));
	assert_int_equal(0xaa, buf[0]);
	assert_int_equal(0xaa, buf[511]);
	assert_true(f->dev.reads > reads);
	assert_int_equal(0, ramdev_dma_seg_write(&seg, 0, "\x11", 1));
	assert_int_equal(0x11, f->dev.mem[0]);
	assert_int_equal(0x55, mem[0]); /* the RAM over it is untouched */
	ramdev_dma_unmap_sg(direct, &seg, 1, 1);
	assert_int_equal(0, ramdev_region_del(ramdev_as_root(f->as), over));
	ramdev_region_unref(over);
	ramdev_dma_free(direct);
}

static void test_dma_unmap_sg_written_spans_segments(void **state)
{
	struct fx *f = *state;
	struct ramdev_sg sg[] = { { MMIO_BASE + 0x1000, 64 },
				  { RAMD_BASE, 64 } };
	struct ramdev_dma_seg segs[2];
	uint8_t in[128];

	fill(in, sizeof(in), 8);
	memset(f->ramd_mem, 0, 64);
	assert_int_equal(2, ramdev_dma_map_sg(f->dma, sg, 2,
					      RAMDEV_DMA_FROM_DEVICE, segs, 2));
	assert_int_equal(0, ramdev_dma_seg_write(&segs[0], 0, in, 64));
	assert_int_equal(0, ramdev_dma_seg_write(&segs[1], 0, in + 64, 64));
	ramdev_dma_unmap_sg(f->dma, segs, 2, 100);
	assert_memory_equal(in, f->dev.mem + 0x1000, 64);
	assert_memory_equal(in + 64, f->ramd_mem, 64); /* direct: all there */
}

/* ---- dirty log ---- */

static void test_dma_unmap_marks_dirty(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma_seg seg;
	uint64_t bits[16];

	assert_int_equal(0, ramdev_region_dirty_enable(f->ramd, true));
	assert_int_equal(0, ramdev_region_dirty_enable(f->ram, true));
	/* 5 pages mapped at page 1 + 100; the device wrote 4096 bytes:
	 * [0x1064, 0x2064) touches pages 1 and 2 only. */
	assert_int_equal(0, ramdev_dma_map(f->dma, RAMD_BASE + 4096 + 100,
					   5 * 4096, RAMDEV_DMA_FROM_DEVICE,
					   &seg));
	ramdev_dma_unmap(f->dma, &seg, 4096);
	assert_int_equal(2, ramdev_region_dirty_take(f->ramd, bits, 16));
	assert_int_equal(0x6, bits[0]);
	/* Reads do not dirty anything; nor does a write of 0 bytes. */
	assert_int_equal(0, ramdev_dma_map(f->dma, RAM_BASE, 8192,
					   RAMDEV_DMA_TO_DEVICE, &seg));
	ramdev_dma_unmap(f->dma, &seg, 8192);
	assert_int_equal(0, ramdev_dma_map(f->dma, RAM_BASE, 8192,
					   RAMDEV_DMA_BIDIR, &seg));
	ramdev_dma_unmap(f->dma, &seg, 0);
	assert_int_equal(0, ramdev_region_dirty_take(f->ram, bits, 16));
	/* ramdev_dma_write marks at once. */
	assert_int_equal(0, ramdev_dma_write(f->dma, RAM_BASE + 3 * 4096,
					     "x", 1));
	assert_int_equal(1, ramdev_region_dirty_take(f->ram, bits, 16));
	assert_int_equal(0x8, bits[0]);
}

/* ---- bad input ---- */

static void test_dma_map_bad_args(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma_seg seg;

	assert_int_equal(-EINVAL, ramdev_dma_map(f->dma, RAM_BASE, 0,
						 RAMDEV_DMA_TO_DEVICE, &seg));
	assert_int_equal(-EINVAL, ramdev_dma_map(f->dma, RAM_BASE, 1, 0, &seg));
	assert_int_equal(-EINVAL, ramdev_dma_map(f->dma, RAM_BASE, 1, 4, &seg));
	assert_int_equal(-EINVAL, ramdev_dma_map(NULL, RAM_BASE, 1,
						 RAMDEV_DMA_TO_DEVICE, &seg));
	assert_int_equal(-EINVAL, ramdev_dma_map(f->dma, RAM_BASE, 1,
						 RAMDEV_DMA_TO_DEVICE, NULL));
	assert_int_equal(-EFAULT, ramdev_dma_map(f->dma, HOLE_GPA, 1,
						 RAMDEV_DMA_TO_DEVICE, &seg));
}

static void test_dma_new_bad_args(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma_config cfg = { .policy = 7 };
	struct ramdev_dma *dma;

	assert_int_equal(-EINVAL, ramdev_dma_new(&dma, f->as, &cfg));
	assert_int_equal(-EINVAL, ramdev_dma_new(&dma, NULL, NULL));
	assert_int_equal(-EINVAL, ramdev_dma_new(NULL, f->as, NULL));
}

static void test_dma_map_overflow_top_of_space(void **state)
{
	struct fx *f = *state;
	static uint8_t top_mem[4096];
	struct ramdev_region *top;
	struct ramdev_dma_seg seg;
	struct ramdev_sg sg = { UINT64_MAX - 4095, 4097 };

	assert_int_equal(0, ramdev_region_new_ram(&top, "top", top_mem, 4096));
	add_region(f, top, UINT64_MAX - 4095);
	/* The last page of the 64-bit space maps; one byte more wraps. */
	assert_int_equal(0, ramdev_dma_map(f->dma, UINT64_MAX - 4095, 4096,
					   RAMDEV_DMA_TO_DEVICE, &seg));
	assert_int_equal(4096, seg.len);
	ramdev_dma_unmap(f->dma, &seg, 0);
	assert_int_equal(0, ramdev_dma_map(f->dma, UINT64_MAX, 1,
					   RAMDEV_DMA_TO_DEVICE, &seg));
	ramdev_dma_unmap(f->dma, &seg, 0);
	assert_int_equal(-EOVERFLOW, ramdev_dma_map(f->dma, UINT64_MAX, 2,
						    RAMDEV_DMA_TO_DEVICE,
						    &seg));
	/* [1, 2^64) ends exactly at the top: no wrap, capped to ram. */
	assert_int_equal(0, ramdev_dma_map(f->dma, RAM_BASE + 1, UINT64_MAX,
					   RAMDEV_DMA_TO_DEVICE, &seg));
	assert_int_equal(RAM_SIZE - 1, seg.len);
	ramdev_dma_unmap(f->dma, &seg, 0);
	assert_int_equal(-EOVERFLOW, ramdev_dma_map(f->dma, 2, UINT64_MAX,
						    RAMDEV_DMA_TO_DEVICE,
						    &seg));
	assert_int_equal(-EOVERFLOW, ramdev_dma_map_sg(f->dma, &sg, 1,
						       RAMDEV_DMA_TO_DEVICE,
						       &seg, 1));
	assert_int_equal(-EOVERFLOW, ramdev_dma_read(f->dma, UINT64_MAX,
						     top_mem, 2));
	assert_int_equal(0, ramdev_region_del(ramdev_as_root(f->as), top));
	ramdev_region_unref(top);
}

static struct ramdev_dma_seg twice_seg;

static void unmap_twice_seg(struct fx *f)
{
	ramdev_dma_unmap(f->dma, &twice_seg, 0);
}

static void test_dma_unmap_twice_is_caught(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma_seg other;
	uint8_t byte;

	assert_int_equal(0, ramdev_dma_map(f->dma, MMIO_BASE, 64,
					   RAMDEV_DMA_TO_DEVICE, &twice_seg));
	ramdev_dma_unmap(f->dma, &twice_seg, 0);
	/* A second map takes the same bounce space; the stale unmap must not
	 * free it from under this mapping. */
	assert_int_equal(0, ramdev_dma_map(f->dma, MMIO_BASE, 4096,
					   RAMDEV_DMA_TO_DEVICE, &other));
	assert_non_null(strstr(logged(f, unmap_twice_seg), "unmapped twice"));
	assert_int_equal(-EINVAL, ramdev_dma_seg_read(&twice_seg, 0,
						      &byte, 1));
	ramdev_dma_unmap(f->dma, &other, 0);
	assert_pool_free(f->dma, 4096);
	/* Never mapped: zeroed, and a failed map. */
	memset(&twice_seg, 0, sizeof(twice_seg));
	assert_non_null(strstr(logged(f, unmap_twice_seg), "never mapped"));
	assert_int_equal(-EFAULT, ramdev_dma_map(f->dma, HOLE_GPA, 1,
						 RAMDEV_DMA_TO_DEVICE,
						 &twice_seg));
	assert_non_null(strstr(logged(f, unmap_twice_seg), "never mapped"));
}

static void test_dma_seg_bounds(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma_seg seg;
	uint8_t b[64];

	assert_int_equal(0, ramdev_dma_map(f->dma, RAMD_BASE, 64,
					   RAMDEV_DMA_BIDIR, &seg));
	assert_int_equal(0, ramdev_dma_seg_write(&seg, 32, b, 32));
	assert_int_equal(-EINVAL, ramdev_dma_seg_write(&seg, 33, b, 32));
	assert_int_equal(-EINVAL, ramdev_dma_seg_read(&seg, 0, b, 65));
	assert_int_equal(-EINVAL, ramdev_dma_seg_read(&seg, SIZE_MAX, b, 2));
	assert_int_equal(-EINVAL, ramdev_dma_seg_read(&seg, 2, b, SIZE_MAX));
	assert_int_equal(0, ramdev_dma_seg_read(&seg, 64, b, 0));
	ramdev_dma_unmap(f->dma, &seg, 0);
}

/* ---- copies without bounce space ---- */

static void test_dma_read_write_across_regions(void **state)
{
	struct fx *f = *state;
	static uint8_t in[8192], out[8192];
	struct ramdev_dma *dma = new_dma(f, RAMDEV_DMA_QEMU_BOUNCE, 0);
	struct ramdev_dma_seg hold;

	/* Even with the only bounce buffer held, copies go through. */
	assert_int_equal(0, ramdev_dma_map(dma, MMIO_BASE, 16,
					   RAMDEV_DMA_TO_DEVICE, &hold));
	fill(in, sizeof(in), 9);
	assert_int_equal(0, ramdev_dma_write(dma, RAMD_BASE - 4096, in, 8192));
	assert_memory_equal(in, f->ram_mem + RAM_SIZE - 4096, 4096);
	assert_memory_equal(in + 4096, f->ramd_mem, 4096);
	assert_int_equal(0, ramdev_dma_read(dma, RAMD_BASE - 4096, out, 8192));
	assert_memory_equal(in, out, 8192);
	assert_int_equal(0, ramdev_dma_write(dma, MMIO_BASE + 0x100, in, 5000));
	assert_memory_equal(in, f->dev.mem + 0x100, 5000);
	assert_int_equal(0, ramdev_dma_read(dma, MMIO_BASE + 0x100, out, 5000));
	assert_memory_equal(in, out, 5000);
	ramdev_dma_unmap(dma, &hold, 0);
	ramdev_dma_free(dma);
}

static void test_dma_copy_hole_touches_nothing(void **state)
{
	struct fx *f = *state;
	static uint8_t in[8192], out[8192];

	fill(in, sizeof(in), 10);
	memset(f->dev.mem + MMIO_SIZE - 4096, 0x11, 4096);
	/* mmio's last 4 KiB, then a hole. */
	assert_int_equal(-EFAULT, ramdev_dma_write(f->dma,
						   MMIO_BASE + MMIO_SIZE - 4096,
						   in, 8192));
	assert_int_equal(0, f->dev.writes);
	assert_int_equal(0x11, f->dev.mem[MMIO_SIZE - 4096]);
	memset(out, 0, sizeof(out));
	/* A read with a hole touches nothing either: no MMIO read (side
	 * effects) for a request that fails anyway. */
	assert_int_equal(-EFAULT, ramdev_dma_read(f->dma,
						  MMIO_BASE + MMIO_SIZE - 4096,
						  out, 8192));
	assert_int_equal(0, f->dev.reads);
	assert_int_equal(0, out[0]);
	assert_int_equal(0, out[8191]);
	assert_int_equal(0, ramdev_dma_write(f->dma, RAM_BASE, in, 0));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_dma_map_ramd_direct),
		T(test_dma_map_ram_direct),
		T(test_dma_map_mmio_bounce),
		T(test_dma_map_bounce_from_device_starts_zeroed),
		T(test_dma_map_qemu_bounce_fails_like_qemu),
		T(test_dma_map_qemu_bounce_copies_back),
		T(test_dma_on_free_direct),
		T(test_dma_map_concurrent_tiny_pool),
		T(test_dma_map_sg_crosses_regions),
		T(test_dma_map_sg_e2big),
		T(test_dma_map_sg_pool_busy),
		T(test_dma_seg_mmio_follows_its_region),
		T(test_dma_unmap_sg_written_spans_segments),
		T(test_dma_unmap_marks_dirty),
		T(test_dma_map_bad_args),
		T(test_dma_new_bad_args),
		T(test_dma_map_overflow_top_of_space),
		T(test_dma_unmap_twice_is_caught),
		T(test_dma_seg_bounds),
		T(test_dma_read_write_across_regions),
		T(test_dma_copy_hole_touches_nothing),
		T(test_dma_hot_remove_held_mapping),
		T(test_dma_hot_remove_stress),
		T(test_dma_qemu_fill_per_access),
		T(test_dma_qemu_flush_per_access),
		T(test_dma_qemu_misaligned_pieces),
		T(test_dma_qemu_copies_stay_exact),
		T(test_dma_qemu_flush_marks_dirty),
		T(test_dma_bounce_copy_back_to_mapped_region),
		T(test_dma_bounce_copy_back_after_removal),
		T(test_dma_qemu_copy_back_to_mapped_region),
		T(test_dma_on_free_register_then_retry),
		T(test_ratelimit_check_counts_suppressed),
		T(test_getters_null),
		T(test_dma_unmap_concurrent_twice_balanced),
		T(test_dma_bounce_fill_from_mapped_region),
		T(test_dma_map_chain_as_two_map_sg),
		T(test_dma_map_chain_dev_flag),
		T(test_dma_map_chain_e2big_in_part),
		T(test_dma_map_chain_unassigned_out_part),
		T(test_dma_unmap_chain_written_in_part_only),
		T(test_as_translate_hint_stays_in_range),
		T(test_dma_map_sg_hint_sees_bar_moved_by_callback),
	};

	return cmocka_run_group_tests_name("dma", tests, NULL, NULL);
}
