// SPDX-License-Identifier: MIT
/*
 * The access core: bulk copies that touch each device byte exactly once with
 * naturally aligned accesses of the greedy width (the rules in access.h).
 *
 * One walker serves reads, writes and device-to-device copies: the mode is a
 * compile-time constant in each caller, so each public function gets its own
 * specialised loop.  The device side goes through volatile may_alias lvalues
 * (ramdev_io*), which the compiler may not merge, split, vectorise or turn
 * into memcpy calls; the RAM side uses fixed-size __builtin_memcpy, which the
 * compiler turns into plain loads and stores (unaligned-safe on every host).
 *
 * Needs only a C11 compiler with GCC builtins (GCC, Clang): no libc calls in
 * the copy paths; hosted builds read two environment overrides once
 * (getenv), freestanding builds (-ffreestanding) have no environment and
 * compile none of it.
 */
#if __STDC_HOSTED__
#include <stdlib.h>
#endif

#include "ramdev/access.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

enum mode {
	MODE_READ,  /* device -> RAM: src is the device side */
	MODE_WRITE, /* RAM -> device: dst is the device side */
	MODE_COPY,  /* device -> device: both sides exact */
};

/* The address whose alignment limits the width of the next access. */
static ALWAYS_INLINE uintptr_t device_addr(enum mode mode, const uint8_t *d,
					   const uint8_t *s)
{
	switch (mode) {
	case MODE_READ:
		return (uintptr_t)s;
	case MODE_WRITE:
		return (uintptr_t)d;
	default:
		return (uintptr_t)d | (uintptr_t)s;
	}
}

/*
 * Greedy width (S4): the largest power of two w <= cap such that addr is a
 * multiple of w and w <= n.  cap is a power of two, n > 0.
 */
static ALWAYS_INLINE size_t greedy_width(uintptr_t addr, size_t n, size_t cap)
{
	size_t w = addr & -addr; /* lowest set bit; 0 when addr == 0 */

	if (w == 0 || w > cap)
		w = cap;
	while (w > n)
		w >>= 1;
	return w;
}

static ALWAYS_INLINE uint64_t ram_get(const uint8_t *p, size_t w)
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

static ALWAYS_INLINE void ram_put(uint8_t *p, size_t w, uint64_t v)
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

/* ramdev_ld/ramdev_st without the debug checks: the walker proves them. */
static ALWAYS_INLINE uint64_t dev_get(const uint8_t *p, size_t w)
{
	switch (w) {
	case 1:
		return *(const ramdev_io8 *)p;
	case 2:
		return *(const ramdev_io16 *)p;
	case 4:
		return *(const ramdev_io32 *)p;
	default:
		return ramdev_raw_ld64(p);
	}
}

static ALWAYS_INLINE void dev_put(uint8_t *p, size_t w, uint64_t v)
{
	switch (w) {
	case 1:
		*(ramdev_io8 *)p = (uint8_t)v;
		break;
	case 2:
		*(ramdev_io16 *)p = (uint16_t)v;
		break;
	case 4:
		*(ramdev_io32 *)p = (uint32_t)v;
		break;
	default:
		ramdev_raw_st64(p, v);
		break;
	}
}

/* Move one w-byte unit (w <= 8); the device side(s) in one access. */
static ALWAYS_INLINE void step(enum mode mode, uint8_t *d, const uint8_t *s,
			       size_t w)
{
	switch (mode) {
	case MODE_READ:
		ram_put(d, w, dev_get(s, w));
		break;
	case MODE_WRITE:
		dev_put(d, w, ram_get(s, w));
		break;
	default:
		dev_put(d, w, dev_get(s, w));
		break;
	}
}

/*
 * The head of an ascending walk: h, the distance from the device address up
 * to the next multiple of cap.  When at least h bytes are to be moved, the
 * greedy widths up to that boundary are exactly the set bits of h in
 * ascending order (each step leaves the address aligned to the next set bit,
 * and the bytes left never limit a width below h), so the head costs at most
 * log2(cap) tests of constant bits instead of a width search per step.  For a
 * device-to-device copy this needs both addresses at the same offset from a
 * cap boundary (no skew); callers check.
 */
static ALWAYS_INLINE size_t head_len(enum mode mode, const uint8_t *d,
				     const uint8_t *s, size_t cap)
{
	return (size_t)-device_addr(mode, d, s) & (cap - 1);
}

static ALWAYS_INLINE int skewed(enum mode mode, const uint8_t *d,
				const uint8_t *s, size_t cap)
{
	return mode == MODE_COPY && (((uintptr_t)d ^ (uintptr_t)s) & (cap - 1));
}

/*
 * One head or tail access of constant width W, taken when W < cap and bit W
 * of `bits` is set.  Written out per width (not as a loop over w) so that
 * each is a test, a branch and one move: the small-span cost is a handful of
 * predictable branches.
 */
#define BIT_STEP(stepfn, mode, d, s, bits, cap, W)                           \
	do {                                                                 \
		if ((W) < (cap) && ((bits) & (W))) {                         \
			stepfn(mode, d, s, W);                               \
			d += (W), s += (W);                                  \
		}                                                            \
	} while (0)

/* Head: ascending set bits of h (see head_len). */
#define HEAD_STEPS(stepfn, mode, d, s, h, cap)                               \
	do {                                                                 \
		BIT_STEP(stepfn, mode, d, s, h, cap, 1);                     \
		BIT_STEP(stepfn, mode, d, s, h, cap, 2);                     \
		BIT_STEP(stepfn, mode, d, s, h, cap, 4);                     \
		BIT_STEP(stepfn, mode, d, s, h, cap, 8);                     \
		BIT_STEP(stepfn, mode, d, s, h, cap, 16);                    \
		BIT_STEP(stepfn, mode, d, s, h, cap, 32);                    \
	} while (0)

/* Tail, n < cap at a cap-aligned address: descending set bits of n. */
#define TAIL_STEPS(stepfn, mode, d, s, n, cap)                               \
	do {                                                                 \
		BIT_STEP(stepfn, mode, d, s, n, cap, 32);                    \
		BIT_STEP(stepfn, mode, d, s, n, cap, 16);                    \
		BIT_STEP(stepfn, mode, d, s, n, cap, 8);                     \
		BIT_STEP(stepfn, mode, d, s, n, cap, 4);                     \
		BIT_STEP(stepfn, mode, d, s, n, cap, 2);                     \
		BIT_STEP(stepfn, mode, d, s, n, cap, 1);                     \
	} while (0)

/*
 * Wide accesses.  A vector type with vector_size(W) is a single W-byte load
 * or store only where the target has W-byte vector registers; elsewhere the
 * compiler would split it, so wide accesses are compiled only for x86_64 and
 * AArch64, and ramdev_wide_limit() reports what the running CPU supports.
 */
#if defined(__x86_64__) || defined(__aarch64__)
#define HAVE_WIDE 1

typedef uint8_t vec16 __attribute__((vector_size(16), may_alias));
typedef uint8_t vec32 __attribute__((vector_size(32), may_alias));
typedef uint8_t vec64 __attribute__((vector_size(64), may_alias));

#define WIDE_STEP(type, mode, d, s)                                         \
	do {                                                                \
		type v_;                                                    \
		if ((mode) == MODE_READ) {                                  \
			v_ = *(const volatile type *)(s);                   \
			__builtin_memcpy((d), &v_, sizeof(v_));             \
		} else {                                                    \
			__builtin_memcpy(&v_, (s), sizeof(v_));             \
			*(volatile type *)(d) = v_;                         \
		}                                                           \
	} while (0)

static ALWAYS_INLINE void wide_step(enum mode mode, uint8_t *d,
				    const uint8_t *s, size_t w)
{
	switch (w) {
	case 64:
		WIDE_STEP(vec64, mode, d, s);
		break;
	case 32:
		WIDE_STEP(vec32, mode, d, s);
		break;
	case 16:
		WIDE_STEP(vec16, mode, d, s);
		break;
	default:
		step(mode, d, s, w);
		break;
	}
}
#else
#define HAVE_WIDE 0
#endif

/*
 * The x86-64 parts: streaming (non-temporal) bodies for large spans and the
 * AVX-512 short path of the 64-byte copies.  One file included here, so the
 * access core stays access.h + access.c (+ this file) for those who copy it.
 */
#if defined(__x86_64__)
#include "access_x86_64.h"
#else
#define HAVE_NT_STORES 0
#define HAVE_WIDE_NT 0
#endif

/*
 * Ascending walk with accesses of at most 8 bytes (cap 1, 2, 4 or 8).
 * Head: the set bits of the distance to the next cap boundary (head_len).
 * Body: cap-wide steps (4x unrolled for cap 8).  Tail: what is left is
 * < cap, so the greedy sequence is the binary digits of n from the top, each
 * aligned by construction.  Spans that end before the first cap boundary,
 * and device-to-device copies whose addresses differ in their low bits, take
 * the general greedy walk, one width search per step.
 */
static ALWAYS_INLINE void walk_up(enum mode mode, uint8_t *d, const uint8_t *s,
				  size_t n, size_t cap)
{
	size_t w, h = head_len(mode, d, s, cap);

	if (h <= n && !skewed(mode, d, s, cap)) {
		HEAD_STEPS(step, mode, d, s, h, cap);
		n -= h;
	} else {
		while (n && (device_addr(mode, d, s) & (cap - 1))) {
			w = greedy_width(device_addr(mode, d, s), n, cap);
			step(mode, d, s, w);
			d += w, s += w, n -= w;
		}
	}
	if (cap == 8) {
#if HAVE_NT_STORES
		if (mode == MODE_WRITE && n >= 32 && n >= nt_threshold()) {
			write_body_nt(d, s, n / 32);
			_mm_sfence();
			d += n & ~(size_t)31, s += n & ~(size_t)31, n &= 31;
		}
		if (mode == MODE_READ && n >= 32 && n >= nt_threshold()) {
			read_body_nt(d, s, n / 32);
			_mm_sfence();
			d += n & ~(size_t)31, s += n & ~(size_t)31, n &= 31;
		}
#endif
		for (; n >= 32; d += 32, s += 32, n -= 32) {
			step(mode, d, s, 8);
			step(mode, d + 8, s + 8, 8);
			step(mode, d + 16, s + 16, 8);
			step(mode, d + 24, s + 24, 8);
		}
	}
	for (; n >= cap; d += cap, s += cap, n -= cap)
		step(mode, d, s, cap);
	TAIL_STEPS(step, mode, d, s, n, cap);
}

/*
 * Descending walk for ramdev_move() with dst > src: the greedy width is taken
 * at the current end addresses.  Each unit is loaded whole before it is
 * stored, and every later load is below every earlier store, so overlapping
 * spans come out as memmove would leave them.
 */
static void walk_down(uint8_t *d, const uint8_t *s, size_t n)
{
	uint8_t *de = d + n;
	const uint8_t *se = s + n;
	size_t w;

	while (n) {
		w = greedy_width((uintptr_t)de | (uintptr_t)se, n, 8);
		de -= w, se -= w, n -= w;
		step(MODE_COPY, de, se, w);
	}
}

void ramdev_read(void *ram, const void *dev, size_t n)
{
	walk_up(MODE_READ, ram, dev, n, 8);
}

void ramdev_write(void *dev, const void *ram, size_t n)
{
	walk_up(MODE_WRITE, dev, ram, n, 8);
}

void ramdev_copy(void *dst, const void *src, size_t n)
{
	walk_up(MODE_COPY, dst, src, n, 8);
}

void ramdev_move(void *dst, const void *src, size_t n)
{
	uintptr_t d = (uintptr_t)dst, s = (uintptr_t)src;

	if (d > s && d - s < n)
		walk_down(dst, src, n);
	else
		walk_up(MODE_COPY, dst, src, n, 8);
}

#if HAVE_WIDE
/* Ascending walk with cap 16, 32 or 64: same shape as walk_up(). */
static ALWAYS_INLINE void wide_walk(enum mode mode, uint8_t *d,
				    const uint8_t *s, size_t n, size_t cap)
{
	size_t w, h = head_len(mode, d, s, cap);

	/* An aligned start is the common case for bulk DMA: skip the head
	 * tests entirely (a few cycles that matter at 256 bytes). */
	if (h == 0) {
	} else if (h <= n) {
		HEAD_STEPS(wide_step, mode, d, s, h, cap);
		n -= h;
	} else {
		while (n) {
			w = greedy_width(device_addr(mode, d, s), n, cap);
			wide_step(mode, d, s, w);
			d += w, s += w, n -= w;
		}
	}
#if HAVE_WIDE_NT
	w = wide_body_nt(mode, d, s, n, cap);
	d += w, s += w, n -= w;
#endif
	/* 4x unrolled: with 2x the loop overhead kept the store port idle
	 * (4 KiB at 64 bytes: 27 ns at 2x, 17 ns at 4x, memcpy 20 ns). */
	for (; n >= 4 * cap; d += 4 * cap, s += 4 * cap, n -= 4 * cap) {
		wide_step(mode, d, s, cap);
		wide_step(mode, d + cap, s + cap, cap);
		wide_step(mode, d + 2 * cap, s + 2 * cap, cap);
		wide_step(mode, d + 3 * cap, s + 3 * cap, cap);
	}
	for (; n >= cap; d += cap, s += cap, n -= cap)
		wide_step(mode, d, s, cap);
	if (n)
		TAIL_STEPS(wide_step, mode, d, s, n, cap);
}

#define DEFINE_WIDE(cap, target)                                             \
	target static void wide_read_##cap(uint8_t *d, const uint8_t *s,     \
					   size_t n)                          \
	{                                                                    \
		wide_walk(MODE_READ, d, s, n, cap);                          \
	}                                                                    \
	target static void wide_write_##cap(uint8_t *d, const uint8_t *s,    \
					    size_t n)                         \
	{                                                                    \
		wide_walk(MODE_WRITE, d, s, n, cap);                         \
	}

DEFINE_WIDE(16, )
#if defined(__x86_64__)
DEFINE_WIDE(32, WIDE_TARGET_32)
DEFINE_WIDE(64, WIDE_TARGET_64)
#endif
#endif

/* The widest access the running CPU has (before RAMDEV_WIDE_LIMIT). */
static unsigned probe_wide_limit(void)
{
#if defined(__x86_64__)
	return x86_64_wide_limit();
#elif HAVE_WIDE
	return 16; /* AArch64: Advanced SIMD, always present */
#else
	return 8;
#endif
}

/* Probed once; racing first callers compute the same value. */
static unsigned wide_limit_cached;

static __attribute__((noinline, cold)) unsigned wide_limit_probe(void)
{
	/* RAMDEV_WIDE_LIMIT may lower the cap (tests use it to reach every
	 * path on one machine); it never raises it. */
	unsigned probed = probe_wide_limit();
#if __STDC_HOSTED__
	const char *env = getenv("RAMDEV_WIDE_LIMIT");
	unsigned long want = env ? strtoul(env, NULL, 0) : probed;
#else
	unsigned long want = probed;
#endif
	unsigned limit;

	while (want & (want - 1))
		want &= want - 1;
	limit = want && want < probed ? (unsigned)want : probed;
#if HAVE_NT_STORES
	(void)nt_threshold(); /* before the release: the walkers only load it */
#endif
	__atomic_store_n(&wide_limit_cached, limit, __ATOMIC_RELEASE);
	return limit;
}

/*
 * The hot-path read of the cap: one load, no call through the PLT.  Acquire
 * (a plain load on x86): a thread that sees the cap also sees the streaming
 * threshold stored before it (wide_limit_probe).
 */
static inline unsigned wide_limit(void)
{
	unsigned limit = __atomic_load_n(&wide_limit_cached, __ATOMIC_ACQUIRE);

	return limit ? limit : wide_limit_probe();
}

unsigned ramdev_wide_limit(void)
{
	return wide_limit();
}

static inline size_t wide_cap(unsigned max_width)
{
	int ok = max_width >= 1 && max_width <= 64 &&
		 (max_width & (max_width - 1)) == 0;
	unsigned limit;

	RAMDEV_ASSERT(ok && "ramdev_*_wide: max_width must be a power of two in 1..64");
	if (!ok)
		return 1;
	limit = wide_limit();
	return max_width < limit ? max_width : limit;
}

#if HAVE_WIDE && defined(__x86_64__)
/*
 * Cap 64 (AVX-512 host, max_width 64: the common call) goes straight to the
 * short path when it applies, with no frame and one taken branch; the rest
 * (other caps, the streaming threshold, spans without a whole aligned
 * 64-byte unit, the first call) takes the general dispatch.  The short path
 * needs the threshold probed: the acquire load of the cap guarantees it.
 */
static ALWAYS_INLINE int short_64(uintptr_t dev, size_t n, unsigned max_width)
{
	return max_width == 64 &&
	       __atomic_load_n(&wide_limit_cached, __ATOMIC_ACQUIRE) == 64 &&
	       n < __atomic_load_n(&nt_threshold_cached, __ATOMIC_RELAXED) &&
	       n >= ((size_t)-dev & 63) + 64;
}

/* Cap 64 from the general dispatch (the first call, or short_64 failed). */
static ALWAYS_INLINE void read_64(uint8_t *d, const uint8_t *s, size_t n)
{
	/* the shortest span with a whole aligned 64-byte unit */
	size_t whole = head_len(MODE_READ, d, s, 64) + 64;

	if (n >= __atomic_load_n(&nt_threshold_cached, __ATOMIC_RELAXED)) {
		if (n >= whole && ram_skewed_64(d, s))
			long_read_64(d, s, n);
		else
			wide_read_64(d, s, n);
	} else if (n < whole) {
		wide_read_32(d, s, n); /* same accesses: access_x86_64.h */
	} else {
		short_read_64(d, s, n);
	}
}

static ALWAYS_INLINE void write_64(uint8_t *d, const uint8_t *s, size_t n)
{
	if (n >= __atomic_load_n(&nt_threshold_cached, __ATOMIC_RELAXED))
		wide_write_64(d, s, n);
	else if (n < head_len(MODE_WRITE, d, s, 64) + 64)
		wide_write_32(d, s, n);
	else
		short_write_64(d, s, n);
}
#endif

static __attribute__((noinline)) void read_wide_any(void *ram, const void *dev,
						   size_t n,
						   unsigned max_width)
{
	switch (wide_cap(max_width)) {
	case 1:
		walk_up(MODE_READ, ram, dev, n, 1);
		break;
	case 2:
		walk_up(MODE_READ, ram, dev, n, 2);
		break;
	case 4:
		walk_up(MODE_READ, ram, dev, n, 4);
		break;
#if HAVE_WIDE
	case 16:
		wide_read_16(ram, dev, n);
		break;
#if defined(__x86_64__)
	case 32:
		wide_read_32(ram, dev, n);
		break;
	case 64:
		read_64(ram, dev, n);
		break;
#endif
#endif
	default:
		walk_up(MODE_READ, ram, dev, n, 8);
		break;
	}
}

static __attribute__((noinline)) void write_wide_any(void *dev, const void *ram,
						    size_t n,
						    unsigned max_width)
{
	switch (wide_cap(max_width)) {
	case 1:
		walk_up(MODE_WRITE, dev, ram, n, 1);
		break;
	case 2:
		walk_up(MODE_WRITE, dev, ram, n, 2);
		break;
	case 4:
		walk_up(MODE_WRITE, dev, ram, n, 4);
		break;
#if HAVE_WIDE
	case 16:
		wide_write_16(dev, ram, n);
		break;
#if defined(__x86_64__)
	case 32:
		wide_write_32(dev, ram, n);
		break;
	case 64:
		write_64(dev, ram, n);
		break;
#endif
#endif
	default:
		walk_up(MODE_WRITE, dev, ram, n, 8);
		break;
	}
}

void ramdev_read_wide(void *ram, const void *dev, size_t n, unsigned max_width)
{
#if HAVE_WIDE && defined(__x86_64__)
	if (short_64((uintptr_t)dev, n, max_width)) {
		short_read_64(ram, dev, n);
		return;
	}
#endif
	read_wide_any(ram, dev, n, max_width);
}

void ramdev_write_wide(void *dev, const void *ram, size_t n, unsigned max_width)
{
#if HAVE_WIDE && defined(__x86_64__)
	if (short_64((uintptr_t)dev, n, max_width)) {
		short_write_64(dev, ram, n);
		return;
	}
#endif
	write_wide_any(dev, ram, n, max_width);
}
