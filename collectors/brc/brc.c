/* SPDX-License-Identifier: MIT */
/* collectors/brc/brc.c — biased reference counting: thread registry, merge queues, merges,
 * the collection trigger, counters and the report, the plain (serial) heap walk of
 * gcl_brc_walk and gc.freeze (brc-attrs.h has the fast paths, brc-gc.c the cycle
 * collector).
 *
 * Thread ids are never reused, so "the owner is gone" is permanent. The registry maps an
 * id to its thread (struct gcl_brc_thread) through a two-level table of atomic pointers:
 * chunks are allocated on demand and never freed, an entry is set at attach and cleared at
 * detach. A thread that queues an object looks its owner up and enqueues while online
 * (between two QSBR quiescent states); a detaching thread clears its entry, waits for a
 * grace period — after which no thread can still be enqueueing to it — and drains its queue
 * a last time, so its queue is empty when it has detached. A lookup that finds no entry
 * merges the object itself (the owner is gone). ThreadSanitizer cannot see liburcu's
 * ordering (uninstrumented): the hand-offs through the queue and the grace period are
 * annotated with core/tsan.h.
 *
 * Locks: registry_lock (chunk allocation, the id counter's overflow check, merged counters),
 * gcl_brc.gc_lock (collections, brc-gc.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <urcu/urcu-qsbr.h>

#include "brc-internal.h"
#include "allocator.h"
#include "collector.h"
#include "garbage.h"
#include "report.h"
#include "ptrset.h"
#include "tsan.h"

struct gcl_brc_global gcl_brc = {.gc_lock = PTHREAD_MUTEX_INITIALIZER,
                                 .stats_lock = PTHREAD_MUTEX_INITIALIZER,
                                 .auto_collect = 1};

#define REG_CHUNK_BITS 12
#define REG_CHUNK (1u << REG_CHUNK_BITS)
#define REG_CHUNKS (GCL_BRC_MAX_THREADS / REG_CHUNK)

static struct gcl_brc_thread **registry[REG_CHUNKS]; /* atomic pointers to chunks */
static uint32_t last_tid;                            /* atomic: the last id given out */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gcl_brc_counters counters;             /* detached threads', registry_lock */
static struct gcl_brc_stats final_gc;               /* the collection at exit (not reported) */

static struct gcl_brc_thread *registry_get(uint32_t tid) {
  if (tid == 0 || tid >= GCL_BRC_MAX_THREADS) return NULL;
  struct gcl_brc_thread **chunk = __atomic_load_n(&registry[tid >> REG_CHUNK_BITS], __ATOMIC_ACQUIRE);
  return chunk ? __atomic_load_n(&chunk[tid & (REG_CHUNK - 1)], __ATOMIC_ACQUIRE) : NULL;
}

static void registry_set(uint32_t tid, struct gcl_brc_thread *t) {
  struct gcl_brc_thread ***c = &registry[tid >> REG_CHUNK_BITS];
  if (!__atomic_load_n(c, __ATOMIC_ACQUIRE)) {
    pthread_mutex_lock(&registry_lock);
    if (!*c) {
      struct gcl_brc_thread **chunk = calloc(REG_CHUNK, sizeof *chunk);
      if (!chunk) gcl_alloc_failed(REG_CHUNK * sizeof *chunk);
      __atomic_store_n(c, chunk, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&registry_lock);
  }
  __atomic_store_n(&(*c)[tid & (REG_CHUNK - 1)], t, __ATOMIC_RELEASE);
}

bool gcl_brc_owner_attached(uint32_t tid) { return registry_get(tid) != NULL; }

/* --- merging ------------------------------------------------------------------------------ */

intptr_t gcl_brc_merge(struct gcl_object *o, intptr_t extra) {
  struct gcl_brc_prefix *p = gcl_brc_prefix_of(o);
  uint32_t local = p->ref_local;
  GCL_ASSERT(local != GCL_BRC_LOCAL_IMMORTAL);
  intptr_t shared = gcl_brc_shared(o), count;
  do {
    count = (shared >> GCL_BRC_SHARED_SHIFT) + (intptr_t)(local & GCL_BRC_LOCAL_MASK) + extra;
  } while (!gcl_brc_cas_shared(o, &shared, count * GCL_BRC_SHARED_ONE | GCL_BRC_MERGED));
  p->ref_local = local & GCL_BRC_LOCAL_FROZEN;
  /* Clear the owner last (release): a thread that sees no owner may read ref_local. */
  __atomic_store_n(&p->owner, GCL_BRC_OWNER_NONE, __ATOMIC_RELEASE);
  return count;
}

bool gcl_brc_merge_zero_local(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  struct gcl_brc_prefix *p = gcl_brc_prefix_of(o);
  GCL_BRC_COUNT(cm, merged);
  /* Owner first: once the state says merged, another thread may free o. */
  __atomic_store_n(&p->owner, GCL_BRC_OWNER_NONE, __ATOMIC_RELEASE);
  intptr_t shared = gcl_brc_shared(o), next;
  do {
    next = (shared & ~GCL_BRC_STATE_MASK) | GCL_BRC_MERGED;
  } while (!gcl_brc_cas_shared(o, &shared, next));
  return next == GCL_BRC_MERGED;
}

bool gcl_brc_dec_shared(struct gcl_collector_mutator *cm, struct gcl_object *o, uint32_t owner,
                        bool heap) {
  return gcl_brc_dec_other(cm, o, gcl_brc_prefix_of(o), owner, heap);
}

bool gcl_brc_queue(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  struct gcl_brc_prefix *p = gcl_brc_prefix_of(o);
  uint32_t owner = gcl_brc_owner(p);
  GCL_ASSERT_ALWAYS(owner != GCL_BRC_OWNER_FREED && owner != GCL_BRC_OWNER_DEFERRED);
  if (GCL_UNLIKELY(owner == GCL_BRC_OWNER_NONE)) {
    /* The owner's local count reached zero meanwhile and it merged (CPython's "the owning
     * thread may have concurrently decided to merge"): drop our reference there. */
    intptr_t shared = gcl_brc_shared(o), next;
    do {
      next = shared - GCL_BRC_SHARED_ONE;
    } while (!gcl_brc_cas_shared(o, &shared, next));
    return next == GCL_BRC_MERGED;
  }
  struct gcl_brc_thread *t = registry_get(owner);
  if (!t) {
    /* The owner is gone (its id is never reused): merge here, dropping the reference the
     * queue would have held. Its last writes of ref_local happen-before its registry entry
     * was cleared, which our acquire load saw. */
    GCL_BRC_COUNT(cm, merged);
    return gcl_brc_merge(o, -1) == 0;
  }
  GCL_BRC_COUNT(cm, queued);
  GCL_TSAN_RELEASE(o);
  cds_wfcq_node_init(&p->u.link);
  cds_wfcq_enqueue(&t->head, &t->tail, &p->u.link);
  __atomic_fetch_or(&t->m->safepoint_work, GCL_BRC_WORK_MERGE, __ATOMIC_RELEASE);
  GCL_TSAN_RELEASE(t); /* our last touch of t: its detach waits a grace period for us */
  return false;
}

bool gcl_brc_hand_garbage(uint32_t tid, struct gcl_brc_clear_batch *b) {
  struct gcl_brc_thread *t = registry_get(tid);
  if (!t) return false; /* gone (ids are never reused): the collecting thread clears it */
  b->next = __atomic_load_n(&t->handed, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(&t->handed, &b->next, b, true, __ATOMIC_RELEASE,
                                      __ATOMIC_RELAXED)) {
  }
  __atomic_fetch_or(&t->m->safepoint_work, GCL_BRC_WORK_CLEAR, __ATOMIC_RELEASE);
  GCL_TSAN_RELEASE(t); /* our last touch of t: its detach waits a grace period for us */
  return true;
}

void gcl_brc_drain(struct gcl_brc_thread *t, void (*fn)(struct gcl_object *o, void *ctx), void *ctx) {
  struct cds_wfcq_node *n;
  while ((n = __cds_wfcq_dequeue_blocking(&t->head, &t->tail)) != NULL) {
    struct gcl_brc_prefix *p = caa_container_of(n, struct gcl_brc_prefix, u.link);
    struct gcl_object *o = (struct gcl_object *)((char *)p + GCL_COLLECTOR_PREFIX_SIZE);
    GCL_TSAN_ACQUIRE(o);
    fn(o, ctx);
  }
}

/* The owner merges an object from its queue: the queue's reference goes. */
static void owner_merge(struct gcl_object *o, void *ctx) {
  struct gcl_mutator *m = ctx;
  GCL_BRC_COUNT(&m->collector, merged);
  if (gcl_brc_merge(o, -1) == 0) gcl_dealloc(m, o);
}

/* --- safepoint work and the trigger ------------------------------------------------------- */

static void safepoint_work(struct gcl_mutator *m) {
  /* Clear only our bits: a core bit (GCL_SAFEPOINT_GIL_DROP) is served by core/world.c. */
  int work = __atomic_fetch_and(&m->safepoint_work, GCL_SAFEPOINT_CORE_BITS, __ATOMIC_ACQ_REL);
  if ((work & GCL_BRC_WORK_MERGE) && m->collector.thread) gcl_brc_drain(m->collector.thread, owner_merge, m);
  if (work & GCL_BRC_WORK_CLEAR) gcl_brc_clear_handed(m);
  /* The request may be stale: another thread collected since this one's batch crossed
   * the line (each thread whose batch crosses it sets its own bit; at 2 threads both
   * would collect, the second right after the first). CPython's gc_collect_main asks
   * gc_should_collect again for the same reason. */
  if ((work & GCL_BRC_WORK_COLLECT) && __atomic_load_n(&gcl_brc.auto_collect, __ATOMIC_RELAXED) &&
      gcl_brc_count_rule(__atomic_load_n(&gcl_brc.young_count, __ATOMIC_RELAXED),
                         __atomic_load_n(&gcl_brc.long_lived_total, __ATOMIC_RELAXED)))
    gcl_brc_collect(m, false);
}

int64_t gcl_brc_memory_now(enum gcl_brc_mem_source *source) {
  int64_t c = gcl_allocator_committed_bytes();
  if (c >= 0) {
    *source = GCL_BRC_MEM_COMMITTED;
    return c;
  }
  *source = GCL_BRC_MEM_RSS;
  return gcl_stats_rss_bytes();
}

/* The rules of the trigger (brc-attrs.h). */
bool gcl_brc_count_rule(int64_t count, uint64_t long_lived_total) {
  return count > GCL_BRC_THRESHOLD && (uint64_t)count > long_lived_total / 4;
}

bool gcl_brc_memory_rule(int64_t mem, int64_t last_mem) {
  return mem < 0 || last_mem <= 0 || mem > last_mem + last_mem / 10;
}

/* The memory trigger's extra rule (3.14t): collect only if memory grew by more than 10%
 * since the last collection (or none ran yet, or memory cannot be read); otherwise skip
 * and start counting again from zero, so memory is read again only after another
 * GCL_BRC_THRESHOLD allocations. */
static bool memory_grew(void) {
  enum gcl_brc_mem_source src;
  int64_t mem = gcl_brc_memory_now(&src);
  __atomic_store_n(&gcl_brc.mem_source, (int)src, __ATOMIC_RELAXED);
  if (gcl_brc_memory_rule(mem, __atomic_load_n(&gcl_brc.last_mem, __ATOMIC_RELAXED))) return true;
  __atomic_store_n(&gcl_brc.young_count, 0, __ATOMIC_RELAXED);
  __atomic_fetch_add(&gcl_brc.deferred, 1, __ATOMIC_RELAXED);
  return false;
}

/* CPython's gc_should_collect, with the counts batched (brc-attrs.h). */
void gcl_brc_alloc_batch(struct gcl_collector_mutator *cm) {
  int32_t delta = cm->alloc_count;
  cm->alloc_count = 0;
  /* Frees of a collection's garbage by the thread clearing it: the garbage was counted
   * before that collection's stop, which reset the count, so they are not counted again
   * (brc-gc.c clear_garbage; before issue 8 the count was reset after the clearing, which
   * also lost every other thread's allocations made meanwhile). */
  if (delta < 0 && cm->thread && cm->thread->clearing) return;
  int64_t n = __atomic_add_fetch(&gcl_brc.young_count, delta, __ATOMIC_RELAXED);
  if (delta <= 0 || !gcl_brc_count_rule(n, __atomic_load_n(&gcl_brc.long_lived_total, __ATOMIC_RELAXED)))
    return;
  if (!__atomic_load_n(&gcl_brc.auto_collect, __ATOMIC_RELAXED)) return;
  if (gcl_brc.trigger == GCL_BRC_TRIGGER_MEMORY && !memory_grew()) return;
  __atomic_fetch_or(&gcl_brc_mutator_of(cm)->safepoint_work, GCL_BRC_WORK_COLLECT, __ATOMIC_RELAXED);
}

/* --- the collector contract ------------------------------------------------------------- */

static const struct gcl_fig_decl figures[] = {
    {"gc_objects_scanned", "objects", "tracked objects (with references, or deferred) examined by all collections"},
    {"gc_scanned_by_stopped", "objects",
     "of gc_objects_scanned, those examined by stopped threads other than the collecting one (brc.parallel)"},
    {"gc_objects_marked", "objects", "objects the collections marked alive (from the roots and from outside)"},
    {"gc_marked_by_stopped", "objects",
     "of gc_objects_marked, those marked by stopped threads other than the collecting one (brc.parallel)"},
    {"gc_objects_collected", "objects", "unreachable objects freed by collections"},
    {"gc_cleared_by_owners", "objects",
     "of gc_objects_collected, those cleared by the thread that owned them, at its next safepoint (brc.owner_clear)"},
    {"gc_finalizers_run", "count", "PEP 442 finalizers run by collections"},
    {"gc_resurrected", "objects", "objects a finalizer made reachable again"},
    {"ops_owner", "count", "RC operations on the owner's local count (GCL_BRC_COUNTERS builds)"},
    {"ops_shared", "count", "RC operations on the shared atomic count (GCL_BRC_COUNTERS builds)"},
    {"ops_queued", "count", "objects queued to their owner for a merge (GCL_BRC_COUNTERS builds)"},
    {"ops_merged", "count", "queued objects merged by their owner (GCL_BRC_COUNTERS builds)"},
    {"ops_deferred_skipped", "count",
     "RC operations skipped on deferred objects (GCL_BRC_COUNTERS builds)"},
    {"trigger_skipped", "count", "trigger=memory: collections skipped for too little memory growth"},
    {"trigger_mem_committed", "bool",
     "trigger=memory: 1 if memory was the allocator's committed bytes, 0 if the process's RSS"},
};
enum { OPT_TRIGGER, OPT_DRAIN_POLL, OPT_PARALLEL, OPT_OWNER_CLEAR };
static const struct gcl_opt_decl options[] = {
    [OPT_TRIGGER] = {"trigger", GCL_OPT_ENUM, "count", NULL, NULL, "count|memory",
                     "count: 3.13t's rule; memory: 3.14t's, which also needs 10% memory growth"},
    [OPT_DRAIN_POLL] = {"drain_poll", GCL_OPT_BOOL, "true", NULL, NULL, NULL,
                        "a long free polls for a stop every 256 objects; false: a stop waits "
                        "for the whole free (brc before issue 8, CPython)"},
    [OPT_PARALLEL] = {"parallel", GCL_OPT_BOOL, "true", NULL, NULL, NULL,
                      "stopped threads mark from their own roots and walk part of the heap "
                      "in parallel; false: the collecting thread does it all (brc before "
                      "issue 8, CPython)"},
    [OPT_OWNER_CLEAR] = {"owner_clear", GCL_OPT_BOOL, "false", NULL, NULL, NULL,
                         "an automatic collection hands each thread's garbage back to it, "
                         "cleared at its next safepoint; false (default): the collecting "
                         "thread clears it all"},
};
bool gcl_brc_drain_poll = true; /* --opt brc.drain_poll, set at init (brc-attrs.h) */
GCL_COLLECTOR_DECLARE(options, GCL_COUNT(options), figures, GCL_COUNT(figures));

int gcl_collector_init(const struct gcl_init *init) {
  gcl_brc.trigger = (int)init->opts[OPT_TRIGGER].e;
  gcl_brc_drain_poll = init->opts[OPT_DRAIN_POLL].b;
  gcl_brc.parallel = init->opts[OPT_PARALLEL].b;
  gcl_brc.owner_clear = init->opts[OPT_OWNER_CLEAR].b;
  gcl_safepoint_handler = safepoint_work;
  gcl_garbage_counts_frees(); /* brc-gc.c reports what each clearing freed */
  return 0;
}

void gcl_collector_thread_attach(struct gcl_mutator *m) {
  struct gcl_brc_thread *t = calloc(1, sizeof *t);
  if (!t) gcl_alloc_failed(sizeof *t);
  __cds_wfcq_init(&t->head, &t->tail);
  t->m = m;
  t->tid = __atomic_add_fetch(&last_tid, 1, __ATOMIC_RELAXED);
  if (t->tid >= GCL_BRC_MAX_THREADS) {
    fprintf(stderr, "gclab brc: more than %u threads attached in one process\n", GCL_BRC_MAX_THREADS - 1);
    abort();
  }
  registry_set(t->tid, t);
  m->collector.tid = t->tid;
  m->collector.thread = t;
}

void gcl_collector_thread_detach(struct gcl_mutator *m) {
  struct gcl_collector_mutator *cm = &m->collector;
  struct gcl_brc_thread *t = cm->thread;
  gcl_brc_drain(t, owner_merge, m);
  /* No owner fast path from here on: once our registry entry is gone another thread may
   * merge one of our objects by itself (it writes ref_local), so every count operation we
   * still make (the second drain's deaths) must go through the shared count, as CPython
   * makes none after a thread leaves its table. GCL_BRC_MAX_THREADS is never handed out.
   * (An object a finalizer allocates during this drain would get that owner id: such
   * objects are treated as ownerless by everyone else, but this thread would still take
   * the fast path on them; finalizers that allocate while their thread exits are not
   * supported.) */
  cm->tid = GCL_BRC_MAX_THREADS;
  /* From here a thread that looks our id up merges by itself; one that found us before
   * may still be enqueueing until it passes a quiescent state. */
  registry_set(t->tid, NULL);
  gcl_blocking_enter(m);
  urcu_qsbr_synchronize_rcu();
  gcl_blocking_leave(m);
  GCL_TSAN_ACQUIRE(t);
  gcl_brc_clear_handed(m); /* no collection can hand us more: the grace period ended them */
  gcl_brc_drain(t, owner_merge, m);
  GCL_ASSERT_ALWAYS(gcl_brc_queue_length(m) == 0);
  GCL_ASSERT_ALWAYS(__atomic_load_n(&t->handed, __ATOMIC_ACQUIRE) == NULL);
  if (cm->alloc_count) gcl_brc_alloc_batch(cm);
  __atomic_fetch_and(&m->safepoint_work, ~(GCL_BRC_WORK_MERGE | GCL_BRC_WORK_COLLECT | GCL_BRC_WORK_CLEAR),
                   __ATOMIC_RELAXED);
#if GCL_BRC_COUNTERS
  pthread_mutex_lock(&registry_lock);
  counters.owner += cm->ops.owner;
  counters.shared += cm->ops.shared;
  counters.queued += cm->ops.queued;
  counters.merged += cm->ops.merged;
  counters.deferred_skipped += cm->ops.deferred_skipped;
  pthread_mutex_unlock(&registry_lock);
#endif
  cm->thread = NULL;
  free(t);
}

void gcl_collector_collect(struct gcl_mutator *m, int generation) {
  (void)generation; /* not generational: every collection is full */
  gcl_brc_collect(m, true);
}

/* The final collection: unreachable cycles left by the workload are freed, with a thread
 * of our own (every mutator has detached). Not counted in the reported figures. */
void gcl_collector_finish(void) {
  struct gcl_brc_stats before, after;
  gcl_brc_get_stats(&before);
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_brc_collect(m, true);
  gcl_thread_detach(m);
  gcl_brc_get_stats(&after);
  final_gc.collections += after.collections - before.collections;
  final_gc.scanned += after.scanned - before.scanned;
  final_gc.scanned_stopped += after.scanned_stopped - before.scanned_stopped;
  final_gc.marked += after.marked - before.marked;
  final_gc.marked_stopped += after.marked_stopped - before.marked_stopped;
  final_gc.collected += after.collected - before.collected;
  final_gc.cleared_by_owners += after.cleared_by_owners - before.cleared_by_owners;
  final_gc.finalizers_run += after.finalizers_run - before.finalizers_run;
  final_gc.resurrected += after.resurrected - before.resurrected;
  final_gc.gc_ns += after.gc_ns - before.gc_ns;
}

int gcl_collector_check_threads(unsigned threads, char *why, size_t why_len) {
  if (threads >= GCL_BRC_MAX_THREADS) {
    snprintf(why, why_len, "brc thread ids are 24-bit: fewer than %u threads", GCL_BRC_MAX_THREADS);
    return -EINVAL;
  }
  return 0;
}

bool gcl_collector_set_auto(struct gcl_mutator *m, bool on) {
  (void)m;
  return __atomic_exchange_n(&gcl_brc.auto_collect, on ? 1 : 0, __ATOMIC_RELAXED) != 0;
}

void gcl_collector_report(struct gcl_report *r) {
  struct gcl_brc_stats s;
  gcl_brc_get_stats(&s);
  /* The collection at exit runs after wall_s stopped: left out, as gc_s must be for
   * mutator_s = wall_s - gc_s (its pauses are in the pause figures, recorded by core). */
  gcl_report_u64(r, "collections", s.collections - final_gc.collections);
  gcl_report_f64(r, "gc_s", (double)(s.gc_ns - final_gc.gc_ns) * 1e-9);
  gcl_report_figure_u64(r, "gc_objects_scanned", s.scanned - final_gc.scanned);
  gcl_report_figure_u64(r, "gc_scanned_by_stopped", s.scanned_stopped - final_gc.scanned_stopped);
  gcl_report_figure_u64(r, "gc_objects_marked", s.marked - final_gc.marked);
  gcl_report_figure_u64(r, "gc_marked_by_stopped", s.marked_stopped - final_gc.marked_stopped);
  gcl_report_figure_u64(r, "gc_objects_collected", s.collected - final_gc.collected);
  gcl_report_figure_u64(r, "gc_cleared_by_owners", s.cleared_by_owners - final_gc.cleared_by_owners);
  gcl_report_figure_u64(r, "gc_finalizers_run", s.finalizers_run - final_gc.finalizers_run);
  gcl_report_figure_u64(r, "gc_resurrected", s.resurrected - final_gc.resurrected);
  if (gcl_brc.trigger == GCL_BRC_TRIGGER_MEMORY) {
    gcl_report_figure_u64(r, "trigger_skipped", __atomic_load_n(&gcl_brc.deferred, __ATOMIC_RELAXED));
    int src = __atomic_load_n(&gcl_brc.mem_source, __ATOMIC_RELAXED);
    if (src != GCL_BRC_MEM_NONE) gcl_report_figure_u64(r, "trigger_mem_committed", src == GCL_BRC_MEM_COMMITTED);
  }
#if GCL_BRC_COUNTERS
  struct gcl_brc_counters c;
  gcl_brc_get_counters(&c);
  gcl_report_figure_u64(r, "ops_owner", c.owner);
  gcl_report_figure_u64(r, "ops_shared", c.shared);
  gcl_report_figure_u64(r, "ops_queued", c.queued);
  gcl_report_figure_u64(r, "ops_merged", c.merged);
  gcl_report_figure_u64(r, "ops_deferred_skipped", c.deferred_skipped);
#endif
}

/* --- introspection ------------------------------------------------------------------------ */

void gcl_brc_trigger_state(uint64_t *skipped, int64_t *last_mem) {
  *skipped = __atomic_load_n(&gcl_brc.deferred, __ATOMIC_RELAXED);
  *last_mem = __atomic_load_n(&gcl_brc.last_mem, __ATOMIC_RELAXED);
}

void gcl_brc_get_stats(struct gcl_brc_stats *out) {
  pthread_mutex_lock(&gcl_brc.stats_lock);
  *out = gcl_brc.stats;
  pthread_mutex_unlock(&gcl_brc.stats_lock);
  out->young_count = __atomic_load_n(&gcl_brc.young_count, __ATOMIC_RELAXED);
  out->long_lived_total = __atomic_load_n(&gcl_brc.long_lived_total, __ATOMIC_RELAXED);
}

void gcl_brc_get_counters(struct gcl_brc_counters *out) {
  pthread_mutex_lock(&registry_lock);
  *out = counters;
  pthread_mutex_unlock(&registry_lock);
}

size_t gcl_brc_queue_length(struct gcl_mutator *m) {
  struct gcl_brc_thread *t = m->collector.thread;
  size_t n = 0;
  if (!t) return 0;
  for (struct cds_wfcq_node *q = __cds_wfcq_first_blocking(&t->head, &t->tail); q;
       q = __cds_wfcq_next_blocking(&t->head, &t->tail, q))
    n++;
  return n;
}

struct check_state {
  struct gcl_ptrset queued; /* objects found on queues */
  uint64_t failures;        /* broken invariants */
};

static void check_fail(struct check_state *cs, const char *what, struct gcl_object *o) {
  if (cs->failures++ == 0)
    fprintf(stderr, "gclab brc check: %s (object %p, shared %#llx, owner %u, local %#x)\n", what,
            (void *)o, (unsigned long long)gcl_brc_shared(o), gcl_brc_prefix_of(o)->owner,
            gcl_brc_prefix_of(o)->ref_local);
}

static void check_queue(struct gcl_mutator *m, void *ctx) {
  struct check_state *cs = ctx;
  struct gcl_brc_thread *t = m->collector.thread;
  if (!t) return;
  for (struct cds_wfcq_node *q = __cds_wfcq_first_blocking(&t->head, &t->tail); q;
       q = __cds_wfcq_next_blocking(&t->head, &t->tail, q)) {
    struct gcl_brc_prefix *p = caa_container_of(q, struct gcl_brc_prefix, u.link);
    struct gcl_object *o = (struct gcl_object *)((char *)p + GCL_COLLECTOR_PREFIX_SIZE);
    intptr_t state = gcl_brc_shared(o) & GCL_BRC_STATE_MASK;
    if (!gcl_ptrset_add(&cs->queued, o)) check_fail(cs, "an object is on two queues", o);
    if (state != GCL_BRC_QUEUED && state != GCL_BRC_MERGED)
      check_fail(cs, "a queued object is neither queued nor merged", o);
    if (p->owner != t->tid && p->owner != GCL_BRC_OWNER_NONE)
      check_fail(cs, "an object is queued to a thread that does not own it", o);
    if (gcl_brc_true_count(o) - 1 < 0) check_fail(cs, "a queued object's true count is negative", o);
  }
}

static void check_object(struct gcl_object *o, void *ctx) {
  struct check_state *cs = ctx;
  struct gcl_brc_prefix *p = gcl_brc_prefix_of(o);
  intptr_t shared = gcl_brc_shared(o), state = shared & GCL_BRC_STATE_MASK;
  if (shared < 0 && state != GCL_BRC_QUEUED) check_fail(cs, "negative shared count not queued", o);
  if (state == GCL_BRC_QUEUED && !gcl_ptrset_contains(&cs->queued, o))
    check_fail(cs, "an object in state queued is on no queue", o);
  if (gcl_brc_is_immortal(p, p->owner) || p->owner == GCL_BRC_OWNER_DEFERRED) return;
  if (state != GCL_BRC_QUEUED && gcl_brc_true_count(o) < 0) check_fail(cs, "negative true count", o);
}

uint64_t gcl_brc_check(struct gcl_mutator *m) {
  struct check_state cs = {.failures = 0};
  gcl_ptrset_init(&cs.queued);
  gcl_stop_the_world(m);
  gcl_for_each_mutator(check_queue, &cs);
  gcl_brc_walk(check_object, &cs);
  gcl_start_the_world(m);
  gcl_ptrset_destroy(&cs.queued);
  return cs.failures;
}

/* --- the heap walk ------------------------------------------------------------------------ */

struct walk {
  void (*fn)(struct gcl_object *o, void *ctx); /* per live object */
  void *ctx;                                   /* its argument */
};

static void walk_block(void *mem, size_t bytes, void *ctx) {
  (void)bytes;
  struct walk *w = ctx;
  struct gcl_object *o = (struct gcl_object *)((char *)mem + GCL_COLLECTOR_PREFIX_SIZE);
  if (__atomic_load_n(&gcl_brc_prefix_of(o)->owner, __ATOMIC_RELAXED) == GCL_BRC_OWNER_FREED) return;
  w->fn(o, w->ctx);
}

void gcl_brc_walk(void (*fn)(struct gcl_object *o, void *ctx), void *ctx) {
  struct walk w = {fn, ctx};
  gcl_allocator_walk(walk_block, &w);
}

/* --- gc.freeze / gc.unfreeze --------------------------------------------------------------- */

struct freeze_state {
  bool freeze;    /* set or clear the bit */
  uint64_t moved; /* containers whose bit changed */
};

static void freeze_object(struct gcl_object *o, void *ctx) {
  struct freeze_state *fs = ctx;
  struct gcl_brc_prefix *p = gcl_brc_prefix_of(o);
  if (gcl_brc_is_immortal(p, p->owner)) return;
  bool frozen = p->ref_local & GCL_BRC_LOCAL_FROZEN;
  if (frozen == fs->freeze) return;
  p->ref_local ^= GCL_BRC_LOCAL_FROZEN;
  if (gcl_type_of(o)->flags & GCL_TYPE_CONTAINER) fs->moved++;
}

uint64_t gcl_collector_freeze(struct gcl_mutator *m, bool freeze) {
  struct freeze_state fs = {freeze, 0};
  gcl_blocking_enter(m);
  pthread_mutex_lock(&gcl_brc.gc_lock);
  gcl_blocking_leave(m);
  gcl_stop_the_world(m);
  gcl_brc_walk(freeze_object, &fs);
  gcl_start_the_world(m);
  pthread_mutex_unlock(&gcl_brc.gc_lock);
  return fs.moved;
}
