#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/analysis/plot-read-test.sh GCLAB DIR — one set of rules for every reader of a
# results CSV: `gclab summary`, `gclab compare`, `gclab merge` and results/plot.py refuse
# the same bad files (DIR/bad-*.csv, and hostile ones made here: a NUL byte, a quote in an
# unquoted field, text after a closing quote, a negative or infinite time, a character
# device, a FIFO) with one line and exit 2, and all accept a CRLF file. Then plot.py must
# read and compute the statistics of a 98,000-row file in under 100 s even on a loaded
# machine (~10 s alone; it took more than 120 s). Needs python3 (numpy for the speed
# check: matplotlib brings it).
set -u
G=$1
D=$2
PLOT=$D/../../results/plot.py
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
PY=
for p in /usr/bin/python3 python3; do
  if command -v "$p" >/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "SKIP: no python3"; exit 77; }
fails=0
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}
S=$D/sample.csv

# plot.py's measurement columns are schema.h's RECORD and CHILD ones less the text ones,
# and its text list is csv-read.c's.
"$PY" - "$PLOT" "$D/../../harness/schema.h" "$D/../../harness/analysis/csv-read.c" >"$T/lists" 2>&1 <<'PY' ||
import importlib.util, re, sys
spec = importlib.util.spec_from_file_location("plot", sys.argv[1])
plot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plot)
schema = re.findall(r"X\((\w+), (RECORD|CHILD)\)", open(sys.argv[2]).read())
c = open(sys.argv[3]).read()
text = set(re.findall(r'"(\w+)"', c[c.index("text_cols[] = {"):c.index("};", c.index("text_cols[] = {"))]))
want = {n for n, _ in schema} - text
assert text == plot.TEXT_RECORD, "text columns differ: %s" % (text ^ plot.TEXT_RECORD)
assert want == plot.MEASUREMENTS, "measurements differ: %s" % (want ^ plot.MEASUREMENTS)
PY
  fail "plot.py's column lists disagree with schema.h / csv-read.c: $(tail -1 "$T/lists")"

# refused WHAT FILE [NOMERGE]: every reader exits 2 with one line on stderr (merge too,
# unless NOMERGE: a file without a metric column is still a file to merge).
refused() {
  local what=$1 f=$2 rc cmds=("summary" "compare $S" "merge $T/never.csv" "plot")
  [ $# -gt 2 ] && cmds=("summary" "compare $S" "plot")
  for cmd in "${cmds[@]}"; do
    # At most 20 s and 2 GiB each: a reader that reads /dev/zero to its end must not take
    # the machine with it.
    if [ "$cmd" = plot ]; then
      (ulimit -v 2097152; timeout 20 "$PY" "$PLOT" "$f" --kind bars --out "$T/x.png") >"$T/out" 2>"$T/err"
    else
      # shellcheck disable=SC2086
      (ulimit -v 2097152; timeout 20 "$G" $cmd "$f") >"$T/out" 2>"$T/err"
    fi
    rc=$?
    [ $rc -eq 2 ] || fail "$what: '$cmd' exit $rc, expected 2 ($(head -c 300 "$T/err"))"
    [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$what: '$cmd' printed $(wc -l <"$T/err") lines: $(head -c 300 "$T/err")"
    [ -e "$T/never.csv" ] && fail "$what: merge created its output" && rm -f "$T/never.csv"
  done
}

for f in "$D"/bad-[!m]*.csv; do refused "$(basename "$f")" "$f"; done
refused bad-missing-column.csv "$D/bad-missing-column.csv" nomerge
# Line 2 of sample.csv with one field changed.
mk() { sed "2s/$1/$2/" "$S" >"$T/$3"; grep -q "$2" "$T/$3" || fail "mk $3: no change"; }
mk ',ok,12345,1\.0,' ',ok,12345,-1.0,' neg.csv
refused "a negative wall_s" "$T/neg.csv"
mk ',ok,12345,1\.0,' ',ok,12345,1e999,' inf.csv
refused "an infinite wall_s" "$T/inf.csv"
mk ',ok,12345,1\.0,' ',ok,12345,1"0,' quote.csv
refused "a quote inside an unquoted field" "$T/quote.csv"
mk ',ok,12345,1\.0,' ',ok,"12345"x,1.0,' after.csv
refused "text after a closing quote" "$T/after.csv"
sed '2s/,ok,12345,/,ok,12\x0045,/' "$S" >"$T/nul.csv"
[ "$(tr -cd '\000' <"$T/nul.csv" | wc -c)" -eq 1 ] || fail "nul.csv has no NUL byte"
refused "a NUL byte" "$T/nul.csv"
refused "a character device" /dev/zero
mkfifo "$T/fifo.csv"
refused "a FIFO" "$T/fifo.csv"

# A CRLF file is accepted by every reader.
sed 's/$/\r/' "$S" >"$T/crlf.csv"
"$G" summary "$T/crlf.csv" >/dev/null 2>"$T/err" || fail "summary refused a CRLF file: $(cat "$T/err")"
"$G" merge "$T/m.csv" "$T/crlf.csv" >/dev/null 2>"$T/err" || fail "merge refused a CRLF file: $(cat "$T/err")"
"$PY" "$PLOT" "$T/crlf.csv" --kind bars --out "$T/c.png" >/dev/null 2>"$T/err" ||
  grep -q "matplotlib is not importable" "$T/err" || fail "plot.py refused a CRLF file: $(cat "$T/err")"

# plot.py's --out: never an input, never written through a symlink (a private temporary
# file, renamed).
cp "$S" "$T/in.png" # a CSV under a figure's name
"$PY" "$PLOT" "$T/in.png" --kind bars --out "$T/in.png" >/dev/null 2>"$T/err"
[ $? -eq 2 ] && grep -q "it is the input" "$T/err" || fail "plot.py --out = its input: $(cat "$T/err")"
cmp -s "$T/in.png" "$S" || fail "plot.py overwrote its input"
if "$PY" -c 'import matplotlib' 2>/dev/null; then
  echo precious >"$T/victim"
  ln -s victim "$T/fig.png"
  "$PY" "$PLOT" "$S" --kind bars --out "$T/fig.png" >/dev/null 2>"$T/err" || fail "plot.py --out symlink: $(cat "$T/err")"
  [ "$(cat "$T/victim")" = precious ] || fail "plot.py wrote through the symlink --out"
  [ -f "$T/fig.png" ] && [ ! -L "$T/fig.png" ] || fail "plot.py --out is not a regular file"
  ls -A "$T" | grep -q '^\.fig' && fail "plot.py left a temporary file"
fi

# Speed: 98,000 rows (7 cells of 14,000 repetitions), read and bootstrapped.
if "$PY" -c 'import numpy' 2>/dev/null; then
  { head -1 "$S"; for _ in $(seq 2800); do tail -n +2 "$S"; done; } >"$T/big.csv"
  cat >"$T/stats.py" <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("plot", sys.argv[1])
plot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plot)
cells = plot.cells_of(plot.load(sys.argv[2], ["wall_s"]))
print(sum(plot.Stat(plot.ok_values(rows, "wall_s")).n for rows in cells.values()))
PY
  n=$(timeout 100 "$PY" "$T/stats.py" "$PLOT" "$T/big.csv" 2>"$T/err")
  rc=$?
  [ $rc -eq 0 ] || fail "plot.py on 98,000 rows: exit $rc (124: more than 100 s; it took > 120 s alone) $(head -c 300 "$T/err")"
  [ "$rc" -ne 0 ] || [ "$n" -eq 89600 ] || fail "plot.py on 98,000 rows: $n ok values, expected 89600 (2800 x 32)"
else
  echo "note: numpy is not importable by $PY: the speed check is skipped"
fi

if [ $fails -ne 0 ]; then
  echo "$fails check(s) failed"
  exit 1
fi
echo ok
