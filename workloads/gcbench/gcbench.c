/* SPDX-License-Identifier: MIT */
/* workloads/gcbench/gcbench.c — the Ellis–Kovac–Boehm GCBench, run per thread as whippet's
 * mt-gcbench runs it (every mutator thread does the whole benchmark on its own trees).
 *
 * Each thread: build a stretch tree of depth `stretch_depth` bottom-up and drop it; build a
 * long-lived tree of depth `long_lived_depth` top-down and an array of `array_size`
 * doubles (a[i] = 1/i for i < size/2), both kept to the end; then for d = min_depth,
 * min_depth + 2, ... max_depth build round(NumIters(d) * scale) trees of depth d top-down
 * (Populate: allocate the node, then its children) and as many bottom-up (MakeTree:
 * children first, then the node that holds them), each dropped at once. NumIters(d) =
 * 2 * TreeSize(stretch_depth) / TreeSize(d), TreeSize(d) = 2^(d+1) - 1: every depth
 * allocates about the same number of nodes. A node is the 16-byte header, two reference
 * slots and two ints (GCBench's i and j), 40 bytes. Defaults are GCBench's constants.
 *
 * Rooting: every reference a thread holds across an allocation is in a root frame (the
 * node being populated, the children made before their parent, the long-lived tree and
 * the array), so a tracing collector may run at any allocation or safepoint. A thread
 * polls a safepoint at every node whose remaining depth is a positive multiple of 4 (one
 * node in ~30) and after every tree.
 *
 * Checksum: per thread, the node counts of every tree as built (returned by the builders),
 * plus a final walk of the long-lived tree, plus the array's length; summed over threads.
 * Self-checks: the long-lived tree still has TreeSize(long_lived_depth) nodes and
 * a[1000] (or the last half-filled index) still holds 1/i at the end. */
#include <math.h>
#include <stddef.h>

#include "workload.h"

struct node {
  struct gcl_object header; /* common object header */
  struct gcl_object *left;  /* subtree or NULL */
  struct gcl_object *right; /* subtree or NULL */
  int32_t i, j;             /* GCBench's two ints, never read */
};
#define NODE(o) ((struct node *)(o))

static const struct gcl_type node_type = {
    .name = "gcbench-node",
    .size = sizeof(struct node),
    .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct node, left),
    .nrefs = 2, /* left, right */
};

/* The array of doubles: a variable-sized object without references. */
struct darray {
  struct gcl_varobject header; /* common header and length */
  double v[];                  /* the doubles */
};
static const struct gcl_type darray_type = {
    .name = "gcbench-doubles",
    .size = sizeof(struct darray),
    .item_size = sizeof(double),
    .flags = GCL_TYPE_VAR,
};

static const struct gcl_param_def params[] = {
    {"stretch_depth", 18, 2, 26, true, "depth of the stretch tree (also sets NumIters)"},
    {"long_lived_depth", 16, 1, 26, true, "depth of the tree kept for the whole run"},
    {"array_size", 500000, 1, 1e8, true, "doubles in the array kept for the whole run"},
    {"min_depth", 4, 1, 26, true, "depth of the first short-lived trees"},
    {"max_depth", 16, 1, 26, true, "depth of the last short-lived trees"},
};

static inline uint64_t tree_size(int d) { return (UINT64_C(1) << (d + 1)) - 1; }

/* GCBench's Populate: give n (rooted by this frame) two new children, then recurse.
 * Returns the nodes added below n. */
static uint64_t populate(struct gcl_mutator *m, int depth, struct gcl_object *n) {
  if (depth <= 0) return 0;
  GCL_FRAME(m, f, &n);
  gcl_store_move(m, n, &NODE(n)->left, gcl_new(m, &node_type));
  gcl_store_move(m, n, &NODE(n)->right, gcl_new(m, &node_type));
  if (depth % 4 == 0) gcl_safepoint(m);
  uint64_t count = 2 + populate(m, depth - 1, gcl_load(m, n, &NODE(n)->left));
  count += populate(m, depth - 1, gcl_load(m, n, &NODE(n)->right));
  GCL_FRAME_POP(m, f);
  return count;
}

/* GCBench's MakeTree: both subtrees first (each rooted while the other is built), then
 * the node holding them. Returns an owned reference; *count gains the nodes made. */
static struct gcl_object *make_tree(struct gcl_mutator *m, int depth, uint64_t *count) {
  ++*count;
  if (depth <= 0) return gcl_new(m, &node_type);
  struct gcl_object *l = make_tree(m, depth - 1, count), *r = NULL;
  GCL_FRAME(m, f, &l, &r);
  r = make_tree(m, depth - 1, count);
  if (depth % 4 == 0) gcl_safepoint(m);
  struct gcl_object *n = gcl_new(m, &node_type);
  gcl_store_init_move(m, n, &NODE(n)->left, l); /* n is new and unpublished */
  gcl_store_init_move(m, n, &NODE(n)->right, r);
  GCL_FRAME_POP(m, f);
  return n;
}

static uint64_t walk(struct gcl_mutator *m, struct gcl_object *n) {
  if (!n) return 0;
  return 1 + walk(m, gcl_load(m, n, &NODE(n)->left)) + walk(m, gcl_load(m, n, &NODE(n)->right));
}

/* The short-lived trees of depth d: `iters` top-down, then `iters` bottom-up. */
static uint64_t time_construction(struct gcl_mutator *m, int d, long iters) {
  uint64_t sum = 0;
  struct gcl_object *t = NULL;
  GCL_FRAME(m, f, &t);
  /* Invariant: t holds no tree between iterations; each tree is dropped whole. */
  for (long i = 0; i < iters; i++) {
    t = gcl_new(m, &node_type);
    sum += 1 + populate(m, d, t);
    gcl_frame_release(m, &t); /* clears it first: the frame rule */
    gcl_safepoint(m);
  }
  for (long i = 0; i < iters; i++) {
    t = make_tree(m, d, &sum);
    gcl_frame_release(m, &t); /* clears it first: the frame rule */
    gcl_safepoint(m);
  }
  GCL_FRAME_POP(m, f);
  return sum;
}

static uint64_t thread_body(struct gcl_mutator *m, struct gcl_workload_ctx *ctx, unsigned index,
                            void *arg) {
  (void)arg, (void)index;
  int stretch = (int)gcl_param(ctx, "stretch_depth"), ll = (int)gcl_param(ctx, "long_lived_depth");
  int dmin = (int)gcl_param(ctx, "min_depth"), dmax = (int)gcl_param(ctx, "max_depth");
  size_t asize = (size_t)gcl_param(ctx, "array_size");
  uint64_t sum = 0;

  struct gcl_object *t = make_tree(m, stretch, &sum);
  gcl_release(m, t);

  struct gcl_object *long_lived = gcl_new(m, &node_type), *array = NULL;
  GCL_FRAME(m, f, &long_lived, &array);
  sum += 1 + populate(m, ll, long_lived);
  array = gcl_new_var(m, &darray_type, asize);
  struct darray *a = (struct darray *)array;
  for (size_t i = 1; i < asize / 2; i++) a->v[i] = 1.0 / (double)i;
  sum += asize;
  gcl_checkpoint(m);

  for (int d = dmin; d <= dmax; d += 2) {
    long iters = lround(ctx->scale * (double)(2 * tree_size(stretch) / tree_size(d)));
    sum += time_construction(m, d, iters < 1 ? 1 : iters);
    gcl_checkpoint(m);
  }

  a = (struct darray *)array; /* reread from its root after the collections */
  uint64_t ll_nodes = walk(m, long_lived);
  if (ll_nodes != tree_size(ll))
    gcl_workload_fail(ctx, "long-lived tree has %llu nodes, expected %llu",
                      (unsigned long long)ll_nodes, (unsigned long long)tree_size(ll));
  size_t probe = asize / 2 > 1000 ? 1000 : asize / 2 - 1;
  if (probe >= 1 && a->v[probe] != 1.0 / (double)probe)
    gcl_workload_fail(ctx, "array[%zu] = %g, expected 1/%zu", probe, a->v[probe], probe);
  sum += ll_nodes;
  GCL_FRAME_POP(m, f);
  gcl_release(m, long_lived);
  gcl_release(m, array);
  return sum;
}

static int run(struct gcl_workload_ctx *ctx) {
  if (gcl_param(ctx, "min_depth") > gcl_param(ctx, "max_depth")) {
    gcl_workload_fail(ctx, "min_depth %g exceeds max_depth %g", gcl_param(ctx, "min_depth"),
                      gcl_param(ctx, "max_depth"));
    return 0;
  }
  ctx->checksum = gcl_run_threads(ctx, thread_body, NULL);
  return 0;
}

const struct gcl_workload gcl_workload_gcbench = {
    .name = "gcbench",
    .description = "Ellis-Kovac-Boehm GCBench per thread (mt-gcbench): stretch, long-lived and "
                   "top-down/bottom-up trees, an array of doubles",
    .params = params,
    .nparams = GCL_COUNT(params),
    .run = run,
};
