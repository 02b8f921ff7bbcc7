// SPDX-License-Identifier: MIT
/*
 * `ramdev bench vhost`, the report: the table (stdout), the targets of
 * issue 14 (ours against qemu-storage-daemon; device memory against RAM),
 * JSON, and a gnuplot PNG of IOPS and CPU per request against queue depth.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_vhost_priv.h"
#include "report.h"

static int find_backend(const struct vb_run *r, const char *name)
{
	for (unsigned b = 0; b < r->nbackends; b++)
		if (!strcmp(r->backend[b], name))
			return (int)b;
	return -1;
}

static const char *bs_str(uint32_t bs, char *buf, size_t len)
{
	if (bs >= (1u << 20))
		snprintf(buf, len, "%uM", bs >> 20);
	else
		snprintf(buf, len, "%uK", bs >> 10);
	return buf;
}

static void cell_name(const struct vb_cell *c, char *buf, size_t len)
{
	char bs[16];

	snprintf(buf, len, "%s %s qd%u q%u %s", c->op,
		 bs_str(c->bs, bs, sizeof(bs)), c->qd, c->nq,
		 c->dev ? "dev" : "ram");
}

static void ratio_str(double a, double b, char *buf, size_t len)
{
	if (a > 0 && b > 0)
		snprintf(buf, len, "%.2f", a / b);
	else
		snprintf(buf, len, "-");
}

void vb_print_table(const struct vb_run *r)
{
	int ours = find_backend(r, "ramdev"), qsd = find_backend(r, "qsd");

	printf("ramdev bench vhost: %s, %.1f s cells after %.1f s warm-up, "
	       "best of %u; image %llu MiB in %s; %.0f s in all\n",
	       r->quick ? "quick" : "full", r->cell_s, r->warm_s, r->reps,
	       (unsigned long long)(r->image_size >> 20), r->image_dir,
	       r->seconds);
	if (r->note[0])
		printf("note: %s\n", r->note);
	printf("ramdev: ramdev-vhost-user-blk --num-queues 4 [--direct] "
	       "--device-memory (the dev buffers); qsd: qemu-storage-daemon "
	       "file aio=io_uring cache.direct=on|off, num-queues=4, main-loop "
	       "thread (no iothread); queue size 128, indirect descriptors, "
	       "event index; QD is per queue\n");
	printf("%-8s %-26s %-7s %9s %8s %8s %8s %9s %10s %6s %6s\n", "mode",
	       "workload", "backend", "IOPS", "MB/s", "p50 us", "p99 us",
	       "cpu s/GB", "cpu s/Mreq", "xIOPS", "xCPU");
	for (unsigned m = 0; m < VB_MODES; m++) {
		if (!r->mode_run[m])
			continue;
		for (unsigned c = 0; c < r->ncells; c++) {
			char name[64];

			cell_name(&r->cell[c], name, sizeof(name));
			for (unsigned b = 0; b < r->nbackends; b++) {
				const struct vb_result *x = &r->res[m][b][c];
				char xi[16] = "", xc[16] = "", g[16] = "n/a",
				     q[16] = "n/a";

				if (!x->have)
					continue;
				if ((int)b == ours && qsd >= 0 &&
				    r->res[m][qsd][c].have) {
					const struct vb_result *y =
						&r->res[m][qsd][c];

					ratio_str(x->iops, y->iops, xi,
						  sizeof(xi));
					ratio_str(x->cpu_s_per_mreq,
						  y->cpu_s_per_mreq, xc,
						  sizeof(xc));
				}
				if (x->cpu_s >= 0) {
					snprintf(g, sizeof(g), "%.3f",
						 x->cpu_s_per_gb);
					snprintf(q, sizeof(q), "%.2f",
						 x->cpu_s_per_mreq);
				}
				printf("%-8s %-26s %-7s %9.0f %8.1f %8.1f %8.1f "
				       "%9s %10s %6s %6s%s\n", vb_mode_name[m],
				       name, r->backend[b], x->iops, x->mbps,
				       x->p50_us, x->p99_us, g, q, xi, xc,
				       x->errors ? "  ERRORS" : "");
			}
		}
	}
	printf("xIOPS, xCPU: ramdev / qsd (IOPS: higher is better; CPU per "
	       "request: lower is better)\n");
}

struct target {
	const char *name;
	double want;
	bool at_most;
	double worst;
	char where[64];
	bool have;
};

static void consider(struct target *t, double v, const char *where)
{
	if (!(v > 0) || isinf(v))
		return;
	if (!t->have || (t->at_most ? v > t->worst : v < t->worst)) {
		t->worst = v;
		snprintf(t->where, sizeof(t->where), "%s", where);
	}
	t->have = true;
}

/* The RAM twin of a device-memory cell. */
static int ram_twin(const struct vb_run *r, unsigned c)
{
	for (unsigned k = 0; k < r->ncells; k++) {
		const struct vb_cell *a = &r->cell[c], *b = &r->cell[k];

		if (!b->dev && b->bs == a->bs && b->qd == a->qd &&
		    b->nq == a->nq && !strcmp(a->op, b->op))
			return (int)k;
	}
	return -1;
}

static void check_targets(const struct vb_run *r, unsigned m, int ours,
			  int qsd, struct target *t)
{
	for (unsigned c = 0; c < r->ncells; c++) {
		const struct vb_cell *cl = &r->cell[c];
		const struct vb_result *x = &r->res[m][ours][c];
		const struct vb_result *y = qsd >= 0 ? &r->res[m][qsd][c] :
						       NULL;
		char name[80];
		int tw;

		if (!x->have)
			continue;
		snprintf(name, sizeof(name), "%s ", vb_mode_name[m]);
		cell_name(cl, name + strlen(name), sizeof(name) - strlen(name));
		if (y && y->have && cl->bs == 4096 && cl->qd == 32 && !cl->dev)
			consider(&t[0], x->iops / y->iops, name);
		if (y && y->have && cl->bs == (1u << 20) && !cl->dev)
			consider(&t[1], x->mbps / y->mbps, name);
		if (y && y->have && cl->bs == 4096 && !cl->dev &&
		    x->cpu_s > 0 && y->cpu_s > 0)
			consider(&t[2], x->cpu_s_per_mreq / y->cpu_s_per_mreq,
				 name);
		tw = cl->dev && cl->bs >= 65536 ? ram_twin(r, c) : -1;
		if (tw >= 0 && r->res[m][ours][tw].have)
			consider(&t[3], x->mbps / r->res[m][ours][tw].mbps,
				 name);
	}
}

int vb_print_targets(const struct vb_run *r)
{
	int ours = find_backend(r, "ramdev"), qsd = find_backend(r, "qsd");
	int missed = 0;

	if (ours < 0)
		return -1;
	printf("targets (issue 14), worst cell per mode:\n");
	for (unsigned m = 0; m < VB_MODES; m++) {
		struct target t[4] = {
			{ .name = "IOPS ramdev/qsd, 4 KiB random, QD 32",
			  .want = 1.0 },
			{ .name = "MB/s ramdev/qsd, 1 MiB sequential",
			  .want = 1.0 },
			{ .name = "CPU per request ramdev/qsd, 4 KiB",
			  .want = 1.0, .at_most = true },
			{ .name = "MB/s device memory/RAM, ramdev, 64K+1M",
			  .want = 0.8 },
		};

		if (!r->mode_run[m])
			continue;
		check_targets(r, m, ours, qsd, t);
		for (unsigned i = 0; i < 4; i++) {
			bool met = t[i].have && (t[i].at_most ?
				   t[i].worst <= t[i].want :
				   t[i].worst >= t[i].want);

			if (!t[i].have) {
				printf("  %-8s %-42s not measured\n",
				       vb_mode_name[m], t[i].name);
				continue;
			}
			missed += !met;
			printf("  %-8s %-42s %s %.2f: worst %.2f (%s) %s\n",
			       vb_mode_name[m], t[i].name,
			       t[i].at_most ? "<=" : ">=", t[i].want,
			       t[i].worst, t[i].where, met ? "met" : "MISSED");
		}
	}
	return missed;
}

int vb_write_json(const char *path, const struct vb_run *r)
{
	FILE *f = fopen(path, "w");
	bool first = true;

	if (!f)
		return -errno;
	fprintf(f, "{\n  \"bench\": \"vhost\",\n  \"quick\": %s,\n"
		"  \"cell_seconds\": %.3f,\n  \"warmup_seconds\": %.3f,\n"
		"  \"reps\": %u,\n  \"image_bytes\": %llu,\n"
		"  \"seconds\": %.1f,\n  \"note\": \"%s\",\n  \"results\": [",
		r->quick ? "true" : "false", r->cell_s, r->warm_s, r->reps,
		(unsigned long long)r->image_size, r->seconds, r->note);
	for (unsigned m = 0; m < VB_MODES; m++)
		for (unsigned c = 0; c < r->ncells; c++)
			for (unsigned b = 0; b < r->nbackends; b++) {
				const struct vb_result *x = &r->res[m][b][c];
				const struct vb_cell *cl = &r->cell[c];

				if (!x->have)
					continue;
				fprintf(f, "%s\n    {\"mode\": \"%s\", \"op\": "
					"\"%s\", \"bs\": %u, \"qd\": %u, "
					"\"queues\": %u, \"buffers\": \"%s\", "
					"\"backend\": \"%s\", \"iops\": %.1f, "
					"\"mbps\": %.2f, \"p50_us\": %.2f, "
					"\"p99_us\": %.2f, \"cpu_s\": %.3f, "
					"\"cpu_s_per_gb\": %.4f, "
					"\"cpu_s_per_mreq\": %.3f, "
					"\"requests\": %llu, \"errors\": %llu}",
					first ? "" : ",", vb_mode_name[m],
					cl->op, cl->bs, cl->qd, cl->nq,
					cl->dev ? "device" : "ram",
					r->backend[b], x->iops, x->mbps,
					x->p50_us, x->p99_us, x->cpu_s,
					x->cpu_s_per_gb, x->cpu_s_per_mreq,
					(unsigned long long)x->reqs,
					(unsigned long long)x->errors);
				first = false;
			}
	fprintf(f, "\n  ]\n}\n");
	return fclose(f) == 0 ? 0 : -EIO;
}

/*
 * Data blocks for gnuplot, one per (op, backend, queues) of the 4 KiB
 * random RAM cells of the first mode run: qd, IOPS, CPU us per request.
 */
static int plot_data(FILE *d, FILE *g, const struct vb_run *r, unsigned m)
{
	static const char *const ops[] = { "randread", "randwrite" };
	int idx = 0;

	for (unsigned o = 0; o < 2; o++) {
		for (unsigned b = 0; b < r->nbackends; b++)
			for (unsigned nq = 1; nq <= 4; nq += 3) {
				bool any = false;

				for (unsigned c = 0; c < r->ncells; c++) {
					const struct vb_cell *cl = &r->cell[c];
					const struct vb_result *x =
						&r->res[m][b][c];

					if (!x->have || cl->dev ||
					    cl->bs != 4096 || cl->nq != nq ||
					    strcmp(cl->op, ops[o]))
						continue;
					fprintf(d, "%u %.1f %.3f\n", cl->qd,
						x->iops, x->cpu_s >= 0 ?
						x->cpu_s_per_mreq : NAN);
					any = true;
				}
				if (!any)
					continue;
				fprintf(d, "\n\n");
				fprintf(g, "%s%s/%s/q%u", idx ? " " : "",
					ops[o], r->backend[b], nq);
				idx++;
			}
	}
	return idx;
}

int vb_plot(const char *png, const struct vb_run *r)
{
	char dat[] = "/tmp/ramdev-vhost-plot-XXXXXX";
	unsigned m = r->mode_run[0] ? 0 : 1;
	FILE *d, *g;
	int fd, n, ret;

	if (bench_have_gnuplot() < 0)
		return -ENOENT;
	fd = mkstemp(dat);
	if (fd < 0)
		return -errno;
	d = fdopen(fd, "w");
	g = popen("gnuplot", "w");
	if (!d || !g) {
		if (d)
			fclose(d);
		unlink(dat);
		return -EIO;
	}
	fprintf(g, "set terminal pngcairo size 1200,500 noenhanced\n"
		"set output '%s'\nset multiplot layout 1,2 title "
		"'ramdev bench vhost: 4 KiB random, %s, RAM buffers'\n"
		"set logscale x 2\nset xlabel 'queue depth (per queue)'\n"
		"set key top left\nset grid\nnames = '", png, vb_mode_name[m]);
	n = plot_data(d, g, r, m);
	fclose(d);
	fprintf(g, "'\n");
	fprintf(g, "set ylabel 'IOPS'\nplot for [i=0:%d] '%s' index i "
		"using 1:2 with linespoints title word(names, i+1)\n",
		n - 1, dat);
	fprintf(g, "set ylabel 'back-end CPU us per request'\n"
		"plot for [i=0:%d] '%s' index i using 1:3 with linespoints "
		"title word(names, i+1)\nunset multiplot\n", n - 1, dat);
	ret = pclose(g);
	unlink(dat);
	return ret == 0 && n > 0 ? 0 : -EIO;
}
