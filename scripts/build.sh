#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/build.sh [--labels REGEX] [DIR [cmake args...]] — configure and build gclab
# (default: build/, Release; Ninja for a new tree when ninja is installed, else CMake's
# default generator). Re-running only rebuilds what changed.
#   --labels REGEX  build only the targets that the tests `ctest -L REGEX` runs need (their
#                   executables, as cmake/test-targets.cmake finds them), not every runner
#                   and harness binary: what scripts/test.sh's sanitizer stages use. Bad
#                   REGEX (no test has a matching label): one line, exit status 2.
set -euo pipefail
cd "$(dirname "$0")/.."
labels=""
if [ "${1:-}" = --labels ]; then
  [ $# -ge 2 ] && [ -n "$2" ] || { echo "build.sh: --labels needs a regular expression (e.g. 'unit|conformance')" >&2; exit 2; }
  labels=$2
  shift 2
fi
dir=${1:-build}
shift || true
# A new tree uses Ninja when it is installed (one build graph for every target; CMake's
# Makefiles build the targets of one --target list one after another); a configured tree
# keeps the generator it was made with (cmake refuses to change it); a -G argument wins.
gen=()
if [ ! -f "$dir/CMakeCache.txt" ] && command -v ninja >/dev/null; then gen=(-G Ninja); fi
for a in "$@"; do case $a in -G*) gen=() ;; esac; done
cmake -S . -B "$dir" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
if [ -z "$labels" ]; then
  exec cmake --build "$dir" -j"$(nproc)"
fi
list="$dir/gclab-test-targets.txt"
if ! cmake -DBUILD_DIR="$dir" -DLABELS="$labels" -DOUT="$list" -P cmake/test-targets.cmake >/dev/null 2>"$dir/gclab-test-targets.err"; then
  echo "build.sh: --labels '$labels': $(sed -n '/test-targets:/,/^$/p' "$dir/gclab-test-targets.err" | tr -s ' \n' '  ' | sed 's/^ *//; s/ *$//')" >&2
  exit 2
fi
mapfile -t targets < <(grep -v '^$' "$list")
echo "build.sh: $dir: ${#targets[@]} targets for the tests labelled '$labels'" >&2
[ ${#targets[@]} -eq 0 ] && exit 0 # the matching tests run scripts only
cmake --build "$dir" -j"$(nproc)" --target "${targets[@]}"
