# SPDX-License-Identifier: MIT
"""results/plotlib/kind_stacked.py - `--kind stacked`: mutator time and GC time per cell.

One bar per collector/allocator pair in each group (workload, params, scale, threads), as
in `--kind bars`: the lower segment is the median of mutator_s (wall_s - gc_s), the upper
the median of gc_s, each over the cell's ok repetitions; the whisker on top is the 95%
bootstrap CI of gc_s's median, drawn from the top of the bar. A cell whose collector does
not measure gc_s apart (pure RC frees inside the mutator: gc_s is empty) is not split: its
bar is the median of wall_s, grey-hatched and labelled "not split (gc_s not measured)". The
two medians of a split bar need not add up to the median of wall_s (medians do not add);
--print-stats prints all three.
"""
from .csvread import BadInput, ok_values
from .stats import Stat
from .style import pair_colors
from .kind_bars import group_labels, groups_of

HELP = """stacked  one bar per cell: median mutator_s below, median gc_s on top (whisker: gc_s's
           95% CI); cells that do not measure gc_s show wall_s, grey-hatched, unsplit."""
INPUT = "results"
STATS_HEADER = ["collector", "allocator", "workload", "params", "threads", "scale", "n",
                "wall_s", "mutator_s", "gc_s", "gc_ci_low", "gc_ci_high", "split"]


def columns(args):
    return ["wall_s", "mutator_s", "gc_s"]


def draw(cells, args, plt):
    from matplotlib.patches import Patch
    groups = groups_of(cells)
    pairs = sorted({(k[0], k[1]) for k in cells})
    colors = pair_colors(pairs, plt)
    show_params = any(k[3] for k in cells)
    show_scale = len({k[5] for k in cells}) > 1
    bars = {}
    for i, (w, p, s, t) in enumerate(groups):
        for pr in pairs:
            rows = cells.get((pr[0], pr[1], w, p, t, s))
            if rows is None:
                continue
            wall, mut, gc = (Stat(ok_values(rows, c)) for c in ("wall_s", "mutator_s", "gc_s"))
            if wall.n or gc.n:
                bars[(i, pr)] = (wall, mut, gc, (pr[0], pr[1], w, p, t, s))
    if not bars:
        raise BadInput("no ok row has a value for wall_s: nothing to plot")
    present = [[pr for pr in pairs if (i, pr) in bars] for i in range(len(groups))]
    width = 0.8 / max(len(ps) for ps in present if ps)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.5 + len(bars) * 0.45 + len(groups) * 0.4), 4.5))
    unsplit, rows_out = False, []
    for i, ps in enumerate(present):
        for j, pr in enumerate(ps):
            wall, mut, gc, key = bars[(i, pr)]
            x = i - width * len(ps) / 2 + width * (j + 0.5)
            split = gc.n > 0 and mut.n > 0
            if split:
                ax.bar([x], [mut.median], width, color=colors[pr], edgecolor="black",
                       linewidth=0.5)
                err = [[gc.median - gc.lo], [gc.hi - gc.median]] if gc.lo is not None else None
                ax.bar([x], [gc.median], width, bottom=[mut.median], yerr=err, capsize=2,
                       color=colors[pr], alpha=0.45, edgecolor="black", linewidth=0.5,
                       hatch="..")
            else:
                ax.bar([x], [wall.median], width, color="lightgrey", edgecolor=colors[pr],
                       linewidth=1.2, hatch="\\\\")
                unsplit = True
            rows_out.append(list(key) + [wall.n, wall.median, mut.median, gc.median, gc.lo,
                                         gc.hi, "yes" if split else "no"])
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(group_labels(groups, show_params, show_scale), fontsize=8)
    ax.set_ylabel("time (s, medians)")
    handles = [Patch(facecolor=colors[pr], edgecolor="black", label="%s/%s" % pr)
               for pr in pairs if any((i, pr) in bars for i in range(len(groups)))]
    handles.append(Patch(facecolor="white", edgecolor="black", label="mutator_s (solid)"))
    handles.append(Patch(facecolor="white", edgecolor="black", hatch="..",
                         label="gc_s (dotted, 95% CI)"))
    if unsplit:
        handles.append(Patch(facecolor="lightgrey", edgecolor="black", hatch="\\\\",
                             label="not split (gc_s not measured)"))
    ax.legend(handles=handles, fontsize=8, title="collector/allocator", title_fontsize=8,
              loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    return fig, STATS_HEADER, rows_out
