# SPDX-License-Identifier: MIT
# tests/harness/schema-doc.sh — every core column gclab writes (schema 5: the columns up to
# and including `config`) is documented in results/README.md (as a row "| `name` | ..." of
# its "## Columns" table), in the CSV's order; every column after `config` is a module
# column MODULE.FIGURE (documented in the module's README: module-doc.sh); and the README
# names the schema version the CSV carries.
. "$(dirname "$0")/lib.sh" "$@"

readme=$HERE/../../results/README.md
[ -f "$readme" ] || fail "$readme missing"
csv=$TMP/h.csv
"$GCLAB" run --collector rc --allocator sys --workload binary-trees --param depth=4 \
  --repeat 1 --out "$csv" >/dev/null 2>&1 || fail "setup run failed"
head -1 "$csv" | tr ',' '\n' >"$TMP/all"
sed '/^config$/q' "$TMP/all" >"$TMP/cols"
[ "$(tail -1 "$TMP/cols")" = config ] || fail "the header has no config column"
bad=$(sed '1,/^config$/d' "$TMP/all" | grep -v '^[a-z0-9-]*\.[a-z0-9_]*$' | tr '\n' ' ')
[ -z "$bad" ] || fail "columns after config that are not MODULE.FIGURE: $bad"
awk '/^## / { on = ($0 == "## Columns") } on' "$readme" |
  sed -n 's/^| `\([a-z0-9_]*\)` |.*/\1/p' >"$TMP/doc"
missing=$(grep -vxF -f "$TMP/doc" "$TMP/cols" | tr '\n' ' ')
[ -z "$missing" ] || fail "columns not documented in results/README.md: $missing"
extra=$(grep -vxF -f "$TMP/cols" "$TMP/doc" | tr '\n' ' ')
[ -z "$extra" ] || fail "results/README.md documents columns gclab does not write: $extra"
cmp -s "$TMP/cols" "$TMP/doc" || fail "results/README.md lists the columns in another order"
v=$(csv_col "$csv" schema_version)
grep -q "^Schema version: \*\*$v\*\*" "$readme" || fail "README does not say 'Schema version: **$v**'"
echo "ok"
