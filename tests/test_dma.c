// SPDX-License-Identifier: MIT
/*
 * DMA layer tests (suite 'dma').  Each test gets a fresh small guest:
 *
 *   0x0000_0000 - 0x003f_ffff  ram   (malloc)
 *   0x0040_0000 - 0x007f_ffff  ramd  (mmap of a memfd, a BAR stand-in)
 *   0x1000_0000 - 0x1000_ffff  mmio  (callbacks over an array, counted)
 *
 * and a DMA context with the DIRECT policy.  Tests that need another policy
 * or pool size make their own context.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "ramdev/dma.h"

#define RAM_BASE 0x0ull
#define RAM_SIZE (4ull << 20)
#define RAMD_BASE 0x400000ull
#define RAMD_SIZE (4ull << 20)
#define MMIO_BASE 0x10000000ull
#define MMIO_SIZE 0x10000ull
#define HOLE_GPA 0x20000000ull

struct mmio_dev {
	uint8_t mem[MMIO_SIZE];
	atomic_ulong reads;
	atomic_ulong writes;
	atomic_ulong bytes_written;
};

struct fx {
	struct ramdev_as *as;
	struct ramdev_region *ram, *ramd, *mmio;
	uint8_t *ram_mem;
	uint8_t *ramd_mem;
	struct mmio_dev dev;
	struct ramdev_dma *dma;
	char log[4096]; /* messages routed to the address space's log */
	size_t log_len;
};

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 7;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
}

static int mmio_read(void *opaque, uint64_t off, unsigned size, uint64_t *val)
{
	struct mmio_dev *d = opaque;
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)d->mem[off + i] << (8 * i);
	*val = v;
	atomic_fetch_add(&d->reads, 1);
	return 0;
}

static int mmio_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct mmio_dev *d = opaque;

	for (unsigned i = 0; i < size; i++)
		d->mem[off + i] = (uint8_t)(val >> (8 * i));
	atomic_fetch_add(&d->writes, 1);
	atomic_fetch_add(&d->bytes_written, size);
	return 0;
}

static const struct ramdev_mmio_ops mmio_ops = {
	.read = mmio_read,
	.write = mmio_write,
	.valid = { .min_size = 1, .max_size = 8, .unaligned = true },
	.impl = { .min_size = 1, .max_size = 8, .unaligned = false },
};

static void capture_log(void *opaque, int level, const char *msg)
{
	struct fx *f = opaque;
	size_t n = strlen(msg);

	(void)level;
	if (f->log_len + n + 2 < sizeof(f->log)) {
		memcpy(f->log + f->log_len, msg, n);
		f->log_len += n;
		f->log[f->log_len++] = '\n';
		f->log[f->log_len] = 0;
	}
}

static uint8_t *map_memfd(size_t size)
{
	int fd = memfd_create("ramdev-test-bar", 0);
	void *p;

	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static void add_region(struct fx *f, struct ramdev_region *r, uint64_t at)
{
	assert_int_equal(0, ramdev_region_add(ramdev_as_root(f->as), at, r, 0));
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ram_mem = calloc(1, RAM_SIZE);
	f->ramd_mem = map_memfd(RAMD_SIZE);
	assert_non_null(f->ram_mem);
	assert_non_null(f->ramd_mem);
	assert_int_equal(0, ramdev_as_new(&f->as, "test"));
	ramdev_as_set_log(f->as, capture_log, f);
	assert_int_equal(0, ramdev_region_new_ram(&f->ram, "ram", f->ram_mem,
						  RAM_SIZE));
	assert_int_equal(0, ramdev_region_new_ramd(&f->ramd, "bar",
						   f->ramd_mem, RAMD_SIZE));
	assert_int_equal(0, ramdev_region_new_mmio(&f->mmio, "mmio", MMIO_SIZE,
						   &mmio_ops, &f->dev));
	ramdev_as_begin(f->as);
	add_region(f, f->ram, RAM_BASE);
	add_region(f, f->ramd, RAMD_BASE);
	add_region(f, f->mmio, MMIO_BASE);
	assert_int_equal(0, ramdev_as_commit(f->as));
	assert_int_equal(0, ramdev_dma_new(&f->dma, f->as, NULL));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ramdev_dma_free(f->dma);
	ramdev_region_unref(f->ram);
	ramdev_region_unref(f->ramd);
	ramdev_region_unref(f->mmio);
	ramdev_as_free(f->as);
	munmap(f->ramd_mem, RAMD_SIZE);
	free(f->ram_mem);
	free(f);
	return 0;
}

/*
 * Run @fn with stderr redirected, and return what was logged either to the
 * address space's log callback or to stderr (the fallback sink).
 */
static const char *logged(struct fx *f, void (*fn)(struct fx *))
{
	static char buf[4096];
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n;

	assert_non_null(tmp);
	f->log_len = 0;
	f->log[0] = 0;
	fflush(stderr);
	dup2(fileno(tmp), 2);
	fn(f);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, sizeof(buf) - 1, tmp);
	buf[n] = 0;
	fclose(tmp);
	strncat(buf, f->log, sizeof(buf) - 1 - strlen(buf));
	return buf;
}

static struct ramdev_dma *new_dma(struct fx *f, enum ramdev_dma_policy pol,
				  size_t pool)
{
	struct ramdev_dma_config cfg = { .policy = pol, .bounce_size = pool };
	struct ramdev_dma *dma;

	assert_int_equal(0, ramdev_dma_new(&dma, f->as, &cfg));
	return dma;
}

/* ---- direct and bounced maps ---- */

static void test_dma_map_ramd_direct(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma_seg seg;
	struct ramdev_dma_stats st;
	static uint8_t data[1 << 20];

	fill(data, sizeof(data), 1);
	assert_int_equal(0, ramdev_dma_map(f->dma, RAMD_BASE, 1 << 20,
					   RAMDEV_DMA_FROM_DEVICE, &seg));
	assert_int_equal(1 << 20, seg.len);
	assert_int_equal(RAMDEV_SEG_DEV, seg.kind);
	assert_ptr_equal(f->ramd_mem, seg.base);
	assert_int_equal(0, ramdev_dma_seg_write(&seg, 0, data, sizeof(data)));
	ramdev_dma_unmap(f->dma, &seg, seg.len);
	assert_memory_equal(data, f->ramd_mem, sizeof(data));
	ramdev_dma_get_stats(f->dma, &st);
	assert_int_equal(1, st.maps_direct);
	assert_int_equal(0, st.maps_bounced);
	assert_int_equal(1 << 20, st.bytes_mapped);
}

static void test_dma_map_ram_direct(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma_seg seg;
	uint8_t out[100];

	fill(f->ram_mem + 0x1234, 100, 2);
	assert_int_equal(0, ramdev_dma_map(f->dma, RAM_BASE + 0x1234, 100,
					   RAMDEV_DMA_TO_DEVICE, &seg));
	assert_int_equal(100, seg.len);
	assert_int_equal(RAMDEV_SEG_RAM, seg.kind);
	assert_ptr_equal(f->ram_mem + 0x1234, seg.base);
	assert_int_equal(0, ramdev_dma_seg_read(&seg, 0, out, 100));
	assert_memory_equal(f->ram_mem + 0x1234, out, 100);
	ramdev_dma_unmap(f->dma, &seg, 0);
}

static void test_dma_map_mmio_bounce(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma_seg seg;
	uint8_t in[300], out[300];
	unsigned long reads;

	fill(f->dev.mem + 0x100, 300, 3);
	assert_int_equal(0, ramdev_dma_map(f->dma, MMIO_BASE + 0x100, 300,
					   RAMDEV_DMA_TO_DEVICE, &seg));
	assert_int_equal(300, seg.len);
	assert_int_equal(RAMDEV_SEG_RAM, seg.kind);
	assert_int_equal(0, ramdev_dma_seg_read(&seg, 0, out, 300));
	assert_memory_equal(f->dev.mem + 0x100, out, 300);
	ramdev_dma_unmap(f->dma, &seg, 0);
	assert_int_equal(0, f->dev.writes);

	/* FROM_DEVICE: only the @written bytes reach the device. */
	fill(in, sizeof(in), 4);
	memset(f->dev.mem + 0x800, 0xaa, 400);
	assert_int_equal(0, ramdev_dma_map(f->dma, MMIO_BASE + 0x800, 300,
					   RAMDEV_DMA_FROM_DEVICE, &seg));
	reads = f->dev.reads;
	assert_int_equal(0, ramdev_dma_seg_write(&seg, 0, in, 300));
	ramdev_dma_unmap(f->dma, &seg, 200);
	assert_int_equal(reads, f->dev.reads); /* FROM_DEVICE: no fill */
	assert_memory_equal(in, f->dev.mem + 0x800, 200);
	assert_int_equal(0xaa, f->dev.mem[0x800 + 200]);
	assert_int_equal(200, f->dev.bytes_written);
}

static void test_dma_map_qemu_bounce_fails_like_qemu(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma *dma = new_dma(f, RAMDEV_DMA_QEMU_BOUNCE, 0);
	struct ramdev_dma_seg a, b;
	struct ramdev_dma_stats st;

	fill(f->ramd_mem, 8192, 5);
	/* RAMD is indirect here: a 64 KiB request is capped to the buffer. */
	assert_int_equal(0, ramdev_dma_map(dma, RAMD_BASE, 65536,
					   RAMDEV_DMA_TO_DEVICE, &a));
	assert_int_equal(4096, a.len);
	assert_int_equal(RAMDEV_SEG_RAM, a.kind);
	assert_ptr_not_equal(f->ramd_mem, a.base);
	assert_memory_equal(f->ramd_mem, a.base, 4096);
	/* The single buffer is in use: the second map fails, RAM or not. */
	assert_int_equal(-ENOBUFS, ramdev_dma_map(dma, RAMD_BASE + 4096, 16,
						  RAMDEV_DMA_TO_DEVICE, &b));
	assert_int_equal(-ENOBUFS, ramdev_dma_map(dma, MMIO_BASE, 16,
						  RAMDEV_DMA_TO_DEVICE, &b));
	/* RAM is still direct, as in QEMU. */
	assert_int_equal(0, ramdev_dma_map(dma, RAM_BASE, 65536,
					   RAMDEV_DMA_TO_DEVICE, &b));
	assert_int_equal(65536, b.len);
	ramdev_dma_unmap(dma, &b, 0);
	ramdev_dma_unmap(dma, &a, 0);
	assert_int_equal(0, ramdev_dma_map(dma, RAMD_BASE + 4096, 4096,
					   RAMDEV_DMA_TO_DEVICE, &b));
	assert_memory_equal(f->ramd_mem + 4096, b.base, 4096);
	ramdev_dma_unmap(dma, &b, 0);
	ramdev_dma_get_stats(dma, &st);
	assert_int_equal(2, st.bounce_failures);
	assert_int_equal(2, st.maps_bounced);
	ramdev_dma_free(dma);
}

static void test_dma_map_qemu_bounce_copies_back(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma *dma = new_dma(f, RAMDEV_DMA_QEMU_BOUNCE, 0);
	struct ramdev_dma_seg seg;
	uint8_t in[4096];

	fill(in, sizeof(in), 6);
	memset(f->ramd_mem, 0x5a, 8192);
	assert_int_equal(0, ramdev_dma_map(dma, RAMD_BASE, 8192,
					   RAMDEV_DMA_FROM_DEVICE, &seg));
	assert_int_equal(4096, seg.len);
	assert_int_equal(0, ramdev_dma_seg_write(&seg, 0, in, 4096));
	ramdev_dma_unmap(dma, &seg, 1000);
	assert_memory_equal(in, f->ramd_mem, 1000);
	assert_int_equal(0x5a, f->ramd_mem[1000]);
	ramdev_dma_free(dma);
}

static int on_free_calls;

static void count_on_free(void *opaque)
{
	(void)opaque;
	on_free_calls++;
}

static void test_dma_on_free_direct(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma *dma = new_dma(f, RAMDEV_DMA_DIRECT, 256);
	struct ramdev_dma_seg a, b;
	struct ramdev_dma_stats st;

	on_free_calls = 0;
	assert_int_equal(0, ramdev_dma_map(dma, MMIO_BASE, 1000,
					   RAMDEV_DMA_TO_DEVICE, &a));
	assert_int_equal(256, a.len); /* capped to the pool */
	assert_int_equal(-EAGAIN, ramdev_dma_map(dma, MMIO_BASE + 256, 16,
						 RAMDEV_DMA_TO_DEVICE, &b));
	/* RAMD stays direct under the DIRECT policy even with a full pool. */
	assert_int_equal(0, ramdev_dma_map(dma, RAMD_BASE, 65536,
					   RAMDEV_DMA_TO_DEVICE, &b));
	ramdev_dma_unmap(dma, &b, 0);
	assert_int_equal(0, ramdev_dma_on_free(dma, count_on_free, NULL));
	ramdev_dma_unmap(dma, &a, 0);
	assert_int_equal(1, on_free_calls);
	assert_int_equal(0, ramdev_dma_map(dma, MMIO_BASE + 256, 16,
					   RAMDEV_DMA_TO_DEVICE, &b));
	ramdev_dma_unmap(dma, &b, 0);
	assert_int_equal(1, on_free_calls); /* once, not on every release */
	ramdev_dma_get_stats(dma, &st);
	assert_int_equal(1, st.bounce_retries);
	ramdev_dma_free(dma);
}

/* ---- thousands of concurrent maps through a tiny pool ---- */

#define THREADS 4
#define MAPS_PER_THREAD 2000
#define SLICE (MMIO_SIZE / THREADS)

struct worker {
	pthread_barrier_t *start;
	struct ramdev_dma *dma;
	struct mmio_dev *dev;
	unsigned id;
	sem_t freed;
	unsigned done;
	unsigned bad;
};

static void post_freed(void *opaque)
{
	sem_post(&((struct worker *)opaque)->freed);
}

/* Map, retrying on -EAGAIN: register interest first, then retry once, so
 * a release between the failure and the registration is not lost. */
static int map_retry(struct worker *w, uint64_t gpa, uint64_t len,
		     enum ramdev_dma_dir dir, struct ramdev_dma_seg *seg)
{
	for (;;) {
		int ret = ramdev_dma_map(w->dma, gpa, len, dir, seg);

		if (ret != -EAGAIN)
			return ret;
		if (ramdev_dma_on_free(w->dma, post_freed, w))
			return -ENOMEM;
		ret = ramdev_dma_map(w->dma, gpa, len, dir, seg);
		if (ret != -EAGAIN)
			return ret;
		sem_wait(&w->freed);
	}
}

/* Write @n bytes of @src to the device at @gpa through bounced maps. */
static int bounce_write(struct worker *w, uint64_t gpa, const uint8_t *src,
			size_t n)
{
	while (n) {
		struct ramdev_dma_seg seg;
		int ret = map_retry(w, gpa, n, RAMDEV_DMA_FROM_DEVICE, &seg);

		if (ret)
			return ret;
		ramdev_dma_seg_write(&seg, 0, src, seg.len);
		sched_yield(); /* hold the space a while: others must wait */
		ramdev_dma_unmap(w->dma, &seg, seg.len);
		gpa += seg.len;
		src += seg.len;
		n -= seg.len;
	}
	return 0;
}

static int bounce_check(struct worker *w, uint64_t gpa, const uint8_t *want,
			size_t n)
{
	while (n) {
		struct ramdev_dma_seg seg;
		int ret = map_retry(w, gpa, n, RAMDEV_DMA_TO_DEVICE, &seg);

		if (ret)
			return ret;
		ret = memcmp(seg.base, want, seg.len) ? -EIO : 0;
		ramdev_dma_unmap(w->dma, &seg, 0);
		if (ret)
			return ret;
		gpa += seg.len;
		want += seg.len;
		n -= seg.len;
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint8_t data[300];

	pthread_barrier_wait(w->start);
	for (unsigned i = 0; i < MAPS_PER_THREAD; i++) {
		size_t n = 1 + (i * 37 + w->id * 11) % sizeof(data);
		uint64_t gpa = MMIO_BASE + w->id * SLICE + (i * 97) % (SLICE - n);

		fill(data, n, w->id * 100000 + i);
		if (bounce_write(w, gpa, data, n) ||
		    bounce_check(w, gpa, data, n))
			w->bad++;
		else
			w->done++;
	}
	return NULL;
}

static void test_dma_map_concurrent_tiny_pool(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma *dma = new_dma(f, RAMDEV_DMA_DIRECT, 256);
	struct worker w[THREADS];
	pthread_t t[THREADS];
	pthread_barrier_t start;
	struct ramdev_dma_stats st;
	struct ramdev_dma_seg hold;

	/* Start with the pool full: every worker's first map must get -EAGAIN
	 * and be woken by on_free, whatever the scheduler does. */
	assert_int_equal(0, ramdev_dma_map(dma, MMIO_BASE, 256,
					   RAMDEV_DMA_TO_DEVICE, &hold));
	pthread_barrier_init(&start, NULL, THREADS);
	for (unsigned i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .start = &start, .dma = dma,
					.dev = &f->dev, .id = i };
		sem_init(&w[i].freed, 0, 0);
		assert_int_equal(0, pthread_create(&t[i], NULL, worker_main,
						   &w[i]));
	}
	do {
		usleep(1000);
		ramdev_dma_get_stats(dma, &st);
	} while (st.bounce_retries < 2 * THREADS);
	ramdev_dma_unmap(dma, &hold, 0);
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(0, w[i].bad);
		assert_int_equal(MAPS_PER_THREAD, w[i].done);
	}
	ramdev_dma_get_stats(dma, &st);
	assert_true(st.maps_bounced >= 2 * THREADS * MAPS_PER_THREAD);
	print_message("%llu bounced maps, %llu -EAGAIN retries\n",
		      (unsigned long long)st.maps_bounced,
		      (unsigned long long)st.bounce_retries);
	ramdev_dma_free(dma); /* frees waiters left registered by retries */
	for (unsigned i = 0; i < THREADS; i++)
		sem_destroy(&w[i].freed);
	pthread_barrier_destroy(&start);
}

/* ---- scatter-gather ---- */

static void test_dma_map_sg_crosses_regions(void **state)
{
	struct fx *f = *state;
	/* ram's last 100 bytes + ramd's first 200, then 100 bytes of mmio. */
	struct ramdev_sg sg[] = { { RAMD_BASE - 100, 300 },
				  { MMIO_BASE, 100 } };
	struct ramdev_dma_seg segs[4];

	assert_int_equal(3, ramdev_dma_map_sg(f->dma, sg, 2,
					      RAMDEV_DMA_TO_DEVICE, segs, 4));
	assert_int_equal(100, segs[0].len);
	assert_int_equal(RAMDEV_SEG_RAM, segs[0].kind);
	assert_ptr_equal(f->ram_mem + RAM_SIZE - 100, segs[0].base);
	assert_int_equal(200, segs[1].len);
	assert_int_equal(RAMDEV_SEG_DEV, segs[1].kind);
	assert_ptr_equal(f->ramd_mem, segs[1].base);
	assert_int_equal(100, segs[2].len);
	assert_int_equal(RAMDEV_SEG_RAM, segs[2].kind);
	ramdev_dma_unmap_sg(f->dma, segs, 3, 0);
}

/* After a failed sg map the whole pool must be free again. */
static void assert_pool_free(struct ramdev_dma *dma, size_t size)
{
	struct ramdev_dma_seg seg;

	assert_int_equal(0, ramdev_dma_map(dma, MMIO_BASE, size,
					   RAMDEV_DMA_TO_DEVICE, &seg));
	assert_int_equal(size, seg.len);
	ramdev_dma_unmap(dma, &seg, 0);
}

static void test_dma_map_sg_e2big(void **state)
{
	struct fx *f = *state;
	struct ramdev_sg sg[] = { { RAMD_BASE - 100, 300 },
				  { MMIO_BASE, 100 } };
	struct ramdev_dma_seg segs[2];

	assert_int_equal(-E2BIG, ramdev_dma_map_sg(f->dma, sg, 2,
						   RAMDEV_DMA_TO_DEVICE, segs,
						   2));
	assert_pool_free(f->dma, 4096);
}

static void test_dma_map_sg_pool_busy(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma *direct = new_dma(f, RAMDEV_DMA_DIRECT, 256);
	struct ramdev_dma *qemu = new_dma(f, RAMDEV_DMA_QEMU_BOUNCE, 0);
	/* 512 bytes of MMIO need two bounce segments: more than either pool. */
	struct ramdev_sg sg[] = { { RAM_BASE, 64 }, { MMIO_BASE, 512 } };
	struct ramdev_sg sg2[] = { { RAMD_BASE, 64 }, { MMIO_BASE, 16 } };
	struct ramdev_dma_seg segs[8];

	assert_int_equal(-EAGAIN, ramdev_dma_map_sg(direct, sg, 2,
						    RAMDEV_DMA_TO_DEVICE, segs,
						    8));
	assert_pool_free(direct, 256);
	/* QEMU: the RAMD entry takes the buffer, the MMIO one fails. */
	assert_int_equal(-ENOBUFS, ramdev_dma_map_sg(qemu, sg2, 2,
						     RAMDEV_DMA_TO_DEVICE,
						     segs, 8));
	assert_pool_free(qemu, 4096);
	ramdev_dma_free(direct);
	ramdev_dma_free(qemu);
}

static void test_dma_unmap_sg_written_spans_segments(void **state)
{
	struct fx *f = *state;
	struct ramdev_sg sg[] = { { MMIO_BASE + 0x1000, 64 },
				  { RAMD_BASE, 64 } };
	struct ramdev_dma_seg segs[2];
	uint8_t in[128];

	fill(in, sizeof(in), 8);
	memset(f->ramd_mem, 0, 64);
	assert_int_equal(2, ramdev_dma_map_sg(f->dma, sg, 2,
					      RAMDEV_DMA_FROM_DEVICE, segs, 2));
	assert_int_equal(0, ramdev_dma_seg_write(&segs[0], 0, in, 64));
	assert_int_equal(0, ramdev_dma_seg_write(&segs[1], 0, in + 64, 64));
	ramdev_dma_unmap_sg(f->dma, segs, 2, 100);
	assert_memory_equal(in, f->dev.mem + 0x1000, 64);
	assert_memory_equal(in + 64, f->ramd_mem, 64); /* direct: all there */
}

/* ---- dirty log ---- */

static void test_dma_unmap_marks_dirty(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma_seg seg;
	uint64_t bits[16];

	assert_int_equal(0, ramdev_region_dirty_enable(f->ramd, true));
	assert_int_equal(0, ramdev_region_dirty_enable(f->ram, true));
	/* 5 pages mapped at page 1 + 100; the device wrote 4096 bytes:
	 * [0x1064, 0x2064) touches pages 1 and 2 only. */
	assert_int_equal(0, ramdev_dma_map(f->dma, RAMD_BASE + 4096 + 100,
					   5 * 4096, RAMDEV_DMA_FROM_DEVICE,
					   &seg));
	ramdev_dma_unmap(f->dma, &seg, 4096);
	assert_int_equal(2, ramdev_region_dirty_take(f->ramd, bits, 16));
	assert_int_equal(0x6, bits[0]);
	/* Reads do not dirty anything; nor does a write of 0 bytes. */
	assert_int_equal(0, ramdev_dma_map(f->dma, RAM_BASE, 8192,
					   RAMDEV_DMA_TO_DEVICE, &seg));
	ramdev_dma_unmap(f->dma, &seg, 8192);
	assert_int_equal(0, ramdev_dma_map(f->dma, RAM_BASE, 8192,
					   RAMDEV_DMA_BIDIR, &seg));
	ramdev_dma_unmap(f->dma, &seg, 0);
	assert_int_equal(0, ramdev_region_dirty_take(f->ram, bits, 16));
	/* ramdev_dma_write marks at once. */
	assert_int_equal(0, ramdev_dma_write(f->dma, RAM_BASE + 3 * 4096,
					     "x", 1));
	assert_int_equal(1, ramdev_region_dirty_take(f->ram, bits, 16));
	assert_int_equal(0x8, bits[0]);
}

/* ---- bad input ---- */

static void test_dma_map_bad_args(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma_seg seg;

	assert_int_equal(-EINVAL, ramdev_dma_map(f->dma, RAM_BASE, 0,
						 RAMDEV_DMA_TO_DEVICE, &seg));
	assert_int_equal(-EINVAL, ramdev_dma_map(f->dma, RAM_BASE, 1, 0, &seg));
	assert_int_equal(-EINVAL, ramdev_dma_map(f->dma, RAM_BASE, 1, 4, &seg));
	assert_int_equal(-EINVAL, ramdev_dma_map(NULL, RAM_BASE, 1,
						 RAMDEV_DMA_TO_DEVICE, &seg));
	assert_int_equal(-EINVAL, ramdev_dma_map(f->dma, RAM_BASE, 1,
						 RAMDEV_DMA_TO_DEVICE, NULL));
	assert_int_equal(-EFAULT, ramdev_dma_map(f->dma, HOLE_GPA, 1,
						 RAMDEV_DMA_TO_DEVICE, &seg));
}

static void test_dma_new_bad_args(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma_config cfg = { .policy = 7 };
	struct ramdev_dma *dma;

	assert_int_equal(-EINVAL, ramdev_dma_new(&dma, f->as, &cfg));
	assert_int_equal(-EINVAL, ramdev_dma_new(&dma, NULL, NULL));
	assert_int_equal(-EINVAL, ramdev_dma_new(NULL, f->as, NULL));
}

static void test_dma_map_overflow_top_of_space(void **state)
{
	struct fx *f = *state;
	static uint8_t top_mem[4096];
	struct ramdev_region *top;
	struct ramdev_dma_seg seg;
	struct ramdev_sg sg = { UINT64_MAX - 4095, 4097 };

	assert_int_equal(0, ramdev_region_new_ram(&top, "top", top_mem, 4096));
	add_region(f, top, UINT64_MAX - 4095);
	/* The last page of the 64-bit space maps; one byte more wraps. */
	assert_int_equal(0, ramdev_dma_map(f->dma, UINT64_MAX - 4095, 4096,
					   RAMDEV_DMA_TO_DEVICE, &seg));
	assert_int_equal(4096, seg.len);
	ramdev_dma_unmap(f->dma, &seg, 0);
	assert_int_equal(0, ramdev_dma_map(f->dma, UINT64_MAX, 1,
					   RAMDEV_DMA_TO_DEVICE, &seg));
	ramdev_dma_unmap(f->dma, &seg, 0);
	assert_int_equal(-EOVERFLOW, ramdev_dma_map(f->dma, UINT64_MAX, 2,
						    RAMDEV_DMA_TO_DEVICE,
						    &seg));
	/* [1, 2^64) ends exactly at the top: no wrap, capped to ram. */
	assert_int_equal(0, ramdev_dma_map(f->dma, RAM_BASE + 1, UINT64_MAX,
					   RAMDEV_DMA_TO_DEVICE, &seg));
	assert_int_equal(RAM_SIZE - 1, seg.len);
	ramdev_dma_unmap(f->dma, &seg, 0);
	assert_int_equal(-EOVERFLOW, ramdev_dma_map(f->dma, 2, UINT64_MAX,
						    RAMDEV_DMA_TO_DEVICE,
						    &seg));
	assert_int_equal(-EOVERFLOW, ramdev_dma_map_sg(f->dma, &sg, 1,
						       RAMDEV_DMA_TO_DEVICE,
						       &seg, 1));
	assert_int_equal(-EOVERFLOW, ramdev_dma_read(f->dma, UINT64_MAX,
						     top_mem, 2));
	assert_int_equal(0, ramdev_region_del(ramdev_as_root(f->as), top));
	ramdev_region_unref(top);
}

static struct ramdev_dma_seg twice_seg;

static void unmap_twice_seg(struct fx *f)
{
	ramdev_dma_unmap(f->dma, &twice_seg, 0);
}

static void test_dma_unmap_twice_is_caught(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma_seg other;
	uint8_t byte;

	assert_int_equal(0, ramdev_dma_map(f->dma, MMIO_BASE, 64,
					   RAMDEV_DMA_TO_DEVICE, &twice_seg));
	ramdev_dma_unmap(f->dma, &twice_seg, 0);
	/* A second map takes the same bounce space; the stale unmap must not
	 * free it from under this mapping. */
	assert_int_equal(0, ramdev_dma_map(f->dma, MMIO_BASE, 4096,
					   RAMDEV_DMA_TO_DEVICE, &other));
	assert_non_null(strstr(logged(f, unmap_twice_seg), "unmapped twice"));
	assert_int_equal(-EINVAL, ramdev_dma_seg_read(&twice_seg, 0,
						      &byte, 1));
	ramdev_dma_unmap(f->dma, &other, 0);
	assert_pool_free(f->dma, 4096);
	/* Never mapped: zeroed, and a failed map. */
	memset(&twice_seg, 0, sizeof(twice_seg));
	assert_non_null(strstr(logged(f, unmap_twice_seg), "never mapped"));
	assert_int_equal(-EFAULT, ramdev_dma_map(f->dma, HOLE_GPA, 1,
						 RAMDEV_DMA_TO_DEVICE,
						 &twice_seg));
	assert_non_null(strstr(logged(f, unmap_twice_seg), "never mapped"));
}

static void test_dma_seg_bounds(void **state)
{
	struct fx *f = *state;
	struct ramdev_dma_seg seg;
	uint8_t b[64];

	assert_int_equal(0, ramdev_dma_map(f->dma, RAMD_BASE, 64,
					   RAMDEV_DMA_BIDIR, &seg));
	assert_int_equal(0, ramdev_dma_seg_write(&seg, 32, b, 32));
	assert_int_equal(-EINVAL, ramdev_dma_seg_write(&seg, 33, b, 32));
	assert_int_equal(-EINVAL, ramdev_dma_seg_read(&seg, 0, b, 65));
	assert_int_equal(-EINVAL, ramdev_dma_seg_read(&seg, SIZE_MAX, b, 2));
	assert_int_equal(-EINVAL, ramdev_dma_seg_read(&seg, 2, b, SIZE_MAX));
	assert_int_equal(0, ramdev_dma_seg_read(&seg, 64, b, 0));
	ramdev_dma_unmap(f->dma, &seg, 0);
}

/* ---- copies without bounce space ---- */

static void test_dma_read_write_across_regions(void **state)
{
	struct fx *f = *state;
	static uint8_t in[8192], out[8192];
	struct ramdev_dma *dma = new_dma(f, RAMDEV_DMA_QEMU_BOUNCE, 0);
	struct ramdev_dma_seg hold;

	/* Even with the only bounce buffer held, copies go through. */
	assert_int_equal(0, ramdev_dma_map(dma, MMIO_BASE, 16,
					   RAMDEV_DMA_TO_DEVICE, &hold));
	fill(in, sizeof(in), 9);
	assert_int_equal(0, ramdev_dma_write(dma, RAMD_BASE - 4096, in, 8192));
	assert_memory_equal(in, f->ram_mem + RAM_SIZE - 4096, 4096);
	assert_memory_equal(in + 4096, f->ramd_mem, 4096);
	assert_int_equal(0, ramdev_dma_read(dma, RAMD_BASE - 4096, out, 8192));
	assert_memory_equal(in, out, 8192);
	assert_int_equal(0, ramdev_dma_write(dma, MMIO_BASE + 0x100, in, 5000));
	assert_memory_equal(in, f->dev.mem + 0x100, 5000);
	assert_int_equal(0, ramdev_dma_read(dma, MMIO_BASE + 0x100, out, 5000));
	assert_memory_equal(in, out, 5000);
	ramdev_dma_unmap(dma, &hold, 0);
	ramdev_dma_free(dma);
}

static void test_dma_write_hole_writes_nothing(void **state)
{
	struct fx *f = *state;
	static uint8_t in[8192], out[8192];

	fill(in, sizeof(in), 10);
	memset(f->dev.mem + MMIO_SIZE - 4096, 0x11, 4096);
	/* mmio's last 4 KiB, then a hole. */
	assert_int_equal(-EFAULT, ramdev_dma_write(f->dma,
						   MMIO_BASE + MMIO_SIZE - 4096,
						   in, 8192));
	assert_int_equal(0, f->dev.writes);
	assert_int_equal(0x11, f->dev.mem[MMIO_SIZE - 4096]);
	memset(out, 0, sizeof(out));
	assert_int_equal(-EFAULT, ramdev_dma_read(f->dma,
						  MMIO_BASE + MMIO_SIZE - 4096,
						  out, 8192));
	assert_int_equal(0x11, out[0]);    /* filled up to the hole */
	assert_int_equal(0x11, out[4095]);
	assert_int_equal(0, out[4096]);    /* not past it */
	assert_int_equal(0, ramdev_dma_write(f->dma, RAM_BASE, in, 0));
}

/* ---- hot removal under a mapping ---- */

struct hot {
	struct fx *f;
	struct ramdev_region *r;
	uint8_t *mem;
	atomic_int released;
	atomic_int stop;
	atomic_ulong maps;
	atomic_uint next_id;
	atomic_int bad;
};

static void hot_release(void *opaque)
{
	struct hot *h = opaque;

	/* Only now may the BAR mapping go away: any DMA left would fault. */
	munmap(h->mem, 65536);
	atomic_store(&h->released, 1);
}

static void *hot_worker(void *arg)
{
	struct hot *h = arg;
	/* Each worker its own bytes: concurrent stores to one device byte
	 * would be a (harmless, but reported) race in the test itself. */
	unsigned id = atomic_fetch_add(&h->next_id, 1) % 64;
	uint64_t gpa = 0x30000000ull + id * 512ull;
	uint8_t buf[512];

	fill(buf, sizeof(buf), 11);
	while (!atomic_load(&h->stop)) {
		struct ramdev_dma_seg seg;

		if (ramdev_dma_map(h->f->dma, gpa, 512, RAMDEV_DMA_BIDIR, &seg))
			break; /* removed: -EFAULT */
		if (seg.kind != RAMDEV_SEG_DEV || seg.len != 512)
			atomic_store(&h->bad, 1);
		ramdev_dma_seg_write(&seg, 0, buf, 512);
		if (atomic_load(&h->released))
			atomic_store(&h->bad, 2); /* freed under a mapping */
		ramdev_dma_unmap(h->f->dma, &seg, 512);
		atomic_fetch_add(&h->maps, 1);
	}
	return NULL;
}

static void wait_released(struct hot *h)
{
	for (int i = 0; i < 2000 && !atomic_load(&h->released); i++)
		usleep(1000);
}

static void hot_add(struct hot *h)
{
	h->mem = map_memfd(65536);
	assert_non_null(h->mem);
	atomic_store(&h->released, 0);
	assert_int_equal(0, ramdev_region_new_ramd(&h->r, "hot", h->mem,
						   65536));
	ramdev_region_set_release(h->r, hot_release, h);
	add_region(h->f, h->r, 0x30000000ull);
	ramdev_region_unref(h->r); /* the address space holds it now */
}

static void test_dma_hot_remove_held_mapping(void **state)
{
	struct hot h = { .f = *state };
	struct ramdev_dma_seg seg, other;

	hot_add(&h);
	assert_int_equal(0, ramdev_dma_map(h.f->dma, 0x30000000ull, 65536,
					   RAMDEV_DMA_FROM_DEVICE, &seg));
	assert_int_equal(0, ramdev_region_del(ramdev_as_root(h.f->as), h.r));
	usleep(50000);
	assert_int_equal(0, atomic_load(&h.released));
	/* The mapping still works: the memory is still there. */
	assert_int_equal(0, ramdev_dma_seg_write(&seg, 65535, "z", 1));
	assert_int_equal(-EFAULT, ramdev_dma_map(h.f->dma, 0x30000000ull, 1,
						 RAMDEV_DMA_TO_DEVICE, &other));
	ramdev_dma_unmap(h.f->dma, &seg, 1);
	wait_released(&h);
	assert_int_equal(1, atomic_load(&h.released));
}

static void test_dma_hot_remove_stress(void **state)
{
	struct hot h = { .f = *state };
	pthread_t t[3];
	unsigned long before;

	for (int round = 0; round < 50; round++) {
		hot_add(&h);
		atomic_store(&h.stop, 0);
		before = atomic_load(&h.maps);
		for (int i = 0; i < 3; i++)
			pthread_create(&t[i], NULL, hot_worker, &h);
		while (atomic_load(&h.maps) < before + 50)
			usleep(100);
		assert_int_equal(0, ramdev_region_del(ramdev_as_root(h.f->as),
						      h.r));
		usleep(2000); /* workers now race the removal */
		atomic_store(&h.stop, 1);
		for (int i = 0; i < 3; i++)
			pthread_join(t[i], NULL);
		wait_released(&h);
		assert_int_equal(1, atomic_load(&h.released));
		assert_int_equal(0, atomic_load(&h.bad));
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_dma_map_ramd_direct),
		T(test_dma_map_ram_direct),
		T(test_dma_map_mmio_bounce),
		T(test_dma_map_qemu_bounce_fails_like_qemu),
		T(test_dma_map_qemu_bounce_copies_back),
		T(test_dma_on_free_direct),
		T(test_dma_map_concurrent_tiny_pool),
		T(test_dma_map_sg_crosses_regions),
		T(test_dma_map_sg_e2big),
		T(test_dma_map_sg_pool_busy),
		T(test_dma_unmap_sg_written_spans_segments),
		T(test_dma_unmap_marks_dirty),
		T(test_dma_map_bad_args),
		T(test_dma_new_bad_args),
		T(test_dma_map_overflow_top_of_space),
		T(test_dma_unmap_twice_is_caught),
		T(test_dma_seg_bounds),
		T(test_dma_read_write_across_regions),
		T(test_dma_write_hole_writes_nothing),
		T(test_dma_hot_remove_held_mapping),
		T(test_dma_hot_remove_stress),
	};

	return cmocka_run_group_tests_name("dma", tests, NULL, NULL);
}
