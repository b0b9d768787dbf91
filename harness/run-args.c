/* SPDX-License-Identifier: MIT */
/* harness/run-args.c — `gclab run`'s argument table: --help, the flags and their values,
 * the comma-list axes, and the checks that need no catalog (threads canonical, placements
 * known, seed range). See run.h for the order of work.
 *
 * Invariant: nothing here opens, creates or starts anything; bad input is one line and 2. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "placement.h"
#include "run.h"
#include "typed-option.h"
#include "minheap.h"

const char *gcl_run_where;
const char *gcl_run_who = "gclab run";

int gcl_run_bad(const char *fmt, ...) {
  char msg[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* Escaped as one line: a name with a newline or an escape sequence is shown, not obeyed. */
  gcl_msg_line(stderr, "%s: %s%s%s", gcl_run_who, gcl_run_where ? gcl_run_where : "",
               gcl_run_where ? ": " : "", msg);
  return 2;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: gclab run [options]\n"
          "Runs every cell of collector x allocator x options x workload x params x threads x\n"
          "placement x rep in its own process and appends one CSV row per cell (schema:\n"
          "results/README.md).\n"
          "  --matrix FILE       a YAML matrix file (results/README.md); flags override it\n"
          "  --collector a,b     collectors (default: all; gclab list shows them)\n"
          "  --allocator a,b     allocators (default: all)\n"
          "  --workload a,b      workloads (default: all)\n"
          "  --threads 1,2       mutator thread counts, 1..%d (default 1)\n"
          "  --placement a,b     thread placement: " GCL_PLACEMENT_NAMES " (default none)\n"
          "  --gil false,true    GIL mode of the cells (core/GIL.md); an axis, also written\n"
          "                      off,on (default false)\n"
          "  --freelists false,true  per-type free lists of the cells (the runner's --freelists,\n"
          "                      core/freelist.h; effective in a -DGCL_FREELISTS=1 build); an\n"
          "                      axis, also off,on (default false)\n"
          "  --repeat N          repetitions of each cell, 1..%d (default 3)\n"
          "  --iterations N      workload runs in one process, 1..%d (default 1); wall_s is\n"
          "                      their total, iter_wall_s each one\n"
          "  --param k=v         a workload parameter for every selected workload that has k;\n"
          "  --param w.k=v       ... or for workload w only (repeatable; later ones win);\n"
          "                      k=a,b is an axis: one cell per value\n"
          "  --opt M.k=v         option k of module M, a collector or an allocator (repeatable;\n"
          "                      later ones win; M.k=a,b is an axis). It applies only to the\n"
          "                      cells whose collector or allocator is M; other cells run\n"
          "                      unchanged. gclab list --options shows every option\n"
          "  --scale S           work multiplier, %g..%g (default 1)\n"
          "  --seed N            seed of rep 0, 0..2^64-1; rep r uses N + r (default 1)\n"
          "  --timeout SECONDS   per cell (default 300)\n"
          "  --heap 64m,2g       heap limits: live object bytes, headers included (an axis);\n"
          "                      a cell that crosses its limit ends with status oom\n"
          "  --heap-factor 2,3   heap limits as multiples of the minimum heap (an axis), read\n"
          "                      from the gclab minheap cache (run gclab minheap first)\n"
          "  --heap-ref C        the collector whose minimum heap factors multiply (default\n"
          "                      cmark, with --heap-ref-opt cmark.mode=stw)\n"
          "  --heap-ref-opt M.k=v  an option of the reference (repeatable)\n"
          "  --minheap-cache F   the minimum-heap cache (default " GCL_MINHEAP_CACHE ")\n"
          "  --out FILE          CSV to create or append to (default " GCL_DEFAULT_OUT ")\n"
          "  --resume            skip cells that already have a row in --out\n"
          "  --shard K/N         run only cells k (0-based, matrix order) with k mod N = K-1\n"
          "  --shuffle[=SEED]    run the cells in a random order (seeded; default seed 1)\n"
          "  --events FILE       append one CSV row per GC pause or phase\n"
          "  --trace FILE        write the pauses and phases as Chrome/Perfetto trace JSON\n"
          "  --slowdown F        a deliberate regression to test compare with: each runner\n"
          "                      adds busy work of F x its window's CPU time (0..10; 0.25 is\n"
          "                      25%% slower; recorded in config; runner/README.md)\n"
          "  --dry-run           list the cells (and placement plans), run nothing\n"

          "  --topology T        with --dry-run: plan for an hwloc XML file or a synthetic\n"
          "                      topology such as \"numa:4 core:8 pu:2\" (gclab topo)\n"
          "Axis flags also take their other number (--collectors, --workloads, --params, ...),\n"
          "the words of the matrix file.\n"
          "Exit status: 0 every cell ok or invalid; 1 a cell wrong/timeout/crash/error or a\n"
          "checksum mismatch; 2 bad input (nothing run, the CSV untouched).\n",
          GCL_THREADS_MAX, GCL_REPEAT_MAX, GCL_ITERATIONS_MAX, GCL_SCALE_MIN, GCL_SCALE_MAX);
}

bool gcl_axis_has(const struct gcl_axis *ax, const char *s) {
  for (unsigned i = 0; i < ax->n; i++)
    if (strcmp(ax->v[i], s) == 0) return true;
  return false;
}

void gcl_axis_push(struct gcl_axis *ax, char *item, const char *where) {
  ax->v = gcl_must_realloc(ax->v, (ax->n + 1) * sizeof *ax->v);
  ax->where = gcl_must_realloc(ax->where, (ax->n + 1) * sizeof *ax->where);
  ax->where[ax->n] = where ? gcl_must_strdup(where) : NULL;
  ax->v[ax->n++] = item;
}

int gcl_axis_add(struct gcl_axis *ax, const char *opt, const char *list) {
  const char *p = list;
  for (;;) {
    size_t len = strcspn(p, ",");
    char *item = gcl_must_strdup(p);
    item[len] = 0;
    if (!len) return gcl_run_bad("--%s '%s': empty item in the list (expected a,b,...)", opt, list);
    if (gcl_axis_has(ax, item)) return gcl_run_bad("--%s: '%s' is given twice", opt, item);
    gcl_axis_push(ax, item, NULL);
    if (!p[len]) return 0;
    p += len + 1;
  }
}

void gcl_join_words(struct gcl_buf *b, char *const *v, unsigned n) {
  for (unsigned i = 0; i < n; i++) gcl_buf_printf(b, "%s%s", i ? " " : "", v[i]);
}

bool gcl_num_in_range(const char *s, double min, double max, bool whole, bool open_min,
                      double *out, char *expected, size_t len) {
  double v;
  if (!gcl_num_parse(s, &v) || (whole && v != floor(v)) || v > max || v < min ||
      (open_min && v == min)) {
    char lo[32], hi[32];
    gcl_num_format(lo, sizeof lo, min);
    gcl_num_format(hi, sizeof hi, max);
    snprintf(expected, len, "expected %s in %c%s, %s]", whole ? "a whole number" : "a number",
             open_min ? '(' : '[', lo, hi);
    return false;
  }
  *out = v;
  return true;
}

int gcl_number_opt(const char *opt, const char *s, double min, double max, bool whole,
                   bool open_min, double *out) {
  char expected[160];
  if (!gcl_num_in_range(s, min, max, whole, open_min, out, expected, sizeof expected))
    return gcl_run_bad("bad value '%s' for --%s: %s", s, opt, expected);
  return 0;
}

int gcl_seed_opt(const char *opt, const char *s, uint64_t *out) {
  static const struct gcl_opt_decl seed = {"seed", GCL_OPT_INT, "1", "0", "18446744073709551615", NULL, ""};
  union gcl_opt_value v;
  char why[160];
  if (gcl_opt_parse(&seed, s, &v, why, sizeof why) != 0)
    return gcl_run_bad("bad value '%s' for --%s: %s", s, opt, why);
  *out = v.u;
  return 0;
}

/* The options, in the order of the switch in take_value. */
enum { A_COLLECTOR, A_ALLOCATOR, A_WORKLOAD, A_THREADS, A_PARAM, A_OPT, A_REPEAT, A_SCALE, A_SEED,
       A_TIMEOUT, A_OUT, A_PLACEMENT, A_ITERATIONS, A_MATRIX, A_SHARD, A_EVENTS, A_TRACE,
       A_TOPOLOGY, A_HEAP, A_HEAP_FACTOR, A_HEAP_REF, A_HEAP_REF_OPT, A_MINHEAP_CACHE, A_GIL,
       A_FREELISTS, A_SLOWDOWN, A_DRY_RUN, A_RESUME, A_SHUFFLE, A_N, A_FIRST_FLAG = A_DRY_RUN };
static const char *const names[A_N] = {
    "collector", "allocator", "workload", "threads", "param",    "opt",   "repeat",
    "scale",     "seed",      "timeout",  "out",     "placement", "iterations", "matrix",
    "shard",     "events",    "trace",    "topology", "heap", "heap-factor", "heap-ref",
    "heap-ref-opt", "minheap-cache", "gil", "freelists", "slowdown", "dry-run", "resume", "shuffle"};

/* The same flags in their other number, the matrix file's words (matrix-file.c): a
 * flag and a key then read the same either way. */
static const char *const other_number[A_N] = {
    [A_COLLECTOR] = "collectors", [A_ALLOCATOR] = "allocators", [A_WORKLOAD] = "workloads",
    [A_THREADS] = "thread",       [A_PARAM] = "params",         [A_OPT] = "opts",
    [A_PLACEMENT] = "placements", [A_HEAP_FACTOR] = "heap_factor"};

/* A file-name option given once: 0, or 2 after one line. */
static int once(const char **slot, int k, const char *val) {
  if (*slot) return gcl_run_bad("--%s is given twice", names[k]);
  if (!*val && k != A_TOPOLOGY) return gcl_run_bad("--%s needs a file name", names[k]);
  *slot = val;
  return 0;
}

static int take_value(struct gcl_run_opts *o, int k, const char *val) {
  int r = 0;
  bool *set = NULL;
  switch (k) {
  case A_COLLECTOR: r = gcl_axis_add(&o->collectors, names[k], val); break;
  case A_ALLOCATOR: r = gcl_axis_add(&o->allocators, names[k], val); break;
  case A_WORKLOAD: r = gcl_axis_add(&o->workloads, names[k], val); break;
  case A_THREADS: r = gcl_axis_add(&o->threads, names[k], val); break;
  case A_PARAM: gcl_axis_push(&o->params, (char *)val, NULL); break;
  case A_OPT: gcl_axis_push(&o->opts, (char *)val, NULL); break;
  case A_REPEAT: set = &o->set_repeat; r = gcl_number_opt("repeat", val, 1, GCL_REPEAT_MAX, true, false, &o->repeat); break;
  case A_SCALE: set = &o->set_scale; r = gcl_number_opt("scale", val, GCL_SCALE_MIN, GCL_SCALE_MAX, false, false, &o->scale); break;
  case A_SEED: set = &o->set_seed; r = gcl_seed_opt("seed", val, &o->seed); break;
  case A_TIMEOUT: set = &o->set_timeout; r = gcl_number_opt("timeout", val, 0, GCL_TIMEOUT_MAX, false, true, &o->timeout); break;
  case A_OUT:
    set = &o->set_out;
    if (!*val) return gcl_run_bad("--out needs a file name");
    o->out = val;
    break;
  case A_PLACEMENT: r = gcl_axis_add(&o->placement, names[k], val); break;
  case A_ITERATIONS: set = &o->set_iterations; r = gcl_number_opt("iterations", val, 1, GCL_ITERATIONS_MAX, true, false, &o->iterations); break;
  case A_MATRIX: r = once(&o->matrix, k, val); break;
  case A_SHARD: {
    unsigned kk, nn;
    int used = 0;
    if (o->shard_n) return gcl_run_bad("--shard is given twice");
    if (sscanf(val, "%u/%u%n", &kk, &nn, &used) != 2 || val[used] || !isdigit((unsigned char)val[0]) ||
        nn < 1 || kk < 1 || kk > nn)
      return gcl_run_bad("bad value '%s' for --shard: expected K/N with 1 <= K <= N (e.g. 2/4)", val);
    o->shard_k = kk, o->shard_n = nn;
    break;
  }
  case A_EVENTS: r = once(&o->events, k, val); break;
  case A_TRACE: r = once(&o->trace, k, val); break;
  case A_TOPOLOGY: r = once(&o->topology, k, val); break;
  case A_HEAP: r = gcl_axis_add(&o->heaps, names[k], val); break;
  case A_HEAP_FACTOR: r = gcl_axis_add(&o->heap_factors, names[k], val); break;
  case A_HEAP_REF:
    if (o->heap_ref) return gcl_run_bad("--heap-ref is given twice");
    if (!*val) return gcl_run_bad("--heap-ref needs a collector name");
    o->heap_ref = val;
    break;
  case A_HEAP_REF_OPT: gcl_axis_push(&o->heap_ref_opts, (char *)val, NULL); break;
  case A_MINHEAP_CACHE: r = once(&o->minheap_cache, k, val); break;
  case A_GIL: r = gcl_axis_add(&o->gil, names[k], val); break;
  case A_FREELISTS: r = gcl_axis_add(&o->freelists, names[k], val); break;
  case A_SLOWDOWN:
    set = &o->set_slowdown;
    r = gcl_number_opt("slowdown", val, 0, 10, false, false, &o->slowdown);
    o->slowdown_text = val;
    break;
  case A_DRY_RUN: o->dry_run = true; break;
  case A_RESUME: o->resume = true; break;
  case A_SHUFFLE:
    if (o->shuffle) return gcl_run_bad("--shuffle is given twice");
    o->shuffle = true;
    o->shuffle_seed = 1;
    if (val && gcl_seed_opt("shuffle", val, &o->shuffle_seed)) return 2;
    break;
  }
  if (r) return r;
  if (set) {
    if (*set) return gcl_run_bad("--%s is given twice", names[k]);
    *set = true;
  }
  return 0;
}

int gcl_run_parse_args(int argc, char **argv, struct gcl_run_opts *o) {
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      usage(stdout);
      exit(0);
    }
    if (strncmp(arg, "--", 2) != 0) return gcl_run_bad("unexpected argument '%s' (options start with --)", arg);
    const char *name = arg + 2, *eq = strchr(name, '='), *val = NULL;
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    int k = -1;
    for (int j = 0; j < A_N; j++)
      if ((strlen(names[j]) == nlen && strncmp(names[j], name, nlen) == 0) ||
          (other_number[j] && strlen(other_number[j]) == nlen && strncmp(other_number[j], name, nlen) == 0))
        k = j;
    if (k < 0) return gcl_run_bad("unknown option '%s' (gclab run --help lists them)", arg);
    if (k >= A_FIRST_FLAG) {
      if (eq && k != A_SHUFFLE) return gcl_run_bad("--%s takes no value ('%s')", names[k], arg);
      val = eq ? eq + 1 : NULL;
    } else if (eq)
      val = eq + 1;
    else if (i + 1 < argc)
      val = argv[++i];
    else
      return gcl_run_bad("--%s needs a value", names[k]);
    int r = take_value(o, k, val);
    if (r) return r;
  }
  return 0;
}

/* A boolean axis (--gil, --freelists) as canonical "false"/"true", each once. The words
 * are the bool rule of core/typed-option.c (true/false, on/off, yes/no, 1/0), the runner's
 * own rule for its --gil and --freelists. Loop invariant: v[0..i-1] are canonical and
 * distinct. */
static int canonical_bool_axis(struct gcl_axis *ax, const char *flag) {
  const struct gcl_opt_decl decl = {flag, GCL_OPT_BOOL, "false", NULL, NULL, NULL, ""};
  for (unsigned i = 0; i < ax->n; i++) {
    union gcl_opt_value v;
    char why[160];
    gcl_run_where = ax->where[i];
    if (gcl_opt_parse(&decl, ax->v[i], &v, why, sizeof why) != 0)
      return gcl_run_bad("bad value '%s' for --%s: %s", ax->v[i], flag, why);
    const char *canon = v.b ? "true" : "false";
    for (unsigned j = 0; j < i; j++)
      if (strcmp(ax->v[j], canon) == 0)
        return gcl_run_bad("--%s: %s is given twice (as '%s')", flag, canon, ax->v[i]);
    ax->v[i] = gcl_must_strdup(canon);
  }
  return 0;
}

int gcl_run_finish_args(struct gcl_run_opts *o) {
  /* Thread counts as canonical text ("2", not "2.0" or "02"), each once. */
  for (unsigned i = 0; i < o->threads.n; i++) {
    double v = 0;
    gcl_run_where = o->threads.where[i];
    if (gcl_number_opt("threads", o->threads.v[i], 1, GCL_THREADS_MAX, true, false, &v)) return 2;
    char canon[16];
    snprintf(canon, sizeof canon, "%u", (unsigned)v);
    for (unsigned j = 0; j < i; j++)
      if (strcmp(o->threads.v[j], canon) == 0)
        return gcl_run_bad("--threads: %s is given twice (as '%s')", canon, o->threads.v[i]);
    o->threads.v[i] = gcl_must_strdup(canon);
  }
  for (unsigned i = 0; i < o->placement.n; i++) {
    enum gcl_placement pl;
    gcl_run_where = o->placement.where[i];
    if (gcl_placement_parse(o->placement.v[i], &pl) != 0)
      return gcl_run_bad("unknown placement '%s' (expected one of " GCL_PLACEMENT_NAMES ")", o->placement.v[i]);
  }
  if (gcl_heap_axes_canon(&o->heaps, &o->heap_factors) != 0) return 2;
  if (canonical_bool_axis(&o->gil, "gil")) return 2;
  if (canonical_bool_axis(&o->freelists, "freelists")) return 2;
  gcl_run_where = NULL;
  if (o->threads.n == 0) gcl_axis_add(&o->threads, "threads", "1");
  if (o->gil.n == 0) gcl_axis_add(&o->gil, "gil", "false");
  if (o->freelists.n == 0) gcl_axis_add(&o->freelists, "freelists", "false");
  if (o->placement.n == 0) gcl_axis_add(&o->placement, "placement", "none");
  if ((uint64_t)o->repeat - 1 > UINT64_MAX - o->seed)
    return gcl_run_bad("--seed %llu with --repeat %.0f: the last seed (seed + repeat - 1) would "
                       "pass 2^64-1 = 18446744073709551615 (seeds do not wrap)",
                       (unsigned long long)o->seed, o->repeat);
  if (o->topology && !o->dry_run)
    return gcl_run_bad("--topology '%s' plans for another machine: it needs --dry-run (a run uses "
                     "this machine's topology)", o->topology);
  return 0;
}
