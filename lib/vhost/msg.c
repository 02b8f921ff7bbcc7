// SPDX-License-Identifier: MIT
/*
 * vhost-user messages: receive one, check its header, size and fds against
 * the request's rules, hand it to its handler, answer it (its own reply,
 * or the REPLY_ACK u64).
 *
 * Framing rules break the stream (we cannot tell where the next message
 * starts), so they drop the connection: a short header or payload, a bad
 * version, a payload above VHU_MAX_PAYLOAD.  A message whose frame is sound
 * but whose content breaks a rule is rejected and the connection carries
 * on; a request that has a reply of its own (GET_*) cannot be rejected
 * without leaving the front end waiting for an answer we cannot give, so
 * those drop the connection as well.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "vhost_priv.h"

typedef int vhost_handler(struct ramdev_vhost *v, struct vhu_msg *m);

struct vhu_rule {
	const char *name;
	uint32_t min, max;   /* payload size bounds */
	unsigned fds_max;    /* fds the request may carry (checked again by
			      * handlers that need an exact count) */
	bool reply;          /* has a reply of its own */
	vhost_handler *fn;
};

static int h_get_features(struct ramdev_vhost *v, struct vhu_msg *m)
{
	uint64_t f = vhost_features_offered(v);

	return vhost_reply(v, m, &f, sizeof(f), NULL, 0);
}

static int h_set_features(struct ramdev_vhost *v, struct vhu_msg *m)
{
	uint64_t offered = vhost_features_offered(v);

	if (m->p.u64 & ~offered)
		return vhost_reject(v, RAMDEV_VHOST_FEATURES,
				    "features 0x%llx, offered 0x%llx (extra "
				    "0x%llx)", (unsigned long long)m->p.u64,
				    (unsigned long long)offered,
				    (unsigned long long)(m->p.u64 & ~offered));
	v->features = m->p.u64;
	v->features_set = true;
	vhost_log(v, LOG_INFO, "features 0x%llx negotiated",
		  (unsigned long long)v->features);
	return 0;
}

static int h_get_protocol(struct ramdev_vhost *v, struct vhu_msg *m)
{
	uint64_t f = vhost_protocol_offered();

	return vhost_reply(v, m, &f, sizeof(f), NULL, 0);
}

static int h_set_protocol(struct ramdev_vhost *v, struct vhu_msg *m)
{
	uint64_t offered = vhost_protocol_offered();

	if (m->p.u64 & ~offered)
		return vhost_reject(v, RAMDEV_VHOST_FEATURES,
				    "protocol features 0x%llx, offered 0x%llx",
				    (unsigned long long)m->p.u64,
				    (unsigned long long)offered);
	v->protocol = m->p.u64;
	vhost_log(v, LOG_INFO, "protocol features 0x%llx negotiated",
		  (unsigned long long)v->protocol);
	return 0;
}

static int h_nop(struct ramdev_vhost *v, struct vhu_msg *m)
{
	(void)v;
	(void)m;
	return 0;
}

static int h_reset(struct ramdev_vhost *v, struct vhu_msg *m)
{
	(void)m;
	for (unsigned i = 0; i < v->num_queues; i++)
		vhost_vring_reset(&v->vring[i]);
	(void)ramdev_blk_reset(v->blk);
	v->features = 0;
	v->features_set = false;
	return 0;
}

static int h_get_queue_num(struct ramdev_vhost *v, struct vhu_msg *m)
{
	uint64_t n = v->num_queues;

	return vhost_reply(v, m, &n, sizeof(n), NULL, 0);
}

static int h_get_max_mem_slots(struct ramdev_vhost *v, struct vhu_msg *m)
{
	uint64_t n = VHU_MAX_MEM_SLOTS;

	return vhost_reply(v, m, &n, sizeof(n), NULL, 0);
}

#define S8 sizeof(uint64_t)
#define SREG (sizeof(uint64_t) + sizeof(struct vhu_region))
static const struct vhu_rule rules[RAMDEV_VHOST_USER_MAX_REQUEST] = {
	[VHU_GET_FEATURES] = { "GET_FEATURES", 0, 0, 0, true, h_get_features },
	[VHU_SET_FEATURES] = { "SET_FEATURES", S8, S8, 0, false, h_set_features },
	[VHU_SET_OWNER] = { "SET_OWNER", 0, 0, 0, false, h_nop },
	[VHU_RESET_OWNER] = { "RESET_OWNER", 0, 0, 0, false, h_reset },
	/* The region count is checked first (REGION_COUNT), then the size. */
	[VHU_SET_MEM_TABLE] = { "SET_MEM_TABLE", 8, VHU_MAX_PAYLOAD, VHU_MAX_FDS,
				false, vhost_mem_set_table },
	[VHU_SET_LOG_BASE] = { "SET_LOG_BASE", 0, VHU_MAX_PAYLOAD, 1, false, NULL },
	[VHU_SET_LOG_FD] = { "SET_LOG_FD", 0, VHU_MAX_PAYLOAD, 1, false, NULL },
	[VHU_SET_VRING_NUM] = { "SET_VRING_NUM", 8, 8, 0, false, vhost_vring_msg },
	[VHU_SET_VRING_ADDR] = { "SET_VRING_ADDR", sizeof(struct vhu_vring_addr),
				 sizeof(struct vhu_vring_addr), 0, false,
				 vhost_vring_msg },
	[VHU_SET_VRING_BASE] = { "SET_VRING_BASE", 8, 8, 0, false, vhost_vring_msg },
	[VHU_GET_VRING_BASE] = { "GET_VRING_BASE", 8, 8, 0, true,
				 vhost_vring_get_base },
	[VHU_SET_VRING_KICK] = { "SET_VRING_KICK", S8, S8, 1, false, vhost_vring_msg },
	[VHU_SET_VRING_CALL] = { "SET_VRING_CALL", S8, S8, 1, false, vhost_vring_msg },
	[VHU_SET_VRING_ERR] = { "SET_VRING_ERR", S8, S8, 1, false, vhost_vring_msg },
	[VHU_GET_PROTOCOL_FEATURES] = { "GET_PROTOCOL_FEATURES", 0, 0, 0, true,
					h_get_protocol },
	[VHU_SET_PROTOCOL_FEATURES] = { "SET_PROTOCOL_FEATURES", S8, S8, 0, false,
					h_set_protocol },
	[VHU_GET_QUEUE_NUM] = { "GET_QUEUE_NUM", 0, 0, 0, true, h_get_queue_num },
	[VHU_SET_VRING_ENABLE] = { "SET_VRING_ENABLE", 8, 8, 0, false,
				   vhost_vring_msg },
	[VHU_GET_CONFIG] = { "GET_CONFIG", sizeof(struct vhu_config_hdr),
			     sizeof(struct vhu_config_hdr) + VHU_MAX_CONFIG, 0,
			     true, vhost_get_config },
	[VHU_SET_CONFIG] = { "SET_CONFIG", sizeof(struct vhu_config_hdr),
			     sizeof(struct vhu_config_hdr) + VHU_MAX_CONFIG, 0,
			     false, vhost_set_config },
	[VHU_GET_INFLIGHT_FD] = { "GET_INFLIGHT_FD", VHU_INFLIGHT_MIN,
				  sizeof(struct vhu_inflight), 0, true,
				  vhost_inflight_get },
	[VHU_SET_INFLIGHT_FD] = { "SET_INFLIGHT_FD", VHU_INFLIGHT_MIN,
				  sizeof(struct vhu_inflight), 1, false,
				  vhost_inflight_set },
	[VHU_RESET_DEVICE] = { "RESET_DEVICE", 0, 0, 0, false, h_reset },
	[VHU_GET_MAX_MEM_SLOTS] = { "GET_MAX_MEM_SLOTS", 0, 0, 0, true,
				    h_get_max_mem_slots },
	[VHU_ADD_MEM_REG] = { "ADD_MEM_REG", SREG, SREG, 1, false, vhost_mem_add },
	[VHU_REM_MEM_REG] = { "REM_MEM_REG", SREG, SREG, 1, false, vhost_mem_rem },
};

RAMDEV_EXPORT const char *ramdev_vhost_request_name(uint32_t request)
{
	if (request < RAMDEV_VHOST_USER_MAX_REQUEST && rules[request].name)
		return rules[request].name;
	return "?";
}

static void close_fds(struct vhu_msg *m)
{
	for (unsigned i = 0; i < m->nfds; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	m->nfds = 0;
}

/* Read exactly @len bytes; 0, or -1 when the peer closed or timed out. */
static int read_full(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Take the SCM_RIGHTS fds out of @mh into @m; true if some were cut off. */
static bool take_fds(struct msghdr *mh, struct vhu_msg *m)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (m->nfds < VHU_MAX_FDS)
				m->fds[m->nfds++] = fd;
			else
				close(fd);
		}
	}
	return (mh->msg_flags & MSG_CTRUNC) != 0;
}

/*
 * Receive one message.  0; -ECONNRESET (closed before a header byte);
 * -EPROTO (framing rule broken, logged); *@fds_cut when fds were dropped.
 */
static int recv_msg(struct ramdev_vhost *v, struct vhu_msg *m, bool *fds_cut)
{
	union {
		char buf[CMSG_SPACE(VHU_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	uint8_t hdr[VHU_HDR_SIZE];
	struct iovec iov = { hdr, sizeof(hdr) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n;

	m->nfds = 0;
	do
		n = recvmsg(v->sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n == 0 || (n < 0 && errno == ECONNRESET))
		return -ECONNRESET;
	v->cur = "message header";
	if (n < 0)
		return vhost_reject(v, RAMDEV_VHOST_HDR_SHORT, "recvmsg: %s",
				    strerror(errno)), -EPROTO;
	*fds_cut = take_fds(&mh, m);
	if ((size_t)n < sizeof(hdr) &&
	    read_full(v->sock, hdr + n, sizeof(hdr) - (size_t)n)) {
		close_fds(m);
		return vhost_reject(v, RAMDEV_VHOST_HDR_SHORT,
				    "0x%zx of 0x%x header bytes before the peer "
				    "closed", (size_t)n, VHU_HDR_SIZE), -EPROTO;
	}
	memcpy(&m->request, hdr, 4);
	memcpy(&m->flags, hdr + 4, 4);
	memcpy(&m->size, hdr + 8, 4);
	v->cur = ramdev_vhost_request_name(m->request);
	if ((m->flags & VHU_VERSION_MASK) != VHU_VERSION) {
		close_fds(m);
		return vhost_reject(v, RAMDEV_VHOST_VERSION,
				    "request 0x%x flags 0x%x: version 0x%x, "
				    "expected 0x1", m->request, m->flags,
				    m->flags & VHU_VERSION_MASK), -EPROTO;
	}
	if (m->size > VHU_MAX_PAYLOAD) {
		close_fds(m);
		return vhost_reject(v, RAMDEV_VHOST_SIZE_MAX,
				    "request 0x%x size 0x%x > max 0x%x",
				    m->request, m->size, VHU_MAX_PAYLOAD), -EPROTO;
	}
	if (m->size && read_full(v->sock, m->p.bytes, m->size)) {
		close_fds(m);
		return vhost_reject(v, RAMDEV_VHOST_PAYLOAD_SHORT,
				    "request 0x%x: payload of 0x%x bytes cut "
				    "short", m->request, m->size), -EPROTO;
	}
	return 0;
}

int vhost_reply(struct ramdev_vhost *v, const struct vhu_msg *req,
		const void *payload, uint32_t size, const int *fds,
		unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(VHU_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	uint32_t hdr[3] = { req->request, VHU_VERSION | VHU_FLAG_REPLY, size };
	struct iovec iov[2] = {
		{ hdr, sizeof(hdr) }, { (void *)payload, size },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };
	ssize_t n;

	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	do
		n = sendmsg(v->sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)(sizeof(hdr) + size)) {
		vhost_log(v, LOG_ERR, "%s: reply not sent: %s", v->cur,
			  n < 0 ? strerror(errno) : "short write");
		return -EPROTO;
	}
	return 0;
}

/* Frame is sound: check size and fds against the request's rule. */
static int check_msg(struct ramdev_vhost *v, const struct vhu_rule *r,
		     struct vhu_msg *m, bool fds_cut)
{
	if (!r->fn)
		return vhost_reject(v, RAMDEV_VHOST_UNKNOWN,
				    "request 0x%x (%s) is not supported",
				    m->request, ramdev_vhost_request_name(m->request));
	if (m->size < r->min || m->size > r->max)
		return vhost_reject(v, RAMDEV_VHOST_MSG_SIZE,
				    "payload size 0x%x, expected 0x%x..0x%x",
				    m->size, r->min, r->max);
	if (fds_cut || m->nfds > r->fds_max)
		return vhost_reject(v, RAMDEV_VHOST_FDS_EXTRA,
				    "0x%x fds%s, at most 0x%x", m->nfds,
				    fds_cut ? " (more cut off)" : "", r->fds_max);
	return 0;
}

RAMDEV_EXPORT int ramdev_vhost_handle(struct ramdev_vhost *v)
{
	static const struct vhu_rule unknown = { "?", 0, 0, 0, false, NULL };
	struct vhu_msg m;
	const struct vhu_rule *r;
	bool fds_cut = false;
	int ret;

	if (!v || v->sock < 0)
		return -EINVAL;
	v->last_err = RAMDEV_VHOST_OK;
	ret = recv_msg(v, &m, &fds_cut);
	if (ret)
		return ret;
	r = m.request < RAMDEV_VHOST_USER_MAX_REQUEST && rules[m.request].name
		    ? &rules[m.request] : &unknown;
	ret = check_msg(v, r, &m, fds_cut);
	if (!ret)
		ret = r->fn(v, &m); /* takes the fds it keeps (sets them -1) */
	close_fds(&m);
	if (ret == -EPROTO)
		return ret;
	if (r->reply) {
		/* Rejected with no answer to give: see the top. */
		if (ret)
			vhost_log(v, LOG_WARNING, "%s: rejected, dropping the "
				  "connection (the request needs a reply)",
				  v->cur);
		return ret ? -EPROTO : 0;
	}
	if ((m.flags & VHU_FLAG_NEED_REPLY) &&
	    (v->protocol & VHU_BIT(VHU_PF_REPLY_ACK))) {
		uint64_t ack = ret ? 1 : 0;

		if (vhost_reply(v, &m, &ack, sizeof(ack), NULL, 0))
			return -EPROTO;
	}
	return 0;
}
