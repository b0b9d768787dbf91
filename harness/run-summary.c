/* SPDX-License-Identifier: MIT */
/* harness/run-summary.c — the end of `gclab run`: the table of cells on stdout (median
 * wall and RSS of the ok repetitions, leaks, the first failure) and the checksum check
 * (every ok row of one workload, threads and seed must agree across collectors and
 * allocators). The median is analysis/'s (resample.h), the one every command prints.
 *
 * Invariant: the table's rows are in matrix order whatever order the cells ran in. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resample.h"
#include "run.h"

/* Median of the non-NaN values (reordered in place); NAN if none. */
static double median_of(double *v, unsigned n) {
  size_t k = 0;
  for (unsigned i = 0; i < n; i++)
    if (!isnan(v[i])) v[k++] = v[i];
  if (!k) return NAN;
  gcl_sort_doubles(v, k);
  return gcl_median_sorted(v, k);
}

static int sum_cmp(const void *pa, const void *pb) {
  const struct gcl_cell_sum *x = pa, *y = pb;
  const unsigned kx[11] = {x->c, x->a, x->o, x->w, x->v, x->t, x->g, x->f, x->p, x->h, x->rep},
                 ky[11] = {y->c, y->a, y->o, y->w, y->v, y->t, y->g, y->f, y->p, y->h, y->rep};
  for (int i = 0; i < 11; i++)
    if (kx[i] != ky[i]) return kx[i] < ky[i] ? -1 : 1;
  return 0;
}

/* The table: one row per (collector, allocator, options, workload, params, threads, gil,
 * freelists, placement). A collector with chosen options reads
 * "rc-gen[rc-gen.threshold0=700]", one under the GIL "rc-gen+gil", one with free lists on
 * "rc-gen+fl", a
 * workload with a parameter axis "binary-trees[depth=14]". */
static void summary_table(const struct gcl_run_opts *o, const struct gcl_matrix *m,
                          const struct gcl_cell_sum *cells, unsigned ncells) {
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
           cells[j].o == cells[i].o && cells[j].w == cells[i].w && cells[j].v == cells[i].v &&
           cells[j].t == cells[i].t && cells[j].g == cells[i].g && cells[j].f == cells[i].f &&
           cells[j].p == cells[i].p && cells[j].h == cells[i].h)
      j++;
    unsigned ok = 0;
    double *walls = gcl_must_realloc(NULL, (j - i) * sizeof *walls), *rss = gcl_must_realloc(NULL, (j - i) * sizeof *rss);
    const char *leak_lo = NULL, *leak_hi = NULL, *fail = "";
    for (unsigned k = i; k < j; k++) {
      walls[k - i] = rss[k - i] = NAN;
      if (cells[k].cls != GCL_CLS_OK) {
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
    struct gcl_run_cell x = {.c = cells[i].c, .a = cells[i].a, .o = cells[i].o, .w = cells[i].w,
                             .v = cells[i].v, .h = cells[i].h};
    const char *opts = gcl_cell_options(o, m, &x);
    gcl_buf_puts(&b[0], o->collectors.v[cells[i].c]);
    if (strcmp(o->gil.v[cells[i].g], "true") == 0) gcl_buf_puts(&b[0], "+gil");
    if (strcmp(o->freelists.v[cells[i].f], "true") == 0) gcl_buf_puts(&b[0], "+fl");
    if (*opts) gcl_buf_printf(&b[0], "[%s]", opts);
    gcl_buf_puts(&b[1], o->allocators.v[cells[i].a]);
    gcl_buf_puts(&b[2], o->workloads.v[cells[i].w]);
    if (m->sel[x.w].nsets > 1) gcl_buf_printf(&b[2], "[%s]", gcl_cell_params(m, &x));
    gcl_buf_puts(&b[3], o->threads.v[cells[i].t]);
    if (show_placement) gcl_buf_printf(&b[3], "@%s", o->placement.v[cells[i].p]);
    if (gcl_heap_factor_of(o, cells[i].h)) gcl_buf_printf(&b[3], "/heap x%s", gcl_heap_factor_of(o, cells[i].h));
    else if (cells[i].h < o->heaps.n) gcl_buf_printf(&b[3], "/heap %s", o->heaps.v[cells[i].h]);
    gcl_buf_printf(&b[4], "%u/%u", ok, j - i);
    double mw = median_of(walls, j - i), mr = median_of(rss, j - i);
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
}

/* Checksums: every ok row of one workload with the same parameters, threads and seed must
 * agree, whatever the collector, allocator and their options. */
static void summary_checksums(const struct gcl_run_opts *o, const struct gcl_cell_sum *cells,
                              unsigned ncells, bool *mismatch) {
  for (unsigned w = 0; w < o->workloads.n; w++) {
    unsigned nok = 0, bad = 0;
    for (unsigned i = 0; i < ncells; i++) {
      if (cells[i].w != w || cells[i].cls != GCL_CLS_OK) continue;
      nok++;
      for (unsigned j = 0; j < i; j++) {
        if (cells[j].w != w || cells[j].cls != GCL_CLS_OK || cells[j].t != cells[i].t || cells[j].v != cells[i].v ||
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

void gcl_sum_record(struct gcl_cell_sum *s, const struct gcl_run_cell *x, uint64_t seed,
                    const char *status, const char *const vals[]) {
  *s = (struct gcl_cell_sum){x->c, x->a, x->o, x->w, x->v, x->t, x->p, x->g, x->h, x->f, x->rep, seed, GCL_CLS_BAD,
                             gcl_must_strdup(status), NULL, NULL, NAN, NAN};
  if (strcmp(status, "ok") == 0) s->cls = GCL_CLS_OK;
  else if (strncmp(status, "invalid:", 8) == 0) s->cls = GCL_CLS_INVALID;
  else if (strcmp(status, "oom") == 0) s->cls = GCL_CLS_OOM;
  if (vals[GCL_COL_checksum]) s->checksum = gcl_must_strdup(vals[GCL_COL_checksum]);
  if (vals[GCL_COL_objects_leaked]) s->leaked = gcl_must_strdup(vals[GCL_COL_objects_leaked]);
  if (vals[GCL_COL_wall_s]) gcl_num_parse(vals[GCL_COL_wall_s], &s->wall);
  if (vals[GCL_COL_max_rss_kb]) gcl_num_parse(vals[GCL_COL_max_rss_kb], &s->rss);
}

void gcl_print_summary(const struct gcl_run_opts *o, const struct gcl_matrix *m,
                       struct gcl_cell_sum *cells, unsigned ncells, bool *mismatch) {
  qsort(cells, ncells, sizeof *cells, sum_cmp);
  summary_table(o, m, cells, ncells);
  summary_checksums(o, cells, ncells, mismatch);
}
