// SPDX-License-Identifier: MIT
/*
 * The QEMU_BOUNCE policy reproduces QEMU before the fix faithfully: a
 * RAM-device region is "indirect", so the bounce buffer is filled (map,
 * TO_DEVICE) and flushed (unmap, FROM_DEVICE) through the region's
 * MMIO-style ops table, one indirect call per piece of at most 8 bytes, as
 * QEMU's flatview_read/write_continue call memory_region_dispatch_read/write
 * on ram_device_mem_ops.  The pieces are counted by the address space (a
 * per-thread counter, hence the static link of this executable).
 */
#include <errno.h>
#include <string.h>

#include "test_dma.h"

#include "as/as_lib.h" /* ramdev_as_ramd_indirect_count() */

static uint64_t pieces(void)
{
	return ramdev_as_ramd_indirect_count();
}

void test_dma_qemu_fill_per_access(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma *dma = new_dma(f, RAMDEV_DMA_QEMU_BOUNCE, 0);
	struct ramdev_dma_seg seg;
	uint64_t c0;

	fill(f->ramd_mem, 4096, 21);
	c0 = pieces();
	assert_int_equal(0, ramdev_dma_map(dma, RAMD_BASE, 65536,
					   RAMDEV_DMA_TO_DEVICE, &seg));
	assert_int_equal(4096, seg.len);
	assert_int_equal(RAMDEV_SEG_RAM, seg.kind);
	/* 4096 aligned bytes: 512 dispatches of 8 bytes. */
	assert_int_equal(4096 / 8, pieces() - c0);
	assert_memory_equal(f->ramd_mem, seg.base, 4096);
	c0 = pieces();
	ramdev_dma_unmap(dma, &seg, 0); /* TO_DEVICE: nothing to flush */
	assert_int_equal(0, pieces() - c0);
	ramdev_dma_free(dma);

	/* DIRECT: the same range is mapped in place, no dispatch at all. */
	c0 = pieces();
	assert_int_equal(0, ramdev_dma_map(f->dma, RAMD_BASE, 65536,
					   RAMDEV_DMA_TO_DEVICE, &seg));
	assert_int_equal(65536, seg.len);
	assert_int_equal(RAMDEV_SEG_DEV, seg.kind);
	ramdev_dma_unmap(f->dma, &seg, 0);
	assert_int_equal(0, pieces() - c0);
}

void test_dma_qemu_flush_per_access(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma *dma = new_dma(f, RAMDEV_DMA_QEMU_BOUNCE, 0);
	struct ramdev_dma_seg seg;
	uint8_t in[4096];
	uint64_t c0;

	fill(in, sizeof(in), 22);
	memset(f->ramd_mem + 4096, 0x5a, 4096);
	c0 = pieces();
	assert_int_equal(0, ramdev_dma_map(dma, RAMD_BASE + 4096, 8192,
					   RAMDEV_DMA_FROM_DEVICE, &seg));
	assert_int_equal(4096, seg.len);
	assert_int_equal(0, pieces() - c0); /* FROM_DEVICE: no fill */
	assert_int_equal(0, ramdev_dma_seg_write(&seg, 0, in, 4096));
	ramdev_dma_unmap(dma, &seg, 1000);
	/* Exactly the 1000 written bytes, 8 at a time. */
	assert_int_equal(1000 / 8, pieces() - c0);
	assert_memory_equal(in, f->ramd_mem + 4096, 1000);
	assert_int_equal(0x5a, f->ramd_mem[4096 + 1000]);
	ramdev_dma_free(dma);
}

/* QEMU declares impl.unaligned and would issue misaligned 8-byte accesses;
 * we keep every device access naturally aligned, so a misaligned span is
 * covered by greedy aligned pieces (documented in dma.h). */
void test_dma_qemu_misaligned_pieces(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma *dma = new_dma(f, RAMDEV_DMA_QEMU_BOUNCE, 0);
	struct ramdev_dma_seg seg;
	uint8_t in[16];
	uint64_t c0;

	fill(f->ramd_mem, 64, 23);
	c0 = pieces();
	/* [3, 24): 1 byte at 3, 4 at 4, 8 at 8, 8 at 16. */
	assert_int_equal(0, ramdev_dma_map(dma, RAMD_BASE + 3, 21,
					   RAMDEV_DMA_TO_DEVICE, &seg));
	assert_int_equal(4, pieces() - c0);
	assert_memory_equal(f->ramd_mem + 3, seg.base, 21);
	ramdev_dma_unmap(dma, &seg, 0);

	/* [37, 48) written back: 1 at 37, 2 at 38, 8 at 40. */
	fill(in, sizeof(in), 24);
	assert_int_equal(0, ramdev_dma_map(dma, RAMD_BASE + 37, 16,
					   RAMDEV_DMA_FROM_DEVICE, &seg));
	assert_int_equal(0, ramdev_dma_seg_write(&seg, 0, in, 16));
	c0 = pieces();
	ramdev_dma_unmap(dma, &seg, 11);
	assert_int_equal(3, pieces() - c0);
	assert_memory_equal(in, f->ramd_mem + 37, 11);
	ramdev_dma_free(dma);
}

/* Copies without bounce space are not part of the QEMU model: they stay
 * exact bulk copies through the access core under either policy. */
void test_dma_qemu_copies_stay_exact(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma *dma = new_dma(f, RAMDEV_DMA_QEMU_BOUNCE, 0);
	static uint8_t in[8192], out[8192];
	uint64_t c0 = pieces();

	fill(in, sizeof(in), 25);
	assert_int_equal(0, ramdev_dma_write(dma, RAMD_BASE, in, sizeof(in)));
	assert_int_equal(0, ramdev_dma_read(dma, RAMD_BASE, out, sizeof(out)));
	assert_memory_equal(in, out, sizeof(in));
	assert_memory_equal(in, f->ramd_mem, sizeof(in));
	assert_int_equal(0, pieces() - c0);
	ramdev_dma_free(dma);
}

/* The indirect flush still logs the bytes it changed. */
void test_dma_qemu_flush_marks_dirty(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma *dma = new_dma(f, RAMDEV_DMA_QEMU_BOUNCE, 0);
	struct ramdev_dma_seg seg;
	uint64_t bits[16];

	assert_int_equal(0, ramdev_region_dirty_enable(f->ramd, true));
	assert_int_equal(0, ramdev_dma_map(dma, RAMD_BASE + 2 * 4096, 4096,
					   RAMDEV_DMA_FROM_DEVICE, &seg));
	ramdev_dma_unmap(dma, &seg, 4096);
	assert_int_equal(1, ramdev_region_dirty_take(f->ramd, bits, 16));
	assert_int_equal(0x4, bits[0]);
	ramdev_dma_free(dma);
}
