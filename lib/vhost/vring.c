// SPDX-License-Identifier: MIT
/*
 * Vring state (SET_VRING_NUM/ADDR/BASE/KICK/CALL/ERR/ENABLE,
 * GET_VRING_BASE), the start and stop of a ring, kicks and calls.
 *
 * A ring starts when its kick fd arrives (vhost-user.rst "Starting and
 * stopping rings") and stops on GET_VRING_BASE.  It runs (requests are
 * taken) while started and enabled: with VHOST_USER_F_PROTOCOL_FEATURES a
 * ring starts disabled until SET_VRING_ENABLE, without it enabled.
 *
 * Changes from the control path are safe against the queue: one thread
 * does both (see tools/vhost-user-blk.c), and a ring is stopped (its
 * requests drained from the blk device) before its state changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "vhost_priv.h"

static bool runs(const struct vhost_vring *vr)
{
	const struct ramdev_vhost *v = vr->v;

	return vr->vq && !v->quiesced &&
	       (vr->enabled || !(v->features & VHU_BIT(VHU_F_PROTOCOL_FEATURES)));
}

static void set_fd(struct vhost_vring *vr, int *slot, int fd, bool watch)
{
	struct ramdev_vhost *v = vr->v;

	if (*slot >= 0) {
		if (watch && v->watch)
			v->watch(v->watch_opaque, *slot, vr->idx, false);
		close(*slot);
	}
	*slot = fd;
	if (fd >= 0 && watch && v->watch)
		v->watch(v->watch_opaque, fd, vr->idx, true);
}

static void signal_call(struct vhost_vring *vr)
{
	uint64_t one = 1;

	if (vr->call_fd < 0) {
		vr->notify_pending = true;
		return;
	}
	vr->notify_pending = false;
	if (write(vr->call_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		vhost_log(vr->v, LOG_WARNING, "queue %u: call fd: %s", vr->idx,
			  strerror(errno));
}

void vhost_vrings_notify(struct ramdev_vhost *v, uint64_t mask)
{
	for (unsigned i = 0; i < v->num_queues; i++)
		if (mask & (UINT64_C(1) << i))
			signal_call(&v->vring[i]);
}

static int process(struct vhost_vring *vr)
{
	uint64_t notify = 0;
	int ret;

	if (!runs(vr))
		return 0;
	ret = ramdev_blk_process(vr->v->blk, vr->idx, &notify);
	vhost_vrings_notify(vr->v, notify);
	return ret;
}

/* Translate ring @what at front-end address @uva, @len bytes. */
static int ring_gpa(struct vhost_vring *vr, const char *what, uint64_t uva,
		    uint64_t len, uint64_t *gpa)
{
	if (vhost_mem_uva_to_gpa(vr->v, uva, len, gpa))
		return 0;
	return vhost_reject(vr->v, RAMDEV_VHOST_VRING_ADDR,
			    "vring 0x%x: %s ring uva 0x%llx + 0x%llx is not "
			    "inside one region of the memory table", vr->idx,
			    what, (unsigned long long)uva,
			    (unsigned long long)len);
}

/* Start the ring: a virtqueue on the translated addresses, attached. */
static int start(struct vhost_vring *vr)
{
	struct ramdev_vhost *v = vr->v;
	struct ramdev_virtq_config cfg = {
		.size = vr->num,
		.event_idx = (v->features & VHU_BIT(VHU_F_RING_EVENT_IDX)) != 0,
		.indirect = (v->features & VHU_BIT(VHU_F_RING_INDIRECT_DESC)) != 0,
	};
	int ret;

	if (!vr->num_set || !vr->addr_set || v->nmem == 0)
		return vhost_reject(v, RAMDEV_VHOST_VRING_NOT_READY,
				    "vring 0x%x: size %s, addresses %s, 0x%x "
				    "memory regions", vr->idx,
				    vr->num_set ? "set" : "unset",
				    vr->addr_set ? "set" : "unset", v->nmem);
	/* VIRTIO 1.2 2.7 table: desc 16 * n, avail 6 + 2 * n, used 6 + 8 * n. */
	if (ring_gpa(vr, "descriptor", vr->addr.desc, 16u * vr->num, &cfg.desc) ||
	    ring_gpa(vr, "avail", vr->addr.avail, 6u + 2u * vr->num, &cfg.avail) ||
	    ring_gpa(vr, "used", vr->addr.used, 6u + 8u * vr->num, &cfg.used))
		return -EINVAL;
	if (ramdev_virtq_new(&vr->vq, v->dma, &cfg))
		return vhost_reject(v, RAMDEV_VHOST_NOMEM, "vring 0x%x", vr->idx);
	ramdev_virtq_set_log(vr->vq, v->log_fn, v->log_opaque);
	if (ramdev_virtq_error(vr->vq) != RAMDEV_VIRTQ_OK) {
		ret = vhost_reject(v, RAMDEV_VHOST_VRING_ADDR,
				   "vring 0x%x: %s", vr->idx,
				   ramdev_virtq_strerror(ramdev_virtq_error(vr->vq)));
		goto fail;
	}
	ramdev_virtq_set_last_avail(vr->vq, vr->base);
	ret = vhost_inflight_start(vr);
	if (ret)
		goto fail;
	ret = ramdev_blk_attach_queue(v->blk, vr->idx, vr->vq, v->dma);
	if (ret) {
		ret = vhost_reject(v, RAMDEV_VHOST_VRING_STARTED,
				   "vring 0x%x: blk attach: %s", vr->idx,
				   strerror(-ret));
		goto fail;
	}
	vr->attached = true;
	vhost_log(v, LOG_INFO, "queue %u: started, size %u, last_avail 0x%x%s%s",
		  vr->idx, vr->num, ramdev_virtq_last_avail(vr->vq),
		  cfg.event_idx ? ", event_idx" : "",
		  cfg.indirect ? ", indirect" : "");
	return 0;
fail:
	ramdev_virtq_free(vr->vq);
	vr->vq = NULL;
	return ret;
}

void vhost_vring_stop(struct vhost_vring *vr)
{
	struct ramdev_vhost *v = vr->v;

	if (!vr->vq)
		return;
	if (vr->attached) {
		int ret = ramdev_blk_detach_queue(v->blk, vr->idx);

		if (ret == -EBUSY) {
			/* The failed engine keeps the queue until the device
			 * closes: leave the virtqueue to it (blk.h). */
			vhost_log(v, LOG_ERR, "queue %u: requests stuck in a "
				  "failed engine; queue left attached", vr->idx);
			vr->vq = NULL;
			vr->attached = false;
			return;
		}
		vr->attached = false;
	}
	vr->base = ramdev_virtq_last_avail(vr->vq);
	ramdev_virtq_set_hooks(vr->vq, NULL);
	ramdev_virtq_free(vr->vq);
	vr->vq = NULL;
	vr->inflight = NULL;
	signal_call(vr); /* requests the drain pushed */
	set_fd(vr, &vr->kick_fd, -1, true);
	vhost_log(v, LOG_INFO, "queue %u: stopped at last_avail 0x%x", vr->idx,
		  vr->base);
}

void vhost_vring_reset(struct vhost_vring *vr)
{
	vhost_vring_stop(vr);
	set_fd(vr, &vr->kick_fd, -1, true);
	set_fd(vr, &vr->call_fd, -1, false);
	set_fd(vr, &vr->err_fd, -1, false);
	vr->num = 0;
	vr->num_set = vr->addr_set = vr->enabled = false;
	vr->notify_pending = false;
	vr->base = 0;
	vr->inflight = NULL;
}

/* The index of a vring message, checked; NULL after a rejection. */
static struct vhost_vring *vring_of(struct ramdev_vhost *v, uint64_t idx)
{
	if (idx >= v->num_queues) {
		vhost_reject(v, RAMDEV_VHOST_VRING_INDEX,
			     "vring index 0x%llx >= 0x%x queues",
			     (unsigned long long)idx, v->num_queues);
		return NULL;
	}
	return &v->vring[idx];
}

static int not_started(struct vhost_vring *vr)
{
	if (!vr->vq)
		return 0;
	return vhost_reject(vr->v, RAMDEV_VHOST_VRING_STARTED,
			    "vring 0x%x is running (stop it with GET_VRING_BASE)",
			    vr->idx);
}

/* SET_VRING_KICK / CALL / ERR: the u64 names the ring and whether an fd
 * comes (vhost-user.rst: bits 0-7 index, bit 8 "no fd"). */
static int vring_fd_msg(struct ramdev_vhost *v, struct vhu_msg *m)
{
	uint64_t u = m->p.u64;
	bool nofd = (u & VHU_VRING_NOFD) != 0;
	struct vhost_vring *vr;
	int fd;

	if (u & ~(uint64_t)(VHU_VRING_IDX_MASK | VHU_VRING_NOFD))
		return vhost_reject(v, RAMDEV_VHOST_VRING_INDEX,
				    "value 0x%llx has bits beyond the index "
				    "and the no-fd flag", (unsigned long long)u);
	vr = vring_of(v, u & VHU_VRING_IDX_MASK);
	if (!vr)
		return -EINVAL;
	if (nofd && m->nfds)
		return vhost_reject(v, RAMDEV_VHOST_FDS_EXTRA,
				    "0x%x fds with the no-fd flag", m->nfds);
	if (!nofd && m->nfds != 1)
		return vhost_reject(v, RAMDEV_VHOST_FDS_MISSING,
				    "no fd and no no-fd flag (0x%llx)",
				    (unsigned long long)u);
	fd = nofd ? -1 : m->fds[0];
	if (!nofd)
		m->fds[0] = -1;
	if (m->request == VHU_SET_VRING_CALL) {
		set_fd(vr, &vr->call_fd, fd, false);
		if (vr->notify_pending && fd >= 0)
			signal_call(vr);
		return 0;
	}
	if (m->request == VHU_SET_VRING_ERR) {
		set_fd(vr, &vr->err_fd, fd, false);
		return 0;
	}
	if (fd >= 0)
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (nofd)
		vhost_log(v, LOG_WARNING, "queue %u: no kick fd: the ring is "
			  "only processed on completions", vr->idx);
	set_fd(vr, &vr->kick_fd, fd, true);
	if (vr->vq)
		return 0; /* a new kick fd for a running ring */
	if (start(vr))
		return -EINVAL;
	(void)process(vr); /* what came before the fd */
	return 0;
}

static int vring_state_msg(struct ramdev_vhost *v, struct vhu_msg *m,
			   struct vhost_vring *vr)
{
	uint32_t num = m->p.state.num;

	switch (m->request) {
	case VHU_SET_VRING_NUM:
		if (not_started(vr))
			return -EINVAL;
		/* VIRTIO 1.2 2.7: a power of two; and our --queue-size. */
		if (num == 0 || (num & (num - 1)) || num > v->queue_size ||
		    num > 32768)
			return vhost_reject(v, RAMDEV_VHOST_VRING_NUM,
					    "vring 0x%x size 0x%x (max 0x%x)",
					    vr->idx, num, v->queue_size);
		vr->num = (uint16_t)num; /* 32768 fits a u16 */
		vr->num_set = true;
		return 0;
	case VHU_SET_VRING_BASE:
		if (not_started(vr))
			return -EINVAL;
		if (num > 0xffff)
			return vhost_reject(v, RAMDEV_VHOST_VRING_NUM,
					    "vring 0x%x base 0x%x > 0xffff",
					    vr->idx, num);
		vr->base = (uint16_t)num;
		return 0;
	case VHU_SET_VRING_ENABLE:
		if (num > 1)
			return vhost_reject(v, RAMDEV_VHOST_VRING_NUM,
					    "vring 0x%x enable 0x%x (0 or 1)",
					    vr->idx, num);
		vr->enabled = num == 1;
		if (vr->enabled)
			(void)process(vr);
		return 0;
	}
	return -EINVAL;
}

int vhost_vring_msg(struct ramdev_vhost *v, struct vhu_msg *m)
{
	struct vhost_vring *vr;

	if (m->request == VHU_SET_VRING_KICK || m->request == VHU_SET_VRING_CALL ||
	    m->request == VHU_SET_VRING_ERR)
		return vring_fd_msg(v, m);
	vr = vring_of(v, m->request == VHU_SET_VRING_ADDR ? m->p.addr.index
							  : m->p.state.index);
	if (!vr)
		return -EINVAL;
	if (m->request != VHU_SET_VRING_ADDR)
		return vring_state_msg(v, m, vr);
	if (not_started(vr))
		return -EINVAL;
	{
		struct vhu_vring_addr a = m->p.addr;
		uint64_t n = vr->num_set ? vr->num : 1, gpa;

		/* Checked now with the size known so far, again at start. */
		if (ring_gpa(vr, "descriptor", a.desc, 16u * n, &gpa) ||
		    ring_gpa(vr, "avail", a.avail, 6u + 2u * n, &gpa) ||
		    ring_gpa(vr, "used", a.used, 6u + 8u * n, &gpa))
			return -EINVAL;
		vr->addr = a;
		vr->addr_set = true;
	}
	return 0;
}

int vhost_vring_get_base(struct ramdev_vhost *v, struct vhu_msg *m)
{
	struct vhost_vring *vr = vring_of(v, m->p.state.index);
	struct vhu_vring_state st;

	if (!vr)
		return -EINVAL;
	vhost_vring_stop(vr);
	st.index = vr->idx;
	st.num = vr->base;
	return vhost_reply(v, m, &st, sizeof(st), NULL, 0);
}

RAMDEV_EXPORT int ramdev_vhost_kick(struct ramdev_vhost *v, unsigned queue)
{
	struct vhost_vring *vr;
	uint64_t cnt;

	if (!v || queue >= v->num_queues)
		return -EINVAL;
	vr = &v->vring[queue];
	if (vr->kick_fd >= 0)
		(void)!read(vr->kick_fd, &cnt, sizeof(cnt));
	return process(vr);
}
