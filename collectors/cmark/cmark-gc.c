/* SPDX-License-Identifier: MIT */
/* collectors/cmark/cmark-gc.c — one cmark cycle (REFERENCE §5), stw mode:
 *
 *   1. stop the world; new epoch (everything is white);
 *   2. shade the roots: every thread's root frames, the global roots, and the objects
 *      resurrected by the previous cycle whose finalizers have not run yet;
 *   3. drain the grey stack and the SATB buffers until both are empty;
 *   4. walk the heap (gcl_allocator_walk): every block neither marked nor freed is
 *      garbage; clear the weak references of each garbage object (their callbacks are
 *      queued); a garbage object with a finalizer that has not run is resurrected
 *      (PEP 442: flagged FINALIZED, shaded, kept on the finalize list) and step 3 runs
 *      again, so everything it reaches survives this cycle too;
 *   5. GCL_VERIFY: check that every object reachable from the roots is marked;
 *   6. sweep: free every garbage object still unmarked (gcl_free_unowned: no mutator's
 *      allocator state is used, so a sweeper thread can run this step);
 *   7. restart the world; run the weak-reference callbacks, then the finalizers; a
 *      resurrected object that stays unreachable is freed by a later cycle.
 *
 * Loop invariant of marking (step 3): every marked object is black (its slots shaded) or
 * on the grey stack; every white object reachable from the roots is reachable from a grey
 * object or from an entry of a SATB buffer.
 *
 * The heap walk runs world-stopped and frees nothing itself: garbage is collected into a
 * list and freed after the walk, so the visitor never frees under an allocator's walk
 * lock (core/allocator.h). Events: phases "mark", "weak-finalize", "sweep", "finalize",
 * roots-traced and heap-traced marks, live data after the sweep. No macros change this
 * file (GCL_VERIFY builds add step 5). */
#include <stdlib.h>

#include "allocator.h"
#include "cmark-internal.h"
#include "event.h"
#include "pause.h"
#include "stats.h"
#include "weakref.h"

uintptr_t gcl_cmark_epoch = CMARK_FIRST_EPOCH; /* objects before the first cycle hold it */
__thread bool cmark_in_cycle; /* cmark-internal.h */

void cmark_stack_push(struct cmark_stack *s, struct gcl_object *o) {
  if (GCL_UNLIKELY(s->n == s->cap)) {
    size_t cap = s->cap ? 2 * s->cap : 1024;
    struct gcl_object **a = realloc(s->a, cap * sizeof *a);
    if (!a) gcl_alloc_failed(cap * sizeof *a);
    s->a = a;
    s->cap = cap;
  }
  s->a[s->n++] = o;
}


/* --- marking ------------------------------------------------------------------------------ */

bool cmark_is_marked(const struct gcl_object *o) {
  return __atomic_load_n(&o->gcl_word, __ATOMIC_RELAXED) == __atomic_load_n(&gcl_cmark_epoch, __ATOMIC_RELAXED);
}

bool cmark_try_mark(struct gcl_object *o) {
  uintptr_t e = __atomic_load_n(&gcl_cmark_epoch, __ATOMIC_RELAXED);
  uintptr_t w = __atomic_load_n(&o->gcl_word, __ATOMIC_RELAXED);
  if (w == e) return false;
  GCL_ASSERT(w != CMARK_FREED);
  /* The CAS makes exactly one marker grey the object (markers > 1). */
  return __atomic_compare_exchange_n(&o->gcl_word, &w, e, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

void cmark_shade(struct gcl_object *o) {
  if (cmark_try_mark(o)) cmark_stack_push(&gcl_cmark.grey, o);
}

void cmark_shade_slot(struct gcl_object **slot, void *ctx) {
  (void)ctx;
  struct gcl_object *o = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
  if (o) cmark_shade(o);
}

void cmark_shade_slot_local(struct gcl_object **slot, void *ctx) {
  struct gcl_object *o = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
  if (o && cmark_try_mark(o)) cmark_stack_push(ctx, o);
}

void cmark_mark_begin(bool barrier) {
  /* Barrier first, then the new epoch (allocate-black): see cmark-conc.c's order. */
  if (barrier) gcl_marking_set(true);
  __atomic_add_fetch(&gcl_cmark_epoch, 1, __ATOMIC_SEQ_CST);
}

void cmark_mark_end(void) { gcl_marking_set(false); }

/* Shade every entry of the SATB buffers handed over so far; true if there were any. */
bool cmark_drain_satb(void) {
  struct gcl_satb_buffer *b = gcl_satb_take_all();
  bool any = b != NULL;
  while (b) {
    struct gcl_satb_buffer *next = b->next;
    for (unsigned i = 0; i < b->n; i++) cmark_shade(b->e[i]);
    cmark_fig_add(&gcl_cmark.fig.satb_drained, b->n);
    gcl_satb_buffer_free(b);
    b = next;
  }
  return any;
}

void cmark_mark_drain(void) {
  struct cmark_stack *g = &gcl_cmark.grey;
  uint64_t blackened = 0;
  /* Loop invariant: see the file comment; each pass empties the grey stack, then takes
   * the SATB buffers, until a pass finds both empty. */
  do {
    while (g->n > 0) {
      struct gcl_object *o = g->a[--g->n];
      gcl_trace(o, cmark_shade_slot, NULL);
      blackened++;
    }
  } while (cmark_drain_satb() || g->n > 0);
  cmark_fig_add(&gcl_cmark.fig.marked, blackened);
}

static void shade_thread_roots(struct gcl_mutator *t, void *ctx) {
  (void)ctx;
  gcl_satb_flush(t); /* its buffer joins the snapshot */
  gcl_visit_roots(t, cmark_shade_slot, NULL);
}

static void shade_roots(void) {
  gcl_for_each_mutator(shade_thread_roots, NULL);
  gcl_visit_global_roots(cmark_shade_slot, NULL);
  struct cmark_stack *f = &gcl_cmark.finalize;
  for (size_t i = 0; i < f->n; i++) cmark_shade(f->a[i]);
  gcl_event_roots_traced();
}

/* --- the heap walk: garbage, weak references, resurrection -------------------------------- */

bool cmark_is_garbage(const struct gcl_object *o) {
  uintptr_t w = __atomic_load_n(&o->gcl_word, __ATOMIC_RELAXED);
  return w >= CMARK_FIRST_EPOCH && w < __atomic_load_n(&gcl_cmark_epoch, __ATOMIC_RELAXED);
}

static void find_garbage(void *mem, size_t bytes, void *ctx) {
  (void)bytes, (void)ctx;
  struct gcl_object *o = (struct gcl_object *)((char *)mem + GCL_COLLECTOR_PREFIX_SIZE);
  if (cmark_is_garbage(o)) cmark_stack_push(&gcl_cmark.garbage, o);
}

/* Clear the garbage's weak references (callbacks queued on *weak) and resurrect the
 * objects with a finalizer still to run; then mark what they reach. */
static void weak_and_finalizers(struct gcl_weakref_pending *weak) {
  struct cmark_stack *g = &gcl_cmark.garbage;
  uint64_t cleared = 0;
  for (size_t i = 0; i < g->n; i++) {
    struct gcl_object *o = g->a[i];
    unsigned flags = gcl_obj_flags(o);
    if (flags & GCL_OBJ_WEAKREFD) {
      gcl_weakref_clear_deferred(o, weak);
      cleared++;
    }
    const struct gcl_type *t = gcl_type_of(o);
    if (t->finalize && !(flags & GCL_OBJ_FINALIZED)) {
      gcl_obj_set_flag(o, GCL_OBJ_FINALIZED);
      cmark_stack_push(&gcl_cmark.finalize, o);
      cmark_shade(o);
    }
  }
  cmark_mark_drain();
  cmark_fig_add(&gcl_cmark.fig.weak_cleared, cleared);
}

/* Add what st counted to the figures and the heap totals, and start it again. */
void cmark_sweep_merge(struct gcl_thread_stats *st) {
  cmark_fig_add(&gcl_cmark.fig.swept, st->objects_freed);
  cmark_fig_add(&gcl_cmark.fig.swept_bytes, (uint64_t)-st->live_bytes_delta);
  gcl_stats_merge(st);
  *st = (struct gcl_thread_stats){0};
}

/* Free every object of the garbage list that is still garbage (not resurrected, not a
 * block whose allocation was in flight when the concurrent walk read it). */
void cmark_sweep_garbage(struct gcl_mutator *poll) {
  struct cmark_stack *g = &gcl_cmark.garbage;
  struct gcl_thread_stats st = {0};
  /* Loop invariant: g->a[0..i) are freed or were not garbage any more, and what was freed
   * before the last poll is in the live-bytes total already (concurrent mode: a paced
   * mutator sees memory come back as the frees go); no lock is held (gcl_free_unowned is
   * a remote push), so a safepoint between two frees is safe. */
  for (size_t i = 0; i < g->n; i++) {
    struct gcl_object *o = g->a[i];
    if (poll && (i & (CMARK_SWEEP_POLL - 1)) == CMARK_SWEEP_POLL - 1) {
      cmark_sweep_merge(&st);
      gcl_safepoint(poll);
    }
    if (!cmark_is_garbage(o)) continue; /* resurrected, or allocated during the walk */
    gcl_free_unowned(&st, o);
  }
  g->n = 0;
  cmark_sweep_merge(&st);
}

/* After the restart: callbacks, then finalizers (m is attached, the world runs). */
void cmark_run_finalizers(struct gcl_mutator *m, struct gcl_weakref_pending *weak, bool poll) {
  gcl_event_phase_start("finalize");
  gcl_weakref_run_callbacks(m, weak);
  struct cmark_stack *f = &gcl_cmark.finalize;
  /* Loop invariant: objects f->a[i..] are still on the list, hence roots of any cycle;
   * no cycle runs meanwhile (we hold gc_lock), and a finalizer that resurrects its object
   * stored it somewhere reachable. */
  size_t n = f->n;
  for (size_t i = 0; i < n; i++) {
    struct gcl_object *o = f->a[i];
    gcl_type_of(o)->finalize(m, o);
    if (poll) gcl_safepoint(m); /* f->a[i+1..] stay roots across it: the list is intact */
  }
  f->n = 0;
  cmark_fig_add(&gcl_cmark.fig.finalized, n);
  gcl_event_phase_end("finalize");
}

/* The world-stopped part of a cycle (steps 1-6); m is the requester. */
static void cycle_stopped(struct gcl_mutator *m, struct gcl_weakref_pending *weak) {
  uint64_t t0 = gcl_now_ns();
  gcl_stop_the_world(m);
  gcl_event_phase_start("mark");
  cmark_mark_begin(false); /* nobody runs: no barrier needed */
  shade_roots();
  cmark_mark_drain();
  gcl_event_phase_end("mark");
  gcl_event_phase_start("weak-finalize");
  gcl_allocator_walk(find_garbage, NULL);
  weak_and_finalizers(weak);
  cmark_final_prune(); /* concurrent mode's lists: drop what this sweep may free */
  gcl_event_heap_traced();
  gcl_event_phase_end("weak-finalize");
  if (GCL_VERIFY) cmark_verify_marked();
  cmark_mark_end();
  uint64_t t1 = gcl_now_ns();
  gcl_event_phase_start("sweep");
  cmark_sweep_garbage(NULL); /* the world is stopped: no safepoint */
  gcl_event_phase_end("sweep");
  uint64_t t2 = gcl_now_ns();
  gcl_start_the_world(m);
  cmark_fig_add(&gcl_cmark.fig.mark_ns, t1 - t0);
  cmark_fig_add(&gcl_cmark.fig.sweep_ns, t2 - t1);
}

/* The next trigger, after a cycle left `live` bytes: a share of the limit, or grow-by-
 * factor without one. A heap over its limit after a full collection is out of memory. */
void cmark_retarget(int64_t live, bool full) {
  int64_t lim = gcl_cmark.limit, trig;
  if (lim > 0) {
    if (live > lim && full) gcl_heap_out_of_memory(live);
    if (live > lim) live = lim; /* concurrent: the pacing falls back to a full collection */
    trig = (int64_t)(gcl_cmark.trigger_frac * (double)lim);
    if (live >= trig) trig = live + (lim - live) / 2; /* room to allocate before the next */
  } else {
    trig = (int64_t)((double)live * gcl_cmark.grow);
    if (trig < gcl_cmark.min_trigger) trig = gcl_cmark.min_trigger;
  }
  __atomic_store_n(&gcl_cmark.trigger, trig, __ATOMIC_RELAXED);
  gcl_event_heap_resized((uint64_t)(lim > 0 ? lim : trig));
}

bool cmark_collect(struct gcl_mutator *m, bool explicit) {
  if (cmark_in_cycle) return false; /* a finalizer of ours asked for a collection */
  if (pthread_mutex_trylock(&gcl_cmark.gc_lock) != 0) {
    if (!explicit) return false;
    gcl_blocking_enter(m); /* never wait for the lock while a stop may wait for us */
    pthread_mutex_lock(&gcl_cmark.gc_lock);
    gcl_blocking_leave(m);
  }
  cmark_in_cycle = true;
  uint64_t t0 = gcl_now_ns();
  gcl_heap_bytes_flush(m);
  struct gcl_weakref_pending weak = {NULL, NULL};
  cycle_stopped(m, &weak);
  int64_t live = gcl_stats_live_bytes();
  gcl_event_live_data((uint64_t)(live > 0 ? live : 0));
  cmark_run_finalizers(m, &weak, false); /* may run inside a safepoint handler */
  cmark_fig_add(&gcl_cmark.fig.cycles, 1);
  cmark_fig_add(&gcl_cmark.fig.gc_ns, gcl_now_ns() - t0);
  cmark_retarget(live, true);
  cmark_in_cycle = false;
  pthread_mutex_unlock(&gcl_cmark.gc_lock);
  return true;
}
