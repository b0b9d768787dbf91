/* SPDX-License-Identifier: MIT */
/* core/garbage.c — the outstanding cyclic garbage ledger (core/garbage.h).
 *
 * With events (t_e, d_e) (d > 0 made, d < 0 freed), outstanding(t) = sum of d_e over
 * t_e <= t, and its integral up to t1 is sum of d_e * (t1 - t_e) = t1 * (made - freed) -
 * (sum made n t - sum freed n t). Times are relative to the first event (origin), in ns,
 * and the n * t sums are 128-bit: exact for any run. Everything is under `lock`; the
 * clock of gcl_garbage_made/freed is read under it too (a read before the lock let a
 * second thread's earlier time arrive after the origin was set, and the unsigned
 * difference wrapped: negative means at 2+ threads on pyheap). */
#include "garbage.h"

#include <pthread.h>

#include "pause.h"

/* The ledger; every field under lock. */
static struct {
  pthread_mutex_t lock;
  bool started;            /* origin is set */
  uint64_t origin;         /* gcl_now_ns of the first event */
  uint64_t made, freed;    /* totals */
  int64_t peak;            /* highest made - freed at any event */
  unsigned __int128 made_t, freed_t; /* sums of n * (t - origin) */
  bool counts_frees;       /* the collector calls gcl_garbage_freed */
} ledger = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* now relative to the origin. An event earlier than the origin (a thread whose clock read
 * lost the race for the lock, or a workload stamping a time it learnt late) moves the
 * origin back to it, and the n * t sums already kept move with it, exactly. */
static uint64_t since_origin(uint64_t now) {
  if (!ledger.started) {
    ledger.started = true;
    ledger.origin = now;
  } else if (now < ledger.origin) {
    uint64_t shift = ledger.origin - now;
    ledger.made_t += (unsigned __int128)ledger.made * shift;
    ledger.freed_t += (unsigned __int128)ledger.freed * shift;
    ledger.origin = now;
  }
  return now - ledger.origin;
}

/* Both under lock; now == 0: read the clock under the lock, so the events of different
 * threads are stamped in the order the lock saw them (the peak is taken in that order). */
static void made_locked(uint64_t n, uint64_t now) {
  ledger.made_t += (unsigned __int128)n * since_origin(now ? now : gcl_now_ns());
  ledger.made += n;
  int64_t out = (int64_t)(ledger.made - ledger.freed);
  if (out > ledger.peak) ledger.peak = out;
}

static void freed_locked(uint64_t n, uint64_t now) {
  ledger.freed_t += (unsigned __int128)n * since_origin(now ? now : gcl_now_ns());
  ledger.freed += n;
}

void gcl_garbage_made(uint64_t n) {
  if (!n) return;
  pthread_mutex_lock(&ledger.lock);
  made_locked(n, 0);
  pthread_mutex_unlock(&ledger.lock);
}

void gcl_garbage_freed(uint64_t n) {
  if (!n) return;
  pthread_mutex_lock(&ledger.lock);
  freed_locked(n, 0);
  pthread_mutex_unlock(&ledger.lock);
}

void gcl_garbage_made_at(uint64_t n, uint64_t now) {
  pthread_mutex_lock(&ledger.lock);
  made_locked(n, now);
  pthread_mutex_unlock(&ledger.lock);
}

void gcl_garbage_freed_at(uint64_t n, uint64_t now) {
  pthread_mutex_lock(&ledger.lock);
  freed_locked(n, now);
  pthread_mutex_unlock(&ledger.lock);
}

void gcl_garbage_counts_frees(void) {
  pthread_mutex_lock(&ledger.lock);
  ledger.counts_frees = true;
  pthread_mutex_unlock(&ledger.lock);
}

bool gcl_garbage_known(bool collects_cycles) {
  pthread_mutex_lock(&ledger.lock);
  bool known = !collects_cycles || ledger.counts_frees;
  pthread_mutex_unlock(&ledger.lock);
  return known;
}

void gcl_garbage_window(uint64_t t0_ns, uint64_t t1_ns, struct gcl_garbage_figures *out) {
  pthread_mutex_lock(&ledger.lock);
  out->made = ledger.made;
  out->freed = ledger.freed;
  out->peak = ledger.peak;
  out->mean = 0;
  if (ledger.started && t1_ns > t0_ns) {
    /* t1 relative to the origin; the signed total as made part minus freed part, each
     * exact in 128 bits, then one rounding to double. */
    unsigned __int128 t1 = t1_ns > ledger.origin ? t1_ns - ledger.origin : 0;
    unsigned __int128 plus = t1 * ledger.made + ledger.freed_t;
    unsigned __int128 minus = t1 * ledger.freed + ledger.made_t;
    double area = plus >= minus ? (double)(plus - minus) : -(double)(minus - plus);
    out->mean = area / (double)(t1_ns - t0_ns);
  }
  pthread_mutex_unlock(&ledger.lock);
}

void gcl_garbage_reset(void) {
  pthread_mutex_lock(&ledger.lock);
  bool counts = ledger.counts_frees;
  ledger.started = false;
  ledger.origin = 0;
  ledger.made = ledger.freed = 0;
  ledger.peak = 0;
  ledger.made_t = ledger.freed_t = 0;
  ledger.counts_frees = counts;
  pthread_mutex_unlock(&ledger.lock);
}
