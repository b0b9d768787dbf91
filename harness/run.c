/* harness/run.c — `gclab run`: expand the matrix, run each cell in a child process and
 * append one CSV row per cell (schema: harness/schema.h, documented in results/README.md).
 *
 * Order of work, which the tests rely on:
 *  1. every option, name and value is validated (nothing is opened, created or started);
 *  2. the output file is opened; an existing one must carry exactly our header;
 *  3. cells run in the order collector, allocator, workload, threads, rep (rep innermost);
 *     each row is built in memory and written with one write(2) on an O_APPEND fd, so an
 *     interrupted or killed gclab leaves only complete rows;
 *  4. a summary table goes to stdout.
 * A stop signal (SIGINT, SIGTERM, SIGHUP) kills the running cell, writes no row for it and
 * exits 128 + the signal number. */
#define _GNU_SOURCE /* sigabbrev_np */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "csv-read.h"
#include "harness.h"
#include "matrix-file.h"
#include "placement.h"
#include "schema.h"

#define DEFAULT_OUT_DIR "results"
#define DEFAULT_OUT DEFAULT_OUT_DIR "/gclab.csv"
#define GCL_CELLS_MAX 1000000 /* more in one run is surely a typo */

static const char *const col_names[GCL_NCOLS] = {
#define GCL_SCHEMA_NAME(name, origin) #name,
    GCL_SCHEMA(GCL_SCHEMA_NAME)
#undef GCL_SCHEMA_NAME
};

static const enum gcl_col_origin col_origin[GCL_NCOLS] = {
#define GCL_SCHEMA_ORIGIN(name, origin) GCL_ORIGIN_##origin,
    GCL_SCHEMA(GCL_SCHEMA_ORIGIN)
#undef GCL_SCHEMA_ORIGIN
};

/* A comma-list axis, in the order given. */
struct axis {
  char **v;     /* the names (or numbers as text) */
  char **where; /* "FILE:LINE" of each item from a matrix file, NULL for a flag */
  unsigned n;   /* how many */
};

/* A per-workload timeout from the matrix file. */
struct wl_timeout {
  char *workload; /* its name */
  double s;       /* seconds */
};

/* Everything `gclab run` was asked to do, validated. */
struct run_opts {
  struct axis collectors;  /* --collector */
  struct axis allocators;  /* --allocator */
  struct axis workloads;   /* --workload */
  struct axis threads;     /* --threads, canonical whole numbers as text */
  struct axis placement;   /* --placement, policy names */
  char **params;           /* every --param, raw (the matrix file's first) */
  char **params_where;     /* "FILE:LINE" of a matrix-file param, else NULL */
  unsigned nparams;
  double iterations;       /* --iterations: workload runs per process */
  const char *matrix;      /* --matrix FILE */
  char *name;              /* the matrix file's name:, or NULL */
  struct wl_timeout *wl_timeouts; /* the matrix file's timeouts: */
  struct axis timeout_names;      /* their workload names, checked like --workload */
  unsigned nwl_timeouts;
  bool dry_run, resume;    /* --dry-run, --resume */
  unsigned shard_k, shard_n; /* --shard K/N (0/0: all cells) */
  bool shuffle;            /* --shuffle[=seed] */
  uint64_t shuffle_seed;   /* its seed (default 1) */
  const char *events;      /* --events FILE (CSV), or NULL */
  const char *trace;       /* --trace FILE (Chrome trace JSON), or NULL */
  const char *topology;    /* --topology (with --dry-run only) */
  double repeat;           /* --repeat */
  double scale;            /* --scale */
  double seed;             /* --seed, of rep 0 */
  double timeout;          /* --timeout, seconds per cell */
  const char *out;         /* --out */
  bool set_repeat, set_scale, set_seed, set_timeout, set_out, set_iterations; /* given */
};

/* A selected workload with its effective parameters. */
struct sel_workload {
  const struct gcl_workload_info *info; /* from the catalog */
  double values[64];                    /* effective value of each parameter */
  char **args;                          /* "k=v" for each parameter, for the runner */
  char *params_col;                     /* "k=v;k=v", for the CSV */
};

/* What the summary needs from one row. */
struct cell_sum {
  unsigned c, a, w, t, p; /* axis indices (p: placement) */
  unsigned rep;          /* repetition */
  uint64_t seed;         /* its seed */
  int cls;               /* CLS_OK, CLS_INVALID or CLS_BAD */
  char *status;          /* the status field */
  char *checksum;        /* NULL if none */
  char *leaked;          /* objects_leaked, NULL if none */
  double wall, rss;      /* wall_s and max_rss_kb, NAN if none */
};

enum { CLS_OK, CLS_INVALID, CLS_BAD };

static const char *input_where; /* "FILE:LINE" of the matrix-file value being checked */

static __attribute__((format(printf, 1, 2))) int bad_input(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("gclab run: ", stderr);
  if (input_where) fprintf(stderr, "%s: ", input_where);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return 2;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: gclab run [options]\n"
          "Runs every cell of collector x allocator x workload x threads x placement x rep in\n"
          "its own process and appends one CSV row per cell (schema: results/README.md).\n"
          "  --matrix FILE       a YAML matrix file (results/README.md); flags override it\n"
          "  --collector a,b     collectors (default: all; gclab list shows them)\n"
          "  --allocator a,b     allocators (default: all)\n"
          "  --workload a,b      workloads (default: all)\n"
          "  --threads 1,2       mutator thread counts, 1..%d (default 1)\n"
          "  --placement a,b     thread placement: " GCL_PLACEMENT_NAMES " (default none)\n"
          "  --repeat N          repetitions of each cell, 1..%d (default 3)\n"
          "  --iterations N      workload runs in one process, 1..%d (default 1); wall_s is\n"
          "                      their total, iter_wall_s each one\n"
          "  --param k=v         a workload parameter for every selected workload that has k;\n"
          "  --param w.k=v       ... or for workload w only (repeatable; later ones win)\n"
          "  --scale S           work multiplier, %g..%g (default 1)\n"
          "  --seed N            seed of rep 0; rep r uses N + r (default 1)\n"
          "  --timeout SECONDS   per cell (default 300)\n"
          "  --out FILE          CSV to create or append to (default " DEFAULT_OUT ")\n"
          "  --resume            skip cells that already have a row in --out\n"
          "  --shard K/N         run only cells k (0-based, matrix order) with k mod N = K-1\n"
          "  --shuffle[=SEED]    run the cells in a random order (seeded; default seed 1)\n"
          "  --events FILE       append one CSV row per GC pause or phase\n"
          "  --trace FILE        write the pauses and phases as Chrome/Perfetto trace JSON\n"
          "  --dry-run           list the cells (and placement plans), run nothing\n"
          "  --topology T        with --dry-run: plan for an hwloc XML file or a synthetic\n"
          "                      topology such as \"numa:4 core:8 pu:2\" (gclab topo)\n"
          "Exit status: 0 every cell ok or invalid; 1 a cell wrong/timeout/crash/error or a\n"
          "checksum mismatch; 2 bad input (nothing run, the CSV untouched).\n",
          GCL_THREADS_MAX, GCL_REPEAT_MAX, GCL_ITERATIONS_MAX, GCL_SCALE_MIN, GCL_SCALE_MAX);
}

static bool axis_has(const struct axis *ax, const char *s) {
  for (unsigned i = 0; i < ax->n; i++)
    if (strcmp(ax->v[i], s) == 0) return true;
  return false;
}

static int axis_push(struct axis *ax, char *item, const char *where) {
  ax->v = gcl_must_realloc(ax->v, (ax->n + 1) * sizeof *ax->v);
  ax->where = gcl_must_realloc(ax->where, (ax->n + 1) * sizeof *ax->where);
  ax->where[ax->n] = where ? gcl_must_strdup(where) : NULL;
  ax->v[ax->n++] = item;
  return 0;
}

/* Append the comma-separated items of `list` to the axis; 2 on an empty or repeated item. */
static int axis_add(struct axis *ax, const char *opt, const char *list) {
  const char *p = list;
  for (;;) {
    size_t len = strcspn(p, ",");
    char *item = gcl_must_strdup(p);
    item[len] = 0;
    if (!len) return bad_input("--%s '%s': empty item in the list (expected a,b,...)", opt, list);
    if (axis_has(ax, item)) return bad_input("--%s: '%s' is given twice", opt, item);
    axis_push(ax, item, NULL);
    if (!p[len]) return 0;
    p += len + 1;
  }
}

static void join_words(struct gcl_buf *b, char *const *v, unsigned n) {
  for (unsigned i = 0; i < n; i++) gcl_buf_printf(b, "%s%s", i ? " " : "", v[i]);
}

/* Parse a number option; 2 (after the message) unless it is in [min, max] (whole if asked). */
static int number_opt(const char *opt, const char *s, double min, double max, bool whole,
                      bool open_min, double *out) {
  double v;
  if (!gcl_num_parse(s, &v) || (whole && v != floor(v)) || v > max || v < min ||
      (open_min && v == min)) {
    char lo[32], hi[32];
    gcl_num_format(lo, sizeof lo, min);
    gcl_num_format(hi, sizeof hi, max);
    return bad_input("bad value '%s' for --%s: expected %s in %c%s, %s]", s, opt,
                     whole ? "a whole number" : "a number", open_min ? '(' : '[', lo, hi);
  }
  *out = v;
  return 0;
}

static int parse_args(int argc, char **argv, struct run_opts *o) {
  static const char *const names[] = {"collector", "allocator", "workload", "threads", "param",
                                      "repeat",    "scale",     "seed",     "timeout", "out",
                                      "placement", "iterations", "matrix",  "shard",   "events",
                                      "trace",     "topology",  "dry-run",  "resume",  "shuffle"};
  enum { FIRST_FLAG = 17 }; /* names from here take no value (shuffle: an optional =seed) */
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      usage(stdout);
      exit(0);
    }
    if (strncmp(arg, "--", 2) != 0) return bad_input("unexpected argument '%s' (options start with --)", arg);
    const char *name = arg + 2, *eq = strchr(name, '='), *val = NULL;
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    int k = -1;
    for (int j = 0; j < (int)(sizeof names / sizeof names[0]); j++)
      if (strlen(names[j]) == nlen && strncmp(names[j], name, nlen) == 0) k = j;
    if (k < 0) return bad_input("unknown option '%s' (gclab run --help lists them)", arg);
    if (k >= FIRST_FLAG) {
      if (eq && k != 19) return bad_input("--%s takes no value ('%s')", names[k], arg);
      val = eq ? eq + 1 : NULL;
    } else if (eq)
      val = eq + 1;
    else if (i + 1 < argc)
      val = argv[++i];
    else
      return bad_input("--%s needs a value", names[k]);
    int r = 0;
    bool *set = NULL;
    double v = 0;
    switch (k) {
    case 0: r = axis_add(&o->collectors, names[k], val); break;
    case 1: r = axis_add(&o->allocators, names[k], val); break;
    case 2: r = axis_add(&o->workloads, names[k], val); break;
    case 3: r = axis_add(&o->threads, names[k], val); break;
    case 4:
      o->params = gcl_must_realloc(o->params, (o->nparams + 1) * sizeof *o->params);
      o->params_where = gcl_must_realloc(o->params_where, (o->nparams + 1) * sizeof *o->params_where);
      o->params_where[o->nparams] = NULL;
      o->params[o->nparams++] = (char *)val;
      break;
    case 5: set = &o->set_repeat; r = number_opt("repeat", val, 1, GCL_REPEAT_MAX, true, false, &o->repeat); break;
    case 6: set = &o->set_scale; r = number_opt("scale", val, GCL_SCALE_MIN, GCL_SCALE_MAX, false, false, &o->scale); break;
    case 7: set = &o->set_seed; r = number_opt("seed", val, 0, GCL_SEED_MAX, true, false, &o->seed); break;
    case 8: set = &o->set_timeout; r = number_opt("timeout", val, 0, GCL_TIMEOUT_MAX, false, true, &o->timeout); break;
    case 9:
      set = &o->set_out;
      if (!*val) return bad_input("--out needs a file name");
      o->out = val;
      break;
    case 10: r = axis_add(&o->placement, names[k], val); break;
    case 11: set = &o->set_iterations; r = number_opt("iterations", val, 1, GCL_ITERATIONS_MAX, true, false, &o->iterations); break;
    case 12:
      if (o->matrix) return bad_input("--matrix is given twice");
      if (!*val) return bad_input("--matrix needs a file name");
      o->matrix = val;
      break;
    case 13: {
      unsigned kk, nn;
      int used = 0;
      if (o->shard_n) return bad_input("--shard is given twice");
      if (sscanf(val, "%u/%u%n", &kk, &nn, &used) != 2 || val[used] || !isdigit((unsigned char)val[0]) ||
          nn < 1 || kk < 1 || kk > nn)
        return bad_input("bad value '%s' for --shard: expected K/N with 1 <= K <= N (e.g. 2/4)", val);
      o->shard_k = kk, o->shard_n = nn;
      break;
    }
    case 14:
      if (o->events) return bad_input("--events is given twice");
      if (!*val) return bad_input("--events needs a file name");
      o->events = val;
      break;
    case 15:
      if (o->trace) return bad_input("--trace is given twice");
      if (!*val) return bad_input("--trace needs a file name");
      o->trace = val;
      break;
    case 16:
      if (o->topology) return bad_input("--topology is given twice");
      o->topology = val;
      break;
    case 17: o->dry_run = true; break;
    case 18: o->resume = true; break;
    case 19:
      if (o->shuffle) return bad_input("--shuffle is given twice");
      o->shuffle = true;
      o->shuffle_seed = 1;
      if (val) {
        if (number_opt("shuffle", val, 0, GCL_SEED_MAX, true, false, &v)) return 2;
        o->shuffle_seed = (uint64_t)v;
      }
      break;
    }
    if (r) return r;
    if (set) {
      if (*set) return bad_input("--%s is given twice", names[k]);
      *set = true;
    }
  }
  return 0;
}

/* Read the matrix file and take from it what the flags did not give. 2 on bad input. */
static int apply_matrix(struct run_opts *o) {
  FILE *f = fopen(o->matrix, "r");
  if (!f) return bad_input("cannot read matrix file '%s': %s", o->matrix, strerror(errno));
  struct gcl_buf text = {0};
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) gcl_buf_putn(&text, chunk, n);
  bool err = ferror(f);
  fclose(f);
  if (err) return bad_input("cannot read matrix file '%s'", o->matrix);
  struct gcl_matrix_file mf;
  char why[512];
  if (gcl_matrix_parse(o->matrix, gcl_buf_str(&text), text.len, &mf, why, sizeof why) != 0)
    return bad_input("%s", why);
  gcl_buf_free(&text);
  char where[1100];
  const struct gcl_mf_list *lists[] = {&mf.collectors, &mf.allocators, &mf.workloads, &mf.threads, &mf.placement};
  struct axis *axes[] = {&o->collectors, &o->allocators, &o->workloads, &o->threads, &o->placement};
  static const char *const lnames[] = {"collectors", "allocators", "workloads", "threads", "placement"};
  for (unsigned l = 0; l < 5; l++) {
    if (axes[l]->n) continue; /* the flag wins */
    for (unsigned i = 0; i < lists[l]->n; i++) {
      snprintf(where, sizeof where, "%s:%u", o->matrix, lists[l]->v[i].line);
      if (axis_has(axes[l], lists[l]->v[i].text)) {
        input_where = where;
        return bad_input("%s: '%s' is given twice", lnames[l], lists[l]->v[i].text);
      }
      axis_push(axes[l], gcl_must_strdup(lists[l]->v[i].text), where);
    }
  }
  struct {
    const struct gcl_mf_value *v;
    bool *set;
    const char *opt;
    double min, max, *out;
    bool whole, open_min;
  } scalars[] = {
      {&mf.repeat, &o->set_repeat, "repeat", 1, GCL_REPEAT_MAX, &o->repeat, true, false},
      {&mf.scale, &o->set_scale, "scale", GCL_SCALE_MIN, GCL_SCALE_MAX, &o->scale, false, false},
      {&mf.seed, &o->set_seed, "seed", 0, GCL_SEED_MAX, &o->seed, true, false},
      {&mf.timeout, &o->set_timeout, "timeout", 0, GCL_TIMEOUT_MAX, &o->timeout, false, true},
      {&mf.iterations, &o->set_iterations, "iterations", 1, GCL_ITERATIONS_MAX, &o->iterations, true, false},
  };
  for (unsigned i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
    if (!scalars[i].v->text || *scalars[i].set) continue;
    snprintf(where, sizeof where, "%s:%u", o->matrix, scalars[i].v->line);
    input_where = where;
    if (number_opt(scalars[i].opt, scalars[i].v->text, scalars[i].min, scalars[i].max,
                   scalars[i].whole, scalars[i].open_min, scalars[i].out))
      return 2;
    input_where = NULL;
  }
  if (mf.name.text) o->name = gcl_must_strdup(mf.name.text);
  /* File params go first, so the flags' --param (later) win. */
  if (mf.nparams) {
    char **p = gcl_must_realloc(NULL, (mf.nparams + o->nparams) * sizeof *p);
    char **pw = gcl_must_realloc(NULL, (mf.nparams + o->nparams) * sizeof *pw);
    for (unsigned i = 0; i < mf.nparams; i++) {
      struct gcl_buf kv = {0};
      gcl_buf_printf(&kv, "%s.%s=%s", mf.params[i].workload, mf.params[i].name, mf.params[i].value);
      p[i] = kv.p;
      snprintf(where, sizeof where, "%s:%u", o->matrix, mf.params[i].line);
      pw[i] = gcl_must_strdup(where);
    }
    for (unsigned i = 0; i < o->nparams; i++) p[mf.nparams + i] = o->params[i], pw[mf.nparams + i] = o->params_where[i];
    o->params = p;
    o->params_where = pw;
    o->nparams += mf.nparams;
  }
  for (unsigned i = 0; i < mf.ntimeouts; i++) {
    snprintf(where, sizeof where, "%s:%u", o->matrix, mf.timeouts[i].line);
    input_where = where;
    double t = 0;
    char opt[300];
    snprintf(opt, sizeof opt, "timeouts.%.200s", mf.timeouts[i].workload);
    if (number_opt(opt, mf.timeouts[i].value, 0, GCL_TIMEOUT_MAX, false, true, &t)) return 2;
    input_where = NULL;
    o->wl_timeouts = gcl_must_realloc(o->wl_timeouts, (o->nwl_timeouts + 1) * sizeof *o->wl_timeouts);
    o->wl_timeouts[o->nwl_timeouts] = (struct wl_timeout){gcl_must_strdup(mf.timeouts[i].workload), t};
    o->nwl_timeouts++;
    /* The workload name is checked with the others (check_names). */
    axis_push(&o->timeout_names, gcl_must_strdup(mf.timeouts[i].workload), where);
  }
  gcl_matrix_free(&mf);
  return 0;
}

/* After the flags and the file: canonical threads, known placements, defaults. */
static int finish_args(struct run_opts *o) {
  /* Thread counts as canonical text ("2", not "2.0" or "02"), each once. */
  for (unsigned i = 0; i < o->threads.n; i++) {
    double v = 0;
    input_where = o->threads.where[i];
    if (number_opt("threads", o->threads.v[i], 1, GCL_THREADS_MAX, true, false, &v)) return 2;
    char canon[16];
    snprintf(canon, sizeof canon, "%u", (unsigned)v);
    for (unsigned j = 0; j < i; j++)
      if (strcmp(o->threads.v[j], canon) == 0)
        return bad_input("--threads: %s is given twice (as '%s')", canon, o->threads.v[i]);
    o->threads.v[i] = gcl_must_strdup(canon);
  }
  for (unsigned i = 0; i < o->placement.n; i++) {
    enum gcl_placement pl;
    input_where = o->placement.where[i];
    if (gcl_placement_parse(o->placement.v[i], &pl) != 0)
      return bad_input("unknown placement '%s' (expected one of " GCL_PLACEMENT_NAMES ")", o->placement.v[i]);
  }
  input_where = NULL;
  if (o->threads.n == 0) axis_add(&o->threads, "threads", "1");
  if (o->placement.n == 0) axis_add(&o->placement, "placement", "none");
  if (o->seed + o->repeat - 1 > GCL_SEED_MAX)
    return bad_input("--seed %.0f with --repeat %.0f: the last seed would pass %.0f", o->seed,
                     o->repeat, GCL_SEED_MAX);
  if (o->topology && !o->dry_run)
    return bad_input("--topology '%s' plans for another machine: it needs --dry-run (a run uses "
                     "this machine's topology)", o->topology);
  return 0;
}

/* Check every name against the catalog; fill defaults. */
static int check_names(struct run_opts *o, const struct gcl_catalog *cat) {
  struct gcl_buf known = {0};
  if (!o->collectors.n)
    for (unsigned i = 0; i < cat->ncollectors; i++) axis_add(&o->collectors, "", cat->collectors[i]);
  if (!o->allocators.n)
    for (unsigned i = 0; i < cat->nallocators; i++) axis_add(&o->allocators, "", cat->allocators[i]);
  for (unsigned i = 0; i < o->collectors.n; i++) {
    bool found = false;
    for (unsigned j = 0; j < cat->ncollectors; j++) found |= strcmp(cat->collectors[j], o->collectors.v[i]) == 0;
    if (!found) {
      input_where = o->collectors.where[i];
      join_words(&known, cat->collectors, cat->ncollectors);
      return bad_input("unknown collector '%s' (known: %s)", o->collectors.v[i], gcl_buf_str(&known));
    }
  }
  for (unsigned i = 0; i < o->allocators.n; i++) {
    bool found = false;
    for (unsigned j = 0; j < cat->nallocators; j++) found |= strcmp(cat->allocators[j], o->allocators.v[i]) == 0;
    if (!found) {
      input_where = o->allocators.where[i];
      join_words(&known, cat->allocators, cat->nallocators);
      return bad_input("unknown allocator '%s' (known: %s)", o->allocators.v[i], gcl_buf_str(&known));
    }
  }
  if (!cat->describer) {
    fprintf(stderr, "gclab run: cannot check workloads: %s\n", cat->describe_error);
    return 1;
  }
  if (!o->workloads.n)
    for (unsigned i = 0; i < cat->nworkloads; i++) axis_add(&o->workloads, "", cat->workloads[i].name);
  for (unsigned i = 0; i < o->workloads.n; i++) {
    if (gcl_catalog_workload(cat, o->workloads.v[i])) continue;
    input_where = o->workloads.where[i];
    for (unsigned j = 0; j < cat->nworkloads; j++)
      gcl_buf_printf(&known, "%s%s", j ? " " : "", cat->workloads[j].name);
    return bad_input("unknown workload '%s' (known: %s)", o->workloads.v[i], gcl_buf_str(&known));
  }
  for (unsigned i = 0; i < o->timeout_names.n; i++) {
    if (axis_has(&o->workloads, o->timeout_names.v[i])) continue;
    input_where = o->timeout_names.where[i];
    return bad_input("timeouts: workload '%s' is not selected (selected: %s)", o->timeout_names.v[i],
                     (join_words(&known, o->workloads.v, o->workloads.n), gcl_buf_str(&known)));
  }
  return 0;
}

static void param_names(struct gcl_buf *b, const struct gcl_workload_info *w) {
  if (!w->nparams) gcl_buf_puts(b, "none");
  for (unsigned i = 0; i < w->nparams; i++) gcl_buf_printf(b, "%s%s", i ? " " : "", w->params[i].name);
}

/* Set parameter p of s from text; 2 after a message naming the bad value. */
static int set_param(struct sel_workload *s, unsigned p, const char *raw, const char *text) {
  const struct gcl_param_info *pi = &s->info->params[p];
  double v;
  if (!gcl_num_parse(text, &v) || v < pi->min || v > pi->max || (pi->integer && v != floor(v))) {
    char lo[32], hi[32];
    gcl_num_format(lo, sizeof lo, pi->min);
    gcl_num_format(hi, sizeof hi, pi->max);
    return bad_input("--param '%s': bad value '%s' for %s.%s: expected %s in [%s, %s]", raw, text,
                     s->info->name, pi->name, pi->integer ? "a whole number" : "a number", lo, hi);
  }
  s->values[p] = v;
  return 0;
}

/* Apply every --param in order to the selected workloads. */
static int apply_params(const struct run_opts *o, const struct gcl_catalog *cat,
                        struct sel_workload *sel) {
  for (unsigned i = 0; i < o->nparams; i++) {
    const char *raw = o->params[i];
    input_where = o->params_where[i];
    const char *eq = strchr(raw, '=');
    if (!eq || eq == raw)
      return bad_input("--param '%s': expected name=value or workload.name=value", raw);
    char *key = gcl_must_strdup(raw);
    key[eq - raw] = 0;
    char *pname = key, *dot = strchr(key, '.');
    const char *only = NULL; /* the one workload named, if any */
    if (dot) {
      *dot = 0;
      only = key;
      pname = dot + 1;
      if (!gcl_catalog_workload(cat, only)) {
        struct gcl_buf known = {0};
        for (unsigned j = 0; j < cat->nworkloads; j++)
          gcl_buf_printf(&known, "%s%s", j ? " " : "", cat->workloads[j].name);
        return bad_input("--param '%s': unknown workload '%s' (known: %s)", raw, only, gcl_buf_str(&known));
      }
      if (!axis_has(&o->workloads, only))
        return bad_input("--param '%s': workload '%s' is not selected by --workload", raw, only);
    }
    if (!*pname) return bad_input("--param '%s': empty parameter name", raw);
    unsigned hits = 0;
    for (unsigned w = 0; w < o->workloads.n; w++) {
      if (only && strcmp(sel[w].info->name, only) != 0) continue;
      for (unsigned p = 0; p < sel[w].info->nparams; p++) {
        if (strcmp(sel[w].info->params[p].name, pname) != 0) continue;
        if (set_param(&sel[w], p, raw, eq + 1)) return 2;
        hits++;
      }
    }
    if (!hits && only) {
      struct gcl_buf has = {0};
      param_names(&has, gcl_catalog_workload(cat, only));
      return bad_input("--param '%s': workload %s has no parameter '%s' (it has: %s)", raw, only,
                       pname, gcl_buf_str(&has));
    }
    if (!hits) {
      struct gcl_buf has = {0};
      for (unsigned w = 0; w < o->workloads.n; w++) {
        gcl_buf_printf(&has, "%s%s has: ", has.len ? "; " : "", sel[w].info->name);
        param_names(&has, sel[w].info);
      }
      return bad_input("--param '%s': no selected workload has a parameter '%s' (%s)", raw, pname,
                       gcl_buf_str(&has));
    }
    free(key);
  }
  input_where = NULL;
  return 0;
}

/* The effective parameters of each selected workload, as runner arguments and CSV text. */
static void render_params(struct sel_workload *s) {
  struct gcl_buf col = {0};
  s->args = gcl_must_realloc(NULL, (s->info->nparams + 1) * sizeof *s->args);
  for (unsigned p = 0; p < s->info->nparams; p++) {
    char num[32];
    gcl_num_format(num, sizeof num, s->values[p]);
    struct gcl_buf kv = {0};
    gcl_buf_printf(&kv, "%s=%s", s->info->params[p].name, num);
    s->args[p] = kv.p;
    gcl_buf_printf(&col, "%s%s", p ? ";" : "", kv.p);
  }
  s->params_col = gcl_must_strdup(gcl_buf_str(&col));
  gcl_buf_free(&col);
}

/* --- the output file ---------------------------------------------------------------------- */

static void header_line(struct gcl_buf *b) {
  for (int i = 0; i < GCL_NCOLS; i++) gcl_buf_printf(b, "%s%s", i ? "," : "", col_names[i]);
  gcl_buf_puts(b, "\n");
}

/* Which column of `line` (up to its newline) first differs from ours: 1-based. */
static unsigned first_difference(const char *line, char *theirs, size_t len) {
  const char *p = line;
  for (unsigned i = 0;; i++) {
    size_t n = strcspn(p, ",\r\n");
    if (i >= GCL_NCOLS || strlen(col_names[i]) != n || strncmp(col_names[i], p, n) != 0) {
      snprintf(theirs, len, "%.*s", (int)(n < 60 ? n : 60), p);
      return i + 1;
    }
    if (p[n] != ',') break;
    p += n + 1;
  }
  snprintf(theirs, len, "(end of line)");
  return GCL_NCOLS + 1;
}

/* Open (or create) the CSV for appending; an existing file must start with our header and
 * end with a newline. Returns the fd, or -2 after one line on stderr (file untouched). */
static int open_output(const char *path, bool is_default) {
  if (is_default && mkdir(DEFAULT_OUT_DIR, 0777) != 0 && errno != EEXIST)
    return -bad_input("cannot create directory '%s': %s", DEFAULT_OUT_DIR, strerror(errno));
  int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return -bad_input("cannot open output '%s': %s", path, strerror(errno));
  flock(fd, LOCK_EX); /* two gclab runs starting on one new file write one header */
  struct stat st;
  struct gcl_buf header = {0};
  header_line(&header);
  if (fstat(fd, &st) != 0) return -bad_input("cannot stat output '%s': %s", path, strerror(errno));
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    char *head = gcl_must_realloc(NULL, header.len + 1);
    ssize_t n = pread(fd, head, header.len, 0);
    head[n > 0 ? n : 0] = 0;
    if (n != (ssize_t)header.len || memcmp(head, header.p, header.len) != 0) {
      char theirs[80];
      unsigned col = first_difference(head, theirs, sizeof theirs);
      return -bad_input("'%s' has another header (schema) than this gclab writes (schema_version "
                        "%d): column %u is '%s', expected '%s'; choose another --out",
                        path, GCL_SCHEMA_VERSION, col, theirs,
                        col <= GCL_NCOLS ? col_names[col - 1] : "(end of line)");
    }
    char last;
    if (pread(fd, &last, 1, st.st_size - 1) != 1 || last != '\n')
      return -bad_input("'%s' does not end with a newline (a truncated row?); refusing to append", path);
  } else if (write(fd, header.p, header.len) != (ssize_t)header.len) {
    return -bad_input("cannot write header to '%s': %s", path, strerror(errno));
  }
  flock(fd, LOCK_UN);
  gcl_buf_free(&header);
  return fd;
}

/* --- rows ------------------------------------------------------------------------------------ */

static int record_column(const char *key) {
  for (int i = 0; i < GCL_NCOLS; i++)
    if (col_origin[i] == GCL_ORIGIN_RECORD && strcmp(col_names[i], key) == 0) return i;
  return -1;
}

/* Split the record into vals[] (pointing into it). Returns NULL, or an error status into
 * err. *complete says whether the record ended with `end`. */
static const char *parse_record(char *rec, const char *vals[], bool *complete, char *err,
                                size_t len) {
  *complete = false;
  if (!rec) return NULL;
  for (char *line = rec; *line;) {
    char *nl = strchr(line, '\n');
    if (!nl) {
      snprintf(err, len, "error:record line without a newline");
      return err;
    }
    *nl = 0;
    if (*complete) {
      snprintf(err, len, "error:record data after end");
      return err;
    }
    if (strcmp(line, "end") == 0) {
      *complete = true;
    } else {
      char *eq = strchr(line, '=');
      if (!eq) {
        snprintf(err, len, "error:malformed record line '%.60s'", line);
        return err;
      }
      *eq = 0;
      int c = record_column(line);
      if (c < 0) {
        snprintf(err, len, "error:unknown record key %.60s", line);
        return err;
      }
      if (vals[c]) {
        snprintf(err, len, "error:duplicate record key %s", line);
        return err;
      }
      vals[c] = eq + 1;
    }
    line = nl + 1;
  }
  return NULL;
}

static bool valid_record_status(const char *s) {
  return strcmp(s, "ok") == 0 || strncmp(s, "wrong:", 6) == 0 || strncmp(s, "invalid:", 8) == 0 ||
         strncmp(s, "error:", 6) == 0;
}

/* The status of a finished cell, and its record's values in vals[]. */
static const char *cell_status(struct gcl_cell_result *res, const char *vals[], char *buf, size_t len) {
  if (res->end == GCL_CELL_SPAWN_FAILED) {
    snprintf(buf, len, "error:%s", res->why);
    return buf;
  }
  if (res->end == GCL_CELL_TIMEOUT) return "timeout"; /* a record, if any, is not trusted */
  if (res->record_overflow) {
    snprintf(buf, len, "error:record larger than %d bytes", GCL_RECORD_MAX);
    return buf;
  }
  bool complete;
  const char *got[GCL_NCOLS] = {0};
  const char *err = parse_record(res->record.p, got, &complete, buf, len);
  /* A crashed runner's record counts only if it was complete and well formed. */
  if (res->end != GCL_CELL_SIGNALED || (complete && !err)) memcpy(vals, got, sizeof got);
  if (res->end == GCL_CELL_SIGNALED) {
    const char *abbrev = sigabbrev_np(res->term_signal);
    if (abbrev)
      snprintf(buf, len, "crash:SIG%s", abbrev);
    else
      snprintf(buf, len, "crash:signal %d", res->term_signal);
    return buf;
  }
  if (err) return err;
  const char *st = vals[GCL_COL_status];
  if (res->exit_status != 0) {
    if (complete && st && strncmp(st, "error:", 6) == 0) return st;
    snprintf(buf, len, "error:runner exit status %d %s", res->exit_status,
             complete ? "after its record" : res->record.len ? "with an incomplete record" : "without a record");
    return buf;
  }
  if (!complete) {
    snprintf(buf, len, "error:runner exited 0 %s", res->record.len ? "with an incomplete record" : "without a record");
    return buf;
  }
  if (!st) return "error:record has no status";
  if (!valid_record_status(st)) {
    snprintf(buf, len, "error:bad record status '%.60s'", st);
    return buf;
  }
  return st;
}

static void fmt_time(char *out, size_t len, struct timeval tv) {
  snprintf(out, len, "%ld.%06ld", (long)tv.tv_sec, (long)tv.tv_usec);
}

static char *read_cpu_model(void) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return NULL;
  char line[512];
  char *model = NULL;
  static const char *const keys[] = {"model name", "Model", "cpu model", "Hardware"};
  while (!model && fgets(line, sizeof line, f)) {
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
      size_t n = strlen(keys[k]);
      if (strncmp(line, keys[k], n) != 0 || !strchr(line + n, ':')) continue;
      if (strspn(line + n, " \t") != strcspn(line + n, ":")) continue; /* "model" vs "model name" */
      char *v = strchr(line + n, ':') + 1;
      v += strspn(v, " \t");
      v[strcspn(v, "\r\n")] = 0;
      if (*v) model = gcl_must_strdup(v);
      break;
    }
  }
  fclose(f);
  return model;
}

/* --- summary -------------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median of the non-NaN values; NAN if none. */
static double median(double *v, unsigned n) {
  unsigned k = 0;
  for (unsigned i = 0; i < n; i++)
    if (!isnan(v[i])) v[k++] = v[i];
  if (!k) return NAN;
  qsort(v, k, sizeof *v, cmp_double);
  return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

static void print_summary(const struct run_opts *o, const struct cell_sum *cells, unsigned ncells,
                          bool *mismatch) {
  enum { NCOL = 9 };
  const char *head[NCOL] = {"collector", "allocator", "workload", "threads", "ok/n",
                            "median_wall_s", "median_max_rss_kb", "objects_leaked", "first_failure"};
  bool show_placement = o->placement.n > 1 || strcmp(o->placement.v[0], "none") != 0;
  if (show_placement) head[3] = "threads@placement";
  /* One table row per (collector, allocator, workload, threads): cells are contiguous. */
  char ***tab = NULL;
  unsigned nrows = 0;
  size_t width[NCOL] = {0};
  for (unsigned i = 0; i < ncells;) {
    unsigned j = i;
    while (j < ncells && cells[j].c == cells[i].c && cells[j].a == cells[i].a &&
           cells[j].w == cells[i].w && cells[j].t == cells[i].t && cells[j].p == cells[i].p)
      j++;
    unsigned ok = 0;
    double *walls = gcl_must_realloc(NULL, (j - i) * sizeof *walls), *rss = gcl_must_realloc(NULL, (j - i) * sizeof *rss);
    const char *leak_lo = NULL, *leak_hi = NULL, *fail = "";
    for (unsigned k = i; k < j; k++) {
      walls[k - i] = rss[k - i] = NAN;
      if (cells[k].cls != CLS_OK) {
        if (!*fail) fail = cells[k].status;
        continue;
      }
      ok++;
      walls[k - i] = cells[k].wall;
      rss[k - i] = cells[k].rss;
      const char *l = cells[k].leaked;
      if (!l) continue;
      if (!leak_lo || strtod(l, NULL) < strtod(leak_lo, NULL)) leak_lo = l;
      if (!leak_hi || strtod(l, NULL) > strtod(leak_hi, NULL)) leak_hi = l;
    }
    char **row = gcl_must_realloc(NULL, NCOL * sizeof *row);
    struct gcl_buf b[NCOL] = {{0}};
    gcl_buf_puts(&b[0], o->collectors.v[cells[i].c]);
    gcl_buf_puts(&b[1], o->allocators.v[cells[i].a]);
    gcl_buf_puts(&b[2], o->workloads.v[cells[i].w]);
    gcl_buf_puts(&b[3], o->threads.v[cells[i].t]);
    if (show_placement) gcl_buf_printf(&b[3], "@%s", o->placement.v[cells[i].p]);
    gcl_buf_printf(&b[4], "%u/%u", ok, j - i);
    double mw = median(walls, j - i), mr = median(rss, j - i);
    if (isnan(mw)) gcl_buf_puts(&b[5], "-"); else gcl_buf_printf(&b[5], "%.4g", mw);
    if (isnan(mr)) gcl_buf_puts(&b[6], "-"); else gcl_buf_printf(&b[6], "%.0f", mr);
    if (!leak_lo) gcl_buf_puts(&b[7], "-");
    else if (strcmp(leak_lo, leak_hi) == 0) gcl_buf_puts(&b[7], leak_lo);
    else gcl_buf_printf(&b[7], "%s..%s", leak_lo, leak_hi);
    gcl_buf_printf(&b[8], "%.70s", *fail ? fail : "-");
    for (int c = 0; c < NCOL; c++) {
      row[c] = b[c].p;
      if (strlen(row[c]) > width[c]) width[c] = strlen(row[c]);
    }
    tab = gcl_must_realloc(tab, (nrows + 1) * sizeof *tab);
    tab[nrows++] = row;
    free(walls);
    free(rss);
    i = j;
  }
  for (int c = 0; c < NCOL; c++)
    if (strlen(head[c]) > width[c]) width[c] = strlen(head[c]);
  for (int c = 0; c < NCOL; c++) printf("%-*s%s", c < NCOL - 1 ? (int)width[c] : 0, head[c], c < NCOL - 1 ? "  " : "\n");
  for (unsigned r = 0; r < nrows; r++)
    for (int c = 0; c < NCOL; c++)
      printf("%-*s%s", c < NCOL - 1 ? (int)width[c] : 0, tab[r][c], c < NCOL - 1 ? "  " : "\n");

  /* Checksums: every ok row of one workload with the same threads and seed must agree,
   * whatever the collector and allocator. */
  for (unsigned w = 0; w < o->workloads.n; w++) {
    unsigned nok = 0, bad = 0;
    for (unsigned i = 0; i < ncells; i++) {
      if (cells[i].w != w || cells[i].cls != CLS_OK) continue;
      nok++;
      for (unsigned j = 0; j < i; j++) {
        if (cells[j].w != w || cells[j].cls != CLS_OK || cells[j].t != cells[i].t ||
            cells[j].seed != cells[i].seed)
          continue;
        const char *x = cells[i].checksum ? cells[i].checksum : "(none)";
        const char *y = cells[j].checksum ? cells[j].checksum : "(none)";
        if (strcmp(x, y) != 0 && bad++ < 5)
          printf("checksums %s: *** MISMATCH *** threads=%s seed=%llu: %s/%s rep %u = %s but "
                 "%s/%s rep %u = %s\n",
                 o->workloads.v[w], o->threads.v[cells[i].t], (unsigned long long)cells[i].seed,
                 o->collectors.v[cells[j].c], o->allocators.v[cells[j].a], cells[j].rep, y,
                 o->collectors.v[cells[i].c], o->allocators.v[cells[i].a], cells[i].rep, x);
        break; /* compared with the first earlier match; agreement is transitive */
      }
    }
    if (bad) {
      *mismatch = true;
      printf("checksums %s: *** MISMATCH *** in %u of %u ok rows: some result is wrong\n", o->workloads.v[w], bad, nok);
      fprintf(stderr, "gclab run: *** CHECKSUM MISMATCH in workload %s *** (see the summary)\n", o->workloads.v[w]);
    } else if (nok)
      printf("checksums %s: all %u ok rows agree (compared per threads and seed)\n", o->workloads.v[w], nok);
    else
      printf("checksums %s: no ok rows to compare\n", o->workloads.v[w]);
  }
}

/* --- cells, resume, shuffle ---------------------------------------------------------------- */

/* One cell of the matrix: axis indices. */
struct cell {
  unsigned c, a, w, t, p, rep; /* collector, allocator, workload, threads, placement, rep */
};

static int sum_cmp(const void *pa, const void *pb) {
  const struct cell_sum *x = pa, *y = pb;
  const unsigned kx[6] = {x->c, x->a, x->w, x->t, x->p, x->rep}, ky[6] = {y->c, y->a, y->w, y->t, y->p, y->rep};
  for (int i = 0; i < 6; i++)
    if (kx[i] != ky[i]) return kx[i] < ky[i] ? -1 : 1;
  return 0;
}

static int str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The identity of a row for --resume: every field that makes a cell. */
static char *resume_key(const char *const f[10]) {
  struct gcl_buf b = {0};
  for (int i = 0; i < 10; i++) gcl_buf_printf(&b, "%s\x1f", f[i]);
  return b.p;
}

static const char *const resume_cols[10] = {"collector", "allocator", "workload", "params", "threads",
                                            "placement", "iterations", "scale", "seed", "rep"};

/* Keys of the rows already in `path` (sorted); 0, or 2 after one line. A missing or
 * empty file has none. */
static int resume_keys(const char *path, char ***keys, size_t *n) {
  *keys = NULL;
  *n = 0;
  struct stat st;
  if (stat(path, &st) != 0 || st.st_size == 0) return 0;
  struct gcl_csv csv;
  if (gcl_csv_read(&csv, "gclab run --resume", path) != 0) return 2;
  int col[10];
  for (int i = 0; i < 10; i++)
    if ((col[i] = gcl_csv_require(&csv, resume_cols[i])) < 0) return 2;
  if (gcl_csv_check_version(&csv, "schema_version", GCL_SCHEMA_VERSION, GCL_SCHEMA_VERSION) != 0) return 2;
  *keys = gcl_must_realloc(NULL, (csv.nrows + 1) * sizeof **keys);
  for (size_t r = 0; r < csv.nrows; r++) {
    const char *f[10];
    for (int i = 0; i < 10; i++) f[i] = gcl_csv_get(&csv, r, (size_t)col[i]);
    (*keys)[(*n)++] = resume_key(f);
  }
  qsort(*keys, *n, sizeof **keys, str_cmp);
  gcl_csv_free(&csv);
  return 0;
}

/* splitmix64: the shuffle's generator. */
static uint64_t mix64(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* --- events and trace ---------------------------------------------------------------------- */

#define EVENTS_HEADER "run_id,collector,allocator,workload,threads,placement,rep,cell,thread,start_ns,duration_ns,kind\n"

/* Open the events CSV for appending (header as for the main CSV); fd, or -2. */
static int open_events(const char *path) {
  int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return -bad_input("cannot open events file '%s': %s", path, strerror(errno));
  flock(fd, LOCK_EX);
  struct stat st;
  size_t hl = strlen(EVENTS_HEADER);
  if (fstat(fd, &st) == 0 && st.st_size > 0) {
    char head[sizeof EVENTS_HEADER] = "";
    ssize_t n = pread(fd, head, hl, 0);
    if (n != (ssize_t)hl || memcmp(head, EVENTS_HEADER, hl) != 0)
      return -bad_input("'%s' is not a gclab events file (its header differs); choose another --events", path);
  } else if (write(fd, EVENTS_HEADER, hl) != (ssize_t)hl) {
    return -bad_input("cannot write header to '%s': %s", path, strerror(errno));
  }
  flock(fd, LOCK_UN);
  return fd;
}

/* What the runner wrote to its events file: CSV rows appended to *rows, trace events to
 * *trace (pid = cell number). */
static void collect_events(const char *tmp, const char *const id[7], const char *cell, unsigned pid,
                           struct gcl_buf *rows, struct gcl_buf *trace, bool *first) {
  FILE *f = fopen(tmp, "r");
  if (!f) return;
  char line[512];
  if (trace) {
    gcl_buf_printf(trace, "%s{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%u,\"tid\":0,\"args\":{\"name\":\"",
                   *first ? "" : ",\n", pid);
    for (const char *p = cell; *p; p++) /* cell names hold no quotes or backslashes, but be safe */
      gcl_buf_printf(trace, (*p == '"' || *p == '\\') ? "\\%c" : "%c", *p);
    gcl_buf_puts(trace, "\"}}");
    *first = false;
  }
  while (fgets(line, sizeof line, f)) {
    long long start;
    unsigned long long dur;
    unsigned tid;
    char kind[64];
    if (strncmp(line, "#dropped ", 9) == 0)
      fprintf(stderr, "gclab run: %s: the pause log was full; %s events were not recorded "
              "(mmu_* left empty)\n", cell, strtok(line + 9, "\n"));
    if (line[0] == '#') continue;
    if (sscanf(line, "%lld,%llu,%63[a-z0-9_-],%u", &start, &dur, kind, &tid) != 4) continue;
    if (rows) {
      for (int i = 0; i < 7; i++) {
        gcl_buf_csv_field(rows, id[i]);
        gcl_buf_puts(rows, ",");
      }
      gcl_buf_csv_field(rows, cell);
      gcl_buf_printf(rows, ",%u,%lld,%llu,%s\n", tid, start, dur, kind);
    }
    if (trace)
      gcl_buf_printf(trace, ",\n{\"name\":\"%s\",\"cat\":\"gc\",\"ph\":\"X\",\"pid\":%u,\"tid\":%u,"
                     "\"ts\":%.3f,\"dur\":%.3f}", kind, pid, tid, start / 1e3, dur / 1e3);
  }
  fclose(f);
}

/* --- the progress line ------------------------------------------------------------------------ */

static void fmt_dur(char *out, size_t len, double s) {
  if (s < 60) snprintf(out, len, "%.0fs", s);
  else if (s < 3600) snprintf(out, len, "%dm%02ds", (int)s / 60, (int)s % 60);
  else snprintf(out, len, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

static void progress(unsigned done, unsigned total, double elapsed, unsigned failures) {
  char el[16], eta[16] = "?";
  fmt_dur(el, sizeof el, elapsed);
  if (done) fmt_dur(eta, sizeof eta, elapsed / done * (total - done));
  fprintf(stderr, "\r\033[K[%u/%u] elapsed %s, ETA %s, failures %u", done, total, el, eta, failures);
  fflush(stderr);
}

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* --- the command ---------------------------------------------------------------------------- */

int gcl_cmd_run(int argc, char **argv) {
  struct run_opts o = {.repeat = 3, .scale = 1, .seed = 1, .timeout = 300, .iterations = 1, .out = DEFAULT_OUT};
  int r = parse_args(argc, argv, &o);
  if (r) return r;
  if (o.matrix && (r = apply_matrix(&o))) return r;
  if ((r = finish_args(&o))) return r;
  hwloc_topology_t plan_topo = NULL;
  char why[512];
  if (o.dry_run && gcl_topology_open(&plan_topo, o.topology, why, sizeof why) != 0)
    return bad_input("%s", why);
  struct gcl_catalog cat;
  gcl_catalog_load(&cat);
  if ((r = check_names(&o, &cat))) return r;
  struct sel_workload *sel = gcl_must_realloc(NULL, o.workloads.n * sizeof *sel);
  for (unsigned w = 0; w < o.workloads.n; w++) {
    sel[w] = (struct sel_workload){.info = gcl_catalog_workload(&cat, o.workloads.v[w])};
    if (sel[w].info->nparams > sizeof sel[w].values / sizeof sel[w].values[0]) {
      fprintf(stderr, "gclab run: workload %s has too many parameters\n", sel[w].info->name);
      return 1;
    }
    for (unsigned p = 0; p < sel[w].info->nparams; p++) sel[w].values[p] = sel[w].info->params[p].def;
  }
  if ((r = apply_params(&o, &cat, sel))) return r;
  for (unsigned w = 0; w < o.workloads.n; w++) render_params(&sel[w]);
  double *wl_timeout = gcl_must_realloc(NULL, o.workloads.n * sizeof *wl_timeout);
  for (unsigned w = 0; w < o.workloads.n; w++) {
    wl_timeout[w] = o.timeout;
    for (unsigned i = 0; i < o.nwl_timeouts; i++)
      if (strcmp(o.wl_timeouts[i].workload, o.workloads.v[w]) == 0 && !o.set_timeout) wl_timeout[w] = o.wl_timeouts[i].s;
  }
  /* Every valid pair we will run needs its runner. */
  for (unsigned c = 0; c < o.collectors.n && !o.dry_run; c++)
    for (unsigned a = 0; a < o.allocators.n; a++) {
      const struct gcl_pair_info *p = gcl_catalog_pair(&cat, o.collectors.v[c], o.allocators.v[a]);
      if (!p->invalid_reason[0] && !gcl_runner_exists(p->runner)) {
        fprintf(stderr, "gclab run: runner for %s x %s not found: %s (build it, or set GCLAB_RUNNERS)\n",
                p->collector, p->allocator, p->runner);
        return 1;
      }
    }

  double mcells = (double)o.collectors.n * o.allocators.n * o.workloads.n * o.threads.n *
                  o.placement.n * o.repeat;
  if (mcells > GCL_CELLS_MAX)
    return bad_input("the matrix has %.0f cells; at most %d in one run", mcells, GCL_CELLS_MAX);

  /* The cells: matrix order, then the shard, then --resume, then --shuffle. */
  unsigned reps = (unsigned)o.repeat, nall = (unsigned)mcells, ncells = 0;
  char scale[32], version[16], iters_s[16];
  gcl_num_format(scale, sizeof scale, o.scale);
  snprintf(version, sizeof version, "%d", GCL_SCHEMA_VERSION);
  snprintf(iters_s, sizeof iters_s, "%u", (unsigned)o.iterations);
  char **done_keys = NULL;
  size_t ndone = 0;
  if (o.resume && (r = resume_keys(o.out, &done_keys, &ndone))) return r;
  struct cell *cells = gcl_must_realloc(NULL, (nall ? nall : 1) * sizeof *cells);
  unsigned idx = 0, nskipped = 0;
  for (unsigned c = 0; c < o.collectors.n; c++)
    for (unsigned a = 0; a < o.allocators.n; a++)
      for (unsigned w = 0; w < o.workloads.n; w++)
        for (unsigned t = 0; t < o.threads.n; t++)
          for (unsigned p = 0; p < o.placement.n; p++)
            for (unsigned rep = 0; rep < reps; rep++, idx++) {
              if (o.shard_n && idx % o.shard_n != o.shard_k - 1) continue;
              if (o.resume) {
                char seed_s[24], rep_s[16];
                snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)o.seed + rep);
                snprintf(rep_s, sizeof rep_s, "%u", rep);
                const char *f[10] = {o.collectors.v[c], o.allocators.v[a], sel[w].info->name,
                                     sel[w].params_col, o.threads.v[t], o.placement.v[p], iters_s,
                                     scale, seed_s, rep_s};
                char *key = resume_key(f);
                bool have = ndone && bsearch(&key, done_keys, ndone, sizeof *done_keys, str_cmp);
                free(key);
                if (have) {
                  nskipped++;
                  continue;
                }
              }
              cells[ncells++] = (struct cell){c, a, w, t, p, rep};
            }
  if (o.shuffle) {
    uint64_t st = o.shuffle_seed;
    for (unsigned i = ncells; i > 1; i--) {
      unsigned j = (unsigned)(mix64(&st) % i);
      struct cell tmp = cells[i - 1];
      cells[i - 1] = cells[j];
      cells[j] = tmp;
    }
  }

  if (o.dry_run) {
    printf("matrix%s%s: %u cells", o.name ? " " : "", o.name ? o.name : "", nall);
    if (o.shard_n) printf(", shard %u/%u", o.shard_k, o.shard_n);
    if (o.resume) printf(", %u already in %s", nskipped, o.out);
    printf(", %u to run%s\n", ncells, o.shuffle ? " (shuffled)" : "");
    struct gcl_topo_summary ts;
    gcl_topology_summarize(plan_topo, &ts);
    printf("placement plans for %s: %u packages, %u NUMA nodes, %u cores, %u PUs\n",
           o.topology ? o.topology : "this machine", ts.packages, ts.numa_nodes, ts.cores, ts.pus);
    for (unsigned k = 0; k < ncells; k++) {
      const struct cell *x = &cells[k];
      const struct gcl_pair_info *pair = gcl_catalog_pair(&cat, o.collectors.v[x->c], o.allocators.v[x->a]);
      printf("%u %s %s %s params=%s threads=%s placement=%s rep=%u seed=%llu iterations=%s timeout=%g",
             k + 1, o.collectors.v[x->c], o.allocators.v[x->a], sel[x->w].info->name,
             sel[x->w].params_col, o.threads.v[x->t], o.placement.v[x->p], x->rep,
             (unsigned long long)o.seed + x->rep, iters_s, wl_timeout[x->w]);
      if (pair->invalid_reason[0]) printf(" (invalid: %s)", pair->invalid_reason);
      enum gcl_placement pl;
      gcl_placement_parse(o.placement.v[x->p], &pl);
      if (pl != GCL_PLACE_NONE) {
        unsigned nt = (unsigned)atoi(o.threads.v[x->t]);
        struct gcl_place *plan = gcl_must_realloc(NULL, nt * sizeof *plan);
        gcl_placement_plan(plan_topo, pl, nt, plan);
        printf(" pus=");
        for (unsigned i = 0; i < nt; i++) printf("%s%d", i ? ";" : "", plan[i].pu);
        printf(" nodes_used=%u", gcl_placement_nodes_used(plan, nt));
        free(plan);
      }
      putchar('\n');
    }
    return 0;
  }

  /* Every output is opened (and checked) before the first cell runs. */
  int fd = open_output(o.out, !o.set_out);
  if (fd < 0) return -fd;
  int efd = -1, tfd = -1;
  char *trace_tmp = NULL, ev_tmp[] = "/tmp/gclab-events-XXXXXX";
  if (o.events && (efd = open_events(o.events)) < 0) return -efd;
  if (o.trace) {
    struct gcl_buf t = {0};
    gcl_buf_printf(&t, "%s.tmp", o.trace);
    trace_tmp = t.p;
    tfd = open(trace_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (tfd < 0) return bad_input("cannot write trace file '%s': %s", trace_tmp, strerror(errno));
  }
  if (o.events || o.trace) {
    int t = mkstemp(ev_tmp);
    if (t < 0) return bad_input("cannot create a temporary events file: %s", strerror(errno));
    close(t);
  }
  struct gcl_buf trace = {0};
  bool trace_first = true;
  if (o.trace) gcl_buf_puts(&trace, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
  gcl_signals_install();

  /* What every row shares. */
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  char run_id[40], host[256] = "";
  snprintf(run_id, sizeof run_id, "%llx-%x", (unsigned long long)now.tv_sec, (unsigned)getpid());
  if (gethostname(host, sizeof host - 1) != 0) host[0] = 0;
  char *cpu_model = read_cpu_model();

  bool tty = isatty(2);
  double started = mono_s();
  struct cell_sum *sums = gcl_must_realloc(NULL, (ncells ? ncells : 1) * sizeof *sums);
  unsigned k = 0, nbad = 0;
  int result = 0;
  for (; k < ncells; k++) {
    if (gcl_stop_signal()) goto stopped;
    unsigned c = cells[k].c, a = cells[k].a, w = cells[k].w, t = cells[k].t, pl = cells[k].p, rep = cells[k].rep;
    const struct gcl_pair_info *pair = gcl_catalog_pair(&cat, o.collectors.v[c], o.allocators.v[a]);
    uint64_t seed = (uint64_t)o.seed + rep;
    char seed_s[24], rep_s[16], stbuf[320];
    snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)seed);
    snprintf(rep_s, sizeof rep_s, "%u", rep);
    const char *vals[GCL_NCOLS] = {0};
    const char *status;
    struct gcl_cell_result res = {0};
    bool ran = false;
    if (pair->invalid_reason[0]) {
      snprintf(stbuf, sizeof stbuf, "invalid:%s", pair->invalid_reason);
      status = stbuf;
    } else {
      char *args[24 + 2 * 64];
      int n = 0;
      char rfd[8];
      snprintf(rfd, sizeof rfd, "%d", GCL_RECORD_FD);
      args[n++] = pair->runner;
      args[n++] = "--workload", args[n++] = (char *)sel[w].info->name;
      args[n++] = "--threads", args[n++] = o.threads.v[t];
      args[n++] = "--scale", args[n++] = scale;
      args[n++] = "--seed", args[n++] = seed_s;
      for (unsigned p = 0; p < sel[w].info->nparams; p++) args[n++] = "--param", args[n++] = sel[w].args[p];
      args[n++] = "--record-fd", args[n++] = rfd;
      if (strcmp(o.placement.v[pl], "none") != 0) args[n++] = "--placement", args[n++] = o.placement.v[pl];
      if (o.iterations != 1) args[n++] = "--iterations", args[n++] = iters_s;
      if (o.events || o.trace) {
        if (truncate(ev_tmp, 0) != 0) unlink(ev_tmp); /* the runner creates it again */
        args[n++] = "--events-out", args[n++] = ev_tmp;
      }
      args[n] = NULL;
      gcl_cell_run(args, wl_timeout[w], &res);
      ran = true;
      if (res.end == GCL_CELL_INTERRUPTED) goto stopped;
      status = cell_status(&res, vals, stbuf, sizeof stbuf);
    }
    /* Fill in what gclab knows. */
    char timestamp[32], pw[32], us[32], ss[32], mut[32], rss[24], minflt[24], majflt[24], nv[24], niv[24];
    time_t tnow = time(NULL);
    strftime(timestamp, sizeof timestamp, "%Y-%m-%dT%H:%M:%SZ", gmtime(&tnow));
    vals[GCL_COL_schema_version] = version;
    vals[GCL_COL_run_id] = run_id;
    vals[GCL_COL_timestamp] = timestamp;
    vals[GCL_COL_gclab_version] = gcl_version;
    vals[GCL_COL_host] = host[0] ? host : NULL;
    vals[GCL_COL_cpu_model] = cpu_model;
    vals[GCL_COL_collector] = o.collectors.v[c];
    vals[GCL_COL_allocator] = o.allocators.v[a];
    vals[GCL_COL_workload] = sel[w].info->name;
    vals[GCL_COL_params] = sel[w].params_col;
    vals[GCL_COL_threads] = o.threads.v[t];
    vals[GCL_COL_rep] = rep_s;
    vals[GCL_COL_seed] = seed_s;
    vals[GCL_COL_scale] = scale;
    vals[GCL_COL_placement] = o.placement.v[pl];
    vals[GCL_COL_iterations] = iters_s;
    vals[GCL_COL_status] = status;
    if (ran && res.end != GCL_CELL_SPAWN_FAILED) {
      snprintf(pw, sizeof pw, "%.6f", res.process_wall_s);
      vals[GCL_COL_process_wall_s] = pw;
    }
    if (res.have_rusage) {
      fmt_time(us, sizeof us, res.ru.ru_utime);
      fmt_time(ss, sizeof ss, res.ru.ru_stime);
      snprintf(rss, sizeof rss, "%ld", res.ru.ru_maxrss);
      snprintf(minflt, sizeof minflt, "%ld", res.ru.ru_minflt);
      snprintf(majflt, sizeof majflt, "%ld", res.ru.ru_majflt);
      snprintf(nv, sizeof nv, "%ld", res.ru.ru_nvcsw);
      snprintf(niv, sizeof niv, "%ld", res.ru.ru_nivcsw);
      vals[GCL_COL_user_s] = us, vals[GCL_COL_sys_s] = ss, vals[GCL_COL_max_rss_kb] = rss;
      vals[GCL_COL_minflt] = minflt, vals[GCL_COL_majflt] = majflt;
      vals[GCL_COL_nvcsw] = nv, vals[GCL_COL_nivcsw] = niv;
    }
    double wall, gc;
    if (vals[GCL_COL_wall_s] && vals[GCL_COL_gc_s] && gcl_num_parse(vals[GCL_COL_wall_s], &wall) &&
        gcl_num_parse(vals[GCL_COL_gc_s], &gc)) {
      snprintf(mut, sizeof mut, "%.9g", wall - gc);
      vals[GCL_COL_mutator_s] = mut;
    }
    struct gcl_buf row = {0};
    for (int i = 0; i < GCL_NCOLS; i++) {
      if (i) gcl_buf_puts(&row, ",");
      gcl_buf_csv_field(&row, vals[i]);
    }
    gcl_buf_puts(&row, "\n");
    ssize_t wr = write(fd, row.p, row.len);
    if (wr != (ssize_t)row.len) {
      fprintf(stderr, "gclab run: writing a row to '%s' failed: %s\n", o.out,
              wr < 0 ? strerror(errno) : "short write (disk full?)");
      return 1;
    }
    gcl_buf_free(&row);
    if (ran && (o.events || o.trace)) {
      struct gcl_buf ev = {0}, cellname = {0};
      gcl_buf_printf(&cellname, "%s/%s/%s/t%s/%s/r%u", o.collectors.v[c], o.allocators.v[a],
                     sel[w].info->name, o.threads.v[t], o.placement.v[pl], rep);
      const char *id[7] = {run_id, o.collectors.v[c], o.allocators.v[a], sel[w].info->name,
                           o.threads.v[t], o.placement.v[pl], rep_s};
      collect_events(ev_tmp, id, gcl_buf_str(&cellname), k + 1, o.events ? &ev : NULL,
                     o.trace ? &trace : NULL, &trace_first);
      if (ev.len && write(efd, ev.p, ev.len) != (ssize_t)ev.len) {
        fprintf(stderr, "gclab run: writing events to '%s' failed: %s\n", o.events, strerror(errno));
        return 1;
      }
      gcl_buf_free(&ev);
      gcl_buf_free(&cellname);
    }

    struct cell_sum *s = &sums[k];
    *s = (struct cell_sum){c, a, w, t, pl, rep, seed, CLS_BAD, gcl_must_strdup(status), NULL, NULL, NAN, NAN};
    if (strcmp(status, "ok") == 0) s->cls = CLS_OK;
    else if (strncmp(status, "invalid:", 8) == 0) s->cls = CLS_INVALID;
    else nbad++;
    if (vals[GCL_COL_checksum]) s->checksum = gcl_must_strdup(vals[GCL_COL_checksum]);
    if (vals[GCL_COL_objects_leaked]) s->leaked = gcl_must_strdup(vals[GCL_COL_objects_leaked]);
    if (vals[GCL_COL_wall_s]) gcl_num_parse(vals[GCL_COL_wall_s], &s->wall);
    if (vals[GCL_COL_max_rss_kb]) gcl_num_parse(vals[GCL_COL_max_rss_kb], &s->rss);
    if (tty) fputs("\r\033[K", stderr);
    fprintf(stderr, "gclab: [%u/%u] %s %s %s threads=%s", k + 1, ncells, o.collectors.v[c],
            o.allocators.v[a], sel[w].info->name, o.threads.v[t]);
    if (strcmp(o.placement.v[pl], "none") != 0) fprintf(stderr, " placement=%s", o.placement.v[pl]);
    fprintf(stderr, " rep=%u seed=%s: %s", rep, seed_s, status);
    if (vals[GCL_COL_wall_s]) fprintf(stderr, ", wall %s s", vals[GCL_COL_wall_s]);
    if (vals[GCL_COL_process_wall_s]) fprintf(stderr, ", process %s s", vals[GCL_COL_process_wall_s]);
    fputc('\n', stderr);
    if (tty) progress(k + 1, ncells, mono_s() - started, nbad);
    gcl_buf_free(&res.record);
  }
  if (tty) fputs("\r\033[K", stderr);
  close(fd);

  bool mismatch = false;
  qsort(sums, ncells, sizeof *sums, sum_cmp);
  if (ncells) print_summary(&o, sums, ncells, &mismatch);
  unsigned nok = 0, ninvalid = 0;
  for (unsigned i = 0; i < ncells; i++) nok += sums[i].cls == CLS_OK, ninvalid += sums[i].cls == CLS_INVALID;
  printf("%u rows appended to %s (run_id %s): %u ok, %u invalid, %u failed (wrong, timeout, "
         "crash or error)", ncells, o.out, run_id, nok, ninvalid, nbad);
  if (o.resume) printf("; %u cells already there were skipped", nskipped);
  putchar('\n');
  result = nbad || mismatch ? 1 : 0;
  goto finish;

stopped:;
  int sig = gcl_stop_signal();
  if (tty) fputs("\r\033[K", stderr);
  fprintf(stderr, "gclab run: stopped by SIG%s; the running cell was killed and not recorded; "
          "%u rows appended to %s (--resume continues)\n", sigabbrev_np(sig) ? sigabbrev_np(sig) : "?", k, o.out);
  result = 128 + sig;

finish:
  if (o.events || o.trace) unlink(ev_tmp);
  if (o.trace) {
    /* Written whole, then renamed: a reader never sees half a trace. */
    gcl_buf_puts(&trace, "\n]}\n");
    if (write(tfd, trace.p, trace.len) != (ssize_t)trace.len || close(tfd) != 0 ||
        rename(trace_tmp, o.trace) != 0) {
      fprintf(stderr, "gclab run: cannot write trace '%s': %s\n", o.trace, strerror(errno));
      unlink(trace_tmp);
      if (!result) result = 1;
    }
  }
  return result;
}
