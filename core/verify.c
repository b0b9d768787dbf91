/* SPDX-License-Identifier: MIT */
/* core/verify.c — see verify.h. Compiled only into GCL_VERIFY builds. */
#include "verify.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mutator.h"
#include "ptrset.h"

static pthread_mutex_t verify_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gcl_ptrset live;        /* objects allocated and not freed */
static struct gcl_ptrset quarantine;  /* freed objects whose memory is held back */
static struct gcl_ptrset parked;      /* freed objects on a free list (core/freelist.h) */
/* What to give back when the quarantine is released. The verifier never writes into a freed
 * object: a shared one may still be read optimistically (gcl_load_strong) until the world
 * stops, and must keep looking dead to such a reader. */
static struct held {
  void *obj;    /* the object pointer */
  size_t bytes; /* its size, prefix included */
} *held;
static size_t nheld, held_cap;
static bool initialised;
static uint64_t errors;
static char first_error[256];

static void ensure_init(void) {
  if (!initialised) {
    gcl_ptrset_init(&live);
    gcl_ptrset_init(&quarantine);
    gcl_ptrset_init(&parked);
    initialised = true;
  }
}

static void report_error(const char *fmt, ...) {
  if (errors++ == 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(first_error, sizeof first_error, fmt, ap);
    va_end(ap);
    fprintf(stderr, "gclab verifier: %s\n", first_error);
  }
}

void gcl_verify_on_alloc(struct gcl_object *o) {
  pthread_mutex_lock(&verify_lock);
  ensure_init();
  gcl_ptrset_remove(&quarantine, o); /* cannot be there: quarantined memory is not reused */
  if (!gcl_ptrset_add(&live, o)) report_error("object %p allocated twice", (void *)o);
  pthread_mutex_unlock(&verify_lock);
}

void gcl_verify_on_free(struct gcl_object *o) {
  pthread_mutex_lock(&verify_lock);
  ensure_init();
  if (!gcl_ptrset_remove(&live, o)) {
    report_error("%s %p freed again or never allocated",
                 gcl_ptrset_contains(&quarantine, o) ? "freed object"
                 : gcl_ptrset_contains(&parked, o) ? "object on a free list" : "unknown object",
                 (void *)o);
  } else {
    if (nheld == held_cap) {
      held_cap = held_cap ? 2 * held_cap : 1024;
      held = realloc(held, held_cap * sizeof *held);
      if (!held) gcl_alloc_failed(held_cap * sizeof *held);
    }
    held[nheld].obj = o;
    held[nheld].bytes = GCL_COLLECTOR_PREFIX_SIZE + gcl_object_size(o);
    nheld++;
    gcl_ptrset_add(&quarantine, o);
  }
  pthread_mutex_unlock(&verify_lock);
}

/* An object dies onto a free list: it must be live (else a double free), and it is dead
 * (parked) from now on, its memory neither quarantined nor given back. Returns false for
 * an object that is not live (freed twice): it must not be parked (a list holding it twice
 * would loop), and the caller's usual free path reports it. */
bool gcl_verify_on_freelist_push(struct gcl_object *o) {
  pthread_mutex_lock(&verify_lock);
  ensure_init();
  bool ok = gcl_ptrset_remove(&live, o);
  if (ok) gcl_ptrset_add(&parked, o);
  pthread_mutex_unlock(&verify_lock);
  return ok;
}

/* A free list hands o out for a new object: it must be one the list took, and not live. */
void gcl_verify_on_freelist_pop(struct gcl_object *o) {
  pthread_mutex_lock(&verify_lock);
  ensure_init();
  if (gcl_ptrset_contains(&live, o))
    report_error("a free list handed out live object %p", (void *)o);
  else if (!gcl_ptrset_remove(&parked, o))
    report_error("a free list handed out %p, which it never took", (void *)o);
  pthread_mutex_unlock(&verify_lock);
}

/* A parked object's memory goes back to the allocator (its thread detached). */
void gcl_verify_on_freelist_release(struct gcl_object *o) {
  pthread_mutex_lock(&verify_lock);
  ensure_init();
  if (!gcl_ptrset_remove(&parked, o))
    report_error("free list gave back %p, which it never took", (void *)o);
  pthread_mutex_unlock(&verify_lock);
}

uint64_t gcl_verify_parked(void) {
  pthread_mutex_lock(&verify_lock);
  uint64_t n = initialised ? parked.count : 0;
  pthread_mutex_unlock(&verify_lock);
  return n;
}

struct trace_state {
  struct gcl_ptrset seen;      /* reachable objects found */
  struct gcl_object **stack;   /* gray objects */
  size_t top, cap;
};

static void visit(struct gcl_object **slot, void *ctx) {
  struct trace_state *ts = ctx;
  struct gcl_object *o = *slot;
  if (!o) return;
  if (!gcl_ptrset_contains(&live, o)) {
    if (gcl_ptrset_contains(&quarantine, o))
      report_error("reachable object %p was freed", (void *)o);
    else if (gcl_ptrset_contains(&parked, o))
      report_error("reachable object %p was freed onto a free list", (void *)o);
    else
      report_error("slot %p points to %p, which is not an object", (void *)slot, (void *)o);
    return;
  }
  if (!gcl_ptrset_add(&ts->seen, o)) return;
  if (ts->top == ts->cap) {
    ts->cap = ts->cap ? 2 * ts->cap : 1024;
    ts->stack = realloc(ts->stack, ts->cap * sizeof *ts->stack);
    if (!ts->stack) gcl_alloc_failed(ts->cap * sizeof *ts->stack);
  }
  ts->stack[ts->top++] = o;
}

static void visit_thread_roots(struct gcl_mutator *m, void *ctx) { gcl_visit_roots(m, visit, ctx); }

static void release_quarantine(void) {
  for (size_t i = 0; i < nheld; i++)
    gcl_allocator_free(NULL, (char *)held[i].obj - GCL_COLLECTOR_PREFIX_SIZE, held[i].bytes);
  nheld = 0;
  gcl_ptrset_destroy(&quarantine);
  gcl_ptrset_init(&quarantine);
}

void gcl_verify_heap(struct gcl_verify_result *out) {
  struct trace_state ts = {0};
  gcl_ptrset_init(&ts.seen);
  pthread_mutex_lock(&verify_lock);
  ensure_init();
  gcl_for_each_mutator(visit_thread_roots, &ts);
  gcl_visit_global_roots(visit, &ts);
  while (ts.top > 0) gcl_trace(ts.stack[--ts.top], visit, &ts);
  out->live = live.count;
  out->reachable = ts.seen.count;
  out->errors = errors;
  release_quarantine();
  pthread_mutex_unlock(&verify_lock);
  gcl_ptrset_destroy(&ts.seen);
  free(ts.stack);
}

/* --- the frame rule (core/mutator.h) -------------------------------------------------- */

static int ptr_cmp(const void *a, const void *b) {
  uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
  return x < y ? -1 : x > y;
}

/* Report a frame slot of m that names o, a dying object (count zero: d or on the
 * worklist), if the sorted frame objects fo[0..n) hold o. Under verify_lock. m->dying is
 * not checked: its finalizer runs on it revived (count one), and may frame it. */
static void check_dying(struct gcl_mutator *m, struct gcl_object **fo, size_t n, struct gcl_object *o) {
  if (o && bsearch(&o, fo, n, sizeof *fo, ptr_cmp))
    report_error("frame rule: a root frame of thread %u names dying object %p (count zero, "
                 "being freed): clear the framed local before releasing it (gcl_frame_release)",
                 m->index, (void *)o);
}

void gcl_verify_drain_frames(struct gcl_mutator *m, struct gcl_object *d) {
  struct gcl_object *small[64], **fo = small;
  size_t n = 0, cap = 64;
  /* Invariant: fo[0..n) are the non-NULL objects named by the frames walked so far. */
  for (struct gcl_frame *f = m->frames; f; f = f->prev)
    for (unsigned i = 0; i < f->count; i++) {
      struct gcl_object *o = *f->slots[i];
      if (!o) continue;
      if (n == cap) {
        struct gcl_object **g = malloc(2 * cap * sizeof *g);
        if (!g) gcl_alloc_failed(2 * cap * sizeof *g);
        memcpy(g, fo, n * sizeof *g);
        if (fo != small) free(fo);
        fo = g, cap *= 2;
      }
      fo[n++] = o;
    }
  if (n == 0) return;
  qsort(fo, n, sizeof *fo, ptr_cmp);
  pthread_mutex_lock(&verify_lock); /* report_error's state, the live set */
  ensure_init();
  for (size_t i = 0; i < n; i++)
    if (!gcl_ptrset_contains(&live, fo[i]))
      report_error("frame rule: a root frame of thread %u names %p, which was freed (or is not "
                   "an object) while a drain runs",
                   m->index, (void *)fo[i]);
  check_dying(m, fo, n, d);
  for (size_t i = 0; i < m->dealloc_top; i++) check_dying(m, fo, n, m->dealloc_stack[i]);
  pthread_mutex_unlock(&verify_lock);
  if (fo != small) free(fo);
}

void gcl_verify_checkpoint(struct gcl_mutator *m) {
  struct gcl_verify_result res;
  gcl_stop_the_world(m);
  gcl_verify_heap(&res);
  gcl_start_the_world(m);
}

uint64_t gcl_verify_errors(void) {
  pthread_mutex_lock(&verify_lock);
  uint64_t e = errors;
  pthread_mutex_unlock(&verify_lock);
  return e;
}

const char *gcl_verify_first_error(void) { return first_error; }

uint64_t gcl_verify_live(void) {
  pthread_mutex_lock(&verify_lock);
  uint64_t n = initialised ? live.count : 0;
  pthread_mutex_unlock(&verify_lock);
  return n;
}

void gcl_verify_reset(void) {
  pthread_mutex_lock(&verify_lock);
  if (initialised) {
    release_quarantine();
    gcl_ptrset_destroy(&live);
    gcl_ptrset_init(&live);
    gcl_ptrset_destroy(&parked);
    gcl_ptrset_init(&parked);
  }
  errors = 0;
  first_error[0] = 0;
  pthread_mutex_unlock(&verify_lock);
}

/* An error found by another part of the verifier (core/verify-fresh.c): counted and
 * reported as this file's own. */
void gcl_verify_report_error(const char *what) {
  pthread_mutex_lock(&verify_lock);
  report_error("%s", what);
  pthread_mutex_unlock(&verify_lock);
}
