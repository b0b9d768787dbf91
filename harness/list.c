/* SPDX-License-Identifier: MIT */
/* harness/list.c — `gclab list`: collectors, allocators, workloads with their parameters
 * (defaults and ranges), every collector x allocator pair marked valid or invalid with the
 * reason, and the ranges of `gclab run`'s own axes. Workloads are what the runners
 * --describe; a runner whose workloads differ from the first one's is flagged as stale.
 * `gclab list --figures` and `--options` print every module's figures and options (the
 * union of every runner's --describe) as a table, one line each, in CSV column order.
 * Exit status: 0, or 1 when no runner could describe the workloads; 2 on a bad argument. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "typed-option.h"

static void print_range(const struct gcl_param_info *p) {
  char def[32], lo[32], hi[32];
  gcl_num_format(def, sizeof def, p->def);
  gcl_num_format(lo, sizeof lo, p->min);
  gcl_num_format(hi, sizeof hi, p->max);
  printf("    --param %s=%s  (%s in [%s, %s]) %s\n", p->name, def,
         p->integer ? "whole number" : "number", lo, hi, p->help);
}

/* Whether two describe outputs name the same workloads and parameters. */
static bool same_workloads(const struct gcl_workload_info *a, unsigned na,
                           const struct gcl_workload_info *b, unsigned nb) {
  if (na != nb) return false;
  for (unsigned i = 0; i < na; i++) {
    if (strcmp(a[i].name, b[i].name) != 0 || a[i].nparams != b[i].nparams) return false;
    for (unsigned p = 0; p < a[i].nparams; p++)
      if (strcmp(a[i].params[p].name, b[i].params[p].name) != 0 ||
          a[i].params[p].def != b[i].params[p].def || a[i].params[p].min != b[i].params[p].min ||
          a[i].params[p].max != b[i].params[p].max)
        return false;
  }
  return true;
}

/* Print rows of N columns aligned; the last column is not padded. */
static void print_table(char ***rows, unsigned nrows, unsigned ncol) {
  size_t w[8] = {0};
  for (unsigned r = 0; r < nrows; r++)
    for (unsigned c = 0; c < ncol; c++)
      if (strlen(rows[r][c]) > w[c]) w[c] = strlen(rows[r][c]);
  for (unsigned r = 0; r < nrows; r++)
    for (unsigned c = 0; c < ncol; c++)
      printf("%-*s%s", c + 1 < ncol ? (int)w[c] : 0, rows[r][c], c + 1 < ncol ? "  " : "\n");
}

static char **row_of(unsigned n, ...) {
  char **row = gcl_must_realloc(NULL, n * sizeof *row);
  va_list ap;
  va_start(ap, n);
  for (unsigned i = 0; i < n; i++) row[i] = gcl_must_strdup(va_arg(ap, const char *));
  va_end(ap);
  return row;
}

/* --figures: module, name, unit, meaning. */
static void list_figures(const struct gcl_catalog *cat) {
  char ***rows = gcl_must_realloc(NULL, (cat->nfigcols + 1) * sizeof *rows);
  unsigned n = 0;
  rows[n++] = row_of(4, "module", "figure", "unit", "meaning");
  for (unsigned i = 0; i < cat->nmodules; i++)
    for (unsigned f = 0; f < cat->modules[i].nfigs; f++) {
      const struct gcl_fig_decl *d = &cat->modules[i].figs[f];
      rows[n++] = row_of(4, cat->modules[i].name, d->name, d->unit, d->help);
    }
  print_table(rows, n, 4);
}

/* --options: module, name, type, default, range or choices, help. */
static void list_options(const struct gcl_catalog *cat) {
  unsigned total = 1;
  for (unsigned i = 0; i < cat->nmodules; i++) total += cat->modules[i].nopts;
  char ***rows = gcl_must_realloc(NULL, total * sizeof *rows);
  unsigned n = 0;
  rows[n++] = row_of(6, "module", "option", "type", "default", "accepted", "help");
  for (unsigned i = 0; i < cat->nmodules; i++)
    for (unsigned k = 0; k < cat->modules[i].nopts; k++) {
      const struct gcl_opt_decl *d = &cat->modules[i].opts[k];
      struct gcl_buf acc = {0};
      if (d->choices) gcl_buf_puts(&acc, d->choices);
      else if (d->min || d->max) gcl_buf_printf(&acc, "[%s, %s]", d->min ? d->min : "-inf", d->max ? d->max : "inf");
      else gcl_buf_puts(&acc, "-");
      rows[n++] = row_of(6, cat->modules[i].name, d->name, gcl_opt_type_name(d->type),
                         *d->def ? d->def : "\"\"", gcl_buf_str(&acc), d->help);
      gcl_buf_free(&acc);
    }
  print_table(rows, n, 6);
}

/* Whether every module a runner describes declares what the union (the first runner that
 * described it) has: the same figures and options, in the same order. */
static bool same_modules(const struct gcl_describe *d, const struct gcl_catalog *cat) {
  for (unsigned i = 0; i < d->nmodules; i++) {
    const struct gcl_module_info *a = &d->modules[i], *b = gcl_catalog_module(cat, a->name);
    if (!b || a->nfigs != b->nfigs || a->nopts != b->nopts) return false;
    for (unsigned f = 0; f < a->nfigs; f++)
      if (strcmp(a->figs[f].name, b->figs[f].name) != 0) return false;
    for (unsigned k = 0; k < a->nopts; k++)
      if (strcmp(a->opts[k].name, b->opts[k].name) != 0 || a->opts[k].type != b->opts[k].type)
        return false;
  }
  return true;
}

int gcl_cmd_list(int argc, char **argv) {
  int what = 0; /* 0: the catalog, 1: --figures, 2: --options */
  if (argc == 2 && strcmp(argv[1], "--figures") == 0) what = 1;
  else if (argc == 2 && strcmp(argv[1], "--options") == 0) what = 2;
  else if (argc > 1) {
    fprintf(stderr, "gclab list: unexpected argument '%s' (expected nothing, --figures or --options)\n", argv[1]);
    return 2;
  }
  struct gcl_catalog cat;
  gcl_catalog_load(&cat);
  if (what) {
    if (!cat.describer) {
      fprintf(stderr, "gclab list: modules unknown: %s\n", cat.describe_error);
      return 1;
    }
    if (what == 1) list_figures(&cat);
    else list_options(&cat);
    return 0;
  }
  printf("gclab %s; runners in %s\n\n", gcl_version, cat.runners_dir);
  printf("collectors:");
  for (unsigned i = 0; i < cat.ncollectors; i++) printf(" %s", cat.collectors[i]);
  printf("\nallocators:");
  for (unsigned i = 0; i < cat.nallocators; i++) printf(" %s", cat.allocators[i]);
  printf("\n\n");

  if (cat.describer) {
    printf("workloads (from %s --describe):\n", cat.describer);
    for (unsigned i = 0; i < cat.nworkloads; i++) {
      const struct gcl_workload_info *w = &cat.workloads[i];
      printf("  %s  %s\n", w->name, w->description);
      if (!w->nparams) printf("    (no parameters)\n");
      for (unsigned p = 0; p < w->nparams; p++) print_range(&w->params[p]);
    }
  } else {
    printf("workloads: unknown: %s\n", cat.describe_error);
  }

  printf("\npairs (collector x allocator):\n");
  int cw = 0, aw = 0;
  for (unsigned i = 0; i < cat.npairs; i++) {
    int c = (int)strlen(cat.pairs[i].collector), a = (int)strlen(cat.pairs[i].allocator);
    cw = c > cw ? c : cw;
    aw = a > aw ? a : aw;
  }
  for (unsigned i = 0; i < cat.npairs; i++) {
    const struct gcl_pair_info *p = &cat.pairs[i];
    printf("  %-*s x %-*s  ", cw, p->collector, aw, p->allocator);
    if (p->invalid_reason[0]) {
      printf("invalid: %s\n", p->invalid_reason);
      continue;
    }
    if (!gcl_runner_exists(p->runner)) {
      printf("valid (runner not built: %s)\n", p->runner);
      continue;
    }
    if (!p->described) {
      printf("valid (runner broken: %s)\n", p->why);
      continue;
    }
    unsigned header = 0;
    const char *text = p->describe_text, *pl = strstr(text, "pair ");
    bool have_header = pl && (pl == text || pl[-1] == '\n') &&
                       sscanf(pl, "pair %*s %*s %u", &header) == 1;
    printf("valid");
    if (have_header) printf(", object header %u bytes", header);
    if (cat.describer && !same_workloads(p->desc.workloads, p->desc.nworkloads, cat.workloads, cat.nworkloads))
      printf(" (STALE: its workloads differ from %s; rebuild)", cat.describer);
    else if (!same_modules(&p->desc, &cat))
      printf(" (STALE: its modules declare other figures or options than another runner's; rebuild)");
    printf("\n");
  }

  printf("\ngclab run axes: --threads 1..%d (default 1)  --repeat 1..%d (default 3)  "
         "--scale %g..%g (default 1)\n"
         "                --seed 0..2^64-1 (default 1; rep r uses seed + r)  "
         "--timeout SECONDS (default 300)\n",
         GCL_THREADS_MAX, GCL_REPEAT_MAX, GCL_SCALE_MIN, GCL_SCALE_MAX);
  return cat.describer ? 0 : 1;
}
