/* SPDX-License-Identifier: MIT */
/* workloads/pyheap/pyheap-internal.h — what the files of the pyheap workload share: the
 * rebuilt object's layout, the replay plan (the snapshot's region decomposition, read-only
 * once the threads run) and the pure-RC model (struct shadow, one per thread).
 * Files: pyheap.c (types, building, the rounds, parameters and figures; its top comment
 * has the algorithm and invariants), pyheap-plan.c (the plan), pyheap-shadow.c (the
 * model), snapshot.c (the file reader).
 * Invariants: written at each struct. No macros change this header. */
#ifndef GCL_PYHEAP_INTERNAL_H
#define GCL_PYHEAP_INTERNAL_H

#include <stdint.h>

#include "snapshot.h"
#include "workload.h"

#define NONE UINT32_MAX /* no region / no parent / no free id */

/* One rebuilt CPython object. */
struct pyobj {
  struct gcl_varobject var;  /* common header; len = words in slot[] (references + padding) */
  uint32_t index;            /* the snapshot object it copies */
  uint32_t nrefs;            /* reference slots at the start of slot[] */
  struct gcl_object *slot[]; /* nrefs references, then padding words */
};

/* The root table: one slot per region root. */
struct root_table {
  struct gcl_varobject var;  /* common header; len = regions */
  struct gcl_object *slot[]; /* current copy of each region's root */
};

#define PYOBJ(o) ((struct pyobj *)(o))
#define TABLE(o) ((struct root_table *)(o))

/* What every thread replays: the snapshot and its region decomposition (read-only). */
struct plan {
  struct gcl_pyheap h;        /* the snapshot */
  uint32_t nregions;          /* roots = regions */
  uint32_t *region_of;        /* per object: its region, NONE if unreachable */
  uint32_t *parent;           /* per object: BFS parent, NONE for a root or unreachable */
  uint32_t *tree_slot;        /* per object: the parent's reference slot that is the tree edge */
  uint32_t *region_start;     /* nregions + 1 offsets into region_nodes */
  uint32_t *region_nodes;     /* each region's objects in BFS order, its root first */
  uint32_t *in_start;         /* nregions + 1 offsets into in_src/in_slot */
  uint32_t *in_src;           /* references into a region from other regions: the source, */
  uint32_t *in_slot;          /* and which of its slots */
  uint32_t *words;            /* per object: slot[] words of its copy */
  uint32_t reachable;         /* objects in some region (rebuilt) */
  uint32_t reachable_tracked; /* of which tracked */
  uint64_t rounds;            /* rounds per thread */
  uint32_t churn_threshold;   /* a region is rebuilt when a 32-bit draw is below this */
  double *collect_ns;         /* threads x rounds: each timed collection / tracked objects */
  double *collect_cpu_ns;     /* the same with the collecting thread's CPU time */
};

/* A model of pure reference counting over the copies, kept beside the heap so that the
 * workload knows exactly how many copies pure RC leaks (ctx->cyclic_garbage) whatever the
 * collector, and how many tracked copies each round leaves to the cycle collector. Every
 * copy has an id; the model mirrors each reference the workload creates or drops. Ids of
 * dead copies are reused for new copies of the same snapshot object (they have as many
 * edges), so the model grows only with live-or-leaked copies. */
struct shadow {
  uint32_t *rc;               /* per id: references to the copy (0: dead, its id is free) */
  uint32_t *of;               /* per id: the snapshot object it copies */
  uint64_t *base;             /* per id: its edges are edges[base .. base + nrefs) */
  uint32_t *next_free;        /* per id: next free id of the same snapshot object */
  uint32_t *free_head;        /* per snapshot object: a free id, or NONE */
  uint32_t *edges;            /* target ids */
  uint32_t *stack;            /* worklist of ids whose count hit zero */
  uint64_t nids, cap_ids;     /* ids in use, allocated */
  uint64_t nedges, cap_edges; /* edge entries in use, allocated */
  uint64_t depth, cap_stack;  /* worklist depth, allocated */
  uint64_t tracked;           /* copies of tracked objects with rc > 0 */
  uint64_t alive;             /* copies with rc > 0 */
  uint64_t stamped;           /* leaked copies already stamped with gcl_garbage_made */
};

static inline uint64_t mix(uint64_t sum, uint64_t v) {
  return (sum ^ v) * 0x100000001B3ull + 0x9E3779B97F4A7C15ull;
}

/* pyheap-plan.c: calloc that ends the run as out of memory on failure; the plan of a
 * loaded snapshot (p->h set), and its release (the snapshot's too). */
void *pyheap_alloc(size_t n, size_t size);
void pyheap_make_plan(struct plan *p);
void pyheap_free_plan(struct plan *p);

/* pyheap-shadow.c: a new copy of snapshot object i, owned by one reference (its id); drop
 * one reference to id (a copy whose count hits zero drops its edges); stamp what pure RC
 * leaked since the last stamp, `live` copies being reachable, as made at since_ns (when the
 * rebuild began); copies still counted; free. */
uint32_t pyheap_shadow_new(struct shadow *sh, const struct plan *p, uint32_t i);
void pyheap_shadow_release(struct shadow *sh, const struct plan *p, uint32_t id);
void pyheap_shadow_stamp(struct shadow *sh, uint64_t live, uint64_t since_ns);
uint64_t pyheap_shadow_leaked(const struct shadow *sh);
void pyheap_shadow_free(struct shadow *sh);

#endif
