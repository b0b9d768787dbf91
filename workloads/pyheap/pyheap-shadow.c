/* SPDX-License-Identifier: MIT */
/* workloads/pyheap/pyheap-shadow.c — the pure-RC model of the copies (struct shadow in
 * pyheap-internal.h): ids, counts and edges mirroring every reference the workload makes
 * or drops, so it knows exactly what pure RC leaks. Invariant: rc[id] is the number of
 * modelled references to copy id; ids with rc 0 are on their snapshot object's free list.
 * No macros change it. */
#include <stdlib.h>

#include "garbage.h"
#include "pyheap-internal.h"


static void *grow(void *p, uint64_t cap, uint64_t *newcap, uint64_t need, size_t elem) {
  if (need <= cap) return p;
  uint64_t c = cap ? cap : 1024;
  while (c < need) c *= 2;
  void *q = realloc(p, c * elem);
  if (!q) gcl_alloc_failed(c * elem);
  *newcap = c;
  return q;
}

/* A new copy of snapshot object i, owned by one reference. */
uint32_t pyheap_shadow_new(struct shadow *sh, const struct plan *p, uint32_t i) {
  uint32_t id = sh->free_head[i];
  if (id != NONE) {
    sh->free_head[i] = sh->next_free[id];
  } else {
    uint64_t cap = sh->cap_ids, c = cap; /* the four per-id arrays grow together */
    sh->rc = grow(sh->rc, cap, &c, sh->nids + 1, sizeof *sh->rc);
    sh->of = grow(sh->of, cap, &c, sh->nids + 1, sizeof *sh->of);
    sh->base = grow(sh->base, cap, &c, sh->nids + 1, sizeof *sh->base);
    sh->next_free = grow(sh->next_free, cap, &c, sh->nids + 1, sizeof *sh->next_free);
    sh->cap_ids = c;
    GCL_ASSERT_ALWAYS(sh->nids < NONE);
    id = (uint32_t)sh->nids++;
    sh->of[id] = i;
    sh->base[id] = sh->nedges;
    sh->nedges += p->h.objects[i].nrefs;
    sh->edges = grow(sh->edges, sh->cap_edges, &sh->cap_edges, sh->nedges, sizeof *sh->edges);
  }
  sh->rc[id] = 1;
  sh->tracked += p->h.objects[i].tracked;
  sh->alive++;
  return id;
}

static inline void shadow_push(struct shadow *sh, uint32_t id) {
  sh->stack = grow(sh->stack, sh->cap_stack, &sh->cap_stack, sh->depth + 1, sizeof *sh->stack);
  sh->stack[sh->depth++] = id;
}

/* Drop one reference to id; a copy whose count hits zero drops its edges (RC death). */
void pyheap_shadow_release(struct shadow *sh, const struct plan *p, uint32_t id) {
  if (--sh->rc[id] != 0) return;
  sh->depth = 0;
  shadow_push(sh, id);
  while (sh->depth > 0) {
    uint32_t x = sh->stack[--sh->depth];
    uint32_t i = sh->of[x];
    uint32_t n = p->h.objects[i].nrefs;
    for (uint32_t s = 0; s < n; s++) {
      uint32_t y = sh->edges[sh->base[x] + s];
      if (--sh->rc[y] == 0) shadow_push(sh, y);
    }
    sh->tracked -= p->h.objects[i].tracked;
    sh->alive--;
    sh->next_free[x] = sh->free_head[i];
    sh->free_head[i] = x;
  }
}

/* Stamp the copies pure RC leaked since the last stamp (core/garbage.h), `live` of the
 * alive copies being reachable: right after a region's rebuild every copy beyond the live
 * graph is garbage that only a cycle collector frees. They became garbage during the
 * rebuild, which began at `since_ns`, and a collection at one of the rebuild's safepoints
 * may already have freed some: stamping them at since_ns keeps outstanding garbage from
 * dipping below zero (it overstates it by at most one region's rebuild time). */
void pyheap_shadow_stamp(struct shadow *sh, uint64_t live, uint64_t since_ns) {
  uint64_t leaked = sh->alive - live;
  if (leaked > sh->stamped) gcl_garbage_made_at(leaked - sh->stamped, since_ns);
  sh->stamped = leaked;
}

/* Copies still counted: what pure RC leaks once every reference was dropped. */
uint64_t pyheap_shadow_leaked(const struct shadow *sh) {
  uint64_t n = 0;
  for (uint64_t id = 0; id < sh->nids; id++) n += sh->rc[id] != 0;
  return n;
}

void pyheap_shadow_free(struct shadow *sh) {
  free(sh->rc);
  free(sh->of);
  free(sh->base);
  free(sh->next_free);
  free(sh->free_head);
  free(sh->edges);
  free(sh->stack);
}
