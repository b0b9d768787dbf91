/* SPDX-License-Identifier: MIT */
/* collectors/bdw/bdw-final.c — what bdw maps onto libgc besides allocation: finalizers,
 * weak references (disappearing links) and global roots (GC_add_roots).
 *
 * Finalizers. libgc runs finalizers on demand (GC_set_finalize_on_demand(1), set by
 * bdw.c): when a collection has found finalizable objects unreachable, libgc's notifier
 * (bdw_notify) asks the thread that triggered it to run them at its next safepoint
 * (GCL_BDW_WORK_FINALIZE in safepoint_work), outside any allocation and with a mutator at
 * hand; explicit collections, thread detach and the final collection run them too. One
 * libgc finalizer, bdw_finalize, serves every object (GC_register_finalizer_no_order: the
 * objects of a cyclic isolate are all finalized, as PEP 442 does; libgc's default
 * topological order would never finalize a cycle). For each object it:
 *   1. clears the object's weak references and runs their callbacks (their links were
 *      already cleared by the collection that found the object unreachable, before any
 *      finalizer could see it: libgc clears short disappearing links first);
 *   2. runs the type's finalizer once (GCL_OBJ_FINALIZED); the finalizer may resurrect
 *      the object, and libgc frees it only once it is unreachable again;
 *   3. in GCL_VERIFY builds, reports the object freed to the verifier (gcl_free_object),
 *      so the oracle catches an object libgc found unreachable while it is reachable from
 *      gclab's roots. An object that ran a finalizer in 2 is watched again first.
 *   4. in GCL_VERIFY builds, once libgc's queue is empty (no finalizer of the batch can
 *      read it any more), clears the reference slots of every object step 3 reported.
 *      Such an object is dead, but libgc frees its memory only at a later collection, and
 *      only if no word points to it then; without step 4 one stale word (a dead stack
 *      slot, a freed block's leftovers) reaching it kept everything its slots reached
 *      alive and never finalized: a verifier-only retention that release builds, where an
 *      object without a finalizer is reclaimed by the collection that finds it
 *      unreachable, do not have (pyobjects x1 in conformance/bdw-bdw ended with 948-1544
 *      objects live against a bound of 901 in about 1 run in 20; 0 of 150 with step 4).
 * libgc keeps the object's memory (and everything it reaches) until the finalizer ran, so
 * the weak-reference table's key stays valid up to step 1.
 *
 * Invariants: bdw_finalize runs only inside run_finalizers, on an attached mutator
 * (running_m); run_finalizers does not nest on one thread; an object on a thread's dead
 * list (step 4) is reachable from libgc's point of view (the list is uncollectable
 * memory) until its slots are cleared, so its memory is not reused before.
 * No macros but GCL_VERIFY. */
#include <stdint.h>
#include <string.h>

#include "bdw-internal.h"
#include "collector.h"
#include "weakref.h"

static __thread struct gcl_mutator *running_m; /* whose finalizers run now, else NULL */
/* GCL_VERIFY builds: objects this thread's run_finalizers reported freed, whose slots are
 * cleared once the queue is empty. The array is libgc-uncollectable memory, so libgc scans
 * it and cannot reclaim (and reuse) an entry's memory before the clearing. */
static __thread struct gcl_object **dead;
static __thread size_t ndead, dead_cap;
static __thread bool in_finalizers;            /* run_finalizers is on this thread's stack */

static void bdw_finalize(void *obj, void *cd) {
  (void)cd;
  struct gcl_object *o = obj;
  struct gcl_mutator *m = running_m;
  GCL_ASSERT_ALWAYS(m != NULL);
  if (gcl_obj_flags(o) & GCL_OBJ_WEAKREFD) {
    gcl_weakref_clear(m, o);
    __atomic_fetch_add(&gcl_bdw_stats.weak_cleared, 1, __ATOMIC_RELAXED);
  }
  const struct gcl_type *t = gcl_type_of(o);
  if (t->finalize && !(gcl_obj_flags(o) & GCL_OBJ_FINALIZED)) {
    gcl_obj_set_flag(o, GCL_OBJ_FINALIZED);
    if (GCL_VERIFY) gcl_bdw_watch(o); /* report its death when it is unreachable again */
    t->finalize(m, o);
    __atomic_fetch_add(&gcl_bdw_stats.finalizers_run, 1, __ATOMIC_RELAXED);
    return;
  }
  if (GCL_VERIFY) {
    gcl_free_object(m, o);
    if (ndead == dead_cap) {
      size_t cap = dead_cap ? 2 * dead_cap : 256;
      struct gcl_object **grown = GC_MALLOC_UNCOLLECTABLE(cap * sizeof *grown);
      GCL_ASSERT_ALWAYS(grown != NULL);
      if (ndead) memcpy(grown, dead, ndead * sizeof *dead);
      GC_FREE(dead);
      dead = grown;
      dead_cap = cap;
    }
    dead[ndead++] = o;
  }
}

static void clear_slot(struct gcl_object **slot, void *ctx) {
  (void)ctx;
  *slot = NULL;
}

void gcl_bdw_watch(struct gcl_object *o) {
  GC_register_finalizer_no_order(o, bdw_finalize, NULL, NULL, NULL);
}

void gcl_bdw_verify_collect(void) { GC_gcollect(); }

void gcl_bdw_run_finalizers(struct gcl_mutator *m) {
  if (in_finalizers) return; /* a finalizer collected: the outer loop gets to them */
  in_finalizers = true;
  struct gcl_mutator *outer = running_m;
  running_m = m;
  /* Loop invariant: every finalizer libgc queued before this test has run or is queued. */
  while (GC_should_invoke_finalizers()) GC_invoke_finalizers();
  if (GCL_VERIFY) {
    for (size_t i = 0; i < ndead; i++) gcl_trace(dead[i], clear_slot, NULL);
    if (ndead) memset(dead, 0, ndead * sizeof *dead); /* no longer kept */
    ndead = 0;
  }
  running_m = outer;
  in_finalizers = false;
}

void gcl_bdw_final_thread_exit(void) {
  GC_FREE(dead); /* empty: run_finalizers cleared it before returning */
  dead = NULL;
  ndead = dead_cap = 0;
}

void gcl_bdw_notify(void) {
  struct gcl_mutator *m = gcl_bdw_self();
  if (m) __atomic_fetch_or(&m->safepoint_work, GCL_BDW_WORK_FINALIZE, __ATOMIC_RELAXED);
  else __atomic_store_n(&gcl_bdw_finalize_pending, true, __ATOMIC_RELAXED);
}

/* --- weak references ------------------------------------------------------------------- */

void gcl_collector_weak_link(struct gcl_object **link, struct gcl_object *o) {
  /* o must outlive its table entry: bdw_finalize clears the entry before libgc frees o. */
  gcl_bdw_watch(o);
  GC_general_register_disappearing_link((void **)link, o);
}

void gcl_collector_weak_unlink(struct gcl_object **link) {
  GC_unregister_disappearing_link((void **)link);
}

static void *read_link(void *link) { return *(void **)link; }

/* Under libgc's lock: a collection that decided the referent is unreachable cannot be
 * between its decision and clearing the link while we read it. */
struct gcl_object *gcl_collector_weak_read(struct gcl_object **link) {
  return GC_call_with_alloc_lock(read_link, link);
}

/* --- global roots ---------------------------------------------------------------------- */

void gcl_collector_global_root_added(struct gcl_object **slot) {
  GC_add_roots(slot, slot + 1);
}

void gcl_collector_global_root_removed(struct gcl_object **slot) {
  GC_remove_roots(slot, slot + 1);
}
