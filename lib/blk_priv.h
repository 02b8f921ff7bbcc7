/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk internals shared by the parser (blk.c), the queue glue
 * (blk_queue.c, blk_virtq.c) and the executor (blk_exec.c).  Not installed.
 *
 * A request's life: blk_queue.c pops a chain and calls ramdev_blk_req_parse()
 * (blk.c), which validates it and builds the I/O plan (iovec list, staging
 * buffer for device-memory segments, discard ranges).  The engine
 * (blk_exec.c) runs the plan step by step (ramdev_blk_req_next/_result) and
 * calls ramdev_blk_req_done(), which writes back staged data and the status
 * byte (blk.c) and hands the request to ramdev_blk_req_push() (blk_queue.c).
 */
#ifndef RAMDEV_BLK_PRIV_H
#define RAMDEV_BLK_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ramdev/blk.h"
#include "ratelimit.h"

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

/* Attach through any ops table (ramdev_blk_attach_queue() uses virtq's). */
int ramdev_blk_attach_queue_ops(struct ramdev_blk *blk, unsigned idx,
				const struct ramdev_blk_queue_ops *ops, void *q);

/* ---- requests ---- */

enum blk_op {
	BLK_OP_NONE,    /* nothing to execute: status already decided */
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH,
	BLK_OP_DISCARD,
	BLK_OP_WZ,      /* write zeroes (per range: may deallocate or not) */
};

/* A piece of a segment the kernel may not touch (DEV or MMIO), staged. */
struct blk_stage {
	const struct ramdev_dma_seg *seg;
	size_t seg_off; /* in the segment */
	size_t len;
	size_t off;     /* in req->stage */
};

struct blk_range {
	uint64_t off;  /* bytes into the image */
	uint64_t len;
	bool unmap;    /* write zeroes may deallocate */
};

/* Fallback chain of one discard/write-zeroes range. */
enum blk_zmode {
	BLK_Z_PUNCH,   /* fallocate(PUNCH_HOLE | KEEP_SIZE) */
	BLK_Z_ZERO,    /* fallocate(ZERO_RANGE | KEEP_SIZE) */
	BLK_Z_WRITE,   /* pwritev of zeroes */
};

/* What the engine does next for a request. */
enum blk_step_kind {
	BLK_STEP_DONE,
	BLK_STEP_READV,
	BLK_STEP_WRITEV,
	BLK_STEP_FDATASYNC,
	BLK_STEP_FALLOCATE,
};

struct blk_step {
	enum blk_step_kind kind;
	const struct iovec *iov;
	unsigned iovcnt;
	uint64_t off;
	uint64_t len;  /* FALLOCATE */
	int mode;      /* FALLOCATE */
};

struct blk_req {
	struct ramdev_blk *blk;
	struct blk_req *next;       /* flush wait list; the device's cache */
	struct blk_req *sub_prev, *sub_next; /* blk->sub_head: in the engine */
	unsigned cap;               /* room for segments in iov, rest, dev */
	unsigned qidx;
	struct ramdev_virtq_elem *elem;
	uint32_t type;
	uint8_t status;             /* RAMDEV_BLK_S_* */
	enum ramdev_blk_err err;
	enum blk_op op;
	bool counts_as_write;       /* in blk->writes_inflight */
	bool lost;                  /* the kernel may still use its memory */
	uint64_t gen;               /* write generation (FLUSH ordering) */

	/* status byte: segment index in elem->segs, offset inside it */
	unsigned status_seg;
	size_t status_off;

	/* IN/OUT data: where it lies in elem, and progress of the current step */
	unsigned data_first, data_count;
	uint64_t data_skip;
	struct iovec *iov;          /* the current window's pieces */
	unsigned iovcnt;
	struct iovec *rest;         /* scratch: what remains after @done */
	unsigned rest_max;
	uint64_t off;               /* image offset of the data */
	uint64_t len;               /* data bytes */
	uint64_t done;              /* bytes done (of the data or the range) */
	uint64_t win_start, win_end; /* the window of the data iov covers */

	uint8_t *stage;
	size_t stage_len;           /* bytes staged in the current window */
	size_t stage_cap;           /* bytes allocated at stage */
	uint64_t stage_need;        /* bytes the whole request stages */
	uint64_t stage_res;         /* of blk->stage_budget, held */
	struct blk_stage *dev;      /* the current window's staged pieces */
	unsigned ndev;

	struct blk_range *ranges;
	unsigned nranges;
	unsigned range;             /* current */
	enum blk_zmode zmode;       /* current attempt on it */

	struct blk_step step;       /* the step the engine is running */
};

/* ---- engines (blk_exec.c) ---- */

/*
 * An engine.  Every op gets the engine's own state (@opaque, what init
 * stored in *opaque, kept in blk->engine_opaque), so an engine can wrap
 * another one (the tests' checking engine) without globals.
 */
struct ramdev_blk_engine_ops {
	const char *name;
	/* set up; *opaque is passed to every other op */
	int (*init)(struct ramdev_blk *blk, void **opaque);
	void (*fini)(void *opaque, struct ramdev_blk *blk);
	/* start @req; may finish it (ramdev_blk_req_done) before returning */
	void (*submit)(void *opaque, struct ramdev_blk *blk, struct blk_req *req);
	/* push submitted work to the kernel; -errno breaks the device */
	int (*kick)(void *opaque, struct ramdev_blk *blk);
	/* finish completed requests; wait up to @timeout_ms (-1 forever, 0 not) */
	int (*reap)(void *opaque, struct ramdev_blk *blk, int timeout_ms);
	/*
	 * Optional, the last resort of close() when reap cannot finish the
	 * requests submitted (a failed engine): stop for good and free the
	 * engine's state (fini is not called afterwards), finishing no
	 * request (the device fails them).  Returns true if the kernel can
	 * no longer touch their buffers, false if it still might (the device
	 * then leaks their staging buffers rather than free them).
	 */
	bool (*cancel)(void *opaque, struct ramdev_blk *blk);
};

extern const struct ramdev_blk_engine_ops ramdev_blk_engine_sync;
extern const struct ramdev_blk_engine_ops ramdev_blk_engine_uring;

/* ---- the device ---- */

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
	bool no_punch, no_zero_range;
	int wb_err;                 /* sticky write-back error (errno), see blk.h */

	struct ramdev_blk_queue queues[RAMDEV_BLK_MAX_QUEUES];
	unsigned inflight;          /* popped, not pushed */
	unsigned submitted;         /* in the engine */
	unsigned writes_inflight;   /* write-type requests in the engine */
	uint64_t wgen;              /* generation new writes join */
	unsigned wgen_count[2];     /* writes in flight of gen wgen, wgen - 1 */
	struct blk_req *flush_head, *flush_tail; /* FLUSHes waiting for writes */
	struct blk_req *sub_head;   /* the requests in the engine (submitted) */
	struct blk_req *stage_head, *stage_tail; /* waiting for staging space */
	uint64_t stage_budget;      /* options.stage_budget */
	uint64_t stage_used;        /* reserved by requests (stage_res) */
	struct blk_req *req_cache;  /* finished requests kept for reuse */
	unsigned req_cached;
	uint64_t stopped;           /* queues to resume (bit per queue) */
	uint64_t pushed;            /* queues pushed to since the last notify check */
	unsigned quiescing;         /* in drain: completions pop no new work */
	bool kernel_signals;        /* the engine registered event_fd (io_uring) */
	bool signalled;             /* ramdev_blk_signal() wrote event_fd (atomic) */
	enum ramdev_blk_err broken;

	ramdev_log_fn *log_fn;
	void *log_opaque;
	struct ramdev_ratelimit log_rl; /* device messages above LOG_ERR */

	struct ramdev_blk_stats stats;
	/* blk_qstats.c */
	struct ramdev_blk_queue_stats qstats[RAMDEV_BLK_MAX_QUEUES];
};

#define RAMDEV_BLK_ZERO_BUF (64u * 1024u)
#define BLK_REQ_MIN_SEGS 16u  /* a cached request fits most chains */
#define BLK_REQ_CACHE 64u     /* finished requests kept per device */
#define BLK_STAGE_KEEP (128u * 1024u) /* staging kept with a cached request */
#define RAMDEV_BLK_LOG_PER_SEC 16u
#define BLK_DRAIN_TRIES 50u   /* failed reaps in a row before drain gives up */
#define BLK_DRAIN_PAUSE_US 1000u /* between them */

/* blk_qstats.c: count a finished request in its queue's counters. */
void ramdev_blk_qstats_count(const struct blk_req *req);

/* blk_stage.c */
struct blk_cursor {
	const struct ramdev_dma_seg *segs;
	unsigned idx, end;
	size_t off;
};

int ramdev_blk_seg_copy_in(void *ram, const struct ramdev_dma_seg *seg,
			   size_t off, size_t n);
int ramdev_blk_seg_copy_out(const struct ramdev_dma_seg *seg, size_t off,
			    const void *ram, size_t n);
void ramdev_blk_cursor_init(struct blk_cursor *c,
			    const struct ramdev_virtq_elem *e, unsigned first,
			    unsigned count, uint64_t skip);
size_t ramdev_blk_cursor_next(struct blk_cursor *c, uint64_t want,
			      const struct ramdev_dma_seg **seg, size_t *off);
enum ramdev_blk_err ramdev_blk_plan_data(struct blk_req *req, unsigned first,
					 unsigned count, uint64_t skip,
					 uint64_t len, uint64_t *a, uint64_t *b);
bool ramdev_blk_stage_begin(struct blk_req *req);
bool ramdev_blk_stage_window(struct blk_req *req);
bool ramdev_blk_stage_copy_out(struct blk_req *req);
void ramdev_blk_stage_release(struct blk_req *req);

/* blk.c */
__attribute__((format(printf, 3, 4)))
void ramdev_blk_log(struct ramdev_blk *blk, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A message about a request, which its guest can trigger: rate-limited per
 * queue (STYLE rule 9), so one queue's flood cannot hide another's. */
void ramdev_blk_req_log(const struct blk_req *req, int level,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int ramdev_blk_req_parse(struct ramdev_blk *blk, struct ramdev_virtq_elem *elem,
			 unsigned qidx, struct blk_req **out);
uint32_t ramdev_blk_elem_ioerr(struct ramdev_virtq_elem *elem);
void ramdev_blk_req_finish(struct blk_req *req, uint32_t *written);
void ramdev_blk_req_free(struct blk_req *req);

/* blk_exec.c */
void ramdev_blk_req_next(struct blk_req *req, struct blk_step *st);
void ramdev_blk_req_result(struct blk_req *req, const struct blk_step *st,
			   int64_t res);
enum blk_zmode ramdev_blk_first_zmode(const struct blk_req *req);
long ramdev_blk_step_sync(struct ramdev_blk *blk, const struct blk_step *st);
void ramdev_blk_wb_fail(struct ramdev_blk *blk, int err);

/* blk_queue.c: the engine reports a finished request */
void ramdev_blk_req_done(struct blk_req *req);
void ramdev_blk_signal(struct ramdev_blk *blk);
void ramdev_blk_cancel(struct ramdev_blk *blk);

#endif /* RAMDEV_BLK_PRIV_H */
