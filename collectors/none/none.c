/* SPDX-License-Identifier: MIT */
/* collectors/none/none.c — cold paths of `none`, the collector that never collects.
 *
 * Objects are allocated and never freed (collectors/none/none-attrs.h). The one thing this
 * file does is the memory cap: at init it computes the cap (the none.cap option, or 75% of
 * the memory this process may use when the option is 0) and gives it to the heap
 * (gcl_heap_set_limit, core/heap.c), which ends the cell with status `oom` once the flushed
 * heap total exceeds it — so a run that does not fit stops instead of swapping.
 *
 * Under AddressSanitizer (GCL_NONE_LSAN, from __SANITIZE_ADDRESS__ or clang's feature test)
 * each attached thread's allocations are hidden from LeakSanitizer (__lsan_disable at
 * attach, __lsan_enable at detach): never freeing them is the point, not a leak.
 *
 * Invariant: the cap is set once, before any thread attaches. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define GCL_NONE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GCL_NONE_LSAN 1
#endif
#endif
#ifdef GCL_NONE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

#include "collector.h"
#include "report.h"
#include "stats.h"

#define NONE_AUTO_CAP_PCT 75 /* none.cap=0: this share of the usable memory */

static const struct gcl_opt_decl options[] = {
    {"cap", GCL_OPT_SIZE, "0", "0", NULL, NULL,
     "heap bytes before the cell ends with status oom; 0: 75% of physical memory (or of the "
     "cgroup's memory.max when lower)"},
};
static const struct gcl_fig_decl figures[] = {
    {"cap_bytes", "bytes", "the effective cap: none.cap, or 75% of the usable memory when 0"},
    {"bytes_never_freed", "bytes", "heap bytes allocated and never freed (all of them)"},
};
GCL_COLLECTOR_DECLARE(options, GCL_COUNT(options), figures, GCL_COUNT(figures));

static int64_t cap_bytes; /* the effective cap, set by init */

/* The cgroup v2 memory limit of this process, or -1 (none, "max", not readable). */
static int64_t cgroup_limit(void) {
  FILE *f = fopen("/sys/fs/cgroup/memory.max", "r");
  if (!f) return -1;
  long long v;
  int got = fscanf(f, "%lld", &v);
  fclose(f);
  return got == 1 && v > 0 ? (int64_t)v : -1;
}

/* NONE_AUTO_CAP_PCT of min(physical memory, cgroup limit); 0 when neither is known. */
static int64_t auto_cap(void) {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  int64_t mem = pages > 0 && page > 0 ? (int64_t)pages * page : -1;
  int64_t cg = cgroup_limit();
  if (cg > 0 && (mem < 0 || cg < mem)) mem = cg;
  return mem > 0 ? mem / 100 * NONE_AUTO_CAP_PCT : 0;
}

int gcl_collector_init(const struct gcl_init *init) {
  cap_bytes = init->opts[0].i > 0 ? init->opts[0].i : auto_cap();
  gcl_heap_set_limit(cap_bytes);
  return 0;
}
void gcl_collector_thread_attach(struct gcl_mutator *m) {
  (void)m;
#ifdef GCL_NONE_LSAN
  __lsan_disable();
#endif
}
void gcl_collector_thread_detach(struct gcl_mutator *m) {
  (void)m;
#ifdef GCL_NONE_LSAN
  __lsan_enable();
#endif
}

/* There is nothing to collect, freeze or switch on: every request is ignored. */
void gcl_collector_collect(struct gcl_mutator *m, int generation) { (void)m, (void)generation; }
void gcl_collector_finish(void) {}
uint64_t gcl_collector_freeze(struct gcl_mutator *m, bool freeze) {
  (void)m, (void)freeze;
  return 0;
}
bool gcl_collector_set_auto(struct gcl_mutator *m, bool on) {
  (void)m, (void)on;
  return false;
}

int gcl_collector_check_threads(unsigned threads, char *why, size_t why_len) {
  (void)threads, (void)why, (void)why_len;
  return 0;
}

/* Also called by the runner when the cap is crossed (status oom), from the thread that
 * crossed it while other mutators may still run: it reads only atomics. */
void gcl_collector_report(struct gcl_report *r) {
  /* Measured zeros: none never collects, so its GC time is 0 and its wall time is all
   * mutator time (mutator_s = wall_s: the distilled cost of `gclab lbo`). */
  gcl_report_u64(r, "collections", 0);
  gcl_report_f64(r, "gc_s", 0);
  gcl_report_figure_u64(r, "cap_bytes", (uint64_t)cap_bytes);
  int64_t live = gcl_stats_live_bytes();
  gcl_report_figure_u64(r, "bytes_never_freed", live > 0 ? (uint64_t)live : 0);
}
