/* SPDX-License-Identifier: MIT */
/* collectors/brc/brc-gc.c — the cycle collector of free-threaded CPython
 * (Python/gc_free_threading.c, 3.13/3.14), not generational:
 *
 *   stop the world
 *   1. merge every thread's queue (each queue reference goes; a count may reach zero, and
 *      such an object is simply found unreachable below, as CPython does);
 *   2. mark alive from the roots: every thread's root frames, the global roots, objects
 *      other threads are killing, and everything they reach (this is where deferred
 *      objects' uncounted references are accounted for; CPython's mark_alive_from_roots);
 *      each stopped thread marks from its own (gcl_world_parallel, round 1);
 *   3. ONE heap walk, in parts that the stopped threads run at once (round 2): a tracked
 *      object (one whose type can hold references, or a deferred one) not marked alive
 *      is an immortal (a root: marked with all it reaches, once the parts are merged), a
 *      frozen object with references (skipped, gc.freeze) or a candidate, whose gc_refs =
 *      true count (minus the bias of a deferred object) and which goes on its part's
 *      candidate list; the collecting thread merges the parts' lists;
 *   4. candidates: subtract, from each child, the references of candidates (not alive);
 *   5. candidates: one with gc_refs > 0 is referenced from outside: mark it and what it
 *      reaches alive;
 *   6. candidates: the rest is unreachable: merge its counts plus one reference of ours
 *      (deferred objects stop being deferred) and list it; clear its weak references;
 *   start the world; run weak reference callbacks and finalizers (once each, PEP 442);
 *   if any finalizer ran: stop the world, recompute gc_refs within the unreachable set and
 *   take back whatever a finalizer resurrected; start the world;
 *   clear every unreachable object's references and drop our reference: reference counting
 *   frees the set; with brc.owner_clear=true an automatic collection hands each other
 *   thread's unreachable objects back to it, cleared at its next safepoint
 *   (gcl_brc_clear_handed; clear_objects has the invariant that makes the concurrent
 *   clearing safe).
 *
 * Steps 4-6 run over the candidate list instead of walking the heap three more times
 * (CPython walks it four times, as this file did before): on thread-private work almost
 * everything is alive from the roots, so the list is short, and the whole collection
 * is one marking of the live graph plus one linear walk. The bits of a collection carry
 * its tag (GC_TAG_BIT), so no walk clears the previous collection's.
 *
 * The trigger's count restarts inside the stop (find_garbage); the clearing's frees of
 * the garbage are not counted (clear_objects).
 *
 * Steps 1 and 4-6 run on the collecting thread alone (queues and candidates are short on
 * thread-private work; the marking and the walk are the cost that grows with the heap).
 *
 * "The whole heap" is found by walking the allocator's blocks (capability heap-walk,
 * core/allocator.h, in parts with heap-walk-parallel, else serially in part 0); no object
 * list is kept. Blocks whose owner is GCL_BRC_OWNER_FREED are
 * dead memory still held back (QSBR grace period, verifier quarantine) and are skipped.
 * Only one collection runs at a time (gcl_brc.gc_lock). Memory: a mark stack, the
 * candidate list (objects not reachable from the roots: garbage, and objects only C locals
 * outside root frames hold) and the unreachable list (malloc'd).
 *
 * Events (core/event.h), each collection: phases "merge" (step 1) and "mark" (2-6;
 * ROOTS_TRACED once step 2 has visited every root, HEAP_TRACED after step 6) inside the
 * stop, "finalize" (callbacks, finalizers, resurrection) and "clear" after it, then
 * LIVE_DATA (the heap's live bytes).
 *
 * Steps 2-3 (the marking and the heap walk, in parallel rounds) are in brc-mark.c, with
 * the marking's loop invariant; what both files share is in brc-gc.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "allocator.h"
#include "brc-gc.h"
#include "collector.h"
#include "event.h"
#include "garbage.h"
#include "pause.h"
#include "weakref.h"

/* --- marking ------------------------------------------------------------------------------ */

/* gcl_brc_merge with the world stopped: nobody else touches the counts, so plain (relaxed)
 * stores instead of a CAS loop (CPython's merge_refcount in the collector likewise). */
static intptr_t merge_stopped(struct gcl_object *o, intptr_t extra) {
  struct gcl_brc_prefix *p = gcl_brc_prefix_of(o);
  GCL_ASSERT(p->ref_local != GCL_BRC_LOCAL_IMMORTAL);
  intptr_t count = gcl_brc_true_count(o) + extra;
  __atomic_store_n((intptr_t *)&o->gcl_word, count * GCL_BRC_SHARED_ONE | GCL_BRC_MERGED,
                   __ATOMIC_RELAXED);
  p->ref_local &= GCL_BRC_LOCAL_FROZEN;
  __atomic_store_n(&p->owner, GCL_BRC_OWNER_NONE, __ATOMIC_RELAXED);
  return count;
}

/* Put o on the garbage list (one reference of ours is taken by the caller), noting the
 * thread that owned it (0: none, or o was deferred): clear_garbage hands it back to that
 * thread. */
static void push_garbage(struct gc_state *st, struct gcl_object *o, uint32_t owner) {
  push(&st->garbage, o);
  if (st->owner_cap < st->garbage.cap) {
    st->owner_cap = st->garbage.cap;
    st->garbage_owner = realloc(st->garbage_owner, st->owner_cap * sizeof *st->garbage_owner);
    if (!st->garbage_owner) gcl_alloc_failed(st->owner_cap * sizeof *st->garbage_owner);
  }
  bool thread = owner != GCL_BRC_OWNER_NONE && owner != GCL_BRC_OWNER_DEFERRED &&
                owner != GCL_BRC_OWNER_FREED && owner < GCL_BRC_MAX_THREADS;
  st->garbage_owner[st->garbage.n - 1] = thread ? owner : 0;
}

/* Step 1, per queued object: the queue's reference goes. A tracked object whose count
 * reaches zero here is found unreachable by the walk; an untracked one the walk passes
 * by, so it joins the garbage list now, with one reference of ours (clear_garbage drops
 * it and reference counting frees it, after any finalizer). */
static void merge_queued(struct gcl_object *o, void *ctx) {
  struct gc_state *st = ctx;
  st->merged++;
  if (merge_stopped(o, -1) != 0 || tracked(o, GCL_BRC_OWNER_NONE)) return;
  merge_stopped(o, 1);
  set_flags(st, o, GC_UNREACHABLE);
  push_garbage(st, o, 0); /* its owner merged it already: the collecting thread clears it */
}

static void merge_thread(struct gcl_mutator *t, void *ctx) {
  if (t->collector.thread) gcl_brc_drain(t->collector.thread, merge_queued, ctx);
}


/* --- the candidates ------------------------------------------------------------------------ */

/* A candidate not (yet) alive: its gc_refs are still being computed. */
static inline bool open_candidate(const struct gc_state *st, struct gcl_object *o) {
  return flags_of(st, o) == GC_CANDIDATE;
}

static void subtract_slot(struct gcl_object **slot, void *ctx) {
  struct gcl_object *c = *slot;
  if (c && open_candidate(ctx, c)) gcl_brc_prefix_of(c)->u.gc.refs--;
}

/* Subtract, from each child, the references of candidates that are not alive. */
static void subtract_refs(struct gc_state *st) {
  for (size_t i = 0; i < st->cand.n; i++) {
    struct gcl_object *o = st->cand.a[i];
    if (!open_candidate(st, o)) continue;
    const struct gcl_type *t = gcl_type_of(o);
    struct gcl_object **s;
    size_t n = gcl_ref_range(o, t, &s);
    for (size_t k = 0; k < n; k++) subtract_slot(&s[k], st);
    if (!n && t->trace) t->trace(o, subtract_slot, st);
  }
}

/* A candidate with gc_refs > 0 is referenced from outside: it and all it reaches live. */
static void mark_referenced(struct gc_state *st) {
  for (size_t i = 0; i < st->cand.n; i++) {
    struct gcl_object *o = st->cand.a[i];
    if (!open_candidate(st, o)) continue;
    int32_t refs = gcl_brc_prefix_of(o)->u.gc.refs;
    if (refs < 0) fail(st, "more references from the heap than counted", o);
    if (refs <= 0) continue;
    push(&st->work, o);
    gcl_brc_drain_marks(st);
  }
}

/* What is left is unreachable: list it, holding one reference of ours, so that clearing
 * other garbage frees nothing before we let go. */
static void collect_unreachable(struct gc_state *st) {
  for (size_t i = 0; i < st->cand.n; i++) {
    struct gcl_object *o = st->cand.a[i];
    if (!open_candidate(st, o)) {
      st->survivors += is_container(o);
      continue;
    }
    set_flags(st, o, GC_UNREACHABLE);
    push_garbage(st, o, __atomic_load_n(&gcl_brc_prefix_of(o)->owner, __ATOMIC_RELAXED));
    merge_stopped(o, 1); /* a deferred object stops being deferred: its bias goes */
  }
}

static bool is_unreachable(const struct gc_state *st, struct gcl_object *o) {
  return (flags_of(st, o) & GC_UNREACHABLE) != 0;
}

/* After finalizers ran (world stopped again): which unreachable objects are referenced
 * from outside the set now? They, and what they reach in the set, are resurrected. */
static void resurrect_slot(struct gcl_object **slot, void *ctx) {
  struct gc_state *st = ctx;
  struct gcl_object *c = *slot;
  if (!c || !is_unreachable(st, c)) return;
  set_flags(st, c, 0);
  push(&st->work, c);
}

static void subtract_unreachable(struct gcl_object **slot, void *ctx) {
  struct gcl_object *c = *slot;
  if (c && is_unreachable(ctx, c)) gcl_brc_prefix_of(c)->u.gc.refs--;
}

static uint64_t handle_resurrected(struct gc_state *st) {
  struct objstack *g = &st->garbage;
  for (size_t i = 0; i < g->n; i++) {
    intptr_t count = gcl_brc_true_count(g->a[i]) - 1; /* without ours */
    gcl_brc_prefix_of(g->a[i])->u.gc.refs = count > INT32_MAX ? INT32_MAX : (int32_t)count;
  }
  for (size_t i = 0; i < g->n; i++) gcl_trace(g->a[i], subtract_unreachable, st);
  uint64_t before = 0, after = 0;
  for (size_t i = 0; i < g->n; i++) before += is_unreachable(st, g->a[i]);
  for (size_t i = 0; i < g->n; i++) {
    struct gcl_object *o = g->a[i];
    if (!is_unreachable(st, o) || gcl_brc_prefix_of(o)->u.gc.refs <= 0) continue;
    set_flags(st, o, 0);
    push(&st->work, o);
    while (st->work.n > 0) gcl_trace(st->work.a[--st->work.n], resurrect_slot, st);
  }
  for (size_t i = 0; i < g->n; i++) after += is_unreachable(st, g->a[i]);
  return before - after;
}

/* Clearing a garbage object's slot: the reference goes, which may free the child. */
static void clear_slot(struct gcl_object **slot, void *ctx) {
  struct gcl_mutator *m = ctx;
  struct gcl_object *c = *slot;
  if (!c) return;
  __atomic_store_n(slot, NULL, __ATOMIC_RELEASE);
  if (gcl_rc_thread_dec(m, c, true)) gcl_dealloc(m, c);
}

/* Clear each object's slots (unless only our reference is to go: resurrected objects),
 * then drop the collection's reference to it; reference counting frees the garbage. What
 * a collection frees is not the program's: the trigger does not count its frees of
 * containers (they were counted before the collection's stop, which reset the count;
 * brc.c gcl_brc_alloc_batch drops this thread's batches meanwhile and alloc_count goes
 * back to its value before) and GCL_BRC_COUNTERS leaves its RC operations out.
 *
 * Loop invariant: every object of objs[i..n) still holds the collection's reference, so
 * none is freed before its turn, whatever clearing objs[0..i) released. Other threads may
 * clear other batches of the same garbage at the same time (cross-thread edges: handoff,
 * shared-reads): every garbage object's counts are merged (owner none), so each
 * decrement is the shared count's CAS and exactly one thread sees it reach zero and
 * frees it; a batch's objects are reachable from nothing but garbage, so nobody else
 * reads or writes their slots. */
static void clear_objects(struct gcl_mutator *m, struct gcl_object **objs, size_t n, bool slots,
                          bool poll) {
  struct gcl_brc_thread *t = m->collector.thread;
#if GCL_BRC_COUNTERS
  struct gcl_brc_counters program_ops = m->collector.ops;
#endif
  int32_t alloc_count0 = m->collector.alloc_count;
  uint64_t freed0 = m->stats.objects_freed;
  if (t) t->clearing = true;
  for (size_t i = 0; i < n; i++) {
    if (poll) gcl_poll(m); /* an owner's clearing: a stop need not wait for the batch */
    if (slots) gcl_trace(objs[i], clear_slot, m);
    if (gcl_rc_thread_dec(m, objs[i], true)) gcl_dealloc(m, objs[i]);
  }
  if (t) t->clearing = false;
  m->collector.alloc_count = alloc_count0;
  gcl_garbage_freed(m->stats.objects_freed - freed0); /* core/garbage.h */
#if GCL_BRC_COUNTERS
  m->collector.ops = program_ops;
#endif
}

/* The garbage of one owner, while clear_garbage sorts it. */
struct owner_batch {
  uint32_t tid;                    /* the owner's id */
  size_t cap;                      /* objects b has room for */
  struct gcl_brc_clear_batch *b;   /* its garbage */
};

static void batch_add(struct owner_batch *ob, struct gcl_object *o) {
  if (!ob->b || ob->b->n == ob->cap) {
    size_t n = ob->b ? ob->b->n : 0;
    ob->cap = ob->cap ? 2 * ob->cap : 256;
    ob->b = realloc(ob->b, sizeof *ob->b + ob->cap * sizeof ob->b->obj[0]);
    if (!ob->b) gcl_alloc_failed(sizeof *ob->b + ob->cap * sizeof ob->b->obj[0]);
    ob->b->n = n;
  }
  ob->b->obj[ob->b->n++] = o;
}

/* Sort the unreachable objects owned by other threads into one batch per owner (batches,
 * *nb of them; an automatic collection only, with brc.owner_clear) and move every other
 * garbage object to the front of st->garbage; returns how many stay there. */
static size_t sort_by_owner(struct gc_state *st, struct owner_batch **batches, size_t *nb) {
  struct objstack *g = &st->garbage;
  size_t local = 0, cap = 0;
  *batches = NULL;
  *nb = 0;
  /* Invariant: g->a[0..local) are the objects of g->a[0..i) that this thread clears, in
   * their order; the others of g->a[0..i) are in exactly one batch. */
  for (size_t i = 0; i < g->n; i++) {
    struct gcl_object *o = g->a[i];
    uint32_t tid = st->garbage_owner[i];
    bool hand = gcl_brc.owner_clear && !st->explicit && tid != 0 && tid != st->m->collector.tid &&
                is_unreachable(st, o);
    if (!hand) {
      g->a[local++] = o;
      continue;
    }
    size_t k = 0;
    while (k < *nb && (*batches)[k].tid != tid) k++;
    if (k == *nb) {
      if (*nb == cap) {
        cap = cap ? 2 * cap : 8;
        *batches = realloc(*batches, cap * sizeof **batches);
        if (!*batches) gcl_alloc_failed(cap * sizeof **batches);
      }
      (*batches)[(*nb)++] = (struct owner_batch){.tid = tid};
    }
    batch_add(&(*batches)[k], o);
  }
  return local;
}

/* Clear every unreachable object's slots and drop our references (world running). An
 * automatic collection hands each other thread's garbage back to it (gcl_brc_hand_garbage:
 * it clears it at its next safepoint, gcl_brc_clear_handed, with local frees on its own
 * CPU while this thread goes on); this thread clears its own, the ownerless and deferred
 * objects', a gone thread's, and all of it for gcl_collect (whose caller expects the
 * garbage gone when it returns). Resurrected objects only lose our reference, first (what
 * they reach was resurrected with them). Returns how many were unreachable. */
static uint64_t clear_garbage(struct gc_state *st) {
  struct gcl_mutator *m = st->m;
  struct objstack *g = &st->garbage;
  uint64_t collected = 0, resurrected = 0;
  for (size_t i = 0; i < g->n; i++) collected += is_unreachable(st, g->a[i]);
  gcl_event_phase_start("clear");
  struct owner_batch *batches;
  size_t nb;
  size_t local = sort_by_owner(st, &batches, &nb);
  for (size_t i = 0; i < local; i++) /* resurrected ones to the front, for clear_objects */
    if (!is_unreachable(st, g->a[i])) {
      struct gcl_object *o = g->a[i];
      g->a[i] = g->a[resurrected];
      g->a[resurrected++] = o;
    }
  clear_objects(m, g->a, resurrected, false, false);
  for (size_t k = 0; k < nb; k++) {
    struct gcl_brc_clear_batch *hb = batches[k].b;
    for (size_t i = 0; i < hb->n; i++) gcl_brc_prefix_of(hb->obj[i])->u.gc.bits = GC_PENDING;
    if (gcl_brc_hand_garbage(batches[k].tid, hb)) continue; /* its push publishes the bits */
    clear_objects(m, batches[k].b->obj, batches[k].b->n, true, false); /* the owner is gone */
    free(batches[k].b);
  }
  free(batches);
  clear_objects(m, g->a + resurrected, local - resurrected, true, false);
  gcl_event_phase_end("clear");
  return collected;
}

/* Declared in brc-internal.h: m's safepoint (or detach) clears what collections handed
 * it. Its time counts in gc_s (summed over threads: it runs while other threads run).
 * Loop invariant: the batches from b on are not cleared yet, and each of their objects
 * holds the collection's reference. */
void gcl_brc_clear_handed(struct gcl_mutator *m) {
  struct gcl_brc_thread *t = m->collector.thread;
  if (!t) return;
  if (m->dealloc_draining) { /* a safepoint inside a free (a finalizer's): at the next one */
    __atomic_fetch_or(&m->safepoint_work, GCL_BRC_WORK_CLEAR, __ATOMIC_RELAXED);
    return;
  }
  struct gcl_brc_clear_batch *b = __atomic_exchange_n(&t->handed, NULL, __ATOMIC_ACQUIRE);
  if (!b) return;
  uint64_t t0 = gcl_now_ns(), n = 0;
  while (b) {
    struct gcl_brc_clear_batch *next = b->next;
    clear_objects(m, b->obj, b->n, true, true);
    n += b->n;
    free(b);
    b = next;
  }
  uint64_t t1 = gcl_now_ns();
  pthread_mutex_lock(&gcl_brc.stats_lock);
  gcl_brc.stats.gc_ns += t1 - t0;
  gcl_brc.stats.cleared_by_owners += n;
  pthread_mutex_unlock(&gcl_brc.stats_lock);
}

/* --- one collection ---------------------------------------------------------------------- */

static uint32_t gc_counter; /* collections started (gc_lock): the tags' source */


/* Steps 1-6 with the world stopped (the file comment's order, with the roots first). */
static void find_garbage(struct gc_state *st, struct gcl_weakref_pending *weak) {
  gc_counter = (gc_counter + 1) & 0x7FFFFFFu;
  if (gc_counter == 0 || gc_counter == GC_PENDING_COUNTER) gc_counter = 1;
  st->tag = GC_TAG_BIT | gc_counter << 4;
  /* The trigger's count starts again here, with every thread stopped: what any thread
   * allocates after the restart (while this thread still finalizes and clears) counts
   * towards the next collection; the clearing's own frees do not (clear_garbage). */
  __atomic_store_n(&gcl_brc.young_count, 0, __ATOMIC_RELAXED);
  gcl_event_phase_start("merge");
  gcl_for_each_mutator(merge_thread, st);
  gcl_event_phase_end("merge");
  gcl_event_phase_start("mark");
  gcl_brc_mark_and_walk(st);
  subtract_refs(st);
  mark_referenced(st);
  collect_unreachable(st);
  gcl_event_heap_traced();
  gcl_event_phase_end("mark");
  for (size_t i = 0; i < st->garbage.n; i++) gcl_weakref_clear_deferred(st->garbage.a[i], weak);
}

/* World running: weak-reference callbacks, then finalizers (once each, PEP 442), then a
 * second stop to take back what they resurrected. Returns the finalizers run. */
static uint64_t finalize_garbage(struct gc_state *st, struct gcl_weakref_pending *weak,
                                 uint64_t *resurrected) {
  gcl_event_phase_start("finalize");
  gcl_weakref_run_callbacks(st->m, weak);
  uint64_t finalized = 0;
  for (size_t i = 0; i < st->garbage.n; i++) {
    struct gcl_object *o = st->garbage.a[i];
    const struct gcl_type *t = gcl_type_of(o);
    if (!t->finalize || (gcl_obj_flags(o) & GCL_OBJ_FINALIZED)) continue;
    gcl_obj_set_flag(o, GCL_OBJ_FINALIZED);
    t->finalize(st->m, o);
    finalized++;
  }
  *resurrected = 0;
  if (finalized) {
    gcl_stop_the_world(st->m);
    *resurrected = handle_resurrected(st);
    gcl_start_the_world(st->m);
  }
  gcl_event_phase_end("finalize");
  return finalized;
}

bool gcl_brc_collect(struct gcl_mutator *m, bool explicit) {
  /* Objects on this thread's dealloc worklist have zero counts: not a time to look. */
  if (m->dealloc_draining) return false;
  if (pthread_mutex_trylock(&gcl_brc.gc_lock) != 0) {
    if (!explicit) return false;
    gcl_blocking_enter(m); /* never wait for the lock while others may wait for us */
    pthread_mutex_lock(&gcl_brc.gc_lock);
    gcl_blocking_leave(m);
  }
  uint64_t t0 = gcl_now_ns();
  struct gc_state st = {.m = m, .explicit = explicit};
  struct gcl_weakref_pending weak = {NULL, NULL};

  gcl_stop_the_world(m);
  find_garbage(&st, &weak);
  gcl_start_the_world(m);
  free(st.cand.a);
  st.cand = (struct objstack){NULL, 0, 0};

  uint64_t resurrected;
  uint64_t finalized = finalize_garbage(&st, &weak, &resurrected);
  uint64_t collected = clear_garbage(&st);
  gcl_heap_bytes_flush(m); /* our own frees count in the live data */
  gcl_event_live_data((uint64_t)gcl_stats_live_bytes());
  free(st.work.a);
  free(st.garbage.a);
  free(st.garbage_owner);

  __atomic_store_n(&gcl_brc.long_lived_total, st.survivors, __ATOMIC_RELAXED);
  if (gcl_brc.trigger == GCL_BRC_TRIGGER_MEMORY) { /* the memory trigger's reference point */
    enum gcl_brc_mem_source src;
    __atomic_store_n(&gcl_brc.last_mem, gcl_brc_memory_now(&src), __ATOMIC_RELAXED);
  }
  uint64_t t1 = gcl_now_ns();
  pthread_mutex_lock(&gcl_brc.stats_lock);
  gcl_brc.stats.collections++;
  gcl_brc.stats.scanned += st.scanned;
  gcl_brc.stats.marked += st.marked;
  gcl_brc.stats.marked_stopped += st.marked_stopped;
  gcl_brc.stats.scanned_stopped += st.scanned_stopped;
  gcl_brc.stats.collected += collected;
  gcl_brc.stats.finalizers_run += finalized;
  gcl_brc.stats.resurrected += resurrected;
  gcl_brc.stats.merged_by_gc += st.merged;
  gcl_brc.stats.invariant_failures += st.failures;
  gcl_brc.stats.gc_ns += t1 - t0;
  pthread_mutex_unlock(&gcl_brc.stats_lock);
  pthread_mutex_unlock(&gcl_brc.gc_lock);
  GCL_ASSERT(st.failures == 0);
  return true;
}
