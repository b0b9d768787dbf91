/* SPDX-License-Identifier: MIT */
/* harness/slurm.c — `gclab slurm MATRIX.yaml --shards N --out DIR`: a Slurm job array
 * that runs a matrix on a cluster, one array task per shard.
 *
 * DIR gets (each written whole by gcl_file_write_new, never over an existing file):
 *   matrix.yaml  a copy of MATRIX.yaml, so editing the original later cannot change what
 *                a requeued task runs (shards and --resume rely on one cell order);
 *   job.sbatch   the array: task K runs `gclab run --matrix DIR/matrix.yaml --shard K/N
 *                --resume --out DIR/shard-K.csv` (a requeued task finishes its shard),
 *                with --exclusive (no two shards on one node, so none skews another's
 *                timings) and the --partition, --constraint and --time it was given as
 *                #SBATCH lines, echoed in its header comment: one machine class per run;
 *   merge.sh     checks that every shard is complete and joins them with `gclab merge`.
 * The tasks find gclab and its runners where this command found them (absolute paths,
 * GCLAB_RUNNERS exported when set): a cluster needs them on a shared filesystem.
 *
 * Invariant: every input is checked before anything is created; bad input (no matrix, a
 * bad matrix, N < 1 or N > cells, DIR not writable or not empty, a value an #SBATCH line
 * cannot carry) is one line naming the value and what is accepted, exit 2, nothing
 * written. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "run.h"
#include "slurm.h"

#define WHO "gclab slurm"

static void usage(FILE *f) {
  fprintf(f,
          "usage: gclab slurm MATRIX.yaml --shards N --out DIR [--partition P]\n"
          "                   [--constraint C] [--time T]\n"
          "Writes DIR/job.sbatch, a Slurm job array of N tasks: task K runs shard K/N of the\n"
          "matrix with --resume into DIR/shard-K.csv (a requeued task finishes its shard), on a\n"
          "node of its own (--exclusive). DIR/merge.sh then joins the shards into one CSV.\n"
          "  --shards N        array tasks, 1..the matrix's cells\n"
          "  --out DIR         a new or empty folder (on a filesystem the nodes share)\n"
          "  --partition P     #SBATCH --partition: the machine class the cells run on\n"
          "  --constraint C    #SBATCH --constraint: node features (e.g. \"skylake&ib\")\n"
          "  --time T          #SBATCH --time per task: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S\n"
          "Submit with `sbatch DIR/job.sbatch`; when it is done, `DIR/merge.sh [OUT]`.\n"
          "Exit status: 0 written; 1 a write failed; 2 bad input (nothing written).\n");
}

/* A value an #SBATCH line carries verbatim: printable, no blank, no quote, no '#'. */
static bool sbatch_safe(const char *s) {
  if (!*s) return false;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (!isgraph(*p) || strchr("'\"\\#`$", *p)) return false;
  return true;
}

/* Slurm's time formats: INFINITE/UNLIMITED, M, M:S, H:M:S, D-H, D-H:M, D-H:M:S. */
static bool time_ok(const char *s) {
  if (strcmp(s, "INFINITE") == 0 || strcmp(s, "UNLIMITED") == 0) return true;
  const char *p = s, *dash = strchr(s, '-');
  if (dash) {
    if (dash == s || strspn(s, "0123456789") != (size_t)(dash - s)) return false;
    p = dash + 1;
  }
  unsigned fields = 0;
  for (;;) {
    size_t d = strspn(p, "0123456789");
    if (!d) return false;
    fields++;
    p += d;
    if (!*p) break;
    if (*p++ != ':') return false;
  }
  return fields <= 3;
}

static int parse_args(int argc, char **argv, struct gcl_slurm_opts *s) {
  static const char *const flags[] = {"shards", "out", "partition", "constraint", "time"};
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      usage(stdout);
      exit(0);
    }
    if (strncmp(arg, "--", 2) != 0) {
      if (s->matrix) return gcl_run_bad("unexpected argument '%s' (one matrix file: '%s')", arg, s->matrix);
      s->matrix = arg;
      continue;
    }
    const char *name = arg + 2, *eq = strchr(name, '=');
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    int k = -1;
    for (int j = 0; j < 5; j++)
      if (strlen(flags[j]) == nlen && strncmp(flags[j], name, nlen) == 0) k = j;
    if (k < 0) return gcl_run_bad("unknown option '%s' (expected --shards, --out, --partition, "
                                  "--constraint or --time; gclab slurm --help)", arg);
    const char *val = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
    if (!val) return gcl_run_bad("--%s needs a value", flags[k]);
    const char **slot[] = {&s->shards_s, &s->out, &s->partition, &s->constraint, &s->time};
    if (*slot[k]) return gcl_run_bad("--%s is given twice", flags[k]);
    *slot[k] = val;
  }
  if (!s->matrix)
    return gcl_run_bad("no matrix file given (expected gclab slurm MATRIX.yaml --shards N --out DIR)");
  if (!s->shards_s) return gcl_run_bad("--shards N is required (expected a whole number >= 1)");
  double n;
  if (gcl_number_opt("shards", s->shards_s, 1, GCL_CELLS_MAX, true, false, &n)) return 2;
  s->shards = (unsigned)n;
  if (!s->out) return gcl_run_bad("--out DIR is required (a new or empty folder for the job)");
  const char *what[] = {"partition", "constraint"};
  const char *vals[] = {s->partition, s->constraint};
  for (int j = 0; j < 2; j++)
    if (vals[j] && !sbatch_safe(vals[j]))
      return gcl_run_bad("bad value '%s' for --%s: expected a non-empty word without blanks, "
                         "quotes, '\\', '#', '`' or '$' (it becomes an #SBATCH line)", vals[j], what[j]);
  if (s->time && !time_ok(s->time))
    return gcl_run_bad("bad value '%s' for --time: expected M, M:S, H:M:S, D-H, D-H:M, D-H:M:S, "
                       "INFINITE or UNLIMITED", s->time);
  return 0;
}

/* DIR: a new folder in a writable folder, or an existing empty writable one; its absolute
 * path in s->dir (the nodes get absolute paths). 0, or 2 after one line. */
static int check_dir(struct gcl_slurm_opts *s) {
  char abs[PATH_MAX];
  struct stat st;
  if (stat(s->out, &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      return gcl_run_bad("--out '%s' exists and is not a folder (expected a new or empty folder)", s->out);
    DIR *d = opendir(s->out);
    if (!d) return gcl_run_bad("--out '%s': cannot read it: %s (expected a new or empty folder)", s->out, strerror(errno));
    struct dirent *e;
    char first[256] = "";
    while ((e = readdir(d)) && !first[0])
      if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
        snprintf(first, sizeof first, "%s", e->d_name);
    closedir(d);
    if (first[0])
      return gcl_run_bad("--out '%s' already holds files ('%s'...); expected a new or empty folder "
                         "(a job's shards are never mixed with another's)", s->out, first);
    if (access(s->out, W_OK | X_OK) != 0)
      return gcl_run_bad("--out '%s' is not writable: %s (expected a folder you can write)", s->out, strerror(errno));
    if (!realpath(s->out, abs)) return gcl_run_bad("--out '%s': %s", s->out, strerror(errno));
  } else if (errno != ENOENT) {
    return gcl_run_bad("--out '%s' is not writable: %s (expected a new or empty folder)", s->out, strerror(errno));
  } else {
    char *copy = gcl_must_strdup(s->out), *slash;
    while ((slash = strrchr(copy, '/')) && slash[1] == 0 && slash != copy) *slash = 0; /* "d/" */
    slash = strrchr(copy, '/');
    const char *base = slash ? slash + 1 : copy;
    const char *parent = slash ? (slash == copy ? "/" : (*slash = 0, copy)) : ".";
    char pabs[PATH_MAX];
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
      return gcl_run_bad("--out '%s': expected a folder name", s->out);
    if (!realpath(parent, pabs) || access(pabs, W_OK | X_OK) != 0)
      return gcl_run_bad("--out '%s' cannot be created: %s: %s (expected a new folder in a "
                         "writable folder)", s->out, parent, strerror(errno));
    if ((size_t)snprintf(abs, sizeof abs, "%s%s%.255s", pabs, strcmp(pabs, "/") ? "/" : "", base) >= sizeof abs)
      return gcl_run_bad("--out '%s': the path is too long", s->out);
    s->create = true;
  }
  if (!sbatch_safe(abs) || strchr(abs, '%'))
    return gcl_run_bad("--out '%s': its path '%s' has a blank, a quote, '\\', '#', '`', '$' or '%%' "
                       "(expected a path an #SBATCH --output line can carry)", s->out, abs);
  s->dir = gcl_must_strdup(abs);
  return 0;
}

/* The matrix's cells (as `gclab run --matrix` expands them) and its text; 0, 1 or 2. */
static int matrix_cells(struct gcl_slurm_opts *s) {
  struct gcl_run_opts o = GCL_RUN_OPTS_INIT;
  o.matrix = s->matrix;
  struct gcl_matrix m = {0};
  int r;
  if ((r = gcl_run_apply_matrix(&o)) || (r = gcl_run_finish_args(&o)) ||
      (r = gcl_run_select(&o, &m)) || (r = gcl_run_cells(&o, &m)))
    return r;
  s->ncells = m.nall;
  s->name = o.name;
  s->notes = gcl_must_strdup(gcl_buf_str(&m.notes));
  FILE *f = fopen(s->matrix, "r");
  char chunk[65536];
  size_t n;
  if (!f) return gcl_run_bad("cannot read matrix file '%s': %s", s->matrix, strerror(errno));
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) gcl_buf_putn(&s->matrix_text, chunk, n);
  bool err = ferror(f);
  fclose(f);
  if (err) return gcl_run_bad("cannot read matrix file '%s'", s->matrix);
  return 0;
}

/* Where this gclab and its runners are, as absolute paths. */
static int find_tools(struct gcl_slurm_opts *s) {
  char self[PATH_MAX], runners[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    fprintf(stderr, WHO ": cannot find this gclab executable: %s\n", strerror(errno));
    return 1;
  }
  self[n] = 0;
  s->gclab = gcl_must_strdup(self);
  const char *env = getenv("GCLAB_RUNNERS");
  if (env && *env) s->runners = gcl_must_strdup(realpath(env, runners) ? runners : env);
  return 0;
}

int gcl_cmd_slurm(int argc, char **argv) {
  struct gcl_slurm_opts s = {0};
  int r;
  gcl_run_who = WHO;
  if ((r = parse_args(argc, argv, &s)) || (r = check_dir(&s)) || (r = matrix_cells(&s))) return r;
  if (s.shards > s.ncells)
    return gcl_run_bad("bad value '%s' for --shards: the matrix has %u cells (expected 1..%u: "
                       "every shard runs one cell at least)", s.shards_s, s.ncells, s.ncells);
  if ((r = find_tools(&s))) return r;
  time_t now = time(NULL);
  strftime(s.date, sizeof s.date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
  if ((r = gcl_slurm_write(&s))) return r;
  fputs(s.notes, stderr); /* only now: bad input is one line */
  return 0;
}
