/* SPDX-License-Identifier: MIT */
/* harness/run-outputs.c — the outputs of `gclab run` (--out, --events, --trace) checked
 * all together before anything is created or any cell runs, and the one way a row (or a
 * header, or a cell's events) is appended to an output.
 *
 * Invariants: an output is a regular file or does not exist yet (then its folder must be
 * writable); no output is another output or an input (--matrix; --resume reads --out
 * itself), compared by device and inode for existing files and by the real path of the
 * folder plus the name for new ones, so `t.csv` and `./t.csv` or a symlink are caught;
 * an append either writes all its bytes or leaves the file exactly as it was (a short
 * write, e.g. a full disk or RLIMIT_FSIZE, is cut back with ftruncate). */
#define _GNU_SOURCE /* sigabbrev_np */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"
#include "safe-file.h"

/* One output or input, as compared with the others. */
struct named {
  const char *opt;         /* "--out", "--events", "--trace", "--matrix" */
  const char *path;        /* as given */
  struct gcl_file_id id;   /* when it exists */
  char *where;             /* new file: realpath(folder) + "/" + name, else NULL */
};

/* The folder of PATH, a malloc'd copy ("." for a bare name). */
static char *folder_of(const char *path) {
  char *copy = gcl_must_strdup(path);
  char *d = gcl_must_strdup(dirname(copy));
  free(copy);
  return d;
}

/* Check one output; 0, or 2 after one line. */
static int check_output(struct named *x, bool is_default) {
  int e = gcl_file_id(x->path, &x->id);
  if (e < 0) return gcl_run_bad("%s '%s': %s", x->opt, x->path, strerror(-e));
  if (x->id.exists) {
    if (!S_ISREG(x->id.mode))
      return gcl_run_bad("%s '%s' is %s, not a regular file (gclab writes its outputs to regular "
                         "files only; choose a file name)", x->opt, x->path, gcl_file_kind(x->id.mode));
    return 0;
  }
  char *dir = folder_of(x->path), real[PATH_MAX];
  struct gcl_file_id d;
  int de = gcl_file_id(dir, &d);
  if (de == 0 && !d.exists && is_default) { /* results/ is created when the run starts */
    free(dir);
    return 0;
  }
  if (de < 0 || !d.exists || !S_ISDIR(d.mode) || access(dir, W_OK | X_OK) != 0 || !realpath(dir, real)) {
    int err = de < 0 ? -de : !d.exists ? ENOENT : !S_ISDIR(d.mode) ? ENOTDIR : errno;
    int r = gcl_run_bad("%s '%s': cannot create it in '%s': %s", x->opt, x->path, dir, strerror(err));
    free(dir);
    return r;
  }
  char *copy = gcl_must_strdup(x->path);
  struct gcl_buf w = {0};
  gcl_buf_printf(&w, "%s/%s", real, basename(copy));
  x->where = w.p;
  free(copy);
  free(dir);
  return 0;
}

static bool same(const struct named *a, const struct named *b) {
  if (a->id.exists || b->id.exists) return gcl_file_same(&a->id, &b->id);
  return a->where && b->where && strcmp(a->where, b->where) == 0;
}

int gcl_run_check_outputs(const struct gcl_run_opts *o) {
  struct named v[4];
  unsigned n = 0, nout;
  const char *opts[3] = {"--out", "--events", "--trace"}, *paths[3] = {o->out, o->events, o->trace};
  int r = 0;
  for (unsigned i = 0; i < 3 && !r; i++) {
    if (!paths[i]) continue;
    v[n] = (struct named){opts[i], paths[i], {0}, NULL};
    r = check_output(&v[n++], i == 0 && !o->set_out);
  }
  nout = n;
  if (!r && o->matrix) {
    v[n] = (struct named){"--matrix", o->matrix, {0}, NULL};
    gcl_file_id(o->matrix, &v[n++].id);
  }
  for (unsigned i = 0; i < nout && !r; i++)
    for (unsigned j = i + 1; j < n && !r; j++)
      if (same(&v[i], &v[j]))
        r = gcl_run_bad("%s '%s' and %s '%s' are the same file; %s", v[i].opt, v[i].path, v[j].opt,
                        v[j].path, j < nout ? "each output needs a file of its own"
                                            : "an output must not overwrite an input");
  for (unsigned i = 0; i < n; i++) free(v[i].where);
  return r;
}

int gcl_append(int fd, const void *data, size_t len, char *why, size_t why_len) {
  /* Without this a write past RLIMIT_FSIZE kills gclab (SIGXFSZ) before it can cut back. */
  signal(SIGXFSZ, SIG_IGN);
  flock(fd, LOCK_EX); /* concurrent runs appending to one file: one row at a time */
  struct stat st;
  int rc = fstat(fd, &st) == 0 ? 0 : -errno;
  const char *p = data;
  size_t left = len;
  while (!rc && left) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) rc = w < 0 ? -errno : -ENOSPC;
    else p += w, left -= (size_t)w;
  }
  if (rc && left != len && ftruncate(fd, st.st_size) != 0)
    snprintf(why, why_len, "%s, and cutting the partial row back failed: %s", strerror(-rc),
             strerror(errno));
  else if (rc)
    snprintf(why, why_len, "%s%s", strerror(-rc),
             left != len ? " (the partial row was cut back: the file is as it was)" : "");
  flock(fd, LOCK_UN);
  return rc;
}
