/* SPDX-License-Identifier: MIT */
/* collectors/rc-gen/rc-gen-local.c — thread-local heaps (--opt rc-gen.young=thread, and
 * auto without the GIL) and the escape barrier that makes them sound. The 3.12/3.13
 * policies only: 3.14's increments stay stop-the-world.
 *
 * The barrier (rc-gen-attrs.h, inline in gcl_store/gcl_store_move/gcl_share, and
 * gcl_weakref_new): once gcl_rcgen_escapes is set, an object tagged with a thread's own
 * slot is LOCAL to that thread; it sits on the thread's gen0 list or on its local gen1 or
 * gen2 list (gcl_rcgen.local_old[slot]). A local object escapes (gcl_rcgen_escape) before
 * it is stored into a slot of an object that is not local to the storing thread, into a
 * slot outside the heap (obj NULL: a global root), gcl_share()d or weakly referenced;
 * escaping moves it and, transitively, its local children to the shared gen0 list (tag
 * 127, also the orphans'). Only the owner can escape its objects: no other thread holds a
 * reference to them (the invariant being kept).
 *
 * Invariant E: while gcl_rcgen_escapes is set, no object reachable from another thread's
 * frames, from a global root, from a weak reference or from a non-local object is local
 * to thread T; so only T reads or writes a local object's count, slots and prefix, and no
 * shared object references a local one (every cycle is wholly local or wholly shared).
 * Proof sketch: a reference reaches another thread only through a heap slot, a global
 * root, gcl_share or a weak reference; each such store of a local value into a non-local
 * place escapes the value first, closed over its local children; a store into a local
 * object keeps the value local, and when that object escapes later its children go with
 * it. The switch (gcl_rcgen_escapes_on) happens before a second thread exists or with the
 * world stopped, and makes every object so far shared, so E holds from the start.
 *
 * A local collection (collect_local) of generations 0..g of T's local heap runs on T,
 * world running. It polls every 64 objects of its walks (section "polls" below: a stop
 * that overlaps it never touches its set, and gc.collect/freeze wait for it to end);
 * other threads' local collections may overlap it too, and their sets are disjoint with
 * no reference between them (E). By E
 * no other thread changes a member's count or slots meanwhile, so CPython's subtract/move
 * steps are exact for the set, references from outside it counting as external (as
 * CPython's young collections treat old->young references). The set moves to a private
 * list under T's lock; survivors stay local (T's generation g+1). Unreachable objects
 * with a finalizer still to run or weak references are given back, escaped with what they
 * reach, and a stop-the-world collection of the shared heap takes them, since finalizers
 * and callbacks may publish garbage to other threads. The shared heap (tags 127, 126,
 * 124) is collected with the world stopped, shared lists only (rc-gen-collect.c), its
 * young count being the escapes since its last collection; gcl_collect, freeze and the
 * exit collections first make every object shared (gcl_rcgen_escape_all).
 *
 * Not covered by the barrier (documented in the README): references passed between
 * threads outside the heap (a C variable) without gcl_share. No macros change this file. */
#include "rc-gen-internal.h"
#include "event.h"
#include "garbage.h"
#include "pause.h"

#include <sched.h>
#include <string.h>

int gcl_rcgen_escapes;

/* --- the escape barrier's slow path ---------------------------------------------------- */

struct escape {
  struct gcl_collector_mutator *cm; /* the escaping objects' owner (the running thread) */
  struct gcl_rcgen_head moved;      /* objects moved so far, tagged 127, private */
  uint64_t n;                       /* how many */
};

static inline void escape_one(struct escape *e, struct gcl_object *o) {
  if (!gcl_rcgen_is_local(e->cm, o)) return;
  struct gcl_rcgen_head *h = gcl_rcgen_head_of(o);
  gcl_rcgen_unlink(h);
  gcl_rcgen_append(&e->moved, h, GCL_RCGEN_TAG_ORPHAN);
  e->n++;
}

static void visit_escape(struct gcl_object **slot, void *ctx) {
  struct gcl_object *c = __atomic_load_n(slot, __ATOMIC_RELAXED);
  if (c) escape_one(ctx, c);
}

void gcl_rcgen_escape(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  bool locking = __atomic_load_n(&gcl_rcgen_locking, __ATOMIC_RELAXED);
  int *mine = &gcl_rcgen_locks[cm->tag].v, *shared = &gcl_rcgen_locks[GCL_RCGEN_TAG_ORPHAN].v;
  struct escape e = {.cm = cm, .n = 0};
  list_init(&e.moved);
  if (locking) gcl_rcgen_lock(mine);
  escape_one(&e, o);
  /* Loop invariant: every object on `moved` left of h has had its local children appended
   * to `moved`; every object on `moved` is tagged 127, so it is no longer local and is
   * moved once. No other thread reaches any of them yet (invariant E), so the private list
   * needs no lock of its own. */
  for (struct gcl_rcgen_head *h = first(&e.moved); h != &e.moved; h = ptr(ld(&h->next)))
    FOR_EACH_CHILD(obj_of(h), c, escape_one(&e, c), visit_escape, &e);
  if (locking) gcl_rcgen_lock(shared); /* lock order: own list, then the shared one (detach's) */
  list_merge(&e.moved, &gcl_rcgen.gen0_lists[GCL_RCGEN_TAG_ORPHAN].head);
  if (locking) {
    gcl_rcgen_unlock(shared);
    gcl_rcgen_unlock(mine);
  }
  __atomic_store_n(&cm->local.escapes, cm->local.escapes + e.n, __ATOMIC_RELAXED);
}

/* World stopped (or before any thread attached), no thread parked inside its local
 * collection (gcl_rcgen_stop_world_all). Every local heap empties into the shared one, so
 * its counts go with it (CPython keeps one set of counts; a thread's own would otherwise
 * stay stale: its gen1/gen2 counts and 25% figures describing lists that are now empty):
 * the gen0 counts join the shared young count (orphan_count), the long-lived figures the
 * shared ones, and every local count is reset. */
void gcl_rcgen_escape_all(void) {
  struct gcl_rcgen_head *shared = &gcl_rcgen.gen0_lists[GCL_RCGEN_TAG_ORPHAN].head;
  pthread_mutex_lock(&gcl_rcgen.registry_lock);
  for (struct gcl_collector_mutator *cm = gcl_rcgen.registry; cm; cm = cm->reg_next) {
    if (!cm->tag) continue; /* slot-less: its count is the shared heap's already */
    gcl_rcgen.orphan_count += __atomic_load_n(&cm->count, __ATOMIC_RELAXED);
    __atomic_store_n(&cm->count, 0, __ATOMIC_RELAXED);
    gcl_rcgen.long_lived_total += cm->ll_total;
    gcl_rcgen.long_lived_pending += cm->ll_pending;
    cm->ll_total = cm->ll_pending = 0;
    memset(cm->lcount, 0, sizeof cm->lcount);
  }
  pthread_mutex_unlock(&gcl_rcgen.registry_lock);
  for (unsigned t = 1; t <= GCL_RCGEN_MAX_SLOT; t++) {
    list_retag(&gcl_rcgen.gen0_lists[t].head, GCL_RCGEN_TAG_ORPHAN);
    list_merge(&gcl_rcgen.gen0_lists[t].head, shared);
    for (int g = 1; g < NGEN; g++) {
      list_retag(&gcl_rcgen.local_old[t][g - 1], gcl_rcgen.gens[g].tag);
      list_merge(&gcl_rcgen.local_old[t][g - 1], &gcl_rcgen.gens[g].head);
    }
  }
}

void gcl_rcgen_escapes_on(void) {
  gcl_rcgen_escape_all();
  __atomic_store_n(&gcl_rcgen_escapes, 1, __ATOMIC_RELAXED);
}

bool gcl_rcgen_shared_only(void) {
  return gcl_rcgen.young_thread && __atomic_load_n(&gcl_rcgen_escapes, __ATOMIC_RELAXED);
}

void gcl_rcgen_local_detach(struct gcl_collector_mutator *cm) {
  if (!cm->tag) return;
  bool locking = __atomic_load_n(&gcl_rcgen_locking, __ATOMIC_RELAXED);
  for (int g = 1; g < NGEN; g++) {
    int *mine = &gcl_rcgen_locks[cm->tag].v, *l = &gcl_rcgen_locks[gcl_rcgen.gens[g].tag].v;
    if (locking) gcl_rcgen_lock(mine), gcl_rcgen_lock(l);
    list_retag(&gcl_rcgen.local_old[cm->tag][g - 1], gcl_rcgen.gens[g].tag);
    list_merge(&gcl_rcgen.local_old[cm->tag][g - 1], &gcl_rcgen.gens[g].head);
    if (locking) gcl_rcgen_unlock(l), gcl_rcgen_unlock(mine);
  }
}

/* --- figures ------------------------------------------------------------------------- */

void gcl_rcgen_local_read(const struct gcl_rcgen_local_stats *from, struct gcl_rcgen_local_stats *to) {
  for (int g = 0; g < NGEN; g++) {
    to->collections[g] = __atomic_load_n(&from->collections[g], __ATOMIC_RELAXED);
    to->scanned[g] = __atomic_load_n(&from->scanned[g], __ATOMIC_RELAXED);
    to->ns[g] = __atomic_load_n(&from->ns[g], __ATOMIC_RELAXED);
  }
  to->collected = __atomic_load_n(&from->collected, __ATOMIC_RELAXED);
  to->freed = __atomic_load_n(&from->freed, __ATOMIC_RELAXED);
  to->escapes = __atomic_load_n(&from->escapes, __ATOMIC_RELAXED);
  to->fallbacks = __atomic_load_n(&from->fallbacks, __ATOMIC_RELAXED);
}

void gcl_rcgen_local_add(struct gcl_rcgen_stats *s, const struct gcl_rcgen_local_stats *from) {
  struct gcl_rcgen_local_stats l;
  gcl_rcgen_local_read(from, &l);
  for (int g = 0; g < NGEN; g++) {
    s->collections[g] += l.collections[g];
    s->local_collections += l.collections[g];
    s->objects_scanned += l.scanned[g];
    s->scanned_gen[g] += l.scanned[g];
    s->gc_ns += l.ns[g];
    s->gc_ns_gen[g] += l.ns[g];
  }
  s->objects_collected += l.collected;
  s->escapes += l.escapes;
  s->local_fallbacks += l.fallbacks;
}

uint64_t gcl_rcgen_escapes_total_locked(void) {
  uint64_t n = gcl_rcgen.local.escapes;
  for (struct gcl_collector_mutator *cm = gcl_rcgen.registry; cm; cm = cm->reg_next)
    n += __atomic_load_n(&cm->local.escapes, __ATOMIC_RELAXED);
  return n;
}

/* What became shared since the shared heap's last collection: escaped objects, the gen0
 * lists detached threads left (orphan_count) and the allocations of threads without a slot,
 * which link into the shared gen0 list directly (their own counts, floored at 0 each, as
 * every thread's). */
int64_t gcl_rcgen_shared_young_locked(void) {
  int64_t n = (int64_t)(gcl_rcgen_escapes_total_locked() - gcl_rcgen.escapes_at_shared) + gcl_rcgen.orphan_count;
  for (struct gcl_collector_mutator *cm = gcl_rcgen.registry; cm; cm = cm->reg_next)
    if (!cm->tag) n += __atomic_load_n(&cm->count, __ATOMIC_RELAXED);
  return n;
}

void gcl_rcgen_shared_young_reset_locked(void) {
  gcl_rcgen.escapes_at_shared = gcl_rcgen_escapes_total_locked();
  gcl_rcgen.orphan_count = 0;
  for (struct gcl_collector_mutator *cm = gcl_rcgen.registry; cm; cm = cm->reg_next)
    if (!cm->tag) __atomic_store_n(&cm->count, 0, __ATOMIC_RELAXED);
}

/* --- polls inside a local collection ------------------------------------------------------
 * A local collection polls every POLL_STRIDE (64) objects of its walks (rc-gen-collect.c)
 * and between its steps, so a stop requested by another thread waits for at most 64 objects' visits,
 * not the whole collection. Parked there, the thread's state is: its set on private lists
 * (COLLECTING, gc_refs in prev), no list lock held (collect_local holds its own only around
 * list merges), no reference count or slot changed yet. What a stop may do meanwhile:
 *  - a shared collection (tags 127/126/124) never reaches the set: by invariant E no shared
 *    object references a local one, and its RC frees free shared objects only;
 *  - the verifier's oracle reads counts and slots from roots: the walks change neither;
 *  - gc.collect and freeze move every local heap into the shared one (escape_all), which a
 *    set on private lists would miss, half-initialised: they want no parked local
 *    collection (gcl_rcgen_stop_world_all), so those stops still wait for it;
 *  - the escape barrier's switch (gcl_rcgen_escapes_on) happens only while it is off, when
 *    there are no local collections.
 * The clear step (delete_garbage) does not poll: core/heap.c's drain polls are off inside a
 * collector's phase, and the garbage it frees is bounded by the set. But a finalizer it runs
 * (an object outside the set that the set's clearing killed) may reach a safepoint, so
 * local_parked stays set through the whole clear step, and a stop that wants no parked local
 * collection waits for it too. */
void gcl_rcgen_local_poll(struct gcl_mutator *m) {
  if (__atomic_load_n(&gcl_rcgen.no_local_polls, __ATOMIC_SEQ_CST)) return;
  __atomic_add_fetch(&m->collector.local_parked, 1, __ATOMIC_SEQ_CST);
  gcl_poll_slow(m);
  __atomic_sub_fetch(&m->collector.local_parked, 1, __ATOMIC_SEQ_CST);
}

/* Whether a thread is parked inside its local collection (world stopped). */
static bool local_parked(void) {
  bool any = false;
  pthread_mutex_lock(&gcl_rcgen.registry_lock);
  for (struct gcl_collector_mutator *cm = gcl_rcgen.registry; cm && !any; cm = cm->reg_next)
    any = __atomic_load_n(&cm->local_parked, __ATOMIC_SEQ_CST) != 0;
  pthread_mutex_unlock(&gcl_rcgen.registry_lock);
  return any;
}

/* no_local_polls is raised before the stop: a thread that read it clear and parked at a
 * walk's poll anyway is found here, the world restarts, and it then sees it raised (the
 * world's restart orders the store before its resumption) and finishes its walks without
 * parking again. A thread parked in its clear step (a finalizer's safepoint) may park there
 * again at each retry until the step ends, so between retries the requester waits in a
 * blocking region: under the GIL that hands the GIL over, without which the parked thread
 * could never re-attach and finish (found in review: a hang under --gil). */
void gcl_rcgen_stop_world_all(struct gcl_mutator *m) {
  __atomic_add_fetch(&gcl_rcgen.no_local_polls, 1, __ATOMIC_SEQ_CST);
  for (;;) {
    gcl_stop_the_world(m);
    if (!gcl_rcgen_shared_only() || !local_parked()) return;
    gcl_start_the_world(m);
    gcl_blocking_enter(m);
    sched_yield();
    gcl_blocking_leave(m);
  }
}

void gcl_rcgen_start_world_all(struct gcl_mutator *m) {
  gcl_start_the_world(m);
  __atomic_sub_fetch(&gcl_rcgen.no_local_polls, 1, __ATOMIC_SEQ_CST);
}

/* Owner-only counter bump (readers use relaxed loads). */
static inline void bump(uint64_t *c, uint64_t d) {
  __atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + d, __ATOMIC_RELAXED);
}

/* --- the local collection --------------------------------------------------------------- */

/* Whether some unreachable object has a finalizer still to run or weak references: then
 * its clearing may run code that publishes garbage, which only a stopped world makes safe. */
static bool needs_world(struct gcl_rcgen_head *l) {
  for (struct gcl_rcgen_head *h = first(l); h != l; h = ptr(ld(&h->next))) {
    struct gcl_object *o = obj_of(h);
    unsigned f = gcl_obj_flags(o);
    if (f & GCL_OBJ_WEAKREFD) return true;
    if (gcl_type_of(o)->finalize && !(f & GCL_OBJ_FINALIZED)) return true;
  }
  return false;
}

/* Append the private list `from` (tagged with cm's tag) to one of cm's own lists. */
static void to_own(struct gcl_collector_mutator *cm, struct gcl_rcgen_head *from,
                   struct gcl_rcgen_head *to, bool locking) {
  if (locking) gcl_rcgen_lock(&gcl_rcgen_locks[cm->tag].v);
  list_merge(from, to);
  if (locking) gcl_rcgen_unlock(&gcl_rcgen_locks[cm->tag].v);
}

/* The unreachable part of a local collection that finalizers or weak-reference callbacks
 * would see: back on our gen0 list as it was (no code ran since), then escaped with what it
 * reaches, for the stop-the-world shared collection that follows. */
static void give_back(struct gcl_collector_mutator *cm, struct gcl_rcgen_head *unreachable) {
  list_retag(unreachable, cm->tag);
  /* Loop invariant: `unreachable` holds the objects not escaped yet; each escape takes at
   * least its first one (it is local: tagged ours, COLLECTING clear). */
  while (!list_empty(unreachable)) gcl_rcgen_escape(cm, obj_of(first(unreachable)));
}

/* Collect generation g of m's local heap alone (steps 2-4 and 8 of rc-gen.c), world
 * running: generations 0..g of this thread's own lists; survivors to its generation g+1
 * (gen2's stay), still local. Returns true when the unreachable part had to be handed to a
 * stop-the-world collection. */
static bool collect_local(struct gcl_mutator *m, int g) {
  struct gcl_collector_mutator *cm = &m->collector;
  uint64_t t0 = gcl_now_ns();
  bool locking = __atomic_load_n(&gcl_rcgen_locking, __ATOMIC_RELAXED), fallback = false;
  unsigned tag = cm->tag;
  struct gcl_rcgen_head young, unreachable, old;
  struct gcl_rcgen_head *to = &gcl_rcgen.local_old[tag][g < NGEN - 1 ? g : NGEN - 2];
  list_init(&young);
  list_init(&unreachable);
  list_init(&old);
  bool members[GCL_RCGEN_NTAGS] = {false};
  members[tag] = true; /* every object tagged ours is in the set (far walk, g = 2) */
  __atomic_store_n(&cm->local_collecting, true, __ATOMIC_RELAXED);
  __atomic_store_n(&cm->count, 0, __ATOMIC_RELAXED); /* CPython: generations[0].count = 0 */
  if (g + 1 < NGEN) cm->lcount[g + 1]++;
  for (int i = 1; i <= g; i++) cm->lcount[i] = 0;
  gcl_event_phase_start("mark");
  if (locking) gcl_rcgen_lock(&gcl_rcgen_locks[tag].v);
  list_merge(&cm->gen0->head, &young);
  for (int i = 1; i <= g; i++) list_merge(&gcl_rcgen.local_old[tag][i - 1], &young);
  if (locking) gcl_rcgen_unlock(&gcl_rcgen_locks[tag].v);
  uint64_t scanned, n = gcl_rcgen_deduce_unreachable_polled(m, &young, &unreachable, members, tag,
                                                            g == NGEN - 1, &scanned);
  /* locking is read again after every step that polls: the stop that turns the list locks
   * on (a second thread attaching) may have been served inside it (found in review) */
  locking = __atomic_load_n(&gcl_rcgen_locking, __ATOMIC_RELAXED);
  to_own(cm, &young, to, locking);
  gcl_event_phase_end("mark");
  uint64_t freed = 0, collected = 0;
  if (n > 0 && needs_world(&unreachable)) {
    give_back(cm, &unreachable);
    fallback = true;
  } else if (n > 0) {
    gcl_event_phase_start("clear");
    /* Parked anywhere until `old` is ours again: clearing the set may kill objects outside
     * it whose finalizers reach a safepoint (kill_slow), while `unreachable` and `old` are
     * private lists that gc.collect's escape_all would miss (found in review). */
    __atomic_add_fetch(&cm->local_parked, 1, __ATOMIC_SEQ_CST);
    uint64_t freed0 = m->stats.objects_freed;
    gcl_rcgen_delete_garbage(m, &unreachable, &old, tag);
    freed = m->stats.objects_freed - freed0;
    collected = n;
    locking = __atomic_load_n(&gcl_rcgen_locking, __ATOMIC_RELAXED); /* finalizers may poll */
    to_own(cm, &old, to, locking);
    __atomic_sub_fetch(&cm->local_parked, 1, __ATOMIC_SEQ_CST);
    gcl_event_phase_end("clear");
  }
  if (g == NGEN - 2) cm->ll_pending += scanned - n;
  if (g == NGEN - 1) cm->ll_pending = 0, cm->ll_total = scanned - n;
  __atomic_store_n(&cm->local_collecting, false, __ATOMIC_RELAXED);
  gcl_heap_bytes_flush(m);
  if (freed) gcl_garbage_freed(freed);
  bump(&cm->local.collections[g], 1);
  bump(&cm->local.scanned[g], scanned);
  bump(&cm->local.collected, collected);
  bump(&cm->local.freed, freed);
  bump(&cm->local.fallbacks, fallback);
  bump(&cm->local.ns[g], gcl_now_ns() - t0);
  return fallback;
}

/* CPython's gc_collect_generations over the thread's local heap: the oldest generation
 * over its threshold, the full one gated by the 25% long-lived rule. -1: none. */
static int choose_local(const struct gcl_collector_mutator *cm, int64_t own) {
  for (int i = NGEN - 1; i >= 0; i--) {
    int64_t c = i == 0 ? own : cm->lcount[i];
    if (c <= gcl_rcgen.gens[i].threshold) continue;
    if (i == NGEN - 1 && cm->ll_pending < cm->ll_total / 4) continue;
    return i;
  }
  return -1;
}

bool gcl_rcgen_local_slow(struct gcl_collector_mutator *cm) {
  if (!cm->tag || !gcl_rcgen_shared_only()) return false;
  pthread_mutex_lock(&gcl_rcgen.registry_lock);
  int64_t own = __atomic_load_n(&cm->count, __ATOMIC_RELAXED), th = gcl_rcgen.gens[0].threshold;
  bool on = gcl_rcgen.enabled && th > 0 && !__atomic_load_n(&gcl_rcgen.collecting, __ATOMIC_RELAXED);
  int gen = on && own > th ? choose_local(cm, own) : -1;
  /* The shared heap's young count: objects that became shared since its last collection. */
  bool shared = on && gcl_rcgen_shared_young_locked() > th;
  if (gen < 0) gcl_rcgen_set_limit_locked(cm, own);
  pthread_mutex_unlock(&gcl_rcgen.registry_lock);
  struct gcl_mutator *m = mutator_of(cm);
  bool fallback = false; /* the local collection gave garbage back to the shared heap */
  if (gen >= 0) {
    if (collect_local(m, gen)) shared = fallback = true;
    pthread_mutex_lock(&gcl_rcgen.registry_lock);
    gcl_rcgen_set_limit_locked(cm, 0);
    pthread_mutex_unlock(&gcl_rcgen.registry_lock);
  }
  if (shared) {
    gcl_stop_the_world(m);
    /* Decide again, world stopped: another thread may have collected it meanwhile. */
    pthread_mutex_lock(&gcl_rcgen.registry_lock);
    int64_t pending = gcl_rcgen_shared_young_locked();
    pthread_mutex_unlock(&gcl_rcgen.registry_lock);
    int sg = gcl_rcgen_choose_generation(pending);
    if (fallback && sg < 0) sg = 0; /* the given-back garbage is in the shared gen0 */
    if (pending > 0 && sg >= 0 && !__atomic_load_n(&gcl_rcgen.collecting, __ATOMIC_RELAXED))
      gcl_rcgen_collect(m, sg, NULL); /* the shared heap only (gcl_rcgen_shared_only) */
    gcl_start_the_world(m);
  }
  return true;
}
