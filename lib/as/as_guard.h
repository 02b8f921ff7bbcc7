/* SPDX-License-Identifier: MIT */
/*
 * Address-space private header: the DMA re-entrancy guard (as.h), per
 * thread: which owners (MMIO callbacks, DMA contexts) are engaged on it.
 */
#ifndef RAMDEV_AS_GUARD_H
#define RAMDEV_AS_GUARD_H

#include <stdbool.h>

#include "as_tls.h"

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

#endif /* RAMDEV_AS_GUARD_H */
