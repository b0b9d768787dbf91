# SPDX-License-Identifier: MIT
# tests/harness/bad-input.sh — every bad name or value is refused before anything runs:
# exit status 2, exactly one line on stderr naming the bad value, nothing on stdout, an
# existing CSV byte-identical, a missing one (and the default results/ folder) not created.
. "$(dirname "$0")/lib.sh" "$@"

csv=$TMP/h.csv
"$GCLAB" run --collector rc --allocator sys --workload binary-trees --param depth=4 \
  --repeat 1 --out "$csv" >/dev/null 2>&1 || fail "setup run failed"
cp "$csv" "$TMP/before.csv"
mkdir "$TMP/cwd" && cd "$TMP/cwd" || exit 1

# refuse WORD ARGS...: `gclab run ARGS` must exit 2 with one stderr line containing WORD.
refuse() {
  local word=$1 rc
  shift
  "$GCLAB" run --collector rc --allocator sys --workload binary-trees "$@" \
    >"$TMP/out" 2>"$TMP/err"
  rc=$?
  [ $rc -eq 2 ] || fail "run $*: exit status $rc, expected 2"
  [ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "run $*: $(wc -l <"$TMP/err") stderr lines, expected 1: $(cat "$TMP/err")"
  grep -qF -- "$word" "$TMP/err" || fail "run $*: the error does not name '$word': $(cat "$TMP/err")"
  [ ! -s "$TMP/out" ] || fail "run $*: wrote to stdout"
  cmp -s "$csv" "$TMP/before.csv" || fail "run $*: the existing CSV was modified"
  [ ! -e results ] || fail "run $*: created results/"
}
for out in "--out $csv" ""; do
  # shellcheck disable=SC2086
  refuse nope $out --collector nope
  refuse nope $out --allocator nope
  refuse nope $out --workload nope
  refuse "'nope'" $out --param nope=1
  refuse abc $out --param depth=abc
  refuse 99 $out --param depth=99
  refuse 8.5 $out --param depth=8.5
  refuse "'=3'" $out --param =3
  refuse depth $out --param depth
  refuse nope $out --param nope.depth=3
  refuse nope $out --param binary-trees.nope=3
  refuse 0 $out --threads 0
  refuse x $out --threads 1,x
  refuse empty $out --threads 1,,2
  refuse twice $out --threads 1,1
  refuse twice $out --threads 2,2.0
  refuse 5000 $out --threads 5000
  refuse 0 $out --repeat 0
  refuse 2.5 $out --repeat 2.5
  refuse -1 $out --scale -1
  refuse 1e9 $out --scale 1e9
  refuse x $out --seed x
  refuse -3 $out --seed -3
  refuse 0 $out --timeout 0
  refuse --bogus $out --bogus
  refuse stray $out stray
  refuse twice $out --scale 1 --scale 2
  refuse "needs a value" $out --seed
done
# A workload named in --param must be selected.
other=$("$GCLAB" list | workloads_of | grep -vx binary-trees | head -1)
[ -z "$other" ] || refuse "not selected" --out "$csv" --param "$other.x=1"
"$GCLAB" run --collector nope --out "$TMP/never.csv" 2>/dev/null
[ ! -e "$TMP/never.csv" ] || fail "a refused run created its --out file"
"$GCLAB" bogus-command 2>"$TMP/err"
[ $? -eq 2 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "unknown command not refused with one line"
echo "ok"
