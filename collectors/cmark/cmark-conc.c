/* SPDX-License-Identifier: MIT */
/* collectors/cmark/cmark-conc.c — cmark.mode=concurrent: the collector's own threads and
 * one concurrent cycle (REFERENCE §5), driven by collector thread 0:
 *
 *   1. barrier on (gcl_marking_set), then a handshake: every thread has seen it before
 *      it next stores, and until its own roots are scanned records the stored value as
 *      well as the old one (satb.shade_new: a hybrid barrier, as Go's; with the deletion
 *      barrier alone, a thread not yet scanned could store a white object it alone
 *      holds into a black one and drop it from its frames — found by the 8-thread stress);
 *   2. new epoch: from here every allocation is black; a ragged handshake in which each
 *      thread hands over its SATB buffer and shades its own root frames onto the shared
 *      grey stack; thread 0 shades the global roots and the finalize list;
 *   3. concurrent marking: cmark.markers threads (0 included) drain the grey stack and
 *      the SATB buffers (a round ends when all of them are idle with both empty); then a
 *      termination handshake in which every thread hands over its buffer; while it finds
 *      buffers or grey objects, another round (at most CMARK_TERM_ROUNDS);
 *   4. one short stop-the-world remark: hand over every buffer and drain what is left
 *      (usually nothing); clear the weak references of unmarked referents and resurrect
 *      unmarked finalizable objects (cmark-final.c) and drain again; GCL_VERIFY: check
 *      every reachable object is marked; barrier off; restart;
 *   5. concurrent sweep (cmark-sweep.c: gcl_allocator_walk_concurrent, page by page, no
 *      lock held): every block whose word is an older epoch is garbage (a page
 *      re-initialised while it was visited has its candidates dropped: stale offsets); in
 *      chunks of cmark.sweep_chunk candidates, each closed by a handshake (every
 *      allocation that was in flight during the chunk's walk has finished: a block handed
 *      out but not yet initialised may show a stale word), then the chunk's garbage still
 *      garbage is freed with gcl_free_unowned and the paced waits are woken;
 *   6. weak-reference callbacks and finalizers run on thread 0; the next trigger.
 *
 * Why the remark (the issue allows one): a ragged handshake sees each buffer empty at a
 * different instant, so it cannot prove that every buffer and the grey stack were empty
 * at once; and clearing weak references must not race with gcl_weakref_get, which
 * resurrects a referent while marking. With the world stopped both are exact; the pause
 * is the leftover drain plus the weak-reference and finalizable lists, not the heap.
 *
 * Loop invariant of marking (as stw mode's, cmark-gc.c): every marked object is black or
 * grey (on a marker's local stack or the shared one); every white object reachable from
 * the roots at its thread's root scan, or allocated before the epoch, is reachable from
 * a grey object or from an entry of a SATB buffer (the deletion barrier keeps the second
 * part while mutators store).
 *
 * Threads: collector threads attach with gcl_thread_attach_collector, so stops and
 * handshakes see them; they poll gcl_safepoint while marking (thread 0 also while sweeping
 * and between finalizers) and wait detached. Nobody
 * waits for a stop or an attach while holding conc.lock or the grey lock. Mutators that
 * allocate while marking assist it, and one over the heap limit assists and waits
 * (cmark-pace.c). Only with an allocator providing heap-walk-concurrent (else init
 * refuses the mode: the cell is invalid). No macros change this file. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <time.h>

#include "allocator.h"
#include "cmark-internal.h"
#include "event.h"
#include "pause.h"
#include "stats.h"
#include "weakref.h"

#define CMARK_TERM_ROUNDS 4   /* termination handshakes before the remark stops anyway */
#define CMARK_POLL 256        /* objects traced between two safepoints of a marker */

struct cmark_conc gcl_cmark_conc = {.lock = PTHREAD_MUTEX_INITIALIZER,
                                    .wake = PTHREAD_COND_INITIALIZER,
                                    .done = PTHREAD_COND_INITIALIZER,
                                    .grey_lock = PTHREAD_MUTEX_INITIALIZER};
#define C gcl_cmark_conc

static pthread_cond_t grey_cond = PTHREAD_COND_INITIALIZER; /* work donated, or round over */
static unsigned idle;       /* markers idle in this round (under grey_lock; read atomic) */
static uint64_t round_over; /* the last round whose markers all went idle (grey_lock) */
static __thread bool on_collector_thread; /* this thread is one of ours */
void (*cmark_conc_test_after_roots)(void); /* tests: called on thread 0 after step 2 */
void (*cmark_conc_test_before_globals)(void); /* tests: on thread 0 before the global roots */
bool cmark_conc_test_no_barrier;           /* tests: skip the barrier (the race must lose) */


uint64_t cmark_thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --- parallel marking ------------------------------------------------------------------ */

void cmark_conc_take_work(struct cmark_stack *local, bool one_buffer) {
  pthread_mutex_lock(&C.grey_lock);
  struct cmark_stack *g = &gcl_cmark.grey;
  while (g->n > 0 && local->n < CMARK_BATCH) cmark_stack_push(local, g->a[--g->n]);
  pthread_mutex_unlock(&C.grey_lock);
  if (local->n > 0) return;
  struct gcl_satb_buffer *b = one_buffer ? gcl_satb_take_one() : gcl_satb_take_all();
  /* Loop invariant: every entry of the buffers before b is marked or on `local`. A buffer
   * from gcl_satb_take_one has no next. */
  while (b) {
    struct gcl_satb_buffer *next = b->next;
    for (unsigned i = 0; i < b->n; i++)
      if (cmark_try_mark(b->e[i])) cmark_stack_push(local, b->e[i]);
    cmark_fig_add(&gcl_cmark.fig.satb_drained, b->n);
    gcl_satb_buffer_free(b);
    b = next;
  }
}

/* Give half of a large local stack to idle markers. */
static void donate(struct cmark_stack *local) {
  pthread_mutex_lock(&C.grey_lock);
  size_t give = local->n / 2;
  for (size_t i = 0; i < give; i++) cmark_stack_push(&gcl_cmark.grey, local->a[--local->n]);
  pthread_cond_broadcast(&grey_cond);
  pthread_mutex_unlock(&C.grey_lock);
}

/* Nothing to do: wait (detached) for donated work or for every marker to be idle.
 * Returns true when the round is over. */
static bool go_idle(struct gcl_mutator *m, uint64_t round) {
  bool over = false;
  gcl_blocking_enter(m);
  pthread_mutex_lock(&C.grey_lock);
  __atomic_add_fetch(&idle, 1, __ATOMIC_RELAXED);
  for (;;) {
    if (round_over == round) {
      over = true;
      break;
    }
    if (gcl_cmark.grey.n > 0 || gcl_satb_pending()) {
      __atomic_sub_fetch(&idle, 1, __ATOMIC_RELAXED);
      break;
    }
    if (__atomic_load_n(&idle, __ATOMIC_RELAXED) == C.markers) {
      round_over = round;
      pthread_cond_broadcast(&grey_cond);
      over = true;
      break;
    }
    pthread_cond_wait(&grey_cond, &C.grey_lock);
  }
  pthread_mutex_unlock(&C.grey_lock);
  gcl_blocking_leave(m);
  return over;
}

/* One marker's part of round `round`: drain until every marker is idle. */
static void mark_round(struct gcl_mutator *m, uint64_t round) {
  struct cmark_stack local = {0};
  uint64_t cpu0 = cmark_thread_cpu_ns(), blackened = 0;
  /* Loop invariant: the objects on `local` are grey (marked, slots not yet shaded). */
  for (;;) {
    if (local.n == 0) cmark_conc_take_work(&local, false);
    if (local.n == 0) {
      if (go_idle(m, round)) break;
      continue;
    }
    for (unsigned k = 0; k < CMARK_POLL && local.n > 0; k++) {
      gcl_trace(local.a[--local.n], cmark_shade_slot_local, &local);
      blackened++;
    }
    /* Idle markers, mutators past the limit waiting for mark work, or an assist that
     * found none (cmark-pace.c): give half of the local stack to the shared one. */
    if ((local.n > 2 * CMARK_BATCH && __atomic_load_n(&idle, __ATOMIC_RELAXED) > 0) ||
        (local.n > 1 && (__atomic_load_n(&C.assist_hungry, __ATOMIC_RELAXED) > 0 ||
                         __atomic_exchange_n(&C.assist_wanted, 0, __ATOMIC_RELAXED))))
      donate(&local);
    gcl_safepoint(m);
  }
  free(local.a);
  cmark_fig_add(&gcl_cmark.fig.marked, blackened);
  cmark_fig_add(&gcl_cmark.fig.marker_cpu_ns, cmark_thread_cpu_ns() - cpu0);
}

/* Thread 0: start a round for every marker, take part, return when it is over. */
static void marking_round(struct gcl_mutator *m) {
  pthread_mutex_lock(&C.grey_lock);
  __atomic_store_n(&idle, 0, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&C.grey_lock);
  pthread_mutex_lock(&C.lock);
  uint64_t round = ++C.round;
  pthread_cond_broadcast(&C.wake);
  pthread_mutex_unlock(&C.lock);
  mark_round(m, round);
}

/* --- handshake callbacks --------------------------------------------------------------- */

void cmark_hs_nothing(struct gcl_mutator *t, void *ctx) { (void)t, (void)ctx; }

/* Barrier on: until its roots are scanned, the thread's stores record the new value too. */
static void hs_barrier_on(struct gcl_mutator *t, void *ctx) {
  (void)ctx;
  __atomic_store_n(&t->satb.shade_new, true, __ATOMIC_RELAXED);
}

static void hs_flush(struct gcl_mutator *t, void *ctx) {
  (void)ctx;
  gcl_satb_flush(t);
}

/* Each thread: hand over its SATB buffer, shade its root frames onto the shared stack. */
static void hs_roots(struct gcl_mutator *t, void *ctx) {
  (void)ctx;
  gcl_satb_flush(t);
  struct cmark_stack local = {0};
  gcl_visit_roots(t, cmark_shade_slot_local, &local);
  __atomic_store_n(&t->satb.shade_new, false, __ATOMIC_RELAXED); /* its roots are grey now */
  if (local.n == 0) return;
  pthread_mutex_lock(&C.grey_lock);
  for (size_t i = 0; i < local.n; i++) cmark_stack_push(&gcl_cmark.grey, local.a[i]);
  pthread_mutex_unlock(&C.grey_lock);
  free(local.a);
}

static void flush_stopped(struct gcl_mutator *t, void *ctx) {
  (void)ctx;
  gcl_satb_flush(t);
  __atomic_store_n(&t->satb.shade_new, false, __ATOMIC_RELAXED); /* attached mid-cycle */
}

/* --- remark and sweep -------------------------------------------------------------------- */

/* Step 4, with the world stopped for as short as it takes. */
static void remark(struct gcl_mutator *m, struct gcl_weakref_pending *weak) {
  uint64_t t0 = gcl_now_ns();
  gcl_stop_the_world(m);
  gcl_event_phase_start("remark");
  gcl_for_each_mutator(flush_stopped, NULL);
  cmark_final_gather();
  /* A parked marker may still be leaving its round (detached threads run): the grey
   * lock keeps it off the shared stack while we drain it alone. Lock order: world_lock,
   * then grey_lock (hs_roots), then wr_lock / final_lock / satb_lock. */
  pthread_mutex_lock(&C.grey_lock);
  cmark_mark_drain();
  cmark_final_terminate(weak);
  cmark_mark_drain();
  pthread_mutex_unlock(&C.grey_lock);
  gcl_event_heap_traced();
  if (GCL_VERIFY) cmark_verify_marked();
  cmark_mark_end(); /* barrier off; allocation stays black until the next epoch */
  gcl_event_phase_end("remark");
  gcl_start_the_world(m);
  cmark_fig_add(&gcl_cmark.fig.remarks, 1);
  cmark_fig_add(&gcl_cmark.fig.remark_ns, gcl_now_ns() - t0);
}

/* --- one cycle ----------------------------------------------------------------------------- */

/* Steps 1-3: barrier, roots, marking until a termination handshake finds nothing. */
static void mark_concurrently(struct gcl_mutator *m) {
  gcl_event_phase_start("barrier-on");
  if (!cmark_conc_test_no_barrier) gcl_marking_set(true);
  gcl_handshake(m, cmark_conc_test_no_barrier ? cmark_hs_nothing : hs_barrier_on, NULL);
  gcl_event_phase_end("barrier-on");
  __atomic_add_fetch(&gcl_cmark_epoch, 1, __ATOMIC_SEQ_CST); /* allocate-black from here */
  gcl_event_phase_start("roots");
  gcl_handshake(m, hs_roots, NULL);
  if (cmark_conc_test_before_globals) cmark_conc_test_before_globals();
  struct cmark_stack local = {0}; /* global roots are read under world_lock: no grey lock */
  gcl_visit_global_roots(cmark_shade_slot_local, &local);
  for (size_t i = 0; i < gcl_cmark.finalize.n; i++)
    if (cmark_try_mark(gcl_cmark.finalize.a[i])) cmark_stack_push(&local, gcl_cmark.finalize.a[i]);
  pthread_mutex_lock(&C.grey_lock);
  for (size_t i = 0; i < local.n; i++) cmark_stack_push(&gcl_cmark.grey, local.a[i]);
  pthread_mutex_unlock(&C.grey_lock);
  free(local.a);
  gcl_event_roots_traced();
  gcl_event_phase_end("roots");
  cmark_pace_open(gcl_stats_live_bytes(), C.marked_last); /* mutators may assist from here */
  if (cmark_conc_test_after_roots) cmark_conc_test_after_roots();
  gcl_event_phase_start("mark");
  marking_round(m);
  /* Loop invariant: the last round ended with the shared stack and the handed-over
   * buffers empty; each pass asks every thread for its buffer. */
  for (unsigned r = 0; r < CMARK_TERM_ROUNDS; r++) {
    gcl_event_phase_start("terminate");
    gcl_handshake(m, hs_flush, NULL);
    gcl_event_phase_end("terminate");
    cmark_fig_add(&gcl_cmark.fig.term_rounds, 1);
    pthread_mutex_lock(&C.grey_lock);
    bool more = gcl_cmark.grey.n > 0 || gcl_satb_pending();
    pthread_mutex_unlock(&C.grey_lock);
    if (!more) break;
    marking_round(m);
  }
  gcl_event_phase_end("mark");
}

static void run_cycle(struct gcl_mutator *m, uint64_t goal) {
  uint64_t marked0 = __atomic_load_n(&gcl_cmark.fig.marked, __ATOMIC_RELAXED);
  uint64_t swept0 = __atomic_load_n(&gcl_cmark.fig.swept_bytes, __ATOMIC_RELAXED);
  int64_t live0 = gcl_stats_live_bytes();
  if (pthread_mutex_trylock(&gcl_cmark.gc_lock) != 0) { /* a stw collection runs */
    gcl_blocking_enter(m);
    pthread_mutex_lock(&gcl_cmark.gc_lock);
    gcl_blocking_leave(m);
  }
  __atomic_store_n(&C.running, 1, __ATOMIC_SEQ_CST);
  uint64_t t0 = gcl_now_ns();
  struct gcl_weakref_pending weak = {NULL, NULL};
  mark_concurrently(m);
  cmark_pace_close(); /* no assist from here: the remark drains what is left */
  remark(m, &weak);
  C.marked_last = __atomic_load_n(&gcl_cmark.fig.marked, __ATOMIC_RELAXED) - marked0;
  uint64_t t1 = gcl_now_ns();
  cmark_conc_sweep(m);
  uint64_t t2 = gcl_now_ns();
  int64_t live = gcl_stats_live_bytes();
  gcl_event_live_data((uint64_t)(live > 0 ? live : 0));
  cmark_run_finalizers(m, &weak, true);
  cmark_fig_add(&gcl_cmark.fig.mark_ns, t1 - t0);
  cmark_fig_add(&gcl_cmark.fig.sweep_ns, t2 - t1);
  cmark_fig_add(&gcl_cmark.fig.cycles, 1);
  cmark_fig_add(&gcl_cmark.fig.gc_ns, gcl_now_ns() - t0);
  cmark_retarget(live, false);
  /* What the mutators allocated while this cycle ran: the next one starts that early. */
  cmark_pace_retarget(live, live - live0 + (int64_t)(__atomic_load_n(&gcl_cmark.fig.swept_bytes, __ATOMIC_RELAXED) - swept0));
  __atomic_store_n(&C.running, 0, __ATOMIC_SEQ_CST);
  pthread_mutex_unlock(&gcl_cmark.gc_lock);
  pthread_mutex_lock(&C.lock);
  if (goal > C.completed) C.completed = goal;
  pthread_cond_broadcast(&C.done);
  pthread_mutex_unlock(&C.lock);
}

/* --- the threads ------------------------------------------------------------------------- */

static void *collector_main(void *arg) {
  unsigned k = (unsigned)(uintptr_t)arg;
  on_collector_thread = true;
  struct gcl_mutator *m = gcl_thread_attach_collector(k);
  uint64_t seen = 0;
  /* Loop invariant: m is attached; thread 0 has served every ticket up to C.completed,
   * a marker has joined every round up to `seen`. */
  for (;;) {
    gcl_blocking_enter(m);
    pthread_mutex_lock(&C.lock);
    while (!C.quit && (k == 0 ? C.requested == C.completed : C.round == seen))
      pthread_cond_wait(&C.wake, &C.lock);
    bool quit = C.quit;
    uint64_t goal = C.requested, round = C.round;
    pthread_mutex_unlock(&C.lock);
    gcl_blocking_leave(m);
    if (quit) break;
    if (k == 0) {
      run_cycle(m, goal);
    } else {
      seen = round;
      mark_round(m, round);
    }
  }
  gcl_thread_detach(m);
  return NULL;
}

/* With C.lock held: start the threads once. */
static void start_locked(void) {
  if (C.started) return;
  C.markers = gcl_cmark.markers;
  C.tids = calloc(C.markers, sizeof *C.tids);
  if (!C.tids) gcl_alloc_failed(C.markers * sizeof *C.tids);
  for (unsigned k = 0; k < C.markers; k++)
    GCL_ASSERT_ALWAYS(pthread_create(&C.tids[k], NULL, collector_main, (void *)(uintptr_t)k) == 0);
  C.started = true;
}

/* Wait (detached) until every ticket up to `ticket` is served. */
static void wait_for(struct gcl_mutator *m, uint64_t ticket) {
  gcl_blocking_enter(m);
  pthread_mutex_lock(&C.lock);
  while (C.completed < ticket) pthread_cond_wait(&C.done, &C.lock);
  pthread_mutex_unlock(&C.lock);
  gcl_blocking_leave(m);
}

void cmark_conc_request(struct gcl_mutator *m, bool wait) {
  /* A finalizer on thread 0, or in a stw collection (the pacing's fallback holds gc_lock
   * through its finalizers): the cycle it would wait for needs this very thread. */
  if (on_collector_thread || cmark_in_cycle) return;
  pthread_mutex_lock(&C.lock);
  start_locked();
  uint64_t ticket = 0;
  if (wait) {
    ticket = ++C.requested;
  } else if (C.requested == C.completed && !__atomic_load_n(&C.running, __ATOMIC_SEQ_CST)) {
    ++C.requested;
  }
  pthread_cond_broadcast(&C.wake);
  pthread_mutex_unlock(&C.lock);
  if (wait) wait_for(m, ticket);
}

uint64_t cmark_conc_ticket(void) {
  pthread_mutex_lock(&C.lock);
  start_locked();
  /* The cycle in progress (its goal is requested), else a new one. */
  uint64_t ticket = C.requested == C.completed ? ++C.requested : C.requested;
  pthread_cond_broadcast(&C.wake);
  pthread_mutex_unlock(&C.lock);
  return ticket;
}

bool cmark_conc_completed(uint64_t ticket) {
  pthread_mutex_lock(&C.lock);
  bool done = C.completed >= ticket;
  pthread_mutex_unlock(&C.lock);
  return done;
}

bool cmark_conc_on_own_thread(void) { return on_collector_thread; }

void cmark_conc_memory_back(void) {
  pthread_mutex_lock(&C.lock);
  pthread_cond_broadcast(&C.done); /* paced waits look at the live bytes again */
  pthread_mutex_unlock(&C.lock);
}

void cmark_conc_give_back(struct cmark_stack *local) {
  pthread_mutex_lock(&C.grey_lock);
  while (local->n > 0) cmark_stack_push(&gcl_cmark.grey, local->a[--local->n]);
  pthread_cond_broadcast(&grey_cond);
  pthread_mutex_unlock(&C.grey_lock);
}

void cmark_conc_finish(void) {
  struct gcl_mutator *m = gcl_thread_attach();
  for (int round = 0; round < 16; round++) {
    uint64_t before = __atomic_load_n(&gcl_cmark.fig.finalized, __ATOMIC_RELAXED);
    cmark_conc_request(m, true);
    if (__atomic_load_n(&gcl_cmark.fig.finalized, __ATOMIC_RELAXED) == before && gcl_cmark.finalize.n == 0) break;
  }
  gcl_thread_detach(m);
  pthread_mutex_lock(&C.lock);
  C.quit = true;
  pthread_cond_broadcast(&C.wake);
  pthread_mutex_unlock(&C.lock);
  for (unsigned k = 0; C.started && k < C.markers; k++) pthread_join(C.tids[k], NULL);
  free(C.tids);
  C.tids = NULL;
  C.started = false;
}
