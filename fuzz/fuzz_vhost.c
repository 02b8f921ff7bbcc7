// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the vhost-user message handler.  Each input decodes to
 * a sequence of messages sent over a fresh socketpair to the back end, each
 * handled with ramdev_vhost_handle(); a record may carry fds (a memfd of
 * guest memory, an eventfd), cut its message short and close the socket,
 * or kick queue 0.  Replies are drained (fds in them closed).  The back end
 * must never crash, leak or touch memory it did not map.
 *
 * Record: u8 ops, u32 request, u32 flags, u16 size, size payload bytes.
 *   ops bit 0: pass the memfd; bit 1: pass an eventfd; bit 2: pass the
 *   memfd 10 times; bit 3: send only half the message and close; bit 4:
 *   kick queue 0 after the message; bit 5: call ramdev_vhost_complete();
 *   bits 6-7, until the memfd is first passed: resize it first, to 4 KiB,
 *   half of MEM_SIZE plus 2 KiB, or 0 (so regions may reach past its end).
 *   It is MEM_SIZE otherwise; not resized once passed, since a front end
 *   that shrinks memory the back end mapped gets SIGBUS in the back end
 *   (vhost-user trusts the front end with that, as with the mapping).
 *
 * One back end and one memfd serve every input: a fresh back end per input
 * cost an address space, whose ramdev_as_free() waits for an RCU barrier
 * (~10 ms on liburcu's call_rcu thread), which held the target to ~90
 * inputs a second.  Between inputs the connection is closed
 * (ramdev_vhost_detach(), what the daemon does when a front end goes away)
 * and check_reset() asserts that nothing of the last input survives it, so
 * a finding replays from its input alone (checked with FUZZ_VHOST_TRACE).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ramdev/blk.h"
#include "ramdev/vhost.h"
#include "scm_fds.h"
#include "vhost/vhost_priv.h"

#define MEM_SIZE (1u << 20)

static struct ramdev_blk *blk;
static struct ramdev_vhost *v;
static int mem = -1;       /* one memfd for every input ... */
static bool mem_dirty;     /* ... zeroed when the last input passed it */
static off_t mem_size = MEM_SIZE;

/*
 * FUZZ_VHOST_TRACE=1 prints, per input, a hash of everything the back end
 * answered (reply bytes, return values, last error): replaying inputs one
 * per process and all in one process must print the same lines, which is
 * how the reset between inputs was checked (fuzz_vhost.c's commit message).
 */
static bool trace;
static uint64_t trace_hash;

static void trace_mix(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) /* FNV-1a */
		trace_hash = (trace_hash ^ b[i]) * 0x100000001b3ull;
}

static void trace_int(int x)
{
	trace_mix(&x, sizeof(x));
}

static void quiet(void *opaque, int level, const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

static void init(void)
{
	static const struct ramdev_vhost_devmem dm = { 0x80000, 0x10000 };
	struct ramdev_blk_options bo = { .engine = RAMDEV_BLK_ENGINE_SYNC };
	struct ramdev_vhost_options vo = {
		.queue_size = 256, .log_fn = quiet, .devmem = &dm, .ndevmem = 1,
	};
	int img = memfd_create("fuzz-vhost-img", MFD_CLOEXEC);

	mem = memfd_create("fuzz-vhost-mem", MFD_CLOEXEC);
	if (img < 0 || mem < 0 || ftruncate(img, 1 << 20) ||
	    ftruncate(mem, MEM_SIZE))
		abort();
	bo.fd = img;
	if (ramdev_blk_open(&blk, &bo))
		abort();
	close(img);
	ramdev_blk_set_log(blk, quiet, NULL);
	vo.blk = blk;
	if (ramdev_vhost_new(&v, &vo))
		abort();
	trace = getenv("FUZZ_VHOST_TRACE") != NULL;
}

/*
 * After ramdev_vhost_detach() the back end must be as ramdev_vhost_new()
 * left it, in everything a later message can observe: no guest memory,
 * inflight region, negotiated feature or ring state.  Not compared: the log
 * rate limit and message name (logging only; the log is discarded here),
 * last_err (attach clears it), the capacity of the region array, and the
 * ring fields that are rewritten before use (addr behind addr_set, counter
 * and err_signalled at each start).
 */
static void check_reset(void)
{
	if (v->sock != -1 || v->nmem || v->region_seq || v->inflight_base ||
	    v->inflight_len || v->features || v->protocol || v->features_set)
		abort();
	for (unsigned i = 0; i < RAMDEV_BLK_MAX_QUEUES; i++) {
		const struct vhost_vring *vr = &v->vring[i];

		if (vr->vq || vr->attached || vr->num || vr->num_set ||
		    vr->addr_set || vr->enabled || vr->base || vr->inflight ||
		    vr->notify_pending || vr->kick_fd != -1 ||
		    vr->call_fd != -1 || vr->err_fd != -1)
			abort();
	}
}

static void send_msg(int sock, const uint8_t *hdr, const uint8_t *p,
		     uint16_t size, uint8_t ops)
{
	union {
		char buf[CMSG_SPACE(10 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov[2] = { { (void *)hdr, 12 }, { (void *)p, size } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	int fds[10], nfds = 0, efd = -1;

	if (ops & 4)
		for (; nfds < 10; nfds++)
			fds[nfds] = mem;
	else if (ops & 1)
		fds[nfds++] = mem;
	if (nfds)
		mem_dirty = true;
	if ((ops & 2) && nfds < 10) {
		efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (efd >= 0)
			fds[nfds++] = efd;
	}
	if (ops & 8) { /* half a message */
		if (size)
			iov[1].iov_len = size / 2;
		else
			iov[0].iov_len = 6;
	}
	scm_put_fds(&mh, ctl.buf, fds, nfds);
	(void)sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (efd >= 0)
		close(efd);
}

static void drain(int sock)
{
	union {
		char buf[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	char buf[4096];

	for (;;) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
		};

		ssize_t n = recvmsg(sock, &mh, MSG_DONTWAIT);

		if (n <= 0)
			return;
		if (trace)
			trace_mix(buf, (size_t)n);
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
		     c = CMSG_NXTHDR(&mh, c)) {
			int fd;

			if (c->cmsg_type != SCM_RIGHTS)
				continue;
			for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
				close(fd);
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	int sv[2], ret;

	if (!blk)
		init();
	trace_hash = 0xcbf29ce484222325ull;
	/* Fresh guest memory each run, rings left by the last input gone:
	 * only the back end writes it, and only where an input passed it. */
	if (mem_dirty || mem_size != MEM_SIZE) {
		if (ftruncate(mem, 0) || ftruncate(mem, MEM_SIZE))
			abort();
		mem_dirty = false;
		mem_size = MEM_SIZE;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	if (ramdev_vhost_attach(v, sv[0]))
		abort();
	while (len >= 11) {
		uint8_t ops = data[0], hdr[12];
		uint16_t size;

		memcpy(hdr, data + 1, 8);
		memcpy(&size, data + 9, 2);
		data += 11;
		len -= 11;
		if (size > len)
			size = (uint16_t)len;
		memcpy(hdr + 8, &(uint32_t){ size }, 4);
		if ((ops & 0xc0) && !mem_dirty) {
			static const off_t sizes[4] = {
				MEM_SIZE, 0x1000, MEM_SIZE / 2 + 0x800, 0
			};

			mem_size = sizes[ops >> 6];
			if (ftruncate(mem, mem_size))
				abort();
		}
		send_msg(sv[1], hdr, data, size, ops);
		data += size;
		len -= size;
		if (ops & 8)
			shutdown(sv[1], SHUT_WR);
		ret = ramdev_vhost_handle(v);
		if (trace) {
			trace_int(ret);
			trace_int((int)ramdev_vhost_last_error(v));
		}
		if (ret < 0)
			break;
		if (ops & 16) {
			ret = ramdev_vhost_kick(v, 0);
			trace_int(ret);
		}
		if (ops & 32) {
			ret = ramdev_vhost_complete(v);
			trace_int(ret);
		}
		drain(sv[1]);
	}
	ramdev_vhost_detach(v);
	check_reset();
	if (trace)
		fprintf(stderr, "fuzz_vhost trace %016llx\n",
			(unsigned long long)trace_hash);
	close(sv[0]);
	close(sv[1]);
	return 0;
}
