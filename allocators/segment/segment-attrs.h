/* SPDX-License-Identifier: MIT */
/* allocators/segment/segment-attrs.h — a per-thread segment allocator in the spirit of
 * mimalloc (REFERENCE §7): constants, the segment and page layout, the per-thread heap and
 * the inline allocation and free fast paths. Cold paths: segment.c (heap: page queues,
 * collection of remote frees, abandon/reclaim, delayed decommit), segment-walk.c (the two
 * heap walks, figures), segment-os.c (mapping, cache, registry, large blocks, NUMA).
 *
 * Layout: memory comes in 4 MiB segments aligned to 4 MiB; the segment of a block is its
 * address rounded down to 4 MiB, its page the 64 KiB slice of the segment it lies in.
 * Page 0 holds the segment header (struct gcl_segment, with every page's metadata and
 * allocation bitmap); pages 1..63 hold blocks of one size class each. Requests above
 * GCL_SEGMENT_SMALL_MAX (8 KiB) get a dedicated mapping (segment-os.c).
 *
 * Invariants:
 *  - A page's `free`, `local_free`, `used`, `capacity`, queue links and the segment's page
 *    bookkeeping are touched only by the heap that owns the segment (seg->owner == its id),
 *    or by a thread that holds the segment off every list (abandon, reclaim).
 *  - `thread_free` is a lock-free stack: any thread pushes with a CAS; only the owner takes
 *    the whole stack (exchange with NULL). Blocks on it still count in `used` and keep
 *    their allocation bit until the owner collects them.
 *  - bits[] has one bit per 16-byte granule of the page; a bit is set exactly at the first
 *    granule of every block that is handed out and not yet collected as freed. Only the
 *    owner writes it, with plain atomic stores (no read-modify-write).
 *  - Free-list links live in a block's second word (bytes 8..15): the first word of a
 *    block is never written by the allocator, so a walker that reads it (brc's owner field)
 *    sees what the client last wrote there, even while liburcu's thread frees the block.
 *  - The fast paths take no lock and do no atomic read-modify-write: allocation pops
 *    `free`; a free by the owner pushes `local_free`. Everything else is out of line.
 *
 * Macros: GCL_SEGMENT_DECOMMIT_MS is the default of option decommit_ms (a free page is
 * decommitted once it waited GCL_SEGMENT_DECOMMIT_DELAY page events and that many ms);
 * GCL_SEGMENT_COUNT_OPS counts lock acquisitions and atomic RMWs per thread
 * (gcl_segment_ops, for tests); GCL_DEBUG >= 1 checks sizes and bits at free; under
 * AddressSanitizer free blocks and untouched page memory are poisoned (a block freed by a
 * non-owner is poisoned only when its owner collects it). */
#ifndef GCL_SEGMENT_ATTRS_H
#define GCL_SEGMENT_ATTRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "assert.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define GCL_SEGMENT_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define GCL_SEGMENT_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define GCL_SEGMENT_POISON(p, n) ((void)(p), (void)(n))
#define GCL_SEGMENT_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define GCL_ALLOCATOR_NAME "segment"

#define GCL_SEGMENT_SHIFT 22                                  /* 4 MiB segments */
#define GCL_SEGMENT_SIZE ((size_t)1 << GCL_SEGMENT_SHIFT)
#define GCL_SEGMENT_PAGE_SHIFT 16                             /* 64 KiB pages */
#define GCL_SEGMENT_PAGE_SIZE ((size_t)1 << GCL_SEGMENT_PAGE_SHIFT)
#define GCL_SEGMENT_PAGES (GCL_SEGMENT_SIZE / GCL_SEGMENT_PAGE_SIZE) /* 64, page 0 = header */
#define GCL_SEGMENT_GRANULE_SHIFT 4                           /* 16-byte alignment */
#define GCL_SEGMENT_BITMAP_WORDS (GCL_SEGMENT_PAGE_SIZE >> GCL_SEGMENT_GRANULE_SHIFT >> 6) /* 64 */
#define GCL_SEGMENT_SMALL_MAX 8192                            /* largest request in a page */
#define GCL_SEGMENT_NCLASSES 56 /* 8 of 16..128 step 16, then 8 per power of two to 8 KiB */
#define GCL_SEGMENT_DECOMMIT_DELAY 64 /* page events a free page waits before madvise, */
#ifndef GCL_SEGMENT_DECOMMIT_MS
#define GCL_SEGMENT_DECOMMIT_MS 500   /* and milliseconds (both must pass; mimalloc delays a segment's 500 ms) */
#endif

/* A free block: the link is in the second word (see the invariants). */
struct gcl_segment_block {
  uintptr_t client_word;           /* never written by the allocator */
  struct gcl_segment_block *next;  /* next free block */
};

#define GCL_SEGMENT_PAGE_FULL 0x1u /* flags: the page is on its heap's full list */

/* Metadata of one page, in its segment's header. */
struct gcl_segment_page {
  struct gcl_segment_block *free;        /* owner: blocks to allocate */
  struct gcl_segment_block *local_free;  /* owner: blocks it freed since the last collect */
  struct gcl_segment_block *thread_free; /* atomic: blocks freed by other threads */
  uint32_t used;                         /* owner: handed out, not collected as freed */
  uint32_t capacity;                     /* owner: blocks carved so far */
  uint32_t reserved;                     /* owner: blocks that fit the page */
  uint32_t block_size;                   /* atomic: bytes per block; 0 when the page is free */
  uint32_t version;                      /* atomic: bumped each time the page is initialised */
  uint32_t swept;                        /* atomic: the sweep epoch that last claimed the page
                                          * (gcl_allocator_page_claim; any thread, CAS) */
  uint8_t flags;                         /* atomic stores, owner reads plainly: PAGE_FULL */
  uint8_t cls;                           /* owner: size class */
  uint8_t in_use;                        /* owner: holds a class (else free in its segment) */
  uint8_t committed;                     /* owner: memory touched and not decommitted */
  uint32_t retired_at;                   /* owner: page event count when it became free */
  uint32_t retired_ms;                   /* owner: coarse monotonic ms when it became free */
  struct gcl_segment_page *next, *prev;  /* owner: class queue, full list or retired list */
  uint64_t bits[GCL_SEGMENT_BITMAP_WORDS]; /* atomic words: allocation bit per granule */
};

/* The header at the start of every segment (page 0). */
struct gcl_segment {
  uint32_t owner;                        /* atomic: owning heap's id, 0 when abandoned/free */
  uint32_t remote_pending;               /* atomic: a remote free hit a full page */
  int32_t node;                          /* NUMA node it was bound to, -1 none */
  uint32_t used_pages;                   /* owner: pages holding a class */
  uint64_t free_mask;                    /* owner: bit i set when page i (1..63) is free */
  struct gcl_segment *next, *prev;       /* owner's list, abandoned list or cache */
  size_t reg_index;                      /* its slot in the registry (segment-os.c) */
  struct gcl_segment_page pages[GCL_SEGMENT_PAGES]; /* pages[0] unused: the header */
};
_Static_assert(sizeof(struct gcl_segment) <= GCL_SEGMENT_PAGE_SIZE, "header fits page 0");

/* The per-thread heap: every page it allocates from is in one of its segments. */
struct gcl_allocator_mutator {
  struct gcl_segment_page *page[GCL_SEGMENT_NCLASSES];  /* head of each class queue (or the
                                                          empty page): the fast path's page */
  struct gcl_segment_page *last[GCL_SEGMENT_NCLASSES];  /* tail of each class queue or NULL */
  uint32_t id;                           /* heap id (never 0, never reused) */
  int32_t node;                          /* NUMA node of its segments; -1 unknown */
  bool node_known;                       /* node has been looked up */
  bool node_bind;                        /* the thread is bound inside `node`: membind */
  int64_t live_bytes;                    /* bytes handed out minus collected, since flush */
  struct gcl_segment *segments;          /* the segments it owns */
  struct gcl_segment_page *full;         /* its full pages (any class) */
  struct gcl_segment_page *retired_first, *retired_last; /* free committed pages, oldest first */
  uint64_t page_events;                  /* pages taken: the clock of delayed decommit */
  uint64_t remote_frees;                 /* its frees into other heaps' pages, since flush */
};

/* Per-thread operation counts (tests; GCL_SEGMENT_COUNT_OPS builds only). */
struct gcl_segment_ops {
  uint64_t locks; /* acquisitions of the global cold-path lock */
  uint64_t rmws;  /* atomic read-modify-writes (CAS, exchange, fetch-add) */
};
#ifdef GCL_SEGMENT_COUNT_OPS
extern _Thread_local struct gcl_segment_ops gcl_segment_ops;
#define GCL_SEGMENT_COUNT(field) (gcl_segment_ops.field++)
#else
#define GCL_SEGMENT_COUNT(field) ((void)0)
#endif

extern struct gcl_segment_page gcl_segment_empty_page; /* free == NULL: sends to slow path */

/* Cold paths (segment.c, segment-os.c). */
void *gcl_segment_alloc_slow(struct gcl_allocator_mutator *am, unsigned cls);
void gcl_segment_free_slow(struct gcl_allocator_mutator *am, struct gcl_segment_page *pg);
void gcl_segment_free_remote(struct gcl_allocator_mutator *am, struct gcl_segment *s,
                             struct gcl_segment_page *pg, void *p);
void *gcl_segment_large_alloc(struct gcl_allocator_mutator *am, size_t bytes);
void gcl_segment_large_free(void *p, size_t bytes);

/* Capability heap-walk-concurrent: visit every block of every page while mutators run,
 * without a global lock; stops early when visit returns false (then returns 1, else 0).
 * `page` is the start of the block's page (or the block itself for a large block).
 * What a concurrent walker sees (README.md, "Concurrent walk"):
 *  - every block allocated before the walk started and not freed before it returns is
 *    visited, exactly once;
 *  - a block allocated or freed while the walk runs may or may not be visited; a block
 *    freed by a non-owner thread and not yet collected by its owner may be visited;
 *  - an address that was never handed out as a block is never visited, and the size given
 *    is the usable size of the block at that address when it was handed out;
 *  - the memory of every visited block stays mapped until the walk returns (it may have
 *    been freed and reused meanwhile: its contents are the visitor's risk, and its first
 *    word is never written by the allocator).
 * visit must not allocate through this allocator; it may free a block it was given as a
 * free by no owner (gcl_allocator_free(NULL, ...): a push onto the page's thread_free,
 * which changes neither the bitmap the walk reads nor any mapping). It is also core's
 * gcl_allocator_walk_concurrent (core/allocator.h). */
#define GCL_ALLOCATOR_HEAP_WALK_CONCURRENT 1
/* Capability heap-walk-parallel (core/allocator.h; segment-walk.c): begin takes one
 * snapshot of the registry, part k of n walks segments k, k+n, k+2n, ... of it (then the
 * large blocks likewise), end drops it. */
#define GCL_ALLOCATOR_WALK_PARALLEL 1
/* Capability heap-walk-own (core/allocator.h; segment-walk.c): a page's `swept` word is
 * its claim (a CAS from any other value to the epoch); the owner walks its own segments'
 * pages, claiming each, while it allocates nothing. */
#define GCL_ALLOCATOR_WALK_OWN 1
int gcl_segment_walk_concurrent(bool (*visit)(void *page, void *mem, size_t bytes, void *ctx),
                                void *ctx);

/* Figures (also what gcl_allocator_report writes), a consistent-enough snapshot. */
struct gcl_segment_stats {
  uint64_t segments, segments_peak;      /* mapped for heaps (not in the cache) */
  uint64_t pages, pages_peak;            /* pages holding a class */
  uint64_t committed, committed_peak;    /* bytes: headers, touched pages, cache, large */
  uint64_t live_bytes;                   /* bytes in allocated blocks (flushed heaps) */
  double fragmentation_peak;             /* committed / live at the committed peak; 0 if none */
  uint64_t remote_frees;                 /* frees into another heap's page (or am == NULL) */
  uint64_t abandoned, reclaimed;         /* segments abandoned by exiting threads, taken over */
  uint64_t decommitted_bytes;            /* bytes madvised back to the OS */
  uint64_t large_allocs;                 /* requests above SMALL_MAX */
  uint64_t cached;                       /* empty segments in the cache now */
  uint64_t numa_nodes_mask;              /* bit n: some heap's memory came from node n */
  uint64_t numa_bind_failures;           /* hwloc_set_area_membind refusals */
};
void gcl_segment_stats_get(struct gcl_segment_stats *out);
/* Option decommit_ms (default GCL_SEGMENT_DECOMMIT_MS): set by gcl_allocator_init; tests
 * may change it between phases (read by the owner's page events only). */
extern uint32_t gcl_segment_decommit_ms;
/* Tests: flush the calling heap's counters into the global figures. */
void gcl_segment_heap_flush(struct gcl_allocator_mutator *am);
/* Tests: check every invariant of the calling heap's segments and pages that can be
 * checked without stopping others; 0, or a negative number naming the failed check. */
int gcl_segment_check(struct gcl_allocator_mutator *am);

/* --- size classes ------------------------------------------------------------------------ */

/* Class of a request of 0..SMALL_MAX bytes: 16-byte steps up to 128 (classes 0..7), then
 * 8 classes per power of two, so a block wastes under 1/9 (< 12.5%) of its size. */
static inline unsigned gcl_segment_class_of(size_t n) {
  if (n <= 128) return n ? (unsigned)((n - 1) >> 4) : 0;
  size_t w = n - 1;
  unsigned b = 63u - (unsigned)__builtin_clzll(w); /* 7..12 */
  return 8u + (b - 7u) * 8u + (unsigned)((w >> (b - 3u)) & 7u);
}

static inline size_t gcl_segment_class_size(unsigned cls) {
  if (cls < 8) return (size_t)(cls + 1) << 4;
  unsigned b = (cls - 8u) / 8u + 7u, c = (cls - 8u) % 8u;
  return (size_t)(9u + c) << (b - 3u);
}

/* --- addresses ------------------------------------------------------------------------- */

static inline struct gcl_segment *gcl_segment_of(const void *p) {
  return (struct gcl_segment *)((uintptr_t)p & ~(uintptr_t)(GCL_SEGMENT_SIZE - 1));
}

static inline struct gcl_segment_page *gcl_segment_page_of(struct gcl_segment *s, const void *p) {
  return &s->pages[((uintptr_t)p >> GCL_SEGMENT_PAGE_SHIFT) & (GCL_SEGMENT_PAGES - 1)];
}

/* The block's granule index inside its page. */
static inline unsigned gcl_segment_granule(const void *p) {
  return (unsigned)(((uintptr_t)p & (GCL_SEGMENT_PAGE_SIZE - 1)) >> GCL_SEGMENT_GRANULE_SHIFT);
}

/* Set or clear a block's allocation bit: only the owner writes bits, so a plain atomic
 * load and store suffice (release: a walker that sees the bit sees the page's class). */
static inline void gcl_segment_bit_put(struct gcl_segment_page *pg, const void *p, bool on) {
  unsigned g = gcl_segment_granule(p);
  uint64_t *w = &pg->bits[g >> 6], m = (uint64_t)1 << (g & 63);
  uint64_t v = __atomic_load_n(w, __ATOMIC_RELAXED);
  GCL_ASSERT(((v & m) != 0) != on);
  __atomic_store_n(w, on ? v | m : v & ~m, __ATOMIC_RELEASE);
}

static inline struct gcl_segment_block *gcl_segment_link_get(struct gcl_segment_block *b) {
  GCL_SEGMENT_UNPOISON(&b->next, sizeof b->next);
  struct gcl_segment_block *n = b->next;
  GCL_SEGMENT_POISON(&b->next, sizeof b->next);
  return n;
}

static inline void gcl_segment_link_set(struct gcl_segment_block *b, struct gcl_segment_block *n) {
  GCL_SEGMENT_UNPOISON(&b->next, sizeof b->next);
  b->next = n;
  GCL_SEGMENT_POISON(&b->next, sizeof b->next);
}

/* --- the fast paths ---------------------------------------------------------------------- */

/* Take the first block of pg's free list (not empty) as allocated: the fast path and the
 * slow path's last step. */
static inline void *gcl_segment_pop(struct gcl_allocator_mutator *am, struct gcl_segment_page *pg,
                                    unsigned cls) {
  struct gcl_segment_block *b = pg->free;
  pg->free = gcl_segment_link_get(b);
  pg->used++;
  gcl_segment_bit_put(pg, b, true);
  /* A request size known at compile time folds to a constant; otherwise the page's block
   * size (the owner published it; near `free`) is one load instead of a branch, a
   * division and shifts. */
  size_t size = __builtin_constant_p(cls) ? gcl_segment_class_size(cls)
                                          : __atomic_load_n(&pg->block_size, __ATOMIC_RELAXED);
  GCL_ASSERT(size == gcl_segment_class_size(cls));
  am->live_bytes += (int64_t)size;
  GCL_SEGMENT_UNPOISON(b, size);
  return b;
}

static inline void *gcl_allocator_alloc(struct gcl_allocator_mutator *am, size_t bytes) {
  if (GCL_UNLIKELY(bytes > GCL_SEGMENT_SMALL_MAX)) return gcl_segment_large_alloc(am, bytes);
  unsigned cls = gcl_segment_class_of(bytes);
  struct gcl_segment_page *pg = am->page[cls];
  if (GCL_UNLIKELY(pg->free == NULL)) return gcl_segment_alloc_slow(am, cls);
  return gcl_segment_pop(am, pg, cls);
}

static inline void gcl_allocator_free(struct gcl_allocator_mutator *am, void *p, size_t bytes) {
  if (GCL_UNLIKELY(bytes > GCL_SEGMENT_SMALL_MAX)) {
    gcl_segment_large_free(p, bytes);
    return;
  }
  GCL_ASSERT(p != NULL);
  struct gcl_segment *s = gcl_segment_of(p);
  struct gcl_segment_page *pg = gcl_segment_page_of(s, p);
  /* Only this heap stores its own id into owner, so a stale read can never match. */
  if (GCL_UNLIKELY(am == NULL || __atomic_load_n(&s->owner, __ATOMIC_RELAXED) != am->id)) {
    gcl_segment_free_remote(am, s, pg, p);
    return;
  }
  size_t size = pg->block_size; /* only the owner writes it */
  GCL_ASSERT(pg->cls == gcl_segment_class_of(bytes) && pg->used > 0);
  gcl_segment_bit_put(pg, p, false);
  GCL_SEGMENT_POISON(p, size);
  struct gcl_segment_block *b = p;
  gcl_segment_link_set(b, pg->local_free);
  pg->local_free = b;
  am->live_bytes -= (int64_t)size;
  if (GCL_UNLIKELY(--pg->used == 0 || pg->flags != 0)) gcl_segment_free_slow(am, pg);
}

#endif
