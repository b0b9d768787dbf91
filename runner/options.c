/* SPDX-License-Identifier: MIT */
/* runner/options.c — the runner's command line (see options.h): the core option table,
 * `--opt MODULE.NAME=VALUE`, `--param`, `--help` and the `config` echo.
 *
 * Invariant: every core option is one row of core_opts, and its value reaches struct
 * gcl_run_options only through store_core(), so the table, the parser and --help cannot
 * disagree; load_core() is its inverse, from which the echo is written. */
#include "options.h"

#include <stdlib.h>
#include <string.h>

#include "mutator.h"
#include "typed-option.h"

/* Indices of core_opts, in table order. */
enum core_opt { OPT_WORKLOAD, OPT_THREADS, OPT_SCALE, OPT_SEED, OPT_PLACEMENT, OPT_ITERATIONS,
                OPT_RECORD_FD, OPT_EVENTS_OUT, OPT_SAMPLE_MS, OPT_GIL, OPT_GIL_INTERVAL, OPT_HEAP,
                OPT_FREELISTS, OPT_SLOWDOWN, NCORE };

static const struct gcl_opt_decl core_opts[NCORE] = {
    [OPT_WORKLOAD] = {"workload", GCL_OPT_STRING, "", NULL, NULL, NULL,
                      "workload to run (--describe lists them)"},
    [OPT_THREADS] = {"threads", GCL_OPT_INT, "1", "1", "4096", NULL, "mutator threads"},
    [OPT_SCALE] = {"scale", GCL_OPT_DOUBLE, "1", "0.0001", "10000", NULL,
                   "work multiplier; 1 runs about a second"},
    [OPT_SEED] = {"seed", GCL_OPT_INT, "1", "0", "18446744073709551615", NULL,
                  "seed of every random choice"},
    [OPT_PLACEMENT] = {"placement", GCL_OPT_ENUM, "none", NULL, NULL,
                       "none|compact|scatter|numa-spread", "binding of mutator threads (hwloc)"},
    [OPT_ITERATIONS] = {"iterations", GCL_OPT_INT, "1", "1", "100000", NULL,
                        "runs of the workload in this process"},
    [OPT_RECORD_FD] = {"record_fd", GCL_OPT_INT, "1", "1", "1023", NULL,
                       "file descriptor the result record is written to"},
    [OPT_EVENTS_OUT] = {"events_out", GCL_OPT_STRING, "", NULL, NULL, NULL,
                        "write the pause/phase log to this file"},
    [OPT_SAMPLE_MS] = {"sample_ms", GCL_OPT_DOUBLE, "10", "0", "10000", NULL,
                       "memory sampler period in ms (RSS, live and committed bytes); 0: off"},
    [OPT_GIL] = {"gil", GCL_OPT_BOOL, "false", NULL, NULL, NULL,
                 "one mutator runs at a time: CPython's global interpreter lock (core/GIL.md)"},
    [OPT_GIL_INTERVAL] = {"gil_interval", GCL_OPT_DOUBLE, "5", "0.001", "10000", NULL,
                          "GIL switch interval in milliseconds (sys.setswitchinterval)"},
    [OPT_HEAP] = {"heap", GCL_OPT_SIZE, "0", "0", NULL, NULL,
                  "heap limit: live object bytes (headers included) past which the cell ends "
                  "with status oom; 0: none (the collector's own cap, if any, still applies)"},
    [OPT_FREELISTS] = {"freelists", GCL_OPT_BOOL, "false", NULL, NULL, NULL,
                       "per-type free lists of the types that ask for one (core/freelist.h)"},
    [OPT_SLOWDOWN] = {"slowdown", GCL_OPT_DOUBLE, "0", "0", "10", NULL,
                      "deliberate regression: busy work of F x the window's CPU time added to "
                      "it (runner/README.md)"},
};

static void store_core(struct gcl_run_options *o, enum core_opt k, const union gcl_opt_value *v) {
  switch (k) {
  case OPT_WORKLOAD: o->workload = v->s; break;
  case OPT_THREADS: o->threads = (unsigned)v->i; break;
  case OPT_SCALE: o->scale = v->d; break;
  case OPT_SEED: o->seed = v->u; break;
  case OPT_PLACEMENT: {
    char name[32];
    gcl_opt_format(&core_opts[k], v, name, sizeof name);
    if (gcl_placement_parse(name, &o->placement) != 0) o->placement = GCL_PLACE_NONE;
    break;
  }
  case OPT_ITERATIONS: o->iterations = (unsigned)v->i; break;
  case OPT_RECORD_FD: o->record_fd = (int)v->i; break;
  case OPT_EVENTS_OUT: o->events_out = *v->s ? v->s : NULL; break;
  case OPT_SAMPLE_MS: o->sample_ms = v->d; break;
  case OPT_GIL: o->gil = v->b; break;
  case OPT_GIL_INTERVAL: o->gil_interval_ms = v->d; break;
  case OPT_HEAP: o->heap_bytes = v->u; break;
  case OPT_FREELISTS: o->freelists = v->b; break;
  case OPT_SLOWDOWN: o->slowdown = v->d; break;
  case NCORE: break;
  }
}

/* The inverse of store_core: option K's value in *o, for the echo. */
static void load_core(const struct gcl_run_options *o, enum core_opt k, union gcl_opt_value *v) {
  switch (k) {
  case OPT_WORKLOAD: v->s = o->workload; break;
  case OPT_THREADS: v->i = o->threads; break;
  case OPT_SCALE: v->d = o->scale; break;
  case OPT_SEED: v->u = o->seed; break;
  case OPT_PLACEMENT: {
    char why[128];
    if (gcl_opt_parse(&core_opts[k], gcl_placement_name(o->placement), v, why, sizeof why) != 0) abort();
    break;
  }
  case OPT_ITERATIONS: v->i = o->iterations; break;
  case OPT_RECORD_FD: v->i = o->record_fd; break;
  case OPT_EVENTS_OUT: v->s = o->events_out ? o->events_out : ""; break;
  case OPT_SAMPLE_MS: v->d = o->sample_ms; break;
  case OPT_GIL: v->b = o->gil; break;
  case OPT_GIL_INTERVAL: v->d = o->gil_interval_ms; break;
  case OPT_HEAP: v->u = o->heap_bytes; break;
  case OPT_FREELISTS: v->b = o->freelists; break;
  case OPT_SLOWDOWN: v->d = o->slowdown; break;
  case NCORE: break;
  }
}

/* The command-line spelling of a C name: dashes for underscores. */
static void cli_name(const char *c_name, char *out, size_t len) {
  snprintf(out, len, "%s", c_name);
  for (char *p = out; *p; p++)
    if (*p == '_') *p = '-';
}

/* Parse TEXT for option D into *v, or print one line and return -1. */
static int parse_value(const char *shown, const struct gcl_opt_decl *d, const char *text,
                       union gcl_opt_value *v) {
  char why[256];
  if (gcl_opt_parse(d, text, v, why, sizeof why) == 0) return 0;
  fprintf(stderr, "gclab-run: bad value '%s' for %s: %s\n", text, shown, why);
  return -1;
}

/* `--opt MODULE.NAME=VALUE` against the collector's and allocator's declarations. */
static int set_module_opt(struct gcl_run_options *o, const char *arg) {
  const struct gcl_module *mods[2] = {&gcl_collector_module, &gcl_allocator_module};
  union gcl_opt_value *vals[2] = {o->collector_opts, o->allocator_opts};
  const char *dot = strchr(arg, '.'), *eq = strchr(arg, '=');
  if (!dot || !eq || dot > eq || dot == arg || eq == dot + 1) {
    fprintf(stderr, "gclab-run: bad --opt '%s': expected MODULE.NAME=VALUE\n", arg);
    return -1;
  }
  size_t mlen = (size_t)(dot - arg), nlen = (size_t)(eq - dot - 1);
  for (unsigned k = 0; k < 2; k++) {
    const struct gcl_module *m = mods[k];
    if (strlen(m->name) != mlen || strncmp(m->name, arg, mlen) != 0) continue;
    for (unsigned i = 0; i < m->nopts; i++) {
      if (strlen(m->opts[i].name) != nlen || strncmp(m->opts[i].name, dot + 1, nlen) != 0) continue;
      char shown[160];
      snprintf(shown, sizeof shown, "--opt %s.%s", m->name, m->opts[i].name);
      return parse_value(shown, &m->opts[i], eq + 1, &vals[k][i]);
    }
    fprintf(stderr, "gclab-run: %s %s has no option '%.*s' (it has:", m->kind, m->name, (int)nlen,
            dot + 1);
    for (unsigned i = 0; i < m->nopts; i++) fprintf(stderr, " %s", m->opts[i].name);
    fprintf(stderr, "%s)\n", m->nopts ? "" : " none");
    return -1;
  }
  fprintf(stderr, "gclab-run: --opt '%.*s': this runner's modules are %s and %s\n", (int)mlen, arg,
          gcl_collector_module.name, gcl_allocator_module.name);
  return -1;
}

/* Set every option of the table to its default. */
static void defaults(struct gcl_run_options *o) {
  memset(o, 0, sizeof *o);
  for (unsigned k = 0; k < NCORE; k++) {
    union gcl_opt_value v;
    char why[256];
    if (gcl_opt_parse(&core_opts[k], core_opts[k].def, &v, why, sizeof why) != 0) abort();
    store_core(o, (enum core_opt)k, &v);
  }
  o->workload = NULL;
  gcl_module_defaults(&gcl_collector_module, o->collector_opts);
  gcl_module_defaults(&gcl_allocator_module, o->allocator_opts);
}

/* The value of `--NAME VALUE` / `--NAME=VALUE` at argv[*i] (advancing *i), or NULL (and
 * *missing set when the value is absent) when argv[*i] is not --NAME. */
static const char *flag_value(int argc, char **argv, int *i, const char *name, bool *missing) {
  const char *arg = argv[*i];
  size_t n = strlen(name);
  if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, n) != 0) return NULL;
  if (arg[2 + n] == '=') return arg + 3 + n;
  if (arg[2 + n] != 0) return NULL;
  if (*i + 1 >= argc) {
    *missing = true;
    return NULL;
  }
  return argv[++*i];
}

/* A bool core option: `--NAME=V`, `--NAME V` when V is a bool word, or a bare `--NAME`
 * (true). NULL when argv[*i] is not --NAME. */
static const char *bool_flag_value(int argc, char **argv, int *i, const char *name) {
  const char *arg = argv[*i];
  size_t n = strlen(name);
  if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, n) != 0) return NULL;
  if (arg[2 + n] == '=') return arg + 3 + n;
  if (arg[2 + n] != 0) return NULL;
  static const struct gcl_opt_decl probe = {"b", GCL_OPT_BOOL, "false", NULL, NULL, NULL, ""};
  union gcl_opt_value v;
  char why[64];
  if (*i + 1 < argc && gcl_opt_parse(&probe, argv[*i + 1], &v, why, sizeof why) == 0) return argv[++*i];
  return "true";
}

int gcl_run_options_parse(int argc, char **argv, struct gcl_run_options *o) {
  defaults(o);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--describe") == 0) {
      o->describe = true;
      continue;
    }
    if (strcmp(argv[i], "--help") == 0) {
      o->help = true;
      continue;
    }
    bool missing = false, matched = false;
    const char *v;
    if ((v = flag_value(argc, argv, &i, "opt", &missing))) {
      if (set_module_opt(o, v) != 0) return -1;
      continue;
    }
    if ((v = flag_value(argc, argv, &i, "param", &missing))) {
      if (o->nparams == GCL_RUN_MAX_PARAMS) {
        fprintf(stderr, "gclab-run: more than %d --param arguments\n", GCL_RUN_MAX_PARAMS);
        return -1;
      }
      o->params[o->nparams++] = v;
      continue;
    }
    for (unsigned k = 0; k < NCORE && !matched && !missing; k++) {
      char name[64];
      cli_name(core_opts[k].name, name, sizeof name);
      if (core_opts[k].type == GCL_OPT_BOOL) v = bool_flag_value(argc, argv, &i, name);
      else v = flag_value(argc, argv, &i, name, &missing);
      if (!v) continue;
      char shown[80];
      snprintf(shown, sizeof shown, "--%s", name);
      union gcl_opt_value val;
      if (parse_value(shown, &core_opts[k], v, &val) != 0) return -1;
      store_core(o, (enum core_opt)k, &val);
      matched = true;
    }
    if (matched) continue;
    if (missing)
      fprintf(stderr, "gclab-run: %s needs a value\n", argv[i]);
    else
      fprintf(stderr, "gclab-run: unknown option '%s' (--help lists them)\n", argv[i]);
    return -1;
  }
  return 0;
}

/* "(default D, range LO..HI)" or "(default D, one of a|b)" for --help. */
static void help_line(FILE *out, const char *shown, const struct gcl_opt_decl *d) {
  fprintf(out, "  %-24s %s [%s", shown, d->help, gcl_opt_type_name(d->type));
  if (d->def && *d->def) fprintf(out, ", default %s", d->def);
  if (d->choices) fprintf(out, ", one of %s", d->choices);
  if (d->min || d->max) fprintf(out, ", range %s..%s", d->min ? d->min : "", d->max ? d->max : "");
  fprintf(out, "]\n");
}

void gcl_run_options_help(FILE *out) {
  for (unsigned k = 0; k < NCORE; k++) {
    char name[64], shown[80];
    cli_name(core_opts[k].name, name, sizeof name);
    snprintf(shown, sizeof shown, "--%s", name);
    help_line(out, shown, &core_opts[k]);
  }
  fprintf(out, "  %-24s a workload parameter (repeatable; --describe lists them)\n", "--param NAME=V");
  fprintf(out, "  %-24s workloads, modules, options and figures, for gclab\n", "--describe");
  const struct gcl_module *mods[2] = {&gcl_collector_module, &gcl_allocator_module};
  for (unsigned k = 0; k < 2; k++)
    for (unsigned i = 0; i < mods[k]->nopts; i++) {
      char shown[160];
      snprintf(shown, sizeof shown, "--opt %s.%s=V", mods[k]->name, mods[k]->opts[i].name);
      help_line(out, shown, &mods[k]->opts[i]);
    }
}

/* Append ";name=value" of option D (no ';' before the first). */
static void echo_one(FILE *f, bool *first, const char *prefix, const struct gcl_opt_decl *d,
                     const union gcl_opt_value *v) {
  char text[64];
  if (d->type == GCL_OPT_STRING) /* strings may be long: as they are */
    fprintf(f, "%s%s%s=%s", *first ? "" : ";", prefix, d->name, v->s ? v->s : "");
  else {
    gcl_opt_format(d, v, text, sizeof text);
    fprintf(f, "%s%s%s=%s", *first ? "" : ";", prefix, d->name, text);
  }
  *first = false;
}

char *gcl_run_options_echo(const struct gcl_run_options *o) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) gcl_alloc_failed(0);
  bool first = true;
  /* Every core option but what only routes the run (workload, record fd, events file). */
  for (unsigned k = 0; k < NCORE; k++) {
    if (k == OPT_WORKLOAD || k == OPT_RECORD_FD || k == OPT_EVENTS_OUT) continue;
    union gcl_opt_value v;
    load_core(o, (enum core_opt)k, &v);
    echo_one(f, &first, "", &core_opts[k], &v);
  }
  const struct gcl_module *mods[2] = {&gcl_collector_module, &gcl_allocator_module};
  const union gcl_opt_value *vals[2] = {o->collector_opts, o->allocator_opts};
  for (unsigned k = 0; k < 2; k++) {
    char prefix[80];
    snprintf(prefix, sizeof prefix, "%s.", mods[k]->name);
    for (unsigned i = 0; i < mods[k]->nopts; i++) echo_one(f, &first, prefix, &mods[k]->opts[i], &vals[k][i]);
  }
  if (fclose(f) != 0) gcl_alloc_failed(len);
  return buf;
}

/* One describe field: the text, or '-' when empty or absent. */
static const char *field(const char *s) { return s && *s ? s : "-"; }

void gcl_module_describe(FILE *out, const struct gcl_module *m) {
  fprintf(out, "module %s %s\n", m->kind, m->name);
  for (unsigned i = 0; i < m->nopts; i++) {
    const struct gcl_opt_decl *d = &m->opts[i];
    fprintf(out, "option %s %s %s %s %s %s %s %s\n", m->name, d->name, gcl_opt_type_name(d->type),
            field(d->def), field(d->min), field(d->max), field(d->choices), d->help);
  }
  for (unsigned i = 0; i < m->nfigs; i++)
    fprintf(out, "figure %s %s %s %s\n", m->name, m->figs[i].name, m->figs[i].unit, m->figs[i].help);
}
