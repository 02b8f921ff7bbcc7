/* SPDX-License-Identifier: MIT */
/*
 * Shared by the blk tests: a fake queue fed with hand-built chains, a
 * checking engine that fails the test when a pointer into device memory
 * reaches the kernel, the fixture (an image, RAM and DEV buffers, a device
 * on them) and chain builders.
 */
#ifndef RAMDEV_TESTS_BLK_FAKE_H
#define RAMDEV_TESTS_BLK_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The device (its fields, queue ops), the engine interface, the request. */
#include "blk/dev.h"
#include "blk/engine.h"
#include "blk/req.h"

#define IMG_SIZE (4u << 20)
#define SECTORS (IMG_SIZE / 512u)
#define MEM_SIZE (1u << 20)
#define MAX_ELEMS 128u

struct piece {
	uint8_t *p;
	size_t len;
	enum ramdev_seg_kind kind;
};

struct fakeq {
	struct ramdev_virtq_elem *avail[MAX_ELEMS];
	unsigned navail, next;
	int pop_err;
	struct {
		uint16_t head;
		uint32_t written;
	} used[MAX_ELEMS];
	unsigned nused;
};

/* A fault-injecting engine (use_fault_engine): steps run with pread & co. */
struct fault_engine {
	int fail_kind;        /* enum blk_step_kind to fail */
	int fail_err;         /* with this -errno */
	unsigned fail_count;  /* this many more times */
	unsigned steps[BLK_STEP_FALLOCATE + 1]; /* system calls made, by kind */
	bool hold;            /* submit keeps requests; reap runs them */
	unsigned reap_fails;  /* reaps that return -EIO (UINT_MAX: all) */
	unsigned reap_batch;  /* requests a reap finishes (0: all) */
	bool stuck;           /* reap finishes nothing */
	unsigned cancels;     /* cancel calls */
	bool cancel_unsafe;   /* cancel says the kernel may still use buffers */
	struct blk_req *held[MAX_ELEMS];
	unsigned nheld;
};

struct fix {
	enum ramdev_blk_engine engine;
	bool offload;      /* io_uring: options.uring_offload_writes */
	bool async_writes; /* writes stay in flight after process() */
	char path[64];
	int img;
	struct ramdev_blk *blk;
	struct fakeq q;
	uint8_t *ram, *dev;
	uint64_t notify;
	const struct ramdev_blk_engine_ops *real; /* under the checking engine */
	void *real_opaque;                        /* its state */
	unsigned kernel_iovs;                     /* iovecs the kernel saw */
	struct fault_engine fe;
};

extern const struct ramdev_blk_queue_ops fq_ops;

int teardown(void **state);
struct fix *get(void **state);
void reopen(struct fix *f, struct ramdev_blk_options *o);
void queue_elem(struct fix *f, const struct piece *out, unsigned nout,
		       const struct piece *in, unsigned nin);
struct piece hdr(uint8_t *h, uint32_t type, uint64_t sector);
struct piece ram(uint8_t *p, size_t len);
struct piece dev(uint8_t *p, size_t len);
struct piece status(struct fix *f);
void run(struct fix *f);
void use_fault_engine(struct fix *f);
void rw(struct fix *f, uint32_t type, uint64_t sector, struct piece data);
void dwz(struct fix *f, uint32_t type, uint64_t sector, uint32_t n,
		uint32_t flags);
void fill(uint8_t *p, size_t n, unsigned seed);
void expect(struct fix *f, unsigned head, uint8_t st,
		   enum ramdev_blk_err err);
int setup_sync(void **state);
uint8_t *status_of(struct fix *f, unsigned head);
uint8_t *hdr_buf(struct fix *f);
int setup_uring(void **state);
int setup_uring_inline(void **state);

/* The ring tests (test_blk_ring.c): 0 or the number of failures. */
int test_blk_ring_run(void);
/* The fault tests (test_blk_faults.c): 0 or the number of failures. */
int test_blk_faults_run(void);
/* The staging tests (test_blk_stage.c). */
int test_blk_stage_run(void);
/* Issue 12's tests (test_blk_more.c). */
int test_blk_more_run(void);
/* Request merging (test_blk_merge.c). */
int test_blk_merge_run(void);

#endif
