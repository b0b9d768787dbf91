/* SPDX-License-Identifier: MIT */
/* harness/minheap.c — the heap axes' values, the minimum-heap cache (a CSV file), the
 * reference pair's options and each cell's heap limit (see minheap.h).
 *
 * Cache columns: the key (collector, allocator, options, workload, params, threads, scale,
 * build), then min_heap_bytes, precision (the relative width the bisection stopped at),
 * runs (runner runs it took), gclab_version and timestamp. The file is read with the one
 * CSV reader (analysis/csv-read.c) and written whole, atomically. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "csv-read.h"
#include "minheap.h"
#include "typed-option.h"

static const char *const cache_cols[] = {"collector", "allocator", "options", "workload", "params",
                                         "threads",   "scale",     "build",   "min_heap_bytes",
                                         "precision", "runs",      "gclab_version", "timestamp"};
#define NKEY 8
#define NCACHE (sizeof cache_cols / sizeof cache_cols[0])

int gcl_heap_axes_canon(struct gcl_axis *heaps, struct gcl_axis *factors) {
  static const struct gcl_opt_decl size = {"heap", GCL_OPT_SIZE, "1", "1", NULL, NULL, ""};
  for (unsigned i = 0; i < heaps->n; i++) {
    union gcl_opt_value v;
    char why[200], canon[32];
    gcl_run_where = heaps->where[i];
    if (gcl_opt_parse(&size, heaps->v[i], &v, why, sizeof why) != 0)
      return gcl_run_bad("bad value '%s' for --heap: %s (e.g. 64m, 2g)", heaps->v[i], why);
    snprintf(canon, sizeof canon, "%llu", (unsigned long long)v.u);
    for (unsigned j = 0; j < i; j++)
      if (strcmp(heaps->v[j], canon) == 0) return gcl_run_bad("--heap: %s bytes is given twice", canon);
    heaps->v[i] = gcl_must_strdup(canon);
  }
  for (unsigned i = 0; i < factors->n; i++) {
    double f;
    char canon[32];
    gcl_run_where = factors->where[i];
    if (gcl_number_opt("heap-factor", factors->v[i], 0, 1000, false, true, &f)) return 2;
    gcl_num_format(canon, sizeof canon, f);
    for (unsigned j = 0; j < i; j++)
      if (strcmp(factors->v[j], canon) == 0) return gcl_run_bad("--heap-factor: %s is given twice", canon);
    factors->v[i] = gcl_must_strdup(canon);
  }
  gcl_run_where = NULL;
  return 0;
}

int gcl_build_id(const char *runner, char out[17]) {
  int fd = open(runner, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  uint64_t h = 0xcbf29ce484222325ull;
  unsigned char buf[1 << 16];
  ssize_t n;
  /* Invariant: h is FNV-1a 64 of every byte read so far. */
  while ((n = read(fd, buf, sizeof buf)) > 0)
    for (ssize_t i = 0; i < n; i++) h = (h ^ buf[i]) * 0x100000001b3ull;
  int e = errno;
  close(fd);
  if (n < 0) {
    errno = e;
    return -1;
  }
  snprintf(out, 17, "%016llx", (unsigned long long)h);
  return 0;
}

/* Read the cache: 1 read, 0 no file (or empty), 2 bad (one line). */
static int cache_read(const char *path, struct gcl_csv *csv, int col[NCACHE]) {
  struct stat st;
  if (stat(path, &st) != 0 || st.st_size == 0) return 0;
  if (gcl_csv_read(csv, "gclab minheap cache", path) < 0) return 2;
  for (unsigned i = 0; i < NCACHE; i++)
    if ((col[i] = gcl_csv_require(csv, cache_cols[i])) < 0) return 2;
  return 1;
}

static const char *key_field(const struct gcl_minheap_key *k, unsigned i) {
  const char *f[NKEY] = {k->collector, k->allocator, k->options, k->workload,
                         k->params,    k->threads,   k->scale,   k->build};
  return f[i];
}

/* The row of key k in csv, or -1. */
static long find_row(const struct gcl_csv *csv, const int col[NCACHE], const struct gcl_minheap_key *k) {
  for (size_t r = 0; r < csv->nrows; r++) {
    unsigned i = 0;
    while (i < NKEY && strcmp(gcl_csv_get(csv, r, (size_t)col[i]), key_field(k, i)) == 0) i++;
    if (i == NKEY) return (long)r;
  }
  return -1;
}

int gcl_minheap_lookup(const char *path, const struct gcl_minheap_key *k, uint64_t *bytes) {
  struct gcl_csv csv;
  int col[NCACHE];
  int r = cache_read(path, &csv, col);
  if (r != 1) return r;
  long row = find_row(&csv, col, k);
  int found = 0;
  if (row >= 0) {
    const char *t = gcl_csv_get(&csv, (size_t)row, (size_t)col[NKEY]);
    char *end;
    errno = 0;
    unsigned long long v = strtoull(t, &end, 10);
    if (!*t || *end || errno || v == 0) {
      fprintf(stderr, "gclab: %s:%u: bad min_heap_bytes '%s' (expected a whole number > 0)\n", path,
              csv.line[row], t);
      gcl_csv_free(&csv);
      return 2;
    }
    *bytes = v;
    found = 1;
  }
  gcl_csv_free(&csv);
  return found;
}

int gcl_minheap_store(const char *path, const struct gcl_minheap_key *k, uint64_t bytes,
                      double precision, unsigned runs) {
  struct gcl_csv csv;
  int col[NCACHE];
  int r = cache_read(path, &csv, col);
  if (r == 2) return 2;
  struct gcl_buf out = {0};
  for (unsigned i = 0; i < NCACHE; i++) gcl_buf_printf(&out, "%s%s", i ? "," : "", cache_cols[i]);
  gcl_buf_puts(&out, "\n");
  long skip = r == 1 ? find_row(&csv, col, k) : -1;
  /* Invariant: out holds the header and every kept row so far, in file order. */
  for (size_t row = 0; r == 1 && row < csv.nrows; row++) {
    if ((long)row == skip) continue;
    for (unsigned i = 0; i < NCACHE; i++) {
      if (i) gcl_buf_puts(&out, ",");
      gcl_buf_csv_field(&out, gcl_csv_get(&csv, row, (size_t)col[i]));
    }
    gcl_buf_puts(&out, "\n");
  }
  char num[32], prec[32], nruns[16], ts[32];
  snprintf(num, sizeof num, "%llu", (unsigned long long)bytes);
  gcl_num_format(prec, sizeof prec, precision);
  snprintf(nruns, sizeof nruns, "%u", runs);
  time_t now = time(NULL);
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  const char *rest[NCACHE - NKEY] = {num, prec, nruns, gcl_version, ts};
  for (unsigned i = 0; i < NCACHE; i++) {
    if (i) gcl_buf_puts(&out, ",");
    gcl_buf_csv_field(&out, i < NKEY ? key_field(k, i) : rest[i - NKEY]);
  }
  gcl_buf_puts(&out, "\n");
  if (r == 1) gcl_csv_free(&csv);
  char why[512];
  if (gcl_file_write_atomic(path, out.p, out.len, false, why, sizeof why) != 0) {
    fprintf(stderr, "gclab minheap: cannot write the cache %s: %s\n", path, why);
    gcl_buf_free(&out);
    return 2;
  }
  gcl_buf_free(&out);
  return 0;
}

const char *gcl_heap_factor_of(const struct gcl_run_opts *o, unsigned h) {
  return h >= o->heaps.n && h < o->heaps.n + o->heap_factors.n ? o->heap_factors.v[h - o->heaps.n] : NULL;
}

/* One resolved option of the reference pair: its order and its text. */
struct ref_opt {
  unsigned rank;  /* 0: the collector's, 1: the allocator's; then declaration order */
  unsigned k;     /* index in its module's declaration */
  char text[600]; /* "M.k=v", canonical */
};

int gcl_heap_ref_options(const struct gcl_catalog *cat, const char *collector, const char *allocator,
                         const struct gcl_axis *raw, struct gcl_buf *col) {
  struct ref_opt *v = gcl_must_realloc(NULL, (raw->n + 1) * sizeof *v);
  unsigned n = 0;
  for (unsigned i = 0; i < raw->n; i++) {
    const char *r = raw->v[i], *dot = strchr(r, '.'), *eq = strchr(r, '=');
    if (!dot || !eq || dot > eq || dot == r || dot + 1 == eq)
      return gcl_run_bad("--heap-ref-opt '%s': expected MODULE.NAME=VALUE", r);
    char mod[128], name[128];
    snprintf(mod, sizeof mod, "%.*s", (int)(dot - r), r);
    snprintf(name, sizeof name, "%.*s", (int)(eq - dot - 1), dot + 1);
    bool is_c = strcmp(mod, collector) == 0, is_a = strcmp(mod, allocator) == 0;
    const struct gcl_module_info *m = (is_c || is_a) ? gcl_catalog_module(cat, mod) : NULL;
    if (!m)
      return gcl_run_bad("--heap-ref-opt '%s': module '%s' is neither the reference collector %s "
                         "nor the allocator %s", r, mod, collector, allocator);
    unsigned k = 0;
    while (k < m->nopts && strcmp(m->opts[k].name, name) != 0) k++;
    if (k == m->nopts) return gcl_run_bad("--heap-ref-opt '%s': %s has no option '%s'", r, mod, name);
    union gcl_opt_value val;
    char why[256], canon[256];
    if (gcl_opt_parse(&m->opts[k], eq + 1, &val, why, sizeof why) != 0)
      return gcl_run_bad("--heap-ref-opt '%s': bad value '%s': %s", r, eq + 1, why);
    gcl_opt_format(&m->opts[k], &val, canon, sizeof canon);
    unsigned j = 0;
    while (j < n && !(v[j].rank == (is_c ? 0u : 1u) && v[j].k == k)) j++;
    v[j].rank = is_c ? 0 : 1, v[j].k = k; /* a later one for the same option wins */
    snprintf(v[j].text, sizeof v[j].text, "%s.%s=%s", mod, name, canon);
    if (j == n) n++;
  }
  /* Insertion sort by (rank, k): the options column's order. */
  for (unsigned i = 1; i < n; i++)
    for (unsigned j = i; j > 0 && (v[j - 1].rank > v[j].rank || (v[j - 1].rank == v[j].rank && v[j - 1].k > v[j].k)); j--) {
      struct ref_opt t = v[j - 1];
      v[j - 1] = v[j];
      v[j] = t;
    }
  for (unsigned i = 0; i < n; i++) gcl_buf_printf(col, "%s%s", i ? ";" : "", v[i].text);
  free(v);
  return 0;
}

/* A memo of build ids by runner path: hashing a runner reads all of it. */
static const char *build_of(const char *runner) {
  static struct { const char *path; char id[17]; } memo[64];
  static unsigned n;
  for (unsigned i = 0; i < n; i++)
    if (strcmp(memo[i].path, runner) == 0) return memo[i].id;
  char id[17];
  if (gcl_build_id(runner, id) != 0) return NULL;
  if (n == 64) n = 0;
  memo[n].path = runner;
  memcpy(memo[n].id, id, sizeof id);
  return memo[n++].id;
}

/* The limit of a factor cell x (factor f): ceil(f x the reference's cached minimum). */
static int factor_bytes(const struct gcl_run_opts *o, const struct gcl_matrix *m,
                        const struct gcl_run_cell *x, double f, uint64_t *bytes) {
  const char *ref = o->heap_ref ? o->heap_ref : GCL_HEAP_REF_DEFAULT, *alloc = o->allocators.v[x->a];
  const struct gcl_pair_info *pair = gcl_catalog_pair(&m->cat, ref, alloc);
  if (!pair || pair->invalid_reason[0] || !gcl_runner_exists(pair->runner))
    return gcl_run_bad("--heap-factor: the reference pair %s x %s is not built or not valid%s%s "
                       "(--heap-ref names another collector)", ref, alloc,
                       pair && pair->invalid_reason[0] ? ": " : "", pair ? pair->invalid_reason : "");
  struct gcl_axis def = {0};
  if (!o->heap_ref_opts.n && strcmp(ref, GCL_HEAP_REF_DEFAULT) == 0) gcl_axis_push(&def, GCL_HEAP_REF_DEFAULT_OPT, NULL);
  struct gcl_buf col = {0};
  if (gcl_heap_ref_options(&m->cat, ref, alloc, o->heap_ref_opts.n ? &o->heap_ref_opts : &def, &col)) return 2;
  struct gcl_minheap_key k = {ref, alloc, gcl_buf_str(&col), m->sel[x->w].info->name,
                              gcl_cell_params(m, x), o->threads.v[x->t], m->scale, ""};
  const char *b = build_of(pair->runner);
  if (!b) return gcl_run_bad("--heap-factor: cannot read the runner %s: %s", pair->runner, strerror(errno));
  memcpy(k.build, b, sizeof k.build);
  const char *cache = o->minheap_cache ? o->minheap_cache : GCL_MINHEAP_CACHE;
  uint64_t min = 0;
  int r = gcl_minheap_lookup(cache, &k, &min);
  if (r == 2) return 2;
  if (r == 0)
    return gcl_run_bad("--heap-factor %s: %s has no minimum heap for %s params=%s threads=%s scale=%s "
                       "under %s x %s%s%s of this build; measure it first: gclab minheap --collector %s "
                       "--allocator %s --workload %s --threads %s --scale %s (with the same --param "
                       "and --opt)", gcl_heap_factor_of(o, x->h), cache, k.workload, k.params, k.threads,
                       k.scale, ref, alloc, *k.options ? " " : "", k.options, ref, alloc, k.workload,
                       k.threads, k.scale);
  *bytes = (uint64_t)ceil(f * (double)min);
  gcl_buf_free(&col);
  return 0;
}

int gcl_heap_cell(const struct gcl_run_opts *o, const struct gcl_matrix *m, struct gcl_run_cell *x) {
  x->heap_bytes = 0;
  if (x->h < o->heaps.n) {
    x->heap_bytes = strtoull(o->heaps.v[x->h], NULL, 10);
    return 0;
  }
  const char *f = gcl_heap_factor_of(o, x->h);
  if (!f) return 0;
  double fv;
  gcl_num_parse(f, &fv);
  return factor_bytes(o, m, x, fv, &x->heap_bytes);
}
