/* SPDX-License-Identifier: MIT */
/* collectors/rc-gen/rc-gen-internal.h — what the files of rc-gen share: the collector's
 * process-wide state (one struct, gcl_rcgen), the collection-time bits of the prefix, the
 * list helpers used with the world stopped, and the functions one file calls in another.
 * Files: rc-gen.c (state, trigger, threads, the collector contract, the module's options
 * and figures), rc-gen-collect.c (one collection), rc-gen-incremental.c (3.14's
 * increments), rc-gen-introspect.c (tests' view).
 *
 * Invariants: every field of gcl_rcgen is written only under registry_lock or with the
 * world stopped (the comment of each says which); the list helpers touch lists only with
 * the world stopped or under the list's lock (rc-gen.c's file comment has the argument).
 * No macros change this header. */
#ifndef GCL_RC_GEN_INTERNAL_H
#define GCL_RC_GEN_INTERNAL_H

#include <pthread.h>
#include <stddef.h>

#include "collector.h"
#include "mutator.h"

#define NGEN 3
#define COLLECTING ((uintptr_t)1)  /* prev bit 0: in the set being collected */
#define UNREACHABLE ((uintptr_t)1) /* next bit 0: in the tentatively unreachable list */
#define REFS_SHIFT 4               /* gc_refs lives in prev above the low bits */
#define REFS_ONE ((uintptr_t)1 << REFS_SHIFT)

/* --policy values: the index of the choice in the option's "3.12|3.13|3.14". */
enum gcl_rcgen_policy { GCL_RCGEN_POLICY_312, GCL_RCGEN_POLICY_313, GCL_RCGEN_POLICY_314 };
/* --young values, in the option's order "auto|global|thread" (rc-gen-local.c). */
enum gcl_rcgen_young { GCL_RCGEN_YOUNG_AUTO, GCL_RCGEN_YOUNG_GLOBAL, GCL_RCGEN_YOUNG_THREAD };

struct generation {
  struct gcl_rcgen_head head; /* its objects (gen 0: only while it is being collected) */
  unsigned tag;               /* their tag (gen 0: none, its objects are on gen0 lists) */
  int64_t threshold;          /* gen0: of the summed count; else: of `count` */
  int64_t count;              /* gen >= 1: collections of gen-1 since this one was collected */
};

/* The collector's process-wide state (defined in rc-gen.c). */
struct gcl_rcgen_global {
  struct gcl_rcgen_list gen0_lists[GCL_RCGEN_NTAGS]; /* [1..123] thread slots, [127] orphans */
  struct generation gens[NGEN];       /* gens[0].head is used only while gen0 is collected */
  struct gcl_rcgen_head permanent;    /* gc.freeze()'s generation, tag 125 */
  pthread_mutex_t registry_lock;      /* guards the registry, counts' sum, slots, limits */
  struct gcl_collector_mutator *registry; /* attached threads */
  unsigned nthreads;                  /* how many */
  bool slot_used[GCL_RCGEN_NTAGS];    /* thread slots in use */
  int64_t orphan_count;               /* counts of threads that detached */
  bool enabled;                       /* gc.enable()/gc.disable() */
  bool initialised;                   /* gcl_collector_init ran */
  int collecting;                     /* atomic: a collection runs (only its thread runs) */
  uint64_t long_lived_total;          /* gen2 size after the last full collection */
  uint64_t long_lived_pending;        /* objects moved into gen2 since */
  enum gcl_rcgen_policy policy;       /* the CPython version modelled (set at init) */
  /* 3.14 only (rc-gen-incremental.c; world stopped): the two old spaces are gens[1]
   * (tag 126) and gens[2] (tag 124); `visited` names the one increments move survivors
   * to, the other is the one they take objects from. */
  int visited;                        /* 1 or 2: the visited space's index in gens */
  int64_t work_to_do;                 /* CPython's gcstate->work_to_do */
  uint64_t increment_objects;         /* objects in all increments (young part included) */
  uint64_t scavenges;                 /* increments that emptied the pending space */
  bool young_thread;                  /* young collections are thread-local (set at init:
                                       * young=thread, or auto without the GIL; 3.12/3.13) */
  struct gcl_rcgen_local_stats local; /* local collections of detached threads (registry_lock) */
  struct gcl_rcgen_head local_old[GCL_RCGEN_NTAGS][2]; /* young=thread: [slot][0] gen1 and [1]
                                       * gen2 of that thread's local heap (tag = slot) */
  uint64_t escapes_at_shared;         /* escapes summed at the last shared collection
                                       * (world stopped) */
  int no_local_polls;                 /* atomic: stops wanted that need every local collection
                                       * finished (gc.collect, freeze): local polls wait */
  struct gcl_rcgen_stats stats;       /* every collection (world stopped) */
  struct gcl_rcgen_stats final_stats; /* of those, the ones at exit (not reported) */
};
extern struct gcl_rcgen_global gcl_rcgen;

/* What one collection did. */
struct pass {
  uint64_t finalizers;  /* finalizers it ran */
  uint64_t resurrected; /* unreachable objects that finalizers resurrected */
  uint64_t collected;   /* garbage objects it cleared */
  uint64_t scanned;     /* size of the set it examined */
  uint64_t unreachable; /* of those, found unreachable before finalizers ran */
  uint64_t freed;       /* objects freed while it cleared garbage (core/garbage.h) */
};

/* --- small helpers -------------------------------------------------------------------- */

static inline uintptr_t ld(const uintptr_t *p) { return gcl_rcgen_ld(p); }
static inline void st(uintptr_t *p, uintptr_t v) { gcl_rcgen_st(p, v); }
static inline struct gcl_rcgen_head *ptr(uintptr_t w) { return gcl_rcgen_ptr(w); }
static inline struct gcl_object *obj_of(struct gcl_rcgen_head *h) {
  return (struct gcl_object *)((char *)h + GCL_COLLECTOR_PREFIX_SIZE);
}
static inline struct gcl_rcgen_head *first(struct gcl_rcgen_head *l) { return ptr(ld(&l->next)); }

static inline struct gcl_mutator *mutator_of(struct gcl_collector_mutator *cm) {
  return (struct gcl_mutator *)((char *)cm - offsetof(struct gcl_mutator, collector));
}

/* Simple-layout, reference-table and counted-slot types (core/object.h: gcl_ref_range)
 * are walked here without an indirect call, in both walks and in both modes; only a type
 * with nothing but a trace hook costs an indirect call per reference. */
#define FOR_EACH_CHILD(o, c, body, visitor, ctx)                                   \
  do {                                                                               \
    const struct gcl_type *t_ = gcl_type_of(o);                                      \
    struct gcl_object **s_;                                                          \
    size_t n_ = gcl_ref_range((o), t_, &s_);                                         \
    if (n_) {                                                                        \
      for (size_t i_ = 0; i_ < n_; i_++) {                                           \
        struct gcl_object *c = __atomic_load_n(&s_[i_], __ATOMIC_RELAXED);           \
        if (c) body;                                                                 \
      }                                                                              \
    } else if (t_->trace) {                                                          \
      t_->trace((o), (visitor), (ctx));                                              \
    }                                                                                \
  } while (0)

/* --- lists (collector side: only with the world stopped or under the list's lock) ------ */

static inline void list_init(struct gcl_rcgen_head *l) {
  st(&l->next, (uintptr_t)l);
  st(&l->prev, (uintptr_t)l);
}

static inline bool list_empty(struct gcl_rcgen_head *l) { return first(l) == l; }

/* Append h with the given low bits in its two words. */
static inline void link_tail(struct gcl_rcgen_head *l, struct gcl_rcgen_head *h, uintptr_t nbits,
                      uintptr_t pbits) {
  struct gcl_rcgen_head *last = ptr(ld(&l->prev));
  st(&h->next, (uintptr_t)l | nbits);
  st(&h->prev, (uintptr_t)last | pbits);
  st(&last->next, (uintptr_t)h | (ld(&last->next) & GCL_RCGEN_LOW));
  st(&l->prev, (uintptr_t)h);
}

/* Move all of `from` to the end of `to`; every object keeps its own low bits. */
static inline void list_merge(struct gcl_rcgen_head *from, struct gcl_rcgen_head *to) {
  if (list_empty(from)) return;
  struct gcl_rcgen_head *head = first(from), *tail = ptr(ld(&from->prev));
  struct gcl_rcgen_head *to_tail = ptr(ld(&to->prev));
  st(&to_tail->next, (uintptr_t)head | (ld(&to_tail->next) & GCL_RCGEN_LOW));
  st(&head->prev, (uintptr_t)to_tail | (ld(&head->prev) & GCL_RCGEN_LOW));
  st(&tail->next, (uintptr_t)to | (ld(&tail->next) & GCL_RCGEN_LOW));
  st(&to->prev, (uintptr_t)tail);
  list_init(from);
}

/* Give every member of l the tag `tag`; returns how many there are. */
static inline uint64_t list_retag(struct gcl_rcgen_head *l, unsigned tag) {
  uint64_t n = 0;
  for (struct gcl_rcgen_head *h = first(l); h != l; h = ptr(ld(&h->next)), n++) {
    st(&h->next, (ld(&h->next) & ~GCL_RCGEN_LOW) | (tag & 0xF));
    st(&h->prev, (ld(&h->prev) & ~GCL_RCGEN_LOW) | ((tag >> 4) << 1));
  }
  return n;
}

static inline uint64_t list_size(struct gcl_rcgen_head *l) {
  uint64_t n = 0;
  for (struct gcl_rcgen_head *h = first(l); h != l; h = ptr(ld(&h->next))) n++;
  return n;
}

/* --- counts and limits (rc-gen.c; registry_lock held where the name says so) --------- */

int64_t gcl_rcgen_gen0_total_locked(void);
void gcl_rcgen_set_limit_locked(struct gcl_collector_mutator *cm, int64_t total);
void gcl_rcgen_reset_limits(void);
void gcl_rcgen_reset_counts(void);

/* The generation an automatic collection collects (CPython's gc_collect_generations;
 * registry_lock held or world stopped), -1 none. */
int gcl_rcgen_choose_generation(int64_t gen0_count);

/* CPython's heap_size: tracked objects now (sum of the per-thread counts). */
int64_t gcl_rcgen_heap_size(void);

/* Collect generation `gen`, world stopped, on m (rc-gen-collect.c); *out (may be NULL)
 * gets what it did. Under 3.14 generation 1 is one increment (rc-gen-incremental.c). */
void gcl_rcgen_collect(struct gcl_mutator *m, int gen, struct pass *out);
void gcl_rcgen_collect_region(struct gcl_mutator *m, struct gcl_rcgen_head *set, const bool *members,
                              struct gcl_rcgen_head *to, unsigned to_tag, bool far, struct pass *p);
/* Steps 2-4 on `set` (rc-gen-collect.c): `set` keeps the reachable part (tagged `tag`),
 * `unreachable` gets the rest; returns its size, *scanned the set's. */
uint64_t gcl_rcgen_deduce_unreachable(struct gcl_rcgen_head *set, struct gcl_rcgen_head *unreachable,
                                      const bool *members, unsigned tag, bool far, uint64_t *scanned);
/* The same for a local collection of m's own heap, world running: polls for stops
 * requested by other threads every 64 objects (rc-gen-local.c says why that is safe). */
uint64_t gcl_rcgen_deduce_unreachable_polled(struct gcl_mutator *m, struct gcl_rcgen_head *set,
                                             struct gcl_rcgen_head *unreachable, const bool *members,
                                             unsigned tag, bool far, uint64_t *scanned);
/* Step 8 (rc-gen-collect.c): what stays alive goes to `old`, tagged old_tag. */
void gcl_rcgen_delete_garbage(struct gcl_mutator *m, struct gcl_rcgen_head *garbage,
                              struct gcl_rcgen_head *old, unsigned old_tag);

/* rc-gen-local.c: the allocation slow path of young=thread (local collections, and the
 * shared heap's stop-the-world ones); false when not in that mode. */
bool gcl_rcgen_local_slow(struct gcl_collector_mutator *cm);
/* Whether stop-the-world collections take the shared heap only (young=thread, barrier on). */
bool gcl_rcgen_shared_only(void);
/* Escapes summed over every thread (registry_lock held). */
uint64_t gcl_rcgen_escapes_total_locked(void);
/* The shared heap's young count (registry_lock held; young=thread, barrier on): escapes,
 * detached threads' counts and the counts of threads without a slot since its last
 * collection; and its reset, at a shared collection (world stopped, registry_lock held). */
int64_t gcl_rcgen_shared_young_locked(void);
void gcl_rcgen_shared_young_reset_locked(void);
/* A local collection's poll (rc-gen-local.c): serves a stop requested by another thread,
 * unless one that needs every local collection finished is wanted (no_local_polls). */
void gcl_rcgen_local_poll(struct gcl_mutator *m);
static inline void local_poll(struct gcl_mutator *m) {
  if (m && GCL_UNLIKELY(__atomic_load_n(&gcl_stop_requested, __ATOMIC_RELAXED))) gcl_rcgen_local_poll(m);
}
/* Stop the world with no thread parked inside its local collection (gc.collect, freeze,
 * whose escape of every local heap needs them finished); gcl_rcgen_start_world_all ends it. */
void gcl_rcgen_stop_world_all(struct gcl_mutator *m);
void gcl_rcgen_start_world_all(struct gcl_mutator *m);
/* World stopped: every thread's local heap joins the shared one (before a collection of
 * everything: gcl_collect, freeze). */
void gcl_rcgen_escape_all(void);
/* A detaching thread hands its local gen1/gen2 to the shared ones (its gen0: rc-gen.c). */
void gcl_rcgen_local_detach(struct gcl_collector_mutator *cm);
/* Switch the escape barrier on (world stopped, or before any thread attached): every
 * object made so far becomes shared (the gen0 lists move to the shared one). */
void gcl_rcgen_escapes_on(void);
/* Add a thread's local figures to s (registry_lock held). */
void gcl_rcgen_local_add(struct gcl_rcgen_stats *s, const struct gcl_rcgen_local_stats *l);
/* A relaxed read of a thread's local figures (its owner writes them). */
void gcl_rcgen_local_read(const struct gcl_rcgen_local_stats *from, struct gcl_rcgen_local_stats *to);

/* 3.14's gc_collect_young / gc_collect_increment / gc_collect_full for gen 0 / 1 / 2. */
void gcl_rcgen_collect_314(struct gcl_mutator *m, int gen, struct pass *p);

#endif
