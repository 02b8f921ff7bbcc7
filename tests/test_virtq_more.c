// SPDX-License-Identifier: MIT
/*
 * Virtqueue tests added for issue 12: the dirty log of the used ring and of
 * the buffers (also from a broken queue), rules without a test before
 * (USED_IDX, chains in flight >= size, an indirect table that wraps), the
 * max_segs bound, the queue size limits, and the log callback pair.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_virtq.h"
#include "virtq/queue.h" /* USED_IDX: the in-flight count, unreachable otherwise */

#define RAM_WORDS 64u /* the dirty bitmap of test_guest's RAM (4 MiB) fits */

static bool page_dirty(const uint64_t *bits, uint64_t gpa)
{
	uint64_t page = (gpa - TEST_GUEST_RAM_GPA) / RAMDEV_DIRTY_PAGE;

	return bits[page / 64] & (UINT64_C(1) << (page % 64));
}

/* Start dirty logging on guest RAM (rings and data are there), cleared. */
static void dirty_start(struct fx *f)
{
	uint64_t bits[RAM_WORDS];

	assert_int_equal(0, ramdev_region_dirty_enable(f->g->ram, true));
	assert_true(ramdev_region_dirty_take(f->g->ram, bits, RAM_WORDS) >= 0);
}

static int64_t dirty_take(struct fx *f, uint64_t *bits)
{
	int64_t n = ramdev_region_dirty_take(f->g->ram, bits, RAM_WORDS);

	assert_true(n >= 0);
	return n;
}

/* The used element, the used idx and the bytes written go into the log;
 * the descriptor table and avail ring (the driver's) do not. */
void test_push_marks_dirty(void **state)
{
	struct fx *f = *state;
	struct vring_drv_buf in = { DATA_GPA + 0x5000, 64 };
	struct ramdev_virtq_elem *e;
	uint64_t bits[RAM_WORDS];

	assert_true(add(f, NULL, 0, &in, 1) >= 0);
	vring_drv_publish(f->drv);
	dirty_start(f);
	assert_int_equal(1, ramdev_virtq_pop(f->vq, &e));
	assert_int_equal(0, ramdev_virtq_push(f->vq, e, 64));
	dirty_take(f, bits);
	assert_true(page_dirty(bits, USED_GPA));
	assert_true(page_dirty(bits, DATA_GPA + 0x5000));
	assert_false(page_dirty(bits, DESC_GPA));
	assert_false(page_dirty(bits, AVAIL_GPA));
}

/* A used ring spanning two pages: the element on the second page is
 * marked there (not only the ring's first page). */
void test_push_marks_dirty_elem_page(void **state)
{
	struct fx *f = *state;
	struct ramdev_virtq_elem *e;
	uint64_t bits[RAM_WORDS];

	/* used at the end of a page: ring[1..] on the next one. */
	f->cfg.used = USED_GPA + RAMDEV_DIRTY_PAGE - 12;
	fx_queue(f);
	vring_drv_set_desc(f->drv, 0, DATA_GPA, 16, VRING_DESC_F_WRITE, 0);
	for (unsigned i = 0; i < 2; i++) {
		post(f, 0);
		assert_int_equal(1, ramdev_virtq_pop(f->vq, &e));
		if (i == 1)
			dirty_start(f);
		assert_int_equal(0, ramdev_virtq_push(f->vq, e, 0));
	}
	dirty_take(f, bits);
	/* ring[1] at used + 12 = the next page's first byte; idx on the
	 * first page. */
	assert_true(page_dirty(bits, USED_GPA + RAMDEV_DIRTY_PAGE));
	assert_true(page_dirty(bits, USED_GPA));
}

/* avail_event (EVENT_IDX) and the used flags are device writes too. */
void test_set_notify_marks_dirty(void **state)
{
	struct fx *f = *state;
	uint64_t bits[RAM_WORDS];

	dirty_start(f);
	assert_false(ramdev_virtq_set_notify(f->vq, false));
	assert_false(ramdev_virtq_set_notify(f->vq, true));
	assert_true(dirty_take(f, bits) > 0);
	assert_true(page_dirty(bits, USED_GPA));
}

/* A broken queue releases the element without a used entry, but what the
 * device wrote into the buffer is in guest memory: logged all the same. */
void test_push_after_broken_marks_dirty(void **state)
{
	struct fx *f = *state;
	struct ramdev_virtq_elem *e;
	uint64_t bits[RAM_WORDS];

	vring_drv_set_desc(f->drv, 0, DATA_GPA + 0x7000, 16,
			   VRING_DESC_F_WRITE, 0);
	post(f, 0);
	assert_int_equal(1, ramdev_virtq_pop(f->vq, &e));
	post(f, QSIZE + 3); /* bad head */
	assert_broken(f, RAMDEV_VIRTQ_HEAD_INDEX);
	dirty_start(f);
	memset(e->segs[0].base, 0xab, 16);
	assert_int_equal(-EIO, ramdev_virtq_push(f->vq, e, 16));
	dirty_take(f, bits);
	assert_true(page_dirty(bits, DATA_GPA + 0x7000));
	assert_false(page_dirty(bits, USED_GPA)); /* no used entry */
	assert_int_equal(0, vring_drv_used_idx(f->drv));
}

/* USED_IDX: a push with nothing in flight breaks the queue; the message
 * names the head, read before the element was released (an element of
 * more than VIRTQ_ELEM_SEGS segments is freed, not cached). */
void test_push_used_idx(void **state)
{
	struct fx *f = *state;
	struct ramdev_virtq_elem *e;
	char want[64];

	/* Descriptors 5..14, ten writable buffers. */
	for (unsigned i = 0; i < 10; i++)
		vring_drv_set_desc(f->drv, 5 + i, DATA_GPA + 0x100 * i, 16,
				   VRING_DESC_F_WRITE |
					   (i < 9 ? VRING_DESC_F_NEXT : 0),
				   i < 9 ? 6 + i : 0);
	post(f, 5);
	assert_int_equal(1, ramdev_virtq_pop(f->vq, &e));
	assert_int_equal(10, e->in_num);
	f->vq->inflight = 0; /* as if it had been pushed already */
	assert_int_equal(-EIO, ramdev_virtq_push(f->vq, e, 0));
	snprintf(want, sizeof(want), "head 0x5 pushed");
	assert_non_null(strstr(f->msg, want));
	assert_broken(f, RAMDEV_VIRTQ_USED_IDX);
}

/* More chains in flight than the queue has descriptors: the driver reused
 * heads that were not returned (2.7.5). */
void test_pop_inflight_ge_size(void **state)
{
	struct fx *f = *state;
	struct ramdev_virtq_elem *e[QSIZE], *x = NULL;

	for (unsigned i = 0; i < QSIZE; i++)
		vring_drv_set_desc(f->drv, i, DATA_GPA + 0x100 * i, 16,
				   VRING_DESC_F_WRITE, 0);
	for (unsigned i = 0; i < QSIZE; i++)
		post(f, i);
	for (unsigned i = 0; i < QSIZE; i++)
		assert_int_equal(1, ramdev_virtq_pop(f->vq, &e[i]));
	post(f, 0); /* head 0 again, still in flight */
	assert_int_equal(-EIO, ramdev_virtq_pop(f->vq, &x));
	assert_null(x);
	assert_int_equal(RAMDEV_VIRTQ_AVAIL_IDX, ramdev_virtq_error(f->vq));
	assert_non_null(strstr(f->msg, "0x10 chains in flight, size 0x10"));
	for (unsigned i = 0; i < QSIZE; i++)
		assert_int_equal(-EIO, ramdev_virtq_push(f->vq, e[i], 0));
}

/* An indirect table whose last byte would lie past 2^64 - 1. */
void test_pop_indirect_table_overflow(void **state)
{
	struct fx *f = *state;

	vring_drv_set_desc(f->drv, 0, UINT64_MAX - 15, 32,
			   VRING_DESC_F_INDIRECT, 0);
	post(f, 0);
	assert_broken(f, RAMDEV_VIRTQ_ADDR_OVERFLOW);
	assert_non_null(strstr(f->msg, "indirect table 0xfffffffffffffff0 len 0x20"));
}

/* max_segs is bounded at creation (virtq.h): 2^16 is the largest. */
void test_new_max_segs_too_big(void **state)
{
	struct fx *f = *state;
	struct ramdev_virtq *vq = NULL;
	struct ramdev_virtq_config c = f->cfg;

	c.max_segs = 65537;
	assert_int_equal(-EINVAL, ramdev_virtq_new(&vq, f->g->dma, &c));
	assert_null(vq);
	c.max_segs = 65536;
	assert_int_equal(0, ramdev_virtq_new(&vq, f->g->dma, &c));
	assert_int_equal(RAMDEV_VIRTQ_OK, ramdev_virtq_error(vq));
	ramdev_virtq_free(vq);
}

/* Size 0 is "queue not available" (4.1.4.3), not a bad size. */
void test_new_size_zero(void **state)
{
	struct fx *f = *state;

	f->cfg.size = 0;
	fx_queue(f);
	assert_broken(f, RAMDEV_VIRTQ_NOT_READY);
}

/* The largest size is accepted; no power of two above it fits the u16, so
 * "too big" is a size that is not a power of two: the same rule. */
void test_new_size_max(void **state)
{
	struct fx *f = *state;

	f->cfg.size = 0x8000;
	f->cfg.desc = 0x100000;  /* 512 KiB */
	f->cfg.avail = 0x180000; /* 64 KiB + 6 */
	f->cfg.used = 0x1a0000;  /* 256 KiB + 6 */
	fx_queue(f);
	assert_int_equal(RAMDEV_VIRTQ_OK, ramdev_virtq_error(f->vq));
	assert_int_equal(0, f->nmsg);
	f->cfg.size = 0xffff;
	fx_queue(f);
	assert_broken(f, RAMDEV_VIRTQ_SIZE);
}

struct pair_log {
	unsigned calls;
	void *self;
};

static void pair_cb(void *opaque, int level, const char *msg)
{
	struct pair_log *p = opaque;

	(void)level;
	(void)msg;
	assert_ptr_equal(p, p->self);
	p->calls++;
}

/* set_log replaces the callback and its opaque pointer as one pair, and
 * the configuration error kept by new() is logged exactly once. */
void test_set_log_pair(void **state)
{
	struct fx *f = *state;
	struct pair_log a = { 0, &a }, b = { 0, &b };

	f->cfg.desc = DESC_GPA + 8;
	ramdev_virtq_free(f->vq);
	assert_int_equal(0, ramdev_virtq_new(&f->vq, f->g->dma, &f->cfg));
	ramdev_virtq_set_log(f->vq, pair_cb, &a);
	assert_int_equal(1, a.calls); /* the deferred ALIGN message */
	ramdev_virtq_set_log(f->vq, pair_cb, &b);
	ramdev_virtq_set_log(f->vq, pair_cb, &b);
	assert_int_equal(0, b.calls); /* logged once, not per set_log */
	post(f, 0);
	assert_int_equal(-EIO, ramdev_virtq_pop(f->vq, &(struct ramdev_virtq_elem *){ NULL }));
	assert_int_equal(1, a.calls);
	assert_int_equal(0, b.calls);
}

/* Getters on NULL answer, they do not crash. */
void test_getters_null(void **state)
{
	(void)state;
	assert_int_equal(RAMDEV_VIRTQ_NOT_READY, ramdev_virtq_error(NULL));
	assert_int_equal(0, ramdev_virtq_last_avail(NULL));
	assert_int_equal(0, ramdev_virtq_inflight(NULL));
	assert_false(ramdev_virtq_should_notify(NULL));
	assert_false(ramdev_virtq_set_notify(NULL, true));
	ramdev_virtq_set_last_avail(NULL, 1);
	ramdev_virtq_set_log(NULL, NULL, NULL);
	ramdev_virtq_free(NULL);
	assert_int_equal(-EINVAL, ramdev_virtq_pop(NULL, NULL));
	assert_int_equal(-EINVAL, ramdev_virtq_push(NULL, NULL, 0));
	assert_non_null(ramdev_virtq_strerror(RAMDEV_VIRTQ_ERR_COUNT));
}
