/* SPDX-License-Identifier: MIT */
/* core/world-parallel.c — gcl_world_parallel (core/mutator.h): with the world stopped,
 * run a collector function once for every registered thread, each on the thread itself
 * when it is stopped at a safepoint or waiting to attach (so the stopped threads work in
 * parallel with the requester), or by the requester on its behalf when it is parked
 * somewhere else (blocked, exiting), as stop-the-world already treats parked threads.
 *
 * A phase is an array of tasks, one per thread in the thread list when it was published,
 * each PENDING, RUNNING (claimed by whoever runs it: the thread or the requester) or DONE.
 * Claims and completions happen under par_lock, so each task runs exactly once.
 *
 * Invariants:
 *  - Lock order: par_lock, then world_lock (publishing reads the thread list with
 *    gcl_for_each_mutator under par_lock). A stopped thread therefore never looks at a
 *    phase while holding world_lock: core/world.c's wait_while_suspended releases it, and
 *    reads the generation before it looks and again before it sleeps, so a phase
 *    published in between (generation bumped before the wake-up broadcast) is not missed.
 *  - A thread's task is DONE before the thread frees its mutator: gcl_thread_detach calls
 *    gcl_world_par_serve after leaving the list (so no later phase names it), and that
 *    call runs a task still pending or waits for the requester's run of it. The requester
 *    may thus run a task on behalf of a thread that is exiting (after its detach hooks),
 *    or still attaching (before them), as gcl_for_each_mutator may show it.
 *  - The requester claims its own task at publication and runs it first, then claims and
 *    runs every task still pending (parked threads, and stopped ones that have not woken
 *    yet: whoever comes first does the work), then waits for the RUNNING ones.
 *
 * No macros change it. */
#include <pthread.h>
#include <stdlib.h>

#include "world-parallel.h"

enum { TASK_PENDING, TASK_RUNNING, TASK_DONE };

struct par_task {
  struct gcl_mutator *t; /* the thread the task is for */
  unsigned k;            /* its part: 0..n-1, the position of t in the published list */
  int state;             /* TASK_*, under par_lock */
};

static pthread_mutex_t par_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t par_cond = PTHREAD_COND_INITIALIZER; /* a task became DONE */
static struct {
  void (*fn)(struct gcl_mutator *t, unsigned k, unsigned n, void *ctx); /* the function */
  void *ctx;               /* its argument */
  struct par_task *tasks;  /* the tasks, under par_lock; NULL between phases */
  unsigned n;              /* their number */
  unsigned open;           /* tasks not DONE */
  unsigned gen;            /* atomic: phases published */
  int active;              /* atomic: 1 while tasks is set */
} par;

unsigned gcl_world_par_generation(void) { return __atomic_load_n(&par.gen, __ATOMIC_SEQ_CST); }
bool gcl_world_par_active(void) { return __atomic_load_n(&par.active, __ATOMIC_SEQ_CST) != 0; }

/* Under par_lock: t's task in the phase in progress, or NULL. */
static struct par_task *task_of(struct gcl_mutator *t) {
  for (unsigned i = 0; par.tasks && i < par.n; i++)
    if (par.tasks[i].t == t) return &par.tasks[i];
  return NULL;
}

/* Under par_lock, with task claimed (RUNNING) by the caller: run it unlocked, mark it. */
static void run_claimed(struct par_task *task) {
  void (*fn)(struct gcl_mutator *, unsigned, unsigned, void *) = par.fn;
  void *ctx = par.ctx;
  unsigned n = par.n;
  pthread_mutex_unlock(&par_lock);
  fn(task->t, task->k, n, ctx);
  pthread_mutex_lock(&par_lock);
  task->state = TASK_DONE;
  par.open--;
  pthread_cond_broadcast(&par_cond);
}

bool gcl_world_par_serve(struct gcl_mutator *m) {
  pthread_mutex_lock(&par_lock);
  struct par_task *task = task_of(m);
  if (!task || task->state == TASK_DONE) {
    pthread_mutex_unlock(&par_lock);
    return false;
  }
  if (task->state == TASK_PENDING) {
    task->state = TASK_RUNNING;
    run_claimed(task);
  } else {
    /* The requester runs it on our behalf: wait, so that an exiting thread does not free
     * its mutator under that run. The requester frees the tasks once the phase is over
     * (after the broadcast that woke us, perhaps): look at ours only while the phase is
     * the same one. */
    unsigned gen = par.gen;
    while (par.tasks && par.gen == gen && task->state != TASK_DONE) pthread_cond_wait(&par_cond, &par_lock);
  }
  pthread_mutex_unlock(&par_lock);
  return true;
}

struct collect {
  struct par_task *tasks; /* the array being filled */
  unsigned n, cap;        /* entries, allocated */
};

static void collect_thread(struct gcl_mutator *t, void *ctx) {
  struct collect *c = ctx;
  if (c->n == c->cap) {
    c->cap = c->cap ? 2 * c->cap : 16;
    c->tasks = realloc(c->tasks, c->cap * sizeof *c->tasks);
    if (!c->tasks) gcl_alloc_failed(c->cap * sizeof *c->tasks);
  }
  c->tasks[c->n] = (struct par_task){t, c->n, TASK_PENDING};
  c->n++;
}

void gcl_world_parallel(struct gcl_mutator *m, void (*fn)(struct gcl_mutator *t, unsigned k, unsigned n, void *ctx),
                        void *ctx) {
  pthread_mutex_lock(&par_lock);
  struct collect c = {NULL, 0, 0};
  gcl_for_each_mutator(collect_thread, &c); /* m is in the list: n >= 1 */
  if (c.n <= 1) { /* nobody else: no publication, no wake-ups */
    pthread_mutex_unlock(&par_lock);
    fn(m, 0, 1, ctx);
    free(c.tasks);
    return;
  }
  par.fn = fn;
  par.ctx = ctx;
  par.tasks = c.tasks;
  par.n = c.n;
  par.open = c.n;
  struct par_task *own = task_of(m);
  GCL_ASSERT_ALWAYS(own && "gcl_world_parallel: the requester is not a registered thread");
  own->state = TASK_RUNNING;
  __atomic_store_n(&par.active, 1, __ATOMIC_SEQ_CST);
  __atomic_add_fetch(&par.gen, 1, __ATOMIC_SEQ_CST);
  pthread_mutex_unlock(&par_lock);
  gcl_world_wake_suspended();
  pthread_mutex_lock(&par_lock);
  run_claimed(own);
  /* Loop invariant: every task before i is RUNNING or DONE; we claimed and ran each one
   * that was still PENDING when we reached it (its thread is parked elsewhere or has not
   * woken yet), so no task waits for a thread that may never come. */
  for (unsigned i = 0; i < par.n; i++) {
    if (par.tasks[i].state != TASK_PENDING) continue;
    par.tasks[i].state = TASK_RUNNING;
    run_claimed(&par.tasks[i]);
  }
  while (par.open > 0) pthread_cond_wait(&par_cond, &par_lock);
  __atomic_store_n(&par.active, 0, __ATOMIC_SEQ_CST);
  free(par.tasks);
  par.tasks = NULL;
  par.n = 0;
  pthread_mutex_unlock(&par_lock);
}
