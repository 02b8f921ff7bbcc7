/* SPDX-License-Identifier: MIT */
/*
 * A per-second budget for the messages a guest can trigger (STYLE rule 9):
 * at most @burst messages in each whole second of a clock.  Keep one budget
 * per queue (virtq) or device (blk), and within it one per kind of message
 * where kinds differ in importance, so a flood of a harmless kind cannot
 * hide the first message of another.  The first message that gets through
 * after some were refused should say how many: ramdev_ratelimit_check()
 * returns that count.  Not thread-safe: its owner's calls are already
 * serialised.  The address space's guest log (lib/as/log.c) is shared by
 * threads and keeps its own lock-free deadlines instead.
 */
#ifndef RAMDEV_RATELIMIT_H
#define RAMDEV_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct ramdev_ratelimit {
	uint64_t second;     /* the window: a whole second of the clock */
	unsigned count;      /* messages asked for in it, allowed or not */
	uint64_t suppressed; /* refused since the last allowed message */
};

/*
 * ramdev_ratelimit_check - whether one more message fits in this second of
 * @clock; a new second starts a new count.  When it fits and @suppressed is
 * not NULL, *@suppressed is the number of messages refused since the
 * previous one that fitted (print it: "(N similar suppressed)"), and the
 * count starts again.  A clock that cannot be read counts as second 0.  A
 * zeroed struct is a valid start.
 */
static inline bool ramdev_ratelimit_check(struct ramdev_ratelimit *rl,
					  clockid_t clock, unsigned burst,
					  uint64_t *suppressed)
{
	struct timespec now;

	if (clock_gettime(clock, &now) != 0)
		now.tv_sec = 0;
	if ((uint64_t)now.tv_sec != rl->second) {
		rl->second = (uint64_t)now.tv_sec;
		rl->count = 0;
	}
	if (rl->count >= burst) {
		rl->suppressed++;
		return false;
	}
	rl->count++;
	if (suppressed)
		*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return true;
}

/* ramdev_ratelimit_allow - ramdev_ratelimit_check() without the count. */
static inline bool ramdev_ratelimit_allow(struct ramdev_ratelimit *rl,
					  clockid_t clock, unsigned burst)
{
	return ramdev_ratelimit_check(rl, clock, burst, NULL);
}

#endif
