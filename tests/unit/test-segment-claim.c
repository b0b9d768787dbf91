/* SPDX-License-Identifier: MIT */
/* tests/unit/test-segment-claim.c — segment's capability heap-walk-own (core/allocator.h,
 * allocators/segment/segment-walk.c): page claims and the owner's walk of its own pages,
 * what cmark's sweep assists rest on (collectors/cmark/cmark-sweep.c).
 *  - The claim race: 1..8 threads run the concurrent walk claiming each page at its first
 *    visit (as cmark's sweeper does) while the owner claims and walks its own pages (as a
 *    sweep assist does) and another thread remote-frees some blocks: every page is won
 *    by one thread, so every block that was not freed is visited exactly once in all, and
 *    nothing else is visited.
 *  - A page claimed for an epoch, then emptied and re-initialised for another class, stays
 *    claimed for that epoch (the owner's walk skips it) and is claimable for the next.
 * Criterion runs every test in its own process (an empty allocator each time). No macros
 * change this file; it runs under TSan and ASan as the other unit tests. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#include "allocator.h"

#define NBLK 40000 /* blocks the owner allocates (sizes 32..256: a few MiB, many pages) */
#define EPOCH 7u   /* the claim epoch of the race */

static void *blk[NBLK];     /* the owner's blocks */
static size_t blk_size[NBLK]; /* their request sizes */
static int freed[NBLK];     /* atomic: remote-freed by the freer thread */

/* What one claimer saw: the blocks of the pages it won. */
struct seen {
  void **a;     /* visited block addresses */
  size_t n, cap; /* count, capacity */
  void *page;   /* the page of the last visit */
  bool won;     /* this claimer won that page */
};

static void seen_push(struct seen *s, void *p) {
  if (s->n == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 4096;
    s->a = realloc(s->a, s->cap * sizeof *s->a);
    cr_assert_not_null(s->a);
  }
  s->a[s->n++] = p;
}

/* The sweeper's side: claim at the first visit of each page, keep the visits of the pages
 * won (a retraction drops that page's visits, as cmark's sweep does). */
static bool claim_visit(void *page, void *mem, size_t bytes, void *ctx) {
  (void)bytes;
  struct seen *s = ctx;
  if (page != s->page) {
    s->page = page;
    s->won = gcl_allocator_page_claim(page, EPOCH);
  }
  if (s->won && mem) seen_push(s, mem);
  return true;
}

static void *claimer_main(void *arg) {
  struct seen *s = arg;
  cr_assert_geq(gcl_allocator_walk_concurrent(claim_visit, s), 0);
  return NULL;
}

static void own_visit(void *mem, size_t bytes, void *ctx) {
  (void)bytes;
  seen_push(ctx, mem);
}

/* Remote-frees every third block while the walks run (a free by no owner: a push). */
static void *freer_main(void *arg) {
  (void)arg;
  for (size_t i = 0; i < NBLK; i += 3) {
    __atomic_store_n(&freed[i], 1, __ATOMIC_RELEASE);
    gcl_allocator_free(NULL, blk[i], blk_size[i]);
  }
  return NULL;
}

static int cmp_ptr(const void *a, const void *b) {
  uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
  return x < y ? -1 : x > y;
}

/* One race with `walkers` sweeper-side threads; the caller is the owner. */
static void race(struct gcl_allocator_mutator *am, unsigned walkers) {
  struct seen own = {0}, sw[8] = {{0}};
  struct gcl_allocator_own_cursor cur = {NULL, 0};
  pthread_t t[8], fr;
  /* The owner takes its first page before the others start (so both sides win pages
   * whatever the scheduler does), then races them for the rest. */
  cr_assert_eq(gcl_allocator_walk_own(am, EPOCH, 1, &cur, own_visit, &own), 1);
  cr_assert_eq(pthread_create(&fr, NULL, freer_main, NULL), 0);
  for (unsigned k = 0; k < walkers; k++) cr_assert_eq(pthread_create(&t[k], NULL, claimer_main, &sw[k]), 0);
  /* The owner's side, one page at a time as an assist increment claims them. */
  while (gcl_allocator_walk_own(am, EPOCH, 1, &cur, own_visit, &own) > 0) sched_yield();
  for (unsigned k = 0; k < walkers; k++) pthread_join(t[k], NULL);
  pthread_join(fr, NULL);
  size_t total = own.n;
  for (unsigned k = 0; k < walkers; k++) total += sw[k].n;
  void **all = malloc((total + 1) * sizeof *all);
  size_t n = 0;
  for (size_t i = 0; i < own.n; i++) all[n++] = own.a[i];
  for (unsigned k = 0; k < walkers; k++)
    for (size_t i = 0; i < sw[k].n; i++) all[n++] = sw[k].a[i];
  qsort(all, n, sizeof *all, cmp_ptr);
  for (size_t i = 1; i < n; i++) cr_assert_neq(all[i], all[i - 1], "block %p visited twice (%u walkers)", all[i], walkers);
  /* Every block not freed was visited; every visited block is one of ours. */
  size_t live = 0;
  for (size_t i = 0; i < NBLK; i++) {
    bool hit = bsearch(&blk[i], all, n, sizeof *all, cmp_ptr) != NULL;
    if (!freed[i]) {
      live++;
      cr_assert(hit, "live block %zu (%p) never visited (%u walkers)", i, blk[i], walkers);
    }
  }
  cr_assert_geq(n, live);
  void **mine = malloc(NBLK * sizeof *mine);
  for (size_t i = 0; i < NBLK; i++) mine[i] = blk[i];
  qsort(mine, NBLK, sizeof *mine, cmp_ptr);
  for (size_t i = 0; i < n; i++)
    cr_assert_not_null(bsearch(&all[i], mine, NBLK, sizeof *mine, cmp_ptr), "%p visited, never allocated", all[i]);
  free(mine);
  free(all);
  free(own.a);
  for (unsigned k = 0; k < walkers; k++) free(sw[k].a);
}

static void claim_race(unsigned walkers) {
  gcl_allocator_init(&(struct gcl_init){walkers + 2, NULL});
  struct gcl_allocator_mutator am;
  gcl_allocator_thread_attach(&am);
  for (size_t i = 0; i < NBLK; i++) {
    blk_size[i] = 32 + 16 * (i % 15);
    blk[i] = gcl_allocator_alloc(&am, blk_size[i]);
    cr_assert_not_null(blk[i]);
  }
  race(&am, walkers);
  struct gcl_allocator_own_cursor fresh = {NULL, 0};
  cr_assert_eq(gcl_allocator_walk_own(&am, EPOCH, 1000, &fresh, own_visit, NULL), 0, "a page left unclaimed");
  gcl_allocator_thread_detach(&am);
}

Test(claim, one_winner_per_page_1_walker, .timeout = 120) { claim_race(1); }
Test(claim, one_winner_per_page_2_walkers, .timeout = 120) { claim_race(2); }
Test(claim, one_winner_per_page_4_walkers, .timeout = 120) { claim_race(4); }
Test(claim, one_winner_per_page_8_walkers, .timeout = 120) { claim_race(8); }

static void count_visit(void *mem, size_t bytes, void *ctx) {
  (void)mem, (void)bytes;
  ++*(size_t *)ctx;
}

/* A page claimed for epoch E (as by the sweeper), emptied and re-initialised for another
 * class by its owner while E's sweep still runs: the owner's walk for E skips it (its new
 * blocks were allocated during that sweep, black), the walk for E+1 claims it. */
Test(claim, a_page_reinitialised_after_its_claim_stays_claimed, .timeout = 60) {
  gcl_allocator_init(&(struct gcl_init){1, NULL});
  struct gcl_allocator_mutator am;
  gcl_allocator_thread_attach(&am);
  enum { N = 2000 }; /* 48-byte blocks: more than one page */
  static void *b[N];
  for (size_t i = 0; i < N; i++) b[i] = gcl_allocator_alloc(&am, 48);
  void *page = (void *)((uintptr_t)b[0] & ~(uintptr_t)(GCL_SEGMENT_PAGE_SIZE - 1));
  size_t all = 0;
  struct gcl_allocator_own_cursor cur = {NULL, 0};
  cr_assert(gcl_allocator_page_claim(page, EPOCH), "the first claim of a page lost");
  cr_assert(!gcl_allocator_page_claim(page, EPOCH), "a page claimed twice for one epoch");
  while (gcl_allocator_walk_own(&am, EPOCH, 1, &cur, count_visit, &all) > 0) {
  }
  size_t on_page = 0;
  for (size_t i = 0; i < N; i++)
    if ((void *)((uintptr_t)b[i] & ~(uintptr_t)(GCL_SEGMENT_PAGE_SIZE - 1)) == page) {
      gcl_allocator_free(&am, b[i], 48);
      b[i] = NULL;
      on_page++;
    }
  cr_assert_eq(all, N - on_page, "the owner's walk visited the page claimed before it");
  void *other[8];
  bool reused = false;
  for (unsigned k = 0; k < 8; k++) {
    other[k] = gcl_allocator_alloc(&am, 1000);
    reused |= (void *)((uintptr_t)other[k] & ~(uintptr_t)(GCL_SEGMENT_PAGE_SIZE - 1)) == page;
  }
  cr_assert(reused, "the emptied page was not re-initialised for the other class (test setup)");
  size_t again = 0;
  /* Only pages initialised after the walk above can be claimed for EPOCH now: not `page`
   * (a new cursor: the thread allocated since the last call). */
  cur = (struct gcl_allocator_own_cursor){NULL, 0};
  while (gcl_allocator_walk_own(&am, EPOCH, 1, &cur, count_visit, &again) > 0) {
  }
  cr_assert(!gcl_allocator_page_claim(page, EPOCH), "the re-initialised page lost its claim");
  size_t next = 0;
  cur = (struct gcl_allocator_own_cursor){NULL, 0};
  while (gcl_allocator_walk_own(&am, EPOCH + 1, 3, &cur, count_visit, &next) > 0) {
  }
  cr_assert_eq(next, N - on_page + 8, "the next epoch's walk missed blocks (%zu)", next);
  for (unsigned k = 0; k < 8; k++) gcl_allocator_free(&am, other[k], 1000);
  for (size_t i = 0; i < N; i++)
    if (b[i]) gcl_allocator_free(&am, b[i], 48);
  gcl_allocator_thread_detach(&am);
}
