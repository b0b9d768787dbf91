/* SPDX-License-Identifier: MIT */
/* core/pause.h — the pause recorder: log-linear histograms of pause durations and of
 * times to safepoint, and the pause/phase log, all derived from core/event.h's stream.
 *
 * Values (nanoseconds) below 16 get a bucket each; above, every power of two is split into
 * 16 linear sub-buckets, so a quantile is reported within 1/32 (~3%) of the true value
 * while the histogram has a fixed size and merges by addition. The maximum is exact. */
#ifndef GCL_PAUSE_H
#define GCL_PAUSE_H

#include <stdbool.h>
#include <stdint.h>

#define GCL_PAUSE_SUB_BITS 4
#define GCL_PAUSE_BUCKETS ((64 - GCL_PAUSE_SUB_BITS + 1) << GCL_PAUSE_SUB_BITS)

struct gcl_pause_hist {
  uint64_t count;                       /* pauses recorded */
  uint64_t total_ns;                    /* their sum */
  uint64_t max_ns;                      /* the longest, exact */
  uint64_t buckets[GCL_PAUSE_BUCKETS];  /* counts per log-linear bucket */
};

unsigned gcl_pause_bucket_of(uint64_t ns);
uint64_t gcl_pause_bucket_low(unsigned bucket);  /* smallest value in the bucket */
uint64_t gcl_pause_bucket_high(unsigned bucket); /* largest value in the bucket */
void gcl_pause_hist_add(struct gcl_pause_hist *h, uint64_t ns);
void gcl_pause_hist_merge(struct gcl_pause_hist *into, const struct gcl_pause_hist *from);
/* The q-quantile (0 < q <= 1) as the midpoint of its bucket, clamped to max; the exact max
 * when the rank is the last; 0 if empty. */
uint64_t gcl_pause_hist_quantile(const struct gcl_pause_hist *h, double q);

/* --- the process-wide recorder ----------------------------------------------------------
 * Fed only by the event stream of core/event.h (core/event.c calls gcl_recorder_event for
 * every event; nothing else writes here), thread-safe under one lock (events are rare). It
 * derives, for each stop, one pause (STOP_REQUESTED -> WORLD_RESTARTED) into the pause
 * histogram and one time-to-safepoint (STOP_REQUESTED -> MUTATORS_STOPPED) into the ttsp
 * histogram; the last and largest heap size and live data; and the log below. */
struct gcl_event;
void gcl_recorder_event(const struct gcl_event *e);
void gcl_pause_snapshot(struct gcl_pause_hist *out); /* pauses */
void gcl_ttsp_snapshot(struct gcl_pause_hist *out);  /* times to safepoint */
struct gcl_gc_sizes {
  uint64_t heap_bytes, heap_bytes_max; /* last and largest HEAP_RESIZED, 0 if none */
  uint64_t live_bytes, live_bytes_max; /* last and largest LIVE_DATA, 0 if none */
  uint64_t live_samples;               /* LIVE_DATA events seen */
};
void gcl_sizes_snapshot(struct gcl_gc_sizes *out);
void gcl_pause_reset(void); /* histograms, sizes, open stop and phases (not the log) */

uint64_t gcl_now_ns(void); /* CLOCK_MONOTONIC */

/* --- the pause/phase log ---------------------------------------------------------------
 * A bounded, process-wide log of (start, duration, kind, thread), one entry when something
 * with a duration ends: kind "pause" for each stop (start = stop requested, thread = the
 * requester), and, when the log keeps every kind, "ttsp" for each stop (start = stop
 * requested, duration = time to safepoint), each collector phase under its name (start =
 * PHASE_START), and "roots-traced" / "heap-traced" marks (duration 0). Pause-only logging
 * (what mmu_* needs) keeps the log small when nobody asked for the events file. Once the
 * log is full, further entries are counted in `dropped` and not kept; the histograms still
 * see every stop. Disabled (capacity 0) until gcl_pause_log_enable. */
struct gcl_pause_event {
  uint64_t start_ns;    /* CLOCK_MONOTONIC */
  uint64_t duration_ns; /* length */
  const char *kind;     /* "pause", "ttsp", a phase name or a mark (a string literal) */
  uint32_t thread;      /* kernel thread id of the emitting thread */
};

/* capacity 0 disables the log; every_kind false keeps "pause" entries only. */
void gcl_pause_log_enable(uint32_t capacity, bool every_kind);
/* The log so far: *n events (in recording order) and how many were dropped. The pointer
 * stays valid until the next record; call when the mutators are done. */
const struct gcl_pause_event *gcl_pause_log(uint32_t *n, uint64_t *dropped);

/* Whether `kind` names a pause of one thread, not of the world: "handshake-callback" (a
 * handshake callback; "handshake" is the requester's phase, not a pause), "assist" (a mutator marking for the collector), "pace" (a mutator waiting
 * for the collector to free memory). Every such pause is in the pause histogram; an
 * assist or a paced wait (THREAD_PAUSE) only for its time outside world stops, which
 * are there already (core/recorder.c), while the log keeps its whole span. */
bool gcl_pause_kind_is_thread(const char *kind);

/* Minimum mutator utilization over windows of window_ns within [t0, t1], from the log's
 * `pause` events (world stops) and per-thread pauses (gcl_pause_kind_is_thread): for each
 * thread with pauses of its own, the worst window's (window - time that thread could not
 * run: world stops and its own pauses, overlaps merged) / window; the minimum over those
 * threads (the worst-off thread's MMU), or the world stops' alone when no thread has
 * pauses of its own. 1.0 without pauses. Returns -1 when the run is shorter than the
 * window (not measured). Pure: the events are passed in. */
double gcl_mmu(const struct gcl_pause_event *ev, uint32_t n, uint64_t t0, uint64_t t1,
               uint64_t window_ns);

#endif
