/* SPDX-License-Identifier: MIT */
/*
 * vhost_front: a vhost-user-blk front end (the part QEMU plays), for tests
 * and benchmarks that drive any vhost-user-blk back end over its socket with
 * no guest.  It negotiates as QEMU does (docs/interop/vhost-user.rst):
 * features, protocol features (MQ, REPLY_ACK, CONFIG), GET_QUEUE_NUM,
 * GET_CONFIG, a mem table of two memfd regions (guest RAM at GPA 0 and an
 * optional "device memory" region), and per ring NUM/BASE/ADDR/KICK/CALL and
 * ENABLE.  Requests go through split rings laid out by drivers/vring_driver
 * in the shared RAM, as Linux's virtio_blk lays them out (header, one data
 * descriptor, status; in an indirect table when offered).
 *
 * Single-threaded: one caller drives every queue.  Not part of libramdev.
 */
#ifndef RAMDEV_VHOST_FRONT_H
#define RAMDEV_VHOST_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VHOST_FRONT_MAX_QUEUES 16u

/* vhost-user requests (docs/interop/vhost-user.rst, "Front-end message
 * types"); the ones this front end sends, plus a few tests may send raw. */
enum vhost_front_req {
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
	VHOST_USER_GET_MAX_MEM_SLOTS = 36,
};

#define VHOST_USER_F_PROTOCOL_FEATURES 30
#define VHOST_USER_PROTOCOL_F_MQ 0
#define VHOST_USER_PROTOCOL_F_REPLY_ACK 3
#define VHOST_USER_PROTOCOL_F_CONFIG 9

struct vhost_front_config {
	const char *socket;     /* path of the back end's listening socket */
	int connect_ms;         /* keep retrying connect this long (daemon
				 * starting); 0: one try */
	unsigned num_queues;    /* wanted; fewer if the back end has fewer */
	uint16_t queue_size;    /* power of two <= 1024; 0: 128 */
	uint64_t data_size;     /* RAM for the caller's buffers */
	uint64_t dev_gpa;       /* second region ("device memory"), or */
	uint64_t dev_size;      /* dev_size 0: none */
	bool no_indirect;       /* direct 3-descriptor chains even if offered */
};

/* What the back end offered and what was negotiated. */
struct vhost_front_info {
	uint64_t features;        /* offered by the back end */
	uint64_t acked;           /* SET_FEATURES value */
	uint64_t protocol;        /* offered protocol features */
	uint64_t protocol_acked;
	unsigned max_queues;      /* GET_QUEUE_NUM (1 without MQ) */
	unsigned num_queues;      /* rings set up */
	uint64_t capacity;        /* config: 512-byte sectors (0: no CONFIG) */
	uint32_t blk_size;        /* config (0: not offered) */
	uint32_t seg_max;
	uint16_t config_num_queues;
};

/* A completed request. */
struct vhost_front_done {
	void *opaque;   /* as given to vhost_front_submit() */
	uint32_t len;   /* used length written by the device */
	uint8_t status; /* VIRTIO_BLK_S_OK (0), _IOERR (1), _UNSUPP (2) */
};

struct vhost_front;

/**
 * vhost_front_connect - connect and negotiate; the rings are running after.
 * @out: the front end, on success.
 * @cfg: what to set up.
 * @err: a message saying what failed (may be NULL), @errlen its size.
 * Returns: 0, -EINVAL (bad config), -ECONNREFUSED/-ENOENT (no back end at
 * @cfg->socket), -EPROTO (a bad or missing reply, or VERSION_1 not
 * offered), -ENOMEM, or another -errno of a system call.
 * Context: blocks on the socket.
 */
int vhost_front_connect(struct vhost_front **out,
			const struct vhost_front_config *cfg, char *err,
			size_t errlen);

/**
 * vhost_front_close - stop each ring (GET_VRING_BASE), disconnect, unmap.
 * @f: may be NULL.
 */
void vhost_front_close(struct vhost_front *f);

/** vhost_front_info - what was negotiated. */
const struct vhost_front_info *vhost_front_info(const struct vhost_front *f);

/**
 * vhost_front_host - the front end's mapping of guest memory.
 * Returns: a pointer to [@gpa, @gpa + @len) if it lies in one region
 * (data area or device memory), NULL otherwise.
 */
void *vhost_front_host(struct vhost_front *f, uint64_t gpa, uint64_t len);

/** vhost_front_data_gpa - guest address of the caller's RAM (data_size). */
uint64_t vhost_front_data_gpa(const struct vhost_front *f);

/**
 * vhost_front_submit - add one virtio-blk request to queue @q (not yet
 * visible to the device: see vhost_front_kick()).
 * @type: VIRTIO_BLK_T_IN, _OUT, _FLUSH, _GET_ID, ...
 * @sector: 512-byte sector in the header.
 * @gpa, @len: the data buffer (len 0: no data descriptor).
 * @opaque: returned in the completion.
 * Returns: 0, -ENOSPC (queue full), -EINVAL (@q out of range).
 */
int vhost_front_submit(struct vhost_front *f, unsigned q, uint32_t type,
		       uint64_t sector, uint64_t gpa, uint32_t len,
		       void *opaque);

/**
 * vhost_front_kick - publish what was submitted on @q and kick the back end
 * if it asked for it (event index).
 * Returns: 0, or -errno of the eventfd write.
 */
int vhost_front_kick(struct vhost_front *f, unsigned q);

/**
 * vhost_front_reap - take up to @max completions of queue @q.
 * Returns: how many were stored in @done (0: none yet).
 */
unsigned vhost_front_reap(struct vhost_front *f, unsigned q,
			  struct vhost_front_done *done, unsigned max);

/** vhost_front_inflight - requests submitted on @q and not yet reaped. */
unsigned vhost_front_inflight(const struct vhost_front *f, unsigned q);

/**
 * vhost_front_wait - sleep until a queue with requests in flight has a
 * completion (the back end's call eventfd), or @timeout_ms passes (-1: no
 * limit).  Asks for notifications first, then rechecks the used rings, so
 * a completion that raced the request is not missed.
 * Returns: 1 (something to reap), 0 (timeout), -errno (poll failed).
 */
int vhost_front_wait(struct vhost_front *f, int timeout_ms);

/**
 * vhost_front_call - send one raw message (for tests): @payload of @len
 * bytes and @nfds descriptors; with @reply, read the reply into @reply
 * (@reply_len bytes at most).
 * Returns: the reply's payload size (0 without @reply), -EPROTO (wrong
 * reply), -ECONNRESET (the back end closed), -errno.
 */
int vhost_front_call(struct vhost_front *f, uint32_t req, const void *payload,
		     uint32_t len, const int *fds, unsigned nfds, void *reply,
		     uint32_t reply_len);

#endif /* RAMDEV_VHOST_FRONT_H */
