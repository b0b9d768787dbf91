/* SPDX-License-Identifier: MIT */
/* harness/schema.h — the CSV schema written by `gclab run`, as one X-macro table.
 *
 * X(name, origin): one column, in CSV order. origin says who fills it:
 *   HARNESS  gclab itself (identity of the cell, or derived from other fields);
 *   RECORD   the runner's record (core/report.h): a record key is accepted only if a
 *            RECORD column of that name exists, anything else makes the row an error;
 *   CHILD    the parent's measurement of the child process (clock, wait4 rusage).
 * A field whose value was not measured is left empty, never 0.
 *
 * After these core columns (config is always the last one) come the module columns
 * (schema 5): every figure every module of the build declares, named MODULE.FIGURE, in
 * the order of harness/describe.c (collectors in CMake order, then allocators, then
 * workloads; each module's figures in declaration order). They are not in this table:
 * the harness learns them from the runners' --describe, so a module adds a column
 * without touching the harness. A record key with a '.' must be a declared figure of the
 * cell's collector, allocator or workload.
 *
 * Invariant: the header line is the column names joined by commas. Adding, removing or
 * reordering a column changes the header, so it must bump GCL_SCHEMA_VERSION and be
 * documented in results/README.md (tests/harness/schema-doc.sh checks the latter). A new
 * record key is usually one RECORD line inserted before `config`. */
#ifndef GCL_SCHEMA_H
#define GCL_SCHEMA_H

#define GCL_SCHEMA_VERSION 7
#define GCL_SCHEMA_OLDEST_READ 1 /* gclab summary/compare/table read versions 1..7 */

#define GCL_SCHEMA(X)                  \
  X(schema_version, HARNESS)           \
  X(run_id, HARNESS)                   \
  X(timestamp, HARNESS)                \
  X(gclab_version, HARNESS)            \
  X(host, HARNESS)                     \
  X(cpu_model, HARNESS)                \
  X(collector, HARNESS)                \
  X(allocator, HARNESS)                \
  X(workload, HARNESS)                 \
  X(params, HARNESS)                   \
  X(options, HARNESS)                  \
  X(workload_input, RECORD)            \
  X(threads, HARNESS)                  \
  X(rep, HARNESS)                      \
  X(seed, HARNESS)                     \
  X(scale, HARNESS)                    \
  X(placement, HARNESS)                \
  X(gil, HARNESS)                      \
  X(freelists, HARNESS)                \
  X(iterations, HARNESS)               \
  X(heap_factor, HARNESS)              \
  X(heap_limit_bytes, HARNESS)         \
  X(status, RECORD)                    \
  X(checksum, RECORD)                  \
  X(wall_s, RECORD)                    \
  X(process_wall_s, CHILD)             \
  X(user_s, CHILD)                     \
  X(sys_s, CHILD)                      \
  X(cpu_s, RECORD)                     \
  X(mutator_s, HARNESS)                \
  X(gc_s, RECORD)                      \
  X(collections, RECORD)               \
  X(pause_count, RECORD)               \
  X(pause_total_s, RECORD)             \
  X(pause_p50_us, RECORD)              \
  X(pause_p90_us, RECORD)              \
  X(pause_p99_us, RECORD)              \
  X(pause_p999_us, RECORD)             \
  X(pause_max_us, RECORD)              \
  X(ttsp_count, RECORD)                \
  X(ttsp_p50_us, RECORD)               \
  X(ttsp_p99_us, RECORD)               \
  X(ttsp_max_us, RECORD)               \
  X(objects_allocated, RECORD)         \
  X(bytes_allocated, RECORD)           \
  X(objects_freed, RECORD)             \
  X(objects_leaked, RECORD)            \
  X(cyclic_garbage, RECORD)            \
  X(outstanding_garbage_peak, RECORD)  \
  X(outstanding_garbage_mean, RECORD)  \
  X(peak_heap_bytes, RECORD)           \
  X(deferred_frees, RECORD)            \
  X(header_bytes, RECORD)              \
  X(max_rss_kb, CHILD)                 \
  X(rss_mean_kb, RECORD)               \
  X(minflt, CHILD)                     \
  X(majflt, CHILD)                     \
  X(nvcsw, CHILD)                      \
  X(nivcsw, CHILD)                     \
  X(iter_wall_s, RECORD)               \
  X(pus, RECORD)                       \
  X(numa_nodes_used, RECORD)           \
  X(topo_packages, RECORD)             \
  X(topo_numa_nodes, RECORD)           \
  X(topo_cores, RECORD)                \
  X(topo_pus, RECORD)                  \
  X(mmu_1ms, RECORD)                   \
  X(mmu_10ms, RECORD)                  \
  X(mmu_100ms, RECORD)                 \
  X(cpu_migrations, RECORD)            \
  X(hw_cycles, RECORD)                 \
  X(hw_instructions, RECORD)           \
  X(hw_cache_misses, RECORD)           \
  X(compiler, RECORD)                  \
  X(build_type, RECORD)                \
  X(build_flags, RECORD)               \
  X(sanitizer, RECORD)                 \
  X(kernel, RECORD)                    \
  X(libc, RECORD)                      \
  X(hwloc_version, RECORD)             \
  X(urcu_version, RECORD)              \
  X(malloc_lib, RECORD)                \
  X(malloc_env, RECORD)                \
  X(thp, RECORD)                       \
  X(cpu_governor, RECORD)              \
  X(yaml_version, HARNESS)             \
  X(config, RECORD)

enum gcl_col_origin { GCL_ORIGIN_HARNESS, GCL_ORIGIN_RECORD, GCL_ORIGIN_CHILD };

/* GCL_COL_<name>: the column's index in a row. */
enum gcl_col {
#define GCL_SCHEMA_ENUM(name, origin) GCL_COL_##name,
  GCL_SCHEMA(GCL_SCHEMA_ENUM)
#undef GCL_SCHEMA_ENUM
  GCL_NCOLS
};

#endif
