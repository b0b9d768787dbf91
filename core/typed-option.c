/* SPDX-License-Identifier: MIT */
/* core/typed-option.c — the value rule of every option type (see typed-option.h).
 *
 * Integers (INT, SIZE) are parsed into a 128-bit intermediate so that the whole range
 * [-2^63, 2^64-1] is exact, then checked against the declared range (decimal text, parsed
 * the same way), then stored in the 64-bit union member. Doubles accept only plain
 * decimal notation (digits, one '.', an optional exponent): no hex floats, nan or inf. */
#include "typed-option.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef __int128 wide;

static const char *const type_names[] = {"int", "size", "double", "enum", "bool", "string"};

const char *gcl_opt_type_name(enum gcl_opt_type t) {
  return (unsigned)t < sizeof type_names / sizeof type_names[0] ? type_names[t] : "?";
}

int gcl_opt_type_parse(const char *name, enum gcl_opt_type *out) {
  for (unsigned t = 0; t < sizeof type_names / sizeof type_names[0]; t++)
    if (strcmp(name, type_names[t]) == 0) {
      *out = (enum gcl_opt_type)t;
      return 0;
    }
  return -1;
}

bool gcl_opt_name_ok(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > 63) return false;
  for (const char *c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) return false;
  return true;
}

/* Decimal digits with an optional leading '-' into *out; a size suffix (k, m, g, t) only
 * when SIZE. 0, or -1 when malformed or beyond [-2^63, 2^64-1]. */
static int parse_wide(const char *s, bool size, wide *out) {
  bool neg = *s == '-';
  if (neg && size) return -1; /* sizes are never negative */
  if (neg) s++;
  if (*s < '0' || *s > '9') return -1;
  wide v = 0;
  const wide limit = (wide)UINT64_MAX;
  for (; *s >= '0' && *s <= '9'; s++) {
    v = v * 10 + (*s - '0');
    if (v > limit) return -1;
  }
  if (size && *s) {
    static const char suffixes[] = "kmgt";
    const char *k = strchr(suffixes, *s | 0x20);
    if (!k || s[1]) return -1;
    for (long i = 0; i <= k - suffixes; i++) {
      v *= 1024;
      if (v > limit) return -1;
    }
    s++;
  }
  if (*s) return -1;
  if (neg) {
    v = -v;
    if (v < (wide)INT64_MIN) return -1;
  }
  *out = v;
  return 0;
}

/* A finite number in plain decimal notation. */
static int parse_decimal(const char *s, double *out) {
  const char *c = s;
  if (*c == '-' || *c == '+') c++;
  bool digits = false;
  while (*c >= '0' && *c <= '9') c++, digits = true;
  if (*c == '.') {
    c++;
    while (*c >= '0' && *c <= '9') c++, digits = true;
  }
  if (!digits) return -1;
  if (*c == 'e' || *c == 'E') {
    c++;
    if (*c == '-' || *c == '+') c++;
    if (*c < '0' || *c > '9') return -1;
    while (*c >= '0' && *c <= '9') c++;
  }
  if (*c) return -1;
  errno = 0;
  double v = strtod(s, NULL);
  if (errno == ERANGE || !isfinite(v)) return -1;
  *out = v;
  return 0;
}

static void expect_range(const struct gcl_opt_decl *d, const char *what, char *why, size_t n) {
  if (d->min && d->max)
    snprintf(why, n, "expected %s in [%s, %s]", what, d->min, d->max);
  else if (d->min)
    snprintf(why, n, "expected %s >= %s", what, d->min);
  else if (d->max)
    snprintf(why, n, "expected %s <= %s", what, d->max);
  else
    snprintf(why, n, "expected %s", what);
}

/* The inclusive range of an INT or SIZE option: the declared bounds (parsed under the
 * option's own rule, so a size bound may carry a suffix), else the type's own: INT
 * [-2^63, 2^63-1], SIZE [0, 2^64-1]. -1 when a declared bound does not parse. */
static int integer_range(const struct gcl_opt_decl *d, wide *lo, wide *hi) {
  bool size = d->type == GCL_OPT_SIZE;
  *lo = size ? 0 : (wide)INT64_MIN;
  *hi = size ? (wide)UINT64_MAX : (wide)INT64_MAX;
  if (d->min && parse_wide(d->min, size, lo) != 0) return -1;
  if (d->max && parse_wide(d->max, size, hi) != 0) return -1;
  return 0;
}

/* Whether values of D are read through .u: every SIZE, and an INT whose range goes past
 * INT64_MAX (gcl_opt_decl_check then requires it to start at 0 or above). */
static bool reads_unsigned(const struct gcl_opt_decl *d) {
  wide lo, hi;
  return d->type == GCL_OPT_SIZE || (integer_range(d, &lo, &hi) == 0 && hi > (wide)INT64_MAX);
}

static int parse_integer(const struct gcl_opt_decl *d, const char *text, union gcl_opt_value *out,
                         char *why, size_t n) {
  bool size = d->type == GCL_OPT_SIZE;
  const char *what = size ? "a size in bytes (suffix k, m, g or t allowed)" : "a whole number";
  wide v, lo, hi;
  if (integer_range(d, &lo, &hi) != 0 || parse_wide(text, size, &v) != 0 || v < lo || v > hi) {
    expect_range(d, what, why, n);
    return -1;
  }
  if (reads_unsigned(d))
    out->u = (uint64_t)v;
  else
    out->i = (int64_t)v;
  return 0;
}

static int parse_double(const struct gcl_opt_decl *d, const char *text, union gcl_opt_value *out,
                        char *why, size_t n) {
  double v, lo = -HUGE_VAL, hi = HUGE_VAL;
  if ((d->min && parse_decimal(d->min, &lo) != 0) || (d->max && parse_decimal(d->max, &hi) != 0) ||
      parse_decimal(text, &v) != 0 || v < lo || v > hi) {
    expect_range(d, "a decimal number (within a double's range)", why, n);
    return -1;
  }
  out->d = v + 0.0; /* -0 reads as 0: one value, one cell */
  return 0;
}

static int parse_enum(const struct gcl_opt_decl *d, const char *text, union gcl_opt_value *out,
                      char *why, size_t n) {
  const char *c = d->choices ? d->choices : "";
  size_t len = strlen(text);
  for (unsigned k = 0; *c; k++) {
    size_t w = strcspn(c, "|");
    if (w == len && len && strncmp(c, text, len) == 0) {
      out->e = k;
      return 0;
    }
    c += w + (c[w] == '|');
  }
  snprintf(why, n, "expected one of %s", d->choices ? d->choices : "(no choices)");
  return -1;
}

static int parse_bool(const char *text, union gcl_opt_value *out, char *why, size_t n) {
  static const char *const yes[] = {"true", "on", "yes", "1"}, *const no[] = {"false", "off", "no", "0"};
  for (unsigned k = 0; k < 4; k++) {
    if (strcmp(text, yes[k]) == 0) return out->b = true, 0;
    if (strcmp(text, no[k]) == 0) return out->b = false, 0;
  }
  snprintf(why, n, "expected true or false (also on/off, yes/no, 1/0)");
  return -1;
}

int gcl_opt_parse(const struct gcl_opt_decl *d, const char *text, union gcl_opt_value *out,
                  char *why, size_t why_len) {
  switch (d->type) {
  case GCL_OPT_INT:
  case GCL_OPT_SIZE: return parse_integer(d, text, out, why, why_len);
  case GCL_OPT_DOUBLE: return parse_double(d, text, out, why, why_len);
  case GCL_OPT_ENUM: return parse_enum(d, text, out, why, why_len);
  case GCL_OPT_BOOL: return parse_bool(text, out, why, why_len);
  case GCL_OPT_STRING:
    for (const unsigned char *c = (const unsigned char *)text; *c; c++)
      if (*c < 0x20 || *c == 0x7f || *c == ',' || *c == ';') {
        snprintf(why, why_len, "expected printable text without control bytes, ',' or ';'");
        return -1;
      }
    out->s = text;
    return 0;
  }
  snprintf(why, why_len, "expected a value of a known type");
  return -1;
}

void gcl_double_format(double v, char *out, size_t len) {
  if (v == floor(v) && fabs(v) < 9007199254740992.0) { /* whole: plain digits */
    snprintf(out, len, "%.0f", v + 0.0);
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(out, len, "%.*g", prec, v);
    if (strtod(out, NULL) == v) return;
  }
}

void gcl_opt_format(const struct gcl_opt_decl *d, const union gcl_opt_value *v, char *out,
                    size_t len) {
  switch (d->type) {
  case GCL_OPT_INT:
  case GCL_OPT_SIZE:
    if (reads_unsigned(d))
      snprintf(out, len, "%llu", (unsigned long long)v->u);
    else
      snprintf(out, len, "%lld", (long long)v->i);
    return;
  case GCL_OPT_DOUBLE: gcl_double_format(v->d, out, len); return;
  case GCL_OPT_ENUM: {
    const char *c = d->choices ? d->choices : "";
    for (unsigned k = 0; *c; k++) {
      size_t w = strcspn(c, "|");
      if (k == v->e) {
        snprintf(out, len, "%.*s", (int)w, c);
        return;
      }
      c += w + (c[w] == '|');
    }
    snprintf(out, len, "?");
    return;
  }
  case GCL_OPT_BOOL: snprintf(out, len, "%s", v->b ? "true" : "false"); return;
  case GCL_OPT_STRING: snprintf(out, len, "%s", v->s ? v->s : ""); return;
  }
  snprintf(out, len, "?");
}

void gcl_module_defaults(const struct gcl_module *m, union gcl_opt_value *out) {
  if (m->nopts > GCL_MODULE_MAX_OPTS) {
    fprintf(stderr, "gclab: %s %s declares %u options, more than %d\n", m->kind, m->name, m->nopts,
            GCL_MODULE_MAX_OPTS);
    abort();
  }
  for (unsigned i = 0; i < m->nopts; i++) {
    char why[256];
    if (gcl_opt_parse(&m->opts[i], m->opts[i].def, &out[i], why, sizeof why) != 0) {
      fprintf(stderr, "gclab: %s %s: default '%s' of option %s breaks its rule: %s\n", m->kind,
              m->name, m->opts[i].def, m->opts[i].name, why);
      abort();
    }
  }
}

/* A describe field (runner/README.md): no space, not empty. */
static bool field_ok(const char *s) { return s && *s && !strchr(s, ' '); }

int gcl_opt_decl_check(const struct gcl_opt_decl *d, char *why, size_t n) {
  union gcl_opt_value v;
  char sub[256];
  if (!d->name || !gcl_opt_name_ok(d->name)) return snprintf(why, n, "bad option name '%s'", d->name ? d->name : "(null)"), -1;
  if ((unsigned)d->type > GCL_OPT_STRING) return snprintf(why, n, "option %s: unknown type", d->name), -1;
  if (!d->help || !*d->help) return snprintf(why, n, "option %s: no help text", d->name), -1;
  if (!d->def || (*d->def && strchr(d->def, ' ')))
    return snprintf(why, n, "option %s: the default must be given and hold no space", d->name), -1;
  if (d->type == GCL_OPT_INT || d->type == GCL_OPT_SIZE) {
    wide lo, hi;
    if (integer_range(d, &lo, &hi) != 0 || lo > hi)
      return snprintf(why, n, "option %s: bounds do not parse as its type or min > max", d->name), -1;
    if (d->type == GCL_OPT_INT && hi > (wide)INT64_MAX && lo < 0)
      return snprintf(why, n, "option %s: a range past 2^63-1 must not include negatives", d->name), -1;
  } else if (d->type == GCL_OPT_DOUBLE) {
    double lo = -HUGE_VAL, hi = HUGE_VAL;
    if ((d->min && parse_decimal(d->min, &lo) != 0) || (d->max && parse_decimal(d->max, &hi) != 0) || lo > hi)
      return snprintf(why, n, "option %s: bounds do not parse as decimals or min > max", d->name), -1;
  } else if (d->min || d->max) {
    return snprintf(why, n, "option %s: bounds on a %s option", d->name, gcl_opt_type_name(d->type)), -1;
  }
  if (d->type == GCL_OPT_ENUM) {
    const char *c = d->choices;
    if (!field_ok(c) || *c == '|' || c[strlen(c) - 1] == '|' || strstr(c, "||"))
      return snprintf(why, n, "option %s: choices must be non-empty words a|b|c", d->name), -1;
  } else if (d->choices) {
    return snprintf(why, n, "option %s: choices on a %s option", d->name, gcl_opt_type_name(d->type)), -1;
  }
  if (gcl_opt_parse(d, d->def, &v, sub, sizeof sub) != 0)
    return snprintf(why, n, "option %s: default '%s' breaks its rule: %s", d->name, d->def, sub), -1;
  return 0;
}

int gcl_module_check(const struct gcl_module *m, char *why, size_t n) {
  char sub[320];
  if (m->nopts > GCL_MODULE_MAX_OPTS)
    return snprintf(why, n, "%s %s: %u options, more than %d", m->kind, m->name, m->nopts, GCL_MODULE_MAX_OPTS), -1;
  for (unsigned i = 0; i < m->nopts; i++) {
    if (gcl_opt_decl_check(&m->opts[i], sub, sizeof sub) != 0)
      return snprintf(why, n, "%s %s: %s", m->kind, m->name, sub), -1;
    for (unsigned k = 0; k < i; k++)
      if (strcmp(m->opts[k].name, m->opts[i].name) == 0)
        return snprintf(why, n, "%s %s: option %s declared twice", m->kind, m->name, m->opts[i].name), -1;
  }
  for (unsigned i = 0; i < m->nfigs; i++) {
    const struct gcl_fig_decl *f = &m->figs[i];
    if (!f->name || !gcl_opt_name_ok(f->name) || !field_ok(f->unit) || !f->help || !*f->help)
      return snprintf(why, n, "%s %s: figure %u needs a [a-z0-9_] name, a one-word unit and help", m->kind,
                      m->name, i), -1;
    for (unsigned k = 0; k < i; k++)
      if (strcmp(m->figs[k].name, f->name) == 0)
        return snprintf(why, n, "%s %s: figure %s declared twice", m->kind, m->name, f->name), -1;
  }
  return 0;
}
