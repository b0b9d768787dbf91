/* SPDX-License-Identifier: MIT */
/* workloads/binary-trees-malloc.c — the binary-trees loop in plain C with malloc/free and
 * no object model: the baseline that measures the framework's own overhead. Same shape,
 * node size (32 bytes: two pointers and two words standing in for the header), parameters,
 * iteration counts and checksum as workloads/binary-trees.c, so a `gclab run` over both
 * gives the ratio side by side. Freeing is recursive (depth <= 27), as in the
 * benchmarks-game C programs. Heap figures are not reported: nothing goes through gclab. */
#include <math.h>
#include <stdlib.h>

#include "workload.h"

struct cnode {
  uintptr_t pad[2];    /* stands in for the 16-byte common header */
  struct cnode *left;  /* subtree or NULL */
  struct cnode *right; /* subtree or NULL */
};

static inline struct cnode *make_tree(int depth) {
  struct cnode *n = malloc(sizeof *n);
  if (!n) gcl_alloc_failed(sizeof *n);
  n->pad[0] = n->pad[1] = 0;
  if (depth > 0) {
    n->left = make_tree(depth - 1);
    n->right = make_tree(depth - 1);
  } else {
    n->left = n->right = NULL;
  }
  return n;
}

static uint64_t check_tree(const struct cnode *n) {
  if (!n->left) return 1;
  return 1 + check_tree(n->left) + check_tree(n->right);
}

static void free_tree(struct cnode *n) {
  if (n->left) {
    free_tree(n->left);
    free_tree(n->right);
  }
  free(n);
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
  struct cnode *tree = make_tree(depth + 1);
  sum += check_tree(tree);
  free_tree(tree);
  struct cnode *long_lived = make_tree(depth);
  for (int d = 4; d <= depth; d += 2) {
    long iters = lround(ldexp(ctx->scale, depth - d + 4));
    if (iters < 1) iters = 1;
    for (long i = 0; i < iters; i++) {
      tree = make_tree(d);
      sum += check_tree(tree);
      free_tree(tree);
      gcl_safepoint(m);
    }
  }
  sum += check_tree(long_lived);
  free_tree(long_lived);
  return sum;
}

static int run(struct gcl_workload_ctx *ctx) {
  ctx->checksum = gcl_run_threads(ctx, thread_body, NULL);
  return 0;
}

const struct gcl_workload gcl_workload_binary_trees_malloc = {
    .name = "binary-trees-malloc",
    .description = "binary-trees in plain C malloc/free: the framework-overhead baseline",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .bypasses_heap = true,
    .run = run,
};
