/* SPDX-License-Identifier: MIT */
/* core/barrier.h — the tracing contract's write barriers: barrier kinds, the process-wide
 * "marking active?" flag and the per-thread SATB (snapshot-at-the-beginning, Yuasa
 * deletion) buffers. Included by core/mutator.h before the attrs headers.
 *
 * A collector's attrs header answers gcl_barrier_kind() with a constant; gcl_store and
 * gcl_store_move (core/mutator.h) then compile, for GCL_BARRIER_SATB, an inline test of
 * gcl_marking_active and, only while it is set, an out-of-line slow path that records the
 * slot's old value in the thread's SATB buffer; for GCL_BARRIER_NONE nothing at all.
 * GCL_BARRIER_INSERTION (Dijkstra) and GCL_BARRIER_CARD (card marking) are reserved names
 * so a collector can be written against them later; core has no slow path for them yet
 * (gcl_store_move does nothing for them: a collector must not answer them until it does).
 * Read barriers (a moving collector's) would be a second kind, gcl_read_barrier_kind(),
 * not a value of this enum.
 *
 * Invariants:
 *  - gcl_marking_active is written only by the collector: on before the first root is
 *    shaded (by a handshake, so every thread sees it before it next stores) and off
 *    after marking terminated; mutators read it relaxed.
 *  - Every non-NULL old value overwritten while marking is active is in some SATB buffer
 *    (the thread's current one, or a full one on the global list) until the collector
 *    takes it (gcl_satb_take_all / gcl_satb_flush).
 *  - A thread's current buffer is touched only by its owner, or by a requester running a
 *    handshake callback on its behalf while it is parked (core/world.c).
 * No macros change this header; GCL_SATB_BUFFER_LEN sets a buffer's capacity. */
#ifndef GCL_BARRIER_H
#define GCL_BARRIER_H

#include <stdbool.h>
#include <stdint.h>

struct gcl_object;
struct gcl_mutator;

enum gcl_barrier_kind {
  GCL_BARRIER_NONE,      /* no write barrier (RC collectors, none, a stw-only tracer) */
  GCL_BARRIER_SATB,      /* deletion barrier: shade the old value while marking */
  GCL_BARRIER_INSERTION, /* reserved: shade the new value (Dijkstra); no slow path yet */
  GCL_BARRIER_CARD       /* reserved: card marking for a generational tracer; none yet */
};

#define GCL_SATB_BUFFER_LEN 1024 /* entries per buffer: 8 KiB, flushed when full */

/* One buffer of overwritten references. */
struct gcl_satb_buffer {
  struct gcl_satb_buffer *next;                    /* global list link (full buffers) */
  unsigned n;                                      /* entries in use */
  struct gcl_object *e[GCL_SATB_BUFFER_LEN];       /* the old values, in store order */
};

/* A thread's barrier state (a member of struct gcl_mutator). */
struct gcl_satb {
  struct gcl_satb_buffer *buf; /* current buffer, NULL until the first slow call */
  uint64_t slow_calls;         /* barrier slow-path calls (marking was active) */
  uint64_t entries;            /* old values recorded (non-NULL ones) */
  bool shade_new;              /* also record the stored value: from the handshake that
                                * turns the barrier on until this thread's roots are
                                * scanned (a hybrid barrier, as Go's: a thread whose roots
                                * are not scanned yet may hide a white object in a black
                                * one); written by the collector in handshake callbacks or
                                * with the world stopped, read by the owner */
};

/* Nonzero while a collector marks concurrently (atomic; see the invariants). */
extern int gcl_marking_active;

static inline bool gcl_marking_is_active(void) {
  return __atomic_load_n(&gcl_marking_active, __ATOMIC_RELAXED) != 0;
}

/* The collector switches the barrier on or off (seq_cst store). */
void gcl_marking_set(bool on);

/* The slow path of a SATB store: record old (non-NULL) in m's buffer. */
void gcl_barrier_satb_slow(struct gcl_mutator *m, struct gcl_object *old);
/* The slow path of gcl_store_move: old as above, and val too while m->satb.shade_new. */
void gcl_barrier_satb_store_slow(struct gcl_mutator *m, struct gcl_object *old, struct gcl_object *val);

/* Move m's current buffer, if it holds anything, to the global list of full buffers: the
 * owner (e.g. at detach), or a handshake callback for m. */
void gcl_satb_flush(struct gcl_mutator *m);

/* Take every buffer on the global list (a NULL-terminated chain through next); the caller
 * owns them and gives each back with gcl_satb_buffer_free. Thread-safe. */
struct gcl_satb_buffer *gcl_satb_take_all(void);
void gcl_satb_buffer_free(struct gcl_satb_buffer *b);
/* Take one buffer from the global list (NULL if none): bounded work (a mark assist). */
struct gcl_satb_buffer *gcl_satb_take_one(void);
/* True while some handed-over buffer waits on the global list (a termination test). */
bool gcl_satb_pending(void);

/* Totals of the SATB counters of every thread that has detached, plus the live ones the
 * caller adds itself (figures). */
void gcl_satb_totals(uint64_t *slow_calls, uint64_t *entries);
/* Add a detaching thread's counters to the totals (core/world.c). */
void gcl_satb_thread_done(struct gcl_mutator *m);

#endif
