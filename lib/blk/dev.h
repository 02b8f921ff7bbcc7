/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk private header: the device (struct ramdev_blk), the queues it
 * serves and how it reaches them (queue ops), its log, and the tunables of
 * the device as a whole.  Not installed.
 *
 * The files of lib/blk/, in the order a request meets them (each file's
 * top comment says its place):
 *   dev.c    the device and its options: open/close, config, features,
 *            stats, log (a request meets it only to log)
 *   queue.c  pop a chain, start its request, and (at the end) push it back
 *   req.c    parse and validate a chain into a request, plan its data;
 *            at the end write the status byte and recycle the request
 *   stage.c  stage device-memory data through RAM (windows, budget)
 *   step.c   the state machine the engines run: which system call next,
 *            what its result does to the request
 *   sync.c, uring.c   the engines (engine.h: their interface)
 *   merge.c  what the engines share to issue the back-to-back transfers
 *            of a batch as one call, and to share out its result
 *   drain.c  completions, drain/flush/reset/detach, and the last resort of
 *            close (fail what a dead engine holds)
 * Headers: dev.h (this), req.h (the request), seg.h (byte ranges over a
 * chain's segments), stage.h (staging), engine.h (the engine interface),
 * merge.h (merging).
 */
#ifndef RAMDEV_BLK_DEV_H
#define RAMDEV_BLK_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ramdev/blk.h"
#include "ratelimit.h"

struct blk_req;

/* Requests in order, linked by req->next (req.h: push, pop): the waits
 * below, an engine's batch (merge.h). */
struct blk_fifo {
	struct blk_req *head, *tail;
};
struct ramdev_blk_engine_ops;

/* ---- queues, swappable for tests (STYLE.md rule 12) ---- */

/* How the device reaches one request queue: virtq.h by default. */
struct ramdev_blk_queue_ops {
	/* 1 and *out set, 0 when empty, -errno as ramdev_virtq_pop() */
	int (*pop)(void *q, struct ramdev_virtq_elem **out);
	/* as ramdev_virtq_push(): frees @elem */
	int (*push)(void *q, struct ramdev_virtq_elem *elem, uint32_t written);
	bool (*should_notify)(void *q);
	/* optional: as ramdev_virtq_set_notify(): true if more arrived */
	bool (*set_notify)(void *q, bool on);
};

struct ramdev_blk_queue {
	const struct ramdev_blk_queue_ops *ops; /* NULL: not attached */
	void *q;
	struct ramdev_blk *blk;
	unsigned idx;
	unsigned inflight;
	struct ramdev_ratelimit log_rl; /* this queue's requests' messages */
};

/* Attach through any ops table (ramdev_blk_attach_queue() uses virtq's).
 * queue.c. */
int ramdev_blk_attach_queue_ops(struct ramdev_blk *blk, unsigned idx,
				const struct ramdev_blk_queue_ops *ops, void *q);

/* ---- the device ---- */

/*
 * The log callback and its opaque pointer, published together:
 * ramdev_blk_set_log() allocates a new pair and swaps the pointer
 * atomically, so a message never pairs one call's function with another
 * call's opaque.  Replaced pairs stay allocated until close (the device's
 * thread may still be using one).
 */
struct blk_log_pair {
	ramdev_log_fn *fn;
	void *opaque;
	struct blk_log_pair *retired;
};

struct ramdev_blk {
	int fd;
	int event_fd;
	bool read_only;
	uint64_t capacity;          /* sectors */
	char serial[RAMDEV_BLK_ID_BYTES];
	unsigned num_queues;
	unsigned depth;
	uint32_t seg_max, size_max;
	uint32_t max_discard_sectors, max_discard_seg;
	uint32_t max_wz_sectors, max_wz_seg;

	const struct ramdev_blk_engine_ops *engine;
	void *engine_opaque;        /* the engine's state (init's *opaque) */
	enum ramdev_blk_engine engine_kind;
	uint8_t *zeroes;            /* RAMDEV_BLK_ZERO_BUF bytes, lazily */
	bool uring_offload_writes;  /* options: see blk.h */
	bool merge;                 /* !options.no_merge: merge.h */
	bool no_punch, no_zero_range;
	int wb_err;                 /* sticky write-back error (errno), see blk.h */

	struct ramdev_blk_queue queues[RAMDEV_BLK_MAX_QUEUES];
	unsigned inflight;          /* popped, not pushed */
	unsigned submitted;         /* in the engine */
	unsigned writes_inflight;   /* write-type requests in the engine */
	uint64_t write_gen;         /* the generation new writes join */
	unsigned writes_of_gen[2];  /* writes in flight of generation g, at
				     * [g & 1]: write_gen and write_gen - 1 */
	struct blk_fifo flush_wait; /* FLUSHes waiting for writes */
	struct blk_req *sub_head;   /* the requests in the engine (submitted) */
	struct blk_fifo stage_wait; /* waiting for staging space */
	uint64_t stage_budget;      /* options.stage_budget */
	uint64_t stage_used;        /* reserved by requests (stage_res) */
	uint64_t stage_kept;        /* staging buffers of cached requests */
	struct blk_req *req_cache;  /* finished requests kept for reuse */
	unsigned req_cached;
	uint64_t stopped;           /* queues to resume (bit per queue) */
	uint64_t pushed;            /* queues pushed to since the last notify check */
	unsigned quiescing;         /* in drain: completions pop no new work */
	bool kernel_signals;        /* the engine registered event_fd (io_uring) */
	bool signalled;             /* ramdev_blk_signal() wrote event_fd (atomic) */
	enum ramdev_blk_err broken;

	struct blk_log_pair *log;     /* atomic: see struct blk_log_pair */
	struct blk_log_pair *log_old; /* retired pairs, freed by close */
	struct ramdev_ratelimit log_rl; /* device messages above LOG_ERR */

	struct ramdev_blk_stats stats;
	/* per queue, counted by req.c when a request finishes */
	struct ramdev_blk_queue_stats qstats[RAMDEV_BLK_MAX_QUEUES];
};

#define RAMDEV_BLK_LOG_PER_SEC 16u
#define BLK_DRAIN_TRIES 50u   /* failed reaps in a row before drain gives up */
#define BLK_DRAIN_PAUSE_US 1000u /* between them */

/* dev.c: the device's log. */
void ramdev_blk_log(struct ramdev_blk *blk, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A message about a request, which its guest can trigger: rate-limited per
 * queue (STYLE rule 9), so one queue's flood cannot hide another's. */
void ramdev_blk_req_log(const struct blk_req *req, int level,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* dev.c: free the cached requests and their staging buffers (close, reset). */
void ramdev_blk_req_cache_free(struct ramdev_blk *blk);
/* queue.c: make event_fd readable (the event loop calls complete()). */
void ramdev_blk_signal(struct ramdev_blk *blk);
/* queue.c, for drain.c: start the requests waiting for staging space;
 * collect the queues to notify. */
void ramdev_blk_stage_resume(struct ramdev_blk *blk);
void ramdev_blk_collect_notify(struct ramdev_blk *blk, uint64_t *notify);
/* drain.c: close's last resort, see there. */
void ramdev_blk_cancel(struct ramdev_blk *blk);
/* step.c: remember a write-back error (every later FLUSH fails). */
void ramdev_blk_wb_fail(struct ramdev_blk *blk, int err);

#endif /* RAMDEV_BLK_DEV_H */
