/* SPDX-License-Identifier: MIT */
/* collectors/cmark/cmark.c — cmark's options, trigger policy and the collector API
 * (core/collector.h); one cycle is cmark-gc.c.
 *
 * Trigger and pacing: cmark owns the heap limit (gcl_heap_flush_hook, core/mutator.h).
 * Each flush of a thread's byte count (every GCL_HEAP_BYTES_BATCH bytes) compares the live
 * total with the trigger and, past it, asks that thread's next safepoint for a cycle
 * (CMARK_WORK_COLLECT; never inside the allocation, whose new object is not yet rooted).
 * The trigger is cmark.trigger x the limit when there is one (cmark.limit, else the
 * limit core was given, gcl_heap_limit), or, without a limit, grow-by-factor: after each
 * cycle the trigger is cmark.grow x the live bytes, at least cmark.min_heap. With a limit,
 * a heap still over it after a full collection ends the cell with status oom; a heap over
 * it asks for a collection even while gc.disable() is in force (the last resort).
 *
 * Invariants: the options are read once, in init, before any thread attaches; every
 * figure is an atomic (gcl_collector_report may run on the thread that hit oom while
 * others run). No macros change this file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmark-internal.h"
#include "collector.h"
#include "report.h"

struct cmark gcl_cmark = {.gc_lock = PTHREAD_MUTEX_INITIALIZER, .auto_collect = 1};

static const struct gcl_opt_decl options[] = {
    {"mode", GCL_OPT_ENUM, "stw", NULL, NULL, "stw|concurrent",
     "stw: mark and sweep with the world stopped; concurrent: mark and sweep on cmark's own threads while mutators run"},
    {"markers", GCL_OPT_INT, "1", "1", "64", NULL,
     "marker threads (concurrent mode; the first also drives the cycle and sweeps; stw marks on the requester)"},
    {"trigger", GCL_OPT_DOUBLE, "0.75", "0.05", "1", NULL,
     "with a heap limit: a cycle starts when live bytes cross this share of it"},
    {"limit", GCL_OPT_SIZE, "0", "0", NULL, NULL,
     "heap limit in live bytes (headers included); 0: the limit core was given, else none"},
    {"grow", GCL_OPT_DOUBLE, "2", "1.1", "100", NULL,
     "without a limit: the next cycle starts at this multiple of the live bytes after one"},
    {"min_heap", GCL_OPT_SIZE, "4m", "64k", NULL, NULL, "without a limit: the smallest trigger"},
    {"sweep_chunk", GCL_OPT_INT, "4096", "16", "1073741824", NULL,
     "concurrent: garbage candidates the sweep lists before a handshake frees them (memory comes back per chunk)"},
    {"sweep_assist", GCL_OPT_BOOL, "on", NULL, NULL, NULL,
     "concurrent: a mutator past the limit sweeps its own pages while the sweep runs (needs heap-walk-own)"},
};
static const struct gcl_fig_decl figures[] = {
    {"cycles", "count", "collection cycles completed"},
    {"full_stw_fallbacks", "count", "full stop-the-world collections taken as a last resort (concurrent mode)"},
    {"objects_marked", "objects", "objects marked (blackened), all cycles"},
    {"objects_swept", "objects", "objects freed by the sweep"},
    {"bytes_swept", "bytes", "bytes freed by the sweep, headers included"},
    {"finalizers_run", "count", "finalizers run (PEP 442: once per object)"},
    {"weak_cleared", "objects", "unmarked objects whose weak references were cleared"},
    {"barrier_slow_calls", "count", "SATB barrier slow-path calls (stores while marking was active)"},
    {"satb_entries", "count", "old values recorded in SATB buffers"},
    {"allocated_black", "objects", "objects allocated while marking was active"},
    {"mark_s", "s", "time in marking (roots, drain, weak references, resurrection)"},
    {"sweep_s", "s", "time in the sweep"},
    {"limit_bytes", "bytes", "the heap limit cmark enforced (absent: none)"},
    {"marker_cpu_s", "s", "concurrent: CPU time of the marker threads while marking"},
    {"sweeper_cpu_s", "s", "concurrent: CPU time of the sweeping thread in the sweep"},
    {"collector_threads_cpu_s", "s", "concurrent: whole CPU time of cmark's own threads (core's count)"},
    {"remarks", "count", "concurrent: stop-the-world remarks (one per concurrent cycle)"},
    {"remark_s", "s", "concurrent: their total time, stop request to restart"},
    {"termination_rounds", "count", "concurrent: termination handshakes"},
    {"paced_waits", "count", "concurrent: times a mutator over the limit waited for a cycle"},
    {"paced_wait_s", "s", "concurrent: time mutators spent in those waits, all threads (pauses of kind pace)"},
    {"assists", "count", "concurrent: mark assists by mutators allocating while marking (pauses of kind assist)"},
    {"assist_s", "s", "concurrent: time mutators spent in assists, all threads"},
    {"assist_objects", "objects", "concurrent: objects traced by assists"},
    {"paced_stall_max_s", "s", "concurrent: the longest stall of one mutator past the limit (its assists and waits, entry to return)"},
    {"sweep_chunks", "count", "concurrent: sweep chunks freed, each after one handshake"},
    {"sweep_sync_s", "s", "concurrent: thread 0's time in those handshakes (request to last acknowledgement)"},
    {"sweep_assists", "count", "concurrent: sweep assists (increments) by mutators past the limit (pauses of kind assist)"},
    {"sweep_assist_s", "s", "concurrent: time mutators spent in sweep assists, all threads"},
    {"sweep_assist_pages", "count", "concurrent: pages of their own that sweep assists claimed and swept"},
    {"sweep_assist_objects", "objects", "concurrent: objects freed by sweep assists (also in objects_swept)"},
};
GCL_COLLECTOR_DECLARE(options, GCL_COUNT(options), figures, GCL_COUNT(figures));

/* gcl_heap_flush_hook: past the trigger (or the limit), ask this thread for a cycle; in
 * concurrent mode, past the limit, ask it to pace itself (cmark_conc_pace). */
static void flush_hook(struct gcl_mutator *m, int64_t live) {
  if (!m) return;
  bool over_limit = gcl_cmark.limit > 0 && live > gcl_cmark.limit;
  /* Allocating while marking, with a limit: owe an assist (cmark-pace.c; every flush is
   * seen there, so the debt follows the bytes allocated, not the flushes). Over the limit
   * the pacing assists anyway. */
  if (gcl_cmark.mode == CMARK_MODE_CONCURRENT && gcl_cmark.limit > 0 && cmark_pace_flush(m) && !over_limit)
    __atomic_fetch_or(&m->safepoint_work, CMARK_WORK_ASSIST, __ATOMIC_RELEASE);
  if (live <= __atomic_load_n(&gcl_cmark.trigger, __ATOMIC_RELAXED)) return;
  if (!over_limit && !__atomic_load_n(&gcl_cmark.auto_collect, __ATOMIC_RELAXED)) return;
  int bit = over_limit && gcl_cmark.mode == CMARK_MODE_CONCURRENT ? CMARK_WORK_PACE : CMARK_WORK_COLLECT;
  __atomic_fetch_or(&m->safepoint_work, bit, __ATOMIC_RELEASE);
}

/* gcl_safepoint_handler: pay an assist owed; run (stw) or ask for (concurrent) the cycle
 * asked for, unless another thread just ran one; pace a thread over the limit. */
static void safepoint_handler(struct gcl_mutator *m) {
  int work = __atomic_fetch_and(&m->safepoint_work, ~(CMARK_WORK_COLLECT | CMARK_WORK_PACE | CMARK_WORK_ASSIST),
                                __ATOMIC_ACQ_REL);
  if (work & CMARK_WORK_ASSIST) cmark_pace_assist(m);
  if (!(work & (CMARK_WORK_COLLECT | CMARK_WORK_PACE))) return;
  int64_t live = gcl_stats_live_bytes();
  if (live <= __atomic_load_n(&gcl_cmark.trigger, __ATOMIC_RELAXED)) return;
  if (gcl_cmark.mode == CMARK_MODE_STW)
    cmark_collect(m, false);
  else if ((work & CMARK_WORK_PACE) && gcl_cmark.limit > 0 && live > gcl_cmark.limit)
    cmark_conc_pace(m);
  else
    cmark_conc_request(m, false);
}

int gcl_collector_init(const struct gcl_init *init) {
  const union gcl_opt_value *o = init->opts;
#if !GCL_ALLOCATOR_HEAP_WALK_CONCURRENT
  if (o[0].e == CMARK_MODE_CONCURRENT) {
    snprintf(gcl_init_invalid_reason, sizeof gcl_init_invalid_reason,
             "cmark.mode=concurrent needs an allocator with heap-walk-concurrent; %s has only the world-stopped walk",
             gcl_allocator_module.name);
    return -ENOTSUP;
  }
#endif
  gcl_cmark.mode = (enum cmark_mode)o[0].e;
  gcl_cmark.markers = (unsigned)o[1].i;
  gcl_cmark_track_final = gcl_cmark.mode == CMARK_MODE_CONCURRENT;
  gcl_cmark.trigger_frac = o[2].d;
  gcl_cmark.limit = o[3].u > 0 ? (int64_t)o[3].u : gcl_heap_limit();
  gcl_cmark.grow = o[4].d;
  gcl_cmark.min_trigger = (int64_t)o[5].u;
  gcl_cmark.sweep_chunk = (size_t)o[6].i;
  gcl_cmark.sweep_assist = o[7].b;
  gcl_cmark.trigger = gcl_cmark.limit > 0 ? (int64_t)(gcl_cmark.trigger_frac * (double)gcl_cmark.limit)
                                          : gcl_cmark.min_trigger;
  gcl_heap_flush_hook = flush_hook;
  gcl_safepoint_handler = safepoint_handler;
  return 0;
}

/* The runner gives core its --heap limit after the collectors' init, before the first
 * thread attaches: adopt it then (cmark.limit, when set, wins). */
static void adopt_core_limit(void) {
  if (gcl_cmark.limit > 0 || gcl_heap_limit() <= 0) return;
  gcl_cmark.limit = gcl_heap_limit();
  __atomic_store_n(&gcl_cmark.trigger, (int64_t)(gcl_cmark.trigger_frac * (double)gcl_cmark.limit), __ATOMIC_RELAXED);
}

void gcl_collector_thread_attach(struct gcl_mutator *m) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, adopt_core_limit);
  m->collector.m = m;
  /* Attached while marking: its roots may never be scanned this cycle (cmark-conc.c). */
  if (gcl_marking_is_active()) __atomic_store_n(&m->satb.shade_new, true, __ATOMIC_RELAXED);
}

void gcl_collector_thread_detach(struct gcl_mutator *m) {
  __atomic_fetch_add(&gcl_cmark.fig.allocated_black, m->collector.allocated_black, __ATOMIC_RELAXED);
  cmark_final_thread_detach(&m->collector);
}

void gcl_collector_collect(struct gcl_mutator *m, int generation) {
  (void)generation; /* one generation: every request is a full cycle */
  if (gcl_cmark.mode == CMARK_MODE_CONCURRENT)
    cmark_conc_request(m, true);
  else
    cmark_collect(m, true);
}

/* After the last thread detached: cycles on a thread of our own until one runs no
 * finalizer (resurrected objects are freed by the cycle after theirs). */
void gcl_collector_finish(void) {
  if (gcl_cmark.mode == CMARK_MODE_CONCURRENT) {
    cmark_conc_finish();
    return;
  }
  struct gcl_mutator *m = gcl_thread_attach();
  for (int round = 0; round < 16; round++) {
    uint64_t before = __atomic_load_n(&gcl_cmark.fig.finalized, __ATOMIC_RELAXED);
    cmark_collect(m, true);
    if (__atomic_load_n(&gcl_cmark.fig.finalized, __ATOMIC_RELAXED) == before && gcl_cmark.finalize.n == 0) break;
  }
  gcl_thread_detach(m);
}

uint64_t gcl_collector_freeze(struct gcl_mutator *m, bool freeze) {
  (void)m, (void)freeze; /* no permanent generation: nothing moves */
  return 0;
}

bool gcl_collector_set_auto(struct gcl_mutator *m, bool on) {
  (void)m;
  return __atomic_exchange_n(&gcl_cmark.auto_collect, on ? 1 : 0, __ATOMIC_RELAXED) != 0;
}

int gcl_collector_check_threads(unsigned threads, char *why, size_t why_len) {
  (void)threads, (void)why, (void)why_len;
  return 0;
}

static uint64_t fig(uint64_t *f) { return __atomic_load_n(f, __ATOMIC_RELAXED); }

void gcl_collector_report(struct gcl_report *r) {
  struct cmark_figures *f = &gcl_cmark.fig;
  gcl_report_u64(r, "collections", fig(&f->cycles));
  gcl_report_f64(r, "gc_s", (double)fig(&f->gc_ns) * 1e-9);
  gcl_report_figure_u64(r, "cycles", fig(&f->cycles));
  if (gcl_cmark.mode == CMARK_MODE_CONCURRENT) gcl_report_figure_u64(r, "full_stw_fallbacks", fig(&f->full_stw));
  gcl_report_figure_u64(r, "objects_marked", fig(&f->marked));
  gcl_report_figure_u64(r, "objects_swept", fig(&f->swept));
  gcl_report_figure_u64(r, "bytes_swept", fig(&f->swept_bytes));
  gcl_report_figure_u64(r, "finalizers_run", fig(&f->finalized));
  gcl_report_figure_u64(r, "weak_cleared", fig(&f->weak_cleared));
  uint64_t slow, entries;
  gcl_satb_totals(&slow, &entries);
  gcl_report_figure_u64(r, "barrier_slow_calls", slow);
  gcl_report_figure_u64(r, "satb_entries", entries);
  gcl_report_figure_u64(r, "allocated_black", fig(&f->allocated_black));
  gcl_report_figure(r, "mark_s", (double)fig(&f->mark_ns) * 1e-9);
  gcl_report_figure(r, "sweep_s", (double)fig(&f->sweep_ns) * 1e-9);
  if (gcl_cmark.limit > 0) gcl_report_figure_u64(r, "limit_bytes", (uint64_t)gcl_cmark.limit);
  if (gcl_cmark.mode != CMARK_MODE_CONCURRENT) return; /* stw mode has no threads of its own */
  gcl_report_figure(r, "marker_cpu_s", (double)fig(&f->marker_cpu_ns) * 1e-9);
  gcl_report_figure(r, "sweeper_cpu_s", (double)fig(&f->sweeper_cpu_ns) * 1e-9);
  /* Core counts a collector thread when it detaches: absent while they still run (oom). */
  if (!__atomic_load_n(&gcl_cmark_conc.started, __ATOMIC_ACQUIRE)) gcl_report_figure(r, "collector_threads_cpu_s", (double)gcl_collector_threads_cpu_ns() * 1e-9);
  gcl_report_figure_u64(r, "remarks", fig(&f->remarks));
  gcl_report_figure(r, "remark_s", (double)fig(&f->remark_ns) * 1e-9);
  gcl_report_figure_u64(r, "termination_rounds", fig(&f->term_rounds));
  gcl_report_figure_u64(r, "paced_waits", fig(&f->paced_waits));
  gcl_report_figure(r, "paced_wait_s", (double)fig(&f->paced_wait_ns) * 1e-9);
  gcl_report_figure_u64(r, "assists", fig(&f->assists));
  gcl_report_figure(r, "assist_s", (double)fig(&f->assist_ns) * 1e-9);
  gcl_report_figure_u64(r, "assist_objects", fig(&f->assist_objects));
  gcl_report_figure(r, "paced_stall_max_s", (double)fig(&f->paced_stall_max_ns) * 1e-9);
  gcl_report_figure_u64(r, "sweep_chunks", fig(&f->sweep_chunks));
  gcl_report_figure(r, "sweep_sync_s", (double)fig(&f->sweep_sync_ns) * 1e-9);
#if GCL_ALLOCATOR_WALK_OWN
  gcl_report_figure_u64(r, "sweep_assists", fig(&f->sweep_assists));
  gcl_report_figure(r, "sweep_assist_s", (double)fig(&f->sweep_assist_ns) * 1e-9);
  gcl_report_figure_u64(r, "sweep_assist_pages", fig(&f->sweep_assist_pages));
  gcl_report_figure_u64(r, "sweep_assist_objects", fig(&f->sweep_assist_objects));
#endif
}
