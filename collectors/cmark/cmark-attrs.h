/* SPDX-License-Identifier: MIT */
/* collectors/cmark/cmark-attrs.h — `cmark`: a tracing mark-sweep collector (REFERENCE §5)
 * on core's tracing contract. Its hot paths:
 *
 *  - no reference counts (GCL_RC_NONE): retain, release and the store's count traffic
 *    compile to nothing; root frames are active (gcl_needs_roots);
 *  - the SATB deletion barrier (GCL_BARRIER_SATB, core/barrier.h): gcl_store_move tests
 *    gcl_marking_active inline and records the old value out of line;
 *  - mark state in the collector word of the common header (no prefix): an object is
 *    marked iff its gcl_word equals the current epoch (gcl_cmark_epoch), so a cycle starts
 *    by incrementing the epoch and no clearing pass exists; CMARK_FREED marks a block
 *    whose object was freed but whose memory the verifier still quarantines;
 *  - allocation colour: gcl_collector_on_alloc stores gcl_cmark_alloc_colour, which is
 *    the epoch while marking (allocate-black) and 0 (white) otherwise.
 *
 * Invariants: gcl_word of a live object is 0 or an epoch <= the current one; only the
 * collector (markers, the sweep) and the allocation hook write it. No macros change this
 * header. */
#ifndef GCL_CMARK_ATTRS_H
#define GCL_CMARK_ATTRS_H

#include <stdbool.h>
#include <stdint.h>

#define GCL_COLLECTOR_NAME "cmark"
#define GCL_COLLECTOR_PREFIX_SIZE 0

#define CMARK_WHITE ((uintptr_t)0) /* allocated outside marking: unmarked in every epoch */
#define CMARK_FREED ((uintptr_t)1) /* freed; memory held by the verifier's quarantine */
#define CMARK_FIRST_EPOCH ((uintptr_t)2)

struct gcl_mutator;

struct gcl_collector_mutator {
  struct gcl_mutator *m;     /* the thread this state belongs to (set at attach) */
  uint64_t allocated_black;  /* objects this thread allocated while marking was active */
};

extern uintptr_t gcl_cmark_epoch;        /* the current mark value (atomic) */
extern uintptr_t gcl_cmark_alloc_colour; /* CMARK_WHITE, or the epoch while marking (atomic) */

static inline enum gcl_rc_kind gcl_rc_kind(void) { return GCL_RC_NONE; }
static inline enum gcl_barrier_kind gcl_barrier_kind(void) { return GCL_BARRIER_SATB; }
static inline bool gcl_needs_roots(void) { return true; }
static inline bool gcl_collects_cycles(void) { return true; }

static inline void gcl_collector_on_alloc(struct gcl_collector_mutator *cm, struct gcl_object *o,
                                          const struct gcl_type *t) {
  (void)t;
  uintptr_t c = __atomic_load_n(&gcl_cmark_alloc_colour, __ATOMIC_RELAXED);
  if (GCL_UNLIKELY(c != CMARK_WHITE)) cm->allocated_black++;
  __atomic_store_n(&o->gcl_word, c, __ATOMIC_RELAXED);
}

static inline void gcl_collector_on_free(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  (void)cm;
  __atomic_store_n(&o->gcl_word, CMARK_FREED, __ATOMIC_RELAXED);
}

#endif
