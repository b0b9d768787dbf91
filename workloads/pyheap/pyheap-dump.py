#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""pyheap-dump.py -- dump a CPython heap as a gclab `pyheap` snapshot (FORMAT.md).

Standard library only. Two ways to use it:

  python3 pyheap-dump.py --out FILE [--repeats N] [--keep-garbage] --run PROG.py [ARGS...]
      runs PROG.py as __main__ (runpy), then dumps the heap it leaves behind (its module
      globals are kept alive while dumping, as they are at the end of a normal run);

  import runpy; runpy.run_path("workloads/pyheap/pyheap-dump.py")["dump"]("FILE")
      from inside a running program: dumps the heap at that point.

What is dumped: every object gc.get_objects() returns (the gc-tracked objects) plus every
object they reference directly that is not itself tracked (strings, numbers, untracked
tuples and dicts, static types, code objects...). For each: its type, whether it is
tracked, sys.getsizeof, its references restricted to the dumped set (gc.get_referents,
duplicates kept: each is one reference count), and its external reference count: the
references that come from outside the dumped graph (frames, C globals, untracked objects
not dumped...). The replay holds exactly the objects with external references > 0 as roots.

External count = sys.getrefcount(o) - DUMPER_REFS - (references to o from dumped objects).
DUMPER_REFS = 3 is what the dumper itself holds while it reads the count: the list of
dumped objects (one slot per object; the set has no duplicates), the loop variable, and the
argument of sys.getrefcount. All counts are read before the dumper builds anything else
that could refer to a dumped object (its id index holds small ints, which may be dumped
objects), and automatic collection is disabled from the snapshot to the last count.

Invariants: the dumper's own lists are never dumped; counts are never negative (a negative
difference, possible only if a type's tp_traverse reports a reference it does not own, is
clamped to 0 and counted in the report on stderr); immortal objects (CPython >= 3.12)
count as having one external reference.

While the snapshot is taken, automatic collection is disabled and the GIL switch interval
is raised so that no other Python thread runs (the snapshot does no I/O). The dumper's own
modules (argparse, runpy, ...) are part of the heap it dumps, as any module a program
imported.

Timing (stored in the header): gc.collect() is run --repeats times on the same heap, with
the dump data already serialized into one bytes object so that the dumper adds almost
nothing to what the collector scans; the median, the first run, the number of tracked
objects just before, and the number of objects collected are recorded.
"""

import argparse
import array
import gc
import os
import runpy
import statistics
import sys
import tempfile
import time

FORMAT_VERSION = 1
DUMPER_REFS = 3                  # see the module docstring
IMMORTAL_REFCNT = 1 << 30        # counts at least this large are immortal objects (3.12+)
MAX_OBJECT_BYTES = 64 << 20      # the reader's per-object bound (sizes are clamped to it)
Py_TPFLAGS_HAVE_GC = 1 << 14


def _escape(text):
    """Printable ASCII without spaces: '%', spaces, controls and non-ASCII become %XX."""
    out = []
    for b in text.encode("utf-8", "backslashreplace"):
        if 0x21 <= b <= 0x7E and b != 0x25:
            out.append(chr(b))
        else:
            out.append("%%%02X" % b)
    return "".join(out) or "%00"


def _printable(text):
    """Printable ASCII, spaces allowed (the `program` header value)."""
    return "".join(c if " " <= c <= "~" else "?" for c in text).strip() or "-"


def _type_name(t):
    try:
        mod = t.__module__
        qual = t.__qualname__
    except Exception:                       # a broken metaclass: fall back to tp_name
        return _escape(getattr(t, "__name__", "?"))
    if not isinstance(mod, str) or mod == "builtins":
        return _escape(str(qual))
    return _escape("%s.%s" % (mod, qual))


def _cpu_model():
    """The CPU the timings were taken on (they are only comparable on the same machine)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1]
    except OSError:
        pass
    import platform
    return platform.processor() or platform.machine() or "-"


def _gc_head_bytes():
    probe = []
    return sys.getsizeof(probe) - probe.__sizeof__()


def _snapshot():
    """Returns (body_bytes, counts dict). Runs with automatic collection disabled."""
    getrefcount = sys.getrefcount
    get_referents = gc.get_referents

    objs = gc.get_objects()            # excludes itself
    seen = {id(objs)}
    extra = []
    seen.add(id(seen))
    seen.add(id(extra))
    for o in objs:
        seen.add(id(o))
    for o in objs:
        for r in get_referents(o):
            if id(r) not in seen:
                seen.add(id(r))
                extra.append(r)
    o = r = None
    ntracked = len(objs)
    objs.extend(extra)
    del extra, seen, o, r

    # Reference counts first (see the docstring): objs holds one, `o` one, the argument one.
    counts = array.array("q")
    for o in objs:
        counts.append(getrefcount(o))
    del o

    n = len(objs)
    index = {id(x): i for i, x in enumerate(objs)}
    indeg = array.array("q", bytes(8 * n))
    ref_start = array.array("q", [0])
    refs = array.array("q")
    for x in objs:
        for r in get_referents(x):
            j = index.get(id(r))
            if j is not None:
                refs.append(j)
                indeg[j] += 1
        ref_start.append(len(refs))
    x = r = None
    del index

    types = {}          # id(type) -> index: no user __hash__/__eq__ runs (types stay alive in objs)
    type_lines = []
    lines = []
    total_bytes = 0
    clamped_neg = immortal = size_clamped = size_failed = tracked_check = 0
    for i in range(n):
        x = objs[i]
        t = type(x)
        ti = types.get(id(t))
        if ti is None:
            ti = types[id(t)] = len(type_lines)
            container = 1 if t.__flags__ & Py_TPFLAGS_HAVE_GC else 0
            type_lines.append("%d %s\n" % (container, _type_name(t)))
        tracked = 1 if i < ntracked else 0
        tracked_check += gc.is_tracked(x) == bool(tracked)
        try:
            size = int(sys.getsizeof(x))
        except Exception:                   # a broken __sizeof__: use the basic size
            size = t.__basicsize__
            size_failed += 1
        if size < 0:
            size = t.__basicsize__
            size_failed += 1
        if size > MAX_OBJECT_BYTES:
            size = MAX_OBJECT_BYTES
            size_clamped += 1
        total_bytes += size
        rc = counts[i]
        if rc >= IMMORTAL_REFCNT:
            ext = 1
            immortal += 1
        else:
            ext = rc - DUMPER_REFS - indeg[i]
            if ext < 0:
                ext = 0
                clamped_neg += 1
        a, b = ref_start[i], ref_start[i + 1]
        if a == b:
            lines.append("%d %d %d %d 0\n" % (ti, tracked, size, ext))
        else:
            lines.append("%d %d %d %d %d %s\n" % (ti, tracked, size, ext, b - a,
                                                  " ".join(map(str, refs[a:b]))))
    x = t = None
    del objs, types

    body = ("types\n" + "".join(type_lines) + "objects\n" + "".join(lines) + "end\n").encode("ascii")
    info = {
        "objects": n, "tracked": ntracked, "types": len(type_lines), "edges": len(refs),
        "bytes": total_bytes, "clamped_neg": clamped_neg, "immortal": immortal,
        "size_clamped": size_clamped, "size_failed": size_failed,
        "tracked_mismatch": n - tracked_check,
    }
    return body, info


def dump(path, repeats=7, keep_garbage=False, program=None, quiet=False):
    """Dump the calling process's heap to `path` (written atomically)."""
    if repeats < 1:
        raise ValueError("repeats must be >= 1, got %r" % (repeats,))
    pre_collected = None if keep_garbage else gc.collect()
    # No collection and no other Python thread may run while the snapshot is taken (it
    # does no I/O, so holding the GIL for the whole switch interval keeps it atomic).
    was_enabled = gc.isenabled()
    interval = sys.getswitchinterval()
    gc.disable()
    sys.setswitchinterval(1e6)
    try:
        body, info = _snapshot()
    finally:
        sys.setswitchinterval(interval)
        if was_enabled:
            gc.enable()

    # Time full collections of the same heap (the dump data is one bytes object now).
    tracked_now = len(gc.get_objects())
    times, collected = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        collected += gc.collect()
        times.append(time.perf_counter() - t0)

    if program is None:
        program = " ".join(sys.argv) if sys.argv and sys.argv[0] else "-"
    header = [
        "pyheap %d" % FORMAT_VERSION,
        "python %s" % sys.version.split()[0],
        "program %s" % _printable(program),
        "cpu %s" % _printable(_cpu_model()),
        "gc_head %d" % _gc_head_bytes(),
        "objects %d" % info["objects"],
        "tracked %d" % info["tracked"],
        "types %d" % info["types"],
        "edges %d" % info["edges"],
        "bytes %d" % info["bytes"],
        "collect_runs %d" % repeats,
        "collect_s %.9f" % statistics.median(times),
        "collect_first_s %.9f" % times[0],
        "collect_tracked %d" % tracked_now,
        "collect_collected %d" % collected,
    ]
    # A private temporary file next to PATH, renamed over it: PATH is the old snapshot or
    # the whole new one, and nothing is written through a symlink (a fixed PATH.tmpPID was).
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(("\n".join(header) + "\n").encode("ascii"))
            f.write(body)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    if not quiet:
        msg = ("pyheap-dump: %s: %d objects (%d tracked), %d edges, %d bytes; "
               "gc.collect() median %.3f ms over %d runs, %.1f ns per tracked object"
               % (path, info["objects"], info["tracked"], info["edges"], info["bytes"],
                  statistics.median(times) * 1e3, repeats,
                  statistics.median(times) * 1e9 / max(tracked_now, 1)))
        if pre_collected is not None:
            msg += "; %d garbage objects collected before the snapshot" % pre_collected
        print(msg, file=sys.stderr)
        for key, what in (("clamped_neg", "external counts clamped at 0"),
                          ("immortal", "immortal objects counted as roots"),
                          ("size_clamped", "sizes clamped to 64 MiB"),
                          ("size_failed", "sizes taken from __basicsize__"),
                          ("tracked_mismatch", "objects whose tracking changed while dumping")):
            if info[key]:
                print("pyheap-dump: warning: %d %s" % (info[key], what), file=sys.stderr)
    return info


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Run a Python program, then dump its heap as a gclab pyheap snapshot.")
    ap.add_argument("--out", required=True, help="snapshot file to write")
    ap.add_argument("--repeats", type=int, default=7,
                    help="timed gc.collect() runs; the median is stored (default 7)")
    ap.add_argument("--keep-garbage", action="store_true",
                    help="do not gc.collect() before the snapshot: garbage is dumped too")
    ap.add_argument("--run", required=True, metavar="PROG", help="the program to run first")
    ap.add_argument("args", nargs=argparse.REMAINDER, help="arguments for PROG")
    opts = ap.parse_args(argv)
    if opts.repeats < 1:
        ap.error("--repeats %d: expected a whole number >= 1" % opts.repeats)
    if not os.path.isfile(opts.run):
        ap.error("--run %s: no such file" % opts.run)

    program = " ".join([os.path.basename(opts.run)] + opts.args)
    sys.argv = [opts.run] + opts.args
    status = 0
    try:
        prog_globals = runpy.run_path(opts.run, run_name="__main__")
    except SystemExit as e:
        prog_globals = None
        status = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    dump(opts.out, repeats=opts.repeats, keep_garbage=opts.keep_garbage, program=program)
    del prog_globals
    return status


if __name__ == "__main__":
    sys.exit(main())
