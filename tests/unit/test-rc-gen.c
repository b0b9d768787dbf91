/* SPDX-License-Identifier: MIT */
/* tests/unit/test-rc-gen.c — the invariants of issue 3 for the rc-gen collector, compiled
 * against a GCL_VERIFY=1 pair library (rc-gen with each allocator), so the reachability
 * oracle checks every heap: full collections free every unreachable cycle; a collection
 * of generation g frees what is garbage in generations <= g and nothing that an older
 * object references; the gen0 count is exact; thresholds and the 25% rule choose the
 * generation; finalizers run once and resurrection keeps the whole subgraph valid; weak
 * references are cleared before callbacks run, and callbacks run before any garbage is
 * cleared; no collector bit stays set after a collection (gcl_rcgen_check walks every
 * list); disable/enable and freeze; objects dying on a dealloc worklist during a
 * collection; and several threads with cross-thread frees and stop-the-world collections.
 *
 * Automatic collections are off (threshold0 0) unless a test is about them, so that
 * every collection is the one the test asks for. */
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

struct vec {
  struct gcl_varobject var;  /* common header and slot count */
  struct gcl_object *slot[]; /* references */
};

struct leaf {
  struct gcl_object header; /* common header */
  uint64_t value;           /* payload */
};

#define NODE(o) ((struct node *)(o))
#define VEC(o) ((struct vec *)(o))
#define LEAF(o) ((struct leaf *)(o))

static const struct gcl_type node_type = {
    .name = "node", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, a), .nrefs = 2};
static const struct gcl_type vec_type = {
    .name = "vec", .size = sizeof(struct vec), .item_size = sizeof(struct gcl_object *),
    .flags = GCL_TYPE_CONTAINER | GCL_TYPE_VAR | GCL_TYPE_REF_ITEMS,
    .ref_offset = offsetof(struct vec, slot)};
static const struct gcl_type leaf_type = {.name = "leaf", .size = sizeof(struct leaf)};

/* Finalizable nodes: fin_runs counts finalizer calls; a node whose value has RESURRECT
 * set stores itself into `resurrect_slot` (a global root) when finalized. */
#define RESURRECT 0x8000000000000000ull
static int fin_runs;
static struct gcl_object *resurrect_slot;

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
  gcl_rcgen_set_thresholds(0, 10, 10); /* no automatic collections */
  fin_runs = 0;
  resurrect_slot = NULL;
  gcl_global_root_add(&resurrect_slot);
}

static struct gcl_object *new_node(struct gcl_mutator *m, const struct gcl_type *t, uint64_t v) {
  struct gcl_object *o = gcl_new(m, t);
  NODE(o)->value = v;
  return o;
}

/* A ring of n nodes; returns an owned reference to its head. */
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

/* The nodes of a ring, checking values v, v+1, ... */
static int ring_len(struct gcl_object *head, uint64_t v) {
  int n = 0;
  struct gcl_object *x = head;
  do {
    cr_assert_eq(NODE(x)->value & ~RESURRECT, v + (uint64_t)n, "ring value");
    n++;
    x = NODE(x)->a;
  } while (x != head && n < 1000000);
  return n;
}

/* The oracle: no error, and everything live is reachable (no garbage left). */
static void expect_clean_heap(const char *when) {
  struct gcl_verify_result r;
  gcl_verify_heap(&r);
  cr_assert_eq(r.errors, 0, "%s: oracle error: %s", when, gcl_verify_first_error());
  cr_assert_eq(r.live, r.reachable, "%s: %llu live, %llu reachable", when,
               (unsigned long long)r.live, (unsigned long long)r.reachable);
  int64_t c = gcl_rcgen_check();
  cr_assert_geq(c, 0, "%s: list check failed with %lld", when, (long long)c);
}

static uint64_t live_now(void) {
  struct gcl_verify_result r;
  gcl_verify_heap(&r);
  cr_assert_eq(r.errors, 0, "oracle error: %s", gcl_verify_first_error());
  return r.live;
}

static struct gcl_rcgen_stats stats_now(void) {
  struct gcl_rcgen_stats s;
  gcl_rcgen_get_stats(&s);
  return s;
}

/* --- full collections ----------------------------------------------------------------- */

Test(rc_gen, full_collection_frees_every_unreachable_cycle, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *keep = NULL, *x = NULL;
  GCL_FRAME(m, f, &keep, &x);
  uint64_t garbage = 0;

  /* Kept: a ring of 50 with a leaf hanging off each node. */
  keep = make_ring(m, &node_type, 50, 1000);
  x = keep;
  for (int i = 0; i < 50; i++, x = NODE(x)->a) {
    struct gcl_object *l = gcl_new(m, &leaf_type);
    LEAF(l)->value = (uint64_t)i;
    gcl_store_move(m, x, &NODE(x)->b, l);
  }
  x = NULL;

  /* Garbage: a self-loop, a 2-cycle, a ring of 300, a ring through a traced vec, a cycle
   * holding leaves and an acyclic tree, and a cycle that references the kept ring. */
  x = new_node(m, &node_type, 1);
  gcl_store(m, x, &NODE(x)->a, x);
  gcl_release(m, x), garbage += 1;
  x = make_ring(m, &node_type, 2, 10);
  gcl_release(m, x), garbage += 2;
  x = make_ring(m, &node_type, 300, 20);
  gcl_release(m, x), garbage += 300;
  x = gcl_new_var(m, &vec_type, 3);
  {
    struct gcl_object *r = make_ring(m, &node_type, 4, 40);
    gcl_store(m, x, &VEC(x)->slot[0], r);
    gcl_store(m, r, &NODE(r)->b, x); /* ring -> vec -> ring */
    gcl_store_move(m, x, &VEC(x)->slot[2], gcl_new(m, &leaf_type));
    gcl_release(m, r);
  }
  gcl_release(m, x), garbage += 1 + 4; /* tracked only: the leaf is freed by RC */
  x = make_ring(m, &node_type, 3, 50);
  {
    struct gcl_object *t = new_node(m, &node_type, 60);
    gcl_store_move(m, t, &NODE(t)->a, new_node(m, &node_type, 61));
    gcl_store_move(m, t, &NODE(t)->b, gcl_new(m, &leaf_type));
    gcl_store_move(m, x, &NODE(x)->b, t);
  }
  gcl_release(m, x), garbage += 3 + 2;
  x = make_ring(m, &node_type, 5, 70);
  gcl_store(m, x, &NODE(x)->b, keep);
  gcl_release(m, x), garbage += 5;
  x = NULL;

  uint64_t before = live_now();
  struct gcl_rcgen_stats s0 = stats_now();
  gcl_collect(m, -1);
  struct gcl_rcgen_stats s1 = stats_now();
  expect_clean_heap("after a full collection");
  cr_assert_eq(s1.collections[2] - s0.collections[2], 1);
  cr_assert_eq(s1.objects_collected - s0.objects_collected, garbage,
               "the collector cleared %llu objects, the test made %llu tracked garbage objects",
               (unsigned long long)(s1.objects_collected - s0.objects_collected),
               (unsigned long long)garbage);
  cr_assert_eq(live_now(), 100, "the kept ring and its leaves (%llu live before)",
               (unsigned long long)before);
  cr_assert_eq(ring_len(keep, 1000), 50);
  x = keep;
  for (int i = 0; i < 50; i++, x = NODE(x)->a) cr_assert_eq(LEAF(NODE(x)->b)->value, (uint64_t)i);
  x = NULL;
  cr_assert_eq(gcl_rcgen_generation_of(keep), 2, "survivors of a full collection stay in gen2");

  /* Break the kept ring too: one more full collection frees it all. */
  GCL_FRAME_POP(m, f);
  gcl_release(m, keep);
  gcl_collect(m, -1);
  cr_assert_eq(live_now(), 0);
  expect_clean_heap("after the last collection");
  gcl_thread_detach(m);
}

/* --- counted reference slots (core/object.h GCL_TYPE_REF_COUNTED) --------------------- */

/* nrefs references, then padding words holding a pattern that is no pointer: a walker that
 * traced the padding would follow it; one that called the hook would fail the test. */
struct cvec {
  struct gcl_varobject var;  /* common header; len = references + padding */
  uint32_t nrefs;            /* reference slots at the start of slot[] */
  struct gcl_object *slot[]; /* nrefs references, then padding */
};
#define CVEC(o) ((struct cvec *)(o))
#define CVEC_POISON ((struct gcl_object *)(uintptr_t)0x5a5a5a5a5a5a5a5bull)

static void cvec_trace(struct gcl_object *o, gcl_visit_fn visit, void *ctx) {
  (void)o, (void)visit, (void)ctx;
  abort(); /* the counted layout must be walked without the hook */
}

static const struct gcl_type cvec_type = {
    .name = "cvec", .size = sizeof(struct cvec), .item_size = sizeof(struct gcl_object *),
    .flags = GCL_TYPE_CONTAINER | GCL_TYPE_VAR | GCL_TYPE_REF_COUNTED,
    .ref_offset = offsetof(struct cvec, slot), .count_offset = offsetof(struct cvec, nrefs),
    .trace = cvec_trace};

/* A ring of n cvecs (one reference each, the next; 3 padding words), values in slot
 * padding are poison; returns the head (owned). */
static struct gcl_object *make_cvec_ring(struct gcl_mutator *m, int n) {
  struct gcl_object *head = NULL, *tail = NULL;
  for (int i = 0; i < n; i++) {
    struct gcl_object *x = gcl_new_var(m, &cvec_type, 4);
    CVEC(x)->nrefs = 1;
    for (int k = 1; k < 4; k++) CVEC(x)->slot[k] = CVEC_POISON;
    if (!head) head = x;
    else gcl_store_move(m, tail, &CVEC(tail)->slot[0], x);
    tail = x;
  }
  gcl_store(m, tail, &CVEC(tail)->slot[0], head);
  return head;
}

Test(rc_gen, counted_slots_are_walked_without_the_hook, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *keep = NULL;
  GCL_FRAME(m, f, &keep);
  struct gcl_object **slots;
  struct gcl_object *probe = make_cvec_ring(m, 1);
  cr_assert_eq(gcl_ref_range(probe, &cvec_type, &slots), 1, "the object's own count");
  cr_assert_eq(slots, &CVEC(probe)->slot[0]);
  gcl_release(m, probe); /* a self-loop: garbage */

  /* A young collection (the near walks) frees the young garbage. */
  gcl_release(m, make_cvec_ring(m, 7));
  struct gcl_rcgen_stats s0 = stats_now();
  gcl_collect(m, 0);
  struct gcl_rcgen_stats s1 = stats_now();
  cr_assert_eq(s1.objects_collected - s0.objects_collected, 8);
  cr_assert_eq(live_now(), 0);

  /* A full collection (the far walks) frees a ring that references a kept one. */
  keep = make_cvec_ring(m, 5);
  struct gcl_object *g = make_cvec_ring(m, 6);
  CVEC(g)->nrefs = 2;
  CVEC(g)->slot[1] = NULL;
  gcl_store(m, g, &CVEC(g)->slot[1], keep);
  gcl_release(m, g);
  gcl_collect(m, -1);
  struct gcl_rcgen_stats s2 = stats_now();
  cr_assert_eq(s2.objects_collected - s1.objects_collected, 6);
  cr_assert_eq(live_now(), 5, "the kept ring");
  struct gcl_object *x = keep;
  for (int i = 0; i < 5; i++, x = CVEC(x)->slot[0]) cr_assert_eq(CVEC(x)->slot[3], CVEC_POISON);
  cr_assert_eq(x, keep);
  expect_clean_heap("after the counted-slot collections");
  GCL_FRAME_POP(m, f);
  gcl_release(m, keep);
  gcl_collect(m, -1);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

/* --- generations ---------------------------------------------------------------------- */

Test(rc_gen, young_collections_free_only_young_garbage, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *a = make_ring(m, &node_type, 10, 100);
  gcl_collect(m, 0);
  cr_assert_eq(gcl_rcgen_generation_of(a), 1, "a gen0 survivor moves to gen1");
  struct gcl_object *b = make_ring(m, &node_type, 7, 200);
  cr_assert_eq(gcl_rcgen_generation_of(b), 0);
  gcl_release(m, a);
  gcl_release(m, b);

  gcl_collect(m, 0); /* frees b (gen0) only */
  cr_assert_eq(live_now(), 10, "gen1 garbage survives a gen0 collection");
  cr_assert_eq(gcl_rcgen_check(), 10);
  gcl_collect(m, 1); /* now a */
  cr_assert_eq(live_now(), 0);

  /* A young cycle referenced by an older garbage object is not young garbage. */
  struct gcl_object *old = new_node(m, &node_type, 300);
  gcl_collect(m, 0);
  cr_assert_eq(gcl_rcgen_generation_of(old), 1);
  struct gcl_object *young = make_ring(m, &node_type, 4, 400);
  gcl_store(m, old, &NODE(old)->a, young);
  gcl_store(m, young, &NODE(young)->b, old); /* old <-> young: garbage spanning gens */
  gcl_release(m, young);
  gcl_release(m, old);
  gcl_collect(m, 0);
  cr_assert_eq(live_now(), 5, "gen0 garbage referenced from gen1 survives a gen0 collection");
  cr_assert_eq(gcl_rcgen_generation_of(NODE(old)->a), 1, "and moves to gen1");
  gcl_collect(m, 1);
  cr_assert_eq(live_now(), 0, "a gen1 collection frees the whole cycle");

  /* gen2 garbage survives gen1 collections. */
  struct gcl_object *g2 = make_ring(m, &node_type, 6, 500);
  gcl_collect(m, 1);
  cr_assert_eq(gcl_rcgen_generation_of(g2), 2);
  gcl_release(m, g2);
  gcl_collect(m, 0);
  gcl_collect(m, 1);
  cr_assert_eq(live_now(), 6);
  gcl_collect(m, 2);
  cr_assert_eq(live_now(), 0);
  expect_clean_heap("end");
  gcl_thread_detach(m);
}

Test(rc_gen, gen0_count_is_exact, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  cr_assert_eq(gcl_rcgen_gen0_count(), 0);
  struct gcl_object *o[10];
  for (int i = 0; i < 10; i++) o[i] = new_node(m, &node_type, (uint64_t)i);
  cr_assert_eq(gcl_rcgen_gen0_count(), 10, "tracked allocations count");
  struct gcl_object *l[5];
  for (int i = 0; i < 5; i++) l[i] = gcl_new(m, &leaf_type);
  cr_assert_eq(gcl_rcgen_gen0_count(), 10, "untracked allocations do not");
  cr_assert_eq(gcl_rcgen_generation_of(l[0]), -1, "a leaf is untracked");
  for (int i = 0; i < 3; i++) gcl_release(m, o[i]);
  for (int i = 0; i < 5; i++) gcl_release(m, l[i]);
  cr_assert_eq(gcl_rcgen_gen0_count(), 7, "tracked deallocations count, untracked do not");
  cr_assert_eq(gcl_rcgen_gen_count(1), 0);
  gcl_collect(m, 0);
  cr_assert_eq(gcl_rcgen_gen0_count(), 0, "a collection resets it");
  cr_assert_eq(gcl_rcgen_gen_count(1), 1, "and counts one collection for gen1");
  cr_assert_eq(gcl_rcgen_generation_size(0), 0);
  cr_assert_eq(gcl_rcgen_generation_size(1), 7);
  for (int i = 3; i < 6; i++) gcl_release(m, o[i]);
  cr_assert_eq(gcl_rcgen_gen0_count(), 0, "never below zero (CPython)");
  o[0] = new_node(m, &node_type, 0);
  o[1] = new_node(m, &node_type, 1);
  cr_assert_eq(gcl_rcgen_gen0_count(), 2);
  gcl_collect(m, 1);
  cr_assert_eq(gcl_rcgen_gen_count(1), 0, "collecting gen1 resets its count");
  cr_assert_eq(gcl_rcgen_gen_count(2), 1);
  for (int i = 0; i < 2; i++) gcl_release(m, o[i]);
  for (int i = 6; i < 10; i++) gcl_release(m, o[i]);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

/* CPython's gc_collect_generations, stated independently: what the next automatic
 * collection must be, given the counts before it. */
static int expected_generation(const int64_t th[3], int64_t c1, int64_t c2, uint64_t total,
                               uint64_t pending) {
  if (c2 > th[2] && !(pending < total / 4)) return 2;
  if (c1 > th[1]) return 1;
  return 0;
}

Test(rc_gen, thresholds_and_the_long_lived_rule_choose_the_generation, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  /* A long-lived heap of 2000 objects, then thresholds (50, 2, 1). */
  struct gcl_object *keep = gcl_new_var(m, &vec_type, 6000);
  GCL_FRAME(m, f, &keep);
  for (int i = 0; i < 2000; i++)
    gcl_store_move(m, keep, &VEC(keep)->slot[i], new_node(m, &node_type, 1));
  gcl_collect(m, 2);
  uint64_t total, pending;
  gcl_rcgen_long_lived(&total, &pending);
  cr_assert_eq(total, 2001, "long_lived_total: gen2 after a full collection");
  cr_assert_eq(pending, 0);
  const int64_t th[3] = {50, 2, 1};
  gcl_rcgen_set_thresholds(th[0], th[1], th[2]);

  int skipped_full = 0, autos[3] = {0, 0, 0};
  for (int i = 2000; i < 6000; i++) {
    struct gcl_rcgen_stats s0 = stats_now();
    int64_t c0 = gcl_rcgen_gen0_count(), c1 = gcl_rcgen_gen_count(1), c2 = gcl_rcgen_gen_count(2);
    gcl_rcgen_long_lived(&total, &pending);
    gcl_store_move(m, keep, &VEC(keep)->slot[i], new_node(m, &node_type, 1));
    struct gcl_rcgen_stats s1 = stats_now();
    int ran = -1;
    for (int g = 0; g < 3; g++)
      if (s1.collections[g] != s0.collections[g]) ran = g;
    if (c0 + 1 <= th[0]) {
      cr_assert_eq(ran, -1, "allocation %d: count %lld does not exceed %lld, yet gen%d ran", i,
                   (long long)c0 + 1, (long long)th[0], ran);
      continue;
    }
    int want = expected_generation(th, c1, c2, total, pending);
    cr_assert_eq(ran, want,
                 "allocation %d: counts %lld/%lld/%lld, long-lived %llu/%llu: gen%d ran, gen%d expected",
                 i, (long long)c0 + 1, (long long)c1, (long long)c2, (unsigned long long)total,
                 (unsigned long long)pending, ran, want);
    autos[ran]++;
    if (c2 > th[2] && want != 2) skipped_full++;
    cr_assert_eq(gcl_rcgen_gen0_count(), 0, "the triggering allocation is not counted");
  }
  cr_assert_gt(autos[0], 0);
  cr_assert_gt(autos[1], 0);
  cr_assert_gt(autos[2], 0, "an automatic full collection once 25%% more became long-lived");
  cr_assert_gt(skipped_full, 0, "the 25%% rule held back a full collection");
  expect_clean_heap("end");
  GCL_FRAME_POP(m, f);
  gcl_release(m, keep);
  gcl_rcgen_set_thresholds(0, -1, -1);
  gcl_collect(m, -1);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

Test(rc_gen, disable_enable_and_explicit_collections, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_rcgen_set_thresholds(10, -1, -1);
  cr_assert_eq(gcl_set_auto_collect(m, false), true, "on by default");
  struct gcl_object *v = gcl_new_var(m, &vec_type, 100);
  for (int i = 0; i < 100; i++) gcl_store_move(m, v, &VEC(v)->slot[i], new_node(m, &node_type, 1));
  struct gcl_rcgen_stats s = stats_now();
  cr_assert_eq(s.collections[0] + s.collections[1] + s.collections[2], 0, "disabled: none");
  cr_assert_eq(gcl_rcgen_gen0_count(), 101, "counting goes on while disabled");
  gcl_collect(m, 0);
  s = stats_now();
  cr_assert_eq(s.collections[0], 1, "explicit collections still run");
  cr_assert_eq(gcl_set_auto_collect(m, true), false);
  for (int i = 0; i < 11; i++) gcl_release(m, new_node(m, &node_type, 2));
  struct gcl_object *more[11];
  for (int i = 0; i < 10; i++) more[i] = new_node(m, &node_type, 3);
  cr_assert_eq(stats_now().collections[0], 1, "allocations minus deallocations: 10");
  more[10] = new_node(m, &node_type, 3);
  cr_assert_eq(stats_now().collections[0], 2, "enabled again: the 11th net allocation collects");
  for (int i = 0; i < 11; i++) gcl_release(m, more[i]);
  gcl_release(m, v);
  gcl_collect(m, -1);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

Test(rc_gen, freeze_keeps_objects_out_of_collections, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *a = make_ring(m, &node_type, 8, 10);
  gcl_collect(m, 0); /* a in gen1 */
  struct gcl_object *b = make_ring(m, &node_type, 3, 20); /* gen0 */
  cr_assert_eq(gcl_freeze(m), 11, "every tracked object moves");
  cr_assert_eq(gcl_rcgen_generation_of(a), 3);
  cr_assert_eq(gcl_rcgen_generation_of(b), 3);
  cr_assert_eq(gcl_rcgen_gen0_count(), 0);
  gcl_release(m, a);
  gcl_release(m, b);
  gcl_collect(m, -1);
  cr_assert_eq(live_now(), 11, "frozen garbage is not collected");
  cr_assert_eq(gcl_rcgen_check(), 11);
  cr_assert_eq(gcl_unfreeze(m), 11);
  cr_assert_eq(gcl_rcgen_generation_size(2), 11, "unfrozen into the oldest generation");
  gcl_collect(m, -1);
  cr_assert_eq(live_now(), 0);
  expect_clean_heap("end");
  gcl_thread_detach(m);
}

/* --- finalizers (PEP 442) ------------------------------------------------------------- */

Test(rc_gen, finalizers_run_once, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *r = make_ring(m, &fnode_type, 3, 1);
  gcl_release(m, r);
  struct gcl_rcgen_stats s0 = stats_now();
  gcl_collect(m, -1);
  struct gcl_rcgen_stats s1 = stats_now();
  cr_assert_eq(fin_runs, 3, "each member of the garbage cycle finalized once");
  cr_assert_eq(s1.finalizers_run - s0.finalizers_run, 3);
  cr_assert_eq(s1.objects_collected - s0.objects_collected, 3);
  cr_assert_eq(s1.resurrected - s0.resurrected, 0);
  cr_assert_eq(live_now(), 0);

  /* Under RC death too, once. */
  struct gcl_object *x = new_node(m, &fnode_type, 7);
  gcl_release(m, x);
  cr_assert_eq(fin_runs, 4);

  /* A resurrecting member: it survives once with its cycle; when the cycle is garbage
   * again it is freed without a second finalizer run. */
  r = make_ring(m, &fnode_type, 4, 10);
  NODE(r)->value |= RESURRECT;
  gcl_release(m, r);
  fin_runs = 0;
  gcl_collect(m, -1);
  cr_assert_eq(fin_runs, 4, "all four finalized");
  cr_assert_eq(resurrect_slot, r);
  cr_assert_eq(ring_len(r, 10), 4, "the whole cycle survives");
  expect_clean_heap("after resurrection");
  gcl_store(m, NULL, &resurrect_slot, NULL);
  gcl_collect(m, -1);
  cr_assert_eq(fin_runs, 4, "no second run");
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

Test(rc_gen, resurrection_keeps_the_whole_subgraph_valid, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  /* A ring of 10; node i holds a vec with a leaf and a 2-cycle of its own; node 0 is the
   * only finalizable one and resurrects itself. */
  struct gcl_object *r = make_ring(m, &node_type, 10, 100), *x = r;
  for (int i = 0; i < 10; i++, x = NODE(x)->a) {
    struct gcl_object *v = gcl_new_var(m, &vec_type, 2);
    struct gcl_object *l = gcl_new(m, &leaf_type);
    LEAF(l)->value = 1000 + (uint64_t)i;
    gcl_store_move(m, v, &VEC(v)->slot[0], l);
    gcl_store_move(m, v, &VEC(v)->slot[1], make_ring(m, &node_type, 2, 2000 + 10 * (uint64_t)i));
    gcl_store_move(m, x, &NODE(x)->b, v);
  }
  struct gcl_object *f = new_node(m, &fnode_type, 5 | RESURRECT);
  gcl_store(m, f, &NODE(f)->a, r);
  gcl_store(m, r, &NODE(r)->b, f); /* replaces node 0's vec: free it by RC */
  gcl_release(m, r);
  gcl_release(m, f);
  uint64_t tracked = 1 + 10 + 9 * (1 + 2); /* node 0's old vec died by RC, its 2-ring did not */
  struct gcl_rcgen_stats s0 = stats_now();
  gcl_collect(m, -1);
  struct gcl_rcgen_stats s1 = stats_now();
  cr_assert_eq(fin_runs, 1);
  cr_assert_eq(resurrect_slot, f);
  cr_assert_eq(s1.resurrected - s0.resurrected, tracked, "every tracked object it reaches");
  cr_assert_eq(s1.objects_collected - s0.objects_collected, 2,
               "only the 2-ring of node 0's old vec");
  expect_clean_heap("after resurrection");
  x = NODE(f)->a;
  cr_assert_eq(ring_len(x, 100), 10);
  x = NODE(x)->a; /* node 1 */
  for (int i = 1; i < 10; i++, x = NODE(x)->a) {
    struct gcl_object *v = NODE(x)->b;
    cr_assert_eq(LEAF(VEC(v)->slot[0])->value, 1000 + (uint64_t)i);
    cr_assert_eq(ring_len(VEC(v)->slot[1], 2000 + 10 * (uint64_t)i), 2);
  }
  gcl_store(m, NULL, &resurrect_slot, NULL);
  gcl_collect(m, -1);
  cr_assert_eq(fin_runs, 1);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

/* A finalizer that frees other garbage by RC and allocates. */
static void breaking_finalize(struct gcl_mutator *m, struct gcl_object *o) {
  fin_runs++;
  gcl_store(m, o, &NODE(o)->a, NULL);                       /* kills the rest of the chain */
  gcl_store_move(m, o, &NODE(o)->b, new_node(m, &node_type, 9)); /* a new young object */
}

static const struct gcl_type breaking_type = {
    .name = "breaking", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, a), .nrefs = 2, .finalize = breaking_finalize};

Test(rc_gen, finalizers_may_free_garbage_and_allocate, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  for (int k = 0; k < 5; k++) {
    struct gcl_object *b = new_node(m, &breaking_type, 1);
    struct gcl_object *r = make_ring(m, &fnode_type, 6, 10);
    gcl_store_move(m, b, &NODE(b)->a, r);
    gcl_store(m, NODE(r)->a, &NODE(NODE(r)->a)->b, b); /* ring node 1 -> b: one cycle */
    gcl_release(m, b);
  }
  gcl_collect(m, -1);
  cr_assert_eq(fin_runs, 5 * 7);
  expect_clean_heap("after");
  gcl_collect(m, -1);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

/* --- weak references ------------------------------------------------------------------- */

#define NWR 6
static struct gcl_weakref *wrs[NWR];
static int callbacks;

/* ctx: a raw pointer to a garbage ring node, kept only to check it is not yet cleared. */
static void check_callback(struct gcl_mutator *m, struct gcl_weakref *w, void *ctx) {
  callbacks++;
  for (int i = 0; i < NWR; i++) {
    struct gcl_object *o = wrs[i] ? gcl_weakref_get(m, wrs[i]) : NULL;
    cr_assert_null(o, "callback %d: weak reference %d still reads its referent", callbacks, i);
  }
  struct gcl_object *peer = ctx;
  cr_assert_not_null(NODE(peer)->a, "a callback saw a garbage object already cleared");
  cr_assert_eq(gcl_weakref_get(m, w), NULL);
}

Test(rc_gen, weak_references_are_cleared_before_callbacks_and_garbage, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *live = new_node(m, &node_type, 77);
  struct gcl_weakref *wl = gcl_weakref_new(m, live, NULL, NULL);
  struct gcl_object *r = make_ring(m, &node_type, NWR, 1), *x = r;
  for (int i = 0; i < NWR; i++, x = NODE(x)->a)
    wrs[i] = gcl_weakref_new(m, x, check_callback, NODE(x)->a);
  cr_assert_eq(gcl_weakref_count(r), 1);
  x = gcl_weakref_get(m, wrs[2]);
  cr_assert_not_null(x);
  gcl_release(m, x);
  gcl_release(m, r);
  gcl_collect(m, -1);
  cr_assert_eq(callbacks, NWR);
  for (int i = 0; i < NWR; i++) gcl_weakref_free(m, wrs[i]), wrs[i] = NULL;
  x = gcl_weakref_get(m, wl);
  cr_assert_eq(x, live, "a weak reference to a live object survives collections");
  gcl_release(m, x);
  gcl_release(m, live);
  cr_assert_null(gcl_weakref_get(m, wl));
  gcl_weakref_free(m, wl);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

/* A finalizer that makes a weak reference to its own (not resurrected) object: its
 * callback must still run before any garbage is cleared. */
static void weakref_making_finalize(struct gcl_mutator *m, struct gcl_object *o) {
  fin_runs++;
  wrs[0] = gcl_weakref_new(m, o, check_callback, NODE(o)->a);
}

static const struct gcl_type wrf_type = {
    .name = "weakref-making", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, a), .nrefs = 2, .finalize = weakref_making_finalize};

Test(rc_gen, weak_references_made_by_finalizers_are_cleared_first, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *r = make_ring(m, &node_type, 3, 1);
  struct gcl_object *w = new_node(m, &wrf_type, 0);
  gcl_store(m, w, &NODE(w)->a, r);
  gcl_store_move(m, r, &NODE(r)->b, w);
  gcl_release(m, r);
  gcl_collect(m, -1);
  cr_assert_eq(fin_runs, 1);
  cr_assert_eq(callbacks, 1);
  gcl_weakref_free(m, wrs[0]);
  wrs[0] = NULL;
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

/* --- objects dying on a dealloc worklist during a collection -------------------------- */

/* Collects from inside an RC death (the dealloc worklist is being drained). */
static void collecting_finalize(struct gcl_mutator *m, struct gcl_object *o) {
  (void)o;
  fin_runs++;
  gcl_collect(m, -1);
}

static const struct gcl_type collecting_type = {
    .name = "collecting", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, a), .nrefs = 2, .finalize = collecting_finalize};

Test(rc_gen, collections_inside_a_dealloc_drain, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  /* root.a = A (A.a = B, B.a = B): A's count hits zero first and waits on the worklist;
   * root.b = F: F's finalizer collects while A (count 0) still holds B. Meanwhile a
   * garbage 2-cycle and a garbage ring are waiting to be collected. */
  struct gcl_object *root = new_node(m, &node_type, 0);
  struct gcl_object *a = new_node(m, &node_type, 1), *b = new_node(m, &node_type, 2);
  gcl_store(m, b, &NODE(b)->a, b);
  gcl_store_move(m, a, &NODE(a)->a, b);
  gcl_store_move(m, root, &NODE(root)->a, a);
  gcl_store_move(m, root, &NODE(root)->b, new_node(m, &collecting_type, 3));
  gcl_release(m, make_ring(m, &node_type, 2, 10));
  gcl_release(m, make_ring(m, &fnode_type, 5, 20));
  gcl_release(m, root);
  cr_assert_eq(fin_runs, 1 + 5);
  /* The collection kept A (dying) and B (reachable only from A); A's death then left B,
   * a self-loop, as garbage for the next collection. */
  cr_assert_eq(live_now(), 1);
  cr_assert_geq(gcl_rcgen_check(), 0);
  gcl_collect(m, -1);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

/* --- the record ------------------------------------------------------------------------ */

Test(rc_gen, report_has_every_statistic, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_release(m, make_ring(m, &fnode_type, 4, 1));
  gcl_collect(m, 0);  /* scans and frees the ring */
  gcl_collect(m, -1); /* scans nothing */
  gcl_thread_detach(m);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  struct gcl_report r = {f, &gcl_collector_module};
  gcl_collector_report(&r);
  fclose(f);
  const char *want[] = {"collections=2\n", "gc_s=", "rc-gen.gc_collections_gen0=1\n",
                        "rc-gen.gc_collections_gen1=0\n", "rc-gen.gc_collections_gen2=1\n",
                        "rc-gen.gc_objects_scanned=4\n", "rc-gen.gc_objects_collected=4\n",
                        "rc-gen.gc_finalizers_run=4\n", "rc-gen.gc_resurrected=0\n",
                        "rc-gen.gc_scanned_gen0=4\n", "rc-gen.gc_scanned_gen1=0\n",
                        "rc-gen.gc_scanned_gen2=0\n", "rc-gen.gc_s_gen0=", "rc-gen.gc_s_gen2="};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    cr_assert_not_null(strstr(buf, want[i]), "record lacks %s in:\n%s", want[i], buf);
  free(buf);
}

/* --- threads --------------------------------------------------------------------------- */

/* An acyclic chain of n nodes through a; the head's b is a leaf holding n. */
static struct gcl_object *make_chain(struct gcl_mutator *m, int n, uint64_t v) {
  struct gcl_object *head = new_node(m, &node_type, v), *tail = head;
  for (int i = 1; i < n; i++) {
    struct gcl_object *x = new_node(m, &node_type, v + (uint64_t)i);
    gcl_store_move(m, tail, &NODE(tail)->a, x);
    tail = x;
  }
  struct gcl_object *l = gcl_new(m, &leaf_type);
  LEAF(l)->value = (uint64_t)n;
  gcl_store_move(m, head, &NODE(head)->b, l);
  return head;
}

static int chain_len(struct gcl_object *head, uint64_t v) {
  int n = 0;
  for (struct gcl_object *x = head; x; x = NODE(x)->a, n++)
    cr_assert_eq(NODE(x)->value, v + (uint64_t)n);
  return n;
}

#define XCHG 8
static struct gcl_object *exchange[XCHG]; /* global roots: rings handed between threads */

struct worker {
  unsigned id;     /* thread number */
  unsigned rounds; /* rings to make */
  pthread_barrier_t *start; /* all attached before any works, or NULL */
};

static void *worker_main(void *p) {
  struct worker *w = p;
  struct gcl_mutator *m = gcl_thread_attach();
  if (w->start) {
    gcl_blocking_enter(m);
    pthread_barrier_wait(w->start);
    gcl_blocking_leave(m);
  }
  uint64_t seed = w->id * 2654435761u + 1;
  for (unsigned i = 0; i < w->rounds; i++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    int n = 2 + (int)(seed >> 60);
    /* A ring (garbage only a collection frees) or an acyclic chain (freed by RC by
     * whichever thread drops it last), headed by a node whose b marks which. */
    bool ring = (seed >> 38) & 1;
    struct gcl_object *r = ring ? make_ring(m, &node_type, n, 100) : make_chain(m, n, 100);
    if ((seed >> 40) & 1) {
      /* Hand it over; free whatever another thread left there: a chain made by another
       * thread dies here, unlinking objects from that thread's gen0 list (or from the
       * orphan list) while its owner links new ones. */
      gcl_share(m, r); /* published by a plain exchange: escapes (young=thread's barrier) */
      struct gcl_object *old = __atomic_exchange_n(&exchange[(seed >> 20) % XCHG], r, __ATOMIC_ACQ_REL);
      if (old) {
        if (NODE(old)->b)
          cr_assert_eq(chain_len(old, 100), (int)LEAF(NODE(old)->b)->value);
        else
          cr_assert_geq(ring_len(old, 100), 2);
        gcl_release(m, old);
      }
    } else {
      gcl_release(m, r);
    }
    gcl_safepoint(m);
  }
  gcl_thread_detach(m);
  return NULL;
}

static void run_workers(unsigned n, unsigned rounds, bool together) {
  pthread_t *t = calloc(n, sizeof *t);
  struct worker *w = calloc(n, sizeof *w);
  pthread_barrier_t start;
  if (together) pthread_barrier_init(&start, NULL, n);
  for (unsigned i = 0; i < n; i++) {
    w[i] = (struct worker){i, rounds, together ? &start : NULL};
    cr_assert_eq(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
  }
  for (unsigned i = 0; i < n; i++) pthread_join(t[i], NULL);
  if (together) pthread_barrier_destroy(&start);
  free(t);
  free(w);
}

static void thread_setup(void) {
  setup();
  for (int i = 0; i < XCHG; i++) {
    exchange[i] = NULL;
    gcl_global_root_add(&exchange[i]);
  }
  gcl_rcgen_set_thresholds(2000, 3, 3);
}

static void drop_exchange_and_finish(void) {
  struct gcl_mutator *m = gcl_thread_attach();
  for (int i = 0; i < XCHG; i++) gcl_store(m, NULL, &exchange[i], NULL);
  gcl_thread_detach(m);
  gcl_heap_finish(); /* the final collection */
  struct gcl_verify_result r;
  gcl_verify_heap(&r);
  cr_assert_eq(r.errors, 0, "oracle: %s", gcl_verify_first_error());
  cr_assert_eq(r.live, 0, "%llu objects left after the final collection", (unsigned long long)r.live);
  cr_assert_eq(gcl_rcgen_check(), 0);
}

Test(rc_gen_threads, collections_with_cross_thread_frees, .init = thread_setup, .timeout = 120) {
  /* One thread first (plain lists), then three more join (the switch to locking). */
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *keep = make_ring(m, &node_type, 50, 100);
  gcl_collect(m, 0);
  gcl_blocking_enter(m); /* joining threads is a wait */
  run_workers(3, 3000, false);
  gcl_blocking_leave(m);
  cr_assert_eq(ring_len(keep, 100), 50);
  gcl_release(m, keep);
  gcl_thread_detach(m);
  struct gcl_rcgen_stats s = stats_now();
  cr_assert_gt(s.collections[0], 10, "automatic collections ran");
  drop_exchange_and_finish();
}

Test(rc_gen_threads, more_threads_than_slots, .init = thread_setup, .timeout = 300) {
  /* 130 threads attached at once: 123 own slots, the rest share the orphan list. */
  run_workers(130, 40, true);
  drop_exchange_and_finish();
}
