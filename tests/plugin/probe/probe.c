/* SPDX-License-Identifier: MIT */
/* tests/plugin/probe/probe.c — cold paths of the `probe` test allocator (probe-attrs.h):
 * its declaration (two figures, one option) and its report. */
#include "allocator.h"
#include "report.h"

uint64_t gcl_probe_allocs, gcl_probe_frees;
size_t gcl_probe_pad;

static const struct gcl_opt_decl options[] = {
    {"pad", GCL_OPT_SIZE, "0", "0", "4096", NULL, "bytes added to every request"},
};
static const struct gcl_fig_decl figures[] = {
    {"allocs", "count", "calls of gcl_allocator_alloc"},
    {"pad_bytes", "bytes", "the pad option's value times the allocations (bytes wasted on purpose)"},
};
GCL_ALLOCATOR_DECLARE(options, GCL_COUNT(options), figures, GCL_COUNT(figures));

int gcl_allocator_init(const struct gcl_init *init) {
  gcl_probe_pad = (size_t)init->opts[0].u;
  return 0;
}
void gcl_allocator_thread_attach(struct gcl_allocator_mutator *am) { (void)am; }
void gcl_allocator_thread_detach(struct gcl_allocator_mutator *am) { (void)am; }

int64_t gcl_allocator_committed_bytes(void) { return -1; } /* malloc does not say */

void gcl_allocator_report(struct gcl_report *r) {
  uint64_t n = __atomic_load_n(&gcl_probe_allocs, __ATOMIC_RELAXED);
  gcl_report_figure_u64(r, "allocs", n);
  gcl_report_figure_u64(r, "pad_bytes", n * gcl_probe_pad);
}
