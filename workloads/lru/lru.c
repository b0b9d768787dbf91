/* SPDX-License-Identifier: MIT */
/* workloads/lru/lru.c — a least-recently-used cache served at a steady request rate, with
 * every request's latency recorded, simple and metered (DaCapo Chopin's two latencies).
 *
 * Each thread owns a cache of `entries` entries, all gclab objects: a cache object
 * (references: the hash table, the most and the least recently used entry), a hash table
 * (a table of references, a power of two of buckets >= entries, chained), entries
 * (references: prev and next in the recency list, the next entry of its bucket, its value;
 * and the key) and values (`value_bytes` of payload, no references; its first word is a
 * tag). The cache is filled first (untimed). Then `rate` requests a second arrive at
 * steady intervals for `duration` seconds x scale: request i is due at t0 + i / rate. A
 * thread that is ahead sleeps until the next request is due (clock_nanosleep, timer slack
 * 1 ns); one that is behind starts it at once. A request draws a key uniform in
 * [0, entries x key_factor) and is a put with probability put_pct %, else a get: a get
 * that hits moves the entry to the front and reads its value's tag; a get that misses and
 * every put store a new value (a put on a present key replaces its value, a missing key
 * is inserted, evicting the least recently used entry when full). Every request also
 * builds and drops a chain of `garbage` small objects (the request's own temporaries).
 *
 * Latency per request: simple = end - actual start; metered = end - due time, so a pause
 * delays every request queued behind it, not only the one it hit. Both go into
 * log-linear histograms (core/pause.h's, merged over threads) and are reported as figures
 * simple_* and metered_* (p50, p90, p99, p99.9, max, in microseconds), with `requests`
 * (all threads) and rate_per_s (the steady arrival rate of all threads: rate x threads).
 * The timer's own wake-up lateness is part of metered latency: it is the floor of
 * metered p50 on an idle machine (a few microseconds) and grows with machine load.
 *
 * Reference discipline: every link is a counted reference; an entry leaving the list has
 * its prev/next cleared, so reference counting alone frees it (no cycle outlives an
 * eviction); at the end every entry is evicted before the cache is dropped. Every
 * reference held across an allocation is in a root frame, or reachable from the rooted
 * cache. Checksum: per thread, hits + puts + evictions + the tags read, summed over
 * threads (the request stream depends only on seed and parameters, never on timing). */
#define _GNU_SOURCE /* clock_nanosleep constants, prctl */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

#include "pause.h"
#include "workload.h"

struct cache {
  struct gcl_object header; /* common header */
  struct gcl_object *table; /* the bucket table */
  struct gcl_object *head;  /* most recently used entry, NULL when empty */
  struct gcl_object *tail;  /* least recently used entry, NULL when empty */
  uint64_t count;           /* entries held */
};
struct entry {
  struct gcl_object header; /* common header */
  struct gcl_object *prev;  /* more recently used neighbour, NULL at the head */
  struct gcl_object *next;  /* less recently used neighbour, NULL at the tail */
  struct gcl_object *chain; /* next entry of the same bucket */
  struct gcl_object *value; /* the value object */
  uint64_t key;             /* the key */
};
struct table {
  struct gcl_varobject header; /* common header; len = buckets */
  struct gcl_object *slot[];   /* bucket heads */
};
struct value {
  struct gcl_varobject header; /* common header; len = payload bytes */
  uint64_t tag;                /* what a get reads */
  char payload[];              /* the rest, untouched */
};
struct temp {
  struct gcl_object header; /* common header */
  struct gcl_object *next;  /* the rest of the chain */
};
#define CACHE(o) ((struct cache *)(o))
#define ENTRY(o) ((struct entry *)(o))
#define TABLE(o) ((struct table *)(o))

static const struct gcl_type cache_type = {"lru-cache", sizeof(struct cache), 0, GCL_TYPE_CONTAINER,
                                           offsetof(struct cache, table), 3, NULL, NULL, 0, 0};
static const struct gcl_type entry_type = {"lru-entry", sizeof(struct entry), 0, GCL_TYPE_CONTAINER,
                                           offsetof(struct entry, prev), 4, NULL, NULL, 0, 0};
static const struct gcl_type table_type = {
    "lru-table", sizeof(struct table), sizeof(struct gcl_object *),
    GCL_TYPE_CONTAINER | GCL_TYPE_VAR | GCL_TYPE_REF_ITEMS, offsetof(struct table, slot), 0, NULL, NULL, 0, 0};
static const struct gcl_type value_type = {"lru-value", sizeof(struct value), 1, GCL_TYPE_VAR, 0, 0, NULL, NULL, 0, 0};
static const struct gcl_type temp_type = {"lru-temp", sizeof(struct temp), 0, GCL_TYPE_CONTAINER,
                                          offsetof(struct temp, next), 1, NULL, NULL, 0, 0};

static const struct gcl_param_def params[] = {
    {"entries", 50000, 1, 1e8, true, "entries each thread's cache holds"},
    {"rate", 20000, 1, 1e8, false, "requests a second arriving at each thread, evenly spaced"},
    {"duration", 1, 0.001, 3600, false, "seconds of requests at scale 1 (requests = rate x duration x scale)"},
    {"key_factor", 2, 1, 1000, false, "keys are drawn from [0, entries x key_factor)"},
    {"put_pct", 20, 0, 100, false, "percentage of requests that are puts"},
    {"value_bytes", 256, 8, 1e6, true, "bytes of a value's payload"},
    {"garbage", 8, 0, 1e6, true, "temporary objects each request makes and drops"},
};

static const struct gcl_fig_decl figures[] = {
    {"simple_p50_us", "us", "median request latency, end - actual start"},
    {"simple_p90_us", "us", "p90 of simple latency"},
    {"simple_p99_us", "us", "p99 of simple latency"},
    {"simple_p999_us", "us", "p99.9 of simple latency"},
    {"simple_max_us", "us", "largest simple latency"},
    {"metered_p50_us", "us", "median request latency, end - due time at the steady rate"},
    {"metered_p90_us", "us", "p90 of metered latency"},
    {"metered_p99_us", "us", "p99 of metered latency"},
    {"metered_p999_us", "us", "p99.9 of metered latency"},
    {"metered_max_us", "us", "largest metered latency"},
    {"requests", "count", "requests served, all threads"},
    {"rate_per_s", "count", "steady arrival rate of all threads together (rate x threads)"},
};

/* What run() shares with its threads: the parameters and each thread's histograms. */
struct lru_run {
  uint64_t entries, keys, requests, period_ns; /* sizes, requests per thread, interval */
  unsigned put_pct;                            /* puts per 100 requests */
  size_t value_bytes;                          /* value payload */
  unsigned garbage;                            /* temporaries per request */
  struct gcl_pause_hist *simple, *metered;     /* per thread: latencies in ns */
};

static inline size_t bucket_of(const struct gcl_object *table, uint64_t key) {
  uint64_t h = key * 0x9E3779B97F4A7C15ull;
  return (size_t)((h ^ (h >> 29)) & (((const struct gcl_varobject *)table)->len - 1));
}

/* The entry of key, borrowed (held by its bucket), or NULL. */
static struct gcl_object *lookup(struct gcl_mutator *m, struct gcl_object *table, uint64_t key) {
  struct gcl_object *e = gcl_load(m, table, &TABLE(table)->slot[bucket_of(table, key)]);
  while (e && ENTRY(e)->key != key) e = gcl_load(m, e, &ENTRY(e)->chain);
  return e;
}

/* Take e (held by its bucket) out of the recency list, clearing its links. */
static void list_unlink(struct gcl_mutator *m, struct gcl_object *c, struct gcl_object *e) {
  struct gcl_object *p = gcl_load(m, e, &ENTRY(e)->prev), *n = gcl_load(m, e, &ENTRY(e)->next);
  if (p) gcl_store(m, p, &ENTRY(p)->next, n);
  else gcl_store(m, c, &CACHE(c)->head, n);
  if (n) gcl_store(m, n, &ENTRY(n)->prev, p);
  else gcl_store(m, c, &CACHE(c)->tail, p);
  gcl_store(m, e, &ENTRY(e)->prev, NULL);
  gcl_store(m, e, &ENTRY(e)->next, NULL);
}

/* Put e (unlinked, held by its bucket or the caller) at the front. */
static void list_push_front(struct gcl_mutator *m, struct gcl_object *c, struct gcl_object *e) {
  struct gcl_object *h = gcl_load(m, c, &CACHE(c)->head);
  gcl_store(m, e, &ENTRY(e)->next, h);
  if (h) gcl_store(m, h, &ENTRY(h)->prev, e);
  else gcl_store(m, c, &CACHE(c)->tail, e);
  gcl_store(m, c, &CACHE(c)->head, e);
}

/* Evict the least recently used entry (the cache is not empty). No allocation. */
static void evict(struct gcl_mutator *m, struct gcl_object *c) {
  struct gcl_object *t = gcl_load(m, c, &CACHE(c)->tail), *table = gcl_load(m, c, &CACHE(c)->table);
  gcl_retain(m, t);
  list_unlink(m, c, t);
  struct gcl_object **slot = &TABLE(table)->slot[bucket_of(table, ENTRY(t)->key)], *owner = table;
  /* Invariant: *slot (a slot of owner) is a link of t's bucket chain before t. */
  while (gcl_load(m, owner, slot) != t) {
    owner = gcl_load(m, owner, slot);
    slot = &ENTRY(owner)->chain;
  }
  gcl_store(m, owner, slot, gcl_load(m, t, &ENTRY(t)->chain));
  gcl_store(m, t, &ENTRY(t)->chain, NULL);
  CACHE(c)->count--;
  gcl_release(m, t);
}

static struct gcl_object *new_value(struct gcl_mutator *m, const struct lru_run *r, uint64_t tag) {
  struct gcl_object *v = gcl_new_var(m, &value_type, r->value_bytes);
  ((struct value *)v)->tag = tag;
  return v;
}

/* Insert key (absent) with a new value, evicting first when full. */
static void insert(struct gcl_mutator *m, const struct lru_run *r, struct gcl_object *c, uint64_t key,
                   uint64_t tag) {
  if (CACHE(c)->count == r->entries) evict(m, c);
  struct gcl_object *e = gcl_new(m, &entry_type);
  GCL_FRAME(m, f, &e);
  ENTRY(e)->key = key;
  /* e is new and unpublished until the table holds it: initialising stores */
  gcl_store_init_move(m, e, &ENTRY(e)->value, new_value(m, r, tag));
  struct gcl_object *table = gcl_load(m, c, &CACHE(c)->table);
  struct gcl_object **slot = &TABLE(table)->slot[bucket_of(table, key)];
  gcl_store_init(m, e, &ENTRY(e)->chain, gcl_load(m, table, slot));
  gcl_store(m, table, slot, e);
  list_push_front(m, c, e);
  CACHE(c)->count++;
  GCL_FRAME_POP(m, f);
  gcl_release(m, e);
}

/* The request's temporaries: a chain of n objects, built and dropped. */
static void make_garbage(struct gcl_mutator *m, unsigned n) {
  struct gcl_object *head = NULL;
  GCL_FRAME(m, f, &head);
  for (unsigned i = 0; i < n; i++) {
    struct gcl_object *t = gcl_new(m, &temp_type);
    gcl_store_move(m, t, &((struct temp *)t)->next, head);
    head = t;
  }
  GCL_FRAME_POP(m, f);
  gcl_release(m, head);
}

/* One request; returns its part of the checksum. */
static uint64_t serve(struct gcl_mutator *m, const struct lru_run *r, struct gcl_object *c,
                      struct gcl_rng *rng, uint64_t i) {
  uint64_t key = gcl_rng_below(rng, r->keys), sum = 0;
  bool put = gcl_rng_below(rng, 100) < r->put_pct;
  uint64_t tag = key * 0x100000001B3ull ^ i;
  make_garbage(m, r->garbage);
  struct gcl_object *e = lookup(m, gcl_load(m, c, &CACHE(c)->table), key);
  if (e) {
    GCL_FRAME(m, f, &e);
    list_unlink(m, c, e);
    list_push_front(m, c, e);
    if (put) {
      gcl_store_move(m, e, &ENTRY(e)->value, new_value(m, r, tag));
      sum += 1;
    } else {
      sum += 1 + ((struct value *)gcl_load(m, e, &ENTRY(e)->value))->tag;
    }
    GCL_FRAME_POP(m, f);
  } else {
    insert(m, r, c, key, tag);
    sum += 3;
  }
  return sum;
}

static void sleep_until(struct gcl_mutator *m, uint64_t due) {
  struct timespec ts = {(time_t)(due / 1000000000u), (long)(due % 1000000000u)};
  gcl_blocking_enter(m);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
  }
  gcl_blocking_leave(m);
}

static uint64_t thread_body(struct gcl_mutator *m, struct gcl_workload_ctx *ctx, unsigned index,
                            void *arg) {
  struct lru_run *r = arg;
  struct gcl_rng rng;
  gcl_rng_seed(&rng, ctx->seed, index);
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); /* this thread's sleeps end on time */
  size_t buckets = 1;
  while (buckets < r->entries) buckets <<= 1;
  struct gcl_object *c = gcl_new(m, &cache_type);
  GCL_FRAME(m, f, &c);
  gcl_store_move(m, c, &CACHE(c)->table, gcl_new_var(m, &table_type, buckets));
  uint64_t sum = 0, fill = 0;
  /* Invariant: the cache holds count distinct keys, at most entries. Untimed fill. */
  while (CACHE(c)->count < r->entries) {
    uint64_t key = gcl_rng_below(&rng, r->keys);
    if (!lookup(m, gcl_load(m, c, &CACHE(c)->table), key)) insert(m, r, c, key, key);
    if (++fill % 64 == 0) gcl_safepoint(m);
  }
  gcl_checkpoint(m);
  struct gcl_pause_hist *hs = &r->simple[index], *hm = &r->metered[index];
  uint64_t t0 = gcl_now_ns();
  for (uint64_t i = 0; i < r->requests; i++) {
    uint64_t due = t0 + i * r->period_ns, start = gcl_now_ns();
    if (start < due) {
      sleep_until(m, due);
      start = gcl_now_ns();
    }
    sum += serve(m, r, c, &rng, i);
    uint64_t end = gcl_now_ns();
    gcl_pause_hist_add(hs, end - start);
    gcl_pause_hist_add(hm, end - due);
    gcl_safepoint(m);
  }
  gcl_checkpoint(m);
  while (CACHE(c)->count) evict(m, c);
  GCL_FRAME_POP(m, f);
  gcl_release(m, c);
  return sum;
}

static void report(struct gcl_workload_ctx *ctx, const char *prefix, const struct gcl_pause_hist *h) {
  static const struct { const char *name; double q; } qs[] = {
      {"p50", 0.50}, {"p90", 0.90}, {"p99", 0.99}, {"p999", 0.999}};
  static const char *const keys[2][5] = {
      {"simple_p50_us", "simple_p90_us", "simple_p99_us", "simple_p999_us", "simple_max_us"},
      {"metered_p50_us", "metered_p90_us", "metered_p99_us", "metered_p999_us", "metered_max_us"}};
  int k = prefix[0] == 'm';
  if (!h->count) return;
  for (unsigned i = 0; i < 4; i++)
    gcl_figure_set(ctx, keys[k][i], (double)gcl_pause_hist_quantile(h, qs[i].q) * 1e-3);
  gcl_figure_set(ctx, keys[k][4], (double)h->max_ns * 1e-3);
}

static int run(struct gcl_workload_ctx *ctx) {
  double rate = gcl_param(ctx, "rate");
  struct lru_run r = {
      .entries = (uint64_t)gcl_param(ctx, "entries"),
      .requests = (uint64_t)fmax(1, llround(rate * gcl_param(ctx, "duration") * ctx->scale)),
      .period_ns = (uint64_t)llround(1e9 / rate),
      .put_pct = (unsigned)gcl_param(ctx, "put_pct"),
      .value_bytes = (size_t)gcl_param(ctx, "value_bytes"),
      .garbage = (unsigned)gcl_param(ctx, "garbage"),
  };
  r.keys = (uint64_t)ceil((double)r.entries * gcl_param(ctx, "key_factor"));
  r.simple = calloc(ctx->threads, sizeof *r.simple);
  r.metered = calloc(ctx->threads, sizeof *r.metered);
  if (!r.simple || !r.metered) gcl_alloc_failed(2 * ctx->threads * sizeof *r.simple);
  ctx->checksum = gcl_run_threads(ctx, thread_body, &r);
  for (unsigned t = 1; t < ctx->threads; t++) {
    gcl_pause_hist_merge(&r.simple[0], &r.simple[t]);
    gcl_pause_hist_merge(&r.metered[0], &r.metered[t]);
  }
  report(ctx, "simple", &r.simple[0]);
  report(ctx, "metered", &r.metered[0]);
  gcl_figure_set(ctx, "requests", (double)(r.requests * ctx->threads));
  gcl_figure_set(ctx, "rate_per_s", rate * ctx->threads);
  free(r.simple);
  free(r.metered);
  return 0;
}

const struct gcl_workload gcl_workload_lru = {
    .name = "lru",
    .description = "an LRU cache (hash map + recency list of objects) served at a steady rate; "
                   "simple and metered request latency",
    .params = params,
    .nparams = GCL_COUNT(params),
    .figures = figures,
    .nfigures = GCL_COUNT(figures),
    .run = run,
};
