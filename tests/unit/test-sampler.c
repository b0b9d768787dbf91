/* SPDX-License-Identifier: MIT */
/* tests/unit/test-sampler.c — the runner's memory sampler (runner/sampler.h): the
 * time-weighted mean over a window (each sample holds until the next, clipped to the
 * window; unreadable samples skipped), and a live sampler that takes samples in time order
 * with RSS, live and committed bytes filled. */
#include <criterion/criterion.h>
#include <time.h>

#include "sampler.h"

Test(sampler, mean_is_time_weighted_and_clipped) {
  const struct gcl_sample s[] = {
      {100, 10, 0, 0}, {200, 30, 0, 0}, {400, -1, 0, 0}, {500, 50, 0, 0}, {600, 0, 0, 0}};
  /* [100,200) 10, [200,400) 30, [400,500) unknown, [500,600) 50 */
  cr_expect_float_eq(gcl_sampler_mean_rss(s, 5, 100, 600), (10.0 * 100 + 30 * 200 + 50 * 100) / 400, 1e-9);
  /* clipped: [150,200) 10, [200,250) 30 */
  cr_expect_float_eq(gcl_sampler_mean_rss(s, 5, 150, 250), (10.0 * 50 + 30 * 50) / 100, 1e-9);
  cr_expect_eq(gcl_sampler_mean_rss(s, 5, 700, 800), -1, "no sample holds in the window");
  cr_expect_eq(gcl_sampler_mean_rss(s, 1, 0, 1000), -1, "one sample holds over nothing");
}

Test(sampler, samples_in_order_while_running) {
  cr_assert_eq(gcl_sampler_start(1000000), 0); /* every 1 ms */
  struct timespec d = {0, 30 * 1000000};
  nanosleep(&d, NULL);
  uint32_t n;
  const struct gcl_sample *s = gcl_sampler_stop(&n);
  cr_assert_geq(n, 5, "only %u samples in 30 ms at 1 ms", n);
  for (uint32_t i = 0; i < n; i++) {
    cr_expect_gt(s[i].rss, 0, "sample %u: no RSS", i);
    cr_expect_eq(s[i].committed, -1, "sample %u: sys says it cannot tell its committed bytes", i);
    if (i) cr_expect_geq(s[i].t_ns, s[i - 1].t_ns, "samples out of order");
  }
}
