/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk private header: the engine interface.  An engine carries a
 * started request's steps (system calls) to the kernel: sync.c runs them
 * inline, uring.c through io_uring.  What the steps are and what their
 * results do to the request is engine-neutral (step.c).  Not installed.
 */
#ifndef RAMDEV_BLK_ENGINE_H
#define RAMDEV_BLK_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct ramdev_blk;
struct blk_req;

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
	uint64_t len;  /* bytes: READV/WRITEV (of the window), FALLOCATE */
	int mode;      /* FALLOCATE */
	bool alone;    /* not to be merged (merge.h): a merged try fell short */
};

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

extern const struct ramdev_blk_engine_ops ramdev_blk_engine_sync;  /* sync.c */
extern const struct ramdev_blk_engine_ops ramdev_blk_engine_uring; /* uring.c */

/* EINTR/EAGAIN results of one step in a row before the request fails with
 * IOERR: a file or engine that keeps answering "try again" must not keep
 * a request (and, with the sync engine, the calling thread) forever. */
#define BLK_RETRY_MAX 16u
/* The zero buffer that write-zeroes without fallocate writes from. */
#define RAMDEV_BLK_ZERO_BUF (64u * 1024u)

/* step.c: the request's next step (BLK_STEP_DONE: finished), and what a
 * step's result (bytes or 0, or -errno) does to it. */
void ramdev_blk_req_next(struct blk_req *req, struct blk_step *st);
void ramdev_blk_req_result(struct blk_req *req, const struct blk_step *st,
			   int64_t res);
/* step.c: one step as a blocking system call: bytes or 0, or -errno. */
long ramdev_blk_step_sync(struct ramdev_blk *blk, const struct blk_step *st);
/* step.c: ramdev_blk_req_result() for the step in *@st, then
 * ramdev_blk_req_next() into *@st; _step_inline() runs the step with
 * ramdev_blk_step_sync() first.  An engine enters step.c once per step. */
void ramdev_blk_req_advance(struct blk_req *req, struct blk_step *st,
			    int64_t res);
void ramdev_blk_req_step_inline(struct blk_req *req, struct blk_step *st);
/* step.c: every step of @req inline (next, step_sync, result) until done;
 * does not call ramdev_blk_req_done(). */
void ramdev_blk_req_run(struct blk_req *req);

/* queue.c: the engine reports a finished request (it is pushed). */
void ramdev_blk_req_done(struct blk_req *req);

#endif /* RAMDEV_BLK_ENGINE_H */
