/* SPDX-License-Identifier: MIT */
/* collectors/cmark/cmark-internal.h — what cmark.c (options, policy, the module API) and
 * cmark-gc.c (one cycle: mark, terminate, sweep, finalize) share.
 *
 * Invariants: one cycle runs at a time (cmark.gc_lock); the grey stack and the garbage
 * and finalization lists are touched only by the cycle's owner; the figures are atomics
 * (read by gcl_collector_report from any thread). No macros change this header. */
#ifndef GCL_CMARK_INTERNAL_H
#define GCL_CMARK_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "mutator.h"

/* A growable stack of objects (malloc'd: never from the heap's allocator). */
struct cmark_stack {
  struct gcl_object **a; /* entries */
  size_t n, cap;         /* depth and capacity */
};

enum cmark_mode { CMARK_MODE_STW, CMARK_MODE_CONCURRENT };

/* Figures, all updated with relaxed atomics. */
struct cmark_figures {
  uint64_t cycles;          /* collections completed */
  uint64_t full_stw;        /* full stop-the-world fallbacks (concurrent mode only) */
  uint64_t marked;          /* objects marked, all cycles */
  uint64_t swept;           /* objects freed by the sweep */
  uint64_t swept_bytes;     /* their bytes */
  uint64_t finalized;       /* finalizers run */
  uint64_t weak_cleared;    /* objects whose weak references were cleared */
  uint64_t satb_drained;    /* SATB entries the marker took */
  uint64_t mark_ns;         /* time marking (roots, drain, resurrection) */
  uint64_t sweep_ns;        /* time sweeping */
  uint64_t gc_ns;           /* whole cycles, finalizers included */
  uint64_t allocated_black; /* of threads that detached */
  uint64_t verified;        /* GCL_VERIFY: reachable objects the termination check saw */
  uint64_t marker_cpu_ns;   /* concurrent: marker threads' CPU time while marking */
  uint64_t sweeper_cpu_ns;  /* concurrent: the sweeping thread's CPU time in the sweep */
  uint64_t remarks;         /* concurrent: stop-the-world remarks (one per cycle) */
  uint64_t remark_ns;       /* their total time (request to restart) */
  uint64_t term_rounds;     /* concurrent: termination handshakes */
  uint64_t paced_waits;     /* concurrent: mutators that waited for a cycle (pacing) */
  uint64_t paced_wait_ns;   /* concurrent: the time they waited, all threads */
  uint64_t assists;         /* concurrent: mark assists by mutators (cmark-pace.c) */
  uint64_t assist_ns;       /* their total time, all threads */
  uint64_t assist_objects;  /* objects they traced */
  uint64_t paced_stall_max_ns; /* the longest pacing of one mutator past the limit (max) */
  uint64_t sweep_chunks;    /* concurrent: sweep chunks freed (one handshake each, cmark-sweep.c) */
  uint64_t sweep_sync_ns;   /* concurrent: thread 0's time in those handshakes */
  uint64_t sweep_assists;   /* concurrent: sweep assists (increments) by mutators past the limit */
  uint64_t sweep_assist_ns; /* their total time, all threads */
  uint64_t sweep_assist_pages; /* pages they claimed and swept */
  uint64_t sweep_assist_objects; /* objects they freed (also in swept) */
};

/* Add v to figure *f (any thread; relaxed: figures are read after the threads joined). */
static inline void cmark_fig_add(uint64_t *f, uint64_t v) { __atomic_fetch_add(f, v, __ATOMIC_RELAXED); }

/* Whether a stop or a handshake waits for m: a mutator's assist increment (mark or sweep)
 * ends early then, so its safepoint serves it (the increment would delay it otherwise). */
static inline bool cmark_safepoint_wanted(struct gcl_mutator *m) {
  return __atomic_load_n(&gcl_stop_requested, __ATOMIC_RELAXED) ||
         (__atomic_load_n(&m->safepoint_work, __ATOMIC_RELAXED) & GCL_SAFEPOINT_HANDSHAKE);
}

/* Concurrent mode (cmark-conc.c): the collector's own threads and the cycle requests.
 * Thread 0 drives each cycle (handshakes, remark, sweep, finalizers) and marks; threads
 * 1..markers-1 only mark. Everything below is under `lock` unless marked atomic. */
struct cmark_conc {
  pthread_mutex_t lock;     /* requests, completion, the marking round */
  pthread_cond_t wake;      /* thread 0: a request; markers: a new round, or quit */
  pthread_cond_t done;      /* a cycle completed, or a round's markers all went idle */
  pthread_t *tids;          /* the collector threads (markers of them) */
  unsigned markers;         /* cmark.markers */
  bool started, quit;       /* threads running; asked to exit */
  uint64_t requested;       /* cycles asked for (tickets) */
  uint64_t completed;       /* every ticket <= this was served by a cycle that started after it */
  int running;              /* a concurrent cycle is in progress (atomic) */
  uint64_t round;           /* marking rounds started (markers join each) */
  unsigned busy;            /* markers (thread 0 included) still draining this round */
  pthread_mutex_t grey_lock; /* the shared grey stack gcl_cmark.grey while markers run */
  int mark_open;            /* atomic: marking runs and mutators may assist (cmark-pace.c) */
  uint64_t assist_per_mib;  /* atomic: objects a mutator owes per MiB it allocates meanwhile */
  uint64_t marked_last;     /* objects the last concurrent cycle marked (thread 0 only) */
  unsigned assist_hungry;   /* atomic: mutators past the limit waiting for mark work (markers
                             * then give half their local stack to the shared one) */
  int assist_wanted;        /* atomic: an assist found no work; the next marker to poll
                             * gives half its local stack to the shared one and clears it */
  uintptr_t sweep_epoch;    /* atomic: the epoch the concurrent sweep frees for while it
                             * runs (sweep assists may claim pages), else 0 */
};

extern struct cmark_conc gcl_cmark_conc;

struct cmark {
  pthread_mutex_t gc_lock;        /* one cycle at a time */
  enum cmark_mode mode;           /* cmark.mode */
  unsigned markers;               /* cmark.markers (concurrent mode) */
  double trigger_frac;            /* cmark.trigger: a cycle at this share of the limit */
  double grow;                    /* cmark.grow: no limit: next trigger = live x grow */
  int64_t min_trigger;            /* cmark.min_heap: no limit: the smallest trigger */
  size_t sweep_chunk;             /* cmark.sweep_chunk: candidates per concurrent sweep chunk */
  bool sweep_assist;              /* cmark.sweep_assist: mutators past the limit sweep their pages */
  int64_t limit;                  /* the heap limit (cmark.limit, or gcl_heap_limit), 0 none */
  int64_t trigger;                /* live bytes that start the next cycle (atomic) */
  int auto_collect;               /* gc.enable() (atomic) */
  struct cmark_stack grey;        /* the grey stack */
  struct cmark_stack garbage;     /* unmarked objects found by the sweep's walk */
  struct cmark_stack finalize;    /* resurrected, finalizer not yet run: roots */
  struct cmark_figures fig;       /* figures */
};

extern struct cmark gcl_cmark;

#define CMARK_WORK_COLLECT 0x1 /* gcl_mutator.safepoint_work: run (stw) or ask for a cycle */
#define CMARK_WORK_PACE 0x2    /* concurrent: over the limit; wait for the cycle, else stw */
#define CMARK_WORK_ASSIST 0x4  /* concurrent: allocated while marking; pay an assist */
#define CMARK_BATCH 128        /* objects taken from the shared grey stack at a time */

void cmark_stack_push(struct cmark_stack *s, struct gcl_object *o);
#define CMARK_SWEEP_POLL 256 /* concurrent sweep: frees between two safepoints (its walk: every
                              * CMARK_SWEEP_POLL / 16 pages); a power of 2 */

/* One cycle by m (attached). explicit: wait for a running cycle instead of skipping.
 * Returns false when it skipped. */
bool cmark_collect(struct gcl_mutator *m, bool explicit);
/* True while this thread runs a stw cycle (cmark_collect) with gc_lock held, finalizers
 * included: a finalizer's collection request or pacing then returns at once (it cannot
 * wait for a cycle that needs the lock it holds). */
extern __thread bool cmark_in_cycle;

/* The marking steps, exposed for the barrier test (tests/unit/test-cmark.c): begin a
 * cycle's marking (new epoch; barrier on when `barrier`), shade one object, drain the
 * grey stack and the SATB buffers, end marking (barrier off). The caller serialises. */
void cmark_mark_begin(bool barrier);
void cmark_shade(struct gcl_object *o);
void cmark_mark_drain(void);
void cmark_mark_end(void);
bool cmark_is_marked(const struct gcl_object *o);

/* Shared by both modes (cmark-gc.c): mark o if white (one CAS; true: the caller greys it);
 * the visitor that shades a slot's value onto gcl_cmark.grey; shade every SATB buffer
 * handed over (true if there was one); "o is garbage" (its word is an older epoch: not
 * marked, not freed, not a block in flight); free the garbage list's objects that are
 * still garbage; callbacks and finalizers after a cycle; the next trigger (full: a heap
 * over its limit is oom). poll (concurrent mode's thread 0, else NULL / false): call
 * gcl_safepoint between frees and between finalizers, so a stop need not wait for them. */
bool cmark_try_mark(struct gcl_object *o);
void cmark_shade_slot(struct gcl_object **slot, void *ctx);
/* The visitor that shades a slot's value onto a thread's own stack (ctx: the struct
 * cmark_stack; a marker's, an assist's, a root scan's), not onto gcl_cmark.grey. */
void cmark_shade_slot_local(struct gcl_object **slot, void *ctx);
bool cmark_drain_satb(void);
bool cmark_is_garbage(const struct gcl_object *o);
void cmark_sweep_garbage(struct gcl_mutator *poll);
struct gcl_weakref_pending;
void cmark_run_finalizers(struct gcl_mutator *m, struct gcl_weakref_pending *weak, bool poll);
void cmark_retarget(int64_t live, bool full);

/* Concurrent mode (cmark-conc.c): ask for a cycle (wait: until one that started after
 * the request completed; m attached, waits detached); the pacing of a thread over the
 * limit; start the threads' work at init; stop and join them at finish. */
void cmark_conc_request(struct gcl_mutator *m, bool wait);
void cmark_conc_pace(struct gcl_mutator *m);
void cmark_conc_finish(void);
/* For the pacing (cmark-pace.c): the ticket of the cycle in progress, else of a new one
 * (threads started, thread 0 woken); whether that ticket's cycle completed; whether the
 * caller is one of cmark's threads; give a local grey stack's objects to the shared one
 * (idle markers woken). */
uint64_t cmark_conc_ticket(void);
bool cmark_conc_completed(uint64_t ticket);
bool cmark_conc_on_own_thread(void);
void cmark_conc_give_back(struct cmark_stack *local);
/* Concurrent sweep (cmark-sweep.c): step 5 on thread 0, in chunks of cmark.sweep_chunk
 * candidates, each freed after a handshake; after each chunk cmark_conc_memory_back
 * wakes the paced waits. Shared helpers of cmark-conc.c: the calling thread's CPU time
 * (ns), and a handshake callback that does nothing (its safepoint is the point). */
void cmark_conc_sweep(struct gcl_mutator *m);
/* Sweep assists (cmark-sweep.c; allocator capability heap-walk-own; cmark.sweep_assist):
 * whether this thread has pages of its own left to claim in the sweep running now; sweep
 * one bounded increment of them (m attached, at a safepoint: it allocates nothing
 * meanwhile; true if it claimed a page: one pause of kind assist). */
bool cmark_sweep_assist_pending(void);
bool cmark_sweep_assist(struct gcl_mutator *m);
/* At the start of a stall: the thread may have allocated since its last sweep assist, so
 * its walk of its own pages starts over (core/allocator.h: the cursor's rule). */
void cmark_sweep_assist_restart(void);
/* Add what st counted to the figures and the heap totals, and start it again (cmark-gc.c). */
struct gcl_thread_stats;
void cmark_sweep_merge(struct gcl_thread_stats *st);
void cmark_conc_memory_back(void);
uint64_t cmark_thread_cpu_ns(void);
void cmark_hs_nothing(struct gcl_mutator *t, void *ctx);
/* Take mark work onto `local`: up to CMARK_BATCH objects of the shared grey stack, else
 * the SATB buffers handed over (every one, or only one: an assist's bounded share),
 * shaded onto it. */
void cmark_conc_take_work(struct cmark_stack *local, bool one_buffer);
/* The pacing (cmark-pace.c): marking opens (thread 0: the assist ratio from the live
 * bytes and the last cycle's objects marked; mark_open set) and closes (before the
 * remark); a byte-count flush of m (true: marking is open, m owes an assist, debt
 * added); pay one assist increment of m's debt at its safepoint. */
void cmark_pace_open(int64_t live, uint64_t marked_last);
void cmark_pace_close(void);
bool cmark_pace_flush(struct gcl_mutator *m);
void cmark_pace_assist(struct gcl_mutator *m);
/* After a concurrent cycle (thread 0, after cmark_retarget): with a limit, lower the
 * trigger so that the next cycle, allocating as much as this one did (`allocated`
 * bytes), ends before the limit (at least at the live bytes). */
void cmark_pace_retarget(int64_t live, int64_t allocated);
/* Test hooks (tests/unit/test-cmark.c): a function thread 0 calls between the root scan
 * and marking, and a switch that leaves the barrier off (the lost-object race must then
 * lose the object, and the remark's verifier must abort). NULL / false otherwise. */
extern void (*cmark_conc_test_after_roots)(void);
/* ... and one it calls after every thread's roots, before it shades the global roots. */
extern void (*cmark_conc_test_before_globals)(void);
extern bool cmark_conc_test_no_barrier;
/* ... and one thread 0 calls after each sweep chunk's frees (cmark-sweep.c). */
extern void (*cmark_conc_test_sweep_chunk)(void);
/* ... and one it calls once the sweep is open to assists, before its walk (cmark-sweep.c). */
extern void (*cmark_conc_test_sweep_open)(void);

/* Finalizable objects and weak references at termination (cmark-final.c), with the
 * world stopped: gather every thread's finalizable list (before terminate, outside the
 * grey lock: it takes world_lock); clear the weak references of
 * unmarked referents (callbacks queued on *weak); resurrect unmarked finalizable objects
 * (flag, shade, finalize list) and drop from the lists what is finalized or garbage. */
void cmark_final_gather(void);
void cmark_final_terminate(struct gcl_weakref_pending *weak);
void cmark_final_prune(void);
void cmark_final_thread_detach(struct gcl_collector_mutator *cm);

/* GCL_VERIFY builds: with the world stopped after marking, check that every object
 * reachable from the roots is marked (cmark-verify.c); aborts with a message if not. */
void cmark_verify_marked(void);

#endif
