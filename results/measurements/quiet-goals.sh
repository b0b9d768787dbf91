#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# results/measurements/quiet-goals.sh — the goal tables of issues 8, 9 and 13 retaken in one
# sitting on the machine with nothing else running (after the merges of 2026-12-01), every
# comparison side by side in one shuffled `gclab run`. Writes results/measurements/$PREFIX-*
# (PREFIX default quiet; the second sitting of 2026-12-01 used quiet2). STEPS (default
# "13core 13brc 13pyheap 8 9"; also 8young, 8brcpar) chooses the steps. Needs a Release build in build/
# (scripts/build.sh build). Takes ~20 min on 2 vCPUs for every step. A step whose CSV
# exists is skipped (rerun after a failure).
set -euo pipefail
cd "$(dirname "$0")/../.."
G=build/gclab
out=results/measurements
mi=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2
P=${PREFIX:-quiet}
STEPS=" ${STEPS:-13core 13brc 13pyheap 8 9} "
step() { case $STEPS in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
uptime
# Issue 13: rc-plain against the plain-C twins on the same allocator (mimalloc, preloaded
# so binary-trees-malloc and churn-malloc use it too), binary-trees depth 18.
! step 13core || [ -e $out/$P-issue13-core.csv ] || LD_PRELOAD=$mi $G run --collector rc-plain --allocator mimalloc \
  --workload binary-trees,binary-trees-malloc,churn,churn-malloc --param depth=18 \
  --scale 0.3 --repeat 7 --shuffle=31 --out $out/$P-issue13-core.csv
# Issues 13 and 8 for brc: brc, rc-plain, rc-gen x segment, mimalloc, 1 and 2 threads.
! step 13brc || [ -e $out/$P-issue13-brc.csv ] || REPEAT=5 results/measurements/issue13-brc.sh build $out/$P-issue13-brc.csv
# Issue 13: pyheap full collections per tracked object, gclab then CPython, twice.
step 13pyheap && for i in 1 2; do
  $G run --collector rc-gen --allocator segment --workload pyheap --param snapshot=0,1 \
    --param churn=0 --param rounds=9 --repeat 1 --seed $i --out $out/$P-issue13-pyheap-$i.csv
  (cd workloads/pyheap &&
   PYTHONHASHSEED=0 python3 cpython-gc-time.py --run snapshots/stdlib-tour.py &&
   PYTHONHASHSEED=0 python3 cpython-gc-time.py --run snapshots/ast-parents.py \
     /usr/lib/python3.11/_pydecimal.py) >> $out/$P-issue13-cpython.txt
done
# Issue 8: the goal tables (weak scaling, pool under the GIL, PEP 703, segment vs mimalloc,
# handoff, rc-plain vs the plain-C loop).
! step 8 || SCALE=0.6 REPEAT=5 results/measurements/issue8-goals.sh build $out/$P-issue8
# Issue 8: rc-gen's young collections, global (CPython's: one stop each) vs thread (local
# heaps behind the escape barrier), beside rc and the plain-C loop, in one run.
! step 8young || [ -e $out/$P-issue8-rcgen-young.csv ] || $G run --collector rc-gen,rc \
  --allocator segment,mimalloc --workload binary-trees,churn,cycles,binary-trees-malloc \
  --threads 1,2 --scale 0.024 --param binary-trees.depth=18 --repeat 5 --shuffle=31 \
  --opt rc-gen.young=global,thread --out $out/$P-issue8-rcgen-young.csv
# Issue 8: brc's parallel stopped collection off and on (brc.parallel), side by side in one
# run (results/measurements/i8-brcpar-summary.py prints it).
! step 8brcpar || [ -e $out/$P-issue8-brcpar.csv ] || $G run --collector brc \
  --allocator segment,mimalloc --workload binary-trees,churn,cycles,binary-trees-malloc \
  --threads 1,2 --scale 0.024 --param depth=18 --opt brc.parallel=false,true --repeat 5 \
  --shuffle=8 --timeout 120 --out $out/$P-issue8-brcpar.csv
# Issue 9: issue9-goals.sh (minheap of cmark stw, gcbench at heap factor 2 and 3, lru's
# metered latency, the MMU plots).
! step 9 || results/measurements/issue9-goals.sh build $out/$P-issue9
uptime
