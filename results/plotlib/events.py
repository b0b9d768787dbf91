# SPDX-License-Identifier: MIT
"""results/plotlib/events.py - reading an events file (`gclab run --events`).

Two headers are accepted: the 12 columns of EVENTS_HEADER, and those followed by rss_kb,
live_bytes and committed_bytes (contract 1: rows of kind `sample` carry a memory sample
at start_ns, with duration_ns 0; committed_bytes empty where the allocator does not report
it; rows of other kinds leave the three empty). load_events gives the runs and their pauses
(for mmu), load_samples the memory samples (for memory). start_ns and duration_ns must be
whole numbers, the three memory columns empty or whole numbers >= 0; anything else is
BadInput with one line naming the file, line and column.
"""
from .csvread import BadInput, records

EVENTS_HEADER = ["run_id", "collector", "allocator", "workload", "threads", "placement", "rep",
                 "cell", "thread", "start_ns", "duration_ns", "kind"]
MEMORY_COLS = ["rss_kb", "live_bytes", "committed_bytes"]
EVENTS_HEADER_MEM = EVENTS_HEADER + MEMORY_COLS


def event_rows(path):
    """(line, row dict) of each event row of PATH, after checking the header and lengths."""
    header = None
    for line, rec in records(path):
        if line is None:
            break
        if header is None:
            header = rec
            if header not in (EVENTS_HEADER, EVENTS_HEADER_MEM):
                raise BadInput("%s:1: not a gclab events file (expected the header %s, "
                               "optionally followed by %s)"
                               % (path, ",".join(EVENTS_HEADER), ",".join(MEMORY_COLS)))
            continue
        if len(rec) != len(header):
            raise BadInput("%s:%d: row has %d fields, the header has %d"
                           % (path, line, len(rec), len(header)))
        r = dict(zip(header, rec))
        try:
            r["start_ns"], r["duration_ns"] = int(r["start_ns"]), int(r["duration_ns"])
        except ValueError:
            raise BadInput("%s:%d: start_ns/duration_ns are not whole numbers" % (path, line))
        yield line, r
    if header is None:
        raise BadInput("%s:1: not a gclab events file (expected the header %s)"
                       % (path, ",".join(EVENTS_HEADER)))


def cell_of(r):
    return (r["collector"], r["allocator"], r["workload"], r["threads"], r["placement"])


# Pauses of one thread, not of the world (core/pause.c gcl_pause_kind_is_thread).
THREAD_PAUSE_KINDS = ("handshake-callback", "assist", "pace")


def load_events(path):
    """{(collector, allocator, workload, threads, placement): {(run_id, rep): [span, pauses,
    thread_pauses]}}: pauses are the world stops (kind `pause`), thread_pauses
    {thread: [(a, b)]} each thread's own (THREAD_PAUSE_KINDS)."""
    runs = {}
    for line, r in event_rows(path):
        run = runs.setdefault(cell_of(r), {}).setdefault((r["run_id"], r["rep"]), [None, [], {}])
        iv = (r["start_ns"], r["start_ns"] + r["duration_ns"])
        if r["kind"] == "run":
            run[0] = iv
        elif r["kind"] == "pause":
            run[1].append(iv)
        elif r["kind"] in THREAD_PAUSE_KINDS:
            run[2].setdefault(r["thread"], []).append(iv)
    return runs


def whole_or_none(text, path, line, col):
    if text == "":
        return None
    if not (text.isascii() and text.isdigit()):
        raise BadInput("%s:%d: column %s: '%s' is not a whole number >= 0 (or empty for not "
                       "measured)" % (path, line, col, text))
    return int(text)


def load_samples(path):
    """{cell: {(run_id, rep): [(t_ns, rss_kb, live_bytes, committed_bytes)]}} from the
    `sample` rows, in time order; BadInput when the file has no memory columns."""
    out, has_mem = {}, False
    for line, r in event_rows(path):
        has_mem = has_mem or "rss_kb" in r
        if r["kind"] != "sample":
            continue
        vals = [whole_or_none(r[c], path, line, c) for c in MEMORY_COLS]
        out.setdefault(cell_of(r), {}).setdefault((r["run_id"], r["rep"]), []).append(
            (r["start_ns"],) + tuple(vals))
    if not has_mem:
        raise BadInput("%s: the events file has no memory columns (%s): it was written "
                       "before the memory sampler" % (path, ",".join(MEMORY_COLS)))
    for reps in out.values():
        for v in reps.values():
            v.sort()
    return out
