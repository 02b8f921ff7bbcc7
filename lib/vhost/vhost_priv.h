/* SPDX-License-Identifier: MIT */
/*
 * Private declarations of the vhost-user layer: the connection state and
 * the helpers the files of lib/vhost/ share (the wire format is wire.h):
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
#include "../ratelimit.h"
#include "wire.h"

/* ---- state ---- */

/* One mem-table region and its mapping. */
struct vhost_mem {
	struct vhu_region r;
	uint64_t last;        /* r.gpa + r.size - 1 */
	struct vhost_map *map; /* shared with the address-space pieces */
	uint8_t *host;        /* host address of r.gpa */
	struct ramdev_region *piece[8]; /* RAM/RAMD parts (MEM_MAX_PIECES) */
	unsigned npieces;
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
	bool err_signalled;  /* err fd written for this start */
	struct vhu_inflight_queue *inflight;
	uint64_t counter; /* next inflight counter */
};

struct ramdev_vhost {
	struct ramdev_blk *blk;
	unsigned num_queues;
	unsigned queue_size;
	struct ramdev_vhost_devmem *devmem;
	unsigned ndevmem;
	unsigned devmem_dma_width;  /* options: 0 for the default */
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
	struct ramdev_ratelimit log_rl; /* of vhost_reject() */
	const char *cur;         /* name of the message being handled */
	char cur_buf[24];        /* ... when it has none */

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
