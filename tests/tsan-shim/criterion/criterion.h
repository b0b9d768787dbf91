/* SPDX-License-Identifier: MIT */
/* tests/tsan-shim/criterion/criterion.h — a stand-in for the subset of Criterion's API
 * that gclab's tests use, for ThreadSanitizer builds only: Criterion 2.4 cannot start under
 * TSan (its inheritable arena fails, Criterion issue #274). Same source, same assertions:
 * each test runs in its own forked process (as Criterion does) with its .init, a .timeout
 * enforced by alarm(), and the run ends with "N passed, N failed" and a non-zero status
 * if any test failed.
 *
 * Supported: Test(suite, name, .init, .fini, .timeout, .disabled), cr_assert, cr_assert_not,
 * cr_assert_{eq,neq,lt,leq,gt,geq}, cr_assert_null, cr_assert_not_null, cr_assert_str_eq,
 * cr_assert_float_eq, the cr_expect_* twins of all these (they fail at once), cr_skip_test,
 * cr_log_info. Anything else fails to compile: the TSan build makes implicit declarations
 * errors. */
#ifndef GCL_TSAN_SHIM_CRITERION_H
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define GCL_TSAN_SHIM_CRITERION_H

#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct gcl_shim_test {
  const char *suite, *name;      /* Test(suite, name) */
  void (*fn)(void);              /* the body */
  void (*init)(void);            /* .init */
  void (*fini)(void);            /* .fini */
  double timeout;                /* .timeout seconds, 0: none */
  bool disabled;                 /* .disabled */
  struct gcl_shim_test *next;    /* registry */
};

static struct gcl_shim_test *gcl_shim_tests;

#define Test(suite, name, ...)                                                             \
  static void suite##_##name##_fn(void);                                                   \
  static struct gcl_shim_test suite##_##name##_desc = {#suite, #name, suite##_##name##_fn, \
                                                       __VA_ARGS__};                       \
  __attribute__((constructor)) static void suite##_##name##_reg(void) {                    \
    suite##_##name##_desc.next = gcl_shim_tests;                                           \
    gcl_shim_tests = &suite##_##name##_desc;                                               \
  }                                                                                        \
  static void suite##_##name##_fn(void)

static inline void gcl_shim_fail(const char *file, int line, const char *expr) {
  fprintf(stderr, "%s:%d: assertion failed: %s\n", file, line, expr);
  fflush(stderr);
  _exit(1);
}

#define GCL_SHIM_MSG(...) (fprintf(stderr, "  " __VA_ARGS__), fprintf(stderr, "\n"))
#define cr_assert(cond, ...) \
  ((cond) ? (void)0 : (GCL_SHIM_MSG("" __VA_ARGS__), gcl_shim_fail(__FILE__, __LINE__, #cond)))
#define cr_assert_not(cond, ...) cr_assert(!(cond), __VA_ARGS__)
#define cr_assert_eq(a, b, ...) cr_assert((a) == (b), __VA_ARGS__)
#define cr_assert_neq(a, b, ...) cr_assert((a) != (b), __VA_ARGS__)
#define cr_assert_lt(a, b, ...) cr_assert((a) < (b), __VA_ARGS__)
#define cr_assert_leq(a, b, ...) cr_assert((a) <= (b), __VA_ARGS__)
#define cr_assert_gt(a, b, ...) cr_assert((a) > (b), __VA_ARGS__)
#define cr_assert_geq(a, b, ...) cr_assert((a) >= (b), __VA_ARGS__)
#define cr_assert_null(p, ...) cr_assert((p) == NULL, __VA_ARGS__)
#define cr_assert_not_null(p, ...) cr_assert((p) != NULL, __VA_ARGS__)
#define cr_assert_str_eq(a, b, ...) cr_assert(strcmp((a), (b)) == 0, __VA_ARGS__)
#define cr_assert_float_eq(a, b, eps, ...) cr_assert(fabs((double)(a) - (double)(b)) <= (eps), __VA_ARGS__)
/* Expectations fail the test at once here (Criterion would continue and fail at the end):
 * the verdict is the same. */
#define cr_expect cr_assert
#define cr_expect_not cr_assert_not
#define cr_expect_eq cr_assert_eq
#define cr_expect_neq cr_assert_neq
#define cr_expect_gt cr_assert_gt
#define cr_expect_geq cr_assert_geq
#define cr_expect_lt cr_assert_lt
#define cr_expect_leq cr_assert_leq
#define cr_expect_null cr_assert_null
#define cr_expect_not_null cr_assert_not_null
#define cr_expect_str_eq cr_assert_str_eq
#define cr_expect_float_eq cr_assert_float_eq
#define cr_log_info(...) (fprintf(stderr, __VA_ARGS__), fprintf(stderr, "\n"))
#define cr_skip_test(...) (fprintf(stderr, "skipped: " __VA_ARGS__), fprintf(stderr, "\n"), _exit(77))

int main(int argc, char **argv) {
  (void)argc, (void)argv;
  int passed = 0, failed = 0, skipped = 0;
  for (struct gcl_shim_test *t = gcl_shim_tests; t; t = t->next) {
    if (t->disabled) {
      skipped++;
      continue;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
      if (t->timeout > 0) alarm((unsigned)ceil(t->timeout));
      if (t->init) t->init();
      t->fn();
      if (t->fini) t->fini();
      fflush(NULL);
      _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
      skipped++;
      fprintf(stderr, "[SKIP] %s::%s\n", t->suite, t->name);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      passed++;
      fprintf(stderr, "[PASS] %s::%s\n", t->suite, t->name);
    } else {
      failed++;
      fprintf(stderr, "[FAIL] %s::%s (%s %d)\n", t->suite, t->name,
              WIFSIGNALED(status) ? "signal" : "exit",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    }
  }
  printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  return failed ? 1 : 0;
}

#endif
