/* SPDX-License-Identifier: MIT */
/* collectors/rc-gen/rc-gen-collect.c — one collection of rc-gen (CPython's Python/gc.c):
 * steps 1-8 of rc-gen.c's file comment, with the world stopped, on the collecting thread.
 * Invariants: restated where the loops are; statistics are written only here, world
 * stopped. Macros: WINDOW, PENDING, LAG, AHEAD (prefetch depths, below). */
#include "rc-gen-internal.h"
#include "event.h"
#include "pause.h"
#include "garbage.h"
#include "weakref.h"

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
/* A local collection's walks poll for a stop once every POLL_STRIDE objects (the bound on
 * a stop's wait: that many objects' visits). */
#define POLL_STRIDE 64

/* The poll clock of a walk: pm NULL (world stopped) compiles it away in the unpolled
 * copies; the polled ones tell the compiler pm is not NULL. */
static inline __attribute__((always_inline)) void tick(struct gcl_mutator *pm, unsigned *left) {
  if (pm && GCL_UNLIKELY(--*left == 0)) {
    *left = POLL_STRIDE;
    local_poll(pm);
  }
}

/* FOR_EACH_CHILD: rc-gen-internal.h. */

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
static inline __attribute__((always_inline)) void update_refs_as(struct gcl_rcgen_head *l,
                                                                 struct gcl_mutator *pm) {
  /* init_refs with next read once (the relaxed atomics are not merged by the compiler). */
  unsigned left = POLL_STRIDE;
  for (struct gcl_rcgen_head *h = first(l); h != l;) {
    uintptr_t n = ld(&h->next), rc = gcl_rc_count(obj_of(h), gcl_rc_kind());
    st(&h->next, n & ~GCL_RCGEN_LOW);
    st(&h->prev, ((rc + !rc) << REFS_SHIFT) | COLLECTING);
    tick(pm, &left);
    h = ptr(n);
  }
}
static void update_refs(struct gcl_rcgen_head *l) { update_refs_as(l, NULL); }

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

/* Queue child c (not NULL) of a far walk; the oldest queued child is processed. */
static inline void gather_one(struct scan *s, struct gcl_object *c) {
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

/* Steps 2 and 3: afterwards every member has prev = gc_refs | COLLECTING, its references
 * from outside the set (the list is singly linked until move_unreachable restores prev).
 * Far (a set larger than the cache): one walk, a member is initialised when first met, as
 * a list element or as a child, known by its tag (`members`), which saves a pass of cache
 * misses. Near: two walks in the cache, update_refs first. Returns the size. */
static inline __attribute__((always_inline)) uint64_t subtract_near_as(struct gcl_rcgen_head *l,
                                                                      struct gcl_mutator *pm) {
  uint64_t n = 0;
  /* In the cache an extra walk is cheap and initialising every member first makes each
   * child's test one bit (COLLECTING) instead of a tag lookup: CPython's update_refs. */
  update_refs_as(l, pm);
  unsigned left = POLL_STRIDE;
  for (struct gcl_rcgen_head *h = first(l); h != l; h = ptr(ld(&h->next)), n++) {
    FOR_EACH_CHILD(obj_of(h), c, decref_one(c, NULL), visit_decref, NULL);
    tick(pm, &left);
  }
  return n;
}

static inline __attribute__((always_inline)) uint64_t subtract_far_as(struct gcl_rcgen_head *l, const bool *members,
                                                                     struct gcl_mutator *pm) {
  uint64_t n = 0;
  struct scan s;
  unsigned left = POLL_STRIDE;
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
    /* A type with only a trace hook is visited directly (subtraction does not depend on
     * the order), so the window's state never escapes and stays in registers. */
    FOR_EACH_CHILD(obj_of(h), c, gather_one(&s, c), visit_decref, (void *)members);
    tick(pm, &left); /* the window's pending children are ours alone */
  }
  for (; s.n > 0; s.n--, s.head = (s.head + 1) & (WINDOW - 1)) decref_one(s.ring[s.head], members);
  return n;
}

/* A reachable object references c: if c is in the set and not yet known reachable, make
 * it so. */
static inline void reach_one(struct gcl_object *c, struct gcl_rcgen_head *young) {
  struct gcl_rcgen_head *h = gcl_rcgen_head_of(c);
  uintptr_t p = ld(&h->prev);
  /* The common case first: unscanned with gc_refs 0 (an object on `unreachable` has a list
   * pointer there, never 0 | COLLECTING); it will be scanned, as reachable. */
  if (p == COLLECTING) {
    st(&h->prev, REFS_ONE | COLLECTING);
    return;
  }
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
  }
  /* Else unscanned with gc_refs > 0: it will be scanned anyway. */
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

/* Queue child c (not NULL) of a scanned object, prefetching it. */
static inline void pending_push(struct pending *q, struct gcl_object *c) {
  __builtin_prefetch(gcl_rcgen_head_of(c), 1);
  if (q->n == PENDING) visit_oldest(q);
  q->ring[(q->head + q->n++) & (PENDING - 1)] = c;
}

/* Do every pending visit; returns young (for a comma expression, below). */
static inline struct gcl_rcgen_head *flush_pending(struct pending *q) {
  while (q->n > 0) visit_oldest(q);
  return q->young;
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
static inline __attribute__((always_inline)) void
move_unreachable_as(struct gcl_rcgen_head *young, struct gcl_rcgen_head *unreachable, unsigned tag,
                    const bool far, struct gcl_mutator *pm) {
  uintptr_t nbits = tag & 0xF, pbits = (tag >> 4) << 1;
  struct pending q;
  unsigned left = POLL_STRIDE;
  q.head = q.n = 0;
  q.young = young;
  struct gcl_rcgen_head *prev = young;
  struct gcl_rcgen_head *gc = first(young), *ahead = far ? gc : young;
  for (int i = 0; i < AHEAD && ahead != young; i++) ahead = ptr(ld(&ahead->next));
  for (;;) {
    tick(pm, &left); /* every list here is ours alone (rc-gen-local.c) */
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
    uintptr_t gp = ld(&gc->prev);
    if (far && gp < REFS_ONE) {
      while (q.n > 0) visit_oldest(&q); /* a pending visit may rescue gc */
      gp = ld(&gc->prev);
    }
    if (gp >= REFS_ONE) {
      /* Referenced from outside, or from something reachable: scan it. Its traversal may
       * append to young and so change gc->next: read it only afterwards. */
      if (far) {
        /* A type with only a trace hook: the pending visits first, then its children
         * directly, which keeps CPython's order (and q's state out of memory). */
        FOR_EACH_CHILD(obj_of(gc), c, pending_push(&q, c), visit_reachable, flush_pending(&q));
        while (q.n > LAG) visit_oldest(&q);
      } else {
        FOR_EACH_CHILD(obj_of(gc), c, reach_one(c, young), visit_reachable, young);
      }
      uintptr_t gn = ld(&gc->next) | nbits; /* read after the traversal, which may append */
      st(&gc->prev, (uintptr_t)prev | pbits);
      st(&gc->next, gn);
      prev = gc;
      gc = ptr(gn);
    } else {
      /* Tentatively unreachable; young stays singly linked here, prev fixes it later. */
      struct gcl_rcgen_head *gn = ptr(ld(&gc->next));
      st(&prev->next, (uintptr_t)gn | (ld(&prev->next) & GCL_RCGEN_LOW));
      struct gcl_rcgen_head *last = ptr(ld(&unreachable->prev));
      /* May set UNREACHABLE in the sentinel's next too: repaired below. */
      st(&last->next, (uintptr_t)gc | UNREACHABLE);
      st(&gc->prev, (uintptr_t)last | COLLECTING);
      st(&gc->next, (uintptr_t)unreachable | UNREACHABLE);
      st(&unreachable->prev, (uintptr_t)gc);
      gc = gn;
    }
  }
  st(&young->prev, (uintptr_t)prev);
  st(&unreachable->next, ld(&unreachable->next) & ~UNREACHABLE);
}

/* Copies with the mode known at compile time (no test of `far` or of polling per object):
 * world stopped, and a local collection's (polled, world running). */
static __attribute__((noinline)) uint64_t subtract_refs_near(struct gcl_rcgen_head *l) {
  return subtract_near_as(l, NULL);
}
static __attribute__((noinline)) uint64_t subtract_refs_far(struct gcl_rcgen_head *l, const bool *members) {
  return subtract_far_as(l, members, NULL);
}
static void move_unreachable_near(struct gcl_rcgen_head *young, struct gcl_rcgen_head *unreachable,
                                  unsigned tag) {
  move_unreachable_as(young, unreachable, tag, false, NULL);
}
static void move_unreachable_far(struct gcl_rcgen_head *young, struct gcl_rcgen_head *unreachable,
                                 unsigned tag) {
  move_unreachable_as(young, unreachable, tag, true, NULL);
}
static __attribute__((noinline)) uint64_t subtract_refs_near_polled(struct gcl_rcgen_head *l, struct gcl_mutator *pm) {
  if (!pm) __builtin_unreachable();
  return subtract_near_as(l, pm);
}
static __attribute__((noinline)) uint64_t subtract_refs_far_polled(struct gcl_rcgen_head *l, const bool *members,
                                                                   struct gcl_mutator *pm) {
  if (!pm) __builtin_unreachable();
  return subtract_far_as(l, members, pm);
}
static void move_unreachable_near_polled(struct gcl_rcgen_head *young, struct gcl_rcgen_head *unreachable,
                                         unsigned tag, struct gcl_mutator *pm) {
  if (!pm) __builtin_unreachable();
  move_unreachable_as(young, unreachable, tag, false, pm);
}
static void move_unreachable_far_polled(struct gcl_rcgen_head *young, struct gcl_rcgen_head *unreachable,
                                        unsigned tag, struct gcl_mutator *pm) {
  if (!pm) __builtin_unreachable();
  move_unreachable_as(young, unreachable, tag, true, pm);
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
uint64_t gcl_rcgen_deduce_unreachable(struct gcl_rcgen_head *set, struct gcl_rcgen_head *unreachable,
                                      const bool *members, unsigned tag, bool far,
                                      uint64_t *scanned) {
  if (!members && far) update_refs(set); /* near, subtract_refs does it */
  *scanned = far ? subtract_refs_far(set, members) : subtract_refs_near(set);
  if (far)
    move_unreachable_far(set, unreachable, tag);
  else
    move_unreachable_near(set, unreachable, tag);
  return clear_unreachable_mask(unreachable);
}

/* A local collection's steps 2-4: the same walks, polling (members given: the local set's
 * objects are recognisable by their tag, or initialised eagerly for a near walk). */
uint64_t gcl_rcgen_deduce_unreachable_polled(struct gcl_mutator *m, struct gcl_rcgen_head *set,
                                             struct gcl_rcgen_head *unreachable, const bool *members,
                                             unsigned tag, bool far, uint64_t *scanned) {
  if (!members && far) update_refs_as(set, m);
  *scanned = far ? subtract_refs_far_polled(set, members, m) : subtract_refs_near_polled(set, m);
  local_poll(m);
  if (far)
    move_unreachable_far_polled(set, unreachable, tag, m);
  else
    move_unreachable_near_polled(set, unreachable, tag, m);
  local_poll(m);
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
void gcl_rcgen_delete_garbage(struct gcl_mutator *m, struct gcl_rcgen_head *garbage,
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

/* Steps 2-8 on `set` (world stopped): afterwards its survivors, what finalizers
 * resurrected and garbage someone still holds are in `to`, tagged to_tag (set == to: a
 * collection in place), and everything else is freed. members: the tags of the set's
 * members, or NULL when they are not recognisable by tag (then every member is
 * initialised eagerly, and only members carry COLLECTING). Ends the "mark" phase, which
 * the caller started. Fills every field of *p. */
void gcl_rcgen_collect_region(struct gcl_mutator *m, struct gcl_rcgen_head *set, const bool *members,
                              struct gcl_rcgen_head *to, unsigned to_tag, bool far, struct pass *p) {
  struct gcl_rcgen_head unreachable;
  list_init(&unreachable);
  uint64_t scanned, nunreachable = gcl_rcgen_deduce_unreachable(set, &unreachable, members, to_tag, far, &scanned);
  if (set != to) list_merge(set, to);
  gcl_event_heap_traced();
  gcl_event_phase_end("mark");

  *p = (struct pass){0, 0, nunreachable, scanned, nunreachable, 0};
  struct gcl_rcgen_head still;
  list_init(&still);
  struct gcl_rcgen_head *garbage = &unreachable;
  if (nunreachable == 0) return;
  gcl_event_phase_start("finalize");
  clear_weakrefs(m, &unreachable);
  p->finalizers = finalize_garbage(m, &unreachable);
  if (p->finalizers > 0) {
    /* Only a finalizer can resurrect (callbacks reach no garbage): recompute. */
    uint64_t set_size;
    p->collected = gcl_rcgen_deduce_unreachable(&unreachable, &still, NULL, to_tag, far, &set_size);
    p->resurrected = set_size - p->collected;
    list_merge(&unreachable, to);
    garbage = &still;
    clear_weakrefs(m, &still); /* weak references finalizers made to garbage */
  }
  gcl_event_phase_end("finalize");
  gcl_event_phase_start("clear");
  uint64_t freed0 = m->stats.objects_freed;
  gcl_rcgen_delete_garbage(m, garbage, to, to_tag);
  p->freed = m->stats.objects_freed - freed0;
  gcl_event_phase_end("clear");
}

/* The generational policies (3.12, 3.13): collect generation `gen` and the younger ones;
 * survivors move one generation up (gen2's stay). */
static void collect_generations(struct gcl_mutator *m, int gen, struct pass *p) {
  if (gen + 1 < NGEN) gcl_rcgen.gens[gen + 1].count++;
  for (int i = 1; i <= gen; i++) gcl_rcgen.gens[i].count = 0;
  /* young=thread: only the shared heap (rc-gen-local.c); threads' local heaps, which no
   * shared object references, count as outside the set, and their counts are their own. */
  bool shared_only = gcl_rcgen_shared_only();
  if (shared_only) {
    pthread_mutex_lock(&gcl_rcgen.registry_lock);
    gcl_rcgen_shared_young_reset_locked(); /* its young count, slot-less threads' included */
    pthread_mutex_unlock(&gcl_rcgen.registry_lock);
  } else {
    gcl_rcgen_reset_counts();
  }

  struct gcl_rcgen_head *young = &gcl_rcgen.gens[gen].head;
  struct gcl_rcgen_head *old = gen + 1 < NGEN ? &gcl_rcgen.gens[gen + 1].head : young;
  unsigned old_tag = gen + 1 < NGEN ? gcl_rcgen.gens[gen + 1].tag : gcl_rcgen.gens[gen].tag;
  bool members[GCL_RCGEN_NTAGS] = {false};
  for (unsigned t = 1; t <= GCL_RCGEN_MAX_SLOT; t++) members[t] = !shared_only;
  members[GCL_RCGEN_TAG_ORPHAN] = true;
  for (int i = 1; i <= gen; i++) members[gcl_rcgen.gens[i].tag] = true;
  for (int i = 0; i < gen; i++) list_merge(&gcl_rcgen.gens[i].head, young);
  for (unsigned t = shared_only ? GCL_RCGEN_TAG_ORPHAN : 1; t < GCL_RCGEN_NTAGS; t++)
    list_merge(&gcl_rcgen.gen0_lists[t].head, young);

  /* Only full collections walk sets much larger than the cache: prefetch there. */
  gcl_rcgen_collect_region(m, young, members, old, old_tag, gen == NGEN - 1, p);
  uint64_t survivors = p->scanned - p->unreachable;
  if (young != old) {
    if (gen == NGEN - 2) gcl_rcgen.long_lived_pending += survivors;
  } else {
    gcl_rcgen.long_lived_pending = 0;
    gcl_rcgen.long_lived_total = survivors;
  }
}

void gcl_rcgen_collect(struct gcl_mutator *m, int gen, struct pass *out) {
  uint64_t t0 = gcl_now_ns();
  gcl_event_phase_start("mark");
  __atomic_store_n(&gcl_rcgen.collecting, 1, __ATOMIC_RELAXED);
  struct pass p;
  if (gcl_rcgen.policy == GCL_RCGEN_POLICY_314)
    gcl_rcgen_collect_314(m, gen, &p);
  else
    collect_generations(m, gen, &p);
  gcl_heap_bytes_flush(m); /* our own frees count in the live data */
  gcl_event_live_data((uint64_t)gcl_stats_live_bytes());
  if (p.freed) gcl_garbage_freed(p.freed);

  __atomic_store_n(&gcl_rcgen.collecting, 0, __ATOMIC_RELAXED);
  gcl_rcgen_reset_limits();
  gcl_rcgen.stats.collections[gen]++;
  gcl_rcgen.stats.objects_scanned += p.scanned;
  gcl_rcgen.stats.objects_collected += p.collected;
  gcl_rcgen.stats.finalizers_run += p.finalizers;
  gcl_rcgen.stats.resurrected += p.resurrected;
  uint64_t ns = gcl_now_ns() - t0;
  gcl_rcgen.stats.gc_ns += ns;
  gcl_rcgen.stats.gc_ns_gen[gen] += ns;
  gcl_rcgen.stats.scanned_gen[gen] += p.scanned;
  if (out) *out = p;
}
