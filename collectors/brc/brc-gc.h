/* SPDX-License-Identifier: MIT */
/* collectors/brc/brc-gc.h — what the cycle collector's two files share: brc-gc.c (the
 * collection's order, merge queues, the candidate steps 4-6, finalizers, clearing) and
 * brc-mark.c (steps 2-3: the marking from the roots and the heap walk, in the parallel
 * rounds). The collection's tag and flag bits, a growable object stack, one marker's
 * state, and the inline tests both files make. Invariants: brc-gc.c's file comment.
 * Not for workloads or tests. No macros change it. */
#ifndef GCL_BRC_GC_H
#define GCL_BRC_GC_H

#include <stdio.h>
#include <stdlib.h>

#include "brc-internal.h"

/* u.gc.bits during and after a collection: the collection's tag in bits 4-31, flags in
 * bits 0-3. Flags count only under the current collection's tag (flags_of), so no walk
 * has to clear the previous collection's bits. Bit 31 of a tag is always set: a queue
 * link's upper half (a user-space pointer < 2^47) never has it, and gcl_collector_on_alloc
 * zeroes the word, so nothing else can look like a tag. Every object alive at a collection
 * is re-tagged by it, so a tag seen is the current one or an earlier one, never one 2^27
 * collections old (the counter's wrap). */
#define GC_TAG_BIT 0x80000000u
#define GC_FLAG_MASK 0xFu
#define GC_ALIVE 0x1u       /* reachable: from a root, or from outside the candidates */
#define GC_SKIP 0x2u        /* frozen, with references: not examined */
#define GC_UNREACHABLE 0x4u /* on the unreachable list, not (yet) resurrected */
#define GC_CANDIDATE 0x8u   /* not alive when the heap walk saw it: u.gc.refs is gc_refs */
/* u.gc.bits of garbage handed to its owner and not cleared yet (brc.owner_clear): a tag no
 * collection uses (brc-gc.c skips the counter value). Such objects are reachable from
 * nothing but each other, so a later collection's walk passes them by (brc-mark.c
 * scan_block) instead of finding them alive by the collection's reference and marking
 * them again; the owner frees them. */
#define GC_PENDING_COUNTER 0x7FFFFFFu
#define GC_PENDING (GC_TAG_BIT | GC_PENDING_COUNTER << 4)

struct objstack {
  struct gcl_object **a; /* the objects */
  size_t n, cap;         /* in use, allocated */
};

static inline void reserve(struct objstack *s, size_t more) {
  if (GCL_LIKELY(s->n + more <= s->cap)) return;
  while (s->n + more > s->cap) s->cap = s->cap ? 2 * s->cap : 1024;
  s->a = realloc(s->a, s->cap * sizeof *s->a);
  if (!s->a) gcl_alloc_failed(s->cap * sizeof *s->a);
}

static inline void push(struct objstack *s, struct gcl_object *o) {
  reserve(s, 1);
  s->a[s->n++] = o;
}

/* One marker's state: the collecting thread's, or one part's of a parallel phase
 * (brc-mark.c's gcl_world_parallel rounds), which the collecting thread merges. */
struct gc_state {
  struct gcl_mutator *m;   /* the collecting thread */
  uint32_t tag;            /* this collection's tag (GC_TAG_BIT | counter << 4) */
  struct objstack work;    /* marking worklist */
  struct objstack cand;    /* candidates: objects not alive when the heap walk saw them */
  struct objstack immortal; /* immortal objects the heap walk found unmarked: roots */
  struct objstack garbage; /* unreachable objects, each with one reference of ours */
  uint32_t *garbage_owner; /* garbage_owner[i]: garbage.a[i]'s owner before its merge
                            * (0: none; brc-gc.c hands it back to that thread to clear) */
  size_t owner_cap;        /* entries allocated in garbage_owner */
  bool explicit;           /* gcl_collect: the collecting thread clears all the garbage */
  struct gc_state *next;   /* a part's state, on the collecting thread's list of them */
  uint64_t merged;         /* queued objects merged in step 1 */
  uint64_t scanned;        /* live objects in the heap walk */
  uint64_t marked;         /* objects this state marked alive */
  uint64_t marked_stopped; /* of the collection's marks, those made on stopped threads */
  uint64_t scanned_stopped; /* of its walk's objects, those examined on stopped threads */
  uint64_t survivors;      /* containers alive after the collection */
  uint64_t failures;       /* broken invariants (a bug somewhere) */
};

static inline void fail(struct gc_state *st, const char *what, struct gcl_object *o) {
  if (st->failures++ == 0)
    fprintf(stderr, "gclab brc collection: %s (object %p, shared %#llx, owner %u, local %#x)\n",
            what, (void *)o, (unsigned long long)gcl_brc_shared(o), gcl_brc_prefix_of(o)->owner,
            gcl_brc_prefix_of(o)->ref_local);
}

/* o's flags in this collection (0 if this collection has not tagged it yet). */
static inline uint32_t flags_of(const struct gc_state *st, struct gcl_object *o) {
  uint32_t b = gcl_brc_prefix_of(o)->u.gc.bits;
  return (b & ~GC_FLAG_MASK) == st->tag ? b & GC_FLAG_MASK : 0;
}

static inline void set_flags(const struct gc_state *st, struct gcl_object *o, uint32_t f) {
  gcl_brc_prefix_of(o)->u.gc.bits = st->tag | f;
}

static inline bool is_container(struct gcl_object *o) {
  return (gcl_type_of(o)->flags & GCL_TYPE_CONTAINER) != 0;
}

/* Whether a collection looks at o: objects whose type can hold references (containers,
 * and types that are not containers but still have reference slots or a trace hook:
 * pyheap's untracked tuples and dicts, root tables), and deferred objects (only a
 * collection frees those). Any other object holds no references, so it is in no cycle:
 * reference counting frees it when its referrers die. (CPython visits only GC-tracked
 * objects; an untracked object with references is treated as external there, but brc
 * has always collected cycles through them, and the stress test holds it to that.) */
static inline bool tracked(struct gcl_object *o, uint32_t owner) {
  const struct gcl_type *t = gcl_type_of(o);
  return (t->flags & (GCL_TYPE_CONTAINER | GCL_TYPE_REF_ITEMS)) || t->nrefs || t->trace ||
         owner == GCL_BRC_OWNER_DEFERRED;
}

/* Steps 2-3 (brc-mark.c): mark from every root, in parallel rounds on the stopped threads
 * (brc.parallel) or serially, then walk the heap in parts; the parts' candidates join
 * st->cand and the immortals they found are marked, with all they reach, into st. */
void gcl_brc_mark_and_walk(struct gc_state *st);

/* Mark and trace everything on st's work stack (entries need not be examined yet). */
void gcl_brc_drain_marks(struct gc_state *st);

#endif
