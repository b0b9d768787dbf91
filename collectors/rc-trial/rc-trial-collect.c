/* SPDX-License-Identifier: MIT */
/* collectors/rc-trial/rc-trial-collect.c — one synchronous trial-deletion collection
 * (Bacon & Rajan 2001, section 3, the synchronous algorithm), with the world stopped. Our
 * own code; the algorithm and its invariants are the paper's, restated where the loops are.
 *
 *  MarkRoots    each drained candidate is unbuffered; one whose count is zero is dying on
 *               some thread's dealloc worklist and is left to it; the others are roots.
 *  MarkGray     from each root: colour gray, and subtract every reference from a gray object
 *               to a container (trial deletion of the internal references).
 *  Scan         a gray object whose count is still above zero is referenced from outside:
 *               ScanBlack restores the counts of everything it reaches (colour black);
 *               the rest is coloured white.
 *  CollectWhite the white objects, gathered from the roots, are garbage.
 * Non-containers (the paper's green objects) are neither coloured nor traversed nor counted:
 * a reference to a container from a non-container is an outside reference.
 * All three walks use explicit stacks (a million-node ring needs no C stack).
 *
 * Freeing the garbage. The counts of white objects are deflated by the internal references
 * (the paper frees them as they are). Without finalizers or weak references (the common
 * case) that is what happens: each garbage object's memory is freed directly, and only its
 * references to non-containers (which MarkGray did not subtract) are released, after every
 * garbage object is gone. Otherwise, as rc-gen: the counts are restored, every garbage
 * object is held by a temporary reference, its weak references are cleared (callbacks after
 * all are cleared), finalizers run once (PEP 442, GCL_OBJ_FINALIZED); if any ran, the trial
 * is redone from the garbage, so whatever a finalizer resurrected (and all it reaches)
 * survives; weak references finalizers created to what is still garbage are cleared; then
 * each garbage object's slots are cleared with a release (tp_clear) and the temporary
 * reference dropped, and RC frees the cycles. Finalizers and callbacks run with the world
 * stopped: the rules of rc-gen's README apply (no safepoint, no blocking).
 *
 * Events: phase "mark" (MarkRoots to CollectWhite) ending with HEAP_TRACED; phase "free"
 * when there is garbage; LIVE_DATA. The stop around it is world.c's. */
#include <stdlib.h>

#include "event.h"
#include "rc-trial-internal.h"
#include "stats.h"
#include "weakref.h"

enum { BLACK = 0, GRAY = 1, WHITE = 2, MARKED = 3 /* in a garbage set (resurrection count) */ };

/* A growable stack of objects. */
struct vec {
  struct gcl_object **v; /* items */
  size_t n, cap;         /* in use, allocated */
};

/* One collection's state. */
struct trial {
  struct gcl_mutator *m; /* the collecting thread */
  struct vec work;       /* MarkGray's, Scan's and CollectWhite's stack */
  struct vec black;      /* ScanBlack's stack (it runs inside Scan's loop) */
  struct vec garbage;    /* what CollectWhite gathers */
  struct vec leaves;     /* fast path: non-container children of garbage, released last */
  uint64_t traversed;    /* objects coloured gray */
};

static void vec_push(struct vec *s, struct gcl_object *o) {
  if (GCL_UNLIKELY(s->n == s->cap)) {
    size_t cap = s->cap ? 2 * s->cap : 1024;
    struct gcl_object **v = realloc(s->v, cap * sizeof *v);
    if (!v) gcl_alloc_failed(cap * sizeof *v);
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n++] = o;
}

static inline uintptr_t *word(struct gcl_object *o) { return gcl_rctrial_word(o); }
static inline unsigned colour(struct gcl_object *o) {
  return (unsigned)(__atomic_load_n(word(o), __ATOMIC_RELAXED) & GCL_RCTRIAL_COLOUR);
}
/* The entry bits are kept: a finalizer may have buffered the object meanwhile. */
static inline void set_colour(struct gcl_object *o, unsigned c) {
  uintptr_t w = __atomic_load_n(word(o), __ATOMIC_RELAXED);
  __atomic_store_n(word(o), (w & ~GCL_RCTRIAL_COLOUR) | c, __ATOMIC_RELAXED);
}
static inline uintptr_t count(struct gcl_object *o) { return gcl_rc_count(o, gcl_rc_kind()); }
/* Counts change with the world stopped only: no other thread reads or writes them now. */
static inline void count_add(struct gcl_object *o, intptr_t d) {
  __atomic_store_n(&o->gcl_word, count(o) + (uintptr_t)d, __ATOMIC_RELAXED);
}
static inline bool container(struct gcl_object *o) {
  return gcl_type_of(o)->flags & GCL_TYPE_CONTAINER;
}

/* --- the walks: what each does to one child ------------------------------------------ */

enum phase { P_GRAY, P_SCAN, P_BLACK, P_WHITE, P_RESTORE, P_LEAVES };

static inline void child(struct trial *t, enum phase p, struct gcl_object *c) {
  if (!container(c)) {
    if (p == P_LEAVES) vec_push(&t->leaves, c);
    return;
  }
  switch (p) {
  case P_GRAY:
    /* More internal references than the count says: the count is broken. */
    GCL_ASSERT_ALWAYS(count(c) > 0);
    count_add(c, -1);
    if (colour(c) != GRAY) {
      set_colour(c, GRAY);
      t->traversed++;
      vec_push(&t->work, c);
    }
    break;
  case P_SCAN: vec_push(&t->work, c); break;
  case P_BLACK:
    count_add(c, 1);
    if (colour(c) != BLACK) {
      set_colour(c, BLACK);
      vec_push(&t->black, c);
    }
    break;
  case P_WHITE:
    if (colour(c) == WHITE) {
      set_colour(c, BLACK);
      vec_push(&t->garbage, c);
      vec_push(&t->work, c);
    }
    break;
  case P_RESTORE: count_add(c, 1); break;
  case P_LEAVES: break;
  }
}

/* The trace hook's path (types whose references are not in a simple range). */
struct hook_ctx {
  struct trial *t; /* the collection */
  enum phase p;    /* what to do */
};
static void visit_hook(struct gcl_object **slot, void *ctx) {
  struct hook_ctx *h = ctx;
  struct gcl_object *c = __atomic_load_n(slot, __ATOMIC_RELAXED);
  if (c) child(h->t, h->p, c);
}

/* Apply phase p to every child of o; simple layouts without an indirect call. */
static inline void each_child(struct trial *t, enum phase p, struct gcl_object *o) {
  const struct gcl_type *ty = gcl_type_of(o);
  struct gcl_object **s;
  size_t n = gcl_ref_range(o, ty, &s);
  if (n) {
    for (size_t i = 0; i < n; i++) {
      struct gcl_object *c = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
      if (c) child(t, p, c);
    }
  } else if (ty->trace) {
    struct hook_ctx h = {t, p};
    ty->trace(o, visit_hook, &h);
  }
}

/* --- MarkGray, Scan, ScanBlack, CollectWhite ------------------------------------------ */

static void mark_gray(struct trial *t, struct gcl_object *root) {
  if (colour(root) == GRAY) return;
  set_colour(root, GRAY);
  t->traversed++;
  vec_push(&t->work, root);
  /* Loop invariant: every gray object on the stack has not had its references subtracted
   * yet; every other gray object has had each of its references subtracted exactly once. */
  while (t->work.n > 0) each_child(t, P_GRAY, t->work.v[--t->work.n]);
}

static void scan_black(struct trial *t, struct gcl_object *s) {
  set_colour(s, BLACK);
  vec_push(&t->black, s);
  /* Loop invariant: every object on the stack is black and its children's counts are not
   * restored yet; a black object off the stack has had all of them restored once. */
  while (t->black.n > 0) each_child(t, P_BLACK, t->black.v[--t->black.n]);
}

static void scan(struct trial *t, struct gcl_object *root) {
  vec_push(&t->work, root);
  /* Loop invariant: each object on the stack is still to be decided if gray; objects
   * decided white have their children on the stack or already decided. */
  while (t->work.n > 0) {
    struct gcl_object *s = t->work.v[--t->work.n];
    if (colour(s) != GRAY) continue;
    if (count(s) > 0) {
      scan_black(t, s);
    } else {
      set_colour(s, WHITE);
      each_child(t, P_SCAN, s);
    }
  }
}

static void collect_white(struct trial *t, struct gcl_object *root) {
  if (colour(root) != WHITE) return;
  set_colour(root, BLACK);
  vec_push(&t->garbage, root);
  vec_push(&t->work, root);
  /* Loop invariant: every white object reachable from an object taken off the stack is
   * in `garbage` (now black) or on the stack. */
  while (t->work.n > 0) each_child(t, P_WHITE, t->work.v[--t->work.n]);
}

/* MarkGray, Scan and CollectWhite from roots[0..n): afterwards t->garbage holds the white
 * set (recoloured black) and every colour is black. */
static void trial_delete(struct trial *t, struct gcl_object **roots, size_t n) {
  t->garbage.n = 0;
  for (size_t i = 0; i < n; i++) mark_gray(t, roots[i]);
  for (size_t i = 0; i < n; i++) scan(t, roots[i]);
  for (size_t i = 0; i < n; i++) collect_white(t, roots[i]);
}

/* MarkRoots: drain the chunks into `roots` (unbuffering every candidate) and free them. */
static uint64_t mark_roots(struct gcl_rctrial_chunk *chunks, struct vec *roots) {
  uint64_t drained = 0;
  while (chunks) {
    struct gcl_rctrial_chunk *c = chunks;
    chunks = c->next;
    for (unsigned i = 0; i < c->n; i++) {
      struct gcl_object *o = __atomic_load_n(&c->slot[i], __ATOMIC_RELAXED);
      if (!o) continue; /* freed by RC after it was buffered */
      GCL_ASSERT((__atomic_load_n(word(o), __ATOMIC_RELAXED) & ~GCL_RCTRIAL_COLOUR) ==
                 (uintptr_t)&c->slot[i]);
      __atomic_store_n(word(o), 0, __ATOMIC_RELAXED);
      drained++;
      if (count(o) > 0) vec_push(roots, o); /* zero: dying on a worklist, its thread's */
    }
    free(c);
  }
  return drained;
}

/* --- freeing ------------------------------------------------------------------------- */

/* The common case: no garbage object has a finalizer to run or weak references. */
static bool needs_slow_path(struct vec *g) {
  for (size_t i = 0; i < g->n; i++) {
    struct gcl_object *o = g->v[i];
    unsigned f = gcl_obj_flags(o);
    if ((f & GCL_OBJ_WEAKREFD) || (gcl_type_of(o)->finalize && !(f & GCL_OBJ_FINALIZED)))
      return true;
  }
  return false;
}

/* The paper's CollectWhite: free each garbage object as it is (its references to
 * containers were subtracted by MarkGray); release its references to non-containers only
 * once every garbage object is gone, so their deaths (finalizers) see no half-freed set. */
static void free_fast(struct trial *t) {
  struct vec *g = &t->garbage;
  for (size_t i = 0; i < g->n; i++) each_child(t, P_LEAVES, g->v[i]);
  for (size_t i = 0; i < g->n; i++) gcl_free_object(t->m, g->v[i]);
  for (size_t i = 0; i < t->leaves.n; i++) gcl_release(t->m, t->leaves.v[i]);
  t->leaves.n = 0;
}

static void clear_weakrefs(struct gcl_mutator *m, struct vec *g) {
  struct gcl_weakref_pending wp = {NULL, NULL};
  for (size_t i = 0; i < g->n; i++) gcl_weakref_clear_deferred(g->v[i], &wp);
  gcl_weakref_run_callbacks(m, &wp);
}

static void restore_and_hold(struct trial *t) {
  struct vec *g = &t->garbage;
  for (size_t i = 0; i < g->n; i++) each_child(t, P_RESTORE, g->v[i]);
  for (size_t i = 0; i < g->n; i++) count_add(g->v[i], 1);
}

static void visit_clear(struct gcl_object **slot, void *ctx) {
  struct gcl_object *old = __atomic_load_n(slot, __ATOMIC_RELAXED);
  if (!old) return;
  __atomic_store_n(slot, NULL, __ATOMIC_RELEASE);
  gcl_release(ctx, old);
}

/* Garbage with finalizers or weak references: as rc-gen (file comment). */
static void free_slow(struct trial *t, struct gcl_rctrial_pass *p) {
  struct gcl_mutator *m = t->m;
  restore_and_hold(t);
  clear_weakrefs(m, &t->garbage);
  uint64_t ran = 0;
  for (size_t i = 0; i < t->garbage.n; i++) {
    struct gcl_object *o = t->garbage.v[i];
    const struct gcl_type *ty = gcl_type_of(o);
    if (ty->finalize && !(gcl_obj_flags(o) & GCL_OBJ_FINALIZED)) {
      gcl_obj_set_flag(o, GCL_OBJ_FINALIZED);
      ty->finalize(m, o); /* the temporary reference keeps o alive */
      ran++;
    }
  }
  p->finalizers = ran;
  if (ran > 0) {
    /* Redo the trial from the old garbage, without the temporary references. */
    struct vec old = t->garbage;
    t->garbage = (struct vec){NULL, 0, 0};
    for (size_t i = 0; i < old.n; i++) count_add(old.v[i], -1);
    trial_delete(t, old.v, old.n);
    for (size_t i = 0; i < t->garbage.n; i++) set_colour(t->garbage.v[i], MARKED);
    uint64_t still = 0;
    for (size_t i = 0; i < old.n; i++) still += colour(old.v[i]) == MARKED;
    for (size_t i = 0; i < t->garbage.n; i++) set_colour(t->garbage.v[i], BLACK);
    p->resurrected = old.n - still;
    free(old.v);
    restore_and_hold(t);
    clear_weakrefs(m, &t->garbage); /* weak references finalizers made to garbage */
  }
  /* tp_clear under the temporary references, then drop them: RC frees the garbage. */
  for (size_t i = 0; i < t->garbage.n; i++) gcl_trace(t->garbage.v[i], visit_clear, m);
  for (size_t i = 0; i < t->garbage.n; i++) gcl_release(m, t->garbage.v[i]);
}

/* --- one collection ------------------------------------------------------------------ */

void gcl_rctrial_collect(struct gcl_mutator *m, struct gcl_rctrial_chunk *chunks,
                         struct gcl_rctrial_pass *out) {
  struct gcl_rctrial_pass p = {0, 0, 0, 0, 0, 0};
  struct trial t = {m, {NULL, 0, 0}, {NULL, 0, 0}, {NULL, 0, 0}, {NULL, 0, 0}, 0};
  struct vec roots = {NULL, 0, 0};
  gcl_event_phase_start("mark");
  p.drained = mark_roots(chunks, &roots);
  p.roots = roots.n;
  trial_delete(&t, roots.v, roots.n);
  p.traversed = t.traversed;
  free(roots.v);
  gcl_event_heap_traced();
  gcl_event_phase_end("mark");
  p.freed = t.garbage.n;
  if (t.garbage.n > 0) {
    gcl_event_phase_start("free");
    if (needs_slow_path(&t.garbage)) {
      free_slow(&t, &p);
      p.freed = t.garbage.n;
    } else {
      free_fast(&t);
    }
    gcl_event_phase_end("free");
  }
  gcl_heap_bytes_flush(m); /* our own frees count in the live data */
  gcl_event_live_data((uint64_t)gcl_stats_live_bytes());
  free(t.work.v);
  free(t.black.v);
  free(t.garbage.v);
  free(t.leaves.v);
  *out = p;
}
