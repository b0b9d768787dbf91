# SPDX-License-Identifier: MIT
"""results/plotlib/kind_latency.py - `--kind latency`: request-latency percentile curves of
the lru workload (contract 4: figures simple_p50_us .. simple_max_us and metered_p50_us ..
metered_max_us, CSV columns lru.simple_p50_us etc.).

One panel per (workload, params, scale); per cell (pair and threads) two lines in the
cell's colour: `simple` (solid, circles: each request timed from its own start) and
`metered` (dashed, squares: timed from its scheduled start at the metered rate, so a stall
also counts against the requests queued behind it - coordinated omission corrected). Each
point is the median of that percentile over the cell's ok repetitions; x is
-log10(1 - p) as in `--kind pauses` (max one decade past p99.9); y on a log scale. Cells
with no lru figures (other workloads) are left out.
"""
from .csvread import BadInput, ok_values
from .stats import median_sorted
from .style import group_label, pair_colors, threads_label

HELP = """latency  lru request-latency percentiles (lru.simple_* solid, lru.metered_* dashed;
           medians over repetitions) on a log scale, one panel per workload/params."""
INPUT = "results"
PCTS = ("p50", "p90", "p99", "p999", "max")
LABELS = ("p50", "p90", "p99", "p99.9", "max")
X = (0.30103, 1.0, 2.0, 3.0, 4.0)
MODES = (("simple", "-", "o"), ("metered", "--", "s"))
STATS_HEADER = ["collector", "allocator", "workload", "params", "threads", "scale", "mode",
                "percentile", "n", "median_us"]


def columns(args):
    return ["lru.%s_%s_us" % (m, p) for m, _, _ in MODES for p in PCTS]


def draw(cells, args, plt):
    panels, rows_out = {}, []
    for k, rows in cells.items():
        curves = {}
        for mode, _, _ in MODES:
            pts = []
            for x, p in zip(X, PCTS):
                v = sorted(ok_values(rows, "lru.%s_%s_us" % (mode, p)))
                if v:
                    pts.append((x, median_sorted(v)))
                    rows_out.append(list(k) + [mode, p, len(v), median_sorted(v)])
            if pts:
                curves[mode] = pts
        if curves:
            panels.setdefault((k[2], k[3], k[5]), []).append((k, curves))
    if not panels:
        raise BadInput("no ok row has lru latency percentiles (lru.simple_p50_us .. are empty: "
                       "run the lru workload)")
    colors = pair_colors(sorted({(k[0], k[1]) for k in cells}), plt)
    show_scale = len({k[5] for k in cells}) > 1
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.2), squeeze=False)
    for ax, ((w, p, s), lines) in zip(axes[0], panels.items()):
        for k, curves in lines:
            for mode, ls, mk in MODES:
                if mode in curves:
                    pts = curves[mode]
                    ax.plot([x for x, _ in pts], [y for _, y in pts], linestyle=ls, marker=mk,
                            color=colors[(k[0], k[1])],
                            label="%s/%s, %s, %s" % (k[0], k[1], threads_label(k[4]), mode))
        ax.set_xticks(X)
        ax.set_xticklabels(LABELS)
        ax.set_yscale("log")
        ax.set_xlabel("percentile of requests")
        ax.set_ylabel("request latency (us, median over repetitions)")
        ax.set_title(group_label(("", "", w, p, "", s), True, show_scale), fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    return fig, STATS_HEADER, rows_out
