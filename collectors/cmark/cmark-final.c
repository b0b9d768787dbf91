/* SPDX-License-Identifier: MIT */
/* collectors/cmark/cmark-final.c — finalizable objects and weak references at the
 * termination of a concurrent cycle, found without walking the heap.
 *
 * stw mode finds the garbage by walking the heap with the world stopped and clears weak
 * references and resurrects finalizable objects from that list (cmark-gc.c). Concurrent
 * mode cannot afford a heap walk in its remark pause, so:
 *  - every object whose type has a finalizer is noted at allocation (the attrs header's
 *    on_alloc hook, gcl_cmark_track_final) in its thread's list; the lists are gathered
 *    into one registry with the world stopped (remark, or a stw cycle) and at detach;
 *  - weak references are found through core's side table (gcl_weakref_for_each_referent).
 * At termination (world stopped, marking drained): the handles of every unmarked referent
 * are cleared (callbacks queued), then every unmarked finalizable object whose finalizer
 * has not run is resurrected (flag GCL_OBJ_FINALIZED, shaded, put on the finalize list)
 * — the order of stw mode and of CPython's handle_weakrefs.
 *
 * Invariant of the registry: it holds only objects that are allocated and not finalized
 * yet. An entry leaves it when its object is resurrected (it becomes FINALIZED, and a
 * later cycle frees it with no finalizer to run) or is found FINALIZED; since every
 * unmarked entry is resurrected before any sweep, no entry can name a freed object.
 * All of it runs with the world stopped, or under final_lock (detach). No macros change
 * this file. */
#include <stdlib.h>

#include "cmark-internal.h"
#include "weakref.h"

int gcl_cmark_track_final;

static pthread_mutex_t final_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cmark_stack registry; /* gathered finalizable objects, under final_lock */

void gcl_cmark_note_finalizable(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  if (cm->final_n == cm->final_cap) {
    size_t cap = cm->final_cap ? 2 * cm->final_cap : 64;
    struct gcl_object **a = realloc(cm->final, cap * sizeof *a);
    if (!a) gcl_alloc_failed(cap * sizeof *a);
    cm->final = a;
    cm->final_cap = cap;
  }
  cm->final[cm->final_n++] = o;
}

/* With final_lock held: move cm's list into the registry. */
static void take_list_locked(struct gcl_collector_mutator *cm) {
  for (size_t i = 0; i < cm->final_n; i++) cmark_stack_push(&registry, cm->final[i]);
  cm->final_n = 0;
}

void cmark_final_thread_detach(struct gcl_collector_mutator *cm) {
  pthread_mutex_lock(&final_lock);
  take_list_locked(cm);
  pthread_mutex_unlock(&final_lock);
  free(cm->final);
  cm->final = NULL;
  cm->final_cap = 0;
}

/* Lock order: world_lock (gcl_for_each_mutator), then final_lock; grey_lock is taken
 * after world_lock and before final_lock (cmark-conc.c), never the other way. */
static void gather_thread(struct gcl_mutator *t, void *ctx) {
  (void)ctx;
  pthread_mutex_lock(&final_lock);
  take_list_locked(&t->collector);
  pthread_mutex_unlock(&final_lock);
}

void cmark_final_gather(void) {
  if (gcl_cmark_track_final) gcl_for_each_mutator(gather_thread, NULL);
}

static void collect_unmarked(struct gcl_object *o, void *ctx) {
  if (!cmark_is_marked(o)) cmark_stack_push(ctx, o);
}

/* Keep the entries that stay in the registry (marked, not finalized); resurrect = true:
 * resurrect the unmarked ones that are not finalized. */
static void filter_registry(bool resurrect) {
  size_t keep = 0;
  /* Loop invariant: registry.a[0..keep) are the entries kept so far, in order. */
  for (size_t i = 0; i < registry.n; i++) {
    struct gcl_object *o = registry.a[i];
    if (gcl_obj_flags(o) & GCL_OBJ_FINALIZED) continue;
    if (cmark_is_marked(o)) {
      registry.a[keep++] = o;
      continue;
    }
    if (!resurrect) {
      registry.a[keep++] = o;
      continue;
    }
    gcl_obj_set_flag(o, GCL_OBJ_FINALIZED);
    cmark_stack_push(&gcl_cmark.finalize, o);
    cmark_shade(o);
  }
  registry.n = keep;
}

void cmark_final_terminate(struct gcl_weakref_pending *weak) {
  struct cmark_stack dead = {0};
  gcl_weakref_for_each_referent(collect_unmarked, &dead);
  for (size_t i = 0; i < dead.n; i++) gcl_weakref_clear_deferred(dead.a[i], weak);
  __atomic_fetch_add(&gcl_cmark.fig.weak_cleared, dead.n, __ATOMIC_RELAXED);
  free(dead.a);
  if (!gcl_cmark_track_final) return;
  pthread_mutex_lock(&final_lock); /* the caller gathered the lists (world_lock first) */
  filter_registry(true);
  pthread_mutex_unlock(&final_lock);
}

void cmark_final_prune(void) {
  if (!gcl_cmark_track_final) return;
  cmark_final_gather();
  pthread_mutex_lock(&final_lock);
  filter_registry(false);
  pthread_mutex_unlock(&final_lock);
}
