/* SPDX-License-Identifier: MIT */
/* harness/analysis/compare.c — `gclab compare BASE.csv NEW.csv [--metric M,...]
 * [--threshold 5%] [--rule ci|median] [--format text|markdown|json]`.
 *
 * Matches cells by key and, per cell and metric, bootstraps a 95% interval for the ratio
 * of medians NEW/BASE (the two samples resampled independently). The decision rules (also
 * in --help and results/README.md, "How compare decides"): with threshold t,
 *   --rule ci (default):
 *   regression ("slower", or "higher" for a non-time metric)  when  lo > 1 + t
 *   improvement ("faster" / "lower")                          when  hi < 1 / (1 + t)
 *   --rule median (results/README.md, "False alarms and detection"):
 *   regression   when  r > 1 + t  and  lo > 1
 *   improvement  when  r < 1 / (1 + t)  and  hi < 1
 *   no significant change                                      otherwise
 * Markdown output (a CI comment) lists the worst cells first: regressions, then by ratio,
 * largest first, n/a last.
 * The improvement bound mirrors the regression bound, so swapping BASE and NEW swaps the
 * verdicts. Cells without a ratio interval (n < 2 on a side, a metric not measured, a
 * base median of 0, an invalid pair) get verdict n/a and never count as regressions.
 * A cell with ok rows in BASE and oom rows in NEW (it ran out of its heap) is a regression
 * for every metric. Exit status: 1 when any cell is a regression, 0 otherwise, 2 on bad input. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "cells.h"
#include "emit.h"
#include "resample.h"

#define WHO "gclab compare"

static void help(FILE *out) {
  fprintf(out,
          "usage: gclab compare BASE.csv NEW.csv [--metric wall_s] [--threshold 5%%]\n"
          "                     [--rule ci|median] [--format text|markdown|json]\n"
          "\n"
          "Matches cells (collector, allocator, options, workload, params, threads, scale,\n"
          "placement, iterations) present in both files; cells in only one file are listed,\n"
          "not errors. Only status=ok rows with a measured value count. Any numeric column\n"
          "is a metric, module columns (MODULE.FIGURE) included.\n"
          "\n"
          "How compare decides: per cell, r = median(NEW) / median(BASE). Its 95%% CI [lo, hi]\n"
          "is a percentile bootstrap: %d times, resample BASE's and NEW's repetitions\n"
          "independently (with replacement) and take the ratio of the two resample medians;\n"
          "lo and hi are the 2.5th and 97.5th percentiles (splitmix64, fixed seed, so the\n"
          "output is reproducible). With threshold t and --rule ci (the default):\n"
          "  slower (higher for a metric that is not a time)  lo > 1 + t: a significant regression\n"
          "  faster (lower)                                    hi < 1 / (1 + t)\n"
          "  no significant change                             otherwise\n"
          "With --rule median: slower when r > 1 + t and lo > 1, faster when r < 1 / (1 + t)\n"
          "and hi < 1 (the point estimate past the threshold, the interval clear of 1).\n"
          "So a cell is flagged only when even the low end of its interval exceeds the\n"
          "threshold: noise within the threshold never alarms, and a noisy cell whose\n"
          "interval straddles 1 + t is not flagged (its note says it is noisy; rerun with\n"
          "more repetitions). Cells with n < 2 on a side, a metric not measured, a base\n"
          "median of 0, or an invalid pair get verdict n/a (never a regression).\n"
          "\n"
          "  --metric M[,M...]  numeric CSV columns to compare (default wall_s); a larger\n"
          "                     value is taken to be worse\n"
          "  --threshold T      percentage, '5%%' or '5' (default 5%%); 0 <= T < 1000\n"
          "  --rule R           ci (default) or median, as above\n"
          "  --format F         text (default), markdown (worst cells first, for a CI\n"
          "                     comment) or json\n"
          "Exit status: 1 if any cell is a significant regression, 0 otherwise,\n"
          "2 on bad input (unreadable file, missing column, schema mismatch, bad option).\n",
          GCL_BOOT_RESAMPLES);
}

enum verdict { V_NA, V_SAME, V_WORSE, V_BETTER };

struct row {
  const struct gcl_cell *b, *n; /* the cell in BASE and in NEW */
  struct gcl_stat sb, sn;       /* their statistics for the metric */
  int has_ratio;                /* both medians known and the base median non-zero */
  double ratio;                 /* median(NEW) / median(BASE) when has_ratio */
  int has_ci;                   /* the bootstrap interval of the ratio exists */
  double lo, hi;                /* that interval */
  enum verdict v;               /* the decision */
  char why[96];                 /* why the verdict is n/a, or noise warnings */
};

enum rule { RULE_CI, RULE_MEDIAN };

static void judge(struct row *r, size_t m, double t, enum rule rule) {
  const struct gcl_sample *xb = &r->b->s[m], *xn = &r->n->s[m];
  gcl_stat_of(xb, &r->sb);
  gcl_stat_of(xn, &r->sn);
  r->v = V_NA;
  r->why[0] = '\0';
  if (r->b->invalid == r->b->rows || r->n->invalid == r->n->rows) {
    snprintf(r->why, sizeof r->why, "invalid pair in %s",
             r->b->invalid == r->b->rows && r->n->invalid == r->n->rows ? "both"
             : r->b->invalid == r->b->rows ? "BASE" : "NEW");
    return;
  }
  /* A cell that ran ok in BASE and ran out of its heap in NEW regressed, whatever the metric. */
  if (r->b->rows > r->b->failed + r->b->invalid && r->b->oom == 0 && r->n->oom > 0) {
    snprintf(r->why, sizeof r->why, "oom in NEW (%zu of %zu rows), ok in BASE", r->n->oom, r->n->rows);
    r->v = V_WORSE;
    return;
  }
  if (r->sb.n == 0 || r->sn.n == 0) {
    snprintf(r->why, sizeof r->why, "no measured ok row in %s",
             r->sb.n == 0 && r->sn.n == 0 ? "either" : r->sb.n == 0 ? "BASE" : "NEW");
    return;
  }
  if (r->sb.median == 0) {
    snprintf(r->why, sizeof r->why, "BASE median is 0: no ratio");
    return;
  }
  r->has_ratio = 1;
  r->ratio = r->sn.median / r->sb.median;
  if (r->sb.n < 2 || r->sn.n < 2) {
    snprintf(r->why, sizeof r->why, "n < 2: no interval");
    return;
  }
  if (gcl_boot_ratio_ci(xb->x, xb->n, xn->x, xn->n, &r->lo, &r->hi) < 0) {
    snprintf(r->why, sizeof r->why, "a BASE resample has median 0: no interval");
    return;
  }
  r->has_ci = 1;
  if (rule == RULE_CI) r->v = r->lo > 1 + t ? V_WORSE : r->hi < 1 / (1 + t) ? V_BETTER : V_SAME;
  else r->v = r->ratio > 1 + t && r->lo > 1 ? V_WORSE
            : r->ratio < 1 / (1 + t) && r->hi < 1 ? V_BETTER : V_SAME;
  const char *sep = "";
  if (r->sb.noisy || r->sn.noisy) {
    snprintf(r->why, sizeof r->why, "too noisy to compare (CV > %g%% in %s)", GCL_NOISY_CV * 100,
             r->sb.noisy && r->sn.noisy ? "both" : r->sb.noisy ? "BASE" : "NEW");
    sep = "; ";
  }
  if (r->sb.few || r->sn.few)
    snprintf(r->why + strlen(r->why), sizeof r->why - strlen(r->why), "%sn < %d", sep, GCL_MIN_N);
}

static const char *verdict_name(enum verdict v, int is_time) {
  switch (v) {
  case V_WORSE: return is_time ? "slower" : "higher";
  case V_BETTER: return is_time ? "faster" : "lower";
  case V_SAME: return "no significant change";
  default: return "n/a";
  }
}

/* Parse "5%", "5", "2.5%": a percentage in [0, 1000). */
static int parse_threshold(const char *s, double *t) {
  char buf[64];
  size_t n = strlen(s);
  if (n == 0 || n >= sizeof buf) return -1;
  memcpy(buf, s, n + 1);
  if (buf[n - 1] == '%') buf[--n] = '\0';
  if (n == 0 || strspn(buf, "0123456789.") != n) return -1;
  char *end;
  errno = 0;
  double v = strtod(buf, &end);
  if (*end || errno || !isfinite(v) || v < 0 || v >= 1000) return -1;
  *t = v / 100;
  return 0;
}

/* Cells of BASE and NEW matched by key: both are sorted by gcl_key_cmp, so one merge walk
 * pairs them; a cell without a partner goes to the only-in lists. */
struct match {
  struct row *rows;                       /* matched pairs */
  size_t nrows;                           /* their number */
  const struct gcl_cell **only_b, **only_n; /* cells in one file only */
  size_t nonly_b, nonly_n;                /* their numbers */
};

static int match_cells(const struct gcl_data *b, const struct gcl_data *n, struct match *mt) {
  memset(mt, 0, sizeof *mt);
  mt->rows = calloc(b->ncells + 1, sizeof *mt->rows);
  mt->only_b = calloc(b->ncells + 1, sizeof *mt->only_b);
  mt->only_n = calloc(n->ncells + 1, sizeof *mt->only_n);
  if (!mt->rows || !mt->only_b || !mt->only_n) return -1;
  size_t i = 0, j = 0;
  while (i < b->ncells || j < n->ncells) {
    int c = i == b->ncells ? 1 : j == n->ncells ? -1 : gcl_key_cmp(b->cells[i].key, n->cells[j].key);
    if (c < 0) mt->only_b[mt->nonly_b++] = &b->cells[i++];
    else if (c > 0) mt->only_n[mt->nonly_n++] = &n->cells[j++];
    else {
      mt->rows[mt->nrows].b = &b->cells[i++];
      mt->rows[mt->nrows++].n = &n->cells[j++];
    }
  }
  return 0;
}

static void match_free(struct match *mt) {
  free(mt->rows);
  free(mt->only_b);
  free(mt->only_n);
}

static void put_key(struct gcl_tab *t, const struct gcl_cell *c) {
  gcl_tab_put_str(t, c->key[GCL_KEY_WORKLOAD]);
  gcl_tab_put_str(t, c->key[GCL_KEY_PARAMS]);
  gcl_tab_put_str(t, c->key[GCL_KEY_SCALE]);
  char cl[1024], tl[128];
  gcl_tab_put_str(t, gcl_collector_label(c, cl, sizeof cl));
  gcl_tab_put_str(t, c->key[GCL_KEY_ALLOCATOR]);
  gcl_tab_put_str(t, gcl_threads_label(c, tl, sizeof tl));
}

static const char *host_of(const struct gcl_data *d) {
  int col = gcl_csv_col(&d->csv, "host");
  return col >= 0 && d->csv.nrows ? gcl_csv_get(&d->csv, 0, (size_t)col) : "";
}

/* Worst first: regressions, then larger ratios, rows without a ratio last; ties keep the
 * key order (the index breaks them, so the order is total and the sort deterministic). */
static int worse_first(const void *pa, const void *pb) {
  const struct row *a = *(const struct row *const *)pa, *b = *(const struct row *const *)pb;
  if ((a->v == V_WORSE) != (b->v == V_WORSE)) return a->v == V_WORSE ? -1 : 1;
  if (a->has_ratio != b->has_ratio) return a->has_ratio ? -1 : 1;
  if (a->has_ratio && a->ratio != b->ratio) return a->ratio > b->ratio ? -1 : 1;
  return a < b ? -1 : a > b;
}

/* One row of the text or Markdown table. */
static void put_row(struct gcl_tab *tab, const struct row *r, size_t m, int is_time,
                    enum gcl_fmt fmt) {
  put_key(tab, r->b);
  gcl_tab_put(tab, "%zu", r->sb.n);
  gcl_tab_put(tab, "%zu", r->sn.n);
  int dec = gcl_decimals(r->sb.n ? r->sb.median : r->sn.median,
                         r->b->s[m].integral && r->n->s[m].integral);
  char a[48];
  if (r->sb.n) gcl_tab_put(tab, "%s", gcl_fmt_num(a, r->sb.median, dec));
  else gcl_tab_put(tab, "n/a");
  if (r->sn.n) gcl_tab_put(tab, "%s", gcl_fmt_num(a, r->sn.median, dec));
  else gcl_tab_put(tab, "n/a");
  if (r->has_ratio) gcl_tab_put(tab, "%.3f", r->ratio);
  else gcl_tab_put(tab, "n/a");
  if (r->has_ci) gcl_tab_put(tab, "[%.3f, %.3f]", r->lo, r->hi);
  else gcl_tab_put(tab, "n/a");
  if (r->v == V_WORSE) gcl_tab_put(tab, fmt == GCL_FMT_MARKDOWN ? "**%s**" : "%s",
                                   verdict_name(r->v, is_time));
  else gcl_tab_put_str(tab, verdict_name(r->v, is_time));
  gcl_tab_put_str(tab, r->why);
}

/* Text or Markdown report of one metric; returns the number of regressions. Text keeps
 * the key order; Markdown, read as a CI comment, puts the worst cells first. */
static size_t print_metric(struct match *mt, const char *metric, size_t m, double t,
                           enum rule rule, enum gcl_fmt fmt) {
  int is_time = gcl_metric_is_time(metric);
  struct gcl_tab tab;
  gcl_tab_init(&tab, fmt, "llrllrrrrrrrll");
  const char *head[] = {"workload", "params", "scale", "collector", "allocator", "threads",
                        "n base", "n new", "base", "new", "ratio", "95% CI", "verdict", "note"};
  for (size_t i = 0; i < sizeof head / sizeof head[0]; i++) gcl_tab_put_str(&tab, head[i]);
  size_t count[4] = {0};
  struct row **order = calloc(mt->nrows + 1, sizeof *order);
  if (!order) {
    fputs(WHO ": out of memory\n", stderr);
    exit(2);
  }
  for (size_t i = 0; i < mt->nrows; i++) {
    judge(&mt->rows[i], m, t, rule);
    count[mt->rows[i].v]++;
    order[i] = &mt->rows[i];
  }
  if (fmt == GCL_FMT_MARKDOWN) qsort(order, mt->nrows, sizeof *order, worse_first);
  for (size_t i = 0; i < mt->nrows; i++) put_row(&tab, order[i], m, is_time, fmt);
  free(order);
  if (fmt == GCL_FMT_MARKDOWN)
    printf("### %s: %s\n\n", metric, count[V_WORSE] ? "regression" : "no regression");
  else printf("%s:\n", metric);
  gcl_tab_print(&tab, stdout);
  gcl_tab_free(&tab);
  printf("%s%s: %zu %s (significant regression), %zu %s, %zu no significant change, %zu n/a\n",
         fmt == GCL_FMT_MARKDOWN ? "\n" : "", metric, count[V_WORSE],
         verdict_name(V_WORSE, is_time), count[V_BETTER], verdict_name(V_BETTER, is_time),
         count[V_SAME], count[V_NA]);
  return count[V_WORSE];
}

static void print_only(const char *label, const struct gcl_cell *const *cells, size_t n,
                       enum gcl_fmt fmt) {
  if (n == 0) return;
  printf("\n%zu cell%s only in %s:\n", n, n == 1 ? "" : "s", label);
  if (fmt == GCL_FMT_MARKDOWN) putchar('\n');
  struct gcl_tab t;
  gcl_tab_init(&t, fmt, "llrllr");
  const char *head[] = {"workload", "params", "scale", "collector", "allocator", "threads"};
  for (size_t i = 0; i < 6; i++) gcl_tab_put_str(&t, head[i]);
  for (size_t i = 0; i < n; i++) put_key(&t, cells[i]);
  gcl_tab_print(&t, stdout);
  gcl_tab_free(&t);
}

static void json_key(const struct gcl_cell *c) {
  for (int k = 0; k < GCL_KEY_N; k++) {
    printf("%s\"%s\": ", k ? ", " : "", gcl_key_names[k]);
    gcl_json_str(stdout, c->key[k]);
  }
}

static size_t print_json(struct match *mt, const struct gcl_data *db, const struct gcl_data *dn,
                         const char *pb, const char *pn, double t, enum rule rule) {
  size_t regressions = 0;
  printf("{\"base\": ");
  gcl_json_str(stdout, pb);
  printf(", \"new\": ");
  gcl_json_str(stdout, pn);
  printf(", \"threshold\": %.10g, \"rule\": \"%s\", \"hosts_differ\": %s,\n \"bootstrap\": {\"method\": "
         "\"percentile\", \"resamples\": %d, \"seed\": \"0x%016llx\", \"level\": %g},\n \"metrics\": [",
         t, rule == RULE_CI ? "ci" : "median", strcmp(host_of(db), host_of(dn)) ? "true" : "false", GCL_BOOT_RESAMPLES,
         (unsigned long long)GCL_BOOT_SEED, GCL_BOOT_LEVEL);
  for (size_t m = 0; m < db->nmetrics; m++) {
    int is_time = gcl_metric_is_time(db->metrics[m]);
    printf("%s\n  {\"metric\": ", m ? "," : "");
    gcl_json_str(stdout, db->metrics[m]);
    printf(", \"cells\": [");
    for (size_t i = 0; i < mt->nrows; i++) {
      struct row *r = &mt->rows[i];
      judge(r, m, t, rule);
      regressions += r->v == V_WORSE;
      printf("%s\n   {", i ? "," : "");
      json_key(r->b);
      printf(", \"n_base\": %zu, \"n_new\": %zu", r->sb.n, r->sn.n);
      if (r->sb.n) printf(", \"base_median\": %.10g", r->sb.median);
      if (r->sn.n) printf(", \"new_median\": %.10g", r->sn.median);
      if (r->has_ratio) printf(", \"ratio\": %.10g", r->ratio);
      if (r->has_ci) printf(", \"ci_low\": %.10g, \"ci_high\": %.10g", r->lo, r->hi);
      printf(", \"verdict\": \"%s\", \"regression\": %s, \"note\": ", verdict_name(r->v, is_time),
             r->v == V_WORSE ? "true" : "false");
      gcl_json_str(stdout, r->why);
      putchar('}');
    }
    printf("\n  ]}");
  }
  printf("\n ],\n \"only_in_base\": [");
  for (size_t i = 0; i < mt->nonly_b; i++) {
    printf("%s\n  {", i ? "," : "");
    json_key(mt->only_b[i]);
    putchar('}');
  }
  printf("],\n \"only_in_new\": [");
  for (size_t i = 0; i < mt->nonly_n; i++) {
    printf("%s\n  {", i ? "," : "");
    json_key(mt->only_n[i]);
    putchar('}');
  }
  printf("],\n \"regressions\": %zu}\n", regressions);
  return regressions;
}

int gcl_cmd_compare(int argc, char **argv) {
  const char *paths[2] = {NULL, NULL};
  size_t npaths = 0;
  struct gcl_metric_arg ma = {.text = "wall_s"};
  double t = 0.05;
  enum gcl_fmt fmt = GCL_FMT_TEXT;
  enum rule rule = RULE_CI;
  for (int i = 1; i < argc; i++) {
    int bad = 0;
    const char *v;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      help(stdout);
      return 0;
    } else if ((v = gcl_opt_value(argc, argv, &i, "--metric", &bad, WHO))) {
      if (gcl_metric_arg_keep(&ma, WHO, v) < 0) return 2;
    } else if ((v = gcl_opt_value(argc, argv, &i, "--threshold", &bad, WHO))) {
      if (parse_threshold(v, &t) < 0) {
        fprintf(stderr, WHO ": bad --threshold '%s': expected a percentage such as 5%% or 2.5 "
                        "(0 <= T < 1000)\n", v);
        return 2;
      }
    } else if ((v = gcl_opt_value(argc, argv, &i, "--rule", &bad, WHO))) {
      if (strcmp(v, "ci") == 0) rule = RULE_CI;
      else if (strcmp(v, "median") == 0) rule = RULE_MEDIAN;
      else {
        fprintf(stderr, WHO ": bad --rule '%s': expected ci or median\n", v);
        return 2;
      }
    } else if ((v = gcl_opt_value(argc, argv, &i, "--format", &bad, WHO))) {
      if (gcl_parse_format(WHO, v, &fmt) < 0) return 2;
    } else if (bad) {
      return 2;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      fprintf(stderr, WHO ": unknown option '%s' (accepted: --metric, --threshold, --rule, "
                      "--format, --help)\n", argv[i]);
      return 2;
    } else if (npaths < 2) {
      paths[npaths++] = argv[i];
    } else {
      fprintf(stderr, WHO ": unexpected argument '%s': give BASE.csv and NEW.csv\n", argv[i]);
      return 2;
    }
  }
  if (npaths != 2) {
    fprintf(stderr, "usage: gclab compare BASE.csv NEW.csv [--metric M,...] [--threshold 5%%] "
                    "[--rule ci|median] [--format text|markdown|json]\n");
    return 2;
  }
  if (gcl_metric_arg_parse(&ma, WHO) < 0) return 2;
  struct gcl_data db, dn;
  if (gcl_data_load(&db, WHO, paths[0], ma.n, ma.names) < 0) return 2;
  if (gcl_data_load(&dn, WHO, paths[1], ma.n, ma.names) < 0) {
    gcl_data_free(&db);
    return 2;
  }
  struct match mt;
  if (match_cells(&db, &dn, &mt) < 0) {
    fprintf(stderr, WHO ": out of memory\n");
    match_free(&mt);
    gcl_data_free(&db);
    gcl_data_free(&dn);
    return 2;
  }
  size_t regressions = 0;
  if (fmt == GCL_FMT_JSON) {
    regressions = print_json(&mt, &db, &dn, paths[0], paths[1], t, rule);
  } else {
    if (fmt == GCL_FMT_MARKDOWN) printf("## gclab compare\n\n");
    printf("BASE %s, NEW %s; threshold %g%%, rule %s; ratio = NEW/BASE of medians, 95%% "
           "bootstrap CI%s\n", paths[0], paths[1], t * 100, rule == RULE_CI ? "ci (lo > 1 + t)"
           : "median (ratio > 1 + t and lo > 1)", fmt == GCL_FMT_MARKDOWN ? "; worst cells first" : "");
    if (strcmp(host_of(&db), host_of(&dn)) != 0)
      printf("note: BASE ran on host '%s', NEW on '%s': ratios include the machine difference\n",
             host_of(&db), host_of(&dn));
    for (size_t m = 0; m < ma.n; m++) {
      putchar('\n');
      regressions += print_metric(&mt, ma.names[m], m, t, rule, fmt);
    }
    print_only("BASE", mt.only_b, mt.nonly_b, fmt);
    print_only("NEW", mt.only_n, mt.nonly_n, fmt);
  }
  match_free(&mt);
  gcl_data_free(&db);
  gcl_data_free(&dn);
  return regressions ? 1 : 0;
}
