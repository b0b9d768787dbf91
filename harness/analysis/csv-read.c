/* SPDX-License-Identifier: MIT */
/* harness/analysis/csv-read.c — the RFC 4180 reader (see csv-read.h).
 *
 * Decoding happens in place: a decoded field is never longer than its encoded text, and
 * every field is followed by at least one consumed byte (a delimiter, a closing quote) or
 * by the spare byte past the end of the buffer, so the write pointer never passes the read
 * pointer and each field can be NUL-terminated where it stands. */
#include "csv-read.h"

#include "emit.h"
#include "safe-file.h"
#include "schema.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Print "WHO: PATH:LINE: message" (":LINE" omitted when LINE is 0); returns -1. */
static int fail(const struct gcl_csv *c, unsigned line, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (line)
    gcl_msg_line(stderr, "%s: %s:%u: %s", c->who, c->path, line, msg);
  else
    gcl_msg_line(stderr, "%s: %s: %s", c->who, c->path, msg);
  return -1;
}

/* Read the whole file into c->buf with one spare NUL byte after it: a regular file (or
 * standard input) of at most GCL_CSV_MAX_BYTES; a stream stops at its first NUL byte,
 * which the caller then reports (/dev/zero is never read to its end). */
static int slurp(struct gcl_csv *c, size_t *len_out) {
  char why[512];
  if (gcl_file_slurp(c->path, GCL_CSV_MAX_BYTES, true, true, &c->buf, len_out, why, sizeof why) < 0) {
    gcl_msg_line(stderr, "%s: cannot read '%s': %s", c->who, c->path, why);
    return -1;
  }
  return 0;
}

/* A growing array of pointers or line numbers. */
struct vec {
  void *data; /* elements */
  size_t n;   /* elements in use */
  size_t cap; /* elements allocated */
};

static int vec_push(struct vec *v, const void *elem, size_t size) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 1024;
    void *d = realloc(v->data, cap * size);
    if (!d) return -1;
    v->data = d;
    v->cap = cap;
  }
  memcpy((char *)v->data + v->n * size, elem, size);
  v->n++;
  return 0;
}

static int is_crlf(const char *p, const char *end) {
  return p[0] == '\r' && p + 1 < end && p[1] == '\n';
}

/* A decimal number as gclab writes them: sign, digits, point, exponent; nothing else
 * (no spaces, hex, nan or inf). */
static int parse_decimal(const char *s, double *out) {
  if (!*s || strspn(s, "0123456789+-.eE") != strlen(s)) return -1;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (*end || errno == ERANGE || !isfinite(v)) return -1;
  *out = v;
  return 0;
}

/* The message for a first row that is data, not column names (its first field is a
 * number); returns -1. */
static int no_header(const struct gcl_csv *c, const char *first) {
  return fail(c, 1, "no header row (the first row starts with '%s'; expected column names "
                    "such as schema_version)", first);
}

int gcl_csv_read(struct gcl_csv *c, const char *who, const char *path) {
  memset(c, 0, sizeof *c);
  c->who = who;
  c->path = path;
  size_t len;
  if (slurp(c, &len) < 0) return -1;
  return gcl_csv_parse(c, who, path, c->buf, len);
}

int gcl_csv_parse(struct gcl_csv *c, const char *who, const char *path, char *buf, size_t len) {
  memset(c, 0, sizeof *c);
  c->who = who;
  c->path = path;
  c->buf = buf;

  char *nul = memchr(c->buf, '\0', len);
  if (nul) {
    unsigned line = 1;
    for (char *q = c->buf; q < nul; q++) line += *q == '\n';
    fail(c, line, "NUL byte in the file (not a CSV text file)");
    gcl_csv_free(c);
    return -1;
  }

  struct vec fields = {0}, lines = {0};
  char *p = c->buf, *end = c->buf + len;
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
  unsigned line = 1;   /* physical line of p */
  size_t nrec = 0;     /* records decoded so far, the header included */
  int ended_line = 1;  /* whether the last record ended with a line end */
  int rc = 0;

  /* Invariant at the top of each iteration: p is at the start of a record (or of an empty
   * line), and fields.n == nrec * c->ncols. */
  while (p < end && rc == 0) {
    if (*p == '\n' || is_crlf(p, end)) { /* empty line: no record */
      p += *p == '\n' ? 1 : 2;
      line++;
      continue;
    }
    unsigned start = line;
    size_t first = fields.n;
    int end_rec = 0;
    while (!end_rec && rc == 0) {
      char *field = p, *w = p;
      if (*p == '"') {
        unsigned opened = line;
        p++;
        for (;;) {
          if (p == end) {
            rc = fail(c, opened, "unterminated quoted field (no closing '\"' before the end of the file)");
            break;
          }
          if (*p == '"') {
            if (p + 1 < end && p[1] == '"') {
              *w++ = '"';
              p += 2;
              continue;
            }
            p++;
            break;
          }
          if (*p == '\n') line++;
          *w++ = *p++;
        }
        if (rc) break;
        if (p == end) {
          end_rec = 1;
          ended_line = 0;
        } else if (*p == ',') {
          p++;
        } else if (*p == '\n' || is_crlf(p, end)) {
          p += *p == '\n' ? 1 : 2;
          line++;
          end_rec = 1;
        } else {
          rc = fail(c, line, "'%c' after a closing quote (expected ',' or the end of the line)", *p);
          break;
        }
      } else {
        while (p < end && *p != ',' && *p != '\n' && !is_crlf(p, end)) {
          if (*p == '"') {
            rc = fail(c, line, "'\"' inside an unquoted field (quote the whole field and double the quote)");
            break;
          }
          p++;
        }
        if (rc) break;
        w = p;
        if (p == end) {
          end_rec = 1;
          ended_line = 0;
        } else if (*p == ',') {
          p++;
        } else {
          p += *p == '\n' ? 1 : 2;
          line++;
          end_rec = 1;
        }
      }
      *w = '\0';
      if (vec_push(&fields, &field, sizeof field) < 0) rc = fail(c, start, "out of memory");
    }
    if (rc) break;
    size_t count = fields.n - first;
    char **f = (char **)fields.data + first;
    if (nrec == 0) {
      c->ncols = count;
      for (size_t i = 0; i < count && rc == 0; i++)
        for (size_t j = 0; j < i; j++)
          if (strcmp(f[i], f[j]) == 0) {
            double v;
            rc = parse_decimal(f[0], &v) == 0 ? no_header(c, f[0])
                                              : fail(c, start, "duplicate column '%s' in the header", f[i]);
            break;
          }
    } else if (count != c->ncols) {
      rc = fail(c, start, "row has %zu fields, the header has %zu (truncated or malformed row)",
                count, c->ncols);
    } else if (vec_push(&lines, &start, sizeof start) < 0) {
      rc = fail(c, start, "out of memory");
    }
    nrec++;
  }
  if (rc == 0 && nrec == 0) rc = fail(c, 0, "empty file (expected a header row and data rows)");
  if (rc == 0 && !ended_line && nrec > 1)
    gcl_msg_line(stderr, "%s: %s:%u: warning: the last row has no line end (was the file cut short?)",
                 who, path, ((unsigned *)lines.data)[lines.n - 1]);
  if (rc) {
    free(fields.data);
    free(lines.data);
    gcl_csv_free(c);
    return -1;
  }
  c->header = fields.data;
  c->fields = (char **)fields.data + c->ncols;
  c->nrows = nrec - 1;
  c->line = lines.data;
  return 0;
}

void gcl_csv_free(struct gcl_csv *c) {
  free(c->buf);
  free(c->header); /* the header and the rows share one pointer array */
  free(c->line);
  c->buf = NULL;
  c->header = c->fields = NULL;
  c->line = NULL;
  c->nrows = c->ncols = 0;
}

int gcl_csv_col(const struct gcl_csv *c, const char *name) {
  for (size_t i = 0; i < c->ncols; i++)
    if (strcmp(c->header[i], name) == 0) return (int)i;
  return -1;
}

int gcl_csv_require(const struct gcl_csv *c, const char *name) {
  int col = gcl_csv_col(c, name);
  if (col >= 0) return col;
  double v;
  if (gcl_csv_col(c, "schema_version") < 0 && c->ncols > 0 && parse_decimal(c->header[0], &v) == 0)
    return no_header(c, c->header[0]);
  return fail(c, 1, "the header has no column '%s'", name);
}

int gcl_csv_number(const struct gcl_csv *c, size_t row, size_t col, double *out) {
  const char *s = gcl_csv_get(c, row, col);
  if (!*s) return 0;
  if (parse_decimal(s, out) < 0)
    return fail(c, c->line[row], "column %s: '%s' is not a number (expected a decimal number, "
                                 "or an empty field for not measured)", c->header[col], s);
  return 1;
}

int gcl_csv_check_version(const struct gcl_csv *c, const char *name, long lo, long hi) {
  int col = gcl_csv_require(c, name);
  if (col < 0) return -1;
  long first = 0;
  for (size_t r = 0; r < c->nrows; r++) {
    const char *s = gcl_csv_get(c, r, (size_t)col);
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi) {
      if (lo == hi)
        return fail(c, c->line[r], "%s is '%s'; this gclab reads %s %ld only", name, s, name, lo);
      return fail(c, c->line[r], "%s is '%s'; this gclab reads %s %ld to %ld", name, s, name, lo, hi);
    }
    if (r == 0) first = v;
    else if (v != first)
      return fail(c, c->line[r], "%s is '%ld' but the first row's is '%ld': one file, one "
                                 "schema (gclab merge refuses to mix them)", name, v, first);
  }
  return 0;
}

/* The schema's columns and who fills them (value_rule picks the measurements). */
static const char *const numeric_cols[] = {
#define GCL_NUMERIC_NAME(name, origin) #name,
    GCL_SCHEMA(GCL_NUMERIC_NAME)
#undef GCL_NUMERIC_NAME
};
static const enum gcl_col_origin numeric_origin[] = {
#define GCL_NUMERIC_ORIGIN(name, origin) GCL_ORIGIN_##origin,
    GCL_SCHEMA(GCL_NUMERIC_ORIGIN)
#undef GCL_NUMERIC_ORIGIN
};

/* Text columns among the RECORD ones (the build environment of schema 5, lists, labels). */
static const char *const text_cols[] = {
    "status", "checksum", "config", "iter_wall_s", "pus", "compiler", "build_type",
    "build_flags", "sanitizer", "kernel", "libc", "hwloc_version", "urcu_version",
    "malloc_lib", "malloc_env", "thp", "cpu_governor", "workload_input"};

/* 1: a measurement that must be a non-negative number; 2: a number of either sign; 0: not
 * checked here. Measurements are the schema's RECORD and CHILD columns other than the
 * text ones, and any column named with a unit of time or size (_s, _us, _ns, _kb,
 * _bytes: the columns of older schemas and module figures, MODULE.FIGURE). mutator_s is
 * wall_s - gc_s, which parallel collector threads can make negative: only its form is
 * checked. */
static int value_rule(const char *name) {
  for (size_t i = 0; i < sizeof text_cols / sizeof text_cols[0]; i++)
    if (strcmp(name, text_cols[i]) == 0) return 0;
  if (strcmp(name, "mutator_s") == 0) return 2;
  for (size_t i = 0; i < sizeof numeric_cols / sizeof numeric_cols[0]; i++)
    if (strcmp(name, numeric_cols[i]) == 0) return numeric_origin[i] == GCL_ORIGIN_HARNESS ? 0 : 1;
  static const char *const units[] = {"_s", "_us", "_ns", "_kb", "_bytes"};
  size_t n = strlen(name);
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    size_t k = strlen(units[i]);
    if (n > k && strcmp(name + n - k, units[i]) == 0) return 1;
  }
  return 0;
}

int gcl_csv_check_values(const struct gcl_csv *c) {
  for (size_t col = 0; col < c->ncols; col++) {
    int rule = value_rule(c->header[col]);
    if (!rule) continue;
    for (size_t r = 0; r < c->nrows; r++) {
      double v;
      int got = gcl_csv_number(c, r, col, &v);
      if (got < 0) return -1;
      if (got && rule == 1 && (v < 0 || (v == 0 && signbit(v))))
        return fail(c, c->line[r], "column %s: '%s' is negative (expected a measurement >= 0, "
                                   "or an empty field for not measured)", c->header[col],
                    gcl_csv_get(c, r, col));
    }
  }
  return 0;
}
