/* SPDX-License-Identifier: MIT */
/* tests/unit/cmark-test.h — what cmark's unit tests share (test-cmark.c, test-cmark-pace.c):
 * a one-reference cell type, cmark's options by index, a heap init in stw or (with
 * CMARK_TEST_CONCURRENT=1) concurrent mode with 2 markers, an oom handler that ends the
 * process with status 3, and a list that keeps `keep` cells live while allocating.
 * Macros: CMARK_TEST_CONCURRENT (0 unless the including test's target sets it). */
#ifndef GCL_TEST_CMARK_TEST_H
#define GCL_TEST_CMARK_TEST_H

#include <criterion/criterion.h>
#include <unistd.h>

#include "../../collectors/cmark/cmark-internal.h"
#include "collector.h"
#include "typed-option.h"

struct cell {
  struct gcl_object header; /* common header */
  struct gcl_object *ref;   /* another cell or NULL */
  uint64_t val;             /* payload */
};
#define CELL(o) ((struct cell *)(o))

static const struct gcl_type cell_type = {
    .name = "cmark-cell", .size = sizeof(struct cell), .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct cell, ref), .nrefs = 1};

/* The cmark options by name (declaration order of collectors/cmark/cmark.c). */
enum { O_MODE, O_MARKERS, O_TRIGGER, O_LIMIT, O_GROW, O_MIN_HEAP, O_SWEEP_CHUNK, O_SWEEP_ASSIST };
static int64_t test_sweep_chunk; /* cmark.sweep_chunk for the next init_cmark (0: default) */
static bool test_no_sweep_assist; /* cmark.sweep_assist=off for the next init_cmark */

/* CMARK_TEST_CONCURRENT=1 (unit/cmark-concurrent, on segment): every test in
 * cmark.mode=concurrent with 2 markers, plus the concurrent lost-object race below. */
#ifndef CMARK_TEST_CONCURRENT
#define CMARK_TEST_CONCURRENT 0
#endif

static inline void init_cmark(unsigned threads, uint64_t min_heap, uint64_t limit) {
  static union gcl_opt_value v[GCL_MODULE_MAX_OPTS];
  gcl_module_defaults(&gcl_collector_module, v);
  if (CMARK_TEST_CONCURRENT) {
    v[O_MODE].e = CMARK_MODE_CONCURRENT;
    v[O_MARKERS].i = 2;
  }
  v[O_MIN_HEAP].u = min_heap;
  v[O_GROW].d = 1.1;
  v[O_LIMIT].u = limit;
  /* Concurrent: small sweep chunks, so tiny heaps sweep in many chunks (a handshake and
   * frees between walks of pages) and the stress runs exercise that race too. */
  if (CMARK_TEST_CONCURRENT) v[O_SWEEP_CHUNK].i = 64;
  if (test_sweep_chunk) v[O_SWEEP_CHUNK].i = test_sweep_chunk;
  if (test_no_sweep_assist) v[O_SWEEP_ASSIST].b = false;
  struct gcl_heap_config cfg = {.threads = threads, .collector_opts = v};
  cr_assert_eq(gcl_heap_init_with(&cfg), 0);
}

static inline struct gcl_object *new_cell(struct gcl_mutator *m, uint64_t val) {
  struct gcl_object *o = gcl_new(m, &cell_type);
  CELL(o)->val = val;
  return o;
}

static inline void oom_exit(int64_t live, int64_t limit) {
  (void)live, (void)limit;
  _exit(3);
}

/* Keep `keep` cells live in a list while allocating `total` cells. */
static inline void list_run(struct gcl_mutator *m, unsigned keep, unsigned total) {
  struct gcl_object *head = NULL, *n = NULL;
  GCL_FRAME(m, f, &head, &n);
  for (unsigned i = 0; i < total; i++) {
    n = new_cell(m, i);
    if (i % (total / keep) == 0) {
      gcl_store(m, n, &CELL(n)->ref, head);
      head = n;
    }
    gcl_safepoint(m);
  }
  GCL_FRAME_POP(m, f);
}

#endif
