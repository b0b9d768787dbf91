/* SPDX-License-Identifier: MIT */
/* core/collector.h — what every collector's <name>.c implements (cold paths only; the hot
 * paths are the static inline functions of its <name>-attrs.h, see core/mutator.h).
 *
 * A collector's attrs header defines:
 *   GCL_COLLECTOR_NAME, GCL_COLLECTOR_PREFIX_SIZE   name and bytes before the header
 *   struct gcl_collector_mutator                    its per-thread state
 *   gcl_rc_kind(), gcl_barrier_kind(), gcl_needs_roots(), gcl_collects_cycles()
 *                                                   constant answers
 *   gcl_collector_on_alloc(cm, obj, type)           inline hook on every allocation
 *   gcl_collector_on_free(cm, obj)                  inline hook before an object's memory
 *                                                   is released (cm may be NULL: no mutator)
 * and may define GCL_COLLECTOR_ON_RELEASE 1 with gcl_collector_on_release(cm, obj), an
 * inline hook before every decrement (core/mutator.h), and GCL_COLLECTOR_NEVER_FREES 1
 * when it frees no object at all (none; see gcl_frees_objects() in core/mutator.h), and
 * GCL_COLLECTOR_ON_FREE_PLAIN 1 with gcl_collector_on_free_plain / gcl_collector_plain_frees
 * for plain deaths (core/heap.c says what they must do). A collector with a heap limit gives it to the
 * heap in its init (gcl_heap_set_limit): crossing it ends the cell with status oom. */
#ifndef GCL_COLLECTOR_H
#define GCL_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "module.h"
#include "mutator.h"

struct gcl_report; /* runner/report.h: the record being written */

/* Once per process, before any thread attaches; init->opts are this collector's option
 * values (gcl_collector_module's declaration order). 0, or -errno. */
int gcl_collector_init(const struct gcl_init *init);
void gcl_collector_thread_attach(struct gcl_mutator *m);
void gcl_collector_thread_detach(struct gcl_mutator *m);
/* An explicit collection request; generation -1 means a full collection. */
void gcl_collector_collect(struct gcl_mutator *m, int generation);
/* gc.freeze() (freeze true) / gc.unfreeze(): see gcl_freeze in core/mutator.h. Returns how
 * many objects moved; a collector that tracks nothing returns 0. */
uint64_t gcl_collector_freeze(struct gcl_mutator *m, bool freeze);
/* gc.enable() / gc.disable(): returns the previous setting; a collector without automatic
 * collections returns false and ignores the call. */
bool gcl_collector_set_auto(struct gcl_mutator *m, bool on);
/* After the last thread detached: a final collection where the collector has one. */
void gcl_collector_finish(void);
/* 0 if the collector can run `threads` mutator threads; else -EINVAL and a reason. */
int gcl_collector_check_threads(unsigned threads, char *why, size_t why_len);
/* Add the collector's figures to the record: core keys (collections, gc_s) with
 * gcl_report_u64/f64, its own declared figures with gcl_report_figure (r->module is
 * gcl_collector_module). Figures a collector does not measure are not written. Also called
 * for the short record of status oom, by the thread that crossed the heap limit while the
 * other mutators may still run: a collector that sets a limit reads only atomics here. */
void gcl_collector_report(struct gcl_report *r);

#endif
