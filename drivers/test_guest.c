// SPDX-License-Identifier: MIT
/* test_guest: guest RAM, a RAMD "BAR" and an MMIO window for tests. */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ramdev/access.h"
#include "test_guest.h"

struct mapping {
	uint8_t *base; /* start of the reservation (a guard page) */
	size_t len;    /* guard + data + guard */
};

/* Release callback: the region is gone, so is its memory. */
static void unmap_release(void *opaque)
{
	struct mapping *m = opaque;

	munmap(m->base, m->len);
	free(m);
}

/* memfd of @size bytes mapped between two PROT_NONE guard pages. */
static uint8_t *map_guarded(const char *name, uint64_t size, struct mapping **mp)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct mapping *m;
	uint8_t *data;
	int fd;

	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->len = size + 2 * page;
	m->base = mmap(NULL, m->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m->base == MAP_FAILED) {
		free(m);
		return NULL;
	}
	fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) != 0)
		goto fail;
	data = mmap(m->base + page, size, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_FIXED, fd, 0);
	if (data == MAP_FAILED)
		goto fail;
	close(fd);
	*mp = m;
	return data;
fail:
	if (fd >= 0)
		close(fd);
	munmap(m->base, m->len);
	free(m);
	return NULL;
}

static int mmio_read(void *opaque, uint64_t off, unsigned size, uint64_t *val)
{
	struct test_guest *g = opaque;
	uint64_t v = 0;

	g->mmio_accesses++;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)g->mmio_mem[off + i] << (8 * i);
	*val = v;
	return 0;
}

static int mmio_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct test_guest *g = opaque;

	g->mmio_accesses++;
	for (unsigned i = 0; i < size; i++)
		g->mmio_mem[off + i] = (uint8_t)(val >> (8 * i));
	return 0;
}

static const struct ramdev_mmio_ops mmio_ops = {
	.read = mmio_read,
	.write = mmio_write,
	.valid = { .min_size = 1, .max_size = 8, .unaligned = true },
	.impl = { .min_size = 1, .max_size = 8, .unaligned = true },
};

static int add_memory(struct test_guest *g, bool device, uint64_t gpa,
		      uint64_t size, void *given, unsigned dma_width)
{
	struct ramdev_region **rp = device ? &g->ramd : &g->ram;
	struct mapping *m = NULL;
	uint8_t *host = given;
	int ret;

	if (!host)
		host = map_guarded(device ? "ramd" : "ram", size, &m);
	if (!host)
		return -ENOMEM;
	ret = device ? ramdev_region_new_ramd(rp, "bar", host, size)
		     : ramdev_region_new_ram(rp, "ram", host, size);
	if (ret < 0) {
		if (m)
			unmap_release(m);
		return ret;
	}
	if (m)
		ramdev_region_set_release(*rp, unmap_release, m);
	/* Before the region is placed: the width is part of its creation. */
	if (device && dma_width) {
		ret = ramdev_region_set_dma_width(*rp, dma_width);
		if (ret < 0)
			return ret; /* the caller drops the region */
	}
	if (device)
		g->ramd_host = host;
	else
		g->ram_host = host;
	return ramdev_region_add(ramdev_as_root(g->as), gpa, *rp, 0);
}

int test_guest_new(struct test_guest **out, const struct test_guest_config *cfg)
{
	struct test_guest_config c = cfg ? *cfg : (struct test_guest_config){ 0 };
	struct ramdev_dma_config dc = { .policy = c.policy,
					.bounce_size = c.bounce_size };
	struct test_guest *g;
	int ret;

	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->ram_size = c.ram_size ? c.ram_size : 4u << 20;
	g->ramd_size = c.ramd_size ? c.ramd_size : 1u << 20;
	g->mmio_size = c.mmio_size ? c.mmio_size : 64u << 10;
	g->mmio_mem = calloc(1, g->mmio_size);
	if (!g->mmio_mem) {
		free(g);
		return -ENOMEM;
	}
	ret = ramdev_as_new(&g->as, "test-guest");
	if (ret < 0)
		goto fail;
	ramdev_as_begin(g->as);
	ret = add_memory(g, false, TEST_GUEST_RAM_GPA, g->ram_size, NULL, 0);
	if (ret == 0)
		ret = add_memory(g, true, TEST_GUEST_RAMD_GPA, g->ramd_size,
				 c.ramd_host, c.ramd_dma_width);
	if (ret == 0)
		ret = ramdev_region_new_mmio(&g->mmio, "mmio", g->mmio_size,
					     &mmio_ops, g);
	if (ret == 0)
		ret = ramdev_region_add(ramdev_as_root(g->as),
					TEST_GUEST_MMIO_GPA, g->mmio, 0);
	if (ret == 0)
		ret = ramdev_as_commit(g->as);
	else
		ramdev_as_commit(g->as);
	if (ret == 0)
		ret = ramdev_dma_new(&g->dma, g->as, &dc);
	if (ret < 0)
		goto fail;
	*out = g;
	return 0;
fail:
	test_guest_free(g);
	return ret;
}

void test_guest_free(struct test_guest *g)
{
	if (!g)
		return;
	if (g->dma)
		ramdev_dma_free(g->dma);
	if (g->as)
		ramdev_as_free(g->as);
	if (g->ram)
		ramdev_region_unref(g->ram);
	if (g->ramd)
		ramdev_region_unref(g->ramd);
	if (g->mmio)
		ramdev_region_unref(g->mmio);
	free(g->mmio_mem);
	free(g);
}

uint8_t *test_guest_host(struct test_guest *g, uint64_t gpa, uint64_t len)
{
	uint64_t last;

	if (len == 0 || __builtin_add_overflow(gpa, len - 1, &last))
		return NULL;
	if (last < g->ram_size)
		return g->ram_host + (gpa - TEST_GUEST_RAM_GPA);
	if (gpa >= TEST_GUEST_RAMD_GPA && last - TEST_GUEST_RAMD_GPA < g->ramd_size)
		return g->ramd_host + (gpa - TEST_GUEST_RAMD_GPA);
	return NULL;
}

void test_guest_clear(struct test_guest *g)
{
	static const uint8_t zero[4096];

	memset(g->ram_host, 0, g->ram_size);
	for (uint64_t off = 0; off < g->ramd_size; off += sizeof(zero)) {
		uint64_t n = g->ramd_size - off;

		ramdev_write(g->ramd_host + off, zero,
			     n < sizeof(zero) ? (size_t)n : sizeof(zero));
	}
	memset(g->mmio_mem, 0, g->mmio_size);
}
