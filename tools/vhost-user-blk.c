// SPDX-License-Identifier: MIT
/*
 * ramdev-vhost-user-blk: a vhost-user-blk back end on an image file.
 *
 * The program is an event loop around the vhost-user layer (ramdev/vhost.h)
 * and the virtio-blk device (ramdev/blk.h).  One epoll loop serves the
 * listening socket, the front end's connection, every queue's kick fd, the
 * device's completion fd and a signalfd.
 *
 * Why one loop and not one thread per queue: a ramdev_blk device is driven
 * from one thread at a time (blk.h), so queue threads would serialise on a
 * lock around every blk call anyway, and the control path (memory table,
 * ring start/stop) would need to stop them before each change.  With one
 * loop a control message is handled between two kicks: a ring is never
 * changed while its requests are being popped.  Throughput scales with
 * io_uring's asynchronous I/O, not with threads.  To use more cores, run
 * one daemon per device.
 *
 * Exit status: 0 after SIGINT/SIGTERM (requests finished, image flushed),
 * 1 on a setup or flush failure, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "ramdev/blk.h"
#include "ramdev/vhost.h"

#define PROG "ramdev-vhost-user-blk"
#ifndef RAMDEV_VERSION
#define RAMDEV_VERSION "unknown"
#endif
#define MAX_DEVMEM 16

/* epoll tags: the low 32 bits carry the queue index of a kick fd. */
enum tag { TAG_LISTEN = 1, TAG_CONN, TAG_BLK, TAG_SIGNAL, TAG_KICK, TAG_TIMER };
#define TAG(t, q) (((uint64_t)(t) << 32) | (q))

struct daemon {
	const char *socket_path;
	const char *image;
	bool read_only, direct, print_stats, verbose, no_merge;
	unsigned num_queues, queue_size, dma_width;
	enum ramdev_blk_engine engine;
	const char *serial;
	struct ramdev_vhost_devmem devmem[MAX_DEVMEM];
	unsigned ndevmem;

	int ep, lfd, conn, sfd;
	unsigned delay_ms; /* RAMDEV_VHOST_COMPLETE_DELAY_MS (tests) */
	int tfd;           /* its timer */
	struct ramdev_blk *blk;
	struct ramdev_vhost *vhost;
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, PROG ": %s\n", buf);
}

static void log_cb(void *opaque, int level, const char *msg)
{
	struct daemon *d = opaque;
	int saved = errno;

	if (level <= LOG_INFO || d->verbose)
		say("%s", msg);
	errno = saved;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " --socket PATH --image FILE [options]\n"
"\n"
"A vhost-user-blk back end (QEMU: -chardev socket,id=c,path=PATH\n"
"-device vhost-user-blk-pci,chardev=c; guest memory must be shared, e.g.\n"
"-object memory-backend-memfd,share=on).  It listens on PATH (a stale\n"
"socket there is removed), serves one front end at a time and, when it\n"
"goes away, waits for the next; a restarted daemon resubmits the requests\n"
"a killed one had in flight (inflight tracking, with QEMU's\n"
"-chardev socket,...,reconnect=1).\n"
"\n"
"Options:\n"
"  --socket PATH          UNIX socket to listen on (required)\n"
"  --image FILE           raw image file or block device (required)\n"
"  --read-only            refuse writes (VIRTIO_BLK_F_RO is offered)\n"
"  --num-queues N         request queues, 1..64 (default 1)\n"
"  --queue-size N         largest vring size accepted, a power of two\n"
"                         up to 32768 (default 1024)\n"
"  --engine uring|sync    io_uring, or preadv/pwritev inline (default: io_uring\n"
"                         if the kernel allows it)\n"
"  --direct               open the image with O_DIRECT (no host page cache)\n"
"  --serial ID            the GET_ID answer (at most 20 bytes used)\n"
"  --device-memory GPA:SIZE\n"
"                         guest-physical range that is device memory, e.g.\n"
"                         0x240000000:4G (numbers hex with 0x or decimal;\n"
"                         SIZE may end in K, M or G).  Repeatable (up to 16).\n"
"                         Guest memory there is RAM-device memory: accessed\n"
"                         only with exact-width copies, never handed to the\n"
"                         kernel (I/O is staged).  A region partly inside is\n"
"                         split.  Regions whose fd is a char device or a sysfs\n"
"                         file (a PCI resourceN) are device memory anyway.\n"
"  --dma-width N          widest access (bytes, a power of two 1..64) the\n"
"                         daemon's own copies make in device memory: 8 by\n"
"                         default; 4 for a BAR that takes only 32-bit\n"
"                         accesses, 64 for one mapped write-combining\n"
"  --no-merge             one system call per request (default: reads or\n"
"                         writes of up to 32 KiB that lie back to back in\n"
"                         the image go as one, like QEMU's request-merging)\n"
"  --print-stats          print the statistics at exit\n"
"  --verbose              also print debug messages\n"
"  --help, --version\n"
"\n"
"Log lines go to stderr, prefixed \"" PROG ": \"; each memory region added:\n"
"  region N: gpa 0x... size 0x... fd-offset 0x... ram\n"
"  region N: gpa 0x... size 0x... fd-offset 0x... ramd (device memory: WHY)\n"
"Statistics (SIGUSR1, and at exit with --print-stats), decimal:\n"
"  stats: queue Q: requests N read-bytes N write-bytes N devmem-bytes N errors N\n"
"  stats: total: requests N read-bytes N write-bytes N devmem-bytes N errors N\n"
"devmem-bytes are data bytes whose guest buffers lay in device memory;\n"
"errors are requests completed with a status other than OK.\n"
"\n"
"SIGINT/SIGTERM: stop taking requests, finish those in flight, flush the\n"
"image, exit 0.  Exit 1: setup or flush failure; 2: bad usage.\n"
"\n"
"Testing: RAMDEV_VHOST_COMPLETE_DELAY_MS=N in the environment holds finished\n"
"requests back N ms before they are pushed to the guest (io_uring engine),\n"
"so a kill -9 finds requests in flight (inflight tracking).\n");
}

static bool parse_u64(const char *s, uint64_t *out, bool suffix)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!*s || *s == '-')
		return false;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return false;
	if (suffix && *end) {
		unsigned shift = 0;

		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: return false;
		}
		if (v > (UINT64_MAX >> shift))
			return false;
		v <<= shift;
		end++;
	}
	if (*end)
		return false;
	*out = v;
	return true;
}

static bool parse_devmem(struct daemon *d, const char *arg)
{
	char buf[128], *colon;
	uint64_t gpa, size, last;

	if (d->ndevmem >= MAX_DEVMEM || strlen(arg) >= sizeof(buf))
		return false;
	strcpy(buf, arg);
	colon = strchr(buf, ':');
	if (!colon)
		return false;
	*colon = 0;
	if (!parse_u64(buf, &gpa, false) || !parse_u64(colon + 1, &size, true) ||
	    size == 0 || __builtin_add_overflow(gpa, size - 1, &last))
		return false;
	d->devmem[d->ndevmem].gpa = gpa;
	d->devmem[d->ndevmem++].size = size;
	return true;
}

static int parse_args(struct daemon *d, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "image", required_argument, NULL, 'i' },
		{ "read-only", no_argument, NULL, 'r' },
		{ "num-queues", required_argument, NULL, 'q' },
		{ "queue-size", required_argument, NULL, 'Q' },
		{ "engine", required_argument, NULL, 'e' },
		{ "direct", no_argument, NULL, 'd' },
		{ "serial", required_argument, NULL, 'S' },
		{ "device-memory", required_argument, NULL, 'm' },
		{ "dma-width", required_argument, NULL, 'w' },
		{ "no-merge", no_argument, NULL, 'M' },
		{ "print-stats", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	uint64_t n;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': d->socket_path = optarg; break;
		case 'i': d->image = optarg; break;
		case 'r': d->read_only = true; break;
		case 'd': d->direct = true; break;
		case 'S': d->serial = optarg; break;
		case 'p': d->print_stats = true; break;
		case 'M': d->no_merge = true; break;
		case 'w':
			if (!parse_u64(optarg, &n, false) || n < 1 || n > 64 ||
			    (n & (n - 1)))
				goto bad;
			d->dma_width = (unsigned)n;
			break;
		case 'v': d->verbose = true; break;
		case 'q':
			if (!parse_u64(optarg, &n, false) || n < 1 ||
			    n > RAMDEV_BLK_MAX_QUEUES)
				goto bad;
			d->num_queues = (unsigned)n;
			break;
		case 'Q':
			if (!parse_u64(optarg, &n, false) || n < 1 || n > 32768 ||
			    (n & (n - 1)))
				goto bad;
			d->queue_size = (unsigned)n;
			break;
		case 'e':
			if (!strcmp(optarg, "uring"))
				d->engine = RAMDEV_BLK_ENGINE_URING;
			else if (!strcmp(optarg, "sync"))
				d->engine = RAMDEV_BLK_ENGINE_SYNC;
			else
				goto bad;
			break;
		case 'm':
			if (!parse_devmem(d, optarg))
				goto bad;
			break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf(PROG " " RAMDEV_VERSION "\n"); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind < argc || !d->socket_path || !d->image) {
		say("--socket and --image are required (see --help)");
		return -1;
	}
	return 0;
bad:
	for (const struct option *o = opts; o->name; o++)
		if (o->val == c)
			say("bad value for --%s: '%s' (see --help)", o->name,
			    optarg);
	return -1;
}

static void watch_cb(void *opaque, int fd, unsigned queue, bool add)
{
	struct daemon *d = opaque;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG(TAG_KICK, queue) };

	if (epoll_ctl(d->ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, fd, &ev))
		say("epoll %s kick fd %d of queue %u: %s", add ? "add" : "del",
		    fd, queue, strerror(errno));
}

static void print_stats(struct daemon *d)
{
	struct ramdev_blk_queue_stats t = { 0 }, s;

	for (unsigned q = 0; q < d->num_queues; q++) {
		if (ramdev_blk_get_queue_stats(d->blk, q, &s))
			continue;
		say("stats: queue %u: requests %" PRIu64 " read-bytes %" PRIu64
		    " write-bytes %" PRIu64 " devmem-bytes %" PRIu64 " errors %"
		    PRIu64, q, s.requests, s.bytes_read, s.bytes_written,
		    s.bytes_devmem, s.errors);
		t.requests += s.requests;
		t.bytes_read += s.bytes_read;
		t.bytes_written += s.bytes_written;
		t.bytes_devmem += s.bytes_devmem;
		t.errors += s.errors;
	}
	say("stats: total: requests %" PRIu64 " read-bytes %" PRIu64
	    " write-bytes %" PRIu64 " devmem-bytes %" PRIu64 " errors %" PRIu64,
	    t.requests, t.bytes_read, t.bytes_written, t.bytes_devmem, t.errors);
}

static int epoll_add(struct daemon *d, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(d->ep, EPOLL_CTL_ADD, fd, &ev);
}

static int open_image(struct daemon *d)
{
	struct ramdev_blk_options o = {
		.fd = -1,
		.read_only = d->read_only,
		.serial = d->serial,
		.num_queues = d->num_queues,
		.engine = d->engine,
		.no_merge = d->no_merge,
	};
	int fd = -1, ret;

	if (d->direct) {
		fd = open(d->image, (d->read_only ? O_RDONLY : O_RDWR) |
				    O_DIRECT | O_CLOEXEC);
		if (fd < 0) {
			say("%s: open with O_DIRECT: %s", d->image, strerror(errno));
			return -1;
		}
		o.fd = fd;
	} else {
		o.path = d->image;
	}
	ret = ramdev_blk_open(&d->blk, &o);
	if (fd >= 0)
		close(fd);
	if (ret) {
		say("%s: %s", d->image, strerror(-ret));
		return -1;
	}
	ramdev_blk_set_log(d->blk, log_cb, d);
	say("image %s: %" PRIu64 " sectors, %s, engine %s%s, %u queue(s)",
	    d->image, ramdev_blk_capacity(d->blk),
	    d->read_only ? "read-only" : "read-write",
	    ramdev_blk_engine(d->blk) == RAMDEV_BLK_ENGINE_URING ? "uring" : "sync",
	    d->direct ? ", O_DIRECT" : "", d->num_queues);
	return 0;
}

static int listen_on(struct daemon *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;

	if (strlen(d->socket_path) >= sizeof(sa.sun_path)) {
		say("socket path too long: %s", d->socket_path);
		return -1;
	}
	strcpy(sa.sun_path, d->socket_path);
	/* A socket left by a daemon that died (kill -9) is removed; one a
	 * live daemon listens on is not taken over. */
	if (lstat(d->socket_path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (probe >= 0 &&
		    connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			say("%s: another back end is listening there",
			    d->socket_path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(d->socket_path);
	}
	d->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (d->lfd < 0 || bind(d->lfd, (struct sockaddr *)&sa, sizeof(sa))) {
		/* Whatever is at the path is not ours: teardown() must not
		 * unlink it. */
		say("listen on %s: %s", d->socket_path, strerror(errno));
		if (d->lfd >= 0)
			close(d->lfd);
		d->lfd = -1;
		return -1;
	}
	if (listen(d->lfd, 1)) {
		say("listen on %s: %s", d->socket_path, strerror(errno));
		return -1; /* the socket file is ours: teardown() removes it */
	}
	say("listening on %s", d->socket_path);
	return 0;
}

static void conn_accept(struct daemon *d)
{
	struct timeval tv = { .tv_sec = 5 };
	int fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (d->conn >= 0) {
		say("a front end is already connected: connection refused");
		close(fd);
		return;
	}
	/* A front end that stops mid-message must not hang the loop. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (ramdev_vhost_attach(d->vhost, fd) || epoll_add(d, fd, TAG(TAG_CONN, 0))) {
		close(fd);
		return;
	}
	d->conn = fd;
	say("front end connected");
}

static void conn_close(struct daemon *d, const char *why)
{
	if (d->conn < 0)
		return;
	(void)epoll_ctl(d->ep, EPOLL_CTL_DEL, d->conn, NULL);
	ramdev_vhost_detach(d->vhost);
	close(d->conn);
	d->conn = -1;
	say("front end disconnected (%s); waiting for the next", why);
}

/* Returns true when the loop must end. */
static bool on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	if (read(d->sfd, &si, sizeof(si)) != sizeof(si))
		return false;
	if (si.ssi_signo == SIGUSR1) {
		print_stats(d);
		return false;
	}
	say("signal %u: finishing requests in flight", si.ssi_signo);
	return true;
}

static void on_event(struct daemon *d, uint64_t tag)
{
	int ret;

	switch (tag >> 32) {
	case TAG_LISTEN:
		conn_accept(d);
		break;
	case TAG_CONN:
		ret = ramdev_vhost_handle(d->vhost);
		if (ret == -ECONNRESET)
			conn_close(d, "closed by the peer");
		else if (ret < 0)
			conn_close(d, "protocol error");
		break;
	case TAG_BLK:
		if (d->delay_ms) {
			/* Tests: hold completions back (see --help). */
			struct itimerspec it = {
				.it_value.tv_sec = d->delay_ms / 1000,
				.it_value.tv_nsec = (d->delay_ms % 1000) * 1000000L,
			};

			(void)epoll_ctl(d->ep, EPOLL_CTL_DEL,
					ramdev_blk_event_fd(d->blk), NULL);
			(void)timerfd_settime(d->tfd, 0, &it, NULL);
			break;
		}
		(void)ramdev_vhost_complete(d->vhost);
		break;
	case TAG_TIMER: {
		uint64_t n;

		(void)!read(d->tfd, &n, sizeof(n));
		(void)ramdev_vhost_complete(d->vhost);
		(void)epoll_add(d, ramdev_blk_event_fd(d->blk), TAG(TAG_BLK, 0));
		break;
	}
	case TAG_KICK:
		(void)ramdev_vhost_kick(d->vhost, (unsigned)(tag & 0xffffffffu));
		break;
	}
}

static int setup(struct daemon *d)
{
	struct ramdev_vhost_options vo = {
		.queue_size = d->queue_size,
		.devmem = d->devmem,
		.ndevmem = d->ndevmem,
		.devmem_dma_width = d->dma_width,
		.log_fn = log_cb,
		.watch = watch_cb,
	};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sfd = signalfd(-1, &set, SFD_CLOEXEC);
	d->ep = epoll_create1(EPOLL_CLOEXEC);
	if (d->sfd < 0 || d->ep < 0) {
		say("signalfd/epoll: %s", strerror(errno));
		return -1;
	}
	if (open_image(d))
		return -1;
	vo.blk = d->blk;
	vo.log_opaque = d;
	vo.watch_opaque = d;
	if (ramdev_vhost_new(&d->vhost, &vo)) {
		say("out of memory");
		return -1;
	}
	if (listen_on(d) || epoll_add(d, d->lfd, TAG(TAG_LISTEN, 0)) ||
	    epoll_add(d, d->sfd, TAG(TAG_SIGNAL, 0)) ||
	    epoll_add(d, ramdev_blk_event_fd(d->blk), TAG(TAG_BLK, 0)))
		return -1;
	if (getenv("RAMDEV_VHOST_COMPLETE_DELAY_MS")) {
		d->delay_ms = (unsigned)atoi(getenv("RAMDEV_VHOST_COMPLETE_DELAY_MS"));
		d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
		if (d->tfd < 0 || epoll_add(d, d->tfd, TAG(TAG_TIMER, 0)))
			return -1;
		say("testing: completions held back %u ms", d->delay_ms);
	}
	for (unsigned i = 0; i < d->ndevmem; i++)
		say("device memory: gpa 0x%" PRIx64 " size 0x%" PRIx64,
		    d->devmem[i].gpa, d->devmem[i].size);
	if (d->dma_width)
		say("device memory: DMA width %u", d->dma_width);
	if (d->no_merge)
		say("request merging off");
	return 0;
}

/* Everything setup() made, whether or not it got to the end: a failed
 * start-up frees what it had, so the error path is as clean as the exit. */
static void teardown(struct daemon *d)
{
	ramdev_vhost_free(d->vhost);
	ramdev_blk_close(d->blk);
	if (d->lfd >= 0) {
		close(d->lfd);
		unlink(d->socket_path);
	}
	if (d->sfd >= 0)
		close(d->sfd);
	if (d->tfd >= 0)
		close(d->tfd);
	if (d->ep >= 0)
		close(d->ep);
}

int main(int argc, char **argv)
{
	struct daemon d = {
		.num_queues = 1, .queue_size = 1024,
		.ep = -1, .lfd = -1, .conn = -1, .sfd = -1, .tfd = -1,
	};
	bool stop = false;
	int status = 0;

	if (parse_args(&d, argc, argv))
		return 2;
	if (setup(&d)) {
		teardown(&d);
		return 1;
	}
	while (!stop) {
		struct epoll_event ev[16];
		int n = epoll_wait(d.ep, ev, 16, -1);

		if (n < 0 && errno != EINTR) {
			say("epoll_wait: %s", strerror(errno));
			status = 1;
			break;
		}
		for (int i = 0; i < n && !stop; i++) {
			if ((ev[i].data.u64 >> 32) == TAG_SIGNAL)
				stop = on_signal(&d);
			else
				on_event(&d, ev[i].data.u64);
		}
	}
	/* Stop taking requests, finish what is in flight, flush. */
	if (ramdev_vhost_quiesce(d.vhost)) {
		say("flush failed");
		status = 1;
	}
	conn_close(&d, "shutting down");
	if (d.print_stats)
		print_stats(&d);
	teardown(&d);
	say("exit %d", status);
	return status;
}
