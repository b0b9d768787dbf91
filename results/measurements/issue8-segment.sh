#!/bin/sh
# results/measurements/issue8-segment.sh — the measurement behind allocators/segment/README.md
# "## Measured". It runs the runners directly (not `gclab run`): at the time of the
# measurement main's harness rejected every record key its schema did not list (the
# runner's new environment keys and the namespaced module figures), so every cell of
# `gclab run` ended as error:unknown record key. One CSV row per cell, cells in a shuffled
# order (shuf --random-source: repeatable), 3 repetitions, binary-trees at depth 16.
#   usage: results/measurements/issue8-segment.sh BUILD_DIR OUT.csv
set -eu
build=$1 out=$2
keys="wall_s cpu_s peak_heap_bytes segment.committed_peak_kb segment.fragmentation_peak segment.remote_frees segment.decommitted_kb segment.pages_peak"
cells=$(for rep in 0 1 2; do for t in 1 2; do
  for c in rc brc rc-gen; do for a in segment pool sys; do
    [ "$c-$a" = brc-sys ] && continue
    for w in binary-trees churn; do echo "$c $a $w $t $rep"; done
  done; done
  for a in segment sys; do echo "rc $a binary-trees-malloc $t $rep"; done
done; done | shuf --random-source=/dev/zero)
echo "collector,allocator,workload,threads,rep,status,$(echo $keys | tr ' ' ',')" > "$out"
echo "$cells" | while read -r c a w t rep; do
  p=""; case $w in binary-trees*) p="--param depth=16";; esac
  rec=$("$build/runners/gclab-run-$c-$a" --workload "$w" --threads "$t" --seed $((1 + rep)) $p 2>/dev/null || true)
  row="$c,$a,$w,$t,$rep,$(echo "$rec" | sed -n 's/^status=//p')"
  for k in $keys; do row="$row,$(echo "$rec" | sed -n "s/^$k=//p")"; done
  echo "$row" >> "$out"
done
