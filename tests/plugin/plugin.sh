# SPDX-License-Identifier: MIT
# tests/plugin/plugin.sh SRC — the plug-in contract's "done when" (issue 11): a new
# allocator with two figures and one option, written in one folder from a copy of
# allocators/sys/ (tests/plugin/probe/), joins a copy of the source tree with exactly one
# CMake line and no other file changed; then, learned from its runner alone,
#  - `gclab list` lists it, `list --figures` its two figures, `list --options` its option;
#  - `gclab run --opt probe.pad=0,64` is an axis: two cells, each row echoing its value;
#  - its figures are CSV columns (probe.allocs, probe.pad_bytes), filled with what the
#    allocator measured (pad_bytes = pad x allocs), empty in another allocator's rows.
# Builds only gclab and the two runners it needs (rc x probe, rc x sys): about a minute.
set -u
export LC_ALL=C # diff's and cmake's messages are compared as text
SRC=$(realpath -- "$1")
TMP=$(mktemp -d /tmp/gclab-plugin.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The source tree, twice: one copy stays pristine to prove that nothing outside the new
# folder changed. From git when SRC is a work tree (tracked files as they are on disk),
# else every file but build trees.
mkdir -p "$TMP/src"
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$SRC" && git ls-files -z | xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) \
    >"$TMP/files" || fail "git ls-files failed in $SRC"
  (cd "$SRC" && xargs -0 cp --parents -t "$TMP/src" <"$TMP/files") || fail "copying the tree failed"
else
  (cd "$SRC" && tar --exclude='./build*' --exclude=./.git -cf - .) | tar -C "$TMP/src" -xf - ||
    fail "copying the tree failed"
fi
cp -a "$TMP/src" "$TMP/pristine"
mkdir "$TMP/src/allocators/probe"
cp "$SRC"/tests/plugin/probe/* "$TMP/src/allocators/probe/"
line='gcl_add_allocator(probe SOURCES allocators/probe/probe.c)'
# Insert the line after the last allocator line, a complete statement (it ends with ')').
n=$(grep -n '^gcl_add_allocator(.*)$' "$TMP/src/CMakeLists.txt" | tail -1 | cut -d: -f1)
[ -n "$n" ] || fail "no one-line gcl_add_allocator(...) statement in CMakeLists.txt"
sed -i "${n}a $line" "$TMP/src/CMakeLists.txt"

# Nothing else changed: one added line in CMakeLists.txt and the new folder.
changes=$(diff -rq "$TMP/pristine" "$TMP/src")
[ "$changes" = "Files $TMP/pristine/CMakeLists.txt and $TMP/src/CMakeLists.txt differ
Only in $TMP/src/allocators: probe" ] || fail "other changes: $changes"
[ "$(diff "$TMP/pristine/CMakeLists.txt" "$TMP/src/CMakeLists.txt" | grep -c '^>')" = 1 ] ||
  fail "CMakeLists.txt: more than one line changed"

B=$TMP/build
cmake -S "$TMP/src" -B "$B" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=Release >"$TMP/cfg.log" 2>&1 || { cat "$TMP/cfg.log"; fail "configure failed"; }
jobs=$(nproc)
for t in gclab-run-rc-probe gclab-run-rc-sys gclab-version; do
  cmake --build "$B" --target $t -j"$jobs" >"$TMP/build.log" 2>&1 || { tail -20 "$TMP/build.log"; fail "build of $t failed"; }
done
# gclab itself without every other runner (its CMake target depends on all of them).
make -C "$B" gclab/fast -j"$jobs" >"$TMP/build.log" 2>&1 || { tail -20 "$TMP/build.log"; fail "build of gclab failed"; }
GCLAB=$B/gclab
cd "$TMP" || exit 1

"$GCLAB" list | grep -q '^allocators: .*\bprobe\b' || fail "gclab list does not list probe"
"$GCLAB" list --figures | grep -q '^probe  *allocs  *count' || fail "list --figures lacks probe.allocs"
"$GCLAB" list --figures | grep -q '^probe  *pad_bytes  *bytes' || fail "list --figures lacks probe.pad_bytes"
"$GCLAB" list --options | grep -q '^probe  *pad  *size  *0 ' || fail "list --options lacks probe.pad: $("$GCLAB" list --options)"

"$GCLAB" run --collector rc --allocator probe,sys --workload binary-trees --param depth=8 \
  --opt probe.pad=0,64 --repeat 1 --out x.csv >out 2>err || { cat err; fail "gclab run failed"; }
python3 - x.csv <<'PY' || fail "CSV check failed"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
def die(msg):
    print("FAIL:", msg, file=sys.stderr); sys.exit(1)
probe = [r for r in rows if r["allocator"] == "probe"]
other = [r for r in rows if r["allocator"] == "sys"]
if len(probe) != 2 or len(other) != 1: die(f"{len(probe)} probe rows and {len(other)} sys rows, expected 2 and 1")
pads = sorted(r["options"] for r in probe)
if pads != ["probe.pad=0", "probe.pad=64"]: die(f"options column: {pads}")
for r in probe:
    if r["status"] != "ok": die("probe row status " + r["status"])
    allocs, padb = int(r["probe.allocs"]), int(r["probe.pad_bytes"])
    pad = int(r["options"].split("=")[1])
    if allocs <= 0 or padb != pad * allocs: die(f"pad {pad}: allocs {allocs}, pad_bytes {padb}")
    if "probe.pad=%d" % pad not in r["config"]: die("config does not echo the option: " + r["config"])
if other[0]["probe.allocs"] or other[0]["probe.pad_bytes"] or other[0]["options"]:
    die("a sys row has probe figures or options")
PY
# Its README documents its figures and option as every module's must (module-doc.sh).
bash "$TMP/src/tests/harness/module-doc.sh" "$GCLAB" >"$TMP/doc.log" 2>&1 || { cat "$TMP/doc.log"; fail "module-doc"; }
grep -q probe "$TMP/src/allocators/probe/README.md" || fail "probe README missing"
echo "plugin: probe allocator joined with one CMake line; figures, option axis and columns ok"
