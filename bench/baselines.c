// SPDX-License-Identifier: MIT
/*
 * Baselines for `ramdev bench access`, written from the published behaviour
 * of each approach.  The device side goes through volatile lvalues so the
 * compiler cannot merge the accesses or turn a loop into a memcpy call or
 * vector code (check: objdump -d build/tools/ramdev | grep -A40 bl_v2_write).
 * The RAM side uses fixed-size __builtin_memcpy (a plain, possibly unaligned
 * load or store), as any of these would.
 */
#include <stdint.h>
#include <string.h>

#include "baselines.h"

typedef volatile uint8_t __attribute__((may_alias)) io8;
typedef volatile uint16_t __attribute__((may_alias)) io16;
typedef volatile uint32_t __attribute__((may_alias)) io32;
typedef volatile uint64_t __attribute__((may_alias)) io64;

#define NOINLINE __attribute__((noinline))

static inline uint64_t ram_ld(const uint8_t *p, size_t w)
{
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	switch (w) {
	case 1:
		__builtin_memcpy(&v8, p, 1);
		return v8;
	case 2:
		__builtin_memcpy(&v16, p, 2);
		return v16;
	case 4:
		__builtin_memcpy(&v32, p, 4);
		return v32;
	default:
		__builtin_memcpy(&v64, p, 8);
		return v64;
	}
}

static inline void ram_st(uint8_t *p, size_t w, uint64_t v)
{
	uint8_t v8 = (uint8_t)v;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;

	switch (w) {
	case 1:
		__builtin_memcpy(p, &v8, 1);
		break;
	case 2:
		__builtin_memcpy(p, &v16, 2);
		break;
	case 4:
		__builtin_memcpy(p, &v32, 4);
		break;
	default:
		__builtin_memcpy(p, &v, 8);
		break;
	}
}

static inline void io_st(uint8_t *p, size_t w, uint64_t v)
{
	switch (w) {
	case 1:
		*(io8 *)p = (uint8_t)v;
		break;
	case 2:
		*(io16 *)p = (uint16_t)v;
		break;
	case 4:
		*(io32 *)p = (uint32_t)v;
		break;
	default:
		*(io64 *)p = v;
		break;
	}
}

static inline uint64_t io_ld(const uint8_t *p, size_t w)
{
	switch (w) {
	case 1:
		return *(const io8 *)p;
	case 2:
		return *(const io16 *)p;
	case 4:
		return *(const io32 *)p;
	default:
		return *(const io64 *)p;
	}
}

/* ---- glibc memcpy ------------------------------------------------------ */

NOINLINE void bl_memcpy_write(void *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
}

NOINLINE void bl_memcpy_read(void *dst, const void *src, size_t n)
{
	memcpy(dst, src, n);
}

/* ---- byte loop --------------------------------------------------------- */

NOINLINE void bl_bytes_write(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	for (size_t i = 0; i < n; i++)
		*(io8 *)(d + i) = s[i];
}

NOINLINE void bl_bytes_read(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	for (size_t i = 0; i < n; i++)
		d[i] = *(const io8 *)(s + i);
}

/*
 * ---- seed v1 -----------------------------------------------------------
 * The first cut: a span of exactly 1, 2, 4 or 8 bytes is one access
 * (fixed-size __builtin_memcpy compiles to one mov); anything else goes to
 * memcpy, with no guarantee on the device side.
 */

static inline void v1_copy(void *dst, const void *src, size_t n)
{
	switch (n) {
	case 1:
		__builtin_memcpy(dst, src, 1);
		break;
	case 2:
		__builtin_memcpy(dst, src, 2);
		break;
	case 4:
		__builtin_memcpy(dst, src, 4);
		break;
	case 8:
		__builtin_memcpy(dst, src, 8);
		break;
	default:
		memcpy(dst, src, n);
		break;
	}
}

/* v1 is symmetric: neither side is special. */
NOINLINE void bl_v1_write(void *dst, const void *src, size_t n)
{
	v1_copy(dst, src, n);
}

NOINLINE void bl_v1_read(void *dst, const void *src, size_t n)
{
	v1_copy(dst, src, n);
}

/*
 * ---- seed v2 -----------------------------------------------------------
 * Per step: width = lowest set bit of the device address, capped at 8,
 * halved while larger than the bytes left; one volatile access of it.
 */

static inline size_t v2_width(uintptr_t addr, size_t n)
{
	size_t w = addr & -addr;

	if (w == 0 || w > 8)
		w = 8;
	while (w > n)
		w >>= 1;
	return w;
}

NOINLINE void bl_v2_write(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n) {
		size_t w = v2_width((uintptr_t)d, n);

		io_st(d, w, ram_ld(s, w));
		d += w, s += w, n -= w;
	}
}

NOINLINE void bl_v2_read(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n) {
		size_t w = v2_width((uintptr_t)s, n);

		ram_st(d, w, io_ld(s, w));
		d += w, s += w, n -= w;
	}
}

/*
 * ---- Linux memcpy_toio / memcpy_fromio (generic version) -----------------
 * Byte accesses until the device address is 8-aligned, then 8-byte accesses
 * (RAM side unaligned), then bytes for the tail.
 */

NOINLINE void bl_toio_write(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n && ((uintptr_t)d & 7)) {
		*(io8 *)d = *s;
		d++, s++, n--;
	}
	while (n >= 8) {
		*(io64 *)d = ram_ld(s, 8);
		d += 8, s += 8, n -= 8;
	}
	while (n) {
		*(io8 *)d = *s;
		d++, s++, n--;
	}
}

NOINLINE void bl_fromio_read(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n && ((uintptr_t)s & 7)) {
		*d = *(const io8 *)s;
		d++, s++, n--;
	}
	while (n >= 8) {
		ram_st(d, 8, *(const io64 *)s);
		d += 8, s += 8, n -= 8;
	}
	while (n) {
		*d = *(const io8 *)s;
		d++, s++, n--;
	}
}
