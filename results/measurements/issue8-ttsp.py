#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""results/measurements/issue8-ttsp.py — time to safepoint and the cost of a stop, before
and after a change: runs one runner of each of several runner folders alternately (so
machine load spreads over both), REPS times, and prints per folder and thread count the
medians of ttsp_p50/p99/max_us, wall_s, pause_total_s, gc_s, and the cost of a stop:
(pause_total_s - gc_s) / pause_count, the part of a pause that is not collection work
(time to safepoint, the stop and restart protocol, events and statistics). It calls the
runners directly (not `gclab run`) because two builds cannot be cells of one run.

  usage: issue8-ttsp.py REPS PAIR WORKLOAD THREADS "RUNNER ARGS" DIR...
  e.g.   issue8-ttsp.py 5 rc-gen-segment binary-trees 2,8 "--param depth=16 --scale 0.5" \\
             /tmp/base/runners build/runners
"""
import shlex, statistics, subprocess, sys

reps, pair, workload, threads, extra = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
dirs = sys.argv[6:]
keys = ("ttsp_p50_us", "ttsp_p99_us", "ttsp_max_us", "wall_s", "cpu_s", "pause_count", "pause_total_s", "gc_s")
got = {}
for rep in range(reps):
    for t in threads.split(","):
        for d in dirs:  # alternate the builds within each repetition
            cmd = [f"{d}/gclab-run-{pair}", "--workload", workload, "--threads", t, "--seed", str(1 + rep)]
            out = subprocess.run(cmd + shlex.split(extra), capture_output=True, text=True).stdout
            rec = dict(l.split("=", 1) for l in out.splitlines() if "=" in l)
            if rec.get("status") != "ok":
                print(f"{d} t={t}: status {rec.get('status')}", file=sys.stderr)
                continue
            row = got.setdefault((d, int(t)), {k: [] for k in keys + ("stop_us",)})
            for k in keys:
                if rec.get(k, "") != "":
                    row[k].append(float(rec[k]))
            if rec.get("pause_count") and rec.get("gc_s") and float(rec["pause_count"]) > 0:
                row["stop_us"].append((float(rec["pause_total_s"]) - float(rec["gc_s"])) / float(rec["pause_count"]) * 1e6)
print(f"{pair} {workload} {extra}, {reps} runs each, medians (load average at the end: "
      f"{open('/proc/loadavg').read().split()[0]} on {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} CPUs)")
print("| runners | threads | ttsp p50 us | ttsp p99 us | ttsp max us | wall s | cpu s | stops | pause total s | gc s | stop cost us |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for (d, t), row in sorted(got.items(), key=lambda x: (x[0][1], dirs.index(x[0][0]))):
    m = {k: (statistics.median(v) if v else float("nan")) for k, v in row.items()}
    print(f"| {d} | {t} | {m['ttsp_p50_us']:.2f} | {m['ttsp_p99_us']:.1f} | {m['ttsp_max_us']:.0f} | {m['wall_s']:.3f} "
          f"| {m['cpu_s']:.3f} | {m['pause_count']:.0f} | {m['pause_total_s']:.3f} | {m['gc_s']:.3f} | {m['stop_us']:.1f} |")
