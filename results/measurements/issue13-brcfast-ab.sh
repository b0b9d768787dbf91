#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# results/measurements/issue13-brcfast-ab.sh BEFORE_DIR AFTER_DIR [N] — brc before and after
# branch i13-brcfast, and rc-plain and rc-gen after, alternated N times (default 7) on the
# runners called directly (x segment, 1 thread, --scale 0.04, binary-trees --param
# depth=18, churn, pyheap --param rounds=100): one line per run, `workload build collector
# cpu_s wall_s`. The runners of one round run back to back, so the machine's load at a
# moment weighs on all of them alike; compare medians of cpu_s.
set -euo pipefail
b=${1:?usage: issue13-brcfast-ab.sh BEFORE_DIR AFTER_DIR [N]}
a=${2:?usage: issue13-brcfast-ab.sh BEFORE_DIR AFTER_DIR [N]}
n=${3:-7}
one() { # label dir collector workload params...
  local label=$1 dir=$2 c=$3 w=$4
  shift 4
  "$dir/gclab-run-$c-segment" --workload "$w" --threads 1 --scale 0.04 "$@" --sample-ms 0 2>/dev/null |
    awk -v w="$w" -v l="$label" -v c="$c" -F= '/^cpu_s=/ {cpu=$2} /^wall_s=/ {wall=$2} END {print w, l, c, cpu, wall}'
}
for ((i = 0; i < n; i++)); do
  for w in binary-trees churn pyheap; do
    p=()
    [ "$w" = binary-trees ] && p=(--param depth=18)
    [ "$w" = pyheap ] && p=(--param rounds=100)
    one before "$b" brc "$w" "${p[@]}"
    one after "$a" brc "$w" "${p[@]}"
    one after "$a" rc-plain "$w" "${p[@]}"
    one after "$a" rc-gen "$w" "${p[@]}"
  done
done
