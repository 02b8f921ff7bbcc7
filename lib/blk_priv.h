/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk internals: kept only so that code written against the old
 * single private header (tests, fuzz targets on other branches) still
 * compiles.  New code includes what it uses from lib/blk/: dev.h (the
 * device, its queues and log), req.h (the request), seg.h (byte ranges
 * over a chain), stage.h (staging), engine.h (the engine interface).
 * Not installed.
 */
#ifndef RAMDEV_BLK_PRIV_H
#define RAMDEV_BLK_PRIV_H

#include "blk/dev.h"
#include "blk/engine.h"
#include "blk/req.h"
#include "blk/seg.h"
#include "blk/stage.h"

#endif /* RAMDEV_BLK_PRIV_H */
