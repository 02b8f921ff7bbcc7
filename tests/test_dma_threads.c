// SPDX-License-Identifier: MIT
/* DMA tests with threads: a tiny bounce pool shared by concurrent mappers,
 * and regions hot-removed under running DMA (see test_dma.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test_dma.h"

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

void test_dma_map_concurrent_tiny_pool(void **state)
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

void test_dma_hot_remove_held_mapping(void **state)
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

void test_dma_hot_remove_stress(void **state)
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
