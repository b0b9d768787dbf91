/* SPDX-License-Identifier: MIT */
/* core/weakref.c — the weak-reference side table (see weakref.h).
 *
 * Invariants, all under wr_lock:
 *  - an object has an entry in the table iff it has GCL_OBJ_WEAKREFD iff at least one LIVE
 *    handle names it; the entry's chain holds exactly its LIVE handles, newest first;
 *  - a LIVE handle's referent is its object; a PENDING or DONE handle's referent is NULL;
 *  - a PENDING handle is on exactly one pending list and nowhere else;
 *  - the table is open addressing with linear probing, a power-of-two capacity, at most
 *    half full, and no tombstones (deletion shifts the following run back).
 *
 * Macros: a collector that owns its heap and frees objects behind core's back (bdw) defines
 * GCL_COLLECTOR_WEAK_LINKS 1 in its attrs header and the three gcl_collector_weak_* hooks
 * below; then a LIVE handle's referent slot is also registered with that collector (a
 * disappearing link: the collector sets it to NULL when the referent becomes unreachable,
 * before anything else can see it) and read through gcl_collector_weak_read. A LIVE
 * handle whose link was cleared keeps its table key in `key` until the collector clears
 * the referent's entry (collectors/bdw/README.md). Without the macro the hooks are
 * no-ops and nothing changes. */
#include "weakref.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "mutator.h"

#ifndef GCL_COLLECTOR_WEAK_LINKS
static inline void gcl_collector_weak_link(struct gcl_object **link, struct gcl_object *o) {
  (void)link, (void)o;
}
static inline void gcl_collector_weak_unlink(struct gcl_object **link) { (void)link; }
static inline struct gcl_object *gcl_collector_weak_read(struct gcl_object **link) {
  return *link;
}
#endif

enum wr_state { WR_LIVE, WR_PENDING, WR_DONE };

struct gcl_weakref {
  struct gcl_object *referent;   /* the object while LIVE, else NULL (a weak link may
                                  * clear it early: GCL_COLLECTOR_WEAK_LINKS) */
  struct gcl_object *key;        /* the referent it was made for: its table key */
  gcl_weakref_callback callback; /* NULL: none */
  void *ctx;                     /* the callback's argument */
  struct gcl_weakref *next;      /* next handle of the same referent, or on the pending list */
  unsigned char state;           /* enum wr_state */
  bool free_requested;           /* freed while PENDING: the runner frees it, no callback */
};

struct wr_entry {
  struct gcl_object *key;    /* referent, NULL: empty */
  struct gcl_weakref *chain; /* its LIVE handles, newest first */
};

static pthread_mutex_t wr_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wr_entry *table; /* cap entries */
static size_t cap;             /* 0 or a power of two */
static size_t used;            /* entries with a key */

static size_t home(const struct gcl_object *key) {
  uint64_t h = (uint64_t)(uintptr_t)key * 0x9E3779B97F4A7C15ull;
  return (size_t)(h >> 32) & (cap - 1);
}

static struct wr_entry *find(const struct gcl_object *key) {
  if (cap == 0) return NULL;
  for (size_t i = home(key);; i = (i + 1) & (cap - 1)) {
    if (table[i].key == key) return &table[i];
    if (table[i].key == NULL) return NULL;
  }
}

static void grow(void) {
  size_t old_cap = cap;
  struct wr_entry *old = table;
  cap = cap ? 2 * cap : 64;
  table = calloc(cap, sizeof *table);
  if (!table) gcl_alloc_failed(cap * sizeof *table);
  for (size_t j = 0; j < old_cap; j++) {
    if (!old[j].key) continue;
    size_t i = home(old[j].key);
    while (table[i].key) i = (i + 1) & (cap - 1);
    table[i] = old[j];
  }
  free(old);
}

static struct wr_entry *find_or_add(struct gcl_object *key) {
  struct wr_entry *e = find(key);
  if (e) return e;
  if (2 * (used + 1) > cap) grow();
  size_t i = home(key);
  while (table[i].key) i = (i + 1) & (cap - 1);
  table[i] = (struct wr_entry){key, NULL};
  used++;
  return &table[i];
}

/* Remove e, then move back every entry of the following run that the hole now separates
 * from its home slot. */
static void remove_entry(struct wr_entry *e) {
  size_t hole = (size_t)(e - table);
  table[hole].key = NULL;
  table[hole].chain = NULL;
  used--;
  for (size_t i = (hole + 1) & (cap - 1); table[i].key; i = (i + 1) & (cap - 1)) {
    size_t h = home(table[i].key);
    /* Movable iff its home is not in the cyclic interval (hole, i]. */
    bool in_between = hole < i ? (h > hole && h <= i) : (h > hole || h <= i);
    if (in_between) continue;
    table[hole] = table[i];
    table[i].key = NULL;
    table[i].chain = NULL;
    hole = i;
  }
}

static void clear_flag(struct gcl_object *o) {
  __atomic_fetch_and(&o->gcl_type_word, ~(uintptr_t)GCL_OBJ_WEAKREFD, __ATOMIC_RELAXED);
}

struct gcl_weakref *gcl_weakref_new(struct gcl_mutator *m, struct gcl_object *obj,
                                    gcl_weakref_callback callback, void *ctx) {
  (void)m;
  GCL_ASSERT_ALWAYS(obj != NULL);
  /* A handle may reach other threads: obj escapes (rc-gen's barrier, core/mutator.h). */
  if (GCL_COLLECTOR_ON_STORE) gcl_collector_on_share(&m->collector, obj);
  struct gcl_weakref *w = malloc(sizeof *w);
  if (!w) gcl_alloc_failed(sizeof *w);
  *w = (struct gcl_weakref){obj, obj, callback, ctx, NULL, WR_LIVE, false};
  pthread_mutex_lock(&wr_lock);
  struct wr_entry *e = find_or_add(obj);
  w->next = e->chain;
  e->chain = w;
  gcl_obj_set_flag(obj, GCL_OBJ_WEAKREFD);
  gcl_rc_thread_publish(m, obj); /* brc: weakref_get may now race with its death */
  gcl_collector_weak_link(&w->referent, obj);
  pthread_mutex_unlock(&wr_lock);
  return w;
}

struct gcl_object *gcl_weakref_get(struct gcl_mutator *m, struct gcl_weakref *w) {
  pthread_mutex_lock(&wr_lock);
  struct gcl_object *o = gcl_collector_weak_read(&w->referent);
  /* A referent whose count already reached zero is dying on some thread's worklist: it is
   * dead to us. Its memory is safe to read: it is freed only after its handles are
   * cleared, which needs wr_lock. */
  if (o && gcl_rc_kind() != GCL_RC_NONE && !gcl_rc_thread_try_inc(m, o)) o = NULL;
  /* SATB (core/barrier.h): a referent read while marking becomes strongly reachable after
   * the snapshot was taken, so it joins the snapshot (the marker shades it). */
  if (o && gcl_barrier_kind() == GCL_BARRIER_SATB && gcl_marking_is_active()) gcl_barrier_satb_slow(m, o);
  pthread_mutex_unlock(&wr_lock);
  return o;
}

void gcl_weakref_free(struct gcl_mutator *m, struct gcl_weakref *w) {
  (void)m;
  if (!w) return;
  pthread_mutex_lock(&wr_lock);
  if (w->state == WR_PENDING) {
    w->free_requested = true;
    pthread_mutex_unlock(&wr_lock);
    return;
  }
  if (w->state == WR_LIVE) {
    gcl_collector_weak_unlink(&w->referent);
    struct wr_entry *e = find(w->key);
    GCL_ASSERT_ALWAYS(e != NULL);
    struct gcl_weakref **p = &e->chain;
    while (*p != w) p = &(*p)->next;
    *p = w->next;
    if (!e->chain) {
      clear_flag(w->key);
      remove_entry(e);
    }
  }
  pthread_mutex_unlock(&wr_lock);
  free(w);
}

size_t gcl_weakref_count(struct gcl_object *obj) {
  size_t n = 0;
  pthread_mutex_lock(&wr_lock);
  struct wr_entry *e = find(obj);
  for (struct gcl_weakref *w = e ? e->chain : NULL; w; w = w->next) n++;
  pthread_mutex_unlock(&wr_lock);
  return n;
}

void gcl_weakref_clear_deferred(struct gcl_object *obj, struct gcl_weakref_pending *p) {
  if (!(gcl_obj_flags(obj) & GCL_OBJ_WEAKREFD)) return;
  pthread_mutex_lock(&wr_lock);
  struct wr_entry *e = find(obj);
  if (e) {
    struct gcl_weakref *w = e->chain;
    clear_flag(obj);
    remove_entry(e);
    while (w) {
      struct gcl_weakref *next = w->next;
      gcl_collector_weak_unlink(&w->referent);
      w->referent = NULL;
      w->next = NULL;
      if (w->callback) {
        w->state = WR_PENDING;
        if (p->tail)
          p->tail->next = w;
        else
          p->head = w;
        p->tail = w;
      } else {
        w->state = WR_DONE;
      }
      w = next;
    }
  }
  pthread_mutex_unlock(&wr_lock);
}

void gcl_weakref_for_each_referent(void (*fn)(struct gcl_object *o, void *ctx), void *ctx) {
  pthread_mutex_lock(&wr_lock);
  for (size_t i = 0; i < cap; i++)
    if (table[i].key) fn(table[i].key, ctx);
  pthread_mutex_unlock(&wr_lock);
}

void gcl_weakref_run_callbacks(struct gcl_mutator *m, struct gcl_weakref_pending *p) {
  for (;;) {
    pthread_mutex_lock(&wr_lock);
    struct gcl_weakref *w = p->head;
    if (!w) {
      p->tail = NULL;
      pthread_mutex_unlock(&wr_lock);
      return;
    }
    p->head = w->next;
    if (!p->head) p->tail = NULL;
    w->next = NULL;
    if (w->free_requested) {
      pthread_mutex_unlock(&wr_lock);
      free(w);
      continue;
    }
    /* From here the handle belongs to its owner again: the callback may free it. */
    w->state = WR_DONE;
    gcl_weakref_callback cb = w->callback;
    void *ctx = w->ctx;
    pthread_mutex_unlock(&wr_lock);
    cb(m, w, ctx);
  }
}

void gcl_weakref_clear(struct gcl_mutator *m, struct gcl_object *obj) {
  struct gcl_weakref_pending p = {NULL, NULL};
  gcl_weakref_clear_deferred(obj, &p);
  gcl_weakref_run_callbacks(m, &p);
}
