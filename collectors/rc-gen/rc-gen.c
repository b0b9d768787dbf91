/* SPDX-License-Identifier: MIT */
/* collectors/rc-gen/rc-gen.c — CPython's generational cycle collector (Python/gc.c, 3.12
 * design, 3.13 thresholds) over atomic reference counting. Our own code; the algorithm and
 * its invariants are CPython's, restated where the loops are. This file: the state, the
 * trigger, threads, the collector contract, options and figures; rc-gen-collect.c: one
 * collection (steps 1-8 below); rc-gen-introspect.c: the tests' view; rc-gen-internal.h:
 * what they share.
 *
 * Objects die by RC (core/heap.c). Containers (GCL_TYPE_CONTAINER) are also on one
 * generation list, in the 16-byte prefix (rc-gen-attrs.h). A collection of generation g,
 * with the world stopped (core/world.c; with young=thread a thread collects its own local
 * heap alone, world running: rc-gen-local.c), finds the garbage among the objects of
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
 *     in full collections steps 2 and 3 share one walk: a member is initialised when
 *     first met, as a list element or as a child (known by its tag), so a set larger
 *     than the cache is walked twice, not three times as in CPython; young and gen1 sets
 *     (in the cache) are initialised first, which makes each child's test one bit;
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
#include <sched.h>
#include <string.h>

#include "rc-gen-internal.h"
#include "event.h"
#include "garbage.h"
#include "gil.h"
#include "pause.h"
#include "report.h"

#define LOCK_SPINS 64 /* spins before yielding */

int gcl_rcgen_locking;
int64_t gcl_rcgen_orphan_tracked;
struct gcl_rcgen_lock gcl_rcgen_locks[GCL_RCGEN_NTAGS];
struct gcl_rcgen_global gcl_rcgen = {.registry_lock = PTHREAD_MUTEX_INITIALIZER, .enabled = true};

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

/* --- counts and limits (registry_lock held) ------------------------------------------- */

/* With young=thread and the barrier on, the threads' own counts are their local heaps':
 * the global count is the shared heap's young count (rc-gen-local.c). */
int64_t gcl_rcgen_gen0_total_locked(void) {
  if (gcl_rcgen_shared_only()) return gcl_rcgen_shared_young_locked();
  int64_t t = gcl_rcgen.orphan_count;
  for (struct gcl_collector_mutator *cm = gcl_rcgen.registry; cm; cm = cm->reg_next)
    t += __atomic_load_n(&cm->count, __ATOMIC_RELAXED);
  return t;
}

void gcl_rcgen_set_limit_locked(struct gcl_collector_mutator *cm, int64_t total) {
  int64_t th = gcl_rcgen.gens[0].threshold, lim = INT64_MAX;
  bool local = gcl_rcgen.young_thread && cm->tag && __atomic_load_n(&gcl_rcgen_escapes, __ATOMIC_RELAXED);
  if (local && gcl_rcgen.enabled && th > 0 && !__atomic_load_n(&gcl_rcgen.collecting, __ATOMIC_RELAXED)) {
    lim = th; /* young=thread: the thread's own count against threshold0 (rc-gen-local.c) */
  } else if (gcl_rcgen.enabled && th > 0 && !__atomic_load_n(&gcl_rcgen.collecting, __ATOMIC_RELAXED)) {
    int64_t room = th - total, n = gcl_rcgen.nthreads ? (int64_t)gcl_rcgen.nthreads : 1;
    int64_t share = room > 0 ? (room + n - 1) / n : 1;
    lim = __atomic_load_n(&cm->count, __ATOMIC_RELAXED) + share;
  }
  __atomic_store_n(&cm->limit, lim, __ATOMIC_RELAXED);
}

void gcl_rcgen_reset_limits(void) {
  pthread_mutex_lock(&gcl_rcgen.registry_lock);
  int64_t total = gcl_rcgen_gen0_total_locked();
  for (struct gcl_collector_mutator *cm = gcl_rcgen.registry; cm; cm = cm->reg_next)
    gcl_rcgen_set_limit_locked(cm, total);
  pthread_mutex_unlock(&gcl_rcgen.registry_lock);
}

/* generations[0].count = 0 (world stopped). */
void gcl_rcgen_reset_counts(void) {
  pthread_mutex_lock(&gcl_rcgen.registry_lock);
  /* the shared heap's young count too (escapes, orphans, slot-less threads): gc.freeze
   * zeroes every young count, as CPython's (found in review) */
  gcl_rcgen_shared_young_reset_locked();
  for (struct gcl_collector_mutator *cm = gcl_rcgen.registry; cm; cm = cm->reg_next)
    __atomic_store_n(&cm->count, 0, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&gcl_rcgen.registry_lock);
}
int64_t gcl_rcgen_heap_size(void) {
  pthread_mutex_lock(&gcl_rcgen.registry_lock);
  int64_t n = __atomic_load_n(&gcl_rcgen_orphan_tracked, __ATOMIC_RELAXED);
  for (struct gcl_collector_mutator *cm = gcl_rcgen.registry; cm; cm = cm->reg_next)
    n += __atomic_load_n(&cm->tracked, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&gcl_rcgen.registry_lock);
  return n;
}

/* CPython's gc_collect_generations: the oldest generation over its threshold, the full
 * collection gated by the 25% long-lived rule (3.12, 3.13); under 3.14 every automatic
 * collection is an increment (_Py_RunGC collects "generation 1"). -1: none. */
int gcl_rcgen_choose_generation(int64_t gen0_count) {
  if (gcl_rcgen.policy == GCL_RCGEN_POLICY_314) return 1;
  for (int i = NGEN - 1; i >= 0; i--) {
    int64_t c = i == 0 ? gen0_count : gcl_rcgen.gens[i].count;
    if (c <= gcl_rcgen.gens[i].threshold) continue;
    if (i == NGEN - 1 && gcl_rcgen.long_lived_pending < gcl_rcgen.long_lived_total / 4) continue;
    return i;
  }
  return -1;
}

void gcl_rcgen_alloc_slow(struct gcl_collector_mutator *cm) {
  if (cm->local_collecting) return; /* from code run by our own local collection: none nests */
  if (gcl_rcgen_local_slow(cm)) return; /* young=thread decided (rc-gen-local.c) */
  pthread_mutex_lock(&gcl_rcgen.registry_lock);
  int64_t total = gcl_rcgen_gen0_total_locked();
  bool go = gcl_rcgen.enabled && gcl_rcgen.gens[0].threshold > 0 && total > gcl_rcgen.gens[0].threshold &&
            !__atomic_load_n(&gcl_rcgen.collecting, __ATOMIC_RELAXED);
  if (!go) gcl_rcgen_set_limit_locked(cm, total);
  pthread_mutex_unlock(&gcl_rcgen.registry_lock);
  if (!go) return;

  struct gcl_mutator *m = mutator_of(cm);
  gcl_stop_the_world(m);
  /* Another thread may have collected while we waited: decide again, world stopped. */
  pthread_mutex_lock(&gcl_rcgen.registry_lock);
  total = gcl_rcgen_gen0_total_locked();
  int gen = gcl_rcgen.enabled && gcl_rcgen.gens[0].threshold > 0 && total > gcl_rcgen.gens[0].threshold
                ? gcl_rcgen_choose_generation(total)
                : -1;
  pthread_mutex_unlock(&gcl_rcgen.registry_lock);
  if (gen >= 0)
    gcl_rcgen_collect(m, gen, NULL);
  else
    gcl_rcgen_reset_limits();
  gcl_start_the_world(m);
}

/* --- the module: options and figures (core/module.h) ------------------------------------ */

/* The policy sets the thresholds' defaults (CPython's gc.set_threshold of that version);
 * a threshold given explicitly (>= 0) replaces the policy's. Indices follow the table. */
enum { OPT_POLICY, OPT_THRESHOLD0, OPT_THRESHOLD1, OPT_THRESHOLD2, OPT_YOUNG };
static const struct gcl_opt_decl options[] = {
    [OPT_POLICY] = {"policy", GCL_OPT_ENUM, "3.13", NULL, NULL, "3.12|3.13|3.14",
                    "CPython version whose collection policy is modelled (README: Policies)"},
    [OPT_THRESHOLD0] = {"threshold0", GCL_OPT_INT, "-1", "-1", "1000000000000", NULL,
                        "collect when tracked allocations - deallocations exceed this; 0: never; -1: the policy's"},
    [OPT_THRESHOLD1] = {"threshold1", GCL_OPT_INT, "-1", "-1", "1000000000000", NULL,
                        "collect gen1 after this many gen0 collections (3.14: the scan-rate factor); -1: the policy's"},
    [OPT_THRESHOLD2] = {"threshold2", GCL_OPT_INT, "-1", "-1", "1000000000000", NULL,
                        "full collection after this many gen1 collections (unused by 3.14); -1: the policy's"},
    [OPT_YOUNG] = {"young", GCL_OPT_ENUM, "auto", NULL, NULL, "auto|global|thread",
                   "young collections: global (stop the world, every thread's gen0), thread (each thread its own, "
                   "escape barrier), auto (thread without --gil, global with it)"},
};
/* The policies' thresholds: CPython 3.12's (700, 10, 10), 3.13's (2000, 10, 10), 3.14's
 * young threshold 2000 and old[0].threshold 10 (old[1].threshold 0: unused). */
static const int64_t policy_thresholds[3][NGEN] = {{700, 10, 10}, {2000, 10, 10}, {2000, 10, 0}};
static const struct gcl_fig_decl figures[] = {
    {"gc_collections_gen0", "count", "collections of generation 0 (young)"},
    {"gc_collections_gen1", "count", "collections of generation 1"},
    {"gc_collections_gen2", "count", "full collections"},
    {"gc_objects_scanned", "objects", "objects examined by all collections"},
    {"gc_scanned_gen0", "objects", "objects examined by collections of generation 0"},
    {"gc_scanned_gen1", "objects", "objects examined by collections of generation 1"},
    {"gc_scanned_gen2", "objects", "objects examined by full collections"},
    {"gc_s_gen0", "s", "time in collections of generation 0"},
    {"gc_s_gen1", "s", "time in collections of generation 1"},
    {"gc_s_gen2", "s", "time in full collections"},
    {"gc_objects_collected", "objects", "unreachable objects freed by collections"},
    {"gc_finalizers_run", "count", "PEP 442 finalizers run by collections"},
    {"gc_resurrected", "objects", "objects a finalizer made reachable again"},
    {"threshold0", "objects", "threshold0 in effect (the policy's unless given)"},
    {"threshold1", "count", "threshold1 in effect (3.14: the scan-rate factor)"},
    {"threshold2", "count", "threshold2 in effect"},
    {"gc_increment_objects", "objects", "3.14: objects in all increments, young part included"},
    {"gc_scavenges", "count", "3.14: increments that finished a pass over the old generation"},
    {"local_collections", "count", "young=thread: of gc_collections_gen0, thread-local ones (no stop)"},
    {"escapes", "objects", "young=thread: objects the escape barrier moved to the shared gen0 list"},
    {"local_fallbacks", "count", "young=thread: local collections handed to a stop-the-world one"},
};
GCL_COLLECTOR_DECLARE(options, GCL_COUNT(options), figures, GCL_COUNT(figures));

/* --- collector.h ---------------------------------------------------------------------- */

int gcl_collector_init(const struct gcl_init *init) {
  if (gcl_rcgen.initialised) return 0;
  gcl_rcgen.initialised = true;
  for (int i = 0; i < NGEN; i++) {
    list_init(&gcl_rcgen.gens[i].head);
    gcl_rcgen.gens[i].count = 0;
  }
  gcl_rcgen.gens[1].tag = GCL_RCGEN_TAG_GEN1;
  gcl_rcgen.gens[2].tag = GCL_RCGEN_TAG_GEN2;
  gcl_rcgen.policy = (enum gcl_rcgen_policy)init->opts[OPT_POLICY].e;
  for (int i = 0; i < NGEN; i++) {
    int64_t given = init->opts[OPT_THRESHOLD0 + i].i;
    gcl_rcgen.gens[i].threshold = given >= 0 ? given : policy_thresholds[gcl_rcgen.policy][i];
  }
  gcl_rcgen.visited = 1;
  gcl_garbage_counts_frees(); /* gcl_rcgen_collect reports what each clearing freed */
  gcl_rcgen.work_to_do = -5000; /* CPython 3.14's initial gcstate->work_to_do */
  list_init(&gcl_rcgen.permanent);
  for (unsigned t = 0; t < GCL_RCGEN_NTAGS; t++) {
    gcl_rcgen.gen0_lists[t].tag = t;
    list_init(&gcl_rcgen.gen0_lists[t].head);
    list_init(&gcl_rcgen.local_old[t][0]);
    list_init(&gcl_rcgen.local_old[t][1]);
  }
  /* A run that starts several threads locks from the start (no switch pause). */
  __atomic_store_n(&gcl_rcgen_locking, init->threads > 1 && !gcl_gil_enabled, __ATOMIC_RELAXED);
  int young = init->opts[OPT_YOUNG].e;
  gcl_rcgen.young_thread = gcl_rcgen.policy != GCL_RCGEN_POLICY_314 &&
                           (young == GCL_RCGEN_YOUNG_THREAD || (young == GCL_RCGEN_YOUNG_AUTO && !gcl_gil_enabled));
  if (gcl_rcgen.young_thread && init->threads > 1) gcl_rcgen_escapes_on(); /* barrier from the start */
  return 0;
}

void gcl_collector_thread_attach(struct gcl_mutator *m) {
  struct gcl_collector_mutator *cm = &m->collector;
  pthread_mutex_lock(&gcl_rcgen.registry_lock);
  unsigned slot = GCL_RCGEN_TAG_ORPHAN; /* when slots run out: the orphan list, locked */
  for (unsigned s = 1; s <= GCL_RCGEN_MAX_SLOT; s++) {
    if (!gcl_rcgen.slot_used[s]) {
      gcl_rcgen.slot_used[s] = true;
      slot = s;
      break;
    }
  }
  cm->gen0 = &gcl_rcgen.gen0_lists[slot];
  cm->tag = slot != GCL_RCGEN_TAG_ORPHAN ? slot : 0;
  __atomic_store_n(&cm->local_collecting, false, __ATOMIC_RELAXED);
  __atomic_store_n(&cm->local_parked, 0, __ATOMIC_RELAXED);
  memset(&cm->local, 0, sizeof cm->local);
  memset(cm->lcount, 0, sizeof cm->lcount);
  cm->ll_total = cm->ll_pending = 0;
  __atomic_store_n(&cm->count, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&cm->tracked, 0, __ATOMIC_RELAXED);
  cm->reg_next = gcl_rcgen.registry;
  gcl_rcgen.registry = cm;
  gcl_rcgen.nthreads++;
  gcl_rcgen_set_limit_locked(cm, gcl_rcgen_gen0_total_locked());
  bool need_switch = gcl_rcgen.nthreads >= 2 && !gcl_gil_enabled &&
                     !__atomic_load_n(&gcl_rcgen_locking, __ATOMIC_RELAXED);
  bool need_escapes = gcl_rcgen.nthreads >= 2 && gcl_rcgen.young_thread &&
                      !__atomic_load_n(&gcl_rcgen_escapes, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&gcl_rcgen.registry_lock);
  if (need_switch || need_escapes) {
    /* No list operation spans a safepoint: with the world stopped none is in flight. */
    gcl_stop_the_world(m);
    if (need_switch) __atomic_store_n(&gcl_rcgen_locking, 1, __ATOMIC_RELAXED);
    if (need_escapes && !__atomic_load_n(&gcl_rcgen_escapes, __ATOMIC_RELAXED)) gcl_rcgen_escapes_on();
    gcl_start_the_world(m);
    gcl_rcgen_reset_limits(); /* limits of the local mode */
  }
}

void gcl_collector_thread_detach(struct gcl_mutator *m) {
  struct gcl_collector_mutator *cm = &m->collector;
  struct gcl_rcgen_list *l = cm->gen0;
  gcl_rcgen_local_detach(cm); /* young=thread: its local gen1/gen2 join the shared ones */
  if (l->tag != GCL_RCGEN_TAG_ORPHAN) {
    /* Hand the list to the orphans, retagging under both locks (see the file comment). */
    bool locking = __atomic_load_n(&gcl_rcgen_locking, __ATOMIC_RELAXED);
    if (locking) {
      gcl_rcgen_lock(&gcl_rcgen_locks[l->tag].v);
      gcl_rcgen_lock(&gcl_rcgen_locks[GCL_RCGEN_TAG_ORPHAN].v);
    }
    list_retag(&l->head, GCL_RCGEN_TAG_ORPHAN);
    list_merge(&l->head, &gcl_rcgen.gen0_lists[GCL_RCGEN_TAG_ORPHAN].head);
    if (locking) {
      gcl_rcgen_unlock(&gcl_rcgen_locks[GCL_RCGEN_TAG_ORPHAN].v);
      gcl_rcgen_unlock(&gcl_rcgen_locks[l->tag].v);
    }
  }
  pthread_mutex_lock(&gcl_rcgen.registry_lock);
  for (struct gcl_collector_mutator **p = &gcl_rcgen.registry; *p; p = &(*p)->reg_next) {
    if (*p == cm) {
      *p = cm->reg_next;
      break;
    }
  }
  gcl_rcgen.nthreads--;
  struct gcl_rcgen_local_stats *tot = &gcl_rcgen.local, ls;
  gcl_rcgen_local_read(&cm->local, &ls);
  for (int g = 0; g < NGEN; g++)
    tot->collections[g] += ls.collections[g], tot->scanned[g] += ls.scanned[g], tot->ns[g] += ls.ns[g];
  tot->collected += ls.collected, tot->freed += ls.freed;
  tot->escapes += ls.escapes, tot->fallbacks += ls.fallbacks;
  memset(&cm->local, 0, sizeof cm->local);
  cm->tag = 0;
  gcl_rcgen.orphan_count += __atomic_load_n(&cm->count, __ATOMIC_RELAXED);
  __atomic_fetch_add(&gcl_rcgen_orphan_tracked, __atomic_load_n(&cm->tracked, __ATOMIC_RELAXED),
                     __ATOMIC_RELAXED);
  if (l->tag != GCL_RCGEN_TAG_ORPHAN) gcl_rcgen.slot_used[l->tag] = false;
  pthread_mutex_unlock(&gcl_rcgen.registry_lock);
  cm->gen0 = NULL;
}

void gcl_collector_collect(struct gcl_mutator *m, int generation) {
  /* From a finalizer or callback of the running collection: CPython returns 0 too. */
  if (__atomic_load_n(&gcl_rcgen.collecting, __ATOMIC_RELAXED) || m->collector.local_collecting) return;
  if (generation < 0 || generation >= NGEN) generation = NGEN - 1;
  gcl_rcgen_stop_world_all(m); /* no local collection parked half-way: escape_all takes all */
  if (gcl_rcgen_shared_only()) gcl_rcgen_escape_all(); /* gc.collect() takes every object */
  gcl_rcgen_collect(m, generation, NULL);
  gcl_rcgen_start_world_all(m);
}

void gcl_collector_finish(void) {
  /* Full collections on a temporary thread, the only one attached (so no stop-the-world
   * and no pause is recorded); again while finalizers ran or resurrected something
   * (objects they made may have kept garbage alive conservatively). Without finalizers
   * one full collection frees every unreachable cycle. They happen after the workload's
   * timed run, so the record leaves them out (final_stats). */
  struct gcl_rcgen_stats before = gcl_rcgen.stats;
  struct gcl_mutator *m = gcl_thread_attach();
  for (int i = 0; i < 100; i++) {
    struct pass p;
    if (gcl_rcgen_shared_only()) gcl_rcgen_escape_all(); /* what finalizers made, too */
    gcl_rcgen_collect(m, NGEN - 1, &p);
    if (p.finalizers == 0 && p.resurrected == 0) break;
  }
  gcl_thread_detach(m);
  for (int g = 0; g < NGEN; g++)
    gcl_rcgen.final_stats.collections[g] += gcl_rcgen.stats.collections[g] - before.collections[g];
  gcl_rcgen.final_stats.objects_scanned += gcl_rcgen.stats.objects_scanned - before.objects_scanned;
  gcl_rcgen.final_stats.objects_collected += gcl_rcgen.stats.objects_collected - before.objects_collected;
  gcl_rcgen.final_stats.finalizers_run += gcl_rcgen.stats.finalizers_run - before.finalizers_run;
  gcl_rcgen.final_stats.resurrected += gcl_rcgen.stats.resurrected - before.resurrected;
  gcl_rcgen.final_stats.gc_ns += gcl_rcgen.stats.gc_ns - before.gc_ns;
  for (int g = 0; g < NGEN; g++) {
    gcl_rcgen.final_stats.scanned_gen[g] += gcl_rcgen.stats.scanned_gen[g] - before.scanned_gen[g];
    gcl_rcgen.final_stats.gc_ns_gen[g] += gcl_rcgen.stats.gc_ns_gen[g] - before.gc_ns_gen[g];
  }
}

uint64_t gcl_collector_freeze(struct gcl_mutator *m, bool freeze) {
  if (__atomic_load_n(&gcl_rcgen.collecting, __ATOMIC_RELAXED) || m->collector.local_collecting) return 0;
  uint64_t n = 0;
  gcl_rcgen_stop_world_all(m);
  if (gcl_rcgen_shared_only()) gcl_rcgen_escape_all(); /* local heaps join the shared one */
  if (freeze) {
    for (unsigned t = 1; t < GCL_RCGEN_NTAGS; t++) {
      n += list_retag(&gcl_rcgen.gen0_lists[t].head, GCL_RCGEN_TAG_PERMANENT);
      list_merge(&gcl_rcgen.gen0_lists[t].head, &gcl_rcgen.permanent);
    }
    for (int i = 1; i < NGEN; i++) {
      n += list_retag(&gcl_rcgen.gens[i].head, GCL_RCGEN_TAG_PERMANENT);
      list_merge(&gcl_rcgen.gens[i].head, &gcl_rcgen.permanent);
    }
    gcl_rcgen_reset_counts();
    gcl_rcgen_reset_limits();
  } else {
    /* Into the oldest generation; under 3.14 into the visited space, as CPython's. */
    int to = gcl_rcgen.policy == GCL_RCGEN_POLICY_314 ? gcl_rcgen.visited : NGEN - 1;
    n = list_retag(&gcl_rcgen.permanent, gcl_rcgen.gens[to].tag);
    list_merge(&gcl_rcgen.permanent, &gcl_rcgen.gens[to].head);
  }
  gcl_rcgen_start_world_all(m);
  return n;
}

bool gcl_collector_set_auto(struct gcl_mutator *m, bool on) {
  (void)m;
  pthread_mutex_lock(&gcl_rcgen.registry_lock);
  bool was = gcl_rcgen.enabled;
  gcl_rcgen.enabled = on;
  int64_t total = gcl_rcgen_gen0_total_locked();
  for (struct gcl_collector_mutator *cm = gcl_rcgen.registry; cm; cm = cm->reg_next)
    gcl_rcgen_set_limit_locked(cm, total);
  pthread_mutex_unlock(&gcl_rcgen.registry_lock);
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
  struct gcl_rcgen_stats s, f = gcl_rcgen.final_stats;
  gcl_rcgen_get_stats(&s); /* stop-the-world and local collections */
  uint64_t c[NGEN];
  for (int g = 0; g < NGEN; g++) c[g] = s.collections[g] - f.collections[g];
  gcl_report_u64(r, "collections", c[0] + c[1] + c[2]);
  gcl_report_f64(r, "gc_s", (double)(s.gc_ns - f.gc_ns) * 1e-9);
  gcl_report_figure_u64(r, "gc_collections_gen0", c[0]);
  gcl_report_figure_u64(r, "gc_collections_gen1", c[1]);
  gcl_report_figure_u64(r, "gc_collections_gen2", c[2]);
  gcl_report_figure_u64(r, "gc_objects_scanned", s.objects_scanned - f.objects_scanned);
  static const char *const scanned_names[NGEN] = {"gc_scanned_gen0", "gc_scanned_gen1", "gc_scanned_gen2"};
  static const char *const s_names[NGEN] = {"gc_s_gen0", "gc_s_gen1", "gc_s_gen2"};
  for (int g = 0; g < NGEN; g++) {
    gcl_report_figure_u64(r, scanned_names[g], s.scanned_gen[g] - f.scanned_gen[g]);
    gcl_report_figure(r, s_names[g], (double)(s.gc_ns_gen[g] - f.gc_ns_gen[g]) * 1e-9);
  }
  gcl_report_figure_u64(r, "gc_objects_collected", s.objects_collected - f.objects_collected);
  gcl_report_figure_u64(r, "gc_finalizers_run", s.finalizers_run - f.finalizers_run);
  gcl_report_figure_u64(r, "gc_resurrected", s.resurrected - f.resurrected);
  gcl_report_figure_u64(r, "threshold0", (uint64_t)gcl_rcgen.gens[0].threshold);
  gcl_report_figure_u64(r, "threshold1", (uint64_t)gcl_rcgen.gens[1].threshold);
  gcl_report_figure_u64(r, "threshold2", (uint64_t)gcl_rcgen.gens[2].threshold);
  if (gcl_rcgen.young_thread) { /* only where young collections may be local */
    gcl_report_figure_u64(r, "local_collections", s.local_collections);
    gcl_report_figure_u64(r, "escapes", s.escapes);
    gcl_report_figure_u64(r, "local_fallbacks", s.local_fallbacks);
  }
  if (gcl_rcgen.policy == GCL_RCGEN_POLICY_314) { /* the exit collections are full ones */
    gcl_report_figure_u64(r, "gc_increment_objects", gcl_rcgen.increment_objects);
    gcl_report_figure_u64(r, "gc_scavenges", gcl_rcgen.scavenges);
  }
}
