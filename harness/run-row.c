/* SPDX-License-Identifier: MIT */
/* harness/run-row.c — the output CSV of `gclab run` and its rows: the header check when
 * appending, the runner's record parsed into columns, the cell's status, and the row
 * completed with what only gclab knows (identity, wait4 rusage, derived mutator_s).
 *
 * Invariants: a record key is accepted only if a RECORD column of that name exists
 * (schema.h) or, for a key MODULE.FIGURE, if it is a declared figure of the cell's
 * collector, allocator or workload; else the row is error: naming the key. A field not
 * measured stays empty, never 0. A row has GCL_NCOLS core columns then the build's module
 * columns (gcl_header_line); appending to a file with another header is refused. */
#define _GNU_SOURCE /* sigabbrev_np */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "run.h"

const char *const gcl_col_names[GCL_NCOLS] = {
#define GCL_SCHEMA_NAME(name, origin) #name,
    GCL_SCHEMA(GCL_SCHEMA_NAME)
#undef GCL_SCHEMA_NAME
};

static const enum gcl_col_origin gcl_col_origin_of[GCL_NCOLS] = {
#define GCL_SCHEMA_ORIGIN(name, origin) GCL_ORIGIN_##origin,
    GCL_SCHEMA(GCL_SCHEMA_ORIGIN)
#undef GCL_SCHEMA_ORIGIN
};

/* --- the output file ---------------------------------------------------------------------- */

void gcl_header_line(const struct gcl_catalog *cat, struct gcl_buf *b) {
  for (int i = 0; i < GCL_NCOLS; i++) gcl_buf_printf(b, "%s%s", i ? "," : "", gcl_col_names[i]);
  for (unsigned i = 0; i < cat->nfigcols; i++) gcl_buf_printf(b, ",%s", cat->figcols[i]);
  gcl_buf_puts(b, "\n");
}

/* The existing file's first line (without its newline), at most 4 MiB. */
static char *first_line(int fd) {
  struct gcl_buf b = {0};
  char chunk[4096];
  for (off_t off = 0; off < 4 << 20;) {
    ssize_t n = pread(fd, chunk, sizeof chunk, off);
    if (n <= 0) break;
    char *nl = memchr(chunk, '\n', (size_t)n);
    gcl_buf_putn(&b, chunk, nl ? (size_t)(nl - chunk) : (size_t)n);
    if (nl) break;
    off += n;
  }
  return gcl_must_strdup(gcl_buf_str(&b));
}

/* Split a header line at commas (in place). */
static char **split_header(char *line, unsigned *n) {
  char **v = NULL;
  *n = 0;
  for (char *p = line;; p++) {
    v = gcl_must_realloc(v, (*n + 1) * sizeof *v);
    v[(*n)++] = p;
    p += strcspn(p, ",");
    if (!*p) break;
    *p = 0;
  }
  return v;
}

static bool has_name(char *const *v, unsigned n, const char *name) {
  for (unsigned i = 0; i < n; i++)
    if (strcmp(v[i], name) == 0) return true;
  return false;
}

/* The one line saying how the existing header `line` differs from ours; 2. */
static int header_differs(const struct gcl_catalog *cat, const char *path, char *line) {
  if (strchr(line, '\r'))
    return gcl_run_bad("'%s' has another header than this gclab writes: it has CRLF line ends "
                       "(its header line ends in \\r\\n) and gclab appends LF lines only; "
                       "convert it (dos2unix) or choose another --out", path);
  unsigned n;
  char **theirs = split_header(line, &n);
  bool core = n >= GCL_NCOLS;
  for (unsigned i = 0; core && i < GCL_NCOLS; i++) core = strcmp(theirs[i], gcl_col_names[i]) == 0;
  for (unsigned i = GCL_NCOLS; core && i < n; i++) core = gcl_module_column_ok(theirs[i]);
  if (!core) {
    unsigned i = 0;
    while (i < n && i < GCL_NCOLS && strcmp(theirs[i], gcl_col_names[i]) == 0) i++;
    if (i == GCL_NCOLS && i < n) { /* the core matches: a later column is not MODULE.FIGURE */
      while (gcl_module_column_ok(theirs[i])) i++;
      return gcl_run_bad("'%s' has another header (schema) than this gclab writes: column %u "
                         "'%.60s' after config is not a module column (MODULE.FIGURE); choose "
                         "another --out", path, i + 1, theirs[i]);
    }
    return gcl_run_bad("'%s' has another header (schema) than this gclab writes (schema_version "
                       "%d): column %u is '%.60s', expected '%s'; choose another --out", path,
                       GCL_SCHEMA_VERSION, i + 1, i < n ? theirs[i] : "(end of line)",
                       i < GCL_NCOLS ? gcl_col_names[i] : "(end of line)");
  }
  /* Same core columns: the modules of the build that wrote it differ. */
  struct gcl_buf lacks = {0}, has = {0};
  for (unsigned i = 0; i < cat->nfigcols; i++)
    if (!has_name(theirs + GCL_NCOLS, n - GCL_NCOLS, cat->figcols[i]))
      gcl_buf_printf(&lacks, "%s%s", lacks.len ? ", " : "", cat->figcols[i]);
  for (unsigned i = GCL_NCOLS; i < n; i++)
    if (!has_name(cat->figcols, cat->nfigcols, theirs[i]))
      gcl_buf_printf(&has, "%s%s", has.len ? ", " : "", theirs[i]);
  struct gcl_buf what = {0};
  if (lacks.len) gcl_buf_printf(&what, "it lacks %s", lacks.p);
  if (has.len) gcl_buf_printf(&what, "%shas %s", what.len ? ", " : "it ", has.p);
  if (!what.len) gcl_buf_puts(&what, "its module columns are in another order");
  return gcl_run_bad("%s was written by a build with other modules: %s; write to a new file or "
                     "merge (gclab merge)", path, what.p);
}

/* An existing file must start with our header and end with a newline. */
int gcl_open_output(const struct gcl_catalog *cat, const char *path, bool is_default) {
  if (is_default && mkdir(GCL_DEFAULT_OUT_DIR, 0777) != 0 && errno != EEXIST)
    return -gcl_run_bad("cannot create directory '%s': %s", GCL_DEFAULT_OUT_DIR, strerror(errno));
  int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return -gcl_run_bad("cannot open output '%s': %s", path, strerror(errno));
  flock(fd, LOCK_EX); /* two gclab runs starting on one new file write one header */
  struct stat st;
  struct gcl_buf header = {0};
  gcl_header_line(cat, &header);
  if (fstat(fd, &st) != 0) return -gcl_run_bad("cannot stat output '%s': %s", path, strerror(errno));
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    char *head = first_line(fd);
    if (strlen(head) + 1 != header.len || memcmp(head, header.p, header.len - 1) != 0)
      return -header_differs(cat, path, head);
    char last;
    if (pread(fd, &last, 1, st.st_size - 1) != 1 || last != '\n')
      return -gcl_run_bad("'%s' does not end with a newline (a truncated row?); refusing to append", path);
  } else {
    char why[512];
    if (gcl_append(fd, header.p, header.len, why, sizeof why) != 0)
      return -gcl_run_bad("cannot write the header to '%s': %s", path, why);
  }
  flock(fd, LOCK_UN);
  gcl_buf_free(&header);
  return fd;
}

/* --- rows ------------------------------------------------------------------------------------ */

/* The modules a cell's record may write figures of. */
struct cell_modules {
  const char *name[3]; /* its collector, allocator, workload */
};

/* The row column of record key KEY for a cell of these modules: a RECORD core column, or
 * MODULE.FIGURE declared by one of the cell's modules; -1 (and why into err) if neither. */
static int record_column(const struct gcl_catalog *cat, const struct cell_modules *cm,
                         const char *key, char *err, size_t len) {
  const char *dot = strchr(key, '.');
  if (!dot) {
    for (int i = 0; i < GCL_NCOLS; i++)
      if (gcl_col_origin_of[i] == GCL_ORIGIN_RECORD && strcmp(gcl_col_names[i], key) == 0) return i;
    snprintf(err, len, "error:unknown record key %.60s", key);
    return -1;
  }
  for (int k = 0; k < 3; k++) {
    size_t ml = strlen(cm->name[k]);
    if ((size_t)(dot - key) != ml || strncmp(key, cm->name[k], ml) != 0) continue;
    int f = gcl_catalog_figcol(cat, cm->name[k], dot + 1);
    if (f >= 0) return GCL_NCOLS + f;
  }
  snprintf(err, len, "error:unknown record key %.60s (not a declared figure of %s, %s or %s)", key,
           cm->name[0], cm->name[1], cm->name[2]);
  return -1;
}

/* Split the record into vals[] (pointing into it). Returns NULL, or an error status into
 * err. *complete says whether the record ended with `end`. */
static const char *parse_record(const struct gcl_catalog *cat, const struct cell_modules *cm,
                                char *rec, const char *vals[], bool *complete, char *err,
                                size_t len) {
  *complete = false;
  if (!rec) return NULL;
  for (char *line = rec; *line;) {
    char *nl = strchr(line, '\n');
    if (!nl) {
      snprintf(err, len, "error:record line without a newline");
      return err;
    }
    *nl = 0;
    if (*complete) {
      snprintf(err, len, "error:record data after end");
      return err;
    }
    if (strcmp(line, "end") == 0) {
      *complete = true;
    } else {
      char *eq = strchr(line, '=');
      if (!eq) {
        snprintf(err, len, "error:malformed record line '%.60s'", line);
        return err;
      }
      *eq = 0;
      int c = record_column(cat, cm, line, err, len);
      if (c < 0) return err;
      if (vals[c]) {
        snprintf(err, len, "error:duplicate record key %s", line);
        return err;
      }
      vals[c] = eq + 1;
    }
    line = nl + 1;
  }
  return NULL;
}

static bool valid_record_status(const char *s) {
  return strcmp(s, "ok") == 0 || strcmp(s, "oom") == 0 || strncmp(s, "wrong:", 6) == 0 ||
         strncmp(s, "invalid:", 8) == 0 || strncmp(s, "error:", 6) == 0;
}

const char *gcl_cell_status(const struct gcl_matrix *m, const struct gcl_run_opts *o,
                            const struct gcl_run_cell *x, struct gcl_cell_result *res,
                            const char *vals[], char *buf, size_t len) {
  if (res->end == GCL_CELL_SPAWN_FAILED) {
    snprintf(buf, len, "error:%s", res->why);
    return buf;
  }
  if (res->end == GCL_CELL_TIMEOUT) return "timeout"; /* a record, if any, is not trusted */
  if (res->record_overflow) {
    snprintf(buf, len, "error:record larger than %d bytes", GCL_RECORD_MAX);
    return buf;
  }
  bool complete;
  const char **got = gcl_must_realloc(NULL, m->ncols * sizeof *got);
  memset(got, 0, m->ncols * sizeof *got);
  struct cell_modules cm = {{o->collectors.v[x->c], o->allocators.v[x->a], m->sel[x->w].info->name}};
  const char *err = parse_record(&m->cat, &cm, res->record.p, got, &complete, buf, len);
  /* A crashed runner's record counts only if it was complete and well formed. */
  if (res->end != GCL_CELL_SIGNALED || (complete && !err)) memcpy(vals, got, m->ncols * sizeof *got);
  free(got);
  if (res->end == GCL_CELL_SIGNALED) {
    const char *abbrev = sigabbrev_np(res->term_signal);
    if (abbrev)
      snprintf(buf, len, "crash:SIG%s", abbrev);
    else
      snprintf(buf, len, "crash:signal %d", res->term_signal);
    return buf;
  }
  if (err) return err;
  const char *st = vals[GCL_COL_status];
  if (res->exit_status != 0) {
    if (complete && st && strncmp(st, "error:", 6) == 0) return st;
    snprintf(buf, len, "error:runner exit status %d %s", res->exit_status,
             complete ? "after its record" : res->record.len ? "with an incomplete record" : "without a record");
    return buf;
  }
  if (!complete) {
    snprintf(buf, len, "error:runner exited 0 %s", res->record.len ? "with an incomplete record" : "without a record");
    return buf;
  }
  if (!st) return "error:record has no status";
  if (!valid_record_status(st)) {
    snprintf(buf, len, "error:bad record status '%.60s'", st);
    return buf;
  }
  return st;
}

static void fmt_time(char *out, size_t len, struct timeval tv) {
  snprintf(out, len, "%ld.%06ld", (long)tv.tv_sec, (long)tv.tv_usec);
}

static char *read_cpu_model(void) {
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return NULL;
  char line[512];
  char *model = NULL;
  static const char *const keys[] = {"model name", "Model", "cpu model", "Hardware"};
  while (!model && fgets(line, sizeof line, f)) {
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
      size_t n = strlen(keys[k]);
      if (strncmp(line, keys[k], n) != 0 || !strchr(line + n, ':')) continue;
      if (strspn(line + n, " \t") != strcspn(line + n, ":")) continue; /* "model" vs "model name" */
      char *v = strchr(line + n, ':') + 1;
      v += strspn(v, " \t");
      v[strcspn(v, "\r\n")] = 0;
      if (*v) model = gcl_must_strdup(v);
      break;
    }
  }
  fclose(f);
  return model;
}

void gcl_row_ctx_init(struct gcl_row_ctx *x) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  snprintf(x->version, sizeof x->version, "%d", GCL_SCHEMA_VERSION);
  snprintf(x->run_id, sizeof x->run_id, "%llx-%x", (unsigned long long)now.tv_sec, (unsigned)getpid());
  x->host[0] = 0;
  if (gethostname(x->host, sizeof x->host - 1) != 0) x->host[0] = 0;
  x->cpu_model = read_cpu_model();
  x->yaml_version = yaml_get_version_string();
}

/* The CHILD columns from wait4's rusage, into bufs (32 bytes each). */
static void child_columns(const struct gcl_cell_result *res, bool ran, const char *vals[],
                          char bufs[][32]) {
  if (ran && res->end != GCL_CELL_SPAWN_FAILED) {
    snprintf(bufs[0], 32, "%.6f", res->process_wall_s);
    vals[GCL_COL_process_wall_s] = bufs[0];
  }
  if (!res->have_rusage) return;
  fmt_time(bufs[1], 32, res->ru.ru_utime);
  fmt_time(bufs[2], 32, res->ru.ru_stime);
  snprintf(bufs[3], 32, "%ld", res->ru.ru_maxrss);
  snprintf(bufs[4], 32, "%ld", res->ru.ru_minflt);
  snprintf(bufs[5], 32, "%ld", res->ru.ru_majflt);
  snprintf(bufs[6], 32, "%ld", res->ru.ru_nvcsw);
  snprintf(bufs[7], 32, "%ld", res->ru.ru_nivcsw);
  vals[GCL_COL_user_s] = bufs[1], vals[GCL_COL_sys_s] = bufs[2], vals[GCL_COL_max_rss_kb] = bufs[3];
  vals[GCL_COL_minflt] = bufs[4], vals[GCL_COL_majflt] = bufs[5];
  vals[GCL_COL_nvcsw] = bufs[6], vals[GCL_COL_nivcsw] = bufs[7];
}

void gcl_row_build(const struct gcl_row_ctx *x, const struct gcl_run_opts *o,
                   const struct gcl_matrix *m, const struct gcl_run_cell *cell,
                   const char *status, const struct gcl_cell_result *res, bool ran,
                   const char *vals[], struct gcl_row_bufs *b, struct gcl_buf *row) {
  time_t tnow = time(NULL);
  strftime(b->timestamp, sizeof b->timestamp, "%Y-%m-%dT%H:%M:%SZ", gmtime(&tnow));
  snprintf(b->seed, sizeof b->seed, "%llu", (unsigned long long)(o->seed + cell->rep));
  snprintf(b->rep, sizeof b->rep, "%u", cell->rep);
  vals[GCL_COL_schema_version] = x->version;
  vals[GCL_COL_run_id] = x->run_id;
  vals[GCL_COL_timestamp] = b->timestamp;
  vals[GCL_COL_gclab_version] = gcl_version;
  vals[GCL_COL_host] = x->host[0] ? x->host : NULL;
  vals[GCL_COL_cpu_model] = x->cpu_model;
  vals[GCL_COL_collector] = o->collectors.v[cell->c];
  vals[GCL_COL_allocator] = o->allocators.v[cell->a];
  vals[GCL_COL_workload] = m->sel[cell->w].info->name;
  vals[GCL_COL_params] = gcl_cell_params(m, cell);
  vals[GCL_COL_options] = gcl_cell_options(o, m, cell);
  vals[GCL_COL_yaml_version] = x->yaml_version;
  vals[GCL_COL_threads] = o->threads.v[cell->t];
  vals[GCL_COL_rep] = b->rep;
  vals[GCL_COL_seed] = b->seed;
  vals[GCL_COL_scale] = m->scale;
  vals[GCL_COL_placement] = o->placement.v[cell->p];
  vals[GCL_COL_gil] = o->gil.v[cell->g];
  vals[GCL_COL_freelists] = o->freelists.v[cell->f];
  vals[GCL_COL_iterations] = m->iters;
  vals[GCL_COL_heap_factor] = gcl_heap_factor_of(o, cell->h);
  if (cell->heap_bytes) {
    snprintf(b->heap, sizeof b->heap, "%llu", (unsigned long long)cell->heap_bytes);
    vals[GCL_COL_heap_limit_bytes] = b->heap;
  }
  vals[GCL_COL_status] = status;
  child_columns(res, ran, vals, b->child);
  double wall, gc;
  if (vals[GCL_COL_wall_s] && vals[GCL_COL_gc_s] && gcl_num_parse(vals[GCL_COL_wall_s], &wall) &&
      gcl_num_parse(vals[GCL_COL_gc_s], &gc)) {
    snprintf(b->mutator, sizeof b->mutator, "%.9g", wall - gc);
    vals[GCL_COL_mutator_s] = b->mutator;
  }
  for (unsigned i = 0; i < m->ncols; i++) {
    if (i) gcl_buf_puts(row, ",");
    gcl_buf_csv_field(row, vals[i]);
  }
  gcl_buf_puts(row, "\n");
}
