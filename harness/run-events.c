/* SPDX-License-Identifier: MIT */
/* harness/run-events.c — the --events CSV (one row per GC pause or phase and per memory
 * sample, appended) and the --trace file (Chrome/Perfetto trace JSON, one process per cell;
 * memory samples as counter tracks, "ph":"C") of `gclab run`. Each
 * runner writes its events to one temporary file (--events-out), read back after the cell.
 *
 * Invariants: the events CSV is appended to under the same header rule as the main CSV,
 * each cell's rows whole or not at all (gcl_append); the trace is written whole by
 * gcl_file_write_atomic (a private temporary file, then renamed), so a reader never sees
 * half and nothing is written through a symlink. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emit.h"
#include "run.h"
#include "safe-file.h"

/* Contract with results/plot.py: rows of kind `sample` fill the last three columns (a value
 * not measured stays empty); every other kind leaves them empty. */
#define EVENTS_HEADER "run_id,collector,allocator,workload,threads,placement,rep,cell,thread,start_ns,duration_ns,kind,rss_kb,live_bytes,committed_bytes\n"

/* The three memory figures of a runner's sample line, each digits or empty. */
struct sample_vals {
  char v[3][24]; /* rss_kb, live_bytes, committed_bytes */
};

/* Parse ",RSS,LIVE,COMMITTED" after a sample line's TID; false when malformed. */
static bool parse_sample(const char *rest, struct sample_vals *sv) {
  for (int i = 0; i < 3; i++) {
    if (*rest++ != ',') return false;
    size_t n = strspn(rest, "0123456789");
    if (n >= sizeof sv->v[i]) return false;
    memcpy(sv->v[i], rest, n);
    sv->v[i][n] = 0;
    rest += n;
  }
  return *rest == '\n' || *rest == 0;
}

/* A sample as Perfetto counter events (one track per figure in the cell's process);
 * a figure not measured gets no event. */
static void trace_sample(struct gcl_buf *trace, unsigned pid, long long start,
                         const struct sample_vals *sv) {
  static const char *const names[3] = {"rss_kb", "live_bytes", "committed_bytes"};
  for (int i = 0; i < 3; i++)
    if (sv->v[i][0])
      gcl_buf_printf(trace, ",\n{\"name\":\"%s\",\"cat\":\"memory\",\"ph\":\"C\",\"pid\":%u,"
                     "\"tid\":0,\"ts\":%.3f,\"args\":{\"%s\":%s}}", names[i], pid, start / 1e3,
                     names[i], sv->v[i]);
}

/* Open the events CSV for appending (header as for the main CSV); fd, or -2. */
static int open_events(const char *path) {
  int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return -gcl_run_bad("cannot open events file '%s': %s", path, strerror(errno));
  flock(fd, LOCK_EX);
  struct stat st;
  size_t hl = strlen(EVENTS_HEADER);
  if (fstat(fd, &st) == 0 && st.st_size > 0) {
    char head[sizeof EVENTS_HEADER] = "";
    ssize_t n = pread(fd, head, hl, 0);
    if (n != (ssize_t)hl || memcmp(head, EVENTS_HEADER, hl) != 0)
      return -gcl_run_bad("'%s' is not a gclab events file (its header differs); choose another --events", path);
  } else {
    char why[512];
    if (gcl_append(fd, EVENTS_HEADER, hl, why, sizeof why) != 0)
      return -gcl_run_bad("cannot write the header to '%s': %s", path, why);
  }
  flock(fd, LOCK_UN);
  return fd;
}

/* What the runner wrote to its events file: CSV rows appended to *rows, trace events to
 * *trace (pid = cell number). */
static void collect_events(const char *tmp, const char *const id[7], const char *cell, unsigned pid,
                           struct gcl_buf *rows, struct gcl_buf *trace, bool *first) {
  FILE *f = fopen(tmp, "r");
  if (!f) return;
  char line[512];
  if (trace) {
    gcl_buf_printf(trace, "%s{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%u,\"tid\":0,\"args\":{\"name\":\"",
                   *first ? "" : ",\n", pid);
    for (const char *p = cell; *p; p++) /* cell names hold no quotes or backslashes, but be safe */
      gcl_buf_printf(trace, (*p == '"' || *p == '\\') ? "\\%c" : "%c", *p);
    gcl_buf_puts(trace, "\"}}");
    *first = false;
  }
  while (fgets(line, sizeof line, f)) {
    long long start;
    unsigned long long dur;
    unsigned tid;
    char kind[64];
    int used = 0;
    if (strncmp(line, "#dropped ", 9) == 0)
      fprintf(stderr, "gclab run: %s: the pause log was full; %s events were not recorded "
              "(mmu_* left empty)\n", cell, strtok(line + 9, "\n"));
    if (line[0] == '#') continue;
    if (sscanf(line, "%lld,%llu,%63[a-z0-9_-],%u%n", &start, &dur, kind, &tid, &used) != 4) continue;
    struct sample_vals sv = {{"", "", ""}};
    bool sample = strcmp(kind, "sample") == 0;
    if (sample && !parse_sample(line + used, &sv)) continue;
    if (rows) {
      for (int i = 0; i < 7; i++) {
        gcl_buf_csv_field(rows, id[i]);
        gcl_buf_puts(rows, ",");
      }
      gcl_buf_csv_field(rows, cell);
      gcl_buf_printf(rows, ",%u,%lld,%llu,%s,%s,%s,%s\n", tid, start, dur, kind, sv.v[0], sv.v[1],
                     sv.v[2]);
    }
    if (trace && sample) trace_sample(trace, pid, start, &sv);
    else if (trace)
      gcl_buf_printf(trace, ",\n{\"name\":\"%s\",\"cat\":\"gc\",\"ph\":\"X\",\"pid\":%u,\"tid\":%u,"
                     "\"ts\":%.3f,\"dur\":%.3f}", kind, pid, tid, start / 1e3, dur / 1e3);
  }
  fclose(f);
}


bool gcl_events_wanted(const struct gcl_run_opts *o) { return o->events || o->trace; }

int gcl_events_open(const struct gcl_run_opts *o, struct gcl_run_events *ev) {
  *ev = (struct gcl_run_events){.efd = -1, .trace_first = true};
  snprintf(ev->ev_tmp, sizeof ev->ev_tmp, "/tmp/gclab-events-XXXXXX");
  if (gcl_events_wanted(o)) {
    int t = mkstemp(ev->ev_tmp);
    if (t < 0) return gcl_run_bad("cannot create a temporary events file: %s", strerror(errno));
    close(t);
  }
  if (o->events && (ev->efd = open_events(o->events)) < 0) {
    unlink(ev->ev_tmp);
    return -ev->efd;
  }
  if (o->trace) gcl_buf_puts(&ev->trace, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
  return 0;
}

void gcl_events_reset(struct gcl_run_events *ev) {
  if (truncate(ev->ev_tmp, 0) != 0) unlink(ev->ev_tmp); /* the runner creates it again */
}

int gcl_events_cell(const struct gcl_run_opts *o, const struct gcl_matrix *m,
                    struct gcl_run_events *ev, const char *run_id, const struct gcl_run_cell *x,
                    unsigned number) {
  struct gcl_buf rows = {0}, cellname = {0};
  char rep_s[16];
  snprintf(rep_s, sizeof rep_s, "%u", x->rep);
  const char *wl = m->sel[x->w].info->name;
  /* c[+gil][+fl][options]/a/w[params]/tT/placement[/heap-xF or /heap-BYTES]/rR: +gil for a
   * cell under the GIL, +fl for one with free lists on, the options and params only when they tell this cell apart from others of
   * the run (the events CSV's cell column, the trace's process name). */
  const char *opts = gcl_cell_options(o, m, x);
  gcl_buf_puts(&cellname, o->collectors.v[x->c]);
  if (gcl_cell_gil(o, x)) gcl_buf_puts(&cellname, "+gil");
  if (gcl_cell_freelists(o, x)) gcl_buf_puts(&cellname, "+fl");
  if (*opts) gcl_buf_printf(&cellname, "[%s]", opts);
  gcl_buf_printf(&cellname, "/%s/%s", o->allocators.v[x->a], wl);
  if (m->sel[x->w].nsets > 1) gcl_buf_printf(&cellname, "[%s]", gcl_cell_params(m, x));
  gcl_buf_printf(&cellname, "/t%s/%s", o->threads.v[x->t], o->placement.v[x->p]);
  if (gcl_heap_factor_of(o, x->h)) gcl_buf_printf(&cellname, "/heap-x%s", gcl_heap_factor_of(o, x->h));
  else if (x->heap_bytes) gcl_buf_printf(&cellname, "/heap-%llu", (unsigned long long)x->heap_bytes);
  gcl_buf_printf(&cellname, "/r%u", x->rep);
  const char *id[7] = {run_id, o->collectors.v[x->c], o->allocators.v[x->a], wl,
                       o->threads.v[x->t], o->placement.v[x->p], rep_s};
  collect_events(ev->ev_tmp, id, gcl_buf_str(&cellname), number, o->events ? &rows : NULL,
                 o->trace ? &ev->trace : NULL, &ev->trace_first);
  int r = 0;
  char why[512];
  if (rows.len && gcl_append(ev->efd, rows.p, rows.len, why, sizeof why) != 0) {
    gcl_msg_line(stderr, "gclab run: writing events to '%s' failed: %s", o->events, why);
    r = 1;
  }
  gcl_buf_free(&rows);
  gcl_buf_free(&cellname);
  return r;
}

int gcl_events_finish(const struct gcl_run_opts *o, struct gcl_run_events *ev, int result) {
  if (gcl_events_wanted(o)) unlink(ev->ev_tmp);
  if (!o->trace) return result;
  /* Written whole through a private temporary file, then renamed: a reader never sees half
   * a trace, and no symlink or existing file next to it is written through. */
  gcl_buf_puts(&ev->trace, "\n]}\n");
  char why[1200];
  if (gcl_file_write_atomic(o->trace, ev->trace.p, ev->trace.len, false, why, sizeof why) != 0) {
    gcl_msg_line(stderr, "gclab run: --trace: %s", why);
    if (!result) result = 1;
  }
  return result;
}
