#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# results/measurements/issue13-callgrind.sh RUNNER_DIR [DEPTHS] [WORKLOADS] — instruction
# counts (valgrind callgrind, total Ir of the whole process) of the rc-plain x mimalloc
# runner on each gclab workload and its plain-C twin, every run under
# LD_PRELOAD=libmimalloc so the twin's malloc/free is mimalloc as well. Prints one line per
# run: workload, depth, Ir, and Ir / twin's Ir. Instruction counts do not depend on the
# machine's load, so these are repeatable where wall times are not.
# Invariant: each pair (W, W-malloc) runs with the same --param and scale.
# The arena option: mimalloc cannot reserve its default 64 GiB under valgrind. The memory
# sampler is off (--sample-ms 0): its thread reads /proc every 10 ms of wall time, which
# under valgrind and a loaded machine adds a varying few % of instructions.
# Environment: MIMALLOC (path of libmimalloc.so), SCALE (default 1), TWIN_DIR (where the
# runner that runs the plain-C twin is, default RUNNER_DIR: a runner older than the twin,
# churn-malloc, cannot run it; the twin does not use gclab, so another build's is the
# same program).
set -euo pipefail
dir=${1:?usage: issue13-callgrind.sh RUNNER_DIR [DEPTHS] [PAIRS]}
depths=${2:-"16 17 18"}
pairs=${3:-"binary-trees:binary-trees-malloc"}
mi=${MIMALLOC:-/usr/lib/x86_64-linux-gnu/libmimalloc.so}
scale=${SCALE:-1}
runner="$dir/gclab-run-rc-plain-mimalloc"
twin_runner="${TWIN_DIR:-$dir}/gclab-run-rc-plain-mimalloc"
ir() { # runner, workload, params... -> total Ir
  local out r=$1
  shift
  out=$(LD_PRELOAD="$mi" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
          "$r" --workload "$@" --scale "$scale" --opt mimalloc.arena=1g --sample-ms 0 2>&1 >/dev/null | grep -o 'Collected : [0-9]*' | grep -o '[0-9]*')
  echo "$out"
}
for pair in $pairs; do
  w=${pair%%:*} twin=${pair##*:}
  for d in $depths; do
    if [ "$w" = binary-trees ]; then p=(--param "depth=$d"); label="depth=$d"; else p=(); label="default"; fi
    a=$(ir "$runner" "$w" "${p[@]}")
    b=$(ir "$twin_runner" "$twin" "${p[@]}")
    awk -v w="$w" -v t="$twin" -v l="$label" -v a="$a" -v b="$b" -v s="$scale" \
      'BEGIN { printf "%-14s %-10s scale=%s  gclab Ir %13.0f  plain-C Ir %13.0f  ratio %.3f\n", w, l, s, a, b, a / b }'
    [ "$w" = binary-trees ] || break
  done
done
