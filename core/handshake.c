/* SPDX-License-Identifier: MIT */
/* core/handshake.c — ragged handshakes (gcl_handshake, core/mutator.h): run a callback
 * once for every registered thread, at its own next safepoint if it is attached, or on its
 * behalf by the requester while it is parked (DETACHED -> SUSPENDED for the time of the
 * callback). Split out of core/world.c (issue 8) with no change of behaviour; the
 * protocol, its invariants and the locks it shares with stops (stw_lock, world_lock,
 * stopped_cond, restart_cond: core/world-internal.h) are described in core/world.c's file
 * comment, "Handshakes". Invariant: a thread's callback runs exactly once per handshake,
 * by whoever takes its pending flag (atomic exchange). No macros change it. */
#include <pthread.h>

#include "event.h"
#include "mutator.h"
#include "pause.h"
#include "world-internal.h"

int gcl_handshake_requested; /* a handshake waits for acknowledgements (atomic) */

static struct {
  void (*fn)(struct gcl_mutator *t, void *ctx); /* the callback, set under world_lock */
  void *ctx;                                    /* its argument */
  unsigned remaining;                           /* callbacks not yet run, under world_lock */
} hs;

/* Run the handshake's callback for t (on t itself, or on its behalf by the requester while
 * t is parked): t's pause of kind handshake-callback, recorded under t's thread id (one
 * event at the end, core/event.h), so the per-thread MMU charges it to t and not to the
 * requester; none for a collector-owned thread, which is no mutator. */
static void handshake_run(struct gcl_mutator *t, void (*fn)(struct gcl_mutator *, void *), void *ctx) {
  uint64_t t0 = gcl_now_ns();
  fn(t, ctx);
  if (!t->collector_owned) gcl_event_handshake_pause(t0, t->event_thread);
}

/* With world_lock held: if t's callback is still pending, run it now and acknowledge. */
void gcl_handshake_serve_locked(struct gcl_mutator *t) {
  if (!__atomic_exchange_n(&t->handshake_pending, 0, __ATOMIC_ACQ_REL)) return;
  handshake_run(t, hs.fn, hs.ctx);
  hs.remaining--;
  gcl_world_tell_requester(); /* the requester waits on stopped_cond; stop_epoch stays its count */
}

/* At m's safepoint (m attached): run a pending callback, then acknowledge. fn and ctx are
 * read under world_lock, after the exchange, so they belong to this handshake. */
void gcl_handshake_serve(struct gcl_mutator *m) {
  __atomic_fetch_and(&m->safepoint_work, ~GCL_SAFEPOINT_HANDSHAKE, __ATOMIC_ACQ_REL);
  if (!__atomic_exchange_n(&m->handshake_pending, 0, __ATOMIC_ACQ_REL)) return;
  pthread_mutex_lock(gcl_world.lock);
  void (*fn)(struct gcl_mutator *, void *) = hs.fn;
  void *ctx = hs.ctx;
  pthread_mutex_unlock(gcl_world.lock);
  handshake_run(m, fn, ctx);
  pthread_mutex_lock(gcl_world.lock);
  hs.remaining--;
  gcl_world_tell_requester(); /* the requester waits on stopped_cond; stop_epoch stays its count */
  pthread_mutex_unlock(gcl_world.lock);
}

/* With world_lock held: serve every pending thread found DETACHED (park, run, unpark). */
static void handshake_park_detached(struct gcl_mutator *m) {
  for (struct gcl_mutator *t = *gcl_world.threads; t; t = t->next) {
    if (t == m || !__atomic_load_n(&t->handshake_pending, __ATOMIC_ACQUIRE)) continue;
    int expected = GCL_THREAD_DETACHED;
    if (!__atomic_compare_exchange_n(&t->state, &expected, GCL_THREAD_SUSPENDED, false,
                                     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
      continue; /* attached: it serves itself at its next safepoint */
    gcl_handshake_serve_locked(t);
    __atomic_store_n(&t->state, GCL_THREAD_DETACHED, __ATOMIC_SEQ_CST); /* unpark */
    pthread_cond_broadcast(gcl_world.restart_cond); /* it may wait to attach (wait_while_suspended) */
  }
}

void gcl_handshake(struct gcl_mutator *m, void (*fn)(struct gcl_mutator *t, void *ctx), void *ctx) {
  if (m) gcl_blocking_enter(m); /* detached: a stop or handshake ahead of us parks us */
  pthread_mutex_lock(gcl_world.stw_lock);
  gcl_event_phase_start("handshake");
  pthread_mutex_lock(gcl_world.lock);
  hs.fn = fn;
  hs.ctx = ctx;
  hs.remaining = 0;
  for (struct gcl_mutator *t = *gcl_world.threads; t; t = t->next) {
    if (t == m) continue;
    __atomic_store_n(&t->handshake_pending, 1, __ATOMIC_SEQ_CST);
    hs.remaining++;
    __atomic_fetch_or(&t->safepoint_work, GCL_SAFEPOINT_HANDSHAKE, __ATOMIC_SEQ_CST);
  }
  __atomic_store_n(&gcl_handshake_requested, 1, __ATOMIC_SEQ_CST);
  /* Loop invariant: hs.remaining counts the threads whose pending flag is still set;
   * each pass serves the detached ones, and the attached ones serve themselves (a thread
   * that detaches meanwhile wakes us through gcl_handshake_requested). */
  for (;;) {
    handshake_park_detached(m);
    if (hs.remaining == 0) break;
    pthread_cond_wait(gcl_world.stopped_cond, gcl_world.lock);
  }
  __atomic_store_n(&gcl_handshake_requested, 0, __ATOMIC_SEQ_CST);
  pthread_mutex_unlock(gcl_world.lock);
  if (m) handshake_run(m, fn, ctx); /* our own frames hold still: we are the requester */
  gcl_event_phase_end("handshake");
  pthread_mutex_unlock(gcl_world.stw_lock);
  if (m) gcl_blocking_leave(m);
}
