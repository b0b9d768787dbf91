/* SPDX-License-Identifier: MIT */
/* harness/run.h — what the files of `gclab run` share (one job per file):
 *   run.c          the command: the order of work below, nothing else;
 *   run-args.c     the argument table, its parsing and the checks that need no catalog;
 *   run-matrix.c   the matrix file applied to the options, names checked against the
 *                  catalog, the selected workloads and their parameters;
 *   run-cells.c    the cell list (matrix order, --shard, --resume, --shuffle), --dry-run;
 *   run-exec.c     running the cells one by one, in child processes;
 *   run-row.c      the output file and its header, record -> row;
 *   run-events.c   the --events CSV and the --trace JSON;
 *   run-outputs.c  every output checked before anything is created; the one append;
 *   run-summary.c  the end-of-run table and the checksum comparison.
 *
 * Order of work, which the tests rely on:
 *  1. every option, name and value is validated, and every output (--out, --events,
 *     --trace: regular or new, none another output or an input) is checked; nothing is
 *     opened, created or started before all of it passed;
 *  2. the output file is opened; an existing one must carry exactly our header (a torn
 *     last row that --resume reported is cut off first);
 *  3. cells run in the order collector, allocator, workload, threads, gil, placement, rep (rep
 *     innermost); each row is built in memory and appended whole by gcl_append (one
 *     O_APPEND write; a short write is cut back), so an interrupted or killed gclab or a
 *     full disk leaves only complete rows;
 *  4. a summary table goes to stdout.
 * A stop signal (SIGINT, SIGTERM, SIGHUP) kills the running cell, writes no row for it and
 * exits 128 + the signal number.
 *
 * Invariant: a function that returns 2 has printed exactly one line (gcl_run_bad). */
#ifndef GCL_RUN_H
#define GCL_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "harness.h"
#include "placement.h"
#include "schema.h"

#define GCL_DEFAULT_OUT_DIR "results"
#define GCL_DEFAULT_OUT GCL_DEFAULT_OUT_DIR "/gclab.csv"
#define GCL_CELLS_MAX 1000000 /* more in one run is surely a typo */

/* A comma-list axis, in the order given. */
struct gcl_axis {
  char **v;     /* the names (or numbers as text) */
  char **where; /* "FILE:LINE" of each item from a matrix file, NULL for a flag */
  unsigned n;   /* how many */
};

/* The defaults of `gclab run` (and of `gclab slurm`, which expands the same matrix). */
#define GCL_RUN_OPTS_INIT                                                                    \
  {.repeat = 3, .scale = 1, .seed = 1, .timeout = 300, .iterations = 1, .out = GCL_DEFAULT_OUT}

/* A per-workload timeout from the matrix file. */
struct gcl_wl_timeout {
  char *workload; /* its name */
  double s;       /* seconds */
};

/* Everything `gclab run` was asked to do, validated. */
struct gcl_run_opts {
  struct gcl_axis collectors;  /* --collector */
  struct gcl_axis allocators;  /* --allocator */
  struct gcl_axis workloads;   /* --workload */
  struct gcl_axis threads;     /* --threads, canonical whole numbers as text */
  struct gcl_axis placement;   /* --placement, policy names */
  struct gcl_axis gil;         /* --gil, canonical "false"/"true" (core/GIL.md) */
  struct gcl_axis freelists;   /* --freelists, canonical "false"/"true" (core/freelist.h) */
  struct gcl_axis params;      /* every --param, raw (the matrix file's first) */
  struct gcl_axis opts;        /* every --opt, raw (the matrix file's first) */
  struct gcl_axis heaps;       /* --heap: absolute limits, canonical bytes as text */
  struct gcl_axis heap_factors; /* --heap-factor: multiples of the minimum heap, canonical */
  const char *heap_ref;        /* --heap-ref COLLECTOR: whose minimum heap factors multiply */
  struct gcl_axis heap_ref_opts; /* --heap-ref-opt M.N=V: its options (default cmark.mode=stw) */
  const char *minheap_cache;   /* --minheap-cache FILE (default results/minheap.csv) */
  double iterations;           /* --iterations: workload runs per process */
  const char *matrix;          /* --matrix FILE */
  char *name;                  /* the matrix file's name:, or NULL */
  struct gcl_wl_timeout *wl_timeouts; /* the matrix file's timeouts: */
  struct gcl_axis timeout_names;      /* their workload names, checked like --workload */
  unsigned nwl_timeouts;              /* how many */
  bool dry_run, resume;        /* --dry-run, --resume */
  unsigned shard_k, shard_n;   /* --shard K/N (0/0: all cells) */
  bool shuffle;                /* --shuffle[=seed] */
  uint64_t shuffle_seed;       /* its seed (default 1) */
  uint64_t seed;               /* --seed, of rep 0 (rep r uses seed + r; no wrapping) */
  const char *events;          /* --events FILE (CSV), or NULL */
  const char *trace;           /* --trace FILE (Chrome trace JSON), or NULL */
  const char *topology;        /* --topology (with --dry-run only) */
  double repeat;               /* --repeat */
  double scale;                /* --scale */
  double timeout;              /* --timeout, seconds per cell */
  const char *out;             /* --out */
  double slowdown;             /* --slowdown F: the runners' deliberate regression (0: none) */
  const char *slowdown_text;   /* its text as given, passed to the runners */
  bool set_slowdown;           /* --slowdown was given */
  bool set_repeat, set_scale, set_seed, set_timeout, set_out, set_iterations; /* given */
};

/* One combination of values: of a workload's parameters, or of a pair's options. */
struct gcl_valset {
  char **args;  /* "k=v" (parameters) or "module.k=v" (options), for the runner */
  unsigned n;   /* how many */
  char *col;    /* "k=v;k=v" for the params or options column ("" when none) */
};

/* A selected workload with its parameter axes. */
struct gcl_sel_workload {
  const struct gcl_workload_info *info; /* from the catalog */
  struct gcl_axis values[64];           /* each parameter's values (canonical text) */
  struct gcl_valset *sets;              /* their cross product, first parameter outermost */
  unsigned nsets;                       /* how many (1 without a list) */
};

/* A module option given as an axis (--opt M.N=a,b or the matrix file's M: {N: [a, b]}). */
struct gcl_opt_axis {
  const struct gcl_module_info *mod;  /* the module (a collector or an allocator) */
  unsigned k;                         /* the option's index in mod->opts */
  struct gcl_axis values;             /* canonical values (gcl_opt_format) */
};

/* One cell of the matrix: axis indices. */
struct gcl_run_cell {
  unsigned c, a;  /* collector, allocator */
  unsigned o;     /* option set of the pair (gcl_matrix.optsets) */
  unsigned w;     /* workload */
  unsigned v;     /* parameter set of the workload (gcl_sel_workload.sets) */
  unsigned t, p;  /* threads, placement */
  unsigned h;     /* heap item: 0 .. heaps.n - 1 absolute, then the factors; nheap - 1 */
  uint64_t heap_bytes; /* the limit the runner gets (--heap), 0: none */
  unsigned g;     /* GIL mode (gcl_run_opts.gil) */
  unsigned f;     /* free lists on or off (gcl_run_opts.freelists) */
  unsigned rep;   /* repetition */
};

/* The matrix once assembled: what every cell refers to. */
struct gcl_matrix {
  struct gcl_catalog cat;        /* what this build can run */
  struct gcl_sel_workload *sel;  /* one per o.workloads item */
  double *wl_timeout;            /* per o.workloads item: its timeout in seconds */
  struct gcl_opt_axis *optaxes;  /* options given, in module (union) then declaration order */
  unsigned noptaxes;             /* how many */
  struct gcl_valset **optsets;   /* per pair (c * nallocators + a): its option sets */
  unsigned *noptsets;            /* per pair: how many (1 when no option applies) */
  unsigned ncols;                /* columns of a row: GCL_NCOLS + cat.nfigcols */
  struct gcl_buf notes;          /* lines for stderr once everything is validated */
  struct gcl_run_cell *cells;    /* the cells to run, in run order */
  unsigned ncells;               /* how many */
  unsigned nall;                 /* cells of the whole matrix (before shard and resume) */
  unsigned nskipped;             /* cells --resume found already written */
  long long resume_cut;          /* --resume: --out's length without its torn last row, or 0 */
  long long resume_size;         /* --resume: --out's length when it was read */
  char scale[32];                /* --scale as CSV text */
  char iters[16];                /* --iterations as CSV text */
  unsigned nheap;                /* heap items: heaps.n + heap_factors.n, or 1 (no limit) */
};

/* The heap item h of the matrix: its factor text (NULL unless a factor) and, for an
 * absolute limit, its bytes (0 for none or a factor: see gcl_run_cell.heap_bytes). */
const char *gcl_heap_factor_of(const struct gcl_run_opts *o, unsigned h);

/* What the summary needs from one row. */
struct gcl_cell_sum {
  unsigned c, a, o, w, v, t, p, g, h, f; /* axis indices (as in gcl_run_cell) */
  unsigned rep;          /* repetition */
  uint64_t seed;         /* its seed */
  int cls;               /* GCL_CLS_OK, GCL_CLS_INVALID, GCL_CLS_OOM or GCL_CLS_BAD */
  char *status;          /* the status field */
  char *checksum;        /* NULL if none */
  char *leaked;          /* objects_leaked, NULL if none */
  double wall, rss;      /* wall_s and max_rss_kb, NAN if none */
};

enum { GCL_CLS_OK, GCL_CLS_INVALID, GCL_CLS_OOM, GCL_CLS_BAD }; /* OOM: a heap cap, not a failure */

/* --- run-args.c --- */
extern const char *gcl_run_where; /* "FILE:LINE" of the matrix-file value being checked */
extern const char *gcl_run_who;   /* the command messages name: "gclab run" (or "gclab slurm") */
/* Print "WHO: [WHERE: ]MESSAGE" on one line; returns 2. */
int gcl_run_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool gcl_axis_has(const struct gcl_axis *ax, const char *s);
void gcl_axis_push(struct gcl_axis *ax, char *item, const char *where);
/* Append the comma-separated items of `list`; 2 on an empty or repeated item. */
int gcl_axis_add(struct gcl_axis *ax, const char *opt, const char *list);
void gcl_join_words(struct gcl_buf *b, char *const *v, unsigned n);
/* The one range rule of numbers (axes, scalars, workload parameters): S parses as a number
 * in [min, max] ((min, max] when open_min), whole if asked; else false and "expected ..."
 * in EXPECTED. (Module options follow core/typed-option.c instead.) */
bool gcl_num_in_range(const char *s, double min, double max, bool whole, bool open_min,
                      double *out, char *expected, size_t len);
/* Parse a number option; 2 (after the message) unless it is in [min, max] (whole if asked). */
int gcl_number_opt(const char *opt, const char *s, double min, double max, bool whole,
                   bool open_min, double *out);
/* Parse a seed: a whole number in [0, 2^64-1], exact (core/typed-option.c's rule); 0 or 2. */
int gcl_seed_opt(const char *opt, const char *s, uint64_t *out);
int gcl_run_parse_args(int argc, char **argv, struct gcl_run_opts *o);
/* After the flags and the file: canonical threads and GIL modes, known placements, defaults. */
int gcl_run_finish_args(struct gcl_run_opts *o);

/* --- run-matrix.c --- */
/* Read the matrix file and take from it what the flags did not give. 2 on bad input. */
int gcl_run_apply_matrix(struct gcl_run_opts *o);
/* Check every name against m->cat (loaded here), select the workloads, apply the
 * parameters, the options and the timeouts; 0, 1 (no runner can describe) or 2. */
int gcl_run_select(struct gcl_run_opts *o, struct gcl_matrix *m);

/* --- run-options.c --- */
/* Resolve every --opt against the modules the runners describe (gcl_opt_parse, one line
 * and 2 on a bad one) and build each pair's option sets. */
int gcl_run_options(const struct gcl_run_opts *o, struct gcl_matrix *m);
/* The cross product of axes (each axis's values, first axis outermost) as value sets;
 * names[i] is the "k" of axis i. NULL when it would exceed GCL_CELLS_MAX sets. */
struct gcl_valset *gcl_valsets(char *const *names, const struct gcl_axis *axes, unsigned naxes,
                               unsigned *nsets);

/* --- run-cells.c --- */
/* The params and options columns of cell x. */
const char *gcl_cell_params(const struct gcl_matrix *m, const struct gcl_run_cell *x);
const char *gcl_cell_options(const struct gcl_run_opts *o, const struct gcl_matrix *m,
                             const struct gcl_run_cell *x);
/* Whether cell x runs under the GIL. */
bool gcl_cell_gil(const struct gcl_run_opts *o, const struct gcl_run_cell *x);
/* Whether cell x runs with the per-type free lists on (the runner's --freelists). */
bool gcl_cell_freelists(const struct gcl_run_opts *o, const struct gcl_run_cell *x);
const struct gcl_valset *gcl_cell_optset(const struct gcl_run_opts *o, const struct gcl_matrix *m,
                                         const struct gcl_run_cell *x);
/* The cells in run order (matrix order, then --shard, --resume, --shuffle); 0 or 2. */
int gcl_run_cells(const struct gcl_run_opts *o, struct gcl_matrix *m);
/* --dry-run: print the cells and their placement plans. */
void gcl_run_dry(const struct gcl_run_opts *o, const struct gcl_matrix *m,
                 hwloc_topology_t plan_topo);

/* --- run-row.c --- */
extern const char *const gcl_col_names[GCL_NCOLS];
/* What every row of one run shares. */
struct gcl_row_ctx {
  char version[16];  /* schema_version as text */
  char run_id[40];   /* time-pid, unique per run */
  char host[256];    /* gethostname, "" if unknown */
  char *cpu_model;   /* from /proc/cpuinfo, NULL if unknown */
  const char *yaml_version; /* libyaml's yaml_get_version_string() */
};
void gcl_row_ctx_init(struct gcl_row_ctx *x);
/* The header line of this build: core columns, then module columns. */
void gcl_header_line(const struct gcl_catalog *cat, struct gcl_buf *b);
/* Open (or create) the CSV for appending; the fd, or -2 after one line (file untouched). */
int gcl_open_output(const struct gcl_catalog *cat, const char *path, bool is_default);
/* The status of a finished cell x, and its record's values in vals[] (m->ncols). */
const char *gcl_cell_status(const struct gcl_matrix *m, const struct gcl_run_opts *o,
                            const struct gcl_run_cell *x, struct gcl_cell_result *res,
                            const char *vals[], char *buf, size_t len);
/* The row of one cell: the record's values in vals[] (may be all NULL) completed with
 * what gclab knows, as one CSV line appended to *row. */
/* The texts gclab formats for one row (vals[] points into them: they live as long). */
struct gcl_row_bufs {
  char timestamp[32]; /* timestamp */
  char seed[24];      /* seed */
  char rep[16];       /* rep */
  char mutator[32];   /* mutator_s */
  char child[8][32];  /* process_wall_s and the wait4 rusage columns */
  char heap[24];      /* heap_limit_bytes */
};
void gcl_row_build(const struct gcl_row_ctx *x, const struct gcl_run_opts *o,
                   const struct gcl_matrix *m, const struct gcl_run_cell *cell,
                   const char *status, const struct gcl_cell_result *res, bool ran,
                   const char *vals[], struct gcl_row_bufs *bufs, struct gcl_buf *row);

/* --- run-events.c --- */
/* The --events and --trace outputs of one run. */
struct gcl_run_events {
  int efd;            /* --events fd, -1 if none */
  char ev_tmp[32];    /* the runner's --events-out file */
  struct gcl_buf trace; /* the trace JSON so far */
  bool trace_first;   /* no trace event written yet */
};
bool gcl_events_wanted(const struct gcl_run_opts *o);
/* Open --events and --trace (each checked); 0, or 2 after one line. */
int gcl_events_open(const struct gcl_run_opts *o, struct gcl_run_events *ev);
/* Get the runner's events file ready for the next cell. */
void gcl_events_reset(struct gcl_run_events *ev);
/* Append the cell's events to --events and --trace; 0, or 1 after one line. */
int gcl_events_cell(const struct gcl_run_opts *o, const struct gcl_matrix *m,
                    struct gcl_run_events *ev, const char *run_id, const struct gcl_run_cell *x,
                    unsigned number);
/* Remove the temporary file, write the trace whole; result, or 1 if that failed. */
int gcl_events_finish(const struct gcl_run_opts *o, struct gcl_run_events *ev, int result);

/* --- run-summary.c --- */
void gcl_sum_record(struct gcl_cell_sum *s, const struct gcl_run_cell *x, uint64_t seed,
                    const char *status, const char *const vals[]);
void gcl_print_summary(const struct gcl_run_opts *o, const struct gcl_matrix *m,
                       struct gcl_cell_sum *cells, unsigned ncells, bool *mismatch);

/* --- run-outputs.c --- */
/* Every output before anything is created: regular or new in a writable folder, none the
 * same file as another output or an input; 0, or 2 after one line. */
int gcl_run_check_outputs(const struct gcl_run_opts *o);
/* Append LEN bytes to FD whole or not at all (a short write is cut back); 0, or -errno
 * with the reason in why. */
int gcl_append(int fd, const void *data, size_t len, char *why, size_t why_len);

/* --- run-exec.c --- */
/* The runner's command line for cell x into args (26 + 2 * (params + options) slots):
 * --heap when x->heap_bytes is set, --events-out when ev_tmp is. */
void gcl_runner_args(const struct gcl_run_opts *o, const struct gcl_matrix *m,
                     const struct gcl_pair_info *pair, const struct gcl_run_cell *x,
                     const char *seed_s, const char *ev_tmp, char **args);
/* Run every cell of m and write the outputs; the exit status. */
int gcl_run_exec(const struct gcl_run_opts *o, struct gcl_matrix *m);

#endif
