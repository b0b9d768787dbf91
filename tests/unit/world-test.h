/* SPDX-License-Identifier: MIT */
/* tests/unit/world-test.h — what the tests of core/world.c's per-thread protocols share
 * (test-handshake.c, test-world-parallel.c): sequentially consistent int load/store, the
 * flag `done` that ends the helper threads, and `churner`, a thread that attaches and
 * detaches 200 times (a few safepoints, every third time a 50 µs blocking region) while a
 * handshake or a parallel phase runs, counting itself in `churners_done` when it ends.
 * Header-only (static), included by one test file each. No macros. */
#ifndef GCL_TEST_WORLD_TEST_H
#define GCL_TEST_WORLD_TEST_H

#include <pthread.h>
#include <unistd.h>

#include "mutator.h"

static int load(int *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static void store(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }

static int done;          /* set: helper threads end (atomic) */
static int churners_done; /* churner threads that have ended (atomic) */

static void *churner(void *arg) {
  (void)arg;
  for (int i = 0; i < 200 && !load(&done); i++) {
    struct gcl_mutator *m = gcl_thread_attach();
    for (int k = 0; k < i % 7; k++) gcl_safepoint(m);
    if (i % 3 == 0) {
      gcl_blocking_enter(m);
      usleep(50);
      gcl_blocking_leave(m);
    }
    gcl_thread_detach(m);
  }
  __atomic_fetch_add(&churners_done, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

#endif
