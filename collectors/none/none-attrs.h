/* SPDX-License-Identifier: MIT */
/* collectors/none/none-attrs.h — `none`: allocate, never free (OpenJDK's Epsilon).
 *
 * The no-GC lower bound: counts do not exist (GCL_RC_NONE), so retain, release and the
 * store's count traffic compile to nothing; no barrier, no root frames (outside verifier
 * builds), no collection. Nothing ever dies: finalizers never run and weak references are
 * never cleared. The heap only grows, up to the none.cap option (collectors/none/none.c);
 * crossing it ends the cell with status `oom`.
 *
 * Invariant: objects_freed stays 0 (GCL_COLLECTOR_NEVER_FREES tells core/mutator.h and the
 * conformance suite). No macros change this header. */
#ifndef GCL_NONE_ATTRS_H
#define GCL_NONE_ATTRS_H

#include <stdbool.h>

#define GCL_COLLECTOR_NAME "none"
#define GCL_COLLECTOR_PREFIX_SIZE 0
#define GCL_COLLECTOR_STOPS_WORLD 0 /* never stops the world: gcl_poll compiles to nothing */
#define GCL_COLLECTOR_NEVER_FREES 1 /* no object is ever freed (gcl_frees_objects()) */

struct gcl_collector_mutator {
  char unused; /* none keeps no per-thread state */
};

static inline enum gcl_rc_kind gcl_rc_kind(void) { return GCL_RC_NONE; }
static inline enum gcl_barrier_kind gcl_barrier_kind(void) { return GCL_BARRIER_NONE; }
static inline bool gcl_needs_roots(void) { return false; }
/* Whether every unreachable object, cyclic or not, is eventually freed: no object is. */
static inline bool gcl_collects_cycles(void) { return false; }
static inline void gcl_collector_on_alloc(struct gcl_collector_mutator *cm, struct gcl_object *o,
                                          const struct gcl_type *t) {
  (void)cm, (void)o, (void)t;
}
static inline void gcl_collector_on_free(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  (void)cm, (void)o;
}

#endif
