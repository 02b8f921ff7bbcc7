// SPDX-License-Identifier: MIT
/*
 * Access-count oracle with hardware breakpoints: the CPU itself counts the
 * instructions that touch one chosen device byte while an access-core call
 * runs.  Unlike the lackey oracle this runs natively, so it also sees the
 * AVX-512 path of ramdev_*_wide(..., 64), which valgrind cannot execute.
 *
 * Per watched byte there are two perf breakpoint events (bp_len 1): one on
 * writes (HW_BREAKPOINT_W) and one on reads or writes (HW_BREAKPOINT_RW;
 * x86 has no read-only breakpoints).  A read must count RW 1 / W 0, a write
 * W 1 / RW 1 (so it did not also load the byte), for every span covering
 * the byte at many starts and sizes; spans that end just before the byte
 * or start just after it must count 0 (S2: nothing outside the span).
 *
 * Canaries: a volatile byte stored twice, and glibc memmove(n = 2), must
 * count 2, or the oracle is blind.
 *
 * Exit: 0 pass, 1 fail, 77 skip (perf_event_open refuses breakpoints).
 */
#include <errno.h>
#include <signal.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ramdev/access.h"
#include "../../tools/hwbp_watch.h" /* hwbp_event, stray SIGTRAPs */

enum op { OP_READ, OP_WRITE, OP_READ64, OP_WRITE64, OP_COPY_DST, OP_COPY_SRC };

static const char *const op_names[] = {
	"ramdev_read", "ramdev_write", "ramdev_read_wide(64)",
	"ramdev_write_wide(64)", "ramdev_copy (dst)", "ramdev_copy (src)",
};

/* The watched byte sits at these offsets from a 64-byte boundary. */
static const size_t targets[] = { 0, 1, 3, 7, 8, 15, 31, 63 };

#define BASE 256 /* room below the watched byte for spans starting earlier */
#define LONG_BASE 4096 /* the watched byte of the long sweeps */

static _Alignas(4096) uint8_t dev[8192];
static _Alignas(4096) uint8_t dev2[4096];
static _Alignas(64) uint8_t ram[8192 + 64];
static size_t ram_off;		  /* of the RAM side, from a 64-byte line */
static size_t watch_base = BASE; /* for the messages */

struct bp {
	int rw; /* group leader: loads and stores */
	int w;  /* stores only */
};

static unsigned long checks, failures, retries;

/*
 * Under a hypervisor a breakpoint hit is now and then (about once in a few
 * million calls here) delivered as a SIGTRAP instead of being counted by its
 * perf event, and that call then reads one access short.  Such a call is
 * measured again (hwbp_stray_traps counts the SIGTRAPs); a real extra or
 * missing access repeats, a lost hit does not.
 */

/* 0, or -errno from perf_event_open. */
static int bp_open(struct bp *bp, const void *addr)
{
	bp->rw = hwbp_event(addr, HW_BREAKPOINT_RW, HW_BREAKPOINT_LEN_1, -1);
	if (bp->rw < 0)
		return -errno;
	bp->w = hwbp_event(addr, HW_BREAKPOINT_W, HW_BREAKPOINT_LEN_1, bp->rw);
	if (bp->w < 0) {
		int err = -errno;

		close(bp->rw);
		return err;
	}
	return 0;
}

static void bp_close(struct bp *bp)
{
	close(bp->w);
	close(bp->rw);
}

static void bp_start(const struct bp *bp)
{
	if (ioctl(bp->rw, PERF_EVENT_IOC_RESET, PERF_IOC_FLAG_GROUP) ||
	    ioctl(bp->rw, PERF_EVENT_IOC_ENABLE, PERF_IOC_FLAG_GROUP)) {
		perror("hwbp_count: enabling the breakpoints");
		exit(1);
	}
}

static void bp_stop(const struct bp *bp, uint64_t *rw, uint64_t *w)
{
	uint64_t buf[3]; /* nr, rw count, w count */

	if (ioctl(bp->rw, PERF_EVENT_IOC_DISABLE, PERF_IOC_FLAG_GROUP) ||
	    read(bp->rw, buf, sizeof(buf)) != (ssize_t)sizeof(buf) ||
	    buf[0] != 2) {
		perror("hwbp_count: reading the breakpoint counts");
		exit(1);
	}
	*rw = buf[1];
	*w = buf[2];
}

static void do_op(enum op op, uint8_t *start, size_t n)
{
	switch (op) {
	case OP_READ:
		ramdev_read(ram, start, n);
		break;
	case OP_WRITE:
		ramdev_write(start, ram, n);
		break;
	case OP_READ64:
		ramdev_read_wide(ram + ram_off, start, n, 64);
		break;
	case OP_WRITE64:
		ramdev_write_wide(start, ram + ram_off, n, 64);
		break;
	case OP_COPY_DST:
		/* Source offset by 8 from dst: 8-byte units where aligned. */
		ramdev_copy(start, dev2 + (start - dev) + 8, n);
		break;
	case OP_COPY_SRC:
		ramdev_copy(dev2 + (start - dev), start, n);
		break;
	}
}

static void check(const struct bp *bp, enum op op, uint8_t *start, size_t n,
		  size_t target, int covered)
{
	int writes = op == OP_WRITE || op == OP_WRITE64 || op == OP_COPY_DST;
	uint64_t want_rw = covered, want_w = covered && writes;
	uint64_t rw, w;
	sig_atomic_t traps;
	int attempt = 0;

	do {
		if (attempt++)
			retries++;
		traps = hwbp_stray_traps;
		bp_start(bp);
		do_op(op, start, n);
		bp_stop(bp, &rw, &w);
	} while (traps != hwbp_stray_traps && attempt < 3);
	checks++;
	if (rw == want_rw && w == want_w)
		return;
	if (failures++ < 20)
		fprintf(stderr,
			"FAIL %s span [%+ld, %+ld) around byte %zu (mod 64): "
			"%llu accesses (%llu stores), want %llu (%llu)\n",
			op_names[op], (long)(start - (dev + watch_base + target)),
			(long)(start + n - (dev + watch_base + target)), target,
			(unsigned long long)rw, (unsigned long long)w,
			(unsigned long long)want_rw,
			(unsigned long long)want_w);
}

/* Every start up to 72 bytes below the byte, sizes just covering it and more. */
static void sweep(const struct bp *bp, enum op op, size_t target)
{
	static const size_t extra[] = { 0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 31,
					 33, 63, 64, 65, 127, 200 };
	uint8_t *byte = dev + BASE + target;

	for (size_t below = 0; below <= 72; below++) {
		uint8_t *start = byte - below;

		for (size_t e = 0; e < sizeof(extra) / sizeof(extra[0]); e++)
			check(bp, op, start, below + 1 + extra[e], target, 1);
		/* Spans ending right before the byte, starting right after. */
		check(bp, op, start, below, target, 0);
		check(bp, op, byte + 1, below + 1, target, 0);
	}
}

/*
 * Long 64-byte spans (up to 4 KiB), the RAM side on and off its lines: the
 * paths that start above the short sweep's sizes (x86_64: one run of up to
 * 15 units below 1 KiB, groups of 8 units before the last 8-15 from 1 KiB;
 * from 1.5 KiB a read whose RAM side is off its lines rotates its units
 * into aligned RAM lines).
 */
static void long_sweep(const struct bp *bp, enum op op, size_t target)
{
	static const size_t ram_offs[] = { 0, 1, 3, 17, 61 };
	/* The last two put the byte in the last unit of a group of 8 from
	 * a line start (filled in below: they depend on @target). */
	size_t belows[] = { 0, 1, 3, 61, 64, 65, 700, 1601, 3000, 0, 0 };
	static const size_t extras[] = { 0, 1, 63, 1600, 2500 };
	uint8_t *byte = dev + LONG_BASE + target;

	belows[9] = 7 * 64 + target;
	belows[10] = 15 * 64 + target;

	watch_base = LONG_BASE;
	for (size_t r = 0; r < sizeof(ram_offs) / sizeof(ram_offs[0]); r++) {
		ram_off = ram_offs[r];
		for (size_t b = 0; b < sizeof(belows) / sizeof(belows[0]); b++) {
			size_t below = belows[b];

			for (size_t e = 0; e < sizeof(extras) / sizeof(extras[0]); e++)
				check(bp, op, byte - below,
				      below + 1 + extras[e], target, 1);
			check(bp, op, byte - below, below, target, 0);
			check(bp, op, byte + 1, 1600 + below % 1000, target, 0);
		}
	}
	ram_off = 0;
	watch_base = BASE;
}

/*
 * Runs of whole 64-byte units, 1 to 24 of them, with the byte in the first,
 * the middle or the last unit: the short path enters its run of units at
 * every count (units_upto_15), and from 16 units runs a group of 8 first,
 * so the byte sits in each entry of the run and in the group.  Each span
 * once as whole units and once with a 3-byte head and a 5-byte tail; the
 * RAM side on its lines (plain copy) and off them (the rotating copy).
 */
static void unit_sweep(const struct bp *bp, enum op op, size_t target)
{
	static const size_t ram_offs[] = { 0, 1, 61 };
	uint8_t *line = dev + LONG_BASE; /* the byte's line: target < 64 */

	watch_base = LONG_BASE;
	for (size_t r = 0; r < sizeof(ram_offs) / sizeof(ram_offs[0]); r++) {
		ram_off = ram_offs[r];
		for (size_t m = 1; m <= 24; m++) {
			size_t at[] = { 0, m / 2, m - 1 };

			for (size_t j = 0; j < sizeof(at) / sizeof(at[0]); j++) {
				uint8_t *start = line - 64 * at[j];

				check(bp, op, start, 64 * m, target, 1);
				check(bp, op, start - 3, 64 * m + 8, target, 1);
			}
		}
	}
	ram_off = 0;
	watch_base = BASE;
}

/*
 * nth 0: two volatile stores to the byte.  nth 1 or 2: glibc memmove of 2
 * bytes whose destination has the watched byte as its first or second byte.
 */
static int canary(const struct bp *bp, const char *what, uint8_t *byte,
		  size_t nth)
{
	void *(*volatile glibc_memmove)(void *, const void *, size_t) = memmove;
	uint64_t rw, w;
	sig_atomic_t traps;
	int attempt = 0;

	do {
		if (attempt++)
			retries++;
		traps = hwbp_stray_traps;
		bp_start(bp);
		if (nth) {
			glibc_memmove(byte - (nth - 1), dev2, 2);
		} else {
			*(volatile uint8_t *)byte = 1;
			*(volatile uint8_t *)byte = 2;
		}
		bp_stop(bp, &rw, &w);
	} while (traps != hwbp_stray_traps && attempt < 3);
	printf("canary %s: %llu stores\n", what, (unsigned long long)w);
	return w >= 2;
}

int main(void)
{
	struct bp bp;
	int err, stores_twice = 0, memmove_twice = 0;

	signal(SIGTRAP, hwbp_on_sigtrap);
	err = bp_open(&bp, dev + BASE);
	if (err == -EACCES || err == -EPERM || err == -ENOENT ||
	    err == -EOPNOTSUPP || err == -ENOSPC || err == -ENODEV) {
		printf("SKIP: perf_event_open(PERF_TYPE_BREAKPOINT): %s\n",
		       strerror(-err));
		return 77;
	}
	if (err) {
		fprintf(stderr, "FAIL: perf_event_open: %s\n", strerror(-err));
		return 1;
	}
	bp_close(&bp);

	for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
		err = bp_open(&bp, dev + BASE + targets[t]);
		if (err) {
			fprintf(stderr, "FAIL: perf_event_open: %s\n",
				strerror(-err));
			return 1;
		}
		for (enum op op = OP_READ; op <= OP_COPY_DST; op++)
			sweep(&bp, op, targets[t]);
		bp_close(&bp);

		/* The copy's source side: loads only. */
		err = bp_open(&bp, dev + BASE + targets[t]);
		if (err) {
			fprintf(stderr, "FAIL: perf_event_open: %s\n",
				strerror(-err));
			return 1;
		}
		sweep(&bp, OP_COPY_SRC, targets[t]);
		bp_close(&bp);

		err = bp_open(&bp, dev + LONG_BASE + targets[t]);
		if (err) {
			fprintf(stderr, "FAIL: perf_event_open: %s\n",
				strerror(-err));
			return 1;
		}
		long_sweep(&bp, OP_READ64, targets[t]);
		long_sweep(&bp, OP_WRITE64, targets[t]);
		unit_sweep(&bp, OP_READ64, targets[t]);
		unit_sweep(&bp, OP_WRITE64, targets[t]);
		bp_close(&bp);
	}

	/*
	 * Canaries on both bytes of a 2-byte memmove, since glibc versions
	 * differ in which byte they store twice; one of them must show it.
	 */
	if (bp_open(&bp, dev + BASE + 1) == 0) {
		stores_twice = canary(&bp, "two volatile stores",
				      dev + BASE + 1, 0);
		memmove_twice = canary(&bp, "glibc memmove(n=2), first byte",
				       dev + BASE + 1, 1);
		memmove_twice |= canary(&bp, "glibc memmove(n=2), second byte",
					dev + BASE + 1, 2);
		bp_close(&bp);
	}
	printf("hwbp: %lu calls checked, %lu failures, %lu re-measured after "
	       "a stray SIGTRAP, wide limit %u%s, canaries %s\n",
	       checks, failures, retries, ramdev_wide_limit(),
	       ramdev_wide_limit() == 64 ? " (AVX-512 path covered)" : "",
	       stores_twice && memmove_twice ? "fired" : "DID NOT FIRE");
	if (!stores_twice || !memmove_twice) {
		fprintf(stderr, "FAIL: a canary was not counted: the oracle is blind\n");
		return 1;
	}
	return failures ? 1 : 0;
}
