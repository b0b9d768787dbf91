# SPDX-License-Identifier: MIT
# tests/harness/hostile-outputs.sh — gclab run's outputs under hostile paths (issue 11,
# items 1, 2, 3, 4, 8, 12):
#  - an output that is another output or an input (--out t.csv --trace t.csv replaced every
#    row with JSON; also ./t.csv, a symlink, --events, --matrix): refused, nothing changed;
#  - a non-regular output (a FIFO as --trace was replaced by a regular file; as --out it
#    swallowed rows) and a directory (--trace found only after every cell ran): refused
#    before anything runs or is created;
#  - the trace is written through a private temporary file: a symlink or a file at the old
#    fixed TRACE.tmp is left alone;
#  - a short write (RLIMIT_FSIZE: write returns EFBIG, SIGXFSZ ignored) leaves the CSV as it
#    was, byte for byte; --resume accepts a file whose only damage is a torn last row (one
#    note, the row dropped and its cell run again);
#  - a CRLF file as --out is refused naming the \r; --resume on another matrix's file says
#    so in one line.
. "$(dirname "$0")/lib.sh" "$@"
cd "$TMP" || exit 1
A="--collector rc --allocator sys --workload binary-trees --param depth=4"
"$GCLAB" run $A --repeat 1 --out t.csv >/dev/null 2>&1 || fail "setup run failed"
cp t.csv t.before

# refused PATTERN ARGS...: exit 2 within 10 s, one line matching PATTERN, t.csv unchanged,
# no cell run, never.csv not created.
refused() {
  local pat=$1 st
  shift
  timeout 10 "$GCLAB" run $A --repeat 1 "$@" >o 2>e
  st=$?
  [ $st -eq 2 ] || fail "run $*: exit $st, expected 2 ($(head -c 300 e))"
  [ "$(wc -l <e)" -eq 1 ] || fail "run $*: not one line: $(head -c 300 e)"
  grep -q -- "$pat" e || fail "run $*: '$(cat e)' does not match '$pat'"
  cmp -s t.csv t.before || fail "run $*: t.csv was changed"
  [ -e never.csv ] && fail "run $*: never.csv was created"
  return 0
}
refused "--out 't.csv' and --trace 't.csv' are the same file" --out t.csv --trace t.csv
refused "--out 't.csv' and --trace './t.csv' are the same file" --out t.csv --trace ./t.csv
refused "--out 't.csv' and --events 't.csv' are the same file" --out t.csv --events t.csv
ln -s t.csv link.csv
refused "--out 't.csv' and --events 'link.csv' are the same file" --out t.csv --events link.csv
refused "--events 'e.csv' and --trace 'e.csv' are the same file" --out never.csv --events e.csv --trace e.csv
[ -e e.csv ] && fail "a refused run created e.csv"
printf 'collectors: [rc]\n' >m.yaml
cp m.yaml m.before
refused "--out 'm.yaml' and --matrix 'm.yaml' are the same file" --matrix m.yaml --out m.yaml
refused "--trace 'm.yaml' and --matrix 'm.yaml' are the same file" --matrix m.yaml --out never.csv --trace m.yaml
cmp -s m.yaml m.before || fail "the matrix file was changed"
mkfifo fifo
refused "--trace 'fifo' is a FIFO, not a regular file" --out never.csv --trace fifo
[ -p fifo ] || fail "the FIFO given as --trace was replaced"
refused "--out 'fifo' is a FIFO, not a regular file" --out fifo
mkdir dir
refused "--trace 'dir' is a directory" --out never.csv --trace dir
refused "--events 'dir' is a directory" --out never.csv --events dir
refused "--trace 'nodir/t.json': cannot create it in 'nodir'" --out never.csv --trace nodir/t.json

# The trace goes through a private temporary file.
echo precious >victim
ln -s victim tr.json.tmp
echo mine >tr2.json.tmp
"$GCLAB" run $A --repeat 1 --out x.csv --trace tr.json >/dev/null 2>e || fail "trace run: exit $? ($(cat e))"
"$GCLAB" run $A --repeat 1 --out x.csv --trace tr2.json >/dev/null 2>e || fail "trace run 2: exit $? ($(cat e))"
[ "$(cat victim)" = precious ] || fail "the trace was written through the symlink tr.json.tmp"
[ "$(cat tr2.json.tmp)" = mine ] || fail "an existing tr2.json.tmp was replaced or removed"
python3 -c 'import json,sys; json.load(open("tr.json"))' || fail "tr.json is not JSON"
ls -A | grep -q '^\.tr' && fail "a temporary trace file was left behind: $(ls -A | grep '^\.tr')"

# A short write leaves the file as it was. Rows of a copy of t.csv are repeated until the
# next 1 KiB boundary (the RLIMIT_FSIZE unit of ulimit -f) falls inside the next row.
cp t.before w.csv
row=$(tail -n 1 w.csv)
rl=$((${#row} + 1))
[ $rl -gt 100 ] || fail "t.before's last row is only $rl bytes"
for _ in $(seq 20); do
  size=$(stat -c %s w.csv)
  limit=$((size / 1024 + 1))
  gap=$((limit * 1024 - size))
  [ $gap -gt 16 ] && [ $gap -lt $((rl - 16)) ] && break
  echo "$row" >>w.csv
done
[ $gap -gt 16 ] && [ $gap -lt $((rl - 16)) ] || fail "no 1 KiB boundary inside a row"
cp w.csv full.before
(ulimit -f $limit; exec "$GCLAB" run $A --repeat 2 --out w.csv) >o 2>e
st=$?
[ $st -eq 1 ] || fail "short write: exit $st, expected 1 ($(tail -2 e))"
grep -q "writing a row to 'w.csv' failed: File too large (the partial row was cut back" e ||
  fail "short write: message '$(grep -v '^gclab: \[' e)'"
cmp -s w.csv full.before || fail "short write: w.csv changed (a torn row?): $(tail -c 120 w.csv)"
"$GCLAB" summary w.csv >/dev/null 2>e || fail "summary refuses the file after a short write: $(cat e)"

# --resume accepts a torn last row (a crash mid-write), drops it and runs the cell again.
cp full.before torn.csv
printf '%s' "${row:0:200}" >>torn.csv
"$GCLAB" run $A --repeat 2 --out torn.csv --resume >o 2>e || fail "resume of a torn file: exit $? ($(cat e))"
[ "$(grep -c 'the last row is torn' e)" -eq 1 ] || fail "resume: no one-line note of the torn row: $(cat e)"
grep -q "torn.csv:$(($(wc -l <full.before) + 1)): the last row is torn" e || fail "resume note names no line: $(cat e)"
[ "$(csv_rows torn.csv)" -eq $(($(csv_rows full.before) + 1)) ] || fail "resume: $(csv_rows torn.csv) rows"
cmp -s <(head -c "$(stat -c %s full.before)" torn.csv) full.before || fail "resume changed the rows before the torn one"

# CRLF: the message names the \r.
sed 's/$/\r/' t.before >crlf.csv
cp crlf.csv crlf.before
"$GCLAB" run $A --repeat 1 --out crlf.csv >o 2>e
[ $? -eq 2 ] && [ "$(wc -l <e)" -eq 1 ] && grep -qF "has CRLF line ends (its header line ends in \\r\\n)" e ||
  fail "CRLF --out: $(cat e)"
cmp -s crlf.csv crlf.before || fail "CRLF --out was changed"

# --resume on another matrix's file: one line saying so.
"$GCLAB" run --collector rc --allocator sys --workload churn --param steps=1000 --repeat 1 \
  --out t.before --resume >o 2>e || fail "resume on another matrix: exit $?"
[ "$(grep -c 'none of the 1 rows in t.before is a cell of this matrix' e)" -eq 1 ] ||
  fail "resume on another matrix's file gives no hint: $(grep -v '^gclab: \[' e)"
echo ok
