/* SPDX-License-Identifier: MIT */
/* harness/analysis/table.c — `gclab table FILE.csv [--latex|--markdown] [--metric M,...]`.
 *
 * One table per metric: a row per (workload, params, scale, threads), a column per
 * collector/allocator pair, each entry "median [95% CI]" (bootstrap, as in summary). The
 * params and scale columns appear only when they tell rows apart (params non-empty
 * somewhere, scale not constant). Entries: "-" when the file has no row of that pair for
 * that row, "invalid" when the pair cannot run it, "n/a" when no ok row measured the
 * metric, a dagger when the cell
 * is too noisy to compare (CV > 5%) or has n < 3. LaTeX output uses booktabs rules and
 * escapes LaTeX special characters in every data string. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "cells.h"
#include "emit.h"
#include "resample.h"

#define WHO "gclab table"

static void help(FILE *out) {
  fprintf(out,
          "usage: gclab table FILE.csv [--latex|--markdown] [--metric wall_s]\n"
          "\n"
          "Rows: workload (params, scale when they vary) and threads; columns: collector/allocator.\n"
          "Entries: median [95%% CI] of status=ok repetitions (percentile bootstrap, %d\n"
          "resamples, fixed seed, as in gclab summary); '-' no row of that pair there;\n"
          "'invalid' the pair cannot run that row; 'n/a' no ok row measured the metric;\n"
          "a dagger marks a cell too noisy to compare (CV > %g%%) or with n < %d.\n"
          "\n"
          "  --markdown         GitHub Markdown (default)\n"
          "  --latex            a LaTeX tabular with booktabs rules (\\usepackage{booktabs})\n"
          "  --metric M[,M...]  numeric CSV columns, one table each (default wall_s)\n"
          "Exit status: 0, or 2 on bad input (one line on stderr).\n",
          GCL_BOOT_RESAMPLES, GCL_NOISY_CV * 100, GCL_MIN_N);
}

/* A distinct row or column of the table: the cell whose key it copies. */
struct axis {
  const struct gcl_cell **v; /* one representative cell per distinct entry */
  size_t n;                  /* distinct entries */
};

static int same_row(const struct gcl_cell *a, const struct gcl_cell *b) {
  return strcmp(a->key[GCL_KEY_WORKLOAD], b->key[GCL_KEY_WORKLOAD]) == 0 &&
         strcmp(a->key[GCL_KEY_PARAMS], b->key[GCL_KEY_PARAMS]) == 0 &&
         strcmp(a->key[GCL_KEY_SCALE], b->key[GCL_KEY_SCALE]) == 0 &&
         strcmp(a->key[GCL_KEY_THREADS], b->key[GCL_KEY_THREADS]) == 0 &&
         strcmp(a->key[GCL_KEY_PLACEMENT], b->key[GCL_KEY_PLACEMENT]) == 0 &&
         strcmp(a->key[GCL_KEY_ITERATIONS], b->key[GCL_KEY_ITERATIONS]) == 0;
}

static int same_col(const struct gcl_cell *a, const struct gcl_cell *b) {
  return strcmp(a->key[GCL_KEY_COLLECTOR], b->key[GCL_KEY_COLLECTOR]) == 0 &&
         strcmp(a->key[GCL_KEY_ALLOCATOR], b->key[GCL_KEY_ALLOCATOR]) == 0 &&
         strcmp(a->key[GCL_KEY_OPTIONS], b->key[GCL_KEY_OPTIONS]) == 0 &&
         strcmp(a->key[GCL_KEY_GIL], b->key[GCL_KEY_GIL]) == 0 &&
         strcmp(a->key[GCL_KEY_FREELISTS], b->key[GCL_KEY_FREELISTS]) == 0;
}

/* Row order: the cell order with collector and allocator ignored (ties are the same row). */
static int row_cmp(const void *pa, const void *pb) {
  const struct gcl_cell *a = *(const struct gcl_cell *const *)pa;
  const struct gcl_cell *b = *(const struct gcl_cell *const *)pb;
  const char *ka[GCL_KEY_N], *kb[GCL_KEY_N];
  memcpy(ka, a->key, sizeof ka);
  memcpy(kb, b->key, sizeof kb);
  ka[GCL_KEY_COLLECTOR] = kb[GCL_KEY_COLLECTOR] = "";
  ka[GCL_KEY_ALLOCATOR] = kb[GCL_KEY_ALLOCATOR] = "";
  ka[GCL_KEY_OPTIONS] = kb[GCL_KEY_OPTIONS] = "";
  ka[GCL_KEY_GIL] = kb[GCL_KEY_GIL] = "";
  ka[GCL_KEY_FREELISTS] = kb[GCL_KEY_FREELISTS] = "";
  return gcl_key_cmp(ka, kb);
}

static int col_cmp(const void *pa, const void *pb) {
  const struct gcl_cell *a = *(const struct gcl_cell *const *)pa;
  const struct gcl_cell *b = *(const struct gcl_cell *const *)pb;
  int c = strcmp(a->key[GCL_KEY_COLLECTOR], b->key[GCL_KEY_COLLECTOR]);
  if (!c) c = strcmp(a->key[GCL_KEY_ALLOCATOR], b->key[GCL_KEY_ALLOCATOR]);
  if (!c) c = strcmp(a->key[GCL_KEY_OPTIONS], b->key[GCL_KEY_OPTIONS]);
  if (!c) c = strcmp(a->key[GCL_KEY_GIL], b->key[GCL_KEY_GIL]);
  return c ? c : strcmp(a->key[GCL_KEY_FREELISTS], b->key[GCL_KEY_FREELISTS]);
}

/* Distinct entries of the cells under SAME, sorted by CMP. */
static int build_axis(const struct gcl_data *d, struct axis *ax,
                      int (*same)(const struct gcl_cell *, const struct gcl_cell *),
                      int (*cmp)(const void *, const void *)) {
  ax->n = 0;
  ax->v = malloc((d->ncells ? d->ncells : 1) * sizeof *ax->v);
  if (!ax->v) return -1;
  for (size_t i = 0; i < d->ncells; i++) {
    size_t j = 0;
    while (j < ax->n && !same(ax->v[j], &d->cells[i])) j++;
    if (j == ax->n) ax->v[ax->n++] = &d->cells[i];
  }
  qsort(ax->v, ax->n, sizeof *ax->v, cmp);
  return 0;
}

static void print_metric(const struct gcl_data *d, const char *path, size_t m,
                         const struct axis *rows, const struct axis *cols, enum gcl_fmt fmt) {
  int latex = fmt == GCL_FMT_LATEX;
  int show_params = 0, show_scale = 0;
  for (size_t i = 0; i < d->ncells; i++) {
    show_params |= d->cells[i].key[GCL_KEY_PARAMS][0] != '\0';
    show_scale |= strcmp(d->cells[i].key[GCL_KEY_SCALE], d->cells[0].key[GCL_KEY_SCALE]) != 0;
  }
  char align[32];
  size_t nlab = 2 + (size_t)show_params + (size_t)show_scale;
  size_t ncols = cols->n < sizeof align - 1 - nlab ? cols->n : sizeof align - 1 - nlab;
  memset(align, 'l', nlab);
  memset(align + nlab, 'r', ncols);
  align[nlab + ncols] = '\0';
  struct gcl_tab t;
  gcl_tab_init(&t, fmt, align);

  gcl_tab_put_str(&t, "workload");
  if (show_params) gcl_tab_put_str(&t, "params");
  if (show_scale) gcl_tab_put_str(&t, "scale");
  gcl_tab_put_str(&t, "threads");
  for (size_t c = 0; c < ncols; c++) {
    char cl[1024];
    char *col = gcl_escape(fmt, gcl_collector_label(cols->v[c], cl, sizeof cl));
    char *alloc = gcl_escape(fmt, cols->v[c]->key[GCL_KEY_ALLOCATOR]);
    gcl_tab_put(&t, "%s/%s", col, alloc);
    free(col);
    free(alloc);
  }
  const char *mark = latex ? "$^\\dagger$" : " †";
  int marked = 0;
  for (size_t r = 0; r < rows->n; r++) {
    const struct gcl_cell *rc = rows->v[r];
    gcl_tab_put_str(&t, rc->key[GCL_KEY_WORKLOAD]);
    if (show_params) gcl_tab_put_str(&t, rc->key[GCL_KEY_PARAMS]);
    if (show_scale) gcl_tab_put_str(&t, rc->key[GCL_KEY_SCALE]);
    char tl[128];
    gcl_tab_put_str(&t, gcl_threads_label(rc, tl, sizeof tl));
    for (size_t c = 0; c < ncols; c++) {
      const struct gcl_cell *cell = NULL;
      for (size_t i = 0; i < d->ncells && !cell; i++)
        if (same_row(&d->cells[i], rc) && same_col(&d->cells[i], cols->v[c])) cell = &d->cells[i];
      if (!cell) {
        gcl_tab_put(&t, latex ? "--" : "-");
        continue;
      }
      struct gcl_stat st;
      gcl_stat_of(&cell->s[m], &st);
      if (st.n == 0) {
        gcl_tab_put(&t, cell->invalid == cell->rows ? "invalid" : "n/a");
        continue;
      }
      int dec = gcl_decimals(st.median, cell->s[m].integral);
      char a[48], b[48], ci[112] = "";
      if (st.has_ci)
        snprintf(ci, sizeof ci, " [%s, %s]", gcl_fmt_num(a, st.lo, dec), gcl_fmt_num(b, st.hi, dec));
      int noisy = st.noisy || st.few;
      marked |= noisy;
      gcl_tab_put(&t, "%s%s%s", gcl_fmt_num(a, st.median, dec), ci, noisy ? mark : "");
    }
  }
  char foot[160];
  if (marked) {
    snprintf(foot, sizeof foot,
             latex ? "\\footnotesize $^\\dagger$ too noisy to compare: CV $>$ %g\\%% or $n < %d$"
                   : "† too noisy to compare: CV > %g%% or n < %d",
             GCL_NOISY_CV * 100, GCL_MIN_N);
    t.foot = foot;
  }
  if (latex) {
    printf("%% gclab table: %s, median [95%% CI], from %s\n", d->metrics[m], path);
  } else {
    char *mname = gcl_escape(fmt, d->metrics[m]);
    char *pname = gcl_escape(fmt, path);
    printf("%s: median [95%% CI] per cell, from %s\n\n", mname, pname);
    free(mname);
    free(pname);
  }
  if (ncols < cols->n)
    fprintf(stderr, WHO ": warning: %zu collector/allocator columns left out (at most %zu)\n",
            cols->n - ncols, ncols);
  gcl_tab_print(&t, stdout);
  gcl_tab_free(&t);
}

int gcl_cmd_table(int argc, char **argv) {
  const char *path = NULL;
  struct gcl_metric_arg ma = {.text = "wall_s"};
  enum gcl_fmt fmt = GCL_FMT_MARKDOWN;
  int chose = 0;
  for (int i = 1; i < argc; i++) {
    int bad = 0;
    const char *v;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      help(stdout);
      return 0;
    } else if (strcmp(argv[i], "--latex") == 0 || strcmp(argv[i], "--markdown") == 0) {
      enum gcl_fmt f = argv[i][2] == 'l' ? GCL_FMT_LATEX : GCL_FMT_MARKDOWN;
      if (chose && f != fmt) {
        fprintf(stderr, WHO ": give one of --latex and --markdown, not both\n");
        return 2;
      }
      fmt = f;
      chose = 1;
    } else if ((v = gcl_opt_value(argc, argv, &i, "--metric", &bad, WHO))) {
      if (gcl_metric_arg_keep(&ma, WHO, v) < 0) return 2;
    } else if (bad) {
      return 2;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      fprintf(stderr, WHO ": unknown option '%s' (accepted: --latex, --markdown, --metric, --help)\n",
              argv[i]);
      return 2;
    } else if (!path) {
      path = argv[i];
    } else {
      fprintf(stderr, WHO ": unexpected argument '%s': give one FILE.csv\n", argv[i]);
      return 2;
    }
  }
  if (!path) {
    fprintf(stderr, "usage: gclab table FILE.csv [--latex|--markdown] [--metric wall_s]\n");
    return 2;
  }
  if (gcl_metric_arg_parse(&ma, WHO) < 0) return 2;
  struct gcl_data d;
  if (gcl_data_load(&d, WHO, path, ma.n, ma.names) < 0) return 2;
  struct axis rows = {0}, cols = {0};
  if (build_axis(&d, &rows, same_row, row_cmp) < 0 || build_axis(&d, &cols, same_col, col_cmp) < 0) {
    fprintf(stderr, WHO ": out of memory\n");
    free(rows.v);
    free(cols.v);
    gcl_data_free(&d);
    return 2;
  }
  for (size_t m = 0; m < ma.n; m++) {
    if (m) putchar('\n');
    print_metric(&d, path, m, &rows, &cols, fmt);
  }
  free(rows.v);
  free(cols.v);
  gcl_data_free(&d);
  return 0;
}
