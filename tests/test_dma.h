/* SPDX-License-Identifier: MIT */
/*
 * DMA layer tests (suite 'dma'), one executable from several files:
 *   test_dma.c          map/unmap, sg, dirty log, bad input, copies; main()
 *   test_dma_qemu.c     the QEMU_BOUNCE policy's per-access RAMD dispatch
 *   test_dma_threads.c  concurrent maps through a tiny pool, hot removal
 *   test_dma_contract.c bounce copies on the mapped region, on_free protocol
 *   test_dma_chain.c    a chain's maps in one call (lib/dma_lib.h), hinted
 *                       translations
 *   test_dma_fixture.c  the fixture below and shared helpers
 *
 * Each test gets a fresh small guest:
 *
 *   0x0000_0000 - 0x003f_ffff  ram   (malloc)
 *   0x0040_0000 - 0x007f_ffff  ramd  (mmap of a memfd, a BAR stand-in)
 *   0x1000_0000 - 0x1000_ffff  mmio  (callbacks over an array, counted)
 *
 * and a DMA context with the DIRECT policy.  Tests that need another policy
 * or pool size make their own context.
 */
#ifndef RAMDEV_TEST_DMA_H
#define RAMDEV_TEST_DMA_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

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

/* test_dma_fixture.c */
extern const struct ramdev_mmio_ops mmio_ops;
void fill(uint8_t *p, size_t n, unsigned seed);
uint8_t *map_memfd(size_t size);
void add_region(struct fx *f, struct ramdev_region *r, uint64_t at);
int setup(void **state);
int teardown(void **state);
/* Run @fn with stderr redirected; what it logged (callback or stderr). */
const char *logged(struct fx *f, void (*fn)(struct fx *));
struct ramdev_dma *new_dma(struct fx *f, enum ramdev_dma_policy pol,
			   size_t pool);
/* The whole pool of @dma is free: a map of @size bytes of MMIO gets it. */
void assert_pool_free(struct ramdev_dma *dma, size_t size);

/* test_dma_threads.c */
void test_dma_map_concurrent_tiny_pool(void **state);
void test_dma_hot_remove_held_mapping(void **state);
void test_dma_hot_remove_stress(void **state);

/* test_dma_chain.c */
void test_dma_map_chain_as_two_map_sg(void **state);
void test_dma_map_chain_dev_flag(void **state);
void test_dma_map_chain_e2big_in_part(void **state);
void test_dma_map_chain_unassigned_out_part(void **state);
void test_dma_unmap_chain_written_in_part_only(void **state);
void test_as_translate_hint_stays_in_range(void **state);
void test_dma_map_sg_hint_sees_bar_moved_by_callback(void **state);

/* test_dma_qemu.c */
void test_dma_qemu_fill_per_access(void **state);
void test_dma_qemu_flush_per_access(void **state);
void test_dma_qemu_misaligned_pieces(void **state);
void test_dma_qemu_copies_stay_exact(void **state);
void test_dma_qemu_flush_marks_dirty(void **state);

/* test_dma_contract.c */
void test_dma_bounce_copy_back_to_mapped_region(void **state);
void test_dma_bounce_copy_back_after_removal(void **state);
void test_dma_qemu_copy_back_to_mapped_region(void **state);
void test_dma_on_free_register_then_retry(void **state);
void test_ratelimit_check_counts_suppressed(void **state);
void test_getters_null(void **state);
void test_dma_unmap_concurrent_twice_balanced(void **state);
void test_dma_bounce_fill_from_mapped_region(void **state);

#endif /* RAMDEV_TEST_DMA_H */
