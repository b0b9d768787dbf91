/* harness/list.c — `gclab list`: collectors, allocators, workloads with their parameters
 * (defaults and ranges), every collector x allocator pair marked valid or invalid with the
 * reason, and the ranges of `gclab run`'s own axes. Workloads are what the runners
 * --describe; a runner whose workloads differ from the first one's is flagged as stale.
 * Exit status: 0, or 1 when no runner could describe the workloads. */
#include <stdio.h>
#include <string.h>

#include "harness.h"

static void print_range(const struct gcl_param_info *p) {
  char def[32], lo[32], hi[32];
  gcl_num_format(def, sizeof def, p->def);
  gcl_num_format(lo, sizeof lo, p->min);
  gcl_num_format(hi, sizeof hi, p->max);
  printf("    --param %s=%s  (%s in [%s, %s]) %s\n", p->name, def,
         p->integer ? "whole number" : "number", lo, hi, p->help);
}

/* Whether two describe outputs name the same workloads and parameters. */
static bool same_workloads(const struct gcl_workload_info *a, unsigned na,
                           const struct gcl_workload_info *b, unsigned nb) {
  if (na != nb) return false;
  for (unsigned i = 0; i < na; i++) {
    if (strcmp(a[i].name, b[i].name) != 0 || a[i].nparams != b[i].nparams) return false;
    for (unsigned p = 0; p < a[i].nparams; p++)
      if (strcmp(a[i].params[p].name, b[i].params[p].name) != 0 ||
          a[i].params[p].def != b[i].params[p].def || a[i].params[p].min != b[i].params[p].min ||
          a[i].params[p].max != b[i].params[p].max)
        return false;
  }
  return true;
}

int gcl_cmd_list(int argc, char **argv) {
  (void)argv;
  if (argc > 1) {
    fprintf(stderr, "gclab list: takes no arguments (got '%s')\n", argv[1]);
    return 2;
  }
  struct gcl_catalog cat;
  gcl_catalog_load(&cat);
  printf("gclab %s; runners in %s\n\n", gcl_version, cat.runners_dir);
  printf("collectors:");
  for (unsigned i = 0; i < cat.ncollectors; i++) printf(" %s", cat.collectors[i]);
  printf("\nallocators:");
  for (unsigned i = 0; i < cat.nallocators; i++) printf(" %s", cat.allocators[i]);
  printf("\n\n");

  if (cat.describer) {
    printf("workloads (from %s --describe):\n", cat.describer);
    for (unsigned i = 0; i < cat.nworkloads; i++) {
      const struct gcl_workload_info *w = &cat.workloads[i];
      printf("  %s  %s\n", w->name, w->description);
      if (!w->nparams) printf("    (no parameters)\n");
      for (unsigned p = 0; p < w->nparams; p++) print_range(&w->params[p]);
    }
  } else {
    printf("workloads: unknown: %s\n", cat.describe_error);
  }

  printf("\npairs (collector x allocator):\n");
  int cw = 0, aw = 0;
  for (unsigned i = 0; i < cat.npairs; i++) {
    int c = (int)strlen(cat.pairs[i].collector), a = (int)strlen(cat.pairs[i].allocator);
    cw = c > cw ? c : cw;
    aw = a > aw ? a : aw;
  }
  for (unsigned i = 0; i < cat.npairs; i++) {
    const struct gcl_pair_info *p = &cat.pairs[i];
    printf("  %-*s x %-*s  ", cw, p->collector, aw, p->allocator);
    if (p->invalid_reason[0]) {
      printf("invalid: %s\n", p->invalid_reason);
      continue;
    }
    if (!gcl_runner_exists(p->runner)) {
      printf("valid (runner not built: %s)\n", p->runner);
      continue;
    }
    struct gcl_buf text = {0};
    char why[512];
    struct gcl_workload_info *ws;
    unsigned nws;
    if (gcl_runner_describe(p->runner, &text, why, sizeof why) != 0 ||
        gcl_parse_describe(gcl_buf_str(&text), &ws, &nws, why, sizeof why) != 0) {
      printf("valid (runner broken: %s)\n", why);
      continue;
    }
    unsigned header = 0;
    const char *pl = strstr(gcl_buf_str(&text), "pair ");
    bool have_header = pl && (pl == text.p || pl[-1] == '\n') &&
                       sscanf(pl, "pair %*s %*s %u", &header) == 1;
    printf("valid");
    if (have_header) printf(", object header %u bytes", header);
    if (cat.describer && !same_workloads(ws, nws, cat.workloads, cat.nworkloads))
      printf(" (STALE: its workloads differ from %s; rebuild)", cat.describer);
    printf("\n");
    gcl_buf_free(&text);
  }

  printf("\ngclab run axes: --threads 1..%d (default 1)  --repeat 1..%d (default 3)  "
         "--scale %g..%g (default 1)\n"
         "                --seed 0..2^53 (default 1; rep r uses seed + r)  "
         "--timeout SECONDS (default 300)\n",
         GCL_THREADS_MAX, GCL_REPEAT_MAX, GCL_SCALE_MIN, GCL_SCALE_MAX);
  return cat.describer ? 0 : 1;
}
