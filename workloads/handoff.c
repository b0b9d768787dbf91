/* SPDX-License-Identifier: MIT */
/* workloads/handoff.c — a pipeline of threads passing objects through queues: objects are
 * made on one thread and released on another (the case biased reference counting makes
 * slow: every such release goes through the shared count, and the last one through the
 * owner's merge queue).
 *
 * Threads 0..T-1 are the stages of one pipeline, joined by T-1 bounded single-producer
 * single-consumer queues. Stage 0 makes `messages * scale` messages: a container holding
 * `width` leaf objects. Each middle stage s (1..T-2) replaces leaf (id + s) mod width by a
 * leaf of its own — the old leaf, made by an earlier stage, dies on stage s — and passes the
 * message on. The last stage checks every leaf against the value it must hold and releases
 * the message, whose remaining leaves were made by other threads. With one thread, stage 0
 * is also the last stage and nothing is handed off.
 *
 * Queues are heap objects (a container of `queue_cap` slots) reachable from global roots;
 * a message in a queue is referenced by its slot, in flight by a rooted local. Waiting for
 * room or for a message happens inside gcl_blocking_enter/leave, and queue slots are touched
 * only by attached threads, so a stop-the-world never waits for a blocked stage and never
 * races with a slot write.
 *
 * Checksum (independent of timing: each queue keeps order and every value is a function
 * of the message id, the leaf position and the stage that made it): the sum over messages
 * of their id and of the values of the leaves the last stage received. */
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#include "workload.h"

#define HANDOFF_PHASES 8 /* verifier checkpoints made by stage 0 */

struct leaf {
  struct gcl_object header; /* common object header */
  uint64_t value;           /* see leaf_value */
};

struct message {
  struct gcl_varobject var;  /* common header and leaf count (width) */
  uint64_t id;               /* 0, 1, ... in production order */
  struct gcl_object *leaf[]; /* width leaves */
};

struct queue_obj {
  struct gcl_varobject var;  /* common header and capacity */
  struct gcl_object *slot[]; /* ring of messages, NULL when free */
};

#define MSG(o) ((struct message *)(o))
#define LEAF(o) ((struct leaf *)(o))
#define QOBJ(o) ((struct queue_obj *)(o))

static const struct gcl_type leaf_type = {
    .name = "handoff-leaf",
    .size = sizeof(struct leaf),
};

static const struct gcl_type message_type = {
    .name = "handoff-message",
    .size = sizeof(struct message),
    .item_size = sizeof(struct gcl_object *),
    .flags = GCL_TYPE_VAR | GCL_TYPE_CONTAINER | GCL_TYPE_REF_ITEMS,
    .ref_offset = offsetof(struct message, leaf),
};

static const struct gcl_type queue_type = {
    .name = "handoff-queue",
    .size = sizeof(struct queue_obj),
    .item_size = sizeof(struct gcl_object *),
    .flags = GCL_TYPE_VAR | GCL_TYPE_CONTAINER | GCL_TYPE_REF_ITEMS,
    .ref_offset = offsetof(struct queue_obj, slot),
};

/* A leaf's value: 48 bits derived from (seed, id, position, stage) and a 16-bit check. */
static uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static uint64_t leaf_value(uint64_t seed, uint64_t id, unsigned k, unsigned stage) {
  uint64_t high = mix(seed ^ mix(id * 0x9E3779B97F4A7C15ull + k * 0x632BE59BD9B4E019ull + stage)) &
                  ~0xFFFFull;
  return high | (uint16_t)(mix(high) >> 48);
}

/* The middle stage that last replaced leaf k of message id (0: none, the producer's). */
static unsigned last_stage(uint64_t id, unsigned k, unsigned width, unsigned threads) {
  long last = (long)threads - 2;
  if (last < 1) return 0;
  long r = ((long)k - (long)(id % width) + (long)width) % (long)width;
  long s = last - (((last - r) % (long)width + (long)width) % (long)width);
  return s >= 1 ? (unsigned)s : 0;
}

/* --- the queues ------------------------------------------------------------------------ */

struct queue {
  pthread_mutex_t mu;        /* guards head, count and the object's slots */
  pthread_cond_t not_empty;  /* signalled after a push */
  pthread_cond_t not_full;   /* signalled after a pop */
  unsigned head, count, cap; /* ring state */
  struct gcl_object *obj;    /* the queue's heap object: a global root */
};

/* Move the caller's reference *msgp into q (then *msgp is NULL). */
static void queue_push(struct gcl_mutator *m, struct queue *q, struct gcl_object **msgp) {
  for (;;) {
    pthread_mutex_lock(&q->mu);
    if (q->count < q->cap) break;
    pthread_mutex_unlock(&q->mu);
    gcl_blocking_enter(m);
    pthread_mutex_lock(&q->mu);
    while (q->count == q->cap) pthread_cond_wait(&q->not_full, &q->mu);
    pthread_mutex_unlock(&q->mu);
    gcl_blocking_leave(m);
  }
  unsigned i = (q->head + q->count) % q->cap;
  gcl_store_move(m, q->obj, &QOBJ(q->obj)->slot[i], *msgp);
  *msgp = NULL;
  q->count++;
  pthread_cond_signal(&q->not_empty);
  pthread_mutex_unlock(&q->mu);
}

/* Take the oldest message out of q; returns an owned reference. */
static struct gcl_object *queue_pop(struct gcl_mutator *m, struct queue *q) {
  for (;;) {
    pthread_mutex_lock(&q->mu);
    if (q->count > 0) break;
    pthread_mutex_unlock(&q->mu);
    gcl_blocking_enter(m);
    pthread_mutex_lock(&q->mu);
    while (q->count == 0) pthread_cond_wait(&q->not_empty, &q->mu);
    pthread_mutex_unlock(&q->mu);
    gcl_blocking_leave(m);
  }
  struct gcl_object **slot = &QOBJ(q->obj)->slot[q->head];
  struct gcl_object *msg = gcl_load(m, q->obj, slot);
  gcl_retain(m, msg);
  gcl_store_move(m, q->obj, slot, NULL);
  q->head = (q->head + 1) % q->cap;
  q->count--;
  pthread_cond_signal(&q->not_full);
  pthread_mutex_unlock(&q->mu);
  return msg;
}

/* --- one run ------------------------------------------------------------------------------ */

struct handoff {
  struct gcl_workload_ctx *ctx; /* parameters, wrong flag */
  uint64_t messages;            /* made by stage 0 */
  unsigned width;               /* leaves per message */
  struct queue *queues;         /* threads - 1 of them; queue s feeds stage s + 1 */
  pthread_barrier_t barrier;    /* queues made / every stage done */
};

static struct gcl_object *make_leaf(struct gcl_mutator *m, uint64_t value) {
  struct gcl_object *l = gcl_new(m, &leaf_type);
  LEAF(l)->value = value;
  return l;
}

/* Stage 0: a new message with the producer's leaves. */
static struct gcl_object *make_message(struct gcl_mutator *m, struct handoff *h, uint64_t id) {
  struct gcl_object *msg = gcl_new_var(m, &message_type, h->width);
  MSG(msg)->id = id;
  GCL_FRAME(m, f, &msg);
  for (unsigned k = 0; k < h->width; k++) {
    struct gcl_object *l = make_leaf(m, leaf_value(h->ctx->seed, id, k, 0));
    gcl_store_init_move(m, msg, &MSG(msg)->leaf[k], l); /* msg is new and unpublished */
  }
  GCL_FRAME_POP(m, f);
  return msg;
}

/* The last stage: check the message; returns its contribution to the checksum. */
static uint64_t consume(struct gcl_mutator *m, struct handoff *h, struct gcl_object *msg) {
  uint64_t id = MSG(msg)->id, sum = id;
  unsigned threads = h->ctx->threads;
  for (unsigned k = 0; k < h->width; k++) {
    struct gcl_object *l = gcl_load(m, msg, &MSG(msg)->leaf[k]);
    uint64_t want = leaf_value(h->ctx->seed, id, k, last_stage(id, k, h->width, threads));
    if (!l || LEAF(l)->value != want) {
      gcl_workload_fail(h->ctx, "a leaf does not hold the value its stage stored (message %llu)",
                        (unsigned long long)id);
      continue;
    }
    sum += LEAF(l)->value;
  }
  return sum;
}

static uint64_t thread_body(struct gcl_mutator *m, struct gcl_workload_ctx *ctx, unsigned stage,
                            void *arg) {
  struct handoff *h = arg;
  unsigned threads = ctx->threads;
  if (stage == 0) {
    for (unsigned s = 0; s + 1 < threads; s++) {
      struct gcl_object *qo = gcl_new_var(m, &queue_type, h->queues[s].cap);
      gcl_share(m, qo); /* used by two threads (rc-gen's escape barrier needs to know) */
      gcl_global_root_add(&h->queues[s].obj); /* registered while NULL, then stored */
      gcl_global_root_store(m, &h->queues[s].obj, qo);
    }
  }
  gcl_barrier_wait(m, &h->barrier);

  uint64_t sum = 0;
  struct gcl_object *msg = NULL;
  GCL_FRAME(m, f, &msg);
  for (uint64_t i = 0; i < h->messages; i++) {
    if (stage == 0) {
      msg = make_message(m, h, i);
    } else {
      msg = queue_pop(m, &h->queues[stage - 1]);
      if (MSG(msg)->id != i)
        gcl_workload_fail(ctx, "messages arrived out of order (message %llu)",
                          (unsigned long long)MSG(msg)->id);
      if (stage + 1 < threads) {
        unsigned k = (unsigned)((i + stage) % h->width);
        struct gcl_object *l = make_leaf(m, leaf_value(ctx->seed, i, k, stage));
        gcl_store_move(m, msg, &MSG(msg)->leaf[k], l); /* the old leaf dies here */
      }
    }
    if (stage + 1 < threads) {
      queue_push(m, &h->queues[stage], &msg);
    } else {
      sum += consume(m, h, msg);
      gcl_frame_release(m, &msg); /* clears it first: the frame rule */
    }
    gcl_safepoint(m);
    if (stage == 0 && (i + 1) % (h->messages / HANDOFF_PHASES + 1) == 0) gcl_checkpoint(m);
  }
  GCL_FRAME_POP(m, f);

  gcl_barrier_wait(m, &h->barrier); /* every queue is empty */
  if (stage == 0) {
    for (unsigned s = 0; s + 1 < threads; s++) {
      struct gcl_object *qo = h->queues[s].obj;
      gcl_global_root_store(m, &h->queues[s].obj, NULL); /* removed holding NULL */
      gcl_global_root_remove(&h->queues[s].obj);
      gcl_release(m, qo);
    }
  }
  return sum;
}

static const struct gcl_param_def params[] = {
    {"messages", 1500000, 1, 1e12, true, "messages through the pipeline at scale 1"},
    {"width", 8, 1, 4096, true, "leaf objects per message"},
    {"queue_cap", 64, 1, 1 << 20, true, "capacity of each queue between two stages"},
};

static int run(struct gcl_workload_ctx *ctx) {
  double total = gcl_param(ctx, "messages") * ctx->scale;
  struct handoff state = {.ctx = ctx,
                          .messages = total < 1 ? 1 : (uint64_t)llround(total),
                          .width = (unsigned)gcl_param(ctx, "width")};
  struct handoff *h = &state; /* the threads' arg; the queues' objects are global roots */
  unsigned nq = ctx->threads - 1;
  h->queues = calloc(nq ? nq : 1, sizeof *h->queues);
  if (!h->queues) return -12; /* -ENOMEM */
  for (unsigned s = 0; s < nq; s++) {
    pthread_mutex_init(&h->queues[s].mu, NULL);
    pthread_cond_init(&h->queues[s].not_empty, NULL);
    pthread_cond_init(&h->queues[s].not_full, NULL);
    h->queues[s].cap = (unsigned)gcl_param(ctx, "queue_cap");
  }
  pthread_barrier_init(&h->barrier, NULL, ctx->threads);
  ctx->checksum = gcl_run_threads(ctx, thread_body, h);
  pthread_barrier_destroy(&h->barrier);
  for (unsigned s = 0; s < nq; s++) {
    pthread_mutex_destroy(&h->queues[s].mu);
    pthread_cond_destroy(&h->queues[s].not_empty);
    pthread_cond_destroy(&h->queues[s].not_full);
  }
  free(h->queues);
  return 0;
}

const struct gcl_workload gcl_workload_handoff = {
    .name = "handoff",
    .description = "pipeline of threads passing objects through queues (made here, freed there)",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .run = run,
};
