/* SPDX-License-Identifier: MIT */
/*
 * Shared fixture of the vhost-user tests: a back end on a memfd image,
 * attached to one end of a socketpair; the test plays the front end on the
 * other end, sending raw messages (helpers below), and calls
 * ramdev_vhost_handle() itself.  No QEMU.
 */
#ifndef RAMDEV_TEST_VHOST_H
#define RAMDEV_TEST_VHOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ramdev/blk.h"
#include "ramdev/vhost.h"

/* Request codes and bits from vhost-user.rst (the test's own copy). */
enum {
	T_GET_FEATURES = 1, T_SET_FEATURES = 2, T_SET_OWNER = 3,
	T_SET_MEM_TABLE = 5, T_SET_VRING_NUM = 8, T_SET_VRING_ADDR = 9,
	T_SET_VRING_BASE = 10, T_GET_VRING_BASE = 11, T_SET_VRING_KICK = 12,
	T_SET_VRING_CALL = 13, T_GET_PROTOCOL_FEATURES = 15,
	T_SET_PROTOCOL_FEATURES = 16, T_GET_QUEUE_NUM = 17,
	T_SET_VRING_ENABLE = 18, T_GET_CONFIG = 24, T_GET_INFLIGHT_FD = 31,
	T_SET_INFLIGHT_FD = 32, T_GET_MAX_MEM_SLOTS = 36, T_ADD_MEM_REG = 37,
	T_REM_MEM_REG = 38,
};
#define T_NEED_REPLY 0x8u
#define T_PF_REPLY_ACK (1ull << 3)
#define T_PF_INFLIGHT (1ull << 12)
#define T_F_PROTOCOL (1ull << 30)
#define T_F_VERSION_1 (1ull << 32)
#define T_F_EVENT_IDX (1ull << 29)
#define T_F_INDIRECT (1ull << 28)

/* Guest memory of the fixture: one memfd, front-end address T_UVA. */
#define T_MEM_SIZE (1u << 20)
#define T_UVA 0x7f0000000000ull

struct t_region {
	uint64_t gpa, size, uva, offset;
};

struct vfix {
	int sock;          /* the front end's end */
	int img;           /* memfd image */
	int mem;           /* memfd guest memory, T_MEM_SIZE */
	struct ramdev_blk *blk;
	struct ramdev_vhost *v;
	char last_log[512]; /* the last LOG_ERR line */
	unsigned nerr;
};

int vfix_setup(void **state);
int vfix_teardown(void **state);

/* Send a raw message: header (@flags ORed with version 1) and payload. */
void t_send(struct vfix *f, uint32_t req, uint32_t flags, const void *p,
	    uint32_t size, const int *fds, unsigned nfds);
/* Send raw bytes (for cut messages). */
void t_send_raw(struct vfix *f, const void *p, size_t n);
/* Receive a reply to @req: payload into @p (up to @max), returns size;
 * @fd receives a passed fd (or -1) when not NULL. */
uint32_t t_recv(struct vfix *f, uint32_t req, void *p, uint32_t max, int *fd);
/* Send a u64 message and handle it; returns ramdev_vhost_handle()'s value. */
int t_u64(struct vfix *f, uint32_t req, uint64_t val);
/* GET_* of a u64: the value. */
uint64_t t_get_u64(struct vfix *f, uint32_t req);
/* Negotiate: features (all offered) and protocol features (@pf). */
void t_negotiate(struct vfix *f, uint64_t pf);
/* SET_MEM_TABLE of the fixture memory as one region at gpa 0. */
void t_mem_table(struct vfix *f);
/* Assert the message was rejected by @err and the log names it. */
void t_assert_err(struct vfix *f, enum ramdev_vhost_err err);

/* test_vhost_ring.c */
int vhost_ring_tests(void);

#endif /* RAMDEV_TEST_VHOST_H */
