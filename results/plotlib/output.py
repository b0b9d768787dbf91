# SPDX-License-Identifier: MIT
"""results/plotlib/output.py - writing the figure and the plotted numbers.

write_atomic writes through a private temporary file and a rename (as harness/safe-file.c),
so --out is the old file or the whole new one, and a symlink there is replaced, never
written through. print_stats writes the numbers a figure shows as CSV: one header, one row
per drawn value, empty for not measured.
"""
import csv
import os
import stat
import sys

from .csvread import BadInput


def fmt(v):
    return "" if v is None else "%.10g" % v



def print_stats(header, rows):
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(header)
    for r in rows:
        out.writerow([fmt(v) if isinstance(v, float) or v is None else v for v in r])


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

