/* SPDX-License-Identifier: MIT */
/* core/workload.c — workload helpers: parameters, thread start-up, the failure report, the
 * blocking barrier, random numbers. Mutator thread i binds itself by the runner's
 * placement plan before it attaches. */
#include "workload.h"

#include "placement.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double gcl_param(const struct gcl_workload_ctx *ctx, const char *name) {
  for (unsigned i = 0; i < ctx->workload->nparams; i++)
    if (strcmp(ctx->workload->params[i].name, name) == 0) return ctx->params[i];
  GCL_ASSERT_ALWAYS(!"workload asked for a parameter it does not declare");
  return 0;
}

const struct gcl_workload *gcl_workload_find(const char *name) {
  for (const struct gcl_workload *const *w = gcl_workloads; *w; w++)
    if (strcmp((*w)->name, name) == 0) return *w;
  return NULL;
}

struct thread_arg {
  struct gcl_workload_ctx *ctx;  /* shared by all threads */
  unsigned index;                /* this thread's number */
  gcl_thread_body_fn *body;      /* what it runs */
  void *arg;                     /* the workload's shared state, passed to body */
  uint64_t result;               /* body's return value */
};

static void *thread_main(void *p) {
  struct thread_arg *a = p;
  gcl_placement_apply_thread(a->index);
  struct gcl_mutator *m = gcl_thread_attach();
  a->result = a->body(m, a->ctx, a->index, a->arg);
  gcl_thread_detach(m);
  return NULL;
}

uint64_t gcl_run_threads(struct gcl_workload_ctx *ctx, gcl_thread_body_fn *body, void *arg) {
  unsigned n = ctx->threads;
  struct thread_arg *args = calloc(n, sizeof *args);
  pthread_t *tids = calloc(n, sizeof *tids);
  if (!args || !tids) gcl_alloc_failed(n * (sizeof *args + sizeof *tids));
  for (unsigned i = 0; i < n; i++) {
    args[i] = (struct thread_arg){ctx, i, body, arg, 0};
    if (pthread_create(&tids[i], NULL, thread_main, &args[i]) != 0) gcl_alloc_failed(0);
  }
  uint64_t sum = 0;
  for (unsigned i = 0; i < n; i++) {
    pthread_join(tids[i], NULL);
    sum += args[i].result;
  }
  free(args);
  free(tids);
  return sum;
}

void gcl_workload_fail(struct gcl_workload_ctx *ctx, const char *fmt, ...) {
  /* Only the thread that turns `wrong` from false to true writes `why`; the runner reads
   * it after joining every thread. */
  if (__atomic_exchange_n(&ctx->wrong, true, __ATOMIC_ACQ_REL)) return;
  int len = snprintf(ctx->why, sizeof ctx->why, "%s: ", ctx->workload ? ctx->workload->name : "workload");
  if (len < 0 || (size_t)len >= sizeof ctx->why) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ctx->why + len, sizeof ctx->why - (size_t)len, fmt, ap);
  va_end(ap);
}

void gcl_barrier_wait(struct gcl_mutator *m, pthread_barrier_t *b) {
  gcl_blocking_enter(m);
  pthread_barrier_wait(b);
  gcl_blocking_leave(m);
}

void gcl_rng_seed(struct gcl_rng *r, uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  r->s = z ? z : 1;
}
