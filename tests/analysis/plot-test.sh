#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/analysis/plot-test.sh GCLAB DIR — results/plot.py renders every kind as PNG, PDF
# and SVG from DIR/sample.csv, byte-identically when run twice; rejects bad input with one
# line and exit 2; and its bootstrap intervals equal those of `gclab summary` (same
# algorithm in Python and C; many-reps.csv has enough repetitions that the interval is not
# simply [min, max]). Exit 77 (ctest: skipped) when no python3 can import matplotlib.
set -u
G=$1
D=$2
PLOT=$D/../../results/plot.py
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

PY=
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import matplotlib' 2>/dev/null; then
    PY=$p
    break
  fi
done
if [ -z "$PY" ]; then
  echo "SKIP: matplotlib is not importable by python3 or /usr/bin/python3 (Debian: apt-get install python3-matplotlib)"
  exit 77
fi

fails=0
fail() {
  echo "FAIL: $*"
  fails=$((fails + 1))
}

# plot.py must read the schema gclab writes now.
want=$(sed -n 's/^#define GCL_SCHEMA_VERSION \([0-9]*\).*/\1/p' "$D/../../harness/schema.h")
have=$(sed -n 's/^SCHEMA_VERSION = \([0-9]*\).*/\1/p' "$D/../../results/plotlib/csvread.py")
[ -n "$want" ] && [ "$want" = "$have" ] ||
  fail "plot.py reads schema_version up to '$have' but gclab writes '$want' (harness/schema.h)"


magic_ok() { # FILE EXT
  case $2 in
  png) [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' ')" = 89504e47 ] ;;
  pdf) [ "$(head -c 5 "$1")" = "%PDF-" ] ;;
  svg) grep -q '<svg' "$1" ;;
  esac
}

for kind in bars scaling pauses; do
  for ext in png pdf svg; do
    out=$T/$kind.$ext
    if ! "$PY" "$PLOT" "$D/sample.csv" --kind "$kind" --metric wall_s --out "$out" 2>"$T/err"; then
      fail "$kind $ext: exit status $?: $(cat "$T/err")"
      continue
    fi
    [ -s "$out" ] || { fail "$kind $ext: empty file"; continue; }
    magic_ok "$out" "$ext" || fail "$kind $ext: not a $ext file"
    "$PY" "$PLOT" "$D/sample.csv" --kind "$kind" --out "$T/again.$ext" 2>/dev/null
    cmp -s "$out" "$T/again.$ext" || fail "$kind $ext: two renders of the same CSV differ"
  done
done

# Bad input: exit 2, one line on stderr.
expect_bad() { # WHAT ERE ARGS...
  local what=$1 pat=$2
  shift 2
  "$PY" "$PLOT" "$@" >"$T/out" 2>"$T/err"
  local rc=$?
  [ "$rc" -eq 2 ] || fail "$what: exit $rc, expected 2"
  [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$what: stderr has $(wc -l <"$T/err") lines: $(cat "$T/err")"
  grep -Eq -- "$pat" "$T/err" || fail "$what: stderr '$(cat "$T/err")' does not match /$pat/"
}
head -n -10 "$D/sample.csv" >"$T/nopause.csv" # drops the two gen/pool cycles cells
expect_bad "wrong schema" 'bad-schema\.csv:5: schema_version' "$D/bad-schema.csv" --kind bars --out "$T/x.png"
expect_bad "missing column" "column 'status'" "$D/bad-missing-column.csv" --kind bars --out "$T/x.png"
expect_bad "truncated row" 'bad-truncated\.csv:23: row has 19 fields' "$D/bad-truncated.csv" --kind bars --out "$T/x.png"
expect_bad "malformed number" "bad-number\.csv:9: column wall_s: '0\.6x'" "$D/bad-number.csv" --kind bars --out "$T/x.png"
expect_bad "missing file" "cannot read" "$T/nonexistent.csv" --kind bars --out "$T/x.png"
expect_bad "bad extension" "bad --out .*\.png, \.pdf or \.svg" "$D/sample.csv" --kind bars --out "$T/x.jpg"
expect_bad "bad kind" "invalid choice: 'pie'" "$D/sample.csv" --kind pie --out "$T/x.png"
expect_bad "mmu from a results CSV" "not a gclab events file" "$D/sample.csv" --kind mmu --out "$T/x.png"
expect_bad "no kind" "required" "$D/sample.csv" --out "$T/x.png"
expect_bad "non-metric" "bad --metric 'status'" "$D/sample.csv" --kind bars --metric status --out "$T/x.png"
expect_bad "unknown metric" "no column 'nosuch'" "$D/sample.csv" --kind scaling --metric nosuch --out "$T/x.png"
expect_bad "no pauses" "no ok row has pause percentiles" "$T/nopause.csv" --kind pauses --out "$T/x.png"
"$PY" "$PLOT" --help >"$T/out" 2>&1 || fail "--help: exit $?"
grep -q "mmu " "$T/out" || fail "--help does not describe the mmu kind"

# MMU curves from an events file: one 2 ms pause in a 20 ms run.
printf '%s\n' run_id,collector,allocator,workload,threads,placement,rep,cell,thread,start_ns,duration_ns,kind \
  r,rc-gen,sys,cycles,1,none,0,c,7,1000000,2000000,pause r,rc-gen,sys,cycles,1,none,0,c,9,0,20000000,run >"$T/ev.csv"
"$PY" "$PLOT" "$T/ev.csv" --kind mmu --out "$T/mmu.png" --print-stats >"$T/mmu.csv" || fail "mmu: exit $?"
[ -s "$T/mmu.png" ] || fail "mmu: no figure"
"$PY" - "$T/mmu.csv" <<'EOF' || fail "mmu: wrong values: $(cat "$T/mmu.csv")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert rows and float(rows[0]["mmu"]) == 0.0, rows[0]  # a 0.1 ms window inside the pause
for r in rows:
    w = int(r["window_ns"])
    want = max(0.0, (w - 2000000) / w)
    assert abs(float(r["mmu"]) - want) < 1e-9, (r, want)
EOF

# The same intervals as gclab summary, to the printed digit.
for m in wall_s max_rss_kb; do
  "$PY" "$PLOT" "$D/many-reps.csv" --kind bars --metric "$m" --out "$T/m.png" --print-stats \
    >"$T/py.csv" || fail "--print-stats $m"
  "$G" summary "$D/many-reps.csv" --metric "$m" --format json >"$T/c.json" || fail "gclab summary $m"
  "$PY" - "$T/py.csv" "$T/c.json" <<'EOF' || fail "plot.py and gclab summary disagree on $m"
import csv, json, sys
py = {(r["collector"], r["allocator"], r["threads"]): r for r in csv.DictReader(open(sys.argv[1]))}
cells = json.load(open(sys.argv[2]))["metrics"][0]["cells"]
assert len(cells) == len(py) == 2, (len(cells), len(py))
for c in cells:
    r = py[(c["collector"], c["allocator"], c["threads"])]
    for a, b in (("median", "median"), ("ci_low", "ci_low"), ("ci_high", "ci_high"), ("cv", "cv")):
        if abs(float(r[a]) - c[b]) > 1e-9 * max(1.0, abs(c[b])):
            sys.exit("%s: plot.py %s, gclab %s" % (b, r[a], c[b]))
    # With 25 and 12 repetitions the interval is not degenerate: it brackets the median.
    assert c["ci_low"] > 0 and c["ci_low"] < c["median"] < c["ci_high"], c
EOF
done

# Schema 5: chosen options are part of the pair; module columns are metrics.
"$PY" "$PLOT" "$D/sample-v5.csv" --kind bars --metric rc-gen.gc_collections_gen0 --out "$T/v5.png" \
  --print-stats >"$T/v5.csv" || fail "v5: exit $?"
grep -q '^rc-gen\[rc-gen.threshold0=700\],pool,binary-trees,depth=4,1,1,rc-gen.gc_collections_gen0,3,21,' "$T/v5.csv" ||
  fail "v5: options do not make another cell: $(cat "$T/v5.csv")"
grep -q '^rc-gen,pool,binary-trees,depth=4,1,1,rc-gen.gc_collections_gen0,3,11,' "$T/v5.csv" ||
  fail "v5: the cell without options: $(cat "$T/v5.csv")"

echo "plot.py: $fails failures (python: $PY)"
[ "$fails" -eq 0 ]
