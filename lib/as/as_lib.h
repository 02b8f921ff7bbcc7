/* SPDX-License-Identifier: MIT */
/*
 * What the other layers of the library (the DMA layer) use of the address
 * space beyond its public header.  Not installed, not exported (the library
 * is built with hidden visibility).
 *
 * A thin umbrella, kept because as_priv.h (so every file of lib/as/),
 * lib/dma_ctx.h and tests/test_dma_qemu.c include it; each part is its own
 * header, by what it describes:
 *   as_tsan.h   ThreadSanitizer detection and annotations
 *   as_tls.h    the declaration of per-thread state (RAMDEV_TLS)
 *   as_rcu.h    the RCU read side, inline (defines _LGPL_SOURCE: first)
 *   as_log.h    the address space's log and its guest-triggerable kinds
 *   as_access.h references n at a time, hinted translations, strict and
 *               per-region copies, the indirect-access counter
 *   as_guard.h  the DMA re-entrancy guard
 *   as_bytes.h  host-order values to and from bytes
 */
#ifndef RAMDEV_AS_LIB_H
#define RAMDEV_AS_LIB_H

#include "as_rcu.h" /* first: it defines _LGPL_SOURCE for liburcu */

#include "as_access.h"
#include "as_bytes.h"
#include "as_guard.h"
#include "as_log.h"
#include "as_tls.h"
#include "as_tsan.h"

#endif /* RAMDEV_AS_LIB_H */
