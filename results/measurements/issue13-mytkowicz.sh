#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# results/measurements/issue13-mytkowicz.sh BUILD [REPEAT] [PADS] — does a "gclab within
# x of plain C" ratio survive a different link order and environment size (Mytkowicz et
# al., "Producing wrong data without doing anything obviously wrong!", ASPLOS 2009)?
#
# Two binaries of the rc-plain x mimalloc runner: BUILD's own (CMake's link order) and one
# relinked here from the same object files in reverse order (each archive's members
# extracted and named explicitly, last first), so code addresses and alignment change and
# nothing else does. Each binary runs binary-trees / binary-trees-malloc and churn /
# churn-malloc with an extra environment variable of 0..4096 bytes (PADS), which moves the
# initial stack. For every (binary, pad) the runs alternate gclab / plain-C REPEAT times;
# one line per (binary, pad, workload) gives the median wall_s and cpu_s of each and their
# ratio, and the last lines the spread (min, max) of the ratios over all (binary, pad).
# Every run is under LD_PRELOAD=libmimalloc (the runner links mimalloc anyway: the twin's
# malloc is mimalloc either way). Environment: MIMALLOC, BT_ARGS, CHURN_ARGS.
# Invariant: a (gclab, twin) pair always runs with the same binary, env and params.
set -euo pipefail
build=${1:?usage: issue13-mytkowicz.sh BUILD [REPEAT] [PADS]}
repeat=${2:-3}
pads=${3:-"0 1024 2048 4096"}
mi=${MIMALLOC:-/usr/lib/x86_64-linux-gnu/libmimalloc.so}
bt_args=${BT_ARGS:-"--param depth=18 --scale 0.3"}
churn_args=${CHURN_ARGS:-"--scale 0.3"}
build=$(cd "$build" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The relinked binary: runner objects, then the pair library's and base library's members,
# each list reversed.
link=$(cat "$build/CMakeFiles/gclab-run-rc-plain-mimalloc.dir/link.txt")
libs=$(echo "$link" | grep -o '/usr/lib/[^ ]*\.so\|-lm' | tr '\n' ' ')
for a in pair:libgclab-pair-rc-plain-mimalloc.a base:libgclab-base.a; do
  mkdir -p "$tmp/${a%%:*}" && (cd "$tmp/${a%%:*}" && ar x "$build/${a##*:}")
done
objs="$(ls -r "$build"/CMakeFiles/gclab-run-rc-plain-mimalloc.dir/runner/*.o) $(ls -r "$tmp"/pair/*.o) $(ls -r "$tmp"/base/*.o)"
# shellcheck disable=SC2086
cc -O3 $objs -o "$tmp/gclab-run-reversed" $libs
bins="cmake:$build/runners/gclab-run-rc-plain-mimalloc reversed:$tmp/gclab-run-reversed"

one() { # binary pad workload args... -> "wall cpu"
  local bin=$1 pad=$2 w=$3
  shift 3
  # shellcheck disable=SC2068
  env GCL_MYTKOWICZ_PAD="$(head -c "$pad" /dev/zero | tr '\0' x)" LD_PRELOAD="$mi" \
    "$bin" --workload "$w" $@ | awk -F= '$1 == "wall_s" { w = $2 } $1 == "cpu_s" { c = $2 }
      $1 == "status" && $2 != "ok" { print "bad status " $2 > "/dev/stderr"; exit 1 } END { print w, c }'
}
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

printf '%-9s %5s %-13s %9s %9s %9s %9s %7s %7s\n' binary pad workload g_wall c_wall g_cpu c_cpu wall_x cpu_x
: >"$tmp/ratios"
for b in $bins; do
  for pad in $pads; do
    for pair in "binary-trees:binary-trees-malloc:$bt_args" "churn:churn-malloc:$churn_args"; do
      IFS=: read -r w twin args <<<"$pair"
      : >"$tmp/g" && : >"$tmp/c"
      for _ in $(seq "$repeat"); do
        one "${b#*:}" "$pad" "$w" $args >>"$tmp/g"
        one "${b#*:}" "$pad" "$twin" $args >>"$tmp/c"
      done
      gw=$(cut -d' ' -f1 "$tmp/g" | median) gc=$(cut -d' ' -f2 "$tmp/g" | median)
      cw=$(cut -d' ' -f1 "$tmp/c" | median) cc=$(cut -d' ' -f2 "$tmp/c" | median)
      awk -v b="${b%%:*}" -v p="$pad" -v w="$w" -v gw="$gw" -v cw="$cw" -v gc="$gc" -v cc="$cc" 'BEGIN {
        printf "%-9s %5d %-13s %9.4f %9.4f %9.4f %9.4f %7.3f %7.3f\n", b, p, w, gw, cw, gc, cc, gw / cw, gc / cc }'
      awk -v w="$w" -v gw="$gw" -v cw="$cw" -v gc="$gc" -v cc="$cc" 'BEGIN { print w, gw / cw, gc / cc }' >>"$tmp/ratios"
    done
  done
done
for w in binary-trees churn; do
  awk -v w="$w" '$1 == w { n++; if (n == 1 || $2 < wl) wl = $2; if ($2 > wh) wh = $2; if (n == 1 || $3 < cl) cl = $3; if ($3 > ch) ch = $3 }
    END { printf "spread %-13s wall ratio %.3f .. %.3f   cpu ratio %.3f .. %.3f   (%d configurations)\n", w, wl, wh, cl, ch, n }' "$tmp/ratios"
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
