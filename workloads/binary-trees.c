/* SPDX-License-Identifier: MIT */
/* workloads/binary-trees.c — GCBench / benchmarks-game binary trees.
 *
 * Each thread: build and check a stretch tree of depth+1, keep a long-lived tree of
 * `depth` for the whole run, then for d = 4, 6, ... depth build and check
 * round(2^(depth - d + 4) * scale) short-lived trees of depth d. Trees are built bottom-up;
 * a node is a header and two reference slots (32 bytes with the 16-byte header). Work per
 * thread is constant, so more threads mean proportionally more work (weak scaling).
 *
 * Checksum: the node counts of every checked tree, summed over threads. */
#include <math.h>
#include <stddef.h>

#include "workload.h"

struct node {
  struct gcl_object header; /* common object header */
  struct gcl_object *left;  /* subtree or NULL */
  struct gcl_object *right; /* subtree or NULL */
};

#define NODE(o) ((struct node *)(o))

static const struct gcl_type node_type = {
    .name = "tree-node",
    .size = sizeof(struct node),
    .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, left),
    .nrefs = 2, /* left, right */
};

/* Polls for a stop at every inner node (gcl_poll: one load and branch; leaves are half the
 * nodes and do a node's work between two polls), so time to safepoint is a few nodes'
 * work, not a tree's; every reference that must survive is then in a frame (n, the
 * callers' n, the body's tree and long_lived). */
static inline struct gcl_object *make_tree(struct gcl_mutator *m, int depth) {
  struct gcl_object *n = gcl_new(m, &node_type);
  if (depth > 0) {
    GCL_FRAME(m, f, &n);
    gcl_poll(m);
    /* n is this thread's and unpublished until the caller stores it, and its slots are
     * NULL: initialising stores (no old value to release). */
    struct gcl_object *child = make_tree(m, depth - 1);
    gcl_store_init_move(m, n, &NODE(n)->left, child);
    child = make_tree(m, depth - 1);
    gcl_store_init_move(m, n, &NODE(n)->right, child);
    GCL_FRAME_POP(m, f);
  }
  return n;
}

static uint64_t check_tree(struct gcl_mutator *m, struct gcl_object *n) {
  struct gcl_object *l = gcl_load(m, n, &NODE(n)->left);
  if (!l) return 1;
  gcl_poll(m);
  return 1 + check_tree(m, l) + check_tree(m, gcl_load(m, n, &NODE(n)->right));
}

static const struct gcl_param_def params[] = {
    {"depth", 18, 4, 26, true, "depth of the long-lived tree (the benchmarks-game N)"},
};

static uint64_t thread_body(struct gcl_mutator *m, struct gcl_workload_ctx *ctx, unsigned index,
                            void *arg) {
  (void)arg;
  (void)index;
  int depth = (int)gcl_param(ctx, "depth");
  uint64_t sum = 0;
  struct gcl_object *tree = NULL, *long_lived = NULL;
  GCL_FRAME(m, f, &tree, &long_lived);

  tree = make_tree(m, depth + 1);
  sum += check_tree(m, tree);
  gcl_frame_release(m, &tree); /* clears it first: the frame rule */

  long_lived = make_tree(m, depth);
  for (int d = 4; d <= depth; d += 2) {
    long iters = lround(ldexp(ctx->scale, depth - d + 4));
    if (iters < 1) iters = 1;
    for (long i = 0; i < iters; i++) {
      tree = make_tree(m, d);
      sum += check_tree(m, tree);
      gcl_frame_release(m, &tree); /* clears it first: the frame rule */
      gcl_safepoint(m);
    }
    gcl_checkpoint(m);
  }
  sum += check_tree(m, long_lived);
  gcl_frame_release(m, &long_lived); /* clears it first: the frame rule */
  GCL_FRAME_POP(m, f);
  return sum;
}

static int run(struct gcl_workload_ctx *ctx) {
  ctx->checksum = gcl_run_threads(ctx, thread_body, NULL);
  return 0;
}

const struct gcl_workload gcl_workload_binary_trees = {
    .name = "binary-trees",
    .description = "GCBench binary trees: a long-lived tree and many short-lived ones",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .run = run,
};
