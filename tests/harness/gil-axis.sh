# SPDX-License-Identifier: MIT
# tests/harness/gil-axis.sh — the GIL as an axis of `gclab run` (results/README.md, schema
# 6): `--gil false,true` (also off/on) and the matrix file's `gil:` make one cell per mode;
# the `gil` column says which, the runner got --gil (its config echo says gil=true), the
# mode is part of the cell's identity for --resume, --shard, the summary and the events
# `cell` label (`collector+gil`), and gclab summary/table keep the two apart. Bad values
# and a mode given twice are one line, exit 2, nothing created.
. "$(dirname "$0")/lib.sh" "$@"
cd "$TMP" || exit 1
R="--collector rc-gen --allocator pool --workload binary-trees --param depth=6 --threads 2"

"$GCLAB" run $R --gil off,on --repeat 2 --out g.csv --events ev.csv >out 2>err || fail "run exit $? ($(tail -2 err))"
[ "$(csv_col g.csv gil | tr '\n' ' ')" = "false false true true " ] || fail "gil column: $(csv_col g.csv gil | tr '\n' ' ')"
csv_col g.csv config | sed -n 1p | grep -q 'gil=false;' || fail "rep 0 off: $(csv_col g.csv config | sed -n 1p)"
csv_col g.csv config | sed -n 3p | grep -q 'gil=true;' || fail "the runner did not get --gil: $(csv_col g.csv config | sed -n 3p)"
grep -q '^rc-gen+gil ' out || fail "the summary has no rc-gen+gil row: $(cat out)"
[ "$(csv_col ev.csv cell | grep -c '^rc-gen+gil/pool/binary-trees/t2/none/r[01]$')" -gt 0 ] || fail "no events cell label rc-gen+gil/..."
[ "$(csv_col ev.csv cell | grep -c '^rc-gen/pool/')" -gt 0 ] || fail "no events cell label without +gil"

# --resume: both modes are done; a new mode would not be, so nothing runs for false,true.
"$GCLAB" run $R --gil false,true --repeat 2 --out g.csv --resume >out 2>err || fail "resume exit $?"
[ "$(csv_rows g.csv)" -eq 4 ] || fail "resume ran cells again: $(csv_rows g.csv) rows"
# The dry run lists the modes apart (gil=true only where on); --shard splits over them.
"$GCLAB" run $R --gil false,true --repeat 1 --dry-run >dry || fail "dry-run exit $?"
[ "$(grep -c ' gil=true ' dry)" -eq 1 ] && grep -q '^matrix: 2 cells' dry || fail "dry run: $(cat dry)"
"$GCLAB" run $R --gil false,true --repeat 1 --shard 2/2 --dry-run >dry2 || fail "shard dry-run exit $?"
grep -q ' gil=true ' dry2 || fail "shard 2/2 is not the GIL cell: $(cat dry2)"

# gclab summary and table keep the modes apart.
"$GCLAB" summary g.csv >s.txt || fail "summary exit $?"
grep -q 'rc-gen+gil' s.txt || fail "summary has no rc-gen+gil cell: $(cat s.txt)"
"$GCLAB" table g.csv >t.txt || fail "table exit $?"
grep -q 'rc-gen+gil' t.txt || fail "table has no rc-gen+gil column: $(cat t.txt)"

# The matrix file's key.
printf 'collectors: rc-gen\nallocators: pool\nworkloads: binary-trees\nparams: {depth: 6}\ngil: [on]\nrepeat: 1\n' >m.yaml
"$GCLAB" run --matrix m.yaml --out mf.csv >/dev/null 2>err || fail "matrix run exit $? ($(tail -2 err))"
[ "$(csv_col mf.csv gil)" = true ] || fail "matrix gil: $(csv_col mf.csv gil)"

# refuse PATTERN ARGS...: one line, exit 2, nothing created.
refuse() {
  local pat=$1 st
  shift
  "$GCLAB" run $R --out never.csv "$@" >o 2>e
  st=$?
  [ $st -eq 2 ] || fail "$*: exit $st, expected 2"
  [ "$(wc -l <e)" -eq 1 ] || fail "$*: not one line: $(cat e)"
  grep -qF -- "$pat" e || fail "$*: '$(cat e)' does not say '$pat'"
  [ -e never.csv ] && fail "$*: the output was created"
  return 0
}
refuse "bad value 'maybe' for --gil: expected true or false" --gil maybe
refuse "--gil: true is given twice (as 'on')" --gil true,on
refuse "--gil '': empty item" --gil ""
printf 'collectors: rc-gen\ngil: [sometimes]\n' >bad.yaml
refuse "bad.yaml:2: bad value 'sometimes' for --gil" --matrix bad.yaml
exit 0
