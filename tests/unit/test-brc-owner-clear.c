/* SPDX-License-Identifier: MIT */
/* tests/unit/test-brc-owner-clear.c — brc's clearing of garbage by its owners (--opt
 * brc.owner_clear, collectors/brc/brc-gc.c clear_garbage and gcl_brc_clear_handed; issue
 * 8), over segment under the verifier; also run under TSan and ASan.
 *
 * What it checks, at 1, 2, 4 and 8 threads, with automatic collections only (the count
 * trigger): every thread makes two-node cycles of its own and two-node cycles whose nodes
 * two threads own (node a by thread i, shared and handed to thread i+1 through a slot,
 * which links its own node b with it: the cross-thread edges the concurrent clearing of
 * two owners' batches meets), and drops them. At the end, once every worker has detached
 * (a detaching thread clears what it was handed) and one explicit collection has run,
 * every object allocated is freed and brc's invariants hold (gcl_brc_check); with two or
 * more threads some garbage was cleared by its owners (counted, not timed), with one none
 * was. A second case checks that gcl_collect (explicit) clears everything on
 * the calling thread, the other threads still attached: the garbage is freed when it
 * returns. brc.owner_clear is off by default: the cases set it (and one checks that off
 * hands nothing back). No macros beyond the sizes below. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stddef.h>

#include "collector.h"
#include "module.h"
#include "mutator.h"
#include "stats.h"

struct cell {
  struct gcl_object header; /* common header */
  struct gcl_object *next;  /* reference */
};

static const struct gcl_type cell_type = {
    .name = "cell", .size = sizeof(struct cell), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct cell, next), .nrefs = 1};

/* Rounds per thread (each makes about four garbage containers): smaller under the
 * sanitizers (CI's test-time budget), still several automatic collections per run. */
#if defined(__SANITIZE_THREAD__)
#define ROUNDS 3000
#elif defined(__SANITIZE_ADDRESS__)
#define ROUNDS 6000
#else
#define ROUNDS 20000
#endif
#define MAX_THREADS 8

static struct gcl_object *slot[MAX_THREADS]; /* atomic: a shared node handed to thread i+1 */
static int nthreads;                         /* workers in this run */
static int parked, done;                     /* atomic: workers waiting; stop (second case) */

#define NEXT(o) (&((struct cell *)(o))->next)

/* A two-node cycle of m's, dropped. */
static void own_cycle(struct gcl_mutator *m) {
  struct gcl_object *x = gcl_new(m, &cell_type), *y = gcl_new(m, &cell_type);
  gcl_store(m, x, NEXT(x), y);
  gcl_store(m, y, NEXT(y), x);
  gcl_release(m, y);
  gcl_release(m, x);
}

/* Hand a shared node to the next thread; link the one the previous thread handed us (if
 * any) with a node of ours into a two-owner cycle, and drop it. */
static void cross_cycle(struct gcl_mutator *m, int i) {
  struct gcl_object *a = gcl_new(m, &cell_type);
  gcl_share(m, a);
  struct gcl_object *old = __atomic_exchange_n(&slot[i], a, __ATOMIC_ACQ_REL); /* our ref goes in */
  if (old) gcl_release(m, old); /* not taken: its reference comes back to us */
  struct gcl_object *take = __atomic_exchange_n(&slot[(i + nthreads - 1) % nthreads], NULL, __ATOMIC_ACQ_REL);
  if (!take) return;
  struct gcl_object *b = gcl_new(m, &cell_type);
  gcl_store(m, b, NEXT(b), take);
  gcl_store(m, take, NEXT(take), b); /* take is shared: another thread's node */
  gcl_release(m, b);
  gcl_release(m, take);
}

static void *worker(void *arg) {
  int i = (int)(intptr_t)arg;
  struct gcl_mutator *m = gcl_thread_attach();
  /* Invariant: every node this thread made in earlier rounds is garbage, in a slot, or
   * freed; none is held by a local. */
  for (int r = 0; r < ROUNDS; r++) {
    own_cycle(m);
    cross_cycle(m, i);
    gcl_safepoint(m); /* automatic collections, and clearing what they handed us */
  }
  struct gcl_object *left = __atomic_exchange_n(&slot[i], NULL, __ATOMIC_ACQ_REL);
  if (left) gcl_release(m, left);
  gcl_thread_detach(m); /* clears whatever a collection handed us last */
  return NULL;
}

static uint64_t live_objects(void) {
  struct gcl_heap_stats s;
  gcl_stats_snapshot(&s);
  return s.objects_allocated - s.objects_freed;
}

/* brc's options in declaration order (brc.c): trigger, drain_poll, parallel, owner_clear. */
static void init(bool owner_clear) {
  const struct gcl_module *mod = &gcl_collector_module;
  cr_assert_eq(mod->nopts, 4);
  cr_assert_str_eq(mod->opts[3].name, "owner_clear");
  union gcl_opt_value v[4];
  v[0].e = 0;    /* trigger=count */
  v[1].b = true; /* drain_poll */
  v[2].b = true; /* parallel */
  v[3].b = owner_clear;
  struct gcl_heap_config c = {.threads = 1, .collector_opts = v};
  cr_assert_eq(gcl_heap_init_with(&c), 0);
}

static void run(int threads, bool owner_clear) {
  init(owner_clear);
  nthreads = threads;
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_brc_stats s0, s1;
  gcl_brc_get_stats(&s0);
  pthread_t t[MAX_THREADS];
  gcl_blocking_enter(m); /* the workers' collections must not wait for us */
  for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
  for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
  gcl_blocking_leave(m);
  gcl_brc_get_stats(&s1);
  uint64_t autos = s1.collections - s0.collections;
  uint64_t collected = s1.collected - s0.collected, by_owners = s1.cleared_by_owners - s0.cleared_by_owners;
  /* About 4 garbage containers per round and thread. A collection runs once 2000 more
   * were counted, but not while one is running (a request then gives up), so the number
   * of collections depends on timing: only that there were some is checked here;
   * test-brc-trigger.c checks the count itself. */
  cr_assert_gt(autos, 0, "%d threads: no automatic collection", threads);
  cr_assert_gt(collected, 0);
  if (threads == 1 || !owner_clear) cr_assert_eq(by_owners, 0, "one thread or owner_clear=false: nothing handed back");
  else cr_assert_gt(by_owners, 0, "%d threads: no garbage was cleared by its owner", threads);
  cr_assert_leq(by_owners, collected);
  gcl_collect(m, -1);
  cr_assert_eq(gcl_brc_check(m), 0);
  gcl_thread_detach(m);
  cr_assert_eq(live_objects(), 0, "%d threads: %llu objects left", threads, (unsigned long long)live_objects());
}

Test(brc_owner_clear, one_thread, .timeout = 120) { run(1, true); }
Test(brc_owner_clear, two_threads, .timeout = 120) { run(2, true); }
Test(brc_owner_clear, four_threads, .timeout = 120) { run(4, true); }
Test(brc_owner_clear, eight_threads, .timeout = 180) { run(8, true); }
Test(brc_owner_clear, four_threads_off, .timeout = 120) { run(4, false); }

/* Workers each make n garbage cycles, then wait at safepoints; gcl_collect by main must
 * clear all of it itself. */
static void *maker(void *arg) {
  struct gcl_mutator *m = gcl_thread_attach();
  for (int r = 0; r < (int)(intptr_t)arg; r++) own_cycle(m);
  __atomic_add_fetch(&parked, 1, __ATOMIC_SEQ_CST);
  while (!__atomic_load_n(&done, __ATOMIC_SEQ_CST)) gcl_safepoint(m);
  gcl_thread_detach(m);
  return NULL;
}

Test(brc_owner_clear, explicit_collect_clears_all, .timeout = 120) {
  init(true);
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_set_auto_collect(m, false);
  __atomic_store_n(&parked, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&done, 0, __ATOMIC_SEQ_CST);
  enum { WORKERS = 3, CYCLES = 500 };
  pthread_t t[WORKERS];
  for (int i = 0; i < WORKERS; i++) pthread_create(&t[i], NULL, maker, (void *)(intptr_t)CYCLES);
  gcl_blocking_enter(m);
  while (__atomic_load_n(&parked, __ATOMIC_SEQ_CST) < WORKERS) sched_yield();
  gcl_blocking_leave(m);
  struct gcl_brc_stats a, b;
  gcl_brc_get_stats(&a);
  gcl_collect(m, -1);
  gcl_brc_get_stats(&b);
  cr_assert_eq(b.collected - a.collected, (uint64_t)WORKERS * CYCLES * 2);
  cr_assert_eq(b.cleared_by_owners, a.cleared_by_owners, "gcl_collect handed garbage back");
  cr_assert_eq(gcl_brc_check(m), 0);
  __atomic_store_n(&done, 1, __ATOMIC_SEQ_CST);
  gcl_blocking_enter(m);
  for (int i = 0; i < WORKERS; i++) pthread_join(t[i], NULL);
  gcl_blocking_leave(m);
  gcl_thread_detach(m);
  cr_assert_eq(live_objects(), 0);
}
