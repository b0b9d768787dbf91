# SPDX-License-Identifier: MIT
"""stdlib-tour.py -- a program whose heap is "a large part of the standard library in use".

Imports a broad set of standard library packages and exercises each a little (parsing,
formatting, containers, dataclasses, regular expressions, decimal arithmetic, an asyncio
loop, logging, argparse, email, XML, JSON, sqlite3, difflib, ...), keeping some results
alive in module globals, the way a long-running application holds caches, configuration and
parsed data. Deterministic given PYTHONHASHSEED=0; no network, no files outside a
temporary directory that is removed again. Run by pyheap-dump.py (snapshots/README.md).
"""

import argparse
import ast
import asyncio
import base64
import bisect
import calendar
import collections
import configparser
import contextlib
import copy
import csv
import dataclasses
import datetime
import decimal
import difflib
import email.message
import email.parser
import email.policy
import enum
import fractions
import functools
import hashlib
import heapq
import html.parser
import http.client
import http.server
import inspect
import io
import ipaddress
import itertools
import json
import logging
import logging.handlers
import math
import operator
import os
import pathlib
import pickle
import pprint
import queue
import random
import re
import shlex
import shutil
import sqlite3
import statistics
import string
import struct
import tempfile
import textwrap
import threading
import tokenize
import typing
import unittest
import urllib.parse
import urllib.request
import uuid
import weakref
import xml.dom.minidom
import xml.etree.ElementTree as ET
import zipfile
import zlib

rng = random.Random(20240601)
log = logging.getLogger("tour")
log.addHandler(logging.handlers.MemoryHandler(capacity=1000))
log.setLevel(logging.DEBUG)


@dataclasses.dataclass
class Account:
    name: str
    balance: decimal.Decimal
    tags: list = dataclasses.field(default_factory=list)
    parent: "Account | None" = None


class Color(enum.Enum):
    RED = 1
    GREEN = 2
    BLUE = 3


class Node:
    """A tree node with a parent back-link (a cycle per edge, as in many real programs)."""

    def __init__(self, name, parent=None):
        self.name = name
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)


# Containers and numbers.
decimal.getcontext().prec = 30
accounts = {}
root_account = Account("root", decimal.Decimal(0))
for i in range(3000):
    a = Account("acct-%04d" % i, decimal.Decimal(rng.randint(0, 10 ** 6)) / 100,
                [rng.choice(["retail", "corp", "gov", "edu"]) for _ in range(rng.randint(0, 3))],
                root_account)
    accounts[a.name] = a
totals = collections.Counter(t for a in accounts.values() for t in a.tags)
fracs = [fractions.Fraction(rng.randint(1, 1000), rng.randint(1, 1000)) for _ in range(2000)]
stats = (statistics.mean(float(f) for f in fracs), statistics.pstdev(float(f) for f in fracs))
heap = [rng.random() for _ in range(5000)]
heapq.heapify(heap)
sorted_keys = sorted(accounts)
pos = [bisect.bisect(sorted_keys, "acct-%04d" % rng.randint(0, 3000)) for _ in range(100)]
dq = collections.deque(range(2000), maxlen=1500)
od = collections.OrderedDict((k, len(k)) for k in sorted_keys[:500])
chain = collections.ChainMap({"a": 1}, {"b": 2}, od)
tree_root = Node("root")
frontier = [tree_root]
for i in range(4000):
    frontier.append(Node("n%d" % i, rng.choice(frontier)))
colors = [rng.choice(list(Color)) for _ in range(500)]

# Text: regular expressions, formatting, difflib, tokenize, ast.
words = re.findall(r"[A-Za-z_]+", inspect.getsource(collections))
word_freq = collections.Counter(words).most_common(300)
patterns = [re.compile(p) for p in (r"\d+", r"(\w+)@(\w+)\.com", r"^\s*def\s+(\w+)", r"[aeiou]{2,}")]
matches = [p.findall(" ".join(words[:5000])) for p in patterns]
wrapped = textwrap.wrap(" ".join(words[:3000]), width=72)
diff = list(difflib.unified_diff(wrapped[:200], sorted(wrapped[:200]), lineterm=""))
template = string.Template("$who owes $amount")
bills = [template.substitute(who=a.name, amount=a.balance) for a in list(accounts.values())[:500]]
tokens = list(tokenize.generate_tokens(io.StringIO(inspect.getsource(textwrap)).readline))
tree = ast.parse(inspect.getsource(json.decoder))
quoted = [shlex.quote(w) for w in words[:500]]
pretty = pprint.pformat(dict(list(od.items())[:100]))

# Data formats: JSON, CSV, pickle, base64, zlib, struct, XML, HTML, email, config, zip.
doc = {"accounts": [{"name": a.name, "balance": str(a.balance), "tags": a.tags}
                    for a in list(accounts.values())[:1500]]}
doc_json = json.dumps(doc)
doc_back = json.loads(doc_json)
csv_buf = io.StringIO()
writer = csv.writer(csv_buf)
for a in list(accounts.values())[:1000]:
    writer.writerow([a.name, a.balance, ";".join(a.tags)])
csv_rows = list(csv.reader(io.StringIO(csv_buf.getvalue())))
pickled = pickle.loads(pickle.dumps(list(accounts.values())[:300]))
packed = [struct.pack("<idh", i, i / 3, i % 100) for i in range(500)]
compressed = zlib.compress(doc_json.encode())
b64 = base64.b64encode(compressed[:4096])
digests = {a.name: hashlib.sha256(a.name.encode()).hexdigest() for a in list(accounts.values())[:500]}
xml_root = ET.Element("accounts")
for a in list(accounts.values())[:800]:
    e = ET.SubElement(xml_root, "account", name=a.name)
    e.text = str(a.balance)
xml_text = ET.tostring(xml_root, encoding="unicode")
dom = xml.dom.minidom.parseString(xml_text[:20000].rsplit("<account", 1)[0] + "</accounts>")


class LinkCollector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links.append(dict(attrs).get("href"))


html_page = "".join('<p><a href="/page/%d">page %d</a></p>' % (i, i) for i in range(1000))
link_collector = LinkCollector()
link_collector.feed(html_page)
msg = email.message.EmailMessage()
msg["From"] = "tour@example.org"
msg["To"] = "gclab@example.org"
msg["Subject"] = "heap snapshot"
msg.set_content("\n".join(wrapped[:50]))
parsed_msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(bytes(msg))
config = configparser.ConfigParser()
config.read_string("[gc]\nthreshold0 = 2000\nthreshold1 = 10\n[heap]\nsnapshot = yes\n")
urls = [urllib.parse.urlparse("https://example.org/a/%d?x=%d#f" % (i, i * i)) for i in range(500)]
query = urllib.parse.urlencode({"q": "gclab", "page": 3})
nets = [ipaddress.ip_network("10.%d.0.0/16" % i) for i in range(200)]
uuids = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(500)]
days = [datetime.date(2024, 1, 1) + datetime.timedelta(days=i) for i in range(366)]
cal = calendar.TextCalendar().formatyear(2024)

with tempfile.TemporaryDirectory() as tmp:
    p = pathlib.Path(tmp)
    with zipfile.ZipFile(p / "a.zip", "w") as z:
        z.writestr("doc.json", doc_json)
    with zipfile.ZipFile(p / "a.zip") as z:
        zip_names = z.namelist()
    db = sqlite3.connect(str(p / "tour.db"))
    db.execute("create table acct (name text primary key, balance text)")
    db.executemany("insert into acct values (?, ?)",
                   [(a.name, str(a.balance)) for a in accounts.values()])
    top_accounts = db.execute("select name, balance from acct order by balance desc limit 100").fetchall()
    db.close()
    shutil.copy(p / "a.zip", p / "b.zip")


# Functional tools, typing, weak references, copies.
@functools.lru_cache(maxsize=None)
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


fibs = [fib(i) for i in range(300)]
partials = [functools.partial(operator.mul, i) for i in range(200)]
products = list(itertools.islice(itertools.product("abc", repeat=5), 200))
T = typing.TypeVar("T")


class Box(typing.Generic[T]):
    def __init__(self, item: T):
        self.item = item


boxes = [Box[int](i) for i in range(500)]
registry = weakref.WeakValueDictionary((n.name, n) for n in frontier[:1000])
deep = copy.deepcopy(doc["accounts"][:200])


# Concurrency: an asyncio loop, a thread pool of one, queues.
async def produce(q, n):
    for i in range(n):
        await q.put(i)
        await asyncio.sleep(0)
    await q.put(None)


async def consume(q):
    items = []
    while (item := await q.get()) is not None:
        items.append(item * item)
    return items


async def main_async():
    q = asyncio.Queue()
    _, items = await asyncio.gather(produce(q, 500), consume(q))
    return items


async_items = asyncio.run(main_async())
work = queue.Queue()
results = []
worker = threading.Thread(target=lambda: results.extend(work.get() ** 2 for _ in range(100)))
worker.start()
for i in range(100):
    work.put(i)
worker.join()

# Command-line parsing and unit test machinery, as a test runner would hold them.
parser = argparse.ArgumentParser(prog="tour")
parser.add_argument("--depth", type=int, default=3)
parser.add_argument("--mode", choices=["a", "b"], default="a")
cli = parser.parse_args(["--depth", "7"])


class TourTests(unittest.TestCase):
    def test_totals(self):
        self.assertEqual(sum(totals.values()), sum(len(a.tags) for a in accounts.values()))

    def test_json(self):
        self.assertEqual(doc_back, doc)


suite = unittest.defaultTestLoader.loadTestsFromTestCase(TourTests)
test_result = unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(suite)
log.info("tour done: %d accounts, %d tests run", len(accounts), test_result.testsRun)
