# SPDX-License-Identifier: MIT
# tests/harness/invalid-threads.sh — rc-plain cannot run 2 threads: its --threads 2 cells
# are invalid:<reason> rows (empty measurements) while every other cell runs; exit 0.
. "$(dirname "$0")/lib.sh" "$@"

csv=$TMP/h.csv
"$GCLAB" run --collector rc,rc-plain --allocator sys --workload binary-trees --threads 1,2 \
  --param depth=8 --repeat 2 --out "$csv" >"$TMP/out" 2>"$TMP/err" ||
  fail "exit status $?, expected 0 (invalid cells do not fail a run)"
[ "$(csv_rows "$csv")" -eq 8 ] || fail "$(csv_rows "$csv") rows, expected 2 x 2 x 2 = 8"
paste -d '|' <(csv_col "$csv" collector) <(csv_col "$csv" threads) <(csv_col "$csv" status) \
  <(csv_col "$csv" checksum) <(csv_col "$csv" wall_s) >"$TMP/rows"
while IFS='|' read -r c t st sum wall; do
  if [ "$c" = rc-plain ] && [ "$t" = 2 ]; then
    case $st in invalid:?*) ;; *) fail "rc-plain threads=2: status '$st', expected invalid:<reason>" ;; esac
    [ -z "$sum$wall" ] || fail "invalid row has checksum/wall_s '$sum' '$wall' (must be empty)"
  else
    [ "$st" = ok ] || fail "$c threads=$t: status '$st', expected ok"
  fi
done <"$TMP/rows"
grep -q '^rc-plain  *sys  *binary-trees  *2  *0/2 .*invalid:' "$TMP/out" ||
  fail "summary does not show rc-plain threads=2 as 0/2 invalid"

# A pair rejected at configure time gets invalid rows and no runner, if this build has one.
bad=$("$GCLAB" list | pairs_of | awk '$3 == "invalid:" { print $1, $2; exit }')
if [ -n "$bad" ]; then
  set -- $bad
  "$GCLAB" run --collector "$1" --allocator "$2" --workload binary-trees --param depth=8 \
    --repeat 1 --out "$TMP/inv.csv" >/dev/null 2>&1 || fail "invalid pair run exit status $?"
  case $(csv_col "$TMP/inv.csv" status) in invalid:?*) ;; *) fail "pair $1 x $2 row not invalid" ;; esac
  [ -z "$(csv_col "$TMP/inv.csv" process_wall_s)" ] || fail "a runner was started for invalid pair $1 x $2"
fi
echo "ok"
