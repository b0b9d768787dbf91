/* SPDX-License-Identifier: MIT */
/* harness/analysis/cells.h — a results CSV grouped into cells, with the samples of the
 * requested metrics.
 *
 * A cell is the set of rows sharing (collector, allocator, workload, params, threads,
 * scale, placement, iterations, options, gil); its rows are the repetitions. Schema-1 files have
 * no placement or iterations columns: their rows read as placement none, iterations 1, which
 * is what schema 1 ran, so files of both versions compare; files before schema 5 have no
 * options column (their rows read as options "": none chosen, which is what they ran),
 * files before schema 6 no gil column (their rows read as gil false: no GIL mode existed).
 * Module columns (MODULE.FIGURE, schema 5) are metrics like any other. Only rows with status "ok" and a non-empty value
 * enter a metric's sample: an empty field means "not measured" and is never read as 0.
 * Rows with status "invalid:reason" (a pair that cannot run that cell, so nothing ran) are
 * counted apart from failed rows (wrong:*, timeout, crash, error).
 * Loading validates the file: the header, the required columns (the cell key, status,
 * schema_version and every requested metric), a schema_version in
 * GCL_SCHEMA_OLDEST_READ..GCL_SCHEMA_VERSION on every row (one version per file), every
 * metric field of every row (empty or a decimal number), and every measurement column
 * (gcl_csv_check_values: no negative, NaN or infinite measurement, the rule merge
 * applies). Cells are sorted by workload, params, scale, collector, allocator, options,
 * threads (threads and scale numerically). */
#ifndef GCL_CELLS_H
#define GCL_CELLS_H

#include <stddef.h>

#include "csv-read.h"
#include "schema.h" /* GCL_SCHEMA_VERSION: the CSV schema version this code reads */

#define GCL_MAX_METRICS 16   /* metrics per command */
#define GCL_NOISY_CV 0.05    /* a cell with a larger CV is "too noisy to compare" */
#define GCL_MIN_N 3          /* a cell with fewer measured repetitions gets a warning */

enum gcl_key {
  GCL_KEY_COLLECTOR,
  GCL_KEY_ALLOCATOR,
  GCL_KEY_WORKLOAD,
  GCL_KEY_PARAMS,
  GCL_KEY_THREADS,
  GCL_KEY_SCALE,
  GCL_KEY_PLACEMENT,  /* schema 2; "none" in schema-1 files */
  GCL_KEY_ITERATIONS, /* schema 2; "1" in schema-1 files */
  GCL_KEY_OPTIONS,    /* schema 5: the chosen module options; "" in older files */
  GCL_KEY_HEAP_FACTOR, /* schema 6: the heap factor; "" in older files */
  GCL_KEY_HEAP_LIMIT,  /* schema 6: the heap limit in bytes; "" in older files and, so that
                        * factor cells of builds with other minimum heaps still pair, "" in
                        * a cell that has a factor */
  GCL_KEY_GIL,        /* schema 6: "true" or "false"; "false" in older files */
  GCL_KEY_FREELISTS,  /* schema 7: "true" or "false"; "false" in older files (none had them on) */
  GCL_KEY_N
};
extern const char *const gcl_key_names[GCL_KEY_N]; /* the CSV column of each key part */

struct gcl_sample {
  double *x;    /* measured values from status=ok rows, sorted ascending */
  size_t n;     /* number of values */
  int integral; /* 1 when every value is a whole number */
};

struct gcl_cell {
  const char *key[GCL_KEY_N];             /* key fields, pointing into the CSV buffer */
  size_t rows;                            /* rows of this cell, any status */
  size_t failed;                          /* rows whose status is neither ok nor invalid:* */
  size_t invalid;                         /* rows of an invalid pair ("invalid:reason") */
  size_t oom;                             /* of the failed rows, those of status oom */
  struct gcl_sample s[GCL_MAX_METRICS];   /* one sample per requested metric */
};

struct gcl_data {
  struct gcl_csv csv;      /* the file; cell keys point into it */
  size_t nmetrics;         /* requested metrics */
  char **metrics;          /* their names (borrowed from the caller) */
  struct gcl_cell *cells;  /* sorted as described above */
  size_t ncells;           /* number of cells */
  double *vals;            /* backing store of every sample (nmetrics * nrows values) */
};

/* The statistics of one sample, as every command prints them. */
struct gcl_stat {
  size_t n;      /* measured repetitions */
  int has_ci;    /* n >= 2: lo/hi are the bootstrap 95% CI of the median */
  int has_cv;    /* n >= 2 and mean != 0 */
  double median; /* valid when n > 0 */
  double lo, hi; /* valid when has_ci */
  double cv;     /* valid when has_cv (a fraction, not a percentage) */
  int noisy;     /* has_cv and cv > GCL_NOISY_CV */
  int few;       /* n < GCL_MIN_N */
};

/* Load PATH and group it. Returns 0, or -1 after printing one line. */
int gcl_data_load(struct gcl_data *d, const char *who, const char *path, size_t nmetrics,
                  char **metrics);
void gcl_data_free(struct gcl_data *d);

/* Order of two cell keys (the cell sort order); 0 when they are the same cell. */
int gcl_key_cmp(const char *const *a, const char *const *b);

void gcl_stat_of(const struct gcl_sample *s, struct gcl_stat *st);

/* The threads column as tables print it: "2", or "2@compact" / "2@none/i5" when the cell
 * has a placement other than none or more than one iteration. Returns buf. */
const char *gcl_threads_label(const struct gcl_cell *c, char *buf, size_t len);

/* The collector column as tables print it: "rc-gen", or "rc-gen[rc-gen.threshold0=700]"
 * when the cell has chosen options. Returns buf. */
const char *gcl_collector_label(const struct gcl_cell *c, char *buf, size_t len);

/* Split a --metric value "a,b,c" into names (in place); rejects empty names, non-metric
 * columns (key, identity and status columns) and more than GCL_MAX_METRICS names.
 * Returns 0, or -1 after one line. */
int gcl_parse_metrics(const char *who, char *arg, char **names, size_t *n);

/* A --metric option as the three commands take it: the last value given wins, and it is
 * split into names only once every option has been read. */
struct gcl_metric_arg {
  char text[1024];              /* the value, split in place by gcl_metric_arg_parse */
  char *names[GCL_MAX_METRICS]; /* the metric names, after parsing */
  size_t n;                     /* how many */
};

/* Keep VALUE as the option's text; -1 after one line when it is too long. */
int gcl_metric_arg_keep(struct gcl_metric_arg *ma, const char *who, const char *value);
/* Split the kept text with gcl_parse_metrics; 0, or -1 after one line. */
int gcl_metric_arg_parse(struct gcl_metric_arg *ma, const char *who);

/* Whether a metric is a time (its name ends in _s or _us): verdicts then say
 * slower/faster instead of higher/lower. */
int gcl_metric_is_time(const char *metric);

/* The value of "--name VALUE" or "--name=VALUE" at argv[*i]: NULL when argv[*i] is not
 * that option; advances *i past a separate value. Prints one line and sets *bad when the
 * value is missing. */
const char *gcl_opt_value(int argc, char **argv, int *i, const char *name, int *bad,
                          const char *who);

#endif
