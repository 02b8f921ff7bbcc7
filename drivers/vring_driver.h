/* SPDX-License-Identifier: MIT */
/*
 * vring_driver: the guest side of a split virtqueue (VIRTIO 1.2 section 2.7),
 * for tests, fuzzers, benchmarks and the demo.  It plays the guest's driver:
 * it lays out the rings in guest memory reached through an address space,
 * adds descriptor chains (direct or indirect), publishes them, reads the used
 * ring and honours the event index, all with ordinary little-endian stores
 * and loads, as a guest CPU would.
 *
 * The raw functions (vring_drv_set_desc, _post_head, _set_avail_idx, ...)
 * write single ring fields with no checks, so tests can build bad rings.
 *
 * Not part of libramdev: the static library ramdev_driver.
 */
#ifndef RAMDEV_VRING_DRIVER_H
#define RAMDEV_VRING_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "ramdev/as.h"
#include "ramdev/virtq.h"

#define VRING_DESC_F_NEXT 1u
#define VRING_DESC_F_WRITE 2u
#define VRING_DESC_F_INDIRECT 4u
#define VRING_AVAIL_F_NO_INTERRUPT 1u
#define VRING_USED_F_NO_NOTIFY 1u

struct vring_drv;

struct vring_drv_config {
	uint16_t size;         /* power of two */
	uint64_t desc;         /* guest addresses of the three rings */
	uint64_t avail;
	uint64_t used;
	bool event_idx;        /* VIRTIO_F_EVENT_IDX negotiated */
	uint64_t indirect_gpa; /* size * indirect_max * 16 bytes for tables */
	unsigned indirect_max; /* entries per indirect table; 0: no indirect */
};

/*
 * The driver side of the queue the device was given as @qc: the same size,
 * ring addresses and EVENT_IDX, so the two cannot drift apart; indirect
 * tables at @indirect_gpa, @indirect_max entries each (0: none).
 */
static inline struct vring_drv_config
vring_drv_config_of(const struct ramdev_virtq_config *qc,
		    uint64_t indirect_gpa, unsigned indirect_max)
{
	return (struct vring_drv_config){
		.size = qc->size, .desc = qc->desc, .avail = qc->avail,
		.used = qc->used, .event_idx = qc->event_idx,
		.indirect_gpa = indirect_gpa, .indirect_max = indirect_max,
	};
}

/** One guest buffer of a chain. */
struct vring_drv_buf {
	uint64_t gpa;
	uint32_t len;
};

/* Bytes each ring needs for @size entries (2.7 table). */
static inline uint64_t vring_drv_desc_bytes(uint16_t size)
{
	return 16u * (uint64_t)size;
}

static inline uint64_t vring_drv_avail_bytes(uint16_t size)
{
	return 6u + 2u * (uint64_t)size;
}

static inline uint64_t vring_drv_used_bytes(uint16_t size)
{
	return 6u + 8u * (uint64_t)size;
}

/**
 * vring_drv_new - lay out empty rings at the configured addresses (zeroed:
 * flags, indices and events 0).  The rings must be in RAM or RAMD.
 * Returns: 0, -EINVAL (bad size, rings not in host-backed memory), -ENOMEM.
 */
int vring_drv_new(struct vring_drv **out, struct ramdev_as *as,
		  const struct vring_drv_config *cfg);
void vring_drv_free(struct vring_drv *d);

/**
 * vring_drv_add - add a chain: @nout device-readable buffers then @nin
 * device-writable ones; with @indirect, one descriptor pointing at a table.
 * Not visible to the device until vring_drv_publish().
 * Returns: the head (>= 0), -ENOSPC (not enough free descriptors), -EINVAL.
 */
int vring_drv_add(struct vring_drv *d, const struct vring_drv_buf *out,
		  unsigned nout, const struct vring_drv_buf *in, unsigned nin,
		  bool indirect);

/**
 * vring_drv_publish - write the avail idx (after a release barrier) and tell
 * whether the device wants a kick (2.7.10: avail_event or NO_NOTIFY).
 */
bool vring_drv_publish(struct vring_drv *d);

/**
 * vring_drv_get_used - take the next used element.
 * Returns: 1 with @id and @len set (the chain's descriptors are free again),
 * 0 when none.
 */
int vring_drv_get_used(struct vring_drv *d, uint16_t *id, uint32_t *len);

/**
 * vring_drv_enable_intr - ask for used-buffer notifications (@on) or not:
 * used_event = next used idx (EVENT_IDX), else the NO_INTERRUPT flag.
 */
void vring_drv_enable_intr(struct vring_drv *d, bool on);

/* ---- raw field writes for hand-built (bad) rings ---- */

/* Descriptor @idx of the table (no check of @idx against the size). */
void vring_drv_set_desc(struct vring_drv *d, uint16_t idx, uint64_t addr,
			uint32_t len, uint16_t flags, uint16_t next);
/* Entry @idx of a descriptor table (e.g. indirect) at @table in guest memory. */
int vring_drv_write_desc_at(struct ramdev_as *as, uint64_t table, uint32_t idx,
			    uint64_t addr, uint32_t len, uint16_t flags,
			    uint16_t next);
/* Put @head in the next avail slot (not yet published). */
void vring_drv_post_head(struct vring_drv *d, uint16_t head);
/* Write avail idx as is, and take it as the shadow index. */
void vring_drv_set_avail_idx(struct vring_drv *d, uint16_t idx);
void vring_drv_set_avail_flags(struct vring_drv *d, uint16_t flags);
void vring_drv_set_used_event(struct vring_drv *d, uint16_t v);

uint16_t vring_drv_avail_idx(const struct vring_drv *d);
uint16_t vring_drv_used_idx(const struct vring_drv *d);
uint16_t vring_drv_used_flags(const struct vring_drv *d);
uint16_t vring_drv_avail_event(const struct vring_drv *d);
/* used->ring[slot] as written by the device. */
void vring_drv_used_elem(const struct vring_drv *d, uint16_t slot,
			 uint32_t *id, uint32_t *len);
unsigned vring_drv_num_free(const struct vring_drv *d);

#endif /* RAMDEV_VRING_DRIVER_H */
