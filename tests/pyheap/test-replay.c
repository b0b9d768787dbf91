/* SPDX-License-Identifier: MIT */
/* tests/pyheap/test-replay.c — the pyheap workload replays a snapshot faithfully:
 * compiled against a GCL_VERIFY=1 pair library, so the reachability oracle checks the heap
 * at every round's checkpoint. On the hand-written tiny snapshot the counts are known
 * exactly: 12 of its 15 objects are reachable from its 4 roots (objects 12..14 are
 * garbage and are not rebuilt), 6 of them tracked. A bad GCLAB_PYHEAP file ends the run
 * with exit status 2 and one line on stderr.
 *
 * Macros (tests/pyheap/CMakeLists.txt): GCL_PYHEAP_DIR, the workloads/pyheap folder. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collector.h"
#include "garbage.h"
#include "pause.h"
#include "stats.h"
#include "verify.h"
#include "workload.h"

#define TINY_REACHABLE 12 /* objects of tiny-synthetic.pyheap reachable from a root */

static const struct gcl_figure *figure(const struct gcl_workload_ctx *ctx, const char *key) {
  for (unsigned i = 0; i < GCL_MAX_FIGURES; i++)
    if (ctx->figures[i].set && strcmp(ctx->figures[i].key, key) == 0) return &ctx->figures[i];
  return NULL;
}

/* Run pyheap on the tiny snapshot; returns the context, heap statistics in *hs. */
static struct gcl_workload_ctx run_tiny(double rounds, double churn, unsigned threads,
                                        struct gcl_heap_stats *hs, struct gcl_verify_result *vr) {
  const struct gcl_workload *w = gcl_workload_find("pyheap");
  cr_assert_not_null(w, "pyheap is not in the workload registry");
  struct gcl_workload_ctx ctx = {.workload = w, .scale = 1, .seed = 1, .threads = threads, .cyclic_garbage = -1};
  for (unsigned i = 0; i < w->nparams; i++) ctx.params[i] = w->params[i].def;
  for (unsigned i = 0; i < w->nparams; i++) {
    if (strcmp(w->params[i].name, "snapshot") == 0) ctx.params[i] = 2;
    if (strcmp(w->params[i].name, "rounds") == 0) ctx.params[i] = rounds;
    if (strcmp(w->params[i].name, "churn") == 0) ctx.params[i] = churn;
  }
  unsetenv("GCLAB_PYHEAP");
  cr_assert_eq(gcl_heap_init(), 0);
  cr_assert_eq(w->run(&ctx), 0);
  gcl_heap_finish();
  gcl_verify_heap(vr);
  gcl_stats_snapshot(hs);
  return ctx;
}

static void check_common(const struct gcl_workload_ctx *ctx, const struct gcl_heap_stats *hs,
                         const struct gcl_verify_result *vr) {
  cr_expect(!ctx->wrong, "self-check failed: %s", ctx->why);
  cr_expect_eq(vr->errors, 0, "the oracle found errors: %s", gcl_verify_first_error());
  cr_expect_eq(vr->reachable, 0);
  cr_assert_geq(ctx->cyclic_garbage, 0, "cyclic_garbage not set");
  /* The rounds' leaked copies were stamped as cyclic garbage (core/garbage.h); the
   * teardown's are not: no more than cyclic_garbage, none without churn. */
  struct gcl_garbage_figures g;
  gcl_garbage_window(0, gcl_now_ns(), &g);
  cr_expect_leq(g.made, (uint64_t)ctx->cyclic_garbage, "stamped %llu, cyclic_garbage %lld",
                (unsigned long long)g.made, (long long)ctx->cyclic_garbage);
  uint64_t want_live = gcl_collects_cycles() ? 0 : (uint64_t)ctx->cyclic_garbage;
  cr_expect_eq(vr->live, want_live, "%llu objects live, expected %llu", (unsigned long long)vr->live,
               (unsigned long long)want_live);
  cr_expect_eq(hs->objects_allocated - hs->objects_freed, vr->live);
  const struct gcl_figure *f = figure(ctx, "tracked");
  cr_assert_not_null(f);
  cr_expect_eq(f->value, 8);
  f = figure(ctx, "cpython_full_ns_per_tracked");
  cr_assert_not_null(f);
  cr_expect_float_eq(f->value, 250, 1e-9); /* 2 us / 8 tracked */
  f = figure(ctx, "gc_full_ns_per_tracked");
  if (gcl_collects_cycles())
    cr_expect(f && f->value >= 0, "a cycle collector's figure is missing");
  else
    cr_expect_null(f, "gc_full_ns_per_tracked written for a collector that does not collect");
}

Test(replay, without_churn_rebuilds_exactly_the_reachable_graph) {
  struct gcl_heap_stats hs;
  struct gcl_verify_result vr;
  struct gcl_workload_ctx ctx = run_tiny(3, 0, 1, &hs, &vr);
  check_common(&ctx, &hs, &vr);
  cr_expect_eq(hs.objects_allocated, TINY_REACHABLE + 1, "the copies and the root table");
  /* Object 0 and the function 5 reference each other, and 0 reaches every other
   * reachable object but the int root 4: pure RC leaks 11 copies and frees one. */
  cr_expect_eq(ctx.cyclic_garbage, 11);
  struct gcl_garbage_figures g;
  gcl_garbage_window(0, gcl_now_ns(), &g);
  /* No round made garbage; the teardown's 11 are stamped when the table is released (a
   * thread that finishes first must stamp them: another thread's collection may free
   * them before the window ends), so the stamped total is ctx->cyclic_garbage. */
  cr_expect_eq(g.made, 11, "stamped %llu, expected the teardown's 11", (unsigned long long)g.made);
}

Test(replay, with_churn_counts_the_leak_exactly) {
  struct gcl_heap_stats hs;
  struct gcl_verify_result vr;
  struct gcl_workload_ctx ctx = run_tiny(20, 0.5, 1, &hs, &vr);
  check_common(&ctx, &hs, &vr);
  cr_expect_gt(hs.objects_allocated, 2 * TINY_REACHABLE, "churn rebuilt nothing");
  /* Stamped: everything pure RC leaked, the rounds' and the teardown's 11 (the live
   * graph's part, stamped when the table is released). */
  struct gcl_garbage_figures g;
  gcl_garbage_window(0, gcl_now_ns(), &g);
  cr_expect_eq(g.made, (uint64_t)ctx.cyclic_garbage, "stamped %llu of %lld", (unsigned long long)g.made,
               (long long)ctx.cyclic_garbage);
}

Test(replay, two_threads_replay_their_own_copies) {
  struct gcl_heap_stats hs;
  struct gcl_verify_result vr;
  char why[200];
  if (gcl_collector_check_threads(2, why, sizeof why) != 0) cr_skip_test("%s", why);
  struct gcl_workload_ctx ctx = run_tiny(10, 0.3, 2, &hs, &vr);
  check_common(&ctx, &hs, &vr);
}

Test(replay, a_bad_snapshot_file_exits_2_with_one_line) {
  char path[] = "/tmp/gclab-pyheap-bad-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, "pyheap 1\npython 3.11\n", 21), 21);
  close(fd);
  char errpath[] = "/tmp/gclab-pyheap-err-XXXXXX";
  int efd = mkstemp(errpath);
  cr_assert_geq(efd, 0);
  fflush(NULL);
  pid_t pid = fork();
  cr_assert_geq(pid, 0);
  if (pid == 0) {
    dup2(efd, 2);
    setenv("GCLAB_PYHEAP", path, 1);
    const struct gcl_workload *w = gcl_workload_find("pyheap");
    struct gcl_workload_ctx ctx = {.workload = w, .scale = 1, .seed = 1, .threads = 1, .cyclic_garbage = -1};
    for (unsigned i = 0; i < w->nparams; i++) /* snapshot=-1: GCLAB_PYHEAP's file */
      ctx.params[i] = strcmp(w->params[i].name, "snapshot") == 0 ? -1 : w->params[i].def;
    if (gcl_heap_init() != 0) _exit(3);
    w->run(&ctx);
    _exit(0); /* not reached: the run must exit 2 */
  }
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 2, "status %d, expected exit 2", st);
  char msg[1024] = {0};
  ssize_t n = pread(efd, msg, sizeof msg - 1, 0);
  cr_assert_gt(n, 0, "nothing on stderr");
  cr_expect(strstr(msg, "bad snapshot (from GCLAB_PYHEAP)") && strstr(msg, path) &&
                strstr(msg, "truncated"),
            "stderr: %s", msg);
  /* One line of ours; a sanitizer build may add its own "==pid==" lines at exit. */
  unsigned ours = 0;
  for (char *line = msg; *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : line + strlen(line))
    ours += strncmp(line, "==", 2) != 0 && *line != '\n';
  cr_expect_eq(ours, 1, "not exactly one line: %s", msg);
  close(efd);
  unlink(errpath);
  unlink(path);
}
