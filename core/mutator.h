/* SPDX-License-Identifier: MIT */
/* core/mutator.h — the mutator API: the only way workloads touch the heap.
 *
 * The selected collector's and allocator's attrs headers are included here (CMake passes
 * GCL_COLLECTOR_ATTRS and GCL_ALLOCATOR_ATTRS as header names), and every fast path below
 * switches on their constant answers, so each runner binary is compiled for exactly one
 * collector x allocator pair and its hot paths contain no indirect call.
 *
 * Reference discipline (the same source is correct under every collector):
 *  - gcl_new* returns an owned reference; gcl_retain/gcl_release take and drop one.
 *  - gcl_store(m, obj, &obj->f, v) makes the slot hold its own reference to v (the caller
 *    keeps its own); gcl_store_move hands the caller's reference to the slot;
 *    gcl_store_init / gcl_store_init_move are the same for the first store into a slot of
 *    an object this thread has just allocated and not published (no old value, below).
 *  - gcl_load returns a borrowed reference, valid while obj holds it and no other thread
 *    overwrites the slot. gcl_load_strong returns an owned reference and is safe against a
 *    concurrent writer of the slot, provided the values stored there were gcl_share()d.
 *  - Every local that must survive a safepoint lives in a root frame (GCL_FRAME). Under RC
 *    frames compile to nothing (unless the verifier is built in); under tracing collectors
 *    retain/release compile to nothing.
 *  - Two threads must not write one slot concurrently without their own synchronization.
 *  - A thread calls gcl_safepoint() regularly (every few microseconds of work) and brackets
 *    any wait (lock, queue, sleep, join) with gcl_blocking_enter/leave.
 *  - A release or store that frees a large structure (gcl_release, gcl_store,
 *    gcl_store_move reaching gcl_dealloc) polls for a stop every GCL_DEALLOC_POLL_EVERY
 *    objects freed (core/heap.c), as gcl_poll does; the same rule holds there, every local
 *    that must survive it lives in a root frame (under RC, an owned reference already does).
 *  - The frame rule (issue 8): a root frame never names an object that is dying or freed.
 *    A framed local is cleared (or overwritten) BEFORE the reference it held is released
 *    (gcl_frame_release does both in that order), and a framed borrowed reference is
 *    cleared before the release or store that may kill its object. A collector that marks
 *    from frames (brc) may run while a thread is stopped mid-drain; GCL_VERIFY builds
 *    check the rule at every drain (core/verify.h).
 *
 * Macros: GCL_VERIFY (1 builds in the reachability oracle of core/verify.h);
 * GCL_COLLECTOR_STOPS_WORLD (the collector's attrs header: 0 makes gcl_poll nothing),
 * GCL_COLLECTOR_ON_STORE (the attrs header: 1 calls its escape-barrier hooks, below),
 * GCL_FREELISTS (core/freelist.h) and GCL_RC_IMMORTAL_CHECK (core/rc-ops.h). */
#ifndef GCL_MUTATOR_H
#define GCL_MUTATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <urcu/static/urcu-qsbr.h> /* urcu_qsbr_gp, urcu_qsbr_reader: gcl_qsbr_quiescent */

#include "assert.h"
#include "barrier.h"
#include "freelist.h"
#include "object.h"
#include "rc-ops.h"
#include "stats.h"

#ifndef GCL_VERIFY
#define GCL_VERIFY 0
#endif

#include GCL_COLLECTOR_ATTRS
#include GCL_ALLOCATOR_ATTRS

#define GCL_HEADER_BYTES (GCL_COLLECTOR_PREFIX_SIZE + sizeof(struct gcl_object))

/* A collector that frees no object at all (none: allocate, never free) defines
 * GCL_COLLECTOR_NEVER_FREES 1 in its attrs header; the conformance suite then expects
 * every object to stay allocated. */
#ifndef GCL_COLLECTOR_NEVER_FREES
#define GCL_COLLECTOR_NEVER_FREES 0
#endif
static inline bool gcl_frees_objects(void) { return !GCL_COLLECTOR_NEVER_FREES; }

/* A collector that must see every decrement that may leave a count above zero (trial
 * deletion's candidate buffer: rc-trial) defines GCL_COLLECTOR_ON_RELEASE 1 and an inline
 * gcl_collector_on_release(cm, o) in its attrs header; it runs before each non-biased
 * decrement, while the caller's reference still keeps o alive. */
#ifndef GCL_COLLECTOR_ON_RELEASE
#define GCL_COLLECTOR_ON_RELEASE 0
static inline void gcl_collector_on_release(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  (void)cm, (void)o;
}
#endif

/* A collector that must see every reference store and publication before it happens
 * (rc-gen's escape barrier, collectors/rc-gen/README.md) defines GCL_COLLECTOR_ON_STORE 1
 * and inline gcl_collector_on_store(cm, obj, val) (val non-NULL, about to be stored into a
 * slot of obj; obj NULL: a slot outside the heap, e.g. a global root) and
 * gcl_collector_on_share(cm, o) (o non-NULL, being gcl_share()d) in its attrs header. */
#ifndef GCL_COLLECTOR_ON_STORE
#define GCL_COLLECTOR_ON_STORE 0
static inline void gcl_collector_on_store(struct gcl_collector_mutator *cm, struct gcl_object *obj,
                                          struct gcl_object *val) {
  (void)cm, (void)obj, (void)val;
}
static inline void gcl_collector_on_share(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  (void)cm, (void)o;
}
#endif

/* A collector that never stops the world (rc, rc-plain, none) defines
 * GCL_COLLECTOR_STOPS_WORLD 0 in its attrs header: gcl_poll then compiles to nothing
 * (outside GCL_VERIFY builds, whose checkpoints stop the world). */
#ifndef GCL_COLLECTOR_STOPS_WORLD
#define GCL_COLLECTOR_STOPS_WORLD 1
#endif

/* Root frames are maintained when a tracing collector needs them or the verifier reads
 * them; otherwise GCL_FRAME and GCL_FRAME_POP compile to nothing. */
#define GCL_ROOTS_ACTIVE (gcl_needs_roots() || GCL_VERIFY)

/* A root frame: the addresses of a function's locals that hold references. */
struct gcl_frame {
  struct gcl_frame *prev;     /* caller's frame, NULL at the bottom */
  unsigned count;             /* number of slots */
  struct gcl_object ***slots; /* addresses of the locals */
};

/* Thread states for stop-the-world (core/world.c). */
enum gcl_thread_state { GCL_THREAD_DETACHED, GCL_THREAD_ATTACHED, GCL_THREAD_SUSPENDED };

/* One attached mutator thread. Allocated by gcl_thread_attach, freed by gcl_thread_detach. */
struct gcl_mutator {
  int state;                               /* enum gcl_thread_state, accessed atomically */
  unsigned index;                          /* dense id, in attach order, for stats/reports */
  struct gcl_frame *frames;                /* innermost root frame */
  struct gcl_thread_stats stats;           /* counters merged into the heap's at detach */
  struct gcl_collector_mutator collector;  /* the collector's per-thread state */
  struct gcl_allocator_mutator allocator;  /* the allocator's per-thread state */
  struct gcl_object **dealloc_stack;       /* worklist of objects whose count hit zero */
  size_t dealloc_top, dealloc_cap;         /* its depth and capacity */
  bool dealloc_draining;                   /* gcl_dealloc is running on this thread */
  struct gcl_object *dying;                /* popped object whose finalizer or weak-reference
                                            * callbacks run now (count may be zero) */
  struct gcl_deferred_batch *deferred;     /* shared objects awaiting a QSBR grace period */
  struct gcl_mutator *next;                /* registry list, under the world lock */
  unsigned blocking_depth;                 /* nesting of gcl_blocking_enter */
  int safepoint_work;                      /* atomic: nonzero asks the next safepoint to
                                            * call gcl_safepoint_handler (collector bits)
                                            * or to serve a core bit (below) */
  struct gcl_satb satb;                    /* SATB buffer and barrier counters (barrier.h) */
  int handshake_pending;                   /* atomic: 1 while a handshake's callback has not
                                            * run for this thread (core/world.c) */
  struct gcl_freelists *freelists;         /* this thread's free lists (core/freelist.h);
                                            * NULL when free lists are off */
  bool collector_owned;                    /* a collector's own thread (marker, sweeper):
                                            * gcl_thread_attach_collector */
  uint32_t event_thread;                   /* the attaching thread's id in events
                                            * (gcl_event_thread_id): whose pause a
                                            * handshake callback run on its behalf is */
};

/* Core bits of gcl_mutator.safepoint_work (collectors use the bits below 1 << 24, and
 * their handlers clear only their own): a thread waiting for the GIL asks its holder to
 * drop it (core/gil.h). */
#define GCL_SAFEPOINT_GIL_DROP (1 << 30)
#define GCL_SAFEPOINT_HANDSHAKE (1 << 29) /* a handshake's callback waits for this thread */
#define GCL_SAFEPOINT_CORE_BITS (GCL_SAFEPOINT_GIL_DROP | GCL_SAFEPOINT_HANDSHAKE)

/* Set while a stop-the-world is requested; polled by every safepoint. */
extern int gcl_stop_requested;
/* Per-thread collector work (BRC merge queues, a scheduled collection): a collector that
 * sets m->safepoint_work installs this handler once (cold: called from the safepoint slow
 * path); the handler clears the bits it serves. NULL when no collector uses it. */
extern void (*gcl_safepoint_handler)(struct gcl_mutator *m);

/* --- heap and threads (core/heap.c, core/world.c) ---------------------------------- */

union gcl_opt_value; /* core/module.h */

/* What the runner knows before the heap starts; NULL members mean defaults. */
struct gcl_heap_config {
  unsigned threads;                           /* mutator threads the run will start */
  const union gcl_opt_value *collector_opts;  /* gcl_collector_module's values, or NULL */
  const union gcl_opt_value *allocator_opts;  /* gcl_allocator_module's values, or NULL */
  bool gil;                                   /* GIL mode (core/gil.h); off by default */
  uint64_t gil_interval_us;                   /* its switch interval; 0: 5 ms */
  bool freelists;                             /* per-type free lists on (core/freelist.h) */
};
/* Once per process, before any thread attaches: the GIL mode, the allocator's init, then
 * the collector's, each with its options (defaults where cfg or its member is NULL). */
int gcl_heap_init_with(const struct gcl_heap_config *cfg);
int gcl_heap_init(void);       /* gcl_heap_init_with(NULL): 1 thread, default options */
void gcl_heap_finish(void);    /* after every thread detached: final collection, flushes */
struct gcl_mutator *gcl_thread_attach(void);
void gcl_thread_detach(struct gcl_mutator *m);
/* A collector's own thread (marker, sweeper) attaches with this instead: it is a
 * registered thread like a mutator (stops park or wait for it, handshakes run for it),
 * flagged collector_owned, bound to entry k (mod its length) of the placement plan, and
 * its CPU time (CLOCK_THREAD_CPUTIME_ID at detach) goes to gcl_collector_threads_cpu_ns,
 * not to the mutators'. It detaches with gcl_thread_detach. */
struct gcl_mutator *gcl_thread_attach_collector(unsigned k);
uint64_t gcl_collector_threads_cpu_ns(void); /* of the collector threads that detached */
unsigned gcl_collector_threads(void);        /* collector threads attached so far */

void gcl_safepoint_slow(struct gcl_mutator *m);
void gcl_poll_slow(struct gcl_mutator *m); /* gcl_poll's: suspend for the stop in progress */
void gcl_blocking_enter(struct gcl_mutator *m);
void gcl_blocking_leave(struct gcl_mutator *m);

/* Stop every other attached thread at a safepoint (detached ones are parked by the caller);
 * returns with the caller attached and the world stopped. Nests with nothing. */
void gcl_stop_the_world(struct gcl_mutator *m);
void gcl_start_the_world(struct gcl_mutator *m);

/* A ragged handshake: run fn(t, ctx) once for every thread t registered when it starts —
 * by t itself at its next safepoint, or, for a thread that is detached (blocked, waiting,
 * exiting), by the requester on its behalf while it is parked (as stop-the-world parks
 * them), and for the requester m itself by the requester. Returns when every callback has
 * run. m may be NULL (a collector-owned thread that is no mutator). fn must not stop the
 * world, start a handshake, block, or call gcl_for_each_mutator; it may run under the
 * thread-list lock. One stop or handshake runs at a time. Emits phase "handshake" on the
 * requester (request to the last acknowledgement: the handshake's time to safepoint) and
 * one event HANDSHAKE_PAUSE per callback (its time: that thread's pause of kind
 * `handshake`, core/event.h) on the thread that runs it. fn may see a
 * thread that is still attaching (before its allocator and collector attach hooks ran) or
 * already exiting (after its detach hooks), and may run on a requester that is offline for
 * QSBR: it must not use gcl_load_strong or other optimistic reads. Handshakes are served
 * at gcl_safepoint, not at gcl_poll. */
void gcl_handshake(struct gcl_mutator *m, void (*fn)(struct gcl_mutator *t, void *ctx), void *ctx);

/* With the world stopped by m (between gcl_stop_the_world(m) and gcl_start_the_world(m)):
 * run fn(t, k, n, ctx) once for every thread t registered now (m included), k distinct in
 * 0..n-1, all with the same n, and return when every call has returned. A thread stopped
 * at a safepoint or waiting to attach runs its own call, in parallel with the others; for
 * a thread parked elsewhere (blocked, exiting) m runs it on its behalf, after its own,
 * and m takes over any call whose thread has not woken by then. fn must not stop the
 * world, handshake, block, or call gcl_for_each_mutator or gcl_world_parallel, and must
 * be safe to run concurrently for different t (the caller's job: disjoint parts, atomic
 * shared state). It may see a thread still attaching or already exiting (as
 * gcl_for_each_mutator does). With one thread: fn(m, 0, 1, ctx) on m, nothing else.
 * core/world-parallel.c. */
void gcl_world_parallel(struct gcl_mutator *m, void (*fn)(struct gcl_mutator *t, unsigned k, unsigned n, void *ctx),
                        void *ctx);

/* Apply fn to every attached-or-parked thread; only while the world is stopped. */
void gcl_for_each_mutator(void (*fn)(struct gcl_mutator *, void *), void *ctx);

/* Global roots: slots outside any thread (e.g. a shared queue's head). A slot is written
 * only with gcl_global_root_store once registered (a plain write is a hole in a concurrent
 * tracer's snapshot), and is removed holding NULL while a concurrent tracer marks (clear
 * it with gcl_global_root_store first: removing a value is deleting it from a root, and
 * gcl_global_root_remove has no thread to record the deletion in; checked). Adding needs
 * nothing: a value in a slot registered before the tracer's global-root scan is seen by
 * it, and one stored after came from a place the snapshot already covers. */
void gcl_global_root_add(struct gcl_object **slot);
void gcl_global_root_remove(struct gcl_object **slot);
/* Store val into the registered global root slot (m attached): under a SATB barrier,
 * while marking, the old value joins the snapshot (a deletion barrier: a tracer that has
 * not scanned the global roots yet would otherwise miss an object moved from this slot
 * into an already scanned place), and val too while m's roots are not scanned (as
 * gcl_store_move). Reference counts are the caller's, as with a plain write: the slot's
 * reference is the one the caller gave it. A global root is reachable by every thread:
 * under an escape barrier (GCL_COLLECTOR_ON_STORE, rc-gen) val escapes first. */
void gcl_verify_fresh_publish(struct gcl_object *o); /* core/verify-fresh.c, below */
static inline void gcl_global_root_store(struct gcl_mutator *m, struct gcl_object **slot,
                                         struct gcl_object *val) {
  if (GCL_COLLECTOR_ON_STORE && val) gcl_collector_on_store(&m->collector, NULL, val);
  if (GCL_VERIFY && val) gcl_verify_fresh_publish(val); /* no initialising store into it now */
  struct gcl_object *old = __atomic_load_n(slot, __ATOMIC_RELAXED);
  if (gcl_barrier_kind() == GCL_BARRIER_SATB && GCL_UNLIKELY(gcl_marking_is_active()) &&
      (old || (val && __atomic_load_n(&m->satb.shade_new, __ATOMIC_RELAXED))))
    gcl_barrier_satb_store_slow(m, old, val);
  __atomic_store_n(slot, val, __ATOMIC_RELEASE);
}
void gcl_visit_roots(struct gcl_mutator *m, gcl_visit_fn visit, void *ctx); /* one thread's */
void gcl_visit_global_roots(gcl_visit_fn visit, void *ctx);

/* Ask the collector for a collection of `generation` (-1: the largest it has). */
void gcl_collect(struct gcl_mutator *m, int generation);
/* gc.freeze(): move every object the collector tracks into a permanent generation that no
 * collection examines (so none of it is ever collected); gcl_unfreeze moves them back into
 * the oldest generation. Both return how many objects moved (0 under a collector that
 * tracks nothing). Cold: they stop the world. */
uint64_t gcl_freeze(struct gcl_mutator *m);
uint64_t gcl_unfreeze(struct gcl_mutator *m);
/* gc.enable() / gc.disable(): switch automatic collections on or off (explicit gcl_collect
 * still runs). Returns whether they were on; a collector without automatic collections
 * returns false and ignores the call. */
bool gcl_set_auto_collect(struct gcl_mutator *m, bool on);

/* The heap limit: once the flushed live-bytes total (core/stats.h) exceeds it, the heap
 * calls gcl_oom_handler (the runner's: it writes the record with status `oom` and exits;
 * without one, a message and abort()). A collector sets it in its init, before any thread
 * attaches; 0 (the default) is no limit. Checked where the per-thread byte counts are
 * flushed, so a run may overshoot it by up to threads x GCL_HEAP_BYTES_BATCH bytes. */
void gcl_heap_set_limit(int64_t bytes);
int64_t gcl_heap_limit(void); /* the limit in force, 0: none */
extern void (*gcl_oom_handler)(int64_t live_bytes, int64_t limit);
/* A tracing collector that enforces the limit itself (it collects first, and only a heap
 * that stays over it after a full collection is out of memory) installs this hook in its
 * init: every flush of a thread's byte count then calls it (cold, once per
 * GCL_HEAP_BYTES_BATCH bytes) with the new live total instead of checking the limit. The
 * hook may set collector bits in m->safepoint_work; it must not collect (the thread may be
 * in the middle of an allocation). m may be NULL (a sweeper's own flush). */
extern void (*gcl_heap_flush_hook)(struct gcl_mutator *m, int64_t live_bytes);
/* The collector found the heap over its limit after a full collection: ends the cell with
 * status oom (the runner's handler) or aborts. */
_Noreturn void gcl_heap_out_of_memory(int64_t live_bytes);

/* Slow paths. */
void gcl_dealloc(struct gcl_mutator *m, struct gcl_object *o); /* count hit zero */
void gcl_free_object(struct gcl_mutator *m, struct gcl_object *o); /* memory only */
/* The free path that needs no mutator (a sweeper, a collector-owned thread): release an
 * unreachable object's memory (gcl_collector_on_free with cm NULL, the allocator's free
 * with am NULL, the verifier's quarantine in GCL_VERIFY builds), counting it in *s, which
 * the caller merges (gcl_stats_merge) when it is done. The object must be unreachable
 * from every thread: tracing collectors free no object another thread may still read, so
 * no QSBR grace period is taken. */
void gcl_free_unowned(struct gcl_thread_stats *s, struct gcl_object *o);
void gcl_heap_bytes_flush(struct gcl_mutator *m);
void gcl_heap_thread_flush(struct gcl_mutator *m); /* deferred frees and byte counts */
/* Visit the objects thread t is in the middle of killing: its dealloc worklist and the one
 * whose finalizer or weak-reference callbacks run. Their counts may be zero, yet they hold
 * their references until t kills them, so a collector running while t is stopped inside a
 * finalizer must treat each as referenced from outside. World stopped only. */
void gcl_visit_dying(struct gcl_mutator *t, void (*fn)(struct gcl_object *o, void *ctx), void *ctx);

/* Verifier hooks (core/verify.c), called only in GCL_VERIFY builds. */
void gcl_verify_on_alloc(struct gcl_object *o);
void gcl_verify_on_free(struct gcl_object *o);
void gcl_verify_checkpoint(struct gcl_mutator *m);
void gcl_verify_drain_frames(struct gcl_mutator *m, struct gcl_object *d);
/* The initialising-store check (core/verify-fresh.c): which thread allocated each object
 * and whether it has been published since (stored into a slot, shared). */
void gcl_verify_fresh_alloc(struct gcl_mutator *m, struct gcl_object *o);
void gcl_verify_fresh_publish(struct gcl_object *o);
/* Reports an error unless obj is m's unpublished object, slot lies inside it and is NULL;
 * then val counts as published. */
void gcl_verify_store_init(struct gcl_mutator *m, struct gcl_object *obj, struct gcl_object **slot,
                           struct gcl_object *val);

/* --- reference-count operations of the current thread --------------------------------
 * Each is the core/rc-ops.h primitive of the collector's kind or, under GCL_RC_BIASED,
 * the collector's own (biased counts need the thread; its attrs header defines
 * GCL_RC_BIASED_OPS and the gcl_rc_biased_* functions; for every other collector the stubs
 * below are never called and fold away). `heap` says who holds the reference: an object's
 * slot (true) or the thread itself — a local, a root frame, a global root (false). Under
 * brc the latter are not counted for deferred objects (gcl_make_deferred). */
#ifndef GCL_RC_BIASED_OPS
static inline void gcl_rc_biased_inc(struct gcl_collector_mutator *cm, struct gcl_object *o, bool heap) {
  (void)cm, (void)o, (void)heap;
}
static inline bool gcl_rc_biased_dec(struct gcl_collector_mutator *cm, struct gcl_object *o, bool heap) {
  (void)cm, (void)o, (void)heap;
  return false;
}
static inline bool gcl_rc_biased_try_inc(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  (void)cm, (void)o;
  return false;
}
static inline void gcl_rc_biased_revive(struct gcl_collector_mutator *cm, struct gcl_object *o) { (void)cm, (void)o; }
static inline void gcl_rc_biased_to_heap(struct gcl_collector_mutator *cm, struct gcl_object *o) { (void)cm, (void)o; }
static inline void gcl_rc_biased_publish(struct gcl_collector_mutator *cm, struct gcl_object *o) { (void)cm, (void)o; }
static inline void gcl_rc_biased_make_immortal(struct gcl_collector_mutator *cm, struct gcl_object *o) { (void)cm, (void)o; }
static inline void gcl_rc_biased_make_deferred(struct gcl_collector_mutator *cm, struct gcl_object *o) { (void)cm, (void)o; }
#endif

static inline void gcl_rc_thread_inc(struct gcl_mutator *m, struct gcl_object *o, bool heap) {
  if (gcl_rc_kind() == GCL_RC_BIASED) gcl_rc_biased_inc(&m->collector, o, heap);
  else gcl_rc_inc(o, gcl_rc_kind());
}

/* True when the count reached zero: the caller now owns the object's death. */
static inline bool gcl_rc_thread_dec(struct gcl_mutator *m, struct gcl_object *o, bool heap) {
  if (gcl_rc_kind() == GCL_RC_BIASED) return gcl_rc_biased_dec(&m->collector, o, heap);
  if (GCL_COLLECTOR_ON_RELEASE) gcl_collector_on_release(&m->collector, o);
  return gcl_rc_dec_is_zero(o, gcl_rc_kind());
}

/* Take a (thread-held) reference unless o is dying; gcl_load_strong and weak references. */
static inline bool gcl_rc_thread_try_inc(struct gcl_mutator *m, struct gcl_object *o) {
  if (gcl_rc_kind() == GCL_RC_BIASED) return gcl_rc_biased_try_inc(&m->collector, o);
  return gcl_rc_try_inc(o, gcl_rc_kind());
}

/* Give a dead object (count zero) one reference again, for its finalizer (core/heap.c). */
static inline void gcl_rc_thread_revive(struct gcl_mutator *m, struct gcl_object *o) {
  if (gcl_rc_kind() == GCL_RC_BIASED) gcl_rc_biased_revive(&m->collector, o);
  else gcl_rc_init(o, gcl_rc_kind());
}

/* o may be reached by other threads' gcl_rc_thread_try_inc from now on (gcl_share, a
 * weak reference): under brc its count must not die unsynchronised (CPython's
 * _PyObject_SetMaybeWeakref). No-op for the other kinds. */
static inline void gcl_rc_thread_publish(struct gcl_mutator *m, struct gcl_object *o) {
  if (gcl_rc_kind() == GCL_RC_BIASED) gcl_rc_biased_publish(&m->collector, o);
  (void)m, (void)o;
}

/* --- the inline fast paths ------------------------------------------------------------ */

/* Count one allocation of `bytes`: the object, and its bytes against the budget (core/
 * stats.h: bytes_allocated and the live-bytes delta get them when the budget runs out, at
 * the flush, or at the merge); one add, one subtract, one sign test. */
static inline void gcl_count_alloc(struct gcl_mutator *m, size_t bytes) {
  m->stats.objects_allocated++;
  if (GCL_UNLIKELY((m->stats.alloc_budget -= (int64_t)bytes) < 0)) gcl_heap_bytes_flush(m);
}

/* Take an object of (t, total bytes) off this thread's free list; NULL when it has none. */
static inline char *gcl_freelist_pop(struct gcl_mutator *m, const struct gcl_type *t, size_t total) {
  struct gcl_freelist *l = gcl_freelist_find(m->freelists, t, total);
  if (!l || !l->head) return NULL;
  struct gcl_object *o = l->head;
  l->head = (struct gcl_object *)o->gcl_word;
  l->count--;
  m->stats.freelist_reused++;
  if (GCL_VERIFY) gcl_verify_on_freelist_pop(o);
  return (char *)o - GCL_COLLECTOR_PREFIX_SIZE;
}

/* A new object of `bytes` bytes whose first `zeroed` bytes (header included, zeroed >=
 * sizeof(struct gcl_object)) are set up as below; the rest is left as the allocator gave
 * it (gcl_new_var_raw). */
static inline struct gcl_object *gcl_new_partly_zeroed(struct gcl_mutator *m, const struct gcl_type *t,
                                                       size_t bytes, size_t zeroed) {
  size_t total = GCL_COLLECTOR_PREFIX_SIZE + bytes;
  char *mem = NULL;
  if (GCL_FREELISTS && GCL_UNLIKELY(t->freelist != 0) && m->freelists) mem = gcl_freelist_pop(m, t, total);
  if (GCL_LIKELY(!mem)) mem = gcl_allocator_alloc(&m->allocator, total);
  if (GCL_UNLIKELY(!mem)) mem = gcl_alloc_failed(total);
  struct gcl_object *o = (struct gcl_object *)(mem + GCL_COLLECTOR_PREFIX_SIZE);
  /* Zeroing the payload makes every reference slot NULL before any collector can see it
   * (gcl_store_init relies on it; gcl_new_var_raw's unzeroed items hold no reference).
   * The header's two words are each written once: the type word, and the collector word
   * (the count under RC, else zero for on_alloc to set). */
  memset((char *)o + sizeof(struct gcl_object), 0, zeroed - sizeof(struct gcl_object));
  o->gcl_type_word = (uintptr_t)t;
  if (gcl_rc_kind() == GCL_RC_PLAIN || gcl_rc_kind() == GCL_RC_ATOMIC) gcl_rc_init(o, gcl_rc_kind());
  else o->gcl_word = 0;
  gcl_count_alloc(m, total);
  gcl_collector_on_alloc(&m->collector, o, t);
  if (GCL_VERIFY) gcl_verify_on_alloc(o), gcl_verify_fresh_alloc(m, o);
  return o;
}

static inline struct gcl_object *gcl_new_sized(struct gcl_mutator *m, const struct gcl_type *t,
                                               size_t bytes) {
  return gcl_new_partly_zeroed(m, t, bytes, bytes);
}

static inline struct gcl_object *gcl_new(struct gcl_mutator *m, const struct gcl_type *t) {
  GCL_ASSERT(!(t->flags & GCL_TYPE_VAR));
  return gcl_new_sized(m, t, t->size);
}

static inline struct gcl_object *gcl_new_var(struct gcl_mutator *m, const struct gcl_type *t,
                                             size_t len) {
  GCL_ASSERT(t->flags & GCL_TYPE_VAR);
  struct gcl_object *o = gcl_new_sized(m, t, gcl_type_instance_size(t, len));
  ((struct gcl_varobject *)o)->len = len;
  return o;
}

/* gcl_new_var, but the len items are not zeroed (the basic part, t->size bytes, is): for
 * a type whose items hold no references (neither GCL_TYPE_REF_ITEMS nor
 * GCL_TYPE_REF_COUNTED, no trace hook, every simple-layout slot inside the basic part), so
 * no collector or verifier reads them; the caller writes them before it reads them (issue
 * 13: churn's byte payloads were zeroed, then filled). */
static inline struct gcl_object *gcl_new_var_raw(struct gcl_mutator *m, const struct gcl_type *t,
                                                 size_t len) {
  GCL_ASSERT((t->flags & GCL_TYPE_VAR) && !(t->flags & (GCL_TYPE_REF_ITEMS | GCL_TYPE_REF_COUNTED)));
  GCL_ASSERT(!t->trace && t->ref_offset + t->nrefs * sizeof(struct gcl_object *) <= t->size);
  struct gcl_object *o = gcl_new_partly_zeroed(m, t, gcl_type_instance_size(t, len), t->size);
  ((struct gcl_varobject *)o)->len = len;
  return o;
}

static inline void gcl_retain(struct gcl_mutator *m, struct gcl_object *o) {
  if (o) gcl_rc_thread_inc(m, o, false);
}

/* Drop an owned reference (NULL is allowed). */
static inline void gcl_release(struct gcl_mutator *m, struct gcl_object *o) {
  if (o && gcl_rc_thread_dec(m, o, false)) gcl_dealloc(m, o);
}

/* Publish o to other threads: from now on its memory is reused only after every thread
 * passed a quiescent state, so gcl_load_strong may read its header optimistically. */
static inline void gcl_share(struct gcl_mutator *m, struct gcl_object *o) {
  if (o) {
    if (GCL_VERIFY) gcl_verify_fresh_publish(o);
    if (GCL_COLLECTOR_ON_STORE) gcl_collector_on_share(&m->collector, o); /* escape barrier */
    gcl_obj_set_flag(o, GCL_OBJ_SHARED);
    gcl_rc_thread_publish(m, o);
  }
}

/* Immortal (PEP 683): retain and release of o do nothing from now on and it is never
 * freed, nor collected (what it references lives as long). Call it once, on a new object
 * (yours, not yet stored or shared). Under brc a sentinel local count; under rc, rc-plain
 * and rc-gen the count GCL_RC_IMMORTAL (core/rc-ops.h); under a collector without counts
 * (none) the object simply lives; under a tracing collector (cmark, bdw) the call does
 * nothing: the object lives while it is reachable, as any other, and is not counted. Counted
 * in objects_immortal (core/stats.h): once in
 * objects_allocated, never freed, not leaked. The caller's reference stays valid and
 * needs no release (a release is a no-op). */
static inline void gcl_make_immortal(struct gcl_mutator *m, struct gcl_object *o) {
  /* Without counts (a tracing collector: cmark, bdw) there is nothing to pin: o lives as
   * long as it is reachable, like any object, and is not counted as immortal. */
  if (gcl_rc_kind() == GCL_RC_NONE && gcl_frees_objects()) return;
  if (gcl_rc_kind() == GCL_RC_BIASED) gcl_rc_biased_make_immortal(&m->collector, o);
  else gcl_rc_make_immortal(o, gcl_rc_kind());
  m->stats.objects_immortal++;
}

/* Deferred reference counting (PEP 703): references the thread holds to o (locals, root
 * frames, global roots: gcl_new, gcl_retain, gcl_load_strong) are not counted, only those
 * held by object slots; o is freed only by a collection that finds no root frame, global
 * root or object referencing it. Call it on a new object (yours, not yet stored or shared)
 * and keep every thread-held reference to o in a root frame or global root. Under brc
 * only; a no-op (plain counting) for the other collectors. */
static inline void gcl_make_deferred(struct gcl_mutator *m, struct gcl_object *o) {
  if (gcl_rc_kind() == GCL_RC_BIASED) gcl_rc_biased_make_deferred(&m->collector, o);
  (void)m, (void)o;
}

static inline void gcl_store_move(struct gcl_mutator *m, struct gcl_object *obj,
                                  struct gcl_object **slot, struct gcl_object *val) {
  (void)obj;
  if (GCL_COLLECTOR_ON_STORE && val) gcl_collector_on_store(&m->collector, obj, val); /* escape barrier */
  /* The caller's reference becomes the slot's (counted even for a deferred object). */
  if (gcl_rc_kind() == GCL_RC_BIASED && val) gcl_rc_biased_to_heap(&m->collector, val);
  struct gcl_object *old = __atomic_load_n(slot, __ATOMIC_RELAXED);
  /* SATB: the old value joins the snapshot while marking is active, and the new one too
   * while this thread's roots are not scanned yet (barrier.h, satb.shade_new). */
  if (gcl_barrier_kind() == GCL_BARRIER_SATB && GCL_UNLIKELY(gcl_marking_is_active()) &&
      (old || (val && __atomic_load_n(&m->satb.shade_new, __ATOMIC_RELAXED))))
    gcl_barrier_satb_store_slow(m, old, val);
  __atomic_store_n(slot, val, __ATOMIC_RELEASE);
  if (GCL_VERIFY && val) gcl_verify_fresh_publish(val); /* no initialising store into it now */
  if (old && gcl_rc_thread_dec(m, old, true)) gcl_dealloc(m, old);
}

static inline void gcl_store(struct gcl_mutator *m, struct gcl_object *obj,
                             struct gcl_object **slot, struct gcl_object *val) {
  gcl_retain(m, val);
  gcl_store_move(m, obj, slot, val);
}

/* Initialising stores (issue 13): the first store into a reference slot of obj, an object
 * this thread allocated (gcl_new*) and has not published (stored into a slot, shared,
 * weakly referenced; its root frames and locals are fine). The slot is still NULL (gcl_new
 * zeroed it): no old value to release, and no other thread reads or writes the slot. What
 * gcl_store_move does that this skips, per collector:
 *  - rc, rc-plain, rc-trial, rc-gen (no barrier): the old value's load, test and decrement,
 *    nothing else (rc-trial's hook runs on decrements; rc-gen's collections read counts and
 *    slots; rc-gen's escape hook, GCL_COLLECTOR_ON_STORE, runs here as in gcl_store_move);
 *  - brc: the same; the value's reference still becomes a heap one (gcl_rc_biased_to_heap);
 *  - cmark (SATB + hybrid, barrier.h): the deletion half records the old value, NULL here;
 *    the insertion half (the value, while this thread's roots are unscanned: shade_new) is
 *    kept, since obj is allocated black during a cycle and never rescanned, so a value held
 *    only by an unscanned local would be lost. Once the roots are scanned no barrier is
 *    needed: the value was reachable at the snapshot (marked) or allocated since (black);
 *  - bdw, none (no barrier, no counts): a plain store either way.
 * A release store as in gcl_store_move (a mov on x86): a concurrent marker reaching obj
 * through this thread's roots must see the value's initialised header. GCL_VERIFY builds
 * check every call (core/verify-fresh.c): obj is this thread's, unpublished, and the slot
 * lies inside it and is NULL. _move hands the caller's reference to the slot; gcl_store_init
 * takes a new one. */
static inline void gcl_store_init_move(struct gcl_mutator *m, struct gcl_object *obj,
                                       struct gcl_object **slot, struct gcl_object *val) {
  if (GCL_VERIFY) gcl_verify_store_init(m, obj, slot, val);
  /* The escape barrier stays: obj, though unpublished, may have become shared since its
   * allocation (rc-gen makes every object shared when a second thread attaches or at
   * gc.collect), and then a local val must escape before the store. */
  if (GCL_COLLECTOR_ON_STORE && val) gcl_collector_on_store(&m->collector, obj, val);
  if (gcl_rc_kind() == GCL_RC_BIASED && val) gcl_rc_biased_to_heap(&m->collector, val);
  if (gcl_barrier_kind() == GCL_BARRIER_SATB && GCL_UNLIKELY(gcl_marking_is_active()) && val &&
      __atomic_load_n(&m->satb.shade_new, __ATOMIC_RELAXED))
    gcl_barrier_satb_store_slow(m, NULL, val);
  __atomic_store_n(slot, val, __ATOMIC_RELEASE);
}

static inline void gcl_store_init(struct gcl_mutator *m, struct gcl_object *obj,
                                  struct gcl_object **slot, struct gcl_object *val) {
  gcl_retain(m, val);
  gcl_store_init_move(m, obj, slot, val);
}

static inline struct gcl_object *gcl_load(struct gcl_mutator *m, struct gcl_object *obj,
                                          struct gcl_object **slot) {
  (void)m, (void)obj;
  return __atomic_load_n(slot, __ATOMIC_ACQUIRE);
}

/* Free-threaded CPython's try-incref: read the slot, take a reference unless the object is
 * already dying, and confirm the slot still holds it. The header read may race with the
 * object's death; that is safe because shared objects' memory outlives a QSBR grace
 * period and this thread is online (between two of its quiescent states). */
static inline struct gcl_object *gcl_load_strong(struct gcl_mutator *m, struct gcl_object *obj,
                                                 struct gcl_object **slot) {
  (void)obj;
  for (;;) {
    struct gcl_object *o = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!o) return NULL;
    if (gcl_rc_kind() == GCL_RC_NONE) return o;
    if (!gcl_rc_thread_try_inc(m, o)) continue;
    if (__atomic_load_n(slot, __ATOMIC_ACQUIRE) == o) return o;
    gcl_release(m, o);
  }
}

void gcl_quiescent_state(void);

/* A QSBR quiescent state, liburcu's own fast path inline: when this thread's reader
 * counter already equals the grace-period counter (no grace period started since its last
 * quiescent state) there is nothing to report, one compare; otherwise the out-of-line
 * gcl_quiescent_state (two fences, the counter store, a wake-up of a waiting writer).
 * Exactly _urcu_qsbr_quiescent_state's test (urcu/static/urcu-qsbr.h, which its authors
 * mark as usable from non-LGPL code). Under TSan the call is always made: it carries the
 * happens-before annotation liburcu's uninstrumented code cannot (core/tsan.h). */
static inline void gcl_qsbr_quiescent(void) {
#if defined(__SANITIZE_THREAD__)
  gcl_quiescent_state();
#else
  if (GCL_UNLIKELY(CMM_LOAD_SHARED(urcu_qsbr_gp.ctr) != URCU_TLS(urcu_qsbr_reader).ctr))
    gcl_quiescent_state();
#endif
}

static inline void gcl_safepoint(struct gcl_mutator *m) {
  if (GCL_UNLIKELY(__atomic_load_n(&gcl_stop_requested, __ATOMIC_RELAXED) |
                   __atomic_load_n(&m->safepoint_work, __ATOMIC_RELAXED)))
    gcl_safepoint_slow(m);
  gcl_qsbr_quiescent();
}

/* The cheap poll of inner loops (per object built or visited): honours a stop-the-world
 * request at once, and nothing else — no QSBR quiescent state (two fences in liburcu), no
 * collector or GIL work (gcl_safepoint, which the loop still calls every few microseconds
 * of work, does those). One load and one branch on the fast path (nothing at all under a
 * collector that never stops the world, GCL_COLLECTOR_STOPS_WORLD 0). The same rule as at a
 * safepoint: every local that must survive it lives in a root frame. */
static inline void gcl_poll(struct gcl_mutator *m) {
  if ((GCL_COLLECTOR_STOPS_WORLD || GCL_VERIFY) &&
      GCL_UNLIKELY(__atomic_load_n(&gcl_stop_requested, __ATOMIC_RELAXED)))
    gcl_poll_slow(m);
}

/* A workload calls this at phase boundaries (all its live references in root frames or
 * global roots): in GCL_VERIFY builds the world stops and the oracle checks the heap;
 * otherwise it compiles to nothing. */
static inline void gcl_checkpoint(struct gcl_mutator *m) {
  if (GCL_VERIFY) gcl_verify_checkpoint(m);
}

/* --- root frames ---------------------------------------------------------------------- */

static inline void gcl_frame_push(struct gcl_mutator *m, struct gcl_frame *f) {
  if (GCL_ROOTS_ACTIVE) {
    f->prev = m->frames;
    m->frames = f;
  }
}

static inline void gcl_frame_pop(struct gcl_mutator *m, struct gcl_frame *f) {
  (void)f;
  if (GCL_ROOTS_ACTIVE) {
    GCL_ASSERT(m->frames == f);
    m->frames = f->prev;
  }
}

/* GCL_FRAME(m, name, &local1, &local2, ...) declares and pushes a frame over the named
 * locals (which must be initialised, NULL is fine); GCL_FRAME_POP(m, name) pops it. Frames
 * are strictly nested. */
#define GCL_FRAME(m, name, ...)                                                              \
  struct gcl_object **name##_slots[] = {__VA_ARGS__};                                        \
  struct gcl_frame name = {NULL, (unsigned)(sizeof(name##_slots) / sizeof(name##_slots[0])), \
                           name##_slots};                                                    \
  gcl_frame_push((m), &name)
#define GCL_FRAME_POP(m, name) gcl_frame_pop((m), &name)

/* Release the owned reference a framed local holds, clearing the local first (the frame
 * rule, at the top of this file): the drain that may follow polls for a stop, and a
 * collector marking from this thread's frames then must not find the dying object. The
 * store is ordered before the release by the out-of-line gcl_dealloc (the frame published
 * the slot's address in m->frames). */
static inline void gcl_frame_release(struct gcl_mutator *m, struct gcl_object **slot) {
  struct gcl_object *o = *slot;
  *slot = NULL;
  gcl_release(m, o);
}

#endif
