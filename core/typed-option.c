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

static int parse_integer(const struct gcl_opt_decl *d, const char *text, union gcl_opt_value *out,
                         char *why, size_t n) {
  bool size = d->type == GCL_OPT_SIZE;
  const char *what = size ? "a size in bytes (suffix k, m, g or t allowed)" : "a whole number";
  wide v, lo, hi;
  if (parse_wide(text, size, &v) != 0 || (d->min && parse_wide(d->min, false, &lo) == 0 && v < lo) ||
      (d->max && parse_wide(d->max, false, &hi) == 0 && v > hi)) {
    expect_range(d, what, why, n);
    return -1;
  }
  if (v > (wide)INT64_MAX)
    out->u = (uint64_t)v;
  else
    out->i = (int64_t)v;
  return 0;
}

static int parse_double(const struct gcl_opt_decl *d, const char *text, union gcl_opt_value *out,
                        char *why, size_t n) {
  double v, lo, hi;
  if (parse_decimal(text, &v) != 0 || (d->min && parse_decimal(d->min, &lo) == 0 && v < lo) ||
      (d->max && parse_decimal(d->max, &hi) == 0 && v > hi)) {
    expect_range(d, "a decimal number", why, n);
    return -1;
  }
  out->d = v;
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

void gcl_opt_format(const struct gcl_opt_decl *d, const union gcl_opt_value *v, char *out,
                    size_t len) {
  switch (d->type) {
  case GCL_OPT_INT:
  case GCL_OPT_SIZE: {
    /* A value above INT64_MAX was stored through u: only a range that allows it. */
    wide hi;
    bool unsigned_range = d->max && parse_wide(d->max, false, &hi) == 0 && hi > (wide)INT64_MAX;
    if (unsigned_range && v->i < 0)
      snprintf(out, len, "%llu", (unsigned long long)v->u);
    else
      snprintf(out, len, "%lld", (long long)v->i);
    return;
  }
  case GCL_OPT_DOUBLE:
    for (int prec = 1; prec <= 17; prec++) {
      snprintf(out, len, "%.*g", prec, v->d);
      if (strtod(out, NULL) == v->d) return;
    }
    return;
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
  for (unsigned i = 0; i < m->nopts; i++) {
    char why[256];
    if (gcl_opt_parse(&m->opts[i], m->opts[i].def, &out[i], why, sizeof why) != 0) {
      fprintf(stderr, "gclab: %s %s: default '%s' of option %s breaks its rule: %s\n", m->kind,
              m->name, m->opts[i].def, m->opts[i].name, why);
      abort();
    }
  }
}
