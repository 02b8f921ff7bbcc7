// SPDX-License-Identifier: MIT
/* A virtio-blk device on real split rings for the tests (blk_rig.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "blk_rig.h"

int blk_rig_new(struct blk_rig *r, const char *stem, uint64_t img_size,
		const struct test_guest_config *gc,
		const struct ramdev_virtq_config *qc,
		const struct vring_drv_config *dc, struct ramdev_blk_options *o)
{
	int ret;

	snprintf(r->path, sizeof(r->path), "/tmp/ramdev-test-%s-XXXXXX", stem);
	r->img = mkstemp(r->path);
	assert_true(r->img >= 0);
	assert_int_equal(0, ftruncate(r->img, (off_t)img_size));
	assert_int_equal(0, test_guest_new(&r->g, gc));
	assert_int_equal(0, ramdev_virtq_new(&r->vq, r->g->dma, qc));
	assert_int_equal(0, vring_drv_new(&r->drv, r->g->as, dc));
	o->fd = r->img;
	ret = ramdev_blk_open(&r->blk, o);
	if (ret == -ENOSYS || ret == -EPERM) {
		fprintf(stderr, "SKIP: io_uring unavailable: %s\n",
			strerror(-ret));
		r->blk = NULL;
		return 1;
	}
	assert_int_equal(0, ret);
	assert_int_equal(0, ramdev_blk_attach_queue(r->blk, 0, r->vq,
						    r->g->dma));
	return 0;
}

void blk_rig_free(struct blk_rig *r)
{
	if (r->blk)
		assert_int_equal(0, ramdev_blk_detach_queue(r->blk, 0));
	ramdev_blk_close(r->blk);
	vring_drv_free(r->drv);
	ramdev_virtq_free(r->vq);
	test_guest_free(r->g);
	close(r->img);
	unlink(r->path);
}
