# SPDX-License-Identifier: MIT
# tests/harness/modules.sh — module columns, with scripted runners speaking describe v2
# (runner/README.md) in place of the real ones:
#  - the header is the core columns then every module's figures: the union over EVERY
#    runner (rc-gen's figures come only from rc-gen's runners, not from the first one),
#    collectors in CMake order, then allocators, then workloads, figures in declaration
#    order; `gclab list --figures` / `--options` print the same union;
#  - a record key MODULE.FIGURE must be a declared figure of the cell's own collector,
#    allocator or workload, else the row is error: naming the key; a figure not written
#    stays empty (never 0), and so do the other modules' columns;
#  - appending to a file of a build with other modules is refused with one line naming
#    the differing columns, the file unchanged; the same build appends;
#  - a runner whose modules declare other figures than the others is flagged STALE by
#    `gclab list`; one whose --describe is malformed makes `gclab run` refuse (exit 1);
#  - `gclab merge` of the two builds' files: core columns, then the union of module
#    columns in first-appearance order, missing cells empty; every row parses with the
#    header's field count (python's csv module when python3 is there: what pandas reads).
. "$(dirname "$0")/lib.sh" "$@"
cd "$TMP" || exit 1

list=$("$GCLAB" list) || fail "gclab list failed"
rm -f "$RUNNERS"/*
echo "$list" | pairs_of | while read -r c a verdict; do
  [ "$verdict" = valid ] || continue
  f=$RUNNERS/gclab-run-$c-$a
  sed -e "s/@C@/$c/g" -e "s/@A@/$a/g" >"$f" <<'FAKE'
#!/bin/sh
# A scripted describe-v2 runner of pair @C@ x @A@; FAKE_OTHER=1 is "a build with other
# modules" (pool gains a figure, fake-ok renames its own).
C=@C@ A=@A@
it=iters; [ -n "$FAKE_OTHER" ] && it=iters2
if [ "$1" = --describe ]; then
  echo "pair $C $A 16"
  echo "module collector $C"
  [ "$C" = rc-gen ] && echo "option rc-gen level int 1 0 9 - a level" && echo "figure rc-gen gen0 count young collections"
  echo "figure $C ops count RC operations"
  echo "module allocator $A"
  echo "figure $A peak_kb kb most memory held"
  [ -n "$FAKE_OTHER" ] && [ "$A" = pool ] && echo "figure pool extra count an extra figure"
  echo "module workload fake-ok"
  echo "figure fake-ok $it count iterations done"
  echo "module workload fake-badfig"
  echo "module workload fake-other"
  for w in ok badfig other; do echo "workload fake-$w scripted"; done
  exit 0
fi
w=
while [ $# -gt 0 ]; do [ "$1" = --workload ] && w=$2; shift; done
other=sys; [ "$A" = sys ] && other=pool
case $w in
fake-ok) printf '%s\n' status=ok checksum=1 wall_s=0.5 "$C.ops=5" "$A.peak_kb=0" "fake-ok.$it=3" end >&3 ;;
fake-badfig) printf '%s\n' status=ok checksum=1 "$A.nope=1" end >&3 ;;
fake-other) printf '%s\n' status=ok checksum=1 "$other.peak_kb=1" end >&3 ;;
esac
FAKE
  chmod +x "$f"
done

"$GCLAB" run --collector rc,rc-gen --allocator sys,pool --workload fake-ok,fake-badfig,fake-other \
  --repeat 1 --out a.csv >out 2>err
[ $? -eq 1 ] || fail "run exit status $?, expected 1 (error rows)"
mods=$(head -1 a.csv | tr ',' '\n' | sed '1,/^config$/d' | tr '\n' ' ')
# The build's collectors and allocators, in CMake order (the lines of `gclab list`). A
# collector and an allocator of one name (bdw) are one module, at the collector's place.
expect=
collectors=" $(echo "$list" | sed -n 's/^collectors: //p') "
allocators=" $(echo "$list" | sed -n 's/^allocators: //p') "
for c in $collectors; do
  [ "$c" = rc-gen ] && expect="${expect}rc-gen.gen0 "
  expect="$expect$c.ops "
  case $allocators in *" $c "*) expect="$expect$c.peak_kb " ;; esac
done
for a in $allocators; do
  case $collectors in *" $a "*) continue ;; esac
  expect="$expect$a.peak_kb "
done
expect="${expect}fake-ok.iters "
[ "$mods" = "$expect" ] || fail "module columns: '$mods', expected '$expect'"
figs=$("$GCLAB" list --figures | awk 'NR > 1 { printf "%s.%s ", $1, $2 }')
[ "$figs" = "$expect" ] || fail "list --figures: '$figs', expected '$expect'"
"$GCLAB" list --options | grep -q '^rc-gen  *level  *int  *1  *\[0, 9\]  *a level$' ||
  fail "list --options: $("$GCLAB" list --options)"

row() { awk -v mode=row -v n="$1" -f "$HERE/csv.awk" a.csv | sed -n "s/^$2=//p"; }
# Rows: rc-sys ok, badfig, other; rc-pool ...; rc-gen-sys ...; rc-gen-pool ...
[ "$(row 1 status)" = ok ] || fail "fake-ok row: $(row 1 status)"
[ "$(row 1 rc.ops)" = 5 ] && [ "$(row 1 sys.peak_kb)" = 0 ] && [ "$(row 1 fake-ok.iters)" = 3 ] ||
  fail "figures not in their columns: $(awk -v mode=row -v n=1 -f "$HERE/csv.awk" a.csv | grep '\.')"
[ -z "$(row 1 pool.peak_kb)$(row 1 rc-gen.ops)$(row 1 rc-gen.gen0)" ] || fail "another module's column is filled"
[ "$(row 7 status)" = ok ] && [ -z "$(row 7 rc-gen.gen0)" ] || fail "a figure not written is not empty: '$(row 7 rc-gen.gen0)'"
[ "$(row 2 status)" = "error:unknown record key sys.nope (not a declared figure of rc, sys or fake-badfig)" ] ||
  fail "undeclared figure: $(row 2 status)"
[ "$(row 3 status)" = "error:unknown record key pool.peak_kb (not a declared figure of rc, sys or fake-other)" ] ||
  fail "another module's figure: $(row 3 status)"

# The same build appends; a build with other modules is refused, the file unchanged.
"$GCLAB" run --collector rc --allocator sys --workload fake-ok --repeat 1 --out a.csv >/dev/null 2>&1 ||
  fail "same build: append exit $?"
[ "$(csv_rows a.csv)" -eq 13 ] || fail "same build did not append"
cp a.csv before.csv
FAKE_OTHER=1 "$GCLAB" run --collector rc --allocator pool --workload fake-ok --repeat 1 --out a.csv >o 2>e
[ $? -eq 2 ] || fail "other modules: exit $?, expected 2"
[ "$(wc -l <e)" -eq 1 ] || fail "other modules: not one line: $(cat e)"
grep -qxF "gclab run: a.csv was written by a build with other modules: it lacks pool.extra, fake-ok.iters2, has fake-ok.iters; write to a new file or merge (gclab merge)" e ||
  fail "other modules message: $(cat e)"
cmp -s a.csv before.csv || fail "a refused append changed the file"

# Merge the two builds' files: the union of module columns, missing cells empty.
FAKE_OTHER=1 "$GCLAB" run --collector rc --allocator pool --workload fake-ok --repeat 1 --out b.csv >/dev/null 2>&1 ||
  fail "other build run exit $?"
"$GCLAB" merge m.csv a.csv b.csv >o 2>e || fail "merge exit $? ($(cat e))"
mods=$(head -1 m.csv | tr ',' '\n' | sed '1,/^config$/d' | tr '\n' ' ')
[ "$mods" = "${expect}pool.extra fake-ok.iters2 " ] || fail "merged module columns: '$mods'"
[ "$(head -1 m.csv | tr ',' '\n' | sed '/^config$/q')" = "$(head -1 a.csv | tr ',' '\n' | sed '/^config$/q')" ] ||
  fail "merge changed the core columns"
[ "$(csv_rows m.csv)" -eq 14 ] || fail "merged $(csv_rows m.csv) rows, expected 14"
last=$(awk -v mode=row -v n=14 -f "$HERE/csv.awk" m.csv)
echo "$last" | grep -qx 'fake-ok.iters2=3' && echo "$last" | grep -qx 'fake-ok.iters=' &&
  echo "$last" | grep -qx 'pool.peak_kb=0' || fail "merged row of b.csv: $(echo "$last" | grep '\.')"
[ "$(awk -v mode=row -v n=1 -f "$HERE/csv.awk" m.csv | sed -n 's/^pool.extra=//p')" = "" ] || fail "a missing cell is not empty"
# A runner whose modules declare other figures than the other runners' is flagged STALE.
f=$RUNNERS/gclab-run-rc-pool
cp "$f" "$TMP/good"
sed -i 's/^it=iters;/it=stale;/' "$f"
"$GCLAB" list | grep -q '^  rc  *x pool  *valid.*STALE: its modules declare other figures' ||
  fail "a stale runner is not flagged: $("$GCLAB" list | grep ' x ')"
cp "$TMP/good" "$f"

# A runner whose --describe is malformed is refused before any cell runs (its figures are
# unknown, so none of its rows could be trusted).
f=$RUNNERS/gclab-run-rc-pool
cp "$f" "$TMP/good"
sed -i 's/^  echo "figure $A peak_kb kb most memory held"$/  echo "figure nomodule x count bad"/' "$f"
"$GCLAB" run --collector rc --allocator pool --workload fake-ok --repeat 1 --out never.csv >o 2>e
[ $? -eq 1 ] && grep -q "runner for rc x pool cannot describe itself: malformed --describe output, line" e ||
  fail "a runner with a malformed describe: $(cat e)"
[ -e never.csv ] && fail "a run with a broken runner created its output"
cp "$TMP/good" "$f"

if command -v python3 >/dev/null; then
  python3 - m.csv <<'PY' || fail "python's csv module does not read the merged file cleanly"
import csv, sys
with open(sys.argv[1], newline="") as f:
    rows = list(csv.reader(f))
assert all(len(r) == len(rows[0]) for r in rows), "ragged rows"
d = [dict(zip(rows[0], r)) for r in rows[1:]]
assert d[0]["rc.ops"] == "5" and d[0]["pool.extra"] == "" and d[-1]["fake-ok.iters2"] == "3"
assert len(set(rows[0])) == len(rows[0]), "duplicate columns"
PY
fi
echo "ok"
