/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue tests (suite 'virtq'), one executable from several files:
 *   test_virtq.c          good paths over the EVENT_IDX x INDIRECT matrix,
 *                         notifications, the bounce pool; main()
 *   test_virtq_rules.c    configuration rules and ring/chain rules: each
 *                         validation rule has its own hand-built bad ring
 *                         asserting the exact error
 *   test_virtq_more.c     the dirty log, USED_IDX, in-flight and indirect
 *                         overflow rules, size and max_segs bounds, the log
 *                         callback pair
 *   test_virtq_fixture.c  the fixture below and shared helpers
 *
 * A test guest (RAM, a RAMD "BAR", an MMIO window) and the guest-side driver
 * build real rings.
 */
#ifndef RAMDEV_TEST_VIRTQ_H
#define RAMDEV_TEST_VIRTQ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>
#include <cmocka.h>

#include "ramdev/virtq.h"
#include "test_guest.h"
#include "vring_driver.h"

#define QSIZE 16u
#define DESC_GPA UINT64_C(0x1000)
#define AVAIL_GPA UINT64_C(0x2000)
#define USED_GPA UINT64_C(0x3000)
#define IND_GPA UINT64_C(0x10000) /* QSIZE tables of IND_MAX entries */
#define IND_MAX 64u
#define DATA_GPA UINT64_C(0x100000)
#define HOLE_GPA UINT64_C(0x30000000) /* unassigned */

enum { F_EVENT_IDX = 1, F_INDIRECT = 2 };

struct fx {
	struct test_guest *g;
	struct vring_drv *drv;
	struct ramdev_virtq *vq;
	struct ramdev_virtq_config cfg;
	unsigned features;
	unsigned nmsg;
	char msg[256];
};

/* test_virtq_fixture.c */
/* (Re)create the queue from f->cfg. */
void fx_queue(struct fx *f);
int setup_plain(void **state);
int setup_ev(void **state);
int setup_ind(void **state);
int setup_both(void **state);
int setup_tiny_bounce(void **state);
int setup_qemu_bounce(void **state);
int teardown(void **state);
/* Assert the queue broke with @err, and stays broken. */
void assert_broken(struct fx *f, enum ramdev_virtq_err err);
/* Publish one hand-built chain starting at descriptor @head. */
void post(struct fx *f, uint16_t head);
/* Add a chain the way the negotiated features allow. */
int add(struct fx *f, const struct vring_drv_buf *out, unsigned nout,
	const struct vring_drv_buf *in, unsigned nin);
/* One writable buffer through the ring: add, publish, pop, push, reap. */
void push_one(struct fx *f);

/* test_virtq_rules.c */
void test_new_size_not_power_of_two(void **state);
void test_new_desc_misaligned(void **state);
void test_new_avail_misaligned(void **state);
void test_new_used_misaligned(void **state);
void test_new_ring_in_mmio(void **state);
void test_new_ring_unassigned(void **state);
void test_new_ring_crosses_region_end(void **state);
void test_new_rings_in_ramd(void **state);
void test_new_null(void **state);
void test_pop_avail_idx_jump(void **state);
void test_pop_head_index(void **state);
void test_pop_next_index(void **state);
void test_pop_loop(void **state);
void test_pop_indirect_loop(void **state);
void test_pop_indirect_next_index(void **state);
void test_pop_indirect_nested(void **state);
void test_pop_indirect_len_zero(void **state);
void test_pop_indirect_len_not_multiple(void **state);
void test_pop_indirect_len_too_many(void **state);
void test_pop_indirect_with_next(void **state);
void test_pop_indirect_not_negotiated(void **state);
void test_pop_indirect_table_unmapped(void **state);
void test_pop_zero_len(void **state);
void test_pop_order(void **state);
void test_pop_chain_too_long(void **state);
void test_pop_addr_overflow(void **state);
void test_pop_unmapped(void **state);
void test_pop_unmapped_partly(void **state);
void test_pop_too_many_segs(void **state);
void test_pop_max_segs_exact(void **state);
void test_push_after_broken_frees(void **state);
void test_push_written_too_big(void **state);
void test_strerror_all(void **state);

/* test_virtq_more.c */
void test_push_marks_dirty(void **state);
void test_push_marks_dirty_elem_page(void **state);
void test_set_notify_marks_dirty(void **state);
void test_push_after_broken_marks_dirty(void **state);
void test_push_used_idx(void **state);
void test_pop_inflight_ge_size(void **state);
void test_pop_indirect_table_overflow(void **state);
void test_new_max_segs_too_big(void **state);
void test_new_size_zero(void **state);
void test_new_size_max(void **state);
void test_set_log_pair(void **state);
void test_getters_null(void **state);

#endif /* RAMDEV_TEST_VIRTQ_H */
