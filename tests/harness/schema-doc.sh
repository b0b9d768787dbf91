# tests/harness/schema-doc.sh — every column gclab writes is documented in
# results/README.md (as a row "| `name` | ..." of its "## Columns" table), in the CSV's
# order, and the README names the schema version the CSV carries.
. "$(dirname "$0")/lib.sh" "$@"

readme=$HERE/../../results/README.md
[ -f "$readme" ] || fail "$readme missing"
csv=$TMP/h.csv
"$GCLAB" run --collector rc --allocator sys --workload binary-trees --param depth=4 \
  --repeat 1 --out "$csv" >/dev/null 2>&1 || fail "setup run failed"
head -1 "$csv" | tr ',' '\n' >"$TMP/cols"
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
