/* SPDX-License-Identifier: MIT */
/* allocators/bdw/bdw-attrs.h — the Boehm-Demers-Weiser heap (Debian libgc-dev) as an
 * allocator: GC_MALLOC on the fast path, nothing on free.
 *
 * This allocator provides own-heap and serves only collectors that require it (its CMake
 * line: PROVIDES own-heap ONLY_WITH own-heap): memory from GC_MALLOC is reclaimed by libgc
 * once no pointer libgc can see remains, so under a collector that keeps references where
 * libgc does not look (reference counts, malloc'd tables) objects would be freed under
 * the mutator. The one such collector is collectors/bdw.
 *
 * Invariants: every block is allocated with GC_MALLOC (scanned conservatively, zeroed,
 * 16-byte aligned on x86-64); gcl_allocator_free never returns memory (libgc does: the
 * only caller under bdw is the verifier's quarantine release, see collectors/bdw).
 *
 * gc.h is not included here: this header reaches every source of the pair through
 * core/mutator.h, and gc.h with GC_THREADS pulls in <signal.h> and <pthread.h> (whose
 * kill() clashes with core/heap.c). The one function the fast path needs is declared below
 * as gc.h declares it; collectors/bdw/bdw-gc.h includes gc.h for the files that talk to
 * libgc. No macros change this header. */
#ifndef GCL_BDW_ALLOC_ATTRS_H
#define GCL_BDW_ALLOC_ATTRS_H

#include <stddef.h>

/* libgc's allocation (gc.h: GC_MALLOC is GC_malloc outside GC_DEBUG builds). */
extern void *GC_malloc(size_t bytes) __attribute__((malloc, alloc_size(1)));

#define GCL_ALLOCATOR_NAME "bdw"

struct gcl_allocator_mutator {
  char unused; /* libgc keeps its thread-local free lists itself */
};

static inline void *gcl_allocator_alloc(struct gcl_allocator_mutator *am, size_t bytes) {
  (void)am;
  return GC_malloc(bytes);
}

static inline void gcl_allocator_free(struct gcl_allocator_mutator *am, void *p, size_t bytes) {
  (void)am, (void)p, (void)bytes; /* libgc reclaims it when unreachable */
}

#endif
