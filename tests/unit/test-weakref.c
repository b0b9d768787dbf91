/* SPDX-License-Identifier: MIT */
/* tests/unit/test-weakref.c — weak references (core/weakref.h) under whichever collector
 * the test is linked with (rc, rc-plain, rc-gen; GCL_VERIFY=1 libraries): a handle reads
 * its referent while it lives and NULL once it died by RC; every handle of a dying object
 * is cleared before any callback runs; callbacks run once; a handle freed before its
 * callback is not called back; a finalizer's resurrection keeps handles valid; a referent
 * whose count already hit zero reads as dead; the side table survives many insertions and
 * deletions; and, with atomic counts, threads reading and freeing handles while referents
 * die on other threads. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#include "mutator.h"
#include "verify.h"
#include "weakref.h"

struct node {
  struct gcl_object header; /* common header */
  struct gcl_object *a;     /* reference */
  struct gcl_object *b;     /* reference */
  uint64_t value;           /* payload */
};

#define NODE(o) ((struct node *)(o))

static const struct gcl_type node_type = {
    .name = "node", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, a), .nrefs = 2};

static struct gcl_object *global_slot; /* a global root */
static struct gcl_weakref *probe;      /* read by finalizers and callbacks */
static struct gcl_object *probe_seen;  /* what it read */
static int fin_runs, callbacks;

static void setup(void) {
  cr_assert_eq(gcl_heap_init(), 0);
  global_slot = NULL;
  gcl_global_root_add(&global_slot);
  probe = NULL;
  probe_seen = NULL;
  fin_runs = callbacks = 0;
}

static uint64_t live_now(void) {
  struct gcl_verify_result r;
  gcl_verify_heap(&r);
  cr_assert_eq(r.errors, 0, "oracle: %s", gcl_verify_first_error());
  return r.live;
}

Test(weakref, reads_the_referent_then_null, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *o = gcl_new(m, &node_type);
  NODE(o)->value = 42;
  struct gcl_weakref *w = gcl_weakref_new(m, o, NULL, NULL);
  cr_assert_eq(gcl_weakref_count(o), 1);
  struct gcl_object *s = gcl_weakref_get(m, w);
  cr_assert_eq(s, o);
  cr_assert_eq(gcl_rc_count(o, gcl_rc_kind()), 2, "get returns an owned reference");
  gcl_release(m, o);
  cr_assert_eq(NODE(s)->value, 42, "alive through the reference get gave");
  gcl_release(m, s);
  cr_assert_null(gcl_weakref_get(m, w));
  cr_assert_eq(live_now(), 0);
  gcl_weakref_free(m, w);
  gcl_weakref_free(m, NULL);
  gcl_thread_detach(m);
}

#define N 5
static struct gcl_weakref *ws[N];

static void count_callback(struct gcl_mutator *m, struct gcl_weakref *w, void *ctx) {
  callbacks++;
  cr_assert_eq(ctx, (void *)&ws, "the context given at creation");
  for (int i = 0; i < N; i++)
    if (ws[i]) cr_assert_null(gcl_weakref_get(m, ws[i]), "handle %d not cleared before a callback", i);
  cr_assert_null(gcl_weakref_get(m, w));
}

Test(weakref, every_handle_is_cleared_before_any_callback, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *o = gcl_new(m, &node_type);
  for (int i = 0; i < N; i++) ws[i] = gcl_weakref_new(m, o, i % 2 ? count_callback : NULL, &ws);
  cr_assert_eq(gcl_weakref_count(o), N);
  gcl_release(m, o);
  cr_assert_eq(callbacks, N / 2, "one call per handle with a callback");
  cr_assert_eq(gcl_weakref_count(o), 0);
  for (int i = 0; i < N; i++) gcl_weakref_free(m, ws[i]), ws[i] = NULL;
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

static struct gcl_weakref *victim; /* a pending handle another callback frees */

static void freeing_callback(struct gcl_mutator *m, struct gcl_weakref *w, void *ctx) {
  (void)ctx;
  callbacks++;
  gcl_weakref_free(m, victim); /* still pending: it must not be called */
  victim = NULL;
  gcl_weakref_free(m, w); /* its own handle */
}

static void must_not_run(struct gcl_mutator *m, struct gcl_weakref *w, void *ctx) {
  (void)m, (void)w, (void)ctx;
  cr_assert(false, "the callback of a freed handle ran");
}

Test(weakref, freed_handles_are_not_called_back, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *o = gcl_new(m, &node_type);
  struct gcl_weakref *early = gcl_weakref_new(m, o, must_not_run, NULL);
  gcl_weakref_free(m, early); /* before death */
  victim = gcl_weakref_new(m, o, must_not_run, NULL);
  gcl_weakref_new(m, o, freeing_callback, NULL); /* newest: called first */
  gcl_release(m, o);
  cr_assert_eq(callbacks, 1);
  cr_assert_null(victim);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

static void resurrecting_finalize(struct gcl_mutator *m, struct gcl_object *o) {
  fin_runs++;
  gcl_store(m, NULL, &global_slot, o);
}

static const struct gcl_type rnode_type = {
    .name = "resurrecting", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, a), .nrefs = 2, .finalize = resurrecting_finalize};

Test(weakref, resurrection_keeps_handles, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *o = gcl_new(m, &rnode_type);
  struct gcl_weakref *w = gcl_weakref_new(m, o, must_not_run, NULL);
  gcl_release(m, o);
  cr_assert_eq(fin_runs, 1);
  struct gcl_object *s = gcl_weakref_get(m, w);
  cr_assert_eq(s, o, "resurrected: the handle still reads it");
  gcl_release(m, s);
  gcl_weakref_free(m, w);
  w = gcl_weakref_new(m, o, count_callback, &ws);
  gcl_store(m, NULL, &global_slot, NULL); /* dies for good: no second finalizer run */
  cr_assert_eq(fin_runs, 1);
  cr_assert_eq(callbacks, 1);
  gcl_weakref_free(m, w);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

/* Runs while `a` (count zero) waits on the dealloc worklist. */
static void probing_finalize(struct gcl_mutator *m, struct gcl_object *o) {
  (void)o;
  fin_runs++;
  probe_seen = gcl_weakref_get(m, probe);
}

static const struct gcl_type pnode_type = {
    .name = "probing", .size = sizeof(struct node), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, a), .nrefs = 2, .finalize = probing_finalize};

Test(weakref, a_dying_referent_reads_as_dead, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  /* root.a = A, root.b = P: root's death pushes A then P; P dies first (LIFO) and its
   * finalizer reads the handle to A, whose count is already zero. */
  struct gcl_object *root = gcl_new(m, &node_type), *a = gcl_new(m, &node_type);
  probe = gcl_weakref_new(m, a, NULL, NULL);
  gcl_store_move(m, root, &NODE(root)->a, a);
  gcl_store_move(m, root, &NODE(root)->b, gcl_new(m, &pnode_type));
  probe_seen = root; /* anything but NULL */
  gcl_release(m, root);
  cr_assert_eq(fin_runs, 1);
  cr_assert_null(probe_seen);
  gcl_weakref_free(m, probe);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

Test(weakref, the_table_grows_and_shrinks, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  enum { K = 3000 };
  struct gcl_object **objs = calloc(K, sizeof *objs);
  struct gcl_weakref **h = calloc(2 * K, sizeof *h);
  for (int i = 0; i < K; i++) {
    objs[i] = gcl_new(m, &node_type);
    NODE(objs[i])->value = (uint64_t)i;
    h[2 * i] = gcl_weakref_new(m, objs[i], NULL, NULL);
    h[2 * i + 1] = gcl_weakref_new(m, objs[i], NULL, NULL);
  }
  for (int i = 0; i < K; i += 3) gcl_weakref_free(m, h[2 * i]), h[2 * i] = NULL;
  for (int i = 0; i < K; i += 2) gcl_release(m, objs[i]), objs[i] = NULL;
  for (int i = 0; i < K; i++) {
    for (int j = 0; j < 2; j++) {
      if (!h[2 * i + j]) continue;
      struct gcl_object *s = gcl_weakref_get(m, h[2 * i + j]);
      if (i % 2 == 0) {
        cr_assert_null(s, "object %d died", i);
      } else {
        cr_assert_eq(s, objs[i]);
        cr_assert_eq(NODE(s)->value, (uint64_t)i);
        gcl_release(m, s);
      }
    }
    if (objs[i]) cr_assert_eq(gcl_weakref_count(objs[i]), i % 3 ? 2 : 1);
  }
  for (int i = 0; i < K; i++) gcl_release(m, objs[i]);
  for (int i = 0; i < 2 * K; i++) {
    if (h[i]) cr_assert_null(gcl_weakref_get(m, h[i]));
    gcl_weakref_free(m, h[i]);
  }
  free(objs);
  free(h);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
}

/* Threads: owners create objects and publish handles; readers get and release through
 * them; owners drop their objects (RC deaths racing with the gets); everyone frees the
 * handles it owns. */
#define SLOTS 64
static struct gcl_weakref *shared[SLOTS];

static void *owner_main(void *p) {
  (void)p;
  struct gcl_mutator *m = gcl_thread_attach();
  for (int round = 0; round < 300; round++) {
    struct gcl_object *o = gcl_new(m, &node_type);
    NODE(o)->value = 7;
    struct gcl_weakref *w = gcl_weakref_new(m, o, NULL, NULL);
    struct gcl_weakref *old = __atomic_exchange_n(&shared[round % SLOTS], w, __ATOMIC_ACQ_REL);
    gcl_weakref_free(m, old);
    gcl_release(m, o);
    gcl_safepoint(m);
  }
  gcl_thread_detach(m);
  return NULL;
}

static void *reader_main(void *p) {
  (void)p;
  struct gcl_mutator *m = gcl_thread_attach();
  for (int round = 0; round < 3000; round++) {
    /* Take the handle out while reading it, so no one frees it meanwhile. */
    struct gcl_weakref *w = __atomic_exchange_n(&shared[round % SLOTS], NULL, __ATOMIC_ACQ_REL);
    if (w) {
      struct gcl_object *o = gcl_weakref_get(m, w);
      if (o) {
        cr_assert_eq(NODE(o)->value, 7);
        gcl_release(m, o);
      }
      w = __atomic_exchange_n(&shared[round % SLOTS], w, __ATOMIC_ACQ_REL);
      gcl_weakref_free(m, w);
    }
    gcl_safepoint(m);
  }
  gcl_thread_detach(m);
  return NULL;
}

Test(weakref_threads, gets_race_with_deaths, .init = setup, .timeout = 120) {
  if (gcl_rc_kind() == GCL_RC_PLAIN) cr_skip_test("non-atomic counts: one thread only");
  pthread_t t[4];
  pthread_create(&t[0], NULL, owner_main, NULL);
  pthread_create(&t[1], NULL, owner_main, NULL);
  pthread_create(&t[2], NULL, reader_main, NULL);
  pthread_create(&t[3], NULL, reader_main, NULL);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < SLOTS; i++) gcl_weakref_free(NULL, shared[i]), shared[i] = NULL;
  cr_assert_eq(live_now(), 0);
}
