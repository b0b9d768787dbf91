# SPDX-License-Identifier: MIT
# tests/harness/freelists-axis.sh — the per-type free lists as an axis of `gclab run`
# (results/README.md, schema 7): `--freelists false,true` (also off/on) and the matrix
# file's `freelists:` make one cell per value; the `freelists` column says which, the
# runner got --freelists (its config echo says freelists=true), the value is part of the
# cell's identity for --resume, --shard, the dry run, the summary and the events `cell`
# label (`collector+fl`), and gclab summary/table/compare keep the two apart. It combines
# with --gil (four cells). Bad values and a value given twice are one line, exit 2,
# nothing created. (In a default build the free lists are compiled out, so only the
# plumbing is checked here; tests/unit/test-freelist.c checks what they do.)
. "$(dirname "$0")/lib.sh" "$@"
cd "$TMP" || exit 1
R="--collector rc --allocator pool --workload pyobjects --scale 0.01"

"$GCLAB" run $R --freelists off,on --repeat 2 --out f.csv --events ev.csv >out 2>err || fail "run exit $? ($(tail -2 err))"
[ "$(csv_col f.csv freelists | tr '\n' ' ')" = "false false true true " ] || fail "freelists column: $(csv_col f.csv freelists | tr '\n' ' ')"
[ "$(csv_col f.csv status | sort -u)" = ok ] || fail "statuses: $(csv_col f.csv status | tr '\n' ' ')"
csv_col f.csv config | sed -n 1p | grep -q 'freelists=false' || fail "rep 0 off: $(csv_col f.csv config | sed -n 1p)"
csv_col f.csv config | sed -n 3p | grep -q 'freelists=true' || fail "the runner did not get --freelists: $(csv_col f.csv config | sed -n 3p)"
grep -q '^rc+fl ' out || fail "the summary has no rc+fl row: $(cat out)"
grep -q '^rc  ' out || fail "the summary has no plain rc row: $(cat out)"
[ "$(csv_col ev.csv cell | grep -c '^rc+fl/pool/pyobjects/t1/none/r[01]$')" -gt 0 ] || fail "no events cell label rc+fl/..."
[ "$(csv_col ev.csv cell | grep -c '^rc/pool/')" -gt 0 ] || fail "no events cell label without +fl"

# --resume: both values are done, so nothing runs again.
"$GCLAB" run $R --freelists false,true --repeat 2 --out f.csv --resume >out 2>err || fail "resume exit $?"
[ "$(csv_rows f.csv)" -eq 4 ] || fail "resume ran cells again: $(csv_rows f.csv) rows"
# ... but the same matrix with --gil on is four new cells.
"$GCLAB" run $R --freelists false,true --gil false,true --repeat 2 --out f.csv --resume >out 2>err || fail "gil resume exit $?"
[ "$(csv_rows f.csv)" -eq 8 ] || fail "--gil x --freelists resume: $(csv_rows f.csv) rows, expected 8"
[ "$(paste -d/ <(csv_col f.csv gil) <(csv_col f.csv freelists) | sort | uniq -c | awk '{print $1}' | tr '\n' ' ')" = "2 2 2 2 " ] ||
  fail "gil/freelists combinations: $(paste -d/ <(csv_col f.csv gil) <(csv_col f.csv freelists) | sort | uniq -c | tr '\n' ' ')"
# The dry run lists the values apart (freelists=true only where on); --shard splits over them.
"$GCLAB" run $R --freelists false,true --repeat 1 --dry-run >dry || fail "dry-run exit $?"
[ "$(grep -c ' freelists=true ' dry)" -eq 1 ] && grep -q '^matrix: 2 cells' dry || fail "dry run: $(cat dry)"
"$GCLAB" run $R --freelists false,true --repeat 1 --shard 2/2 --dry-run >dry2 || fail "shard dry-run exit $?"
grep -q ' freelists=true ' dry2 || fail "shard 2/2 is not the free-list cell: $(cat dry2)"

# gclab summary, table and compare keep the values apart.
"$GCLAB" summary f.csv >s.txt || fail "summary exit $?"
grep -q 'rc+fl' s.txt && grep -q 'rc+gil+fl' s.txt || fail "summary lacks rc+fl or rc+gil+fl: $(cat s.txt)"
"$GCLAB" table f.csv >t.txt || fail "table exit $?"
grep -q 'rc+fl' t.txt || fail "table has no rc+fl column: $(cat t.txt)"
"$GCLAB" compare f.csv f.csv --format json >c.json || fail "compare exit $?"
[ "$(grep -c '"freelists": "true"' c.json)" -gt 0 ] || fail "compare's JSON has no freelists key: $(head -c 600 c.json)"

# The matrix file's key.
printf 'collectors: rc\nallocators: pool\nworkloads: pyobjects\nscale: 0.01\nfreelists: [on]\nrepeat: 1\n' >m.yaml
"$GCLAB" run --matrix m.yaml --out mf.csv >/dev/null 2>err || fail "matrix run exit $? ($(tail -2 err))"
[ "$(csv_col mf.csv freelists)" = true ] || fail "matrix freelists: $(csv_col mf.csv freelists)"

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
refuse "bad value 'maybe' for --freelists: expected true or false" --freelists maybe
refuse "--freelists: true is given twice (as 'on')" --freelists true,on
refuse "--freelists '': empty item" --freelists ""
refuse "--freelists needs a value" --freelists
printf 'collectors: rc\nfreelists: [sometimes]\n' >bad.yaml
refuse "bad.yaml:2: bad value 'sometimes' for --freelists" --matrix bad.yaml
exit 0
