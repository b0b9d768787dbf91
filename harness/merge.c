/* harness/merge.c — `gclab merge OUT IN...`: join CSV files written by `gclab run` (shards,
 * resumed runs, runs on several machines) into one new file OUT.
 *
 * Every input must have exactly the same header and one schema_version on every row, the
 * same in all inputs; anything else is refused (exit 2) before OUT is created. Rows are
 * copied in input order, re-quoted as RFC 4180. OUT must not exist; it is written to
 * OUT.tmp and renamed, so it is either complete or absent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csv-read.h"
#include "harness.h"

#define WHO "gclab merge"

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
  struct stat st;
  if (stat(out, &st) == 0) {
    fprintf(stderr, WHO ": '%s' exists; merge writes a new file (choose another OUT)\n", out);
    return 2;
  }
  int nin = argc - 2;
  struct gcl_csv *in = calloc((size_t)nin, sizeof *in);
  if (!in) return 1;
  const char *version = NULL, *version_from = NULL;
  for (int i = 0; i < nin; i++) {
    if (gcl_csv_read(&in[i], WHO, argv[i + 2]) != 0) return 2;
    int vcol = gcl_csv_require(&in[i], "schema_version");
    if (vcol < 0) return 2;
    if (i > 0) {
      bool same = in[i].ncols == in[0].ncols;
      for (size_t c = 0; same && c < in[0].ncols; c++) same = strcmp(in[i].header[c], in[0].header[c]) == 0;
      if (!same) {
        fprintf(stderr, WHO ": '%s' has another header than '%s' (another schema); refusing to merge\n",
                argv[i + 2], argv[2]);
        return 2;
      }
    }
    for (size_t r = 0; r < in[i].nrows; r++) {
      const char *v = gcl_csv_get(&in[i], r, (size_t)vcol);
      if (!version) {
        version = v;
        version_from = argv[i + 2];
      } else if (strcmp(v, version) != 0) {
        fprintf(stderr, WHO ": %s:%u: schema_version is '%s' but %s has '%s'; refusing to merge "
                "mismatched schema versions\n", argv[i + 2], in[i].line[r], v, version_from, version);
        return 2;
      }
    }
  }
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
  struct gcl_buf tmp = {0};
  gcl_buf_printf(&tmp, "%s.tmp", out);
  FILE *f = fopen(tmp.p, "w");
  if (!f) {
    fprintf(stderr, WHO ": cannot write '%s': %s\n", tmp.p, strerror(errno));
    return 2;
  }
  bool ok = fwrite(b.p, 1, b.len, f) == b.len;
  ok = (fclose(f) == 0) && ok;
  if (!ok || rename(tmp.p, out) != 0) {
    fprintf(stderr, WHO ": cannot write '%s': %s\n", out, strerror(errno));
    unlink(tmp.p);
    return 2;
  }
  printf("%zu rows from %d files merged into %s (schema_version %s)\n", rows, nin, out,
         version ? version : "(no rows)");
  return 0;
}
