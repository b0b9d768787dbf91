#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# results/measurements/issue9-conc.sh — issue 9's goals for cmark's concurrent mode, each
# side by side with stw mode in one `gclab run` (the same cells, shuffled, interleaved):
#   1. gcbench's minimum heap (cmark stw, the reference of --heap-factor), 2 and 8 threads;
#   2. gcbench at heap factor 2 and 3, 2 and 8 mutators, cmark stw vs concurrent
#      (max pause, ttsp p99, wall time) -> issue9-conc-gcbench.csv;
#   3. lru's metered latency, cmark stw vs concurrent vs rc-gen vs brc, 2 threads
#      -> issue9-conc-lru.csv;
#   4. MMU curves of both modes (gcbench, 2 mutators, heap factor 2) from the events
#      files -> results/issue9-mmu-{stw,concurrent}.svg (plotlib --kind mmu groups by
#      pair, not by option, hence one run and one plot per mode).
# SCALE (default 0.1) and REPEAT (default 3) size it. Needs a Release build in build/.
set -euo pipefail
cd "$(dirname "$0")/../.."
G=build/gclab
S=${SCALE:-0.1}
R=${REPEAT:-3}
out=results/measurements
$G minheap --collector cmark --allocator segment --workload gcbench --threads 2,8 --scale "$S"
$G run --collector cmark --allocator segment --workload gcbench --threads 2,8 --scale "$S" \
  --heap-factor 2,3 --opt cmark.mode=stw,concurrent --repeat "$R" --shuffle=9 \
  --out "$out/issue9-conc-gcbench.csv"
$G run --collector cmark,rc-gen,brc --allocator segment --workload lru --threads 2 \
  --opt cmark.mode=stw,concurrent --repeat "$R" --shuffle=9 --out "$out/issue9-conc-lru.csv"
for mode in stw concurrent; do
  $G run --collector cmark --allocator segment --workload gcbench --threads 2 --scale "$S" \
    --heap-factor 2 --opt cmark.mode=$mode --repeat "$R" \
    --events "$out/issue9-conc-mmu-$mode.events.csv" --out "$out/issue9-conc-mmu-$mode.csv"
  /usr/bin/python3 results/plot.py --kind mmu --out "results/issue9-mmu-$mode.svg" \
    "$out/issue9-conc-mmu-$mode.events.csv"
done
