/* SPDX-License-Identifier: MIT */
/* collectors/bdw/bdw-internal.h — what bdw.c and bdw-final.c share. Not for other
 * modules. No macros change it. */
#ifndef GCL_BDW_INTERNAL_H
#define GCL_BDW_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "bdw-gc.h"
#include "mutator.h"

/* Bit of gcl_mutator.safepoint_work: run libgc's queued finalizers. */
#define GCL_BDW_WORK_FINALIZE 0x1

/* Counters, updated atomically (finalizers run on any mutator). */
struct gcl_bdw_stats {
  uint64_t finalizers_run; /* type finalizers run */
  uint64_t weak_cleared;   /* objects whose weak references were cleared */
};
extern struct gcl_bdw_stats gcl_bdw_stats;
/* Finalizers are queued but the notifier ran on no attached mutator (atomic). */
extern bool gcl_bdw_finalize_pending;

struct gcl_mutator *gcl_bdw_self(void);         /* this thread's mutator, or NULL */
void gcl_bdw_run_finalizers(struct gcl_mutator *m); /* libgc's queue, on m */
void gcl_bdw_notify(void);                      /* libgc's finalizer notifier */
void gcl_bdw_final_thread_exit(void);           /* frees this thread's dead list (step 4) */

#endif
