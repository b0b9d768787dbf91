/* SPDX-License-Identifier: MIT */
/* runner/runner.c — main() of every runner binary gclab-run-<collector>-<allocator>.
 *
 *   gclab-run-C-A --workload W [--threads N] [--scale S] [--seed K] [--param k=v]...
 *                 [--opt MODULE.NAME=V]... [--record-fd FD] [--placement P]
 *                 [--iterations N] [--events-out FILE] [--sample-ms MS] [--gil]
 *                 [--gil-interval MS] [--heap SIZE] [--freelists] [--slowdown F]
 *   gclab-run-C-A --describe      modules, options, figures, workloads and parameters
 *                                 (the protocol of runner/README.md)
 *
 * Runs one matrix cell in this process and writes its record (runner/report.h) to the
 * record fd: status, checksum, times and heap figures. The front end adds what only the
 * parent can measure (rusage of the child, exit status, timeouts). Exit status: 0 when a
 * record was written (whatever the cell's status), 2 for bad usage with one line on stderr.
 *
 * --placement binds mutator threads (core/placement.h); --iterations runs the workload N
 * times in this heap (wall_s and cpu_s are the totals, iter_wall_s the ';'-list of each);
 * the pause log (core/pause.h, derived from core/event.h's stream) gives mmu_* and, with
 * --events-out, one line per event "start_ns,duration_ns,kind,thread" (start relative to
 * the first iteration's start; kinds pause, ttsp, collector phases, roots-traced and
 * heap-traced marks; a "run" event spans the measured window; then the memory sampler's
 * samples of that window, kind "sample"). Pause and ttsp_*
 * figures come from the recorder's two histograms, fed by the same events.
 * Hardware and software perf counters are read around the workload where perf_event_open
 * is allowed; otherwise their fields stay empty. A heap that crosses its collector's limit
 * ends the cell at once with a short record of status oom (runner_oom). --heap SIZE sets
 * that limit for any collector (the smaller of it and the collector's own cap, when the
 * collector has one; it is in the config echo as heap=). Under a limit, memory running out (gcl_alloc_failed) ends the cell the same way.
 *
 * --slowdown F (default 0: off) is a deliberate, calibrated regression for measuring how
 * well `gclab compare` detects one (results/README.md, "False alarms and detection"): at
 * the end of the measured window the main thread spins on busy arithmetic until it has
 * used F x the CPU time the window used so far, so cpu_s grows by the factor 1 + F and
 * wall_s by that much CPU time (by 1 + F for a one-thread cell with cpu_s ~ wall_s; more
 * for a multi-threaded one). iter_wall_s leaves the pad out. */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "allocator.h"
#include "collector.h"
#include "environment.h"
#include "garbage.h"
#include "options.h"
#include "pause.h"
#include "placement.h"
#include "typed-option.h"
#include "sampler.h"
#include "workload.h"

#define GCL_PAUSE_LOG_CAP (1u << 20) /* events kept per process (24 MiB at most) */

/* perf_event_open counters around the workload; fd -1 when not permitted/supported. */
struct counter {
  const char *key; /* record key */
  uint32_t type;   /* PERF_TYPE_* */
  uint64_t config; /* PERF_COUNT_* */
  int fd;          /* the counter, or -1 */
};

static struct counter counters[] = {
    {"hw_cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, -1},
    {"hw_instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, -1},
    {"hw_cache_misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES, -1},
    {"cpu_migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS, -1},
};
#define NCOUNTERS (sizeof counters / sizeof counters[0])

/* Open every counter disabled, inherited by the threads started later (their counts are
 * added to ours when they exit). */
static void counters_open(void) {
  for (unsigned i = 0; i < NCOUNTERS; i++) {
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = counters[i].type;
    a.config = counters[i].config;
    a.disabled = 1;
    a.inherit = 1;
    /* Hardware counts are user space only (allowed at perf_event_paranoid 2); a software
     * event such as a migration happens in the kernel, so excluding it would count 0. */
    a.exclude_kernel = counters[i].type == PERF_TYPE_HARDWARE;
    a.exclude_hv = 1;
    counters[i].fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
  }
}

static void counters_ctl(unsigned long req) {
  for (unsigned i = 0; i < NCOUNTERS; i++)
    if (counters[i].fd >= 0) ioctl(counters[i].fd, req, 0);
}

static void counters_report(struct gcl_report *r) {
  for (unsigned i = 0; i < NCOUNTERS; i++) {
    uint64_t v;
    if (counters[i].fd >= 0 && read(counters[i].fd, &v, sizeof v) == (ssize_t)sizeof v)
      gcl_report_u64(r, counters[i].key, v);
  }
}

/* Placement fields: the topology summary always, the PUs and nodes when bound. */
static void report_placement(struct gcl_report *r) {
  const struct gcl_topo_summary *ts = gcl_placement_topology();
  if (!ts) return;
  unsigned n;
  const struct gcl_place *plan = gcl_placement_current(&n);
  if (plan) {
    char pus[4096];
    size_t len = 0;
    pus[0] = 0;
    for (unsigned i = 0; i < n && len < sizeof pus - 16; i++)
      len += (size_t)snprintf(pus + len, sizeof pus - len, "%s%d", i ? ";" : "", plan[i].pu);
    gcl_report_str(r, "pus", pus);
    gcl_report_u64(r, "numa_nodes_used", gcl_placement_nodes_used(plan, n));
  }
  if (ts->packages) gcl_report_u64(r, "topo_packages", ts->packages);
  if (ts->numa_nodes) gcl_report_u64(r, "topo_numa_nodes", ts->numa_nodes);
  if (ts->cores) gcl_report_u64(r, "topo_cores", ts->cores);
  gcl_report_u64(r, "topo_pus", ts->pus);
}

/* mmu_* from the pause log over [t0, t1]; nothing when the log dropped events. */
static void report_mmu(struct gcl_report *r, uint64_t t0, uint64_t t1) {
  uint32_t n;
  uint64_t dropped;
  const struct gcl_pause_event *ev = gcl_pause_log(&n, &dropped);
  if (dropped) return;
  static const struct { const char *key; uint64_t ns; } w[] = {
      {"mmu_1ms", 1000000}, {"mmu_10ms", 10000000}, {"mmu_100ms", 100000000}};
  for (unsigned i = 0; i < 3; i++) {
    double m = gcl_mmu(ev, n, t0, t1, w[i].ns);
    if (m >= 0) gcl_report_f64(r, w[i].key, m);
  }
}

/* One optional figure of a sample line: the value, or nothing when it was not read. */
static void sample_field(FILE *f, int64_t v, int64_t unit) {
  if (v >= 0) fprintf(f, ",%lld", (long long)(v / unit));
  else fputc(',', f);
}

/* The pause log as "start_ns,duration_ns,kind,thread" lines, start relative to t0, then
 * one "run" event spanning [t0, t1] (the measured window, for MMU from the file), then one
 * "t_ns,0,sample,pid,rss_kb,live_bytes,committed_bytes" line per memory sample taken
 * inside [t0, t1] (a figure not measured is empty: live bytes for a workload that bypasses
 * the heap, committed bytes for an allocator that reports none). Entries that start after
 * t1 (the collector's final collections in gcl_heap_finish, which the record leaves out
 * too) are not written. Returns 0, or -errno. A dropped-events count goes in a final
 * "#dropped N" line. */
static int write_events(const char *path, uint64_t t0, uint64_t t1, const struct gcl_sample *s,
                        uint32_t ns, bool heap_figures) {
  FILE *f = fopen(path, "w");
  if (!f) return -errno;
  uint32_t n;
  uint64_t dropped;
  const struct gcl_pause_event *ev = gcl_pause_log(&n, &dropped);
  for (uint32_t i = 0; i < n; i++)
    if (ev[i].start_ns <= t1)
      fprintf(f, "%lld,%llu,%s,%u\n", (long long)(ev[i].start_ns - t0),
              (unsigned long long)ev[i].duration_ns, ev[i].kind, ev[i].thread);
  fprintf(f, "0,%llu,run,%u\n", (unsigned long long)(t1 - t0), (unsigned)getpid());
  /* Samples are in time order; only those of the measured window are written. */
  for (uint32_t i = 0; i < ns; i++) {
    if (s[i].t_ns < t0 || s[i].t_ns > t1) continue;
    fprintf(f, "%llu,0,sample,%u", (unsigned long long)(s[i].t_ns - t0), (unsigned)getpid());
    sample_field(f, s[i].rss, 1024);
    sample_field(f, heap_figures ? s[i].live : -1, 1);
    sample_field(f, s[i].committed, 1);
    fputc('\n', f);
  }
  if (dropped) fprintf(f, "#dropped %llu\n", (unsigned long long)dropped);
  return fclose(f) == 0 ? 0 : -errno;
}

/* Every module of this runner keeps the declaration rules (gcl_module_check): a broken
 * declaration is a bug of the module, reported before anything runs. */
static void check_modules(void) {
  char why[512];
  const struct gcl_module *mods[2] = {&gcl_collector_module, &gcl_allocator_module};
  for (unsigned k = 0; k < 2; k++)
    if (gcl_module_check(mods[k], why, sizeof why) != 0) {
      fprintf(stderr, "gclab-run: bad module declaration: %s\n", why);
      abort();
    }
  for (const struct gcl_workload *const *w = gcl_workloads; *w; w++) {
    struct gcl_module m = {(*w)->name, "workload", NULL, 0, (*w)->figures, (*w)->nfigures};
    if (gcl_module_check(&m, why, sizeof why) != 0) {
      fprintf(stderr, "gclab-run: bad module declaration: %s\n", why);
      abort();
    }
  }
}

static void describe(void) {
  printf("protocol 2\n");
  printf("pair %s %s %zu\n", GCL_COLLECTOR_NAME, GCL_ALLOCATOR_NAME, (size_t)GCL_HEADER_BYTES);
  gcl_module_describe(stdout, &gcl_collector_module);
  gcl_module_describe(stdout, &gcl_allocator_module);
  for (const struct gcl_workload *const *w = gcl_workloads; *w; w++) {
    struct gcl_module m = {(*w)->name, "workload", NULL, 0, (*w)->figures, (*w)->nfigures};
    gcl_module_describe(stdout, &m);
  }
  for (const struct gcl_workload *const *w = gcl_workloads; *w; w++) {
    printf("workload %s %s\n", (*w)->name, (*w)->description);
    for (unsigned i = 0; i < (*w)->nparams; i++) {
      const struct gcl_param_def *p = &(*w)->params[i];
      printf("param %s %s %.17g %.17g %.17g %s %s\n", (*w)->name, p->name, p->def, p->min,
             p->max, p->integer ? "int" : "num", p->help);
    }
  }
}

/* --- the heap limit: status oom ---------------------------------------------------------- */

static struct gcl_report *oom_rep;         /* the record, set before the heap starts */
static const struct gcl_run_options *oom_o; /* for the config echo */

/* gcl_oom_handler: the heap crossed its limit (a collector's cap, core/heap.c). The first
 * thread to get here writes a short record — status oom, the live bytes, the collector's
 * figures, the environment and config; no times, the workload did not finish — and ends
 * the process with exit status 0 (a record was written); any other thread that crosses
 * the limit meanwhile waits for that exit. */
static void runner_oom(int64_t live, int64_t limit) {
  static int taken;
  (void)limit;
  if (__atomic_exchange_n(&taken, 1, __ATOMIC_ACQ_REL))
    for (;;) pause();
  struct gcl_report *r = oom_rep;
  gcl_report_str(r, "status", "oom");
  gcl_report_i64(r, "peak_heap_bytes", live);
  gcl_report_environment(r);
  r->module = &gcl_collector_module;
  gcl_collector_report(r);
  r->module = NULL;
  gcl_report_str(r, "config", gcl_run_options_echo(oom_o));
  gcl_report_end(r);
  _exit(0);
}

static int usage_error(void) {
  fprintf(stderr, "usage: gclab-run-%s-%s --workload NAME [options] [--param k=v]... [--opt M.N=V]...\n",
          GCL_COLLECTOR_NAME, GCL_ALLOCATOR_NAME);
  return 2;
}

/* Parse one `name=value` against the workload's declared parameters, under the one
 * value rule (core/typed-option.c): whole numbers as INT, others as DOUBLE. */
static int set_param(struct gcl_workload_ctx *ctx, const char *kv) {
  const struct gcl_workload *w = ctx->workload;
  const char *eq = strchr(kv, '=');
  if (!eq || eq == kv) {
    fprintf(stderr, "gclab-run: bad --param '%s': expected name=value\n", kv);
    return -1;
  }
  size_t n = (size_t)(eq - kv);
  for (unsigned i = 0; i < w->nparams; i++) {
    const struct gcl_param_def *p = &w->params[i];
    if (strlen(p->name) != n || strncmp(p->name, kv, n) != 0) continue;
    char def[64], lo[64], hi[64], why[256];
    gcl_double_format(p->def, def, sizeof def);
    gcl_double_format(p->min, lo, sizeof lo);
    gcl_double_format(p->max, hi, sizeof hi);
    struct gcl_opt_decl d = {p->name, p->integer ? GCL_OPT_INT : GCL_OPT_DOUBLE, def, lo, hi, NULL, p->help};
    union gcl_opt_value v;
    if (gcl_opt_parse(&d, eq + 1, &v, why, sizeof why) != 0) {
      fprintf(stderr, "gclab-run: bad value '%s' for parameter %s of %s: %s\n", eq + 1, p->name, w->name, why);
      return -1;
    }
    ctx->params[i] = p->integer ? (double)v.i : v.d;
    return 0;
  }
  fprintf(stderr, "gclab-run: workload %s has no parameter '%.*s' (it has:", w->name, (int)n, kv);
  for (unsigned i = 0; i < w->nparams; i++) fprintf(stderr, " %s", w->params[i].name);
  fprintf(stderr, ")\n");
  return -1;
}

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double thread_cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* --slowdown: busy work on this thread until it has used `seconds` of CPU time. The work
 * is a dependent multiply-add chain on a volatile, so no compiler can drop it; the clock is
 * read every 4096 steps (a few microseconds), so the pad overshoots by at most that. */
static void pad_window(double seconds) {
  volatile uint64_t acc = 1;
  double start = thread_cpu_seconds();
  /* Invariant: the pad so far has used thread_cpu_seconds() - start < seconds. */
  while (thread_cpu_seconds() - start < seconds)
    for (unsigned i = 0; i < 4096; i++) acc = acc * 6364136223846793005u + 1442695040888963407u;
}

/* The figures the workload set, as WORKLOAD.KEY (only declared ones: report.c asserts). */
static void report_workload_figures(struct gcl_report *r, const struct gcl_workload_ctx *ctx) {
  const struct gcl_workload *w = ctx->workload;
  struct gcl_module m = {w->name, "workload", NULL, 0, w->figures, w->nfigures};
  r->module = &m;
  for (unsigned i = 0; i < GCL_MAX_FIGURES; i++)
    if (ctx->figures[i].set) gcl_report_figure(r, ctx->figures[i].key, ctx->figures[i].value);
  r->module = NULL;
}

static void report_heap(struct gcl_report *r) {
  struct gcl_heap_stats hs;
  gcl_stats_snapshot(&hs);
  gcl_report_u64(r, "objects_allocated", hs.objects_allocated);
  gcl_report_u64(r, "bytes_allocated", hs.bytes_allocated);
#if !defined(GCL_COLLECTOR_UNSEEN_FREES)
  /* Not measured (left empty) under a collector whose frees core never sees (bdw). */
  gcl_report_u64(r, "objects_freed", hs.objects_freed);
  /* Immortal objects are allocated, never freed, and not leaked (core/stats.h). */
  gcl_report_u64(r, "objects_leaked", hs.objects_allocated - hs.objects_freed - hs.objects_immortal);
  gcl_report_i64(r, "peak_heap_bytes", hs.peak_heap_bytes);
#endif
  gcl_report_u64(r, "deferred_frees", hs.deferred_frees);
  gcl_report_u64(r, "header_bytes", GCL_HEADER_BYTES);
}

/* pause_* and ttsp_* from the recorder's histograms as they were at the end of the
 * measured window (the final collections of gcl_heap_finish are left out, as from the
 * events file and the collectors' figures). */
static void report_pauses(struct gcl_report *r, const struct gcl_pause_hist *ph,
                          const struct gcl_pause_hist *th) {
  gcl_report_u64(r, "pause_count", ph->count);
  if (ph->count > 0) {
    gcl_report_f64(r, "pause_total_s", (double)ph->total_ns * 1e-9);
    gcl_report_f64(r, "pause_p50_us", (double)gcl_pause_hist_quantile(ph, 0.50) * 1e-3);
    gcl_report_f64(r, "pause_p90_us", (double)gcl_pause_hist_quantile(ph, 0.90) * 1e-3);
    gcl_report_f64(r, "pause_p99_us", (double)gcl_pause_hist_quantile(ph, 0.99) * 1e-3);
    gcl_report_f64(r, "pause_p999_us", (double)gcl_pause_hist_quantile(ph, 0.999) * 1e-3);
    gcl_report_f64(r, "pause_max_us", (double)ph->max_ns * 1e-3);
  }
  /* Time to safepoint: stop requested -> every other mutator stopped, once per pause. */
  gcl_report_u64(r, "ttsp_count", th->count);
  if (th->count > 0) {
    gcl_report_f64(r, "ttsp_p50_us", (double)gcl_pause_hist_quantile(th, 0.50) * 1e-3);
    gcl_report_f64(r, "ttsp_p99_us", (double)gcl_pause_hist_quantile(th, 0.99) * 1e-3);
    gcl_report_f64(r, "ttsp_max_us", (double)th->max_ns * 1e-3);
  }
}

int main(int argc, char **argv) {
  struct gcl_workload_ctx ctx = {.cyclic_garbage = -1};
  static struct gcl_run_options o; /* static: module string options point into argv */
  check_modules();
  if (gcl_run_options_parse(argc, argv, &o) != 0) return 2;
  if (o.describe) {
    describe();
    return 0;
  }
  if (o.help) {
    printf("gclab-run-%s-%s: runs one gclab matrix cell\n", GCL_COLLECTOR_NAME, GCL_ALLOCATOR_NAME);
    gcl_run_options_help(stdout);
    return 0;
  }
  if (!o.workload) return usage_error();
  ctx.workload = gcl_workload_find(o.workload);
  if (!ctx.workload) {
    fprintf(stderr, "gclab-run: unknown workload '%s' (gclab list shows them)\n", o.workload);
    return 2;
  }
  for (unsigned i = 0; i < ctx.workload->nparams; i++) ctx.params[i] = ctx.workload->params[i].def;
  for (unsigned i = 0; i < o.nparams; i++)
    if (set_param(&ctx, o.params[i]) < 0) return 2;
  ctx.threads = o.threads;
  ctx.scale = o.scale;
  ctx.seed = o.seed;
  enum gcl_placement placement = o.placement;
  unsigned iterations = o.iterations;
  const char *events_out = o.events_out;

  FILE *out = fdopen(dup(o.record_fd), "w");
  if (!out) {
    fprintf(stderr, "gclab-run: cannot write to record fd %d: %s\n", o.record_fd, strerror(errno));
    return 2;
  }
  struct gcl_report rep = {out, NULL};
  char why[200];
  if (gcl_collector_check_threads(ctx.threads, why, sizeof why) != 0) {
    gcl_report_strf(&rep, "status", "invalid:%s", why);
    gcl_report_end(&rep);
    return 0;
  }
  oom_rep = &rep;
  oom_o = &o;
  gcl_oom_handler = runner_oom;
  struct gcl_heap_config hc = {ctx.threads, o.collector_opts, o.allocator_opts, o.gil,
                               (uint64_t)(o.gil_interval_ms * 1000 + 0.5), o.freelists};
  int rc = gcl_heap_init_with(&hc);
  if (rc == -ENOTSUP && gcl_init_invalid_reason[0]) { /* core/module.h */
    gcl_report_strf(&rep, "status", "invalid:%s", gcl_init_invalid_reason);
    gcl_report_end(&rep);
    return 0;
  }
  if (rc != 0) {
    gcl_report_strf(&rep, "status", "error:heap init failed (%s)", strerror(-rc));
    gcl_report_end(&rep);
    return 0;
  }

  if (o.heap_bytes) {
    int64_t cap = gcl_heap_limit(), want = (int64_t)(o.heap_bytes > INT64_MAX ? INT64_MAX : o.heap_bytes);
    if (cap == 0 || want < cap) gcl_heap_set_limit(want);
  }

  if (gcl_placement_setup(placement, ctx.threads, why, sizeof why) != 0) {
    gcl_report_strf(&rep, "status", "error:placement %s: %s", gcl_placement_name(placement), why);
    gcl_report_end(&rep);
    return 0;
  }
  /* Every kind only for an events file: mmu_* needs the pauses alone, and the log's memory
   * counts in the cell's RSS. */
  gcl_pause_log_enable(GCL_PAUSE_LOG_CAP, events_out != NULL);
  counters_open();

  /* Each iteration runs the whole workload; its checksum must not change. */
  char *iters = NULL; /* "s;s;...": each iteration's wall time */
  size_t iters_len = 0;
  FILE *itf = open_memstream(&iters, &iters_len);
  if (!itf) gcl_alloc_failed(0);
  int64_t cyclic = -1;
  uint64_t first_checksum = 0;
  bool checksum_moved = false;
  int sampler_err = gcl_sampler_start((uint64_t)(o.sample_ms * 1e6));
  double cpu0 = cpu_seconds();
  uint64_t t0 = gcl_now_ns();
  counters_ctl(PERF_EVENT_IOC_ENABLE);
  for (unsigned it = 0; it < iterations && rc == 0 && !ctx.wrong; it++) {
    uint64_t i0 = gcl_now_ns();
    ctx.cyclic_garbage = -1;
    rc = ctx.workload->run(&ctx);
    fprintf(itf, "%s%.9g", it ? ";" : "", (double)(gcl_now_ns() - i0) * 1e-9);
    if (ctx.cyclic_garbage >= 0) cyclic = (cyclic < 0 ? 0 : cyclic) + ctx.cyclic_garbage;
    if (it == 0) first_checksum = ctx.checksum;
    else if (ctx.checksum != first_checksum) checksum_moved = true;
  }
  if (o.slowdown > 0) pad_window(o.slowdown * (cpu_seconds() - cpu0));
  counters_ctl(PERF_EVENT_IOC_DISABLE);
  uint64_t t1 = gcl_now_ns();
  double cpu1 = cpu_seconds();
  uint32_t nsamples;
  const struct gcl_sample *samples = gcl_sampler_stop(&nsamples);
  struct gcl_pause_hist pauses, ttsps; /* the measured window's */
  gcl_pause_snapshot(&pauses);
  gcl_ttsp_snapshot(&ttsps);
  struct gcl_garbage_figures garbage; /* before the exit collections free the rest */
  gcl_garbage_window(t0, t1, &garbage);
  fclose(itf);
  ctx.cyclic_garbage = cyclic;
  gcl_heap_finish();
  if (checksum_moved && !ctx.wrong) {
    ctx.wrong = true;
    snprintf(ctx.why, sizeof ctx.why, "checksum changed between iterations");
  }
  int ev_err = events_out ? write_events(events_out, t0, t1, samples, nsamples,
                                         !ctx.workload->bypasses_heap)
                          : 0;

  if (rc != 0)
    gcl_report_str(&rep, "status", "error:workload failed");
  else if (ev_err != 0)
    gcl_report_strf(&rep, "status", "error:cannot write events to %s: %s", events_out, strerror(-ev_err));
  else if (gcl_placement_failures())
    gcl_report_strf(&rep, "status", "error:CPU binding refused for %u threads", gcl_placement_failures());
  else if (ctx.wrong)
    gcl_report_strf(&rep, "status", "wrong:%s", ctx.why);
  else
    gcl_report_str(&rep, "status", "ok");
  gcl_report_u64(&rep, "checksum", ctx.checksum);
  gcl_report_f64(&rep, "wall_s", (double)(t1 - t0) * 1e-9);
  gcl_report_f64(&rep, "cpu_s", cpu1 - cpu0);
  gcl_report_str(&rep, "iter_wall_s", iters);
  free(iters);
  report_placement(&rep);
  report_mmu(&rep, t0, t1);
  double rss_mean = sampler_err == 0 ? gcl_sampler_mean_rss(samples, nsamples, t0, t1) : -1;
  if (rss_mean >= 0) gcl_report_f64(&rep, "rss_mean_kb", rss_mean / 1024);
  counters_report(&rep);
  if (ctx.cyclic_garbage >= 0) gcl_report_i64(&rep, "cyclic_garbage", ctx.cyclic_garbage);
  /* Known where the workload stamps its cyclic garbage and the collector its frees of it. */
  if (ctx.cyclic_garbage >= 0 && gcl_garbage_known(gcl_collects_cycles())) {
    gcl_report_i64(&rep, "outstanding_garbage_peak", garbage.peak);
    gcl_report_f64(&rep, "outstanding_garbage_mean", garbage.mean);
  }
  if (ctx.input[0]) gcl_report_str(&rep, "workload_input", ctx.input);
  report_workload_figures(&rep, &ctx);
  gcl_report_environment(&rep);
  if (!ctx.workload->bypasses_heap) {
    /* A baseline that bypasses the object model has no heap figures of its own. */
    report_heap(&rep);
    report_pauses(&rep, &pauses, &ttsps);
    rep.module = &gcl_collector_module;
    gcl_collector_report(&rep);
    rep.module = &gcl_allocator_module;
    gcl_allocator_report(&rep);
    rep.module = NULL;
  }
  char *config = gcl_run_options_echo(&o);
  gcl_report_str(&rep, "config", config);
  free(config);
  gcl_report_end(&rep);
  return 0;
}
