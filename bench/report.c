// SPDX-License-Identifier: MIT
/* Timing, JSON and gnuplot helpers shared by the `ramdev bench` benchmarks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t bench_calibrate(bench_batch_fn *batch, void *ctx, uint64_t min_ns)
{
	uint64_t iters = 1, ns, calib = min_ns / 16;

	for (;;) {
		ns = batch(ctx, iters);
		if (ns >= calib || iters >= ((uint64_t)1 << 40))
			break;
		iters *= 2;
	}
	if (ns < min_ns) {
		double scale = (double)min_ns / (double)(ns ? ns : 1);

		iters = (uint64_t)((double)iters * scale) + 1;
	}
	return iters;
}

double bench_run_ns(bench_batch_fn *batch, void *ctx, uint64_t iters)
{
	return (double)batch(ctx, iters) / (double)iters;
}

int bench_rows_add(struct bench_rows *rows, const struct bench_row *row)
{
	if (rows->n == rows->cap) {
		size_t cap = rows->cap ? 2 * rows->cap : 256;
		struct bench_row *v = realloc(rows->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rows->v = v;
		rows->cap = cap;
	}
	rows->v[rows->n++] = *row;
	return 0;
}

void bench_rows_free(struct bench_rows *rows)
{
	free(rows->v);
	rows->v = NULL;
	rows->n = rows->cap = 0;
}

const struct bench_row *bench_rows_find(const struct bench_rows *rows,
					const char *op, const char *series,
					size_t size, unsigned offset)
{
	for (size_t i = 0; i < rows->n; i++) {
		const struct bench_row *r = &rows->v[i];

		if (r->size == size && r->offset == offset &&
		    !strcmp(r->op, op) && !strcmp(r->series, series))
			return r;
	}
	return NULL;
}

const char *bench_size_str(size_t size, char *buf, size_t len)
{
	if (size >= (1u << 20) && size % (1u << 20) == 0)
		snprintf(buf, len, "%zu MiB", size >> 20);
	else if (size >= 1024 && size % 1024 == 0)
		snprintf(buf, len, "%zu KiB", size >> 10);
	else
		snprintf(buf, len, "%zu B", size);
	return buf;
}

int bench_write_json(const char *path, const struct bench_meta *meta,
		     const struct bench_rows *rows,
		     const struct bench_check *checks, size_t nchecks)
{
	FILE *f = fopen(path, "w");
	int err;

	if (!f)
		return -errno;
	fprintf(f, "{\n  \"bench\": \"%s\",\n  \"quick\": %s,\n", meta->bench,
		meta->quick ? "true" : "false");
	fprintf(f, "  \"min_ms_per_run\": %.3f,\n  \"runs\": %u,\n",
		(double)meta->timing.min_ns / 1e6, meta->timing.runs);
	fprintf(f, "  \"seconds\": %.3f,\n  \"results\": [\n", meta->seconds);
	for (size_t i = 0; i < rows->n; i++) {
		const struct bench_row *r = &rows->v[i];

		fprintf(f,
			"    {\"op\": \"%s\", \"fn\": \"%s\", \"size\": %zu, "
			"\"offset\": %u, \"ns\": %.3f, \"gbps\": %.4f",
			r->op, r->series, r->size, r->offset, r->ns, r->gbps);
		if (r->attempts)
			fprintf(f, ", \"failures\": %llu, \"attempts\": %llu",
				(unsigned long long)r->failures,
				(unsigned long long)r->attempts);
		fprintf(f, "}%s\n", i + 1 < rows->n ? "," : "");
	}
	fprintf(f, "  ],\n  \"targets\": [\n");
	for (size_t i = 0; i < nchecks; i++) {
		const struct bench_check *c = &checks[i];

		fprintf(f,
			"    {\"name\": \"%s\", \"%s\": %.3f, \"worst\": %.4f, "
			"\"where\": \"%s\", \"met\": %s}%s\n",
			c->name, c->at_most ? "at_most" : "want", c->want,
			c->worst, c->where,
			c->met ? "true" : "false", i + 1 < nchecks ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	err = ferror(f) ? -EIO : 0;
	if (fclose(f) && !err)
		err = -errno;
	return err;
}

int bench_have_gnuplot(void)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (!path || !*path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");

		if (len && len + sizeof("/gnuplot") < sizeof(buf)) {
			memcpy(buf, path, len);
			memcpy(buf + len, "/gnuplot", sizeof("/gnuplot"));
			if (!access(buf, X_OK))
				return 0;
		}
		path += len;
		if (*path == ':')
			path++;
	}
	return -ENOENT;
}

/* Distinct (op, offset) panels or series names, in order of appearance. */
static size_t panel_index(const struct bench_rows *rows, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (rows->v[j].offset == rows->v[i].offset &&
		    !strcmp(rows->v[j].op, rows->v[i].op))
			return j;
	return i;
}

static size_t series_index(const struct bench_rows *rows, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (!strcmp(rows->v[j].series, rows->v[i].series))
			return j;
	return i;
}

static void plot_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
}

int bench_plot(const char *png, const char *title,
	       const struct bench_rows *rows)
{
	size_t npanels = 0;
	FILE *gp;
	int status;

	if (bench_have_gnuplot())
		return -ENOENT;
	for (size_t i = 0; i < rows->n; i++)
		npanels += panel_index(rows, i) == i;
	if (!npanels)
		return 0;
	gp = popen("gnuplot", "w");
	if (!gp)
		return -EIO;

	/* Data blocks: one per (panel, series), rows in size order as measured. */
	for (size_t p = 0; p < rows->n; p++) {
		if (panel_index(rows, p) != p)
			continue;
		for (size_t s = 0; s < rows->n; s++) {
			if (series_index(rows, s) != s)
				continue;
			fprintf(gp, "$d%zu_%zu << EOD\n", p, s);
			for (size_t i = 0; i < rows->n; i++)
				if (panel_index(rows, i) == p &&
				    series_index(rows, i) == s)
					fprintf(gp, "%zu %.4f\n", rows->v[i].size,
						rows->v[i].gbps);
			fprintf(gp, "EOD\n");
		}
	}
	fprintf(gp, "set terminal pngcairo size 1600,%zu noenhanced\n",
		450 * ((npanels + 1) / 2));
	fprintf(gp, "set output \"");
	plot_escape(gp, png);
	fprintf(gp, "\"\n");
	fprintf(gp, "set multiplot layout %zu,2 title \"%s\"\n",
		(npanels + 1) / 2, title);
	fprintf(gp, "set logscale x 2\nset logscale y 10\nset format x \"%%.0b%%B\"\n"
		    "set xlabel \"bytes\"\nset ylabel \"GB/s\"\nset grid\n"
		    "set key top left\n");
	for (size_t p = 0; p < rows->n; p++) {
		const char *sep = "plot ";

		if (panel_index(rows, p) != p)
			continue;
		fprintf(gp, "set title \"%s, device offset +%u\"\n",
			rows->v[p].op, rows->v[p].offset);
		for (size_t s = 0; s < rows->n; s++) {
			if (series_index(rows, s) != s)
				continue;
			/* Only series that appear in this panel. */
			for (size_t i = 0; i < rows->n; i++) {
				if (panel_index(rows, i) == p &&
				    series_index(rows, i) == s) {
					fprintf(gp, "%s$d%zu_%zu with linespoints "
						    "title \"%s\"",
						sep, p, s, rows->v[s].series);
					sep = ", ";
					break;
				}
			}
		}
		fprintf(gp, "\n");
	}
	fprintf(gp, "unset multiplot\n");
	status = pclose(gp);
	return status == 0 ? 0 : -EIO;
}
