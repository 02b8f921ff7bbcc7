/* SPDX-License-Identifier: MIT */
/*
 * ramdev vhost-user: the back-end side of the vhost-user protocol (QEMU's
 * docs/interop/vhost-user.rst) for a virtio-blk device (blk.h).
 *
 * Messages in, address-space and queue changes out: the front end's memory
 * table becomes RAM or RAM-device regions of an address space (as.h), each
 * vring a virtqueue (virtq.h) attached to the blk device.  The caller owns
 * the sockets and the event loop: it accepts a connection, hands it to
 * ramdev_vhost_attach(), calls ramdev_vhost_handle() when the socket is
 * readable, ramdev_vhost_kick() when a kick descriptor is (the library
 * tells which through the watch callback), ramdev_vhost_complete() when
 * ramdev_blk_event_fd() is, and ramdev_vhost_detach() when the connection
 * ends.  The object then serves the next connection.
 *
 * Every message is validated before it changes anything (enum
 * ramdev_vhost_err: one value per rule); a message that breaks a rule is
 * logged with the message name and the values in hex and rejected (with
 * REPLY_ACK, the front end gets the failure), or, when the stream itself
 * is broken (bad header, truncated message), the connection must be
 * dropped.  Nothing the peer sends can crash the process: regions are
 * checked against their fd's size before they are mapped (no SIGBUS).
 *
 * Device memory: a region is mapped as RAM-device memory (RAMDEV_REGION_RAMD:
 * accessed only through the access core, never handed to the kernel) when
 * it lies in one of the ranges of ramdev_vhost_options.devmem, or when its
 * fd is not ordinary memory (a char device such as a vfio or /dev/mem-like
 * fd, or a file on sysfs such as a PCI resourceN).  A region partly inside
 * such a range is split: the parts inside are RAMD, the rest RAM.
 *
 * Threads: everything runs on the caller's one thread (ramdev_blk is
 * driven from one thread at a time).
 */
#ifndef RAMDEV_VHOST_H
#define RAMDEV_VHOST_H

#include <stdbool.h>
#include <stdint.h>

#include "ramdev/as.h"
#include "ramdev/blk.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ramdev_vhost;

/** One value per validation rule (STYLE.md rule 5); ramdev_vhost_strerror(). */
enum ramdev_vhost_err {
	RAMDEV_VHOST_OK = 0,
	RAMDEV_VHOST_HDR_SHORT,       /* header cut short (peer closed): drop */
	RAMDEV_VHOST_VERSION,         /* header flags version is not 1: drop */
	RAMDEV_VHOST_SIZE_MAX,        /* payload size above the maximum: drop */
	RAMDEV_VHOST_PAYLOAD_SHORT,   /* payload cut short (peer closed): drop */
	RAMDEV_VHOST_UNKNOWN,         /* request the back end does not know */
	RAMDEV_VHOST_MSG_SIZE,        /* payload size wrong for the request */
	RAMDEV_VHOST_FDS_EXTRA,       /* more fds than the request carries */
	RAMDEV_VHOST_FDS_MISSING,     /* fewer fds than the request carries */
	RAMDEV_VHOST_FEATURES,        /* feature bits that were not offered */
	RAMDEV_VHOST_VRING_INDEX,     /* vring index >= number of queues */
	RAMDEV_VHOST_VRING_NUM,       /* size not a power of two <= queue-size */
	RAMDEV_VHOST_VRING_ADDR,      /* ring address not in the memory table */
	RAMDEV_VHOST_VRING_STARTED,   /* change to a ring that is running */
	RAMDEV_VHOST_VRING_NOT_READY, /* start before size/addresses/memory */
	RAMDEV_VHOST_REGION_COUNT,    /* too many regions (8, or 509 slots) */
	RAMDEV_VHOST_REGION_ZERO,     /* region of size 0 */
	RAMDEV_VHOST_REGION_WRAP,     /* address + size wraps past 2^64 */
	RAMDEV_VHOST_REGION_OVERLAP,  /* guest ranges of two regions overlap */
	RAMDEV_VHOST_REGION_FD_SHORT, /* fd shorter than mmap_offset + size */
	RAMDEV_VHOST_REGION_FD_KIND,  /* fd cannot be memory (socket, pipe...) */
	RAMDEV_VHOST_REGION_MAP,      /* mmap or address-space insert failed */
	RAMDEV_VHOST_REGION_UNKNOWN,  /* REM_MEM_REG of a region not mapped */
	RAMDEV_VHOST_CONFIG_RANGE,    /* config offset + size beyond 256 */
	RAMDEV_VHOST_INFLIGHT,        /* bad inflight parameters or fd */
	RAMDEV_VHOST_INFLIGHT_LAYOUT, /* inflight region contents inconsistent */
	RAMDEV_VHOST_NOMEM,           /* host resources exhausted */
	RAMDEV_VHOST_ERR_COUNT
};

/**
 * ramdev_vhost_strerror - a short description of @err.
 * Returns: a static string, never NULL ("unknown error" out of range).
 * Context: any thread.
 */
RAMDEV_EXPORT const char *ramdev_vhost_strerror(enum ramdev_vhost_err err);

/** A guest-physical range the operator declares device memory. */
struct ramdev_vhost_devmem {
	uint64_t gpa;
	uint64_t size;
};

/**
 * struct ramdev_vhost_options - what ramdev_vhost_new() serves.
 * @blk:        the device (not owned; it outlives the vhost object).
 * @queue_size: largest vring size accepted (SET_VRING_NUM); 0: 1024.
 * @devmem:     @ndevmem device-memory ranges (copied).
 * @devmem_dma_width: the DMA width (ramdev_region_set_dma_width()) of every
 *              RAM-device region the back end makes, from @devmem or from
 *              the kind of a region's fd: a power of two 1..64; 0: the
 *              default, 8.
 * @log_fn:     messages (one line each); NULL: warnings to stderr.
 * @watch:      called with @add true when @fd becomes queue @queue's kick
 *              descriptor (poll it for reading and call ramdev_vhost_kick()),
 *              with false just before the library closes it.
 */
struct ramdev_vhost_options {
	struct ramdev_blk *blk;
	unsigned queue_size;
	const struct ramdev_vhost_devmem *devmem;
	unsigned ndevmem;
	ramdev_log_fn *log_fn;
	void *log_opaque;
	void (*watch)(void *opaque, int fd, unsigned queue, bool add);
	void *watch_opaque;
	unsigned devmem_dma_width;
};

/**
 * ramdev_vhost_new - a back end for @opt->blk.
 * Returns: 0, -EINVAL (NULL, no blk, a devmem_dma_width that is not 0 or a
 * power of two up to 64), -ENOMEM.  Free with
 * ramdev_vhost_free().
 * Context: the thread that will drive the object.
 */
RAMDEV_EXPORT int ramdev_vhost_new(struct ramdev_vhost **out,
				   const struct ramdev_vhost_options *opt);

/**
 * ramdev_vhost_free - detach (see ramdev_vhost_detach()) and free.
 * NULL is a no-op.  The blk device and the socket stay the caller's.
 * Context: the driving thread; may block (drains the device).
 */
RAMDEV_EXPORT void ramdev_vhost_free(struct ramdev_vhost *v);

/**
 * ramdev_vhost_attach - serve the front end on connected socket @sock
 * (stays the caller's: close it after ramdev_vhost_detach()).
 * Returns: 0, -EINVAL (NULL, negative fd), -EBUSY (still attached).
 * Context: the driving thread.
 */
RAMDEV_EXPORT int ramdev_vhost_attach(struct ramdev_vhost *v, int sock);

/**
 * ramdev_vhost_handle - read one message from the socket and act on it.
 * Call when the socket is readable; it blocks until the message is whole
 * (give the socket a receive timeout).
 * Returns: 0 (handled, or rejected by a rule: see
 * ramdev_vhost_last_error()); -ECONNRESET (the peer closed the
 * connection between messages); -EPROTO (the stream is broken: the error
 * was logged, detach and close); -EINVAL (not attached).
 * Context: the driving thread; blocks while a message is incomplete, and
 * while GET_VRING_BASE drains a ring.
 */
RAMDEV_EXPORT int ramdev_vhost_handle(struct ramdev_vhost *v);

/**
 * ramdev_vhost_last_error - the rule the last message broke.
 * Returns: that rule, RAMDEV_VHOST_OK when the last message passed (or
 * for NULL).
 * Context: the driving thread.
 */
RAMDEV_EXPORT enum ramdev_vhost_err
ramdev_vhost_last_error(const struct ramdev_vhost *v);

/**
 * ramdev_vhost_detach - the connection is gone: stop every ring (requests
 * in flight are finished and pushed), reset the device, unmap the memory
 * table, close every descriptor the front end passed.  No-op if detached.
 * Context: may block (drains the device).
 */
RAMDEV_EXPORT void ramdev_vhost_detach(struct ramdev_vhost *v);

/**
 * ramdev_vhost_kick - queue @queue's kick descriptor is readable: consume
 * it and process the ring if it runs.
 * Returns: requests popped (>= 0); -EINVAL (bad queue); -EIO (the queue or
 * the device is broken; logged).
 * Context: the driving thread.
 */
RAMDEV_EXPORT int ramdev_vhost_kick(struct ramdev_vhost *v, unsigned queue);

/**
 * ramdev_vhost_complete - ramdev_blk_event_fd() is readable: finish the
 * requests whose I/O completed and signal the call descriptors.
 * Returns: requests pushed; -EIO (the engine failed: see
 * ramdev_blk_complete()); -EINVAL (NULL).
 * Context: the driving thread.
 */
RAMDEV_EXPORT int ramdev_vhost_complete(struct ramdev_vhost *v);

/**
 * ramdev_vhost_quiesce - stop taking requests (kicks are consumed and
 * ignored from now on), finish every request in flight and flush the image.
 * Returns: 0, -EIO (the flush failed or requests could not finish),
 * -EINVAL (NULL).
 * Context: the driving thread; may block.
 */
RAMDEV_EXPORT int ramdev_vhost_quiesce(struct ramdev_vhost *v);

/**
 * ramdev_vhost_as - the address space the memory table is mapped into.
 * Returns: the object's address space (owned by it), NULL for NULL.
 * Context: any thread; regions change as messages arrive (RCU).
 */
RAMDEV_EXPORT struct ramdev_as *ramdev_vhost_as(struct ramdev_vhost *v);

/* vhost-user request codes this layer knows (vhost-user.rst). */
#define RAMDEV_VHOST_USER_MAX_REQUEST 41u

/**
 * ramdev_vhost_request_name - the name of a vhost-user request code.
 * Returns: a static string ("GET_FEATURES" & co.), "?" when unknown.
 * Context: any thread.
 */
RAMDEV_EXPORT const char *ramdev_vhost_request_name(uint32_t request);

#ifdef __cplusplus
}
#endif

#endif /* RAMDEV_VHOST_H */
