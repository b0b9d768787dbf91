#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/analysis/cli-test.sh GCLAB DIR — end-to-end checks of `gclab summary|compare|table`
# on the hand-made CSVs in DIR. Expected numbers were computed by hand from sample.csv:
#   cell (workload, collector/allocator, threads)  wall_s values        median  CV
#   binary-trees rc/sys 1        0.98 0.99 1.00 1.01 1.02               1.000   1.6%
#   binary-trees rc/sys 2        0.59 0.60 0.61 0.62 0.63               0.6100  2.6%
#   binary-trees rc-plain/sys 1  0.89 0.90 0.91 0.92 0.93               0.9100  1.7%
#   binary-trees rc-plain/sys 2  0.50 0.55 0.60 0.65 0.70               0.6000  13.2% (noisy)
#   churn rc/pool 1              2.00 2.10 (+ 2 crashes, 1 timeout)     2.050   3.4% (n<3)
#   cycles gen/pool 1            1.48 1.49 1.50 1.51 1.52               1.500   1.1%
#   cycles gen/pool 2            0.78 0.79 0.80 0.81 0.82               0.8000  2.0%
# With n <= 5 the 95% percentile-bootstrap CI of the median is [min, max]: a resample's
# median is the minimum with probability >= 5.8% (n = 5: at least 3 of 5 draws hit it),
# above the 2.5% tail; so the CIs are known by hand too. max_rss_kb medians: 34000, 36100,
# 33050, 35200, 20050, 50000, 52000. sample-slow.csv has rc/sys 1 thread at 1.3x.
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
expect_rc() { # WANT WHAT
  [ "$rc" -eq "$1" ] || fail "$2: exit $rc, expected $1; stderr: $(head -c 400 "$T/err")"
}
expect_out() { # ERE WHAT
  grep -Eq -- "$1" "$T/out" || fail "$2: stdout has no line matching /$1/"
}
expect_no_out() { # ERE WHAT
  ! grep -Eq -- "$1" "$T/out" || fail "$2: stdout has a line matching /$1/"
}
# A Markdown table row made of the given cells (each an ERE), padding ignored.
md_row() {
  local re='^\|'
  for c in "$@"; do re="$re *$c *\|"; done
  printf '%s$' "$re"
}
# Bad input: exit 2, exactly one line on stderr matching ERE, nothing on stdout.
expect_bad() { # WHAT ERE ARGS...
  local what=$1 pat=$2
  shift 2
  run "$@"
  [ "$rc" -eq 2 ] || fail "$what: exit $rc, expected 2"
  [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$what: stderr has $(wc -l <"$T/err") lines, expected 1: $(cat "$T/err")"
  grep -Eq -- "$pat" "$T/err" || fail "$what: stderr '$(cat "$T/err")' does not match /$pat/"
  [ ! -s "$T/out" ] || fail "$what: wrote to stdout"
}

S=$D/sample.csv
SLOW=$D/sample-slow.csv
P='depth=12,stretch=1'

# --- summary -------------------------------------------------------------------------------
run summary "$S" --format markdown
expect_rc 0 "summary"
expect_out "$(md_row binary-trees $P 1 rc sys 1 5 0 '1\.000' '\[0\.980, 1\.020\]' '1\.6%' '')" "summary rc/sys 1"
expect_out "$(md_row binary-trees $P 1 rc sys 2 5 0 '0\.6100' '\[0\.5900, 0\.6300\]' '2\.6%' '')" "summary rc/sys 2"
expect_out "$(md_row binary-trees $P 1 rc-plain sys 1 5 0 '0\.9100' '\[0\.8900, 0\.9300\]' '1\.7%' '')" "summary rc-plain/sys 1"
expect_out "$(md_row binary-trees $P 1 rc-plain sys 2 5 0 '0\.6000' '\[0\.5000, 0\.7000\]' '13\.2%' 'noisy \(CV > 5%\)')" "summary noisy cell"
expect_out "$(md_row churn '' 1 rc pool 1 2 3 '2\.050' '\[2\.000, 2\.100\]' '3\.4%' 'n<3')" "summary cell with failed reps"
expect_out "$(md_row cycles '' 1 gen pool 1 5 0 '1\.500' '\[1\.480, 1\.520\]' '1\.1%' '')" "summary gen/pool 1"
expect_out "$(md_row cycles '' 1 gen pool 2 5 0 '0\.8000' '\[0\.7800, 0\.8200\]' '2\.0%' '')" "summary gen/pool 2"

run summary "$S" --metric wall_s,max_rss_kb
expect_rc 0 "summary two metrics"
expect_out '^max_rss_kb:$' "summary second metric heading"
for m in 34000 36100 33050 35200 20050 50000 52000; do
  expect_out "  $m  " "summary max_rss_kb median $m"
done
expect_out '^binary-trees +depth=12,stretch=1 +1 +rc +sys +1 +5 +0 +1\.000 +\[0\.980, 1\.020\] +1\.6%$' "summary text row"

# An empty field is "not measured": rc cells have no pauses, so no median at all.
run summary "$S" --metric pause_p99_us --format json
expect_rc 0 "summary of an unmeasured metric"
expect_out '"collector": "rc", "allocator": "sys", .*"threads": "1", .*"n": 0, "failed": 0, "invalid": 0, "noisy": false' "unmeasured metric has no median"
expect_out '"collector": "gen", .*"threads": "1", .*"n": 5, .*"median": 800,' "measured pause median"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" 2>/dev/null ||
  fail "summary --format json is not valid JSON"

# Reproducible: same bytes every time; row order and line ends do not matter.
run summary "$S" --metric wall_s,max_rss_kb --format json
cp "$T/out" "$T/json1"
run summary "$S" --metric wall_s,max_rss_kb --format json
cmp -s "$T/out" "$T/json1" || fail "summary JSON differs between two runs"
sed 's/$/\r/' "$S" >"$T/crlf.csv"
run summary "$S" --metric wall_s,max_rss_kb
cp "$T/out" "$T/text1"
run summary "$T/crlf.csv" --metric wall_s,max_rss_kb
cmp -s "$T/out" "$T/text1" || fail "summary differs on a CRLF copy"
# Rows reversed (csv module, so the quoted two-line field stays whole).
if python3 - "$S" "$T/reversed.csv" <<'EOF' 2>/dev/null; then
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
w = csv.writer(open(sys.argv[2], "w", newline=""), lineterminator="\n")
w.writerow(rows[0])
w.writerows(reversed(rows[1:]))
EOF
  run summary "$T/reversed.csv" --metric wall_s,max_rss_kb
  cmp -s "$T/out" "$T/text1" || fail "summary depends on row order"
fi

# --- compare -------------------------------------------------------------------------------
run compare "$S" "$S"
expect_rc 0 "compare a file with itself"
expect_out '^wall_s: 0 slower \(significant regression\), 0 faster, 7 no significant change, 0 n/a$' "compare self counts"
expect_no_out '  (slower|faster)(  |$)' "compare self verdicts"

run compare "$S" "$SLOW"
expect_rc 1 "compare against the slowed copy"
expect_out '^binary-trees +depth=12,stretch=1 +1 +rc +sys +1 +5 +5 +1\.000 +1\.300 +1\.300 +\[[0-9.]+, [0-9.]+\] +slower$' "slowed cell flagged slower"
expect_out '^wall_s: 1 slower \(significant regression\), 0 faster, 6 no significant change, 0 n/a$' "only one cell flagged"

run compare "$S" "$SLOW" --format json
expect_rc 1 "compare json"
[ "$(grep -c '"regression": true' "$T/out")" -eq 1 ] || fail "compare json: expected exactly one regression"
expect_out '"collector": "rc", "allocator": "sys", "workload": "binary-trees", "params": "depth=12,stretch=1", "threads": "1", .*"verdict": "slower", "regression": true' "compare json names the slowed cell"
expect_out '"regressions": 1}' "compare json count"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" 2>/dev/null ||
  fail "compare --format json is not valid JSON"

run compare "$S" "$SLOW" --format markdown
expect_rc 1 "compare markdown"
expect_out '\*\*slower\*\*' "compare markdown verdict"
# Worst cells first: the first row under the table's rule line is the slowed cell.
[ "$(grep -A1 '^| -' "$T/out" | sed -n 2p | grep -c 'rc  *| sys .*1\.300.*\*\*slower\*\*')" -eq 1 ] ||
  fail "compare markdown: the slowed cell is not the first row: $(grep -A1 '^| -' "$T/out" | head -3)"
expect_out '^### wall_s: regression$' "compare markdown headline"

# --rule median: slower when the ratio passes 1 + t and the interval is clear of 1.
run compare "$S" "$SLOW" --rule median --threshold 20%
expect_rc 1 "compare --rule median 20%"
expect_out '^wall_s: 1 slower' "rule median flags the 1.3x cell at 20%"
run compare "$S" "$SLOW" --rule median --threshold 40%
expect_rc 0 "compare --rule median 40%: 1.3 < 1.4"
run compare "$S" "$SLOW" --rule mean
expect_rc 2 "compare --rule mean"
grep -q "bad --rule 'mean': expected ci or median" "$T/err" || fail "bad --rule message: $(cat "$T/err")"

run compare "$SLOW" "$S"
expect_rc 0 "compare the other way round"
expect_out '^binary-trees +depth=12,stretch=1 +1 +rc +sys +1 +5 +5 +1\.300 +1\.000 +0\.769 +\[[0-9.]+, [0-9.]+\] +faster$' "reversed compare says faster"

run compare "$S" "$SLOW" --threshold 50%
expect_rc 0 "a 30% change within a 50% threshold"
run compare "$S" "$SLOW" --threshold 10
expect_rc 1 "a 30% change beyond a 10% threshold (no % sign)"
run compare "$S" "$S" --metric max_rss_kb
expect_rc 0 "compare a non-time metric"
expect_out '^max_rss_kb: 0 higher \(significant regression\), 0 lower, 7 no significant change' "non-time verdict words"

head -n -5 "$S" >"$T/fewer.csv" # drops cycles gen/pool 2 threads (the last 5 rows)
run compare "$S" "$T/fewer.csv"
expect_rc 0 "a cell only in BASE is not an error"
expect_out '^1 cell only in BASE:$' "cells only in BASE are listed"
expect_out '^cycles +1 +gen +pool +2$' "the missing cell is named"
run compare "$T/fewer.csv" "$S" --format json
expect_rc 0 "a cell only in NEW"
expect_out '"only_in_new": \[$' "json only_in_new"

run compare "$S" "$SLOW"
cp "$T/out" "$T/cmp1"
run compare "$S" "$SLOW"
cmp -s "$T/out" "$T/cmp1" || fail "compare output differs between two runs"

# --- table ---------------------------------------------------------------------------------
run table "$S"
expect_rc 0 "table"
expect_out "$(md_row workload params threads gen/pool rc/pool rc/sys rc-plain/sys)" "table header"
expect_out "$(md_row binary-trees $P 1 - - '1\.000 \[0\.980, 1\.020\]' '0\.9100 \[0\.8900, 0\.9300\]')" "table row 1"
expect_out "$(md_row binary-trees $P 2 - - '0\.6100 \[0\.5900, 0\.6300\]' '0\.6000 \[0\.5000, 0\.7000\] †')" "table row 2 with a noisy mark"
expect_out "$(md_row churn '' 1 - '2\.050 \[2\.000, 2\.100\] †' - -)" "table churn"
expect_out "$(md_row cycles '' 2 '0\.8000 \[0\.7800, 0\.8200\]' - - -)" "table cycles 2"

sed 's/,churn,/,churn_50%\&more,/' "$S" >"$T/special.csv"
run table "$T/special.csv" --latex --metric max_rss_kb
expect_rc 0 "table --latex"
expect_out '^\\begin\{tabular\}\{lllrrrr\}$' "latex tabular"
expect_out '^\\toprule$' "latex toprule"
expect_out '^\\midrule$' "latex midrule"
expect_out '^\\bottomrule$' "latex bottomrule"
expect_out '^workload & params & threads & gen/pool & rc/pool & rc/sys & rc-plain/sys \\\\$' "latex header"
expect_out '^churn\\_50\\%\\&more &  & 1 & -- & 20050 \[20000, 20100\]\$\^\\dagger\$ & -- & -- \\\\$' "latex escapes specials"
expect_out '^binary-trees & depth=12,stretch=1 & 1 & -- & -- & 34000 \[33900, 34100\] & 33050 \[32950, 33200\] \\\\$' "latex row"

# --- bad input: exit 2 with one line -------------------------------------------------------
tail -n +2 "$S" >"$T/noheader.csv"
expect_bad "wrong schema" 'bad-schema\.csv:5: schema_version is .2.' summary "$D/bad-schema.csv"
expect_bad "missing column" "bad-missing-column\.csv:1: .*column 'status'" summary "$D/bad-missing-column.csv"
expect_bad "truncated row" 'bad-truncated\.csv:23: row has 19 fields, the header has 52' summary "$D/bad-truncated.csv"
expect_bad "unterminated quote" 'bad-unterminated\.csv:37: unterminated quoted field' summary "$D/bad-unterminated.csv"
expect_bad "malformed number" "bad-number\.csv:9: column wall_s: '0\.6x' is not a number" summary "$D/bad-number.csv"
expect_bad "no header" 'noheader\.csv:1: no header row' summary "$T/noheader.csv"
expect_bad "missing file" "cannot read '.*/nonexistent\.csv'" summary "$T/nonexistent.csv"
expect_bad "summary without a file" '^usage: gclab summary' summary
expect_bad "summary two files" "unexpected argument" summary "$S" "$S"
expect_bad "bad format" "bad --format 'xml'" summary "$S" --format xml
expect_bad "non-metric column" "bad --metric 'status'" summary "$S" --metric status
expect_bad "unknown metric" "header has no column 'nosuch'" summary "$S" --metric wall_s,nosuch
expect_bad "empty metric name" "bad --metric" summary "$S" --metric wall_s,,gc_s
expect_bad "unknown option" "unknown option '--bogus'" summary "$S" --bogus
expect_bad "compare one file" '^usage: gclab compare' compare "$S"
expect_bad "compare missing NEW" "cannot read" compare "$S" "$T/nonexistent.csv"
expect_bad "compare wrong schema" 'bad-schema\.csv:5' compare "$S" "$D/bad-schema.csv"
expect_bad "compare missing column" "column 'status'" compare "$D/bad-missing-column.csv" "$S"
expect_bad "compare truncated" 'bad-truncated\.csv:23' compare "$S" "$D/bad-truncated.csv"
expect_bad "threshold word" "bad --threshold 'abc'" compare "$S" "$S" --threshold abc
expect_bad "threshold negative" "bad --threshold '-5%'" compare "$S" "$S" --threshold -5%
expect_bad "threshold two signs" "bad --threshold '5%%'" compare "$S" "$S" --threshold 5%%
expect_bad "threshold missing" "--threshold needs a value" compare "$S" "$S" --threshold
expect_bad "compare bad format" "bad --format 'html'" compare "$S" "$S" --format html
expect_bad "table two formats" "not both" table "$S" --latex --markdown
expect_bad "table wrong schema" 'bad-schema\.csv:5' table "$D/bad-schema.csv"
expect_bad "table non-metric" "bad --metric 'threads'" table "$S" --metric threads
expect_bad "table unknown option" "unknown option '--format'" table "$S" --format json

# --- schema 5: options are part of a cell; module columns are metrics ------------------------
V5=$D/sample-v5.csv
run summary "$V5" --metric wall_s
expect_rc 0 "summary of a v5 file"
expect_out '^binary-trees +depth=4 +1 +rc-gen +pool +1 +3 +0 +1\.100 ' "v5: the cell without options"
expect_out '^binary-trees +depth=4 +1 +rc-gen\[rc-gen\.threshold0=700\] +pool +1 +3 +0 +2\.100 ' "v5: options make another cell"
run summary "$V5" --metric rc-gen.gc_collections_gen0,pool.arenas_peak
expect_rc 0 "summary of module columns"
expect_out '^binary-trees +depth=4 +1 +rc-gen\[rc-gen\.threshold0=700\] +pool +1 +3 +0 +21\.0 ' "v5: a module column's median"
expect_out '^binary-trees +depth=4 +1 +rc-gen +pool +1 +2 +0 +4\.0 ' "v5: an empty module field is not a 0"
run table "$V5" --metric wall_s
expect_rc 0 "table of a v5 file"
expect_out 'rc-gen\[rc-gen\.threshold0=700\]/pool' "v5 table: options tell the columns apart"
run compare "$V5" "$V5"
expect_rc 0 "compare v5 with itself"
expect_out '2 no significant change' "v5 compare matches cells by options"
run summary "$V5" --metric options
expect_rc 2 "options is not a metric"

# --- help ----------------------------------------------------------------------------------
for cmd in summary compare table; do
  run "$cmd" --help
  expect_rc 0 "$cmd --help"
  expect_out "^usage: gclab $cmd" "$cmd --help usage line"
done
run compare --help
expect_out '^How compare decides' "compare --help explains the rule"
expect_out 'lo > 1 \+ t' "compare --help states the regression bound"

echo "$checks commands run, $fails failures"
[ "$fails" -eq 0 ]
