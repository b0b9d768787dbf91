/* SPDX-License-Identifier: MIT */
/* core/ptrset.c — see ptrset.h. Load factor (members + tombstones) stays below 1/2. */
#include "ptrset.h"

#include <stdint.h>
#include <stdlib.h>

#include "assert.h"

#define TOMB ((void *)1)

static size_t hash(void *p, size_t cap) {
  uint64_t x = (uint64_t)(uintptr_t)p;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return (size_t)x & (cap - 1);
}

void gcl_ptrset_init(struct gcl_ptrset *s) {
  s->cap = 1024;
  s->count = s->used = 0;
  s->slots = calloc(s->cap, sizeof *s->slots);
  if (!s->slots) gcl_alloc_failed(s->cap * sizeof *s->slots);
}

void gcl_ptrset_destroy(struct gcl_ptrset *s) {
  free(s->slots);
  s->slots = NULL;
  s->cap = s->count = s->used = 0;
}

static void rehash(struct gcl_ptrset *s, size_t cap) {
  void **old = s->slots;
  size_t old_cap = s->cap;
  s->slots = calloc(cap, sizeof *s->slots);
  if (!s->slots) gcl_alloc_failed(cap * sizeof *s->slots);
  s->cap = cap;
  s->count = s->used = 0;
  for (size_t i = 0; i < old_cap; i++)
    if (old[i] && old[i] != TOMB) gcl_ptrset_add(s, old[i]);
  free(old);
}

bool gcl_ptrset_add(struct gcl_ptrset *s, void *p) {
  if (2 * (s->used + 1) > s->cap) rehash(s, 2 * (s->count + 1) > s->cap / 2 ? 2 * s->cap : s->cap);
  size_t i = hash(p, s->cap), tomb = SIZE_MAX;
  for (;; i = (i + 1) & (s->cap - 1)) {
    if (s->slots[i] == p) return false;
    if (s->slots[i] == TOMB && tomb == SIZE_MAX) tomb = i;
    if (!s->slots[i]) break;
  }
  if (tomb != SIZE_MAX) {
    i = tomb;
  } else {
    s->used++;
  }
  s->slots[i] = p;
  s->count++;
  return true;
}

static size_t find(const struct gcl_ptrset *s, void *p) {
  for (size_t i = hash(p, s->cap);; i = (i + 1) & (s->cap - 1)) {
    if (s->slots[i] == p) return i;
    if (!s->slots[i]) return SIZE_MAX;
  }
}

bool gcl_ptrset_remove(struct gcl_ptrset *s, void *p) {
  size_t i = find(s, p);
  if (i == SIZE_MAX) return false;
  s->slots[i] = TOMB;
  s->count--;
  return true;
}

bool gcl_ptrset_contains(const struct gcl_ptrset *s, void *p) { return find(s, p) != SIZE_MAX; }

bool gcl_ptrset_next(const struct gcl_ptrset *s, size_t *cursor, void **out) {
  for (; *cursor < s->cap; (*cursor)++) {
    void *p = s->slots[*cursor];
    if (p && p != TOMB) {
      (*cursor)++;
      *out = p;
      return true;
    }
  }
  return false;
}
