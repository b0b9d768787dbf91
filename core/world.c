/* SPDX-License-Identifier: MIT */
/* core/world.c — mutator threads: attach/detach, safepoints, blocking regions, and the one
 * stop-the-world mechanism every collector shares (free-threaded CPython's design).
 *
 * Each thread is DETACHED, ATTACHED or SUSPENDED (m->state, atomic):
 *  - ATTACHED threads run mutator code and poll gcl_stop_requested at safepoints;
 *  - DETACHED threads (in a blocking region, or not yet attached) touch no object;
 *  - SUSPENDED threads are stopped for a requester: either they suspended themselves at a
 *    safepoint, or the requester "parked" them by CASing DETACHED -> SUSPENDED, so a thread
 *    that waits on a lock never delays a stop.
 * A thread leaves DETACHED only by CAS DETACHED -> ATTACHED; if that fails it was parked
 * and waits until the world restarts. Restarting turns every SUSPENDED thread back into
 * DETACHED and the threads re-attach themselves, so "parked" and "suspended at a safepoint"
 * need no separate handling.
 *
 * Races are closed by sequential consistency: the requester stores gcl_stop_requested and
 * then reads each state; an attaching thread CASes its state and then reads
 * gcl_stop_requested. At least one of the two sees the other.
 *
 * liburcu QSBR: attached threads are online readers and safepoints are quiescent states;
 * detached and suspended threads are offline, so a grace period never waits for them.
 *
 * Events (core/event.h): a stop emits STOP_REQUESTED once the requester holds stw_lock
 * and has raised the flag (stamped with the time just before the flag), MUTATORS_STOPPED
 * once it saw every other thread stopped, stamped with the time the last of them stopped
 * (its departure from ATTACHED, taken under world_lock; the requester's own wake-up after
 * that is pause, not time to safepoint; GCL_TTSP_AT_NOTICE 1 stamps the time it saw it),
 * WORLD_RESTARTED after the release; the pause and time-to-safepoint figures are derived
 * from these three alone.
 *
 * Handshakes (gcl_handshake) reuse the same states: the requester marks every registered
 * thread pending and asks its next safepoint to run the callback; a thread it finds
 * DETACHED it parks (DETACHED -> SUSPENDED, so it cannot attach meanwhile), runs the
 * callback for it under world_lock and unparks it (SUSPENDED -> DETACHED) in the same
 * hold of the lock. Whoever takes the thread's pending flag (an atomic exchange) runs the
 * callback, so it runs exactly once; an exiting thread serves its own pending flag under
 * world_lock before it leaves the list. gcl_handshake_requested makes detaching threads
 * wake the requester, as gcl_stop_requested does for a stop. Each callback's time is one
 * HANDSHAKE_PAUSE event (core/event.h): that thread's pause of kind handshake. The code is in
 * core/handshake.c (core/world-internal.h: what the two files share).
 *
 * Collector-owned threads (gcl_thread_attach_collector: markers, sweepers) are registered
 * threads like mutators, so stops park or wait for them and handshakes run for them; they
 * are bound from the placement plan and their CPU time is summed apart at detach.
 *
 * Locks: stw_lock admits one requester at a time (taken while detached, so two requesters
 * cannot deadlock); world_lock guards the thread list, the global roots, and two condition
 * variables: stopped_cond, on which the requester waits for threads to leave ATTACHED, and
 * restart_cond, on which suspended and parked threads wait for the restart. Two, so that a
 * thread that suspends itself wakes only the requester, not every thread already
 * suspended (one condition variable made each stop O(threads^2) futex wake-ups).
 *
 * Time to safepoint: the requester first spins for up to GCL_STOP_SPIN_NS (default 20 us)
 * on stop_epoch, which every departure from ATTACHED during a stop bumps, before it sleeps
 * on stopped_cond: a thread one poll away from stopping is then seen without a futex
 * wake-up and a trip through the scheduler. It spins only while fewer threads are still
 * running than there are CPUs in its affinity mask (with more, spinning would take a CPU
 * from a thread it waits for), and yields the CPU every 64 pauses (other processes may
 * have queued the thread it waits for behind it). GCL_STOP_SPIN_NS=0 turns the spin off.
 *
 * GIL mode (core/gil.h): ATTACHED implies holding the GIL. attach takes the GIL before its
 * CAS and releases it if the CAS finds it parked; every way out of ATTACHED (detach,
 * suspend_self) changes the state first and releases the GIL after, so a GIL waiter is
 * DETACHED and a requester parks it. A GIL holder that finds the requester slot free stops
 * the world without letting go (nobody else can be ATTACHED, so it only parks). Otherwise
 * a requester stops the world while detached (so it
 * holds no GIL) and takes the GIL only once every other thread is SUSPENDED; whoever holds
 * the GIL then is on its way out of attach or suspend_self and releases it without
 * waiting for anything the requester holds. Lock order: world_lock, then the GIL's mutex;
 * nobody waits for the GIL itself while holding world_lock. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <urcu/urcu-qsbr.h>

#include "allocator.h"
#include "collector.h"
#include "event.h"
#include "gil.h"
#include "mutator.h"
#include "pause.h"
#include "placement.h"
#include "tsan.h"
#include "world-internal.h"
#include "world-parallel.h"

int gcl_stop_requested;
char gcl_qsbr_token;
void (*gcl_safepoint_handler)(struct gcl_mutator *m);

static pthread_mutex_t stw_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t world_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stopped_cond = PTHREAD_COND_INITIALIZER; /* a thread left ATTACHED or the list */
static pthread_cond_t restart_cond = PTHREAD_COND_INITIALIZER; /* the world restarted */
static unsigned stop_epoch; /* atomic; bumped under world_lock with each stopped_cond broadcast */
/* The thread whose stop is in progress (atomic; set once it holds stw_lock, cleared before
 * it releases it): its own polls must not suspend it (gcl_poll_slow). */
static struct gcl_mutator *stop_requester;
static uint64_t last_departure_ns; /* under world_lock: when a thread last left ATTACHED (or
                                    * the list) during the stop in progress; 0 outside stops */

#ifndef GCL_STOP_SPIN_NS
#define GCL_STOP_SPIN_NS 20000
#endif
#ifndef GCL_TTSP_AT_NOTICE
#define GCL_TTSP_AT_NOTICE 0 /* 1: time to safepoint ends when the requester sees it (old) */
#endif
static struct gcl_mutator *threads;  /* every attached, detached or suspended mutator */
static unsigned next_index;          /* dense thread ids */

struct global_root {
  struct gcl_object **slot; /* a slot outside the heap that holds a reference */
  struct global_root *next; /* list link, under world_lock */
};
static struct global_root *global_roots;

/* What core/handshake.c shares of the above (core/world-internal.h). */
const struct gcl_world_shared gcl_world = {&stw_lock, &world_lock, &stopped_cond, &restart_cond, &threads};

static int load_state(struct gcl_mutator *m) { return __atomic_load_n(&m->state, __ATOMIC_SEQ_CST); }
static void store_state(struct gcl_mutator *m, int s) { __atomic_store_n(&m->state, s, __ATOMIC_SEQ_CST); }

#if defined(__SANITIZE_THREAD__)
/* liburcu is not instrumented: hand-offs inside it (rcu_barrier's and call_rcu's own
 * allocations) are invisible to TSan. Ignore only accesses made by liburcu itself; gclab's
 * accesses to memory liburcu hands back are covered by the annotations of core/tsan.h. */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void) { return "called_from_lib:liburcu-qsbr.so\n"; }
#endif

void gcl_quiescent_state(void) {
  GCL_TSAN_RELEASE(&gcl_qsbr_token);
  urcu_qsbr_quiescent_state();
}

static void go_offline(void) {
  GCL_TSAN_RELEASE(&gcl_qsbr_token);
  urcu_qsbr_thread_offline();
}

/* GIL mode hooks (no-ops otherwise): take before entering ATTACHED, note the change of
 * state, drop after leaving it. */
static void gil_take(struct gcl_mutator *m) {
  if (gcl_gil_enabled) gcl_gil_take(m);
}
static void gil_attached(struct gcl_mutator *m) {
  if (gcl_gil_enabled) gcl_gil_note_attached(m);
}
static void gil_left(struct gcl_mutator *m) {
  if (gcl_gil_enabled) gcl_gil_note_left(m);
}
static void gil_drop(struct gcl_mutator *m, bool force) {
  if (gcl_gil_enabled) gcl_gil_drop(m, force);
}

/* Called with world_lock held by a thread that is SUSPENDED: sleep until restarted, doing
 * its own part of a gcl_world_parallel meanwhile (core/world-parallel.c; served with
 * world_lock released, which that file's lock order needs). Loop invariant: the thread
 * holds world_lock; it sleeps only while SUSPENDED as read under world_lock since it last
 * held it continuously (so the restart's broadcast is not lost while it was looking for
 * its part) and only if no parallel phase was published since it last looked (the
 * generation, so the publication's wake-up is not lost either). */
static void wait_while_suspended(struct gcl_mutator *m) {
  while (load_state(m) == GCL_THREAD_SUSPENDED) {
    unsigned gen = gcl_world_par_generation();
    if (gcl_world_par_active()) {
      pthread_mutex_unlock(&world_lock);
      bool served = gcl_world_par_serve(m);
      pthread_mutex_lock(&world_lock);
      /* The restart may have come while world_lock was released: look again before
       * sleeping (its broadcast is gone). */
      if (served || load_state(m) != GCL_THREAD_SUSPENDED) continue;
    }
    if (gen == gcl_world_par_generation()) pthread_cond_wait(&restart_cond, &world_lock);
  }
}

void gcl_world_wake_suspended(void) {
  pthread_mutex_lock(&world_lock);
  pthread_cond_broadcast(&restart_cond);
  pthread_mutex_unlock(&world_lock);
}

/* Called with world_lock held: tell the requester that a thread left ATTACHED or the list.
 * During a stop, the time is that thread's stop: the last one is where time to safepoint
 * ends (gcl_stop_the_world). */
void gcl_world_tell_requester(void) {
  if (__atomic_load_n(&gcl_stop_requested, __ATOMIC_SEQ_CST)) last_departure_ns = gcl_now_ns();
  __atomic_add_fetch(&stop_epoch, 1, __ATOMIC_SEQ_CST);
  pthread_cond_broadcast(&stopped_cond);
}

/* Suspend the calling (attached) thread for a stop in progress; returns detached. The flag
 * is read again under world_lock, which gcl_start_the_world holds while it clears the flag
 * and releases the suspended: a thread that saw the flag, but was not in the list when the
 * requester last looked at it (it was attaching), may arrive after the restart, and must
 * then not wait for a wake-up that already happened. */
static void suspend_self(struct gcl_mutator *m) {
  pthread_mutex_lock(&world_lock);
  gil_left(m);
  if (!__atomic_load_n(&gcl_stop_requested, __ATOMIC_SEQ_CST)) {
    store_state(m, GCL_THREAD_DETACHED);
    /* A stale stop flag: a handshake may be waiting for this thread, which is now
     * detached and must be parked and served (as detach does). */
    if (__atomic_load_n(&gcl_handshake_requested, __ATOMIC_SEQ_CST)) gcl_world_tell_requester();
    gil_drop(m, false);
    pthread_mutex_unlock(&world_lock);
    return;
  }
  store_state(m, GCL_THREAD_SUSPENDED);
  gil_drop(m, false);
  gcl_world_tell_requester();
  wait_while_suspended(m);
  pthread_mutex_unlock(&world_lock);
}

/* DETACHED -> ATTACHED, waiting out any stop in progress; then go online for QSBR. */
static void attach(struct gcl_mutator *m) {
  for (;;) {
    gil_take(m);
    int expected = GCL_THREAD_DETACHED;
    if (__atomic_compare_exchange_n(&m->state, &expected, GCL_THREAD_ATTACHED, false,
                                    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
      gil_attached(m);
      /* A requester that already scanned the list may have missed us: honour its stop now
       * rather than at our next safepoint. */
      if (!__atomic_load_n(&gcl_stop_requested, __ATOMIC_SEQ_CST)) break;
      suspend_self(m);
      continue;
    }
    gil_drop(m, false); /* we were parked: the requester may need the GIL */
    pthread_mutex_lock(&world_lock);
    wait_while_suspended(m);
    pthread_mutex_unlock(&world_lock);
  }
  urcu_qsbr_thread_online();
}

/* ATTACHED -> DETACHED; tells a waiting requester that it may now park us. Under the GIL,
 * then drops it (force: wait for a switch, see gcl_gil_drop). */
static void detach(struct gcl_mutator *m, bool force) {
  go_offline();
  gil_left(m);
  store_state(m, GCL_THREAD_DETACHED);
  if (__atomic_load_n(&gcl_stop_requested, __ATOMIC_SEQ_CST) |
      __atomic_load_n(&gcl_handshake_requested, __ATOMIC_SEQ_CST)) {
    pthread_mutex_lock(&world_lock);
    gcl_world_tell_requester();
    pthread_mutex_unlock(&world_lock);
  }
  gil_drop(m, force);
}

struct gcl_mutator *gcl_thread_attach(void) {
  struct gcl_mutator *m = calloc(1, sizeof *m);
  if (!m) gcl_alloc_failed(sizeof *m);
  m->state = GCL_THREAD_DETACHED;
  m->event_thread = gcl_event_thread_id();
  urcu_qsbr_register_thread();
  urcu_qsbr_thread_offline();
  pthread_mutex_lock(&world_lock);
  m->index = next_index++;
  m->next = threads;
  threads = m;
  pthread_mutex_unlock(&world_lock);
  gcl_allocator_thread_attach(&m->allocator);
  m->freelists = gcl_freelists_new();
  attach(m);
  gcl_collector_thread_attach(m);
  return m;
}

static uint64_t collector_cpu_ns;   /* CPU time of detached collector threads (atomic) */
static unsigned collector_threads; /* collector threads attached so far (atomic) */

struct gcl_mutator *gcl_thread_attach_collector(unsigned k) {
  unsigned n = 0;
  if (gcl_placement_current(&n) && n > 0) gcl_placement_apply_thread(k % n);
  struct gcl_mutator *m = gcl_thread_attach();
  m->collector_owned = true;
  __atomic_add_fetch(&collector_threads, 1, __ATOMIC_RELAXED);
  return m;
}

uint64_t gcl_collector_threads_cpu_ns(void) { return __atomic_load_n(&collector_cpu_ns, __ATOMIC_RELAXED); }
unsigned gcl_collector_threads(void) { return __atomic_load_n(&collector_threads, __ATOMIC_RELAXED); }

void gcl_thread_detach(struct gcl_mutator *m) {
  GCL_ASSERT_ALWAYS(m->blocking_depth == 0 && m->frames == NULL);
  if (m->collector_owned) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    __atomic_add_fetch(&collector_cpu_ns, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec,
                       __ATOMIC_RELAXED);
  }
  gcl_collector_thread_detach(m);
  gcl_freelist_thread_exit(m); /* before the allocator's detach: the lists go back to it */
  gcl_heap_thread_flush(m);
  gcl_allocator_thread_detach(&m->allocator);
  gcl_stats_merge(&m->stats);
  detach(m, false);
  pthread_mutex_lock(&world_lock);
  gcl_handshake_serve_locked(m); /* a handshake that counted us must not wait for us */
  gcl_satb_thread_done(m);
  for (struct gcl_mutator **p = &threads; *p; p = &(*p)->next) {
    if (*p == m) {
      *p = m->next;
      break;
    }
  }
  gcl_world_tell_requester();
  pthread_mutex_unlock(&world_lock);
  gcl_world_par_serve(m); /* a parallel phase that gave us a part before we left the list */
  urcu_qsbr_unregister_thread();
  free(m->dealloc_stack);
  free(m);
}

void gcl_safepoint_slow(struct gcl_mutator *m) {
  int work = __atomic_load_n(&m->safepoint_work, __ATOMIC_ACQUIRE);
  if (work & GCL_SAFEPOINT_HANDSHAKE) gcl_handshake_serve(m);
  if ((work & ~GCL_SAFEPOINT_CORE_BITS) && gcl_safepoint_handler) gcl_safepoint_handler(m);
  if (work & GCL_SAFEPOINT_GIL_DROP) {
    /* A waiter asked for the GIL: hand it over (attach honours any stop meanwhile). */
    detach(m, true);
    attach(m);
    return;
  }
  if (!__atomic_load_n(&gcl_stop_requested, __ATOMIC_SEQ_CST)) return;
  go_offline();
  suspend_self(m);
  attach(m);
}

void gcl_poll_slow(struct gcl_mutator *m) {
  if (!__atomic_load_n(&gcl_stop_requested, __ATOMIC_SEQ_CST)) return;
  /* The requester polling inside its own stop (an RC free while the world is stopped)
   * would wait for its own restart. */
  if (__atomic_load_n(&stop_requester, __ATOMIC_ACQUIRE) == m) return;
  go_offline();
  suspend_self(m);
  attach(m);
}

/* CPUs this process may run on (its affinity mask), at least 1 (declared in gil.h). */
unsigned gcl_usable_cpus(void) {
  static unsigned n; /* cached; 0 until first asked (a benign race: same value) */
  unsigned v = __atomic_load_n(&n, __ATOMIC_RELAXED);
  if (!v) {
    cpu_set_t set;
    v = sched_getaffinity(0, sizeof set, &set) == 0 ? (unsigned)CPU_COUNT(&set) : 1;
    if (!v) v = 1;
    __atomic_store_n(&n, v, __ATOMIC_RELAXED);
  }
  return v;
}

/* Called by the requester with world_lock held and `running` threads still ATTACHED:
 * wait until one of them may have left ATTACHED. Spins (world_lock released) for up to
 * GCL_STOP_SPIN_NS on stop_epoch when fewer threads run than there are CPUs, then sleeps
 * on stopped_cond; the epoch is read again under the lock, so a departure between the spin
 * and the wait is not missed (it is bumped under world_lock). */
static void wait_for_stops(unsigned running) {
  unsigned seen = __atomic_load_n(&stop_epoch, __ATOMIC_SEQ_CST);
  if (GCL_STOP_SPIN_NS > 0 && running < gcl_usable_cpus()) {
    pthread_mutex_unlock(&world_lock);
    uint64_t until = gcl_now_ns() + GCL_STOP_SPIN_NS;
    /* Invariant: no departure seen yet. Every 64 pauses the clock is read and the CPU
     * offered to another runnable thread (sched_yield returns at once when there is none):
     * on a loaded machine the thread we wait for may be queued on this very CPU. */
    for (unsigned i = 1; __atomic_load_n(&stop_epoch, __ATOMIC_SEQ_CST) == seen; i++) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      if (i % 64 == 0) {
        if (gcl_now_ns() > until) break;
        sched_yield();
      }
    }
    pthread_mutex_lock(&world_lock);
  }
  if (__atomic_load_n(&stop_epoch, __ATOMIC_SEQ_CST) == seen) pthread_cond_wait(&stopped_cond, &world_lock);
}

void gcl_blocking_enter(struct gcl_mutator *m) {
  if (m->blocking_depth++ == 0) detach(m, false);
}

void gcl_blocking_leave(struct gcl_mutator *m) {
  GCL_ASSERT_ALWAYS(m->blocking_depth > 0);
  if (--m->blocking_depth == 0) attach(m);
}

void gcl_stop_the_world(struct gcl_mutator *m) {
  /* Inside a blocking region the caller would come back attached with its region still
   * open, and its gcl_blocking_leave would wait for itself. */
  GCL_ASSERT_ALWAYS(m->blocking_depth == 0);
  /* Under the GIL an attached caller holds it, so no other thread is ATTACHED: when the
   * requester slot is free, stop keeping the GIL (the loop below then waits for nobody). */
  bool keep_gil = gcl_gil_enabled && m->blocking_depth == 0 && pthread_mutex_trylock(&stw_lock) == 0;
  if (!keep_gil) {
    /* Wait for the requester slot detached: a requester ahead of us can then park us. */
    gcl_blocking_enter(m);
    pthread_mutex_lock(&stw_lock);
  }
  __atomic_store_n(&stop_requester, m, __ATOMIC_RELEASE);
  /* The flag goes up before the STOP_REQUESTED event is delivered (the recorder's lock, and
   * with --events a listener's write): the event carries the time taken just before the
   * flag, so time to safepoint still starts at the request, and the delivery overlaps the
   * other threads' way to their safepoints instead of delaying it. */
  uint64_t requested = gcl_now_ns();
  __atomic_store_n(&gcl_stop_requested, 1, __ATOMIC_SEQ_CST);
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_STOP_REQUESTED, requested, gcl_event_thread_id(), NULL, 0});
  pthread_mutex_lock(&world_lock);
  /* Loop invariant: every thread counted as running was ATTACHED when looked at; every
   * other thread but us is SUSPENDED (we parked it, or it suspended itself) and stays so
   * until we restart the world. */
  uint64_t first_pass = 0; /* when the first pass over the list ended */
  for (;;) {
    unsigned running = 0;
    for (struct gcl_mutator *t = threads; t; t = t->next) {
      if (t == m) continue;
      int expected = GCL_THREAD_DETACHED;
      if (__atomic_compare_exchange_n(&t->state, &expected, GCL_THREAD_SUSPENDED, false,
                                      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        continue; /* parked */
      if (expected == GCL_THREAD_ATTACHED) running++;
    }
    if (!first_pass) first_pass = gcl_now_ns();
    if (running == 0) break;
    GCL_ASSERT(!keep_gil);
    wait_for_stops(running);
  }
  /* Time to safepoint ends when the last thread stopped: the end of the first pass (which
   * parked every thread that was detached at the request), or the latest departure from
   * ATTACHED seen since (a thread that suspended itself or detached, and was parked by a
   * later pass). Our own wake-up after that departure is stop overhead, in the pause but
   * not in time to safepoint; GCL_TTSP_AT_NOTICE 1 restores the old end point (when we
   * saw every thread stopped). The event is emitted once world_lock is released. */
  uint64_t stopped = first_pass > last_departure_ns ? first_pass : last_departure_ns;
  if (GCL_TTSP_AT_NOTICE) stopped = gcl_now_ns();
  if (keep_gil) { /* still attached, online, holding the GIL */
    pthread_mutex_unlock(&world_lock);
    gcl_event_emit(&(struct gcl_event){GCL_EVENT_MUTATORS_STOPPED, stopped, gcl_event_thread_id(), NULL, 0});
    return;
  }
  /* Every other thread is stopped, so nobody can park us: attach directly (under the GIL
   * once we hold it; waiting for it with world_lock held could deadlock, see above). */
  if (gcl_gil_enabled) {
    pthread_mutex_unlock(&world_lock);
    gcl_gil_take(m);
    pthread_mutex_lock(&world_lock);
  }
  store_state(m, GCL_THREAD_ATTACHED);
  gil_attached(m);
  m->blocking_depth--;
  pthread_mutex_unlock(&world_lock);
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_MUTATORS_STOPPED, stopped, gcl_event_thread_id(), NULL, 0});
  urcu_qsbr_thread_online();
}

void gcl_start_the_world(struct gcl_mutator *m) {
  pthread_mutex_lock(&world_lock);
  __atomic_store_n(&gcl_stop_requested, 0, __ATOMIC_SEQ_CST);
  last_departure_ns = 0;
  for (struct gcl_mutator *t = threads; t; t = t->next)
    if (t != m && load_state(t) == GCL_THREAD_SUSPENDED) store_state(t, GCL_THREAD_DETACHED);
  pthread_cond_broadcast(&restart_cond);
  pthread_mutex_unlock(&world_lock);
  gcl_event_world_restarted();
  __atomic_store_n(&stop_requester, NULL, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&stw_lock);
}

void gcl_for_each_mutator(void (*fn)(struct gcl_mutator *, void *), void *ctx) {
  pthread_mutex_lock(&world_lock);
  for (struct gcl_mutator *t = threads; t; t = t->next) fn(t, ctx);
  pthread_mutex_unlock(&world_lock);
}

/* --- roots ---------------------------------------------------------------------------- */

/* A collector that cannot read this list (bdw: libgc scans memory, not gclab's lists)
 * defines GCL_COLLECTOR_ROOT_HOOKS 1 in its attrs header and is told of each slot. */
#ifndef GCL_COLLECTOR_ROOT_HOOKS
static inline void gcl_collector_global_root_added(struct gcl_object **slot) { (void)slot; }
static inline void gcl_collector_global_root_removed(struct gcl_object **slot) { (void)slot; }
#endif

void gcl_global_root_add(struct gcl_object **slot) {
  gcl_collector_global_root_added(slot);
  struct global_root *r = malloc(sizeof *r);
  if (!r) gcl_alloc_failed(sizeof *r);
  r->slot = slot;
  pthread_mutex_lock(&world_lock);
  r->next = global_roots;
  global_roots = r;
  pthread_mutex_unlock(&world_lock);
}

void gcl_global_root_remove(struct gcl_object **slot) {
  /* A value removed while a concurrent tracer marks would be a deletion nobody recorded. */
  GCL_ASSERT_ALWAYS(!(gcl_barrier_kind() == GCL_BARRIER_SATB && gcl_marking_is_active() &&
                      __atomic_load_n(slot, __ATOMIC_ACQUIRE)) &&
                    "gcl_global_root_remove of a non-NULL slot while marking: clear it with gcl_global_root_store first");
  pthread_mutex_lock(&world_lock);
  for (struct global_root **p = &global_roots; *p; p = &(*p)->next) {
    if ((*p)->slot == slot) {
      struct global_root *r = *p;
      *p = r->next;
      free(r);
      break;
    }
  }
  pthread_mutex_unlock(&world_lock);
  gcl_collector_global_root_removed(slot);
}

void gcl_visit_global_roots(gcl_visit_fn visit, void *ctx) {
  pthread_mutex_lock(&world_lock);
  for (struct global_root *r = global_roots; r; r = r->next) visit(r->slot, ctx);
  pthread_mutex_unlock(&world_lock);
}

void gcl_visit_roots(struct gcl_mutator *m, gcl_visit_fn visit, void *ctx) {
  for (struct gcl_frame *f = m->frames; f; f = f->prev)
    for (unsigned i = 0; i < f->count; i++) visit(f->slots[i], ctx);
}
