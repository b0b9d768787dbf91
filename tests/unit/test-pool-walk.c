/* SPDX-License-Identifier: MIT */
/* tests/unit/test-pool-walk.c — the pool allocator's heap-walk capability
 * (gcl_allocator_walk, core/allocator.h): after any mix of allocations and frees, of every
 * size class and of malloc-routed sizes, the walk visits exactly the blocks allocated and
 * not freed, each once, with its usable size. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "allocator.h"
#include "ptrset.h"

struct seen {
  struct gcl_ptrset set; /* blocks visited */
  size_t dups;           /* visited twice */
  size_t bad_size;       /* visited with a size below the request (or not ours) */
};

#define N 20000
static void *blocks[N];
static size_t sizes[N];

struct entry {
  uintptr_t p; /* an allocated block */
  size_t n;    /* its request */
};
static struct entry sorted[N]; /* the allocated blocks by address, for visit */
static size_t nsorted;

static int by_address(const void *a, const void *b) {
  uintptr_t x = ((const struct entry *)a)->p, y = ((const struct entry *)b)->p;
  return x < y ? -1 : x > y;
}

static void visit(void *mem, size_t bytes, void *ctx) {
  struct seen *s = ctx;
  if (!gcl_ptrset_add(&s->set, mem)) s->dups++;
  struct entry key = {(uintptr_t)mem, 0};
  struct entry *e = bsearch(&key, sorted, nsorted, sizeof *sorted, by_address);
  if (!e || bytes < e->n) s->bad_size++;
}

static void check_walk(size_t expect) {
  struct seen s = {.dups = 0, .bad_size = 0};
  nsorted = 0;
  for (size_t i = 0; i < N; i++)
    if (blocks[i]) sorted[nsorted++] = (struct entry){(uintptr_t)blocks[i], sizes[i]};
  qsort(sorted, nsorted, sizeof *sorted, by_address);
  gcl_ptrset_init(&s.set);
  gcl_allocator_walk(visit, &s);
  cr_assert_eq(s.dups, 0, "a block was visited twice");
  cr_assert_eq(s.bad_size, 0, "a block was visited with a size below its request");
  cr_assert_eq(s.set.count, expect, "visited %zu blocks, %zu are allocated", s.set.count, expect);
  for (size_t i = 0; i < N; i++)
    if (blocks[i]) cr_assert(gcl_ptrset_contains(&s.set, blocks[i]), "allocated block %zu not visited", i);
  gcl_ptrset_destroy(&s.set);
}

Test(pool_walk, visits_exactly_the_allocated_blocks) {
  cr_assert_eq(gcl_allocator_init(&(struct gcl_init){1, NULL}), 0);
  check_walk(0);
  struct { uint64_t s; } rng = {88172645463325252ull}; /* xorshift64 */
  size_t live = 0;
  for (int round = 0; round < 4; round++) {
    for (size_t i = 0; i < N; i++) {
      rng.s ^= rng.s << 13, rng.s ^= rng.s >> 7, rng.s ^= rng.s << 17;
      if (blocks[i] && rng.s % 3 == 0) {
        gcl_allocator_free(NULL, blocks[i], sizes[i]);
        blocks[i] = NULL;
        live--;
      } else if (!blocks[i] && rng.s % 2 == 0) {
        /* mostly pooled sizes, every class, some malloc-routed (0 and > 512) */
        size_t n = (rng.s >> 8) % 100 == 0 ? 513 + (rng.s >> 16) % 2000 : (rng.s >> 8) % 513;
        sizes[i] = n;
        blocks[i] = gcl_allocator_alloc(NULL, n);
        cr_assert_not_null(blocks[i]);
        live++;
      }
    }
    check_walk(live);
  }
  for (size_t i = 0; i < N; i++)
    if (blocks[i]) gcl_allocator_free(NULL, blocks[i], sizes[i]), blocks[i] = NULL;
  check_walk(0);
}
