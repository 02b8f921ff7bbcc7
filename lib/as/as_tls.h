/* SPDX-License-Identifier: MIT */
/*
 * Address-space private header: how the library's per-thread state is
 * declared (RAMDEV_TLS): the RCU registration flag (as_rcu.h), the
 * re-entrancy guard (as_guard.h) and the indirect-access counter.
 */
#ifndef RAMDEV_AS_TLS_H
#define RAMDEV_AS_TLS_H

/* The thread-local flag is read on every read lock: initial-exec keeps it
 * one %fs-relative load instead of a __tls_get_addr call (the library's
 * static TLS use is a few bytes, within what the loader reserves for
 * dlopen'ed libraries). */
#define RAMDEV_TLS __thread __attribute__((tls_model("initial-exec")))

#endif /* RAMDEV_AS_TLS_H */
