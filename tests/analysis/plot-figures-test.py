#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/analysis/plot-figures-test.py DIR - every kind of results/plot.py is rendered from
the sample files in DIR, and what was drawn is counted through matplotlib's objects (bar
and errorbar containers, lines and their points, legend entries) and checked against what
the CSV holds, computed here independently of results/plotlib (the standard csv and
statistics modules): a figure that draws nothing, drops a cell, or draws a wrong median
fails, not only one that exits non-zero. Bad input of the new kinds is one line and exit
2. The samples of the kinds whose columns are still being added by others come from
gen-plot-samples.py, which must reproduce them byte for byte.

Exit 77 (ctest: skipped) when matplotlib cannot be imported. With FIG_DIR set, the PNGs are
kept there (to look at them).
"""
import csv
import importlib.util
import math
import os
import statistics
import subprocess
import sys
import tempfile

D = os.path.abspath(sys.argv[1])
PLOT = os.path.join(D, "..", "..", "results", "plot.py")
try:
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.container import BarContainer, ErrorbarContainer
except ImportError:
    print("SKIP: matplotlib is not importable by %s" % sys.executable)
    sys.exit(77)
spec = importlib.util.spec_from_file_location("plot", PLOT)
plot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plot)

FAILS = []
OUT = os.environ.get("FIG_DIR") or tempfile.mkdtemp(prefix="gclab-figs.")


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL: " + what)


def close(a, b):
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def rows_of(name):
    with open(os.path.join(D, name), newline="") as f:
        return list(csv.DictReader(f))


def cells(rows, col, extra=()):
    """{(collector, allocator, workload, params, threads) + extra: [ok values of col]}"""
    out = {}
    for r in rows:
        k = (r["collector"], r["allocator"], r["workload"], r["params"], r["threads"]) + \
            tuple(r[e] for e in extra)
        v = out.setdefault(k, [])
        if r["status"] == "ok" and r.get(col, ""):
            v.append(float(r[col]))
    return out


def render(name, argv):
    """plot.build's figure, also saved as FIG_DIR/name.png."""
    fig, header, stats, args, ext = plot.build(argv + ["--out", os.path.join(OUT, name + ".png")])
    fig.savefig(os.path.join(OUT, name + ".png"))
    return fig


def bars_of(ax):
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def errs_of(ax):
    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def legend_n(ax):
    lg = ax.get_legend()
    return len(lg.get_texts()) if lg else 0


def noisy(v):
    return len(v) < 3 or (len(v) > 1 and statistics.stdev(v) / statistics.mean(v) > 0.05)


def test_bars():
    paper = os.path.join(D, "sample-paper.csv")
    want = {k: v for k, v in cells(rows_of("sample-paper.csv"), "wall_s").items() if v}
    ax = render("bars", [paper, "--kind", "bars"]).axes[0]
    b = bars_of(ax)
    check(len(b) == len(want), "bars: %d bars drawn, the CSV has %d cells" % (len(b), len(want)))
    check(len(errs_of(ax)) == sum(len(v) >= 2 for v in want.values()), "bars: error bars")
    hs = sorted(c.patches[0].get_height() for c in b)
    check(all(close(h, m) for h, m in zip(hs, sorted(statistics.median(v) for v in want.values()))),
          "bars: heights are not the cells' medians")
    pairs = {(k[0], k[1]) for k in want}
    check(legend_n(ax) == len(pairs) + any(noisy(v) for v in want.values()), "bars: legend entries")


def test_normalize():
    paper = os.path.join(D, "sample-paper.csv")
    want = {k: v for k, v in cells(rows_of("sample-paper.csv"), "wall_s").items() if v}
    ax = render("bars-normalize", [paper, "--kind", "bars", "--normalize", "none"]).axes[0]
    ratio = {k: statistics.median(v) / statistics.median(want[("none", k[1]) + k[2:]])
             for k, v in want.items()}
    pairs = sorted({(k[0], k[1]) for k in want})
    gm = [math.exp(statistics.mean(math.log(r) for k, r in ratio.items() if (k[0], k[1]) == p))
          for p in pairs]
    b = bars_of(ax)
    check(len(b) == len(want) + len(pairs), "normalize: %d bars, want %d cells + %d geomeans"
          % (len(b), len(want), len(pairs)))
    hs = sorted(c.patches[0].get_height() for c in b)
    check(all(close(h, m) for h, m in zip(hs, sorted(list(ratio.values()) + gm))),
          "normalize: heights are not the ratios and geometric means")
    check(any(list(l.get_ydata()) == [1, 1] for l in ax.lines), "normalize: no line at 1")
    check(ax.get_xticklabels()[-1].get_text() == "geomean", "normalize: no geomean group")
    check(legend_n(ax) >= len(pairs), "normalize: legend entries")


def test_stacked():
    rows = rows_of("sample-paper.csv")
    gc, mut = cells(rows, "gc_s"), cells(rows, "mutator_s")
    wall = {k: v for k, v in cells(rows, "wall_s").items() if v}
    split = [k for k in wall if gc[k] and mut[k]]
    ax = render("stacked", [os.path.join(D, "sample-paper.csv"), "--kind", "stacked"]).axes[0]
    n = sum(len(c.patches) for c in bars_of(ax))
    check(n == 2 * len(split) + (len(wall) - len(split)),
          "stacked: %d segments, want %d split cells x 2 + %d whole" % (n, len(split),
                                                                      len(wall) - len(split)))
    bottoms = sorted(c.patches[0].get_y() for c in bars_of(ax) if c.patches[0].get_y() > 0)
    check(all(close(a, b) for a, b in zip(bottoms, sorted(
        statistics.median(mut[k]) for k in split if statistics.median(mut[k]) > 0))),
        "stacked: gc segments do not start at the mutator medians")
    check(legend_n(ax) == len({(k[0], k[1]) for k in wall}) + 2 + (len(split) < len(wall)),
          "stacked: legend entries")


def test_heap():
    rows = rows_of("sample-heap.csv")
    per = cells(rows, "wall_s", ("heap_factor",))
    ax = render("heap", [os.path.join(D, "sample-heap.csv"), "--kind", "heap"]).axes[0]
    pairs = sorted({(k[0], k[1]) for k in per})
    errs = errs_of(ax)
    check(len(errs) == len(pairs), "heap: %d lines, want one per pair (%d)" % (len(errs), len(pairs)))
    npts = sorted(len(e.lines[0].get_xdata()) for e in errs)
    want = sorted(sum(1 for k, v in per.items() if (k[0], k[1]) == p and v) for p in pairs)
    check(npts == want, "heap: points per line %s, the CSV has %s" % (npts, want))
    ooms = sum(len(l.get_xdata()) for l in ax.lines if l.get_marker() == "x")
    want_oom = sum(1 for k, v in per.items() if not v)
    check(ooms == want_oom, "heap: %d oom markers, the CSV has %d heap factors with only oom"
          % (ooms, want_oom))
    check(legend_n(ax) == len(pairs) + (want_oom > 0), "heap: legend entries")
    ax = render("heap-best", [os.path.join(D, "sample-heap.csv"), "--kind", "heap",
                              "--normalize", "best"]).axes[0]
    ys = [y for e in errs_of(ax) for y in e.lines[0].get_ydata()]
    check(close(min(ys), 1.0), "heap --normalize best: the best point is %g, not 1" % min(ys))


def test_latency():
    rows = rows_of("sample-lru.csv")
    ax = render("latency", [os.path.join(D, "sample-lru.csv"), "--kind", "latency"]).axes[0]
    want = {}
    for mode in ("simple", "metered"):
        for k, v in cells(rows, "lru.%s_p50_us" % mode).items():
            if v:
                want[k + (mode,)] = [statistics.median(cells(rows, "lru.%s_%s_us" % (mode, p))[k])
                                     for p in ("p50", "p90", "p99", "p999", "max")]
    check(len(ax.lines) == len(want), "latency: %d lines, the CSV has %d cell x mode curves"
          % (len(ax.lines), len(want)))
    drawn = sorted(tuple(l.get_ydata()) for l in ax.lines)
    check(all(all(close(a, b) for a, b in zip(x, y)) for x, y in zip(drawn, sorted(
        tuple(v) for v in want.values()))), "latency: points are not the medians")
    check(legend_n(ax) == len(want), "latency: legend entries")
    check(sum(l.get_linestyle() == "--" for l in ax.lines) == len(want) // 2,
          "latency: metered curves are not dashed")


def test_memory():
    with open(os.path.join(D, "events-mem.csv"), newline="") as f:
        ev = [r for r in csv.DictReader(f) if r["kind"] == "sample"]
    fig = render("memory", [os.path.join(D, "events-mem.csv"), "--kind", "memory"])
    axes = [a for a in fig.axes if a.get_visible()]
    cellset = sorted({(r["collector"], r["allocator"]) for r in ev})
    check(len(axes) == len(cellset), "memory: %d panels, the file has %d cells" % (len(axes), len(cellset)))
    for ax, c in zip(axes, cellset):
        mine = [r for r in ev if (r["collector"], r["allocator"]) == c]
        reps = {(r["run_id"], r["rep"]) for r in mine}
        series = [s for s in ("rss_kb", "live_bytes", "committed_bytes") if any(r[s] for r in mine)]
        check(len(ax.lines) == len(reps) * len(series), "memory %s: %d lines, want %d reps x %d "
              "series" % ("/".join(c), len(ax.lines), len(reps), len(series)))
        check(legend_n(ax) == len(series), "memory %s: legend entries" % "/".join(c))
        peak = max(int(r["rss_kb"]) for r in mine) / 1024
        check(any(close(max(l.get_ydata()), peak) for l in ax.lines), "memory: RSS peak not drawn")


def test_old_kinds():
    s = os.path.join(D, "sample.csv")
    rows = rows_of("sample.csv")
    ax = render("scaling", [s, "--kind", "scaling"]).axes
    pairs = {(r["collector"], r["allocator"]) for r in rows}
    nlines = sum(len(errs_of(a)) for a in ax)
    check(nlines >= len(pairs), "scaling: %d lines for %d pairs" % (nlines, len(pairs)))
    ax = render("pauses", [s, "--kind", "pauses"]).axes
    want = sum(1 for v in cells(rows, "pause_p50_us").values() if v)
    check(sum(len(a.lines) for a in ax) == want, "pauses: lines vs cells with pauses")
    fig = render("mmu", [os.path.join(D, "events-mem.csv"), "--kind", "mmu"])
    check(sum(len(a.lines) for a in fig.axes) == 2, "mmu: one line per cell of the events file")


def test_bad():
    cases = [
        ("heap without heap_factor", ["sample.csv", "--kind", "heap"], "no column 'heap_factor'"),
        ("latency without lru", ["sample.csv", "--kind", "latency"], "no column 'lru.simple_p50_us'"),
        ("memory, old events file", ["sample.csv", "--kind", "memory"], "not a gclab events file"),
        ("normalize unknown", ["sample-paper.csv", "--kind", "bars", "--normalize", "zgc"],
         "no collector 'zgc'"),
        ("normalize pair unknown", ["sample-paper.csv", "--kind", "bars", "--normalize", "rc/x"],
         "never ran with allocator 'x'"),
        ("normalize on scaling", ["sample.csv", "--kind", "scaling", "--normalize", "rc"],
         "--normalize is for"),
    ]
    for what, argv, pat in cases:
        p = subprocess.run([sys.executable, PLOT, os.path.join(D, argv[0])] + argv[1:] +
                           ["--out", os.path.join(OUT, "bad.png")], capture_output=True, text=True)
        lines = p.stderr.strip().split("\n")
        check(p.returncode == 2 and len(lines) == 1 and pat in lines[0],
              "%s: exit %d, stderr %r (want 2 and one line with %r)" % (what, p.returncode,
                                                                       p.stderr, pat))
    old = os.path.join(OUT, "old-events.csv")
    with open(old, "w") as f:
        f.write(",".join(plot.load_events.__globals__["EVENTS_HEADER"]) + "\n")
    p = subprocess.run([sys.executable, PLOT, old, "--kind", "memory", "--out",
                        os.path.join(OUT, "bad.png")], capture_output=True, text=True)
    check(p.returncode == 2 and "no memory columns" in p.stderr, "memory on a 12-column events "
          "file: %d %r" % (p.returncode, p.stderr))


def test_generator():
    with tempfile.TemporaryDirectory() as t:
        subprocess.run([sys.executable, os.path.join(D, "gen-plot-samples.py"), t], check=True)
        for n in sorted(os.listdir(t)):
            with open(os.path.join(t, n), "rb") as a, open(os.path.join(D, n), "rb") as b:
                check(a.read() == b.read(), "gen-plot-samples.py no longer writes %s" % n)


for t in (test_bars, test_normalize, test_stacked, test_heap, test_latency, test_memory,
          test_old_kinds, test_bad, test_generator):
    try:
        t()
    except Exception as e:  # a crash of one check is a failure, and the others still run
        check(False, "%s raised %s: %s" % (t.__name__, type(e).__name__, e))
print("plot figures: %d failures (figures in %s)" % (len(FAILS), OUT))
sys.exit(1 if FAILS else 0)
