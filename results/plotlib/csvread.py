# SPDX-License-Identifier: MIT
"""results/plotlib/csvread.py - reading a results CSV exactly as gclab's reader does.

The rules of harness/analysis/csv-read.c, mirrored by records() and load(): a regular file,
strict RFC 4180 with no NUL byte and no quote inside an unquoted field, header with the
required columns, schema_version 1 to SCHEMA_VERSION, the same on every row, every row as
long as the header, numbers well formed, no negative or non-finite measurement
(tests/analysis/plot-read-test.sh feeds both the same bad files). Rows (version 2 on) whose
placement is not none or iterations not 1 are separate cells labelled threads@placement[/iN];
rows (version 5 on) with chosen module options are separate cells labelled
collector[options]; rows with a heap_factor (contract 3, schema 6) are separate cells whose
params gain "heap=Fx" (the factor itself stays in row["heap_factor"], the params as
written in row["_params"]). Empty means not measured (None), never 0. Bad input raises
BadInput with one line.
"""
import csv
import math
import os
import re
import stat
import sys

SCHEMA_VERSION = 7  # harness/schema.h GCL_SCHEMA_VERSION; tests/analysis/plot-test.sh checks
SCHEMA_OLDEST_READ = 1
KEY = ("collector", "allocator", "workload", "params", "threads", "scale")
NOT_METRICS = {"schema_version", "run_id", "timestamp", "gclab_version", "host", "cpu_model",
               "collector", "allocator", "workload", "params", "threads", "rep", "seed",
               "scale", "status", "checksum", "config", "options", "placement", "iterations",
               "compiler", "build_type", "build_flags", "sanitizer", "kernel", "libc",
               "hwloc_version", "urcu_version", "malloc_lib", "malloc_env", "thp",
               "cpu_governor", "yaml_version", "gil", "freelists", "heap_factor",
               "heap_limit_bytes"}
PROG = "plot.py"


class BadInput(Exception):
    """One line for the user; the program exits with status 2."""



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
        if row.get("gil") == "true":  # schema 6: a cell under the GIL, as gclab labels it
            row["collector"] = row["collector"] + "+gil"
        if row.get("freelists") == "true":  # schema 7: free lists on, as gclab labels it
            row["collector"] = row["collector"] + "+fl"
        if row.get("options"):  # schema 5: chosen options are part of the cell
            row["collector"] = row["collector"] + "[" + row["options"] + "]"
        hf = row.get("heap_factor", "")
        row["_params"] = row["params"]
        if hf:  # contract 3: one cell per heap factor
            row["params"] = row["params"] + (";" if row["params"] else "") + "heap=" + hf + "x"
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

