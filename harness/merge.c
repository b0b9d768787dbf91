/* SPDX-License-Identifier: MIT */
/* harness/merge.c — `gclab merge OUT IN...`: join CSV files written by `gclab run` (shards,
 * resumed runs, runs on several machines, builds with other modules) into one new file OUT.
 *
 * Every row of every input must carry one schema_version, the same in all inputs (a v4
 * file merges with v4 files only). Files of the current schema must start with its core
 * columns (harness/schema.h, in order) followed by module columns only (MODULE.FIGURE);
 * the output header is the core columns, then the union of the module columns in order of
 * first appearance (input order, then column order), and a cell an input has no column
 * for is empty (never 0). Files of older schemas had no module columns: they must have
 * exactly the same header. Anything else is refused (exit 2, one line) before OUT is
 * created. So is an input that fails the readers' value check (gcl_csv_check_values: what
 * summary refuses, merge refuses) and an input named twice (the same file under any name,
 * by device and inode: it would double its rows' n). Rows are copied in input order,
 * re-quoted as RFC 4180. OUT must not exist; it is written whole through a private
 * temporary file (gcl_file_write_atomic), so it is either complete or absent and no
 * symlink or existing file (OUT.tmp included) is ever written through. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv-read.h"
#include "emit.h"
#include "harness.h"
#include "safe-file.h"
#include "schema.h"

#define WHO "gclab merge"

static const char *const core[GCL_NCOLS] = {
#define GCL_SCHEMA_NAME(name, origin) #name,
    GCL_SCHEMA(GCL_SCHEMA_NAME)
#undef GCL_SCHEMA_NAME
};

/* The current schema's rule for one input: core columns in order, then module columns
 * only. 0, or 2 after one line. */
static int check_core(const struct gcl_csv *in, const char *path) {
  for (size_t c = 0; c < in->ncols || c < GCL_NCOLS; c++) {
    const char *have = c < in->ncols ? in->header[c] : "(end of line)";
    if (c < GCL_NCOLS && (c >= in->ncols || strcmp(have, core[c]) != 0)) {
      gcl_msg_line(stderr, WHO ": '%s' has another header than schema %d: column %zu is '%.60s', "
              "expected '%s'; refusing to merge", path, GCL_SCHEMA_VERSION, c + 1, have, core[c]);
      return 2;
    }
    if (c >= GCL_NCOLS && !gcl_module_column_ok(have)) {
      gcl_msg_line(stderr, WHO ": '%s' has another header than schema %d: column %zu '%.60s' after "
              "config is not a module column (MODULE.FIGURE); refusing to merge", path,
              GCL_SCHEMA_VERSION, c + 1, have);
      return 2;
    }
  }
  return 0;
}

/* The output header: in[0]'s for old schemas, else core + union of module columns. */
static char **union_header(const struct gcl_csv *in, int nin, bool current, size_t *n) {
  char **cols = NULL;
  *n = 0;
  for (int i = 0; i < (current ? nin : 1); i++)
    for (size_t c = 0; c < in[i].ncols; c++) {
      bool have = false;
      for (size_t k = 0; k < *n && !have; k++) have = strcmp(cols[k], in[i].header[c]) == 0;
      if (have) continue;
      cols = gcl_must_realloc(cols, (*n + 1) * sizeof *cols);
      cols[(*n)++] = in[i].header[c];
    }
  return cols;
}

/* Every row of every input has one schema_version; into *version (NULL: no rows). 0 or 2. */
static int one_version(struct gcl_csv *in, int nin, char **paths, const char **version) {
  const char *from = NULL;
  *version = NULL;
  for (int i = 0; i < nin; i++) {
    int vcol = gcl_csv_require(&in[i], "schema_version");
    if (vcol < 0) return 2;
    for (size_t r = 0; r < in[i].nrows; r++) {
      const char *v = gcl_csv_get(&in[i], r, (size_t)vcol);
      if (!*version) {
        *version = v;
        from = paths[i];
      } else if (strcmp(v, *version) != 0) {
        gcl_msg_line(stderr, WHO ": %s:%u: schema_version is '%s' but %s has '%s'; refusing to merge "
                "mismatched schema versions", paths[i], in[i].line[r], v, from, *version);
        return 2;
      }
    }
  }
  return 0;
}

/* The headers agree under the rule of their schema (see the top of the file); 0 or 2. */
static int check_headers(const struct gcl_csv *in, int nin, char **paths, bool current) {
  for (int i = 0; i < nin; i++) {
    if (current && check_core(&in[i], paths[i])) return 2;
    if (current || i == 0) continue;
    bool same = in[i].ncols == in[0].ncols;
    for (size_t c = 0; same && c < in[0].ncols; c++) same = strcmp(in[i].header[c], in[0].header[c]) == 0;
    if (!same) {
      gcl_msg_line(stderr, WHO ": '%s' has another header than '%s' (another schema); refusing to merge",
                   paths[i], paths[0]);
      return 2;
    }
  }
  return 0;
}

/* Each input once: the same file under two names (by device and inode) would count its
 * rows twice. 0, or 2 after one line. */
static int distinct_inputs(int nin, char **paths) {
  struct gcl_file_id *ids = gcl_must_realloc(NULL, (size_t)nin * sizeof *ids);
  for (int i = 0; i < nin; i++) {
    gcl_file_id(paths[i], &ids[i]);
    for (int j = 0; j < i; j++)
      if (gcl_file_same(&ids[i], &ids[j])) {
        gcl_msg_line(stderr, WHO ": '%s' and '%s' are the same file; merging it with itself "
                     "would count its rows twice (name each input once)", paths[j], paths[i]);
        return 2;
      }
  }
  free(ids);
  return 0;
}

int gcl_cmd_merge(int argc, char **argv) {
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    printf("usage: gclab merge OUT IN...\n  joins CSV files of one schema version into the new "
           "file OUT; module columns are united (a missing one is empty)\n");
    return 0;
  }
  if (argc < 3) {
    fprintf(stderr, WHO ": usage: gclab merge OUT IN... (at least one input)\n");
    return 2;
  }
  const char *out = argv[1];
  struct gcl_file_id oid;
  int e = gcl_file_id(out, &oid);
  if (e < 0 || oid.exists) {
    if (e < 0) gcl_msg_line(stderr, WHO ": cannot write '%s': %s", out, strerror(-e));
    else gcl_msg_line(stderr, WHO ": '%s' exists; merge writes a new file (choose another OUT)", out);
    return 2;
  }
  int nin = argc - 2;
  char **paths = argv + 2;
  struct gcl_csv *in = calloc((size_t)nin, sizeof *in);
  if (!in) return 1;
  if (distinct_inputs(nin, paths)) return 2;
  for (int i = 0; i < nin; i++)
    if (gcl_csv_read(&in[i], WHO, paths[i]) != 0 || gcl_csv_check_values(&in[i]) != 0) return 2;
  const char *version;
  if (one_version(in, nin, paths, &version)) return 2;
  bool current = !version || strtol(version, NULL, 10) == GCL_SCHEMA_VERSION;
  if (check_headers(in, nin, paths, current)) return 2;
  size_t ncols;
  char **cols = union_header(in, nin, current, &ncols);
  struct gcl_buf b = {0};
  for (size_t c = 0; c < ncols; c++) {
    if (c) gcl_buf_puts(&b, ",");
    gcl_buf_csv_field(&b, cols[c]);
  }
  gcl_buf_puts(&b, "\n");
  size_t rows = 0;
  for (int i = 0; i < nin; i++) {
    int *from = gcl_must_realloc(NULL, ncols * sizeof *from); /* output column -> input column */
    for (size_t c = 0; c < ncols; c++) from[c] = gcl_csv_col(&in[i], cols[c]);
    for (size_t r = 0; r < in[i].nrows; r++, rows++) {
      for (size_t c = 0; c < ncols; c++) {
        if (c) gcl_buf_puts(&b, ",");
        const char *f = from[c] < 0 ? "" : gcl_csv_get(&in[i], r, (size_t)from[c]);
        gcl_buf_csv_field(&b, *f ? f : NULL);
      }
      gcl_buf_puts(&b, "\n");
    }
    free(from);
  }
  char why[1200];
  if (gcl_file_write_atomic(out, b.p, b.len, true, why, sizeof why) != 0) {
    gcl_msg_line(stderr, WHO ": %s", why);
    return 2;
  }
  gcl_msg_line(stdout, "%zu rows from %d files merged into %s (schema_version %s)", rows, nin, out,
               version ? version : "(no rows)");
  return 0;
}
