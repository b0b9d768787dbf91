#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# results/measurements/issue13-brc.sh — brc's goals of issues 13 and 8 in one shuffled
# `gclab run`: brc, rc-plain and rc-gen on segment and mimalloc, binary-trees, churn, cycles,
# pyheap and the plain-C loop binary-trees-malloc, at 1 and 2 threads (rc-plain's 2-thread
# cells are invalid by design). issue13-brc-summary.py CSV prints the goals from it:
#   issue 13: brc / rc-plain at 1 thread (binary-trees, churn) <= 1.25; brc / rc-gen on every
#             workload <= 1.0 (median wall_s, same allocator);
#   issue 8:  brc's 2-thread / 1-thread wall ratio <= 1.10 x binary-trees-malloc's on
#             mimalloc in the same run (thread-private binary-trees, churn, cycles);
# with the collections, gc_s, pause_total_s and ttsp p99 behind each 2-thread ratio.
#
#   usage: issue13-brc.sh BUILD_DIR OUT.csv        (the CSV must not exist: nothing measured
#                                                   before is appended to or overwritten)
#   environment: REPEAT (default 5), SCALE (default 0.04, the issue-8 goal size: binary-trees
#                at depth 18 is ~0.25 s a thread on an idle machine), SEED (shuffle, 13)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 2 ] || { echo "usage: issue13-brc.sh BUILD_DIR OUT.csv" >&2; exit 2; }
build=$1
out=$2
[ -x "$build/gclab" ] || { echo "issue13-brc.sh: no gclab in '$build' (build it first: scripts/build.sh $build)" >&2; exit 2; }
[ -e "$out" ] && { echo "issue13-brc.sh: $out exists; choose another name" >&2; exit 2; }
"$build/gclab" run --collector brc,rc-plain,rc-gen --allocator segment,mimalloc \
  --workload binary-trees,churn,cycles,pyheap,binary-trees-malloc --threads 1,2 \
  --scale "${SCALE:-0.04}" --param depth=18 --param pyheap.rounds=100 \
  --repeat "${REPEAT:-5}" --shuffle="${SEED:-13}" --timeout 120 --out "$out"
