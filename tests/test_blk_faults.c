// SPDX-License-Identifier: MIT
/*
 * virtio-blk under host faults (suite 'blk'): a fault-injecting engine
 * (blk_fake.c) fails chosen system calls, so the device's answers to I/O
 * errors can be checked without a failing disk.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "blk_fake.h"

static void flush_req(struct fix *f)
{
	struct piece h = hdr(hdr_buf(f), RAMDEV_BLK_T_FLUSH, 0), st = status(f);

	queue_elem(f, &h, 1, &st, 1);
}

static void fail_next(struct fix *f, enum blk_step_kind kind, int err)
{
	f->fe.fail_kind = (int)kind;
	f->fe.fail_err = err;
	f->fe.fail_count = 1;
}

/*
 * fdatasync fails once with EIO, as Linux reports a write-back error once:
 * every later FLUSH must fail too (without trusting a new fdatasync), and
 * so must ramdev_blk_flush(), until a reset.  Reads and writes carry on.
 */
static void test_ramdev_blk_process_flush_error_sticks(void **state)
{
	struct fix *f = get(state);

	use_fault_engine(f);
	fill(f->ram, 4096, 8);
	rw(f, RAMDEV_BLK_T_OUT, 0, ram(f->ram, 4096)); /* 0 */
	flush_req(f);                                  /* 1 */
	fail_next(f, BLK_STEP_FDATASYNC, -EIO);
	run(f);
	expect(f, 0, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 1, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_IO);
	flush_req(f);                                  /* 2 */
	rw(f, RAMDEV_BLK_T_OUT, 8, ram(f->ram, 4096)); /* 3 */
	rw(f, RAMDEV_BLK_T_IN, 0, ram(f->ram + 8192, 4096)); /* 4 */
	flush_req(f);                                  /* 5 */
	run(f);
	expect(f, 2, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_WRITEBACK);
	expect(f, 3, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 4, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 5, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_WRITEBACK);
	assert_memory_equal(f->ram, f->ram + 8192, 4096);
	assert_int_equal(0, f->fe.steps[BLK_STEP_FDATASYNC]);
	assert_int_equal(-EIO, ramdev_blk_flush(f->blk, NULL));
	/* The device is not broken: only flushes fail. */
	assert_int_equal(RAMDEV_BLK_OK, ramdev_blk_error(f->blk));

	/* A reset clears it. */
	assert_int_equal(0, ramdev_blk_reset(f->blk));
	assert_int_equal(0, ramdev_blk_attach_queue_ops(f->blk, 0, &fq_ops,
							&f->q));
	flush_req(f);                                  /* 6 */
	run(f);
	expect(f, 6, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	assert_int_equal(1, f->fe.steps[BLK_STEP_FDATASYNC]);
	assert_int_equal(0, ramdev_blk_flush(f->blk, NULL));
}

/* A write EIO sticks as well; ENOSPC (nothing reached the cache) does not. */
static void test_ramdev_blk_process_write_eio_fails_flush(void **state)
{
	struct fix *f = get(state);

	use_fault_engine(f);
	rw(f, RAMDEV_BLK_T_OUT, 0, ram(f->ram, 4096)); /* 0: ENOSPC */
	fail_next(f, BLK_STEP_WRITEV, -ENOSPC);
	run(f);
	flush_req(f);                                  /* 1 */
	run(f);
	expect(f, 0, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_IO);
	expect(f, 1, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);

	rw(f, RAMDEV_BLK_T_OUT, 0, ram(f->ram, 4096)); /* 2: EIO */
	fail_next(f, BLK_STEP_WRITEV, -EIO);
	run(f);
	flush_req(f);                                  /* 3 */
	run(f);
	expect(f, 2, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_IO);
	expect(f, 3, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_WRITEBACK);
	assert_int_equal(1, f->fe.steps[BLK_STEP_FDATASYNC]);
	assert_int_equal(-EIO, ramdev_blk_flush(f->blk, NULL));
}

/*
 * The engine fails (the device breaks) but still finishes its requests,
 * one per reap: drain used to give up after one pass, and detach then
 * forgot a queue the later completions were pushed to.  Now drain keeps
 * reaping until nothing is in flight.
 */
static void test_ramdev_blk_drain_engine_fails_with_progress(void **state)
{
	struct fix *f = get(state);

	use_fault_engine(f);
	f->fe.hold = true;
	f->fe.reap_batch = 1;
	for (unsigned i = 0; i < 6; i++) {
		fill(f->ram + i * 4096, 4096, 20 + i);
		rw(f, RAMDEV_BLK_T_OUT, i * 8, ram(f->ram + i * 4096, 4096));
	}
	assert_int_equal(6, ramdev_blk_process(f->blk, 0, NULL));
	f->fe.reap_fails = 2;
	assert_int_equal(6, ramdev_blk_drain(f->blk, NULL));
	assert_int_equal(RAMDEV_BLK_IO, ramdev_blk_error(f->blk));
	assert_int_equal(0, ramdev_blk_inflight(f->blk));
	assert_int_equal(6, f->q.nused);
	for (unsigned i = 0; i < 6; i++) {
		uint8_t buf[4096];

		expect(f, i, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
		assert_int_equal(4096, pread(f->img, buf, 4096, i * 4096));
		assert_memory_equal(f->ram + i * 4096, buf, 4096);
	}
	assert_int_equal(0, ramdev_blk_detach_queue(f->blk, 0));
	assert_int_equal(0, ramdev_blk_reset(f->blk));
	assert_int_equal(RAMDEV_BLK_OK, ramdev_blk_error(f->blk));
}

/*
 * The engine is dead: nothing it holds ever completes.  Drain says -EIO,
 * detach and reset refuse (-EBUSY) and keep the queue, and close fails the
 * requests with IOERR and pushes them (no element or reference leaks:
 * ASan's leak check runs this too).
 */
static void test_ramdev_blk_detach_queue_busy_engine_dead(void **state)
{
	struct fix *f = get(state);
	struct piece h, st;

	use_fault_engine(f);
	f->fe.hold = true;
	f->fe.stuck = true;
	f->fe.reap_fails = UINT_MAX;
	for (unsigned i = 0; i < 3; i++)
		rw(f, RAMDEV_BLK_T_OUT, i * 8, ram(f->ram + i * 4096, 4096));
	h = hdr(hdr_buf(f), RAMDEV_BLK_T_FLUSH, 0); /* waits for the writes */
	st = status(f);
	queue_elem(f, &h, 1, &st, 1);
	assert_int_equal(4, ramdev_blk_process(f->blk, 0, NULL));
	assert_int_equal(-EIO, ramdev_blk_drain(f->blk, NULL));
	assert_int_equal(4, ramdev_blk_inflight(f->blk));
	assert_int_equal(-EBUSY, ramdev_blk_detach_queue(f->blk, 0));
	assert_int_equal(-EBUSY, ramdev_blk_reset(f->blk));
	assert_int_equal(-EIO, ramdev_blk_process(f->blk, 0, NULL)); /* attached */
	assert_int_equal(-EIO, ramdev_blk_complete(f->blk, NULL));
	assert_int_equal(0, f->q.nused);

	ramdev_blk_close(f->blk);
	f->blk = NULL;
	assert_int_equal(1, f->fe.cancels);
	assert_int_equal(4, f->q.nused);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(RAMDEV_BLK_S_IOERR, *status_of(f, i));
		assert_int_equal(1, f->q.used[i].written);
	}
}

#define F(fn) cmocka_unit_test_setup_teardown(fn, setup_sync, teardown)

int test_blk_faults_run(void)
{
	const struct CMUnitTest tests[] = {
		F(test_ramdev_blk_process_flush_error_sticks),
		F(test_ramdev_blk_process_write_eio_fails_flush),
		F(test_ramdev_blk_drain_engine_fails_with_progress),
		F(test_ramdev_blk_detach_queue_busy_engine_dead),
	};

	return cmocka_run_group_tests_name("blk_faults", tests, NULL, NULL);
}
