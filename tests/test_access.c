// SPDX-License-Identifier: MIT
/*
 * cmocka unit tests of the access core (include/ramdev/access.h): the
 * fixture, ramdev_ld/st and the endian helpers, ramdev_wide_limit, the debug
 * asserts, and main().  The guard-page sweeps are in test_access_guard.c
 * (see test_access.h).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_access.h"

#define PRINT_WIDE_LIMIT "--print-wide-limit"

/* ---- fixture ---------------------------------------------------------- */

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
}

static int guarded_map(struct guarded *g, size_t page)
{
	g->map = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->map == MAP_FAILED)
		return -1;
	if (mprotect(g->map, page, PROT_NONE) ||
	    mprotect(g->map + 2 * page, page, PROT_NONE))
		return -1;
	g->lo = g->map + page;
	g->hi = g->map + 2 * page;
	g->exp = malloc(page);
	return g->exp ? 0 : -1;
}

static void guarded_unmap(struct guarded *g, size_t page)
{
	if (g->map && g->map != MAP_FAILED)
		munmap(g->map, 3 * page);
	free(g->exp);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	*state = f;
	f->page = (size_t)sysconf(_SC_PAGESIZE);
	if (f->page < 2 * MAX_N + 256)
		return -1;
	f->pattern = malloc(f->page + 256);
	if (!f->pattern)
		return -1;
	fill(f->pattern, f->page + 256, 1);
	if (guarded_map(&f->dev, f->page) || guarded_map(&f->dev2, f->page) ||
	    guarded_map(&f->ram, f->page))
		return -1;
	f->report = mmap(NULL, REPORT_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return f->report == MAP_FAILED ? -1 : 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	guarded_unmap(&f->dev, f->page);
	guarded_unmap(&f->dev2, f->page);
	guarded_unmap(&f->ram, f->page);
	if (f->report && f->report != MAP_FAILED)
		munmap(f->report, REPORT_SIZE);
	free(f->pattern);
	free(f);
	return 0;
}

/* ---- ramdev_ld / ramdev_st and the endian helpers ---------------------- */

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_BIG 0
#else
#define HOST_BIG 1
#endif

/* The low `size` bytes of v as they sit in memory in the given order. */
static void bytes_of(uint8_t *out, uint64_t v, unsigned size, int big)
{
	for (unsigned i = 0; i < size; i++)
		out[i] = (uint8_t)(v >> (8 * (big ? size - 1 - i : i)));
}

static const uint64_t ld_st_values[] = { 0x1122334455667788ull,
					 0x8899aabbccddeeffull, 0, ~0ull,
					 0x8000000000000001ull };
#define NVALUES (sizeof(ld_st_values) / sizeof(ld_st_values[0]))

static uint64_t low_bytes(uint64_t v, unsigned size)
{
	return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

/* Loads at the last `size` bytes of the page: one exact access, no more. */
static void test_ramdev_ld_each_size(void **state)
{
	struct fixture *f = *state;

	for (unsigned size = 1; size <= 8; size *= 2) {
		for (size_t vi = 0; vi < NVALUES; vi++) {
			uint8_t *p = f->dev.hi - size;
			uint8_t bytes[8];

			bytes_of(bytes, ld_st_values[vi], size, HOST_BIG);
			memcpy(p, bytes, size);
			assert_int_equal(ramdev_ld(p, size),
					 low_bytes(ld_st_values[vi], size));
			p = f->dev.lo;
			memcpy(p, bytes, size);
			assert_int_equal(ramdev_ld(p, size),
					 low_bytes(ld_st_values[vi], size));
		}
	}
}

/* Stores write exactly the low `size` bytes, in host order. */
static void test_ramdev_st_each_size(void **state)
{
	struct fixture *f = *state;

	for (unsigned size = 1; size <= 8; size *= 2) {
		for (size_t vi = 0; vi < NVALUES; vi++) {
			uint8_t *p = f->dev.hi - 64;
			uint8_t want[8];

			memset(f->dev.lo, 0xa5, f->page);
			memset(f->dev.exp, 0xa5, f->page);
			bytes_of(want, ld_st_values[vi], size, HOST_BIG);
			memcpy(f->dev.exp + (p - f->dev.lo), want, size);
			ramdev_st(p, size, ld_st_values[vi]);
			assert_memory_equal(f->dev.lo, f->dev.exp, f->page);
			ramdev_st(f->dev.hi - size, size, ld_st_values[vi]);
			assert_memory_equal(f->dev.hi - size, want, size);
			assert_int_equal(ramdev_ld(p, size),
					 low_bytes(ld_st_values[vi], size));
		}
	}
}

/* The 8-byte pair of 4-byte accesses on 32-bit hosts lands at the right
 * address in every slot; on 64-bit hosts this is the plain path. */
static void test_ramdev_st_8_round_trip_every_slot(void **state)
{
	struct fixture *f = *state;

	for (size_t slot = 0; slot < 16; slot++)
		ramdev_st(f->dev.lo + 8 * slot, 8,
			  0x0102030405060708ull * (slot + 1));
	for (size_t slot = 0; slot < 16; slot++) {
		uint64_t v = 0x0102030405060708ull * (slot + 1);
		uint8_t want[8];

		bytes_of(want, v, 8, HOST_BIG);
		assert_memory_equal(f->dev.lo + 8 * slot, want, 8);
		assert_int_equal(ramdev_ld(f->dev.lo + 8 * slot, 8), v);
	}
}

static void test_ramdev_st_le_be_bytes(void **state)
{
	struct fixture *f = *state;
	uint8_t *p = f->dev.lo + 64;

	ramdev_st_le16(p, 0x1122);
	assert_memory_equal(p, "\x22\x11", 2);
	ramdev_st_le32(p, 0x11223344u);
	assert_memory_equal(p, "\x44\x33\x22\x11", 4);
	ramdev_st_le64(p, 0x1122334455667788ull);
	assert_memory_equal(p, "\x88\x77\x66\x55\x44\x33\x22\x11", 8);
	ramdev_st_be16(p, 0x1122);
	assert_memory_equal(p, "\x11\x22", 2);
	ramdev_st_be32(p, 0x11223344u);
	assert_memory_equal(p, "\x11\x22\x33\x44", 4);
	ramdev_st_be64(p, 0x1122334455667788ull);
	assert_memory_equal(p, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
}

static void test_ramdev_ld_le_be_bytes(void **state)
{
	struct fixture *f = *state;
	uint8_t *p = f->dev.hi - 8; /* no over-read past the page */

	memcpy(p, "\x88\x77\x66\x55\x44\x33\x22\x11", 8);
	assert_int_equal(ramdev_ld_le64(p), 0x1122334455667788ull);
	assert_int_equal(ramdev_ld_be64(p), 0x8877665544332211ull);
	p = f->dev.hi - 4;
	memcpy(p, "\x44\x33\x22\x11", 4);
	assert_int_equal(ramdev_ld_le32(p), 0x11223344u);
	assert_int_equal(ramdev_ld_be32(p), 0x44332211u);
	p = f->dev.hi - 2;
	memcpy(p, "\x22\x11", 2);
	assert_int_equal(ramdev_ld_le16(p), 0x1122);
	assert_int_equal(ramdev_ld_be16(p), 0x2211);
}

/* ---- ramdev_wide_limit ------------------------------------------------- */

/*
 * The limit is probed once per process, so each value comes from a fresh
 * exec of this program with RAMDEV_WIDE_LIMIT set (or unset when env is
 * NULL).  Returns the limit it printed.
 */
static unsigned wide_limit_in_child(const char *env)
{
	char buf[32] = "";
	int fds[2], status;
	ssize_t len;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(126);
		if (env)
			setenv("RAMDEV_WIDE_LIMIT", env, 1);
		else
			unsetenv("RAMDEV_WIDE_LIMIT");
		execl("/proc/self/exe", "test_access", PRINT_WIDE_LIMIT,
		      (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	len = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(len > 0);
	return (unsigned)strtoul(buf, NULL, 10);
}

static int is_pow2(unsigned long v)
{
	return v && !(v & (v - 1));
}

static void test_ramdev_wide_limit_power_of_two_8_to_64(void **state)
{
	unsigned limit = wide_limit_in_child(NULL);

	(void)state;
	assert_true(is_pow2(limit));
	assert_in_range(limit, 8, 64);
}

static void test_ramdev_wide_limit_env_only_lowers(void **state)
{
	static const char *const envs[] = { "1", "2", "3", "4", "8", "16",
					    "24", "32", "64", "128", "4096",
					    "0", "", "junk", "0x10" };
	unsigned probed = wide_limit_in_child(NULL);

	(void)state;
	for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
		unsigned long want = strtoul(envs[i], NULL, 0);
		unsigned got = wide_limit_in_child(envs[i]);

		while (want & (want - 1))
			want &= want - 1; /* round down to a power of two */
		if (!want || want > probed)
			want = probed; /* unset, garbage or above: no change */
		if (got != want)
			fail_msg("RAMDEV_WIDE_LIMIT=\"%s\": limit %u, want %lu "
				 "(probed %u)", envs[i], got, want, probed);
		assert_true(is_pow2(got) && got <= probed);
	}
}

/* ---- programming errors assert in debug builds ------------------------- */

#ifndef NDEBUG
static void abort_child(struct fixture *f, const void *arg)
{
	const int *which = arg;
	uint8_t buf[16] = { 0 };

	/* The assertion message is expected; keep the test log readable. */
	if (!freopen("/dev/null", "w", stderr))
		_exit(2);
	switch (*which) {
	case 0:
		(void)ramdev_ld(f->dev.lo + 1, 4);
		break;
	case 1:
		ramdev_st(f->dev.lo, 3, 0);
		break;
	default:
		ramdev_write_wide(f->dev.lo, buf, sizeof(buf), 3);
		break;
	}
	_exit(0); /* returned: no assertion fired */
}

static void expect_abort(struct fixture *f, int which, const char *what)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGABRT, SIG_DFL);
		abort_child(f, &which);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
		fail_msg("%s did not abort (%s %d)", what,
			 WIFSIGNALED(status) ? "signal" : "exit status",
			 WIFSIGNALED(status) ? WTERMSIG(status) :
					       WEXITSTATUS(status));
}
#define NEEDS_ASSERTS() ((void)0)
#else
#define expect_abort(f, which, what) ((void)(f), (void)(which), (void)(what))
#define NEEDS_ASSERTS()                                                       \
	do {                                                                  \
		print_message("skipped: built with NDEBUG, the access core's " \
			      "debug asserts are compiled out\n");            \
		skip();                                                       \
	} while (0)
#endif

static void test_ramdev_ld_misaligned_asserts(void **state)
{
	NEEDS_ASSERTS();
	expect_abort(*state, 0, "ramdev_ld(p + 1, 4)");
}

static void test_ramdev_st_bad_size_asserts(void **state)
{
	NEEDS_ASSERTS();
	expect_abort(*state, 1, "ramdev_st(p, 3, 0)");
}

static void test_ramdev_write_wide_bad_width_asserts(void **state)
{
	NEEDS_ASSERTS();
	expect_abort(*state, 2, "ramdev_write_wide(dev, ram, 16, 3)");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(test_ramdev_read_no_access_past_page_end),
		T(test_ramdev_read_no_access_before_page_start),
		T(test_ramdev_read_exact_bytes_mid_page),
		T(test_ramdev_write_no_access_past_page_end),
		T(test_ramdev_write_no_access_before_page_start),
		T(test_ramdev_write_exact_bytes_mid_page),
		T(test_ramdev_copy_no_access_past_page_end),
		T(test_ramdev_copy_no_access_before_page_start),
		T(test_ramdev_copy_exact_bytes_mid_page),
		T(test_ramdev_move_disjoint_no_access_past_page_end),
		T(test_ramdev_move_disjoint_no_access_before_page_start),
		T(test_ramdev_move_disjoint_exact_bytes_mid_page),
		T(test_ramdev_move_overlap_up_no_access_past_page_end),
		T(test_ramdev_move_overlap_up_no_access_before_page_start),
		T(test_ramdev_move_overlap_up_exact_bytes_mid_page),
		T(test_ramdev_move_overlap_down_no_access_past_page_end),
		T(test_ramdev_move_overlap_down_no_access_before_page_start),
		T(test_ramdev_move_overlap_down_exact_bytes_mid_page),
		T(test_ramdev_read_wide_no_access_past_page_end),
		T(test_ramdev_read_wide_no_access_before_page_start),
		T(test_ramdev_read_wide_exact_bytes_mid_page),
		T(test_ramdev_write_wide_no_access_past_page_end),
		T(test_ramdev_write_wide_no_access_before_page_start),
		T(test_ramdev_write_wide_exact_bytes_mid_page),
		T(test_ramdev_read_zero_length_touches_nothing),
		T(test_ramdev_write_zero_length_touches_nothing),
		T(test_ramdev_copy_zero_length_touches_nothing),
		T(test_ramdev_move_zero_length_touches_nothing),
		T(test_ramdev_read_wide_zero_length_touches_nothing),
		T(test_ramdev_write_wide_zero_length_touches_nothing),
		T(test_ramdev_ld_each_size),
		T(test_ramdev_st_each_size),
		T(test_ramdev_st_8_round_trip_every_slot),
		T(test_ramdev_st_le_be_bytes),
		T(test_ramdev_ld_le_be_bytes),
		T(test_ramdev_wide_limit_power_of_two_8_to_64),
		T(test_ramdev_wide_limit_env_only_lowers),
		T(test_ramdev_ld_misaligned_asserts),
		T(test_ramdev_st_bad_size_asserts),
		T(test_ramdev_write_wide_bad_width_asserts),
	};

	/* Helper mode for the wide-limit tests (a fresh, unprobed process). */
	if (argc == 2 && !strcmp(argv[1], PRINT_WIDE_LIMIT)) {
		printf("%u\n", ramdev_wide_limit());
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
