#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/analysis/lbo-test.sh GCLAB DIR — `gclab lbo` on DIR/lbo-sample.csv, every format.
# The expected numbers were computed by hand (3 repetitions per cell, schema 5):
#   cell                 wall_s            mutator_s (gc_s)   cpu_s             leaked freed cyclic
#   binary-trees rc      1.00 1.02 1.04    -                  1.10 1.12 1.14    0      100   -
#   binary-trees rc-gen  1.20 1.22 1.24    0.90 0.92 0.94     1.30 1.32 1.34    0      100   -
#   binary-trees none    1.10 1.12 1.14    = wall_s (gc_s 0)  1.00 1.02 1.04    100    0     -
#   cycles rc            0.50 0.51 0.52    -                  = wall_s          40     60    40  (leaks)
#   cycles rc-gen        0.80 0.81 0.82    0.60 0.61 0.62     = wall_s          0      100   40
#   cycles none          0.70 0.71 0.72    = wall_s           = wall_s          100    0     40
#   churn rc             2.0 2.1 2.2       -                  = wall_s          0      100   -
#   churn none           3 rows of status oom
# Wall baseline = least distilled median: binary-trees min(rc 1.02, rc-gen 0.92, none 1.12)
# = 0.92 (rc-gen), so LBO rc 1.02/0.92 = 1.109, rc-gen 1.22/0.92 = 1.326, none 1.12/0.92 =
# 1.217; cycles: rc leaks (0.51 would be lower) so min(rc-gen 0.61, none 0.71) = 0.61, LBO
# rc 0.51/0.61 = 0.836, rc-gen 0.81/0.61 = 1.328, none 0.71/0.61 = 1.164; churn: rc alone,
# 1.000. CPU (never distilled): binary-trees min(1.12, 1.32, 1.02) = 1.02 (none): rc 1.098,
# rc-gen 1.294, none 1.000; cycles min(rc-gen 0.81, none 0.71) = 0.71: rc 0.718, rc-gen
# 1.141. Intervals: with n = 3 a resample's median is a sample's min (or max) with
# probability 7/27 = 0.26, so a ratio takes its extreme values with probability >= 0.26^2 =
# 0.067 > 0.025: the 95% interval is [min cost / max baseline, max cost / min baseline]
# whenever the same cell sets the bound in every resample (true here: the candidates' ranges
# do not overlap). E.g. binary-trees rc: [1.00/0.94, 1.04/0.90] = [1.064, 1.156]; a cell
# that sets its own undistilled bound is 1 in every resample: [1.000, 1.000].
set -u
G=$1
D=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
checks=0
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}
run() {
  "$G" "$@" >"$T/out" 2>"$T/err"
  rc=$?
  checks=$((checks + 1))
}
expect_rc() { [ "$rc" -eq "$1" ] || fail "$2: exit $rc, expected $1; stderr: $(head -c 400 "$T/err")"; }
expect_out() { grep -Eq -- "$1" "$T/out" || fail "$2: stdout has no line matching /$1/"; }
md_row() {
  local re='^\|'
  for c in "$@"; do re="$re *$c *\|"; done
  printf '%s$' "$re"
}
expect_bad() { # WHAT ERE ARGS...
  local what=$1 pat=$2
  shift 2
  run "$@"
  [ "$rc" -eq 2 ] || fail "$what: exit $rc, expected 2"
  [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$what: stderr has $(wc -l <"$T/err") lines, expected 1: $(cat "$T/err")"
  grep -Eq -- "$pat" "$T/err" || fail "$what: stderr '$(cat "$T/err")' does not match /$pat/"
  [ ! -s "$T/out" ] || fail "$what: wrote to stdout"
}
S=$D/lbo-sample.csv

# --- text (default): wall then cpu --------------------------------------------------------
run lbo "$S"
expect_rc 0 "lbo text"
expect_out '^wall_s: lower-bound overhead' "text wall heading"
expect_out '^cpu_s: lower-bound overhead .*not distilled' "text cpu heading says undistilled"
expect_out '^binary-trees +1 +rc +sys +3 +1\.020 +1\.020 +0\.9200 +1\.109 \[1\.064, 1\.156\] +undistilled$' "text bt rc"
expect_out '^binary-trees +1 +rc-gen +sys +3 +1\.220 +0\.9200 +0\.9200 +1\.326 \[1\.277, 1\.378\] +bound$' "text bt rc-gen sets the bound"
expect_out '^binary-trees +1 +none +sys +3 +1\.120 +1\.120 +0\.9200 +1\.217 \[1\.170, 1\.267\] +no GC$' "text bt none"
expect_out '^cycles +1 +rc +sys +3 +0\.5100 +0\.5100 +0\.6100 +0\.836 \[0\.806, 0\.867\] +leaks, undistilled$' "text leaking rc is marked and not the bound"
expect_out '^cycles +1 +rc-gen +sys +3 +0\.8100 +0\.6100 +0\.6100 +1\.328 \[1\.290, 1\.367\] +bound$' "text cycles bound"
expect_out '^cycles +1 +none +sys +3 +0\.7100 +0\.7100 +0\.6100 +1\.164 \[1\.129, 1\.200\] +no GC$' "text cycles none"
expect_out '^churn +1 +rc +sys +3 +2\.100 +2\.100 +2\.100 +1\.000 \[1\.000, 1\.000\] +bound, undistilled$' "text churn rc alone"
expect_out '^churn +1 +none +sys +0 +- +- +2\.100 +n/a +3 oom$' "text oom cell"
expect_out '^binary-trees +1 +none +sys +3 +1\.020 +1\.020 +1\.020 +1\.000 \[1\.000, 1\.000\] +bound, no GC$' "text cpu none sets the bound"
expect_out '^binary-trees +1 +rc +sys +3 +1\.120 +1\.120 +1\.020 +1\.098 \[1\.058, 1\.140\]$' "text cpu rc"
expect_out '^binary-trees +1 +rc-gen +sys +3 +1\.320 +1\.320 +1\.020 +1\.294 ' "text cpu rc-gen"
expect_out '^cycles +1 +rc +sys +3 +0\.5100 +0\.5100 +0\.7100 +0\.718 .*leaks$' "text cpu leaking rc"
expect_out '^cycles +1 +rc-gen +sys +3 +0\.8100 +0\.8100 +0\.7100 +1\.141 ' "text cpu cycles rc-gen"
cp "$T/out" "$T/text1"
run lbo "$S"
cmp -s "$T/out" "$T/text1" || fail "lbo output differs between two runs"

# --- markdown ------------------------------------------------------------------------------
run lbo "$S" --format markdown
expect_rc 0 "lbo markdown"
expect_out "$(md_row workload threads collector allocator n wall_s distilled baseline 'LBO \[95% CI\]' note)" "md header"
expect_out "$(md_row cycles 1 rc sys 3 '0\.5100' '0\.5100' '0\.6100' '0\.836 \[0\.806, 0\.867\]' 'leaks, undistilled')" "md leaking row"
expect_out "$(md_row binary-trees 1 rc-gen sys 3 '1\.220' '0\.9200' '0\.9200' '1\.326 \[1\.277, 1\.378\]' bound)" "md bound row"
[ "$(grep -c '^| --' "$T/out")" -eq 2 ] || fail "md: expected two tables (wall, cpu)"

# --- LaTeX ---------------------------------------------------------------------------------
run lbo "$S" --format latex
expect_rc 0 "lbo latex"
[ "$(grep -c '^\\begin{tabular}{llllrrrrrl}$' "$T/out")" -eq 2 ] || fail "latex: two tabulars"
[ "$(grep -c '^\\end{tabular}$' "$T/out")" -eq 2 ] || fail "latex: two ends"
expect_out '^workload & threads & collector & allocator & n & wall\\_s & distilled & baseline & LBO \[95\\% CI\] & note \\\\$' "latex header escaped"
expect_out '^cycles & 1 & rc & sys & 3 & 0\.5100 & 0\.5100 & 0\.6100 & 0\.836 \[0\.806, 0\.867\] & leaks, undistilled \\\\$' "latex leaking row"
expect_out '^churn & 1 & none & sys & 0 & -- & -- & 2\.100 & -- & 3 oom \\\\$' "latex oom row"

# --- JSON: parsed, every number checked -----------------------------------------------------
run lbo "$S" --format json
expect_rc 0 "lbo json"
cat >"$T/check.py" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
want = {  # measure -> (workload, collector) -> (lbo, lo, hi, sets_bound, leaks, no_gc)
    "wall": {("binary-trees", "rc"): (1.02 / 0.92, 1.00 / 0.94, 1.04 / 0.90, False, False, False),
             ("binary-trees", "rc-gen"): (1.22 / 0.92, 1.20 / 0.94, 1.24 / 0.90, True, False, False),
             ("binary-trees", "none"): (1.12 / 0.92, 1.10 / 0.94, 1.14 / 0.90, False, False, True),
             ("cycles", "rc"): (0.51 / 0.61, 0.50 / 0.62, 0.52 / 0.60, False, True, False),
             ("cycles", "rc-gen"): (0.81 / 0.61, 0.80 / 0.62, 0.82 / 0.60, True, False, False),
             ("cycles", "none"): (0.71 / 0.61, 0.70 / 0.62, 0.72 / 0.60, False, False, True),
             ("churn", "rc"): (1.0, 1.0, 1.0, True, False, False)},
    "cpu": {("binary-trees", "rc"): (1.12 / 1.02, 1.10 / 1.04, 1.14 / 1.00, False, False, False),
            ("binary-trees", "none"): (1.0, 1.0, 1.0, True, False, True),
            ("cycles", "rc-gen"): (0.81 / 0.71, 0.80 / 0.72, 0.82 / 0.70, False, False, False),
            ("cycles", "none"): (1.0, 1.0, 1.0, True, False, True)},
}
seen = 0
for m in d["measures"]:
    for g in m["groups"]:
        for c in g["cells"]:
            k = (g["workload"], c["collector"])
            if k == ("churn", "none"):
                assert c["n"] == 0 and c["oom"] == 3 and "lbo" not in c, c
                continue
            w = want[m["measure"]].get(k)
            if not w:
                continue
            seen += 1
            for key, v in zip(("lbo", "ci_low", "ci_high"), w[:3]):
                assert abs(c[key] - v) < 1e-6, (m["measure"], k, key, c[key], v)
            assert (c["sets_bound"], c["leaks"], c["no_gc"]) == w[3:], (m["measure"], k, c)
assert seen == 11, seen
assert d["measures"][0]["distilled"] == "mutator_s" and d["measures"][1]["distilled"] is None
PY
python3 "$T/check.py" "$T/out" 2>"$T/pyerr" || fail "lbo json: $(tail -1 "$T/pyerr")"

# --- --per-allocator: a pool cell gets its own baseline -------------------------------------
awk -F, -v OFS=, 'NR == 1 || $5 == "binary-trees" { print }
  $3 == "none" && $5 == "binary-trees" { $4 = "pool"; $15 = sprintf("%.2f", $15 + 0.2); $17 = $15; print }' "$S" >"$T/pool.csv"
run lbo "$T/pool.csv" --per-allocator
expect_rc 0 "lbo --per-allocator"
expect_out '^binary-trees +1 +none +pool +3 +1\.320 +1\.320 +1\.320 +1\.000 \[1\.000, 1\.000\] +bound, no GC$' "per-allocator: pool's own bound"
run lbo "$T/pool.csv"
expect_out '^binary-trees +1 +none +pool +3 +1\.320 +1\.320 +0\.9200 +1\.435 ' "one bound over every pair by default"

# --- bad input -----------------------------------------------------------------------------
expect_bad "lbo without a file" '^usage: gclab lbo' lbo
expect_bad "lbo bad format" "bad --format 'html': expected text, markdown, json or latex" lbo "$S" --format html
expect_bad "lbo unknown option" "unknown option '--metric'" lbo "$S" --metric wall_s
expect_bad "lbo two files" "unexpected argument" lbo "$S" "$S"
expect_bad "lbo wrong schema" 'bad-schema\.csv:5' lbo "$D/bad-schema.csv"
expect_bad "lbo truncated" 'bad-truncated\.csv:23' lbo "$D/bad-truncated.csv"
expect_bad "lbo malformed number" "bad-number\.csv:9: column wall_s: '0\.6x' is not a number" lbo "$D/bad-number.csv"
cut -d, -f1-16,18- "$S" >"$T/nomut.csv"
expect_bad "lbo without mutator_s" "column 'mutator_s'" lbo "$T/nomut.csv"
run lbo --help
expect_rc 0 "lbo --help"
expect_out '^usage: gclab lbo' "lbo --help usage"
expect_out 'Cai, Blackburn, Bond, Maas' "lbo --help cites the method"

echo "$checks commands run, $fails failures"
[ "$fails" -eq 0 ]
