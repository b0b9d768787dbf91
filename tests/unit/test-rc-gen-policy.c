/* SPDX-License-Identifier: MIT */
/* tests/unit/test-rc-gen-policy.c — rc-gen's CPython policies (--opt rc-gen.policy) and the
 * outstanding cyclic garbage ledger (core/garbage.h), against a GCL_VERIFY=1 rc-gen pair.
 *
 * Each policy test scripts an allocation sequence in which every object stays alive
 * (leaf containers held by a non-container table, so no object reaches another and the
 * collector frees nothing) and checks, at every allocation, that the collection that ran
 * is the one the policy's rules give: a model of the rules written here, independently of
 * the collector, plus hand-computed checkpoints (derived in the comments). Each Criterion
 * test runs in its own process, so each initialises its own heap with its own policy. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stddef.h>

#include "collector.h"
#include "garbage.h"
#include "module.h"
#include "mutator.h"
#include "pause.h"
#include "verify.h"

struct leaf {
  struct gcl_object header; /* common header */
  uint64_t value;           /* payload */
};
struct table {
  struct gcl_varobject var;  /* common header and slot count */
  struct gcl_object *slot[]; /* references */
};
struct node {
  struct gcl_object header; /* common header */
  struct gcl_object *next;  /* reference */
};
#define TABLE(o) ((struct table *)(o))
#define NODE(o) ((struct node *)(o))

/* A tracked object with no references: its transitive closure is itself. */
static const struct gcl_type leaf_type = {.name = "leaf", .size = sizeof(struct leaf), .flags = GCL_TYPE_CONTAINER};
/* Not a container: a cycle collector sees its references as external (CPython's frames). */
static const struct gcl_type table_type = {
    .name = "table", .size = sizeof(struct table), .item_size = sizeof(struct gcl_object *),
    .flags = GCL_TYPE_VAR | GCL_TYPE_REF_ITEMS, .ref_offset = offsetof(struct table, slot)};
static const struct gcl_type node_type = {
    .name = "node", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, next), .nrefs = 1};

/* Initialise the heap with rc-gen.policy = `policy` (the choice's index: 0 3.12, 1 3.13,
 * 2 3.14), every threshold at -1 (the policy's) and young=auto (1 thread: CPython's). */
static void init_policy(unsigned policy) {
  const struct gcl_module *mod = &gcl_collector_module;
  cr_assert_eq(mod->nopts, 5);
  cr_assert_str_eq(mod->opts[0].name, "policy");
  cr_assert_str_eq(mod->opts[4].name, "young");
  union gcl_opt_value v[5];
  v[0].e = policy;
  for (int i = 1; i < 4; i++) v[i].i = -1;
  v[4].e = 0; /* auto */
  struct gcl_heap_config c = {.threads = 1, .collector_opts = v};
  cr_assert_eq(gcl_heap_init_with(&c), 0);
}

static uint64_t collections(int g) {
  struct gcl_rcgen_stats s;
  gcl_rcgen_get_stats(&s);
  return s.collections[g];
}

/* The generation a gcl_new ran (-1: none). */
static int alloc_kept(struct gcl_mutator *m, struct gcl_object *table, uint64_t i) {
  uint64_t c0[3] = {collections(0), collections(1), collections(2)};
  gcl_store_move(m, table, &TABLE(table)->slot[i], gcl_new(m, &leaf_type));
  int ran = -1;
  for (int g = 0; g < 3; g++)
    if (collections(g) != c0[g]) {
      cr_assert_eq(ran, -1, "allocation %llu ran two collections", (unsigned long long)i);
      cr_assert_eq(collections(g), c0[g] + 1);
      ran = g;
    }
  return ran;
}

/* --- the generational rules (3.12, 3.13), as a model ----------------------------------- */

struct gen_model {
  int64_t th[3];            /* thresholds */
  int64_t count, g1c, g2c;  /* gen0 count; gen1, gen2 counts */
  uint64_t s0, s1, s2;      /* objects in each generation (all alive) */
  uint64_t total, pending;  /* long_lived_total, long_lived_pending */
};

/* One allocation: the collection that runs first (rc-gen collects before it links the
 * new object, which then joins gen0 uncounted); returns its generation or -1. */
static int gen_model_alloc(struct gen_model *s) {
  int ran = -1;
  if (++s->count > s->th[0]) {
    if (s->g2c > s->th[2] && !(s->pending < s->total / 4)) ran = 2;
    else if (s->g1c > s->th[1]) ran = 1;
    else ran = 0;
    if (ran == 0) {
      s->g1c++;
      s->s1 += s->s0;
    } else if (ran == 1) {
      s->g2c++;
      s->g1c = 0;
      s->s2 += s->s0 + s->s1;
      s->pending += s->s0 + s->s1;
      s->s1 = 0;
    } else {
      s->g1c = s->g2c = 0;
      s->total = s->s0 + s->s1 + s->s2;
      s->s2 = s->total;
      s->s1 = 0;
      s->pending = 0;
    }
    s->s0 = 0;
    s->count = 0;
  }
  s->s0++;
  return ran;
}

/* Allocate n kept objects from slot `from`; every allocation's collection must be the
 * model's. first[g]: the 1-based allocation (counted from `from`) of the first
 * collection of generation g; *skipped: full collections the 25% rule held back. */
static void run_generational(struct gcl_mutator *m, struct gcl_object *table, struct gen_model *s,
                             uint64_t from, uint64_t n, uint64_t first[3], uint64_t *skipped) {
  first[0] = first[1] = first[2] = 0;
  *skipped = 0;
  for (uint64_t i = 0; i < n; i++) {
    bool full_due = s->count + 1 > s->th[0] && s->g2c > s->th[2];
    int want = gen_model_alloc(s);
    if (full_due && want != 2) ++*skipped;
    int ran = alloc_kept(m, table, from + i);
    cr_assert_eq(ran, want, "allocation %llu: gen%d ran, the rules give gen%d", (unsigned long long)(i + 1),
                 ran, want);
    if (ran >= 0 && !first[ran]) first[ran] = i + 1;
  }
  uint64_t total, pending;
  gcl_rcgen_long_lived(&total, &pending);
  cr_assert_eq(total, s->total, "long_lived_total");
  cr_assert_eq(pending, s->pending, "long_lived_pending");
  cr_assert_eq((uint64_t)gcl_rcgen_generation_size(2), s->s2, "gen2 size");
}

static void release_all(struct gcl_mutator *m, struct gcl_object *table) {
  gcl_release(m, table);
  gcl_collect(m, -1);
  struct gcl_verify_result r;
  gcl_verify_heap(&r);
  cr_assert_eq(r.errors, 0, "oracle: %s", gcl_verify_first_error());
  cr_assert_eq(r.live, 0);
  gcl_thread_detach(m);
}

/* 3.12: (700, 10, 10). A collection every 701 allocations (the count exceeds 700 at the
 * 701st; the triggering object is not counted), gen1 at every 12th (gen1 count 11 > 10),
 * the first full at the 133rd (gen2 count 11 > 10 after 11 gen1 collections; nothing is
 * long-lived yet) = allocation 133 x 701 = 93233; the 12th gen1 at 144 x 701 = 100944. */
Test(rc_gen_policy, policy_312_schedule) {
  init_policy(0);
  int64_t th[3];
  gcl_rcgen_get_thresholds(th);
  cr_assert(th[0] == 700 && th[1] == 10 && th[2] == 10, "3.12's thresholds: %lld %lld %lld",
            (long long)th[0], (long long)th[1], (long long)th[2]);
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *table = gcl_new_var(m, &table_type, 600000);
  GCL_FRAME(m, f, &table);
  struct gen_model s = {.th = {700, 10, 10}};
  uint64_t first[3], skipped;
  run_generational(m, table, &s, 0, 100000, first, &skipped);
  cr_assert_eq(first[0], 701);
  cr_assert_eq(first[1], 12 * 701);
  cr_assert_eq(first[2], 133 * 701);
  cr_assert_eq(skipped, 0);
  /* The 25% rule: a long-lived heap of 400000 (a full collection with auto off), then
   * kept allocations. The gen1 collection at decision 12k (allocation 12k x 701) moves
   * everything before it into gen2: pending = 12k x 701 - 1. At decisions 133..144 the
   * gen2 count exceeds 10 but pending (92531 after k = 11) < 400000 / 4: 12 full
   * collections are held back (decision 144 runs gen1: pending 100943); decision 145 =
   * allocation 145 x 701 = 101645 runs the first full one. */
  gcl_set_auto_collect(m, false);
  for (uint64_t i = 100000; i < 400000; i++) gcl_store_move(m, table, &TABLE(table)->slot[i], gcl_new(m, &leaf_type));
  gcl_collect(m, 2);
  gcl_set_auto_collect(m, true);
  s = (struct gen_model){.th = {700, 10, 10}, .s2 = 400000, .total = 400000};
  run_generational(m, table, &s, 400000, 110000, first, &skipped);
  cr_assert_eq(first[2], 145 * 701, "first full after the long-lived heap: %llu", (unsigned long long)first[2]);
  cr_assert_eq(skipped, 12);
  GCL_FRAME_POP(m, f);
  release_all(m, table);
}

/* 3.13 (the default): (2000, 10, 10): every 2001 allocations, gen1 at 12 x 2001 = 24012,
 * the first full at 133 x 2001 = 266133. */
Test(rc_gen_policy, policy_313_schedule) {
  init_policy(1);
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *table = gcl_new_var(m, &table_type, 270000);
  GCL_FRAME(m, f, &table);
  struct gen_model s = {.th = {2000, 10, 10}};
  uint64_t first[3], skipped;
  run_generational(m, table, &s, 0, 270000, first, &skipped);
  cr_assert_eq(first[0], 2001);
  cr_assert_eq(first[1], 12 * 2001);
  cr_assert_eq(first[2], 133 * 2001);
  GCL_FRAME_POP(m, f);
  release_all(m, table);
}

/* --- 3.14's increments ------------------------------------------------------------------ */

struct inc_model {
  int64_t young_count, heap, work;  /* young count, heap_size, work_to_do */
  int64_t young, visited, pending;  /* objects on the young list and in the two spaces */
  int visited_gen;                  /* which of gens 1/2 is the visited space */
  uint64_t increments, objects, scavenges;
};

/* One allocation; true if an increment ran first. Every object stays alive and has no
 * references, so an increment takes exactly work_to_do - young objects from pending. */
static bool inc_model_alloc(struct inc_model *s) {
  s->heap++;
  bool ran = ++s->young_count > 2000;
  if (ran) {
    int64_t hf = s->heap / 10 / 10;
    if (hf > s->young_count * 3 / 2) hf = s->young_count * 3 / 2;
    s->work += s->young_count + hf;
    s->young_count = 0;
    int64_t size = s->young;
    s->young = 0;
    int64_t take = s->work - size;
    if (take > s->pending) take = s->pending;
    if (take > 0) s->pending -= take, size += take;
    s->visited += size;
    s->work += s->heap / 10 / 10 - size;
    s->increments++;
    s->objects += (uint64_t)size;
    if (s->pending == 0) {
      s->pending = s->visited;
      s->visited = 0;
      s->visited_gen = 3 - s->visited_gen;
      s->work = 0;
      s->scavenges++;
    }
  }
  s->young++;
  return ran;
}

static void expect_state(const struct inc_model *s, uint64_t at) {
  int64_t work;
  int visited;
  gcl_rcgen_incremental_state(&work, &visited);
  cr_assert_eq(work, s->work, "allocation %llu: work_to_do %lld, the rules give %lld", (unsigned long long)at,
               (long long)work, (long long)s->work);
  cr_assert_eq(visited, s->visited_gen, "allocation %llu: visited space", (unsigned long long)at);
  cr_assert_eq((int64_t)gcl_rcgen_generation_size(visited), s->visited, "allocation %llu: visited size",
               (unsigned long long)at);
  cr_assert_eq((int64_t)gcl_rcgen_generation_size(3 - visited), s->pending, "allocation %llu: pending size",
               (unsigned long long)at);
}

/* 3.14: young threshold 2000, scale 10, heap_size / 100 per increment. By hand (heap_size
 * counts the triggering object, which joins young after the increment, uncounted):
 *  - allocation 2001: work = -5000 + 2001 + min(2001/100, 3001) = -2979; increment = the
 *    2000 young; nothing pending; visited 2000; work = -2979 + 20 - 2000 = -4959; pending
 *    empty: the pass completes: spaces swap (visited is gen2 now, pending 2000), work 0;
 *  - allocation 4002: work = 0 + 2001 + 40 = 2041; young 2001 + 40 pending = 2041;
 *    visited 2041, pending 1960; work = 2041 + 40 - 2041 = 40;
 *  - allocation 6003: work = 40 + 2001 + 60 = 2101; young 2001 + 100 pending; visited
 *    4142, pending 1860; work = 2101 + 60 - 2101 = 60. */
Test(rc_gen_policy, policy_314_increments) {
  init_policy(2);
  struct gcl_mutator *m = gcl_thread_attach();
  enum { N = 120000 };
  struct gcl_object *table = gcl_new_var(m, &table_type, N);
  GCL_FRAME(m, f, &table);
  struct inc_model s = {.work = -5000, .visited_gen = 1};
  const struct { uint64_t at; int64_t work, visited, pending; int vgen; } hand[] = {
      {2001, 0, 0, 2000, 2}, {4002, 40, 2041, 1960, 2}, {6003, 60, 4142, 1860, 2}};
  unsigned h = 0;
  for (uint64_t i = 0; i < N; i++) {
    bool want = inc_model_alloc(&s);
    int ran = alloc_kept(m, table, i);
    cr_assert_eq(ran, want ? 1 : -1, "allocation %llu: gen%d ran, the rules give %s", (unsigned long long)(i + 1),
                 ran, want ? "an increment" : "nothing");
    if (!want) continue;
    expect_state(&s, i + 1);
    if (h < 3 && hand[h].at == i + 1) {
      cr_assert(s.work == hand[h].work && s.visited == hand[h].visited && s.pending == hand[h].pending &&
                    s.visited_gen == hand[h].vgen,
                "the model disagrees with the hand computation at allocation %llu", (unsigned long long)(i + 1));
      h++;
    }
  }
  cr_assert_eq(h, 3);
  cr_assert_gt(s.scavenges, 1, "a pass over the old generation completed after the first");
  struct gcl_rcgen_stats st;
  gcl_rcgen_get_stats(&st);
  cr_assert_eq(st.collections[0], 0);
  cr_assert_eq(st.collections[2], 0, "3.14 never collects fully on its own");
  cr_assert_eq(st.collections[1], s.increments);
  GCL_FRAME_POP(m, f);
  release_all(m, table);
}

/* An increment collects the cycles in its young part and in what it takes from pending. */
Test(rc_gen_policy, policy_314_frees_cycles) {
  init_policy(2);
  struct gcl_mutator *m = gcl_thread_attach();
  for (int i = 0; i < 20000; i++) {
    struct gcl_object *a = gcl_new(m, &node_type), *b = gcl_new(m, &node_type);
    gcl_store_move(m, a, &NODE(a)->next, b); /* a holds our reference to b */
    gcl_store_move(m, b, &NODE(b)->next, a); /* and b ours to a: only the cycle holds them */
  }
  cr_assert_gt(collections(1), 0);
  gcl_collect(m, 2);
  struct gcl_verify_result r;
  gcl_verify_heap(&r);
  cr_assert_eq(r.errors, 0, "oracle: %s", gcl_verify_first_error());
  cr_assert_eq(r.live, 0, "every cycle freed");
  cr_assert_geq(gcl_rcgen_check(), 0);
  gcl_thread_detach(m);
}

/* --- outstanding cyclic garbage --------------------------------------------------------- */

/* The ledger on a scripted sequence with explicit times: outstanding is 10 over
 * [1000, 2000), 15 over [2000, 4000), 3 over [4000, 5000), 6 over [5000, 11000): area
 * 10000 + 30000 + 3000 + 36000 = 79000 over 10000 ns, mean 7.9, peak 15. */
Test(garbage, ledger_on_a_scripted_sequence) {
  gcl_garbage_reset();
  gcl_garbage_made_at(10, 1000);
  gcl_garbage_made_at(5, 2000);
  gcl_garbage_freed_at(12, 4000);
  gcl_garbage_made_at(3, 5000);
  struct gcl_garbage_figures g;
  gcl_garbage_window(1000, 11000, &g);
  cr_assert_eq(g.made, 18);
  cr_assert_eq(g.freed, 12);
  cr_assert_eq(g.peak, 15);
  cr_assert_float_eq(g.mean, 7.9, 1e-12);
  /* A window that starts before the first event: the time before it counts as 0. */
  gcl_garbage_window(0, 11000, &g);
  cr_assert_float_eq(g.mean, 79000.0 / 11000.0, 1e-12);
}

/* An event earlier than the first one recorded (two threads' clock reads racing for the
 * lock, or a late stamp): outstanding 4 over [1000, 2000), 14 over [2000, 3000), 0 after:
 * area 18000 over [1000, 4000], mean 6. Before the origin moved back, 1000 - 2000 wrapped
 * and the mean came out hugely negative. */
Test(garbage, ledger_takes_an_event_before_its_origin) {
  gcl_garbage_reset();
  gcl_garbage_made_at(10, 2000);
  gcl_garbage_made_at(4, 1000);
  gcl_garbage_freed_at(14, 3000);
  struct gcl_garbage_figures g;
  gcl_garbage_window(1000, 4000, &g);
  cr_assert_eq(g.made, 14);
  cr_assert_eq(g.freed, 14);
  cr_assert_float_eq(g.mean, 6.0, 1e-12);
}

/* Many threads stamping at once with the clock: outstanding never goes below zero, so
 * the mean over the window is between 0 and the total made. */
static void *stamp_many(void *arg) {
  (void)arg;
  for (int i = 0; i < 20000; i++) gcl_garbage_made(1);
  return NULL;
}

Test(garbage, ledger_is_consistent_under_threads) {
  gcl_garbage_reset();
  uint64_t t0 = gcl_now_ns();
  pthread_t th[4];
  for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, stamp_many, NULL);
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  struct gcl_garbage_figures g;
  gcl_garbage_window(t0, gcl_now_ns(), &g);
  cr_assert_eq(g.made, 80000);
  cr_assert(g.mean >= 0 && g.mean <= 80000, "mean %g", g.mean);
}

/* Through rc-gen: rings stamped as they are dropped, freed by a full collection; the
 * ledger's frees are the collector's. */
Test(garbage, rc_gen_counts_its_frees) {
  init_policy(1);
  gcl_rcgen_set_thresholds(0, -1, -1); /* no automatic collections */
  cr_assert(gcl_garbage_known(true));
  gcl_garbage_reset();
  struct gcl_mutator *m = gcl_thread_attach();
  for (int i = 0; i < 10; i++) {
    struct gcl_object *head = gcl_new(m, &node_type), *tail = head;
    for (int k = 1; k < 5; k++) {
      struct gcl_object *x = gcl_new(m, &node_type);
      gcl_store_move(m, tail, &NODE(tail)->next, x);
      tail = x;
    }
    gcl_store(m, tail, &NODE(tail)->next, head);
    gcl_garbage_made(5);
    gcl_release(m, head);
  }
  struct gcl_garbage_figures g;
  gcl_garbage_window(0, gcl_now_ns(), &g);
  cr_assert(g.made == 50 && g.freed == 0 && g.peak == 50);
  gcl_collect(m, 0); /* the young generation holds every ring */
  gcl_garbage_window(0, gcl_now_ns(), &g);
  cr_assert_eq(g.freed, 50, "the collection reported %llu frees", (unsigned long long)g.freed);
  cr_assert_eq(g.peak, 50);
  gcl_thread_detach(m);
}
