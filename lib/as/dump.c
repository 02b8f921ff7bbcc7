/* SPDX-License-Identifier: MIT */
/*
 * ramdev_as_dump: the region tree in the layout of QEMU's `info mtree`,
 * absolute guest addresses, children in the order the view renders them
 * (descending priority).  Aliases show their target and the target window.
 */
#include <errno.h>
#include <inttypes.h>

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

/* @base is the guest address of @r's offset 0.  Placement checks made
 * base + r->last fit in 64 bits. */
static int dump_region(FILE *f, const struct ramdev_region *r, uint64_t base,
		       unsigned depth)
{
	size_t i;
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
	for (i = 0; i < r->nkids; i++) {
		const struct ramdev_region *k = r->kids[i];

		rc = dump_region(f, k, base + k->offset, depth + 1);
		if (rc)
			return rc;
	}
	return 0;
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
