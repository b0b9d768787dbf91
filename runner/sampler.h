/* SPDX-License-Identifier: MIT */
/* runner/sampler.h — memory over time: a thread of the runner samples, every period, the
 * process's RSS (/proc/self/statm), the heap's live bytes (core/stats.h) and the
 * allocator's committed bytes (gcl_allocator_committed_bytes, where it says). Samples are
 * kept in memory (bounded) and written to the events file after the run; the record gets
 * the time-weighted mean RSS over the measured window.
 *
 * Invariants: samples are in time order; a field that could not be read is -1 (written as
 * nothing); the sampler thread is not a mutator (it never attaches). */
#ifndef GCL_RUNNER_SAMPLER_H
#define GCL_RUNNER_SAMPLER_H

#include <stdint.h>

#define GCL_SAMPLES_MAX (1u << 20) /* samples kept (~2.9 hours at 10 ms) */

struct gcl_sample {
  uint64_t t_ns;     /* CLOCK_MONOTONIC */
  int64_t rss;       /* resident bytes, or -1 */
  int64_t live;      /* live heap bytes, or -1 */
  int64_t committed; /* allocator's committed bytes, or -1 */
};

/* Start sampling every period_ns (0: do nothing). 0, or -errno. */
int gcl_sampler_start(uint64_t period_ns);
/* Stop (one last sample is taken) and return the samples; *n their count. */
const struct gcl_sample *gcl_sampler_stop(uint32_t *n);
/* Time-weighted mean RSS in bytes over [t0, t1] (each sample holds until the next), or
 * -1 without samples there. */
double gcl_sampler_mean_rss(const struct gcl_sample *s, uint32_t n, uint64_t t0, uint64_t t1);

#endif
