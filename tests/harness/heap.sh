# SPDX-License-Identifier: MIT
# tests/harness/heap.sh — heap size as an axis (harness/minheap.h): --heap and
# --heap-factor cells, their columns and oom rows; bad values (one line, exit 2, nothing
# written); gclab minheap's bisection on `none`, whose minimum heap is known exactly (it
# frees nothing, so a run fits iff its limit >= bytes_allocated); the cache and its key;
# gclab compare's verdict on a cell ok in BASE and oom in NEW.
. "$(dirname "$0")/lib.sh" "$@"
cd "$TMP" || exit 1
W="--workload binary-trees --param depth=8 --scale 0.01"

# Bad values: one line, exit 2, no output file.
for bad in "--heap 12q" "--heap 0" "--heap 1m,1024k" "--heap-factor 0" "--heap-factor -1" \
           "--heap-factor x" "--heap-factor 2,2.0"; do
  "$GCLAB" run --collector rc --allocator pool $W $bad --out bad.csv >out 2>err
  rc=$?
  [ $rc -eq 2 ] || fail "run $bad: exit $rc, expected 2"
  [ "$(wc -l <err)" -eq 1 ] || fail "run $bad: not one line: $(cat err)"
  [ ! -e bad.csv ] || fail "run $bad created its output"
done
"$GCLAB" minheap --collector none --allocator pool $W --precision 2 >out 2>err
[ $? -eq 2 ] && [ "$(wc -l <err)" -eq 1 ] || fail "minheap --precision 2: not one line and 2: $(cat err)"

# --heap: the cell gets the limit; a small one ends oom (exit 0), the column says which
# (depth 14 keeps a 1 MiB tree: over 256 KiB under any collector).
"$GCLAB" run --collector rc --allocator pool --workload binary-trees --param depth=14 --scale 0.01 \
  --heap 256k,64m --repeat 1 --out h.csv >out 2>err ||
  fail "run --heap: exit $? ($(tail -1 err))"
[ "$(csv_col h.csv heap_limit_bytes | tr '\n' ' ')" = "262144 67108864 " ] || fail "heap_limit_bytes: $(csv_col h.csv heap_limit_bytes)"
[ "$(csv_col h.csv status | tr '\n' ' ')" = "oom ok " ] || fail "statuses: $(csv_col h.csv status)"
[ -z "$(csv_col h.csv heap_factor | tr -d '\n')" ] || fail "heap_factor set without a factor"
grep -q ': 1 ok, 0 invalid, 1 oom' out || fail "run does not count the oom cell: $(tail -1 out)"

# minheap on none: the answer is bytes_allocated (exact up to the bisection's 4 KiB floor).
"$GCLAB" run --collector none --allocator pool $W --repeat 1 --out n.csv >/dev/null 2>&1 || fail "none run failed"
alloc=$(csv_col n.csv bytes_allocated)
"$GCLAB" minheap --collector none --allocator pool $W --minheap-cache mh.csv >out 2>err || fail "minheap: exit $? ($(tail -1 err))"
got=$(sed -n 's/.*min_heap_bytes=\([0-9]*\) (measured)$/\1/p' out)
[ -n "$got" ] || fail "minheap printed no measured answer: $(cat out)"
[ "$got" -ge "$alloc" ] && [ "$got" -le $((alloc + 4096)) ] || fail "minheap $got, expected $alloc (+ at most 4096)"
[ "$(csv_rows mh.csv)" -eq 1 ] || fail "cache rows: $(csv_rows mh.csv)"
[ "$(csv_col mh.csv min_heap_bytes)" = "$got" ] || fail "cache holds $(csv_col mh.csv min_heap_bytes), printed $got"
[ "$(csv_col mh.csv params)" = depth=8 ] && [ "$(csv_col mh.csv scale)" = 0.01 ] &&
  [ "$(csv_col mh.csv threads)" = 1 ] && [ "$(csv_col mh.csv collector)" = none ] || fail "cache key fields"
# Cached: the same cell is not measured again; another key is.
"$GCLAB" minheap --collector none --allocator pool $W --minheap-cache mh.csv >out 2>err || fail "minheap again"
grep -q "min_heap_bytes=$got (cached)" out || fail "second minheap did not read the cache: $(cat out)"
"$GCLAB" minheap --collector none --allocator pool $W --threads 2 --minheap-cache mh.csv >out 2>err || fail "minheap threads 2"
grep -q "(measured)" out || fail "threads 2 read the threads-1 entry: $(cat out)"
[ "$(csv_rows mh.csv)" -eq 2 ] || fail "cache rows after a second key: $(csv_rows mh.csv)"
# Another build (a changed runner binary) is another key: the factor cell finds no entry.
"$GCLAB" run --collector rc --allocator pool $W --heap-factor 2 --heap-ref none --minheap-cache mh.csv \
  --repeat 1 --out f.csv >out 2>err || fail "run --heap-factor: exit $? ($(tail -1 err))"
[ "$(csv_col f.csv heap_factor)" = 2 ] && [ "$(csv_col f.csv heap_limit_bytes)" = $((2 * got)) ] ||
  fail "factor cell: heap_factor $(csv_col f.csv heap_factor), limit $(csv_col f.csv heap_limit_bytes), expected 2 and $((2 * got))"
# The matrix file's keys give the same cells.
printf 'collectors: [rc]\nallocators: [pool]\nworkloads: [binary-trees]\nparams: {depth: 8}\nscale: 0.01\nheap_factor: [2]\nheap_ref: none\nheap: [1m]\n' >m.yaml
"$GCLAB" run --matrix m.yaml --repeat 1 --minheap-cache mh.csv --dry-run >out 2>err || fail "matrix file heap keys: $(cat err)"
grep -q "heap=1048576$" out && grep -q "heap_factor=2 heap=$((2 * got))" out || fail "matrix file heap cells: $(cat out)"
printf '\0' >>"$RUNNERS/gclab-run-none-pool"
"$GCLAB" run --collector rc --allocator pool $W --heap-factor 2 --heap-ref none --minheap-cache mh.csv \
  --repeat 1 --out g.csv >out 2>err
[ $? -eq 2 ] && [ "$(wc -l <err)" -eq 1 ] && grep -q 'gclab minheap' err || fail "stale build: expected one line naming gclab minheap: $(cat err)"
[ ! -e g.csv ] || fail "a refused factor run created its output"

# compare: ok in BASE, oom in NEW is a regression (exit 1), whatever the metric.
"$GCLAB" run --collector rc --allocator pool $W --heap 64m --repeat 3 --out base.csv >/dev/null 2>&1 || fail "base run"
sed 's/,67108864,ok,/,67108864,oom,/' base.csv >new.csv
"$GCLAB" compare base.csv new.csv --metric wall_s >out 2>err
rc=$?
[ $rc -eq 1 ] || fail "compare ok -> oom: exit $rc, expected 1 ($(cat err))"
grep -q 'oom in NEW' out || fail "compare does not say oom: $(cat out)"
"$GCLAB" compare base.csv base.csv --metric wall_s >/dev/null 2>&1
[ $? -ne 1 ] || fail "compare of a file with itself is a regression"
"$GCLAB" summary new.csv >out 2>&1 || true
grep -q oom out || fail "summary does not show oom: $(cat out)"

# A scripted runner whose minimum heap is known and whose middle range thrashes: below
# 300000 bytes it ends oom, from 300000 to 599999 it hangs (a timeout: does not fit), from
# 600000 on it is ok. minheap must answer 600000 (within its precision) and count the
# timeouts as not fitting.
list=$("$GCLAB" list) || fail "gclab list failed"
mkdir "$TMP/fake"
echo "$list" | pairs_of | while read -r c a verdict; do
  cat >"$TMP/fake/gclab-run-$c-$a" <<'FAKE'
#!/bin/sh
if [ "$1" = --describe ]; then echo "pair fake fake 16"; echo "workload fake-heap scripted"; exit 0; fi
h=0
while [ $# -gt 0 ]; do [ "$1" = --heap ] && h=$2; shift; done
if [ "$h" -eq 0 ] || [ "$h" -ge 600000 ]; then printf '%s\n' status=ok checksum=1 peak_heap_bytes=1000000 end >&3
elif [ "$h" -lt 300000 ]; then printf '%s\n' status=oom peak_heap_bytes=300001 end >&3
else exec sleep 60; fi
FAKE
  chmod +x "$TMP/fake/gclab-run-$c-$a"
done
GCLAB_RUNNERS=$TMP/fake "$GCLAB" minheap --collector rc --allocator pool --workload fake-heap \
  --timeout 0.3 --minheap-cache fake.csv --precision 0.01 >out 2>err || fail "fake minheap: exit $? ($(tail -2 err))"
got=$(sed -n 's/.*min_heap_bytes=\([0-9]*\) (measured)$/\1/p' out)
[ -n "$got" ] && [ "$got" -ge 600000 ] && [ "$got" -le 610000 ] || fail "fake minheap answered '$got', expected 600000..610000: $(cat out)"
echo "heap: ok"
