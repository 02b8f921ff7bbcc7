// SPDX-License-Identifier: MIT
/*
 * The vhost-user back end object: lifetime, connection attach/detach,
 * features, the config space, the error strings and the log.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "../log.h"
#include "../ratelimit.h"
#include "vhost_priv.h"

static const char *const err_str[RAMDEV_VHOST_ERR_COUNT] = {
	[RAMDEV_VHOST_OK] = "ok",
	[RAMDEV_VHOST_HDR_SHORT] = "message header cut short",
	[RAMDEV_VHOST_VERSION] = "header version is not 1",
	[RAMDEV_VHOST_SIZE_MAX] = "payload size above the maximum",
	[RAMDEV_VHOST_PAYLOAD_SHORT] = "payload cut short",
	[RAMDEV_VHOST_UNKNOWN] = "unknown or unsupported request",
	[RAMDEV_VHOST_MSG_SIZE] = "payload size wrong for the request",
	[RAMDEV_VHOST_FDS_EXTRA] = "more file descriptors than the request takes",
	[RAMDEV_VHOST_FDS_MISSING] = "file descriptor missing",
	[RAMDEV_VHOST_FEATURES] = "feature bits that were not offered",
	[RAMDEV_VHOST_VRING_INDEX] = "vring index out of range",
	[RAMDEV_VHOST_VRING_NUM] = "vring size not a power of two within the queue size",
	[RAMDEV_VHOST_VRING_ADDR] = "ring address outside the memory table",
	[RAMDEV_VHOST_VRING_STARTED] = "vring is running",
	[RAMDEV_VHOST_VRING_NOT_READY] = "vring started before size, addresses and memory",
	[RAMDEV_VHOST_REGION_COUNT] = "too many memory regions",
	[RAMDEV_VHOST_REGION_ZERO] = "memory region of size 0",
	[RAMDEV_VHOST_REGION_WRAP] = "memory region wraps past 2^64",
	[RAMDEV_VHOST_REGION_OVERLAP] = "memory regions overlap",
	[RAMDEV_VHOST_REGION_FD_SHORT] = "region fd shorter than mmap_offset + size",
	[RAMDEV_VHOST_REGION_FD_KIND] = "region fd is not memory",
	[RAMDEV_VHOST_REGION_MAP] = "memory region could not be mapped",
	[RAMDEV_VHOST_REGION_UNKNOWN] = "memory region not in the table",
	[RAMDEV_VHOST_CONFIG_RANGE] = "config access beyond the config space",
	[RAMDEV_VHOST_INFLIGHT] = "bad inflight region parameters",
	[RAMDEV_VHOST_INFLIGHT_LAYOUT] = "inflight region contents inconsistent",
	[RAMDEV_VHOST_NOMEM] = "out of host resources",
};

RAMDEV_EXPORT const char *ramdev_vhost_strerror(enum ramdev_vhost_err err)
{
	if ((unsigned)err >= RAMDEV_VHOST_ERR_COUNT || !err_str[err])
		return "unknown error";
	return err_str[err];
}

void vhost_log(struct ramdev_vhost *v, int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ramdev_log_emit(v->log_fn, v->log_opaque, level, buf);
	errno = saved;
}

int vhost_reject(struct ramdev_vhost *v, enum ramdev_vhost_err err,
		 const char *fmt, ...)
{
	char buf[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	v->last_err = err;
	/* A front end that floods us with bad messages does not flood the
	 * log: at most VHOST_LOG_BURST lines a second (STYLE rule 9). */
	if (ramdev_ratelimit_allow(&v->log_rl, CLOCK_MONOTONIC, VHOST_LOG_BURST))
		vhost_log(v, LOG_ERR, "%s: %s: %s", v->cur ? v->cur : "?",
			  ramdev_vhost_strerror(err), buf);
	return -EINVAL;
}

uint64_t vhost_features_offered(const struct ramdev_vhost *v)
{
	return ramdev_blk_features(v->blk) | VHU_BIT(VHU_F_VERSION_1) |
	       VHU_BIT(VHU_F_RING_INDIRECT_DESC) |
	       VHU_BIT(VHU_F_RING_EVENT_IDX) | VHU_BIT(VHU_F_PROTOCOL_FEATURES);
}

uint64_t vhost_protocol_offered(void)
{
	return VHU_BIT(VHU_PF_MQ) | VHU_BIT(VHU_PF_REPLY_ACK) |
	       VHU_BIT(VHU_PF_CONFIG) | VHU_BIT(VHU_PF_INFLIGHT_SHMFD) |
	       VHU_BIT(VHU_PF_RESET_DEVICE) |
	       VHU_BIT(VHU_PF_CONFIGURE_MEM_SLOTS);
}

static int config_check(struct ramdev_vhost *v, struct vhu_msg *m,
			struct vhu_config_hdr *h)
{
	uint64_t end;

	memcpy(h, m->p.bytes, sizeof(*h));
	if (m->size != sizeof(*h) + (uint64_t)h->size)
		return vhost_reject(v, RAMDEV_VHOST_MSG_SIZE,
				    "payload 0x%x for a config size of 0x%x",
				    m->size, h->size);
	end = (uint64_t)h->offset + h->size;
	if (end > VHU_MAX_CONFIG)
		return vhost_reject(v, RAMDEV_VHOST_CONFIG_RANGE,
				    "offset 0x%x + size 0x%x > 0x%x", h->offset,
				    h->size, VHU_MAX_CONFIG);
	return 0;
}

int vhost_get_config(struct ramdev_vhost *v, struct vhu_msg *m)
{
	uint8_t space[VHU_MAX_CONFIG] = { 0 };
	uint8_t out[sizeof(struct vhu_config_hdr) + VHU_MAX_CONFIG];
	struct ramdev_blk_config cfg;
	struct vhu_config_hdr h;

	if (config_check(v, m, &h))
		return -EINVAL;
	ramdev_blk_get_config(v->blk, &cfg);
	memcpy(space, &cfg, sizeof(cfg));
	memcpy(out, &h, sizeof(h));
	/* Beyond our struct the space reads as zeroes (fields the device
	 * does not offer). */
	memcpy(out + sizeof(h), space + h.offset, h.size);
	return vhost_reply(v, m, out, (uint32_t)(sizeof(h) + h.size), NULL, 0);
}

int vhost_set_config(struct ramdev_vhost *v, struct vhu_msg *m)
{
	struct vhu_config_hdr h;

	if (config_check(v, m, &h))
		return -EINVAL;
	/* No field is writable: CONFIG_WCE is not offered (5.2.4). */
	vhost_log(v, LOG_INFO, "SET_CONFIG offset 0x%x size 0x%x ignored "
		  "(no writable field)", h.offset, h.size);
	return 0;
}

RAMDEV_EXPORT int ramdev_vhost_new(struct ramdev_vhost **out,
				   const struct ramdev_vhost_options *opt)
{
	struct ramdev_blk_config cfg;
	struct ramdev_vhost *v;

	if (!out || !opt || !opt->blk || opt->devmem_dma_width > 64 ||
	    (opt->devmem_dma_width & (opt->devmem_dma_width - 1)))
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->blk = opt->blk;
	ramdev_blk_get_config(opt->blk, &cfg);
	v->num_queues = le16toh(cfg.num_queues);
	if (!(ramdev_blk_features(opt->blk) & (1u << RAMDEV_BLK_F_MQ)))
		v->num_queues = 1;
	v->queue_size = opt->queue_size ? opt->queue_size : 1024;
	v->log_fn = opt->log_fn;
	v->log_opaque = opt->log_opaque;
	v->watch = opt->watch;
	v->watch_opaque = opt->watch_opaque;
	v->devmem_dma_width = opt->devmem_dma_width;
	v->sock = -1;
	if (opt->ndevmem) {
		v->devmem = calloc(opt->ndevmem, sizeof(*v->devmem));
		if (!v->devmem)
			goto nomem;
		memcpy(v->devmem, opt->devmem, opt->ndevmem * sizeof(*v->devmem));
		v->ndevmem = opt->ndevmem;
	}
	if (ramdev_as_new(&v->as, "vhost-user guest memory") ||
	    ramdev_dma_new(&v->dma, v->as, NULL))
		goto nomem;
	ramdev_as_set_log(v->as, v->log_fn, v->log_opaque);
	for (unsigned i = 0; i < RAMDEV_BLK_MAX_QUEUES; i++) {
		v->vring[i].v = v;
		v->vring[i].idx = i;
		v->vring[i].kick_fd = v->vring[i].call_fd = v->vring[i].err_fd = -1;
	}
	*out = v;
	return 0;
nomem:
	ramdev_vhost_free(v);
	return -ENOMEM;
}

RAMDEV_EXPORT void ramdev_vhost_free(struct ramdev_vhost *v)
{
	if (!v)
		return;
	ramdev_vhost_detach(v);
	free(v->mem);
	ramdev_dma_free(v->dma);
	ramdev_as_free(v->as);
	free(v->devmem);
	free(v);
}

RAMDEV_EXPORT int ramdev_vhost_attach(struct ramdev_vhost *v, int sock)
{
	if (!v || sock < 0)
		return -EINVAL;
	if (v->sock >= 0)
		return -EBUSY;
	v->sock = sock;
	v->quiesced = false;
	v->last_err = RAMDEV_VHOST_OK;
	return 0;
}

RAMDEV_EXPORT void ramdev_vhost_detach(struct ramdev_vhost *v)
{
	if (!v || v->sock < 0)
		return;
	v->cur = "disconnect";
	for (unsigned i = 0; i < RAMDEV_BLK_MAX_QUEUES; i++)
		vhost_vring_reset(&v->vring[i]);
	(void)ramdev_blk_reset(v->blk);
	vhost_mem_clear(v);
	vhost_inflight_clear(v);
	v->features = v->protocol = 0;
	v->features_set = false;
	v->sock = -1;
}

RAMDEV_EXPORT enum ramdev_vhost_err
ramdev_vhost_last_error(const struct ramdev_vhost *v)
{
	return v ? v->last_err : RAMDEV_VHOST_OK;
}

RAMDEV_EXPORT struct ramdev_as *ramdev_vhost_as(struct ramdev_vhost *v)
{
	return v ? v->as : NULL;
}

RAMDEV_EXPORT int ramdev_vhost_complete(struct ramdev_vhost *v)
{
	uint64_t notify = 0;
	int ret;

	if (!v)
		return -EINVAL;
	ret = ramdev_blk_complete(v->blk, &notify);
	vhost_vrings_notify(v, notify);
	return ret;
}

RAMDEV_EXPORT int ramdev_vhost_quiesce(struct ramdev_vhost *v)
{
	uint64_t notify = 0;
	int ret;

	if (!v)
		return -EINVAL;
	v->quiesced = true;
	ret = ramdev_blk_flush(v->blk, &notify); /* drains first */
	vhost_vrings_notify(v, notify);
	return ret < 0 ? -EIO : 0;
}
