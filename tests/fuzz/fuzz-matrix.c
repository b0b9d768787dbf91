/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz-matrix.c — libFuzzer target: any bytes given to the matrix-file reader
 * either parse or give one message naming "fuzz.yaml:LINE:"; no crash, leak or overflow. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "matrix-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct gcl_matrix_file mf;
  char err[512];
  if (gcl_matrix_parse("fuzz.yaml", (const char *)data, size, &mf, err, sizeof err) == 0) {
    /* Every list item and param is a NUL-terminated, non-empty string. */
    for (unsigned i = 0; i < mf.collectors.n; i++)
      if (!mf.collectors.v[i].text[0]) abort();
    for (unsigned i = 0; i < mf.nparams; i++)
      if (!mf.params[i].workload || !mf.params[i].value) abort();
    gcl_matrix_free(&mf);
  } else if (strncmp(err, "fuzz.yaml:", 10) != 0) {
    abort(); /* a message must name the file and line */
  }
  return 0;
}
