// SPDX-License-Identifier: MIT
/*
 * `ramdev bench vhost`: vhost-user-blk back ends side by side, no guest.
 *
 * Each back end (ramdev-vhost-user-blk, qemu-storage-daemon, or a command)
 * is started on its own fresh image of the same size in the same directory
 * (default /var/tmp: a disk file system, so O_DIRECT means the disk), and
 * driven over its socket by drivers/vhost_front, which negotiates as QEMU
 * does and keeps QD requests in flight per queue on split rings in shared
 * memfd memory, waiting on the call eventfds as a guest waits for
 * interrupts.  Buffers are in guest RAM or in a second memfd region that
 * ramdev-vhost-user-blk is told is device memory (--device-memory); to
 * qemu-storage-daemon it is just memory.
 *
 * Timing: each cell runs warm_s unmeasured, then cell_s measured, then
 * drains; the back end's CPU time (utime + stime from /proc/PID/stat, 10 ms
 * ticks) is read around the measured part.  Every cell is repeated (reps),
 * on restarted back ends that swap images each repetition; within one the
 * back ends take turns going first (rotated per cell and per repetition),
 * so neither always inherits the other's write-back or the other's file
 * layout; the best repetition by IOPS is kept.  The O_DIRECT series
 * (--direct / cache.direct=on) runs first, then the buffered one on
 * restarted back ends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_blk.h>

#include "vhost_backend.h"
#include "vhost_front.h"

#include "bench.h"
#include "bench_vhost_priv.h"
#include "report.h"

#define MAXQ 4u
#define MAXQD 32u
#define BUF_SPAN (32ull << 20) /* max over cells of nq * qd * bs */
#define DEV_GPA (1ull << 32)
#define QSIZE 128u
#define STALL_NS (10ull * 1000000000ull)

const char *const vb_mode_name[VB_MODES] = { "direct", "buffered" };

struct backend {
	const char *kind;  /* "ramdev", "qsd", a command, or NULL (--socket) */
	char sock[PATH_MAX], img[PATH_MAX], log[PATH_MAX];
	pid_t pid;
	struct vhost_front *f;
	bool failed;
};

struct req {
	unsigned q, i;
	uint64_t t;
};

struct drive {
	struct vhost_front *f;
	const struct vb_cell *c;
	uint64_t img_size, rng, pos[MAXQ];
	struct req reqs[MAXQ][MAXQD];
	bool stop;
	uint32_t *lat;
	size_t nlat, caplat;
	uint64_t reqs_done, bytes, errors;
};

struct opts {
	const char *backends[VB_MAX_BACKENDS];
	unsigned nb;
	const char *socket, *image_dir, *json, *plot, *ramdev, *only;
	int modes; /* bit per mode */
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* ---- the guest side ---- */

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int submit(struct drive *d, struct req *r)
{
	const struct vb_cell *c = d->c;
	bool rnd = c->op[0] == 'r' && c->op[1] == 'a';
	bool wr = strstr(c->op, "write") != NULL;
	uint64_t base = c->dev ? DEV_GPA : vhost_front_data_gpa(d->f);
	uint64_t gpa = base + ((uint64_t)r->q * c->qd + r->i) * c->bs;
	uint64_t off;

	if (rnd) {
		off = xorshift(&d->rng) % (d->img_size / c->bs) * c->bs;
	} else {
		/* Each queue streams through its own slice of the image. */
		uint64_t slice = d->img_size / c->nq / c->bs * c->bs;

		off = (uint64_t)r->q * slice + d->pos[r->q];
		d->pos[r->q] = (d->pos[r->q] + c->bs) % slice;
	}
	r->t = bench_now_ns();
	return vhost_front_submit(d->f, r->q, wr ? VIRTIO_BLK_T_OUT :
				  VIRTIO_BLK_T_IN, off / 512, gpa, c->bs, r);
}

static void record(struct drive *d, const struct vhost_front_done *done,
		   uint64_t now)
{
	const struct req *r = done->opaque;
	uint64_t ns = now - r->t;

	if (done->status != VIRTIO_BLK_S_OK) {
		d->errors++;
		return;
	}
	d->reqs_done++;
	d->bytes += d->c->bs;
	if (d->nlat == d->caplat) {
		size_t cap = d->caplat ? 2 * d->caplat : 65536;
		uint32_t *v = realloc(d->lat, cap * sizeof(*v));

		if (!v)
			return; /* latency of this one is lost, not the run */
		d->lat = v;
		d->caplat = cap;
	}
	d->lat[d->nlat++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

/* Reap queue @q; resubmit unless stopping.  Returns completions. */
static int reap_queue(struct drive *d, unsigned q)
{
	struct vhost_front_done done[MAXQD];
	unsigned n = vhost_front_reap(d->f, q, done, MAXQD);
	uint64_t now = bench_now_ns();
	int ret;

	for (unsigned k = 0; k < n; k++) {
		record(d, &done[k], now);
		if (d->stop)
			continue;
		ret = submit(d, (struct req *)done[k].opaque);
		if (ret < 0)
			return ret;
	}
	if (n && !d->stop) {
		ret = vhost_front_kick(d->f, q);
		if (ret < 0)
			return ret;
	}
	return (int)n;
}

/* Keep qd requests per queue in flight for @ns, then drain. */
static int drive_for(struct drive *d, uint64_t ns, double *secs)
{
	const struct vb_cell *c = d->c;
	uint64_t t0 = bench_now_ns(), last = t0, now;
	int ret;

	d->stop = false;
	for (unsigned q = 0; q < c->nq; q++) {
		for (unsigned i = 0; i < c->qd; i++) {
			d->reqs[q][i] = (struct req){ .q = q, .i = i };
			ret = submit(d, &d->reqs[q][i]);
			if (ret < 0)
				return ret;
		}
		ret = vhost_front_kick(d->f, q);
		if (ret < 0)
			return ret;
	}
	for (;;) {
		unsigned inflight = 0;
		int got = 0;

		now = bench_now_ns();
		if (now - t0 >= ns || interrupted)
			d->stop = true;
		for (unsigned q = 0; q < c->nq; q++) {
			ret = reap_queue(d, q);
			if (ret < 0)
				return ret;
			got += ret;
			inflight += vhost_front_inflight(d->f, q);
		}
		if (got)
			last = now;
		else if (now - last > STALL_NS)
			return -ETIMEDOUT;
		if (d->stop && !inflight)
			break;
		if (!got) {
			ret = vhost_front_wait(d->f, 100);
			if (ret < 0)
				return ret;
		}
	}
	*secs = (double)(bench_now_ns() - t0) / 1e9;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double pct_us(uint32_t *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return n ? (double)v[i] / 1000.0 : 0.0;
}

/* One repetition of @c on back end @b: warm-up, measured run, CPU. */
static int run_cell(struct backend *b, const struct vb_cell *c,
		    const struct vb_run *run, struct vb_result *res)
{
	struct drive d = { .f = b->f, .c = c, .img_size = run->image_size,
			   .rng = 0x9e3779b97f4a7c15ull ^ bench_now_ns() };
	uint64_t cpu0 = 0, cpu1 = 0;
	bool cpu = b->pid > 0;
	double secs, wsecs;
	int ret;

	ret = drive_for(&d, (uint64_t)(run->warm_s * 1e9), &wsecs);
	d.nlat = 0;
	d.reqs_done = d.bytes = d.errors = 0;
	if (ret == 0 && cpu && vhost_backend_cpu_ns(b->pid, &cpu0) < 0)
		cpu = false;
	if (ret == 0)
		ret = drive_for(&d, (uint64_t)(run->cell_s * 1e9), &secs);
	if (ret == 0 && cpu && vhost_backend_cpu_ns(b->pid, &cpu1) < 0)
		cpu = false;
	if (ret < 0) {
		free(d.lat);
		return ret;
	}
	qsort(d.lat, d.nlat, sizeof(*d.lat), cmp_u32);
	*res = (struct vb_result){
		.have = true, .secs = secs, .reqs = d.reqs_done,
		.bytes = d.bytes, .errors = d.errors,
		.iops = (double)d.reqs_done / secs,
		.mbps = (double)d.bytes / secs / 1e6,
		.p50_us = pct_us(d.lat, d.nlat, 0.50),
		.p99_us = pct_us(d.lat, d.nlat, 0.99),
		.cpu_s = cpu ? (double)(cpu1 - cpu0) / 1e9 : -1.0,
	};
	if (cpu && d.bytes)
		res->cpu_s_per_gb = res->cpu_s / ((double)d.bytes / 1e9);
	if (cpu && d.reqs_done)
		res->cpu_s_per_mreq = res->cpu_s / ((double)d.reqs_done / 1e6);
	free(d.lat);
	return 0;
}

/* ---- cells ---- */

static void add_cell(struct vb_run *r, const char *op, uint32_t bs,
		     unsigned qd, unsigned nq, bool dev, const char *only)
{
	char name[64];

	snprintf(name, sizeof(name), "%s-%u-qd%u-q%u-%s", op, bs, qd, nq,
		 dev ? "dev" : "ram");
	if (only && !strstr(name, only))
		return;
	if (r->ncells < VB_MAX_CELLS)
		r->cell[r->ncells++] = (struct vb_cell){ op, bs, qd, nq, dev };
}

/*
 * 4 KiB random at QD 1 (8) 32 in RAM, and at QD 32 in device memory too;
 * 64 KiB and 1 MiB sequential at QD 8 in RAM and device memory; each with
 * 1 and 4 queues.
 */
static void build_cells(struct vb_run *r, const char *only)
{
	static const char *const rnd[] = { "randread", "randwrite" };
	static const char *const seq[] = { "read", "write" };
	static const unsigned qds_full[] = { 1, 8, 32 }, qds_quick[] = { 1, 32 };
	const unsigned *qds = r->quick ? qds_quick : qds_full;
	unsigned nqd = r->quick ? 2 : 3;

	for (unsigned o = 0; o < 2; o++)
		for (unsigned nq = 1; nq <= MAXQ; nq += MAXQ - 1) {
			for (unsigned k = 0; k < nqd; k++)
				add_cell(r, rnd[o], 4096, qds[k], nq, false,
					 only);
			add_cell(r, rnd[o], 4096, MAXQD, nq, true, only);
		}
	for (unsigned o = 0; o < 2; o++)
		for (uint32_t bs = 65536; bs <= (1u << 20); bs *= 16)
			for (unsigned nq = 1; nq <= MAXQ; nq += MAXQ - 1)
				for (int dev = 0; dev < 2; dev++)
					add_cell(r, seq[o], bs, 8, nq, dev,
						 only);
}

/* ---- images and back ends ---- */

/* A fresh image of @size, written through (so reads find data on disk)
 * and dropped from the page cache. */
static int make_image(const char *path, uint64_t size)
{
	const size_t chunk = 1u << 20;
	uint8_t *buf = malloc(chunk);
	int fd, ret = 0;

	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < chunk; i++)
		buf[i] = (uint8_t)(i * 31 + 7);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	for (uint64_t off = 0; off < size && ret == 0; off += chunk)
		if (pwrite(fd, buf, chunk, (off_t)off) != (ssize_t)chunk)
			ret = -EIO;
	if (ret == 0 && fsync(fd) < 0)
		ret = -errno;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	free(buf);
	return ret;
}

static int backend_up(struct backend *b, const struct opts *o, bool direct,
		      const char *img, struct vb_run *run)
{
	char devmem[64], err[256];
	struct vhost_backend_config bc = {
		.kind = b->kind, .socket = b->sock, .image = img,
		.num_queues = MAXQ, .direct = direct, .ramdev = o->ramdev,
		.dev_mem = devmem, .log = b->log,
	};
	struct vhost_front_config fc = {
		.socket = b->sock, .connect_ms = 10000, .num_queues = MAXQ,
		.queue_size = QSIZE, .data_size = BUF_SPAN,
		.dev_gpa = DEV_GPA, .dev_size = BUF_SPAN,
	};
	int ret;

	snprintf(devmem, sizeof(devmem), "0x%llx:0x%llx",
		 (unsigned long long)DEV_GPA, (unsigned long long)BUF_SPAN);
	b->pid = 0;
	if (b->kind) {
		ret = vhost_backend_start(&b->pid, &bc);
		if (ret < 0) {
			fprintf(stderr, "vhost: %s: start: %s\n", b->kind,
				strerror(-ret));
			return ret;
		}
	}
	ret = vhost_front_connect(&b->f, &fc, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "vhost: %s: %s (log: %s)\n",
			b->kind ? b->kind : b->sock, err, b->log);
		snprintf(run->note, sizeof(run->note), "%s: %.200s",
			 b->kind ? vhost_backend_name(b->kind) : "socket", err);
		return ret;
	}
	if (vhost_front_info(b->f)->num_queues < MAXQ)
		fprintf(stderr, "vhost: %s: %u queues only: 4-queue cells "
			"skipped\n", b->kind ? b->kind : b->sock,
			vhost_front_info(b->f)->num_queues);
	/* Fault the buffers in now, not in the first cell. */
	memset(vhost_front_host(b->f, vhost_front_data_gpa(b->f), BUF_SPAN),
	       0x33, BUF_SPAN);
	memset(vhost_front_host(b->f, DEV_GPA, BUF_SPAN), 0x44, BUF_SPAN);
	return 0;
}

static void backend_down(struct backend *b)
{
	int st;

	vhost_front_close(b->f);
	b->f = NULL;
	if (b->pid > 0) {
		st = vhost_backend_stop(b->pid, 10000);
		if (st != 0)
			fprintf(stderr, "vhost: %s: exit status %d on SIGTERM "
				"(log: %s)\n", b->kind, st, b->log);
	}
	b->pid = 0;
}

/* ---- the run ---- */

static void progress(const struct vb_run *run, unsigned m, unsigned b,
		     const struct vb_cell *c, const struct vb_result *r)
{
	char cpu[32] = "n/a";

	if (r->cpu_s >= 0)
		snprintf(cpu, sizeof(cpu), "%.2f", r->cpu_s_per_mreq);
	fprintf(stderr, "  %-8s %-9s %7u qd%-2u q%u %s  %-7s %9.0f IOPS "
		"%8.1f MB/s p50 %7.1f us p99 %8.1f us cpu %s s/Mreq%s\n",
		vb_mode_name[m], c->op, c->bs, c->qd, c->nq,
		c->dev ? "dev" : "ram", run->backend[b], r->iops, r->mbps,
		r->p50_us, r->p99_us, cpu, r->errors ? "  ERRORS" : "");
}

/*
 * Repetition @rep of mode @m: (re)start the back ends, back end b on image
 * (b + rep) mod n, so over the repetitions each runs on each image and the
 * layout of one file on the disk does not follow one back end; then every
 * cell, the back ends taking turns going first.
 */
static void run_rep(struct vb_run *run, struct backend *be, const struct opts *o,
		    unsigned m, unsigned rep)
{
	unsigned nb = run->nbackends, nimg = 0;

	while (nimg < nb && be[nimg].kind)
		nimg++;
	for (unsigned b = 0; b < nb; b++)
		be[b].failed = backend_up(&be[b], o, m == 0, b < nimg ?
					  be[(b + rep) % nimg].img : NULL,
					  run) < 0;
	for (unsigned ci = 0; ci < run->ncells && !interrupted; ci++)
		for (unsigned k = 0; k < nb; k++) {
			unsigned b = (k + ci + rep) % nb;
			const struct vb_cell *c = &run->cell[ci];
			struct vb_result r, *best = &run->res[m][b][ci];
			int ret;

			if (be[b].failed ||
			    c->nq > vhost_front_info(be[b].f)->num_queues)
				continue;
			ret = run_cell(&be[b], c, run, &r);
			if (ret < 0) {
				fprintf(stderr, "vhost: %s: %s qd%u: %s (log: "
					"%s)\n", run->backend[b], c->op, c->qd,
					strerror(-ret), be[b].log);
				be[b].failed = true;
				continue;
			}
			progress(run, m, b, c, &r);
			if (!best->have || r.iops > best->iops)
				*best = r;
		}
	for (unsigned b = 0; b < nb; b++)
		backend_down(&be[b]);
	run->mode_run[m] = true;
}

static int usage(FILE *f)
{
	fprintf(f,
"usage: ramdev bench vhost [--backend ramdev|qsd|'CMD {socket} {image}']...\n"
"         [--socket PATH] [--image PREFIX] [--size MiB] [--quick]\n"
"         [--seconds S] [--reps N] [--mode direct|buffered|both]\n"
"         [--only SUBSTR] [--ramdev PATH] [--json FILE] [--plot FILE.png]\n"
"  Drives vhost-user-blk back ends over their sockets (no guest) and prints\n"
"  IOPS, MB/s, p50/p99 latency and the back end's CPU per GB and per\n"
"  million requests.  Default back ends: ramdev and qsd\n"
"  (qemu-storage-daemon), each on its own fresh image PREFIX.<name>.img\n"
"  (default in a new directory under /var/tmp); O_DIRECT, then buffered.\n"
"  --socket: also drive a back end already listening there (no CPU).\n");
	return f == stderr ? 2 : 0;
}

static int parse(int argc, char **argv, struct opts *o, struct vb_run *run)
{
	static const struct option lo[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "socket", required_argument, NULL, 's' },
		{ "image", required_argument, NULL, 'i' },
		{ "size", required_argument, NULL, 'S' },
		{ "quick", no_argument, NULL, 'q' },
		{ "seconds", required_argument, NULL, 't' },
		{ "reps", required_argument, NULL, 'r' },
		{ "mode", required_argument, NULL, 'm' },
		{ "only", required_argument, NULL, 'o' },
		{ "ramdev", required_argument, NULL, 'R' },
		{ "json", required_argument, NULL, 'j' },
		{ "plot", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "qh", lo, NULL)) != -1) {
		switch (opt) {
		case 'b':
			if (o->nb == VB_MAX_BACKENDS - 1)
				return usage(stderr);
			o->backends[o->nb++] = optarg;
			break;
		case 's': o->socket = optarg; break;
		case 'i': o->image_dir = optarg; break;
		case 'S': run->image_size = strtoull(optarg, NULL, 0) << 20;
			break;
		case 'q': run->quick = 1; break;
		case 't': run->cell_s = strtod(optarg, NULL); break;
		case 'r': run->reps = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'm':
			o->modes = !strcmp(optarg, "direct") ? 1 :
				   !strcmp(optarg, "buffered") ? 2 :
				   !strcmp(optarg, "both") ? 3 : 0;
			if (!o->modes)
				return usage(stderr);
			break;
		case 'o': o->only = optarg; break;
		case 'R': o->ramdev = optarg; break;
		case 'j': o->json = optarg; break;
		case 'p': o->plot = optarg; break;
		case 'h': (void)usage(stdout); return -1;
		default: return usage(stderr);
		}
	}
	return optind < argc ? usage(stderr) : 0;
}

/* The ramdev-vhost-user-blk next to this ramdev binary (both in tools/). */
static const char *default_ramdev(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 32);
	char *slash;

	if (n <= 0)
		return "ramdev-vhost-user-blk";
	buf[n] = 0;
	slash = strrchr(buf, '/');
	strcpy(slash ? slash + 1 : buf, "ramdev-vhost-user-blk");
	return buf;
}

/* Keep the back ends that can run here; say why others cannot. */
static void pick_backends(struct opts *o, struct vb_run *run,
			  struct backend *be)
{
	unsigned n = 0, ncmd = 0;
	static char names[VB_MAX_BACKENDS][8];

	if (!o->nb && !o->socket) {
		o->backends[o->nb++] = "ramdev";
		o->backends[o->nb++] = "qsd";
	}
	for (unsigned i = 0; i < o->nb; i++) {
		const char *k = o->backends[i];

		if (!strcmp(k, "ramdev") && access(o->ramdev, X_OK) != 0) {
			fprintf(stderr, "vhost: SKIP ramdev: %s not built\n",
				o->ramdev);
			snprintf(run->note, sizeof(run->note),
				 "ramdev skipped: not built");
			continue;
		}
		if (!strcmp(k, "qsd") && system("command -v "
		    "qemu-storage-daemon >/dev/null 2>&1") != 0) {
			fprintf(stderr, "vhost: SKIP qsd: no qemu-storage-daemon "
				"(Debian: qemu-system-common)\n");
			continue;
		}
		be[n].kind = k;
		if (strchr(k, ' ')) {
			snprintf(names[n], sizeof(names[n]), "cmd%u", ++ncmd);
			run->backend[n] = names[n];
			n++;
		} else {
			run->backend[n++] = k;
		}
	}
	if (o->socket) {
		be[n].kind = NULL;
		snprintf(be[n].sock, sizeof(be[n].sock), "%s", o->socket);
		run->backend[n++] = "socket";
	}
	run->nbackends = n;
}

/* Paths and a fresh image per started back end, under @dir (a prefix). */
static int prepare(struct vb_run *run, struct backend *be, const char *dir)
{
	int ret;

	for (unsigned b = 0; b < run->nbackends; b++) {
		if (!be[b].kind)
			continue;
		snprintf(be[b].img, sizeof(be[b].img), "%s.%s.img", dir,
			 run->backend[b]);
		snprintf(be[b].sock, sizeof(be[b].sock), "%s.%s.sock", dir,
			 run->backend[b]);
		snprintf(be[b].log, sizeof(be[b].log), "%s.%s.log", dir,
			 run->backend[b]);
		fprintf(stderr, "vhost: writing %llu MiB image %s\n",
			(unsigned long long)(run->image_size >> 20), be[b].img);
		ret = make_image(be[b].img, run->image_size);
		if (ret < 0) {
			fprintf(stderr, "vhost: %s: %s\n", be[b].img,
				strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* Remove images and sockets, and the logs of back ends that did not fail;
 * the directory too when we made it and it is empty. */
static void cleanup(struct vb_run *run, struct backend *be, char *dir,
		    bool ours)
{
	for (unsigned b = 0; b < run->nbackends; b++) {
		if (!be[b].kind)
			continue;
		(void)unlink(be[b].img);
		(void)unlink(be[b].sock);
		if (!be[b].failed)
			(void)unlink(be[b].log);
	}
	if (ours && strrchr(dir, '/')) {
		*strrchr(dir, '/') = 0;
		(void)rmdir(dir);
	}
}

int bench_vhost(int argc, char **argv)
{
	static struct vb_run run;
	struct backend be[VB_MAX_BACKENDS] = { 0 };
	struct opts o = { .modes = 3 };
	char rbuf[PATH_MAX], dir[PATH_MAX];
	uint64_t t0 = bench_now_ns();
	int ret;

	memset(&run, 0, sizeof(run));
	ret = parse(argc, argv, &o, &run);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (!o.ramdev)
		o.ramdev = default_ramdev(rbuf, sizeof(rbuf));
	if (!run.image_size)
		run.image_size = run.quick ? 256ull << 20 : 1ull << 30;
	if (run.cell_s <= 0)
		run.cell_s = run.quick ? 0.5 : 2.0;
	run.warm_s = run.quick ? 0.1 : 0.5;
	if (!run.reps)
		run.reps = run.quick ? 1 : 2;
	build_cells(&run, o.only);
	pick_backends(&o, &run, be);
	if (!run.nbackends || !run.ncells) {
		fprintf(stderr, "vhost: nothing to run\n");
		return 1;
	}
	if (o.image_dir) {
		snprintf(dir, sizeof(dir), "%s", o.image_dir);
	} else {
		snprintf(dir, sizeof(dir), "/var/tmp/ramdev-bench-vhost-XXXXXX");
		if (!mkdtemp(dir)) {
			perror("vhost: mkdtemp");
			return 1;
		}
		strcat(dir, "/img");
	}
	run.image_dir = dir;
	signal(SIGINT, on_sigint);
	signal(SIGPIPE, SIG_IGN);
	if (prepare(&run, be, dir) < 0)
		return 1;
	fprintf(stderr, "vhost: %u cells x %u back ends, %.1f s each after "
		"%.1f s warm-up, %u rep(s)\n", run.ncells, run.nbackends,
		run.cell_s, run.warm_s, run.reps);
	for (unsigned m = 0; m < VB_MODES && !interrupted; m++)
		if (o.modes & (1 << m) && !(m == 1 && !be[0].kind &&
					    run.nbackends == 1))
			for (unsigned rep = 0; rep < run.reps &&
			     !interrupted; rep++)
				run_rep(&run, be, &o, m, rep);
	cleanup(&run, be, dir, !o.image_dir);
	run.seconds = (double)(bench_now_ns() - t0) / 1e9;
	vb_print_table(&run);
	(void)vb_print_targets(&run); /* reported, not enforced */
	if (o.json && vb_write_json(o.json, &run) < 0)
		fprintf(stderr, "vhost: cannot write %s\n", o.json);
	if (o.plot && vb_plot(o.plot, &run) < 0)
		fprintf(stderr, "vhost: no plot (gnuplot missing or failed)\n");
	return interrupted ? 130 : 0;
}
