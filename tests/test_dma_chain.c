// SPDX-License-Identifier: MIT
/*
 * The DMA layer's chain calls for the virtqueue (lib/dma_lib.h) and the
 * address space's hinted translation under them (suite 'dma'): a chain
 * mapped in one call is what two ramdev_dma_map_sg() calls make, its
 * failures say which part failed and leave nothing mapped, and a hint
 * never answers for an address outside its flat range.
 */
#include <errno.h>
#include <string.h>

#include "as/as_lib.h" /* first: ramdev_as_translate_hint() */
#include "dma_lib.h"
#include "test_dma.h"

/* A chain's map in its own section, as the virtqueue makes it. */
static int map_chain(struct ramdev_dma *dma, const struct ramdev_sg *sg,
		     unsigned nout, unsigned nin, struct ramdev_dma_seg *segs,
		     unsigned max, struct ramdev_dma_chain_map *res)
{
	struct ramdev_dma_chain c;
	int ret;

	ramdev_dma_chain_begin(&c, dma);
	ret = ramdev_dma_chain_map(&c, sg, nout, nin, segs, max, res);
	ramdev_dma_chain_end(&c);
	return ret;
}

static void assert_seg_equal(const struct ramdev_dma_seg *a,
			     const struct ramdev_dma_seg *b)
{
	if (!a->bounce) /* bounce buffers: wherever the pool had room */
		assert_ptr_equal(a->base, b->base);
	assert_int_equal(a->bounce != 0, b->bounce != 0);
	assert_int_equal(a->len, b->len);
	assert_int_equal(a->kind, b->kind);
}

/* Readable: RAM, then RAM across into RAMD; writable: RAM, MMIO, RAM. */
static const struct ramdev_sg chain_sg[] = {
	{ RAM_BASE + 0x1000, 16 },
	{ RAMD_BASE - 100, 300 },
	{ RAM_BASE + 0x3000, 4096 },
	{ MMIO_BASE + 0x100, 64 },
	{ RAM_BASE + 0x2000, 1 },
};

void test_dma_map_chain_as_two_map_sg(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma_seg a[8], b[8];
	struct ramdev_dma_chain_map res;
	struct ramdev_dma_stats s0, s1, s2;
	int nout, nin;

	ramdev_dma_get_stats(f->dma, &s0);
	nout = ramdev_dma_map_sg(f->dma, chain_sg, 2, RAMDEV_DMA_TO_DEVICE, a,
				 8);
	assert_int_equal(3, nout);
	nin = ramdev_dma_map_sg(f->dma, chain_sg + 2, 3,
				RAMDEV_DMA_FROM_DEVICE, a + nout, 8 - nout);
	assert_int_equal(3, nin);
	ramdev_dma_get_stats(f->dma, &s1);
	assert_int_equal(6, map_chain(f->dma, chain_sg, 2, 3, b, 8,
						 &res));
	ramdev_dma_get_stats(f->dma, &s2);
	assert_int_equal(3, res.out_segs);
	assert_true(res.dev); /* RAMD and a bounce */
	for (int i = 0; i < 6; i++)
		assert_seg_equal(&a[i], &b[i]);
	/* The statistics count the same maps, once per chain or not. */
	assert_int_equal(s1.maps_direct - s0.maps_direct,
			 s2.maps_direct - s1.maps_direct);
	assert_int_equal(s1.maps_bounced - s0.maps_bounced,
			 s2.maps_bounced - s1.maps_bounced);
	assert_int_equal(s1.bytes_mapped - s0.bytes_mapped,
			 s2.bytes_mapped - s1.bytes_mapped);
	ramdev_dma_unmap_sg(f->dma, a, 3, 0);
	ramdev_dma_unmap_sg(f->dma, a + 3, 3, 0);
	ramdev_dma_unmap_chain(f->dma, b, 3, 3, 0);
	assert_pool_free(f->dma, 4096);
}

/* res.dev: only RAMD or bounced segments make a chain need the device
 * barriers. */
void test_dma_map_chain_dev_flag(void **state)
{
	struct fx *f = *state;
	struct ramdev_sg ram[] = { { RAM_BASE, 16 }, { RAM_BASE + 0x1000, 1 } };
	struct ramdev_sg mmio[] = { { RAM_BASE, 16 }, { MMIO_BASE, 1 } };
	struct ramdev_dma_seg segs[2];
	struct ramdev_dma_chain_map res;

	assert_int_equal(2, map_chain(f->dma, ram, 1, 1, segs, 2, &res));
	assert_false(res.dev);
	ramdev_dma_unmap_chain(f->dma, segs, 1, 1, 0);
	assert_int_equal(2, map_chain(f->dma, mmio, 1, 1, segs, 2, &res));
	assert_true(res.dev);
	ramdev_dma_unmap_chain(f->dma, segs, 1, 1, 0);
}

void test_dma_map_chain_e2big_in_part(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma_seg segs[4];
	struct ramdev_dma_chain_map res;

	/* 3 readable segments fit, the writable part's 3 do not. */
	assert_int_equal(-E2BIG, map_chain(f->dma, chain_sg, 2, 3,
						      segs, 4, &res));
	assert_true(res.in_failed);
	assert_int_equal(3, res.out_segs);
	/* Nothing stays mapped: the bounce of the MMIO piece is back. */
	assert_pool_free(f->dma, 4096);
	assert_int_equal(-E2BIG, map_chain(f->dma, chain_sg, 2, 3,
						      segs, 2, &res));
	assert_false(res.in_failed);
}

void test_dma_map_chain_unassigned_out_part(void **state)
{
	struct fx *f = *state;
	struct ramdev_sg sg[] = { { RAM_BASE, 16 }, { HOLE_GPA, 16 },
				  { MMIO_BASE, 64 } };
	struct ramdev_dma_seg segs[4];
	struct ramdev_dma_chain_map res;

	assert_int_equal(-EFAULT, map_chain(f->dma, sg, 2, 1, segs,
						       4, &res));
	assert_false(res.in_failed);
	assert_pool_free(f->dma, 4096);
	/* The writable part unassigned, after a bounced piece. */
	sg[0] = (struct ramdev_sg){ MMIO_BASE, 64 };
	assert_int_equal(-EFAULT, map_chain(f->dma, sg, 0, 2, segs,
						       4, &res));
	assert_true(res.in_failed);
	assert_int_equal(0, res.out_segs);
	assert_pool_free(f->dma, 4096);
}

/* @written counts from the start of the writable part only: the readable
 * bounce is never copied back. */
void test_dma_unmap_chain_written_in_part_only(void **state)
{
	struct fx *f = *state;
	struct ramdev_sg sg[] = { { MMIO_BASE, 64 },
				  { MMIO_BASE + 0x1000, 64 } };
	struct ramdev_dma_seg segs[2];
	struct ramdev_dma_chain_map res;
	uint8_t in[64], before[64];

	fill(in, sizeof(in), 3);
	memcpy(before, f->dev.mem, 64);
	assert_int_equal(2, map_chain(f->dma, sg, 1, 1, segs, 2,
						 &res));
	assert_int_equal(1, res.out_segs);
	memset(segs[0].base, 0xee, 64); /* the device scribbles on it */
	memcpy(segs[1].base, in, 64);
	ramdev_dma_unmap_chain(f->dma, segs, 1, 1, 40);
	assert_memory_equal(before, f->dev.mem, 64);
	assert_memory_equal(in, f->dev.mem + 0x1000, 40);
	assert_int_equal(40, f->dev.bytes_written);
	assert_pool_free(f->dma, 4096);
}

void test_as_translate_hint_stays_in_range(void **state)
{
	struct fx *f = *state;
	struct ramdev_as_hint hint = { .valid = false };
	struct ramdev_xlate x, y;

	ramdev_as_read_lock();
	assert_int_equal(0, ramdev_as_translate_hint(f->as, RAM_BASE + 8, 8,
						     &x, &hint));
	assert_true(hint.valid);
	/* A hit ends where the range ends, as the search does. */
	assert_int_equal(0, ramdev_as_translate_hint(f->as, RAMD_BASE - 16,
						     64, &x, &hint));
	assert_int_equal(0, ramdev_as_translate(f->as, RAMD_BASE - 16, 64, &y));
	assert_ptr_equal(y.region, x.region);
	assert_int_equal(y.kind, x.kind);
	assert_int_equal(y.offset, x.offset);
	assert_ptr_equal(y.host, x.host);
	assert_int_equal(y.len, x.len);
	assert_int_equal(16, x.len);
	/* Outside the range: another region, searched. */
	assert_int_equal(0, ramdev_as_translate_hint(f->as, RAMD_BASE, 64, &x,
						     &hint));
	assert_ptr_equal(f->ramd, x.region);
	assert_int_equal(RAMDEV_REGION_RAMD, x.kind);
	assert_ptr_equal(f->ramd_mem, x.host);
	/* A hole: -EFAULT as ramdev_as_translate, and the hint is gone. */
	assert_int_equal(-EFAULT, ramdev_as_translate_hint(f->as, HOLE_GPA, 8,
							   &x, &hint));
	assert_false(hint.valid);
	/* A wrapping range is refused, also inside the hinted range. */
	assert_int_equal(0, ramdev_as_translate_hint(f->as, RAM_BASE, 8, &x,
						     &hint));
	assert_int_equal(-EOVERFLOW,
			 ramdev_as_translate_hint(f->as, RAM_BASE + 8,
						  UINT64_MAX, &x, &hint));
	ramdev_as_read_unlock();
}

/*
 * An MMIO read that moves its own region (a BAR moved by a read with a side
 * effect: as.h allows region changes from callbacks) while a list is being
 * mapped: the bounce fill of the second piece runs it, and the third piece,
 * inside the range the hint holds, must be translated in the new view, where
 * nothing is there any more.  The hint used to answer from the old view.
 */
struct moving_bar {
	struct ramdev_region *root, *bar;
	int moved;
};

static int moving_bar_read(void *opaque, uint64_t off, unsigned size,
			   uint64_t *val)
{
	struct moving_bar *m = opaque;

	(void)size;
	*val = off;
	if (!m->moved++) {
		assert_int_equal(0, ramdev_region_del(m->root, m->bar));
		assert_int_equal(0, ramdev_region_add(m->root, 0x200000, m->bar,
						      0));
	}
	return 0;
}

static int moving_bar_write(void *opaque, uint64_t off, unsigned size,
			    uint64_t val)
{
	(void)opaque, (void)off, (void)size, (void)val;
	return 0;
}

void test_dma_map_sg_hint_sees_bar_moved_by_callback(void **state)
{
	static uint8_t mem[4096];
	struct moving_bar m = { 0 };
	struct ramdev_mmio_ops ops = {
		.read = moving_bar_read, .write = moving_bar_write,
		.valid = { 1, 8, false }, .impl = { 1, 8, false },
	};
	const struct ramdev_sg sg[] = {
		{ 0x10000, 16 }, { 0x100000, 8 }, { 0x100100, 8 },
	};
	struct ramdev_dma_seg segs[4];
	struct ramdev_region *ram;
	struct ramdev_as *as;
	struct ramdev_dma *dma;

	(void)state;
	assert_int_equal(0, ramdev_as_new(&as, "moving-bar"));
	m.root = ramdev_as_root(as);
	assert_int_equal(0, ramdev_region_new_ram(&ram, "ram", mem,
						  sizeof(mem)));
	assert_int_equal(0, ramdev_region_new_mmio(&m.bar, "bar", 4096, &ops,
						   &m));
	assert_int_equal(0, ramdev_region_add(m.root, 0x10000, ram, 0));
	assert_int_equal(0, ramdev_region_add(m.root, 0x100000, m.bar, 0));
	assert_int_equal(0, ramdev_dma_new(&dma, as, NULL));

	assert_int_equal(-EFAULT, ramdev_dma_map_sg(dma, sg, 3,
						    RAMDEV_DMA_TO_DEVICE,
						    segs, 4));
	assert_int_equal(1, m.moved);

	ramdev_dma_free(dma);
	ramdev_region_unref(ram);
	ramdev_region_unref(m.bar);
	ramdev_as_free(as);
}
