/* SPDX-License-Identifier: MIT */
/*
 * Address-space private header: the address space's log (log.c), for the
 * layers that log through it (as/, the DMA layer): the kinds of
 * guest-triggerable messages, each rate-limited on its own.
 */
#ifndef RAMDEV_AS_LOG_H
#define RAMDEV_AS_LOG_H

#include "ramdev/as.h"

/*
 * Kinds of guest-triggerable messages.  Each kind has its own rate limit
 * (one message per second per address space), so a flood of one harmless
 * kind cannot hide the first message of another.
 */
enum ramdev_as_log_kind {
	RAMDEV_AS_LOG_UNASSIGNED_READ,	/* load/read of unassigned memory */
	RAMDEV_AS_LOG_UNASSIGNED_WRITE, /* store/write to unassigned memory */
	RAMDEV_AS_LOG_MMIO_VALID,	/* MMIO access its valid rules refuse */
	RAMDEV_AS_LOG_DMA_ARG,		/* bad DMA map/copy arguments */
	RAMDEV_AS_LOG_DMA_UNASSIGNED,	/* DMA map/copy of unassigned memory */
	RAMDEV_AS_LOG_DMA_COPYBACK,	/* bounce copy-back failed at unmap */
	RAMDEV_AS_LOG_VCPU_REJECT,	/* misaligned vCPU access refused */
	RAMDEV_AS_LOG_VCPU_SPAN,	/* vCPU access across two regions */
	RAMDEV_AS_LOG_VCPU_ARG,		/* vCPU access of a bad size or wrap */
	RAMDEV_AS_LOG_REENTRANT,	/* MMIO access refused: re-entrancy */
	RAMDEV_AS_LOG_KINDS
};

/* log.c: messages to the address space's log callback (or stderr).
 * _guest_logf is for guest-triggerable events: rate-limited per @kind, and
 * the next message of a kind that gets through says how many of that kind
 * were suppressed since the previous one. */
void ramdev_as_logf(struct ramdev_as *as, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ramdev_as_guest_logf(struct ramdev_as *as, enum ramdev_as_log_kind kind,
			  const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* RAMDEV_AS_LOG_H */
