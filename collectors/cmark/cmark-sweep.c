/* SPDX-License-Identifier: MIT */
/* collectors/cmark/cmark-sweep.c — concurrent mode's sweep (cmark-conc.c step 5), in
 * chunks, so memory comes back while it runs, and the mutators' sweep assists:
 *
 *   walk pages (gcl_allocator_walk_concurrent, no lock held) listing every block whose
 *   word is an older epoch, until the list holds cmark.sweep_chunk candidates and the
 *   walk reaches the next page; a ragged handshake (every allocation that was in flight
 *   while this chunk was walked has finished); free the candidates still garbage
 *   (gcl_free_unowned, remote pushes; live bytes merged every CMARK_SWEEP_POLL frees);
 *   wake the paced waits (cmark-pace.c), which go on as soon as the live bytes leave room;
 *   walk on. The last chunk ends with the walk.
 *
 * Why the per-chunk handshake is enough (the in-flight race of the whole-heap sweep,
 * applied to a chunk): a candidate of chunk k was listed after handshake k-1 and is freed
 * after handshake k. A block that was being allocated when it was visited (handed out,
 * word not yet written: a stale old epoch) has finished its allocation by handshake k
 * (its thread passed a safepoint, and no safepoint is inside an allocation), so its word
 * is the current epoch and the re-check (cmark_is_garbage) keeps it. A real garbage block
 * is freed by nobody but us, so it stays allocated, and its page stays in the same
 * incarnation (used > 0), from before the walk until we free it; every page's visits,
 * and its retraction (mem NULL: re-initialised while visited), are over before its
 * chunk is freed (a chunk closes only at the first visit of a later page), and the walk
 * never comes back to a page. So freeing chunk k cannot disturb the walk of chunk k+1,
 * and a page re-used by its owner after we freed blocks on it is one the walk has passed.
 *
 * The handshake costs every attached thread one safepoint (its callback does nothing) and
 * the requester the time to the last acknowledgement; it is counted (sweep_chunks,
 * sweep_sync_s). Thread 0 also calls gcl_safepoint every CMARK_SWEEP_POLL / 16 pages and
 * every CMARK_SWEEP_POLL frees: between pages the walk holds only its snapshot (which
 * delays unmaps), so nothing here depends on the world not stopping.
 *
 * Sweep assists (allocator capability heap-walk-own): while the sweep runs
 * (gcl_cmark_conc.sweep_epoch set), a mutator past the limit sweeps its own pages itself,
 * in bounded increments (cmark_sweep_assist, below). Every page is claimed before any of
 * its block words is read, by the walk's visitor at its first visit of the page, or by
 * the owner's assist (gcl_allocator_page_claim: one CAS on the page's claim word, one
 * winner per page and epoch), and only the winner lists or frees the page's blocks, so no
 * page is swept twice. The chunk argument above is unchanged for the pages the sweeper
 * wins; a page the assist wins is skipped whole (its retraction call included).
 *
 * stw mode frees with the same cmark_sweep_garbage after its world-stopped walk
 * (cmark-gc.c): one chunk, no handshake (nothing is in flight). Macros: only with an
 * allocator providing heap-walk-concurrent does the walk exist, and only with
 * heap-walk-own (GCL_ALLOCATOR_WALK_OWN) are there sweep assists. */
#define _GNU_SOURCE
#include "allocator.h"
#include "cmark-internal.h"
#include "event.h"
#include "pause.h"
#include "stats.h"

void (*cmark_conc_test_sweep_chunk)(void); /* tests: called on thread 0 after each chunk */
void (*cmark_conc_test_sweep_open)(void); /* tests: thread 0, sweep open, before its walk */
#if GCL_ALLOCATOR_WALK_OWN
#define CMARK_SWEEP_ASSISTS 1 /* the allocator lets a thread claim and walk its own pages */
#else
#define CMARK_SWEEP_ASSISTS 0
#endif


#if GCL_ALLOCATOR_HEAP_WALK_CONCURRENT
/* The walk's read of a block's word is speculative: the block may be in the middle of its
 * allocation (the owner's plain initialising stores), so under TSan the read is excluded
 * from race detection. Nothing is decided on it: the block is freed only if the re-read
 * after its chunk's handshake (which orders every such allocation before it) agrees. */
#if defined(__SANITIZE_THREAD__)
void AnnotateIgnoreReadsBegin(const char *file, int line);
void AnnotateIgnoreReadsEnd(const char *file, int line);
#define SPECULATIVE_READS_BEGIN() AnnotateIgnoreReadsBegin(__FILE__, __LINE__)
#define SPECULATIVE_READS_END() AnnotateIgnoreReadsEnd(__FILE__, __LINE__)
#else
#define SPECULATIVE_READS_BEGIN() ((void)0)
#define SPECULATIVE_READS_END() ((void)0)
#endif

/* Under ASan the block may also be free and poisoned by its owner meanwhile (it stays
 * mapped: the walk's guarantee 4), so the read is not instrumented either. */
#if defined(__SANITIZE_ADDRESS__)
__attribute__((no_sanitize_address))
#endif
static uintptr_t speculative_word(const struct gcl_object *o) {
  return *(const volatile uintptr_t *)&o->gcl_word;
}

/* The sweep walk's state. */
struct sweep_walk {
  void *page;             /* the page of the last visit (NULL before the first) */
  size_t start;           /* gcl_cmark.garbage.n before that page's first visit */
  struct gcl_mutator *m;  /* thread 0, which polls a safepoint every few pages */
  unsigned pages;         /* pages (and large blocks) visited so far */
  size_t chunk;           /* candidates that close a chunk (cmark.sweep_chunk) */
  bool skip;              /* that page was claimed by a sweep assist (its owner sweeps it) */
};

/* Close a chunk: handshake, free what is still garbage, wake the paced waits. */
static void free_chunk(struct gcl_mutator *m) {
  uint64_t t0 = gcl_now_ns();
  gcl_event_phase_start("sweep-sync");
  gcl_handshake(m, cmark_hs_nothing, NULL); /* this chunk's allocations in flight are done */
  gcl_event_phase_end("sweep-sync");
  cmark_fig_add(&gcl_cmark.fig.sweep_sync_ns, gcl_now_ns() - t0);
  cmark_fig_add(&gcl_cmark.fig.sweep_chunks, 1);
  cmark_sweep_garbage(m);
  cmark_conc_memory_back();
  if (cmark_conc_test_sweep_chunk) cmark_conc_test_sweep_chunk();
}

/* A visit, or (mem NULL) the walk's word that `page` was re-initialised during its visits:
 * their offsets may have been stale (inside a new block, a small integer reads as an old
 * epoch), so that page's candidates are dropped. A real garbage block keeps its page's
 * used count above 0 until we free it, so its page cannot be re-initialised meanwhile: it
 * is never dropped. At the first visit of a new page every earlier page is done
 * (retraction included): a full chunk is closed there. */
static bool find_garbage(void *page, void *mem, size_t bytes, void *ctx) {
  (void)bytes;
  struct sweep_walk *sw = ctx;
  if (page != sw->page) {
    /* Between two pages the walk holds no lock (only its snapshot: unmaps wait for it),
     * so a stop may proceed; nothing here depends on the world not stopping. */
    if ((++sw->pages & (CMARK_SWEEP_POLL / 16 - 1)) == 0) gcl_safepoint(sw->m);
    if (gcl_cmark.garbage.n >= sw->chunk) free_chunk(sw->m);
    sw->page = page;
    sw->start = gcl_cmark.garbage.n;
    /* The claim (heap-walk-own): before any block word of the page is read, so a page
     * its owner's sweep assist claimed is neither read nor freed here, and one claimed
     * here is skipped by the assists. */
    sw->skip = !gcl_allocator_page_claim(page, (uint32_t)__atomic_load_n(&gcl_cmark_epoch, __ATOMIC_RELAXED));
  }
  if (sw->skip) return true;
  if (!mem) {
    gcl_cmark.garbage.n = sw->start;
    return true;
  }
  struct gcl_object *o = (struct gcl_object *)((char *)mem + GCL_COLLECTOR_PREFIX_SIZE);
  SPECULATIVE_READS_BEGIN();
  uintptr_t w = speculative_word(o);
  SPECULATIVE_READS_END();
  bool candidate = w >= CMARK_FIRST_EPOCH && w < __atomic_load_n(&gcl_cmark_epoch, __ATOMIC_RELAXED);
  if (candidate) cmark_stack_push(&gcl_cmark.garbage, o);
  return true;
}
#endif

void cmark_conc_sweep(struct gcl_mutator *m) {
  uint64_t cpu0 = cmark_thread_cpu_ns();
  gcl_event_phase_start("sweep");
  gcl_cmark.garbage.n = 0;
#if GCL_ALLOCATOR_HEAP_WALK_CONCURRENT
  struct sweep_walk sw = {NULL, 0, m, 0, gcl_cmark.sweep_chunk, false};
  /* Sweep assists may claim pages from here (the epoch is fixed until the next cycle's
   * barrier-on handshake, which waits for every increment to end); wake the paced waits. */
  __atomic_store_n(&gcl_cmark_conc.sweep_epoch, __atomic_load_n(&gcl_cmark_epoch, __ATOMIC_RELAXED), __ATOMIC_SEQ_CST);
  cmark_conc_memory_back();
  if (cmark_conc_test_sweep_open) cmark_conc_test_sweep_open();
  if (gcl_allocator_walk_concurrent(find_garbage, &sw) >= 0) {
    if (gcl_cmark.garbage.n > 0) free_chunk(m); /* the last chunk */
  } /* else: no snapshot (ENOMEM), nothing visited; the next cycle finds this garbage */
  __atomic_store_n(&gcl_cmark_conc.sweep_epoch, 0, __ATOMIC_SEQ_CST);
#else
  (void)m;
#endif
  gcl_cmark.garbage.n = 0;
  gcl_event_phase_end("sweep");
  cmark_fig_add(&gcl_cmark.fig.sweeper_cpu_ns, cmark_thread_cpu_ns() - cpu0);
}

/* --- sweep assists (heap-walk-own) ---------------------------------------------------------
 * A mutator past the limit while the sweep runs sweeps its own pages (cmark-pace.c calls
 * this from its stall loop, at a safepoint of the mutator, outside every allocation). Each
 * call is one bounded increment: pages claimed one at a time (gcl_allocator_walk_own) for
 * at most CMARK_SWEEP_ASSIST_NS or CMARK_SWEEP_ASSIST_PAGES pages, at least one page; one
 * page is at most 4096 blocks (16-byte class), a few hundred microseconds at worst. Why
 * no handshake is needed on its own pages: only their owner allocates on them, and it is
 * here, not allocating; so every block with its bit set finished its allocation (its word
 * is an epoch written by gcl_collector_on_alloc), and a word of an older epoch is garbage
 * (unmarked at the remark, which cleared its weak references and resurrected it if
 * finalizable; allocate-black since the epoch began). No page of ours can be re-initialised
 * meanwhile (only we initialise our pages), and other threads only push remote frees onto
 * them (the walk subtracts those). The frees are remote pushes (gcl_free_unowned): they
 * change none of our page lists while we walk them. */
#define CMARK_SWEEP_ASSIST_NS 100000 /* an increment claims no further page after this */
#define CMARK_SWEEP_ASSIST_PAGES 8   /* nor more than this many pages */

static __thread uint32_t own_swept; /* the epoch for which this thread has no page left */
/* Where this thread's walk of its own pages resumes: valid only while it allocates
 * nothing, i.e. within one cycle's stall (cmark-pace.c's stall_on zeroes it at entry). */
static __thread struct gcl_allocator_own_cursor own_cursor;

void cmark_sweep_assist_restart(void) { own_cursor = (struct gcl_allocator_own_cursor){NULL, 0}; }

struct own_sweep {
  struct gcl_thread_stats st; /* what this increment freed (merged at its end) */
  uint64_t freed;             /* objects freed */
};

static void free_own_garbage(void *mem, size_t bytes, void *ctx) {
  (void)bytes;
  struct own_sweep *os = ctx;
  struct gcl_object *o = (struct gcl_object *)((char *)mem + GCL_COLLECTOR_PREFIX_SIZE);
  if (!cmark_is_garbage(o)) return;
  gcl_free_unowned(&os->st, o);
  os->freed++;
}

bool cmark_sweep_assist_pending(void) {
  uintptr_t e = __atomic_load_n(&gcl_cmark_conc.sweep_epoch, __ATOMIC_SEQ_CST);
  return CMARK_SWEEP_ASSISTS && gcl_cmark.sweep_assist && e != 0 && (uint32_t)e != own_swept;
}

bool cmark_sweep_assist(struct gcl_mutator *m) {
  /* One load: the sweep may close meanwhile (then 0), and an increment must claim for
   * the epoch it tested, never for 0 (which would re-claim the sweeper's pages). */
  uintptr_t se = __atomic_load_n(&gcl_cmark_conc.sweep_epoch, __ATOMIC_SEQ_CST);
  uint32_t e = (uint32_t)se;
  if (!CMARK_SWEEP_ASSISTS || !gcl_cmark.sweep_assist || se == 0 || e == own_swept) return false;
  uint64_t t0 = gcl_now_ns();
  struct own_sweep os = {{0}, 0};
  unsigned pages = 0;
  /* Loop invariant: the `pages` pages claimed so far were swept whole; the increment has
   * not yet run past its time or page cap, and no stop or handshake asked for this thread
   * since its last page (the caller's safepoint serves it between increments, as
   * cmark-pace.c's mark assist does; found in review). */
  while (pages < CMARK_SWEEP_ASSIST_PAGES &&
         (pages == 0 || (gcl_now_ns() - t0 < CMARK_SWEEP_ASSIST_NS && !cmark_safepoint_wanted(m)))) {
    if (gcl_allocator_walk_own(&m->allocator, e, 1, &own_cursor, free_own_garbage, &os) == 0) {
      own_swept = e; /* every page of ours is claimed for this sweep */
      break;
    }
    pages++;
  }
  cmark_sweep_merge(&os.st); /* the live bytes fall now: room_again sees them */
  if (pages == 0) return false;
  gcl_event_thread_pause("assist", t0);
  cmark_fig_add(&gcl_cmark.fig.sweep_assists, 1);
  cmark_fig_add(&gcl_cmark.fig.sweep_assist_ns, gcl_now_ns() - t0);
  cmark_fig_add(&gcl_cmark.fig.sweep_assist_pages, pages);
  cmark_fig_add(&gcl_cmark.fig.sweep_assist_objects, os.freed);
  cmark_conc_memory_back(); /* other paced waits look at the live bytes again */
  return true;
}
