# SPDX-License-Identifier: MIT
"""results/measurements/cells.py — what the goal summaries of this folder share: a gclab
CSV's ok rows grouped by cell, the median of a column over a cell, a ratio that is None
when either side is missing, and the met / NOT MET word.

A cell is (collector, allocator, gil, workload, threads); rows of other statuses are left
out, and an empty field is "not measured" (never 0), so med() skips it. Imported by
issue8-summary.py and issue13-brc-summary.py (run from any directory: they put this
folder on sys.path first).
"""
import collections, csv, os, statistics


def load(path, missing_ok=False):
    """ok rows of a gclab CSV grouped by (collector, allocator, gil, workload, threads).
    With missing_ok, a missing file says so and gives no cells."""
    cells = collections.defaultdict(list)
    if missing_ok and not os.path.exists(path):
        print(f"({path} missing: that table did not run)")
        return cells
    with open(path, newline="") as fh:
        for r in csv.DictReader(fh):
            if r["status"] == "ok":
                cells[(r["collector"], r["allocator"], r.get("gil", "false"), r["workload"], int(r["threads"]))].append(r)
    return cells


def med(cells, key, col="wall_s"):
    """Median of col over the cell's rows that measured it; None if none did."""
    v = [float(r[col]) for r in cells.get(key, []) if r.get(col, "") != ""]
    return statistics.median(v) if v else None


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def verdict(ok):
    return "met" if ok else "NOT MET"
