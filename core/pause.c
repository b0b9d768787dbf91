/* core/pause.c — log-linear pause histogram and the process-wide pause recorder. */
#include "pause.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#define SUB (1u << GCL_PAUSE_SUB_BITS)

unsigned gcl_pause_bucket_of(uint64_t ns) {
  if (ns < SUB) return (unsigned)ns;
  unsigned e = 63u - (unsigned)__builtin_clzll(ns); /* e >= GCL_PAUSE_SUB_BITS */
  unsigned sub = (unsigned)(ns >> (e - GCL_PAUSE_SUB_BITS)) & (SUB - 1);
  return (e - GCL_PAUSE_SUB_BITS + 1) * SUB + sub;
}

uint64_t gcl_pause_bucket_low(unsigned b) {
  if (b < SUB) return b;
  unsigned e = b / SUB + GCL_PAUSE_SUB_BITS - 1, sub = b % SUB;
  return ((uint64_t)(SUB + sub)) << (e - GCL_PAUSE_SUB_BITS);
}

uint64_t gcl_pause_bucket_high(unsigned b) {
  if (b < SUB) return b;
  unsigned e = b / SUB + GCL_PAUSE_SUB_BITS - 1;
  return gcl_pause_bucket_low(b) + ((uint64_t)1 << (e - GCL_PAUSE_SUB_BITS)) - 1;
}

void gcl_pause_hist_add(struct gcl_pause_hist *h, uint64_t ns) {
  h->count++;
  h->total_ns += ns;
  if (ns > h->max_ns) h->max_ns = ns;
  h->buckets[gcl_pause_bucket_of(ns)]++;
}

void gcl_pause_hist_merge(struct gcl_pause_hist *into, const struct gcl_pause_hist *from) {
  into->count += from->count;
  into->total_ns += from->total_ns;
  if (from->max_ns > into->max_ns) into->max_ns = from->max_ns;
  for (unsigned i = 0; i < GCL_PAUSE_BUCKETS; i++) into->buckets[i] += from->buckets[i];
}

uint64_t gcl_pause_hist_quantile(const struct gcl_pause_hist *h, double q) {
  if (h->count == 0) return 0;
  /* The rank of the q-quantile is ceil(q * count), at least 1. */
  double r = q * (double)h->count;
  uint64_t rank = (uint64_t)r;
  if ((double)rank < r) rank++;
  if (rank < 1) rank = 1;
  if (rank >= h->count) return h->max_ns; /* the largest value is known exactly */
  uint64_t seen = 0;
  for (unsigned b = 0; b < GCL_PAUSE_BUCKETS; b++) {
    seen += h->buckets[b];
    if (seen >= rank) {
      uint64_t lo = gcl_pause_bucket_low(b), hi = gcl_pause_bucket_high(b);
      uint64_t mid = lo + (hi - lo) / 2;
      return mid > h->max_ns ? h->max_ns : mid;
    }
  }
  return h->max_ns;
}

static pthread_mutex_t recorder_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gcl_pause_hist recorder; /* guarded by recorder_lock */

void gcl_pause_record(uint64_t ns) {
  pthread_mutex_lock(&recorder_lock);
  gcl_pause_hist_add(&recorder, ns);
  pthread_mutex_unlock(&recorder_lock);
}

void gcl_pause_snapshot(struct gcl_pause_hist *out) {
  pthread_mutex_lock(&recorder_lock);
  *out = recorder;
  pthread_mutex_unlock(&recorder_lock);
}

void gcl_pause_reset(void) {
  pthread_mutex_lock(&recorder_lock);
  memset(&recorder, 0, sizeof recorder);
  pthread_mutex_unlock(&recorder_lock);
}

uint64_t gcl_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
