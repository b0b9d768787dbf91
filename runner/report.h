/* runner/report.h — the record a runner hands to the gclab front end.
 *
 * A record is a sequence of `key=value` lines ended by `end`; keys are CSV column names
 * (harness/schema.h lists them all). A value that was not measured is simply not written:
 * the front end leaves that CSV field empty. Never report 0 for "unknown". */
#ifndef GCL_REPORT_H
#define GCL_REPORT_H

#include <stdint.h>
#include <stdio.h>

struct gcl_report {
  FILE *out; /* where the key=value lines go */
};

void gcl_report_u64(struct gcl_report *r, const char *key, uint64_t v);
void gcl_report_i64(struct gcl_report *r, const char *key, int64_t v);
void gcl_report_f64(struct gcl_report *r, const char *key, double v);
void gcl_report_str(struct gcl_report *r, const char *key, const char *v); /* no newlines */
/* gcl_report_str of a formatted value (at most 511 bytes). */
void gcl_report_strf(struct gcl_report *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* End the record and close its stream. */
void gcl_report_end(struct gcl_report *r);

#endif
