/* SPDX-License-Identifier: MIT */
/* core/ptrset.h — an open-addressing hash set of pointers (linear probing, tombstones).
 * Used by the verifier; not thread-safe (callers lock). */
#ifndef GCL_PTRSET_H
#define GCL_PTRSET_H

#include <stdbool.h>
#include <stddef.h>

struct gcl_ptrset {
  void **slots;   /* NULL: empty; GCL_PTRSET_TOMB: deleted; else a member */
  size_t cap;     /* power of two */
  size_t count;   /* members */
  size_t used;    /* members + tombstones */
};

void gcl_ptrset_init(struct gcl_ptrset *s);
void gcl_ptrset_destroy(struct gcl_ptrset *s);
bool gcl_ptrset_add(struct gcl_ptrset *s, void *p);    /* false if already present */
bool gcl_ptrset_remove(struct gcl_ptrset *s, void *p); /* false if absent */
bool gcl_ptrset_contains(const struct gcl_ptrset *s, void *p);
/* Iterate: for (size_t i = 0; gcl_ptrset_next(s, &i, &p);) */
bool gcl_ptrset_next(const struct gcl_ptrset *s, size_t *cursor, void **out);

#endif
