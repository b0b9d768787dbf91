// SPDX-License-Identifier: MIT
/* tests/unit/test-rc-gen-local.c — rc-gen's thread-local heaps (--opt rc-gen.young=thread,
 * collectors/rc-gen/rc-gen-local.c): the three defects found in the review of issue 8's
 * merge, each checked by a case that failed before its fix (collectors/rc-gen/README.md,
 * Tests). Compiled against a GCL_VERIFY=1 pair library (segment), so the reachability oracle
 * watches every object.
 *  - a thread beyond the 123 thread slots (slot-less, its objects shared from birth) stops
 *    the world once per shared collection, not at every container allocation;
 *  - gcl_collect (gc.collect), which moves every local heap into the shared one, leaves no
 *    stale local counts or long-lived figures (CPython resets them);
 *  - a stop requested by another thread while a thread runs a long local collection is
 *    served inside that collection (at its next poll), not after it;
 *  - a stop that moves every local heap into the shared one (gc.collect's) is not served at
 *    a safepoint of a finalizer that a local collection's clear step runs, where objects
 *    are on private lists (found by the second review of issue 8's merge).
 * Counts and states, never times (the ttsp and collection times are printed only); the
 * stop of the third is requested before the collection starts (owner_main says how).
 * Macros: BIG, ROUNDS (smaller under the sanitizers, __SANITIZE_THREAD__/__SANITIZE_ADDRESS__). */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "collector.h"
#include "module.h"
#include "mutator.h"
#include "pause.h"
#include "typed-option.h"

struct node {
  struct gcl_object header; /* common header */
  struct gcl_object *a;     /* reference: the next node of a chain */
};

#define NODE(o) ((struct node *)(o))

static const struct gcl_type node_type = {
    .name = "node", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, a), .nrefs = 1};

/* The heap for `threads` threads with young=thread and the given thresholds (NULL: the
 * policy's). */
static void init_heap_gil(unsigned threads, const char *t0, const char *t1, const char *t2, bool gil) {
  union gcl_opt_value v[GCL_MODULE_MAX_OPTS];
  gcl_module_defaults(&gcl_collector_module, v);
  char why[160];
  for (unsigned k = 0; k < gcl_collector_module.nopts; k++) {
    const char *name = gcl_collector_module.opts[k].name, *val = NULL;
    if (!strcmp(name, "young")) val = "thread";
    if (!strcmp(name, "threshold0")) val = t0;
    if (!strcmp(name, "threshold1")) val = t1;
    if (!strcmp(name, "threshold2")) val = t2;
    if (val)
      cr_assert_eq(gcl_opt_parse(&gcl_collector_module.opts[k], val, &v[k], why, sizeof why), 0, "%s", why);
  }
  struct gcl_heap_config cfg = {.threads = threads, .collector_opts = v, .gil = gil};
  cr_assert_eq(gcl_heap_init_with(&cfg), 0);
}

static void init_heap(unsigned threads, const char *t0, const char *t1, const char *t2) {
  init_heap_gil(threads, t0, t1, t2, false);
}

/* Prepend a new node to the chain *head (an owned reference, replaced). */
static void push(struct gcl_mutator *m, struct gcl_object **head) {
  struct gcl_object *o = gcl_new(m, &node_type);
  gcl_store_init_move(m, o, &NODE(o)->a, *head);
  *head = o;
}

static uint64_t collections(void) {
  struct gcl_rcgen_stats s;
  gcl_rcgen_get_stats(&s);
  return s.collections[0] + s.collections[1] + s.collections[2];
}

/* --- (a) a thread without a slot ---------------------------------------------------------- */

#define HOLDERS GCL_RCGEN_MAX_SLOT /* every thread slot taken */
#define SLOTLESS_ALLOCS 5000
#define SLOTLESS_T0 100

static struct {
  pthread_mutex_t mu;  /* guards the two fields below */
  pthread_cond_t cv;   /* signalled when either changes */
  unsigned attached;   /* holders attached so far */
  int done;            /* the holders may detach */
} hs = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

static void *holder_main(void *arg) {
  (void)arg;
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_blocking_enter(m); /* stops park it */
  pthread_mutex_lock(&hs.mu);
  hs.attached++;
  pthread_cond_broadcast(&hs.cv);
  while (!hs.done) pthread_cond_wait(&hs.cv, &hs.mu);
  pthread_mutex_unlock(&hs.mu);
  gcl_blocking_leave(m);
  gcl_thread_detach(m);
  return NULL;
}

Test(rc_gen_local, a_thread_beyond_the_slots_stops_once_per_collection, .timeout = 240) {
  init_heap(HOLDERS + 1, "100", NULL, NULL);
  static pthread_t t[HOLDERS];
  for (unsigned i = 0; i < HOLDERS; i++) cr_assert_eq(pthread_create(&t[i], NULL, holder_main, NULL), 0);
  pthread_mutex_lock(&hs.mu);
  while (hs.attached < HOLDERS) pthread_cond_wait(&hs.cv, &hs.mu);
  pthread_mutex_unlock(&hs.mu);

  struct gcl_mutator *m = gcl_thread_attach();
  cr_assert_eq(m->collector.tag, 0, "the test needs a thread without a slot");
  struct gcl_pause_hist h0, h1;
  gcl_ttsp_snapshot(&h0);
  uint64_t c0 = collections();
  struct gcl_object *head = NULL;
  for (int i = 0; i < SLOTLESS_ALLOCS; i++) push(m, &head);
  gcl_ttsp_snapshot(&h1);
  uint64_t stops = h1.count - h0.count, colls = collections() - c0;
  /* The shared young count passes 100 every 101 allocations: 49 collections, one stop each. */
  cr_log_info("slot-less thread: %" PRIu64 " stops, %" PRIu64 " collections for %d allocations\n", stops, colls,
              SLOTLESS_ALLOCS);
  cr_assert_geq(colls, SLOTLESS_ALLOCS / (SLOTLESS_T0 + 1) - 2, "shared collections: %" PRIu64, colls);
  cr_assert_leq(stops, SLOTLESS_ALLOCS / SLOTLESS_T0 + 5, "%" PRIu64 " stops for %d allocations", stops,
                SLOTLESS_ALLOCS);
  gcl_release(m, head);

  gcl_blocking_enter(m);
  pthread_mutex_lock(&hs.mu);
  hs.done = 1;
  pthread_cond_broadcast(&hs.cv);
  pthread_mutex_unlock(&hs.mu);
  for (unsigned i = 0; i < HOLDERS; i++) pthread_join(t[i], NULL);
  gcl_blocking_leave(m);
  gcl_thread_detach(m);
  cr_assert_geq(gcl_rcgen_check(), 0, "list check");
  gcl_heap_finish();
}

/* --- (b) counts after gc.collect ------------------------------------------------------------ */

Test(rc_gen_local, gc_collect_leaves_no_stale_local_counts, .timeout = 60) {
  init_heap(2, "24", "2", "2"); /* two threads: the barrier is on from the start */
  struct gcl_mutator *m = gcl_thread_attach();
  cr_assert_neq(m->collector.tag, 0);
  struct gcl_object *head = NULL;
  /* Local collections of every generation: the chain survives them (local gen1, gen2). */
  for (int i = 0; i < 2000; i++) {
    push(m, &head);
    gcl_release(m, gcl_new(m, &node_type)); /* young garbage, freed by RC */
  }
  for (int i = 0; i < 5; i++) push(m, &head); /* a gen0 count above 0 */
  int64_t c[3];
  uint64_t llt, llp;
  gcl_rcgen_thread_counts(&m->collector, c, &llt, &llp);
  cr_assert_gt(c[0], 0, "gen0 count before gc.collect");
  cr_assert_gt(c[1] + c[2] + (int64_t)llt + (int64_t)llp, 0, "nothing to reset: the test checks nothing");
  struct gcl_rcgen_stats s;
  gcl_rcgen_get_stats(&s);
  cr_assert_gt(s.local_collections, 0);

  gcl_collect(m, 2);
  gcl_rcgen_thread_counts(&m->collector, c, &llt, &llp);
  cr_assert_eq(c[0], 0, "local gen0 count after gc.collect: %" PRId64, c[0]);
  cr_assert_eq(c[1], 0, "local gen1 count after gc.collect: %" PRId64, c[1]);
  cr_assert_eq(c[2], 0, "local gen2 count after gc.collect: %" PRId64, c[2]);
  cr_assert_eq(llt, 0, "local long_lived_total after gc.collect: %" PRIu64, llt);
  cr_assert_eq(llp, 0, "local long_lived_pending after gc.collect: %" PRIu64, llp);
  /* CPython after gc.collect(): every count 0, long_lived_total = the survivors, pending 0. */
  uint64_t total, pending;
  gcl_rcgen_long_lived(&total, &pending);
  cr_assert_eq(gcl_rcgen_gen0_count(), 0);
  cr_assert_eq(gcl_rcgen_gen_count(1), 0);
  cr_assert_eq(gcl_rcgen_gen_count(2), 0);
  cr_assert_eq(pending, 0);
  cr_assert_eq(total, gcl_rcgen_generation_size(2), "long_lived_total %" PRIu64 " against gen2's %" PRIu64,
               total, gcl_rcgen_generation_size(2));
  cr_assert_geq(total, 2005, "the chain survived");

  /* Local collections start again from zero: 50 allocations, two gen0 collections. */
  for (int i = 0; i < 50; i++) push(m, &head);
  gcl_rcgen_thread_counts(&m->collector, c, &llt, &llp);
  cr_assert_eq(c[1], 2, "local gen1 count after two local collections: %" PRId64, c[1]);
  gcl_release(m, head);
  gcl_thread_detach(m);
  cr_assert_geq(gcl_rcgen_check(), 0, "list check");
  gcl_heap_finish();
}

/* --- (c) a stop during a long local collection ------------------------------------------- */

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define BIG 20000
#else
#define BIG 50000
#endif
#define ROUNDS 6

static struct {
  struct gcl_collector_mutator *owner; /* atomic: the collecting thread's state, once attached */
  int ready;                           /* atomic: rounds whose collection is one allocation away */
  int round_done;                      /* atomic: rounds the owner finished */
  int acked;                           /* atomic: rounds the stopper finished (the owner waits
                                        * for it: lockstep, and its state outlives every read) */
} ps;

/* Each round: a chain of BIG live local nodes (threshold0 BIG: the count is at it), then,
 * once the stopper's stop is pending (gcl_stop_requested, read without polling), the
 * allocation that runs a local collection of all of them. Made so, the stop is requested
 * before the collection starts, whatever the scheduler does: with the polls the owner parks
 * at the collection's first one; without them it runs the collection to the end and parks
 * at its next gcl_poll, after it. */
static void *owner_main(void *arg) {
  (void)arg;
  struct gcl_mutator *m = gcl_thread_attach();
  __atomic_store_n(&ps.owner, &m->collector, __ATOMIC_RELEASE);
  for (int r = 0; r < ROUNDS; r++) {
    struct gcl_object *head = NULL;
    for (int i = 0; i < BIG; i++) {
      push(m, &head);
      gcl_poll(m);
    }
    __atomic_store_n(&ps.ready, r + 1, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&gcl_stop_requested, __ATOMIC_ACQUIRE))
      ; /* a spin, not a yield: the ttsp printed is then the collection's, not the scheduler's */
    push(m, &head); /* count BIG + 1: the local collection, the stop pending */
    gcl_poll(m);
    gcl_release(m, head);
    gcl_safepoint(m);
    __atomic_store_n(&ps.round_done, r + 1, __ATOMIC_RELEASE);
    gcl_blocking_enter(m);
    while (__atomic_load_n(&ps.acked, __ATOMIC_ACQUIRE) < r + 1) sched_yield();
    gcl_blocking_leave(m);
  }
  gcl_thread_detach(m);
  return NULL;
}

Test(rc_gen_local, a_stop_is_served_inside_a_long_local_collection, .timeout = 240) {
  char t0[32];
  snprintf(t0, sizeof t0, "%d", BIG);
  init_heap(2, t0, "1000", "1000");
  struct gcl_mutator *m = gcl_thread_attach();
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, owner_main, NULL), 0);
  struct gcl_collector_mutator *owner;
  while (!(owner = __atomic_load_n(&ps.owner, __ATOMIC_ACQUIRE))) gcl_safepoint(m);
  int inside = 0;
  for (int r = 0; r < ROUNDS; r++) {
    while (__atomic_load_n(&ps.ready, __ATOMIC_ACQUIRE) < r + 1) gcl_safepoint(m);
    uint64_t t1 = gcl_now_ns();
    gcl_stop_the_world(m);
    uint64_t ttsp = gcl_now_ns() - t1;
    /* Served at a poll of the collection: the owner is parked inside it. */
    bool mid = __atomic_load_n(&owner->local_collecting, __ATOMIC_RELAXED) &&
               __atomic_load_n(&owner->local_parked, __ATOMIC_RELAXED);
    inside += mid;
    gcl_start_the_world(m);
    cr_log_info("round %d: stop served %s the local collection, ttsp %.1f us\n", r, mid ? "inside" : "after",
                (double)ttsp / 1e3);
    while (__atomic_load_n(&ps.round_done, __ATOMIC_ACQUIRE) == r) gcl_safepoint(m);
    __atomic_store_n(&ps.acked, r + 1, __ATOMIC_RELEASE);
  }
  gcl_blocking_enter(m);
  pthread_join(t, NULL);
  gcl_blocking_leave(m);
  struct gcl_rcgen_stats s;
  gcl_rcgen_get_stats(&s);
  cr_log_info("local collections %" PRIu64 ", %.1f us each on average\n", s.local_collections,
              s.local_collections ? (double)s.gc_ns / (double)s.local_collections / 1e3 : 0.0);
  cr_assert_geq(s.local_collections, ROUNDS, "one local collection per round");
  cr_assert_eq(inside, ROUNDS, "only %d of %d stops were served inside the local collection", inside, ROUNDS);
  gcl_thread_detach(m);
  cr_assert_geq(gcl_rcgen_check(), 0, "list check");
  gcl_heap_finish();
}

/* --- (d) a finalizer inside a local collection's clear step ------------------------------ */

struct pair {
  struct gcl_object header; /* common header */
  struct gcl_object *a, *b; /* references */
};

#define PAIR(o) ((struct pair *)(o))

/* rc-gen-internal.h's, which tests cannot include: gc.collect's stop, as it runs it. */
void gcl_rcgen_stop_world_all(struct gcl_mutator *m);
void gcl_rcgen_start_world_all(struct gcl_mutator *m);
void gcl_rcgen_escape_all(void);

static struct {
  struct gcl_collector_mutator *owner; /* atomic: the owner's state, once attached */
  int in_finalizer; /* atomic: the owner runs the finalizer (1), ran it (2) */
  int stopped;      /* atomic: the stopper's stop_world_all returned */
  int inside;       /* atomic: ... while the owner was inside its local collection */
} fs;

/* Polls for up to ~200 ms, or until the stopper got its stop: a safepoint inside the clear
 * step, held long enough that a stop requested meanwhile is served here unless the rule
 * keeps it out. */
static void polling_finalizer(struct gcl_mutator *m, struct gcl_object *o) {
  (void)o;
  __atomic_store_n(&fs.in_finalizer, 1, __ATOMIC_RELEASE);
  uint64_t t0 = gcl_now_ns();
  /* gcl_safepoint: under the GIL it also hands the GIL to a thread that asks for it */
  while (!__atomic_load_n(&fs.stopped, __ATOMIC_ACQUIRE) && gcl_now_ns() - t0 < 200000000u) gcl_safepoint(m);
  __atomic_store_n(&fs.in_finalizer, 2, __ATOMIC_RELEASE);
}

static const struct gcl_type pair_type = {
    .name = "pair", .size = sizeof(struct pair), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct pair, a), .nrefs = 2};
static const struct gcl_type fin_type = {
    .name = "finalized", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, a), .nrefs = 1, .finalize = polling_finalizer};

/* The owner: F (a finalizer) survives a local gen0 collection into local gen1; a garbage
 * cycle in gen0 then holds F's only reference, so the next gen0 collection's set (gen0
 * only) is the cycle, it has no finalizer (no fallback to a stop), and clearing it kills F
 * outside the set, whose finalizer polls. */
static void *fin_owner_main(void *arg) {
  (void)arg;
  struct gcl_mutator *m = gcl_thread_attach();
  __atomic_store_n(&fs.owner, &m->collector, __ATOMIC_RELEASE);
  struct gcl_object *f = gcl_new(m, &fin_type), *head = NULL;
  for (int i = 0; i < 64; i++) push(m, &head); /* F's gen0 collections (a live chain: counted) */
  struct gcl_object *g1 = gcl_new(m, &pair_type), *g2 = gcl_new(m, &pair_type);
  gcl_store_init_move(m, g1, &PAIR(g1)->b, f);
  gcl_store_init(m, g1, &PAIR(g1)->a, g2);
  gcl_store(m, g2, &PAIR(g2)->a, g1); /* g2 is published (g1 holds it) */
  gcl_release(m, g1);
  gcl_release(m, g2);
  for (int i = 0; i < 64 && !__atomic_load_n(&fs.in_finalizer, __ATOMIC_ACQUIRE); i++)
    push(m, &head); /* the cycle's gen0 collection */
  gcl_release(m, head);
  gcl_blocking_enter(m);
  while (!__atomic_load_n(&fs.stopped, __ATOMIC_ACQUIRE)) sched_yield();
  gcl_blocking_leave(m);
  gcl_thread_detach(m);
  return NULL;
}

static void clear_step_case(bool gil) {
  init_heap_gil(2, "16", "1000", "1000", gil);
  struct gcl_mutator *m = gcl_thread_attach();
  pthread_t t;
  cr_assert_eq(pthread_create(&t, NULL, fin_owner_main, NULL), 0);
  while (!__atomic_load_n(&fs.in_finalizer, __ATOMIC_ACQUIRE)) gcl_safepoint(m);
  struct gcl_collector_mutator *owner = __atomic_load_n(&fs.owner, __ATOMIC_ACQUIRE);
  gcl_rcgen_stop_world_all(m);
  bool inside = __atomic_load_n(&owner->local_collecting, __ATOMIC_RELAXED);
  int fin = __atomic_load_n(&fs.in_finalizer, __ATOMIC_ACQUIRE);
  gcl_rcgen_escape_all(); /* what gc.collect does next */
  gcl_rcgen_start_world_all(m);
  __atomic_store_n(&fs.stopped, 1, __ATOMIC_RELEASE);
  gcl_blocking_enter(m);
  pthread_join(t, NULL);
  gcl_blocking_leave(m);
  cr_assert(!inside, "the stop was served inside the owner's local collection (finalizer state %d)", fin);
  cr_assert_eq(fin, 2, "the finalizer ran and returned before the stop");
  gcl_thread_detach(m);
  cr_assert_geq(gcl_rcgen_check(), 0, "list check");
  gcl_heap_finish();
}

Test(rc_gen_local, gc_collect_is_not_served_inside_a_local_clear_step, .timeout = 60) {
  clear_step_case(false);
}

/* Under the GIL the stopper's retries must hand the GIL over, or the owner parked in its
 * clear step never re-attaches (a hang before the fix: the test's timeout fails it). */
Test(rc_gen_local, gc_collect_waits_for_a_clear_step_under_the_gil, .timeout = 60) {
  clear_step_case(true);
}
