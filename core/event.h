/* SPDX-License-Identifier: MIT */
/* core/event.h — the one typed event stream of garbage collection (in the spirit of
 * whippet's gc-event-listener.h; our own code).
 *
 * core/world.c emits the stop-the-world events (stop requested, mutators stopped, world
 * restarted); collectors emit the rest (phases, roots and heap traced, heap size, live
 * data). Everything gclab reports about pauses is derived from this stream and from nothing
 * else, so every output agrees: the process-wide recorder of core/pause.h turns it into the
 * pause histogram (stop requested -> world restarted, plus each thread's handshake
 * callback (logged as `handshake-callback`) and its own collector work, THREAD_PAUSE, as
 * kinds `assist` / `pace`), the time-to-safepoint histogram
 * (stop requested -> mutators stopped), the pause/phase log behind mmu_* and the runner's
 * --events-out file (hence the harness's --events CSV and --trace JSON), and the heap and
 * live-data sizes. Further listeners (gcl_event_listen) see the same events in the same
 * order.
 *
 * Invariants: stops do not nest (world.c serialises requesters), and every stop is
 * STOP_REQUESTED, MUTATORS_STOPPED, WORLD_RESTARTED on the requesting thread in that order;
 * a PHASE_END closes the most recent open PHASE_START of the same name on the same thread
 * (phases may nest; a mismatch is a collector bug and aborts). Phase names are string
 * literals of [a-z0-9_-] (they become the `kind` of the events file).
 *
 * Cold path: each event takes a clock read and a lock. Emit per collection or per phase,
 * never per object. */
#ifndef GCL_EVENT_H
#define GCL_EVENT_H

#include <stdbool.h>
#include <stdint.h>

enum gcl_event_kind {
  GCL_EVENT_STOP_REQUESTED,   /* a requester asked every mutator to stop (world.c) */
  GCL_EVENT_MUTATORS_STOPPED, /* every other mutator is stopped or parked (world.c) */
  GCL_EVENT_ROOTS_TRACED,     /* the collector has visited every root */
  GCL_EVENT_HEAP_TRACED,      /* the collector has traced what it traces of the heap */
  GCL_EVENT_PHASE_START,      /* a named collector phase begins (name) */
  GCL_EVENT_PHASE_END,        /* that phase ends (name) */
  GCL_EVENT_WORLD_RESTARTED,  /* the stopped mutators may run again (world.c) */
  GCL_EVENT_HEAP_RESIZED,     /* the heap's size is now `bytes` */
  GCL_EVENT_LIVE_DATA,        /* after a collection, `bytes` are live */
  GCL_EVENT_HANDSHAKE_PAUSE,  /* one thread's handshake callback ended: t_ns is its start,
                               * `bytes` its duration in ns (world.c; one event, so no
                               * open-phase state: any number of threads may be in one) */
  GCL_EVENT_THREAD_PAUSE,     /* one thread stalled for collector work of its own: t_ns is
                               * its start, `bytes` its duration in ns, `name` its kind
                               * (a literal of gcl_pause_kind_is_thread: "assist", "pace") */
  GCL_EVENT_NKINDS
};

struct gcl_event {
  enum gcl_event_kind kind; /* what happened */
  uint64_t t_ns;            /* when (gcl_now_ns, CLOCK_MONOTONIC) */
  uint32_t thread;          /* kernel thread id of the emitting thread */
  const char *name;         /* PHASE_START/END: the phase (a string literal); else NULL */
  uint64_t bytes;           /* HEAP_RESIZED, LIVE_DATA: the size; else 0 */
};

/* Deliver one event, stamped by the caller, to the recorder and every listener. The typed
 * functions below stamp the time and thread themselves; this one is for an emitter that
 * took the time earlier (world.c, under its lock) and for tests that script a stream. */
void gcl_event_emit(const struct gcl_event *e);

/* The typed emitters: now, on the calling thread. */
void gcl_event_stop_requested(void);
void gcl_event_mutators_stopped(void);
void gcl_event_roots_traced(void);
void gcl_event_heap_traced(void);
void gcl_event_phase_start(const char *name);
void gcl_event_phase_end(const char *name);
void gcl_event_world_restarted(void);
void gcl_event_heap_resized(uint64_t bytes);
void gcl_event_live_data(uint64_t bytes);
/* A handshake callback for thread `thread` (its gcl_event_thread_id) started at start_ns
 * and ran until now, on that thread or, for a parked thread, on the requester, which
 * paused nobody but that thread: the event carries `thread`, not the caller's id. */
void gcl_event_handshake_pause(uint64_t start_ns, uint32_t thread);
/* The calling thread stalled from start_ns until now for collector work of its own (a
 * mark assist, a paced wait): a pause of kind `kind` of that thread alone (a string
 * literal of gcl_pause_kind_is_thread, core/pause.h). */
void gcl_event_thread_pause(const char *kind, uint64_t start_ns);

uint32_t gcl_event_thread_id(void); /* the calling thread's kernel id (cached) */
/* Whether the calling thread is between a gcl_event_phase_start and its phase_end: inside
 * a collector's collection or sweep (or a handshake callback), where it may hold the
 * collector's locks. core/heap.c's drain does not poll for a stop there. */
bool gcl_event_in_phase(void);

/* A listener beside the recorder: fn(e, data) for every event, in emission order, under
 * one lock (so listeners see a total order and need no lock of their own). fn must not
 * stop the world, emit events or block. At most GCL_EVENT_MAX_LISTENERS at a time. */
#define GCL_EVENT_MAX_LISTENERS 4
typedef void gcl_event_fn(const struct gcl_event *e, void *data);
int gcl_event_listen(gcl_event_fn *fn, void *data);   /* 0, or -ENOSPC */
void gcl_event_unlisten(gcl_event_fn *fn, void *data); /* removes that pair if present */

#endif
