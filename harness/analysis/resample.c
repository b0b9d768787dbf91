/* SPDX-License-Identifier: MIT */
/* harness/analysis/resample.c — median, CV and bootstrap intervals (see resample.h).
 *
 * A resample of a sorted sample is drawn as per-index counts (n draws with replacement),
 * so its median is found by walking cumulative counts instead of sorting: O(n) per
 * resample, and the draws consumed per resample are always exactly n, which keeps the
 * streams aligned with results/plot.py. */
#include "resample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

void gcl_sort_doubles(double *x, size_t n) {
  qsort(x, n, sizeof *x, cmp_double);
}

double gcl_median_sorted(const double *x, size_t n) {
  return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

double gcl_quantile_sorted(const double *x, size_t n, double p) {
  double h = (double)(n - 1) * p;
  size_t i = (size_t)floor(h);
  if (i + 1 >= n) return x[n - 1];
  return x[i] + (h - (double)i) * (x[i + 1] - x[i]);
}

int gcl_cv(const double *x, size_t n, double *cv) {
  if (n < 2) return -1;
  double mean = 0;
  for (size_t i = 0; i < n; i++) mean += x[i];
  mean /= (double)n;
  if (mean == 0) return -1;
  double ss = 0;
  for (size_t i = 0; i < n; i++) ss += (x[i] - mean) * (x[i] - mean);
  *cv = sqrt(ss / (double)(n - 1)) / fabs(mean);
  return 0;
}

/* Median of one resample of the sorted sample x, drawn from r; counts has n slots. */
static double resample_median(const double *x, size_t n, struct gcl_rng *r, size_t *counts) {
  memset(counts, 0, n * sizeof *counts);
  for (size_t i = 0; i < n; i++) counts[gcl_rng_below(r, n)]++;
  /* The resample, sorted, holds counts[i] copies of x[i] in index order; its median is
   * the mean of its order statistics k1 = (n-1)/2 and k2 = n/2 (equal when n is odd). */
  size_t k1 = (n - 1) / 2, k2 = n / 2, seen = 0;
  double a = x[n - 1];
  int have_a = 0;
  for (size_t i = 0; i < n; i++) {
    seen += counts[i]; /* order statistics 0 .. seen-1 are <= x[i] */
    if (!have_a && seen > k1) {
      a = x[i];
      have_a = 1;
    }
    if (seen > k2) return (a + x[i]) / 2;
  }
  return a; /* unreachable: seen reaches n > k2 */
}

static void interval(double *stats, size_t m, double *lo, double *hi) {
  gcl_sort_doubles(stats, m);
  *lo = gcl_quantile_sorted(stats, m, (1 - GCL_BOOT_LEVEL) / 2);
  *hi = gcl_quantile_sorted(stats, m, 1 - (1 - GCL_BOOT_LEVEL) / 2);
}

int gcl_boot_median_ci(const double *x, size_t n, uint64_t stream, double *lo, double *hi) {
  if (n < 2) return -1;
  double *stats = malloc(GCL_BOOT_RESAMPLES * sizeof *stats);
  size_t *counts = malloc(n * sizeof *counts);
  if (!stats || !counts) {
    free(stats);
    free(counts);
    return -1;
  }
  struct gcl_rng r = {GCL_BOOT_SEED + stream};
  for (size_t b = 0; b < GCL_BOOT_RESAMPLES; b++) stats[b] = resample_median(x, n, &r, counts);
  interval(stats, GCL_BOOT_RESAMPLES, lo, hi);
  free(stats);
  free(counts);
  return 0;
}

int gcl_boot_ratio_ci(const double *base, size_t nb, const double *new_, size_t nn, double *lo,
                      double *hi) {
  if (nb < 2 || nn < 2) return -1;
  double *stats = malloc(GCL_BOOT_RESAMPLES * sizeof *stats);
  size_t *counts = malloc((nb > nn ? nb : nn) * sizeof *counts);
  int rc = stats && counts ? 0 : -1;
  struct gcl_rng rb = {GCL_BOOT_SEED + 0}, rn = {GCL_BOOT_SEED + 1};
  for (size_t b = 0; b < GCL_BOOT_RESAMPLES && rc == 0; b++) {
    double mb = resample_median(base, nb, &rb, counts);
    double mn = resample_median(new_, nn, &rn, counts);
    if (mb == 0) rc = -1;
    else stats[b] = mn / mb;
  }
  if (rc == 0) interval(stats, GCL_BOOT_RESAMPLES, lo, hi);
  free(stats);
  free(counts);
  return rc;
}

double gcl_boot_resample_median(const double *x, size_t n, struct gcl_rng *r, size_t *counts) {
  return resample_median(x, n, r, counts);
}

void gcl_boot_interval(double *stats, size_t m, double *lo, double *hi) { interval(stats, m, lo, hi); }
