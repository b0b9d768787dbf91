# SPDX-License-Identifier: MIT
# tests/slurm/slurm.sh — `gclab slurm` for real: a single-node Slurm on localhost (munged
# as the munge user, slurmctld -D and slurmd -D as root, its own slurm.conf, munge key and
# ports in this test's temporary directory), a small matrix submitted as a 4-task job array
# (--partition, --constraint and --time given, so sbatch must accept our #SBATCH lines),
# merge.sh, and the merged CSV compared with a local run: the same cells with the same
# statuses and checksums, each once. --resume is checked twice: shard 3 is run locally
# first, as a requeued task would find it, and its array task must add nothing; task 2 is
# requeued for real (scontrol requeue) once done, and must run again and add nothing.
#
# Exit 77 (ctest SKIP) with the reason when Slurm cannot run here; GCLAB_SLURM_TEST=require
# turns a skip into a failure. Every daemon and job process carries GCLAB_SLURM_TEST_TAG in
# its environment (slurmstepd, which clears it, is found by its open slurmd.log); the EXIT
# trap cancels the job, then kills exactly those (TERM, then KILL), so nothing is left
# behind even when a check fails or the test is stopped by a signal.
. "$(dirname "$0")/../harness/lib.sh" "$@"
TAG=$TMP
PIDS=() # munged, slurmctld, slurmd
job=    # the job id once submitted
skip() {
  [ "${GCLAB_SLURM_TEST:-}" = require ] && fail "GCLAB_SLURM_TEST=require, but: $*"
  echo "SKIP: $*"
  exit 77
}

# tagged: pids of live processes whose environment holds our tag (bash builtins only, so
# the scan itself never matches).
tagged() {
  local d p env
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    [ "$p" = $$ ] && continue
    mapfile -d '' env 2>/dev/null <"$d/environ" || continue
    [[ " ${env[*]} " == *" GCLAB_SLURM_TEST_TAG=$TAG "* ]] && alive "$p" && echo "$p"
  done
}
# stepds: pids of slurmstepd processes of our slurmd (it clears its environment, but keeps
# our slurmd.log open).
stepds() {
  local d comm fd
  for d in /proc/[0-9]*; do
    read -r comm 2>/dev/null <"$d/comm" || continue
    [ "$comm" = slurmstepd ] || continue
    for fd in "$d"/fd/*; do
      [[ $(readlink "$fd" 2>/dev/null) == "$TMP"/* ]] && { echo "${d#/proc/}"; break; }
    done
  done
}
cleanup() {
  local i left
  trap - EXIT
  # Jobs first, while slurmd can still end their steps cleanly (bounded: 10 s).
  if [ -n "${job:-}" ] && [ ${#PIDS[@]} -ge 3 ] && alive "${PIDS[1]}"; then
    scancel "$job" 2>/dev/null
    for i in $(seq 50); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.2; done
  fi
  for i in $(seq 50); do
    left="$(tagged) $(stepds) ${PIDS[*]}"
    left=$(for p in $left; do alive "$p" && echo "$p"; done)
    [ -z "$left" ] && break
    kill $([ "$i" -lt 40 ] && echo -TERM || echo -KILL) $left 2>/dev/null
    sleep 0.1
  done
  [ -n "$left" ] && echo "WARNING: processes left: $left" >&2
  rm -rf "$TMP"
}
trap 'st=$?; cleanup; exit $st' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Can Slurm run here at all?
[ "$(id -u)" -eq 0 ] || skip "slurmd must run as root to start jobs (this is uid $(id -u))"
for tool in munged mungekey slurmctld slurmd sbatch squeue sinfo scontrol setpriv; do
  command -v $tool >/dev/null || skip "$tool is not installed (scripts/install-deps.sh --test installs slurm-wlm and munge)"
done
id munge >/dev/null 2>&1 || skip "there is no munge user (the munge package creates it)"

# Ports: two not listening now (a clash later shows as a daemon that does not start).
listening() { grep -qi "^ *[0-9]*: [0-9A-F]*:$(printf %04X "$1") [0-9A-F:]* 0A" /proc/net/tcp /proc/net/tcp6 2>/dev/null; }
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    listening $p || listening $((p + 1)) || { echo $p; return; }
  done
  skip "no free TCP port found on localhost"
}
PORT=$(free_port)

# munged: a key of our own, socket in a world-traversable folder (munged checks both).
chmod 711 "$TMP"
mkdir -p "$TMP/munge-key" "$TMP/munge-run" "$TMP/state" "$TMP/spool" "$TMP/job"
chown munge:munge "$TMP/munge-key" "$TMP/munge-run"
chmod 700 "$TMP/munge-key"
chmod 755 "$TMP/munge-run"
KEY=$TMP/munge-key/munge.key SOCK=$TMP/munge-run/munge.socket
setpriv --reuid=munge --regid=munge --clear-groups mungekey --create --keyfile="$KEY" >"$TMP/mungekey.out" 2>&1 ||
  skip "no munge key possible: $(tail -n 1 "$TMP/mungekey.out")"
GCLAB_SLURM_TEST_TAG=$TAG setpriv --reuid=munge --regid=munge --clear-groups munged -F \
  --key-file="$KEY" --socket="$SOCK" --pid-file="$TMP/munge-run/munged.pid" \
  --log-file="$TMP/munge-key/munged.log" --seed-file="$TMP/munge-key/munged.seed" >"$TMP/munged.out" 2>&1 &
PIDS+=($!)
started() { [ -S "$SOCK" ] || ! alive "${PIDS[0]}"; }
wait_for "munged" started
[ -S "$SOCK" ] || skip "munged does not start: $(grep -h -m1 Error "$TMP/munged.out" "$TMP/munge-key/munged.log" 2>/dev/null || tail -n 1 "$TMP/munged.out")"

# slurm.conf: one node, this host as 127.0.0.1, no cgroups, no accounting.
NODE=$(hostname -s)
export SLURM_CONF=$TMP/slurm.conf
cat >"$SLURM_CONF" <<CONF
ClusterName=gclabtest
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCK
StateSaveLocation=$TMP/state
SlurmdSpoolDir=$TMP/spool
SlurmctldPidFile=$TMP/slurmctld.pid
SlurmdPidFile=$TMP/slurmd.pid
SlurmctldLogFile=$TMP/slurmctld.log
SlurmdLogFile=$TMP/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$(nproc) Feature=gclabnode State=UNKNOWN
PartitionName=gclabpart Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF
GCLAB_SLURM_TEST_TAG=$TAG slurmctld -D -f "$SLURM_CONF" >"$TMP/slurmctld.out" 2>&1 &
PIDS+=($!)
GCLAB_SLURM_TEST_TAG=$TAG slurmd -D -f "$SLURM_CONF" -N "$NODE" >"$TMP/slurmd.out" 2>&1 &
PIDS+=($!)
node_up() { sinfo -h -n "$NODE" -o %t 2>/dev/null | grep -qx idle || ! alive "${PIDS[1]}" || ! alive "${PIDS[2]}"; }
for _ in $(seq 150); do node_up && break; sleep 0.2; done # 30 s at most
if ! sinfo -h -n "$NODE" -o %t 2>/dev/null | grep -qx idle; then
  why=$(grep -h -m2 -iE "fatal|error" "$TMP/slurmctld.out" "$TMP/slurmd.out" | grep -v -i pmix | head -n 2)
  skip "slurmctld/slurmd do not start here: ${why:-node state '$(sinfo -h -n "$NODE" -o %t 2>&1)'}"
fi
echo "slurm: node $NODE idle on 127.0.0.1:$PORT"

# The matrix: 8 cells, 2 per shard.
cd "$TMP" || exit 1
cat >m.yaml <<'YAML'
name: slurm-test
collectors: [rc, rc-plain]
allocators: [sys]
workloads: [binary-trees, churn]
threads: [1]
repeat: 2
scale: 0.03
timeout: 60
YAML
"$GCLAB" slurm m.yaml --shards 4 --out job --partition gclabpart --constraint gclabnode --time 5 >out 2>err ||
  fail "gclab slurm exit $? ($(cat err))"
cat out
for f in job.sbatch merge.sh matrix.yaml; do [ -s "job/$f" ] || fail "job/$f not written"; done
grep -qx '#SBATCH --array=1-4' job/job.sbatch || fail "no 1-4 array: $(grep SBATCH job/job.sbatch)"

# A requeued task finds its shard (partly) written: shard 3 is complete before submission.
"$GCLAB" run --matrix job/matrix.yaml --shard 3/4 --out job/shard-3.csv >/dev/null 2>&1 || fail "local shard 3 exit $?"
[ "$(csv_rows job/shard-3.csv)" -eq 2 ] || fail "local shard 3 has $(csv_rows job/shard-3.csv) rows"
job=$(GCLAB_SLURM_TEST_TAG=$TAG sbatch --parsable job/job.sbatch 2>err) || fail "sbatch refused the script: $(cat err)"
echo "slurm: submitted job $job"
queued() { [ -z "$(squeue -h -j "$job" 2>/dev/null)" ]; }
for _ in $(seq 150); do queued && break; sleep 1; done # 150 s at most
queued || fail "job $job still queued after 150 s: $(squeue -j "$job" 2>&1 | tail -n +2)"
for k in 1 2 3 4; do
  [ -s "job/shard-$k.log" ] || [ "$k" = 3 ] || fail "no log of array task $k"
  [ "$(csv_rows "job/shard-$k.csv")" -eq 2 ] ||
    fail "shard $k has $(csv_rows "job/shard-$k.csv") rows, expected 2; its log: $(tail -n 3 "job/shard-$k.log")"
done
grep -q "shard 3/4" job/shard-3.log || fail "array task 3 did not run: $(cat job/shard-3.log)"
job/merge.sh >merge.out 2>&1 || fail "merge.sh exit $?: $(cat merge.out)"
[ -s job/merged.csv ] || fail "merge.sh wrote no job/merged.csv"

# A real requeue of a finished task: it runs again, finds its shard complete, adds nothing.
# (Slurm holds a requeued job back for a while: StartTime=now lets it start at once.)
scontrol requeue "${job}_2" 2>err || fail "scontrol requeue ${job}_2: $(cat err)"
scontrol update JobId="${job}_2" StartTime=now 2>err || fail "scontrol update ${job}_2 StartTime=now: $(cat err)"
requeued() { grep -q "shard 2/4 .*(restart 1)" job/shard-2.log && queued; }
for _ in $(seq 60); do requeued && break; sleep 1; done
requeued || fail "requeued task 2 did not run again within 60 s: $(squeue -j "$job" 2>&1 | tail -n +2); $(tail -n 2 job/shard-2.log)"
[ "$(csv_rows job/shard-2.csv)" -eq 2 ] || fail "the requeued task left $(csv_rows job/shard-2.csv) rows, expected 2"
echo "slurm: requeued task 2 ran again: $(grep -c 'shard 2/4' job/shard-2.log) runs in its log, $(csv_rows job/shard-2.csv) rows"

# The same cells, run here.
"$GCLAB" run --matrix m.yaml --out local.csv >/dev/null 2>&1 || fail "local run exit $?"
cells() {
  paste -d'|' <(csv_col "$1" collector) <(csv_col "$1" allocator) <(csv_col "$1" workload) \
    <(csv_col "$1" params) <(csv_col "$1" threads) <(csv_col "$1" seed) <(csv_col "$1" rep) \
    <(csv_col "$1" status) <(csv_col "$1" checksum) | sort
}
cells job/merged.csv >merged.cells
cells local.csv >local.cells
[ "$(wc -l <local.cells)" -eq 8 ] || fail "local run has $(wc -l <local.cells) cells, expected 8"
grep -qv '|ok|[^|]' local.cells && fail "a local cell is not ok with a checksum: $(grep -v '|ok|[^|]' local.cells | head -n 1)"
diff local.cells merged.cells >cells.diff || fail "merged shards differ from the local run: $(cat cells.diff)"
echo "slurm: 4 array tasks, merged $(csv_rows job/merged.csv) rows = the local run's cells and checksums"
echo ok
