/* SPDX-License-Identifier: MIT */
/* tests/unit/test-freelist.c — immortal objects (gcl_make_immortal, PEP 683) and per-type
 * free lists (core/freelist.h), compiled against one RC collector x pool verify library
 * (tests/unit/CMakeLists.txt builds it for rc, rc-plain, rc-gen and brc, with
 * GCL_FREELISTS=1 GCL_RC_IMMORTAL_CHECK=1, and for the default build's switches):
 *  - an immortal object is never freed, whatever retains and releases it gets, nor by a
 *    full collection; what it references lives too; the statistics count it once, as
 *    allocated, never freed, not leaked; with the check built in its count is untouched;
 *  - threads retaining and releasing one shared immortal object (TSan: no write at all
 *    with the check built in);
 *  - a free list reuses a dead object's memory for the next object of its type and size,
 *    keeps at most its capacity, never parks shared objects, counts right;
 *  - the verifier: no error on correct use; a double free is refused and reported; a
 *    list that would hand out a live object is reported;
 *  - a thread's lists go back to the allocator when it exits (the pool's heap walk finds
 *    no block), none is left after gcl_heap_finish; 4 threads at once.
 * Without GCL_FREELISTS the free-list tests check that nothing is ever parked. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stddef.h>

#include "allocator.h"
#include "collector.h"
#include "mutator.h"
#include "verify.h"
#include "workload.h"

struct cell {
  struct gcl_object header; /* common header */
  struct gcl_object *a;     /* reference */
  uint64_t value;           /* payload */
};
#define CELL(o) ((struct cell *)(o))

static const struct gcl_type cell_type = {.name = "cell", .size = sizeof(struct cell),
                                          .flags = GCL_TYPE_CONTAINER,
                                          .ref_offset = offsetof(struct cell, a), .nrefs = 1};
/* The same layout with a free list of 4. */
static const struct gcl_type fl_type = {.name = "fl-cell", .size = sizeof(struct cell),
                                        .flags = GCL_TYPE_CONTAINER,
                                        .ref_offset = offsetof(struct cell, a), .nrefs = 1,
                                        .freelist = 4};
/* A variable-sized pointer-free type with a free list per length. */
static const struct gcl_type fl_var_type = {.name = "fl-bytes", .size = sizeof(struct gcl_varobject),
                                            .item_size = 8, .flags = GCL_TYPE_VAR, .freelist = 2};

static void setup(void) {
  cr_assert_eq(gcl_heap_init(), 0);
  gcl_freelists_enable(true);
}

static uint64_t live_now(void) {
  struct gcl_verify_result r;
  gcl_verify_heap(&r);
  cr_assert_eq(r.errors, 0, "oracle: %s", gcl_verify_first_error());
  return r.live;
}

static void count_block(void *mem, size_t bytes, void *ctx) { (void)mem, (void)bytes, ++*(uint64_t *)ctx; }
static uint64_t blocks_now(void) {
  uint64_t n = 0;
  gcl_allocator_walk(count_block, &n);
  return n;
}

static struct gcl_heap_stats stats_now(void) {
  struct gcl_heap_stats s;
  gcl_stats_snapshot(&s);
  return s;
}

/* --- immortal objects --------------------------------------------------------------- */

Test(immortal, never_freed_nor_collected_and_counted_once, .init = setup, .timeout = 60) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *o = gcl_new(m, &cell_type);
  gcl_make_immortal(m, o);
  uintptr_t before = o->gcl_word;
  struct gcl_object *child = gcl_new(m, &cell_type);
  gcl_store_move(m, o, &CELL(o)->a, child); /* reachable only from the immortal */
  for (int i = 0; i < 1000; i++) gcl_retain(m, o);
  for (int i = 0; i < 5000; i++) gcl_release(m, o); /* more releases than references */
  struct gcl_object *holder = gcl_new(m, &cell_type);
  gcl_store(m, holder, &CELL(holder)->a, o);
  gcl_release(m, holder); /* drops a slot's reference to o */
  if (GCL_RC_IMMORTAL_CHECK && gcl_rc_kind() != GCL_RC_BIASED)
    cr_assert_eq(o->gcl_word, before, "an immortal count was touched: %#lx", (unsigned long)o->gcl_word);
  gcl_collect(m, -1);
  cr_assert_eq(live_now(), 2, "the immortal object and its child live");
  CELL(o)->value = 42; /* still a valid object (ASan) */
  gcl_thread_detach(m);
  gcl_heap_finish();
  struct gcl_heap_stats s = stats_now();
  cr_assert_eq(s.objects_immortal, 1);
  cr_assert_eq(s.objects_allocated, 3);
  cr_assert_eq(s.objects_freed, 1, "only holder died");
  cr_assert_eq(live_now(), 2, "nothing immortal is freed at heap finish");
  /* objects_leaked as the runner writes it: the child is referenced by the immortal one. */
  cr_assert_eq(s.objects_allocated - s.objects_freed - s.objects_immortal, 1);
}

struct shared_immortal {
  struct gcl_object *o; /* the immortal object */
  pthread_barrier_t go; /* every thread starts together */
};

static void *hammer(void *arg) {
  struct shared_immortal *sh = arg;
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_blocking_enter(m);
  pthread_barrier_wait(&sh->go);
  gcl_blocking_leave(m);
  for (int i = 0; i < 20000; i++) {
    gcl_retain(m, sh->o);
    gcl_release(m, sh->o);
    gcl_release(m, sh->o); /* one more than taken: a no-op on an immortal object */
    if (i % 256 == 0) gcl_safepoint(m);
  }
  gcl_thread_detach(m);
  return NULL;
}

Test(immortal, shared_between_threads, .init = setup, .timeout = 120) {
  if (gcl_rc_kind() == GCL_RC_PLAIN) cr_skip_test("rc-plain runs one thread");
  struct gcl_mutator *m = gcl_thread_attach();
  struct shared_immortal sh;
  sh.o = gcl_new(m, &cell_type);
  gcl_make_immortal(m, sh.o);
  gcl_share(m, sh.o);
  uintptr_t before = sh.o->gcl_word;
  pthread_barrier_init(&sh.go, NULL, 4);
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, hammer, &sh);
  gcl_blocking_enter(m);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  gcl_blocking_leave(m);
  if (GCL_RC_IMMORTAL_CHECK && gcl_rc_kind() != GCL_RC_BIASED) cr_assert_eq(sh.o->gcl_word, before);
  gcl_collect(m, -1);
  cr_assert_eq(live_now(), 1);
  gcl_thread_detach(m);
  gcl_heap_finish();
  cr_assert_eq(live_now(), 1);
  pthread_barrier_destroy(&sh.go);
}

/* --- free lists ---------------------------------------------------------------------- */

Test(freelist, reuses_up_to_capacity_and_counts, .init = setup, .timeout = 60) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *o[6];
  for (int i = 0; i < 6; i++) o[i] = gcl_new(m, &fl_type);
  for (int i = 0; i < 6; i++) gcl_release(m, o[i]);
  cr_assert_eq(m->stats.freelist_parked, GCL_FREELISTS ? 4u : 0u, "a list keeps at most its capacity");
  cr_assert_eq(m->stats.objects_freed, 6, "a parked object counts as freed");
  struct gcl_object *p = gcl_new(m, &fl_type);
  if (GCL_FREELISTS) {
    cr_assert_eq(p, o[3], "the last parked object (the 4th) is handed out first");
    cr_assert_eq(m->stats.freelist_reused, 1);
  }
  cr_assert_null(CELL(p)->a, "a reused object is zeroed");
  struct gcl_object *q = gcl_new(m, &cell_type); /* another type: never from the list */
  for (int i = 0; i < 3; i++) cr_assert_neq(q, o[i], "another type got a parked object");
  /* Variable-sized: one list per length. */
  struct gcl_object *v3 = gcl_new_var(m, &fl_var_type, 3), *v5 = gcl_new_var(m, &fl_var_type, 5);
  gcl_release(m, v3);
  gcl_release(m, v5);
  struct gcl_object *w5 = gcl_new_var(m, &fl_var_type, 5);
  if (GCL_FREELISTS) cr_assert_eq(w5, v5, "the length-5 list serves length 5");
  cr_assert_eq(((struct gcl_varobject *)w5)->len, 5);
  /* A shared object never goes onto a list. */
  struct gcl_object *s = gcl_new(m, &fl_type);
  gcl_share(m, s);
  uint64_t parked = m->stats.freelist_parked;
  gcl_release(m, s);
  cr_assert_eq(m->stats.freelist_parked, parked, "a shared object was parked");
  gcl_release(m, p);
  gcl_release(m, q);
  gcl_release(m, w5);
  cr_assert_eq(live_now(), 0);
  gcl_thread_detach(m);
  gcl_heap_finish();
  struct gcl_heap_stats st = stats_now();
  cr_assert_eq(st.objects_allocated, st.objects_freed);
  cr_assert_eq(st.freelist_parked, st.freelist_reused + st.freelist_released, "lists emptied");
  cr_assert_eq(gcl_freelists_live_tables(), 0);
  cr_assert_eq(gcl_verify_parked(), 0);
  cr_assert_eq(blocks_now(), 0, "the lists' memory went back to the pool");
}

Test(freelist, verifier_refuses_double_free, .init = setup, .timeout = 60) {
  if (!GCL_FREELISTS) cr_skip_test("free lists are compiled out");
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *o = gcl_new(m, &fl_type);
  gcl_release(m, o);
  cr_assert_eq(gcl_verify_errors(), 0);
  gcl_free_object(m, o); /* behind the collector's back: freed twice */
  cr_assert_gt(gcl_verify_errors(), 0, "a double free onto a free list went unseen");
  cr_assert_eq(m->stats.freelist_parked, 1, "the second free must not park it again");
  gcl_thread_detach(m); /* ends: the list holds o once */
}

Test(freelist, verifier_sees_a_live_object_handed_out, .init = setup, .timeout = 60) {
  if (!GCL_FREELISTS) cr_skip_test("free lists are compiled out");
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *d = gcl_new(m, &fl_type), *live = gcl_new(m, &fl_type);
  gcl_release(m, d); /* creates the list, parks d */
  struct gcl_freelist *l = gcl_freelist_find(m->freelists, &fl_type, GCL_COLLECTOR_PREFIX_SIZE + sizeof(struct cell));
  cr_assert_not_null(l);
  l->head = live; /* a corrupt list: its head is a live object */
  live->gcl_word = 0;
  l->count = 1;
  struct gcl_object *n = gcl_new(m, &fl_type);
  cr_assert_eq(n, live);
  cr_assert_gt(gcl_verify_errors(), 0, "the verifier missed a live object handed out");
  cr_assert(strstr(gcl_verify_first_error(), "live object") != NULL, "%s", gcl_verify_first_error());
}

struct churner {
  int rounds; /* objects made and dropped */
};

static void *churn(void *arg) {
  struct churner *c = arg;
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *keep[8] = {0};
  for (int i = 0; i < c->rounds; i++) {
    struct gcl_object *o = i % 3 ? gcl_new(m, &fl_type) : gcl_new_var(m, &fl_var_type, (size_t)(i % 7));
    if (i % 3) CELL(o)->value = (uint64_t)i;
    int k = i % 8;
    gcl_release(m, keep[k]);
    keep[k] = o;
    if (i % 64 == 0) gcl_safepoint(m);
  }
  for (int k = 0; k < 8; k++) gcl_release(m, keep[k]); /* onto the lists, mostly */
  uint64_t parked_now = 0;
  for (unsigned s = 0; m->freelists && s < GCL_FREELIST_SLOTS; s++) parked_now += m->freelists->slot[s].count;
  cr_assert_eq(parked_now > 0, GCL_FREELISTS != 0, "the thread exits with parked objects");
  gcl_thread_detach(m); /* they go back to the allocator */
  return NULL;
}

Test(freelist, threads_exit_with_full_lists, .init = setup, .timeout = 120) {
  unsigned nthreads = gcl_rc_kind() == GCL_RC_PLAIN ? 1 : 4;
  struct churner c = {8000};
  for (int loop = 0; loop < 3; loop++) {
    pthread_t t[4];
    for (unsigned i = 0; i < nthreads; i++) pthread_create(&t[i], NULL, churn, &c);
    for (unsigned i = 0; i < nthreads; i++) pthread_join(t[i], NULL);
  }
  gcl_heap_finish();
  struct gcl_heap_stats st = stats_now();
  cr_assert_eq(gcl_freelists_live_tables(), 0);
  cr_assert_eq(st.freelist_parked, st.freelist_reused + st.freelist_released);
  if (GCL_FREELISTS) cr_assert_gt(st.freelist_released, 0, "threads exited with parked objects");
  cr_assert_eq(gcl_verify_parked(), 0);
  cr_assert_eq(st.objects_allocated, st.objects_freed);
  cr_assert_eq(live_now(), 0);
  cr_assert_eq(blocks_now(), 0, "a thread's lists outlived it");
}

/* pyobjects at conformance's tiny parameters, free lists on, under the verifier: the same
 * checksums as without free lists (tests/conformance), no oracle error, and only the
 * interned objects live at the end. */
Test(freelist, pyobjects_checksums_unchanged, .init = setup, .timeout = 120) {
  const struct gcl_workload *w = gcl_workload_find("pyobjects");
  cr_assert_not_null(w);
  unsigned threads = gcl_rc_kind() == GCL_RC_PLAIN ? 1 : 2;
  struct gcl_workload_ctx ctx = {.workload = w, .scale = 1, .seed = 1, .threads = threads,
                                 .cyclic_garbage = -1};
  for (unsigned i = 0; i < w->nparams; i++)
    ctx.params[i] = strcmp(w->params[i].name, "live") == 0    ? 200
                    : strcmp(w->params[i].name, "steps") == 0 ? 3000
                                                              : -1; /* freelists: as set up */
  cr_assert_eq(w->run(&ctx), 0);
  gcl_heap_finish();
  cr_assert(!ctx.wrong, "%s", ctx.why);
  cr_assert_eq(ctx.checksum, threads == 1 ? 4759429407600593265ull : 1272738539613153695ull);
  struct gcl_heap_stats st = stats_now();
  cr_assert_eq(st.objects_immortal, threads * 774u);
  cr_assert_eq(live_now(), st.objects_immortal, "only the interned objects live");
  if (GCL_FREELISTS) cr_assert_gt(st.freelist_reused, 0, "pyobjects never reused a parked object");
  cr_assert_eq(st.freelist_parked, st.freelist_reused + st.freelist_released);
}
