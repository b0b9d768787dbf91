#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""results/plot.py - figures from a CSV written by `gclab run`.

    python3 results/plot.py FILE.csv --kind bars|scaling|pauses [--metric wall_s]
                            --out fig.png|fig.pdf|fig.svg [--print-stats]
    python3 results/plot.py EVENTS.csv --kind mmu --out fig.png|fig.pdf|fig.svg

Kinds:
  bars     grouped bars: one group per (workload, params, scale, threads), one bar per
           collector/allocator pair; bar = median of the metric, whisker = its 95% CI;
           hatched bars are too noisy to compare (CV > 5%) or have n < 3.
  scaling  metric against threads, one line per collector/allocator pair, one panel per
           (workload, params, scale); whiskers = 95% CI.
  pauses   pause-time percentiles (pause_p50_us, p90, p99, p99.9, max; the median of each
           over the cell's ok repetitions) on a log scale, HdrHistogram style, one line per
           cell (pair and threads), one panel per (workload, params, scale). --metric is
           not used. Cells whose collector recorded no pauses (empty fields) are left out.
  mmu      minimum mutator utilisation curves from an events file (`gclab run --events`):
           for windows from 0.1 ms to the run's length (log-spaced), the worst window's
           fraction not spent in a `pause` event; one line per cell (pair, workload,
           threads, placement: the median over its repetitions at each window), one panel
           per workload. The run's length is its `run` event. Same method as the mmu_*
           columns (core/pause.c gcl_mmu).

Statistics are those of `gclab summary` (harness/analysis/resample.c), computed the same
way so the numbers agree to the last digit: only status=ok rows with a non-empty value
count (empty = not measured, never 0); the CI is a percentile bootstrap of the median,
2000 resamples of the sorted sample drawn by splitmix64 from the fixed seed
0x67636c6162000001, quantiles by linear interpolation (type 7). --print-stats writes the
plotted numbers as CSV on standard output.

Input is checked by the same rules as gclab's reader (harness/analysis/csv-read.c, mirrored
here by records() and load(): a regular file, strict RFC 4180 with no NUL byte and no quote
inside an unquoted field, header with the required columns, schema_version 1 to 6, the
same on every row, every row as long as the header, numbers well formed, no negative or
non-finite measurement; tests/analysis/plot-read-test.sh feeds both the same bad files);
rows (version 2 on) whose placement is not none or iterations not 1 are separate cells
labelled threads@placement[/iN], and rows (version 5 on) with chosen module options are
separate cells labelled collector[options], as gclab summary prints them; module columns
MODULE.FIGURE are metrics like any other; bad input prints one line and exits with
status 2. Needs Debian's python3-matplotlib;
otherwise only the standard library.
"""
import argparse
import csv
import math
import os
import re
import stat
import sys

SCHEMA_VERSION = 6  # harness/schema.h GCL_SCHEMA_VERSION; tests/analysis/plot-test.sh checks
SCHEMA_OLDEST_READ = 1
EVENTS_HEADER = ["run_id", "collector", "allocator", "workload", "threads", "placement", "rep",
                 "cell", "thread", "start_ns", "duration_ns", "kind"]
RESAMPLES = 2000
SEED = 0x67636C6162000001
LEVEL = 0.95
NOISY_CV = 0.05
MIN_N = 3
KEY = ("collector", "allocator", "workload", "params", "threads", "scale")
NOT_METRICS = {"schema_version", "run_id", "timestamp", "gclab_version", "host", "cpu_model",
               "collector", "allocator", "workload", "params", "threads", "rep", "seed",
               "scale", "status", "checksum", "config", "options", "placement", "iterations",
               "compiler", "build_type", "build_flags", "sanitizer", "kernel", "libc",
               "hwloc_version", "urcu_version", "malloc_lib", "malloc_env", "thp",
               "cpu_governor", "yaml_version"}
PAUSE_COLS = ("pause_p50_us", "pause_p90_us", "pause_p99_us", "pause_p999_us", "pause_max_us")
PAUSE_LABELS = ("p50", "p90", "p99", "p99.9", "max")
# x position of each percentile: -log10(1 - p); max is drawn one decade past p99.9.
PAUSE_X = (math.log10(2), 1.0, 2.0, 3.0, 4.0)
MASK = (1 << 64) - 1
PROG = "plot.py"


class BadInput(Exception):
    """One line for the user; the program exits with status 2."""


# --- statistics: the same algorithms as harness/analysis/resample.c ----------------------

class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        return (self.next() * n) >> 64


def median_sorted(x):
    n = len(x)
    return x[n // 2] if n % 2 else (x[n // 2 - 1] + x[n // 2]) / 2


def quantile_sorted(x, p):
    h = (len(x) - 1) * p
    i = int(math.floor(h))
    if i + 1 >= len(x):
        return x[-1]
    return x[i] + (h - i) * (x[i + 1] - x[i])


def boot_medians_numpy(np, x, seed):
    """The RESAMPLES resample medians of the sorted sample x, drawn exactly as the loop in
    boot_median_ci draws them (draw k of the stream is splitmix64 of seed + k * golden,
    below(n) the high 64 bits of z * n), but vectorised: a few million draws per batch.
    O(n) per resample at C speed instead of Python speed (a cell of 14000 repetitions took
    ~20 s per cell in the loop, well under one here)."""
    n = len(x)
    xs = np.asarray(x, dtype=np.float64)
    k1, k2 = (n - 1) // 2, n // 2
    u = np.uint64
    per = max(1, min(RESAMPLES, (1 << 21) // n))  # resamples per batch
    out, done = [], 0
    with np.errstate(over="ignore"):
        for b0 in range(0, RESAMPLES, per):
            m = min(per, RESAMPLES - b0)
            z = u(seed) + np.arange(done + 1, done + m * n + 1, dtype=u) * u(0x9E3779B97F4A7C15)
            done += m * n
            z = (z ^ (z >> u(30))) * u(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> u(27))) * u(0x94D049BB133111EB)
            z ^= z >> u(31)
            # floor(z * n / 2^64) without 128 bits: n < 2^32, so neither product overflows.
            idx = ((z >> u(32)) * u(n) + (((z & u(0xFFFFFFFF)) * u(n)) >> u(32))) >> u(32)
            idx = np.partition(idx.reshape(m, n).astype(np.int64), (k1, k2), axis=1)
            out.extend(((xs[idx[:, k1]] + xs[idx[:, k2]]) / 2).tolist())
    return out


def boot_median_ci(x, stream=0):
    """95% percentile-bootstrap CI of the median of the sorted sample x (len >= 2)."""
    n = len(x)
    try:
        import numpy as np  # matplotlib needs it, so it is there whenever a plot is drawn
    except ImportError:
        np = None
    if np is not None and n < (1 << 31):
        stats = boot_medians_numpy(np, x, SEED + stream)
    else:
        rng = SplitMix64(SEED + stream)
        stats = []
        for _ in range(RESAMPLES):
            counts = [0] * n
            for _ in range(n):
                counts[rng.below(n)] += 1
            res = [v for v, c in zip(x, counts) for _ in range(c)]
            stats.append(median_sorted(res))
    stats.sort()
    return quantile_sorted(stats, (1 - LEVEL) / 2), quantile_sorted(stats, 1 - (1 - LEVEL) / 2)


def cv_of(x):
    n = len(x)
    if n < 2:
        return None
    mean = sum(x) / n
    if mean == 0:
        return None
    ss = sum((v - mean) ** 2 for v in x)
    return math.sqrt(ss / (n - 1)) / abs(mean)


class Stat:
    """Median, CI and noise flags of one sample (values from status=ok rows)."""

    def __init__(self, values):
        x = sorted(values)
        self.n = len(x)
        self.median = median_sorted(x) if x else None
        self.lo, self.hi = boot_median_ci(x) if self.n >= 2 else (None, None)
        self.cv = cv_of(x)
        self.noisy = (self.cv is not None and self.cv > NOISY_CV) or self.n < MIN_N


# --- input -------------------------------------------------------------------------------

def num_or_str(s):
    try:
        v = float(s)
        return (0, v, s) if math.isfinite(v) else (1, 0.0, s)
    except ValueError:
        return (1, 0.0, s)


# Columns gclab writes as measurements (csv-read.c value_rule): harness/schema.h's RECORD
# and CHILD columns except the text ones, and any column named with a unit of time or
# size; tests/analysis/plot-read-test.sh checks these two lists against schema.h.
MEASUREMENTS = frozenset("""
    wall_s process_wall_s user_s sys_s cpu_s gc_s collections pause_count pause_total_s
    pause_p50_us pause_p90_us pause_p99_us pause_p999_us pause_max_us ttsp_count
    ttsp_p50_us ttsp_p99_us ttsp_max_us objects_allocated
    bytes_allocated objects_freed objects_leaked cyclic_garbage outstanding_garbage_peak
    outstanding_garbage_mean peak_heap_bytes
    deferred_frees header_bytes max_rss_kb rss_mean_kb minflt majflt nvcsw nivcsw numa_nodes_used
    topo_packages topo_numa_nodes topo_cores topo_pus mmu_1ms mmu_10ms mmu_100ms
    cpu_migrations hw_cycles hw_instructions hw_cache_misses""".split())
TEXT_RECORD = frozenset("""
    status checksum config iter_wall_s pus compiler build_type build_flags sanitizer kernel
    libc hwloc_version urcu_version malloc_lib malloc_env thp cpu_governor workload_input""".split())
UNITS = ("_s", "_us", "_ns", "_kb", "_bytes")
SIGNED = frozenset({"mutator_s"})  # wall_s - gc_s: parallel collector threads can exceed wall


def is_measurement(col):
    if col in TEXT_RECORD:
        return False
    return col in MEASUREMENTS or col in SIGNED or any(
        len(col) > len(u) and col.endswith(u) for u in UNITS)


MAX_BYTES = 4 << 30  # csv-read.h GCL_CSV_MAX_BYTES
UNQUOTED_END = re.compile(r'[,"\n]|\r\n')
_FIELD = r'(?:"(?:[^"\n]|"")*"|[^,"\n]*)'
WELL_QUOTED = re.compile(_FIELD + "(?:," + _FIELD + r")*\Z")  # one line, every quote closed


def read_bytes(path):
    """The whole of PATH, a regular file of at most MAX_BYTES (never blocks on a FIFO)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as e:
        raise BadInput("cannot read '%s': %s" % (path, e.strerror or e))
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise BadInput("cannot read '%s': it is not a regular file" % path)
        if st.st_size > MAX_BYTES:
            raise BadInput("cannot read '%s': %d bytes, more than the %d this reader takes"
                           % (path, st.st_size, MAX_BYTES))
        os.set_blocking(fd, True)
        return f.read()


def records(path):
    """(line, fields) of each record of PATH, by harness/analysis/csv-read.c's rules:
    RFC 4180 (quoted fields may hold commas, doubled quotes and newlines), LF or CRLF line
    ends, a UTF-8 byte-order mark and empty lines skipped; a NUL byte, an unterminated
    quote, a quote inside an unquoted field and text after a closing quote are refused.
    Lines are physical; a record is named by the line it starts on. Yields
    (None, ended) last: whether the last record ended with a line end."""
    data = read_bytes(path)
    nul = data.find(b"\0")
    if nul >= 0:
        raise BadInput("%s:%d: NUL byte in the file (not a CSV text file)"
                       % (path, data.count(b"\n", 0, nul) + 1))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise BadInput("%s: not UTF-8 text: %s" % (path, e))
    pos, n, line, ended = 0, len(text), 1, True
    while pos < n:
        if text[pos] == "\n" or text.startswith("\r\n", pos):  # an empty line: no record
            pos += 1 if text[pos] == "\n" else 2
            line += 1
            continue
        start = line
        nl = text.find("\n", pos)
        end = n if nl < 0 else nl
        seg = text[pos:end]
        if nl >= 0 and seg.endswith("\r"):
            seg = seg[:-1]
        if '"' not in seg or ("\r" not in seg and WELL_QUOTED.match(seg)):
            # The common cases, at C speed: one physical line of well-formed fields.
            pos, ended = end + 1, nl >= 0
            line += 1
            yield start, seg.split(",") if '"' not in seg else next(csv.reader((seg,)))
            continue
        fields = []
        while True:
            if pos < n and text[pos] == '"':
                opened, pos, parts = line, pos + 1, []
                while True:
                    q = text.find('"', pos)
                    if q < 0:
                        raise BadInput("%s:%d: unterminated quoted field (no closing '\"' "
                                       "before the end of the file)" % (path, opened))
                    parts.append(text[pos:q])
                    line += text.count("\n", pos, q)
                    if text.startswith('""', q):
                        parts.append('"')
                        pos = q + 2
                        continue
                    pos = q + 1
                    break
                fields.append("".join(parts))
                if pos == n:
                    ended = False
                    break
                if text[pos] == ",":
                    pos += 1
                    continue
                if text[pos] == "\n" or text.startswith("\r\n", pos):
                    pos += 1 if text[pos] == "\n" else 2
                    line += 1
                    break
                raise BadInput("%s:%d: '%s' after a closing quote (expected ',' or the end of "
                               "the line)" % (path, line, text[pos]))
            m = UNQUOTED_END.search(text, pos)
            if m is None:
                fields.append(text[pos:])
                pos, ended = n, False
                break
            if m.group() == '"':
                raise BadInput("%s:%d: '\"' inside an unquoted field (quote the whole field and "
                               "double the quote)" % (path, line))
            fields.append(text[pos:m.start()])
            pos = m.end()
            if m.group() != ",":
                line += 1
                break
        yield start, fields
    yield None, ended


def decimal(text):
    """csv-read.c parse_decimal: sign, digits, point, exponent only; finite; no underflow."""
    if not text or text.strip("0123456789+-.eE"):
        return None
    try:
        v = float(text)
    except ValueError:
        return None
    if not math.isfinite(v):
        return None
    if v == 0 and any(ch in "123456789" for ch in text.lower().split("e")[0]):
        return None  # strtod underflows to 0 with ERANGE: refused there too
    return v


def number(text, path, line, col):
    """Empty -> None (not measured); a decimal number -> float; anything else -> BadInput."""
    if text == "":
        return None
    v = decimal(text)
    if v is None:
        raise BadInput("%s:%d: column %s: '%s' is not a number (expected a decimal number, "
                       "or an empty field for not measured)" % (path, line, col, text))
    return v


def check_header(path, header, metrics):
    for i, h in enumerate(header):
        if h in header[:i]:
            if decimal(header[0]) is not None:
                raise BadInput("%s:1: no header row (the first row starts with '%s'; expected "
                               "column names such as schema_version)" % (path, header[0]))
            raise BadInput("%s:1: duplicate column '%s' in the header" % (path, h))
    for col in ("schema_version",) + KEY + ("status",) + tuple(metrics):
        if col not in header:
            if "schema_version" not in header and decimal(header[0]) is not None:
                raise BadInput("%s:1: no header row (the first row starts with '%s'; expected "
                               "column names such as schema_version)" % (path, header[0]))
            raise BadInput("%s:1: the header has no column '%s'" % (path, col))


def check_values(path, header, rows):
    """csv-read.c gcl_csv_check_values: measurements empty or finite and not negative."""
    for i, col in enumerate(header):
        if not is_measurement(col):
            continue
        # Each distinct text is judged once; a bad one is then reported at its first row.
        bad = set()
        for t in {rec[i] for _, rec in rows}:
            v = decimal(t) if t else 0.0
            if v is None or (col not in SIGNED and (v < 0 or math.copysign(1, v) < 0)):
                bad.add(t)
        for line, rec in rows if bad else ():
            t = rec[i]
            if t in bad:
                number(t, path, line, col)
                raise BadInput("%s:%d: column %s: '%s' is negative (expected a measurement >= 0, "
                               "or an empty field for not measured)" % (path, line, col, t))


def load(path, metrics):
    """Rows of PATH as dicts, each with '_line' (the line it starts on); the file is checked
    as gclab summary checks it (same rules, same messages)."""
    header, raw, ended = None, [], True
    for line, rec in records(path):
        if line is None:
            ended = rec
        elif header is None:
            header = rec
        elif len(rec) != len(header):
            raise BadInput("%s:%d: row has %d fields, the header has %d (truncated or malformed "
                           "row)" % (path, line, len(rec), len(header)))
        else:
            raw.append((line, rec))
    if header is None:
        raise BadInput("%s: empty file (expected a header row and data rows)" % path)
    if raw and not ended:
        sys.stderr.write("%s: %s:%d: warning: the last row has no line end (was the file cut "
                         "short?)\n" % (PROG, path, raw[-1][0]))
    check_header(path, header, metrics)
    vi = header.index("schema_version")
    first = None
    for line, rec in raw:
        t = rec[vi]
        v = int(t) if t.isdigit() and t.isascii() else None
        if v is None or not SCHEMA_OLDEST_READ <= v <= SCHEMA_VERSION:
            raise BadInput("%s:%d: schema_version is '%s'; this plot.py reads schema_version %d "
                           "to %d" % (path, line, t, SCHEMA_OLDEST_READ, SCHEMA_VERSION))
        if first is None:
            first = v
        elif v != first:
            raise BadInput("%s:%d: schema_version is '%s' but the first row's is '%d' (one file, "
                           "one schema)" % (path, line, t, first))
    for m in metrics:
        mi = header.index(m)
        bad = {t for t in {rec[mi] for _, rec in raw} if t and decimal(t) is None}
        for line, rec in raw if bad else ():
            number(rec[mi], path, line, m)
    check_values(path, header, raw)
    rows = []
    for line, rec in raw:
        row = dict(zip(header, rec))
        row["_line"] = line
        pl, it = row.get("placement", "none"), row.get("iterations", "1")
        row["_threads_n"] = row["threads"]
        if row.get("options"):  # schema 5: chosen options are part of the cell
            row["collector"] = row["collector"] + "[" + row["options"] + "]"
        if pl != "none" or it != "1":
            row["threads"] = row["threads"] + "@" + pl + ("" if it == "1" else "/i" + it)
        for m in metrics:
            row[m] = number(row[m], path, line, m)
        rows.append(row)
    return rows


def cells_of(rows):
    """{key tuple: [rows]}, keys sorted like gclab (workload, params, scale, pair, threads)."""
    cells = {}
    for r in rows:
        cells.setdefault(tuple(r[k] for k in KEY), []).append(r)
    order = lambda k: (k[2], k[3], num_or_str(k[5]), k[0], k[1], num_or_str(k[4]))
    return {k: cells[k] for k in sorted(cells, key=order)}


def ok_values(rows, col):
    return [r[col] for r in rows if r["status"] == "ok" and r[col] is not None]


def group_label(key, show_params, show_scale):
    c, a, w, p, t, s = key
    parts = [w]
    if show_params and p:
        parts.append(p)
    if show_scale:
        parts.append("scale " + s)
    return " ".join(parts)


# --- figures -----------------------------------------------------------------------------

def pair_colors(pairs, plt):
    cmap = plt.get_cmap("tab10")
    return {p: cmap(i % 10) for i, p in enumerate(pairs)}


def plot_bars(cells, metric, plt, stats_out):
    from matplotlib.patches import Patch
    show_params = any(k[3] for k in cells)
    show_scale = len({k[5] for k in cells}) > 1
    groups = []
    for k in cells:
        if (k[2], k[3], k[5], k[4]) not in groups:
            groups.append((k[2], k[3], k[5], k[4]))
    pairs = sorted({(k[0], k[1]) for k in cells})
    stats = {k: Stat(ok_values(v, metric)) for k, v in cells.items()}
    if not any(s.n for s in stats.values()):
        raise BadInput("no ok row has a value for %s: nothing to plot" % metric)
    colors = pair_colors(pairs, plt)
    # Each group holds only the pairs that have a value there, centred on the group's tick.
    present = [[pr for pr in pairs if stats.get((pr[0], pr[1], w, p, t, s)) is not None
                and stats[(pr[0], pr[1], w, p, t, s)].n > 0] for (w, p, s, t) in groups]
    width = 0.8 / max(len(ps) for ps in present)
    nbars = sum(len(ps) for ps in present)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.5 + nbars * 0.45 + len(groups) * 0.4), 4.5))
    hatched = False
    for i, ((w, p, s, t), ps) in enumerate(zip(groups, present)):
        for j, pr in enumerate(ps):
            st = stats[(pr[0], pr[1], w, p, t, s)]
            x = i - width * len(ps) / 2 + width * (j + 0.5)
            err = [[st.median - st.lo], [st.hi - st.median]] if st.lo is not None else None
            ax.bar([x], [st.median], width, yerr=err, capsize=2, color=colors[pr],
                   edgecolor="black", linewidth=0.5, hatch="///" if st.noisy else None)
            hatched |= st.noisy
    # Parameters label a group only where they tell cells of one workload apart, one
    # parameter per line (a full params string is wider than its group).
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
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel("%s (median, 95%% CI)" % metric)
    handles = [Patch(facecolor=colors[pr], edgecolor="black", label="%s/%s" % pr)
               for pr in pairs]
    if hatched:
        handles.append(Patch(facecolor="white", edgecolor="black", hatch="///",
                             label="too noisy (CV > 5% or n < 3)"))
    ax.legend(handles=handles, fontsize=8, title="collector/allocator", title_fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    stats_out.extend((k, st) for k, st in stats.items())
    return fig


def plot_scaling(cells, metric, plt, stats_out):
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
    stats_out.extend((k, st) for k, st in stats.items())
    return fig


def plot_pauses(cells, plt, stats_out):
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
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), squeeze=False)
    for ax, ((w, p, s), lines) in zip(axes[0], panels.items()):
        for k, meds in lines:
            pts = [(x, m) for x, m in zip(PAUSE_X, meds) if m is not None and m > 0]
            ax.plot([x for x, _ in pts], [m for _, m in pts], marker="o",
                    label="%s/%s, %s thread%s" % (k[0], k[1], k[4], "" if k[4] == "1" else "s"))
            for col, m in zip(PAUSE_COLS, meds):
                stats_out.append((k + (col,), m))
        ax.set_xticks(PAUSE_X)
        ax.set_xticklabels(PAUSE_LABELS)
        ax.set_yscale("log")
        ax.set_xlabel("percentile of pauses")
        ax.set_ylabel("pause (us, median over repetitions)")
        ax.set_title(group_label(("", "", w, p, "", s), True, show_scale), fontsize=9)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    return fig


def load_events(path):
    """{(collector, allocator, workload, threads, placement): {(run_id, rep): [span, pauses]}}"""
    runs = {}
    header = None
    for line, rec in records(path):
        if line is None:
            break
        if header is None:
            header = rec
            if header != EVENTS_HEADER:
                raise BadInput("%s:1: not a gclab events file (expected the header %s)"
                               % (path, ",".join(EVENTS_HEADER)))
            continue
        if len(rec) != len(header):
            raise BadInput("%s:%d: row has %d fields, the header has %d"
                           % (path, line, len(rec), len(header)))
        r = dict(zip(header, rec))
        try:
            start, dur = int(r["start_ns"]), int(r["duration_ns"])
        except ValueError:
            raise BadInput("%s:%d: start_ns/duration_ns are not whole numbers" % (path, line))
        cell = (r["collector"], r["allocator"], r["workload"], r["threads"], r["placement"])
        run = runs.setdefault(cell, {}).setdefault((r["run_id"], r["rep"]), [None, []])
        if r["kind"] == "run":
            run[0] = (start, start + dur)
        elif r["kind"] == "pause":
            run[1].append((start, start + dur))
    if header is None:
        raise BadInput("%s:1: not a gclab events file (expected the header %s)"
                       % (path, ",".join(EVENTS_HEADER)))
    return runs


def mmu(span, pauses, w):
    """Minimum mutator utilisation over windows of w ns within span (gcl_mmu's method)."""
    t0, t1 = span
    if t1 - t0 < w:
        return None
    iv = sorted((max(a, t0), min(b, t1)) for a, b in pauses if min(b, t1) > max(a, t0))
    merged = []
    for a, b in iv:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])

    def paused(x, y):
        return sum(max(0, min(b, y) - max(a, x)) for a, b in merged)

    worst = 0
    for a, b in merged:
        for x in (a, b - w):
            x = min(max(x, t0), t1 - w)
            worst = max(worst, paused(x, x + w))
    return (w - worst) / w


def plot_mmu(runs, plt, stats_out):
    panels = {}
    for cell, reps in sorted(runs.items()):
        spans = [v for v in reps.values() if v[0] is not None]
        if not spans:
            continue
        longest = max(s[1] - s[0] for s, _ in spans)
        ws, w = [], 100000
        while w <= longest:
            ws.append(w)
            w = int(w * 1.5) + 1
        pts = []
        for w in ws:
            vals = sorted(v for v in (mmu(s, p, w) for s, p in spans) if v is not None)
            if vals:
                m = median_sorted(vals)
                pts.append((w / 1e6, m))
                stats_out.append((cell + (str(w),), m))
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
    return fig


def fmt(v):
    return "" if v is None else "%.10g" % v


def print_stats(kind, metric, stats_out):
    out = csv.writer(sys.stdout, lineterminator="\n")
    if kind == "mmu":
        out.writerow(["collector", "allocator", "workload", "threads", "placement",
                      "window_ns", "mmu"])
        for key, m in stats_out:
            out.writerow(list(key) + [fmt(m)])
        return
    if kind == "pauses":
        out.writerow(list(KEY) + ["column", "median"])
        for key, m in stats_out:
            out.writerow(list(key) + [fmt(m)])
        return
    out.writerow(list(KEY) + ["metric", "n", "median", "ci_low", "ci_high", "cv"])
    for k, st in stats_out:
        out.writerow(list(k) + [metric, st.n, fmt(st.median), fmt(st.lo), fmt(st.hi),
                                fmt(st.cv)])


def check_out(out, inputs):
    """--out is a regular file or a new name, and not one of the inputs (BadInput)."""
    if os.path.lexists(out) and os.path.exists(out) and not stat.S_ISREG(os.stat(out).st_mode):
        raise BadInput("bad --out '%s': it is not a regular file" % out)
    for i in inputs:
        if os.path.exists(out) and os.path.exists(i) and os.path.samefile(out, i):
            raise BadInput("bad --out '%s': it is the input '%s'" % (out, i))


def write_atomic(out, write):
    """write(tmp) into a private temporary file next to OUT, then rename it over OUT (as
    harness/safe-file.c gcl_file_write_atomic): OUT is the old file or the whole new one,
    and a symlink at OUT is replaced, never written through."""
    import tempfile
    folder = os.path.dirname(out) or "."
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(out) + ".")
    except OSError as e:
        raise BadInput("cannot write '%s': %s" % (out, e.strerror or e))
    try:
        os.close(fd)
        write(tmp)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, out)
    except OSError as e:
        os.unlink(tmp)
        raise BadInput("cannot write '%s': %s" % (out, e.strerror or e))
    except BaseException:
        os.unlink(tmp)
        raise


# --- command line ------------------------------------------------------------------------

class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write("%s: %s (try --help)\n" % (PROG, message))
        sys.exit(2)


def main(argv):
    ap = OneLineParser(prog=PROG, description=__doc__.split("\n\n", 2)[2],
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", metavar="FILE.csv", help="CSV written by gclab run")
    ap.add_argument("--kind", required=True, choices=("bars", "scaling", "pauses", "mmu"))
    ap.add_argument("--metric", default="wall_s",
                    help="numeric column to plot (default wall_s; not used by pauses)")
    ap.add_argument("--out", required=True, metavar="FIG",
                    help="output file; its extension picks the format: .png, .pdf or .svg")
    ap.add_argument("--print-stats", action="store_true",
                    help="also write the plotted numbers as CSV on standard output")
    args = ap.parse_args(argv)
    ext = os.path.splitext(args.out)[1].lower()
    if ext not in (".png", ".pdf", ".svg"):
        raise BadInput("bad --out '%s': the name must end in .png, .pdf or .svg" % args.out)
    check_out(args.out, [args.csv])
    if args.kind != "pauses" and args.metric in NOT_METRICS:
        raise BadInput("bad --metric '%s': not a measurement column (metrics are numeric "
                       "columns such as wall_s, gc_s, max_rss_kb)" % args.metric)
    if args.kind == "mmu":
        runs = load_events(args.csv)
    else:
        metrics = list(PAUSE_COLS) if args.kind == "pauses" else [args.metric]
        rows = load(args.csv, metrics)
        if not rows:
            raise BadInput("%s: no data rows" % args.csv)
        cells = cells_of(rows)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise BadInput("matplotlib is not importable by %s (Debian: apt-get install "
                       "python3-matplotlib, then run this with /usr/bin/python3)"
                       % sys.executable)
    plt.rcParams["svg.hashsalt"] = "gclab"  # reproducible SVG ids
    stats_out = []
    if args.kind == "bars":
        fig = plot_bars(cells, args.metric, plt, stats_out)
    elif args.kind == "scaling":
        fig = plot_scaling(cells, args.metric, plt, stats_out)
    elif args.kind == "mmu":
        fig = plot_mmu(runs, plt, stats_out)
    else:
        fig = plot_pauses(cells, plt, stats_out)
    fig.tight_layout()
    # No timestamps in the file, so the same CSV gives the same bytes.
    meta = {".png": {"Software": None}, ".pdf": {"CreationDate": None, "ModDate": None},
            ".svg": {"Date": None}}[ext]
    write_atomic(args.out, lambda tmp: fig.savefig(tmp, format=ext[1:], metadata=meta))
    if args.print_stats:
        print_stats(args.kind, args.metric, stats_out)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BadInput as e:
        sys.stderr.write("%s: %s\n" % (PROG, e))
        sys.exit(2)
