/* SPDX-License-Identifier: MIT */
/* tests/unit/test-segment-decommit.c — when the segment allocator returns free pages to the
 * OS (allocators/segment/segment.c, decommit_expired): a free page is decommitted only once
 * it waited both GCL_SEGMENT_DECOMMIT_DELAY page events and the option decommit_ms. The
 * page-event half alone is tested in test-segment.c (decommit_ms 0 there).
 *
 * The pattern is binary-trees' (issue 8): a large structure is freed and the next one,
 * built at once, takes its pages back; more than GCL_SEGMENT_DECOMMIT_DELAY page events
 * pass during the rebuild. With page events as the only clock the oldest retired pages
 * (LIFO reuse takes the newest) were decommitted just before being reused, and refaulted.
 * Deterministic: the delays are set to "never" (1 hour) and "none" (0 ms) in turn; the
 * third test sleeps past a short delay, so nothing depends on how fast the test runs.
 * Criterion runs each test in its own process (a fresh allocator). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "allocator.h"

enum {
  SMALL = 64,                                  /* one size class throughout */
  PER_PAGE = GCL_SEGMENT_PAGE_SIZE / SMALL,    /* blocks of a page */
  PAGES = 2 * GCL_SEGMENT_DECOMMIT_DELAY + 20, /* pages of one "tree": > 2 delays of events */
  N = PER_PAGE * PAGES                         /* blocks of one tree */
};
static void *blocks[N]; /* the current tree */

static struct gcl_segment_stats stats(void) {
  struct gcl_segment_stats s;
  gcl_segment_stats_get(&s);
  return s;
}

/* Build a tree of N blocks, each written (so its memory is touched), or free it. The
 * first block stays (a pinned page), so the heap never becomes empty. */
static void build(struct gcl_allocator_mutator *am) {
  for (size_t i = 1; i < N; i++) {
    blocks[i] = gcl_allocator_alloc(am, SMALL);
    cr_assert_not_null(blocks[i]);
    memset(blocks[i], 0x5A, SMALL);
  }
}
static void drop(struct gcl_allocator_mutator *am) {
  for (size_t i = 1; i < N; i++) gcl_allocator_free(am, blocks[i], SMALL);
}

static void begin(struct gcl_allocator_mutator *am, uint32_t decommit_ms) {
  gcl_allocator_init(&(struct gcl_init){1, NULL});
  cr_assert_eq(gcl_segment_decommit_ms, GCL_SEGMENT_DECOMMIT_MS, "the default without options");
  gcl_segment_decommit_ms = decommit_ms;
  gcl_allocator_thread_attach(am);
  blocks[0] = gcl_allocator_alloc(am, SMALL);
}

static void end(struct gcl_allocator_mutator *am) {
  drop(am);
  gcl_allocator_free(am, blocks[0], SMALL);
  cr_assert_eq(gcl_segment_check(am), 0);
  gcl_allocator_thread_detach(am);
  cr_assert_eq(stats().pages, 0);
}

Test(segment_decommit, pages_reused_within_the_delay_stay_committed) {
  struct gcl_allocator_mutator am;
  begin(&am, 3600000);
  build(&am);
  uint64_t segs = stats().segments;
  /* Loop invariant: every page freed so far was reused before an hour passed. */
  for (int round = 0; round < 3; round++) {
    drop(&am);
    cr_assert_eq(stats().segments, segs, "a segment emptied by the drop is kept for reuse");
    build(&am);
    cr_assert_eq(stats().decommitted_bytes, 0, "round %d: a page was decommitted before reuse", round);
    cr_assert_eq(stats().segments, segs, "round %d: the rebuild took a new segment", round);
  }
  end(&am);
}

Test(segment_decommit, page_events_alone_decommit_pages_during_their_reuse) {
  /* The contrast (the behaviour before issue 8's fix): no time delay, so the oldest
   * retired pages expire while the rebuild takes the newest. */
  struct gcl_allocator_mutator am;
  begin(&am, 0);
  build(&am);
  drop(&am);
  build(&am);
  uint64_t d = stats().decommitted_bytes;
  cr_assert_geq(d, (uint64_t)(PAGES - 2 * GCL_SEGMENT_DECOMMIT_DELAY - 2) * GCL_SEGMENT_PAGE_SIZE,
                "decommitted %llu bytes", (unsigned long long)d);
  end(&am);
}

Test(segment_decommit, pages_are_decommitted_once_both_delays_passed) {
  struct gcl_allocator_mutator am;
  begin(&am, 20);
  build(&am);
  drop(&am);
  cr_assert_eq(stats().decommitted_bytes, 0, "no page event yet");
  nanosleep(&(struct timespec){0, 60 * 1000 * 1000}, NULL); /* 60 ms > 20 ms + the coarse clock's tick */
  /* Page events of another class: each takes a retired page (the newest); once the
   * events' delay passed too, the oldest retired pages are decommitted, and the segment
   * count does not grow. */
  enum { BIG = 8192, BIGN = (GCL_SEGMENT_DECOMMIT_DELAY + 4) * (GCL_SEGMENT_PAGE_SIZE / BIG) };
  static void *c[BIGN];
  uint64_t segs = stats().segments;
  for (size_t i = 0; i < BIGN; i++) c[i] = gcl_allocator_alloc(&am, BIG);
  uint64_t d = stats().decommitted_bytes;
  cr_assert_geq(d, (uint64_t)(PAGES - 2 - GCL_SEGMENT_DECOMMIT_DELAY - 4) * GCL_SEGMENT_PAGE_SIZE,
                "decommitted %llu bytes", (unsigned long long)d);
  cr_assert_leq(stats().segments, segs);
  cr_assert_eq(gcl_segment_check(&am), 0);
  for (size_t i = 0; i < BIGN; i++) gcl_allocator_free(&am, c[i], BIG);
  build(&am); /* decommitted pages serve blocks again */
  end(&am);
}
