// SPDX-License-Identifier: MIT
/*
 * virtio-blk multi-queue stress (suite blk), for ThreadSanitizer above all:
 * one guest driver thread per request queue (drivers/vring_driver.c on real
 * split rings in guest RAM) against the device on the test's thread, which
 * polls every queue (EVENT_IDX on some, indirect chains on others).  Each
 * driver keeps its ring full of 4 KiB writes and reads of sectors of its
 * own, one request at a time per slot, and checks each completion: the
 * status byte, the used length, and that a read returns what the slot's
 * previous write stored.  Under -fsanitize=thread
 * the ring accesses are ordered for TSan by the annotations of
 * lib/virtq/ring.h and drivers/vring_driver.c; everything else a driver
 * and the device share (descriptors, headers, status bytes, the rings'
 * entries) stays checked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "ramdev/blk.h"
#include "ramdev/virtq.h"
#include "test_guest.h"
#include "vring_driver.h"

#define MQ_QUEUES 4u
#define MQ_SIZE 32u  /* descriptors per queue: 10 chains of 3 */
#define MQ_SLOTS 10u /* requests in flight per queue, at most */
#define MQ_REQS 400u /* per queue */
#define MQ_SECS 60.0 /* give up (and fail) after this long */
#define MQ_BLOCK 4096u

/* Guest memory, per queue q at q * MQ_QSTRIDE: the rings, then headers and
 * status bytes per slot; data buffers per slot at MQ_DATA. */
#define MQ_QSTRIDE 0x10000ull
#define MQ_AVAIL 0x1000ull
#define MQ_USED 0x2000ull
#define MQ_HDR 0x4000ull
#define MQ_STATUS 0x5000ull
#define MQ_ITAB 0x8000ull /* indirect tables: MQ_SIZE x 4 entries */
#define MQ_DATA 0x100000ull

/* Queue q's features: odd queues negotiate EVENT_IDX (the event words are
 * then written by one side and read by the other), queues 2 and 3 post
 * indirect chains (a table written by the driver, read by the device). */
#define MQ_EVENT_IDX(q) (((q) & 1u) != 0)
#define MQ_INDIRECT(q) ((q) >= 2u)

struct mq_guest {
	unsigned q;
	struct test_guest *g;
	struct vring_drv *drv;
	atomic_bool *stop;
	atomic_bool finished; /* the thread is about to return */
	/* results, read by the test after the join */
	unsigned done, writes, reads;
	char err[160];
	/* per slot: in flight, its head, what it last wrote */
	bool busy[MQ_SLOTS];
	bool is_read[MQ_SLOTS];
	uint32_t seq[MQ_SLOTS];
	bool written[MQ_SLOTS];
	int slot_of_head[MQ_SIZE];
};

struct mq_fix {
	char path[64];
	int img;
	struct test_guest *g;
	struct ramdev_virtq *vq[MQ_QUEUES];
	struct ramdev_blk *blk;
	struct mq_guest guest[MQ_QUEUES];
	atomic_bool stop;
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t qbase(unsigned q)
{
	return (uint64_t)q * MQ_QSTRIDE;
}

static uint64_t data_gpa(unsigned q, unsigned slot)
{
	return MQ_DATA + ((uint64_t)q * MQ_SLOTS + slot) * MQ_BLOCK;
}

/* The slot's own 4 KiB of the image. */
static uint64_t sector_of(unsigned q, unsigned slot)
{
	return ((uint64_t)q * MQ_SLOTS + slot) * (MQ_BLOCK / 512);
}

static uint8_t pattern(unsigned q, unsigned slot, uint32_t seq, unsigned i)
{
	return (uint8_t)(q * 61 + slot * 17 + seq * 7 + i);
}

static void guest_fail(struct mq_guest *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void guest_fail(struct mq_guest *m, const char *fmt, ...)
{
	va_list ap;

	if (m->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(m->err, sizeof(m->err), fmt, ap);
	va_end(ap);
}

/* Post the slot's next request: a write of a new pattern, or a read back
 * of the last one. */
static int post(struct mq_guest *m, unsigned slot)
{
	uint8_t *hdr = test_guest_host(m->g, qbase(m->q) + MQ_HDR + slot * 16,
				       16);
	uint8_t *st = test_guest_host(m->g, qbase(m->q) + MQ_STATUS + slot, 1);
	uint8_t *data = test_guest_host(m->g, data_gpa(m->q, slot), MQ_BLOCK);
	bool rd = m->written[slot] && !m->is_read[slot];
	uint64_t sector = sector_of(m->q, slot);
	struct vring_drv_buf b[3] = {
		{ qbase(m->q) + MQ_HDR + slot * 16, 16 },
		{ data_gpa(m->q, slot), MQ_BLOCK },
		{ qbase(m->q) + MQ_STATUS + slot, 1 },
	};
	int head;

	memset(hdr, 0, 16);
	hdr[0] = rd ? RAMDEV_BLK_T_IN : RAMDEV_BLK_T_OUT;
	for (unsigned i = 0; i < 8; i++)
		hdr[8 + i] = (uint8_t)(sector >> (8 * i));
	*st = 0xff;
	if (rd) {
		memset(data, 0, MQ_BLOCK);
	} else {
		m->seq[slot]++;
		for (unsigned i = 0; i < MQ_BLOCK; i++)
			data[i] = pattern(m->q, slot, m->seq[slot], i);
	}
	head = rd ? vring_drv_add(m->drv, b, 1, b + 1, 2, MQ_INDIRECT(m->q))
		  : vring_drv_add(m->drv, b, 2, b + 2, 1, MQ_INDIRECT(m->q));
	if (head < 0)
		return head;
	m->slot_of_head[head] = (int)slot;
	m->busy[slot] = true;
	m->is_read[slot] = rd;
	return 0;
}

static void reap(struct mq_guest *m, uint16_t id, uint32_t len)
{
	int slot = id < MQ_SIZE ? m->slot_of_head[id] : -1;
	const uint8_t *data, *st;

	if (slot < 0 || !m->busy[slot]) {
		guest_fail(m, "queue %u: used id 0x%x names no request", m->q,
			   id);
		return;
	}
	m->slot_of_head[id] = -1;
	m->busy[slot] = false;
	m->done++;
	st = test_guest_host(m->g, qbase(m->q) + MQ_STATUS + slot, 1);
	if (*st != RAMDEV_BLK_S_OK)
		guest_fail(m, "queue %u slot %d: status 0x%x", m->q, slot, *st);
	if (len != (m->is_read[slot] ? MQ_BLOCK + 1 : 1))
		guest_fail(m, "queue %u slot %d: used len 0x%x", m->q, slot,
			   len);
	if (!m->is_read[slot]) {
		m->written[slot] = true;
		m->writes++;
		return;
	}
	m->reads++;
	data = test_guest_host(m->g, data_gpa(m->q, slot), MQ_BLOCK);
	for (unsigned i = 0; i < MQ_BLOCK; i++)
		if (data[i] != pattern(m->q, (unsigned)slot, m->seq[slot], i)) {
			guest_fail(m, "queue %u slot %d: byte 0x%x read 0x%x",
				   m->q, slot, i, data[i]);
			break;
		}
}

/* The driver: keep every free slot busy until MQ_REQS are done. */
static void *guest_thread(void *arg)
{
	struct mq_guest *m = arg;
	unsigned posted = 0;
	uint32_t len;
	uint16_t id;

	while (m->done < MQ_REQS && !m->err[0] && !atomic_load(m->stop)) {
		bool added = false;

		while (vring_drv_get_used(m->drv, &id, &len) == 1)
			reap(m, id, len);
		/* Ask for interrupts: used_event, or the avail flags. */
		vring_drv_enable_intr(m->drv, true);
		for (unsigned s = 0; s < MQ_SLOTS && posted < MQ_REQS; s++) {
			if (m->busy[s])
				continue;
			if (post(m, s) < 0)
				break;
			posted++;
			added = true;
		}
		if (added)
			vring_drv_publish(m->drv);
		else
			sched_yield();
	}
	atomic_store(&m->finished, true);
	return NULL;
}

static int mq_setup(void **state, enum ramdev_blk_engine engine)
{
	struct mq_fix *f = calloc(1, sizeof(*f));
	struct ramdev_blk_options o = { .engine = engine,
					.num_queues = MQ_QUEUES };
	int ret;

	assert_non_null(f);
	*state = f;
	strcpy(f->path, "/tmp/ramdev-test-blk-mq-XXXXXX");
	f->img = mkstemp(f->path);
	assert_true(f->img >= 0);
	assert_int_equal(0, ftruncate(f->img, 4 << 20));
	assert_int_equal(0, test_guest_new(&f->g, NULL));
	o.fd = f->img;
	ret = ramdev_blk_open(&f->blk, &o);
	if (ret == -ENOSYS || ret == -EPERM) {
		fprintf(stderr, "skip: io_uring unavailable: %s\n",
			strerror(-ret));
		return 0;
	}
	assert_int_equal(0, ret);
	for (unsigned q = 0; q < MQ_QUEUES; q++) {
		struct ramdev_virtq_config qc = {
			.size = MQ_SIZE, .desc = qbase(q),
			.avail = qbase(q) + MQ_AVAIL,
			.used = qbase(q) + MQ_USED,
			.event_idx = MQ_EVENT_IDX(q), .indirect = MQ_INDIRECT(q),
		};
		struct vring_drv_config dc = vring_drv_config_of(
			&qc, MQ_INDIRECT(q) ? qbase(q) + MQ_ITAB : 0,
			MQ_INDIRECT(q) ? 4 : 0);
		struct mq_guest *m = &f->guest[q];

		assert_int_equal(0, ramdev_virtq_new(&f->vq[q], f->g->dma, &qc));
		assert_int_equal(0, vring_drv_new(&m->drv, f->g->as, &dc));
		assert_int_equal(0, ramdev_blk_attach_queue(f->blk, q, f->vq[q],
							    f->g->dma));
		m->q = q;
		m->g = f->g;
		m->stop = &f->stop;
		for (unsigned h = 0; h < MQ_SIZE; h++)
			m->slot_of_head[h] = -1;
	}
	return 0;
}

static int mq_setup_sync(void **state)
{
	return mq_setup(state, RAMDEV_BLK_ENGINE_SYNC);
}

static int mq_setup_uring(void **state)
{
	return mq_setup(state, RAMDEV_BLK_ENGINE_URING);
}

static int mq_teardown(void **state)
{
	struct mq_fix *f = *state;

	for (unsigned q = 0; q < MQ_QUEUES; q++) {
		if (f->blk)
			assert_int_equal(0, ramdev_blk_detach_queue(f->blk, q));
		vring_drv_free(f->guest[q].drv);
		ramdev_virtq_free(f->vq[q]);
	}
	ramdev_blk_close(f->blk);
	test_guest_free(f->g);
	close(f->img);
	unlink(f->path);
	free(f);
	return 0;
}

static bool all_done(struct mq_fix *f)
{
	for (unsigned q = 0; q < MQ_QUEUES; q++)
		if (!atomic_load(&f->guest[q].finished))
			return false;
	return true;
}

/*
 * The device polls every queue (no kicks) and completes what the engine
 * finished, until every driver is done or the time is up.
 */
static void test_ramdev_blk_process_mq_stress(void **state)
{
	struct mq_fix *f = *state;
	pthread_t th[MQ_QUEUES];
	double end = now_s() + MQ_SECS;
	unsigned total = 0;
	uint64_t notify = 0;
	struct ramdev_blk_stats s;

	if (!f->blk)
		skip();
	for (unsigned q = 0; q < MQ_QUEUES; q++)
		assert_int_equal(0, pthread_create(&th[q], NULL, guest_thread,
						   &f->guest[q]));
	while (!all_done(f) && now_s() < end) {
		int n = 0, r;

		for (unsigned q = 0; q < MQ_QUEUES; q++) {
			r = ramdev_blk_process(f->blk, q, &notify);
			assert_true(r >= 0);
			n += r;
		}
		r = ramdev_blk_wait(f->blk, n ? 0 : 1, &notify);
		assert_true(r >= 0);
		if (!n && !r)
			sched_yield();
	}
	atomic_store(&f->stop, true);
	for (unsigned q = 0; q < MQ_QUEUES; q++)
		assert_int_equal(0, pthread_join(th[q], NULL));
	assert_true(ramdev_blk_drain(f->blk, NULL) >= 0);
	for (unsigned q = 0; q < MQ_QUEUES; q++) {
		struct mq_guest *m = &f->guest[q];

		if (m->err[0])
			fail_msg("%s", m->err);
		assert_int_equal(MQ_REQS, m->done);
		assert_true(m->reads > 0);
		total += m->done;
	}
	ramdev_blk_get_stats(f->blk, &s);
	assert_int_equal(total, s.requests);
	assert_int_equal(total, s.status[RAMDEV_BLK_S_OK]);
	assert_int_equal(RAMDEV_BLK_OK, ramdev_blk_error(f->blk));
	/* Every queue asked for interrupts and got some. */
	assert_int_equal((1u << MQ_QUEUES) - 1, notify);
	print_message("%u requests over %u queues, %u driver threads\n", total,
		      MQ_QUEUES, MQ_QUEUES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_ramdev_blk_process_mq_stress, mq_setup_sync,
			mq_teardown),
		cmocka_unit_test_setup_teardown(
			test_ramdev_blk_process_mq_stress, mq_setup_uring,
			mq_teardown),
	};

	return cmocka_run_group_tests_name("blk_mq", tests, NULL, NULL);
}
