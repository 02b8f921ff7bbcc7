/* SPDX-License-Identifier: MIT */
/*
 * Private declarations of the vhost-user layer: the wire format (QEMU's
 * docs/interop/vhost-user.rst), the connection state and the helpers the
 * files of lib/vhost/ share:
 *   msg.c      receive, validate and answer messages; the dispatch table
 *   mem.c      memory table -> address-space regions, address translation
 *   vring.c    vring state, start/stop of a ring, kicks and calls
 *   inflight.c the inflight region (INFLIGHT_SHMFD), recovery
 *   device.c   the object, features, config space, errors
 */
#ifndef RAMDEV_VHOST_PRIV_H
#define RAMDEV_VHOST_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ramdev/blk.h"
#include "ramdev/dma.h"
#include "ramdev/vhost.h"
#include "ramdev/virtq.h"

/* ---- wire format ---- */

enum vhost_user_request {
	VHU_GET_FEATURES = 1,
	VHU_SET_FEATURES = 2,
	VHU_SET_OWNER = 3,
	VHU_RESET_OWNER = 4,
	VHU_SET_MEM_TABLE = 5,
	VHU_SET_LOG_BASE = 6,
	VHU_SET_LOG_FD = 7,
	VHU_SET_VRING_NUM = 8,
	VHU_SET_VRING_ADDR = 9,
	VHU_SET_VRING_BASE = 10,
	VHU_GET_VRING_BASE = 11,
	VHU_SET_VRING_KICK = 12,
	VHU_SET_VRING_CALL = 13,
	VHU_SET_VRING_ERR = 14,
	VHU_GET_PROTOCOL_FEATURES = 15,
	VHU_SET_PROTOCOL_FEATURES = 16,
	VHU_GET_QUEUE_NUM = 17,
	VHU_SET_VRING_ENABLE = 18,
	VHU_GET_CONFIG = 24,
	VHU_SET_CONFIG = 25,
	VHU_GET_INFLIGHT_FD = 31,
	VHU_SET_INFLIGHT_FD = 32,
	VHU_RESET_DEVICE = 34,
	VHU_GET_MAX_MEM_SLOTS = 36,
	VHU_ADD_MEM_REG = 37,
	VHU_REM_MEM_REG = 38,
};

/* Header flags: version in bits 0-1, reply bit 2, need_reply bit 3. */
#define VHU_VERSION 0x1u
#define VHU_VERSION_MASK 0x3u
#define VHU_FLAG_REPLY (1u << 2)
#define VHU_FLAG_NEED_REPLY (1u << 3)
#define VHU_HDR_SIZE 12u

/* Largest payload we accept: SET_MEM_TABLE (8 + 8 * 32) and config
 * (12 + 256) are the largest messages we know. */
#define VHU_MAX_PAYLOAD 4096u
/* Most fds one message carries (SET_MEM_TABLE: one per region). */
#define VHU_MAX_FDS 8u
/* Regions of SET_MEM_TABLE (VHOST_MEMORY_BASELINE_NREGIONS). */
#define VHU_TABLE_REGIONS 8u
/* Memory slots we offer with CONFIGURE_MEM_SLOTS (GET_MAX_MEM_SLOTS). */
#define VHU_MAX_MEM_SLOTS 509u
/* Config space reachable through GET/SET_CONFIG. */
#define VHU_MAX_CONFIG 256u

/* The u64 of SET_VRING_KICK/CALL/ERR: index in bits 0-7, bit 8 no fd. */
#define VHU_VRING_IDX_MASK 0xffu
#define VHU_VRING_NOFD (1u << 8)

/* Feature bits. */
#define VHU_F_RING_INDIRECT_DESC 28u
#define VHU_F_RING_EVENT_IDX 29u
#define VHU_F_PROTOCOL_FEATURES 30u
#define VHU_F_VERSION_1 32u

/* Protocol feature bits. */
#define VHU_PF_MQ 0u
#define VHU_PF_REPLY_ACK 3u
#define VHU_PF_CONFIG 9u
#define VHU_PF_INFLIGHT_SHMFD 12u
#define VHU_PF_RESET_DEVICE 13u
#define VHU_PF_CONFIGURE_MEM_SLOTS 15u

#define VHU_BIT(b) (UINT64_C(1) << (b))

struct vhu_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vhu_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc;  /* front-end virtual addresses */
	uint64_t used;
	uint64_t avail;
	uint64_t log;
};

struct vhu_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uva;
	uint64_t offset;
};

struct vhu_config_hdr {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
};

struct vhu_inflight {
	uint64_t mmap_size;
	uint64_t mmap_offset;
	uint16_t num_queues;
	uint16_t queue_size;
};
/* QEMU sends the struct with its tail padding (24 bytes); the spec's
 * fields end at 20. */
#define VHU_INFLIGHT_MIN 20u

/* One received message. */
struct vhu_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	union {
		uint64_t u64;
		struct vhu_vring_state state;
		struct vhu_vring_addr addr;
		struct vhu_inflight inflight;
		uint8_t bytes[VHU_MAX_PAYLOAD];
	} p;
	int fds[VHU_MAX_FDS];
	unsigned nfds;
};

/* ---- state ---- */

/* One mem-table region and its mapping. */
struct vhost_mem {
	struct vhu_region r;
	uint64_t last;        /* r.gpa + r.size - 1 */
	struct vhost_map *map; /* shared with the address-space pieces */
	uint8_t *host;        /* host address of r.gpa */
	struct ramdev_region *piece[3]; /* RAM/RAMD parts in the AS */
	unsigned npieces;
};

/* Inflight region of one queue (vhost-user.rst "Inflight I/O tracking"). */
struct vhu_desc_state {
	uint8_t inflight;
	uint8_t padding[5];
	uint16_t next;
	uint64_t counter;
};

struct vhu_inflight_queue {
	uint64_t features;
	uint16_t version;
	uint16_t desc_num;
	uint16_t last_batch_head;
	uint16_t used_idx;
	struct vhu_desc_state desc[];
};

struct vhost_vring {
	struct ramdev_vhost *v;
	unsigned idx;
	uint16_t num;
	bool num_set;
	bool addr_set;
	struct vhu_vring_addr addr;
	uint16_t base;
	int kick_fd, call_fd, err_fd;
	bool enabled;     /* SET_VRING_ENABLE */
	struct ramdev_virtq *vq; /* non-NULL: started */
	bool attached;    /* to the blk device */
	bool notify_pending; /* pushed before a call fd was there */
	struct vhu_inflight_queue *inflight;
	uint64_t counter; /* next inflight counter */
};

struct ramdev_vhost {
	struct ramdev_blk *blk;
	unsigned num_queues;
	unsigned queue_size;
	struct ramdev_vhost_devmem *devmem;
	unsigned ndevmem;
	ramdev_log_fn *log_fn;
	void *log_opaque;
	void (*watch)(void *opaque, int fd, unsigned queue, bool add);
	void *watch_opaque;

	struct ramdev_as *as;
	struct ramdev_dma *dma;

	int sock;
	bool quiesced;
	uint64_t features;       /* negotiated */
	uint64_t protocol;       /* negotiated protocol features */
	bool features_set;
	enum ramdev_vhost_err last_err;
	const char *cur;         /* name of the message being handled */

	struct vhost_mem *mem;   /* sorted by gpa */
	unsigned nmem;
	unsigned region_seq;     /* "region N" in the log: per connection */

	void *inflight_base;
	size_t inflight_len;
	uint16_t inflight_queues;
	uint16_t inflight_qsize;

	struct vhost_vring vring[RAMDEV_BLK_MAX_QUEUES];
};

/* ---- device.c ---- */
void vhost_log(struct ramdev_vhost *v, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Log "MSG: rule: ..." at LOG_ERR, remember @err; returns -EINVAL. */
int vhost_reject(struct ramdev_vhost *v, enum ramdev_vhost_err err,
		 const char *fmt, ...) __attribute__((format(printf, 3, 4)));
uint64_t vhost_features_offered(const struct ramdev_vhost *v);
uint64_t vhost_protocol_offered(void);
int vhost_get_config(struct ramdev_vhost *v, struct vhu_msg *m);
int vhost_set_config(struct ramdev_vhost *v, struct vhu_msg *m);

/* ---- msg.c ---- */
int vhost_reply(struct ramdev_vhost *v, const struct vhu_msg *req,
		const void *payload, uint32_t size, const int *fds,
		unsigned nfds);

/* ---- mem.c ---- */
int vhost_mem_set_table(struct ramdev_vhost *v, struct vhu_msg *m);
int vhost_mem_add(struct ramdev_vhost *v, struct vhu_msg *m);
int vhost_mem_rem(struct ramdev_vhost *v, struct vhu_msg *m);
void vhost_mem_clear(struct ramdev_vhost *v);
/* Front-end virtual address -> guest-physical; false if unmapped. */
bool vhost_mem_uva_to_gpa(const struct ramdev_vhost *v, uint64_t uva,
			  uint64_t len, uint64_t *gpa);

/* ---- vring.c ---- */
int vhost_vring_msg(struct ramdev_vhost *v, struct vhu_msg *m);
int vhost_vring_get_base(struct ramdev_vhost *v, struct vhu_msg *m);
void vhost_vring_stop(struct vhost_vring *vr);
void vhost_vring_reset(struct vhost_vring *vr);
void vhost_vrings_notify(struct ramdev_vhost *v, uint64_t mask);

/* ---- inflight.c ---- */
int vhost_inflight_get(struct ramdev_vhost *v, struct vhu_msg *m);
int vhost_inflight_set(struct ramdev_vhost *v, struct vhu_msg *m);
void vhost_inflight_clear(struct ramdev_vhost *v);
/* Ring start: bind the queue's inflight region, recover what was in
 * flight (resubmit list, last_avail).  0 or -EINVAL (rejected). */
int vhost_inflight_start(struct vhost_vring *vr);

#endif /* RAMDEV_VHOST_PRIV_H */
