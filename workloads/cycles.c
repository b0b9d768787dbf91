/* SPDX-License-Identifier: MIT */
/* workloads/cycles.c — cyclic garbage whose size the workload knows exactly.
 *
 * Each thread builds `rounds * scale` structures, one per round, walks each one (checking
 * its shape) and drops it:
 *  - a ring: a singly linked cycle of 2..ring_max nodes (uniform);
 *  - a doubly linked list of 2..list_len nodes (uniform), next/prev, not closed: every
 *    adjacent pair is a two-node cycle;
 *  - with probability acyclic_pct, an acyclic chain of 1..ring_max nodes instead.
 * Rings and lists are equally likely among the cyclic structures. Structures hold nothing
 * but their own nodes, so every node of a dropped ring or list is unreachable and on a
 * cycle (pure RC leaks exactly those), and no node of a chain is.
 *
 * `keep` slots of a per-thread keep table hold cyclic structures alive for longer: one
 * cyclic structure in KEEP_ONE_IN replaces a random slot instead of being dropped at once
 * (the old occupant, if any, becomes garbage then), and the table is dropped at the end,
 * turning the survivors into garbage too. Checkpoints (every rounds/CYCLES_PHASES rounds)
 * walk the kept structures again, so the oracle and the shape checks see long-lived
 * cycles next to fresh cyclic garbage.
 *
 * ctx->cyclic_garbage = the number of nodes of every ring and list that became
 * unreachable, summed over threads (atomic add at thread end): exact, since structures
 * share no nodes. Chain nodes and the keep table never count. Each such node is also
 * stamped with gcl_garbage_made just before the release or overwrite that makes it
 * garbage (core/garbage.h: outstanding cyclic garbage), so the stamps sum to it.
 *
 * Checksum (per thread, summed): for every walk of a structure, its node count plus the sum
 * of its nodes' values (random, written at creation). It depends only on (params, scale,
 * seed, threads).
 *
 * Defaults: acyclic_pct 67 makes about a third of the garbage objects cyclic, the case
 * REFERENCE.md quotes for CPython's collector. At scale 1 a thread allocates ~29 M nodes
 * in ~1 s (rc-plain x sys); a collector that does not collect cycles (pure RC) keeps
 * ~9.8 M of them, about 460 MB of RSS per thread with malloc: lower scale or rounds on a
 * small machine. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "garbage.h"
#include "workload.h"

#define CYCLES_PHASES 8    /* checkpoints during the rounds */
#define KEEP_ONE_IN 16     /* one cyclic structure in this many goes to the keep table */

/* A ring or chain node. */
struct ring_node {
  struct gcl_object header; /* common object header */
  struct gcl_object *next;  /* next node; the head again at a ring's end; NULL ends a chain */
  uint64_t value;           /* random, written at creation */
};

/* A doubly linked list node. */
struct list_node {
  struct gcl_object header; /* common object header */
  struct gcl_object *next;  /* next node, NULL at the tail */
  struct gcl_object *prev;  /* previous node, NULL at the head */
  uint64_t value;           /* random, written at creation */
};

/* The per-thread keep table: heads of kept rings and lists. */
struct keep_table {
  struct gcl_varobject var;  /* common header and slot count */
  struct gcl_object *slot[]; /* a kept structure's head, or NULL */
};

#define RING(o) ((struct ring_node *)(o))
#define LIST(o) ((struct list_node *)(o))
#define KEEP(o) ((struct keep_table *)(o))

static const struct gcl_type ring_type = {
    .name = "cycles-ring-node",
    .size = sizeof(struct ring_node),
    .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct ring_node, next),
    .nrefs = 1, /* next */
};

static const struct gcl_type list_type = {
    .name = "cycles-list-node",
    .size = sizeof(struct list_node),
    .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct list_node, next),
    .nrefs = 2, /* next, prev */
};

static const struct gcl_type keep_type = {
    .name = "cycles-keep-table",
    .size = sizeof(struct keep_table),
    .item_size = sizeof(struct gcl_object *),
    .flags = GCL_TYPE_VAR | GCL_TYPE_CONTAINER | GCL_TYPE_REF_ITEMS,
    .ref_offset = offsetof(struct keep_table, slot),
};

enum shape { SHAPE_RING, SHAPE_LIST, SHAPE_CHAIN };

struct cycles_thread {
  struct gcl_workload_ctx *ctx; /* for the wrong flag */
  struct gcl_rng rng;           /* this thread's stream */
  uint64_t sum;                 /* checksum so far */
  int64_t cyclic;               /* nodes of rings and lists made unreachable so far */
};

/* --- building: each returns an owned reference to the head ------------------------------ */

/* A ring of n >= 2 nodes, or with close == false an acyclic chain of n >= 1 nodes. */
static struct gcl_object *build_ring(struct gcl_mutator *m, struct cycles_thread *t, size_t n,
                                     bool close) {
  struct gcl_object *head = NULL, *tail = NULL, *node = NULL;
  GCL_FRAME(m, f, &head, &tail, &node);
  head = gcl_new(m, &ring_type);
  RING(head)->value = gcl_rng_next(&t->rng);
  tail = head;
  /* Invariant: head..tail is a chain of i nodes; the chain owns all but head, which is
   * ours; tail is borrowed. */
  for (size_t i = 1; i < n; i++) {
    gcl_poll(m);
    node = gcl_new(m, &ring_type);
    RING(node)->value = gcl_rng_next(&t->rng);
    gcl_store_move(m, tail, &RING(tail)->next, node);
    tail = node;
    node = NULL;
  }
  if (close) gcl_store(m, tail, &RING(tail)->next, head);
  tail = NULL;
  GCL_FRAME_POP(m, f);
  return head;
}

/* A doubly linked list of n >= 2 nodes. */
static struct gcl_object *build_list(struct gcl_mutator *m, struct cycles_thread *t, size_t n) {
  struct gcl_object *head = NULL, *tail = NULL, *node = NULL;
  GCL_FRAME(m, f, &head, &tail, &node);
  head = gcl_new(m, &list_type);
  LIST(head)->value = gcl_rng_next(&t->rng);
  tail = head;
  /* Invariant as in build_ring; prev links hold their own references. */
  for (size_t i = 1; i < n; i++) {
    gcl_poll(m);
    node = gcl_new(m, &list_type);
    LIST(node)->value = gcl_rng_next(&t->rng);
    gcl_store(m, node, &LIST(node)->prev, tail);
    gcl_store_move(m, tail, &LIST(tail)->next, node);
    tail = node;
    node = NULL;
  }
  tail = NULL;
  GCL_FRAME_POP(m, f);
  return head;
}

/* --- walking: check the shape, add to the checksum -------------------------------------- */

static void walk(struct gcl_mutator *m, struct cycles_thread *t, struct gcl_object *head,
                 enum shape s, size_t n) {
  size_t count = 0;
  uint64_t sum = 0;
  if (s == SHAPE_LIST) {
    struct gcl_object *o = head, *last = NULL;
    for (; o && count <= n; o = gcl_load(m, o, &LIST(o)->next)) {
      if (gcl_load(m, o, &LIST(o)->prev) != last) {
        gcl_workload_fail(t->ctx, "a list's prev link does not match (expected %zu nodes, walked %zu)", n,
                          count);
        return;
      }
      sum += LIST(o)->value;
      last = o;
      count++;
    }
  } else {
    struct gcl_object *o = head;
    do {
      sum += RING(o)->value;
      count++;
      o = gcl_load(m, o, &RING(o)->next);
    } while (o && o != head && count <= n);
    if ((s == SHAPE_RING) != (o == head)) {
      gcl_workload_fail(t->ctx, "%s (expected %zu nodes, walked %zu)",
                        s == SHAPE_RING ? "a ring is not closed" : "a chain is closed", n, count);
      return;
    }
  }
  if (count != n)
    gcl_workload_fail(t->ctx, "a structure has the wrong length (expected %zu nodes, walked %zu)", n, count);
  t->sum += count + sum;
}

/* Shape and length of a kept structure, kept outside the heap. */
struct kept {
  enum shape shape; /* SHAPE_RING or SHAPE_LIST */
  size_t n;         /* nodes, 0: empty slot */
};

static uint64_t thread_body(struct gcl_mutator *m, struct gcl_workload_ctx *ctx, unsigned index,
                            void *arg) {
  (void)arg;
  struct cycles_thread t = {.ctx = ctx};
  gcl_rng_seed(&t.rng, ctx->seed, index);
  double total = gcl_param(ctx, "rounds") * ctx->scale;
  uint64_t rounds = total < 1 ? 1 : (uint64_t)llround(total);
  size_t ring_max = (size_t)gcl_param(ctx, "ring_max");
  size_t list_len = (size_t)gcl_param(ctx, "list_len");
  unsigned acyclic_pct = (unsigned)gcl_param(ctx, "acyclic_pct");
  size_t nkeep = (size_t)gcl_param(ctx, "keep");
  struct kept *kept = calloc(nkeep ? nkeep : 1, sizeof *kept);
  if (!kept) gcl_alloc_failed(nkeep * sizeof *kept);

  struct gcl_object *keep = gcl_new_var(m, &keep_type, nkeep);
  struct gcl_object *head = NULL;
  GCL_FRAME(m, f, &keep, &head);

  uint64_t done = 0;
  for (unsigned p = 0; p < CYCLES_PHASES; p++) {
    uint64_t end = rounds * (p + 1) / CYCLES_PHASES;
    for (; done < end; done++) {
      enum shape s;
      size_t n;
      if (gcl_rng_below(&t.rng, 100) < acyclic_pct) {
        s = SHAPE_CHAIN;
        n = 1 + gcl_rng_below(&t.rng, ring_max);
        head = build_ring(m, &t, n, false);
      } else if (gcl_rng_below(&t.rng, 2) == 0) {
        s = SHAPE_RING;
        n = 2 + gcl_rng_below(&t.rng, ring_max - 1);
        head = build_ring(m, &t, n, true);
      } else {
        s = SHAPE_LIST;
        n = 2 + gcl_rng_below(&t.rng, list_len - 1);
        head = build_list(m, &t, n);
      }
      walk(m, &t, head, s, n);
      if (s != SHAPE_CHAIN && nkeep > 0 && gcl_rng_below(&t.rng, KEEP_ONE_IN) == 0) {
        size_t k = gcl_rng_below(&t.rng, nkeep);
        t.cyclic += (int64_t)kept[k].n; /* the old occupant (if any) becomes garbage */
        gcl_garbage_made(kept[k].n);
        kept[k] = (struct kept){s, n};
        gcl_store_move(m, keep, &KEEP(keep)->slot[k], head);
      } else {
        if (s != SHAPE_CHAIN) {
          t.cyclic += (int64_t)n;
          gcl_garbage_made(n);
        }
        gcl_frame_release(m, &head); /* clears it first: the frame rule */
      }
      head = NULL;
      gcl_safepoint(m);
    }
    gcl_checkpoint(m);
    for (size_t k = 0; k < nkeep; k++)
      if (kept[k].n) walk(m, &t, gcl_load(m, keep, &KEEP(keep)->slot[k]), kept[k].shape, kept[k].n);
  }

  /* Drop the keep table: every kept structure becomes cyclic garbage. */
  uint64_t kept_nodes = 0;
  for (size_t k = 0; k < nkeep; k++) kept_nodes += kept[k].n;
  t.cyclic += (int64_t)kept_nodes;
  gcl_garbage_made(kept_nodes);
  GCL_FRAME_POP(m, f);
  gcl_release(m, keep);
  free(kept);
  __atomic_fetch_add(&ctx->cyclic_garbage, t.cyclic, __ATOMIC_RELAXED);
  return t.sum;
}

static const struct gcl_param_def params[] = {
    {"rounds", 900000, 1, 1e12, true, "structures built and dropped per thread at scale 1"},
    {"ring_max", 64, 2, 1e6, true, "longest ring and chain (rings have 2..ring_max nodes)"},
    {"list_len", 64, 2, 1e6, true, "longest doubly linked list (2..list_len nodes)"},
    {"acyclic_pct", 67, 0, 100, true, "percent of structures that are acyclic chains"},
    {"keep", 16, 0, 1e6, true, "cyclic structures each thread keeps alive for longer"},
};

static int run(struct gcl_workload_ctx *ctx) {
  ctx->cyclic_garbage = 0;
  ctx->checksum = gcl_run_threads(ctx, thread_body, NULL);
  return 0;
}

const struct gcl_workload gcl_workload_cycles = {
    .name = "cycles",
    .description = "rings and doubly linked lists dropped as cyclic garbage, counted exactly",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .run = run,
};
