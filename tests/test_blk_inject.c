// SPDX-License-Identifier: MIT
/*
 * virtio-blk under injected I/O faults (suite 'blk'), beyond
 * test_blk_faults.c: failed and short reads and writes, zero-progress
 * transfers, interrupted calls, fdatasync ENOSPC, fallocate failures, and
 * real kernel errors (RLIMIT_FSIZE: EFBIG and short writes) through both
 * engines, io_uring completions included.  Each fault must fail exactly
 * its own request with IOERR (or be resumed when the call made progress),
 * later requests must work, and FLUSH must follow the write-back rules of
 * blk.h (a write EIO or any fdatasync error fails every later FLUSH until
 * reset; other errors do not).
 *
 * The injecting engine (tests/blk_fault_engine.c, fuzz_blk's too) runs each
 * step with ramdev_blk_step_sync() unless a rule picks it: the n-th step of
 * a kind then fails with an errno, returns 0, or runs with its iovec cut to
 * a few bytes (a real short transfer).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>

#include "blk_fake.h"
#include "blk_fault_engine.h"

/* ---- the injecting engine (blk_fault_engine.h) ---- */

/* Put the fault engine in, over the fixture's checking engine. */
static struct fault_engine_state *use_inj(struct fix *f)
{
	struct fault_engine_state *j = calloc(1, sizeof(*j));

	assert_non_null(j);
	fe_install(j, f->blk);
	return j;
}

static void rule(struct fault_engine_state *j, enum blk_step_kind kind,
		 unsigned nth, unsigned times, enum fe_action action, int err,
		 size_t bytes)
{
	struct fe_rule r = { kind, nth, times, action, err, bytes };

	assert_true(fe_add_rule(j, &r));
}

/* The fixture's teardown closes the device (the engine's fini); then
 * free the engine's state. */
static int teardown_inj(void **state)
{
	struct fix *f = *state;
	struct fault_engine_state *j = fe_of(f->blk);

	teardown(state);
	free(j);
	return 0;
}

/* ---- helpers ---- */

static void flush_req(struct fix *f)
{
	struct piece h = hdr(hdr_buf(f), RAMDEV_BLK_T_FLUSH, 0), st = status(f);

	queue_elem(f, &h, 1, &st, 1);
}

static uint64_t stat_retries(struct fix *f)
{
	struct ramdev_blk_stats s;

	ramdev_blk_get_stats(f->blk, &s);
	return s.retries;
}

static void image_is(struct fix *f, off_t off, const uint8_t *want, size_t n)
{
	uint8_t *buf = malloc(n);

	assert_non_null(buf);
	assert_int_equal((ssize_t)n, pread(f->img, buf, n, off));
	assert_memory_equal(want, buf, n);
	free(buf);
}

/* ---- reads and writes ---- */

/* A read EIO fails that read only; read errors do not touch FLUSH. */
static void test_ramdev_blk_process_read_eio_only_that_request(void **state)
{
	struct fix *f = get(state);
	struct fault_engine_state *j = use_inj(f);

	fill(f->ram, 3 * 4096, 1);
	assert_int_equal(3 * 4096, pwrite(f->img, f->ram, 3 * 4096, 0));
	memset(f->ram, 0, 3 * 4096);
	rule(j, BLK_STEP_READV, 2, 1, FE_ERR, EIO, 0);
	rw(f, RAMDEV_BLK_T_IN, 0, ram(f->ram, 4096));         /* 0 */
	rw(f, RAMDEV_BLK_T_IN, 8, ram(f->ram + 4096, 4096));  /* 1: EIO */
	rw(f, RAMDEV_BLK_T_IN, 16, ram(f->ram + 8192, 4096)); /* 2 */
	flush_req(f);                                         /* 3 */
	run(f);
	expect(f, 0, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 1, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_IO);
	expect(f, 2, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 3, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	image_is(f, 0, f->ram, 4096);
	image_is(f, 8192, f->ram + 8192, 4096);
	assert_int_equal(1, j->calls[BLK_STEP_FDATASYNC]);
	assert_int_equal(0, ramdev_blk_flush(f->blk, NULL));
}

/*
 * A write that fails with ENOSPC before writing anything: IOERR for it,
 * its sectors unchanged, the next write fine, FLUSH fine (ENOSPC means
 * nothing reached the page cache: no write-back error to remember).
 */
static void test_ramdev_blk_process_write_enospc_then_ok(void **state)
{
	struct fix *f = get(state);
	struct fault_engine_state *j = use_inj(f);
	uint8_t zero[4096] = { 0 };

	rule(j, BLK_STEP_WRITEV, 1, 1, FE_ERR, ENOSPC, 0);
	fill(f->ram, 8192, 2);
	rw(f, RAMDEV_BLK_T_OUT, 0, ram(f->ram, 4096));        /* 0: ENOSPC */
	rw(f, RAMDEV_BLK_T_OUT, 8, ram(f->ram + 4096, 4096)); /* 1 */
	flush_req(f);                                         /* 2 */
	run(f);
	expect(f, 0, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_IO);
	expect(f, 1, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 2, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	image_is(f, 0, zero, 4096);
	image_is(f, 4096, f->ram + 4096, 4096);
}

/*
 * Short transfers: the kernel moves fewer bytes than asked (here 1000, not
 * even a sector).  The device resumes the rest and the request succeeds
 * with the right data, for reads and writes.
 */
static void test_ramdev_blk_process_short_transfer_resumed(void **state)
{
	struct fix *f = get(state);
	struct fault_engine_state *j = use_inj(f);

	rule(j, BLK_STEP_WRITEV, 1, 1, FE_SHORT, 0, 1000);
	rule(j, BLK_STEP_READV, 1, 2, FE_SHORT, 0, 1000);
	fill(f->ram, 4 * 4096, 3);
	/* Two buffers, so the cut falls inside an iovec list. */
	{
		struct piece h = hdr(hdr_buf(f), RAMDEV_BLK_T_OUT, 16);
		struct piece st = status(f);

		queue_elem(f, (struct piece[]){ h, ram(f->ram, 512),
						ram(f->ram + 4096, 7680) },
			   3, &st, 1);                          /* 0 */
	}
	rw(f, RAMDEV_BLK_T_IN, 16, ram(f->ram + 16384, 8192)); /* 1 */
	run(f);
	expect(f, 0, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 1, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	image_is(f, 16 * 512, f->ram, 512);
	image_is(f, 17 * 512, f->ram + 4096, 7680);
	assert_memory_equal(f->ram + 16384, f->ram, 512);
	assert_memory_equal(f->ram + 16384 + 512, f->ram + 4096, 7680);
	assert_true(stat_retries(f) >= 3);
	assert_true(j->calls[BLK_STEP_READV] >= 3);
}

/*
 * A write that makes progress, then fails with EIO: IOERR, and EIO on a
 * write is a write-back error: every later FLUSH fails until reset, while
 * reads and writes carry on.
 */
static void test_ramdev_blk_process_short_then_eio_sticks(void **state)
{
	struct fix *f = get(state);
	struct fault_engine_state *j = use_inj(f);

	rule(j, BLK_STEP_WRITEV, 1, 1, FE_SHORT, 0, 512);
	rule(j, BLK_STEP_WRITEV, 2, 1, FE_ERR, EIO, 0);
	fill(f->ram, 8192, 4);
	rw(f, RAMDEV_BLK_T_OUT, 0, ram(f->ram, 4096));        /* 0 */
	flush_req(f);                                         /* 1 */
	rw(f, RAMDEV_BLK_T_OUT, 8, ram(f->ram + 4096, 4096)); /* 2 */
	rw(f, RAMDEV_BLK_T_IN, 8, ram(f->ram + 8192, 4096));  /* 3 */
	flush_req(f);                                         /* 4 */
	run(f);
	expect(f, 0, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_IO);
	expect(f, 1, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_WRITEBACK);
	expect(f, 2, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 3, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 4, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_WRITEBACK);
	assert_memory_equal(f->ram + 4096, f->ram + 8192, 4096);
	image_is(f, 0, f->ram, 512); /* what the short write did write */
	assert_int_equal(0, j->calls[BLK_STEP_FDATASYNC]);
	assert_int_equal(-EIO, ramdev_blk_flush(f->blk, NULL));
	assert_int_equal(RAMDEV_BLK_OK, ramdev_blk_error(f->blk));
}

/*
 * No progress at all: a read returning 0 (end of file) is EIO, a write
 * returning 0 (full disk) ENOSPC: IOERR for the request, nothing sticks.
 */
static void test_ramdev_blk_process_zero_progress(void **state)
{
	struct fix *f = get(state);
	struct fault_engine_state *j = use_inj(f);

	rule(j, BLK_STEP_READV, 1, 1, FE_ZERO, 0, 0);
	rule(j, BLK_STEP_WRITEV, 1, 1, FE_ZERO, 0, 0);
	rw(f, RAMDEV_BLK_T_IN, 0, ram(f->ram, 4096));         /* 0 */
	rw(f, RAMDEV_BLK_T_OUT, 0, ram(f->ram + 4096, 4096)); /* 1 */
	rw(f, RAMDEV_BLK_T_IN, 0, ram(f->ram, 4096));         /* 2 */
	rw(f, RAMDEV_BLK_T_OUT, 0, ram(f->ram + 4096, 4096)); /* 3 */
	flush_req(f);                                         /* 4 */
	run(f);
	expect(f, 0, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_IO);
	expect(f, 1, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_IO);
	expect(f, 2, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 3, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 4, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
}

/* EINTR and EAGAIN are retried (the same step again), and succeed. */
static void test_ramdev_blk_process_interrupted_retried(void **state)
{
	struct fix *f = get(state);
	struct fault_engine_state *j = use_inj(f);

	rule(j, BLK_STEP_WRITEV, 1, 2, FE_ERR, EINTR, 0);
	rule(j, BLK_STEP_READV, 1, 1, FE_ERR, EAGAIN, 0);
	rule(j, BLK_STEP_FDATASYNC, 1, 1, FE_ERR, EINTR, 0);
	fill(f->ram, 4096, 5);
	rw(f, RAMDEV_BLK_T_OUT, 24, ram(f->ram, 4096));       /* 0 */
	rw(f, RAMDEV_BLK_T_IN, 24, ram(f->ram + 4096, 4096)); /* 1 */
	flush_req(f);                                         /* 2 */
	run(f);
	expect(f, 0, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 1, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 2, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	assert_memory_equal(f->ram, f->ram + 4096, 4096);
	assert_int_equal(4, stat_retries(f));
	assert_int_equal(0, ramdev_blk_flush(f->blk, NULL));
}

/* ---- flush ---- */

/* fdatasync ENOSPC sticks like EIO (any error but EINTR), until reset. */
static void test_ramdev_blk_process_fdatasync_enospc_sticks(void **state)
{
	struct fix *f = get(state);
	struct fault_engine_state *j = use_inj(f);

	rule(j, BLK_STEP_FDATASYNC, 1, 1, FE_ERR, ENOSPC, 0);
	rw(f, RAMDEV_BLK_T_OUT, 0, ram(f->ram, 4096)); /* 0 */
	flush_req(f);                                  /* 1: ENOSPC */
	flush_req(f);                                  /* 2 */
	rw(f, RAMDEV_BLK_T_OUT, 8, ram(f->ram, 4096)); /* 3 */
	run(f);
	expect(f, 0, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 1, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_IO);
	expect(f, 2, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_WRITEBACK);
	expect(f, 3, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	assert_int_equal(0, j->calls[BLK_STEP_FDATASYNC]);
	assert_int_equal(-EIO, ramdev_blk_flush(f->blk, NULL));

	/* A reset clears it; the engine stays (the queue is attached anew). */
	assert_int_equal(0, ramdev_blk_reset(f->blk));
	assert_int_equal(0, ramdev_blk_attach_queue_ops(f->blk, 0, &fq_ops,
							&f->q));
	flush_req(f);                                  /* 4 */
	run(f);
	expect(f, 4, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	assert_int_equal(1, j->calls[BLK_STEP_FDATASYNC]);
}

/* ---- discard and write zeroes (fallocate) ---- */

/*
 * No fallocate support: WRITE_ZEROES falls back from punching a hole to
 * zeroing a range to writing zeroes, and succeeds with zeroes in place.
 */
static void test_ramdev_blk_process_wz_fallocate_unsupported(void **state)
{
	struct fix *f = get(state);
	struct fault_engine_state *j = use_inj(f);
	uint8_t zero[8 * 512] = { 0 };

	fill(f->ram, 16 * 512, 6);
	assert_int_equal(16 * 512, pwrite(f->img, f->ram, 16 * 512, 0));
	rule(j, BLK_STEP_FALLOCATE, 1, 2, FE_ERR, EOPNOTSUPP, 0);
	dwz(f, RAMDEV_BLK_T_WRITE_ZEROES, 4, 8, RAMDEV_BLK_WZ_FLAG_UNMAP); /* 0 */
	flush_req(f);                                                    /* 1 */
	run(f);
	expect(f, 0, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 1, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	image_is(f, 0, f->ram, 4 * 512);
	image_is(f, 4 * 512, zero, 8 * 512);
	image_is(f, 12 * 512, f->ram + 12 * 512, 4 * 512);
	assert_true(j->calls[BLK_STEP_WRITEV] >= 1);
}

/*
 * fallocate EIO on a DISCARD: IOERR, and (as for a write EIO) later
 * FLUSHes fail; a fallocate ENOSPC on a WRITE_ZEROES fails only itself.
 */
static void test_ramdev_blk_process_fallocate_errors(void **state)
{
	struct fix *f = get(state);
	struct fault_engine_state *j = use_inj(f);

	rule(j, BLK_STEP_FALLOCATE, 1, 1, FE_ERR, ENOSPC, 0);
	rule(j, BLK_STEP_FALLOCATE, 2, 1, FE_ERR, EIO, 0);
	dwz(f, RAMDEV_BLK_T_WRITE_ZEROES, 0, 8, 0); /* 0: ENOSPC */
	flush_req(f);                               /* 1 */
	run(f);
	expect(f, 0, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_IO);
	expect(f, 1, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	dwz(f, RAMDEV_BLK_T_DISCARD, 0, 8, 0);      /* 2: EIO */
	flush_req(f);                               /* 3 */
	rw(f, RAMDEV_BLK_T_IN, 0, ram(f->ram, 4096)); /* 4 */
	run(f);
	expect(f, 2, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_IO);
	expect(f, 3, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_WRITEBACK);
	expect(f, 4, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
}

/* ---- real kernel errors, both engines (io_uring completions) ---- */

/*
 * RLIMIT_FSIZE below the image size: the kernel itself fails writes past
 * the limit with EFBIG, and a write across it is short (the part below is
 * written) before EFBIG.  Through the real engine under the checking one,
 * so with io_uring these are CQE results.  Each such write is IOERR;
 * EFBIG is not a write-back error, so FLUSH still succeeds; reads past
 * the limit and writes below it work.
 */
static void test_ramdev_blk_process_fsize_limit(void **state)
{
	struct fix *f = get(state);
	const rlim_t limit = 1u << 20;
	struct rlimit old, lim;
	void (*old_sig)(int);
	uint8_t zero[4096] = { 0 };

	assert_int_equal(0, getrlimit(RLIMIT_FSIZE, &old));
	if (old.rlim_max != RLIM_INFINITY && old.rlim_max < limit)
		skip();
	old_sig = signal(SIGXFSZ, SIG_IGN); /* else SIGXFSZ kills us */
	lim = (struct rlimit){ limit, old.rlim_max };
	assert_int_equal(0, setrlimit(RLIMIT_FSIZE, &lim));

	fill(f->ram, 4 * 4096, 7);
	rw(f, RAMDEV_BLK_T_OUT, (2u << 20) / 512, ram(f->ram, 4096)); /* 0 */
	rw(f, RAMDEV_BLK_T_OUT, limit / 512 - 4, ram(f->ram + 4096, 4096)); /* 1 */
	rw(f, RAMDEV_BLK_T_OUT, 0, ram(f->ram + 8192, 4096));         /* 2 */
	flush_req(f);                                                 /* 3 */
	rw(f, RAMDEV_BLK_T_IN, (2u << 20) / 512, ram(f->ram + 12288, 4096)); /* 4 */
	run(f);

	assert_int_equal(0, setrlimit(RLIMIT_FSIZE, &old));
	signal(SIGXFSZ, old_sig);
	expect(f, 0, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_IO);
	expect(f, 1, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_IO);
	expect(f, 2, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 3, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 4, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	image_is(f, 2u << 20, zero, 4096);
	image_is(f, limit - 2048, f->ram + 4096, 2048); /* below the limit */
	image_is(f, limit, zero, 2048);
	image_is(f, 0, f->ram + 8192, 4096);
	assert_memory_equal(f->ram + 12288, zero, 4096);
	assert_int_equal(0, ramdev_blk_flush(f->blk, NULL));
}

#define S(fn) cmocka_unit_test_setup_teardown(fn, setup_sync, teardown_inj)
#define E(fn, setup) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		S(test_ramdev_blk_process_read_eio_only_that_request),
		S(test_ramdev_blk_process_write_enospc_then_ok),
		S(test_ramdev_blk_process_short_transfer_resumed),
		S(test_ramdev_blk_process_short_then_eio_sticks),
		S(test_ramdev_blk_process_zero_progress),
		S(test_ramdev_blk_process_interrupted_retried),
		S(test_ramdev_blk_process_fdatasync_enospc_sticks),
		S(test_ramdev_blk_process_wz_fallocate_unsupported),
		S(test_ramdev_blk_process_fallocate_errors),
		E(test_ramdev_blk_process_fsize_limit, setup_sync),
		E(test_ramdev_blk_process_fsize_limit, setup_uring),
		E(test_ramdev_blk_process_fsize_limit, setup_uring_inline),
	};

	return cmocka_run_group_tests_name("blk_inject", tests, NULL, NULL);
}
