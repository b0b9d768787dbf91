/* SPDX-License-Identifier: MIT */
/* tests/unit/test-ptrset.c — the verifier's pointer set against a plain array model. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "ptrset.h"

#define N 20000

Test(ptrset, matches_a_model_under_random_operations) {
  static char present[N];
  struct gcl_ptrset s;
  gcl_ptrset_init(&s);
  uint64_t x = 88172645463325252ull;
  size_t count = 0;
  for (int step = 0; step < 400000; step++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    size_t k = x % N;
    void *p = (void *)(uintptr_t)(16 * (k + 1));
    if ((x >> 32) & 1) {
      cr_assert_eq(gcl_ptrset_add(&s, p), !present[k]);
      if (!present[k]) count++;
      present[k] = 1;
    } else {
      cr_assert_eq(gcl_ptrset_remove(&s, p), present[k]);
      if (present[k]) count--;
      present[k] = 0;
    }
    cr_assert_eq(s.count, count);
  }
  for (size_t k = 0; k < N; k++)
    cr_assert_eq(gcl_ptrset_contains(&s, (void *)(uintptr_t)(16 * (k + 1))), present[k]);
  size_t cursor = 0, seen = 0;
  void *p;
  while (gcl_ptrset_next(&s, &cursor, &p)) {
    size_t k = (uintptr_t)p / 16 - 1;
    cr_assert(present[k]);
    seen++;
  }
  cr_assert_eq(seen, count);
  gcl_ptrset_destroy(&s);
}
