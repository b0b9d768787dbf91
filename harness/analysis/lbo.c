/* SPDX-License-Identifier: MIT */
/* harness/analysis/lbo.c — `gclab lbo FILE.csv [--format F] [--per-allocator]`: the
 * lower-bound overhead (LBO) of Cai, Blackburn, Bond and Maas, "Distilling the Real Cost of
 * Production Garbage Collectors" (ISPASS 2022).
 *
 * Per group — workload, params, scale, threads, placement, iterations (and allocator with
 * --per-allocator; a heap-size column joins same_group when the schema has one) — and per
 * measure (wall: wall_s, distilled mutator_s = wall_s - gc_s; cpu: cpu_s, not distilled,
 * no column measures GC CPU time apart):
 *  - a cell's cost is the median of its status=ok repetitions; its distilled cost the median
 *    of the distilled column when every such repetition measured it, else its cost (RC
 *    frees inside the mutator: its GC work cannot be separated, so its whole cost counts
 *    as mutator cost and it can set the bound only as itself);
 *  - the baseline is the least distilled cost over the cells that may set it: every cell
 *    with an ok repetition except the leaking ones (objects_leaked > 0 on a workload that
 *    made cyclic_garbage > 0, while objects were freed: RC left cycles behind, so it did
 *    less work than the program needs). A cell that freed nothing (collector none) is the
 *    no-GC run itself and may set it;
 *  - a cell's LBO is cost / baseline, with a 95% percentile-bootstrap interval: each of
 *    GCL_BOOT_RESAMPLES rounds redraws every cell's samples (resample.h streams 2k and 2k+1
 *    for cell k of the group), takes the minimum again and the ratio again. A cell's cost
 *    and distilled samples are redrawn independently (the sorted samples no longer pair
 *    repetitions), which widens the interval of a cell that sets its own bound a little;
 *    when the two hold the same values (no GC work: rc, none) one draw serves both.
 * Invariant: the output is a pure function of the file (fixed seeds, sorted samples). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "cells.h"
#include "emit.h"
#include "resample.h"

#define WHO "gclab lbo"

/* The metrics loaded: indices into gcl_cell.s. */
enum { M_WALL, M_MUTATOR, M_CPU, M_LEAKED, M_CYCLIC, M_FREED, M_N };
static const char *const metric_names[M_N] = {"wall_s", "mutator_s", "cpu_s", "objects_leaked",
                                              "cyclic_garbage", "objects_freed"};

/* A measure: what a cell costs, and what of it is left with its GC work removed. */
struct measure {
  const char *name; /* "wall" or "cpu" */
  int cost;         /* metric index of the cost */
  int distilled;    /* metric index of the distilled cost, or -1 (none measured) */
};
static const struct measure measures[] = {{"wall", M_WALL, M_MUTATOR}, {"cpu", M_CPU, -1}};
#define NMEASURES 2

/* One cell's result for one measure. */
struct lbo_entry {
  const struct gcl_sample *cost; /* its cost sample */
  const struct gcl_sample *dist; /* its distilled sample (== cost when not distilled) */
  int distilled;                 /* dist is a distilled column */
  int same;                      /* dist holds the values of cost (no GC work removed) */
  double cost_med, dist_med;     /* medians (valid when cost->n > 0) */
  int has_lbo, has_ci;           /* lbo valid; lo/hi valid */
  double lbo, lo, hi;            /* cost / baseline and its 95% interval */
};

/* One cell of the file, classified. */
struct lbo_cell {
  const struct gcl_cell *c;      /* the cell */
  size_t group;                  /* its group */
  int leaks;                     /* left cyclic garbage while freeing: cannot set the bound */
  int no_gc;                     /* freed nothing (none): the no-GC run */
  int eligible;                  /* may set the bound: measured, not leaking */
  struct lbo_entry e[NMEASURES]; /* per measure */
};

/* One group: the cells compared with each other. */
struct lbo_group {
  const struct gcl_cell *rep;     /* its first cell (key source) */
  int has_base[NMEASURES];        /* some eligible cell measured it */
  double base[NMEASURES];         /* the baseline */
  size_t bound_by[NMEASURES];     /* index (into the lbo_cell array) of the cell that set it */
};

static void help(FILE *out) {
  fprintf(out,
          "usage: gclab lbo FILE.csv [--format text|markdown|json|latex] [--per-allocator]\n"
          "\n"
          "Lower-bound overhead (Cai, Blackburn, Bond, Maas, ISPASS 2022) per cell, for wall\n"
          "time and CPU time. Per workload, params, scale and threads, the baseline is the\n"
          "least distilled cost over the cells: median mutator_s (wall_s - gc_s) where every\n"
          "ok repetition measured gc_s, else median wall_s (RC: freeing is interleaved with\n"
          "the mutator and cannot be distilled); cpu_s is never distilled (no column measures\n"
          "GC CPU time apart). A cell's LBO is its median cost / the baseline, with a 95%%\n"
          "percentile-bootstrap interval (%d resamples, fixed seed). Cells that leak\n"
          "(objects_leaked > 0 where cyclic_garbage > 0) do not set the baseline; a cell that\n"
          "frees nothing (collector none) does. Notes: 'bound' set the baseline, 'leaks' left\n"
          "cycles, 'no GC' freed nothing, 'undistilled' cost = distilled cost, 'oom' rows,\n"
          "'noisy' CV > %g%%, 'n<%d'.\n"
          "\n"
          "  --format F       text (default), markdown, json or latex (booktabs)\n"
          "  --per-allocator  one baseline per allocator (default: over every pair)\n"
          "Exit status: 0, or 2 on bad input (one line on stderr).\n",
          GCL_BOOT_RESAMPLES, GCL_NOISY_CV * 100, GCL_MIN_N);
}

static int same_group(const struct gcl_cell *a, const struct gcl_cell *b, int per_alloc) {
  static const enum gcl_key k[] = {GCL_KEY_WORKLOAD, GCL_KEY_PARAMS, GCL_KEY_SCALE, GCL_KEY_THREADS,
                                   GCL_KEY_PLACEMENT, GCL_KEY_ITERATIONS};
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
    if (strcmp(a->key[k[i]], b->key[k[i]]) != 0) return 0;
  /* A heap-size key (heap factor) joins here once the schema has one. */
  return !per_alloc || strcmp(a->key[GCL_KEY_ALLOCATOR], b->key[GCL_KEY_ALLOCATOR]) == 0;
}

static double smax(const struct gcl_sample *s) { return s->n ? s->x[s->n - 1] : 0; }

/* Leak / no-GC classes and the per-measure medians of cell l. */
static void classify(struct lbo_cell *l) {
  const struct gcl_cell *c = l->c;
  const struct gcl_sample *freed = &c->s[M_FREED];
  l->leaks = smax(&c->s[M_LEAKED]) > 0 && smax(&c->s[M_CYCLIC]) > 0 && smax(freed) > 0;
  l->no_gc = freed->n > 0 && smax(freed) == 0 && smax(&c->s[M_LEAKED]) > 0;
  for (int m = 0; m < NMEASURES; m++) {
    struct lbo_entry *e = &l->e[m];
    e->cost = &c->s[measures[m].cost];
    int d = measures[m].distilled;
    e->distilled = d >= 0 && e->cost->n > 0 && c->s[d].n == e->cost->n;
    e->dist = e->distilled ? &c->s[d] : e->cost;
    e->same = e->dist == e->cost || memcmp(e->dist->x, e->cost->x, e->cost->n * sizeof *e->cost->x) == 0;
    if (e->cost->n) {
      e->cost_med = gcl_median_sorted(e->cost->x, e->cost->n);
      e->dist_med = gcl_median_sorted(e->dist->x, e->dist->n);
    }
  }
  l->eligible = !l->leaks;
}

/* The baseline of group g for measure m, and each member's LBO point estimate. */
static void baseline(struct lbo_cell *cs, size_t n, struct lbo_group *g, size_t gi, int m) {
  for (size_t i = 0; i < n; i++) {
    struct lbo_entry *e = &cs[i].e[m];
    if (cs[i].group != gi || !cs[i].eligible || !e->cost->n) continue;
    if (!g->has_base[m] || e->dist_med < g->base[m]) {
      g->has_base[m] = 1;
      g->base[m] = e->dist_med;
      g->bound_by[m] = i;
    }
  }
  for (size_t i = 0; i < n; i++) {
    struct lbo_entry *e = &cs[i].e[m];
    if (cs[i].group != gi || !e->cost->n || !g->has_base[m] || g->base[m] <= 0) continue;
    e->has_lbo = 1;
    e->lbo = e->cost_med / g->base[m];
  }
}

/* The bootstrap intervals of group gi for measure m (see the file comment). Members with
 * n < 2, or a baseline cell with n < 2, get no interval. Returns -1 when out of memory. */
static int intervals(struct lbo_cell *cs, size_t n, const struct lbo_group *g, size_t gi, int m) {
  if (!g->has_base[m] || cs[g->bound_by[m]].e[m].dist->n < 2) return 0;
  size_t k = 0, maxn = 1;
  for (size_t i = 0; i < n; i++)
    if (cs[i].group == gi && cs[i].e[m].cost->n) {
      k++;
      if (cs[i].e[m].cost->n > maxn) maxn = cs[i].e[m].cost->n;
    }
  size_t *idx = malloc(k * sizeof *idx), *counts = malloc(maxn * sizeof *counts);
  double *stats = malloc(k * GCL_BOOT_RESAMPLES * sizeof *stats), *cm = malloc(k * sizeof *cm);
  struct gcl_rng *rng = malloc(2 * k * sizeof *rng);
  int rc = idx && counts && stats && cm && rng ? 0 : -1;
  for (size_t i = 0, j = 0; rc == 0 && i < n; i++)
    if (cs[i].group == gi && cs[i].e[m].cost->n) idx[j++] = i;
  for (size_t j = 0; rc == 0 && j < 2 * k; j++) rng[j].state = GCL_BOOT_SEED + j;
  int undefined = 0;
  for (size_t b = 0; rc == 0 && b < GCL_BOOT_RESAMPLES && !undefined; b++) {
    double base = 0;
    int have = 0;
    for (size_t j = 0; j < k; j++) {
      const struct lbo_entry *e = &cs[idx[j]].e[m];
      cm[j] = gcl_boot_resample_median(e->cost->x, e->cost->n, &rng[2 * j], counts);
      double dm = e->same ? cm[j] : gcl_boot_resample_median(e->dist->x, e->dist->n, &rng[2 * j + 1], counts);
      if (cs[idx[j]].eligible && (!have || dm < base)) base = dm, have = 1;
    }
    if (base <= 0) undefined = 1;
    for (size_t j = 0; j < k && !undefined; j++) stats[j * GCL_BOOT_RESAMPLES + b] = cm[j] / base;
  }
  for (size_t j = 0; rc == 0 && !undefined && j < k; j++) {
    struct lbo_entry *e = &cs[idx[j]].e[m];
    if (e->cost->n < 2 || !e->has_lbo) continue;
    gcl_boot_interval(stats + j * GCL_BOOT_RESAMPLES, GCL_BOOT_RESAMPLES, &e->lo, &e->hi);
    e->has_ci = 1;
  }
  free(idx), free(counts), free(stats), free(cm), free(rng);
  return rc;
}

/* The note of a cell for measure m, into buf. */
static void note(const struct lbo_cell *cs, const struct lbo_group *g, size_t i, int m, char *buf,
                 size_t len) {
  const struct lbo_cell *l = &cs[i];
  const struct lbo_entry *e = &l->e[m];
  struct gcl_stat st;
  gcl_stat_of(e->cost, &st);
  buf[0] = '\0';
#define ADD(...) snprintf(buf + strlen(buf), len - strlen(buf), __VA_ARGS__)
  if (g->has_base[m] && g->bound_by[m] == i) ADD("bound");
  if (l->leaks) ADD("%sleaks", *buf ? ", " : "");
  if (l->no_gc) ADD("%sno GC", *buf ? ", " : "");
  /* Said once in the heading when the measure has no distilled column at all. */
  if (e->cost->n && !e->distilled && measures[m].distilled >= 0) ADD("%sundistilled", *buf ? ", " : "");
  if (l->c->oom) ADD("%s%zu oom", *buf ? ", " : "", l->c->oom);
  if (!e->cost->n && !l->c->oom) ADD("%s%s", *buf ? ", " : "", l->c->invalid == l->c->rows ? "invalid" : "no ok row");
  if (st.noisy) ADD("%snoisy", *buf ? ", " : "");
  if (e->cost->n && st.few) ADD("%sn<%d", *buf ? ", " : "", GCL_MIN_N);
#undef ADD
}

static void put_num(struct gcl_tab *t, int has, double x, int integral) {
  char a[48];
  if (has) gcl_tab_put(t, "%s", gcl_fmt_num(a, x, gcl_decimals(x, integral)));
  else gcl_tab_put(t, "%s", t->fmt == GCL_FMT_LATEX ? "--" : "-");
}

/* One table (text, markdown, latex) for measure m. */
static void print_table(const struct lbo_cell *cs, size_t n, const struct lbo_group *gs,
                        const char *path, int m, enum gcl_fmt fmt) {
  int show_params = 0, show_scale = 0;
  for (size_t i = 0; i < n; i++) {
    show_params |= cs[i].c->key[GCL_KEY_PARAMS][0] != '\0';
    show_scale |= strcmp(cs[i].c->key[GCL_KEY_SCALE], cs[0].c->key[GCL_KEY_SCALE]) != 0;
  }
  char align[16] = "l";
  if (show_params) strcat(align, "l");
  if (show_scale) strcat(align, "l");
  strcat(align, "lllrrrrrl");
  struct gcl_tab t;
  gcl_tab_init(&t, fmt, align);
  const struct measure *me = &measures[m];
  gcl_tab_put_str(&t, "workload");
  if (show_params) gcl_tab_put_str(&t, "params");
  if (show_scale) gcl_tab_put_str(&t, "scale");
  const char *head[] = {"threads", "collector", "allocator", "n", metric_names[me->cost],
                        "distilled", "baseline", "LBO [95% CI]", "note"};
  for (size_t i = 0; i < sizeof head / sizeof head[0]; i++) gcl_tab_put_str(&t, head[i]);
  for (size_t i = 0; i < n; i++) {
    const struct lbo_cell *l = &cs[i];
    const struct lbo_entry *e = &l->e[m];
    const struct lbo_group *g = &gs[l->group];
    char buf[1024];
    gcl_tab_put_str(&t, l->c->key[GCL_KEY_WORKLOAD]);
    if (show_params) gcl_tab_put_str(&t, l->c->key[GCL_KEY_PARAMS]);
    if (show_scale) gcl_tab_put_str(&t, l->c->key[GCL_KEY_SCALE]);
    gcl_tab_put_str(&t, gcl_threads_label(l->c, buf, sizeof buf));
    gcl_tab_put_str(&t, gcl_collector_label(l->c, buf, sizeof buf));
    gcl_tab_put_str(&t, l->c->key[GCL_KEY_ALLOCATOR]);
    gcl_tab_put(&t, "%zu", e->cost->n);
    put_num(&t, e->cost->n > 0, e->cost_med, e->cost->integral);
    put_num(&t, e->cost->n > 0, e->dist_med, e->dist->integral);
    put_num(&t, g->has_base[m], g->base[m], g->has_base[m] && cs[g->bound_by[m]].e[m].dist->integral);
    char a[48], b[48], c[48];
    if (e->has_ci)
      gcl_tab_put(&t, "%s [%s, %s]", gcl_fmt_num(a, e->lbo, 3), gcl_fmt_num(b, e->lo, 3), gcl_fmt_num(c, e->hi, 3));
    else if (e->has_lbo)
      gcl_tab_put(&t, "%s", gcl_fmt_num(a, e->lbo, 3));
    else
      gcl_tab_put(&t, "%s", fmt == GCL_FMT_LATEX ? "--" : "n/a");
    note(cs, g, i, m, buf, sizeof buf);
    gcl_tab_put_str(&t, buf);
  }
  const char *how = me->distilled >= 0 ? "distilled: mutator_s (wall_s - gc_s) where gc_s was measured"
                                       : "not distilled: no column measures GC CPU time apart";
  if (fmt == GCL_FMT_LATEX) {
    printf("%% gclab lbo: %s (%s), from %s\n", metric_names[me->cost], how, path);
  } else {
    char *p = gcl_escape(fmt, path);
    printf("%s%s: lower-bound overhead (cost / least distilled cost), %s; from %s\n\n",
           fmt == GCL_FMT_MARKDOWN ? "### " : "", metric_names[me->cost], how, p);
    free(p);
  }
  gcl_tab_print(&t, stdout);
  gcl_tab_free(&t);
}

static void json_num(const char *key, int has, double x) {
  if (has) printf(", \"%s\": %.10g", key, x);
}

static void print_json(const struct lbo_cell *cs, size_t n, const struct lbo_group *gs, size_t ng,
                       const char *path, int per_alloc) {
  printf("{\"file\": ");
  gcl_json_str(stdout, path);
  printf(", \"method\": \"lower-bound overhead (Cai, Blackburn, Bond, Maas, ISPASS 2022)\", "
         "\"per_allocator\": %s,\n \"bootstrap\": {\"method\": \"percentile\", \"resamples\": %d, "
         "\"seed\": \"0x%016llx\", \"level\": %g},\n \"measures\": [",
         per_alloc ? "true" : "false", GCL_BOOT_RESAMPLES, (unsigned long long)GCL_BOOT_SEED, GCL_BOOT_LEVEL);
  for (int m = 0; m < NMEASURES; m++) {
    const struct measure *me = &measures[m];
    printf("%s\n  {\"measure\": \"%s\", \"cost\": \"%s\", \"distilled\": ", m ? "," : "", me->name,
           metric_names[me->cost]);
    if (me->distilled >= 0) printf("\"%s\"", metric_names[me->distilled]);
    else printf("null");
    printf(", \"groups\": [");
    for (size_t gi = 0; gi < ng; gi++) {
      const struct lbo_group *g = &gs[gi];
      printf("%s\n   {", gi ? "," : "");
      static const enum gcl_key gk[] = {GCL_KEY_WORKLOAD, GCL_KEY_PARAMS, GCL_KEY_SCALE, GCL_KEY_THREADS,
                                        GCL_KEY_PLACEMENT, GCL_KEY_ITERATIONS};
      for (size_t k = 0; k < sizeof gk / sizeof gk[0]; k++) {
        printf("%s\"%s\": ", k ? ", " : "", gcl_key_names[gk[k]]);
        gcl_json_str(stdout, g->rep->key[gk[k]]);
      }
      if (per_alloc) {
        printf(", \"allocator\": ");
        gcl_json_str(stdout, g->rep->key[GCL_KEY_ALLOCATOR]);
      }
      json_num("baseline", g->has_base[m], g->base[m]);
      printf(", \"cells\": [");
      int first = 1;
      for (size_t i = 0; i < n; i++) {
        const struct lbo_cell *l = &cs[i];
        const struct lbo_entry *e = &l->e[m];
        if (l->group != gi) continue;
        printf("%s\n    {\"collector\": ", first ? "" : ",");
        first = 0;
        gcl_json_str(stdout, l->c->key[GCL_KEY_COLLECTOR]);
        printf(", \"allocator\": ");
        gcl_json_str(stdout, l->c->key[GCL_KEY_ALLOCATOR]);
        printf(", \"options\": ");
        gcl_json_str(stdout, l->c->key[GCL_KEY_OPTIONS]);
        printf(", \"gil\": %s", strcmp(l->c->key[GCL_KEY_GIL], "true") == 0 ? "true" : "false");
        printf(", \"freelists\": %s", strcmp(l->c->key[GCL_KEY_FREELISTS], "true") == 0 ? "true" : "false");
        printf(", \"n\": %zu, \"oom\": %zu, \"failed\": %zu", e->cost->n, l->c->oom, l->c->failed);
        json_num("cost", e->cost->n > 0, e->cost_med);
        json_num("distilled_cost", e->cost->n > 0, e->dist_med);
        printf(", \"distilled\": %s, \"leaks\": %s, \"no_gc\": %s, \"sets_bound\": %s",
               e->distilled ? "true" : "false", l->leaks ? "true" : "false", l->no_gc ? "true" : "false",
               g->has_base[m] && g->bound_by[m] == i ? "true" : "false");
        json_num("lbo", e->has_lbo, e->lbo);
        json_num("ci_low", e->has_ci, e->lo);
        json_num("ci_high", e->has_ci, e->hi);
        printf("}");
      }
      printf("\n   ]}");
    }
    printf("\n  ]}");
  }
  printf("\n ]}\n");
}

/* Options; 0 with *path set, 1 after --help, or -1 after one line. */
static int parse_args(int argc, char **argv, const char **path, enum gcl_fmt *fmt, int *per_alloc) {
  for (int i = 1; i < argc; i++) {
    int bad = 0;
    const char *v;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      help(stdout);
      return 1;
    } else if ((v = gcl_opt_value(argc, argv, &i, "--format", &bad, WHO))) {
      if (gcl_parse_format_any(WHO, v, fmt) < 0) return -1;
    } else if (bad) {
      return -1;
    } else if (strcmp(argv[i], "--per-allocator") == 0) {
      *per_alloc = 1;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      fprintf(stderr, WHO ": unknown option '%s' (accepted: --format, --per-allocator, --help)\n", argv[i]);
      return -1;
    } else if (!*path) {
      *path = argv[i];
    } else {
      fprintf(stderr, WHO ": unexpected argument '%s': give one FILE.csv\n", argv[i]);
      return -1;
    }
  }
  if (!*path) {
    fprintf(stderr, "usage: gclab lbo FILE.csv [--format text|markdown|json|latex] [--per-allocator]\n");
    return -1;
  }
  return 0;
}

int gcl_cmd_lbo(int argc, char **argv) {
  const char *path = NULL;
  enum gcl_fmt fmt = GCL_FMT_TEXT;
  int per_alloc = 0;
  int a = parse_args(argc, argv, &path, &fmt, &per_alloc);
  if (a) return a > 0 ? 0 : 2;
  struct gcl_data d;
  if (gcl_data_load(&d, WHO, path, M_N, (char **)metric_names) < 0) return 2;
  struct lbo_cell *cs = calloc(d.ncells ? d.ncells : 1, sizeof *cs);
  struct lbo_group *gs = calloc(d.ncells ? d.ncells : 1, sizeof *gs);
  size_t ng = 0;
  int rc = cs && gs ? 0 : -1;
  for (size_t i = 0; rc == 0 && i < d.ncells; i++) {
    cs[i].c = &d.cells[i];
    size_t g = 0;
    while (g < ng && !same_group(gs[g].rep, cs[i].c, per_alloc)) g++;
    if (g == ng) gs[ng++].rep = cs[i].c;
    cs[i].group = g;
    classify(&cs[i]);
  }
  for (size_t g = 0; rc == 0 && g < ng; g++)
    for (int m = 0; m < NMEASURES && rc == 0; m++) {
      baseline(cs, d.ncells, &gs[g], g, m);
      rc = intervals(cs, d.ncells, &gs[g], g, m);
    }
  if (rc < 0) {
    fprintf(stderr, WHO ": out of memory\n");
  } else if (fmt == GCL_FMT_JSON) {
    print_json(cs, d.ncells, gs, ng, path, per_alloc);
  } else {
    for (int m = 0; m < NMEASURES; m++) {
      if (m) putchar('\n');
      print_table(cs, d.ncells, gs, path, m, fmt);
    }
  }
  free(cs);
  free(gs);
  gcl_data_free(&d);
  return rc < 0 ? 2 : 0;
}
