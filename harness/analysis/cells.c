/* SPDX-License-Identifier: MIT */
/* harness/analysis/cells.c — grouping a results CSV into cells (see cells.h). */
#include "cells.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resample.h"

const char *const gcl_key_names[GCL_KEY_N] = {"collector", "allocator", "workload",
                                              "params",    "threads",   "scale",
                                              "placement", "iterations", "options",
                                              "heap_factor", "heap_limit_bytes", "gil",
                                              "freelists"};

const char *gcl_threads_label(const struct gcl_cell *c, char *buf, size_t len) {
  const char *p = c->key[GCL_KEY_PLACEMENT], *it = c->key[GCL_KEY_ITERATIONS];
  bool pl = strcmp(p, "none") != 0, its = strcmp(it, "1") != 0;
  if (!pl && !its) snprintf(buf, len, "%s", c->key[GCL_KEY_THREADS]);
  else if (!its) snprintf(buf, len, "%s@%s", c->key[GCL_KEY_THREADS], p);
  else snprintf(buf, len, "%s@%s/i%s", c->key[GCL_KEY_THREADS], p, it);
  size_t n = strlen(buf);
  if (*c->key[GCL_KEY_HEAP_FACTOR]) snprintf(buf + n, len - n, "/heap x%s", c->key[GCL_KEY_HEAP_FACTOR]);
  else if (*c->key[GCL_KEY_HEAP_LIMIT]) snprintf(buf + n, len - n, "/heap %s", c->key[GCL_KEY_HEAP_LIMIT]);
  return buf;
}

const char *gcl_collector_label(const struct gcl_cell *c, char *buf, size_t len) {
  const char *o = c->key[GCL_KEY_OPTIONS];
  const char *gil = strcmp(c->key[GCL_KEY_GIL], "true") == 0 ? "+gil" : "";
  const char *fl = strcmp(c->key[GCL_KEY_FREELISTS], "true") == 0 ? "+fl" : "";
  if (*o) snprintf(buf, len, "%s%s%s[%s]", c->key[GCL_KEY_COLLECTOR], gil, fl, o);
  else snprintf(buf, len, "%s%s%s", c->key[GCL_KEY_COLLECTOR], gil, fl);
  return buf;
}

/* Columns that identify or describe a run rather than measure it. */
static const char *const not_metrics[] = {
    "schema_version", "run_id", "timestamp", "gclab_version", "host", "cpu_model",
    "collector", "allocator", "workload", "params", "threads", "rep", "seed", "scale",
    "status", "checksum", "config", "placement", "iterations", "iter_wall_s", "pus", "options",
    "heap_factor", "heap_limit_bytes",
    "compiler", "build_type", "build_flags", "sanitizer", "kernel", "libc", "hwloc_version",
    "urcu_version", "malloc_lib", "malloc_env", "thp", "cpu_governor", "yaml_version", "gil",
    "freelists", NULL};

static int num_or_str_cmp(const char *a, const char *b) {
  char *ea, *eb;
  double x = strtod(a, &ea), y = strtod(b, &eb);
  if (*a && *b && !*ea && !*eb && x != y) return (x > y) - (x < y);
  return strcmp(a, b);
}

int gcl_key_cmp(const char *const *a, const char *const *b) {
  static const enum gcl_key order[GCL_KEY_N] = {GCL_KEY_WORKLOAD, GCL_KEY_PARAMS,
                                                GCL_KEY_SCALE, GCL_KEY_COLLECTOR,
                                                GCL_KEY_ALLOCATOR, GCL_KEY_OPTIONS,
                                                GCL_KEY_GIL, GCL_KEY_FREELISTS, GCL_KEY_THREADS,
                                                GCL_KEY_PLACEMENT,
                                                GCL_KEY_ITERATIONS, GCL_KEY_HEAP_FACTOR,
                                                GCL_KEY_HEAP_LIMIT};
  for (int i = 0; i < GCL_KEY_N; i++) {
    enum gcl_key k = order[i];
    int c = k == GCL_KEY_THREADS || k == GCL_KEY_SCALE || k == GCL_KEY_ITERATIONS ||
                    k == GCL_KEY_HEAP_FACTOR || k == GCL_KEY_HEAP_LIMIT ? num_or_str_cmp(a[k], b[k])
                                                       : strcmp(a[k], b[k]);
    if (c) return c;
  }
  return 0;
}

/* Row sorting needs the key columns; qsort has no context argument, so rows are sorted
 * as (key pointers, row index) records. */
struct row_ref {
  const char *key[GCL_KEY_N]; /* the row's key fields */
  size_t row;                 /* row index, the tie-breaker (keeps file order) */
};

static int row_ref_cmp(const void *pa, const void *pb) {
  const struct row_ref *a = pa, *b = pb;
  int c = gcl_key_cmp(a->key, b->key);
  if (c) return c;
  return (a->row > b->row) - (a->row < b->row);
}

int gcl_data_load(struct gcl_data *d, const char *who, const char *path, size_t nmetrics,
                  char **metrics) {
  memset(d, 0, sizeof *d);
  d->nmetrics = nmetrics;
  d->metrics = metrics;
  struct gcl_csv *c = &d->csv;
  if (gcl_csv_read(c, who, path) < 0) return -1;

  int kcol[GCL_KEY_N], mcol[GCL_MAX_METRICS];
  int scol = gcl_csv_require(c, "schema_version");
  if (scol < 0 || gcl_csv_check_version(c, "schema_version", GCL_SCHEMA_OLDEST_READ,
                                        GCL_SCHEMA_VERSION) < 0 ||
      gcl_csv_check_values(c) < 0)
    goto fail;
  long version = c->nrows ? strtol(gcl_csv_get(c, 0, (size_t)scol), NULL, 10) : GCL_SCHEMA_VERSION;
  for (int k = 0; k < GCL_KEY_N; k++) {
    /* Key columns added in schema 2 are absent from schema-1 files (defaults below). */
    bool since2 = k == GCL_KEY_PLACEMENT || k == GCL_KEY_ITERATIONS;
    bool since6 = k == GCL_KEY_HEAP_FACTOR || k == GCL_KEY_HEAP_LIMIT || k == GCL_KEY_GIL;
    if ((since2 && version < 2) || (k == GCL_KEY_OPTIONS && version < 5) || (since6 && version < 6) ||
        (k == GCL_KEY_FREELISTS && version < 7))
      kcol[k] = -1;
    else if ((kcol[k] = gcl_csv_require(c, gcl_key_names[k])) < 0) goto fail;
  }
  int stcol = gcl_csv_require(c, "status");
  if (stcol < 0) goto fail;
  for (size_t m = 0; m < nmetrics; m++)
    if ((mcol[m] = gcl_csv_require(c, metrics[m])) < 0) goto fail;

  size_t nr = c->nrows;
  struct row_ref *refs = malloc((nr ? nr : 1) * sizeof *refs);
  double *vals = malloc((nr ? nr : 1) * (nmetrics ? nmetrics : 1) * sizeof *vals);
  d->vals = vals;
  d->cells = calloc(nr ? nr : 1, sizeof *d->cells);
  if (!refs || !vals || !d->cells) {
    free(refs);
    fprintf(stderr, "%s: %s: out of memory\n", who, path);
    goto fail;
  }
  /* Validate every metric field of every row, whatever its status. */
  for (size_t r = 0; r < nr; r++) {
    for (size_t m = 0; m < nmetrics; m++) {
      double v;
      int got = gcl_csv_number(c, r, (size_t)mcol[m], &v);
      if (got < 0) {
        free(refs);
        goto fail;
      }
    }
    for (int k = 0; k < GCL_KEY_N; k++)
      refs[r].key[k] = kcol[k] >= 0 ? gcl_csv_get(c, r, (size_t)kcol[k])
                                    : k == GCL_KEY_PLACEMENT ? "none"
                                    : k == GCL_KEY_OPTIONS || k == GCL_KEY_HEAP_FACTOR || k == GCL_KEY_HEAP_LIMIT ? ""
                                    : k == GCL_KEY_GIL || k == GCL_KEY_FREELISTS ? "false"
                                                             : "1";
    if (*refs[r].key[GCL_KEY_HEAP_FACTOR]) refs[r].key[GCL_KEY_HEAP_LIMIT] = "";
    refs[r].row = r;
  }
  qsort(refs, nr, sizeof *refs, row_ref_cmp);

  /* Sweep the sorted rows; refs[begin, i) is the current cell. Each cell's samples are
   * carved from vals: cell slot offset = its first sorted row, so slots never overlap. */
  for (size_t begin = 0; begin < nr;) {
    size_t end = begin + 1;
    while (end < nr && gcl_key_cmp(refs[begin].key, refs[end].key) == 0) end++;
    struct gcl_cell *cell = &d->cells[d->ncells++];
    memcpy(cell->key, refs[begin].key, sizeof cell->key);
    cell->rows = end - begin;
    for (size_t m = 0; m < nmetrics; m++) {
      struct gcl_sample *s = &cell->s[m];
      s->x = vals + m * nr + begin;
      s->integral = 1;
    }
    for (size_t i = begin; i < end; i++) {
      size_t r = refs[i].row;
      const char *status = gcl_csv_get(c, r, (size_t)stcol);
      if (strcmp(status, "ok") != 0) {
        if (strncmp(status, "invalid:", 8) == 0) cell->invalid++;
        else cell->failed++;
        cell->oom += strcmp(status, "oom") == 0;
        continue;
      }
      for (size_t m = 0; m < nmetrics; m++) {
        struct gcl_sample *s = &cell->s[m];
        double v;
        if (gcl_csv_number(c, r, (size_t)mcol[m], &v) == 1) {
          s->x[s->n++] = v;
          if (v != floor(v)) s->integral = 0;
        }
      }
    }
    for (size_t m = 0; m < nmetrics; m++) gcl_sort_doubles(cell->s[m].x, cell->s[m].n);
    begin = end;
  }
  free(refs);
  return 0;
fail:
  gcl_data_free(d);
  return -1;
}

void gcl_data_free(struct gcl_data *d) {
  free(d->vals);
  free(d->cells);
  gcl_csv_free(&d->csv);
  d->cells = NULL;
  d->vals = NULL;
  d->ncells = 0;
}

void gcl_stat_of(const struct gcl_sample *s, struct gcl_stat *st) {
  memset(st, 0, sizeof *st);
  st->n = s->n;
  st->few = s->n < GCL_MIN_N;
  if (s->n == 0) return;
  st->median = gcl_median_sorted(s->x, s->n);
  st->has_ci = gcl_boot_median_ci(s->x, s->n, 0, &st->lo, &st->hi) == 0;
  st->has_cv = gcl_cv(s->x, s->n, &st->cv) == 0;
  st->noisy = st->has_cv && st->cv > GCL_NOISY_CV;
}

int gcl_parse_metrics(const char *who, char *arg, char **names, size_t *n) {
  *n = 0;
  char *save = NULL;
  if (!*arg || arg[strlen(arg) - 1] == ',' || arg[0] == ',' || strstr(arg, ",,")) {
    fprintf(stderr, "%s: bad --metric '%s': expected column names separated by commas, "
                    "e.g. wall_s,max_rss_kb\n", who, arg);
    return -1;
  }
  for (char *tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    for (const char *const *nm = not_metrics; *nm; nm++)
      if (strcmp(tok, *nm) == 0) {
        fprintf(stderr, "%s: bad --metric '%s': not a measurement column (metrics are numeric "
                        "columns such as wall_s, gc_s, max_rss_kb, pause_p99_us)\n", who, tok);
        return -1;
      }
    int dup = 0;
    for (size_t i = 0; i < *n; i++) dup |= strcmp(names[i], tok) == 0;
    if (dup) continue;
    if (*n == GCL_MAX_METRICS) {
      fprintf(stderr, "%s: too many metrics in --metric (at most %d)\n", who, GCL_MAX_METRICS);
      return -1;
    }
    names[(*n)++] = tok;
  }
  return 0;
}

int gcl_metric_is_time(const char *metric) {
  size_t n = strlen(metric);
  return (n > 2 && strcmp(metric + n - 2, "_s") == 0) ||
         (n > 3 && strcmp(metric + n - 3, "_us") == 0);
}

const char *gcl_opt_value(int argc, char **argv, int *i, const char *name, int *bad,
                          const char *who) {
  size_t n = strlen(name);
  const char *a = argv[*i];
  if (strncmp(a, name, n) != 0) return NULL;
  if (a[n] == '=') return a + n + 1;
  if (a[n] != '\0') return NULL;
  if (*i + 1 >= argc) {
    fprintf(stderr, "%s: %s needs a value\n", who, name);
    *bad = 1;
    return NULL;
  }
  return argv[++*i];
}

int gcl_metric_arg_keep(struct gcl_metric_arg *ma, const char *who, const char *value) {
  if (strlen(value) >= sizeof ma->text) {
    fprintf(stderr, "%s: --metric value too long (at most %zu characters)\n", who,
            sizeof ma->text - 1);
    return -1;
  }
  strcpy(ma->text, value);
  return 0;
}

int gcl_metric_arg_parse(struct gcl_metric_arg *ma, const char *who) {
  return gcl_parse_metrics(who, ma->text, ma->names, &ma->n);
}
