/* SPDX-License-Identifier: MIT */
/* tests/unit/test-cmark.c — collector cmark (collectors/cmark) on a GCL_VERIFY=1 library,
 * so core's oracle and cmark's termination check watch every cycle:
 *  - barrier: the classic lost-object race, scripted step by step (the marker has shaded
 *    the roots; the mutator moves an object's only reference from an unscanned object into
 *    a scanned root; the marker then scans the object): with the SATB barrier the object is
 *    marked, and with the barrier disabled (marking without switching it on) it is lost —
 *    the second test proves the first can fail;
 *  - weak references read NULL once their referent was collected, their callback runs once;
 *    a finalizer runs once (PEP 442), its object and what it reaches survive that cycle,
 *    and a later cycle frees them; a finalizer run inside a stw collection (concurrent
 *    mode's fallback) that asks for a collection and paces itself returns;
 *  - a heap limit: a live set that does not fit ends with the oom handler; one that fits
 *    runs many cycles;
 *  - stress: tiny heaps (a cycle every ~100 KB), 1, 2, 4 and 8 threads mutating private
 *    graphs with random stores and random gcl_collect calls, checking their own sums;
 *  - every registered workload at a small scale on a tiny heap (cycles mid-run).
 * Concurrent mode's pacing and sweep tests are test-cmark-pace.c; the helpers both use
 * are cmark-test.h. */
#include <criterion/criterion.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pause.h"
#include "verify.h"
#include "weakref.h"
#include "workload.h"

#include "cmark-test.h"

/* --- the lost-object race -------------------------------------------------------------- */

/* Returns whether the moved object was marked. */
static bool lost_object_race(bool barrier) {
  init_cmark(1, 4 << 20, 0);
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_set_auto_collect(m, false);
  struct gcl_object *a = new_cell(m, 1), *r = NULL;
  GCL_FRAME(m, f, &a, &r);
  struct gcl_object *b = new_cell(m, 2);
  gcl_store(m, a, &CELL(a)->ref, b);
  b = NULL;
  gcl_store(m, a, &CELL(a)->ref, gcl_load(m, a, &CELL(a)->ref)); /* outside marking */
  cr_assert_eq(m->satb.slow_calls, 0, "the barrier's slow path ran while not marking");

  cmark_mark_begin(barrier);
  cmark_shade(a);                      /* the roots are shaded: a is grey, r was NULL */
  r = gcl_load(m, a, &CELL(a)->ref);   /* the only reference moves into a scanned root */
  gcl_store(m, a, &CELL(a)->ref, NULL); /* ... and leaves a, which is not scanned yet */
  if (barrier) gcl_satb_flush(m);      /* what the termination handshake does */
  cmark_mark_drain();
  bool marked = cmark_is_marked(r);
  cmark_mark_end();
  if (barrier) cr_assert_eq(m->satb.entries, 1, "SATB entries %llu, want 1", (unsigned long long)m->satb.entries);
  GCL_FRAME_POP(m, f);
  gcl_thread_detach(m);
  return marked;
}

Test(barrier, satb_keeps_the_moved_object_marked) {
  cr_assert(lost_object_race(true), "with the SATB barrier the moved object was not marked");
}

Test(barrier, without_the_barrier_the_moved_object_is_lost) {
  cr_assert(!lost_object_race(false), "without the barrier the race did not lose the object: "
                                      "the barrier test could not fail");
}

#if CMARK_TEST_CONCURRENT
/* The same race on the real concurrent path: a cycle runs on cmark's threads; between
 * its root scan and its marking (the test hook) this mutator moves the only reference to
 * b from a (shaded, not yet scanned) into a root slot that was already scanned. */
static int race_stage; /* 0 waiting for the hook, 1 hook waits for the move, 2 moved */

static void race_hook(void) {
  __atomic_store_n(&race_stage, 1, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(&race_stage, __ATOMIC_SEQ_CST) != 2) sched_yield();
}

static void concurrent_race(bool barrier) {
  init_cmark(1, 4 << 20, 0);
  cmark_conc_test_no_barrier = !barrier;
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_set_auto_collect(m, false);
  struct gcl_object *a = new_cell(m, 1), *r = NULL;
  GCL_FRAME(m, f, &a, &r);
  struct gcl_object *b = new_cell(m, 2);
  gcl_store(m, a, &CELL(a)->ref, b);
  b = NULL;
  cmark_conc_test_after_roots = race_hook;
  cmark_conc_request(m, false);
  /* Serve the cycle's handshakes until its root scan is done. */
  while (__atomic_load_n(&race_stage, __ATOMIC_SEQ_CST) != 1) {
    gcl_safepoint(m);
    sched_yield();
  }
  r = gcl_load(m, a, &CELL(a)->ref);
  gcl_store(m, a, &CELL(a)->ref, NULL);
  cmark_conc_test_after_roots = NULL;
  __atomic_store_n(&race_stage, 2, __ATOMIC_SEQ_CST);
  gcl_collect(m, -1); /* waits for a cycle after this one: the first has completed */
  cr_assert(cmark_is_marked(r), "the moved object is not marked by the last cycle");
  cr_assert_eq(CELL(r)->val, 2, "the moved object was freed and reused");
  GCL_FRAME_POP(m, f);
  gcl_thread_detach(m);
  gcl_heap_finish();
  cr_assert_eq(gcl_verify_errors(), 0, "verifier: %s", gcl_verify_first_error());
}

Test(barrier, concurrent_satb_keeps_the_moved_object, .timeout = 60) { concurrent_race(true); }

/* The race on a global root (gcl_global_root_store's deletion barrier): between the
 * threads' root scan and the global roots' (the test hook), this mutator moves the only
 * reference to an object from a global root, not yet scanned, into a root frame slot
 * that was already scanned. */
static struct gcl_object *groot; /* a global root */

static void global_race(bool barrier) {
  init_cmark(1, 4 << 20, 0);
  cmark_conc_test_no_barrier = !barrier;
  race_stage = 0;
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_set_auto_collect(m, false);
  gcl_global_root_add(&groot);
  gcl_global_root_store(m, &groot, new_cell(m, 3));
  struct gcl_object *r = NULL;
  GCL_FRAME(m, f, &r);
  cmark_conc_test_before_globals = race_hook;
  cmark_conc_request(m, false);
  while (__atomic_load_n(&race_stage, __ATOMIC_SEQ_CST) != 1) { /* serve the handshakes */
    gcl_safepoint(m);
    sched_yield();
  }
  r = __atomic_load_n(&groot, __ATOMIC_ACQUIRE);
  gcl_global_root_store(m, &groot, NULL);
  cmark_conc_test_before_globals = NULL;
  __atomic_store_n(&race_stage, 2, __ATOMIC_SEQ_CST);
  gcl_collect(m, -1); /* waits for a cycle after this one: the first has completed */
  cr_assert(cmark_is_marked(r), "the moved object is not marked by the last cycle");
  cr_assert_eq(CELL(r)->val, 3, "the moved object was freed and reused");
  GCL_FRAME_POP(m, f);
  gcl_global_root_remove(&groot);
  gcl_thread_detach(m);
  gcl_heap_finish();
  cr_assert_eq(gcl_verify_errors(), 0, "verifier: %s", gcl_verify_first_error());
}

Test(barrier, concurrent_global_root_store_keeps_the_moved_object, .timeout = 60) { global_race(true); }

/* Without the barrier the global-root race loses the object and the remark's verifier
 * aborts on it: the test above could fail. */
Test(barrier, concurrent_global_root_without_the_barrier_the_object_is_lost, .timeout = 60) {
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    global_race(false);
    _exit(0);
  }
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
            "without the barrier the global-root race did not lose the object (status %d)", st);
}

/* Without the barrier the remark's verifier finds the reachable, unmarked object and
 * aborts: the test above could fail. */
Test(barrier, concurrent_without_the_barrier_the_object_is_lost, .timeout = 60) {
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    concurrent_race(false);
    _exit(0);
  }
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
            "without the barrier the concurrent race did not lose the object (status %d)", st);
}
#endif

/* --- weak references and finalizers ---------------------------------------------------- */

static int callbacks, finalized;
static struct gcl_object *saved; /* a global root the finalizer resurrects into */

static void on_clear(struct gcl_mutator *m, struct gcl_weakref *w, void *ctx) {
  (void)m, (void)w, (void)ctx;
  callbacks++;
}

static void fin(struct gcl_mutator *m, struct gcl_object *o) {
  finalized++;
  struct gcl_object *child = gcl_load(m, o, &CELL(o)->ref);
  cr_assert(child && CELL(child)->val == 77, "what a resurrected object reaches was not kept");
  gcl_global_root_store(m, &saved, o); /* resurrect */
}

static const struct gcl_type fin_type = {
    .name = "cmark-fin", .size = sizeof(struct cell), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct cell, ref), .nrefs = 1, .finalize = fin};

Test(cycle, weak_references_are_cleared_and_finalizers_run_once) {
  init_cmark(1, 4 << 20, 0);
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_global_root_add(&saved);
  struct gcl_object *o = new_cell(m, 5);
  struct gcl_weakref *w = gcl_weakref_new(m, o, on_clear, NULL);
  o = NULL;
  struct gcl_object *f = gcl_new(m, &fin_type), *c = new_cell(m, 77);
  gcl_store(m, f, &CELL(f)->ref, c);
  f = c = NULL;
  uint64_t live0 = gcl_verify_live();
  gcl_collect(m, -1);
  cr_assert_null(gcl_weakref_get(m, w), "a weak reference to a collected object reads non-NULL");
  cr_assert_eq(callbacks, 1);
  cr_assert_eq(finalized, 1);
  cr_assert_not_null(saved, "the finalizer did not run or did not resurrect");
  cr_assert_eq(gcl_verify_live(), live0 - 1, "only the weakly referenced cell should have died");
  gcl_global_root_store(m, &saved, NULL);
  gcl_collect(m, -1);
  cr_assert_eq(finalized, 1, "a finalizer ran twice");
  cr_assert_eq(gcl_verify_live(), live0 - 3, "the resurrected pair was not freed by the next cycle");
  gcl_weakref_free(m, w);
  gcl_global_root_remove(&saved);
  gcl_thread_detach(m);
  gcl_heap_finish();
  cr_assert_eq(gcl_verify_errors(), 0, "verifier: %s", gcl_verify_first_error());
}

/* A finalizer run by a stw collection (in concurrent mode: the pacing's last-resort
 * fallback, cmark_conc_pace -> cmark_collect(m, true), which holds gc_lock through the
 * finalizers) asks for a collection and paces itself: both must return, not wait for a
 * concurrent cycle that needs gc_lock (the broken build hangs here until the timeout). */
static int nested_finalized;

static void fin_collects(struct gcl_mutator *m, struct gcl_object *o) {
  (void)o;
  nested_finalized++;
  gcl_collect(m, -1);
  if (CMARK_TEST_CONCURRENT) cmark_conc_pace(m);
}

static const struct gcl_type fin_collects_type = {
    .name = "cmark-fin-collects", .size = sizeof(struct cell), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct cell, ref), .nrefs = 1, .finalize = fin_collects};

Test(cycle, a_finalizer_collecting_inside_a_stw_collection_returns, .timeout = 30) {
  init_cmark(1, 4 << 20, 0);
  struct gcl_mutator *m = gcl_thread_attach();
  (void)gcl_new(m, &fin_collects_type); /* garbage at once: no root holds it */
  cr_assert(cmark_collect(m, true), "the stw collection did not run");
  cr_assert_eq(nested_finalized, 1, "the finalizer did not run in that collection");
  gcl_collect(m, -1); /* the finalized object is freed; the collector still works */
  cr_assert_eq(nested_finalized, 1, "a finalizer ran twice");
  gcl_thread_detach(m);
  gcl_heap_finish();
  cr_assert_eq(gcl_verify_errors(), 0, "verifier: %s", gcl_verify_first_error());
}

/* --- the heap limit -------------------------------------------------------------------- */

Test(limit, a_live_set_over_the_limit_is_oom) {
  pid_t pid = fork(); /* the oom handler ends its process, as the runner's does */
  cr_assert(pid >= 0);
  if (pid == 0) {
    init_cmark(1, 64 << 10, 256 << 10);
    gcl_oom_handler = oom_exit;
    struct gcl_mutator *m = gcl_thread_attach();
    list_run(m, 20000, 20000); /* ~800 KB live: past a 256 KB limit */
    _exit(0);
  }
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 3, "20000 live cells fitted in 256 KB (status %d)", st);
}

Test(limit, a_live_set_under_the_limit_runs_many_cycles) {
  init_cmark(1, 64 << 10, 1 << 20);
  gcl_oom_handler = oom_exit;
  struct gcl_mutator *m = gcl_thread_attach();
  list_run(m, 1000, 200000); /* ~40 KB live, 8 MB allocated */
  gcl_thread_detach(m);
  uint64_t cycles = __atomic_load_n(&gcl_cmark.fig.cycles, __ATOMIC_RELAXED); /* cmark's threads may still run */
  cr_assert_gt(cycles, 4, "only %llu cycles", (unsigned long long)cycles);
}

/* --- stress: tiny heaps, 1..8 threads, random stores and collections ---------------------- */

#define STRESS_SLOTS 16
#define STRESS_STEPS 6000

/* xorshift64: each thread's own random numbers. */
static uint64_t rnd(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* Sum of the vals along the chain from o (each chain is short: it is cut at 8). */
static uint64_t chain_sum(struct gcl_mutator *m, struct gcl_object *o) {
  uint64_t s = 0;
  for (int k = 0; o && k < 8; k++, o = gcl_load(m, o, &CELL(o)->ref)) s += CELL(o)->val;
  return s;
}

static uint64_t stress_body(struct gcl_mutator *m, struct gcl_workload_ctx *ctx, unsigned index, void *arg) {
  (void)arg;
  struct gcl_object *s[STRESS_SLOTS] = {0}, *n = NULL;
  uint64_t want[STRESS_SLOTS] = {0}; /* each slot's chain sum, kept by hand */
  unsigned len[STRESS_SLOTS] = {0};   /* and its length (at most 8) */
  GCL_FRAME(m, f, &s[0], &s[1], &s[2], &s[3], &s[4], &s[5], &s[6], &s[7], &s[8], &s[9], &s[10],
            &s[11], &s[12], &s[13], &s[14], &s[15], &n);
  uint64_t seed = 0x9e3779b97f4a7c15ull * (index + 1);
  int bad = 0;
  /* Loop invariant: chain_sum(s[i]) == want[i] and len[i] <= 8 for every slot. */
  for (unsigned step = 0; step < STRESS_STEPS && !bad; step++) {
    unsigned i = (unsigned)(rnd(&seed) % STRESS_SLOTS), j = (unsigned)(rnd(&seed) % STRESS_SLOTS);
    switch (rnd(&seed) % 4) {
    case 0: /* push a new cell on slot i's chain if it stays short */
      n = new_cell(m, rnd(&seed) % 1000);
      if (s[i] && len[i] < 8) {
        gcl_store(m, n, &CELL(n)->ref, s[i]);
        want[i] += CELL(n)->val;
        len[i]++;
      } else {
        want[i] = CELL(n)->val;
        len[i] = 1;
      }
      s[i] = n;
      n = NULL;
      break;
    case 1: /* drop a chain */
      s[i] = NULL;
      want[i] = 0;
      len[i] = 0;
      break;
    case 2: /* share: slot i takes slot j's chain */
      s[i] = s[j];
      want[i] = want[j];
      len[i] = len[j];
      break;
    default: /* garbage, and now and then an explicit collection */
      for (int k = 0; k < 8; k++) n = new_cell(m, 0);
      n = NULL;
      if (rnd(&seed) % 200 == 0) gcl_collect(m, -1);
      break;
    }
    if (chain_sum(m, s[i]) != want[i]) bad = 1;
    gcl_safepoint(m);
  }
  for (unsigned i = 0; i < STRESS_SLOTS; i++) s[i] = NULL;
  GCL_FRAME_POP(m, f);
  if (bad) gcl_workload_fail(ctx, "thread %u: a chain's sum changed (an object lost or reused)", index);
  return 0;
}

/* limit: 0, or a heap limit (concurrent mode: the pacing, mark and sweep assists run). */
static void stress_run(unsigned nthreads, uint64_t limit) {
  const unsigned *threads = &nthreads;
  init_cmark(*threads, 64 << 10, limit);
  gcl_oom_handler = oom_exit;
  struct gcl_workload_ctx ctx = {.threads = *threads};
  gcl_run_threads(&ctx, stress_body, NULL);
  gcl_heap_finish();
  cr_assert(!ctx.wrong, "%s", ctx.why);
  cr_assert_eq(gcl_verify_errors(), 0, "verifier: %s", gcl_verify_first_error());
  cr_assert_gt(gcl_cmark.fig.cycles, 3, "only %llu cycles (%u threads)", (unsigned long long)gcl_cmark.fig.cycles, *threads);
  cr_assert_eq(gcl_verify_live(), 0, "%llu objects live after the final cycle", (unsigned long long)gcl_verify_live());
}

Test(stress, tiny_heap_1_thread, .timeout = 120) { stress_run(1, 0); }
Test(stress, tiny_heap_2_threads, .timeout = 120) { stress_run(2, 0); }
Test(stress, tiny_heap_4_threads, .timeout = 120) { stress_run(4, 0); }
Test(stress, tiny_heap_8_threads, .timeout = 120) { stress_run(8, 0); }
/* The same under a 1 MB heap limit (live: ~5 KB a thread; a cycle every ~0.75 MB): in
 * concurrent mode mutators past the limit assist marking and sweep their own pages
 * (cmark-pace.c, cmark-sweep.c) while other threads store, drop and collect. */
Test(stress, tiny_heap_under_a_limit_1_thread, .timeout = 120) { stress_run(1, 1 << 20); }
Test(stress, tiny_heap_under_a_limit_2_threads, .timeout = 120) { stress_run(2, 1 << 20); }
Test(stress, tiny_heap_under_a_limit_4_threads, .timeout = 120) { stress_run(4, 1 << 20); }
Test(stress, tiny_heap_under_a_limit_8_threads, .timeout = 120) { stress_run(8, 1 << 20); }

/* --- every workload on a tiny heap ------------------------------------------------------ */

static void workload_run(unsigned k) {
  unsigned n = 0;
  while (gcl_workloads[n]) n++;
  if (k >= n) cr_skip_test("the registry has %u workloads", n);
  const struct gcl_workload *wl = gcl_workloads[k];
  init_cmark(2, 64 << 10, 0);
  struct gcl_workload_ctx ctx = {.workload = wl, .scale = 0.002, .seed = 1, .threads = 2, .cyclic_garbage = -1};
  /* Defaults, with the live set cut down (a cycle every ~64 KB marks all of it). */
  for (unsigned i = 0; i < wl->nparams; i++) {
    ctx.params[i] = wl->params[i].def;
    if (strcmp(wl->params[i].name, "depth") == 0) ctx.params[i] = 12;
    if (strcmp(wl->params[i].name, "live") == 0) ctx.params[i] = 5000;
    if (strcmp(wl->params[i].name, "snapshot") == 0) ctx.params[i] = 2;
    /* gcbench, lru and pyobjects: the conformance suite's tiny sizes */
    static const struct { const char *name; double v; } tiny[] = {
        {"stretch_depth", 8}, {"long_lived_depth", 6}, {"array_size", 1000}, {"max_depth", 6},
        {"entries", 64}, {"rate", 500000}, {"duration", 0.01}, {"steps", 3000}};
    for (unsigned j = 0; j < sizeof tiny / sizeof tiny[0]; j++)
      if (strcmp(wl->params[i].name, tiny[j].name) == 0) ctx.params[i] = tiny[j].v, ctx.scale = 1;
  }
  int rc = wl->run(&ctx);
  gcl_heap_finish();
  cr_assert_eq(rc, 0, "%s: run() returned %d", wl->name, rc);
  cr_assert(!ctx.wrong, "%s: %s", wl->name, ctx.why);
  cr_assert_eq(gcl_verify_errors(), 0, "%s: verifier: %s", wl->name, gcl_verify_first_error());
  cr_assert_eq(gcl_verify_live(), 0, "%s: objects live after the final cycle", wl->name);
  /* Concurrent mode: a trigger asks thread 0 for a cycle without waiting, and a short
   * workload may end before it starts; the request itself is the mid-run check there. */
  if (!wl->bypasses_heap && CMARK_TEST_CONCURRENT)
    cr_assert_gt(gcl_cmark_conc.requested, 1, "%s: no cycle asked for mid-run", wl->name);
  else if (!wl->bypasses_heap)
    cr_assert_gt(gcl_cmark.fig.cycles, 1, "%s: no cycle mid-run", wl->name);
}

/* One test per registry slot (the TSan shim has no parameterized tests); slots past the
 * registry's end skip. More than 12 workloads need more lines here: the last one fails. */
Test(workloads, tiny_heap_0, .timeout = 120) { workload_run(0); }
Test(workloads, tiny_heap_1, .timeout = 120) { workload_run(1); }
Test(workloads, tiny_heap_2, .timeout = 120) { workload_run(2); }
Test(workloads, tiny_heap_3, .timeout = 120) { workload_run(3); }
Test(workloads, tiny_heap_4, .timeout = 120) { workload_run(4); }
Test(workloads, tiny_heap_5, .timeout = 120) { workload_run(5); }
Test(workloads, tiny_heap_6, .timeout = 120) { workload_run(6); }
Test(workloads, tiny_heap_7, .timeout = 120) { workload_run(7); }
Test(workloads, tiny_heap_8, .timeout = 120) { workload_run(8); }
Test(workloads, tiny_heap_9, .timeout = 120) { workload_run(9); }
Test(workloads, tiny_heap_10, .timeout = 120) { workload_run(10); }
Test(workloads, tiny_heap_11, .timeout = 120) { workload_run(11); }
Test(workloads, registry_fits, .timeout = 10) {
  unsigned n = 0;
  while (gcl_workloads[n]) n++;
  cr_assert_leq(n, 12, "%u workloads: add tiny_heap_N tests to tests/unit/test-cmark.c", n);
}
