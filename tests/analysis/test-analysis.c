/* SPDX-License-Identifier: MIT */
/* tests/analysis/test-analysis.c — unit tests of the analysis building blocks: the RFC 4180
 * reader (csv-read.c), the statistics (resample.c) and cell grouping (cells.c).
 * GCL_ANALYSIS_TEST_DIR is this folder (for sample.csv), set by CMakeLists.txt. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cells.h"
#include "csv-read.h"
#include "resample.h"

/* Write TEXT (LEN bytes) to a fresh temporary file; returns its malloc'd path. */
static char *tmp_csv(const char *text, size_t len) {
  char *path = strdup("/tmp/gclab-analysis-XXXXXX");
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  cr_assert_eq(write(fd, text, len), (ssize_t)len);
  close(fd);
  return path;
}

/* Read TEXT as a CSV: returns gcl_csv_read's result, *c holds the file on success. */
static int read_text(struct gcl_csv *c, const char *text, char **path) {
  *path = tmp_csv(text, strlen(text));
  return gcl_csv_read(c, "test", *path);
}

static void done(struct gcl_csv *c, char *path) {
  gcl_csv_free(c);
  unlink(path);
  free(path);
}

Test(csv, quoted_fields_commas_quotes_newlines) {
  struct gcl_csv c;
  char *path;
  const char *text = "a,b,c\r\n"
                     "1,\"x,y\",\"say \"\"hi\"\"\"\r\n"
                     "\n"
                     "2,\"two\nlines\",\r\n"
                     "3,,\"\"\n";
  cr_assert_eq(read_text(&c, text, &path), 0);
  cr_assert_eq(c.ncols, 3);
  cr_assert_eq(c.nrows, 3);
  cr_assert_str_eq(c.header[2], "c");
  cr_assert_str_eq(gcl_csv_get(&c, 0, 1), "x,y");
  cr_assert_str_eq(gcl_csv_get(&c, 0, 2), "say \"hi\"");
  cr_assert_str_eq(gcl_csv_get(&c, 1, 1), "two\nlines");
  cr_assert_str_eq(gcl_csv_get(&c, 1, 2), "");
  cr_assert_str_eq(gcl_csv_get(&c, 2, 1), "");
  cr_assert_str_eq(gcl_csv_get(&c, 2, 2), "");
  /* Rows are named by the physical line they start on; the empty line 3 is skipped. */
  cr_assert_eq(c.line[0], 2);
  cr_assert_eq(c.line[1], 4);
  cr_assert_eq(c.line[2], 6);
  done(&c, path);
}

Test(csv, bom_and_missing_final_newline) {
  struct gcl_csv c;
  char *path;
  cr_assert_eq(read_text(&c, "\xEF\xBB\xBFx,y\n1,2", &path), 0);
  cr_assert_str_eq(c.header[0], "x");
  cr_assert_eq(c.nrows, 1);
  cr_assert_str_eq(gcl_csv_get(&c, 0, 1), "2");
  cr_assert_eq(gcl_csv_col(&c, "y"), 1);
  cr_assert_eq(gcl_csv_col(&c, "z"), -1);
  done(&c, path);
}

Test(csv, malformed_files_are_rejected) {
  const char *bad[] = {
      "",                          /* empty */
      "a,b\n1,2,3\n",              /* too many fields */
      "a,b\n1\n",                  /* too few fields (truncated row) */
      "a,b\n1,\"open\n",           /* unterminated quote */
      "a,b\n1,x\"y\n",             /* quote inside an unquoted field */
      "a,b\n1,\"x\"y\n",           /* text after a closing quote */
      "a,a\n1,2\n",                /* duplicate column */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct gcl_csv c;
    char *path;
    cr_expect_eq(read_text(&c, bad[i], &path), -1, "case %zu was accepted", i);
    unlink(path);
    free(path);
  }
  struct gcl_csv c;
  char *path = tmp_csv("a,b\n1,\0\n", 8);
  cr_expect_eq(gcl_csv_read(&c, "test", path), -1, "a NUL byte was accepted");
  unlink(path);
  free(path);
  cr_expect_eq(gcl_csv_read(&c, "test", "/nonexistent/gclab.csv"), -1);
}

Test(csv, numbers_empty_is_missing_malformed_is_error) {
  struct gcl_csv c;
  char *path;
  cr_assert_eq(read_text(&c, "v\n1.5\n\n-2e3\nabc\nnan\n1e999\n 1\n0x10\n", &path), 0);
  double v = 42;
  cr_expect_eq(gcl_csv_number(&c, 0, 0, &v), 1);
  cr_expect_eq(v, 1.5);
  cr_expect_eq(gcl_csv_number(&c, 1, 0, &v), 1); /* the empty line was skipped: -2e3 */
  cr_expect_eq(v, -2000);
  for (size_t r = 2; r < c.nrows; r++)
    cr_expect_eq(gcl_csv_number(&c, r, 0, &v), -1, "row %zu '%s' accepted", r, gcl_csv_get(&c, r, 0));
  done(&c, path);
  cr_assert_eq(read_text(&c, "v,w\n,3\n", &path), 0);
  v = 42;
  cr_expect_eq(gcl_csv_number(&c, 0, 0, &v), 0);
  cr_expect_eq(v, 42, "an empty field must leave the value untouched (not 0)");
  done(&c, path);
}

Test(csv, schema_version_checked_on_every_row) {
  struct gcl_csv c;
  char *path;
  cr_assert_eq(read_text(&c, "schema_version,x\n1,a\n1,b\n", &path), 0);
  cr_expect_eq(gcl_csv_check_version(&c, "schema_version", 1, 1), 0);
  done(&c, path);
  const char *bad[] = {"schema_version,x\n1,a\n2,b\n", "schema_version,x\n1,a\n,b\n",
                       "schema_version,x\n1.0,a\n", "x\n1\n"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert_eq(read_text(&c, bad[i], &path), 0);
    cr_expect_eq(gcl_csv_check_version(&c, "schema_version", 1, 1), -1, "case %zu accepted", i);
    done(&c, path);
  }
}

Test(stats, splitmix64_reference_values) {
  /* The published first outputs of splitmix64 seeded with 0. */
  struct gcl_rng r = {0};
  cr_expect_eq(gcl_rng_next(&r), UINT64_C(0xe220a8397b1dcdaf));
  cr_expect_eq(gcl_rng_next(&r), UINT64_C(0x6e789e6aa1b965f4));
  cr_expect_eq(gcl_rng_next(&r), UINT64_C(0x06c45d188009454f));
  for (int i = 0; i < 1000; i++) cr_assert_lt(gcl_rng_below(&r, 7), 7);
}

Test(stats, median_quantile_cv) {
  double odd[] = {1, 2, 10}, even[] = {1, 2, 3, 10};
  cr_expect_eq(gcl_median_sorted(odd, 3), 2);
  cr_expect_eq(gcl_median_sorted(even, 4), 2.5);
  cr_expect_eq(gcl_quantile_sorted(even, 4, 0), 1);
  cr_expect_eq(gcl_quantile_sorted(even, 4, 1), 10);
  cr_expect_float_eq(gcl_quantile_sorted(even, 4, 0.5), 2.5, 1e-12);
  cr_expect_float_eq(gcl_quantile_sorted(even, 4, 0.9), 3 + 0.7 * 7, 1e-12);
  double cv;
  double x[] = {0.98, 0.99, 1.00, 1.01, 1.02}; /* sd = sqrt(0.001 / 4) */
  cr_assert_eq(gcl_cv(x, 5, &cv), 0);
  cr_expect_float_eq(cv, sqrt(0.00025), 1e-12);
  cr_expect_eq(gcl_cv(x, 1, &cv), -1, "CV of one value is undefined");
  double zeros[] = {0, 0};
  cr_expect_eq(gcl_cv(zeros, 2, &cv), -1, "CV with mean 0 is undefined");
}

Test(stats, bootstrap_is_reproducible_and_sane) {
  double x[25];
  for (int i = 0; i < 25; i++) x[i] = 1 + ((i * 37) % 23) / 100.0;
  gcl_sort_doubles(x, 25);
  double lo1, hi1, lo2, hi2;
  cr_assert_eq(gcl_boot_median_ci(x, 25, 0, &lo1, &hi1), 0);
  cr_assert_eq(gcl_boot_median_ci(x, 25, 0, &lo2, &hi2), 0);
  cr_expect_eq(lo1, lo2);
  cr_expect_eq(hi1, hi2);
  double med = gcl_median_sorted(x, 25);
  cr_expect_leq(lo1, med);
  cr_expect_geq(hi1, med);
  /* With 25 values the interval is well inside the range of the sample. */
  cr_expect_gt(lo1, x[0]);
  cr_expect_lt(hi1, x[24]);
  cr_expect_eq(gcl_boot_median_ci(x, 1, 0, &lo1, &hi1), -1, "no interval from one value");
}

Test(stats, ratio_interval_brackets_the_true_ratio) {
  double b[9], n[9];
  for (int i = 0; i < 9; i++) {
    b[i] = 1 + 0.01 * ((i * 5) % 9);
    n[i] = 1.3 * b[i];
  }
  gcl_sort_doubles(b, 9);
  gcl_sort_doubles(n, 9);
  double lo, hi;
  cr_assert_eq(gcl_boot_ratio_ci(b, 9, n, 9, &lo, &hi), 0);
  cr_expect_lt(lo, 1.3);
  cr_expect_gt(hi, 1.3);
  cr_expect_gt(lo, 1.2, "lo %g: the samples barely overlap", lo);
  cr_assert_eq(gcl_boot_ratio_ci(b, 9, b, 9, &lo, &hi), 0);
  cr_expect_lt(lo, 1);
  cr_expect_gt(hi, 1);
  double z[] = {0, 0, 0};
  cr_expect_eq(gcl_boot_ratio_ci(z, 3, n, 9, &lo, &hi), -1, "ratio over a zero base median");
}

Test(cells, sample_csv_groups_into_cells) {
  char *metrics[] = {"wall_s", "max_rss_kb"};
  struct gcl_data d;
  cr_assert_eq(gcl_data_load(&d, "test", GCL_ANALYSIS_TEST_DIR "/sample.csv", 2, metrics), 0);
  cr_assert_eq(d.ncells, 7);
  /* Sorted by workload, params, scale, collector, allocator, threads. */
  const char *order[][3] = {{"binary-trees", "rc", "1"},       {"binary-trees", "rc", "2"},
                            {"binary-trees", "rc-plain", "1"}, {"binary-trees", "rc-plain", "2"},
                            {"churn", "rc", "1"},              {"cycles", "gen", "1"},
                            {"cycles", "gen", "2"}};
  for (size_t i = 0; i < 7; i++) {
    cr_expect_str_eq(d.cells[i].key[GCL_KEY_WORKLOAD], order[i][0]);
    cr_expect_str_eq(d.cells[i].key[GCL_KEY_COLLECTOR], order[i][1]);
    cr_expect_str_eq(d.cells[i].key[GCL_KEY_THREADS], order[i][2]);
  }
  cr_expect_str_eq(d.cells[0].key[GCL_KEY_PARAMS], "depth=12,stretch=1");
  /* churn: 2 ok rows, 3 failed (two crashes with empty fields, one timeout). */
  const struct gcl_cell *churn = &d.cells[4];
  cr_expect_eq(churn->rows, 5);
  cr_expect_eq(churn->failed, 3);
  cr_expect_eq(churn->s[0].n, 2);
  cr_expect_eq(churn->s[0].x[0], 2.0);
  cr_expect_eq(churn->s[0].x[1], 2.1);
  cr_expect(churn->s[1].integral);
  struct gcl_stat st;
  gcl_stat_of(&d.cells[3].s[0], &st); /* rc-plain, 2 threads: 0.5 0.55 0.6 0.65 0.7 */
  cr_expect_eq(st.n, 5);
  cr_expect_float_eq(st.median, 0.6, 1e-12);
  cr_expect(st.noisy);
  cr_expect(!st.few);
  gcl_stat_of(&churn->s[0], &st);
  cr_expect(st.few);
  cr_expect_float_eq(st.median, 2.05, 1e-12);
  gcl_data_free(&d);
}

Test(cells, bad_files_are_rejected) {
  char *metrics[] = {"wall_s"};
  const char *bad[] = {"bad-schema.csv", "bad-missing-column.csv", "bad-truncated.csv",
                       "bad-unterminated.csv", "bad-number.csv"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", GCL_ANALYSIS_TEST_DIR, bad[i]);
    struct gcl_data d;
    cr_expect_eq(gcl_data_load(&d, "test", path, 1, metrics), -1, "%s accepted", bad[i]);
  }
  char *nosuch[] = {"no_such_metric"};
  struct gcl_data d;
  cr_expect_eq(gcl_data_load(&d, "test", GCL_ANALYSIS_TEST_DIR "/sample.csv", 1, nosuch), -1);
}

Test(cells, metric_list_parsing) {
  char *names[GCL_MAX_METRICS];
  size_t n;
  char ok[] = "wall_s,max_rss_kb,wall_s";
  cr_assert_eq(gcl_parse_metrics("test", ok, names, &n), 0);
  cr_expect_eq(n, 2, "duplicates are dropped");
  cr_expect_str_eq(names[1], "max_rss_kb");
  char *bad[] = {"", ",wall_s", "wall_s,", "wall_s,,gc_s", "status", "threads"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s", bad[i]);
    cr_expect_eq(gcl_parse_metrics("test", buf, names, &n), -1, "'%s' accepted", bad[i]);
  }
  cr_expect(gcl_metric_is_time("wall_s"));
  cr_expect(gcl_metric_is_time("pause_p99_us"));
  cr_expect(!gcl_metric_is_time("max_rss_kb"));
}
