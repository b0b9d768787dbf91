/* SPDX-License-Identifier: MIT */
/* core/event.c — delivery of the event stream (core/event.h): the recorder of core/pause.c
 * first, then each listener. Without listeners an event costs the recorder's lock only;
 * with listeners one more lock makes every listener see the recorder's order. */
#include "event.h"

#include <errno.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pause.h"

static pthread_mutex_t listen_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  gcl_event_fn *fn; /* NULL: a free entry */
  void *data;       /* its argument */
} listeners[GCL_EVENT_MAX_LISTENERS]; /* guarded by listen_lock */
static unsigned nlisteners;            /* entries in use; atomic, written under listen_lock */

static __thread uint32_t cached_tid; /* this thread's kernel id, 0 until first asked */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* A forked child (Criterion runs each test in one) is a new thread: ask again. */
static void forget_tid(void) { cached_tid = 0; }
static void install_atfork(void) { pthread_atfork(NULL, NULL, forget_tid); }

uint32_t gcl_event_thread_id(void) {
  if (!cached_tid) {
    pthread_once(&atfork_once, install_atfork);
    cached_tid = (uint32_t)syscall(SYS_gettid);
  }
  return cached_tid;
}

void gcl_event_emit(const struct gcl_event *e) {
  if (!__atomic_load_n(&nlisteners, __ATOMIC_ACQUIRE)) {
    gcl_recorder_event(e);
    return;
  }
  pthread_mutex_lock(&listen_lock);
  gcl_recorder_event(e);
  for (unsigned i = 0; i < GCL_EVENT_MAX_LISTENERS; i++)
    if (listeners[i].fn) listeners[i].fn(e, listeners[i].data);
  pthread_mutex_unlock(&listen_lock);
}

static void emit_now(enum gcl_event_kind kind, const char *name, uint64_t bytes) {
  gcl_event_emit(&(struct gcl_event){kind, gcl_now_ns(), gcl_event_thread_id(), name, bytes});
}

void gcl_event_stop_requested(void) { emit_now(GCL_EVENT_STOP_REQUESTED, NULL, 0); }
void gcl_event_mutators_stopped(void) { emit_now(GCL_EVENT_MUTATORS_STOPPED, NULL, 0); }
void gcl_event_roots_traced(void) { emit_now(GCL_EVENT_ROOTS_TRACED, NULL, 0); }
void gcl_event_heap_traced(void) { emit_now(GCL_EVENT_HEAP_TRACED, NULL, 0); }
/* Phases this thread is inside (start minus end): a collection or sweep in progress. */
static __thread int phase_depth;

void gcl_event_phase_start(const char *name) {
  phase_depth++;
  emit_now(GCL_EVENT_PHASE_START, name, 0);
}
void gcl_event_phase_end(const char *name) {
  phase_depth--;
  emit_now(GCL_EVENT_PHASE_END, name, 0);
}
bool gcl_event_in_phase(void) { return phase_depth > 0; }
void gcl_event_world_restarted(void) { emit_now(GCL_EVENT_WORLD_RESTARTED, NULL, 0); }
void gcl_event_heap_resized(uint64_t bytes) { emit_now(GCL_EVENT_HEAP_RESIZED, NULL, bytes); }
void gcl_event_live_data(uint64_t bytes) { emit_now(GCL_EVENT_LIVE_DATA, NULL, bytes); }
void gcl_event_handshake_pause(uint64_t start_ns, uint32_t thread) {
  uint64_t now = gcl_now_ns();
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_HANDSHAKE_PAUSE, start_ns, thread, NULL,
                                     now > start_ns ? now - start_ns : 0});
}

void gcl_event_thread_pause(const char *kind, uint64_t start_ns) {
  uint64_t now = gcl_now_ns();
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_THREAD_PAUSE, start_ns, gcl_event_thread_id(), kind,
                                     now > start_ns ? now - start_ns : 0});
}

int gcl_event_listen(gcl_event_fn *fn, void *data) {
  int rc = -ENOSPC;
  pthread_mutex_lock(&listen_lock);
  for (unsigned i = 0; i < GCL_EVENT_MAX_LISTENERS; i++) {
    if (listeners[i].fn) continue;
    listeners[i].fn = fn;
    listeners[i].data = data;
    __atomic_add_fetch(&nlisteners, 1, __ATOMIC_RELEASE);
    rc = 0;
    break;
  }
  pthread_mutex_unlock(&listen_lock);
  return rc;
}

void gcl_event_unlisten(gcl_event_fn *fn, void *data) {
  pthread_mutex_lock(&listen_lock);
  for (unsigned i = 0; i < GCL_EVENT_MAX_LISTENERS; i++) {
    if (listeners[i].fn != fn || listeners[i].data != data) continue;
    listeners[i].fn = NULL;
    __atomic_sub_fetch(&nlisteners, 1, __ATOMIC_RELEASE);
    break;
  }
  pthread_mutex_unlock(&listen_lock);
}
