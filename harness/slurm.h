/* SPDX-License-Identifier: MIT */
/* harness/slurm.h — what the two files of `gclab slurm` share: slurm.c (arguments and
 * their checks) and slurm-script.c (the job script, merge.sh and writing them).
 *
 * Invariant: a gcl_slurm_opts handed to gcl_slurm_write is fully checked: every value is
 * one an #SBATCH line or a single-quoted shell word carries as it is. */
#ifndef GCL_SLURM_H
#define GCL_SLURM_H

#include <stdbool.h>

#include "harness.h"

struct gcl_slurm_opts {
  const char *matrix;         /* MATRIX.yaml as given */
  const char *shards_s;       /* --shards as given */
  unsigned shards;            /* ... as a number, 1..ncells */
  const char *out;            /* --out as given */
  const char *partition;      /* --partition, or NULL (the cluster's default) */
  const char *constraint;     /* --constraint, or NULL (none) */
  const char *time;           /* --time, or NULL (the partition's default) */
  char *dir;                  /* --out as an absolute path */
  bool create;                /* DIR does not exist yet: make it */
  unsigned ncells;            /* cells of the whole matrix */
  char *name;                 /* the matrix's name:, or NULL */
  char *notes;                /* gclab run's notes on the matrix ("" if none) */
  struct gcl_buf matrix_text; /* the matrix file's bytes, copied to DIR/matrix.yaml */
  char *gclab;                /* this gclab executable, absolute */
  char *runners;              /* $GCLAB_RUNNERS (absolute where it resolves), or NULL */
  char date[32];              /* now, UTC, ISO 8601 */
};

/* Make DIR if needed and write matrix.yaml, job.sbatch and merge.sh into it, then print
 * what to run next. 0, or 1 after one line (what was written is removed again). */
int gcl_slurm_write(const struct gcl_slurm_opts *s);

#endif
