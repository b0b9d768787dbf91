#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# results/measurements/issue9-goals.sh [BUILD] [PREFIX] — issue 9's goals for cmark's
# concurrent mode once its pacing has mark assists and every assist and paced wait is a
# pause (kinds `assist`, `pace`: in pause_max_us, the percentiles and mmu_*). Each
# comparison is one shuffled `gclab run`, so its cells are taken side by side:
#   1. `gclab minheap` of gcbench (cmark stw: the reference of --heap-factor), 2 and 8
#      threads, and of lru (2 threads);
#   2. gcbench at heap factor 2 and 3, 2 and 8 mutators, cmark stw vs concurrent
#      -> PREFIX-gcbench.csv (max pause, pause p99, ttsp p99, wall time, mmu_*, the
#      assist and pace figures);
#   3. lru's metered latency: cmark concurrent vs stw vs rc-gen vs brc, 2 threads, no heap
#      limit (rc-gen and brc have none) -> PREFIX-lru.csv; and cmark's two modes at heap
#      factor 1.5 (at 2 lru peaks under the trigger: no cycle in the measured window) -> PREFIX-lru-heap.csv;
#   4. MMU curves of both modes (gcbench, 2 mutators, heap factor 2) from the events files
#      (per thread: world stops plus its own pauses) -> results/issue9-mmu-{stw,concurrent}.svg
#      (plotlib --kind mmu groups by pair, not by option: one run and one plot per mode).
# SCALE (default 0.1) and REPEAT (default 3) size it. BUILD defaults to build (Release),
# PREFIX to results/measurements/issue9-goals. Bad arguments: one line, exit status 2.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=${1:-build}
P=${2:-results/measurements/issue9-goals}
S=${SCALE:-0.1}
R=${REPEAT:-3}
[ -x "$B/gclab" ] || { echo "issue9-goals.sh: '$B/gclab' is not an executable (build it: scripts/build.sh $B)" >&2; exit 2; }
case $R in '' | *[!0-9]*) echo "issue9-goals.sh: REPEAT='$R' is not a whole number >= 1" >&2; exit 2 ;; esac
G=$B/gclab
$G minheap --collector cmark --allocator segment --workload gcbench --threads 2,8 --scale "$S"
$G minheap --collector cmark --allocator segment --workload lru --threads 2
$G run --collector cmark --allocator segment --workload gcbench --threads 2,8 --scale "$S" \
  --heap-factor 2,3 --opt cmark.mode=stw,concurrent --repeat "$R" --shuffle=9 --out "$P-gcbench.csv"
$G run --collector cmark,rc-gen,brc --allocator segment --workload lru --threads 2 \
  --opt cmark.mode=stw,concurrent --repeat "$R" --shuffle=9 --out "$P-lru.csv"
$G run --collector cmark --allocator segment --workload lru --threads 2 --heap-factor 1.5 \
  --opt cmark.mode=stw,concurrent --repeat "$R" --shuffle=9 --out "$P-lru-heap.csv"
for mode in stw concurrent; do
  $G run --collector cmark --allocator segment --workload gcbench --threads 2 --scale "$S" \
    --heap-factor 2 --opt cmark.mode=$mode --repeat "$R" \
    --events "$P-mmu-$mode.events.csv" --out "$P-mmu-$mode.csv"
  /usr/bin/python3 results/plot.py --kind mmu --out "results/issue9-mmu-$mode.svg" \
    "$P-mmu-$mode.events.csv"
done
