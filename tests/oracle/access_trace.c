// SPDX-License-Identifier: MIT
/*
 * Access-pattern oracle, program side: runs a grid of access-core calls on a
 * private "device" mapping so that check_lackey.py can run it under valgrind
 * lackey and hold every device load and store against the spec (S1-S5).
 *
 * The checker computes the expected accesses itself; this program only says
 * what it called and where.  Case boundaries are 8-byte stores to two marker
 * words at the start of the mapping, so the checker can attribute each access
 * in the trace to a case without this program formatting text while it is
 * traced (a printf per case would swamp the trace).  Each case's descriptor
 * (what was called, with absolute addresses) is appended to the table file
 * with one write() before the case runs, so the table and the markers stay
 * in step even when the program dies halfway.
 *
 * Layout of the 64 KiB device mapping (64 KiB aligned, so the checker can
 * select its accesses by address prefix):
 *   +0       marker words (begin at +0, end at +64)
 *   +8192    span A (up to 4097 + 63 bytes), guard bytes around it
 *   +24576   span B (second device span for copies), guard bytes around it
 * Everything else is guard: any access there is a violation.
 *
 * Usage: access_trace GROUP TABLE_FILE
 *   GROUP: rw, copy, move, wide, wide_env, nt, ram, ramd (see run_group()).
 *   Every group ends with the canaries: glibc memmove/memcpy on the device
 *   mapping, which the checker must flag, so a run in which attribution
 *   silently broke cannot pass.
 * Prints a header (marker, mapping and wide-limit addresses) on stdout.
 * Exit: 0 when the grid ran (the checker judges it), 1 on a setup error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ramdev/access.h"
#include "ramdev/as.h"
#include "ramdev/dma.h"

#define REGION (64 * 1024)
#define SPAN_A 8192
#define SPAN_B 24576

/* Keep in sync with KINDS in check_lackey.py. */
enum kind {
	K_READ,
	K_WRITE,
	K_COPY,
	K_MOVE,
	K_READ_WIDE,
	K_WRITE_WIDE,
	K_LD,
	K_ST,
	K_CANARY_MOVE, /* glibc memmove, judged as ramdev_move */
	K_CANARY_COPY, /* glibc memcpy, judged as ramdev_copy */
	/* Group "ram": the mapping is guest RAM of an address space. */
	K_AS_WRITE,   /* ramdev_as_write */
	K_AS_READ,    /* ramdev_as_read */
	K_DMA_WRITE,  /* ramdev_dma_write */
	K_DMA_READ,   /* ramdev_dma_read */
	K_SEG_WRITE,  /* ramdev_dma_seg_write on a mapped RAM segment */
	K_SEG_READ,   /* ramdev_dma_seg_read */
	K_AS_ST,      /* ramdev_as_st */
	K_AS_LD,      /* ramdev_as_ld */
	K_CANARY_RAM, /* glibc memcpy into the RAM, judged as ramdev_as_write */
	/* Group "ramd": the mapping is RAM-device memory of regions whose DMA
	 * width (ramdev_region_set_dma_width) is the case's width. */
	K_RAMD_AS_WRITE,
	K_RAMD_AS_READ,
	K_RAMD_DMA_WRITE,
	K_RAMD_DMA_READ,
	K_RAMD_SEG_WRITE, /* on the region's mapped RAMDEV_SEG_DEV segment */
	K_RAMD_SEG_READ,
	K_CANARY_RAMD, /* ramdev_write (8 bytes), judged at width 4 */
};

/* Little-endian u64 fields, read back with struct.unpack('<6Q'). */
struct case_desc {
	uint64_t kind, dst, src, n, width, pad;
};

/* 700 and 1100: 64-byte copies enter their last 8-15 units part way
 * (10 units; one group of 8 then 9 units). */
static const size_t sizes[] = {
	127, 128, 129, 255, 256, 257, 700, 1000, 1100, 4095, 4096, 4097,
};
static const size_t dev_offs[] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 31, 63,
};
static const size_t ram_offs[] = { 0, 1, 5 };

static uint8_t *region;

/* Group "ram": [SPAN_A, SPAN_B + 8192) of the mapping is a RAM region at
 * RAM_GPA, mapped whole as one DMA segment. */
#define RAM_GPA 0x100000u
#define RAM_LEN (SPAN_B + 8192 - SPAN_A)
static struct ramdev_as *ram_as;
static struct ramdev_dma *ram_dma;
static struct ramdev_dma_seg ram_seg;

static uint64_t gpa_of(const uint8_t *host)
{
	return RAM_GPA + (uint64_t)(host - (region + SPAN_A));
}
/* Group "ramd": the same span as RAM_LEN bytes of RAM-device memory,
 * once per DMA width, each region at its own guest address and mapped
 * whole as one DMA segment. */
static const unsigned ramd_widths[] = { 4, 8, 16, 64 };
#define RAMD_GPA(i) (0x1000000u + (uint64_t)(i) * 0x100000u)
static struct ramdev_dma_seg ramd_seg[4];

static unsigned ramd_index(unsigned width)
{
	unsigned i = 0;

	while (i < 3 && ramd_widths[i] != width)
		i++;
	return i;
}

static _Alignas(64) uint8_t ram[8192];
static int table_fd;
static size_t ncases;

/*
 * Through volatile pointers: called directly, GCC expands a small constant
 * memmove inline, and the canary would test the compiler, not glibc.
 */
static void *(*volatile glibc_memmove)(void *, const void *, size_t) = memmove;
static void *(*volatile glibc_memcpy)(void *, const void *, size_t) = memcpy;

static volatile uint64_t *marker_begin(void)
{
	return (volatile uint64_t *)region;
}

static volatile uint64_t *marker_end(void)
{
	return (volatile uint64_t *)(region + 64);
}

/* The address space and DMA calls of group "ram"; a failed call is a
 * setup error (the checker would see no accesses, and say so). */
static void run_ram(enum kind kind, uint8_t *dst, const uint8_t *src,
		    size_t n, unsigned width)
{
	uint64_t v = 0;
	int rc = 0;

	switch (kind) {
	case K_AS_WRITE:
		rc = ramdev_as_write(ram_as, gpa_of(dst), src, n);
		break;
	case K_AS_READ:
		rc = ramdev_as_read(ram_as, gpa_of(src), dst, n);
		break;
	case K_DMA_WRITE:
		rc = ramdev_dma_write(ram_dma, gpa_of(dst), src, n);
		break;
	case K_DMA_READ:
		rc = ramdev_dma_read(ram_dma, gpa_of(src), dst, n);
		break;
	case K_SEG_WRITE:
		rc = ramdev_dma_seg_write(&ram_seg, gpa_of(dst) - RAM_GPA, src,
					  n);
		break;
	case K_SEG_READ:
		rc = ramdev_dma_seg_read(&ram_seg, gpa_of(src) - RAM_GPA, dst,
					 n);
		break;
	case K_AS_ST:
		rc = ramdev_as_st(ram_as, gpa_of(dst), width,
				  0x0102030405060708ull);
		break;
	case K_AS_LD:
		rc = ramdev_as_ld(ram_as, gpa_of(src), width, &v);
		*(volatile uint64_t *)dst = v;
		break;
	default:
		rc = -1;
	}
	if (rc) {
		fprintf(stderr, "access_trace: ram case kind %d n %zu: %d\n",
			(int)kind, n, rc);
		exit(1);
	}
}

/* The calls of group "ramd" (a failed call is a setup error). */
static void run_ramd(enum kind kind, uint8_t *dst, const uint8_t *src,
		     size_t n, unsigned width)
{
	unsigned i = ramd_index(width);
	uint64_t base = RAMD_GPA(i) - RAM_GPA;
	int rc;

	switch (kind) {
	case K_RAMD_AS_WRITE:
		rc = ramdev_as_write(ram_as, base + gpa_of(dst), src, n);
		break;
	case K_RAMD_AS_READ:
		rc = ramdev_as_read(ram_as, base + gpa_of(src), dst, n);
		break;
	case K_RAMD_DMA_WRITE:
		rc = ramdev_dma_write(ram_dma, base + gpa_of(dst), src, n);
		break;
	case K_RAMD_DMA_READ:
		rc = ramdev_dma_read(ram_dma, base + gpa_of(src), dst, n);
		break;
	case K_RAMD_SEG_WRITE:
		rc = ramdev_dma_seg_write(&ramd_seg[i], gpa_of(dst) - RAM_GPA,
					  src, n);
		break;
	case K_RAMD_SEG_READ:
		rc = ramdev_dma_seg_read(&ramd_seg[i], gpa_of(src) - RAM_GPA,
					 dst, n);
		break;
	default:
		ramdev_write(dst, src, n);
		rc = 0;
	}
	if (rc) {
		fprintf(stderr, "access_trace: ramd case kind %d n %zu: %d\n",
			(int)kind, n, rc);
		exit(1);
	}
}

static void run(enum kind kind, uint8_t *dst, const uint8_t *src, size_t n,
		unsigned width)
{
	struct case_desc desc = { kind, (uintptr_t)dst, (uintptr_t)src, n,
				  width, 0 };

	if (write(table_fd, &desc, sizeof(desc)) != (ssize_t)sizeof(desc)) {
		perror("access_trace: writing the case table");
		exit(1);
	}
	*marker_begin() = ncases++;
	switch (kind) {
	case K_READ:
		ramdev_read(dst, src, n);
		break;
	case K_WRITE:
		ramdev_write(dst, src, n);
		break;
	case K_COPY:
		ramdev_copy(dst, src, n);
		break;
	case K_MOVE:
		ramdev_move(dst, src, n);
		break;
	case K_READ_WIDE:
		ramdev_read_wide(dst, src, n, width);
		break;
	case K_WRITE_WIDE:
		ramdev_write_wide(dst, src, n, width);
		break;
	case K_LD:
		*(volatile uint64_t *)dst = ramdev_ld(src, width);
		break;
	case K_ST:
		ramdev_st(dst, width, 0x0102030405060708ull);
		break;
	case K_CANARY_MOVE:
		glibc_memmove(dst, src, n);
		break;
	case K_CANARY_COPY:
	case K_CANARY_RAM:
		glibc_memcpy(dst, src, n);
		break;
	default:
		if (kind >= K_RAMD_AS_WRITE)
			run_ramd(kind, dst, src, n, width);
		else
			run_ram(kind, dst, src, n, width);
		break;
	}
	*marker_end() = 0;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* n = 0..80, then the sizes around powers of two and pages. */
static size_t all_n[81 + COUNT(sizes)];

#define FOR_EACH_N(n, i)                                                      \
	for (size_t i = 0, n = 0; i < COUNT(all_n) && (n = all_n[i], 1); i++)

/*
 * Widths 1 and 2 turn the large sizes into thousands of accesses each; the
 * RAM offset cannot change their pattern, so those run at RAM offset 0 only.
 */
static void grid_rw(enum kind rd, enum kind wr, unsigned width)
{
	for (size_t d = 0; d < COUNT(dev_offs); d++) {
		uint8_t *dev = region + SPAN_A + dev_offs[d];

		for (size_t r = 0; r < COUNT(ram_offs); r++) {
			FOR_EACH_N(n, i) {
				if (n > 257 && width && width < 4 && r)
					continue;
				run(rd, ram + ram_offs[r], dev, n, width);
				run(wr, dev, ram + ram_offs[r], n, width);
			}
		}
	}
}

static void grid_ldst(void)
{
	static const unsigned ld_sizes[] = { 1, 2, 4, 8 };

	for (size_t i = 0; i < COUNT(ld_sizes); i++) {
		unsigned size = ld_sizes[i];

		for (size_t off = 0; off < 64; off += size) {
			run(K_LD, ram, region + SPAN_A + off, 0, size);
			run(K_ST, region + SPAN_A + off, NULL, 0, size);
		}
	}
}

/*
 * Disjoint copies: every destination offset against source offsets that
 * give each combination of low address bits a turn.  Sizes above 257 only
 * for a few pairs: with mismatched alignment they are byte by byte, and
 * the small sizes already reach every head/body/tail shape.
 */
static void grid_copy(enum kind kind)
{
	static const size_t src_offs[] = { 0, 1, 2, 3, 4, 6, 8, 12, 13 };

	for (size_t d = 0; d < COUNT(dev_offs); d++) {
		for (size_t s = 0; s < COUNT(src_offs); s++) {
			uint8_t *dst = region + SPAN_A + dev_offs[d];
			uint8_t *src = region + SPAN_B + src_offs[s];
			int big = d % 8 == 0 && s % 3 == 0;

			FOR_EACH_N(n, i) {
				if (n > 257 && !big)
					continue;
				run(kind, dst, src, n, 0);
			}
		}
	}
}

/* Overlapping moves both ways, distances 1..9 (and 16, 64 for wide units). */
static void grid_move(void)
{
	static const size_t dists[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 64 };

	for (size_t d = 0; d < COUNT(dev_offs); d++) {
		for (size_t k = 0; k < COUNT(dists); k++) {
			uint8_t *lo = region + SPAN_A + dev_offs[d];
			uint8_t *hi = lo + dists[k];
			int big = d % 8 == 0;

			FOR_EACH_N(n, i) {
				if (n > 257 && !big)
					continue;
				run(K_MOVE, hi, lo, n, 0); /* dst > src */
				run(K_MOVE, lo, hi, n, 0); /* dst < src */
			}
		}
	}
}

static void grid_wide(const unsigned *widths, size_t count)
{
	for (size_t w = 0; w < count; w++)
		grid_rw(K_READ_WIDE, K_WRITE_WIDE, widths[w]);
}

/* Large writes only: the non-temporal body starts at RAMDEV_NT_THRESHOLD. */
static void grid_nt(void)
{
	for (size_t d = 0; d < COUNT(dev_offs); d++) {
		for (size_t r = 0; r < COUNT(ram_offs); r++) {
			for (size_t i = 0; i < COUNT(sizes); i++)
				run(K_WRITE, region + SPAN_A + dev_offs[d],
				    ram + ram_offs[r], sizes[i], 0);
			for (size_t n = 200; n < 300; n += 7)
				run(K_WRITE, region + SPAN_A + dev_offs[d],
				    ram + ram_offs[r], n, 0);
			/* The streaming wide body: device stores (write),
			 * RAM stores when the RAM side is aligned (read). */
			for (size_t n = 256; n < 1200; n += 151) {
				run(K_WRITE_WIDE, region + SPAN_A + dev_offs[d],
				    ram + ram_offs[r], n, 32);
				run(K_READ_WIDE, ram + ram_offs[r],
				    region + SPAN_A + dev_offs[d], n, 32);
				run(K_WRITE_WIDE, region + SPAN_A + dev_offs[d],
				    ram + ram_offs[r], n, 16);
			}
		}
	}
}

/*
 * Group "ram": every device-side copy into and out of guest RAM, at RAM
 * offsets that give each low-bit pattern a turn and sizes 0..40 plus a few
 * large ones.  The RAM side is judged like a device: each byte once, the
 * greedy width (capped at the wide limit), so an aligned 1/2/4/8-byte
 * write is one store of that width.
 */
static int ram_setup(void)
{
	struct ramdev_region *r;

	if (ramdev_as_new(&ram_as, "oracle") ||
	    ramdev_region_new_ram(&r, "ram", region + SPAN_A, RAM_LEN) ||
	    ramdev_region_add(ramdev_as_root(ram_as), RAM_GPA, r, 0) ||
	    ramdev_dma_new(&ram_dma, ram_as, NULL) ||
	    ramdev_dma_map(ram_dma, RAM_GPA, RAM_LEN, RAMDEV_DMA_BIDIR,
			   &ram_seg) ||
	    ram_seg.len != RAM_LEN || ram_seg.kind != RAMDEV_SEG_RAM)
		return -1;
	ramdev_region_unref(r);
	return 0;
}

static void grid_ram(void)
{
	static const size_t offs[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 31, 33 };
	static const size_t big[] = { 63, 64, 65, 127, 128, 129, 255, 257,
				      1000, 4096, 4097 };
	static const enum kind wr[] = { K_AS_WRITE, K_DMA_WRITE, K_SEG_WRITE };
	static const enum kind rd[] = { K_AS_READ, K_DMA_READ, K_SEG_READ };
	static const unsigned ld_sizes[] = { 1, 2, 4, 8 };

	for (size_t o = 0; o < COUNT(offs); o++) {
		uint8_t *dev = region + SPAN_A + offs[o];

		for (size_t k = 0; k < COUNT(wr); k++) {
			for (size_t n = 0; n <= 40 + COUNT(big); n++) {
				size_t len = n <= 40 ? n : big[n - 41];

				run(wr[k], dev, ram + 1, len, 0);
				run(rd[k], ram + 1, dev, len, 0);
			}
		}
	}
	for (size_t i = 0; i < COUNT(ld_sizes); i++) {
		for (size_t off = 0; off < 24; off++) {
			run(K_AS_ST, region + SPAN_A + off, NULL, 0,
			    ld_sizes[i]);
			run(K_AS_LD, ram, region + SPAN_A + off, 0,
			    ld_sizes[i]);
		}
	}
	/* memcpy into RAM, as the library did before: must be flagged. */
	run(K_CANARY_RAM, region + SPAN_A, ram, 2, 0);
	run(K_CANARY_RAM, region + SPAN_A + 1, ram, 4, 0);
}

/*
 * Group "ramd": the library's copies of RAM-device memory, through the
 * address space, the DMA layer and a DEV segment, for each DMA width
 * (8, the default, is the strict core), at the offsets and sizes of group
 * "ram".  The checker holds each to S2-S4 with the greedy width capped at
 * the region's width (and at the wide limit).
 */
static int ramd_setup(void)
{
	for (unsigned i = 0; i < COUNT(ramd_widths); i++) {
		struct ramdev_region *r;

		if (ramdev_region_new_ramd(&r, "ramd", region + SPAN_A,
					   RAM_LEN) ||
		    (ramd_widths[i] != 8 &&
		     ramdev_region_set_dma_width(r, ramd_widths[i])) ||
		    ramdev_region_dma_width(r) != ramd_widths[i] ||
		    ramdev_region_add(ramdev_as_root(ram_as), RAMD_GPA(i), r,
				      0) ||
		    ramdev_dma_map(ram_dma, RAMD_GPA(i), RAM_LEN,
				   RAMDEV_DMA_BIDIR, &ramd_seg[i]) ||
		    ramd_seg[i].len != RAM_LEN ||
		    ramd_seg[i].kind != RAMDEV_SEG_DEV)
			return -1;
		ramdev_region_unref(r);
	}
	return 0;
}

static void grid_ramd(void)
{
	static const size_t offs[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 31, 33 };
	static const size_t big[] = { 63, 64, 65, 127, 128, 129, 255, 257,
				      1000, 4096, 4097 };
	static const enum kind wr[] = { K_RAMD_AS_WRITE, K_RAMD_DMA_WRITE,
					K_RAMD_SEG_WRITE };
	static const enum kind rd[] = { K_RAMD_AS_READ, K_RAMD_DMA_READ,
					K_RAMD_SEG_READ };

	for (size_t w = 0; w < COUNT(ramd_widths); w++) {
		for (size_t o = 0; o < COUNT(offs); o++) {
			uint8_t *dev = region + SPAN_A + offs[o];

			for (size_t k = 0; k < COUNT(wr); k++) {
				for (size_t n = 0; n <= 40 + COUNT(big); n++) {
					size_t len = n <= 40 ? n : big[n - 41];

					run(wr[k], dev, ram + 1, len,
					    ramd_widths[w]);
					run(rd[k], ram + 1, dev, len,
					    ramd_widths[w]);
				}
			}
		}
	}
	/* The strict core where the region says 4: must be flagged. */
	run(K_CANARY_RAMD, region + SPAN_A, ram, 8, 4);
	run(K_CANARY_RAMD, region + SPAN_A + 8, ram, 64, 4);
}

/*
 * glibc's memmove for 2 bytes stores 2 bytes and then 1 byte over the second
 * one; memcpy of 7 bytes uses two overlapping 4-byte accesses per side.
 */
static void canaries(void)
{
	run(K_CANARY_MOVE, region + SPAN_A, region + SPAN_B, 2, 0);
	run(K_CANARY_COPY, region + SPAN_A + 1, region + SPAN_B + 1, 7, 0);
}

static int run_group(const char *group)
{
	static const unsigned all_widths[] = { 1, 2, 4, 8, 16, 32, 64 };
	static const unsigned big_widths[] = { 16, 32, 64 };

	if (!strcmp(group, "rw")) {
		grid_rw(K_READ, K_WRITE, 0);
		grid_ldst();
	} else if (!strcmp(group, "copy")) {
		grid_copy(K_COPY);
		grid_copy(K_MOVE);
	} else if (!strcmp(group, "move")) {
		grid_move();
	} else if (!strcmp(group, "wide")) {
		grid_wide(all_widths, COUNT(all_widths));
	} else if (!strcmp(group, "wide_env")) {
		grid_wide(big_widths, COUNT(big_widths));
	} else if (!strcmp(group, "nt")) {
		grid_nt();
	} else if (!strcmp(group, "ram")) {
		grid_ram();
	} else if (!strcmp(group, "ramd")) {
		grid_ramd();
	} else {
		return -1;
	}
	canaries();
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t *map;

	if (argc != 3) {
		fprintf(stderr, "usage: access_trace GROUP TABLE_FILE\n");
		return 1;
	}
	map = mmap(NULL, 2 * REGION, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	table_fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (map == MAP_FAILED || table_fd < 0) {
		perror("access_trace: mmap/open");
		return 1;
	}
	region = (uint8_t *)(((uintptr_t)map + REGION - 1) & ~(uintptr_t)(REGION - 1));
	for (size_t i = 0; i < sizeof(ram); i++)
		ram[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < COUNT(all_n); i++)
		all_n[i] = i < 81 ? i : sizes[i - 81];

	/* Probe (and cache) the wide limit and the NT threshold before tracing. */
	printf("wide_limit %u\n", ramdev_wide_limit());
	ramdev_write(region + SPAN_A, ram, 0);
	if ((!strcmp(argv[1], "ram") || !strcmp(argv[1], "ramd")) &&
	    (ram_setup() || (!strcmp(argv[1], "ramd") && ramd_setup()))) {
		fprintf(stderr, "access_trace: address space set-up failed\n");
		return 1;
	}
	printf("marker_begin %#lx\nmarker_end %#lx\nregion %#lx %#lx\n",
	       (unsigned long)(uintptr_t)marker_begin(),
	       (unsigned long)(uintptr_t)marker_end(),
	       (unsigned long)(uintptr_t)region,
	       (unsigned long)(uintptr_t)(region + REGION));
	fflush(stdout);

	if (run_group(argv[1])) {
		fprintf(stderr, "access_trace: unknown group %s\n", argv[1]);
		return 1;
	}

	if (close(table_fd)) {
		perror("access_trace: closing the case table");
		return 1;
	}
	printf("cases %zu\n", ncases);
	return 0;
}
