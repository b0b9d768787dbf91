#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/unit/none-oom.sh GCLAB — the memory cap of collector `none` (collectors/none/).
# A heap that crosses none.cap ends the cell with status oom: the runner writes a short
# record (status=oom, the collector's figures, the effective cap) and exits 0, and gclab run
# writes a row of status oom, counts it apart and exits 0 (a result, not a failure). Under
# a cap it fits in, the same cell is ok and frees nothing. Uses tests/harness/lib.sh.
. "$(dirname "${BASH_SOURCE[0]}")/../harness/lib.sh" "$@"
R=$RUNNERS/gclab-run-none-sys
[ -x "$R" ] || fail "no runner $R"

# binary-trees at depth 18 allocates far more than 1 MiB: the cap must stop it.
"$R" --workload binary-trees --opt none.cap=1m --record-fd 3 3>"$TMP/rec" >/dev/null 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] || fail "runner over its cap: exit $rc, expected 0; stderr: $(head -c 300 "$TMP/err")"
grep -qx 'status=oom' "$TMP/rec" || fail "runner over its cap: no status=oom in its record: $(head -3 "$TMP/rec")"
grep -qx 'none.cap_bytes=1048576' "$TMP/rec" || fail "record lacks none.cap_bytes=1048576"
grep -qx 'end' "$TMP/rec" || fail "oom record is not complete (no end line)"
! grep -q '^wall_s=' "$TMP/rec" || fail "an oom record must not carry wall_s (the workload did not finish)"
live=$(sed -n 's/^peak_heap_bytes=//p' "$TMP/rec")
[ -n "$live" ] && [ "$live" -gt 1048576 ] || fail "peak_heap_bytes '$live' should exceed the 1 MiB cap"

# The same through gclab run: the row's status is oom.
"$GCLAB" run --collector none --allocator sys --workload binary-trees --opt none.cap=1m --repeat 1 \
  --out "$TMP/oom.csv" >"$TMP/out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || fail "gclab run of an oom cell: exit $rc, expected 0: $(tail -3 "$TMP/out")"
grep -q ': 0 ok, 0 invalid, 1 oom, 0 failed' "$TMP/out" || fail "gclab run does not count the oom cell: $(tail -1 "$TMP/out")"
[ "$(csv_col "$TMP/oom.csv" status)" = oom ] || fail "row status '$(csv_col "$TMP/oom.csv" status)', expected oom"

# Under a cap it fits in: ok, nothing freed, every byte never freed.
"$GCLAB" run --collector none --allocator sys --workload binary-trees --param depth=10 \
  --opt none.cap=1g --repeat 1 --out "$TMP/ok.csv" >"$TMP/out" 2>&1 || fail "none under 1g: $(tail -3 "$TMP/out")"
[ "$(csv_col "$TMP/ok.csv" status)" = ok ] || fail "none under 1g: status $(csv_col "$TMP/ok.csv" status)"
[ "$(csv_col "$TMP/ok.csv" objects_freed)" = 0 ] || fail "none freed $(csv_col "$TMP/ok.csv" objects_freed) objects"
[ "$(csv_col "$TMP/ok.csv" none.bytes_never_freed)" = "$(csv_col "$TMP/ok.csv" bytes_allocated)" ] ||
  fail "none.bytes_never_freed differs from bytes_allocated"
[ "$(csv_col "$TMP/ok.csv" none.cap_bytes)" = 1073741824 ] || fail "none.cap_bytes is not 1 GiB"
echo "none-oom: ok"
