/* SPDX-License-Identifier: MIT */
/* harness/minheap-cmd.c — `gclab minheap`: the minimum heap of cells, by bisection, as
 * running-ng's minheap finds it, cached for --heap-factor (minheap.h).
 *
 *   gclab minheap [gclab run's matrix flags] [--precision P] [--force]
 *
 * The matrix flags are gclab run's (collectors default to the reference, cmark, with
 * cmark.mode=stw; --repeat and --placement are ignored: one run per probe). Per cell
 * (collector, allocator, options, workload, params, threads): one run without a limit must
 * end ok; its peak live bytes is the first upper bound hi (raised by 25% steps until a run
 * at hi fits, for a collector whose peak depends on the limit); lo = 0 does not fit. Then
 * while hi - lo > max(P x hi, 4096): a run at mid = (lo + hi) / 2 fits (ok) or not (oom,
 * or timeout: thrashing); any other status stops the search (exit 1). The answer is hi.
 * Per-run timeout: --timeout, else 5 x the unlimited run's process time + 10 s.
 *
 * Invariant: fits(limit) is taken to be monotone in the limit (more heap never hurts); the
 * bisection keeps lo not fitting and hi fitting. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minheap.h"

enum fit { FIT, NOFIT, ERR };

/* One run of cell x at limit bytes (0: none): FIT/NOFIT/ERR, its status, peak and time. */
static enum fit probe(const struct gcl_run_opts *o, struct gcl_matrix *m, struct gcl_run_cell *x,
                      uint64_t bytes, double timeout, char *status, size_t len, uint64_t *peak,
                      double *wall) {
  const struct gcl_pair_info *pair = gcl_catalog_pair(&m->cat, o->collectors.v[x->c], o->allocators.v[x->a]);
  char seed_s[24];
  snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)o->seed);
  x->heap_bytes = bytes;
  char **args = gcl_must_realloc(NULL, (26 + 2 * (m->sel[x->w].sets[x->v].n + gcl_cell_optset(o, m, x)->n)) * sizeof *args);
  gcl_runner_args(o, m, pair, x, seed_s, NULL, args);
  struct gcl_cell_result res = {0};
  gcl_cell_run(args, timeout, &res);
  free(args);
  const char **vals = gcl_must_realloc(NULL, m->ncols * sizeof *vals);
  memset(vals, 0, m->ncols * sizeof *vals);
  const char *st = gcl_cell_status(m, o, x, &res, vals, status, len);
  if (st != status) snprintf(status, len, "%s", st);
  *peak = vals[GCL_COL_peak_heap_bytes] ? strtoull(vals[GCL_COL_peak_heap_bytes], NULL, 10) : 0;
  *wall = res.process_wall_s;
  free(vals);
  gcl_buf_free(&res.record);
  if (res.end == GCL_CELL_INTERRUPTED) return ERR;
  if (strcmp(status, "ok") == 0) return FIT;
  if (strcmp(status, "oom") == 0 || strcmp(status, "timeout") == 0) return NOFIT;
  return ERR;
}

/* The bisection of one cell; 0 with *min set, or 1 after a line. */
static int bisect(const struct gcl_run_opts *o, struct gcl_matrix *m, struct gcl_run_cell *x,
                  double precision, uint64_t *min, unsigned *runs) {
  char st[320];
  uint64_t peak = 0, ignored;
  double wall = 0;
  *runs = 1;
  if (probe(o, m, x, 0, o->set_timeout ? o->timeout : m->wl_timeout[x->w], st, sizeof st, &peak, &wall) != FIT || !peak) {
    fprintf(stderr, "gclab minheap: the cell does not run ok without a heap limit (status %s)\n", st);
    return 1;
  }
  double timeout = o->set_timeout ? o->timeout : 5 * wall + 10;
  uint64_t lo = 0, hi = peak;
  enum fit f;
  /* Invariant: every hi tried so far did not fit, except the last when f == FIT. */
  for (unsigned i = 0; (f = probe(o, m, x, hi, timeout, st, sizeof st, &ignored, &wall)) != FIT; i++) {
    ++*runs;
    if (f == ERR || i == 20) {
      fprintf(stderr, "gclab minheap: no upper bound fits (last %llu bytes: %s)\n", (unsigned long long)hi, st);
      return 1;
    }
    lo = hi;
    hi += hi / 4;
  }
  ++*runs;
  /* Invariant: lo does not fit (0 stands for "nothing fits"), hi fits. */
  while (hi - lo > fmax(precision * (double)hi, 4096)) {
    uint64_t mid = lo + (hi - lo) / 2;
    f = probe(o, m, x, mid, timeout, st, sizeof st, &ignored, &wall);
    ++*runs;
    if (f == ERR) {
      fprintf(stderr, "gclab minheap: a run at %llu bytes ended %s: no verdict\n", (unsigned long long)mid, st);
      return 1;
    }
    if (f == FIT) hi = mid;
    else lo = mid;
  }
  *min = hi;
  return 0;
}

static void usage(void) {
  printf("usage: gclab minheap [gclab run's matrix flags] [--precision P] [--force]\n"
         "Finds each cell's minimum heap (the smallest --heap under which it ends ok) by\n"
         "bisection and caches it for gclab run --heap-factor (results/README.md, Heap size).\n"
         "  --collector C       the reference collector (default " GCL_HEAP_REF_DEFAULT ", with --opt "
         GCL_HEAP_REF_DEFAULT_OPT ")\n"
         "  --timeout SECONDS   per run; a run past it does not fit (default 5 x the unlimited run + 10)\n"
         "  --precision P       stop when hi - lo <= max(P x hi, 4096), 0 < P <= 0.5 (default 0.02)\n"
         "  --force             measure again what the cache already holds\n"
         "  --minheap-cache F   the cache (default " GCL_MINHEAP_CACHE ")\n"
         "Exit status: 0 every cell measured or cached; 1 a cell with no verdict; 2 bad input.\n");
}

/* Take --precision P and --force out of argv (they are minheap's, not run's). */
static int own_flags(int *argc, char **argv, double *precision, bool *force) {
  int n = 1;
  for (int i = 1; i < *argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage();
      exit(0);
    }
    if (strcmp(a, "--force") == 0) {
      *force = true;
      continue;
    }
    if (strncmp(a, "--precision", 11) == 0 && (a[11] == '=' || a[11] == 0)) {
      const char *v = a[11] == '=' ? a + 12 : i + 1 < *argc ? argv[++i] : NULL;
      if (!v) return gcl_run_bad("--precision needs a value");
      if (gcl_number_opt("precision", v, 0, 0.5, false, true, precision)) return 2;
      continue;
    }
    argv[n++] = argv[i];
  }
  *argc = n;
  return 0;
}

int gcl_cmd_minheap(int argc, char **argv) {
  gcl_run_who = "gclab minheap";
  struct gcl_run_opts o = GCL_RUN_OPTS_INIT;
  double precision = 0.02;
  bool force = false;
  int r = own_flags(&argc, argv, &precision, &force);
  if (r || (r = gcl_run_parse_args(argc, argv, &o))) return r;
  if (o.matrix && (r = gcl_run_apply_matrix(&o))) return r;
  if (o.heaps.n || o.heap_factors.n) return gcl_run_bad("--heap and --heap-factor are gclab run's: minheap finds the heap");
  if (!o.collectors.n) gcl_axis_add(&o.collectors, "collector", GCL_HEAP_REF_DEFAULT);
  bool cmark_opt = false;
  for (unsigned i = 0; i < o.opts.n; i++) cmark_opt |= strncmp(o.opts.v[i], "cmark.mode=", 11) == 0;
  if (gcl_axis_has(&o.collectors, GCL_HEAP_REF_DEFAULT) && !cmark_opt) gcl_axis_push(&o.opts, GCL_HEAP_REF_DEFAULT_OPT, NULL);
  o.repeat = 1;
  if ((r = gcl_run_finish_args(&o))) return r;
  struct gcl_matrix m = {0};
  if ((r = gcl_run_select(&o, &m)) || (r = gcl_run_cells(&o, &m))) return r;
  fputs(gcl_buf_str(&m.notes), stderr);
  gcl_signals_install();
  const char *cache = o.minheap_cache ? o.minheap_cache : GCL_MINHEAP_CACHE;
  int result = 0;
  for (unsigned k = 0; k < m.ncells; k++) {
    struct gcl_run_cell *x = &m.cells[k];
    if (x->p != 0) continue; /* one placement: the first */
    const struct gcl_pair_info *pair = gcl_catalog_pair(&m.cat, o.collectors.v[x->c], o.allocators.v[x->a]);
    struct gcl_minheap_key key = {o.collectors.v[x->c], o.allocators.v[x->a], gcl_cell_options(&o, &m, x),
                                  m.sel[x->w].info->name, gcl_cell_params(&m, x), o.threads.v[x->t], m.scale, ""};
    if (pair->invalid_reason[0] || gcl_build_id(pair->runner, key.build) != 0) {
      fprintf(stderr, "gclab minheap: %s x %s cannot run: %s\n", key.collector, key.allocator,
              pair->invalid_reason[0] ? pair->invalid_reason : "no runner");
      result = 1;
      continue;
    }
    uint64_t min = 0;
    unsigned runs = 0;
    int have = force ? 0 : gcl_minheap_lookup(cache, &key, &min);
    if (have == 2) return 2;
    if (!have) {
      if (bisect(&o, &m, x, precision, &min, &runs)) {
        result = 1;
        if (gcl_stop_signal()) return 128 + gcl_stop_signal();
        continue;
      }
      if (gcl_minheap_store(cache, &key, min, precision, runs)) return 2;
    }
    printf("%s %s%s%s %s params=%s threads=%s scale=%s: min_heap_bytes=%llu (%s)\n", key.collector,
           key.allocator, *key.options ? " " : "", key.options, key.workload, key.params, key.threads,
           key.scale, (unsigned long long)min, have ? "cached" : "measured");
    if (!have) fprintf(stderr, "gclab minheap: %u runs; cached in %s\n", runs, cache);
  }
  return result;
}
