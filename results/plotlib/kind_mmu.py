# SPDX-License-Identifier: MIT
"""results/plotlib/kind_mmu.py - `--kind mmu`: minimum mutator utilisation curves from an
events file (`gclab run --events`): for windows from 0.1 ms to the run's length
(log-spaced), the worst window's fraction a thread could run (not in a `pause` event nor
in a pause of its own: `handshake-callback`, `assist`, `pace`; the worst-off thread); one line per cell
(pair, workload, threads, placement: the median over its repetitions at each window), one
panel per workload. The run's length is its `run` event. Same method as the mmu_* columns
(core/pause.c gcl_mmu)."""
import bisect

from .csvread import BadInput
from .stats import median_sorted

HELP = """mmu      minimum mutator utilisation curves from an events file (`gclab run --events`):
           for windows from 0.1 ms to the run's length (log-spaced), the worst window's
           fraction the worst-off thread could run (not in a `pause` event nor in a
           handshake-callback/assist/pace pause of its own); one line per cell (pair, workload,
           threads, placement: the median over its repetitions at each window), one panel
           per workload. The run's length is its `run` event. Same method as the mmu_*
           columns (core/pause.c gcl_mmu)."""
INPUT = "events"
STATS_HEADER = ["collector", "allocator", "workload", "threads", "placement", "window_ns", "mmu"]


def worst_window(span, pauses, w):
    """The most paused time of any window of w ns within span (gcl_mmu's worst_window)."""
    t0, t1 = span
    iv = sorted((max(a, t0), min(b, t1)) for a, b in pauses if min(b, t1) > max(a, t0))
    merged = []
    for a, b in iv:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    starts = [a for a, _ in merged]
    pre = [0]
    for a, b in merged:
        pre.append(pre[-1] + b - a)

    def paused_before(x):
        k = bisect.bisect_left(starts, x)  # spans starting before x
        if k == 0:
            return 0
        a, b = merged[k - 1]
        return pre[k - 1] + min(x, b) - a

    worst = 0
    for a, b in merged:
        for x in (a, b - w):
            x = min(max(x, t0), t1 - w)
            worst = max(worst, paused_before(x + w) - paused_before(x))
    return worst


def mmu(span, pauses, w, thread_pauses=None):
    """Minimum mutator utilisation over windows of w ns within span (gcl_mmu's method): for
    each thread with pauses of its own, the world's pauses with its own; the worst thread."""
    t0, t1 = span
    if t1 - t0 < w:
        return None
    sets = [pauses + own for own in (thread_pauses or {}).values()] or [pauses]
    return (w - max(worst_window(span, p, w) for p in sets)) / w


def draw(runs, args, plt):
    rows = []
    panels = {}
    for cell, reps in sorted(runs.items()):
        spans = [v for v in reps.values() if v[0] is not None]
        if not spans:
            continue
        longest = max(s[1] - s[0] for s, _, _ in spans)
        ws, w = [], 100000
        while w <= longest:
            ws.append(w)
            w = int(w * 1.5) + 1
        pts = []
        for w in ws:
            vals = sorted(v for v in (mmu(s, p, w, tp) for s, p, tp in spans) if v is not None)
            if vals:
                m = median_sorted(vals)
                pts.append((w / 1e6, m))
                rows.append(list(cell) + [str(w), m])
        if pts:
            panels.setdefault(cell[2], []).append((cell, pts))
    if not panels:
        raise BadInput("no cell has a run event with a window of 0.1 ms or more (an events file "
                       "from gclab run --events is needed)")
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), squeeze=False)
    for ax, (wl, lines) in zip(axes[0], panels.items()):
        for cell, pts in lines:
            ax.plot([x for x, _ in pts], [y for _, y in pts],
                    label="%s/%s, %s threads, %s" % (cell[0], cell[1], cell[3], cell[4]))
        ax.set_xscale("log")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("window (ms)")
        ax.set_ylabel("minimum mutator utilisation")
        ax.set_title(wl, fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    return fig, STATS_HEADER, rows
