// SPDX-License-Identifier: MIT
/* The fault-injecting engine of test_blk_inject and fuzz_blk
 * (blk_fault_engine.h). */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "blk_fault_engine.h"

static const struct fe_rule *fe_match(const struct fault_engine_state *fe,
				      enum blk_step_kind kind, unsigned n)
{
	for (unsigned i = 0; i < fe->nrules; i++) {
		const struct fe_rule *r = &fe->rules[i];

		if (r->kind == kind && n >= r->nth && n < r->nth + r->times)
			return r;
	}
	return NULL;
}

/* The step with its iovec cut to @bytes: the kernel moves that much. */
static long fe_short(struct fault_engine_state *fe, struct ramdev_blk *blk,
		     const struct blk_step *st, size_t bytes)
{
	struct iovec iov[64];
	struct blk_step cut = *st;
	unsigned n = 0;

	for (unsigned i = 0; i < st->iovcnt && bytes && n < 64; i++, n++) {
		iov[n] = st->iov[i];
		if (iov[n].iov_len > bytes)
			iov[n].iov_len = bytes;
		bytes -= iov[n].iov_len;
	}
	cut.iov = iov;
	cut.iovcnt = n;
	fe->calls[st->kind]++;
	return ramdev_blk_step_sync(blk, &cut);
}

/*
 * Run one step, maybe altered; *hit gets what that means by blk.h's and
 * lib/blk/step.c's rules: EINTR is retried; a read or write error, or no
 * progress, fails the request; EIO on a write or fallocate and any
 * fdatasync error are write-back errors; fallocate EOPNOTSUPP falls back.
 */
static long fe_step(struct fault_engine_state *fe, struct ramdev_blk *blk,
		    const struct blk_step *st, uint8_t *hit)
{
	const struct fe_rule *r = fe_match(fe, st->kind, ++fe->seen[st->kind]);
	bool io = st->kind == BLK_STEP_READV || st->kind == BLK_STEP_WRITEV;
	int err;

	if (!r || (!io && (r->action == FE_ZERO || r->action == FE_SHORT))) {
		fe->calls[st->kind]++;
		return ramdev_blk_step_sync(blk, st);
	}
	*hit |= FE_HIT_ANY;
	if (r->action == FE_SHORT)
		return fe_short(fe, blk, st, r->bytes);
	if (r->action == FE_ZERO) {
		*hit |= FE_HIT_ERR;
		return 0;
	}
	err = r->err;
	if (err == EINTR)
		return -EINTR;
	if (st->kind == BLK_STEP_FALLOCATE && err == EOPNOTSUPP)
		return -EOPNOTSUPP;
	*hit |= FE_HIT_ERR;
	if (st->kind == BLK_STEP_FDATASYNC ||
	    (err == EIO && st->kind != BLK_STEP_READV))
		*hit |= FE_HIT_WB;
	return -err;
}

static void fe_submit(void *opaque, struct ramdev_blk *blk, struct blk_req *req)
{
	struct fault_engine_state *fe = opaque;
	unsigned head = req->elem->head % FE_HEADS;
	struct blk_step st;

	/* Bounded: a rule alters at most a few consecutive steps. */
	for (unsigned guard = 0; guard < 100000; guard++) {
		ramdev_blk_req_next(req, &st);
		if (st.kind == BLK_STEP_DONE)
			break;
		ramdev_blk_req_result(req, &st,
				      fe_step(fe, blk, &st, &fe->hit[head]));
	}
	ramdev_blk_req_done(req);
}

static int fe_init(struct ramdev_blk *b, void **opaque)
{
	(void)b;
	(void)opaque;
	return 0;
}

static void fe_fini(void *opaque, struct ramdev_blk *b)
{
	struct fault_engine_state *fe = opaque;

	fe->real->fini(fe->real_opaque, b);
}

static int fe_kick(void *opaque, struct ramdev_blk *b)
{
	(void)opaque;
	(void)b;
	return 0;
}

static int fe_reap(void *opaque, struct ramdev_blk *b, int t)
{
	(void)opaque;
	(void)b;
	(void)t;
	return 0;
}

static bool fe_cancel(void *opaque, struct ramdev_blk *b)
{
	fe_fini(opaque, b);
	return true;
}

static const struct ramdev_blk_engine_ops fe_ops = {
	.name = "faults", .init = fe_init, .fini = fe_fini,
	.submit = fe_submit, .kick = fe_kick, .reap = fe_reap,
	.cancel = fe_cancel,
};

void fe_install(struct fault_engine_state *fe, struct ramdev_blk *blk)
{
	fe->real = blk->engine;
	fe->real_opaque = blk->engine_opaque;
	blk->engine = &fe_ops;
	blk->engine_opaque = fe;
}

void fe_reset(struct fault_engine_state *fe)
{
	fe->nrules = 0;
	memset(fe->seen, 0, sizeof(fe->seen));
	memset(fe->calls, 0, sizeof(fe->calls));
	memset(fe->hit, 0, sizeof(fe->hit));
}

bool fe_add_rule(struct fault_engine_state *fe, const struct fe_rule *r)
{
	if (fe->nrules >= FE_MAX_RULES)
		return false;
	fe->rules[fe->nrules++] = *r;
	return true;
}

struct fault_engine_state *fe_of(const struct ramdev_blk *blk)
{
	return blk && blk->engine == &fe_ops ? blk->engine_opaque : NULL;
}
