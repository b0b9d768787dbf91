/* SPDX-License-Identifier: MIT */
/* core/tsan.h — happens-before annotations for ThreadSanitizer builds.
 *
 * liburcu is not instrumented, so TSan cannot see the ordering a QSBR grace period gives.
 * We state it explicitly, and only what liburcu guarantees: every quiescent state and every
 * offline transition of a reader releases gcl_qsbr_token; a call_rcu callback, which runs
 * only after every online reader has passed such a point, acquires it. Hand-offs through
 * call_rcu's queue are annotated on the queued item itself. Elsewhere these are no-ops. */
#ifndef GCL_TSAN_H
#define GCL_TSAN_H

#if defined(__SANITIZE_THREAD__)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define GCL_TSAN_ACQUIRE(addr) __tsan_acquire((void *)(addr))
#define GCL_TSAN_RELEASE(addr) __tsan_release((void *)(addr))
#else
#define GCL_TSAN_ACQUIRE(addr) ((void)0)
#define GCL_TSAN_RELEASE(addr) ((void)0)
#endif

extern char gcl_qsbr_token; /* the address TSan treats as the grace period */

#endif
