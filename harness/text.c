/* SPDX-License-Identifier: MIT */
/* harness/text.c — growable text buffers, RFC 4180 field quoting and exact number
 * formatting for the gclab front end. Out of memory is fatal (a front end that cannot
 * allocate a few kilobytes cannot do anything useful). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

void *gcl_must_realloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) {
    fprintf(stderr, "gclab: out of memory (%zu bytes)\n", n);
    exit(1);
  }
  return q;
}

char *gcl_must_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(gcl_must_realloc(NULL, n), s, n);
}

/* Make room for n more bytes plus the NUL. */
static void reserve(struct gcl_buf *b, size_t n) {
  if (b->len + n + 1 <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + n + 1) cap *= 2;
  b->p = gcl_must_realloc(b->p, cap);
  b->cap = cap;
}

void gcl_buf_putn(struct gcl_buf *b, const char *s, size_t n) {
  reserve(b, n);
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}

void gcl_buf_puts(struct gcl_buf *b, const char *s) { gcl_buf_putn(b, s, strlen(s)); }

void gcl_buf_printf(struct gcl_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  reserve(b, (size_t)n);
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

const char *gcl_buf_str(const struct gcl_buf *b) { return b->p ? b->p : ""; }

void gcl_buf_free(struct gcl_buf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

void gcl_buf_csv_field(struct gcl_buf *b, const char *s) {
  if (!s) return;
  if (!strpbrk(s, ",\"\r\n")) {
    gcl_buf_puts(b, s);
    return;
  }
  gcl_buf_putn(b, "\"", 1);
  for (const char *c = s; *c; c++) {
    if (*c == '"') gcl_buf_putn(b, "\"", 1);
    gcl_buf_putn(b, c, 1);
  }
  gcl_buf_putn(b, "\"", 1);
}

void gcl_num_format(char *out, size_t len, double v) {
  /* Whole numbers in plain digits ("100000", not "1e+05"); others: increase the
   * precision until the text reads back exactly (17 always does). */
  if (v == floor(v) && fabs(v) <= 9007199254740992.0) {
    snprintf(out, len, "%.0f", v);
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(out, len, "%.*g", prec, v);
    if (strtod(out, NULL) == v) return;
  }
}

bool gcl_num_parse(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !isfinite(v)) return false;
  /* strtod accepts leading blanks and hex; a researcher's typo should not pass. */
  if (*s == ' ' || *s == '\t' || strpbrk(s, "xX")) return false;
  *out = v;
  return true;
}
