/* SPDX-License-Identifier: MIT */
/* workloads/churn.c — small-object churn with a CPython-like size mix around a fixed
 * live set.
 *
 * Each thread keeps a table of `live` slots (one var-sized container object, rooted in a
 * frame). It fills the table, then performs `steps * scale` replacements: pick a slot at
 * random, make a new object, store it in the slot (the old occupant loses the table's
 * reference). Lifetimes are therefore geometric with a mean of `live` steps, and the live
 * set stays near `live` objects. `container_pct` percent of new objects are boxes holding
 * references to up to two objects that are live in the table at that moment; references
 * only ever go from a new object to older ones, so the object graph is acyclic and
 * reference counting alone frees all of it (ctx->cyclic_garbage stays -1). An object
 * referenced by a box outlives its slot, which gives the lifetime distribution a tail.
 *
 * Size mix (total object size, 16-byte header included, collector prefix excluded):
 *   60%  32 B          small ints, floats, 1-tuples: CPython's most common objects
 *   25%  48 or 64 B    short strings, small tuples
 *   10%  80..128 B     small lists/tuples with their GC head, medium strings
 *    5%  144..512 B    dicts, sets, longer strings (up to pymalloc's 512-byte limit)
 * Sizes are multiples of 16 (pymalloc's size-class step), uniform within a band; the mean
 * is 60 B. This is a synthetic approximation of CPython's small-object distribution,
 * which is dominated by 32-64 byte objects, not a measured trace. A box needs 48 B for its
 * two reference slots, so a box drawn at 32 B is made 48 B.
 *
 * Every object carries a 64-bit value whose low 16 bits are a check of its high 48 bits
 * and its length, and its trailing bytes are filled with a byte of the value; at each
 * checkpoint the thread walks its table (and the boxes' referents) and checks them, so a
 * block freed or reused too early shows up as `wrong` even without the verifier.
 *
 * Checksum (per thread, summed): objects created, plus at each of the 1 + CHURN_PHASES
 * checkpoints the sum of the values of every table object and of every box's referents.
 * It depends only on (params, scale, seed, threads). */
#include <math.h>
#include <stddef.h>

#include "workload.h"

#define CHURN_PHASES 8    /* checkpoints during the replacement steps */
#define CHURN_SP_EVERY 32 /* steps between safepoints (a step is ~0.1 us) */

/* Pointer-free object: a value and len bytes. */
struct churn_leaf {
  struct gcl_varobject var; /* common header and byte count */
  uint64_t value;           /* check word, see value_make */
  unsigned char bytes[];    /* len bytes, each value_byte(value) */
};

/* Container: references to at most two older objects, then len bytes. */
struct churn_box {
  struct gcl_varobject var;  /* common header and byte count */
  uint64_t value;            /* check word, see value_make */
  struct gcl_object *ref[2]; /* older objects or NULL */
  unsigned char bytes[];     /* len bytes, each value_byte(value) */
};

/* The per-thread table of live slots. */
struct churn_table {
  struct gcl_varobject var;  /* common header and slot count */
  struct gcl_object *slot[]; /* the live set; NULL only before the fill */
};

#define LEAF(o) ((struct churn_leaf *)(o))
#define BOX(o) ((struct churn_box *)(o))
#define TABLE(o) ((struct churn_table *)(o))

static const struct gcl_type leaf_type = {
    .name = "churn-leaf",
    .size = sizeof(struct churn_leaf),
    .item_size = 1,
    .flags = GCL_TYPE_VAR,
};

static const struct gcl_type box_type = {
    .name = "churn-box",
    .size = sizeof(struct churn_box),
    .item_size = 1,
    .flags = GCL_TYPE_VAR | GCL_TYPE_CONTAINER,
    .ref_offset = offsetof(struct churn_box, ref),
    .nrefs = 2, /* ref[0], ref[1]; the bytes after them hold no references */
};

static const struct gcl_type table_type = {
    .name = "churn-table",
    .size = sizeof(struct churn_table),
    .item_size = sizeof(struct gcl_object *),
    .flags = GCL_TYPE_VAR | GCL_TYPE_CONTAINER | GCL_TYPE_REF_ITEMS,
    .ref_offset = offsetof(struct churn_table, slot),
};

_Static_assert(sizeof(struct churn_leaf) == 32, "a leaf's base size is the 32 B class");
_Static_assert(sizeof(struct churn_box) == 48, "a box's base size is the 48 B class");
_Static_assert(offsetof(struct churn_leaf, value) == offsetof(struct churn_box, value),
               "check_object reads the value before it knows the kind");

/* --- values --------------------------------------------------------------------------- */

/* A value is 48 random high bits (bit 16, the lowest of them, is 1 for a box) and a
 * 16-bit check of those bits and the object's length in the low bits. */
static uint16_t value_check(uint64_t high, size_t len) {
  return (uint16_t)(((high ^ len) * 0x9E3779B97F4A7C15ull) >> 48);
}

static uint64_t value_make(struct gcl_rng *rng, bool box, size_t len) {
  uint64_t high = (gcl_rng_next(rng) & ~0xFFFFull & ~(1ull << 16)) | ((uint64_t)box << 16);
  return high | value_check(high, len);
}

static unsigned char value_byte(uint64_t v) { return (unsigned char)(v >> 24); }
static bool value_is_box(uint64_t v) { return (v >> 16) & 1; }

/* --- the size mix --------------------------------------------------------------------- */

static size_t draw_size(struct gcl_rng *rng) {
  uint64_t r = gcl_rng_below(rng, 100);
  if (r < 60) return 32;
  if (r < 85) return 48 + 16 * gcl_rng_below(rng, 2);  /* 48, 64 */
  if (r < 95) return 80 + 16 * gcl_rng_below(rng, 4);  /* 80 .. 128 */
  return 144 + 16 * gcl_rng_below(rng, 24);            /* 144 .. 512 */
}

/* --- one thread ----------------------------------------------------------------------- */

struct churn_thread {
  struct gcl_workload_ctx *ctx; /* for parameters and the wrong flag */
  struct gcl_rng rng;           /* this thread's stream */
  unsigned container_pct;       /* percent of new objects that are boxes */
  uint64_t created;             /* objects created so far */
};

/* Make one object of a random size and kind; a box references up to two objects taken
 * from slots [0, pool) of the table (all older than it). *tablep is the caller's rooted
 * local, read again after the allocation (a moving collector may have updated it).
 * Returns an owned reference. */
static struct gcl_object *make_object(struct gcl_mutator *m, struct churn_thread *t,
                                      struct gcl_object **tablep, size_t pool) {
  size_t size = draw_size(&t->rng);
  bool box = gcl_rng_below(&t->rng, 100) < t->container_pct;
  struct gcl_object *o;
  unsigned char *bytes;
  size_t len;
  uint64_t value;
  if (box) {
    if (size < sizeof(struct churn_box)) size = sizeof(struct churn_box);
    len = size - sizeof(struct churn_box);
    o = gcl_new_var_raw(m, &box_type, len); /* the bytes are filled below */
    value = BOX(o)->value = value_make(&t->rng, true, len);
    bytes = BOX(o)->bytes;
    /* No allocation from here on: `o` needs no root frame. */
    struct gcl_object *table = *tablep;
    for (int k = 0; k < 2 && pool > 0; k++) {
      struct gcl_object *old = gcl_load(m, table, &TABLE(table)->slot[gcl_rng_below(&t->rng, pool)]);
      gcl_store_init(m, o, &BOX(o)->ref[k], old); /* o is new: its slots are NULL */
    }
  } else {
    len = size - sizeof(struct churn_leaf);
    o = gcl_new_var_raw(m, &leaf_type, len);
    value = LEAF(o)->value = value_make(&t->rng, false, len);
    bytes = LEAF(o)->bytes;
  }
  memset(bytes, value_byte(value), len);
  t->created++;
  return o;
}

/* Check one object's value and bytes; returns its value (0 for NULL). */
static uint64_t check_object(struct churn_thread *t, struct gcl_object *o) {
  if (!o) return 0;
  size_t len = ((struct gcl_varobject *)o)->len;
  uint64_t v = LEAF(o)->value; /* at the same offset in both kinds */
  const unsigned char *bytes = value_is_box(v) ? BOX(o)->bytes : LEAF(o)->bytes;
  if ((uint16_t)v != value_check(v & ~0xFFFFull, len))
    gcl_workload_fail(t->ctx, "an object's check word does not match its length (value %#llx)",
                      (unsigned long long)v);
  else if (len > 0 && (bytes[0] != value_byte(v) || bytes[len - 1] != value_byte(v)))
    gcl_workload_fail(t->ctx, "an object's bytes were overwritten (value %#llx)", (unsigned long long)v);
  return v;
}

/* Walk the table and the boxes' referents; the sum of their values. */
static uint64_t check_table(struct gcl_mutator *m, struct churn_thread *t, struct gcl_object *table) {
  uint64_t sum = 0;
  size_t n = TABLE(table)->var.len;
  /* Polls for a stop at every slot: the table is the caller's, in its frame. */
  for (size_t i = 0; i < n; i++) {
    gcl_poll(m);
    struct gcl_object *o = gcl_load(m, table, &TABLE(table)->slot[i]);
    uint64_t v = check_object(t, o);
    sum += v;
    if (o && value_is_box(v))
      for (int k = 0; k < 2; k++) sum += check_object(t, gcl_load(m, o, &BOX(o)->ref[k]));
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

  struct gcl_object *table = gcl_new_var(m, &table_type, live);
  struct gcl_object *obj = NULL;
  GCL_FRAME(m, f, &table, &obj);

  /* Fill: slot i gets a new object that may reference slots [0, i). */
  for (size_t i = 0; i < live; i++) {
    obj = make_object(m, &t, &table, i);
    /* The table is unpublished (only this thread's frame holds it) and slot i still NULL. */
    gcl_store_init_move(m, table, &TABLE(table)->slot[i], obj);
    obj = NULL;
    if (i % CHURN_SP_EVERY == 0) gcl_safepoint(m);
  }
  gcl_checkpoint(m);
  sum += check_table(m, &t, table);

  /* Churn: phase p performs steps (p+1)*steps/PHASES - p*steps/PHASES replacements. */
  uint64_t done = 0;
  for (unsigned p = 0; p < CHURN_PHASES; p++) {
    uint64_t end = steps * (p + 1) / CHURN_PHASES;
    for (; done < end; done++) {
      size_t i = gcl_rng_below(&t.rng, live);
      obj = make_object(m, &t, &table, live);
      gcl_store_move(m, table, &TABLE(table)->slot[i], obj); /* drops the old occupant */
      obj = NULL;
      if (done % CHURN_SP_EVERY == 0) gcl_safepoint(m);
    }
    gcl_checkpoint(m);
    sum += check_table(m, &t, table);
  }

  GCL_FRAME_POP(m, f);
  gcl_release(m, table);
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

const struct gcl_workload gcl_workload_churn = {
    .name = "churn",
    .description = "small objects, CPython-like size mix, random lifetimes around a live set",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .run = run,
};
