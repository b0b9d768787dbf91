/* core/assert.h — graded assertions.
 *
 * GCL_DEBUG selects how much checking is compiled in (default 0 in Release builds):
 *   0  only GCL_ASSERT_ALWAYS (cheap checks whose failure means memory corruption);
 *   1  + GCL_ASSERT (invariants checked at cold-path boundaries);
 *   2  + GCL_ASSERT_EXPENSIVE (checks that walk lists or heaps; for debugging only).
 * A failed assertion prints file:line and the expression, then abort()s: a GC bug must never
 * be turned into a wrong number. */
#ifndef GCL_ASSERT_H
#define GCL_ASSERT_H

#ifndef GCL_DEBUG
#define GCL_DEBUG 0
#endif

#define GCL_LIKELY(x) __builtin_expect(!!(x), 1)
#define GCL_UNLIKELY(x) __builtin_expect(!!(x), 0)

_Noreturn void gcl_assert_fail(const char *expr, const char *file, int line);

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
