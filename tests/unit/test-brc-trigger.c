/* SPDX-License-Identifier: MIT */
/* tests/unit/test-brc-trigger.c — brc's collection trigger (--opt brc.trigger=count|memory):
 * the two rules on hand-computed cases, and their effect on a scripted allocation
 * sequence (cyclic garbage on the pool allocator, whose committed bytes never shrink: after
 * the first collection, memory grows by 10% only when the garbage outgrows the high-water
 * mark, so the memory trigger skips what the count trigger runs). Each Criterion test
 * runs in its own process with its own heap. */
#include <criterion/criterion.h>
#include <stddef.h>

#include "allocator.h"
#include "collector.h"
#include "garbage.h"
#include "module.h"
#include "mutator.h"
#include "pause.h"
#include "verify.h"

struct node {
  struct gcl_object header; /* common header */
  struct gcl_object *next;  /* reference */
};
#define NODE(o) ((struct node *)(o))
static const struct gcl_type node_type = {
    .name = "node", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, next), .nrefs = 1};

static void init_trigger(unsigned trigger) {
  const struct gcl_module *mod = &gcl_collector_module;
  cr_assert_eq(mod->nopts, 4);
  cr_assert_str_eq(mod->opts[0].name, "trigger");
  cr_assert_str_eq(mod->opts[1].name, "drain_poll");
  cr_assert_str_eq(mod->opts[2].name, "parallel");
  cr_assert_str_eq(mod->opts[3].name, "owner_clear");
  union gcl_opt_value v[4];
  v[0].e = trigger; /* 0 count, 1 memory */
  v[1].b = true;    /* drain_poll's default */
  v[2].b = true;    /* parallel's default */
  v[3].b = false;   /* owner_clear's default */
  struct gcl_heap_config c = {.threads = 1, .collector_opts = v};
  cr_assert_eq(gcl_heap_init_with(&c), 0);
}

/* 3.13t: count > 2000 and count > long_lived / 4; 3.14t adds mem > last + last / 10. */
Test(brc_trigger, rules_by_hand) {
  cr_assert(!gcl_brc_count_rule(2000, 0), "2000 does not exceed the threshold");
  cr_assert(gcl_brc_count_rule(2001, 0));
  cr_assert(!gcl_brc_count_rule(2001, 8004), "2001 does not exceed 8004 / 4");
  cr_assert(gcl_brc_count_rule(2002, 8004));
  cr_assert(!gcl_brc_count_rule(100000, 400000), "100000 does not exceed 400000 / 4");
  cr_assert(gcl_brc_memory_rule(1000, 0), "no collection yet: collect");
  cr_assert(gcl_brc_memory_rule(-1, 1000), "memory unreadable: collect");
  cr_assert(!gcl_brc_memory_rule(1100, 1000), "exactly 10%% growth is not more than 10%%");
  cr_assert(gcl_brc_memory_rule(1101, 1000));
  cr_assert(!gcl_brc_memory_rule(500, 1000), "shrinking memory: skip");
}

/* n two-node garbage cycles, each stamped as garbage (core/garbage.h). */
static void make_cycles(struct gcl_mutator *m, int n) {
  for (int i = 0; i < n; i++) {
    struct gcl_object *a = gcl_new(m, &node_type), *b = gcl_new(m, &node_type);
    gcl_store_move(m, a, &NODE(a)->next, b);
    gcl_garbage_made(2);
    gcl_store_move(m, b, &NODE(b)->next, a);
    gcl_safepoint(m);
  }
}

static void finish(struct gcl_mutator *m) {
  gcl_collect(m, -1);
  struct gcl_verify_result r;
  gcl_verify_heap(&r);
  cr_assert_eq(r.errors, 0, "oracle: %s", gcl_verify_first_error());
  cr_assert_eq(r.live, 0, "every cycle freed");
  gcl_thread_detach(m);
}

struct table {
  struct gcl_varobject var;  /* common header and slot count */
  struct gcl_object *slot[]; /* references */
};
/* Not a container: not counted, never long-lived; its references are external. */
static const struct gcl_type table_type = {
    .name = "table", .size = sizeof(struct table), .item_size = sizeof(struct gcl_object *),
    .flags = GCL_TYPE_VAR | GCL_TYPE_REF_ITEMS, .ref_offset = offsetof(struct table, slot)};

/* count, on kept objects (no frees) with a safepoint after each allocation: the global
 * count grows in batches of 512, so a collection runs right after the allocation whose
 * batch makes it pass both 2000 and long_lived / 4 (all objects so far survive). By
 * hand: after 2048, 4096, 6144, 8192 allocations (2048 > 2000 and > S/4 for S <= 8188),
 * then S = 8192 needs > 2048: 2560 more (10752), then S = 10752 needs > 2688: 3072 more
 * (13824). */
Test(brc_trigger, count_schedule) {
  init_trigger(0);
  struct gcl_mutator *m = gcl_thread_attach();
  enum { N = 60000 };
  struct gcl_object *table = gcl_new_var(m, &table_type, N);
  GCL_FRAME(m, f, &table);
  uint64_t hand[] = {2048, 4096, 6144, 8192, 10752, 13824}, next = 2048, survivors = 0, ran = 0;
  for (uint64_t i = 0; i < N; i++) {
    struct gcl_brc_stats s0, s1;
    gcl_brc_get_stats(&s0);
    gcl_store_move(m, table, &((struct table *)table)->slot[i], gcl_new(m, &node_type));
    gcl_safepoint(m);
    gcl_brc_get_stats(&s1);
    bool want = i + 1 == next;
    cr_assert_eq(s1.collections - s0.collections, want ? 1u : 0u, "allocation %llu: %s expected",
                 (unsigned long long)(i + 1), want ? "a collection" : "no collection");
    if (!want) continue;
    if (ran < sizeof hand / sizeof hand[0])
      cr_assert_eq(i + 1, hand[ran], "collection %llu", (unsigned long long)ran + 1);
    ran++;
    survivors = i + 1;
    cr_assert_eq(s1.long_lived_total, survivors);
    /* The next batch total that passes both rules: the smallest multiple of 512 above
     * max(2000, survivors / 4). */
    uint64_t need = survivors / 4 > 2000 ? survivors / 4 : 2000;
    next = i + 1 + (need / 512 + 1) * 512;
  }
  cr_assert_geq(ran, 6);
  uint64_t skipped;
  int64_t last;
  gcl_brc_trigger_state(&skipped, &last);
  cr_assert_eq(skipped, 0);
  GCL_FRAME_POP(m, f);
  gcl_release(m, table);
  finish(m);
}

/* memory: the first collection always runs (no reference yet) and sets the reference to
 * the pool's committed bytes; the garbage then fits in the memory it freed, so committed
 * bytes stop growing and every later count-rule decision is skipped. */
Test(brc_trigger, memory_skips_without_growth) {
  init_trigger(1);
  struct gcl_mutator *m = gcl_thread_attach();
  make_cycles(m, 40000);
  struct gcl_brc_stats s;
  gcl_brc_get_stats(&s);
  uint64_t skipped;
  int64_t last;
  gcl_brc_trigger_state(&skipped, &last);
  cr_assert_geq(s.collections, 1, "the first collection has no reference to compare with");
  cr_assert_gt(last, 0, "the reference point was taken after a collection");
  cr_assert_gt(skipped, 0, "collections were skipped for too little growth");
  cr_assert_geq(gcl_allocator_committed_bytes(), 0, "pool reports committed bytes: the trigger reads them");
  struct gcl_garbage_figures g;
  gcl_garbage_window(0, gcl_now_ns(), &g);
  cr_assert_eq(g.made, 80000);
  cr_assert_leq(g.freed, g.made);
  finish(m);
}

/* A request that is stale when the thread reaches its safepoint runs no collection: 2560
 * kept containers pass the line (a batch of 512 crosses 2000 and sets this thread's
 * request), but they are all freed again before the next gcl_safepoint, so the count rule
 * no longer holds there (CPython's gc_collect_main asks gc_should_collect again). The
 * same sequence with a safepoint before the frees collects once. */
static uint64_t collections_after(bool safepoint_before_free) {
  struct gcl_mutator *m = gcl_thread_attach();
  enum { N = 2560 };
  struct gcl_object *table = gcl_new_var(m, &table_type, N);
  GCL_FRAME(m, f, &table);
  struct gcl_brc_stats s0, s1;
  gcl_brc_get_stats(&s0);
  for (uint64_t i = 0; i < N; i++)
    gcl_store_move(m, table, &((struct table *)table)->slot[i], gcl_new(m, &node_type));
  if (safepoint_before_free) gcl_safepoint(m);
  for (uint64_t i = 0; i < N; i++) gcl_store_move(m, table, &((struct table *)table)->slot[i], NULL);
  gcl_safepoint(m);
  gcl_brc_get_stats(&s1);
  GCL_FRAME_POP(m, f);
  gcl_release(m, table);
  finish(m);
  return s1.collections - s0.collections;
}

Test(brc_trigger, stale_request_dropped) {
  init_trigger(0);
  cr_assert_eq(collections_after(false), 0, "the request went stale: no collection");
}

Test(brc_trigger, fresh_request_runs) {
  init_trigger(0);
  cr_assert_eq(collections_after(true), 1, "the request holds at the safepoint: one collection");
}

/* A container without references (nrefs 0, no trace): core/heap.c's kill_leaf frees it. */
static const struct gcl_type empty_type = {
    .name = "empty", .size = sizeof(struct gcl_object), .flags = GCL_TYPE_CONTAINER};
/* A leaf that is no container: counted by nobody. */
static const struct gcl_type leaf_type = {.name = "leaf", .size = sizeof(struct gcl_object)};

/* The count the trigger sees: the global one plus this thread's unbatched part. */
static int64_t containers_counted(struct gcl_mutator *m) {
  struct gcl_brc_stats s;
  gcl_brc_get_stats(&s);
  return s.young_count + m->collector.alloc_count;
}

/* Issue 13: a plain death's container count is tallied by the drain and passed in
 * batches (gcl_collector_plain_frees), a leaf's by kill_leaf, a flagged object's by
 * on_free; each free counts once, a non-container never, and a drain that frees more than
 * a batch's worth hands it to the global count (|alloc_count| stays under a batch). */
Test(brc_trigger, plain_deaths_counted_once) {
  init_trigger(0);
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_set_auto_collect(m, false);
  int64_t base = containers_counted(m);
  enum { N = 3000 };
  /* A chain of N containers, each holding a leaf at its end: the drain's plain path. */
  struct gcl_object *head = gcl_new(m, &leaf_type);
  for (int i = 0; i < N; i++) {
    struct gcl_object *n = gcl_new(m, &node_type);
    gcl_store_init_move(m, n, &NODE(n)->next, head);
    head = n;
  }
  cr_assert_eq(containers_counted(m) - base, N, "N containers allocated");
  gcl_release(m, head);
  cr_assert_eq(containers_counted(m) - base, 0, "every container's free counted once");
  cr_assert_lt(m->collector.alloc_count, GCL_BRC_ALLOC_BATCH, "batched to the global count");
  cr_assert_gt(m->collector.alloc_count, -GCL_BRC_ALLOC_BATCH, "batched to the global count");
  /* Leaf containers (kill_leaf), non-containers, and a shared chain (kill's full path). */
  for (int i = 0; i < 700; i++) gcl_release(m, gcl_new(m, &empty_type));
  for (int i = 0; i < 700; i++) gcl_release(m, gcl_new(m, &leaf_type));
  cr_assert_eq(containers_counted(m) - base, 0, "leaves: each container counted once");
  head = NULL;
  for (int i = 0; i < 600; i++) {
    struct gcl_object *n = gcl_new(m, &node_type);
    gcl_store_init_move(m, n, &NODE(n)->next, head);
    if (i % 2) gcl_share(m, n); /* flagged: on_free counts it, not the tally */
    head = n;
  }
  cr_assert_eq(containers_counted(m) - base, 600);
  gcl_release(m, head);
  cr_assert_eq(containers_counted(m) - base, 0, "mixed drain: each container counted once");
  finish(m);
}

/* Issue 8: the count restarts inside the collection's stop, so what is allocated after the
 * restart counts (here: a finalizer, on the collecting thread, allocates 1536 kept
 * containers), and the clearing's own frees of the garbage do not (6000 containers of
 * cycles, counted before the stop). Before, the count was reset after the clearing: 0
 * here, and at 2+ threads every other thread's allocations during a clearing were lost. */
static struct gcl_object *fin_table; /* the finalizer's kept containers go here */
enum { FIN_ALLOCS = 1536, FIN_CYCLES = 3000 };

static void alloc_in_finalizer(struct gcl_mutator *m, struct gcl_object *o) {
  (void)o;
  for (int i = 0; i < FIN_ALLOCS; i++)
    gcl_store_move(m, fin_table, &((struct table *)fin_table)->slot[i], gcl_new(m, &node_type));
}

static const struct gcl_type fin_type = {
    .name = "finalized", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, next), .nrefs = 1, .finalize = alloc_in_finalizer};

Test(brc_trigger, count_restarts_at_the_stop) {
  init_trigger(0);
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_set_auto_collect(m, false);
  fin_table = gcl_new_var(m, &table_type, FIN_ALLOCS);
  GCL_FRAME(m, f, &fin_table);
  make_cycles(m, FIN_CYCLES);
  struct gcl_object *a = gcl_new(m, &fin_type); /* a one-object cycle with a finalizer */
  gcl_store(m, a, &NODE(a)->next, a);
  gcl_garbage_made(1);
  gcl_release(m, a);
  struct gcl_brc_stats s;
  gcl_brc_get_stats(&s);
  cr_assert_gt(s.young_count, 2 * FIN_CYCLES - 512, "the garbage was counted (batches of 512)");
  gcl_collect(m, -1);
  gcl_brc_get_stats(&s);
  cr_assert_eq(s.finalizers_run, 1);
  cr_assert_geq(s.young_count, FIN_ALLOCS - 511, "the finalizer's allocations after the restart count: %lld",
                (long long)s.young_count);
  cr_assert_leq(s.young_count, FIN_ALLOCS, "the clearing's frees are not counted: %lld", (long long)s.young_count);
  GCL_FRAME_POP(m, f);
  gcl_release(m, fin_table);
  finish(m);
}
