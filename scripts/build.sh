#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/build.sh [DIR [cmake args...]] — configure and build gclab (default: build/,
# Release). Re-running only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
