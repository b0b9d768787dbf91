/* SPDX-License-Identifier: MIT */
/* harness/topo.c — `gclab topo [--threads N] [--placement P] [--topology T]`: print a
 * topology (this machine's, an hwloc XML file or a synthetic description) and the
 * placement plan of N threads under each policy asked for (default: all of them).
 * Pure planning: nothing is bound. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "placement.h"

static int bad(const char *fmt, const char *a) {
  fputs("gclab topo: ", stderr);
  fprintf(stderr, fmt, a);
  fputc('\n', stderr);
  return 2;
}

int gcl_cmd_topo(int argc, char **argv) {
  const char *topology = NULL, *threads_s = NULL, *placement = NULL;
  for (int i = 1; i < argc; i++) {
    const char **dst = NULL;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf("usage: gclab topo [--threads N] [--placement " GCL_PLACEMENT_NAMES "] [--topology T]\n"
             "  T: an hwloc XML file or a synthetic description such as \"numa:4 core:8 pu:2\"\n");
      return 0;
    }
    if (strcmp(argv[i], "--threads") == 0) dst = &threads_s;
    else if (strcmp(argv[i], "--placement") == 0) dst = &placement;
    else if (strcmp(argv[i], "--topology") == 0) dst = &topology;
    else return bad("unknown argument '%s' (expected --threads, --placement or --topology)", argv[i]);
    if (i + 1 >= argc) return bad("%s needs a value", argv[i]);
    *dst = argv[++i];
  }
  double t = 0;
  unsigned nthreads = 0;
  if (threads_s) {
    if (!gcl_num_parse(threads_s, &t) || t < 1 || t > GCL_THREADS_MAX || t != (unsigned)t)
      return bad("bad value '%s' for --threads: expected a whole number in [1, 4096]", threads_s);
    nthreads = (unsigned)t;
  }
  enum gcl_placement only = GCL_PLACE_N;
  if (placement && gcl_placement_parse(placement, &only) != 0)
    return bad("unknown placement '%s' (expected one of " GCL_PLACEMENT_NAMES ")", placement);
  hwloc_topology_t topo;
  char why[512];
  if (gcl_topology_open(&topo, topology, why, sizeof why) != 0) return bad("%s", why);
  struct gcl_topo_summary s;
  gcl_topology_summarize(topo, &s);
  printf("topology %s: %u packages, %u NUMA nodes, %u cores, %u PUs\n",
         topology ? topology : "(this machine)", s.packages, s.numa_nodes, s.cores, s.pus);
  for (unsigned n = 0; n < s.numa_nodes; n++) {
    hwloc_obj_t node = hwloc_get_obj_by_type(topo, HWLOC_OBJ_NUMANODE, n);
    char *set = NULL;
    if (node->cpuset) hwloc_bitmap_list_asprintf(&set, node->cpuset);
    printf("  node %u: PUs %s\n", node->os_index, set ? set : "-");
    free(set);
  }
  if (!nthreads) nthreads = s.pus;
  struct gcl_place *plan = calloc(nthreads, sizeof *plan);
  if (!plan) return 1;
  printf("plans for %u threads (thread: PU/node):\n", nthreads);
  for (int p = GCL_PLACE_NONE; p < GCL_PLACE_N; p++) {
    if (only != GCL_PLACE_N && (int)only != p) continue;
    gcl_placement_plan(topo, (enum gcl_placement)p, nthreads, plan);
    printf("  %-12s", gcl_placement_name((enum gcl_placement)p));
    if (p == GCL_PLACE_NONE) printf(" unbound (the OS schedules)");
    else
      for (unsigned i = 0; i < nthreads; i++) printf(" %u:%d/%d", i, plan[i].pu, plan[i].node);
    if (p != GCL_PLACE_NONE) printf("  (NUMA nodes used: %u)", gcl_placement_nodes_used(plan, nthreads));
    putchar('\n');
  }
  free(plan);
  hwloc_topology_destroy(topo);
  return 0;
}
