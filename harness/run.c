/* SPDX-License-Identifier: MIT */
/* harness/run.c — `gclab run`: expand the matrix, run each cell in a child process and
 * append one CSV row per cell (schema: harness/schema.h, documented in results/README.md).
 * This file is the order of work only (run.h describes it and names the file of each job);
 * it validates everything before anything is opened or started. */
#include <stdio.h>

#include "run.h"

int gcl_cmd_run(int argc, char **argv) {
  struct gcl_run_opts o = GCL_RUN_OPTS_INIT;
  int r = gcl_run_parse_args(argc, argv, &o);
  if (r) return r;
  if (o.matrix && (r = gcl_run_apply_matrix(&o))) return r;
  if ((r = gcl_run_finish_args(&o))) return r;
  hwloc_topology_t plan_topo = NULL;
  char why[512];
  if (o.dry_run && gcl_topology_open(&plan_topo, o.topology, why, sizeof why) != 0)
    return gcl_run_bad("%s", why);
  struct gcl_matrix m = {0};
  if ((r = gcl_run_select(&o, &m))) return r;
  if (!o.dry_run && (r = gcl_run_check_outputs(&o))) return r;
  if ((r = gcl_run_cells(&o, &m))) return r;
  fputs(gcl_buf_str(&m.notes), stderr); /* only now: bad input is one line */
  if (o.dry_run) {
    gcl_run_dry(&o, &m, plan_topo);
    return 0;
  }
  return gcl_run_exec(&o, &m);
}
