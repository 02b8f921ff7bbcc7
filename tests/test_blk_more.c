// SPDX-License-Identifier: MIT
/*
 * virtio-blk tests added for issue 12: the used length (blk.h), bounded
 * work per process() call and per step, close after a cancel that lost
 * requests, the segment count at the top of the address space, the image
 * source rule of ramdev_blk_open(), the log callback pair, NULL getters.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "blk_fake.h"

static void assert_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i]) {
			fprintf(stderr, "byte 0x%zx is 0x%x, not 0\n", i, p[i]);
			fail();
		}
}

/*
 * A failed read writes only what it could: the used length still says the
 * whole writable part, so the device writes zeroes over the data (RAM and
 * device memory alike) before the status byte (blk.h, used length).
 */
static void test_ramdev_blk_process_used_len_failed_read(void **state)
{
	struct fix *f = get(state);

	memset(f->ram, 0xaa, 1024);
	memset(f->dev, 0xaa, 512);
	memset(f->ram + 4096, 0xaa, 4096);
	rw(f, RAMDEV_BLK_T_IN, SECTORS, ram(f->ram, 1024));   /* 0: RANGE */
	rw(f, RAMDEV_BLK_T_IN, SECTORS, dev(f->dev, 512));    /* 1: RANGE */
	run(f);
	use_fault_engine(f);
	f->fe.fail_kind = BLK_STEP_READV;
	f->fe.fail_err = -EIO;
	f->fe.fail_count = 1;
	rw(f, RAMDEV_BLK_T_IN, 0, ram(f->ram + 4096, 4096)); /* 2: EIO */
	run(f);
	expect(f, 0, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_RANGE);
	expect(f, 1, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_RANGE);
	expect(f, 2, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_IO);
	assert_int_equal(1025, f->q.used[0].written);
	assert_int_equal(513, f->q.used[1].written);
	assert_int_equal(4097, f->q.used[2].written);
	assert_zero(f->ram, 1024);
	assert_zero(f->dev, 512);
	assert_zero(f->ram + 4096, 4096);
}

/* GET_ID into a buffer longer than the 20-byte serial: zero-padded to the
 * status byte, and the used length counts it all. */
static void test_ramdev_blk_process_used_len_get_id_long(void **state)
{
	struct fix *f = get(state);
	uint8_t *id = f->ram;
	struct piece h, st;

	memset(id, 0xaa, 64);
	h = hdr(hdr_buf(f), RAMDEV_BLK_T_GET_ID, 0);
	st = status(f);
	queue_elem(f, &h, 1, (struct piece[]){ ram(id, 40), dev(f->dev, 24), st },
		   3);
	memset(f->dev, 0xaa, 24);
	run(f);
	expect(f, 0, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	assert_memory_equal("ramdev-serial-012345", id, 20);
	assert_zero(id + 20, 20);
	assert_zero(f->dev, 24);
	assert_int_equal(65, f->q.used[0].written);
}

/* FLUSH and OUT write the status byte only: used length 1; writable bytes
 * in front of it (a driver's oddity, not an error for FLUSH) are zeroed and
 * counted. */
static void test_ramdev_blk_process_used_len_flush_out(void **state)
{
	struct fix *f = get(state);
	struct piece h, st;

	h = hdr(hdr_buf(f), RAMDEV_BLK_T_FLUSH, 0);
	st = status(f);
	queue_elem(f, &h, 1, &st, 1);
	memset(f->ram, 0xaa, 16);
	h = hdr(hdr_buf(f), RAMDEV_BLK_T_FLUSH, 0);
	st = status(f);
	queue_elem(f, &h, 1, (struct piece[]){ ram(f->ram, 16), st }, 2);
	rw(f, RAMDEV_BLK_T_OUT, 0, ram(f->ram + 4096, 512));
	run(f);
	expect(f, 0, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 1, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 2, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	assert_int_equal(1, f->q.used[0].written);
	assert_int_equal(17, f->q.used[1].written);
	assert_int_equal(1, f->q.used[2].written);
	assert_zero(f->ram, 16);
}

/* A queue whose empty re-check always sees new buffers that pop then does
 * not find (a driver moving avail idx back and forth). */
struct spinq {
	unsigned rechecks;
};

static int spin_pop(void *q, struct ramdev_virtq_elem **out)
{
	(void)q;
	(void)out;
	return 0;
}

static int spin_push(void *q, struct ramdev_virtq_elem *elem, uint32_t written)
{
	(void)q;
	(void)elem;
	(void)written;
	return 0;
}

static bool spin_should_notify(void *q)
{
	(void)q;
	return false;
}

static bool spin_set_notify(void *q, bool on)
{
	struct spinq *s = q;

	/* Give up after 10 batches, so the unfixed loop ends too. */
	return on && ++s->rechecks < 10 * RAMDEV_BLK_PROCESS_BATCH;
}

static const struct ramdev_blk_queue_ops spin_ops = {
	.pop = spin_pop, .push = spin_push,
	.should_notify = spin_should_notify, .set_notify = spin_set_notify,
};

/* Empty re-checks count toward the batch: one call does bounded work. */
static void test_ramdev_blk_process_rechecks_bounded(void **state)
{
	struct fix *f = get(state);
	struct spinq s = { 0 };

	assert_int_equal(0, ramdev_blk_detach_queue(f->blk, 0));
	assert_int_equal(0, ramdev_blk_attach_queue_ops(f->blk, 0, &spin_ops, &s));
	assert_int_equal(0, ramdev_blk_process(f->blk, 0, NULL));
	assert_true(s.rechecks <= RAMDEV_BLK_PROCESS_BATCH + 1);
	/* The event loop is told to come back (event_fd readable). */
	assert_true(f->blk->signalled);
	assert_int_equal(0, ramdev_blk_detach_queue(f->blk, 0));
}

/* EAGAIN/EINTR retry a step BLK_RETRY_MAX times in a row, then IOERR. */
static void test_ramdev_blk_process_eagain_bounded(void **state)
{
	struct fix *f = get(state);

	use_fault_engine(f);
	f->fe.fail_kind = BLK_STEP_READV;
	f->fe.fail_err = -EAGAIN;
	f->fe.fail_count = 1000;
	rw(f, RAMDEV_BLK_T_IN, 0, ram(f->ram, 4096));
	run(f);
	expect(f, 0, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_IO);
	assert_int_equal(1000 - BLK_RETRY_MAX, f->fe.fail_count);
	/* A few in a row are retried. */
	f->fe.fail_err = -EINTR;
	f->fe.fail_count = BLK_RETRY_MAX - 1;
	rw(f, RAMDEV_BLK_T_IN, 0, ram(f->ram, 4096));
	run(f);
	assert_int_equal(RAMDEV_BLK_S_OK, *status_of(f, 1));
	assert_int_equal(0, f->fe.fail_count);
}

/*
 * close() after a cancel that cannot vouch for the buffers: the request the
 * engine held is not pushed (leaked on purpose), but its staging
 * reservation is given back, so the request waiting for staging starts,
 * fails on the stopped engine and is pushed; close does not assert.
 */
static void test_ramdev_blk_close_after_unsafe_cancel(void **state)
{
	struct fix *f = get(state);
	struct ramdev_blk_options o = { .stage_budget = 4096 };
	struct blk_req *lost;

	reopen(f, &o);
	use_fault_engine(f);
	f->fe.hold = true;
	f->fe.stuck = true;
	f->fe.reap_fails = UINT_MAX;
	f->fe.cancel_unsafe = true;
	rw(f, RAMDEV_BLK_T_IN, 0, dev(f->dev, 4096));        /* 0: held */
	rw(f, RAMDEV_BLK_T_IN, 8, dev(f->dev + 4096, 4096)); /* 1: waits */
	assert_int_equal(2, ramdev_blk_process(f->blk, 0, NULL));
	assert_int_equal(1, f->fe.nheld);
	assert_non_null(f->blk->stage_wait.head);
	lost = f->fe.held[0];
	ramdev_blk_close(f->blk);
	f->blk = NULL;
	assert_int_equal(1, f->fe.cancels);
	assert_int_equal(1, f->q.nused);
	assert_int_equal(1, f->q.used[0].head);
	assert_int_equal(RAMDEV_BLK_S_IOERR, *status_of(f, 1));
	/* The kernel finished late: free what close leaked on purpose. */
	free(lost->stage);
	free(lost->elem);
	free(lost);
}

/* seg_max counts pieces contiguous in guest memory once; a piece ending at
 * 2^64 - 1 is continued by nothing (address 0 is not its next byte). */
static void test_ramdev_blk_process_seg_max_top_of_memory(void **state)
{
	struct fix *f = get(state);
	struct ramdev_blk_options o = { .seg_max = 1 };
	struct ramdev_virtq_elem *e;
	struct piece h, st;

	reopen(f, &o);
	for (unsigned i = 0; i < 2; i++) {
		h = hdr(hdr_buf(f), RAMDEV_BLK_T_IN, 0);
		st = status(f);
		queue_elem(f, &h, 1, (struct piece[]){ ram(f->ram, 512),
				     ram(f->ram + 512, 512), st }, 3);
		e = f->q.avail[f->q.navail - 1];
		e->segs[1].gpa = i ? 0x1000 : UINT64_MAX - 511;
		e->segs[2].gpa = i ? 0x1200 : 0;
	}
	run(f);
	expect(f, 0, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_SEG_MAX);
	assert_int_equal(RAMDEV_BLK_S_OK, *status_of(f, 1)); /* contiguous */
}

/*
 * The image source: @path alone (fd left 0 by the initializer, or -1), or
 * @fd >= 0 alone; both, or neither, is -EINVAL.
 */
static void test_ramdev_blk_open_path_fd_rule(void **state)
{
	struct fix *f = get(state);
	struct ramdev_blk_options o = { .path = f->path,
					.engine = RAMDEV_BLK_ENGINE_SYNC };
	struct ramdev_blk *b = NULL;

	assert_int_equal(0, ramdev_blk_open(&b, &o));
	assert_int_equal(SECTORS, ramdev_blk_capacity(b));
	ramdev_blk_close(b);
	o.fd = -1;
	assert_int_equal(0, ramdev_blk_open(&b, &o));
	ramdev_blk_close(b);
	o.fd = f->img;
	assert_int_equal(-EINVAL, ramdev_blk_open(&b, &o));
	o = (struct ramdev_blk_options){ .fd = -1 };
	assert_int_equal(-EINVAL, ramdev_blk_open(&b, &o));
	o = (struct ramdev_blk_options){ .fd = f->img,
					 .engine = RAMDEV_BLK_ENGINE_SYNC };
	assert_int_equal(0, ramdev_blk_open(&b, &o));
	ramdev_blk_close(b);
}

/* ---- the log pair: a message never pairs one set_log's function with
 * another's opaque ---- */

struct pair {
	struct pair *self;
};

static struct pair pa = { &pa }, pb = { &pb };
static unsigned long torn, logged;

static void cb_a(void *opaque, int level, const char *msg)
{
	(void)level;
	(void)msg;
	if (opaque != &pa)
		__atomic_fetch_add(&torn, 1, __ATOMIC_RELAXED);
	logged++;
}

static void cb_b(void *opaque, int level, const char *msg)
{
	(void)level;
	(void)msg;
	if (opaque != &pb)
		__atomic_fetch_add(&torn, 1, __ATOMIC_RELAXED);
	logged++;
}

struct swapper {
	struct ramdev_blk *blk;
	bool done;
};

static void *swap_logs(void *arg)
{
	struct swapper *s = arg;

	for (unsigned i = 0; i < 20000; i++) {
		ramdev_blk_set_log(s->blk, cb_b, &pb);
		ramdev_blk_set_log(s->blk, cb_a, &pa);
	}
	__atomic_store_n(&s->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void test_ramdev_blk_set_log_pair(void **state)
{
	struct fix *f = get(state);
	struct swapper s = { f->blk, false };
	pthread_t t;

	torn = logged = 0;
	ramdev_blk_set_log(f->blk, cb_a, &pa);
	assert_int_equal(0, pthread_create(&t, NULL, swap_logs, &s));
	/* At least one message even when the swapper finishes before this
	 * thread runs (a loaded machine): do, then while. */
	do
		ramdev_blk_log(f->blk, LOG_ERR, "pair check"); /* not limited */
	while (!__atomic_load_n(&s.done, __ATOMIC_ACQUIRE));
	assert_int_equal(0, pthread_join(t, NULL));
	assert_int_equal(0, torn);
	assert_true(logged > 0);
	ramdev_blk_set_log(f->blk, NULL, NULL);
}

/* Every getter and entry point takes NULL without crashing. */
static void test_ramdev_blk_getters_null(void **state)
{
	struct ramdev_blk_stats st;
	struct ramdev_blk_config cfg;

	(void)state;
	memset(&st, 0x5a, sizeof(st));
	assert_int_equal(0, ramdev_blk_capacity(NULL));
	assert_int_equal(0, ramdev_blk_features(NULL));
	assert_int_equal(RAMDEV_BLK_OK, ramdev_blk_error(NULL));
	assert_int_equal(0, ramdev_blk_inflight(NULL));
	assert_int_equal(-EINVAL, ramdev_blk_event_fd(NULL));
	assert_int_equal(-EINVAL, ramdev_blk_get_config(NULL, &cfg));
	ramdev_blk_get_stats(NULL, &st);
	ramdev_blk_set_log(NULL, NULL, NULL);
	ramdev_blk_close(NULL);
	assert_int_equal(-EINVAL, ramdev_blk_process(NULL, 0, NULL));
	assert_int_equal(-EINVAL, ramdev_blk_complete(NULL, NULL));
	assert_int_equal(-EINVAL, ramdev_blk_wait(NULL, 0, NULL));
	assert_int_equal(-EINVAL, ramdev_blk_drain(NULL, NULL));
	assert_int_equal(-EINVAL, ramdev_blk_flush(NULL, NULL));
	assert_int_equal(-EINVAL, ramdev_blk_reset(NULL));
	assert_int_equal(-EINVAL, ramdev_blk_detach_queue(NULL, 0));
	assert_int_equal(-EINVAL, ramdev_blk_attach_queue(NULL, 0, NULL, NULL));
	assert_int_equal(-EINVAL, ramdev_blk_open(NULL, NULL));
}

/*
 * A 2 TiB staging buffer cannot be had (more than RAM and swap: the
 * kernel's heuristic overcommit refuses it, ASan's allocator caps sizes at
 * 1 TiB): the request fails with IOERR and RAMDEV_BLK_NOMEM, the device
 * carries on.  An OUT (nothing is written into the guest's 2 TiB that do not
 * exist) into a DEV segment, on a sparse image of 4 TiB.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

/* The same for ThreadSanitizer's allocator (TSAN_OPTIONS from the
 * environment are applied after these). */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "allocator_may_return_null=1";
}

static bool overcommit_always(void)
{
	FILE *fp = fopen("/proc/sys/vm/overcommit_memory", "r");
	int mode = 0;

	if (fp) {
		if (fscanf(fp, "%d", &mode) != 1)
			mode = 0;
		fclose(fp);
	}
	return mode == 1;
}

static void test_ramdev_blk_process_stage_nomem(void **state)
{
	struct fix *f = get(state);
	const uint64_t big = UINT64_C(2) << 40;
	struct ramdev_blk_options o = { 0 };
	struct piece h, st, data = dev(f->dev, 4096);

	if (sizeof(size_t) < 8 || overcommit_always()) {
		fprintf(stderr, "skip: a 2 TiB malloc could succeed here\n");
		skip();
	}
	if (ftruncate(f->img, (off_t)(2 * big)) != 0) {
		fprintf(stderr, "skip: no 4 TiB sparse image here: %s\n",
			strerror(errno));
		skip();
	}
	o.stage_budget = (size_t)(2 * big);
	reopen(f, &o);
	data.len = (size_t)big; /* never touched: the malloc fails first */
	h = hdr(hdr_buf(f), RAMDEV_BLK_T_OUT, 0);
	st = status(f);
	queue_elem(f, (struct piece[]){ h, data }, 2, &st, 1);
	rw(f, RAMDEV_BLK_T_OUT, 0, dev(f->dev, 4096)); /* carries on */
	run(f);
	expect(f, 0, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_NOMEM);
	assert_int_equal(1, f->q.used[0].written);
	assert_int_equal(RAMDEV_BLK_S_OK, *status_of(f, 1));
}

#define M(fn) cmocka_unit_test_setup_teardown(fn, setup_sync, teardown)

int test_blk_more_run(void)
{
	const struct CMUnitTest tests[] = {
		M(test_ramdev_blk_process_used_len_failed_read),
		M(test_ramdev_blk_process_used_len_get_id_long),
		M(test_ramdev_blk_process_used_len_flush_out),
		M(test_ramdev_blk_process_rechecks_bounded),
		M(test_ramdev_blk_process_eagain_bounded),
		M(test_ramdev_blk_close_after_unsafe_cancel),
		M(test_ramdev_blk_process_seg_max_top_of_memory),
		M(test_ramdev_blk_open_path_fd_rule),
		M(test_ramdev_blk_set_log_pair),
		M(test_ramdev_blk_process_stage_nomem),
		cmocka_unit_test(test_ramdev_blk_getters_null),
	};

	return cmocka_run_group_tests_name("blk_more", tests, NULL, NULL);
}
