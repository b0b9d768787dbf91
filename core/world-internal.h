/* SPDX-License-Identifier: MIT */
/* core/world-internal.h — what core/world.c (threads, stops) and core/handshake.c (ragged
 * handshakes) share: world.c's locks, condition variables and thread list, and the two
 * entry points each calls in the other. The locking rules are core/world.c's file comment
 * (stw_lock: one requester at a time; world_lock guards the list and both condition
 * variables). Not for collectors, workloads or tests. No macros. */
#ifndef GCL_WORLD_INTERNAL_H
#define GCL_WORLD_INTERNAL_H

#include <pthread.h>

#include "mutator.h"

/* core/world.c's statics, by address (the names in its file comment). */
struct gcl_world_shared {
  pthread_mutex_t *stw_lock;     /* one stop or handshake requester at a time */
  pthread_mutex_t *lock;         /* world_lock: the thread list, both condition variables */
  pthread_cond_t *stopped_cond;  /* a thread left ATTACHED or the list (the requester waits) */
  pthread_cond_t *restart_cond;  /* the world restarted / a parked thread was unparked */
  struct gcl_mutator **threads;  /* every registered thread, under world_lock */
};
extern const struct gcl_world_shared gcl_world;

/* core/handshake.c: a handshake waits for acknowledgements (atomic; detaching threads
 * then wake the requester, as for a stop). */
extern int gcl_handshake_requested;

/* core/world.c, with world_lock held: tell the requester that a thread left ATTACHED or
 * the list (or acknowledged a handshake). */
void gcl_world_tell_requester(void);

/* core/handshake.c, with world_lock held: if t's callback is still pending, run it now and
 * acknowledge (an exiting thread, a parked one). */
void gcl_handshake_serve_locked(struct gcl_mutator *t);
/* core/handshake.c, at m's safepoint (m attached, world_lock not held): run a pending
 * callback, then acknowledge. */
void gcl_handshake_serve(struct gcl_mutator *m);

#endif
