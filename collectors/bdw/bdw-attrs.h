/* SPDX-License-Identifier: MIT */
/* collectors/bdw/bdw-attrs.h — `bdw`: the Boehm-Demers-Weiser conservative collector
 * (Debian libgc-dev 8.2), with its own heap: it REQUIRES own-heap, which only the bdw
 * allocator (GC_MALLOC, allocators/bdw) provides, and that allocator serves no other
 * collector, so bdw x bdw is the one valid pair.
 *
 * libgc finds live objects by scanning thread stacks, registers, static data, the ranges
 * registered with GC_add_roots and every GC_MALLOC'd object, conservatively: counts do not
 * exist (GCL_RC_NONE: retain/release compile to nothing), no barrier (incremental mode
 * uses libgc's own dirty bits), and root frames are not needed (their locals live on the
 * stack, which libgc scans) outside verifier builds.
 *
 * What core must tell bdw (hooks, all cold, in collectors/bdw/bdw-final.c):
 *  - finalizers: an object whose type has one is registered with libgc at allocation
 *    (gcl_bdw_watch); in GCL_VERIFY builds every object is, so that the verifier learns of
 *    each object libgc finds unreachable (the finalizer-observed liveness check), and
 *    every GCL_BDW_VERIFY_GC_EVERY allocations a thread forces a full collection;
 *  - weak references (GCL_COLLECTOR_WEAK_LINKS, core/weakref.c): each live handle's
 *    referent slot is a libgc disappearing link;
 *  - global roots (GCL_COLLECTOR_ROOT_HOOKS, core/world.c): each slot is a GC_add_roots
 *    range, since a slot may sit in malloc'd memory libgc does not scan.
 * GCL_COLLECTOR_CONSERVATIVE tells the conformance suite that unreachable objects may be
 * retained (tests/conformance: the bound it allows). Macros: GCL_VERIFY (core/mutator.h). */
#ifndef GCL_BDW_ATTRS_H
#define GCL_BDW_ATTRS_H

#include <stdbool.h>

#define GCL_COLLECTOR_NAME "bdw"
#define GCL_COLLECTOR_PREFIX_SIZE 0 /* the object is the block: libgc's base pointer */
#define GCL_COLLECTOR_CONSERVATIVE 1
#define GCL_COLLECTOR_WEAK_LINKS 1
#define GCL_COLLECTOR_ROOT_HOOKS 1
#define GCL_COLLECTOR_UNSEEN_FREES 1 /* core sees no free: objects_freed etc. unmeasured */

struct gcl_collector_mutator {
  bool registered; /* this attach registered the thread with libgc (GC_SUCCESS); false
                    * when libgc already knew it (the main thread, GC_DUPLICATE) */
  struct gcl_mutator *outer; /* the thread's mutator before this attach (a nested attach:
                              * the final collection's temporary one), or NULL */
  unsigned allocs;           /* GCL_VERIFY builds: allocations since the last forced
                              * collection */
};

/* GCL_VERIFY builds force a full collection every this many allocations of a thread, so
 * that the conformance suite's tiny runs collect often and the verifier's checkpoints
 * see what libgc freed (through the finalizers of collectors/bdw/bdw-final.c). */
#define GCL_BDW_VERIFY_GC_EVERY 256u

static inline enum gcl_rc_kind gcl_rc_kind(void) { return GCL_RC_NONE; }
static inline enum gcl_barrier_kind gcl_barrier_kind(void) { return GCL_BARRIER_NONE; }
static inline bool gcl_needs_roots(void) { return false; }
/* Every unreachable object, cyclic or not, is eventually freed (up to conservative
 * retention: a stale word that looks like a pointer keeps its target). */
static inline bool gcl_collects_cycles(void) { return true; }

/* Register o with libgc's finalization (collectors/bdw/bdw-final.c). */
void gcl_bdw_watch(struct gcl_object *o);
void gcl_bdw_verify_collect(void); /* GC_gcollect */

static inline void gcl_collector_on_alloc(struct gcl_collector_mutator *cm, struct gcl_object *o,
                                          const struct gcl_type *t) {
  if (GCL_VERIFY || t->finalize) gcl_bdw_watch(o);
  if (GCL_VERIFY && ++cm->allocs == GCL_BDW_VERIFY_GC_EVERY) {
    cm->allocs = 0;
    gcl_bdw_verify_collect();
  }
}
static inline void gcl_collector_on_free(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  (void)cm, (void)o;
}

/* core/weakref.c's hooks: link is a handle's referent slot (malloc'd, so libgc does not
 * see it as a reference). */
void gcl_collector_weak_link(struct gcl_object **link, struct gcl_object *o);
void gcl_collector_weak_unlink(struct gcl_object **link);
struct gcl_object *gcl_collector_weak_read(struct gcl_object **link);
/* core/world.c's hooks: a global root slot joins or leaves libgc's roots. */
void gcl_collector_global_root_added(struct gcl_object **slot);
void gcl_collector_global_root_removed(struct gcl_object **slot);

#endif
