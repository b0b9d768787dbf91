/* SPDX-License-Identifier: MIT */
/* tests/plugin/probe/probe-attrs.h — `probe`, the plug-in contract's test allocator: the C
 * library's malloc/free (a copy of allocators/sys/) that counts its calls, declares two
 * figures and one option, and lives in one folder. tests/plugin/plugin.sh copies it into a
 * copy of the source tree with one CMake line and checks that gclab learns everything
 * about it from the runner alone (issue 11's "done when").
 *
 * Invariant: gcl_probe_allocs/frees count every call through this allocator (relaxed
 * atomics: several threads allocate). */
#ifndef GCL_PROBE_ATTRS_H
#define GCL_PROBE_ATTRS_H

#include <stdint.h>
#include <stdlib.h>

#define GCL_ALLOCATOR_NAME "probe"

struct gcl_allocator_mutator {
  char unused; /* malloc keeps its own per-thread caches */
};

extern uint64_t gcl_probe_allocs, gcl_probe_frees; /* calls so far */
extern size_t gcl_probe_pad;                       /* the `pad` option: bytes added to each request */

static inline void *gcl_allocator_alloc(struct gcl_allocator_mutator *am, size_t bytes) {
  (void)am;
  __atomic_fetch_add(&gcl_probe_allocs, 1, __ATOMIC_RELAXED);
  return malloc(bytes + gcl_probe_pad);
}

static inline void gcl_allocator_free(struct gcl_allocator_mutator *am, void *p, size_t bytes) {
  (void)am, (void)bytes;
  __atomic_fetch_add(&gcl_probe_frees, 1, __ATOMIC_RELAXED);
  free(p);
}

#endif
