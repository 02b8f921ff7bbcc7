/* SPDX-License-Identifier: MIT */
/*
 * ramdev virtio-blk: the device side of a virtio block device (VIRTIO 1.2
 * section 5.2) on a raw image file or block device.
 *
 * A VMM opens an image, hands the driver the config space from
 * ramdev_blk_get_config(), attaches the request virtqueues (virtq.h) once the
 * driver set them up, and then, on each queue kick, calls
 * ramdev_blk_process().  Completions are reaped with ramdev_blk_complete()
 * when ramdev_blk_event_fd() becomes readable (put it in the event loop), or
 * with ramdev_blk_wait().  Both report, as a bitmask of queue indices, which
 * queues the driver wants an interrupt for.
 *
 * Requests: IN, OUT, FLUSH, GET_ID, DISCARD, WRITE_ZEROES.  Every guest value
 * is validated (ramdev_blk_err); a request that fails a check completes with
 * IOERR or UNSUPP and the device carries on.  A chain the device cannot even
 * answer (no 16-byte header, no status byte) breaks the device, as a real
 * one would set DEVICE_NEEDS_RESET: later calls return -EIO until
 * ramdev_blk_reset().
 *
 * Guest buffers come mapped from the virtqueue as struct ramdev_dma_seg.  RAM
 * segments are handed to the kernel (preadv/pwritev, io_uring) directly;
 * device-memory (RAMDEV_SEG_DEV) segments never are: each request stages
 * them through a buffer of its own, copied with the access core, so the
 * device side sees only exact-width accesses.  Staging is not bounded by
 * the DMA layer's bounce pool but by the device's own budget
 * (ramdev_blk_options.stage_budget, 64 MiB by default): a request that
 * needs more than is free waits (the queues stop popping until completions
 * free space), and one that stages more than the whole budget is carried
 * out in pieces of the budget (stage, read or write, copy back, next).  The
 * advertised seg_max and size_max are enforced on IN/OUT data
 * (RAMDEV_BLK_SEG_MAX, RAMDEV_BLK_SIZE_MAX).
 *
 * Engines: io_uring (liburing) when the kernel allows it, otherwise
 * preadv/pwritev run inline.  Several requests are in flight at once with
 * io_uring (buffered writes on file systems that would hand every one of
 * them to an io_uring worker thread run inline: see
 * ramdev_blk_options.uring_offload_writes; reads that stage 32 KiB or more
 * of device-memory data run inline when the page cache holds their data,
 * so the copy to device memory reads a staging buffer still in cache); a
 * FLUSH is started only after every write that was started before it (on
 * any queue) completed, so fdatasync covers them all.  A waiting FLUSH stops no queue: later requests
 * run meanwhile and do not delay it.  A short transfer is resumed where it
 * stopped; a step the kernel answers with EINTR or EAGAIN is retried, at
 * most 16 times in a row, then the request fails with IOERR (RAMDEV_BLK_IO),
 * so no request (nor, with the sync engine, the calling thread) is held
 * forever.
 *
 * Write-back errors stick.  Linux reports a failed write-back once: the
 * fdatasync that sees it fails, the pages are marked clean anyway, and the
 * next fdatasync succeeds although the data never reached the disk.  So,
 * as QEMU's file-posix does, once an fdatasync fails (any error but EINTR)
 * or a write fails with EIO, every later FLUSH completes with IOERR
 * (RAMDEV_BLK_WRITEBACK, without calling fdatasync again) and
 * ramdev_blk_flush() returns -EIO, until ramdev_blk_reset() or a reopen.
 * Reads and writes carry on.
 *
 * Used length (the len of each used element, VIRTIO 1.2 2.7.8.1: "the
 * device MUST write at least len bytes to descriptor, beginning at the
 * first device-writable buffer, prior to updating the used idx").  The
 * status byte is the last byte of the device-writable part, so a len that
 * left it out would tell a driver to ignore the status (2.7.8.2: the driver
 * MUST NOT make assumptions about data beyond the first len bytes).  The
 * device therefore writes every byte of that part and reports all of it:
 *   - successful IN: the data, then the status: len = in_len;
 *   - failed IN (a validation error, an I/O error, a short read): zeroes over
 *     the whole data part (what the kernel may have put there is not
 *     trusted), then the status: len = in_len;
 *   - GET_ID: the serial (at most 20 bytes, NUL-padded), zeroes up to the
 *     status byte when the buffer is larger, then the status: len = in_len
 *     (21 for the usual 20-byte buffer);
 *   - OUT, FLUSH, DISCARD, WRITE_ZEROES and unsupported types: the status,
 *     with zeroes over any writable byte in front of it: len = in_len (1
 *     for a well-formed request);
 *   - a chain with no status byte or a header shorter than 16 bytes (the
 *     device breaks): nothing is written, len = 0.
 * The zeroes go through each segment's own access (RAM, the access core for
 * device memory, MMIO callbacks), and everything within len is in the dirty
 * log once the element is pushed (the virtqueue marks it at unmap).
 *
 * Threads: one device is driven from one thread at a time (the "device's
 * thread": the event loop thread); different devices are independent.
 * Unless a function's Context says otherwise, call it on that thread.
 */
#ifndef RAMDEV_BLK_H
#define RAMDEV_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "ramdev/as.h"
#include "ramdev/dma.h"
#include "ramdev/virtq.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ramdev_blk;

#define RAMDEV_BLK_SECTOR_SIZE 512u
#define RAMDEV_BLK_SECTOR_SHIFT 9u
#define RAMDEV_BLK_ID_BYTES 20u     /* GET_ID answer: NUL-padded serial */
#define RAMDEV_BLK_MAX_QUEUES 64u   /* queue indices fit a uint64_t mask */

/* Request types (VIRTIO 1.2 section 5.2.6). */
#define RAMDEV_BLK_T_IN 0u
#define RAMDEV_BLK_T_OUT 1u
#define RAMDEV_BLK_T_FLUSH 4u
#define RAMDEV_BLK_T_GET_ID 8u
#define RAMDEV_BLK_T_DISCARD 11u
#define RAMDEV_BLK_T_WRITE_ZEROES 13u

/* Status byte values (the last byte of the device-writable part). */
#define RAMDEV_BLK_S_OK 0u
#define RAMDEV_BLK_S_IOERR 1u
#define RAMDEV_BLK_S_UNSUPP 2u

/* Feature bits (VIRTIO 1.2 section 5.2.3) offered by ramdev_blk_features(). */
#define RAMDEV_BLK_F_SIZE_MAX 1u
#define RAMDEV_BLK_F_SEG_MAX 2u
#define RAMDEV_BLK_F_RO 5u
#define RAMDEV_BLK_F_BLK_SIZE 6u
#define RAMDEV_BLK_F_FLUSH 9u
#define RAMDEV_BLK_F_TOPOLOGY 10u
#define RAMDEV_BLK_F_MQ 12u
#define RAMDEV_BLK_F_DISCARD 13u
#define RAMDEV_BLK_F_WRITE_ZEROES 14u

/* The flag of struct virtio_blk_discard_write_zeroes. */
#define RAMDEV_BLK_WZ_FLAG_UNMAP 1u

/** One value per validation rule (STYLE.md rule 5); see ramdev_blk_strerror(). */
enum ramdev_blk_err {
	RAMDEV_BLK_OK = 0,
	RAMDEV_BLK_HDR_SHORT,     /* fewer than 16 readable header bytes (breaks) */
	RAMDEV_BLK_NO_STATUS,     /* no device-writable byte for the status (breaks) */
	RAMDEV_BLK_TYPE,          /* unknown request type: UNSUPP */
	RAMDEV_BLK_DATA_LEN,      /* IN/OUT data not a multiple of 512: IOERR */
	RAMDEV_BLK_DATA_DIR,      /* IN with readable data, OUT with writable: IOERR */
	RAMDEV_BLK_RANGE,         /* sectors past the capacity: IOERR */
	RAMDEV_BLK_OVERFLOW,      /* sector arithmetic wraps: IOERR */
	RAMDEV_BLK_READ_ONLY,     /* write-type request on a read-only image: IOERR */
	RAMDEV_BLK_DWZ_LEN,       /* discard/write-zeroes data not n x 16 bytes: IOERR */
	RAMDEV_BLK_DWZ_SEGS,      /* more ranges than max_*_seg: UNSUPP */
	RAMDEV_BLK_DWZ_FLAGS,     /* unknown flag bits: UNSUPP */
	RAMDEV_BLK_DISCARD_UNMAP, /* UNMAP flag on a discard (5.2.6.2): UNSUPP */
	RAMDEV_BLK_DWZ_SECTORS,   /* num_sectors above max_*_sectors: IOERR */
	RAMDEV_BLK_IO,            /* the host I/O failed (errno logged): IOERR */
	RAMDEV_BLK_NOMEM,         /* host out of memory for the request: IOERR */
	RAMDEV_BLK_WRITEBACK,     /* FLUSH after a failed fdatasync or write: IOERR */
	RAMDEV_BLK_SEG_MAX,       /* more IN/OUT data segments than seg_max: IOERR */
	RAMDEV_BLK_SIZE_MAX,      /* a data segment above size_max (if set): IOERR */
	RAMDEV_BLK_ERR_COUNT
};

/**
 * ramdev_blk_strerror - a short description of @err.
 * @err: a value of enum ramdev_blk_err (others are answered too).
 * Returns: a static string, never NULL ("unknown virtio-blk error" out of
 * range).
 * Context: any thread.
 */
RAMDEV_EXPORT const char *ramdev_blk_strerror(enum ramdev_blk_err err);

enum ramdev_blk_engine {
	RAMDEV_BLK_ENGINE_AUTO = 0, /* io_uring if the probe works, else sync */
	RAMDEV_BLK_ENGINE_URING,    /* io_uring or fail with its probe's error */
	RAMDEV_BLK_ENGINE_SYNC,     /* preadv/pwritev/fdatasync/fallocate inline */
};

/**
 * struct ramdev_blk_options - how to open an image.  Zero means "default"
 * for every numeric field.
 * @path:       image to open (O_RDWR, or O_RDONLY with @read_only); or NULL
 *              to use @fd.
 * @fd:         an open image when @path is NULL (0 is then a descriptor
 *              like any other): duplicated, the caller keeps its own.  With
 *              @path set, leave it 0 (as a designated initializer does) or
 *              set -1; any other value is -EINVAL (two sources).
 * @read_only:  refuse writes (VIRTIO_BLK_F_RO is offered).
 * @serial:     GET_ID answer; the first 20 bytes are used, NULL for "".
 * @num_queues: request queues, 1..RAMDEV_BLK_MAX_QUEUES (default 1).
 * @engine:     see enum ramdev_blk_engine.
 * @capacity:   sectors; default: the image size / 512.  May not exceed the
 *              size of a regular file or block device.
 * @seg_max:    advertised data segments per request (default 254).
 * @size_max:   advertised bytes per segment (default 0: not advertised).
 * @max_discard_sectors, @max_write_zeroes_sectors: per range (default
 *              1 << 22, i.e. 2 GiB); @max_discard_seg, @max_write_zeroes_seg:
 *              ranges per request (default 1).
 * @depth:      requests in flight per device (default 128).
 * @stage_budget: bytes of staging buffers for device-memory and MMIO data
 *              per device (default RAMDEV_BLK_STAGE_BUDGET, 64 MiB; at
 *              least RAMDEV_BLK_STAGE_MIN).  Finished requests keep up to
 *              128 KiB each for reuse (at most 64 of them) on top of it.
 * @uring_offload_writes: io_uring engine, image in the page cache (no
 *              O_DIRECT) on a file system that cannot start a buffered
 *              write without blocking (ext4, tmpfs: pwritev2(RWF_NOWAIT)
 *              says EOPNOTSUPP): io_uring hands every such write to one of
 *              its worker threads, a thread hop and a wake-up per write
 *              that cost more than the page-cache copy itself (a 4 KiB
 *              write runs at a fifth of pwrite's rate).  By default those
 *              writes therefore run inline with pwritev, as the sync engine
 *              runs them: the calling thread then blocks for the copy, and
 *              for dirty-page throttling when the kernel applies it.  Set
 *              this to keep them on io_uring's workers instead (the calling
 *              thread never blocks on a write).  File systems with
 *              non-blocking buffered writes (XFS, btrfs) and O_DIRECT images
 *              always use io_uring.
 * @no_merge:   issue every request's transfer as a system call of its own.
 *              By default, reads (or writes) of at most 32 KiB of requests
 *              started together that lie back to back in the image go to
 *              the kernel as one preadv/pwritev or io_uring SQE (at most
 *              32 requests and 256 buffers per call), as QEMU's virtio-blk
 *              merges the requests of a batch; each request keeps its own
 *              status (a merged call that fails or falls short is retried
 *              per request).  Counted in ramdev_blk_stats.merged.  The
 *              sync engine then runs a batch's requests in the order they
 *              were popped, at the end of ramdev_blk_process(): like
 *              QEMU's virtio-blk, and unlike with merging off, a request
 *              holds its mappings (under RAMDEV_DMA_QEMU_BOUNCE, the one
 *              bounce buffer) while the next ones are popped.  io_uring
 *              issues requests in that order; the kernel may finish them
 *              in any, as virtio allows.
 */
struct ramdev_blk_options {
	const char *path;
	int fd;
	bool read_only;
	const char *serial;
	unsigned num_queues;
	enum ramdev_blk_engine engine;
	uint64_t capacity;
	uint32_t seg_max;
	uint32_t size_max;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	unsigned depth;
	bool uring_offload_writes;
	size_t stage_budget;
	bool no_merge;
};

#define RAMDEV_BLK_STAGE_BUDGET ((size_t)64 << 20)
#define RAMDEV_BLK_STAGE_MIN ((size_t)4096)

/**
 * struct ramdev_blk_config - the device configuration space, byte for byte
 * as VIRTIO 1.2 section 5.2.4 lays it out: multi-byte fields are
 * little-endian (use le64toh() & co. to read them on the host).
 */
struct ramdev_blk_config {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	uint16_t cylinders;
	uint8_t heads;
	uint8_t sectors;
	uint32_t blk_size;
	uint8_t physical_block_exp;
	uint8_t alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t writeback;
	uint8_t unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t write_zeroes_may_unmap;
	uint8_t unused1[3];
	uint32_t max_secure_erase_sectors;
	uint32_t max_secure_erase_seg;
	uint32_t secure_erase_sector_alignment;
} __attribute__((packed));

struct ramdev_blk_stats {
	uint64_t requests;                      /* popped */
	uint64_t completed;                     /* pushed back */
	uint64_t status[3];                     /* by status: OK, IOERR, UNSUPP */
	uint64_t errors[RAMDEV_BLK_ERR_COUNT];  /* by rule */
	uint64_t bytes_read;                    /* image -> guest */
	uint64_t bytes_written;                 /* guest -> image */
	uint64_t bytes_staged;                  /* through staging (DEV segments) */
	uint64_t flushes;                       /* fdatasync calls */
	uint64_t flush_waits;                   /* FLUSHes that waited for writes */
	uint64_t retries;                       /* short or interrupted I/O resumed */
	uint64_t stage_waits;                   /* requests that waited for staging */
	uint64_t stage_peak;                    /* most staging bytes reserved at once */
	uint64_t merged;                        /* requests that shared a call */
};

/**
 * ramdev_blk_open - open an image as a virtio-blk device.
 * @out: receives the device.
 * @opt: see struct ramdev_blk_options; not kept (@serial is copied).
 *
 * Opens (or duplicates) the image, sizes it (regular file: st_size; block
 * device: BLKGETSIZE64), starts the engine (AUTO: io_uring when its probe
 * works, else the sync engine, with a LOG_INFO message) and an event fd.
 * No queue is attached yet.
 * Returns: 0 with *@out set; -EINVAL (NULL argument; no source, or both
 * @path and @fd; num_queues above RAMDEV_BLK_MAX_QUEUES, depth above 32768,
 * more than 256 discard/write-zeroes ranges, stage_budget below
 * RAMDEV_BLK_STAGE_MIN, capacity larger than the image, an unknown
 * engine); -errno of open/fcntl/fstat/ioctl/eventfd; -ENOSYS or -EPERM
 * (RAMDEV_BLK_ENGINE_URING and io_uring is unavailable, or the probe's
 * error); -ENOMEM.
 * Context: any thread; may block (opens the file).
 */
RAMDEV_EXPORT int ramdev_blk_open(struct ramdev_blk **out,
				  const struct ramdev_blk_options *opt);

/**
 * ramdev_blk_close - finish or fail every request in flight, then close the
 * image and free the device.
 * @blk: the device; NULL is a no-op.
 *
 * Drains (the requests in flight complete and are pushed to their queues).
 * If the engine failed and cannot finish them, it is stopped (io_uring:
 * every request cancelled and waited for) and they are pushed with IOERR.
 * Should the engine be unable to vouch that the kernel is done with their
 * buffers, those requests are not pushed: their elements, mappings and
 * staging buffers are leaked rather than freed (their staging reservation
 * is released, so requests still waiting for staging fail and are pushed).
 * Queues a detach refused (-EBUSY) must stay valid until this returns.
 * Context: the device's thread; may block.
 */
RAMDEV_EXPORT void ramdev_blk_close(struct ramdev_blk *blk);

/**
 * ramdev_blk_set_log - route the device's messages to @fn(@opaque, level,
 * msg) (see ramdev_log_fn in as.h); NULL @fn: warnings and errors go to
 * stderr.
 * @blk:    the device; NULL is a no-op.
 * @fn:     the callback, called on the thread that logs (the device's).
 * @opaque: passed to @fn.
 *
 * The pair is published as one: each call allocates a new immutable
 * {@fn, @opaque} and swaps it in atomically, so a message logged meanwhile
 * uses the old pair or the new one, never a mix.  Replaced pairs stay
 * allocated (a few bytes each) until ramdev_blk_close(); an old @opaque may
 * still be passed to its @fn by a message that started before the swap.  If
 * the allocation fails the old pair stays in force (and says so).
 * Context: any thread; calls of set_log on one device must not overlap
 * each other.
 */
RAMDEV_EXPORT void ramdev_blk_set_log(struct ramdev_blk *blk, ramdev_log_fn *fn,
				      void *opaque);

/**
 * ramdev_blk_get_config - the config space (VIRTIO 1.2 5.2.4).
 * @blk: the device.
 * @cfg: filled, little-endian, byte for byte as the driver reads it.
 * Returns: 0; -EINVAL (NULL argument).
 * Context: any thread (the values do not change after open).
 */
RAMDEV_EXPORT int ramdev_blk_get_config(const struct ramdev_blk *blk,
					struct ramdev_blk_config *cfg);

/**
 * ramdev_blk_features - the device feature bits this device offers.
 * @blk: the device.
 * Returns: a mask of 1 << RAMDEV_BLK_F_* (SEG_MAX, BLK_SIZE, FLUSH,
 * TOPOLOGY, DISCARD, WRITE_ZEROES always; SIZE_MAX, RO, MQ per options); 0
 * for NULL.  Transport bits (VIRTIO_F_VERSION_1 & co.) are the VMM's.
 * Context: any thread.
 */
RAMDEV_EXPORT uint64_t ramdev_blk_features(const struct ramdev_blk *blk);

/**
 * ramdev_blk_capacity - the capacity in 512-byte sectors.
 * @blk: the device.
 * Returns: the capacity; 0 for NULL.
 * Context: any thread.
 */
RAMDEV_EXPORT uint64_t ramdev_blk_capacity(const struct ramdev_blk *blk);

/**
 * ramdev_blk_engine - the engine in use.
 * @blk: the device.
 * Returns: RAMDEV_BLK_ENGINE_URING or RAMDEV_BLK_ENGINE_SYNC (AUTO
 * resolved); RAMDEV_BLK_ENGINE_AUTO for NULL.
 * Context: any thread.
 */
RAMDEV_EXPORT enum ramdev_blk_engine
ramdev_blk_engine(const struct ramdev_blk *blk);

/**
 * ramdev_blk_attach_queue - serve request queue @idx from @vq.
 * @blk: the device.
 * @idx: the request queue index, < num_queues.
 * @vq:  the virtqueue; stays the caller's: detach it before freeing it.
 * @dma: the context @vq maps through; may be NULL.  (The device no longer
 *       waits for bounce space: the DMA layer never makes a queue wait.)
 * Returns: 0; -EINVAL (NULL @blk or @vq, @idx >= num_queues); -EBUSY (a
 * queue is attached at @idx).
 * Context: the device's thread.
 */
RAMDEV_EXPORT int ramdev_blk_attach_queue(struct ramdev_blk *blk, unsigned idx,
					  struct ramdev_virtq *vq,
					  struct ramdev_dma *dma);

/**
 * ramdev_blk_detach_queue - drain the device (queue @idx's requests in
 * flight are pushed), then forget the queue.
 * @blk: the device.
 * @idx: the request queue index.
 * Returns: 0; -EINVAL (NULL @blk, @idx >= num_queues); -ENOENT (not
 * attached); -EBUSY (a failed engine still holds requests of the queue: it
 * stays attached, and stays the device's until ramdev_blk_close()).
 * Context: the device's thread; may block.
 */
RAMDEV_EXPORT int ramdev_blk_detach_queue(struct ramdev_blk *blk, unsigned idx);

/**
 * ramdev_blk_process - handle a kick of queue @idx: pop every available
 * request, validate it, start it (or finish it at once: errors, GET_ID, and
 * all requests with the sync engine).
 * @blk:    the device.
 * @idx:    the request queue index.
 * @notify: if not NULL, bit @idx is ORed in when the driver wants an
 *          interrupt for requests finished here.
 * Returns: the number of requests popped; -EINVAL (NULL @blk, bad @idx,
 * no queue attached); -EIO (device or queue broken: see ramdev_blk_error() and
 * ramdev_virtq_error()); -ENOBUFS (DMA policy QEMU_BOUNCE ran out of bounce
 * space: the queue is now broken, "virtio: bogus descriptor or out of
 * resources"); -ENOMEM.  Requests popped before an error are carried on.
 * A queue that is stopped for a moment (depth reached, staging space busy,
 * pop out of memory) is resumed by ramdev_blk_complete().  At most
 * RAMDEV_BLK_PROCESS_BATCH requests are popped per call, so a guest that keeps its ring full cannot
 * hold the calling thread; the queue is then resumed the same way, and
 * event_fd is made readable so the event loop comes back.  The empty
 * re-checks (after asking for kicks again, VIRTIO 1.2 2.7.10) count toward
 * the same batch, so a driver that keeps the re-check seeing buffers pop
 * then does not find cannot hold the thread either.
 * Context: the device's thread; with the sync engine, blocks for the I/O.
 */
#define RAMDEV_BLK_PROCESS_BATCH 256

RAMDEV_EXPORT int ramdev_blk_process(struct ramdev_blk *blk, unsigned idx,
				     uint64_t *notify);

/**
 * ramdev_blk_event_fd - a descriptor that becomes readable when
 * ramdev_blk_complete() has work (completions, a stopped queue to resume).
 * @blk: the device.
 * Returns: the descriptor, owned by the device (do not close or read it);
 * -EINVAL for NULL.
 * Context: any thread.
 */
RAMDEV_EXPORT int ramdev_blk_event_fd(const struct ramdev_blk *blk);

/**
 * ramdev_blk_complete - without blocking, finish the requests whose I/O
 * completed: write their status, push them, resume stopped queues.
 * @blk:    the device.
 * @notify: if not NULL, bit i is ORed in for each queue i that wants an
 *          interrupt.
 * Returns: the number of requests pushed; -EINVAL (NULL @blk); -EIO (the
 * engine failed, the device is broken, and nothing was pushed: requests in
 * flight may still finish, keep calling it).
 * Context: the device's thread, typically when event_fd is readable.
 */
RAMDEV_EXPORT int ramdev_blk_complete(struct ramdev_blk *blk, uint64_t *notify);

/**
 * ramdev_blk_wait - like ramdev_blk_complete(), but first wait up to
 * @timeout_ms (-1: forever) for at least one completion when requests are
 * in the engine.
 * @blk:        the device.
 * @timeout_ms: the longest wait; 0 does not wait.
 * @notify:     as for ramdev_blk_complete().
 * Returns: the number of requests pushed (0 on timeout or nothing in
 * flight); -EINVAL (NULL @blk); -EIO (as for ramdev_blk_complete()).
 * Context: the device's thread; may block.
 */
RAMDEV_EXPORT int ramdev_blk_wait(struct ramdev_blk *blk, int timeout_ms,
				  uint64_t *notify);

/**
 * ramdev_blk_drain - complete every request in flight (quiesce).
 * @blk:    the device.
 * @notify: as for ramdev_blk_complete().  No new
 * request is popped meanwhile, however fast the driver refills its rings;
 * queues that stopped (depth reached) are resumed by the next
 * ramdev_blk_complete(), and event_fd is made readable for that.  A failed
 * engine (the device is broken) is reaped for as long as it finishes
 * requests.
 * Returns: the number pushed (the device may be broken: see
 * ramdev_blk_error()); -EINVAL (NULL @blk); -EIO (the engine failed and
 * some requests are still in flight, after 50 reaps that failed in a row).
 * Context: the device's thread; may block.
 */
RAMDEV_EXPORT int ramdev_blk_drain(struct ramdev_blk *blk, uint64_t *notify);

/**
 * ramdev_blk_flush - drain, then fdatasync the image (e.g. before a
 * snapshot or migration).
 * @blk:    the device.
 * @notify: as for ramdev_blk_complete().
 * Returns: 0; -EINVAL (NULL @blk); -EIO (the drain failed, or an earlier
 * write-back failed: see the top); -errno of fdatasync (which then sticks
 * as well, except -EINTR).
 * Context: the device's thread; may block.
 */
RAMDEV_EXPORT int ramdev_blk_flush(struct ramdev_blk *blk, uint64_t *notify);

/**
 * ramdev_blk_inflight - requests popped and not yet pushed.
 * @blk: the device.
 * Returns: the count (at most options.depth); 0 for NULL.
 * Context: the device's thread.
 */
RAMDEV_EXPORT unsigned ramdev_blk_inflight(const struct ramdev_blk *blk);

/**
 * ramdev_blk_error - why the device is broken.
 * @blk: the device.
 * Returns: RAMDEV_BLK_HDR_SHORT or RAMDEV_BLK_NO_STATUS (the driver broke
 * the framing), RAMDEV_BLK_IO (the engine failed); RAMDEV_BLK_OK if it is
 * not broken, or for NULL.  Sticky until ramdev_blk_reset().
 * Context: the device's thread.
 */
RAMDEV_EXPORT enum ramdev_blk_err ramdev_blk_error(const struct ramdev_blk *blk);

/**
 * ramdev_blk_reset - device reset: drain, detach every queue, clear the
 * broken state and a sticky write-back error, and free the finished
 * requests kept for reuse with their staging buffers.
 * @blk: the device.
 * Returns: 0; -EINVAL (NULL); -EBUSY (a failed engine still holds
 * requests: nothing was detached or cleared; ramdev_blk_close() is what is
 * left).
 * Context: the device's thread; may block.
 */
RAMDEV_EXPORT int ramdev_blk_reset(struct ramdev_blk *blk);

/**
 * ramdev_blk_get_stats - copy the counters into @st.
 * @blk: the device; NULL: @st is left as it was.
 * @st:  filled; NULL is a no-op.
 * Context: the device's thread (from another thread the copy may be torn).
 */
RAMDEV_EXPORT void ramdev_blk_get_stats(const struct ramdev_blk *blk,
					struct ramdev_blk_stats *st);

/* ---- per-queue counters (counted in lib/blk/req.c) ---- */

/**
 * struct ramdev_blk_queue_stats - what one request queue carried.
 * @requests:      requests finished (pushed back), any status
 * @bytes_read:    image -> guest data bytes of successful IN requests
 * @bytes_written: guest -> image data bytes of successful OUT requests
 * @bytes_devmem:  of those, bytes whose guest buffers lay in device memory
 *                 (RAM-device or MMIO: staged through the access core)
 * @errors:        requests finished with a status other than OK
 */
struct ramdev_blk_queue_stats {
	uint64_t requests;
	uint64_t bytes_read;
	uint64_t bytes_written;
	uint64_t bytes_devmem;
	uint64_t errors;
};

/**
 * ramdev_blk_get_queue_stats - copy queue @idx's counters into @st.  They
 * survive detach and reset (they count the device's life).
 * Returns: 0, -EINVAL (NULL, @idx >= num_queues).
 * Context: the device's thread.
 */
RAMDEV_EXPORT int ramdev_blk_get_queue_stats(const struct ramdev_blk *blk,
					     unsigned idx,
					     struct ramdev_blk_queue_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* RAMDEV_BLK_H */
