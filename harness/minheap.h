/* SPDX-License-Identifier: MIT */
/* harness/minheap.h — heap size as an axis: the --heap and --heap-factor values, the
 * minimum-heap cache, and `gclab minheap` (harness/minheap-cmd.c), which fills it.
 *
 * The minimum heap of a cell is the smallest heap limit (--heap, live object bytes with
 * headers as the collector accounts them) under which the cell's runner ends `ok`; a run
 * that ends `oom` or `timeout` (thrashing) does not fit. It is one figure per reference
 * collector, allocator, their options, workload, params, threads, scale and build (a hash
 * of the reference runner's binary), cached as one row of a CSV file (default
 * GCL_MINHEAP_CACHE; columns in minheap.c). A --heap-factor F cell of `gclab run` gets the
 * limit ceil(F x the cached minimum of its workload, params, threads and scale under the
 * reference collector on the cell's allocator); a missing entry is bad input (exit 2)
 * naming the `gclab minheap` command that measures it: a run never starts a bisection on
 * its own, so its timings are never mixed with minheap's.
 *
 * Invariant: the cache is rewritten whole through gcl_file_write_atomic; a bad cache file
 * is refused with one line, never overwritten. */
#ifndef GCL_MINHEAP_H
#define GCL_MINHEAP_H

#include <stdint.h>

#include "run.h"

#define GCL_MINHEAP_CACHE GCL_DEFAULT_OUT_DIR "/minheap.csv"
#define GCL_HEAP_REF_DEFAULT "cmark"           /* the reference collector by default */
#define GCL_HEAP_REF_DEFAULT_OPT "cmark.mode=stw" /* and its option, when it is cmark */

/* What a minimum heap is keyed by (every field text as in the run CSV). */
struct gcl_minheap_key {
  const char *collector, *allocator; /* the reference pair */
  const char *options;               /* its options column ("M.k=v;...", "" none) */
  const char *workload, *params;     /* the workload and its params column */
  const char *threads, *scale;       /* canonical text */
  char build[17];                    /* FNV-1a 64 of the runner binary, hex */
};

/* --heap items to canonical byte counts (core/typed-option.c's SIZE rule, > 0) and
 * --heap-factor items to canonical numbers in (0, 1000]; duplicates refused. 0 or 2. */
int gcl_heap_axes_canon(struct gcl_axis *heaps, struct gcl_axis *factors);
/* The build id of a runner binary; 0, or -1 with errno. */
int gcl_build_id(const char *runner, char out[17]);
/* The cached minimum of k: 1 found (*bytes set), 0 none, 2 the cache is bad (one line). */
int gcl_minheap_lookup(const char *path, const struct gcl_minheap_key *k, uint64_t *bytes);
/* Store (replace) k's minimum; 0, or 2 after one line. */
int gcl_minheap_store(const char *path, const struct gcl_minheap_key *k, uint64_t bytes,
                      double precision, unsigned runs);
/* The options column of the reference pair from --heap-ref-opt texts (canonical, the
 * collector's options then the allocator's, each in declaration order); 0 or 2. */
int gcl_heap_ref_options(const struct gcl_catalog *cat, const char *collector, const char *allocator,
                         const struct gcl_axis *raw, struct gcl_buf *col);
/* Set x->heap_bytes from its heap item: an absolute --heap, a factor through the cache
 * (a missing entry is one line and 2), or 0 (no limit). */
int gcl_heap_cell(const struct gcl_run_opts *o, const struct gcl_matrix *m, struct gcl_run_cell *x);

int gcl_cmd_minheap(int argc, char **argv);

#endif
