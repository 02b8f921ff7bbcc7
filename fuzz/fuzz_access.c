// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the access core's bulk functions (clang only;
 * scripts/fuzz.sh): ramdev_read/_write/_copy/_move and the _wide variants
 * on random sizes, alignments, widths and overlaps.
 *
 * Two 512-byte arenas, "device" and "ram", each at the end of a page that
 * is followed by an inaccessible guard page, the rest of the page poisoned
 * for ASan: an access outside them faults or is reported at once.  Every operation is
 * replayed on shadow copies with memmove(); after each one both arenas must
 * equal their shadows byte for byte (the values are memmove's, and no byte
 * outside the span changed).
 *
 * Input:
 *   u8 seed               the arenas' initial pattern
 *   ops until the end     u8 op, u16 a, u16 b, u16 n, u8 width (see enum op;
 *                         offsets and lengths are reduced into the arena,
 *                         width is 1 << (v % 7): 1..64)
 * Missing bytes read as zero.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sanitizer/asan_interface.h>

#include "ramdev/access.h"
#include "fuzz_input.h"

#define ARENA 512u

enum op {
	OP_READ,       /* ram[a..] <- dev[b..] */
	OP_WRITE,      /* dev[a..] <- ram[b..] */
	OP_COPY,       /* dev[a..] <- dev[b..], made disjoint (see below) */
	OP_MOVE,       /* dev[a..] <- dev[b..], may overlap */
	OP_READ_WIDE,  /* as OP_READ, with max_width */
	OP_WRITE_WIDE, /* as OP_WRITE, with max_width */
	OP_COUNT
};

/* ARENA bytes ending where a PROT_NONE page begins; the bytes before them
 * in their page poisoned (ASan reports a touch). */
static uint8_t *guarded_arena(void)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *m;

	m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m + pg, pg, PROT_NONE) != 0)
		abort();
	ASAN_POISON_MEMORY_REGION(m, pg - ARENA);
	return m + pg - ARENA;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Reach the non-temporal store body of ramdev_write (x86_64) with
	 * spans that fit the arena. */
	setenv("RAMDEV_NT_THRESHOLD", "64", 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *dev, *ram;
	static uint8_t sdev[ARENA], sram[ARENA];
	struct input in = { data, size };
	uint8_t seed = get8(&in);

	if (!dev) {
		dev = guarded_arena();
		ram = guarded_arena();
	}
	for (unsigned i = 0; i < ARENA; i++) {
		sdev[i] = (uint8_t)(seed + i * 131u + (i >> 8));
		sram[i] = (uint8_t)(~seed + i * 37u);
	}
	memcpy(dev, sdev, ARENA);
	memcpy(ram, sram, ARENA);

	while (in.left) {
		unsigned op = get8(&in) % OP_COUNT;
		size_t a = get16(&in) % ARENA, b = get16(&in) % ARENA;
		size_t lim = ARENA - (a > b ? a : b);
		size_t n = lim ? get16(&in) % (lim + 1) : (get16(&in), 0);
		unsigned w = 1u << (get8(&in) % 7);

		switch (op) {
		case OP_READ:
			ramdev_read(ram + a, dev + b, n);
			memmove(sram + a, sdev + b, n);
			break;
		case OP_READ_WIDE:
			ramdev_read_wide(ram + a, dev + b, n, w);
			memmove(sram + a, sdev + b, n);
			break;
		case OP_WRITE:
			ramdev_write(dev + a, ram + b, n);
			memmove(sdev + a, sram + b, n);
			break;
		case OP_WRITE_WIDE:
			ramdev_write_wide(dev + a, ram + b, n, w);
			memmove(sdev + a, sram + b, n);
			break;
		case OP_COPY:
			/* ramdev_copy wants disjoint spans: shorten to fit. */
			if (a < b && a + n > b)
				n = b - a;
			else if (b < a && b + n > a)
				n = a - b;
			else if (a == b)
				n = 0;
			ramdev_copy(dev + a, dev + b, n);
			memmove(sdev + a, sdev + b, n);
			break;
		case OP_MOVE:
			ramdev_move(dev + a, dev + b, n);
			memmove(sdev + a, sdev + b, n);
			break;
		}
		if (memcmp(dev, sdev, ARENA) != 0 || memcmp(ram, sram, ARENA) != 0)
			__builtin_trap();
	}
	return 0;
}
