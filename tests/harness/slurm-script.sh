# SPDX-License-Identifier: MIT
# tests/harness/slurm-script.sh — `gclab slurm` without a cluster (tests/slurm runs it on
# a real Slurm):
#  - bad input (no matrix, a missing one, N < 1, N > cells, DIR not writable, a file, or
#    holding files, values an #SBATCH line cannot carry): exit 2, one line naming the
#    value, nothing written;
#  - the job script records the partition, constraint and time (#SBATCH lines and header
#    comment), runs an array of N tasks with --exclusive and `gclab run --shard K/N
#    --resume`, and matrix.yaml is the matrix's copy; no temporary file is left;
#  - its tasks run by hand (SLURM_ARRAY_TASK_ID=K) and merge.sh give the local run's cells
#    and checksums; merge.sh refuses while a shard is incomplete.
. "$(dirname "$0")/lib.sh" "$@"
cd "$TMP" || exit 1
cat >m.yaml <<'YAML'
name: slurm script
collectors: [rc, rc-plain]
allocators: [sys]
workloads: [binary-trees, churn]
repeat: 2
scale: 0.02
YAML

# bad ARGS... : exit 2, one line on stderr that contains $WANT, nothing in ./d or ./full.
mkdir full && touch full/x afile
bad() {
  "$GCLAB" slurm "$@" >out 2>err
  local st=$?
  [ $st -eq 2 ] || fail "gclab slurm $*: exit $st, expected 2 ($(cat err))"
  [ "$(wc -l <err)" -eq 1 ] || fail "gclab slurm $*: not one line: $(cat err)"
  grep -qF -- "$WANT" err || fail "gclab slurm $*: '$WANT' not in: $(cat err)"
  [ ! -e d ] || fail "gclab slurm $*: created d"
  [ "$(ls -A full)" = x ] || fail "gclab slurm $*: wrote into full/"
}
WANT="no matrix file" bad --shards 2 --out d
WANT="nope.yaml" bad nope.yaml --shards 2 --out d
WANT="'0' for --shards" bad m.yaml --shards 0 --out d
WANT="'two' for --shards" bad m.yaml --shards two --out d
WANT="'9' for --shards: the matrix has 8 cells (expected 1..8" bad m.yaml --shards 9 --out d
WANT="--shards N is required" bad m.yaml --out d
WANT="--out DIR is required" bad m.yaml --shards 2
WANT="'afile/d' is not writable: Not a directory" bad m.yaml --shards 2 --out afile/d
WANT="'nodir/d' cannot be created: nodir: No such file" bad m.yaml --shards 2 --out nodir/d
WANT="'afile' exists and is not a folder" bad m.yaml --shards 2 --out afile
WANT="'full' already holds files ('x'" bad m.yaml --shards 2 --out full
WANT="'5 min' for --time" bad m.yaml --shards 2 --out d --time "5 min"
WANT="'1:2:3:4' for --time" bad m.yaml --shards 2 --out d --time 1:2:3:4
WANT="'a b' for --partition" bad m.yaml --shards 2 --out d --partition "a b"
WANT="'x#y' for --constraint" bad m.yaml --shards 2 --out d --constraint "x#y"
WANT="unknown option '--node'" bad m.yaml --shards 2 --out d --node x
echo "collectors: [nosuch]" >bad.yaml
WANT="bad.yaml:1: unknown collector 'nosuch'" bad bad.yaml --shards 2 --out d

# A job of 3 shards; an existing empty folder is fine.
mkdir job
"$GCLAB" slurm m.yaml --shards 3 --out job --partition p1 --constraint "c1&c2" --time 1-0:30 >out 2>err ||
  fail "gclab slurm exit $? ($(cat err))"
[ "$(ls -A job | tr '\n' ' ')" = "job.sbatch matrix.yaml merge.sh " ] || fail "job/ holds: $(ls -A job)"
cmp -s m.yaml job/matrix.yaml || fail "job/matrix.yaml is not a copy of the matrix"
[ -x job/job.sbatch ] && [ -x job/merge.sh ] || fail "the scripts are not executable"
bash -n job/job.sbatch && sh -n job/merge.sh || fail "a script does not parse"
J=$(realpath job)
for line in "#SBATCH --array=1-3" "#SBATCH --exclusive" "#SBATCH --requeue" "#SBATCH --partition=p1" \
  "#SBATCH --constraint=c1&c2" "#SBATCH --time=1-0:30" "#SBATCH --output=$J/shard-%a.log" \
  "#SBATCH --job-name=gclab-slurm_script" "#   partition:  p1" "#   constraint: c1&c2" "#   time:       1-0:30"; do
  grep -qxF -- "$line" job/job.sbatch || fail "job.sbatch lacks '$line'"
done
grep -q -- '--shard "$K/$N" --resume' job/job.sbatch || fail "the task does not run its shard with --resume"
grep -q "sbatch $J/job.sbatch" out || fail "the submit command is not printed: $(cat out)"
# #SBATCH lines must come before the first command (sbatch stops reading them there).
awk '/^#SBATCH/ && cmd { exit 1 } !/^#/ && NF { cmd = 1 }' job/job.sbatch || fail "an #SBATCH line after a command"
mkdir job2
"$GCLAB" slurm m.yaml --shards 1 --out job2/ >/dev/null 2>&1 || fail "--shards 1 into 'job2/' exit $?"
grep -qF "#   partition:  (none given" job2/job.sbatch || fail "no partition is not echoed as none"
grep -q "^#SBATCH --partition" job2/job.sbatch && fail "a partition line without --partition"

# Without Slurm the script says so.
env -u SLURM_ARRAY_TASK_ID bash job/job.sbatch >out 2>err && fail "job.sbatch ran outside a job array"
grep -q "submit this script with sbatch" err || fail "job.sbatch outside Slurm: $(cat err)"
# Its tasks by hand, then merge.sh.
for k in 1 2; do SLURM_ARRAY_TASK_ID=$k bash job/job.sbatch >/dev/null 2>&1 || fail "task $k exit $?"; done
job/merge.sh >out 2>&1 && fail "merge.sh merged with shard 3 missing"
grep -q "shard 3/3 is not complete" out || fail "merge.sh with shard 3 missing: $(cat out)"
[ -e job/merged.csv ] && fail "merge.sh wrote a file for incomplete shards"
SLURM_ARRAY_TASK_ID=3 bash job/job.sbatch >/dev/null 2>&1 || fail "task 3 exit $?"
SLURM_ARRAY_TASK_ID=3 bash job/job.sbatch >/dev/null 2>&1 || fail "task 3 again (a requeue) exit $?"
job/merge.sh >out 2>&1 || fail "merge.sh exit $?: $(cat out)"
job/merge.sh >out 2>&1 && fail "merge.sh over an existing merged.csv"
"$GCLAB" run --matrix m.yaml --out local.csv >/dev/null 2>&1 || fail "local run exit $?"
cells() {
  paste -d'|' <(csv_col "$1" collector) <(csv_col "$1" allocator) <(csv_col "$1" workload) \
    <(csv_col "$1" seed) <(csv_col "$1" rep) <(csv_col "$1" status) <(csv_col "$1" checksum) | sort
}
[ "$(csv_rows job/merged.csv)" -eq 8 ] || fail "merged $(csv_rows job/merged.csv) rows, expected 8"
[ "$(cells local.csv | grep -c '|ok|[^|]')" -eq 8 ] || fail "local cells not all ok with checksums"
[ "$(cells local.csv)" = "$(cells job/merged.csv)" ] || fail "merged shards differ from the local run"
echo ok
