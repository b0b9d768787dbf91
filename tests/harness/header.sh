# SPDX-License-Identifier: MIT
# tests/harness/header.sh — an existing output whose header is another schema (a column
# renamed, added or missing), or whose last row is cut short, is refused: exit 2, one line,
# the file byte-identical. An empty existing file gets the header.
. "$(dirname "$0")/lib.sh" "$@"

csv=$TMP/h.csv
"$GCLAB" run --collector rc --allocator sys --workload binary-trees --param depth=4 \
  --repeat 1 --out "$csv" >/dev/null 2>&1 || fail "setup run failed"
header=$(head -1 "$csv")

# refused FILE WORD: gclab run --out FILE is refused with one line containing WORD.
refused() {
  local rc
  cp "$1" "$TMP/before"
  "$GCLAB" run --collector rc --allocator sys --workload binary-trees --param depth=4 \
    --repeat 1 --out "$1" >"$TMP/out" 2>"$TMP/err"
  rc=$?
  [ $rc -eq 2 ] || fail "$1: exit status $rc, expected 2"
  [ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "$1: not one error line: $(cat "$TMP/err")"
  grep -qF -- "$2" "$TMP/err" || fail "$1: the error does not say '$2': $(cat "$TMP/err")"
  cmp -s "$1" "$TMP/before" || fail "$1: modified"
}
printf '%s\n' "${header/,wall_s,/,wall_seconds,}" >"$TMP/renamed.csv"
refused "$TMP/renamed.csv" "wall_seconds"
printf '%s,extra\n' "$header" >"$TMP/added.csv"
refused "$TMP/added.csv" "another header"
printf '%s\n' "${header/,config/}" >"$TMP/missing.csv"
refused "$TMP/missing.csv" "another header"
printf 'a,b\n1,2\n' >"$TMP/other.csv"
refused "$TMP/other.csv" "another header"
printf '%s\r\n' "$header" >"$TMP/crlf.csv"
refused "$TMP/crlf.csv" "another header"
{ cat "$csv"; printf '1,2,3'; } >"$TMP/cut.csv"
refused "$TMP/cut.csv" "newline"

: >"$TMP/empty.csv"
"$GCLAB" run --collector rc --allocator sys --workload binary-trees --param depth=4 \
  --repeat 1 --out "$TMP/empty.csv" >/dev/null 2>&1 || fail "empty file: exit status $?"
[ "$(head -1 "$TMP/empty.csv")" = "$header" ] || fail "empty file did not get the header"
[ "$(csv_rows "$TMP/empty.csv")" -eq 1 ] || fail "empty file: expected one row"
echo "ok"
