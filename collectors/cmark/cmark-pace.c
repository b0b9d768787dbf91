/* SPDX-License-Identifier: MIT */
/* collectors/cmark/cmark-pace.c — concurrent mode's pacing: mark assists and paced waits.
 *
 * With a heap limit, a mutator that allocates while a cycle marks owes the marking work
 * in proportion to what it allocated (Go's assist credit, simplified): at marking's start
 * thread 0 sets the assist ratio, objects to trace per MiB allocated, from the previous
 * cycle's objects marked (the live set's size in objects; the live bytes / 64 before
 * the first) over the headroom left (limit - live, at least 1 MiB), as if the marker
 * threads got no CPU at all (on a loaded machine they may not). Every flush of a thread's
 * byte count (GCL_HEAP_BYTES_BATCH, 64 KiB) while marking adds its share to that thread's
 * debt (gcl_collector_mutator.assist_debt) and asks its next safepoint for an assist.
 * The debt follows the bytes the thread allocated since its previous flush (its own
 * bytes_allocated counter), not the number of flushes: frees and detach flush too.
 *
 * One assist is a bounded increment: it takes at most CMARK_BATCH grey objects from the
 * shared stack, else one handed-over SATB buffer (1024 entries), traces at most
 * CMARK_ASSIST_OBJECTS objects and for at most CMARK_ASSIST_NS (the clock is read every
 * 64 objects; it also stops there when a stop or handshake is requested), and gives what is left back to the shared stack (one that finds no work
 * asks the markers, which keep their work on local stacks, to give half of it to the
 * shared stack at their next poll, so the next assist finds some) (so no grey object stays
 * with a mutator past its next safepoint: a termination handshake or the remark's stop,
 * which wait for that safepoint, see every grey object on the shared stack). Why 1024
 * objects / 200 us: tracing one object costs 20-200 ns (a cache miss per slot), so 1024
 * objects are 20-200 us on an idle core, and the time cap bounds the rest (a preempted
 * assist can still last a time slice: the scheduler's, not ours). It is one pause of kind
 * `assist` (core/event.h THREAD_PAUSE), in the pause histogram and in that thread's MMU.
 *
 * A mutator past the limit cannot go on until the cycle frees memory: it assists in
 * increments (a safepoint between two, so stops and handshakes are served) while there
 * is mark work to take, and otherwise waits (detached, woken every CMARK_PACE_POLL_NS to
 * look for work again; while one waits, the markers give half their local stacks to the
 * shared one at every poll, so the work is there to take) until memory comes back (the
 * sweep frees in chunks, cmark-sweep.c, and wakes the waits after each: the thread goes
 * on once the live bytes leave a flush batch of room under the limit) or the cycle
 * completes; each contiguous wait is one pause of
 * kind `pace`. The whole stall (increments and waits, entry to return) is the figure
 * paced_stall_max_s: what one allocation past the limit cost a mutator at worst. After the
 * cycle, a heap still over the limit gets another concurrent cycle (the first one's
 * floating garbage is black for it) while cycles sweep something, at most
 * CMARK_PACE_CYCLES in one stall; then a full stop-the-world collection, then oom.
 * Once marking is over and the sweep runs, the increments are sweep assists instead
 * (cmark-sweep.c): the thread sweeps its own pages, one bounded increment at a time
 * (kind `assist`, figures sweep_assist*), and waits only when none of its pages is left.
 *
 * The trigger learns from the last cycle (cmark_pace_retarget): memory comes back only
 * as the sweep goes (cmark-sweep.c), so a cycle must start early enough that what
 * the mutators allocate while it marks and sweeps (measured: live after - live before +
 * bytes swept) fits under the limit, with a quarter's margin; never above cmark.trigger's.
 *
 * Invariant: an assist runs attached, only while gcl_cmark_conc.mark_open (set by thread
 * 0 after the roots are on the shared stack, cleared before the remark's stop), and
 * returns every grey object it did not trace to the shared stack before it returns.
 * No macros change this file. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <time.h>

#include "cmark-internal.h"
#include "event.h"
#include "pause.h"
#include "stats.h"

#define CMARK_ASSIST_OBJECTS 1024   /* objects one assist traces at most */
#define CMARK_ASSIST_NS 200000      /* and for at most this long (clock read every 64) */
#define CMARK_PACE_POLL_NS 100000   /* a paced wait looks for mark work this often */
#define CMARK_PACE_CYCLES 4         /* concurrent cycles one stall waits on before the last resort */

static __thread bool in_pace; /* this thread is inside cmark_conc_pace (no recursion) */


/* Thread 0, marking opens: the ratio from the last cycle's marking and the headroom. */
void cmark_pace_open(int64_t live, uint64_t marked_last) {
  if (gcl_cmark.limit <= 0) return;
  uint64_t est = marked_last ? marked_last : (uint64_t)(live > 0 ? live : 0) / 64;
  int64_t room = gcl_cmark.limit - live;
  if (room < (1 << 20)) room = 1 << 20;
  uint64_t per_mib = (uint64_t)((double)est * (double)(1 << 20) / (double)room) + 1;
  __atomic_store_n(&gcl_cmark_conc.assist_per_mib, per_mib, __ATOMIC_RELAXED);
  __atomic_store_n(&gcl_cmark_conc.mark_open, 1, __ATOMIC_SEQ_CST);
}

void cmark_pace_close(void) { __atomic_store_n(&gcl_cmark_conc.mark_open, 0, __ATOMIC_SEQ_CST); }

bool cmark_pace_flush(struct gcl_mutator *m) {
  /* Flushes also come from frees and detach (core/heap.c): charge only the bytes this
   * thread allocated since its last flush (its own counter, folded before the hook). */
  struct gcl_collector_mutator *cm = &m->collector;
  uint64_t allocated = m->stats.bytes_allocated - cm->assist_bytes_seen;
  cm->assist_bytes_seen = m->stats.bytes_allocated;
  if (allocated == 0 || !__atomic_load_n(&gcl_cmark_conc.mark_open, __ATOMIC_RELAXED)) return false;
  uint64_t per_mib = __atomic_load_n(&gcl_cmark_conc.assist_per_mib, __ATOMIC_RELAXED);
  cm->assist_debt += (uint64_t)((double)per_mib * (double)allocated / (double)(1 << 20)) + 1;
  return true;
}

void cmark_pace_retarget(int64_t live, int64_t allocated) {
  if (gcl_cmark.limit <= 0 || allocated <= 0) return;
  int64_t want = gcl_cmark.limit - allocated - allocated / 4; /* a quarter's margin */
  if (want < live) want = live;
  if (want < __atomic_load_n(&gcl_cmark.trigger, __ATOMIC_RELAXED))
    __atomic_store_n(&gcl_cmark.trigger, want, __ATOMIC_RELAXED);
}

/* One assist of at most `budget` objects; returns the objects traced (0: no work found,
 * and then no pause is recorded: only two lock round trips were spent). */
static uint64_t assist_once(struct gcl_mutator *m, uint64_t budget) {
  if (!__atomic_load_n(&gcl_cmark_conc.mark_open, __ATOMIC_SEQ_CST)) return 0;
  uint64_t t0 = gcl_now_ns();
  struct cmark_stack local = {0};
  cmark_conc_take_work(&local, true); /* a bounded share: grey objects, else one buffer */
  if (local.n == 0) __atomic_store_n(&gcl_cmark_conc.assist_wanted, 1, __ATOMIC_RELAXED); /* markers share */
  uint64_t traced = 0;
  if (budget > CMARK_ASSIST_OBJECTS) budget = CMARK_ASSIST_OBJECTS;
  /* Loop invariant: the objects on `local` are grey; traced <= budget. Every 64 objects:
   * past the time cap, or a stop or handshake waits for this thread (the assist does not
   * delay a remark's time to safepoint by more than 64 objects), stop. */
  while (local.n > 0 && traced < budget) {
    gcl_trace(local.a[--local.n], cmark_shade_slot_local, &local);
    if ((++traced & 63) == 0 && (gcl_now_ns() - t0 > CMARK_ASSIST_NS || cmark_safepoint_wanted(m))) break;
  }
  if (local.n > 0) cmark_conc_give_back(&local);
  free(local.a);
  if (traced == 0) return 0;
  gcl_event_thread_pause("assist", t0);
  cmark_fig_add(&gcl_cmark.fig.assists, 1);
  cmark_fig_add(&gcl_cmark.fig.assist_ns, gcl_now_ns() - t0);
  cmark_fig_add(&gcl_cmark.fig.assist_objects, traced);
  cmark_fig_add(&gcl_cmark.fig.marked, traced);
  return traced;
}

void cmark_pace_assist(struct gcl_mutator *m) {
  struct gcl_collector_mutator *cm = &m->collector;
  if (!__atomic_load_n(&gcl_cmark_conc.mark_open, __ATOMIC_SEQ_CST)) {
    cm->assist_debt = 0; /* marking is over: nothing left to owe */
    return;
  }
  uint64_t done = assist_once(m, cm->assist_debt);
  cm->assist_debt = done >= cm->assist_debt || done == 0 ? 0 : cm->assist_debt - done;
  /* Debt left: the next safepoint pays the next increment (the mutator runs between). */
  if (cm->assist_debt) __atomic_fetch_or(&m->safepoint_work, CMARK_WORK_ASSIST, __ATOMIC_RELEASE);
}

/* Whether the shared stack or the SATB list has work an assist could take. */
static bool work_available(void) {
  if (!__atomic_load_n(&gcl_cmark_conc.mark_open, __ATOMIC_SEQ_CST)) return false;
  pthread_mutex_lock(&gcl_cmark_conc.grey_lock);
  bool any = gcl_cmark.grey.n > 0;
  pthread_mutex_unlock(&gcl_cmark_conc.grey_lock);
  return any || gcl_satb_pending();
}

/* Whether the sweep has given back enough for this thread to go on: the live bytes leave
 * room for at least one more flush batch under the limit (cmark-sweep.c frees in chunks
 * and wakes the waits after each). */
static bool room_again(void) {
  return gcl_stats_live_bytes() + GCL_HEAP_BYTES_BATCH <= gcl_cmark.limit;
}

/* Wait (detached) until cycle `ticket` completed, memory came back, or mark work or pages
 * of this thread's to sweep appear; true on the first two. One pause of kind pace. */
static bool paced_wait(struct gcl_mutator *m, uint64_t ticket) {
  uint64_t t0 = gcl_now_ns();
  bool completed = false;
  __atomic_add_fetch(&gcl_cmark_conc.assist_hungry, 1, __ATOMIC_RELAXED); /* markers donate */
  gcl_blocking_enter(m);
  /* Loop invariant: the cycle has not completed, the heap had no room and no work was
   * seen at the last look. */
  for (;;) {
    pthread_mutex_lock(&gcl_cmark_conc.lock);
    if (gcl_cmark_conc.completed < ticket && !room_again()) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += CMARK_PACE_POLL_NS;
      if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
      pthread_cond_timedwait(&gcl_cmark_conc.done, &gcl_cmark_conc.lock, &ts);
    }
    completed = gcl_cmark_conc.completed >= ticket || room_again();
    pthread_mutex_unlock(&gcl_cmark_conc.lock);
    if (completed || work_available() || cmark_sweep_assist_pending()) break;
  }
  gcl_blocking_leave(m);
  __atomic_sub_fetch(&gcl_cmark_conc.assist_hungry, 1, __ATOMIC_RELAXED);
  gcl_event_thread_pause("pace", t0);
  cmark_fig_add(&gcl_cmark.fig.paced_waits, 1);
  cmark_fig_add(&gcl_cmark.fig.paced_wait_ns, gcl_now_ns() - t0);
  return completed;
}

static void fig_max(uint64_t *f, uint64_t v) {
  uint64_t cur = __atomic_load_n(f, __ATOMIC_RELAXED);
  while (v > cur && !__atomic_compare_exchange_n(f, &cur, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
}

/* Assist and wait until cycle `ticket` completed or the heap has room again. */
static void stall_on(struct gcl_mutator *m, uint64_t ticket) {
  cmark_sweep_assist_restart(); /* a new stall or a new cycle: its own walk starts over */
  /* Loop invariant: cycle `ticket` has not completed at the last look; this thread holds
   * no grey object between two iterations. */
  for (;;) {
    if (assist_once(m, CMARK_ASSIST_OBJECTS) > 0 || cmark_sweep_assist(m)) {
      gcl_safepoint(m); /* between two increments: stops, handshakes */
      if (cmark_conc_completed(ticket) || room_again()) break;
      continue;
    }
    if (cmark_conc_completed(ticket) || room_again() || paced_wait(m, ticket)) break;
  }
}

static bool over_limit(void) { return gcl_cmark.limit > 0 && gcl_stats_live_bytes() > gcl_cmark.limit; }

void cmark_conc_pace(struct gcl_mutator *m) {
  if (cmark_conc_on_own_thread() || cmark_in_cycle || in_pace) return; /* as cmark_conc_request */
  in_pace = true;
  uint64_t t0 = gcl_now_ns();
  gcl_heap_bytes_flush(m);
  uint64_t ticket = cmark_conc_ticket();
  uint64_t swept0 = __atomic_load_n(&gcl_cmark.fig.swept_bytes, __ATOMIC_RELAXED);
  bool last_resort = false;
  stall_on(m, ticket);
  /* Loop invariant: the stall has waited on k cycles. A cycle that completed with the
   * heap still over its limit: what the mutators allocated while it ran is black for it
   * (floating garbage of a long cycle, mostly; other threads went on allocating as the
   * sweep gave memory back), so the next concurrent cycle, on which this thread assists
   * and sweeps too, frees it. The world-stopped last resort only when a cycle the stall
   * waited on from its start swept nothing, or after CMARK_PACE_CYCLES cycles. A stall that ended with room (a sweep
   * chunk or its own sweep gave memory back) goes on; its next flush paces it again. */
  for (unsigned k = 1; cmark_conc_completed(ticket) && over_limit(); k++) {
    uint64_t swept = __atomic_load_n(&gcl_cmark.fig.swept_bytes, __ATOMIC_RELAXED);
    if ((k > 1 && swept == swept0) || k == CMARK_PACE_CYCLES) { /* the first may have been half over */
      last_resort = true;
      break;
    }
    swept0 = swept;
    ticket = cmark_conc_ticket();
    stall_on(m, ticket);
  }
  m->collector.assist_debt = 0;
  fig_max(&gcl_cmark.fig.paced_stall_max_ns, gcl_now_ns() - t0);
  in_pace = false;
  if (last_resort && over_limit()) {
    cmark_fig_add(&gcl_cmark.fig.full_stw, 1); /* the last resort; over the limit after it: oom */
    cmark_collect(m, true);
  }
}
