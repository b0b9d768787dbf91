/* SPDX-License-Identifier: MIT */
/* harness/analysis/emit.c — tables, escaping and number formatting (see emit.h). */
#define _GNU_SOURCE /* vasprintf */
#include "emit.h"

#include <math.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n);
  if (!q) {
    fputs("gclab: out of memory\n", stderr);
    abort();
  }
  return q;
}

void gcl_tab_init(struct gcl_tab *t, enum gcl_fmt fmt, const char *align) {
  memset(t, 0, sizeof *t);
  t->fmt = fmt;
  t->ncols = strlen(align);
  if (t->ncols >= sizeof t->align) t->ncols = sizeof t->align - 1;
  memcpy(t->align, align, t->ncols);
}

static void push(struct gcl_tab *t, char *s) {
  if (t->ncell == t->cap) {
    t->cap = t->cap ? t->cap * 2 : 64;
    t->cells = xrealloc(t->cells, t->cap * sizeof *t->cells);
  }
  t->cells[t->ncell++] = s;
}

void gcl_tab_put(struct gcl_tab *t, const char *fmt, ...) {
  va_list ap;
  char *s;
  va_start(ap, fmt);
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0) {
    fputs("gclab: out of memory\n", stderr);
    abort();
  }
  push(t, s);
}

void gcl_tab_put_str(struct gcl_tab *t, const char *raw) {
  push(t, gcl_escape(t->fmt, raw));
}

/* Display width of a UTF-8 string: code points, not bytes. */
static size_t width(const char *s) {
  size_t w = 0;
  for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
  return w;
}

static void pad(FILE *out, size_t n) {
  while (n--) fputc(' ', out);
}

void gcl_tab_print(const struct gcl_tab *t, FILE *out) {
  size_t nc = t->ncols, nr = (t->ncell + nc - 1) / nc;
  size_t w[32] = {0};
  for (size_t i = 0; i < t->ncell; i++) {
    size_t cw = width(t->cells[i]);
    if (cw > w[i % nc]) w[i % nc] = cw;
  }
  if (t->fmt == GCL_FMT_LATEX) {
    fprintf(out, "\\begin{tabular}{%.*s}\n\\toprule\n", (int)nc, t->align);
    for (size_t r = 0; r < nr; r++) {
      for (size_t c = 0; c < nc; c++) {
        size_t i = r * nc + c;
        fprintf(out, "%s%s", c ? " & " : "", i < t->ncell ? t->cells[i] : "");
      }
      fputs(" \\\\\n", out);
      if (r == 0) fputs("\\midrule\n", out);
    }
    fputs("\\bottomrule\n", out);
    if (t->foot) fprintf(out, "\\multicolumn{%zu}{l}{%s} \\\\\n", nc, t->foot);
    fputs("\\end{tabular}\n", out);
    return;
  }
  int md = t->fmt == GCL_FMT_MARKDOWN;
  if (md)
    for (size_t c = 0; c < nc; c++)
      if (w[c] < 3) w[c] = 3; /* room for the "--:" separator */
  for (size_t r = 0; r < nr; r++) {
    /* In text a row stops at its last non-empty cell, which is not padded: no line
     * carries trailing blanks. */
    size_t end = nc;
    if (!md)
      while (end > 0 && (r * nc + end - 1 >= t->ncell || !t->cells[r * nc + end - 1][0])) end--;
    for (size_t c = 0; c < end; c++) {
      size_t i = r * nc + c;
      const char *s = i < t->ncell ? t->cells[i] : "";
      size_t gap = w[c] - width(s);
      if (md) fputs(c ? " | " : "| ", out);
      else if (c) fputs("  ", out);
      if (t->align[c] == 'r') pad(out, gap);
      fputs(s, out);
      if (t->align[c] != 'r' && (md || c + 1 < end)) pad(out, gap);
    }
    fputs(md ? " |\n" : "\n", out);
    if (md && r == 0) {
      for (size_t c = 0; c < nc; c++) {
        fputs(c ? " | " : "| ", out);
        for (size_t k = 0; k + 1 < w[c]; k++) fputc('-', out);
        fputc(t->align[c] == 'r' ? ':' : '-', out);
      }
      fputs(" |\n", out);
    }
  }
  if (t->foot) fprintf(out, "%s%s\n", md ? "\n" : "", t->foot);
}

void gcl_tab_free(struct gcl_tab *t) {
  for (size_t i = 0; i < t->ncell; i++) free(t->cells[i]);
  free(t->cells);
  t->cells = NULL;
  t->ncell = t->cap = 0;
}

char *gcl_escape(enum gcl_fmt fmt, const char *raw) {
  size_t n = strlen(raw);
  char *out = xrealloc(NULL, n * 20 + 1); /* the longest escape is 19 bytes */
  char *w = out;
  for (const char *p = raw; *p; p++) {
    unsigned char ch = (unsigned char)*p;
    if (ch < 0x20 || ch == 0x7f) { /* text shows the byte; markup formats a space */
      if (fmt == GCL_FMT_TEXT) w += sprintf(w, "\\x%02X", ch);
      else *w++ = ' ';
      continue;
    }
    const char *rep = NULL;
    if (fmt == GCL_FMT_MARKDOWN) {
      switch (ch) {
      case '\\': rep = "\\\\"; break;
      case '|': rep = "\\|"; break;
      case '*': rep = "\\*"; break;
      case '`': rep = "\\`"; break;
      case '<': /* only where it could open an HTML tag */
        if ((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z') || p[1] == '/' ||
            p[1] == '!' || p[1] == '?')
          rep = "&lt;";
        break;
      }
    } else if (fmt == GCL_FMT_LATEX) {
      switch (ch) {
      case '#': rep = "\\#"; break;
      case '$': rep = "\\$"; break;
      case '%': rep = "\\%"; break;
      case '&': rep = "\\&"; break;
      case '_': rep = "\\_"; break;
      case '{': rep = "\\{"; break;
      case '}': rep = "\\}"; break;
      case '~': rep = "\\textasciitilde{}"; break;
      case '^': rep = "\\textasciicircum{}"; break;
      case '\\': rep = "\\textbackslash{}"; break;
      case '<': rep = "\\textless{}"; break;
      case '>': rep = "\\textgreater{}"; break;
      }
    }
    if (rep) {
      size_t k = strlen(rep);
      memcpy(w, rep, k);
      w += k;
    } else {
      *w++ = (char)ch;
    }
  }
  *w = '\0';
  return out;
}

void gcl_vmsg_line(FILE *out, const char *fmt, va_list ap) {
  char *s;
  if (vasprintf(&s, fmt, ap) < 0) {
    fputs("gclab: out of memory\n", stderr);
    abort();
  }
  char *e = gcl_escape(GCL_FMT_TEXT, s);
  fprintf(out, "%s\n", e);
  free(e);
  free(s);
}

void gcl_msg_line(FILE *out, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  gcl_vmsg_line(out, fmt, ap);
  va_end(ap);
}

void gcl_json_str(FILE *out, const char *raw) {
  fputc('"', out);
  for (const char *p = raw; *p; p++) {
    unsigned char ch = (unsigned char)*p;
    if (ch == '"' || ch == '\\') fprintf(out, "\\%c", ch);
    else if (ch == '\n') fputs("\\n", out);
    else if (ch == '\r') fputs("\\r", out);
    else if (ch == '\t') fputs("\\t", out);
    else if (ch < 0x20) fprintf(out, "\\u%04x", ch);
    else fputc(ch, out);
  }
  fputc('"', out);
}

int gcl_decimals(double ref, int integral) {
  int d = 0;
  if (ref != 0 && isfinite(ref)) d = 3 - (int)floor(log10(fabs(ref)));
  if (d < 0) d = 0;
  if (d > 9) d = 9;
  if (integral && d > 1) d = 1;
  return d;
}

char *gcl_fmt_num(char *buf, double x, int decimals) {
  snprintf(buf, 48, "%.*f", decimals, x);
  return buf;
}

int gcl_parse_format(const char *who, const char *s, enum gcl_fmt *out) {
  if (strcmp(s, "text") == 0) *out = GCL_FMT_TEXT;
  else if (strcmp(s, "markdown") == 0) *out = GCL_FMT_MARKDOWN;
  else if (strcmp(s, "json") == 0) *out = GCL_FMT_JSON;
  else {
    fprintf(stderr, "%s: bad --format '%s': expected text, markdown or json\n", who, s);
    return -1;
  }
  return 0;
}

int gcl_parse_format_any(const char *who, const char *s, enum gcl_fmt *out) {
  if (strcmp(s, "latex") == 0) {
    *out = GCL_FMT_LATEX;
    return 0;
  }
  if (strcmp(s, "text") != 0 && strcmp(s, "markdown") != 0 && strcmp(s, "json") != 0) {
    fprintf(stderr, "%s: bad --format '%s': expected text, markdown, json or latex\n", who, s);
    return -1;
  }
  return gcl_parse_format(who, s, out);
}
