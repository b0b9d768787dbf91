# SPDX-License-Identifier: MIT
"""results/plotlib/kind_memory.py - `--kind memory`: memory over time from an events file's
`sample` rows (contract 1: columns rss_kb, live_bytes, committed_bytes; start_ns the sample
time, on the clock of the other rows, relative to the start of the measured workload).

One panel per cell (collector, allocator, workload, threads, placement), at most three
panels a row; three lines in MiB against time in seconds: RSS (solid), live heap bytes
(dashed) and the allocator's committed bytes (dotted; absent where the allocator does not
report it: empty fields are not drawn, never drawn as 0). The first repetition of a cell
(by run id, then rep) is drawn in full with the legend; further repetitions thin and
faded, so their spread shows without a legend entry each.
"""
from .csvread import BadInput

HELP = """memory   RSS, live and committed bytes (MiB) over time, from an events file's sample
           rows (gclab run --events); one panel per cell, every repetition drawn."""
INPUT = "events"
SERIES = (("rss_kb", "RSS", "-", 1024.0), ("live_bytes", "live heap", "--", 1.0),
          ("committed_bytes", "committed", ":", 1.0))
STATS_HEADER = ["collector", "allocator", "workload", "threads", "placement", "run_id", "rep",
                "t_ns", "rss_kb", "live_bytes", "committed_bytes"]


def rep_order(k):
    run_id, rep = k
    return (run_id, int(rep) if rep.isdigit() else 0, rep)


def draw(samples, args, plt):
    cells = [c for c in sorted(samples) if any(samples[c].values())]
    if not cells:
        raise BadInput("no sample rows in the events file (the runner's memory sampler was "
                       "off: --sample-ms 0?)")
    ncol = min(3, len(cells))
    nrow = (len(cells) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.4 * nrow), squeeze=False)
    colors = plt.get_cmap("tab10")
    rows_out = []
    for n, cell in enumerate(cells):
        ax = axes[n // ncol][n % ncol]
        for r, key in enumerate(sorted(samples[cell], key=rep_order)):
            pts = samples[cell][key]
            for j, (col, label, ls, mult) in enumerate(SERIES):
                xy = [(p[0] * 1e-9, p[1 + j] * mult / 1048576) for p in pts if p[1 + j] is not None]
                if not xy:
                    continue
                ax.plot([x for x, _ in xy], [y for _, y in xy], linestyle=ls, color=colors(j),
                        linewidth=1.4 if r == 0 else 0.6, alpha=1.0 if r == 0 else 0.4,
                        label=label if r == 0 else None)
            for p in pts:
                rows_out.append(list(cell) + [key[0], key[1]] + list(p))
        ax.set_xlabel("time since the workload started (s)")
        ax.set_ylabel("MiB")
        ax.set_ylim(bottom=0)
        ax.set_title("%s/%s %s, %s thread%s%s" % (cell[0], cell[1], cell[2], cell[3],
                                                 "" if cell[3] == "1" else "s",
                                                 "" if cell[4] == "none" else ", " + cell[4]),
                     fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    for n in range(len(cells), nrow * ncol):
        axes[n // ncol][n % ncol].set_visible(False)
    return fig, STATS_HEADER, rows_out
