#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# results/measurements/issue13-fast-ab.sh BEFORE_RUNNER AFTER_RUNNER [PAIRS] — the two
# runners (e.g. build-before/ and build-after/gclab-run-rc-plain-mimalloc) alternated
# directly, PAIRS times (default 10) over binary-trees and binary-trees-malloc (depth 17,
# scale 0.5) and churn and churn-malloc (scale 0.1), every run under
# LD_PRELOAD=libmimalloc with the sampler off; prints "B|A workload user sys" per run
# (/usr/bin/time, 10 ms resolution). What issue13-fast-after.txt's "finer try" ran.
# Invariant: B and A of one workload run back to back, so a load change hits both.
set -euo pipefail
B=${1:?usage: issue13-fast-ab.sh BEFORE_RUNNER AFTER_RUNNER [PAIRS]}
A=${2:?usage: issue13-fast-ab.sh BEFORE_RUNNER AFTER_RUNNER [PAIRS]}
n=${3:-10}
export LD_PRELOAD=${MIMALLOC:-/usr/lib/x86_64-linux-gnu/libmimalloc.so}
t=$(mktemp)
trap 'rm -f "$t"' EXIT
for _ in $(seq 1 "$n"); do
  for w in "binary-trees --param depth=17 --scale 0.5" "binary-trees-malloc --param depth=17 --scale 0.5" \
           "churn --scale 0.1" "churn-malloc --scale 0.1"; do
    for r in B A; do
      # shellcheck disable=SC2086 # $w is a workload and its flags
      /usr/bin/time -o "$t" -f "%U %S" "${!r}" --workload $w --sample-ms 0 >/dev/null 2>&1
      echo "$r ${w%% *} $(tail -1 "$t")"
    done
  done
done
