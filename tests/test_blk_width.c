// SPDX-License-Identifier: MIT
/*
 * virtio-blk staging through a RAM-device region with a DMA width
 * (ramdev_region_set_dma_width, issue 17), suite 'blk': real split rings in
 * a test guest whose RAMD region has width 4 (a BAR that takes only 32-bit
 * accesses), 64 (a write-combining BAR) or the default 8; an OUT from RAMD
 * data at odd offsets, then an IN back into RAMD, through both engines.
 * The image, the data read back, the status bytes and the used lengths
 * must be right, the data must have been staged, and on x86, where
 * perf_event_open allows hardware breakpoints, an aligned 8-byte block of
 * the RAMD data must see the accesses the width implies: two 4-byte ones
 * at width 4, one otherwise (8 bytes, or a wider store covering it).
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ramdev/blk.h"
#include "ramdev/virtq.h"
#include "blk_rig.h"
#include "test_guest.h"
#include "vring_driver.h"

#if defined(__x86_64__) || defined(__i386__)
#include "../tools/hwbp_watch.h"
#define HAVE_HWBP 1
#else
#define HAVE_HWBP 0
#endif

#define WQ_SIZE 16u
#define WQ_DESC 0x0ull
#define WQ_AVAIL 0x1000ull
#define WQ_USED 0x2000ull
#define WQ_HDR 0x20000ull
#define WQ_STATUS 0x21000ull
#define WQ_IMG (1u << 20)
#define WQ_SECTOR 24u
#define WQ_LEN 8192u
/* RAMD data: the OUT in two pieces at odd offsets (4093 + 4099 bytes),
 * the IN in one piece at another odd offset. */
#define WQ_OUT_A (TEST_GUEST_RAMD_GPA + 0x1003)
#define WQ_OUT_B (TEST_GUEST_RAMD_GPA + 0x4001)
#define WQ_IN (TEST_GUEST_RAMD_GPA + 0x10005)
/* The watched block: aligned, well inside the IN data and OUT piece B. */
#define WQ_WATCH_OFF 0x400u

struct wfix {
	struct blk_rig r;
	unsigned width; /* 0: the default */
	enum ramdev_blk_engine engine;
	unsigned nreq;
};

static int wsetup(void **state, unsigned width, enum ramdev_blk_engine engine)
{
	struct wfix *f = calloc(1, sizeof(*f));
	struct test_guest_config gc = { .ramd_dma_width = width };
	struct ramdev_virtq_config qc = {
		.size = WQ_SIZE, .desc = WQ_DESC, .avail = WQ_AVAIL,
		.used = WQ_USED,
	};
	struct vring_drv_config dc = vring_drv_config_of(&qc, 0, 0);
	struct ramdev_blk_options o = { .engine = engine };

	assert_non_null(f);
	*state = f;
	f->width = width;
	f->engine = engine;
	(void)blk_rig_new(&f->r, "blk-width", WQ_IMG, &gc, &qc, &dc, &o);
	assert_int_equal(width ? width : 8,
			 ramdev_region_dma_width(f->r.g->ramd));
	return 0;
}

static int wteardown(void **state)
{
	struct wfix *f = *state;

	blk_rig_free(&f->r);
	free(f);
	return 0;
}

static int setup_w4_sync(void **s)
{
	return wsetup(s, 4, RAMDEV_BLK_ENGINE_SYNC);
}

static int setup_w4_uring(void **s)
{
	return wsetup(s, 4, RAMDEV_BLK_ENGINE_URING);
}

static int setup_w64_uring(void **s)
{
	return wsetup(s, 64, RAMDEV_BLK_ENGINE_URING);
}

static int setup_default_sync(void **s)
{
	return wsetup(s, 0, RAMDEV_BLK_ENGINE_SYNC);
}

/* A request: header and status byte in RAM, @n data buffers. */
static int add_req(struct wfix *f, uint32_t type, uint64_t sector,
		   const struct vring_drv_buf *data, unsigned n)
{
	struct vring_drv_buf out[4], in[4];
	unsigned nout = 0, nin = 0, slot = f->nreq++;
	uint32_t t = htole32(type);
	uint64_t s = htole64(sector);
	uint8_t h[16] = { 0 }, ff = 0xff;
	int head;

	memcpy(h, &t, 4);
	memcpy(h + 8, &s, 8);
	assert_int_equal(0, ramdev_as_write(f->r.g->as, WQ_HDR + slot * 16, h,
					    16));
	assert_int_equal(0, ramdev_as_write(f->r.g->as, WQ_STATUS + slot, &ff, 1));
	out[nout++] = (struct vring_drv_buf){ WQ_HDR + slot * 16, 16 };
	for (unsigned i = 0; i < n; i++) {
		if (type == RAMDEV_BLK_T_OUT)
			out[nout++] = data[i];
		else
			in[nin++] = data[i];
	}
	in[nin++] = (struct vring_drv_buf){ WQ_STATUS + slot, 1 };
	head = vring_drv_add(f->r.drv, out, nout, in, nin, false);
	assert_true(head >= 0);
	return head;
}

/* Accesses to the aligned 8-byte block at @p while the published request
 * is processed and drained; UINT64_MAX when breakpoints are unavailable or
 * a hit may have been lost. */
static uint64_t process_counted(struct wfix *f, uint8_t *p)
{
	uint64_t notify = 0, inside = UINT64_MAX;
#if HAVE_HWBP
	uint64_t outside;
	sig_atomic_t traps = hwbp_stray_traps;
	struct watch w;
	bool counting = watch_open(&w, p - 8, 24, p, 8) == 0;

	if (counting)
		watch_start(&w);
#endif
	assert_int_equal(1, ramdev_blk_process(f->r.blk, 0, &notify));
	assert_true(ramdev_blk_drain(f->r.blk, &notify) >= 0);
#if HAVE_HWBP
	if (counting) {
		watch_stop(&w, &inside, &outside);
		if (traps != hwbp_stray_traps)
			inside = UINT64_MAX;
	}
#endif
	return inside;
}

static void expect_used(struct wfix *f, int head, uint32_t want_len,
			unsigned slot)
{
	uint8_t st = 0xee;
	uint32_t len;
	uint16_t id;

	assert_int_equal(1, vring_drv_get_used(f->r.drv, &id, &len));
	assert_int_equal(head, id);
	assert_int_equal(want_len, len);
	assert_int_equal(0, ramdev_as_read(f->r.g->as, WQ_STATUS + slot, &st, 1));
	assert_int_equal(RAMDEV_BLK_S_OK, st);
}

static void check_count(const struct wfix *f, uint64_t got, const char *what)
{
	uint64_t want = f->width == 4 ? 2 : 1;

	if (got == UINT64_MAX) {
		fprintf(stderr, "SKIP: %s: no breakpoint count (perf_event_open "
			"refused, or a hit was lost)\n", what);
		return;
	}
	if (got != want)
		fail_msg("%s: width %u: %llu accesses to an aligned 8-byte "
			 "block, want %llu", what, f->width ? f->width : 8,
			 (unsigned long long)got, (unsigned long long)want);
}

static void test_ramdev_blk_process_ramd_width_roundtrip(void **state)
{
	struct wfix *f = *state;
	struct vring_drv_buf w[] = { { WQ_OUT_A, 4093 }, { WQ_OUT_B, 4099 } };
	struct vring_drv_buf r = { WQ_IN, WQ_LEN };
	uint8_t src[WQ_LEN], disk[WQ_LEN], back[WQ_LEN];
	struct ramdev_blk_stats s;
	uint8_t *watch_b, *watch_in;
	uint64_t n;
	int h;

	if (!f->r.blk)
		skip();
	for (unsigned i = 0; i < WQ_LEN; i++)
		src[i] = (uint8_t)(i * 29 + 11);
	assert_int_equal(0, ramdev_as_write(f->r.g->as, WQ_OUT_A, src, 4093));
	assert_int_equal(0, ramdev_as_write(f->r.g->as, WQ_OUT_B, src + 4093,
					    4099));
	watch_b = test_guest_host(f->r.g, WQ_OUT_B + 7 + WQ_WATCH_OFF, 8);
	watch_in = test_guest_host(f->r.g, WQ_IN + 3 + WQ_WATCH_OFF, 8);
	assert_non_null(watch_b);
	assert_non_null(watch_in);
	assert_int_equal(0, (uintptr_t)watch_b % 8);
	assert_int_equal(0, (uintptr_t)watch_in % 8);

	h = add_req(f, RAMDEV_BLK_T_OUT, WQ_SECTOR, w, 2);
	vring_drv_publish(f->r.drv);
	n = process_counted(f, watch_b);
	expect_used(f, h, 1, 0);
	assert_int_equal(WQ_LEN, pread(f->r.img, disk, WQ_LEN, WQ_SECTOR * 512));
	assert_memory_equal(src, disk, WQ_LEN);
	check_count(f, n, "OUT (staged copy in)");

	h = add_req(f, RAMDEV_BLK_T_IN, WQ_SECTOR, &r, 1);
	vring_drv_publish(f->r.drv);
	n = process_counted(f, watch_in);
	expect_used(f, h, WQ_LEN + 1, 1);
	assert_int_equal(0, ramdev_as_read(f->r.g->as, WQ_IN, back, WQ_LEN));
	assert_memory_equal(src, back, WQ_LEN);
	check_count(f, n, "IN (staged copy out)");

	ramdev_blk_get_stats(f->r.blk, &s);
	assert_int_equal(2 * WQ_LEN, s.bytes_staged);
}

int main(void)
{
#define WT(name, setup)                                                       \
	{ "test_ramdev_blk_process_ramd_width_roundtrip_" name,               \
	  test_ramdev_blk_process_ramd_width_roundtrip, setup, wteardown,     \
	  NULL }
	const struct CMUnitTest tests[] = {
		WT("w4_sync", setup_w4_sync),
		WT("w4_uring", setup_w4_uring),
		WT("w64_uring", setup_w64_uring),
		WT("default_sync", setup_default_sync),
	};

#if HAVE_HWBP
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = hwbp_on_sigtrap;
		sigaction(SIGTRAP, &sa, NULL);
	}
#endif
	return cmocka_run_group_tests_name("blk_width", tests, NULL, NULL);
}
