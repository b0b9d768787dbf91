/* SPDX-License-Identifier: MIT */
/* allocators/pool/pool-attrs.h — the pymalloc (CPython obmalloc) small-object allocator:
 * constants, the pool header, the global state and the inline alloc/free fast paths.
 * The cold paths (taking a pool from an arena, mapping and unmapping arenas) are in pool.c.
 *
 * Invariants (all under the one global lock, gcl_pool.lock, or in GIL mode under the GIL,
 * when the lock is not taken at all: see "Thread safety" in README.md):
 *  - Requests of 1..512 bytes use size class idx = (n-1) >> 4 (block size (idx+1) * 16);
 *    0 and > 512 go to malloc/free. free receives the allocated size, so it routes by size.
 *  - Arenas are 1 MiB mappings aligned to 16 KiB, so each holds exactly 64 pools and the
 *    pool of a block is its address rounded down to 16 KiB.
 *  - usedpools[idx] is NULL or a circular doubly linked list of the pools of class idx that
 *    have both allocated and free blocks; every pool on it has freeblock != NULL (when the
 *    last free block is taken, the next block is carved, or the pool, now full, is unlinked).
 *  - A full pool is on no list (freeblock == NULL); an empty pool is on its arena's
 *    freepools list.
 *  - Blocks on a freeblock list hold the next free block in their first word.
 *  - In GIL mode a free with am == NULL (a thread that holds no GIL: liburcu's call_rcu
 *    thread, the verifier's release) touches no pool state: it pushes the block on the
 *    atomic `foreign` stack, which a GIL holder drains in pool.c's cold paths.
 *
 * Macros: GCL_DEBUG >= 1 checks the size passed to free against the pool's class;
 * under AddressSanitizer (__SANITIZE_ADDRESS__) free and never-carved blocks are poisoned. */
#ifndef GCL_POOL_ATTRS_H
#define GCL_POOL_ATTRS_H

#include <stddef.h>
#include <stdint.h>

#include "assert.h"
#include "gil.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define GCL_POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define GCL_POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define GCL_POOL_POISON(p, n) ((void)(p), (void)(n))
#define GCL_POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define GCL_ALLOCATOR_NAME "pool"

#define GCL_POOL_ALIGNMENT_SHIFT 4                             /* blocks are 16-byte aligned */
#define GCL_POOL_ALIGNMENT (1u << GCL_POOL_ALIGNMENT_SHIFT)    /* size-class spacing */
#define GCL_POOL_SMALL_MAX 512                                 /* largest pooled request */
#define GCL_POOL_NCLASSES (GCL_POOL_SMALL_MAX >> GCL_POOL_ALIGNMENT_SHIFT) /* 32 */
#define GCL_POOL_POOL_SIZE ((size_t)16 << 10)                 /* 16 KiB */
#define GCL_POOL_ARENA_SIZE ((size_t)1 << 20)                 /* 1 MiB */
#define GCL_POOL_POOLS_PER_ARENA (GCL_POOL_ARENA_SIZE / GCL_POOL_POOL_SIZE) /* 64 */

/* Size class of a request of 1..512 bytes, and the block size of a class. */
#define GCL_POOL_CLASS_OF(n) ((unsigned)(((n) - 1) >> GCL_POOL_ALIGNMENT_SHIFT))
#define GCL_POOL_CLASS_SIZE(idx) ((size_t)((idx) + 1) << GCL_POOL_ALIGNMENT_SHIFT)

/* The header at the start of every 16 KiB pool (48 bytes; blocks start right after it). */
struct gcl_pool_header {
  uint32_t ref;                     /* number of allocated blocks */
  uint32_t szidx;                   /* size class of its blocks */
  void *freeblock;                  /* first free block, NULL when the pool is full */
  struct gcl_pool_header *nextpool; /* usedpools ring, or arena freepools list */
  struct gcl_pool_header *prevpool; /* usedpools ring only */
  uint32_t arenaindex;              /* index of its arena in the arena table */
  uint32_t nextoffset;              /* offset of the next never-used block */
  uint32_t maxnextoffset;           /* largest valid nextoffset */
};

/* Blocks start at the header size rounded up to the alignment. */
#define GCL_POOL_OVERHEAD                                                                  \
  ((sizeof(struct gcl_pool_header) + GCL_POOL_ALIGNMENT - 1) & ~(size_t)(GCL_POOL_ALIGNMENT - 1))

/* The one process-wide allocator state the fast paths touch. */
struct gcl_pool_state {
  int lock;                                               /* 0 free, 1 held; see gcl_pool_lock */
  struct gcl_pool_foreign *foreign;                       /* atomic: GIL mode's am == NULL frees */
  uint64_t block_bytes;                                   /* bytes in allocated pooled blocks */
  struct gcl_pool_header *usedpools[GCL_POOL_NCLASSES];   /* partially used pools per class */
};

extern struct gcl_pool_state gcl_pool;

/* A block freed with am == NULL in GIL mode, waiting for a GIL holder (written into the
 * block itself: every block, pooled or malloc-routed, has at least 16 usable bytes). */
struct gcl_pool_foreign {
  struct gcl_pool_foreign *next; /* the rest of the stack */
  size_t bytes;                  /* the size the block was allocated with */
};

/* Per-thread state: none, the design is one global lock as under CPython's GIL. */
struct gcl_allocator_mutator {
  char unused; /* no per-thread caches by design */
};

/* Figures for the report and for tests (a consistent snapshot, taken under the lock). */
struct gcl_pool_stats {
  uint64_t arenas;             /* arenas mapped now */
  uint64_t arenas_peak;        /* most arenas mapped at once */
  uint64_t pools;              /* pools in use now (partially used or full) */
  uint64_t pools_peak;         /* most pools in use at once */
  uint64_t block_bytes;        /* bytes in allocated pooled blocks now */
  uint64_t large_allocs;       /* requests routed to malloc, ever */
  uint64_t large_bytes;        /* bytes requested from malloc and not yet freed */
  uint64_t footprint;          /* arenas x 1 MiB + large_bytes, now */
  uint64_t footprint_peak;     /* its maximum */
  double fragmentation_peak;   /* see pool.c; meaningful only when arenas_peak > 0 */
  uint64_t lock_contended;     /* lock acquisitions that had to wait */
};

/* Cold paths, in pool.c. */
void gcl_pool_lock_slow(void);
void gcl_pool_free_foreign(void *p, size_t bytes); /* GIL mode, am == NULL */
void *gcl_pool_alloc_new_pool(unsigned idx);  /* usedpools[idx] is empty; under the lock */
void gcl_pool_pool_full(struct gcl_pool_header *pool); /* unlink a pool that just filled */
void gcl_pool_free_slow(struct gcl_pool_header *pool, int was_full); /* full->used, ->empty */
void *gcl_pool_large_alloc(size_t bytes);
void gcl_pool_large_free(void *p, size_t bytes);
void gcl_pool_stats_get(struct gcl_pool_stats *out);
/* Tests: walk every list and check the invariants above and the arena ordering; returns 0
 * when they hold, else a negative number naming the first violated check. */
int gcl_pool_check(void);
/* Tests: the nfreepools of each usable arena in list order (at most max); returns the count. */
size_t gcl_pool_usable_arenas(unsigned *nfree, size_t max);

/* --- the lock: test-and-test-and-set; waiting is done out of line (spin, then yield) ----
 * In GIL mode the lock is not taken: the fast paths test gcl_gil_enabled once (a branch
 * that goes the same way for the whole run) and run an unlocked copy of their body. Every
 * caller is then a GIL holder or runs while no mutator is attached (figures at exit). */

static inline void gcl_pool_lock_raw(void) {
  if (GCL_UNLIKELY(__atomic_exchange_n(&gcl_pool.lock, 1, __ATOMIC_ACQUIRE))) gcl_pool_lock_slow();
}

static inline void gcl_pool_unlock_raw(void) { __atomic_store_n(&gcl_pool.lock, 0, __ATOMIC_RELEASE); }

/* The cold paths' form: true when it took the lock, to be passed to unlock. */
static inline bool gcl_pool_lock(void) {
  if (gcl_gil_enabled) return false;
  gcl_pool_lock_raw();
  return true;
}

static inline void gcl_pool_unlock(bool locked) {
  if (locked) gcl_pool_unlock_raw();
}

/* --- the free-list link stored in a free block's first word ----------------------------- */

static inline void *gcl_pool_link_get(void *block) {
  GCL_POOL_UNPOISON(block, sizeof(void *));
  void *next = *(void **)block;
  GCL_POOL_POISON(block, sizeof(void *));
  return next;
}

static inline void gcl_pool_link_set(void *block, void *next) {
  GCL_POOL_UNPOISON(block, sizeof(void *));
  *(void **)block = next;
  GCL_POOL_POISON(block, sizeof(void *));
}

static inline struct gcl_pool_header *gcl_pool_of(const void *p) {
  return (struct gcl_pool_header *)((uintptr_t)p & ~(uintptr_t)(GCL_POOL_POOL_SIZE - 1));
}

/* --- the fast paths ---------------------------------------------------------------------- */

/* A block of class idx, under the lock (or the GIL): from the head of usedpools, or from a
 * new pool; NULL when no arena can be mapped. Counts it in block_bytes. */
static inline void *gcl_pool_take_block(unsigned idx) {
  struct gcl_pool_header *pool = gcl_pool.usedpools[idx];
  if (GCL_UNLIKELY(pool == NULL)) return gcl_pool_alloc_new_pool(idx);
  /* The pool is partially used, so its freeblock list is not empty. */
  pool->ref++;
  void *bp = pool->freeblock;
  void *next = gcl_pool_link_get(bp);
  pool->freeblock = next;
  if (GCL_UNLIKELY(next == NULL)) {
    /* Keep freeblock non-NULL: carve the next never-used block, if any is left. */
    if (GCL_LIKELY(pool->nextoffset <= pool->maxnextoffset)) {
      void *nb = (char *)pool + pool->nextoffset;
      pool->nextoffset += (uint32_t)GCL_POOL_CLASS_SIZE(idx);
      pool->freeblock = nb;
      gcl_pool_link_set(nb, NULL);
    } else {
      gcl_pool_pool_full(pool);
    }
  }
  gcl_pool.block_bytes += GCL_POOL_CLASS_SIZE(idx);
  return bp;
}

/* Put a pooled block back, under the lock (or the GIL). */
static inline void gcl_pool_free_block(void *p, size_t bytes) {
  GCL_ASSERT(p != NULL);
  struct gcl_pool_header *pool = gcl_pool_of(p);
  size_t size = GCL_POOL_CLASS_SIZE(GCL_POOL_CLASS_OF(bytes));
  GCL_POOL_POISON(p, size); /* under the lock: a heap walk never reads a poisoned live block */
  GCL_ASSERT(pool->szidx == GCL_POOL_CLASS_OF(bytes) && pool->ref > 0);
  void *last = pool->freeblock;
  gcl_pool_link_set(p, last);
  pool->freeblock = p;
  pool->ref--;
  gcl_pool.block_bytes -= size;
  /* A pool that was full goes back on usedpools; one that is now empty goes to its arena. */
  if (GCL_UNLIKELY(last == NULL || pool->ref == 0)) gcl_pool_free_slow(pool, last == NULL);
}

static inline void *gcl_allocator_alloc(struct gcl_allocator_mutator *am, size_t bytes) {
  (void)am;
  /* bytes - 1 wraps for 0, so one comparison sends both 0 and > 512 to malloc. */
  if (GCL_UNLIKELY(bytes - 1 >= GCL_POOL_SMALL_MAX)) return gcl_pool_large_alloc(bytes);
  unsigned idx = GCL_POOL_CLASS_OF(bytes);
  void *bp;
  /* One test of the mode, then two copies of the body: the locked one is the code of a
   * build without GIL mode plus this branch. */
  if (gcl_gil_enabled) {
    bp = gcl_pool_take_block(idx);
  } else {
    gcl_pool_lock_raw();
    bp = gcl_pool_take_block(idx);
    gcl_pool_unlock_raw();
  }
  if (GCL_LIKELY(bp != NULL)) GCL_POOL_UNPOISON(bp, GCL_POOL_CLASS_SIZE(idx));
  return bp;
}

static inline void gcl_allocator_free(struct gcl_allocator_mutator *am, void *p, size_t bytes) {
  if (GCL_UNLIKELY(am == NULL) && gcl_gil_enabled) {
    gcl_pool_free_foreign(p, bytes);
    return;
  }
  if (GCL_UNLIKELY(bytes - 1 >= GCL_POOL_SMALL_MAX)) {
    gcl_pool_large_free(p, bytes);
    return;
  }
  if (gcl_gil_enabled) { /* as in gcl_allocator_alloc */
    gcl_pool_free_block(p, bytes);
  } else {
    gcl_pool_lock_raw();
    gcl_pool_free_block(p, bytes);
    gcl_pool_unlock_raw();
  }
}

#endif

