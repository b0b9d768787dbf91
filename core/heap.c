/* SPDX-License-Identifier: MIT */
/* core/heap.c — object death under reference counting, memory release, and the QSBR
 * deferral of memory that other threads may still be reading (the heap limit and the
 * process-wide setup are core/heap-setup.c's).
 *
 * Invariants:
 *  - An object reaches gcl_free_object exactly once (the verifier checks it).
 *  - The memory of an object flagged GCL_OBJ_SHARED is returned to the allocator only after
 *    a liburcu QSBR grace period, so a thread that read a pointer to it while online may
 *    still read its header (gcl_load_strong); other objects are returned at once.
 *  - Deallocation never recurses on the C stack: a chain of a million objects dies in a
 *    loop over the per-thread worklist (CPython's "trashcan").
 *  - An object of a type with a free list may go onto its thread's list instead of back to
 *    the allocator (core/freelist.h states that module's invariants; free_object is where
 *    it happens).
 *  - The drain counts its frees in locals (struct free_tally) and stores them in m->stats
 *    before anything out of line can read them, and when it ends: every counter reads as if
 *    each free had updated it, and the live-bytes flush happens at the same free. Its
 *    worklist's top lives in a local too (struct drain), stored to m->dealloc_top before
 *    anything out of line may read or push onto the worklist.
 *  - The death path's tests are those the object needs (issue 13): a plain leaf (no
 *    finalizer, no reference, no flag) is freed by gcl_dealloc without a drain; in a drain
 *    an object of a plain type (type_is_plain: no finalizer, simple layout, no free list)
 *    with no flag set dies by kill_plain, and one whose type word equals the drain's
 *    cached fixed-size plain type's takes no test at all before its slots are released;
 *    every other object takes kill's full path (finalizer, weak references, trace hook,
 *    free list, shared memory).
 *  - A drain polls for a stop every GCL_DEALLOC_POLL_EVERY objects killed (only in builds
 *    where gcl_poll is live: GCL_COLLECTOR_STOPS_WORLD or GCL_VERIFY) unless the collector's
 *    gcl_collector_drain_polls() says no (brc's option drain_poll=false), except inside a
 *    collector's phase and on the stop's requester (dealloc_poll says why). That is safe
 *    under a collector that marks from root frames (brc) only because of the frame rule
 *    (core/mutator.h): no frame names an object that is dying or freed. GCL_VERIFY builds
 *    check the rule on the draining thread's frames when a drain starts and at every
 *    GCL_DEALLOC_POLL_EVERY kills, whether a stop is requested or not
 *    (gcl_verify_drain_frames), so every verified run audits its workload.
 *
 * Macros: GCL_DEALLOC_POLL_EVERY (objects killed between two stop polls of a drain,
 * default 256: a few microseconds of freeing), GCL_VERIFY, GCL_FREELISTS,
 * GCL_COLLECTOR_DRAIN_POLL_HOOK (the collector's attrs header defines it to 1 and an
 * inline gcl_collector_drain_polls(); otherwise every drain polls),
 * GCL_COLLECTOR_ON_FREE_PLAIN (the attrs header defines it to 1 and inline
 * gcl_collector_on_free_plain and gcl_collector_plain_frees for plain deaths, below). */
#include <stdio.h>
#include <stdlib.h>
#include <urcu/urcu-qsbr.h>

#include "allocator.h"
#include "collector.h"
#include "event.h"
#include "gil.h"
#include "mutator.h"
#include "stats.h"
#include "tsan.h"
#include "typed-option.h"
#include "weakref.h"

/* --- QSBR-deferred release ------------------------------------------------------------ */

#define GCL_DEFERRED_BATCH 256

#ifndef GCL_DEALLOC_POLL_EVERY
#define GCL_DEALLOC_POLL_EVERY 256
#endif
_Static_assert(GCL_DEALLOC_POLL_EVERY >= 1, "GCL_DEALLOC_POLL_EVERY counts objects, at least 1");

/* Whether a drain honours a stop request at its polls (a collector may turn it off: brc's
 * drain_poll option, to measure the time to safepoint without the poll). */
#ifndef GCL_COLLECTOR_DRAIN_POLL_HOOK
static inline bool gcl_collector_drain_polls(void) { return true; }
#endif

/* The collector's hooks for the death of a plain object with no flag set (kill_plain,
 * kill_leaf; t is its type, already read). A collector whose gcl_collector_on_free reads
 * the type word, tests flags or counts container frees defines GCL_COLLECTOR_ON_FREE_PLAIN
 * 1 and its own two (issue 13: brc): on_free_plain(cm, o, t) does what on_free does for
 * such an object except the count, and plain_frees(cm, n) takes the count of n container
 * (GCL_TYPE_CONTAINER) objects freed so, in a batch: kill_leaf passes its one, the drain
 * tallies them (free_tally.containers) and passes them wherever its tally is stored.
 * Otherwise on_free runs for each, and nothing is tallied. */
#ifndef GCL_COLLECTOR_ON_FREE_PLAIN
#define GCL_COLLECTOR_ON_FREE_PLAIN 0
static inline void gcl_collector_on_free_plain(struct gcl_collector_mutator *cm, struct gcl_object *o,
                                               const struct gcl_type *t) {
  (void)t;
  gcl_collector_on_free(cm, o);
}
static inline void gcl_collector_plain_frees(struct gcl_collector_mutator *cm, int32_t containers) {
  (void)cm, (void)containers;
}
#endif

struct gcl_deferred_batch {
  struct rcu_head rcu;                   /* liburcu's callback link */
  unsigned count;                        /* items in use */
  struct {
    void *mem;                           /* what the allocator returned */
    size_t bytes;                        /* its size */
  } items[GCL_DEFERRED_BATCH];
};

/* Runs on liburcu's call_rcu thread once no reader can hold any pointer of the batch. */
static void deferred_batch_release(struct rcu_head *head) {
  struct gcl_deferred_batch *b = caa_container_of(head, struct gcl_deferred_batch, rcu);
  GCL_TSAN_ACQUIRE(b);
  GCL_TSAN_ACQUIRE(&gcl_qsbr_token);
  for (unsigned i = 0; i < b->count; i++) gcl_allocator_free(NULL, b->items[i].mem, b->items[i].bytes);
  free(b);
}

static void deferred_flush(struct gcl_mutator *m) {
  if (!m->deferred) return;
  GCL_TSAN_RELEASE(m->deferred);
  urcu_qsbr_call_rcu(&m->deferred->rcu, deferred_batch_release);
  m->deferred = NULL;
}

static void deferred_add(struct gcl_mutator *m, void *mem, size_t bytes) {
  if (!m->deferred) {
    m->deferred = malloc(sizeof *m->deferred);
    if (!m->deferred) gcl_alloc_failed(sizeof *m->deferred);
    m->deferred->count = 0;
  }
  m->deferred->items[m->deferred->count].mem = mem;
  m->deferred->items[m->deferred->count].bytes = bytes;
  if (++m->deferred->count == GCL_DEFERRED_BATCH) deferred_flush(m);
}

void gcl_heap_thread_flush(struct gcl_mutator *m) {
  deferred_flush(m);
  gcl_heap_bytes_flush(m);
}

/* --- object death --------------------------------------------------------------------- */

/* Park o on this thread's free list of (t, bytes): true, or false when the list is full,
 * the table has no room for the key, or o is too long (then it is freed as usual). */
static inline bool freelist_push(struct gcl_mutator *m, struct gcl_object *o,
                                 const struct gcl_type *t, size_t bytes) {
  struct gcl_freelist *l = gcl_freelist_find(m->freelists, t, bytes);
  if (GCL_UNLIKELY(!l) && !(l = gcl_freelist_add_key(m->freelists, t, bytes))) return false;
  if (l->count >= l->cap) return false;
  if (GCL_VERIFY && !gcl_verify_on_freelist_push(o)) return false;
  o->gcl_word = (uintptr_t)l->head;
  l->head = o;
  l->count++;
  m->stats.freelist_parked++;
  return true;
}

/* Frees counted by a drain in locals (registers), written to m->stats when the drain ends
 * and before anything out of line that may read or change them runs (a finalizer, a poll,
 * a flush): the counters then read exactly as if each free had updated them. `room` is
 * m->stats.live_bytes_delta + GCL_HEAP_BYTES_BATCH, so the flush test (delta below
 * -GCL_HEAP_BYTES_BATCH) is the sign of the subtraction itself, and a flush happens at the
 * same free as before. */
struct free_tally {
  uint64_t objects;   /* objects freed, not yet added to m->stats.objects_freed */
  int64_t room;       /* m->stats.live_bytes_delta + GCL_HEAP_BYTES_BATCH while loaded */
  int32_t containers; /* of those, containers killed by kill_plain not yet passed to
                       * gcl_collector_plain_frees (0 unless GCL_COLLECTOR_ON_FREE_PLAIN) */
};

static inline struct free_tally tally_load(struct gcl_mutator *m) {
  return (struct free_tally){0, m->stats.live_bytes_delta + GCL_HEAP_BYTES_BATCH, 0};
}

static inline void tally_store(struct gcl_mutator *m, struct free_tally *ft) {
  m->stats.objects_freed += ft->objects;
  m->stats.live_bytes_delta = ft->room - GCL_HEAP_BYTES_BATCH;
  ft->objects = 0;
  if (GCL_COLLECTOR_ON_FREE_PLAIN && ft->containers) {
    gcl_collector_plain_frees(&m->collector, ft->containers);
    ft->containers = 0;
  }
}

static void tally_flush(struct gcl_mutator *m, struct free_tally *ft) {
  tally_store(m, ft);
  gcl_heap_bytes_flush(m);
  *ft = tally_load(m);
}

/* Count one free of `bytes` in *ft (the flush when the freed bytes pass the batch). */
static inline void tally_free(struct gcl_mutator *m, struct free_tally *ft, size_t bytes) {
  ft->objects++;
  if (GCL_UNLIKELY((ft->room -= (int64_t)bytes) < 0)) tally_flush(m, ft);
}

/* Release o's memory (its references were already dropped or belong to the caller); t and
 * flags are o's type and flag bits, read once by the caller; the free is counted in *ft. */
static inline void free_object_tallied(struct gcl_mutator *m, struct gcl_object *o,
                                       const struct gcl_type *t, uintptr_t flags,
                                       struct free_tally *ft) {
  size_t bytes = GCL_COLLECTOR_PREFIX_SIZE + gcl_object_size_as(o, t);
  void *mem = (char *)o - GCL_COLLECTOR_PREFIX_SIZE;
  gcl_collector_on_free(&m->collector, o);
  tally_free(m, ft, bytes);
  if (GCL_FREELISTS && GCL_UNLIKELY(t->freelist != 0) && m->freelists &&
      !(flags & GCL_OBJ_SHARED) && freelist_push(m, o, t, bytes)) {
    /* parked: the memory stays with this thread for the next object of its type */
  } else if (GCL_VERIFY) {
    /* The verifier quarantines the memory so that a dangling reference stays detectable;
     * it releases it only while no mutator runs, which also covers shared objects. */
    gcl_verify_on_free(o);
  } else if (GCL_UNLIKELY(flags & GCL_OBJ_SHARED)) {
    m->stats.deferred_frees++;
    deferred_add(m, mem, bytes);
  } else {
    gcl_allocator_free(&m->allocator, mem, bytes);
  }
}

static inline void free_object(struct gcl_mutator *m, struct gcl_object *o,
                               const struct gcl_type *t, uintptr_t flags) {
  struct free_tally ft = tally_load(m);
  free_object_tallied(m, o, t, flags, &ft);
  tally_store(m, &ft);
}

void gcl_free_object(struct gcl_mutator *m, struct gcl_object *o) {
  free_object(m, o, gcl_type_of(o), gcl_obj_flags(o));
}

void gcl_free_unowned(struct gcl_thread_stats *s, struct gcl_object *o) {
  const struct gcl_type *t = gcl_type_of(o);
  size_t bytes = GCL_COLLECTOR_PREFIX_SIZE + gcl_object_size_as(o, t);
  gcl_collector_on_free(NULL, o);
  s->objects_freed++;
  s->live_bytes_delta -= (int64_t)bytes;
  if (GCL_VERIFY) gcl_verify_on_free(o); /* quarantined, released while no mutator runs */
  else gcl_allocator_free(NULL, (char *)o - GCL_COLLECTOR_PREFIX_SIZE, bytes);
}

static void dealloc_grow(struct gcl_mutator *m) {
  size_t cap = m->dealloc_cap ? 2 * m->dealloc_cap : 256;
  struct gcl_object **s = realloc(m->dealloc_stack, cap * sizeof *s);
  if (!s) gcl_alloc_failed(cap * sizeof *s);
  m->dealloc_stack = s;
  m->dealloc_cap = cap;
}

static inline void dealloc_push(struct gcl_mutator *m, struct gcl_object *o) {
  if (GCL_UNLIKELY(m->dealloc_top == m->dealloc_cap)) dealloc_grow(m);
  m->dealloc_stack[m->dealloc_top++] = o;
}

/* Drop one reference held by a dying object; a child whose count hits zero joins the
 * worklist. */
static inline void release_ref(struct gcl_mutator *m, struct gcl_object *c) {
  if (c && gcl_rc_thread_dec(m, c, true)) dealloc_push(m, c);
}

static void release_child(struct gcl_object **slot, void *ctx) { release_ref(ctx, *slot); }

/* Drop the reference of one slot of a dying object: a child whose count hits zero becomes
 * *next, and the previous *next joins the worklist. */
static inline void release_slot(struct gcl_mutator *m, struct gcl_object *c, struct gcl_object **next) {
  if (c && gcl_rc_thread_dec(m, c, true)) {
    if (*next) dealloc_push(m, *next);
    *next = c;
  }
}

/* Drop every reference d holds. Of the children whose count hits zero, the last one found
 * in a simple layout is returned, to be killed next without a trip through the worklist;
 * the others join the worklist (all of them through a trace hook, which returns NULL). */
static inline struct gcl_object *release_refs(struct gcl_mutator *m, struct gcl_object *d,
                                              const struct gcl_type *t) {
  struct gcl_object **s;
  size_t n = gcl_ref_range(d, t, &s);
  struct gcl_object *next = NULL;
  if (GCL_LIKELY(n - 1 < 2)) {
    /* One or two slots (list cells, tree nodes, pairs: the commonest containers), without
     * the loop's counter. */
    release_slot(m, s[0], &next);
    if (n == 2) release_slot(m, s[1], &next);
  } else if (n) {
    /* Invariant: next is NULL or the last dead child seen; every earlier one is pushed. */
    for (size_t i = 0; i < n; i++) release_slot(m, s[i], &next);
  } else if (t->trace) {
    t->trace(d, release_child, m);
  }
  return next;
}

/* The rare deaths: a finalizer to run (it may resurrect d), weak references to clear.
 * m->stats is current (the caller stored its tally). Returns release_refs' next. */
static struct gcl_object *kill_slow(struct gcl_mutator *m, struct gcl_object *d,
                                    const struct gcl_type *t) {
  /* The callbacks below may block or reach a safepoint, and another thread may collect
   * meanwhile: d is no longer on the worklist, so gcl_visit_dying names it. */
  struct gcl_object *outer = m->dying;
  m->dying = d;
  if (t->finalize && !(gcl_obj_flags(d) & GCL_OBJ_FINALIZED)) {
    /* PEP 442 under RC: the finalizer runs once, on a temporarily revived object; if it
     * stored a new reference somewhere, the object is resurrected and lives on. */
    gcl_obj_set_flag(d, GCL_OBJ_FINALIZED);
    gcl_rc_thread_revive(m, d);
    t->finalize(m, d);
    if (!gcl_rc_thread_dec(m, d, true)) {
      m->dying = outer;
      return NULL;
    }
  }
  /* Weak references read NULL from here on; their callbacks run before d loses anything. */
  if (gcl_obj_flags(d) & GCL_OBJ_WEAKREFD) gcl_weakref_clear(m, d);
  m->dying = outer;
  struct gcl_object *next = release_refs(m, d, t);
  free_object(m, d, t, gcl_obj_flags(d));
  return next;
}

void gcl_visit_dying(struct gcl_mutator *t, void (*fn)(struct gcl_object *o, void *ctx), void *ctx) {
  for (size_t i = 0; i < t->dealloc_top; i++) fn(t->dealloc_stack[i], ctx);
  if (t->dying) fn(t->dying, ctx);
}

/* Kill one object whose count is zero: drop its references, free its memory; returns a
 * child that died with it and is not on the worklist (or NULL). The type word is read
 * once; finalizers and weak references take the slow path. */
static inline struct gcl_object *kill(struct gcl_mutator *m, struct gcl_object *d,
                                      struct free_tally *ft) {
  uintptr_t word = __atomic_load_n(&d->gcl_type_word, __ATOMIC_RELAXED);
  const struct gcl_type *t = (const struct gcl_type *)(word & ~(uintptr_t)GCL_OBJ_FLAG_MASK);
  if (GCL_UNLIKELY(t->finalize != NULL || (word & GCL_OBJ_WEAKREFD))) {
    tally_store(m, ft);
    struct gcl_object *next = kill_slow(m, d, t);
    *ft = tally_load(m);
    return next;
  }
  struct gcl_object *next = release_refs(m, d, t);
  free_object_tallied(m, d, t, word & GCL_OBJ_FLAG_MASK, ft);
  return next;
}

/* The generic death of one object (any type, any flag), out of line so that the plain
 * loop of gcl_dealloc keeps its registers: m->stats and the worklist are current on entry
 * and on return (the caller stored its drain state). */
__attribute__((noinline)) static struct gcl_object *kill_generic(struct gcl_mutator *m,
                                                                 struct gcl_object *d) {
  struct free_tally ft = tally_load(m);
  struct gcl_object *next = kill(m, d, &ft);
  tally_store(m, &ft);
  return next;
}

/* What the plain loop of gcl_dealloc keeps in registers: the worklist's top and end
 * (m->dealloc_top is top - m->dealloc_stack once stored) and the tally. Stored to m before
 * anything out of line that may read the worklist or the counters (the generic kill, a
 * poll, the verifier's frame check), loaded again after. */
struct drain {
  struct gcl_object **top;   /* next free slot of m->dealloc_stack */
  struct gcl_object **limit; /* m->dealloc_stack + m->dealloc_cap */
  struct free_tally ft;      /* frees not yet in m->stats */
  unsigned clock;            /* kills since the last poll (counted only where the drain
                              * polls: GCL_COLLECTOR_STOPS_WORLD or GCL_VERIFY) */
};

static inline void drain_load(struct gcl_mutator *m, struct drain *dr) {
  dr->top = m->dealloc_stack + m->dealloc_top;
  dr->limit = m->dealloc_stack + m->dealloc_cap;
  dr->ft = tally_load(m);
}

static inline void drain_store(struct gcl_mutator *m, struct drain *dr) {
  m->dealloc_top = (size_t)(dr->top - m->dealloc_stack);
  tally_store(m, &dr->ft);
}

static inline void drain_push(struct gcl_mutator *m, struct drain *dr, struct gcl_object *o) {
  if (GCL_UNLIKELY(dr->top == dr->limit)) {
    m->dealloc_top = (size_t)(dr->top - m->dealloc_stack);
    dealloc_grow(m);
    dr->top = m->dealloc_stack + m->dealloc_top;
    dr->limit = m->dealloc_stack + m->dealloc_cap;
  }
  *dr->top++ = o;
}

/* A plain type: no finalizer, its references (if any) in the simple layout (t->nrefs
 * slots; a variable-sized type's items hold none), no free list. Such an object with no
 * flag set (not shared, not weakly referenced, not finalized) dies by kill_plain, without
 * kill's other tests (issue 13: the finalizer, weak, layout, free-list and shared tests
 * were made on every death). A fixed-size plain type's whole type word is cached by the
 * drain (drain's `plain2` and `plain`): an object whose word equals it takes no test. */
static inline bool type_is_plain(const struct gcl_type *t) {
  return t->finalize == NULL && !(t->flags & (GCL_TYPE_REF_ITEMS | GCL_TYPE_REF_COUNTED)) &&
         (t->nrefs > 0 || t->trace == NULL) && !(GCL_FREELISTS && t->freelist != 0);
}

/* A dying child c of a plain object: NULL-tested and decremented; a dead one becomes *next
 * and the previous *next joins the worklist. */
static inline void plain_slot(struct gcl_mutator *m, struct drain *dr, struct gcl_object *c,
                              struct gcl_object **next) {
  if (c && gcl_rc_thread_dec(m, c, true)) {
    if (*next) drain_push(m, dr, *next);
    *next = c;
  }
}

/* Kill d, a plain type t's object with no flag set (var: t is variable-sized; two: t has
 * exactly two reference slots; both constants at each call): what kill does for it, in the same order (references dropped, on_free,
 * the tally, the memory released), without the tests that cannot hold. Returns the last
 * child that died with it (or NULL). Always inlined: gcc stopped inlining it into the
 * drain's variable-sized branch once brc's written-out slots made it larger (churn: +7 M
 * instructions, issue 13). */
__attribute__((always_inline)) static inline struct gcl_object *
kill_plain(struct gcl_mutator *m, struct gcl_object *d, const struct gcl_type *t, struct drain *dr,
           bool var, bool two) {
  struct gcl_object **s = (struct gcl_object **)((char *)d + t->ref_offset);
  size_t n = two ? 2 : t->nrefs;
  /* read before the decrements below, which the compiler cannot tell from stores to t */
  size_t bytes = GCL_COLLECTOR_PREFIX_SIZE + t->size;
  if (var) bytes += ((struct gcl_varobject *)d)->len * t->item_size;
  struct gcl_object *next = NULL;
  if (two && gcl_rc_kind() == GCL_RC_BIASED) {
    /* Written out under brc, whose decrement gcc leaves in a rolled two-step loop (65 M
     * instructions of 822 M on binary-trees, issue 13); under the other kinds gcc unrolls
     * the loop itself, better than this (rc-plain: 4.5 M fewer). */
    plain_slot(m, dr, s[0], &next);
    plain_slot(m, dr, s[1], &next);
  } else {
    /* Invariant: next is NULL or the last dead child seen; every earlier one is pushed. */
    for (size_t i = 0; i < n; i++) plain_slot(m, dr, s[i], &next);
  }
  gcl_collector_on_free_plain(&m->collector, d, t);
  if (GCL_COLLECTOR_ON_FREE_PLAIN) dr->ft.containers += (int32_t)(t->flags & GCL_TYPE_CONTAINER);
  tally_free(m, &dr->ft, bytes);
  if (GCL_VERIFY) gcl_verify_on_free(d); /* quarantined, as free_object_tallied does */
  else gcl_allocator_free(&m->allocator, (char *)d - GCL_COLLECTOR_PREFIX_SIZE, bytes);
  return next;
}

/* The drain's poll, every GCL_DEALLOC_POLL_EVERY objects freed (issue 8: a stop must not
 * wait for the whole free of a large structure). Cold. d, the object to kill next, goes
 * back on the worklist for the duration, so that a collector running while this thread is
 * stopped sees it dying (gcl_visit_dying). Does nothing inside a collector's phase (its
 * collection or sweep: the thread may hold the collector's locks, core/event.h) and for the
 * thread that requested the stop (gcl_poll_slow). m's drain state is stored (the caller's). */
static struct gcl_object *dealloc_poll(struct gcl_mutator *m, struct gcl_object *d) {
  if (gcl_event_in_phase()) return d;
  m->stats.dealloc_polls++;
  dealloc_push(m, d);
  gcl_poll_slow(m);
  return m->dealloc_stack[--m->dealloc_top];
}

/* The poll's clock struck (GCL_DEALLOC_POLL_EVERY frees since the tally was last stored):
 * the verifier's frame check, the stop if one is requested; returns the object to kill
 * next. Stores the drain state first and restarts the clock, loads the state after. */
static struct gcl_object *dealloc_clock(struct gcl_mutator *m, struct drain *dr, struct gcl_object *d) {
  drain_store(m, dr);
  dr->clock = 0;
  if (GCL_VERIFY) gcl_verify_drain_frames(m, d);
  if (__atomic_load_n(&gcl_stop_requested, __ATOMIC_RELAXED) && gcl_collector_drain_polls())
    d = dealloc_poll(m, d);
  drain_load(m, dr);
  return d;
}

/* A plain object without references (a leaf: a number, a string) dies with nothing to
 * drop, so it needs no drain: counted straight into m->stats and freed (issue 13: churn's
 * deaths are mostly single leaves, and the drain's setup cost more than the death). */
static inline void kill_leaf(struct gcl_mutator *m, struct gcl_object *o, const struct gcl_type *t) {
  size_t bytes = GCL_COLLECTOR_PREFIX_SIZE + gcl_object_size_as(o, t);
  gcl_collector_on_free_plain(&m->collector, o, t);
  if (t->flags & GCL_TYPE_CONTAINER) gcl_collector_plain_frees(&m->collector, 1);
  m->stats.objects_freed++;
  if (GCL_UNLIKELY((m->stats.live_bytes_delta -= (int64_t)bytes) < -GCL_HEAP_BYTES_BATCH))
    gcl_heap_bytes_flush(m);
  if (GCL_VERIFY) gcl_verify_on_free(o); /* quarantined, as free_object_tallied does */
  else gcl_allocator_free(&m->allocator, (char *)o - GCL_COLLECTOR_PREFIX_SIZE, bytes);
}

static void drain(struct gcl_mutator *m, struct gcl_object *o);

/* gcl_dealloc called inside a drain (by a finalizer, a weak-reference callback): o joins
 * the worklist. Out of line, so that gcl_dealloc's own path saves no register. */
__attribute__((noinline, cold)) static void dealloc_push_nested(struct gcl_mutator *m, struct gcl_object *o) {
  dealloc_push(m, o);
}

void gcl_dealloc(struct gcl_mutator *m, struct gcl_object *o) {
  if (GCL_VERIFY) gcl_verify_drain_frames(m, o); /* the frame rule: no frame names o */
  if (GCL_UNLIKELY(m->dealloc_draining)) { /* an outer call on this thread will get to it */
    dealloc_push_nested(m, o);
    return;
  }
  uintptr_t word = __atomic_load_n(&o->gcl_type_word, __ATOMIC_RELAXED);
  const struct gcl_type *t = (const struct gcl_type *)(word & ~(uintptr_t)GCL_OBJ_FLAG_MASK);
  if (!(word & GCL_OBJ_FLAG_MASK) && t->nrefs == 0 && type_is_plain(t)) kill_leaf(m, o, t);
  else drain(m, o);
}

/* Kill o and every object that dies with it, on this thread's worklist (o is not a plain
 * leaf, whose death gcl_dealloc handles; any object may follow it). */
__attribute__((noinline)) static void drain(struct gcl_mutator *m, struct gcl_object *o) {
  m->dealloc_draining = true;
  if (GCL_UNLIKELY(!m->dealloc_stack)) dealloc_grow(m); /* drain_load's pointers need it */
  struct drain dr;
  drain_load(m, &dr);
  dr.clock = 0;
  /* The type words of the last fixed-size plain types met with two reference slots and
   * with another number (0: none yet; no type word is 0). */
  uintptr_t plain2 = 0, plain = 0;
  /* Loop invariant: d and every object on the worklist (m->dealloc_stack up to dr.top)
   * have a zero count, are unreachable, and still hold the references in their slots
   * (they are dropped only when each is killed); d is not on the worklist. */
  struct gcl_object *d = o;
  for (;;) {
    struct gcl_object *next;
    uintptr_t word = __atomic_load_n(&d->gcl_type_word, __ATOMIC_RELAXED);
    const struct gcl_type *t = (const struct gcl_type *)(word & ~(uintptr_t)GCL_OBJ_FLAG_MASK);
    if (GCL_LIKELY(word == plain2)) {
      next = kill_plain(m, d, (const struct gcl_type *)word, &dr, false, true); /* no flag */
    } else if (word == plain) {
      next = kill_plain(m, d, (const struct gcl_type *)word, &dr, false, false);
    } else if (!(word & GCL_OBJ_FLAG_MASK) && type_is_plain(t)) {
      if (t->flags & GCL_TYPE_VAR) { /* not cached: its size is the object's own */
        if (t->nrefs == 2) next = kill_plain(m, d, t, &dr, true, true);
        else next = kill_plain(m, d, t, &dr, true, false);
      } else {
        /* the type of the next deaths, most likely (a tree's nodes, a list's cells) */
        if (t->nrefs == 2) plain2 = word;
        else plain = word;
        next = kill_plain(m, d, t, &dr, false, false);
      }
    } else {
      drain_store(m, &dr);
      next = kill_generic(m, d);
      drain_load(m, &dr);
    }
    if (next) d = next;
    else if (dr.top != m->dealloc_stack) d = *--dr.top;
    else break;
    /* The poll's clock counts kills (each frees its object or, a finalizer having
     * resurrected it, does not) since the last poll. A collector that marks from root frames (brc) may run
     * while this thread is stopped here: the frame rule (core/mutator.h) keeps every frame
     * off the objects this drain kills (before it, a frame still naming the tree whose
     * release started the drain crashed brc x segment x binary-trees at 2 threads about 1
     * run in 2, which is why brc waited out the drain until issue 8). The verifier checks
     * the rule here. */
    if ((GCL_COLLECTOR_STOPS_WORLD || GCL_VERIFY) && GCL_UNLIKELY(++dr.clock >= GCL_DEALLOC_POLL_EVERY))
      d = dealloc_clock(m, &dr, d);
  }
  drain_store(m, &dr);
  m->dealloc_draining = false;
}
