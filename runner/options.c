/* runner/options.c — parser, help and echo generated from the X-macro table. */
#include "options.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gcl_options gcl_opts = {
#define GCL_OPTION_INIT(name, kind, def, min, max, help) .name = (def), .name##_str = NULL,
    GCL_ALL_OPTIONS(GCL_OPTION_INIT)
#undef GCL_OPTION_INIT
};

struct option_row {
  const char *name;           /* C name: dashes on the command line */
  enum gcl_option_kind kind;  /* how to parse */
  double def, min, max;       /* default and inclusive range */
  const char *help;           /* one line */
  double *num;                /* where a number goes */
  const char **str;           /* where a string goes */
};

static const struct option_row rows[] = {
#define GCL_OPTION_ROW(name, kind, def, min, max, help) \
  {#name, GCL_OPT_##kind, (def), (min), (max), (help), &gcl_opts.name, &gcl_opts.name##_str},
    GCL_ALL_OPTIONS(GCL_OPTION_ROW)
#undef GCL_OPTION_ROW
};

static void cli_name(const char *c_name, char *out, size_t len) {
  snprintf(out, len, "%s", c_name);
  for (char *p = out; *p; p++)
    if (*p == '_') *p = '-';
}

int gcl_options_parse_one(int argc, char **argv, int *i) {
  const char *arg = argv[*i];
  if (strncmp(arg, "--", 2) != 0) return 0;
  for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
    char name[64];
    cli_name(rows[r].name, name, sizeof name);
    size_t n = strlen(name);
    const char *value;
    if (strncmp(arg + 2, name, n) == 0 && arg[2 + n] == '=') {
      value = arg + 3 + n;
    } else if (strcmp(arg + 2, name) == 0) {
      if (*i + 1 >= argc) {
        fprintf(stderr, "gclab-run: --%s needs a value\n", name);
        return -1;
      }
      value = argv[++*i];
    } else {
      continue;
    }
    if (rows[r].kind == GCL_OPT_STR) {
      *rows[r].str = value;
      return 1;
    }
    char *end;
    errno = 0;
    double v = strtod(value, &end);
    bool whole = rows[r].kind != GCL_OPT_INT || v == floor(v);
    if (errno || end == value || *end || !isfinite(v) || !whole || v < rows[r].min ||
        v > rows[r].max) {
      fprintf(stderr, "gclab-run: bad value '%s' for --%s: expected %s in [%g, %g]\n", value,
              name, rows[r].kind == GCL_OPT_INT ? "a whole number" : "a number", rows[r].min,
              rows[r].max);
      return -1;
    }
    *rows[r].num = v;
    return 1;
  }
  return 0;
}

void gcl_options_print_help(FILE *out) {
  for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
    char name[64];
    cli_name(rows[r].name, name, sizeof name);
    if (rows[r].kind == GCL_OPT_STR)
      fprintf(out, "  --%-14s %s\n", name, rows[r].help);
    else
      fprintf(out, "  --%-14s %s (default %g, range %g..%g)\n", name, rows[r].help, rows[r].def,
              rows[r].min, rows[r].max);
  }
}

void gcl_options_echo(char *buf, size_t len) {
  size_t used = 0;
  buf[0] = 0;
  for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
    if (rows[r].kind == GCL_OPT_STR || strcmp(rows[r].name, "record_fd") == 0) continue;
    int k = snprintf(buf + used, len - used, "%s%s=%.17g", used ? ";" : "", rows[r].name,
                     *rows[r].num);
    if (k < 0 || (size_t)k >= len - used) break;
    used += (size_t)k;
  }
}
