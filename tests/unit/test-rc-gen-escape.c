// SPDX-License-Identifier: MIT
/* tests/unit/test-rc-gen-escape.c — rc-gen's escape barrier and thread-local young
 * collections (--opt rc-gen.young=thread, collectors/rc-gen/rc-gen-local.c), compiled
 * against a GCL_VERIFY=1 pair library so the reachability oracle checks the heap.
 *
 * One owner thread makes small rings (two nodes, a <-> b) and publishes each through one
 * of the three escape paths — a slot of a shared container, a global root, gcl_share plus
 * a plain C variable — while it makes young garbage that runs a local collection every few
 * dozen allocations (threshold0 24). User threads take the published rings, check them and
 * rewire them (b's second slot toggles between a and NULL, which moves references between
 * members of the owner's set if the ring did not escape), then hand them back. With the
 * barrier the rings are on the shared gen0 list and no local collection touches them;
 * without it (built with -DGCL_RCGEN_NO_ESCAPE_BARRIER=1, rc-gen-attrs.h) the owner's
 * local collection reads counts and slots the users change under it: this test then fails
 * (a ring found cleared or freed, a count assertion, or the oracle), which is how the
 * test was checked (collectors/rc-gen/README.md, Tests).
 *
 * Also: the figures (local collections and escapes counted), a young object escaping
 * with its local children (transitively), and a clean heap at the end (oracle, list check).
 * Macros: ROUNDS (smaller under the sanitizers, __SANITIZE_THREAD__ / __SANITIZE_ADDRESS__). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "module.h"
#include "typed-option.h"
#include "mutator.h"
#include "verify.h"

struct node {
  struct gcl_object header; /* common header */
  struct gcl_object *a;     /* reference: the ring's other node */
  struct gcl_object *b;     /* reference: toggled by the users */
  uint64_t value;           /* payload, checked by the users */
};

struct box {
  struct gcl_object header; /* common header */
  struct gcl_object *slot;  /* reference: the published ring (shared-slot path) */
};

#define NODE(o) ((struct node *)(o))
#define BOX(o) ((struct box *)(o))

static const struct gcl_type node_type = {
    .name = "node", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, a), .nrefs = 2};
static const struct gcl_type box_type = {
    .name = "box", .size = sizeof(struct box), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct box, slot), .nrefs = 1};

enum path { PATH_SLOT, PATH_ROOT, PATH_SHARE };

#define USERS 2
/* Rings each owner publishes. Without the barrier, 20000 shows the race in about half of the
 * path cases (the others fail on the escape count); sanitizer builds, 5-20x slower, run
 * fewer (their job is the data-race and memory checks of the barrier's paths). */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define ROUNDS 3000
#else
#define ROUNDS 20000
#endif

/* What the threads share. Every access to `box`'s slot, `root` and `plain` is made under
 * `mu` (taken inside a blocking region), so the threads never write one slot at once. */
static struct {
  enum path path;           /* the path under test */
  pthread_mutex_t mu;       /* guards the three publication places */
  struct gcl_object *box;   /* a gcl_share()d container (a global root) */
  struct gcl_object *root;  /* a global root slot */
  struct gcl_object *plain; /* a C variable (not a root): rings gcl_share()d first */
  int done;                 /* atomic: the owner finished */
  uint64_t checked;         /* atomic: rings the users checked */
} sh;

static void init_heap(unsigned threads) {
  union gcl_opt_value v[GCL_MODULE_MAX_OPTS];
  gcl_module_defaults(&gcl_collector_module, v);
  char why[160];
  bool found = false;
  for (unsigned k = 0; k < gcl_collector_module.nopts; k++) {
    const char *name = gcl_collector_module.opts[k].name, *val = NULL;
    if (!strcmp(name, "young")) val = "thread", found = true;
    if (!strcmp(name, "threshold0")) val = "24";
    if (!strcmp(name, "threshold1")) val = "50";
    if (val)
      cr_assert_eq(gcl_opt_parse(&gcl_collector_module.opts[k], val, &v[k], why, sizeof why), 0, "%s", why);
  }
  cr_assert(found, "rc-gen has no option young");
  struct gcl_heap_config cfg = {.threads = threads, .collector_opts = v};
  cr_assert_eq(gcl_heap_init_with(&cfg), 0);
}

static void lock(struct gcl_mutator *m) {
  gcl_blocking_enter(m);
  pthread_mutex_lock(&sh.mu);
  gcl_blocking_leave(m);
}

/* The publication place of the path: a slot, its object (NULL outside the heap). */
static struct gcl_object **place(struct gcl_object **obj) {
  *obj = sh.path == PATH_SLOT ? sh.box : NULL;
  return sh.path == PATH_SLOT ? &BOX(sh.box)->slot : sh.path == PATH_ROOT ? &sh.root : &sh.plain;
}

/* Put r (an owned reference, or NULL) in the place, taking the caller's reference; returns
 * what was there (owned). mu held. */
static struct gcl_object *swap(struct gcl_mutator *m, struct gcl_object *r) {
  struct gcl_object *obj, **slot = place(&obj);
  struct gcl_object *old = *slot;
  if (sh.path == PATH_SHARE) {
    *slot = r; /* a plain C variable: only gcl_share made r escape */
    return old;
  }
  gcl_retain(m, old);
  gcl_store_move(m, obj, slot, r);
  return old;
}

static struct gcl_object *make_ring(struct gcl_mutator *m, uint64_t v) {
  struct gcl_object *a = gcl_new(m, &node_type), *b = gcl_new(m, &node_type);
  NODE(a)->value = v;
  NODE(b)->value = v + 1;
  gcl_store_move(m, a, &NODE(a)->a, b);
  gcl_store(m, b, &NODE(b)->a, a);
  return a;
}

static void *owner_main(void *arg) {
  (void)arg;
  struct gcl_mutator *m = gcl_thread_attach();
  for (uint64_t i = 0; i < ROUNDS; i++) {
    struct gcl_object *r = make_ring(m, 1000 + 2 * i);
    if (sh.path == PATH_SHARE) gcl_share(m, r);
    lock(m);
    struct gcl_object *old = swap(m, r);
    pthread_mutex_unlock(&sh.mu);
    gcl_release(m, old);
    /* Young garbage: local collections run while the users hold and rewire rings. */
    for (int k = 0; k < 8; k++) gcl_release(m, gcl_new(m, &node_type));
    gcl_safepoint(m);
  }
  __atomic_store_n(&sh.done, 1, __ATOMIC_RELEASE);
  gcl_thread_detach(m);
  return NULL;
}

static void check_ring(struct gcl_object *a) {
  struct gcl_object *b = NODE(a)->a;
  cr_assert(b != NULL, "ring cleared under a user");
  cr_assert_eq(NODE(b)->a, a, "ring broken under a user");
  cr_assert_eq(NODE(b)->value, NODE(a)->value + 1, "ring values");
  cr_assert_geq(NODE(a)->value, 1000, "ring values");
}

static void *user_main(void *arg) {
  (void)arg;
  struct gcl_mutator *m = gcl_thread_attach();
  while (!__atomic_load_n(&sh.done, __ATOMIC_ACQUIRE)) {
    lock(m);
    struct gcl_object *r = swap(m, NULL);
    pthread_mutex_unlock(&sh.mu);
    if (r) {
      for (int k = 0; k < 16; k++) { /* rewire: references move between the two nodes */
        check_ring(r);
        struct gcl_object *b = NODE(r)->a;
        gcl_store(m, b, &NODE(b)->b, NODE(b)->b ? NULL : r);
      }
      __atomic_fetch_add(&sh.checked, 1, __ATOMIC_RELAXED);
      lock(m);
      struct gcl_object *other = swap(m, r); /* hand it back (the owner may have put a new one) */
      pthread_mutex_unlock(&sh.mu);
      gcl_release(m, other);
    }
    gcl_safepoint(m);
  }
  gcl_thread_detach(m);
  return NULL;
}

static void run_path(enum path p) {
  init_heap(1 + USERS);
  memset(&sh, 0, sizeof sh);
  sh.path = p;
  pthread_mutex_init(&sh.mu, NULL);
  gcl_global_root_add(&sh.box);
  gcl_global_root_add(&sh.root);
  struct gcl_mutator *m = gcl_thread_attach();
  sh.box = gcl_new(m, &box_type);
  gcl_share(m, sh.box);
  gcl_thread_detach(m);

  pthread_t t[1 + USERS];
  cr_assert_eq(pthread_create(&t[0], NULL, owner_main, NULL), 0);
  for (int i = 1; i <= USERS; i++) cr_assert_eq(pthread_create(&t[i], NULL, user_main, NULL), 0);
  for (int i = 0; i <= USERS; i++) pthread_join(t[i], NULL);

  m = gcl_thread_attach();
  lock(m);
  gcl_release(m, swap(m, NULL));
  pthread_mutex_unlock(&sh.mu);
  gcl_store(m, NULL, &sh.box, NULL);
  gcl_thread_detach(m);
  struct gcl_rcgen_stats s;
  gcl_rcgen_get_stats(&s);
  cr_assert_gt(s.local_collections, 50, "only %llu local collections", (unsigned long long)s.local_collections);
  cr_assert_gt(__atomic_load_n(&sh.checked, __ATOMIC_RELAXED), 0, "no user took a ring");
  gcl_heap_finish();
  struct gcl_verify_result r;
  gcl_verify_heap(&r);
  cr_assert_eq(r.errors, 0, "oracle: %s", gcl_verify_first_error());
  cr_assert_eq(r.live, 0, "%llu objects left after the final collection", (unsigned long long)r.live);
  cr_assert_eq(gcl_rcgen_check(), 0);
  /* Last, so that a run without the barrier fails on what went wrong first. */
  cr_assert_geq(s.escapes, 2 * ROUNDS, "only %llu escapes", (unsigned long long)s.escapes);
}

Test(rc_gen_escape, through_a_shared_slot, .timeout = 240) { run_path(PATH_SLOT); }
Test(rc_gen_escape, through_a_global_root, .timeout = 240) { run_path(PATH_ROOT); }
Test(rc_gen_escape, through_gcl_share, .timeout = 240) { run_path(PATH_SHARE); }

/* Escape is transitive over local children, and stops at non-local ones. */
Test(rc_gen_escape, escape_takes_local_children, .timeout = 60) {
  init_heap(2);
  static struct gcl_object *root;
  root = NULL;
  gcl_global_root_add(&root);
  struct gcl_mutator *m = gcl_thread_attach();
  /* A chain of 5 local nodes. */
  struct gcl_object *head = gcl_new(m, &node_type), *tail = head;
  for (int i = 0; i < 4; i++) {
    struct gcl_object *x = gcl_new(m, &node_type);
    gcl_store_move(m, tail, &NODE(tail)->a, x);
    tail = x;
  }
  struct gcl_object *keep = gcl_new(m, &node_type); /* stays local */
  struct gcl_rcgen_stats s0, s1;
  gcl_rcgen_get_stats(&s0);
  cr_assert_eq(gcl_rcgen_generation_of(head), 0);
  gcl_store_move(m, NULL, &root, head); /* the whole chain escapes */
  gcl_rcgen_get_stats(&s1);
  cr_assert_eq(s1.escapes - s0.escapes, 5);
  /* A store into an escaped object escapes the stored one; into a local one it does not. */
  struct gcl_object *y = gcl_new(m, &node_type);
  gcl_store(m, keep, &NODE(keep)->a, y);
  gcl_rcgen_get_stats(&s0);
  cr_assert_eq(s0.escapes - s1.escapes, 0);
  gcl_store(m, tail, &NODE(tail)->b, keep); /* keep and y escape */
  gcl_rcgen_get_stats(&s1);
  cr_assert_eq(s1.escapes - s0.escapes, 2);
  gcl_release(m, y);
  gcl_release(m, keep);
  gcl_store(m, NULL, &root, NULL);
  gcl_thread_detach(m);
  gcl_heap_finish();
  struct gcl_verify_result r;
  gcl_verify_heap(&r);
  cr_assert_eq(r.errors, 0, "oracle: %s", gcl_verify_first_error());
  cr_assert_eq(r.live, 0);
}

/* A local collection whose garbage has finalizers hands it to a stop-the-world collection
 * of the shared heap (local_fallbacks), where the finalizers run once each. */
static int fin_runs; /* atomic: finalizer calls */
static void fnode_finalize(struct gcl_mutator *m, struct gcl_object *o) {
  (void)m, (void)o;
  __atomic_fetch_add(&fin_runs, 1, __ATOMIC_RELAXED);
}
static const struct gcl_type fnode_type = {
    .name = "fnode", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, a), .nrefs = 2, .finalize = fnode_finalize};

Test(rc_gen_escape, finalizers_go_to_a_stop_the_world_collection, .timeout = 60) {
  init_heap(2);
  fin_runs = 0;
  struct gcl_mutator *m = gcl_thread_attach();
  for (int i = 0; i < 200; i++) {
    struct gcl_object *a = gcl_new(m, &fnode_type), *b = gcl_new(m, &fnode_type);
    gcl_store_move(m, a, &NODE(a)->a, b);
    gcl_store(m, b, &NODE(b)->a, a);
    gcl_release(m, a); /* a cyclic garbage pair with finalizers, local */
    for (int k = 0; k < 30; k++) gcl_release(m, gcl_new(m, &node_type));
  }
  struct gcl_rcgen_stats s;
  gcl_rcgen_get_stats(&s);
  cr_assert_gt(s.local_fallbacks, 0, "no local collection handed finalizers over");
  /* Net +2 tracked objects a round (the pair): a local collection every 12 rounds. */
  cr_assert_gt(s.local_collections, 10, "%llu local collections",
               (unsigned long long)s.local_collections);
  int ran = __atomic_load_n(&fin_runs, __ATOMIC_RELAXED);
  cr_assert_gt(ran, 0, "no finalizer ran during the run");
  cr_assert_leq(ran, 400);
  gcl_thread_detach(m);
  gcl_heap_finish();
  cr_assert_eq(__atomic_load_n(&fin_runs, __ATOMIC_RELAXED), 400, "each finalizer runs once");
  struct gcl_verify_result r;
  gcl_verify_heap(&r);
  cr_assert_eq(r.errors, 0, "oracle: %s", gcl_verify_first_error());
  cr_assert_eq(r.live, 0);
}
