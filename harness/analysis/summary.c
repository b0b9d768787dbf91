/* SPDX-License-Identifier: MIT */
/* harness/analysis/summary.c — `gclab summary FILE.csv [--metric M,...] [--format F]`.
 *
 * For every cell and metric: n (status=ok rows with a measured value), the median, its
 * 95% percentile-bootstrap confidence interval and the coefficient of variation, with a
 * note on cells that are too noisy to compare (CV > 5%) or have n < 3. Output is a pure
 * function of the file's contents (fixed bootstrap seed; see resample.h). */
#include <stdio.h>
#include <string.h>

#include "analysis.h"
#include "cells.h"
#include "emit.h"
#include "resample.h"

#define WHO "gclab summary"

static void help(FILE *out) {
  fprintf(out,
          "usage: gclab summary FILE.csv [--metric wall_s,max_rss_kb] [--format text|markdown|json]\n"
          "\n"
          "Per cell (collector, allocator, options, workload, params, threads, scale,\n"
          "placement, iterations) and metric (any numeric column, MODULE.FIGURE included):\n"
          "  n        repetitions with status ok and a measured value (empty = not measured)\n"
          "  failed   rows whose status is wrong:*, oom, timeout, crash or error (never part of\n"
          "           the statistics; rows of an invalid pair are not counted as failed)\n"
          "  median   the sample median\n"
          "  95%% CI   percentile bootstrap of the median: %d resamples drawn by splitmix64\n"
          "           from the fixed seed 0x%016llx over the sorted sample, so the same\n"
          "           values always give the same interval (results/plot.py agrees)\n"
          "  CV       sample standard deviation / mean\n"
          "  note     'noisy' when CV > %g%% (too noisy to compare), 'n<%d' when n < %d\n"
          "\n"
          "  --metric M[,M...]  numeric CSV columns to summarize (default wall_s)\n"
          "  --format F         text (default), markdown or json\n"
          "Exit status: 0, or 2 on bad input (one line on stderr).\n",
          GCL_BOOT_RESAMPLES, (unsigned long long)GCL_BOOT_SEED, GCL_NOISY_CV * 100, GCL_MIN_N,
          GCL_MIN_N);
}

static void note(const struct gcl_cell *c, const struct gcl_stat *st, char *buf, size_t len) {
  buf[0] = '\0';
  if (c->oom) /* out of its heap: said apart from the other failures */
    snprintf(buf, len, "%zu oom%s", c->oom, st->n == 0 ? "" : ", ");
  if (st->n == 0 && c->oom) return;
  if (st->n == 0) {
    snprintf(buf, len, "%s", c->invalid == c->rows ? "invalid pair (not run)"
                             : c->failed + c->invalid == c->rows ? "no ok row" : "not measured");
    return;
  }
  if (st->noisy)
    snprintf(buf + strlen(buf), len - strlen(buf), "noisy (CV > %g%%)", GCL_NOISY_CV * 100);
  if (st->few)
    snprintf(buf + strlen(buf), len - strlen(buf), "%sn<%d",
             buf[0] && buf[strlen(buf) - 1] != ' ' ? ", " : "", GCL_MIN_N);
}

static void print_table(const struct gcl_data *d, size_t m, enum gcl_fmt fmt) {
  struct gcl_tab t;
  gcl_tab_init(&t, fmt, "llrllrrrrrrl");
  const char *head[] = {"workload", "params", "scale", "collector", "allocator", "threads",
                        "n", "failed", "median", "95% CI", "CV", "note"};
  for (size_t i = 0; i < sizeof head / sizeof head[0]; i++) gcl_tab_put_str(&t, head[i]);
  size_t nnoisy = 0, nfew = 0;
  for (size_t i = 0; i < d->ncells; i++) {
    const struct gcl_cell *c = &d->cells[i];
    struct gcl_stat st;
    gcl_stat_of(&c->s[m], &st);
    gcl_tab_put_str(&t, c->key[GCL_KEY_WORKLOAD]);
    gcl_tab_put_str(&t, c->key[GCL_KEY_PARAMS]);
    gcl_tab_put_str(&t, c->key[GCL_KEY_SCALE]);
    char cl[1024], tl[128];
    gcl_tab_put_str(&t, gcl_collector_label(c, cl, sizeof cl));
    gcl_tab_put_str(&t, c->key[GCL_KEY_ALLOCATOR]);
    gcl_tab_put_str(&t, gcl_threads_label(c, tl, sizeof tl));
    gcl_tab_put(&t, "%zu", st.n);
    gcl_tab_put(&t, "%zu", c->failed);
    int dec = gcl_decimals(st.median, c->s[m].integral);
    char a[48], b[48];
    if (st.n) gcl_tab_put(&t, "%s", gcl_fmt_num(a, st.median, dec));
    else gcl_tab_put(&t, "n/a");
    if (st.has_ci)
      gcl_tab_put(&t, "[%s, %s]", gcl_fmt_num(a, st.lo, dec), gcl_fmt_num(b, st.hi, dec));
    else gcl_tab_put(&t, "n/a");
    if (st.has_cv) gcl_tab_put(&t, "%.1f%%", st.cv * 100);
    else gcl_tab_put(&t, "n/a");
    char nb[64];
    note(c, &st, nb, sizeof nb);
    gcl_tab_put_str(&t, nb);
    nnoisy += st.noisy;
    nfew += st.n > 0 && st.few;
  }
  if (fmt == GCL_FMT_MARKDOWN) printf("### %s\n\n", d->metrics[m]);
  else printf("%s:\n", d->metrics[m]);
  gcl_tab_print(&t, stdout);
  gcl_tab_free(&t);
  printf("%s%zu cells; %zu too noisy to compare (CV > %g%%), %zu with n < %d. "
         "95%% CI: percentile bootstrap of the median, %d resamples, fixed seed.\n",
         fmt == GCL_FMT_MARKDOWN ? "\n" : "", d->ncells, nnoisy, GCL_NOISY_CV * 100, nfew,
         GCL_MIN_N, GCL_BOOT_RESAMPLES);
}

static void print_json(const struct gcl_data *d, const char *path) {
  printf("{\"file\": ");
  gcl_json_str(stdout, path);
  printf(", \"bootstrap\": {\"method\": \"percentile\", \"resamples\": %d, \"seed\": \"0x%016llx\", "
         "\"level\": %g},\n \"noisy_cv\": %g, \"min_n\": %d,\n \"metrics\": [",
         GCL_BOOT_RESAMPLES, (unsigned long long)GCL_BOOT_SEED, GCL_BOOT_LEVEL, GCL_NOISY_CV,
         GCL_MIN_N);
  for (size_t m = 0; m < d->nmetrics; m++) {
    printf("%s\n  {\"metric\": ", m ? "," : "");
    gcl_json_str(stdout, d->metrics[m]);
    printf(", \"cells\": [");
    for (size_t i = 0; i < d->ncells; i++) {
      const struct gcl_cell *c = &d->cells[i];
      struct gcl_stat st;
      gcl_stat_of(&c->s[m], &st);
      printf("%s\n   {", i ? "," : "");
      for (int k = 0; k < GCL_KEY_N; k++) {
        printf("%s\"%s\": ", k ? ", " : "", gcl_key_names[k]);
        gcl_json_str(stdout, c->key[k]);
      }
      printf(", \"n\": %zu, \"failed\": %zu, \"invalid\": %zu", st.n, c->failed, c->invalid);
      if (st.n) printf(", \"median\": %.10g", st.median);
      if (st.has_ci) printf(", \"ci_low\": %.10g, \"ci_high\": %.10g", st.lo, st.hi);
      if (st.has_cv) printf(", \"cv\": %.10g", st.cv);
      printf(", \"noisy\": %s, \"few\": %s}", st.noisy ? "true" : "false",
             st.few ? "true" : "false");
    }
    printf("\n  ]}");
  }
  printf("\n ]}\n");
}

int gcl_cmd_summary(int argc, char **argv) {
  const char *path = NULL;
  struct gcl_metric_arg ma = {.text = "wall_s"};
  enum gcl_fmt fmt = GCL_FMT_TEXT;
  for (int i = 1; i < argc; i++) {
    int bad = 0;
    const char *v;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      help(stdout);
      return 0;
    } else if ((v = gcl_opt_value(argc, argv, &i, "--metric", &bad, WHO))) {
      if (gcl_metric_arg_keep(&ma, WHO, v) < 0) return 2;
    } else if ((v = gcl_opt_value(argc, argv, &i, "--format", &bad, WHO))) {
      if (gcl_parse_format(WHO, v, &fmt) < 0) return 2;
    } else if (bad) {
      return 2;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      fprintf(stderr, WHO ": unknown option '%s' (accepted: --metric, --format, --help)\n",
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
    fprintf(stderr, "usage: gclab summary FILE.csv [--metric M,...] [--format text|markdown|json]\n");
    return 2;
  }
  if (gcl_metric_arg_parse(&ma, WHO) < 0) return 2;
  struct gcl_data d;
  if (gcl_data_load(&d, WHO, path, ma.n, ma.names) < 0) return 2;
  if (fmt == GCL_FMT_JSON) {
    print_json(&d, path);
  } else {
    for (size_t m = 0; m < ma.n; m++) {
      if (m) putchar('\n');
      print_table(&d, m, fmt);
    }
  }
  gcl_data_free(&d);
  return 0;
}
