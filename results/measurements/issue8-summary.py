#!/usr/bin/env python3
"""results/measurements/issue8-summary.py CSV — medians and minimums of wall_s per cell of
an issue8-segment.sh CSV, the 2-thread / 1-thread ratios of both, and the ratio of the
median cpu_s (each thread does the whole workload, so 2.0 is perfect scaling)."""
import collections, csv, statistics, sys

rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["status"] == "ok"]
load = [float(r["loadavg_1m"]) for r in rows]
print(f"{len(rows)} ok cells; 1-minute load average before a cell: median {statistics.median(load):.1f}, "
      f"range {min(load):.1f}..{max(load):.1f} (2 vCPUs)\n")
wall = collections.defaultdict(list)
cpu = collections.defaultdict(list)
for r in rows:
    k = (r["collector"], r["allocator"], r["workload"], int(r["threads"]))
    wall[k].append(float(r["wall_s"]))
    cpu[k].append(float(r["cpu_s"]))
print("| collector | allocator | workload | n | wall t1 median | t2 median | ratio | wall t1 min | t2 min | ratio | cpu t2/t1 (medians) |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for k in sorted({k[:3] for k in wall}):
    a, b = wall.get(k + (1,), []), wall.get(k + (2,), [])
    if not a or not b:
        continue
    m1, m2 = statistics.median(a), statistics.median(b)
    print(f"| {k[0]} | {k[1]} | {k[2]} | {len(a)}+{len(b)} | {m1:.3f} | {m2:.3f} | {m2 / m1:.2f} "
          f"| {min(a):.3f} | {min(b):.3f} | {min(b) / min(a):.2f} "
          f"| {statistics.median(cpu[k + (2,)]) / statistics.median(cpu[k + (1,)]):.2f} |")
