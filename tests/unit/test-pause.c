/* SPDX-License-Identifier: MIT */
/* tests/unit/test-pause.c — the log-linear pause histogram (the recorder that fills it from
 * events is tested in test-event.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "pause.h"

Test(pause, buckets_cover_every_value_once) {
  /* Every value lies inside its own bucket, and buckets are ordered and contiguous. */
  uint64_t vals[] = {0, 1, 15, 16, 17, 31, 32, 33, 1000, 4095, 4096, 123456789, UINT64_MAX / 3};
  for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
    unsigned b = gcl_pause_bucket_of(vals[i]);
    cr_assert_lt(b, GCL_PAUSE_BUCKETS);
    cr_assert_leq(gcl_pause_bucket_low(b), vals[i], "value %lu bucket %u", (unsigned long)vals[i], b);
    cr_assert_geq(gcl_pause_bucket_high(b), vals[i], "value %lu bucket %u", (unsigned long)vals[i], b);
  }
  for (unsigned b = 0; b + 1 < GCL_PAUSE_BUCKETS - 16; b++)
    cr_assert_eq(gcl_pause_bucket_high(b) + 1, gcl_pause_bucket_low(b + 1), "gap after bucket %u", b);
}

Test(pause, relative_error_is_bounded) {
  for (uint64_t v = 16; v < (1ull << 40); v = v * 3 + 7) {
    unsigned b = gcl_pause_bucket_of(v);
    double width = (double)(gcl_pause_bucket_high(b) - gcl_pause_bucket_low(b) + 1);
    cr_assert_leq(width / (double)v, 1.0 / 16 + 1e-12, "bucket of %lu too wide", (unsigned long)v);
  }
}

Test(pause, quantiles_of_a_uniform_sample) {
  struct gcl_pause_hist h;
  memset(&h, 0, sizeof h);
  for (uint64_t us = 1; us <= 1000; us++) gcl_pause_hist_add(&h, us * 1000);
  cr_assert_eq(h.count, 1000);
  cr_assert_eq(h.max_ns, 1000000);
  double p50 = (double)gcl_pause_hist_quantile(&h, 0.5);
  double p99 = (double)gcl_pause_hist_quantile(&h, 0.99);
  cr_assert(p50 > 500000 * 0.96 && p50 < 500000 * 1.04, "p50 = %f", p50);
  cr_assert(p99 > 990000 * 0.96 && p99 < 990000 * 1.04, "p99 = %f", p99);
  cr_assert_eq(gcl_pause_hist_quantile(&h, 1.0), 1000000);
}

Test(pause, empty_and_merge) {
  struct gcl_pause_hist a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  cr_assert_eq(gcl_pause_hist_quantile(&a, 0.5), 0);
  gcl_pause_hist_add(&a, 100);
  gcl_pause_hist_add(&b, 7000);
  gcl_pause_hist_merge(&a, &b);
  cr_assert_eq(a.count, 2);
  cr_assert_eq(a.total_ns, 7100);
  cr_assert_eq(a.max_ns, 7000);
  uint64_t p50 = gcl_pause_hist_quantile(&a, 0.5); /* the midpoint of 100's bucket */
  cr_assert(p50 >= gcl_pause_bucket_low(gcl_pause_bucket_of(100)) &&
            p50 <= gcl_pause_bucket_high(gcl_pause_bucket_of(100)), "p50 = %lu", (unsigned long)p50);
}
