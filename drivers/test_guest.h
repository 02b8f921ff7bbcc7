/* SPDX-License-Identifier: MIT */
/*
 * test_guest: a small machine for tests, fuzzers, benchmarks and the demo.
 * An address space with
 *   - guest RAM      at TEST_GUEST_RAM_GPA  (memfd mapping, kind RAM),
 *   - a RAM-device   at TEST_GUEST_RAMD_GPA (a second memfd mapping standing
 *                    in for a PCI BAR, kind RAMD),
 *   - an MMIO window at TEST_GUEST_MMIO_GPA (callbacks on a byte array),
 * with unassigned holes between them, and a DMA context over it.  Each host
 * mapping has an inaccessible guard page on both sides, so a stray access
 * just outside guest memory faults at once (and ASan/fuzzers notice).
 *
 * Not part of libramdev: the static library ramdev_driver.
 */
#ifndef RAMDEV_TEST_GUEST_H
#define RAMDEV_TEST_GUEST_H

#include <stddef.h>
#include <stdint.h>

#include "ramdev/as.h"
#include "ramdev/dma.h"

#define TEST_GUEST_RAM_GPA UINT64_C(0)
#define TEST_GUEST_RAMD_GPA UINT64_C(0x40000000)
#define TEST_GUEST_MMIO_GPA UINT64_C(0x80000000)

struct test_guest_config {
	uint64_t ram_size;  /* 0: 4 MiB; a multiple of the page size */
	uint64_t ramd_size; /* 0: 1 MiB */
	void *ramd_host;    /* NULL: a guarded memfd; else the caller's device
			     * memory of ramd_size bytes (e.g. an mmap of a
			     * PCI BAR's resourceN), which stays the caller's */
	unsigned ramd_dma_width; /* 0: the default (8, the strict access
				  * core); else the RAMD region's DMA width,
				  * ramdev_region_set_dma_width() */
	uint64_t mmio_size; /* 0: 64 KiB */
	enum ramdev_dma_policy policy;
	size_t bounce_size; /* 0: the DMA default (4096) */
};

struct test_guest {
	struct ramdev_as *as;
	struct ramdev_dma *dma;
	struct ramdev_region *ram, *ramd, *mmio;
	uint8_t *ram_host;  /* ram_size bytes */
	uint8_t *ramd_host; /* ramd_size bytes of "device memory" */
	uint8_t *mmio_mem;  /* what the MMIO callbacks read and write */
	uint64_t ram_size, ramd_size, mmio_size;
	unsigned long mmio_accesses; /* callback invocations */
};

/**
 * test_guest_new - build the machine.
 * @cfg: NULL for the defaults.
 * Returns: 0 or a negative errno (memfd, mmap, as or dma failure).
 */
int test_guest_new(struct test_guest **out, const struct test_guest_config *cfg);
void test_guest_free(struct test_guest *g);

/** test_guest_host - host address of [@gpa, @gpa + @len) in RAM or RAMD. */
uint8_t *test_guest_host(struct test_guest *g, uint64_t gpa, uint64_t len);

/** test_guest_clear - zero RAM, RAMD (exactly, through the access core)
 * and the MMIO backing store. */
void test_guest_clear(struct test_guest *g);

#endif /* RAMDEV_TEST_GUEST_H */
