#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# results/measurements/quiet-goals.sh — the goal tables of issues 8, 9 and 13 retaken in one
# sitting on the machine with nothing else running (after the merges of 2026-12-01), every
# comparison side by side in one shuffled `gclab run`. Writes results/measurements/quiet-*.
# Needs a Release build in build/ (scripts/build.sh build). Takes ~20 min on 2 vCPUs. A
# step whose CSV exists is skipped (rerun after a failure).
set -euo pipefail
cd "$(dirname "$0")/../.."
G=build/gclab
out=results/measurements
mi=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2
uptime
# Issue 13: rc-plain against the plain-C twins on the same allocator (mimalloc, preloaded
# so binary-trees-malloc and churn-malloc use it too), binary-trees depth 18.
[ -e $out/quiet-issue13-core.csv ] || LD_PRELOAD=$mi $G run --collector rc-plain --allocator mimalloc \
  --workload binary-trees,binary-trees-malloc,churn,churn-malloc --param depth=18 \
  --scale 0.3 --repeat 7 --shuffle=31 --out $out/quiet-issue13-core.csv
# Issues 13 and 8 for brc: brc, rc-plain, rc-gen x segment, mimalloc, 1 and 2 threads.
[ -e $out/quiet-issue13-brc.csv ] || REPEAT=5 results/measurements/issue13-brc.sh build $out/quiet-issue13-brc.csv
# Issue 13: pyheap full collections per tracked object, gclab then CPython, twice.
for i in 1 2; do
  $G run --collector rc-gen --allocator segment --workload pyheap --param snapshot=0,1 \
    --param churn=0 --param rounds=9 --repeat 1 --seed $i --out $out/quiet-issue13-pyheap-$i.csv
  (cd workloads/pyheap &&
   PYTHONHASHSEED=0 python3 cpython-gc-time.py --run snapshots/stdlib-tour.py &&
   PYTHONHASHSEED=0 python3 cpython-gc-time.py --run snapshots/ast-parents.py \
     /usr/lib/python3.11/_pydecimal.py) >> $out/quiet-issue13-cpython.txt
done
# Issue 8: the goal tables (weak scaling, pool under the GIL, PEP 703, segment vs mimalloc,
# handoff, rc-plain vs the plain-C loop).
SCALE=0.6 REPEAT=5 results/measurements/issue8-goals.sh build $out/quiet-issue8
# Issue 9: cmark stw vs concurrent on gcbench at heap factor 2 and 3 (of the minimum heap
# of cmark stw, measured first); lru metered latency.
$G minheap --collector cmark --allocator segment --workload gcbench --threads 2,8 --scale 0.1
$G run --collector cmark --allocator segment --workload gcbench --threads 2,8 --scale 0.1 \
  --heap-factor 2,3 --opt cmark.mode=stw,concurrent --repeat 3 --shuffle=9 \
  --out $out/quiet-issue9-gcbench.csv
$G run --collector cmark,rc-gen,brc --allocator segment --workload lru --threads 2 \
  --opt cmark.mode=stw,concurrent --repeat 3 --shuffle=9 --out $out/quiet-issue9-lru.csv
uptime
