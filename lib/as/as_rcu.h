/* SPDX-License-Identifier: MIT */
/*
 * Address-space private header: the RCU read side, inline (registration
 * with liburcu once per thread, the read lock and unlock with their TSan
 * annotation).  Include it before any other liburcu header of a
 * translation unit: it defines _LGPL_SOURCE (below).
 */
#ifndef RAMDEV_AS_RCU_H
#define RAMDEV_AS_RCU_H

#include "as_tsan.h"

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
 * not instrument, and order RCU for it with the annotations of as_tsan.h.
 */
#if !defined(RAMDEV_TSAN) && !defined(_LGPL_SOURCE)
#define _LGPL_SOURCE
#endif

#include <stdbool.h>

#include <urcu/urcu-memb.h>

#include "as_tls.h"

/* space.c */
extern RAMDEV_TLS bool ramdev_as_tls_registered;
extern char ramdev_as_gp_token; /* TSan only: see as_tsan.h */
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

#endif /* RAMDEV_AS_RCU_H */
