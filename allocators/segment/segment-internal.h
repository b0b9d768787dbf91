/* SPDX-License-Identifier: MIT */
/* allocators/segment/segment-internal.h — what the segment allocator's cold-path files
 * share: the process-wide state (one mutex for every cold list), the OS layer of
 * segment-os.c and the statistics counters. Not included by the fast paths.
 *
 * Invariants (under gcl_segment_g.lock unless said otherwise):
 *  - reg[0..nreg) lists every segment owned by a heap or abandoned (not cached ones);
 *    s->reg_index is its slot. Walks copy it and walk the copy without the lock.
 *  - While walkers > 0 no segment or large mapping is unmapped: unmaps are queued on
 *    `deferred` and done by the last walker to finish (or the next unmap with none).
 *  - Cached segments are empty, unowned, decommitted except their header, and keep each
 *    page's version (a walker holding an old copy of reg[] may still read them).
 *  - `nabandoned` mirrors the length of the abandoned list; it is read without the lock
 *    (a hint) so that the slow path takes the lock only when there is something to reclaim.
 *  - Statistics are atomics updated on cold paths only. */
#ifndef GCL_SEGMENT_INTERNAL_H
#define GCL_SEGMENT_INTERNAL_H

#include <pthread.h>

#include "allocator.h"

#define GCL_SEGMENT_CACHE_MAX 4        /* empty segments kept mapped */
#define GCL_SEGMENT_EXTEND_BYTES 8192  /* bytes of blocks carved at a time (at least one) */
#define GCL_SEGMENT_REVIVE_SCAN 8      /* retired pages looked at for one of the wanted class */
/* Bytes of a segment's header that are touched (counted as committed). */
#define GCL_SEGMENT_HEADER_COMMIT ((sizeof(struct gcl_segment) + 4095) & ~(size_t)4095)

/* A block above SMALL_MAX: its own mapping, this header first (32 bytes, so the caller's
 * memory is 16-byte aligned). */
struct gcl_segment_large {
  struct gcl_segment_large *next, *prev; /* the large list (under the lock) */
  size_t bytes;                          /* the request */
  size_t mapped;                         /* bytes of the mapping */
};

/* One mapping whose munmap waits for the walkers. */
struct gcl_segment_unmap {
  void *addr; /* start */
  size_t len; /* bytes */
};

struct gcl_segment_global {
  pthread_mutex_t lock;                  /* every cold list below */
  struct gcl_segment **reg;              /* live segments (owned or abandoned) */
  size_t nreg, capreg;                   /* in use, allocated */
  struct gcl_segment *abandoned;         /* segments of exited threads */
  uint64_t nabandoned;                   /* atomic: its length (read as a hint) */
  struct gcl_segment *cache;             /* empty segments kept mapped */
  unsigned ncache;                       /* their number */
  struct gcl_segment_large *large;       /* live large blocks */
  size_t nlarge;                         /* their number */
  unsigned walkers;                      /* walks in progress */
  struct gcl_segment_unmap *deferred;    /* unmaps waiting for walkers == 0 */
  size_t ndeferred, capdeferred;         /* in use, allocated */
  uint32_t next_id;                      /* atomic: last heap id handed out */
};
extern struct gcl_segment_global gcl_segment_g;

/* Process-wide figures (atomics; see struct gcl_segment_stats for meanings). */
struct gcl_segment_counters {
  uint64_t segments, segments_peak;      /* segments owned or abandoned */
  uint64_t pages, pages_peak;            /* pages holding a class */
  uint64_t committed, committed_peak;    /* committed bytes */
  uint64_t live;                         /* bytes in allocated blocks (flushed; two's complement) */
  uint64_t frag_at_peak;                 /* committed/live x 1e6 at the committed peak */
  uint64_t remote_frees, abandoned, reclaimed, decommitted, large_allocs;
  uint64_t numa_mask, numa_bind_failures;
};
extern struct gcl_segment_counters gcl_segment_c;

void gcl_segment_lock(void);
void gcl_segment_unlock(void);
uint64_t gcl_segment_count_add(uint64_t *v, int64_t d);      /* atomic add; returns new value */
void gcl_segment_count_up(uint64_t *v, uint64_t *peak, uint64_t d); /* add, raise the peak */
void gcl_segment_sample_fragmentation(void);

/* segment-os.c */
struct gcl_segment *gcl_segment_os_new(struct gcl_allocator_mutator *am); /* owned, registered */
void gcl_segment_os_release(struct gcl_segment *s);      /* empty: to the cache or the OS */
void gcl_segment_os_abandon(struct gcl_segment *s);      /* unowned, onto the abandoned list */
struct gcl_segment *gcl_segment_os_reclaim_pop(void);    /* one abandoned segment or NULL */
void gcl_segment_os_decommit(void *addr, size_t len);    /* madvise(DONTNEED), counted */
void gcl_segment_os_numa_lookup(struct gcl_allocator_mutator *am);
int gcl_segment_os_init(void);

/* A copy of the registry and the large list for a walk (walkers++ while it exists). */
struct gcl_segment_snapshot {
  struct gcl_segment **segs;             /* the segments */
  size_t nsegs;                          /* their number */
  struct gcl_segment_large **large;      /* the large blocks */
  size_t nlarge;                         /* their number */
};
int gcl_segment_snapshot_take(struct gcl_segment_snapshot *snap);
void gcl_segment_snapshot_drop(struct gcl_segment_snapshot *snap);

#endif
