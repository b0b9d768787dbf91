# SPDX-License-Identifier: MIT
# tests/harness/memory-events.sh — the memory sampler's samples reach `gclab run --events`
# (rows of kind `sample` with rss_kb, live_bytes, committed_bytes: results/README.md
# "Events and traces") and `--trace` (Perfetto counter tracks, "ph":"C", in each cell's
# process). Counts rows, not times: every cell has samples, their times rise and lie in the
# cell's `run` window, RSS and live bytes are filled, committed bytes are filled where the
# allocator reports them (pool) and empty where it does not (sys), live bytes are empty
# for the plain-C baseline (it bypasses the heap), rows of other kinds leave the three
# empty, and the trace has one counter event per filled figure of each sample.
. "$(dirname "$0")/lib.sh" "$@"
cd "$TMP" || exit 1

"$GCLAB" run --collector rc --allocator sys,pool --workload binary-trees,binary-trees-malloc \
  --param depth=14 --repeat 1 --out m.csv --events ev.csv --trace tr.json >/dev/null 2>err ||
  fail "run exit $? ($(tail -2 err))"
[ "$(head -1 ev.csv)" = run_id,collector,allocator,workload,threads,placement,rep,cell,thread,start_ns,duration_ns,kind,rss_kb,live_bytes,committed_bytes ] ||
  fail "events header '$(head -1 ev.csv)'"

python3 - ev.csv tr.json <<'EOF' || fail "events/trace check failed"
import csv, json, sys
from collections import defaultdict
rows = list(csv.DictReader(open(sys.argv[1])))
runs, samples = {}, defaultdict(list)
for r in rows:
    if r["kind"] == "run":
        runs[r["cell"]] = int(r["duration_ns"])
    if r["kind"] == "sample":
        samples[r["cell"]].append(r)
    elif r["rss_kb"] or r["live_bytes"] or r["committed_bytes"]:
        sys.exit("a %s row fills the sample columns: %s" % (r["kind"], r))
assert len(runs) == 4, "expected 4 cells with a run row, got %s" % sorted(runs)
for cell, span in runs.items():
    s = samples[cell]
    # binary-trees at depth 14 runs far longer than one 10 ms period even on an idle machine.
    assert len(s) >= 2, "%s: %d samples" % (cell, len(s))
    t = [int(x["start_ns"]) for x in s]
    assert t == sorted(t), "%s: sample times not monotone" % cell
    assert 0 <= t[0] and t[-1] <= span, "%s: samples outside the run window [0, %d]: %s..%s" % (cell, span, t[0], t[-1])
    for x in s:
        assert x["duration_ns"] == "0", "%s: a sample with a duration" % cell
        assert x["rss_kb"].isdigit() and int(x["rss_kb"]) > 0, "%s: rss_kb '%s'" % (cell, x["rss_kb"])
        malloc = "/binary-trees-malloc/" in cell
        assert (x["live_bytes"] == "") == malloc, "%s: live_bytes '%s'" % (cell, x["live_bytes"])
        pool = "/pool/" in cell
        assert (x["committed_bytes"] != "") == pool, "%s: committed_bytes '%s'" % (cell, x["committed_bytes"])
        if pool: assert x["committed_bytes"].isdigit()
trace = json.load(open(sys.argv[2]))["traceEvents"]
names = {e["pid"]: e["args"]["name"] for e in trace if e.get("ph") == "M"}
counters = defaultdict(int)
for e in trace:
    if e.get("ph") != "C":
        continue
    assert e["name"] in ("rss_kb", "live_bytes", "committed_bytes"), e
    assert list(e["args"]) == [e["name"]] and e["args"][e["name"]] >= 0, e
    counters[(names[e["pid"]], e["name"])] += 1
for cell, s in samples.items():
    for f in ("rss_kb", "live_bytes", "committed_bytes"):
        want = sum(1 for x in s if x[f] != "")
        assert counters[(cell, f)] == want, "%s %s: %d counter events, %d samples" % (cell, f, counters[(cell, f)], want)
EOF

# The rows of the same cells carry the sampler's mean.
[ -n "$(csv_col m.csv rss_mean_kb | head -1)" ] || fail "rss_mean_kb empty"
exit 0
