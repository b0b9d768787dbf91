/* SPDX-License-Identifier: MIT */
/* runner/options.h — the runner's command line, from one typed table.
 *
 * The core options (workload, threads, scale, seed, placement, iterations, record fd,
 * events file, memory sampler period, GIL mode and switch interval, heap limit, free lists,
 * deliberate slowdown) are rows of a struct
 * gcl_opt_decl table, as a module's options are, so one rule (core/typed-option.c) parses
 * both, one loop prints --help and one loop writes the `config` echo (through load_core,
 * the inverse of store_core: a new option is a row and a case in each). A bool option
 * may be given bare (`--gil`). Module options are written `--opt MODULE.NAME=VALUE` and
 * checked against the collector's and allocator's declarations (core/module.h).
 * Workload parameters (`--param NAME=VALUE`) are checked against the workload's own
 * table once the workload is known (runner.c). */
#ifndef GCL_RUNNER_OPTIONS_H
#define GCL_RUNNER_OPTIONS_H

#include <stdint.h>
#include <stdio.h>

#include "module.h"
#include "placement.h"

#define GCL_RUN_MAX_PARAMS 64      /* --param arguments kept */

/* The parsed command line of one runner. */
struct gcl_run_options {
  const char *workload;        /* --workload (NULL until given) */
  unsigned threads;            /* --threads */
  double scale;                /* --scale */
  uint64_t seed;               /* --seed, any 64-bit value */
  int record_fd;               /* --record-fd */
  enum gcl_placement placement; /* --placement */
  unsigned iterations;         /* --iterations */
  const char *events_out;      /* --events-out, NULL when not given */
  double sample_ms;            /* --sample-ms: memory sampler period, 0 = off */
  bool gil;                    /* --gil: GIL mode (core/gil.h) */
  double gil_interval_ms;      /* --gil-interval, milliseconds */
  uint64_t heap_bytes;         /* --heap: the heap limit in bytes, 0 = none */
  bool freelists;              /* --freelists: per-type free lists (core/freelist.h) */
  double slowdown;             /* --slowdown F: pad the window by F x its CPU time (0: off) */
  const char *params[GCL_RUN_MAX_PARAMS]; /* the --param NAME=VALUE texts, in order */
  unsigned nparams;            /* how many */
  union gcl_opt_value collector_opts[GCL_MODULE_MAX_OPTS]; /* gcl_collector_module's values */
  union gcl_opt_value allocator_opts[GCL_MODULE_MAX_OPTS]; /* gcl_allocator_module's values */
  bool describe;               /* --describe was given */
  bool help;                   /* --help was given */
};

/* Parse argv into *o (defaults first). Returns 0, or -1 after printing one line naming
 * the bad argument and what is accepted. */
int gcl_run_options_parse(int argc, char **argv, struct gcl_run_options *o);
void gcl_run_options_help(FILE *out);
/* The `config` echo: "threads=2;scale=1;seed=1;placement=none;iterations=1;sample_ms=10;
 * gil=false;gil_interval=5;heap=0;freelists=false;slowdown=0;M.N=V;..."
 * (every core option but workload, record fd and events file, then every option of the
 * collector and allocator with its effective value). */
char *gcl_run_options_echo(const struct gcl_run_options *o); /* malloc'd; never truncated */
/* --describe's `module`/`option`/`figure` lines of one module (runner/README.md). */
void gcl_module_describe(FILE *out, const struct gcl_module *m);

#endif
