/* SPDX-License-Identifier: MIT */
/* runner/report.h — the record a runner hands to the gclab front end.
 *
 * A record is a sequence of `key=value` lines ended by `end`; keys are CSV column names
 * (harness/schema.h lists the core ones); a module's figures are written MODULE.FIGURE
 * through gcl_report_figure (runner/README.md). A value that was not measured is simply not written:
 * the front end leaves that CSV field empty. Never report 0 for "unknown". */
#ifndef GCL_REPORT_H
#define GCL_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "module.h"

struct gcl_report {
  FILE *out;                      /* where the key=value lines go */
  const struct gcl_module *module; /* whose figures gcl_report_figure writes (NULL: none) */
};

void gcl_report_u64(struct gcl_report *r, const char *key, uint64_t v);
void gcl_report_i64(struct gcl_report *r, const char *key, int64_t v);
void gcl_report_f64(struct gcl_report *r, const char *key, double v);
void gcl_report_str(struct gcl_report *r, const char *key, const char *v); /* no newlines */
/* gcl_report_str of a formatted value (at most 511 bytes). */
void gcl_report_strf(struct gcl_report *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Figure NAME of r->module, written as MODULE.NAME=v. NAME must be declared by the module
 * (a figure it did not declare is a bug: assertion). Cold path. */
void gcl_report_figure(struct gcl_report *r, const char *name, double v);
void gcl_report_figure_u64(struct gcl_report *r, const char *name, uint64_t v);

/* End the record and close its stream. */
void gcl_report_end(struct gcl_report *r);

#endif
