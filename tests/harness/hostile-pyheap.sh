# SPDX-License-Identifier: MIT
# tests/harness/hostile-pyheap.sh — the pyheap snapshot that ran is in the row (issue 11,
# item 11): GCLAB_PYHEAP was read whatever `snapshot` said and the row claimed snapshot=0.
# Now snapshot=-1 replays GCLAB_PYHEAP's file (the params column says so), GCLAB_PYHEAP
# with a shipped index or -1 without it is an error (one line from the runner, the cell's
# status error:), and the figures pyheap.snapshot_hash / pyheap.snapshot_bytes tell files
# apart: the same bytes give the same hash under any name, other bytes another; the column
# workload_input names the file that ran.
. "$(dirname "$0")/lib.sh" "$@"
cd "$TMP" || exit 1
"$GCLAB" list | workloads_of | grep -qx pyheap || { echo "SKIP: no pyheap workload"; exit 0; }
SNAP=$HERE/../../workloads/pyheap/snapshots/tiny-synthetic.pyheap
A="--collector rc --allocator sys --workload pyheap --param rounds=1 --repeat 1"
# field ROW COLUMN: the value of COLUMN in data row ROW of a.csv.
field() { csv_col a.csv "$2" | sed -n "$1p"; }

"$GCLAB" run $A --param snapshot=2 --out a.csv >/dev/null 2>e || fail "shipped snapshot 2: exit $? ($(cat e))"
h=$(field 1 pyheap.snapshot_hash)
[ -n "$h" ] || fail "no pyheap.snapshot_hash in the row"
[ "$(field 1 pyheap.snapshot_bytes)" = "$(stat -c %s "$SNAP")" ] || fail "snapshot_bytes '$(field 1 pyheap.snapshot_bytes)'"
cp "$SNAP" copy.pyheap
GCLAB_PYHEAP=$TMP/copy.pyheap "$GCLAB" run $A --param snapshot=-1 --out a.csv >/dev/null 2>e ||
  fail "GCLAB_PYHEAP with snapshot=-1: exit $? ($(cat e))"
[ "$(field 2 params)" = "snapshot=-1;rounds=1;churn=0.1" ] || fail "params of the GCLAB_PYHEAP row: '$(field 2 params)'"
[ "$(field 2 pyheap.snapshot_hash)" = "$h" ] || fail "the same bytes gave another hash: $(field 2 pyheap.snapshot_hash) vs $h"
[ "$(field 2 workload_input)" = "$TMP/copy.pyheap" ] || fail "workload_input of the GCLAB_PYHEAP row: '$(field 2 workload_input)'"
case "$(field 1 workload_input)" in */snapshots/tiny-synthetic.pyheap) ;; *) fail "workload_input of the shipped row: '$(field 1 workload_input)'" ;; esac
sed 's/^program .*/program tiny-synthetic (edited copy)/' "$SNAP" >edited.pyheap
GCLAB_PYHEAP=$TMP/edited.pyheap "$GCLAB" run $A --param snapshot=-1 --out a.csv >/dev/null 2>e ||
  fail "edited GCLAB_PYHEAP: exit $? ($(cat e))"
[ "$(field 3 status)" = ok ] || fail "edited copy: status '$(field 3 status)'"
[ "$(field 3 pyheap.snapshot_hash)" != "$h" ] || fail "another file gave the same hash $h"
GCLAB_PYHEAP=$TMP/copy.pyheap "$GCLAB" run $A --param snapshot=2 --out a.csv >/dev/null 2>e
[ "$(field 4 status)" = "error:runner exit status 2 without a record" ] || fail "GCLAB_PYHEAP with snapshot=2: status '$(field 4 status)'"
grep -q "GCLAB_PYHEAP is set but snapshot=2 selects the shipped tiny-synthetic.pyheap" e ||
  fail "GCLAB_PYHEAP with snapshot=2: stderr $(grep -v '^gclab: \[' e)"
"$GCLAB" run $A --param snapshot=-1 --out a.csv >/dev/null 2>e
grep -q "snapshot=-1 replays the file named by GCLAB_PYHEAP, which is not set" e ||
  fail "snapshot=-1 without GCLAB_PYHEAP: stderr $(grep -v '^gclab: \[' e)"
echo ok
