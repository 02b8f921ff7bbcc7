/* SPDX-License-Identifier: MIT */
/*
 * ramdev access core: exact-width loads, stores and copies on device memory.
 *
 * Device memory (an mmap of a PCI BAR, a UIO region, an FPGA window) is not
 * RAM: every access reaches the device with its width, a read may have side
 * effects, and some hosts trap unaligned accesses to it.  The functions here
 * give these guarantees on the device side:
 *
 *  - ramdev_ld/ramdev_st: one naturally aligned access of exactly `size` bytes.
 *  - bulk functions: every device byte of the span is accessed exactly once,
 *    in ascending order (descending for an overlapping ramdev_move with
 *    dst > src), each access naturally aligned, of a power-of-two width,
 *    the largest the current address and the bytes left allow (greedy).
 *  - the RAM side is accessed any way the compiler likes.
 *
 * This header and lib/access.c (with lib/access_x86_64.h, which it includes
 * on x86_64) stand alone: they need a C11 compiler (GCC or Clang builtins)
 * and nothing else, so they can be dropped into other trees,
 * including freestanding ones (-ffreestanding -nostdlib: firmware, kernels).
 * Freestanding, the environment overrides (RAMDEV_WIDE_LIMIT,
 * RAMDEV_NT_THRESHOLD) are not compiled, a failed debug check executes
 * __builtin_trap() instead of assert(), and the x86_64 CPU probe needs the
 * compiler's runtime library (libgcc or compiler-rt: __cpu_model).  No
 * memcpy, memmove or memset is called.
 *
 * Contract violations (a bad size, a misaligned ramdev_ld/st address, a bad
 * max_width) are programming errors: debug builds stop on them (assert).
 * Release builds (NDEBUG): a bad ramdev_ld/st size touches nothing, a
 * misaligned ramdev_ld/st address is accessed as given (one misaligned
 * instruction: see ramdev_ld()), a bad max_width falls back to 1-byte
 * accesses.
 *
 * 32-bit hosts: an 8-byte access is two 4-byte accesses, lower address first
 * (there is no single-copy-atomic 8-byte load or store to device memory on
 * those hosts).  Everything else holds as stated.
 */
#ifndef RAMDEV_ACCESS_H
#define RAMDEV_ACCESS_H

#include <stddef.h>
#include <stdint.h>

/*
 * RAMDEV_ASSERT: the debug check.  Hosted: assert() (so NDEBUG removes it);
 * freestanding there may be no assert.h or __assert_fail: trap instead.
 */
#if __STDC_HOSTED__
#include <assert.h>
#define RAMDEV_ASSERT(cond) assert(cond)
#elif defined(NDEBUG)
#define RAMDEV_ASSERT(cond) ((void)0)
#else
#define RAMDEV_ASSERT(cond) ((cond) ? (void)0 : __builtin_trap())
#endif

#ifdef __cplusplus
extern "C" {
#endif

#ifndef RAMDEV_EXPORT
#define RAMDEV_EXPORT __attribute__((visibility("default")))
#endif

/*
 * Device-side lvalue types.  volatile: the compiler may not merge, split,
 * repeat, widen or drop the access.  may_alias: device memory has no C type,
 * so the access must not be subject to type-based alias analysis.
 */
typedef volatile uint8_t __attribute__((may_alias)) ramdev_io8;
typedef volatile uint16_t __attribute__((may_alias)) ramdev_io16;
typedef volatile uint32_t __attribute__((may_alias)) ramdev_io32;
typedef volatile uint64_t __attribute__((may_alias)) ramdev_io64;

#if UINTPTR_MAX > 0xffffffffu
#define RAMDEV_NATIVE_64 1
#else
#define RAMDEV_NATIVE_64 0
#endif

/** ramdev_size_ok: internal; true when `size` is 1, 2, 4 or 8. */
static inline int ramdev_size_ok(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

/**
 * ramdev_is_aligned - whether @p is a multiple of @size (a power of two).
 *
 * Returns: nonzero when aligned: the check a caller with addresses of unknown
 * alignment makes before ramdev_ld()/ramdev_st().
 * Context: any.
 */
static inline int ramdev_is_aligned(const volatile void *p, unsigned size)
{
	return ((uintptr_t)p & (size - 1)) == 0;
}

/*
 * ramdev_raw_ld64/st64: internal, the 8-byte access without checks.  On
 * 32-bit hosts it is two 4-byte accesses, lower address first.
 */
static inline uint64_t ramdev_raw_ld64(const void *dev)
{
#if RAMDEV_NATIVE_64
	return *(const ramdev_io64 *)dev;
#else
	uint64_t lo = ((const ramdev_io32 *)dev)[0];
	uint64_t hi = ((const ramdev_io32 *)dev)[1];
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return lo | hi << 32;
#else
	return lo << 32 | hi;
#endif
#endif
}

static inline void ramdev_raw_st64(void *dev, uint64_t val)
{
#if RAMDEV_NATIVE_64
	*(ramdev_io64 *)dev = val;
#elif __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	((ramdev_io32 *)dev)[0] = (uint32_t)val;
	((ramdev_io32 *)dev)[1] = (uint32_t)(val >> 32);
#else
	((ramdev_io32 *)dev)[0] = (uint32_t)(val >> 32);
	((ramdev_io32 *)dev)[1] = (uint32_t)val;
#endif
}

/**
 * ramdev_ld - one exact-width load from device memory.
 * @dev:  device address, a multiple of @size.
 * @size: 1, 2, 4 or 8.
 *
 * Performs exactly one @size-byte load (one instruction; single-copy atomic
 * where the host guarantees it for that size; two 4-byte loads, lower
 * address first, for size 8 on 32-bit hosts).  Use ramdev_read() for
 * arbitrary spans.
 *
 * A bad @size or a misaligned @dev is a programming error: debug builds
 * assert.  Release builds (NDEBUG) keep the one branch-free instruction: a
 * bad @size loads nothing and returns UINT64_MAX; a misaligned @dev is
 * loaded as given, by one misaligned instruction: undefined behaviour in C
 * (UBSan reports it), which x86 performs (the device may see it split and
 * torn) and strict-alignment hosts or device mappings trap (SIGBUS).
 * Callers with addresses of unknown alignment check them first
 * (ramdev_is_aligned()) or use ramdev_read().
 *
 * Returns: the value in host byte order, zero-extended; UINT64_MAX without
 * any access for a bad @size (release builds).
 * Context: any thread, any context (signal handlers included); never blocks,
 * takes no lock.
 */
static inline uint64_t ramdev_ld(const void *dev, unsigned size)
{
	RAMDEV_ASSERT(ramdev_size_ok(size) &&
		      "ramdev_ld: size must be 1, 2, 4 or 8");
	RAMDEV_ASSERT(ramdev_is_aligned(dev, size) &&
		      "ramdev_ld: misaligned address");
	switch (size) {
	case 1:
		return *(const ramdev_io8 *)dev;
	case 2:
		return *(const ramdev_io16 *)dev;
	case 4:
		return *(const ramdev_io32 *)dev;
	case 8:
		return ramdev_raw_ld64(dev);
	default:
		/* Release build, bad size: touch nothing rather than guess. */
		return UINT64_MAX;
	}
}

/**
 * ramdev_st - one exact-width store to device memory.
 * @dev:  device address, a multiple of @size.
 * @size: 1, 2, 4 or 8.
 * @val:  value in host byte order; only its low @size bytes are stored.
 *
 * Performs exactly one @size-byte store (two 4-byte stores, lower address
 * first, for size 8 on 32-bit hosts).  A bad @size or a misaligned @dev is
 * a programming error: debug builds assert; release builds (NDEBUG) store
 * nothing for a bad @size and store a misaligned @dev as given (see
 * ramdev_ld()).
 *
 * Returns: nothing.
 * Context: any thread, any context (signal handlers included); never blocks,
 * takes no lock.
 */
static inline void ramdev_st(void *dev, unsigned size, uint64_t val)
{
	RAMDEV_ASSERT(ramdev_size_ok(size) &&
		      "ramdev_st: size must be 1, 2, 4 or 8");
	RAMDEV_ASSERT(ramdev_is_aligned(dev, size) &&
		      "ramdev_st: misaligned address");
	switch (size) {
	case 1:
		*(ramdev_io8 *)dev = (uint8_t)val;
		break;
	case 2:
		*(ramdev_io16 *)dev = (uint16_t)val;
		break;
	case 4:
		*(ramdev_io32 *)dev = (uint32_t)val;
		break;
	case 8:
		ramdev_raw_st64(dev, val);
		break;
	default:
		/* Release build, bad size: touch nothing rather than guess. */
		break;
	}
}

/**
 * ramdev_ld_le16/32/64, ramdev_ld_be16/32/64 - one load of a little- or
 * big-endian value of 16, 32 or 64 bits from device memory;
 * ramdev_st_le16/32/64, ramdev_st_be16/32/64 - one store of one.
 * @dev: device address, a multiple of the width in bytes.
 * @val: (st) the value in host byte order.
 *
 * One access of the named width, as ramdev_ld()/ramdev_st(); the value is
 * converted between the device's byte order and the host's in a register
 * (never by byte accesses).  Same rules for a misaligned @dev.
 *
 * Returns: (ld) the value in host byte order.
 * Context: any thread, any context; never blocks, takes no lock.
 */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define RAMDEV_LE(bits, v) (v)
#define RAMDEV_BE(bits, v) __builtin_bswap##bits(v)
#else
#define RAMDEV_LE(bits, v) __builtin_bswap##bits(v)
#define RAMDEV_BE(bits, v) (v)
#endif

#define RAMDEV_DEFINE_ENDIAN(order, ORDER, bits)                               \
	static inline uint##bits##_t ramdev_ld_##order##bits(const void *dev)  \
	{                                                                      \
		return RAMDEV_##ORDER(bits,                                    \
				      (uint##bits##_t)ramdev_ld(dev, bits / 8)); \
	}                                                                      \
	static inline void ramdev_st_##order##bits(void *dev,                  \
						   uint##bits##_t val)         \
	{                                                                      \
		ramdev_st(dev, bits / 8, RAMDEV_##ORDER(bits, val));           \
	}

RAMDEV_DEFINE_ENDIAN(le, LE, 16)
RAMDEV_DEFINE_ENDIAN(le, LE, 32)
RAMDEV_DEFINE_ENDIAN(le, LE, 64)
RAMDEV_DEFINE_ENDIAN(be, BE, 16)
RAMDEV_DEFINE_ENDIAN(be, BE, 32)
RAMDEV_DEFINE_ENDIAN(be, BE, 64)
#undef RAMDEV_DEFINE_ENDIAN

/**
 * ramdev_read - copy @n bytes from device memory into RAM.
 * @ram: destination in ordinary memory (any alignment).
 * @dev: source in device memory (any alignment).
 * @n:   byte count; 0 does nothing.
 *
 * Every byte of [@dev, @dev + @n) is loaded exactly once, in ascending order,
 * by naturally aligned loads of the greedy width (at most 8); nothing outside
 * the span is loaded.  [@ram, @ram + @n) must not overlap the device span.
 * From RAMDEV_NT_THRESHOLD bytes (4 MiB by default; x86_64 only) the loads
 * are the same but the RAM side is written with non-temporal stores.
 *
 * Returns: nothing; it cannot fail (a fault in either span is the caller's
 * bug, as with memcpy).
 * Context: any thread; never blocks, takes no lock.  The first bulk call of
 * the process probes the CPU (and, hosted, reads the environment) once;
 * racing first calls compute the same result.
 */
RAMDEV_EXPORT void ramdev_read(void *ram, const void *dev, size_t n);

/**
 * ramdev_write - copy @n bytes from RAM into device memory.
 * @dev: destination in device memory (any alignment).
 * @ram: source in ordinary memory (any alignment).
 * @n:   byte count; 0 does nothing.
 *
 * Every byte of [@dev, @dev + @n) is stored exactly once, in ascending order,
 * by naturally aligned stores of the greedy width (at most 8); nothing
 * outside the span is stored or loaded.  From RAMDEV_NT_THRESHOLD bytes
 * (x86_64) the stores are non-temporal (movnti) of the same widths and an
 * sfence follows them, so they are ordered like ordinary stores.  Ordering
 * beyond that (a write-combining BAR before a doorbell) is the caller's
 * barrier, as with ordinary stores.
 *
 * Returns: nothing; it cannot fail.
 * Context: any thread; never blocks, takes no lock (first call: see
 * ramdev_read()).
 */
RAMDEV_EXPORT void ramdev_write(void *dev, const void *ram, size_t n);

/**
 * ramdev_copy - copy between two device spans that do not overlap.
 * @dst: destination in device memory.
 * @src: source in device memory.
 * @n:   byte count; 0 does nothing.
 *
 * Both sides are exact: every source byte is loaded once and every
 * destination byte stored once, in ascending order, each access naturally
 * aligned on both sides, of the largest width (at most 8) that divides both
 * the current source and destination addresses and fits in what is left (so
 * spans whose addresses differ in their low bits are copied in narrower
 * accesses).  Overlapping spans: use ramdev_move().
 *
 * Returns: nothing; it cannot fail.
 * Context: any thread; never blocks, takes no lock.
 */
RAMDEV_EXPORT void ramdev_copy(void *dst, const void *src, size_t n);

/**
 * ramdev_move - copy between two device spans that may overlap.
 * @dst: destination in device memory.
 * @src: source in device memory.
 * @n:   byte count; 0 does nothing.
 *
 * As ramdev_copy(), except that when @dst > @src and the spans overlap the
 * copy walks downward from the end, taking the greedy width at the current
 * end addresses.  The result equals memmove(); each device byte is still
 * loaded once and stored once.
 *
 * Returns: nothing; it cannot fail.
 * Context: any thread; never blocks, takes no lock.
 */
RAMDEV_EXPORT void ramdev_move(void *dst, const void *src, size_t n);

/**
 * ramdev_read_wide - ramdev_read() with accesses up to @max_width bytes.
 * @ram:       destination in ordinary memory (any alignment).
 * @dev:       source in device memory (any alignment).
 * @n:         byte count; 0 does nothing.
 * @max_width: a power of two in 1..64.  It is capped at ramdev_wide_limit(),
 *             the widest single load this host performs; the greedy rule
 *             then applies with that cap (16/32/64-byte accesses are
 *             aligned SIMD loads).
 *
 * Any other @max_width is a programming error: debug builds assert; release
 * builds use 1-byte accesses, which are always exact.
 *
 * Returns: nothing; it cannot fail.
 * Context: any thread; never blocks, takes no lock (first call: see
 * ramdev_read()).  In a kernel, the caller owns the SIMD state.
 */
RAMDEV_EXPORT void ramdev_read_wide(void *ram, const void *dev, size_t n,
				    unsigned max_width);

/**
 * ramdev_write_wide - ramdev_write() with accesses up to @max_width bytes.
 * @dev:       destination in device memory (any alignment).
 * @ram:       source in ordinary memory (any alignment).
 * @n:         byte count; 0 does nothing.
 * @max_width: as for ramdev_read_wide().
 *
 * Every byte of the device span is stored once, in ascending order, by
 * naturally aligned stores of the greedy width capped at @max_width and
 * ramdev_wide_limit(); large spans use non-temporal stores followed by an
 * sfence, as ramdev_write().
 *
 * Returns: nothing; it cannot fail.
 * Context: as ramdev_read_wide().
 */
RAMDEV_EXPORT void ramdev_write_wide(void *dev, const void *ram, size_t n,
				     unsigned max_width);

/**
 * ramdev_wide_limit - the widest single device access this host performs.
 *
 * 64 with AVX-512, 32 with AVX2, 16 with SSE2 or AArch64 SIMD, otherwise 8
 * (on 32-bit hosts 8-byte accesses are two 4-byte ones, see above).  In a
 * hosted build the environment variable RAMDEV_WIDE_LIMIT (a power of two,
 * 1 and up; other values are rounded down to one) can lower it, never raise
 * it: tests use it to reach every path.
 *
 * Returns: the limit in bytes, a power of two in 1..64.
 * Context: any thread; never blocks.  The CPU (and, hosted, the
 * environment) is probed once, on the first call of this or a bulk
 * function; the result does not change afterwards.
 */
RAMDEV_EXPORT unsigned ramdev_wide_limit(void);

#ifdef __cplusplus
}
#endif

#endif /* RAMDEV_ACCESS_H */
