/* core/assert.c — failure path of the graded assertions. */
#include <stdio.h>
#include <stdlib.h>

#include "assert.h"

void gcl_assert_fail(const char *expr, const char *file, int line) {
  fprintf(stderr, "gclab: assertion failed at %s:%d: %s\n", file, line, expr);
  fflush(stderr);
  abort();
}
