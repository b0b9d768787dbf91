/* SPDX-License-Identifier: MIT */
/* core/pause.c — the log-linear histogram of core/pause.h, the MMU of a pause log (per
 * thread: world stops plus that thread's own pauses), the clock. The recorder that fills histograms and log from events is core/recorder.c. */
#include "pause.h"

#include <stdlib.h>
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

struct span {
  uint64_t a, b; /* [a, b) */
};

static int span_cmp(const void *pa, const void *pb) {
  const struct span *x = pa, *y = pb;
  return (x->a > y->a) - (x->a < y->a);
}

/* Pause time in [0, x) given merged sorted spans and prefix sums pre[i] = length of
 * spans[0..i). */
static uint64_t paused_before(const struct span *s, const uint64_t *pre, uint32_t n, uint64_t x) {
  /* The last span starting before x: lo = number of spans with a < x. */
  uint32_t lo = 0, hi = n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (s[mid].a < x) lo = mid + 1; else hi = mid;
  }
  if (!lo) return 0;
  const struct span *l = &s[lo - 1];
  return pre[lo - 1] + ((x < l->b ? x : l->b) - l->a);
}

bool gcl_pause_kind_is_thread(const char *kind) {
  return strcmp(kind, "handshake-callback") == 0 || strcmp(kind, "assist") == 0 || strcmp(kind, "pace") == 0;
}

/* The most paused time any window of w inside [t0, t1] holds, given m spans (clamped to
 * [t0, t1], unsorted, may overlap; sorted and merged in place). */
static uint64_t worst_window(struct span *s, uint64_t *pre, uint32_t m, uint64_t t0, uint64_t t1,
                             uint64_t w) {
  qsort(s, m, sizeof *s, span_cmp);
  /* Merge overlaps; invariant: s[0..k) are disjoint and sorted. */
  uint32_t k = 0;
  for (uint32_t i = 0; i < m; i++) {
    if (k && s[i].a <= s[k - 1].b) {
      if (s[i].b > s[k - 1].b) s[k - 1].b = s[i].b;
    } else {
      s[k++] = s[i];
    }
  }
  pre[0] = 0;
  for (uint32_t i = 0; i < k; i++) pre[i + 1] = pre[i] + (s[i].b - s[i].a);
  /* The worst window starts at a pause start or ends at a pause end (the paused time in
   * a sliding window is piecewise linear, extreme at those points); clamp to [t0, t1-w]. */
  uint64_t worst = 0;
  for (uint32_t i = 0; i < k; i++) {
    uint64_t starts[2] = {s[i].a, s[i].b >= t0 + w ? s[i].b - w : t0};
    for (int j = 0; j < 2; j++) {
      uint64_t x = starts[j] > t1 - w ? t1 - w : starts[j];
      if (x < t0) x = t0;
      uint64_t p = paused_before(s, pre, k, x + w) - paused_before(s, pre, k, x);
      if (p > worst) worst = p;
    }
  }
  return worst;
}

/* Append event e's span, clamped to [t0, t1], to s[*m] if it is not empty. */
static void add_span(struct span *s, uint32_t *m, const struct gcl_pause_event *e, uint64_t t0, uint64_t t1) {
  uint64_t a = e->start_ns, b = e->start_ns + e->duration_ns;
  if (a < t0) a = t0;
  if (b > t1) b = t1;
  if (b > a) s[(*m)++] = (struct span){a, b};
}

double gcl_mmu(const struct gcl_pause_event *ev, uint32_t n, uint64_t t0, uint64_t t1,
               uint64_t w) {
  if (t1 < t0 || t1 - t0 < w || w == 0) return -1;
  struct span *s = malloc((n ? n : 1) * sizeof *s);
  uint64_t *pre = malloc(((size_t)n + 1) * sizeof *pre);
  uint32_t *tids = malloc((n ? n : 1) * sizeof *tids);
  if (!s || !pre || !tids) abort();
  /* The threads with pauses of their own (each once; the log is small: quadratic is fine). */
  uint32_t nt = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (!gcl_pause_kind_is_thread(ev[i].kind)) continue;
    uint32_t k = 0;
    while (k < nt && tids[k] != ev[i].thread) k++;
    if (k == nt) tids[nt++] = ev[i].thread;
  }
  uint64_t worst = 0;
  /* Loop invariant: worst is the most paused window of the world (t == nt) or of every
   * thread tids[0..t) seen so far. */
  for (uint32_t t = 0; t <= nt; t++) {
    if (t == nt && nt > 0) break; /* a thread's spans include the world's: no worse alone */
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
      bool mine = t < nt && ev[i].thread == tids[t] && gcl_pause_kind_is_thread(ev[i].kind);
      if (mine || strcmp(ev[i].kind, "pause") == 0) add_span(s, &m, &ev[i], t0, t1);
    }
    uint64_t p = worst_window(s, pre, m, t0, t1, w);
    if (p > worst) worst = p;
  }
  free(s);
  free(pre);
  free(tids);
  return (double)(w - worst) / (double)w;
}

uint64_t gcl_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
