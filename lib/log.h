/* SPDX-License-Identifier: MIT */
/*
 * Where every layer's messages end: the context's callback, or stderr for
 * warnings and errors when there is none (STYLE rule 9).  Each layer keeps
 * its own formatting and rate limiting; this is the one sink.
 */
#ifndef RAMDEV_LOG_H
#define RAMDEV_LOG_H

#include <stdio.h>
#include <syslog.h>

#include "ramdev/as.h" /* ramdev_log_fn */

static inline void ramdev_log_emit(ramdev_log_fn *fn, void *opaque, int level,
				   const char *msg)
{
	if (fn)
		fn(opaque, level, msg);
	else if (level <= LOG_WARNING)
		fprintf(stderr, "ramdev: %s\n", msg);
}

#endif /* RAMDEV_LOG_H */
