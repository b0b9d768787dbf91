# SPDX-License-Identifier: MIT
# tests/harness/matrix-file.sh — YAML matrix files: --dry-run lists the cells of the file,
# flags override the file's axes and scalars, per-workload params and timeouts apply, and
# every malformed file, unknown key or bad value is one line naming FILE:LINE, exit 2,
# with the output file not created. Also --shard partitions and --shuffle permutes.
. "$(dirname "$0")/lib.sh" "$@"
cd "$TMP" || exit 1

cat >m.yaml <<'Y'
name: small
collectors: [rc, rc-plain]
allocators: [sys]
workloads: [binary-trees, churn]
threads: [1, 2]
placement: [none, compact]
repeat: 2
scale: 0.01
params:
  binary-trees: {depth: 6}
timeouts: {churn: 30}
Y
"$GCLAB" run --matrix m.yaml --dry-run >out 2>err || fail "dry-run exit $? ($(cat err))"
head -1 out | grep -q '^matrix small: 32 cells, 32 to run$' || fail "dry-run header: $(head -1 out)"
[ "$(grep -c '^[0-9]* rc' out)" -eq 32 ] || fail "dry-run lists $(grep -c '^[0-9]* rc' out) cells, expected 32"
grep -q 'binary-trees params=depth=6 ' out || fail "the file's params are not applied"
grep 'churn' out | grep -qv 'timeout=30' && fail "the per-workload timeout is not applied"
grep 'binary-trees' out | grep -qv 'timeout=300' && fail "the default timeout changed"
grep -q 'placement=compact.* pus=0;1 nodes_used=1' out || fail "no plan for compact with 2 threads"
[ -e results ] && fail "--dry-run created results/"

# Flags override the file.
"$GCLAB" run --matrix m.yaml --dry-run --collector rc --threads 1 --repeat 1 --param binary-trees.depth=7 >out 2>&1 ||
  fail "override exit $?"
head -1 out | grep -q ': 4 cells' || fail "flags do not override: $(head -1 out)"
grep -q 'depth=7' out || fail "--param does not override the file"
grep -q rc-plain out && fail "--collector does not override the file"

# Shards partition the cells; shuffle permutes them (same seed, same order).
for k in 1 2 3; do "$GCLAB" run --matrix m.yaml --dry-run --shard $k/3 | sed 1,2d | cut -d' ' -f2- >s$k; done
"$GCLAB" run --matrix m.yaml --dry-run | sed 1,2d | cut -d' ' -f2- >all
[ "$(cat s1 s2 s3 | sort | uniq -d | wc -l)" -eq 0 ] || fail "shards overlap"
cmp -s <(cat s1 s2 s3 | sort) <(sort all) || fail "shards do not cover the matrix"
"$GCLAB" run --matrix m.yaml --dry-run --shuffle=5 | sed 1,2d | cut -d' ' -f2- >sh1
"$GCLAB" run --matrix m.yaml --dry-run --shuffle=5 | sed 1,2d | cut -d' ' -f2- >sh2
cmp -s sh1 sh2 || fail "--shuffle=5 is not deterministic"
cmp -s sh1 all && fail "--shuffle=5 did not change the order"
cmp -s <(sort sh1) <(sort all) || fail "--shuffle changed the set of cells"

# bad FILE CONTENT PATTERN: one line matching PATTERN, exit 2, no output created.
bad() {
  printf '%b' "$2" >"$1"
  "$GCLAB" run --matrix "$1" --out never.csv >o 2>e
  local st=$?
  [ $st -eq 2 ] || fail "$1: exit $st, expected 2 ($(cat e))"
  [ "$(wc -l <e)" -eq 1 ] || fail "$1: not one line: $(cat e)"
  grep -q -- "$3" e || fail "$1: message '$(cat e)' does not match '$3'"
  [ -e never.csv ] && fail "$1: the output was created"
  return 0
}
bad b1.yaml 'collectors: [rc]\nbogus: 1\n' "b1.yaml:2: unknown key 'bogus'"
bad b2.yaml 'collectors: [rc, nope]\n' "b2.yaml:1: unknown collector 'nope'"
bad b3.yaml 'collectors: [rc\n' "b3.yaml:[0-9]*: malformed YAML"
bad b4.yaml 'workloads: [churn]\nparams:\n  churn: {depth: 3}\n' "b4.yaml:3: .*no parameter 'depth'"
bad b5.yaml 'repeat: many\n' "b5.yaml:1: bad value 'many'"
bad b6.yaml 'placement: [far]\n' "b6.yaml:1: unknown placement 'far'"
bad b7.yaml '- a\n- b\n' "b7.yaml:1: .*mapping"
bad b8.yaml 'threads: 1\nthreads: 2\n' "b8.yaml:2: key 'threads' is given twice"
bad b9.yaml 'repeat: [1, 2]\n' "b9.yaml:1: 'repeat' must be a single value"
bad b10.yaml 'workloads: [churn]\ntimeouts: {binary-trees: 5}\n' "b10.yaml:2: timeouts: workload 'binary-trees' is not selected"
bad b11.yaml 'scale: 0.1\n---\nscale: 0.2\n' "b11.yaml:[0-9]*: a second YAML document"
bad b12.yaml 'collectors: []\n' "b12.yaml:1: 'collectors' is an empty list"
"$GCLAB" run --matrix missing.yaml >o 2>e
[ $? -eq 2 ] && grep -q "cannot read matrix file 'missing.yaml'" e || fail "a missing file: $(cat e)"
echo ok
