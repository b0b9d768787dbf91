/* core/pause.h — pause recorder: a log-linear histogram of pause durations.
 *
 * Values (nanoseconds) below 16 get a bucket each; above, every power of two is split into
 * 16 linear sub-buckets, so a quantile is reported within 1/32 (~3%) of the true value
 * while the histogram has a fixed size and merges by addition. The maximum is exact. */
#ifndef GCL_PAUSE_H
#define GCL_PAUSE_H

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

/* The process-wide recorder, thread-safe (pauses are rare; a lock is fine). */
void gcl_pause_record(uint64_t ns);
void gcl_pause_snapshot(struct gcl_pause_hist *out);
void gcl_pause_reset(void);

uint64_t gcl_now_ns(void); /* CLOCK_MONOTONIC */

/* --- the pause/phase log ---------------------------------------------------------------
 * A bounded, process-wide log of (start, duration, kind, thread): every gcl_pause_record
 * adds a "pause" event (start = now - duration, thread = the recording thread), and a
 * collector may add named phases with gcl_phase_record (not counted as pauses). Once the
 * log is full, further events are counted in `dropped` and not kept; the histogram above
 * still sees every pause. Disabled (capacity 0) until gcl_pause_log_enable. */
struct gcl_pause_event {
  uint64_t start_ns;    /* CLOCK_MONOTONIC */
  uint64_t duration_ns; /* length */
  const char *kind;     /* "pause" or a phase name (a string literal) */
  uint32_t thread;      /* kernel thread id of the recording thread */
};

void gcl_pause_log_enable(uint32_t capacity);
void gcl_phase_record(const char *kind, uint64_t start_ns, uint64_t duration_ns);
/* The log so far: *n events (in recording order) and how many were dropped. The pointer
 * stays valid until the next record; call when the mutators are done. */
const struct gcl_pause_event *gcl_pause_log(uint32_t *n, uint64_t *dropped);

/* Minimum mutator utilization over windows of window_ns within [t0, t1], from `pause`
 * events of the log (overlapping pauses are merged): min over every window of
 * (window - pause time inside it) / window. 1.0 without pauses. Returns -1 when the run is
 * shorter than the window (not measured). Pure: the events are passed in. */
double gcl_mmu(const struct gcl_pause_event *ev, uint32_t n, uint64_t t0, uint64_t t1,
               uint64_t window_ns);

#endif
