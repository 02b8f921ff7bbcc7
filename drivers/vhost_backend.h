/* SPDX-License-Identifier: MIT */
/*
 * vhost_backend: start and stop a vhost-user-blk back-end process
 * (ramdev-vhost-user-blk, qemu-storage-daemon, or any command) for tests and
 * benchmarks, and read its CPU time.  Not part of libramdev.
 */
#ifndef RAMDEV_VHOST_BACKEND_H
#define RAMDEV_VHOST_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct vhost_backend_config {
	/* "ramdev", "qsd", or a shell command in which {socket} and {image}
	 * are replaced (also in the environment as VHOST_SOCKET, VHOST_IMAGE) */
	const char *kind;
	const char *socket;
	const char *image;
	unsigned num_queues;
	bool direct;          /* O_DIRECT: --direct / cache.direct=on */
	const char *ramdev;   /* path of ramdev-vhost-user-blk ("ramdev") */
	const char *dev_mem;  /* "GPA:SIZE" for --device-memory, or NULL */
	const char *log;      /* stdout and stderr go here; NULL: /dev/null */
};

/**
 * vhost_backend_start - fork and exec the back end; the socket is removed
 * first so a connect that succeeds reaches the new process.
 * @pid: the child, on success.
 * Returns: 0, -EINVAL (no such kind, missing path), -errno of fork.
 * Context: the caller connects with retries (vhost_front connect_ms).
 */
int vhost_backend_start(pid_t *pid, const struct vhost_backend_config *cfg);

/**
 * vhost_backend_stop - SIGTERM, wait up to @timeout_ms, then SIGKILL.
 * Returns: the exit status (0 clean), 128 + signal if it died of one, or
 * -errno of waitpid.
 */
int vhost_backend_stop(pid_t pid, int timeout_ms);

/**
 * vhost_backend_cpu_ns - user + system CPU time of process @pid and its
 * threads so far (/proc/PID/stat utime + stime, in clock ticks).
 * Returns: 0, -errno (no such process, unreadable).
 */
int vhost_backend_cpu_ns(pid_t pid, uint64_t *ns);

/** vhost_backend_name - short name for tables: "ramdev", "qsd", "cmd". */
const char *vhost_backend_name(const char *kind);

#endif /* RAMDEV_VHOST_BACKEND_H */
