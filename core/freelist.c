/* SPDX-License-Identifier: MIT */
/* core/freelist.c — the cold half of per-type free lists (core/freelist.h): the on/off
 * switch, a thread's table, new keys, and giving the lists back at thread exit.
 *
 * Invariants: live_tables counts the tables of attached threads; it is 0 once every
 * thread detached, which gcl_freelists_finish checks. Macros: GCL_FREELISTS, GCL_VERIFY
 * (core/freelist.h). */
#include "freelist.h"

#include <stdio.h>
#include <stdlib.h>

#include "allocator.h"
#include "mutator.h"

static bool enabled;          /* atomic: threads attaching now get a table */
static unsigned live_tables;  /* atomic: tables not given back yet */

void gcl_freelists_enable(bool on) { __atomic_store_n(&enabled, on && GCL_FREELISTS, __ATOMIC_RELAXED); }
bool gcl_freelists_enabled(void) { return __atomic_load_n(&enabled, __ATOMIC_RELAXED); }
unsigned gcl_freelists_live_tables(void) { return __atomic_load_n(&live_tables, __ATOMIC_RELAXED); }

struct gcl_freelists *gcl_freelists_new(void) {
  if (!gcl_freelists_enabled()) return NULL;
  struct gcl_freelists *fl = calloc(1, sizeof *fl);
  if (!fl) gcl_alloc_failed(sizeof *fl);
  __atomic_add_fetch(&live_tables, 1, __ATOMIC_RELAXED);
  return fl;
}

struct gcl_freelist *gcl_freelist_add_key(struct gcl_freelists *fl, const struct gcl_type *t,
                                          size_t bytes) {
  if (fl->keys >= GCL_FREELIST_MAX_KEYS) return NULL;
  if ((t->flags & GCL_TYPE_VAR) && t->item_size &&
      bytes > GCL_COLLECTOR_PREFIX_SIZE + t->size + GCL_FREELIST_MAX_LEN * t->item_size)
    return NULL;
  /* Probe as gcl_freelist_find does; the key is absent, so this ends at an empty slot. */
  unsigned i = gcl_freelist_hash(t, bytes);
  while (fl->slot[i].type) i = (i + 1) & (GCL_FREELIST_SLOTS - 1);
  fl->slot[i] = (struct gcl_freelist){t, bytes, 0, t->freelist, NULL};
  fl->keys++;
  return &fl->slot[i];
}

void gcl_freelist_thread_exit(struct gcl_mutator *m) {
  struct gcl_freelists *fl = m->freelists;
  if (!fl) return;
  m->freelists = NULL;
  for (unsigned i = 0; i < GCL_FREELIST_SLOTS; i++) {
    struct gcl_freelist *l = &fl->slot[i];
    /* Loop invariant: l->head .. the end are parked objects of l's key, l->count of them. */
    while (l->head) {
      struct gcl_object *o = l->head;
      l->head = (struct gcl_object *)o->gcl_word;
      l->count--;
      if (GCL_VERIFY) gcl_verify_on_freelist_release(o);
      gcl_allocator_free(&m->allocator, (char *)o - GCL_COLLECTOR_PREFIX_SIZE, l->bytes);
      m->stats.freelist_released++;
    }
    GCL_ASSERT(l->count == 0);
  }
  free(fl);
  __atomic_sub_fetch(&live_tables, 1, __ATOMIC_RELAXED);
}

void gcl_freelists_finish(void) {
  unsigned n = gcl_freelists_live_tables();
  if (n) {
    fprintf(stderr, "gclab: %u threads' free lists outlive gcl_heap_finish (a thread never detached)\n", n);
    abort();
  }
}
