// SPDX-License-Identifier: MIT
/*
 * vhost_front: the front end's side of vhost-user (what QEMU's
 * hw/virtio/vhost-user.c does for vhost-user-blk-pci), written from
 * docs/interop/vhost-user.rst, plus a virtio-blk driver on its rings.
 *
 * Guest memory is two memfds, mapped here and passed to the back end in
 * SET_MEM_TABLE: RAM at GPA 0 (the rings, indirect tables, request headers
 * and status bytes of each queue first, then the caller's data area) and an
 * optional second region the caller calls device memory.  Addresses in
 * SET_VRING_ADDR are front-end virtual addresses (userspace_addr), as QEMU
 * sends them; descriptors carry GPAs.
 */
#define _GNU_SOURCE /* memfd_create */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>

#include "ramdev/as.h"
#include "scm_fds.h"
#include "vhost_front.h"
#include "vring_driver.h"

#define HDR_SIZE 12u
#define FLAG_VERSION 0x1u
#define FLAG_REPLY 0x4u
#define FLAG_NEED_REPLY 0x8u
#define MAX_FDS 8u
#define MAX_PAYLOAD 4096u
#define PAGE 4096ull
#define CONFIG_LEN 60u /* virtio_blk_config up to write_zeroes_may_unmap */
#define INDIRECT_MAX 3u
/* linux/virtio_ring.h's flag names clash with vring_driver.h's. */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX 29

/* Per queue, in RAM: rings, indirect tables, headers, status bytes. */
struct layout {
	uint64_t desc, avail, used, itab, hdr, status, size;
};

struct fq {
	struct vring_drv *drv;
	int kick, call;
	uint64_t base;         /* GPA of this queue's metadata */
	uint16_t *slot_of;     /* head -> request slot */
	uint16_t *free_slots;
	unsigned nfree;
	void **opaque;         /* per slot */
	uint16_t reaped;       /* used entries taken (shadow of last_used) */
};

struct vhost_front {
	int sock;
	bool reply_ack;
	uint16_t qsize;
	bool indirect;
	struct layout lay;
	struct vhost_front_info info;
	int ram_fd, dev_fd;
	uint8_t *ram, *dev;
	uint64_t ram_size, dev_gpa, dev_size, data_gpa, data_size;
	struct ramdev_as *as;
	struct ramdev_region *rram, *rdev;
	struct fq q[VHOST_FRONT_MAX_QUEUES];
	char *err;
	size_t errlen;
};

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static void set_err(struct vhost_front *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_err(struct vhost_front *f, const char *fmt, ...)
{
	va_list ap;

	if (!f->err || !f->errlen || f->err[0])
		return; /* keep the first: it is the cause */
	va_start(ap, fmt);
	vsnprintf(f->err, f->errlen, fmt, ap);
	va_end(ap);
}

static struct layout layout_of(uint16_t n)
{
	struct layout l;
	uint64_t off = 0;

	l.desc = off;
	off = align_up(off + vring_drv_desc_bytes(n), PAGE);
	l.avail = off;
	off = align_up(off + vring_drv_avail_bytes(n), PAGE);
	l.used = off;
	off = align_up(off + vring_drv_used_bytes(n), PAGE);
	l.itab = off;
	off = align_up(off + 16ull * INDIRECT_MAX * n, PAGE);
	l.hdr = off;
	off = align_up(off + 16ull * n, PAGE);
	l.status = off;
	l.size = align_up(off + n, PAGE);
	return l;
}

/* ---- messages ---- */

static int send_msg(struct vhost_front *f, uint32_t req, uint32_t flags,
		    const void *payload, uint32_t len, const int *fds,
		    unsigned nfds)
{
	uint8_t buf[HDR_SIZE + MAX_PAYLOAD];
	union {
		char b[CMSG_SPACE(MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	uint32_t h[3] = { htole32(req), htole32(flags | FLAG_VERSION),
			  htole32(len) };
	ssize_t n;

	if (len > MAX_PAYLOAD || nfds > MAX_FDS)
		return -EINVAL;
	memcpy(buf, h, HDR_SIZE);
	if (len)
		memcpy(buf + HDR_SIZE, payload, len);
	iov.iov_base = buf;
	iov.iov_len = HDR_SIZE + len;
	scm_put_fds(&mh, ctl.b, fds, nfds);
	do
		n = sendmsg(f->sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == iov.iov_len ? 0 : -EIO;
}

static int read_full(int fd, void *p, size_t len)
{
	uint8_t *b = p;

	while (len) {
		ssize_t n = read(fd, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read a reply to @req: header, then up to @len bytes of payload. */
static int recv_reply(struct vhost_front *f, uint32_t req, void *payload,
		      uint32_t len)
{
	uint8_t skip[MAX_PAYLOAD];
	uint32_t h[3], size;
	int ret;

	ret = read_full(f->sock, h, sizeof(h));
	if (ret < 0)
		return ret;
	size = le32toh(h[2]);
	if (le32toh(h[0]) != req || !(le32toh(h[1]) & FLAG_REPLY) ||
	    size > MAX_PAYLOAD) {
		set_err(f, "reply to request %u: request %u flags 0x%x size %u",
			req, le32toh(h[0]), le32toh(h[1]), size);
		return -EPROTO;
	}
	ret = read_full(f->sock, size <= len ? payload : skip, size);
	if (ret < 0)
		return ret;
	if (size > len) {
		set_err(f, "reply to request %u: %u bytes, want <= %u", req,
			size, len);
		return -EPROTO;
	}
	return (int)size;
}

int vhost_front_call(struct vhost_front *f, uint32_t req, const void *payload,
		     uint32_t len, const int *fds, unsigned nfds, void *reply,
		     uint32_t reply_len)
{
	int ret = send_msg(f, req, 0, payload, len, fds, nfds);

	if (ret < 0 || !reply)
		return ret;
	return recv_reply(f, req, reply, reply_len);
}

/* A request with a u64 reply (GET_FEATURES, GET_QUEUE_NUM, ...). */
static int get_u64(struct vhost_front *f, uint32_t req, uint64_t *v)
{
	uint64_t le;
	int ret = vhost_front_call(f, req, NULL, 0, NULL, 0, &le, sizeof(le));

	if (ret >= 0 && ret != (int)sizeof(le)) {
		set_err(f, "request %u: reply of %d bytes, want 8", req, ret);
		return -EPROTO;
	}
	if (ret < 0) {
		set_err(f, "request %u: %s", req, strerror(-ret));
		return ret;
	}
	*v = le64toh(le);
	return 0;
}

/*
 * A request with no reply of its own: with REPLY_ACK, ask for one and check
 * it (0 is success), as QEMU does for SET_MEM_TABLE and friends.
 */
static int set_msg(struct vhost_front *f, uint32_t req, const void *payload,
		   uint32_t len, const int *fds, unsigned nfds)
{
	uint64_t ack;
	int ret;

	ret = send_msg(f, req, f->reply_ack ? FLAG_NEED_REPLY : 0, payload,
		       len, fds, nfds);
	if (ret == 0 && f->reply_ack) {
		ret = recv_reply(f, req, &ack, sizeof(ack));
		if (ret >= 0 && ret != (int)sizeof(ack))
			ret = -EPROTO;
		else if (ret >= 0)
			ret = le64toh(ack) ? -EIO : 0;
	}
	if (ret < 0)
		set_err(f, "request %u: %s", req, strerror(-ret));
	return ret;
}

static int set_u64(struct vhost_front *f, uint32_t req, uint64_t v,
		   int fd)
{
	uint64_t le = htole64(v);

	return set_msg(f, req, &le, sizeof(le), &fd, fd >= 0 ? 1 : 0);
}

static int set_state(struct vhost_front *f, uint32_t req, unsigned idx,
		     unsigned num)
{
	uint32_t st[2] = { htole32(idx), htole32(num) };

	return set_msg(f, req, st, sizeof(st), NULL, 0);
}

/* ---- memory ---- */

static int map_memfd(const char *name, uint64_t size, int *fd, uint8_t **p)
{
	*fd = memfd_create(name, MFD_CLOEXEC);
	if (*fd < 0)
		return -errno;
	if (ftruncate(*fd, (off_t)size) < 0)
		return -errno;
	*p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (*p == MAP_FAILED) {
		*p = NULL;
		return -errno;
	}
	return 0;
}

static int memory_new(struct vhost_front *f)
{
	int ret;

	ret = map_memfd("vhost-front-ram", f->ram_size, &f->ram_fd, &f->ram);
	if (ret == 0 && f->dev_size)
		ret = map_memfd("vhost-front-dev", f->dev_size, &f->dev_fd,
				&f->dev);
	if (ret == 0)
		ret = ramdev_as_new(&f->as, "vhost-front");
	if (ret < 0)
		return ret;
	/* The rings are reached through an address space, as vring_driver
	 * wants; the front end's CPU writes both regions directly. */
	ramdev_as_begin(f->as);
	ret = ramdev_region_new_ram(&f->rram, "ram", f->ram, f->ram_size);
	if (ret == 0)
		ret = ramdev_region_add(ramdev_as_root(f->as), 0, f->rram, 0);
	if (ret == 0 && f->dev_size)
		ret = ramdev_region_new_ramd(&f->rdev, "dev", f->dev,
					     f->dev_size);
	if (ret == 0 && f->dev_size)
		ret = ramdev_region_add(ramdev_as_root(f->as), f->dev_gpa,
					f->rdev, 0);
	if (ret == 0)
		return ramdev_as_commit(f->as);
	(void)ramdev_as_commit(f->as);
	return ret;
}

static int send_mem_table(struct vhost_front *f)
{
	uint64_t p[1 + 2 * 4] = { 0 };
	int fds[2] = { f->ram_fd, f->dev_fd };
	unsigned n = f->dev_size ? 2 : 1;

	p[0] = htole64(n); /* u32 nregions, u32 padding */
	p[1] = htole64(0);
	p[2] = htole64(f->ram_size);
	p[3] = htole64((uintptr_t)f->ram);
	p[4] = 0;
	if (n == 2) {
		p[5] = htole64(f->dev_gpa);
		p[6] = htole64(f->dev_size);
		p[7] = htole64((uintptr_t)f->dev);
		p[8] = 0;
	}
	return set_msg(f, VHOST_USER_SET_MEM_TABLE, p, 8 + 32 * n, fds, n);
}

/* ---- rings ---- */

static int queue_new(struct vhost_front *f, unsigned i)
{
	struct fq *q = &f->q[i];
	struct vring_drv_config vc = {
		.size = f->qsize, .event_idx = true,
	};
	unsigned n = f->qsize;
	int ret;

	q->base = (uint64_t)i * f->lay.size;
	vc.desc = q->base + f->lay.desc;
	vc.avail = q->base + f->lay.avail;
	vc.used = q->base + f->lay.used;
	vc.event_idx = f->info.acked & (1ull << VIRTIO_RING_F_EVENT_IDX);
	if (f->indirect) {
		vc.indirect_gpa = q->base + f->lay.itab;
		vc.indirect_max = INDIRECT_MAX;
	}
	q->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->slot_of = calloc(n, sizeof(*q->slot_of));
	q->free_slots = calloc(n, sizeof(*q->free_slots));
	q->opaque = calloc(n, sizeof(*q->opaque));
	if (q->kick < 0 || q->call < 0)
		return -errno;
	if (!q->slot_of || !q->free_slots || !q->opaque)
		return -ENOMEM;
	for (unsigned s = 0; s < n; s++)
		q->free_slots[s] = (uint16_t)(n - 1 - s);
	q->nfree = n;
	ret = vring_drv_new(&q->drv, f->as, &vc);
	if (ret < 0)
		set_err(f, "queue %u: vring_drv_new: %s", i, strerror(-ret));
	return ret;
}

static int queue_start(struct vhost_front *f, unsigned i)
{
	struct fq *q = &f->q[i];
	uint64_t ua = (uintptr_t)f->ram + q->base;
	uint64_t addr[5] = {
		htole64(i), /* u32 index, u32 flags 0 */
		htole64(ua + f->lay.desc), htole64(ua + f->lay.used),
		htole64(ua + f->lay.avail), 0,
	};
	int ret;

	ret = set_state(f, VHOST_USER_SET_VRING_NUM, i, f->qsize);
	if (ret == 0)
		ret = set_state(f, VHOST_USER_SET_VRING_BASE, i, 0);
	if (ret == 0)
		ret = set_msg(f, VHOST_USER_SET_VRING_ADDR, addr, sizeof(addr),
			      NULL, 0);
	if (ret == 0)
		ret = set_u64(f, VHOST_USER_SET_VRING_KICK, i, q->kick);
	if (ret == 0)
		ret = set_u64(f, VHOST_USER_SET_VRING_CALL, i, q->call);
	return ret;
}

/* ---- negotiation ---- */

static int connect_socket(struct vhost_front *f, const char *path, int ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int ret;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	for (int waited = 0;; waited += 20) {
		f->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (f->sock < 0)
			return -errno;
		if (connect(f->sock, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return 0;
		ret = -errno;
		close(f->sock);
		f->sock = -1;
		if (waited >= ms)
			break;
		nanosleep(&ts, NULL);
	}
	set_err(f, "connect %s: %s", path, strerror(-ret));
	return ret;
}

static const uint64_t want_features =
	(1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
	(1ull << VIRTIO_RING_F_EVENT_IDX) |
	(1ull << VHOST_USER_F_PROTOCOL_FEATURES) |
	(1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
	(1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_MQ) |
	(1ull << VIRTIO_BLK_F_RO) | (1ull << VIRTIO_BLK_F_TOPOLOGY) |
	(1ull << VIRTIO_BLK_F_DISCARD) | (1ull << VIRTIO_BLK_F_WRITE_ZEROES);

static const uint64_t want_protocol = (1ull << VHOST_USER_PROTOCOL_F_MQ) |
	(1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) |
	(1ull << VHOST_USER_PROTOCOL_F_CONFIG);

static int get_config(struct vhost_front *f)
{
	uint8_t msg[12 + CONFIG_LEN] = { 0 };
	uint32_t v32[3] = { 0, htole32(CONFIG_LEN), 0 };
	struct virtio_blk_config c;
	int ret;

	memcpy(msg, v32, sizeof(v32));
	ret = vhost_front_call(f, VHOST_USER_GET_CONFIG, msg, sizeof(msg), NULL,
			       0, msg, sizeof(msg));
	if (ret >= 0 && ret != (int)sizeof(msg)) {
		set_err(f, "GET_CONFIG: reply of %d bytes, want %zu", ret,
			sizeof(msg));
		return -EPROTO;
	}
	if (ret < 0) {
		set_err(f, "GET_CONFIG: %s", strerror(-ret));
		return ret;
	}
	memset(&c, 0, sizeof(c));
	memcpy(&c, msg + 12, CONFIG_LEN);
	f->info.capacity = le64toh(c.capacity);
	f->info.blk_size = le32toh(c.blk_size);
	f->info.seg_max = le32toh(c.seg_max);
	f->info.config_num_queues = le16toh(c.num_queues);
	return 0;
}

/* GET_FEATURES ... GET_CONFIG: what QEMU does when the device is created. */
static int negotiate(struct vhost_front *f, unsigned want_queues)
{
	struct vhost_front_info *in = &f->info;
	int ret;

	ret = get_u64(f, VHOST_USER_GET_FEATURES, &in->features);
	if (ret == 0 && !(in->features & (1ull << VIRTIO_F_VERSION_1))) {
		set_err(f, "features 0x%llx: no VERSION_1",
			(unsigned long long)in->features);
		ret = -EPROTO;
	}
	if (ret == 0)
		ret = set_msg(f, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0);
	if (ret == 0 && in->features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)) {
		ret = get_u64(f, VHOST_USER_GET_PROTOCOL_FEATURES,
			      &in->protocol);
		in->protocol_acked = in->protocol & want_protocol;
		if (ret == 0)
			ret = set_u64(f, VHOST_USER_SET_PROTOCOL_FEATURES,
				      in->protocol_acked, -1);
		f->reply_ack = in->protocol_acked &
			       (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK);
	}
	in->max_queues = 1;
	if (ret == 0 && in->protocol_acked & (1ull << VHOST_USER_PROTOCOL_F_MQ)) {
		uint64_t nq;

		ret = get_u64(f, VHOST_USER_GET_QUEUE_NUM, &nq);
		in->max_queues = nq > VHOST_FRONT_MAX_QUEUES ?
				 VHOST_FRONT_MAX_QUEUES : (unsigned)nq;
	}
	if (ret == 0 && in->protocol_acked &
			(1ull << VHOST_USER_PROTOCOL_F_CONFIG))
		ret = get_config(f);
	if (ret < 0)
		return ret;
	in->num_queues = want_queues < in->max_queues ? want_queues :
			 in->max_queues;
	if (in->config_num_queues && in->num_queues > in->config_num_queues)
		in->num_queues = in->config_num_queues;
	if (in->num_queues == 0) {
		set_err(f, "the back end has no queues");
		return -EPROTO;
	}
	in->acked = in->features & want_features;
	if (in->num_queues == 1)
		in->acked &= ~(1ull << VIRTIO_BLK_F_MQ);
	f->indirect = in->acked & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
	return set_u64(f, VHOST_USER_SET_FEATURES, in->acked, -1);
}

static int start(struct vhost_front *f)
{
	unsigned nq = f->info.num_queues;
	int ret = send_mem_table(f);

	for (unsigned i = 0; ret == 0 && i < nq; i++)
		ret = queue_new(f, i);
	for (unsigned i = 0; ret == 0 && i < nq; i++)
		ret = queue_start(f, i);
	/* With PROTOCOL_FEATURES the rings start disabled. */
	if (f->info.acked & (1ull << VHOST_USER_F_PROTOCOL_FEATURES))
		for (unsigned i = 0; ret == 0 && i < nq; i++)
			ret = set_state(f, VHOST_USER_SET_VRING_ENABLE, i, 1);
	return ret;
}

int vhost_front_connect(struct vhost_front **out,
			const struct vhost_front_config *cfg, char *err,
			size_t errlen)
{
	struct vhost_front *f;
	unsigned nq = cfg ? cfg->num_queues : 0;
	int ret;

	if (err && errlen)
		err[0] = 0;
	if (!out || !cfg || !cfg->socket || nq == 0 ||
	    nq > VHOST_FRONT_MAX_QUEUES || (cfg->queue_size &
	    (cfg->queue_size - 1)) || cfg->queue_size > 1024 ||
	    (cfg->dev_size && (cfg->dev_gpa % PAGE || cfg->dev_size % PAGE)))
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->err = err;
	f->errlen = errlen;
	f->sock = f->ram_fd = f->dev_fd = -1;
	for (unsigned i = 0; i < VHOST_FRONT_MAX_QUEUES; i++)
		f->q[i].kick = f->q[i].call = -1;
	f->qsize = cfg->queue_size ? cfg->queue_size : 128;
	f->lay = layout_of(f->qsize);
	f->data_gpa = align_up(nq * f->lay.size, 1ull << 20);
	f->data_size = align_up(cfg->data_size, PAGE);
	f->ram_size = f->data_gpa + f->data_size;
	f->dev_gpa = cfg->dev_gpa;
	f->dev_size = cfg->dev_size;
	ret = -EINVAL;
	if (f->dev_size && f->dev_gpa < f->ram_size) {
		set_err(f, "device memory at 0x%llx overlaps RAM (0x%llx bytes)",
			(unsigned long long)f->dev_gpa,
			(unsigned long long)f->ram_size);
		goto fail;
	}
	ret = memory_new(f);
	if (ret < 0) {
		set_err(f, "guest memory: %s", strerror(-ret));
		goto fail;
	}
	ret = connect_socket(f, cfg->socket, cfg->connect_ms);
	if (ret == 0)
		ret = negotiate(f, nq);
	if (ret == 0) {
		if (cfg->no_indirect)
			f->indirect = false;
		ret = start(f);
	}
	if (ret < 0)
		goto fail;
	f->err = NULL;
	*out = f;
	return 0;
fail:
	f->err = NULL;
	vhost_front_close(f);
	return ret;
}

void vhost_front_close(struct vhost_front *f)
{
	if (!f)
		return;
	for (unsigned i = 0; i < VHOST_FRONT_MAX_QUEUES; i++) {
		struct fq *q = &f->q[i];
		uint32_t st[2] = { htole32(i), 0 };

		/* Stop the ring as QEMU does before it goes away. */
		if (q->drv && f->sock >= 0)
			(void)vhost_front_call(f, VHOST_USER_GET_VRING_BASE, st,
					       sizeof(st), NULL, 0, st,
					       sizeof(st));
		vring_drv_free(q->drv);
		if (q->kick >= 0)
			close(q->kick);
		if (q->call >= 0)
			close(q->call);
		free(q->slot_of);
		free(q->free_slots);
		free(q->opaque);
	}
	if (f->sock >= 0)
		close(f->sock);
	if (f->as)
		ramdev_as_free(f->as);
	if (f->rram)
		ramdev_region_unref(f->rram);
	if (f->rdev)
		ramdev_region_unref(f->rdev);
	if (f->ram)
		munmap(f->ram, f->ram_size);
	if (f->dev)
		munmap(f->dev, f->dev_size);
	if (f->ram_fd >= 0)
		close(f->ram_fd);
	if (f->dev_fd >= 0)
		close(f->dev_fd);
	free(f);
}

const struct vhost_front_info *vhost_front_info(const struct vhost_front *f)
{
	return &f->info;
}

uint64_t vhost_front_data_gpa(const struct vhost_front *f)
{
	return f->data_gpa;
}

void *vhost_front_host(struct vhost_front *f, uint64_t gpa, uint64_t len)
{
	if (gpa >= f->data_gpa && len <= f->ram_size - f->data_gpa &&
	    gpa - f->data_gpa <= f->ram_size - f->data_gpa - len)
		return f->ram + gpa;
	if (f->dev_size && gpa >= f->dev_gpa && len <= f->dev_size &&
	    gpa - f->dev_gpa <= f->dev_size - len)
		return f->dev + (gpa - f->dev_gpa);
	return NULL;
}

/* ---- requests ---- */

int vhost_front_submit(struct vhost_front *f, unsigned qi, uint32_t type,
		       uint64_t sector, uint64_t gpa, uint32_t len,
		       void *opaque)
{
	struct fq *q;
	struct vring_drv_buf out[2], in[2];
	unsigned nout = 1, nin = 0;
	uint64_t hdr[2];
	uint16_t slot;
	int head;

	if (qi >= f->info.num_queues)
		return -EINVAL;
	q = &f->q[qi];
	if (!q->nfree)
		return -ENOSPC;
	slot = q->free_slots[q->nfree - 1];
	hdr[0] = htole64(type); /* u32 type, u32 ioprio 0 */
	hdr[1] = htole64(sector);
	memcpy(f->ram + q->base + f->lay.hdr + 16u * slot, hdr, 16);
	f->ram[q->base + f->lay.status + slot] = 0xff;
	out[0] = (struct vring_drv_buf){ q->base + f->lay.hdr + 16u * slot, 16 };
	if (len && type == VIRTIO_BLK_T_OUT)
		out[nout++] = (struct vring_drv_buf){ gpa, len };
	else if (len)
		in[nin++] = (struct vring_drv_buf){ gpa, len };
	in[nin++] = (struct vring_drv_buf){ q->base + f->lay.status + slot, 1 };
	head = vring_drv_add(q->drv, out, nout, in, nin, f->indirect);
	if (head < 0)
		return head;
	q->nfree--;
	q->slot_of[head] = slot;
	q->opaque[slot] = opaque;
	return 0;
}

int vhost_front_kick(struct vhost_front *f, unsigned qi)
{
	uint64_t one = 1;

	if (qi >= f->info.num_queues)
		return -EINVAL;
	if (!vring_drv_publish(f->q[qi].drv))
		return 0;
	if (write(f->q[qi].kick, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

unsigned vhost_front_reap(struct vhost_front *f, unsigned qi,
			  struct vhost_front_done *done, unsigned max)
{
	struct fq *q = &f->q[qi];
	unsigned n = 0;
	uint16_t head;
	uint32_t len;

	while (n < max && vring_drv_get_used(q->drv, &head, &len) == 1) {
		uint16_t slot;

		q->reaped++;
		if (head >= f->qsize)
			continue; /* a broken back end; the test sees a loss */
		slot = q->slot_of[head];
		done[n].opaque = q->opaque[slot];
		done[n].len = len;
		done[n].status = f->ram[q->base + f->lay.status + slot];
		q->free_slots[q->nfree++] = slot;
		n++;
	}
	return n;
}

unsigned vhost_front_inflight(const struct vhost_front *f, unsigned qi)
{
	return qi < f->info.num_queues ? f->qsize - f->q[qi].nfree : 0;
}

int vhost_front_wait(struct vhost_front *f, int timeout_ms)
{
	struct pollfd pfd[VHOST_FRONT_MAX_QUEUES];
	unsigned n = 0;
	uint64_t v;
	int ret;

	for (unsigned i = 0; i < f->info.num_queues; i++) {
		struct fq *q = &f->q[i];

		if (!vhost_front_inflight(f, i))
			continue;
		vring_drv_enable_intr(q->drv, true);
		/* Our used_event store before the device's used idx load. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (vring_drv_used_idx(q->drv) != q->reaped)
			return 1;
		pfd[n++] = (struct pollfd){ .fd = q->call, .events = POLLIN };
	}
	if (n == 0)
		return 0;
	do
		ret = poll(pfd, n, timeout_ms);
	while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	for (unsigned i = 0; i < n; i++)
		if (pfd[i].revents & POLLIN)
			(void)!read(pfd[i].fd, &v, sizeof(v));
	return ret > 0;
}
