/* SPDX-License-Identifier: MIT */
/* allocators/mimalloc/mimalloc.c — cold paths of the mimalloc adapter (mimalloc-attrs.h):
 * per-thread heaps, the registry of attached threads, the orphan table of detached
 * threads' live blocks, the world-stopped heap walk and the figures.
 *
 * Locks (all cold): registry_lock guards the list of attached threads' heaps;
 * gcl_mimalloc_deferred_lock guards the orphan table and orders frees that have no mutator
 * (am == NULL) against the walk. Order: registry_lock, then deferred_lock. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <urcu/compiler.h>
#include <urcu/urcu-qsbr.h>

#include "allocator.h"
#include "ptrset.h"
#include "report.h"

int gcl_mimalloc_slow;
static bool orphans_counted; /* under deferred_lock: the orphan table's 1 is in gcl_mimalloc_slow */
static pthread_mutex_t deferred_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gcl_allocator_mutator *registry; /* attached threads, a doubly linked list */
static struct gcl_ptrset orphans;               /* live blocks of detached threads */
static uint64_t heaps_made, orphans_recorded, orphans_freed, slow_frees; /* figures (locked) */
static mi_arena_id_t arena;                     /* the exclusive arena of every gclab heap */

static const struct gcl_fig_decl figures[] = {
    {"heaps", "count", "mimalloc heaps made (one per attached mutator thread)"},
    {"orphan_blocks", "count", "live blocks recorded at thread detach (walked from the orphan table)"},
    {"orphans_freed", "count", "of those, blocks freed later by another thread"},
    {"slow_frees", "count", "frees that took the locked path (no mutator, a detach in progress, or orphans live)"},
    {"committed_peak_kb", "kb", "mimalloc's peak committed memory (mi_process_info)"},
    {"committed_end_kb", "kb", "committed memory when the report is written"},
};
static const struct gcl_opt_decl options[] = {
    {"arena", GCL_OPT_SIZE, "64g", "256m", "64t", NULL,
     "address space reserved (not committed) for gclab's heaps: an exclusive arena"},
};
GCL_ALLOCATOR_DECLARE(options, GCL_COUNT(options), figures, GCL_COUNT(figures));

int gcl_allocator_init(const struct gcl_init *init) {
  static bool done;
  if (done) return 0;
  int rc = mi_reserve_os_memory_ex((size_t)init->opts[0].u, false, false, true, &arena);
  if (rc != 0) return -rc;
  gcl_ptrset_init(&orphans);
  done = true;
  return 0;
}

void gcl_allocator_thread_attach(struct gcl_allocator_mutator *am) {
  am->heap = mi_heap_new_in_arena(arena);
  if (!am->heap) gcl_alloc_failed(0);
  pthread_mutex_lock(&registry_lock);
  am->prev = NULL;
  am->next = registry;
  if (registry) registry->prev = am;
  registry = am;
  heaps_made++;
  pthread_mutex_unlock(&registry_lock);
}

/* Recording orphans serves only a collector that walks the heap (brc): another collector
 * (rc leaking cycles) would pay a table of every leaked block for nothing. */
#if GCL_COLLECTOR_REQUIRES_HEAP_WALK
#define RECORD_ORPHANS 1
#else
#define RECORD_ORPHANS 0
#endif

static bool record_orphan(const mi_heap_t *heap, const mi_heap_area_t *area, void *block,
                          size_t size, void *arg) {
  (void)heap, (void)area, (void)size, (void)arg;
  if (block && ((uintptr_t *)block)[1] != GCL_MIMALLOC_FREED && gcl_ptrset_add(&orphans, block))
    orphans_recorded++;
  return true;
}

/* The thread's live blocks move to the orphan table before mimalloc abandons its pages at
 * thread exit. The heap is not deleted here: mi_heap_delete hands its pages to the
 * thread's backing heap, whose malloc calls until the thread ends could then put C
 * library blocks into gclab pages; mimalloc deletes it at thread exit instead.
 *
 * Why the table is exact: gcl_mimalloc_slow is raised first, then a QSBR grace period
 * passes (in a blocking region, so a stop-the-world is never held up by the wait). Every
 * fast-path free that read the old value ran between two safepoints of an online thread,
 * so it has finished when the grace period ends, and every later free sees the raise
 * (the quiescent state is a full barrier) and takes deferred_lock, which the recording
 * holds. So no block of this heap is freed while it is recorded, and none recorded is
 * already free. */
void gcl_allocator_thread_detach(struct gcl_allocator_mutator *am) {
  struct gcl_mutator *m = caa_container_of(am, struct gcl_mutator, allocator);
  (void)m; /* used only when recording orphans */
  if (RECORD_ORPHANS) {
    __atomic_add_fetch(&gcl_mimalloc_slow, 1, __ATOMIC_SEQ_CST);
    gcl_blocking_enter(m);
    urcu_qsbr_synchronize_rcu();
    gcl_blocking_leave(m);
  }
  pthread_mutex_lock(&registry_lock);
  if (am->prev) am->prev->next = am->next;
  else registry = am->next;
  if (am->next) am->next->prev = am->prev;
  if (!RECORD_ORPHANS) {
    pthread_mutex_unlock(&registry_lock);
    am->heap = NULL;
    return;
  }
  pthread_mutex_lock(&deferred_lock);
  mi_heap_collect(am->heap, false); /* the owner may process its delayed frees */
  mi_heap_visit_blocks(am->heap, true, record_orphan, NULL);
  if (orphans.count > 0 && !orphans_counted) {
    orphans_counted = true;
    __atomic_add_fetch(&gcl_mimalloc_slow, 1, __ATOMIC_SEQ_CST);
  }
  __atomic_sub_fetch(&gcl_mimalloc_slow, 1, __ATOMIC_SEQ_CST);
  pthread_mutex_unlock(&deferred_lock);
  pthread_mutex_unlock(&registry_lock);
  am->heap = NULL;
}

/* Under deferred_lock: P leaves the orphan table if it is there (freed, or re-adopted by
 * a heap that reclaimed its page). */
static void orphan_forget(void *p, bool freed) {
  if (orphans.count == 0 || !gcl_ptrset_remove(&orphans, p)) return;
  orphans_freed += freed;
  if (orphans.count == 0 && orphans_counted) {
    orphans_counted = false;
    __atomic_sub_fetch(&gcl_mimalloc_slow, 1, __ATOMIC_SEQ_CST);
  }
}

void gcl_mimalloc_free_slow(void *p) {
  pthread_mutex_lock(&deferred_lock);
  slow_frees++;
  orphan_forget(p, true);
  ((uintptr_t *)p)[1] = GCL_MIMALLOC_FREED;
  mi_free(p);
  pthread_mutex_unlock(&deferred_lock);
}

struct walk {
  void (*visit)(void *mem, size_t bytes, void *ctx); /* the caller's visitor */
  void *ctx;                                         /* its argument */
};

static bool visit_block(const mi_heap_t *heap, const mi_heap_area_t *area, void *block,
                        size_t size, void *arg) {
  (void)heap, (void)area;
  struct walk *w = arg;
  if (!block || ((uintptr_t *)block)[1] == GCL_MIMALLOC_FREED) return true;
  /* An orphan in a page a live heap reclaimed: it is walked here, not from the table. */
  orphan_forget(block, false);
  w->visit(block, size, w->ctx);
  return true;
}

/* Capability heap-walk (core/allocator.h), with every mutator stopped: each attached
 * thread's heap through mi_heap_visit_blocks (which also collects that heap's pending
 * frees: safe only because its owner is stopped) minus the blocks marked freed (a
 * delayed free; see mimalloc-attrs.h), then the orphan table. */
void gcl_allocator_walk(void (*visit)(void *mem, size_t bytes, void *ctx), void *ctx) {
  /* Without orphans recorded the walk would miss exited threads' blocks: only pairs whose
   * collector REQUIRES heap-walk may call it. */
  GCL_ASSERT_ALWAYS(RECORD_ORPHANS && "heap walk in a pair whose collector does not require it");
  struct walk w = {visit, ctx};
  pthread_mutex_lock(&registry_lock);
  pthread_mutex_lock(&deferred_lock);
  for (struct gcl_allocator_mutator *am = registry; am; am = am->next)
    mi_heap_visit_blocks(am->heap, true, visit_block, &w);
  void *p;
  for (size_t i = 0; gcl_ptrset_next(&orphans, &i, &p);) visit(p, mi_usable_size(p), ctx);
  pthread_mutex_unlock(&deferred_lock);
  pthread_mutex_unlock(&registry_lock);
}

/* Capability heap-walk-parallel (core/allocator.h), world stopped. begin takes both locks
 * (held by the requester until end, so no heap joins or leaves the registry and no free
 * without a mutator runs meanwhile) and copies the registry; part k visits heaps k, k+n,
 * ... of the copy, part n-1 also the orphan table. Different heaps have different pages,
 * so parts never visit one page twice, and mi_heap_visit_blocks' collection of a page's
 * pending frees touches only that page (its owner is stopped, as in the serial walk). The
 * orphan table is read by one part and written by none: a heap part skips a block that is
 * in the table (an orphan in a page its heap reclaimed), which the table's part visits,
 * instead of re-adopting it as the serial walk does; it stays in the table until freed. */
static struct {
  struct gcl_allocator_mutator **heaps; /* the registry's heaps at begin */
  size_t n;                             /* their number */
} par;

struct par_walk {
  void (*visit)(void *mem, size_t bytes, void *ctx); /* the caller's visitor */
  void *ctx;                                         /* its argument */
  bool orphans;                                      /* the orphan table is not empty */
};

static bool visit_block_part(const mi_heap_t *heap, const mi_heap_area_t *area, void *block,
                             size_t size, void *arg) {
  (void)heap, (void)area;
  struct par_walk *w = arg;
  if (!block || ((uintptr_t *)block)[1] == GCL_MIMALLOC_FREED) return true;
  if (w->orphans && gcl_ptrset_contains(&orphans, block)) return true; /* the table's part */
  w->visit(block, size, w->ctx);
  return true;
}

void gcl_allocator_walk_parallel_begin(void) {
  GCL_ASSERT_ALWAYS(RECORD_ORPHANS && "heap walk in a pair whose collector does not require it");
  pthread_mutex_lock(&registry_lock);
  pthread_mutex_lock(&deferred_lock);
  size_t n = 0;
  for (struct gcl_allocator_mutator *am = registry; am; am = am->next) n++;
  par.heaps = malloc((n + 1) * sizeof *par.heaps);
  if (!par.heaps) gcl_alloc_failed((n + 1) * sizeof *par.heaps);
  par.n = 0;
  for (struct gcl_allocator_mutator *am = registry; am; am = am->next) par.heaps[par.n++] = am;
}

void gcl_allocator_walk_part(unsigned k, unsigned n, void (*visit)(void *mem, size_t bytes, void *ctx), void *ctx) {
  struct par_walk w = {visit, ctx, orphans.count > 0};
  /* Loop invariant: every heap of index < i with index = k (mod n) has been visited. */
  for (size_t i = k; i < par.n; i += n) mi_heap_visit_blocks(par.heaps[i]->heap, true, visit_block_part, &w);
  if (k + 1 != n) return;
  void *p;
  for (size_t i = 0; gcl_ptrset_next(&orphans, &i, &p);) visit(p, mi_usable_size(p), ctx);
}

void gcl_allocator_walk_parallel_end(void) {
  free(par.heaps);
  par.heaps = NULL;
  par.n = 0;
  pthread_mutex_unlock(&deferred_lock);
  pthread_mutex_unlock(&registry_lock);
}

int64_t gcl_allocator_committed_bytes(void) {
  size_t elapsed, user, sys, rss, peak_rss, commit, peak_commit, faults;
  mi_process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
  return (int64_t)commit;
}

void gcl_allocator_report(struct gcl_report *r) {
  size_t elapsed, user, sys, rss, peak_rss, commit, peak_commit, faults;
  mi_process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
  pthread_mutex_lock(&registry_lock);
  pthread_mutex_lock(&deferred_lock);
  gcl_report_figure_u64(r, "heaps", heaps_made);
  gcl_report_figure_u64(r, "orphan_blocks", orphans_recorded);
  gcl_report_figure_u64(r, "orphans_freed", orphans_freed);
  gcl_report_figure_u64(r, "slow_frees", slow_frees);
  pthread_mutex_unlock(&deferred_lock);
  pthread_mutex_unlock(&registry_lock);
  gcl_report_figure_u64(r, "committed_peak_kb", peak_commit / 1024);
  gcl_report_figure_u64(r, "committed_end_kb", commit / 1024);
}
