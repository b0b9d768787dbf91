# SPDX-License-Identifier: MIT
# tests/harness/matrix.sh — a small default matrix (every collector, allocator and
# workload; threads 1; 2 reps) into the default results/gclab.csv: the header is exactly
# the documented schema, one complete row per cell, ok checksums agree per workload and
# seed, seeds are seed + rep, unmeasured fields are empty; a second run appends.
. "$(dirname "$0")/lib.sh" "$@"

# Schema 7: the core columns, then every module figure of the build (gclab list --figures
# names them, in CSV order: collectors, allocators, workloads).
core_header=schema_version,run_id,timestamp,gclab_version,host,cpu_model,collector,\
allocator,workload,params,options,workload_input,threads,rep,seed,scale,placement,gil,freelists,iterations,heap_factor,heap_limit_bytes,status,checksum,\
wall_s,process_wall_s,user_s,sys_s,cpu_s,mutator_s,gc_s,collections,pause_count,pause_total_s,\
pause_p50_us,pause_p90_us,pause_p99_us,pause_p999_us,pause_max_us,ttsp_count,ttsp_p50_us,\
ttsp_p99_us,ttsp_max_us,objects_allocated,\
bytes_allocated,objects_freed,objects_leaked,cyclic_garbage,outstanding_garbage_peak,\
outstanding_garbage_mean,peak_heap_bytes,deferred_frees,\
header_bytes,max_rss_kb,rss_mean_kb,minflt,majflt,nvcsw,nivcsw,iter_wall_s,pus,numa_nodes_used,\
topo_packages,topo_numa_nodes,topo_cores,topo_pus,mmu_1ms,mmu_10ms,mmu_100ms,cpu_migrations,\
hw_cycles,hw_instructions,hw_cache_misses,compiler,build_type,build_flags,sanitizer,kernel,libc,\
hwloc_version,urcu_version,malloc_lib,malloc_env,thp,cpu_governor,yaml_version,config
figures=$("$GCLAB" list --figures | awk 'NR > 1 { printf ",%s.%s", $1, $2 }') || fail "list --figures failed"
expected_header=$core_header$figures

list=$("$GCLAB" list) || fail "gclab list failed"
ncells=$(( $(echo "$list" | pairs_of | wc -l) * $(echo "$list" | workloads_of | wc -l) * 2 ))

mkdir "$TMP/cwd" && cd "$TMP/cwd" || exit 1
# gcbench and lru get tiny parameters (their defaults are GCBench's and a second of requests).
"$GCLAB" run --param depth=8 --scale 0.01 --repeat 2 --param gcbench.stretch_depth=10 \
  --param gcbench.long_lived_depth=8 --param gcbench.max_depth=8 --param gcbench.array_size=1000 \
  --param lru.entries=500 --param lru.rate=100000 >"$TMP/out" 2>"$TMP/err" ||
  fail "run exit status $? (stderr: $(tail -3 "$TMP/err"))"
csv=results/gclab.csv
[ -f $csv ] || fail "default output $csv not created"
[ "$(head -1 $csv)" = "$expected_header" ] || fail "header differs from the schema: $(head -1 $csv)"
[ "$(csv_rows $csv)" -eq "$ncells" ] || fail "$(csv_rows $csv) rows, expected $ncells"
[ "$(grep -c '^gclab: \[' "$TMP/err")" -eq "$ncells" ] || fail "not one progress line per cell"

paste -d '|' <(csv_col $csv collector) <(csv_col $csv allocator) <(csv_col $csv workload) \
  <(csv_col $csv rep) <(csv_col $csv seed) <(csv_col $csv status) <(csv_col $csv checksum) \
  <(csv_col $csv run_id) <(csv_col $csv schema_version) <(csv_col $csv scale) \
  <(csv_col $csv gc_s) <(csv_col $csv mutator_s) <(csv_col $csv process_wall_s) \
  <(csv_col $csv max_rss_kb) <(csv_col $csv wall_s) <(csv_col $csv params) >"$TMP/rows"
echo "$list" | pairs_of >"$TMP/pairs"
while IFS='|' read -r c a w rep seed st sum rid ver scale gc mut pw rss wall params; do
  verdict=$(awk -v c="$c" -v a="$a" '$1 == c && $2 == a { print $3 }' "$TMP/pairs")
  case $verdict in
  valid) [ "$st" = ok ] || fail "$c $a $w rep $rep: status '$st', expected ok" ;;
  invalid:) case $st in invalid:?*) ;; *) fail "$c $a: status '$st', expected invalid:<reason>" ;; esac ;;
  *) fail "row for unknown pair $c $a" ;;
  esac
  [ "$seed" -eq $((rep + 1)) ] || fail "rep $rep has seed $seed, expected $((rep + 1))"
  [ "$ver" = 7 ] || fail "schema_version '$ver'"
  [ "$scale" = 0.01 ] || fail "scale '$scale'"
  [ "$st" = ok ] || continue
  [ -n "$sum" ] && [ -n "$pw" ] && [ -n "$rss" ] && [ -n "$wall" ] ||
    fail "$c $a $w: an ok row lacks checksum, process_wall_s, max_rss_kb or wall_s"
  if [ -z "$gc" ]; then [ -z "$mut" ] || fail "mutator_s '$mut' without gc_s"; fi
  if [ -n "$gc" ]; then [ -n "$mut" ] || fail "gc_s without mutator_s"; fi
  case $w in binary-trees*) [ "$params" = depth=8 ] || fail "$w params '$params'" ;; esac
done <"$TMP/rows"
# One checksum per (workload, seed) among ok rows, whatever the pair.
bad=$(awk -F'|' '$6 == "ok" { k = $3 " seed " $5; if (k in s && s[k] != $7) print k; s[k] = $7 }' "$TMP/rows")
[ -z "$bad" ] || fail "checksums differ: $bad"
[ "$(cut -d'|' -f8 "$TMP/rows" | sort -u | wc -l)" -eq 1 ] || fail "more than one run_id in one run"
grep -q '^checksums binary-trees: all [0-9]* ok rows agree' "$TMP/out" || fail "no checksum line in the summary"
grep -q '^rc  *sys  *binary-trees  *1  *2/2 ' "$TMP/out" || fail "no summary row for rc sys binary-trees"

# Same header: a second run appends (one header, two run ids).
"$GCLAB" run --collector rc --allocator sys --workload binary-trees --param depth=8 \
  --repeat 1 >/dev/null 2>&1 || fail "second run exit status $?"
[ "$(csv_rows $csv)" -eq $((ncells + 1)) ] || fail "second run did not append one row"
[ "$(grep -c '^schema_version,' $csv)" -eq 1 ] || fail "header written twice"
[ "$(csv_col $csv run_id | sort -u | wc -l)" -eq 2 ] || fail "expected two run ids"
echo "ok"
