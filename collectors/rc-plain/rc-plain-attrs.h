/* SPDX-License-Identifier: MIT */
/* collectors/rc-plain/rc-plain-attrs.h — non-atomic reference counting: the lower bound of
 * RC cost. Correct only with one mutator thread; more are refused (cell status invalid). */
#ifndef GCL_RC_PLAIN_ATTRS_H
#define GCL_RC_PLAIN_ATTRS_H

#include <stdbool.h>

#define GCL_COLLECTOR_NAME "rc-plain"
#define GCL_COLLECTOR_PREFIX_SIZE 0
#define GCL_COLLECTOR_STOPS_WORLD 0 /* never stops the world: gcl_poll compiles to nothing */

struct gcl_collector_mutator {
  char unused; /* rc-plain keeps no per-thread state */
};

static inline enum gcl_rc_kind gcl_rc_kind(void) { return GCL_RC_PLAIN; }
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
