#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""results/plot.py - figures from a CSV written by `gclab run`.

    python3 results/plot.py FILE.csv --kind bars|scaling|pauses|stacked|heap|latency
                            [--metric wall_s] [--normalize BASELINE]
                            --out fig.png|fig.pdf|fig.svg [--print-stats]
    python3 results/plot.py EVENTS.csv --kind mmu|memory --out fig.png|fig.pdf|fig.svg

Kinds:
%s

Statistics are those of `gclab summary` and `gclab compare` (harness/analysis/resample.c),
computed the same way so the numbers agree to the last digit: only status=ok rows with a
non-empty value count (empty = not measured, never 0); the CI is a percentile bootstrap of
the median, 2000 resamples of the sorted sample drawn by splitmix64 from the fixed seed
0x67636c6162000001, quantiles by linear interpolation (type 7). --print-stats writes the
plotted numbers as CSV on standard output.

Input is checked by the same rules as gclab's reader (results/plotlib/csvread.py mirrors
harness/analysis/csv-read.c); bad input prints one line and exits with status 2. The code
is split by job in results/plotlib/: csvread (the reader), events (events files), stats
(median, bootstrap), style (colours, labels), output (atomic write, --print-stats) and one
kind_*.py per figure kind. Needs Debian's python3-matplotlib; otherwise only the standard
library.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from plotlib import (kind_bars, kind_heap, kind_latency, kind_memory, kind_mmu,  # noqa: E402
                     kind_pauses, kind_scaling, kind_stacked)
from plotlib.csvread import (MEASUREMENTS, NOT_METRICS, PROG, SCHEMA_VERSION,  # noqa: E402,F401
                             TEXT_RECORD, BadInput, cells_of, load, ok_values)
from plotlib.events import load_events, load_samples  # noqa: E402
from plotlib.output import check_out, print_stats, write_atomic  # noqa: E402
from plotlib.stats import Stat  # noqa: E402,F401

KINDS = {"bars": kind_bars, "scaling": kind_scaling, "pauses": kind_pauses,
         "stacked": kind_stacked, "heap": kind_heap, "latency": kind_latency,
         "mmu": kind_mmu, "memory": kind_memory}
__doc__ = __doc__ % "\n".join("  " + k.HELP for k in KINDS.values())


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write("%s: %s (try --help)\n" % (PROG, message))
        sys.exit(2)


def parse(argv):
    ap = OneLineParser(prog=PROG, description=__doc__.split("\n\n", 2)[2],
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", metavar="FILE.csv", help="CSV written by gclab run")
    ap.add_argument("--kind", required=True, choices=tuple(KINDS))
    ap.add_argument("--metric", default=None,
                    help="numeric column to plot (default wall_s; bars, scaling, heap)")
    ap.add_argument("--normalize", metavar="BASELINE", default=None,
                    help="bars and heap: divide by this collector's (or collector/allocator "
                         "pair's) median, with ratio CIs (bars: and a geometric-mean group; "
                         "heap: or 'best', the panel's lowest median)")
    ap.add_argument("--out", required=True, metavar="FIG",
                    help="output file; its extension picks the format: .png, .pdf or .svg")
    ap.add_argument("--print-stats", action="store_true",
                    help="also write the plotted numbers as CSV on standard output")
    return ap.parse_args(argv)


def check_args(args):
    ext = os.path.splitext(args.out)[1].lower()
    if ext not in (".png", ".pdf", ".svg"):
        raise BadInput("bad --out '%s': the name must end in .png, .pdf or .svg" % args.out)
    check_out(args.out, [args.csv])
    uses_metric = args.kind in ("bars", "scaling", "heap")
    if args.metric is not None and not uses_metric and args.kind != "pauses":
        raise BadInput("--metric is not used by --kind %s (only bars, scaling, heap)" % args.kind)
    if args.metric is None:
        args.metric = "wall_s"
    if args.normalize is not None and args.kind not in ("bars", "heap"):
        raise BadInput("--normalize is for --kind bars and heap only (not %s)" % args.kind)
    if args.normalize == "":
        raise BadInput("bad --normalize '': expected a collector or collector/allocator")
    if uses_metric and args.metric in NOT_METRICS:
        raise BadInput("bad --metric '%s': not a measurement column (metrics are numeric "
                       "columns such as wall_s, gc_s, max_rss_kb)" % args.metric)
    return ext


def build(argv):
    """The figure of a command line: (figure, stats header, stats rows, args, extension).
    tests/analysis/plot-figures-test.py calls this to count what was drawn."""
    args = parse(argv)
    ext = check_args(args)
    kind = KINDS[args.kind]
    if kind.INPUT == "events":
        data = load_samples(args.csv) if args.kind == "memory" else load_events(args.csv)
    else:
        rows = load(args.csv, kind.columns(args))
        if not rows:
            raise BadInput("%s: no data rows" % args.csv)
        data = kind.prepare(rows) if hasattr(kind, "prepare") else cells_of(rows)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise BadInput("matplotlib is not importable by %s (Debian: apt-get install "
                       "python3-matplotlib, then run this with /usr/bin/python3)"
                       % sys.executable)
    plt.rcParams["svg.hashsalt"] = "gclab"  # reproducible SVG ids
    fig, header, stat_rows = kind.draw(data, args, plt)
    fig.tight_layout()
    return fig, header, stat_rows, args, ext


def main(argv):
    fig, header, stat_rows, args, ext = build(argv)
    # No timestamps in the file, so the same CSV gives the same bytes.
    meta = {".png": {"Software": None}, ".pdf": {"CreationDate": None, "ModDate": None},
            ".svg": {"Date": None}}[ext]
    write_atomic(args.out, lambda tmp: fig.savefig(tmp, format=ext[1:], metadata=meta))
    if args.print_stats:
        print_stats(header, stat_rows)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BadInput as e:
        sys.stderr.write("%s: %s\n" % (PROG, e))
        sys.exit(2)
