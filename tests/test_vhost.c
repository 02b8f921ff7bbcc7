// SPDX-License-Identifier: MIT
/*
 * vhost-user message handler: one test per validation rule (enum
 * ramdev_vhost_err), each asserting the exact error, that the log names the
 * message and the rule, and what happens to the connection (rejected with
 * REPLY_ACK carrying the failure, or dropped).  The back end is driven over
 * a socketpair, no QEMU.  The ring tests are in test_vhost_ring.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "scm_fds.h"
#include "test_vhost.h"

/* ---- fixture ---- */

static void log_cb(void *opaque, int level, const char *msg)
{
	struct vfix *f = opaque;

	if (level <= LOG_ERR) {
		snprintf(f->last_log, sizeof(f->last_log), "%s", msg);
		f->nerr++;
	}
}

static int setup_engine(void **state, enum ramdev_blk_engine engine)
{
	struct vfix *f = calloc(1, sizeof(*f));
	struct ramdev_blk_options bo = { .engine = engine };
	struct ramdev_vhost_options vo = { .queue_size = 256 };
	int sv[2];

	assert_non_null(f);
	f->img = memfd_create("test-vhost-img", MFD_CLOEXEC);
	f->mem = memfd_create("test-vhost-mem", MFD_CLOEXEC);
	assert_true(f->img >= 0 && f->mem >= 0);
	assert_int_equal(0, ftruncate(f->img, 1 << 20));
	assert_int_equal(0, ftruncate(f->mem, T_MEM_SIZE));
	bo.fd = f->img;
	if (engine == RAMDEV_BLK_ENGINE_URING) {
		int ret = ramdev_blk_open(&f->blk, &bo);

		if (ret == -ENOSYS || ret == -EPERM) {
			fprintf(stderr, "SKIP: io_uring unavailable: %s\n",
				strerror(-ret));
			close(f->img);
			close(f->mem);
			free(f);
			*state = NULL;
			skip();
		}
		assert_int_equal(0, ret);
	} else {
		assert_int_equal(0, ramdev_blk_open(&f->blk, &bo));
	}
	vo.blk = f->blk;
	vo.log_fn = log_cb;
	vo.log_opaque = f;
	assert_int_equal(0, ramdev_vhost_new(&f->v, &vo));
	assert_int_equal(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	f->sock = sv[1];
	assert_int_equal(0, ramdev_vhost_attach(f->v, sv[0]));
	assert_int_equal(-EBUSY, ramdev_vhost_attach(f->v, sv[0]));
	*state = f;
	return 0;
}

int vfix_setup(void **state)
{
	return setup_engine(state, RAMDEV_BLK_ENGINE_SYNC);
}

int vfix_setup_uring(void **state)
{
	return setup_engine(state, RAMDEV_BLK_ENGINE_URING);
}

int vfix_teardown(void **state)
{
	struct vfix *f = *state;

	if (!f)
		return 0;

	ramdev_vhost_free(f->v); /* detaches */
	ramdev_blk_close(f->blk);
	close(f->sock);
	close(f->img);
	close(f->mem);
	free(f);
	return 0;
}

/* ---- front-end helpers ---- */

void t_send_raw(struct vfix *f, const void *p, size_t n)
{
	assert_int_equal((ssize_t)n, send(f->sock, p, n, MSG_NOSIGNAL));
}

void t_send(struct vfix *f, uint32_t req, uint32_t flags, const void *p,
	    uint32_t size, const int *fds, unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(16 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	uint32_t hdr[3] = { req, flags | 1u, size };
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)p, size } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };

	assert_true(nfds <= 16);
	scm_put_fds(&mh, ctl.buf, fds, nfds);
	assert_int_equal((ssize_t)(sizeof(hdr) + size),
			 sendmsg(f->sock, &mh, MSG_NOSIGNAL));
}

uint32_t t_recv(struct vfix *f, uint32_t req, void *p, uint32_t max, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	uint32_t hdr[3];
	struct iovec iov = { hdr, sizeof(hdr) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;

	assert_int_equal(sizeof(hdr), recvmsg(f->sock, &mh, MSG_DONTWAIT));
	assert_int_equal(req, hdr[0]);
	assert_int_equal(0x5u, hdr[1]); /* version 1 | reply */
	assert_true(hdr[2] <= max);
	if (hdr[2])
		assert_int_equal(hdr[2], recv(f->sock, p, hdr[2], MSG_DONTWAIT));
	if (fd) {
		*fd = -1;
		c = CMSG_FIRSTHDR(&mh);
		if (c && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	}
	return hdr[2];
}

int t_u64(struct vfix *f, uint32_t req, uint64_t val)
{
	t_send(f, req, 0, &val, sizeof(val), NULL, 0);
	return ramdev_vhost_handle(f->v);
}

uint64_t t_get_u64(struct vfix *f, uint32_t req)
{
	uint64_t val = 0;

	t_send(f, req, 0, NULL, 0, NULL, 0);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	assert_int_equal(8, t_recv(f, req, &val, sizeof(val), NULL));
	return val;
}

void t_negotiate(struct vfix *f, uint64_t pf)
{
	uint64_t feat = t_get_u64(f, T_GET_FEATURES);

	assert_true(feat & T_F_PROTOCOL);
	assert_true(feat & T_F_VERSION_1);
	assert_true(feat & T_F_EVENT_IDX);
	assert_true(feat & T_F_INDIRECT);
	assert_int_equal(pf, t_get_u64(f, T_GET_PROTOCOL_FEATURES) & pf);
	assert_int_equal(0, t_u64(f, T_SET_PROTOCOL_FEATURES, pf));
	assert_int_equal(0, t_u64(f, T_SET_FEATURES, feat));
	t_send(f, T_SET_OWNER, 0, NULL, 0, NULL, 0);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
}

void t_mem_table(struct vfix *f)
{
	struct {
		uint32_t n, pad;
		struct t_region r;
	} m = { 1, 0, { 0, T_MEM_SIZE, T_UVA, 0 } };

	t_send(f, T_SET_MEM_TABLE, 0, &m, sizeof(m), &f->mem, 1);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	assert_int_equal(RAMDEV_VHOST_OK, ramdev_vhost_last_error(f->v));
}

void t_assert_err(struct vfix *f, enum ramdev_vhost_err err)
{
	assert_int_equal(err, ramdev_vhost_last_error(f->v));
	/* The log line names the rule (and, before it, the message). */
	assert_non_null(strstr(f->last_log, ramdev_vhost_strerror(err)));
}

/* The REPLY_ACK answer of the last message: 0 success, else failure. */
static uint64_t ack(struct vfix *f, uint32_t req)
{
	uint64_t v = 0xdead;

	assert_int_equal(8, t_recv(f, req, &v, sizeof(v), NULL));
	return v;
}

/* ADD_MEM_REG of @r with @fd and need_reply; the handler's value. */
static int add_reg(struct vfix *f, const struct t_region *r, int fd)
{
	struct {
		uint64_t pad;
		struct t_region r;
	} m = { 0, *r };

	t_send(f, T_ADD_MEM_REG, T_NEED_REPLY, &m, sizeof(m), &fd, fd >= 0);
	return ramdev_vhost_handle(f->v);
}

/* ---- framing rules: the connection is dropped ---- */

static void test_handle_hdr_short(void **state)
{
	struct vfix *f = *state;
	uint32_t half[2] = { T_GET_FEATURES, 1 };

	t_send_raw(f, half, 6);
	shutdown(f->sock, SHUT_WR); /* the front end goes away mid-header */
	assert_int_equal(-EPROTO, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_HDR_SHORT);
	assert_non_null(strstr(f->last_log, "message header"));
}

static void test_handle_version(void **state)
{
	struct vfix *f = *state;
	uint32_t hdr[3] = { T_GET_FEATURES, 0x2, 0 };

	t_send_raw(f, hdr, sizeof(hdr));
	assert_int_equal(-EPROTO, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_VERSION);
	assert_non_null(strstr(f->last_log, "GET_FEATURES"));
}

static void test_handle_size_max(void **state)
{
	struct vfix *f = *state;
	uint32_t hdr[3] = { T_SET_FEATURES, 1, 0x10000 };

	t_send_raw(f, hdr, sizeof(hdr));
	assert_int_equal(-EPROTO, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_SIZE_MAX);
	assert_non_null(strstr(f->last_log, "0x10000"));
}

static void test_handle_payload_short(void **state)
{
	struct vfix *f = *state;
	uint32_t msg[4] = { T_SET_FEATURES, 1, 8, 0 };

	t_send_raw(f, msg, sizeof(msg)); /* 4 of 8 payload bytes */
	shutdown(f->sock, SHUT_WR);
	assert_int_equal(-EPROTO, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_PAYLOAD_SHORT);
	assert_non_null(strstr(f->last_log, "SET_FEATURES"));
}

static void test_handle_peer_closed(void **state)
{
	struct vfix *f = *state;

	shutdown(f->sock, SHUT_WR); /* between messages: a clean end */
	assert_int_equal(-ECONNRESET, ramdev_vhost_handle(f->v));
	assert_int_equal(RAMDEV_VHOST_OK, ramdev_vhost_last_error(f->v));
}

/* ---- content rules: rejected, REPLY_ACK says so, the connection lives ---- */

static void test_handle_unknown(void **state)
{
	struct vfix *f = *state;

	t_negotiate(f, T_PF_REPLY_ACK);
	t_send(f, 99, T_NEED_REPLY, NULL, 0, NULL, 0);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_UNKNOWN);
	assert_int_equal(1, ack(f, 99));
	/* Known but not offered (no LOG_SHMFD): unsupported as well. */
	t_send(f, 6, T_NEED_REPLY, NULL, 0, NULL, 0); /* SET_LOG_BASE */
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_UNKNOWN);
	assert_non_null(strstr(f->last_log, "SET_LOG_BASE"));
	assert_int_equal(1, ack(f, 6));
	/* The connection still works. */
	assert_int_equal(1, t_get_u64(f, T_GET_QUEUE_NUM));
}

static void test_handle_msg_size(void **state)
{
	struct vfix *f = *state;
	uint32_t four = 0;

	t_negotiate(f, T_PF_REPLY_ACK);
	t_send(f, T_SET_FEATURES, T_NEED_REPLY, &four, 4, NULL, 0);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_MSG_SIZE);
	assert_non_null(strstr(f->last_log, "SET_FEATURES"));
	assert_int_equal(1, ack(f, T_SET_FEATURES));
}

static void test_handle_fds_extra(void **state)
{
	struct vfix *f = *state;
	int fds[12];
	uint64_t feat = T_F_VERSION_1;

	t_negotiate(f, T_PF_REPLY_ACK);
	t_send(f, T_SET_FEATURES, T_NEED_REPLY, &feat, 8, &f->mem, 1);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_FDS_EXTRA);
	assert_int_equal(1, ack(f, T_SET_FEATURES));
	/* More than the 8 a message can carry: the rest are cut off. */
	for (int i = 0; i < 12; i++)
		fds[i] = f->mem;
	{
		struct { uint32_t n, pad; struct t_region r; } m =
			{ 1, 0, { 0, 4096, T_UVA, 0 } };

		t_send(f, T_SET_MEM_TABLE, T_NEED_REPLY, &m, sizeof(m), fds, 12);
	}
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_FDS_EXTRA);
	assert_int_equal(1, ack(f, T_SET_MEM_TABLE));
}

static void test_handle_fds_missing(void **state)
{
	struct vfix *f = *state;
	struct t_region r = { 0, 4096, T_UVA, 0 };
	struct { uint32_t n, pad; struct t_region r[2]; } m =
		{ 2, 0, { { 0, 4096, T_UVA, 0 }, { 4096, 4096, T_UVA + 4096, 4096 } } };
	uint64_t kick = 0; /* index 0, no "no fd" flag */

	t_negotiate(f, T_PF_REPLY_ACK);
	assert_int_equal(0, add_reg(f, &r, -1));
	t_assert_err(f, RAMDEV_VHOST_FDS_MISSING);
	assert_int_equal(1, ack(f, T_ADD_MEM_REG));
	t_send(f, T_SET_MEM_TABLE, T_NEED_REPLY, &m, sizeof(m), &f->mem, 1);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_FDS_MISSING);
	assert_int_equal(1, ack(f, T_SET_MEM_TABLE));
	t_send(f, T_SET_VRING_CALL, T_NEED_REPLY, &kick, 8, NULL, 0);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_FDS_MISSING);
	assert_int_equal(1, ack(f, T_SET_VRING_CALL));
}

static void test_handle_features(void **state)
{
	struct vfix *f = *state;

	t_negotiate(f, T_PF_REPLY_ACK);
	t_send(f, T_SET_FEATURES, T_NEED_REPLY,
	       &(uint64_t){ T_F_VERSION_1 | (1ull << 63) }, 8, NULL, 0);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_FEATURES);
	assert_non_null(strstr(f->last_log, "0x8000000000000000"));
	assert_int_equal(1, ack(f, T_SET_FEATURES));
	assert_int_equal(0, t_u64(f, T_SET_PROTOCOL_FEATURES, 1ull << 40));
	t_assert_err(f, RAMDEV_VHOST_FEATURES);
}

static void test_handle_vring_index(void **state)
{
	struct vfix *f = *state;
	uint32_t st[2] = { 5, 16 };

	t_negotiate(f, T_PF_REPLY_ACK);
	t_send(f, T_SET_VRING_NUM, T_NEED_REPLY, st, sizeof(st), NULL, 0);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_VRING_INDEX);
	assert_non_null(strstr(f->last_log, "SET_VRING_NUM"));
	assert_int_equal(1, ack(f, T_SET_VRING_NUM));
	/* GET_VRING_BASE has a reply of its own: the connection drops. */
	t_send(f, T_GET_VRING_BASE, 0, st, sizeof(st), NULL, 0);
	assert_int_equal(-EPROTO, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_VRING_INDEX);
}

static void test_handle_vring_num(void **state)
{
	struct vfix *f = *state;
	uint32_t bad[][2] = { { 0, 0 }, { 0, 3 }, { 0, 512 } }; /* max 256 */

	t_negotiate(f, T_PF_REPLY_ACK);
	for (unsigned i = 0; i < 3; i++) {
		t_send(f, T_SET_VRING_NUM, T_NEED_REPLY, bad[i], 8, NULL, 0);
		assert_int_equal(0, ramdev_vhost_handle(f->v));
		t_assert_err(f, RAMDEV_VHOST_VRING_NUM);
		assert_int_equal(1, ack(f, T_SET_VRING_NUM));
	}
}

static void test_handle_vring_addr(void **state)
{
	struct vfix *f = *state;
	struct { uint32_t idx, flags; uint64_t desc, used, avail, log; } a = {
		0, 0, T_UVA, T_UVA + 0x2000, T_UVA + T_MEM_SIZE, 0,
	};

	t_negotiate(f, T_PF_REPLY_ACK);
	t_mem_table(f);
	assert_int_equal(0, t_u64(f, T_SET_VRING_NUM, 16ull << 32));
	t_send(f, T_SET_VRING_ADDR, T_NEED_REPLY, &a, sizeof(a), NULL, 0);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_VRING_ADDR);
	assert_non_null(strstr(f->last_log, "avail ring uva 0x7f0000100000"));
	assert_int_equal(1, ack(f, T_SET_VRING_ADDR));
	/* A ring that starts inside and runs past the end. */
	a.avail = T_UVA + 0x1000;
	a.used = T_UVA + T_MEM_SIZE - 8;
	t_send(f, T_SET_VRING_ADDR, T_NEED_REPLY, &a, sizeof(a), NULL, 0);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_VRING_ADDR);
	assert_int_equal(1, ack(f, T_SET_VRING_ADDR));
}

static void test_handle_vring_not_ready(void **state)
{
	struct vfix *f = *state;
	int efd = eventfd(0, EFD_CLOEXEC);
	uint64_t idx = 0;

	t_negotiate(f, T_PF_REPLY_ACK);
	t_send(f, T_SET_VRING_KICK, T_NEED_REPLY, &idx, 8, &efd, 1);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_VRING_NOT_READY);
	assert_int_equal(1, ack(f, T_SET_VRING_KICK));
	close(efd);
}

static void test_handle_region_count(void **state)
{
	struct vfix *f = *state;
	struct { uint32_t n, pad; struct t_region r[9]; } m = { 9, 0, { { 0 } } };
	int fds[8];

	t_negotiate(f, T_PF_REPLY_ACK);
	for (int i = 0; i < 8; i++)
		fds[i] = f->mem;
	t_send(f, T_SET_MEM_TABLE, T_NEED_REPLY, &m, sizeof(m), fds, 8);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_REGION_COUNT);
	assert_int_equal(1, ack(f, T_SET_MEM_TABLE));
}

/* 1000 regions through ADD_MEM_REG: 509 fit, the rest are refused. */
static void test_handle_region_count_1000(void **state)
{
	struct vfix *f = *state;
	int big = memfd_create("test-vhost-1000", MFD_CLOEXEC);

	assert_true(big >= 0);
	assert_int_equal(0, ftruncate(big, 1000 * 4096));
	t_negotiate(f, T_PF_REPLY_ACK);
	assert_int_equal(509, t_get_u64(f, T_GET_MAX_MEM_SLOTS));
	for (uint64_t i = 0; i < 1000; i++) {
		struct t_region r = { i * 4096, 4096, T_UVA + i * 4096, i * 4096 };

		assert_int_equal(0, add_reg(f, &r, big));
		if (i < 509) {
			assert_int_equal(0, ack(f, T_ADD_MEM_REG));
		} else {
			t_assert_err(f, RAMDEV_VHOST_REGION_COUNT);
			assert_int_equal(1, ack(f, T_ADD_MEM_REG));
		}
	}
	close(big);
}

static void test_handle_region_zero(void **state)
{
	struct vfix *f = *state;
	struct t_region r = { 0, 0, T_UVA, 0 };

	t_negotiate(f, T_PF_REPLY_ACK);
	assert_int_equal(0, add_reg(f, &r, f->mem));
	t_assert_err(f, RAMDEV_VHOST_REGION_ZERO);
	assert_int_equal(1, ack(f, T_ADD_MEM_REG));
}

static void test_handle_region_wrap(void **state)
{
	struct vfix *f = *state;
	struct t_region r[] = {
		{ 0xfffffffffffff000ull, 0x2000, T_UVA, 0 },      /* gpa */
		{ 0, 0x2000, 0xfffffffffffff000ull, 0 },          /* uva */
		{ 0, 0x2000, T_UVA, 0xfffffffffffff000ull },      /* offset */
	};

	t_negotiate(f, T_PF_REPLY_ACK);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(0, add_reg(f, &r[i], f->mem));
		t_assert_err(f, RAMDEV_VHOST_REGION_WRAP);
		assert_int_equal(1, ack(f, T_ADD_MEM_REG));
	}
}

static void test_handle_region_overlap(void **state)
{
	struct vfix *f = *state;
	struct t_region a = { 0x10000, 0x4000, T_UVA, 0 };
	struct t_region b = { 0x13000, 0x2000, T_UVA + 0x8000, 0x8000 };
	struct { uint32_t n, pad; struct t_region r[2]; } m = { 2, 0, { a, b } };
	int fds[2] = { f->mem, f->mem };

	t_negotiate(f, T_PF_REPLY_ACK);
	assert_int_equal(0, add_reg(f, &a, f->mem));
	assert_int_equal(0, ack(f, T_ADD_MEM_REG));
	assert_int_equal(0, add_reg(f, &b, f->mem));
	t_assert_err(f, RAMDEV_VHOST_REGION_OVERLAP);
	assert_non_null(strstr(f->last_log, "ADD_MEM_REG"));
	assert_int_equal(1, ack(f, T_ADD_MEM_REG));
	/* Inside one SET_MEM_TABLE too. */
	t_send(f, T_SET_MEM_TABLE, T_NEED_REPLY, &m, sizeof(m), fds, 2);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_REGION_OVERLAP);
	assert_int_equal(1, ack(f, T_SET_MEM_TABLE));
}

/* An fd shorter than offset + size is refused before mmap: an access past
 * its end would be SIGBUS. */
static void test_handle_region_fd_short(void **state)
{
	struct vfix *f = *state;
	struct t_region r = { 0, T_MEM_SIZE, T_UVA, 4096 };

	t_negotiate(f, T_PF_REPLY_ACK);
	assert_int_equal(0, add_reg(f, &r, f->mem));
	t_assert_err(f, RAMDEV_VHOST_REGION_FD_SHORT);
	assert_non_null(strstr(f->last_log, "fd size 0x100000"));
	assert_int_equal(1, ack(f, T_ADD_MEM_REG));
}

static void test_handle_region_fd_kind(void **state)
{
	struct vfix *f = *state;
	struct t_region r = { 0, 4096, T_UVA, 0 };
	int p[2];

	assert_int_equal(0, pipe2(p, O_CLOEXEC));
	t_negotiate(f, T_PF_REPLY_ACK);
	assert_int_equal(0, add_reg(f, &r, p[0]));
	t_assert_err(f, RAMDEV_VHOST_REGION_FD_KIND);
	assert_int_equal(1, ack(f, T_ADD_MEM_REG));
	close(p[0]);
	close(p[1]);
}

static void test_handle_region_map(void **state)
{
	struct vfix *f = *state;
	struct t_region r = { 0, 4096, T_UVA, 0 };
	char path[64];
	int ro;

	/* A read-only fd cannot be mapped shared and writable. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", f->mem);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(ro >= 0);
	t_negotiate(f, T_PF_REPLY_ACK);
	assert_int_equal(0, add_reg(f, &r, ro));
	t_assert_err(f, RAMDEV_VHOST_REGION_MAP);
	assert_int_equal(1, ack(f, T_ADD_MEM_REG));
	close(ro);
}

static void test_handle_region_unknown(void **state)
{
	struct vfix *f = *state;
	struct { uint64_t pad; struct t_region r; } m =
		{ 0, { 0x1000, 0x1000, T_UVA, 0 } };

	t_negotiate(f, T_PF_REPLY_ACK);
	t_send(f, T_REM_MEM_REG, T_NEED_REPLY, &m, sizeof(m), NULL, 0);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_REGION_UNKNOWN);
	assert_int_equal(1, ack(f, T_REM_MEM_REG));
}

static void test_handle_config_range(void **state)
{
	struct vfix *f = *state;
	struct { uint32_t off, size, flags; uint8_t b[16]; } c = { 250, 16, 0, { 0 } };

	t_negotiate(f, T_PF_REPLY_ACK);
	t_send(f, T_GET_CONFIG, 0, &c, sizeof(c), NULL, 0);
	assert_int_equal(-EPROTO, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_CONFIG_RANGE);
	assert_non_null(strstr(f->last_log, "GET_CONFIG"));
}

static void test_handle_inflight(void **state)
{
	struct vfix *f = *state;
	struct { uint64_t size, off; uint16_t nq, qs; uint32_t pad; } in =
		{ 0, 0, 4, 128, 0 }; /* 4 queues, the device has 1 */

	t_negotiate(f, T_PF_REPLY_ACK | T_PF_INFLIGHT);
	t_send(f, T_GET_INFLIGHT_FD, 0, &in, sizeof(in), NULL, 0);
	assert_int_equal(-EPROTO, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_INFLIGHT);
}

static void test_handle_inflight_short_fd(void **state)
{
	struct vfix *f = *state;
	struct { uint64_t size, off; uint16_t nq, qs; uint32_t pad; } in =
		{ 0x100000, T_MEM_SIZE - 0x1000, 1, 128, 0 };

	t_negotiate(f, T_PF_REPLY_ACK | T_PF_INFLIGHT);
	t_send(f, T_SET_INFLIGHT_FD, T_NEED_REPLY, &in, sizeof(in), &f->mem, 1);
	assert_int_equal(0, ramdev_vhost_handle(f->v));
	t_assert_err(f, RAMDEV_VHOST_INFLIGHT);
	assert_int_equal(1, ack(f, T_SET_INFLIGHT_FD));
}

static void test_strerror_all(void **state)
{
	(void)state;
	for (int e = 0; e < RAMDEV_VHOST_ERR_COUNT; e++)
		assert_string_not_equal("unknown error",
					ramdev_vhost_strerror((enum ramdev_vhost_err)e));
	assert_string_equal("unknown error",
			    ramdev_vhost_strerror(RAMDEV_VHOST_ERR_COUNT));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, vfix_setup, vfix_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_handle_hdr_short),
		T(test_handle_version),
		T(test_handle_size_max),
		T(test_handle_payload_short),
		T(test_handle_peer_closed),
		T(test_handle_unknown),
		T(test_handle_msg_size),
		T(test_handle_fds_extra),
		T(test_handle_fds_missing),
		T(test_handle_features),
		T(test_handle_vring_index),
		T(test_handle_vring_num),
		T(test_handle_vring_addr),
		T(test_handle_vring_not_ready),
		T(test_handle_region_count),
		T(test_handle_region_count_1000),
		T(test_handle_region_zero),
		T(test_handle_region_wrap),
		T(test_handle_region_overlap),
		T(test_handle_region_fd_short),
		T(test_handle_region_fd_kind),
		T(test_handle_region_map),
		T(test_handle_region_unknown),
		T(test_handle_config_range),
		T(test_handle_inflight),
		T(test_handle_inflight_short_fd),
		cmocka_unit_test(test_strerror_all),
	};
	int fails = cmocka_run_group_tests_name("vhost rules", tests, NULL, NULL);

	return fails | vhost_ring_tests();
}
