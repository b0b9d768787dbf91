/* SPDX-License-Identifier: MIT */
/* allocators/jemalloc/jemalloc-attrs.h — an adapter for jemalloc (Debian's libjemalloc 5.3):
 * mallocx for allocation and sized deallocation (sdallocx) for free, since gclab always
 * passes the allocated size; jemalloc's per-thread caches do the rest. No heap walk
 * (jemalloc cannot enumerate its blocks), so collectors that REQUIRE heap-walk do not pair
 * with it.
 *
 * Linking libjemalloc replaces malloc for the whole runner (it exports malloc/free): the
 * row's malloc_lib says so. Not built under the sanitizers (their interceptors own malloc). */
#ifndef GCL_JEMALLOC_ATTRS_H
#define GCL_JEMALLOC_ATTRS_H

#include <jemalloc/jemalloc.h>
#include <stddef.h>

#define GCL_ALLOCATOR_NAME "jemalloc"

struct gcl_allocator_mutator {
  char unused; /* jemalloc keeps its own per-thread caches */
};

static inline void *gcl_allocator_alloc(struct gcl_allocator_mutator *am, size_t bytes) {
  (void)am;
  return mallocx(bytes ? bytes : 1, 0);
}

static inline void gcl_allocator_free(struct gcl_allocator_mutator *am, void *p, size_t bytes) {
  (void)am;
  sdallocx(p, bytes ? bytes : 1, 0);
}

#endif
