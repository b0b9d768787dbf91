/* SPDX-License-Identifier: MIT */
/* tests/unit/test-brc-parallel.c — brc's parallel stopped collection (--opt brc.parallel,
 * collectors/brc/brc-gc.c) over the segment allocator's parallel walk, under the
 * verifier; also run under TSan and ASan.
 *
 * What it checks, at 2, 4 and 8 threads: threads stopped at a safepoint mark from their
 * own frames and walk their part of the heap on their own CPU (the counted figures
 * gc_marked_by_stopped and gc_scanned_by_stopped grow; counted, not timed); every live
 * container is marked exactly once per collection although every thread's frame also
 * names one shared list (cross-thread edges: the markers meet on it, and the CAS lets one
 * of them mark each object); nothing live is collected and brc's invariants hold
 * (gcl_brc_check) after every collection. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stddef.h>

#include "collector.h"
#include "mutator.h"

struct cell {
  struct gcl_object header; /* common header */
  struct gcl_object *next;  /* reference */
};

static const struct gcl_type cell_type = {
    .name = "cell", .size = sizeof(struct cell), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct cell, next), .nrefs = 1};

/* Sizes: smaller under the sanitizers (CI's test-time budget; TSan runs this ~10x
 * slower), still thousands of cells per thread so the stopped threads wake in time. */
#if defined(__SANITIZE_THREAD__)
#define OWN 3000     /* cells of each thread's private list */
#define SHARED 600   /* cells of the list every thread's frame names */
#define COLLECTIONS 8 /* explicit collections per run */
#elif defined(__SANITIZE_ADDRESS__)
#define OWN 8000
#define SHARED 2000
#define COLLECTIONS 15
#else
#define OWN 20000
#define SHARED 5000
#define COLLECTIONS 30
#endif

static struct gcl_object *shared_head; /* main's list, named by every thread's frame */
static int ready, done;               /* workers that built their list; stop (atomic) */

static int load(int *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }

/* A list of n cells, owned by m; returns its head (one reference of ours). */
static struct gcl_object *make_list(struct gcl_mutator *m, int n) {
  struct gcl_object *head = NULL;
  GCL_FRAME(m, f, &head);
  for (int i = 0; i < n; i++) {
    struct gcl_object *c = gcl_new(m, &cell_type);
    gcl_store_move(m, c, &((struct cell *)c)->next, head);
    head = c;
    gcl_safepoint(m);
  }
  GCL_FRAME_POP(m, f);
  return head;
}

static void *worker(void *arg) {
  (void)arg;
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *mine = make_list(m, OWN);
  struct gcl_object *theirs = __atomic_load_n(&shared_head, __ATOMIC_ACQUIRE); /* borrowed */
  GCL_FRAME(m, f, &mine, &theirs);
  __atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
  while (!load(&done)) gcl_safepoint(m);
  theirs = NULL;
  GCL_FRAME_POP(m, f);
  gcl_frame_release(m, &mine);
  gcl_thread_detach(m);
  return NULL;
}

static void run(int threads) {
  cr_assert_eq(gcl_heap_init(), 0);
  __atomic_store_n(&ready, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&done, 0, __ATOMIC_SEQ_CST);
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *shared = make_list(m, SHARED);
  for (struct gcl_object *c = shared; c; c = ((struct cell *)c)->next) gcl_share(m, c);
  struct gcl_object *own = make_list(m, OWN);
  GCL_FRAME(m, f, &shared, &own);
  __atomic_store_n(&shared_head, shared, __ATOMIC_RELEASE);
  pthread_t t[8];
  for (int i = 0; i < threads - 1; i++) pthread_create(&t[i], NULL, worker, NULL);
  gcl_blocking_enter(m);
  while (load(&ready) < threads - 1) sched_yield();
  gcl_blocking_leave(m);
  struct gcl_brc_stats s0, s1;
  gcl_brc_get_stats(&s0);
  uint64_t live = (uint64_t)threads * OWN + SHARED;
  /* Invariant: every collection so far marked each live cell exactly once and freed none. */
  for (int k = 0; k < COLLECTIONS; k++) {
    struct gcl_brc_stats a, b;
    gcl_brc_get_stats(&a);
    gcl_collect(m, -1);
    gcl_brc_get_stats(&b);
    cr_assert_eq(b.marked - a.marked, live, "collection %d marked %llu of %llu live cells", k,
                 (unsigned long long)(b.marked - a.marked), (unsigned long long)live);
    cr_assert_eq(b.scanned - a.scanned, live);
    cr_assert_eq(b.collected - a.collected, 0, "a live cell was collected");
    cr_assert_eq(gcl_brc_check(m), 0);
  }
  gcl_brc_get_stats(&s1);
  cr_assert_gt(s1.marked_stopped - s0.marked_stopped, 0, "no stopped thread marked from its own roots");
  cr_assert_gt(s1.scanned_stopped - s0.scanned_stopped, 0, "no stopped thread walked a part of the heap");
  cr_assert_lt(s1.scanned_stopped - s0.scanned_stopped, (uint64_t)COLLECTIONS * live);
  __atomic_store_n(&done, 1, __ATOMIC_SEQ_CST);
  gcl_blocking_enter(m);
  for (int i = 0; i < threads - 1; i++) pthread_join(t[i], NULL);
  gcl_blocking_leave(m);
  GCL_FRAME_POP(m, f);
  gcl_release(m, own);
  gcl_release(m, shared);
  gcl_thread_detach(m);
}

Test(brc_parallel, two_threads, .timeout = 120) { run(2); }
Test(brc_parallel, four_threads, .timeout = 120) { run(4); }
Test(brc_parallel, eight_threads, .timeout = 180) { run(8); }
