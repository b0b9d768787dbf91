# SPDX-License-Identifier: MIT
# tests/harness/slowdown.sh — `gclab run --slowdown F` reaches the runner and pads the
# measured window: the row's config says slowdown=F; the pad (wall_s minus the sum of
# iter_wall_s, which leaves it out) is at least the CPU time it was asked to burn,
# F/(1+F) of cpu_s (one thread's wall time cannot be less than its CPU time), and cpu_s
# is the larger one, up to 5%: other threads of the process (the sampler) keep using CPU
# during the pad, so cpu_s grows by a little more than the pad (a 0.1% margin failed about
# 1 run in 25 beside two busy loops); F = 0 (the default) passes nothing and pads nothing. A bad F is one
# line, exit 2, nothing created. No timing ratio is asserted: only these inequalities,
# which hold however loaded the machine is.
. "$(dirname "$0")/lib.sh" "$@"
cd "$TMP" || exit 1
R="--collector rc --allocator sys --workload churn --scale 0.01 --repeat 2"

"$GCLAB" run $R --slowdown 1 --out s.csv >/dev/null 2>err || fail "run exit $? ($(tail -2 err))"
csv_col s.csv config | grep -q 'slowdown=1' || fail "config lacks slowdown=1: $(csv_col s.csv config | head -1)"
paste -d' ' <(csv_col s.csv wall_s) <(csv_col s.csv iter_wall_s) <(csv_col s.csv cpu_s) |
  awk '{ pad = $1 - $2; if (!(pad >= 0.5 * $3 * 0.95 && $3 > 0)) { print "wall " $1 " iter " $2 " cpu " $3; bad = 1 } } END { exit bad }' ||
  fail "the pad is shorter than half of cpu_s (slowdown 1)"
"$GCLAB" run $R --out z.csv >/dev/null 2>err || fail "run without --slowdown exit $?"
csv_col z.csv config | grep -q 'slowdown=0' || fail "config lacks slowdown=0: $(csv_col z.csv config | head -1)"
paste -d' ' <(csv_col z.csv wall_s) <(csv_col z.csv iter_wall_s) |
  awk '{ if ($1 - $2 > 0.001) bad = 1 } END { exit bad }' || fail "a pad without --slowdown"

for bad in -1 11 x ""; do
  "$GCLAB" run $R --slowdown "$bad" --out never.csv >o 2>e
  st=$?
  [ $st -eq 2 ] || fail "--slowdown '$bad': exit $st, expected 2"
  [ "$(wc -l <e)" -eq 1 ] && grep -q "slowdown" e || fail "--slowdown '$bad': $(cat e)"
  [ -e never.csv ] && fail "--slowdown '$bad': the output was created"
done
echo "slowdown: ok"
