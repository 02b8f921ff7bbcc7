/* SPDX-License-Identifier: MIT */
/*
 * Messages of the address space: the caller's callback, or stderr for
 * warnings and errors.  Guest-triggered messages (unassigned accesses,
 * rejected MMIO sizes) are rate-limited per address space: a guest must not
 * be able to flood the host's log.
 */
#include <errno.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "as_priv.h"
#include "../log.h"

#define AS_LOG_MAX 512
/* At most one guest-triggered message per interval, per address space. */
#define AS_GUEST_LOG_INTERVAL_NS 1000000000ull

static void as_emit(struct ramdev_as *as, int level, const char *msg)
{
	ramdev_log_fn *fn = NULL;
	void *opaque = NULL;

	if (as) {
		/* set_log may run concurrently with the data path. */
		fn = __atomic_load_n(&as->log_fn, __ATOMIC_ACQUIRE);
		opaque = __atomic_load_n(&as->log_opaque, __ATOMIC_ACQUIRE);
	}
	ramdev_log_emit(fn, opaque, level, msg);
}

static void __attribute__((format(printf, 3, 0)))
as_vlogf(struct ramdev_as *as, int level, const char *fmt, va_list ap)
{
	char msg[AS_LOG_MAX];
	int saved = errno;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	as_emit(as, level, msg);
	errno = saved;
}

void ramdev_as_logf(struct ramdev_as *as, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	as_vlogf(as, level, fmt, ap);
	va_end(ap);
}

static uint64_t as_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void ramdev_as_guest_logf(struct ramdev_as *as, const char *fmt, ...)
{
	char msg[AS_LOG_MAX];
	uint64_t now = as_now_ns();
	uint64_t next = __atomic_load_n(&as->log_next_ns, __ATOMIC_RELAXED);
	uint64_t dropped;
	int saved = errno;
	va_list ap;

	/* Only the thread that moves the deadline forward logs. */
	if (now < next ||
	    !__atomic_compare_exchange_n(&as->log_next_ns, &next,
					 now + AS_GUEST_LOG_INTERVAL_NS, false,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		__atomic_fetch_add(&as->log_dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	dropped = __atomic_exchange_n(&as->log_dropped, 0, __ATOMIC_RELAXED);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (dropped)
		ramdev_as_logf(as, LOG_WARNING, "%s (%llu similar suppressed)",
			       msg, (unsigned long long)dropped);
	else
		ramdev_as_logf(as, LOG_WARNING, "%s", msg);
	errno = saved;
}
