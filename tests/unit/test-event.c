/* SPDX-License-Identifier: MIT */
/* tests/unit/test-event.c — the event stream of core/event.h and what the recorder of
 * core/recorder.c derives from it: for a scripted stream, the pause and ttsp histograms,
 * the log and the sizes agree exactly; listeners see the same stream; and real stops of
 * the world with 2 and 4 mutators yield one pause and one ttsp per stop (also under TSan). */
#include <criterion/criterion.h>
#include <signal.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event.h"
#include "mutator.h"
#include "pause.h"

#define T 7 /* the scripted emitter's thread id */

static void emit(enum gcl_event_kind k, uint64_t t, const char *name, uint64_t bytes) {
  gcl_event_emit(&(struct gcl_event){k, t, T, name, bytes});
}

static void fresh(bool every_kind) {
  gcl_pause_reset();
  gcl_pause_log_enable(64, every_kind);
}

/* Two stops, the first with nested phases and trace marks, the second without; a phase
 * outside any stop. */
static void script(void) {
  emit(GCL_EVENT_STOP_REQUESTED, 1000, NULL, 0);
  emit(GCL_EVENT_MUTATORS_STOPPED, 1300, NULL, 0);
  emit(GCL_EVENT_PHASE_START, 1400, "mark", 0);
  emit(GCL_EVENT_PHASE_START, 1450, "merge", 0);
  emit(GCL_EVENT_PHASE_END, 1480, "merge", 0);
  emit(GCL_EVENT_ROOTS_TRACED, 1500, NULL, 0);
  emit(GCL_EVENT_HEAP_TRACED, 1800, NULL, 0);
  emit(GCL_EVENT_PHASE_END, 1900, "mark", 0);
  emit(GCL_EVENT_WORLD_RESTARTED, 2000, NULL, 0);
  emit(GCL_EVENT_PHASE_START, 2100, "clear", 0);
  emit(GCL_EVENT_LIVE_DATA, 2500, NULL, 4096);
  emit(GCL_EVENT_PHASE_END, 3000, "clear", 0);
  emit(GCL_EVENT_STOP_REQUESTED, 5000, NULL, 0);
  emit(GCL_EVENT_MUTATORS_STOPPED, 5100, NULL, 0);
  emit(GCL_EVENT_HEAP_RESIZED, 6000, NULL, 1 << 20);
  emit(GCL_EVENT_LIVE_DATA, 7000, NULL, 1024);
  emit(GCL_EVENT_WORLD_RESTARTED, 9000, NULL, 0);
}

struct want {
  uint64_t start, dur; /* expected entry */
  const char *kind;    /* its kind */
};

static void expect_log(const struct want *w, uint32_t nw) {
  uint32_t n;
  uint64_t dropped;
  const struct gcl_pause_event *e = gcl_pause_log(&n, &dropped);
  cr_assert_eq(n, nw, "log has %u entries, expected %u", n, nw);
  cr_assert_eq(dropped, 0);
  for (uint32_t i = 0; i < n; i++) {
    cr_expect_str_eq(e[i].kind, w[i].kind, "entry %u", i);
    cr_expect_eq(e[i].start_ns, w[i].start, "entry %u start", i);
    cr_expect_eq(e[i].duration_ns, w[i].dur, "entry %u duration", i);
    cr_expect_eq(e[i].thread, T, "entry %u thread", i);
  }
}

Test(recorder, scripted_stream_histograms_log_and_sizes_agree) {
  fresh(true);
  script();
  struct gcl_pause_hist p, t;
  gcl_pause_snapshot(&p);
  gcl_ttsp_snapshot(&t);
  cr_expect_eq(p.count, 2);
  cr_expect_eq(p.total_ns, 1000 + 4000);
  cr_expect_eq(p.max_ns, 4000);
  cr_expect_eq(gcl_pause_hist_quantile(&p, 1.0), 4000);
  cr_expect_eq(t.count, 2);
  cr_expect_eq(t.total_ns, 300 + 100);
  cr_expect_eq(t.max_ns, 300);
  /* Entries appear when what they measure ends. */
  static const struct want w[] = {
      {1000, 300, "ttsp"},  {1450, 30, "merge"}, {1500, 0, "roots-traced"}, {1800, 0, "heap-traced"},
      {1400, 500, "mark"},  {1000, 1000, "pause"}, {2100, 900, "clear"},    {5000, 100, "ttsp"},
      {5000, 4000, "pause"},
  };
  expect_log(w, sizeof w / sizeof w[0]);
  struct gcl_gc_sizes s;
  gcl_sizes_snapshot(&s);
  cr_expect_eq(s.heap_bytes, 1 << 20);
  cr_expect_eq(s.heap_bytes_max, 1 << 20);
  cr_expect_eq(s.live_bytes, 1024);
  cr_expect_eq(s.live_bytes_max, 4096);
  cr_expect_eq(s.live_samples, 2);
}

Test(recorder, pause_only_log_keeps_the_same_pauses) {
  fresh(false);
  script();
  static const struct want w[] = {{1000, 1000, "pause"}, {5000, 4000, "pause"}};
  expect_log(w, 2);
  struct gcl_pause_hist t;
  gcl_ttsp_snapshot(&t);
  cr_expect_eq(t.count, 2, "the ttsp histogram does not depend on the log");
}

Test(recorder, a_full_log_counts_drops_and_the_histograms_see_everything) {
  gcl_pause_reset();
  gcl_pause_log_enable(3, true);
  script();
  uint32_t n;
  uint64_t dropped;
  const struct gcl_pause_event *e = gcl_pause_log(&n, &dropped);
  cr_expect_eq(n, 3);
  cr_expect_eq(dropped, 9 - 3);
  cr_expect_str_eq(e[2].kind, "roots-traced");
  struct gcl_pause_hist p;
  gcl_pause_snapshot(&p);
  cr_expect_eq(p.count, 2);
  gcl_pause_log_enable(0, false);
}

/* The log's memory is mapped lazily (issue 13: zeroed pages on first touch, not a calloc
 * of the whole capacity): at the runner's capacity, many pauses spread over many pages
 * are every one logged, in order, with its own start and duration, none dropped; and a
 * log re-enabled smaller starts empty and still keeps exactly its capacity. */
Test(recorder, many_pauses_are_all_logged_in_a_lazily_mapped_log) {
  enum { CAP = 1 << 20, STOPS = 300000 }; /* 300,000 entries: 7 MB, ~1,760 pages */
  gcl_pause_reset();
  gcl_pause_log_enable(CAP, false);
  for (uint64_t i = 0; i < STOPS; i++) {
    uint64_t t = 1000 + 10 * i;
    emit(GCL_EVENT_STOP_REQUESTED, t, NULL, 0);
    emit(GCL_EVENT_MUTATORS_STOPPED, t + 1, NULL, 0);
    emit(GCL_EVENT_WORLD_RESTARTED, t + 2 + i % 5, NULL, 0);
  }
  uint32_t n;
  uint64_t dropped;
  const struct gcl_pause_event *e = gcl_pause_log(&n, &dropped);
  cr_assert_eq(n, STOPS, "%u of %u pauses logged", n, STOPS);
  cr_assert_eq(dropped, 0);
  uint32_t bad = 0;
  for (uint32_t i = 0; i < n; i++)
    bad += e[i].start_ns != 1000 + 10 * (uint64_t)i || e[i].duration_ns != 2 + i % 5 ||
           strcmp(e[i].kind, "pause") != 0 || e[i].thread != T;
  cr_expect_eq(bad, 0, "%u entries differ from their pause", bad);
  struct gcl_pause_hist p;
  gcl_pause_snapshot(&p);
  cr_expect_eq(p.count, STOPS);
  gcl_pause_log_enable(2, false); /* the old mapping goes, a new one starts empty */
  for (int i = 0; i < 3; i++) {
    emit(GCL_EVENT_STOP_REQUESTED, 10 * i, NULL, 0);
    emit(GCL_EVENT_MUTATORS_STOPPED, 10 * i + 1, NULL, 0);
    emit(GCL_EVENT_WORLD_RESTARTED, 10 * i + 3, NULL, 0);
  }
  e = gcl_pause_log(&n, &dropped);
  cr_expect(n == 2 && dropped == 1 && e[0].start_ns == 0 && e[1].start_ns == 10,
            "n %u dropped %llu", n, (unsigned long long)dropped);
  gcl_pause_log_enable(0, false);
}

Test(recorder, same_name_phases_nest_per_thread) {
  fresh(true);
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_PHASE_START, 10, 1, "mark", 0});
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_PHASE_START, 20, 2, "mark", 0});
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_PHASE_START, 30, 1, "mark", 0});
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_PHASE_END, 40, 1, "mark", 0}); /* closes 30 */
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_PHASE_END, 50, 2, "mark", 0}); /* closes 20 */
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_PHASE_END, 60, 1, "mark", 0}); /* closes 10 */
  uint32_t n;
  uint64_t dropped;
  const struct gcl_pause_event *e = gcl_pause_log(&n, &dropped);
  cr_assert_eq(n, 3);
  cr_expect(e[0].start_ns == 30 && e[0].duration_ns == 10 && e[0].thread == 1);
  cr_expect(e[1].start_ns == 20 && e[1].duration_ns == 30 && e[1].thread == 2);
  cr_expect(e[2].start_ns == 10 && e[2].duration_ns == 50 && e[2].thread == 1);
}

/* rc-gen's local collections open a phase on every thread with the world running: any
 * number may be open at once (the table used to hold 16 and aborted at the 17th). */
Test(recorder, many_threads_phases_open_at_once) {
  enum { N = 200 };
  fresh(true);
  gcl_pause_log_enable(2 * N, true);
  for (uint32_t th = 1; th <= N; th++)
    gcl_event_emit(&(struct gcl_event){GCL_EVENT_PHASE_START, 1000 + th, th, "mark", 0});
  for (uint32_t th = N; th >= 1; th--) /* closed newest first: each takes its own start */
    gcl_event_emit(&(struct gcl_event){GCL_EVENT_PHASE_END, 5000 + th, th, "mark", 0});
  uint32_t n;
  uint64_t dropped;
  const struct gcl_pause_event *e = gcl_pause_log(&n, &dropped);
  cr_assert_eq(n, N);
  cr_assert_eq(dropped, 0);
  for (uint32_t i = 0; i < n; i++)
    cr_expect(e[i].start_ns == 1000 + e[i].thread && e[i].duration_ns == 4000,
              "thread %u: start %llu, duration %llu", e[i].thread,
              (unsigned long long)e[i].start_ns, (unsigned long long)e[i].duration_ns);
}

/* --- listeners ---------------------------------------------------------------------------- */

struct tape {
  enum gcl_event_kind kind[64]; /* what was seen, in order */
  uint64_t t[64];               /* when */
  unsigned n;                   /* how many */
};

static void record(const struct gcl_event *e, void *data) {
  struct tape *tp = data;
  if (tp->n < 64) {
    tp->kind[tp->n] = e->kind;
    tp->t[tp->n++] = e->t_ns;
  }
}

Test(event, listeners_see_the_stream_in_order_until_removed) {
  fresh(true);
  struct tape a = {.n = 0}, b = {.n = 0};
  cr_assert_eq(gcl_event_listen(record, &a), 0);
  cr_assert_eq(gcl_event_listen(record, &b), 0);
  script();
  gcl_event_unlisten(record, &b);
  emit(GCL_EVENT_HEAP_RESIZED, 10000, NULL, 1);
  gcl_event_unlisten(record, &a);
  emit(GCL_EVENT_HEAP_RESIZED, 11000, NULL, 2);
  cr_expect_eq(a.n, 18);
  cr_expect_eq(b.n, 17);
  cr_expect_eq(a.kind[0], GCL_EVENT_STOP_REQUESTED);
  cr_expect_eq(a.kind[8], GCL_EVENT_WORLD_RESTARTED);
  cr_expect_eq(a.t[17], 10000);
  for (unsigned i = 0; i < b.n; i++) cr_expect_eq(a.t[i], b.t[i], "event %u", i);
}

Test(event, listener_table_is_bounded) {
  static struct tape t[GCL_EVENT_MAX_LISTENERS + 1];
  for (unsigned i = 0; i < GCL_EVENT_MAX_LISTENERS; i++) cr_assert_eq(gcl_event_listen(record, &t[i]), 0);
  cr_expect_lt(gcl_event_listen(record, &t[GCL_EVENT_MAX_LISTENERS]), 0);
  for (unsigned i = 0; i < GCL_EVENT_MAX_LISTENERS; i++) gcl_event_unlisten(record, &t[i]);
}

Test(event, thread_id_is_the_callers_even_after_fork) {
  cr_assert_eq(gcl_event_thread_id(), (uint32_t)syscall(SYS_gettid));
  pid_t child = fork();
  cr_assert_geq(child, 0);
  if (child == 0) _exit(gcl_event_thread_id() == (uint32_t)syscall(SYS_gettid) ? 0 : 1);
  int st = 0;
  cr_assert_eq(waitpid(child, &st, 0), child);
  cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child saw its parent's thread id");
}

/* --- real stops: one pause and one ttsp per stop --------------------------------------------- */

#define STOPS 40

static int spin_done;

static void *spinner(void *arg) {
  (void)arg;
  struct gcl_mutator *m = gcl_thread_attach();
  while (!__atomic_load_n(&spin_done, __ATOMIC_SEQ_CST)) gcl_safepoint(m);
  gcl_thread_detach(m);
  return NULL;
}

struct stops {
  unsigned requested, stopped, restarted; /* events of each stop kind seen */
  bool in_order;                          /* each stop came as requested, stopped, restarted */
};

static void count_stops(const struct gcl_event *e, void *data) {
  struct stops *s = data;
  if (e->kind == GCL_EVENT_STOP_REQUESTED) {
    s->in_order &= s->requested == s->restarted;
    s->requested++;
  } else if (e->kind == GCL_EVENT_MUTATORS_STOPPED) {
    s->in_order &= s->stopped + 1 == s->requested;
    s->stopped++;
  } else if (e->kind == GCL_EVENT_WORLD_RESTARTED) {
    s->in_order &= s->restarted + 1 == s->stopped;
    s->restarted++;
  }
}

/* The requester and mutators - 1 spinning threads. */
static void stops_with(unsigned mutators) {
  cr_assert_eq(gcl_heap_init(), 0);
  fresh(true);
  gcl_pause_log_enable(4 * STOPS, true);
  struct stops s = {.in_order = true};
  cr_assert_eq(gcl_event_listen(count_stops, &s), 0);
  pthread_t t[8];
  for (unsigned i = 0; i + 1 < mutators; i++) pthread_create(&t[i], NULL, spinner, NULL);
  struct gcl_mutator *m = gcl_thread_attach();
  for (int i = 0; i < STOPS; i++) {
    gcl_stop_the_world(m);
    gcl_start_the_world(m);
    gcl_safepoint(m);
  }
  __atomic_store_n(&spin_done, 1, __ATOMIC_SEQ_CST);
  gcl_blocking_enter(m);
  for (unsigned i = 0; i + 1 < mutators; i++) pthread_join(t[i], NULL);
  gcl_blocking_leave(m);
  gcl_thread_detach(m);
  gcl_event_unlisten(count_stops, &s);

  cr_expect(s.in_order && s.requested == STOPS && s.stopped == STOPS && s.restarted == STOPS,
            "listener: %u requested, %u stopped, %u restarted", s.requested, s.stopped, s.restarted);
  struct gcl_pause_hist p, tt;
  gcl_pause_snapshot(&p);
  gcl_ttsp_snapshot(&tt);
  cr_expect_eq(p.count, STOPS);
  cr_expect_eq(tt.count, STOPS);
  cr_expect_leq(tt.total_ns, p.total_ns, "time to safepoint is part of the pause");
  /* The log: one pause and one ttsp per stop, the ttsp just before its pause, same start. */
  uint32_t n;
  uint64_t dropped;
  const struct gcl_pause_event *e = gcl_pause_log(&n, &dropped);
  cr_assert_eq(dropped, 0);
  cr_assert_eq(n, 2 * STOPS, "%u log entries", n);
  uint64_t log_pause_total = 0;
  for (uint32_t i = 0; i < n; i += 2) {
    cr_expect_str_eq(e[i].kind, "ttsp");
    cr_expect_str_eq(e[i + 1].kind, "pause");
    cr_expect_eq(e[i].start_ns, e[i + 1].start_ns);
    cr_expect_leq(e[i].duration_ns, e[i + 1].duration_ns);
    log_pause_total += e[i + 1].duration_ns;
  }
  cr_expect_eq(log_pause_total, p.total_ns, "the log and the histogram hold the same pauses");
}

Test(event, stops_with_2_mutators_one_pause_and_one_ttsp_each, .timeout = 60) { stops_with(2); }
Test(event, stops_with_4_mutators_one_pause_and_one_ttsp_each, .timeout = 60) { stops_with(4); }

/* Handshake callbacks (issue 9): each HANDSHAKE_PAUSE is one pause in the histogram and,
 * one "handshake-callback" entry (kept by pause-only logging too: mmu_* counts it for its
 * thread), never a "pause" one;
 * 40 callbacks overlapping in time (40 threads' at once) keep no open state, so they
 * cannot overflow the recorder's open phases (16). */
Test(recorder, handshake_callbacks_are_pauses_of_their_own_kind) {
  fresh(true);
  emit(GCL_EVENT_PHASE_START, 100, "handshake", 0);
  for (uint32_t k = 0; k < 40; k++)
    gcl_event_emit(&(struct gcl_event){GCL_EVENT_HANDSHAKE_PAUSE, 200 + k, 100 + k, NULL, 50 + k});
  emit(GCL_EVENT_PHASE_END, 900, "handshake", 0);
  struct gcl_pause_hist h;
  gcl_pause_snapshot(&h);
  cr_assert_eq(h.count, 40, "pauses %llu, want 40", (unsigned long long)h.count);
  cr_assert_eq(h.max_ns, 89);
  uint32_t n;
  uint64_t dropped;
  const struct gcl_pause_event *e = gcl_pause_log(&n, &dropped);
  cr_assert_eq(n, 41);
  for (uint32_t k = 0; k < 40; k++) {
    cr_assert_str_eq(e[k].kind, "handshake-callback");
    cr_assert_eq(e[k].start_ns, 200 + k);
    cr_assert_eq(e[k].duration_ns, 50 + k);
  }
  cr_assert_str_eq(e[40].kind, "handshake"); /* the requester's phase */
  fresh(false);
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_HANDSHAKE_PAUSE, 10, T, NULL, 5});
  e = gcl_pause_log(&n, &dropped);
  cr_assert_eq(n, 1, "pause-only logging dropped a per-thread pause (mmu_* counts it)");
  cr_assert_str_eq(e[0].kind, "handshake-callback");
}

/* A thread's own collector work (THREAD_PAUSE: cmark's mark assists and paced waits) is a
 * pause in the histogram, logged under its kind even by pause-only logging (mmu_*), and
 * never a "pause" entry; an unknown kind is an emitter bug. */
Test(recorder, thread_pauses_are_pauses_of_their_kind) {
  fresh(false);
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_THREAD_PAUSE, 100, 7, "assist", 300});
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_THREAD_PAUSE, 500, 8, "pace", 2000});
  struct gcl_pause_hist h;
  gcl_pause_snapshot(&h);
  cr_assert_eq(h.count, 2);
  cr_assert_eq(h.max_ns, 2000);
  uint32_t n;
  uint64_t dropped;
  const struct gcl_pause_event *e = gcl_pause_log(&n, &dropped);
  cr_assert_eq(n, 2);
  cr_assert_str_eq(e[0].kind, "assist");
  cr_assert_eq(e[0].thread, 7);
  cr_assert_str_eq(e[1].kind, "pace");
  cr_assert_eq(e[1].duration_ns, 2000);
}

/* A paced wait through a world stop (the remark) is not counted twice: the histogram gets
 * the stop's pause and the wait's time outside it; a wait that the stop covers entirely
 * adds nothing; the log keeps every span whole (mmu_* merges overlaps itself). */
static void stop_at(uint64_t a, uint64_t b) {
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_STOP_REQUESTED, a, 1, NULL, 0});
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_MUTATORS_STOPPED, a + 10, 1, NULL, 0});
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_WORLD_RESTARTED, b, 1, NULL, 0});
}

Test(recorder, a_thread_pause_through_a_stop_counts_only_outside_it) {
  fresh(false);
  stop_at(1000, 1500);                                                               /* 500 */
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_THREAD_PAUSE, 800, 7, "pace", 1200}); /* 800..2000 */
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_THREAD_PAUSE, 1100, 8, "pace", 300}); /* inside */
  stop_at(3000, 3100);
  stop_at(3200, 3300);
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_THREAD_PAUSE, 2900, 7, "assist", 500}); /* 2900..3400 */
  /* one still open: a wait that ends while the world is stopped */
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_STOP_REQUESTED, 5000, 1, NULL, 0});
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_THREAD_PAUSE, 4900, 8, "pace", 150}); /* 4900..5050 */
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_MUTATORS_STOPPED, 5060, 1, NULL, 0});
  gcl_event_emit(&(struct gcl_event){GCL_EVENT_WORLD_RESTARTED, 5100, 1, NULL, 0});
  struct gcl_pause_hist h;
  gcl_pause_snapshot(&h);
  /* stops 500 + 100 + 100 + 100; waits 1200 - 500, 0 (not counted), 500 - 200, 150 - 50 */
  cr_assert_eq(h.count, 4 + 3, "pauses %llu", (unsigned long long)h.count);
  cr_assert_eq(h.total_ns, 800 + 700 + 300 + 100, "total %llu", (unsigned long long)h.total_ns);
  cr_assert_eq(h.max_ns, 700);
  uint32_t n;
  uint64_t dropped;
  const struct gcl_pause_event *e = gcl_pause_log(&n, &dropped);
  uint64_t whole = 0;
  for (uint32_t i = 0; i < n; i++)
    if (strcmp(e[i].kind, "pace") == 0 || strcmp(e[i].kind, "assist") == 0) whole += e[i].duration_ns;
  cr_assert_eq(whole, 1200 + 300 + 500 + 150, "the log must keep the whole spans");
}

Test(recorder, a_thread_pause_of_an_unknown_kind_aborts) {
  pid_t pid = fork();
  cr_assert(pid >= 0);
  if (pid == 0) {
    fresh(false);
    gcl_event_emit(&(struct gcl_event){GCL_EVENT_THREAD_PAUSE, 100, 7, "mark", 300});
    _exit(0);
  }
  int st;
  cr_assert_eq(waitpid(pid, &st, 0), pid);
  cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "an unknown kind was accepted (status %d)", st);
}
