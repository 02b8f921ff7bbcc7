// SPDX-License-Identifier: MIT
/* Fake queue, checking engine, fixture and chain builders for the blk tests. */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <limits.h>
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

/* ---- fake queue ---- */

static int fq_pop(void *q, struct ramdev_virtq_elem **out)
{
	struct fakeq *f = q;

	if (f->next >= f->navail)
		return 0;
	if (f->pop_err)
		return f->pop_err;
	*out = f->avail[f->next++];
	return 1;
}

static int fq_push(void *q, struct ramdev_virtq_elem *elem, uint32_t written)
{
	struct fakeq *f = q;

	assert_true(f->nused < MAX_ELEMS);
	f->used[f->nused].head = elem->head;
	f->used[f->nused].written = written;
	f->nused++;
	free(elem);
	return 0;
}

static bool fq_should_notify(void *q)
{
	(void)q;
	return true;
}

const struct ramdev_blk_queue_ops fq_ops = {
	.pop = fq_pop,
	.push = fq_push,
	.should_notify = fq_should_notify,
};

/* ---- the checking engine: no pointer into DEV reaches the kernel ---- */

/* The engine's opaque is the fixture; the real engine runs under it. */
static void check_step(struct fix *f, const struct blk_step *st)
{
	for (unsigned i = 0; st->iov && i < st->iovcnt; i++) {
		uintptr_t b = (uintptr_t)st->iov[i].iov_base;
		uintptr_t d = (uintptr_t)f->dev;

		assert_false(b + st->iov[i].iov_len > d && b < d + MEM_SIZE);
		f->kernel_iovs++;
	}
}

static void check_submit(void *opaque, struct ramdev_blk *blk,
			 struct blk_req *req)
{
	struct fix *f = opaque;
	struct blk_step st;

	/* Look at the first step here; later ones are checked by reap. */
	ramdev_blk_req_next(req, &st);
	check_step(f, &st);
	req->step = (struct blk_step){ 0 };
	f->real->submit(f->real_opaque, blk, req);
}

static int check_init(struct ramdev_blk *b, void **opaque)
{
	(void)b;
	(void)opaque;
	return 0;
}

static void check_fini(void *opaque, struct ramdev_blk *b)
{
	struct fix *f = opaque;

	f->real->fini(f->real_opaque, b);
}

static int check_kick(void *opaque, struct ramdev_blk *b)
{
	struct fix *f = opaque;

	return f->real->kick(f->real_opaque, b);
}

static int check_reap(void *opaque, struct ramdev_blk *b, int t)
{
	struct fix *f = opaque;

	return f->real->reap(f->real_opaque, b, t);
}

static bool check_cancel(void *opaque, struct ramdev_blk *b)
{
	struct fix *f = opaque;

	if (f->real->cancel)
		return f->real->cancel(f->real_opaque, b);
	f->real->fini(f->real_opaque, b);
	return false;
}

static const struct ramdev_blk_engine_ops check_engine = {
	.name = "check", .init = check_init, .fini = check_fini,
	.submit = check_submit, .kick = check_kick, .reap = check_reap,
	.cancel = check_cancel,
};

/* ---- the fault engine: sync steps, some failing on demand ---- */

static long fault_step(struct fix *f, struct ramdev_blk *blk,
		       const struct blk_step *st)
{
	struct fault_engine *fe = &f->fe;

	if ((int)st->kind == fe->fail_kind && fe->fail_count) {
		fe->fail_count--;
		return fe->fail_err;
	}
	fe->steps[st->kind]++;
	return ramdev_blk_step_sync(blk, st);
}

static void fault_run(struct fix *f, struct ramdev_blk *blk, struct blk_req *req)
{
	struct blk_step st;

	for (;;) {
		ramdev_blk_req_next(req, &st);
		if (st.kind == BLK_STEP_DONE)
			break;
		check_step(f, &st);
		ramdev_blk_req_result(req, &st, fault_step(f, blk, &st));
	}
	ramdev_blk_req_done(req);
}

static void fault_submit(void *opaque, struct ramdev_blk *blk,
			 struct blk_req *req)
{
	struct fix *f = opaque;

	if (f->fe.hold) {
		assert_true(f->fe.nheld < MAX_ELEMS);
		f->fe.held[f->fe.nheld++] = req;
		return;
	}
	fault_run(f, blk, req);
}

/* Finish up to reap_batch held requests (oldest first); maybe fail. */
static int fault_reap(void *opaque, struct ramdev_blk *b, int t)
{
	struct fix *f = opaque;
	struct fault_engine *fe = &f->fe;
	unsigned n = fe->reap_batch && fe->reap_batch < fe->nheld
			     ? fe->reap_batch : fe->nheld;

	(void)t;
	if (fe->stuck)
		n = 0;
	for (unsigned i = 0; i < n; i++)
		fault_run(f, b, fe->held[i]);
	memmove(fe->held, fe->held + n, (fe->nheld - n) * sizeof(fe->held[0]));
	fe->nheld -= n;
	if (fe->reap_fails) {
		if (fe->reap_fails != UINT_MAX)
			fe->reap_fails--;
		return -EIO;
	}
	return (int)n;
}

/* Drop what is held (the device fails it); the real engine's state goes. */
static bool fault_cancel(void *opaque, struct ramdev_blk *b)
{
	struct fix *f = opaque;

	f->fe.cancels++;
	f->fe.nheld = 0; /* held[] keeps the pointers: the test may free them */
	f->real->fini(f->real_opaque, b);
	return !f->fe.cancel_unsafe;
}

static int fault_kick(void *opaque, struct ramdev_blk *b)
{
	(void)opaque;
	(void)b;
	return 0;
}

static const struct ramdev_blk_engine_ops fault_engine = {
	.name = "fault", .init = check_init, .fini = check_fini,
	.submit = fault_submit, .kick = fault_kick, .reap = fault_reap,
	.cancel = fault_cancel,
};

/* Replace the engine (under the checking one) with the fault engine. */
void use_fault_engine(struct fix *f)
{
	f->blk->engine = &fault_engine;
	f->blk->engine_opaque = f;
}

/* ---- fixture ---- */

static int open_blk(struct fix *f, const struct ramdev_blk_options *extra)
{
	struct ramdev_blk_options o = { .fd = f->img, .engine = f->engine,
					.serial = "ramdev-serial-0123456789" };
	int ret;

	if (extra) {
		o = *extra;
		o.engine = f->engine;
	}
	o.uring_offload_writes = f->offload;
	ret = ramdev_blk_open(&f->blk, &o);
	if (ret == 0) {
		assert_int_equal(0, ramdev_blk_attach_queue_ops(f->blk, 0, &fq_ops,
								&f->q));
		f->real = f->blk->engine;
		f->real_opaque = f->blk->engine_opaque;
		f->blk->engine = &check_engine;
		f->blk->engine_opaque = f;
	}
	return ret;
}

/* Can the image's file system start a buffered write without blocking? */
static bool fs_nowait_writes(int fd)
{
	uint8_t zero[512] = { 0 };
	struct iovec iov = { zero, sizeof(zero) };

	return pwritev2(fd, &iov, 1, 0, RWF_NOWAIT) >= 0 || errno != EOPNOTSUPP;
}

/*
 * io_uring runs twice: with uring_offload_writes (every request, writes
 * included, stays in flight in io_uring), and with the default, where a
 * file system without non-blocking buffered writes gets its writes inline
 * (that run is skipped on other file systems).
 */
static int setup(void **state, enum ramdev_blk_engine engine, bool offload)
{
	struct fix *f = calloc(1, sizeof(*f));
	int ret;

	assert_non_null(f);
	f->engine = engine;
	f->offload = offload;
	f->async_writes = engine == RAMDEV_BLK_ENGINE_URING && offload;
	strcpy(f->path, "/tmp/ramdev-test-blk-XXXXXX");
	f->img = mkstemp(f->path);
	assert_true(f->img >= 0);
	assert_int_equal(0, ftruncate(f->img, IMG_SIZE));
	*state = f;
	if (engine == RAMDEV_BLK_ENGINE_URING && !offload &&
	    fs_nowait_writes(f->img)) {
		fprintf(stderr, "skip: %s has non-blocking buffered writes: "
				"io_uring keeps them\n", f->path);
		return 0; /* each test skips on f->blk == NULL */
	}
	f->ram = calloc(1, MEM_SIZE);
	f->dev = calloc(1, MEM_SIZE);
	assert_non_null(f->ram);
	assert_non_null(f->dev);
	ret = open_blk(f, NULL);
	if (engine == RAMDEV_BLK_ENGINE_URING && (ret == -ENOSYS || ret == -EPERM)) {
		fprintf(stderr, "skip: io_uring unavailable: %s\n", strerror(-ret));
		return 0; /* each test skips on f->blk == NULL */
	}
	assert_int_equal(0, ret);
	return 0;
}

int setup_sync(void **state)
{
	return setup(state, RAMDEV_BLK_ENGINE_SYNC, false);
}

int setup_uring(void **state)
{
	return setup(state, RAMDEV_BLK_ENGINE_URING, true);
}

int setup_uring_inline(void **state)
{
	return setup(state, RAMDEV_BLK_ENGINE_URING, false);
}

int teardown(void **state)
{
	struct fix *f = *state;

	ramdev_blk_close(f->blk);
	close(f->img);
	unlink(f->path);
	free(f->ram);
	free(f->dev);
	free(f);
	return 0;
}

struct fix *get(void **state)
{
	struct fix *f = *state;

	if (!f->blk)
		skip();
	return f;
}

/* Reopen with other options (the fixture's image unless o->path/fd set). */
void reopen(struct fix *f, struct ramdev_blk_options *o)
{
	ramdev_blk_close(f->blk);
	f->blk = NULL;
	if (!o->path && o->fd == 0)
		o->fd = f->img;
	assert_int_equal(0, open_blk(f, o));
}

/* ---- chains ---- */

void queue_elem(struct fix *f, const struct piece *out, unsigned nout,
		       const struct piece *in, unsigned nin)
{
	struct ramdev_virtq_elem *e;
	unsigned n = nout + nin;

	e = calloc(1, sizeof(*e) + n * sizeof(struct ramdev_dma_seg));
	assert_non_null(e);
	e->segs = (struct ramdev_dma_seg *)(e + 1);
	e->head = (uint16_t)f->q.navail;
	e->out_num = nout;
	e->in_num = nin;
	for (unsigned i = 0; i < n; i++) {
		const struct piece *p = i < nout ? &out[i] : &in[i - nout];

		e->segs[i].base = p->p;
		e->segs[i].len = p->len;
		e->segs[i].kind = p->kind;
		if (i < nout)
			e->out_len += p->len;
		else
			e->in_len += p->len;
	}
	assert_true(f->q.navail < MAX_ELEMS);
	f->q.avail[f->q.navail++] = e;
}

/* A header at @h (16 bytes of RAM). */
struct piece hdr(uint8_t *h, uint32_t type, uint64_t sector)
{
	uint32_t t = htole32(type), zero = 0;
	uint64_t s = htole64(sector);

	memcpy(h, &t, 4);
	memcpy(h + 4, &zero, 4);
	memcpy(h + 8, &s, 8);
	return (struct piece){ h, 16, RAMDEV_SEG_RAM };
}

struct piece ram(uint8_t *p, size_t len)
{
	return (struct piece){ p, len, RAMDEV_SEG_RAM };
}

struct piece dev(uint8_t *p, size_t len)
{
	return (struct piece){ p, len, RAMDEV_SEG_DEV };
}

/* Status bytes live at the end of RAM, one per request head. */
uint8_t *status_of(struct fix *f, unsigned head)
{
	return f->ram + MEM_SIZE - 1 - head;
}

struct piece status(struct fix *f)
{
	uint8_t *s = status_of(f, f->q.navail);

	*s = 0xee;
	return ram(s, 1);
}

/* Headers live just below the status bytes, 16 bytes per head. */
uint8_t *hdr_buf(struct fix *f)
{
	return f->ram + MEM_SIZE - 4096 - 16 * (f->q.navail + 1);
}

void run(struct fix *f)
{
	int ret = ramdev_blk_process(f->blk, 0, &f->notify);

	assert_true(ret >= 0);
	assert_true(ramdev_blk_drain(f->blk, &f->notify) >= 0);
	assert_int_equal(f->q.navail, f->q.nused);
}

/* One single-range request: read or write [sector, +len) from one buffer. */
void rw(struct fix *f, uint32_t type, uint64_t sector, struct piece data)
{
	struct piece h = hdr(hdr_buf(f), type, sector), st = status(f);

	if (type == RAMDEV_BLK_T_OUT)
		queue_elem(f, (struct piece[]){ h, data }, 2, &st, 1);
	else
		queue_elem(f, &h, 1, (struct piece[]){ data, st }, 2);
}

void dwz(struct fix *f, uint32_t type, uint64_t sector, uint32_t n,
		uint32_t flags)
{
	uint8_t *r = hdr_buf(f) - 2048;
	uint64_t s = htole64(sector);
	uint32_t nn = htole32(n), fl = htole32(flags);
	struct piece h = hdr(hdr_buf(f), type, 0), st = status(f);

	memcpy(r, &s, 8);
	memcpy(r + 8, &nn, 4);
	memcpy(r + 12, &fl, 4);
	queue_elem(f, (struct piece[]){ h, ram(r, 16) }, 2, &st, 1);
}

void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

void expect(struct fix *f, unsigned head, uint8_t st,
		   enum ramdev_blk_err err)
{
	struct ramdev_blk_stats s;

	assert_int_equal(st, *status_of(f, head));
	ramdev_blk_get_stats(f->blk, &s);
	assert_true(s.errors[err] >= 1);
}
