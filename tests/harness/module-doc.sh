# SPDX-License-Identifier: MIT
# tests/harness/module-doc.sh — every module of this build documents what it declares.
#
# For every figure and every option that `gclab list --figures` / `--options` print (the
# union of every runner's --describe), the module's README must hold a table row naming it:
#   - the README is collectors/NAME/README.md for a collector, allocators/NAME/README.md
#     for an allocator, workloads/NAME/README.md for a workload that has a folder (a
#     workload that is one file, workloads/NAME.c, has no README: it is skipped);
#   - a figure's row is a line starting "| `FIGURE` |" inside a section whose level-2
#     heading ("## ...") contains the word "Figures"; an option's row is a line starting
#     "| `OPTION` |" inside a section whose "## " heading contains the word "Options"
#     (one section "## Figures and options" serves both).
# The test fails with one line per module naming what is missing.
. "$(dirname "$0")/lib.sh" "$@"
ROOT=$HERE/../..

list=$("$GCLAB" list) || fail "gclab list failed"
collectors=" $(echo "$list" | sed -n 's/^collectors://p') "
allocators=" $(echo "$list" | sed -n 's/^allocators://p') "
workloads=" $(echo "$list" | workloads_of | tr '\n' ' ') "
"$GCLAB" list --figures | awk 'NR > 1 { print $1, "Figures", $2 }' >"$TMP/decl" || fail "list --figures failed"
"$GCLAB" list --options | awk 'NR > 1 { print $1, "Options", $2 }' >>"$TMP/decl" || fail "list --options failed"

# rows README WORD: the names of the table rows in the README's sections headed by WORD.
rows() { awk -v w="$2" '/^## / { on = index($0, w) > 0; next } on' "$1" | sed -n 's/^| `\([a-z0-9_]*\)` |.*/\1/p'; }

bad=0
for m in $(cut -d' ' -f1 "$TMP/decl" | uniq); do
  case $collectors in *" $m "*) readme=$ROOT/collectors/$m/README.md ;; *)
  case $allocators in *" $m "*) readme=$ROOT/allocators/$m/README.md ;; *)
  case $workloads in *" $m "*)
    readme=$ROOT/workloads/$m/README.md
    [ -d "$ROOT/workloads/$m" ] || continue ;; # a one-file workload: no README to check
  *) echo "FAIL: module $m is neither a collector, an allocator nor a workload of gclab list" >&2; bad=1; continue ;;
  esac ;; esac ;; esac
  if [ ! -f "$readme" ]; then
    echo "FAIL: module $m declares figures or options but has no ${readme#"$ROOT"/}" >&2
    bad=1
    continue
  fi
  missing=
  for word in Figures Options; do
    rows "$readme" $word >"$TMP/have"
    for name in $(awk -v m="$m" -v w=$word '$1 == m && $2 == w { print $3 }' "$TMP/decl"); do
      grep -qxF "$name" "$TMP/have" || missing="$missing ${word%s}:$name"
    done
  done
  if [ -n "$missing" ]; then
    echo "FAIL: ${readme#"$ROOT"/} has no table row for:$missing (a line \"| \`NAME\` |\" under a \"## ...Figures...\" or \"## ...Options...\" heading)" >&2
    bad=1
  fi
done
[ $bad -eq 0 ] || exit 1
echo "ok"
