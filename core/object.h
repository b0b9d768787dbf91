/* SPDX-License-Identifier: MIT */
/* core/object.h — the one object model every collector and allocator shares.
 *
 * Memory layout of an object:
 *
 *     [collector prefix: GCL_COLLECTOR_PREFIX_SIZE bytes][struct gcl_object][payload]
 *      ^ what the allocator returns                      ^ what every API passes around
 *
 * The common header is two words: the type word (type descriptor pointer, low 3 bits are
 * object flags) and the collector word (a reference count for the RC collectors). A
 * collector that needs more (CPython's PyGC_Head, say) declares a prefix, which keeps the
 * common header at a fixed offset from the object pointer. Header bytes per object are
 * GCL_HEADER_BYTES and are reported with every result.
 *
 * Workloads define their objects as C structs whose first member is `struct gcl_object`,
 * never read or write the header themselves, and reach reference slots only through the
 * mutator API (core/mutator.h) so that barriers and counts stay the collector's business.
 *
 * Variable-sized objects follow CPython's tp_basicsize + ob_size * tp_itemsize rule: they
 * start with struct gcl_varobject and their size is type->size + len * type->item_size. */
#ifndef GCL_OBJECT_H
#define GCL_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#include "assert.h"

struct gcl_object;
struct gcl_mutator;

/* Called by a type's trace hook once for every reference slot of an object. The slot may
 * hold NULL; the visitor may overwrite it (clearing, forwarding). */
typedef void (*gcl_visit_fn)(struct gcl_object **slot, void *ctx);

/* Type flags. */
#define GCL_TYPE_CONTAINER 0x1u /* may reference other objects (cycle collectors track it) */
#define GCL_TYPE_VAR 0x2u       /* variable-sized: starts with struct gcl_varobject */
#define GCL_TYPE_REF_ITEMS 0x4u /* with VAR: the len items are the reference slots, from
                                 * ref_offset on (a table of references); no trace hook */
#define GCL_TYPE_REF_COUNTED 0x8u /* the object's first *(uint32_t *)(o + count_offset)
                                   * slots from ref_offset are its references (a count kept
                                   * in the object, e.g. references then padding); walked
                                   * without the trace hook, which must agree with it */

struct gcl_type {
  const char *name;          /* for diagnostics and the verifier's reports */
  size_t size;               /* bytes including the header (basic size for VAR types) */
  size_t item_size;          /* bytes per item of a VAR type, 0 otherwise */
  unsigned flags;            /* GCL_TYPE_* */
  /* Simple layout: the object's references are exactly `nrefs` consecutive slots starting
   * `ref_offset` bytes into the object (or, with GCL_TYPE_REF_ITEMS, its `len` items from
   * there; with GCL_TYPE_REF_COUNTED, as many as the object's uint32_t at count_offset
   * says). Core walks them without an indirect call; trace may then be NULL. Types whose
   * references are elsewhere leave nrefs 0, set neither flag, and use trace. */
  unsigned short ref_offset; /* byte offset of the first reference slot */
  unsigned short nrefs;      /* number of reference slots, 0: see trace */
  void (*trace)(struct gcl_object *obj, gcl_visit_fn visit, void *ctx); /* NULL: none */
  /* optional; runs at most once, before the object dies; it may resurrect the object by
   * storing a new reference to it somewhere reachable */
  void (*finalize)(struct gcl_mutator *m, struct gcl_object *obj);
  /* Per-thread free list (core/freelist.h): keep up to this many dead objects of this type
   * (of each size, for a VAR type) for reuse when free lists are on; 0: none. */
  unsigned freelist;
  /* Last, so that positional initializers written before it stay valid. */
  unsigned short count_offset; /* GCL_TYPE_REF_COUNTED: byte offset of the uint32_t count */
};

/* Object flags, in the low bits of the type word (types are at least 8-byte aligned). */
#define GCL_OBJ_SHARED 0x1u    /* published to other threads: memory reuse waits for QSBR */
#define GCL_OBJ_FINALIZED 0x2u /* finalizer has run (PEP 442: at most once) */
#define GCL_OBJ_WEAKREFD 0x4u  /* has weak references in core/weakref.c's side table */
#define GCL_OBJ_FLAG_MASK 0x7u

struct gcl_object {
  uintptr_t gcl_type_word; /* const struct gcl_type * | GCL_OBJ_* flags */
  uintptr_t gcl_word;      /* collector's word: the reference count under RC collectors */
};

struct gcl_varobject {
  struct gcl_object header; /* common header */
  size_t len;               /* number of items; fixed at allocation */
};

static inline const struct gcl_type *gcl_type_of(const struct gcl_object *o) {
  return (const struct gcl_type *)(__atomic_load_n(&o->gcl_type_word, __ATOMIC_RELAXED) &
                                   ~(uintptr_t)GCL_OBJ_FLAG_MASK);
}

static inline unsigned gcl_obj_flags(const struct gcl_object *o) {
  return (unsigned)(__atomic_load_n(&o->gcl_type_word, __ATOMIC_RELAXED) & GCL_OBJ_FLAG_MASK);
}

/* Flags are set atomically: a finalizer flag may be set while another thread reads the
 * type word. */
static inline void gcl_obj_set_flag(struct gcl_object *o, unsigned flag) {
  __atomic_fetch_or(&o->gcl_type_word, (uintptr_t)flag, __ATOMIC_RELAXED);
}

/* Size in bytes of an object of type t with n items (n ignored for fixed-size types). */
static inline size_t gcl_type_instance_size(const struct gcl_type *t, size_t n) {
  return (t->flags & GCL_TYPE_VAR) ? t->size + n * t->item_size : t->size;
}

/* Size in bytes of o, whose type t the caller has already read. */
static inline size_t gcl_object_size_as(const struct gcl_object *o, const struct gcl_type *t) {
  return gcl_type_instance_size(t, (t->flags & GCL_TYPE_VAR) ? ((const struct gcl_varobject *)o)->len : 0);
}

static inline size_t gcl_object_size(const struct gcl_object *o) {
  return gcl_object_size_as(o, gcl_type_of(o));
}

/* The reference slots core walks without the trace hook: the simple layout (t->nrefs
 * slots), a table of references (GCL_TYPE_REF_ITEMS: len slots) or a counted prefix of
 * slots (GCL_TYPE_REF_COUNTED: the object's own uint32_t count), all from t->ref_offset.
 * Returns how many (0: none, or see t->trace) and sets *slots. A walker that gets 0 calls
 * the trace hook if there is one, so a counted type's hook must visit the same slots (for
 * a count of 0: none). */
static inline size_t gcl_ref_range(struct gcl_object *o, const struct gcl_type *t,
                                   struct gcl_object ***slots) {
  *slots = (struct gcl_object **)((char *)o + t->ref_offset);
  if (t->nrefs) return t->nrefs; /* the common case first: one test, as before tables */
  if (t->flags & GCL_TYPE_REF_ITEMS) return ((struct gcl_varobject *)o)->len;
  if (t->flags & GCL_TYPE_REF_COUNTED) return *(const uint32_t *)((const char *)o + t->count_offset);
  return 0;
}

/* Visit every reference slot of o (no-op for pointer-free types). */
static inline void gcl_trace(struct gcl_object *o, gcl_visit_fn visit, void *ctx) {
  const struct gcl_type *t = gcl_type_of(o);
  struct gcl_object **s;
  size_t n = gcl_ref_range(o, t, &s);
  if (n) {
    for (size_t i = 0; i < n; i++) visit(&s[i], ctx);
  } else if (t->trace) {
    t->trace(o, visit, ctx);
  }
}

#endif
