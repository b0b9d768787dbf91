#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""workloads/pyobjects/count-objects.py — count a real CPython program's objects by type.

Runs a stdlib-heavy program (by default: import a set of stdlib modules, parse every
module of the `email`, `json` and `logging` packages with `ast`, and keep the trees), then
finds every object reachable from the tracked containers (gc.get_objects() plus
gc.get_referents of each, so untracked ints, floats, strings and tuples are found too)
and prints the counts the pyobjects workload's mix is taken from:
  int, float, str, tuple (by length 1..5 and longer), list, dict, and the rest;
  of the ints, how many are small (-5..256: CPython's immortal small ints);
  of the strings, how many are interned-looking (identifiers of at most 32 characters);
  the same two splits over references (refs_to_*: how many container slots hold an int, a
  small int, a string, an identifier string), since a small int is one shared object.
Output: one `name count` line per figure. No arguments; deterministic for one Python
version (the counts change a little between versions). Invariant: an object is counted
once (by id, while every object is kept alive by the program's own references).
"""
import ast
import gc
import importlib
import pathlib
import sys


def workload():
    """The real program: import and parse a slice of the stdlib, keeping the trees."""
    mods = ["email", "json", "logging", "argparse", "collections", "decimal", "typing"]
    for m in mods:
        importlib.import_module(m)
    trees = []
    for pkg in ("email", "json", "logging"):
        root = pathlib.Path(importlib.import_module(pkg).__file__).parent
        for f in sorted(root.glob("*.py")):
            trees.append(ast.parse(f.read_text(encoding="utf-8"), str(f)))
    return trees


def main():
    keep = workload()
    gc.collect()
    seen = {}
    refs = {"int": 0, "small_int": 0, "str": 0, "identifier_str": 0}
    stack = list(gc.get_objects())
    # Loop invariant: every object on the stack is alive; seen maps id -> object counted;
    # refs counts the references from counted objects to ints and strings.
    while stack:
        o = stack.pop()
        if id(o) in seen:
            continue
        seen[id(o)] = o
        for r in gc.get_referents(o):
            if type(r) is int:
                refs["int"] += 1
                refs["small_int"] += -5 <= r <= 256
            elif type(r) is str:
                refs["str"] += 1
                refs["identifier_str"] += len(r) <= 32 and r.isidentifier()
            stack.append(r)
    counts = {}
    small_ints = ident_strs = 0
    for o in seen.values():
        t = type(o)
        if t is int:
            key = "int"
            small_ints += -5 <= o <= 256
        elif t is float:
            key = "float"
        elif t is str:
            key = "str"
            ident_strs += len(o) <= 32 and o.isidentifier()
        elif t is tuple:
            key = "tuple%d" % len(o) if 1 <= len(o) <= 5 else "tuple_other"
        elif t is list:
            key = "list"
        elif t is dict:
            key = "dict"
        else:
            key = "other"
        counts[key] = counts.get(key, 0) + 1
    print("python", sys.version.split()[0])
    for k in ("int", "float", "str", "tuple1", "tuple2", "tuple3", "tuple4", "tuple5",
              "tuple_other", "list", "dict", "other"):
        print(k, counts.get(k, 0))
    print("small_int", small_ints)
    print("identifier_str", ident_strs)
    print("total", len(seen))
    for k, v in refs.items():
        print("refs_to_" + k, v)
    del keep


if __name__ == "__main__":
    main()
