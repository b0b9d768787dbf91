/* SPDX-License-Identifier: MIT */
/* allocators/segment/segment-walk.c — the segment allocator's heap walks (capability
 * heap-walk with the world stopped, heap-walk-concurrent while mutators run,
 * heap-walk-parallel, and heap-walk-own: page claims and the owner's walk), its figures
 * (the declaration table and gcl_allocator_report) and the per-heap consistency check.
 *
 * Both walks copy the registry (segment-os.c; walkers++ keeps every copied mapping
 * mapped) and read, per page, only atomic words: version, block_size, bits[] and, with the
 * world stopped, the thread_free stack. "Allocated" is decided by the side bitmap, never
 * by a block's contents. A page is read as a seqlock: version, then class and bits, then
 * version again (the owner stores the version, then the class with release: no fence,
 * so TSan follows it too); a page re-initialised in between was empty at some moment of the walk
 * and is skipped (no block allocated before the walk and still live can be in it). The
 * version is checked once more after a page's visits: re-initialised meanwhile, the visits
 * may have used stale offsets, and the visitor is called with mem NULL to drop them
 * (core/allocator.h).
 *
 * With the world stopped, owners do not run, but liburcu's call_rcu thread may still free
 * deferred batches: those frees only push onto thread_free (writing a block's second
 * word). The walk subtracts the blocks on each page's thread_free stack as it reads it;
 * blocks pushed after that read are still reported, with their first word untouched (for
 * brc: the GCL_BRC_OWNER_FREED mark it wrote before deferring them). */
#include <stdlib.h>

#include "module.h"
#include "report.h"
#include "segment-internal.h"

/* Visit the blocks of page i of s; false when the visitor asked to stop. */
static bool walk_page(struct gcl_segment *s, unsigned i, bool stopped,
                      bool (*visit)(void *page, void *mem, size_t bytes, void *ctx), void *ctx) {
  struct gcl_segment_page *pg = &s->pages[i];
  uint32_t v1 = __atomic_load_n(&pg->version, __ATOMIC_ACQUIRE);
  uint32_t bs = __atomic_load_n(&pg->block_size, __ATOMIC_ACQUIRE);
  if (bs == 0) return true;
  uint64_t bits[GCL_SEGMENT_BITMAP_WORDS], any = 0;
  for (unsigned w = 0; w < GCL_SEGMENT_BITMAP_WORDS; w++)
    any |= bits[w] = __atomic_load_n(&pg->bits[w], __ATOMIC_ACQUIRE);
  if (!any) return true;
  char *base = (char *)s + (size_t)i * GCL_SEGMENT_PAGE_SIZE;
  if (stopped) {
    /* Only pushes can happen meanwhile (the owner is stopped): the chain below the head
     * we read is immutable. */
    struct gcl_segment_block *b = __atomic_load_n(&pg->thread_free, __ATOMIC_ACQUIRE);
    for (; b; b = gcl_segment_link_get(b)) {
      unsigned g = gcl_segment_granule(b);
      bits[g >> 6] &= ~((uint64_t)1 << (g & 63));
    }
  }
  /* The acquire loads above keep this load after them: if any of them saw a newer
   * incarnation (its class, or a bit set after it), this sees the newer version. */
  if (__atomic_load_n(&pg->version, __ATOMIC_RELAXED) != v1) return true;
  /* Loop invariant: every set bit of bits[0..w) has been visited. */
  for (unsigned w = 0; w < GCL_SEGMENT_BITMAP_WORDS; w++) {
    for (uint64_t m = bits[w]; m; m &= m - 1) {
      unsigned g = w * 64 + (unsigned)__builtin_ctzll(m);
      if (!visit(base, base + ((size_t)g << GCL_SEGMENT_GRANULE_SHIFT), bs, ctx)) return false;
    }
  }
  if (stopped) return true; /* nobody re-initialises a page meanwhile */
  /* The page may have emptied and been re-initialised (another class) while we visited:
   * then some visits used the old incarnation's offsets and may have read a new block's
   * middle. The fence keeps the visitor's reads before this load (seqlock reader's
   * second check); on a change the visitor is told to drop this page's visits. TSan does
   * not model fences (GCC: -Wtsan); cmark's reads of block words are hidden from it. */
#if !defined(__SANITIZE_THREAD__)
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
#endif
  if (__atomic_load_n(&pg->version, __ATOMIC_RELAXED) != v1) return visit(base, NULL, 0, ctx);
  return true;
}

static int walk(bool stopped, bool (*visit)(void *page, void *mem, size_t bytes, void *ctx),
                void *ctx) {
  struct gcl_segment_snapshot snap;
  int rc = gcl_segment_snapshot_take(&snap);
  if (rc) return rc;
  bool go = true;
  for (size_t k = 0; go && k < snap.nsegs; k++) {
    if (k + 1 < snap.nsegs) __builtin_prefetch(&snap.segs[k + 1]->pages[1]);
    for (unsigned i = 1; go && i < GCL_SEGMENT_PAGES; i++) go = walk_page(snap.segs[k], i, stopped, visit, ctx);
  }
  for (size_t k = 0; go && k < snap.nlarge; k++) {
    struct gcl_segment_large *h = snap.large[k];
    go = visit(h + 1, h + 1, h->bytes, ctx);
  }
  gcl_segment_snapshot_drop(&snap);
  return go ? 0 : 1;
}

int gcl_segment_walk_concurrent(bool (*visit)(void *page, void *mem, size_t bytes, void *ctx),
                                void *ctx) {
  return walk(false, visit, ctx);
}

/* Capability heap-walk-concurrent under core's neutral name (core/allocator.h). */
int gcl_allocator_walk_concurrent(bool (*visit)(void *page, void *mem, size_t bytes, void *ctx), void *ctx) {
  return walk(false, visit, ctx);
}

struct stopped_visit {
  void (*visit)(void *mem, size_t bytes, void *ctx); /* the caller's visitor */
  void *ctx;                                         /* its argument */
};

static bool stopped_adapter(void *page, void *mem, size_t bytes, void *ctx) {
  (void)page;
  struct stopped_visit *sv = ctx;
  sv->visit(mem, bytes, sv->ctx);
  return true;
}

/* Capability heap-walk (core/allocator.h): the world is stopped. */
void gcl_allocator_walk(void (*visit)(void *mem, size_t bytes, void *ctx), void *ctx) {
  struct stopped_visit sv = {visit, ctx};
  GCL_ASSERT_ALWAYS(walk(true, stopped_adapter, &sv) == 0); /* -ENOMEM would lose blocks */
}

/* --- capability heap-walk-parallel (core/allocator.h), world stopped ---------------------
 * One snapshot for all the parts (taken by the requester in begin, read-only meanwhile);
 * part k visits the segments whose index in it is k mod n, then the large blocks likewise,
 * so the parts are disjoint and cover the snapshot. Interleaving by index spreads each
 * thread's segments (made in turns as the threads grew) over all parts. Pages are read as
 * the serial stopped walk reads them (walk_page, stopped), so what liburcu's call_rcu
 * thread may do meanwhile is what it may do during that walk. */
static struct gcl_segment_snapshot par_snap; /* set between begin and end */

void gcl_allocator_walk_parallel_begin(void) {
  GCL_ASSERT_ALWAYS(gcl_segment_snapshot_take(&par_snap) == 0); /* -ENOMEM would lose blocks */
}

void gcl_allocator_walk_part(unsigned k, unsigned n, void (*visit)(void *mem, size_t bytes, void *ctx), void *ctx) {
  struct stopped_visit sv = {visit, ctx};
  /* Loop invariant: every segment of index < s with index = k (mod n) has been walked. */
  for (size_t s = k; s < par_snap.nsegs; s += n) {
    if (s + n < par_snap.nsegs) __builtin_prefetch(&par_snap.segs[s + n]->pages[1]);
    for (unsigned i = 1; i < GCL_SEGMENT_PAGES; i++) walk_page(par_snap.segs[s], i, true, stopped_adapter, &sv);
  }
  for (size_t j = k; j < par_snap.nlarge; j += n) {
    struct gcl_segment_large *h = par_snap.large[j];
    visit(h + 1, h->bytes, ctx);
  }
}

void gcl_allocator_walk_parallel_end(void) { gcl_segment_snapshot_drop(&par_snap); }

/* --- capability heap-walk-own (core/allocator.h): page claims, the owner's own pages -----
 * A page's `swept` word holds the epoch of the last sweep that claimed it. A claim is one
 * CAS from any other value to the epoch, so for one epoch exactly one thread wins each
 * page, whichever of the concurrent walk's visitor and the owner's walk comes first. The
 * word is never reset (page_init leaves it): a page re-initialised after a claim for epoch
 * E stays claimed for E, and its blocks were all allocated during that sweep (black).
 * Epochs are compared in 32 bits (wraps after 2^32 sweeps). */
bool gcl_allocator_page_claim(void *page, uint32_t epoch) {
  if ((uintptr_t)page & (GCL_SEGMENT_PAGE_SIZE - 1)) return true; /* a large block: no page */
  struct gcl_segment_page *pg = gcl_segment_page_of(gcl_segment_of(page), page);
  uint32_t v = __atomic_load_n(&pg->swept, __ATOMIC_RELAXED);
  /* Loop invariant: v is the word's last value seen, and it is not `epoch`. */
  while (v != epoch)
    if (__atomic_compare_exchange_n(&pg->swept, &v, epoch, true, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) return true;
  return false;
}

/* The owner's walk: am's segments are touched only by am's thread (the caller), which
 * allocates nothing meanwhile, so none of its pages is initialised, retired or re-used
 * under us and its segment list does not change; other threads only push onto
 * thread_free (remote frees), which walk_page's stopped read subtracts as it reads it. */
unsigned gcl_allocator_walk_own(struct gcl_allocator_mutator *am, uint32_t epoch, unsigned max_pages,
                                struct gcl_allocator_own_cursor *cur,
                                void (*visit)(void *mem, size_t bytes, void *ctx), void *ctx) {
  struct stopped_visit sv = {visit, ctx};
  unsigned claimed = 0, i = cur->at ? cur->index : 1;
  struct gcl_segment *s = cur->at ? cur->at : am->segments;
  /* Loop invariant: every in-use page before (s, i) in am's list, from where the cursor
   * started (the calls before it covered the rest), was claimed for `epoch` (visited by
   * us, or claimed by another thread); claimed <= max_pages. */
  for (; s && claimed < max_pages; s = s->next, i = 1) {
    for (; i < GCL_SEGMENT_PAGES && claimed < max_pages; i++) {
      struct gcl_segment_page *pg = &s->pages[i];
      if (!pg->in_use || __atomic_load_n(&pg->swept, __ATOMIC_RELAXED) == epoch) continue;
      if (!gcl_allocator_page_claim((char *)s + (size_t)i * GCL_SEGMENT_PAGE_SIZE, epoch)) continue;
      claimed++;
      walk_page(s, i, true, stopped_adapter, &sv);
    }
    if (claimed == max_pages) break; /* resume at (s, i) */
  }
  cur->at = s;
  cur->index = i;
  if (!s) cur->at = NULL, cur->index = 0; /* the end: a next call starts over (finds none) */
  return claimed;
}

/* --- figures -------------------------------------------------------------------------- */

/* The figures this allocator writes (record keys segment.<name>, CSV columns of the same
 * name): core/module.h's declaration, the one table of them. */
static const struct gcl_fig_decl figures[] = {
    {"segments_peak", "count", "most 4 MiB segments owned or abandoned at once"},
    {"segments_end", "count", "segments owned or abandoned when the record is written"},
    {"pages_peak", "count", "most 64 KiB pages holding a size class at once"},
    {"pages_end", "count", "pages holding a size class when the record is written"},
    {"committed_peak_kb", "kb", "most committed KiB at once: headers, touched pages, large maps"},
    {"committed_end_kb", "kb", "committed KiB when the record is written (cache included)"},
    {"fragmentation_peak", "ratio", "committed / live block bytes at the committed peak (fullest sample)"},
    {"remote_frees", "count", "frees by a thread other than the page's owner (and by liburcu's thread)"},
    {"abandoned", "count", "segments left with live blocks by exiting threads"},
    {"reclaimed", "count", "abandoned segments taken over by another thread"},
    {"decommitted_kb", "kb", "KiB returned to the OS with madvise(MADV_DONTNEED)"},
    {"large_allocs", "count", "requests above 8 KiB (one mapping each)"},
    {"numa_nodes", "count", "NUMA nodes the heaps' memory came from"},
    {"numa_bind_failures", "count", "hwloc_set_area_membind calls the OS refused"},
};
/* Its options (values read by gcl_allocator_init in segment.c, in this order). */
static const struct gcl_opt_decl options[] = {
    {"decommit_ms", GCL_OPT_INT, "500", "0", "3600000", NULL,
     "milliseconds a free page waits (besides 64 page events) before it is returned to the OS"},
};
GCL_ALLOCATOR_DECLARE(options, GCL_COUNT(options), figures, GCL_COUNT(figures));

void gcl_segment_stats_get(struct gcl_segment_stats *out) {
  struct gcl_segment_counters *c = &gcl_segment_c;
#define LOAD(f) __atomic_load_n(&c->f, __ATOMIC_RELAXED)
  out->segments = LOAD(segments);
  out->segments_peak = LOAD(segments_peak);
  out->pages = LOAD(pages);
  out->pages_peak = LOAD(pages_peak);
  out->committed = LOAD(committed);
  out->committed_peak = LOAD(committed_peak);
  int64_t live = (int64_t)LOAD(live);
  out->live_bytes = live > 0 ? (uint64_t)live : 0;
  uint64_t f = LOAD(frag_at_peak);
  out->fragmentation_peak = f == UINT64_MAX ? 0 : (double)f / 1e6;
  out->remote_frees = LOAD(remote_frees);
  out->abandoned = LOAD(abandoned);
  out->reclaimed = LOAD(reclaimed);
  out->decommitted_bytes = LOAD(decommitted);
  out->large_allocs = LOAD(large_allocs);
  out->numa_nodes_mask = LOAD(numa_mask);
  out->numa_bind_failures = LOAD(numa_bind_failures);
#undef LOAD
  gcl_segment_lock();
  out->cached = gcl_segment_g.ncache;
  gcl_segment_unlock();
}

/* core/allocator.h: for the runner's memory sampler; one relaxed load, no lock. */
int64_t gcl_allocator_committed_bytes(void) {
  return (int64_t)__atomic_load_n(&gcl_segment_c.committed, __ATOMIC_RELAXED);
}

void gcl_allocator_report(struct gcl_report *r) {
  struct gcl_segment_stats s;
  gcl_segment_stats_get(&s);
  gcl_report_figure_u64(r, "segments_peak", s.segments_peak);
  gcl_report_figure_u64(r, "segments_end", s.segments);
  gcl_report_figure_u64(r, "pages_peak", s.pages_peak);
  gcl_report_figure_u64(r, "pages_end", s.pages);
  gcl_report_figure_u64(r, "committed_peak_kb", (s.committed_peak + 1023) / 1024);
  gcl_report_figure_u64(r, "committed_end_kb", (s.committed + 1023) / 1024);
  if (s.fragmentation_peak > 0) gcl_report_figure(r, "fragmentation_peak", s.fragmentation_peak);
  gcl_report_figure_u64(r, "remote_frees", s.remote_frees);
  gcl_report_figure_u64(r, "abandoned", s.abandoned);
  gcl_report_figure_u64(r, "reclaimed", s.reclaimed);
  gcl_report_figure_u64(r, "decommitted_kb", s.decommitted_bytes / 1024);
  gcl_report_figure_u64(r, "large_allocs", s.large_allocs);
  if (s.numa_nodes_mask) gcl_report_figure_u64(r, "numa_nodes", (uint64_t)__builtin_popcountll(s.numa_nodes_mask));
  gcl_report_figure_u64(r, "numa_bind_failures", s.numa_bind_failures);
}

/* --- consistency check (tests) -------------------------------------------------------- */

static unsigned popcount_bits(struct gcl_segment_page *pg) {
  unsigned n = 0;
  for (unsigned w = 0; w < GCL_SEGMENT_BITMAP_WORDS; w++)
    n += (unsigned)__builtin_popcountll(__atomic_load_n(&pg->bits[w], __ATOMIC_RELAXED));
  return n;
}

static bool bit_of(struct gcl_segment_page *pg, const void *p) {
  unsigned g = gcl_segment_granule(p);
  return __atomic_load_n(&pg->bits[g >> 6], __ATOMIC_RELAXED) >> (g & 63) & 1;
}

/* Count a free list's blocks, checking each lies in pg's carved area with its bit clear
 * (want_bit false) or set (thread_free: true); -1 on a violation. */
static long count_list(struct gcl_segment_page *pg, struct gcl_segment_block *b, bool want_bit) {
  size_t size = gcl_segment_class_size(pg->cls);
  char *base = (char *)gcl_segment_of(pg) + (size_t)(pg - gcl_segment_of(pg)->pages) * GCL_SEGMENT_PAGE_SIZE;
  long n = 0;
  for (; b; b = gcl_segment_link_get(b)) {
    if ((char *)b < base || (size_t)((char *)b - base) % size || (size_t)((char *)b - base) / size >= pg->capacity)
      return -1;
    if (bit_of(pg, b) != want_bit || ++n > (long)pg->capacity) return -1;
  }
  return n;
}

int gcl_segment_check(struct gcl_allocator_mutator *am) {
  for (struct gcl_segment *s = am->segments; s; s = s->next) {
    if (__atomic_load_n(&s->owner, __ATOMIC_RELAXED) != am->id) return -1;
    unsigned used = 0;
    for (unsigned i = 1; i < GCL_SEGMENT_PAGES; i++) {
      struct gcl_segment_page *pg = &s->pages[i];
      bool isfree = s->free_mask >> i & 1;
      if (isfree != !pg->in_use) return -2;
      if (!pg->in_use) {
        if (popcount_bits(pg) || __atomic_load_n(&pg->block_size, __ATOMIC_RELAXED)) return -3;
        continue;
      }
      used++;
      if (pg->block_size != gcl_segment_class_size(pg->cls) || pg->capacity > pg->reserved) return -4;
      long nf = count_list(pg, pg->free, false), nl = count_list(pg, pg->local_free, false);
      long nt = count_list(pg, __atomic_load_n(&pg->thread_free, __ATOMIC_ACQUIRE), true);
      if (nf < 0 || nl < 0 || nt < 0) return -5;
      if (popcount_bits(pg) != pg->used) return -6;
      /* thread_free may grow while we count: used covers at least what we saw */
      if ((long)pg->used < nt || pg->used + nf + nl != pg->capacity) return -7;
      bool on_full = false;
      for (struct gcl_segment_page *f = am->full; f; f = f->next) on_full |= f == pg;
      if (on_full != ((pg->flags & GCL_SEGMENT_PAGE_FULL) != 0)) return -8;
      bool on_queue = false;
      for (struct gcl_segment_page *q = am->last[pg->cls] ? am->page[pg->cls] : NULL; q; q = q->next)
        on_queue |= q == pg;
      if (on_queue == on_full) return -9;
    }
    if (used != s->used_pages) return -10;
  }
  for (struct gcl_segment_page *pg = am->retired_first; pg; pg = pg->next)
    if (pg->in_use || !pg->committed) return -11;
  return 0;
}
