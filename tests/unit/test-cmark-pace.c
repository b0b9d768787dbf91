/* SPDX-License-Identifier: MIT */
/* tests/unit/test-cmark-pace.c — cmark's concurrent pacing and sweep (collectors/cmark
 * cmark-pace.c, cmark-sweep.c), on cmark x segment with the verifier, 2 markers
 * (CMARK_TEST_CONCURRENT=1 in its target):
 *  - a mutator allocating while a cycle marks under a limit assists, and every assist
 *    and paced wait is a pause of its kind (histogram, log, figures agree);
 *  - a paced wait ends when a sweep chunk gives memory back, before the cycle completes;
 *  - past the limit during the sweep, a mutator sweeps its own pages and goes on while the
 *    sweeper thread is held (sweep assists);
 *  - the assist debt follows the bytes allocated, not the number of flushes. */
#include <sched.h>
#include <string.h>

#include "cmark-test.h"
#include "pause.h"

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
  uint64_t sweep_assists = __atomic_load_n(&gcl_cmark.fig.sweep_assists, __ATOMIC_RELAXED);
  cr_assert_eq(logged_assists, assists + sweep_assists, "assists: %llu logged, %llu + %llu sweep counted",
               (unsigned long long)logged_assists, (unsigned long long)assists, (unsigned long long)sweep_assists);
  assists += sweep_assists;
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
  test_no_sweep_assist = true; /* cmark.sweep_assist=off: the mutator waits for the chunks */
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
  cr_assert(seen_waiting, "the mutator never waited past the limit during a sweep (%u chunks; %llu cycles, %llu waits, %llu sweep assists)",
            chunk_calls, (unsigned long long)gcl_cmark.fig.cycles, (unsigned long long)gcl_cmark.fig.paced_waits,
            (unsigned long long)gcl_cmark.fig.sweep_assists);
  cr_assert_geq(chunk_calls, 2, "one sweep chunk only");
  cr_assert(released_mid_sweep, "a paced wait did not end while the sweep was giving memory back");
  cr_assert_geq(__atomic_load_n(&gcl_cmark.fig.sweep_chunks, __ATOMIC_RELAXED), chunk_calls);
}

/* Sweep assists (cmark-sweep.c): the hook holds thread 0 once the first sweep is open,
 * before its walk (so the sweeper frees nothing and the cycle cannot complete), until
 * the mutator, past the limit, has swept pages of its own and then allocated on (or 5 s).
 * Only memory it freed itself can have let it go on. With cmark.sweep_assist=off the
 * hook times out and the test fails (checked by hand). */
static uint64_t progress; /* atomic: cells the mutator of the sweep-assist test allocated */
static bool went_on;      /* it allocated on while the sweeper was held */

static void hold_sweep(void) {
  uint64_t t0 = gcl_now_ns();
  cmark_conc_test_sweep_open = NULL;
  while (__atomic_load_n(&gcl_cmark.fig.sweep_assists, __ATOMIC_SEQ_CST) == 0 && gcl_now_ns() - t0 < 5000000000u)
    sched_yield();
  uint64_t p0 = __atomic_load_n(&progress, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(&progress, __ATOMIC_SEQ_CST) < p0 + 20000 && gcl_now_ns() - t0 < 5000000000u)
    sched_yield();
  went_on = __atomic_load_n(&gcl_cmark.fig.sweep_assists, __ATOMIC_SEQ_CST) > 0 &&
            __atomic_load_n(&progress, __ATOMIC_SEQ_CST) >= p0 + 20000;
}

Test(limit, past_the_limit_a_mutator_sweeps_its_own_pages, .timeout = 60) {
  init_cmark(1, 64 << 10, 4 << 20);
  cmark_conc_test_sweep_open = hold_sweep;
  gcl_oom_handler = oom_exit;
  gcl_pause_log_enable(1 << 16, false);
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *t = NULL;
  GCL_FRAME(m, f, &t);
  t = tree(m, 15); /* ~1.3 MB live under a 4 MB limit */
  for (uint64_t i = 0; i < 400000; i++) {
    new_cell(m, i); /* garbage at once: ~13 MB allocated past the limit */
    __atomic_store_n(&progress, i + 1, __ATOMIC_SEQ_CST);
    if ((i & 63) == 0) gcl_safepoint(m);
  }
  GCL_FRAME_POP(m, f);
  gcl_thread_detach(m);
  gcl_heap_finish();
  uint64_t sa = __atomic_load_n(&gcl_cmark.fig.sweep_assists, __ATOMIC_RELAXED);
  cr_assert(went_on, "the mutator did not sweep its own pages and go on while the sweeper was held (%llu sweep assists)",
            (unsigned long long)sa);
  cr_assert_gt(__atomic_load_n(&gcl_cmark.fig.sweep_assist_objects, __ATOMIC_RELAXED), 0);
  cr_assert_gt(__atomic_load_n(&gcl_cmark.fig.sweep_assist_pages, __ATOMIC_RELAXED), 0);
  /* Every increment is a pause of kind assist: mark assists and sweep assists together. */
  uint32_t n;
  uint64_t dropped, logged = 0;
  const struct gcl_pause_event *e = gcl_pause_log(&n, &dropped);
  for (uint32_t i = 0; i < n; i++) logged += strcmp(e[i].kind, "assist") == 0;
  cr_assert_eq(logged, sa + __atomic_load_n(&gcl_cmark.fig.assists, __ATOMIC_RELAXED));
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
