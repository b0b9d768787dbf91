#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# results/measurements/issue8-goals.sh — the goals of issue 8, measured side by side: one
# shuffled `gclab run` per table (every cell of a table in one run, so machine drift spreads
# over all of them), then issue8-summary.py --goals prints each goal with its measured
# ratio and met / not met.
#
#   usage: issue8-goals.sh [BUILD_DIR [OUT_PREFIX]]      (defaults: build, results/measurements/issue8-goals)
#   environment: REPEAT (default 5), SCALE (default 1: the sizes below; 0.2 for a quick
#                check that the script works end to end), SEED (shuffle seed, default 8)
#
# Tables (CSV OUT_PREFIX-NAME.csv; the script refuses to start if one exists, so nothing
# measured before is overwritten):
#   scaling   rc, brc, rc-gen x segment, mimalloc x binary-trees, churn, cycles and the
#             plain-C loop binary-trees-malloc, 1 and 2 threads. Goal: each 2/1 wall ratio
#             <= 1.10 x binary-trees-malloc's on mimalloc (in the mimalloc runners, whose
#             malloc is mimalloc) in the same run (rc and brc on both allocators, rc-gen on
#             segment; rc-gen x mimalloc is measured too, as the cross product has it).
#   gilpool   rc-gen, rc x pool under the GIL, same workloads and threads. Goal: 2/1 <= 2.1
#             (the serial bound: one thread runs at a time, each does the whole work).
#   pep703    rc-gen, brc x pool, mimalloc, segment x gil false, true x binary-trees, churn,
#             pyheap, 1 and 2 threads (the cross product: the PEP 703 cells are rc-gen x pool
#             x GIL, CPython's default build with threads, and brc x mimalloc / segment
#             without it, 3.13t). Reported, no goal.
#   segmi     rc-plain, rc x segment, mimalloc x binary-trees, churn, 1 and 2 threads.
#             Goal: segment / mimalloc median wall <= 1.0 and peak RSS (max_rss_kb) <= 1.2.
#   handoff   rc, brc x segment, mimalloc, pool x handoff (cross-thread frees), 2 and 4
#             threads. Reported: wall relative to mimalloc.
#   preload   the whole run under LD_PRELOAD=libmimalloc (malloc_env records it, malloc_lib
#             names the library): rc-plain x segment, mimalloc, pool, sys x binary-trees and
#             binary-trees-malloc, 1 thread. Reported: rc-plain on the fastest gclab
#             allocator / binary-trees-malloc with mimalloc.
#
# Sizes (SCALE 1) are chosen so the whole script takes roughly 10-15 minutes on an idle
# 2-core machine (each 1-thread cell 0.2-0.5 s); a loaded machine takes longer and its
# ratios mean little: run it when the machine is quiet.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
prefix=${2:-results/measurements/issue8-goals}
REPEAT=${REPEAT:-5}
SCALE=${SCALE:-1}
SEED=${SEED:-8}
G="$build/gclab"
[ -x "$G" ] || { echo "issue8-goals.sh: no gclab in '$build' (build it first: scripts/build.sh $build)" >&2; exit 2; }
mimalloc=$(ls /usr/lib/*/libmimalloc.so.2 2>/dev/null | head -1 || true)
[ -n "$mimalloc" ] || { echo "issue8-goals.sh: libmimalloc.so.2 not found (apt-get install libmimalloc2.0)" >&2; exit 2; }
for t in scaling gilpool pep703 segmi handoff preload; do
  [ -e "$prefix-$t.csv" ] && { echo "issue8-goals.sh: $prefix-$t.csv exists; choose another OUT_PREFIX" >&2; exit 2; }
done

# Work sizes at SCALE 1: --scale 0.04 (binary-trees at depth 18: about 0.2 s a thread on rc;
# churn 180k steps, cycles 36k rounds; pyheap 4 rounds), handoff at --scale 0.05. The smoke
# run REPEAT=1 at --scale 0.01 (1/20 of the default work in all) took 102 s at load average 8 on
# the 2-vCPU machine, so the default is estimated at 10-15 min idle; lower SCALE if needed.
s() { python3 -c "print(max(0.0001, $1 * $SCALE))"; }
common=(--repeat "$REPEAT" --shuffle="$SEED" --timeout 120)
bt=(--param depth=18) # binary-trees and binary-trees-malloc, where selected
start=$(date +%s)
run() { # run TABLE ARGS...: one gclab run, its summary to OUT_PREFIX-TABLE.txt
  local t=$1
  shift
  echo "== $t: gclab run $*" >&2
  "$@" --out "$prefix-$t.csv" >"$prefix-$t.txt" 2>"$prefix-$t.err" ||
    echo "issue8-goals.sh: $t: gclab run exit $? (see $prefix-$t.err)" >&2
  echo "   $(($(date +%s) - start)) s so far" >&2
}

run scaling "$G" run --collector rc,brc,rc-gen --allocator segment,mimalloc \
  --workload binary-trees,churn,cycles,binary-trees-malloc --threads 1,2 --scale "$(s 0.04)" \
  "${bt[@]}" "${common[@]}"
run gilpool "$G" run --collector rc-gen,rc --allocator pool --gil true \
  --workload binary-trees,churn,cycles --threads 1,2 --scale "$(s 0.04)" "${bt[@]}" "${common[@]}"
run pep703 "$G" run --collector rc-gen,brc --allocator pool,mimalloc,segment --gil false,true \
  --workload binary-trees,churn,pyheap --threads 1,2 --scale "$(s 0.04)" --param pyheap.rounds=100 \
  "${bt[@]}" "${common[@]}"
run segmi "$G" run --collector rc-plain,rc --allocator segment,mimalloc --workload binary-trees,churn \
  --threads 1,2 --scale "$(s 0.04)" "${bt[@]}" "${common[@]}"
run handoff "$G" run --collector rc,brc --allocator segment,mimalloc,pool --workload handoff \
  --threads 2,4 --scale "$(s 0.05)" "${common[@]}"
run preload env LD_PRELOAD="$mimalloc" "$G" run --collector rc-plain --allocator segment,mimalloc,pool,sys \
  --workload binary-trees,binary-trees-malloc --threads 1 --scale "$(s 0.04)" "${bt[@]}" "${common[@]}"

echo "total $(($(date +%s) - start)) s; load average now $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 results/measurements/issue8-summary.py --goals "$prefix"
