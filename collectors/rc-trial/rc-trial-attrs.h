/* SPDX-License-Identifier: MIT */
/* collectors/rc-trial/rc-trial-attrs.h — atomic reference counting plus synchronous cycle
 * collection by trial deletion (Bacon & Rajan, "Concurrent Cycle Collection in Reference
 * Counted Systems", ECOOP 2001, the synchronous algorithm): constants, the 8-byte prefix,
 * and the inline hooks that fill the per-thread candidate ("purple") buffer.
 *
 * Prefix: one word before the common header,
 *   entry | colour    entry: address of the buffer slot that holds this object while it is
 *                     a candidate (8-byte aligned), 0 otherwise; colour: 2 low bits,
 *                     black (0), gray (1) or white (2).
 * Outside a collection every colour is black, so the word is 0 exactly when the object is
 * not buffered; "purple" is entry != 0. Colours change only with the world stopped.
 *
 * Candidates. Before every decrement (core/mutator.h's GCL_COLLECTOR_ON_RELEASE hook, which
 * runs while the caller's reference still keeps the object alive) a container whose count
 * is above 1 — the decrement will probably leave it above zero, the paper's "decrement to
 * non-zero" — and that is not buffered yet is appended to the thread's buffer: the thread
 * reserves its next slot, CASes the object's word from 0 to the slot's address (another
 * thread may be buffering it too: one wins), and fills the slot. Non-containers (the
 * paper's green, acyclic objects) are never buffered nor traversed.
 * Reading the count before the decrement instead of after is what makes the hook safe with
 * atomic counts: after a decrement to non-zero the thread holds no reference and another
 * thread may free the object at once. A race can make the guess wrong both ways: a count
 * read above 1 that another thread's decrement brings to zero (the object dies buffered:
 * gcl_collector_on_free clears its slot, so nothing dangles and nothing is freed twice),
 * or a count read as 1 that a concurrent weak-reference upgrade raised (then no cycle can
 * hang on our reference alone: whoever holds the other one buffers it when it lets go).
 *
 * Buffers are chunks that never move (struct gcl_rctrial_chunk), so an object's entry stays
 * valid until a collection (world stopped) empties the buffers and clears every entry. The
 * slot of a candidate freed by RC is cleared by whichever thread frees it (an atomic store
 * into the owner's chunk, a location the owner no longer writes).
 *
 * A collection is due when the candidates buffered since the last one reach the `buffer`
 * option; each thread checks the sum at its next allocation after its own count passes its
 * share (gcl_collector_on_alloc), never inside the release hook: a collection there would
 * run while the caller's pending decrement is still counted, see a live count, and drop the
 * candidate (its cycle would leak). */
#ifndef GCL_RC_TRIAL_ATTRS_H
#define GCL_RC_TRIAL_ATTRS_H

#include <stdbool.h>
#include <stdint.h>

#define GCL_COLLECTOR_NAME "rc-trial"
#define GCL_COLLECTOR_PREFIX_SIZE 8
#define GCL_COLLECTOR_ON_RELEASE 1

#define GCL_RCTRIAL_CHUNK 510u               /* slots per buffer chunk (a 4 KiB chunk) */
#define GCL_RCTRIAL_COLOUR ((uintptr_t)3)    /* colour bits of the prefix word */

/* One chunk of a thread's candidate buffer. */
struct gcl_rctrial_chunk {
  struct gcl_rctrial_chunk *next;              /* the thread's older chunks */
  unsigned n;                                  /* slots filled (owner; collector when stopped) */
  struct gcl_object *slot[GCL_RCTRIAL_CHUNK];  /* candidates; NULL once freed by RC (atomic) */
};

struct gcl_collector_mutator {
  struct gcl_rctrial_chunk *chunk;        /* newest chunk of this thread's buffer, or NULL */
  uint64_t buffered;                      /* atomic: candidates buffered since the last
                                           * collection (summed by others) */
  uint64_t limit;                         /* atomic: check the sum once buffered reaches it */
  struct gcl_collector_mutator *reg_next; /* registry of attached threads (rc-trial.c) */
};

static inline enum gcl_rc_kind gcl_rc_kind(void) { return GCL_RC_ATOMIC; }
static inline enum gcl_barrier_kind gcl_barrier_kind(void) { return GCL_BARRIER_NONE; }
static inline bool gcl_needs_roots(void) { return false; }
/* Whether every unreachable object, cyclic or not, is eventually freed. */
static inline bool gcl_collects_cycles(void) { return true; }

static inline uintptr_t *gcl_rctrial_word(struct gcl_object *o) {
  return (uintptr_t *)((char *)o - GCL_COLLECTOR_PREFIX_SIZE);
}

/* Cold (rc-trial.c): a fresh chunk for cm's buffer; the sum check of the trigger. */
struct gcl_rctrial_chunk *gcl_rctrial_chunk_new(struct gcl_collector_mutator *cm);
void gcl_rctrial_alloc_slow(struct gcl_collector_mutator *cm);

static inline void gcl_collector_on_alloc(struct gcl_collector_mutator *cm, struct gcl_object *o,
                                          const struct gcl_type *t) {
  (void)t;
  __atomic_store_n(gcl_rctrial_word(o), 0, __ATOMIC_RELAXED); /* black, not buffered */
  if (GCL_UNLIKELY(__atomic_load_n(&cm->buffered, __ATOMIC_RELAXED) >=
                   __atomic_load_n(&cm->limit, __ATOMIC_RELAXED)))
    gcl_rctrial_alloc_slow(cm);
}

/* Buffer o as a possible root (the paper's PossibleRoot), unless someone already has. */
static inline void gcl_rctrial_buffer(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  struct gcl_rctrial_chunk *c = cm->chunk;
  if (GCL_UNLIKELY(!c || c->n == GCL_RCTRIAL_CHUNK)) c = gcl_rctrial_chunk_new(cm);
  struct gcl_object **slot = &c->slot[c->n];
  uintptr_t expected = 0;
  if (!__atomic_compare_exchange_n(gcl_rctrial_word(o), &expected, (uintptr_t)slot, false,
                                   __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    return; /* buffered by another thread meanwhile */
  __atomic_store_n(slot, o, __ATOMIC_RELAXED);
  c->n++;
  __atomic_store_n(&cm->buffered, __atomic_load_n(&cm->buffered, __ATOMIC_RELAXED) + 1,
                   __ATOMIC_RELAXED);
}

/* Before a decrement of o (the caller still holds its reference). */
static inline void gcl_collector_on_release(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  if (__atomic_load_n(&o->gcl_word, __ATOMIC_RELAXED) <= 1) return; /* it dies (or races) */
  if (__atomic_load_n(gcl_rctrial_word(o), __ATOMIC_RELAXED) != 0) return; /* buffered */
  if (!(gcl_type_of(o)->flags & GCL_TYPE_CONTAINER)) return;              /* green */
  gcl_rctrial_buffer(cm, o);
}

/* o dies: if it is a candidate, clear its slot (in whichever thread's buffer). cm may be
 * NULL (no mutator frees it). */
static inline void gcl_collector_on_free(struct gcl_collector_mutator *cm, struct gcl_object *o) {
  (void)cm;
  uintptr_t w = __atomic_load_n(gcl_rctrial_word(o), __ATOMIC_RELAXED) & ~GCL_RCTRIAL_COLOUR;
  if (GCL_UNLIKELY(w != 0)) __atomic_store_n((struct gcl_object **)w, NULL, __ATOMIC_RELAXED);
}

/* --- introspection (cold; tests and experiments) ------------------------------------- */

/* Figures since the process started, the collections at exit included. */
struct gcl_rctrial_stats {
  uint64_t collections;         /* collections run */
  uint64_t candidates_buffered; /* candidates drained from the buffers by collections */
  uint64_t roots_scanned;       /* of those, the ones still alive: MarkGray started there */
  uint64_t objects_traversed;   /* objects MarkGray coloured gray (once per collection) */
  uint64_t objects_freed;       /* garbage objects the collections freed (or cleared) */
  uint64_t max_traversed;       /* the most objects one collection traversed */
  uint64_t finalizers_run;      /* PEP 442 finalizers run by collections */
  uint64_t resurrected;         /* garbage objects a finalizer made reachable again */
  uint64_t gc_ns;               /* time in collections */
};
void gcl_rctrial_get_stats(struct gcl_rctrial_stats *out);
/* The trigger: collect once this many candidates are buffered (0: never automatically). */
void gcl_rctrial_set_buffer_limit(uint64_t n);
/* Candidates buffered now, over every thread (exact when no thread runs mutator code). */
uint64_t gcl_rctrial_buffered(void);
/* Whether o is buffered (purple) now. */
bool gcl_rctrial_is_buffered(struct gcl_object *o);
/* Check that no colour is left non-black on the candidates and that every buffered entry
 * points back at its object; returns the number of live candidates or a negative number
 * naming the first violated check. Only while no thread runs mutator code. */
int64_t gcl_rctrial_check(void);

#endif
