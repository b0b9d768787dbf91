# SPDX-License-Identifier: MIT
"""ast-parents.py SOURCE.py -- a program whose heap is one big data structure: the AST of a
large source file, annotated the way linters and refactoring tools annotate it.

Parses SOURCE.py with ast.parse, gives every node a `parent` back-link (so every tree edge
is also a two-object cycle, as in most AST tools) and a `depth`, and keeps a per-type index
of the nodes (dict of lists) plus the source lines. Everything stays reachable from module
globals until the program ends. Deterministic given PYTHONHASHSEED=0 and the same SOURCE.
Run by pyheap-dump.py (snapshots/README.md).
"""

import ast
import collections
import sys

if len(sys.argv) != 2:
    sys.exit("usage: ast-parents.py SOURCE.py")

with open(sys.argv[1], encoding="utf-8") as f:
    source = f.read()
source_lines = source.splitlines()
tree = ast.parse(source, filename=sys.argv[1])

by_type = collections.defaultdict(list)
tree.parent = None
tree.depth = 0
stack = [tree]
while stack:
    node = stack.pop()
    by_type[type(node).__name__].append(node)
    for child in ast.iter_child_nodes(node):
        child.parent = node
        child.depth = node.depth + 1
        stack.append(child)
node = None

node_count = sum(len(v) for v in by_type.values())
max_depth = max(n.depth for v in by_type.values() for n in v)
print("ast-parents: %d nodes, depth %d, %d node types" % (node_count, max_depth, len(by_type)),
      file=sys.stderr)
