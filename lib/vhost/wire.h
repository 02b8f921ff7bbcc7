/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user wire format as QEMU's docs/interop/vhost-user.rst lays it
 * out: request codes, header flags, feature bits, payload structures, and
 * the inflight region of a split ring.  Host byte order, as the protocol
 * says ("all numbers are in the machine native byte order").
 */
#ifndef RAMDEV_VHOST_WIRE_H
#define RAMDEV_VHOST_WIRE_H

#include <stdint.h>

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
/* Rejection lines logged per second at most (a peer's flood). */
#define VHOST_LOG_BURST 100u

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

#endif /* RAMDEV_VHOST_WIRE_H */
