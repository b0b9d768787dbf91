/* SPDX-License-Identifier: MIT */
/* core/garbage.h — the outstanding cyclic garbage ledger: how many objects that are already
 * unreachable cyclic garbage the collector has not freed yet, its peak and its
 * time-weighted mean over the measured run (the figure CPython's developers used to judge
 * GC policies, PR #142001).
 *
 * Who says what:
 *  - a workload that knows exactly when objects become unreachable cyclic garbage (on a
 *    garbage cycle or reachable only from one) calls gcl_garbage_made(n) at that moment
 *    (cycles), or gcl_garbage_made_at(n, t) with the earliest time t it could have become
 *    so when it learns it late (pyheap stamps a region's leaked copies after the rebuild,
 *    at the rebuild's start); the total it reports equals its ctx->cyclic_garbage;
 *  - a collector that frees cycles calls gcl_garbage_counts_frees() once at init and
 *    gcl_garbage_freed(n) after each collection's clearing with the number of objects
 *    that clearing freed (all of them garbage that pure RC would leak: acyclic garbage
 *    dies by RC outside collections). A collector that frees no cycles never calls it
 *    (outstanding = made, exactly); one that frees cycles without counting them leaves
 *    the figures unknown (gcl_garbage_known).
 * outstanding(t) = made so far - freed so far. Each call stamps its change with
 * gcl_now_ns() read under the ledger's lock; the integral over [t0, t1] is kept as sums of n and n * t, so no event
 * needs the previous one's time (gcl_garbage_window). The peak is taken under the
 * ledger's lock at every change, so it is exact for the order of the calls.
 *
 * Cost: one clock read and one uncontended mutex per gcl_garbage_made (cycles: one per
 * dropped cyclic structure). No macros change it. */
#ifndef GCL_GARBAGE_H
#define GCL_GARBAGE_H

#include <stdbool.h>
#include <stdint.h>

/* n objects just became unreachable cyclic garbage (workloads). */
void gcl_garbage_made(uint64_t n);
/* n objects of such garbage were just freed (collectors). */
void gcl_garbage_freed(uint64_t n);
/* The same at an explicit gcl_now_ns time (tests; a workload that learns late when its
 * garbage was made). It may be earlier than events already recorded: the integral is
 * exact whatever the order, the peak follows the order of the calls. */
void gcl_garbage_made_at(uint64_t n, uint64_t now_ns);
void gcl_garbage_freed_at(uint64_t n, uint64_t now_ns);
/* The collector reports its frees of cyclic garbage (call once, at init). */
void gcl_garbage_counts_frees(void);
/* Whether outstanding garbage is known under this collector: it counts its frees, or it
 * frees no cycles (collects_cycles false). */
bool gcl_garbage_known(bool collects_cycles);

/* The ledger over the window [t0_ns, t1_ns] (gcl_now_ns times; every event happened in it). */
struct gcl_garbage_figures {
  uint64_t made;  /* objects made garbage */
  uint64_t freed; /* of those, freed */
  int64_t peak;   /* highest outstanding count */
  double mean;    /* time-weighted mean outstanding count over the window */
};
void gcl_garbage_window(uint64_t t0_ns, uint64_t t1_ns, struct gcl_garbage_figures *out);
/* Forget everything (tests; a runner's first event starts from zero anyway). */
void gcl_garbage_reset(void);

#endif
