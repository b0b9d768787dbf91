/* SPDX-License-Identifier: MIT */
/* tests/unit/test-brc-stress.c — every registered workload under brc with 1..8 threads
 * (oversubscribed on a 2-core machine), against the brc x pool verify library: each run
 * (a forked child with a fresh heap) must finish ok, the reachability oracle must find no
 * error, nothing may be left live after the final collection, and no collection may find a
 * broken BRC invariant. Also built under ASan and TSan (labels stress, threads).
 *
 * Parameters are tiny (like the conformance suite's) so that 8 threads x every workload
 * stays within a few seconds normally and a few minutes under TSan; a workload without a
 * row runs its defaults at the smallest scale. Variants stress the BRC-specific paths:
 * handoff with one-slot queues (every release cross-thread, every wait a park), shared-reads
 * all shared and write-heavy, with and without deferred reference counting. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collector.h"
#include "stats.h"
#include "verify.h"
#include "workload.h"

#define MAX_THREADS 8

struct variant {
  const char *workload; /* registry name */
  struct {
    const char *name; /* parameter */
    double value;     /* its value */
  } params[6];
  double scale; /* work multiplier */
};

static const struct variant variants[] = {
    {"binary-trees", {{"depth", 6}}, 1},
    {"binary-trees-malloc", {{"depth", 6}}, 1},
    {"churn", {{"live", 500}, {"steps", 10000}}, 1},
    {"cycles", {{"rounds", 400}, {"ring_max", 16}, {"list_len", 16}, {"keep", 4}}, 1},
    {"pyheap", {{"snapshot", 2}, {"rounds", 4}, {"churn", 0.5}}, 1},
    {"handoff", {{"messages", 300}, {"width", 4}, {"queue_cap", 4}}, 1},
    {"handoff", {{"messages", 300}, {"width", 2}, {"queue_cap", 1}}, 1},
    {"shared-reads", {{"ops", 3000}, {"shared_objects", 32}, {"private_objects", 32}, {"write_pct", 20}}, 1},
    {"shared-reads",
     {{"ops", 3000}, {"shared_objects", 8}, {"private_objects", 8}, {"write_pct", 50}, {"shared_pct", 100},
      {"deferred", 1}},
     1},
    {"pyobjects", {{"live", 200}, {"steps", 3000}}, 1},
    {"gcbench", {{"stretch_depth", 8}, {"long_lived_depth", 6}, {"array_size", 1000}, {"min_depth", 4},
                 {"max_depth", 6}}, 1},
    {"lru", {{"entries", 64}, {"rate", 500000}, {"duration", 0.001}, {"value_bytes", 16}, {"garbage", 2}}, 1},
};
#define NVARIANTS (sizeof variants / sizeof variants[0])

static bool has_param(const struct gcl_workload *w, const char *name) {
  for (unsigned i = 0; i < w->nparams; i++)
    if (strcmp(w->params[i].name, name) == 0) return true;
  return false;
}

/* One run, in the (forked) caller; exits 0 when every check passed, 1 otherwise. */
static void run_case(const struct gcl_workload *w, const struct variant *v, unsigned threads) {
  struct gcl_workload_ctx ctx = {.workload = w, .scale = v ? v->scale : 0.0001, .seed = 1,
                                 .threads = threads, .cyclic_garbage = -1};
  for (unsigned i = 0; i < w->nparams; i++) ctx.params[i] = w->params[i].def;
  for (unsigned j = 0; v && j < 6 && v->params[j].name; j++)
    for (unsigned i = 0; i < w->nparams; i++)
      if (strcmp(w->params[i].name, v->params[j].name) == 0) ctx.params[i] = v->params[j].value;
  if (gcl_heap_init() != 0) exit(1);
  int rc = w->run(&ctx);
  gcl_heap_finish();
  struct gcl_verify_result vr;
  gcl_verify_heap(&vr);
  struct gcl_heap_stats hs;
  gcl_stats_snapshot(&hs); /* interned (immortal) objects stay live by design */
  struct gcl_brc_stats bs;
  gcl_brc_get_stats(&bs);
  int bad = 0;
#define FAIL_IF(cond, ...) \
  if (cond) fprintf(stderr, "%s x%u: ", w->name, threads), fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), bad = 1
  FAIL_IF(rc != 0, "run() returned %d", rc);
  FAIL_IF(ctx.wrong, "self-check failed: %s", ctx.why);
  FAIL_IF(vr.errors != 0, "oracle: %s", gcl_verify_first_error());
  FAIL_IF(vr.reachable != 0, "%llu objects reachable at the end", (unsigned long long)vr.reachable);
  FAIL_IF(!w->bypasses_heap && vr.live != hs.objects_immortal, "%llu objects live at the end, %llu immortal",
          (unsigned long long)vr.live, (unsigned long long)hs.objects_immortal);
  FAIL_IF(bs.invariant_failures != 0, "%llu broken BRC invariants", (unsigned long long)bs.invariant_failures);
  exit(bad);
}

/* Fork one child per thread count; returns how many failed. */
static int run_all_threads(const struct gcl_workload *w, const struct variant *v) {
  int failed = 0;
  for (unsigned t = 1; t <= MAX_THREADS; t++) {
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0, "fork failed");
    if (pid == 0) run_case(w, v, t);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "FAILED: %s x%u (%s %d)\n", w->name, t,
              WIFSIGNALED(status) ? "signal" : "status",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
      failed++;
    }
  }
  return failed;
}

Test(brc_stress, every_workload_with_1_to_8_threads, .timeout = 1500) {
  int failed = 0, ran = 0;
  for (const struct gcl_workload *const *w = gcl_workloads; *w; w++) {
    bool found = false;
    for (size_t i = 0; i < NVARIANTS; i++) {
      if (strcmp(variants[i].workload, (*w)->name) != 0) continue;
      bool usable = true;
      for (unsigned j = 0; j < 6 && variants[i].params[j].name; j++)
        usable = usable && has_param(*w, variants[i].params[j].name);
      cr_assert(usable, "variant %zu of %s names a parameter the workload lacks", i, (*w)->name);
      failed += run_all_threads(*w, &variants[i]);
      found = true;
      ran++;
    }
    if (!found) {
      fprintf(stderr, "note: %s has no tiny variant here; running its defaults at scale 0.0001\n", (*w)->name);
      failed += run_all_threads(*w, NULL);
      ran++;
    }
  }
  cr_assert_gt(ran, 0);
  cr_assert_eq(failed, 0, "%d runs failed (see stderr)", failed);
}
