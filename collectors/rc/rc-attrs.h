/* SPDX-License-Identifier: MIT */
/* collectors/rc/rc-attrs.h — thread-safe reference counting with atomic counts.
 * The naive baseline: every retain/release is an atomic RMW on the object's count word.
 * Cycles are never reclaimed (by design); objects_leaked counts them. */
#ifndef GCL_RC_ATTRS_H
#define GCL_RC_ATTRS_H

#include <stdbool.h>

#define GCL_COLLECTOR_NAME "rc"
#define GCL_COLLECTOR_PREFIX_SIZE 0
#define GCL_COLLECTOR_STOPS_WORLD 0 /* never stops the world: gcl_poll compiles to nothing */

struct gcl_collector_mutator {
  char unused; /* rc keeps no per-thread state */
};

static inline enum gcl_rc_kind gcl_rc_kind(void) { return GCL_RC_ATOMIC; }
static inline enum gcl_barrier_kind gcl_barrier_kind(void) { return GCL_BARRIER_NONE; }
static inline bool gcl_needs_roots(void) { return false; }
/* Whether every unreachable object, cyclic or not, is eventually freed. */
static inline bool gcl_collects_cycles(void) { return false; }
static inline void gcl_collector_on_alloc(struct gcl_collector_mutator *cm, struct gcl_object *o,
                                          const struct gcl_type *t) {
  (void)cm, (void)o, (void)t;
}
static inline void gcl_collector_on_free(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  (void)cm, (void)o;
}

#endif
