/* SPDX-License-Identifier: MIT */
/*
 * Messages of the address space: the caller's callback, or stderr for
 * warnings and errors.  Guest-triggered messages (unassigned accesses,
 * rejected MMIO sizes) are rate-limited per address space and per kind of
 * message: a guest must not be able to flood the host's log, and a flood of
 * one kind must not hide the first message of another.
 */
#include <errno.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "as_priv.h"
#include "../log.h"

#define AS_LOG_MAX 512
/* At most one guest-triggered message of each kind per interval, per
 * address space. */
#define AS_GUEST_LOG_INTERVAL_NS 1000000000ull

static void as_emit(struct ramdev_as *as, int level, const char *msg)
{
	const struct as_log_sink *s = NULL;

	/* set_log may run concurrently: one load gives a matching pair. */
	if (as)
		s = __atomic_load_n(&as->log, __ATOMIC_ACQUIRE);
	ramdev_log_emit(s ? s->fn : NULL, s ? s->opaque : NULL, level, msg);
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

void ramdev_as_guest_logf(struct ramdev_as *as, enum ramdev_as_log_kind kind,
			  const char *fmt, ...)
{
	char msg[AS_LOG_MAX];
	uint64_t now = as_now_ns(), next, dropped;
	int saved = errno;
	va_list ap;

	if (!as || (unsigned)kind >= RAMDEV_AS_LOG_KINDS)
		return;
	next = __atomic_load_n(&as->log_next_ns[kind], __ATOMIC_RELAXED);
	/* Only the thread that moves the kind's deadline forward logs. */
	if (now < next ||
	    !__atomic_compare_exchange_n(&as->log_next_ns[kind], &next,
					 now + AS_GUEST_LOG_INTERVAL_NS, false,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		__atomic_fetch_add(&as->log_dropped[kind], 1, __ATOMIC_RELAXED);
		return;
	}
	dropped = __atomic_exchange_n(&as->log_dropped[kind], 0,
				      __ATOMIC_RELAXED);
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
