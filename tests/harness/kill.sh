# SPDX-License-Identifier: MIT
# tests/harness/kill.sh — a killed gclab leaves only complete rows and no runner:
#  - SIGKILL mid-matrix: every row is complete (field count, final newline) and the
#    running runner dies with it (PR_SET_PDEATHSIG);
#  - SIGTERM / SIGINT during a cell: the cell is killed, no row is written for it, exit
#    status 143 / 130.
. "$(dirname "$0")/lib.sh" "$@"

# rows_at_least FILE N: FILE has at least N data rows (header excluded).
rows_at_least() { [ -f "$1" ] && [ "$(($(wc -l <"$1") - 1))" -ge "$2" ]; }
runner_running() { [ -n "$(runner_pids)" ]; }
# cell_running FILE: a cell's runner runs and gclab has written FILE's header (before the
# first cell, gclab asks every runner to --describe itself: those are runners too).
cell_running() { [ -s "$1" ] && runner_running; }

csv=$TMP/k.csv
"$GCLAB" run --collector rc,rc-plain --allocator sys --workload binary-trees --param depth=12 \
  --repeat 1000 --out "$csv" >/dev/null 2>&1 &
pid=$!
wait_for "3 rows" rows_at_least "$csv" 3
wait_for "a running cell" cell_running "$csv"
kill -KILL $pid
wait $pid 2>/dev/null
n=$(csv_rows "$csv") # fails on an incomplete row or a missing final newline
[ "$n" -ge 3 ] && [ "$n" -lt 2000 ] || fail "$n rows after SIGKILL"
[ "$(csv_col "$csv" status | sort -u)" = ok ] || fail "rows after SIGKILL are not all ok"
wait_for "the last runner to finish" no_runner_left

# A long cell (minutes: small tree, huge scale) outlives a SIGKILLed gclab only if
# PR_SET_PDEATHSIG is missing.
LONG="--workload binary-trees --param depth=16 --scale 1000"
"$GCLAB" run --collector rc --allocator sys $LONG --repeat 1 --out "$TMP/long.csv" >/dev/null 2>&1 &
pid=$!
wait_for "the long cell to start" cell_running "$TMP/long.csv"
kill -KILL $pid
wait $pid 2>/dev/null
wait_for "the orphaned runner to die (PR_SET_PDEATHSIG)" no_runner_left
[ "$(csv_rows "$TMP/long.csv")" -eq 0 ] || fail "a row was written for the killed cell"

for sig in TERM INT; do
  csv=$TMP/$sig.csv
  "$GCLAB" run --collector rc --allocator sys $LONG --repeat 1 --out "$csv" >"$TMP/out" 2>"$TMP/err" &
  pid=$!
  wait_for "the cell to start" cell_running "$csv"
  kill -$sig $pid
  wait $pid
  rc=$?
  want=$([ $sig = TERM ] && echo 143 || echo 130)
  [ $rc -eq "$want" ] || fail "SIG$sig: exit status $rc, expected $want"
  [ "$(csv_rows "$csv")" -eq 0 ] || fail "SIG$sig: a row was written for the killed cell"
  grep -q "stopped by SIG$sig" "$TMP/err" || fail "SIG$sig: no 'stopped' line on stderr"
  [ ! -s "$TMP/out" ] || fail "SIG$sig: a summary was printed for an interrupted run"
  wait_for "the SIG$sig-killed cell to die" no_runner_left
done
echo "ok"
