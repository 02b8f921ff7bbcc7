/* SPDX-License-Identifier: MIT */
/* Shared pieces of the 'as' cmocka executable (test_as.c, test_as_mmio.c,
 * test_as_random.c, test_as_contract.c). */
#ifndef RAMDEV_TESTS_TEST_AS_H
#define RAMDEV_TESTS_TEST_AS_H

#include <stdint.h>

#include "ramdev/as.h"

/* A fresh fixture per test (in *state). */
struct test_fix {
	struct ramdev_as *as;
	char last_msg[512]; /* the last message the address space logged */
	int last_level;
	unsigned nmsg;
	uint64_t seed; /* random tests: the layout running, 0 when done */
};

void test_quiet_log(void *opaque, int level, const char *msg);
int test_null_read(void *opaque, uint64_t off, unsigned size, uint64_t *val);
int test_null_write(void *opaque, uint64_t off, unsigned size, uint64_t val);

int test_as_setup(void **state);
int test_as_teardown(void **state);

void test_ramdev_as_translate_random_layouts(void **state);
void test_ramdev_as_translate_many_regions(void **state);
void test_ramdev_as_ld_mmio_impl_matrix(void **state);
void test_ramdev_as_read_mmio_greedy(void **state);
void test_ramdev_as_ld_mmio_valid_reject(void **state);
void test_ramdev_as_write_mmio_valid_stops(void **state);
void test_ramdev_as_ld_ramd_exact(void **state);

/* test_as_contract.c */
void test_ramdev_region_new_mmio_size_not_multiple_of_impl(void **state);
void test_ramdev_as_ld_mmio_widen_inside_region(void **state);
void test_ramdev_as_st_unassigned_negative(void **state);
void test_ramdev_as_log_rate_limit_per_kind(void **state);
void test_ramdev_as_set_log_one_pair(void **state);
void test_ramdev_as_synchronize_runs_release(void **state);
void test_ramdev_region_del_keeps_caller_reference(void **state);
void test_ramdev_as_synchronize_in_release_returns(void **state);
void test_ramdev_region_add_from_mmio_callback(void **state);

#endif
