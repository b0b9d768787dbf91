/* SPDX-License-Identifier: MIT */
/* tests/unit/test-pool.c — the pymalloc-style `pool` allocator (allocators/pool/).
 *
 * Criterion runs every test in its own process, so each starts from an empty allocator.
 * After each phase gcl_pool_check() walks every arena, pool and free list and checks the
 * invariants stated in pool-attrs.h and pool.c (counts, ordering, ring links). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "allocator.h"

static struct gcl_allocator_mutator am; /* the pool keeps no per-thread state */

static unsigned capacity(unsigned idx) {
  return (unsigned)((GCL_POOL_POOL_SIZE - GCL_POOL_OVERHEAD) / GCL_POOL_CLASS_SIZE(idx));
}

static struct gcl_pool_stats stats(void) {
  struct gcl_pool_stats s;
  gcl_pool_stats_get(&s);
  return s;
}

/* A byte pattern that depends on the block and a seed, so that any overlap between two
 * live blocks, or a block written while free, shows up. */
static unsigned char pattern(const void *p, size_t i, unsigned seed) {
  uintptr_t x = (uintptr_t)p * 0x9E3779B97F4A7C15ull + i * 31 + seed;
  return (unsigned char)(x >> 24);
}
static void fill(void *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) ((unsigned char *)p)[i] = pattern(p, i, seed);
}
static int intact(const void *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++)
    if (((const unsigned char *)p)[i] != pattern(p, i, seed)) return 0;
  return 1;
}

Test(pool, size_class_mapping) {
  cr_assert_eq(GCL_POOL_NCLASSES, 32);
  cr_assert_eq(GCL_POOL_CLASS_OF(1), 0);
  cr_assert_eq(GCL_POOL_CLASS_OF(16), 0);
  cr_assert_eq(GCL_POOL_CLASS_OF(17), 1);
  cr_assert_eq(GCL_POOL_CLASS_OF(32), 1);
  cr_assert_eq(GCL_POOL_CLASS_OF(33), 2);
  cr_assert_eq(GCL_POOL_CLASS_OF(512), 31);
  for (size_t n = 1; n <= GCL_POOL_SMALL_MAX; n++) {
    unsigned idx = GCL_POOL_CLASS_OF(n);
    cr_assert(GCL_POOL_CLASS_SIZE(idx) >= n && GCL_POOL_CLASS_SIZE(idx) < n + 16, "n=%zu", n);
    void *p = gcl_allocator_alloc(&am, n);
    cr_assert_eq(gcl_pool_of(p)->szidx, idx, "n=%zu went to class %u", n, gcl_pool_of(p)->szidx);
    gcl_allocator_free(&am, p, n);
  }
  cr_assert_eq(stats().large_allocs, 0);
  cr_assert_eq(gcl_pool_check(), 0);
}

Test(pool, blocks_are_16_byte_aligned) {
  static void *p[1100];
  for (size_t n = 0; n < 1100; n++) {
    p[n] = gcl_allocator_alloc(&am, n);
    cr_assert_not_null(p[n]);
    cr_assert_eq((uintptr_t)p[n] % 16, 0, "n=%zu gave %p", n, p[n]);
  }
  for (size_t n = 0; n < 1100; n++) gcl_allocator_free(&am, p[n], n);
  cr_assert_eq(gcl_pool_check(), 0);
}

/* Every class: allocate three pools' worth, interleaved with the other classes, fill each
 * block, free every other one and reallocate them, and check no pattern was disturbed. */
Test(pool, every_class_round_trip_keeps_contents) {
  enum { PER = 3 * 510 };
  static void *blk[GCL_POOL_NCLASSES][PER];
  static unsigned seed[GCL_POOL_NCLASSES][PER];
  unsigned per[GCL_POOL_NCLASSES];
  for (unsigned c = 0; c < GCL_POOL_NCLASSES; c++) per[c] = 3 * capacity(c) < PER ? 3 * capacity(c) : PER;
  for (unsigned i = 0; i < PER; i++)
    for (unsigned c = 0; c < GCL_POOL_NCLASSES; c++) {
      if (i >= per[c]) continue;
      size_t n = GCL_POOL_CLASS_SIZE(c) - (i % 16); /* any size of the class */
      blk[c][i] = gcl_allocator_alloc(&am, n);
      seed[c][i] = c * 7919 + i;
      fill(blk[c][i], n, seed[c][i]);
    }
  cr_assert_eq(gcl_pool_check(), 0);
  for (unsigned c = 0; c < GCL_POOL_NCLASSES; c++)
    for (unsigned i = 0; i < per[c]; i += 2) gcl_allocator_free(&am, blk[c][i], GCL_POOL_CLASS_SIZE(c) - (i % 16));
  cr_assert_eq(gcl_pool_check(), 0);
  for (unsigned c = 0; c < GCL_POOL_NCLASSES; c++)
    for (unsigned i = 0; i < per[c]; i += 2) {
      size_t n = GCL_POOL_CLASS_SIZE(c) - (i % 16);
      blk[c][i] = gcl_allocator_alloc(&am, n);
      seed[c][i] += 1000003;
      fill(blk[c][i], n, seed[c][i]);
    }
  cr_assert_eq(gcl_pool_check(), 0);
  uint64_t expect = 0;
  for (unsigned c = 0; c < GCL_POOL_NCLASSES; c++) expect += per[c] * GCL_POOL_CLASS_SIZE(c);
  cr_assert_eq(stats().block_bytes, expect);
  for (unsigned c = 0; c < GCL_POOL_NCLASSES; c++)
    for (unsigned i = 0; i < per[c]; i++) {
      size_t n = GCL_POOL_CLASS_SIZE(c) - (i % 16);
      cr_assert(intact(blk[c][i], n, seed[c][i]), "class %u block %u corrupted", c, i);
      gcl_allocator_free(&am, blk[c][i], n);
    }
  cr_assert_eq(stats().block_bytes, 0);
  cr_assert_eq(stats().pools, 0);
  cr_assert_eq(gcl_pool_check(), 0);
}

Test(pool, a_full_pool_is_left_and_refilled_after_a_free) {
  unsigned cap = capacity(1);
  cr_assert_eq(cap, (16384 - 48) / 32);
  static void *b[1024];
  for (unsigned i = 0; i < cap; i++) {
    b[i] = gcl_allocator_alloc(&am, 32);
    cr_assert_eq(gcl_pool_of(b[i]), gcl_pool_of(b[0]), "block %u left the first pool", i);
    /* Blocks are carved in address order from a fresh pool. */
    cr_assert_eq((char *)b[i], (char *)gcl_pool_of(b[0]) + GCL_POOL_OVERHEAD + 32 * i);
  }
  struct gcl_pool_header *first = gcl_pool_of(b[0]);
  cr_assert_eq(first->ref, cap);
  cr_assert_null(first->freeblock);
  cr_assert_null(gcl_pool.usedpools[1], "a full pool must leave usedpools");
  cr_assert_eq(stats().pools, 1);
  cr_assert_eq(gcl_pool_check(), 0);

  b[cap] = gcl_allocator_alloc(&am, 32);
  cr_assert_neq(gcl_pool_of(b[cap]), first, "a new pool is used once the first is full");
  cr_assert_eq(stats().pools, 2);
  cr_assert_eq(gcl_pool_check(), 0);

  /* Freeing a block of the full pool puts it at the head of usedpools: it is reused next. */
  gcl_allocator_free(&am, b[100], 32);
  cr_assert_eq(gcl_pool.usedpools[1], first);
  void *again = gcl_allocator_alloc(&am, 32);
  cr_assert_eq(again, b[100]);
  b[100] = again;
  cr_assert_eq(gcl_pool_check(), 0);

  /* Emptying the second pool returns it to its arena; the next pool taken (for another
   * class) is that same pool, re-initialised. */
  struct gcl_pool_header *second = gcl_pool_of(b[cap]);
  gcl_allocator_free(&am, b[cap], 32);
  cr_assert_eq(stats().pools, 1);
  void *other = gcl_allocator_alloc(&am, 200);
  cr_assert_eq(gcl_pool_of(other), second);
  cr_assert_eq(second->szidx, GCL_POOL_CLASS_OF(200));
  cr_assert_eq(gcl_pool_check(), 0);
  gcl_allocator_free(&am, other, 200);
  for (unsigned i = 0; i < cap; i++) gcl_allocator_free(&am, b[i], 32);
  cr_assert_eq(stats().pools, 0);
  cr_assert_eq(gcl_pool_check(), 0);
}

/* Fill `narenas` arenas with 512-byte blocks (31 per pool, 64 pools per arena). */
#define BIG_PER_ARENA (GCL_POOL_POOLS_PER_ARENA * 31)
static void **fill_arenas(unsigned narenas) {
  cr_assert_eq(capacity(31), 31);
  void **b = malloc(sizeof *b * narenas * BIG_PER_ARENA);
  for (unsigned i = 0; i < narenas * BIG_PER_ARENA; i++) b[i] = gcl_allocator_alloc(&am, 512);
  return b;
}

Test(pool, freeing_everything_unmaps_all_arenas_but_one_spare) {
  void **b = fill_arenas(5);
  struct gcl_pool_stats s = stats();
  cr_assert_eq(s.arenas, 5);
  cr_assert_eq(s.arenas_peak, 5);
  cr_assert_eq(s.pools, 5 * GCL_POOL_POOLS_PER_ARENA);
  cr_assert_eq(s.footprint_peak, 5 * GCL_POOL_ARENA_SIZE);
  cr_assert_eq(gcl_pool_check(), 0);
  /* Free in a scrambled order (a stride coprime with the count). */
  unsigned n = 5 * BIG_PER_ARENA;
  for (unsigned k = 0, i = 0; k < n; k++, i = (i + 7919) % n) {
    gcl_allocator_free(&am, b[i], 512);
    if (k % 997 == 0) cr_assert_eq(gcl_pool_check(), 0);
  }
  s = stats();
  cr_assert_eq(s.arenas, 1, "one spare arena is kept, got %llu", (unsigned long long)s.arenas);
  cr_assert_eq(s.arenas_peak, 5);
  cr_assert_eq(s.pools, 0);
  cr_assert_eq(s.block_bytes, 0);
  cr_assert_eq(s.footprint, GCL_POOL_ARENA_SIZE);
  cr_assert_eq(gcl_pool_check(), 0);
  /* The spare serves the next allocations without a new mapping. */
  void *p = gcl_allocator_alloc(&am, 64);
  cr_assert_eq(stats().arenas, 1);
  gcl_allocator_free(&am, p, 64);
  free(b);
}

/* Free all the blocks of pools [first, first + count) of the arena of block index a0. */
static void free_pools(void **b, unsigned arena, unsigned first, unsigned count) {
  for (unsigned k = first; k < first + count; k++)
    for (unsigned j = 0; j < 31; j++) {
      unsigned i = arena * BIG_PER_ARENA + k * 31 + j;
      gcl_allocator_free(&am, b[i], 512);
      b[i] = NULL;
    }
}

Test(pool, usable_arenas_are_sorted_and_the_fullest_is_used_first) {
  void **b = fill_arenas(3);
  unsigned ai[3];
  for (unsigned a = 0; a < 3; a++) ai[a] = gcl_pool_of(b[a * BIG_PER_ARENA])->arenaindex;
  cr_assert(ai[0] != ai[1] && ai[1] != ai[2] && ai[0] != ai[2]);
  unsigned nfree[8];
  cr_assert_eq(gcl_pool_usable_arenas(nfree, 8), 0, "every arena is full");
  /* Give the arenas 10, 3 and 20 free pools, in an order that forces re-sorting. */
  free_pools(b, 0, 0, 10);
  free_pools(b, 2, 5, 20);
  free_pools(b, 1, 60, 3);
  cr_assert_eq(gcl_pool_check(), 0);
  cr_assert_eq(gcl_pool_usable_arenas(nfree, 8), 3);
  cr_assert_eq(nfree[0], 3);
  cr_assert_eq(nfree[1], 10);
  cr_assert_eq(nfree[2], 20);
  /* A new pool comes from the fullest arena (arena 1, 3 free pools). */
  void *p = gcl_allocator_alloc(&am, 100);
  cr_assert_eq(gcl_pool_of(p)->arenaindex, ai[1]);
  cr_assert_eq(gcl_pool_usable_arenas(nfree, 8), 3);
  cr_assert_eq(nfree[0], 2);
  /* Emptying arena 0 entirely does not unmap it while it is the tail... */
  free_pools(b, 0, 10, 54);
  cr_assert_eq(stats().arenas, 3);
  cr_assert_eq(gcl_pool_usable_arenas(nfree, 8), 3);
  cr_assert_eq(nfree[2], 64);
  /* ...but a second empty arena is unmapped: only one spare is kept. */
  free_pools(b, 2, 0, 5);
  free_pools(b, 2, 25, 39);
  cr_assert_eq(stats().arenas, 2);
  cr_assert_eq(gcl_pool_check(), 0);
  gcl_allocator_free(&am, p, 100);
  for (unsigned i = 0; i < 3 * BIG_PER_ARENA; i++)
    if (b[i]) gcl_allocator_free(&am, b[i], 512);
  cr_assert_eq(stats().arenas, 1);
  cr_assert_eq(gcl_pool_check(), 0);
  free(b);
}

Test(pool, zero_and_large_requests_go_to_malloc) {
  size_t sizes[] = {0, 513, 4096, 1 << 20};
  void *p[4];
  uint64_t total = 0;
  for (int i = 0; i < 4; i++) {
    p[i] = gcl_allocator_alloc(&am, sizes[i]);
    cr_assert_not_null(p[i]);
    if (sizes[i]) memset(p[i], 0xab, sizes[i]);
    total += sizes[i];
  }
  struct gcl_pool_stats s = stats();
  cr_assert_eq(s.large_allocs, 4);
  cr_assert_eq(s.large_bytes, total);
  cr_assert_eq(s.arenas, 0, "no arena is mapped for malloc-routed requests");
  cr_assert_eq(s.footprint_peak, total);
  void *small = gcl_allocator_alloc(&am, 512);
  s = stats();
  cr_assert_eq(s.large_allocs, 4, "512 bytes is pooled");
  cr_assert_eq(s.pools, 1);
  cr_assert_eq(s.footprint_peak, total + GCL_POOL_ARENA_SIZE);
  for (int i = 0; i < 4; i++) gcl_allocator_free(&am, p[i], sizes[i]);
  gcl_allocator_free(&am, small, 512);
  s = stats();
  cr_assert_eq(s.large_bytes, 0);
  cr_assert_eq(s.large_allocs, 4);
}

/* --- threads: 4 threads allocate, hand blocks to each other through exchange slots, and
 * free what they receive, half of the time with am == NULL (a non-mutator thread). ---- */

#define THREADS 4
#define SLOTS 512
#define STEPS 300000

static void *slots[SLOTS]; /* blocks in transit between threads, accessed atomically */

/* A block of n >= 16 bytes carries its size in its first word and, after it, one byte
 * derived from its address and size (memset/memcmp keep this cheap under sanitizers). */
static unsigned char tag(const void *p, size_t n) {
  return (unsigned char)(((uintptr_t)p * 0x9E3779B97F4A7C15ull + n) >> 40);
}

static void *make_block(struct gcl_allocator_mutator *m, size_t n) {
  void *p = gcl_allocator_alloc(m, n);
  if (!p) return NULL;
  *(size_t *)p = n;
  memset((char *)p + sizeof(size_t), tag(p, n), n - sizeof(size_t));
  return p;
}

static int drop_block(struct gcl_allocator_mutator *m, void *p) {
  unsigned char expect[700];
  size_t n = *(size_t *)p;
  if (n < 16 || n > sizeof expect) return 0;
  memset(expect, tag(p, n), n - sizeof(size_t));
  int ok = memcmp((char *)p + sizeof(size_t), expect, n - sizeof(size_t)) == 0;
  gcl_allocator_free(m, p, n);
  return ok;
}

struct worker {
  unsigned id;  /* thread number, seeds its generator */
  int bad;      /* blocks found corrupted */
  int nulls;    /* allocations that returned NULL */
};

static void *worker_main(void *arg) {
  struct worker *w = arg;
  struct gcl_allocator_mutator mine;
  uint64_t x = 0x2545F4914F6CDD1Dull * (w->id + 1);
  void *local[64] = {0};
  for (int step = 0; step < STEPS; step++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    size_t n = 16 + (size_t)(x % 600); /* mostly pooled, some routed to malloc */
    unsigned r = (unsigned)(x >> 20);
    void *p = make_block(&mine, n);
    if (!p) {
      w->nulls++;
      continue;
    }
    if (r & 1) {
      /* Keep it locally for a while; free what was there. */
      void **s = &local[(r >> 1) % 64];
      if (*s && !drop_block(&mine, *s)) w->bad++;
      *s = p;
    } else {
      /* Hand it over; free what another thread left, possibly as a non-mutator. */
      void *old = __atomic_exchange_n(&slots[(r >> 1) % SLOTS], p, __ATOMIC_ACQ_REL);
      if (old && !drop_block((r >> 12) & 1 ? NULL : &mine, old)) w->bad++;
    }
  }
  for (int i = 0; i < 64; i++)
    if (local[i] && !drop_block(NULL, local[i])) w->bad++;
  return NULL;
}

Test(pool, four_threads_with_cross_thread_and_null_mutator_frees, .timeout = 240) {
  pthread_t t[THREADS];
  struct worker w[THREADS];
  for (unsigned i = 0; i < THREADS; i++) {
    w[i] = (struct worker){.id = i};
    cr_assert_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
  }
  for (unsigned i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  for (unsigned i = 0; i < THREADS; i++) {
    cr_assert_eq(w[i].bad, 0, "thread %u found %d corrupted blocks", i, w[i].bad);
    cr_assert_eq(w[i].nulls, 0);
  }
  cr_assert_eq(gcl_pool_check(), 0);
  for (unsigned i = 0; i < SLOTS; i++)
    if (slots[i]) cr_assert(drop_block(NULL, slots[i]), "slot %u corrupted", i);
  struct gcl_pool_stats s = stats();
  cr_assert_eq(s.block_bytes, 0);
  cr_assert_eq(s.pools, 0);
  cr_assert_eq(s.large_bytes, 0);
  cr_assert_leq(s.arenas, 1);
  cr_assert_eq(gcl_pool_check(), 0);
}
