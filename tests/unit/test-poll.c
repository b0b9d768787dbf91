/* SPDX-License-Identifier: MIT */
/* tests/unit/test-poll.c — gcl_poll (core/mutator.h), the cheap poll of inner loops: a thread
 * that only polls (never reaches gcl_safepoint) is stopped by every stop-the-world and makes
 * no progress while the world is stopped; with one such thread (fewer running threads than
 * CPUs: the requester spins first, core/world.c) and with more threads than this machine's
 * CPUs (the requester sleeps at once). Linked with rc-gen (a collector that stops the world,
 * so gcl_poll is compiled in). Counts, never times; each test bounds its own time. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <unistd.h>

#include "mutator.h"

#define MAX_THREADS 8

static void setup(void) { cr_assert_eq(gcl_heap_init(), 0); }

static int done;
static unsigned long progress[MAX_THREADS];

static void *poller(void *arg) {
  unsigned long *mine = arg;
  struct gcl_mutator *m = gcl_thread_attach();
  /* Invariant: only gcl_poll between two progress steps. */
  while (!__atomic_load_n(&done, __ATOMIC_SEQ_CST)) {
    __atomic_fetch_add(mine, 1, __ATOMIC_SEQ_CST);
    gcl_poll(m);
  }
  gcl_thread_detach(m);
  return NULL;
}

static void stop_pollers(int n, int rounds) {
  pthread_t t[MAX_THREADS];
  __atomic_store_n(&done, 0, __ATOMIC_SEQ_CST);
  for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, poller, &progress[i]);
  struct gcl_mutator *m = gcl_thread_attach();
  for (int round = 0; round < rounds; round++) {
    gcl_stop_the_world(m);
    unsigned long before[MAX_THREADS];
    for (int i = 0; i < n; i++) before[i] = __atomic_load_n(&progress[i], __ATOMIC_SEQ_CST);
    usleep(200);
    for (int i = 0; i < n; i++)
      cr_assert_eq(__atomic_load_n(&progress[i], __ATOMIC_SEQ_CST), before[i],
                   "thread %d ran while the world was stopped (round %d)", i, round);
    gcl_start_the_world(m);
    gcl_blocking_enter(m);
    usleep(100);
    gcl_blocking_leave(m);
  }
  __atomic_store_n(&done, 1, __ATOMIC_SEQ_CST);
  gcl_blocking_enter(m);
  for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
  gcl_blocking_leave(m);
  gcl_thread_detach(m);
  for (int i = 0; i < n; i++) cr_assert_gt(progress[i], 0, "thread %d never ran", i);
}

Test(poll, one_polling_thread_stops, .init = setup, .timeout = 60) { stop_pollers(1, 200); }

Test(poll, more_polling_threads_than_cpus_stop, .init = setup, .timeout = 60) {
  stop_pollers(MAX_THREADS, 100);
}
