# SPDX-License-Identifier: MIT
# tests/harness/list.sh — `gclab list` shows collectors, allocators, every workload with its
# parameters, defaults and ranges, and every collector x allocator pair as valid/invalid.
. "$(dirname "$0")/lib.sh" "$@"

out=$("$GCLAB" list) || fail "gclab list exit status $?"
echo "$out" | grep -q '^collectors: .*\brc\b' || fail "no collectors line with rc"
echo "$out" | grep -q '^allocators: .*\bsys\b' || fail "no allocators line with sys"
echo "$out" | grep -q '^  binary-trees  ' || fail "binary-trees not listed"
echo "$out" | grep -q -- '--param depth=18  (whole number in \[4, 26\])' ||
  fail "binary-trees depth default/range not shown"
ncol=$(echo "$out" | sed -n 's/^collectors://p' | wc -w)
nall=$(echo "$out" | sed -n 's/^allocators://p' | wc -w)
npairs=$(echo "$out" | pairs_of | wc -l)
[ "$npairs" -eq $((ncol * nall)) ] || fail "$npairs pairs listed, expected $ncol x $nall"
echo "$out" | pairs_of | while read -r c a verdict; do
  case $verdict in
  valid) ;;
  invalid:) echo "$out" | grep -q "^  $c  *x $a  *invalid: ." || fail "pair $c x $a: no reason" ;;
  *) fail "pair $c x $a marked '$verdict', expected valid or invalid:" ;;
  esac
done || exit 1

# Without runners the workloads cannot be known: say so, exit 1, still list the pairs.
out=$(GCLAB_RUNNERS=$TMP/none "$GCLAB" list) && fail "list without runners exited 0"
echo "$out" | grep -q "^workloads: unknown: no runner in $TMP/none" || fail "no 'workloads: unknown' line"
[ "$(echo "$out" | pairs_of | wc -l)" -eq "$npairs" ] || fail "pairs not listed without runners"

# --figures and --options: one table each, from the runners' describe union.
"$GCLAB" list --figures | head -1 | grep -q '^module  *figure  *unit  *meaning$' || fail "list --figures has no header"
"$GCLAB" list --figures | grep -q '^pool  *arenas_peak  *count  ' || fail "list --figures lacks pool.arenas_peak"
"$GCLAB" list --options | head -1 | grep -q '^module  *option  *type  *default  *accepted  *help$' || fail "list --options has no header"
"$GCLAB" list --options | grep -q '^rc-gen  *threshold0  *int  *-1  *\[-1, ' || fail "list --options lacks rc-gen.threshold0"
"$GCLAB" list --options | grep -q '^rc-gen  *policy  *enum  *3.13 ' || fail "list --options lacks rc-gen.policy"
GCLAB_RUNNERS=$TMP/none "$GCLAB" list --figures 2>/dev/null && fail "list --figures without runners exited 0"
"$GCLAB" list --bogus 2>"$TMP/err"
[ $? -eq 2 ] || fail "list --bogus: exit status, expected 2"

"$GCLAB" list extra 2>"$TMP/err" && fail "list with an argument exited 0"
[ "$(wc -l <"$TMP/err")" -eq 1 ] || fail "list with an argument: not one error line"
echo "ok"
