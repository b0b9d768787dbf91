/* harness/merge.c — `gclab merge OUT IN...`: join CSV files written by `gclab run` (shards,
 * resumed runs, runs on several machines) into one new file OUT.
 *
 * Every input must have exactly the same header and one schema_version on every row, the
 * same in all inputs, and pass the readers' value check (gcl_csv_check_values: what
 * summary refuses, merge refuses); an input named twice (the same file under any name)
 * would double its rows' n and is refused too. Anything else is refused (exit 2) before
 * OUT is created. Rows are copied in input order, re-quoted as RFC 4180. OUT must not
 * exist and must not be one of the inputs; it is written whole through a private
 * temporary file (gcl_file_write_atomic), so it is either complete or absent and no
 * symlink or existing file is ever written through. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv-read.h"
#include "emit.h"
#include "harness.h"
#include "safe-file.h"

#define WHO "gclab merge"

/* Read and check every input against the first; 0, or 2 after one line. */
static int read_inputs(int nin, char **names, struct gcl_csv *in, const char **version) {
  const char *version_from = NULL;
  struct gcl_file_id *ids = gcl_must_realloc(NULL, (size_t)nin * sizeof *ids);
  for (int i = 0; i < nin; i++) {
    gcl_file_id(names[i], &ids[i]);
    for (int j = 0; j < i; j++)
      if (gcl_file_same(&ids[i], &ids[j])) {
        gcl_msg_line(stderr, WHO ": '%s' and '%s' are the same file; merging it with itself "
                     "would count its rows twice (name each input once)", names[j], names[i]);
        return 2;
      }
    if (gcl_csv_read(&in[i], WHO, names[i]) != 0) return 2;
    int vcol = gcl_csv_require(&in[i], "schema_version");
    if (vcol < 0 || gcl_csv_check_values(&in[i]) != 0) return 2;
    if (i > 0) {
      bool same = in[i].ncols == in[0].ncols;
      for (size_t c = 0; same && c < in[0].ncols; c++) same = strcmp(in[i].header[c], in[0].header[c]) == 0;
      if (!same) {
        gcl_msg_line(stderr, WHO ": '%s' has another header than '%s' (another schema); refusing to merge",
                     names[i], names[0]);
        return 2;
      }
    }
    for (size_t r = 0; r < in[i].nrows; r++) {
      const char *v = gcl_csv_get(&in[i], r, (size_t)vcol);
      if (!*version) {
        *version = v;
        version_from = names[i];
      } else if (strcmp(v, *version) != 0) {
        gcl_msg_line(stderr, WHO ": %s:%u: schema_version is '%s' but %s has '%s'; refusing to merge "
                     "mismatched schema versions", names[i], in[i].line[r], v, version_from, *version);
        return 2;
      }
    }
  }
  free(ids);
  return 0;
}

int gcl_cmd_merge(int argc, char **argv) {
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    printf("usage: gclab merge OUT IN...\n  joins CSV files of one header and schema version "
           "into the new file OUT\n");
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
  struct gcl_csv *in = calloc((size_t)nin, sizeof *in);
  if (!in) return 1;
  const char *version = NULL;
  int r = read_inputs(nin, argv + 2, in, &version);
  if (r) return r;
  struct gcl_buf b = {0};
  for (size_t c = 0; c < in[0].ncols; c++) {
    if (c) gcl_buf_puts(&b, ",");
    gcl_buf_csv_field(&b, in[0].header[c]);
  }
  gcl_buf_puts(&b, "\n");
  size_t rows = 0;
  for (int i = 0; i < nin; i++)
    for (size_t r = 0; r < in[i].nrows; r++, rows++) {
      for (size_t c = 0; c < in[i].ncols; c++) {
        if (c) gcl_buf_puts(&b, ",");
        const char *f = gcl_csv_get(&in[i], r, c);
        gcl_buf_csv_field(&b, *f ? f : NULL);
      }
      gcl_buf_puts(&b, "\n");
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
