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
 *   frees the set.
 *
 * Steps 4-6 run over the candidate list instead of walking the heap three more times
 * (CPython walks it four times, as this file did before): on thread-private work almost
 * everything is alive from the roots, so the list is short, and the whole collection
 * is one marking of the live graph plus one linear walk. The bits of a collection carry
 * its tag (GC_TAG_BIT), so no walk clears the previous collection's.
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
 * Loop invariant of the marking (drain_marks): every object with this collection's ALIVE
 * flag is on the work stack or in the prefetch window, or has had all its children pushed;
 * an object gets the flag once (mark_one), so each is traced at most once. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "allocator.h"
#include "brc-internal.h"
#include "collector.h"
#include "event.h"
#include "garbage.h"
#include "pause.h"
#include "weakref.h"

/* u.gc.bits during and after a collection: the collection's tag in bits 4-31, flags in
 * bits 0-3. Flags count only under the current collection's tag (flags_of), so no walk
 * has to clear the previous collection's bits. Bit 31 of a tag is always set: a queue
 * link's upper half (a user-space pointer < 2^47) never has it, and gcl_collector_on_alloc
 * zeroes the word, so nothing else can look like a tag. Every object alive at a collection
 * is re-tagged by it, so a tag seen is the current one or an earlier one, never one 2^27
 * collections old (the counter's wrap). */
#define GC_TAG_BIT 0x80000000u
#define GC_FLAG_MASK 0xFu
#define GC_ALIVE 0x1u       /* reachable: from a root, or from outside the candidates */
#define GC_SKIP 0x2u        /* frozen, with references: not examined */
#define GC_UNREACHABLE 0x4u /* on the unreachable list, not (yet) resurrected */
#define GC_CANDIDATE 0x8u   /* not alive when the heap walk saw it: u.gc.refs is gc_refs */

struct objstack {
  struct gcl_object **a; /* the objects */
  size_t n, cap;         /* in use, allocated */
};

static void reserve(struct objstack *s, size_t more) {
  if (GCL_LIKELY(s->n + more <= s->cap)) return;
  while (s->n + more > s->cap) s->cap = s->cap ? 2 * s->cap : 1024;
  s->a = realloc(s->a, s->cap * sizeof *s->a);
  if (!s->a) gcl_alloc_failed(s->cap * sizeof *s->a);
}

static void push(struct objstack *s, struct gcl_object *o) {
  reserve(s, 1);
  s->a[s->n++] = o;
}

/* One marker's state: the collecting thread's, or one part's of a parallel phase
 * (brc-gc.c's gcl_world_parallel rounds, below), which the collecting thread merges. */
struct gc_state {
  struct gcl_mutator *m;   /* the collecting thread */
  uint32_t tag;            /* this collection's tag (GC_TAG_BIT | counter << 4) */
  struct objstack work;    /* marking worklist */
  struct objstack cand;    /* candidates: objects not alive when the heap walk saw them */
  struct objstack immortal; /* immortal objects the heap walk found unmarked: roots */
  struct objstack garbage; /* unreachable objects, each with one reference of ours */
  struct gc_state *next;   /* a part's state, on the collecting thread's list of them */
  uint64_t merged;         /* queued objects merged in step 1 */
  uint64_t scanned;        /* live objects in the heap walk */
  uint64_t marked;         /* objects this state marked alive */
  uint64_t marked_stopped; /* of the collection's marks, those made on stopped threads */
  uint64_t scanned_stopped; /* of its walk's objects, those examined on stopped threads */
  uint64_t survivors;      /* containers alive after the collection */
  uint64_t failures;       /* broken invariants (a bug somewhere) */
};

static void fail(struct gc_state *st, const char *what, struct gcl_object *o) {
  if (st->failures++ == 0)
    fprintf(stderr, "gclab brc collection: %s (object %p, shared %#llx, owner %u, local %#x)\n",
            what, (void *)o, (unsigned long long)gcl_brc_shared(o), gcl_brc_prefix_of(o)->owner,
            gcl_brc_prefix_of(o)->ref_local);
}

/* o's flags in this collection (0 if this collection has not tagged it yet). */
static inline uint32_t flags_of(const struct gc_state *st, struct gcl_object *o) {
  uint32_t b = gcl_brc_prefix_of(o)->u.gc.bits;
  return (b & ~GC_FLAG_MASK) == st->tag ? b & GC_FLAG_MASK : 0;
}

static inline void set_flags(const struct gc_state *st, struct gcl_object *o, uint32_t f) {
  gcl_brc_prefix_of(o)->u.gc.bits = st->tag | f;
}

static inline bool is_container(struct gcl_object *o) {
  return (gcl_type_of(o)->flags & GCL_TYPE_CONTAINER) != 0;
}

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

static bool tracked(struct gcl_object *o, uint32_t owner);

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
  push(&st->garbage, o);
}

static void merge_thread(struct gcl_mutator *t, void *ctx) {
  if (t->collector.thread) gcl_brc_drain(t->collector.thread, merge_queued, ctx);
}

/* Marking pushes every non-NULL child unexamined (reading its header would stall on a
 * cache miss) and prefetches it; drain_marks examines objects through a FIFO window of
 * PREFETCH_WINDOW entries, so each header has arrived by the time it is read (CPython
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

/* Whether a collection looks at o: objects whose type can hold references (containers,
 * and types that are not containers but still have reference slots or a trace hook:
 * pyheap's untracked tuples and dicts, root tables), and deferred objects (only a
 * collection frees those). Any other object holds no references, so it is in no cycle:
 * reference counting frees it when its referrers die. (CPython visits only GC-tracked
 * objects; an untracked object with references is treated as external there, but brc
 * has always collected cycles through them, and the stress test holds it to that.) */
static inline bool tracked(struct gcl_object *o, uint32_t owner) {
  const struct gcl_type *t = gcl_type_of(o);
  return (t->flags & (GCL_TYPE_CONTAINER | GCL_TYPE_REF_ITEMS)) || t->nrefs || t->trace ||
         owner == GCL_BRC_OWNER_DEFERRED;
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

/* Mark and trace everything on the work stack (entries need not be examined yet). */
static void drain_marks(struct gc_state *st) {
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
    drain_marks(st);
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
    push(&st->garbage, o);
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
  struct gc_state *st = ctx;
  struct gcl_object *c = *slot;
  if (!c) return;
  __atomic_store_n(slot, NULL, __ATOMIC_RELEASE);
  if (gcl_rc_thread_dec(st->m, c, true)) gcl_dealloc(st->m, c);
}

/* --- one collection ---------------------------------------------------------------------- */

static uint32_t gc_counter; /* collections started (gc_lock): the tags' source */

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
  drain_marks(&st);
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
static void mark_and_walk(struct gc_state *st) {
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
  drain_marks(st);
  pthread_mutex_destroy(&r.lock);
}

/* Steps 1-6 with the world stopped (the file comment's order, with the roots first). */
static void find_garbage(struct gc_state *st, struct gcl_weakref_pending *weak) {
  gc_counter = (gc_counter + 1) & 0x7FFFFFFu;
  if (gc_counter == 0) gc_counter = 1;
  st->tag = GC_TAG_BIT | gc_counter << 4;
  gcl_event_phase_start("merge");
  gcl_for_each_mutator(merge_thread, st);
  gcl_event_phase_end("merge");
  gcl_event_phase_start("mark");
  mark_and_walk(st);
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

/* Clear every unreachable object's slots and drop our references. Returns how many were
 * unreachable (not resurrected). */
static uint64_t clear_garbage(struct gc_state *st) {
  struct gcl_mutator *m = st->m;
  /* The RC operations of clearing are the collector's, not the program's: the counters
   * (GCL_BRC_COUNTERS) leave them out. */
#if GCL_BRC_COUNTERS
  struct gcl_brc_counters program_ops = m->collector.ops;
#endif
  uint64_t collected = 0, freed0 = m->stats.objects_freed;
  gcl_event_phase_start("clear");
  for (size_t i = 0; i < st->garbage.n; i++) {
    struct gcl_object *o = st->garbage.a[i];
    if (is_unreachable(st, o)) {
      collected++;
      gcl_trace(o, clear_slot, st);
    }
    if (gcl_rc_thread_dec(m, o, true)) gcl_dealloc(m, o);
  }
  gcl_event_phase_end("clear");
  gcl_garbage_freed(m->stats.objects_freed - freed0); /* core/garbage.h */
#if GCL_BRC_COUNTERS
  m->collector.ops = program_ops;
#endif
  return collected;
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
  struct gc_state st = {.m = m};
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

  __atomic_store_n(&gcl_brc.young_count, 0, __ATOMIC_RELAXED);
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
