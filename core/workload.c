/* core/workload.c — workload helpers: parameters, thread start-up, random numbers.
 * Mutator thread i binds itself by the runner's placement plan before it attaches. */
#include "workload.h"

#include "placement.h"

#include <pthread.h>
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
  uint64_t (*body)(struct gcl_mutator *, struct gcl_workload_ctx *, unsigned);
  uint64_t result;               /* body's return value */
};

static void *thread_main(void *p) {
  struct thread_arg *a = p;
  gcl_placement_apply_thread(a->index);
  struct gcl_mutator *m = gcl_thread_attach();
  a->result = a->body(m, a->ctx, a->index);
  gcl_thread_detach(m);
  return NULL;
}

uint64_t gcl_run_threads(struct gcl_workload_ctx *ctx,
                         uint64_t (*body)(struct gcl_mutator *, struct gcl_workload_ctx *,
                                          unsigned)) {
  unsigned n = ctx->threads;
  struct thread_arg *args = calloc(n, sizeof *args);
  pthread_t *tids = calloc(n, sizeof *tids);
  if (!args || !tids) gcl_alloc_failed(n * (sizeof *args + sizeof *tids));
  for (unsigned i = 0; i < n; i++) {
    args[i] = (struct thread_arg){ctx, i, body, 0};
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

void gcl_rng_seed(struct gcl_rng *r, uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  r->s = z ? z : 1;
}
