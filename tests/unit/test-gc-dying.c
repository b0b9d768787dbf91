/* SPDX-License-Identifier: MIT */
/* tests/unit/test-gc-dying.c — objects waiting on a thread's dealloc worklist survive a
 * collection run by another thread.
 *
 * A finalizer run by gcl_dealloc may block (gcl_blocking_enter around a lock) while other
 * zero-count objects of the same death wait on its thread's worklist. Another thread then
 * collects: those objects must not be taken for garbage (they still hold their references
 * and their own thread kills them later), or they would be freed twice. Compiled against a
 * GCL_VERIFY=1 pair library of each cycle-collecting collector, so a double free is a
 * verifier error; under ASan it is a use-after-free as well. Found by review (brc freed
 * them; rc-gen already gave a zero count one external reference). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stddef.h>

#include "mutator.h"
#include "verify.h"

struct cell {
  struct gcl_object header; /* common header */
  struct gcl_object *a, *b; /* references */
};

static int phase; /* 1: the finalizer is blocked, 2: the other thread has collected */
static pthread_mutex_t phase_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t phase_cond = PTHREAD_COND_INITIALIZER;

static void set_phase(int p) {
  pthread_mutex_lock(&phase_lock);
  phase = p;
  pthread_cond_broadcast(&phase_cond);
  pthread_mutex_unlock(&phase_lock);
}

static void wait_phase(int p) {
  pthread_mutex_lock(&phase_lock);
  while (phase < p) pthread_cond_wait(&phase_cond, &phase_lock);
  pthread_mutex_unlock(&phase_lock);
}

static void blocking_finalizer(struct gcl_mutator *m, struct gcl_object *o) {
  (void)o;
  gcl_blocking_enter(m); /* as a finalizer that takes a lock must */
  set_phase(1);
  wait_phase(2);
  gcl_blocking_leave(m);
}

static const struct gcl_type cell_type = {
    .name = "cell", .size = sizeof(struct cell), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct cell, a), .nrefs = 2};
static const struct gcl_type finalized_type = {
    .name = "finalized-cell", .size = sizeof(struct cell), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct cell, a), .nrefs = 2, .finalize = blocking_finalizer};

static void *collecting_thread(void *arg) {
  (void)arg;
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_blocking_enter(m);
  wait_phase(1);
  gcl_blocking_leave(m);
  gcl_collect(m, -1);
  set_phase(2);
  gcl_thread_detach(m);
  return NULL;
}

Test(gc, worklist_objects_survive_a_collection_during_a_finalizer, .timeout = 60) {
  cr_assert_eq(gcl_heap_init(), 0);
  pthread_t other;
  pthread_create(&other, NULL, collecting_thread, NULL);
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *parent = gcl_new(m, &cell_type);
  struct cell *pc = (struct cell *)parent;
  gcl_store_move(m, parent, &pc->a, gcl_new(m, &cell_type));      /* waits on the worklist */
  gcl_store_move(m, parent, &pc->b, gcl_new(m, &finalized_type)); /* killed first, blocks */
  gcl_release(m, parent);
  gcl_blocking_enter(m);
  pthread_join(other, NULL);
  gcl_blocking_leave(m);
  gcl_thread_detach(m);
  gcl_heap_finish();
  cr_assert_eq(gcl_verify_errors(), 0, "%s", gcl_verify_first_error());
  cr_assert_eq(gcl_verify_live(), 0);
}
