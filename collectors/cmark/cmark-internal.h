/* SPDX-License-Identifier: MIT */
/* collectors/cmark/cmark-internal.h — what cmark.c (options, policy, the module API) and
 * cmark-gc.c (one cycle: mark, terminate, sweep, finalize) share.
 *
 * Invariants: one cycle runs at a time (cmark.gc_lock); the grey stack and the garbage
 * and finalization lists are touched only by the cycle's owner; the figures are atomics
 * (read by gcl_collector_report from any thread). No macros change this header. */
#ifndef GCL_CMARK_INTERNAL_H
#define GCL_CMARK_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "mutator.h"

/* A growable stack of objects (malloc'd: never from the heap's allocator). */
struct cmark_stack {
  struct gcl_object **a; /* entries */
  size_t n, cap;         /* depth and capacity */
};

enum cmark_mode { CMARK_MODE_STW, CMARK_MODE_CONCURRENT };

/* Figures, all updated with relaxed atomics. */
struct cmark_figures {
  uint64_t cycles;          /* collections completed */
  uint64_t full_stw;        /* full stop-the-world fallbacks (concurrent mode only) */
  uint64_t marked;          /* objects marked, all cycles */
  uint64_t swept;           /* objects freed by the sweep */
  uint64_t swept_bytes;     /* their bytes */
  uint64_t finalized;       /* finalizers run */
  uint64_t weak_cleared;    /* objects whose weak references were cleared */
  uint64_t satb_drained;    /* SATB entries the marker took */
  uint64_t mark_ns;         /* time marking (roots, drain, resurrection) */
  uint64_t sweep_ns;        /* time sweeping */
  uint64_t gc_ns;           /* whole cycles, finalizers included */
  uint64_t allocated_black; /* of threads that detached */
  uint64_t verified;        /* GCL_VERIFY: reachable objects the termination check saw */
};

struct cmark {
  pthread_mutex_t gc_lock;        /* one cycle at a time */
  enum cmark_mode mode;           /* cmark.mode */
  double trigger_frac;            /* cmark.trigger: a cycle at this share of the limit */
  double grow;                    /* cmark.grow: no limit: next trigger = live x grow */
  int64_t min_trigger;            /* cmark.min_heap: no limit: the smallest trigger */
  int64_t limit;                  /* the heap limit (cmark.limit, or gcl_heap_limit), 0 none */
  int64_t trigger;                /* live bytes that start the next cycle (atomic) */
  int auto_collect;               /* gc.enable() (atomic) */
  struct cmark_stack grey;        /* the grey stack */
  struct cmark_stack garbage;     /* unmarked objects found by the sweep's walk */
  struct cmark_stack finalize;    /* resurrected, finalizer not yet run: roots */
  struct cmark_figures fig;       /* figures */
};

extern struct cmark gcl_cmark;

#define CMARK_WORK_COLLECT 0x1 /* gcl_mutator.safepoint_work: run a cycle here */

void cmark_stack_push(struct cmark_stack *s, struct gcl_object *o);

/* One cycle by m (attached). explicit: wait for a running cycle instead of skipping.
 * Returns false when it skipped. */
bool cmark_collect(struct gcl_mutator *m, bool explicit);

/* The marking steps, exposed for the barrier test (tests/unit/test-cmark.c): begin a
 * cycle's marking (new epoch; barrier on when `barrier`), shade one object, drain the
 * grey stack and the SATB buffers, end marking (barrier off). The caller serialises. */
void cmark_mark_begin(bool barrier);
void cmark_shade(struct gcl_object *o);
void cmark_mark_drain(void);
void cmark_mark_end(void);
bool cmark_is_marked(const struct gcl_object *o);

/* GCL_VERIFY builds: with the world stopped after marking, check that every object
 * reachable from the roots is marked (cmark-verify.c); aborts with a message if not. */
void cmark_verify_marked(void);

#endif
