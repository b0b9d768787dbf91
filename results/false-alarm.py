#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""results/false-alarm.py - the analysis half of results/false-alarm.sh.

    python3 results/false-alarm.py GCLAB OUT_DIR      writes Markdown to stdout

Reads OUT_DIR/base.csv (the baseline, 20 repetitions a cell) and OUT_DIR/{f0,f10,f25}/rNN.csv
(rounds of results/baselines/ci.yaml at slowdown 0, 0.10, 0.25; 5 repetitions a cell) and
asks `GCLAB compare BASE NEW --metric wall_s,cpu_s --threshold 0 --format json` for every
comparison, so the ratio and its bootstrap interval are gclab's own, to the digit. The
decision rules are then applied to those numbers here:

  ci       lo > 1 + t                  (gclab compare's rule, --rule ci)
  median   r > 1 + t and lo > 1        (--rule median: the point estimate past the
                                        threshold, and the interval clear of 1)

A second design keeps no baseline file: the CI job measures the old build right before
the new one ("fresh"; here the f0 run of the same round, or of the adjacent round for false
alarms), so slow drift of the machine's load falls on both sides.

NEW samples of n = 5, 10 or 20 repetitions are the rows of 1, 2 or 4 consecutive rounds
joined (disjoint groups, so comparisons stay independent); the baseline is base.csv's rep
0..4 rows ("base5", what results/ci-regression.sh kept before) or all 20 ("base20").
Rates are per cell comparison, with Wilson 95% intervals; "runs" is the fraction of NEW
samples with at least one of the 8 cells called slower (what fails a CI job).

Repetitions needed (Kalibera and Jones, "Rigorous Benchmarking in Reasonable Time", ISMM
2013: size the experiment from the variance at each level): per cell and metric, the
within-run variance s_w^2 of log(x) (pooled over runs) and the between-run variance s_b^2
of the run means of log(x) beyond what s_w^2/5 explains. A comparison of an n-repetition
NEW with a fixed baseline then has variance about s_b^2 + 1.57 s_w^2 / n (1.57 = pi/2, the
variance of a median relative to a mean) plus the baseline's own term; the n that makes
z_0.99 + z_0.90 standard deviations fit in log(1.25) is reported, or "none" when the
between-run term alone is too large (no repetition count can then get there).

Invariant: nothing is written but stdout; temporary files live in a private folder.
"""
import csv
import glob
import json
import math
import os
import subprocess
import sys
import tempfile

CONDS = [("f0", 0.0), ("f10", 0.10), ("f25", 0.25)]
THRESHOLDS = [0.05, 0.10, 0.20, 0.25, 0.50]
METRICS = ["wall_s", "cpu_s"]
POOLS = [1, 2, 4]  # rounds joined per NEW sample: n = 5, 10, 20
Z99, Z90 = 2.3263, 1.2816


def read_rows(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        return next(r), list(r)


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def compare(gclab, base, new):
    """gclab compare's JSON cells: [(metric, key, ratio, lo, hi)] (None where n/a)."""
    p = subprocess.run([gclab, "compare", base, new, "--metric", ",".join(METRICS),
                        "--threshold", "0", "--format", "json"],
                       capture_output=True, text=True)
    if p.returncode not in (0, 1):
        sys.exit("false-alarm.py: gclab compare %s %s failed: %s" % (base, new, p.stderr.strip()))
    out = []
    for m in json.loads(p.stdout)["metrics"]:
        for c in m["cells"]:
            key = (c["collector"], c["allocator"], c["workload"])
            out.append((m["metric"], key, c.get("ratio"), c.get("ci_low"), c.get("ci_high")))
    return out


def slower(rule, t, ratio, lo):
    if ratio is None or lo is None:
        return False
    if rule == "ci":
        return lo > 1 + t
    return ratio > 1 + t and lo > 1


def wilson(k, n):
    if n == 0:
        return (float("nan"), float("nan"))
    z = 1.96
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def rate(k, n):
    lo, hi = wilson(k, n)
    return "%.1f%% (%d/%d) [%.1f, %.1f]" % (100 * k / n if n else float("nan"), k, n,
                                           100 * lo, 100 * hi)


def collect(gclab, out, tmp):
    """results[(base, cond, pool)] = list of NEW samples, each a list of compare cells."""
    header, brows = read_rows(os.path.join(out, "base.csv"))
    rep = header.index("rep")
    bases = {"base5": os.path.join(tmp, "base5.csv"), "base20": os.path.join(out, "base.csv")}
    write_csv(bases["base5"], header, [r for r in brows if int(r[rep]) < 5])
    runs = {c: sorted(glob.glob(os.path.join(out, c, "r[0-9]*.csv"))) for c, _ in CONDS}
    nround = {c: len(v) for c, v in runs.items()}
    res = {}
    for bname, bpath in bases.items():
        for c, _ in CONDS:
            for k in POOLS:
                samples = []
                for g in range(nround[c] // k):
                    rows = []
                    for p in runs[c][g * k:(g + 1) * k]:
                        h, rr = read_rows(p)
                        rows += rr
                    new = os.path.join(tmp, "new.csv")
                    write_csv(new, h, rows)
                    samples.append(compare(gclab, bpath, new))
                res[(bname, c, k)] = samples
    return res, runs, nround


def join(paths, tmp, name):
    rows, h = [], None
    for p in paths:
        h, rr = read_rows(p)
        rows += rr
    out = os.path.join(tmp, name)
    write_csv(out, h, rows)
    return out


def collect_fresh(gclab, runs, nround, tmp):
    """A fresh baseline in the same job: {(cond, pool): [compare cells]}. Detection: the
    slowed run of round r against the f0 run of the same round (made minutes apart);
    false alarms: the f0 runs of disjoint adjacent rounds against each other (round
    2g + 1 against 2g: no run is used twice). Pools join k consecutive rounds a side."""
    res = {}
    for k in POOLS:
        f0 = runs["f0"]
        res[("f0", k)] = [compare(gclab, join(f0[g:g + k], tmp, "b.csv"),
                                  join(f0[g + k:g + 2 * k], tmp, "n.csv"))
                          for g in range(0, nround["f0"] - 2 * k + 1, 2 * k)]
        for c in ("f10", "f25"):
            res[(c, k)] = [compare(gclab, join(f0[g:g + k], tmp, "b.csv"),
                                   join(runs[c][g:g + k], tmp, "n.csv"))
                           for g in range(0, min(nround[c], nround["f0"]) - k + 1, k)]
    return res


def table_fresh(res):
    print("### A fresh baseline in the same job (base measured minutes before NEW, n = n_base)\n")
    print("| metric | rule | n | threshold | false alarms | detected at 10% | detected at 25% | runs with a false alarm | goal met |")
    print("|---|---|--:|--:|--:|--:|--:|--:|---|")
    for m in METRICS:
        for rule in ["ci", "median"]:
            for k in POOLS:
                for t in THRESHOLDS:
                    fa, d10, d25 = (tally(res[(c, k)], m, rule, t) for c in ("f0", "f10", "f25"))
                    ok = fa[1] and fa[0] / fa[1] < 0.01 and d25[0] / d25[1] >= 0.90
                    print("| %s | %s | %d | %d%% | %s | %s | %s | %s | %s |" % (
                        m, rule, 5 * k, round(t * 100), rate(fa[0], fa[1]), rate(d10[0], d10[1]),
                        rate(d25[0], d25[1]), rate(fa[2], fa[3]), "**yes**" if ok else "no"))
    print()


def tally(samples, metric, rule, t):
    cells = hits = runs_hit = 0
    for s in samples:
        any_hit = False
        for (m, _, ratio, lo, _) in s:
            if m != metric:
                continue
            cells += 1
            if slower(rule, t, ratio, lo):
                hits += 1
                any_hit = True
        runs_hit += any_hit
    return hits, cells, runs_hit, len(samples)


def table_current(res):
    print("### gclab compare as it was (rule ci: lo > 1 + t), 5 repetitions vs the 5-repetition baseline\n")
    print("| metric | threshold | false alarms (f0) | detected, 10% slower (f10) | detected, 25% slower (f25) | runs with a false alarm |")
    print("|---|--:|--:|--:|--:|--:|")
    for m in METRICS:
        for t in THRESHOLDS:
            row = []
            for c, _ in CONDS:
                h, n, rh, rn = tally(res[("base5", c, 1)], m, "ci", t)
                row.append(rate(h, n))
                if c == "f0":
                    fa_runs = rate(rh, rn)
            print("| %s | %d%% | %s | %s | %s | %s |" % (m, round(t * 100), *row, fa_runs))
    print()


def table_rules(res):
    print("### Every rule, repetition count and baseline (per cell comparison)\n")
    print("| metric | rule | n new | baseline | threshold | false alarms | detected at 10% | detected at 25% | runs with a false alarm | goal met |")
    print("|---|---|--:|---|--:|--:|--:|--:|--:|---|")
    for m in METRICS:
        for rule in ["ci", "median"]:
            for k in POOLS:
                for b in ["base5", "base20"]:
                    for t in THRESHOLDS:
                        fa = tally(res[(b, "f0", k)], m, rule, t)
                        d10 = tally(res[(b, "f10", k)], m, rule, t)
                        d25 = tally(res[(b, "f25", k)], m, rule, t)
                        ok = fa[1] and fa[0] / fa[1] < 0.01 and d25[0] / d25[1] >= 0.90
                        print("| %s | %s | %d | %s | %d%% | %s | %s | %s | %s | %s |" % (
                            m, rule, 5 * k, b, round(t * 100), rate(fa[0], fa[1]),
                            rate(d10[0], d10[1]), rate(d25[0], d25[1]), rate(fa[2], fa[3]),
                            "**yes**" if ok else "no"))
    print()


def logs_by_run(runs, metric):
    """{cell key: [[log x of run 1], [log x of run 2], ...]} over the f0 runs."""
    out = {}
    for p in runs["f0"]:
        h, rows = read_rows(p)
        ix = {n: h.index(n) for n in ["collector", "allocator", "workload", "status", metric]}
        per = {}
        for r in rows:
            if r[ix["status"]] != "ok" or r[ix[metric]] == "":
                continue
            key = (r[ix["collector"]], r[ix["allocator"]], r[ix["workload"]])
            per.setdefault(key, []).append(math.log(float(r[ix[metric]])))
        for key, v in per.items():
            out.setdefault(key, []).append(v)
    return out


def mean(v):
    return sum(v) / len(v)


def var(v):
    m = mean(v)
    return sum((x - m) ** 2 for x in v) / (len(v) - 1)


def table_sizing(runs):
    print("### Variance and repetitions needed (Kalibera and Jones), from the f0 runs\n")
    print("s_w: within-run SD of log(x) (~ CV); s_b: between-run SD of the run means beyond "
          "s_w/sqrt(5). n needed: NEW repetitions so that (z_0.99 + z_0.90) SDs of the "
          "log ratio fit in log(1.25), with a 20-repetition baseline; `none` when s_b alone "
          "is too large.\n")
    print("| metric | cell | s_w | s_b | n needed (25%) | n needed (10%) | n (25%) if s_b were 0 | n (10%) if s_b were 0 |")
    print("|---|---|--:|--:|--:|--:|--:|--:|")
    for m in METRICS:
        for key, rs in sorted(logs_by_run(runs, m).items()):
            rs = [r for r in rs if len(r) >= 2]
            if len(rs) < 3:
                continue
            sw2 = mean([var(r) for r in rs])
            means = [mean(r) for r in rs]
            sb2 = max(0.0, var(means) - sw2 / mean([len(r) for r in rs]))
            need = []
            for b2 in (sb2, 0.0):
                for d in (0.25, 0.10):
                    budget = (math.log(1 + d) / (Z99 + Z90)) ** 2
                    # Var(log ratio) ~ 2 s_b^2 (baseline run and NEW run each have a run
                    #   effect) + 1.57 s_w^2 (1/n + 1/20)
                    rest = budget - 2 * b2 - 1.57 * sw2 / 20
                    need.append("none" if rest <= 0 else str(max(2, math.ceil(1.57 * sw2 / rest))))
            print("| %s | %s | %.3f | %.3f | %s |" % (m, "/".join(key), math.sqrt(sw2),
                                                   math.sqrt(sb2), " | ".join(need)))
    print()


def run_times(runs):
    secs = []
    for p in runs["f0"]:
        h, rows = read_rows(p)
        pw = h.index("process_wall_s")
        secs.append(sum(float(r[pw]) for r in rows if r[pw]))
    secs.sort()
    return secs[len(secs) // 2] if secs else float("nan")


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: false-alarm.py GCLAB OUT_DIR")
    gclab, out = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="gclab-fa.") as tmp:
        res, runs, nround = collect(gclab, out, tmp)
        fresh = collect_fresh(gclab, runs, nround, tmp)
    print("## False alarms and detection: %s runs (%s)\n" % (
        ", ".join("%s %d" % (c, n) for c, n in sorted(nround.items())), out))
    print("Median time of the cells of one 5-repetition run of ci.yaml (sum of process_wall_s): "
          "%.1f s; n repetitions cost n/5 of that.\n" % run_times(runs))
    table_current(res)
    table_rules(res)
    table_fresh(fresh)
    table_sizing(runs)


if __name__ == "__main__":
    main()
