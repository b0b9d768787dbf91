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
 * Events (core/event.h): a stop emits STOP_REQUESTED once the requester holds stw_lock,
 * MUTATORS_STOPPED when it last saw every other thread stopped (the time is taken there,
 * the event emitted after world_lock is released), WORLD_RESTARTED after the release; the
 * pause and time-to-safepoint figures are derived from these three alone.
 *
 * Locks: stw_lock admits one requester at a time (taken while detached, so two requesters
 * cannot deadlock); world_lock guards the thread list, the global roots, and the
 * condition variable on which requesters and suspended threads wait.
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
#include <pthread.h>
#include <stdlib.h>
#include <urcu/urcu-qsbr.h>

#include "allocator.h"
#include "collector.h"
#include "event.h"
#include "gil.h"
#include "mutator.h"
#include "pause.h"
#include "tsan.h"

int gcl_stop_requested;
char gcl_qsbr_token;
void (*gcl_safepoint_handler)(struct gcl_mutator *m);

static pthread_mutex_t stw_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t world_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t world_cond = PTHREAD_COND_INITIALIZER; /* any state change */
static struct gcl_mutator *threads;  /* every attached, detached or suspended mutator */
static unsigned next_index;          /* dense thread ids */

struct global_root {
  struct gcl_object **slot; /* a slot outside the heap that holds a reference */
  struct global_root *next; /* list link, under world_lock */
};
static struct global_root *global_roots;

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

/* Called with world_lock held by a thread that is SUSPENDED: sleep until restarted. */
static void wait_while_suspended(struct gcl_mutator *m) {
  while (load_state(m) == GCL_THREAD_SUSPENDED) pthread_cond_wait(&world_cond, &world_lock);
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
    gil_drop(m, false);
    pthread_mutex_unlock(&world_lock);
    return;
  }
  store_state(m, GCL_THREAD_SUSPENDED);
  gil_drop(m, false);
  pthread_cond_broadcast(&world_cond);
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
  if (__atomic_load_n(&gcl_stop_requested, __ATOMIC_SEQ_CST)) {
    pthread_mutex_lock(&world_lock);
    pthread_cond_broadcast(&world_cond);
    pthread_mutex_unlock(&world_lock);
  }
  gil_drop(m, force);
}

struct gcl_mutator *gcl_thread_attach(void) {
  struct gcl_mutator *m = calloc(1, sizeof *m);
  if (!m) gcl_alloc_failed(sizeof *m);
  m->state = GCL_THREAD_DETACHED;
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

void gcl_thread_detach(struct gcl_mutator *m) {
  GCL_ASSERT_ALWAYS(m->blocking_depth == 0 && m->frames == NULL);
  gcl_collector_thread_detach(m);
  gcl_freelist_thread_exit(m); /* before the allocator's detach: the lists go back to it */
  gcl_heap_thread_flush(m);
  gcl_allocator_thread_detach(&m->allocator);
  gcl_stats_merge(&m->stats);
  detach(m, false);
  pthread_mutex_lock(&world_lock);
  for (struct gcl_mutator **p = &threads; *p; p = &(*p)->next) {
    if (*p == m) {
      *p = m->next;
      break;
    }
  }
  pthread_cond_broadcast(&world_cond);
  pthread_mutex_unlock(&world_lock);
  urcu_qsbr_unregister_thread();
  free(m->dealloc_stack);
  free(m);
}

void gcl_safepoint_slow(struct gcl_mutator *m) {
  int work = __atomic_load_n(&m->safepoint_work, __ATOMIC_ACQUIRE);
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

void gcl_blocking_enter(struct gcl_mutator *m) {
  if (m->blocking_depth++ == 0) detach(m, false);
}

void gcl_blocking_leave(struct gcl_mutator *m) {
  GCL_ASSERT_ALWAYS(m->blocking_depth > 0);
  if (--m->blocking_depth == 0) attach(m);
}

void gcl_stop_the_world(struct gcl_mutator *m) {
  /* Under the GIL an attached caller holds it, so no other thread is ATTACHED: when the
   * requester slot is free, stop keeping the GIL (the loop below then waits for nobody). */
  bool keep_gil = gcl_gil_enabled && m->blocking_depth == 0 && pthread_mutex_trylock(&stw_lock) == 0;
  if (!keep_gil) {
    /* Wait for the requester slot detached: a requester ahead of us can then park us. */
    gcl_blocking_enter(m);
    pthread_mutex_lock(&stw_lock);
  }
  gcl_event_stop_requested();
  pthread_mutex_lock(&world_lock);
  __atomic_store_n(&gcl_stop_requested, 1, __ATOMIC_SEQ_CST);
  /* Loop invariant: every thread counted as running was ATTACHED when looked at; every
   * other thread but us is SUSPENDED (we parked it, or it suspended itself) and stays so
   * until we restart the world. */
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
    if (running == 0) break;
    GCL_ASSERT(!keep_gil);
    pthread_cond_wait(&world_cond, &world_lock);
  }
  /* Time to safepoint ends here; the event is emitted once world_lock is released. */
  uint64_t stopped = gcl_now_ns();
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
  for (struct gcl_mutator *t = threads; t; t = t->next)
    if (t != m && load_state(t) == GCL_THREAD_SUSPENDED) store_state(t, GCL_THREAD_DETACHED);
  pthread_cond_broadcast(&world_cond);
  pthread_mutex_unlock(&world_lock);
  gcl_event_world_restarted();
  pthread_mutex_unlock(&stw_lock);
}

void gcl_for_each_mutator(void (*fn)(struct gcl_mutator *, void *), void *ctx) {
  pthread_mutex_lock(&world_lock);
  for (struct gcl_mutator *t = threads; t; t = t->next) fn(t, ctx);
  pthread_mutex_unlock(&world_lock);
}

/* --- roots ---------------------------------------------------------------------------- */

void gcl_global_root_add(struct gcl_object **slot) {
  struct global_root *r = malloc(sizeof *r);
  if (!r) gcl_alloc_failed(sizeof *r);
  r->slot = slot;
  pthread_mutex_lock(&world_lock);
  r->next = global_roots;
  global_roots = r;
  pthread_mutex_unlock(&world_lock);
}

void gcl_global_root_remove(struct gcl_object **slot) {
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
