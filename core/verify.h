/* SPDX-License-Identifier: MIT */
/* core/verify.h — the reachability oracle, built in with GCL_VERIFY=1.
 *
 * Independent of every collector: it keeps its own set of live objects (added at
 * allocation, removed at free), quarantines freed memory instead of returning it, and
 * traces from the roots (every thread's root frames and the global roots) with the types'
 * trace hooks. It detects:
 *  - a reachable object that was freed (a slot points into quarantine);
 *  - a slot pointing to memory that was never an object;
 *  - an object freed twice, or freed without having been allocated;
 *  - a free list (core/freelist.h) that hands out a live object or one it never took, and
 *    a reachable object that sits on a free list;
 *  - a break of the frame rule (core/mutator.h): when a drain starts (gcl_dealloc) and at
 *    each of its polls (every GCL_DEALLOC_POLL_EVERY frees, whether or not a stop is
 *    requested), no root frame of the draining thread may name an object that is freed or
 *    dying (the object being killed next, or on the thread's dealloc worklist);
 *    gcl_verify_drain_frames, declared in core/mutator.h with the other hooks.
 * Unreachable objects still live are counted, not judged: whether they should have been
 * freed is the caller's question (pure RC legitimately keeps cycles). */
#ifndef GCL_VERIFY_H
#define GCL_VERIFY_H

#include <stddef.h>
#include <stdint.h>

struct gcl_verify_result {
  uint64_t live;        /* objects allocated and not yet freed */
  uint64_t reachable;   /* of those, reachable from the roots */
  uint64_t errors;      /* errors found since the process started */
};

/* Check the heap now. The caller guarantees no mutator runs: it stopped the world, or it
 * is the only thread. Releases the quarantine afterwards. */
void gcl_verify_heap(struct gcl_verify_result *out);
uint64_t gcl_verify_errors(void);
const char *gcl_verify_first_error(void); /* "" if none */
uint64_t gcl_verify_live(void);           /* objects allocated and not yet freed */
uint64_t gcl_verify_parked(void);         /* freed objects on free lists now */
void gcl_verify_reset(void);              /* tests only: forget everything */
/* Count and report an error found by another checker (core/verify-fresh.c). */
void gcl_verify_report_error(const char *what);

#endif
