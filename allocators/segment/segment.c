/* SPDX-License-Identifier: MIT */
/* allocators/segment/segment.c — the per-thread heap of the segment allocator: the slow
 * path of allocation (class queues, collecting local and remote frees, fresh pages, full
 * pages), the owner's free slow path, frees by other threads, delayed decommit of free
 * pages, and thread exit (abandon) and reclaim of segments. Layout and fast paths are in
 * segment-attrs.h; mappings in segment-os.c; walks and figures in segment-walk.c.
 *
 * Invariants (per heap, touched only by its thread):
 *  - Class queue c (am->page[c] ... am->last[c], linked by next/prev) holds the pages of
 *    class c that are in use and not on the full list; am->page[c] is its head, or
 *    &gcl_segment_empty_page when it is empty (then am->last[c] == NULL).
 *  - A page with PAGE_FULL is on am->full and on no queue; it had no free, local or
 *    carvable block when it went there. A remote free into it sets its segment's
 *    remote_pending (seq_cst handshake with to_full), so it is found again.
 *  - The retired list holds free, committed pages of the heap's segments, oldest first;
 *    each is decommitted once both GCL_SEGMENT_DECOMMIT_DELAY page events and
 *    GCL_SEGMENT_DECOMMIT_MS milliseconds have passed since it became free (checked at
 *    page events; the list is in retirement order for both clocks).
 *  - A page is free (in_use == 0) exactly when its bit is set in its segment's free_mask;
 *    a free page has no allocation bit set and block_size == 0.
 *  - A segment whose pages are all free is released (to the cache), except a heap's last,
 *    when one of its pages is decommitted (not at once: its pages are reused first).
 * Macros: GCL_SEGMENT_COUNT_OPS (counts RMWs and lock acquisitions, segment-attrs.h),
 * GCL_SEGMENT_DECOMMIT_MS (segment-attrs.h). */
#include <string.h>
#include <time.h>

#include "segment-internal.h"

struct gcl_segment_page gcl_segment_empty_page;
#ifdef GCL_SEGMENT_COUNT_OPS
_Thread_local struct gcl_segment_ops gcl_segment_ops;
#endif

static char *page_start(struct gcl_segment_page *pg) {
  struct gcl_segment *s = gcl_segment_of(pg);
  return (char *)s + (size_t)(pg - s->pages) * GCL_SEGMENT_PAGE_SIZE;
}

/* --- lists -------------------------------------------------------------------------------- */

static void queue_push(struct gcl_allocator_mutator *am, struct gcl_segment_page *pg, bool front) {
  unsigned c = pg->cls;
  if (!am->last[c]) {
    pg->next = pg->prev = NULL;
    am->page[c] = am->last[c] = pg;
  } else if (front) {
    pg->prev = NULL;
    pg->next = am->page[c];
    am->page[c]->prev = pg;
    am->page[c] = pg;
  } else {
    pg->next = NULL;
    pg->prev = am->last[c];
    am->last[c]->next = pg;
    am->last[c] = pg;
  }
}

static void queue_remove(struct gcl_allocator_mutator *am, struct gcl_segment_page *pg) {
  unsigned c = pg->cls;
  if (pg->prev) pg->prev->next = pg->next;
  else am->page[c] = pg->next ? pg->next : &gcl_segment_empty_page;
  if (pg->next) pg->next->prev = pg->prev;
  else am->last[c] = pg->prev;
}

static void full_remove(struct gcl_allocator_mutator *am, struct gcl_segment_page *pg) {
  if (pg->prev) pg->prev->next = pg->next;
  else am->full = pg->next;
  if (pg->next) pg->next->prev = pg->prev;
}

static void retired_remove(struct gcl_allocator_mutator *am, struct gcl_segment_page *pg) {
  if (pg->prev) pg->prev->next = pg->next;
  else am->retired_first = pg->next;
  if (pg->next) pg->next->prev = pg->prev;
  else am->retired_last = pg->prev;
}

/* Coarse monotonic milliseconds (vDSO, no syscall; a few ms of resolution is enough for a
 * delay of hundreds of ms). Wraps after 49 days: only differences are used. */
static uint32_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
  return (uint32_t)((uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u);
}

static void retired_append(struct gcl_allocator_mutator *am, struct gcl_segment_page *pg) {
  pg->retired_at = (uint32_t)am->page_events;
  pg->retired_ms = now_ms();
  pg->next = NULL;
  pg->prev = am->retired_last;
  if (am->retired_last) am->retired_last->next = pg;
  else am->retired_first = pg;
  am->retired_last = pg;
}

/* --- pages ---------------------------------------------------------------------------------- */

/* Take remote frees into local_free (clearing their bits), then, if the page has no free
 * block, make local_free its free list. The exchange is done only when the stack looks
 * non-empty, so an idle page costs one load. */
static void page_collect(struct gcl_allocator_mutator *am, struct gcl_segment_page *pg) {
  if (__atomic_load_n(&pg->thread_free, __ATOMIC_RELAXED)) {
    GCL_SEGMENT_COUNT(rmws);
    struct gcl_segment_block *b = __atomic_exchange_n(&pg->thread_free, NULL, __ATOMIC_ACQUIRE);
    size_t size = gcl_segment_class_size(pg->cls);
    uint32_t n = 0;
    /* Loop invariant: blocks before b are in local_free, poisoned, their bits clear. */
    while (b) {
      struct gcl_segment_block *next = gcl_segment_link_get(b);
      gcl_segment_bit_put(pg, b, false);
      GCL_SEGMENT_POISON(b, size);
      gcl_segment_link_set(b, pg->local_free);
      pg->local_free = b;
      b = next;
      n++;
    }
    GCL_ASSERT(n <= pg->used);
    pg->used -= n;
    am->live_bytes -= (int64_t)n * (int64_t)size;
  }
  if (!pg->free) {
    pg->free = pg->local_free;
    pg->local_free = NULL;
  }
}

/* Carve up to EXTEND_BYTES of never-used blocks into the (empty) free list. */
static void page_extend(struct gcl_segment_page *pg) {
  size_t size = gcl_segment_class_size(pg->cls);
  uint32_t n = (uint32_t)(GCL_SEGMENT_EXTEND_BYTES / size);
  if (n == 0) n = 1;
  if (n > pg->reserved - pg->capacity) n = pg->reserved - pg->capacity;
  char *first = page_start(pg) + (size_t)pg->capacity * size;
  for (uint32_t i = 0; i < n; i++) {
    struct gcl_segment_block *b = (struct gcl_segment_block *)(first + (size_t)i * size);
    gcl_segment_link_set(b, i + 1 < n ? (struct gcl_segment_block *)((char *)b + size) : NULL);
  }
  pg->free = (struct gcl_segment_block *)first;
  pg->capacity += n;
}

/* A free page of segment s becomes a page of class cls. The version is bumped before the
 * class is published (seqlock writer side; segment-walk.c is the reader). */
static void page_init(struct gcl_segment *s, struct gcl_segment_page *pg, unsigned cls) {
  unsigned i = (unsigned)(pg - s->pages);
  size_t size = gcl_segment_class_size(cls);
  if (!pg->committed) {
    pg->committed = 1;
    gcl_segment_count_up(&gcl_segment_c.committed, &gcl_segment_c.committed_peak,
                         GCL_SEGMENT_PAGE_SIZE);
  }
  uint32_t v = __atomic_load_n(&pg->version, __ATOMIC_RELAXED);
  __atomic_store_n(&pg->version, v + 1, __ATOMIC_RELAXED);
  /* release: a walker that reads this size (acquire) reads the new version after it */
  __atomic_store_n(&pg->block_size, (uint32_t)size, __ATOMIC_RELEASE);
  pg->cls = (uint8_t)cls;
  pg->reserved = (uint32_t)(GCL_SEGMENT_PAGE_SIZE / size);
  pg->capacity = pg->used = 0;
  pg->free = pg->local_free = NULL;
  GCL_ASSERT(__atomic_load_n(&pg->thread_free, __ATOMIC_RELAXED) == NULL);
  pg->in_use = 1;
  s->used_pages++;
  s->free_mask &= ~((uint64_t)1 << i);
  gcl_segment_count_up(&gcl_segment_c.pages, &gcl_segment_c.pages_peak, 1);
}

/* A retired page of the same class becomes used again as it is: its free lists hold every
 * block it carved (all free), so nothing is carved again. The version is bumped as in
 * page_init, so a walker treats it as a new incarnation. */
static void page_revive(struct gcl_segment *s, struct gcl_segment_page *pg) {
  uint32_t v = __atomic_load_n(&pg->version, __ATOMIC_RELAXED);
  __atomic_store_n(&pg->version, v + 1, __ATOMIC_RELAXED);
  __atomic_store_n(&pg->block_size, (uint32_t)gcl_segment_class_size(pg->cls), __ATOMIC_RELEASE);
  GCL_ASSERT(pg->used == 0 && pg->committed && pg->capacity > 0);
  if (!pg->free) {
    pg->free = pg->local_free;
    pg->local_free = NULL;
  }
  pg->in_use = 1;
  s->used_pages++;
  s->free_mask &= ~((uint64_t)1 << (pg - s->pages));
  gcl_segment_count_up(&gcl_segment_c.pages, &gcl_segment_c.pages_peak, 1);
}

/* A page with no block handed out becomes free; true when its segment is now empty. Its
 * class and free lists are left as they are, for page_revive. */
static bool page_free(struct gcl_allocator_mutator *am, struct gcl_segment *s,
                      struct gcl_segment_page *pg) {
  GCL_ASSERT(pg->used == 0 && pg->in_use);
  for (unsigned w = 0; w < GCL_SEGMENT_BITMAP_WORDS; w++)
    GCL_ASSERT_EXPENSIVE(__atomic_load_n(&pg->bits[w], __ATOMIC_RELAXED) == 0);
  __atomic_store_n(&pg->block_size, 0, __ATOMIC_RELAXED);
  pg->in_use = 0;
  s->free_mask |= (uint64_t)1 << (pg - s->pages);
  s->used_pages--;
  gcl_segment_count_add(&gcl_segment_c.pages, -1);
  if (pg->committed) retired_append(am, pg);
  return s->used_pages == 0;
}

static void segment_unlink(struct gcl_allocator_mutator *am, struct gcl_segment *s) {
  if (s->prev) s->prev->next = s->next;
  else am->segments = s->next;
  if (s->next) s->next->prev = s->prev;
  s->next = s->prev = NULL;
}

static void segment_link(struct gcl_allocator_mutator *am, struct gcl_segment *s) {
  s->prev = NULL;
  s->next = am->segments;
  if (s->next) s->next->prev = s;
  am->segments = s;
}

/* An empty segment of am goes to the OS layer (cache or unmap); its retired pages leave
 * the retired list first. */
static void segment_free(struct gcl_allocator_mutator *am, struct gcl_segment *s) {
  for (unsigned i = 1; i < GCL_SEGMENT_PAGES; i++)
    if (s->pages[i].committed) retired_remove(am, &s->pages[i]);
  segment_unlink(am, s);
  gcl_segment_os_release(s);
}

/* Decommit the retired pages whose delays have both passed, the oldest first. Both
 * delays: page events alone decommitted the pages a big free had just retired while the
 * next burst of allocation was reusing them (LIFO takes the newest, so the oldest expired
 * first): binary-trees refaulted 62 MiB (issue 8). A
 * segment left empty by a decommit is released (not its heap's only one); that removes
 * its other retired pages too. Loop invariant: pages older than pg were decommitted, and
 * the list is in retirement order for both clocks, so the first page not yet due ends it;
 * the clock is read once, and only when a page is due by page events. */
static void decommit_expired(struct gcl_allocator_mutator *am) {
  struct gcl_segment_page *pg;
  uint32_t now = 0;
  bool have_now = false;
  while ((pg = am->retired_first)) {
    if ((uint32_t)am->page_events - pg->retired_at <= GCL_SEGMENT_DECOMMIT_DELAY) break;
    if (!have_now) now = now_ms(), have_now = true;
    if (now - pg->retired_ms < gcl_segment_decommit_ms) break;
    retired_remove(am, pg);
    pg->committed = 0;
    gcl_segment_os_decommit(page_start(pg), GCL_SEGMENT_PAGE_SIZE);
    struct gcl_segment *s = gcl_segment_of(pg);
    if (s->used_pages == 0 && !(s == am->segments && !s->next)) segment_free(am, s);
  }
}

/* Thread exit: every free committed page of s (each is on the retired list) leaves the
 * list and is decommitted, adjacent ones with one madvise: a heap's exit used to madvise
 * its retired pages one at a time (binary-trees: ~500 calls for 32 MiB, inside the timed
 * run). Loop invariant: the pages below i are in use or decommitted, except the run
 * [run, i) of free pages taken off the list and not yet madvised (run 0: none). */
static void decommit_segment(struct gcl_allocator_mutator *am, struct gcl_segment *s) {
  unsigned run = 0;
  for (unsigned i = 1; i <= GCL_SEGMENT_PAGES; i++) {
    struct gcl_segment_page *pg = i < GCL_SEGMENT_PAGES ? &s->pages[i] : NULL;
    if (pg && !pg->in_use && pg->committed) {
      retired_remove(am, pg);
      pg->committed = 0;
      if (!run) run = i;
      continue;
    }
    if (run)
      gcl_segment_os_decommit((char *)s + (size_t)run * GCL_SEGMENT_PAGE_SIZE,
                              (size_t)(i - run) * GCL_SEGMENT_PAGE_SIZE);
    run = 0;
  }
}

/* --- statistics ------------------------------------------------------------------------- */

void gcl_segment_heap_flush(struct gcl_allocator_mutator *am) {
  if (am->live_bytes) gcl_segment_count_add(&gcl_segment_c.live, am->live_bytes);
  if (am->remote_frees) gcl_segment_count_add(&gcl_segment_c.remote_frees, (int64_t)am->remote_frees);
  am->live_bytes = 0;
  am->remote_frees = 0;
}

/* --- full pages ----------------------------------------------------------------------------- */

/* pg (head of its queue, nothing to allocate) goes to the full list, unless a remote free
 * arrived meanwhile: then it stays and false is returned. seq_cst pairs with
 * gcl_segment_free_remote: either the freer sees PAGE_FULL, or we see its block. */
static bool to_full(struct gcl_allocator_mutator *am, struct gcl_segment_page *pg) {
  __atomic_store_n(&pg->flags, GCL_SEGMENT_PAGE_FULL, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&pg->thread_free, __ATOMIC_SEQ_CST) != NULL) {
    __atomic_store_n(&pg->flags, 0, __ATOMIC_RELAXED);
    return false;
  }
  queue_remove(am, pg);
  pg->prev = NULL;
  pg->next = am->full;
  if (am->full) am->full->prev = pg;
  am->full = pg;
  return true;
}

static void from_full(struct gcl_allocator_mutator *am, struct gcl_segment_page *pg) {
  full_remove(am, pg);
  __atomic_store_n(&pg->flags, 0, __ATOMIC_RELAXED);
  queue_push(am, pg, false);
}

/* Pages on the full list that received remote frees go back to their queues; found
 * through remote_pending, one exchange per flagged segment. */
static void rescue_pending(struct gcl_allocator_mutator *am) {
  for (struct gcl_segment *s = am->segments; s; s = s->next) {
    if (!__atomic_load_n(&s->remote_pending, __ATOMIC_RELAXED)) continue;
    GCL_SEGMENT_COUNT(rmws);
    __atomic_exchange_n(&s->remote_pending, 0, __ATOMIC_ACQ_REL);
    for (unsigned i = 1; i < GCL_SEGMENT_PAGES; i++) {
      struct gcl_segment_page *pg = &s->pages[i];
      if (pg->in_use && (pg->flags & GCL_SEGMENT_PAGE_FULL) &&
          __atomic_load_n(&pg->thread_free, __ATOMIC_ACQUIRE))
        from_full(am, pg);
    }
  }
}

/* --- the slow path ------------------------------------------------------------------------ */

/* A page of queue cls with a free block, moved to the head; NULL when none. Loop
 * invariant: every page before pg was examined and moved to the full list. */
static struct gcl_segment_page *queue_find(struct gcl_allocator_mutator *am, unsigned cls) {
  struct gcl_segment_page *pg = am->last[cls] ? am->page[cls] : NULL;
  while (pg) {
    struct gcl_segment_page *next = pg->next;
    page_collect(am, pg);
    if (!pg->free && pg->capacity < pg->reserved) page_extend(pg);
    if (pg->free) {
      if (pg != am->page[cls]) {
        queue_remove(am, pg);
        queue_push(am, pg, true);
      }
      return pg;
    }
    if (!to_full(am, pg)) continue; /* a remote free arrived: collect it */
    pg = next;
  }
  return NULL;
}

/* Take over an abandoned segment: its pages join our queues (or become free). */
static void reclaim(struct gcl_allocator_mutator *am, struct gcl_segment *s) {
  __atomic_store_n(&s->owner, am->id, __ATOMIC_RELEASE);
  __atomic_store_n(&s->remote_pending, 0, __ATOMIC_RELAXED);
  segment_link(am, s);
  for (unsigned i = 1; i < GCL_SEGMENT_PAGES; i++) {
    struct gcl_segment_page *pg = &s->pages[i];
    if (!pg->in_use) {
      if (pg->committed) retired_append(am, pg);
      continue;
    }
    __atomic_store_n(&pg->flags, 0, __ATOMIC_RELAXED);
    page_collect(am, pg);
    if (pg->used == 0) page_free(am, s, pg);
    else queue_push(am, pg, false);
  }
  if (s->used_pages == 0 && am->segments->next) segment_free(am, s);
}

/* A free page for class cls: a retired (still committed) one, a never-used or decommitted
 * one of our segments, or one of a new segment. NULL when out of memory. */
static struct gcl_segment_page *fresh_page(struct gcl_allocator_mutator *am, unsigned cls) {
  /* A page event: the clock of delayed decommit, and when figures are flushed. */
  am->page_events++;
  gcl_segment_heap_flush(am);
  decommit_expired(am);
  /* The newest retired pages first: one of this class is revived without carving. */
  struct gcl_segment_page *pg = am->retired_last;
  for (unsigned k = 0; pg && k < GCL_SEGMENT_REVIVE_SCAN; k++, pg = pg->prev) {
    if (pg->cls != cls || pg->capacity == 0) continue;
    retired_remove(am, pg);
    page_revive(gcl_segment_of(pg), pg);
    queue_push(am, pg, true);
    return pg;
  }
  pg = am->retired_last;
  struct gcl_segment *s = NULL;
  if (pg) {
    retired_remove(am, pg);
    s = gcl_segment_of(pg);
  } else {
    for (s = am->segments; s && !s->free_mask; s = s->next) continue;
    if (!s) {
      if (!(s = gcl_segment_os_new(am))) return NULL;
      segment_link(am, s);
    }
    pg = &s->pages[__builtin_ctzll(s->free_mask)];
  }
  page_init(s, pg, cls);
  gcl_segment_sample_fragmentation(); /* after the commit: a new peak is sampled at once */
  page_extend(pg);
  queue_push(am, pg, true);
  return pg;
}

void *gcl_segment_alloc_slow(struct gcl_allocator_mutator *am, unsigned cls) {
  struct gcl_segment_page *pg = queue_find(am, cls);
  if (!pg) {
    rescue_pending(am);
    pg = queue_find(am, cls);
  }
  /* Loop invariant: queue cls has no page with a free block. Each round reclaims one
   * abandoned segment, whose pages may fill the queue. */
  struct gcl_segment *s;
  while (!pg && !am->retired_last && (s = gcl_segment_os_reclaim_pop()) != NULL) {
    reclaim(am, s);
    pg = queue_find(am, cls);
  }
  if (!pg && !(pg = fresh_page(am, cls))) return NULL;
  return gcl_segment_pop(am, pg, cls);
}

/* The owner freed into pg, which is now empty or was on the full list. An empty page is
 * kept while it is its queue's only page (alloc/free cycles on one page stay cheap). A
 * segment this leaves empty stays with the heap until decommit_expired releases it. */
void gcl_segment_free_slow(struct gcl_allocator_mutator *am, struct gcl_segment_page *pg) {
  if (pg->flags & GCL_SEGMENT_PAGE_FULL) from_full(am, pg);
  if (pg->used != 0) return;
  if (am->page[pg->cls] == pg && am->last[pg->cls] == pg) return;
  struct gcl_segment *s = gcl_segment_of(pg);
  queue_remove(am, pg);
  page_free(am, s, pg);
}

/* A free by a thread that does not own the segment (or am == NULL: liburcu's thread):
 * push onto the page's thread_free stack; flag the segment if the page is full. The block
 * is not poisoned and its bit stays set until the owner collects it. */
void gcl_segment_free_remote(struct gcl_allocator_mutator *am, struct gcl_segment *s,
                             struct gcl_segment_page *pg, void *p) {
  struct gcl_segment_block *b = p;
  struct gcl_segment_block *head = __atomic_load_n(&pg->thread_free, __ATOMIC_RELAXED);
  do {
    GCL_SEGMENT_COUNT(rmws);
    gcl_segment_link_set(b, head);
  } while (!__atomic_compare_exchange_n(&pg->thread_free, &head, b, true, __ATOMIC_SEQ_CST,
                                        __ATOMIC_RELAXED));
  if (__atomic_load_n(&pg->flags, __ATOMIC_SEQ_CST) & GCL_SEGMENT_PAGE_FULL)
    __atomic_store_n(&s->remote_pending, 1, __ATOMIC_RELEASE);
  if (am) am->remote_frees++;
  else gcl_segment_count_add(&gcl_segment_c.remote_frees, 1);
}

/* --- the allocator contract ---------------------------------------------------------------- */

uint32_t gcl_segment_decommit_ms = GCL_SEGMENT_DECOMMIT_MS;

int gcl_allocator_init(const struct gcl_init *init) {
  /* option 0 (segment-walk.c): decommit_ms; tests pass no options and get the default */
  gcl_segment_decommit_ms = init && init->opts ? (uint32_t)init->opts[0].i : GCL_SEGMENT_DECOMMIT_MS;
  return gcl_segment_os_init();
}

void gcl_allocator_thread_attach(struct gcl_allocator_mutator *am) {
  memset(am, 0, sizeof *am);
  for (unsigned c = 0; c < GCL_SEGMENT_NCLASSES; c++) am->page[c] = &gcl_segment_empty_page;
  GCL_SEGMENT_COUNT(rmws);
  am->id = __atomic_add_fetch(&gcl_segment_g.next_id, 1, __ATOMIC_RELAXED);
  am->node = -1;
}

/* The thread exits: remote frees are collected, empty pages freed, retired pages
 * decommitted, and every segment that still holds a block is abandoned for another thread
 * to reclaim; its blocks stay allocated and walkable. */
void gcl_allocator_thread_detach(struct gcl_allocator_mutator *am) {
  struct gcl_segment *s = am->segments, *next;
  for (; s; s = next) {
    next = s->next;
    for (unsigned i = 1; i < GCL_SEGMENT_PAGES; i++) {
      struct gcl_segment_page *pg = &s->pages[i];
      if (!pg->in_use) continue;
      page_collect(am, pg);
      if (pg->used == 0) page_free(am, s, pg);
    }
  }
  for (s = am->segments; s; s = s->next) decommit_segment(am, s);
  GCL_ASSERT(am->retired_first == NULL);
  for (s = am->segments; s; s = next) {
    next = s->next;
    s->next = s->prev = NULL;
    if (s->used_pages == 0) gcl_segment_os_release(s);
    else gcl_segment_os_abandon(s);
  }
  gcl_segment_heap_flush(am);
  for (unsigned c = 0; c < GCL_SEGMENT_NCLASSES; c++) {
    am->page[c] = &gcl_segment_empty_page;
    am->last[c] = NULL;
  }
  am->segments = NULL;
  am->full = NULL;
}
