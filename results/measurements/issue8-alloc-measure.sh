#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# results/measurements/issue8-alloc-measure.sh — branch i8-alloc's before/after evidence for
# issue 8's allocator goals, with the runners called directly (no harness):
#  1. callgrind instruction counts (Ir) of rc-plain x segment and rc-plain x mimalloc on
#     binary-trees and churn, 1 thread, divided by objects_allocated (each object is one
#     allocation and one free): instructions per object, deterministic, load-independent;
#  2. the runner's own figures over REPEAT alternating runs per cell (segment and mimalloc
#     interleaved): median wall_s and cpu_s, and the page faults and system time taken from
#     /usr/bin/time (minflt counts pages touched for the first time or after a madvise).
#
#   usage: issue8-alloc-measure.sh BUILD_DIR [REPEAT]     prints a plain-text report
# Sizes are the issue-8 goal script's (SCALE 0.6): --scale 0.024, binary-trees depth 18.
# Timings on the shared 2-vCPU machine are inflated and noisy: read the ratios, not seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."
b=${1:?usage: issue8-alloc-measure.sh BUILD_DIR [REPEAT]}
R=${2:-5}
args() { case $1 in binary-trees) echo "--workload binary-trees --scale 0.024 --param depth=18" ;;
                    churn) echo "--workload churn --scale 0.024" ;; esac; }
field() { tr ' ' '\n' | sed -n "s/^$1=//p" | head -1; }
echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD) load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "## callgrind (1 thread): Ir total / objects_allocated"
for w in binary-trees churn; do
  for a in segment mimalloc; do
    r=$b/runners/gclab-run-rc-plain-$a
    o=(); [ $a = mimalloc ] && o=(--opt mimalloc.arena=1g) # no 64 GiB reserve under valgrind
    out=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$r" $(args $w) "${o[@]}" --sample-ms 0 --record-fd 3 3>&1 1>/dev/null 2>/tmp/i8a-cg.$$ || true)
    ir=$(sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' /tmp/i8a-cg.$$)
    n=$(echo "$out" | field objects_allocated)
    echo "rc-plain $a $w: Ir=$ir objects=$n Ir/object=$(python3 -c "print(round($ir/$n,1))")"
  done
done
rm -f /tmp/i8a-cg.$$
echo "## direct runs, $R alternating repetitions per cell: medians"
for c in rc-plain rc; do
  for w in binary-trees churn; do
    for t in 1 2; do
      [ $c = rc-plain ] && [ $t = 2 ] && continue # rc-plain is single-threaded
      declare -A wall=() cpu=() sys=() flt=()
      for i in $(seq "$R"); do
        for a in segment mimalloc; do
          rec=$(/usr/bin/time -f "TIME sys=%S minflt=%R" "$b/runners/gclab-run-$c-$a" $(args $w) --threads $t --record-fd 1 2>&1)
          wall[$a]+="$(echo "$rec" | field wall_s) "; cpu[$a]+="$(echo "$rec" | field cpu_s) "
          sys[$a]+="$(echo "$rec" | grep TIME | field sys) "; flt[$a]+="$(echo "$rec" | grep TIME | field minflt) "
        done
      done
      for a in segment mimalloc; do
        echo "$c $a $w t$t: wall ${wall[$a]}| cpu ${cpu[$a]}| sys ${sys[$a]}| minflt ${flt[$a]}" |
          python3 -c "
import sys,statistics as s
l=sys.stdin.read().strip(); head,rest=l.split(': ',1)
parts=[p.split() for p in rest.split('|')]
names=['wall','cpu','sys','minflt']
print(head+': '+'  '.join('%s %.4g'%(n,s.median(map(float,p[1:]))) for n,p in zip(names,parts)))"
      done
      unset wall cpu sys flt
    done
  done
done
echo "# end $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
