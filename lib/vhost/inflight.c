// SPDX-License-Identifier: MIT
/*
 * Inflight I/O tracking (vhost-user.rst "Inflight I/O tracking", protocol
 * feature INFLIGHT_SHMFD), split rings.
 *
 * GET_INFLIGHT_FD makes a shared-memory region (memfd) of one queue region
 * per queue, each a header {features, version, desc_num, last_batch_head,
 * used_idx} and desc_num descriptor states {inflight, padding, next,
 * counter}.  The front end keeps the fd and hands it back with
 * SET_INFLIGHT_FD, to us or to a restarted back end.  While a ring runs,
 * every popped head is marked in flight with a rising counter, and cleared
 * after its used element is published:
 *   pop:  desc[head].counter = counter++; desc[head].inflight = 1
 *   push: last_batch_head = head; (used element, used idx);
 *         desc[head].inflight = 0; used_idx = the ring's used idx
 * When a ring starts on a region already in use (version != 0), the heads
 * still marked were popped by a back end that died: they are resubmitted
 * first, in counter order, and last_avail is the used idx plus their
 * number.  A region whose used_idx differs from the ring's died between
 * the used idx store and the clear: last_batch_head was completed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "vhost_priv.h"

#define INFLIGHT_VERSION 1u
#define INFLIGHT_ALIGN 64u

/* Bytes of one queue's region: header + states, 64-byte aligned. */
static size_t queue_bytes(uint16_t qsize)
{
	size_t n = sizeof(struct vhu_inflight_queue) +
		   (size_t)qsize * sizeof(struct vhu_desc_state);

	return (n + INFLIGHT_ALIGN - 1) & ~(size_t)(INFLIGHT_ALIGN - 1);
}

static struct vhu_inflight_queue *queue_region(struct ramdev_vhost *v,
					       unsigned idx)
{
	return (struct vhu_inflight_queue *)((uint8_t *)v->inflight_base +
					     idx * queue_bytes(v->inflight_qsize));
}

void vhost_inflight_clear(struct ramdev_vhost *v)
{
	if (v->inflight_base)
		munmap(v->inflight_base, v->inflight_len);
	v->inflight_base = NULL;
	v->inflight_len = 0;
	v->inflight_queues = v->inflight_qsize = 0;
	for (unsigned i = 0; i < RAMDEV_BLK_MAX_QUEUES; i++)
		v->vring[i].inflight = NULL;
}

static int params_check(struct ramdev_vhost *v, const struct vhu_inflight *in)
{
	if (in->num_queues == 0 || in->num_queues > v->num_queues ||
	    in->queue_size == 0 || in->queue_size > 32768)
		return vhost_reject(v, RAMDEV_VHOST_INFLIGHT,
				    "num_queues 0x%x (1..0x%x), queue_size 0x%x "
				    "(1..0x8000)", in->num_queues, v->num_queues,
				    in->queue_size);
	return 0;
}

int vhost_inflight_get(struct ramdev_vhost *v, struct vhu_msg *m)
{
	struct vhu_inflight in = m->p.inflight, out;
	size_t len;
	void *base;
	int fd, ret;

	if (params_check(v, &in))
		return -EINVAL;
	len = queue_bytes(in.queue_size) * in.num_queues;
	fd = memfd_create("ramdev-vhost-inflight", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)len)) {
		if (fd >= 0)
			close(fd);
		return vhost_reject(v, RAMDEV_VHOST_NOMEM, "memfd of 0x%zx: %s",
				    len, strerror(errno));
	}
	base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		close(fd);
		return vhost_reject(v, RAMDEV_VHOST_NOMEM, "mmap of 0x%zx: %s",
				    len, strerror(errno));
	}
	vhost_inflight_clear(v);
	v->inflight_base = base;
	v->inflight_len = len;
	v->inflight_queues = in.num_queues;
	v->inflight_qsize = in.queue_size;
	for (unsigned i = 0; i < in.num_queues; i++)
		queue_region(v, i)->desc_num = in.queue_size;
	memset(&out, 0, sizeof(out));
	out.mmap_size = len;
	out.mmap_offset = 0;
	out.num_queues = in.num_queues;
	out.queue_size = in.queue_size;
	ret = vhost_reply(v, m, &out, m->size, &fd, 1);
	close(fd);
	vhost_log(v, LOG_INFO, "inflight region: 0x%zx bytes, 0x%x queues of "
		  "0x%x", len, in.num_queues, in.queue_size);
	return ret;
}

int vhost_inflight_set(struct ramdev_vhost *v, struct vhu_msg *m)
{
	struct vhu_inflight in = m->p.inflight;
	struct stat st;
	uint64_t need, end;
	void *base;
	int fd;

	if (m->nfds != 1)
		return vhost_reject(v, RAMDEV_VHOST_FDS_MISSING,
				    "0x%x fds, expected 1", m->nfds);
	if (params_check(v, &in))
		return -EINVAL;
	fd = m->fds[0];
	need = queue_bytes(in.queue_size) * (uint64_t)in.num_queues;
	if (in.mmap_size < need || in.mmap_size > SIZE_MAX ||
	    __builtin_add_overflow(in.mmap_offset, in.mmap_size, &end) ||
	    fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size < end)
		return vhost_reject(v, RAMDEV_VHOST_INFLIGHT,
				    "mmap_size 0x%llx (need 0x%llx) offset "
				    "0x%llx, fd size 0x%llx",
				    (unsigned long long)in.mmap_size,
				    (unsigned long long)need,
				    (unsigned long long)in.mmap_offset,
				    (unsigned long long)st.st_size);
	base = mmap(NULL, in.mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    (off_t)in.mmap_offset);
	if (base == MAP_FAILED)
		return vhost_reject(v, RAMDEV_VHOST_INFLIGHT, "mmap: %s",
				    strerror(errno));
	vhost_inflight_clear(v);
	v->inflight_base = base;
	v->inflight_len = in.mmap_size;
	v->inflight_queues = in.num_queues;
	v->inflight_qsize = in.queue_size;
	vhost_log(v, LOG_INFO, "inflight region set: 0x%llx bytes, 0x%x queues "
		  "of 0x%x", (unsigned long long)in.mmap_size, in.num_queues,
		  in.queue_size);
	return 0;
}

/* ---- hooks: the log kept while the ring runs ---- */

static void hook_popped(void *opaque, uint16_t head)
{
	struct vhost_vring *vr = opaque;
	struct vhu_inflight_queue *q = vr->inflight;

	q->desc[head].counter = vr->counter++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST); /* counter before the flag */
	q->desc[head].inflight = 1;
}

static void hook_pre_push(void *opaque, uint16_t head)
{
	struct vhost_vring *vr = opaque;

	vr->inflight->last_batch_head = head;
	__atomic_signal_fence(__ATOMIC_SEQ_CST); /* before the used element */
}

static void hook_pushed(void *opaque, uint16_t head, uint16_t used_idx)
{
	struct vhost_vring *vr = opaque;
	struct vhu_inflight_queue *q = vr->inflight;

	q->desc[head].inflight = 0;
	__atomic_signal_fence(__ATOMIC_SEQ_CST); /* the flag before used_idx */
	q->used_idx = used_idx;
}

struct resub {
	uint16_t head;
	uint64_t counter;
};

static int resub_cmp(const void *a, const void *b)
{
	const struct resub *x = a, *y = b;

	return x->counter < y->counter ? -1 : x->counter > y->counter;
}

/* Recover a region a previous back end used; 0 or -EINVAL. */
static int recover(struct vhost_vring *vr, struct vhu_inflight_queue *q)
{
	struct ramdev_vhost *v = vr->v;
	uint16_t used = ramdev_virtq_used_idx(vr->vq), heads[32768];
	struct resub *list;
	unsigned n = 0;
	int ret;

	if (q->used_idx != used) {
		if (q->last_batch_head >= vr->num)
			return vhost_reject(v, RAMDEV_VHOST_INFLIGHT_LAYOUT,
					    "vring 0x%x: last_batch_head 0x%x "
					    ">= size 0x%x", vr->idx,
					    q->last_batch_head, vr->num);
		q->desc[q->last_batch_head].inflight = 0;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		q->used_idx = used;
	}
	list = calloc(vr->num, sizeof(*list));
	if (!list)
		return vhost_reject(v, RAMDEV_VHOST_NOMEM, "vring 0x%x", vr->idx);
	vr->counter = 0;
	for (unsigned i = 0; i < q->desc_num; i++) {
		if (!q->desc[i].inflight)
			continue;
		if (i >= vr->num) {
			free(list);
			return vhost_reject(v, RAMDEV_VHOST_INFLIGHT_LAYOUT,
					    "vring 0x%x: head 0x%x in flight "
					    ">= size 0x%x", vr->idx, i, vr->num);
		}
		list[n].head = (uint16_t)i;
		list[n++].counter = q->desc[i].counter;
		if (q->desc[i].counter >= vr->counter)
			vr->counter = q->desc[i].counter + 1;
	}
	qsort(list, n, sizeof(*list), resub_cmp);
	for (unsigned i = 0; i < n; i++)
		heads[i] = list[i].head;
	free(list);
	ret = ramdev_virtq_set_resubmit(vr->vq, heads, n);
	if (ret)
		return vhost_reject(v, RAMDEV_VHOST_NOMEM, "vring 0x%x", vr->idx);
	ramdev_virtq_set_last_avail(vr->vq, (uint16_t)(used + n));
	vhost_log(v, LOG_INFO, "queue %u: inflight region: 0x%x requests to "
		  "resubmit, used idx 0x%x, last_avail 0x%x", vr->idx, n, used,
		  (uint16_t)(used + n));
	return 0;
}

int vhost_inflight_start(struct vhost_vring *vr)
{
	static const struct ramdev_virtq_hooks hooks = {
		.popped = hook_popped,
		.pre_push = hook_pre_push,
		.pushed = hook_pushed,
	};
	struct ramdev_virtq_hooks h = hooks;
	struct ramdev_vhost *v = vr->v;
	struct vhu_inflight_queue *q;

	if (!(v->protocol & VHU_BIT(VHU_PF_INFLIGHT_SHMFD)) || !v->inflight_base)
		return 0;
	if (vr->idx >= v->inflight_queues)
		return vhost_reject(v, RAMDEV_VHOST_INFLIGHT,
				    "vring 0x%x: the region has 0x%x queues",
				    vr->idx, v->inflight_queues);
	q = queue_region(v, vr->idx);
	if (q->desc_num != v->inflight_qsize || vr->num > q->desc_num)
		return vhost_reject(v, RAMDEV_VHOST_INFLIGHT_LAYOUT,
				    "vring 0x%x: desc_num 0x%x, queue_size "
				    "0x%x, ring size 0x%x", vr->idx, q->desc_num,
				    v->inflight_qsize, vr->num);
	if (q->version == 0) {
		q->version = INFLIGHT_VERSION; /* a fresh region */
		vr->counter = 0;
	} else if (recover(vr, q)) {
		return -EINVAL;
	}
	vr->inflight = q;
	h.opaque = vr;
	ramdev_virtq_set_hooks(vr->vq, &h);
	return 0;
}
