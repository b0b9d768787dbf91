# SPDX-License-Identifier: MIT
"""results/measurements/issue9-goals-summary.py PREFIX — the goal tables of issue 9 from
issue9-goals.sh's CSVs (PREFIX-gcbench.csv, PREFIX-lru.csv, PREFIX-lru-heap.csv): medians
over the repetitions of each cell (ok rows only), side by side. Max pause and the pause
percentiles include the per-thread pauses (handshake callbacks, mark assists, paced
waits); paced_stall_max is the longest stall of one mutator past the heap limit."""
import csv
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from plotlib.stats import median_sorted  # noqa: E402  (the one median)


def rows(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if r["status"] == "ok"]


def med(rs, col):
    v = [float(r[col]) for r in rs if r.get(col, "") != ""]
    return median_sorted(sorted(v)) if v else None


def fmt(x, scale=1.0, nd=1):
    return "" if x is None else "%.*f" % (nd, x * scale)


def gcbench(path):
    cells = {}
    for r in rows(path):
        cells.setdefault((int(r["threads"]), r["heap_factor"], r["options"]), []).append(r)
    print("| threads | heap factor | mode | n | max pause ms | pause p99 us | ttsp p99 us | wall s | "
          "mmu 10ms | mmu 100ms | paced stall max ms | paced waits | paced_wait_s | assists | assist_s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (t, hf, opt), rs in sorted(cells.items()):
        mode = opt.split("=")[-1]
        print("| %d | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            t, hf, mode, len(rs), fmt(med(rs, "pause_max_us"), 1e-3, 2), fmt(med(rs, "pause_p99_us")),
            fmt(med(rs, "ttsp_p99_us"), 1, 2), fmt(med(rs, "wall_s"), 1, 3), fmt(med(rs, "mmu_10ms"), 1, 3),
            fmt(med(rs, "mmu_100ms"), 1, 3), fmt(med(rs, "cmark.paced_stall_max_s"), 1e3, 1),
            fmt(med(rs, "cmark.paced_waits"), 1, 0), fmt(med(rs, "cmark.paced_wait_s"), 1, 3),
            fmt(med(rs, "cmark.assists"), 1, 0), fmt(med(rs, "cmark.assist_s"), 1, 4)))
    for t in sorted({k[0] for k in cells}):
        for hf in sorted({k[1] for k in cells if k[0] == t}):
            s = cells.get((t, hf, "cmark.mode=stw"), [])
            c = cells.get((t, hf, "cmark.mode=concurrent"), [])
            if s and c:
                print("threads %d, heap factor %s: conc/stw wall %.2f, conc/stw max pause %.3f" % (
                    t, hf, med(c, "wall_s") / med(s, "wall_s"), med(c, "pause_max_us") / med(s, "pause_max_us")))


def lru(path):
    cells = {}
    for r in rows(path):
        cells.setdefault((r["collector"], r["options"], r["heap_factor"]), []).append(r)
    print("| collector | options | heap factor | n | metered p99 ms | metered max ms | simple p99 us | max pause ms |")
    print("|---|---|---|---|---|---|---|---|")
    for (c, o, hf), rs in sorted(cells.items()):
        print("| %s | %s | %s | %d | %s | %s | %s | %s |" % (
            c, o, hf, len(rs), fmt(med(rs, "lru.metered_p99_us"), 1e-3, 2), fmt(med(rs, "lru.metered_max_us"), 1e-3, 2),
            fmt(med(rs, "lru.simple_p99_us")), fmt(med(rs, "pause_max_us"), 1e-3, 2)))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("issue9-goals-summary.py: needs one argument, the PREFIX of issue9-goals.sh's CSVs "
              "(e.g. results/measurements/issue9-goals)", file=sys.stderr)
        sys.exit(2)
    p = sys.argv[1]
    gcbench(p + "-gcbench.csv")
    print()
    lru(p + "-lru.csv")
    print()
    lru(p + "-lru-heap.csv")
