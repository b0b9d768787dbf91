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
 * free performed by whichever thread drops the count to zero.
 *
 * Immortal objects (PEP 683) under PLAIN and ATOMIC: gcl_rc_make_immortal sets the count
 * to GCL_RC_IMMORTAL = 3 << 30 (CPython 3.14's _Py_IMMORTAL_INITIAL_REFCNT on 64-bit);
 * an object is immortal while bit 31 of its count is set (CPython 3.14 tests the sign of
 * the low 32 bits). Invariant: a mortal object's count stays below 2^31 (2^31 references
 * would take 16 GiB of slots; GCL_ASSERT builds check it on increment). With
 * GCL_RC_IMMORTAL_CHECK 1 increments and decrements test the bit first and
 * leave an immortal count untouched (no write, so no cache-line traffic between threads);
 * with 0 (the default: the test costs 1.2-2.0% more instructions on rc-plain binary-trees,
 * above the 1% allowed, collectors/rc/README.md) the test is compiled out and an immortal
 * count saturates instead, as an old
 * extension's Py_INCREF does in CPython 3.12: it moves around 3 << 30 but cannot reach 0
 * in fewer than 3 << 30 net decrements, so the object is still never freed. rc-gen's
 * cycle collector reads such a count as ~3 x 10^9 outside references, so an immortal
 * container and what it references are never garbage.
 *
 * Macros: GCL_RC_IMMORTAL_CHECK (default 0; 1 adds the immortality test to every
 * retain/release of PLAIN and ATOMIC counts: PEP 683's untouched counts; build with
 * -DCMAKE_C_FLAGS=-DGCL_RC_IMMORTAL_CHECK=1). */
#ifndef GCL_RC_OPS_H
#define GCL_RC_OPS_H

#include <stdbool.h>

#include "object.h"

enum gcl_rc_kind { GCL_RC_NONE, GCL_RC_PLAIN, GCL_RC_ATOMIC, GCL_RC_BIASED };

#ifndef GCL_RC_IMMORTAL_CHECK
#define GCL_RC_IMMORTAL_CHECK 0
#endif
#define GCL_RC_IMMORTAL ((uintptr_t)3 << 30)   /* the count of an immortal object */
#define GCL_RC_IMMORTAL_BIT ((uintptr_t)1 << 31) /* set in every immortal count */

/* Whether count c (PLAIN or ATOMIC) is an immortal object's. */
static inline bool gcl_rc_is_immortal_count(uintptr_t c) { return (c & GCL_RC_IMMORTAL_BIT) != 0; }

static inline void gcl_rc_init(struct gcl_object *o, enum gcl_rc_kind kind) {
  if (kind == GCL_RC_PLAIN || kind == GCL_RC_ATOMIC) o->gcl_word = 1;
}

static inline void gcl_rc_inc(struct gcl_object *o, enum gcl_rc_kind kind) {
  switch (kind) {
  case GCL_RC_NONE: break;
  case GCL_RC_PLAIN:
    if (GCL_RC_IMMORTAL_CHECK && GCL_UNLIKELY(gcl_rc_is_immortal_count(o->gcl_word))) break;
    GCL_ASSERT(GCL_RC_IMMORTAL_CHECK == 0 || o->gcl_word + 1 < GCL_RC_IMMORTAL_BIT);
    o->gcl_word++;
    break;
  case GCL_RC_ATOMIC:
    if (GCL_RC_IMMORTAL_CHECK &&
        GCL_UNLIKELY(gcl_rc_is_immortal_count(__atomic_load_n(&o->gcl_word, __ATOMIC_RELAXED))))
      break;
    __atomic_fetch_add(&o->gcl_word, 1, __ATOMIC_RELAXED);
    break;
  case GCL_RC_BIASED: break;
  }
}

/* Returns true when the count reached zero: the caller now owns the object's death. */
static inline bool gcl_rc_dec_is_zero(struct gcl_object *o, enum gcl_rc_kind kind) {
  switch (kind) {
  case GCL_RC_NONE: return false;
  case GCL_RC_PLAIN:
    if (GCL_RC_IMMORTAL_CHECK && GCL_UNLIKELY(gcl_rc_is_immortal_count(o->gcl_word))) return false;
    GCL_ASSERT(o->gcl_word > 0);
    return --o->gcl_word == 0;
  case GCL_RC_ATOMIC:
    if (GCL_RC_IMMORTAL_CHECK &&
        GCL_UNLIKELY(gcl_rc_is_immortal_count(__atomic_load_n(&o->gcl_word, __ATOMIC_RELAXED))))
      return false;
    return __atomic_sub_fetch(&o->gcl_word, 1, __ATOMIC_ACQ_REL) == 0;
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
    if (!(GCL_RC_IMMORTAL_CHECK && gcl_rc_is_immortal_count(o->gcl_word))) o->gcl_word++;
    return true;
  case GCL_RC_ATOMIC: {
    uintptr_t c = __atomic_load_n(&o->gcl_word, __ATOMIC_RELAXED);
    do {
      if (c == 0) return false;
      if (GCL_RC_IMMORTAL_CHECK && gcl_rc_is_immortal_count(c)) return true;
    } while (!__atomic_compare_exchange_n(&o->gcl_word, &c, c + 1, true, __ATOMIC_ACQUIRE,
                                          __ATOMIC_RELAXED));
    return true;
  }
  case GCL_RC_BIASED: return false;
  }
  return false;
}

/* Make o immortal (a new object, not yet stored or shared: a plain store suffices). */
static inline void gcl_rc_make_immortal(struct gcl_object *o, enum gcl_rc_kind kind) {
  if (kind == GCL_RC_PLAIN || kind == GCL_RC_ATOMIC) o->gcl_word = GCL_RC_IMMORTAL;
}

static inline uintptr_t gcl_rc_count(const struct gcl_object *o, enum gcl_rc_kind kind) {
  return kind == GCL_RC_NONE ? 0 : __atomic_load_n(&o->gcl_word, __ATOMIC_RELAXED);
}

#endif
