/* SPDX-License-Identifier: MIT */
/* collectors/rc/rc.c — cold paths of the pure reference-counting collectors.
 *
 * One source, two flavors (as liburcu builds its flavors): compiled with rc-attrs.h it is
 * `rc` (atomic counts), with rc-plain-attrs.h it is `rc-plain` (non-atomic counts). Objects
 * die when their count reaches zero (core/heap.c: gcl_dealloc); there is no collection, so
 * nothing here runs on a hot path. */
#include <errno.h>
#include <stdio.h>

#include "collector.h"
#include "report.h"

/* Pure RC declares no options and no figures of its own. */
GCL_COLLECTOR_DECLARE(GCL_NONE, 0, GCL_NONE, 0);

int gcl_collector_init(const struct gcl_init *init) {
  (void)init;
  return 0;
}
void gcl_collector_thread_attach(struct gcl_mutator *m) { (void)m; }
void gcl_collector_thread_detach(struct gcl_mutator *m) { (void)m; }

/* Pure RC has nothing to collect: unreachable cycles stay (and are counted as leaked). */
void gcl_collector_collect(struct gcl_mutator *m, int generation) { (void)m, (void)generation; }
void gcl_collector_finish(void) {}
/* Nothing is tracked, so there is nothing to freeze; there are no automatic collections to
 * switch on or off. */
uint64_t gcl_collector_freeze(struct gcl_mutator *m, bool freeze) {
  (void)m, (void)freeze;
  return 0;
}
bool gcl_collector_set_auto(struct gcl_mutator *m, bool on) {
  (void)m, (void)on;
  return false;
}

int gcl_collector_check_threads(unsigned threads, char *why, size_t why_len) {
  if (gcl_rc_kind() == GCL_RC_PLAIN && threads > 1) {
    snprintf(why, why_len, "rc-plain counts non-atomically: 1 thread only, not %u", threads);
    return -EINVAL;
  }
  return 0;
}

void gcl_collector_report(struct gcl_report *r) {
  /* A measured zero: pure RC never runs a collection. gc_s is not written: the time spent
   * freeing is interleaved with the mutator's and not measured apart. */
  gcl_report_u64(r, "collections", 0);
}
