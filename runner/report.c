/* runner/report.c — writes the key=value lines of a runner's record (see report.h). */
#include "report.h"

#include <inttypes.h>
#include <stdarg.h>

void gcl_report_u64(struct gcl_report *r, const char *key, uint64_t v) {
  fprintf(r->out, "%s=%" PRIu64 "\n", key, v);
}

void gcl_report_i64(struct gcl_report *r, const char *key, int64_t v) {
  fprintf(r->out, "%s=%" PRId64 "\n", key, v);
}

void gcl_report_f64(struct gcl_report *r, const char *key, double v) {
  fprintf(r->out, "%s=%.9g\n", key, v);
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

void gcl_report_end(struct gcl_report *r) {
  fprintf(r->out, "end\n");
  fclose(r->out);
}
