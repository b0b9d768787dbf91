# SPDX-License-Identifier: MIT
"""results/plotlib/kind_scaling.py - `--kind scaling`: the metric against threads, one line
per collector/allocator pair, one panel per (workload, params, scale); whiskers = 95% CI."""
from .csvread import BadInput, num_or_str, ok_values
from .stats import Stat
from .style import group_label, pair_colors

HELP = """scaling  metric against threads, one line per collector/allocator pair, one panel per
           (workload, params, scale); whiskers = 95% CI."""
INPUT = "results"
STATS_HEADER = ["collector", "allocator", "workload", "params", "threads", "scale", "metric",
                "n", "median", "ci_low", "ci_high", "cv"]


def columns(args):
    return [args.metric]


def stat_rows(stats, metric):
    return [list(k) + [metric, st.n, st.median, st.lo, st.hi, st.cv] for k, st in stats.items()]


def draw(cells, args, plt):
    metric = args.metric
    panels = []
    for k in cells:
        if (k[2], k[3], k[5]) not in panels:
            panels.append((k[2], k[3], k[5]))
    for k in cells:
        if num_or_str(k[4])[0] != 0:
            raise BadInput("threads '%s' is not a number: cannot plot scaling" % k[4])
    pairs = sorted({(k[0], k[1]) for k in cells})
    colors = pair_colors(pairs, plt)
    stats = {k: Stat(ok_values(v, metric)) for k, v in cells.items()}
    if not any(s.n for s in stats.values()):
        raise BadInput("no ok row has a value for %s: nothing to plot" % metric)
    show_scale = len({k[5] for k in cells}) > 1
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4), squeeze=False)
    for ax, (w, p, s) in zip(axes[0], panels):
        threads_seen = set()
        for pair in pairs:
            pts = sorted((float(k[4]), st) for k, st in stats.items()
                         if (k[0], k[1], k[2], k[3], k[5]) == (pair[0], pair[1], w, p, s)
                         and st.n > 0)
            if not pts:
                continue
            xs = [t for t, _ in pts]
            threads_seen.update(xs)
            ys = [st.median for _, st in pts]
            lo = [st.median - st.lo if st.lo is not None else 0 for _, st in pts]
            hi = [st.hi - st.median if st.hi is not None else 0 for _, st in pts]
            ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, color=colors[pair],
                        label="%s/%s" % pair)
        ax.set_xticks(sorted(threads_seen))
        ax.set_ylim(bottom=0)
        ax.set_xlabel("threads")
        ax.set_ylabel("%s (median, 95%% CI)" % metric)
        ax.set_title(group_label(("", "", w, p, "", s), True, show_scale), fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig, STATS_HEADER, stat_rows(stats, metric)
