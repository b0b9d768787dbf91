/* SPDX-License-Identifier: MIT */
/* tests/unit/test-world-parallel.c — gcl_world_parallel (core/world-parallel.c): a
 * function run for every registered thread while the world is stopped, by the stopped
 * threads themselves in parallel with the requester, or on a parked thread's behalf; also
 * run under TSan and ASan. Each test bounds its own time.
 *
 * What each checks, at 1..8 threads: every thread registered at the call gets exactly one
 * call per phase (the requester included, on itself), the parts k are 0..n-1 each once
 * with one n, every call runs while the world is stopped and its thread is SUSPENDED
 * (the requester excepted); threads stopped at a safepoint do run their own parts (not
 * all stolen by the requester); a blocked thread's part is run for it while it cannot
 * attach; two phases in one stop; threads that attach and exit meanwhile neither hang a
 * phase nor get a call after they left (ASan would see the use after free). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "mutator.h"
#include "world-test.h"

#define MAX_THREADS 8
#define ROUNDS 30

static void setup(void) { cr_assert_eq(gcl_heap_init(), 0); }


/* One slot per thread of a test (the requester last). */
struct who {
  struct gcl_mutator *m; /* set by the thread once attached (atomic) */
  pthread_t self;        /* the thread */
  int calls;             /* calls for it, all phases (atomic) */
  int on_self;           /* of those, run by the thread itself (atomic) */
  int bad_state;         /* of those, run while it was not SUSPENDED (atomic; not the requester) */
};
static struct who who[MAX_THREADS + 1];
static int nwho;         /* slots in use */
static int parts_seen;   /* bit k: part k was called in the current phase (atomic) */
static int n_seen;       /* the n of the current phase's calls; -1 if two differed (atomic) */
static int not_stopped;  /* calls made while gcl_stop_requested was 0 (atomic) */
static struct gcl_mutator *requester;

static void count_fn(struct gcl_mutator *t, unsigned k, unsigned n, void *ctx) {
  (void)ctx;
  if (!__atomic_load_n(&gcl_stop_requested, __ATOMIC_SEQ_CST)) __atomic_fetch_add(&not_stopped, 1, __ATOMIC_SEQ_CST);
  __atomic_fetch_or(&parts_seen, 1 << k, __ATOMIC_SEQ_CST);
  int expect = 0;
  if (!__atomic_compare_exchange_n(&n_seen, &expect, (int)n, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) &&
      expect != (int)n)
    store(&n_seen, -1);
  for (int i = 0; i < nwho; i++) {
    if (__atomic_load_n(&who[i].m, __ATOMIC_SEQ_CST) != t) continue;
    __atomic_fetch_add(&who[i].calls, 1, __ATOMIC_SEQ_CST);
    if (pthread_equal(pthread_self(), who[i].self)) __atomic_fetch_add(&who[i].on_self, 1, __ATOMIC_SEQ_CST);
    if (t != requester && __atomic_load_n(&t->state, __ATOMIC_SEQ_CST) != GCL_THREAD_SUSPENDED)
      __atomic_fetch_add(&who[i].bad_state, 1, __ATOMIC_SEQ_CST);
  }
  /* The requester's own part takes a while, so stopped threads wake and take theirs. */
  if (t == requester) usleep(2000);
}

static void *spinner(void *arg) {
  struct who *w = arg;
  struct gcl_mutator *m = gcl_thread_attach();
  __atomic_store_n(&w->m, m, __ATOMIC_SEQ_CST);
  while (!load(&done)) gcl_safepoint(m);
  gcl_thread_detach(m);
  return NULL;
}

/* One phase (or two) in one stop; checks the parts of each. */
static void phases(int nthreads, int per_stop) {
  gcl_stop_the_world(requester);
  for (int p = 0; p < per_stop; p++) {
    store(&parts_seen, 0);
    store(&n_seen, 0);
    gcl_world_parallel(requester, count_fn, NULL);
    cr_assert_eq(load(&n_seen), nthreads + 1, "n %d for %d threads", load(&n_seen), nthreads + 1);
    cr_assert_eq(load(&parts_seen), (1 << (nthreads + 1)) - 1, "parts %#x", load(&parts_seen));
  }
  gcl_start_the_world(requester);
}

static void run_with(int nthreads, int per_stop) {
  pthread_t t[MAX_THREADS];
  nwho = nthreads + 1;
  store(&done, 0);
  for (int i = 0; i < nwho; i++) who[i] = (struct who){0};
  for (int i = 0; i < nthreads; i++) {
    pthread_create(&t[i], NULL, spinner, &who[i]);
    who[i].self = t[i];
  }
  for (int i = 0; i < nthreads; i++)
    while (!__atomic_load_n(&who[i].m, __ATOMIC_SEQ_CST)) usleep(100);
  requester = gcl_thread_attach();
  who[nthreads].self = pthread_self();
  __atomic_store_n(&who[nthreads].m, requester, __ATOMIC_SEQ_CST);
  for (int r = 1; r <= ROUNDS; r++) {
    phases(nthreads, per_stop);
    for (int i = 0; i < nwho; i++)
      cr_assert_eq(load(&who[i].calls), r * per_stop, "thread %d of %d: %d calls after %d stops", i, nthreads,
                   load(&who[i].calls), r);
  }
  store(&done, 1);
  gcl_blocking_enter(requester);
  for (int i = 0; i < nthreads; i++) pthread_join(t[i], NULL);
  gcl_blocking_leave(requester);
  cr_assert_eq(load(&who[nthreads].on_self), ROUNDS * per_stop, "the requester's own part ran elsewhere");
  int self_total = 0;
  for (int i = 0; i < nthreads; i++) {
    self_total += load(&who[i].on_self);
    cr_assert_eq(load(&who[i].bad_state), 0, "thread %d: a part ran while it was not suspended", i);
  }
  if (nthreads > 0) cr_assert_gt(self_total, 0, "no stopped thread ever ran its own part");
  cr_assert_eq(load(&not_stopped), 0);
  gcl_thread_detach(requester);
  requester = NULL;
}

Test(world_parallel, every_thread_once_at_1_to_8_threads, .init = setup, .timeout = 240) {
  for (int n = 0; n <= MAX_THREADS - 1; n++) run_with(n, 1);
}

Test(world_parallel, two_phases_in_one_stop, .init = setup, .timeout = 120) {
  run_with(1, 2);
  run_with(3, 2);
}

/* --- a blocked thread's part is run for it, and it cannot attach meanwhile ------------- */

static int gate, in_region;

static void *blocked_thread(void *arg) {
  struct who *w = arg;
  struct gcl_mutator *m = gcl_thread_attach();
  __atomic_store_n(&w->m, m, __ATOMIC_SEQ_CST);
  gcl_blocking_enter(m);
  store(&in_region, 1);
  while (!load(&gate)) usleep(200); /* a wait that never reaches a safepoint */
  gcl_blocking_leave(m);
  gcl_thread_detach(m);
  return NULL;
}

Test(world_parallel, blocked_thread_is_served_while_parked, .init = setup, .timeout = 60) {
  pthread_t t;
  nwho = 2;
  pthread_create(&t, NULL, blocked_thread, &who[0]);
  who[0].self = t;
  while (!load(&in_region)) usleep(100);
  requester = gcl_thread_attach();
  who[1].self = pthread_self();
  __atomic_store_n(&who[1].m, requester, __ATOMIC_SEQ_CST);
  for (int r = 1; r <= ROUNDS; r++) phases(1, 1);
  cr_assert_eq(load(&who[0].calls), ROUNDS);
  cr_assert_eq(load(&who[0].on_self), 0, "a blocked thread ran its part itself");
  cr_assert_eq(load(&who[0].bad_state), 0, "a part ran while the blocked thread could attach");
  store(&gate, 1);
  gcl_blocking_enter(requester);
  pthread_join(t, NULL);
  gcl_blocking_leave(requester);
  gcl_thread_detach(requester);
  requester = NULL;
}

/* --- threads attach and exit while phases run ------------------------------------------ */

static int churn_calls;

static void churn_fn(struct gcl_mutator *t, unsigned k, unsigned n, void *ctx) {
  (void)ctx;
  cr_assert(t != NULL && k < n);
  t->stats.objects_allocated += 0; /* touches t: ASan reports a call after its exit */
  __atomic_fetch_add(&churn_calls, 1, __ATOMIC_SEQ_CST);
}

Test(world_parallel, exiting_and_attaching_threads_do_not_hang_it, .init = setup, .timeout = 120) {
  pthread_t t[4];
  store(&done, 0);
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, churner, NULL);
  struct gcl_mutator *m = gcl_thread_attach();
  /* Invariant: every phase so far returned (none waited for a thread that left). */
  for (int r = 0; r < 4 * ROUNDS || load(&churners_done) < 4; r++) {
    gcl_stop_the_world(m);
    gcl_world_parallel(m, churn_fn, NULL);
    gcl_world_parallel(m, churn_fn, NULL);
    gcl_start_the_world(m);
  }
  gcl_blocking_enter(m);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  gcl_blocking_leave(m);
  gcl_thread_detach(m);
  cr_assert_gt(load(&churn_calls), 0);
}
