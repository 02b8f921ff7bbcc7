// SPDX-License-Identifier: MIT
/*
 * Unit tests of the split virtqueue (suite 'virtq').  A test guest (RAM, a
 * RAMD "BAR", an MMIO window) and the guest-side driver build real rings;
 * each validation rule has its own hand-built bad ring asserting the exact
 * error, and the good-path tests run over the EVENT_IDX x INDIRECT matrix.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void log_cb(void *opaque, int level, const char *msg)
{
	struct fx *f = opaque;

	(void)level;
	f->nmsg++;
	snprintf(f->msg, sizeof(f->msg), "%s", msg);
}

/* (Re)create the queue from f->cfg. */
static void fx_queue(struct fx *f)
{
	ramdev_virtq_free(f->vq);
	f->vq = NULL;
	assert_int_equal(0, ramdev_virtq_new(&f->vq, f->g->dma, &f->cfg));
	ramdev_virtq_set_log(f->vq, log_cb, f);
}

static int fx_setup(void **state, unsigned features,
		    const struct test_guest_config *gc)
{
	struct vring_drv_config dc = {
		.size = QSIZE, .desc = DESC_GPA, .avail = AVAIL_GPA,
		.used = USED_GPA, .event_idx = features & F_EVENT_IDX,
		.indirect_gpa = IND_GPA, .indirect_max = IND_MAX,
	};
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || test_guest_new(&f->g, gc) != 0 ||
	    vring_drv_new(&f->drv, f->g->as, &dc) != 0)
		return -1;
	f->features = features;
	f->cfg = (struct ramdev_virtq_config){
		.size = QSIZE, .desc = DESC_GPA, .avail = AVAIL_GPA,
		.used = USED_GPA, .event_idx = features & F_EVENT_IDX,
		.indirect = features & F_INDIRECT,
	};
	if (ramdev_virtq_new(&f->vq, f->g->dma, &f->cfg) != 0)
		return -1;
	ramdev_virtq_set_log(f->vq, log_cb, f);
	*state = f;
	return 0;
}

static int setup_plain(void **state) { return fx_setup(state, 0, NULL); }
static int setup_ev(void **state) { return fx_setup(state, F_EVENT_IDX, NULL); }
static int setup_ind(void **state) { return fx_setup(state, F_INDIRECT, NULL); }
static int setup_both(void **state)
{
	return fx_setup(state, F_EVENT_IDX | F_INDIRECT, NULL);
}

static int setup_tiny_bounce(void **state)
{
	struct test_guest_config gc = { .bounce_size = 64 };

	return fx_setup(state, F_INDIRECT, &gc);
}

static int setup_qemu_bounce(void **state)
{
	struct test_guest_config gc = { .policy = RAMDEV_DMA_QEMU_BOUNCE };

	return fx_setup(state, 0, &gc);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ramdev_virtq_free(f->vq);
	vring_drv_free(f->drv);
	test_guest_free(f->g);
	free(f);
	return 0;
}

/* Assert the queue broke with @err, and stays broken. */
static void assert_broken(struct fx *f, enum ramdev_virtq_err err)
{
	struct ramdev_virtq_elem *e = NULL;

	assert_int_equal(-EIO, ramdev_virtq_pop(f->vq, &e));
	assert_int_equal(err, ramdev_virtq_error(f->vq));
	assert_int_equal(1, f->nmsg);
	assert_non_null(strstr(f->msg, ramdev_virtq_strerror(err)));
	assert_int_equal(-EIO, ramdev_virtq_pop(f->vq, &e));
	assert_null(e);
	assert_false(ramdev_virtq_should_notify(f->vq));
	assert_int_equal(1, f->nmsg);
}

/* Publish one hand-built chain starting at descriptor @head. */
static void post(struct fx *f, uint16_t head)
{
	vring_drv_post_head(f->drv, head);
	vring_drv_publish(f->drv);
}

/* ---- configuration rules ---- */

static void test_new_size_not_power_of_two(void **state)
{
	struct fx *f = *state;

	f->cfg.size = 12;
	fx_queue(f);
	assert_broken(f, RAMDEV_VIRTQ_SIZE);
	assert_non_null(strstr(f->msg, "0xc"));
}

static void test_new_size_too_big(void **state)
{
	struct fx *f = *state;

	f->cfg.size = 0; /* 0: not ready; 65536 does not fit the u16 */
	fx_queue(f);
	assert_broken(f, RAMDEV_VIRTQ_NOT_READY);
}

static void test_new_desc_misaligned(void **state)
{
	struct fx *f = *state;

	f->cfg.desc = DESC_GPA + 8;
	fx_queue(f);
	assert_broken(f, RAMDEV_VIRTQ_ALIGN);
	assert_non_null(strstr(f->msg, "0x1008"));
}

static void test_new_avail_misaligned(void **state)
{
	struct fx *f = *state;

	f->cfg.avail = AVAIL_GPA + 1;
	fx_queue(f);
	assert_broken(f, RAMDEV_VIRTQ_ALIGN);
}

static void test_new_used_misaligned(void **state)
{
	struct fx *f = *state;

	f->cfg.used = USED_GPA + 2;
	fx_queue(f);
	assert_broken(f, RAMDEV_VIRTQ_ALIGN);
}

static void test_new_ring_in_mmio(void **state)
{
	struct fx *f = *state;

	f->cfg.used = TEST_GUEST_MMIO_GPA;
	fx_queue(f);
	assert_broken(f, RAMDEV_VIRTQ_RING_UNMAPPED);
}

static void test_new_ring_unassigned(void **state)
{
	struct fx *f = *state;

	f->cfg.desc = HOLE_GPA;
	fx_queue(f);
	assert_broken(f, RAMDEV_VIRTQ_RING_UNMAPPED);
}

static void test_new_ring_crosses_region_end(void **state)
{
	struct fx *f = *state;

	f->cfg.avail = f->g->ram_size - 8; /* 6 + 2 * 16 bytes needed */
	fx_queue(f);
	assert_broken(f, RAMDEV_VIRTQ_RING_UNMAPPED);
}

static void test_new_rings_in_ramd(void **state)
{
	struct fx *f = *state;

	f->cfg.desc = TEST_GUEST_RAMD_GPA;
	f->cfg.avail = TEST_GUEST_RAMD_GPA + 0x1000;
	f->cfg.used = TEST_GUEST_RAMD_GPA + 0x2000;
	fx_queue(f);
	assert_int_equal(RAMDEV_VIRTQ_OK, ramdev_virtq_error(f->vq));
}

static void test_new_null(void **state)
{
	struct fx *f = *state;
	struct ramdev_virtq *vq;

	assert_int_equal(-EINVAL, ramdev_virtq_new(NULL, f->g->dma, &f->cfg));
	assert_int_equal(-EINVAL, ramdev_virtq_new(&vq, NULL, &f->cfg));
	assert_int_equal(-EINVAL, ramdev_virtq_new(&vq, f->g->dma, NULL));
}

/* ---- ring and chain rules ---- */

static void test_pop_avail_idx_jump(void **state)
{
	struct fx *f = *state;

	vring_drv_set_avail_idx(f->drv, QSIZE + 1);
	assert_broken(f, RAMDEV_VIRTQ_AVAIL_IDX);
	assert_non_null(strstr(f->msg, "0x11"));
}

static void test_pop_head_index(void **state)
{
	struct fx *f = *state;

	post(f, QSIZE);
	assert_broken(f, RAMDEV_VIRTQ_HEAD_INDEX);
	assert_non_null(strstr(f->msg, "0x10"));
}

static void test_pop_next_index(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, QSIZE);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_NEXT_INDEX);
}

static void test_pop_loop(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	vring_drv_set_desc(f->drv, 1, DATA_GPA, 16, VRING_DESC_F_NEXT, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_LOOP);
}

static void test_pop_indirect_loop(void **state)
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

static void test_pop_indirect_next_index(void **state)
{
	struct fx *f = *state;

	vring_drv_write_desc_at(f->g->as, IND_GPA, 0, DATA_GPA, 8,
				VRING_DESC_F_NEXT, 2);
	vring_drv_set_desc(f->drv, 0, IND_GPA, 32, VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_NEXT_INDEX);
}

static void test_pop_indirect_nested(void **state)
{
	struct fx *f = *state;

	vring_drv_write_desc_at(f->g->as, IND_GPA, 0, IND_GPA + 0x100, 16,
				VRING_DESC_F_INDIRECT, 0);
	vring_drv_set_desc(f->drv, 0, IND_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_INDIRECT_NESTED);
}

static void test_pop_indirect_len_zero(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, IND_GPA, 0, VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_INDIRECT_LEN);
}

static void test_pop_indirect_len_not_multiple(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, IND_GPA, 24, VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_INDIRECT_LEN);
	assert_non_null(strstr(f->msg, "0x18"));
}

static void test_pop_indirect_len_too_many(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, IND_GPA, 65536u * 16u,
			   VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_INDIRECT_LEN);
}

static void test_pop_indirect_with_next(void **state)
{
	struct fx *f = *state;

	vring_drv_write_desc_at(f->g->as, IND_GPA, 0, DATA_GPA, 8, 0, 0);
	vring_drv_set_desc(f->drv, 0, IND_GPA, 16,
			   VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	vring_drv_set_desc(f->drv, 1, DATA_GPA, 8, 0, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_INDIRECT_NEXT);
}

static void test_pop_indirect_not_negotiated(void **state)
{
	struct fx *f = *state;

	vring_drv_write_desc_at(f->g->as, IND_GPA, 0, DATA_GPA, 8, 0, 0);
	vring_drv_set_desc(f->drv, 0, IND_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_INDIRECT_OFF);
}

static void test_pop_indirect_table_unmapped(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, HOLE_GPA, 16, VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_UNMAPPED);
}

static void test_pop_zero_len(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, DATA_GPA, 0, 0, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_ZERO_LEN);
}

static void test_pop_order(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, DATA_GPA, 16,
			   VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	vring_drv_set_desc(f->drv, 1, DATA_GPA + 16, 16, 0, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_ORDER);
}

static void test_pop_chain_too_long(void **state)
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

static void test_pop_addr_overflow(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, UINT64_C(0xffffffffffffff00), 0x101, 0, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_ADDR_OVERFLOW);
	assert_non_null(strstr(f->msg, "0xffffffffffffff00"));
}

static void test_pop_unmapped(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, DATA_GPA, 16, VRING_DESC_F_NEXT, 1);
	vring_drv_set_desc(f->drv, 1, HOLE_GPA, 16, VRING_DESC_F_WRITE, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_UNMAPPED);
	assert_non_null(strstr(f->msg, "0x30000000"));
}

static void test_pop_unmapped_partly(void **state)
{
	struct fx *f = *state;

	/* Starts in RAM, runs off its end into the hole. */
	vring_drv_set_desc(f->drv, 0, f->g->ram_size - 8, 16, 0, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_UNMAPPED);
}

static void test_pop_too_many_segs(void **state)
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

static void test_pop_max_segs_exact(void **state)
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

static void test_push_after_broken_frees(void **state)
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

static void test_push_written_too_big(void **state)
{
	struct fx *f = *state;
	struct ramdev_virtq_elem *e;

	vring_drv_set_desc(f->drv, 0, DATA_GPA, 16, VRING_DESC_F_WRITE, 0);
	post(f, 0);
	assert_int_equal(1, ramdev_virtq_pop(f->vq, &e));
	assert_int_equal(-EINVAL, ramdev_virtq_push(f->vq, e, 17));
	assert_int_equal(0, ramdev_virtq_push(f->vq, e, 16));
}

static void test_strerror_all(void **state)
{
	(void)state;
	for (int i = 0; i <= RAMDEV_VIRTQ_ERR_COUNT; i++)
		assert_non_null(ramdev_virtq_strerror(i));
}

/* ---- good paths (feature matrix) ---- */

/* Add a chain the way the negotiated features allow. */
static int add(struct fx *f, const struct vring_drv_buf *out, unsigned nout,
	       const struct vring_drv_buf *in, unsigned nin)
{
	return vring_drv_add(f->drv, out, nout, in, nin,
			     f->features & F_INDIRECT);
}

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
		assert_int_equal(0, ramdev_virtq_pop(f->vq, &e[0]) == 1);
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

static void push_one(struct fx *f)
{
	struct vring_drv_buf in = { DATA_GPA, 32 };
	struct ramdev_virtq_elem *e;
	uint16_t id;
	uint32_t len;

	assert_true(add(f, NULL, 0, &in, 1) >= 0);
	vring_drv_publish(f->drv);
	assert_int_equal(1, ramdev_virtq_pop(f->vq, &e));
	assert_int_equal(0, ramdev_virtq_push(f->vq, e, 1));
	assert_int_equal(1, vring_drv_get_used(f->drv, &id, &len));
}

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
		T(test_new_size_too_big, setup_plain),
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
