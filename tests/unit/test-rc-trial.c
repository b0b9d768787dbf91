/* SPDX-License-Identifier: MIT */
/* tests/unit/test-rc-trial.c — trial deletion (collectors/rc-trial), compiled against a
 * GCL_VERIFY=1 pair library, so the reachability oracle checks every heap (a double free
 * or a freed reachable object is an oracle error): a cycle with an external reference is
 * not freed, and is freed once that reference is dropped; a buffered candidate that drops
 * to zero dies by RC and is not freed again; nested, overlapping and long cycles, cycles
 * that reference live objects and leaves; the buffer-size trigger; finalizers (once,
 * resurrection) and weak references (cleared before callbacks, callbacks before garbage is
 * cleared); the record; several threads with cross-thread frees of buffered candidates and
 * stop-the-world collections.
 *
 * Automatic collections are off (buffer limit 0) unless a test is about them. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "mutator.h"
#include "report.h"
#include "verify.h"
#include "weakref.h"

/* --- types ---------------------------------------------------------------------------- */

struct node {
  struct gcl_object header; /* common header */
  struct gcl_object *a;     /* reference */
  struct gcl_object *b;     /* reference */
  uint64_t value;           /* payload, checked after collections */
};

struct leaf {
  struct gcl_object header; /* common header */
  uint64_t value;           /* payload */
};

#define NODE(o) ((struct node *)(o))
#define LEAF(o) ((struct leaf *)(o))

static void node_trace(struct gcl_object *o, gcl_visit_fn visit, void *ctx) {
  visit(&NODE(o)->a, ctx);
  visit(&NODE(o)->b, ctx);
}

static const struct gcl_type node_type = {
    .name = "node", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, a), .nrefs = 2};
/* The same layout walked through a trace hook (the other path of each walk). */
static const struct gcl_type hooked_type = {
    .name = "hooked", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .trace = node_trace};
static const struct gcl_type leaf_type = {.name = "leaf", .size = sizeof(struct leaf)};

#define RESURRECT 0x8000000000000000ull
static int fin_runs;
static struct gcl_object *resurrect_slot; /* a global root */

static void node_finalize(struct gcl_mutator *m, struct gcl_object *o) {
  fin_runs++;
  if (NODE(o)->value & RESURRECT) gcl_store(m, NULL, &resurrect_slot, o);
}

static const struct gcl_type fnode_type = {
    .name = "fnode", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, a), .nrefs = 2, .finalize = node_finalize};

/* --- helpers -------------------------------------------------------------------------- */

static void setup(void) {
  cr_assert_eq(gcl_heap_init(), 0);
  gcl_rctrial_set_buffer_limit(0);
  fin_runs = 0;
  resurrect_slot = NULL;
  gcl_global_root_add(&resurrect_slot);
}

static struct gcl_object *new_node(struct gcl_mutator *m, const struct gcl_type *t, uint64_t v) {
  struct gcl_object *o = gcl_new(m, t);
  NODE(o)->value = v;
  return o;
}

/* A ring of n nodes valued v, v+1, ...; returns an owned reference to its head. */
static struct gcl_object *make_ring(struct gcl_mutator *m, const struct gcl_type *t, int n,
                                    uint64_t v) {
  struct gcl_object *head = new_node(m, t, v), *tail = head;
  for (int i = 1; i < n; i++) {
    struct gcl_object *x = new_node(m, t, v + (uint64_t)i);
    gcl_store_move(m, tail, &NODE(tail)->a, x);
    tail = x;
  }
  gcl_store(m, tail, &NODE(tail)->a, head);
  return head;
}

static int ring_len(struct gcl_object *head, uint64_t v) {
  int n = 0;
  struct gcl_object *x = head;
  do {
    cr_assert_eq(NODE(x)->value & ~RESURRECT, v + (uint64_t)n, "ring value");
    n++;
    x = NODE(x)->a;
  } while (x != head && n < 2000000);
  return n;
}

static uint64_t live_now(void) {
  struct gcl_verify_result r;
  gcl_verify_heap(&r);
  cr_assert_eq(r.errors, 0, "oracle error: %s", gcl_verify_first_error());
  return r.live;
}

/* No oracle error, nothing unreachable left, the buffers consistent. */
static void expect_clean_heap(const char *when) {
  struct gcl_verify_result r;
  gcl_verify_heap(&r);
  cr_assert_eq(r.errors, 0, "%s: oracle error: %s", when, gcl_verify_first_error());
  cr_assert_eq(r.live, r.reachable, "%s: %llu live, %llu reachable", when,
               (unsigned long long)r.live, (unsigned long long)r.reachable);
  cr_assert_geq(gcl_rctrial_check(), 0, "%s: buffer check %lld", when, (long long)gcl_rctrial_check());
}

static struct gcl_rctrial_stats stats_now(void) {
  struct gcl_rctrial_stats s;
  gcl_rctrial_get_stats(&s);
  return s;
}

/* --- the algorithm ---------------------------------------------------------------------- */

Test(rc_trial, cycle_with_external_reference_survives_then_dies, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *keep = make_ring(m, &node_type, 5, 10);
  GCL_FRAME(m, f, &keep);
  /* Make it a candidate: one more reference, dropped (a decrement to non-zero). */
  gcl_retain(m, keep);
  gcl_release(m, keep);
  cr_assert(gcl_rctrial_is_buffered(keep));
  cr_assert_eq(gcl_rctrial_buffered(), 1);
  struct gcl_rctrial_stats s0 = stats_now();
  gcl_collect(m, -1);
  struct gcl_rctrial_stats s1 = stats_now();
  cr_assert_eq(s1.roots_scanned - s0.roots_scanned, 1);
  cr_assert_eq(s1.objects_traversed - s0.objects_traversed, 5, "MarkGray met the whole ring");
  cr_assert_eq(s1.objects_freed - s0.objects_freed, 0, "an externally referenced cycle");
  cr_assert_not(gcl_rctrial_is_buffered(keep), "a collection empties the buffer");
  cr_assert_eq(ring_len(keep, 10), 5);
  cr_assert_eq(gcl_rc_count(keep, gcl_rc_kind()), 2, "ScanBlack restored the count");
  cr_assert_eq(gcl_rc_count(NODE(keep)->a, gcl_rc_kind()), 1);
  expect_clean_heap("with the external reference");
  cr_assert_eq(live_now(), 5);
  /* Drop the external reference: the ring is garbage, buffered by that decrement. */
  GCL_FRAME_POP(m, f);
  gcl_release(m, keep);
  cr_assert_eq(gcl_rctrial_buffered(), 1);
  gcl_collect(m, -1);
  struct gcl_rctrial_stats s2 = stats_now();
  cr_assert_eq(s2.objects_freed - s1.objects_freed, 5);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

Test(rc_trial, buffered_candidate_that_drops_to_zero_is_freed_once, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  /* A lone node and the head of an acyclic chain, each buffered, then freed by RC. */
  struct gcl_object *x = new_node(m, &node_type, 1);
  struct gcl_object *chain = new_node(m, &hooked_type, 2);
  gcl_store_move(m, chain, &NODE(chain)->a, new_node(m, &node_type, 3));
  struct gcl_object *mid = NODE(chain)->a;
  gcl_retain(m, x);
  gcl_release(m, x);
  gcl_retain(m, mid);
  gcl_release(m, mid);
  cr_assert(gcl_rctrial_is_buffered(x) && gcl_rctrial_is_buffered(mid));
  cr_assert_eq(gcl_rctrial_buffered(), 2);
  gcl_release(m, x);     /* dies by RC while buffered */
  gcl_release(m, chain); /* the chain dies by RC, mid (buffered) with it */
  cr_assert_eq(live_now(), 0);
  cr_assert_eq(gcl_rctrial_check(), 0, "freed candidates left their slots empty");
  struct gcl_rctrial_stats s0 = stats_now();
  gcl_collect(m, -1);
  struct gcl_rctrial_stats s1 = stats_now();
  cr_assert_eq(s1.candidates_buffered - s0.candidates_buffered, 0, "both slots were cleared");
  cr_assert_eq(s1.roots_scanned - s0.roots_scanned, 0);
  cr_assert_eq(s1.objects_freed - s0.objects_freed, 0);
  cr_assert_eq(gcl_verify_errors(), 0, "no double free: %s", gcl_verify_first_error());
  gcl_thread_detach(m);
}

Test(rc_trial, nested_overlapping_and_long_cycles, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *live = NULL, *x = NULL;
  GCL_FRAME(m, f, &live, &x);
  live = new_node(m, &node_type, 999);
  uint64_t garbage = 0;
  /* A self-loop. */
  x = new_node(m, &node_type, 1);
  gcl_store(m, x, &NODE(x)->a, x);
  gcl_release(m, x), garbage += 1;
  /* Overlapping: two rings sharing their head (a figure eight), through both walk paths. */
  x = make_ring(m, &hooked_type, 4, 10);
  {
    struct gcl_object *r2 = new_node(m, &node_type, 20), *r3 = new_node(m, &node_type, 21);
    gcl_store(m, x, &NODE(x)->b, r2);
    gcl_store(m, r2, &NODE(r2)->a, r3);
    gcl_store(m, r3, &NODE(r3)->a, x);
    gcl_release(m, r2);
    gcl_release(m, r3);
  }
  gcl_release(m, x), garbage += 6;
  /* Nested: a ring whose every node holds an inner 3-ring; each inner ring points back at
   * the outer head, and holds a leaf (freed with it, by RC after the ring). */
  x = make_ring(m, &node_type, 8, 100);
  {
    struct gcl_object *y = x;
    for (int i = 0; i < 8; i++, y = NODE(y)->a) {
      struct gcl_object *in = make_ring(m, &node_type, 3, 200 + 10 * (uint64_t)i);
      gcl_store(m, NODE(in)->a, &NODE(NODE(in)->a)->b, x);
      gcl_store_move(m, in, &NODE(in)->b, gcl_new(m, &leaf_type));
      gcl_store_move(m, y, &NODE(y)->b, in);
    }
  }
  gcl_release(m, x), garbage += 8 + 8 * 3;
  /* A garbage ring that references the live node: the live node survives, its count
   * ends exact. */
  x = make_ring(m, &node_type, 3, 300);
  gcl_store(m, x, &NODE(x)->b, live);
  gcl_release(m, x), garbage += 3;
  /* Long: a ring of 100 000 (explicit stacks, no recursion). */
  x = make_ring(m, &node_type, 100000, 1000);
  gcl_release(m, x), garbage += 100000;
  x = NULL;
  cr_assert_eq(live_now(), garbage + 1 + 8);
  struct gcl_rctrial_stats s0 = stats_now();
  gcl_collect(m, -1);
  struct gcl_rctrial_stats s1 = stats_now();
  expect_clean_heap("after the collection");
  cr_assert_eq(s1.objects_freed - s0.objects_freed, garbage, "freed %llu of %llu",
               (unsigned long long)(s1.objects_freed - s0.objects_freed), (unsigned long long)garbage);
  cr_assert_eq(live_now(), 1);
  cr_assert_eq(gcl_rc_count(live, gcl_rc_kind()), 1, "only our reference is left");
  cr_assert_eq(NODE(live)->value, 999);
  GCL_FRAME_POP(m, f);
  gcl_release(m, live);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

Test(rc_trial, the_buffer_size_triggers_a_collection, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_rctrial_set_buffer_limit(3);
  struct gcl_rctrial_stats s0 = stats_now();
  for (int i = 0; i < 3; i++) gcl_release(m, make_ring(m, &node_type, 2, 10)); /* 1 each */
  cr_assert_eq(gcl_rctrial_buffered(), 3);
  cr_assert_eq(stats_now().collections, s0.collections, "no collection before an allocation");
  struct gcl_object *y = gcl_new(m, &leaf_type); /* the check: 3 >= 3 */
  struct gcl_rctrial_stats s1 = stats_now();
  cr_assert_eq(s1.collections - s0.collections, 1);
  cr_assert_eq(s1.objects_freed - s0.objects_freed, 6);
  cr_assert_eq(gcl_rctrial_buffered(), 0);
  gcl_release(m, y);
  cr_assert_eq(live_now(), 0);
  /* gc.disable(): no automatic collection; explicit ones still run. */
  gcl_set_auto_collect(m, false);
  for (int i = 0; i < 5; i++) gcl_release(m, make_ring(m, &node_type, 2, 10));
  cr_assert_eq(stats_now().collections, s1.collections);
  gcl_set_auto_collect(m, true);
  gcl_release(m, gcl_new(m, &leaf_type));
  cr_assert_eq(stats_now().collections, s1.collections + 1);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

/* --- finalizers and weak references --------------------------------------------------- */

Test(rc_trial, finalizers_run_once_and_resurrection_keeps_the_cycle, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_release(m, make_ring(m, &fnode_type, 3, 1));
  struct gcl_rctrial_stats s0 = stats_now();
  gcl_collect(m, -1);
  struct gcl_rctrial_stats s1 = stats_now();
  cr_assert_eq(fin_runs, 3);
  cr_assert_eq(s1.finalizers_run - s0.finalizers_run, 3);
  cr_assert_eq(s1.objects_freed - s0.objects_freed, 3);
  cr_assert_eq(live_now(), 0);
  /* One resurrecting member (with a leaf and a 2-ring hanging off another member): all
   * of it survives intact; when garbage again, it is freed without a second run. */
  struct gcl_object *r = make_ring(m, &fnode_type, 4, 10);
  NODE(r)->value |= RESURRECT;
  struct gcl_object *n1 = NODE(r)->a;
  gcl_store_move(m, n1, &NODE(n1)->b, make_ring(m, &node_type, 2, 50));
  gcl_store_move(m, NODE(n1)->a, &NODE(NODE(n1)->a)->b, gcl_new(m, &leaf_type));
  gcl_release(m, r);
  fin_runs = 0;
  gcl_collect(m, -1);
  struct gcl_rctrial_stats s2 = stats_now();
  cr_assert_eq(fin_runs, 4);
  cr_assert_eq(resurrect_slot, r);
  cr_assert_eq(ring_len(r, 10), 4, "the whole cycle survives");
  cr_assert_eq(ring_len(NODE(NODE(r)->a)->b, 50), 2);
  cr_assert_eq(s2.resurrected - s1.resurrected, 6, "four ring nodes and the 2-ring");
  cr_assert_eq(s2.objects_freed - s1.objects_freed, 0);
  expect_clean_heap("after resurrection");
  gcl_store(m, NULL, &resurrect_slot, NULL);
  gcl_collect(m, -1);
  cr_assert_eq(fin_runs, 4, "no second run");
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

#define NWR 5
static struct gcl_weakref *wrs[NWR];
static int callbacks;

/* ctx: a garbage ring node, to check it is not cleared yet when the callback runs. */
static void check_callback(struct gcl_mutator *m, struct gcl_weakref *w, void *ctx) {
  callbacks++;
  for (int i = 0; i < NWR; i++)
    cr_assert_null(wrs[i] ? gcl_weakref_get(m, wrs[i]) : NULL, "weak reference %d not cleared", i);
  cr_assert_not_null(NODE(ctx)->a, "a callback saw a garbage object already cleared");
  cr_assert_null(gcl_weakref_get(m, w));
}

Test(rc_trial, weak_references_cleared_before_callbacks_and_garbage, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *live = make_ring(m, &node_type, 2, 70);
  struct gcl_weakref *wl = gcl_weakref_new(m, live, NULL, NULL);
  gcl_retain(m, live);
  gcl_release(m, live); /* a candidate that is alive: its weak reference must survive */
  struct gcl_object *r = make_ring(m, &node_type, NWR, 1), *x = r;
  for (int i = 0; i < NWR; i++, x = NODE(x)->a)
    wrs[i] = gcl_weakref_new(m, x, check_callback, NODE(x)->a);
  x = gcl_weakref_get(m, wrs[2]);
  cr_assert_not_null(x);
  gcl_release(m, x);
  gcl_release(m, r);
  gcl_collect(m, -1);
  cr_assert_eq(callbacks, NWR);
  for (int i = 0; i < NWR; i++) gcl_weakref_free(m, wrs[i]), wrs[i] = NULL;
  x = gcl_weakref_get(m, wl);
  cr_assert_eq(x, live);
  gcl_release(m, x);
  gcl_release(m, live);
  gcl_collect(m, -1);
  cr_assert_null(gcl_weakref_get(m, wl));
  gcl_weakref_free(m, wl);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

/* --- the record ------------------------------------------------------------------------ */

Test(rc_trial, report_has_every_figure, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_release(m, make_ring(m, &node_type, 4, 1));
  gcl_collect(m, -1); /* 1 root, 4 traversed, 4 freed */
  gcl_collect(m, -1); /* nothing */
  gcl_thread_detach(m);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  struct gcl_report r = {f, &gcl_collector_module};
  gcl_collector_report(&r);
  fclose(f);
  const char *want[] = {"collections=2\n", "gc_s=", "rc-trial.candidates_buffered=1\n",
                        "rc-trial.roots_scanned=1\n", "rc-trial.objects_traversed=4\n",
                        "rc-trial.objects_freed=4\n", "rc-trial.traversed_per_collection=2",
                        "rc-trial.freed_per_collection=2", "rc-trial.max_traversed=4\n",
                        "rc-trial.finalizers_run=0\n", "rc-trial.resurrected=0\n"};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    cr_assert_not_null(strstr(buf, want[i]), "record lacks %s in:\n%s", want[i], buf);
  free(buf);
}

/* --- threads --------------------------------------------------------------------------- */

#define XCHG 8
static struct gcl_object *exchange[XCHG]; /* global roots: objects handed between threads */

struct worker {
  unsigned id;     /* thread number */
  unsigned rounds; /* objects to make */
};

/* Rings (garbage for a collection) and buffered lone nodes (freed by RC, often by another
 * thread than the one that buffered them) handed between threads through `exchange`. */
static void *worker_main(void *p) {
  struct worker *w = p;
  struct gcl_mutator *m = gcl_thread_attach();
  uint64_t seed = w->id * 2654435761u + 1;
  for (unsigned i = 0; i < w->rounds; i++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    bool ring = (seed >> 38) & 1;
    struct gcl_object *r = ring ? make_ring(m, &node_type, 2 + (int)(seed >> 61), 100)
                                : new_node(m, &node_type, 7);
    gcl_retain(m, r);
    gcl_release(m, r); /* buffered here */
    struct gcl_object *old = __atomic_exchange_n(&exchange[(seed >> 20) % XCHG], r, __ATOMIC_ACQ_REL);
    if (old) {
      if (NODE(old)->a) cr_assert_geq(ring_len(old, 100), 2);
      else cr_assert_eq(NODE(old)->value, 7);
      gcl_release(m, old); /* a lone node dies here, clearing the slot of its buffer */
    }
    gcl_safepoint(m);
  }
  gcl_thread_detach(m);
  return NULL;
}

static void run_threads(unsigned n, unsigned rounds) {
  cr_assert_eq(gcl_heap_init(), 0);
  for (int i = 0; i < XCHG; i++) {
    exchange[i] = NULL;
    gcl_global_root_add(&exchange[i]);
  }
  gcl_rctrial_set_buffer_limit(300);
  pthread_t t[8];
  struct worker w[8];
  for (unsigned i = 0; i < n; i++) {
    w[i] = (struct worker){i, rounds};
    cr_assert_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
  }
  for (unsigned i = 0; i < n; i++) pthread_join(t[i], NULL);
  struct gcl_mutator *m = gcl_thread_attach();
  for (int i = 0; i < XCHG; i++) gcl_store(m, NULL, &exchange[i], NULL);
  gcl_thread_detach(m);
  cr_assert_gt(stats_now().collections, 2, "automatic collections ran");
  gcl_heap_finish(); /* the final collections */
  struct gcl_verify_result r;
  gcl_verify_heap(&r);
  cr_assert_eq(r.errors, 0, "oracle: %s", gcl_verify_first_error());
  cr_assert_eq(r.live, 0, "%llu objects left after the final collection", (unsigned long long)r.live);
  cr_assert_eq(gcl_rctrial_check(), 0);
}

Test(rc_trial_threads, one_thread, .timeout = 120) { run_threads(1, 2000); }
Test(rc_trial_threads, two_threads, .timeout = 120) { run_threads(2, 1500); }
Test(rc_trial_threads, four_threads, .timeout = 120) { run_threads(4, 1000); }
