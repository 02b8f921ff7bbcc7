// SPDX-License-Identifier: MIT
/*
 * The access core's x86-64 parts, included once by lib/access.c after the
 * generic steps (ram_get, dev_get, step, wide_step, HEAD_STEPS, TAIL_STEPS),
 * which they use; not a header of its own and not installed.  Each piece
 * makes the same device accesses as the generic walkers (S2-S4 of
 * access.h), only faster on this architecture:
 *  - the streaming threshold and the non-temporal bodies of strict copies;
 *  - the non-temporal bodies of wide copies;
 *  - the AVX-512 short path of 64-byte copies below the threshold;
 *  - the CPU's widest vector access.
 */
#ifndef RAMDEV_ACCESS_X86_64_H
#define RAMDEV_ACCESS_X86_64_H

#include <immintrin.h>

/*
 * Non-temporal body for large writes: movnti is a single 8-byte store that
 * bypasses the cache (no read-for-ownership), which is what lets a strict
 * 8-byte loop keep up with memcpy once the span outgrows the caches.  The
 * caller fences.
 */
#define HAVE_NT_STORES 1
/* Probed once; racing first callers compute the same value. */
static size_t nt_threshold_cached;

static __attribute__((noinline, cold)) size_t nt_threshold_probe(void)
{
#if __STDC_HOSTED__
	const char *env = getenv("RAMDEV_NT_THRESHOLD");
	size_t threshold = env ? strtoull(env, NULL, 0) : 0;
#else
	size_t threshold = 0;
#endif

	if (!threshold)
		threshold = (size_t)4 << 20;
	__atomic_store_n(&nt_threshold_cached, threshold, __ATOMIC_RELAXED);
	return threshold;
}

static ALWAYS_INLINE size_t nt_threshold(void)
{
	size_t t = __atomic_load_n(&nt_threshold_cached, __ATOMIC_RELAXED);

	return t ? t : nt_threshold_probe();
}

static void write_body_nt(uint8_t *d, const uint8_t *s, size_t blocks)
{
	for (; blocks; blocks--, d += 32, s += 32) {
		_mm_stream_si64((long long *)d, (long long)ram_get(s, 8));
		_mm_stream_si64((long long *)(d + 8), (long long)ram_get(s + 8, 8));
		_mm_stream_si64((long long *)(d + 16), (long long)ram_get(s + 16, 8));
		_mm_stream_si64((long long *)(d + 24), (long long)ram_get(s + 24, 8));
	}
}

/*
 * The read side of the same idea: the device side is still one 8-byte load
 * per access, ascending; the RAM side (free, S6) is written with movnti so
 * a span larger than the caches does not first read every destination line
 * for ownership.  The caller fences.
 */
static void read_body_nt(uint8_t *d, const uint8_t *s, size_t blocks)
{
	for (; blocks; blocks--, d += 32, s += 32) {
		long long v0 = (long long)dev_get(s, 8);
		long long v1 = (long long)dev_get(s + 8, 8);
		long long v2 = (long long)dev_get(s + 16, 8);
		long long v3 = (long long)dev_get(s + 24, 8);

		_mm_stream_si64((long long *)d, v0);
		_mm_stream_si64((long long *)(d + 8), v1);
		_mm_stream_si64((long long *)(d + 16), v2);
		_mm_stream_si64((long long *)(d + 24), v3);
	}
}

/*
 * Non-temporal body for large wide copies (x86_64): the same aligned
 * cap-wide accesses, with the stores made non-temporal (movntdq of 16, 32
 * or 64 bytes), so a span larger than the caches is not first read for
 * ownership.  Writes: the device stores are the streaming ones.  Reads: the
 * RAM side's (free, S6), only when the RAM side is cap-aligned: streaming
 * stores need it, and 8-byte movnti into unaligned RAM measured slower than
 * plain stores (64 MiB: 4.9 vs 7.7 GB/s).  The caller fences.
 */
#define HAVE_WIDE_NT 1

#define DEFINE_WIDE_NT(cap, target, stream, vtype)                           \
	target static void wide_nt_##cap(int read, uint8_t *d,               \
					 const uint8_t *s, size_t blocks)     \
	{                                                                    \
		for (; blocks; blocks--, d += cap, s += cap) {               \
			vec##cap v;                                          \
			if (read)                                            \
				v = *(const volatile vec##cap *)s;           \
			else                                                 \
				__builtin_memcpy(&v, s, cap);                \
			stream((vtype *)d, (vtype)v);                        \
		}                                                            \
	}

DEFINE_WIDE_NT(16, , _mm_stream_si128, __m128i)
DEFINE_WIDE_NT(32, __attribute__((target("avx2"))), _mm256_stream_si256,
	       __m256i)
DEFINE_WIDE_NT(64, __attribute__((target("avx512f"))), _mm512_stream_si512,
	       __m512i)

/* Bytes moved (a multiple of cap), or 0 when the streaming body does not
 * apply: too short, or a read whose RAM side is not cap-aligned. */
static ALWAYS_INLINE size_t wide_body_nt(enum mode mode, uint8_t *d,
					 const uint8_t *s, size_t n, size_t cap)
{
	size_t blocks = n / cap;

	/* Probed already (wide_limit_probe()): a plain load keeps this path
	 * free of calls (a call made the small copies pay a save/restore and
	 * a vzeroupper: 256 B at 64 bytes, 2.8 -> 4.6 ns). */
	if (n < __atomic_load_n(&nt_threshold_cached, __ATOMIC_RELAXED) ||
	    (mode == MODE_READ && ((uintptr_t)d & (cap - 1))))
		return 0;
	if (cap == 64)
		wide_nt_64(mode == MODE_READ, d, s, blocks);
	else if (cap == 32)
		wide_nt_32(mode == MODE_READ, d, s, blocks);
	else
		wide_nt_16(mode == MODE_READ, d, s, blocks);
	_mm_sfence();
	return blocks * cap;
}

#define WIDE_TARGET_64 __attribute__((target("avx512f")))
#define WIDE_TARGET_32 __attribute__((target("avx2")))

/*
 * The 64-byte path below the streaming threshold (x86_64 with AVX-512F).
 * The device side is what S4 makes it: the set bits of the head, aligned
 * 64-byte units, the set bits of the tail (head_64, body_64, tail_64).
 *
 * The RAM side is unaligned loads (writes) or stores (reads).  A read whose
 * RAM address is not 64-aligned where the device's is would store each
 * unit across two lines; from 1.5 KiB such reads rotate the units into aligned
 * RAM lines instead (read_units_shifted).  One vpermt2b per unit (joining
 * the end of one unit and the start of the next) measured slower than the
 * split stores on a Xeon (model 207): it is two cycles a unit there.
 *
 * Spans without a whole aligned 64-byte unit (n < head + 64) take the same
 * accesses with cap 32 (no 64-byte access is greedy there), through the AVX2
 * walker: no 512-bit instruction where there is no 64-byte unit.
 */
#define DEV_LD64(s) ((__m512i) * (const volatile vec64 *)(s))
#define DEV_ST64(d, v) (*(volatile vec64 *)(d) = (vec64)(v))

/* One unit's load and store; the RAM side unaligned. */
#define LD_64(mode, s, o)                                                    \
	((mode) == MODE_READ ? DEV_LD64((s) + (o))                           \
			     : _mm512_loadu_si512((s) + (o)))
#define ST_64(mode, d, o, v)                                                 \
	((mode) == MODE_READ ? _mm512_storeu_si512((d) + (o), (v))           \
			     : (void)DEV_ST64((d) + (o), (v)))

/*
 * The short path's control flow is most of its cost, not its accesses: the
 * ten device stores of 256 B at +3 written out as one straight line take
 * 7.3 TSC ticks, the walk with a test per bit of the head and the tail
 * 14-17, memcpy 10-11.5.  Hence:
 *  - the body of up to 15 units is one jump into a run of units that falls
 *    through to its end (units_upto_15), not groups of 4, 2 and 1 behind
 *    three tests (aligned, linked statically: 256 B 12.2 -> 7.1 ticks,
 *    512 B 10.8 -> 7.8; through the shared library in `ramdev bench
 *    access`: 256 B 0.68 -> 0.81x memcpy, 512 B 0.60 -> 0.73x);
 *  - the head and the tail are each one jump into a straight line of their
 *    accesses (head_64, tail_64: h or t is a constant in each case, so all
 *    the bit tests of HEAD_STEPS/TAIL_STEPS fold away), placed out of the
 *    way of aligned spans, which skip them with one untaken branch.
 * The accesses and their order are the same as the general walker's.
 */

/* Case labels 0..63, X(k) for each (k a constant expression). */
#define CASES_8(X, b)                                                        \
	X((b) + 0) X((b) + 1) X((b) + 2) X((b) + 3)                          \
	X((b) + 4) X((b) + 5) X((b) + 6) X((b) + 7)
#define CASES_64(X)                                                          \
	CASES_8(X, 0) CASES_8(X, 8) CASES_8(X, 16) CASES_8(X, 24)            \
	CASES_8(X, 32) CASES_8(X, 40) CASES_8(X, 48) CASES_8(X, 56)

/*
 * The head (@is_head: k < 64 bytes up to the first 64-byte boundary) or
 * the tail (k < 64 bytes from the last one).  @is_head is a constant at
 * each call, so each becomes one jump table.
 */
WIDE_TARGET_64 static ALWAYS_INLINE void edge_64(int is_head, enum mode mode,
						 uint8_t *d, const uint8_t *s,
						 size_t k)
{
	switch (k) {
#define EDGE_CASE(c)                                                         \
	case c:                                                              \
		if (is_head)                                                 \
			HEAD_STEPS(wide_step, mode, d, s, c, 64);            \
		else                                                         \
			TAIL_STEPS(wide_step, mode, d, s, c, 64);            \
		break;
		CASES_64(EDGE_CASE)
#undef EDGE_CASE
	}
}

WIDE_TARGET_64 static ALWAYS_INLINE void head_64(enum mode mode, uint8_t *d,
						 const uint8_t *s, size_t h)
{
	edge_64(1, mode, d, s, h);
}

WIDE_TARGET_64 static ALWAYS_INLINE void tail_64(enum mode mode, uint8_t *d,
						 const uint8_t *s, size_t t)
{
	edge_64(0, mode, d, s, t);
}

/* m < 16 units ending at de, se: entered at unit m from the end, each case
 * moves one unit and falls through to the next, ascending. */
#define UNIT_FROM_END(mode, de, se, k)                                       \
	case k:                                                              \
		ST_64(mode, de, -64 * (k), LD_64(mode, se, -64 * (k)));      \
		__attribute__((fallthrough));
WIDE_TARGET_64 static ALWAYS_INLINE void
units_upto_15(enum mode mode, uint8_t *de, const uint8_t *se, size_t m)
{
	switch (m) {
		UNIT_FROM_END(mode, de, se, 15)
		UNIT_FROM_END(mode, de, se, 14)
		UNIT_FROM_END(mode, de, se, 13)
		UNIT_FROM_END(mode, de, se, 12)
		UNIT_FROM_END(mode, de, se, 11)
		UNIT_FROM_END(mode, de, se, 10)
		UNIT_FROM_END(mode, de, se, 9)
		UNIT_FROM_END(mode, de, se, 8)
		UNIT_FROM_END(mode, de, se, 7)
		UNIT_FROM_END(mode, de, se, 6)
		UNIT_FROM_END(mode, de, se, 5)
		UNIT_FROM_END(mode, de, se, 4)
		UNIT_FROM_END(mode, de, se, 3)
		UNIT_FROM_END(mode, de, se, 2)
		UNIT_FROM_END(mode, de, se, 1)
	default:
		break;
	}
}
#undef UNIT_FROM_END

/*
 * Groups of 8 units, all loads before the stores, for spans of 16 units
 * and more: they leave 8-15 units to units_upto_15, so a span below 1 KiB
 * never enters this loop.  Each device access its own statement: volatile,
 * ascending.
 */
WIDE_TARGET_64 static ALWAYS_INLINE void
units_8(enum mode mode, uint8_t **dp, const uint8_t **sp, size_t groups)
{
	uint8_t *d = *dp;
	const uint8_t *s = *sp;

	for (; groups; groups--, d += 512, s += 512) {
		__m512i v0, v1, v2, v3, v4, v5, v6, v7;

		v0 = LD_64(mode, s, 0);
		v1 = LD_64(mode, s, 64);
		v2 = LD_64(mode, s, 128);
		v3 = LD_64(mode, s, 192);
		v4 = LD_64(mode, s, 256);
		v5 = LD_64(mode, s, 320);
		v6 = LD_64(mode, s, 384);
		v7 = LD_64(mode, s, 448);
		ST_64(mode, d, 0, v0);
		ST_64(mode, d, 64, v1);
		ST_64(mode, d, 128, v2);
		ST_64(mode, d, 192, v3);
		ST_64(mode, d, 256, v4);
		ST_64(mode, d, 320, v5);
		ST_64(mode, d, 384, v6);
		ST_64(mode, d, 448, v7);
	}
	*dp = d;
	*sp = s;
}

/* The whole units of n bytes at a 64-byte boundary: groups of 8 while 16
 * or more are left, then the last 0-15.  Moves *dp and *sp past them. */
WIDE_TARGET_64 static ALWAYS_INLINE void
body_64(enum mode mode, uint8_t **dp, const uint8_t **sp, size_t n)
{
	size_t groups = n >> 10 ? (n >> 9) - 1 : 0;

	if (__builtin_expect(groups != 0, 0)) {
		units_8(mode, dp, sp, groups);
		n -= groups << 9;
	}
	*dp += n & 0x3c0, *sp += n & 0x3c0;
	units_upto_15(mode, *dp, *sp, (n >> 6) & 15);
}

/* A span below the streaming threshold with a whole aligned unit: the
 * head, the units, the tail.  Aligned spans skip the head and the tail
 * with one untaken branch each. */
WIDE_TARGET_64 static ALWAYS_INLINE void short_units_64(enum mode mode,
							uint8_t *d,
							const uint8_t *s,
							size_t n)
{
	size_t h = head_len(mode, d, s, 64);

	if (__builtin_expect(h != 0, 0)) {
		head_64(mode, d, s, h);
		d += h, s += h, n -= h;
	}
	body_64(mode, &d, &s, n);
	if (__builtin_expect((n & 63) != 0, 0))
		tail_64(mode, d, s, n & 63);
}

WIDE_TARGET_64 static void short_write_64(uint8_t *d, const uint8_t *s,
					  size_t n)
{
	short_units_64(MODE_WRITE, d, s, n);
}

/* Reads whose RAM side is on its lines where the device's is, and any
 * read on a CPU without vpermb: the RAM side as it comes. */
WIDE_TARGET_64 static void short_read_64_plain(uint8_t *d, const uint8_t *s,
					       size_t n)
{
	short_units_64(MODE_READ, d, s, n);
}

/* Set by the probe, before the cap is published: the CPU has vpermb
 * (AVX-512 VBMI) and AVX-512 BW. */
static int have_vbmi;

/*
 * Units of a read whose RAM side is not 64-aligned (the device side is).
 * Stored as they are, every unit would split a RAM line (4-8 KiB at +3:
 * 0.65-0.72x memcpy).  Instead each unit is rotated by one vpermb so that
 * one masked blend of two neighbours gives a whole aligned RAM line (0.86-
 * 0.93x); the first and the last unit are stored unaligned as they are
 * (the RAM side is free, S6: bytes stored twice get the same value).  The
 * setup costs more than it saves below 1-2 KiB (1 KiB +3: 13.8 ns against
 * 12.4 ns; 2 KiB +3: 19.4 against 23.5), so reads take it from 1536 bytes
 * of units.  Inlined into its callers, which are compiled for VBMI (a call
 * made 2 KiB +3 reads 45.5 TSC ticks, inline 41.3).  The device side is
 * the same: one aligned 64-byte load per unit, ascending.  m >= 2.
 */
#define VBMI_TARGET __attribute__((target("avx512f,avx512bw,avx512vbmi")))

VBMI_TARGET static ALWAYS_INLINE void
read_units_shifted(uint8_t *d, const uint8_t *s, size_t m, int stream)
{
	size_t sft = 64 - ((uintptr_t)d & 63); /* d + sft: a line start */
	uint8_t *line = d + sft;
	/* rot[i] = v[(i + sft) % 64]; its lanes from 64 - sft on belong to
	 * the next line, where they are the next unit's. */
	__m512i idx = _mm512_add_epi8(
		_mm512_set_epi8(63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52,
				51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40,
				39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28,
				27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16,
				15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2,
				1, 0),
		_mm512_set1_epi8((char)sft));
	__mmask64 next = ~0ull << (64 - sft);
	__m512i v = DEV_LD64(s), r = _mm512_permutexvar_epi8(idx, v);
	__m512i v1, v2, v3, r1, r2, r3, r4;
	size_t k = 1;

/* An aligned RAM line: streamed past the caches for spans that outgrow
 * them (the caller asks from the streaming threshold on), else stored. */
#define LINE_ST(p, x)                                                        \
	(stream ? _mm512_stream_si512((__m512i *)(p), (x))                   \
		: _mm512_store_si512((p), (x)))

	_mm512_storeu_si512(d, v);
	for (; k + 4 <= m; k += 4, line += 256) {
		v1 = DEV_LD64(s + 64 * k);
		v2 = DEV_LD64(s + 64 * k + 64);
		v3 = DEV_LD64(s + 64 * k + 128);
		v = DEV_LD64(s + 64 * k + 192);
		r1 = _mm512_permutexvar_epi8(idx, v1);
		r2 = _mm512_permutexvar_epi8(idx, v2);
		r3 = _mm512_permutexvar_epi8(idx, v3);
		r4 = _mm512_permutexvar_epi8(idx, v);
		LINE_ST(line, _mm512_mask_blend_epi8(next, r, r1));
		LINE_ST(line + 64, _mm512_mask_blend_epi8(next, r1, r2));
		LINE_ST(line + 128, _mm512_mask_blend_epi8(next, r2, r3));
		LINE_ST(line + 192, _mm512_mask_blend_epi8(next, r3, r4));
		r = r4;
	}
	for (; k < m; k++, line += 64) {
		v = DEV_LD64(s + 64 * k);
		r1 = _mm512_permutexvar_epi8(idx, v);
		LINE_ST(line, _mm512_mask_blend_epi8(next, r, r1));
		r = r1;
	}
	_mm512_storeu_si512(d + 64 * (m - 1), v); /* the last line's rest */
	if (stream)
		_mm_sfence();
#undef LINE_ST
}

/* Is a 64-byte read's RAM side off its lines where the device's is on? */
static inline int ram_skewed_64(const uint8_t *d, const uint8_t *s)
{
	return (((uintptr_t)d - (uintptr_t)s) & 63) &&
	       __atomic_load_n(&have_vbmi, __ATOMIC_RELAXED);
}

/* Reads whose RAM side is off its lines (ram_skewed_64: the CPU has
 * vpermb): from 1536 bytes of units, rotated into aligned RAM lines. */
VBMI_TARGET static ALWAYS_INLINE void
read_64_shifting(uint8_t *d, const uint8_t *s, size_t n, int stream)
{
	size_t h = head_len(MODE_READ, d, s, 64);

	if (__builtin_expect(h != 0, 0)) {
		head_64(MODE_READ, d, s, h);
		d += h, s += h, n -= h;
	}
	if (n >= 1536) {
		read_units_shifted(d, s, n >> 6, stream);
		d += n & ~(size_t)63, s += n & ~(size_t)63;
	} else {
		body_64(MODE_READ, &d, &s, n);
	}
	if (__builtin_expect((n & 63) != 0, 0))
		tail_64(MODE_READ, d, s, n & 63);
}

VBMI_TARGET static void short_read_64_vbmi(uint8_t *d, const uint8_t *s,
					   size_t n)
{
	read_64_shifting(d, s, n, 0);
}

/* A read below the streaming threshold, with a whole aligned unit. */
static ALWAYS_INLINE void short_read_64(uint8_t *d, const uint8_t *s,
					size_t n)
{
	if (ram_skewed_64(d, s))
		short_read_64_vbmi(d, s, n);
	else
		short_read_64_plain(d, s, n);
}

/* From the streaming threshold, when the RAM side is off its lines (the
 * aligned case streams through wide_read_64); only with vpermb
 * (ram_skewed_64). */
VBMI_TARGET static void long_read_64(uint8_t *d, const uint8_t *s, size_t n)
{
	read_64_shifting(d, s, n, 1);
}

/* The widest vector access this CPU supports (ramdev_wide_limit()). */
static unsigned x86_64_wide_limit(void)
{
	__builtin_cpu_init();
	/* The rotating copy is compiled for VBMI and BW: ask for both. */
	__atomic_store_n(&have_vbmi,
			 __builtin_cpu_supports("avx512vbmi") &&
				 __builtin_cpu_supports("avx512bw"),
			 __ATOMIC_RELAXED);
	if (__builtin_cpu_supports("avx512f"))
		return 64;
	if (__builtin_cpu_supports("avx2"))
		return 32;
	return 16;
}

#endif /* RAMDEV_ACCESS_X86_64_H */
