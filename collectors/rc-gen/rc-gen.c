/* SPDX-License-Identifier: MIT */
/* collectors/rc-gen/rc-gen.c — CPython's generational cycle collector (Python/gc.c, 3.12
 * design, 3.13 thresholds) over atomic reference counting. Our own code; the algorithm and
 * its invariants are CPython's, restated where the loops are.
 *
 * Objects die by RC (core/heap.c). Containers (GCL_TYPE_CONTAINER) are also on one
 * generation list, in the 16-byte prefix (rc-gen-attrs.h). A collection of generation g,
 * always with the world stopped (core/world.c), finds the garbage among the objects of
 * generations 0..g without memory proportional to the heap: gc_refs lives in the prefix.
 *
 * Generations and counts:
 *  - gen0 is every thread's own gen0 list plus the orphan list (tag 127); gens[0].head is
 *    empty except while gen0 is being collected. gens[1] (tag 126), gens[2] (tag 124) and
 *    the permanent generation (gc.freeze, tag 125) are shared lists.
 *  - CPython's generations[0].count (tracked allocations − deallocations, never below 0)
 *    is kept per thread without atomic read-modify-writes: each thread counts its own
 *    allocations and deallocations; the count is the sum over threads plus orphan_count
 *    (counts of detached threads). With one thread it is exactly CPython's count.
 *  - A thread enters the slow path when its count passes its limit; limits are chosen so
 *    that with one thread the slow path runs exactly when the count exceeds threshold0, and
 *    with n threads each thread checks the sum after about (threshold0 − sum) / n of its own
 *    allocations. The slow path sums the counts and, if the sum exceeds threshold0, stops
 *    the world and collects the oldest generation whose count exceeds its threshold, except
 *    that a full collection waits until long_lived_pending >= long_lived_total / 4
 *    (CPython's gc_collect_generations).
 *
 * Threads (the list-locking argument). Each attached thread owns a slot 1..123 and a gen0
 * list tagged with it (a thread beyond 123 uses the orphan list); each tag has a lock.
 *  - With one attached thread nobody else touches any list: operations are plain.
 *  - When a second thread attaches, it stops the world and sets gcl_rcgen_locking; no list
 *    operation spans a safepoint, so none is in flight while the flag changes, and every
 *    later operation sees it (the world's mutexes order the store before every restart).
 *    The flag then stays set for the life of the process.
 *  - In locking mode every link/unlink holds the lock of the list the object is on: the
 *    owner links new objects into its own list under its own (uncontended) lock; whoever
 *    frees an object reads its tag, takes that tag's lock, and re-reads the tag: if it is
 *    unchanged the object is on that list, because tags change only under the old list's
 *    lock (thread detach retags its list to 127 holding both locks) or with the world
 *    stopped. Prefix words are relaxed atomics, so the unlocked first read is no race.
 *  - Locks are never held across a safepoint, a blocking region or a mutex wait, and the
 *    collection code itself takes none of them, so stop-the-world cannot deadlock on them.
 *  - In GIL mode (core/gil.h) locking mode is never switched on, as CPython's gc under its
 *    GIL: every list operation is made by an ATTACHED thread, which holds the GIL, or with
 *    the world stopped by a requester that holds it; the GIL's mutex orders them all.
 *  - The registry (attached threads, their counts and limits, slots) is under
 *    registry_lock, never held across a safepoint either.
 *
 * Collection (collect(), world stopped, on the thread that triggered or requested it):
 *  1. merge gens[0..g-1] and every gen0 list into gens[g]: the young set, whose members
 *     are also recognisable by their tags;
 *  2. update_refs: gc_refs = refcount, COLLECTING set; an object whose count is already
 *     zero is dying on some thread's dealloc worklist and gets gc_refs 1 (it holds its
 *     references until killed, so it and what it reaches must survive this collection);
 *  3. subtract_refs: every reference from a young object to a young object is subtracted;
 *     steps 2 and 3 share one walk: a member is initialised when first met, as a list
 *     element or as a child (known by its tag), so the set is walked twice, not three
 *     times as in CPython;
 *  4. move_unreachable: gc_refs > 0 means referenced from outside; everything reachable
 *     from those stays (retagged for the generation it goes to), the rest moves to
 *     `unreachable`;
 *  5. survivors move to gens[g+1] (gen2 stays); long-lived bookkeeping;
 *  6. weak references to every unreachable object are cleared, then their callbacks run;
 *  7. PEP 442: each unreachable object's finalizer runs once (GCL_OBJ_FINALIZED); if any
 *     ran, steps 2-4 are redone (update_refs eagerly) on the unreachable set, and whatever
 *     an outside reference reaches now (resurrected objects and their subgraphs) moves to
 *     the old generation; weak references that finalizers created to what is still
 *     garbage are cleared too (callbacks included) before step 8;
 *  8. delete_garbage: each garbage object's slots are cleared with a release of the old
 *     value (tp_clear), which frees the cycles by ordinary RC; an object still alive after
 *     that (someone else holds it) moves to the old generation.
 * Finalizers and weak-reference callbacks run on the collecting thread with the world
 * stopped, as CPython runs them holding the GIL: they may allocate (no collection nests),
 * store and release, but must not call gcl_safepoint, gcl_blocking_enter, gcl_checkpoint,
 * gcl_freeze, or wait for another thread.
 *
 * Statistics are written only by the collecting thread with the world stopped.
 *
 * Events (core/event.h), each collection: phase "mark" (steps 1-5) ending with
 * HEAP_TRACED; when something is unreachable, phases "finalize" (6-7) and "clear" (8); then
 * LIVE_DATA (the heap's live bytes). The stop around it is world.c's. */
#include <pthread.h>
#include <sched.h>
#include <stddef.h>

#include "collector.h"
#include "event.h"
#include "gil.h"
#include "pause.h"
#include "report.h"
#include "weakref.h"

#define NGEN 3
#define COLLECTING ((uintptr_t)1)  /* prev bit 0: in the set being collected */
#define UNREACHABLE ((uintptr_t)1) /* next bit 0: in the tentatively unreachable list */
#define REFS_SHIFT 4               /* gc_refs lives in prev above the low bits */
#define REFS_ONE ((uintptr_t)1 << REFS_SHIFT)
#define LOCK_SPINS 64              /* spins before yielding */

int gcl_rcgen_locking;
struct gcl_rcgen_lock gcl_rcgen_locks[GCL_RCGEN_NTAGS];

/* gen0 lists: [1..123] thread slots, [127] orphans; the others unused. */
static struct gcl_rcgen_list gen0_lists[GCL_RCGEN_NTAGS];

struct generation {
  struct gcl_rcgen_head head; /* its objects (gen 0: only while it is being collected) */
  unsigned tag;               /* their tag (gen 0: none, its objects are on gen0 lists) */
  int64_t threshold;          /* gen0: of the summed count; else: of `count` */
  int64_t count;              /* gen >= 1: collections of gen-1 since this one was collected */
};

static struct generation gens[NGEN];
static struct gcl_rcgen_head permanent; /* gc.freeze()'s generation, tag 125 */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gcl_collector_mutator *registry; /* attached threads */
static unsigned nthreads;                      /* how many */
static bool slot_used[GCL_RCGEN_NTAGS];        /* thread slots in use */
static int64_t orphan_count;                   /* counts of threads that detached */
static bool enabled = true;                    /* gc.enable()/gc.disable() */
static bool initialised;                       /* gcl_collector_init ran */

static int collecting; /* atomic: a collection runs (only its thread is running then) */
static uint64_t long_lived_total;   /* gen2 size after the last full collection */
static uint64_t long_lived_pending; /* objects moved into gen2 since */
static struct gcl_rcgen_stats stats;       /* every collection */
static struct gcl_rcgen_stats final_stats; /* of those, the ones at exit (not reported) */

/* What one collection did. */
struct pass {
  uint64_t finalizers;  /* finalizers it ran */
  uint64_t resurrected; /* unreachable objects that finalizers resurrected */
  uint64_t collected;   /* garbage objects it cleared */
};

/* --- small helpers -------------------------------------------------------------------- */

static inline uintptr_t ld(const uintptr_t *p) { return gcl_rcgen_ld(p); }
static inline void st(uintptr_t *p, uintptr_t v) { gcl_rcgen_st(p, v); }
static inline struct gcl_rcgen_head *ptr(uintptr_t w) { return gcl_rcgen_ptr(w); }
static inline struct gcl_object *obj_of(struct gcl_rcgen_head *h) {
  return (struct gcl_object *)((char *)h + GCL_COLLECTOR_PREFIX_SIZE);
}
static inline struct gcl_rcgen_head *first(struct gcl_rcgen_head *l) { return ptr(ld(&l->next)); }

static struct gcl_mutator *mutator_of(struct gcl_collector_mutator *cm) {
  return (struct gcl_mutator *)((char *)cm - offsetof(struct gcl_mutator, collector));
}

void gcl_rcgen_lock_slow(int *l) {
  for (;;) {
    for (int i = 0; i < LOCK_SPINS; i++) {
      if (!__atomic_load_n(l, __ATOMIC_RELAXED) && !__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
        return;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    sched_yield();
  }
}

/* --- lists (collector side: only with the world stopped or under the list's lock) ------ */

static void list_init(struct gcl_rcgen_head *l) {
  st(&l->next, (uintptr_t)l);
  st(&l->prev, (uintptr_t)l);
}

static bool list_empty(struct gcl_rcgen_head *l) { return first(l) == l; }

/* Append h with the given low bits in its two words. */
static void link_tail(struct gcl_rcgen_head *l, struct gcl_rcgen_head *h, uintptr_t nbits,
                      uintptr_t pbits) {
  struct gcl_rcgen_head *last = ptr(ld(&l->prev));
  st(&h->next, (uintptr_t)l | nbits);
  st(&h->prev, (uintptr_t)last | pbits);
  st(&last->next, (uintptr_t)h | (ld(&last->next) & GCL_RCGEN_LOW));
  st(&l->prev, (uintptr_t)h);
}

/* Move all of `from` to the end of `to`; every object keeps its own low bits. */
static void list_merge(struct gcl_rcgen_head *from, struct gcl_rcgen_head *to) {
  if (list_empty(from)) return;
  struct gcl_rcgen_head *head = first(from), *tail = ptr(ld(&from->prev));
  struct gcl_rcgen_head *to_tail = ptr(ld(&to->prev));
  st(&to_tail->next, (uintptr_t)head | (ld(&to_tail->next) & GCL_RCGEN_LOW));
  st(&head->prev, (uintptr_t)to_tail | (ld(&head->prev) & GCL_RCGEN_LOW));
  st(&tail->next, (uintptr_t)to | (ld(&tail->next) & GCL_RCGEN_LOW));
  st(&to->prev, (uintptr_t)tail);
  list_init(from);
}

/* Give every member of l the tag `tag`; returns how many there are. */
static uint64_t list_retag(struct gcl_rcgen_head *l, unsigned tag) {
  uint64_t n = 0;
  for (struct gcl_rcgen_head *h = first(l); h != l; h = ptr(ld(&h->next)), n++) {
    st(&h->next, (ld(&h->next) & ~GCL_RCGEN_LOW) | (tag & 0xF));
    st(&h->prev, (ld(&h->prev) & ~GCL_RCGEN_LOW) | ((tag >> 4) << 1));
  }
  return n;
}

static uint64_t list_size(struct gcl_rcgen_head *l) {
  uint64_t n = 0;
  for (struct gcl_rcgen_head *h = first(l); h != l; h = ptr(ld(&h->next))) n++;
  return n;
}

/* --- counts and limits (registry_lock held) ------------------------------------------- */

static int64_t gen0_total_locked(void) {
  int64_t t = orphan_count;
  for (struct gcl_collector_mutator *cm = registry; cm; cm = cm->reg_next)
    t += __atomic_load_n(&cm->count, __ATOMIC_RELAXED);
  return t;
}

static void set_limit_locked(struct gcl_collector_mutator *cm, int64_t total) {
  int64_t th = gens[0].threshold, lim = INT64_MAX;
  if (enabled && th > 0 && !__atomic_load_n(&collecting, __ATOMIC_RELAXED)) {
    int64_t room = th - total, n = nthreads ? (int64_t)nthreads : 1;
    int64_t share = room > 0 ? (room + n - 1) / n : 1;
    lim = __atomic_load_n(&cm->count, __ATOMIC_RELAXED) + share;
  }
  __atomic_store_n(&cm->limit, lim, __ATOMIC_RELAXED);
}

static void reset_limits(void) {
  pthread_mutex_lock(&registry_lock);
  int64_t total = gen0_total_locked();
  for (struct gcl_collector_mutator *cm = registry; cm; cm = cm->reg_next)
    set_limit_locked(cm, total);
  pthread_mutex_unlock(&registry_lock);
}

/* generations[0].count = 0 (world stopped). */
static void reset_counts(void) {
  pthread_mutex_lock(&registry_lock);
  for (struct gcl_collector_mutator *cm = registry; cm; cm = cm->reg_next)
    __atomic_store_n(&cm->count, 0, __ATOMIC_RELAXED);
  orphan_count = 0;
  pthread_mutex_unlock(&registry_lock);
}

/* --- the collection ------------------------------------------------------------------- */

/* Cache misses on children dominate a collection of a heap larger than the cache, so both
 * walks make them overlap instead of following each other, and trace each object once.
 * subtract_refs does not depend on the order of its child visits: a trace queues each
 * child, prefetching its prefix, and a child is processed WINDOW visits later.
 * move_unreachable keeps CPython's order of visits and decisions (which keeps survivors in
 * allocation order, as later walks need for locality) while letting up to LAG visits wait,
 * prefetched, behind the scan: see move_unreachable. Both prefetch the objects AHEAD places
 * further on in the list. Young generations, which fit in the cache,
 * are walked without any of this ("far" false). */
#define WINDOW 32  /* a power of two */
#define PENDING 64 /* a power of two */
#define LAG 24     /* visits move_unreachable may leave pending after an object */
#define AHEAD 4

/* Simple-layout and reference-table types are walked here without an indirect call (as
 * core/heap.c does), through gcl_ref_range. */
#define FOR_EACH_CHILD(o, c, body, visitor, ctx)                                   \
  do {                                                                               \
    const struct gcl_type *t_ = gcl_type_of(o);                                      \
    struct gcl_object **s_;                                                          \
    size_t n_ = gcl_ref_range((o), t_, &s_);                                         \
    if (n_) {                                                                        \
      for (size_t i_ = 0; i_ < n_; i_++) {                                           \
        struct gcl_object *c = __atomic_load_n(&s_[i_], __ATOMIC_RELAXED);           \
        if (c) body;                                                                 \
      }                                                                              \
    } else if (t_->trace) {                                                          \
      t_->trace((o), (visitor), (ctx));                                              \
    }                                                                                \
  } while (0)

struct scan {
  struct gcl_object *ring[WINDOW]; /* queued children, prefetched */
  unsigned head, n;                /* oldest entry, entries */
  const bool *members;             /* tags of set members not yet initialised */
};

/* gc_refs = refcount, COLLECTING set, tag bits dropped; returns the new prev word. An
 * object whose count is already zero is dying on some thread's dealloc worklist: it holds
 * its references until killed, so it gets gc_refs 1 and survives with what it reaches. */
static inline uintptr_t init_refs(struct gcl_rcgen_head *h) {
  uintptr_t rc = gcl_rc_count(obj_of(h), gcl_rc_kind());
  uintptr_t v = ((rc ? rc : 1) << REFS_SHIFT) | COLLECTING;
  st(&h->next, ld(&h->next) & ~GCL_RCGEN_LOW);
  st(&h->prev, v);
  return v;
}

/* Step 2 done eagerly, for a set whose members are not recognisable by tag (the
 * resurrection check: there the set is the unreachable list). */
static void update_refs(struct gcl_rcgen_head *l) {
  for (struct gcl_rcgen_head *h = first(l); h != l; h = ptr(ld(&h->next))) init_refs(h);
}

/* One reference from inside the set to c: gc_refs(c)--, initialising c first if it is a
 * member seen for the first time. */
static inline void decref_one(struct gcl_object *c, const bool *members) {
  struct gcl_rcgen_head *h = gcl_rcgen_head_of(c);
  uintptr_t p = ld(&h->prev);
  if (!(p & COLLECTING)) {
    /* Not a member (untracked, older, permanent, new), or one not initialised yet. */
    if (!p || !members || !members[gcl_rcgen_tag_of(h)]) return;
    p = init_refs(h);
  }
  /* More references from inside the set than the count says: the count is broken. */
  GCL_ASSERT_ALWAYS(p >= REFS_ONE);
  st(&h->prev, p - REFS_ONE);
}

static void gather_decref(struct gcl_object **slot, void *ctx) {
  struct scan *s = ctx;
  struct gcl_object *c = __atomic_load_n(slot, __ATOMIC_RELAXED);
  if (!c) return;
  __builtin_prefetch(gcl_rcgen_head_of(c), 1);
  if (s->n == WINDOW) {
    decref_one(s->ring[s->head], s->members);
    s->ring[s->head] = c;
    s->head = (s->head + 1) & (WINDOW - 1);
  } else {
    s->ring[(s->head + s->n++) & (WINDOW - 1)] = c;
  }
}

static inline void prefetch_object(struct gcl_rcgen_head *h) {
  __builtin_prefetch(h, 1);
  __builtin_prefetch((char *)h + 64, 0);
}

/* For sets that fit in the cache (young generations) prefetching only costs: direct. */
static void visit_decref(struct gcl_object **slot, void *ctx) {
  struct gcl_object *c = __atomic_load_n(slot, __ATOMIC_RELAXED);
  if (c) decref_one(c, ctx);
}

/* Steps 2 and 3 in one walk: afterwards every member has prev = gc_refs | COLLECTING, its
 * references from outside the set (the list is singly linked until move_unreachable
 * restores prev). A member is initialised when first met, as a list element or as a child:
 * with `members` the tags of the set, nothing but the walk is needed. Returns the size. */
static uint64_t subtract_refs(struct gcl_rcgen_head *l, const bool *members, bool far) {
  uint64_t n = 0;
  if (!far) {
    for (struct gcl_rcgen_head *h = first(l); h != l; h = ptr(ld(&h->next)), n++) {
      if (!(ld(&h->prev) & COLLECTING)) init_refs(h);
      FOR_EACH_CHILD(obj_of(h), c, decref_one(c, members), visit_decref, (void *)members);
    }
    return n;
  }
  struct scan s;
  s.head = s.n = 0;
  s.members = members;
  struct gcl_rcgen_head *ahead = first(l);
  for (int i = 0; i < AHEAD && ahead != l; i++) ahead = ptr(ld(&ahead->next));
  for (struct gcl_rcgen_head *h = first(l); h != l; h = ptr(ld(&h->next)), n++) {
    if (ahead != l) {
      prefetch_object(ahead);
      ahead = ptr(ld(&ahead->next));
    }
    if (!(ld(&h->prev) & COLLECTING)) init_refs(h);
    gcl_trace(obj_of(h), gather_decref, &s);
  }
  for (; s.n > 0; s.n--, s.head = (s.head + 1) & (WINDOW - 1)) decref_one(s.ring[s.head], members);
  return n;
}

/* A reachable object references c: if c is in the set and not yet known reachable, make
 * it so. */
static inline void reach_one(struct gcl_object *c, struct gcl_rcgen_head *young) {
  struct gcl_rcgen_head *h = gcl_rcgen_head_of(c);
  uintptr_t p = ld(&h->prev);
  if (!(p & COLLECTING)) return; /* outside the set, or already scanned as reachable */
  uintptr_t n = ld(&h->next);
  if (n & UNREACHABLE) {
    /* Tentatively unreachable: take it out of `unreachable` (doubly linked, every next
     * there carries UNREACHABLE) and append it to young, to be scanned in turn. */
    struct gcl_rcgen_head *prev = ptr(p), *next = ptr(n);
    st(&prev->next, n);
    st(&next->prev, (uintptr_t)prev | (ld(&next->prev) & GCL_RCGEN_LOW));
    struct gcl_rcgen_head *last = ptr(ld(&young->prev));
    st(&last->next, (uintptr_t)h | (ld(&last->next) & GCL_RCGEN_LOW));
    st(&h->next, (uintptr_t)young);
    st(&h->prev, REFS_ONE | COLLECTING);
    st(&young->prev, (uintptr_t)h);
  } else if (p < REFS_ONE) {
    st(&h->prev, REFS_ONE | COLLECTING); /* not scanned yet: it will be, as reachable */
  }
}

static void visit_reachable(struct gcl_object **slot, void *ctx) {
  struct gcl_object *c = __atomic_load_n(slot, __ATOMIC_RELAXED);
  if (c) reach_one(c, ctx);
}


/* Pending child visits of move_unreachable, oldest first. */
struct pending {
  struct gcl_object *ring[PENDING]; /* children of scanned objects, prefetched */
  unsigned head, n;                 /* oldest entry, entries */
  struct gcl_rcgen_head *young;     /* the list rescued objects go to */
};

static inline void visit_oldest(struct pending *q) {
  struct gcl_object *c = q->ring[q->head];
  q->head = (q->head + 1) & (PENDING - 1);
  q->n--;
  reach_one(c, q->young);
}

static void gather_pending(struct gcl_object **slot, void *ctx) {
  struct pending *q = ctx;
  struct gcl_object *c = __atomic_load_n(slot, __ATOMIC_RELAXED);
  if (!c) return;
  __builtin_prefetch(gcl_rcgen_head_of(c), 1);
  if (q->n == PENDING) visit_oldest(q);
  q->ring[(q->head + q->n++) & (PENDING - 1)] = c;
}

/* Step 4: split `young` into the reachable part (left in young, prev restored, COLLECTING
 * cleared, tagged `tag`, the generation it is going to) and `unreachable` (COLLECTING
 * kept, UNREACHABLE in next until clear_unreachable_mask).
 *
 * Loop invariant: every object left of `gc` in young has been scanned and is reachable
 * from outside the set as it was at entry; every other object of the original set that
 * was left of gc is in `unreachable`; gc and everything right of it is unscanned, its
 * prev holding gc_refs. young->prev stays the true tail while anything is appended: the
 * tail can only move to `unreachable` as the last object scanned. `ahead` is AHEAD
 * objects right of gc, or young: unscanned objects are never moved, so it stays valid
 * (an append behind it goes unprefetched, which costs time only).
 *
 * Far mode lets child visits wait in a FIFO (prefetched) and still reaches CPython's
 * result and order exactly: visits happen in CPython's order (FIFO); the decision for an
 * object with gc_refs > 0 does not depend on pending visits (they only raise gc_refs), and
 * before deciding an object with gc_refs == 0 every pending visit is done. */
static void move_unreachable(struct gcl_rcgen_head *young, struct gcl_rcgen_head *unreachable,
                             unsigned tag, bool far) {
  uintptr_t nbits = tag & 0xF, pbits = (tag >> 4) << 1;
  struct pending q;
  q.head = q.n = 0;
  q.young = young;
  struct gcl_rcgen_head *prev = young;
  struct gcl_rcgen_head *gc = first(young), *ahead = far ? gc : young;
  for (int i = 0; i < AHEAD && ahead != young; i++) ahead = ptr(ld(&ahead->next));
  for (;;) {
    if (gc == young) {
      if (q.n == 0) break;
      while (q.n > 0) visit_oldest(&q); /* may append to young */
      gc = ptr(ld(&prev->next));
      continue;
    }
    if (ahead != young) {
      prefetch_object(ahead);
      ahead = ptr(ld(&ahead->next));
    }
    if (ld(&gc->prev) < REFS_ONE)
      while (q.n > 0) visit_oldest(&q); /* a pending visit may rescue gc */
    if (ld(&gc->prev) >= REFS_ONE) {
      /* Referenced from outside, or from something reachable: scan it. Its traversal may
       * append to young and so change gc->next: read it only afterwards. */
      if (far) {
        gcl_trace(obj_of(gc), gather_pending, &q);
        while (q.n > LAG) visit_oldest(&q);
      } else {
        FOR_EACH_CHILD(obj_of(gc), c, reach_one(c, young), visit_reachable, young);
      }
      st(&gc->prev, (uintptr_t)prev | pbits);
      st(&gc->next, ld(&gc->next) | nbits);
      prev = gc;
    } else {
      /* Tentatively unreachable; young stays singly linked here, prev fixes it later. */
      st(&prev->next, (uintptr_t)ptr(ld(&gc->next)) | (ld(&prev->next) & GCL_RCGEN_LOW));
      struct gcl_rcgen_head *last = ptr(ld(&unreachable->prev));
      /* May set UNREACHABLE in the sentinel's next too: repaired below. */
      st(&last->next, (uintptr_t)gc | UNREACHABLE);
      st(&gc->prev, (uintptr_t)last | COLLECTING);
      st(&gc->next, (uintptr_t)unreachable | UNREACHABLE);
      st(&unreachable->prev, (uintptr_t)gc);
    }
    gc = ptr(ld(&prev->next));
  }
  st(&young->prev, (uintptr_t)prev);
  st(&unreachable->next, ld(&unreachable->next) & ~UNREACHABLE);
}

/* Drop UNREACHABLE from every next of the list; returns its length. */
static uint64_t clear_unreachable_mask(struct gcl_rcgen_head *l) {
  uint64_t n = 0;
  for (struct gcl_rcgen_head *h = first(l); h != l; h = ptr(ld(&h->next)), n++)
    st(&h->next, ld(&h->next) & ~UNREACHABLE);
  return n;
}

/* Steps 2-4 on `set`: afterwards `set` holds what is reachable (tagged `tag`) and
 * `unreachable` the rest (COLLECTING). members: the tags of the set's members, or NULL
 * when they are not recognisable by tag (then they are initialised eagerly). Returns the
 * number of unreachable objects; *scanned the set size. */
static uint64_t deduce_unreachable(struct gcl_rcgen_head *set, struct gcl_rcgen_head *unreachable,
                                   const bool *members, unsigned tag, bool far,
                                   uint64_t *scanned) {
  if (!members) update_refs(set);
  *scanned = subtract_refs(set, members, far);
  move_unreachable(set, unreachable, tag, far);
  return clear_unreachable_mask(unreachable);
}

static void clear_weakrefs(struct gcl_mutator *m, struct gcl_rcgen_head *l) {
  struct gcl_weakref_pending wp = {NULL, NULL};
  for (struct gcl_rcgen_head *h = first(l); h != l; h = ptr(ld(&h->next)))
    gcl_weakref_clear_deferred(obj_of(h), &wp);
  gcl_weakref_run_callbacks(m, &wp);
}

/* Step 7 (first half): run each unreachable object's finalizer once. A finalizer may free
 * other objects of the list by RC (they unlink themselves), so each object moves to `seen`
 * before its finalizer runs and the loop always takes the list's first object. */
static uint64_t finalize_garbage(struct gcl_mutator *m, struct gcl_rcgen_head *l) {
  struct gcl_rcgen_head seen;
  list_init(&seen);
  uint64_t n = 0;
  while (!list_empty(l)) {
    struct gcl_rcgen_head *h = first(l);
    struct gcl_object *o = obj_of(h);
    gcl_rcgen_unlink(h);
    link_tail(&seen, h, 0, COLLECTING);
    if (gcl_rc_count(o, gcl_rc_kind()) == 0) continue; /* already dying on our worklist */
    const struct gcl_type *t = gcl_type_of(o);
    if (t->finalize && !(gcl_obj_flags(o) & GCL_OBJ_FINALIZED)) {
      gcl_obj_set_flag(o, GCL_OBJ_FINALIZED);
      gcl_rc_inc(o, gcl_rc_kind());
      t->finalize(m, o);
      n++;
      gcl_release(m, o);
    }
  }
  list_merge(&seen, l);
  return n;
}

static void visit_clear(struct gcl_object **slot, void *ctx) {
  struct gcl_object *old = __atomic_load_n(slot, __ATOMIC_RELAXED);
  if (!old) return;
  __atomic_store_n(slot, NULL, __ATOMIC_RELEASE);
  gcl_release(ctx, old);
}

/* Step 8: tp_clear each garbage object under a temporary reference; RC frees what dies.
 * Objects unlink themselves when freed, so the loop always takes the first one. */
static void delete_garbage(struct gcl_mutator *m, struct gcl_rcgen_head *garbage,
                           struct gcl_rcgen_head *old, unsigned old_tag) {
  while (!list_empty(garbage)) {
    struct gcl_rcgen_head *h = first(garbage);
    struct gcl_object *o = obj_of(h);
    if (gcl_rc_count(o, gcl_rc_kind()) > 0) {
      gcl_rc_inc(o, gcl_rc_kind());
      gcl_trace(o, visit_clear, m);
      gcl_release(m, o);
    }
    /* Still here: someone holds it (or it waits on our dealloc worklist, a collection
     * nested in a dealloc drain); it may die later, from the old generation. */
    if (first(garbage) == h) {
      gcl_rcgen_unlink(h);
      gcl_rcgen_append(old, h, old_tag);
    }
  }
}

/* Collect generation `gen`, world stopped, on m. */
static void collect(struct gcl_mutator *m, int gen, struct pass *out) {
  uint64_t t0 = gcl_now_ns();
  gcl_event_phase_start("mark");
  __atomic_store_n(&collecting, 1, __ATOMIC_RELAXED);
  if (gen + 1 < NGEN) gens[gen + 1].count++;
  for (int i = 1; i <= gen; i++) gens[i].count = 0;
  reset_counts();

  struct gcl_rcgen_head *young = &gens[gen].head;
  struct gcl_rcgen_head *old = gen + 1 < NGEN ? &gens[gen + 1].head : young;
  unsigned old_tag = gen + 1 < NGEN ? gens[gen + 1].tag : gens[gen].tag;
  bool members[GCL_RCGEN_NTAGS] = {false};
  for (unsigned t = 1; t <= GCL_RCGEN_MAX_SLOT; t++) members[t] = true;
  members[GCL_RCGEN_TAG_ORPHAN] = true;
  for (int i = 1; i <= gen; i++) members[gens[i].tag] = true;
  for (int i = 0; i < gen; i++) list_merge(&gens[i].head, young);
  for (unsigned t = 1; t < GCL_RCGEN_NTAGS; t++) list_merge(&gen0_lists[t].head, young);

  struct gcl_rcgen_head unreachable;
  list_init(&unreachable);
  /* Only full collections walk sets much larger than the cache: prefetch there. */
  bool far = gen == NGEN - 1;
  uint64_t scanned,
      nunreachable = deduce_unreachable(young, &unreachable, members, old_tag, far, &scanned);
  if (young != old) {
    if (gen == NGEN - 2) long_lived_pending += scanned - nunreachable;
    list_merge(young, old);
  } else {
    long_lived_pending = 0;
    long_lived_total = scanned - nunreachable;
  }
  gcl_event_heap_traced();
  gcl_event_phase_end("mark");

  struct pass p = {0, 0, nunreachable};
  struct gcl_rcgen_head still;
  list_init(&still);
  struct gcl_rcgen_head *garbage = &unreachable;
  if (nunreachable > 0) {
    gcl_event_phase_start("finalize");
    clear_weakrefs(m, &unreachable);
    p.finalizers = finalize_garbage(m, &unreachable);
    if (p.finalizers > 0) {
      /* Only a finalizer can resurrect (callbacks reach no garbage): recompute. */
      uint64_t set_size;
      p.collected = deduce_unreachable(&unreachable, &still, NULL, old_tag, far, &set_size);
      p.resurrected = set_size - p.collected;
      list_merge(&unreachable, old);
      garbage = &still;
      clear_weakrefs(m, &still); /* weak references finalizers made to garbage */
    }
    gcl_event_phase_end("finalize");
    gcl_event_phase_start("clear");
    delete_garbage(m, garbage, old, old_tag);
    gcl_event_phase_end("clear");
  }
  gcl_heap_bytes_flush(m); /* our own frees count in the live data */
  gcl_event_live_data((uint64_t)gcl_stats_live_bytes());

  __atomic_store_n(&collecting, 0, __ATOMIC_RELAXED);
  reset_limits();
  stats.collections[gen]++;
  stats.objects_scanned += scanned;
  stats.objects_collected += p.collected;
  stats.finalizers_run += p.finalizers;
  stats.resurrected += p.resurrected;
  stats.gc_ns += gcl_now_ns() - t0;
  if (out) *out = p;
}

/* CPython's gc_collect_generations: the oldest generation over its threshold, the full
 * collection gated by the 25% long-lived rule. -1: none. */
static int choose_generation(int64_t gen0_count) {
  for (int i = NGEN - 1; i >= 0; i--) {
    int64_t c = i == 0 ? gen0_count : gens[i].count;
    if (c <= gens[i].threshold) continue;
    if (i == NGEN - 1 && long_lived_pending < long_lived_total / 4) continue;
    return i;
  }
  return -1;
}

void gcl_rcgen_alloc_slow(struct gcl_collector_mutator *cm) {
  pthread_mutex_lock(&registry_lock);
  int64_t total = gen0_total_locked();
  bool go = enabled && gens[0].threshold > 0 && total > gens[0].threshold &&
            !__atomic_load_n(&collecting, __ATOMIC_RELAXED);
  if (!go) set_limit_locked(cm, total);
  pthread_mutex_unlock(&registry_lock);
  if (!go) return;

  struct gcl_mutator *m = mutator_of(cm);
  gcl_stop_the_world(m);
  /* Another thread may have collected while we waited: decide again, world stopped. */
  pthread_mutex_lock(&registry_lock);
  total = gen0_total_locked();
  int gen = enabled && gens[0].threshold > 0 && total > gens[0].threshold
                ? choose_generation(total)
                : -1;
  pthread_mutex_unlock(&registry_lock);
  if (gen >= 0)
    collect(m, gen, NULL);
  else
    reset_limits();
  gcl_start_the_world(m);
}

/* --- the module: options and figures (core/module.h) ------------------------------------ */

/* CPython's gc.set_threshold(2000, 10, 10); indices follow the table. */
enum { OPT_THRESHOLD0, OPT_THRESHOLD1, OPT_THRESHOLD2 };
static const struct gcl_opt_decl options[] = {
    [OPT_THRESHOLD0] = {"threshold0", GCL_OPT_INT, "2000", "0", "1000000000000", NULL,
                        "collect gen0 when tracked allocations - deallocations exceed this; 0: never"},
    [OPT_THRESHOLD1] = {"threshold1", GCL_OPT_INT, "10", "0", "1000000000000", NULL,
                        "collect gen1 after this many gen0 collections"},
    [OPT_THRESHOLD2] = {"threshold2", GCL_OPT_INT, "10", "0", "1000000000000", NULL,
                        "full collection after this many gen1 collections (and the 25% rule)"},
};
static const struct gcl_fig_decl figures[] = {
    {"gc_collections_gen0", "count", "collections of generation 0 (young)"},
    {"gc_collections_gen1", "count", "collections of generation 1"},
    {"gc_collections_gen2", "count", "full collections"},
    {"gc_objects_scanned", "objects", "objects examined by all collections"},
    {"gc_objects_collected", "objects", "unreachable objects freed by collections"},
    {"gc_finalizers_run", "count", "PEP 442 finalizers run by collections"},
    {"gc_resurrected", "objects", "objects a finalizer made reachable again"},
};
GCL_COLLECTOR_DECLARE(options, GCL_COUNT(options), figures, GCL_COUNT(figures));

/* --- collector.h ---------------------------------------------------------------------- */

int gcl_collector_init(const struct gcl_init *init) {
  if (initialised) return 0;
  initialised = true;
  for (int i = 0; i < NGEN; i++) {
    list_init(&gens[i].head);
    gens[i].count = 0;
  }
  gens[1].tag = GCL_RCGEN_TAG_GEN1;
  gens[2].tag = GCL_RCGEN_TAG_GEN2;
  gens[0].threshold = init->opts[OPT_THRESHOLD0].i;
  gens[1].threshold = init->opts[OPT_THRESHOLD1].i;
  gens[2].threshold = init->opts[OPT_THRESHOLD2].i;
  list_init(&permanent);
  for (unsigned t = 0; t < GCL_RCGEN_NTAGS; t++) {
    gen0_lists[t].tag = t;
    list_init(&gen0_lists[t].head);
  }
  /* A run that starts several threads locks from the start (no switch pause). */
  __atomic_store_n(&gcl_rcgen_locking, init->threads > 1 && !gcl_gil_enabled, __ATOMIC_RELAXED);
  return 0;
}

void gcl_collector_thread_attach(struct gcl_mutator *m) {
  struct gcl_collector_mutator *cm = &m->collector;
  pthread_mutex_lock(&registry_lock);
  unsigned slot = GCL_RCGEN_TAG_ORPHAN; /* when slots run out: the orphan list, locked */
  for (unsigned s = 1; s <= GCL_RCGEN_MAX_SLOT; s++) {
    if (!slot_used[s]) {
      slot_used[s] = true;
      slot = s;
      break;
    }
  }
  cm->gen0 = &gen0_lists[slot];
  __atomic_store_n(&cm->count, 0, __ATOMIC_RELAXED);
  cm->reg_next = registry;
  registry = cm;
  nthreads++;
  set_limit_locked(cm, gen0_total_locked());
  bool need_switch = nthreads >= 2 && !gcl_gil_enabled &&
                     !__atomic_load_n(&gcl_rcgen_locking, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&registry_lock);
  if (need_switch) {
    /* No list operation spans a safepoint: with the world stopped none is in flight. */
    gcl_stop_the_world(m);
    __atomic_store_n(&gcl_rcgen_locking, 1, __ATOMIC_RELAXED);
    gcl_start_the_world(m);
  }
}

void gcl_collector_thread_detach(struct gcl_mutator *m) {
  struct gcl_collector_mutator *cm = &m->collector;
  struct gcl_rcgen_list *l = cm->gen0;
  if (l->tag != GCL_RCGEN_TAG_ORPHAN) {
    /* Hand the list to the orphans, retagging under both locks (see the file comment). */
    bool locking = __atomic_load_n(&gcl_rcgen_locking, __ATOMIC_RELAXED);
    if (locking) {
      gcl_rcgen_lock(&gcl_rcgen_locks[l->tag].v);
      gcl_rcgen_lock(&gcl_rcgen_locks[GCL_RCGEN_TAG_ORPHAN].v);
    }
    list_retag(&l->head, GCL_RCGEN_TAG_ORPHAN);
    list_merge(&l->head, &gen0_lists[GCL_RCGEN_TAG_ORPHAN].head);
    if (locking) {
      gcl_rcgen_unlock(&gcl_rcgen_locks[GCL_RCGEN_TAG_ORPHAN].v);
      gcl_rcgen_unlock(&gcl_rcgen_locks[l->tag].v);
    }
  }
  pthread_mutex_lock(&registry_lock);
  for (struct gcl_collector_mutator **p = &registry; *p; p = &(*p)->reg_next) {
    if (*p == cm) {
      *p = cm->reg_next;
      break;
    }
  }
  nthreads--;
  orphan_count += __atomic_load_n(&cm->count, __ATOMIC_RELAXED);
  if (l->tag != GCL_RCGEN_TAG_ORPHAN) slot_used[l->tag] = false;
  pthread_mutex_unlock(&registry_lock);
  cm->gen0 = NULL;
}

void gcl_collector_collect(struct gcl_mutator *m, int generation) {
  /* From a finalizer or callback of the running collection: CPython returns 0 too. */
  if (__atomic_load_n(&collecting, __ATOMIC_RELAXED)) return;
  if (generation < 0 || generation >= NGEN) generation = NGEN - 1;
  gcl_stop_the_world(m);
  collect(m, generation, NULL);
  gcl_start_the_world(m);
}

void gcl_collector_finish(void) {
  /* Full collections on a temporary thread, the only one attached (so no stop-the-world
   * and no pause is recorded); again while finalizers ran or resurrected something
   * (objects they made may have kept garbage alive conservatively). Without finalizers
   * one full collection frees every unreachable cycle. They happen after the workload's
   * timed run, so the record leaves them out (final_stats). */
  struct gcl_rcgen_stats before = stats;
  struct gcl_mutator *m = gcl_thread_attach();
  for (int i = 0; i < 100; i++) {
    struct pass p;
    collect(m, NGEN - 1, &p);
    if (p.finalizers == 0 && p.resurrected == 0) break;
  }
  gcl_thread_detach(m);
  for (int g = 0; g < NGEN; g++)
    final_stats.collections[g] += stats.collections[g] - before.collections[g];
  final_stats.objects_scanned += stats.objects_scanned - before.objects_scanned;
  final_stats.objects_collected += stats.objects_collected - before.objects_collected;
  final_stats.finalizers_run += stats.finalizers_run - before.finalizers_run;
  final_stats.resurrected += stats.resurrected - before.resurrected;
  final_stats.gc_ns += stats.gc_ns - before.gc_ns;
}

uint64_t gcl_collector_freeze(struct gcl_mutator *m, bool freeze) {
  if (__atomic_load_n(&collecting, __ATOMIC_RELAXED)) return 0;
  uint64_t n = 0;
  gcl_stop_the_world(m);
  if (freeze) {
    for (unsigned t = 1; t < GCL_RCGEN_NTAGS; t++) {
      n += list_retag(&gen0_lists[t].head, GCL_RCGEN_TAG_PERMANENT);
      list_merge(&gen0_lists[t].head, &permanent);
    }
    for (int i = 1; i < NGEN; i++) {
      n += list_retag(&gens[i].head, GCL_RCGEN_TAG_PERMANENT);
      list_merge(&gens[i].head, &permanent);
    }
    reset_counts();
    reset_limits();
  } else {
    n = list_retag(&permanent, gens[NGEN - 1].tag);
    list_merge(&permanent, &gens[NGEN - 1].head);
  }
  gcl_start_the_world(m);
  return n;
}

bool gcl_collector_set_auto(struct gcl_mutator *m, bool on) {
  (void)m;
  pthread_mutex_lock(&registry_lock);
  bool was = enabled;
  enabled = on;
  int64_t total = gen0_total_locked();
  for (struct gcl_collector_mutator *cm = registry; cm; cm = cm->reg_next)
    set_limit_locked(cm, total);
  pthread_mutex_unlock(&registry_lock);
  return was;
}

int gcl_collector_check_threads(unsigned threads, char *why, size_t why_len) {
  (void)threads, (void)why, (void)why_len;
  return 0; /* atomic counts, stop-the-world collections: any number */
}

/* The figures of the workload's run: the collections at exit (gcl_collector_finish)
 * happen after wall_s was measured, so they are left out, as gc_s must be for
 * mutator_s = wall_s - gc_s to hold. */
void gcl_collector_report(struct gcl_report *r) {
  struct gcl_rcgen_stats s = stats, f = final_stats;
  uint64_t c[NGEN];
  for (int g = 0; g < NGEN; g++) c[g] = s.collections[g] - f.collections[g];
  gcl_report_u64(r, "collections", c[0] + c[1] + c[2]);
  gcl_report_f64(r, "gc_s", (double)(s.gc_ns - f.gc_ns) * 1e-9);
  gcl_report_figure_u64(r, "gc_collections_gen0", c[0]);
  gcl_report_figure_u64(r, "gc_collections_gen1", c[1]);
  gcl_report_figure_u64(r, "gc_collections_gen2", c[2]);
  gcl_report_figure_u64(r, "gc_objects_scanned", s.objects_scanned - f.objects_scanned);
  gcl_report_figure_u64(r, "gc_objects_collected", s.objects_collected - f.objects_collected);
  gcl_report_figure_u64(r, "gc_finalizers_run", s.finalizers_run - f.finalizers_run);
  gcl_report_figure_u64(r, "gc_resurrected", s.resurrected - f.resurrected);
}

/* --- introspection -------------------------------------------------------------------- */

void gcl_rcgen_get_stats(struct gcl_rcgen_stats *out) { *out = stats; }

void gcl_rcgen_set_thresholds(int64_t t0, int64_t t1, int64_t t2) {
  pthread_mutex_lock(&registry_lock);
  if (t0 >= 0) gens[0].threshold = t0;
  if (t1 >= 0) gens[1].threshold = t1;
  if (t2 >= 0) gens[2].threshold = t2;
  int64_t total = gen0_total_locked();
  for (struct gcl_collector_mutator *cm = registry; cm; cm = cm->reg_next)
    set_limit_locked(cm, total);
  pthread_mutex_unlock(&registry_lock);
}

void gcl_rcgen_get_thresholds(int64_t out[3]) {
  pthread_mutex_lock(&registry_lock);
  for (int i = 0; i < NGEN; i++) out[i] = gens[i].threshold;
  pthread_mutex_unlock(&registry_lock);
}

int64_t gcl_rcgen_gen0_count(void) {
  pthread_mutex_lock(&registry_lock);
  int64_t t = gen0_total_locked();
  pthread_mutex_unlock(&registry_lock);
  return t;
}

int64_t gcl_rcgen_gen_count(int generation) {
  if (generation == 0) return gcl_rcgen_gen0_count();
  return generation > 0 && generation < NGEN ? gens[generation].count : -1;
}

void gcl_rcgen_long_lived(uint64_t *total, uint64_t *pending) {
  *total = long_lived_total;
  *pending = long_lived_pending;
}

int gcl_rcgen_generation_of(struct gcl_object *o) {
  unsigned tag = gcl_rcgen_tag_of(gcl_rcgen_head_of(o));
  switch (tag) {
  case 0: return -1;
  case GCL_RCGEN_TAG_GEN1: return 1;
  case GCL_RCGEN_TAG_GEN2: return 2;
  case GCL_RCGEN_TAG_PERMANENT: return 3;
  default: return 0;
  }
}

uint64_t gcl_rcgen_generation_size(int g) {
  if (g == 3) return list_size(&permanent);
  if (g < 0 || g >= NGEN) return 0;
  uint64_t n = list_size(&gens[g].head);
  if (g == 0)
    for (unsigned t = 1; t < GCL_RCGEN_NTAGS; t++) n += list_size(&gen0_lists[t].head);
  return n;
}

/* Checks one list whose members must all carry `tag`; returns its length or < 0. */
static int64_t check_list(struct gcl_rcgen_head *l, unsigned tag) {
  if ((ld(&l->next) | ld(&l->prev)) & GCL_RCGEN_LOW) return -2; /* sentinel bits */
  struct gcl_rcgen_head *prev = l;
  int64_t n = 0;
  for (struct gcl_rcgen_head *h = first(l); h != l; h = ptr(ld(&h->next))) {
    if (ptr(ld(&h->prev)) != prev) return -3;          /* broken back link */
    if (ld(&h->prev) & COLLECTING) return -4;          /* a collection bit left set */
    if (gcl_rcgen_tag_of(h) != tag) return -5;         /* wrong tag (or UNREACHABLE left) */
    struct gcl_object *o = obj_of(h);
    if (!(gcl_type_of(o)->flags & GCL_TYPE_CONTAINER)) return -6; /* tracked non-container */
    if (gcl_rc_count(o, gcl_rc_kind()) == 0) return -7; /* dead but tracked */
    prev = h;
    n++;
  }
  if (ptr(ld(&l->prev)) != prev) return -8; /* tail link */
  return n;
}

int64_t gcl_rcgen_check(void) {
  if (__atomic_load_n(&collecting, __ATOMIC_RELAXED)) return -1;
  int64_t total = 0, n;
  if (!list_empty(&gens[0].head)) return -9; /* gen0's own list is used only while collected */
  for (int g = 1; g < NGEN; g++) {
    if ((n = check_list(&gens[g].head, gens[g].tag)) < 0) return n;
    total += n;
  }
  if ((n = check_list(&permanent, GCL_RCGEN_TAG_PERMANENT)) < 0) return n;
  total += n;
  pthread_mutex_lock(&registry_lock);
  for (unsigned t = 1; t < GCL_RCGEN_NTAGS; t++) {
    n = check_list(&gen0_lists[t].head, t);
    bool may_hold = t == GCL_RCGEN_TAG_ORPHAN || (t <= GCL_RCGEN_MAX_SLOT && slot_used[t]);
    if (n > 0 && !may_hold) n = -10; /* a list no thread owns holds objects */
    if (n < 0) break;
    total += n;
  }
  pthread_mutex_unlock(&registry_lock);
  return n < 0 ? n : total;
}
