// SPDX-License-Identifier: MIT
/*
 * Value test of the access core against memcpy/memmove over a grid of sizes
 * and alignments.  Plain C with no test framework, so scripts/test-cross.sh
 * can build it with nothing but a cross compiler and run it under
 * qemu-user (sparc64 and riscv64 trap misaligned accesses: a stray unaligned
 * device access there kills the run with SIGBUS, which fails the test).
 *
 * Grid: n = 0..300, device offset 0..63, RAM offset 0..7; ramdev_move in
 * both overlap directions; the _wide variants for every max_width.  Bytes
 * around each span are guarded and must come back untouched.  Then medium
 * spans (each count of 64-byte units up to 24, at every device offset) and
 * a few long ones (1.5-5 KiB) at every RAM offset from a 64-byte line, for
 * the paths that start above 300 bytes (x86_64: groups of 8 units, the
 * rotated RAM lines of a 64-byte read whose RAM side is misaligned).
 * meson also runs it with RAMDEV_NT_THRESHOLD=256: the streaming bodies.
 *
 * Usage: access_values [--quick]   (--quick: RAM offsets 0, 1 and 7 only)
 * Exit: 0 all good, 1 a mismatch (the first few are printed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ramdev/access.h"

#define MAX_N 300
#define DEV_OFFS 64
#define RAM_OFFS 8
#define GUARD 72
#define BUF (GUARD + DEV_OFFS + MAX_N + GUARD)

static unsigned long failures;

/* 64-byte aligned buffers so that an offset means a known alignment. */
static _Alignas(64) uint8_t dev[BUF], dev2[BUF], ram[BUF];
static _Alignas(64) uint8_t want[BUF], want2[BUF];

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
}

static void check(const char *what, const uint8_t *got, const uint8_t *exp,
		  size_t n, size_t doff, size_t roff, unsigned width)
{
	if (!memcmp(got, exp, BUF))
		return;
	if (failures++ < 10) {
		size_t i = 0;

		while (got[i] == exp[i])
			i++;
		fprintf(stderr,
			"FAIL %s n=%zu dev_off=%zu ram_off=%zu width=%u: "
			"byte %ld is 0x%02x, want 0x%02x\n",
			what, n, doff, roff, width,
			(long)i - GUARD, got[i], exp[i]);
	}
}

static void one_case(size_t n, size_t doff, size_t roff, unsigned width)
{
	uint8_t *d = dev + GUARD + doff, *r = ram + GUARD + roff;
	unsigned seed = (unsigned)(n * 4096 + doff * 8 + roff);

	/* RAM -> device */
	fill(dev, BUF, seed);
	fill(ram, BUF, seed + 1);
	memcpy(want, dev, BUF);
	memcpy(want + GUARD + doff, r, n);
	if (width)
		ramdev_write_wide(d, r, n, width);
	else
		ramdev_write(d, r, n);
	check(width ? "write_wide" : "write", dev, want, n, doff, roff, width);

	/* device -> RAM */
	fill(dev, BUF, seed + 2);
	fill(ram, BUF, seed + 3);
	memcpy(want, ram, BUF);
	memcpy(want + GUARD + roff, d, n);
	if (width)
		ramdev_read_wide(r, d, n, width);
	else
		ramdev_read(r, d, n);
	check(width ? "read_wide" : "read", ram, want, n, doff, roff, width);
}

/* Long spans: own buffers, so the dense grid above stays cheap. */
#define LONG_N 5200
#define LONG_BUF (GUARD + DEV_OFFS + LONG_N + GUARD)
static _Alignas(64) uint8_t ldev[LONG_BUF], lram[LONG_BUF], lwant[LONG_BUF];

static void long_case(size_t n, size_t doff, size_t roff, unsigned width)
{
	uint8_t *d = ldev + GUARD + doff, *r = lram + GUARD + roff;
	unsigned seed = (unsigned)(n * 4096 + doff * 64 + roff);

	fill(ldev, LONG_BUF, seed);
	fill(lram, LONG_BUF, seed + 1);
	memcpy(lwant, lram, LONG_BUF);
	memcpy(lwant + GUARD + roff, d, n);
	ramdev_read_wide(r, d, n, width);
	if (memcmp(lram, lwant, LONG_BUF) && failures++ < 10)
		fprintf(stderr, "FAIL read_wide n=%zu dev_off=%zu ram_off=%zu "
			"width=%u (long span)\n", n, doff, roff, width);

	fill(ldev, LONG_BUF, seed + 2);
	memcpy(lwant, ldev, LONG_BUF);
	memcpy(lwant + GUARD + doff, r, n);
	ramdev_write_wide(d, r, n, width);
	if (memcmp(ldev, lwant, LONG_BUF) && failures++ < 10)
		fprintf(stderr, "FAIL write_wide n=%zu dev_off=%zu ram_off=%zu "
			"width=%u (long span)\n", n, doff, roff, width);
}

/* Device to device: roff is reused as the second device offset. */
static void copy_case(size_t n, size_t doff, size_t soff)
{
	uint8_t *d = dev + GUARD + doff, *s = dev2 + GUARD + soff;

	fill(dev, BUF, (unsigned)n + 7);
	fill(dev2, BUF, (unsigned)n + 9);
	memcpy(want, dev, BUF);
	memcpy(want2, dev2, BUF);
	memcpy(want + GUARD + doff, s, n);
	ramdev_copy(d, s, n);
	check("copy", dev, want, n, doff, soff, 0);
	check("copy(src)", dev2, want2, n, doff, soff, 0);

	/* ramdev_move on disjoint spans behaves as a copy. */
	fill(dev, BUF, (unsigned)n + 11);
	memcpy(want, dev, BUF);
	memcpy(want + GUARD + doff, s, n);
	ramdev_move(d, s, n);
	check("move(disjoint)", dev, want, n, doff, soff, 0);
}

/* Overlapping moves inside one buffer, both directions. */
static void move_case(size_t n, size_t a, size_t b)
{
	fill(dev, BUF, (unsigned)(n + a * 131 + b));
	memcpy(want, dev, BUF);
	memmove(want + GUARD + a, want + GUARD + b, n);
	ramdev_move(dev + GUARD + a, dev + GUARD + b, n);
	check(a > b ? "move(up)" : "move(down)", dev, want, n, a, b, 0);
}

int main(int argc, char **argv)
{
	int quick = argc > 1 && !strcmp(argv[1], "--quick");
	static const size_t quick_roffs[] = { 0, 1, 7 };
	static const unsigned widths[] = { 1, 2, 4, 8, 16, 32, 64 };
	size_t nroffs = quick ? 3 : RAM_OFFS;
	unsigned long cases = 0;

	for (size_t n = 0; n <= MAX_N; n++) {
		for (size_t doff = 0; doff < DEV_OFFS; doff++) {
			for (size_t i = 0; i < nroffs; i++) {
				size_t roff = quick ? quick_roffs[i] : i;

				one_case(n, doff, roff, 0);
				copy_case(n, doff, roff);
				cases += 2;
			}
			/* overlap: distances 1..8 and a few larger ones */
			for (size_t dist = 1; dist <= 12; dist += (dist < 8 ? 1 : 4)) {
				if (doff + dist >= DEV_OFFS + GUARD)
					break;
				move_case(n, doff + dist, doff);
				move_case(n, doff, doff + dist);
				cases += 2;
			}
		}
		/* wide variants: every width, device offsets 0..63, RAM
		 * offsets 0, 3 and the device's own (the RAM side then on its
		 * lines where the device's is: x86_64 reads take another
		 * copy of the 64-byte path there) */
		for (size_t wi = 0; wi < sizeof(widths) / sizeof(widths[0]); wi++) {
			for (size_t doff = 0; doff < DEV_OFFS; doff++) {
				one_case(n, doff, 0, widths[wi]);
				one_case(n, doff, 3, widths[wi]);
				one_case(n, doff, doff, widths[wi]);
				cases += 3;
			}
		}
	}
	/* Medium spans: at every device offset, each count of whole 64-byte
	 * units from 3-4 up to 24 (64-byte copies switch from one run of up
	 * to 15 units to groups of 8 before it at 16), with a tail; widths
	 * 64 and 32; RAM offsets 0, 3 and the device's own. */
	for (size_t n = 256 + 37; n < 1700; n += 64) {
		for (size_t doff = 0; doff < DEV_OFFS; doff++) {
			const size_t var[][2] = { { n, 0 }, { n - 37, 3 },
						  { n, doff } };

			for (size_t k = 0; k < 3; k++) {
				long_case(var[k][0], doff, var[k][1], 64);
				long_case(var[k][0], doff, var[k][1], 32);
				cases += 2;
			}
		}
	}
	/* Long spans: around 1536 bytes of whole units after the head, and
	 * a few more; every RAM offset in a line; widths 64 and 32. */
	static const size_t long_ns[] = { 1535, 1536, 1600, 1663, 1664, 2048,
					  2111, 4096, 4157, LONG_N };
	static const size_t long_doffs[] = { 0, 1, 3, 32, 61, 63 };
	for (size_t i = 0; i < sizeof(long_ns) / sizeof(long_ns[0]); i++)
		for (size_t j = 0; j < sizeof(long_doffs) / sizeof(long_doffs[0]); j++)
			for (size_t roff = 0; roff < 64; roff++) {
				long_case(long_ns[i], long_doffs[j], roff, 64);
				long_case(long_ns[i], long_doffs[j], roff, 32);
				cases += 2;
			}
	printf("access_values: %lu cases, %lu failures (wide limit %u)\n",
	       cases, failures, ramdev_wide_limit());
	return failures ? 1 : 0;
}
