/* SPDX-License-Identifier: MIT */
/* tests/unit/test-store-init.c — initialising stores (gcl_store_init, gcl_store_init_move)
 * and the allocation counters' budget (issue 13), against GCL_VERIFY=1 pair libraries of
 * several collectors (tests/unit/CMakeLists.txt).
 *
 * The verifier must accept an initialising store into a new, unpublished object of this
 * thread and report one into an object that was published (stored into a slot, shared),
 * that another thread allocated, whose slot is not NULL or not inside it; references must
 * be counted as by gcl_store / gcl_store_move (everything freed at the end, nothing
 * leaked). The counters: objects_allocated and bytes_allocated exact after the merge, the
 * live-bytes total back to zero and the peak within one batch of the true peak. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stddef.h>

#include "mutator.h"
#include "verify.h"

struct pair {
  struct gcl_object header; /* common header */
  struct gcl_object *a;     /* reference */
  struct gcl_object *b;     /* reference */
};

#define PAIR(o) ((struct pair *)(o))

static const struct gcl_type pair_type = {
    .name = "pair", .size = sizeof(struct pair), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct pair, a), .nrefs = 2};

static const struct gcl_type bytes_type = {
    .name = "bytes", .size = sizeof(struct gcl_varobject), .item_size = 1, .flags = GCL_TYPE_VAR};

static void setup(void) { cr_assert_eq(gcl_heap_init(), 0); }

static void finish(struct gcl_mutator *m) {
  gcl_thread_detach(m);
  gcl_heap_finish();
}

Test(store_init, fills_new_objects_and_counts_their_references, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *p = gcl_new(m, &pair_type), *q = gcl_new(m, &pair_type);
  struct gcl_object *leaf = gcl_new(m, &pair_type);
  GCL_FRAME(m, f, &p, &q, &leaf);
  gcl_store_init(m, p, &PAIR(p)->a, leaf); /* p and leaf's own reference hold it */
  gcl_store_init_move(m, q, &PAIR(q)->a, leaf); /* leaf's own reference moves into q */
  leaf = NULL;
  gcl_store_init_move(m, q, &PAIR(q)->b, NULL);
  gcl_store_init_move(m, p, &PAIR(p)->b, q); /* q published from here */
  q = NULL;
  gcl_checkpoint(m);
  cr_assert_eq(gcl_verify_errors(), 0, "%s", gcl_verify_first_error());
  struct gcl_verify_result r;
  gcl_verify_heap(&r);
  cr_assert_eq(r.reachable, 3);
  GCL_FRAME_POP(m, f);
  gcl_release(m, p);
  if (gcl_rc_kind() != GCL_RC_NONE) cr_assert_eq(gcl_verify_live(), 0);
  cr_assert_eq(gcl_verify_errors(), 0, "%s", gcl_verify_first_error());
  finish(m);
  struct gcl_heap_stats hs;
  gcl_stats_snapshot(&hs);
  cr_assert_eq(hs.objects_allocated, 3);
  cr_assert_eq(hs.bytes_allocated, 3 * (GCL_COLLECTOR_PREFIX_SIZE + sizeof(struct pair)));
}

Test(store_init, reports_a_store_into_a_published_object, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *p = gcl_new(m, &pair_type), *q = gcl_new(m, &pair_type);
  GCL_FRAME(m, f, &p, &q);
  gcl_store(m, p, &PAIR(p)->a, q); /* q is published */
  gcl_store_init_move(m, q, &PAIR(q)->a, NULL);
  cr_assert_eq(gcl_verify_errors(), 1);
  cr_assert(strstr(gcl_verify_first_error(), "published"), "%s", gcl_verify_first_error());
  GCL_FRAME_POP(m, f);
  gcl_release(m, q);
  gcl_release(m, p);
  finish(m);
}

Test(store_init, reports_a_store_into_a_shared_object, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *p = gcl_new(m, &pair_type);
  GCL_FRAME(m, f, &p);
  gcl_share(m, p);
  gcl_store_init_move(m, p, &PAIR(p)->a, NULL);
  cr_assert_eq(gcl_verify_errors(), 1);
  GCL_FRAME_POP(m, f);
  gcl_release(m, p);
  finish(m);
}

Test(store_init, reports_a_slot_that_is_not_null, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *p = gcl_new(m, &pair_type);
  GCL_FRAME(m, f, &p);
  gcl_store_init_move(m, p, &PAIR(p)->a, NULL);
  cr_assert_eq(gcl_verify_errors(), 0, "%s", gcl_verify_first_error());
  gcl_store_move(m, p, &PAIR(p)->a, gcl_new(m, &pair_type)); /* general store: fine */
  struct gcl_object *old = PAIR(p)->a;
  gcl_store_init_move(m, p, &PAIR(p)->a, old); /* the slot holds old: reported */
  cr_assert_eq(gcl_verify_errors(), 1);
  cr_assert(strstr(gcl_verify_first_error(), "not NULL"), "%s", gcl_verify_first_error());
  GCL_FRAME_POP(m, f);
  gcl_release(m, p);
  finish(m);
}

Test(store_init, reports_a_slot_outside_the_object, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *p = gcl_new(m, &pair_type), *q = gcl_new(m, &pair_type);
  GCL_FRAME(m, f, &p, &q);
  gcl_store_init_move(m, p, &PAIR(q)->a, NULL); /* q's slot, p's store */
  cr_assert_eq(gcl_verify_errors(), 1);
  cr_assert(strstr(gcl_verify_first_error(), "not inside"), "%s", gcl_verify_first_error());
  GCL_FRAME_POP(m, f);
  gcl_release(m, p);
  gcl_release(m, q);
  finish(m);
}

/* Another thread's initialising store into an object the main thread allocated. */
static void *other_thread(void *obj) {
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_store_init_move(m, obj, &PAIR(obj)->a, NULL);
  gcl_thread_detach(m);
  return NULL;
}

Test(store_init, reports_another_threads_object, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *p = gcl_new(m, &pair_type);
  GCL_FRAME(m, f, &p);
  pthread_t t;
  gcl_blocking_enter(m);
  cr_assert_eq(pthread_create(&t, NULL, other_thread, p), 0);
  pthread_join(t, NULL);
  gcl_blocking_leave(m);
  cr_assert_eq(gcl_verify_errors(), 1);
  cr_assert(strstr(gcl_verify_first_error(), "another thread"), "%s", gcl_verify_first_error());
  GCL_FRAME_POP(m, f);
  gcl_release(m, p);
  finish(m);
}

/* Objects of 16..1024 item bytes, several batches' worth, kept in a chain then freed:
 * the counters the budget defers must read exactly what per-allocation updates gave. */
Test(store_init, allocation_counters_are_exact_after_the_merge, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  uint64_t n = 0, bytes = 0;
  int64_t peak = 0, live = 0;
  for (int round = 0; round < 3; round++) {
    struct gcl_object *keep[400];
    for (int i = 0; i < 400; i++) {
      size_t len = 16 + 8 * (size_t)(i * 37 % 127);
      keep[i] = gcl_new_var(m, &bytes_type, len);
      size_t b = GCL_COLLECTOR_PREFIX_SIZE + gcl_type_instance_size(&bytes_type, len);
      n++, bytes += b, live += (int64_t)b;
      if (live > peak) peak = live;
    }
    for (int i = 0; i < 400; i++) {
      live -= (int64_t)(GCL_COLLECTOR_PREFIX_SIZE + gcl_object_size(keep[i]));
      gcl_release(m, keep[i]);
    }
  }
  finish(m);
  struct gcl_heap_stats hs;
  gcl_stats_snapshot(&hs);
  cr_assert_eq(hs.objects_allocated, n);
  cr_assert_eq(hs.bytes_allocated, bytes);
  if (gcl_frees_objects() && gcl_rc_kind() != GCL_RC_NONE) {
    cr_assert_eq(hs.objects_freed, n);
    cr_assert_eq(gcl_stats_live_bytes(), 0);
    cr_assert_geq(hs.peak_heap_bytes, peak - GCL_HEAP_BYTES_BATCH, "peak %lld, true %lld",
                  (long long)hs.peak_heap_bytes, (long long)peak);
    cr_assert_leq(hs.peak_heap_bytes, peak + GCL_HEAP_BYTES_BATCH, "peak %lld, true %lld",
                  (long long)hs.peak_heap_bytes, (long long)peak);
  }
}

/* gcl_new_var_raw: the basic part zeroed, len and the type set (a smoke test: each block
 * is filled with 0xAB after its checks, but the verifier's quarantine keeps freed blocks
 * from being reused within the test, so a missing zeroing shows only where the allocator
 * hands out a dirty block). */
struct valued {
  struct gcl_varobject var; /* common header and item count */
  uint64_t v;               /* must read 0 */
  unsigned char bytes[];    /* not zeroed */
};

static const struct gcl_type valued_type = {
    .name = "valued", .size = sizeof(struct valued), .item_size = 1, .flags = GCL_TYPE_VAR};

Test(store_init, raw_var_objects_zero_their_basic_part, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  for (int i = 0; i < 100; i++) {
    struct gcl_object *o = gcl_new_var_raw(m, &valued_type, 40);
    cr_assert_eq(((struct valued *)o)->var.len, 40);
    cr_assert_eq(((struct valued *)o)->v, 0);
    cr_assert_eq(gcl_type_of(o), &valued_type);
    memset(&((struct valued *)o)->v, 0xAB, sizeof(uint64_t) + 40); /* the payload only */
    gcl_release(m, o);
  }
  finish(m);
  struct gcl_heap_stats hs;
  gcl_stats_snapshot(&hs);
  cr_assert_eq(hs.objects_allocated, 100);
}
