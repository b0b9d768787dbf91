# SPDX-License-Identifier: MIT
"""results/plotlib/kind_heap.py - `--kind heap`: time (or any metric) against heap size, the
standard GC-paper figure (contract 3: core column heap_factor, the heap limit as a multiple
of the workload's minimum live heap; status oom when a cell ran out of it).

One panel per (workload, params, scale, threads); one line per collector/allocator pair,
x = heap_factor, y = the metric's median over ok repetitions with its 95% bootstrap CI. With
--normalize B (a collector or collector/allocator pair, as for bars) y is the ratio to B's
median at the same heap factor, with gclab compare's ratio interval; with --normalize best
it is the overhead over the panel's lowest median (the best cell at any heap size), the
usual normalisation of such figures, the interval then that of the cell's median scaled
alike. A heap factor where a pair only ended oom gets an x marker on the axis floor ("oom"
in the legend): the collector cannot run in that heap. Rows without a heap_factor are left
out (BadInput when none has one).
"""
from .csvread import BadInput, ok_values
from .stats import Stat, boot_ratio_ci
from .style import pair_colors, threads_label

HELP = """heap     metric against heap_factor, one line per collector/allocator pair, one panel
           per workload/params/threads (95% CI); --normalize B or best gives overheads;
           x markers on the floor where a pair only ended oom."""
INPUT = "results"
STATS_HEADER = ["collector", "allocator", "workload", "params", "threads", "scale",
                "heap_factor", "metric", "n", "oom", "y", "ci_low", "ci_high"]


def columns(args):
    return [args.metric, "heap_factor"]


def prepare(rows):
    """{(pair, (workload, params, scale, threads)): {heap_factor: [rows]}}"""
    out = {}
    for r in rows:
        if r["heap_factor"] is None:
            continue
        panel = (r["workload"], r["_params"], r["scale"], r["threads"])
        out.setdefault(((r["collector"], r["allocator"]), panel), {}).setdefault(
            r["heap_factor"], []).append(r)
    if not out:
        raise BadInput("no row has a heap_factor (run gclab with a heap-factor axis)")
    return out


def points(data, metric):
    """{(pair, panel): [(hf, Stat, oom count)]} in heap-factor order."""
    return {k: [(hf, Stat(ok_values(v[hf], metric)), sum(r["status"] == "oom" for r in v[hf]))
                for hf in sorted(v)] for k, v in data.items()}


def normalize(pts, norm):
    """y, lo, hi per point: raw, over B's median at the same factor, or over the best."""
    out = {}
    for (pr, panel), ps in pts.items():
        ys = []
        for hf, st, oom in ps:
            y = lo = hi = None
            if st.n and norm is None:
                y, lo, hi = st.median, st.lo, st.hi
            elif st.n and norm == "best":
                best = min(s.median for (q, pn), pp in pts.items() if pn == panel
                           for _, s, _ in pp if s.n)
                y = st.median / best
                lo, hi = (st.lo / best, st.hi / best) if st.lo is not None else (None, None)
            elif st.n:
                b = [s for h2, s, _ in pts.get((norm, panel), []) if h2 == hf and s.n and s.median]
                if b:
                    y = st.median / b[0].median
                    ci = boot_ratio_ci(b[0].values, st.values)
                    lo, hi = ci if ci else (None, None)
            ys.append((hf, st, oom, y, lo, hi))
        out[(pr, panel)] = ys
    return out


def baseline(text, pairs):
    c, _, a = text.partition("/")
    if a:
        if (c, a) not in pairs:
            raise BadInput("bad --normalize '%s': no pair %s/%s in the file" % (text, c, a))
        return (c, a)
    allocs = sorted(p[1] for p in pairs if p[0] == c)
    if len(allocs) != 1:
        raise BadInput("bad --normalize '%s': give collector/allocator (%s ran with %s)"
                       % (text, c, ", ".join(allocs) if allocs else "no allocator"))
    return (c, allocs[0])


def draw(data, args, plt):
    pts = points(data, args.metric)
    pairs = sorted({pr for pr, _ in pts})
    norm = None
    if args.normalize == "best":
        norm = "best"
    elif args.normalize:
        norm = baseline(args.normalize, pairs)
    ys = normalize(pts, norm)
    panels = sorted({panel for _, panel in ys})
    colors = pair_colors(pairs, plt)
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), squeeze=False)
    rows_out, any_oom = [], False
    for ax, panel in zip(axes[0], panels):
        for pr in pairs:
            line = ys.get((pr, panel))
            if not line:
                continue
            xs = [hf for hf, st, oom, y, lo, hi in line if y is not None]
            yv = [y for hf, st, oom, y, lo, hi in line if y is not None]
            el = [y - lo if lo is not None else 0 for _, _, _, y, lo, _ in line if y is not None]
            eh = [hi - y if hi is not None else 0 for _, _, _, y, _, hi in line if y is not None]
            if xs:
                ax.errorbar(xs, yv, yerr=[el, eh], marker="o", capsize=3, color=colors[pr],
                            label="%s/%s" % pr)
            ooms = [hf for hf, st, oom, y, _, _ in line if y is None and oom]
            if ooms:
                any_oom = True
                ax.plot(ooms, [0] * len(ooms), linestyle="none", marker="x", markersize=8,
                        color=colors[pr], clip_on=False)
            for hf, st, oom, y, lo, hi in line:
                rows_out.append([pr[0], pr[1], panel[0], panel[1], panel[3], panel[2], hf,
                                 args.metric, st.n, oom, y, lo, hi])
        if any_oom:
            ax.plot([], [], linestyle="none", marker="x", color="black", label="oom (no result)")
        ax.set_ylim(bottom=0)
        ax.set_xlabel("heap size (x minimum live heap)")
        what = "median"
        if norm == "best":
            what = "/ best median in panel"
        elif norm:
            what = "/ %s/%s median" % norm
        ax.set_ylabel("%s (%s, 95%% CI)" % (args.metric, what))
        ax.set_title("%s%s, %s" % (panel[0], " " + panel[1] if panel[1] else "",
                                   threads_label(panel[3])), fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig, STATS_HEADER, rows_out
