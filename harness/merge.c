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
 * created. Rows are copied in input order, re-quoted as RFC 4180. OUT must not exist; it
 * is written to OUT.tmp and renamed, so it is either complete or absent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv-read.h"
#include "harness.h"
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
      fprintf(stderr, WHO ": '%s' has another header than schema %d: column %zu is '%.60s', "
              "expected '%s'; refusing to merge\n", path, GCL_SCHEMA_VERSION, c + 1, have, core[c]);
      return 2;
    }
    if (c >= GCL_NCOLS && !gcl_module_column_ok(have)) {
      fprintf(stderr, WHO ": '%s' has another header than schema %d: column %zu '%.60s' after "
              "config is not a module column (MODULE.FIGURE); refusing to merge\n", path,
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
        fprintf(stderr, WHO ": %s:%u: schema_version is '%s' but %s has '%s'; refusing to merge "
                "mismatched schema versions\n", paths[i], in[i].line[r], v, from, *version);
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
      fprintf(stderr, WHO ": '%s' has another header than '%s' (another schema); refusing to merge\n",
              paths[i], paths[0]);
      return 2;
    }
  }
  return 0;
}

/* OUT written whole: OUT.tmp, then renamed. 0 or 2 after one line. */
static int write_whole(const char *out, const struct gcl_buf *b) {
  struct gcl_buf tmp = {0};
  gcl_buf_printf(&tmp, "%s.tmp", out);
  FILE *f = fopen(tmp.p, "w");
  if (!f) {
    fprintf(stderr, WHO ": cannot write '%s': %s\n", tmp.p, strerror(errno));
    return 2;
  }
  bool ok = fwrite(b->p, 1, b->len, f) == b->len;
  ok = (fclose(f) == 0) && ok;
  if (!ok || rename(tmp.p, out) != 0) {
    fprintf(stderr, WHO ": cannot write '%s': %s\n", out, strerror(errno));
    unlink(tmp.p);
    return 2;
  }
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
  struct stat st;
  if (stat(out, &st) == 0) {
    fprintf(stderr, WHO ": '%s' exists; merge writes a new file (choose another OUT)\n", out);
    return 2;
  }
  int nin = argc - 2;
  char **paths = argv + 2;
  struct gcl_csv *in = calloc((size_t)nin, sizeof *in);
  if (!in) return 1;
  for (int i = 0; i < nin; i++)
    if (gcl_csv_read(&in[i], WHO, paths[i]) != 0) return 2;
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
  if (write_whole(out, &b)) return 2;
  printf("%zu rows from %d files merged into %s (schema_version %s)\n", rows, nin, out,
         version ? version : "(no rows)");
  return 0;
}
