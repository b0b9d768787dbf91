#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# results/false-alarm.sh — measure how often `gclab compare` calls an unchanged build
# slower (false alarms) and how often it catches a deliberate slowdown (detection), on the
# CI matrix results/baselines/ci.yaml and this machine. Results: results/README.md,
# "False alarms and detection".
#
#   results/false-alarm.sh BUILD_DIR OUT_DIR [ROUNDS [SLOW_ROUNDS]]
#                         collect (default 40 rounds; the two slowed runs only in the
#                         first SLOW_ROUNDS of them, default all), then analyse
#   results/false-alarm.sh --analyse BUILD_DIR OUT_DIR    analyse what OUT_DIR holds
#
# Collection, all from one unchanged build:
#   OUT_DIR/base.csv          one baseline: ci.yaml with --repeat 20 (its rep 0..4 rows are
#                             a 5-repetition baseline, what results/ci-regression.sh keeps)
#   OUT_DIR/f0/rNN.csv        round NN's run of ci.yaml, no slowdown (5 repetitions)
#   OUT_DIR/f10/rNN.csv       the same with --slowdown 0.10 (runner/README.md)
#   OUT_DIR/f25/rNN.csv       the same with --slowdown 0.25
# A round runs the three, in an order rotated from round to round, so that the load of the
# shared machine (slow drift, other people's builds) falls on the three conditions alike.
# Every run is compared with the one baseline: the comparisons of distinct runs share no
# NEW sample (independent given the baseline; the baseline itself is one draw, which is
# what a CI job that keeps one baseline file lives with too).
#
# Analysis (results/false-alarm.py): per condition, rule, threshold and repetition count,
# the fraction of cell comparisons called slower, with a Wilson 95% interval; larger
# repetition counts are made by pooling disjoint rounds (2 rounds = 10 repetitions), so
# their comparisons stay independent. It writes OUT_DIR/report.md.
#
# Invariants: nothing outside OUT_DIR is written; a round already present (its three CSVs)
# is skipped, so an interrupted collection resumes where it stopped (a cut-off CSV of the
# round that was running is removed and that run made again).
set -euo pipefail
cd "$(dirname "$0")/.."
analyse_only=0
if [ "${1:-}" = --analyse ]; then analyse_only=1; shift; fi
usage="usage: results/false-alarm.sh [--analyse] BUILD_DIR OUT_DIR [ROUNDS [SLOW_ROUNDS]]"
build=${1:?$usage}
out=${2:?$usage}
rounds=${3:-40}
slow_rounds=${4:-$rounds}
for v in "$rounds" "$slow_rounds"; do
  case $v in '' | *[!0-9]*) echo "false-alarm.sh: bad round count '$v' (a whole number)" >&2; exit 2 ;; esac
done
gclab=$build/gclab
[ -x "$gclab" ] || { echo "false-alarm.sh: no gclab in '$build'" >&2; exit 2; }
matrix=results/baselines/ci.yaml
mkdir -p "$out/f0" "$out/f10" "$out/f25"

# one_run CSV SLOWDOWN [EXTRA...]: one gclab run of the CI matrix into CSV, written through
# CSV.part so that a killed run leaves no partial file under the final name.
one_run() {
  local csv=$1 f=$2
  shift 2
  [ -s "$csv" ] && return 0
  rm -f "$csv.part"
  "$gclab" run --matrix "$matrix" --slowdown "$f" --out "$csv.part" "$@" >/dev/null 2>"$csv.err" ||
    { echo "false-alarm.sh: run for $csv failed:" >&2; tail -3 "$csv.err" >&2; exit 1; }
  mv "$csv.part" "$csv"
  rm -f "$csv.err"
}

if [ $analyse_only = 0 ]; then
  one_run "$out/base.csv" 0 --repeat 20
  conds=(f0:0 f10:0.10 f25:0.25)
  # Invariant: rounds 1..r-1 each have their three CSVs.
  for r in $(seq 1 "$rounds"); do
    rr=$(printf %02d "$r")
    for k in 0 1 2; do
      c=${conds[$(((k + r) % 3))]}
      [ "${c%%:*}" != f0 ] && [ "$r" -gt "$slow_rounds" ] && continue
      one_run "$out/${c%%:*}/r$rr.csv" "${c#*:}"
    done
    echo "false-alarm.sh: round $r of $rounds done ($(date -u +%H:%M:%S))"
  done
fi
python3 results/false-alarm.py "$gclab" "$out" | tee "$out/report.md"
