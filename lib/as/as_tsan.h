/* SPDX-License-Identifier: MIT */
/*
 * Address-space private header: ThreadSanitizer detection (RAMDEV_TSAN)
 * and the acquire/release annotations the RCU read side and its reclaimers
 * use (as_rcu.h).  Compiles to nothing outside TSan builds.
 */
#ifndef RAMDEV_AS_TSAN_H
#define RAMDEV_AS_TSAN_H

/* ---- ThreadSanitizer annotations ----
 * liburcu (not built with TSan) orders readers and reclaimers through
 * membarrier(2) and plain volatile accesses, which TSan cannot see.  We tell
 * it what the grace period guarantees: every read-side unlock "releases" a
 * token that every RCU callback "acquires" before freeing.  The annotations
 * compile to nothing outside TSan builds. */
#if defined(__SANITIZE_THREAD__)
#define RAMDEV_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RAMDEV_TSAN 1
#endif
#endif

#ifdef RAMDEV_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define as_tsan_acquire(a) __tsan_acquire((void *)(a))
#define as_tsan_release(a) __tsan_release((void *)(a))
#else
#define as_tsan_acquire(a) ((void)(a))
#define as_tsan_release(a) ((void)(a))
#endif

#endif /* RAMDEV_AS_TSAN_H */
