/* SPDX-License-Identifier: MIT */
/*
 * Access core tests (include/ramdev/access.h), one executable from two files:
 *   test_access.c        the fixture, ramdev_ld/st and the endian helpers,
 *                        ramdev_wide_limit, the debug asserts; main()
 *   test_access_guard.c  the guard-page sweeps and the n = 0 tests
 *
 * Each test gets a fresh fixture: three read-write pages (two device spans
 * and a RAM one), each with a PROT_NONE guard page on either side, and a
 * MAP_SHARED report page that forked children write their current case to.
 */
#ifndef RAMDEV_TEST_ACCESS_H
#define RAMDEV_TEST_ACCESS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <setjmp.h>
#include <cmocka.h>

#include "ramdev/access.h"

#define MAX_N 300
#define REPORT_SIZE 4096

/* One read-write page with a PROT_NONE page on each side. */
struct guarded {
	uint8_t *map; /* start of the leading guard page */
	uint8_t *lo;  /* first read-write byte */
	uint8_t *hi;  /* one past the last read-write byte: the trailing guard */
	uint8_t *exp; /* expected contents of [lo, hi) */
};

struct fixture {
	size_t page;
	uint8_t *pattern;    /* page + 256 random bytes to refill from */
	struct guarded dev;  /* device memory */
	struct guarded dev2; /* second device span, for copy/move */
	struct guarded ram;  /* the RAM side */
	char *report;        /* MAP_SHARED: what the child is doing / why it failed */
};

/* test_access_guard.c */
void test_ramdev_read_no_access_past_page_end(void **state);
void test_ramdev_read_no_access_before_page_start(void **state);
void test_ramdev_read_exact_bytes_mid_page(void **state);
void test_ramdev_write_no_access_past_page_end(void **state);
void test_ramdev_write_no_access_before_page_start(void **state);
void test_ramdev_write_exact_bytes_mid_page(void **state);
void test_ramdev_copy_no_access_past_page_end(void **state);
void test_ramdev_copy_no_access_before_page_start(void **state);
void test_ramdev_copy_exact_bytes_mid_page(void **state);
void test_ramdev_move_disjoint_no_access_past_page_end(void **state);
void test_ramdev_move_disjoint_no_access_before_page_start(void **state);
void test_ramdev_move_disjoint_exact_bytes_mid_page(void **state);
void test_ramdev_move_overlap_up_no_access_past_page_end(void **state);
void test_ramdev_move_overlap_up_no_access_before_page_start(void **state);
void test_ramdev_move_overlap_up_exact_bytes_mid_page(void **state);
void test_ramdev_move_overlap_down_no_access_past_page_end(void **state);
void test_ramdev_move_overlap_down_no_access_before_page_start(void **state);
void test_ramdev_move_overlap_down_exact_bytes_mid_page(void **state);
void test_ramdev_read_wide_no_access_past_page_end(void **state);
void test_ramdev_read_wide_no_access_before_page_start(void **state);
void test_ramdev_read_wide_exact_bytes_mid_page(void **state);
void test_ramdev_write_wide_no_access_past_page_end(void **state);
void test_ramdev_write_wide_no_access_before_page_start(void **state);
void test_ramdev_write_wide_exact_bytes_mid_page(void **state);
void test_ramdev_read_zero_length_touches_nothing(void **state);
void test_ramdev_write_zero_length_touches_nothing(void **state);
void test_ramdev_copy_zero_length_touches_nothing(void **state);
void test_ramdev_move_zero_length_touches_nothing(void **state);
void test_ramdev_read_wide_zero_length_touches_nothing(void **state);
void test_ramdev_write_wide_zero_length_touches_nothing(void **state);

#endif /* RAMDEV_TEST_ACCESS_H */
