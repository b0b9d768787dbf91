/* SPDX-License-Identifier: MIT */
/* tests/unit/test-typed-option.c — the one value rule (core/typed-option.c): each type's
 * accepted and refused texts, implicit type ranges, bounds parsed under the option's own
 * rule (a size bound with a suffix), canonical echo texts that read back as the same value,
 * and the declaration checks every runner runs at start-up. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "typed-option.h"

static int parse(const struct gcl_opt_decl *d, const char *text, union gcl_opt_value *v) {
  char why[256];
  return gcl_opt_parse(d, text, v, why, sizeof why);
}

static const char *echo(const struct gcl_opt_decl *d, const union gcl_opt_value *v) {
  static char out[128];
  gcl_opt_format(d, v, out, sizeof out);
  return out;
}

Test(typed_option, int_ranges_declared_and_implicit) {
  const struct gcl_opt_decl bounded = {"n", GCL_OPT_INT, "1", "-5", "10", NULL, "h"};
  const struct gcl_opt_decl open = {"n", GCL_OPT_INT, "1", NULL, NULL, NULL, "h"};
  const struct gcl_opt_decl seed = {"seed", GCL_OPT_INT, "1", "0", "18446744073709551615", NULL, "h"};
  union gcl_opt_value v;
  cr_expect_eq(parse(&bounded, "-5", &v), 0);
  cr_expect_eq(v.i, -5);
  cr_expect_neq(parse(&bounded, "11", &v), 0);
  const char *bad[] = {"", "-", " 1", "1 ", "1e3", "+1", "0x10", "1.0", "1k"};
  for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_expect_neq(parse(&open, bad[i], &v), 0, "'%s' accepted as an int", bad[i]);
  cr_expect_eq(parse(&open, "9223372036854775807", &v), 0);
  cr_expect_neq(parse(&open, "9223372036854775808", &v), 0, "an int without a max wrapped past 2^63-1");
  cr_expect_eq(parse(&open, "-0", &v), 0);
  cr_expect_str_eq(echo(&open, &v), "0");
  cr_expect_eq(parse(&seed, "18446744073709551615", &v), 0);
  cr_expect_eq(v.u, UINT64_MAX);
  cr_expect_str_eq(echo(&seed, &v), "18446744073709551615");
  cr_expect_neq(parse(&seed, "18446744073709551616", &v), 0);
  cr_expect_neq(parse(&seed, "-1", &v), 0);
}

Test(typed_option, sizes_never_negative_and_bounds_with_suffixes) {
  const struct gcl_opt_decl s = {"cap", GCL_OPT_SIZE, "64m", "4k", "1g", NULL, "h"};
  const struct gcl_opt_decl open = {"cap", GCL_OPT_SIZE, "0", NULL, NULL, NULL, "h"};
  union gcl_opt_value v;
  cr_expect_eq(parse(&s, "64m", &v), 0);
  cr_expect_eq(v.u, 64ull << 20);
  cr_expect_str_eq(echo(&s, &v), "67108864");
  cr_expect_neq(parse(&s, "1", &v), 0, "below a suffixed min");
  cr_expect_neq(parse(&s, "8g", &v), 0, "above a suffixed max");
  cr_expect_neq(parse(&open, "-1", &v), 0);
  cr_expect_neq(parse(&open, "-1k", &v), 0);
  cr_expect_eq(parse(&open, "16777215t", &v), 0);
  cr_expect_str_eq(echo(&open, &v), "18446742974197923840");
  cr_expect_neq(parse(&open, "16777216t", &v), 0, "overflow past 2^64-1");
  cr_expect_neq(parse(&open, "16E", &v), 0);
  cr_expect_neq(parse(&open, "1kb", &v), 0);
}

Test(typed_option, doubles_enums_bools_strings) {
  const struct gcl_opt_decl d = {"x", GCL_OPT_DOUBLE, "0.5", "0", "1", NULL, "h"};
  const struct gcl_opt_decl e = {"p", GCL_OPT_ENUM, "b", NULL, NULL, "a|b|c", "h"};
  const struct gcl_opt_decl b = {"on", GCL_OPT_BOOL, "false", NULL, NULL, NULL, "h"};
  const struct gcl_opt_decl str = {"s", GCL_OPT_STRING, "", NULL, NULL, NULL, "h"};
  union gcl_opt_value v;
  cr_expect_eq(parse(&d, "0.1", &v), 0);
  cr_expect_str_eq(echo(&d, &v), "0.1");
  const char *bad[] = {"nan", "inf", "0x1p-1", "1e400", ".", "1.5", "-0.1"};
  for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_expect_neq(parse(&d, bad[i], &v), 0, "'%s' accepted as a double in [0, 1]", bad[i]);
  cr_expect_eq(parse(&d, "-0", &v), 0);
  cr_expect_str_eq(echo(&d, &v), "0");
  cr_expect_eq(parse(&e, "c", &v), 0);
  cr_expect_eq(v.e, 2);
  cr_expect_str_eq(echo(&e, &v), "c");
  cr_expect_neq(parse(&e, "", &v), 0);
  cr_expect_neq(parse(&e, "a|b", &v), 0);
  cr_expect_eq(parse(&b, "on", &v), 0);
  cr_expect(v.b);
  cr_expect_neq(parse(&b, "maybe", &v), 0);
  cr_expect_neq(parse(&str, "a;b", &v), 0);
  cr_expect_neq(parse(&str, "a\nb", &v), 0);
}

Test(typed_option, declaration_checks) {
  char why[256];
  const struct gcl_opt_decl bad[] = {
      {"Bad", GCL_OPT_INT, "1", NULL, NULL, NULL, "h"},             /* name */
      {"n", GCL_OPT_INT, "11", "0", "10", NULL, "h"},               /* default out of range */
      {"n", GCL_OPT_INT, "1", "10", "0", NULL, "h"},                /* min > max */
      {"n", GCL_OPT_INT, "1", "-1", "18446744073709551615", NULL, "h"}, /* ambiguous range */
      {"n", GCL_OPT_SIZE, "1", "4x", NULL, NULL, "h"},              /* bound does not parse */
      {"n", GCL_OPT_DOUBLE, "1", "1e3x", NULL, NULL, "h"},          /* bound does not parse */
      {"n", GCL_OPT_ENUM, "a", NULL, NULL, "a||b", "h"},            /* empty choice */
      {"n", GCL_OPT_BOOL, "true", "0", NULL, NULL, "h"},            /* bounds on a bool */
      {"n", GCL_OPT_STRING, "a b", NULL, NULL, NULL, "h"},          /* space in a default */
      {"n", GCL_OPT_INT, "1", NULL, NULL, NULL, ""},                /* no help */
  };
  for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_expect_neq(gcl_opt_decl_check(&bad[i], why, sizeof why), 0, "bad declaration %u passed", i);
  const struct gcl_opt_decl twice[] = {{"n", GCL_OPT_INT, "1", NULL, NULL, NULL, "h"},
                                       {"n", GCL_OPT_BOOL, "true", NULL, NULL, NULL, "h"}};
  const struct gcl_module m = {"mod", "allocator", twice, 2, NULL, 0};
  cr_expect_neq(gcl_module_check(&m, why, sizeof why), 0);
  cr_expect(strstr(why, "declared twice"), "%s", why);
  cr_expect_eq(gcl_module_check(&gcl_collector_module, why, sizeof why), 0, "%s", why);
  cr_expect_eq(gcl_module_check(&gcl_allocator_module, why, sizeof why), 0, "%s", why);
}
