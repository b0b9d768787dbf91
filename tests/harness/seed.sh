# SPDX-License-Identifier: MIT
# tests/harness/seed.sh — seeds are 64-bit integers end to end: a seed above 2^53 is
# passed to the runner and written to the row exactly (two repetitions never share one),
# up to 2^64-1; seed + repeat - 1 beyond 2^64-1 is refused (seeds do not wrap), as is a
# seed beyond 2^64-1, from a flag or the matrix file: one line, exit 2, nothing created.
. "$(dirname "$0")/lib.sh" "$@"
cd "$TMP" || exit 1
R="--collector rc --allocator sys --workload binary-trees --param depth=4"

"$GCLAB" run $R --seed 9007199254740993 --repeat 2 --out s.csv >/dev/null 2>err || fail "run exit $? ($(tail -2 err))"
[ "$(csv_col s.csv seed | tr '\n' ' ')" = "9007199254740993 9007199254740994 " ] ||
  fail "seeds above 2^53 are not exact: $(csv_col s.csv seed | tr '\n' ' ')"
csv_col s.csv config | sed -n 2p | grep -q 'seed=9007199254740994;' || fail "the runner got another seed: $(csv_col s.csv config | sed -n 2p)"
"$GCLAB" run $R --seed 18446744073709551614 --repeat 2 --out top.csv >/dev/null 2>err || fail "run at 2^64-2 exit $? ($(tail -2 err))"
[ "$(csv_col top.csv seed | tail -1)" = 18446744073709551615 ] || fail "the last seed is not 2^64-1: $(csv_col top.csv seed)"
[ "$(csv_col top.csv status | sort -u)" = ok ] || fail "a runner refused a 64-bit seed: $(csv_col top.csv status)"

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
refuse "the last seed (seed + repeat - 1) would pass 2^64-1" --seed 18446744073709551615 --repeat 2
refuse "bad value '18446744073709551616' for --seed" --seed 18446744073709551616
refuse "bad value '-1' for --seed" --seed -1
refuse "bad value '1.5' for --seed" --seed 1.5
printf 'seed: 18446744073709551615\nrepeat: 3\n' >m.yaml
refuse "would pass 2^64-1" --matrix m.yaml
"$GCLAB" run $R --seed 18446744073709551615 --repeat 1 --dry-run | grep -q 'seed=18446744073709551615 ' ||
  fail "--dry-run does not show the exact seed"
echo "ok"
