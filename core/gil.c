/* SPDX-License-Identifier: MIT */
/* core/gil.c — the GIL itself (core/gil.h states the protocol): a mutex-protected flag with
 * two condition variables, as CPython's struct _gil_runtime_state.
 *
 * Invariants, all under gil.mutex:
 *  - locked == (holder != NULL); holder is the mutator that holds the GIL;
 *  - switch_number counts every take; a waiter asks the holder to drop only after a whole
 *    interval in which switch_number did not move, so a holder keeps the GIL for at least
 *    one interval against a waiter (CPython's take_gil);
 *  - GCL_SAFEPOINT_GIL_DROP is set only in the current holder's safepoint_work, and the
 *    holder clears it when it drops, so a request never outlives the holding it was for.
 *
 * Hand-off latency: a waiter that has just asked the holder to drop spins (the GIL's mutex
 * released) for up to GCL_GIL_SPIN_NS on the holder field before it sleeps again, so the
 * switch costs the holder's way to its next safepoint and not also a futex wake-up of the
 * waiter (on a VM, waking a halted vCPU: 50-500 us, every switch). It spins only when the
 * process may use more than one CPU, and at most once per drop request.
 *
 * The timed wait uses CLOCK_MONOTONIC. Macros: GCL_DEBUG (core/gil.h) and GCL_GIL_SPIN_NS
 * (default 200 us; 0 turns the spin off). */
#include "gil.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "assert.h"
#include "mutator.h"
#include "pause.h"

bool gcl_gil_enabled;

#ifndef GCL_GIL_SPIN_NS
#define GCL_GIL_SPIN_NS 200000
#endif

static struct {
  pthread_mutex_t mutex;       /* guards every field below */
  pthread_cond_t cond;         /* signalled when the GIL is released */
  pthread_cond_t switch_cond;  /* broadcast when a thread took it (forced switching) */
  struct gcl_mutator *holder;  /* the holder, NULL when free (atomic: debug checks and a
                                * spinning waiter read it without the mutex) */
  uint64_t switch_number;      /* takes, ever */
  unsigned last_index;         /* holder's index + 1 of the last take, 0 before any */
  uint64_t switches;           /* takes by a thread other than the previous holder */
  uint64_t drop_requests;      /* drop requests set by waiters */
  uint64_t spin_takes;         /* drop requests whose waiter saw the drop while spinning */
  uint64_t interval_ns;        /* the switch interval */
} gil = {.mutex = PTHREAD_MUTEX_INITIALIZER};

#if GCL_DEBUG >= 1
static int running; /* atomic: threads ATTACHED and holding the GIL */
#endif

void gcl_gil_init(bool on, uint64_t interval_us) {
  static bool conds_ready; /* a second heap init in one process keeps them */
  gcl_gil_enabled = on;
  gil.interval_ns = (interval_us ? interval_us : GCL_GIL_DEFAULT_INTERVAL_US) * 1000;
  if (conds_ready) return;
  conds_ready = true;
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  pthread_cond_init(&gil.cond, &a);
  pthread_cond_init(&gil.switch_cond, &a);
  pthread_condattr_destroy(&a);
}

static struct timespec deadline_after(uint64_t ns) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  uint64_t nsec = (uint64_t)t.tv_nsec + ns;
  t.tv_sec += (time_t)(nsec / 1000000000u);
  t.tv_nsec = (long)(nsec % 1000000000u);
  return t;
}

/* Called with gil.mutex held, right after asking the holder to drop: release the mutex and
 * spin until the GIL is free (or GCL_GIL_SPIN_NS passed), then take the mutex again. The
 * holder drops at its next safepoint, usually microseconds away; sleeping instead would put
 * our own wake-up on the critical path of every switch. */
static void spin_for_drop(void) {
  if (GCL_GIL_SPIN_NS == 0 || gcl_usable_cpus() < 2) return;
  pthread_mutex_unlock(&gil.mutex);
  uint64_t until = gcl_now_ns() + GCL_GIL_SPIN_NS;
  /* Invariant: the holder has not dropped yet. Every 64 pauses the clock is read and the
   * CPU offered to another runnable thread (sched_yield returns at once when there is
   * none): on a loaded machine the holder may be waiting for this very CPU. */
  for (unsigned i = 1; __atomic_load_n(&gil.holder, __ATOMIC_RELAXED) != NULL; i++) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if (i % 64 == 0) {
      if (gcl_now_ns() > until) break;
      sched_yield();
    }
  }
  bool seen = __atomic_load_n(&gil.holder, __ATOMIC_RELAXED) == NULL; /* it dropped meanwhile */
  pthread_mutex_lock(&gil.mutex);
  gil.spin_takes += seen;
}

void gcl_gil_take(struct gcl_mutator *m) {
  pthread_mutex_lock(&gil.mutex);
  /* Loop invariant: we do not hold the GIL. Each wait lasts at most one interval; if the
   * whole interval passed without any take (switch_number unchanged), the holder has had
   * the GIL for at least an interval against us, so we ask it to drop at its next
   * safepoint and spin briefly for the drop. The request stays set until that holder drops
   * (it clears it), so asking again on the next timeout is harmless. */
  while (gil.holder) {
    uint64_t seen = gil.switch_number;
    struct timespec until = deadline_after(gil.interval_ns);
    int rc = pthread_cond_timedwait(&gil.cond, &gil.mutex, &until);
    if (rc == ETIMEDOUT && gil.holder && gil.switch_number == seen) {
      __atomic_fetch_or(&gil.holder->safepoint_work, GCL_SAFEPOINT_GIL_DROP, __ATOMIC_RELEASE);
      gil.drop_requests++;
      spin_for_drop();
    }
  }
  __atomic_store_n(&gil.holder, m, __ATOMIC_RELAXED);
  gil.switch_number++;
  if (gil.last_index != m->index + 1) gil.switches++;
  gil.last_index = m->index + 1;
  pthread_cond_broadcast(&gil.switch_cond);
  pthread_mutex_unlock(&gil.mutex);
}

void gcl_gil_drop(struct gcl_mutator *m, bool force) {
  pthread_mutex_lock(&gil.mutex);
  GCL_ASSERT_ALWAYS(gil.holder == m);
  bool requested = __atomic_load_n(&m->safepoint_work, __ATOMIC_RELAXED) & GCL_SAFEPOINT_GIL_DROP;
  if (requested) __atomic_fetch_and(&m->safepoint_work, ~GCL_SAFEPOINT_GIL_DROP, __ATOMIC_RELAXED);
  __atomic_store_n(&gil.holder, NULL, __ATOMIC_RELAXED);
  pthread_cond_signal(&gil.cond);
  /* FORCE_SWITCHING: a requester exists (it set the bit and leaves take only holding the
   * GIL), so wait for some take; otherwise we could take the GIL straight back. */
  uint64_t n = gil.switch_number;
  if (force && requested)
    while (gil.switch_number == n) pthread_cond_wait(&gil.switch_cond, &gil.mutex);
  pthread_mutex_unlock(&gil.mutex);
}

void gcl_gil_note_attached(struct gcl_mutator *m) {
#if GCL_DEBUG >= 1
  GCL_ASSERT_ALWAYS(__atomic_load_n(&gil.holder, __ATOMIC_RELAXED) == m);
  GCL_ASSERT_ALWAYS(__atomic_add_fetch(&running, 1, __ATOMIC_RELAXED) == 1);
#endif
  (void)m;
}

void gcl_gil_note_left(struct gcl_mutator *m) {
#if GCL_DEBUG >= 1
  GCL_ASSERT_ALWAYS(__atomic_load_n(&gil.holder, __ATOMIC_RELAXED) == m);
  GCL_ASSERT_ALWAYS(__atomic_sub_fetch(&running, 1, __ATOMIC_RELAXED) == 0);
#endif
  (void)m;
}

uint64_t gcl_gil_switches(void) {
  pthread_mutex_lock(&gil.mutex);
  uint64_t n = gil.switches;
  pthread_mutex_unlock(&gil.mutex);
  return n;
}

uint64_t gcl_gil_spin_takes(void) {
  pthread_mutex_lock(&gil.mutex);
  uint64_t n = gil.spin_takes;
  pthread_mutex_unlock(&gil.mutex);
  return n;
}

uint64_t gcl_gil_drop_requests(void) {
  pthread_mutex_lock(&gil.mutex);
  uint64_t n = gil.drop_requests;
  pthread_mutex_unlock(&gil.mutex);
  return n;
}
