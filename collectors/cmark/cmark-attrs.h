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
 *  - allocation colour: gcl_collector_on_alloc stores the current epoch, always: an object
 *    allocated during a cycle (marking or sweeping) is black, one allocated between cycles
 *    holds the last cycle's epoch and is white for the next one. A word of 0 is a block not
 *    yet initialised (the concurrent sweep skips it), never a live object;
 *  - finalizable objects: in concurrent mode an object whose type has a finalizer is noted
 *    in its thread's list (cold call), so that termination finds the unmarked ones without
 *    a heap walk (cmark-final.c).
 *
 * Invariants: gcl_word of a live object is an epoch in [CMARK_FIRST_EPOCH, current]; only
 * the collector (markers, the sweep) and the allocation hook write it. Epochs stay far
 * below any heap address, so a word at or above the current epoch that is not the epoch
 * is no object's (a freed block's allocator link). No macros change this header. */
#ifndef GCL_CMARK_ATTRS_H
#define GCL_CMARK_ATTRS_H

#include <stdbool.h>
#include <stdint.h>

#define GCL_COLLECTOR_NAME "cmark"
#define GCL_COLLECTOR_PREFIX_SIZE 0

#define CMARK_UNINIT ((uintptr_t)0) /* a block whose object is not initialised yet */
#define CMARK_FREED ((uintptr_t)1) /* freed; memory held by the verifier's quarantine */
#define CMARK_FIRST_EPOCH ((uintptr_t)2)

struct gcl_mutator;

struct gcl_collector_mutator {
  struct gcl_mutator *m;        /* the thread this state belongs to (set at attach) */
  uint64_t allocated_black;     /* objects this thread allocated while marking was active */
  struct gcl_object **final;    /* concurrent mode: finalizable objects it allocated */
  size_t final_n, final_cap;    /* their number and the array's capacity */
  uint64_t assist_debt;         /* concurrent mode: objects this thread owes the marking it
                                 * allocated against (cmark-pace.c; its own thread only) */
  uint64_t assist_bytes_seen;   /* concurrent mode: its stats.bytes_allocated at its last
                                 * flush (the debt is charged per byte allocated since) */
};

extern uintptr_t gcl_cmark_epoch; /* the current mark value (atomic) */
extern int gcl_cmark_track_final; /* concurrent mode: note finalizable objects (set in init) */
/* Cold: append o to cm's finalizable list (cmark-final.c). */
void gcl_cmark_note_finalizable(struct gcl_collector_mutator *cm, struct gcl_object *o);

static inline enum gcl_rc_kind gcl_rc_kind(void) { return GCL_RC_NONE; }
static inline enum gcl_barrier_kind gcl_barrier_kind(void) { return GCL_BARRIER_SATB; }
static inline bool gcl_needs_roots(void) { return true; }
static inline bool gcl_collects_cycles(void) { return true; }

static inline void gcl_collector_on_alloc(struct gcl_collector_mutator *cm, struct gcl_object *o,
                                          const struct gcl_type *t) {
  if (GCL_UNLIKELY(gcl_marking_is_active())) cm->allocated_black++;
  __atomic_store_n(&o->gcl_word, __atomic_load_n(&gcl_cmark_epoch, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
  if (GCL_UNLIKELY(t->finalize != NULL) && gcl_cmark_track_final) gcl_cmark_note_finalizable(cm, o);
}

static inline void gcl_collector_on_free(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  (void)cm;
  __atomic_store_n(&o->gcl_word, CMARK_FREED, __ATOMIC_RELAXED);
}

#endif
