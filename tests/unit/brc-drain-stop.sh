#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/unit/brc-drain-stop.sh RUNNER — brc x segment, binary-trees at 2 threads, 24 runs.
# A thread releasing a whole tree stops for another thread's collection in the middle of
# the free (core/heap.c's drain polls every 256 frees), while brc marks from root frames.
# Before the frame rule (core/mutator.h: a framed local is cleared before its object is
# released) a frame could still name the tree's freed root, and runs crashed (SIGSEGV,
# SIGBUS; ASan: use-after-poison in brc's mark_one): 19 of 30 plain runs, and 3 of 4
# passes of 12 runs of this script; brc then did not poll in the drain until issue 8.
# Every run must exit 0 with a complete record.
R=$1
[ -x "$R" ] || { echo "FAIL: no runner $R"; exit 1; }
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
for seed in $(seq 1 24); do
  rc=0
  "$R" --workload binary-trees --threads 2 --scale 0.04 --param depth=18 --seed $seed \
    --record-fd 3 3>"$tmp/rec" >/dev/null 2>"$tmp/err" || rc=$?
  [ "$rc" -eq 0 ] || { echo "FAIL: seed $seed: exit $rc: $(head -c 400 "$tmp/err")"; exit 1; }
  grep -qx 'end' "$tmp/rec" || { echo "FAIL: seed $seed: record incomplete"; exit 1; }
  grep -qx 'status=ok' "$tmp/rec" || { echo "FAIL: seed $seed: $(grep '^status=' "$tmp/rec")"; exit 1; }
done
echo "24 runs ok"
