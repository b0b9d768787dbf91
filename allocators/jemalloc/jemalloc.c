/* SPDX-License-Identifier: MIT */
/* allocators/jemalloc/jemalloc.c — cold paths of the jemalloc adapter: its figures, read
 * with mallctl after refreshing jemalloc's statistics epoch. A statistic the library was
 * built without (mallctl fails) is not written. */
#include <stdint.h>

#include "allocator.h"
#include "report.h"

static const struct gcl_fig_decl figures[] = {
    {"allocated_end_kb", "kb", "bytes in allocated blocks at report time (stats.allocated)"},
    {"active_end_kb", "kb", "bytes in active pages at report time (stats.active)"},
    {"resident_end_kb", "kb", "bytes in physically resident pages at report time (stats.resident)"},
    {"mapped_end_kb", "kb", "bytes in mapped extents at report time (stats.mapped)"},
};
GCL_ALLOCATOR_DECLARE(GCL_NONE, 0, figures, GCL_COUNT(figures));

int gcl_allocator_init(const struct gcl_init *init) {
  (void)init;
  return 0;
}
void gcl_allocator_thread_attach(struct gcl_allocator_mutator *am) { (void)am; }
void gcl_allocator_thread_detach(struct gcl_allocator_mutator *am) { (void)am; }

/* jemalloc's active pages (stats.active) after an epoch refresh. */
int64_t gcl_allocator_committed_bytes(void) {
  uint64_t epoch = 1;
  size_t len = sizeof epoch, v, vlen = sizeof v;
  if (mallctl("epoch", &epoch, &len, &epoch, len) != 0) return -1;
  return mallctl("stats.active", &v, &vlen, NULL, 0) == 0 ? (int64_t)v : -1;
}

void gcl_allocator_report(struct gcl_report *r) {
  uint64_t epoch = 1;
  size_t len = sizeof epoch;
  if (mallctl("epoch", &epoch, &len, &epoch, len) != 0) return;
  static const struct { const char *ctl, *fig; } stats[] = {
      {"stats.allocated", "allocated_end_kb"},
      {"stats.active", "active_end_kb"},
      {"stats.resident", "resident_end_kb"},
      {"stats.mapped", "mapped_end_kb"},
  };
  for (unsigned i = 0; i < sizeof stats / sizeof stats[0]; i++) {
    size_t v, vlen = sizeof v;
    if (mallctl(stats[i].ctl, &v, &vlen, NULL, 0) == 0) gcl_report_figure_u64(r, stats[i].fig, v / 1024);
  }
}
