// SPDX-License-Identifier: MIT
/*
 * Byte-order and 32-bit test of ramdev_ld/ramdev_st and the endian helpers.
 * Plain C with no test framework, so scripts/test-cross.sh can run it under
 * qemu-user: s390x proves the big-endian paths, armhf the 32-bit one (an
 * 8-byte access there is two 4-byte accesses, see include/ramdev/access.h).
 *
 * Every expectation is written as the bytes that must be in memory, never
 * derived from the code under test: storing le32 0x11223344 leaves
 * 44 33 22 11 on every host.  Each access lands in the middle of a guarded
 * buffer whose other bytes must come back untouched.
 *
 * Exit: 0 all good, 1 a mismatch (each is printed).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ramdev/access.h"

#define GUARD 16
#define BUF (GUARD + 8 + GUARD)
#define POISON 0xa5

static unsigned long checks, failures;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_BIG 0
#else
#define HOST_BIG 1
#endif

/* The low `size` bytes of v as they sit in memory, little- or big-endian. */
static void bytes_of(uint8_t *out, uint64_t v, unsigned size, int big)
{
	for (unsigned i = 0; i < size; i++) {
		unsigned shift = 8 * (big ? size - 1 - i : i);

		out[i] = (uint8_t)(v >> shift);
	}
}

__attribute__((format(printf, 3, 4)))
static void fail(const char *what, unsigned size, const char *fmt, ...)
{
	va_list ap;

	failures++;
	fprintf(stderr, "FAIL %s size %u: ", what, size);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void expect_value(const char *what, unsigned size, uint64_t got,
			 uint64_t want)
{
	checks++;
	if (got != want)
		fail(what, size, "got 0x%llx, want 0x%llx",
		     (unsigned long long)got, (unsigned long long)want);
}

/* buf must hold POISON everywhere except [GUARD, GUARD + size) == bytes. */
static void expect_bytes(const char *what, unsigned size, const uint8_t *buf,
			 const uint8_t *bytes)
{
	checks++;
	for (unsigned i = 0; i < BUF; i++) {
		int in = i >= GUARD && i < GUARD + size;
		uint8_t want = in ? bytes[i - GUARD] : POISON;

		if (buf[i] != want) {
			fail(what, size, "byte at offset %d is 0x%02x, want 0x%02x",
			     (int)i - GUARD, buf[i], want);
			return;
		}
	}
}

static const uint64_t values[] = {
	0x1122334455667788ull, 0x8899aabbccddeeffull, 0, ~0ull,
	0x0000000100000002ull, 0x8000000000000001ull,
};
#define NVALUES (sizeof(values) / sizeof(values[0]))

static uint64_t low_bytes(uint64_t v, unsigned size)
{
	return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

/* ramdev_ld/ramdev_st in host order, sizes 1, 2, 4, 8. */
static void test_host_order(void)
{
	static _Alignas(16) uint8_t buf[BUF];
	static const unsigned sizes[] = { 1, 2, 4, 8 };
	uint8_t want[8];

	for (unsigned si = 0; si < 4; si++) {
		unsigned size = sizes[si];

		for (unsigned vi = 0; vi < NVALUES; vi++) {
			uint64_t v = values[vi];

			/* store: only the low `size` bytes, host order */
			memset(buf, POISON, BUF);
			ramdev_st(buf + GUARD, size, v);
			bytes_of(want, v, size, HOST_BIG);
			expect_bytes("ramdev_st", size, buf, want);

			/* load: zero-extended, host order */
			memset(buf, POISON, BUF);
			memcpy(buf + GUARD, want, size);
			expect_value("ramdev_ld", size,
				     ramdev_ld(buf + GUARD, size),
				     low_bytes(v, size));

			/* round trip, neighbours untouched */
			memset(buf, POISON, BUF);
			ramdev_st(buf + GUARD, size, v);
			expect_value("ramdev_ld(ramdev_st)", size,
				     ramdev_ld(buf + GUARD, size),
				     low_bytes(v, size));
			expect_bytes("ramdev_st(round trip)", size, buf, want);
		}
	}
}

/* Every 8-aligned slot of a small array: the 32-bit two-access path must
 * put each half at the right address whatever the slot. */
static void test_ld_st_8_slots(void)
{
	static _Alignas(64) uint8_t buf[64];

	memset(buf, POISON, sizeof(buf));
	for (unsigned slot = 0; slot < 8; slot++)
		ramdev_st(buf + 8 * slot, 8, 0x0102030405060708ull * (slot + 1));
	for (unsigned slot = 0; slot < 8; slot++) {
		uint64_t v = 0x0102030405060708ull * (slot + 1);
		uint8_t want[8];

		bytes_of(want, v, 8, HOST_BIG);
		checks++;
		if (memcmp(buf + 8 * slot, want, 8))
			fail("ramdev_st(slot)", 8, "slot %u bytes differ", slot);
		expect_value("ramdev_ld(slot)", 8, ramdev_ld(buf + 8 * slot, 8), v);
	}
}

#define ENDIAN_CASE(order, big, bits)                                         \
	do {                                                                  \
		for (unsigned vi = 0; vi < NVALUES; vi++) {                   \
			uint##bits##_t v = (uint##bits##_t)values[vi];        \
			uint8_t want[8];                                      \
                                                                              \
			bytes_of(want, v, bits / 8, big);                     \
			memset(buf, POISON, BUF);                             \
			ramdev_st_##order##bits(buf + GUARD, v);              \
			expect_bytes("ramdev_st_" #order #bits, bits / 8,     \
				     buf, want);                              \
			memset(buf, POISON, BUF);                             \
			memcpy(buf + GUARD, want, bits / 8);                  \
			expect_value("ramdev_ld_" #order #bits, bits / 8,     \
				     ramdev_ld_##order##bits(buf + GUARD), v); \
		}                                                             \
	} while (0)

static void test_endian_helpers(void)
{
	static _Alignas(16) uint8_t buf[BUF];
	uint8_t le_bytes[4] = { 0x44, 0x33, 0x22, 0x11 };

	/* The example from the brief, spelled out. */
	memset(buf, POISON, BUF);
	ramdev_st_le32(buf + GUARD, 0x11223344u);
	expect_bytes("ramdev_st_le32(0x11223344)", 4, buf, le_bytes);
	memset(buf, POISON, BUF);
	ramdev_st_be32(buf + GUARD, 0x44332211u);
	expect_bytes("ramdev_st_be32(0x44332211)", 4, buf, le_bytes);

	ENDIAN_CASE(le, 0, 16);
	ENDIAN_CASE(le, 0, 32);
	ENDIAN_CASE(le, 0, 64);
	ENDIAN_CASE(be, 1, 16);
	ENDIAN_CASE(be, 1, 32);
	ENDIAN_CASE(be, 1, 64);
}

int main(void)
{
	test_host_order();
	test_ld_st_8_slots();
	test_endian_helpers();
	printf("access_endian: %s-endian, %u-bit (8-byte access as %s), "
	       "%lu checks, %lu failures\n",
	       HOST_BIG ? "big" : "little", (unsigned)(sizeof(void *) * 8),
	       RAMDEV_NATIVE_64 ? "one" : "two 4-byte", checks, failures);
	return failures ? 1 : 0;
}
