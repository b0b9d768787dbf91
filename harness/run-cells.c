/* SPDX-License-Identifier: MIT */
/* harness/run-cells.c — the cells of `gclab run`: the matrix in its order (collector,
 * allocator, workload, threads, gil, freelists, placement, rep; rep innermost), then --shard (cell k runs
 * when k mod N = K-1), then --resume (cells with a row in --out are skipped), then
 * --shuffle (Fisher-Yates with splitmix64, seeded); and the --dry-run listing.
 *
 * The matrix order with axes of parameters and options: collector, allocator, the pair's
 * option sets, workload, the workload's parameter sets, threads, gil, freelists, placement, heap (the
 * --heap items, then the --heap-factor items; one "no limit" item without either), rep.
 *
 * Invariant: a cell's identity for --resume is every field that makes a cell
 * (resume_cols); two cells of one matrix never share it. */
#define _GNU_SOURCE /* memrchr */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv-read.h"
#include "emit.h"
#include "resample.h" /* gcl_rng_next: splitmix64 */
#include "run.h"
#include "safe-file.h"
#include "minheap.h"

static int str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The identity of a row for --resume: every field that makes a cell. */
#define NRESUME 15 /* fields of resume_cols */
static char *resume_key(const char *const f[NRESUME]) {
  struct gcl_buf b = {0};
  for (int i = 0; i < NRESUME; i++) gcl_buf_printf(&b, "%s\x1f", f[i]);
  return b.p;
}

static const char *const resume_cols[NRESUME] = {"collector", "allocator", "workload", "params",
                                            "options", "threads", "gil", "freelists", "placement", "iterations",
                                            "scale", "seed", "rep", "heap_factor", "heap_limit_bytes"};

/* A line for stderr once everything is validated (m->notes), escaped. */
static __attribute__((format(printf, 2, 3))) void note(struct gcl_matrix *m, const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  char *e = gcl_escape(GCL_FMT_TEXT, msg);
  gcl_buf_printf(&m->notes, "%s\n", e);
  free(e);
}

/* --out, read for --resume. A torn last row (no line end: gclab was killed, or the disk
 * filled, while writing it) is the one damage accepted: it is dropped with a note, and cut
 * off the file before the first append (m->resume_cut); anything else is refused. 0 or 2. */
static int resume_read(const char *path, struct gcl_matrix *m, struct gcl_csv *csv) {
  char *buf, why[512];
  size_t len;
  if (gcl_file_slurp(path, GCL_CSV_MAX_BYTES, false, true, &buf, &len, why, sizeof why) != 0)
    return gcl_run_bad("--resume: cannot read '%s': %s", path, why);
  if (len && buf[len - 1] != '\n' && !memchr(buf, 0, len)) {
    char *nl = memrchr(buf, '\n', len);
    if (!nl) {
      free(buf);
      return gcl_run_bad("--resume: '%s' has no complete line (even its header is cut short); "
                         "choose another --out", path);
    }
    size_t cut = (size_t)(nl - buf) + 1;
    unsigned line = 1;
    for (size_t i = 0; i < cut; i++) line += buf[i] == '\n';
    note(m, "gclab run --resume: %s:%u: the last row is torn (no line end: gclab was killed or "
         "the disk filled while writing it); it is dropped and its cell runs again", path, line);
    m->resume_cut = (long long)cut;
    m->resume_size = (long long)len;
    buf[cut] = 0;
    len = cut;
  }
  return gcl_csv_parse(csv, "gclab run --resume", path, buf, len) == 0 ? 0 : 2;
}

/* Keys of the rows already in `path` (sorted); 0, or 2 after one line. A missing or
 * empty file has none. */
static int resume_keys(const char *path, struct gcl_matrix *m, char ***keys, size_t *n) {
  *keys = NULL;
  *n = 0;
  struct stat st;
  if (stat(path, &st) != 0 || st.st_size == 0) return 0;
  struct gcl_csv csv;
  int r = resume_read(path, m, &csv);
  if (r) return r;
  int col[NRESUME];
  for (int i = 0; i < NRESUME; i++)
    if ((col[i] = gcl_csv_require(&csv, resume_cols[i])) < 0) return 2;
  if (gcl_csv_check_version(&csv, "schema_version", GCL_SCHEMA_VERSION, GCL_SCHEMA_VERSION) != 0 ||
      gcl_csv_check_values(&csv) != 0)
    return 2;
  *keys = gcl_must_realloc(NULL, (csv.nrows + 1) * sizeof **keys);
  for (size_t r = 0; r < csv.nrows; r++) {
    const char *f[NRESUME];
    for (int i = 0; i < NRESUME; i++) f[i] = gcl_csv_get(&csv, r, (size_t)col[i]);
    (*keys)[(*n)++] = resume_key(f);
  }
  qsort(*keys, *n, sizeof **keys, str_cmp);
  gcl_csv_free(&csv);
  return 0;
}


const char *gcl_cell_params(const struct gcl_matrix *m, const struct gcl_run_cell *x) {
  return m->sel[x->w].sets[x->v].col;
}

const struct gcl_valset *gcl_cell_optset(const struct gcl_run_opts *o, const struct gcl_matrix *m,
                                         const struct gcl_run_cell *x) {
  return &m->optsets[x->c * o->allocators.n + x->a][x->o];
}

const char *gcl_cell_options(const struct gcl_run_opts *o, const struct gcl_matrix *m,
                             const struct gcl_run_cell *x) {
  return gcl_cell_optset(o, m, x)->col;
}

bool gcl_cell_gil(const struct gcl_run_opts *o, const struct gcl_run_cell *x) {
  return strcmp(o->gil.v[x->g], "true") == 0;
}

bool gcl_cell_freelists(const struct gcl_run_opts *o, const struct gcl_run_cell *x) {
  return strcmp(o->freelists.v[x->f], "true") == 0;
}

/* Whether cell (c, a, w, t, p, rep) has a row in done_keys. */
static bool already_done(const struct gcl_run_opts *o, const struct gcl_matrix *m,
                         const struct gcl_run_cell *x, char **done_keys, size_t ndone) {
  char seed_s[24], rep_s[16];
  snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)(o->seed + x->rep));
  snprintf(rep_s, sizeof rep_s, "%u", x->rep);
  char heap_s[24] = "";
  if (x->heap_bytes) snprintf(heap_s, sizeof heap_s, "%llu", (unsigned long long)x->heap_bytes);
  const char *hf = gcl_heap_factor_of(o, x->h);
  const char *f[NRESUME] = {o->collectors.v[x->c], o->allocators.v[x->a], m->sel[x->w].info->name,
                       gcl_cell_params(m, x), gcl_cell_options(o, m, x), o->threads.v[x->t],
                       o->gil.v[x->g], o->freelists.v[x->f], o->placement.v[x->p], m->iters, m->scale, seed_s, rep_s,
                       hf ? hf : "", heap_s};
  char *key = resume_key(f);
  bool have = ndone && bsearch(&key, done_keys, ndone, sizeof *done_keys, str_cmp);
  free(key);
  return have;
}

int gcl_run_cells(const struct gcl_run_opts *o, struct gcl_matrix *m) {
  double npo = 0, nwv = 0; /* pairs x their option sets; workloads x their parameter sets */
  for (unsigned i = 0; i < o->collectors.n * o->allocators.n; i++) npo += m->noptsets[i];
  for (unsigned w = 0; w < o->workloads.n; w++) nwv += m->sel[w].nsets;
  m->nheap = o->heaps.n + o->heap_factors.n ? o->heaps.n + o->heap_factors.n : 1;
  double mcells = npo * nwv * o->threads.n * o->gil.n * o->freelists.n * o->placement.n * m->nheap *
                  o->repeat;
  if (mcells > GCL_CELLS_MAX)
    return gcl_run_bad("the matrix has %.0f cells; at most %d in one run", mcells, GCL_CELLS_MAX);
  unsigned reps = (unsigned)o->repeat, nall = (unsigned)mcells;
  gcl_num_format(m->scale, sizeof m->scale, o->scale);
  snprintf(m->iters, sizeof m->iters, "%u", (unsigned)o->iterations);
  char **done_keys = NULL;
  size_t ndone = 0;
  int r;
  if (o->resume && (r = resume_keys(o->out, m, &done_keys, &ndone))) return r;
  m->cells = gcl_must_realloc(NULL, (nall ? nall : 1) * sizeof *m->cells);
  m->nall = nall;
  m->ncells = m->nskipped = 0;
  unsigned idx = 0;
  struct gcl_run_cell x;
  for (x.c = 0; x.c < o->collectors.n; x.c++)
    for (x.a = 0; x.a < o->allocators.n; x.a++)
      for (x.o = 0; x.o < m->noptsets[x.c * o->allocators.n + x.a]; x.o++)
        for (x.w = 0; x.w < o->workloads.n; x.w++)
          for (x.v = 0; x.v < m->sel[x.w].nsets; x.v++)
            for (x.t = 0; x.t < o->threads.n; x.t++)
              for (x.g = 0; x.g < o->gil.n; x.g++)
                for (x.f = 0; x.f < o->freelists.n; x.f++)
                  for (x.p = 0; x.p < o->placement.n; x.p++)
                    for (x.h = 0; x.h < m->nheap; x.h++)
                      for (x.rep = 0; x.rep < reps; x.rep++, idx++) {
                        if (x.rep == 0 && (r = gcl_heap_cell(o, m, &x))) return r;
                        if (o->shard_n && idx % o->shard_n != o->shard_k - 1) continue;
                        if (o->resume && already_done(o, m, &x, done_keys, ndone)) {
                          m->nskipped++;
                          continue;
                        }
                        m->cells[m->ncells++] = x;
                      }
  if (o->resume && ndone && !m->nskipped)
    note(m, "gclab run --resume: none of the %zu rows in %s is a cell of this matrix (written by "
         "another matrix, or other parameters?); all %u cells run and are appended", ndone, o->out,
         m->ncells);
  if (o->shuffle) {
    struct gcl_rng st = {o->shuffle_seed};
    for (unsigned i = m->ncells; i > 1; i--) {
      unsigned j = (unsigned)(gcl_rng_next(&st) % i);
      struct gcl_run_cell tmp = m->cells[i - 1];
      m->cells[i - 1] = m->cells[j];
      m->cells[j] = tmp;
    }
  }
  return 0;
}

void gcl_run_dry(const struct gcl_run_opts *o, const struct gcl_matrix *m,
                 hwloc_topology_t plan_topo) {
  char *name = gcl_escape(GCL_FMT_TEXT, o->name ? o->name : ""); /* the file's text, shown */
  printf("matrix%s%s: %u cells", o->name ? " " : "", name, m->nall);
  free(name);
  if (o->shard_n) printf(", shard %u/%u", o->shard_k, o->shard_n);
  if (o->resume) {
    char *out = gcl_escape(GCL_FMT_TEXT, o->out);
    printf(", %u already in %s", m->nskipped, out);
    free(out);
  }
  printf(", %u to run%s\n", m->ncells, o->shuffle ? " (shuffled)" : "");
  struct gcl_topo_summary ts;
  gcl_topology_summarize(plan_topo, &ts);
  printf("placement plans for %s: %u packages, %u NUMA nodes, %u cores, %u PUs\n",
         o->topology ? o->topology : "this machine", ts.packages, ts.numa_nodes, ts.cores, ts.pus);
  for (unsigned k = 0; k < m->ncells; k++) {
    const struct gcl_run_cell *x = &m->cells[k];
    const struct gcl_pair_info *pair = gcl_catalog_pair(&m->cat, o->collectors.v[x->c], o->allocators.v[x->a]);
    const char *opts = gcl_cell_options(o, m, x);
    printf("%u %s %s %s params=%s%s%s threads=%s%s%s placement=%s rep=%u seed=%llu iterations=%s "
           "timeout=%g", k + 1, o->collectors.v[x->c], o->allocators.v[x->a], m->sel[x->w].info->name,
           gcl_cell_params(m, x), *opts ? " options=" : "", opts, o->threads.v[x->t],
           gcl_cell_gil(o, x) ? " gil=true" : "", gcl_cell_freelists(o, x) ? " freelists=true" : "",
           o->placement.v[x->p], x->rep, (unsigned long long)(o->seed + x->rep), m->iters,
           m->wl_timeout[x->w]);
    if (gcl_heap_factor_of(o, x->h)) printf(" heap_factor=%s", gcl_heap_factor_of(o, x->h));
    if (x->heap_bytes) printf(" heap=%llu", (unsigned long long)x->heap_bytes);
    if (pair->invalid_reason[0]) printf(" (invalid: %s)", pair->invalid_reason);
    enum gcl_placement pl;
    gcl_placement_parse(o->placement.v[x->p], &pl);
    if (pl != GCL_PLACE_NONE) {
      unsigned nt = (unsigned)atoi(o->threads.v[x->t]);
      struct gcl_place *plan = gcl_must_realloc(NULL, nt * sizeof *plan);
      gcl_placement_plan(plan_topo, pl, nt, plan);
      printf(" pus=");
      for (unsigned i = 0; i < nt; i++) printf("%s%d", i ? ";" : "", plan[i].pu);
      printf(" nodes_used=%u", gcl_placement_nodes_used(plan, nt));
      free(plan);
    }
    putchar('\n');
  }
}
