/* SPDX-License-Identifier: MIT */
/* collectors/bdw/bdw-gc.h — libgc's header as bdw uses it: GC_THREADS (for the thread
 * registration API) with GC_NO_THREAD_REDIRECTS, so threads are registered by hand only
 * (collectors/bdw/bdw.c): libgc 8.2.2 crashes when a thread created through its
 * pthread_create redirect is also registered by hand. Include it before anything that
 * includes <pthread.h>. */
#ifndef GCL_BDW_GC_H
#define GCL_BDW_GC_H

#define GC_THREADS 1
#define GC_NO_THREAD_REDIRECTS 1
#include <gc/gc.h>

#endif
