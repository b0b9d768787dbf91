/* SPDX-License-Identifier: MIT */
/* collectors/rc-trial/rc-trial.c — the cold paths of rc-trial (atomic RC plus synchronous
 * trial deletion, Bacon & Rajan 2001): threads and their buffers, the buffer-size trigger,
 * collections, the module's options and figures. The collection itself is in
 * rc-trial-collect.c; the hot paths and the candidate protocol in rc-trial-attrs.h.
 *
 * Threads. Each attached thread fills its own chunks without any lock; the registry of
 * attached threads (their counts, limits and chunk lists) is under registry_lock, never
 * held across a safepoint. A detaching thread hands its chunks to the orphan list (their
 * memory does not move: entries stay valid). A collection stops the world (core/world.c),
 * then takes every thread's chunks and the orphans' and runs on them; with the world
 * stopped no other thread buffers, frees or reads a count.
 *
 * Trigger (the `buffer` option, N). Collect when the candidates buffered since the last
 * collection, summed over threads, reach N. As rc-gen does for its gen0 count, each thread
 * counts its own and enters the slow path when its count reaches its limit, chosen so that
 * with one thread the slow path runs exactly at N and with n threads each checks the sum
 * after about (N - sum)/n of its own; the check runs at the thread's next allocation
 * (rc-trial-attrs.h says why not in the release hook).
 *
 * Statistics are written only by the collecting thread with the world stopped (or by the
 * only thread at exit). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "gil.h"
#include "pause.h"
#include "rc-trial-internal.h"
#include "report.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gcl_collector_mutator *registry;  /* attached threads */
static unsigned nthreads;                       /* how many */
static struct gcl_rctrial_chunk *orphans;       /* chunks of threads that detached */
static uint64_t orphan_buffered;                /* their candidates since the last collection */
static uint64_t buffer_limit;                   /* the `buffer` option; 0: never automatically */
static bool enabled = true;                     /* gc.enable()/gc.disable() */
static bool initialised;                        /* gcl_collector_init ran */
static int collecting;                          /* atomic: a collection runs */
static struct gcl_rctrial_stats stats;          /* every collection */
static struct gcl_rctrial_stats final_stats;    /* of those, the ones at exit */
static uint64_t run_max_traversed;              /* max_traversed before the exit collections */
static bool finished;                           /* gcl_collector_finish ran */

static struct gcl_mutator *mutator_of(struct gcl_collector_mutator *cm) {
  return (struct gcl_mutator *)((char *)cm - offsetof(struct gcl_mutator, collector));
}

struct gcl_rctrial_chunk *gcl_rctrial_chunk_new(struct gcl_collector_mutator *cm) {
  struct gcl_rctrial_chunk *c = malloc(sizeof *c);
  if (!c) gcl_alloc_failed(sizeof *c);
  c->n = 0;
  c->next = cm->chunk;
  cm->chunk = c;
  return c;
}

/* --- counts and limits (registry_lock held) ------------------------------------------ */

static uint64_t buffered_locked(void) {
  uint64_t t = orphan_buffered;
  for (struct gcl_collector_mutator *cm = registry; cm; cm = cm->reg_next)
    t += __atomic_load_n(&cm->buffered, __ATOMIC_RELAXED);
  return t;
}

static void set_limit_locked(struct gcl_collector_mutator *cm, uint64_t total) {
  uint64_t lim = UINT64_MAX;
  if (enabled && buffer_limit > 0 && !__atomic_load_n(&collecting, __ATOMIC_RELAXED)) {
    uint64_t n = nthreads ? nthreads : 1;
    uint64_t share = total < buffer_limit ? (buffer_limit - total + n - 1) / n : 0;
    lim = __atomic_load_n(&cm->buffered, __ATOMIC_RELAXED) + share;
  }
  __atomic_store_n(&cm->limit, lim, __ATOMIC_RELAXED);
}

static void reset_limits(void) {
  pthread_mutex_lock(&registry_lock);
  uint64_t total = buffered_locked();
  for (struct gcl_collector_mutator *cm = registry; cm; cm = cm->reg_next)
    set_limit_locked(cm, total);
  pthread_mutex_unlock(&registry_lock);
}

/* Take every buffer (world stopped): returns the chunks, resets the counts. */
static struct gcl_rctrial_chunk *drain_buffers(void) {
  pthread_mutex_lock(&registry_lock);
  struct gcl_rctrial_chunk *all = orphans;
  orphans = NULL;
  orphan_buffered = 0;
  for (struct gcl_collector_mutator *cm = registry; cm; cm = cm->reg_next) {
    /* Loop invariant: `all` holds every chunk of the threads before cm, and the orphans. */
    struct gcl_rctrial_chunk *c = cm->chunk;
    if (c) {
      struct gcl_rctrial_chunk *tail = c;
      while (tail->next) tail = tail->next;
      tail->next = all;
      all = c;
    }
    cm->chunk = NULL;
    __atomic_store_n(&cm->buffered, 0, __ATOMIC_RELAXED);
  }
  pthread_mutex_unlock(&registry_lock);
  return all;
}

/* --- collections ---------------------------------------------------------------------- */

/* One collection on m, world stopped (or m alone). */
static void collect(struct gcl_mutator *m, struct gcl_rctrial_pass *out) {
  uint64_t t0 = gcl_now_ns();
  __atomic_store_n(&collecting, 1, __ATOMIC_RELAXED);
  struct gcl_rctrial_pass p;
  gcl_rctrial_collect(m, drain_buffers(), &p);
  __atomic_store_n(&collecting, 0, __ATOMIC_RELAXED);
  reset_limits();
  stats.collections++;
  stats.candidates_buffered += p.drained;
  stats.roots_scanned += p.roots;
  stats.objects_traversed += p.traversed;
  stats.objects_freed += p.freed;
  stats.finalizers_run += p.finalizers;
  stats.resurrected += p.resurrected;
  if (p.traversed > stats.max_traversed) stats.max_traversed = p.traversed;
  stats.gc_ns += gcl_now_ns() - t0;
  if (out) *out = p;
}

static bool due_locked(void) {
  return enabled && buffer_limit > 0 && buffered_locked() >= buffer_limit &&
         !__atomic_load_n(&collecting, __ATOMIC_RELAXED);
}

void gcl_rctrial_alloc_slow(struct gcl_collector_mutator *cm) {
  pthread_mutex_lock(&registry_lock);
  bool go = due_locked();
  if (!go) set_limit_locked(cm, buffered_locked());
  pthread_mutex_unlock(&registry_lock);
  if (!go) return;
  struct gcl_mutator *m = mutator_of(cm);
  gcl_stop_the_world(m);
  /* Another thread may have collected while we waited: decide again, world stopped. */
  pthread_mutex_lock(&registry_lock);
  go = due_locked();
  pthread_mutex_unlock(&registry_lock);
  if (go)
    collect(m, NULL);
  else
    reset_limits();
  gcl_start_the_world(m);
}

/* --- the module: options and figures (core/module.h) ---------------------------------- */

enum { OPT_BUFFER };
static const struct gcl_opt_decl options[] = {
    [OPT_BUFFER] = {"buffer", GCL_OPT_INT, "1000", "0", "1000000000000", NULL,
                    "collect when this many candidates are buffered; 0: never automatically"},
};
static const struct gcl_fig_decl figures[] = {
    {"candidates_buffered", "count", "decrements that buffered a candidate (purple)"},
    {"roots_scanned", "count", "buffered candidates still alive at a collection (MarkGray roots)"},
    {"objects_traversed", "objects", "objects MarkGray coloured gray, over all collections"},
    {"objects_freed", "objects", "garbage objects freed by collections"},
    {"traversed_per_collection", "objects", "mean objects traversed by one collection"},
    {"freed_per_collection", "objects", "mean garbage objects freed by one collection"},
    {"max_traversed", "objects", "the most objects one collection traversed"},
    {"finalizers_run", "count", "PEP 442 finalizers run by collections"},
    {"resurrected", "objects", "garbage objects a finalizer made reachable again"},
};
GCL_COLLECTOR_DECLARE(options, GCL_COUNT(options), figures, GCL_COUNT(figures));

/* --- collector.h ---------------------------------------------------------------------- */

int gcl_collector_init(const struct gcl_init *init) {
  if (initialised) return 0;
  initialised = true;
  buffer_limit = (uint64_t)init->opts[OPT_BUFFER].i;
  return 0;
}

void gcl_collector_thread_attach(struct gcl_mutator *m) {
  struct gcl_collector_mutator *cm = &m->collector;
  cm->chunk = NULL;
  __atomic_store_n(&cm->buffered, 0, __ATOMIC_RELAXED);
  pthread_mutex_lock(&registry_lock);
  cm->reg_next = registry;
  registry = cm;
  nthreads++;
  uint64_t total = buffered_locked();
  for (struct gcl_collector_mutator *t = registry; t; t = t->reg_next) set_limit_locked(t, total);
  pthread_mutex_unlock(&registry_lock);
}

void gcl_collector_thread_detach(struct gcl_mutator *m) {
  struct gcl_collector_mutator *cm = &m->collector;
  pthread_mutex_lock(&registry_lock);
  for (struct gcl_collector_mutator **p = &registry; *p; p = &(*p)->reg_next) {
    if (*p == cm) {
      *p = cm->reg_next;
      break;
    }
  }
  nthreads--;
  if (cm->chunk) {
    struct gcl_rctrial_chunk *tail = cm->chunk;
    while (tail->next) tail = tail->next;
    tail->next = orphans;
    orphans = cm->chunk;
    cm->chunk = NULL;
  }
  orphan_buffered += __atomic_load_n(&cm->buffered, __ATOMIC_RELAXED);
  __atomic_store_n(&cm->buffered, 0, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&registry_lock);
}

void gcl_collector_collect(struct gcl_mutator *m, int generation) {
  (void)generation; /* one kind of collection: every buffered candidate */
  if (__atomic_load_n(&collecting, __ATOMIC_RELAXED)) return; /* from a finalizer */
  gcl_stop_the_world(m);
  collect(m, NULL);
  gcl_start_the_world(m);
}

void gcl_collector_finish(void) {
  /* Collections on a temporary thread, the only one attached (no stop, no pause), until
   * no candidate is left and no finalizer ran (what finalizers and the clearing of
   * garbage released is buffered again). They happen after the workload's timed run, so
   * the record leaves them out (final_stats). */
  struct gcl_rctrial_stats before = stats;
  run_max_traversed = stats.max_traversed;
  struct gcl_mutator *m = gcl_thread_attach();
  for (int i = 0; i < 100; i++) {
    struct gcl_rctrial_pass p;
    collect(m, &p);
    if (p.finalizers == 0 && p.resurrected == 0 && gcl_rctrial_buffered() == 0) break;
  }
  gcl_thread_detach(m);
  final_stats.collections += stats.collections - before.collections;
  final_stats.roots_scanned += stats.roots_scanned - before.roots_scanned;
  final_stats.objects_traversed += stats.objects_traversed - before.objects_traversed;
  final_stats.objects_freed += stats.objects_freed - before.objects_freed;
  final_stats.finalizers_run += stats.finalizers_run - before.finalizers_run;
  final_stats.resurrected += stats.resurrected - before.resurrected;
  final_stats.gc_ns += stats.gc_ns - before.gc_ns;
  finished = true;
}

/* Nothing is tracked in generations: freeze has nothing to move. */
uint64_t gcl_collector_freeze(struct gcl_mutator *m, bool freeze) {
  (void)m, (void)freeze;
  return 0;
}

bool gcl_collector_set_auto(struct gcl_mutator *m, bool on) {
  (void)m;
  pthread_mutex_lock(&registry_lock);
  bool was = enabled;
  enabled = on;
  uint64_t total = buffered_locked();
  for (struct gcl_collector_mutator *cm = registry; cm; cm = cm->reg_next) set_limit_locked(cm, total);
  pthread_mutex_unlock(&registry_lock);
  return was;
}

int gcl_collector_check_threads(unsigned threads, char *why, size_t why_len) {
  (void)threads, (void)why, (void)why_len;
  return 0; /* atomic counts, stop-the-world collections: any number */
}

/* The figures of the workload's run (the exit collections are left out, as gc_s must be
 * for mutator_s = wall_s - gc_s), except candidates_buffered: every candidate buffered in
 * the run, including those only the exit collections drained. Means are left empty when
 * no collection ran (nothing measured). */
void gcl_collector_report(struct gcl_report *r) {
  struct gcl_rctrial_stats s = stats, f = final_stats;
  uint64_t n = s.collections - f.collections;
  gcl_report_u64(r, "collections", n);
  gcl_report_f64(r, "gc_s", (double)(s.gc_ns - f.gc_ns) * 1e-9);
  gcl_report_figure_u64(r, "candidates_buffered", s.candidates_buffered);
  gcl_report_figure_u64(r, "roots_scanned", s.roots_scanned - f.roots_scanned);
  uint64_t trav = s.objects_traversed - f.objects_traversed;
  uint64_t freed = s.objects_freed - f.objects_freed;
  gcl_report_figure_u64(r, "objects_traversed", trav);
  gcl_report_figure_u64(r, "objects_freed", freed);
  if (n > 0) {
    gcl_report_figure(r, "traversed_per_collection", (double)trav / (double)n);
    gcl_report_figure(r, "freed_per_collection", (double)freed / (double)n);
  }
  gcl_report_figure_u64(r, "max_traversed", finished ? run_max_traversed : s.max_traversed);
  gcl_report_figure_u64(r, "finalizers_run", s.finalizers_run - f.finalizers_run);
  gcl_report_figure_u64(r, "resurrected", s.resurrected - f.resurrected);
}

/* --- introspection -------------------------------------------------------------------- */

void gcl_rctrial_get_stats(struct gcl_rctrial_stats *out) { *out = stats; }

void gcl_rctrial_set_buffer_limit(uint64_t n) {
  pthread_mutex_lock(&registry_lock);
  buffer_limit = n;
  uint64_t total = buffered_locked();
  for (struct gcl_collector_mutator *cm = registry; cm; cm = cm->reg_next) set_limit_locked(cm, total);
  pthread_mutex_unlock(&registry_lock);
}

uint64_t gcl_rctrial_buffered(void) {
  pthread_mutex_lock(&registry_lock);
  uint64_t t = buffered_locked();
  pthread_mutex_unlock(&registry_lock);
  return t;
}

bool gcl_rctrial_is_buffered(struct gcl_object *o) {
  return (__atomic_load_n(gcl_rctrial_word(o), __ATOMIC_RELAXED) & ~GCL_RCTRIAL_COLOUR) != 0;
}

/* Checks one chunk list; returns its live candidates or < 0. */
static int64_t check_chunks(struct gcl_rctrial_chunk *c) {
  int64_t n = 0;
  for (; c; c = c->next) {
    if (c->n > GCL_RCTRIAL_CHUNK) return -2; /* overfull */
    for (unsigned i = 0; i < c->n; i++) {
      struct gcl_object *o = __atomic_load_n(&c->slot[i], __ATOMIC_RELAXED);
      if (!o) continue;
      uintptr_t w = __atomic_load_n(gcl_rctrial_word(o), __ATOMIC_RELAXED);
      if (w & GCL_RCTRIAL_COLOUR) return -3;                     /* a colour left */
      if (w != (uintptr_t)&c->slot[i]) return -4;               /* entry not pointing back */
      if (!(gcl_type_of(o)->flags & GCL_TYPE_CONTAINER)) return -5; /* a green candidate */
      n++;
    }
  }
  return n;
}

int64_t gcl_rctrial_check(void) {
  if (__atomic_load_n(&collecting, __ATOMIC_RELAXED)) return -1;
  pthread_mutex_lock(&registry_lock);
  int64_t total = check_chunks(orphans), n = 0;
  for (struct gcl_collector_mutator *cm = registry; cm && total >= 0; cm = cm->reg_next) {
    n = check_chunks(cm->chunk);
    total = n < 0 ? n : total + n;
  }
  pthread_mutex_unlock(&registry_lock);
  return total;
}
