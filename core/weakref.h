/* SPDX-License-Identifier: MIT */
/* core/weakref.h — weak references, the same under every collector.
 *
 * A weak reference is a handle (malloc'd memory owned by its creator, not a heap object)
 * that names a referent without keeping it alive. gcl_weakref_get gives a new strong
 * reference to the referent, or NULL once the referent has died — by reference counting
 * (core/heap.c) or by a cycle collection — whichever collector runs.
 *
 * Representation (collector-neutral): a side table, an open-addressing hash map keyed by
 * referent under one mutex, maps each referent to the chain of its handles; and one header
 * bit, GCL_OBJ_WEAKREFD (core/object.h, 0x4), is set while an object has an entry, so the
 * death of an object without weak references costs one bit test. Nothing else of the
 * object or of any collector is touched.
 *
 * Clearing and callbacks. When a referent dies, every handle to it is cleared first (reads
 * NULL from then on); only after that do the callbacks of those handles run, newest handle
 * first, each at most once. A cycle collector clears the handles of EVERY object of the
 * garbage set (gcl_weakref_clear_deferred for each) before it runs any callback
 * (gcl_weakref_run_callbacks), finalizer or clearing of references, so a callback can
 * reach no garbage object through a weak reference, let alone a half-cleared one (the rule
 * of CPython's handle_weakrefs). Under RC death the order is: finalizer (which may
 * resurrect: handles stay valid then), clear the handles, callbacks, drop the object's
 * references, free.
 *
 * Threads: every function is thread-safe. A callback runs on the thread where the referent
 * died; for a cycle collection, that is the collecting thread with the world stopped (see
 * the collector's README: it may allocate, store and release, but must not reach a
 * safepoint, block or wait for another thread). A handle may be freed at any time, also by
 * its own callback or by another handle's callback; a handle freed while its callback is
 * pending is not called back. */
#ifndef GCL_WEAKREF_H
#define GCL_WEAKREF_H

#include <stddef.h>

#include "object.h"

struct gcl_mutator;
struct gcl_weakref;

/* Runs once, after the referent of w died and w (and every other handle to it) was
 * cleared. ctx is what gcl_weakref_new was given. */
typedef void (*gcl_weakref_callback)(struct gcl_mutator *m, struct gcl_weakref *w, void *ctx);

/* Pending callbacks of cleared handles (a collector's local list). */
struct gcl_weakref_pending {
  struct gcl_weakref *head; /* first to call */
  struct gcl_weakref *tail; /* last */
};

/* A new handle to obj, which must be alive (the caller holds a reference to it). callback
 * may be NULL. Aborts when out of memory. */
struct gcl_weakref *gcl_weakref_new(struct gcl_mutator *m, struct gcl_object *obj,
                                    gcl_weakref_callback callback, void *ctx);
/* An owned reference to the referent (release it with gcl_release), or NULL once the
 * referent is dead or dying. */
struct gcl_object *gcl_weakref_get(struct gcl_mutator *m, struct gcl_weakref *w);
/* Drop the handle (NULL is allowed); a pending callback of it will not run. */
void gcl_weakref_free(struct gcl_mutator *m, struct gcl_weakref *w);
/* Handles to obj not yet cleared (tests). */
size_t gcl_weakref_count(struct gcl_object *obj);

/* --- for core/heap.c and collectors -------------------------------------------------- */

/* obj is dying (its finalizer, if any, has run and did not resurrect it): clear its
 * handles, then run their callbacks. Called only when obj has GCL_OBJ_WEAKREFD. */
void gcl_weakref_clear(struct gcl_mutator *m, struct gcl_object *obj);
/* Clear obj's handles now and queue their callbacks on *p (initialised to {NULL, NULL}).
 * No-op for an object without GCL_OBJ_WEAKREFD. */
void gcl_weakref_clear_deferred(struct gcl_object *obj, struct gcl_weakref_pending *p);
/* Call fn(referent, ctx) for every object that has weak references (a tracing collector
 * that knows no garbage list, with the world stopped: cmark's concurrent mode). Runs under
 * the table's lock: fn must not call any gcl_weakref_* function. */
void gcl_weakref_for_each_referent(void (*fn)(struct gcl_object *o, void *ctx), void *ctx);
/* Run and empty the callbacks queued on *p. */
void gcl_weakref_run_callbacks(struct gcl_mutator *m, struct gcl_weakref_pending *p);

#endif
