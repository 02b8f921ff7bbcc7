// SPDX-License-Identifier: MIT
/*
 * Unit tests of the split virtqueue (suite 'virtq'): the good paths over the
 * EVENT_IDX x INDIRECT matrix, notifications, the bounce pool, and main().
 * The validation rules are in test_virtq_rules.c, the fixture in
 * test_virtq_fixture.c (see test_virtq.h).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "test_virtq.h"

/* ---- good paths (feature matrix) ---- */

static void test_pop_empty(void **state)
{
	struct fx *f = *state;
	struct ramdev_virtq_elem *e = NULL;

	assert_int_equal(0, ramdev_virtq_pop(f->vq, &e));
	assert_null(e);
	assert_int_equal(RAMDEV_VIRTQ_OK, ramdev_virtq_error(f->vq));
}

static void test_pop_good_chain(void **state)
{
	struct fx *f = *state;
	struct vring_drv_buf out[2] = { { DATA_GPA, 100 }, { DATA_GPA + 0x1000, 28 } };
	struct vring_drv_buf in[1] = { { DATA_GPA + 0x2000, 512 } };
	struct ramdev_virtq_elem *e;
	uint8_t *ram = f->g->ram_host;
	uint16_t id;
	uint32_t len;
	int head;

	memset(ram + DATA_GPA, 0xab, 100);
	head = add(f, out, 2, in, 1);
	assert_true(head >= 0);
	vring_drv_publish(f->drv);
	assert_int_equal(1, ramdev_virtq_pop(f->vq, &e));
	assert_int_equal(head, e->head);
	assert_int_equal(2, e->out_num);
	assert_int_equal(1, e->in_num);
	assert_int_equal(128, e->out_len);
	assert_int_equal(512, e->in_len);
	assert_ptr_equal(ram + DATA_GPA, e->segs[0].base);
	assert_int_equal(100, e->segs[0].len);
	assert_int_equal(RAMDEV_SEG_RAM, e->segs[0].kind);
	assert_ptr_equal(ram + DATA_GPA + 0x2000, e->segs[2].base);
	assert_int_equal(1, ramdev_virtq_inflight(f->vq));
	assert_int_equal(1, ramdev_virtq_last_avail(f->vq));
	assert_int_equal(0, ramdev_dma_seg_write(&e->segs[2], 0, "hello", 5));
	assert_int_equal(0, ramdev_virtq_push(f->vq, e, 5));
	assert_int_equal(0, ramdev_virtq_inflight(f->vq));
	/* used ring contents (2.7.8): {id, len} then idx. */
	assert_int_equal(1, vring_drv_used_idx(f->drv));
	assert_int_equal(1, vring_drv_get_used(f->drv, &id, &len));
	assert_int_equal(head, id);
	assert_int_equal(5, len);
	assert_memory_equal("hello", ram + DATA_GPA + 0x2000, 5);
	assert_int_equal(0, ramdev_virtq_pop(f->vq, &e));
}

static void test_pop_mixed_kinds(void **state)
{
	struct fx *f = *state;
	struct vring_drv_buf out[1] = { { DATA_GPA, 64 } };
	struct vring_drv_buf in[2] = { { TEST_GUEST_RAMD_GPA + 0x100, 64 },
				       { DATA_GPA + 0x1000, 8 } };
	struct ramdev_virtq_elem *e;
	uint8_t buf[64];

	memset(f->g->ram_host + DATA_GPA, 0x5a, 64);
	assert_true(add(f, out, 1, in, 2) >= 0);
	vring_drv_publish(f->drv);
	assert_int_equal(1, ramdev_virtq_pop(f->vq, &e));
	assert_int_equal(1, e->out_num);
	assert_int_equal(2, e->in_num);
	assert_int_equal(RAMDEV_SEG_RAM, e->segs[0].kind);
	assert_int_equal(RAMDEV_SEG_DEV, e->segs[1].kind);
	assert_ptr_equal(f->g->ramd_host + 0x100, e->segs[1].base);
	assert_int_equal(RAMDEV_SEG_RAM, e->segs[2].kind);
	assert_int_equal(0, ramdev_dma_seg_read(&e->segs[0], 0, buf, 64));
	assert_int_equal(0, ramdev_dma_seg_write(&e->segs[1], 0, buf, 64));
	assert_int_equal(0, ramdev_virtq_push(f->vq, e, 64));
	assert_memory_equal(f->g->ramd_host + 0x100, buf, 64);
}

static void test_pop_direct_then_indirect(void **state)
{
	struct fx *f = *state;
	struct ramdev_virtq_elem *e;

	/* 2.7.5.3.2: chained descriptors followed by one indirect. */
	vring_drv_write_desc_at(f->g->as, IND_GPA, 0, DATA_GPA + 0x100, 32,
				VRING_DESC_F_NEXT, 1);
	vring_drv_write_desc_at(f->g->as, IND_GPA, 1, DATA_GPA + 0x200, 64,
				VRING_DESC_F_WRITE, 0);
	vring_drv_set_desc(f->drv, 3, DATA_GPA, 16, VRING_DESC_F_NEXT, 5);
	vring_drv_set_desc(f->drv, 5, IND_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	post(f, 3);
	assert_int_equal(1, ramdev_virtq_pop(f->vq, &e));
	assert_int_equal(3, e->head);
	assert_int_equal(2, e->out_num);
	assert_int_equal(1, e->in_num);
	assert_int_equal(48, e->out_len);
	assert_int_equal(64, e->in_len);
	assert_int_equal(0, ramdev_virtq_push(f->vq, e, 0));
}

static void test_pop_indirect_table_in_mmio_and_ramd(void **state)
{
	struct fx *f = *state;
	const uint64_t tables[2] = { TEST_GUEST_MMIO_GPA + 0x200,
				     TEST_GUEST_RAMD_GPA + 0x808 };
	struct ramdev_virtq_elem *e;

	/* An indirect table is an ordinary buffer: any region, any 8-byte
	 * misalignment (here 0x808), read through the DMA layer. */
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(0, vring_drv_write_desc_at(f->g->as, tables[i], 0,
							    DATA_GPA, 24,
							    VRING_DESC_F_NEXT, 1));
		assert_int_equal(0, vring_drv_write_desc_at(f->g->as, tables[i], 1,
							    DATA_GPA + 0x40, 40,
							    VRING_DESC_F_WRITE, 0));
		vring_drv_set_desc(f->drv, (uint16_t)i, tables[i], 32,
				   VRING_DESC_F_INDIRECT, 0);
		post(f, (uint16_t)i);
		assert_int_equal(1, ramdev_virtq_pop(f->vq, &e));
		assert_int_equal(24, e->out_len);
		assert_int_equal(40, e->in_len);
		assert_int_equal(0, ramdev_virtq_push(f->vq, e, 40));
	}
	assert_int_equal(2, vring_drv_used_idx(f->drv));
}

static void test_pop_rings_in_ramd(void **state)
{
	struct fx *f = *state;
	struct vring_drv_config dc = {
		.size = QSIZE, .desc = TEST_GUEST_RAMD_GPA,
		.avail = TEST_GUEST_RAMD_GPA + 0x1000,
		.used = TEST_GUEST_RAMD_GPA + 0x2000,
		.event_idx = f->features & F_EVENT_IDX,
		.indirect_gpa = TEST_GUEST_RAMD_GPA + 0x10000,
		.indirect_max = IND_MAX,
	};
	struct vring_drv_buf out = { DATA_GPA, 16 };
	struct vring_drv_buf in = { TEST_GUEST_RAMD_GPA + 0x8000, 16 };
	struct ramdev_virtq_elem *e;
	uint16_t id;
	uint32_t len;

	vring_drv_free(f->drv);
	assert_int_equal(0, vring_drv_new(&f->drv, f->g->as, &dc));
	f->cfg.desc = dc.desc;
	f->cfg.avail = dc.avail;
	f->cfg.used = dc.used;
	fx_queue(f);
	for (unsigned i = 0; i < 3 * QSIZE; i++) {
		assert_true(add(f, &out, 1, &in, 1) >= 0);
		vring_drv_publish(f->drv);
		assert_int_equal(1, ramdev_virtq_pop(f->vq, &e));
		assert_int_equal(RAMDEV_SEG_DEV, e->segs[1].kind);
		assert_int_equal(0, ramdev_virtq_push(f->vq, e, i % 17));
		assert_int_equal(1, vring_drv_get_used(f->drv, &id, &len));
		assert_int_equal(i % 17, len);
	}
}

static void test_pop_chain_exactly_4g(void **state)
{
	struct fx *f = *state;
	struct ramdev_virtq_elem *e = NULL;

	/* 2^32 bytes in total passes the length rule; the buffers are not
	 * in guest memory, so the mapping step reports them. */
	vring_drv_set_desc(f->drv, 0, HOLE_GPA, 0x80000000u, VRING_DESC_F_NEXT, 1);
	vring_drv_set_desc(f->drv, 1, HOLE_GPA, 0x80000000u, 0, 0);
	post(f, 0);
	assert_int_equal(-EIO, ramdev_virtq_pop(f->vq, &e));
	assert_int_equal(RAMDEV_VIRTQ_UNMAPPED, ramdev_virtq_error(f->vq));
}

static void test_pop_wraps(void **state)
{
	struct fx *f = *state;
	struct ramdev_virtq_elem *e[4];
	uint16_t id;
	uint32_t len;

	/* 5 * QSIZE chains, 4 at a time: indices and slots wrap. */
	for (unsigned round = 0; round < 5 * QSIZE / 4; round++) {
		for (unsigned i = 0; i < 4; i++) {
			struct vring_drv_buf out = { DATA_GPA + 0x100 * i, 16 };
			struct vring_drv_buf in = { DATA_GPA + 0x100 * i + 64, 16 };

			assert_true(add(f, &out, 1, &in, 1) >= 0);
		}
		vring_drv_publish(f->drv);
		for (unsigned i = 0; i < 4; i++)
			assert_int_equal(1, ramdev_virtq_pop(f->vq, &e[i]));
		assert_int_equal(0, ramdev_virtq_pop(f->vq, &e[0]));
		for (unsigned i = 0; i < 4; i++)
			assert_int_equal(0, ramdev_virtq_push(f->vq, e[3 - i], i));
		for (unsigned i = 0; i < 4; i++) {
			assert_int_equal(1, vring_drv_get_used(f->drv, &id, &len));
			assert_int_equal(i, len);
		}
	}
	assert_int_equal(5 * QSIZE, ramdev_virtq_last_avail(f->vq));
	assert_int_equal(QSIZE, vring_drv_num_free(f->drv));
}

static void test_pop_full_ring(void **state)
{
	struct fx *f = *state;
	struct ramdev_virtq_elem *e[QSIZE];
	struct vring_drv_buf in = { DATA_GPA, 32 };

	for (unsigned i = 0; i < QSIZE; i++)
		assert_true(add(f, NULL, 0, &in, 1) >= 0);
	vring_drv_publish(f->drv);
	for (unsigned i = 0; i < QSIZE; i++)
		assert_int_equal(1, ramdev_virtq_pop(f->vq, &e[i]));
	assert_int_equal(QSIZE, ramdev_virtq_inflight(f->vq));
	for (unsigned i = 0; i < QSIZE; i++)
		assert_int_equal(0, ramdev_virtq_push(f->vq, e[i], 32));
	assert_int_equal(QSIZE, vring_drv_used_idx(f->drv));
}

static void test_set_last_avail(void **state)
{
	struct fx *f = *state;
	struct ramdev_virtq_elem *e;
	struct vring_drv_buf in = { DATA_GPA, 32 };

	assert_true(add(f, NULL, 0, &in, 1) >= 0);
	assert_true(add(f, NULL, 0, &in, 1) >= 0);
	vring_drv_publish(f->drv);
	ramdev_virtq_set_last_avail(f->vq, 1);
	assert_int_equal(1, ramdev_virtq_last_avail(f->vq));
	assert_int_equal(1, ramdev_virtq_pop(f->vq, &e));
	assert_int_equal(1, e->head);
	assert_int_equal(0, ramdev_virtq_push(f->vq, e, 0));
	assert_int_equal(0, ramdev_virtq_pop(f->vq, &e));
}

/* ---- notifications (2.7.7, 2.7.10) ---- */

static void test_should_notify(void **state)
{
	struct fx *f = *state;

	/* Nothing pushed: no notification. */
	assert_false(ramdev_virtq_should_notify(f->vq));
	if (!(f->features & F_EVENT_IDX)) {
		/* flags 0: MUST notify; flags 1: SHOULD NOT (2.7.7.2). */
		push_one(f);
		assert_true(ramdev_virtq_should_notify(f->vq));
		assert_false(ramdev_virtq_should_notify(f->vq));
		vring_drv_set_avail_flags(f->drv, VRING_AVAIL_F_NO_INTERRUPT);
		push_one(f);
		assert_false(ramdev_virtq_should_notify(f->vq));
		/* used_event is ignored without EVENT_IDX. */
		vring_drv_set_avail_flags(f->drv, 0);
		vring_drv_set_used_event(f->drv, 100);
		push_one(f);
		assert_true(ramdev_virtq_should_notify(f->vq));
		return;
	}
	/* EVENT_IDX: notify iff the used idx that placed the element equals
	 * used_event, i.e. used_event in [old, new); flags ignored. */
	vring_drv_set_avail_flags(f->drv, VRING_AVAIL_F_NO_INTERRUPT);
	vring_drv_set_used_event(f->drv, 0);
	push_one(f); /* placed at 0 */
	assert_true(ramdev_virtq_should_notify(f->vq));
	push_one(f); /* placed at 1, event 0 */
	assert_false(ramdev_virtq_should_notify(f->vq));
	vring_drv_set_used_event(f->drv, 3);
	push_one(f); /* at 2 */
	assert_false(ramdev_virtq_should_notify(f->vq));
	push_one(f); /* at 3 */
	assert_true(ramdev_virtq_should_notify(f->vq));
	/* Two pushes between calls, event on the first of them. */
	vring_drv_set_used_event(f->drv, 4);
	push_one(f); /* at 4 */
	push_one(f); /* at 5 */
	assert_true(ramdev_virtq_should_notify(f->vq));
	/* Wrap: event 0xffff reached after 0x10000 - 6 more pushes. */
	vring_drv_set_used_event(f->drv, 0xffff);
	for (unsigned i = 6; i < 0xffff; i++) {
		push_one(f);
		if (i % 4096 == 0)
			assert_false(ramdev_virtq_should_notify(f->vq));
	}
	assert_false(ramdev_virtq_should_notify(f->vq));
	push_one(f); /* at 0xffff */
	assert_true(ramdev_virtq_should_notify(f->vq));
	push_one(f); /* at 0 */
	assert_false(ramdev_virtq_should_notify(f->vq));
}

static void test_set_notify(void **state)
{
	struct fx *f = *state;
	struct vring_drv_buf in = { DATA_GPA, 32 };
	struct ramdev_virtq_elem *e;

	/* Off: the driver sees it and does not kick. */
	assert_false(ramdev_virtq_set_notify(f->vq, false));
	if (!(f->features & F_EVENT_IDX))
		assert_int_equal(VRING_USED_F_NO_NOTIFY,
				 vring_drv_used_flags(f->drv));
	assert_true(add(f, NULL, 0, &in, 1) >= 0);
	if (!(f->features & F_EVENT_IDX))
		assert_false(vring_drv_publish(f->drv));
	else
		vring_drv_publish(f->drv); /* event 0 was reached: stale */
	/* On with a buffer pending: returns true (re-check before sleep). */
	assert_true(ramdev_virtq_set_notify(f->vq, true));
	if (f->features & F_EVENT_IDX)
		assert_int_equal(1, vring_drv_avail_event(f->drv));
	else
		assert_int_equal(0, vring_drv_used_flags(f->drv));
	assert_int_equal(1, ramdev_virtq_pop(f->vq, &e));
	assert_int_equal(0, ramdev_virtq_push(f->vq, e, 0));
	assert_false(ramdev_virtq_set_notify(f->vq, true));
	/* On: the next publish asks for a kick. */
	assert_true(add(f, NULL, 0, &in, 1) >= 0);
	assert_true(vring_drv_publish(f->drv));
	assert_int_equal(1, ramdev_virtq_pop(f->vq, &e));
	if (f->features & F_EVENT_IDX) /* pop moved avail_event along */
		assert_int_equal(2, vring_drv_avail_event(f->drv));
	assert_int_equal(0, ramdev_virtq_push(f->vq, e, 0));
	assert_true(add(f, NULL, 0, &in, 1) >= 0);
	assert_true(vring_drv_publish(f->drv));
}

/* ---- bounce pool ---- */

/*
 * A tiny pool held by the first element: the second is not made to wait
 * (DESIGN.md section 3: a valid request never stalls for bounce space); its
 * MMIO buffer comes back unmapped and is read through the callbacks.
 */
static void test_pop_pool_busy_maps_mmio_indirect(void **state)
{
	struct fx *f = *state;
	struct vring_drv_buf a = { TEST_GUEST_MMIO_GPA, 48 };
	struct vring_drv_buf b = { TEST_GUEST_MMIO_GPA + 0x100, 32 };
	struct ramdev_virtq_elem *ea, *eb = NULL;
	uint8_t buf[32];

	memset(f->g->mmio_mem + 0x100, 0x77, 32);
	assert_true(add(f, &a, 1, NULL, 0) >= 0);
	assert_true(add(f, &b, 1, NULL, 0) >= 0);
	vring_drv_publish(f->drv);
	assert_int_equal(1, ramdev_virtq_pop(f->vq, &ea)); /* holds the pool */
	assert_int_equal(RAMDEV_SEG_RAM, ea->segs[0].kind); /* bounced */
	assert_int_equal(1, ramdev_virtq_pop(f->vq, &eb));
	assert_int_equal(32, eb->out_len);
	assert_int_equal(RAMDEV_SEG_MMIO, eb->segs[0].kind);
	assert_int_equal(0, ramdev_dma_seg_read(&eb->segs[0], 0, buf, 32));
	assert_int_equal(0x77, buf[0]);
	assert_int_equal(0x77, buf[31]);
	assert_int_equal(0, ramdev_virtq_push(f->vq, eb, 0));
	assert_int_equal(0, ramdev_virtq_push(f->vq, ea, 0));
	assert_int_equal(RAMDEV_VIRTQ_OK, ramdev_virtq_error(f->vq));
	assert_int_equal(0, f->nmsg);
}

static void test_pop_qemu_bounce_enobufs(void **state)
{
	struct fx *f = *state;
	struct vring_drv_buf a = { TEST_GUEST_RAMD_GPA, 64 };
	struct vring_drv_buf b = { TEST_GUEST_RAMD_GPA + 0x1000, 64 };
	struct ramdev_virtq_elem *ea, *eb = NULL;

	assert_true(add(f, NULL, 0, &a, 1) >= 0);
	assert_true(add(f, NULL, 0, &b, 1) >= 0);
	vring_drv_publish(f->drv);
	assert_int_equal(1, ramdev_virtq_pop(f->vq, &ea));
	assert_int_equal(RAMDEV_SEG_RAM, ea->segs[0].kind); /* bounced */
	assert_int_equal(-ENOBUFS, ramdev_virtq_pop(f->vq, &eb));
	assert_string_equal("virtio: bogus descriptor or out of resources",
			    f->msg);
	assert_int_equal(RAMDEV_VIRTQ_UNMAPPED, ramdev_virtq_error(f->vq));
	assert_int_equal(-EIO, ramdev_virtq_pop(f->vq, &eb));
	assert_int_equal(-EIO, ramdev_virtq_push(f->vq, ea, 0));
}

#define T(fn, setup) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define MATRIX(fn) T(fn, setup_plain), T(fn, setup_ev), T(fn, setup_ind), \
		   T(fn, setup_both)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_new_size_not_power_of_two, setup_plain),
		T(test_new_size_zero, setup_plain),
		T(test_new_size_max, setup_plain),
		T(test_new_max_segs_too_big, setup_plain),
		T(test_new_desc_misaligned, setup_plain),
		T(test_new_avail_misaligned, setup_plain),
		T(test_new_used_misaligned, setup_plain),
		T(test_new_ring_in_mmio, setup_plain),
		T(test_new_ring_unassigned, setup_plain),
		T(test_new_ring_crosses_region_end, setup_plain),
		T(test_new_rings_in_ramd, setup_plain),
		T(test_new_null, setup_plain),
		T(test_pop_avail_idx_jump, setup_plain),
		T(test_pop_head_index, setup_plain),
		T(test_pop_next_index, setup_plain),
		T(test_pop_loop, setup_plain),
		T(test_pop_indirect_loop, setup_ind),
		T(test_pop_indirect_next_index, setup_ind),
		T(test_pop_indirect_nested, setup_ind),
		T(test_pop_indirect_len_zero, setup_ind),
		T(test_pop_indirect_len_not_multiple, setup_ind),
		T(test_pop_indirect_len_too_many, setup_ind),
		T(test_pop_indirect_with_next, setup_ind),
		T(test_pop_indirect_not_negotiated, setup_plain),
		T(test_pop_indirect_table_unmapped, setup_ind),
		T(test_pop_zero_len, setup_plain),
		T(test_pop_order, setup_plain),
		T(test_pop_chain_too_long, setup_plain),
		T(test_pop_chain_exactly_4g, setup_plain),
		T(test_pop_addr_overflow, setup_plain),
		T(test_pop_unmapped, setup_plain),
		T(test_pop_unmapped_partly, setup_plain),
		T(test_pop_too_many_segs, setup_plain),
		T(test_pop_max_segs_exact, setup_plain),
		T(test_push_after_broken_frees, setup_plain),
		T(test_push_written_too_big, setup_plain),
		T(test_strerror_all, setup_plain),
		MATRIX(test_push_marks_dirty),
		T(test_push_marks_dirty_elem_page, setup_plain),
		T(test_set_notify_marks_dirty, setup_plain),
		T(test_set_notify_marks_dirty, setup_ev),
		T(test_push_after_broken_marks_dirty, setup_plain),
		T(test_push_used_idx, setup_plain),
		T(test_pop_inflight_ge_size, setup_plain),
		T(test_pop_indirect_table_overflow, setup_ind),
		T(test_set_log_pair, setup_plain),
		T(test_getters_null, setup_plain),
		MATRIX(test_pop_empty),
		MATRIX(test_pop_good_chain),
		MATRIX(test_pop_mixed_kinds),
		T(test_pop_direct_then_indirect, setup_ind),
		T(test_pop_direct_then_indirect, setup_both),
		MATRIX(test_pop_wraps),
		MATRIX(test_pop_rings_in_ramd),
		T(test_pop_indirect_table_in_mmio_and_ramd, setup_ind),
		MATRIX(test_pop_full_ring),
		MATRIX(test_set_last_avail),
		MATRIX(test_should_notify),
		MATRIX(test_set_notify),
		T(test_pop_pool_busy_maps_mmio_indirect, setup_tiny_bounce),
		T(test_pop_qemu_bounce_enobufs, setup_qemu_bounce),
	};

	return cmocka_run_group_tests_name("virtq", tests, NULL, NULL);
}
