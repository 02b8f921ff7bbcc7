/* SPDX-License-Identifier: MIT */
/*
 * A brute-force reference model of the region tree for tests/test_as.c.
 *
 * It mirrors every successful add/del and answers "which leaf owns this
 * address" by walking the tree directly (descending priority, first child
 * that both covers the address and resolves to a leaf wins), with no flat
 * view involved.  It also predicts the errno of each ramdev_region_add().
 */
#ifndef RAMDEV_TESTS_AS_MODEL_H
#define RAMDEV_TESTS_AS_MODEL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "ramdev/as.h"

#define MODEL_MAX_KIDS 64

struct mreg {
	struct ramdev_region *r;
	enum ramdev_region_kind kind;
	uint64_t last; /* size - 1 */
	struct mreg *target;
	uint64_t toff;
	struct mreg *parent;
	bool is_root;
	uint64_t off;
	int prio;
	struct mreg *kids[MODEL_MAX_KIDS];
	int nk;
};

static inline bool model_reaches(const struct mreg *from, const struct mreg *to)
{
	int i;

	if (from == to)
		return true;
	if (from->target && model_reaches(from->target, to))
		return true;
	for (i = 0; i < from->nk; i++)
		if (model_reaches(from->kids[i], to))
			return true;
	return false;
}

/* The errno ramdev_region_add(p, off, c, prio) must return. */
static inline int model_add_expect(const struct mreg *p, uint64_t off,
				   const struct mreg *c, int prio)
{
	uint64_t last;
	int i;

	if (p->kind != RAMDEV_REGION_CONTAINER || c->parent || c->is_root)
		return -EINVAL;
	if (model_reaches(c, p))
		return -ELOOP;
	if (__builtin_add_overflow(off, c->last, &last) || last > p->last)
		return -EOVERFLOW;
	if (p->nk == MODEL_MAX_KIDS)
		return -ENOSPC; /* the model's own limit: caller skips */
	for (i = 0; i < p->nk; i++) {
		const struct mreg *s = p->kids[i];

		if (s->prio == prio && !(last < s->off || off > s->off + s->last))
			return -EBUSY;
	}
	return 0;
}

static inline void model_add(struct mreg *p, uint64_t off, struct mreg *c,
			     int prio)
{
	int i, j;

	c->parent = p;
	c->off = off;
	c->prio = prio;
	for (i = 0; i < p->nk; i++)
		if (p->kids[i]->prio <= prio)
			break;
	for (j = p->nk; j > i; j--)
		p->kids[j] = p->kids[j - 1];
	p->kids[i] = c;
	p->nk++;
}

static inline void model_del(struct mreg *c)
{
	struct mreg *p = c->parent;
	int i, j;

	for (i = 0; i < p->nk; i++)
		if (p->kids[i] == c)
			break;
	for (j = i; j + 1 < p->nk; j++)
		p->kids[j] = p->kids[j + 1];
	p->nk--;
	c->parent = NULL;
}

/* The leaf owning offset @off of @m, and the offset inside it. */
static inline const struct mreg *model_owner(const struct mreg *m, uint64_t off,
					     uint64_t *leaf_off)
{
	int i;

	switch (m->kind) {
	case RAMDEV_REGION_ALIAS:
		return model_owner(m->target, m->toff + off, leaf_off);
	case RAMDEV_REGION_CONTAINER:
		for (i = 0; i < m->nk; i++) {
			const struct mreg *k = m->kids[i];
			const struct mreg *hit;

			if (off < k->off || off - k->off > k->last)
				continue;
			hit = model_owner(k, off - k->off, leaf_off);
			if (hit)
				return hit;
		}
		return NULL;
	default:
		*leaf_off = off;
		return m;
	}
}

#endif
