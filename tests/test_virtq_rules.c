// SPDX-License-Identifier: MIT
/*
 * Virtqueue validation rules (see test_virtq.h): each rule has its own
 * hand-built bad ring asserting the exact error.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "test_virtq.h"

/* ---- configuration rules ---- */

void test_new_size_not_power_of_two(void **state)
{
	struct fx *f = *state;

	f->cfg.size = 12;
	fx_queue(f);
	assert_broken(f, RAMDEV_VIRTQ_SIZE);
	assert_non_null(strstr(f->msg, "0xc"));
}

void test_new_desc_misaligned(void **state)
{
	struct fx *f = *state;

	f->cfg.desc = DESC_GPA + 8;
	fx_queue(f);
	assert_broken(f, RAMDEV_VIRTQ_ALIGN);
	assert_non_null(strstr(f->msg, "0x1008"));
}

void test_new_avail_misaligned(void **state)
{
	struct fx *f = *state;

	f->cfg.avail = AVAIL_GPA + 1;
	fx_queue(f);
	assert_broken(f, RAMDEV_VIRTQ_ALIGN);
}

void test_new_used_misaligned(void **state)
{
	struct fx *f = *state;

	f->cfg.used = USED_GPA + 2;
	fx_queue(f);
	assert_broken(f, RAMDEV_VIRTQ_ALIGN);
}

void test_new_ring_in_mmio(void **state)
{
	struct fx *f = *state;

	f->cfg.used = TEST_GUEST_MMIO_GPA;
	fx_queue(f);
	assert_broken(f, RAMDEV_VIRTQ_RING_UNMAPPED);
}

void test_new_ring_unassigned(void **state)
{
	struct fx *f = *state;

	f->cfg.desc = HOLE_GPA;
	fx_queue(f);
	assert_broken(f, RAMDEV_VIRTQ_RING_UNMAPPED);
}

void test_new_ring_crosses_region_end(void **state)
{
	struct fx *f = *state;

	f->cfg.avail = f->g->ram_size - 8; /* 6 + 2 * 16 bytes needed */
	fx_queue(f);
	assert_broken(f, RAMDEV_VIRTQ_RING_UNMAPPED);
}

void test_new_rings_in_ramd(void **state)
{
	struct fx *f = *state;

	f->cfg.desc = TEST_GUEST_RAMD_GPA;
	f->cfg.avail = TEST_GUEST_RAMD_GPA + 0x1000;
	f->cfg.used = TEST_GUEST_RAMD_GPA + 0x2000;
	fx_queue(f);
	assert_int_equal(RAMDEV_VIRTQ_OK, ramdev_virtq_error(f->vq));
}

void test_new_null(void **state)
{
	struct fx *f = *state;
	struct ramdev_virtq *vq;

	assert_int_equal(-EINVAL, ramdev_virtq_new(NULL, f->g->dma, &f->cfg));
	assert_int_equal(-EINVAL, ramdev_virtq_new(&vq, NULL, &f->cfg));
	assert_int_equal(-EINVAL, ramdev_virtq_new(&vq, f->g->dma, NULL));
}

/* ---- ring and chain rules ---- */

void test_pop_avail_idx_jump(void **state)
{
	struct fx *f = *state;

	vring_drv_set_avail_idx(f->drv, QSIZE + 1);
	assert_broken(f, RAMDEV_VIRTQ_AVAIL_IDX);
	assert_non_null(strstr(f->msg, "0x11"));
}

void test_pop_head_index(void **state)
{
	struct fx *f = *state;

	post(f, QSIZE);
	assert_broken(f, RAMDEV_VIRTQ_HEAD_INDEX);
	assert_non_null(strstr(f->msg, "0x10"));
}

void test_pop_next_index(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, QSIZE);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_NEXT_INDEX);
}

void test_pop_loop(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	vring_drv_set_desc(f->drv, 1, DATA_GPA, 16, VRING_DESC_F_NEXT, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_LOOP);
}

void test_pop_indirect_loop(void **state)
{
	struct fx *f = *state;

	vring_drv_write_desc_at(f->g->as, IND_GPA, 0, DATA_GPA, 8,
				VRING_DESC_F_NEXT, 1);
	vring_drv_write_desc_at(f->g->as, IND_GPA, 1, DATA_GPA, 8,
				VRING_DESC_F_NEXT, 0);
	vring_drv_set_desc(f->drv, 0, IND_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_LOOP);
}

void test_pop_indirect_next_index(void **state)
{
	struct fx *f = *state;

	vring_drv_write_desc_at(f->g->as, IND_GPA, 0, DATA_GPA, 8,
				VRING_DESC_F_NEXT, 2);
	vring_drv_set_desc(f->drv, 0, IND_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_NEXT_INDEX);
}

void test_pop_indirect_nested(void **state)
{
	struct fx *f = *state;

	vring_drv_write_desc_at(f->g->as, IND_GPA, 0, IND_GPA + 0x100, 16,
				VRING_DESC_F_INDIRECT, 0);
	vring_drv_set_desc(f->drv, 0, IND_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_INDIRECT_NESTED);
}

void test_pop_indirect_len_zero(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, IND_GPA, 0, VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_INDIRECT_LEN);
}

void test_pop_indirect_len_not_multiple(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, IND_GPA, 24, VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_INDIRECT_LEN);
	assert_non_null(strstr(f->msg, "0x18"));
}

void test_pop_indirect_len_too_many(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, IND_GPA, 65536u * 16u,
			   VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_INDIRECT_LEN);
}

void test_pop_indirect_with_next(void **state)
{
	struct fx *f = *state;

	vring_drv_write_desc_at(f->g->as, IND_GPA, 0, DATA_GPA, 8, 0, 0);
	vring_drv_set_desc(f->drv, 0, IND_GPA, 16,
			   VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	vring_drv_set_desc(f->drv, 1, DATA_GPA, 8, 0, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_INDIRECT_NEXT);
}

void test_pop_indirect_not_negotiated(void **state)
{
	struct fx *f = *state;

	vring_drv_write_desc_at(f->g->as, IND_GPA, 0, DATA_GPA, 8, 0, 0);
	vring_drv_set_desc(f->drv, 0, IND_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_INDIRECT_OFF);
}

void test_pop_indirect_table_unmapped(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, HOLE_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_UNMAPPED);
}

void test_pop_zero_len(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, DATA_GPA, 0, 0, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_ZERO_LEN);
}

void test_pop_order(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, DATA_GPA, 16,
			   VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	vring_drv_set_desc(f->drv, 1, DATA_GPA + 16, 16, 0, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_ORDER);
}

void test_pop_chain_too_long(void **state)
{
	struct fx *f = *state;

	/* 0x80000000 * 2 = 2^32 is allowed (2.7.5.2); one byte more is not. */
	vring_drv_set_desc(f->drv, 0, DATA_GPA, 0x80000000u, VRING_DESC_F_NEXT, 1);
	vring_drv_set_desc(f->drv, 1, DATA_GPA, 0x80000000u, VRING_DESC_F_NEXT, 2);
	vring_drv_set_desc(f->drv, 2, DATA_GPA, 1, 0, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_CHAIN_TOO_LONG);
	assert_non_null(strstr(f->msg, "0x100000001"));
}

void test_pop_addr_overflow(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, UINT64_C(0xffffffffffffff00), 0x101, 0, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_ADDR_OVERFLOW);
	assert_non_null(strstr(f->msg, "0xffffffffffffff00"));
}

void test_pop_unmapped(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	vring_drv_set_desc(f->drv, 1, HOLE_GPA, 16, VRING_DESC_F_WRITE, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_UNMAPPED);
	assert_non_null(strstr(f->msg, "0x30000000"));
}

void test_pop_unmapped_partly(void **state)
{
	struct fx *f = *state;

	/* Starts in RAM, runs off its end into the hole. */
	vring_drv_set_desc(f->drv, 0, f->g->ram_size - 8, 16, 0, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_UNMAPPED);
}

void test_pop_too_many_segs(void **state)
{
	struct fx *f = *state;

	f->cfg.max_segs = 2;
	fx_queue(f);
	vring_drv_set_desc(f->drv, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	vring_drv_set_desc(f->drv, 1, DATA_GPA + 16, 16, VRING_DESC_F_NEXT, 2);
	vring_drv_set_desc(f->drv, 2, DATA_GPA + 32, 16, 0, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_TOO_MANY_SEGS);
}

void test_pop_max_segs_exact(void **state)
{
	struct fx *f = *state;
	struct ramdev_virtq_elem *e;

	/* max_segs buffers are fine: the limit is inclusive. */
	f->cfg.max_segs = 2;
	fx_queue(f);
	vring_drv_set_desc(f->drv, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	vring_drv_set_desc(f->drv, 1, DATA_GPA + 16, 16, VRING_DESC_F_WRITE, 0);
	post(f, 0);
	assert_int_equal(1, ramdev_virtq_pop(f->vq, &e));
	assert_int_equal(1, e->out_num);
	assert_int_equal(1, e->in_num);
	assert_int_equal(0, ramdev_virtq_push(f->vq, e, 0));
}

void test_push_after_broken_frees(void **state)
{
	struct fx *f = *state;
	struct ramdev_virtq_elem *e;

	vring_drv_set_desc(f->drv, 0, DATA_GPA, 16, 0, 0);
	post(f, 0);
	assert_int_equal(1, ramdev_virtq_pop(f->vq, &e));
	post(f, QSIZE + 3); /* bad head */
	assert_broken(f, RAMDEV_VIRTQ_HEAD_INDEX);
	assert_int_equal(-EIO, ramdev_virtq_push(f->vq, e, 0)); /* freed */
	assert_int_equal(0, vring_drv_used_idx(f->drv));
}

void test_push_written_too_big(void **state)
{
	struct fx *f = *state;
	struct ramdev_virtq_elem *e;

	vring_drv_set_desc(f->drv, 0, DATA_GPA, 16, VRING_DESC_F_WRITE, 0);
	post(f, 0);
	assert_int_equal(1, ramdev_virtq_pop(f->vq, &e));
	assert_int_equal(-EINVAL, ramdev_virtq_push(f->vq, e, 17));
	assert_int_equal(0, ramdev_virtq_push(f->vq, e, 16));
}

void test_strerror_all(void **state)
{
	(void)state;
	for (int i = 0; i <= RAMDEV_VIRTQ_ERR_COUNT; i++)
		assert_non_null(ramdev_virtq_strerror(i));
}
