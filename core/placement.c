/* SPDX-License-Identifier: MIT */
/* core/placement.c — placement plans (a pure function of a topology) and their
 * application to the runner's mutator threads (see placement.h).
 *
 * Invariant of the plan: PUs are visited in hwloc's logical order, in which the PUs of one
 * core, the cores of one NUMA node and the nodes of one package are contiguous; every
 * rank below is computed in that single pass. */
#include "placement.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const names[GCL_PLACE_N] = {"none", "compact", "scatter", "numa-spread"};

int gcl_placement_parse(const char *name, enum gcl_placement *out) {
  for (int i = 0; i < GCL_PLACE_N; i++)
    if (strcmp(name, names[i]) == 0) {
      *out = (enum gcl_placement)i;
      return 0;
    }
  return -1;
}

const char *gcl_placement_name(enum gcl_placement p) {
  return (unsigned)p < GCL_PLACE_N ? names[p] : "?";
}

int gcl_topology_open(hwloc_topology_t *topo, const char *spec, char *why, size_t why_len) {
  if (hwloc_topology_init(topo) != 0) {
    snprintf(why, why_len, "hwloc_topology_init failed: %s", strerror(errno));
    return -1;
  }
  struct stat st;
  int r = 0;
  const char *kind = "";
  if (spec && *spec && stat(spec, &st) == 0) {
    kind = "XML file";
    r = hwloc_topology_set_xml(*topo, spec);
  } else if (spec && *spec) {
    kind = "synthetic description";
    r = hwloc_topology_set_synthetic(*topo, spec);
  }
  if (r == 0) r = hwloc_topology_load(*topo);
  if (r != 0) {
    if (spec && *spec)
      snprintf(why, why_len, "bad topology '%s': not a readable hwloc %s (expected an hwloc XML "
               "file or a synthetic description such as \"numa:4 core:8 pu:2\")", spec, kind);
    else
      snprintf(why, why_len, "cannot load this machine's topology: %s", strerror(errno));
    hwloc_topology_destroy(*topo);
    return -1;
  }
  if (hwloc_get_nbobjs_by_type(*topo, HWLOC_OBJ_PU) <= 0) {
    snprintf(why, why_len, "topology '%s' has no PU", spec ? spec : "(this machine)");
    hwloc_topology_destroy(*topo);
    return -1;
  }
  return 0;
}

static unsigned count(hwloc_topology_t t, hwloc_obj_type_t type) {
  int n = hwloc_get_nbobjs_by_type(t, type);
  return n > 0 ? (unsigned)n : 0;
}

void gcl_topology_summarize(hwloc_topology_t t, struct gcl_topo_summary *out) {
  out->packages = count(t, HWLOC_OBJ_PACKAGE);
  out->numa_nodes = count(t, HWLOC_OBJ_NUMANODE);
  out->cores = count(t, HWLOC_OBJ_CORE);
  out->pus = count(t, HWLOC_OBJ_PU);
}

/* Where one PU sits, as logical indices and ranks within its parent. */
struct pu_pos {
  hwloc_obj_t pu;     /* the PU object */
  int node;           /* logical index of its first covering NUMA node, -1 if none */
  unsigned pkg;       /* logical index of its package (0 without packages) */
  unsigned node_rank; /* rank of its node among the nodes of its package */
  unsigned core_rank; /* rank of its core among the cores of its node */
  unsigned pu_rank;   /* rank of the PU within its core */
};

static int scatter_cmp(const void *pa, const void *pb) {
  const struct pu_pos *a = pa, *b = pb;
  if (a->pu_rank != b->pu_rank) return a->pu_rank < b->pu_rank ? -1 : 1;
  if (a->core_rank != b->core_rank) return a->core_rank < b->core_rank ? -1 : 1;
  if (a->node_rank != b->node_rank) return a->node_rank < b->node_rank ? -1 : 1;
  if (a->pkg != b->pkg) return a->pkg < b->pkg ? -1 : 1;
  return a->pu->logical_index < b->pu->logical_index ? -1 : 1;
}

static int node_os(hwloc_topology_t t, int logical) {
  if (logical < 0) return -1;
  return (int)hwloc_get_obj_by_type(t, HWLOC_OBJ_NUMANODE, (unsigned)logical)->os_index;
}

int gcl_placement_plan(hwloc_topology_t t, enum gcl_placement policy, unsigned nthreads,
                       struct gcl_place *out) {
  unsigned npu = count(t, HWLOC_OBJ_PU), nnode = count(t, HWLOC_OBJ_NUMANODE);
  unsigned ncore = count(t, HWLOC_OBJ_CORE), npkg = count(t, HWLOC_OBJ_PACKAGE);
  if (!npu) return -1;
  if (policy == GCL_PLACE_NONE) {
    for (unsigned i = 0; i < nthreads; i++) out[i] = (struct gcl_place){-1, -1};
    return 0;
  }
  struct pu_pos *pos = calloc(npu, sizeof *pos);
  /* Per-parent counters of children seen so far, and each child's assigned rank. */
  unsigned *pkg_nodes = calloc(npkg + 1, sizeof *pkg_nodes);
  unsigned *node_cores = calloc(nnode + 1, sizeof *node_cores);
  int *node_rank = malloc((nnode + 1) * sizeof *node_rank);
  int *core_rank = malloc((ncore + npu + 1) * sizeof *core_rank);
  unsigned *core_pus = calloc(ncore + npu + 1, sizeof *core_pus);
  if (!pos || !pkg_nodes || !node_cores || !node_rank || !core_rank || !core_pus) abort();
  for (unsigned i = 0; i <= nnode; i++) node_rank[i] = -1;
  for (unsigned i = 0; i < ncore + npu + 1; i++) core_rank[i] = -1;
  for (unsigned i = 0; i < npu; i++) {
    hwloc_obj_t pu = hwloc_get_obj_by_type(t, HWLOC_OBJ_PU, i);
    struct pu_pos *p = &pos[i];
    p->pu = pu;
    p->node = -1;
    for (unsigned n = 0; n < nnode; n++) {
      hwloc_obj_t node = hwloc_get_obj_by_type(t, HWLOC_OBJ_NUMANODE, n);
      if (node->cpuset && hwloc_bitmap_isincluded(pu->cpuset, node->cpuset)) {
        p->node = (int)n;
        break;
      }
    }
    hwloc_obj_t pkg = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_PACKAGE, pu);
    hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_CORE, pu);
    p->pkg = pkg ? pkg->logical_index : 0;
    unsigned nslot = p->node >= 0 ? (unsigned)p->node : nnode; /* nnode: "no node" */
    if (node_rank[nslot] < 0) node_rank[nslot] = (int)pkg_nodes[p->pkg < npkg ? p->pkg : npkg]++;
    p->node_rank = (unsigned)node_rank[nslot];
    /* Without cores, each PU is its own core (slot ncore + PU index). */
    unsigned cslot = core ? core->logical_index : ncore + i;
    if (core_rank[cslot] < 0) core_rank[cslot] = (int)node_cores[nslot]++;
    p->core_rank = (unsigned)core_rank[cslot];
    p->pu_rank = core_pus[cslot]++;
  }
  if (policy == GCL_PLACE_COMPACT) {
    for (unsigned i = 0; i < nthreads; i++) {
      struct pu_pos *p = &pos[i % npu];
      out[i] = (struct gcl_place){(int)p->pu->os_index, node_os(t, p->node)};
    }
  } else if (policy == GCL_PLACE_SCATTER) {
    qsort(pos, npu, sizeof *pos, scatter_cmp);
    for (unsigned i = 0; i < nthreads; i++) {
      struct pu_pos *p = &pos[i % npu];
      out[i] = (struct gcl_place){(int)p->pu->os_index, node_os(t, p->node)};
    }
  } else {
    /* numa-spread: nodes that have PUs, in logical order; thread i on node i mod N, the
     * (i / N)-th PU of that node in compact order (wrapping). A topology without NUMA
     * nodes is one node. */
    int *nodes = malloc((nnode + 1) * sizeof *nodes);
    unsigned *npus = calloc(nnode + 1, sizeof *npus);
    if (!nodes || !npus) abort();
    unsigned nn = 0;
    for (unsigned i = 0; i < npu; i++) {
      unsigned k = 0;
      while (k < nn && nodes[k] != pos[i].node) k++;
      if (k == nn) nodes[nn++] = pos[i].node;
      npus[k]++;
    }
    for (unsigned i = 0; i < nthreads; i++) {
      unsigned k = i % nn, want = (i / nn) % npus[k], seen = 0;
      for (unsigned j = 0; j < npu; j++) {
        if (pos[j].node != nodes[k]) continue;
        if (seen++ == want) {
          out[i] = (struct gcl_place){(int)pos[j].pu->os_index, node_os(t, pos[j].node)};
          break;
        }
      }
    }
    free(nodes);
    free(npus);
  }
  free(pos);
  free(pkg_nodes);
  free(node_cores);
  free(node_rank);
  free(core_rank);
  free(core_pus);
  return 0;
}

unsigned gcl_placement_nodes_used(const struct gcl_place *plan, unsigned n) {
  unsigned used = 0;
  for (unsigned i = 0; i < n; i++) {
    if (plan[i].pu < 0) continue;
    unsigned j = 0;
    while (j < i && (plan[j].pu < 0 || plan[j].node != plan[i].node)) j++;
    if (j == i) used++;
  }
  return used;
}

/* --- the runner's plan ------------------------------------------------------------------------ */

static hwloc_topology_t machine;            /* this machine, loaded by gcl_placement_setup */
static struct gcl_topo_summary machine_sum; /* its summary */
static bool machine_loaded;                 /* setup succeeded */
static struct gcl_place *plan;              /* NULL for none */
static unsigned plan_len;                   /* threads planned */
static unsigned bind_failures;              /* CPU bindings refused (atomic) */

int gcl_placement_setup(enum gcl_placement policy, unsigned nthreads, char *why, size_t why_len) {
  if (gcl_topology_open(&machine, NULL, why, why_len) != 0) return -1;
  gcl_topology_summarize(machine, &machine_sum);
  machine_loaded = true;
  if (policy == GCL_PLACE_NONE) return 0;
  plan = calloc(nthreads ? nthreads : 1, sizeof *plan);
  if (!plan || gcl_placement_plan(machine, policy, nthreads, plan) != 0) {
    snprintf(why, why_len, "cannot plan %u threads", nthreads);
    return -1;
  }
  plan_len = nthreads;
  return 0;
}

const struct gcl_place *gcl_placement_current(unsigned *n) {
  *n = plan_len;
  return plan;
}

const struct gcl_topo_summary *gcl_placement_topology(void) {
  return machine_loaded ? &machine_sum : NULL;
}

void gcl_placement_apply_thread(unsigned index) {
  if (!plan || index >= plan_len || plan[index].pu < 0) return;
  hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(machine, (unsigned)plan[index].pu);
  if (!pu || hwloc_set_cpubind(machine, pu->cpuset, HWLOC_CPUBIND_THREAD) != 0) {
    __atomic_fetch_add(&bind_failures, 1, __ATOMIC_RELAXED);
    return;
  }
  if (plan[index].node >= 0 && machine_sum.numa_nodes > 1) {
    hwloc_nodeset_t ns = hwloc_bitmap_alloc();
    hwloc_bitmap_only(ns, (unsigned)plan[index].node);
    (void)hwloc_set_membind(machine, ns, HWLOC_MEMBIND_BIND,
                            HWLOC_MEMBIND_THREAD | HWLOC_MEMBIND_BYNODESET);
    hwloc_bitmap_free(ns);
  }
}

unsigned gcl_placement_failures(void) {
  return __atomic_load_n(&bind_failures, __ATOMIC_RELAXED);
}
