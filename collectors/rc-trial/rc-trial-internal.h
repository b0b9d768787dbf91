/* SPDX-License-Identifier: MIT */
/* collectors/rc-trial/rc-trial-internal.h — what rc-trial.c (threads, trigger, module) and
 * rc-trial-collect.c (the collection) share. Not for other modules.
 *
 * Invariant: everything here is touched only by the collecting thread with the world
 * stopped (or by a thread that is the only one attached), except where a comment says
 * otherwise. No macros change it. */
#ifndef GCL_RC_TRIAL_INTERNAL_H
#define GCL_RC_TRIAL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "collector.h"

/* What one collection did. */
struct gcl_rctrial_pass {
  uint64_t drained;    /* buffer entries drained (live or not) */
  uint64_t roots;      /* candidates alive at MarkRoots: MarkGray started from them */
  uint64_t traversed;  /* objects coloured gray */
  uint64_t freed;      /* garbage objects freed (fast path) or cleared (with finalizers) */
  uint64_t finalizers; /* finalizers run */
  uint64_t resurrected; /* garbage objects a finalizer made reachable again */
};

/* Run one collection on m over the candidates of every chunk of `chunks` (a list linked
 * through next, drained from the buffers by the caller); frees the chunks. World stopped,
 * or m the only attached thread. */
void gcl_rctrial_collect(struct gcl_mutator *m, struct gcl_rctrial_chunk *chunks,
                         struct gcl_rctrial_pass *out);

#endif
