#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/analysis/plot-figures-test.sh DIR — runs plot-figures-test.py (every plot kind,
# what was drawn counted against the sample CSVs) with the first python3 that can import
# matplotlib; exit 77 (ctest: skipped) when none can.
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import matplotlib' 2>/dev/null; then
    exec "$p" "$(dirname "$0")/plot-figures-test.py" "$1"
  fi
done
echo "SKIP: matplotlib is not importable by python3 or /usr/bin/python3 (Debian: apt-get install python3-matplotlib)"
exit 77
