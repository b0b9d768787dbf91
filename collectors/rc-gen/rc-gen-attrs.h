/* SPDX-License-Identifier: MIT */
/* collectors/rc-gen/rc-gen-attrs.h — reference counting plus CPython's cycle collector
 * (Python/gc.c: 3.12/3.13's generations or 3.14's increments, --opt rc-gen.policy):
 * constants, the 16-byte prefix,
 * and the inline allocation/free hooks that track and untrack container objects.
 *
 * Prefix (CPython's PyGC_Head): two words before the common header.
 *   next  pointer to the next prefix in the object's generation list | 4 low bits
 *   prev  pointer to the previous prefix                             | 4 low bits
 * Both lists and sentinels are 16-byte aligned, so each word has 4 free low bits:
 *  - outside a collection they hold the object's list tag (7 bits: next bits 0-3 are tag
 *    bits 0-3, prev bits 1-3 are tag bits 4-6) and prev bit 0 is always clear;
 *  - during a collection prev bit 0 is COLLECTING (the object is in the set being
 *    collected), prev's upper bits may hold gc_refs instead of a pointer, and next bit 0
 *    is UNREACHABLE (see rc-gen.c).
 * next == 0 means untracked (non-container objects, and objects after their death).
 *
 * Tags say which list, and therefore which lock (gcl_rcgen_locks[tag]), an object is on:
 *   0            none: untracked (both words zero)
 *   1..123       the gen0 list of the thread holding that slot (young=thread: also its
 *                local gen1 and gen2 lists, rc-gen-local.c)
 *   124          generation 2
 *   125          the permanent generation (gc.freeze)
 *   126          generation 1
 *   127          the shared gen0 list of detached (and slot-less) threads
 * Distinct tags let a collection tell the members of the set it collects from the prefix
 * alone. Locks are taken only in locking mode (gcl_rcgen_locking, set once a second thread
 * attaches, under a stop-the-world); with one thread every list operation is plain.
 *
 * Escape barrier (--opt rc-gen.young=thread, rc-gen-local.c): while gcl_rcgen_escapes is
 * set, an object on a thread's own gen0 list (its tag is the thread's slot) is *local*:
 * referenced only by that thread's frames and its other local objects. Before a local
 * object is stored into a slot of an object that is not local to the storing thread (or
 * of no object: a global root), or is gcl_share()d, it *escapes*: it and, transitively,
 * its local children move to the shared gen0 list (tag 127). A thread may then collect
 * its own gen0 list alone, without stopping the world (rc-gen-local.c has the argument).
 *
 * Invariants: a container object is on exactly one list from allocation to death; its tag
 * changes only under the lock of its old list (thread detach, escape) or with the world
 * stopped (collections, freeze); a thread never holds a list lock across a safepoint;
 * while gcl_rcgen_escapes is set, no object that another thread can reach has the tag of
 * a thread's own gen0 list, and a stop that parks a thread inside its local collection
 * (at the collection's polls) never reaches the collection's set (rc-gen-local.c). Macros: GCL_COLLECTOR_ON_STORE (defined 1 here: core/mutator.h calls the
 * barrier hooks); GCL_RCGEN_NO_ESCAPE_BARRIER (1: barrier compiled out, tests only). */
#ifndef GCL_RC_GEN_ATTRS_H
#define GCL_RC_GEN_ATTRS_H

#include <stdbool.h>
#include <stdint.h>

#define GCL_COLLECTOR_NAME "rc-gen"
#define GCL_COLLECTOR_PREFIX_SIZE 16
#define GCL_COLLECTOR_ON_STORE 1 /* the escape barrier: gcl_collector_on_store/_on_share */
/* 1 compiles the escape barrier out: wrong with young=thread and several threads; it exists
 * only to check that tests/unit/test-rc-gen-escape.c fails without the barrier. */
#ifndef GCL_RCGEN_NO_ESCAPE_BARRIER
#define GCL_RCGEN_NO_ESCAPE_BARRIER 0
#endif

#define GCL_RCGEN_NTAGS 128          /* list tags 0..127 */
#define GCL_RCGEN_MAX_SLOT 123u      /* thread slots 1..123 */
#define GCL_RCGEN_TAG_GEN2 124u      /* generation 2 */
#define GCL_RCGEN_TAG_PERMANENT 125u /* gc.freeze()'s generation */
#define GCL_RCGEN_TAG_GEN1 126u      /* generation 1 */
#define GCL_RCGEN_TAG_ORPHAN 127u    /* gen0 of detached threads and of threads without a slot */
#define GCL_RCGEN_LOW ((uintptr_t)0xF) /* low bits of a prefix word that are not pointer */

/* The prefix, and the sentinel of every generation list. */
struct gcl_rcgen_head {
  _Alignas(16) uintptr_t next; /* next prefix | tag bits 0-3 (or UNREACHABLE) */
  uintptr_t prev;              /* previous prefix | tag bits 4-6 << 1 (or gc_refs | COLLECTING) */
};

/* A gen0 list: one per thread slot, plus the orphan list. */
struct gcl_rcgen_list {
  struct gcl_rcgen_head head; /* sentinel */
  unsigned tag;               /* tag of its members (its index in gcl_rcgen_gen0) */
};

/* A list lock, alone on its cache line. */
struct gcl_rcgen_lock {
  _Alignas(64) int v; /* 0 free, 1 held (test-and-test-and-set) */
};

/* A thread's figures of its local collections and escapes (rc-gen-local.c): written by the
 * owner only (relaxed atomics), summed by readers; added to the totals at detach. */
struct gcl_rcgen_local_stats {
  uint64_t collections[3]; /* local collections of each generation this thread ran */
  uint64_t scanned[3];     /* objects they examined */
  uint64_t ns[3];          /* time in them */
  uint64_t collected;      /* unreachable objects they cleared */
  uint64_t freed;          /* objects freed while they cleared garbage */
  uint64_t escapes;     /* objects the barrier moved off this thread's gen0 list */
  uint64_t fallbacks;   /* local collections handed to a stop-the-world one (finalizers,
                         * weak references among the unreachable) */
};

struct gcl_collector_mutator {
  struct gcl_rcgen_list *gen0;       /* where this thread's new objects go */
  unsigned tag;                      /* gen0's tag when it is this thread's own list (1..123),
                                      * else 0: no object is local to this thread */
  bool local_collecting;             /* a local collection runs on this thread (written by the
                                      * owner, relaxed atomic; tests read it) */
  int local_parked;                  /* atomic, > 0: the owner may be parked for a stop with
                                      * objects on private lists: at a poll of its local
                                      * collection's walks, or anywhere in its clear step (a
                                      * depth: a finalizer's nested collection adds its own;
                                      * rc-gen-local.c) */
  int64_t lcount[3];                 /* the local heap's generation counts ([1], [2]: CPython's
                                      * generations[g].count; [0] unused: `count`); owner only */
  uint64_t ll_total, ll_pending;     /* the local heap's long-lived figures (25% rule); owner */
  struct gcl_rcgen_local_stats local; /* this thread's local collections and escapes */
  int64_t count;                     /* CPython's generations[0].count for this thread's own
                                      * allocations/deallocations; atomic (summed by others) */
  int64_t limit;                     /* slow path once count exceeds it; atomic (set under the
                                      * registry lock or with the world stopped) */
  int64_t tracked;                   /* tracked allocations - tracked frees by this thread
                                      * (may go negative); atomic, summed: CPython's heap_size */
  struct gcl_collector_mutator *reg_next; /* registry of attached threads (rc-gen.c) */
};

extern int gcl_rcgen_locking; /* atomic: list operations take the list locks */
extern int gcl_rcgen_escapes; /* atomic: the escape barrier is on (young=thread, 2+ threads) */
extern int64_t gcl_rcgen_orphan_tracked; /* atomic: see gcl_collector_mutator.tracked */
extern struct gcl_rcgen_lock gcl_rcgen_locks[GCL_RCGEN_NTAGS];

static inline enum gcl_rc_kind gcl_rc_kind(void) { return GCL_RC_ATOMIC; }
static inline enum gcl_barrier_kind gcl_barrier_kind(void) { return GCL_BARRIER_NONE; }
static inline bool gcl_needs_roots(void) { return false; }
/* Whether every unreachable object, cyclic or not, is eventually freed. */
static inline bool gcl_collects_cycles(void) { return true; }

/* --- prefix words: relaxed atomics, because in locking mode a thread reads an object's tag
 * before it holds the lock that orders it (plain loads and stores on x86) --------------- */

static inline uintptr_t gcl_rcgen_ld(const uintptr_t *p) {
  return __atomic_load_n(p, __ATOMIC_RELAXED);
}
static inline void gcl_rcgen_st(uintptr_t *p, uintptr_t v) {
  __atomic_store_n(p, v, __ATOMIC_RELAXED);
}
static inline struct gcl_rcgen_head *gcl_rcgen_ptr(uintptr_t w) {
  return (struct gcl_rcgen_head *)(w & ~GCL_RCGEN_LOW);
}
static inline struct gcl_rcgen_head *gcl_rcgen_head_of(struct gcl_object *o) {
  return (struct gcl_rcgen_head *)((char *)o - GCL_COLLECTOR_PREFIX_SIZE);
}
static inline unsigned gcl_rcgen_tag_of(const struct gcl_rcgen_head *h) {
  return (unsigned)((gcl_rcgen_ld(&h->next) & 0xF) | ((gcl_rcgen_ld(&h->prev) & 0xE) << 3));
}

/* Append h, tagged `tag`, at the tail of the list whose sentinel is `list`. */
static inline void gcl_rcgen_append(struct gcl_rcgen_head *list, struct gcl_rcgen_head *h,
                                    unsigned tag) {
  struct gcl_rcgen_head *last = gcl_rcgen_ptr(gcl_rcgen_ld(&list->prev));
  gcl_rcgen_st(&h->next, (uintptr_t)list | (tag & 0xF));
  gcl_rcgen_st(&h->prev, (uintptr_t)last | ((tag >> 4) << 1));
  gcl_rcgen_st(&last->next, (uintptr_t)h | (gcl_rcgen_ld(&last->next) & GCL_RCGEN_LOW));
  gcl_rcgen_st(&list->prev, (uintptr_t)h);
}

/* Unlink h from whatever list it is on (the neighbours keep their own low bits); h becomes
 * untracked. */
static inline void gcl_rcgen_unlink(struct gcl_rcgen_head *h) {
  struct gcl_rcgen_head *next = gcl_rcgen_ptr(gcl_rcgen_ld(&h->next));
  struct gcl_rcgen_head *prev = gcl_rcgen_ptr(gcl_rcgen_ld(&h->prev));
  gcl_rcgen_st(&prev->next, (uintptr_t)next | (gcl_rcgen_ld(&prev->next) & GCL_RCGEN_LOW));
  gcl_rcgen_st(&next->prev, (uintptr_t)prev | (gcl_rcgen_ld(&next->prev) & GCL_RCGEN_LOW));
  gcl_rcgen_st(&h->next, 0);
  gcl_rcgen_st(&h->prev, 0);
}

void gcl_rcgen_lock_slow(int *l);

static inline void gcl_rcgen_lock(int *l) {
  if (GCL_LIKELY(!__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))) return;
  gcl_rcgen_lock_slow(l);
}

static inline void gcl_rcgen_unlock(int *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }

/* Untrack h in locking mode: lock the list its tag names, and retry if the tag changed
 * meanwhile (its owner detached and handed the list to the orphans). */
static inline void gcl_rcgen_untrack_locked(struct gcl_rcgen_head *h) {
  /* In a collection running on this thread (prev bit 0, COLLECTING): the object is on one
   * of the collection's private lists, which no other thread touches (world stopped, or a
   * local collection's set: rc-gen-local.c). */
  if (gcl_rcgen_ld(&h->prev) & 1) {
    gcl_rcgen_unlink(h);
    return;
  }
  for (;;) {
    unsigned tag = gcl_rcgen_tag_of(h);
    int *l = &gcl_rcgen_locks[tag].v;
    gcl_rcgen_lock(l);
    if (GCL_LIKELY(gcl_rcgen_tag_of(h) == tag)) {
      gcl_rcgen_unlink(h);
      gcl_rcgen_unlock(l);
      return;
    }
    gcl_rcgen_unlock(l);
  }
}

/* The allocation threshold was passed: maybe collect (rc-gen.c). */
void gcl_rcgen_alloc_slow(struct gcl_collector_mutator *cm);

/* Track a new container in this thread's gen0 list; count it, and collect first when the
 * count passes the threshold (as CPython 3.11 collects before linking the new object). */
static inline void gcl_collector_on_alloc(struct gcl_collector_mutator *cm, struct gcl_object *o,
                                          const struct gcl_type *t) {
  struct gcl_rcgen_head *h = gcl_rcgen_head_of(o);
  if (!(t->flags & GCL_TYPE_CONTAINER)) {
    gcl_rcgen_st(&h->next, 0);
    gcl_rcgen_st(&h->prev, 0);
    return;
  }
  int64_t c = __atomic_load_n(&cm->count, __ATOMIC_RELAXED) + 1;
  __atomic_store_n(&cm->count, c, __ATOMIC_RELAXED);
  __atomic_store_n(&cm->tracked, __atomic_load_n(&cm->tracked, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
  if (GCL_UNLIKELY(c > __atomic_load_n(&cm->limit, __ATOMIC_RELAXED))) gcl_rcgen_alloc_slow(cm);
  struct gcl_rcgen_list *l = cm->gen0;
  /* young=thread (barrier on): our own list is touched by no other thread (rc-gen-local.c,
   * invariant E), so it needs no lock. */
  if (GCL_LIKELY(!__atomic_load_n(&gcl_rcgen_locking, __ATOMIC_RELAXED)) ||
      (cm->tag && __atomic_load_n(&gcl_rcgen_escapes, __ATOMIC_RELAXED))) {
    gcl_rcgen_append(&l->head, h, l->tag);
  } else {
    gcl_rcgen_lock(&gcl_rcgen_locks[l->tag].v);
    gcl_rcgen_append(&l->head, h, l->tag);
    gcl_rcgen_unlock(&gcl_rcgen_locks[l->tag].v);
  }
}

/* Untrack a dying object and count the deallocation (CPython: generations[0].count--, never
 * below zero). cm is NULL when no mutator frees the object. */
static inline void gcl_collector_on_free(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  struct gcl_rcgen_head *h = gcl_rcgen_head_of(o);
  if (gcl_rcgen_ld(&h->next) == 0) return; /* untracked */
  if (GCL_LIKELY(!__atomic_load_n(&gcl_rcgen_locking, __ATOMIC_RELAXED)))
    gcl_rcgen_unlink(h);
  else if (cm && cm->tag && __atomic_load_n(&gcl_rcgen_escapes, __ATOMIC_RELAXED) &&
           gcl_rcgen_tag_of(h) == cm->tag)
    gcl_rcgen_unlink(h); /* local to us: on our own lists, which no other thread touches */
  else
    gcl_rcgen_untrack_locked(h);
  if (cm) {
    int64_t c = __atomic_load_n(&cm->count, __ATOMIC_RELAXED);
    if (c > 0) __atomic_store_n(&cm->count, c - 1, __ATOMIC_RELAXED);
    __atomic_store_n(&cm->tracked, __atomic_load_n(&cm->tracked, __ATOMIC_RELAXED) - 1, __ATOMIC_RELAXED);
  } else {
    __atomic_fetch_sub(&gcl_rcgen_orphan_tracked, 1, __ATOMIC_RELAXED);
  }
}

/* --- the escape barrier (rc-gen-local.c) -------------------------------------------- */

/* Whether o is local to the thread of cm: tracked, on that thread's own gen0 list, and not
 * in a collection (prev bit 0 clear; during a collection the tag bits hold gc_refs). */
static inline bool gcl_rcgen_is_local(const struct gcl_collector_mutator *cm, struct gcl_object *o) {
  const struct gcl_rcgen_head *h = gcl_rcgen_head_of(o);
  uintptr_t n = gcl_rcgen_ld(&h->next), p = gcl_rcgen_ld(&h->prev);
  return n && !(p & 1) && ((n & 0xF) | ((p & 0xE) << 3)) == cm->tag;
}

/* Move o (local to cm's thread) and its local children, transitively, to the shared gen0
 * list (cold). */
void gcl_rcgen_escape(struct gcl_collector_mutator *cm, struct gcl_object *o);

/* Before val is stored into a slot of obj (NULL: outside the heap). */
static inline void gcl_collector_on_store(struct gcl_collector_mutator *cm, struct gcl_object *obj,
                                          struct gcl_object *val) {
  if (GCL_RCGEN_NO_ESCAPE_BARRIER || GCL_LIKELY(!__atomic_load_n(&gcl_rcgen_escapes, __ATOMIC_RELAXED)))
    return;
  if (GCL_LIKELY(!gcl_rcgen_is_local(cm, val))) return;
  if (GCL_LIKELY(obj && gcl_rcgen_is_local(cm, obj))) return;
  gcl_rcgen_escape(cm, val);
}

/* Before o is gcl_share()d. */
static inline void gcl_collector_on_share(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  if (!GCL_RCGEN_NO_ESCAPE_BARRIER && __atomic_load_n(&gcl_rcgen_escapes, __ATOMIC_RELAXED) &&
      gcl_rcgen_is_local(cm, o))
    gcl_rcgen_escape(cm, o);
}

/* --- introspection (cold; tests and experiments) ------------------------------------- */

/* Figures since the process started, the collections at exit included. */
struct gcl_rcgen_stats {
  uint64_t collections[3];      /* collections of each generation */
  uint64_t objects_scanned;     /* tracked objects examined (young set sizes, summed) */
  uint64_t objects_collected;   /* unreachable objects the collector cleared (not resurrected) */
  uint64_t finalizers_run;      /* finalizers the collector ran (PEP 442) */
  uint64_t resurrected;         /* unreachable objects that finalizers brought back */
  uint64_t gc_ns;               /* time in collections */
  uint64_t scanned_gen[3];      /* objects_scanned by collections of each generation */
  uint64_t gc_ns_gen[3];        /* gc_ns of collections of each generation */
  uint64_t local_collections;   /* of collections[0], local ones (young=thread) */
  uint64_t escapes;             /* objects the escape barrier moved to the shared list */
  uint64_t local_fallbacks;     /* local collections handed to a stop-the-world one */
};
void gcl_rcgen_get_stats(struct gcl_rcgen_stats *out);
/* gc.set_threshold / gc.get_threshold (negative: leave unchanged). */
void gcl_rcgen_set_thresholds(int64_t t0, int64_t t1, int64_t t2);
void gcl_rcgen_get_thresholds(int64_t out[3]);
/* CPython's generations[0].count: the sum of every thread's count (young=thread with the
 * barrier on: the shared heap's young count, gcl_rcgen_shared_young_locked). Exact when
 * no thread runs mutator code (one thread, or the world stopped). */
int64_t gcl_rcgen_gen0_count(void);
/* A thread's own local-heap counts (young=thread; read while the thread runs no mutator
 * code): its gen0 count and out[1], out[2] = its local generations' counts (out[0] the
 * gen0 count again), *ll_total / *ll_pending its 25% rule's figures. */
void gcl_rcgen_thread_counts(const struct gcl_collector_mutator *cm, int64_t out[3], uint64_t *ll_total,
                             uint64_t *ll_pending);
/* generations[1..2].count, and the long-lived figures of the 25% rule. */
int64_t gcl_rcgen_gen_count(int generation);
void gcl_rcgen_long_lived(uint64_t *total, uint64_t *pending);
/* 3.14 (policy=3.14): work_to_do, and which old list is the visited space (1 or 2: the
 * generation number gcl_rcgen_generation_of/_size use for it; the other is pending). */
void gcl_rcgen_incremental_state(int64_t *work_to_do, int *visited);
/* The generation of o (from its tag): 0, 1, 2, 3 for permanent, -1 untracked. */
int gcl_rcgen_generation_of(struct gcl_object *o);
/* Objects on generation g's lists (0..2, 3 = permanent). Walks lists. */
uint64_t gcl_rcgen_generation_size(int g);
/* Walk every list and check links, tags and that no collection bit is left set; returns
 * the number of tracked objects, or a negative number naming the first violated check.
 * Only while no thread runs mutator code. */
int64_t gcl_rcgen_check(void);

#endif
