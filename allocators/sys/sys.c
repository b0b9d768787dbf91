/* SPDX-License-Identifier: MIT */
/* allocators/sys/sys.c — cold paths of the system allocator. It reports what glibc's
 * mallinfo2 measures at exit (heap bytes the C library still holds); peak footprint,
 * arenas and pools are not measured for it and are left empty. */
#include <malloc.h>

#include "allocator.h"
#include "report.h"

static const struct gcl_fig_decl figures[] = {
    {"footprint_end_kb", "kb", "heap bytes glibc still holds at exit (mallinfo2 arena + mmapped)"},
};
GCL_ALLOCATOR_DECLARE(GCL_NONE, 0, figures, GCL_COUNT(figures));

int gcl_allocator_init(const struct gcl_init *init) {
  (void)init;
  return 0;
}
void gcl_allocator_thread_attach(struct gcl_allocator_mutator *am) { (void)am; }
void gcl_allocator_thread_detach(struct gcl_allocator_mutator *am) { (void)am; }

/* Not sampled: glibc's only measure, mallinfo2, walks every free chunk of every arena
 * under the arena's lock, so sampling it every few milliseconds doubled binary-trees' time
 * on sys (measured). Its end value is the footprint_end_kb figure. */
int64_t gcl_allocator_committed_bytes(void) { return -1; }

void gcl_allocator_report(struct gcl_report *r) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 mi = mallinfo2();
  gcl_report_figure_u64(r, "footprint_end_kb", (uint64_t)(mi.arena + mi.hblkhd) / 1024);
#else
  (void)r;
#endif
}
