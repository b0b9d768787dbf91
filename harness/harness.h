/* SPDX-License-Identifier: MIT */
/* harness/harness.h — what the files of the gclab front end share: a growable text
 * buffer, CSV quoting, number formatting, the catalog of what this build can run
 * (collectors, allocators, pairs, runners, workloads and their parameters, and every
 * module's options and figures from the runners' --describe) and the child process that
 * runs one matrix cell.
 *
 * Invariants: every catalog string outlives the command that loaded it (nothing is freed
 * before exit); a gcl_buf's text is always NUL-terminated. */
#ifndef GCL_HARNESS_H
#define GCL_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "module.h"

/* --- text (text.c) ----------------------------------------------------------------- */

struct gcl_buf {
  char *p;    /* text, NUL-terminated (NULL until the first append) */
  size_t len; /* bytes before the NUL */
  size_t cap; /* bytes allocated */
};

void gcl_buf_putn(struct gcl_buf *b, const char *s, size_t n);
void gcl_buf_puts(struct gcl_buf *b, const char *s);
void gcl_buf_printf(struct gcl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *gcl_buf_str(const struct gcl_buf *b); /* "" while empty */
void gcl_buf_free(struct gcl_buf *b);

/* Append s as one RFC 4180 field: quoted (with inner quotes doubled) when it holds a
 * comma, a double quote, CR or LF; NULL is the empty field. */
void gcl_buf_csv_field(struct gcl_buf *b, const char *s);

/* Decimal text that strtod reads back as exactly v: whole numbers up to 2^53 in plain
 * digits ("100000"), others as the shortest %g that round-trips ("0.1", "1e-05"). */
void gcl_num_format(char *out, size_t len, double v);

/* Strict number parsing: the whole string must be a finite number. */
bool gcl_num_parse(const char *s, double *out);

char *gcl_must_strdup(const char *s);
void *gcl_must_realloc(void *p, size_t n);

/* --- catalog (catalog.c) -------------------------------------------------------------- */

struct gcl_param_info {
  char *name;        /* as given to --param */
  double def;        /* default */
  double min, max;   /* accepted range, inclusive */
  bool integer;      /* whole numbers only */
  char *help;        /* one line */
};

struct gcl_workload_info {
  char *name;                    /* kebab-case */
  char *description;             /* one line */
  struct gcl_param_info *params; /* its parameters, in declaration order */
  unsigned nparams;              /* how many */
};

/* Everything one module declares, as a runner's --describe told it (protocol v2). */
struct gcl_module_info {
  char *name;                  /* collector/allocator/workload name */
  char *kind;                  /* "collector", "allocator" or "workload" */
  struct gcl_opt_decl *opts;   /* its options, in declaration order (strings owned) */
  unsigned nopts;              /* how many */
  struct gcl_fig_decl *figs;   /* its figures, in declaration order (strings owned) */
  unsigned nfigs;              /* how many */
};

/* One runner's --describe, parsed. */
struct gcl_describe {
  struct gcl_workload_info *workloads; /* workload lines with their params */
  unsigned nworkloads;                 /* how many */
  struct gcl_module_info *modules;     /* module lines with their options and figures */
  unsigned nmodules;                   /* how many */
};

struct gcl_pair_info {
  const char *collector;      /* collector name */
  const char *allocator;      /* allocator name */
  const char *invalid_reason; /* "" when the pair is valid (it has a runner) */
  char *runner;               /* path of gclab-run-<collector>-<allocator> */
  bool described;             /* its runner exists and --describe parsed: desc is valid */
  struct gcl_describe desc;   /* what it described */
  char *describe_text;        /* its --describe output (NULL unless described) */
  char why[512];              /* a valid built runner that could not describe: why */
};

struct gcl_catalog {
  char *runners_dir;                    /* $GCLAB_RUNNERS or <dir of gclab>/runners */
  char **collectors;                    /* configured collectors, in CMake order */
  unsigned ncollectors;
  char **allocators;                    /* configured allocators, in CMake order */
  unsigned nallocators;
  struct gcl_pair_info *pairs;          /* every collector x allocator pair */
  unsigned npairs;
  struct gcl_workload_info *workloads;  /* from the first runner's --describe */
  unsigned nworkloads;
  struct gcl_module_info *modules;      /* union of every runner's modules (describe.c) */
  unsigned nmodules;
  unsigned *module_rank;                /* the union's sort key of each module */
  char **figcols;                       /* "MODULE.FIGURE" of every module figure, in CSV order */
  unsigned nfigcols;
  const char *describer;                /* that runner; NULL if none could describe */
  char describe_error[512];             /* why none could, when describer is NULL */
};

/* Fills *cat from the compiled-in pair table, then asks every runnable valid pair's runner
 * to --describe itself: the workloads come from the first, the modules are the union of
 * all. Nothing is cached on disk. Never exits; on failure describer is NULL. */
void gcl_catalog_load(struct gcl_catalog *cat);
const struct gcl_pair_info *gcl_catalog_pair(const struct gcl_catalog *cat, const char *c,
                                             const char *a);
const struct gcl_workload_info *gcl_catalog_workload(const struct gcl_catalog *cat,
                                                     const char *name);
bool gcl_runner_exists(const char *path); /* an executable regular file */
/* Run `runner --describe` into *out; 0 on success, else -1 with a reason in why. */
int gcl_runner_describe(const char *runner, struct gcl_buf *out, char *why, size_t why_len);
/* --- describe.c --- */
/* Parse a --describe text (protocol v2); 0 or -1 with a reason. */
int gcl_parse_describe(const char *text, struct gcl_describe *d, char *why, size_t why_len);
/* Add the modules of d not yet in cat->modules, keeping the union's order. */
void gcl_modules_add(struct gcl_catalog *cat, const struct gcl_describe *d);
const struct gcl_module_info *gcl_catalog_module(const struct gcl_catalog *cat, const char *name);
/* Whether NAME reads as a module column MODULE.FIGURE: [a-z0-9-]+ '.' [a-z0-9_]+. */
bool gcl_module_column_ok(const char *name);
/* Fill cat->figcols from cat->modules. */
void gcl_catalog_figures(struct gcl_catalog *cat);
/* The index of MODULE.FIGURE in cat->figcols, or -1. */
int gcl_catalog_figcol(const struct gcl_catalog *cat, const char *module, const char *figure);

/* --- one cell in a child process (cell.c) ---------------------------------------------- */

enum gcl_cell_end {
  GCL_CELL_EXITED,      /* the runner exited by itself */
  GCL_CELL_SIGNALED,    /* the runner died of a signal it did not get from us */
  GCL_CELL_TIMEOUT,     /* we killed it at the deadline */
  GCL_CELL_INTERRUPTED, /* gclab got SIGINT/SIGTERM/SIGHUP and killed it */
  GCL_CELL_SPAWN_FAILED /* no child process could be started */
};

struct gcl_cell_result {
  enum gcl_cell_end end;   /* how it ended */
  int exit_status;         /* GCL_CELL_EXITED: the exit status */
  int term_signal;         /* GCL_CELL_SIGNALED: the signal */
  int stop_signal;         /* GCL_CELL_INTERRUPTED: the signal gclab got */
  bool have_rusage;        /* a child was reaped: ru is its rusage */
  struct rusage ru;        /* wait4's rusage of the child */
  double process_wall_s;   /* fork to reap, CLOCK_MONOTONIC */
  struct gcl_buf record;   /* bytes the runner wrote to its record fd */
  bool record_overflow;    /* it wrote more than GCL_RECORD_MAX; the excess was dropped */
  char why[256];           /* GCL_CELL_SPAWN_FAILED: the reason */
};

#define GCL_RECORD_FD 3                /* the runner's --record-fd */
#define GCL_RECORD_MAX (1024 * 1024)   /* larger records are a runner bug */

/* Install handlers for SIGINT, SIGTERM, SIGHUP (stop) and SIGCHLD; ignore SIGPIPE. */
void gcl_signals_install(void);
/* The stop signal received so far, 0 if none. */
int gcl_stop_signal(void);
/* Run argv[0] with argv in its own process group, record pipe on GCL_RECORD_FD, stdout
 * sent to our stderr, SIGKILL on our death; kill the group at timeout_s or on a stop
 * signal. *res is initialised here; free res->record afterwards. */
void gcl_cell_run(char *const argv[], double timeout_s, struct gcl_cell_result *res);

/* --- files: safe-file.h (bounded reads, atomic writes, file identity) ------------------ */
#include "safe-file.h"

/* --- commands ------------------------------------------------------------------------------ */

int gcl_cmd_list(int argc, char **argv);
int gcl_cmd_run(int argc, char **argv);
int gcl_cmd_topo(int argc, char **argv);  /* harness/topo.c */
int gcl_cmd_merge(int argc, char **argv); /* harness/merge.c */
int gcl_cmd_slurm(int argc, char **argv); /* harness/slurm.c */
extern const char *const gcl_version; /* git describe --always --dirty of the build */

/* Axis limits shared by `run` and `list` (the runner's own ranges, core/options.h). */
#define GCL_THREADS_MAX 4096
#define GCL_SCALE_MIN 0.0001
#define GCL_SCALE_MAX 10000.0
#define GCL_REPEAT_MAX 1000000
#define GCL_ITERATIONS_MAX 100000       /* core/runner.c's limit */
#define GCL_TIMEOUT_MAX 10000000.0      /* seconds, about 115 days */

#endif
