// SPDX-License-Identifier: MIT
/*
 * The DMA re-entrancy guard (include/ramdev/as.h, "DMA re-entrancy guard";
 * include/ramdev/dma.h, struct ramdev_dma_config.owner), suites as, dma
 * and blk:
 *  - at the address space: from inside a callback of a device, an access to
 *    any region of the same device is refused (read all-ones, write
 *    dropped, counted, logged once per rate-limit window), other devices'
 *    regions and other threads are not affected, and the guard is gone
 *    once the callback returned;
 *  - at the DMA layer: a context with an owner refuses its device's MMIO
 *    from any thread, in copies, bounce fills and copy-backs;
 *  - end to end: a virtio-blk device whose notify register is an MMIO
 *    region and whose write callback calls ramdev_blk_process(), with a
 *    request whose status byte or data buffer is that register.  Without
 *    the guard the status write-back re-enters the callback, which
 *    processes the queue again from inside its own completion.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ramdev/as.h"
#include "ramdev/blk.h"
#include "ramdev/dma.h"
#include "ramdev/virtq.h"
#include "test_guest.h"
#include "vring_driver.h"

/* ---- the address-space fixture ----
 * RAM at 0; MMIO "a" and "b" of device X, "c" of device Y, "d" of nobody.
 * A write to offset 0 of "a" (the trigger) runs the nested action set by
 * the test; the callbacks record instead of asserting (cmocka's failures
 * longjmp, which must not cross the library). */

#define G_RAM 0x0ull
#define G_A 0x100000ull
#define G_B 0x101000ull
#define G_C 0x102000ull
#define G_D 0x103000ull
#define G_REG 0x100u

enum nested { N_NONE, N_LD, N_ST, N_READ, N_THREAD, N_TRIPLE };

struct dev {
	const char *name;
	uint8_t mem[G_REG];
	unsigned calls;
};

struct gfx {
	struct ramdev_as *as;
	struct ramdev_region *ram, *r[4];
	uint8_t *ram_mem;
	struct dev d[4];
	int owner_x, owner_y; /* their addresses are the owners */
	/* the nested action, run by "a"'s write callback */
	enum nested what;
	uint64_t target;
	int rc[3];
	uint64_t val;
	uint8_t buf[16];
	unsigned log_reentrant, log_other;
	char last_log[512];
};

static int dev_read(void *opaque, uint64_t off, unsigned size, uint64_t *val)
{
	struct dev *d = opaque;
	uint64_t v = 0;

	d->calls++;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)d->mem[off + i] << (8 * i);
	*val = v;
	return 0;
}

static struct gfx *the_gfx;

static void *other_thread(void *arg)
{
	struct gfx *f = arg;

	f->rc[1] = ramdev_as_ld(f->as, f->target, 4, &f->val);
	return NULL;
}

static void nested(struct gfx *f)
{
	pthread_t t;

	switch (f->what) {
	case N_LD:
		f->rc[0] = ramdev_as_ld(f->as, f->target, 4, &f->val);
		break;
	case N_ST:
		f->rc[0] = ramdev_as_st(f->as, f->target, 4, 0xa5a5a5a5u);
		break;
	case N_READ:
		f->rc[0] = ramdev_as_read(f->as, f->target, f->buf, 16);
		break;
	case N_THREAD: /* another thread is not re-entering */
		f->rc[0] = pthread_create(&t, NULL, other_thread, f);
		if (f->rc[0] == 0)
			f->rc[0] = pthread_join(t, NULL);
		break;
	case N_TRIPLE:
		for (int i = 0; i < 3; i++)
			f->rc[i] = ramdev_as_ld(f->as, f->target, 4, &f->val);
		break;
	case N_NONE:
		break;
	}
}

static int dev_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct dev *d = opaque;

	d->calls++;
	for (unsigned i = 0; i < size; i++)
		d->mem[off + i] = (uint8_t)(val >> (8 * i));
	if (d == &the_gfx->d[0] && off == 0)
		nested(the_gfx);
	return 0;
}

static const struct ramdev_mmio_ops dev_ops = {
	.read = dev_read,
	.write = dev_write,
	.valid = { .min_size = 1, .max_size = 4 },
	.impl = { .min_size = 1, .max_size = 4 },
};

static void gfx_log(void *opaque, int level, const char *msg)
{
	struct gfx *f = opaque;

	(void)level;
	if (strstr(msg, "re-entrant"))
		f->log_reentrant++;
	else
		f->log_other++;
	snprintf(f->last_log, sizeof(f->last_log), "%s", msg);
}

static int gfx_setup(void **state)
{
	static const char *names[4] = { "a", "b", "c", "d" };
	static const uint64_t at[4] = { G_A, G_B, G_C, G_D };
	struct gfx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	the_gfx = f;
	assert_int_equal(0, ramdev_as_new(&f->as, "reentrancy"));
	ramdev_as_set_log(f->as, gfx_log, f);
	f->ram_mem = calloc(1, 0x10000);
	assert_non_null(f->ram_mem);
	assert_int_equal(0, ramdev_region_new_ram(&f->ram, "ram", f->ram_mem,
						  0x10000));
	assert_int_equal(0, ramdev_region_add(ramdev_as_root(f->as), G_RAM,
					      f->ram, 0));
	for (int i = 0; i < 4; i++) {
		f->d[i].name = names[i];
		for (unsigned j = 0; j < G_REG; j++)
			f->d[i].mem[j] = (uint8_t)(0x10 * (i + 1) + j);
		assert_int_equal(0, ramdev_region_new_mmio(&f->r[i], names[i],
							   G_REG, &dev_ops,
							   &f->d[i]));
		assert_int_equal(0, ramdev_region_add(ramdev_as_root(f->as),
						      at[i], f->r[i], 0));
	}
	assert_int_equal(0, ramdev_region_set_owner(f->r[0], &f->owner_x));
	assert_int_equal(0, ramdev_region_set_owner(f->r[1], &f->owner_x));
	assert_int_equal(0, ramdev_region_set_owner(f->r[2], &f->owner_y));
	*state = f;
	return 0;
}

static int gfx_teardown(void **state)
{
	struct gfx *f = *state;

	for (int i = 0; i < 4; i++)
		ramdev_region_unref(f->r[i]);
	ramdev_region_unref(f->ram);
	ramdev_as_free(f->as);
	free(f->ram_mem);
	free(f);
	the_gfx = NULL;
	return 0;
}

/* A vCPU's write to "a"'s trigger: the callback runs the nested action. */
static void trigger(struct gfx *f, enum nested what, uint64_t target)
{
	f->what = what;
	f->target = target;
	f->rc[0] = f->rc[1] = f->rc[2] = 12345;
	assert_int_equal(0, ramdev_as_st(f->as, G_A, 4, 1));
	f->what = N_NONE;
}

/* Same device, other region: the read is refused, all-ones, no callback. */
static void test_ramdev_as_ld_reentrant_all_ones(void **state)
{
	struct gfx *f = *state;

	trigger(f, N_LD, G_B + 8);
	assert_int_equal(RAMDEV_AS_REENTRANT, f->rc[0]);
	assert_int_equal(0xffffffffu, f->val);
	assert_int_equal(0, f->d[1].calls);
	assert_int_equal(1, ramdev_as_reentrant_refused(f->as));
	assert_int_equal(1, f->log_reentrant);
	assert_non_null(strstr(f->last_log, "mmio b:"));
	assert_non_null(strstr(f->last_log, "offset 0x8"));
	/* A span: the refused piece reads 0xff, nothing after it is done. */
	trigger(f, N_READ, G_B);
	assert_int_equal(RAMDEV_AS_REENTRANT, f->rc[0]);
	assert_memory_equal("\xff\xff\xff\xff", f->buf, 4);
	assert_int_equal(0, f->d[1].calls);
	assert_int_equal(2, ramdev_as_reentrant_refused(f->as));
}

/* Same device, its own register too: writes dropped. */
static void test_ramdev_as_st_reentrant_dropped(void **state)
{
	struct gfx *f = *state;
	uint8_t before[G_REG];

	memcpy(before, f->d[1].mem, G_REG);
	trigger(f, N_ST, G_B);
	assert_int_equal(RAMDEV_AS_REENTRANT, f->rc[0]);
	assert_memory_equal(before, f->d[1].mem, G_REG);
	assert_int_equal(0, f->d[1].calls);
	/* "a" itself, from its own callback: one call (the trigger) only. */
	trigger(f, N_ST, G_A + 4);
	assert_int_equal(RAMDEV_AS_REENTRANT, f->rc[0]);
	assert_int_equal(2, f->d[0].calls);
	assert_int_equal(0x14, f->d[0].mem[4]); /* unchanged */
	assert_int_equal(2, ramdev_as_reentrant_refused(f->as));
}

/* Other devices and regions without an owner: no over-blocking. */
static void test_ramdev_as_ld_reentrant_other_device(void **state)
{
	struct gfx *f = *state;

	trigger(f, N_LD, G_C);
	assert_int_equal(0, f->rc[0]);
	assert_int_equal(0x33323130u, f->val);
	trigger(f, N_ST, G_D + 8);
	assert_int_equal(0, f->rc[0]);
	assert_int_equal(0xa5, f->d[3].mem[8]);
	trigger(f, N_LD, G_RAM);
	assert_int_equal(0, f->rc[0]);
	assert_int_equal(0, ramdev_as_reentrant_refused(f->as));
	assert_int_equal(0, f->log_reentrant);
}

/* Per thread, and only while the callback runs. */
static void test_ramdev_as_ld_reentrant_scope(void **state)
{
	struct gfx *f = *state;
	uint64_t v;

	trigger(f, N_THREAD, G_B);
	assert_int_equal(0, f->rc[0]);
	assert_int_equal(0, f->rc[1]);
	assert_int_equal(0x23222120u, f->val);
	assert_int_equal(1, f->d[1].calls);
	/* After the callback returned: reachable again from this thread. */
	assert_int_equal(0, ramdev_as_ld(f->as, G_B, 4, &v));
	assert_int_equal(0x23222120u, v);
	assert_int_equal(0, ramdev_as_reentrant_refused(f->as));
	/* Owner removed: the nested access goes through. */
	assert_int_equal(0, ramdev_region_set_owner(f->r[1], NULL));
	trigger(f, N_LD, G_B);
	assert_int_equal(0, f->rc[0]);
	assert_int_equal(0, ramdev_as_reentrant_refused(f->as));
}

/* Every refusal counted, one log line per rate-limit window (1 s). */
static void test_ramdev_as_reentrant_refused_logged_once(void **state)
{
	struct gfx *f = *state;

	trigger(f, N_TRIPLE, G_B);
	for (int i = 0; i < 3; i++)
		assert_int_equal(RAMDEV_AS_REENTRANT, f->rc[i]);
	trigger(f, N_LD, G_A);
	assert_int_equal(4, ramdev_as_reentrant_refused(f->as));
	assert_int_equal(1, f->log_reentrant);
	assert_int_equal(0, f->d[1].calls);
}

/* From a vCPU exit too (ramdev_as_vcpu_access drives the trigger). */
static void test_ramdev_as_vcpu_access_reentrant(void **state)
{
	struct gfx *f = *state;
	uint8_t data[4] = { 1, 0, 0, 0 };

	f->what = N_LD;
	f->target = G_B;
	assert_int_equal(0, ramdev_as_vcpu_access(f->as, G_A, data, 4, true));
	f->what = N_NONE;
	assert_int_equal(RAMDEV_AS_REENTRANT, f->rc[0]);
	assert_int_equal(1, ramdev_as_reentrant_refused(f->as));
}

static void test_ramdev_region_set_owner_args(void **state)
{
	struct gfx *f = *state;

	assert_int_equal(-EINVAL, ramdev_region_set_owner(NULL, f));
	assert_int_equal(-EINVAL, ramdev_region_set_owner(f->ram, f));
	assert_int_equal(-EINVAL,
			 ramdev_region_set_owner(ramdev_as_root(f->as), f));
	assert_int_equal(0, ramdev_as_reentrant_refused(NULL));
}

/* ---- the DMA layer: a context with an owner, no callback involved ---- */

static struct ramdev_dma *owned_dma(struct gfx *f, const void *owner)
{
	struct ramdev_dma_config c = { .owner = owner };
	struct ramdev_dma *dma;

	assert_int_equal(0, ramdev_dma_new(&dma, f->as, &c));
	return dma;
}

static void test_ramdev_dma_read_owner_reentrant(void **state)
{
	struct gfx *f = *state;
	struct ramdev_dma *dma = owned_dma(f, &f->owner_x);
	struct ramdev_dma *free_dma = owned_dma(f, NULL);
	uint8_t buf[8], before[G_REG];

	memset(buf, 0, sizeof(buf));
	assert_int_equal(RAMDEV_AS_REENTRANT, ramdev_dma_read(dma, G_B, buf, 4));
	assert_memory_equal("\xff\xff\xff\xff", buf, 4);
	memcpy(before, f->d[1].mem, G_REG);
	assert_int_equal(RAMDEV_AS_REENTRANT,
			 ramdev_dma_write(dma, G_B, "wxyz", 4));
	assert_memory_equal(before, f->d[1].mem, G_REG);
	assert_int_equal(0, f->d[1].calls);
	/* Another device, and the same device through an unowned context. */
	assert_int_equal(0, ramdev_dma_read(dma, G_C, buf, 4));
	assert_memory_equal("\x30\x31\x32\x33", buf, 4);
	assert_int_equal(0, ramdev_dma_read(free_dma, G_B, buf, 4));
	assert_memory_equal("\x20\x21\x22\x23", buf, 4);
	assert_int_equal(2, ramdev_as_reentrant_refused(f->as));
	/* Nothing stays engaged after the calls. */
	assert_int_equal(0, ramdev_as_st(f->as, G_B, 4, 0));
	ramdev_dma_free(free_dma);
	ramdev_dma_free(dma);
}

static void test_ramdev_dma_map_owner_reentrant(void **state)
{
	struct gfx *f = *state;
	struct ramdev_dma *dma = owned_dma(f, &f->owner_x);
	struct ramdev_dma_seg seg;
	uint8_t before[G_REG];

	/* The fill of a TO_DEVICE bounce buffer is a read of the device. */
	assert_int_equal(RAMDEV_AS_REENTRANT,
			 ramdev_dma_map(dma, G_B, 16, RAMDEV_DMA_TO_DEVICE,
					&seg));
	/* The copy-back at unmap is a write: dropped (and logged). */
	memcpy(before, f->d[1].mem, G_REG);
	assert_int_equal(0, ramdev_dma_map(dma, G_B, 16,
					   RAMDEV_DMA_FROM_DEVICE, &seg));
	assert_int_equal(0, ramdev_dma_seg_write(&seg, 0, "0123456789abcdef",
						 16));
	ramdev_dma_unmap(dma, &seg, 16);
	assert_memory_equal(before, f->d[1].mem, G_REG);
	assert_int_equal(0, f->d[1].calls);
	assert_int_equal(2, ramdev_as_reentrant_refused(f->as));
	/* Device Y's register through the same context: bounced both ways. */
	assert_int_equal(0, ramdev_dma_map(dma, G_C, 16,
					   RAMDEV_DMA_FROM_DEVICE, &seg));
	assert_int_equal(0, ramdev_dma_seg_write(&seg, 0, "0123456789abcdef",
						 16));
	ramdev_dma_unmap(dma, &seg, 16);
	assert_memory_equal("0123456789abcdef", f->d[2].mem, 16);
	assert_int_equal(2, ramdev_as_reentrant_refused(f->as));
	ramdev_dma_free(dma);
}

/* ---- end to end: virtio-blk, notify register in MMIO ---- */

#define B_SIZE 16u
#define B_DESC 0x0ull
#define B_AVAIL 0x1000ull
#define B_USED 0x2000ull
#define B_HDR 0x20000ull
#define B_STATUS 0x21000ull
#define B_DATA 0x100000ull
#define B_NOTIFY 0x90000000ull /* a hole in test_guest's map */
#define B_IMG (1u << 20)

struct bfx {
	char path[64];
	int img;
	struct test_guest *g;
	struct ramdev_dma *dma; /* the queue's context (owned or not) */
	struct ramdev_region *notify;
	struct ramdev_virtq *vq;
	struct vring_drv *drv;
	struct ramdev_blk *blk;
	int owner; /* its address is the device's identity */
	/* what the notify callback saw */
	unsigned calls, depth, max_depth;
	int process_rc[4];
	unsigned log_reentrant;
};

static int notify_read(void *opaque, uint64_t off, unsigned size,
		       uint64_t *val)
{
	(void)opaque;
	(void)off;
	(void)size;
	*val = 0;
	return 0;
}

/* The queue notify register: processes queue 0 on the spot, as a VMM
 * without an I/O thread does. */
static int notify_write(void *opaque, uint64_t off, unsigned size,
			uint64_t val)
{
	struct bfx *f = opaque;
	unsigned n = f->calls++;

	(void)off;
	(void)size;
	(void)val;
	f->depth++;
	if (f->depth > f->max_depth)
		f->max_depth = f->depth;
	if (f->depth < 8) { /* the test's own bound, far above the rule's */
		int rc = ramdev_blk_process(f->blk, 0, NULL);

		if (n < 4)
			f->process_rc[n] = rc;
	}
	f->depth--;
	return 0;
}

static const struct ramdev_mmio_ops notify_ops = {
	.read = notify_read,
	.write = notify_write,
	.valid = { .min_size = 1, .max_size = 4 },
	.impl = { .min_size = 1, .max_size = 4 },
};

static void bfx_log(void *opaque, int level, const char *msg)
{
	struct bfx *f = opaque;

	(void)level;
	if (strstr(msg, "re-entrant"))
		f->log_reentrant++;
}

static int bfx_setup_owned(void **state, bool dma_owned,
			   enum ramdev_blk_engine engine)
{
	struct bfx *f = calloc(1, sizeof(*f));
	struct ramdev_virtq_config qc = {
		.size = B_SIZE, .desc = B_DESC, .avail = B_AVAIL,
		.used = B_USED,
	};
	struct vring_drv_config dc = vring_drv_config_of(&qc, 0, 0);
	struct ramdev_blk_options o = { .engine = engine };
	int ret;
	struct ramdev_dma_config dmc = { .owner = dma_owned ? &f->owner : NULL };
	uint8_t sector[512];

	assert_non_null(f);
	*state = f;
	strcpy(f->path, "/tmp/ramdev-test-reentrancy-XXXXXX");
	f->img = mkstemp(f->path);
	assert_true(f->img >= 0);
	assert_int_equal(0, ftruncate(f->img, B_IMG));
	for (unsigned i = 0; i < sizeof(sector); i++)
		sector[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(512, pwrite(f->img, sector, 512, 0));
	assert_int_equal(0, test_guest_new(&f->g, NULL));
	ramdev_as_set_log(f->g->as, bfx_log, f);
	assert_int_equal(0, ramdev_region_new_mmio(&f->notify, "notify", 0x1000,
						   &notify_ops, f));
	assert_int_equal(0, ramdev_region_set_owner(f->notify, &f->owner));
	assert_int_equal(0, ramdev_region_add(ramdev_as_root(f->g->as),
					      B_NOTIFY, f->notify, 0));
	assert_int_equal(0, ramdev_dma_new(&f->dma, f->g->as, &dmc));
	assert_int_equal(0, ramdev_virtq_new(&f->vq, f->dma, &qc));
	assert_int_equal(0, vring_drv_new(&f->drv, f->g->as, &dc));
	o.fd = f->img;
	ret = ramdev_blk_open(&f->blk, &o);
	if (ret == -ENOSYS || ret == -EPERM) {
		fprintf(stderr, "skip: io_uring unavailable: %s\n",
			strerror(-ret));
		return 0;
	}
	assert_int_equal(0, ret);
	assert_int_equal(0, ramdev_blk_attach_queue(f->blk, 0, f->vq, f->dma));
	return 0;
}

static int bfx_setup(void **state)
{
	return bfx_setup_owned(state, false, RAMDEV_BLK_ENGINE_SYNC);
}

static int bfx_setup_dma_owner(void **state)
{
	return bfx_setup_owned(state, true, RAMDEV_BLK_ENGINE_SYNC);
}

static int bfx_setup_dma_owner_uring(void **state)
{
	return bfx_setup_owned(state, true, RAMDEV_BLK_ENGINE_URING);
}

static int bfx_teardown(void **state)
{
	struct bfx *f = *state;

	if (f->blk)
		assert_int_equal(0, ramdev_blk_detach_queue(f->blk, 0));
	ramdev_blk_close(f->blk);
	vring_drv_free(f->drv);
	ramdev_virtq_free(f->vq);
	ramdev_dma_free(f->dma);
	ramdev_region_unref(f->notify);
	test_guest_free(f->g);
	close(f->img);
	unlink(f->path);
	free(f);
	return 0;
}

/* Header (type, sector 0) in RAM, then @data, then the status at @status. */
static void add_req(struct bfx *f, uint32_t type, struct vring_drv_buf data,
		    uint64_t status)
{
	uint8_t h[16] = { 0 };
	struct vring_drv_buf out[2], in[2];
	unsigned nout = 0, nin = 0;

	h[0] = (uint8_t)type;
	assert_int_equal(0, ramdev_as_write(f->g->as, B_HDR, h, 16));
	out[nout++] = (struct vring_drv_buf){ B_HDR, 16 };
	if (type == RAMDEV_BLK_T_OUT)
		out[nout++] = data;
	else
		in[nin++] = data;
	in[nin++] = (struct vring_drv_buf){ status, 1 };
	assert_true(vring_drv_add(f->drv, out, nout, in, nin, false) >= 0);
	vring_drv_publish(f->drv);
}

/* The guest's kick: a vCPU store to the notify register. */
static void kick(struct bfx *f)
{
	assert_int_equal(0, ramdev_as_st(f->g->as, B_NOTIFY, 2, 0));
}

static void assert_sector_at(struct bfx *f, const uint8_t *p)
{
	for (unsigned i = 0; i < 512; i++)
		if (p[i] != (uint8_t)(i * 7 + 3))
			fail_msg("byte 0x%x: 0x%x", i, p[i]);
	(void)f;
}

/*
 * The status byte is the notify register.  Its write-back happens inside
 * the callback's own ramdev_blk_process (push -> unmap -> copy-back): it
 * is refused, so the callback runs once, one level deep.  Without the
 * guard it ran twice, the second time nested in the first's completion.
 */
static void test_ramdev_blk_process_reentrant_status(void **state)
{
	struct bfx *f = *state;
	uint16_t id;
	uint32_t len;

	add_req(f, RAMDEV_BLK_T_IN, (struct vring_drv_buf){ B_DATA, 512 },
		B_NOTIFY);
	kick(f);
	print_message("notify callbacks %u, max depth %u, refused %llu\n",
		      f->calls, f->max_depth, (unsigned long long)
		      ramdev_as_reentrant_refused(f->g->as));
	assert_int_equal(1, f->calls);
	assert_int_equal(1, f->max_depth);
	assert_int_equal(1, f->process_rc[0]);
	assert_int_equal(1, ramdev_as_reentrant_refused(f->g->as));
	assert_int_equal(1, f->log_reentrant);
	/* The request completed all the same; its data arrived. */
	assert_int_equal(1, vring_drv_get_used(f->drv, &id, &len));
	assert_int_equal(513, len);
	assert_sector_at(f, test_guest_host(f->g, B_DATA, 512));
	assert_int_equal(RAMDEV_BLK_OK, ramdev_blk_error(f->blk));
	/* The device still works: a normal request, kicked again. */
	add_req(f, RAMDEV_BLK_T_IN, (struct vring_drv_buf){ B_DATA, 512 },
		B_STATUS);
	kick(f);
	assert_int_equal(2, f->calls);
	assert_int_equal(1, f->max_depth);
	assert_int_equal(1, vring_drv_get_used(f->drv, &id, &len));
	assert_int_equal(RAMDEV_BLK_S_OK,
			 *test_guest_host(f->g, B_STATUS, 1));
}

/* The data buffer is the notify register: a read request's data write-back
 * is refused (the device's copy-back stops at the first refused piece). */
static void test_ramdev_blk_process_reentrant_data(void **state)
{
	struct bfx *f = *state;
	uint16_t id;
	uint32_t len;

	add_req(f, RAMDEV_BLK_T_IN, (struct vring_drv_buf){ B_NOTIFY, 512 },
		B_STATUS);
	kick(f);
	assert_int_equal(1, f->calls);
	assert_int_equal(1, f->max_depth);
	assert_int_equal(1, f->process_rc[0]);
	assert_int_equal(1, ramdev_as_reentrant_refused(f->g->as));
	assert_int_equal(1, vring_drv_get_used(f->drv, &id, &len));
	assert_int_equal(RAMDEV_BLK_S_OK, *test_guest_host(f->g, B_STATUS, 1));
}

/* A write request whose data is the notify register: the device reads it
 * (a bounce fill), which is refused as well; the chain cannot be mapped,
 * so the guest gets a broken queue (QEMU's "bogus descriptor"), the host
 * no recursion. */
static void test_ramdev_blk_process_reentrant_out_data(void **state)
{
	struct bfx *f = *state;

	add_req(f, RAMDEV_BLK_T_OUT, (struct vring_drv_buf){ B_NOTIFY, 512 },
		B_STATUS);
	kick(f);
	assert_int_equal(1, f->calls);
	assert_int_equal(1, f->max_depth);
	assert_int_equal(1, ramdev_as_reentrant_refused(f->g->as));
	assert_int_equal(-EIO, f->process_rc[0]);
	assert_int_not_equal(RAMDEV_VIRTQ_OK, ramdev_virtq_error(f->vq));
}

/*
 * The device's DMA context names its owner, and the queue is processed
 * outside any callback (an I/O thread): the status write-back is refused
 * before it reaches the callback at all.
 */
static void test_ramdev_blk_process_reentrant_dma_owner(void **state)
{
	struct bfx *f = *state;
	uint16_t id;
	uint32_t len;

	add_req(f, RAMDEV_BLK_T_IN, (struct vring_drv_buf){ B_DATA, 512 },
		B_NOTIFY);
	assert_int_equal(1, ramdev_blk_process(f->blk, 0, NULL));
	assert_int_equal(0, f->calls);
	assert_int_equal(1, ramdev_as_reentrant_refused(f->g->as));
	assert_int_equal(1, vring_drv_get_used(f->drv, &id, &len));
	assert_sector_at(f, test_guest_host(f->g, B_DATA, 512));
}

/*
 * io_uring: the kick's callback only starts the request; the status is
 * written back later, from the device's completion (ramdev_blk_drain on
 * the test's thread), outside any callback.  Only the DMA context's owner
 * catches that write: without it the notify callback would run from
 * inside the completion and process the queue there.
 */
static void test_ramdev_blk_complete_reentrant_dma_owner(void **state)
{
	struct bfx *f = *state;
	uint16_t id;
	uint32_t len;

	if (!f->blk)
		skip();
	add_req(f, RAMDEV_BLK_T_IN, (struct vring_drv_buf){ B_DATA, 512 },
		B_NOTIFY);
	kick(f);
	assert_int_equal(1, f->calls);
	assert_int_equal(1, f->process_rc[0]);
	assert_true(ramdev_blk_drain(f->blk, NULL) >= 0);
	assert_int_equal(1, f->calls);
	assert_int_equal(1, f->max_depth);
	assert_int_equal(1, ramdev_as_reentrant_refused(f->g->as));
	assert_int_equal(1, vring_drv_get_used(f->drv, &id, &len));
	assert_sector_at(f, test_guest_host(f->g, B_DATA, 512));
}

/* No over-blocking: another device's MMIO (test_guest's window, with an
 * owner of its own) is reached by the DMA of a request kicked from the
 * notify callback. */
static void test_ramdev_blk_process_reentrant_other_device(void **state)
{
	struct bfx *f = *state;
	int other = 0;
	uint16_t id;
	uint32_t len;

	assert_int_equal(0, ramdev_region_set_owner(f->g->mmio, &other));
	add_req(f, RAMDEV_BLK_T_IN,
		(struct vring_drv_buf){ TEST_GUEST_MMIO_GPA, 512 }, B_STATUS);
	kick(f);
	assert_int_equal(1, f->calls);
	assert_int_equal(1, vring_drv_get_used(f->drv, &id, &len));
	assert_int_equal(RAMDEV_BLK_S_OK, *test_guest_host(f->g, B_STATUS, 1));
	assert_sector_at(f, f->g->mmio_mem);
	assert_int_equal(0, ramdev_as_reentrant_refused(f->g->as));
	assert_int_equal(0, f->log_reentrant);
}

int main(void)
{
#define G(fn) cmocka_unit_test_setup_teardown(fn, gfx_setup, gfx_teardown)
#define B(fn) cmocka_unit_test_setup_teardown(fn, bfx_setup, bfx_teardown)
	const struct CMUnitTest tests[] = {
		G(test_ramdev_as_ld_reentrant_all_ones),
		G(test_ramdev_as_st_reentrant_dropped),
		G(test_ramdev_as_ld_reentrant_other_device),
		G(test_ramdev_as_ld_reentrant_scope),
		G(test_ramdev_as_reentrant_refused_logged_once),
		G(test_ramdev_as_vcpu_access_reentrant),
		G(test_ramdev_region_set_owner_args),
		G(test_ramdev_dma_read_owner_reentrant),
		G(test_ramdev_dma_map_owner_reentrant),
		B(test_ramdev_blk_process_reentrant_status),
		B(test_ramdev_blk_process_reentrant_data),
		B(test_ramdev_blk_process_reentrant_out_data),
		cmocka_unit_test_setup_teardown(
			test_ramdev_blk_process_reentrant_dma_owner,
			bfx_setup_dma_owner, bfx_teardown),
		B(test_ramdev_blk_process_reentrant_other_device),
		cmocka_unit_test_setup_teardown(
			test_ramdev_blk_complete_reentrant_dma_owner,
			bfx_setup_dma_owner_uring, bfx_teardown),
	};

	return cmocka_run_group_tests_name("reentrancy", tests, NULL, NULL);
}
