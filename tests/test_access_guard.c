// SPDX-License-Identifier: MIT
/*
 * Guard-page sweeps of the access core (see test_access.h).
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
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_access.h"

static const unsigned wide_widths[] = { 1, 2, 4, 8, 16, 32, 64 };
#define NWIDTHS (sizeof(wide_widths) / sizeof(wide_widths[0]))

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
	void test_##fn##_no_access_past_page_end(void **state)                \
	{                                                                     \
		sweep(state, which, AT_PAGE_END);                             \
	}                                                                     \
	void test_##fn##_no_access_before_page_start(void **state)            \
	{                                                                     \
		sweep(state, which, AT_PAGE_START);                            \
	}                                                                     \
	void test_##fn##_exact_bytes_mid_page(void **state)                   \
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
	void test_##fn##_zero_length_touches_nothing(void **state)            \
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
