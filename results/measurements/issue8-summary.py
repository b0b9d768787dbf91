#!/usr/bin/env python3
"""results/measurements/issue8-summary.py CSV — medians and minimums of wall_s per cell of
an issue8-segment.sh CSV, and the 2-thread / 1-thread ratios of both."""
import collections, csv, statistics, sys

rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["status"] == "ok"]
wall = collections.defaultdict(list)
for r in rows:
    wall[(r["collector"], r["allocator"], r["workload"], int(r["threads"]))].append(float(r["wall_s"]))
print("| collector | allocator | workload | n | t1 median | t2 median | ratio (medians) | t1 min | t2 min | ratio (mins) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for k in sorted({k[:3] for k in wall}):
    a, b = wall.get(k + (1,), []), wall.get(k + (2,), [])
    if not a or not b:
        continue
    m1, m2 = statistics.median(a), statistics.median(b)
    print(f"| {k[0]} | {k[1]} | {k[2]} | {len(a)}+{len(b)} | {m1:.3f} | {m2:.3f} | {m2 / m1:.2f} "
          f"| {min(a):.3f} | {min(b):.3f} | {min(b) / min(a):.2f} |")
