/* SPDX-License-Identifier: MIT */
/* core/freelist.h — per-type free lists, per thread (CPython's float, tuple, list and dict
 * free lists: Objects/floatobject.c, tupleobject.c, ...; per-thread since 3.13).
 *
 * A type asks for one with gcl_type.freelist = N: each thread keeps up to N dead objects of
 * that type (of each size, for a variable-sized type: CPython keeps tuples per length) of
 * at most GCL_FREELIST_MAX_LEN items. When free lists are on (gcl_freelists_enable, or
 * gcl_heap_config.freelists: the runner's --freelists), an object of such a type that dies
 * goes onto its thread's list instead of back to the allocator, and gcl_new of that type
 * and size takes from the list first. The allocator never sees the round trip.
 *
 * Invariants:
 *  - a parked object is dead: the collector's on_free hook has run (rc-gen untracked it,
 *    brc marked it freed for its heap walk), and it was counted in objects_freed; taking it
 *    off the list is a new allocation (objects_allocated, on_alloc, zeroed payload);
 *  - a parked object is linked through its collector word (gcl_word) and keeps its type
 *    word; it is on exactly one list, of the thread that freed it;
 *  - objects flagged GCL_OBJ_SHARED never go onto a list: their memory must outlive a QSBR
 *    grace period (gcl_load_strong may still read their header), so they take the
 *    deferred path as before;
 *  - a thread's lists go back to the allocator when it detaches (gcl_thread_detach), so
 *    none outlives its thread, and none is left at gcl_heap_finish (which checks it);
 *  - in GCL_VERIFY builds the verifier moves a parked object from its live set to its
 *    parked set and back, and reports a list that hands out an object that is live or
 *    that it never took, and a slot that references a parked object.
 * Cost for types without a free list: one test of t->freelist on allocation and on free,
 * 1.5-3.3% more instructions on rc-plain binary-trees (above the 1% allowed; numbers in
 * results/measurements/README.md), hence the switch below, off by default.
 *
 * Macros: GCL_FREELISTS (default 0: every free-list path is compiled out and
 * gcl_freelists_enable / --freelists have no effect; 1 builds them in: configure with
 * -DCMAKE_C_FLAGS=-DGCL_FREELISTS=1); GCL_VERIFY (the verifier hooks). */
#ifndef GCL_FREELIST_H
#define GCL_FREELIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "object.h"

#ifndef GCL_FREELISTS
#define GCL_FREELISTS 0
#endif

#define GCL_FREELIST_SLOTS 64    /* (type, size) keys a thread's table holds: a power of 2 */
#define GCL_FREELIST_MAX_KEYS 48 /* keys in use at most, so that a probe ends at an empty slot */
#define GCL_FREELIST_MAX_LEN 20  /* longest variable-sized object kept (CPython: tuples < 21) */

/* One list: the dead objects of one type and one allocation size. */
struct gcl_freelist {
  const struct gcl_type *type; /* NULL: the slot is unused */
  size_t bytes;                /* allocation size, prefix included (with type: the key) */
  unsigned count;              /* objects on the list */
  unsigned cap;                /* at most this many (the type's freelist) */
  struct gcl_object *head;     /* the last one parked; each links the next in gcl_word */
};

/* A thread's lists: an open-addressing table keyed by (type, bytes). */
struct gcl_freelists {
  unsigned keys;                                 /* slots in use */
  struct gcl_freelist slot[GCL_FREELIST_SLOTS];  /* linear probing from gcl_freelist_hash */
};

static inline unsigned gcl_freelist_hash(const struct gcl_type *t, size_t bytes) {
  uintptr_t h = ((uintptr_t)t >> 4) * 0x9E3779B1u ^ (bytes >> 3);
  return (unsigned)(h ^ (h >> 7)) & (GCL_FREELIST_SLOTS - 1);
}

/* The list of (t, bytes) in fl, or NULL. The loop ends: fewer than GCL_FREELIST_SLOTS keys
 * are ever in use, so linear probing reaches an empty slot. */
static inline struct gcl_freelist *gcl_freelist_find(struct gcl_freelists *fl,
                                                     const struct gcl_type *t, size_t bytes) {
  for (unsigned i = gcl_freelist_hash(t, bytes);; i = (i + 1) & (GCL_FREELIST_SLOTS - 1)) {
    struct gcl_freelist *l = &fl->slot[i];
    if (l->type == t && l->bytes == bytes) return l;
    if (!l->type) return NULL;
  }
}

/* Cold paths (core/freelist.c). */
void gcl_freelists_enable(bool on);  /* for threads that attach from now on */
bool gcl_freelists_enabled(void);
struct gcl_freelists *gcl_freelists_new(void); /* a thread's table (attach), or NULL when off */
/* Add the key (t, bytes) to fl: its list, or NULL when the table is full or the object is
 * too long (then it is freed as usual). */
struct gcl_freelist *gcl_freelist_add_key(struct gcl_freelists *fl, const struct gcl_type *t,
                                          size_t bytes);
struct gcl_mutator;
/* Give every parked object of m back to the allocator and free m's table (detach). */
void gcl_freelist_thread_exit(struct gcl_mutator *m);
/* At gcl_heap_finish: every table was given back (no list outlives the heap). */
void gcl_freelists_finish(void);
/* Tables not given back yet (threads attached with free lists on). */
unsigned gcl_freelists_live_tables(void);

/* Verifier hooks (core/verify.c), GCL_VERIFY builds only. */
bool gcl_verify_on_freelist_push(struct gcl_object *o); /* false: not live, do not park */
void gcl_verify_on_freelist_pop(struct gcl_object *o);
void gcl_verify_on_freelist_release(struct gcl_object *o);

#endif
