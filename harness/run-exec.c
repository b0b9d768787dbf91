/* SPDX-License-Identifier: MIT */
/* harness/run-exec.c — running the cells of `gclab run`: each cell's runner command line,
 * its child process (cell.c), its row written with one write(2) on the O_APPEND fd, its
 * events, its progress line; then the summary, or the stop message.
 *
 * Invariants: every output is opened (and checked) before the first cell runs; a cell
 * stopped by a signal gets no row; an invalid pair gets a row without running anything. */
#define _GNU_SOURCE /* sigabbrev_np */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "emit.h"
#include "run.h"

static void fmt_dur(char *out, size_t len, double s) {
  if (s < 60) snprintf(out, len, "%.0fs", s);
  else if (s < 3600) snprintf(out, len, "%dm%02ds", (int)s / 60, (int)s % 60);
  else snprintf(out, len, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

static void progress(unsigned done, unsigned total, double elapsed, unsigned failures) {
  char el[16], eta[16] = "?";
  fmt_dur(el, sizeof el, elapsed);
  if (done) fmt_dur(eta, sizeof eta, elapsed / done * (total - done));
  fprintf(stderr, "\r\033[K[%u/%u] elapsed %s, ETA %s, failures %u", done, total, el, eta, failures);
  fflush(stderr);
}

static double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void gcl_runner_args(const struct gcl_run_opts *o, const struct gcl_matrix *m,
                     const struct gcl_pair_info *pair, const struct gcl_run_cell *x,
                     const char *seed_s, const char *ev_tmp, char **args) {
  static char rfd[8], heap[24];
  snprintf(rfd, sizeof rfd, "%d", GCL_RECORD_FD);
  snprintf(heap, sizeof heap, "%llu", (unsigned long long)x->heap_bytes);
  const struct gcl_sel_workload *s = &m->sel[x->w];
  int n = 0;
  args[n++] = pair->runner;
  args[n++] = "--workload", args[n++] = (char *)s->info->name;
  args[n++] = "--threads", args[n++] = o->threads.v[x->t];
  args[n++] = "--scale", args[n++] = (char *)m->scale;
  args[n++] = "--seed", args[n++] = (char *)seed_s;
  const struct gcl_valset *ps = &s->sets[x->v], *os = gcl_cell_optset(o, m, x);
  for (unsigned p = 0; p < ps->n; p++) args[n++] = "--param", args[n++] = ps->args[p];
  for (unsigned p = 0; p < os->n; p++) args[n++] = "--opt", args[n++] = os->args[p];
  args[n++] = "--record-fd", args[n++] = rfd;
  if (strcmp(o->placement.v[x->p], "none") != 0) args[n++] = "--placement", args[n++] = o->placement.v[x->p];
  if (o->iterations != 1) args[n++] = "--iterations", args[n++] = (char *)m->iters;
  if (gcl_cell_gil(o, x)) args[n++] = "--gil";
  if (gcl_cell_freelists(o, x)) args[n++] = "--freelists";
  if (ev_tmp) args[n++] = "--events-out", args[n++] = (char *)ev_tmp;
  if (x->heap_bytes) args[n++] = "--heap", args[n++] = heap;
  if (o->slowdown > 0) args[n++] = "--slowdown", args[n++] = (char *)o->slowdown_text;
  args[n] = NULL;
}

/* The cell's progress line on stderr. */
static void cell_line(const struct gcl_run_opts *o, const struct gcl_matrix *m,
                      const struct gcl_run_cell *x, unsigned k, const char *seed_s,
                      const char *status, const char *const vals[]) {
  const char *opts = gcl_cell_options(o, m, x);
  fprintf(stderr, "gclab: [%u/%u] %s %s %s", k + 1, m->ncells, o->collectors.v[x->c],
          o->allocators.v[x->a], m->sel[x->w].info->name);
  if (m->sel[x->w].nsets > 1) fprintf(stderr, " params=%s", gcl_cell_params(m, x));
  if (*opts) fprintf(stderr, " options=%s", opts);
  fprintf(stderr, " threads=%s", o->threads.v[x->t]);
  if (gcl_cell_gil(o, x)) fprintf(stderr, " gil=true");
  if (gcl_cell_freelists(o, x)) fprintf(stderr, " freelists=true");
  if (strcmp(o->placement.v[x->p], "none") != 0) fprintf(stderr, " placement=%s", o->placement.v[x->p]);
  if (gcl_heap_factor_of(o, x->h)) fprintf(stderr, " heap_factor=%s", gcl_heap_factor_of(o, x->h));
  if (x->heap_bytes) fprintf(stderr, " heap=%llu", (unsigned long long)x->heap_bytes);
  fprintf(stderr, " rep=%u seed=%s: %s", x->rep, seed_s, status);
  if (vals[GCL_COL_wall_s]) fprintf(stderr, ", wall %s s", vals[GCL_COL_wall_s]);
  if (vals[GCL_COL_process_wall_s]) fprintf(stderr, ", process %s s", vals[GCL_COL_process_wall_s]);
  fputc('\n', stderr);
}

/* Everything one run of the cells shares. */
struct exec_state {
  int fd;                    /* the output CSV */
  struct gcl_run_events ev;  /* --events, --trace */
  struct gcl_row_ctx row;    /* what every row shares */
  struct gcl_cell_sum *sums; /* one per cell run */
  unsigned nbad;             /* cells neither ok nor invalid */
};

/* Run cell k and write its row; 0, 1 (a write failed) or -1 (stopped by a signal). */
static int exec_cell(const struct gcl_run_opts *o, struct gcl_matrix *m, struct exec_state *s,
                     unsigned k) {
  const struct gcl_run_cell *x = &m->cells[k];
  const struct gcl_pair_info *pair = gcl_catalog_pair(&m->cat, o->collectors.v[x->c], o->allocators.v[x->a]);
  uint64_t seed = o->seed + x->rep;
  char seed_s[24], stbuf[320];
  snprintf(seed_s, sizeof seed_s, "%llu", (unsigned long long)seed);
  const char **vals = gcl_must_realloc(NULL, m->ncols * sizeof *vals);
  memset(vals, 0, m->ncols * sizeof *vals);
  const char *status;
  struct gcl_cell_result res = {0};
  bool ran = false;
  if (pair->invalid_reason[0]) {
    snprintf(stbuf, sizeof stbuf, "invalid:%s", pair->invalid_reason);
    status = stbuf;
  } else {
    char **args = gcl_must_realloc(NULL, (26 + 2 * (m->sel[x->w].sets[x->v].n +
                                                      gcl_cell_optset(o, m, x)->n)) * sizeof *args);
    if (gcl_events_wanted(o)) gcl_events_reset(&s->ev);
    gcl_runner_args(o, m, pair, x, seed_s, gcl_events_wanted(o) ? s->ev.ev_tmp : NULL, args);
    gcl_cell_run(args, m->wl_timeout[x->w], &res);
    ran = true;
    if (res.end == GCL_CELL_INTERRUPTED) return -1;
    free(args);
    status = gcl_cell_status(m, o, x, &res, vals, stbuf, sizeof stbuf);
  }
  struct gcl_buf row = {0};
  struct gcl_row_bufs bufs;
  gcl_row_build(&s->row, o, m, x, status, &res, ran, vals, &bufs, &row);
  char why[512];
  if (gcl_append(s->fd, row.p, row.len, why, sizeof why) != 0) {
    gcl_msg_line(stderr, "gclab run: writing a row to '%s' failed: %s; %u rows were appended "
                 "(--resume continues)", o->out, why, k);
    return 1;
  }
  gcl_buf_free(&row);
  if (ran && gcl_events_wanted(o) && gcl_events_cell(o, m, &s->ev, s->row.run_id, x, k + 1)) return 1;
  gcl_sum_record(&s->sums[k], x, seed, status, vals);
  if (s->sums[k].cls == GCL_CLS_BAD) s->nbad++;
  if (isatty(2)) fputs("\r\033[K", stderr);
  cell_line(o, m, x, k, seed_s, status, vals);
  gcl_buf_free(&res.record);
  free(vals);
  return 0;
}

/* A resumed file whose last row was torn is cut back to its last whole row (--resume said
 * so), unless it changed since --resume read it: then gcl_open_output refuses it as is. */
static void cut_torn_row(const struct gcl_run_opts *o, const struct gcl_matrix *m) {
  if (m->resume_cut <= 0) return;
  int fd = open(o->out, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st;
  if (flock(fd, LOCK_EX) == 0 && fstat(fd, &st) == 0 && st.st_size == m->resume_size &&
      ftruncate(fd, m->resume_cut) != 0)
    gcl_msg_line(stderr, "gclab run: cannot cut the torn last row off '%s': %s", o->out, strerror(errno));
  close(fd);
}

int gcl_run_exec(const struct gcl_run_opts *o, struct gcl_matrix *m) {
  struct exec_state s = {0};
  cut_torn_row(o, m);
  bool out_existed = access(o->out, F_OK) == 0;
  s.fd = gcl_open_output(&m->cat, o->out, !o->set_out);
  if (s.fd < 0) return -s.fd;
  int r = gcl_events_open(o, &s.ev);
  if (r) {
    if (!out_existed) unlink(o->out); /* refused: create nothing */
    return r;
  }
  gcl_signals_install();
  gcl_row_ctx_init(&s.row);
  bool tty = isatty(2);
  double started = mono_s();
  s.sums = gcl_must_realloc(NULL, (m->ncells ? m->ncells : 1) * sizeof *s.sums);
  unsigned k = 0;
  for (; k < m->ncells; k++) {
    if (gcl_stop_signal()) break;
    if ((r = exec_cell(o, m, &s, k)) > 0) return r;
    if (r < 0) break;
    if (tty) progress(k + 1, m->ncells, mono_s() - started, s.nbad);
  }
  if (tty) fputs("\r\033[K", stderr);
  int result;
  if (k < m->ncells) {
    int sig = gcl_stop_signal();
    gcl_msg_line(stderr, "gclab run: stopped by SIG%s; the running cell was killed and not recorded; "
                 "%u rows appended to %s (--resume continues)", sigabbrev_np(sig) ? sigabbrev_np(sig) : "?",
                 k, o->out);
    result = 128 + sig;
  } else {
    close(s.fd);
    bool mismatch = false;
    if (m->ncells) gcl_print_summary(o, m, s.sums, m->ncells, &mismatch);
    unsigned nok = 0, ninvalid = 0, noom = 0;
    for (unsigned i = 0; i < m->ncells; i++)
      nok += s.sums[i].cls == GCL_CLS_OK, ninvalid += s.sums[i].cls == GCL_CLS_INVALID,
      noom += s.sums[i].cls == GCL_CLS_OOM;
    struct gcl_buf line = {0}; /* --out as given, escaped with the rest (gcl_msg_line) */
    gcl_buf_printf(&line, "%u rows appended to %s (run_id %s): %u ok, %u invalid, %u oom, %u failed "
                   "(wrong, timeout, crash or error)", m->ncells, o->out, s.row.run_id, nok, ninvalid,
                   noom, s.nbad);
    if (o->resume) gcl_buf_printf(&line, "; %u cells already there were skipped", m->nskipped);
    gcl_msg_line(stdout, "%s", line.p);
    gcl_buf_free(&line);
    result = s.nbad || mismatch ? 1 : 0;
  }
  return gcl_events_finish(o, &s.ev, result);
}
