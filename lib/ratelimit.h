/* SPDX-License-Identifier: MIT */
/*
 * A per-second budget for the messages a guest can trigger (STYLE rule 9):
 * at most @burst messages in each whole second of a clock, one budget per
 * queue (virtq) or device (blk).  Not thread-safe: its owner's calls are
 * already serialised.  The address space's guest log (lib/as/log.c) is shared
 * by threads and keeps its own lock-free deadline instead.
 */
#ifndef RAMDEV_RATELIMIT_H
#define RAMDEV_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct ramdev_ratelimit {
	uint64_t second; /* the window: a whole second of the clock */
	unsigned count;  /* messages asked for in it, allowed or not */
};

/*
 * ramdev_ratelimit_allow - whether one more message fits in this second of
 * @clock; a new second starts a new count.  A clock that cannot be read
 * counts as second 0.  A zeroed struct is a valid start.
 */
static inline bool ramdev_ratelimit_allow(struct ramdev_ratelimit *rl,
					  clockid_t clock, unsigned burst)
{
	struct timespec now;

	if (clock_gettime(clock, &now) != 0)
		now.tv_sec = 0;
	if ((uint64_t)now.tv_sec != rl->second) {
		rl->second = (uint64_t)now.tv_sec;
		rl->count = 0;
	}
	return rl->count++ < burst;
}

#endif
