/* SPDX-License-Identifier: MIT */
/* runner/sampler.c — the memory sampler (see sampler.h). One pthread sleeps on a
 * condition variable with an absolute CLOCK_MONOTONIC deadline, so the period does not
 * drift with the time a sample takes, and stop wakes it at once. */
#include "sampler.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "allocator.h"
#include "pause.h"
#include "stats.h"

static struct {
  pthread_t thread;            /* the sampler */
  pthread_mutex_t lock;        /* guards stop and the wait */
  pthread_cond_t cond;         /* signalled by stop */
  bool running;                /* a thread was started */
  bool stop;                   /* asked to stop */
  uint64_t period_ns;          /* between samples */
  struct gcl_sample *samples;  /* GCL_SAMPLES_MAX, written only by the sampler thread */
  uint32_t n;                  /* samples taken */
} S = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void take(void) {
  if (S.n == GCL_SAMPLES_MAX) return;
  /* The live total is exact to within threads x GCL_HEAP_BYTES_BATCH (core/stats.h): a
   * thread that frees what another allocated can push it below 0 for a moment, which reads
   * as 0 here (a negative would read as "not measured"). */
  int64_t live = gcl_stats_live_bytes();
  S.samples[S.n++] = (struct gcl_sample){gcl_now_ns(), gcl_stats_rss_bytes(), live < 0 ? 0 : live,
                                         gcl_allocator_committed_bytes()};
}

static void *loop(void *arg) {
  (void)arg;
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  pthread_mutex_lock(&S.lock);
  /* Invariant: one sample per period until stop; the last one is taken by stop's caller
   * after the join, so the window's end is covered. */
  while (!S.stop) {
    pthread_mutex_unlock(&S.lock);
    take();
    pthread_mutex_lock(&S.lock);
    uint64_t ns = (uint64_t)next.tv_nsec + S.period_ns;
    next.tv_sec += (time_t)(ns / 1000000000u);
    next.tv_nsec = (long)(ns % 1000000000u);
    while (!S.stop && pthread_cond_timedwait(&S.cond, &S.lock, &next) != ETIMEDOUT) {
    }
  }
  pthread_mutex_unlock(&S.lock);
  return NULL;
}

int gcl_sampler_start(uint64_t period_ns) {
  if (period_ns == 0) return 0;
  S.period_ns = period_ns;
  S.samples = malloc(GCL_SAMPLES_MAX * sizeof *S.samples);
  if (!S.samples) return -ENOMEM;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&S.cond, &ca);
  pthread_condattr_destroy(&ca);
  int rc = pthread_create(&S.thread, NULL, loop, NULL);
  if (rc != 0) return -rc;
  S.running = true;
  return 0;
}

const struct gcl_sample *gcl_sampler_stop(uint32_t *n) {
  *n = 0;
  if (!S.running) return NULL;
  pthread_mutex_lock(&S.lock);
  S.stop = true;
  pthread_cond_signal(&S.cond);
  pthread_mutex_unlock(&S.lock);
  pthread_join(S.thread, NULL);
  S.running = false;
  take();
  *n = S.n;
  return S.samples;
}

double gcl_sampler_mean_rss(const struct gcl_sample *s, uint32_t n, uint64_t t0, uint64_t t1) {
  double area = 0, span = 0;
  /* Sample i's value holds over [t_i, t_{i+1}) clipped to [t0, t1]. */
  for (uint32_t i = 0; i + 1 < n; i++) {
    if (s[i].rss < 0) continue;
    uint64_t a = s[i].t_ns < t0 ? t0 : s[i].t_ns, b = s[i + 1].t_ns > t1 ? t1 : s[i + 1].t_ns;
    if (b <= a) continue;
    area += (double)s[i].rss * (double)(b - a);
    span += (double)(b - a);
  }
  return span > 0 ? area / span : -1;
}
