/* SPDX-License-Identifier: MIT */
/* allocators/sys/sys-attrs.h — the C library's malloc/free, the baseline every other
 * allocator is compared with. */
#ifndef GCL_SYS_ATTRS_H
#define GCL_SYS_ATTRS_H

#include <stdlib.h>

#define GCL_ALLOCATOR_NAME "sys"

struct gcl_allocator_mutator {
  char unused; /* malloc keeps its own per-thread caches */
};

static inline void *gcl_allocator_alloc(struct gcl_allocator_mutator *am, size_t bytes) {
  (void)am;
  return malloc(bytes);
}

static inline void gcl_allocator_free(struct gcl_allocator_mutator *am, void *p, size_t bytes) {
  (void)am, (void)bytes;
  free(p);
}

#endif
