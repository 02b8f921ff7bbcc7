// SPDX-License-Identifier: MIT
/*
 * cmocka unit tests of the access core (include/ramdev/access.h).
 *
 * Spans are placed against PROT_NONE guard pages: ending exactly at the end
 * of a page that is followed by a guard, or starting exactly at a page that
 * is preceded by one.  Any device access outside the span (an over-read of
 * the last unit, an under-read of the first) then faults, and every other
 * byte of the mappings is compared with its expected value afterwards.
 * A naturally aligned access never straddles a page boundary, so what the
 * guards catch is an access that starts outside the span; an aligned access
 * that straddles a span end in mid-page is caught by the mid-page sweeps
 * only through the bytes it writes (to the device, or to RAM for a read),
 * and a silently discarded over-read only by the access-pattern oracles.
 *
 * Each sweep runs in a forked child that writes the case it is about to run
 * into a shared page first, so a fault is reported with the function, size
 * and placement that caused it instead of a bare "Segmentation fault".
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "ramdev/access.h"

#define MAX_N 300
#define REPORT_SIZE 4096
#define PRINT_WIDE_LIMIT "--print-wide-limit"

static const unsigned wide_widths[] = { 1, 2, 4, 8, 16, 32, 64 };
#define NWIDTHS (sizeof(wide_widths) / sizeof(wide_widths[0]))

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

enum op {
	OP_READ,
	OP_WRITE,
	OP_COPY,
	OP_MOVE, /* disjoint spans in two buffers */
	OP_MOVE_UP, /* dst > src, overlapping (walks down) */
	OP_MOVE_DOWN, /* dst < src, overlapping */
	OP_READ_WIDE,
	OP_WRITE_WIDE,
};

static const char *const op_names[] = {
	[OP_READ] = "ramdev_read",
	[OP_WRITE] = "ramdev_write",
	[OP_COPY] = "ramdev_copy",
	[OP_MOVE] = "ramdev_move(disjoint)",
	[OP_MOVE_UP] = "ramdev_move(dst>src)",
	[OP_MOVE_DOWN] = "ramdev_move(dst<src)",
	[OP_READ_WIDE] = "ramdev_read_wide",
	[OP_WRITE_WIDE] = "ramdev_write_wide",
};

enum place {
	AT_PAGE_END,   /* the guarded side ends where the trailing guard starts */
	AT_PAGE_START, /* the guarded side starts right after the leading guard */
	MID_PAGE,      /* away from the guards, every device alignment */
};

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

/* ---- child processes --------------------------------------------------- */

__attribute__((format(printf, 2, 3)))
static void report_set(struct fixture *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->report, REPORT_SIZE, fmt, ap);
	va_end(ap);
}

/* In the child: append the reason to the current case and exit 1. */
__attribute__((format(printf, 2, 3), noreturn))
static void child_fail(struct fixture *f, const char *fmt, ...)
{
	size_t len = strnlen(f->report, REPORT_SIZE - 1);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->report + len, REPORT_SIZE - len, fmt, ap);
	va_end(ap);
	_exit(1);
}

typedef void child_fn(struct fixture *f, const void *arg);

/*
 * Run fn in a child.  cmocka's handlers for SIGSEGV and friends would
 * longjmp back into the runner inside the child, so the child restores the
 * defaults: a fault kills it and the parent reports the case it was in.
 */
static void run_in_child(struct fixture *f, child_fn *fn, const void *arg)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT,
				    SIGSYS };
	int status;
	pid_t pid;

	f->report[0] = '\0';
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], SIG_DFL);
		fn(f, arg);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	if (WIFSIGNALED(status))
		fail_msg("%s: killed by signal %d, %s (an access outside the "
			 "span?)", f->report, WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	fail_msg("%s (child exit status %d)", f->report, WEXITSTATUS(status));
}

/* ---- span sweeps ------------------------------------------------------- */

static struct guarded *owner(struct fixture *f, const uint8_t *p)
{
	struct guarded *all[] = { &f->dev, &f->dev2, &f->ram };

	for (size_t i = 0; i < 3; i++) {
		if (p >= all[i]->lo && p <= all[i]->hi)
			return all[i];
	}
	return NULL;
}

static void run_op(enum op op, uint8_t *dst, const uint8_t *src, size_t n,
		   unsigned width)
{
	switch (op) {
	case OP_READ:
		ramdev_read(dst, src, n);
		break;
	case OP_WRITE:
		ramdev_write(dst, src, n);
		break;
	case OP_COPY:
		ramdev_copy(dst, src, n);
		break;
	case OP_MOVE:
	case OP_MOVE_UP:
	case OP_MOVE_DOWN:
		ramdev_move(dst, src, n);
		break;
	case OP_READ_WIDE:
		ramdev_read_wide(dst, src, n, width);
		break;
	case OP_WRITE_WIDE:
		ramdev_write_wide(dst, src, n, width);
		break;
	}
}

/*
 * One case: refill all three mappings, predict the result with memmove on
 * the expected copies, run the operation, compare every read-write byte.
 */
static void one_case(struct fixture *f, enum op op, enum place place,
		     uint8_t *dst, const uint8_t *src, size_t n, unsigned width)
{
	struct guarded *all[] = { &f->dev, &f->dev2, &f->ram };
	struct guarded *gd = owner(f, dst), *gs = owner(f, src);
	uint32_t seed = (uint32_t)(n * 977 + (size_t)(dst - gd->lo) * 31 +
				   (size_t)(src - gs->lo));

	report_set(f, "%s n=%zu width=%u %s: dst=lo+%td src=lo+%td "
		   "(page %zu)", op_names[op], n, width,
		   place == AT_PAGE_END ? "at page end" :
		   place == AT_PAGE_START ? "at page start" : "mid-page",
		   dst - gd->lo, src - gs->lo, f->page);
	for (size_t i = 0; i < 3; i++) {
		memcpy(all[i]->lo, f->pattern + ((seed + 85 * i) & 255), f->page);
		memcpy(all[i]->exp, all[i]->lo, f->page);
	}
	memmove(gd->exp + (dst - gd->lo), gs->exp + (src - gs->lo), n);
	run_op(op, dst, src, n, width);
	for (size_t i = 0; i < 3; i++) {
		const uint8_t *got = all[i]->lo, *want = all[i]->exp;
		size_t j = 0;

		if (!memcmp(got, want, f->page))
			continue;
		while (got[j] == want[j])
			j++;
		child_fail(f, ": %s byte lo+%zu is 0x%02x, want 0x%02x",
			   all[i] == &f->ram ? "ram" : "device", j, got[j],
			   want[j]);
	}
}

struct sweep {
	enum op op;
	enum place place;
};

/* Spans against a guard at the device side: read and write (+ _wide). */
static void sweep_read_write(struct fixture *f, const struct sweep *s)
{
	static const size_t ram_offs[] = { 0, 1, 2, 3, 5, 7 };
	int reading = s->op == OP_READ || s->op == OP_READ_WIDE;
	int wide = s->op == OP_READ_WIDE || s->op == OP_WRITE_WIDE;
	size_t nwidths = wide ? NWIDTHS : 1;
	size_t nroffs = wide ? 3 : sizeof(ram_offs) / sizeof(ram_offs[0]);
	/* mid-page: device offsets 0..63 from a 64-byte boundary */
	size_t ndoffs = s->place == MID_PAGE ? 64 : 1;

	if (s->place == MID_PAGE)
		nroffs = 2;
	for (size_t n = 1; n <= MAX_N; n++)
	for (size_t wi = 0; wi < nwidths; wi++)
	for (size_t doff = 0; doff < ndoffs; doff++)
	for (size_t ri = 0; ri < nroffs; ri++) {
		size_t k = ram_offs[ri];
		unsigned width = wide ? wide_widths[wi] : 0;
		uint8_t *dev, *ram;

		if (s->place == AT_PAGE_END) {
			dev = f->dev.hi - n;
			ram = f->ram.hi - n - k;
		} else if (s->place == AT_PAGE_START) {
			dev = f->dev.lo;
			ram = f->ram.lo + k;
		} else {
			dev = f->dev.lo + 64 + doff;
			ram = f->ram.lo + 64 + k;
		}
		if (reading)
			one_case(f, s->op, s->place, ram, dev, n, width);
		else
			one_case(f, s->op, s->place, dev, ram, n, width);
	}
}

/* Device to device in two buffers: each side in turn against the guard,
 * the other one shifted by 0..7 bytes (every relative alignment). */
static void sweep_copy(struct fixture *f, const struct sweep *s)
{
	for (size_t n = 1; n <= MAX_N; n++) {
		for (size_t k = 0; k < 8; k++) {
			for (int dst_guarded = 0; dst_guarded < 2; dst_guarded++) {
				struct guarded *gg = dst_guarded ? &f->dev : &f->dev2;
				struct guarded *go = dst_guarded ? &f->dev2 : &f->dev;
				uint8_t *g, *o;

				if (s->place == AT_PAGE_END) {
					g = gg->hi - n;
					o = go->hi - n - k;
				} else if (s->place == AT_PAGE_START) {
					g = gg->lo;
					o = go->lo + k;
				} else {
					/* 8 x 8 offsets from 64-byte boundaries */
					g = gg->lo + 64 + (n & 7);
					o = go->lo + 64 + k;
				}
				if (dst_guarded)
					one_case(f, s->op, s->place, g, o, n, 0);
				else
					one_case(f, s->op, s->place, o, g, n, 0);
			}
		}
	}
}

/*
 * Overlapping moves in one buffer.  dst > src: at the page end the
 * destination touches the trailing guard, at the page start the source
 * touches the leading one; dst < src the other way round.
 */
static void sweep_overlap(struct fixture *f, const struct sweep *s)
{
	static const size_t dists[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17,
					31, 64 };

	for (size_t n = 1; n <= MAX_N; n++) {
		for (size_t di = 0; di < sizeof(dists) / sizeof(dists[0]); di++) {
			size_t dist = dists[di];
			uint8_t *hi_end = f->dev.hi - n, *lo = f->dev.lo;
			uint8_t *dst, *src;

			uint8_t *mid = lo + 128 + (n + di) % 16;

			if (s->op == OP_MOVE_UP) {
				dst = s->place == AT_PAGE_END ? hi_end :
				      s->place == AT_PAGE_START ? lo + dist : mid;
				src = dst - dist;
			} else {
				src = s->place == AT_PAGE_END ? hi_end :
				      s->place == AT_PAGE_START ? lo + dist : mid;
				dst = src - dist;
			}
			one_case(f, s->op, s->place, dst, src, n, 0);
		}
	}
}

static void sweep_child(struct fixture *f, const void *arg)
{
	const struct sweep *s = arg;

	switch (s->op) {
	case OP_COPY:
	case OP_MOVE:
		sweep_copy(f, s);
		break;
	case OP_MOVE_UP:
	case OP_MOVE_DOWN:
		sweep_overlap(f, s);
		break;
	default:
		sweep_read_write(f, s);
		break;
	}
}

static void sweep(void **state, enum op op, enum place place)
{
	struct sweep s = { op, place };

	run_in_child(*state, sweep_child, &s);
}

#define SWEEP_TESTS(fn, which)                                                 \
	static void test_##fn##_no_access_past_page_end(void **state)         \
	{                                                                     \
		sweep(state, which, AT_PAGE_END);                             \
	}                                                                     \
	static void test_##fn##_no_access_before_page_start(void **state)     \
	{                                                                     \
		sweep(state, which, AT_PAGE_START);                            \
	}                                                                     \
	static void test_##fn##_exact_bytes_mid_page(void **state)            \
	{                                                                     \
		sweep(state, which, MID_PAGE);                                \
	}

SWEEP_TESTS(ramdev_read, OP_READ)
SWEEP_TESTS(ramdev_write, OP_WRITE)
SWEEP_TESTS(ramdev_copy, OP_COPY)
SWEEP_TESTS(ramdev_move_disjoint, OP_MOVE)
SWEEP_TESTS(ramdev_move_overlap_up, OP_MOVE_UP)
SWEEP_TESTS(ramdev_move_overlap_down, OP_MOVE_DOWN)
SWEEP_TESTS(ramdev_read_wide, OP_READ_WIDE)
SWEEP_TESTS(ramdev_write_wide, OP_WRITE_WIDE)

/* ---- n = 0 ------------------------------------------------------------- */

/* Every pointer is inside a PROT_NONE page: any access faults. */
static void zero_child(struct fixture *f, const void *arg)
{
	const enum op *op = arg;
	uint8_t *guards[] = { f->dev.map, f->dev.map + 3, f->dev.hi,
			      f->dev.hi + 1 };
	uint8_t *other[] = { f->ram.map + 5, f->ram.hi };
	size_t nwidths = *op == OP_READ_WIDE || *op == OP_WRITE_WIDE ?
			 NWIDTHS : 1;

	for (size_t g = 0; g < 4; g++) {
		for (size_t o = 0; o < 2; o++) {
			for (size_t wi = 0; wi < nwidths; wi++) {
				report_set(f, "%s n=0 width=%u dev=%p other=%p",
					   op_names[*op], wide_widths[wi],
					   (void *)guards[g], (void *)other[o]);
				run_op(*op, guards[g], other[o], 0,
				       wide_widths[wi]);
				run_op(*op, other[o], guards[g], 0,
				       wide_widths[wi]);
			}
		}
	}
}

#define ZERO_TEST(fn, which)                                                  \
	static void test_##fn##_zero_length_touches_nothing(void **state)     \
	{                                                                     \
		static const enum op op_ = which;                             \
		run_in_child(*state, zero_child, &op_);                       \
	}

ZERO_TEST(ramdev_read, OP_READ)
ZERO_TEST(ramdev_write, OP_WRITE)
ZERO_TEST(ramdev_copy, OP_COPY)
ZERO_TEST(ramdev_move, OP_MOVE)
ZERO_TEST(ramdev_read_wide, OP_READ_WIDE)
ZERO_TEST(ramdev_write_wide, OP_WRITE_WIDE)

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
