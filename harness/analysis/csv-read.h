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
