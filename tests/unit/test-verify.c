/* SPDX-License-Identifier: MIT */
/* tests/unit/test-verify.c — the reachability oracle finds what it promises to find
 * (compiled against a GCL_VERIFY=1 pair library). */
#include <criterion/criterion.h>
#include <stddef.h>

#include "mutator.h"
#include "verify.h"

struct pair {
  struct gcl_object header; /* common header */
  struct gcl_object *a;     /* reference */
  struct gcl_object *b;     /* reference */
};

static const struct gcl_type pair_type = {
    .name = "pair", .size = sizeof(struct pair), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct pair, a), .nrefs = 2};

static void setup(void) { cr_assert_eq(gcl_heap_init(), 0); }

Test(verify, counts_reachable_and_unreachable_objects, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *root = gcl_new(m, &pair_type), *c = gcl_new(m, &pair_type);
  gcl_store_move(m, root, &((struct pair *)root)->a, c);
  struct gcl_object *lost = gcl_new(m, &pair_type); /* unreachable: not in any frame */
  GCL_FRAME(m, f, &root);
  struct gcl_verify_result r;
  gcl_verify_heap(&r);
  cr_assert_eq(r.live, 3);
  cr_assert_eq(r.reachable, 2);
  cr_assert_eq(r.errors, 0);
  GCL_FRAME_POP(m, f);
  gcl_release(m, root);
  gcl_release(m, lost);
  cr_assert_eq(gcl_verify_live(), 0);
  cr_assert_eq(gcl_verify_errors(), 0);
  gcl_thread_detach(m);
}

Test(verify, detects_a_double_free, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  struct gcl_object *o = gcl_new(m, &pair_type);
  gcl_free_object(m, o);
  gcl_free_object(m, o);
  cr_assert_eq(gcl_verify_errors(), 1);
  gcl_thread_detach(m);
}

Test(verify, detects_a_slot_pointing_to_a_non_object, .init = setup) {
  struct gcl_mutator *m = gcl_thread_attach();
  static struct pair not_an_object;
  struct gcl_object *root = gcl_new(m, &pair_type);
  ((struct pair *)root)->b = &not_an_object.header; /* bypasses the API on purpose */
  GCL_FRAME(m, f, &root);
  struct gcl_verify_result r;
  gcl_verify_heap(&r);
  cr_assert_eq(r.errors, 1);
  ((struct pair *)root)->b = NULL;
  GCL_FRAME_POP(m, f);
  gcl_release(m, root);
  gcl_thread_detach(m);
}
