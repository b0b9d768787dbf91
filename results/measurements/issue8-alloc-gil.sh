#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# results/measurements/issue8-alloc-gil.sh — where pool's time under the GIL goes beyond the
# serial bound at 2 threads (issue 8, branch i8-alloc). For rc x pool and rc-gen x pool on
# churn and binary-trees (the goal script's sizes: --scale 0.024, depth 18), three
# configurations, alternated REPEAT times: 1 thread; 2 threads with the default 5 ms switch
# interval; 2 threads with a 10 s interval (no switch at all: the first thread runs to its
# end, then the second; the serial run). Prints medians of wall_s, cpu_s, user and system
# seconds, voluntary context switches and max RSS (from /usr/bin/time), and the 2/1 ratios.
# If "2 threads, 10 s" already shows the excess over 2.0, switches do not cause it.
# Then the instruction counts (callgrind, threads serialised by valgrind) of the same three
# configurations of rc x pool churn: whether the 2-thread run executes more than 2x.
#   usage: issue8-alloc-gil.sh BUILD_DIR [REPEAT]      (SWEEP=1: only part 3 below)
# Timings on the shared 2-vCPU machine are inflated and noisy (load average printed).
set -euo pipefail
cd "$(dirname "$0")/../.."
b=${1:?usage: issue8-alloc-gil.sh BUILD_DIR [REPEAT]}
R=${2:-7}
echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD) load: $(cut -d' ' -f1-3 /proc/loadavg)"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
[ "${SWEEP:-0}" = 1 ] || for c in rc rc-gen; do
  for w in churn binary-trees; do
    p=(--workload $w --scale 0.024); [ $w = binary-trees ] && p+=(--param depth=18)
    : >"$tmp"
    for i in $(seq "$R"); do
      for cfg in "1 5" "2 5" "2 10000"; do
        set -- $cfg
        rec=$(/usr/bin/time -f "TIME user=%U sys=%S nvcsw=%w rss=%M" "$b/runners/gclab-run-$c-pool" "${p[@]}" \
                --threads $1 --gil --gil-interval $2 --record-fd 1 2>&1 | tr ' ' '\n')
        echo "t$1/iv$2 $(echo "$rec" | grep -E '^(wall_s|cpu_s|user|sys|nvcsw|rss)=' | tr '\n' ' ')" >>"$tmp"
      done
    done
    python3 - "$c" "$w" "$tmp" <<'PY'
import sys, statistics as st, collections
c, w, f = sys.argv[1:]
d = collections.defaultdict(lambda: collections.defaultdict(list))
for line in open(f):
    cfg, *kv = line.split()
    for x in kv:
        k, v = x.split('=')
        d[cfg][k].append(float(v))
keys = ['wall_s', 'cpu_s', 'user', 'sys', 'nvcsw', 'rss']
med = {cfg: {k: st.median(d[cfg][k]) for k in keys} for cfg in d}
for cfg in ['t1/iv5', 't2/iv5', 't2/iv10000']:
    m = med[cfg]
    r = ''
    if cfg != 't1/iv5':
        r = '  2/1: wall %.2f cpu %.2f user %.2f' % tuple(m[k] / med['t1/iv5'][k] for k in ['wall_s', 'cpu_s', 'user'])
    print('%s x pool %s %s: ' % (c, w, cfg) + ' '.join('%s %.4g' % (k, m[k]) for k in keys) + r)
PY
  done
done
[ "${SWEEP:-0}" = 1 ] || echo "## callgrind Ir, rc x pool churn"
[ "${SWEEP:-0}" = 1 ] || for cfg in "1 5" "2 5" "2 10000"; do
  set -- $cfg
  ir=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$b/runners/gclab-run-rc-pool" --workload churn \
         --scale 0.024 --threads $1 --gil --gil-interval $2 --sample-ms 0 --record-fd 1 2>&1 >/dev/null |
       sed -n 's/.*Collected : *\([0-9]*\).*/\1/p')
  echo "rc x pool churn t$1/iv$2: Ir $ir"
done
[ "${SWEEP:-0}" = 1 ] || echo "# end $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
# Part 3 (SWEEP=1): rc x pool churn at 2 threads over switch intervals 1, 5, 50 ms and 10 s
# (no switch), REPEAT runs alternated: does the excess grow with the number of switches
# (a cost per switch: hand-off, cache refill) or only with the overlap of the two threads'
# live sets (any interval shorter than the run)?
if [ "${SWEEP:-0}" = 1 ]; then
  echo "## interval sweep, rc x pool churn, 2 threads (and 1 thread), medians of $R"
  : >"$tmp"
  for i in $(seq "$R"); do
    for cfg in "1 5" "2 1" "2 5" "2 50" "2 10000"; do
      set -- $cfg
      rec=$(/usr/bin/time -f "TIME user=%U nvcsw=%w rss=%M" "$b/runners/gclab-run-rc-pool" --workload churn --scale 0.024 \
              --threads $1 --gil --gil-interval $2 --record-fd 1 2>&1 | tr ' ' '\n')
      echo "t$1/iv$2 $(echo "$rec" | grep -E '^(cpu_s|user|nvcsw|rss)=' | tr '\n' ' ')" >>"$tmp"
    done
  done
  python3 - "$tmp" <<'PY'
import sys, statistics as st, collections
d = collections.defaultdict(lambda: collections.defaultdict(list))
for line in open(sys.argv[1]):
    cfg, *kv = line.split()
    for x in kv:
        k, v = x.split('='); d[cfg][k].append(float(v))
base = st.median(d['t1/iv5']['cpu_s'])
for cfg in ['t1/iv5', 't2/iv1', 't2/iv5', 't2/iv50', 't2/iv10000']:
    m = {k: st.median(v) for k, v in d[cfg].items()}
    print('%-11s cpu_s %.4f (%.2fx t1)  nvcsw %d  rss %d kB' % (cfg, m['cpu_s'], m['cpu_s'] / base, m['nvcsw'], m['rss']))
PY
  echo "# end $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
