/* SPDX-License-Identifier: MIT */
/* core/assert.c — failure paths: a graded assertion that failed, memory that ran out. */
#include <stdio.h>
#include <stdlib.h>

#include "assert.h"

void gcl_assert_fail(const char *expr, const char *file, int line) {
  fprintf(stderr, "gclab: assertion failed at %s:%d: %s\n", file, line, expr);
  fflush(stderr);
  abort();
}

void (*gcl_alloc_failed_hook)(size_t bytes);

void *gcl_alloc_failed(size_t bytes) {
  if (gcl_alloc_failed_hook) gcl_alloc_failed_hook(bytes);
  fprintf(stderr, "gclab: out of memory allocating %zu bytes\n", bytes);
  abort();
}
