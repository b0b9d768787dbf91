# SPDX-License-Identifier: MIT
"""workloads/pyheap/cpython-gc-time.py — CPython's own full-collection time per tracked
object, in wall time and in thread CPU time, for the same program a shipped snapshot was
dumped from (snapshots/README.md has the commands).

Usage: python3 cpython-gc-time.py [--repeats N] --run PROG [ARGS...]

Runs PROG as __main__ (as pyheap-dump.py does), collects once (the dumper does too, so the
heap is the live one), then times N gc.collect() calls (default 31) with
time.perf_counter() and time.thread_time() and prints one line of key=value pairs:
tracked (len(gc.get_objects()) before the timed calls), wall_ns_per_tracked and
cpu_ns_per_tracked (medians over the calls, divided by tracked). The CPU-time figure is
what pyheap's gc_full_cpu_ns_per_tracked compares with: on a machine shared with other
jobs the wall time includes the waits for a CPU and is not comparable between runs.

Invariants: nothing is allocated between the timed calls but the two floats of each
measurement; no other Python thread runs (PROG's threads have ended). No macros.
"""
import argparse
import gc
import os
import runpy
import statistics
import sys
import time


def main(argv=None):
    ap = argparse.ArgumentParser(description="Time CPython's gc.collect() on a program's heap.")
    ap.add_argument("--repeats", type=int, default=31, help="timed gc.collect() calls (default 31)")
    ap.add_argument("--run", required=True, metavar="PROG", help="the program to run first")
    ap.add_argument("args", nargs=argparse.REMAINDER, help="arguments for PROG")
    opts = ap.parse_args(argv)
    if opts.repeats < 1:
        ap.error("--repeats %d: expected a whole number >= 1" % opts.repeats)
    if not os.path.isfile(opts.run):
        ap.error("--run %s: no such file" % opts.run)
    sys.argv = [opts.run] + opts.args
    try:
        prog_globals = runpy.run_path(opts.run, run_name="__main__")
    except SystemExit:
        prog_globals = None
    gc.collect()
    tracked = len(gc.get_objects())
    wall, cpu = [], []
    for _ in range(opts.repeats):
        w0, c0 = time.perf_counter(), time.thread_time()
        gc.collect()
        c1, w1 = time.thread_time(), time.perf_counter()
        wall.append(w1 - w0)
        cpu.append(c1 - c0)
    print("python=%s program=%s tracked=%d repeats=%d wall_ns_per_tracked=%.1f cpu_ns_per_tracked=%.1f"
          % (sys.version.split()[0], os.path.basename(opts.run), tracked, opts.repeats,
             statistics.median(wall) * 1e9 / tracked, statistics.median(cpu) * 1e9 / tracked))
    del prog_globals
    return 0


if __name__ == "__main__":
    sys.exit(main())
