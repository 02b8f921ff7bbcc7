/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk private header: the request (struct blk_req), from the chain
 * it was parsed from to the status byte written back, and the functions of
 * its first and last stage (req.c).  Not installed.
 *
 * A request's life: queue.c pops a chain and calls ramdev_blk_req_parse()
 * (req.c), which validates it and plans its data (the iovec list, or the
 * bytes to stage for device-memory segments) and its discard ranges.  A
 * request that stages reserves space and builds its first window when it
 * starts (ramdev_blk_stage_begin(), stage.c).  The engine (engine.h) runs
 * the plan step by step (ramdev_blk_req_next/_result, step.c) and calls
 * ramdev_blk_req_done() (queue.c), which has ramdev_blk_req_finish()
 * (req.c) copy back the last staged window, fill the used length's bytes,
 * write the status byte and recycle the request, and pushes the element to
 * its queue.
 */
#ifndef RAMDEV_BLK_REQ_H
#define RAMDEV_BLK_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ramdev/blk.h"
#include "engine.h"
#include "seg.h"

enum blk_op {
	BLK_OP_NONE,    /* nothing to execute: status already decided */
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH,
	BLK_OP_DISCARD,
	BLK_OP_WZ,      /* write zeroes (per range: may deallocate or not) */
};

/* A piece of a segment the kernel may not touch (DEV or MMIO), staged:
 * the kernel reads or writes req->stage + off instead. */
struct blk_staged_piece {
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

/* How a discard/write-zeroes range is tried, in fallback order. */
enum blk_zero_method {
	BLK_ZERO_BY_PUNCH,   /* fallocate(PUNCH_HOLE | KEEP_SIZE) */
	BLK_ZERO_BY_ZERO_RANGE,    /* fallocate(ZERO_RANGE | KEEP_SIZE) */
	BLK_ZERO_BY_WRITE,   /* pwritev of zeroes */
};

struct blk_req {
	struct ramdev_blk *blk;
	struct blk_req *next;       /* flush wait list; the device's cache */
	struct blk_req *sub_prev, *sub_next; /* blk->sub_head: in the engine */
	unsigned cap;       /* room for segments in iov, step_iov, staged */
	unsigned qidx;
	struct ramdev_virtq_elem *elem;
	uint32_t type;
	uint8_t status;             /* RAMDEV_BLK_S_* */
	enum ramdev_blk_err err;
	enum blk_op op;
	bool counts_as_write;       /* in blk->writes_inflight */
	/* Set by a cancel that could not stop the kernel: it may still use
	 * this request's buffers, so the request is leaked, never pushed. */
	bool kernel_may_use_buffers;
	unsigned again;             /* EINTR/EAGAIN in a row (BLK_RETRY_MAX) */
	uint64_t gen;               /* write generation (FLUSH ordering) */

	/* status byte: segment index in elem->segs, offset inside it */
	unsigned status_seg;
	size_t status_off;

	/* IN/OUT data: where it lies in elem, and progress of the current step */
	unsigned data_first, data_count;
	uint64_t data_skip;
	struct iovec *iov;          /* the current window's pieces */
	unsigned iovcnt;
	/* The current step's list when it is not iov as a whole: the window's
	 * pieces after @done (a resumed transfer), or the zero buffer's. */
	struct iovec *step_iov;
	unsigned step_iov_max;
	uint64_t off;               /* image offset of the data */
	uint64_t len;               /* data bytes */
	uint64_t done;              /* bytes done (of the data or the range) */
	uint64_t win_start, win_end; /* the window of the data iov covers */

	uint8_t *stage;
	size_t stage_len;           /* bytes staged in the current window */
	size_t stage_cap;           /* bytes allocated at stage */
	uint64_t stage_need;        /* bytes the whole request stages */
	uint64_t stage_res;         /* of blk->stage_budget, held */
	/* the current window's staged pieces */
	struct blk_staged_piece *staged;
	unsigned nstaged;

	struct blk_range *ranges;
	unsigned nranges;
	unsigned range;             /* current */
	enum blk_zero_method zero_method; /* the current attempt on it */

	struct blk_step step;       /* the step the engine is running */
};

#define BLK_REQ_MIN_SEGS 16u  /* a cached request fits most chains */
#define BLK_REQ_CACHE 64u     /* finished requests kept per device */
#define BLK_STAGE_KEEP (128u * 1024u) /* staging kept with a cached request */
#define BLK_STAGE_ALIGN 4096u        /* staging buffers: O_DIRECT-ready */

/* struct blk_fifo (dev.h): @req at the end. */
static inline void ramdev_blk_fifo_push(struct blk_fifo *q,
					struct blk_req *req)
{
	req->next = NULL;
	if (q->tail)
		q->tail->next = req;
	else
		q->head = req;
	q->tail = req;
}

/* The first request, taken out (NULL: empty). */
static inline struct blk_req *ramdev_blk_fifo_pop(struct blk_fifo *q)
{
	struct blk_req *req = q->head;

	if (req) {
		q->head = req->next;
		if (!q->head)
			q->tail = NULL;
	}
	return req;
}

/* A cursor over the request's data, @from bytes into it. */
static inline void ramdev_blk_data_cursor(const struct blk_req *req,
					  struct blk_cursor *c, uint64_t from)
{
	ramdev_blk_cursor_init(c, req->elem, req->data_first, req->data_count,
			       req->data_skip + from);
}

/* req.c: parse @elem into *@out (0; a request that fails validation is
 * BLK_OP_NONE with its status set), or -ENOMEM (no request). */
int ramdev_blk_req_parse(struct ramdev_blk *blk, struct ramdev_virtq_elem *elem,
			 unsigned qidx, struct blk_req **out);
/* req.c: best effort IOERR on a chain no request could be allocated for;
 * returns the used length. */
uint32_t ramdev_blk_elem_ioerr(struct ramdev_virtq_elem *elem);
/* req.c: write the status byte, count, recycle @req; returns its element
 * for the queue to push with *@written. */
struct ramdev_virtq_elem *ramdev_blk_req_finish(struct blk_req *req,
						uint32_t *written);
/* step.c: the first fallback of the current discard/write-zeroes range. */
enum blk_zero_method ramdev_blk_first_zero_method(const struct blk_req *req);

#endif /* RAMDEV_BLK_REQ_H */
