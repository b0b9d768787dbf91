/* SPDX-License-Identifier: MIT */
/* core/verify-fresh.c — the verifier's check of initialising stores (gcl_store_init,
 * gcl_store_init_move: core/mutator.h). Its hooks are called only in GCL_VERIFY builds;
 * the file is compiled into every pair, as core/verify.c is.
 *
 * It keeps a map from each object that some thread allocated and has not published yet to
 * that thread (its struct gcl_mutator). An allocation enters the object (replacing whatever
 * an earlier object at the same address left: an address is reused only after that object
 * was freed); publishing it (gcl_store_move or an initialising store of it into a slot,
 * gcl_share) removes it. An initialising store is an error unless the object is in the map
 * under the storing thread, carries no shared or weak-reference flag, the slot lies inside
 * the object, and the slot holds NULL; the stored value then counts as published.
 *
 * A value stored into a global root with gcl_global_root_store is published too. What it
 * does not see: a global root slot written directly (not through gcl_global_root_store),
 * so an initialising store into an object reachable only from such a slot is not
 * reported; an object freed while unpublished stays in the map until its address is
 * allocated again (the quarantine holds it back), which can only hide an error, never
 * report a false one. Neither weakens an existing check.
 *
 * Invariants: the map is touched only under fresh_lock; keys are object pointers (never
 * NULL, 16-byte aligned), values the allocating mutator; a slot is empty (key NULL), a
 * tombstone (key FRESH_TOMB) or an entry; cap is a power of two and used (entries plus
 * tombstones) stays below cap / 2, so every probe ends at an empty slot.
 * No macros change this file. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mutator.h"
#include "verify.h"

#define FRESH_TOMB ((struct gcl_object *)1)

/* One slot of the map. */
struct fresh_entry {
  struct gcl_object *obj; /* the object, NULL (empty) or FRESH_TOMB (deleted) */
  struct gcl_mutator *owner; /* the thread that allocated it */
};

static pthread_mutex_t fresh_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fresh_entry *fresh;   /* the table, NULL until the first allocation */
static size_t fresh_cap;            /* slots, a power of two */
static size_t fresh_used;           /* entries plus tombstones */

static size_t fresh_hash(const struct gcl_object *o) {
  uintptr_t h = (uintptr_t)o >> 4;
  h *= 0x9E3779B97F4A7C15ull;
  return (size_t)(h ^ (h >> 29));
}

/* The slot holding o, or NULL. The loop ends: an empty slot always exists. */
static struct fresh_entry *fresh_find(const struct gcl_object *o) {
  if (!fresh) return NULL;
  for (size_t i = fresh_hash(o) & (fresh_cap - 1);; i = (i + 1) & (fresh_cap - 1)) {
    if (fresh[i].obj == o) return &fresh[i];
    if (!fresh[i].obj) return NULL;
  }
}

static void fresh_insert_new(struct gcl_object *o, struct gcl_mutator *m);

/* Rebuild the table at twice the entries' room, dropping tombstones. */
static void fresh_grow(void) {
  struct fresh_entry *old = fresh;
  size_t old_cap = fresh_cap, entries = 0;
  for (size_t i = 0; i < old_cap; i++) entries += old[i].obj && old[i].obj != FRESH_TOMB;
  size_t cap = 1024;
  while (cap < 4 * (entries + 1)) cap *= 2;
  fresh = calloc(cap, sizeof *fresh);
  if (!fresh) gcl_alloc_failed(cap * sizeof *fresh);
  fresh_cap = cap;
  fresh_used = 0;
  /* Every entry of the old table is inserted once into the new, empty one. */
  for (size_t i = 0; i < old_cap; i++)
    if (old[i].obj && old[i].obj != FRESH_TOMB) fresh_insert_new(old[i].obj, old[i].owner);
  free(old);
}

/* Insert o, known to be absent, at the first empty or deleted slot of its probe. */
static void fresh_insert_new(struct gcl_object *o, struct gcl_mutator *m) {
  for (size_t i = fresh_hash(o) & (fresh_cap - 1);; i = (i + 1) & (fresh_cap - 1)) {
    if (!fresh[i].obj || fresh[i].obj == FRESH_TOMB) {
      if (!fresh[i].obj) fresh_used++;
      fresh[i] = (struct fresh_entry){o, m};
      return;
    }
  }
}

void gcl_verify_fresh_alloc(struct gcl_mutator *m, struct gcl_object *o) {
  pthread_mutex_lock(&fresh_lock);
  struct fresh_entry *e = fresh_find(o);
  if (e) {
    e->owner = m; /* an earlier object at this address, freed while unpublished */
  } else {
    if (!fresh || 2 * (fresh_used + 1) >= fresh_cap) fresh_grow();
    fresh_insert_new(o, m);
  }
  pthread_mutex_unlock(&fresh_lock);
}

void gcl_verify_fresh_publish(struct gcl_object *o) {
  pthread_mutex_lock(&fresh_lock);
  struct fresh_entry *e = fresh_find(o);
  if (e) e->obj = FRESH_TOMB;
  pthread_mutex_unlock(&fresh_lock);
}

void gcl_verify_store_init(struct gcl_mutator *m, struct gcl_object *obj, struct gcl_object **slot,
                           struct gcl_object *val) {
  char why[160];
  why[0] = 0;
  pthread_mutex_lock(&fresh_lock);
  struct fresh_entry *e = obj ? fresh_find(obj) : NULL;
  /* The type is read only from an object the map knows (anything else may not be one). */
  const char *tn = e ? gcl_type_of(obj)->name : "object";
  if (!e)
    snprintf(why, sizeof why, "initialising store into %s %p, which is published or not allocated", tn, (void *)obj);
  else if (e->owner != m)
    snprintf(why, sizeof why, "initialising store into %s %p, which another thread allocated", tn, (void *)obj);
  else if (gcl_obj_flags(obj) & (GCL_OBJ_SHARED | GCL_OBJ_WEAKREFD))
    snprintf(why, sizeof why, "initialising store into %s %p, which is shared or weakly referenced", tn, (void *)obj);
  else if ((char *)slot < (char *)(obj + 1) ||
           (char *)(slot + 1) > (char *)obj + gcl_object_size(obj))
    snprintf(why, sizeof why, "initialising store into %s %p: slot %p is not inside it", tn, (void *)obj, (void *)slot);
  else if (__atomic_load_n(slot, __ATOMIC_RELAXED) != NULL)
    snprintf(why, sizeof why, "initialising store into %s %p: its slot %p is not NULL", tn, (void *)obj, (void *)slot);
  if (val) {
    struct fresh_entry *v = fresh_find(val);
    if (v) v->obj = FRESH_TOMB;
  }
  pthread_mutex_unlock(&fresh_lock);
  if (why[0]) gcl_verify_report_error(why);
}
