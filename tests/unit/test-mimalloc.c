/* SPDX-License-Identifier: MIT */
/* tests/unit/test-mimalloc.c — the mimalloc adapter's heap walk (capability heap-walk,
 * core/allocator.h), built against brc × mimalloc (a collector that walks, so orphans are
 * recorded): the walk visits exactly the blocks allocated and not freed — of attached
 * threads' heaps and of threads that detached with live blocks (the orphan table) — also
 * when other threads free a detaching thread's blocks while it detaches (the grace-period
 * argument of allocators/mimalloc/mimalloc.c). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>

#include "allocator.h"
#include "mutator.h"
#include "ptrset.h"

#define N 20000
static void *blocks[N]; /* NULL, or a live block; claimed by atomic exchange to free it */

struct seen {
  struct gcl_ptrset set; /* blocks visited */
  size_t dups;           /* visited twice */
};

static void visit(void *mem, size_t bytes, void *ctx) {
  (void)bytes;
  struct seen *s = ctx;
  if (!gcl_ptrset_add(&s->set, mem)) s->dups++;
}

/* The walk must find exactly the live entries of blocks[] and extra[] (the heap holds
 * nothing else of ours: the test allocates through the adapter only). */
#define EXTRA (8 * N)
static void *extra[EXTRA]; /* the main thread's blocks while blocks[] holds a filler's */

static void check_walk(void) {
  struct seen s = {.dups = 0};
  gcl_ptrset_init(&s.set);
  gcl_allocator_walk(visit, &s);
  size_t live = 0;
  for (size_t i = 0; i < N + EXTRA; i++) {
    void *p = i < N ? blocks[i] : extra[i - N];
    if (!p) continue;
    live++;
    cr_assert(gcl_ptrset_contains(&s.set, p), "live block %zu not visited", i);
  }
  cr_assert_eq(s.dups, 0, "a block was visited twice");
  cr_assert_eq(s.set.count, live, "visited %zu blocks, %zu are live", s.set.count, live);
  gcl_ptrset_destroy(&s.set);
}

static uint64_t next(uint64_t *s) {
  *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
  return *s;
}

static void *fill(void *arg) {
  (void)arg;
  struct gcl_mutator *m = gcl_thread_attach();
  uint64_t r = 88172645463325252ull;
  for (size_t i = 0; i < N; i++) blocks[i] = gcl_allocator_alloc(&m->allocator, 1 + next(&r) % 600);
  gcl_thread_detach(m);
  return NULL;
}

static void setup(void) { cr_assert_eq(gcl_heap_init(), 0); }

Test(mimalloc_walk, attached_and_orphaned_blocks, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  uint64_t r = 2463534242ull;
  for (size_t i = 0; i < N / 2; i++) extra[i] = gcl_allocator_alloc(&m->allocator, 1 + next(&r) % 900);
  for (size_t i = 0; i < N / 2; i += 3) /* frees by the owner and with no mutator */
    gcl_allocator_free(i % 2 ? NULL : &m->allocator, extra[i], 0), extra[i] = NULL;
  check_walk();
  /* Another thread fills blocks[] and exits with every block live: orphans. */
  pthread_t t;
  pthread_create(&t, NULL, fill, NULL);
  gcl_blocking_enter(m); /* the filler's detach waits for a grace period: we must be offline */
  pthread_join(t, NULL);
  gcl_blocking_leave(m);
  check_walk();
  /* Free half the orphans from this thread, the rest with no mutator. */
  for (size_t i = 0; i < N; i += 2) gcl_allocator_free(&m->allocator, blocks[i], 0), blocks[i] = NULL;
  check_walk();
  for (size_t i = 0; i < N; i++)
    if (blocks[i]) gcl_allocator_free(NULL, blocks[i], 0), blocks[i] = NULL;
  for (size_t i = 0; i < N / 2; i++)
    if (extra[i]) gcl_allocator_free(&m->allocator, extra[i], 0), extra[i] = NULL;
  check_walk();
  gcl_thread_detach(m);
}

/* Freers claim random blocks of the filling thread while it runs and detaches. */
static int filled;
static void *freer(void *arg) {
  struct gcl_mutator *m = gcl_thread_attach();
  uint64_t r = (uintptr_t)arg * 0x9E3779B97F4A7C15ull + 1;
  while (!__atomic_load_n(&filled, __ATOMIC_ACQUIRE)) {
    size_t i = next(&r) % N;
    void *p = __atomic_exchange_n(&blocks[i], NULL, __ATOMIC_ACQ_REL);
    if (p) gcl_allocator_free(&m->allocator, p, 0);
    gcl_safepoint(m);
  }
  gcl_thread_detach(m);
  return NULL;
}

static void *fill_then_flag(void *arg) {
  fill(arg);
  __atomic_store_n(&filled, 1, __ATOMIC_RELEASE);
  return NULL;
}

Test(mimalloc_walk, frees_racing_a_detach_leave_an_exact_orphan_table, .init = setup) {
  for (int round = 0; round < 5; round++) {
    __atomic_store_n(&filled, 0, __ATOMIC_RELAXED);
    pthread_t f[3], t;
    for (uintptr_t k = 0; k < 3; k++) pthread_create(&f[k], NULL, freer, (void *)(k + 1 + 3 * round));
    pthread_create(&t, NULL, fill_then_flag, NULL);
    pthread_join(t, NULL);
    for (int k = 0; k < 3; k++) pthread_join(f[k], NULL);
    check_walk();
    for (size_t i = 0; i < N; i++)
      if (blocks[i]) gcl_allocator_free(NULL, blocks[i], 0), blocks[i] = NULL;
    check_walk();
  }
}

/* A thread exits with live blocks; then this thread allocates and frees a lot (mimalloc
 * may reclaim the exited thread's abandoned pages into our heap) and reuses freed blocks:
 * the walk still visits every live block once, and nothing that is not ours (a reused
 * block must not keep its freed mark; a reclaimed orphan must not be walked twice). */
Test(mimalloc_walk, reclaimed_and_reused_blocks, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  pthread_t t;
  pthread_create(&t, NULL, fill, NULL);
  gcl_blocking_enter(m);
  pthread_join(t, NULL);
  gcl_blocking_leave(m);
  check_walk();
  uint64_t r = 1234567ull;
  for (int round = 0; round < 4; round++) {
    /* Enough new blocks that our heap needs fresh segments (and may reclaim). */
    for (size_t i = 0; i < EXTRA; i++) {
      if (extra[i]) gcl_allocator_free(&m->allocator, extra[i], 0);
      extra[i] = gcl_allocator_alloc(&m->allocator, 1 + next(&r) % 600);
    }
    for (size_t i = round; i < N; i += 4) /* some orphans die */
      if (blocks[i]) gcl_allocator_free(&m->allocator, blocks[i], 0), blocks[i] = NULL;
    check_walk();
  }
  for (size_t i = 0; i < N; i++)
    if (blocks[i]) gcl_allocator_free(NULL, blocks[i], 0), blocks[i] = NULL;
  for (size_t i = 0; i < EXTRA; i++)
    if (extra[i]) gcl_allocator_free(&m->allocator, extra[i], 0), extra[i] = NULL;
  check_walk();
  gcl_thread_detach(m);
}
