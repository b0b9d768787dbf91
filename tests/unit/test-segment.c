/* SPDX-License-Identifier: MIT */
/* tests/unit/test-segment.c — the per-thread segment allocator (allocators/segment/).
 *
 * Criterion runs every test in its own process, so each starts from an empty allocator.
 * gcl_segment_check(am) checks the calling heap's invariants (segment-attrs.h, segment.c)
 * after each phase. Multi-threaded tests join their threads before asserting. The same
 * source runs under TSan through tests/tsan-shim. With GCL_SEGMENT_COUNT_OPS (the
 * unit/segment-ops target) it also contains the operation-counting test. */
#include <criterion/criterion.h>
#include <hwloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "allocator.h"
#include "ptrset.h"

__attribute__((unused)) static struct gcl_segment_stats stats(void) {
  struct gcl_segment_stats s;
  gcl_segment_stats_get(&s);
  return s;
}

static uint64_t xorshift(uint64_t *x) {
  *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
  return *x;
}

/* A block carries a byte derived from its address and size after its first 16 bytes. */
static unsigned char tag(const void *p, size_t n) {
  return (unsigned char)(((uintptr_t)p * 0x9E3779B97F4A7C15ull + n) >> 40);
}
__attribute__((unused)) static void fill(void *p, size_t n) {
  if (n > 16) memset((char *)p + 16, tag(p, n), n - 16);
}
__attribute__((unused)) static bool intact(const void *p, size_t n) {
  for (size_t i = 16; i < n; i++)
    if (((const unsigned char *)p)[i] != tag(p, n)) return false;
  return true;
}

#ifndef GCL_SEGMENT_COUNT_OPS

Test(segment, size_classes_every_request_and_edge) {
  cr_assert_eq(gcl_segment_class_of(GCL_SEGMENT_SMALL_MAX), GCL_SEGMENT_NCLASSES - 1);
  for (unsigned c = 0; c < GCL_SEGMENT_NCLASSES; c++) {
    size_t sz = gcl_segment_class_size(c);
    cr_assert_eq(sz % 16, 0, "class %u size %zu", c, sz);
    cr_assert_eq(gcl_segment_class_of(sz), c, "edge of class %u", c);
    if (c + 1 < GCL_SEGMENT_NCLASSES) cr_assert_eq(gcl_segment_class_of(sz + 1), c + 1);
  }
  struct gcl_allocator_mutator am;
  gcl_allocator_init(&(struct gcl_init){1, NULL});
  gcl_allocator_thread_attach(&am);
  for (size_t n = 0; n <= GCL_SEGMENT_SMALL_MAX + 64; n++) {
    size_t sz = n <= GCL_SEGMENT_SMALL_MAX ? gcl_segment_class_size(gcl_segment_class_of(n)) : n;
    cr_assert(sz >= n && (n <= 128 ? sz - n <= 15 + (n == 0) : (sz - n) * 8 < sz), "n=%zu size %zu", n, sz);
    void *p = gcl_allocator_alloc(&am, n), *q = gcl_allocator_alloc(&am, n);
    cr_assert(p && q && ((uintptr_t)p & 15) == 0 && ((uintptr_t)q & 15) == 0, "n=%zu", n);
    memset(p, 0xAB, n);
    memset(q, 0xCD, n);
    if (n > 0) cr_assert(((unsigned char *)p)[n - 1] == 0xAB, "blocks of %zu overlap", n);
    if (n <= GCL_SEGMENT_SMALL_MAX) {
      struct gcl_segment_page *pg = gcl_segment_page_of(gcl_segment_of(p), p);
      cr_assert_eq(pg->cls, gcl_segment_class_of(n), "n=%zu in class %u", n, pg->cls);
    }
    gcl_allocator_free(&am, p, n);
    gcl_allocator_free(&am, q, n);
  }
  cr_assert_eq(stats().large_allocs, 2 * 64);
  cr_assert_eq(gcl_segment_check(&am), 0);
  gcl_allocator_thread_detach(&am);
}

/* --- remote frees ------------------------------------------------------------------------ */

#define REMOTE_BLOCKS 24000

struct remote_job {
  void **blocks;   /* the blocks to free */
  size_t *sizes;   /* their sizes */
  size_t from, to; /* this thread's range */
  int bad;         /* corrupted blocks found */
};

static void *remote_main(void *arg) {
  struct remote_job *j = arg;
  struct gcl_allocator_mutator mine;
  gcl_allocator_thread_attach(&mine);
  for (size_t i = j->from; i < j->to; i++) {
    if (!intact(j->blocks[i], j->sizes[i])) j->bad++;
    gcl_allocator_free(i % 3 == 0 ? NULL : &mine, j->blocks[i], j->sizes[i]);
  }
  gcl_allocator_thread_detach(&mine);
  return NULL;
}

Test(segment, remote_frees_from_1_to_8_threads, .timeout = 240) {
  static void *blocks[REMOTE_BLOCKS];
  static size_t sizes[REMOTE_BLOCKS];
  struct gcl_allocator_mutator am;
  gcl_allocator_init(&(struct gcl_init){1, NULL});
  gcl_allocator_thread_attach(&am);
  uint64_t x = 12345, expect_remote = 0;
  for (unsigned nt = 1; nt <= 8; nt++) {
    for (size_t i = 0; i < REMOTE_BLOCKS; i++) {
      sizes[i] = 16 + xorshift(&x) % 1000;
      blocks[i] = gcl_allocator_alloc(&am, sizes[i]);
      fill(blocks[i], sizes[i]);
    }
    uint64_t segs_before = stats().segments;
    pthread_t t[8];
    struct remote_job j[8];
    for (unsigned k = 0; k < nt; k++) {
      j[k] = (struct remote_job){blocks, sizes, REMOTE_BLOCKS * k / nt, REMOTE_BLOCKS * (k + 1) / nt, 0};
      cr_assert_eq(pthread_create(&t[k], NULL, remote_main, &j[k]), 0);
    }
    for (unsigned k = 0; k < nt; k++) pthread_join(t[k], NULL);
    for (unsigned k = 0; k < nt; k++) cr_assert_eq(j[k].bad, 0, "%u threads: corrupted blocks", nt);
    expect_remote += REMOTE_BLOCKS;
    cr_assert_eq(stats().remote_frees, expect_remote, "%u threads", nt);
    cr_assert_eq(gcl_segment_check(&am), 0);
    /* The owner collects them: the same amount again fits in the memory it had. */
    for (size_t i = 0; i < REMOTE_BLOCKS; i++) blocks[i] = gcl_allocator_alloc(&am, sizes[i]);
    cr_assert_leq(stats().segments, segs_before, "%u threads: remote frees were not reused", nt);
    for (size_t i = 0; i < REMOTE_BLOCKS; i++) gcl_allocator_free(&am, blocks[i], sizes[i]);
    cr_assert_eq(gcl_segment_check(&am), 0);
  }
  gcl_allocator_thread_detach(&am);
}

/* --- heap walk with the world stopped ------------------------------------------------- */

struct seen {
  struct gcl_ptrset set; /* blocks visited */
  size_t dups;           /* visited twice */
};

static void visit_stopped(void *mem, size_t bytes, void *ctx) {
  struct seen *s = ctx;
  (void)bytes;
  if (!gcl_ptrset_add(&s->set, mem)) s->dups++;
}

/* The walk visits exactly the n blocks of live[] (NULL entries are skipped). */
static void check_walk(void **live, size_t n) {
  struct seen s = {.dups = 0};
  gcl_ptrset_init(&s.set);
  gcl_allocator_walk(visit_stopped, &s);
  size_t expect = 0;
  for (size_t i = 0; i < n; i++)
    if (live[i]) {
      expect++;
      cr_assert(gcl_ptrset_contains(&s.set, live[i]), "live block %zu not visited", i);
    }
  cr_assert_eq(s.dups, 0);
  cr_assert_eq(s.set.count, expect, "visited %zu blocks, %zu are live", s.set.count, expect);
  gcl_ptrset_destroy(&s.set);
}

Test(segment, world_stopped_walk_exact_set, .timeout = 120) {
  enum { N = 20000 };
  static void *blocks[N];
  static size_t sizes[N];
  struct gcl_allocator_mutator am;
  gcl_allocator_init(&(struct gcl_init){1, NULL});
  gcl_allocator_thread_attach(&am);
  check_walk(blocks, N);
  uint64_t x = 88172645463325252ull;
  for (int round = 0; round < 4; round++) {
    for (size_t i = 0; i < N; i++) {
      uint64_t r = xorshift(&x);
      if (blocks[i] && r % 3 == 0) {
        /* a third of the frees are remote (am == NULL) and stay uncollected a while */
        gcl_allocator_free(r % 9 == 0 ? NULL : &am, blocks[i], sizes[i]);
        blocks[i] = NULL;
      } else if (!blocks[i] && r % 2 == 0) {
        sizes[i] = (r >> 8) % 100 == 0 ? 8193 + (r >> 16) % 20000 : (r >> 8) % 8193;
        blocks[i] = gcl_allocator_alloc(&am, sizes[i]);
      }
    }
    check_walk(blocks, N);
    cr_assert_eq(gcl_segment_check(&am), 0);
  }
  for (size_t i = 0; i < N; i++)
    if (blocks[i]) gcl_allocator_free(&am, blocks[i], sizes[i]), blocks[i] = NULL;
  check_walk(blocks, N);
  gcl_allocator_thread_detach(&am);
}

/* --- thread exit, abandon, reclaim --------------------------------------------------------- */

#define EXIT_BLOCKS 3000
static void *exit_blocks[EXIT_BLOCKS];
static size_t exit_sizes[EXIT_BLOCKS];

static void *exiting_main(void *arg) {
  (void)arg;
  struct gcl_allocator_mutator mine;
  gcl_allocator_thread_attach(&mine);
  uint64_t x = 777;
  for (size_t i = 0; i < EXIT_BLOCKS; i++) {
    exit_sizes[i] = 16 + xorshift(&x) % 2000;
    exit_blocks[i] = gcl_allocator_alloc(&mine, exit_sizes[i]);
    fill(exit_blocks[i], exit_sizes[i]);
  }
  gcl_allocator_thread_detach(&mine); /* exits with every block live */
  return NULL;
}

Test(segment, thread_exit_abandons_and_another_reclaims) {
  gcl_allocator_init(&(struct gcl_init){1, NULL});
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, exiting_main, NULL), 0);
  pthread_join(t, NULL);
  struct gcl_segment_stats s = stats();
  cr_assert_geq(s.abandoned, 1);
  cr_assert_eq(s.reclaimed, 0);
  check_walk(exit_blocks, EXIT_BLOCKS);
  /* A new thread needs a page: it takes the abandoned segment over. */
  struct gcl_allocator_mutator am;
  gcl_allocator_thread_attach(&am);
  void *p = gcl_allocator_alloc(&am, 4000);
  cr_assert_geq(stats().reclaimed, 1);
  cr_assert_eq(stats().segments, s.segments, "reclaimed instead of mapping a new segment");
  cr_assert_eq(gcl_segment_check(&am), 0);
  gcl_allocator_free(&am, p, 4000);
  check_walk(exit_blocks, EXIT_BLOCKS);
  for (size_t i = 0; i < EXIT_BLOCKS; i++) {
    cr_assert(intact(exit_blocks[i], exit_sizes[i]), "block %zu changed", i);
    gcl_allocator_free(i % 2 ? &am : NULL, exit_blocks[i], exit_sizes[i]);
    exit_blocks[i] = NULL;
  }
  check_walk(exit_blocks, EXIT_BLOCKS);
  cr_assert_eq(gcl_segment_check(&am), 0);
  gcl_allocator_thread_detach(&am);
  s = stats();
  cr_assert_eq(s.pages, 0);
  cr_assert_eq(s.segments, 0, "every segment is empty and released");
}

/* --- deferred frees by a non-mutator during a world-stopped walk (the liburcu race) -------- */

#define MARK 0xF3EEDF3EEDull /* what brc writes into the first word of a dead object */
#define RACE_BLOCKS 20000
static void *race_blocks[RACE_BLOCKS];

static int race_started; /* atomic */

static void spin(unsigned n) {
  for (volatile unsigned i = 0; i < n; i++) continue;
}

/* Frees spread over every page (a stride through the array) and paced, so that they land
 * while walks are reading and visiting those pages. */
static void *deferred_freer(void *arg) {
  (void)arg;
  __atomic_store_n(&race_started, 1, __ATOMIC_RELEASE);
  for (size_t i = 0; i < RACE_BLOCKS; i++) {
    gcl_allocator_free(NULL, race_blocks[i * 7919 % RACE_BLOCKS], 48);
    spin(2000);
  }
  __atomic_store_n(&race_started, 2, __ATOMIC_RELEASE);
  return NULL;
}

static void visit_race(void *mem, size_t bytes, void *ctx) {
  (void)bytes;
  size_t *bad = ctx;
  spin(50); /* a slow visitor widens the window between a page's read and its visits */
  if (*(uint64_t *)mem != MARK) ++*bad;
}

Test(segment, deferred_frees_never_change_what_a_walk_reads, .timeout = 120) {
  struct gcl_allocator_mutator am;
  gcl_allocator_init(&(struct gcl_init){1, NULL});
  gcl_allocator_thread_attach(&am);
  for (size_t i = 0; i < RACE_BLOCKS; i++) {
    race_blocks[i] = gcl_allocator_alloc(&am, 48);
    *(uint64_t *)race_blocks[i] = MARK; /* dead to the collector, not yet freed */
  }
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, deferred_freer, NULL), 0);
  size_t bad = 0;
  int walks = 0;
  while (!__atomic_load_n(&race_started, __ATOMIC_ACQUIRE)) sched_yield();
  while (__atomic_load_n(&race_started, __ATOMIC_ACQUIRE) == 1 || walks < 5) {
    gcl_allocator_walk(visit_race, &bad);
    walks++;
  }
  pthread_join(t, NULL);
  cr_log_info("%d world-stopped walks during the deferred frees", walks);
  cr_assert_eq(bad, 0, "%zu visited blocks had their first word overwritten", bad);
  void *none[1] = {NULL};
  check_walk(none, 1); /* all freed: the walk subtracts every thread_free stack */
  cr_assert_eq(stats().remote_frees, RACE_BLOCKS);
  cr_assert_eq(gcl_segment_check(&am), 0);
  gcl_allocator_thread_detach(&am);
}

/* --- concurrent walk ------------------------------------------------------------------------ */

#define CW_THREADS 3
#define CW_STABLE 2000
#define CW_STEPS 60000
#define CW_LOG (CW_STABLE + CW_STEPS)

struct cw_thread {
  void *stable[CW_STABLE];  /* allocated before the walks start, freed after they end */
  void *log[CW_LOG];        /* every address this thread was handed */
  size_t nlog;              /* entries in log */
  unsigned id;              /* seeds its generator */
};
static struct cw_thread cw[CW_THREADS];
static int cw_ready, cw_stop; /* atomics */

static void *cw_main(void *arg) {
  struct cw_thread *t = arg;
  struct gcl_allocator_mutator mine;
  gcl_allocator_thread_attach(&mine);
  for (size_t i = 0; i < CW_STABLE; i++) t->log[t->nlog++] = t->stable[i] = gcl_allocator_alloc(&mine, 16 + i % 700);
  __atomic_add_fetch(&cw_ready, 1, __ATOMIC_RELEASE);
  void *local[256] = {0};
  size_t sz[256];
  uint64_t x = 99 + t->id;
  /* Churn: allocate and free so that pages fill, empty, are decommitted and reused. */
  for (size_t s = 0; s < CW_STEPS && !__atomic_load_n(&cw_stop, __ATOMIC_ACQUIRE); s++) {
    uint64_t r = xorshift(&x);
    unsigned k = r % 256;
    if (local[k]) gcl_allocator_free(&mine, local[k], sz[k]);
    sz[k] = (r >> 8) % 50 == 0 ? 9000 : 16 + (r >> 16) % 3000;
    t->log[t->nlog++] = local[k] = gcl_allocator_alloc(&mine, sz[k]);
  }
  while (!__atomic_load_n(&cw_stop, __ATOMIC_ACQUIRE)) sched_yield();
  for (unsigned k = 0; k < 256; k++)
    if (local[k]) gcl_allocator_free(&mine, local[k], sz[k]);
  for (size_t i = 0; i < CW_STABLE; i++) gcl_allocator_free(&mine, t->stable[i], 16 + i % 700);
  gcl_allocator_thread_detach(&mine);
  return NULL;
}

struct cw_seen {
  struct gcl_ptrset set; /* this walk's blocks */
  size_t dups, bad_size; /* visited twice; size not a class size */
  void **all;            /* every address visited by any walk (checked after the join) */
  size_t nall, capall;   /* in use, allocated */
};

static bool cw_visit(void *page, void *mem, size_t bytes, void *ctx) {
  struct cw_seen *s = ctx;
  (void)page;
  if (!mem) return true; /* a page re-initialised during its visits: nothing to drop */
  if (!gcl_ptrset_add(&s->set, mem)) s->dups++;
  if (bytes <= GCL_SEGMENT_SMALL_MAX && bytes != gcl_segment_class_size(gcl_segment_class_of(bytes))) s->bad_size++;
  if (s->nall == s->capall) {
    s->capall = s->capall ? 2 * s->capall : 4096;
    s->all = realloc(s->all, s->capall * sizeof *s->all);
  }
  s->all[s->nall++] = mem;
  return true;
}

static bool stop_first(void *page, void *mem, size_t bytes, void *ctx) {
  (void)page, (void)mem, (void)bytes;
  ++*(size_t *)ctx;
  return false;
}

Test(segment, concurrent_walk_guarantee, .timeout = 300) {
  gcl_allocator_init(&(struct gcl_init){1, NULL});
  pthread_t t[CW_THREADS];
  for (unsigned k = 0; k < CW_THREADS; k++) {
    cw[k].id = k;
    cr_assert_eq(pthread_create(&t[k], NULL, cw_main, &cw[k]), 0);
  }
  while (__atomic_load_n(&cw_ready, __ATOMIC_ACQUIRE) < CW_THREADS) sched_yield();
  struct cw_seen s = {.dups = 0};
  int walks = 0;
  for (; walks < 30; walks++) {
    gcl_ptrset_init(&s.set);
    cr_assert_eq(gcl_segment_walk_concurrent(cw_visit, &s), 0);
    for (unsigned k = 0; k < CW_THREADS; k++)
      for (size_t i = 0; i < CW_STABLE; i++)
        cr_assert(gcl_ptrset_contains(&s.set, cw[k].stable[i]), "walk %d missed a stable block", walks);
    cr_assert_eq(s.dups, 0, "walk %d visited a block twice", walks);
    gcl_ptrset_destroy(&s.set);
  }
  __atomic_store_n(&cw_stop, 1, __ATOMIC_RELEASE);
  for (unsigned k = 0; k < CW_THREADS; k++) pthread_join(t[k], NULL);
  cr_assert_eq(s.bad_size, 0);
  /* Nothing that was never handed out was visited. */
  struct gcl_ptrset ever;
  gcl_ptrset_init(&ever);
  for (unsigned k = 0; k < CW_THREADS; k++)
    for (size_t i = 0; i < cw[k].nlog; i++) gcl_ptrset_add(&ever, cw[k].log[i]);
  for (size_t i = 0; i < s.nall; i++) cr_assert(gcl_ptrset_contains(&ever, s.all[i]), "visited a never-allocated address");
  gcl_ptrset_destroy(&ever);
  free(s.all);
  /* Stoppable: a visitor that returns false ends the walk. */
  struct gcl_allocator_mutator am;
  gcl_allocator_thread_attach(&am);
  void *p = gcl_allocator_alloc(&am, 32), *q = gcl_allocator_alloc(&am, 32);
  struct cw_seen one = {.dups = 0};
  gcl_ptrset_init(&one.set);
  cr_assert_eq(gcl_segment_walk_concurrent(cw_visit, &one), 0);
  cr_assert_eq(one.set.count, 2);
  gcl_ptrset_destroy(&one.set);
  free(one.all);
  size_t calls = 0;
  cr_assert_eq(gcl_segment_walk_concurrent(stop_first, &calls), 1);
  cr_assert_eq(calls, 1);
  gcl_allocator_free(&am, p, 32);
  gcl_allocator_free(&am, q, 32);
  gcl_allocator_thread_detach(&am);
}

/* Guarantee 5: a page that empties and is re-initialised for another class while the walk
 * visits it (the visitor holds the walk at the page's first visit while its owner frees
 * every block on it and allocates another class) is retracted: visit(page, NULL, 0).
 * The broken walk (version checked only before the visits) never makes that call. */
#define RV_N 1400 /* 48-byte blocks: more than one page (1365), so the first page empties
                   * while another stays its queue's page, and is retired */
static struct {
  void *blk[RV_N];  /* the owner's 48-byte blocks */
  void *page;       /* the page of blk[0] (the walk's page argument) */
  void *other[8];   /* 1000-byte blocks allocated once that page is retired */
  int stage;        /* atomic: 1 blocks ready, 2 visitor waits, 3 page re-used, 4 done */
  int retracted;    /* visit(page, NULL, 0) calls for rv.page */
} rv;

static void *rv_main(void *arg) {
  (void)arg;
  struct gcl_allocator_mutator am;
  gcl_allocator_thread_attach(&am);
  for (size_t i = 0; i < RV_N; i++) rv.blk[i] = gcl_allocator_alloc(&am, 48);
  rv.page = (void *)((uintptr_t)rv.blk[0] & ~(uintptr_t)(GCL_SEGMENT_PAGE_SIZE - 1));
  __atomic_store_n(&rv.stage, 1, __ATOMIC_RELEASE);
  while (__atomic_load_n(&rv.stage, __ATOMIC_ACQUIRE) != 2) sched_yield();
  for (size_t i = 0; i < RV_N; i++)
    if ((void *)((uintptr_t)rv.blk[i] & ~(uintptr_t)(GCL_SEGMENT_PAGE_SIZE - 1)) == rv.page) {
      gcl_allocator_free(&am, rv.blk[i], 48);
      rv.blk[i] = NULL;
    }
  for (unsigned k = 0; k < 8; k++) rv.other[k] = gcl_allocator_alloc(&am, 1000);
  __atomic_store_n(&rv.stage, 3, __ATOMIC_RELEASE);
  while (__atomic_load_n(&rv.stage, __ATOMIC_ACQUIRE) != 4) sched_yield();
  for (size_t i = 0; i < RV_N; i++)
    if (rv.blk[i]) gcl_allocator_free(&am, rv.blk[i], 48);
  for (unsigned k = 0; k < 8; k++) gcl_allocator_free(&am, rv.other[k], 1000);
  gcl_allocator_thread_detach(&am);
  return NULL;
}

static bool rv_visit(void *page, void *mem, size_t bytes, void *ctx) {
  (void)bytes, (void)ctx;
  if (page != rv.page) return true;
  if (!mem) {
    rv.retracted++;
    return true;
  }
  if (__atomic_load_n(&rv.stage, __ATOMIC_ACQUIRE) == 1) {
    __atomic_store_n(&rv.stage, 2, __ATOMIC_RELEASE);
    while (__atomic_load_n(&rv.stage, __ATOMIC_ACQUIRE) != 3) sched_yield();
  }
  return true;
}

Test(segment, concurrent_walk_retracts_a_page_reinitialised_during_its_visits, .timeout = 60) {
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, rv_main, NULL), 0);
  while (__atomic_load_n(&rv.stage, __ATOMIC_ACQUIRE) != 1) sched_yield();
  cr_assert_eq(gcl_segment_walk_concurrent(rv_visit, NULL), 0);
  int stage = __atomic_load_n(&rv.stage, __ATOMIC_ACQUIRE);
  __atomic_store_n(&rv.stage, 4, __ATOMIC_RELEASE);
  pthread_join(t, NULL);
  cr_assert_eq(stage, 3, "the walk never visited the first page");
  bool reused = false;
  for (unsigned k = 0; k < 8; k++)
    reused |= (void *)((uintptr_t)rv.other[k] & ~(uintptr_t)(GCL_SEGMENT_PAGE_SIZE - 1)) == rv.page;
  cr_assert(reused, "the emptied page was not re-initialised for the other class (test setup)");
  cr_assert_eq(rv.retracted, 1, "visits of a page re-initialised meanwhile were not retracted");
}

/* --- return of free pages to the OS ---------------------------------------------------------- */

Test(segment, empty_pages_are_decommitted_after_a_delay_and_reusable) {
  enum { SMALL = 64, PER_PAGE = GCL_SEGMENT_PAGE_SIZE / SMALL, PAGES = GCL_SEGMENT_DECOMMIT_DELAY + 30 };
  static void *b[PER_PAGE * PAGES];
  struct gcl_allocator_mutator am;
  gcl_allocator_init(&(struct gcl_init){1, NULL});
  gcl_segment_decommit_ms = 0; /* page events alone (the time half: test-segment-decommit.c) */
  gcl_allocator_thread_attach(&am);
  for (size_t i = 0; i < PER_PAGE * PAGES; i++) {
    b[i] = gcl_allocator_alloc(&am, SMALL);
    memset(b[i], 0x5A, SMALL);
  }
  void *keep = gcl_allocator_alloc(&am, 1024);
  struct gcl_segment_stats s0 = stats();
  cr_assert_eq(s0.decommitted_bytes, 0);
  /* The first block of each segment's first page stays: no segment is released whole.
   * (Pages are taken lowest first, 63 per segment.) */
  enum { KEEP_EVERY = (GCL_SEGMENT_PAGES - 1) * PER_PAGE };
  _Static_assert(PER_PAGE * PAGES > KEEP_EVERY && PER_PAGE * PAGES <= 2 * KEEP_EVERY, "two kept");
  for (size_t i = 0; i < PER_PAGE * PAGES; i++)
    if (i % KEEP_EVERY) gcl_allocator_free(&am, b[i], SMALL);
  cr_assert_eq(stats().decommitted_bytes, 0, "decommitted before the delay");
  /* Page events of another class move the clock past the delay: it reuses the newest
   * retired pages, and the older ones, once the delay has passed, are decommitted. */
  enum { BIG = 8192, BIGN = (GCL_SEGMENT_DECOMMIT_DELAY + 4) * (GCL_SEGMENT_PAGE_SIZE / BIG) };
  static void *c[BIGN];
  for (size_t i = 0; i < BIGN; i++) c[i] = gcl_allocator_alloc(&am, BIG);
  struct gcl_segment_stats s1 = stats();
  cr_assert_geq(s1.decommitted_bytes, (uint64_t)(PAGES - 2 - GCL_SEGMENT_DECOMMIT_DELAY - 4) * GCL_SEGMENT_PAGE_SIZE,
                "decommitted %llu bytes", (unsigned long long)s1.decommitted_bytes);
  cr_assert_lt(s1.committed, s0.committed + BIGN * BIG);
  cr_assert_eq(gcl_segment_check(&am), 0);
  /* The decommitted pages serve new blocks again: they read as zeros (the OS took the
   * 0x5A bytes back), and they fit in the segments we have. */
  enum { REUSE = (PAGES - 2 - GCL_SEGMENT_DECOMMIT_DELAY - 4) * PER_PAGE };
  static const unsigned char zero[SMALL];
  void *kept[2] = {b[0], b[KEEP_EVERY]};
  for (size_t i = 0; i < REUSE; i++) {
    b[i] = gcl_allocator_alloc(&am, SMALL);
    uintptr_t pg = (uintptr_t)b[i] >> GCL_SEGMENT_PAGE_SHIFT; /* the kept pages were never freed */
    if (pg != (uintptr_t)kept[0] >> GCL_SEGMENT_PAGE_SHIFT && pg != (uintptr_t)kept[1] >> GCL_SEGMENT_PAGE_SHIFT)
      cr_assert(memcmp(b[i], zero, 8) == 0 && memcmp((char *)b[i] + 16, zero, SMALL - 16) == 0,
                "block %zu of a decommitted page is not zero (bytes 8..15 hold a stale link)", i);
    fill(b[i], SMALL);
  }
  for (size_t i = 0; i < REUSE; i++) cr_assert(intact(b[i], SMALL));
  cr_assert_eq(stats().segments, s1.segments, "reused its own pages (%llu segments, were %llu)",
               (unsigned long long)stats().segments, (unsigned long long)s1.segments);
  for (size_t i = 0; i < REUSE; i++) gcl_allocator_free(&am, b[i], SMALL);
  for (int k = 0; k < 2; k++) gcl_allocator_free(&am, kept[k], SMALL);
  for (size_t i = 0; i < BIGN; i++) gcl_allocator_free(&am, c[i], BIG);
  gcl_allocator_free(&am, keep, 1024);
  cr_assert_eq(gcl_segment_check(&am), 0);
  gcl_allocator_thread_detach(&am);
  cr_assert_eq(stats().pages, 0);
}

/* --- NUMA: a thread bound inside one node gets its segments bound to that node ------------ */

Test(segment, segments_of_a_bound_thread_are_bound_to_its_node) {
  hwloc_topology_t topo;
  cr_assert_eq(hwloc_topology_init(&topo), 0);
  cr_assert_eq(hwloc_topology_load(topo), 0);
  hwloc_obj_t pu = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, 0);
  hwloc_obj_t node = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, NULL);
  while (node && !hwloc_bitmap_isincluded(pu->cpuset, node->cpuset))
    node = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, node);
  cr_assert_not_null(node);
  if (hwloc_set_cpubind(topo, pu->cpuset, HWLOC_CPUBIND_THREAD) != 0) cr_skip_test("cannot bind the CPU");
  struct gcl_allocator_mutator am;
  gcl_allocator_init(&(struct gcl_init){1, NULL});
  gcl_allocator_thread_attach(&am);
  void *p = gcl_allocator_alloc(&am, 100);
  cr_assert_eq(am.node, (int32_t)node->os_index);
  cr_assert(am.node_bind);
  struct gcl_segment_stats s = stats();
  cr_assert_eq(s.numa_nodes_mask, (uint64_t)1 << node->os_index);
  if (s.numa_bind_failures == 0) {
    hwloc_bitmap_t set = hwloc_bitmap_alloc();
    hwloc_membind_policy_t pol;
    cr_assert_eq(hwloc_get_area_membind(topo, gcl_segment_of(p), GCL_SEGMENT_SIZE, set, &pol, HWLOC_MEMBIND_BYNODESET), 0);
    cr_assert(hwloc_bitmap_isset(set, node->os_index) && hwloc_bitmap_weight(set) == 1, "segment not bound to node %u",
              node->os_index);
    cr_assert_eq(pol, HWLOC_MEMBIND_BIND);
    hwloc_bitmap_free(set);
  }
  gcl_allocator_free(&am, p, 100);
  gcl_allocator_thread_detach(&am);
  hwloc_topology_destroy(topo);
}

#else /* GCL_SEGMENT_COUNT_OPS: the counting test */

/* --- locks and atomic RMWs grow with pages and remote frees, not with objects ------------ */

#define OPS_LIVE 32768 /* objects live at once per thread: ~40 pages over 8 classes */

struct ops_job {
  size_t objects;       /* allocations to make (and free) */
  size_t live;          /* allocated at once */
  struct gcl_segment_ops ops; /* what this thread counted */
  uint64_t pages;       /* its page events */
};

static void *ops_main(void *arg) {
  struct ops_job *j = arg;
  static _Thread_local void *held[OPS_LIVE];
  struct gcl_allocator_mutator mine;
  gcl_allocator_thread_attach(&mine);
  gcl_segment_ops = (struct gcl_segment_ops){0, 0};
  uint64_t x = 5;
  for (size_t n = 0; n < j->objects; n++) {
    size_t k = n % j->live;
    if (held[k]) gcl_allocator_free(&mine, held[k], 32 + (k % 8) * 16);
    held[k] = gcl_allocator_alloc(&mine, 32 + (k % 8) * 16);
    if (xorshift(&x) % 50000 == 0) { /* drop them all: pages empty and are retaken */
      for (size_t i = 0; i < j->live; i++)
        if (held[i]) gcl_allocator_free(&mine, held[i], 32 + (i % 8) * 16), held[i] = NULL;
    }
  }
  for (size_t i = 0; i < j->live; i++)
    if (held[i]) gcl_allocator_free(&mine, held[i], 32 + (i % 8) * 16), held[i] = NULL;
  j->pages = mine.page_events;
  j->ops = gcl_segment_ops;
  gcl_allocator_thread_detach(&mine);
  return NULL;
}

static uint64_t run_private(size_t objects, uint64_t *pages) {
  pthread_t t[2];
  struct ops_job j[2] = {{objects, OPS_LIVE, {0, 0}, 0}, {objects, OPS_LIVE, {0, 0}, 0}};
  for (int k = 0; k < 2; k++) cr_assert_eq(pthread_create(&t[k], NULL, ops_main, &j[k]), 0);
  for (int k = 0; k < 2; k++) pthread_join(t[k], NULL);
  *pages = j[0].pages + j[1].pages;
  return j[0].ops.locks + j[0].ops.rmws + j[1].ops.locks + j[1].ops.rmws;
}

Test(segment_ops, thread_private_runs_count_per_page_not_per_object, .timeout = 120) {
  gcl_allocator_init(&(struct gcl_init){1, NULL});
  uint64_t pages1, pages4;
  uint64_t ops1 = run_private(200000, &pages1);
  uint64_t ops4 = run_private(800000, &pages4);
  cr_log_info("200k objects x2: %llu ops, %llu page events; 800k x2: %llu ops, %llu page events",
              (unsigned long long)ops1, (unsigned long long)pages1, (unsigned long long)ops4,
              (unsigned long long)pages4);
  /* A lock or RMW per allocation or free would give >= 2 x 400k ops at the small size. */
  cr_assert_lt(ops1, 2 * 200000 / 100, "%llu ops for 400k allocations", (unsigned long long)ops1);
  cr_assert_lt(ops4, 2 * 800000 / 100, "%llu ops for 1.6M allocations", (unsigned long long)ops4);
  /* Bounded by a constant per page event (flush, page and committed counters, madvise). */
  cr_assert_leq(ops1, 16 * pages1 + 64);
  cr_assert_leq(ops4, 16 * pages4 + 64);
}

/* Remote frees: each costs a bounded number of RMWs (its CAS, the owner's collection). */
#define OPS_REMOTE 50000
static void *ops_blocks[OPS_REMOTE];
static struct gcl_segment_ops remote_ops;

static void *remote_freer(void *arg) {
  (void)arg;
  struct gcl_allocator_mutator mine;
  gcl_allocator_thread_attach(&mine);
  gcl_segment_ops = (struct gcl_segment_ops){0, 0};
  for (size_t i = 0; i < OPS_REMOTE; i++) gcl_allocator_free(&mine, ops_blocks[i], 32);
  remote_ops = gcl_segment_ops;
  gcl_allocator_thread_detach(&mine);
  return NULL;
}

Test(segment_ops, remote_frees_cost_a_bounded_number_of_rmws, .timeout = 120) {
  struct gcl_allocator_mutator am;
  gcl_allocator_init(&(struct gcl_init){1, NULL});
  gcl_allocator_thread_attach(&am);
  for (size_t i = 0; i < OPS_REMOTE; i++) ops_blocks[i] = gcl_allocator_alloc(&am, 32);
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, remote_freer, NULL), 0);
  pthread_join(t, NULL);
  uint64_t freer = remote_ops.locks + remote_ops.rmws;
  cr_assert_geq(freer, OPS_REMOTE, "each remote free is at least one CAS");
  cr_assert_leq(freer, 2 * OPS_REMOTE + 64, "%llu ops for %d remote frees", (unsigned long long)freer, OPS_REMOTE);
  gcl_segment_ops = (struct gcl_segment_ops){0, 0};
  uint64_t pages0 = am.page_events;
  for (size_t i = 0; i < OPS_REMOTE; i++) ops_blocks[i] = gcl_allocator_alloc(&am, 32);
  uint64_t owner = gcl_segment_ops.locks + gcl_segment_ops.rmws;
  uint64_t pages = am.page_events - pages0 + (OPS_REMOTE * 32) / GCL_SEGMENT_PAGE_SIZE + 1;
  cr_assert_leq(owner, 16 * pages + 64, "owner: %llu ops collecting %d remote frees",
                (unsigned long long)owner, OPS_REMOTE);
  for (size_t i = 0; i < OPS_REMOTE; i++) gcl_allocator_free(&am, ops_blocks[i], 32);
  gcl_allocator_thread_detach(&am);
}

#endif
