#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/install-deps.sh [--test] — install gclab's build dependencies from Debian's
# packages if any is missing (Debian 12 or later); with --test (scripts/test.sh, CI) also
# what only the tests need: slurm-wlm and munge, for tests/slurm's single-node Slurm on
# localhost (on a machine with systemd, installing them enables their services). Needs
# root or sudo when something must be installed; does nothing when everything is there.
set -euo pipefail

packages=(build-essential cmake ninja-build pkg-config git libhwloc-dev liburcu-dev libcriterion-dev
          libyaml-dev libmimalloc-dev libjemalloc-dev libgc-dev python3 python3-matplotlib)
if [ "${1:-}" = --test ]; then packages+=(slurm-wlm munge); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "gclab: installing missing packages: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "gclab: not root and no sudo; run as root: apt-get install ${missing[*]}" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
