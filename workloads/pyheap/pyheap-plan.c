/* SPDX-License-Identifier: MIT */
/* workloads/pyheap/pyheap-plan.c — the replay plan of a snapshot, made once before the
 * threads run: per object its region (the nearest root, by a multi-source BFS), its BFS
 * parent and tree slot, its copy's slot words; each region's objects in BFS order; and the
 * references that cross regions, bucketed by their target's region (pyheap.c's top
 * comment says why). Invariants: at the loops. No macros change it. */
#include <stdlib.h>
#include <string.h>

#include "pyheap-internal.h"


/* Slot words of object i's copy: its references, and padding up to its CPython size. */
static uint32_t copy_words(const struct gcl_pyheap *h, uint32_t i) {
  const struct gcl_pyheap_object *o = &h->objects[i];
  uint64_t target = o->size;
  if (h->types[o->type].container) target = target > h->gc_head ? target - h->gc_head : 0;
  uint64_t words = target > sizeof(struct pyobj) ? (target - sizeof(struct pyobj) + 7) / 8 : 0;
  return words > o->nrefs ? (uint32_t)words : o->nrefs;
}

void *pyheap_alloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  if (!p) gcl_alloc_failed(n * size);
  return p;
}

void pyheap_make_plan(struct plan *p) {
  const struct gcl_pyheap *h = &p->h;
  uint32_t n = h->nobjects;
  p->region_of = pyheap_alloc(n, sizeof *p->region_of);
  p->parent = pyheap_alloc(n, sizeof *p->parent);
  p->tree_slot = pyheap_alloc(n, sizeof *p->tree_slot);
  p->words = pyheap_alloc(n, sizeof *p->words);
  uint32_t *queue = pyheap_alloc(n, sizeof *queue);
  /* Multi-source BFS. Invariant: queue[0..tail) are the reached objects in discovery
   * order (all roots first, in index order); region_of and parent are set exactly for
   * them; an object's parent precedes it in the queue and shares its region. */
  uint32_t tail = 0;
  for (uint32_t i = 0; i < n; i++) {
    p->words[i] = copy_words(h, i);
    p->parent[i] = NONE;
    p->region_of[i] = NONE;
    if (h->objects[i].ext > 0) {
      p->region_of[i] = tail;
      queue[tail++] = i;
    }
  }
  p->nregions = tail;
  for (uint32_t head = 0; head < tail; head++) {
    uint32_t i = queue[head];
    const struct gcl_pyheap_object *o = &h->objects[i];
    for (uint32_t s = 0; s < o->nrefs; s++) {
      uint32_t j = h->refs[o->ref_start + s];
      if (p->region_of[j] != NONE) continue;
      p->region_of[j] = p->region_of[i];
      p->parent[j] = i;
      p->tree_slot[j] = s;
      queue[tail++] = j;
    }
  }
  p->reachable = tail;

  /* Bucket the BFS order by region (a stable counting sort keeps BFS order within each),
   * and the references that cross regions by their target's region. */
  uint32_t nr = p->nregions;
  p->region_start = pyheap_alloc((size_t)nr + 1, sizeof *p->region_start);
  p->region_nodes = pyheap_alloc(tail, sizeof *p->region_nodes);
  p->in_start = pyheap_alloc((size_t)nr + 1, sizeof *p->in_start);
  uint32_t *fill = pyheap_alloc((size_t)nr + 1, sizeof *fill);
  uint32_t ncross = 0;
  for (uint32_t k = 0; k < tail; k++) {
    uint32_t i = queue[k];
    p->region_start[p->region_of[i] + 1]++;
    const struct gcl_pyheap_object *o = &h->objects[i];
    for (uint32_t s = 0; s < o->nrefs; s++) {
      uint32_t rj = p->region_of[h->refs[o->ref_start + s]];
      if (rj != p->region_of[i]) p->in_start[rj + 1]++, ncross++;
    }
  }
  for (uint32_t r = 0; r < nr; r++) {
    p->region_start[r + 1] += p->region_start[r];
    p->in_start[r + 1] += p->in_start[r];
  }
  p->in_src = pyheap_alloc(ncross, sizeof *p->in_src);
  p->in_slot = pyheap_alloc(ncross, sizeof *p->in_slot);
  memcpy(fill, p->region_start, ((size_t)nr + 1) * sizeof *fill);
  p->reachable_tracked = 0;
  for (uint32_t k = 0; k < tail; k++) {
    uint32_t i = queue[k];
    p->region_nodes[fill[p->region_of[i]]++] = i;
    p->reachable_tracked += h->objects[i].tracked;
  }
  memcpy(fill, p->in_start, ((size_t)nr + 1) * sizeof *fill);
  for (uint32_t k = 0; k < tail; k++) {
    uint32_t i = queue[k];
    const struct gcl_pyheap_object *o = &h->objects[i];
    for (uint32_t s = 0; s < o->nrefs; s++) {
      uint32_t rj = p->region_of[h->refs[o->ref_start + s]];
      if (rj == p->region_of[i]) continue;
      p->in_src[fill[rj]] = i;
      p->in_slot[fill[rj]++] = s;
    }
  }
  free(fill);
  free(queue);
}

void pyheap_free_plan(struct plan *p) {
  free(p->region_of);
  free(p->parent);
  free(p->tree_slot);
  free(p->words);
  free(p->region_start);
  free(p->region_nodes);
  free(p->in_start);
  free(p->in_src);
  free(p->in_slot);
  free(p->collect_ns);
  free(p->collect_cpu_ns);
  gcl_pyheap_free(&p->h);
}
