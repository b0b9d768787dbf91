#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""tests/analysis/gen-plot-samples.py - writes the sample files of the plot kinds that
read columns other engineers are adding now, to the contracts of their issues:

  sample-paper.csv  a 3-collector matrix (rc, rc-gen, none) x (sys, pool) x (binary-trees,
                    churn, cycles), 1 thread, 5 repetitions: gc_s and mutator_s where the
                    collector measures them (rc-gen; none measures gc_s = 0), rc leaking on
                    cycles; for bars, bars --normalize, stacked
  sample-heap.csv   contract 3: heap_factor 1.5, 2, 3, 4, 6 and heap_limit_bytes, status oom
                    where the heap is too small (none below 4x, rc-gen at 1.5x), 3 reps
  sample-lru.csv    contract 4: lru.simple_p50_us .. lru.metered_max_us, lru.requests,
                    lru.rate_per_s; rc, rc-gen, brc at 1 and 2 threads, 3 reps; plus one
                    binary-trees cell without lru figures (left out of the figure)
  events-mem.csv    contract 1: the 15-column events header, `sample` rows every 10 ms with
                    rss_kb, live_bytes and committed_bytes (committed empty for sys, which
                    does not report it), pause and run rows; 2 cells x 2 repetitions

The values are made up (smooth functions plus a fixed pseudo-random jitter), not
measurements: they exist so tests/analysis/plot-figures-test.py can count what is drawn.
Run it with no argument to rewrite the four files next to it; the output is deterministic
(the same bytes every time), which the test checks.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = ["schema_version", "run_id", "timestamp", "gclab_version", "host", "collector",
        "allocator", "workload", "params", "options", "threads", "rep", "seed", "scale",
        "placement", "iterations", "status", "checksum", "wall_s", "cpu_s", "mutator_s",
        "gc_s", "objects_leaked", "cyclic_garbage", "max_rss_kb"]


class Jitter:
    """A 64-bit LCG: the same sequence on every run and every machine."""

    def __init__(self, seed):
        self.s = seed

    def __call__(self, spread):
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        return 1 + spread * ((self.s >> 11) / float(1 << 53) - 0.5) * 2


def row(cols, **kv):
    out = []
    for c in cols:
        v = kv.get(c.replace(".", "_"), kv.get(c, ""))
        out.append(("%.6g" % v) if isinstance(v, float) else str(v))
    return ",".join(out)


def common(c, a, w, p, t, r):
    return dict(schema_version=5, run_id="r%s%s%s%d" % (c, a, w, r), timestamp="2026-12-01T12:00:00Z",
                gclab_version="sample", host="sample", collector=c, allocator=a, workload=w,
                params=p, options="", threads=t, rep=r, seed=1 + r, scale=1, placement="none",
                iterations=1, checksum=4242)


def paper():
    j = Jitter(1)
    lines = [",".join(BASE)]
    work = {"binary-trees": ("depth=18", 1.0), "churn": ("live=100000", 0.6), "cycles": ("n=1000", 0.8)}
    cost = {"rc": 1.35, "rc-gen": 1.2, "none": 1.0}
    alloc = {"sys": 1.0, "pool": 0.85}
    for c in ("none", "rc", "rc-gen"):
        for a in ("pool", "sys"):
            for w, (p, wb) in work.items():
                for r in range(5):
                    wall = wb * cost[c] * alloc[a] * j(0.03 if c != "rc" else 0.08)
                    kv = common(c, a, w, p, 1, r)
                    kv.update(status="ok", wall_s=wall, cpu_s=wall * 0.98, max_rss_kb=30000)
                    if c == "rc-gen":
                        gc = wall * 0.18 * j(0.1)
                        kv.update(gc_s=gc, mutator_s=wall - gc)
                    elif c == "none":
                        kv.update(gc_s=0, mutator_s=wall)
                    leaked = 5000 if (c == "rc" and w == "cycles") else (10 ** 6 if c == "none" else 0)
                    kv.update(objects_leaked=leaked, cyclic_garbage=5000 if w == "cycles" else "")
                    lines.append(row(BASE, **kv))
    return lines


def heap():
    j = Jitter(2)
    cols = BASE[:17] + ["checksum", "wall_s", "cpu_s", "mutator_s", "gc_s", "heap_factor",
                        "heap_limit_bytes", "max_rss_kb"]
    lines = [",".join(cols)]
    for c in ("none", "rc-gen", "brc"):
        for hf in (1.5, 2, 3, 4, 6):
            for r in range(3):
                kv = common(c, "sys", "binary-trees", "depth=18", 1, r)
                kv.update(heap_factor="%g" % hf, heap_limit_bytes=int(hf * 64 * (1 << 20)))
                oom = (c == "none" and hf < 4) or (c == "rc-gen" and hf == 1.5)
                if oom:
                    kv.update(status="oom")
                else:
                    base = {"none": 1.0, "rc-gen": 1.1, "brc": 1.25}[c]
                    gcf = 0 if c == "none" else 0.6 / hf
                    wall = base * (1 + gcf) * j(0.03)
                    gc = wall * gcf / (1 + gcf)
                    kv.update(status="ok", wall_s=wall, cpu_s=wall, gc_s=gc, mutator_s=wall - gc,
                              max_rss_kb=int(hf * 64 * 1024))
                lines.append(row(cols, **kv))
    return lines


LRU = ["lru.%s_%s_us" % (m, p) for m in ("simple", "metered")
       for p in ("p50", "p90", "p99", "p999", "max")] + ["lru.requests", "lru.rate_per_s"]


def lru():
    j = Jitter(3)
    cols = BASE[:17] + ["checksum", "wall_s", "cpu_s", "config"] + LRU
    lines = [",".join(cols)]
    for c in ("brc", "rc", "rc-gen"):
        for t in (1, 2):
            for r in range(3):
                kv = common(c, "pool", "lru", "requests=100000", t, r)
                kv.update(status="ok", wall_s=1.0 * j(0.05), cpu_s=0.9 * t)
                tail = {"rc": 40.0, "rc-gen": 900.0, "brc": 120.0}[c] * (1 + 0.5 * (t - 1))
                for m, boost in (("simple", 1.0), ("metered", 3.0)):
                    vals = [2.0, 5.0, 12.0, tail, tail * 4]
                    for p, v in zip(("p50", "p90", "p99", "p999", "max"), vals):
                        bump = boost if p in ("p999", "max") else 1 + (boost - 1) * 0.2
                        kv["lru.%s_%s_us" % (m, p)] = v * bump * j(0.05)
                kv["lru.requests"] = 100000
                kv["lru.rate_per_s"] = 50000.0
                lines.append(row(cols, **kv))
    for r in range(3):  # a cell of another workload: no lru figures
        kv = common("rc", "pool", "binary-trees", "depth=18", 1, r)
        kv.update(status="ok", wall_s=0.5 * j(0.05), cpu_s=0.5)
        lines.append(row(cols, **kv))
    return lines


EVENTS = ["run_id", "collector", "allocator", "workload", "threads", "placement", "rep", "cell",
          "thread", "start_ns", "duration_ns", "kind", "rss_kb", "live_bytes", "committed_bytes"]


def events():
    j = Jitter(4)
    lines = [",".join(EVENTS)]
    for c, a in (("rc-gen", "pool"), ("rc", "sys")):
        for r in range(2):
            run = "ev%s%d" % (c, r)
            cell = "%s/%s/churn/1/none" % (c, a)
            pre = [run, c, a, "churn", "1", "none", str(r), cell, "100"]
            n = 30
            for k in range(n):
                t = k * 10000000
                live = int((20 + 60 * k / n) * (1 << 20) * j(0.02))
                rss = int(live / 1024 * 1.3) + 4096
                com = str(int(live * 1.1)) if a == "pool" else ""
                lines.append(",".join(pre + [str(t), "0", "sample", str(rss), str(live), com]))
                if c == "rc-gen" and k % 7 == 3:
                    lines.append(",".join(pre + [str(t + 1000000), "800000", "pause", "", "", ""]))
            lines.append(",".join(pre + ["0", str(n * 10000000), "run", "", "", ""]))
    return lines


FILES = {"sample-paper.csv": paper, "sample-heap.csv": heap, "sample-lru.csv": lru,
         "events-mem.csv": events}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    for name, fn in FILES.items():
        with open(os.path.join(out, name), "w") as f:
            f.write("\n".join(fn()) + "\n")


if __name__ == "__main__":
    main()
