# SPDX-License-Identifier: MIT
"""results/plotlib/kind_pauses.py - `--kind pauses`: pause-time percentiles (pause_p50_us,
p90, p99, p99.9, max; the median of each over the cell's ok repetitions) on a log scale,
HdrHistogram style, one line per cell (pair and threads), one panel per (workload, params,
scale). Cells whose collector recorded no pauses (empty fields) are left out."""
import math

from .csvread import BadInput, ok_values
from .stats import median_sorted
from .style import group_label

HELP = """pauses   pause-time percentiles (pause_p50_us, p90, p99, p99.9, max; the median of each
           over the cell's ok repetitions) on a log scale, HdrHistogram style, one line per
           cell (pair and threads), one panel per (workload, params, scale). --metric is
           not used. Cells whose collector recorded no pauses (empty fields) are left out."""
INPUT = "results"
PAUSE_COLS = ("pause_p50_us", "pause_p90_us", "pause_p99_us", "pause_p999_us", "pause_max_us")
PAUSE_LABELS = ("p50", "p90", "p99", "p99.9", "max")
# x position of each percentile: -log10(1 - p); max is drawn one decade past p99.9.
PAUSE_X = (math.log10(2), 1.0, 2.0, 3.0, 4.0)
STATS_HEADER = ["collector", "allocator", "workload", "params", "threads", "scale", "column",
                "median"]


def columns(args):
    return list(PAUSE_COLS)


def draw(cells, args, plt):
    panels = {}
    for k, rows in cells.items():
        meds = []
        for col in PAUSE_COLS:
            v = sorted(ok_values(rows, col))
            meds.append(median_sorted(v) if v else None)
        if all(m is None for m in meds):
            continue
        panels.setdefault((k[2], k[3], k[5]), []).append((k, meds))
    if not panels:
        raise BadInput("no ok row has pause percentiles (%s..%s are empty: the collectors in "
                       "this file recorded no pauses)" % (PAUSE_COLS[0], PAUSE_COLS[-1]))
    show_scale = len({k[5] for k in cells}) > 1
    rows = []
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), squeeze=False)
    for ax, ((w, p, s), lines) in zip(axes[0], panels.items()):
        for k, meds in lines:
            pts = [(x, m) for x, m in zip(PAUSE_X, meds) if m is not None and m > 0]
            ax.plot([x for x, _ in pts], [m for _, m in pts], marker="o",
                    label="%s/%s, %s thread%s" % (k[0], k[1], k[4], "" if k[4] == "1" else "s"))
            for col, m in zip(PAUSE_COLS, meds):
                rows.append(list(k) + [col, m])
        ax.set_xticks(PAUSE_X)
        ax.set_xticklabels(PAUSE_LABELS)
        ax.set_yscale("log")
        ax.set_xlabel("percentile of pauses")
        ax.set_ylabel("pause (us, median over repetitions)")
        ax.set_title(group_label(("", "", w, p, "", s), True, show_scale), fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    return fig, STATS_HEADER, rows
