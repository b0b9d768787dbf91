/* SPDX-License-Identifier: MIT */
/* harness/analysis/resample.h — the statistics behind summary, compare and table: median,
 * coefficient of variation, and percentile-bootstrap confidence intervals.
 *
 * Reproducibility: every bootstrap draws from its own splitmix64 stream, seeded with the
 * constant GCL_BOOT_SEED plus a stream number, and resamples a sample that has been sorted
 * first; so a result depends only on the multiset of values, never on row order, on other
 * cells in the file, or on the run. Plot.py (results/plot.py) implements the same
 * algorithm and prints the same intervals. */
#ifndef GCL_RESAMPLE_H
#define GCL_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#define GCL_BOOT_RESAMPLES 2000                    /* bootstrap resamples per interval */
#define GCL_BOOT_SEED UINT64_C(0x67636c6162000001) /* ASCII "gclab", then 000001 */
#define GCL_BOOT_LEVEL 0.95                        /* two-sided confidence level */

/* splitmix64 (Steele, Lea, Flood 2014): state advances by a fixed odd constant; the output
 * is a bijective mix of the state. */
struct gcl_rng {
  uint64_t state; /* advances by 0x9e3779b97f4a7c15 per draw */
};

static inline uint64_t gcl_rng_next(struct gcl_rng *r) {
  uint64_t z = (r->state += UINT64_C(0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* A uniform index in [0, n) by multiply-shift (Lemire); bias < n / 2^64. */
static inline size_t gcl_rng_below(struct gcl_rng *r, size_t n) {
  return (size_t)(((unsigned __int128)gcl_rng_next(r) * n) >> 64);
}

/* Sort ascending in place. */
void gcl_sort_doubles(double *x, size_t n);

/* Median of a SORTED sample (mean of the two middle values when n is even); n > 0. */
double gcl_median_sorted(const double *x, size_t n);

/* Quantile P in [0, 1] of a SORTED sample by linear interpolation between order
 * statistics (Hyndman-Fan type 7, the default of R and numpy); n > 0. */
double gcl_quantile_sorted(const double *x, size_t n, double p);

/* Sample standard deviation (n - 1) over |mean|. Returns 0 and sets *cv, or -1 when it is
 * undefined (n < 2 or mean 0). */
int gcl_cv(const double *x, size_t n, double *cv);

/* Percentile-bootstrap interval (level GCL_BOOT_LEVEL) of the median of the SORTED
 * sample x, from stream STREAM. Needs n >= 2; returns 0, or -1 (n < 2, out of memory). */
int gcl_boot_median_ci(const double *x, size_t n, uint64_t stream, double *lo, double *hi);

/* Percentile-bootstrap interval of median(new) / median(base): each resample draws a
 * resample of BASE (stream 0) and, independently, one of NEW (stream 1) and takes the
 * ratio of their medians. Both samples SORTED, both n >= 2. Returns 0; -1 when n < 2 or a
 * base resample has median 0 (ratio undefined) or out of memory. */
int gcl_boot_ratio_ci(const double *base, size_t nb, const double *new_, size_t nn, double *lo,
                      double *hi);

/* The pieces every interval above is made of, for statistics of several samples (gclab
 * lbo: a ratio to a minimum over cells). gcl_boot_resample_median: the median of one
 * resample (n draws with replacement from r) of the SORTED sample x, n > 0; counts is
 * scratch of n slots. gcl_boot_interval: the GCL_BOOT_LEVEL percentile interval of m
 * bootstrap statistics (sorted in place), m > 0. */
double gcl_boot_resample_median(const double *x, size_t n, struct gcl_rng *r, size_t *counts);
void gcl_boot_interval(double *stats, size_t m, double *lo, double *hi);

#endif
