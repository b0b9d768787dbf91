/* harness/run-cells.c — the cells of `gclab run`: the matrix in its order (collector,
 * allocator, workload, threads, placement, rep; rep innermost), then --shard (cell k runs
 * when k mod N = K-1), then --resume (cells with a row in --out are skipped), then
 * --shuffle (Fisher-Yates with splitmix64, seeded); and the --dry-run listing.
 *
 * Invariant: a cell's identity for --resume is every field that makes a cell
 * (resume_cols); two cells of one matrix never share it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv-read.h"
#include "emit.h"
#include "resample.h" /* gcl_rng_next: splitmix64 */
#include "run.h"

static int str_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The identity of a row for --resume: every field that makes a cell. */
static char *resume_key(const char *const f[10]) {
  struct gcl_buf b = {0};
  for (int i = 0; i < 10; i++) gcl_buf_printf(&b, "%s\x1f", f[i]);
  return b.p;
}

static const char *const resume_cols[10] = {"collector", "allocator", "workload", "params", "threads",
                                            "placement", "iterations", "scale", "seed", "rep"};

/* Keys of the rows already in `path` (sorted); 0, or 2 after one line. A missing or
 * empty file has none. */
static int resume_keys(const char *path, char ***keys, size_t *n) {
  *keys = NULL;
  *n = 0;
  struct stat st;
  if (stat(path, &st) != 0 || st.st_size == 0) return 0;
  struct gcl_csv csv;
  if (gcl_csv_read(&csv, "gclab run --resume", path) != 0) return 2;
  int col[10];
  for (int i = 0; i < 10; i++)
    if ((col[i] = gcl_csv_require(&csv, resume_cols[i])) < 0) return 2;
  if (gcl_csv_check_version(&csv, "schema_version", GCL_SCHEMA_VERSION, GCL_SCHEMA_VERSION) != 0) return 2;
  *keys = gcl_must_realloc(NULL, (csv.nrows + 1) * sizeof **keys);
  for (size_t r = 0; r < csv.nrows; r++) {
    const char *f[10];
    for (int i = 0; i < 10; i++) f[i] = gcl_csv_get(&csv, r, (size_t)col[i]);
    (*keys)[(*n)++] = resume_key(f);
  }
  qsort(*keys, *n, sizeof **keys, str_cmp);
  gcl_csv_free(&csv);
  return 0;
}


/* Whether cell (c, a, w, t, p, rep) has a row in done_keys. */
static bool already_done(const struct gcl_run_opts *o, const struct gcl_matrix *m,
                         const struct gcl_run_cell *x, char **done_keys, size_t ndone) {
  char seed_s[24], rep_s[16];
  snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)o->seed + x->rep);
  snprintf(rep_s, sizeof rep_s, "%u", x->rep);
  const char *f[10] = {o->collectors.v[x->c], o->allocators.v[x->a], m->sel[x->w].info->name,
                       m->sel[x->w].params_col, o->threads.v[x->t], o->placement.v[x->p], m->iters,
                       m->scale, seed_s, rep_s};
  char *key = resume_key(f);
  bool have = ndone && bsearch(&key, done_keys, ndone, sizeof *done_keys, str_cmp);
  free(key);
  return have;
}

int gcl_run_cells(const struct gcl_run_opts *o, struct gcl_matrix *m) {
  double mcells = (double)o->collectors.n * o->allocators.n * o->workloads.n * o->threads.n *
                  o->placement.n * o->repeat;
  if (mcells > GCL_CELLS_MAX)
    return gcl_run_bad("the matrix has %.0f cells; at most %d in one run", mcells, GCL_CELLS_MAX);
  unsigned reps = (unsigned)o->repeat, nall = (unsigned)mcells;
  gcl_num_format(m->scale, sizeof m->scale, o->scale);
  snprintf(m->iters, sizeof m->iters, "%u", (unsigned)o->iterations);
  char **done_keys = NULL;
  size_t ndone = 0;
  int r;
  if (o->resume && (r = resume_keys(o->out, &done_keys, &ndone))) return r;
  m->cells = gcl_must_realloc(NULL, (nall ? nall : 1) * sizeof *m->cells);
  m->nall = nall;
  m->ncells = m->nskipped = 0;
  unsigned idx = 0;
  for (unsigned c = 0; c < o->collectors.n; c++)
    for (unsigned a = 0; a < o->allocators.n; a++)
      for (unsigned w = 0; w < o->workloads.n; w++)
        for (unsigned t = 0; t < o->threads.n; t++)
          for (unsigned p = 0; p < o->placement.n; p++)
            for (unsigned rep = 0; rep < reps; rep++, idx++) {
              if (o->shard_n && idx % o->shard_n != o->shard_k - 1) continue;
              struct gcl_run_cell x = {c, a, w, t, p, rep};
              if (o->resume && already_done(o, m, &x, done_keys, ndone)) {
                m->nskipped++;
                continue;
              }
              m->cells[m->ncells++] = x;
            }
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
  if (o->resume) printf(", %u already in %s", m->nskipped, o->out);
  printf(", %u to run%s\n", m->ncells, o->shuffle ? " (shuffled)" : "");
  struct gcl_topo_summary ts;
  gcl_topology_summarize(plan_topo, &ts);
  printf("placement plans for %s: %u packages, %u NUMA nodes, %u cores, %u PUs\n",
         o->topology ? o->topology : "this machine", ts.packages, ts.numa_nodes, ts.cores, ts.pus);
  for (unsigned k = 0; k < m->ncells; k++) {
    const struct gcl_run_cell *x = &m->cells[k];
    const struct gcl_pair_info *pair = gcl_catalog_pair(&m->cat, o->collectors.v[x->c], o->allocators.v[x->a]);
    printf("%u %s %s %s params=%s threads=%s placement=%s rep=%u seed=%llu iterations=%s timeout=%g",
           k + 1, o->collectors.v[x->c], o->allocators.v[x->a], m->sel[x->w].info->name,
           m->sel[x->w].params_col, o->threads.v[x->t], o->placement.v[x->p], x->rep,
           (unsigned long long)o->seed + x->rep, m->iters, m->wl_timeout[x->w]);
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
