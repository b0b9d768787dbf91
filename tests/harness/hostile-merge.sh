# SPDX-License-Identifier: MIT
# tests/harness/hostile-merge.sh — `gclab merge` with hostile paths (issue 11, items 2, 12):
#  - a symlink where the old fixed OUT.tmp was (it was written through: an unrelated file
#    was overwritten) and an existing OUT.tmp (it was deleted): both left alone, OUT
#    complete, no temporary file left behind, OUT's mode 0666 less the umask;
#  - a file merged with itself, under the same or another name (n doubled silently):
#    refused with one line, exit 2, OUT not created;
#  - OUT in a missing folder: one line, exit 2, nothing created.
. "$(dirname "$0")/lib.sh" "$@"
cd "$TMP" || exit 1
S=$HERE/../analysis/sample.csv
cp "$S" a.csv
cp "$S" b.csv

echo precious >victim
ln -s victim out.csv.tmp
umask 022
"$GCLAB" merge out.csv a.csv b.csv >o 2>e || fail "merge with a symlink at out.csv.tmp: exit $? ($(cat e))"
[ "$(cat victim)" = precious ] || fail "merge wrote through the symlink out.csv.tmp: victim is '$(head -c 80 victim)'"
[ -L out.csv.tmp ] || fail "merge removed the symlink out.csv.tmp"
[ "$(csv_rows out.csv)" -eq 70 ] || fail "out.csv has $(csv_rows out.csv) rows, expected 70"
[ "$(stat -c %a out.csv)" = 644 ] || fail "out.csv has mode $(stat -c %a out.csv), expected 644 (0666 less umask 022)"
echo mine >out2.csv.tmp
"$GCLAB" merge out2.csv a.csv >o 2>e || fail "merge with an existing out2.csv.tmp: exit $? ($(cat e))"
[ "$(cat out2.csv.tmp)" = mine ] || fail "merge replaced or deleted an existing out2.csv.tmp"
left=$(ls -A | grep -v -e '^out\(2\)\?\.csv\(\.tmp\)\?$' -e '^[abeo]\(\.csv\)\?$' -e '^victim$' -e '^runners$')
[ -z "$left" ] || fail "merge left files behind: $left"

# refused PATTERN ARGS...: one line matching PATTERN, exit 2, x.csv not created.
refused() {
  local pat=$1 st
  shift
  "$GCLAB" merge x.csv "$@" >o 2>e
  st=$?
  [ $st -eq 2 ] || fail "merge x.csv $*: exit $st, expected 2 ($(cat e))"
  [ "$(wc -l <e)" -eq 1 ] || fail "merge x.csv $*: not one line: $(cat e)"
  grep -q -- "$pat" e || fail "merge x.csv $*: '$(cat e)' does not match '$pat'"
  [ -e x.csv ] && fail "merge x.csv $*: created x.csv"
  return 0
}
refused "'a.csv' and 'a.csv' are the same file" a.csv a.csv
refused "'a.csv' and './a.csv' are the same file" a.csv b.csv ./a.csv
ln -s a.csv link.csv
refused "'a.csv' and 'link.csv' are the same file" a.csv link.csv
ln a.csv hard.csv
refused "'a.csv' and 'hard.csv' are the same file" a.csv hard.csv
"$GCLAB" merge nodir/x.csv a.csv >o 2>e
[ $? -eq 2 ] && [ "$(wc -l <e)" -eq 1 ] && grep -q "nodir/x.csv" e || fail "OUT in a missing folder: $(cat e)"
[ -e nodir ] && fail "merge created nodir"
echo ok
