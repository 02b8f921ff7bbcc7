// SPDX-License-Identifier: MIT
/* The DMA tests' fixture and shared helpers (see test_dma.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test_dma.h"

void fill(uint8_t *p, size_t n, unsigned seed)
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

const struct ramdev_mmio_ops mmio_ops = {
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

uint8_t *map_memfd(size_t size)
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

void add_region(struct fx *f, struct ramdev_region *r, uint64_t at)
{
	assert_int_equal(0, ramdev_region_add(ramdev_as_root(f->as), at, r, 0));
}

int setup(void **state)
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

int teardown(void **state)
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
const char *logged(struct fx *f, void (*fn)(struct fx *))
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

struct ramdev_dma *new_dma(struct fx *f, enum ramdev_dma_policy pol,
				  size_t pool)
{
	struct ramdev_dma_config cfg = { .policy = pol, .bounce_size = pool };
	struct ramdev_dma *dma;

	assert_int_equal(0, ramdev_dma_new(&dma, f->as, &cfg));
	return dma;
}

/* After a failed sg map the whole pool must be free again. */
void assert_pool_free(struct ramdev_dma *dma, size_t size)
{
	struct ramdev_dma_seg seg;

	assert_int_equal(0, ramdev_dma_map(dma, MMIO_BASE, size,
					   RAMDEV_DMA_TO_DEVICE, &seg));
	assert_int_equal(size, seg.len);
	ramdev_dma_unmap(dma, &seg, 0);
}
