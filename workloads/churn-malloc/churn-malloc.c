/* SPDX-License-Identifier: MIT */
/* workloads/churn-malloc/churn-malloc.c — the churn loop in plain C: malloc/free and a
 * hand-written, non-atomic reference count, no object model. The baseline that measures
 * the framework's own overhead on churn, as binary-trees-malloc is binary-trees's.
 *
 * Same objects as workloads/churn.c, byte for byte: a 16-byte stand-in for the common
 * header (a pad word where the type word is, the count where rc-plain keeps it), the
 * length, the check value, a box's two references, then the bytes; so each malloc asks for
 * exactly the size churn's gclab_new asks its allocator for (collector prefix 0, as under
 * rc-plain). Same parameters, the same random draws in the same order (size, kind, value,
 * the box's two referents) and the same checks at the same checkpoints, so the checksum is
 * churn's exactly: a row of each with the same params and seed must agree.
 *
 * Reference counting: the table's slot owns one reference, each box one per referent. A
 * release that reaches zero frees the object and releases what a box references:
 * recursively on the first referent, in a loop on the second (what a C programmer writes,
 * CPython's Py_DECREF shape); the recursion depth is the longest chain of first referents
 * dying at once, a few objects in practice (lifetimes are geometric around the live set).
 * Heap figures are not reported: nothing goes through gclab (bypasses_heap). */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#include "workload.h"

#define CHURN_PHASES 8    /* checkpoints during the replacement steps (as churn.c) */
#define CHURN_SP_EVERY 32 /* steps between safepoints (as churn.c) */

/* One object; a leaf's bytes start where a box's ref[] would. */
struct cobj {
  uintptr_t pad;       /* stands in for the type word of the common header */
  uintptr_t count;     /* references held: the table's slot and boxes */
  size_t len;          /* bytes after the fixed part (gcl_varobject's len) */
  uint64_t value;      /* check word, as churn.c's value_make */
  unsigned char rest[]; /* a leaf: len bytes; a box: struct cobj *ref[2], then len bytes */
};

#define LEAF_SIZE offsetof(struct cobj, rest)                            /* 32 */
#define BOX_SIZE (offsetof(struct cobj, rest) + 2 * sizeof(struct cobj *)) /* 48 */
_Static_assert(LEAF_SIZE == 32 && BOX_SIZE == 48, "churn.c's leaf and box sizes");

static struct cobj **box_refs(struct cobj *o) { return (struct cobj **)o->rest; }

/* --- values (churn.c's, the same bits) ------------------------------------------------ */

static uint16_t value_check(uint64_t high, size_t len) {
  return (uint16_t)(((high ^ len) * 0x9E3779B97F4A7C15ull) >> 48);
}

static uint64_t value_make(struct gcl_rng *rng, bool box, size_t len) {
  uint64_t high = (gcl_rng_next(rng) & ~0xFFFFull & ~(1ull << 16)) | ((uint64_t)box << 16);
  return high | value_check(high, len);
}

static unsigned char value_byte(uint64_t v) { return (unsigned char)(v >> 24); }
static bool value_is_box(uint64_t v) { return (v >> 16) & 1; }
static unsigned char *bytes_of(struct cobj *o) { return o->rest + (value_is_box(o->value) ? 2 * sizeof(struct cobj *) : 0); }

static size_t draw_size(struct gcl_rng *rng) {
  uint64_t r = gcl_rng_below(rng, 100);
  if (r < 60) return 32;
  if (r < 85) return 48 + 16 * gcl_rng_below(rng, 2);
  if (r < 95) return 80 + 16 * gcl_rng_below(rng, 4);
  return 144 + 16 * gcl_rng_below(rng, 24);
}

/* --- reference counts ----------------------------------------------------------------- */

/* Drop one reference to o (NULL allowed); frees it and releases its referents at zero. */
static void release(struct cobj *o) {
  /* Invariant: o is the next object to drop a reference to; the recursion holds the
   * first referents of the boxes above, the loop carries the second. */
  while (o && --o->count == 0) {
    struct cobj *second = NULL;
    if (value_is_box(o->value)) {
      release(box_refs(o)[0]);
      second = box_refs(o)[1];
    }
    free(o);
    o = second;
  }
}

/* --- one thread ----------------------------------------------------------------------- */

struct churn_thread {
  struct gcl_workload_ctx *ctx; /* for parameters and the wrong flag */
  struct gcl_rng rng;           /* this thread's stream (seeded as churn.c's) */
  unsigned container_pct;       /* percent of new objects that are boxes */
  uint64_t created;             /* objects created so far */
};

/* One new object (count 1, owned by the caller); a box references up to two objects of
 * table[0, pool). Same draws, in the same order, as churn.c's make_object. */
static struct cobj *make_object(struct churn_thread *t, struct cobj **table, size_t pool) {
  size_t size = draw_size(&t->rng);
  bool box = gcl_rng_below(&t->rng, 100) < t->container_pct;
  if (box && size < BOX_SIZE) size = BOX_SIZE;
  size_t len = size - (box ? BOX_SIZE : LEAF_SIZE);
  struct cobj *o = malloc(size);
  if (!o) gcl_alloc_failed(size);
  o->pad = 0;
  o->count = 1;
  o->len = len;
  o->value = value_make(&t->rng, box, len);
  if (box) {
    box_refs(o)[0] = box_refs(o)[1] = NULL;
    for (int k = 0; k < 2 && pool > 0; k++) {
      struct cobj *old = table[gcl_rng_below(&t->rng, pool)];
      if (old) old->count++;
      box_refs(o)[k] = old;
    }
  }
  memset(bytes_of(o), value_byte(o->value), len);
  t->created++;
  return o;
}

/* churn.c's check_object: the check word and the end bytes; returns the value. */
static uint64_t check_object(struct churn_thread *t, struct cobj *o) {
  if (!o) return 0;
  uint64_t v = o->value;
  const unsigned char *bytes = bytes_of(o);
  if ((uint16_t)v != value_check(v & ~0xFFFFull, o->len))
    gcl_workload_fail(t->ctx, "an object's check word does not match its length (value %#llx)",
                      (unsigned long long)v);
  else if (o->len > 0 && (bytes[0] != value_byte(v) || bytes[o->len - 1] != value_byte(v)))
    gcl_workload_fail(t->ctx, "an object's bytes were overwritten (value %#llx)", (unsigned long long)v);
  return v;
}

static uint64_t check_table(struct churn_thread *t, struct cobj **table, size_t n) {
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t v = check_object(t, table[i]);
    sum += v;
    if (table[i] && value_is_box(v))
      for (int k = 0; k < 2; k++) sum += check_object(t, box_refs(table[i])[k]);
  }
  return sum;
}

static uint64_t thread_body(struct gcl_mutator *m, struct gcl_workload_ctx *ctx, unsigned index,
                            void *arg) {
  (void)arg;
  struct churn_thread t = {.ctx = ctx, .container_pct = (unsigned)gcl_param(ctx, "container_pct")};
  gcl_rng_seed(&t.rng, ctx->seed, index);
  size_t live = (size_t)gcl_param(ctx, "live");
  double total = gcl_param(ctx, "steps") * ctx->scale;
  uint64_t steps = total < 1 ? 1 : (uint64_t)llround(total);
  uint64_t sum = 0;
  struct cobj **table = calloc(live, sizeof *table);
  if (!table) gcl_alloc_failed(live * sizeof *table);

  /* Fill: slot i gets a new object that may reference slots [0, i). */
  for (size_t i = 0; i < live; i++) {
    table[i] = make_object(&t, table, i);
    if (i % CHURN_SP_EVERY == 0) gcl_safepoint(m);
  }
  sum += check_table(&t, table, live);

  /* Churn: phase p performs steps (p+1)*steps/PHASES - p*steps/PHASES replacements. */
  uint64_t done = 0;
  for (unsigned p = 0; p < CHURN_PHASES; p++) {
    uint64_t end = steps * (p + 1) / CHURN_PHASES;
    for (; done < end; done++) {
      size_t i = gcl_rng_below(&t.rng, live);
      struct cobj *o = make_object(&t, table, live);
      struct cobj *old = table[i];
      table[i] = o;
      release(old); /* the old occupant loses the table's reference */
      if (done % CHURN_SP_EVERY == 0) gcl_safepoint(m);
    }
    sum += check_table(&t, table, live);
  }

  for (size_t i = 0; i < live; i++) release(table[i]);
  free(table);
  return sum + t.created;
}

static const struct gcl_param_def params[] = {
    {"live", 100000, 1, 1e8, true, "live-set size: objects each thread keeps in its table"},
    {"steps", 4.5e6, 1, 1e12, true, "replacements per thread at scale 1"},
    {"container_pct", 30, 0, 100, true, "percent of new objects that reference two older ones"},
};

static int run(struct gcl_workload_ctx *ctx) {
  ctx->checksum = gcl_run_threads(ctx, thread_body, NULL);
  return 0;
}

const struct gcl_workload gcl_workload_churn_malloc = {
    .name = "churn-malloc",
    .description = "churn in plain C malloc/free with hand-written counts: the framework-overhead baseline",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .bypasses_heap = true,
    .run = run,
};
