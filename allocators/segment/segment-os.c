/* SPDX-License-Identifier: MIT */
/* allocators/segment/segment-os.c — the segment allocator's OS layer: aligned segment
 * mappings, the small cache of empty segments, the registry of live segments, the
 * abandoned list, large blocks (one mapping each), madvise, NUMA binding through hwloc,
 * deferred unmapping while walks run, and the shared statistics counters.
 *
 * Invariants: those of segment-internal.h. Every munmap goes through unmap_or_defer, with
 * the lock held, so no mapping a walker copied disappears before the walker finishes.
 * Macros: GCL_SEGMENT_COUNT_OPS (lock acquisitions and RMWs are counted). */
#define _GNU_SOURCE
#include <errno.h>
#include <hwloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "segment-internal.h"

struct gcl_segment_global gcl_segment_g = {.lock = PTHREAD_MUTEX_INITIALIZER};
struct gcl_segment_counters gcl_segment_c = {.frag_at_peak = UINT64_MAX};

static hwloc_topology_t topo;  /* this machine, loaded by gcl_segment_os_init */
static int topo_ok;            /* 1 when topo is usable */

/* --- locking and counters ------------------------------------------------------------- */

void gcl_segment_lock(void) {
  GCL_SEGMENT_COUNT(locks);
  pthread_mutex_lock(&gcl_segment_g.lock);
}

void gcl_segment_unlock(void) { pthread_mutex_unlock(&gcl_segment_g.lock); }

uint64_t gcl_segment_count_add(uint64_t *v, int64_t d) {
  GCL_SEGMENT_COUNT(rmws);
  return __atomic_add_fetch(v, (uint64_t)d, __ATOMIC_RELAXED);
}

void gcl_segment_count_up(uint64_t *v, uint64_t *peak, uint64_t d) {
  uint64_t now = gcl_segment_count_add(v, (int64_t)d);
  uint64_t p = __atomic_load_n(peak, __ATOMIC_RELAXED);
  while (now > p) {
    GCL_SEGMENT_COUNT(rmws);
    if (__atomic_compare_exchange_n(peak, &p, now, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
      /* A new committed peak restarts its fragmentation minimum. */
      if (peak == &gcl_segment_c.committed_peak)
        __atomic_store_n(&gcl_segment_c.frag_at_peak, UINT64_MAX, __ATOMIC_RELAXED);
      break;
    }
  }
}

/* committed / live at the committed peak, keeping the lowest (fullest) sample; sampled at
 * page events after the caller flushed its live bytes. Races between threads can only
 * make it miss a sample, not invent one. */
void gcl_segment_sample_fragmentation(void) {
  uint64_t c = __atomic_load_n(&gcl_segment_c.committed, __ATOMIC_RELAXED);
  int64_t live = (int64_t)__atomic_load_n(&gcl_segment_c.live, __ATOMIC_RELAXED);
  if (live <= 0 || c != __atomic_load_n(&gcl_segment_c.committed_peak, __ATOMIC_RELAXED)) return;
  uint64_t r = (uint64_t)((double)c / (double)live * 1e6);
  uint64_t old = __atomic_load_n(&gcl_segment_c.frag_at_peak, __ATOMIC_RELAXED);
  while (r < old) {
    GCL_SEGMENT_COUNT(rmws);
    if (__atomic_compare_exchange_n(&gcl_segment_c.frag_at_peak, &old, r, false, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED))
      break;
  }
}

/* --- mappings --------------------------------------------------------------------------- */

/* Under the lock: munmap now, or queue it while a walk may still read the mapping. */
static void unmap_or_defer(void *addr, size_t len) {
  struct gcl_segment_global *g = &gcl_segment_g;
  if (g->walkers == 0) {
    munmap(addr, len);
    return;
  }
  if (g->ndeferred == g->capdeferred) {
    size_t cap = g->capdeferred ? 2 * g->capdeferred : 16;
    struct gcl_segment_unmap *d = realloc(g->deferred, cap * sizeof *d);
    GCL_ASSERT_ALWAYS(d != NULL); /* cannot fail silently: the mapping would leak */
    g->deferred = d;
    g->capdeferred = cap;
  }
  g->deferred[g->ndeferred++] = (struct gcl_segment_unmap){addr, len};
}

/* SEGMENT_SIZE bytes aligned to SEGMENT_SIZE: over-map by one segment, trim both ends. */
static void *map_aligned(void) {
  size_t over = 2 * GCL_SEGMENT_SIZE;
  char *base = mmap(NULL, over, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return NULL;
  uintptr_t a = ((uintptr_t)base + GCL_SEGMENT_SIZE - 1) & ~(uintptr_t)(GCL_SEGMENT_SIZE - 1);
  char *aligned = (char *)a, *end = aligned + GCL_SEGMENT_SIZE;
  if (aligned > base) munmap(base, (size_t)(aligned - base));
  if (end < base + over) munmap(end, (size_t)(base + over - end));
  return aligned;
}

/* Bind [addr, addr+len) to the heap's node when its thread is bound inside one node. */
static void bind_memory(struct gcl_allocator_mutator *am, void *addr, size_t len) {
  if (!topo_ok || !am || !am->node_bind) return;
  hwloc_bitmap_t set = hwloc_bitmap_alloc();
  hwloc_bitmap_only(set, (unsigned)am->node);
  if (hwloc_set_area_membind(topo, addr, len, set, HWLOC_MEMBIND_BIND, HWLOC_MEMBIND_BYNODESET))
    gcl_segment_count_add(&gcl_segment_c.numa_bind_failures, 1);
  hwloc_bitmap_free(set);
}

void gcl_segment_os_decommit(void *addr, size_t len) {
  GCL_SEGMENT_POISON(addr, len);
  madvise(addr, len, MADV_DONTNEED);
  gcl_segment_count_add(&gcl_segment_c.decommitted, (int64_t)len);
  gcl_segment_count_add(&gcl_segment_c.committed, -(int64_t)len);
}

static void registry_add(struct gcl_segment *s) {
  struct gcl_segment_global *g = &gcl_segment_g;
  if (g->nreg == g->capreg) {
    size_t cap = g->capreg ? 2 * g->capreg : 64;
    struct gcl_segment **r = realloc(g->reg, cap * sizeof *r);
    GCL_ASSERT_ALWAYS(r != NULL);
    g->reg = r;
    g->capreg = cap;
  }
  s->reg_index = g->nreg;
  g->reg[g->nreg++] = s;
}

static void registry_remove(struct gcl_segment *s) {
  struct gcl_segment_global *g = &gcl_segment_g;
  struct gcl_segment *last = g->reg[--g->nreg];
  g->reg[s->reg_index] = last;
  last->reg_index = s->reg_index;
}

/* A new segment owned by am: from the cache, else a fresh mapping bound to am's node.
 * Page versions, bits and block sizes of a cached segment are already in their free
 * state and are kept (a walker may read them). */
struct gcl_segment *gcl_segment_os_new(struct gcl_allocator_mutator *am) {
  if (!am->node_known) gcl_segment_os_numa_lookup(am);
  gcl_segment_lock();
  struct gcl_segment *s = gcl_segment_g.cache;
  if (s) {
    gcl_segment_g.cache = s->next;
    gcl_segment_g.ncache--;
  }
  gcl_segment_unlock();
  if (!s) {
    s = map_aligned();
    if (!s) return NULL;
    bind_memory(am, s, GCL_SEGMENT_SIZE);
    GCL_SEGMENT_POISON((char *)s + GCL_SEGMENT_PAGE_SIZE, GCL_SEGMENT_SIZE - GCL_SEGMENT_PAGE_SIZE);
    gcl_segment_count_add(&gcl_segment_c.committed, (int64_t)GCL_SEGMENT_HEADER_COMMIT);
    s->node = am->node_bind ? am->node : -1;
  }
  gcl_segment_count_up(&gcl_segment_c.committed, &gcl_segment_c.committed_peak, 0);
  s->used_pages = 0;
  s->free_mask = ~(uint64_t)1; /* pages 1..63 */
  s->next = s->prev = NULL;
  __atomic_store_n(&s->remote_pending, 0, __ATOMIC_RELAXED);
  for (unsigned i = 1; i < GCL_SEGMENT_PAGES; i++) {
    struct gcl_segment_page *pg = &s->pages[i];
    pg->free = pg->local_free = NULL;
    __atomic_store_n(&pg->thread_free, NULL, __ATOMIC_RELAXED);
    pg->in_use = 0;
    pg->committed = 0;
    __atomic_store_n(&pg->flags, 0, __ATOMIC_RELAXED);
  }
  __atomic_store_n(&s->owner, am->id, __ATOMIC_RELEASE);
  if (am->node >= 0 && am->node < 64) {
    GCL_SEGMENT_COUNT(rmws);
    __atomic_or_fetch(&gcl_segment_c.numa_mask, (uint64_t)1 << am->node, __ATOMIC_RELAXED);
  }
  gcl_segment_lock();
  registry_add(s);
  gcl_segment_unlock();
  gcl_segment_count_up(&gcl_segment_c.segments, &gcl_segment_c.segments_peak, 1);
  return s;
}

/* An empty segment leaves the registry: into the cache (its pages decommitted), or
 * unmapped when the cache is full. Every page is free, so no other thread refers to it. */
void gcl_segment_os_release(struct gcl_segment *s) {
  __atomic_store_n(&s->owner, 0, __ATOMIC_RELEASE);
  /* Decommit runs of committed pages with one madvise each. */
  for (unsigned i = 1; i < GCL_SEGMENT_PAGES;) {
    if (!s->pages[i].committed) {
      i++;
      continue;
    }
    unsigned j = i;
    while (j < GCL_SEGMENT_PAGES && s->pages[j].committed) s->pages[j++].committed = 0;
    gcl_segment_os_decommit((char *)s + i * GCL_SEGMENT_PAGE_SIZE, (j - i) * GCL_SEGMENT_PAGE_SIZE);
    i = j;
  }
  gcl_segment_count_add(&gcl_segment_c.segments, -1);
  gcl_segment_lock();
  registry_remove(s);
  if (gcl_segment_g.ncache < GCL_SEGMENT_CACHE_MAX) {
    s->next = gcl_segment_g.cache;
    gcl_segment_g.cache = s;
    gcl_segment_g.ncache++;
  } else {
    gcl_segment_count_add(&gcl_segment_c.committed, -(int64_t)GCL_SEGMENT_HEADER_COMMIT);
    unmap_or_defer(s, GCL_SEGMENT_SIZE);
  }
  gcl_segment_unlock();
}

void gcl_segment_os_abandon(struct gcl_segment *s) {
  __atomic_store_n(&s->owner, 0, __ATOMIC_RELEASE);
  gcl_segment_lock();
  s->next = gcl_segment_g.abandoned;
  gcl_segment_g.abandoned = s;
  gcl_segment_count_add(&gcl_segment_g.nabandoned, 1);
  gcl_segment_unlock();
  gcl_segment_count_add(&gcl_segment_c.abandoned, 1);
}

struct gcl_segment *gcl_segment_os_reclaim_pop(void) {
  if (__atomic_load_n(&gcl_segment_g.nabandoned, __ATOMIC_RELAXED) == 0) return NULL;
  gcl_segment_lock();
  struct gcl_segment *s = gcl_segment_g.abandoned;
  if (s) {
    gcl_segment_g.abandoned = s->next;
    gcl_segment_count_add(&gcl_segment_g.nabandoned, -1);
  }
  gcl_segment_unlock();
  if (s) gcl_segment_count_add(&gcl_segment_c.reclaimed, 1);
  return s;
}

/* --- large blocks --------------------------------------------------------------------- */

void *gcl_segment_large_alloc(struct gcl_allocator_mutator *am, size_t bytes) {
  size_t mapped = (sizeof(struct gcl_segment_large) + bytes + 4095) & ~(size_t)4095;
  if (mapped < bytes) return NULL; /* overflow */
  struct gcl_segment_large *h =
      mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (h == MAP_FAILED) return NULL;
  if (am && !am->node_known) gcl_segment_os_numa_lookup(am);
  bind_memory(am, h, mapped);
  h->bytes = bytes;
  h->mapped = mapped;
  h->prev = NULL;
  gcl_segment_lock();
  h->next = gcl_segment_g.large;
  if (h->next) h->next->prev = h;
  gcl_segment_g.large = h;
  gcl_segment_g.nlarge++;
  gcl_segment_unlock();
  gcl_segment_count_add(&gcl_segment_c.large_allocs, 1);
  gcl_segment_count_add(&gcl_segment_c.live, (int64_t)bytes);
  gcl_segment_count_up(&gcl_segment_c.committed, &gcl_segment_c.committed_peak, mapped);
  return h + 1;
}

void gcl_segment_large_free(void *p, size_t bytes) {
  if (!p) return;
  struct gcl_segment_large *h = (struct gcl_segment_large *)p - 1;
  GCL_ASSERT(h->bytes == bytes);
  size_t mapped = h->mapped;
  gcl_segment_lock();
  if (h->prev) h->prev->next = h->next;
  else gcl_segment_g.large = h->next;
  if (h->next) h->next->prev = h->prev;
  gcl_segment_g.nlarge--;
  unmap_or_defer(h, mapped);
  gcl_segment_unlock();
  gcl_segment_count_add(&gcl_segment_c.live, -(int64_t)bytes);
  gcl_segment_count_add(&gcl_segment_c.committed, -(int64_t)mapped);
}

/* --- NUMA ------------------------------------------------------------------------------- */

int gcl_segment_os_init(void) {
  if (topo_ok) return 0;
  if (hwloc_topology_init(&topo) == 0 && hwloc_topology_load(topo) == 0) topo_ok = 1;
  return 0; /* without a topology the allocator works, unbound */
}

/* The node of the calling thread: if its CPU binding lies inside one NUMA node, that node
 * (and new memory is bound to it); otherwise the node of the CPU it last ran on, for the
 * record only (memory is placed by first touch). */
void gcl_segment_os_numa_lookup(struct gcl_allocator_mutator *am) {
  am->node_known = true;
  am->node = -1;
  am->node_bind = false;
  if (!topo_ok) return;
  hwloc_bitmap_t cpus = hwloc_bitmap_alloc();
  hwloc_obj_t node = NULL;
  if (hwloc_get_cpubind(topo, cpus, HWLOC_CPUBIND_THREAD) == 0 && !hwloc_bitmap_iszero(cpus)) {
    while ((node = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, node)) != NULL)
      if (hwloc_bitmap_isincluded(cpus, node->cpuset)) break;
    if (node) am->node_bind = true;
  }
  if (!node && hwloc_get_last_cpu_location(topo, cpus, HWLOC_CPUBIND_THREAD) == 0) {
    while ((node = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, node)) != NULL)
      if (hwloc_bitmap_intersects(cpus, node->cpuset)) break;
  }
  if (node) am->node = (int32_t)node->os_index;
  hwloc_bitmap_free(cpus);
}

/* --- walk snapshots ------------------------------------------------------------------- */

int gcl_segment_snapshot_take(struct gcl_segment_snapshot *snap) {
  struct gcl_segment_global *g = &gcl_segment_g;
  gcl_segment_lock();
  snap->nsegs = g->nreg;
  snap->nlarge = g->nlarge;
  snap->segs = malloc((g->nreg + 1) * sizeof *snap->segs);
  snap->large = malloc((g->nlarge + 1) * sizeof *snap->large);
  if (!snap->segs || !snap->large) {
    gcl_segment_unlock();
    free(snap->segs);
    free(snap->large);
    return -ENOMEM;
  }
  if (g->nreg) memcpy(snap->segs, g->reg, g->nreg * sizeof *snap->segs);
  size_t n = 0;
  for (struct gcl_segment_large *h = g->large; h; h = h->next) snap->large[n++] = h;
  g->walkers++;
  gcl_segment_unlock();
  return 0;
}

void gcl_segment_snapshot_drop(struct gcl_segment_snapshot *snap) {
  struct gcl_segment_global *g = &gcl_segment_g;
  struct gcl_segment_unmap *d = NULL;
  size_t nd = 0;
  gcl_segment_lock();
  if (--g->walkers == 0) {
    d = g->deferred;
    nd = g->ndeferred;
    g->deferred = NULL;
    g->ndeferred = g->capdeferred = 0;
  }
  gcl_segment_unlock();
  for (size_t i = 0; i < nd; i++) munmap(d[i].addr, d[i].len);
  free(d);
  free(snap->segs);
  free(snap->large);
}
