/* SPDX-License-Identifier: MIT */
/* core/rc-ops.h — reference-count primitives, selected at compile time by the collector's
 * gcl_rc_kind(). Every function here is static inline and folds to one case.
 *
 * GCL_RC_NONE    no counts (a tracing collector, or none: allocate, never free): they do
 *                not exist, retain/release compile to nothing.
 * GCL_RC_PLAIN   non-atomic counts; correct only with a single mutator thread.
 * GCL_RC_ATOMIC  atomic counts in the collector word (the naive thread-safe baseline).
 * GCL_RC_BIASED  biased counts (owner-local + shared, BRC): they need the current thread,
 *                so core/mutator.h routes them to the collector's attrs header (which
 *                defines GCL_RC_BIASED_OPS); the functions below never run for this kind.
 *
 * Orders: an increment needs no ordering (the caller already holds a reference); a
 * decrement is acq_rel so that every write made through a reference happens-before the
 * free performed by whichever thread drops the count to zero. */
#ifndef GCL_RC_OPS_H
#define GCL_RC_OPS_H

#include <stdbool.h>

#include "object.h"

enum gcl_rc_kind { GCL_RC_NONE, GCL_RC_PLAIN, GCL_RC_ATOMIC, GCL_RC_BIASED };

static inline void gcl_rc_init(struct gcl_object *o, enum gcl_rc_kind kind) {
  if (kind == GCL_RC_PLAIN || kind == GCL_RC_ATOMIC) o->gcl_word = 1;
}

static inline void gcl_rc_inc(struct gcl_object *o, enum gcl_rc_kind kind) {
  switch (kind) {
  case GCL_RC_NONE: break;
  case GCL_RC_PLAIN: o->gcl_word++; break;
  case GCL_RC_ATOMIC: __atomic_fetch_add(&o->gcl_word, 1, __ATOMIC_RELAXED); break;
  case GCL_RC_BIASED: break;
  }
}

/* Returns true when the count reached zero: the caller now owns the object's death. */
static inline bool gcl_rc_dec_is_zero(struct gcl_object *o, enum gcl_rc_kind kind) {
  switch (kind) {
  case GCL_RC_NONE: return false;
  case GCL_RC_PLAIN: GCL_ASSERT(o->gcl_word > 0); return --o->gcl_word == 0;
  case GCL_RC_ATOMIC: return __atomic_sub_fetch(&o->gcl_word, 1, __ATOMIC_ACQ_REL) == 0;
  case GCL_RC_BIASED: return false;
  }
  return false;
}

/* Increment unless the count is zero (the object is dying). Used by gcl_load_strong. */
static inline bool gcl_rc_try_inc(struct gcl_object *o, enum gcl_rc_kind kind) {
  switch (kind) {
  case GCL_RC_NONE: return true;
  case GCL_RC_PLAIN:
    if (o->gcl_word == 0) return false;
    o->gcl_word++;
    return true;
  case GCL_RC_ATOMIC: {
    uintptr_t c = __atomic_load_n(&o->gcl_word, __ATOMIC_RELAXED);
    do {
      if (c == 0) return false;
    } while (!__atomic_compare_exchange_n(&o->gcl_word, &c, c + 1, true, __ATOMIC_ACQUIRE,
                                          __ATOMIC_RELAXED));
    return true;
  }
  case GCL_RC_BIASED: return false;
  }
  return false;
}

static inline uintptr_t gcl_rc_count(const struct gcl_object *o, enum gcl_rc_kind kind) {
  return kind == GCL_RC_NONE ? 0 : __atomic_load_n(&o->gcl_word, __ATOMIC_RELAXED);
}

#endif
