# SPDX-License-Identifier: MIT
# tests/harness/resume.sh — large-run features on real runners:
#  - a run interrupted by SIGINT, then --resume: every cell exactly once, nothing re-run;
#  - shards run apart and joined by `gclab merge` equal the whole matrix;
#  - merge refuses mismatched headers and schema versions and an existing OUT (exit 2,
#    OUT not created);
#  - --iterations records one time per iteration; --events/--trace are written whole;
#  - an unwritable --out, --events or --trace: one line, exit 2, nothing run.
. "$(dirname "$0")/lib.sh" "$@"
cd "$TMP" || exit 1
rows_at_least() { [ -f "$1" ] && [ "$(($(wc -l <"$1") - 1))" -ge "$2" ]; }
M="--collector rc,rc-plain --allocator sys,pool --workload binary-trees --param depth=10 --scale 0.2 --placement none,compact"

# Interrupt after a few rows, resume to completion.
"$GCLAB" run $M --repeat 4 --out r.csv >/dev/null 2>err &
pid=$!
wait_for "3 rows" rows_at_least r.csv 3
kill -INT $pid
wait $pid
st=$?
[ $st -eq 130 ] || fail "interrupted run exit $st, expected 130"
before=$(csv_rows r.csv)
[ "$before" -lt 32 ] || fail "the run finished before the interrupt; make it longer"
"$GCLAB" run $M --repeat 4 --out r.csv --resume >out 2>err || fail "resume exit $? ($(tail -2 err))"
[ "$(csv_rows r.csv)" -eq 32 ] || fail "$(csv_rows r.csv) rows after resume, expected 32"
grep -q "; $before cells already there were skipped" out || fail "resume summary: $(tail -1 out)"
dups=$(paste -d'|' <(csv_col r.csv collector) <(csv_col r.csv allocator) <(csv_col r.csv placement) \
  <(csv_col r.csv rep) | sort | uniq -d)
[ -z "$dups" ] || fail "cells run twice: $dups"
"$GCLAB" run $M --repeat 4 --out r.csv --resume >out 2>&1 || fail "second resume exit $?"
[ "$(csv_rows r.csv)" -eq 32 ] || fail "a complete file grew on --resume"

# Shards + merge = the whole matrix.
for k in 1 2; do "$GCLAB" run $M --repeat 1 --shard $k/2 --out s$k.csv >/dev/null 2>&1 || fail "shard $k exit $?"; done
"$GCLAB" merge all.csv s1.csv s2.csv >out 2>err || fail "merge exit $? ($(cat err))"
[ "$(csv_rows all.csv)" -eq 8 ] || fail "merged $(csv_rows all.csv) rows, expected 8"
[ "$(head -1 all.csv)" = "$(head -1 s1.csv)" ] || fail "merge changed the header"
"$GCLAB" summary all.csv >/dev/null 2>&1 || fail "summary of the merged file failed"
"$GCLAB" merge all.csv s1.csv >out 2>err
[ $? -eq 2 ] && grep -q "exists" err || fail "merge over an existing OUT: $(cat err)"
sed '2s/^7,/6,/' s2.csv >v6.csv
"$GCLAB" merge x.csv s1.csv v6.csv >out 2>err
[ $? -eq 2 ] && grep -q "mismatched schema versions" err || fail "merge of versions 7 and 6: $(cat err)"
[ -e x.csv ] && fail "a refused merge created its output"
# Older schemas merge with their own version only, under the old rule (identical headers).
old=$HERE/../analysis
"$GCLAB" merge v1.csv "$old/sample.csv" "$old/sample-slow.csv" >out 2>err || fail "merge of two v1 files: $(cat err)"
[ "$(head -1 v1.csv)" = "$(head -1 "$old/sample.csv")" ] || fail "merge of v1 files changed the header"
cut -d, -f1-5 s2.csv >cut.csv
"$GCLAB" merge x.csv s1.csv cut.csv >out 2>err
[ $? -eq 2 ] && grep -q "another header" err || fail "merge of another header: $(cat err)"
[ -e x.csv ] && fail "a refused merge created its output"

# Iterations, events and trace.
"$GCLAB" run --collector rc --allocator sys --workload binary-trees --param depth=8 --repeat 1 \
  --iterations 3 --out it.csv --events ev.csv --trace tr.json >/dev/null 2>&1 || fail "iterations run exit $?"
[ "$(csv_col it.csv iterations)" = 3 ] || fail "iterations column '$(csv_col it.csv iterations)'"
[ "$(csv_col it.csv iter_wall_s | tr ';' '\n' | wc -l)" -eq 3 ] || fail "iter_wall_s '$(csv_col it.csv iter_wall_s)'"
[ "$(head -1 ev.csv)" = run_id,collector,allocator,workload,threads,placement,rep,cell,thread,start_ns,duration_ns,kind,rss_kb,live_bytes,committed_bytes ] ||
  fail "events header '$(head -1 ev.csv)'"
python3 -c 'import json,sys; d=json.load(open("tr.json")); assert isinstance(d["traceEvents"], list)' ||
  fail "tr.json is not a trace JSON"
[ -e tr.json.tmp ] && fail "the trace's temporary file was left"
[ -n "$(csv_col it.csv topo_pus)" ] || fail "topo_pus empty"

# Unwritable outputs (a path under a regular file fails even for root): one line,
# exit 2, nothing run.
touch afile
for opt in "--out afile/x.csv" "--events afile/e.csv" "--trace afile/t.json"; do
  out=o.csv
  case $opt in --out*) out=o2.csv ;; esac
  if [ "$out" = o2.csv ]; then set -- $opt; else set -- --out "$out" $opt; fi
  "$GCLAB" run --collector rc --allocator sys --workload binary-trees --repeat 1 "$@" >out 2>err
  st=$?
  [ $st -eq 2 ] || fail "$opt: exit $st, expected 2 ($(cat err))"
  [ "$(wc -l <err)" -eq 1 ] || fail "$opt: not one line: $(cat err)"
  grep -q afile err || fail "$opt: the message does not name the path: $(cat err)"
  [ ! -s o.csv ] || [ "$(csv_rows o.csv)" -eq 0 ] || fail "$opt: a cell ran"
done
echo ok
