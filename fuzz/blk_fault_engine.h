/* SPDX-License-Identifier: MIT */
/*
 * A virtio-blk engine for fuzz_blk that runs each step with
 * ramdev_blk_step_sync() unless one of a few rules, decoded from the fuzz
 * input, picks it: the n-th step of a kind then fails with an errno, makes
 * no progress, or runs with its iovec cut short (a real short transfer).
 * It records, per request head, what it did, so the model knows which
 * outcome the device owes each request.
 */
#ifndef RAMDEV_FUZZ_BLK_FAULT_ENGINE_H
#define RAMDEV_FUZZ_BLK_FAULT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blk_priv.h"

#define FE_MAX_RULES 4
#define FE_HEADS 1024 /* request heads: the fuzzer's queue is smaller */

/* What a request got (bits of fe->hit[head]). */
#define FE_HIT_ANY 1u /* some step was altered (retried, short, fallback) */
#define FE_HIT_ERR 2u /* a step failed for good: the request owes IOERR */
#define FE_HIT_WB 4u  /* a write-back error by blk.h's rules: FLUSH fails */

enum fe_action { FE_EIO, FE_ENOSPC, FE_EINTR, FE_EOPNOTSUPP, FE_ZERO,
		 FE_SHORT, FE_ACTIONS };

struct fe_rule {
	enum blk_step_kind kind;
	unsigned nth;   /* 1: the first step of @kind in the input */
	unsigned times; /* consecutive steps from @nth */
	enum fe_action action;
	size_t bytes;   /* FE_SHORT */
};

struct fault_engine_state {
	const struct ramdev_blk_engine_ops *real; /* the engine replaced */
	void *real_opaque;
	struct fe_rule rules[FE_MAX_RULES];
	unsigned nrules;
	unsigned seen[BLK_STEP_FALLOCATE + 1];
	uint8_t hit[FE_HEADS];
};

/* Replace @blk's engine (its state kept for fini) with the fault engine. */
void fe_install(struct fault_engine_state *fe, struct ramdev_blk *blk);

/* Forget the rules and what happened: a new input. */
void fe_reset(struct fault_engine_state *fe);

/* Add a rule; ignored when full. */
void fe_add_rule(struct fault_engine_state *fe, const struct fe_rule *r);

#endif
