/* SPDX-License-Identifier: MIT */
/* workloads/pyobjects/pyobjects.c — CPython's object mix: ints, floats, strings, tuples of
 * 1-5, lists and dicts, with CPython's interning (immortal small ints and identifier
 * strings, PEP 683) and CPython's per-type free lists (floats, tuples per length, lists,
 * dicts; core/freelist.h).
 *
 * Each thread makes its intern table first: the 262 small ints -5..256 and PYO_NSTRS
 * identifier strings, each made immortal (gcl_make_immortal), held by a table object. It
 * then keeps a ring of `live` slots and performs `steps * scale` steps: draw a kind by the
 * weights below, make a value of that kind, store it into a random slot (the old occupant
 * loses the ring's reference). A tuple, a list's items and a dict's values reference
 * objects now in the ring (older than the new one: the graph is acyclic, RC frees all of
 * it; cyclic_garbage stays -1); a dict's keys are interned strings.
 *
 * The mix (README.md "The mix" gives the source): kind weights are the live-object counts
 * of a real CPython 3.11 program (count-objects.py, output in counts.txt): int 57523,
 * float 37, str 13280, tuple1..5 909 603 225 244 83, list 23600, dict 43986. Of the ints,
 * 66.0% are small ints (111594 of 169016 references to ints are to -5..256) and are then a
 * reference to the interned object, no allocation; of the strings, 79.5% (34973 of 43982
 * references) are identifier strings and are then a reference to an interned one.
 *
 * Free-list sizes are CPython 3.13's (Include/internal/pycore_freelist.h): floats 100,
 * tuples 2000 per length, lists 80, dicts 80; ints and strings have none (3.13).
 *
 * Checksum (per thread, summed): for every step (kind + 1) * 1000 + its length, plus at
 * each of the 1 + PYO_PHASES checkpoints the sum of every ring object's value (ints'
 * values, floats' integer parts, strings' hashes, containers' lengths). It depends only on
 * (params, scale, seed, threads), not on whether free lists are on. The parameter
 * `freelists` switches them for the run (so that `gclab run --param
 * pyobjects.freelists=0,1` sets them side by side in one run); -1 leaves the runner's
 * --freelists. Figures: interned (immortal objects made),
 * freelist_reused (allocations served from free lists; only when free lists are on). */
#include <math.h>
#include <stddef.h>

#include "workload.h"

#define PYO_PHASES 4      /* checkpoints during the steps */
#define PYO_SP_EVERY 32   /* steps between safepoints */
#define PYO_NSTRS 512     /* interned identifier strings per thread */
#define PYO_NSMALL 262    /* small ints -5..256 */

struct pyo_int { struct gcl_object h; int64_t v; };    /* header, value */
struct pyo_float { struct gcl_object h; double v; };   /* header, value */
struct pyo_str {
  struct gcl_varobject var; /* header and length */
  uint64_t hash;            /* a hash of the characters */
  char s[];                 /* len characters */
};
struct pyo_seq {
  struct gcl_varobject var;  /* header and length */
  struct gcl_object *item[]; /* references (tuple items, list items, dict entries, ring) */
};
struct pyo_box {
  struct gcl_object h;      /* header */
  struct gcl_object *items; /* a list's item array / a dict's entry array (a pyo_seq) */
  int64_t n;                /* items / entries used */
};

#define SEQ(o) ((struct pyo_seq *)(o))
#define BOX(o) ((struct pyo_box *)(o))

#define SEQ_TYPE(nm, fl)                                                                \
  {.name = nm, .size = sizeof(struct pyo_seq), .item_size = sizeof(struct gcl_object *), \
   .flags = GCL_TYPE_VAR | GCL_TYPE_CONTAINER | GCL_TYPE_REF_ITEMS,                      \
   .ref_offset = offsetof(struct pyo_seq, item), .freelist = fl}
#define BOX_TYPE(nm, fl)                                                                    \
  {.name = nm, .size = sizeof(struct pyo_box), .flags = GCL_TYPE_CONTAINER,                 \
   .ref_offset = offsetof(struct pyo_box, items), .nrefs = 1, .freelist = fl}

static const struct gcl_type int_type = {.name = "int", .size = sizeof(struct pyo_int)};
static const struct gcl_type float_type = {.name = "float", .size = sizeof(struct pyo_float), .freelist = 100};
static const struct gcl_type str_type = {.name = "str", .size = sizeof(struct pyo_str), .item_size = 1,
                                         .flags = GCL_TYPE_VAR};
static const struct gcl_type tuple_type = SEQ_TYPE("tuple", 2000);
static const struct gcl_type array_type = SEQ_TYPE("item-array", 0); /* list items, dict entries, tables */
static const struct gcl_type list_type = BOX_TYPE("list", 80);
static const struct gcl_type dict_type = BOX_TYPE("dict", 80);

enum pyo_kind { K_INT, K_FLOAT, K_STR, K_T1, K_T2, K_T3, K_T4, K_T5, K_LIST, K_DICT, NKINDS };
static const uint32_t kind_weight[NKINDS] = {57523, 37, 13280, 909, 603, 225, 244, 83, 23600, 43986};
#define SMALL_INT_PERMILLE 660 /* 111594 / 169016 */
#define IDENT_STR_PERMILLE 795 /* 34973 / 43982 */

struct pyo_thread {
  struct gcl_workload_ctx *ctx; /* parameters, failures */
  struct gcl_rng rng;           /* this thread's stream */
  uint32_t weight_total;        /* sum of kind_weight */
  uint64_t sum;                 /* checksum so far */
};

static uint64_t str_hash(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

static struct gcl_object *new_str(struct gcl_mutator *m, struct gcl_rng *r, size_t len) {
  struct gcl_object *o = gcl_new_var(m, &str_type, len);
  struct pyo_str *s = (struct pyo_str *)o;
  for (size_t i = 0; i < len; i++) s->s[i] = (char)('a' + gcl_rng_below(r, 26));
  s->hash = str_hash(s->s, len);
  return o;
}

/* The intern table: small ints at 0..261, identifier strings after them; all immortal. */
static struct gcl_object *make_interns(struct gcl_mutator *m, struct pyo_thread *t) {
  struct gcl_object *tab = gcl_new_var(m, &array_type, PYO_NSMALL + PYO_NSTRS), *o = NULL;
  GCL_FRAME(m, f, &tab, &o);
  for (unsigned i = 0; i < PYO_NSMALL + PYO_NSTRS; i++) {
    if (i < PYO_NSMALL) {
      o = gcl_new(m, &int_type);
      ((struct pyo_int *)o)->v = (int64_t)i - 5;
    } else {
      o = new_str(m, &t->rng, 3 + gcl_rng_below(&t->rng, 12));
    }
    gcl_make_immortal(m, o);
    gcl_store_move(m, tab, &SEQ(tab)->item[i], o);
    o = NULL;
  }
  GCL_FRAME_POP(m, f);
  return tab;
}

/* A borrowed reference to a random ring object (maybe NULL). */
static struct gcl_object *pick(struct gcl_mutator *m, struct pyo_thread *t, struct gcl_object *ring) {
  size_t n = SEQ(ring)->var.len;
  return gcl_load(m, ring, &SEQ(ring)->item[gcl_rng_below(&t->rng, n)]);
}

/* An item array of n references to ring objects (dict: key/value pairs, keys interned). */
static struct gcl_object *new_array(struct gcl_mutator *m, struct pyo_thread *t, size_t n, bool dict,
                                    struct gcl_object **ringp, struct gcl_object **internp) {
  struct gcl_object *a = gcl_new_var(m, &array_type, dict ? 2 * n : n);
  for (size_t i = 0; i < (dict ? 2 * n : n); i++) {
    struct gcl_object *v = dict && i % 2 == 0
                               ? SEQ(*internp)->item[PYO_NSMALL + gcl_rng_below(&t->rng, PYO_NSTRS)]
                               : pick(m, t, *ringp);
    gcl_store_init(m, a, &SEQ(a)->item[i], v); /* a is new and unpublished */
  }
  return a;
}

/* Make one value of a random kind; an owned reference (interned ones included: retaining
 * an immortal object is free). *ringp and *internp are the caller's rooted locals. */
static struct gcl_object *make_value(struct gcl_mutator *m, struct pyo_thread *t,
                                     struct gcl_object **ringp, struct gcl_object **internp) {
  uint32_t r = (uint32_t)gcl_rng_below(&t->rng, t->weight_total);
  unsigned k = 0;
  while (r >= kind_weight[k]) r -= kind_weight[k++];
  struct gcl_object *o = NULL, *a = NULL;
  size_t len = 0;
  if (k == K_INT && gcl_rng_below(&t->rng, 1000) < SMALL_INT_PERMILLE) {
    o = SEQ(*internp)->item[gcl_rng_below(&t->rng, PYO_NSMALL)];
    gcl_retain(m, o);
  } else if (k == K_INT) {
    o = gcl_new(m, &int_type);
    ((struct pyo_int *)o)->v = 257 + (int64_t)gcl_rng_below(&t->rng, 1000000);
  } else if (k == K_FLOAT) {
    o = gcl_new(m, &float_type);
    ((struct pyo_float *)o)->v = (double)gcl_rng_below(&t->rng, 1000000) / 8;
  } else if (k == K_STR && gcl_rng_below(&t->rng, 1000) < IDENT_STR_PERMILLE) {
    o = SEQ(*internp)->item[PYO_NSMALL + gcl_rng_below(&t->rng, PYO_NSTRS)];
    gcl_retain(m, o);
  } else if (k == K_STR) {
    len = 1 + gcl_rng_below(&t->rng, 40);
    o = new_str(m, &t->rng, len);
  } else if (k >= K_T1 && k <= K_T5) {
    len = k - K_T1 + 1;
    o = gcl_new_var(m, &tuple_type, len);
    for (size_t i = 0; i < len; i++) gcl_store_init(m, o, &SEQ(o)->item[i], pick(m, t, *ringp));
  } else {
    len = gcl_rng_below(&t->rng, k == K_LIST ? 9 : 6);
    o = gcl_new(m, k == K_LIST ? &list_type : &dict_type);
    GCL_FRAME(m, f, &o, &a);
    a = new_array(m, t, len, k == K_DICT, ringp, internp);
    BOX(o)->n = (int64_t)len;
    gcl_store_init_move(m, o, &BOX(o)->items, a); /* o is new and unpublished */
    a = NULL;
    GCL_FRAME_POP(m, f);
  }
  t->sum += (k + 1) * 1000u + len;
  return o;
}

/* The value of one object for the checksum, checking what it can. */
static uint64_t value_of(struct pyo_thread *t, struct gcl_object *o) {
  if (!o) return 0;
  const struct gcl_type *ty = gcl_type_of(o);
  if (ty == &int_type) return (uint64_t)((struct pyo_int *)o)->v;
  if (ty == &float_type) return (uint64_t)((struct pyo_float *)o)->v;
  if (ty == &str_type) {
    struct pyo_str *s = (struct pyo_str *)o;
    if (s->hash != str_hash(s->s, s->var.len)) gcl_workload_fail(t->ctx, "a string's characters changed");
    return s->hash;
  }
  if (ty == &tuple_type) return SEQ(o)->var.len;
  if (ty == &list_type || ty == &dict_type) {
    size_t want = (size_t)BOX(o)->n * (ty == &dict_type ? 2 : 1);
    if (!BOX(o)->items || SEQ(BOX(o)->items)->var.len != want)
      gcl_workload_fail(t->ctx, "a %s's item array has the wrong length", ty->name);
    return (uint64_t)BOX(o)->n;
  }
  gcl_workload_fail(t->ctx, "a ring slot holds an object of type %s", ty->name);
  return 0;
}

static uint64_t check_ring(struct gcl_mutator *m, struct pyo_thread *t, struct gcl_object *ring) {
  uint64_t s = 0;
  for (size_t i = 0; i < SEQ(ring)->var.len; i++) s += value_of(t, gcl_load(m, ring, &SEQ(ring)->item[i]));
  return s;
}

struct pyo_shared {
  uint64_t reused; /* atomic: allocations from free lists, summed over threads */
  bool freelists;  /* atomic: some thread had free lists on */
};

static uint64_t thread_body(struct gcl_mutator *m, struct gcl_workload_ctx *ctx, unsigned index,
                            void *arg) {
  struct pyo_shared *sh = arg;
  struct pyo_thread t = {.ctx = ctx};
  gcl_rng_seed(&t.rng, ctx->seed, index);
  for (unsigned k = 0; k < NKINDS; k++) t.weight_total += kind_weight[k];
  size_t live = (size_t)gcl_param(ctx, "live");
  double total = gcl_param(ctx, "steps") * ctx->scale;
  uint64_t steps = total < 1 ? 1 : (uint64_t)llround(total), reused0 = m->stats.freelist_reused;
  struct gcl_object *interns = NULL, *ring = NULL, *obj = NULL;
  GCL_FRAME(m, f, &interns, &ring, &obj);
  interns = make_interns(m, &t);
  ring = gcl_new_var(m, &array_type, live);
  /* Loop invariant (both loops): ring slots hold owned references or NULL; obj is NULL
   * between steps. */
  for (uint64_t done = 0, p = 0; p <= PYO_PHASES; p++) {
    uint64_t end = p == 0 ? 0 : steps * p / PYO_PHASES;
    for (; done < end; done++) {
      obj = make_value(m, &t, &ring, &interns);
      gcl_store_move(m, ring, &SEQ(ring)->item[gcl_rng_below(&t.rng, live)], obj);
      obj = NULL;
      if (done % PYO_SP_EVERY == 0) gcl_safepoint(m);
    }
    gcl_checkpoint(m);
    t.sum += check_ring(m, &t, ring);
  }
  GCL_FRAME_POP(m, f);
  gcl_release(m, ring);
  gcl_release(m, interns); /* the table dies; the immortal objects it held stay (under RC) */
  /* No stale copy on the stack: a conservative collector (bdw) would keep the table, and
   * with it every interned object, alive through it. */
  ring = interns = obj = NULL;
  if (m->freelists) {
    __atomic_add_fetch(&sh->reused, m->stats.freelist_reused - reused0, __ATOMIC_RELAXED);
    __atomic_store_n(&sh->freelists, true, __ATOMIC_RELAXED);
  }
  return t.sum;
}

static const struct gcl_param_def params[] = {
    {"live", 20000, 1, 1e8, true, "ring slots each thread keeps (its live set)"},
    {"steps", 1.5e6, 1, 1e12, true, "values made per thread at scale 1"},
    {"freelists", -1, -1, 1, true,
     "1/0: free lists on/off for this run (gcl_freelists_enable), -1: as the runner's --freelists"},
};

static const struct gcl_fig_decl figures[] = {
    {"interned", "objects", "immortal objects made (small ints and identifier strings), all threads"},
    {"freelist_reused", "objects", "allocations served from free lists (only with --freelists)"},
};

static int run(struct gcl_workload_ctx *ctx) {
  struct pyo_shared sh = {0};
  int fl = (int)gcl_param(ctx, "freelists");
  if (fl >= 0) gcl_freelists_enable(fl == 1); /* before the threads attach */
  ctx->checksum = gcl_run_threads(ctx, thread_body, &sh);
  gcl_figure_set(ctx, "interned", (double)ctx->threads * (PYO_NSMALL + PYO_NSTRS));
  if (sh.freelists) gcl_figure_set(ctx, "freelist_reused", (double)sh.reused);
  return 0;
}

const struct gcl_workload gcl_workload_pyobjects = {
    .name = "pyobjects",
    .description = "CPython's object mix (counted), interned immortals, per-type free lists",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .figures = figures,
    .nfigures = sizeof figures / sizeof figures[0],
    .run = run,
};
