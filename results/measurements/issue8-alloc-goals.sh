#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# results/measurements/issue8-alloc-goals.sh — the two issue-8 goal tables of branch
# i8-alloc, each in one shuffled `gclab run` with the sizes of quiet-goals.sh (SCALE 0.6 of
# issue8-goals.sh: --scale 0.024, binary-trees depth 18), so issue8-summary.py --goals
# reads them as it reads the quiet runs:
#   segmi    rc-plain, rc x segment, mimalloc x binary-trees, churn x 1, 2 threads
#            (goal: segment / mimalloc median wall <= 1.0, max_rss_kb <= 1.2)
#   gilpool  rc-gen, rc x pool under the GIL x binary-trees, churn, cycles x 1, 2 threads
#            (goal: 2/1 median wall <= 2.1, the serial bound)
#   usage: issue8-alloc-goals.sh BUILD_DIR OUT_PREFIX     (REPEAT, default 5; SEED, default 8)
# Needs gclab and the six runners in BUILD_DIR (GCLAB_RUNNERS is honoured by gclab). Refuses
# to overwrite an existing CSV.
set -euo pipefail
cd "$(dirname "$0")/../.."
b=${1:?usage: issue8-alloc-goals.sh BUILD_DIR OUT_PREFIX}
prefix=${2:?usage: issue8-alloc-goals.sh BUILD_DIR OUT_PREFIX}
R=${REPEAT:-5}
common=(--repeat "$R" --shuffle="${SEED:-8}" --timeout 120 --scale 0.024 --param depth=18)
for t in segmi gilpool; do
  [ -e "$prefix-$t.csv" ] && { echo "issue8-alloc-goals.sh: $prefix-$t.csv exists" >&2; exit 2; }
done
echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD) load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$b/gclab" run --collector rc-plain,rc --allocator segment,mimalloc --workload binary-trees,churn \
  --threads 1,2 "${common[@]}" --out "$prefix-segmi.csv"
"$b/gclab" run --collector rc-gen,rc --allocator pool --gil true --workload binary-trees,churn,cycles \
  --threads 1,2 "${common[@]}" --out "$prefix-gilpool.csv"
echo "# end $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
