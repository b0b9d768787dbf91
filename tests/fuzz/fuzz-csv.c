/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz-csv.c — libFuzzer target: any bytes read as a results CSV either load
 * (every row with the header's field count) or give one error; no crash or overflow.
 * The reader takes a path, so the input goes through a memfd. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "csv-read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int fd = -1;
  static char path[64];
  if (fd < 0) {
    fd = memfd_create("fuzz-csv", 0);
    if (fd < 0) abort();
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  }
  if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size) abort();
  /* The reader's one-line messages go to /dev/null; libFuzzer's own output stays. */
  static int null_fd = -1, err_fd = -1;
  if (null_fd < 0) null_fd = open("/dev/null", O_WRONLY), err_fd = dup(2);
  fflush(stderr);
  dup2(null_fd, 2);
  struct gcl_csv c;
  int ok = gcl_csv_read(&c, "fuzz", path) == 0;
  if (ok) {
    for (size_t r = 0; r < c.nrows; r++)
      for (size_t k = 0; k < c.ncols; k++) {
        double v;
        (void)gcl_csv_get(&c, r, k)[0];
        (void)gcl_csv_number(&c, r, k, &v);
      }
    (void)gcl_csv_col(&c, "schema_version");
    if (c.nrows) (void)gcl_csv_check_version(&c, "schema_version", 1, 2);
    gcl_csv_free(&c);
  }
  fflush(stderr);
  dup2(err_fd, 2);
  return 0;
}
