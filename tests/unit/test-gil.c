/* SPDX-License-Identifier: MIT */
/* tests/unit/test-gil.c — GIL mode (core/gil.h), compiled against rc-gen x pool, once with
 * the verifier (unit/gil-verify: collections checked by the reachability oracle) and once
 * without (unit/gil: shared objects die through liburcu's call_rcu thread, which frees
 * into pool with am == NULL while mutators allocate without pool's lock), and against
 * brc x pool with the verifier (unit/gil-brc: merge-queue safepoint work next to the GIL's
 * drop requests in the same safepoint_work word; without the raw-block pool tests).
 *
 * What is checked: at most one thread is ever between two safepoints at once (2..8 busy
 * threads); two busy threads hand the GIL to each other on switch-interval drop requests
 * (switches are counted, never times); a thread in a blocking region does not hold it;
 * stop-the-world collections by several threads under it; pool's state stays consistent
 * (gcl_pool_check) with its lock never taken. Every test bounds its own time by its
 * .timeout: a thread that never gets the GIL back hangs the test, which then fails. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>
#include <urcu/urcu-qsbr.h>

#include "allocator.h"
#include "collector.h"
#include "gil.h"
#include "mutator.h"
#include "stats.h"
#include "tsan.h"
#include "verify.h"

#define MAXT 8

static void gil_setup_us(uint64_t interval_us) {
  struct gcl_heap_config c = {.threads = 4, .gil = true, .gil_interval_us = interval_us};
  cr_assert_eq(gcl_heap_init_with(&c), 0);
  cr_assert(gcl_gil_enabled);
}
static void setup_fast(void) { gil_setup_us(100); } /* 0.1 ms: many switches quickly */

static int load(int *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static void store(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }

/* Run fn(i) on n threads and join them (from a thread that is not a mutator). */
static void run_threads(unsigned n, void *(*fn)(void *)) {
  pthread_t t[MAXT];
  for (uintptr_t i = 0; i < n; i++) cr_assert_eq(pthread_create(&t[i], NULL, fn, (void *)i), 0);
  for (unsigned i = 0; i < n; i++) pthread_join(t[i], NULL);
}

/* --- one mutator at a time -------------------------------------------------------------- */

static int inside, inside_max;        /* threads between two safepoints now / ever */
static unsigned long busy_iters[MAXT]; /* per thread */
static uint64_t switch_goal;           /* stop once the GIL changed hands this often */

static void *busy_main(void *arg) {
  uintptr_t me = (uintptr_t)arg;
  struct gcl_mutator *m = gcl_thread_attach();
  /* Loop invariant: whenever this thread has incremented `inside` and not yet decremented
   * it, it holds the GIL, so `inside` is 1 then (the GIL is dropped only at safepoints,
   * blocking regions and detach, all outside the bracket). */
  for (unsigned long i = 0;; i++) {
    int k = __atomic_add_fetch(&inside, 1, __ATOMIC_SEQ_CST);
    if (k > load(&inside_max)) store(&inside_max, k);
    for (volatile int spin = 0; spin < 200; spin++) {
    }
    __atomic_sub_fetch(&inside, 1, __ATOMIC_SEQ_CST);
    busy_iters[me] = i + 1;
    gcl_safepoint(m);
    if (i % 256 == 0 && gcl_gil_switches() >= switch_goal) break;
  }
  gcl_thread_detach(m);
  return NULL;
}

static void one_at_a_time(unsigned n) {
  store(&inside_max, 0);
  switch_goal = 20 * n;
  run_threads(n, busy_main);
  cr_assert_eq(load(&inside_max), 1, "%d threads ran mutator code at once", load(&inside_max));
  cr_assert_geq(gcl_gil_switches(), switch_goal);
  for (unsigned i = 0; i < n; i++) cr_assert_gt(busy_iters[i], 0, "thread %u never ran", i);
}

Test(gil, one_mutator_at_a_time_2, .init = setup_fast, .timeout = 120) { one_at_a_time(2); }
Test(gil, one_mutator_at_a_time_4, .init = setup_fast, .timeout = 120) { one_at_a_time(4); }
Test(gil, one_mutator_at_a_time_8, .init = setup_fast, .timeout = 120) { one_at_a_time(8); }

/* --- the switch interval hands the GIL between two busy threads ------------------------- */

static int last_runner = -1;   /* who ran the previous iteration (plain: under the GIL) */
static unsigned turns[2];      /* per thread: iterations that followed the other's */

static void *turn_main(void *arg) {
  int me = (int)(uintptr_t)arg;
  struct gcl_mutator *m = gcl_thread_attach();
  /* Both must reach 20: the one that finishes first keeps handing the GIL back. */
  while (turns[0] < 20 || turns[1] < 20) {
    /* Plain accesses: only the GIL orders them (TSan checks it). */
    if (last_runner != me) turns[me]++;
    last_runner = me;
    gcl_safepoint(m);
  }
  gcl_thread_detach(m);
  return NULL;
}

Test(gil, interval_hands_over_between_busy_threads, .init = setup_fast, .timeout = 120) {
  uint64_t r0 = gcl_gil_drop_requests(), s0 = gcl_gil_spin_takes();
  run_threads(2, turn_main);
  /* Neither thread blocks, so every turn after the first came from a drop request. */
  cr_assert_geq(turns[0], 20);
  cr_assert_geq(turns[1], 20);
  cr_assert_geq(gcl_gil_drop_requests() - r0, 20, "switches without drop requests");
  cr_assert_geq(gcl_gil_switches(), 39);
  /* The holder polls at every iteration, so with a second CPU and nobody else competing
   * for it the requester's spin sees the drop (core/gil.c spin_for_drop). On a loaded
   * machine the holder is often descheduled for longer than the spin, so how many it
   * catches is printed, not asserted; it can never exceed the requests. */
  uint64_t spun = gcl_gil_spin_takes() - s0, asked = gcl_gil_drop_requests() - r0;
  cr_log_info("drop requests %llu, served while the requester spun %llu", (unsigned long long)asked,
              (unsigned long long)spun);
  cr_assert_leq(spun, asked);
  if (gcl_usable_cpus() < 2) cr_assert_eq(spun, 0, "the spin runs only with a second CPU");
}

/* --- blocking regions release it -------------------------------------------------------- */

static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int in_region, other_ran, leaving, back;

static void *blocked_main(void *arg) {
  (void)arg;
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_blocking_enter(m);
  pthread_mutex_lock(&gate);
  store(&in_region, 1);
  pthread_cond_broadcast(&gate_cond);
  while (!load(&other_ran)) pthread_cond_wait(&gate_cond, &gate);
  pthread_mutex_unlock(&gate);
  store(&leaving, 1);
  gcl_blocking_leave(m); /* waits for the GIL, which the runner holds */
  store(&back, 1);
  gcl_thread_detach(m);
  return NULL;
}

static void *runner_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&gate);
  while (!load(&in_region)) pthread_cond_wait(&gate_cond, &gate);
  pthread_mutex_unlock(&gate);
  /* The other thread is attached but in a blocking region: attaching must not wait for
   * it (the interval is 10 s, so no drop request could explain getting the GIL). */
  struct gcl_mutator *m = gcl_thread_attach();
  for (int i = 0; i < 1000; i++) gcl_safepoint(m);
  pthread_mutex_lock(&gate);
  store(&other_ran, 1);
  pthread_cond_broadcast(&gate_cond);
  pthread_mutex_unlock(&gate);
  while (!load(&leaving)) {
  }
  usleep(20000); /* attached, no safepoint: the other thread cannot get back */
  cr_assert_eq(load(&back), 0, "left a blocking region while another thread held the GIL");
  gcl_thread_detach(m);
  return NULL;
}

static void setup_slow(void) { gil_setup_us(10u * 1000 * 1000); }

Test(gil, blocking_region_releases_it, .init = setup_slow, .timeout = 60) {
  pthread_t a, b;
  pthread_create(&a, NULL, blocked_main, NULL);
  pthread_create(&b, NULL, runner_main, NULL);
  pthread_join(b, NULL);
  pthread_join(a, NULL);
  cr_assert_eq(load(&back), 1);
}

/* --- stop-the-world collections under the GIL (rc-gen, verifier in gil-verify) ----------- */

struct node {
  struct gcl_object header; /* common header */
  struct gcl_object *next;  /* reference */
  uint64_t value;           /* payload, checked when handed over */
};
static const struct gcl_type node_type = {
    .name = "node", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, next), .nrefs = 1};

#define XCHG 4
static struct gcl_object *exchange[XCHG]; /* global roots: rings handed between threads */

/* A ring of n nodes valued 7: garbage only a collection frees once dropped. */
static struct gcl_object *make_ring(struct gcl_mutator *m, int n, bool shared) {
  struct gcl_object *head = gcl_new(m, &node_type), *last = head;
  GCL_FRAME(m, f, &head, &last);
  ((struct node *)head)->value = 7;
  for (int i = 1; i < n; i++) {
    struct gcl_object *x = gcl_new(m, &node_type);
    ((struct node *)x)->value = 7;
    if (shared) gcl_share(m, x);
    gcl_store_move(m, last, &((struct node *)last)->next, x);
    last = x;
  }
  if (shared) gcl_share(m, head);
  gcl_store(m, last, &((struct node *)last)->next, head);
  GCL_FRAME_POP(m, f);
  return head;
}

static void *collector_main(void *arg) {
  uint64_t seed = (uintptr_t)arg * 2654435761u + 1;
  struct gcl_mutator *m = gcl_thread_attach();
  for (int round = 0; round < 400; round++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    struct gcl_object *r = make_ring(m, 3 + (int)(seed >> 61), (seed >> 30) & 1);
    struct gcl_object *old = __atomic_exchange_n(&exchange[(seed >> 20) % XCHG], r, __ATOMIC_ACQ_REL);
    if (old) {
      cr_assert_eq(((struct node *)old)->value, 7, "a ring handed over was freed");
      gcl_release(m, old);
    }
    if (round % 50 == 0) gcl_collect(m, -1);
    if (round % 100 == 0) gcl_checkpoint(m); /* the verifier stops the world */
    gcl_safepoint(m);
  }
  gcl_thread_detach(m);
  return NULL;
}

static void collect_setup(void) {
  setup_fast();
  for (int i = 0; i < XCHG; i++) gcl_global_root_add(&exchange[i]);
#ifdef GCL_RCGEN_NTAGS
  gcl_rcgen_set_thresholds(100, 3, 3);
#endif
}

static void collections_under_gil(unsigned n) {
  run_threads(n, collector_main);
  struct gcl_mutator *m = gcl_thread_attach();
  for (int i = 0; i < XCHG; i++) gcl_store(m, NULL, &exchange[i], NULL);
  gcl_thread_detach(m);
  gcl_heap_finish(); /* the final collection */
#ifdef GCL_RCGEN_NTAGS
  struct gcl_rcgen_stats s;
  gcl_rcgen_get_stats(&s);
  cr_assert_geq(s.collections[2], 8 * n, "explicit full collections");
  cr_assert_gt(s.collections[0], 0, "automatic collections");
#endif
  cr_assert_gt(gcl_gil_switches(), 0);
  if (GCL_VERIFY) {
    struct gcl_verify_result r;
    gcl_verify_heap(&r);
    cr_assert_eq(r.errors, 0, "oracle: %s", gcl_verify_first_error());
    cr_assert_eq(r.live, 0, "%llu objects left", (unsigned long long)r.live);
  }
  struct gcl_heap_stats hs;
  gcl_stats_snapshot(&hs);
  cr_assert_eq(hs.objects_freed, hs.objects_allocated);
  cr_assert_eq(gcl_pool_check(), 0);
}

Test(gil, collections_2_threads, .init = collect_setup, .timeout = 180) { collections_under_gil(2); }
Test(gil, collections_4_threads, .init = collect_setup, .timeout = 180) { collections_under_gil(4); }

/* --- pool without its lock, with frees from liburcu's thread ---------------------------
 * Raw allocator blocks: not under brc, whose collections walk every block as an object. */
#ifndef GCL_BRC_THRESHOLD

#define BLOCKS 256

struct rcu_block {
  struct rcu_head rcu; /* liburcu's link (the block's first bytes) */
  size_t bytes;        /* its allocated size */
};

/* On liburcu's call_rcu thread: no GIL, am == NULL. */
static void free_from_rcu(struct rcu_head *h) {
  struct rcu_block *b = caa_container_of(h, struct rcu_block, rcu);
  GCL_TSAN_ACQUIRE(b); /* liburcu's queue is not instrumented (core/tsan.h) */
  gcl_allocator_free(NULL, b, b->bytes);
}

static void *pool_main(void *arg) {
  uint64_t seed = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 3;
  struct gcl_mutator *m = gcl_thread_attach();
  void *blocks[BLOCKS] = {0};
  size_t sizes[BLOCKS];
  for (int round = 0; round < 40000; round++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    unsigned k = (unsigned)(seed >> 56) % BLOCKS;
    if (blocks[k]) {
      if ((seed >> 20) & 7) {
        gcl_allocator_free(&m->allocator, blocks[k], sizes[k]);
      } else { /* one free in eight goes through liburcu's thread */
        struct rcu_block *b = blocks[k];
        b->bytes = sizes[k];
        GCL_TSAN_RELEASE(b);
        urcu_qsbr_call_rcu(&b->rcu, free_from_rcu);
      }
      blocks[k] = NULL;
    } else {
      /* Sizes 24..600: every class and some malloc-routed requests. */
      sizes[k] = sizeof(struct rcu_block) + (size_t)(seed >> 40) % 576;
      blocks[k] = gcl_allocator_alloc(&m->allocator, sizes[k]);
      cr_assert_not_null(blocks[k]);
      memset(blocks[k], 0xab, sizes[k]);
    }
    if (round % 1000 == 0) gcl_release(m, make_ring(m, 4, true)); /* deferred frees too */
    gcl_safepoint(m);
  }
  for (unsigned k = 0; k < BLOCKS; k++)
    if (blocks[k]) gcl_allocator_free(&m->allocator, blocks[k], sizes[k]);
  gcl_collect(m, -1);
  gcl_thread_detach(m);
  return NULL;
}

static void pool_under_gil(unsigned n) {
  run_threads(n, pool_main);
  gcl_heap_finish(); /* every call_rcu callback has run */
  if (GCL_VERIFY) { /* releases the quarantine with am == NULL, from a thread without GIL */
    struct gcl_verify_result r;
    gcl_verify_heap(&r);
    cr_assert_eq(r.errors, 0, "oracle: %s", gcl_verify_first_error());
  }
  struct gcl_pool_stats s;
  gcl_pool_stats_get(&s);
  cr_assert_eq(s.block_bytes, 0, "%llu bytes still allocated", (unsigned long long)s.block_bytes);
  cr_assert_eq(s.large_bytes, 0);
  cr_assert_eq(s.lock_contended, 0, "pool's lock was taken under the GIL");
  cr_assert_eq(__atomic_load_n(&gcl_pool.lock, __ATOMIC_RELAXED), 0);
  cr_assert_eq(gcl_pool_check(), 0);
  if (!GCL_VERIFY) {
    struct gcl_heap_stats hs;
    gcl_stats_snapshot(&hs);
    cr_assert_gt(hs.deferred_frees, 0, "shared objects went through call_rcu");
  }
}

Test(gil, pool_without_lock_2_threads, .init = setup_fast, .timeout = 180) { pool_under_gil(2); }
Test(gil, pool_without_lock_4_threads, .init = setup_fast, .timeout = 180) { pool_under_gil(4); }
#endif
