/* SPDX-License-Identifier: MIT */
/* tests/unit/test-frame-rule.c — the verifier enforces the frame rule (core/mutator.h: no
 * root frame names an object that is dying or freed), which is what makes core/heap.c's
 * drain poll safe under brc, whose collection marks from root frames.
 *
 * Each test plays a deliberately broken (or a correct) workload on one thread, under brc x
 * segment with the verifier built in, and reads the oracle's error count and first message:
 *  - a framed local released before it is cleared (what binary-trees did until issue 8):
 *    caught when the drain starts, whatever the structure's size;
 *  - the same through gcl_frame_release (clears, then releases): no error;
 *  - a framed borrowed reference to a child that dies in the middle of a long drain (its
 *    parent is released, not it): caught at the drain's poll, which the verifier runs every
 *    GCL_DEALLOC_POLL_EVERY frees whether or not a stop is requested;
 *  - a frame popped before the release (the other correct form): no error.
 * Each Criterion test runs in its own process with its own heap and oracle. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <string.h>

#include "mutator.h"
#include "verify.h"

#define CHAIN 2000 /* links in a chain: several poll intervals of the drain */

struct link {
  struct gcl_object header; /* common header */
  struct gcl_object *next;  /* the rest of the chain or NULL */
};
static const struct gcl_type link_type = {
    .name = "link", .size = sizeof(struct link), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct link, next), .nrefs = 1};

struct pair {
  struct gcl_object header;    /* common header */
  struct gcl_object *first;    /* killed first by the drain: a long chain */
  struct gcl_object *second;   /* a leaf that dies once the chain is freed */
};
static const struct gcl_type pair_type = {
    .name = "pair", .size = sizeof(struct pair), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct pair, first), .nrefs = 2};

/* n links; returns an owned reference to the first. */
static struct gcl_object *make_chain(struct gcl_mutator *m, long n) {
  struct gcl_object *rest = NULL;
  for (long i = 0; i < n; i++) {
    struct gcl_object *l = gcl_new(m, &link_type);
    gcl_store_move(m, l, &((struct link *)l)->next, rest);
    rest = l;
  }
  return rest;
}

static struct gcl_mutator *setup_thread(void) {
  cr_assert_eq(gcl_heap_init(), 0);
  struct gcl_mutator *m = gcl_thread_attach();
  gcl_set_auto_collect(m, false); /* no collection but the oracle's */
  return m;
}

/* The oracle's final word: errors so far, and the heap fully freed. */
static uint64_t finish(struct gcl_mutator *m) {
  struct gcl_verify_result r;
  gcl_verify_heap(&r);
  cr_assert_eq(r.live, 0, "everything was released: %llu objects live", (unsigned long long)r.live);
  gcl_thread_detach(m);
  return r.errors;
}

Test(frame_rule, release_before_clear_is_caught) {
  struct gcl_mutator *m = setup_thread();
  struct gcl_object *chain = make_chain(m, CHAIN);
  GCL_FRAME(m, f, &chain);
  gcl_release(m, chain); /* broken: the frame still names the chain while it is freed */
  chain = NULL;
  GCL_FRAME_POP(m, f);
  cr_assert_geq(finish(m), 1, "the verifier missed a framed local released before cleared");
  cr_assert(strstr(gcl_verify_first_error(), "frame rule") &&
                strstr(gcl_verify_first_error(), "dying"),
            "first error: %s", gcl_verify_first_error());
}

Test(frame_rule, frame_release_is_clean) {
  struct gcl_mutator *m = setup_thread();
  struct gcl_object *chain = make_chain(m, CHAIN);
  GCL_FRAME(m, f, &chain);
  gcl_frame_release(m, &chain);
  cr_assert_null(chain, "gcl_frame_release clears the local");
  GCL_FRAME_POP(m, f);
  cr_assert_eq(finish(m), 0, "oracle: %s", gcl_verify_first_error());
}

Test(frame_rule, borrowed_child_dying_mid_drain_is_caught) {
  struct gcl_mutator *m = setup_thread();
  struct gcl_object *p = gcl_new(m, &pair_type);
  gcl_store_move(m, p, &((struct pair *)p)->first, make_chain(m, CHAIN));
  gcl_store_move(m, p, &((struct pair *)p)->second, gcl_new(m, &link_type));
  struct gcl_object *child = gcl_load(m, p, &((struct pair *)p)->second); /* borrowed */
  GCL_FRAME(m, f, &child);
  gcl_release(m, p); /* broken: child dies inside this drain while the frame names it */
  child = NULL;
  GCL_FRAME_POP(m, f);
  cr_assert_geq(finish(m), 1, "the verifier missed a framed borrowed reference dying mid-drain");
  cr_assert(strstr(gcl_verify_first_error(), "frame rule"), "first error: %s",
            gcl_verify_first_error());
}

Test(frame_rule, popped_frame_is_clean) {
  struct gcl_mutator *m = setup_thread();
  struct gcl_object *p = gcl_new(m, &pair_type);
  gcl_store_move(m, p, &((struct pair *)p)->first, make_chain(m, CHAIN));
  struct gcl_object *child = gcl_load(m, p, &((struct pair *)p)->first);
  GCL_FRAME(m, f, &child, &p);
  gcl_poll(m);
  GCL_FRAME_POP(m, f); /* correct: the frame is gone before the release */
  gcl_release(m, p);
  cr_assert_eq(finish(m), 0, "oracle: %s", gcl_verify_first_error());
}
