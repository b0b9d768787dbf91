/* SPDX-License-Identifier: MIT */
/* allocators/bdw/bdw.c — cold paths of the bdw allocator (libgc's heap; bdw-attrs.h).
 *
 * libgc itself is initialised by the collector (collectors/bdw/bdw.c: parallel marking
 * and incremental mode must be chosen before GC_INIT), which init runs after this one; so
 * this file only reports libgc's heap sizes. Invariant: nothing here allocates. */
#include <gc/gc.h>

#include "allocator.h"
#include "report.h"

static const struct gcl_fig_decl figures[] = {
    {"heap_end_kb", "kb", "libgc's heap size at exit (GC_get_heap_size)"},
    {"free_end_kb", "kb", "free bytes in libgc's heap at exit (GC_get_free_bytes)"},
    {"unmapped_end_kb", "kb", "heap bytes libgc returned to the OS at exit (GC_get_unmapped_bytes)"},
};
GCL_ALLOCATOR_DECLARE(GCL_NONE, 0, figures, GCL_COUNT(figures));

int gcl_allocator_init(const struct gcl_init *init) {
  (void)init;
  return 0;
}
void gcl_allocator_thread_attach(struct gcl_allocator_mutator *am) { (void)am; }
void gcl_allocator_thread_detach(struct gcl_allocator_mutator *am) { (void)am; }

/* Mapped heap bytes (libgc's heap size less what it unmapped). GC_get_heap_size takes
 * libgc's allocation lock; it is cheap. Before GC_INIT it is 0. */
int64_t gcl_allocator_committed_bytes(void) {
  if (!GC_is_init_called()) return -1;
  return (int64_t)GC_get_heap_size() - (int64_t)GC_get_unmapped_bytes();
}

void gcl_allocator_report(struct gcl_report *r) {
  if (!GC_is_init_called()) return;
  gcl_report_figure_u64(r, "heap_end_kb", (uint64_t)GC_get_heap_size() / 1024);
  gcl_report_figure_u64(r, "free_end_kb", (uint64_t)GC_get_free_bytes() / 1024);
  gcl_report_figure_u64(r, "unmapped_end_kb", (uint64_t)GC_get_unmapped_bytes() / 1024);
}
