/* SPDX-License-Identifier: MIT */
/* core/heap-setup.c — the heap limit (mutator.h: gcl_heap_set_limit, the live-bytes flush
 * that checks it or hands it to the collector's hook) and the process-wide setup and
 * teardown of the heap (gcl_heap_init_with, gcl_heap_finish) with the gc module's entry
 * points; split from core/heap.c, which keeps object death and memory release.
 *
 * Invariants: the limit is written once, before any thread attaches; gcl_heap_bytes_flush
 * stays out of line (the drain's register allocation, issue 13); module option values
 * live in static storage for the process's lifetime. No macros change this file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/urcu-qsbr.h>

#include "allocator.h"
#include "collector.h"
#include "freelist.h"
#include "gil.h"
#include "mutator.h"
#include "stats.h"
#include "typed-option.h"

/* --- the heap limit (mutator.h) --------------------------------------------------------- */

static int64_t heap_limit; /* 0: none; written once before any thread attaches */
void (*gcl_oom_handler)(int64_t live_bytes, int64_t limit);

/* gcl_alloc_failed under a limit: the cell ran out of memory, so it is oom too. */
static void heap_alloc_failed(size_t bytes) {
  (void)bytes;
  if (gcl_oom_handler && heap_limit > 0) gcl_oom_handler(gcl_stats_live_bytes(), heap_limit);
}

void gcl_heap_set_limit(int64_t bytes) {
  heap_limit = bytes > 0 ? bytes : 0;
  gcl_alloc_failed_hook = heap_limit ? heap_alloc_failed : NULL;
}
int64_t gcl_heap_limit(void) { return heap_limit; }
void (*gcl_heap_flush_hook)(struct gcl_mutator *m, int64_t live_bytes);


_Noreturn static void heap_over_limit(int64_t live) {
  if (gcl_oom_handler) gcl_oom_handler(live, heap_limit);
  fprintf(stderr, "gclab: heap of %lld bytes exceeds its limit of %lld bytes\n", (long long)live,
          (long long)heap_limit);
  abort();
}

/* Not inlined into the dealloc drain's tally_flush: gcc's register allocation there then
 * spills around every free (2 more instructions per object on binary-trees, issue 13). */
__attribute__((noinline)) void gcl_heap_bytes_flush(struct gcl_mutator *m) {
  gcl_stats_alloc_fold(&m->stats); /* the allocations since the last flush (core/stats.h) */
  int64_t live = gcl_stats_add_live_bytes(m->stats.live_bytes_delta);
  m->stats.live_bytes_delta = 0;
  if (gcl_heap_flush_hook) gcl_heap_flush_hook(m, live); /* the collector owns the limit */
  else if (GCL_UNLIKELY(heap_limit > 0 && live > heap_limit)) heap_over_limit(live);
}

void gcl_heap_out_of_memory(int64_t live_bytes) { heap_over_limit(live_bytes); }

/* --- process-wide setup --------------------------------------------------------------- */

char gcl_init_invalid_reason[160];

int gcl_heap_init_with(const struct gcl_heap_config *cfg) {
  /* Module option values live here for the process's lifetime: a module may keep
   * pointers into them (string options). */
  static union gcl_opt_value copts[GCL_MODULE_MAX_OPTS], aopts[GCL_MODULE_MAX_OPTS];
  GCL_ASSERT_ALWAYS(gcl_collector_module.nopts <= GCL_MODULE_MAX_OPTS &&
                    gcl_allocator_module.nopts <= GCL_MODULE_MAX_OPTS);
  if (cfg && cfg->collector_opts)
    memcpy(copts, cfg->collector_opts, gcl_collector_module.nopts * sizeof *copts);
  else
    gcl_module_defaults(&gcl_collector_module, copts);
  if (cfg && cfg->allocator_opts)
    memcpy(aopts, cfg->allocator_opts, gcl_allocator_module.nopts * sizeof *aopts);
  else
    gcl_module_defaults(&gcl_allocator_module, aopts);
  unsigned threads = cfg && cfg->threads ? cfg->threads : 1;
  gcl_gil_init(cfg && cfg->gil, cfg ? cfg->gil_interval_us : 0);
  gcl_freelists_enable(cfg && cfg->freelists);
  struct gcl_init ai = {threads, aopts}, ci = {threads, copts};
  int rc = gcl_allocator_init(&ai);
  if (rc == 0) rc = gcl_collector_init(&ci);
  return rc;
}

int gcl_heap_init(void) { return gcl_heap_init_with(NULL); }

void gcl_heap_finish(void) {
  gcl_collector_finish();
  /* Every deferred batch has been handed to call_rcu by its thread's detach; wait for
   * liburcu to run them so that allocator figures are final. The caller is not a
   * registered reader, as rcu_barrier requires. */
  urcu_qsbr_barrier();
  gcl_freelists_finish();
}

void gcl_collect(struct gcl_mutator *m, int generation) { gcl_collector_collect(m, generation); }
uint64_t gcl_freeze(struct gcl_mutator *m) { return gcl_collector_freeze(m, true); }
uint64_t gcl_unfreeze(struct gcl_mutator *m) { return gcl_collector_freeze(m, false); }
bool gcl_set_auto_collect(struct gcl_mutator *m, bool on) { return gcl_collector_set_auto(m, on); }
