/* SPDX-License-Identifier: MIT */
/* harness/matrix-file.h — the YAML matrix file of `gclab run --matrix FILE` (libyaml).
 *
 *   name: gc-vs-alloc              # a label, echoed by --dry-run
 *   collectors: [rc, rc-plain]     # each axis: a sequence or one scalar
 *   allocators: [sys, pool]
 *   workloads: [binary-trees, churn]
 *   threads: [1, 2]
 *   placement: [none, compact]
 *   gil: [false, true]             # GIL mode (also off/on)
 *   freelists: [false, true]       # per-type free lists (the runner's --freelists)
 *   repeat: 5                      # scalars: repeat scale seed timeout iterations
 *   scale: 0.1
 *   params:                        # workload parameters: one value or a list (an axis)
 *     binary-trees: {depth: [12, 14]}  # ... for one workload
 *     live: 1000                   # ... or for every selected workload that has it
 *   rc-gen: {threshold0: [700, 2000]}  # a module's options (any other key with a mapping)
 *   timeouts: {binary-trees: 60}   # per-workload timeout (seconds), over `timeout`
 *
 * Keys may be written as the flags are (collector, allocator, workload, thread, placements,
 * param: the other number of the word), but a file that gives both spellings of one key is
 * refused. `timeout` (seconds) and `timeouts` (per workload) are two different keys.
 * A list value of params or options is stored joined by commas ("12,14"): an item that
 * holds a comma itself is refused.
 *
 * The reader checks only the shape (known keys, no duplicate key in any mapping, scalars
 * where scalars belong, at least one key, at most GCL_MF_MAX_BYTES and GCL_MF_MAX_DEPTH
 * levels of nesting, no anchors or aliases); names and numbers are checked by `gclab run`
 * like flags, and every item keeps its line so a bad value is reported as FILE:LINE.
 * Nothing here exits or prints. */
#ifndef GCL_MATRIX_FILE_H
#define GCL_MATRIX_FILE_H

#include <stdbool.h>
#include <stddef.h>

#define GCL_MF_MAX_BYTES (1 << 20) /* a matrix file is a few hundred bytes */
#define GCL_MF_MAX_DEPTH 8         /* nesting levels; a valid file needs 4 */

struct gcl_mf_value {
  char *text;    /* the scalar, NULL when the key is absent */
  unsigned line; /* 1-based line of the scalar */
};

struct gcl_mf_list {
  struct gcl_mf_value *v; /* items in file order */
  unsigned n;             /* how many */
  bool set;               /* the key is present */
};

struct gcl_mf_param {
  char *workload;       /* the workload (params) or module (opts) it is for; NULL: any */
  char *name;           /* parameter or option name */
  char *value;          /* its value as written; a list joined by commas */
  unsigned line;        /* line of the value */
};

struct gcl_matrix_file {
  struct gcl_mf_value name;                                          /* name: */
  struct gcl_mf_list collectors, allocators, workloads, threads, placement; /* axes */
  struct gcl_mf_list heap, heap_factor;                              /* heap axes */
  struct gcl_mf_value heap_ref;                                      /* heap_ref: */
  struct gcl_mf_list gil;                                            /* gil: [false, true] */
  struct gcl_mf_list freelists;                                      /* freelists: [false, true] */
  struct gcl_mf_value repeat, scale, seed, timeout, iterations;      /* scalars */
  struct gcl_mf_param *params;                                       /* params: */
  unsigned nparams;
  struct gcl_mf_param *timeouts; /* timeouts: (name unused, value = seconds) */
  unsigned ntimeouts;
  struct gcl_mf_param *opts;     /* MODULE: {option: value} (workload = the module) */
  unsigned nopts;
};

/* Parse `len` bytes of YAML. Returns 0, or -1 with "PATH:LINE: what" in err. The file is
 * one mapping of at least one key: an empty document (or {}) is refused, since running
 * the whole default matrix is never what an empty file meant. */
int gcl_matrix_parse(const char *path, const char *text, size_t len, struct gcl_matrix_file *mf,
                     char *err, size_t err_len);
void gcl_matrix_free(struct gcl_matrix_file *mf);

#endif
