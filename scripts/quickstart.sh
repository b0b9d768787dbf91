#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/quickstart.sh — the README's first command: install what is missing, build, run
# the default matrix (every valid collector x allocator x workload, 1 thread, 3 repetitions)
# into results/quickstart.csv, and print gclab's summary table. Extra arguments go to
# `gclab run` (e.g. --scale 0.2 for a faster look).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
exec build/gclab run --out results/quickstart.csv "$@"
