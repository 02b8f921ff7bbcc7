// SPDX-License-Identifier: MIT
/*
 * virtio-blk data limits and staging (suite 'blk'): seg_max and size_max
 * enforced, staging bounded by the device's budget, requests larger than
 * the budget carried out in windows, requests waiting for space, staging
 * buffers kept for reuse and freed by a reset, large staged reads run
 * inline.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>

#include "blk_fake.h"

static void test_ramdev_blk_process_seg_size_max(void **state)
{
	struct fix *f = get(state);
	struct ramdev_blk_options o = { .seg_max = 2, .size_max = 4096 };
	struct ramdev_blk_config c;
	struct piece h, st;

	reopen(f, &o);
	assert_true(ramdev_blk_features(f->blk) & (1u << RAMDEV_BLK_F_SIZE_MAX));
	assert_int_equal(0, ramdev_blk_get_config(f->blk, &c));
	assert_int_equal(2, le32toh(c.seg_max));
	assert_int_equal(4096, le32toh(c.size_max));
	h = hdr(hdr_buf(f), RAMDEV_BLK_T_OUT, 0);                 /* 0: 3 segs */
	st = status(f);
	queue_elem(f, (struct piece[]){ h, ram(f->ram, 512), dev(f->dev, 512),
				       ram(f->ram + 4096, 512) }, 4, &st, 1);
	h = hdr(hdr_buf(f), RAMDEV_BLK_T_OUT, 0);                 /* 1: 2 segs */
	st = status(f);
	queue_elem(f, (struct piece[]){ h, ram(f->ram, 4096), dev(f->dev, 512) },
		   3, &st, 1);
	rw(f, RAMDEV_BLK_T_IN, 0, dev(f->dev + 8192, 8192));      /* 2: 8 KiB */
	rw(f, RAMDEV_BLK_T_IN, 0, ram(f->ram + 8192, 4096));      /* 3 */
	run(f);
	expect(f, 0, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_SEG_MAX);
	expect(f, 1, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 2, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_SIZE_MAX);
	expect(f, 3, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	o = (struct ramdev_blk_options){ .stage_budget = 4095 };
	o.fd = f->img;
	assert_int_equal(-EINVAL, ramdev_blk_open(&(struct ramdev_blk *){ 0 },
						  &o));
}

/*
 * The review's shape, scaled down: 16 descriptors on one 8 KiB DEV range
 * (128 KiB staged) with a 16 KiB budget; then a read back into DEV pieces
 * of odd sizes around a RAM one.  Both complete, in windows, and the device
 * never reserves more than its budget.
 */
static void test_ramdev_blk_process_stage_windows(void **state)
{
	struct fix *f = get(state);
	struct ramdev_blk_options o = { .stage_budget = 16384 };
	struct piece out[17], st;
	struct ramdev_blk_stats s;
	uint8_t *disk = malloc(131072);

	assert_non_null(disk);
	reopen(f, &o);
	fill(f->dev, 8192, 30);
	out[0] = hdr(hdr_buf(f), RAMDEV_BLK_T_OUT, 64);
	for (unsigned i = 1; i <= 16; i++)
		out[i] = dev(f->dev, 8192);
	st = status(f);
	queue_elem(f, out, 17, &st, 1);
	run(f);
	expect(f, 0, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	assert_int_equal(131072, pread(f->img, disk, 131072, 64 * 512));
	for (unsigned i = 0; i < 16; i++)
		assert_memory_equal(f->dev, disk + i * 8192, 8192);

	fill(disk, 131072, 31);
	assert_int_equal(131072, pwrite(f->img, disk, 131072, 1024 * 512));
	memset(f->dev + 65536, 0, 131072);
	out[0] = hdr(hdr_buf(f), RAMDEV_BLK_T_IN, 1024);
	st = status(f);
	queue_elem(f, out, 1,
		   (struct piece[]){ dev(f->dev + 65536 + 1, 1000),
				     ram(f->ram, 3096),
				     dev(f->dev + 65536 + 4097, 126976), st }, 4);
	run(f);
	expect(f, 1, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	assert_memory_equal(disk, f->dev + 65536 + 1, 1000);
	assert_memory_equal(disk + 1000, f->ram, 3096);
	assert_memory_equal(disk + 4096, f->dev + 65536 + 4097, 126976);
	ramdev_blk_get_stats(f->blk, &s);
	assert_true(s.stage_peak <= 16384);
	assert_true(s.stage_peak > 0);
	assert_int_equal(131072 + 127976, s.bytes_staged);
	free(disk);
}

/*
 * With writes in flight (io_uring), a request that needs more staging
 * than is free waits, the queue stops behind it, and completions start it.
 */
static void test_ramdev_blk_process_stage_waits(void **state)
{
	struct fix *f = get(state);
	struct ramdev_blk_options o = { .stage_budget = 16384 };
	struct ramdev_blk_stats s;

	reopen(f, &o);
	fill(f->dev, 24576, 40);
	rw(f, RAMDEV_BLK_T_OUT, 0, dev(f->dev, 12288));             /* 0 */
	rw(f, RAMDEV_BLK_T_OUT, 24, dev(f->dev + 12288, 12288));    /* 1 */
	rw(f, RAMDEV_BLK_T_OUT, 48, ram(f->ram, 4096));             /* 2 */
	if (f->async_writes) {
		assert_int_equal(2, ramdev_blk_process(f->blk, 0, NULL));
		assert_int_equal(2, f->q.next); /* stopped behind the waiter */
		ramdev_blk_get_stats(f->blk, &s);
		assert_int_equal(1, s.stage_waits);
	} else {
		assert_int_equal(3, ramdev_blk_process(f->blk, 0, NULL));
	}
	for (int i = 0; i < 1000 && f->q.nused < 3; i++)
		assert_true(ramdev_blk_wait(f->blk, -1, NULL) >= 0);
	assert_true(ramdev_blk_drain(f->blk, NULL) >= 0);
	assert_int_equal(3, f->q.nused);
	for (unsigned i = 0; i < 3; i++)
		expect(f, i, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	ramdev_blk_get_stats(f->blk, &s);
	assert_true(s.stage_peak <= 16384);
	{
		uint8_t buf[24576];

		assert_int_equal(24576, pread(f->img, buf, 24576, 0));
		assert_memory_equal(f->dev, buf, 24576);
	}
}

/* The staging buffer the next request would reuse (the cache's top). */
static const uint8_t *kept_stage(const struct fix *f)
{
	return f->blk->req_cache ? f->blk->req_cache->stage : NULL;
}

/*
 * A finished request keeps its staging buffer for the next one: a read
 * that fails after a successful one reuses the buffer holding the earlier
 * data, and the guest must get zeroes, not that data; the request after
 * it reuses the buffer again.  A reset frees the kept requests and their
 * buffers; the device then allocates anew.
 */
static void test_ramdev_blk_process_stage_reuse(void **state)
{
	struct fix *f = get(state);
	const struct ramdev_blk_engine_ops *engine = f->blk->engine;
	void *opaque = f->blk->engine_opaque;
	const uint8_t *buf;
	uint8_t disk[16384];

	fill(disk, sizeof(disk), 50);
	assert_int_equal(sizeof(disk), pwrite(f->img, disk, sizeof(disk), 0));
	rw(f, RAMDEV_BLK_T_IN, 0, dev(f->dev, 8192));              /* 0 */
	run(f);
	expect(f, 0, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	assert_memory_equal(disk, f->dev, 8192);
	buf = kept_stage(f);
	assert_non_null(buf);
	assert_int_equal(f->blk->req_cache->stage_cap, f->blk->stage_kept);

	/* The read itself fails: the kept buffer still holds request 0's
	 * data, which must not reach the guest. */
	use_fault_engine(f);
	f->fe.fail_kind = BLK_STEP_READV;
	f->fe.fail_err = -EIO;
	f->fe.fail_count = 1;
	memset(f->dev + 65536, 0xaa, 8192);
	rw(f, RAMDEV_BLK_T_IN, 0, dev(f->dev + 65536, 8192));      /* 1 */
	run(f);
	f->blk->engine = engine;
	f->blk->engine_opaque = opaque;
	expect(f, 1, RAMDEV_BLK_S_IOERR, RAMDEV_BLK_IO);
	for (unsigned i = 0; i < 8192; i++)
		assert_int_equal(0, f->dev[65536 + i]);
	assert_ptr_equal(buf, kept_stage(f));

	/* Reused again, in both directions. */
	rw(f, RAMDEV_BLK_T_IN, 16, dev(f->dev + 131072, 8192));    /* 2 */
	run(f);
	expect(f, 2, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	assert_memory_equal(disk + 8192, f->dev + 131072, 8192);
	assert_ptr_equal(buf, kept_stage(f));
	fill(f->dev + 196608, 8192, 51);
	rw(f, RAMDEV_BLK_T_OUT, 64, dev(f->dev + 196608, 8192));   /* 3 */
	run(f);
	expect(f, 3, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	assert_ptr_equal(buf, kept_stage(f));
	assert_int_equal(8192, pread(f->img, disk, 8192, 64 * 512));
	assert_memory_equal(f->dev + 196608, disk, 8192);

	assert_int_equal(0, ramdev_blk_reset(f->blk));
	assert_null(f->blk->req_cache);
	assert_int_equal(0, f->blk->req_cached);
	assert_int_equal(0, f->blk->stage_kept);
	assert_int_equal(0, ramdev_blk_attach_queue_ops(f->blk, 0, &fq_ops,
							&f->q));
	rw(f, RAMDEV_BLK_T_IN, 64, dev(f->dev + 262144, 8192));    /* 4 */
	run(f);
	expect(f, 4, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	assert_memory_equal(disk, f->dev + 262144, 8192);
	assert_non_null(kept_stage(f));
	assert_int_equal(f->blk->req_cache->stage_cap, f->blk->stage_kept);
}

/*
 * Large staged reads of cached data run on the calling thread (io_uring:
 * uring_read_inline): each request finishes before the next one starts,
 * so two of them in one batch share one request and one staging buffer.
 * Data the page cache no longer holds goes through io_uring; a request
 * larger than the budget reads window by window.  The data is right in
 * every case, with every engine.
 */
static void test_ramdev_blk_process_stage_read_inline(void **state)
{
	struct fix *f = get(state);
	struct ramdev_blk_options o = { .stage_budget = 32768 };
	static uint8_t disk[196608];
	uint8_t probe[512];
	struct iovec iov = { probe, sizeof(probe) };

	if (preadv2(f->img, &iov, 1, 0, RWF_NOWAIT) < 0 && errno != EAGAIN) {
		print_message("SKIP: preadv2(RWF_NOWAIT) on the image: %s\n",
			      strerror(errno));
		skip();
	}
	fill(disk, sizeof(disk), 60);
	assert_int_equal(sizeof(disk), pwrite(f->img, disk, sizeof(disk), 0));
	rw(f, RAMDEV_BLK_T_IN, 0, dev(f->dev, 65536));             /* 0 */
	rw(f, RAMDEV_BLK_T_IN, 128, dev(f->dev + 65536, 65536));   /* 1 */
	run(f);
	expect(f, 0, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	expect(f, 1, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	assert_memory_equal(disk, f->dev, 131072);
	assert_int_equal(1, f->blk->req_cached);
	assert_int_equal(65536, f->blk->stage_kept);

	/* Out of the page cache (clean pages dropped): io_uring reads it. */
	assert_int_equal(0, fdatasync(f->img));
	assert_int_equal(0, posix_fadvise(f->img, 0, 0, POSIX_FADV_DONTNEED));
	rw(f, RAMDEV_BLK_T_IN, 256, dev(f->dev + 131072, 65536));  /* 2 */
	run(f);
	expect(f, 2, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	assert_memory_equal(disk + 131072, f->dev + 131072, 65536);

	/* 128 KiB in windows of 32 KiB, each read and copied on its own. */
	reopen(f, &o);
	memset(f->dev, 0, 131072);
	rw(f, RAMDEV_BLK_T_IN, 64, dev(f->dev, 131072));           /* 3 */
	run(f);
	expect(f, 3, RAMDEV_BLK_S_OK, RAMDEV_BLK_OK);
	assert_memory_equal(disk + 32768, f->dev, 131072);
}

#define S(fn, s) cmocka_unit_test_setup_teardown(fn, s, teardown)

int test_blk_stage_run(void)
{
	const struct CMUnitTest tests[] = {
		S(test_ramdev_blk_process_seg_size_max, setup_sync),
		S(test_ramdev_blk_process_stage_windows, setup_sync),
		S(test_ramdev_blk_process_stage_windows, setup_uring),
		S(test_ramdev_blk_process_stage_windows, setup_uring_inline),
		S(test_ramdev_blk_process_stage_waits, setup_sync),
		S(test_ramdev_blk_process_stage_waits, setup_uring),
		S(test_ramdev_blk_process_stage_reuse, setup_sync),
		S(test_ramdev_blk_process_stage_reuse, setup_uring),
		S(test_ramdev_blk_process_stage_read_inline, setup_sync),
		S(test_ramdev_blk_process_stage_read_inline, setup_uring),
		S(test_ramdev_blk_process_stage_read_inline,
		  setup_uring_inline),
	};

	return cmocka_run_group_tests_name("blk_stage", tests, NULL, NULL);
}
