/* SPDX-License-Identifier: MIT */
/* runner/report.c — writes the key=value lines of a runner's record (see report.h). */
#include "report.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "assert.h"
#include "typed-option.h"

void gcl_report_u64(struct gcl_report *r, const char *key, uint64_t v) {
  fprintf(r->out, "%s=%" PRIu64 "\n", key, v);
}

void gcl_report_i64(struct gcl_report *r, const char *key, int64_t v) {
  fprintf(r->out, "%s=%" PRId64 "\n", key, v);
}

/* A double as record text, exact and short (gcl_double_format); NaN and infinities are
 * not measurements: nothing is written. */
static void put_double(FILE *out, const char *module, const char *key, double v) {
  if (!isfinite(v)) return;
  char text[64];
  gcl_double_format(v, text, sizeof text);
  if (module) fprintf(out, "%s.", module);
  fprintf(out, "%s=%s\n", key, text);
}

/* Core keys are times and ratios derived from nanosecond clocks: 12 significant digits
 * keep every nanosecond of a run up to 1000 s without the float noise of ns * 1e-9. */
void gcl_report_f64(struct gcl_report *r, const char *key, double v) {
  if (isfinite(v)) fprintf(r->out, "%s=%.12g\n", key, v);
}

void gcl_report_str(struct gcl_report *r, const char *key, const char *v) {
  fprintf(r->out, "%s=", key);
  for (const char *c = v; *c; c++) fputc(*c == '\n' || *c == '\r' ? ' ' : *c, r->out);
  fputc('\n', r->out);
}

void gcl_report_strf(struct gcl_report *r, const char *key, const char *fmt, ...) {
  char v[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(v, sizeof v, fmt, ap);
  va_end(ap);
  gcl_report_str(r, key, v);
}

/* The declared figure NAME of r->module; asserts that there is one. */
static void check_figure(const struct gcl_report *r, const char *name) {
  const struct gcl_module *m = r->module;
  GCL_ASSERT_ALWAYS(m && "gcl_report_figure outside a module's report");
  for (unsigned i = 0; i < m->nfigs; i++)
    if (strcmp(m->figs[i].name, name) == 0) return;
  fprintf(stderr, "gclab-run: %s %s reports figure '%s' it does not declare\n", m->kind, m->name, name);
  GCL_ASSERT_ALWAYS(!"undeclared figure");
}

void gcl_report_figure(struct gcl_report *r, const char *name, double v) {
  check_figure(r, name);
  put_double(r->out, r->module->name, name, v);
}

void gcl_report_figure_u64(struct gcl_report *r, const char *name, uint64_t v) {
  check_figure(r, name);
  fprintf(r->out, "%s.%s=%" PRIu64 "\n", r->module->name, name, v);
}

void gcl_report_end(struct gcl_report *r) {
  fprintf(r->out, "end\n");
  fclose(r->out);
}
