// SPDX-License-Identifier: MIT
/*
 * virtio-blk end to end: real split rings in a test guest (RAM, RAMD and
 * MMIO regions), filled by the driver helper, popped by the virtqueue layer
 * through the DMA layer, executed by both engines.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "blk_fake.h"
#include "blk_rig.h"
#include "test_guest.h"
#include "vring_driver.h"

#define RQ_SIZE 16u
#define RQ_IND_MAX 8u
#define RQ_DESC 0x0ull
#define RQ_AVAIL 0x1000ull
#define RQ_USED 0x2000ull
#define RQ_IND 0x10000ull
#define RQ_HDR 0x20000ull
#define RQ_STATUS 0x21000ull
#define RQ_DATA 0x100000ull
#define RQ_IMG (4u << 20)

/* ThreadSanitizer keeps 4 shadow bytes (plus metadata) per application
 * byte touched: a bound on the resident set scales with it. */
#if defined(__SANITIZE_THREAD__)
#define RSS_SCALE 5
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RSS_SCALE 5
#endif
#endif
#ifndef RSS_SCALE
#define RSS_SCALE 1
#endif

struct ring_fix {
	struct blk_rig r;
	enum ramdev_blk_engine engine;
	enum ramdev_dma_policy policy;
	unsigned nreq;
};

static int ring_setup_with(void **state, enum ramdev_blk_engine engine,
			   enum ramdev_dma_policy policy, bool no_merge)
{
	struct ring_fix *f = calloc(1, sizeof(*f));
	struct test_guest_config gc = { .policy = policy };
	struct ramdev_virtq_config qc = {
		.size = RQ_SIZE, .desc = RQ_DESC, .avail = RQ_AVAIL,
		.used = RQ_USED, .event_idx = true, .indirect = true,
	};
	struct vring_drv_config dc = vring_drv_config_of(&qc, RQ_IND,
							 RQ_IND_MAX);
	struct ramdev_blk_options o = { .engine = engine, .no_merge = no_merge };

	assert_non_null(f);
	*state = f;
	f->engine = engine;
	f->policy = policy;
	if (blk_rig_new(&f->r, "blk-ring", RQ_IMG, &gc, &qc, &dc, &o))
		return 0;
	assert_int_equal(-EBUSY, ramdev_blk_attach_queue(f->r.blk, 0, f->r.vq,
							 NULL));
	return 0;
}

static int ring_teardown(void **state)
{
	struct ring_fix *f = *state;

	blk_rig_free(&f->r);
	free(f);
	return 0;
}

static int ring_setup(void **state, enum ramdev_blk_engine engine,
		      enum ramdev_dma_policy policy)
{
	return ring_setup_with(state, engine, policy, false);
}

static int setup_direct_sync(void **s)
{
	return ring_setup(s, RAMDEV_BLK_ENGINE_SYNC, RAMDEV_DMA_DIRECT);
}

static int setup_direct_uring(void **s)
{
	return ring_setup(s, RAMDEV_BLK_ENGINE_URING, RAMDEV_DMA_DIRECT);
}

static int setup_bounce_sync(void **s)
{
	return ring_setup(s, RAMDEV_BLK_ENGINE_SYNC, RAMDEV_DMA_QEMU_BOUNCE);
}

static int setup_bounce_uring(void **s)
{
	return ring_setup(s, RAMDEV_BLK_ENGINE_URING, RAMDEV_DMA_QEMU_BOUNCE);
}

static int setup_bounce_sync_nomerge(void **s)
{
	return ring_setup_with(s, RAMDEV_BLK_ENGINE_SYNC,
			       RAMDEV_DMA_QEMU_BOUNCE, true);
}

static struct ring_fix *ring_get(void **state)
{
	struct ring_fix *f = *state;

	if (!f->r.blk)
		skip();
	return f;
}

/* Add a request: header, @n data buffers (out for OUT, in for IN), status. */
static int add_req(struct ring_fix *f, uint32_t type, uint64_t sector,
		   const struct vring_drv_buf *data, unsigned n, bool indirect)
{
	struct vring_drv_buf out[RQ_IND_MAX], in[RQ_IND_MAX];
	unsigned nout = 0, nin = 0, slot = f->nreq++;
	uint8_t h[16];
	uint32_t t = htole32(type);
	uint64_t s = htole64(sector);
	uint8_t ff = 0xff;
	int head;

	memset(h, 0, sizeof(h));
	memcpy(h, &t, 4);
	memcpy(h + 8, &s, 8);
	assert_int_equal(0, ramdev_as_write(f->r.g->as, RQ_HDR + slot * 16, h, 16));
	assert_int_equal(0, ramdev_as_write(f->r.g->as, RQ_STATUS + slot, &ff, 1));
	out[nout++] = (struct vring_drv_buf){ RQ_HDR + slot * 16, 16 };
	for (unsigned i = 0; i < n; i++) {
		if (type == RAMDEV_BLK_T_OUT)
			out[nout++] = data[i];
		else
			in[nin++] = data[i];
	}
	in[nin++] = (struct vring_drv_buf){ RQ_STATUS + slot, 1 };
	head = vring_drv_add(f->r.drv, out, nout, in, nin, indirect);
	assert_true(head >= 0);
	return head;
}

/* Drain the device and reap used elements until @want are back (bounded). */
static unsigned drain_used(struct ring_fix *f, unsigned want)
{
	unsigned used = 0;
	uint32_t len;
	uint16_t id;

	for (int i = 0; i < 100 && used < want; i++) {
		assert_true(ramdev_blk_drain(f->r.blk, NULL) >= 0);
		while (vring_drv_get_used(f->r.drv, &id, &len) == 1)
			used++;
	}
	return used;
}

static uint8_t status_at(struct ring_fix *f, unsigned slot)
{
	uint8_t st = 0xee;

	assert_int_equal(0, ramdev_as_read(f->r.g->as, RQ_STATUS + slot, &st, 1));
	return st;
}

static void test_ramdev_blk_attach_queue_ring_roundtrip(void **state)
{
	struct ring_fix *f = ring_get(state);
	uint64_t ramd = TEST_GUEST_RAMD_GPA + 0x3000;
	struct vring_drv_buf w[] = { { ramd, 8192 }, { RQ_DATA, 4096 } };
	struct vring_drv_buf r[] = { { ramd + 0x10000, 12288 } };
	uint8_t src[12288], back[12288], disk[12288];
	uint64_t notify = 0;
	uint32_t len;
	uint16_t id;
	int h0, h1;

	for (unsigned i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 13 + 5);
	assert_int_equal(0, ramdev_as_write(f->r.g->as, ramd, src, 8192));
	assert_int_equal(0, ramdev_as_write(f->r.g->as, RQ_DATA, src + 8192, 4096));
	h0 = add_req(f, RAMDEV_BLK_T_OUT, 40, w, 2, false);
	vring_drv_publish(f->r.drv);
	assert_int_equal(1, ramdev_blk_process(f->r.blk, 0, &notify));
	assert_true(ramdev_blk_drain(f->r.blk, &notify) >= 0);
	assert_int_equal(1, vring_drv_get_used(f->r.drv, &id, &len));
	assert_int_equal(h0, id);
	assert_int_equal(1, len);
	assert_int_equal(RAMDEV_BLK_S_OK, status_at(f, 0));
	assert_int_equal(12288, pread(f->r.img, disk, 12288, 40 * 512));
	assert_memory_equal(src, disk, 12288);

	h1 = add_req(f, RAMDEV_BLK_T_IN, 40, r, 1, true);
	vring_drv_publish(f->r.drv);
	assert_int_equal(1, ramdev_blk_process(f->r.blk, 0, &notify));
	assert_true(ramdev_blk_drain(f->r.blk, &notify) >= 0);
	assert_int_equal(1, vring_drv_get_used(f->r.drv, &id, &len));
	assert_int_equal(h1, id);
	assert_int_equal(12289, len);
	assert_int_equal(RAMDEV_BLK_S_OK, status_at(f, 1));
	assert_int_equal(0, ramdev_as_read(f->r.g->as, ramd + 0x10000, back, 12288));
	assert_memory_equal(src, back, 12288);
	assert_true(notify & 1);
}

/*
 * MMIO data: bounced while the pool has room; a request that finds it busy
 * runs at once anyway, its data reached through the MMIO callbacks.
 */
static void test_ramdev_blk_process_ring_mmio_bounce_wait(void **state)
{
	struct ring_fix *f = ring_get(state);
	struct vring_drv_buf a = { TEST_GUEST_MMIO_GPA, 4096 };
	struct vring_drv_buf b = { TEST_GUEST_MMIO_GPA + 8192, 4096 };
	uint8_t src[4096], back[4096];
	struct ramdev_blk_stats s;
	struct ramdev_dma_stats ds;

	for (unsigned i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i ^ 0x5a);
	assert_int_equal(4096, pwrite(f->r.img, src, 4096, 0));
	assert_int_equal(4096, pwrite(f->r.img, src, 4096, 8192));
	add_req(f, RAMDEV_BLK_T_IN, 0, &a, 1, false);
	add_req(f, RAMDEV_BLK_T_IN, 16, &b, 1, false);
	vring_drv_publish(f->r.drv);
	assert_true(ramdev_blk_process(f->r.blk, 0, NULL) >= 1);
	assert_int_equal(2, drain_used(f, 2));
	assert_int_equal(RAMDEV_BLK_S_OK, status_at(f, 0));
	assert_int_equal(RAMDEV_BLK_S_OK, status_at(f, 1));
	assert_int_equal(0, ramdev_as_read(f->r.g->as, a.gpa, back, 4096));
	assert_memory_equal(src, back, 4096);
	assert_int_equal(0, ramdev_as_read(f->r.g->as, b.gpa, back, 4096));
	assert_memory_equal(src, back, 4096);
	ramdev_blk_get_stats(f->r.blk, &s);
	assert_int_equal(2, s.status[RAMDEV_BLK_S_OK]);
	ramdev_dma_get_stats(f->r.g->dma, &ds);
	assert_int_equal(2, ds.maps_bounced + ds.maps_indirect);
	assert_int_equal(0, ds.bounce_retries); /* nobody waited */
	/* With io_uring the first still holds the pool when the second pops. */
	if (f->engine == RAMDEV_BLK_ENGINE_URING)
		assert_int_equal(1, ds.maps_indirect);
}

/*
 * A 32 KiB request whose data lives in MMIO, eight times the 4 KiB pool:
 * before map_sg learnt to leave MMIO unmapped it could never be mapped and
 * the queue stalled; now it completes, both directions, and the bytes that
 * reach the callbacks are exactly the image's.
 */
static void test_ramdev_blk_process_ring_mmio_larger_than_pool(void **state)
{
	struct ring_fix *f = ring_get(state);
	struct vring_drv_buf in = { TEST_GUEST_MMIO_GPA, 32768 };
	struct vring_drv_buf out = { TEST_GUEST_MMIO_GPA + 32768, 32768 };
	static uint8_t src[32768], back[32768];

	for (unsigned i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(32768, pwrite(f->r.img, src, 32768, 0));
	memcpy(f->r.g->mmio_mem + 32768, src, 32768);
	add_req(f, RAMDEV_BLK_T_IN, 0, &in, 1, false);
	add_req(f, RAMDEV_BLK_T_OUT, 128, &out, 1, false);
	vring_drv_publish(f->r.drv);
	assert_true(ramdev_blk_process(f->r.blk, 0, NULL) >= 1);
	assert_int_equal(2, drain_used(f, 2));
	assert_int_equal(RAMDEV_BLK_S_OK, status_at(f, 0));
	assert_int_equal(RAMDEV_BLK_S_OK, status_at(f, 1));
	assert_memory_equal(src, f->r.g->mmio_mem, 32768);
	assert_int_equal(32768, pread(f->r.img, back, 32768, 128 * 512));
	assert_memory_equal(src, back, 32768);
}

/*
 * QEMU before the fix, two requests with RAMD data in one kick: QEMU's
 * virtio-blk pops every available request before it runs them, so the
 * first holds the one bounce buffer when the second is mapped, and the
 * queue breaks.  The sync engine does the same (it runs its batch at the
 * kick); with merging off it runs each request before it pops the next,
 * and both go through.  (io_uring's outcome depends on whether the first
 * write finished inline.)
 */
static void test_ramdev_blk_process_ring_qemu_bounce_two(void **state)
{
	struct ring_fix *f = ring_get(state);
	struct vring_drv_buf a = { TEST_GUEST_RAMD_GPA, 4096 };
	struct vring_drv_buf b = { TEST_GUEST_RAMD_GPA + 0x8000, 4096 };
	bool one_by_one = !f->r.blk->merge;

	add_req(f, RAMDEV_BLK_T_OUT, 0, &a, 1, false);
	add_req(f, RAMDEV_BLK_T_OUT, 8, &b, 1, false);
	vring_drv_publish(f->r.drv);
	if (one_by_one) {
		assert_int_equal(2, ramdev_blk_process(f->r.blk, 0, NULL));
		assert_int_equal(2, drain_used(f, 2));
		return;
	}
	assert_int_equal(-ENOBUFS, ramdev_blk_process(f->r.blk, 0, NULL));
	assert_int_equal(RAMDEV_VIRTQ_UNMAPPED, ramdev_virtq_error(f->r.vq));
	assert_true(ramdev_blk_drain(f->r.blk, NULL) >= 0);
	assert_int_equal(0, ramdev_blk_inflight(f->r.blk));
}

/* QEMU before the fix: RAMD data needs the one bounce buffer twice. */
static void test_ramdev_blk_process_ring_qemu_bounce(void **state)
{
	struct ring_fix *f = ring_get(state);
	struct vring_drv_buf w[] = { { TEST_GUEST_RAMD_GPA, 4096 },
				     { TEST_GUEST_RAMD_GPA + 0x8000, 4096 } };

	add_req(f, RAMDEV_BLK_T_OUT, 0, w, 2, true);
	vring_drv_publish(f->r.drv);
	assert_int_equal(-ENOBUFS, ramdev_blk_process(f->r.blk, 0, NULL));
	assert_int_equal(RAMDEV_VIRTQ_UNMAPPED, ramdev_virtq_error(f->r.vq));
	assert_int_equal(-EIO, ramdev_blk_process(f->r.blk, 0, NULL));
	assert_int_equal(0, ramdev_blk_inflight(f->r.blk));
}

/* The same RAM-only request goes through under either policy. */
static void test_ramdev_blk_process_ring_ram_only(void **state)
{
	struct ring_fix *f = ring_get(state);
	struct vring_drv_buf w = { RQ_DATA, 65536 };
	uint32_t len;
	uint16_t id;

	add_req(f, RAMDEV_BLK_T_OUT, 0, &w, 1, true);
	add_req(f, RAMDEV_BLK_T_FLUSH, 0, NULL, 0, false);
	vring_drv_publish(f->r.drv);
	assert_int_equal(2, ramdev_blk_process(f->r.blk, 0, NULL));
	assert_true(ramdev_blk_drain(f->r.blk, NULL) >= 0);
	assert_int_equal(1, vring_drv_get_used(f->r.drv, &id, &len));
	assert_int_equal(1, vring_drv_get_used(f->r.drv, &id, &len));
	assert_int_equal(RAMDEV_BLK_S_OK, status_at(f, 0));
	assert_int_equal(RAMDEV_BLK_S_OK, status_at(f, 1));
}

/* ---- a guest that keeps its ring full while the VMM resets the device ---- */

#define LL_SIZE 256u

struct refill {
	struct test_guest *g;
	struct vring_drv *drv;
	atomic_bool stop, started;
	unsigned added;
	int err; /* of vring_drv_add: the thread may not use cmocka */
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* IN of 64 KiB at sector 0 into RAM, header and status in slot @slot. */
static int refill_add(struct refill *r, unsigned slot)
{
	uint64_t h = 0x40000 + (uint64_t)slot * 0x40;
	struct vring_drv_buf out[1] = { { h, 16 } };
	struct vring_drv_buf in[2] = { { 0x100000, 0x10000 }, { h + 0x20, 1 } };
	int ret;

	memset(r->g->ram_host + h, 0, 16); /* type IN, sector 0 */
	ret = vring_drv_add(r->drv, out, 1, in, 2, true);
	r->added++;
	return ret < 0 ? ret : 0;
}

static void *refill_guest(void *arg)
{
	struct refill *r = arg;
	double end = now_s() + 5;
	uint32_t len;
	uint16_t id;

	while (!atomic_load(&r->stop) && now_s() < end && !r->err) {
		while (vring_drv_get_used(r->drv, &id, &len) == 1)
			;
		while (vring_drv_num_free(r->drv) >= 1 && !r->err)
			r->err = refill_add(r, r->added % LL_SIZE);
		vring_drv_publish(r->drv);
		atomic_store(&r->started, true);
	}
	atomic_store(&r->started, true);
	return NULL;
}

/* The refilling guest's ring: its own queue and driver, LL_SIZE entries. */
static const struct ramdev_virtq_config ll_qc = {
	.size = LL_SIZE, .desc = 0, .avail = 0x1000, .used = 0x2000,
	.indirect = true,
};

/* Its driver: indirect tables at 0x10000, 4 entries each. */
static int ll_drv_new(struct vring_drv **drv, struct ramdev_as *as)
{
	struct vring_drv_config dc = vring_drv_config_of(&ll_qc, 0x10000, 4);

	return vring_drv_new(drv, as, &dc);
}

/*
 * The review's livelock: at depth 2 the queue stops, and the reset's drain
 * used to resume it on every completion, popping new requests for as long
 * as the guest refilled the ring (5 s here).  Now it waits for the two in
 * flight only.
 */
static void test_ramdev_blk_reset_ring_guest_refills(void **state)
{
	struct ring_fix *f = ring_get(state);
	struct ramdev_blk_options o = { .fd = f->r.img, .engine = f->engine,
					.depth = 2 };
	struct refill r = { .g = f->r.g };
	struct ramdev_blk_stats a, b;
	struct ramdev_virtq *vq;
	pthread_t th;
	double t0, t1;

	assert_int_equal(0, ramdev_blk_detach_queue(f->r.blk, 0));
	ramdev_blk_close(f->r.blk);
	assert_int_equal(0, ramdev_blk_open(&f->r.blk, &o));
	assert_int_equal(0, ramdev_virtq_new(&vq, f->r.g->dma, &ll_qc));
	assert_int_equal(0, ll_drv_new(&r.drv, f->r.g->as));
	assert_int_equal(0, ramdev_blk_attach_queue(f->r.blk, 0, vq, f->r.g->dma));
	assert_int_equal(0, pthread_create(&th, NULL, refill_guest, &r));
	while (!atomic_load(&r.started))
		;
	assert_true(ramdev_blk_process(f->r.blk, 0, NULL) >= 1);
	ramdev_blk_get_stats(f->r.blk, &a);
	t0 = now_s();
	assert_int_equal(0, ramdev_blk_reset(f->r.blk));
	t1 = now_s();
	ramdev_blk_get_stats(f->r.blk, &b);
	atomic_store(&r.stop, true);
	assert_int_equal(0, pthread_join(th, NULL));
	assert_int_equal(0, r.err);
	assert_int_equal(0, ramdev_blk_inflight(f->r.blk));
	assert_int_equal(a.requests, b.requests); /* nothing popped */
	assert_true(t1 - t0 < 1.0);
	/* The fixture's teardown detaches queue 0: give it the old one. */
	assert_int_equal(0, ramdev_blk_attach_queue(f->r.blk, 0, f->r.vq, f->r.g->dma));
	vring_drv_free(r.drv);
	ramdev_virtq_free(vq);
}

/*
 * With the sync engine every request finishes inside ramdev_blk_process(),
 * so the depth limit never stops a guest that refills its ring as fast as
 * requests finish: one call used to run for as long as the guest kept going.
 * It now returns after RAMDEV_BLK_PROCESS_BATCH requests with event_fd
 * readable, and ramdev_blk_complete() carries on.
 */
static void test_ramdev_blk_process_ring_guest_refills_bounded(void **state)
{
	struct ring_fix *f = ring_get(state);
	struct refill r = { .g = f->r.g };
	struct ramdev_virtq *vq;
	struct pollfd pfd;
	pthread_t th;
	int n, full = 0;

	assert_int_equal(0, ramdev_blk_detach_queue(f->r.blk, 0));
	assert_int_equal(0, ramdev_virtq_new(&vq, f->r.g->dma, &ll_qc));
	assert_int_equal(0, ll_drv_new(&r.drv, f->r.g->as));
	assert_int_equal(0, ramdev_blk_attach_queue(f->r.blk, 0, vq, f->r.g->dma));
	assert_int_equal(0, pthread_create(&th, NULL, refill_guest, &r));
	while (!atomic_load(&r.started))
		;
	for (int round = 0; round < 20; round++) {
		n = ramdev_blk_process(f->r.blk, 0, NULL);
		assert_true(n >= 0 && n <= RAMDEV_BLK_PROCESS_BATCH);
		if (n == RAMDEV_BLK_PROCESS_BATCH) {
			full++;
			pfd = (struct pollfd){ .fd = ramdev_blk_event_fd(f->r.blk),
					       .events = POLLIN };
			assert_int_equal(1, poll(&pfd, 1, 0));
			assert_true(ramdev_blk_complete(f->r.blk, NULL) >= 0);
		}
	}
	atomic_store(&r.stop, true);
	assert_int_equal(0, pthread_join(th, NULL));
	assert_int_equal(0, r.err);
	print_message("%d of 20 calls stopped at the batch limit\n", full);
	assert_true(full >= 1); /* the guest did outpace the device */
	assert_int_equal(0, ramdev_blk_drain(f->r.blk, NULL));
	assert_int_equal(0, ramdev_blk_detach_queue(f->r.blk, 0));
	assert_int_equal(0, ramdev_blk_attach_queue(f->r.blk, 0, f->r.vq, f->r.g->dma));
	vring_drv_free(r.drv);
	ramdev_virtq_free(vq);
}

static long peak_rss_mib(void)
{
	struct rusage u;

	assert_int_equal(0, getrusage(RUSAGE_SELF, &u));
	return u.ru_maxrss / 1024;
}

/*
 * The review's poc_stage_mem: one OUT request of 16 descriptors on the same
 * 64 MiB RAM-device range (1 GiB to stage) used to malloc and touch 1 GiB.
 * With the default 64 MiB budget it runs in windows: it completes, the
 * device never reserves more than 64 MiB, and the peak RSS grows by about
 * the RAMD region plus one budget.  The image is /dev/null.
 */
static void test_ramdev_blk_process_ring_stage_bounded(void **state)
{
	struct ring_fix *f = ring_get(state);
	struct test_guest_config gc = { .ramd_size = 64u << 20 };
	struct ramdev_virtq_config qc = {
		.size = 32, .desc = 0, .avail = 0x1000, .used = 0x2000,
		.indirect = true,
	};
	struct vring_drv_config dc = vring_drv_config_of(&qc, 0x10000, 64);
	struct ramdev_blk_options o = { .path = "/dev/null", .fd = -1,
					.engine = f->engine,
					.capacity = 4ull << 21 };
	struct vring_drv_buf out[17] = { { 0x3000, 16 } };
	struct vring_drv_buf in[1] = { { 0x3100, 1 } };
	uint32_t t = htole32(RAMDEV_BLK_T_OUT), len;
	struct ramdev_blk_stats st;
	struct ramdev_virtq *vq;
	struct vring_drv *drv;
	struct ramdev_blk *blk;
	struct test_guest *g;
	long before;
	uint16_t id;

	assert_int_equal(0, test_guest_new(&g, &gc));
	assert_int_equal(0, ramdev_virtq_new(&vq, g->dma, &qc));
	assert_int_equal(0, vring_drv_new(&drv, g->as, &dc));
	assert_int_equal(0, ramdev_blk_open(&blk, &o));
	assert_int_equal(0, ramdev_blk_attach_queue(blk, 0, vq, g->dma));
	memset(g->ram_host + 0x3000, 0, 16);
	memcpy(g->ram_host + 0x3000, &t, 4);
	for (unsigned i = 1; i <= 16; i++)
		out[i] = (struct vring_drv_buf){ TEST_GUEST_RAMD_GPA, 64u << 20 };
	assert_true(vring_drv_add(drv, out, 17, in, 1, true) >= 0);
	vring_drv_publish(drv);
	before = peak_rss_mib();
	assert_int_equal(1, ramdev_blk_process(blk, 0, NULL));
	assert_true(ramdev_blk_drain(blk, NULL) >= 0);
	assert_int_equal(1, vring_drv_get_used(drv, &id, &len));
	assert_int_equal(RAMDEV_BLK_S_OK, g->ram_host[0x3100]);
	ramdev_blk_get_stats(blk, &st);
	assert_int_equal(1ull << 30, st.bytes_staged);
	assert_int_equal(RAMDEV_BLK_STAGE_BUDGET, st.stage_peak);
	/* 64 MiB of RAMD touched, 64 MiB staged, some slack (ASan); the
	 * whole 1 GiB staged at once would be far above (TSan: x5). */
	print_message("peak RSS grew by %ld MiB\n", peak_rss_mib() - before);
	assert_true(peak_rss_mib() < before + RSS_SCALE * (64 + 64) + 128);
	assert_int_equal(0, ramdev_blk_detach_queue(blk, 0));
	ramdev_blk_close(blk);
	vring_drv_free(drv);
	ramdev_virtq_free(vq);
	test_guest_free(g);
}

#define R(fn, s) cmocka_unit_test_setup_teardown(fn, s, ring_teardown)

static bool page_dirty(const uint64_t *bits, uint64_t off)
{
	uint64_t page = off / RAMDEV_DIRTY_PAGE;

	return bits[page / 64] & (UINT64_C(1) << (page % 64));
}

/*
 * Everything the device writes is in the dirty log (a migration that copies
 * the logged pages loses no completion): the data of an IN, in RAM and in
 * RAMD, the zeroes and status byte of a failed one, the used ring.  The
 * descriptor table and the header (the driver's) are not.
 */
static void test_ramdev_blk_process_ring_dirty_log(void **state)
{
	struct ring_fix *f = ring_get(state);
	const uint64_t ramd = TEST_GUEST_RAMD_GPA;
	struct vring_drv_buf ok = { RQ_DATA, 4096 };
	struct vring_drv_buf bad = { RQ_DATA + 0x10000, 512 };
	struct vring_drv_buf dev = { ramd + 0x3000, 512 };
	uint64_t bits[64], dbits[64];
	uint8_t buf[512], zero[512] = { 0 };

	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(0, ramdev_as_write(f->r.g->as, bad.gpa, buf, 512));
	add_req(f, RAMDEV_BLK_T_IN, 8, &ok, 1, false);
	add_req(f, RAMDEV_BLK_T_IN, RQ_IMG / 512, &bad, 1, false); /* RANGE */
	add_req(f, RAMDEV_BLK_T_IN, 16, &dev, 1, false);
	vring_drv_publish(f->r.drv);
	/* From here on only the device writes guest memory. */
	assert_int_equal(0, ramdev_region_dirty_enable(f->r.g->ram, true));
	assert_int_equal(0, ramdev_region_dirty_enable(f->r.g->ramd, true));
	assert_true(ramdev_region_dirty_take(f->r.g->ram, bits, 64) >= 0);
	assert_true(ramdev_region_dirty_take(f->r.g->ramd, dbits, 64) >= 0);
	assert_int_equal(3, ramdev_blk_process(f->r.blk, 0, NULL));
	assert_int_equal(3, drain_used(f, 3));
	assert_int_equal(RAMDEV_BLK_S_OK, status_at(f, 0));
	assert_int_equal(RAMDEV_BLK_S_IOERR, status_at(f, 1));
	assert_int_equal(RAMDEV_BLK_S_OK, status_at(f, 2));
	assert_true(ramdev_region_dirty_take(f->r.g->ram, bits, 64) > 0);
	assert_true(ramdev_region_dirty_take(f->r.g->ramd, dbits, 64) > 0);
	assert_true(page_dirty(bits, RQ_DATA));
	assert_true(page_dirty(bits, bad.gpa));
	assert_true(page_dirty(bits, RQ_STATUS));
	assert_true(page_dirty(bits, RQ_USED));
	assert_false(page_dirty(bits, RQ_HDR));
	assert_false(page_dirty(bits, RQ_AVAIL));
	assert_true(page_dirty(dbits, dev.gpa - ramd));
	/* The failed read: zeroes where the used length says bytes were
	 * written (blk.h), not the guest's old contents. */
	assert_int_equal(0, ramdev_as_read(f->r.g->as, bad.gpa, buf, 512));
	assert_memory_equal(zero, buf, 512);
}

int test_blk_ring_run(void)
{
	const struct CMUnitTest tests[] = {
		R(test_ramdev_blk_attach_queue_ring_roundtrip, setup_direct_sync),
		R(test_ramdev_blk_attach_queue_ring_roundtrip, setup_direct_uring),
		R(test_ramdev_blk_process_ring_mmio_bounce_wait, setup_direct_sync),
		R(test_ramdev_blk_process_ring_mmio_bounce_wait, setup_direct_uring),
		R(test_ramdev_blk_process_ring_mmio_larger_than_pool,
		  setup_direct_sync),
		R(test_ramdev_blk_process_ring_mmio_larger_than_pool,
		  setup_direct_uring),
		R(test_ramdev_blk_process_ring_qemu_bounce, setup_bounce_sync),
		R(test_ramdev_blk_process_ring_qemu_bounce_two,
		  setup_bounce_sync),
		R(test_ramdev_blk_process_ring_qemu_bounce_two,
		  setup_bounce_sync_nomerge),
		R(test_ramdev_blk_process_ring_qemu_bounce, setup_bounce_uring),
		R(test_ramdev_blk_process_ring_ram_only, setup_direct_uring),
		R(test_ramdev_blk_process_ring_ram_only, setup_bounce_uring),
		R(test_ramdev_blk_process_ring_ram_only, setup_bounce_sync),
		R(test_ramdev_blk_reset_ring_guest_refills, setup_direct_uring),
		R(test_ramdev_blk_process_ring_guest_refills_bounded,
		  setup_direct_sync),
		R(test_ramdev_blk_process_ring_stage_bounded, setup_direct_sync),
		R(test_ramdev_blk_process_ring_stage_bounded, setup_direct_uring),
		R(test_ramdev_blk_process_ring_dirty_log, setup_direct_sync),
		R(test_ramdev_blk_process_ring_dirty_log, setup_direct_uring),
		R(test_ramdev_blk_process_ring_dirty_log, setup_bounce_sync),
	};

	return cmocka_run_group_tests_name("blk_ring", tests, NULL, NULL);
}
