/* SPDX-License-Identifier: MIT */
/* core/placement.h — thread placement across PUs and NUMA nodes (hwloc).
 *
 * A plan maps mutator thread i to one PU and that PU's NUMA node. It is a pure function
 * of (topology, policy, thread count), so it can be computed and tested on a synthetic
 * topology ("numa:4 core:8 pu:2") or an XML export of a machine one does not have. The
 * runner applies the plan of this machine's topology: each mutator thread binds its CPU to
 * its PU and its memory policy to its NUMA node (first-touch pages of whatever allocator
 * the thread calls land on that node; see gcl_placement_apply_thread).
 *
 * Policies (thread i of n, P = number of PUs; when n > P the plan wraps around):
 *   none         no binding; the OS schedules (pu = node = -1)
 *   compact      PU i mod P in hwloc's logical order: fill a core's hyperthreads, then the
 *                next core of the same package/node, ...
 *   scatter      PUs ordered to be as far apart as possible: one per package first, then
 *                one per NUMA node in each package, then one per core, and only then the
 *                second hyperthread of each core (the reversed hierarchy coordinates)
 *   numa-spread  thread i on NUMA node i mod N, compact within the node
 * Invariant: every planned PU and node is an os_index that exists in the topology. */
#ifndef GCL_PLACEMENT_H
#define GCL_PLACEMENT_H

#include <hwloc.h>
#include <stddef.h>

enum gcl_placement {
  GCL_PLACE_NONE,
  GCL_PLACE_COMPACT,
  GCL_PLACE_SCATTER,
  GCL_PLACE_NUMA_SPREAD,
  GCL_PLACE_N
};

#define GCL_PLACEMENT_NAMES "none, compact, scatter, numa-spread"

struct gcl_topo_summary {
  unsigned packages;   /* HWLOC_OBJ_PACKAGE objects (0 when the topology has none) */
  unsigned numa_nodes; /* NUMA nodes (at least 1 on a real machine) */
  unsigned cores;      /* cores (0 when the topology has none) */
  unsigned pus;        /* processing units (hardware threads) */
};

struct gcl_place {
  int pu;   /* os_index of the PU, -1 for no binding */
  int node; /* os_index of its NUMA node, -1 when unknown or not bound */
};

/* Policy from its name; 0, or -1 when the name is not one of GCL_PLACEMENT_NAMES. */
int gcl_placement_parse(const char *name, enum gcl_placement *out);
const char *gcl_placement_name(enum gcl_placement p);

/* Load a topology: spec NULL or "" is this machine; a spec naming an existing file is an
 * hwloc XML export; anything else is an hwloc synthetic description. Returns 0, or -1 with
 * a one-line reason in why. */
int gcl_topology_open(hwloc_topology_t *topo, const char *spec, char *why, size_t why_len);
void gcl_topology_summarize(hwloc_topology_t topo, struct gcl_topo_summary *out);

/* The plan: out[0..nthreads) (the pure function described above). Returns 0, or -1 when
 * the topology has no PU. */
int gcl_placement_plan(hwloc_topology_t topo, enum gcl_placement policy, unsigned nthreads,
                       struct gcl_place *out);

/* Number of distinct nodes in a plan (0 when nothing is bound). */
unsigned gcl_placement_nodes_used(const struct gcl_place *plan, unsigned nthreads);

/* --- the runner's process-wide plan ------------------------------------------------------- */

/* Load this machine's topology and plan nthreads threads; 0, or -1 with a reason. */
int gcl_placement_setup(enum gcl_placement policy, unsigned nthreads, char *why, size_t why_len);
/* The plan set up (NULL before gcl_placement_setup or for none); *n is its length. */
const struct gcl_place *gcl_placement_current(unsigned *n);
const struct gcl_topo_summary *gcl_placement_topology(void); /* NULL before setup */
/* Bind the calling thread as mutator thread `index` of the plan (no-op without a plan).
 * CPU binding failures are counted (gcl_placement_failures); memory binding is best
 * effort (a kernel without NUMA support refuses it, which changes nothing on one node). */
void gcl_placement_apply_thread(unsigned index);
unsigned gcl_placement_failures(void);

#endif
