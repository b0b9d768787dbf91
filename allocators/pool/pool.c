/* SPDX-License-Identifier: MIT */
/* allocators/pool/pool.c — cold paths of the pymalloc-style allocator (pool-attrs.h has the
 * fast paths and the layout): the lock's waiting loop, taking a pool from an arena, mapping
 * and unmapping arenas, malloc-routed large requests, statistics and a consistency check.
 *
 * Invariants (besides those of pool-attrs.h), all under gcl_pool.lock:
 *  - The arena table `arenas` has one slot per arena ever needed at once; a slot with
 *    address == 0 is unused and sits on the singly linked `unused_arenas` list.
 *  - `usable_arenas` is a doubly linked list of the mapped arenas that have at least one
 *    free pool, sorted by ascending nfreepools, so pools are taken from the fullest arena
 *    and nearly empty arenas get a chance to empty completely. nfp2lasta[n] is the last
 *    arena on that list with n free pools (NULL if none): it makes re-sorting O(1).
 *  - Arenas with no free pool are on no list. At most one arena with every pool free is
 *    kept mapped (the spare, at the tail of usable_arenas); any other is unmapped at once.
 *  - The table is realloc'd only when no slot is unused, which implies usable_arenas is
 *    empty (new_arena is called only then), so no list pointer into it can dangle.
 *  - GIL mode: gcl_pool.foreign holds blocks freed with am == NULL; push is a CAS
 *    (release), drain an exchange with NULL (acquire) by a GIL holder, so no ABA arises and
 *    the freeing thread's last accesses to a block happen before its reuse. Drained at
 *    every cold path that looks at the whole state (a new pool, thread detach, figures,
 *    walk, check). */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "allocator.h"
#include "report.h"

/* Spins of the lock's waiting loop before each sched_yield: on an oversubscribed machine
 * the holder may be descheduled, and spinning would only delay it. */
#define GCL_POOL_LOCK_SPINS 64

struct gcl_pool_state gcl_pool;

/* One arena: a 1 MiB, 16 KiB-aligned mapping cut into 64 pools. */
struct gcl_pool_arena {
  uintptr_t address;                 /* base of the mapping; 0 if the slot is unused */
  char *pool_address;                /* next never-used pool (pools are carved lazily) */
  unsigned nfreepools;               /* pools free: on freepools or never used */
  unsigned ntotalpools;              /* pools in the arena (64) */
  struct gcl_pool_header *freepools; /* pools that were used and became empty */
  struct gcl_pool_arena *nextarena;  /* usable_arenas list, or unused_arenas list */
  struct gcl_pool_arena *prevarena;  /* usable_arenas list only */
};

static struct gcl_pool_arena *arenas;                       /* the arena table */
static unsigned arenas_allocated;                           /* its number of slots */
static struct gcl_pool_arena *unused_arenas;                /* slots without a mapping */
static struct gcl_pool_arena *usable_arenas;                /* mapped, with a free pool */
static struct gcl_pool_arena *nfp2lasta[GCL_POOL_POOLS_PER_ARENA + 1]; /* see above */

/* Statistics (plain counters under the lock). */
static uint64_t narenas;            /* arenas mapped now */
static uint64_t narenas_peak;       /* most arenas mapped at once */
static uint64_t npools;             /* pools in use (not free in their arena) */
static uint64_t npools_peak;        /* most pools in use at once */
static uint64_t nlarge;             /* requests routed to malloc */
static uint64_t large_bytes;        /* bytes of live malloc-routed requests */
static uint64_t footprint_peak;     /* most bytes held at once: arenas + large_bytes */
static uint64_t footprint_now;      /* atomic mirror of arenas + large_bytes: the sampler's */
static double frag_at_peak = 1.0;   /* see sample_fragmentation */
static uint64_t lock_contended;     /* acquisitions that found the lock held */

/* --- the lock ---------------------------------------------------------------------------- */

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* The fast path's exchange failed: spin reading (no cache-line ping-pong) until the lock
 * looks free, then retry the exchange; yield the CPU every GCL_POOL_LOCK_SPINS tries. */
void gcl_pool_lock_slow(void) {
  for (;;) {
    for (int i = 0; i < GCL_POOL_LOCK_SPINS; i++) {
      if (!__atomic_load_n(&gcl_pool.lock, __ATOMIC_RELAXED) &&
          !__atomic_exchange_n(&gcl_pool.lock, 1, __ATOMIC_ACQUIRE)) {
        lock_contended++;
        return;
      }
      cpu_relax();
    }
    sched_yield();
  }
}

/* --- GIL mode: frees by threads that hold no GIL ------------------------------------------- */

void gcl_pool_free_foreign(void *p, size_t bytes) {
  if (!p) return;
  struct gcl_pool_foreign *f = p;
  f->bytes = bytes;
  f->next = __atomic_load_n(&gcl_pool.foreign, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(&gcl_pool.foreign, &f->next, f, true, __ATOMIC_RELEASE,
                                      __ATOMIC_RELAXED)) {
  }
}

/* Free every block of the foreign stack through the ordinary path; a GIL holder (or no
 * mutator attached). Returns whether there was any. */
static bool drain_foreign(void) {
  static struct gcl_allocator_mutator holder; /* any non-NULL am: the caller holds the GIL */
  if (!__atomic_load_n(&gcl_pool.foreign, __ATOMIC_RELAXED)) return false;
  struct gcl_pool_foreign *f = __atomic_exchange_n(&gcl_pool.foreign, NULL, __ATOMIC_ACQUIRE);
  while (f) {
    struct gcl_pool_foreign *next = f->next;
    gcl_allocator_free(&holder, f, f->bytes);
    f = next;
  }
  return true;
}

/* --- statistics ---------------------------------------------------------------------------- */

static void update_footprint(void) {
  uint64_t f = narenas * GCL_POOL_ARENA_SIZE + large_bytes;
  if (f > footprint_peak) footprint_peak = f;
}

/* Fragmentation at the arena peak: 1 - (bytes in allocated blocks) / (bytes of the arenas),
 * taken while the number of arenas equals its peak, at its fullest observed moment. It is
 * sampled at every cold-path event (a pool taken, filled or returned, an arena mapped), i.e.
 * at least once per 16 KiB pool's worth of allocation of each class; `bytes` is the block
 * count including the block being allocated or freed by the event. A new peak restarts it. */
static void sample_fragmentation(uint64_t bytes) {
  if (narenas != narenas_peak || narenas == 0) return;
  double f = 1.0 - (double)bytes / (double)(narenas * GCL_POOL_ARENA_SIZE);
  if (f < frag_at_peak) frag_at_peak = f;
}

/* --- arenas ---------------------------------------------------------------------------- */

/* Map 1 MiB aligned to the pool size: over-map by one pool and trim both ends, so every
 * arena holds exactly 64 whole pools (CPython instead loses a misaligned first pool). */
static void *map_arena(void) {
  size_t over = GCL_POOL_ARENA_SIZE + GCL_POOL_POOL_SIZE;
  char *base = mmap(NULL, over, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return NULL;
  uintptr_t a = ((uintptr_t)base + GCL_POOL_POOL_SIZE - 1) & ~(uintptr_t)(GCL_POOL_POOL_SIZE - 1);
  char *aligned = (char *)a;
  if (aligned > base) munmap(base, (size_t)(aligned - base));
  char *end = aligned + GCL_POOL_ARENA_SIZE;
  if (end < base + over) munmap(end, (size_t)(base + over - end));
  return aligned;
}

/* A new arena; called only when usable_arenas is empty. NULL when out of memory. */
static struct gcl_pool_arena *new_arena(void) {
  if (!unused_arenas) {
    GCL_ASSERT_ALWAYS(usable_arenas == NULL); /* else realloc would leave list pointers dangling */
    unsigned n = arenas_allocated ? 2 * arenas_allocated : 16;
    struct gcl_pool_arena *t = realloc(arenas, n * sizeof *t);
    if (!t) return NULL;
    arenas = t;
    for (unsigned i = arenas_allocated; i < n; i++) {
      arenas[i].address = 0;
      arenas[i].nextarena = i + 1 < n ? &arenas[i + 1] : NULL;
    }
    unused_arenas = &arenas[arenas_allocated];
    arenas_allocated = n;
  }
  struct gcl_pool_arena *ao = unused_arenas;
  void *mem = map_arena();
  if (!mem) return NULL;
  unused_arenas = ao->nextarena;
  ao->address = (uintptr_t)mem;
  ao->pool_address = mem;
  ao->nfreepools = ao->ntotalpools = GCL_POOL_POOLS_PER_ARENA;
  ao->freepools = NULL;
  ao->nextarena = ao->prevarena = NULL;
  GCL_POOL_POISON(mem, GCL_POOL_ARENA_SIZE);
  narenas++;
  __atomic_store_n(&footprint_now, narenas * GCL_POOL_ARENA_SIZE + large_bytes, __ATOMIC_RELAXED);
  if (narenas > narenas_peak) {
    narenas_peak = narenas;
    frag_at_peak = 1.0; /* a new peak: restart the minimum */
  }
  update_footprint();
  return ao;
}

static void free_arena(struct gcl_pool_arena *ao) {
  GCL_POOL_UNPOISON((void *)ao->address, GCL_POOL_ARENA_SIZE);
  munmap((void *)ao->address, GCL_POOL_ARENA_SIZE);
  ao->address = 0;
  ao->nextarena = unused_arenas;
  unused_arenas = ao;
  narenas--;
  __atomic_store_n(&footprint_now, narenas * GCL_POOL_ARENA_SIZE + large_bytes, __ATOMIC_RELAXED);
}

/* --- pools ------------------------------------------------------------------------------ */

/* usedpools[idx] is empty: take a pool from the fullest usable arena (mapping a new arena
 * if none has a free pool), make it the class's only used pool and return its first block. */
void *gcl_pool_alloc_new_pool(unsigned idx) {
  /* Foreign frees may refill usedpools[idx]; then take the block from there. */
  if (drain_foreign() && gcl_pool.usedpools[idx]) return gcl_pool_take_block(idx);
  if (!usable_arenas) {
    struct gcl_pool_arena *ao = new_arena();
    if (!ao) return NULL;
    usable_arenas = ao;
    nfp2lasta[ao->nfreepools] = ao;
  }
  struct gcl_pool_arena *ao = usable_arenas;
  GCL_ASSERT(ao->nfreepools > 0 && ao->prevarena == NULL);
  /* ao is the first arena, with the fewest free pools; after taking one it is the only
   * arena with nfreepools - 1, so it stays first and heads (and ends) that group. */
  unsigned nf = ao->nfreepools;
  if (nfp2lasta[nf] == ao) nfp2lasta[nf] = NULL;
  ao->nfreepools = --nf;
  if (nf > 0) {
    nfp2lasta[nf] = ao;
  } else {
    usable_arenas = ao->nextarena; /* full: off the list */
    if (usable_arenas) usable_arenas->prevarena = NULL;
    ao->nextarena = NULL;
  }

  struct gcl_pool_header *pool = ao->freepools;
  if (pool) {
    ao->freepools = pool->nextpool;
  } else {
    GCL_ASSERT(ao->pool_address < (char *)ao->address + GCL_POOL_ARENA_SIZE);
    pool = (struct gcl_pool_header *)ao->pool_address;
    ao->pool_address += GCL_POOL_POOL_SIZE;
    GCL_POOL_UNPOISON(pool, GCL_POOL_OVERHEAD);
  }
  /* Always re-initialise: carving a reused pool afresh gives sequential blocks. The first
   * block is returned, the second becomes the free list, the rest are carved lazily. */
  size_t size = GCL_POOL_CLASS_SIZE(idx);
  pool->arenaindex = (uint32_t)(ao - arenas);
  pool->szidx = idx;
  pool->ref = 1;
  pool->nextoffset = (uint32_t)(GCL_POOL_OVERHEAD + 2 * size);
  pool->maxnextoffset = (uint32_t)(GCL_POOL_POOL_SIZE - size);
  char *bp = (char *)pool + GCL_POOL_OVERHEAD;
  pool->freeblock = bp + size;
  gcl_pool_link_set(pool->freeblock, NULL);
  pool->nextpool = pool->prevpool = pool;
  gcl_pool.usedpools[idx] = pool;

  npools++;
  if (npools > npools_peak) npools_peak = npools;
  sample_fragmentation(gcl_pool.block_bytes + size);
  gcl_pool.block_bytes += size;
  return bp;
}

static void usedpools_unlink(struct gcl_pool_header *pool) {
  unsigned idx = pool->szidx;
  if (pool->nextpool == pool) {
    gcl_pool.usedpools[idx] = NULL;
  } else {
    pool->prevpool->nextpool = pool->nextpool;
    pool->nextpool->prevpool = pool->prevpool;
    if (gcl_pool.usedpools[idx] == pool) gcl_pool.usedpools[idx] = pool->nextpool;
  }
}

/* The fast path took the last block of `pool`: it is full, so it leaves usedpools. */
void gcl_pool_pool_full(struct gcl_pool_header *pool) {
  GCL_ASSERT(pool->freeblock == NULL);
  usedpools_unlink(pool);
  sample_fragmentation(gcl_pool.block_bytes + GCL_POOL_CLASS_SIZE(pool->szidx));
}

/* An empty pool goes back to its arena; the arena moves to keep usable_arenas sorted, or
 * is unmapped if all its pools are free and it is not the spare. */
static void pool_to_arena(struct gcl_pool_header *pool) {
  struct gcl_pool_arena *ao = &arenas[pool->arenaindex];
  GCL_POOL_POISON((char *)pool + GCL_POOL_OVERHEAD, GCL_POOL_POOL_SIZE - GCL_POOL_OVERHEAD);
  pool->nextpool = ao->freepools;
  ao->freepools = pool;
  npools--;

  /* ao leaves the group of arenas with nf - 1 free pools; if it was that group's last,
   * the arena before it (if in the same group) becomes the last. */
  unsigned nf = ao->nfreepools;
  struct gcl_pool_arena *lastnf = nfp2lasta[nf];
  if (nf > 0 && lastnf == ao) {
    struct gcl_pool_arena *p = ao->prevarena;
    nfp2lasta[nf] = (p && p->nfreepools == nf) ? p : NULL;
  }
  ao->nfreepools = ++nf;

  if (nf == ao->ntotalpools && ao->nextarena != NULL) {
    /* Entirely free and not last on the list: since the list is sorted, the tail then has
     * at least as many free pools, and keeps serving as the one spare; unmap this one. */
    if (ao->prevarena)
      ao->prevarena->nextarena = ao->nextarena;
    else
      usable_arenas = ao->nextarena;
    ao->nextarena->prevarena = ao->prevarena;
    free_arena(ao);
    return;
  }
  if (nf == 1) {
    /* It was full, hence on no list: it now has the fewest free pools possible. */
    ao->nextarena = usable_arenas;
    ao->prevarena = NULL;
    if (usable_arenas) usable_arenas->prevarena = ao;
    usable_arenas = ao;
    if (!nfp2lasta[1]) nfp2lasta[1] = ao;
    return;
  }
  /* ao must now come after every arena with nf - 1 free pools: right after lastnf, the old
   * last of that group, which makes it the first of group nf. */
  if (!nfp2lasta[nf]) nfp2lasta[nf] = ao;
  if (ao == lastnf) return; /* already in place */
  GCL_ASSERT(ao->nextarena != NULL && lastnf != NULL);
  if (ao->prevarena)
    ao->prevarena->nextarena = ao->nextarena;
  else
    usable_arenas = ao->nextarena;
  ao->nextarena->prevarena = ao->prevarena;
  ao->prevarena = lastnf;
  ao->nextarena = lastnf->nextarena;
  if (ao->nextarena) ao->nextarena->prevarena = ao;
  lastnf->nextarena = ao;
}

/* The fast path freed a block of `pool`, which was full (was_full) or is now empty. */
void gcl_pool_free_slow(struct gcl_pool_header *pool, int was_full) {
  sample_fragmentation(gcl_pool.block_bytes + GCL_POOL_CLASS_SIZE(pool->szidx));
  if (was_full) {
    if (pool->ref > 0) {
      /* Back on usedpools, at the head: the next allocation of this class reuses it. */
      struct gcl_pool_header **head = &gcl_pool.usedpools[pool->szidx];
      if (*head) {
        pool->nextpool = *head;
        pool->prevpool = (*head)->prevpool;
        (*head)->prevpool->nextpool = pool;
        (*head)->prevpool = pool;
      } else {
        pool->nextpool = pool->prevpool = pool;
      }
      *head = pool;
      return;
    }
    /* A one-block pool went from full to empty: it is on no list. */
  } else {
    usedpools_unlink(pool);
  }
  pool_to_arena(pool);
}

/* --- requests routed to malloc ------------------------------------------------------------- */

/* Each malloc-routed block starts with this header (16 bytes, so the caller's memory stays
 * 16-byte aligned) and is in the `large` array, under the lock, so that the heap walk can
 * find it (an array, not a list: the walk reads it sequentially instead of chasing
 * pointers). Its bytes are not counted in large_bytes (requested bytes only). */
struct large_header {
  size_t index; /* its position in large.blocks */
  size_t bytes; /* the request */
};
_Static_assert(sizeof(struct large_header) % GCL_POOL_ALIGNMENT == 0, "large header alignment");

static struct {
  struct large_header **blocks; /* every live malloc-routed block, in no order */
  size_t n, cap;                /* in use, allocated */
} large;

void *gcl_pool_large_alloc(size_t bytes) {
  /* At least 16 usable bytes, so that a GIL-mode foreign free can link even a 0-byte block. */
  size_t usable = bytes < sizeof(struct gcl_pool_foreign) ? sizeof(struct gcl_pool_foreign) : bytes;
  struct large_header *h = malloc(sizeof *h + usable);
  if (!h) return NULL;
  h->bytes = bytes;
  bool locked = gcl_pool_lock();
  if (large.n == large.cap) {
    size_t cap = large.cap ? 2 * large.cap : 64;
    struct large_header **b = realloc(large.blocks, cap * sizeof *b);
    if (!b) {
      gcl_pool_unlock(locked);
      free(h);
      return NULL;
    }
    large.blocks = b;
    large.cap = cap;
  }
  h->index = large.n;
  large.blocks[large.n++] = h;
  nlarge++;
  large_bytes += bytes;
  __atomic_store_n(&footprint_now, narenas * GCL_POOL_ARENA_SIZE + large_bytes, __ATOMIC_RELAXED);
  update_footprint();
  gcl_pool_unlock(locked);
  return h + 1;
}

void gcl_pool_large_free(void *p, size_t bytes) {
  if (!p) return;
  struct large_header *h = (struct large_header *)p - 1;
  bool locked = gcl_pool_lock();
  struct large_header *last = large.blocks[--large.n];
  large.blocks[h->index] = last;
  last->index = h->index;
  large_bytes -= bytes;
  __atomic_store_n(&footprint_now, narenas * GCL_POOL_ARENA_SIZE + large_bytes, __ATOMIC_RELAXED);
  gcl_pool_unlock(locked);
  free(h);
}

/* --- the allocator contract ---------------------------------------------------------------- */

static const struct gcl_fig_decl figures[] = {
    {"arenas_peak", "count", "most 1 MiB arenas mapped at once"},
    {"pools_peak", "count", "most 16 KiB pools in use at once"},
    {"footprint_peak_kb", "kb", "most KiB held at once: arenas x 1 MiB + live malloc-routed bytes"},
    {"fragmentation_peak", "ratio", "1 - allocated block bytes / arena bytes, at the fullest moment of the arena peak"},
    {"arenas_end", "count", "arenas still mapped at exit"},
    {"large_allocs", "count", "requests above 512 bytes sent to malloc"},
};
GCL_ALLOCATOR_DECLARE(GCL_NONE, 0, figures, GCL_COUNT(figures));

int gcl_allocator_init(const struct gcl_init *init) { /* the state is statically initialised */
  (void)init;
  return 0;
}
void gcl_allocator_thread_attach(struct gcl_allocator_mutator *am) { (void)am; }
void gcl_allocator_thread_detach(struct gcl_allocator_mutator *am) { /* under the GIL, if on */
  (void)am;
  bool locked = gcl_pool_lock();
  drain_foreign();
  gcl_pool_unlock(locked);
}

void gcl_pool_stats_get(struct gcl_pool_stats *out) {
  bool locked = gcl_pool_lock();
  drain_foreign();
  out->arenas = narenas;
  out->arenas_peak = narenas_peak;
  out->pools = npools;
  out->pools_peak = npools_peak;
  out->block_bytes = gcl_pool.block_bytes;
  out->large_allocs = nlarge;
  out->large_bytes = large_bytes;
  out->footprint = narenas * GCL_POOL_ARENA_SIZE + large_bytes;
  out->footprint_peak = footprint_peak;
  out->fragmentation_peak = frag_at_peak;
  out->lock_contended = lock_contended;
  gcl_pool_unlock(locked);
}

/* Capability heap-walk (core/allocator.h): every block handed out and not freed, under the
 * lock. A pool's free blocks are found from its free list (a bitmap of at most 1021 bits,
 * on the stack); every other carved block (offset below nextoffset) is allocated. */
void gcl_allocator_walk(void (*visit)(void *mem, size_t bytes, void *ctx), void *ctx) {
  enum { MAXBLOCKS = (GCL_POOL_POOL_SIZE - GCL_POOL_OVERHEAD) / GCL_POOL_ALIGNMENT };
  bool locked = gcl_pool_lock();
  drain_foreign();
  for (unsigned i = 0; i < arenas_allocated; i++) {
    struct gcl_pool_arena *a = &arenas[i];
    if (!a->address) continue;
    uint64_t freemask = 0;
    for (struct gcl_pool_header *p = a->freepools; p; p = p->nextpool)
      freemask |= (uint64_t)1 << (((uintptr_t)p - a->address) / GCL_POOL_POOL_SIZE);
    unsigned carved = (unsigned)(((uintptr_t)a->pool_address - a->address) / GCL_POOL_POOL_SIZE);
    for (unsigned k = 0; k < carved; k++) {
      if (freemask >> k & 1) continue;
      struct gcl_pool_header *p = (struct gcl_pool_header *)(a->address + k * GCL_POOL_POOL_SIZE);
      size_t size = GCL_POOL_CLASS_SIZE(p->szidx);
      char *b = (char *)p + GCL_POOL_OVERHEAD, *end = (char *)p + p->nextoffset;
      if (!p->freeblock) { /* full: every carved block is allocated */
        for (; b < end; b += size) visit(b, size, ctx);
        continue;
      }
      uint64_t isfree[(MAXBLOCKS + 63) / 64];
      size_t nblocks = (size_t)(end - b) / size;
      memset(isfree, 0, (nblocks + 63) / 64 * sizeof *isfree);
      for (void *f = p->freeblock; f; f = gcl_pool_link_get(f)) {
        size_t n = ((uintptr_t)f - (uintptr_t)b) / size;
        isfree[n / 64] |= (uint64_t)1 << (n % 64);
      }
      for (size_t n = 0; n < nblocks; n++, b += size)
        if (!(isfree[n / 64] >> (n % 64) & 1)) visit(b, size, ctx);
    }
  }
  for (size_t i = 0; i < large.n; i++) {
    if (i + 8 < large.n) __builtin_prefetch(large.blocks[i + 8]);
    visit(large.blocks[i] + 1, large.blocks[i]->bytes, ctx);
  }
  gcl_pool_unlock(locked);
}

/* Arenas plus live malloc-routed bytes (the footprint), from its atomic mirror: the
 * sampler is no mutator and, under the GIL, pool takes no lock to read under. */
int64_t gcl_allocator_committed_bytes(void) {
  return (int64_t)__atomic_load_n(&footprint_now, __ATOMIC_RELAXED);
}

void gcl_allocator_report(struct gcl_report *r) {
  struct gcl_pool_stats s;
  gcl_pool_stats_get(&s);
  gcl_report_figure_u64(r, "arenas_peak", s.arenas_peak);
  gcl_report_figure_u64(r, "pools_peak", s.pools_peak);
  gcl_report_figure_u64(r, "footprint_peak_kb", (s.footprint_peak + 1023) / 1024);
  if (s.arenas_peak > 0) gcl_report_figure(r, "fragmentation_peak", s.fragmentation_peak);
  gcl_report_figure_u64(r, "arenas_end", s.arenas);
  gcl_report_figure_u64(r, "large_allocs", s.large_allocs);
}

/* --- consistency check (tests) ----------------------------------------------------------- */

#define CHECK(cond, code)                                                     \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "gcl_pool_check: %s failed (%d)\n", #cond, code);       \
      rc = code;                                                              \
      goto out;                                                               \
    }                                                                         \
  } while (0)

static unsigned class_capacity(unsigned idx) {
  return (unsigned)((GCL_POOL_POOL_SIZE - GCL_POOL_OVERHEAD) / GCL_POOL_CLASS_SIZE(idx));
}

int gcl_pool_check(void) {
  int rc = 0;
  bool locked = gcl_pool_lock();
  drain_foreign();
  /* usable_arenas: links, ascending order, nfp2lasta, at most one entirely free arena. */
  unsigned seen_last[GCL_POOL_POOLS_PER_ARENA + 1] = {0};
  unsigned empty_arenas = 0;
  struct gcl_pool_arena *prev = NULL;
  for (struct gcl_pool_arena *a = usable_arenas; a; prev = a, a = a->nextarena) {
    CHECK(a->address != 0, -1);
    CHECK(a->prevarena == prev, -2);
    CHECK(a->nfreepools > 0 && a->nfreepools <= a->ntotalpools, -3);
    CHECK(!prev || prev->nfreepools <= a->nfreepools, -4);
    if (!a->nextarena || a->nextarena->nfreepools != a->nfreepools) {
      CHECK(nfp2lasta[a->nfreepools] == a, -5);
      seen_last[a->nfreepools] = 1;
    }
  }
  for (unsigned n = 0; n <= GCL_POOL_POOLS_PER_ARENA; n++)
    CHECK(seen_last[n] || nfp2lasta[n] == NULL, -6);
  /* Every mapped arena: free pool count, and every used pool's contents. */
  uint64_t mapped = 0, pools_used = 0, bytes = 0;
  uint64_t nonfull[GCL_POOL_NCLASSES] = {0};
  for (unsigned i = 0; i < arenas_allocated; i++) {
    struct gcl_pool_arena *a = &arenas[i];
    if (!a->address) continue;
    mapped++;
    uint64_t freemask = 0;
    unsigned nfree = 0;
    for (struct gcl_pool_header *p = a->freepools; p; p = p->nextpool) {
      unsigned k = (unsigned)(((uintptr_t)p - a->address) / GCL_POOL_POOL_SIZE);
      CHECK(k < GCL_POOL_POOLS_PER_ARENA && !(freemask >> k & 1), -7);
      freemask |= (uint64_t)1 << k;
      nfree++;
    }
    unsigned carved = (unsigned)(((uintptr_t)a->pool_address - a->address) / GCL_POOL_POOL_SIZE);
    CHECK(nfree + (a->ntotalpools - carved) == a->nfreepools, -8);
    if (a->nfreepools == a->ntotalpools) empty_arenas++;
    for (unsigned k = 0; k < carved; k++) {
      if (freemask >> k & 1) continue;
      struct gcl_pool_header *p = (struct gcl_pool_header *)(a->address + k * GCL_POOL_POOL_SIZE);
      unsigned cap = class_capacity(p->szidx);
      size_t size = GCL_POOL_CLASS_SIZE(p->szidx);
      CHECK(p->szidx < GCL_POOL_NCLASSES && p->arenaindex == i, -9);
      CHECK(p->ref > 0 && p->ref <= cap, -10);
      unsigned nfl = 0;
      for (void *b = p->freeblock; b; b = gcl_pool_link_get(b)) {
        CHECK((uintptr_t)b >= (uintptr_t)p + GCL_POOL_OVERHEAD && (uintptr_t)b < (uintptr_t)p + p->nextoffset, -11);
        CHECK(((uintptr_t)b - (uintptr_t)p - GCL_POOL_OVERHEAD) % size == 0, -12);
        CHECK(++nfl <= cap, -13);
      }
      unsigned uncarved = p->nextoffset <= p->maxnextoffset
                              ? (unsigned)((p->maxnextoffset - p->nextoffset) / size + 1) : 0;
      CHECK(p->ref + nfl + uncarved == cap, -14);
      CHECK((p->freeblock == NULL) == (p->ref == cap), -15);
      if (p->freeblock) nonfull[p->szidx]++;
      pools_used++;
      bytes += (uint64_t)p->ref * size;
    }
  }
  CHECK(mapped == narenas && empty_arenas <= 1, -16);
  CHECK(pools_used == npools && bytes == gcl_pool.block_bytes, -17);
  /* usedpools rings hold exactly the non-full used pools of their class. */
  for (unsigned idx = 0; idx < GCL_POOL_NCLASSES; idx++) {
    struct gcl_pool_header *h = gcl_pool.usedpools[idx];
    uint64_t n = 0;
    if (h) {
      struct gcl_pool_header *p = h;
      do {
        CHECK(p->szidx == idx && p->freeblock != NULL && p->nextpool->prevpool == p, -18);
        CHECK(++n <= nonfull[idx], -19);
        p = p->nextpool;
      } while (p != h);
    }
    CHECK(n == nonfull[idx], -20);
  }
out:
  gcl_pool_unlock(locked);
  return rc;
}

size_t gcl_pool_usable_arenas(unsigned *nfree, size_t max) {
  size_t n = 0;
  bool locked = gcl_pool_lock();
  drain_foreign();
  for (struct gcl_pool_arena *a = usable_arenas; a && n < max; a = a->nextarena) nfree[n++] = a->nfreepools;
  gcl_pool_unlock(locked);
  return n;
}
