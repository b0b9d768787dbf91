/* SPDX-License-Identifier: MIT */
/* tests/unit/test-placement.c — the placement planner (core/placement.h) on synthetic
 * hwloc topologies, and the MMU computation of the pause log (core/pause.h). */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "pause.h"
#include "placement.h"

static hwloc_topology_t open_topo(const char *spec) {
  hwloc_topology_t t;
  char why[256];
  cr_assert_eq(gcl_topology_open(&t, spec, why, sizeof why), 0, "%s", why);
  return t;
}

static void plan(const char *spec, enum gcl_placement p, unsigned n, struct gcl_place *out) {
  hwloc_topology_t t = open_topo(spec);
  cr_assert_eq(gcl_placement_plan(t, p, n, out), 0);
  hwloc_topology_destroy(t);
}

Test(placement, names_round_trip) {
  for (int i = 0; i < GCL_PLACE_N; i++) {
    enum gcl_placement p;
    cr_expect_eq(gcl_placement_parse(gcl_placement_name((enum gcl_placement)i), &p), 0);
    cr_expect_eq((int)p, i);
  }
  enum gcl_placement p;
  cr_expect_eq(gcl_placement_parse("spread", &p), -1);
}

Test(placement, summary_of_synthetic) {
  hwloc_topology_t t = open_topo("pack:2 numa:2 core:4 pu:2");
  struct gcl_topo_summary s;
  gcl_topology_summarize(t, &s);
  cr_expect_eq(s.packages, 2);
  cr_expect_eq(s.numa_nodes, 4);
  cr_expect_eq(s.cores, 16);
  cr_expect_eq(s.pus, 32);
  hwloc_topology_destroy(t);
}

Test(placement, bad_topology_is_refused) {
  hwloc_topology_t t;
  char why[256];
  cr_expect_eq(gcl_topology_open(&t, "numa:banana", why, sizeof why), -1);
  cr_expect(strstr(why, "numa:banana") != NULL, "%s", why);
}

Test(placement, none_binds_nothing) {
  struct gcl_place p[4];
  plan("numa:2 core:2 pu:2", GCL_PLACE_NONE, 4, p);
  for (int i = 0; i < 4; i++) cr_expect(p[i].pu == -1 && p[i].node == -1);
  cr_expect_eq(gcl_placement_nodes_used(p, 4), 0);
}

Test(placement, compact_fills_hyperthreads_then_cores) {
  struct gcl_place p[6];
  plan("numa:4 core:8 pu:2", GCL_PLACE_COMPACT, 6, p);
  for (int i = 0; i < 6; i++) {
    cr_expect_eq(p[i].pu, i);
    cr_expect_eq(p[i].node, 0);
  }
  cr_expect_eq(gcl_placement_nodes_used(p, 6), 1);
}

Test(placement, scatter_spreads_packages_nodes_cores_then_threads) {
  /* 2 packages x 2 nodes x 2 cores x 2 PUs: PU = 8*pkg + 4*node + 2*core + pu. */
  struct gcl_place p[16];
  plan("pack:2 numa:2 core:2 pu:2", GCL_PLACE_SCATTER, 16, p);
  static const int want[16] = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};
  for (int i = 0; i < 16; i++) cr_expect_eq(p[i].pu, want[i], "thread %d on PU %d, expected %d", i, p[i].pu, want[i]);
  cr_expect_eq(gcl_placement_nodes_used(p, 4), 4);
  /* Every PU used exactly once when threads = PUs. */
  int seen[16] = {0};
  for (int i = 0; i < 16; i++) seen[p[i].pu]++;
  for (int i = 0; i < 16; i++) cr_expect_eq(seen[i], 1);
}

Test(placement, numa_spread_round_robins_nodes) {
  struct gcl_place p[8];
  plan("numa:4 core:8 pu:2", GCL_PLACE_NUMA_SPREAD, 8, p);
  for (int i = 0; i < 8; i++) {
    cr_expect_eq(p[i].node, i % 4);
    cr_expect_eq(p[i].pu, 16 * (i % 4) + i / 4, "thread %d on PU %d", i, p[i].pu);
  }
  cr_expect_eq(gcl_placement_nodes_used(p, 8), 4);
}

Test(placement, one_node_machine_numa_spread_uses_one_node) {
  struct gcl_place p[3];
  plan("core:2 pu:1", GCL_PLACE_NUMA_SPREAD, 3, p);
  cr_expect_eq(gcl_placement_nodes_used(p, 3), 1);
  cr_expect_eq(p[0].pu, 0);
  cr_expect_eq(p[1].pu, 1);
  cr_expect_eq(p[2].pu, 0); /* more threads than PUs: wraps */
}

Test(placement, oversubscribed_compact_wraps) {
  struct gcl_place p[5];
  plan("core:2 pu:2", GCL_PLACE_COMPACT, 5, p);
  static const int want[5] = {0, 1, 2, 3, 0};
  for (int i = 0; i < 5; i++) cr_expect_eq(p[i].pu, want[i]);
}

/* --- MMU ------------------------------------------------------------------------------------ */

static struct gcl_pause_event ev(uint64_t start, uint64_t dur) {
  return (struct gcl_pause_event){start, dur, "pause", 1};
}

Test(mmu, no_pause_is_one) {
  cr_expect_eq(gcl_mmu(NULL, 0, 0, 1000, 100), 1.0);
}

Test(mmu, run_shorter_than_window_is_not_measured) {
  cr_expect_lt(gcl_mmu(NULL, 0, 0, 50, 100), 0);
}

Test(mmu, one_pause_inside_a_window) {
  struct gcl_pause_event e[1] = {ev(500, 30)};
  cr_expect_float_eq(gcl_mmu(e, 1, 0, 1000, 100), 0.7, 1e-12);
  cr_expect_float_eq(gcl_mmu(e, 1, 0, 1000, 20), 0.0, 1e-12);
}

Test(mmu, two_pauses_in_one_window_add_up) {
  struct gcl_pause_event e[2] = {ev(100, 10), ev(150, 20)};
  cr_expect_float_eq(gcl_mmu(e, 2, 0, 1000, 100), 0.7, 1e-12);
  /* A window of 40 holds the second pause and 10 of gap: worst is 20/40 paused. */
  cr_expect_float_eq(gcl_mmu(e, 2, 0, 1000, 40), 0.5, 1e-12);
}

Test(mmu, overlapping_pauses_merge_and_phases_are_ignored) {
  struct gcl_pause_event e[3] = {ev(100, 30), ev(110, 30), {100, 500, "mark", 2}};
  cr_expect_float_eq(gcl_mmu(e, 3, 0, 1000, 100), 0.6, 1e-12);
}

/* Per-thread pauses (assist, pace, handshake-callback) count for their thread only: the
 * MMU is the worst-off thread's (world stops plus its own pauses). */
Test(mmu, a_threads_own_pauses_count_for_it_alone) {
  struct gcl_pause_event e[4] = {ev(100, 10), {120, 20, "assist", 2}, {500, 30, "pace", 3},
                                 {505, 30, "assist", 4}};
  /* Thread 2: 10 + 20 in [100, 200); thread 3: 30; thread 4: 30; never 10 + 20 + 30 + 30. */
  cr_expect_float_eq(gcl_mmu(e, 4, 0, 1000, 100), 0.7, 1e-12);
  /* Threads 3 and 4 overlap in time but are different threads: no merge across them. */
  cr_expect_float_eq(gcl_mmu(e, 4, 0, 1000, 40), 0.25, 1e-12);
  /* The same pauses on one thread merge: [500, 535) is 35 of a window of 40. */
  e[3].thread = 3;
  cr_expect_float_eq(gcl_mmu(e, 4, 0, 1000, 40), 5.0 / 40, 1e-12);
  /* A handshake-callback counts; a "handshake" (the requester's phase) does not. */
  struct gcl_pause_event h[2] = {{100, 50, "handshake-callback", 5}, {300, 90, "handshake", 6}};
  cr_expect_float_eq(gcl_mmu(h, 2, 0, 1000, 100), 0.5, 1e-12);
}

Test(mmu, pauses_clipped_to_the_run) {
  struct gcl_pause_event e[1] = {ev(0, 100)};
  cr_expect_float_eq(gcl_mmu(e, 1, 50, 1050, 100), 0.5, 1e-12);
}

