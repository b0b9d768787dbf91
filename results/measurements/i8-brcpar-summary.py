#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""results/measurements/i8-brcpar-summary.py CSV — brc's weak scaling with the parallel
stopped collection on and off (issue 8, branch i8-brcpar): per allocator, workload and
--opt brc.parallel, the medians of wall_s, gc_s, pause_total_s and collections at 1 and 2
threads, the 2/1 wall ratio, and the goal (<= 1.10 x the plain-C loop's own 2/1 ratio on
mimalloc in the same run; the plain-C loop's rows are those of workload
binary-trees-malloc on mimalloc, both option values pooled: the collector does not run
there). Uses cells.py's median and ratio; groups by the options column as well, which
cells.load does not.
"""
import collections, csv, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cells import med, ratio, verdict  # noqa: E402


def fmt(x, d=3):
    return "-" if x is None else f"{x:.{d}f}"


def main(path):
    cells = collections.defaultdict(list)
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            if r["status"] != "ok":
                continue
            opt = r.get("options", "")
            if r["workload"] == "binary-trees-malloc":
                opt = "any"
            cells[(r["allocator"], r["workload"], opt, int(r["threads"]))].append(r)
    ref = ratio(med(cells, ("mimalloc", "binary-trees-malloc", "any", 2)),
                med(cells, ("mimalloc", "binary-trees-malloc", "any", 1)))
    print(f"plain-C loop (binary-trees-malloc x mimalloc) 2/1 wall: {fmt(ref)}; goal <= {fmt(ref and 1.10 * ref)}")
    print("| allocator | workload | parallel | wall 1 / 2 | 2/1 | goal | gc_s 1 / 2 | pause_total_s 1 / 2 | collections 1 / 2 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for a in ("segment", "mimalloc"):
        for w in ("binary-trees", "churn", "cycles"):
            for opt in sorted({k[2] for k in cells if k[0] == a and k[1] == w}):
                k1, k2 = (a, w, opt, 1), (a, w, opt, 2)
                r = ratio(med(cells, k2), med(cells, k1))
                goal = "-" if r is None or ref is None else verdict(r <= 1.10 * ref)
                par = opt.replace("brc.parallel=", "")
                print(f"| {a} | {w} | {par} | {fmt(med(cells, k1))} / {fmt(med(cells, k2))} | {fmt(r, 2)} | {goal} "
                      f"| {fmt(med(cells, k1, 'gc_s'))} / {fmt(med(cells, k2, 'gc_s'))} "
                      f"| {fmt(med(cells, k1, 'pause_total_s'))} / {fmt(med(cells, k2, 'pause_total_s'))} "
                      f"| {fmt(med(cells, k1, 'collections'), 0)} / {fmt(med(cells, k2, 'collections'), 0)} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: i8-brcpar-summary.py CSV", file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])
