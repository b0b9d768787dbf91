/* SPDX-License-Identifier: MIT */
/* tests/unit/test-bdw.c — bdw (libgc) keeps everything reachable from gclab's roots and
 * frees what is not, across many forced collections. Linked twice: with the pair's
 * GCL_VERIFY=1 library (the oracle also checks that libgc finalized no reachable object)
 * and with the plain one (the runner's build: only type finalizers are watched).
 *
 * Objects are kept only through root frames (stack locals), through global roots whose
 * slots live in malloc'd memory (which libgc does not scan: the GC_add_roots hook must
 * make them visible) and through chains hanging off those; every node's type has a
 * finalizer that records the node's id, so "a finalizer of a reachable object never ran"
 * is checked directly, and so is the opposite: after the roots are dropped, at least all
 * but CONSERVATIVE_SLACK of the dropped nodes are finalized (false retention bound). Also:
 * weak references (disappearing links) read their referent while it is reachable and NULL
 * after, with the callback once; a finalizer's resurrection; 4 threads; incremental mode.
 * No macros change it but GCL_VERIFY (from the library). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#include "module.h"
#include "mutator.h"
#include "verify.h"
#include "weakref.h"

#define LISTS 16                /* lists per thread kept through global roots */
#define LEN 32                  /* nodes per list */
#define ROUNDS 20               /* forced collections while they are kept */
#define GARBAGE 500             /* garbage nodes allocated per round */
#define MAX_IDS (1u << 22)      /* ids of all nodes of a test */
#define CONSERVATIVE_SLACK 64   /* dropped nodes allowed to stay (false retention) */

struct node {
  struct gcl_object header; /* common header */
  struct gcl_object *next;  /* reference */
  uint64_t id;              /* index into died[] */
  uint64_t value;           /* a function of id, checked */
};

#define NODE(o) ((struct node *)(o))

static unsigned char died[MAX_IDS]; /* 1 once the node's finalizer ran (atomic) */
static uint64_t next_id;            /* atomic */
static uint64_t finalized;          /* atomic */

static void node_finalize(struct gcl_mutator *m, struct gcl_object *o) {
  (void)m;
  __atomic_store_n(&died[NODE(o)->id], 1, __ATOMIC_RELAXED);
  __atomic_fetch_add(&finalized, 1, __ATOMIC_RELAXED);
}

static const struct gcl_type node_type = {
    .name = "bdw-node", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, next), .nrefs = 1, .finalize = node_finalize};

static uint64_t value_of(uint64_t id) { return id * 0x9E3779B97F4A7C15ull + 7; }

static struct gcl_object *new_node(struct gcl_mutator *m, struct gcl_object *next) {
  struct gcl_object *o = gcl_new(m, &node_type);
  uint64_t id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
  cr_assert_lt(id, MAX_IDS);
  NODE(o)->id = id;
  NODE(o)->value = value_of(id);
  gcl_store(m, o, &NODE(o)->next, next);
  return o;
}

/* A list of n nodes; the head is returned (owned). */
static struct gcl_object *new_list(struct gcl_mutator *m, unsigned n) {
  struct gcl_object *head = NULL;
  GCL_FRAME(m, f, &head);
  for (unsigned i = 0; i < n; i++) {
    struct gcl_object *h = new_node(m, head);
    gcl_release(m, head);
    head = h;
  }
  GCL_FRAME_POP(m, f);
  return head;
}

/* Every node of the list is alive, unfinalized and intact; returns its length. */
static unsigned check_list(struct gcl_object *head) {
  unsigned n = 0;
  for (struct gcl_object *o = head; o; o = NODE(o)->next, n++) {
    cr_assert_eq(__atomic_load_n(&died[NODE(o)->id], __ATOMIC_RELAXED), 0,
                 "node %llu is reachable but its finalizer ran", (unsigned long long)NODE(o)->id);
    cr_assert_eq(NODE(o)->value, value_of(NODE(o)->id), "node %llu was overwritten",
                 (unsigned long long)NODE(o)->id);
  }
  return n;
}

static void oracle_clean(void) {
  if (!GCL_VERIFY) return;
  cr_assert_eq(gcl_verify_errors(), 0, "oracle: %s", gcl_verify_first_error());
}

/* One thread's test: lists kept through malloc'd global-root slots and a root frame,
 * ROUNDS forced collections with garbage in between, then the roots dropped. */
static void *keep_and_drop(void *arg) {
  bool single = arg != NULL;
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object **slots = calloc(LISTS, sizeof *slots); /* malloc'd: libgc-invisible */
  cr_assert_not_null(slots);
  uint64_t dropped_ids[LISTS * LEN];
  for (unsigned i = 0; i < LISTS; i++) {
    gcl_global_root_add(&slots[i]);
    slots[i] = new_list(m, LEN);
  }
  struct gcl_object *local = new_list(m, LEN);
  GCL_FRAME(m, f, &local);
  for (unsigned r = 0; r < ROUNDS; r++) {
    for (unsigned g = 0; g < GARBAGE; g++) gcl_release(m, new_node(m, NULL));
    gcl_collect(m, -1);
    gcl_safepoint(m);
    for (unsigned i = 0; i < LISTS; i++) cr_assert_eq(check_list(slots[i]), LEN);
    cr_assert_eq(check_list(local), LEN);
    if (single && GCL_VERIFY) {
      struct gcl_verify_result vr;
      gcl_verify_heap(&vr); /* the only thread: the heap is still */
      oracle_clean();
    }
  }
  unsigned nd = 0;
  for (unsigned i = 0; i < LISTS; i++) {
    for (struct gcl_object *o = slots[i]; o; o = NODE(o)->next) dropped_ids[nd++] = NODE(o)->id;
    gcl_global_root_remove(&slots[i]);
    slots[i] = NULL;
  }
  free(slots);
  for (unsigned r = 0; r < 4; r++) gcl_collect(m, -1);
  unsigned kept = 0;
  for (unsigned i = 0; i < nd; i++) kept += !__atomic_load_n(&died[dropped_ids[i]], __ATOMIC_RELAXED);
  cr_assert_leq(kept, CONSERVATIVE_SLACK, "%u of %u dropped nodes were never finalized", kept, nd);
  cr_assert_eq(check_list(local), LEN);
  GCL_FRAME_POP(m, f);
  gcl_release(m, local);
  gcl_thread_detach(m);
  return NULL;
}

static void setup(void) {
  cr_assert_eq(gcl_heap_init(), 0);
  next_id = finalized = 0;
}

Test(bdw, roots_keep_what_they_reach, .init = setup) {
  keep_and_drop((void *)1);
  gcl_heap_finish();
  oracle_clean();
}

Test(bdw, four_threads, .init = setup) {
  pthread_t t[4];
  for (int i = 0; i < 4; i++) cr_assert_eq(pthread_create(&t[i], NULL, keep_and_drop, NULL), 0);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  gcl_heap_finish();
  oracle_clean();
}

static void incremental_setup(void) {
  union gcl_opt_value copts[2] = {{.b = true}, {.i = 0}};
  struct gcl_heap_config cfg = {.threads = 2, .collector_opts = copts};
  cr_assert_eq(gcl_heap_init_with(&cfg), 0);
  next_id = finalized = 0;
}

Test(bdw, incremental_two_threads, .init = incremental_setup) {
  pthread_t t[2];
  for (int i = 0; i < 2; i++) cr_assert_eq(pthread_create(&t[i], NULL, keep_and_drop, NULL), 0);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  gcl_heap_finish();
  oracle_clean();
}

static int callbacks;
static void on_clear(struct gcl_mutator *m, struct gcl_weakref *w, void *ctx) {
  (void)m, (void)w, (void)ctx;
  callbacks++;
}

#define WEAK_N 16 /* referents of the weak-link test */

/* Stale copies of pointers in dead stack frames retain objects conservatively: overwrite
 * the stack below the caller before judging what libgc freed. */
static __attribute__((noinline)) void scrub_stack(void) {
  volatile char junk[16384];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = 0;
}

static __attribute__((noinline)) void make_referents(struct gcl_mutator *m, struct gcl_object **slots,
                                                     struct gcl_weakref **w) {
  for (int i = 0; i < WEAK_N; i++) {
    slots[i] = new_list(m, 4);
    w[i] = gcl_weakref_new(m, slots[i], on_clear, NULL);
  }
}

static __attribute__((noinline)) void check_referents(struct gcl_mutator *m, struct gcl_object **slots,
                                                      struct gcl_weakref **w) {
  for (int i = 0; i < WEAK_N; i++) {
    struct gcl_object *o = gcl_weakref_get(m, w[i]);
    cr_assert_eq(o, slots[i], "a reachable referent read as dead");
    check_list(o);
  }
}

Test(bdw, weak_links, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object **slots = calloc(WEAK_N, sizeof *slots); /* malloc'd: global roots */
  struct gcl_weakref *w[WEAK_N];
  for (int i = 0; i < WEAK_N; i++) gcl_global_root_add(&slots[i]);
  make_referents(m, slots, w);
  for (int r = 0; r < 10; r++) {
    gcl_collect(m, -1);
    check_referents(m, slots, w);
  }
  cr_assert_eq(callbacks, 0);
  for (int i = 0; i < WEAK_N; i++) slots[i] = NULL;
  scrub_stack();
  for (int r = 0; r < 4; r++) gcl_collect(m, -1);
  int cleared = 0;
  for (int i = 0; i < WEAK_N; i++) {
    struct gcl_object *o = gcl_weakref_get(m, w[i]);
    cleared += o == NULL;
  }
  /* Conservative retention may keep a few (stale words): at most 2 of 16. */
  cr_assert_geq(cleared, WEAK_N - 2, "only %d of %d unreachable referents read as dead", cleared, WEAK_N);
  cr_assert_eq(callbacks, cleared, "%d callbacks for %d cleared handles", callbacks, cleared);
  for (int i = 0; i < WEAK_N; i++) {
    gcl_weakref_free(m, w[i]);
    gcl_global_root_remove(&slots[i]);
  }
  free(slots);
  gcl_thread_detach(m);
  gcl_heap_finish();
  oracle_clean();
}

static struct gcl_object *resurrected; /* static data: libgc scans it */
static int fin_runs;
static void resurrect(struct gcl_mutator *m, struct gcl_object *o) {
  (void)m;
  fin_runs++;
  resurrected = o;
}
static const struct gcl_type phoenix_type = {
    .name = "bdw-phoenix", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, next), .nrefs = 1, .finalize = resurrect};

Test(bdw, finalizer_resurrects_once, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  for (int i = 0; i < 100; i++) gcl_release(m, gcl_new(m, &phoenix_type));
  for (int r = 0; r < 4 && !resurrected; r++) gcl_collect(m, -1);
  cr_assert_not_null(resurrected, "no finalizer ran for 100 unreachable objects");
  struct gcl_object *p = resurrected;
  NODE(p)->value = 99;
  for (int r = 0; r < 4; r++) gcl_collect(m, -1);
  cr_assert_eq(NODE(p)->value, 99, "the resurrected object was reused");
  int runs = fin_runs;
  resurrected = NULL;
  p = NULL;
  for (int r = 0; r < 4; r++) gcl_collect(m, -1);
  cr_assert_leq(fin_runs, 100);
  cr_assert_geq(fin_runs, runs);
  gcl_thread_detach(m);
  gcl_heap_finish();
  oracle_clean();
}
