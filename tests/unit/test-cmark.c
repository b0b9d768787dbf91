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
 *  - every registered workload at a small scale on a tiny heap (cycles mid-run). */
#include <criterion/criterion.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../collectors/cmark/cmark-internal.h"
#include "collector.h"
#include "pause.h"
#include "typed-option.h"
#include "verify.h"
#include "weakref.h"
#include "workload.h"

struct cell {
  struct gcl_object header; /* common header */
  struct gcl_object *ref;   /* another cell or NULL */
  uint64_t val;             /* payload */
};
#define CELL(o) ((struct cell *)(o))

static const struct gcl_type cell_type = {
    .name = "cmark-cell", .size = sizeof(struct cell), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct cell, ref), .nrefs = 1};

/* The cmark options by name (declaration order of collectors/cmark/cmark.c). */
enum { O_MODE, O_MARKERS, O_TRIGGER, O_LIMIT, O_GROW, O_MIN_HEAP, O_SWEEP_CHUNK };
static int64_t test_sweep_chunk; /* cmark.sweep_chunk for the next init_cmark (0: default) */

/* CMARK_TEST_CONCURRENT=1 (unit/cmark-concurrent, on segment): every test in
 * cmark.mode=concurrent with 2 markers, plus the concurrent lost-object race below. */
#ifndef CMARK_TEST_CONCURRENT
#define CMARK_TEST_CONCURRENT 0
#endif

static void init_cmark(unsigned threads, uint64_t min_heap, uint64_t limit) {
  static union gcl_opt_value v[GCL_MODULE_MAX_OPTS];
  gcl_module_defaults(&gcl_collector_module, v);
  if (CMARK_TEST_CONCURRENT) {
    v[O_MODE].e = CMARK_MODE_CONCURRENT;
    v[O_MARKERS].i = 2;
  }
  v[O_MIN_HEAP].u = min_heap;
  v[O_GROW].d = 1.1;
  v[O_LIMIT].u = limit;
  if (test_sweep_chunk) v[O_SWEEP_CHUNK].i = test_sweep_chunk;
  struct gcl_heap_config cfg = {.threads = threads, .collector_opts = v};
  cr_assert_eq(gcl_heap_init_with(&cfg), 0);
}

static struct gcl_object *new_cell(struct gcl_mutator *m, uint64_t val) {
  struct gcl_object *o = gcl_new(m, &cell_type);
  CELL(o)->val = val;
  return o;
}

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

static void oom_exit(int64_t live, int64_t limit) {
  (void)live, (void)limit;
  _exit(3);
}

/* Keep `keep` cells live in a list while allocating `total` cells. */
static void list_run(struct gcl_mutator *m, unsigned keep, unsigned total) {
  struct gcl_object *head = NULL, *n = NULL;
  GCL_FRAME(m, f, &head, &n);
  for (unsigned i = 0; i < total; i++) {
    n = new_cell(m, i);
    if (i % (total / keep) == 0) {
      gcl_store(m, n, &CELL(n)->ref, head);
      head = n;
    }
    gcl_safepoint(m);
  }
  GCL_FRAME_POP(m, f);
}

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

#if CMARK_TEST_CONCURRENT
/* Pacing (cmark-pace.c): a mutator allocating while a cycle marks under a limit assists;
 * every assist and paced wait is a pause of its kind, in the histogram and the log (and
 * so in mmu_*), and the figures agree with the log. */
struct node {
  struct gcl_object header;  /* common header */
  struct gcl_object *kid[2]; /* children or NULL */
};

static const struct gcl_type node_type = {
    .name = "cmark-node", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, kid), .nrefs = 2};

/* A complete binary tree of `depth` levels, built bottom-up (every node rooted meanwhile). */
static struct gcl_object *tree(struct gcl_mutator *m, int depth) {
  struct gcl_object *l = NULL, *r = NULL, *n = NULL;
  GCL_FRAME(m, f, &l, &r, &n);
  if (depth > 1) {
    l = tree(m, depth - 1);
    r = tree(m, depth - 1);
  }
  n = gcl_new(m, &node_type);
  gcl_store(m, n, &((struct node *)n)->kid[0], l);
  gcl_store(m, n, &((struct node *)n)->kid[1], r);
  GCL_FRAME_POP(m, f);
  return n;
}

/* The test hook holds thread 0 after the first cycle's root scan, before its markers
 * start, until the mutator has assisted a few times (or 2 s): the markers cannot outrun
 * the assists, so the test does not depend on the scheduler. */
static void hold_markers(void) {
  uint64_t t0 = gcl_now_ns();
  while (__atomic_load_n(&gcl_cmark.fig.assists, __ATOMIC_RELAXED) < 3 && gcl_now_ns() - t0 < 2000000000u)
    sched_yield();
  cmark_conc_test_after_roots = NULL;
}

Test(limit, allocating_while_marking_assists_and_assists_are_pauses, .timeout = 60) {
  init_cmark(1, 64 << 10, 4 << 20);
  cmark_conc_test_after_roots = hold_markers;
  gcl_oom_handler = oom_exit;
  gcl_pause_log_enable(1 << 16, false); /* pause-only logging: what mmu_* reads */
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *t = NULL;
  GCL_FRAME(m, f, &t);
  t = tree(m, 15);            /* 32767 nodes, ~1.3 MB live under a 4 MB limit: wide marking */
  list_run(m, 100, 150000);   /* ~6 MB allocated past it: a few cycles (the first is held) */
  GCL_FRAME_POP(m, f);
  gcl_thread_detach(m);
  gcl_heap_finish();
  uint64_t assists = __atomic_load_n(&gcl_cmark.fig.assists, __ATOMIC_RELAXED);
  uint64_t waits = __atomic_load_n(&gcl_cmark.fig.paced_waits, __ATOMIC_RELAXED);
  cr_assert_gt(assists, 0, "no mark assist in %llu cycles", (unsigned long long)gcl_cmark.fig.cycles);
  cr_assert_gt(__atomic_load_n(&gcl_cmark.fig.assist_objects, __ATOMIC_RELAXED), 0);
  uint32_t n;
  uint64_t dropped, logged_assists = 0, logged_waits = 0, longest = 0;
  const struct gcl_pause_event *e = gcl_pause_log(&n, &dropped);
  cr_assert_eq(dropped, 0);
  for (uint32_t i = 0; i < n; i++) {
    if (strcmp(e[i].kind, "assist") == 0) logged_assists++;
    if (strcmp(e[i].kind, "pace") == 0) logged_waits++;
    if (e[i].duration_ns > longest) longest = e[i].duration_ns;
  }
  cr_assert_eq(logged_assists, assists, "assists: %llu logged, %llu counted", (unsigned long long)logged_assists,
               (unsigned long long)assists);
  cr_assert_eq(logged_waits, waits);
  struct gcl_pause_hist h;
  gcl_pause_snapshot(&h);
  cr_assert_geq(h.count, assists + waits, "assists and waits are missing from the pause histogram");
  cr_assert_geq(h.max_ns, longest);
}

/* Memory comes back while the sweep runs (cmark-sweep.c): the hook, on thread 0 before
 * each sweep chunk's handshake, first holds the sweep until the mutator waits past the
 * limit (nothing was freed yet, marking is over: it can only wait); from the next chunk
 * on it waits (up to 0.5 s a chunk) for that wait to end. The cycle cannot complete
 * meanwhile (thread 0 is in its sweep), so a wait that ends was released by the memory
 * the chunks gave back: with the whole-heap sweep it could only end at the cycle's end. */
static unsigned chunk_calls;      /* hook calls */
static uint64_t waits_at_first;   /* paced_waits when the mutator was seen waiting */
static uint64_t cycle_at_first;   /* cycles completed then (the held sweep is the next) */
static bool seen_waiting, released_mid_sweep;

static void sweep_chunk_hook(void) {
  uint64_t t0 = gcl_now_ns();
  if (chunk_calls++ == 0) {
    while (__atomic_load_n(&gcl_cmark_conc.assist_hungry, __ATOMIC_SEQ_CST) == 0 && gcl_now_ns() - t0 < 5000000000u)
      sched_yield();
    seen_waiting = __atomic_load_n(&gcl_cmark_conc.assist_hungry, __ATOMIC_SEQ_CST) > 0;
    waits_at_first = __atomic_load_n(&gcl_cmark.fig.paced_waits, __ATOMIC_SEQ_CST);
    cycle_at_first = __atomic_load_n(&gcl_cmark.fig.cycles, __ATOMIC_SEQ_CST);
    if (!seen_waiting) cmark_conc_test_sweep_chunk = NULL;
    return;
  }
  if (__atomic_load_n(&gcl_cmark.fig.cycles, __ATOMIC_SEQ_CST) != cycle_at_first) {
    cmark_conc_test_sweep_chunk = NULL; /* that sweep ended, the wait with it: not released */
    return;
  }
  while (__atomic_load_n(&gcl_cmark.fig.paced_waits, __ATOMIC_SEQ_CST) == waits_at_first &&
         gcl_now_ns() - t0 < 500000000u)
    sched_yield();
  if (__atomic_load_n(&gcl_cmark.fig.paced_waits, __ATOMIC_SEQ_CST) > waits_at_first) {
    released_mid_sweep = true; /* thread 0 is in that cycle's sweep: it has not completed */
    cmark_conc_test_sweep_chunk = NULL;
  }
}

Test(limit, a_paced_wait_ends_when_a_sweep_chunk_gives_memory_back, .timeout = 60) {
  test_sweep_chunk = 1024;
  init_cmark(1, 64 << 10, 4 << 20);
  cmark_conc_test_sweep_chunk = sweep_chunk_hook;
  gcl_oom_handler = oom_exit;
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *t = NULL;
  GCL_FRAME(m, f, &t);
  t = tree(m, 15);          /* ~1.3 MB live under a 4 MB limit */
  list_run(m, 100, 150000); /* ~6 MB allocated past it */
  GCL_FRAME_POP(m, f);
  gcl_thread_detach(m);
  gcl_heap_finish();
  cr_assert(seen_waiting, "the mutator never waited past the limit during a sweep (%u chunks)", chunk_calls);
  cr_assert_geq(chunk_calls, 2, "one sweep chunk only");
  cr_assert(released_mid_sweep, "a paced wait did not end while the sweep was giving memory back");
  cr_assert_geq(__atomic_load_n(&gcl_cmark.fig.sweep_chunks, __ATOMIC_RELAXED), chunk_calls);
}

/* The assist debt follows the bytes allocated while marking, not the flushes (frees and
 * detach flush too, core/heap.c): flushes with nothing allocated owe nothing, and 1 MiB
 * allocated owes about the ratio's objects (one more per flush, the rounding). */
Test(limit, assist_debt_follows_allocated_bytes_not_flushes) {
  init_cmark(1, 4 << 20, 64 << 20); /* no cycle: the trigger is at 48 MB */
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_set_auto_collect(m, false);
  __atomic_store_n(&gcl_cmark_conc.assist_per_mib, 1024, __ATOMIC_SEQ_CST);
  __atomic_store_n(&gcl_cmark_conc.mark_open, 1, __ATOMIC_SEQ_CST); /* as if marking */
  gcl_heap_bytes_flush(m);
  m->collector.assist_debt = 0;
  for (int i = 0; i < 8; i++) gcl_heap_bytes_flush(m);
  cr_assert_eq(m->collector.assist_debt, 0, "flushes without allocation owe %llu objects",
               (unsigned long long)m->collector.assist_debt);
  uint64_t b0 = m->stats.bytes_allocated;
  for (int i = 0; i < 20000; i++) new_cell(m, (uint64_t)i); /* garbage; no safepoint */
  gcl_heap_bytes_flush(m);
  double mib = (double)(m->stats.bytes_allocated - b0) / (double)(1 << 20);
  uint64_t flushes = (uint64_t)(mib * 16) + 2, want = (uint64_t)(1024 * mib);
  __atomic_store_n(&gcl_cmark_conc.mark_open, 0, __ATOMIC_SEQ_CST);
  cr_assert(m->collector.assist_debt + 1 >= want && m->collector.assist_debt <= want + flushes,
            "debt %llu for %.2f MiB at 1024 per MiB", (unsigned long long)m->collector.assist_debt, mib);
  gcl_thread_detach(m);
}
#endif

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

static void stress_run(unsigned nthreads) {
  const unsigned *threads = &nthreads;
  init_cmark(*threads, 64 << 10, 0);
  struct gcl_workload_ctx ctx = {.threads = *threads};
  gcl_run_threads(&ctx, stress_body, NULL);
  gcl_heap_finish();
  cr_assert(!ctx.wrong, "%s", ctx.why);
  cr_assert_eq(gcl_verify_errors(), 0, "verifier: %s", gcl_verify_first_error());
  cr_assert_gt(gcl_cmark.fig.cycles, 3, "only %llu cycles (%u threads)", (unsigned long long)gcl_cmark.fig.cycles, *threads);
  cr_assert_eq(gcl_verify_live(), 0, "%llu objects live after the final cycle", (unsigned long long)gcl_verify_live());
}

Test(stress, tiny_heap_1_thread, .timeout = 120) { stress_run(1); }
Test(stress, tiny_heap_2_threads, .timeout = 120) { stress_run(2); }
Test(stress, tiny_heap_4_threads, .timeout = 120) { stress_run(4); }
Test(stress, tiny_heap_8_threads, .timeout = 120) { stress_run(8); }

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
