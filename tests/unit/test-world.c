/* SPDX-License-Identifier: MIT */
/* tests/unit/test-world.c — stop-the-world, blocking regions and QSBR-deferred frees, with
 * several threads (also run under TSan and ASan), and where time to safepoint ends. Each
 * test bounds its own time. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "event.h"
#include "mutator.h"
#include "pause.h"
#include "stats.h"

#define THREADS 4

static void setup(void) { cr_assert_eq(gcl_heap_init(), 0); }

static int load(int *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static void store(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
static unsigned long loadl(unsigned long *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }

/* --- attached threads stop at their next safepoint ------------------------------------ */

static int spin_done;
static unsigned long progress[THREADS];

static void *spinner(void *arg) {
  unsigned long *mine = arg;
  struct gcl_mutator *m = gcl_thread_attach();
  while (!load(&spin_done)) {
    __atomic_fetch_add(mine, 1, __ATOMIC_SEQ_CST);
    gcl_safepoint(m);
  }
  gcl_thread_detach(m);
  return NULL;
}

Test(world, stop_halts_every_attached_thread, .init = setup, .timeout = 60) {
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, spinner, &progress[i]);
  struct gcl_mutator *m = gcl_thread_attach();
  for (int round = 0; round < 30; round++) {
    gcl_stop_the_world(m);
    unsigned long before[THREADS];
    for (int i = 0; i < THREADS; i++) before[i] = loadl(&progress[i]);
    usleep(2000);
    for (int i = 0; i < THREADS; i++)
      cr_assert_eq(loadl(&progress[i]), before[i], "thread %d ran while the world was stopped", i);
    gcl_start_the_world(m);
    gcl_blocking_enter(m);
    usleep(1000);
    gcl_blocking_leave(m);
  }
  store(&spin_done, 1);
  gcl_blocking_enter(m);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  gcl_blocking_leave(m);
  for (int i = 0; i < THREADS; i++) cr_assert_gt(loadl(&progress[i]), 0);
  gcl_thread_detach(m);
}

/* --- threads parked in blocking regions never delay a stop ---------------------------- */

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open, blocked, left_region;

static void *blocker(void *arg) {
  (void)arg;
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_blocking_enter(m);
  pthread_mutex_lock(&gate_lock);
  __atomic_fetch_add(&blocked, 1, __ATOMIC_SEQ_CST);
  while (!gate_open) pthread_cond_wait(&gate_cond, &gate_lock);
  pthread_mutex_unlock(&gate_lock);
  gcl_blocking_leave(m); /* must wait here while the world is stopped */
  __atomic_fetch_add(&left_region, 1, __ATOMIC_SEQ_CST);
  gcl_safepoint(m);
  gcl_thread_detach(m);
  return NULL;
}

Test(world, blocked_threads_are_parked_and_cannot_reattach, .init = setup, .timeout = 60) {
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, blocker, NULL);
  while (load(&blocked) < THREADS) usleep(1000);
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_stop_the_world(m); /* returns although no blocked thread reaches a safepoint */
  pthread_mutex_lock(&gate_lock);
  gate_open = 1;
  pthread_cond_broadcast(&gate_cond);
  pthread_mutex_unlock(&gate_lock);
  usleep(20000);
  cr_assert_eq(load(&left_region), 0, "a parked thread re-attached during the stop");
  gcl_start_the_world(m);
  gcl_blocking_enter(m);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  gcl_blocking_leave(m);
  cr_assert_eq(load(&left_region), THREADS);
  gcl_thread_detach(m);
}

/* --- concurrent requesters are serialised; attach/detach races with stops ------------ */

static int in_stop, requesters_done;

static void *requester(void *arg) {
  (void)arg;
  struct gcl_mutator *m = gcl_thread_attach();
  for (int i = 0; i < 200; i++) {
    gcl_stop_the_world(m);
    int n = __atomic_add_fetch(&in_stop, 1, __ATOMIC_SEQ_CST);
    cr_assert_eq(n, 1, "two stops at once");
    __atomic_sub_fetch(&in_stop, 1, __ATOMIC_SEQ_CST);
    gcl_start_the_world(m);
    gcl_safepoint(m);
  }
  __atomic_fetch_add(&requesters_done, 1, __ATOMIC_SEQ_CST);
  gcl_thread_detach(m);
  return NULL;
}

static void *churner(void *arg) {
  (void)arg;
  while (load(&requesters_done) < 3) {
    struct gcl_mutator *m = gcl_thread_attach();
    for (int i = 0; i < 100; i++) gcl_safepoint(m);
    gcl_blocking_enter(m);
    gcl_blocking_leave(m);
    gcl_thread_detach(m);
  }
  return NULL;
}

Test(world, concurrent_requesters_and_attach_detach, .init = setup, .timeout = 120) {
  pthread_t r[3], c[2];
  for (int i = 0; i < 2; i++) pthread_create(&c[i], NULL, churner, NULL);
  for (int i = 0; i < 3; i++) pthread_create(&r[i], NULL, requester, NULL);
  for (int i = 0; i < 3; i++) pthread_join(r[i], NULL);
  for (int i = 0; i < 2; i++) pthread_join(c[i], NULL);
  cr_assert_eq(load(&requesters_done), 3);
}

/* --- shared objects read optimistically are freed only after a grace period ---------- */

#define BOX_MAGIC 0x5a5a5a5a12345678ull

struct box {
  struct gcl_object header; /* common header */
  uint64_t magic;           /* BOX_MAGIC while alive */
};

struct holder {
  struct gcl_object header; /* common header */
  struct gcl_object *slot;  /* the contended reference */
};

static const struct gcl_type box_type = {.name = "box", .size = sizeof(struct box)};
static const struct gcl_type holder_type = {
    .name = "holder", .size = sizeof(struct holder), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct holder, slot), .nrefs = 1};

static struct gcl_object *the_holder;
static int writer_done, readers_running;
static unsigned long reads;

static struct gcl_object *new_box(struct gcl_mutator *m) {
  struct gcl_object *b = gcl_new(m, &box_type);
  ((struct box *)b)->magic = BOX_MAGIC;
  gcl_share(m, b);
  return b;
}

static void *writer(void *arg) {
  (void)arg;
  struct gcl_mutator *m = gcl_thread_attach();
  /* Overwrite only while both readers read: the race under test must happen. */
  while (load(&readers_running) < 2) gcl_safepoint(m);
  for (int i = 0; i < 20000; i++) {
    gcl_store_move(m, the_holder, &((struct holder *)the_holder)->slot, new_box(m));
    gcl_safepoint(m);
  }
  store(&writer_done, 1);
  gcl_thread_detach(m);
  return NULL;
}

static void *reader(void *arg) {
  (void)arg;
  struct gcl_mutator *m = gcl_thread_attach();
  __atomic_fetch_add(&readers_running, 1, __ATOMIC_SEQ_CST);
  do {
    for (int i = 0; i < 64; i++) {
      struct gcl_object *b = gcl_load_strong(m, the_holder, &((struct holder *)the_holder)->slot);
      if (b) {
        cr_assert_eq(((struct box *)b)->magic, BOX_MAGIC, "read a dead box");
        gcl_release(m, b);
        __atomic_fetch_add(&reads, 1, __ATOMIC_RELAXED);
      }
    }
    gcl_safepoint(m);
  } while (!load(&writer_done));
  gcl_thread_detach(m);
  return NULL;
}

Test(world, load_strong_against_a_concurrent_writer, .init = setup, .timeout = 120) {
  gcl_stats_reset();
  struct gcl_mutator *m = gcl_thread_attach();
  the_holder = gcl_new(m, &holder_type);
  gcl_share(m, the_holder);
  /* The slot is never empty: every read finds a box. */
  gcl_store_move(m, the_holder, &((struct holder *)the_holder)->slot, new_box(m));
  pthread_t w, r[2];
  for (int i = 0; i < 2; i++) pthread_create(&r[i], NULL, reader, NULL);
  pthread_create(&w, NULL, writer, NULL);
  gcl_blocking_enter(m);
  pthread_join(w, NULL);
  for (int i = 0; i < 2; i++) pthread_join(r[i], NULL);
  gcl_blocking_leave(m);
  gcl_release(m, the_holder);
  gcl_thread_detach(m);
  gcl_heap_finish();
  struct gcl_heap_stats hs;
  gcl_stats_snapshot(&hs);
  cr_assert_eq(hs.objects_allocated, 20002, "the holder and 20001 boxes");
  cr_assert_eq(hs.objects_freed, hs.objects_allocated, "every box and the holder died");
  cr_assert_eq(hs.deferred_frees, hs.objects_freed, "shared objects wait for a grace period");
  cr_assert_gt(__atomic_load_n(&reads, __ATOMIC_RELAXED), 0);
}

/* --- time to safepoint ends when the last thread stopped ------------------------------
 * A thread runs LATE_NS without a safepoint after the stop is requested, notes the time,
 * then reaches its safepoint. MUTATORS_STOPPED must be stamped at or after that note
 * (the thread stopped after it) and no later than the requester's return; the stamp is
 * the thread's own departure (core/world.c), so a requester that woke late cannot stretch
 * it, and one that stamped only its first pass over the list would fail the first check. */

#define LATE_NS 3000000u
static uint64_t ev_requested, ev_stopped; /* the stop's event stamps (listener) */
static uint64_t late_noted;               /* the late thread's time before its safepoint */
static int late_go, late_busy, late_done;

static void stamp_stop(const struct gcl_event *e, void *data) {
  (void)data;
  if (e->kind == GCL_EVENT_STOP_REQUESTED) __atomic_store_n(&ev_requested, e->t_ns, __ATOMIC_SEQ_CST);
  if (e->kind == GCL_EVENT_MUTATORS_STOPPED) __atomic_store_n(&ev_stopped, e->t_ns, __ATOMIC_SEQ_CST);
}

static void *late_thread(void *arg) {
  (void)arg;
  struct gcl_mutator *m = gcl_thread_attach();
  while (!load(&late_go)) gcl_safepoint(m);
  store(&late_busy, 1);
  uint64_t until = gcl_now_ns() + LATE_NS;
  while (gcl_now_ns() < until) { /* no safepoint: the requester waits for us */
  }
  __atomic_store_n(&late_noted, gcl_now_ns(), __ATOMIC_SEQ_CST);
  while (!load(&late_done)) gcl_safepoint(m); /* the first one stops */
  gcl_thread_detach(m);
  return NULL;
}

Test(world, ttsp_ends_when_the_last_thread_stopped, .init = setup, .timeout = 60) {
  cr_assert_eq(gcl_event_listen(stamp_stop, NULL), 0);
  struct gcl_mutator *m = gcl_thread_attach();
  pthread_t t;
  pthread_create(&t, NULL, late_thread, NULL);
  store(&late_go, 1);
  gcl_blocking_enter(m);
  while (!load(&late_busy)) usleep(100);
  gcl_blocking_leave(m);
  gcl_stop_the_world(m);
  uint64_t returned = gcl_now_ns();
  gcl_start_the_world(m);
  uint64_t req = __atomic_load_n(&ev_requested, __ATOMIC_SEQ_CST);
  uint64_t stopped = __atomic_load_n(&ev_stopped, __ATOMIC_SEQ_CST);
  uint64_t noted = __atomic_load_n(&late_noted, __ATOMIC_SEQ_CST);
  cr_assert(noted != 0 && req != 0, "the late thread finished its run before the stop ended");
  cr_assert_geq(stopped, noted, "MUTATORS_STOPPED (%llu) before the late thread stopped (%llu)",
                (unsigned long long)stopped, (unsigned long long)noted);
  cr_assert_leq(stopped, returned, "MUTATORS_STOPPED after the requester returned");
  cr_assert_gt(stopped, req);
  store(&late_done, 1);
  gcl_blocking_enter(m);
  pthread_join(t, NULL);
  gcl_blocking_leave(m);
  gcl_thread_detach(m);
  gcl_event_unlisten(stamp_stop, NULL);
}
