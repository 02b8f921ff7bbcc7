/* SPDX-License-Identifier: MIT */
/*
 * Flattening the region tree into a view: sorted, non-overlapping ranges
 * (start, inclusive last), each naming the terminal region that owns it.
 *
 * The rendering follows QEMU's flatview: a container's children are visited
 * in descending priority, and a leaf only fills the addresses no range
 * claimed yet, so a higher-priority child hides lower ones where they
 * overlap.  A container's own space is claimed by nothing, so it is
 * transparent: what its children leave free falls through to lower-priority
 * siblings of the container.  Aliases render their target through the
 * window; children are clipped to what their container shows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "as_priv.h"

static int view_reserve(struct as_view *v)
{
	struct as_range *r;
	size_t cap;

	if (v->n < v->cap)
		return 0;
	if (__builtin_mul_overflow(v->cap ? v->cap : 8, 2, &cap) ||
	    cap > SIZE_MAX / sizeof(*r))
		return -ENOMEM;
	r = realloc(v->r, cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	v->r = r;
	v->cap = cap;
	return 0;
}

/* Index of the first range whose last >= @gpa (n if none). */
static size_t view_lower(const struct as_view *v, uint64_t gpa)
{
	size_t lo = 0, hi = v->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->r[mid].last < gpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int view_insert(struct as_view *v, size_t at, uint64_t start,
		       uint64_t last, struct ramdev_region *mr, uint64_t off)
{
	int rc = view_reserve(v);

	if (rc)
		return rc;
	memmove(&v->r[at + 1], &v->r[at], (v->n - at) * sizeof(*v->r));
	v->r[at] = (struct as_range){ .start = start, .last = last, .mr = mr,
				       .offset = off };
	v->n++;
	return 0;
}

/* Give the leaf @mr every still-free address of guest window [ws, wl],
 * where ws shows offset @ro of @mr. */
static int render_leaf(struct as_view *v, struct ramdev_region *mr,
		       uint64_t ws, uint64_t wl, uint64_t ro)
{
	uint64_t cur = ws;
	size_t i = view_lower(v, ws);
	int rc;

	for (;;) {
		uint64_t gap_last;

		if (i < v->n && v->r[i].start <= cur) {
			/* Claimed by a higher-priority range: skip it. */
			if (v->r[i].last >= wl)
				return 0;
			cur = v->r[i].last + 1;
			i++;
			continue;
		}
		gap_last = (i < v->n && v->r[i].start <= wl) ?
				   v->r[i].start - 1 : wl;
		rc = view_insert(v, i, cur, gap_last, mr, ro + (cur - ws));
		if (rc || gap_last == wl)
			return rc;
		cur = gap_last + 1;
		i++; /* now the range that ended the gap */
	}
}

/* Render region @mr whose offset @ro appears at guest address @ws, visible
 * up to guest address @wl.  Invariant: ro + (wl - ws) <= mr->last, so no
 * sum below can wrap. */
static int render(struct as_view *v, struct ramdev_region *mr, uint64_t ws,
		  uint64_t wl, uint64_t ro)
{
	uint64_t rl = ro + (wl - ws); /* last visible offset of mr */
	size_t i;
	int rc;

	switch (mr->kind) {
	case RAMDEV_REGION_ALIAS:
		return render(v, mr->target, ws, wl, mr->target_offset + ro);
	case RAMDEV_REGION_CONTAINER:
		for (i = 0; i < mr->nkids; i++) {
			struct ramdev_region *k = mr->kids[i];
			uint64_t ks = k->offset, kl = k->offset + k->last;
			uint64_t is = ks > ro ? ks : ro;
			uint64_t il = kl < rl ? kl : rl;

			if (is > il)
				continue;
			rc = render(v, k, ws + (is - ro), ws + (il - ro),
				    is - ks);
			if (rc)
				return rc;
		}
		return 0;
	default:
		return render_leaf(v, mr, ws, wl, ro);
	}
}

/* Merge neighbours that continue the same region (QEMU's simplify), so a
 * translation reports the longest contiguous run. */
static void view_simplify(struct as_view *v)
{
	size_t i, o = 0;

	for (i = 0; i < v->n; i++) {
		struct as_range *p = o ? &v->r[o - 1] : NULL;
		struct as_range *c = &v->r[i];

		if (p && p->mr == c->mr && p->last + 1 == c->start &&
		    p->offset + (p->last - p->start) + 1 == c->offset)
			p->last = c->last;
		else
			v->r[o++] = *c;
	}
	v->n = o;
}

/* STYLE rule 11: a view is sorted and non-overlapping before it is
 * published; anything else is a bug in the renderer. */
static bool view_valid(const struct as_view *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		const struct as_range *c = &v->r[i];

		if (c->start > c->last || c->offset + (c->last - c->start) >
						  c->mr->last)
			return false;
		if (i && v->r[i - 1].last >= c->start)
			return false;
	}
	return true;
}

int ramdev_as_view_build(struct ramdev_as *as, struct as_view **out)
{
	struct as_view *v = calloc(1, sizeof(*v));
	size_t i;
	int rc;

	if (!v)
		return -ENOMEM;
	rc = render(v, as->root, 0, UINT64_MAX, 0);
	if (rc) {
		free(v->r);
		free(v);
		return rc;
	}
	view_simplify(v);
	if (!view_valid(v))
		abort(); /* internal invariant, not reachable from input */
	v->keys = malloc((v->n + AS_VIEW_PAD) * sizeof(*v->keys));
	if (!v->keys) {
		free(v->r);
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < v->n; i++) {
		struct as_range *c = &v->r[i];

		c->kind = c->mr->kind;
		c->host = c->mr->host ? c->mr->host + c->offset : NULL;
		v->keys[i] = c->last;
		ramdev_region_ref(c->mr);
	}
	for (i = 0; i < AS_VIEW_PAD; i++)
		v->keys[v->n + i] = UINT64_MAX;
	*out = v;
	return 0;
}

/* Free a view that readers can no longer reach, dropping its references. */
void ramdev_as_view_drop(struct as_view *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		ramdev_region_unref(v->r[i].mr);
	free(v->keys);
	free(v->r);
	free(v);
}

/*
 * Index of the first range whose last >= @gpa (n if none), for readers.
 * An 8-ary search without branches on the data: each step compares @gpa
 * with 7 evenly spaced keys (independent loads, so they overlap) and keeps
 * the chunk the count points at; 1024 ranges take 3 steps and a final
 * block of 8, instead of 10 dependent, unpredictable binary-search steps.
 *
 * Invariant: the answer is in [k, k + n].  With step = n / 8 and c of the
 * pivots k[j * step - 1] (j = 1..7) below @gpa, every key of the first c
 * chunks is below it and (for c < 7) the last key of chunk c + 1 is not,
 * so the answer is in [k + c * step, k + (c + 1) * step]; for c = 7 it is
 * in [k + 7 * step, k + n].  The final count may read past the range:
 * those keys are >= @gpa (they follow the answer) or padding (UINT64_MAX,
 * never below anything), so they do not count.
 */
static size_t view_search(const struct as_view *v, uint64_t gpa)
{
	const uint64_t *k = v->keys;
	size_t n = v->n, c;

	while (n > AS_VIEW_PAD) {
		size_t step = n / 8;

		c = 0;
#pragma GCC unroll 8
		for (size_t j = 1; j < 8; j++)
			c += k[j * step - 1] < gpa;
		k += c * step;
		n = c < 7 ? step : n - 7 * step;
	}
	c = 0;
#pragma GCC unroll 8
	for (size_t j = 0; j < AS_VIEW_PAD; j++)
		c += k[j] < gpa;
	return (size_t)(k - v->keys) + c;
}

/* The range containing @gpa, or NULL and *hole_last = last address of the
 * hole around @gpa.  O(log n), no branch on the keys. */
const struct as_range *ramdev_as_view_find(const struct as_view *v,
					   uint64_t gpa, uint64_t *hole_last)
{
	size_t i = v ? view_search(v, gpa) : 0;

	if (v && i < v->n && v->r[i].start <= gpa)
		return &v->r[i];
	*hole_last = (v && i < v->n) ? v->r[i].start - 1 : UINT64_MAX;
	return NULL;
}

/* Where @gpa (in @r) lands, for a range of the caller's ending at @last. */
static inline void range_xlate(const struct as_range *r, uint64_t gpa,
			       uint64_t last, struct ramdev_xlate *out)
{
	out->region = r->mr;
	out->kind = r->kind;
	out->offset = r->offset + (gpa - r->start);
	out->len = as_min_u64(r->last, last) - gpa + 1;
	out->host = r->host ? r->host + (gpa - r->start) : NULL;
}

/* ramdev_as_view_xlate, and *@rp = the range found (NULL for a hole). */
static int view_xlate(const struct as_view *v, uint64_t gpa, uint64_t len,
		      struct ramdev_xlate *out, const struct as_range **rp)
{
	const struct as_range *r;
	uint64_t last, hole_last;

	*rp = NULL;
	if (len == 0 || !out)
		return -EINVAL;
	if (!as_range_last(gpa, len, &last))
		return -EOVERFLOW;
	r = ramdev_as_view_find(v, gpa, &hole_last);
	if (!r) {
		*out = (struct ramdev_xlate){
			.len = as_min_u64(hole_last, last) - gpa + 1,
		};
		return -EFAULT;
	}
	range_xlate(r, gpa, last, out);
	*rp = r;
	return 0;
}

int ramdev_as_view_xlate(const struct as_view *v, uint64_t gpa, uint64_t len,
			 struct ramdev_xlate *out)
{
	const struct as_range *r;

	return view_xlate(v, gpa, len, out, &r);
}

int ramdev_as_translate(struct ramdev_as *as, uint64_t gpa, uint64_t len,
			struct ramdev_xlate *out)
{
	if (!as)
		return -EINVAL;
	return ramdev_as_view_xlate(AS_RCU_DEREF(as->view), gpa, len, out);
}

int ramdev_as_translate_search(struct ramdev_as *as, uint64_t gpa,
			       uint64_t len, struct ramdev_xlate *out,
			       struct ramdev_as_hint *h)
{
	const struct as_range *r;
	const struct as_view *v;
	int ret;

	h->valid = false;
	if (!as)
		return -EINVAL;
	v = AS_RCU_DEREF(as->view);
	ret = view_xlate(v, gpa, len, out, &r);
	if (ret == 0)
		*h = (struct ramdev_as_hint){
			.valid = true, .view_slot = &as->view, .view = v,
			.kind = r->kind, .start = r->start,
			.last = r->last, .region = r->mr, .offset = r->offset,
			.host = r->host,
		};
	return ret;
}
