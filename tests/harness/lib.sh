# SPDX-License-Identifier: MIT
# tests/harness/lib.sh — sourced by every harness test: `. lib.sh "$@"` with the gclab
# executable as $1. Gives a private temporary directory ($TMP, removed at exit), a private
# copy of the runners ($RUNNERS, so process checks only ever see this test's runners) and
# helpers. Every check that fails prints one FAIL line and exits 1.
set -u
GCLAB=$(realpath -- "$1")
[ -x "$GCLAB" ] || { echo "FAIL: gclab executable '$GCLAB' not found" >&2; exit 1; }
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TMP=$(mktemp -d /tmp/gclab-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
RUNNERS=$TMP/runners
mkdir -p "$RUNNERS"
cp "$(dirname "$GCLAB")"/runners/gclab-run-* "$RUNNERS"/ 2>/dev/null
export GCLAB_RUNNERS=$RUNNERS

fail() { echo "FAIL: $*" >&2; exit 1; }

# csv_rows FILE: number of data rows; fails if a row's field count differs from the header's
# or the file does not end with a newline.
csv_rows() {
  local out
  out=$(awk -v mode=check -f "$HERE/csv.awk" "$1") || fail "$1: incomplete rows: $out"
  if [ -s "$1" ] && [ "$(tail -c1 "$1" | od -An -tx1 | tr -d ' ')" != 0a ]; then
    fail "$1 does not end with a newline"
  fi
  echo "$out"
}
# csv_col FILE NAME: the decoded values of column NAME, one line per row.
csv_col() { awk -v mode=col -v name="$2" -f "$HERE/csv.awk" "$1" || fail "$1: no column $2"; }

# pairs_of: the pairs in a `gclab list` output on stdin, one "collector allocator verdict"
# line each (verdict: valid or invalid:).
pairs_of() { awk '/^pairs/ { on = 1; next } on && / x / { print $1, $3, $4 }' | sed 's/,$//'; }

# workloads_of: the workload names in a `gclab list` output on stdin.
workloads_of() { awk '/^workloads/ { on = 1; next } /^pairs/ { on = 0 } on && /^  [a-z]/ { print $1 }'; }

# runner_pids: pids of live processes started from this test's runner copies.
runner_pids() { pgrep -f "^$RUNNERS/" || true; }

# alive PID: the process exists and is not a zombie.
alive() {
  local st
  st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
# none_alive PID...: none of them is alive.
none_alive() {
  local p
  for p in "$@"; do ! alive "$p" || return 1; done
}
# no_runner_left: no process started from this test's runner copies is alive.
no_runner_left() { [ -z "$(runner_pids)" ]; }

# wait_for DESCRIPTION COMMAND...: poll (every 0.05 s, up to 10 s) until COMMAND succeeds.
# Not a timed assertion: the limit only stops a test that would otherwise hang.
wait_for() {
  local what=$1 i
  shift
  for i in $(seq 200); do "$@" && return 0; sleep 0.05; done
  fail "gave up waiting for $what"
}
