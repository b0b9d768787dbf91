/* SPDX-License-Identifier: MIT */
/* harness/slurm-script.c — the files `gclab slurm` writes into DIR: matrix.yaml (a copy),
 * job.sbatch (the job array) and merge.sh (completeness check, then `gclab merge`).
 *
 * Invariants: paths in shell code are single-quoted words (sq); #SBATCH lines carry only
 * values slurm.c checked (no blank, quote or '#'); each file is written whole and never
 * over an existing one (gcl_file_write_new); on a failure the files already written, and
 * DIR when this command made it, are removed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slurm.h"

/* Append s as one single-quoted shell word. */
static void sq(struct gcl_buf *b, const char *s) {
  gcl_buf_puts(b, "'");
  for (; *s; s++)
    if (*s == '\'') gcl_buf_puts(b, "'\\''");
    else gcl_buf_putn(b, s, 1);
  gcl_buf_puts(b, "'");
}

/* The job name: gclab-NAME, NAME the matrix's name: (or its file name) in [A-Za-z0-9._-]. */
static void job_name(struct gcl_buf *b, const struct gcl_slurm_opts *s) {
  const char *n = s->name, *slash = strrchr(s->matrix, '/');
  if (!n || !*n) n = slash ? slash + 1 : s->matrix;
  gcl_buf_puts(b, "gclab-");
  for (unsigned i = 0; n[i] && i < 64; i++) {
    char c = n[i];
    gcl_buf_putn(b, strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", c) ? &c : "_", 1);
  }
}

/* The lines both scripts share: GCLAB, RUNNERS, DIR and N as shell variables. */
static void shell_vars(struct gcl_buf *b, const struct gcl_slurm_opts *s) {
  gcl_buf_puts(b, "GCLAB=");
  sq(b, s->gclab);
  gcl_buf_puts(b, "\nDIR=");
  sq(b, s->dir);
  gcl_buf_printf(b, "\nN=%u\n", s->shards);
  if (s->runners) {
    gcl_buf_puts(b, "GCLAB_RUNNERS=");
    sq(b, s->runners);
    gcl_buf_puts(b, "\nexport GCLAB_RUNNERS\n");
  }
}

static void job_script(struct gcl_buf *b, const struct gcl_slurm_opts *s) {
  const char *none = "(none given: the cluster's default)";
  gcl_buf_printf(b,
                 "#!/bin/bash\n"
                 "# %s/job.sbatch — written by `gclab slurm` (gclab %s) at %s.\n"
                 "# A Slurm job array: matrix %s (%s, copied to matrix.yaml here),\n"
                 "# %u cells in %u shards; array task K runs shard K/%u into shard-K.csv.\n"
                 "# Machine class (every task runs on it, and only on it):\n"
                 "#   partition:  %s\n#   constraint: %s\n#   time:       %s\n"
                 "# --exclusive: no two shards share a node, so none skews another's timings.\n"
                 "# --requeue with `gclab run --resume`: a requeued task finishes its shard.\n"
                 "# Submit: sbatch %s/job.sbatch    When done: %s/merge.sh [OUT]\n",
                 s->dir, gcl_version, s->date, s->name ? s->name : "(no name)", s->matrix,
                 s->ncells, s->shards, s->shards, s->partition ? s->partition : none,
                 s->constraint ? s->constraint : none, s->time ? s->time : none, s->dir, s->dir);
  gcl_buf_puts(b, "#SBATCH --job-name=");
  job_name(b, s);
  gcl_buf_printf(b, "\n#SBATCH --array=1-%u\n#SBATCH --exclusive\n#SBATCH --requeue\n"
                    "#SBATCH --nodes=1\n#SBATCH --ntasks=1\n#SBATCH --open-mode=append\n"
                    "#SBATCH --output=%s/shard-%%a.log\n", s->shards, s->dir);
  if (s->partition) gcl_buf_printf(b, "#SBATCH --partition=%s\n", s->partition);
  if (s->constraint) gcl_buf_printf(b, "#SBATCH --constraint=%s\n", s->constraint);
  if (s->time) gcl_buf_printf(b, "#SBATCH --time=%s\n", s->time);
  gcl_buf_puts(b, "set -eu\n");
  shell_vars(b, s);
  gcl_buf_puts(b,
               "K=${SLURM_ARRAY_TASK_ID:?submit this script with sbatch: it is a job array}\n"
               "echo \"gclab slurm: shard $K/$N on $(hostname), job ${SLURM_JOB_ID:-?}"
               " (restart ${SLURM_RESTART_COUNT:-0})\" >&2\n"
               "exec \"$GCLAB\" run --matrix \"$DIR/matrix.yaml\" --shard \"$K/$N\" --resume \\\n"
               "     --out \"$DIR/shard-$K.csv\"\n");
}

static void merge_script(struct gcl_buf *b, const struct gcl_slurm_opts *s) {
  gcl_buf_printf(b,
                 "#!/bin/sh\n"
                 "# %s/merge.sh — written by `gclab slurm` with job.sbatch: joins its %u shards\n"
                 "# (shard-1.csv ... shard-%u.csv) into one CSV with `gclab merge`, once each is\n"
                 "# complete (`gclab run --resume --dry-run` finds no cell left to run).\n"
                 "# usage: merge.sh [OUT]   (default: merged.csv here; OUT must not exist)\n"
                 "set -eu\n",
                 s->dir, s->shards, s->shards);
  shell_vars(b, s);
  gcl_buf_puts(b,
               "OUT=${1:-$DIR/merged.csv}\n"
               "K=1\n"
               "while [ \"$K\" -le \"$N\" ]; do\n"
               "  plan=$(\"$GCLAB\" run --matrix \"$DIR/matrix.yaml\" --shard \"$K/$N\" --resume \\\n"
               "        --out \"$DIR/shard-$K.csv\" --dry-run | head -n 1)\n"
               "  case $plan in\n"
               "  *\", 0 to run\"*) ;;\n"
               "  *) echo \"merge.sh: shard $K/$N is not complete ($plan); see squeue, sacct and\""
               " \\\n     \"$DIR/shard-$K.log, or sbatch $DIR/job.sbatch again\" >&2; exit 1 ;;\n"
               "  esac\n"
               "  K=$((K + 1))\n"
               "done\n"
               "K=1\n"
               "set --\n"
               "while [ \"$K\" -le \"$N\" ]; do set -- \"$@\" \"$DIR/shard-$K.csv\"; K=$((K + 1)); done\n"
               "exec \"$GCLAB\" merge \"$OUT\" \"$@\"\n");
}

/* Remove what gcl_slurm_write made before it failed. */
static void undo(const struct gcl_slurm_opts *s, const char *const *names, unsigned n) {
  struct gcl_buf p = {0};
  for (unsigned i = 0; i < n; i++) {
    p.len = 0;
    gcl_buf_printf(&p, "%s/%s", s->dir, names[i]);
    unlink(p.p);
  }
  if (s->create) rmdir(s->dir);
  gcl_buf_free(&p);
}

int gcl_slurm_write(const struct gcl_slurm_opts *s) {
  if (s->create && mkdir(s->dir, 0777) != 0) {
    fprintf(stderr, "gclab slurm: cannot create '%s': %s\n", s->dir, strerror(errno));
    return 1;
  }
  struct gcl_buf job = {0}, merge = {0};
  job_script(&job, s);
  merge_script(&merge, s);
  static const char *const names[] = {"matrix.yaml", "job.sbatch", "merge.sh"};
  const struct gcl_buf *texts[] = {&s->matrix_text, &job, &merge};
  const mode_t modes[] = {0644, 0755, 0755};
  for (unsigned i = 0; i < 3; i++)
    if (gcl_file_write_new(s->dir, names[i], gcl_buf_str(texts[i]), texts[i]->len, modes[i]) != 0) {
      fprintf(stderr, "gclab slurm: cannot write '%s/%s': %s\n", s->dir, names[i], strerror(errno));
      undo(s, names, i);
      return 1;
    }
  printf("gclab slurm: %s/job.sbatch: %u cells in %u array tasks%s%s%s%s%s%s\n"
         "  submit:    sbatch %s/job.sbatch\n"
         "  then join: %s/merge.sh [OUT]   (default OUT: %s/merged.csv)\n",
         s->dir, s->ncells, s->shards, s->partition ? ", partition " : "",
         s->partition ? s->partition : "", s->constraint ? ", constraint " : "",
         s->constraint ? s->constraint : "", s->time ? ", time " : "", s->time ? s->time : "",
         s->dir, s->dir, s->dir);
  gcl_buf_free(&job);
  gcl_buf_free(&merge);
  return 0;
}
