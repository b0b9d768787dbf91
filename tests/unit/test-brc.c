/* SPDX-License-Identifier: MIT */
/* tests/unit/test-brc.c — the brc collector (collectors/brc/), linked with the brc x pool
 * verify library: the BRC invariants of issue 4 (owner-only local count — run under TSan to
 * prove it —, states only increase, a negative shared count implies queued, queued at most
 * once, a detached thread's queue is empty, an ownerless object is merged by its finder,
 * no queued object with a zero true count survives a collection), deferred objects (alive
 * while a root frame names them, freed by the next collection after the last reference),
 * immortal objects, cycle collection across threads (finalizers, resurrection, weak
 * references), the trigger, gc.freeze, and thread exit while objects are queued to the
 * exiting thread. Threads wait for each other only inside blocking regions. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>

#include "collector.h"
#include "mutator.h"
#include "verify.h"
#include "weakref.h"
#include "workload.h"

struct cell {
  struct gcl_object header; /* common header */
  struct gcl_object *a;     /* reference */
  struct gcl_object *b;     /* reference */
  uint64_t value;           /* payload */
};

#define CELL(o) ((struct cell *)(o))

static const struct gcl_type cell_type = {
    .name = "cell", .size = sizeof(struct cell), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct cell, a), .nrefs = 2};

static int finalized;                 /* finalizer runs */
static struct gcl_object *global_slot; /* a global root */

static void resurrecting_finalizer(struct gcl_mutator *m, struct gcl_object *o) {
  finalized++;
  if (CELL(o)->value == 7) gcl_store(m, NULL, &global_slot, o); /* a new reference: it lives */
}

static const struct gcl_type fin_type = {
    .name = "fin-cell", .size = sizeof(struct cell), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct cell, a), .nrefs = 2, .finalize = resurrecting_finalizer};

static void setup(void) {
  cr_assert_eq(gcl_heap_init(), 0);
  finalized = 0;
  global_slot = NULL;
  gcl_global_root_add(&global_slot);
}

static struct gcl_brc_prefix *P(struct gcl_object *o) { return gcl_brc_prefix_of(o); }
static intptr_t shared_count(struct gcl_object *o) { return gcl_brc_shared(o) >> GCL_BRC_SHARED_SHIFT; }
static intptr_t state(struct gcl_object *o) { return gcl_brc_shared(o) & GCL_BRC_STATE_MASK; }

/* Objects allocated and not freed, by the oracle (only while no other thread runs). */
static uint64_t live_now(void) {
  struct gcl_verify_result r;
  gcl_verify_heap(&r);
  cr_assert_eq(r.errors, 0, "oracle: %s", gcl_verify_first_error());
  return r.live;
}

static struct gcl_brc_stats stats(void) {
  struct gcl_brc_stats s;
  gcl_brc_get_stats(&s);
  return s;
}

/* --- a second thread, driven step by step --------------------------------------------- */

/* The main thread and a helper take turns: the helper runs step(i) when turn == 2i + 1
 * and hands back with turn == 2i + 2. Waiting is done in blocking regions. */
struct helper {
  pthread_t thread;                           /* the helper */
  int turn;                                   /* atomic */
  int steps;                                  /* how many */
  void (*step)(struct gcl_mutator *m, int i); /* the helper's work */
  struct gcl_mutator *m;                      /* the helper's mutator */
};

static void wait_turn(struct gcl_mutator *m, int *turn, int want) {
  gcl_blocking_enter(m);
  while (__atomic_load_n(turn, __ATOMIC_ACQUIRE) != want) sched_yield();
  gcl_blocking_leave(m);
}

static void *helper_main(void *arg) {
  struct helper *h = arg;
  h->m = gcl_thread_attach();
  for (int i = 0; i < h->steps; i++) {
    wait_turn(h->m, &h->turn, 2 * i + 1);
    h->step(h->m, i);
    __atomic_store_n(&h->turn, 2 * i + 2, __ATOMIC_RELEASE);
  }
  gcl_thread_detach(h->m);
  return NULL;
}

static void helper_start(struct helper *h, int steps, void (*step)(struct gcl_mutator *, int)) {
  *h = (struct helper){.steps = steps, .step = step};
  cr_assert_eq(pthread_create(&h->thread, NULL, helper_main, h), 0);
}

/* Let the helper run its next step and wait for it. */
static void helper_run(struct gcl_mutator *m, struct helper *h, int i) {
  __atomic_store_n(&h->turn, 2 * i + 1, __ATOMIC_RELEASE);
  wait_turn(m, &h->turn, 2 * i + 2);
}

static void helper_join(struct gcl_mutator *m, struct helper *h) {
  gcl_blocking_enter(m);
  pthread_join(h->thread, NULL);
  gcl_blocking_leave(m);
}

/* --- the owner's fast path ------------------------------------------------------------ */

Test(brc, the_owner_counts_locally, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *o = gcl_new(m, &cell_type);
  cr_assert_eq(P(o)->owner, m->collector.tid);
  cr_assert_eq(P(o)->ref_local, 1);
  cr_assert_eq(gcl_brc_shared(o), 0);
  for (int i = 0; i < 10; i++) gcl_retain(m, o);
  cr_assert_eq(P(o)->ref_local, 11);
  cr_assert_eq(gcl_brc_shared(o), 0, "the owner never touches the shared count");
  for (int i = 0; i < 10; i++) gcl_release(m, o);
  cr_assert_eq(live_now(), 1);
  gcl_release(m, o);
  cr_assert_eq(P(o)->owner, GCL_BRC_OWNER_FREED, "quarantined memory is marked dead");
  cr_assert_eq(live_now(), 0, "local count zero and shared word zero: freed at once");
  gcl_thread_detach(m);
}

/* --- non-owners: shared count, queueing, merging ---------------------------------------- */

static struct gcl_object *handed; /* passed between the main thread and a helper */
static intptr_t seen_states[16];  /* states the helper observed, in order */
static int nseen;

static void record_state(struct gcl_object *o) { seen_states[nseen++] = state(o); }

static void nonowner_step(struct gcl_mutator *m, int i) {
  struct gcl_object *o = handed;
  cr_assert_neq(P(o)->owner, m->collector.tid);
  if (i == 0) {
    gcl_retain(m, o);
    cr_assert_eq(shared_count(o), 1, "a non-owner's increment goes to the shared count");
    cr_assert_eq(P(o)->ref_local, 4, "and leaves the local count alone");
    gcl_release(m, o);
    cr_assert_eq(shared_count(o), 0);
    cr_assert_eq(state(o), GCL_BRC_DEFAULT);
    record_state(o);
  } else {
    /* Three references the owner counted are dropped here. */
    for (int k = 0; k < 3; k++) {
      gcl_release(m, o);
      record_state(o);
      cr_assert_eq(state(o), GCL_BRC_QUEUED, "the first drop below zero queues the object");
      cr_assert_eq(shared_count(o), -k, "the queue keeps the first reference; the rest go negative");
      cr_assert(gcl_brc_shared(o) >= 0 || state(o) == GCL_BRC_QUEUED, "negative implies queued");
    }
  }
}

Test(brc, nonowners_queue_once_and_the_owner_merges, .init = setup, .timeout = 60) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *o = gcl_new(m, &cell_type);
  GCL_FRAME(m, f, &o);
  for (int k = 0; k < 3; k++) gcl_retain(m, o); /* four references, counted by the owner */
  handed = o;
  nseen = 0;
  struct helper h;
  helper_start(&h, 2, nonowner_step);
  helper_run(m, &h, 0);
  helper_run(m, &h, 1);
  helper_join(m, &h);
  cr_assert_eq(gcl_brc_queue_length(m), 1, "queued exactly once");
  cr_assert_eq(state(o), GCL_BRC_QUEUED);
  cr_assert_eq(gcl_brc_check(m), 0);
  cr_assert_eq(live_now(), 1, "still alive: ours is left");
  gcl_safepoint(m); /* the owner merges its queue */
  cr_assert_eq(gcl_brc_queue_length(m), 0);
  cr_assert_eq(state(o), GCL_BRC_MERGED);
  cr_assert_eq(P(o)->owner, GCL_BRC_OWNER_NONE, "a merged object has no owner");
  cr_assert_eq(shared_count(o), 1, "1 (ours) = local 4 + shared -2 - the queue's 1");
  record_state(o);
  for (int i = 1; i < nseen; i++) cr_assert_geq(seen_states[i], seen_states[i - 1], "a state decreased");
  GCL_FRAME_POP(m, f);
  gcl_release(m, o);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

Test(brc, states_only_increase, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *o = gcl_new(m, &cell_type);
  intptr_t prev = state(o);
  cr_assert_eq(prev, GCL_BRC_DEFAULT);
  gcl_share(m, o);
  cr_assert_eq(state(o), GCL_BRC_MAYBE_WEAKREF, "published objects may be try_inc'd by others");
  gcl_share(m, o);
  cr_assert_eq(state(o), GCL_BRC_MAYBE_WEAKREF);
  gcl_retain(m, o);
  gcl_release(m, o);
  cr_assert_geq(state(o), prev);
  prev = state(o);
  struct gcl_weakref *w = gcl_weakref_new(m, o, NULL, NULL);
  cr_assert_geq(state(o), prev);
  gcl_release(m, o); /* local zero with a non-zero shared word: merge, then die */
  cr_assert_null(gcl_weakref_get(m, w), "cleared when it died");
  gcl_weakref_free(m, w);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

/* --- the owner is gone ------------------------------------------------------------------- */

static uint32_t gone_tid;

static void make_and_leave(struct gcl_mutator *m, int i) {
  (void)i;
  struct gcl_object *o = gcl_new(m, &cell_type);
  gcl_retain(m, o); /* two references, counted locally; both are handed over */
  gone_tid = m->collector.tid;
  handed = o;
}

Test(brc, an_ownerless_object_is_merged_by_its_finder, .init = setup, .timeout = 60) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct helper h;
  helper_start(&h, 1, make_and_leave);
  helper_run(m, &h, 0);
  helper_join(m, &h); /* the owner detached */
  struct gcl_object *o = handed;
  cr_assert_not(gcl_brc_owner_attached(gone_tid));
  cr_assert_eq(P(o)->owner, gone_tid, "the object still names its departed owner");
  GCL_FRAME(m, f, &o);
  gcl_release(m, o); /* would queue; the owner is gone, so merged here: 2 + 0 - 1 = 1 */
  cr_assert_eq(state(o), GCL_BRC_MERGED);
  cr_assert_eq(shared_count(o), 1);
  cr_assert_eq(P(o)->owner, GCL_BRC_OWNER_NONE);
  cr_assert_eq(gcl_brc_check(m), 0);
  GCL_FRAME_POP(m, f);
  gcl_release(m, o);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

/* --- thread exit with objects queued to it -------------------------------------------------- */

#define QN 1000
static struct gcl_object *many[QN];

static void owner_makes(struct gcl_mutator *m, int i) {
  if (i == 0) {
    for (int k = 0; k < QN; k++) many[k] = gcl_new(m, &cell_type);
  }
  /* step 1: nothing — the owner never reaches a safepoint while the others queue; it
   * detaches right after, with QN objects on its queue */
}

Test(brc, an_exiting_thread_drains_its_queue, .init = setup, .timeout = 60) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct helper h;
  helper_start(&h, 2, owner_makes);
  helper_run(m, &h, 0);
  for (int k = 0; k < QN; k++) gcl_release(m, many[k]); /* the owner's only references */
  for (int k = 0; k < QN; k++) cr_assert_eq(state(many[k]), GCL_BRC_QUEUED);
  helper_run(m, &h, 1);
  helper_join(m, &h);
  cr_assert_eq(live_now(), 0, "the exiting owner merged (and freed) everything queued to it");
  cr_assert_eq(gcl_brc_check(m), 0);
  gcl_thread_detach(m);
}

/* Many threads handing objects around and exiting at different times, under TSan too: the
 * local count is only ever written by its owner (or after the owner left). */
#define SWAP_THREADS 6
#define SWAP_SLOTS 64
#define SWAP_ROUNDS 3000
static struct gcl_object *swap_slots[SWAP_SLOTS]; /* global roots; exchanged atomically */

static void *swapper(void *arg) {
  unsigned id = (unsigned)(uintptr_t)arg;
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_rng rng;
  gcl_rng_seed(&rng, 42, id);
  unsigned rounds = SWAP_ROUNDS * (id + 1) / SWAP_THREADS; /* they exit at different times */
  struct gcl_object *mine = NULL;
  GCL_FRAME(m, f, &mine);
  for (unsigned r = 0; r < rounds; r++) {
    mine = gcl_new(m, &cell_type);
    CELL(mine)->value = r;
    if (gcl_rng_below(&rng, 4) == 0) gcl_store(m, mine, &CELL(mine)->a, mine); /* a cycle */
    gcl_share(m, mine);
    unsigned s = (unsigned)gcl_rng_below(&rng, SWAP_SLOTS);
    /* Swap our new object into a slot; the previous occupant (often another thread's)
     * becomes ours to drop. */
    struct gcl_object *old = __atomic_exchange_n(&swap_slots[s], mine, __ATOMIC_ACQ_REL);
    mine = old;
    if (old) {
      struct gcl_object *extra = gcl_load_strong(m, NULL, &swap_slots[(s + 1) % SWAP_SLOTS]);
      gcl_release(m, extra);
      gcl_retain(m, old);
      gcl_release(m, old);
    }
    gcl_frame_release(m, &mine); /* the frame rule: cleared before it may die */
    gcl_safepoint(m);
    if (r % 500 == 0 && id == 0) gcl_collect(m, -1);
  }
  GCL_FRAME_POP(m, f);
  gcl_thread_detach(m);
  return NULL;
}

Test(brc_threads, handoffs_and_exits_keep_every_invariant, .init = setup, .timeout = 240) {
  for (int s = 0; s < SWAP_SLOTS; s++) {
    swap_slots[s] = NULL;
    gcl_global_root_add(&swap_slots[s]);
  }
  pthread_t t[SWAP_THREADS];
  for (uintptr_t i = 0; i < SWAP_THREADS; i++) pthread_create(&t[i], NULL, swapper, (void *)i);
  for (int i = 0; i < SWAP_THREADS; i++) pthread_join(t[i], NULL);
  struct gcl_mutator *m = gcl_thread_attach();
  cr_assert_eq(gcl_brc_check(m), 0);
  for (int s = 0; s < SWAP_SLOTS; s++) {
    gcl_release(m, swap_slots[s]);
    swap_slots[s] = NULL;
  }
  gcl_collect(m, -1);
  cr_assert_eq(gcl_brc_check(m), 0);
  gcl_thread_detach(m);
  cr_assert_eq(live_now(), 0);
  cr_assert_eq(stats().invariant_failures, 0);
}

/* --- collections and queues ------------------------------------------------------------- */

static void drop_handed(struct gcl_mutator *m, int i) {
  (void)i;
  gcl_release(m, handed); /* the last reference: queued to the owner, true count zero */
}

Test(brc, a_collection_leaves_no_queued_object_with_zero_count, .init = setup, .timeout = 60) {
  struct gcl_mutator *m = gcl_thread_attach();
  handed = gcl_new(m, &cell_type);
  struct gcl_object *keep = gcl_new(m, &cell_type);
  GCL_FRAME(m, f, &keep);
  struct helper h;
  helper_start(&h, 1, drop_handed);
  helper_run(m, &h, 0);
  helper_join(m, &h);
  cr_assert_eq(gcl_brc_queue_length(m), 1);
  cr_assert_eq(state(handed), GCL_BRC_QUEUED);
  cr_assert_eq(live_now(), 2);
  uint64_t merged = stats().merged_by_gc;
  gcl_collect(m, -1); /* merges every queue: the zero-count object is garbage */
  cr_assert_eq(stats().merged_by_gc, merged + 1);
  cr_assert_eq(gcl_brc_queue_length(m), 0);
  cr_assert_eq(live_now(), 1, "freed by the collection that merged it");
  cr_assert_eq(gcl_brc_check(m), 0);
  GCL_FRAME_POP(m, f);
  gcl_release(m, keep);
  gcl_thread_detach(m);
}

/* --- deferred reference counting ---------------------------------------------------------- */

Test(brc, deferred_objects_live_while_a_frame_names_them, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *d = gcl_new(m, &cell_type);
  gcl_make_deferred(m, d);
  cr_assert_eq(P(d)->owner, GCL_BRC_OWNER_DEFERRED);
  intptr_t before = gcl_brc_shared(d);
  struct gcl_object *holder = gcl_new(m, &cell_type);
  GCL_FRAME(m, f, &d, &holder);
  for (int i = 0; i < 5; i++) gcl_retain(m, d);
  for (int i = 0; i < 5; i++) gcl_release(m, d);
  struct gcl_object *again = gcl_load_strong(m, NULL, &d);
  gcl_release(m, again);
  cr_assert_eq(gcl_brc_shared(d), before, "thread-held references are not counted");
  gcl_collect(m, -1);
  cr_assert_eq(live_now(), 2, "named by a root frame only: alive");

  gcl_store(m, holder, &CELL(holder)->a, d);
  cr_assert_eq(gcl_brc_shared(d), before + GCL_BRC_SHARED_ONE, "a slot's reference is counted");
  d = NULL; /* the frame no longer names it */
  gcl_collect(m, -1);
  cr_assert_eq(live_now(), 2, "referenced by a live object: alive");

  gcl_store(m, holder, &CELL(holder)->a, NULL); /* the last reference goes */
  cr_assert_eq(live_now(), 2, "reference counting never frees a deferred object");
  gcl_collect(m, -1);
  cr_assert_eq(live_now(), 1, "the next collection does");
  GCL_FRAME_POP(m, f);
  gcl_release(m, holder);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

static void parked_with_deferred(struct gcl_mutator *m, int i) {
  static struct gcl_object *d; /* the helper's rooted local (static: survives steps) */
  static struct gcl_frame *frame;
  static struct gcl_frame fr;
  static struct gcl_object **slots[1] = {&d};
  if (i == 0) {
    d = gcl_new(m, &cell_type);
    gcl_make_deferred(m, d);
    handed = d;
    fr = (struct gcl_frame){NULL, 1, slots};
    gcl_frame_push(m, &fr);
    frame = &fr;
  } else {
    d = NULL;
    gcl_frame_pop(m, frame);
  }
}

Test(brc, deferred_objects_named_by_a_parked_thread_live, .init = setup, .timeout = 60) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct helper h;
  helper_start(&h, 2, parked_with_deferred);
  helper_run(m, &h, 0); /* the helper now waits, parked, with d in its frame */
  gcl_collect(m, -1);
  cr_assert_eq(P(handed)->owner, GCL_BRC_OWNER_DEFERRED, "not collected");
  helper_run(m, &h, 1);
  helper_join(m, &h);
  gcl_collect(m, -1);
  cr_assert_eq(live_now(), 0, "freed by the first collection after the frame let go");
  gcl_thread_detach(m);
}

/* --- immortal objects ---------------------------------------------------------------------- */

static void touch_immortal(struct gcl_mutator *m, int i) {
  (void)i;
  for (int k = 0; k < 100; k++) gcl_retain(m, handed);
  for (int k = 0; k < 150; k++) gcl_release(m, handed);
}

Test(brc, immortal_objects_ignore_counts_and_collections, .init = setup, .timeout = 60) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *o = gcl_new(m, &cell_type);
  gcl_make_immortal(m, o);
  handed = o;
  struct gcl_object *child = gcl_new(m, &cell_type);
  gcl_store_move(m, o, &CELL(o)->a, child); /* reachable only from the immortal */
  for (int k = 0; k < 50; k++) gcl_release(m, o);
  struct helper h;
  helper_start(&h, 1, touch_immortal);
  helper_run(m, &h, 0);
  helper_join(m, &h);
  cr_assert_eq(P(o)->ref_local, GCL_BRC_LOCAL_IMMORTAL);
  cr_assert_eq(gcl_brc_shared(o), 0, "nobody touched the shared count");
  gcl_collect(m, -1);
  cr_assert_eq(live_now(), 2, "an immortal object and what it references are never collected");
  gcl_thread_detach(m);
}

/* --- cycles, finalizers, weak references ------------------------------------------------ */

static void make_half_cycle(struct gcl_mutator *m, int i) {
  (void)i;
  struct gcl_object *y = gcl_new(m, &fin_type);
  gcl_store(m, y, &CELL(y)->a, handed); /* y -> x */
  gcl_store_move(m, handed, &CELL(handed)->a, y); /* x -> y, our y reference moves */
}

static int weak_callbacks;
static void weak_cb(struct gcl_mutator *m, struct gcl_weakref *w, void *ctx) {
  (void)ctx;
  weak_callbacks++;
  cr_assert_null(gcl_weakref_get(m, w));
}

Test(brc, cycles_across_threads_are_collected, .init = setup, .timeout = 60) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *x = gcl_new(m, &fin_type);
  handed = x;
  struct helper h;
  helper_start(&h, 1, make_half_cycle);
  helper_run(m, &h, 0);
  helper_join(m, &h);
  struct gcl_weakref *w = gcl_weakref_new(m, x, weak_cb, NULL);
  weak_callbacks = 0;
  gcl_release(m, x);
  cr_assert_eq(live_now(), 2, "a cycle: reference counting alone keeps it");
  gcl_collect(m, -1);
  cr_assert_eq(finalized, 2, "each finalizer ran once");
  cr_assert_eq(weak_callbacks, 1);
  cr_assert_null(gcl_weakref_get(m, w));
  cr_assert_eq(live_now(), 0);
  cr_assert_eq(stats().collected, 2);
  gcl_weakref_free(m, w);
  gcl_thread_detach(m);
}

Test(brc, a_finalizer_can_resurrect, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *x = gcl_new(m, &fin_type), *y = gcl_new(m, &cell_type);
  CELL(x)->value = 7; /* its finalizer stores it in global_slot */
  gcl_store(m, x, &CELL(x)->a, y);
  gcl_store(m, y, &CELL(y)->a, x);
  gcl_release(m, y);
  gcl_release(m, x);
  gcl_collect(m, -1);
  cr_assert_eq(finalized, 1);
  cr_assert_eq(global_slot, x);
  cr_assert_eq(live_now(), 2, "x and what it references came back");
  cr_assert_eq(stats().resurrected, 2);
  gcl_collect(m, -1);
  cr_assert_eq(finalized, 1, "a finalizer runs at most once");
  cr_assert_eq(live_now(), 2);
  gcl_store(m, NULL, &global_slot, NULL);
  gcl_collect(m, -1);
  cr_assert_eq(finalized, 1);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

/* --- the trigger, gc.disable, gc.freeze ----------------------------------------------------- */

static void make_cycles(struct gcl_mutator *m, int n) {
  for (int i = 0; i < n; i++) {
    struct gcl_object *x = gcl_new(m, &cell_type), *y = gcl_new(m, &cell_type);
    gcl_store_move(m, x, &CELL(x)->a, y); /* both references move into the cycle */
    gcl_store_move(m, y, &CELL(y)->a, x);
    gcl_safepoint(m);
  }
}

Test(brc, allocations_trigger_collections, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  make_cycles(m, 1000); /* 2000 containers: not yet over the threshold */
  cr_assert_eq(stats().collections, 0);
  make_cycles(m, 2000);
  cr_assert_gt(stats().collections, 0, "more than 2000 net container allocations collect");
  cr_assert_gt(stats().collected, 0);
  cr_assert(gcl_set_auto_collect(m, false), "automatic collections were on");
  uint64_t before = stats().collections;
  make_cycles(m, 10000);
  cr_assert_eq(stats().collections, before, "gc.disable() stops them");
  cr_assert_not(gcl_set_auto_collect(m, true));
  gcl_collect(m, -1);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

Test(brc, frozen_objects_are_not_collected, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  make_cycles(m, 10);
  cr_assert_eq(gcl_freeze(m), 20);
  gcl_collect(m, -1);
  cr_assert_eq(live_now(), 20, "frozen cyclic garbage stays");
  struct gcl_object *o = gcl_new(m, &cell_type); /* frozen objects still die by RC: */
  gcl_freeze(m);
  gcl_release(m, o);
  cr_assert_eq(live_now(), 20);
  cr_assert_eq(gcl_unfreeze(m), 20);
  gcl_collect(m, -1);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

#if GCL_BRC_COUNTERS
Test(brc, counters_count_each_path, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *o = gcl_new(m, &cell_type);
  gcl_retain(m, o);
  gcl_release(m, o);
  cr_assert_eq(m->collector.ops.owner, 2);
  struct gcl_object *d = gcl_new(m, &cell_type);
  gcl_make_deferred(m, d);
  gcl_retain(m, d);
  cr_assert_eq(m->collector.ops.deferred_skipped, 1);
  gcl_release(m, o);
  gcl_thread_detach(m);
}
#endif
