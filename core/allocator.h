/* SPDX-License-Identifier: MIT */
/* core/allocator.h — what every allocator's <name>.c implements (cold paths). Its attrs
 * header defines GCL_ALLOCATOR_NAME, struct gcl_allocator_mutator and the inline
 *   void *gcl_allocator_alloc(struct gcl_allocator_mutator *am, size_t bytes);
 *   void gcl_allocator_free(struct gcl_allocator_mutator *am, void *p, size_t bytes);
 * where am may be NULL in free (memory released by a QSBR callback on liburcu's thread),
 * and bytes is always the size that was allocated. Returned memory is 16-byte aligned. */
#ifndef GCL_ALLOCATOR_H
#define GCL_ALLOCATOR_H

#include "module.h"
#include "mutator.h"

struct gcl_report; /* runner/report.h: the record being written */

/* Once per process, before the collector's init; init->opts are this allocator's option
 * values (gcl_allocator_module's declaration order). 0, or -errno. */
int gcl_allocator_init(const struct gcl_init *init);
void gcl_allocator_thread_attach(struct gcl_allocator_mutator *am);
void gcl_allocator_thread_detach(struct gcl_allocator_mutator *am);
/* Its declared figures, through gcl_report_figure (r->module is gcl_allocator_module). */
void gcl_allocator_report(struct gcl_report *r);

/* Bytes the allocator holds from the OS now (committed), or -1 when it cannot tell. Cheap
 * enough to call every few milliseconds from a thread that is not a mutator (the runner's
 * memory sampler, runner/sampler.c). */
int64_t gcl_allocator_committed_bytes(void);

/* Capability heap-walk (an allocator whose CMake line says PROVIDES heap-walk defines it;
 * a collector that calls it says REQUIRES heap-walk): call visit once for every block
 * allocated and not yet freed, with the address the allocator returned and the block's
 * usable size. Cold; the caller stops every mutator first, and visit must neither
 * allocate nor free through this allocator (it may run under the allocator's lock). */
void gcl_allocator_walk(void (*visit)(void *mem, size_t bytes, void *ctx), void *ctx);

/* Capability heap-walk-parallel (with heap-walk; its attrs header then defines
 * GCL_ALLOCATOR_WALK_PARALLEL 1): the stopped-world walk in n parts that n threads run at
 * once (core/mutator.h gcl_world_parallel). With the world stopped, the requester calls
 * gcl_allocator_walk_parallel_begin(); then gcl_allocator_walk_part(k, n, ...) runs once
 * for each k in 0..n-1 (same n), from any threads, concurrently; then the requester calls
 * gcl_allocator_walk_parallel_end(). Together the parts visit exactly the blocks
 * gcl_allocator_walk would, each once; a visitor may run concurrently with other parts'
 * visitors (on other blocks). Without the capability the inline fallback below makes part
 * 0 the serial walk and the other parts empty. */
#if GCL_ALLOCATOR_WALK_PARALLEL
void gcl_allocator_walk_parallel_begin(void);
void gcl_allocator_walk_part(unsigned k, unsigned n, void (*visit)(void *mem, size_t bytes, void *ctx), void *ctx);
void gcl_allocator_walk_parallel_end(void);
#else
static inline void gcl_allocator_walk_parallel_begin(void) {}
static inline void gcl_allocator_walk_part(unsigned k, unsigned n, void (*visit)(void *mem, size_t bytes, void *ctx),
                                           void *ctx) {
  (void)n;
  if (k == 0) gcl_allocator_walk(visit, ctx);
}
static inline void gcl_allocator_walk_parallel_end(void) {}
#endif

/* Capability heap-walk-concurrent (PROVIDES heap-walk-concurrent; its attrs header then
 * defines GCL_ALLOCATOR_HEAP_WALK_CONCURRENT 1, which a collector tests with #if to use
 * it, or to refuse a mode that needs it): a walk while mutators run, page by page, under
 * no lock, with the guarantees of allocators/segment/README.md ("what a concurrent walker
 * sees"): every block allocated before the walk and not freed before it returns is
 * visited exactly once; blocks allocated or freed meanwhile may or may not be; memory of
 * visited blocks stays mapped until the walk returns. After a page's visits, if the page
 * was re-initialised while they ran (its blocks may have been at other offsets), visit is
 * called once more with that page, mem NULL and bytes 0: the visitor drops what it took
 * from that page's visits (none was of a block of the walk's guarantee). visit may free blocks it was
 * given with gcl_allocator_free(NULL, ...) (a free by no owner); it must not allocate.
 * Returns 0, 1 when a visit returned false, or -errno. */
int gcl_allocator_walk_concurrent(bool (*visit)(void *page, void *mem, size_t bytes, void *ctx), void *ctx);

/* Capability heap-walk-own (its attrs header then defines GCL_ALLOCATOR_WALK_OWN 1; a
 * collector tests it with #if): sweeping one page at a time, by whoever claims it first.
 *  - gcl_allocator_page_claim(page, epoch): `page` as the concurrent walk passes it; true
 *    for exactly one caller per page and epoch (a CAS on a word of the page's header), and
 *    always for what is no page (a large block). A collector whose sweep and assists both
 *    claim before they read a page never sweeps one page twice in one epoch.
 *  - gcl_allocator_walk_own(am, epoch, max_pages, cur, visit, ctx): only by am's own
 *    thread, attached and outside any allocation (it allocates nothing meanwhile): claim
 *    up to max_pages of am's pages not yet claimed for epoch and call visit for every
 *    block allocated on each (none is in flight: only am's thread allocates there); visit
 *    may free a block it was given with gcl_allocator_free(NULL, ...) and must not
 *    allocate. *cur (the allocator's; zeroed by the caller) resumes where the last call
 *    stopped: it stays valid only while am's thread allocates nothing between calls, so
 *    zero it again after any allocation. Returns the pages it claimed (0: none left).
 * Without the capability the fallback claims everything and walks nothing (no assists). */
struct gcl_allocator_own_cursor {
  void *at;       /* the allocator's resume point (NULL: from the start) */
  unsigned index; /* and an index inside it */
};
#if GCL_ALLOCATOR_WALK_OWN
bool gcl_allocator_page_claim(void *page, uint32_t epoch);
unsigned gcl_allocator_walk_own(struct gcl_allocator_mutator *am, uint32_t epoch, unsigned max_pages,
                                struct gcl_allocator_own_cursor *cur,
                                void (*visit)(void *mem, size_t bytes, void *ctx), void *ctx);
#else
static inline bool gcl_allocator_page_claim(void *page, uint32_t epoch) {
  (void)page, (void)epoch;
  return true;
}
static inline unsigned gcl_allocator_walk_own(struct gcl_allocator_mutator *am, uint32_t epoch, unsigned max_pages,
                                              struct gcl_allocator_own_cursor *cur,
                                              void (*visit)(void *mem, size_t bytes, void *ctx), void *ctx) {
  (void)am, (void)epoch, (void)max_pages, (void)cur, (void)visit, (void)ctx;
  return 0;
}
#endif

#endif
