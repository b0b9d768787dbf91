/* SPDX-License-Identifier: MIT */
/* collectors/brc/brc-attrs.h — biased and deferred reference counting (free-threaded
 * CPython, PEP 703; Choi, Shull and Torrellas, PACT 2018): the object prefix, the per-thread
 * state and the inline RC fast paths. Cold paths are in brc.c (threads, merge queues) and
 * brc-gc.c (the stop-the-world cycle collector).
 *
 * Header (32 bytes, as CPython's): this 16-byte prefix, then the common header, whose
 * collector word is ref_shared = count << 2 | state (atomic, signed).
 *   owner      owning thread's id (1..2^24, never reused); 0 none (counts merged);
 *              GCL_BRC_OWNER_DEFERRED (deferred RC); GCL_BRC_OWNER_FREED (dead memory that
 *              QSBR or the verifier still holds; the heap walk skips it).
 *   ref_local  the owner's count, bits 0-30, read and written only by the owner (plain
 *              accesses), by a thread that finds the owner gone (after the registry told it
 *              so), and with the world stopped; bit 31 is gc.freeze()'s FROZEN bit;
 *              GCL_BRC_LOCAL_IMMORTAL (all ones, with owner 0) marks an immortal object.
 *   u          the merge-queue link while the object is queued to its owner, gc_refs and
 *              the collection's bits while the world is stopped for a collection (every
 *              queue is drained first, so the two uses never overlap).
 * True count = (ref_local & MASK) + (ref_shared >> 2); deferred objects carry a bias of
 * GCL_BRC_DEFERRED_BIAS in the shared count, so they die only in a collection.
 *
 * Invariants: the state only increases (default -> maybe-weakref -> queued -> merged) for
 * the lifetime of an object; a negative shared count implies state queued; an object is
 * queued at most once; an object in state default dies without synchronisation (nobody else
 * may look at it), so anything other threads may try_inc (gcl_share, weak references) is
 * moved to maybe-weakref first.
 *
 * Macros: GCL_BRC_COUNTERS (CMake option of the same name) compiles in per-thread counters
 * of RC operations by path, reported as brc_ops_* record keys. */
#ifndef GCL_BRC_ATTRS_H
#define GCL_BRC_ATTRS_H

#include <stdbool.h>
#include <stdint.h>
#include <urcu/wfcqueue.h>

#define GCL_COLLECTOR_NAME "brc"
#define GCL_COLLECTOR_PREFIX_SIZE 16
#define GCL_RC_BIASED_OPS 1 /* this header implements core/mutator.h's gcl_rc_biased_* */

#ifndef GCL_BRC_COUNTERS
#define GCL_BRC_COUNTERS 0
#endif

/* ref_shared: count << 2 | state. */
#define GCL_BRC_SHARED_SHIFT 2
#define GCL_BRC_SHARED_ONE ((intptr_t)1 << GCL_BRC_SHARED_SHIFT)
#define GCL_BRC_STATE_MASK ((intptr_t)3)
#define GCL_BRC_DEFAULT ((intptr_t)0)       /* only the owner's count is in use */
#define GCL_BRC_MAYBE_WEAKREF ((intptr_t)1) /* others may try_inc: death goes through a merge */
#define GCL_BRC_QUEUED ((intptr_t)2)        /* on its owner's merge queue */
#define GCL_BRC_MERGED ((intptr_t)3)        /* the shared count is the true count */
#define GCL_BRC_DEFERRED_BIAS ((intptr_t)1 << 40) /* in count units */

#define GCL_BRC_OWNER_NONE 0u
#define GCL_BRC_OWNER_DEFERRED 0xFFFFFFFFu
#define GCL_BRC_OWNER_FREED 0xFFFFFFFEu
#define GCL_BRC_MAX_THREADS (1u << 24) /* thread ids ever attached in one process */

#define GCL_BRC_LOCAL_IMMORTAL 0xFFFFFFFFu
#define GCL_BRC_LOCAL_FROZEN 0x80000000u
#define GCL_BRC_LOCAL_MASK 0x7FFFFFFFu

/* Collection trigger (CPython 3.13 free-threaded gc): container allocations minus frees
 * since the last collection > GCL_BRC_THRESHOLD and > long-lived containers / 4, counted
 * per thread and added to the global count in batches of GCL_BRC_ALLOC_BATCH. */
#define GCL_BRC_THRESHOLD 2000
#define GCL_BRC_ALLOC_BATCH 512

/* Bits of gcl_mutator.safepoint_work. */
#define GCL_BRC_WORK_MERGE 0x1   /* objects were queued to this thread */
#define GCL_BRC_WORK_COLLECT 0x2 /* this thread passed the collection threshold */

struct gcl_brc_prefix {
  uint32_t owner;     /* atomic: owning thread id or GCL_BRC_OWNER_* */
  uint32_t ref_local; /* owner's count | FROZEN, or IMMORTAL (see the file comment) */
  union {
    struct cds_wfcq_node link; /* while queued to the owner */
    struct {
      int32_t refs;  /* gc_refs: true count minus references from candidates */
      uint32_t bits; /* GCL_BRC_GC_* (brc-gc.c) */
    } gc;            /* while the world is stopped for a collection */
  } u;
};
_Static_assert(sizeof(struct gcl_brc_prefix) == GCL_COLLECTOR_PREFIX_SIZE, "brc prefix size");

/* RC operations by path, per thread (GCL_BRC_COUNTERS builds). */
struct gcl_brc_counters {
  uint64_t owner;            /* on the owner's local count (the fast path) */
  uint64_t shared;           /* atomic operations on the shared count */
  uint64_t queued;           /* objects this thread queued to their owner */
  uint64_t merged;           /* objects whose counts this thread merged */
  uint64_t deferred_skipped; /* thread-held references to deferred objects not counted */
};

struct gcl_brc_thread; /* brc.c: registry entry and merge queue */

struct gcl_collector_mutator {
  uint32_t tid;                  /* owner id of the objects this thread allocates */
  int32_t alloc_count;           /* container allocations - frees not yet counted globally */
  struct gcl_brc_thread *thread; /* registry entry; NULL before attach and after detach */
#if GCL_BRC_COUNTERS
  struct gcl_brc_counters ops;   /* this thread's RC operations by path */
#endif
};

#if GCL_BRC_COUNTERS
#define GCL_BRC_COUNT(cm, field) ((cm)->ops.field++)
#else
#define GCL_BRC_COUNT(cm, field) ((void)(cm))
#endif

static inline enum gcl_rc_kind gcl_rc_kind(void) { return GCL_RC_BIASED; }
static inline enum gcl_barrier_kind gcl_barrier_kind(void) { return GCL_BARRIER_NONE; }
/* Collections mark objects alive from root frames, and deferred objects need them. */
static inline bool gcl_needs_roots(void) { return true; }
/* Whether every unreachable object, cyclic or not, is eventually freed. */
static inline bool gcl_collects_cycles(void) { return true; }
/* --opt brc.drain_poll (brc.c; default true): whether a long free (core/heap.c's drain)
 * honours a stop every GCL_DEALLOC_POLL_EVERY objects; false waits out the whole free, as
 * brc did before issue 8 and as CPython's dealloc does. Read on the drain's cold path. */
extern bool gcl_brc_drain_poll;
#define GCL_COLLECTOR_DRAIN_POLL_HOOK 1
static inline bool gcl_collector_drain_polls(void) { return gcl_brc_drain_poll; }

/* --- the prefix ------------------------------------------------------------------------ */

static inline struct gcl_brc_prefix *gcl_brc_prefix_of(const struct gcl_object *o) {
  return (struct gcl_brc_prefix *)((char *)o - GCL_COLLECTOR_PREFIX_SIZE);
}

static inline uint32_t gcl_brc_owner(const struct gcl_brc_prefix *p) {
  return __atomic_load_n(&p->owner, __ATOMIC_ACQUIRE);
}

static inline intptr_t gcl_brc_shared(const struct gcl_object *o) {
  return (intptr_t)__atomic_load_n(&o->gcl_word, __ATOMIC_RELAXED);
}

static inline bool gcl_brc_cas_shared(struct gcl_object *o, intptr_t *expected, intptr_t desired) {
  return __atomic_compare_exchange_n((intptr_t *)&o->gcl_word, expected, desired, true,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

/* Immortal: no owner and the sentinel local count. The local count of an ownerless object
 * is no longer written by anyone (the owner cleared itself with a release store after its
 * last write), so reading it after the acquire load of owner is race-free. */
static inline bool gcl_brc_is_immortal(const struct gcl_brc_prefix *p, uint32_t owner) {
  return owner == GCL_BRC_OWNER_NONE && p->ref_local == GCL_BRC_LOCAL_IMMORTAL;
}

/* --- slow paths (brc.c) ---------------------------------------------------------------- */

/* This thread moved o to state queued (its shared count was zero): hand it to its owner's
 * merge queue, or, if the owner is gone, merge it here. True: the caller must kill o. */
bool gcl_brc_queue(struct gcl_collector_mutator *cm, struct gcl_object *o);
/* The owner's local count reached zero and the shared word is not 0: merge. True: kill o. */
bool gcl_brc_merge_zero_local(struct gcl_collector_mutator *cm, struct gcl_object *o);
/* A decrement of o by a thread that is not its owner (owner: the owner word it read), out
 * of line: gcl_brc_dec_other. True: the caller must kill o. */
bool gcl_brc_dec_shared(struct gcl_collector_mutator *cm, struct gcl_object *o, uint32_t owner,
                        bool heap);
/* alloc_count reached +-GCL_BRC_ALLOC_BATCH: add it to the global count, maybe schedule a
 * collection on this thread. */
void gcl_brc_alloc_batch(struct gcl_collector_mutator *cm);

/* --- the RC fast paths (core/mutator.h calls them) ------------------------------------- */

/* A non-owner's decrement (CPython's _Py_DecRefShared); true: the caller kills o. Inlined
 * only into brc.c's gcl_brc_dec_shared: the decrement's fast path calls that out of line. */
static inline bool gcl_brc_dec_other(struct gcl_collector_mutator *cm, struct gcl_object *o,
                                     struct gcl_brc_prefix *p, uint32_t owner, bool heap) {
  if (owner == GCL_BRC_OWNER_DEFERRED) {
    if (!heap) {
      GCL_BRC_COUNT(cm, deferred_skipped);
      return false;
    }
    GCL_BRC_COUNT(cm, shared);
    /* The bias keeps the count far above zero: a collection frees deferred objects. */
    __atomic_fetch_sub((intptr_t *)&o->gcl_word, GCL_BRC_SHARED_ONE, __ATOMIC_RELEASE);
    return false;
  }
  if (gcl_brc_is_immortal(p, owner)) return false;
  GCL_BRC_COUNT(cm, shared);
  intptr_t shared = gcl_brc_shared(o), next;
  bool queue;
  do {
    /* Count zero and neither queued nor merged: the owner holds the reference we drop. */
    queue = shared == GCL_BRC_DEFAULT || shared == GCL_BRC_MAYBE_WEAKREF;
    next = queue ? GCL_BRC_QUEUED : shared - GCL_BRC_SHARED_ONE;
  } while (!gcl_brc_cas_shared(o, &shared, next));
  GCL_ASSERT(next >= 0 || (next & GCL_BRC_STATE_MASK) == GCL_BRC_QUEUED);
  if (GCL_UNLIKELY(queue)) return gcl_brc_queue(cm, o);
  return next == GCL_BRC_MERGED;
}

static inline void gcl_rc_biased_inc(struct gcl_collector_mutator *cm, struct gcl_object *o,
                                     bool heap) {
  struct gcl_brc_prefix *p = gcl_brc_prefix_of(o);
  uint32_t owner = gcl_brc_owner(p);
  if (GCL_LIKELY(owner == cm->tid)) {
    p->ref_local++;
    GCL_BRC_COUNT(cm, owner);
    return;
  }
  if (owner == GCL_BRC_OWNER_DEFERRED && !heap) {
    GCL_BRC_COUNT(cm, deferred_skipped);
    return;
  }
  if (gcl_brc_is_immortal(p, owner)) return;
  GCL_BRC_COUNT(cm, shared);
  __atomic_fetch_add((intptr_t *)&o->gcl_word, GCL_BRC_SHARED_ONE, __ATOMIC_RELAXED);
}

static inline bool gcl_rc_biased_dec(struct gcl_collector_mutator *cm, struct gcl_object *o,
                                     bool heap) {
  struct gcl_brc_prefix *p = gcl_brc_prefix_of(o);
  uint32_t owner = gcl_brc_owner(p);
  if (GCL_LIKELY(owner == cm->tid)) {
    uint32_t local = p->ref_local - 1;
    p->ref_local = local;
    GCL_BRC_COUNT(cm, owner);
    if (GCL_LIKELY(local & GCL_BRC_LOCAL_MASK)) return false;
    /* CPython's _Py_MergeZeroLocalRefcount: a shared word of exactly 0 means no other
     * thread holds or can take a reference: die now, unsynchronised. */
    if (GCL_LIKELY(__atomic_load_n(&o->gcl_word, __ATOMIC_ACQUIRE) == 0)) return true;
    return gcl_brc_merge_zero_local(cm, o);
  }
  /* Out of line, as CPython's _Py_DecRef calls _Py_DecRefShared (issue 13: inlined, its
   * deferred, immortal and CAS paths took registers from every loop that releases, and
   * the dealloc drain spilled its state around each child's decrement). */
  return gcl_brc_dec_shared(cm, o, owner, heap);
}

/* Take a thread-held reference unless o is dying (a merged count of zero). An object in
 * state default with a zero shared count is not dying: gclab's contract says nobody writes
 * concurrently the slot it was read from (it was never gcl_share()d), so that slot's
 * reference keeps it alive (CPython, whose callers do not promise this, fails here and
 * falls back to a lock). */
static inline bool gcl_rc_biased_try_inc(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  struct gcl_brc_prefix *p = gcl_brc_prefix_of(o);
  uint32_t owner = gcl_brc_owner(p);
  if (GCL_LIKELY(owner == cm->tid)) {
    if (!(p->ref_local & GCL_BRC_LOCAL_MASK)) return false; /* dying on this thread */
    p->ref_local++;
    GCL_BRC_COUNT(cm, owner);
    return true;
  }
  if (owner == GCL_BRC_OWNER_DEFERRED) {
    GCL_BRC_COUNT(cm, deferred_skipped);
    return true;
  }
  if (gcl_brc_is_immortal(p, owner)) return true;
  GCL_BRC_COUNT(cm, shared);
  intptr_t shared = gcl_brc_shared(o);
  do {
    if (shared == GCL_BRC_MERGED) return false;
  } while (!gcl_brc_cas_shared(o, &shared, shared + GCL_BRC_SHARED_ONE));
  return true;
}

/* A thread-held reference becomes an object slot's: counted from now on if o is deferred. */
static inline void gcl_rc_biased_to_heap(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  if (GCL_LIKELY(gcl_brc_owner(gcl_brc_prefix_of(o)) != GCL_BRC_OWNER_DEFERRED)) return;
  GCL_BRC_COUNT(cm, shared);
  __atomic_fetch_add((intptr_t *)&o->gcl_word, GCL_BRC_SHARED_ONE, __ATOMIC_RELAXED);
}

/* Dead o (count zero) gets one reference for its finalizer (core/heap.c). It died either on
 * its owner's local count with a zero shared word (this thread is the owner), or merged. */
static inline void gcl_rc_biased_revive(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  struct gcl_brc_prefix *p = gcl_brc_prefix_of(o);
  if (gcl_brc_owner(p) == cm->tid)
    p->ref_local = (p->ref_local & GCL_BRC_LOCAL_FROZEN) | 1;
  else
    __atomic_fetch_add((intptr_t *)&o->gcl_word, GCL_BRC_SHARED_ONE, __ATOMIC_RELAXED);
}

/* Other threads may try_inc o from now on (CPython's _PyObject_SetMaybeWeakref). Any
 * thread may call it; cm is not used. */
static inline void gcl_rc_biased_publish(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  (void)cm;
  intptr_t shared = gcl_brc_shared(o);
  while ((shared & GCL_BRC_STATE_MASK) == GCL_BRC_DEFAULT &&
         !gcl_brc_cas_shared(o, &shared, shared | GCL_BRC_MAYBE_WEAKREF)) {
  }
}

static inline void gcl_rc_biased_make_immortal(struct gcl_collector_mutator *cm,
                                               struct gcl_object *o) {
  struct gcl_brc_prefix *p = gcl_brc_prefix_of(o);
  GCL_ASSERT_ALWAYS(gcl_brc_owner(p) == cm->tid); /* a new object of this thread */
  p->ref_local = GCL_BRC_LOCAL_IMMORTAL;
  __atomic_store_n(&p->owner, GCL_BRC_OWNER_NONE, __ATOMIC_RELEASE);
}

/* The caller's one reference (o is new) becomes an uncounted thread-held reference. */
static inline void gcl_rc_biased_make_deferred(struct gcl_collector_mutator *cm,
                                               struct gcl_object *o) {
  struct gcl_brc_prefix *p = gcl_brc_prefix_of(o);
  GCL_ASSERT_ALWAYS(gcl_brc_owner(p) == cm->tid && (p->ref_local & GCL_BRC_LOCAL_MASK) == 1 &&
                    gcl_brc_shared(o) == 0); /* a new object of this thread, not shared */
  p->ref_local &= GCL_BRC_LOCAL_FROZEN;
  __atomic_store_n((intptr_t *)&o->gcl_word,
                   GCL_BRC_DEFERRED_BIAS * GCL_BRC_SHARED_ONE | GCL_BRC_MERGED, __ATOMIC_RELAXED);
  __atomic_store_n(&p->owner, GCL_BRC_OWNER_DEFERRED, __ATOMIC_RELEASE);
}

/* --- allocation and free hooks ------------------------------------------------------- */

static inline void gcl_collector_on_alloc(struct gcl_collector_mutator *cm, struct gcl_object *o,
                                          const struct gcl_type *t) {
  struct gcl_brc_prefix *p = gcl_brc_prefix_of(o);
  p->ref_local = 1; /* the shared word is 0: gcl_new zeroed the header */
  __atomic_store_n(&p->owner, cm->tid, __ATOMIC_RELAXED);
  p->u.gc.bits = 0; /* no collection's tag (brc-gc.c): the block may hold an old object's */
  if ((t->flags & GCL_TYPE_CONTAINER) && GCL_UNLIKELY(++cm->alloc_count >= GCL_BRC_ALLOC_BATCH))
    gcl_brc_alloc_batch(cm);
}

/* cm is NULL when no mutator frees the object. Memory that stays allocated after the
 * object's death (a QSBR grace period for shared objects, the verifier's quarantine) is
 * marked freed for the heap walk, and so is an object whose type has a free list (it may
 * stay allocated on one, core/freelist.h); other memory goes back to the allocator at
 * once, and the walk never sees a free block. */
static inline void gcl_collector_on_free(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  uintptr_t tw = __atomic_load_n(&o->gcl_type_word, __ATOMIC_RELAXED);
  const struct gcl_type *t = (const struct gcl_type *)(tw & ~(uintptr_t)GCL_OBJ_FLAG_MASK);
  if (GCL_VERIFY || (tw & GCL_OBJ_SHARED) || (GCL_FREELISTS && t->freelist))
    __atomic_store_n(&gcl_brc_prefix_of(o)->owner, GCL_BRC_OWNER_FREED, __ATOMIC_RELAXED);
  if (cm && (t->flags & GCL_TYPE_CONTAINER) && GCL_UNLIKELY(--cm->alloc_count <= -GCL_BRC_ALLOC_BATCH))
    gcl_brc_alloc_batch(cm);
}

/* core/heap.c's death of a plain object (type_is_plain: no finalizer, simple layout, no
 * free list) with no flag set: what gcl_collector_on_free does for it, without reading
 * the type word again or testing flags it cannot have (issue 13). Its memory goes back to
 * the allocator at once, or to the verifier's quarantine (marked freed there). The
 * container count comes in batches, gcl_collector_plain_frees (the drain tallies it). */
#define GCL_COLLECTOR_ON_FREE_PLAIN 1
static inline void gcl_collector_on_free_plain(struct gcl_collector_mutator *cm, struct gcl_object *o,
                                               const struct gcl_type *t) {
  (void)cm, (void)t;
  if (GCL_VERIFY) __atomic_store_n(&gcl_brc_prefix_of(o)->owner, GCL_BRC_OWNER_FREED, __ATOMIC_RELAXED);
}

/* n container frees of plain objects, counted as on_free counts one each. */
static inline void gcl_collector_plain_frees(struct gcl_collector_mutator *cm, int32_t n) {
  if (GCL_UNLIKELY((cm->alloc_count -= n) <= -GCL_BRC_ALLOC_BATCH)) gcl_brc_alloc_batch(cm);
}

/* --- introspection (cold; tests and experiments) ------------------------------------- */

struct gcl_mutator;

/* Figures since the process started. */
struct gcl_brc_stats {
  uint64_t collections;        /* collections run (the final one at exit included) */
  uint64_t scanned;            /* live tracked objects the collections' heap walks examined */
  uint64_t scanned_stopped;    /* of those, examined on stopped threads (brc.parallel) */
  uint64_t marked;             /* objects the collections marked alive */
  uint64_t marked_stopped;     /* of those, marked on stopped threads (brc.parallel) */
  uint64_t collected;          /* objects the collections found unreachable and freed */
  uint64_t cleared_by_owners;  /* of those, cleared by the thread that owned them */
  uint64_t finalizers_run;     /* finalizers the collections ran */
  uint64_t resurrected;        /* unreachable objects that finalizers brought back */
  uint64_t merged_by_gc;       /* queued objects the collections merged */
  uint64_t invariant_failures; /* BRC invariants a collection found broken (a bug) */
  uint64_t gc_ns;              /* time in collections */
  int64_t young_count;         /* container allocations - frees counted since the last one */
  uint64_t long_lived_total;   /* containers that survived the last collection */
};
void gcl_brc_get_stats(struct gcl_brc_stats *out);
/* The trigger's rules (brc.c): the count rule (3.13t: more than GCL_BRC_THRESHOLD net
 * container allocations and more than a quarter of the long-lived ones), and the memory
 * rule trigger=memory adds (3.14t: more than 10% growth since the last collection; true
 * when there is no last one or memory cannot be read, mem < 0). */
bool gcl_brc_count_rule(int64_t count, uint64_t long_lived_total);
bool gcl_brc_memory_rule(int64_t mem, int64_t last_mem);
/* Collections trigger=memory skipped, the memory it compares against (0: none yet). */
void gcl_brc_trigger_state(uint64_t *skipped, int64_t *last_mem);
/* The RC counters of every detached thread (zeros unless GCL_BRC_COUNTERS). */
void gcl_brc_get_counters(struct gcl_brc_counters *out);
/* Objects waiting on m's merge queue: m is the caller, or the world is stopped. */
size_t gcl_brc_queue_length(struct gcl_mutator *m);
/* Whether a thread with this id is attached (its objects are not ownerless). */
bool gcl_brc_owner_attached(uint32_t tid);
/* Stop the world, walk the heap and every queue, and count broken invariants: a negative
 * shared count not in state queued, an object on two queues or on a queue in another
 * state, a queue holding an object another thread owns, a negative true count. */
uint64_t gcl_brc_check(struct gcl_mutator *m);

#endif
