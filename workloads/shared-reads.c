/* SPDX-License-Identifier: MIT */
/* workloads/shared-reads.c — threads repeatedly take and drop references to objects of a
 * shared, read-mostly table, and of a private one: the fraction of accesses to shared
 * objects (shared_pct) decides how much reference counting contends on other threads'
 * objects (biased RC's weak spot, atomic RC's everyday cost).
 *
 * One shared table (a container of `shared_objects` slots, gcl_share()d, reachable from a
 * global root) and one private table per thread (`private_objects` slots, rooted in its
 * frame). Every slot holds a value object. Each thread performs `ops * scale` accesses:
 * with probability shared_pct% to a random slot of the shared table, else of its own
 * table; with probability write_pct% the access replaces the slot's value by a new one
 * (next version), else it takes a reference with gcl_load_strong, checks the value and
 * drops the reference. Shared slot i has exactly one writer, thread i mod T (a thread that
 * owns no slot turns its shared writes into reads), so concurrent writers of one slot never
 * meet; readers of it use gcl_load_strong, which is safe against that writer because
 * values are gcl_share()d before they are published. With deferred=1 shared values use
 * deferred reference counting (gcl_make_deferred: reads do not touch their counts under
 * brc, a collection frees the replaced ones; a no-op under other collectors).
 *
 * Values are containers with one (NULL) reference slot, so that they count towards the
 * collection trigger of cycle collectors, as CPython's tracked objects do. A value holds
 * (slot, version, table kind) and a 16-bit check; a read that finds a value for another
 * slot or with a bad check makes the run `wrong`.
 *
 * Checksum (independent of timing): per thread, the number of accesses, the values of its
 * private reads and its private table at the end; plus the shared table at the end (each
 * slot's last value is its writer's last write). Shared reads are checked, not summed: what
 * a reader sees depends on timing. */
#include <math.h>
#include <pthread.h>
#include <stddef.h>

#include "workload.h"

#define SR_SP_EVERY 64 /* accesses between safepoints */
#define SR_PHASES 4    /* verifier checkpoints */

struct value {
  struct gcl_object header; /* common object header */
  uint64_t v;               /* slot << 40 | version << 17 | kind << 16 | check */
  struct gcl_object *ref;   /* always NULL: values are containers for the trigger's sake */
};

struct table {
  struct gcl_varobject var;  /* common header and slot count */
  struct gcl_object *slot[]; /* values */
};

#define VALUE(o) ((struct value *)(o))
#define TABLE(o) ((struct table *)(o))

static const struct gcl_type value_type = {
    .name = "shared-reads-value",
    .size = sizeof(struct value),
    .flags = GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct value, ref),
    .nrefs = 1, /* ref */
};

static const struct gcl_type table_type = {
    .name = "shared-reads-table",
    .size = sizeof(struct table),
    .item_size = sizeof(struct gcl_object *),
    .flags = GCL_TYPE_VAR | GCL_TYPE_CONTAINER | GCL_TYPE_REF_ITEMS,
    .ref_offset = offsetof(struct table, slot),
};

static uint16_t check16(uint64_t high) {
  return (uint16_t)((high * 0x9E3779B97F4A7C15ull) >> 48);
}

static uint64_t value_of(uint64_t slot, uint64_t version, bool shared) {
  uint64_t high = slot << 40 | (version & 0x7FFFFF) << 17 | (uint64_t)shared << 16;
  return high | check16(high);
}

static bool value_ok(uint64_t v, uint64_t slot, bool shared) {
  return (uint16_t)v == check16(v & ~0xFFFFull) && (v >> 40) == slot && ((v >> 16) & 1) == shared;
}

static uint64_t version_of(uint64_t v) { return (v >> 17) & 0x7FFFFF; }

/* --- one run ------------------------------------------------------------------------------ */

struct shared_reads {
  struct gcl_workload_ctx *ctx; /* parameters, wrong flag */
  struct gcl_object *shared;    /* the shared table: a global root */
  size_t nshared, nprivate;     /* table sizes */
  uint64_t ops;                 /* accesses per thread */
  unsigned shared_pct, write_pct; /* percentages */
  bool deferred;                /* shared values use deferred RC */
  pthread_barrier_t barrier;    /* table made / filled / accesses done */
  uint64_t shared_sum;          /* the shared table's final values (thread 0) */
};

/* A new value for a slot; shared ones are published (and deferred if asked) before any
 * other thread can see them. */
static struct gcl_object *make_value(struct gcl_mutator *m, struct shared_reads *s, uint64_t slot,
                                     uint64_t version, bool shared) {
  struct gcl_object *o = gcl_new(m, &value_type);
  VALUE(o)->v = value_of(slot, version, shared);
  if (shared) {
    if (s->deferred) gcl_make_deferred(m, o);
    gcl_share(m, o);
  }
  return o;
}

/* Replace slot i of table t by the next version (the caller is the slot's only writer). */
static void write_slot(struct gcl_mutator *m, struct shared_reads *s, struct gcl_object *t,
                       uint64_t i, bool shared) {
  struct gcl_object *old = gcl_load(m, t, &TABLE(t)->slot[i]);
  uint64_t version = old ? version_of(VALUE(old)->v) + 1 : 0;
  struct gcl_object *o = make_value(m, s, i, version, shared);
  gcl_store_move(m, t, &TABLE(t)->slot[i], o);
}

/* Take a reference to slot i's value, check it, drop it; returns the value. */
static uint64_t read_slot(struct gcl_mutator *m, struct shared_reads *s, struct gcl_object *t,
                          uint64_t i, bool shared) {
  struct gcl_object *o = gcl_load_strong(m, t, &TABLE(t)->slot[i]);
  uint64_t v = o ? VALUE(o)->v : 0;
  if (!o || !value_ok(v, i, shared))
    gcl_workload_fail(s->ctx, "a read found a value of another slot or a bad check (value %#llx)",
                      (unsigned long long)v);
  gcl_release(m, o);
  return v;
}

static uint64_t thread_body(struct gcl_mutator *m, struct gcl_workload_ctx *ctx, unsigned index,
                            void *arg) {
  struct shared_reads *s = arg;
  unsigned threads = ctx->threads;
  struct gcl_rng rng;
  gcl_rng_seed(&rng, ctx->seed, index);

  if (index == 0) {
    struct gcl_object *t = gcl_new_var(m, &table_type, s->nshared);
    gcl_share(m, t);
    gcl_global_root_add(&s->shared); /* registered while NULL, then stored */
    gcl_global_root_store(m, &s->shared, t);
  }
  gcl_barrier_wait(m, &s->barrier);

  struct gcl_object *mine = gcl_new_var(m, &table_type, s->nprivate);
  struct gcl_object *shared = s->shared; /* also a global root: stays put */
  GCL_FRAME(m, f, &mine, &shared);
  for (uint64_t i = index; i < s->nshared; i += threads) write_slot(m, s, shared, i, true);
  for (uint64_t i = 0; i < s->nprivate; i++) write_slot(m, s, mine, i, false);
  gcl_barrier_wait(m, &s->barrier); /* every shared slot holds a value */

  /* Shared slots this thread writes: index, index + T, ... */
  uint64_t owned = s->nshared > index ? (s->nshared - index + threads - 1) / threads : 0;
  uint64_t sum = 0;
  for (uint64_t n = 0; n < s->ops; n++) {
    bool to_shared = gcl_rng_below(&rng, 100) < s->shared_pct;
    bool write = gcl_rng_below(&rng, 100) < s->write_pct;
    if (to_shared) {
      if (write && owned > 0)
        write_slot(m, s, shared, index + threads * gcl_rng_below(&rng, owned), true);
      else
        read_slot(m, s, shared, gcl_rng_below(&rng, s->nshared), true);
    } else {
      uint64_t i = gcl_rng_below(&rng, s->nprivate);
      if (write)
        write_slot(m, s, mine, i, false);
      else
        sum += read_slot(m, s, mine, i, false);
    }
    if (n % SR_SP_EVERY == 0) gcl_safepoint(m);
    if ((n + 1) % (s->ops / SR_PHASES + 1) == 0) gcl_checkpoint(m);
  }
  for (uint64_t i = 0; i < s->nprivate; i++) sum += VALUE(gcl_load(m, mine, &TABLE(mine)->slot[i]))->v;
  GCL_FRAME_POP(m, f);
  gcl_release(m, mine);

  gcl_barrier_wait(m, &s->barrier); /* no more writes to the shared table */
  if (index == 0) {
    struct gcl_object *t = s->shared;
    for (uint64_t i = 0; i < s->nshared; i++) s->shared_sum += VALUE(gcl_load(m, t, &TABLE(t)->slot[i]))->v;
    gcl_global_root_store(m, &s->shared, NULL); /* removed holding NULL */
    gcl_global_root_remove(&s->shared);
    gcl_release(m, t);
  }
  return sum + s->ops;
}

static const struct gcl_param_def params[] = {
    {"shared_pct", 50, 0, 100, true, "percent of accesses to the shared table"},
    {"write_pct", 5, 0, 100, true, "percent of accesses that replace the value"},
    {"shared_objects", 1024, 1, 1e8, true, "slots of the shared table"},
    {"private_objects", 4096, 1, 1e8, true, "slots of each thread's private table"},
    {"ops", 4e7, 1, 1e12, true, "accesses per thread at scale 1"},
    {"deferred", 0, 0, 1, true, "1: shared values use deferred reference counting (brc)"},
};

static int run(struct gcl_workload_ctx *ctx) {
  double total = gcl_param(ctx, "ops") * ctx->scale;
  struct shared_reads state = {
      .ctx = ctx,
      .nshared = (size_t)gcl_param(ctx, "shared_objects"),
      .nprivate = (size_t)gcl_param(ctx, "private_objects"),
      .ops = total < 1 ? 1 : (uint64_t)llround(total),
      .shared_pct = (unsigned)gcl_param(ctx, "shared_pct"),
      .write_pct = (unsigned)gcl_param(ctx, "write_pct"),
      .deferred = gcl_param(ctx, "deferred") != 0,
  };
  struct shared_reads *s = &state; /* the threads' arg; s->shared is a global root meanwhile */
  pthread_barrier_init(&s->barrier, NULL, ctx->threads);
  ctx->checksum = gcl_run_threads(ctx, thread_body, s) + s->shared_sum;
  pthread_barrier_destroy(&s->barrier);
  return 0;
}

const struct gcl_workload gcl_workload_shared_reads = {
    .name = "shared-reads",
    .description = "threads take and drop references to a shared read-mostly table and a private one",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .run = run,
};
