/* SPDX-License-Identifier: MIT */
/* tests/unit/test-workload.c — the workload helpers of core/workload.h: gcl_run_threads
 * hands every thread its index and the caller's argument, gcl_workload_fail keeps the first
 * failure only, gcl_barrier_wait never stalls a stop-the-world (also run under TSan). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "workload.h"

static void setup(void) { cr_assert_eq(gcl_heap_init(), 0); }

static const struct gcl_workload fake = {.name = "fake"}; /* names the failure messages */

/* --- gcl_run_threads ------------------------------------------------------------------- */

struct seen {
  unsigned mask; /* bit i: thread i ran */
};

static uint64_t mark_index(struct gcl_mutator *m, struct gcl_workload_ctx *ctx, unsigned index,
                           void *arg) {
  (void)m;
  (void)ctx;
  struct seen *s = arg;
  __atomic_fetch_or(&s->mask, 1u << index, __ATOMIC_SEQ_CST);
  return (uint64_t)index + 1;
}

Test(workload, run_threads_passes_index_and_arg, .init = setup, .timeout = 60) {
  struct gcl_workload_ctx ctx = {.workload = &fake, .threads = 4};
  struct seen s = {0};
  cr_assert_eq(gcl_run_threads(&ctx, mark_index, &s), 1 + 2 + 3 + 4, "the sum of the results");
  cr_assert_eq(s.mask, 0xFu, "every index once, each with the caller's arg");
}

/* --- gcl_workload_fail ----------------------------------------------------------------- */

Test(workload, fail_keeps_the_first_message) {
  struct gcl_workload_ctx ctx = {.workload = &fake};
  gcl_workload_fail(&ctx, "object %u: %s", 7u, "bad");
  gcl_workload_fail(&ctx, "second %d", 2);
  cr_assert(ctx.wrong);
  cr_assert_str_eq(ctx.why, "fake: object 7: bad");
}

Test(workload, fail_cuts_a_long_message) {
  struct gcl_workload_ctx ctx = {.workload = &fake};
  char big[400];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  gcl_workload_fail(&ctx, "%s", big);
  cr_assert(ctx.wrong);
  cr_assert_eq(strlen(ctx.why), sizeof ctx.why - 1);
  cr_assert_eq(strncmp(ctx.why, "fake: xxx", 9), 0);
}

static uint64_t fail_racing(struct gcl_mutator *m, struct gcl_workload_ctx *ctx, unsigned index,
                            void *arg) {
  (void)m;
  (void)arg;
  gcl_workload_fail(ctx, "thread %u", index);
  return 0;
}

Test(workload, fail_from_many_threads_keeps_one_whole_message, .init = setup, .timeout = 60) {
  struct gcl_workload_ctx ctx = {.workload = &fake, .threads = 4};
  gcl_run_threads(&ctx, fail_racing, NULL);
  cr_assert(ctx.wrong);
  unsigned t = 99;
  cr_assert_eq(sscanf(ctx.why, "fake: thread %u", &t), 1, "why = '%s'", ctx.why);
  cr_assert_lt(t, 4u);
}

/* --- gcl_barrier_wait -------------------------------------------------------------------- */

/* Thread 1 passes the first barrier and at once waits at the second; thread 0 stops and
 * restarts the world in between. Were thread 1 attached while it waits, the stop would
 * wait for it forever (the test's timeout fails it). */
static uint64_t stop_between_barriers(struct gcl_mutator *m, struct gcl_workload_ctx *ctx,
                                      unsigned index, void *arg) {
  (void)ctx;
  pthread_barrier_t *b = arg;
  gcl_barrier_wait(m, b);
  if (index == 0) {
    gcl_stop_the_world(m);
    gcl_start_the_world(m);
  }
  gcl_barrier_wait(m, b);
  return 1;
}

Test(workload, barrier_wait_never_stalls_a_stop, .init = setup, .timeout = 60) {
  struct gcl_workload_ctx ctx = {.workload = &fake, .threads = 2};
  pthread_barrier_t b;
  pthread_barrier_init(&b, NULL, 2);
  for (int round = 0; round < 50; round++) cr_assert_eq(gcl_run_threads(&ctx, stop_between_barriers, &b), 2);
  pthread_barrier_destroy(&b);
}
