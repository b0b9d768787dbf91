/* SPDX-License-Identifier: MIT */
/* collectors/cmark/cmark-verify.c — the termination check of GCL_VERIFY builds: with the
 * world stopped after marking, trace from the roots (every thread's root frames, the
 * global roots, the finalize list) independently of the marker, with a set of its own,
 * and abort naming the first reachable object that is not marked. Together with the
 * sweep's rule (it frees only unmarked objects) this is "the sweep frees only unreachable
 * objects"; core's oracle (core/verify.h) checks the same from the other side.
 *
 * Compiled into every cmark library; does its work only when GCL_VERIFY is 1. */
#include <stdio.h>
#include <stdlib.h>

#include "cmark-internal.h"
#include "ptrset.h"

struct vctx {
  struct gcl_ptrset seen;   /* objects reached */
  struct cmark_stack todo;  /* reached, slots not yet visited */
};

static void reach(struct gcl_object **slot, void *ctx) {
  struct vctx *v = ctx;
  struct gcl_object *o = *slot;
  if (o && gcl_ptrset_add(&v->seen, o)) cmark_stack_push(&v->todo, o);
}

static void reach_thread(struct gcl_mutator *t, void *ctx) { gcl_visit_roots(t, reach, ctx); }

void cmark_verify_marked(void) {
  if (!GCL_VERIFY) return;
  struct vctx v = {0};
  gcl_ptrset_init(&v.seen);
  gcl_for_each_mutator(reach_thread, &v);
  gcl_visit_global_roots(reach, &v);
  for (size_t i = 0; i < gcl_cmark.finalize.n; i++) reach(&gcl_cmark.finalize.a[i], &v);
  /* Loop invariant: every object in seen is on todo or has had its slots reached. */
  while (v.todo.n > 0) {
    struct gcl_object *o = v.todo.a[--v.todo.n];
    if (!cmark_is_marked(o)) {
      fprintf(stderr, "cmark verifier: reachable %s object %p is not marked at termination\n",
              gcl_type_of(o)->name, (void *)o);
      abort();
    }
    gcl_trace(o, reach, &v);
  }
  __atomic_fetch_add(&gcl_cmark.fig.verified, v.seen.count, __ATOMIC_RELAXED);
  gcl_ptrset_destroy(&v.seen);
  free(v.todo.a);
}
