/* core/runner.c — main() of every runner binary gclab-run-<collector>-<allocator>.
 *
 *   gclab-run-C-A --workload W [--threads N] [--scale S] [--seed K] [--param k=v]...
 *                 [--record-fd FD]
 *   gclab-run-C-A --describe      workloads and parameters, one line each (for gclab)
 *
 * Runs one matrix cell in this process and writes its record (core/report.h) to the
 * record fd: status, checksum, times and heap figures. The front end adds what only the
 * parent can measure (rusage of the child, exit status, timeouts). Exit status: 0 when a
 * record was written (whatever the cell's status), 2 for bad usage with one line on stderr. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "allocator.h"
#include "collector.h"
#include "options.h"
#include "pause.h"
#include "workload.h"

static void describe(void) {
  printf("pair %s %s %zu\n", GCL_COLLECTOR_NAME, GCL_ALLOCATOR_NAME, (size_t)GCL_HEADER_BYTES);
  for (const struct gcl_workload *const *w = gcl_workloads; *w; w++) {
    printf("workload %s %s\n", (*w)->name, (*w)->description);
    for (unsigned i = 0; i < (*w)->nparams; i++) {
      const struct gcl_param_def *p = &(*w)->params[i];
      printf("param %s %s %.17g %.17g %.17g %s %s\n", (*w)->name, p->name, p->def, p->min,
             p->max, p->integer ? "int" : "num", p->help);
    }
  }
}

static int usage_error(void) {
  fprintf(stderr, "usage: gclab-run-%s-%s --workload NAME [options] [--param k=v]...\n",
          GCL_COLLECTOR_NAME, GCL_ALLOCATOR_NAME);
  return 2;
}

/* Parse one `name=value` against the workload's declared parameters. */
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
    char *end;
    errno = 0;
    double v = strtod(eq + 1, &end);
    if (errno || end == eq + 1 || *end || !isfinite(v) || v < p->min || v > p->max ||
        (p->integer && v != floor(v))) {
      fprintf(stderr, "gclab-run: bad value '%s' for parameter %s of %s: expected %s in [%g, %g]\n",
              eq + 1, p->name, w->name, p->integer ? "a whole number" : "a number", p->min, p->max);
      return -1;
    }
    ctx->params[i] = v;
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

static void report_heap(struct gcl_report *r) {
  struct gcl_heap_stats hs;
  gcl_stats_snapshot(&hs);
  gcl_report_u64(r, "objects_allocated", hs.objects_allocated);
  gcl_report_u64(r, "bytes_allocated", hs.bytes_allocated);
  gcl_report_u64(r, "objects_freed", hs.objects_freed);
  gcl_report_u64(r, "objects_leaked", hs.objects_allocated - hs.objects_freed);
  gcl_report_i64(r, "peak_heap_bytes", hs.peak_heap_bytes);
  gcl_report_u64(r, "deferred_frees", hs.deferred_frees);
  gcl_report_u64(r, "header_bytes", GCL_HEADER_BYTES);

  struct gcl_pause_hist ph;
  gcl_pause_snapshot(&ph);
  gcl_report_u64(r, "pause_count", ph.count);
  if (ph.count > 0) {
    gcl_report_f64(r, "pause_total_s", (double)ph.total_ns * 1e-9);
    gcl_report_f64(r, "pause_p50_us", (double)gcl_pause_hist_quantile(&ph, 0.50) * 1e-3);
    gcl_report_f64(r, "pause_p90_us", (double)gcl_pause_hist_quantile(&ph, 0.90) * 1e-3);
    gcl_report_f64(r, "pause_p99_us", (double)gcl_pause_hist_quantile(&ph, 0.99) * 1e-3);
    gcl_report_f64(r, "pause_p999_us", (double)gcl_pause_hist_quantile(&ph, 0.999) * 1e-3);
    gcl_report_f64(r, "pause_max_us", (double)ph.max_ns * 1e-3);
  }
}

int main(int argc, char **argv) {
  struct gcl_workload_ctx ctx = {.cyclic_garbage = -1};
  const char *params[64];
  unsigned nparams = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--describe") == 0) {
      describe();
      return 0;
    }
    if (strcmp(argv[i], "--help") == 0) {
      printf("gclab-run-%s-%s: runs one gclab matrix cell\n", GCL_COLLECTOR_NAME, GCL_ALLOCATOR_NAME);
      gcl_options_print_help(stdout);
      printf("  --param k=v      a workload parameter (repeatable)\n  --describe       list workloads\n");
      return 0;
    }
    if (strcmp(argv[i], "--param") == 0 || strncmp(argv[i], "--param=", 8) == 0) {
      const char *kv = argv[i][7] == '=' ? argv[i] + 8 : (i + 1 < argc ? argv[++i] : NULL);
      if (!kv || nparams == 64) return usage_error();
      params[nparams++] = kv;
      continue;
    }
    int r = gcl_options_parse_one(argc, argv, &i);
    if (r < 0) return 2;
    if (r == 0) {
      fprintf(stderr, "gclab-run: unknown option '%s'\n", argv[i]);
      return usage_error();
    }
  }
  if (!gcl_opts.workload_str) return usage_error();
  ctx.workload = gcl_workload_find(gcl_opts.workload_str);
  if (!ctx.workload) {
    fprintf(stderr, "gclab-run: unknown workload '%s' (gclab list shows them)\n", gcl_opts.workload_str);
    return 2;
  }
  for (unsigned i = 0; i < ctx.workload->nparams; i++) ctx.params[i] = ctx.workload->params[i].def;
  for (unsigned i = 0; i < nparams; i++)
    if (set_param(&ctx, params[i]) < 0) return 2;
  ctx.threads = (unsigned)gcl_opts.threads;
  ctx.scale = gcl_opts.scale;
  ctx.seed = (uint64_t)gcl_opts.seed;

  FILE *out = fdopen(dup((int)gcl_opts.record_fd), "w");
  if (!out) {
    fprintf(stderr, "gclab-run: cannot write to record fd %g: %s\n", gcl_opts.record_fd, strerror(errno));
    return 2;
  }
  struct gcl_report rep = {out};
  char why[200];
  if (gcl_collector_check_threads(ctx.threads, why, sizeof why) != 0) {
    fprintf(out, "status=invalid:%s\nend\n", why);
    fclose(out);
    return 0;
  }
  int rc = gcl_heap_init();
  if (rc != 0) {
    fprintf(out, "status=error:heap init failed (%s)\nend\n", strerror(-rc));
    fclose(out);
    return 0;
  }

  double cpu0 = cpu_seconds();
  uint64_t t0 = gcl_now_ns();
  rc = ctx.workload->run(&ctx);
  uint64_t t1 = gcl_now_ns();
  double cpu1 = cpu_seconds();
  gcl_heap_finish();

  if (rc != 0)
    gcl_report_str(&rep, "status", "error:workload failed");
  else if (ctx.wrong) {
    char s[200];
    snprintf(s, sizeof s, "wrong:%s", ctx.why);
    gcl_report_str(&rep, "status", s);
  } else
    gcl_report_str(&rep, "status", "ok");
  gcl_report_u64(&rep, "checksum", ctx.checksum);
  gcl_report_f64(&rep, "wall_s", (double)(t1 - t0) * 1e-9);
  gcl_report_f64(&rep, "cpu_s", cpu1 - cpu0);
  if (ctx.cyclic_garbage >= 0) gcl_report_i64(&rep, "cyclic_garbage", ctx.cyclic_garbage);
  for (unsigned i = 0; i < GCL_MAX_FIGURES; i++)
    if (ctx.figures[i].set) gcl_report_f64(&rep, ctx.figures[i].key, ctx.figures[i].value);
  if (!ctx.workload->bypasses_heap) {
    /* A baseline that bypasses the object model has no heap figures of its own. */
    report_heap(&rep);
    gcl_collector_report(&rep);
    gcl_allocator_report(&rep);
  }
  char config[512];
  gcl_options_echo(config, sizeof config);
  gcl_report_str(&rep, "config", config);
  fprintf(out, "end\n");
  fclose(out);
  return 0;
}
