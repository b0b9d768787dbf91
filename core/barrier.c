/* SPDX-License-Identifier: MIT */
/* core/barrier.c — the SATB slow path and the global list of full SATB buffers (see
 * core/barrier.h for the contract and its invariants).
 *
 * The list is a mutex-guarded stack: buffers are handed over once per
 * GCL_SATB_BUFFER_LEN slow calls, so the lock is cold. Buffers come from malloc (never
 * from the heap's allocator: a sweep must not see them). No macros change this file. */
#include <pthread.h>
#include <stdlib.h>

#include "mutator.h"

int gcl_marking_active;

static pthread_mutex_t satb_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gcl_satb_buffer *full;     /* handed-over buffers, under satb_lock */
static uint64_t done_slow, done_entries; /* counters of detached threads, under satb_lock */

void gcl_marking_set(bool on) { __atomic_store_n(&gcl_marking_active, on ? 1 : 0, __ATOMIC_SEQ_CST); }

static struct gcl_satb_buffer *buffer_new(void) {
  struct gcl_satb_buffer *b = malloc(sizeof *b);
  if (!b) gcl_alloc_failed(sizeof *b);
  b->next = NULL;
  b->n = 0;
  return b;
}

static void hand_over(struct gcl_satb_buffer *b) {
  pthread_mutex_lock(&satb_lock);
  b->next = full;
  full = b;
  pthread_mutex_unlock(&satb_lock);
}

void gcl_barrier_satb_slow(struct gcl_mutator *m, struct gcl_object *old) {
  struct gcl_satb *s = &m->satb;
  s->slow_calls++;
  if (!old) return;
  if (GCL_UNLIKELY(!s->buf)) s->buf = buffer_new();
  s->buf->e[s->buf->n++] = old;
  s->entries++;
  if (s->buf->n == GCL_SATB_BUFFER_LEN) {
    hand_over(s->buf);
    s->buf = NULL;
  }
}

void gcl_barrier_satb_store_slow(struct gcl_mutator *m, struct gcl_object *old, struct gcl_object *val) {
  gcl_barrier_satb_slow(m, old);
  if (val && __atomic_load_n(&m->satb.shade_new, __ATOMIC_RELAXED)) {
    m->satb.slow_calls--; /* one store, one slow call */
    gcl_barrier_satb_slow(m, val);
  }
}

void gcl_satb_flush(struct gcl_mutator *m) {
  struct gcl_satb_buffer *b = m->satb.buf;
  if (!b || b->n == 0) return;
  m->satb.buf = NULL;
  hand_over(b);
}

struct gcl_satb_buffer *gcl_satb_take_all(void) {
  pthread_mutex_lock(&satb_lock);
  struct gcl_satb_buffer *b = full;
  full = NULL;
  pthread_mutex_unlock(&satb_lock);
  return b;
}

struct gcl_satb_buffer *gcl_satb_take_one(void) {
  pthread_mutex_lock(&satb_lock);
  struct gcl_satb_buffer *b = full;
  if (b) {
    full = b->next;
    b->next = NULL;
  }
  pthread_mutex_unlock(&satb_lock);
  return b;
}

void gcl_satb_buffer_free(struct gcl_satb_buffer *b) { free(b); }

bool gcl_satb_pending(void) {
  pthread_mutex_lock(&satb_lock);
  bool any = full != NULL;
  pthread_mutex_unlock(&satb_lock);
  return any;
}

void gcl_satb_totals(uint64_t *slow_calls, uint64_t *entries) {
  pthread_mutex_lock(&satb_lock);
  *slow_calls = done_slow;
  *entries = done_entries;
  pthread_mutex_unlock(&satb_lock);
}

void gcl_satb_thread_done(struct gcl_mutator *m) {
  gcl_satb_flush(m);
  free(m->satb.buf); /* empty if still there */
  m->satb.buf = NULL;
  pthread_mutex_lock(&satb_lock);
  done_slow += m->satb.slow_calls;
  done_entries += m->satb.entries;
  pthread_mutex_unlock(&satb_lock);
}
