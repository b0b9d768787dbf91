/* SPDX-License-Identifier: MIT */
/* harness/analysis/csv-read.h — an RFC 4180 reader for the CSV files `gclab run` writes.
 *
 * The whole file is read into memory and decoded in place: every field is a NUL-terminated
 * string pointing into one buffer, so a loaded file costs its size plus one pointer per
 * field. Accepted: quoted fields with embedded commas, doubled quotes and newlines; LF or
 * CRLF line ends; a UTF-8 byte-order mark; empty lines (skipped). Rejected with one line on
 * stderr ("WHO: FILE:LINE: what"): an unterminated quote, a quote inside an unquoted field,
 * text after a closing quote, a NUL byte, a duplicate column name, and any row whose field
 * count differs from the header's. Line numbers are physical lines (the header is line 1);
 * a row spanning several lines is named by the line it starts on. */
#ifndef GCL_CSV_READ_H
#define GCL_CSV_READ_H

#include <stddef.h>

#define GCL_CSV_MAX_BYTES (4ull << 30) /* a larger results file is refused, not read */

struct gcl_csv {
  const char *path;  /* file name used in messages ("-" is standard input) */
  const char *who;   /* message prefix, e.g. "gclab summary" */
  char *buf;         /* the file's bytes, decoded in place; fields point into it */
  size_t ncols;      /* fields per row (the header's field count) */
  char **header;     /* ncols column names */
  size_t nrows;      /* data rows, the header excluded */
  char **fields;     /* nrows * ncols field pointers, row-major */
  unsigned *line;    /* nrows: the physical line each row starts on */
};

/* Read and validate the shape of PATH. Returns 0, or -1 after printing one line (the file
 * cannot be read, is empty, or is malformed as described above). */
int gcl_csv_read(struct gcl_csv *csv, const char *who, const char *path);
void gcl_csv_free(struct gcl_csv *csv);
/* Like gcl_csv_read, on LEN bytes already in BUF (malloc'd, with a NUL at BUF[LEN]); the
 * csv takes BUF over (gcl_csv_free frees it, also on failure). */
int gcl_csv_parse(struct gcl_csv *csv, const char *who, const char *path, char *buf, size_t len);

/* The one check of values every reader applies (summary, compare, table, merge, resume):
 * every column gclab writes as a measurement (the schema's RECORD and CHILD columns other
 * than the text ones such as status, checksum, config, the lists iter_wall_s and pus and
 * the build environment; and any column whose name ends in _s, _us, _ns, _kb or _bytes,
 * which covers older schemas and module figures) is empty or a finite decimal number,
 * and not negative (mutator_s, wall_s - gc_s, may be). Returns 0, or -1
 * after one line naming file:line, the column and the value. */
int gcl_csv_check_values(const struct gcl_csv *csv);

/* The index of column NAME, or -1 when the header lacks it. */
int gcl_csv_col(const struct gcl_csv *csv, const char *name);

/* Like gcl_csv_col, but prints one line naming the missing column (or saying that the
 * file has no header row at all) and returns -1. */
int gcl_csv_require(const struct gcl_csv *csv, const char *name);

static inline const char *gcl_csv_get(const struct gcl_csv *csv, size_t row, size_t col) {
  return csv->fields[row * csv->ncols + col];
}

/* Parse field (ROW, COL) as a finite decimal number. Returns 1 and sets *out, 0 when the
 * field is empty (not measured: *out untouched), or -1 after printing one line naming
 * file:line:column and the bad text. */
int gcl_csv_number(const struct gcl_csv *csv, size_t row, size_t col, double *out);

/* Check that column NAME holds one whole number in [LO, HI] on every row (the same on
 * every row); otherwise print one line naming the file, the row and the value found, and
 * return -1. */
int gcl_csv_check_version(const struct gcl_csv *csv, const char *name, long lo, long hi);

#endif
