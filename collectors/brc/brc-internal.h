/* SPDX-License-Identifier: MIT */
/* collectors/brc/brc-internal.h — what brc.c (threads, merge queues, counts) and brc-gc.c
 * (the cycle collector) share. Not for workloads or tests: they use brc-attrs.h. */
#ifndef GCL_BRC_INTERNAL_H
#define GCL_BRC_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <urcu/wfcqueue.h>

#include "mutator.h"

/* Bit of gcl_mutator.safepoint_work (next to brc-attrs.h's MERGE and COLLECT): a
 * collection handed this thread garbage to clear (brc-gc.c gcl_brc_clear_handed). */
#define GCL_BRC_WORK_CLEAR 0x4

/* Garbage an automatic collection found among one thread's objects, handed to that thread
 * to clear at its next safepoint (brc-gc.c): each object unreachable, its counts merged,
 * holding one reference of the collection's. */
struct gcl_brc_clear_batch {
  struct gcl_brc_clear_batch *next; /* the next batch handed to the same thread */
  size_t n;                         /* objects in obj */
  struct gcl_object *obj[];         /* the garbage */
};

/* One attached thread: its id in the registry and the queue of objects other threads
 * handed to it. Enqueued by any online thread (wait-free); dequeued only by its thread at
 * a safepoint or at detach, or by a collector while the world is stopped (never both).
 * Garbage batches are pushed by a collecting thread while online (world running) and
 * taken, all at once, by the thread itself (atomic exchange) at a safepoint or at detach,
 * after the grace period that ends every push that found it in the registry. */
struct gcl_brc_thread {
  struct __cds_wfcq_head head; /* merge queue (liburcu wait-free concurrent queue) */
  struct cds_wfcq_tail tail;   /* its tail */
  struct gcl_brc_clear_batch *handed; /* atomic: garbage batches to clear (a stack) */
  bool clearing;               /* this thread is clearing a collection's garbage: its
                                * container frees are not counted (gcl_brc_alloc_batch);
                                * read and written by the thread only */
  struct gcl_mutator *m;       /* the thread's mutator */
  uint32_t tid;                /* its id */
};

/* --opt brc.trigger: CPython 3.13t's count rule, or 3.14t's count rule that also skips a
 * collection unless memory grew by 10% since the last one (brc.c). */
enum gcl_brc_trigger { GCL_BRC_TRIGGER_COUNT, GCL_BRC_TRIGGER_MEMORY };
/* What the memory trigger measured: the allocator's committed bytes where it reports
 * them (gcl_allocator_committed_bytes), else the process's RSS (as CPython). */
enum gcl_brc_mem_source { GCL_BRC_MEM_NONE, GCL_BRC_MEM_COMMITTED, GCL_BRC_MEM_RSS };

/* Memory now for the memory trigger, and where it came from (brc.c); -1 if unreadable. */
int64_t gcl_brc_memory_now(enum gcl_brc_mem_source *source);

/* Process-wide state of the collector (brc.c owns it; fields are atomic or under the
 * named lock). */
struct gcl_brc_global {
  pthread_mutex_t gc_lock;     /* one collection at a time; held across the whole of it */
  int64_t young_count;         /* atomic: container allocations - frees since the last
                                * collection stopped the world (reset inside its stop) */
  uint64_t long_lived_total;   /* atomic: containers that survived the last collection */
  int auto_collect;            /* atomic: automatic collections on (gc.enable) */
  int trigger;                 /* enum gcl_brc_trigger (--opt brc.trigger), set at init */
  bool parallel;               /* --opt brc.parallel, set at init: parallel rounds (brc-mark.c) */
  bool owner_clear;            /* --opt brc.owner_clear, set at init: owners clear their
                                * garbage (brc-gc.c clear_garbage) */
  int64_t last_mem;            /* atomic: memory measured after the last collection (bytes;
                                * 0: none yet), for the memory trigger */
  int mem_source;              /* atomic: enum gcl_brc_mem_source of the last measurement */
  uint64_t deferred;           /* atomic: collections the memory trigger skipped */
  pthread_mutex_t stats_lock;  /* guards stats (never held across anything else) */
  struct gcl_brc_stats stats;  /* figures since the process started */
};
extern struct gcl_brc_global gcl_brc;

static inline struct gcl_mutator *gcl_brc_mutator_of(struct gcl_collector_mutator *cm) {
  return (struct gcl_mutator *)((char *)cm - offsetof(struct gcl_mutator, collector));
}

/* The true count of a live object (not immortal), queue references included. Exact only
 * when no other thread changes it: the world is stopped. */
static inline intptr_t gcl_brc_true_count(const struct gcl_object *o) {
  const struct gcl_brc_prefix *p = gcl_brc_prefix_of(o);
  intptr_t c = gcl_brc_shared(o) >> GCL_BRC_SHARED_SHIFT;
  if (p->owner == GCL_BRC_OWNER_DEFERRED) return c - GCL_BRC_DEFERRED_BIAS;
  return c + (intptr_t)(p->ref_local & GCL_BRC_LOCAL_MASK);
}

/* Merge o's counts into its shared word (state merged, no owner), adding `extra`; returns
 * the true count after it. Only by the owner, by a thread that found the owner gone, or
 * with the world stopped. */
intptr_t gcl_brc_merge(struct gcl_object *o, intptr_t extra);

/* Dequeue every object queued to t and pass each to fn. */
void gcl_brc_drain(struct gcl_brc_thread *t, void (*fn)(struct gcl_object *o, void *ctx), void *ctx);

/* A full collection by m (brc-gc.c). explicit: wait for a collection in progress, then run
 * one; otherwise give up if one is running. Returns false if none ran. */
bool gcl_brc_collect(struct gcl_mutator *m, bool explicit);

/* brc-gc.c: clear the garbage collections handed to m (m's own safepoint or detach). */
void gcl_brc_clear_handed(struct gcl_mutator *m);

/* brc.c: hand batch b to the thread with id tid, which clears it at its next safepoint;
 * false if no such thread is attached (the caller clears it). The caller is online. */
bool gcl_brc_hand_garbage(uint32_t tid, struct gcl_brc_clear_batch *b);

/* Walk every object the allocator holds that is not dead (brc-gc.c); world stopped. */
void gcl_brc_walk(void (*fn)(struct gcl_object *o, void *ctx), void *ctx);

#endif
