/* SPDX-License-Identifier: MIT */
/* tests/unit/test-death.c — the RC death path of core/heap.c after issue 13's plain path:
 * an object of a plain type (no finalizer, simple layout, no free list) with no flag set
 * dies by kill_plain (a fixed-size one's type word cached by the drain, so it takes no
 * test), a plain leaf without any drain, everything else by kill's full path. These tests
 * mix the kinds inside one drain, in orders that switch the cache back and forth, and
 * check that each object gets exactly the death it needs and that the counters read as
 * if each free had updated them:
 *  - objects_freed rises by exactly the objects made, the live bytes return to where they
 *    were (after a flush), to the byte, and a finalizer runs once per object of its type;
 *  - a weakly referenced plain object reads NULL through its handle after its death (it
 *    must not take the plain path: the flag is in its type word);
 *  - a shared plain object waits for a grace period (deferred_frees counts it);
 *  - a plain leaf's death (no drain) counts the same as a drain's.
 * Linked with rc-plain x sys (the plain path as the runners compile it) and rc x sys with
 * the verifier (every free quarantined and checked once; atomic counts), and with brc x
 * segment and brc x pool with the verifier (issue 13: brc's dying objects take the same
 * plain path, with its own on_free_plain and batched container count, and its owner's
 * decrement; tests/unit/test-brc-trigger.c checks the count). */
#include <criterion/criterion.h>
#include <stddef.h>

#include "mutator.h"
#include "weakref.h"

/* Fixed-size, two slots: plain2 (a tree node). */
struct pair {
  struct gcl_object header; /* common header */
  struct gcl_object *a, *b; /* children or NULL */
};
/* Fixed-size, one slot: plain (a list cell). */
struct cell {
  struct gcl_object header; /* common header */
  struct gcl_object *next;  /* child or NULL */
};
/* Fixed-size, three slots: plain, the slot loop. */
struct triple {
  struct gcl_object header;   /* common header */
  struct gcl_object *s[3];    /* children or NULL */
};
/* Variable-sized, two slots then len bytes: plain, never cached (its size is its own). */
struct vbox {
  struct gcl_varobject var;   /* common header and byte count */
  struct gcl_object *a, *b;   /* children or NULL */
  unsigned char bytes[];      /* len bytes */
};

static int finalized; /* finalizer calls */
static void count_finalize(struct gcl_mutator *m, struct gcl_object *o) { (void)m, (void)o, finalized++; }

static const struct gcl_type pair_type = {.name = "pair", .size = sizeof(struct pair),
                                          .flags = GCL_TYPE_CONTAINER,
                                          .ref_offset = offsetof(struct pair, a), .nrefs = 2};
static const struct gcl_type cell_type = {.name = "cell", .size = sizeof(struct cell),
                                          .flags = GCL_TYPE_CONTAINER,
                                          .ref_offset = offsetof(struct cell, next), .nrefs = 1};
static const struct gcl_type triple_type = {.name = "triple", .size = sizeof(struct triple),
                                            .flags = GCL_TYPE_CONTAINER,
                                            .ref_offset = offsetof(struct triple, s), .nrefs = 3};
static const struct gcl_type vbox_type = {.name = "vbox", .size = sizeof(struct vbox), .item_size = 1,
                                          .flags = GCL_TYPE_CONTAINER | GCL_TYPE_VAR,
                                          .ref_offset = offsetof(struct vbox, a), .nrefs = 2};
static const struct gcl_type leaf_type = {.name = "leaf", .size = sizeof(struct gcl_object) + 8};
static const struct gcl_type vleaf_type = {.name = "vleaf", .size = sizeof(struct gcl_varobject),
                                           .item_size = 8, .flags = GCL_TYPE_VAR};
/* Not plain: a finalizer (the pair's layout). */
static const struct gcl_type fin_type = {.name = "finalized-pair", .size = sizeof(struct pair),
                                         .flags = GCL_TYPE_CONTAINER,
                                         .ref_offset = offsetof(struct pair, a), .nrefs = 2,
                                         .finalize = count_finalize};

static void setup(void) { cr_assert_eq(gcl_heap_init(), 0); }

struct made {
  uint64_t objects;      /* objects made */
  int64_t bytes;         /* their bytes, collector prefix included */
  uint64_t finalizable;  /* of them, of fin_type */
};

static struct gcl_object *make(struct gcl_mutator *m, const struct gcl_type *t, size_t len,
                               struct made *k) {
  struct gcl_object *o = (t->flags & GCL_TYPE_VAR) ? gcl_new_var(m, t, len) : gcl_new(m, t);
  k->objects++;
  k->bytes += (int64_t)(GCL_COLLECTOR_PREFIX_SIZE + gcl_object_size(o));
  k->finalizable += t == &fin_type;
  return o;
}

/* A tree of `depth` whose node kind cycles with the level and the position, so that one
 * drain meets every kind in turn (and the cached plain type changes often); every leaf
 * level alternates fixed and variable-sized leaves. */
static struct gcl_object *mixed(struct gcl_mutator *m, int depth, unsigned pos, struct made *k) {
  if (depth == 0) return pos % 2 ? make(m, &vleaf_type, pos % 7, k) : make(m, &leaf_type, 0, k);
  struct gcl_object *o;
  switch ((depth + pos) % 5) {
  case 0: /* a cell over a pair: a plain1 then a plain2 */
    o = make(m, &cell_type, 0, k);
    gcl_store_init_move(m, o, &((struct cell *)o)->next, mixed(m, depth - 1, pos * 2, k));
    return o;
  case 1:
    o = make(m, &triple_type, 0, k);
    for (int i = 0; i < 3; i++)
      gcl_store_init_move(m, o, &((struct triple *)o)->s[i], mixed(m, depth - 1, pos * 3 + (unsigned)i, k));
    return o;
  case 2:
    o = make(m, &vbox_type, pos % 11, k);
    gcl_store_init_move(m, o, &((struct vbox *)o)->a, mixed(m, depth - 1, pos * 2, k));
    gcl_store_init_move(m, o, &((struct vbox *)o)->b, mixed(m, depth - 1, pos * 2 + 1, k));
    return o;
  case 3:
    o = make(m, pos % 3 ? &pair_type : &fin_type, 0, k);
    break;
  default:
    o = make(m, &pair_type, 0, k);
    break;
  }
  gcl_store_init_move(m, o, &((struct pair *)o)->a, mixed(m, depth - 1, pos * 2, k));
  gcl_store_init_move(m, o, &((struct pair *)o)->b, mixed(m, depth - 1, pos * 2 + 1, k));
  return o;
}

static int64_t live_flushed(struct gcl_mutator *m) {
  gcl_heap_bytes_flush(m);
  return gcl_stats_live_bytes();
}

Test(death, a_mixed_drain_frees_each_object_once_and_counts_every_byte, .init = setup, .timeout = 60) {
  struct gcl_mutator *m = gcl_thread_attach();
  int64_t live0 = live_flushed(m);
  uint64_t freed0 = m->stats.objects_freed;
  struct made k = {0, 0, 0};
  finalized = 0;
  struct gcl_object *root = mixed(m, 13, 1, &k);
  cr_assert_eq(live_flushed(m) - live0, k.bytes, "allocated bytes");
  cr_assert(k.finalizable > 0 && k.objects > 10000, "the tree has every kind (%llu objects)",
            (unsigned long long)k.objects);
  gcl_release(m, root);
  cr_expect_eq(m->stats.objects_freed - freed0, k.objects, "freed %llu of %llu",
               (unsigned long long)(m->stats.objects_freed - freed0), (unsigned long long)k.objects);
  cr_expect_eq((uint64_t)finalized, k.finalizable, "finalizers run");
  cr_expect_eq(live_flushed(m), live0, "live bytes back to the start");
  cr_expect_eq(m->dealloc_top, 0, "the worklist is empty");
  cr_expect(!m->dealloc_draining);
  gcl_thread_detach(m);
}

Test(death, a_weakly_referenced_or_shared_plain_object_takes_the_full_path, .init = setup, .timeout = 60) {
  struct gcl_mutator *m = gcl_thread_attach();
  int64_t live0 = live_flushed(m);
  uint64_t freed0 = m->stats.objects_freed, deferred0 = m->stats.deferred_frees;
  struct made k = {0, 0, 0};
  /* A chain of pairs (the plain2 cache set by the first) in which every 10th pair is
   * weakly referenced and every 7th is shared: their type word differs from the cached
   * one by a flag bit. */
  enum { N = 200 };
  struct gcl_weakref *w[N];
  unsigned nw = 0, nshared = 0;
  struct gcl_object *head = NULL;
  for (unsigned i = 0; i < N; i++) {
    struct gcl_object *p = make(m, &pair_type, 0, &k);
    gcl_store_init_move(m, p, &((struct pair *)p)->a, head);
    gcl_store_init_move(m, p, &((struct pair *)p)->b, make(m, &leaf_type, 0, &k));
    if (i % 10 == 3) w[nw++] = gcl_weakref_new(m, p, NULL, NULL);
    if (i % 7 == 5) gcl_share(m, p), nshared++;
    head = p;
  }
  gcl_release(m, head);
  for (unsigned i = 0; i < nw; i++) {
    struct gcl_object *o = gcl_weakref_get(m, w[i]);
    cr_expect_null(o, "weak reference %u still reaches its dead referent", i);
    gcl_weakref_free(m, w[i]);
  }
  cr_expect_eq(m->stats.objects_freed - freed0, k.objects);
  if (!GCL_VERIFY) /* the verifier quarantines shared objects too, deferring nothing */
    cr_expect_eq(m->stats.deferred_frees - deferred0, nshared, "shared objects deferred");
  cr_expect_eq(live_flushed(m), live0, "live bytes back to the start");
  gcl_thread_detach(m);
}

Test(death, a_leaf_dies_without_a_drain_and_counts_the_same, .init = setup, .timeout = 60) {
  struct gcl_mutator *m = gcl_thread_attach();
  int64_t live0 = live_flushed(m);
  uint64_t freed0 = m->stats.objects_freed;
  struct made k = {0, 0, 0};
  /* Enough bytes to cross the flush batch many times, from single leaves of both kinds. */
  for (unsigned i = 0; i < 20000; i++) {
    struct gcl_object *o = i % 2 ? make(m, &vleaf_type, i % 13, &k) : make(m, &leaf_type, 0, &k);
    gcl_release(m, o);
    cr_assert_eq(m->stats.objects_freed - freed0, k.objects);
  }
  cr_expect_eq(live_flushed(m), live0, "live bytes back to the start");
  gcl_thread_detach(m);
}
