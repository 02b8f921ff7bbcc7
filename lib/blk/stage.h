/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk private header: staging of device-memory data through RAM
 * (stage.c).  A request meets it when it starts (begin), between windows
 * of a request bigger than its reservation (window, from step.c), and when
 * it finishes (end).  Not installed.
 */
#ifndef RAMDEV_BLK_STAGE_H
#define RAMDEV_BLK_STAGE_H

#include <stdbool.h>

struct blk_req;

/* Reserve staging space and build the first window; false: wait. */
bool ramdev_blk_stage_begin(struct blk_req *req);
/* Finish the current window, build the next one; false: the request failed. */
bool ramdev_blk_stage_window(struct blk_req *req);
/* The request finishes: copy the last window back (a successful IN; false
 * when that failed) and give the reservation back. */
bool ramdev_blk_stage_end(struct blk_req *req);
/* Give the reservation back only (a request the kernel may still use). */
void ramdev_blk_stage_release(struct blk_req *req);

#endif /* RAMDEV_BLK_STAGE_H */
