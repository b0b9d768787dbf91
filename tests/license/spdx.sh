#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tests/license/spdx.sh SRC — every source file of the repository (C, headers, shell,
# Python, CMake, awk) names its licence with an SPDX line in its first lines (README.md,
# "Licence"). Prints one FAIL line naming the files without one.
set -u
cd "$1" || exit 1
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  files=$(git ls-files | grep -E '\.(c|h|sh|py|cmake|awk)$|CMakeLists\.txt$|^\.ci/run$' | grep -v '^results/measurements/')
else
  files=$(find . -path ./build\* -prune -o -path ./.git -prune -o -type f \( -name '*.[ch]' -o -name '*.sh' \
          -o -name '*.py' -o -name '*.cmake' -o -name '*.awk' -o -name CMakeLists.txt \) -print)
fi
missing=
for f in $files; do
  [ -f "$f" ] || continue
  head -5 "$f" | grep -q 'SPDX-License-Identifier: MIT' || missing="$missing $f"
done
[ -z "$missing" ] || { echo "FAIL: no SPDX-License-Identifier line in:$missing" >&2; exit 1; }
[ -f LICENSE ] || { echo "FAIL: no LICENSE file" >&2; exit 1; }
echo "spdx: $(echo "$files" | wc -w) files carry SPDX-License-Identifier: MIT"
