/* SPDX-License-Identifier: MIT */
/* allocators/mimalloc/mimalloc-attrs.h — an adapter for Microsoft's mimalloc (Debian's
 * libmimalloc 2.0.x): every mutator thread allocates from a mimalloc heap of its own
 * (mi_heap_new at attach), as free-threaded CPython 3.13 keeps GC-tracked objects in a heap
 * apart from other memory; blocks are freed with mi_free from any thread.
 *
 * Invariants:
 *  - am->heap is used only by its owner thread (mimalloc heaps are not thread-safe); a
 *    free from another thread, or from no mutator (am == NULL: liburcu's callback thread,
 *    the verifier), goes through mi_free, which mimalloc makes safe from any thread.
 *  - A block that belonged to a thread that has detached is an "orphan" (mimalloc 2.0.x
 *    abandons an exited thread's pages, and mi_heap_visit_blocks cannot reach abandoned
 *    pages): the detaching thread records its live blocks in the orphan table
 *    (mimalloc.c) and every free checks that table while it is not empty, so the walk of
 *    capability heap-walk still sees every live block exactly once. While a detach is in
 *    progress or orphans exist, gcl_mimalloc_slow != 0 and every free takes the locked
 *    slow path; a detaching thread raises it, then waits a QSBR grace period, so no
 *    fast-path free that missed the raise is still running when it records its blocks.
 *  - Frees with am == NULL serialise with the heap walk (gcl_mimalloc_deferred_lock), so
 *    a block freed by liburcu's thread is never half-freed while a walk reads it.
 *  - Every free writes GCL_MIMALLOC_FREED into the block's second word before mi_free
 *    (mimalloc links a free block through its first word only). mimalloc does not collect
 *    a cross-thread free into a full page until its owner runs (the heap's delayed-free
 *    list), so mi_heap_visit_blocks can report such a block as live; the walk skips blocks
 *    that carry the mark. A live block never carries it: allocation clears the word (a
 *    collector's prefix may leave it unwritten, as brc's queue link is), before the block
 *    is handed out. Requests are rounded up to 16 bytes, so the mark always fits.
 *    Only pairs whose collector walks the heap (GCL_COLLECTOR_REQUIRES_HEAP_WALK) keep the
 *    mark on their fast paths (GCL_MIMALLOC_MARKS); in the others no walk may run
 *    (mimalloc.c asserts it), and the two stores cost every allocation and free for
 *    nothing (issue 13: about 6 of rc-plain's ~84 extra instructions a binary-trees node).
 *
 *  - gclab's heaps live in an exclusive mimalloc arena (reserved, not committed, at init:
 *    option `arena`). mimalloc reclaims an exited thread's abandoned pages into whichever
 *    heap allocates next; with the arena only gclab heaps can take gclab pages, and never
 *    the C library malloc's, so a walk never meets a block that is not a gclab object.
 *    A reclaimed orphan met by a walk is re-adopted (leaves the orphan table).
 *
 * Linking libmimalloc replaces malloc for the whole runner (it exports malloc/free): the
 * row's malloc_lib says so. Not built under the sanitizers (their interceptors own malloc). */
#ifndef GCL_MIMALLOC_ATTRS_H
#define GCL_MIMALLOC_ATTRS_H

#include <mimalloc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "assert.h"

#define GCL_ALLOCATOR_NAME "mimalloc"
/* Capability heap-walk-parallel (core/allocator.h; mimalloc.c): part k of n visits heaps
 * k, k+n, ... of the registry, part n-1 also the orphan table. */
#define GCL_ALLOCATOR_WALK_PARALLEL 1

struct gcl_allocator_mutator {
  mi_heap_t *heap;                     /* this thread's heap (NULL before attach) */
  struct gcl_allocator_mutator *next;  /* registry of attached threads (mimalloc.c) */
  struct gcl_allocator_mutator *prev;  /* same */
};

#define GCL_MIMALLOC_FREED ((uintptr_t)0x9d5f3e1c0ffee5edull) /* "freed" mark, word 1 */
#if GCL_COLLECTOR_REQUIRES_HEAP_WALK
#define GCL_MIMALLOC_MARKS 1 /* the fast paths write and clear the freed mark */
#define GCL_MIMALLOC_ORPHANS 1 /* detaches record orphans and may raise gcl_mimalloc_slow */
#else
#define GCL_MIMALLOC_MARKS 0
#define GCL_MIMALLOC_ORPHANS 0 /* gcl_mimalloc_slow stays 0: frees do not test it */
#endif

extern int gcl_mimalloc_slow;          /* detaches in progress + (orphans exist); read on every free */
void gcl_mimalloc_free_slow(void *p);  /* free with am == NULL or while orphans exist */

static inline void *gcl_allocator_alloc(struct gcl_allocator_mutator *am, size_t bytes) {
  GCL_ASSERT(am && am->heap);
  uintptr_t *p = mi_heap_malloc(am->heap, bytes < 16 ? 16 : bytes); /* room for the mark */
  if (GCL_MIMALLOC_MARKS && GCL_LIKELY(p != NULL)) p[1] = 0; /* a reused block must not keep its mark */
  return p;
}

/* gcl_mimalloc_slow is raised only where orphans are recorded (GCL_MIMALLOC_ORPHANS: a
 * collector that walks the heap, mimalloc.c's RECORD_ORPHANS); elsewhere it stays 0 and
 * its load and test on every free are left out (issue 13). */
static inline void gcl_allocator_free(struct gcl_allocator_mutator *am, void *p, size_t bytes) {
  (void)bytes;
  if (GCL_LIKELY(am != NULL) &&
      (!GCL_MIMALLOC_ORPHANS || GCL_LIKELY(!__atomic_load_n(&gcl_mimalloc_slow, __ATOMIC_RELAXED)))) {
    if (GCL_MIMALLOC_MARKS) ((uintptr_t *)p)[1] = GCL_MIMALLOC_FREED;
    mi_free(p);
  } else {
    gcl_mimalloc_free_slow(p); /* writes the mark under the walk's lock */
  }
}

#endif
