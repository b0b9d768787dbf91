/* SPDX-License-Identifier: MIT */
/* collectors/brc/brc-mark.c — steps 2-3 of brc's collection (brc-gc.c's file comment has
 * the whole order): the marking alive from the roots (every thread's root frames and
 * dying objects, the global roots) with a prefetch window, and the one heap walk that
 * sorts every tracked object into survivors, immortals (roots) and candidates; both in
 * gcl_world_parallel rounds run by the stopped threads themselves (brc.parallel, default)
 * or serially on the collecting thread. Runs with the world stopped, under gc_lock.
 *
 * Loop invariant of the marking (gcl_brc_drain_marks): every object with this
 * collection's ALIVE flag is on the work stack or in the prefetch window, or has had all
 * its children pushed; an object gets the flag once (mark_one's CAS), so each is traced
 * at most once, whichever marker reaches it first. No macros change it beyond
 * PREFETCH_WINDOW (below). */
#include <pthread.h>
#include <stdlib.h>

#include "allocator.h"
#include "brc-gc.h"
#include "collector.h"
#include "event.h"

/* Marking pushes every non-NULL child unexamined (reading its header would stall on a
 * cache miss) and prefetches it; gcl_brc_drain_marks examines objects through a FIFO
 * window of PREFETCH_WINDOW entries, so each header has arrived by the time it is read (CPython
 * 3.14's gc_mark_buffer does the same). */
#define PREFETCH_WINDOW 16

static void mark_slot(struct gcl_object **slot, void *ctx) {
  struct gc_state *st = ctx;
  struct gcl_object *o = *slot;
  if (!o) return;
  __builtin_prefetch(gcl_brc_prefix_of(o), 1);
  push(&st->work, o);
}

/* Push o's children: the simple layouts inline (no call per slot), a trace hook through
 * mark_slot. */
static inline void push_children(struct gc_state *st, struct gcl_object *o) {
  const struct gcl_type *t = gcl_type_of(o);
  struct gcl_object **s;
  size_t n = gcl_ref_range(o, t, &s);
  if (n) {
    reserve(&st->work, n);
    for (size_t i = 0; i < n; i++) {
      struct gcl_object *c = s[i];
      if (!c) continue;
      __builtin_prefetch(gcl_brc_prefix_of(c), 1);
      st->work.a[st->work.n++] = c;
    }
  } else if (t->trace) {
    t->trace(o, mark_slot, st);
  }
}

/* Mark o alive if it is not yet; true if it must be traced. Objects this collection has
 * not tagged yet (the roots are marked before the heap walk) count as unmarked. Two
 * markers of the parallel root marking may reach one object (a cross-thread edge:
 * handoff, shared-reads): the flag goes in by compare-and-swap, so exactly one of them
 * wins and traces it. Nothing else writes the word while markers run (the heap walk's
 * flags come in the next round), so a failed CAS only means another marker marked it;
 * relaxed order suffices, since the winner reads only o's slots, which nobody writes
 * while the world is stopped. */
static inline bool mark_one(struct gc_state *st, struct gcl_object *o) {
  struct gcl_brc_prefix *p = gcl_brc_prefix_of(o);
  uint32_t owner = __atomic_load_n(&p->owner, __ATOMIC_RELAXED);
  if (GCL_UNLIKELY(owner == GCL_BRC_OWNER_FREED)) {
    fail(st, "a root or a live object references a freed object", o);
    return false;
  }
  if (!tracked(o, owner)) return false;
  uint32_t b = __atomic_load_n(&p->u.gc.bits, __ATOMIC_RELAXED);
  /* Loop invariant: b is the word as last read; o is not alive in b. */
  for (;;) {
    uint32_t f = (b & ~GC_FLAG_MASK) == st->tag ? b & GC_FLAG_MASK : 0;
    if (f & (GC_ALIVE | GC_SKIP)) return false;
    if (__atomic_compare_exchange_n(&p->u.gc.bits, &b, st->tag | f | GC_ALIVE, true, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED))
      return true;
  }
}

/* Declared in brc-gc.h; the loop invariant of the marking is this file's comment. */
void gcl_brc_drain_marks(struct gc_state *st) {
  struct gcl_object *window[PREFETCH_WINDOW];
  unsigned head = 0, n = 0;
  /* Invariant: window[head..head+n) (mod PREFETCH_WINDOW) and the stack hold objects whose
   * marking is pending; every object already marked ALIVE is pending or has had its
   * children pushed. */
  for (;;) {
    while (n < PREFETCH_WINDOW && st->work.n > 0) {
      window[(head + n) % PREFETCH_WINDOW] = st->work.a[--st->work.n];
      n++;
    }
    if (n == 0) return;
    struct gcl_object *o = window[head];
    head = (head + 1) % PREFETCH_WINDOW;
    n--;
    if (mark_one(st, o)) {
      st->marked++;
      push_children(st, o);
    }
  }
}

/* An object another thread is in the middle of killing (stopped inside a finalizer of
 * that death): it holds its references until that thread kills it, so it is referenced
 * from outside; it and what it reaches survive this collection (a root). */
static void keep_dying(struct gcl_object *o, void *ctx) {
  struct gc_state *st = ctx;
  struct gcl_brc_prefix *p = gcl_brc_prefix_of(o);
  if (gcl_brc_is_immortal(p, p->owner)) return;
  push(&st->work, o);
}

static void keep_thread_dying(struct gcl_mutator *t, void *ctx) { gcl_visit_dying(t, keep_dying, ctx); }

static void mark_thread_roots(struct gcl_mutator *t, void *ctx) { gcl_visit_roots(t, mark_slot, ctx); }

/* --- the heap walk: one pass ---------------------------------------------------------------- */

/* Every tracked object the allocator holds, once, after the roots were marked: an alive object is
 * a survivor; an immortal one is a root (marked with all it reaches); a frozen one with
 * references is skipped; any other becomes a candidate with gc_refs = its true count
 * (minus the bias of a deferred object, whose uncounted references the root marking saw). */
static void scan_block(void *mem, size_t bytes, void *ctx) {
  (void)bytes;
  struct gc_state *st = ctx;
  struct gcl_object *o = (struct gcl_object *)((char *)mem + GCL_COLLECTOR_PREFIX_SIZE);
  struct gcl_brc_prefix *p = gcl_brc_prefix_of(o);
  uint32_t owner = __atomic_load_n(&p->owner, __ATOMIC_RELAXED);
  if (owner == GCL_BRC_OWNER_FREED || !tracked(o, owner)) return;
  /* Garbage an earlier collection handed to its owner, not cleared yet (brc-gc.h): an
   * island nothing else reaches. (A marker may still reach one through an object its
   * owner is freeing, gcl_visit_dying: then it is marked alive, which is harmless.) */
  if (__atomic_load_n(&p->u.gc.bits, __ATOMIC_RELAXED) == GC_PENDING) return;
  st->scanned++;
  if (GCL_UNLIKELY((gcl_brc_shared(o) & GCL_BRC_STATE_MASK) == GCL_BRC_QUEUED))
    fail(st, "an object is still queued after every queue was merged", o);
  uint32_t f = flags_of(st, o);
  if (f & GC_ALIVE) {
    st->survivors += is_container(o);
    return;
  }
  if (gcl_brc_is_immortal(p, owner)) { /* a root: marked once every part has walked */
    push(&st->immortal, o);
    st->survivors += is_container(o);
    return;
  }
  intptr_t count = gcl_brc_true_count(o);
  if (count < 0) {
    fail(st, "negative true count", o);
    count = 0;
  }
  if ((p->ref_local & GCL_BRC_LOCAL_FROZEN) && count > 0) {
    set_flags(st, o, GC_SKIP);
    st->survivors += is_container(o);
    return;
  }
  p->u.gc.refs = count > INT32_MAX ? INT32_MAX : (int32_t)count;
  set_flags(st, o, GC_CANDIDATE);
  push(&st->cand, o);
}

/* --- the parallel rounds (core/mutator.h gcl_world_parallel) ------------------------------
 * Round 1: each thread marks from its own root frames and dying objects (the collecting
 * thread also from the global roots), with a work stack of its own; markers meet only at
 * mark_one's CAS. Round 2: part k of n of the heap walk (core/allocator.h
 * gcl_allocator_walk_part; serial in part 0 for an allocator without the capability):
 * each block is in one part, and a part writes flags and gc_refs only of its own blocks,
 * while nobody marks, so no word has two writers. Each part's candidates and immortals
 * go on its own lists, which the collecting thread merges after the round (the parts'
 * order does not matter: an immortal's marking makes any candidate it reaches alive, which
 * steps 4-6 treat as a survivor, as when it was marked before the walk saw it). */
struct gc_rounds {
  struct gc_state *req;   /* the collecting thread's state (its tag, its mutator) */
  pthread_mutex_t lock;   /* guards parts and failures */
  struct gc_state *parts; /* round 2's part states, to merge */
  uint64_t failures;      /* round 1's broken invariants */
  uint64_t marked;        /* round 1's marks */
  uint64_t marked_stopped; /* of those, made on a stopped thread (not the collecting one) */
  pthread_t self;         /* the collecting thread */
};

/* t's roots (t NULL: the global roots; they take the thread-list lock). */
static void mark_round(struct gcl_mutator *t, unsigned k, unsigned n, void *ctx) {
  (void)k, (void)n;
  struct gc_rounds *r = ctx;
  struct gc_state st = {.m = r->req->m, .tag = r->req->tag};
  if (t) {
    keep_thread_dying(t, &st);
    mark_thread_roots(t, &st);
  }
  if (!t || (t == r->req->m && gcl_brc.parallel)) gcl_visit_global_roots(mark_slot, &st);
  gcl_brc_drain_marks(&st);
  free(st.work.a);
  pthread_mutex_lock(&r->lock);
  r->failures += st.failures;
  r->marked += st.marked;
  if (!pthread_equal(pthread_self(), r->self)) r->marked_stopped += st.marked;
  pthread_mutex_unlock(&r->lock);
}

static void walk_round(struct gcl_mutator *t, unsigned k, unsigned n, void *ctx) {
  (void)t;
  struct gc_rounds *r = ctx;
  struct gc_state *st = calloc(1, sizeof *st);
  if (!st) gcl_alloc_failed(sizeof *st);
  st->m = r->req->m;
  st->tag = r->req->tag;
  if (gcl_brc.parallel) gcl_allocator_walk_part(k, n, scan_block, st);
  else gcl_allocator_walk(scan_block, st);
  if (!pthread_equal(pthread_self(), r->self)) st->scanned_stopped = st->scanned;
  pthread_mutex_lock(&r->lock);
  st->next = r->parts;
  r->parts = st;
  pthread_mutex_unlock(&r->lock);
}

static void append(struct objstack *to, const struct objstack *from) {
  reserve(to, from->n);
  for (size_t i = 0; i < from->n; i++) to->a[to->n++] = from->a[i];
}

/* --opt brc.parallel=false: both rounds on the collecting thread, one thread after the
 * other and the walk in one part (the collection before issue 8). */
static void mark_serial(struct gcl_mutator *t, void *ctx) { mark_round(t, 0, 1, ctx); }

/* Steps 2-3 in the two rounds, then the parts' results into st; the immortals marked. */
void gcl_brc_mark_and_walk(struct gc_state *st) {
  struct gc_rounds r = {.req = st, .lock = PTHREAD_MUTEX_INITIALIZER, .self = pthread_self()};
  if (gcl_brc.parallel) gcl_world_parallel(st->m, mark_round, &r);
  else {
    gcl_for_each_mutator(mark_serial, &r);
    mark_round(NULL, 0, 1, &r);
  }
  gcl_event_roots_traced();
  if (gcl_brc.parallel) {
    gcl_allocator_walk_parallel_begin();
    gcl_world_parallel(st->m, walk_round, &r);
    gcl_allocator_walk_parallel_end();
  } else {
    walk_round(st->m, 0, 1, &r);
  }
  st->failures += r.failures;
  st->marked += r.marked;
  st->marked_stopped += r.marked_stopped;
  for (struct gc_state *p = r.parts, *next; p; p = next) {
    next = p->next;
    append(&st->cand, &p->cand);
    append(&st->work, &p->immortal);
    st->scanned += p->scanned;
    st->scanned_stopped += p->scanned_stopped;
    st->survivors += p->survivors;
    st->failures += p->failures;
    free(p->cand.a);
    free(p->immortal.a);
    free(p);
  }
  gcl_brc_drain_marks(st);
  pthread_mutex_destroy(&r.lock);
}
