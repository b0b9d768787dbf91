/* SPDX-License-Identifier: MIT */
/* core/workload.h — how a workload plugs in. A workload is one file under workloads/,
 * written only against core/ headers, defining one `const struct gcl_workload
 * gcl_workload_<name>` (dashes become underscores); CMake's gcl_add_workload() line adds it
 * to every runner's registry.
 *
 * Contract: run() starts ctx->threads mutator threads through gcl_run_threads, works for
 * about a second at scale 1 on a 2-core machine, releases every reference it holds before
 * its threads detach, and sets ctx->checksum to a value that depends only on the
 * parameters, scale, seed and thread count: equal under every collector and allocator. A
 * workload that makes cyclic garbage sets ctx->cyclic_garbage to the exact number of
 * objects it left unreachable in cycles, and stamps each such object with
 * gcl_garbage_made (core/garbage.h) when it becomes garbage. A workload keeps no state in file-scope variables:
 * what its threads share lives in run()'s frame and reaches them as gcl_run_threads' arg.
 * A self-check that fails calls gcl_workload_fail. */
#ifndef GCL_WORKLOAD_H
#define GCL_WORKLOAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "module.h"
#include "mutator.h"

#define GCL_MAX_PARAMS 16

struct gcl_param_def {
  const char *name;  /* as given to --param name=value */
  double def;        /* default value */
  double min, max;   /* accepted range, inclusive */
  bool integer;      /* value must be a whole number */
  const char *help;  /* one line */
};

struct gcl_workload;

#define GCL_MAX_FIGURES 16

/* A figure the workload measured itself, written to the record as WORKLOAD.KEY=value when
 * `set`; the key must be one of the workload's declared figures (struct gcl_workload's
 * figures, core/module.h). Unset figures stay empty fields. */
struct gcl_figure {
  const char *key; /* a declared figure's name, a string literal */
  double value;    /* the measurement */
  bool set;        /* measured: write it */
};

struct gcl_workload_ctx {
  const struct gcl_workload *workload; /* what runs */
  double params[GCL_MAX_PARAMS];       /* values, in the order of workload->params */
  double scale;                        /* work multiplier; 1 ~ one second */
  uint64_t seed;                       /* for every random choice */
  unsigned threads;                    /* mutator threads to run */
  uint64_t checksum;                   /* out: the self-check value */
  int64_t cyclic_garbage;              /* out: objects left as cyclic garbage, -1 if none made */
  bool wrong;                          /* out: a self-check inside the workload failed */
  char why[160];                       /* out: what failed */
  char input[4096];                    /* out: the input file it read (a path), "" if none:
                                          the row's workload_input column */
  struct gcl_figure figures[GCL_MAX_FIGURES]; /* out: workload-reported figures (gcl_figure_set) */
};

struct gcl_workload {
  const char *name;                    /* kebab-case, unique */
  const char *description;             /* one line for `gclab list` */
  const struct gcl_param_def *params;  /* its parameters */
  unsigned nparams;                    /* how many */
  bool bypasses_heap;                  /* a plain-C baseline: heap figures are not its own */
  const struct gcl_fig_decl *figures;  /* the figures it may set (gcl_figure_set) */
  unsigned nfigures;                   /* how many */
  /* Runs the workload; 0 on success (the self-check decides ok/wrong), else -errno. */
  int (*run)(struct gcl_workload_ctx *ctx);
};

/* Report figure `key` = v (replaces an earlier value of the same key). Cold path. */
static inline void gcl_figure_set(struct gcl_workload_ctx *ctx, const char *key, double v) {
  unsigned i = 0;
  while (i < GCL_MAX_FIGURES && ctx->figures[i].key && strcmp(ctx->figures[i].key, key) != 0) i++;
  GCL_ASSERT_ALWAYS(i < GCL_MAX_FIGURES && "more than GCL_MAX_FIGURES workload figures");
  ctx->figures[i] = (struct gcl_figure){key, v, true};
}

/* The value of parameter `name` (which must exist: a typo is a bug, caught by assert). */
double gcl_param(const struct gcl_workload_ctx *ctx, const char *name);

/* A thread body: runs on mutator thread `index` (0 .. ctx->threads - 1), attached as m;
 * `arg` is what the workload passed to gcl_run_threads (its run's shared state). Returns
 * the thread's part of the checksum. */
typedef uint64_t gcl_thread_body_fn(struct gcl_mutator *m, struct gcl_workload_ctx *ctx,
                                    unsigned index, void *arg);

/* Run body(m, ctx, index, arg) on ctx->threads new attached threads; returns the wrapping
 * sum of their results (per-thread checksums). */
uint64_t gcl_run_threads(struct gcl_workload_ctx *ctx, gcl_thread_body_fn *body, void *arg);

/* A self-check failed: sets ctx->wrong and ctx->why to "WORKLOAD: " followed by the
 * printf-style message (cut to fit). Thread-safe: the first failure wins, later ones are
 * dropped, so `why` names the first thing seen wrong. Cold path. */
void gcl_workload_fail(struct gcl_workload_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* pthread_barrier_wait(b) by an attached mutator, inside a blocking region: a thread
 * waiting for the others never stalls a stop-the-world (or a handshake) that one of them
 * requested. */
void gcl_barrier_wait(struct gcl_mutator *m, pthread_barrier_t *b);

/* A small, fast, seedable generator (splitmix64 seeding a xorshift64*). */
struct gcl_rng {
  uint64_t s; /* state, never 0 */
};
void gcl_rng_seed(struct gcl_rng *r, uint64_t seed, uint64_t stream);
static inline uint64_t gcl_rng_next(struct gcl_rng *r) {
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 0x2545F4914F6CDD1Dull;
}
/* Uniform in [0, n). */
static inline uint64_t gcl_rng_below(struct gcl_rng *r, uint64_t n) {
  return (uint64_t)(((unsigned __int128)gcl_rng_next(r) * n) >> 64);
}

extern const struct gcl_workload *const gcl_workloads[]; /* NULL-terminated registry */
const struct gcl_workload *gcl_workload_find(const char *name);

#endif
