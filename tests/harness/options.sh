# SPDX-License-Identifier: MIT
# tests/harness/options.sh — module options and parameter axes on real runners:
#  - --opt M.N=a,b is an axis: one cell per value, only for cells whose collector or
#    allocator is M (the others run once, unchanged); the value reaches the runner (its
#    `config` echoes it) and the row's `options` column names it canonically;
#  - --param k=a,b and the matrix file's lists expand into cells; the matrix file's
#    MODULE: {option: [..]} is the same axis as --opt, and a flag wins over it;
#  - singular and plural keys are one key; a file giving both spellings is refused;
#  - a bad module, option or value: one line naming it and what is accepted, exit 2,
#    nothing created;
#  - --resume tells cells apart by their options.
. "$(dirname "$0")/lib.sh" "$@"
cd "$TMP" || exit 1
B="--allocator sys --workload binary-trees --repeat 1"

"$GCLAB" run --collector rc-gen,rc $B --param depth=4,5 --opt rc-gen.threshold0=700,2000 \
  --out o.csv >out 2>err || fail "run exit $? ($(tail -2 err))"
[ "$(csv_rows o.csv)" -eq 6 ] || fail "$(csv_rows o.csv) rows, expected 2 x 2 (rc-gen) + 2 (rc)"
got=$(paste -d'|' <(csv_col o.csv collector) <(csv_col o.csv params) <(csv_col o.csv options) \
  <(csv_col o.csv status))
expect='rc-gen|depth=4|rc-gen.threshold0=700|ok
rc-gen|depth=5|rc-gen.threshold0=700|ok
rc-gen|depth=4|rc-gen.threshold0=2000|ok
rc-gen|depth=5|rc-gen.threshold0=2000|ok
rc|depth=4||ok
rc|depth=5||ok'
[ "$got" = "$expect" ] || fail "cells:
$got
expected:
$expect"
csv_col o.csv config | sed -n 1p | grep -q 'rc-gen.threshold0=700' || fail "the runner did not get --opt: $(csv_col o.csv config | sed -n 1p)"
csv_col o.csv config | sed -n 3p | grep -q 'rc-gen.threshold0=2000' || fail "the second value did not reach the runner"
csv_col o.csv config | sed -n 5p | grep -q threshold0 && fail "an rc cell got rc-gen's option"
grep -q '^rc-gen\[rc-gen.threshold0=700\]  *sys  *binary-trees\[depth=4\] ' out || fail "summary does not tell the cells apart: $(cat out)"

# --resume knows the options: a different value is a different cell.
"$GCLAB" run --collector rc-gen $B --param depth=4 --opt rc-gen.threshold0=700,900 --resume \
  --out o.csv >out 2>err || fail "resume exit $? ($(tail -2 err))"
grep -q '1 cells already there were skipped' out || fail "resume: $(tail -1 out)"
[ "$(csv_rows o.csv)" -eq 7 ] || fail "resume ran $(( $(csv_rows o.csv) - 6 )) cells, expected 1"

# The matrix file: lists of params and options, singular keys; a flag wins.
cat >m.yaml <<'Y'
collector: [rc-gen]
allocator: sys
workload: binary-trees
repeat: 1
params: {binary-trees: {depth: [4, 6]}}
rc-gen: {threshold0: [100, 200], threshold1: 5}
Y
"$GCLAB" run --matrix m.yaml --dry-run >out 2>err || fail "dry-run exit $? ($(cat err))"
head -1 out | grep -q ': 4 cells' || fail "matrix file lists: $(head -1 out)"
grep -q 'params=depth=6 options=rc-gen.threshold0=200;rc-gen.threshold1=5 ' out || fail "options not expanded: $(cat out)"
"$GCLAB" run --matrix m.yaml --dry-run --opt rc-gen.threshold0=300 >out 2>err || fail "override exit $?"
head -1 out | grep -q ': 2 cells' || fail "--opt does not replace the file's axis: $(head -1 out)"
grep -q 'options=rc-gen.threshold0=300;rc-gen.threshold1=5 ' out || fail "--opt did not win: $(cat out)"

# bad FILE CONTENT PATTERN / refuse PATTERN ARGS...: one line, exit 2, nothing created.
check() {
  local st=$1 what=$2 pat=$3
  [ "$st" -eq 2 ] || fail "$what: exit $st, expected 2 ($(cat e))"
  [ "$(wc -l <e)" -eq 1 ] || fail "$what: not one line: $(cat e)"
  grep -qF -- "$pat" e || fail "$what: message '$(cat e)' does not say '$pat'"
  [ -e never.csv ] && fail "$what: the output was created"
  return 0
}
refuse() {
  local pat=$1
  shift
  "$GCLAB" run --collector rc-gen $B --out never.csv "$@" >o 2>e
  check $? "$*" "$pat"
}
bad() {
  printf '%b' "$2" >"$1"
  "$GCLAB" run --matrix "$1" --out never.csv >o 2>e
  check $? "$1" "$3"
}
refuse "unknown module 'nope'" --opt nope.x=1
refuse "rc-gen has no option 'nope' (it has: policy threshold0 threshold1 threshold2 young)" --opt rc-gen.nope=1
refuse "bad value 'x' for rc-gen.threshold0: expected" --opt rc-gen.threshold0=x
refuse "bad value '-2' for rc-gen.threshold0" --opt rc-gen.threshold0=5,-2
refuse "value 5 of rc-gen.threshold0 is given twice" --opt rc-gen.threshold0=5,05
refuse "expected MODULE.NAME=VALUE" --opt threshold0=5
refuse "workload" --opt binary-trees.depth=5
refuse "bad value '99' for binary-trees.depth" --param depth=4,99
# Flags take both numbers too: --collectors is --collector.
"$GCLAB" run --collectors rc-gen --allocators sys --workloads binary-trees --params depth=4,5 --repeat 1 \
  --dry-run >out 2>err || fail "plural flags: exit $? ($(cat err))"
head -1 out | grep -q ': 2 cells' || fail "plural flags: $(head -1 out)"
refuse "make more than 1000000 combinations" --workload churn --param "live=$(seq -s, 1 200)" \
  --param "steps=$(seq -s, 1 200)" --param "container_pct=$(seq -s, 0 60)"
bad b1.yaml 'collectors: [rc-gen]\ncollector: rc\n' "b1.yaml:2: keys 'collectors' and 'collector' are one key"
bad b2.yaml 'params: {depth: 4}\nparam: {depth: 5}\n' "keys 'params' and 'param' are one key"
bad b3.yaml 'collectors: [rc-gen]\nrc-gen: {threshold0: [1, x]}\n' "b3.yaml:2: --opt 'rc-gen.threshold0=1,x': bad value 'x'"
bad b4.yaml 'nope: {a: 1}\n' "b4.yaml:1: --opt 'nope.a=1': unknown module 'nope'"
echo "ok"
