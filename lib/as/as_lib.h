/* SPDX-License-Identifier: MIT */
/*
 * What the other layers of the library (the DMA layer) use of the address
 * space beyond its public header: its log, the inline read-side section,
 * and QEMU-style indirect access to RAM-device regions.  Not installed, not
 * exported (the library is built with hidden visibility).
 */
#ifndef RAMDEV_AS_LIB_H
#define RAMDEV_AS_LIB_H

/* ---- ThreadSanitizer annotations ----
 * liburcu (not built with TSan) orders readers and reclaimers through
 * membarrier(2) and plain volatile accesses, which TSan cannot see.  We tell
 * it what the grace period guarantees: every read-side unlock "releases" a
 * token that every RCU callback "acquires" before freeing.  The annotations
 * compile to nothing outside TSan builds. */
#if defined(__SANITIZE_THREAD__)
#define RAMDEV_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RAMDEV_TSAN 1
#endif
#endif

#ifdef RAMDEV_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define as_tsan_acquire(a) __tsan_acquire((void *)(a))
#define as_tsan_release(a) __tsan_release((void *)(a))
#else
#define as_tsan_acquire(a) ((void)(a))
#define as_tsan_release(a) ((void)(a))
#endif

/*
 * _LGPL_SOURCE makes liburcu's read_lock/read_unlock inline functions
 * instead of calls into the library: liburcu's documented way to get a fast
 * read side (README.md, "Usage of all urcu libraries": define it "only if
 * your code is LGPL or GPL compatible"; ramdev's MIT license is).  The
 * inlined code knows liburcu's reader layout, so the library must be
 * rebuilt when liburcu's soname changes, as for any such user.  It must
 * come before the first liburcu include of a translation unit: every file
 * that uses liburcu includes this header (directly or through as_priv.h)
 * before any other liburcu header.
 *
 * Not under TSan: the inlined read side uses liburcu's uatomic accesses
 * (plain volatile loads and stores, e.g. of urcu_memb_gp.futex in
 * urcu_common_wake_up_gp), which TSan would report as races between
 * readers.  TSan builds call liburcu's out-of-line functions, which it does
 * not instrument, and order RCU for it with the annotations above.
 */
#if !defined(RAMDEV_TSAN) && !defined(_LGPL_SOURCE)
#define _LGPL_SOURCE
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <urcu/urcu-memb.h>

#include "ramdev/as.h"

/* The thread-local flag is read on every read lock: initial-exec keeps it
 * one %fs-relative load instead of a __tls_get_addr call (the library's
 * static TLS use is a few bytes, within what the loader reserves for
 * dlopen'ed libraries). */
#define RAMDEV_TLS __thread __attribute__((tls_model("initial-exec")))

/* space.c */
extern RAMDEV_TLS bool ramdev_as_tls_registered;
extern char ramdev_as_gp_token; /* TSan only: see above */
void ramdev_as_rcu_register(void);

/*
 * Read-side section, inline: one thread-local test (registered with liburcu
 * already?) and liburcu's inline read lock.  Nestable.  The exported
 * ramdev_as_read_lock/unlock are these, out of line.
 */
static inline void ramdev_as_rdlock(void)
{
	if (__builtin_expect(!ramdev_as_tls_registered, 0))
		ramdev_as_rcu_register();
	urcu_memb_read_lock();
}

static inline void ramdev_as_rdunlock(void)
{
	as_tsan_release(&ramdev_as_gp_token);
	urcu_memb_read_unlock();
}

/* region.c: @n references at once (one atomic operation), as @n calls of
 * ramdev_region_ref/_unref would take and drop them.  The DMA layer takes
 * one per mapped segment, for a whole scatter-gather list at a time. */
void ramdev_region_ref_n(struct ramdev_region *r, unsigned n);
void ramdev_region_unref_n(struct ramdev_region *r, unsigned n);

/*
 * Kinds of guest-triggerable messages.  Each kind has its own rate limit
 * (one message per second per address space), so a flood of one harmless
 * kind cannot hide the first message of another.
 */
enum ramdev_as_log_kind {
	RAMDEV_AS_LOG_UNASSIGNED_READ,	/* load/read of unassigned memory */
	RAMDEV_AS_LOG_UNASSIGNED_WRITE, /* store/write to unassigned memory */
	RAMDEV_AS_LOG_MMIO_VALID,	/* MMIO access its valid rules refuse */
	RAMDEV_AS_LOG_DMA_ARG,		/* bad DMA map/copy arguments */
	RAMDEV_AS_LOG_DMA_UNASSIGNED,	/* DMA map/copy of unassigned memory */
	RAMDEV_AS_LOG_DMA_COPYBACK,	/* bounce copy-back failed at unmap */
	RAMDEV_AS_LOG_VCPU_REJECT,	/* misaligned vCPU access refused */
	RAMDEV_AS_LOG_VCPU_SPAN,	/* vCPU access across two regions */
	RAMDEV_AS_LOG_VCPU_ARG,		/* vCPU access of a bad size or wrap */
	RAMDEV_AS_LOG_REENTRANT,	/* MMIO access refused: re-entrancy */
	RAMDEV_AS_LOG_KINDS
};

/* log.c: messages to the address space's log callback (or stderr).
 * _guest_logf is for guest-triggerable events: rate-limited per @kind, and
 * the next message of a kind that gets through says how many of that kind
 * were suppressed since the previous one. */
void ramdev_as_logf(struct ramdev_as *as, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ramdev_as_guest_logf(struct ramdev_as *as, enum ramdev_as_log_kind kind,
			  const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * ramdev_as_read_strict / _write_strict - ramdev_as_read/_write, except
 * that a span with any unassigned byte is -EFAULT and nothing of it is
 * accessed: the whole span is checked first, in the same view that the
 * access then uses.  For the DMA layer's ramdev_dma_read/_write.
 */
int ramdev_as_read_strict(struct ramdev_as *as, uint64_t gpa, void *buf,
			  size_t len);
int ramdev_as_write_strict(struct ramdev_as *as, uint64_t gpa,
			   const void *buf, size_t len);

/*
 * ramdev_as_region_copy - [@off, @off + @n) of terminal region @r itself
 * (RAM, RAMD or MMIO), with the accesses ramdev_as_read/_write would make
 * there (@indirect: RAMD through its ops table, as QEMU's flatview_read/
 * write_continue do for a RAM-device region, which is not "direct": one
 * valid check and one indirect callback per piece of at most 8 bytes; the
 * DMA layer's QEMU_BOUNCE policy),
 * writes marking the dirty log.  Not a new translation of a guest address:
 * for the DMA layer's bounce buffers and segments, which hold a reference
 * on @r, so a region moved or removed meanwhile is still the one accessed.
 * Returns 0, -EINVAL (not a terminal region, or out of it), or a callback's
 * or valid rule's error.
 */
int ramdev_as_region_copy(struct ramdev_as *as, struct ramdev_region *r,
			  uint64_t off, void *buf, uint64_t n, bool write,
			  bool indirect);

/* ramdev_as_region_copy() for an MMIO region only (-EINVAL otherwise). */
int ramdev_as_region_mmio(struct ramdev_as *as, const struct ramdev_region *r,
			  uint64_t off, void *buf, uint64_t n, bool write);

/* Per-thread count of RAM-device accesses made through that ops table
 * (QEMU's trace_memory_region_ram_device_read/write points): for tests
 * and benchmarks. */
uint64_t ramdev_as_ramd_indirect_count(void);

/* ---- the DMA re-entrancy guard (as.h), per thread ----
 * The owners engaged on this thread, innermost first: a stack of frames on
 * the C stacks of the calls that engaged them (an MMIO callback in
 * progress, a call into a DMA context with an owner).  A few frames deep at
 * most, so a linear search.  Frames must be left in reverse order of
 * entry; the library's own calls do, and no callback can longjmp out of
 * the library (cmocka tests must not fail an assertion inside one). */
struct ramdev_as_guard_frame {
	const void *owner;
	struct ramdev_as_guard_frame *prev;
};

extern RAMDEV_TLS struct ramdev_as_guard_frame *ramdev_as_guard_top;

/* Engage @owner on this thread until ramdev_as_guard_exit(@f).  NULL
 * @owner engages nothing (the pair still matches). */
static inline void ramdev_as_guard_enter(struct ramdev_as_guard_frame *f,
					 const void *owner)
{
	f->owner = owner;
	if (!owner)
		return;
	f->prev = ramdev_as_guard_top;
	ramdev_as_guard_top = f;
}

static inline void ramdev_as_guard_exit(struct ramdev_as_guard_frame *f)
{
	if (f->owner)
		ramdev_as_guard_top = f->prev;
}

/* Is @owner (non-NULL) engaged on this thread? */
static inline bool ramdev_as_guard_engaged(const void *owner)
{
	for (const struct ramdev_as_guard_frame *f = ramdev_as_guard_top; f;
	     f = f->prev)
		if (f->owner == owner)
			return true;
	return false;
}

/* Host-order value <-> @size (1, 2, 4 or 8) bytes of ordinary memory: the
 * values ramdev_ld/st take and return, to and from a caller's buffer
 * (dispatch.c, vcpu.c). */
static inline uint64_t ramdev_as_bytes_ld(const void *p, unsigned size)
{
	uint8_t b1;
	uint16_t b2;
	uint32_t b4;
	uint64_t b8;

	switch (size) {
	case 1: memcpy(&b1, p, 1); return b1;
	case 2: memcpy(&b2, p, 2); return b2;
	case 4: memcpy(&b4, p, 4); return b4;
	default: memcpy(&b8, p, 8); return b8;
	}
}

static inline void ramdev_as_bytes_st(void *p, unsigned size, uint64_t val)
{
	uint8_t b1 = (uint8_t)val;
	uint16_t b2 = (uint16_t)val;
	uint32_t b4 = (uint32_t)val;

	switch (size) {
	case 1: memcpy(p, &b1, 1); break;
	case 2: memcpy(p, &b2, 2); break;
	case 4: memcpy(p, &b4, 4); break;
	default: memcpy(p, &val, 8); break;
	}
}

#endif /* RAMDEV_AS_LIB_H */
