/* SPDX-License-Identifier: MIT */
/* core/stats.c — heap-wide totals: merged per-thread counters and the live-bytes peak. */
#include "stats.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t totals_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gcl_heap_stats totals; /* guarded by totals_lock, except the two atomics below */
static int64_t live_bytes;           /* atomic: sum of flushed per-thread deltas */
static int64_t peak_bytes;           /* atomic: highest value live_bytes reached */

int64_t gcl_stats_live_bytes(void) { return __atomic_load_n(&live_bytes, __ATOMIC_RELAXED); }

int64_t gcl_stats_add_live_bytes(int64_t delta) {
  int64_t now = __atomic_add_fetch(&live_bytes, delta, __ATOMIC_RELAXED);
  int64_t peak = __atomic_load_n(&peak_bytes, __ATOMIC_RELAXED);
  while (now > peak &&
         !__atomic_compare_exchange_n(&peak_bytes, &peak, now, true, __ATOMIC_RELAXED,
                                      __ATOMIC_RELAXED)) {
  }
  return now;
}

void gcl_stats_merge(const struct gcl_thread_stats *s) {
  int64_t pending = gcl_stats_alloc_pending(s); /* not folded yet: counted here */
  gcl_stats_add_live_bytes(s->live_bytes_delta + pending);
  pthread_mutex_lock(&totals_lock);
  totals.objects_allocated += s->objects_allocated;
  totals.bytes_allocated += s->bytes_allocated + (uint64_t)pending;
  totals.objects_freed += s->objects_freed;
  totals.deferred_frees += s->deferred_frees;
  totals.objects_immortal += s->objects_immortal;
  totals.freelist_parked += s->freelist_parked;
  totals.freelist_reused += s->freelist_reused;
  totals.freelist_released += s->freelist_released;
  pthread_mutex_unlock(&totals_lock);
}

void gcl_stats_snapshot(struct gcl_heap_stats *out) {
  pthread_mutex_lock(&totals_lock);
  *out = totals;
  pthread_mutex_unlock(&totals_lock);
  out->peak_heap_bytes = __atomic_load_n(&peak_bytes, __ATOMIC_RELAXED);
}

void gcl_stats_reset(void) {
  pthread_mutex_lock(&totals_lock);
  memset(&totals, 0, sizeof totals);
  pthread_mutex_unlock(&totals_lock);
  __atomic_store_n(&live_bytes, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&peak_bytes, 0, __ATOMIC_RELAXED);
}

int64_t gcl_stats_rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f) return -1;
  long size, resident;
  int ok = fscanf(f, "%ld %ld", &size, &resident) == 2;
  fclose(f);
  return ok ? (int64_t)resident * sysconf(_SC_PAGESIZE) : -1;
}
