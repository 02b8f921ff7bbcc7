/* SPDX-License-Identifier: MIT */
/*
 * A fault-injecting virtio-blk engine, shared by tests/test_blk_inject.c
 * and fuzz/fuzz_blk.c: it runs each step with ramdev_blk_step_sync() unless
 * one of a few rules picks it: the n-th step of a kind then fails with an
 * errno, makes no progress, or runs with its iovec cut short (a real short
 * transfer).  It counts the system calls it makes, and records per request
 * head what it did, so a model knows which outcome the device owes each
 * request.
 */
#ifndef RAMDEV_TESTS_BLK_FAULT_ENGINE_H
#define RAMDEV_TESTS_BLK_FAULT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blk_priv.h"

#define FE_MAX_RULES 4
#define FE_HEADS 1024 /* request heads: the queues used are smaller */

/* What a request got (bits of fe->hit[head]). */
#define FE_HIT_ANY 1u /* some step was altered (retried, short, fallback) */
#define FE_HIT_ERR 2u /* a step failed for good: the request owes IOERR */
#define FE_HIT_WB 4u  /* a write-back error by blk.h's rules: FLUSH fails */

enum fe_action {
	FE_ERR,   /* the call fails with -err, nothing done */
	FE_ZERO,  /* a read or write returns 0, nothing done */
	FE_SHORT, /* a read or write runs on its first @bytes bytes only */
};

struct fe_rule {
	enum blk_step_kind kind;
	unsigned nth;   /* 1: the first step of @kind */
	unsigned times; /* consecutive steps from @nth */
	enum fe_action action;
	int err;        /* FE_ERR: a positive errno */
	size_t bytes;   /* FE_SHORT */
};

struct fault_engine_state {
	const struct ramdev_blk_engine_ops *real; /* the engine replaced */
	void *real_opaque;
	struct fe_rule rules[FE_MAX_RULES];
	unsigned nrules;
	unsigned seen[BLK_STEP_FALLOCATE + 1];  /* steps, by kind */
	unsigned calls[BLK_STEP_FALLOCATE + 1]; /* system calls made */
	uint8_t hit[FE_HEADS];
};

/* Replace @blk's engine (its state kept for fini) with the fault engine. */
void fe_install(struct fault_engine_state *fe, struct ramdev_blk *blk);

/* Forget the rules and what happened: a new input. */
void fe_reset(struct fault_engine_state *fe);

/* Add a rule: false (and nothing added) when FE_MAX_RULES are there. */
bool fe_add_rule(struct fault_engine_state *fe, const struct fe_rule *r);

/* The fault engine's state if @blk runs on it (fe_install), else NULL. */
struct fault_engine_state *fe_of(const struct ramdev_blk *blk);

#endif
