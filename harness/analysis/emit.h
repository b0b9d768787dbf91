/* SPDX-License-Identifier: MIT */
/* harness/analysis/emit.h — output helpers shared by summary, compare and table: a small
 * table renderer (aligned text, GitHub Markdown, LaTeX booktabs), escaping of data strings
 * for each format and for JSON, and number formatting.
 *
 * A table's cells are stored as the caller gives them: gcl_tab_put inserts text verbatim
 * (the caller's own markup), gcl_tab_put_str escapes a data string for the table's format.
 * Row 0 is the header. Numbers are printed with a fixed count of decimals chosen from the
 * magnitude of a reference value (4 significant digits), never in exponent notation, so
 * the numbers in one cell line up. */
#ifndef GCL_EMIT_H
#define GCL_EMIT_H

#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>

enum gcl_fmt { GCL_FMT_TEXT, GCL_FMT_MARKDOWN, GCL_FMT_JSON, GCL_FMT_LATEX };

struct gcl_tab {
  enum gcl_fmt fmt; /* how cells are escaped and the table is drawn (not JSON) */
  size_t ncols;     /* cells per row */
  char align[32];   /* per column: 'l' left or 'r' right */
  char **cells;     /* ncell owned strings, row-major */
  size_t ncell;     /* cells added so far */
  size_t cap;       /* cells allocated */
  const char *foot; /* optional line after the table (LaTeX: a full-width last row), verbatim */
};

/* ALIGN is one 'l' or 'r' per column (at most 31 columns). */
void gcl_tab_init(struct gcl_tab *t, enum gcl_fmt fmt, const char *align);
void gcl_tab_put(struct gcl_tab *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gcl_tab_put_str(struct gcl_tab *t, const char *raw);
/* Draw the table; in text format, columns whose cells below the header are all empty are
 * still drawn (callers decide which columns exist). */
void gcl_tab_print(const struct gcl_tab *t, FILE *out);
void gcl_tab_free(struct gcl_tab *t);

/* A malloc'd copy of RAW escaped for FMT: text shows each control byte as \xNN (so a
 * newline or an escape sequence in a name can neither split a line nor drive the
 * terminal), the other formats replace control characters by spaces;
 * Markdown also backslash-escapes \ | * ` and writes < as &lt; where it could open a
 * tag; LaTeX escapes # $ % & _ { } ~ ^ \ < >. JSON is handled by gcl_json_str. Never
 * NULL (aborts on OOM). */
char *gcl_escape(enum gcl_fmt fmt, const char *raw);

/* Format a message and print it to OUT as one line, escaped like gcl_escape's text: the
 * one way every message that may quote user input (a name, a path, a field) is printed.
 * The newline is added here. */
void gcl_msg_line(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gcl_vmsg_line(FILE *out, const char *fmt, va_list ap);

/* Write RAW as a JSON string literal, quotes included. */
void gcl_json_str(FILE *out, const char *raw);

/* Decimals that give REF four significant digits (0..9); at most 1 when INTEGRAL (the
 * sample's values are whole numbers). */
int gcl_decimals(double ref, int integral);

/* Format X with DECIMALS into BUF (at least 48 bytes); returns BUF. */
char *gcl_fmt_num(char *buf, double x, int decimals);

/* Parse a --format value: text, markdown, json. Returns 0, or -1 after one line. */
int gcl_parse_format(const char *who, const char *s, enum gcl_fmt *out);
/* The same, latex accepted too (commands whose every format draws the one table). */
int gcl_parse_format_any(const char *who, const char *s, enum gcl_fmt *out);

#endif
