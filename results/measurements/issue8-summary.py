#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""results/measurements/issue8-summary.py — two reports.

  issue8-summary.py CSV             medians and minimums of wall_s per cell of an
                                    issue8-segment.sh CSV, the 2-thread / 1-thread ratios of
                                    both, and the ratio of the median cpu_s (each thread does
                                    the whole workload, so 2.0 is perfect scaling).
  issue8-summary.py --goals PREFIX  the goals of issue 8 from the gclab CSVs that
                                    issue8-goals.sh wrote (PREFIX-scaling.csv, ...): each goal
                                    with its measured ratio (of medians of ok rows) and
                                    met / not met; tables without a goal are printed.
"""
import collections, csv, os, statistics, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cells import load, med, ratio, verdict  # noqa: E402


def fmt(x, d=3):
    return "-" if x is None else f"{x:.{d}f}"


def goals_scaling(prefix):
    c = load(prefix + "-scaling.csv", missing_ok=True)
    print("## Weak scaling (2-thread / 1-thread median wall_s; thread-private work)")
    refs = [k for k in c if k[3] == "binary-trees-malloc" and k[1] == "mimalloc"]
    walls = collections.defaultdict(list)
    for k in refs:
        walls[k[4]] += [float(r["wall_s"]) for r in c[k]]
    ref = ratio(*(statistics.median(walls[t]) if walls[t] else None for t in (2, 1)))
    print(f"reference: binary-trees-malloc on mimalloc (all mimalloc runners pooled): 2/1 = {fmt(ref)}; "
          f"goal: each cell <= 1.10 x that = {fmt(ref and 1.10 * ref)}")
    print("| collector | allocator | workload | t1 s | t2 s | 2/1 | / reference | goal |")
    print("|---|---|---|---|---|---|---|---|")
    for col in ("rc", "brc", "rc-gen"):
        for alloc in ("segment", "mimalloc"):
            for w in ("binary-trees", "churn", "cycles"):
                t1, t2 = med(c, (col, alloc, "false", w, 1)), med(c, (col, alloc, "false", w, 2))
                r = ratio(t2, t1)
                rel = ratio(r, ref)
                goal = "-" if col == "rc-gen" and alloc == "mimalloc" else (
                    "n/a" if rel is None else verdict(rel <= 1.10))
                print(f"| {col} | {alloc} | {w} | {fmt(t1)} | {fmt(t2)} | {fmt(r, 2)} | {fmt(rel, 2)} | {goal} |")
    g = load(prefix + "-gilpool.csv", missing_ok=True)
    print("\n## Pool under the GIL (2/1 median wall_s; goal <= 2.1, the serial bound)")
    print("| collector | workload | t1 s | t2 s | 2/1 | goal |")
    print("|---|---|---|---|---|---|")
    for col in ("rc-gen", "rc"):
        for w in ("binary-trees", "churn", "cycles"):
            t1, t2 = med(g, (col, "pool", "true", w, 1)), med(g, (col, "pool", "true", w, 2))
            r = ratio(t2, t1)
            print(f"| {col}+gil | {w} | {fmt(t1)} | {fmt(t2)} | {fmt(r, 2)} | {'n/a' if r is None else verdict(r <= 2.1)} |")


def goals_pep703(prefix):
    c = load(prefix + "-pep703.csv", missing_ok=True)
    print("\n## PEP 703: CPython's default build with threads vs 3.13t (median wall_s)")
    print("| configuration | workload | t1 s | t2 s | 2/1 | ttsp p99 us (t2) |")
    print("|---|---|---|---|---|---|")
    for col, alloc, gil, name in (("rc-gen", "pool", "true", "rc-gen x pool x GIL (default build)"),
                                  ("brc", "mimalloc", "false", "brc x mimalloc (3.13t)"),
                                  ("brc", "segment", "false", "brc x segment"),
                                  ("rc-gen", "pool", "false", "rc-gen x pool, no GIL (pool's lock)")):
        for w in ("binary-trees", "churn", "pyheap"):
            t1, t2 = med(c, (col, alloc, gil, w, 1)), med(c, (col, alloc, gil, w, 2))
            print(f"| {name} | {w} | {fmt(t1)} | {fmt(t2)} | {fmt(ratio(t2, t1), 2)} "
                  f"| {fmt(med(c, (col, alloc, gil, w, 2), 'ttsp_p99_us'), 1)} |")


def goals_segmi(prefix):
    c = load(prefix + "-segmi.csv", missing_ok=True)
    print("\n## segment vs the mimalloc adapter (median segment / median mimalloc; goals: time <= 1.0, peak RSS <= 1.2)")
    print("| collector | workload | threads | wall ratio | goal | max_rss_kb ratio | goal |")
    print("|---|---|---|---|---|---|---|")
    for col in ("rc-plain", "rc"):
        for w in ("binary-trees", "churn"):
            for t in (1, 2):
                if col == "rc-plain" and t == 2:
                    continue  # rc-plain is one thread only (invalid at 2)
                ks, km = (col, "segment", "false", w, t), (col, "mimalloc", "false", w, t)
                rw = ratio(med(c, ks), med(c, km))
                rr = ratio(med(c, ks, "max_rss_kb"), med(c, km, "max_rss_kb"))
                print(f"| {col} | {w} | {t} | {fmt(rw, 3)} | {'n/a' if rw is None else verdict(rw <= 1.0)} "
                      f"| {fmt(rr, 3)} | {'n/a' if rr is None else verdict(rr <= 1.2)} |")


def goals_handoff(prefix):
    c = load(prefix + "-handoff.csv", missing_ok=True)
    print("\n## handoff (cross-thread frees): median wall_s, and / mimalloc")
    print("| collector | threads | segment | mimalloc | pool | segment / mimalloc | pool / mimalloc |")
    print("|---|---|---|---|---|---|---|")
    for col in ("rc", "brc"):
        for t in (2, 4):
            v = {a: med(c, (col, a, "false", "handoff", t)) for a in ("segment", "mimalloc", "pool")}
            print(f"| {col} | {t} | {fmt(v['segment'])} | {fmt(v['mimalloc'])} | {fmt(v['pool'])} "
                  f"| {fmt(ratio(v['segment'], v['mimalloc']), 2)} | {fmt(ratio(v['pool'], v['mimalloc']), 2)} |")


def goals_preload(prefix):
    c = load(prefix + "-preload.csv", missing_ok=True)
    print("\n## rc-plain on gclab's fastest allocator vs binary-trees-malloc with mimalloc (LD_PRELOAD)")
    libs = sorted({r["malloc_lib"] for rows in c.values() for r in rows})
    envs = sorted({r["malloc_env"] for rows in c.values() for r in rows})
    print(f"malloc_lib of the rows: {', '.join(libs) or '-'}; malloc_env: {', '.join(envs) or '-'}")
    base = [float(r["wall_s"]) for k, rows in c.items() if k[3] == "binary-trees-malloc" for r in rows]
    bm = statistics.median(base) if base else None
    best = None
    for a in ("segment", "mimalloc", "pool", "sys"):
        m = med(c, ("rc-plain", a, "false", "binary-trees", 1))
        print(f"rc-plain x {a}: {fmt(m)} s ({fmt(ratio(m, bm), 2)}x binary-trees-malloc)")
        if a != "sys" and m is not None and (best is None or m < best[1]):
            best = (a, m)
    if best:
        print(f"binary-trees-malloc with mimalloc: {fmt(bm)} s; fastest gclab allocator: {best[0]}; "
              f"ratio {fmt(ratio(best[1], bm), 2)}x (reported; the issue quotes pool at 2.35x)")


def goals(prefix):
    goals_scaling(prefix)
    goals_pep703(prefix)
    goals_segmi(prefix)
    goals_handoff(prefix)
    goals_preload(prefix)


if len(sys.argv) == 3 and sys.argv[1] == "--goals":
    goals(sys.argv[2])
    sys.exit(0)
if len(sys.argv) != 2:
    sys.exit("usage: issue8-summary.py CSV | issue8-summary.py --goals PREFIX")

rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["status"] == "ok"]
loads = [float(r["loadavg_1m"]) for r in rows]
print(f"{len(rows)} ok cells; 1-minute load average before a cell: median {statistics.median(loads):.1f}, "
      f"range {min(loads):.1f}..{max(loads):.1f} (2 vCPUs)\n")
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
