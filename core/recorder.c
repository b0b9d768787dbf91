/* SPDX-License-Identifier: MIT */
/* core/recorder.c — the process-wide recorder of core/pause.h: turns the event stream of
 * core/event.h into the pause and time-to-safepoint histograms, the heap sizes and the
 * pause/phase log. It is the only writer of all of them, so they agree by construction:
 * every stop adds exactly one pause and one ttsp to the histograms, and (log not full) one
 * "pause" entry and, logging every kind, one "ttsp" entry with the same start; every
 * handshake callback (HANDSHAKE_PAUSE, one event: no open state, so a handshake over any
 * number of threads cannot overflow the open phases) adds one pause and one
 * entry (kind "handshake-callback"), and every THREAD_PAUSE (a mark assist, a paced wait) one pause and one entry of
 * its kind ("assist", "pace"); those per-thread entries are kept by pause-only logging
 * too, since mmu_* counts them (for their thread). A THREAD_PAUSE adds to the histogram
 * only its time outside world stops (the last GCL_RECORDER_STOPS of them and the open
 * one), so a wait through a stop is not counted twice.
 *
 * Invariants (checked: a violation is an emitter bug and aborts): at most one stop is open
 * (world.c serialises requesters); MUTATORS_STOPPED and WORLD_RESTARTED come only inside a
 * stop, from its requester; a PHASE_END matches the most recent open PHASE_START of the
 * same name and thread. Any number of phases may be open at once (rc-gen's local
 * collections open theirs on every thread, world running): the table grows, from
 * GCL_RECORDER_PHASES_INITIAL entries.
 *
 * Everything here is under recorder_lock. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "assert.h"
#include "event.h"
#include "pause.h"

#define GCL_RECORDER_PHASES_INITIAL 16 /* open-phase table's first size (it grows) */

struct open_phase {
  const char *name; /* as given to PHASE_START */
  uint64_t start;   /* its time */
  uint32_t thread;  /* its emitter */
};

static pthread_mutex_t recorder_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gcl_pause_hist pauses;      /* stop requested -> world restarted */
static struct gcl_pause_hist ttsps;       /* stop requested -> mutators stopped */
static struct gcl_gc_sizes sizes;         /* from HEAP_RESIZED and LIVE_DATA */
static bool stop_open;                    /* between STOP_REQUESTED and WORLD_RESTARTED */
static bool stop_reached;                 /* this stop's MUTATORS_STOPPED was seen */
static uint64_t stop_start;               /* its STOP_REQUESTED time */
static uint32_t stop_thread;              /* its requester */
static struct open_phase *phases;        /* open phases, oldest first (malloc'd) */
static unsigned nphases;                  /* how many */
static unsigned phases_cap;               /* entries allocated */

/* The last GCL_RECORDER_STOPS closed stops (start, end), so that a thread's own pause
 * that a stop overlapped is not counted twice (below). */
#define GCL_RECORDER_STOPS 64
static uint64_t stops_a[GCL_RECORDER_STOPS], stops_b[GCL_RECORDER_STOPS]; /* ring */
static uint64_t nstops;                                                   /* stops closed */

static struct gcl_pause_event *log_ev; /* capacity log_cap, mmap'd (log_map) */
static uint32_t log_cap, log_n;       /* capacity and entries kept */
static uint64_t log_dropped;          /* entries not kept because the log was full */
static bool log_every_kind;           /* false: "pause" entries only */

static void log_add(const char *kind, uint64_t start, uint64_t dur, uint32_t thread) {
  /* Pause-only logging keeps what mmu_* counts: world stops and per-thread pauses. */
  if (!log_cap || (!log_every_kind && strcmp(kind, "pause") != 0 && !gcl_pause_kind_is_thread(kind))) return;
  if (log_n == log_cap) {
    log_dropped++;
    return;
  }
  log_ev[log_n++] = (struct gcl_pause_event){start, dur, kind, thread};
}

static void phase_end(const struct gcl_event *e) {
  /* The most recent open phase of this name and thread: search from the newest. */
  unsigned i = nphases;
  while (i > 0 && !(phases[i - 1].thread == e->thread && strcmp(phases[i - 1].name, e->name) == 0))
    i--;
  GCL_ASSERT_ALWAYS(i > 0 && "PHASE_END without its PHASE_START");
  struct open_phase p = phases[i - 1];
  memmove(&phases[i - 1], &phases[i], (nphases - i) * sizeof phases[0]);
  nphases--;
  log_add(p.name, p.start, e->t_ns - p.start, p.thread);
}

static void stop_event(const struct gcl_event *e) {
  switch (e->kind) {
  case GCL_EVENT_STOP_REQUESTED:
    GCL_ASSERT_ALWAYS(!stop_open && "a stop requested inside another stop");
    stop_open = true;
    stop_reached = false;
    stop_start = e->t_ns;
    stop_thread = e->thread;
    break;
  case GCL_EVENT_MUTATORS_STOPPED:
    GCL_ASSERT_ALWAYS(stop_open && !stop_reached && e->thread == stop_thread);
    stop_reached = true;
    gcl_pause_hist_add(&ttsps, e->t_ns - stop_start);
    log_add("ttsp", stop_start, e->t_ns - stop_start, e->thread);
    break;
  default: /* GCL_EVENT_WORLD_RESTARTED */
    GCL_ASSERT_ALWAYS(stop_open && stop_reached && e->thread == stop_thread);
    stop_open = false;
    stops_a[nstops % GCL_RECORDER_STOPS] = stop_start;
    stops_b[nstops % GCL_RECORDER_STOPS] = e->t_ns;
    nstops++;
    gcl_pause_hist_add(&pauses, e->t_ns - stop_start);
    log_add("pause", stop_start, e->t_ns - stop_start, e->thread);
    break;
  }
}

static uint64_t overlap(uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  uint64_t lo = a > c ? a : c, hi = b < d ? b : d;
  return hi > lo ? hi - lo : 0;
}

/* The part of [a, a + dur) that no world stop covered (the last GCL_RECORDER_STOPS closed
 * ones and the open one): a thread waiting (detached) through a stop is already in the
 * histogram as that stop's pause. Stops never overlap each other (world.c), so the sum of
 * overlaps is the covered time. */
static uint64_t outside_stops(uint64_t a, uint64_t dur) {
  uint64_t b = a + dur, covered = 0;
  uint64_t n = nstops < GCL_RECORDER_STOPS ? nstops : GCL_RECORDER_STOPS;
  /* Loop invariant: covered sums the overlaps with the i most recent closed stops. */
  for (uint64_t i = 0; i < n; i++) {
    uint64_t k = (nstops - 1 - i) % GCL_RECORDER_STOPS;
    if (stops_b[k] <= a) break; /* older stops ended before the pause began */
    covered += overlap(a, b, stops_a[k], stops_b[k]);
  }
  if (stop_open) covered += overlap(a, b, stop_start, b);
  return covered < dur ? dur - covered : 0;
}

void gcl_recorder_event(const struct gcl_event *e) {
  pthread_mutex_lock(&recorder_lock);
  switch (e->kind) {
  case GCL_EVENT_STOP_REQUESTED:
  case GCL_EVENT_MUTATORS_STOPPED:
  case GCL_EVENT_WORLD_RESTARTED:
    stop_event(e);
    break;
  case GCL_EVENT_ROOTS_TRACED:
    log_add("roots-traced", e->t_ns, 0, e->thread);
    break;
  case GCL_EVENT_HEAP_TRACED:
    log_add("heap-traced", e->t_ns, 0, e->thread);
    break;
  case GCL_EVENT_PHASE_START:
    if (nphases == phases_cap) {
      unsigned cap = phases_cap ? 2 * phases_cap : GCL_RECORDER_PHASES_INITIAL;
      struct open_phase *grown = realloc(phases, cap * sizeof *grown);
      if (!grown) gcl_alloc_failed(cap * sizeof *grown);
      phases = grown;
      phases_cap = cap;
    }
    phases[nphases++] = (struct open_phase){e->name, e->t_ns, e->thread};
    break;
  case GCL_EVENT_PHASE_END:
    phase_end(e);
    break;
  case GCL_EVENT_HEAP_RESIZED:
    sizes.heap_bytes = e->bytes;
    if (e->bytes > sizes.heap_bytes_max) sizes.heap_bytes_max = e->bytes;
    break;
  case GCL_EVENT_HANDSHAKE_PAUSE:
    /* A thread's handshake callback: its own pause, not a world pause, so it is in the
     * histogram and logged as "handshake-callback" (not "handshake": that is the
     * requester's phase, request to last acknowledgement), never as "pause"; mmu_* counts
     * it for that thread only (core/pause.c gcl_mmu). */
    gcl_pause_hist_add(&pauses, e->bytes);
    log_add("handshake-callback", e->t_ns, e->bytes, e->thread);
    break;
  case GCL_EVENT_THREAD_PAUSE:
    /* A thread's own collector work (assist, pace): as a handshake callback, except that
     * the histogram gets only the part no world stop covered (a paced wait through a
     * remark is one pause of the world and the rest of the wait; none if the stop covered
     * all of it). The log keeps the whole span: mmu_* merges overlaps itself. */
    GCL_ASSERT_ALWAYS(e->name && gcl_pause_kind_is_thread(e->name) && "THREAD_PAUSE of an unknown kind");
    {
      uint64_t own = outside_stops(e->t_ns, e->bytes);
      if (own > 0 || e->bytes == 0) gcl_pause_hist_add(&pauses, own);
    }
    log_add(e->name, e->t_ns, e->bytes, e->thread);
    break;
  case GCL_EVENT_LIVE_DATA:
    sizes.live_bytes = e->bytes;
    if (e->bytes > sizes.live_bytes_max) sizes.live_bytes_max = e->bytes;
    sizes.live_samples++;
    break;
  default:
    GCL_ASSERT_ALWAYS(!"unknown event kind");
  }
  pthread_mutex_unlock(&recorder_lock);
}

void gcl_pause_snapshot(struct gcl_pause_hist *out) {
  pthread_mutex_lock(&recorder_lock);
  *out = pauses;
  pthread_mutex_unlock(&recorder_lock);
}

void gcl_ttsp_snapshot(struct gcl_pause_hist *out) {
  pthread_mutex_lock(&recorder_lock);
  *out = ttsps;
  pthread_mutex_unlock(&recorder_lock);
}

void gcl_sizes_snapshot(struct gcl_gc_sizes *out) {
  pthread_mutex_lock(&recorder_lock);
  *out = sizes;
  pthread_mutex_unlock(&recorder_lock);
}

void gcl_pause_reset(void) {
  pthread_mutex_lock(&recorder_lock);
  memset(&pauses, 0, sizeof pauses);
  memset(&ttsps, 0, sizeof ttsps);
  memset(&sizes, 0, sizeof sizes);
  stop_open = stop_reached = false;
  nstops = 0;
  nphases = 0;
  pthread_mutex_unlock(&recorder_lock);
}

/* The log's memory: an anonymous private mapping, whose pages the kernel provides zeroed
 * on first touch, so a capacity of 2^20 entries (24 MiB) costs nothing for the pages no
 * pause reaches (issue 13: calloc under mimalloc zeroed all of it, 33.6 M instructions in
 * every runner). NULL when the mapping fails (the log is then off, as calloc's NULL left
 * it). */
static struct gcl_pause_event *log_map(uint32_t capacity) {
  if (!capacity) return NULL;
  void *p = mmap(NULL, (size_t)capacity * sizeof *log_ev, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

void gcl_pause_log_enable(uint32_t capacity, bool every_kind) {
  pthread_mutex_lock(&recorder_lock);
  if (log_ev) munmap(log_ev, (size_t)log_cap * sizeof *log_ev);
  log_ev = log_map(capacity);
  log_cap = log_ev ? capacity : 0;
  log_n = 0;
  log_dropped = 0;
  log_every_kind = every_kind;
  pthread_mutex_unlock(&recorder_lock);
}

const struct gcl_pause_event *gcl_pause_log(uint32_t *n, uint64_t *dropped) {
  pthread_mutex_lock(&recorder_lock);
  *n = log_n;
  *dropped = log_dropped;
  pthread_mutex_unlock(&recorder_lock);
  return log_ev;
}
