/* SPDX-License-Identifier: MIT */
/*
 * ramdev_as_dump: the region tree in the layout of QEMU's `info mtree`,
 * absolute guest addresses, children
 * ordered as QEMU prints them (by address, then descending priority).  Aliases show their target and the target window.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "as_priv.h"

static const char *dump_kind(enum ramdev_region_kind k)
{
	switch (k) {
	case RAMDEV_REGION_RAM: return "ram";
	case RAMDEV_REGION_RAMD: return "ramd";
	case RAMDEV_REGION_MMIO: return "i/o";
	case RAMDEV_REGION_CONTAINER: return "container";
	default: return "alias";
	}
}

static int dump_region(FILE *f, const struct ramdev_region *r, uint64_t base,
		       unsigned depth);

/* QEMU's order: by address, then by descending priority. */
static int dump_cmp(const void *a, const void *b)
{
	const struct ramdev_region *x = *(struct ramdev_region *const *)a;
	const struct ramdev_region *y = *(struct ramdev_region *const *)b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return (x->priority < y->priority) - (x->priority > y->priority);
}

static int dump_kids(FILE *f, const struct ramdev_region *r, uint64_t base,
		     unsigned depth)
{
	struct ramdev_region **k = NULL;
	size_t i;
	int rc = 0;

	if (r->nkids == 0)
		return 0;
	/* Without memory for a sorted copy, print in priority order. */
	k = malloc(r->nkids * sizeof(*k));
	if (k) {
		memcpy(k, r->kids, r->nkids * sizeof(*k));
		qsort(k, r->nkids, sizeof(*k), dump_cmp);
	}
	for (i = 0; i < r->nkids && rc == 0; i++) {
		const struct ramdev_region *c = k ? k[i] : r->kids[i];

		rc = dump_region(f, c, base + c->offset, depth + 1);
	}
	free(k);
	return rc;
}

/* @base is the guest address of @r's offset 0.  Placement checks made
 * base + r->last fit in 64 bits. */
static int dump_region(FILE *f, const struct ramdev_region *r, uint64_t base,
		       unsigned depth)
{
	int rc;

	rc = fprintf(f, "%*s%016" PRIx64 "-%016" PRIx64 " (prio %d, %s): %s",
		     (int)(2 * depth), "", base, base + r->last, r->priority,
		     dump_kind(r->kind), r->name);
	if (rc >= 0 && r->kind == RAMDEV_REGION_ALIAS)
		rc = fprintf(f, " @%s %016" PRIx64 "-%016" PRIx64,
			     r->target->name, r->target_offset,
			     r->target_offset + r->last);
	if (rc >= 0)
		rc = fputc('\n', f);
	if (rc < 0)
		return -EIO;
	return dump_kids(f, r, base, depth);
}

int ramdev_as_dump(struct ramdev_as *as, FILE *f)
{
	int rc;

	if (!as || !f)
		return -EINVAL;
	pthread_mutex_lock(&as_tree_lock);
	rc = fprintf(f, "address-space: %s\n", as->name) < 0 ? -EIO : 0;
	if (rc == 0)
		rc = dump_region(f, as->root, 0, 1);
	pthread_mutex_unlock(&as_tree_lock);
	if (rc == 0 && (fflush(f) || ferror(f)))
		rc = -EIO;
	return rc;
}
