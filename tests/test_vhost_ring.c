// SPDX-License-Identifier: MIT
/*
 * vhost-user end to end without QEMU: a minimal front end negotiates, sets
 * a memfd memory table, sets up a ring that the driver helper
 * (drivers/vring_driver.h) fills in the same memory, kicks, and reads the
 * completed requests back.  Also: inflight recovery (a "previous back end"
 * left requests marked in flight: they are resubmitted in counter order),
 * the ring start/stop rules, device-memory regions, hot-plug.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_vhost.h"
#include "vring_driver.h"

#define R_SIZE 16u
#define R_DESC 0x1000ull
#define R_AVAIL 0x2000ull
#define R_USED 0x3000ull
#define R_HDR 0x10000ull
#define R_STATUS 0x11000ull
#define R_DATA 0x20000ull

struct rfix {
	struct vfix *f;
	uint8_t *mem;           /* the front end's view of guest memory */
	struct ramdev_as *as;   /* ... as the driver sees it */
	struct ramdev_region *ram;
	struct vring_drv *drv;
	int kick, call;
};

static void rfix_free(struct rfix *r)
{
	vring_drv_free(r->drv);
	ramdev_as_free(r->as);
	munmap(r->mem, T_MEM_SIZE);
	close(r->kick);
	close(r->call);
}

/* The driver's side: the same memfd, its own address space. */
static void rfix_init(struct rfix *r, struct vfix *f)
{
	struct vring_drv_config dc = {
		.size = R_SIZE, .desc = R_DESC, .avail = R_AVAIL, .used = R_USED,
		.event_idx = true,
	};

	memset(r, 0, sizeof(*r));
	r->f = f;
	r->mem = mmap(NULL, T_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      f->mem, 0);
	assert_true(r->mem != MAP_FAILED);
	assert_int_equal(0, ramdev_as_new(&r->as, "front end"));
	assert_int_equal(0, ramdev_region_new_ram(&r->ram, "ram", r->mem,
						  T_MEM_SIZE));
	ramdev_as_begin(r->as);
	assert_int_equal(0, ramdev_region_add(ramdev_as_root(r->as), 0, r->ram, 0));
	assert_int_equal(0, ramdev_as_commit(r->as));
	ramdev_region_unref(r->ram);
	assert_int_equal(0, vring_drv_new(&r->drv, r->as, &dc));
	r->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(r->kick >= 0 && r->call >= 0);
}

static void vring_setup(struct rfix *r, uint16_t base, bool enable)
{
	struct vfix *f = r->f;
	uint32_t st[2];
	struct { uint32_t idx, flags; uint64_t desc, used, avail, log; } a = {
		0, 0, T_UVA + R_DESC, T_UVA + R_USED, T_UVA + R_AVAIL, 0,
	};
	uint64_t idx = 0;

	st[0] = 0;
	st[1] = R_SIZE;
	t_send(f, T_SET_VRING_NUM, 0, st, 8, NULL, 0);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	st[1] = base;
	t_send(f, T_SET_VRING_BASE, 0, st, 8, NULL, 0);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_send(f, T_SET_VRING_ADDR, 0, &a, sizeof(a), NULL, 0);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_send(f, T_SET_VRING_CALL, 0, &idx, 8, &r->call, 1);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_send(f, T_SET_VRING_KICK, 0, &idx, 8, &r->kick, 1);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	assert_int_equal(RAMDEV_VHOST_OK, ramdev_vhost_last_error(f->v));
	if (enable) {
		st[1] = 1;
		t_send(f, T_SET_VRING_ENABLE, 0, st, 8, NULL, 0);
		assert_int_equal(0, ramdev_vhost_handle(f->v));
	}
}

/* Add one request: header {type, 0, sector}, @len data bytes, status. */
static int add_req(struct rfix *r, unsigned slot, uint32_t type,
		   uint64_t sector, uint32_t len)
{
	uint8_t *h = r->mem + R_HDR + 16 * slot;
	uint32_t t = htole32(type);
	uint64_t s = htole64(sector);
	struct vring_drv_buf out[2] = {
		{ R_HDR + 16 * slot, 16 },
		{ R_DATA + 0x1000 * slot, len },
	};
	struct vring_drv_buf in[2] = {
		{ R_DATA + 0x1000 * slot, len },
		{ R_STATUS + slot, 1 },
	};

	memset(h, 0, 16);
	memcpy(h, &t, 4);
	memcpy(h + 8, &s, 8);
	r->mem[R_STATUS + slot] = 0xff;
	if (type == 1) /* OUT: data is device-readable */
		return vring_drv_add(r->drv, out, 2, in + 1, 1, false);
	return vring_drv_add(r->drv, out, 1, in, 2, false);
}

static void kick(struct rfix *r)
{
	uint64_t one = 1;

	vring_drv_publish(r->drv);
	assert_int_equal(8, write(r->kick, &one, 8));
	assert_true(ramdev_vhost_kick(r->f->v, 0) >= 0);
	(void)ramdev_vhost_complete(r->f->v);
}

static uint16_t get_base(struct vfix *f)
{
	uint32_t st[2] = { 0, 0 };

	t_send(f, T_GET_VRING_BASE, 0, st, 8, NULL, 0);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	assert_int_equal(8, t_recv(f, T_GET_VRING_BASE, st, 8, NULL));
	assert_int_equal(0, st[0]);
	return (uint16_t)st[1];
}

/* Negotiate, map, write a sector and read it back through the ring. */
static void test_ring_write_read(void **state)
{
	struct vfix *f = *state;
	struct rfix r;
	uint16_t id;
	uint32_t len;
	uint64_t calls = 0;
	struct ramdev_blk_queue_stats st;

	rfix_init(&r, f);
	t_negotiate(f, T_PF_REPLY_ACK);
	t_mem_table(f);
	vring_setup(&r, 0, true);
	memset(r.mem + R_DATA, 0xa5, 512);
	assert_int_equal(0, add_req(&r, 0, 1, 3, 512));
	kick(&r);
	assert_int_equal(1, vring_drv_get_used(r.drv, &id, &len));
	assert_int_equal(0, id);
	assert_int_equal(0, r.mem[R_STATUS]);
	assert_int_equal(8, read(r.call, &calls, 8)); /* the call fd fired */
	/* Read it back into another buffer. */
	memset(r.mem + R_DATA + 0x1000, 0, 512);
	id = (uint16_t)add_req(&r, 1, 0, 3, 512);
	kick(&r);
	assert_int_equal(1, vring_drv_get_used(r.drv, &id, &len));
	assert_int_equal(513, len);
	assert_int_equal(0, r.mem[R_STATUS + 1]);
	assert_memory_equal(r.mem + R_DATA, r.mem + R_DATA + 0x1000, 512);
	assert_int_equal(0, ramdev_blk_get_queue_stats(f->blk, 0, &st));
	assert_int_equal(2, st.requests);
	assert_int_equal(512, st.bytes_read);
	assert_int_equal(512, st.bytes_written);
	assert_int_equal(0, st.bytes_devmem);
	/* GET_VRING_BASE stops the ring and says where it stopped. */
	assert_int_equal(2, get_base(f));
	/* A stopped ring can be reconfigured and started again. */
	vring_setup(&r, 2, true);
	rfix_free(&r);
}

/* Without SET_VRING_ENABLE (PROTOCOL_FEATURES negotiated) nothing runs. */
static void test_ring_disabled(void **state)
{
	struct vfix *f = *state;
	struct rfix r;
	uint16_t id;
	uint32_t len, st[2] = { 0, 16 };

	rfix_init(&r, f);
	t_negotiate(f, T_PF_REPLY_ACK);
	t_mem_table(f);
	vring_setup(&r, 0, false);
	assert_int_equal(0, add_req(&r, 0, 0, 0, 512));
	kick(&r);
	assert_int_equal(0, vring_drv_get_used(r.drv, &id, &len));
	/* A running ring cannot be resized. */
	t_send(f, T_SET_VRING_NUM, T_NEED_REPLY, st, 8, NULL, 0);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_VRING_STARTED);
	assert_int_equal(8, t_recv(f, T_SET_VRING_NUM, &(uint64_t){ 0 }, 8, NULL));
	/* Enabling it processes what was waiting. */
	st[1] = 1;
	t_send(f, T_SET_VRING_ENABLE, 0, st, 8, NULL, 0);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	(void)ramdev_vhost_complete(f->v);
	assert_int_equal(1, vring_drv_get_used(r.drv, &id, &len));
	rfix_free(&r);
}

struct t_desc_state {
	uint8_t inflight, pad[5];
	uint16_t next;
	uint64_t counter;
};

struct t_inflight_q {
	uint64_t features;
	uint16_t version, desc_num, last_batch_head, used_idx;
	struct t_desc_state desc[];
};

/*
 * A previous back end popped requests 0, 1, 2 (counters 7, 5, 9) and died;
 * a new one on the same inflight fd resubmits them in counter order
 * (1, 0, 2), then continues with request 3 from the avail ring.
 */
static void test_ring_inflight_resubmit(void **state)
{
	struct vfix *f = *state;
	struct { uint64_t size, off; uint16_t nq, qs; uint32_t pad; } in =
		{ 0, 0, 1, R_SIZE, 0 };
	struct t_inflight_q *q;
	struct rfix r;
	uint16_t id;
	uint32_t len;
	int ifd = -1, head[4];

	rfix_init(&r, f);
	t_negotiate(f, T_PF_REPLY_ACK | T_PF_INFLIGHT);
	t_send(f, T_GET_INFLIGHT_FD, 0, &in, sizeof(in), NULL, 0);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	assert_int_equal(sizeof(in), t_recv(f, T_GET_INFLIGHT_FD, &in, sizeof(in), &ifd));
	assert_true(ifd >= 0);
	assert_true(in.size >= 16 + 16 * R_SIZE);
	q = mmap(NULL, in.size, PROT_READ | PROT_WRITE, MAP_SHARED, ifd, 0);
	assert_true(q != MAP_FAILED);
	assert_int_equal(R_SIZE, q->desc_num);
	/* Four requests available; the "previous" back end took three. */
	for (unsigned i = 0; i < 4; i++) {
		memset(r.mem + R_DATA + 0x1000 * i, 'a' + i, 512);
		head[i] = add_req(&r, i, 1, i, 512);
		assert_true(head[i] >= 0);
	}
	vring_drv_publish(r.drv);
	q->version = 1;
	q->desc[head[0]] = (struct t_desc_state){ .inflight = 1, .counter = 7 };
	q->desc[head[1]] = (struct t_desc_state){ .inflight = 1, .counter = 5 };
	q->desc[head[2]] = (struct t_desc_state){ .inflight = 1, .counter = 9 };
	t_send(f, T_SET_INFLIGHT_FD, 0, &in, sizeof(in), &ifd, 1);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_mem_table(f);
	vring_setup(&r, 0, true); /* QEMU sends used idx (0) as the base */
	(void)ramdev_vhost_complete(f->v);
	{
		unsigned order[4] = { 1, 0, 2, 3 };

		for (unsigned i = 0; i < 4; i++) {
			assert_int_equal(1, vring_drv_get_used(r.drv, &id, &len));
			assert_int_equal(head[order[i]], id);
			assert_int_equal(0, r.mem[R_STATUS + order[i]]);
		}
	}
	assert_int_equal(0, vring_drv_get_used(r.drv, &id, &len));
	for (unsigned i = 0; i < R_SIZE; i++)
		assert_int_equal(0, q->desc[i].inflight);
	/* The region cannot be swapped under a running ring. */
	t_send(f, T_SET_INFLIGHT_FD, T_NEED_REPLY, &in, sizeof(in), &ifd, 1);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_VRING_STARTED);
	assert_int_equal(8, t_recv(f, T_SET_INFLIGHT_FD, &(uint64_t){ 0 }, 8, NULL));
	/* The image holds each request's data at its sector. */
	for (unsigned i = 0; i < 4; i++) {
		uint8_t b[512], want[512];

		memset(want, 'a' + i, sizeof(want));
		assert_int_equal(512, pread(f->img, b, 512, 512 * i));
		assert_memory_equal(want, b, 512);
	}
	assert_int_equal(4, q->used_idx);
	assert_int_equal(4, get_base(f));
	munmap(q, in.size);
	close(ifd);
	rfix_free(&r);
}

/* A region whose last_batch_head is out of range is refused at start. */
static void test_ring_inflight_layout(void **state)
{
	struct vfix *f = *state;
	struct { uint64_t size, off; uint16_t nq, qs; uint32_t pad; } in =
		{ 0, 0, 1, R_SIZE, 0 };
	struct t_inflight_q *q;
	struct rfix r;
	int ifd;
	uint64_t idx = 0;

	rfix_init(&r, f);
	t_negotiate(f, T_PF_REPLY_ACK | T_PF_INFLIGHT);
	t_send(f, T_GET_INFLIGHT_FD, 0, &in, sizeof(in), NULL, 0);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_recv(f, T_GET_INFLIGHT_FD, &in, sizeof(in), &ifd);
	q = mmap(NULL, in.size, PROT_READ | PROT_WRITE, MAP_SHARED, ifd, 0);
	assert_true(q != MAP_FAILED);
	q->version = 1;
	q->used_idx = 3; /* the ring's is 0 */
	q->last_batch_head = 0x4000;
	t_send(f, T_SET_INFLIGHT_FD, 0, &in, sizeof(in), &ifd, 1);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_mem_table(f);
	{
		uint32_t st[2] = { 0, R_SIZE };
		struct { uint32_t idx, flags; uint64_t desc, used, avail, log; } a = {
			0, 0, T_UVA + R_DESC, T_UVA + R_USED, T_UVA + R_AVAIL, 0,
		};

		t_send(f, T_SET_VRING_NUM, 0, st, 8, NULL, 0);
		assert_int_equal(0, ramdev_vhost_handle(f->v));
		t_send(f, T_SET_VRING_ADDR, 0, &a, sizeof(a), NULL, 0);
		assert_int_equal(0, ramdev_vhost_handle(f->v));
	}
	t_send(f, T_SET_VRING_KICK, T_NEED_REPLY, &idx, 8, &r.kick, 1);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_INFLIGHT_LAYOUT);
	assert_non_null(strstr(f->last_log, "last_batch_head 0x4000"));
	assert_int_equal(8, t_recv(f, T_SET_VRING_KICK, &idx, 8, NULL));
	assert_int_equal(1, idx);
	munmap(q, in.size);
	close(ifd);
	rfix_free(&r);
}

static int kind_at(struct ramdev_as *as, uint64_t gpa)
{
	struct ramdev_xlate x;
	int k;

	ramdev_as_read_lock();
	k = ramdev_as_translate(as, gpa, 1, &x) ? -1 : (int)x.kind;
	ramdev_as_read_unlock();
	return k;
}

/* Replace the fixture's back end by one made with @vo (device-memory
 * ranges), attached to a fresh socketpair. */
static void reattach(struct vfix *f, struct ramdev_vhost_options *vo)
{
	int sv[2];

	ramdev_vhost_free(f->v);
	vo->blk = f->blk;
	assert_int_equal(0, ramdev_vhost_new(&f->v, vo));
	assert_int_equal(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	close(f->sock);
	f->sock = sv[1];
	assert_int_equal(0, ramdev_vhost_attach(f->v, sv[0]));
}

/* A back end with @vo, and one region (ADD_MEM_REG payload @m) added to
 * it: its address space. */
static struct ramdev_as *add_region_with(struct vfix *f,
					 struct ramdev_vhost_options *vo,
					 const void *m, uint32_t msize)
{
	reattach(f, vo);
	t_negotiate(f, T_PF_REPLY_ACK);
	t_send(f, T_ADD_MEM_REG, 0, m, msize, &f->mem, 1);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	assert_int_equal(RAMDEV_VHOST_OK, ramdev_vhost_last_error(f->v));
	return ramdev_vhost_as(f->v);
}

/* --device-memory: a region partly inside a range is split. */
static void test_mem_devmem_split(void **state)
{
	struct vfix *f = *state;
	struct ramdev_vhost_devmem dm = { 0x40000, 0x20000 };
	struct ramdev_vhost_options vo = { .devmem = &dm, .ndevmem = 1 };
	struct { uint64_t pad; struct t_region r; } m =
		{ 0, { 0, T_MEM_SIZE, T_UVA, 0 } };
	struct ramdev_as *as;

	/* A back end with the range, instead of the fixture's. */
	as = add_region_with(f, &vo, &m, sizeof(m));
	assert_int_equal(RAMDEV_REGION_RAM, kind_at(as, 0x3ffff));
	assert_int_equal(RAMDEV_REGION_RAMD, kind_at(as, 0x40000));
	assert_int_equal(RAMDEV_REGION_RAMD, kind_at(as, 0x5ffff));
	assert_int_equal(RAMDEV_REGION_RAM, kind_at(as, 0x60000));
	/* Hot-unplug: the whole region goes. */
	t_send(f, T_REM_MEM_REG, 0, &m, sizeof(m), NULL, 0);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	assert_int_equal(RAMDEV_VHOST_OK, ramdev_vhost_last_error(f->v));
	assert_int_equal(-1, kind_at(as, 0x40000));
	ramdev_vhost_detach(f->v);
	close(f->sock);
	f->sock = -1;
}

/* The DMA width of the device-memory pieces, from the options. */
static unsigned width_at(struct ramdev_as *as, uint64_t gpa)
{
	struct ramdev_xlate x;
	unsigned w;

	ramdev_as_read_lock();
	w = ramdev_as_translate(as, gpa, 1, &x) ? 99 :
	    ramdev_region_dma_width(x.region);
	ramdev_as_read_unlock();
	return w;
}

/* --dma-width: every RAM-device piece gets it, RAM pieces have none; a
 * width that is not a power of two up to 64 is refused. */
static void test_mem_devmem_dma_width(void **state)
{
	struct vfix *f = *state;
	struct ramdev_vhost_devmem dm = { 0x40000, 0x20000 };
	struct ramdev_vhost_options vo = { .devmem = &dm, .ndevmem = 1,
					   .devmem_dma_width = 4 };
	struct ramdev_vhost_options bad = { .blk = f->blk };
	struct { uint64_t pad; struct t_region r; } m =
		{ 0, { 0, T_MEM_SIZE, T_UVA, 0 } };
	struct ramdev_vhost *v = NULL;
	struct ramdev_as *as;

	for (unsigned i = 0; i < 3; i++) {
		bad.devmem_dma_width = (unsigned[]){ 3, 128, 96 }[i];
		assert_int_equal(-EINVAL, ramdev_vhost_new(&v, &bad));
		assert_null(v);
	}
	as = add_region_with(f, &vo, &m, sizeof(m));
	assert_int_equal(0, width_at(as, 0x3ffff));
	assert_int_equal(4, width_at(as, 0x40000));
	assert_int_equal(4, width_at(as, 0x5ffff));
	assert_int_equal(0, width_at(as, 0x60000));
	ramdev_vhost_detach(f->v);
	close(f->sock);
	f->sock = -1;
}

/* A region that ends at the top of the guest-physical space (last byte
 * 2^64-1) is one piece: "no device memory above" must not read as a range
 * starting at 2^64-1 (it split off a last piece of size 0, refused). */
static void test_mem_region_at_top(void **state)
{
	struct vfix *f = *state;
	struct ramdev_vhost_devmem dm = { 0x40000, 0x20000 };
	struct ramdev_vhost_options vo = { .devmem = &dm, .ndevmem = 1 };
	struct { uint64_t pad; struct t_region r; } m =
		{ 0, { 0 - (uint64_t)T_MEM_SIZE, T_MEM_SIZE, T_UVA, 0 } };
	struct ramdev_as *as;

	as = add_region_with(f, &vo, &m, sizeof(m));
	assert_int_equal(RAMDEV_REGION_RAM, kind_at(as, 0 - (uint64_t)T_MEM_SIZE));
	assert_int_equal(RAMDEV_REGION_RAM, kind_at(as, UINT64_MAX - 1));
	assert_int_equal(RAMDEV_REGION_RAM, kind_at(as, UINT64_MAX));
	ramdev_vhost_detach(f->v);
	close(f->sock);
	f->sock = -1;
}

/* More device-memory ranges in one region than it may have pieces: the
 * last piece takes the rest and is device memory, never RAM. */
static void test_mem_devmem_many(void **state)
{
	struct vfix *f = *state;
	struct ramdev_vhost_devmem dm[8];
	struct ramdev_vhost_options vo = { .devmem = dm, .ndevmem = 8 };
	struct { uint64_t pad; struct t_region r; } m =
		{ 0, { 0, T_MEM_SIZE, T_UVA, 0 } };
	struct ramdev_as *as;

	for (unsigned i = 0; i < 8; i++)
		dm[i] = (struct ramdev_vhost_devmem){ (2 * i + 1) * 0x10000ull,
						      0x10000 };
	as = add_region_with(f, &vo, &m, sizeof(m));
	assert_int_equal(RAMDEV_REGION_RAM, kind_at(as, 0x0));
	assert_int_equal(RAMDEV_REGION_RAMD, kind_at(as, 0x10000));
	assert_int_equal(RAMDEV_REGION_RAM, kind_at(as, 0x60000));
	/* From the 8th piece on: one device-memory piece, gaps included. */
	assert_int_equal(RAMDEV_REGION_RAMD, kind_at(as, 0x80000));
	assert_int_equal(RAMDEV_REGION_RAMD, kind_at(as, 0xf0000));
	assert_int_equal(RAMDEV_REGION_RAMD, kind_at(as, T_MEM_SIZE - 1));
}

/* A region whose fd is a char device is device memory as a whole. */
static void test_mem_chardev_ramd(void **state)
{
	struct vfix *f = *state;
	struct { uint64_t pad; struct t_region r; } m =
		{ 0, { 0x100000, 0x10000, T_UVA, 0 } };
	int zero = open("/dev/zero", O_RDWR | O_CLOEXEC);

	assert_true(zero >= 0);
	t_negotiate(f, T_PF_REPLY_ACK);
	t_send(f, T_ADD_MEM_REG, 0, &m, sizeof(m), &zero, 1);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	assert_int_equal(RAMDEV_VHOST_OK, ramdev_vhost_last_error(f->v));
	assert_int_equal(RAMDEV_REGION_RAMD,
			 kind_at(ramdev_vhost_as(f->v), 0x100000));
	assert_int_equal(RAMDEV_REGION_RAMD,
			 kind_at(ramdev_vhost_as(f->v), 0x10ffff));
	close(zero);
}

/* A ring in memory declared device memory: data bytes counted as such. */
static void test_ring_devmem_stats(void **state)
{
	struct vfix *f = *state;
	struct ramdev_vhost_devmem dm = { R_DATA, 0x10000 };
	struct ramdev_vhost_options vo = { .devmem = &dm, .ndevmem = 1 };
	struct ramdev_blk_queue_stats st;
	struct rfix r;
	uint16_t id;
	uint32_t len;

	reattach(f, &vo);
	rfix_init(&r, f);
	t_negotiate(f, T_PF_REPLY_ACK);
	t_mem_table(f);
	vring_setup(&r, 0, true);
	memset(r.mem + R_DATA, 0x3c, 4096);
	assert_int_equal(0, add_req(&r, 0, 1, 0, 4096));
	kick(&r);
	assert_int_equal(1, vring_drv_get_used(r.drv, &id, &len));
	assert_int_equal(0, r.mem[R_STATUS]);
	assert_int_equal(0, ramdev_blk_get_queue_stats(f->blk, 0, &st));
	assert_int_equal(4096, st.bytes_devmem);
	rfix_free(&r);
}

/*
 * The front end goes away with a ring running (requests in the ring, one
 * not yet kicked); the back end drops everything of that connection and
 * serves the next one from scratch.
 */
static void test_ring_next_connection(void **state)
{
	struct vfix *f = *state;
	struct rfix r;
	uint16_t id;
	uint32_t len;
	int sv[2];

	rfix_init(&r, f);
	t_negotiate(f, T_PF_REPLY_ACK | T_PF_INFLIGHT);
	t_mem_table(f);
	vring_setup(&r, 0, true);
	assert_int_equal(0, add_req(&r, 0, 1, 0, 512));
	kick(&r);
	assert_true(add_req(&r, 1, 0, 0, 512) >= 0);
	vring_drv_publish(r.drv); /* available, never kicked */
	close(f->sock);
	assert_int_equal(-ECONNRESET, ramdev_vhost_handle(f->v));
	ramdev_vhost_detach(f->v);
	rfix_free(&r);
	/* The next front end: fresh rings in the same memory. */
	assert_int_equal(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	f->sock = sv[1];
	assert_int_equal(0, ramdev_vhost_attach(f->v, sv[0]));
	rfix_init(&r, f);
	t_negotiate(f, T_PF_REPLY_ACK);
	t_mem_table(f);
	vring_setup(&r, 0, true);
	assert_int_equal(0, add_req(&r, 0, 0, 0, 512));
	kick(&r);
	assert_int_equal(1, vring_drv_get_used(r.drv, &id, &len));
	assert_int_equal(0, r.mem[R_STATUS]);
	assert_int_equal(1, get_base(f));
	rfix_free(&r);
}

/* A guest that breaks its ring: the err fd of SET_VRING_ERR fires once. */
static void test_ring_broken_err_fd(void **state)
{
	struct vfix *f = *state;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t idx = 0, cnt = 0, one = 1;
	struct rfix r;

	assert_true(efd >= 0);
	rfix_init(&r, f);
	t_negotiate(f, T_PF_REPLY_ACK);
	t_mem_table(f);
	t_send(f, 14, 0, &idx, 8, &efd, 1); /* SET_VRING_ERR */
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	vring_setup(&r, 0, true);
	vring_drv_post_head(r.drv, R_SIZE + 3); /* head out of range */
	vring_drv_set_avail_idx(r.drv, 1);
	assert_int_equal(8, write(r.kick, &one, 8));
	assert_int_equal(-EIO, ramdev_vhost_kick(f->v, 0));
	assert_int_equal(8, read(efd, &cnt, 8));
	assert_int_equal(1, cnt);
	assert_int_equal(-EIO, ramdev_vhost_kick(f->v, 0));
	assert_int_equal(-1, read(efd, &cnt, 8)); /* once */
	close(efd);
	rfix_free(&r);
}

/*
 * Hot-unplug of the region a request's buffer is in, while the request is
 * in flight (io_uring: submitted, not yet reaped): the mapping stays until
 * the request is pushed, the data lands, and the region is gone after.
 */
static void test_mem_remove_inflight(void **state)
{
	struct vfix *f = *state;
	int mem2 = memfd_create("test-vhost-mem2", MFD_CLOEXEC);
	struct { uint64_t pad; struct t_region r; } m =
		{ 0, { 0x100000, 0x10000, T_UVA + 0x100000, 0 } };
	struct ramdev_region *reg;
	uint8_t *b2;
	struct rfix r;
	uint16_t id;
	uint32_t len;
	uint8_t want[4096];

	assert_true(mem2 >= 0);
	assert_int_equal(0, ftruncate(mem2, 0x10000));
	b2 = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE, MAP_SHARED, mem2, 0);
	assert_true(b2 != MAP_FAILED);
	memset(want, 0x77, sizeof(want));
	assert_int_equal(4096, pwrite(f->img, want, 4096, 8 * 512));
	rfix_init(&r, f);
	/* The driver sees the second region too. */
	ramdev_as_begin(r.as);
	assert_int_equal(0, ramdev_region_new_ram(&reg, "ram2", b2, 0x10000));
	assert_int_equal(0, ramdev_region_add(ramdev_as_root(r.as), 0x100000, reg, 0));
	assert_int_equal(0, ramdev_as_commit(r.as));
	ramdev_region_unref(reg);
	t_negotiate(f, T_PF_REPLY_ACK);
	t_mem_table(f);
	t_send(f, T_ADD_MEM_REG, 0, &m, sizeof(m), &mem2, 1);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	assert_int_equal(RAMDEV_VHOST_OK, ramdev_vhost_last_error(f->v));
	vring_setup(&r, 0, true);
	{
		uint8_t *h = r.mem + R_HDR;
		uint64_t s8 = htole64(8);
		struct vring_drv_buf out = { R_HDR, 16 };
		struct vring_drv_buf in[2] = { { 0x100000, 4096 }, { R_STATUS, 1 } };
		uint64_t one = 1;

		memset(h, 0, 16); /* IN */
		memcpy(h + 8, &s8, 8);
		r.mem[R_STATUS] = 0xff;
		assert_true(vring_drv_add(r.drv, &out, 1, in, 2, false) >= 0);
		vring_drv_publish(r.drv);
		assert_int_equal(8, write(r.kick, &one, 8));
		assert_int_equal(1, ramdev_vhost_kick(f->v, 0));
	}
	/* In flight (popped, not pushed); the region goes. */
	assert_int_equal(1, ramdev_blk_inflight(f->blk));
	t_send(f, T_REM_MEM_REG, 0, &m, sizeof(m), NULL, 0);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	assert_int_equal(RAMDEV_VHOST_OK, ramdev_vhost_last_error(f->v));
	assert_int_equal(-1, kind_at(ramdev_vhost_as(f->v), 0x100000));
	for (int i = 0; i < 1000 && !vring_drv_get_used(r.drv, &id, &len); i++) {
		struct pollfd p = { ramdev_blk_event_fd(f->blk), POLLIN, 0 };

		(void)poll(&p, 1, 10);
		(void)ramdev_vhost_complete(f->v);
	}
	assert_int_equal(0, r.mem[R_STATUS]);
	assert_memory_equal(want, b2, 4096);
	munmap(b2, 0x10000);
	close(mem2);
	rfix_free(&r);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, vfix_setup, vfix_teardown)

int vhost_ring_tests(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ring_write_read),
		T(test_ring_disabled),
		T(test_ring_inflight_resubmit),
		T(test_ring_inflight_layout),
		T(test_mem_devmem_split),
		T(test_mem_devmem_dma_width),
		T(test_mem_region_at_top),
		T(test_mem_chardev_ramd),
		T(test_mem_devmem_many),
		T(test_ring_devmem_stats),
		T(test_ring_next_connection),
		T(test_ring_broken_err_fd),
		cmocka_unit_test_setup_teardown(test_mem_remove_inflight,
						vfix_setup_uring, vfix_teardown),
	};

	return cmocka_run_group_tests_name("vhost rings", tests, NULL, NULL);
}
