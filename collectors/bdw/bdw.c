/* SPDX-License-Identifier: MIT */
/* collectors/bdw/bdw.c — cold paths of `bdw` (bdw-attrs.h): libgc's set-up, thread
 * registration, its collection events, explicit collections and the figures.
 *
 * Set-up (init): parallel marking is on (libgc's default: one marker per CPU; bdw.markers
 * sets the count, GC_set_markers_count), finalizers run on demand (bdw-final.c), the
 * event callbacks are installed, then GC_INIT, GC_allow_register_threads and, with
 * bdw.incremental=true, GC_enable_incremental.
 *
 * Threads are registered with libgc by exactly one mechanism: by hand, in attach
 * (GC_register_my_thread with the thread's stack base) and detach
 * (GC_unregister_my_thread); the pthread_create redirect of GC_THREADS is compiled out
 * (GC_NO_THREAD_REDIRECTS, allocators/bdw/bdw-attrs.h). A thread libgc already knew (the
 * main thread, registered by GC_INIT) gets GC_DUPLICATE and is not unregistered.
 *
 * Events (GC_set_on_collection_event, on the collecting thread under libgc's lock):
 * PRE_STOP_WORLD / POST_STOP_WORLD / POST_START_WORLD become core's stop requested /
 * mutators stopped / world restarted (hence pause_* and ttsp_*), MARK and RECLAIM become
 * phases "mark" and "reclaim", START..END is one collection's gc time. In incremental mode
 * libgc 8.2.2 reports the stop-world events but no collection START/END (and marking is
 * spread over allocations): then gc_s is the time the world was stopped, phases are not
 * emitted, and collections is libgc's GC_get_gc_no count, as in every mode. In GCL_VERIFY
 * builds the stop events are not emitted (the verifier's own stops could overlap them).
 *
 * Invariants: the figures of the record leave out gcl_collector_finish's collections (as
 * rc-gen's do); counters written from callbacks are atomics. */
#include <stdio.h>
#include <string.h>

#include "bdw-internal.h"
#include "collector.h"
#include "event.h"
#include "pause.h"
#include "report.h"

static const struct gcl_opt_decl options[] = {
    {"incremental", GCL_OPT_BOOL, "false", NULL, NULL, NULL,
     "libgc's incremental mode (GC_enable_incremental): marking in small steps between "
     "allocations, with short stops"},
    {"markers", GCL_OPT_INT, "0", "0", "256", NULL,
     "marker threads of parallel marking (GC_set_markers_count); 0: libgc's default, one "
     "per CPU"},
};
static const struct gcl_fig_decl figures[] = {
    {"stw_pauses", "count", "times libgc stopped the world"},
    {"stw_s", "s", "time the world was stopped (PRE_STOP_WORLD to POST_START_WORLD)"},
    {"marker_helpers", "count", "parallel marker threads besides the collecting one (GC_get_parallel)"},
    {"threads_suspended", "count", "thread suspensions libgc made (GC_EVENT_THREAD_SUSPENDED)"},
    {"finalizers_run", "count", "type finalizers run"},
    {"weak_cleared", "objects", "objects whose weak references libgc's collections cleared"},
    {"heap_peak_kb", "kb", "largest heap size libgc grew to (GC_set_on_heap_resize)"},
};
GCL_COLLECTOR_DECLARE(options, GCL_COUNT(options), figures, GCL_COUNT(figures));

struct gcl_bdw_stats gcl_bdw_stats;
bool gcl_bdw_finalize_pending;

/* What the callbacks measure; a snapshot is taken when the workload's run ends. */
struct run_counts {
  uint64_t gc_no;       /* GC_get_gc_no() */
  uint64_t gc_ns;       /* START..END, summed */
  uint64_t stw_pauses;  /* stops */
  uint64_t stw_ns;      /* their total */
  uint64_t suspended;   /* thread suspensions */
  uint64_t finalizers;  /* gcl_bdw_stats.finalizers_run */
  uint64_t weak;        /* gcl_bdw_stats.weak_cleared */
};

static bool incremental;             /* bdw.incremental */
static bool auto_on = true;          /* gc.enable() state (GC_enable/GC_disable) */
static uint64_t gc_no_at_init;       /* collections before the run (libgc's own at init) */
static uint64_t gc_start_ns, stw_start_ns; /* open START / PRE_STOP_WORLD, under libgc's lock */
static struct run_counts counts;     /* atomics: callbacks write, report reads */
static struct run_counts at_finish;  /* counts when gcl_collector_finish began */
static bool finished;                /* at_finish is set */
static uint64_t heap_peak;           /* bytes; written under libgc's lock, read atomically */
static __thread struct gcl_mutator *self; /* this thread's attached mutator */

struct gcl_mutator *gcl_bdw_self(void) { return self; }

static void add(uint64_t *c, uint64_t v) { __atomic_fetch_add(c, v, __ATOMIC_RELAXED); }
static uint64_t get(const uint64_t *c) { return __atomic_load_n(c, __ATOMIC_RELAXED); }

/* Stop events are emitted only outside verifier builds (see the file comment). */
static void on_stop_event(GC_EventType e) {
  switch (e) {
  case GC_EVENT_PRE_STOP_WORLD:
    stw_start_ns = gcl_now_ns();
    if (!GCL_VERIFY) gcl_event_stop_requested();
    break;
  case GC_EVENT_POST_STOP_WORLD:
    if (!GCL_VERIFY) gcl_event_mutators_stopped();
    break;
  case GC_EVENT_POST_START_WORLD:
    if (!GCL_VERIFY) gcl_event_world_restarted();
    add(&counts.stw_pauses, 1);
    add(&counts.stw_ns, gcl_now_ns() - stw_start_ns);
    break;
  default:
    break;
  }
}

static void on_collection_event(GC_EventType e) {
  switch (e) {
  case GC_EVENT_START:
    gc_start_ns = gcl_now_ns();
    break;
  case GC_EVENT_END:
    add(&counts.gc_ns, gcl_now_ns() - gc_start_ns);
    break;
  case GC_EVENT_MARK_START:
    if (!incremental) gcl_event_phase_start("mark");
    break;
  case GC_EVENT_MARK_END:
    if (!incremental) gcl_event_phase_end("mark");
    break;
  case GC_EVENT_RECLAIM_START:
    if (!incremental) gcl_event_phase_start("reclaim");
    break;
  case GC_EVENT_RECLAIM_END:
    if (!incremental) gcl_event_phase_end("reclaim");
    break;
  default:
    on_stop_event(e);
    break;
  }
}

static void on_thread_event(GC_EventType e, void *thread) {
  (void)thread;
  if (e == GC_EVENT_THREAD_SUSPENDED) add(&counts.suspended, 1);
}

static void on_heap_resize(GC_word bytes) {
  if (bytes > get(&heap_peak)) __atomic_store_n(&heap_peak, (uint64_t)bytes, __ATOMIC_RELAXED);
  gcl_event_heap_resized((uint64_t)bytes);
}

static void safepoint_work(struct gcl_mutator *m) {
  int work = __atomic_fetch_and(&m->safepoint_work, ~GCL_BDW_WORK_FINALIZE, __ATOMIC_ACQ_REL);
  if (work & GCL_BDW_WORK_FINALIZE) gcl_bdw_run_finalizers(m);
}

int gcl_collector_init(const struct gcl_init *init) {
  incremental = init->opts[0].b;
  if (init->opts[1].i > 0) GC_set_markers_count((unsigned)init->opts[1].i);
  GC_set_finalize_on_demand(1);
  GC_set_finalizer_notifier(gcl_bdw_notify);
  GC_set_on_collection_event(on_collection_event);
  GC_set_on_thread_event(on_thread_event);
  GC_set_on_heap_resize(on_heap_resize);
  GC_INIT();
  GC_allow_register_threads();
  if (incremental) GC_enable_incremental();
  gcl_safepoint_handler = safepoint_work;
  gc_no_at_init = GC_get_gc_no();
  return 0;
}

void gcl_collector_thread_attach(struct gcl_mutator *m) {
  struct GC_stack_base sb;
  int rc = GC_get_stack_base(&sb);
  GCL_ASSERT_ALWAYS(rc == GC_SUCCESS);
  rc = GC_register_my_thread(&sb);
  GCL_ASSERT_ALWAYS(rc == GC_SUCCESS || rc == GC_DUPLICATE);
  m->collector.registered = rc == GC_SUCCESS;
  m->collector.outer = self;
  self = m;
  if (__atomic_exchange_n(&gcl_bdw_finalize_pending, false, __ATOMIC_RELAXED))
    gcl_bdw_run_finalizers(m);
}

void gcl_collector_thread_detach(struct gcl_mutator *m) {
  gcl_bdw_run_finalizers(m);
  if (!m->collector.outer) gcl_bdw_final_thread_exit(); /* the thread's outermost attach */
  self = m->collector.outer;
  if (m->collector.registered) GC_unregister_my_thread();
}

/* An explicit collection runs even while automatic ones are off (gc.disable()). */
void gcl_collector_collect(struct gcl_mutator *m, int generation) {
  (void)generation; /* libgc has one generation (no GC_enable_generational here) */
  if (!auto_on) GC_enable();
  GC_gcollect();
  if (!auto_on) GC_disable();
  gcl_bdw_run_finalizers(m);
}

uint64_t gcl_collector_freeze(struct gcl_mutator *m, bool freeze) {
  (void)m, (void)freeze;
  return 0; /* no generations to move objects between */
}

bool gcl_collector_set_auto(struct gcl_mutator *m, bool on) {
  (void)m;
  bool was = auto_on;
  if (on && !was) GC_enable();
  if (!on && was) GC_disable();
  auto_on = on;
  return was;
}

static void snapshot(struct run_counts *c) {
  c->gc_no = GC_get_gc_no() - gc_no_at_init;
  c->gc_ns = get(&counts.gc_ns);
  c->stw_pauses = get(&counts.stw_pauses);
  c->stw_ns = get(&counts.stw_ns);
  c->suspended = get(&counts.suspended);
  c->finalizers = get(&gcl_bdw_stats.finalizers_run);
  c->weak = get(&gcl_bdw_stats.weak_cleared);
}

/* Full collections on a temporary thread until no finalizer ran (a finalizer's garbage,
 * and objects it resurrected, need another); at most 8. Left out of the record. */
void gcl_collector_finish(void) {
  snapshot(&at_finish);
  finished = true;
  struct gcl_mutator *m = gcl_thread_attach();
  if (!auto_on) gcl_collector_set_auto(m, true);
  for (int i = 0; i < 8; i++) {
    uint64_t before = get(&gcl_bdw_stats.finalizers_run) + get(&gcl_bdw_stats.weak_cleared);
    GC_gcollect();
    gcl_bdw_run_finalizers(m);
    if (i > 0 && get(&gcl_bdw_stats.finalizers_run) + get(&gcl_bdw_stats.weak_cleared) == before) break;
  }
  gcl_thread_detach(m);
}

int gcl_collector_check_threads(unsigned threads, char *why, size_t why_len) {
  (void)threads, (void)why, (void)why_len;
  return 0; /* libgc stops any number of registered threads */
}

void gcl_collector_report(struct gcl_report *r) {
  struct run_counts c;
  if (finished) c = at_finish;
  else snapshot(&c);
  gcl_report_u64(r, "collections", c.gc_no);
  gcl_report_f64(r, "gc_s", (double)(incremental ? c.stw_ns : c.gc_ns) * 1e-9);
  gcl_report_figure_u64(r, "stw_pauses", c.stw_pauses);
  gcl_report_figure(r, "stw_s", (double)c.stw_ns * 1e-9);
  gcl_report_figure_u64(r, "marker_helpers", (uint64_t)GC_get_parallel());
  gcl_report_figure_u64(r, "threads_suspended", c.suspended);
  gcl_report_figure_u64(r, "finalizers_run", c.finalizers);
  gcl_report_figure_u64(r, "weak_cleared", c.weak);
  gcl_report_figure_u64(r, "heap_peak_kb", __atomic_load_n(&heap_peak, __ATOMIC_RELAXED) / 1024);
}
