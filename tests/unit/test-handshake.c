/* SPDX-License-Identifier: MIT */
/* tests/unit/test-handshake.c — core's ragged handshake (gcl_handshake, core/world.c) with
 * attached, detached (blocked), exiting and attaching threads, and from a requester that
 * is no mutator; also run under TSan and ASan. Each test bounds its own time.
 *
 * What each checks: every thread registered when the handshake starts gets its callback
 * exactly once (the requester included); an attached thread runs it itself; a blocked
 * thread gets it on its behalf while it cannot attach (its state is SUSPENDED during the
 * callback); threads that attach and detach meanwhile neither hang the handshake nor get
 * a callback after they left (ASan would see the use after free); a parked thread's
 * callback is logged as its own pause, a collector-owned requester's as nobody's. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event.h"
#include "mutator.h"
#include "world-test.h"
#include "pause.h"

#define THREADS 4
#define ROUNDS 40

static void setup(void) { cr_assert_eq(gcl_heap_init(), 0); }


/* One slot per thread of a test: its mutator and how often its callback ran. */
struct who {
  struct gcl_mutator *m; /* set by the thread once attached */
  pthread_t self;        /* the thread */
  int calls;             /* callbacks run for it (atomic) */
  int on_self;           /* of those, run by the thread itself (atomic) */
  int while_suspended;   /* of those, run while its state was SUSPENDED (atomic) */
};
static struct who who[THREADS + 1];

static void count_cb(struct gcl_mutator *t, void *ctx) {
  (void)ctx;
  for (int i = 0; i <= THREADS; i++) {
    if (__atomic_load_n(&who[i].m, __ATOMIC_SEQ_CST) != t) continue;
    __atomic_fetch_add(&who[i].calls, 1, __ATOMIC_SEQ_CST);
    if (pthread_equal(pthread_self(), who[i].self)) __atomic_fetch_add(&who[i].on_self, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&t->state, __ATOMIC_SEQ_CST) == GCL_THREAD_SUSPENDED)
      __atomic_fetch_add(&who[i].while_suspended, 1, __ATOMIC_SEQ_CST);
  }
}

static void *spinner(void *arg) {
  struct who *w = arg;
  w->self = pthread_self();
  struct gcl_mutator *m = gcl_thread_attach();
  __atomic_store_n(&w->m, m, __ATOMIC_SEQ_CST);
  while (!load(&done)) gcl_safepoint(m);
  gcl_thread_detach(m);
  return NULL;
}

static void wait_attached(int n) {
  for (int i = 0; i < n; i++)
    while (!__atomic_load_n(&who[i].m, __ATOMIC_SEQ_CST)) usleep(100);
}

Test(handshake, attached_threads_run_their_own_callback_once, .init = setup, .timeout = 60) {
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, spinner, &who[i]);
  wait_attached(THREADS);
  struct gcl_mutator *m = gcl_thread_attach();
  who[THREADS].self = pthread_self();
  __atomic_store_n(&who[THREADS].m, m, __ATOMIC_SEQ_CST);
  for (int r = 1; r <= ROUNDS; r++) {
    gcl_handshake(m, count_cb, NULL);
    for (int i = 0; i <= THREADS; i++)
      cr_assert_eq(load(&who[i].calls), r, "thread %d: %d callbacks after %d handshakes", i, load(&who[i].calls), r);
  }
  store(&done, 1);
  gcl_blocking_enter(m);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  gcl_blocking_leave(m);
  /* Spinners are attached nearly all the time; the requester runs its own. */
  cr_assert_eq(load(&who[THREADS].on_self), ROUNDS);
  int self_total = 0;
  for (int i = 0; i < THREADS; i++) self_total += load(&who[i].on_self);
  cr_assert_gt(self_total, 0, "no attached thread ever ran its own callback");
  gcl_thread_detach(m);
}

/* --- a blocked thread is served on its behalf, and cannot attach meanwhile -------------- */

static int gate, in_region;

static void *blocked_thread(void *arg) {
  struct who *w = arg;
  w->self = pthread_self();
  struct gcl_mutator *m = gcl_thread_attach();
  __atomic_store_n(&w->m, m, __ATOMIC_SEQ_CST);
  gcl_blocking_enter(m);
  store(&in_region, 1);
  while (!load(&gate)) usleep(200); /* a wait that never reaches a safepoint */
  gcl_blocking_leave(m);
  gcl_thread_detach(m);
  return NULL;
}

Test(handshake, blocked_thread_is_served_while_parked, .init = setup, .timeout = 60) {
  pthread_t t;
  pthread_create(&t, NULL, blocked_thread, &who[0]);
  while (!load(&in_region)) usleep(100);
  struct gcl_mutator *m = gcl_thread_attach();
  for (int r = 1; r <= ROUNDS; r++) gcl_handshake(m, count_cb, NULL);
  cr_assert_eq(load(&who[0].calls), ROUNDS);
  cr_assert_eq(load(&who[0].on_self), 0, "a blocked thread ran a callback itself");
  cr_assert_eq(load(&who[0].while_suspended), ROUNDS, "a callback ran while the blocked thread could attach");
  store(&gate, 1);
  gcl_blocking_enter(m);
  pthread_join(t, NULL);
  gcl_blocking_leave(m);
  gcl_thread_detach(m);
}

/* A callback run on a parked thread's behalf is that thread's pause (logged under its
 * thread id, so the per-thread MMU charges it and not the requester); a collector-owned
 * requester's own callback is nobody's pause (it is no mutator). */
static unsigned callbacks_of(uint32_t thread) {
  uint32_t n;
  uint64_t dropped;
  const struct gcl_pause_event *e = gcl_pause_log(&n, &dropped);
  unsigned k = 0;
  for (uint32_t i = 0; i < n; i++) k += e[i].thread == thread && strcmp(e[i].kind, "handshake-callback") == 0;
  return k;
}

Test(handshake, a_parked_threads_callback_is_its_pause, .init = setup, .timeout = 60) {
  gcl_pause_reset();
  gcl_pause_log_enable(256, true);
  pthread_t t;
  pthread_create(&t, NULL, blocked_thread, &who[0]);
  while (!load(&in_region)) usleep(100);
  uint32_t parked = __atomic_load_n(&who[0].m, __ATOMIC_SEQ_CST)->event_thread;
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_handshake(m, count_cb, NULL); /* a mutator requester: its own callback is its pause */
  cr_assert_eq(callbacks_of(parked), 1, "the parked thread's callback is not logged as its pause");
  cr_assert_eq(callbacks_of(gcl_event_thread_id()), 1, "the requester's own callback is not its pause");
  gcl_thread_detach(m);
  struct gcl_mutator *c = gcl_thread_attach_collector(0);
  gcl_handshake(c, count_cb, NULL); /* a collector-owned requester */
  cr_assert_eq(callbacks_of(parked), 2);
  cr_assert_eq(callbacks_of(gcl_event_thread_id()), 1, "a collector thread's callback was logged as a pause");
  gcl_thread_detach(c);
  store(&gate, 1);
  pthread_join(t, NULL);
}

/* --- threads attach and exit while handshakes run; a requester that is no mutator -------- */

static int churn_calls;

static void churn_cb(struct gcl_mutator *t, void *ctx) {
  (void)ctx;
  cr_assert(t != NULL);
  t->stats.objects_allocated += 0; /* touches t: ASan reports a callback after its exit */
  __atomic_fetch_add(&churn_calls, 1, __ATOMIC_SEQ_CST);
}

Test(handshake, exiting_and_attaching_threads_do_not_hang_it, .init = setup, .timeout = 120) {
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, churner, NULL);
  /* As long as the churners run (at least 4 x ROUNDS handshakes), from no mutator. */
  for (int r = 0; r < 4 * ROUNDS || load(&churners_done) < THREADS; r++) gcl_handshake(NULL, churn_cb, NULL);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  cr_assert_gt(load(&churn_calls), 0);
}
