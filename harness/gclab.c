/* SPDX-License-Identifier: MIT */
/* harness/gclab.c — main() of the `gclab` front end: dispatches to its subcommands.
 *
 *   gclab list [--figures|--options]  what this build can run; every module's figures/options
 *   gclab run [options]            run a matrix, append CSV rows (harness/run.c)
 *   gclab topo [options]           topology and placement plans (harness/topo.c)
 *   gclab merge OUT IN...          join CSV files (harness/merge.c)
 *   gclab slurm MATRIX --shards N --out DIR   a Slurm job array of shards (harness/slurm.c)
 *   gclab summary|compare|table    read CSV files (harness/analysis/)
 *   gclab lbo FILE.csv             lower-bound GC overhead per cell (harness/analysis/lbo.c)
 *   gclab minheap [run flags]      minimum heap by bisection (harness/minheap-cmd.c)
 *   gclab version                  the git describe of this build
 *
 * GCL_GIT_VERSION comes from the generated gclab-version.h, refreshed at every build so a
 * row never carries the version of an older commit. */
#include <stdio.h>
#include <string.h>

#include "analysis.h"
#include "gclab-version.h"
#include "harness.h"
#include "minheap.h"

const char *const gcl_version = GCL_GIT_VERSION;

static void usage(FILE *f) {
  fprintf(f,
          "usage: gclab COMMAND [args]\n"
          "  list                      collectors, allocators, workloads, parameters, pairs\n"
          "  list --figures|--options  every module's figures (CSV columns) or options (--opt)\n"
          "  run [options]             run a matrix and append CSV rows (gclab run --help)\n"
          "  topo [options]            the topology and its placement plans (gclab topo --help)\n"
          "  merge OUT IN...           join CSV files of one schema version into OUT\n"
          "  slurm MATRIX --shards N --out DIR  a Slurm job array, one shard per task\n"
          "  summary|compare|table ... read CSV files written by run\n"
          "  lbo FILE.csv [options]    lower-bound GC overhead per cell (gclab lbo --help)\n"
          "  minheap [run flags]       minimum heap by bisection, cached for --heap-factor\n"
          "  version                   print the version of this build\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "list") == 0) return gcl_cmd_list(argc - 1, argv + 1);
  if (strcmp(cmd, "run") == 0) return gcl_cmd_run(argc - 1, argv + 1);
  if (strcmp(cmd, "topo") == 0) return gcl_cmd_topo(argc - 1, argv + 1);
  if (strcmp(cmd, "merge") == 0) return gcl_cmd_merge(argc - 1, argv + 1);
  if (strcmp(cmd, "slurm") == 0) return gcl_cmd_slurm(argc - 1, argv + 1);
  if (strcmp(cmd, "summary") == 0) return gcl_cmd_summary(argc - 1, argv + 1);
  if (strcmp(cmd, "compare") == 0) return gcl_cmd_compare(argc - 1, argv + 1);
  if (strcmp(cmd, "table") == 0) return gcl_cmd_table(argc - 1, argv + 1);
  if (strcmp(cmd, "lbo") == 0) return gcl_cmd_lbo(argc - 1, argv + 1);
  if (strcmp(cmd, "minheap") == 0) return gcl_cmd_minheap(argc - 1, argv + 1);
  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    printf("gclab %s\n", gcl_version);
    return 0;
  }
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    usage(stdout);
    return 0;
  }
  fprintf(stderr, "gclab: unknown command '%s' (expected list, run, topo, merge, slurm, summary, compare, table, lbo, minheap or version)\n", cmd);
  return 2;
}
