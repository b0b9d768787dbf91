/* SPDX-License-Identifier: MIT */
/* core/assert.h — graded assertions.
 *
 * GCL_DEBUG selects how much checking is compiled in (default 0 in Release builds):
 *   0  only GCL_ASSERT_ALWAYS (cheap checks whose failure means memory corruption);
 *   1  + GCL_ASSERT (invariants checked at cold-path boundaries);
 *   2  + GCL_ASSERT_EXPENSIVE (checks that walk lists or heaps; for debugging only).
 * A failed assertion prints file:line and the expression, then abort()s: a GC bug must never
 * be turned into a wrong number. Running out of memory is the other unrecoverable failure:
 * gcl_alloc_failed prints how much was asked for and abort()s the same way. This header
 * depends on nothing else of core/, so every file of core/ may include it. */
#ifndef GCL_ASSERT_H
#define GCL_ASSERT_H

#include <stddef.h>

#ifndef GCL_DEBUG
#define GCL_DEBUG 0
#endif

#define GCL_LIKELY(x) __builtin_expect(!!(x), 1)
#define GCL_UNLIKELY(x) __builtin_expect(!!(x), 0)

_Noreturn void gcl_assert_fail(const char *expr, const char *file, int line);
/* Out of memory: prints "out of memory allocating BYTES bytes" and aborts. Returns void *
 * only so that `p = p ? p : gcl_alloc_failed(n)` reads naturally; it never returns. */
void *gcl_alloc_failed(size_t bytes);
/* Called first by gcl_alloc_failed when set (core/heap.c sets it under a heap limit, so
 * that memory running out ends the cell with status oom, as crossing the limit does); it
 * does not return when it handles the failure. */
extern void (*gcl_alloc_failed_hook)(size_t bytes);

#define GCL_ASSERT_ALWAYS(e) \
  (GCL_LIKELY(e) ? (void)0 : gcl_assert_fail(#e, __FILE__, __LINE__))
#if GCL_DEBUG >= 1
#define GCL_ASSERT(e) GCL_ASSERT_ALWAYS(e)
#else
#define GCL_ASSERT(e) ((void)0)
#endif
#if GCL_DEBUG >= 2
#define GCL_ASSERT_EXPENSIVE(e) GCL_ASSERT_ALWAYS(e)
#else
#define GCL_ASSERT_EXPENSIVE(e) ((void)0)
#endif

#endif
