# SPDX-License-Identifier: MIT
# tests/harness/fake-runners.sh — every way a cell can end, with scripted runners standing
# in for the real ones (GCLAB_RUNNERS): a timeout (whose whole process group is killed),
# ok, crash:SIGSEGV, exit without a record, an unknown record key, wrong:<why> with commas
# and quotes (RFC 4180 round trip), a record without `end`, mutator_s = wall_s - gc_s, and
# a checksum mismatch between collectors (flagged, exit 1). The matrix goes on throughout.
. "$(dirname "$0")/lib.sh" "$@"

list=$("$GCLAB" list) || fail "gclab list failed"
rm -f "$RUNNERS"/*
export FAKE_PIDS=$TMP/pids
echo "$list" | pairs_of | while read -r c a verdict; do
  f=$RUNNERS/gclab-run-$c-$a
  cat >"$f" <<'FAKE'
#!/bin/sh
# A scripted runner: what it does is chosen by the workload name.
if [ "$1" = --describe ]; then
  echo "pair fake fake 16"
  for w in ok sleep segv exit3 badkey wrong noend mismatch; do echo "workload fake-$w scripted"; done
  echo "param fake-ok n 1 0 10 int a parameter"
  exit 0
fi
w=
while [ $# -gt 0 ]; do [ "$1" = --workload ] && w=$2; shift; done
me=$(basename "$0")
rec() { printf '%s\n' "$@" >&3; }
case $w in
fake-ok) rec status=ok checksum=42 wall_s=0.5 gc_s=0.125 end ;;
fake-sleep) echo $$ >>"$FAKE_PIDS"; sleep 60 & echo $! >>"$FAKE_PIDS"; wait ;;
fake-segv) kill -SEGV $$ ;;
fake-exit3) exit 3 ;;
fake-badkey) rec status=ok checksum=42 bogus_key=1 end ;;
fake-wrong) rec 'status=wrong:sum was 3, expected "4"' checksum=3 end ;;
fake-noend) rec status=ok checksum=42 ;;
fake-mismatch) rec status=ok checksum=${#me} end ;;
esac
FAKE
  chmod +x "$f"
done

csv=$TMP/h.csv
"$GCLAB" run --collector rc --allocator sys \
  --workload fake-sleep,fake-ok,fake-segv,fake-exit3,fake-badkey,fake-wrong,fake-noend \
  --repeat 1 --timeout 0.5 --out "$csv" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] || fail "exit status $rc, expected 1"
[ "$(csv_rows "$csv")" -eq 7 ] || fail "$(csv_rows "$csv") rows, expected 7"
expect='timeout
ok
crash:SIGSEGV
error:runner exit status 3 without a record
error:unknown record key bogus_key
wrong:sum was 3, expected "4"
error:runner exited 0 with an incomplete record'
got=$(csv_col "$csv" status)
[ "$got" = "$expect" ] || fail "statuses:
$got
expected:
$expect"
[ "$(csv_col "$csv" mutator_s | sed -n 2p)" = 0.375 ] || fail "mutator_s is not wall_s - gc_s"
[ "$(csv_col "$csv" checksum | sed -n 6p)" = 3 ] || fail "quoted status shifted the fields"
[ -s "$FAKE_PIDS" ] || fail "the sleeping runner never started"
# SIGKILL is delivered asynchronously: give the killed group a moment to be gone.
wait_for "the timed-out cell's processes to die" none_alive $(cat "$FAKE_PIDS")

# Parameters are checked against what the runners describe.
"$GCLAB" run --collector rc --allocator sys --workload fake-ok --param n=11 --out "$csv" 2>/dev/null
[ $? -eq 2 ] || fail "--param n=11 (range 0..10) not refused"

# Checksums must agree across collectors: a mismatch is flagged and fails the run.
"$GCLAB" run --collector rc,rc-plain --allocator sys --workload fake-mismatch,fake-ok \
  --repeat 1 --out "$TMP/m.csv" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] || fail "checksum mismatch: exit status $rc, expected 1"
grep -q '^checksums fake-mismatch: \*\*\* MISMATCH' "$TMP/out" || fail "mismatch not flagged: $(cat "$TMP/out")"
grep -q '^checksums fake-ok: all 2 ok rows agree' "$TMP/out" || fail "agreeing workload not reported"
grep -q 'CHECKSUM MISMATCH' "$TMP/err" || fail "mismatch not flagged on stderr"
echo "ok"
