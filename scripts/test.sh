#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/test.sh — the README's second command: every test, as CI runs them.
#   1. plain Release build: all suites (unit, conformance, harness, analysis, slurm, ...:
#      every label; tests/slurm starts a single-node Slurm and SKIPs, saying why, where it
#      cannot run), then the regression check of results/ci-regression.sh (a small
#      matrix vs. its baseline);
#   2. ASan+UBSan build: unit and conformance suites;
#   3. TSan build: the multi-threaded unit tests and the conformance suites (which run
#      workloads with 2 and 4 threads).
# Builds go to build/, build-asan/, build-tsan/; the sanitizer trees build only what their
# labels' tests run (scripts/build.sh --labels: no runners or harness binaries, which
# only the plain stage's tests use). Stops at the first failing stage.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
jobs=$(nproc)

echo "== plain build: all tests"
scripts/build.sh build
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== CI regression check: small matrix against results/baselines/ci.csv"
results/ci-regression.sh build

echo "== ASan+UBSan build: unit and conformance"
scripts/build.sh --labels 'unit|conformance' build-asan -DGCL_SANITIZE=address -DCMAKE_BUILD_TYPE=RelWithDebInfo
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -L 'unit|conformance'

echo "== TSan build: multi-threaded tests and conformance"
scripts/build.sh --labels 'threads|conformance' build-tsan -DGCL_SANITIZE=thread -DCMAKE_BUILD_TYPE=RelWithDebInfo
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  ctest --test-dir build-tsan --output-on-failure -j"$jobs" -L 'threads|conformance'
echo "== all test stages passed"
