/* SPDX-License-Identifier: MIT */
/* core/stats.h — per-thread counters, merged into heap-wide totals when a thread detaches.
 *
 * The counters are plain (owner-only) on the hot path. Live heap bytes are the one figure
 * that needs a global view for the peak: each thread accumulates a signed delta and adds it
 * to one atomic total when it passes GCL_HEAP_BYTES_BATCH, so the recorded peak is exact
 * to within threads x GCL_HEAP_BYTES_BATCH bytes (documented in results/README.md).
 *
 * Immortal objects (gcl_make_immortal) count once in objects_allocated, never in
 * objects_freed, and are not leaked: objects_leaked = allocated - freed - immortal. A free
 * onto a free list (core/freelist.h) is a free (objects_freed, live bytes drop) and an
 * allocation from one is an allocation; the freelist_* counters say how many of each.
 *
 * The allocation fast path (gcl_count_alloc, core/mutator.h) counts the object and
 * subtracts its bytes from a budget, one subtraction and a sign test (issue 13: it used to
 * add to three counters and compare); bytes_allocated and live_bytes_delta get those bytes
 * when the budget runs out and at every flush and merge (gcl_stats_alloc_fold), so every
 * figure read after a merge is exactly what per-allocation updates gave. A thread's
 * unflushed live bytes are then at most GCL_HEAP_BYTES_BATCH allocated (plus one object)
 * and at most GCL_HEAP_BYTES_BATCH freed, the same bound as before. */
#ifndef GCL_STATS_H
#define GCL_STATS_H

#include <stdint.h>

#define GCL_HEAP_BYTES_BATCH (64 * 1024)

struct gcl_deferred_batch;

struct gcl_thread_stats {
  uint64_t objects_allocated; /* objects this thread allocated */
  uint64_t bytes_allocated;   /* their bytes, prefix and header included, up to the last
                               * fold: add gcl_stats_alloc_pending for the exact figure */
  uint64_t objects_freed;     /* objects this thread freed (logically: count hit zero) */
  uint64_t deferred_frees;    /* of those, how many waited for a QSBR grace period */
  int64_t live_bytes_delta;   /* freed bytes (negative) and allocated bytes folded in by the
                               * last gcl_stats_alloc_fold, not yet added to the global
                               * total; the allocations since are gcl_stats_alloc_pending */
  uint64_t objects_immortal;  /* objects this thread made immortal (gcl_make_immortal) */
  uint64_t freelist_parked;   /* of objects_freed, how many went onto a free list */
  uint64_t freelist_reused;   /* of objects_allocated, how many came off a free list */
  uint64_t freelist_released; /* parked objects given back to the allocator (thread exit) */
  int64_t alloc_budget;       /* bytes left before the next fold: each allocation subtracts
                               * its bytes (gcl_count_alloc), below zero it flushes */
  int64_t alloc_budget_set;   /* what the last fold set alloc_budget to (0 at attach, whose
                               * zeroed stats are then consistent: nothing pending) */
  uint64_t dealloc_polls;     /* stop polls a dealloc drain made on a requested stop
                               * (core/heap.c); per thread, read by tests, not merged */
};

struct gcl_heap_stats {
  uint64_t objects_allocated; /* sums over every detached thread */
  uint64_t bytes_allocated;
  uint64_t objects_freed;
  uint64_t deferred_frees;
  int64_t peak_heap_bytes; /* highest live-bytes total observed */
  uint64_t objects_immortal;  /* immortal objects: allocated, never freed, not leaked */
  uint64_t freelist_parked;   /* free-list counters (core/freelist.h), summed */
  uint64_t freelist_reused;
  uint64_t freelist_released;
};

/* Bytes s allocated since its last fold: not yet in bytes_allocated nor live_bytes_delta. */
static inline int64_t gcl_stats_alloc_pending(const struct gcl_thread_stats *s) {
  return s->alloc_budget_set - s->alloc_budget;
}

/* Fold the pending allocations into bytes_allocated and live_bytes_delta (which then read
 * as if every allocation had added to them, as they did before issue 13) and start a new
 * budget of GCL_HEAP_BYTES_BATCH bytes. Called by every live-bytes flush (core/heap.c). */
static inline void gcl_stats_alloc_fold(struct gcl_thread_stats *s) {
  int64_t pending = gcl_stats_alloc_pending(s);
  s->bytes_allocated += (uint64_t)pending;
  s->live_bytes_delta += pending;
  s->alloc_budget = s->alloc_budget_set = GCL_HEAP_BYTES_BATCH;
}

/* Add s's counters (its pending allocations included) to the heap-wide totals. */
void gcl_stats_merge(const struct gcl_thread_stats *s);
void gcl_stats_snapshot(struct gcl_heap_stats *out);
int64_t gcl_stats_add_live_bytes(int64_t delta); /* updates the peak; the new total */
/* The live-bytes total now: exact to within threads x GCL_HEAP_BYTES_BATCH (deltas not
 * yet flushed). What collectors report as live data after a collection (core/event.h). */
int64_t gcl_stats_live_bytes(void);
/* The process's resident set in bytes (/proc/self/statm), or -1 when it cannot be read. */
int64_t gcl_stats_rss_bytes(void);
void gcl_stats_reset(void);                   /* tests only */

#endif
