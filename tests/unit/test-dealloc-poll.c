/* SPDX-License-Identifier: MIT */
/* tests/unit/test-dealloc-poll.c — a dealloc drain (core/heap.c gcl_dealloc) polls for a
 * stop every GCL_DEALLOC_POLL_EVERY objects freed (issue 8: time to safepoint), and does
 * not where a poll would deadlock or is not allowed.
 *
 *  - One thread frees a chain of CHAIN objects while another requests a stop: the stop
 *    completes while the free is still in progress — counted (the freeing thread's
 *    objects_freed when the world is stopped is below CHAIN and at most one poll interval
 *    past the start), never timed. To make the order certain, the chain's head has a
 *    finalizer that spins (attached, without a safepoint) until the stop is requested, so
 *    the stop is requested before the first chain object is freed and the freeing thread
 *    cannot reach a safepoint before it has freed the chain — except through the drain's
 *    poll. Before the poll existed the stop completed only after the whole free.
 *  - The requester of a stop that frees a chain while the world is stopped is not
 *    suspended by its own poll (it would wait for its own restart: the test would hang).
 *  - Inside a collector's phase (gcl_event_phase_start .. end: a collection or sweep that
 *    may hold the collector's locks) the drain does not poll: the stop completes only
 *    after the whole free.
 * Linked with rc-gen (unit/dealloc-poll) and with brc (unit/dealloc-poll-brc: it marks from
 * root frames, and polls since issue 8's frame rule), collectors that stop the world, so
 * the poll is compiled in; auto collections are off, so no stop but the test's happens.
 * Looped by the threads label. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>

#include "event.h"
#include "mutator.h"

#define CHAIN 10000 /* objects in the chain: 39 poll intervals at the default */
#ifndef GCL_DEALLOC_POLL_EVERY
#define GCL_DEALLOC_POLL_EVERY 256 /* core/heap.c's default (the build passes no other) */
#endif

struct link {
  struct gcl_object header; /* common header */
  struct gcl_object *next;  /* the rest of the chain or NULL */
};

static void spin_until_stop_requested(struct gcl_mutator *m, struct gcl_object *o);

static const struct gcl_type link_type = {
    .name = "link", .size = sizeof(struct link), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct link, next), .nrefs = 1};
static const struct gcl_type head_type = {
    .name = "spinning-head", .size = sizeof(struct link), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct link, next), .nrefs = 1, .finalize = spin_until_stop_requested};

static int in_finalizer; /* atomic: the head's finalizer runs */

/* Attached, and no safepoint: only a stop request lets the free go on. */
static void spin_until_stop_requested(struct gcl_mutator *m, struct gcl_object *o) {
  (void)m, (void)o;
  __atomic_store_n(&in_finalizer, 1, __ATOMIC_SEQ_CST);
  while (!__atomic_load_n(&gcl_stop_requested, __ATOMIC_SEQ_CST)) sched_yield();
}

/* A head of type `head` followed by n links; returns an owned reference to the head. */
static struct gcl_object *make_chain(struct gcl_mutator *m, const struct gcl_type *head, long n) {
  struct gcl_object *rest = NULL;
  for (long i = 0; i < n; i++) {
    struct gcl_object *l = gcl_new(m, &link_type);
    gcl_store_move(m, l, &((struct link *)l)->next, rest);
    rest = l;
  }
  struct gcl_object *h = gcl_new(m, head);
  gcl_store_move(m, h, &((struct link *)h)->next, rest);
  return h;
}

static void setup(void) {
  cr_assert_eq(gcl_heap_init(), 0);
  __atomic_store_n(&in_finalizer, 0, __ATOMIC_SEQ_CST);
}

struct freer {
  bool in_phase;          /* free inside a collector phase */
  struct gcl_mutator *m;  /* the freeing thread, published once attached (atomic) */
  uint64_t freed_before;  /* its objects_freed before the free */
};

static void *freer_thread(void *arg) {
  struct freer *f = arg;
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_set_auto_collect(m, false);
  struct gcl_object *chain = make_chain(m, &head_type, CHAIN);
  f->freed_before = m->stats.objects_freed;
  __atomic_store_n(&f->m, m, __ATOMIC_SEQ_CST);
  if (f->in_phase) gcl_event_phase_start("test-sweep");
  gcl_release(m, chain);
  if (f->in_phase) gcl_event_phase_end("test-sweep");
  gcl_safepoint(m); /* where the stop is honoured when the drain did not poll */
  gcl_thread_detach(m);
  return NULL;
}

/* Runs a freer, stops the world once its finalizer spins; returns how many of the chain's
 * objects it had freed when the world was stopped, and its drain polls. */
static uint64_t freed_at_stop(bool in_phase, uint64_t *polls) {
  struct freer f = {.in_phase = in_phase};
  pthread_t t;
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_set_auto_collect(m, false);
  cr_assert_eq(pthread_create(&t, NULL, freer_thread, &f), 0);
  gcl_blocking_enter(m);
  while (!__atomic_load_n(&in_finalizer, __ATOMIC_SEQ_CST)) sched_yield();
  gcl_blocking_leave(m);
  gcl_stop_the_world(m);
  struct gcl_mutator *fm = __atomic_load_n(&f.m, __ATOMIC_SEQ_CST);
  uint64_t freed = fm->stats.objects_freed - f.freed_before; /* it is stopped: stable */
  *polls = fm->stats.dealloc_polls;
  gcl_start_the_world(m);
  gcl_blocking_enter(m);
  pthread_join(t, NULL);
  gcl_blocking_leave(m);
  gcl_thread_detach(m);
  return freed;
}

Test(dealloc_poll, stop_completes_before_a_large_free, .init = setup, .timeout = 120) {
  uint64_t polls;
  uint64_t freed = freed_at_stop(false, &polls);
  cr_assert_lt(freed, CHAIN, "the stop waited for the whole free (%llu of %d objects freed)",
               (unsigned long long)freed, CHAIN + 1);
  cr_assert_leq(freed, GCL_DEALLOC_POLL_EVERY + 1,
                "the stop completed only after %llu objects were freed (a poll every %d)",
                (unsigned long long)freed, GCL_DEALLOC_POLL_EVERY);
  cr_assert_eq(polls, 1, "%llu drain polls for one stop", (unsigned long long)polls);
}

Test(dealloc_poll, no_poll_inside_a_collector_phase, .init = setup, .timeout = 120) {
  uint64_t polls;
  uint64_t freed = freed_at_stop(true, &polls);
  cr_assert_eq(freed, CHAIN + 1, "the drain stopped inside a phase after %llu of %d objects",
               (unsigned long long)freed, CHAIN + 1);
  cr_assert_eq(polls, 0, "%llu drain polls inside a phase", (unsigned long long)polls);
}

Test(dealloc_poll, the_requester_frees_with_the_world_stopped, .init = setup, .timeout = 120) {
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_set_auto_collect(m, false);
  struct gcl_object *chain = make_chain(m, &link_type, CHAIN);
  uint64_t before = m->stats.objects_freed;
  gcl_stop_the_world(m);
  gcl_release(m, chain); /* polls find the stop requested, by this very thread */
  gcl_start_the_world(m);
  cr_assert_eq(m->stats.objects_freed - before, CHAIN + 1);
  gcl_thread_detach(m);
}
