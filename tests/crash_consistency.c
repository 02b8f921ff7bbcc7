// SPDX-License-Identifier: MIT
/*
 * Crash consistency of ramdev-vhost-user-blk (issue 16 item 4): kill -9 the
 * daemon in the middle of a write stream and check that no acknowledged
 * write is lost.
 *
 * Each run: a fresh image; the daemon on it (buffered or --direct; its
 * default engine, io_uring where the kernel allows it, on odd runs, sync
 * on even ones; io_uring completions held back 2 ms in runs 3 and 7, so
 * more writes are done but unacknowledged at the kill);
 * drivers/vhost_front drives two queues at depth 16 each with writes of
 * mixed sizes (512 B .. 64 KiB, some not 4 KiB aligned) and FLUSHes
 * interleaved (~1 in 16 requests).  Every 512-byte sector written carries
 * its sector number, the write's generation (1, 2, ... in submission
 * order) and a filler derived from both, so the check can tell which write
 * a sector holds, or that it is torn.  Two writes in flight never overlap,
 * so each sector's writes are ordered.  At a random point, 0 .. 1.5 s
 * after the first FLUSH covering a write completed (seeded, printed), a
 * thread sends the daemon SIGKILL, wherever the front end is then;
 * completions the daemon published in the used rings before it died are
 * reaped too (a guest would see them).
 *
 * Recorded: a write is acknowledged when its used element has status OK; a
 * FLUSH covers the writes acknowledged before it was submitted (what a
 * guest may rely on: writes completed before the FLUSH; a write still in
 * flight then is not covered), once it completes with OK.
 * Checked, for every sector, against the image file read afterwards:
 *  - it holds a write to that sector (or zeros: never written), not torn;
 *  - flushed: the newest write covered by a completed FLUSH, or a later one;
 *  - acked: the newest acknowledged write, or the one in flight after it;
 *  - ahead of a FLUSH (ramdev's own rule, stronger than virtio's): the
 *    newest write submitted on a queue before a FLUSH that completed on
 *    that queue, acknowledged or not (see expectations()).
 * All must hold in both modes, and each run fails otherwise.  The daemon
 * keeps no cache of its own (a write is acknowledged after pwritev or its
 * io_uring completion), and a SIGKILL takes down the process, not the host:
 * the kernel keeps what the daemon wrote.  With --direct, "acked" proves
 * the data reached the file (the block device completed the O_DIRECT
 * write); it does not prove stable storage (the device's write cache,
 * ext4's unwritten-extent conversion in the journal: that is what FLUSH
 * is for, and "flushed" is the contract a guest may rely on in both modes).
 *
 * Then, as root, the same check after `echo 3 > /proc/sys/vm/drop_caches`.
 * THIS IS NOT A POWER CUT: drop_caches drops only clean page-cache pages
 * and writes nothing back, so dirty (unflushed buffered) data stays in
 * memory.  What it adds: every page that was written back (all flushed
 * data, all --direct data) is read again from the block device, so it
 * proves that data reached the file system's view of the file on the
 * device, not that it is on the platter.  A power cut needs a VM-level
 * test with a block device that discards unflushed writes (dm-log-writes
 * replay, or a QEMU image behind blkdebug / a cache=unsafe disk killed
 * with the VM): not covered here.
 *
 * Last, a restarted daemon serves the image: every sector read through the
 * protocol equals the file's content.
 *
 * --canary checks the checker: after the kill it puts back zeros in one
 * sector of the newest flushed write and flips a byte in another written
 * sector; a run passes only if exactly those two are reported.
 *
 * Usage: crash_consistency DAEMON [--direct] [--canary] [--runs N]
 *        [--seed S] [--first I] [--dir DIR] [--max-ms MS]
 * Run I (0-based, from --first, default 0) uses seed S + I, and I picks
 * the engine and the delay, so each printed run can be rerun alone.
 * Exit: 0 all runs passed, 1 a failure, 77 skipped (no daemon binary).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>
#include <linux/virtio_blk.h>

#include "vhost_backend.h"
#include "vhost_front.h"

#define IMG_SIZE (16u << 20)
#define NSECT (IMG_SIZE / 512u)
#define NQ 2u
#define QD 16u                  /* per queue */
#define SLOT (64u << 10)        /* largest write */
#define MAGIC 0x7261636b53454354ull /* "racKSECT" */

struct sect_hdr {
	uint64_t magic, sector, gen, run;
};

struct wrec {
	uint32_t sector, nsect;
	uint32_t ack;      /* acknowledgment number (1, 2, ...), 0: none */
	uint32_t q, qseq;  /* queue, and place in its avail ring order */
};

struct req {
	bool busy, flush;
	uint32_t idx;      /* write: gen - 1; flush: acks at submission */
	uint32_t qseq;     /* flush: place in its queue's avail order */
	unsigned slot;
};

struct run {
	const char *daemon, *dir;
	bool direct, sync_engine, canary;
	unsigned no, max_ms, delay_ms;
	uint64_t seed, rng;
	char sock[256], img[256], log[256];
	pid_t pid;
	struct vhost_front *f;
	struct wrec *w;
	uint32_t nw, wcap;
	uint32_t acks, flushed_upto, flushes_done, post_mortem;
	uint8_t busy_sect[NSECT];      /* a write in flight covers it */
	struct req reqs[NQ * QD];
	uint32_t *req_flush, *req_acked, *hi; /* per sector, by gen */
	uint8_t *img_buf;
	uint32_t qseq_next[NQ];
	uint32_t flush_qseq[NQ];   /* newest completed FLUSH's qseq + 1 */
	uint32_t *req_order;       /* per sector, ramdev's FLUSH rule */
	/* last check_image() */
	unsigned torn, lost_flushed, lost_acked, lost_ordered;
};

static uint64_t rnd(uint64_t *s)
{
	/* splitmix64: seeded, reproducible, good enough for test choices */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The content of @sector as written by generation @gen of run @r. */
static void fill_sector(uint8_t *p, const struct run *r, uint64_t sector,
			uint64_t gen)
{
	struct sect_hdr h = { MAGIC, sector, gen, r->seed };
	uint64_t s = sector * 0x100000001b3ull ^ gen ^ r->seed, v = rnd(&s);

	/* Cheap (one hash per sector), so the daemon rather than the front
	 * end is busy most of the time and a kill often lands in its I/O. */
	memcpy(p, &h, sizeof(h));
	for (unsigned i = sizeof(h); i < 512; i += 8) {
		v += 0x9e3779b97f4a7c15ull;
		memcpy(p + i, &v, 8);
	}
}

/* Which generation sector @sector of the image holds: 0 (zeros, never
 * written), the generation, or -1 (torn or foreign content). */
static int64_t sector_gen(const struct run *r, const uint8_t *p,
			  uint64_t sector)
{
	uint8_t want[512];
	struct sect_hdr h;
	bool zero = true;

	for (unsigned i = 0; i < 512 && zero; i++)
		zero = p[i] == 0;
	if (zero)
		return 0;
	memcpy(&h, p, sizeof(h));
	if (h.magic != MAGIC || h.sector != sector || h.run != r->seed ||
	    h.gen == 0 || h.gen > r->nw)
		return -1;
	fill_sector(want, r, sector, h.gen);
	return memcmp(want, p, 512) ? -1 : (int64_t)h.gen;
}

static int daemon_start(struct run *r)
{
	char cmd[1024];
	struct vhost_backend_config bc = {
		.kind = cmd, .socket = r->sock, .image = r->img,
		.num_queues = NQ, .log = r->log,
	};
	struct vhost_front_config fc = {
		/* generous: an ASan build starting on a loaded machine, after
		 * drop_caches, took more than 5 s once */
		.socket = r->sock, .connect_ms = 30000, .num_queues = NQ,
		.queue_size = 64, .data_size = (uint64_t)NQ * QD * SLOT,
	};
	char err[256];
	uint64_t t0;
	int ret;

	/* A shell command so --engine can be chosen; "exec" so the pid we
	 * SIGKILL is the daemon's, not a shell's.  A delay (0: none) holds
	 * io_uring completions back: more writes done but not yet
	 * acknowledged when the kill comes. */
	snprintf(cmd, sizeof(cmd), "exec env RAMDEV_VHOST_COMPLETE_DELAY_MS=%u"
		 " '%s' --socket {socket} --image {image} --num-queues %u%s%s",
		 r->delay_ms, r->daemon, NQ,
		 r->sync_engine ? " --engine sync" : "",
		 r->direct ? " --direct" : "");
	ret = vhost_backend_start(&r->pid, &bc);
	if (ret < 0) {
		fprintf(stderr, "start %s: %s\n", r->daemon, strerror(-ret));
		return ret;
	}
	t0 = now_ms();
	ret = vhost_front_connect(&r->f, &fc, err, sizeof(err));
	if (now_ms() - t0 > 2000)
		printf("  note: the daemon took %" PRIu64 " ms to accept\n",
		       now_ms() - t0);
	if (ret < 0) {
		fprintf(stderr, "connect: %s (%s); daemon state and log %s:\n",
			strerror(-ret), err, r->log);
		snprintf(cmd, sizeof(cmd), "grep -h '^State\\|^Name' "
			 "/proc/%d/status /proc/%d/wchan >&2; echo >&2",
			 (int)r->pid, (int)r->pid);
		(void)!system(cmd);
		snprintf(cmd, sizeof(cmd), "cat '%s' >&2", r->log);
		(void)!system(cmd);
		kill(r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
		return ret;
	}
	if (vhost_front_info(r->f)->num_queues != NQ) {
		fprintf(stderr, "daemon set up %u queues, want %u\n",
			vhost_front_info(r->f)->num_queues, NQ);
		return -EPROTO;
	}
	return 0;
}

/* A write (or, one time in 16, a FLUSH) on queue @q; false if none fits. */
static bool submit_one(struct run *r, unsigned q)
{
	uint64_t x = rnd(&r->rng), gpa;
	uint32_t sector, nsect, sz;
	struct req *rq = NULL;
	unsigned k;
	uint8_t *buf;

	for (k = q * QD; k < (q + 1) * QD && !rq; k++)
		if (!r->reqs[k].busy)
			rq = &r->reqs[k];
	if (!rq)
		return false;
	rq->slot = (unsigned)(rq - r->reqs);
	if ((x & 15) == 0) {
		rq->flush = true;
		rq->idx = r->acks;
		rq->qseq = r->qseq_next[q];
		rq->busy = vhost_front_submit(r->f, q, VIRTIO_BLK_T_FLUSH, 0,
					      0, 0, rq) == 0;
		r->qseq_next[q] += rq->busy;
		return rq->busy;
	}
	/* Sizes: half 4 KiB, a third 8..64 KiB, the rest 512 B multiples at
	 * any sector (not 4 KiB aligned). */
	sz = (x >> 8) % 6;
	nsect = sz < 3 ? 8 : sz < 5 ? 8 * (1 + (uint32_t)(x >> 16) % 16) :
		1 + (uint32_t)(x >> 16) % 24;
	sector = (uint32_t)((x >> 32) % (NSECT - nsect + 1));
	if (sz < 5)
		sector &= ~7u;
	for (uint32_t s = 0; s < nsect; s++)
		if (r->busy_sect[sector + s])
			return false;
	if (r->nw == r->wcap) {
		r->wcap = r->wcap ? 2 * r->wcap : 4096;
		r->w = realloc(r->w, r->wcap * sizeof(*r->w));
		if (!r->w)
			abort();
	}
	gpa = vhost_front_data_gpa(r->f) + (uint64_t)rq->slot * SLOT;
	buf = vhost_front_host(r->f, gpa, SLOT);
	for (uint32_t s = 0; s < nsect; s++)
		fill_sector(buf + 512 * s, r, sector + s, r->nw + 1);
	if (vhost_front_submit(r->f, q, VIRTIO_BLK_T_OUT, sector, gpa,
			       nsect * 512, rq) < 0)
		return false;
	r->w[r->nw] = (struct wrec){ sector, nsect, 0, q,
				     r->qseq_next[q]++ };
	rq->flush = false;
	rq->idx = r->nw++;
	rq->busy = true;
	memset(r->busy_sect + sector, 1, nsect);
	return true;
}

/* Record what queue @q completed; -1 on a status other than OK. */
static int reap(struct run *r, unsigned q, bool post_mortem)
{
	struct vhost_front_done d[QD];
	unsigned n = vhost_front_reap(r->f, q, d, QD);

	for (unsigned i = 0; i < n; i++) {
		struct req *rq = d[i].opaque;

		if (d[i].status != VIRTIO_BLK_S_OK) {
			fprintf(stderr, "run %u: %s on queue %u: status %u\n",
				r->no, rq->flush ? "FLUSH" : "write", q,
				d[i].status);
			return -1;
		}
		rq->busy = false;
		if (rq->flush) {
			unsigned fq = (unsigned)(rq - r->reqs) / QD;

			r->flushes_done++;
			if (rq->idx > r->flushed_upto)
				r->flushed_upto = rq->idx;
			if (rq->qseq + 1 > r->flush_qseq[fq])
				r->flush_qseq[fq] = rq->qseq + 1;
		} else {
			struct wrec *w = &r->w[rq->idx];

			w->ack = ++r->acks;
			r->post_mortem += post_mortem;
			memset(r->busy_sect + w->sector, 0, w->nsect);
		}
	}
	return 0;
}

struct killer {
	pid_t pid;
	uint64_t at_ms;
	atomic_bool done;
};

/* SIGKILL at a wall-clock point, whatever the front end is doing then
 * (a kill from the submit loop would mostly land just after a reap). */
static void *killer_main(void *arg)
{
	struct killer *k = arg;
	struct timespec ts = {
		(time_t)(k->at_ms / 1000), (long)(k->at_ms % 1000) * 1000000,
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
		;
	kill(k->pid, SIGKILL);
	atomic_store(&k->done, true);
	return NULL;
}

/* One round: fill both queues, kick, wait a little, reap. */
static int stream_step(struct run *r)
{
	for (unsigned q = 0; q < NQ; q++) {
		/* a few tries: a pick may overlap a write in flight */
		for (unsigned n = 0; n < 4 * QD; n++)
			if (vhost_front_inflight(r->f, q) < QD)
				(void)submit_one(r, q);
		(void)vhost_front_kick(r->f, q);
	}
	if (vhost_front_wait(r->f, 5) < 0)
		return -1;
	for (unsigned q = 0; q < NQ; q++)
		if (reap(r, q, false) < 0)
			return -1;
	return 0;
}

/* Drive the write stream; @kill_ms after the first FLUSH that covers a
 * write completed (so every run has flushed writes to check), a thread
 * sends SIGKILL wherever the front end is then. */
static int stream_and_kill(struct run *r, uint64_t kill_ms)
{
	struct killer k = { .pid = r->pid };
	uint64_t give_up = now_ms() + 20000;
	bool armed = false;
	pthread_t t;
	int st, ret = 0;

	while (!atomic_load(&k.done) && ret == 0) {
		ret = stream_step(r);
		if (!armed && r->flushed_upto && ret == 0) {
			k.at_ms = now_ms() + kill_ms;
			if (pthread_create(&t, NULL, killer_main, &k))
				ret = -1;
			armed = ret == 0;
		}
		if (!armed && now_ms() > give_up) {
			fprintf(stderr, "run %u: no FLUSH covering a write "
				"completed in 20 s\n", r->no);
			ret = -1;
		}
	}
	if (armed)
		pthread_join(t, NULL);
	else
		kill(r->pid, SIGKILL);
	if (waitpid(r->pid, &st, 0) != r->pid || !WIFSIGNALED(st) ||
	    WTERMSIG(st) != SIGKILL) {
		fprintf(stderr, "run %u: daemon did not die of SIGKILL "
			"(0x%x)\n", r->no, st);
		return -1;
	}
	/* What the daemon published in the used rings before it died. */
	for (unsigned q = 0; q < NQ && ret == 0; q++)
		ret = reap(r, q, true);
	return ret;
}

/* Per sector: the oldest generation each rule allows, and the newest one
 * that may be there (the newest write submitted to it).  "order" is
 * ramdev's own FLUSH rule, stronger than virtio's (include/ramdev/blk.h: a
 * FLUSH starts once every write started before it completed): a write
 * ahead of a completed FLUSH in the same queue's avail ring was popped, so
 * started, before it, acknowledged to us or not. */
static void expectations(struct run *r)
{
	unsigned order_only = 0;

	for (uint32_t g = 1; g <= r->nw; g++) {
		const struct wrec *w = &r->w[g - 1];

		order_only += !w->ack && w->qseq < r->flush_qseq[w->q];

		for (uint32_t s = w->sector; s < w->sector + w->nsect; s++) {
			r->hi[s] = g;
			if (w->ack)
				r->req_acked[s] = g;
			if (w->ack && w->ack <= r->flushed_upto)
				r->req_flush[s] = g;
			if (w->qseq < r->flush_qseq[w->q])
				r->req_order[s] = g;
		}
	}
	printf("  unacknowledged writes ahead of a completed FLUSH on their "
	       "queue: %u\n", order_only);
}

static int read_image(struct run *r)
{
	int fd = open(r->img, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -errno;
	while (got < IMG_SIZE) {
		ssize_t n = pread(fd, r->img_buf + got, IMG_SIZE - got,
				  (off_t)got);

		if (n <= 0) {
			close(fd);
			return n < 0 ? -errno : -EIO;
		}
		got += (size_t)n;
	}
	close(fd);
	return 0;
}

/* Check the image against the record; returns the number of failures. */
static unsigned check_image(struct run *r, const char *when)
{
	unsigned torn = 0, lost_acked = 0, lost_flushed = 0, lost_ordered = 0;
	unsigned shown = 0;
	int ret = read_image(r);

	if (ret < 0) {
		fprintf(stderr, "run %u: read %s: %s\n", r->no, r->img,
			strerror(-ret));
		return 1;
	}
	for (uint32_t s = 0; s < NSECT; s++) {
		int64_t g = sector_gen(r, r->img_buf + 512ull * s, s);
		const struct wrec *w = g > 0 ? &r->w[g - 1] : NULL;
		bool bad_g = g < 0 || (uint64_t)g > r->hi[s] ||
			(w && (s < w->sector || s >= w->sector + w->nsect));

		torn += bad_g;
		if (!bad_g && (uint64_t)g < r->req_flush[s])
			lost_flushed++;
		else if (!bad_g && (uint64_t)g < r->req_acked[s])
			lost_acked++;
		else if (!bad_g && (uint64_t)g < r->req_order[s])
			lost_ordered++;
		else if (!bad_g)
			continue;
		if (shown++ < 5)
			fprintf(stderr, "run %u %s: sector %u holds gen %"
				PRId64 " (-1: torn/foreign); flushed %u acked "
				"%u ordered %u newest submitted %u\n", r->no,
				when, s, g, r->req_flush[s], r->req_acked[s],
				r->req_order[s], r->hi[s]);
	}
	printf("  %s: %u sectors: torn/foreign %u, lost flushed %u, lost "
	       "acknowledged %u, lost ahead of a FLUSH %u\n", when, NSECT,
	       torn, lost_flushed, lost_acked, lost_ordered);
	r->torn = torn;
	r->lost_flushed = lost_flushed;
	r->lost_acked = lost_acked;
	r->lost_ordered = lost_ordered;
	return torn + lost_flushed + lost_acked + lost_ordered;
}

/* 1: dropped, 0: not possible here (not root, read-only /proc/sys), with
 * the reason printed once. */
static int drop_caches(void)
{
	static bool told;
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

	/* No sync() first: it would write the unflushed data back too and
	 * make the check say nothing about FLUSH.  Dirty pages stay. */
	if (fd < 0 || write(fd, "3", 1) != 1) {
		if (!told)
			printf("  SKIP drop_caches: %s (needs root and a "
			       "writable /proc/sys)\n", strerror(errno));
		told = true;
		if (fd >= 0)
			close(fd);
		return 0;
	}
	close(fd);
	return 1;
}

/* A restarted daemon serves the image: each 64 KiB read through the
 * protocol equals the file. */
static int check_restart(struct run *r)
{
	struct vhost_front_done d;
	uint64_t gpa;
	uint8_t *buf;
	int ret = read_image(r), st;

	if (ret < 0 || daemon_start(r) < 0)
		return -1;
	gpa = vhost_front_data_gpa(r->f);
	buf = vhost_front_host(r->f, gpa, SLOT);
	for (uint32_t off = 0; off < IMG_SIZE && ret == 0; off += SLOT) {
		memset(buf, 0xee, SLOT);
		if (vhost_front_submit(r->f, 0, VIRTIO_BLK_T_IN, off / 512, gpa,
				       SLOT, r) < 0 ||
		    vhost_front_kick(r->f, 0) < 0) {
			ret = -1;
			break;
		}
		for (int i = 0; i < 500; i++) {
			if (vhost_front_reap(r->f, 0, &d, 1) == 1)
				break;
			(void)vhost_front_wait(r->f, 10);
			ret = i == 499 ? -1 : 0;
		}
		if (ret == 0 && (d.status != VIRTIO_BLK_S_OK ||
				 memcmp(buf, r->img_buf + off, SLOT))) {
			fprintf(stderr, "run %u: restarted daemon: read at "
				"0x%x: status %u, data %s the file's\n", r->no,
				off, d.status, memcmp(buf, r->img_buf + off,
						      SLOT) ? "differs from" :
				"equals");
			ret = -1;
		}
	}
	vhost_front_close(r->f);
	r->f = NULL;
	st = vhost_backend_stop(r->pid, 5000);
	if (st != 0) {
		fprintf(stderr, "run %u: restarted daemon: exit status %d on "
			"SIGTERM\n", r->no, st);
		ret = -1;
	}
	if (ret == 0)
		printf("  restart: %u MiB read through the protocol equal "
		       "the file\n", IMG_SIZE >> 20);
	return ret;
}

static int make_image(const struct run *r)
{
	int fd = open(r->img, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ret = 0;

	if (fd < 0)
		return -errno;
	/* Allocated, not sparse: --direct writes then land in place. */
	if (posix_fallocate(fd, 0, IMG_SIZE) != 0 &&
	    ftruncate(fd, IMG_SIZE) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* --canary: lose the first sector of the newest flushed write (zeros) and
 * tear another sector that holds data; returns 0 if both were planted. */
static int plant(struct run *r)
{
	uint32_t lost = UINT32_MAX, torn = UINT32_MAX;
	uint8_t zero[512] = { 0 }, b;
	int fd, ret = -1;

	for (uint32_t g = r->nw; g > 0 && lost == UINT32_MAX; g--)
		if (r->w[g - 1].ack && r->w[g - 1].ack <= r->flushed_upto)
			lost = r->w[g - 1].sector;
	if (lost == UINT32_MAX || read_image(r) < 0)
		return -1;
	for (uint32_t s = 0; s < NSECT && torn == UINT32_MAX; s++)
		if (s != lost && sector_gen(r, r->img_buf + 512ull * s, s) > 0)
			torn = s;
	fd = open(r->img, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || torn == UINT32_MAX)
		goto out;
	b = r->img_buf[512ull * torn + 300] ^ 0x10;
	if (pwrite(fd, zero, 512, 512ll * lost) == 512 &&
	    pwrite(fd, &b, 1, 512ll * torn + 300) == 1)
		ret = 0;
	printf("  canary: sector %u zeroed, sector %u torn\n", lost, torn);
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Check after the kill and after drop_caches; returns the failures.  With
 * --canary a phase fails unless it found exactly what plant() did. */
static unsigned check_phases(struct run *r)
{
	unsigned bad = 0;

	if (r->canary && plant(r) < 0) {
		fprintf(stderr, "run %u: canary: nothing to plant\n", r->no);
		return 1;
	}
	for (int phase = 0; phase < 2; phase++) {
		if (phase == 1 && drop_caches() != 1)
			break;
		if (check_image(r, phase ? "after drop_caches" :
				"after SIGKILL") == 0 && !r->canary)
			continue;
		if (!r->canary || r->torn != 1 || r->lost_flushed != 1 ||
		    r->lost_acked != 0 || r->lost_ordered != 0)
			bad++;
		else
			printf("  canary: both found, as they must be\n");
	}
	return bad;
}

/* Print the engine the daemon says it uses (its "image ..." log line). */
static void log_engine(const struct run *r)
{
	char line[512], engine[16] = "?";
	FILE *f = fopen(r->log, "r");

	while (f && fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, ", engine ");

		if (p && sscanf(p, ", engine %15[a-z]", engine) != 1)
			strcpy(engine, "?");
	}
	if (f)
		fclose(f);
	printf("  the daemon runs engine %s\n", engine);
}

/* One run: stream, kill, check, drop caches, check, restart.  0: passed. */
static int one_run(struct run *r)
{
	uint64_t kill_ms;
	unsigned bad;
	int ret;

	r->rng = r->seed;
	kill_ms = rnd(&r->rng) % r->max_ms;
	r->nw = r->acks = r->flushed_upto = r->flushes_done = 0;
	r->post_mortem = 0;
	memset(r->busy_sect, 0, sizeof(r->busy_sect));
	memset(r->reqs, 0, sizeof(r->reqs));
	memset(r->req_flush, 0, NSECT * sizeof(uint32_t));
	memset(r->req_acked, 0, NSECT * sizeof(uint32_t));
	memset(r->hi, 0, NSECT * sizeof(uint32_t));
	memset(r->req_order, 0, NSECT * sizeof(uint32_t));
	memset(r->qseq_next, 0, sizeof(r->qseq_next));
	memset(r->flush_qseq, 0, sizeof(r->flush_qseq));
	printf("run %u: %s, engine %s, completion delay %u ms, seed 0x%" PRIx64
	       ", SIGKILL %" PRIu64 " ms after the first FLUSH covering a "
	       "write\n", r->no,
	       r->direct ? "--direct" : "buffered",
	       r->sync_engine ? "sync" : "default", r->delay_ms, r->seed,
	       kill_ms);
	fflush(stdout);
	ret = make_image(r);
	if (ret < 0) {
		fprintf(stderr, "image %s: %s\n", r->img, strerror(-ret));
		return -1;
	}
	if (daemon_start(r) < 0)
		return -1;
	log_engine(r);
	ret = stream_and_kill(r, kill_ms);
	vhost_front_close(r->f); /* the socket is dead: only unmaps */
	r->f = NULL;
	if (ret < 0)
		return -1;
	printf("  writes submitted %u, acknowledged %u (%u of them reaped "
	       "after the kill), %u not; FLUSHes completed %u covering %u "
	       "writes\n", r->nw, r->acks, r->post_mortem, r->nw - r->acks,
	       r->flushes_done, r->flushed_upto);
	if (r->acks == 0 || r->flushes_done == 0) {
		fprintf(stderr, "run %u: nothing acknowledged or flushed: the "
			"run proves nothing\n", r->no);
		return -1;
	}
	expectations(r);
	bad = check_phases(r);
	if (check_restart(r) < 0)
		bad++;
	return bad ? -1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: crash_consistency DAEMON [--direct] "
		"[--canary] [--runs N] [--seed S] [--first I] [--dir DIR] "
		"[--max-ms MS]\n");
	exit(2);
}

static int parse(struct run *r, unsigned *runs, unsigned *first, int argc,
		 char **argv)
{
	bool seeded = false;

	if (argc < 2)
		usage();
	r->daemon = argv[1];
	r->dir = ".";
	r->max_ms = 1500;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--direct") || !strcmp(a, "--canary")) {
			r->direct |= a[2] == 'd';
			r->canary |= a[2] == 'c';
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--runs"))
			*runs = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--seed"))
			r->seed = strtoull(v, NULL, 0), seeded = true;
		else if (!strcmp(a, "--first"))
			*first = (unsigned)strtoul(v, NULL, 0);
		else if (!strcmp(a, "--dir"))
			r->dir = v;
		else if (!strcmp(a, "--max-ms"))
			r->max_ms = (unsigned)strtoul(v, NULL, 0);
		else
			usage();
	}
	if (!seeded) {
		uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;

		r->seed = rnd(&t) >> 16; /* short enough to type */
	}
	return *runs && r->max_ms ? 0 : -1;
}

int main(int argc, char **argv)
{
	static struct run r;
	unsigned runs = 10, first = 0, passed = 0;
	char tmpl[200];
	struct statfs sf;
	uint64_t seed0;

	if (parse(&r, &runs, &first, argc, argv) < 0)
		usage();
	if (access(r.daemon, X_OK) != 0) {
		printf("SKIP: no daemon at %s\n", r.daemon);
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	snprintf(tmpl, sizeof(tmpl), "%s/crash-XXXXXX", r.dir);
	if (!mkdtemp(tmpl)) {
		perror(tmpl);
		return 1;
	}
	if (statfs(tmpl, &sf) == 0 && sf.f_type == TMPFS_MAGIC)
		printf("note: %s is tmpfs: drop_caches reads nothing back from "
		       "a device there\n", tmpl);
	snprintf(r.sock, sizeof(r.sock), "%s/sock", tmpl);
	snprintf(r.img, sizeof(r.img), "%s/img", tmpl);
	snprintf(r.log, sizeof(r.log), "%s/log", tmpl);
	r.req_flush = calloc(NSECT, sizeof(uint32_t));
	r.req_acked = calloc(NSECT, sizeof(uint32_t));
	r.hi = calloc(NSECT, sizeof(uint32_t));
	r.req_order = calloc(NSECT, sizeof(uint32_t));
	r.img_buf = malloc(IMG_SIZE);
	if (!r.req_flush || !r.req_acked || !r.hi || !r.req_order || !r.img_buf)
		return 1;
	seed0 = r.seed;
	printf("crash_consistency: %s, %u runs, --seed 0x%" PRIx64 "\n",
	       r.direct ? "--direct" : "buffered", runs, seed0);
	for (unsigned i = first; i < first + runs; i++) {
		r.no = i + 1;
		r.seed = seed0 + i;
		r.sync_engine = i & 1;
		r.delay_ms = i % 4 == 2 ? 2 : 0;
		if (one_run(&r) == 0)
			passed++;
		else
			printf("  FAIL (daemon log: %s; rerun: --seed 0x%"
			       PRIx64 " --first %u --runs 1%s)\n", r.log, seed0,
			       i, r.direct ? " --direct" : "");
		fflush(stdout);
	}
	printf("crash_consistency %s: %u/%u runs %s\n",
	       r.direct ? "--direct" : "buffered", passed, runs, r.canary ?
	       "where the planted loss and tear were found" :
	       "with nothing acknowledged lost");
	if (passed == runs) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
		(void)!system(cmd);
	}
	free(r.w);
	return passed == runs ? 0 : 1;
}
