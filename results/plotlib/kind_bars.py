# SPDX-License-Identifier: MIT
"""results/plotlib/kind_bars.py - `--kind bars [--normalize BASELINE]`.

Grouped bars: one group per (workload, params, scale, threads), one bar per
collector/allocator pair; bar = median of the metric, whisker = its 95% CI; hatched bars
are too noisy to compare (CV > 5%) or have n < 3.

With --normalize B (a collector, or a collector/allocator pair), each bar is the cell's
median over the median of B's cell of the same group (B's pair; for a bare collector, the
pair of B with the same allocator, or B's only pair when B ran with one allocator), with
gclab compare's 95% bootstrap interval of that ratio (boot_ratio_ci: the two samples
resampled independently). A last group, "geomean", holds each pair's geometric mean of its
ratios over the groups where both it and the baseline were measured, with a bootstrap
interval: 2000 times, every ratio is redrawn (each group on its own streams 2 + 2g, 3 + 2g,
so the groups are redrawn independently) and the geometric mean taken again. A dashed line
marks 1 (the baseline). Groups where the baseline was not measured are left out, and said
so on stderr; a pair missing from a group is left out of its geometric mean and the count
of groups it covers is in its legend label when it covers fewer than all.
"""
import math
import sys

from .csvread import BadInput, ok_values
from .stats import Stat, geomean, interval, ratio_resamples, boot_ratio_ci
from .style import pair_colors

HELP = """bars     grouped bars: one group per (workload, params, scale, threads), one bar per
           collector/allocator pair; bar = median of the metric, whisker = its 95% CI;
           hatched bars are too noisy to compare (CV > 5%) or have n < 3.
           --normalize B (collector or collector/allocator): each bar over B's median in
           its group, whisker = the ratio's 95% bootstrap CI (as gclab compare), plus a
           geometric-mean group across workloads; a dashed line at 1."""
INPUT = "results"
STATS_HEADER = ["collector", "allocator", "workload", "params", "threads", "scale", "metric",
                "n", "median", "ci_low", "ci_high", "cv"]
NORM_HEADER = ["collector", "allocator", "workload", "params", "threads", "scale", "metric",
               "baseline", "n", "ratio", "ci_low", "ci_high"]


def columns(args):
    return [args.metric]


def group_labels(groups, show_params, show_scale):
    """Tick labels: parameters only where they tell cells of one workload apart, one
    parameter per line (a full params string is wider than its group)."""
    params_of = {}
    for (w, p, s, t) in groups:
        params_of.setdefault(w, set()).add(p)
    labels = []
    for (w, p, s, t) in groups:
        lines = [w]
        if show_params and p and len(params_of[w]) > 1:
            lines.extend(p.split(";"))
        if show_scale:
            lines.append("scale " + s)
        lines.append("%s thread%s" % (t, "" if t == "1" else "s"))
        labels.append("\n".join(lines))
    return labels


def groups_of(cells):
    groups = []
    for k in cells:
        if (k[2], k[3], k[5], k[4]) not in groups:
            groups.append((k[2], k[3], k[5], k[4]))
    return groups


def draw_groups(ax, groups, pairs, values, colors):
    """Bars of values[(group index, pair)] = (height, lo, hi, hatched); returns whether any
    bar is hatched. Each group holds only its pairs with a value, centred on its tick."""
    present = [[pr for pr in pairs if (i, pr) in values] for i in range(len(groups))]
    width = 0.8 / max(1, max(len(ps) for ps in present))
    hatched = False
    for i, ps in enumerate(present):
        for j, pr in enumerate(ps):
            h, lo, hi, hatch = values[(i, pr)]
            x = i - width * len(ps) / 2 + width * (j + 0.5)
            err = [[h - lo], [hi - h]] if lo is not None else None
            ax.bar([x], [h], width, yerr=err, capsize=2, color=colors[pr],
                   edgecolor="black", linewidth=0.5, hatch="///" if hatch else None)
            hatched |= bool(hatch)
    return hatched, sum(len(ps) for ps in present)


def legend(ax, pairs, colors, hatched, labels=None):
    from matplotlib.patches import Patch
    handles = [Patch(facecolor=colors[pr], edgecolor="black",
                     label=(labels or {}).get(pr, "%s/%s" % pr)) for pr in pairs]
    if hatched:
        handles.append(Patch(facecolor="white", edgecolor="black", hatch="///",
                             label="too noisy (CV > 5% or n < 3)"))
    ax.legend(handles=handles, fontsize=8, title="collector/allocator", title_fontsize=8,
              loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)


def draw(cells, args, plt):
    if args.normalize:
        return draw_normalized(cells, args, plt)
    metric = args.metric
    show_params = any(k[3] for k in cells)
    show_scale = len({k[5] for k in cells}) > 1
    groups = groups_of(cells)
    pairs = sorted({(k[0], k[1]) for k in cells})
    stats = {k: Stat(ok_values(v, metric)) for k, v in cells.items()}
    if not any(s.n for s in stats.values()):
        raise BadInput("no ok row has a value for %s: nothing to plot" % metric)
    colors = pair_colors(pairs, plt)
    values = {}
    for i, (w, p, s, t) in enumerate(groups):
        for pr in pairs:
            st = stats.get((pr[0], pr[1], w, p, t, s))
            if st is not None and st.n > 0:
                values[(i, pr)] = (st.median, st.lo, st.hi, st.noisy)
    nbars = len(values)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.5 + nbars * 0.45 + len(groups) * 0.4), 4.5))
    hatched, _ = draw_groups(ax, groups, pairs, values, colors)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(group_labels(groups, show_params, show_scale), fontsize=8)
    ax.set_ylabel("%s (median, 95%% CI)" % metric)
    legend(ax, pairs, colors, hatched)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    rows = [list(k) + [metric, st.n, st.median, st.lo, st.hi, st.cv] for k, st in stats.items()]
    return fig, STATS_HEADER, rows


def parse_baseline(text, pairs):
    """The baseline's collector and allocator (None: match the cell's allocator)."""
    c, _, a = text.partition("/")
    collectors = sorted({p[0] for p in pairs})
    if c not in collectors:
        raise BadInput("bad --normalize '%s': no collector '%s' in the file (it has: %s)"
                       % (text, c, ", ".join(collectors)))
    if a:
        if (c, a) not in pairs:
            raise BadInput("bad --normalize '%s': collector %s never ran with allocator '%s' "
                           "(its allocators: %s)" % (text, c, a, ", ".join(
                               sorted(p[1] for p in pairs if p[0] == c))))
        return c, a
    allocs = {p[1] for p in pairs if p[0] == c}
    return c, (allocs.pop() if len(allocs) == 1 else None)


def baseline_of(cells, group, pair, base):
    """The baseline cell's rows for PAIR in GROUP, or None."""
    w, p, s, t = group
    c, a = base
    return cells.get((c, a if a is not None else pair[1], w, p, t, s))


def ratios(cells, groups, pairs, base, metric):
    """{(group index, pair): (ratio, lo, hi, noisy, base values, values)}."""
    out = {}
    for i, g in enumerate(groups):
        w, p, s, t = g
        for pr in pairs:
            rows, brows = cells.get((pr[0], pr[1], w, p, t, s)), baseline_of(cells, g, pr, base)
            if rows is None or brows is None:
                continue
            x, b = ok_values(rows, metric), ok_values(brows, metric)
            sx, sb = Stat(x), Stat(b)
            if not sx.n or not sb.n or sb.median == 0:
                continue
            ci = boot_ratio_ci(b, x)
            out[(i, pr)] = (sx.median / sb.median, ci[0] if ci else None, ci[1] if ci else None,
                            sx.noisy or sb.noisy, b, x)
    return out


def geomeans(rat, groups, pairs):
    """{pair: (geomean, lo, hi, groups covered)} over the groups with a ratio."""
    out = {}
    for pr in pairs:
        gs = [i for i in range(len(groups)) if (i, pr) in rat]
        if not gs:
            continue
        g = geomean([rat[(i, pr)][0] for i in gs])
        res = [ratio_resamples(rat[(i, pr)][4], rat[(i, pr)][5], 2 + 2 * i)
               if len(rat[(i, pr)][4]) >= 2 and len(rat[(i, pr)][5]) >= 2 else None for i in gs]
        lo = hi = None
        if all(r is not None for r in res):
            # Invariant: resample b of every group enters geometric mean b once.
            lo, hi = interval([geomean(col) for col in zip(*res)])
        out[pr] = (g, lo, hi, len(gs))
    return out


def draw_normalized(cells, args, plt):
    metric = args.metric
    show_params = any(k[3] for k in cells)
    show_scale = len({k[5] for k in cells}) > 1
    groups = groups_of(cells)
    pairs = sorted({(k[0], k[1]) for k in cells})
    base = parse_baseline(args.normalize, pairs)
    rat = ratios(cells, groups, pairs, base, metric)
    if not rat:
        raise BadInput("--normalize %s: no group has both the baseline and another cell with "
                       "a value for %s" % (args.normalize, metric))
    kept = [i for i in range(len(groups)) if any((i, pr) in rat for pr in pairs)]
    for i in range(len(groups)):
        if i not in kept:
            sys.stderr.write("plot.py: --normalize %s: group %s has no baseline value: left "
                             "out\n" % (args.normalize, " ".join(groups[i][:2])))
    gm = geomeans(rat, groups, pairs)
    shown = [groups[i] for i in kept]
    values = {(j, pr): rat[(i, pr)][:4] for j, i in enumerate(kept) for pr in pairs
              if (i, pr) in rat}
    for pr, (g, lo, hi, _) in gm.items():
        values[(len(shown), pr)] = (g, lo, hi, False)
    colors = pair_colors(pairs, plt)
    nbars = len(values)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.5 + nbars * 0.45 + len(shown) * 0.4), 4.5))
    hatched, _ = draw_groups(ax, shown + [("geomean", "", "", "")], pairs, values, colors)
    ax.axhline(1.0, color="black", linestyle="--", linewidth=0.8)
    ax.axvline(len(shown) - 0.5, color="grey", linestyle=":", linewidth=0.8)
    ax.set_xticks(range(len(shown) + 1))
    ax.set_xticklabels(group_labels(shown, show_params, show_scale) + ["geomean"], fontsize=8)
    bl = "%s/%s" % base if base[1] else base[0]
    ax.set_ylabel("%s / %s's median (95%% CI)" % (metric, bl))
    labels = {pr: "%s/%s (%d of %d groups)" % (pr[0], pr[1], gm[pr][3], len(shown))
              for pr in gm if gm[pr][3] < len(shown)}
    legend(ax, [pr for pr in pairs if pr in gm], colors, hatched, labels)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    rows = []
    for (i, pr), (r, lo, hi, _, b, x) in sorted(rat.items()):
        w, p, s, t = groups[i]
        rows.append([pr[0], pr[1], w, p, t, s, metric, bl, len(x), r, lo, hi])
    for pr, (g, lo, hi, n) in sorted(gm.items()):
        rows.append([pr[0], pr[1], "geomean", "", "", "", metric, bl, n, g, lo, hi])
    return fig, NORM_HEADER, rows
