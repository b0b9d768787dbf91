# SPDX-License-Identifier: MIT
# tests/harness/timeout.sh — a real runner past --timeout is killed (with its process
# group): its row says timeout with the parent's measurements and no record fields, the
# next cell still runs, no runner is left behind, exit status 1.
. "$(dirname "$0")/lib.sh" "$@"

csv=$TMP/h.csv
# A small tree at scale 1000 takes minutes on any machine; the limit is 0.3 s.
"$GCLAB" run --collector rc,rc-plain --allocator sys --workload binary-trees --param depth=16 --scale 1000 \
  --repeat 1 --timeout 0.3 --out "$csv" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] || fail "exit status $rc, expected 1"
[ "$(csv_rows "$csv")" -eq 2 ] || fail "$(csv_rows "$csv") rows, expected 2 (the matrix goes on)"
[ "$(csv_col "$csv" status | sort -u)" = timeout ] || fail "statuses: $(csv_col "$csv" status | tr '\n' ' ')"
[ -z "$(csv_col "$csv" checksum | tr -d '\n')" ] || fail "timeout rows carry a checksum"
[ -z "$(csv_col "$csv" wall_s | tr -d '\n')" ] || fail "timeout rows carry wall_s"
csv_col "$csv" process_wall_s | grep -qv '^$' || fail "timeout rows lack process_wall_s"
csv_col "$csv" max_rss_kb | grep -qv '^$' || fail "timeout rows lack max_rss_kb (wait4)"
wait_for "no runner left behind" no_runner_left

# Bad --timeout values are refused before anything runs.
for t in 0 -1 abc 1e99; do
  "$GCLAB" run --timeout "$t" --out "$TMP/x.csv" 2>/dev/null
  [ $? -eq 2 ] || fail "--timeout $t not refused with exit 2"
done
[ ! -e "$TMP/x.csv" ] || fail "refused run created its output"
echo "ok"
