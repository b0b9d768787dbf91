/* SPDX-License-Identifier: MIT */
/* collectors/rc-gen/rc-gen-incremental.c — `--opt rc-gen.policy=3.14`: the incremental
 * cycle collector of CPython 3.14.0-3.14.4 (Python/gc.c: gc_collect_young,
 * gc_collect_increment, gc_collect_full, assess_work_to_do, completed_scavenge), over the
 * same lists, tags and collection steps as the generational policies. Our own code; what
 * is modelled and where it differs is in the README (Policies).
 *
 * Generations: young (every gen0 list, as for 3.12/3.13) and old, which is two spaces:
 * gens[gcl_rcgen.visited] (objects an increment has examined in this pass over the old
 * generation) and the other one, `pending` (not yet examined in this pass). Their tags
 * (126 and 124) tell them apart, so an increment can pull a pending object in when it
 * meets one.
 *
 * An increment (every automatic collection; gcl_collect(m, 1)):
 *  1. work_to_do += young count + min(heap_size / SCAN_RATE_DIVISOR / scale, 1.5 x young
 *     count), scale = max(threshold1, 2), heap_size = tracked objects now; young count := 0;
 *  2. the increment := the whole young generation; then, while its size < work_to_do and
 *     pending is not empty: move pending's first object in, and every pending object
 *     transitively reachable from it (expand, below), each counted;
 *  3. collect the increment (members marked eagerly: the set is not a union of tags); its
 *     survivors go to the visited space;
 *  4. work_to_do += heap_size / SCAN_RATE_DIVISOR / scale (heap_size after step 3), then
 *     work_to_do -= the increment's size;
 *  5. pending empty: the pass is complete (completed_scavenge): the spaces swap roles
 *     (visited := the empty one) and work_to_do := 0.
 * Every step runs with the world stopped, on the collecting thread; the lists are
 * touched without locks for that reason (rc-gen.c's file comment).
 *
 * Macros: SCAN_RATE_DIVISOR (CPython's, 10). */
#include "rc-gen-internal.h"

#define SCAN_RATE_DIVISOR 10

static struct gcl_rcgen_head *space(int i) { return &gcl_rcgen.gens[i].head; }

/* The tags of young objects (every gen0 list). */
static void young_members(bool *members) {
  for (unsigned t = 0; t < GCL_RCGEN_NTAGS; t++) members[t] = false;
  for (unsigned t = 1; t <= GCL_RCGEN_MAX_SLOT; t++) members[t] = true;
  members[GCL_RCGEN_TAG_ORPHAN] = true;
}

static void merge_young(struct gcl_rcgen_head *into) {
  for (unsigned t = 1; t < GCL_RCGEN_NTAGS; t++) list_merge(&gcl_rcgen.gen0_lists[t].head, into);
}

/* completed_scavenge: every old object is pending again, for the next pass. CPython
 * swaps the spaces' meaning when the permanent generation is empty and otherwise moves
 * the visited objects to pending (permanent objects carry the visited bit); our permanent
 * generation has a tag of its own, so swapping is right in both cases. */
static void completed_scavenge(void) {
  GCL_ASSERT_ALWAYS(list_empty(space(3 - gcl_rcgen.visited)));
  gcl_rcgen.visited = 3 - gcl_rcgen.visited;
  gcl_rcgen.work_to_do = 0;
  gcl_rcgen.scavenges++;
}

/* Moving pending objects into an increment (visit_add_to_container). */
struct expand {
  struct gcl_rcgen_head *increment; /* where they go */
  unsigned from_tag, to_tag;        /* pending's tag; the visited space's */
  uint64_t added;                   /* objects moved */
};

static void visit_expand(struct gcl_object **slot, void *ctx) {
  struct expand *x = ctx;
  struct gcl_object *c = __atomic_load_n(slot, __ATOMIC_RELAXED);
  if (!c) return;
  struct gcl_rcgen_head *h = gcl_rcgen_head_of(c);
  if (gcl_rcgen_tag_of(h) != x->from_tag) return; /* young, visited, permanent, untracked */
  gcl_rcgen_unlink(h);
  gcl_rcgen_append(x->increment, h, x->to_tag);
  x->added++;
}

/* expand_region_transitively_reachable: h was just appended to x->increment; move in
 * every pending object reachable from it. Loop invariant: every object from h up to g
 * (exclusive) has been traversed; all pending objects they reference are in the
 * increment, behind g (appended at the tail), so the walk reaches them too. */
static void expand(struct expand *x, struct gcl_rcgen_head *h) {
  for (struct gcl_rcgen_head *g = h; g != x->increment; g = ptr(ld(&g->next)))
    gcl_trace(obj_of(g), visit_expand, x);
}

static int64_t scale_factor(void) {
  int64_t s = gcl_rcgen.gens[1].threshold;
  return s < 2 ? 2 : s;
}

static void collect_increment(struct gcl_mutator *m, struct pass *p) {
  int v = gcl_rcgen.visited;
  struct gcl_rcgen_head *visited = space(v), *pending = space(3 - v);
  unsigned vtag = gcl_rcgen.gens[v].tag;
  int64_t scale = scale_factor();
  /* assess_work_to_do */
  int64_t young_count = gcl_rcgen_gen0_count();
  int64_t heap_fraction = gcl_rcgen_heap_size() / SCAN_RATE_DIVISOR / scale;
  if (heap_fraction > young_count * 3 / 2) heap_fraction = young_count * 3 / 2;
  gcl_rcgen.work_to_do += young_count + heap_fraction;
  gcl_rcgen_reset_counts();

  struct gcl_rcgen_head increment;
  list_init(&increment);
  merge_young(&increment);
  int64_t size = (int64_t)list_size(&increment);
  struct expand x = {&increment, gcl_rcgen.gens[3 - v].tag, vtag, 0};
  /* Invariant: `increment` holds the young generation and, for every pending object
   * taken so far, everything pending it reaches; size counts them all. */
  while (size < gcl_rcgen.work_to_do && !list_empty(pending)) {
    struct gcl_rcgen_head *h = first(pending);
    gcl_rcgen_unlink(h);
    gcl_rcgen_append(&increment, h, vtag);
    size++;
    x.added = 0;
    expand(&x, h);
    size += (int64_t)x.added;
  }
  gcl_rcgen_collect_region(m, &increment, NULL, visited, vtag, false, p);
  gcl_rcgen.increment_objects += (uint64_t)size;
  gcl_rcgen.work_to_do += gcl_rcgen_heap_size() / SCAN_RATE_DIVISOR / scale;
  gcl_rcgen.work_to_do -= size;
  if (list_empty(pending)) completed_scavenge();
}

void gcl_rcgen_collect_314(struct gcl_mutator *m, int gen, struct pass *p) {
  int v = gcl_rcgen.visited;
  bool members[GCL_RCGEN_NTAGS];
  young_members(members);
  if (gen == 1) {
    collect_increment(m, p);
  } else if (gen == 0) {
    /* gc_collect_young: the young generation; survivors to the visited space. */
    gcl_rcgen_reset_counts();
    struct gcl_rcgen_head *young = &gcl_rcgen.gens[0].head;
    merge_young(young);
    gcl_rcgen_collect_region(m, young, members, space(v), gcl_rcgen.gens[v].tag, false, p);
  } else {
    /* gc_collect_full: everything, in place in the visited space; then the pass ends. */
    gcl_rcgen_reset_counts();
    members[GCL_RCGEN_TAG_GEN1] = members[GCL_RCGEN_TAG_GEN2] = true;
    merge_young(space(v));
    list_merge(space(3 - v), space(v));
    gcl_rcgen_collect_region(m, space(v), members, space(v), gcl_rcgen.gens[v].tag, true, p);
    completed_scavenge();
  }
}
