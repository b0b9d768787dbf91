#!/bin/sh
# results/measurements/issue8-segment.sh — the measurements behind allocators/segment/README.md
# "## Measured". It runs the runners directly (not `gclab run`): at the time of the
# measurement main's harness rejected every record key its schema did not list (the
# runner's new environment keys and the namespaced module figures), so every cell of
# `gclab run` ended as error:unknown record key. One CSV row per cell (with the 1-minute
# load average before it: the machine is shared); the cells of all
# repetitions are shuffled (repeatably) so that machine load spreads over all of them.
# binary-trees and binary-trees-malloc run at depth 16; brc x sys is invalid and skipped;
# binary-trees-malloc (plain C, no gclab allocator) runs only in the rc runners listed.
#   usage: issue8-segment.sh BUILD_DIR OUT.csv REPS "COLLECTORS" "ALLOCATORS" "WORKLOADS"
#   e.g.   issue8-segment.sh build-seg out.csv 3 "rc brc rc-gen" "segment pool sys" "binary-trees churn"
set -eu
build=$1 out=$2 reps=$3 colls=$4 allocs=$5 works=$6
keys="wall_s cpu_s peak_heap_bytes segment.committed_peak_kb segment.fragmentation_peak segment.remote_frees segment.decommitted_kb pool.footprint_peak_kb"
cells=$(rep=0; while [ $rep -lt "$reps" ]; do for t in 1 2; do
  for c in $colls; do for a in $allocs; do for w in $works; do
    [ "$c-$a" = brc-sys ] && continue
    [ "$w" = binary-trees-malloc ] && [ "$c" != rc ] && continue
    echo "$c $a $w $t $rep"
  done; done; done
done; rep=$((rep + 1)); done | shuf --random-source=/dev/zero)
echo "collector,allocator,workload,threads,rep,loadavg_1m,status,$(echo $keys | tr ' ' ',')" > "$out"
echo "$cells" | while read -r c a w t rep; do
  p=""; case $w in binary-trees*) p="--param depth=16";; esac
  load=$(cut -d' ' -f1 /proc/loadavg) # other users of the machine, before the cell
  rec=$("$build/runners/gclab-run-$c-$a" --workload "$w" --threads "$t" --seed $((1 + rep)) $p 2>/dev/null || true)
  row="$c,$a,$w,$t,$rep,$load,$(echo "$rec" | sed -n 's/^status=//p')"
  for k in $keys; do row="$row,$(echo "$rec" | sed -n "s/^$k=//p")"; done
  echo "$row" >> "$out"
done
