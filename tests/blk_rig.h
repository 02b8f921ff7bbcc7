/* SPDX-License-Identifier: MIT */
/*
 * A virtio-blk device on real split rings, for the tests that drive it
 * through a guest-side driver (test_blk_ring.c, test_blk_width.c): an image
 * file, a test guest, a virtqueue and its driver, the device with the
 * queue attached.
 */
#ifndef RAMDEV_TESTS_BLK_RIG_H
#define RAMDEV_TESTS_BLK_RIG_H

#include <stdint.h>

#include "ramdev/blk.h"
#include "ramdev/virtq.h"
#include "test_guest.h"
#include "vring_driver.h"

struct blk_rig {
	char path[64];
	int img;
	struct test_guest *g;
	struct ramdev_virtq *vq;
	struct vring_drv *drv;
	struct ramdev_blk *blk;
};

/*
 * Make it all: an image of @img_size bytes (/tmp/ramdev-test-@stem-*), the
 * guest @gc, the queue @qc and its driver @dc, the device @o (its fd is
 * the image's) with the queue attached.  Asserts on failure; returns 0, or
 * 1 when @o asks for io_uring and the kernel refuses it (r->blk NULL: the
 * tests skip).
 */
int blk_rig_new(struct blk_rig *r, const char *stem, uint64_t img_size,
		const struct test_guest_config *gc,
		const struct ramdev_virtq_config *qc,
		const struct vring_drv_config *dc, struct ramdev_blk_options *o);

/* Undo blk_rig_new (the queue detached first); the image file removed. */
void blk_rig_free(struct blk_rig *r);

#endif
