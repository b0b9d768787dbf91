#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""results/measurements/issue13-brc-summary.py — the brc goals of issues 13 and 8 from a CSV
that issue13-brc.sh wrote (medians of ok rows; statistics.median).

  issue13-brc-summary.py CSV [CSV_BEFORE]

Prints, per allocator: brc / rc-plain and brc / rc-gen at 1 thread (issue 13: <= 1.25 on
binary-trees and churn; <= 1.0 on every workload), and brc's 2-thread / 1-thread wall ratio
against binary-trees-malloc's on mimalloc in the same run (issue 8: <= 1.10 x), with the
median collections, gc_s, pause_total_s and ttsp_p99_us at 1 and 2 threads. With a second
CSV (the same script on the build before), the brc medians of both side by side.
"""
import os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cells import load, med, ratio, verdict  # noqa: E402


ALLOCATORS = ("segment", "mimalloc")
RC_GOALS = ("binary-trees", "churn")
WORKLOADS = ("binary-trees", "churn", "cycles", "pyheap")
SCALING = ("binary-trees", "churn", "cycles")


def f(x, fmt="%.3f"):
    return "-" if x is None else fmt % x


def single_thread(cells):
    print("## 1 thread: brc against rc-plain (goal <= 1.25 on binary-trees, churn) and rc-gen (goal <= 1.0)")
    print("| allocator | workload | brc s | rc-plain s | rc-gen s | brc / rc-plain | goal | brc / rc-gen | goal |")
    print("|---|---|---|---|---|---|---|---|---|")
    for a in ALLOCATORS:
        for w in WORKLOADS:
            b, p, g = (med(cells, (c, a, "false", w, 1)) for c in ("brc", "rc-plain", "rc-gen"))
            rp, rg = ratio(b, p), ratio(b, g)
            gp = verdict(rp <= 1.25) if rp is not None and w in RC_GOALS else "-"
            gg = verdict(rg <= 1.0) if rg is not None else "-"
            print(f"| {a} | {w} | {f(b)} | {f(p)} | {f(g)} | {f(rp, '%.2f')} | {gp} | {f(rg, '%.2f')} | {gg} |")


def scaling(cells):
    ref = ratio(med(cells, ("brc", "mimalloc", "false", "binary-trees-malloc", 2)),
                med(cells, ("brc", "mimalloc", "false", "binary-trees-malloc", 1)))
    print(f"## weak scaling: brc 2/1 wall ratio; reference binary-trees-malloc on mimalloc (brc runner): "
          f"2/1 = {f(ref)}, goal <= 1.10 x that = {f(None if ref is None else 1.1 * ref)}")
    print("| allocator | workload | t1 s | t2 s | 2/1 | / reference | goal | collections t1/t2 | gc_s t1/t2 "
          "| pause_total_s t1/t2 | ttsp p99 us t2 | cpu_s t1/t2 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for a in ALLOCATORS:
        for w in SCALING:
            k1, k2 = ("brc", a, "false", w, 1), ("brc", a, "false", w, 2)
            t1, t2 = med(cells, k1), med(cells, k2)
            r = ratio(t2, t1)
            rr = ratio(r, ref)
            g = verdict(rr <= 1.1) if rr is not None else "-"
            col = lambda c, fmt="%.3f": f"{f(med(cells, k1, c), fmt)}/{f(med(cells, k2, c), fmt)}"
            print(f"| {a} | {w} | {f(t1)} | {f(t2)} | {f(r, '%.2f')} | {f(rr, '%.2f')} | {g} | "
                  f"{col('collections', '%.0f')} | {col('gc_s')} | {col('pause_total_s')} | "
                  f"{f(med(cells, k2, 'ttsp_p99_us'), '%.0f')} | {col('cpu_s')} |")


def before_after(after, before):
    print("## brc before / after (median wall_s; the two CSVs are two runs of the same script)")
    print("| allocator | workload | threads | before s | after s | after / before | collections before/after |")
    print("|---|---|---|---|---|---|---|")
    for a in ALLOCATORS:
        for w in WORKLOADS:
            for t in (1, 2):
                k = ("brc", a, "false", w, t)
                b, n = med(before, k), med(after, k)
                c = f"{f(med(before, k, 'collections'), '%.0f')}/{f(med(after, k, 'collections'), '%.0f')}"
                print(f"| {a} | {w} | {t} | {f(b)} | {f(n)} | {f(ratio(n, b), '%.2f')} | {c} |")


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    cells = load(argv[1])
    single_thread(cells)
    scaling(cells)
    if len(argv) == 3:
        before_after(cells, load(argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
