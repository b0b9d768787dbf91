/* SPDX-License-Identifier: MIT */
/* workloads/pyheap/pyheap.c — replay of a real CPython heap from a `pyheap` snapshot: the
 * object types, building, the rounds, parameters and figures. The plan is made in
 * pyheap-plan.c, the pure-RC model lives in pyheap-shadow.c (pyheap-internal.h: shared).
 *
 * The snapshot (FORMAT.md; made by pyheap-dump.py) is read and validated once. Each thread
 * then rebuilds the whole graph in gclab's object model and runs `rounds * scale` rounds of
 * churn + timed full collection on it:
 *
 *  - Node: one var-sized object per snapshot object (struct pyobj): its references first,
 *    then padding words up to its CPython size: sys.getsizeof minus CPython's GC head for
 *    container types (the collector's prefix stands for that head; gclab's own header and
 *    prefix are reported apart, as header_bytes). Objects CPython tracked are
 *    GCL_TYPE_CONTAINER; untracked ones are not (their references, if any, stay real
 *    references, which a cycle collector sees as external, as CPython's does).
 *  - Roots: objects with external references (> 0) are held by one root table (in a
 *    root frame; not a container, so a cycle collector sees its references as external,
 *    as CPython's sees those from frames and C globals), one slot each. Objects unreachable from every root were
 *    garbage in CPython when dumped; they are not rebuilt.
 *  - Regions: a multi-source breadth-first search from all roots at once gives every
 *    reachable object the region of the nearest root (ties: the lower root index). Every
 *    object of a region is reachable from its root through region objects only (its BFS
 *    parent is in the same region), and the root comes first in the region's BFS order.
 *  - Rebuilding region r ("drop a root, allocate a replacement of the same shape"):
 *    allocate the root's new copy into its root-table slot (dropping the old copy), then
 *    each object in BFS order into its parent's tree slot — so a new object is reachable
 *    from the root table the moment it exists — then fill the remaining slots (a target in
 *    the region is its new copy, elsewhere that object's current copy), then re-point every
 *    reference into the region from other regions' current copies to the new copies.
 *  - Invariant between rebuilds: the current copies (cur[i], borrowed pointers, valid
 *    because every current copy is reachable from the root table) form exactly the
 *    snapshot's reachable graph, and nothing reachable references an old copy. So the live
 *    heap never grows, and each rebuild turns the whole old copy of the region into
 *    garbage: its acyclic part dies at once by reference counting, its cyclic part (and
 *    what hangs from it) waits for a cycle collector.
 *  - A round: each region is rebuilt with probability `churn`, then gcl_collect(m, -1) is
 *    timed (a checkpoint for the verifier follows).
 *
 * Figures (CSV columns pyheap.NAME): tracked (tracked objects in the snapshot); cpython_full_ns_per_tracked
 * (the snapshot's median gc.collect() time / objects tracked then); and, only for a
 * collector that collects cycles, gc_full_ns_per_tracked: the median, over every round of
 * every thread, of the timed collection divided by the tracked objects in the heap when it
 * started = the live tracked copies (the snapshot's reachable tracked objects x threads)
 * + the tracked old copies this thread's round left for the cycle collector (exact, from
 * the RC model below; young collections triggered by allocation may have freed some of
 * them already, and other threads' garbage is not counted). With churn 0 both figures
 * describe a full collection of exactly the dumped live graph.
 *
 * cyclic_garbage: the exact number of copies pure RC leaks (on a garbage cycle or reachable
 * only from one), counted by a model of reference counting over copy ids that mirrors
 * every reference the workload creates and drops (struct shadow). Not timed; it costs
 * some 10 bytes per live-or-leaked copy and per reference. The same model stamps that
 * garbage as it appears (core/garbage.h: outstanding cyclic garbage): after each region's
 * rebuild, the copies alive in the model beyond the live graph that were not stamped yet
 * (the old copy's cyclic part: all of it became garbage during that rebuild; a collection
 * triggered during the rebuild may free some of it a little before its stamp). The
 * teardown (the root table's release after the last round, whose cyclic part only the
 * exit collections free) is not stamped: the figure covers the rounds, and would
 * otherwise end at the whole live graph's cyclic part for every collector.
 *
 * Checksum (per thread, summed): mixes, per round, the regions, objects and references
 * rebuilt; at the end every current copy is checked against the snapshot (index,
 * reference count, each slot holding exactly the target's current copy) and its index and
 * targets are added. It depends only on the snapshot, parameters, scale, seed and threads.
 *
 * Snapshot choice: parameter `snapshot` indexes the shipped list below (snapshots/ next to
 * this file, located through __FILE__); snapshot=-1 replays the file named by the
 * environment variable GCLAB_PYHEAP instead, and only then is GCLAB_PYHEAP read: the
 * params column then says snapshot=-1, never the index of a file that did not run. Which
 * file ran is in the row as figures: snapshot_bytes and snapshot_hash (FNV-1a 64 of the
 * file folded to 53 bits, the most a figure (a double, written exactly) carries). GCLAB_PYHEAP set with
 * a shipped index, snapshot=-1 without it, or a missing or malformed file is a usage
 * error: one line on stderr, exit status 2. */
#include <stddef.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pause.h"
#include "garbage.h"
#include "pyheap-internal.h"
#include "workload.h"

#define SAFEPOINT_EVERY 1024  /* objects built between safepoints */

static const char *const shipped[] = {
    "stdlib-tour.pyheap",  /* 0: a program that imports and exercises much of the stdlib */
    "ast-pydecimal.pyheap", /* 1: the AST of _pydecimal.py with parent links */
    "tiny-synthetic.pyheap", /* 2: 15 hand-written objects, for tests */
};
#define NSHIPPED (sizeof shipped / sizeof shipped[0])

static void pyobj_trace(struct gcl_object *o, gcl_visit_fn visit, void *ctx) {
  struct pyobj *p = PYOBJ(o);
  for (uint32_t i = 0; i < p->nrefs; i++) visit(&p->slot[i], ctx);
}

/* The references are the first nrefs slots: a counted-slot layout (core/object.h,
 * GCL_TYPE_REF_COUNTED), which collectors and core walk without calling the trace hook;
 * pyobj_trace describes the same slots for any walker that asks the hook. */
static const struct gcl_type tracked_type = {
    .name = "pyheap-tracked",
    .size = sizeof(struct pyobj),
    .item_size = sizeof(struct gcl_object *),
    .flags = GCL_TYPE_VAR | GCL_TYPE_CONTAINER | GCL_TYPE_REF_COUNTED,
    .ref_offset = offsetof(struct pyobj, slot),
    .count_offset = offsetof(struct pyobj, nrefs),
    .trace = pyobj_trace,
};

/* Untracked in CPython but holding references (an untracked tuple or dict). */
static const struct gcl_type untracked_type = {
    .name = "pyheap-untracked",
    .size = sizeof(struct pyobj),
    .item_size = sizeof(struct gcl_object *),
    .flags = GCL_TYPE_VAR | GCL_TYPE_REF_COUNTED,
    .ref_offset = offsetof(struct pyobj, slot),
    .count_offset = offsetof(struct pyobj, nrefs),
    .trace = pyobj_trace,
};

static const struct gcl_type leaf_type = {
    .name = "pyheap-leaf",
    .size = sizeof(struct pyobj),
    .item_size = sizeof(struct gcl_object *),
    .flags = GCL_TYPE_VAR,
};

/* Not a container: like the frames and C globals that hold CPython's roots, the table is
 * outside what a cycle collector tracks, so its references count as external ones. */
static const struct gcl_type table_type = {
    .name = "pyheap-root-table",
    .size = sizeof(struct root_table),
    .item_size = sizeof(struct gcl_object *),
    .flags = GCL_TYPE_VAR | GCL_TYPE_REF_ITEMS,
    .ref_offset = offsetof(struct root_table, slot),
};


struct replay {
  struct gcl_workload_ctx *ctx; /* for the wrong flag */
  const struct plan *plan;      /* shared */
  struct gcl_object **cur;      /* per object: its current copy (borrowed) */
  uint32_t *cur_id;             /* per object: the shadow id of its current copy */
  struct gcl_object *table;     /* the root table (owned, in a root frame) */
  struct shadow sh;             /* the pure-RC model */
  struct gcl_rng rng;           /* this thread's stream */
  uint64_t built;               /* objects built since the last safepoint */
  uint64_t sum;                 /* checksum so far */
};



/* The shipped snapshot `index`: snapshots/<name> in this source file's folder. */
static void shipped_path(unsigned index, char *out, size_t len) {
  const char *file = __FILE__;
  const char *slash = strrchr(file, '/');
  int dir = slash ? (int)(slash - file) : 1;
  snprintf(out, len, "%.*s/snapshots/%s", dir, slash ? file : ".", shipped[index]);
}


/* --- building --------------------------------------------------------------------------- */

static struct gcl_object *new_copy(struct gcl_mutator *m, const struct plan *p, uint32_t i) {
  const struct gcl_pyheap_object *o = &p->h.objects[i];
  const struct gcl_type *t = o->tracked ? &tracked_type : o->nrefs ? &untracked_type : &leaf_type;
  struct gcl_object *c = gcl_new_var(m, t, p->words[i]);
  PYOBJ(c)->index = i;
  PYOBJ(c)->nrefs = o->nrefs;
  return c;
}

static inline void built_one(struct gcl_mutator *m, struct replay *t) {
  if (++t->built == SAFEPOINT_EVERY) {
    t->built = 0;
    gcl_safepoint(m);
  }
}

/* Allocate new copies of region r along its BFS tree: the root into its table slot (the
 * old copy is released there), every other object into its parent's tree slot. */
static void build_tree(struct gcl_mutator *m, struct replay *t, uint32_t r) {
  const struct plan *p = t->plan;
  const uint32_t *list = &p->region_nodes[p->region_start[r]];
  uint32_t n = p->region_start[r + 1] - p->region_start[r];
  struct gcl_object *node = NULL;
  GCL_FRAME(m, f, &node);
  node = new_copy(m, p, list[0]);
  bool had_root = gcl_load(m, t->table, &TABLE(t->table)->slot[r]) != NULL;
  uint32_t old_id = t->cur_id[list[0]];
  t->cur[list[0]] = node;
  t->cur_id[list[0]] = pyheap_shadow_new(&t->sh, p, list[0]);
  gcl_store_move(m, t->table, &TABLE(t->table)->slot[r], node);
  if (had_root) pyheap_shadow_release(&t->sh, p, old_id);
  built_one(m, t);
  /* Polls for a stop at every object (as wire does): between two safepoints (every
   * SAFEPOINT_EVERY objects) a thread built 1024 objects without honouring a stop, some
   * 0.1-0.2 ms (issue 8: brc's time to safepoint on pyheap); the copies are reachable from
   * the table (in the caller's frame) and node is framed, and no frame names a dying copy. */
  for (uint32_t k = 1; k < n; k++) {
    gcl_poll(m);
    uint32_t i = list[k];
    node = new_copy(m, p, i);
    uint32_t pi = p->parent[i];
    struct gcl_object *parent = t->cur[pi];
    gcl_store_move(m, parent, &PYOBJ(parent)->slot[p->tree_slot[i]], node);
    t->cur[i] = node;
    t->cur_id[i] = pyheap_shadow_new(&t->sh, p, i);
    t->sh.edges[t->sh.base[t->cur_id[pi]] + p->tree_slot[i]] = t->cur_id[i];
    built_one(m, t);
  }
  node = NULL;
  GCL_FRAME_POP(m, f);
}

/* Fill every slot of region r's new copies that the tree left empty; returns how many. */
static uint64_t wire(struct gcl_mutator *m, struct replay *t, uint32_t r) {
  const struct plan *p = t->plan;
  uint64_t wired = 0;
  /* Polls for a stop at every object: a region may hold thousands, and the copies are
   * reachable from the table (in the caller's frame). */
  for (uint32_t k = p->region_start[r]; k < p->region_start[r + 1]; k++) {
    gcl_poll(m);
    uint32_t i = p->region_nodes[k];
    const struct gcl_pyheap_object *o = &p->h.objects[i];
    struct gcl_object *c = t->cur[i];
    for (uint32_t s = 0; s < o->nrefs; s++) {
      struct gcl_object **slot = &PYOBJ(c)->slot[s];
      if (gcl_load(m, c, slot)) continue; /* a tree edge */
      uint32_t j = p->h.refs[o->ref_start + s];
      gcl_store(m, c, slot, t->cur[j]);
      t->sh.edges[t->sh.base[t->cur_id[i]] + s] = t->cur_id[j];
      t->sh.rc[t->cur_id[j]]++;
      wired++;
    }
  }
  return wired;
}

/* Point the references into region r from other regions' current copies at r's current
 * copies (after a rebuild: the old copy becomes unreachable); returns how many. */
static uint64_t repoint(struct gcl_mutator *m, struct replay *t, uint32_t r) {
  const struct plan *p = t->plan;
  /* Polls for a stop at every reference (as wire does). */
  for (uint32_t k = p->in_start[r]; k < p->in_start[r + 1]; k++) {
    gcl_poll(m);
    uint32_t i = p->in_src[k], s = p->in_slot[k];
    uint32_t j = p->h.refs[p->h.objects[i].ref_start + s];
    struct gcl_object *c = t->cur[i];
    gcl_store(m, c, &PYOBJ(c)->slot[s], t->cur[j]);
    uint32_t *edge = &t->sh.edges[t->sh.base[t->cur_id[i]] + s];
    uint32_t old = *edge;
    *edge = t->cur_id[j];
    t->sh.rc[t->cur_id[j]]++;
    pyheap_shadow_release(&t->sh, p, old);
  }
  return p->in_start[r + 1] - p->in_start[r];
}

/* Check every current copy against the snapshot; returns the check's checksum part. */
static uint64_t check_all(struct gcl_mutator *m, struct replay *t) {
  const struct plan *p = t->plan;
  uint64_t sum = 0;
  for (uint32_t r = 0; r < p->nregions; r++) {
    uint32_t root = p->region_nodes[p->region_start[r]];
    if (gcl_load(m, t->table, &TABLE(t->table)->slot[r]) != t->cur[root]) {
      gcl_workload_fail(t->ctx, "object %u: the root table does not hold the current copy", root);
      return sum;
    }
  }
  for (uint32_t k = 0; k < p->reachable; k++) {
    gcl_poll(m); /* a stop at every object, as in wire */
    uint32_t i = p->region_nodes[k];
    const struct gcl_pyheap_object *o = &p->h.objects[i];
    struct gcl_object *c = t->cur[i];
    if (PYOBJ(c)->index != i || PYOBJ(c)->nrefs != o->nrefs) {
      gcl_workload_fail(t->ctx, "object %u: its copy has another index or reference count", i);
      return sum;
    }
    sum = mix(sum, i);
    for (uint32_t s = 0; s < o->nrefs; s++) {
      uint32_t want = p->h.refs[o->ref_start + s];
      if (gcl_load(m, c, &PYOBJ(c)->slot[s]) != t->cur[want]) {
        gcl_workload_fail(t->ctx, "object %u: a reference does not hold its target's current copy", i);
        return sum;
      }
      sum += want;
    }
  }
  return sum;
}

/* This thread's CPU time: the collection runs on it (world stopped), so this excludes
 * the time it waited for a CPU, which a loaded machine adds to the wall time. */
static uint64_t thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t thread_body(struct gcl_mutator *m, struct gcl_workload_ctx *ctx, unsigned index,
                            void *arg) {
  const struct plan *p = arg; /* shared, read-only while the threads run */
  struct replay t = {.ctx = ctx, .plan = p};
  gcl_rng_seed(&t.rng, ctx->seed, index);
  uint32_t n = p->h.nobjects;
  t.cur = pyheap_alloc(n, sizeof *t.cur);
  t.cur_id = pyheap_alloc(n, sizeof *t.cur_id);
  t.sh.free_head = pyheap_alloc(n, sizeof *t.sh.free_head);
  memset(t.sh.free_head, 0xff, (size_t)n * sizeof *t.sh.free_head); /* all NONE */

  t.table = gcl_new_var(m, &table_type, p->nregions);
  GCL_FRAME(m, f, &t.table);

  /* The initial heap: every region's tree, then every region's other references. */
  uint64_t edges = 0;
  for (uint32_t r = 0; r < p->nregions; r++) build_tree(m, &t, r);
  for (uint32_t r = 0; r < p->nregions; r++) edges += wire(m, &t, r);
  t.sum = mix(mix(t.sum, p->reachable), edges);
  gcl_checkpoint(m);

  double *times = &p->collect_ns[(uint64_t)index * p->rounds];
  double *cpu_times = &p->collect_cpu_ns[(uint64_t)index * p->rounds];
  double live_tracked = (double)p->reachable_tracked * ctx->threads;
  for (uint64_t round = 0; round < p->rounds; round++) {
    uint64_t regions = 0, objects = 0, tracked_before = t.sh.tracked;
    edges = 0;
    for (uint32_t r = 0; r < p->nregions; r++) {
      if ((uint32_t)gcl_rng_next(&t.rng) >= p->churn_threshold) continue;
      uint64_t rebuild_ns = gcl_now_ns(); /* the region's old copies die from here on */
      build_tree(m, &t, r);
      edges += wire(m, &t, r);
      edges += repoint(m, &t, r);
      pyheap_shadow_stamp(&t.sh, p->reachable, rebuild_ns);
      regions++;
      objects += p->region_start[r + 1] - p->region_start[r];
    }
    t.sum = mix(mix(mix(t.sum, regions), objects), edges);
    /* Tracked copies in the heap now: the live graph, and the old copies that pure RC
     * could not free this round (the model's count grew by exactly those). */
    double tracked = live_tracked + (double)(t.sh.tracked - tracked_before);
    uint64_t c0 = thread_cpu_ns(), t0 = gcl_now_ns();
    gcl_collect(m, -1);
    times[round] = (double)(gcl_now_ns() - t0) / tracked;
    cpu_times[round] = (double)(thread_cpu_ns() - c0) / tracked;
    gcl_safepoint(m);
    gcl_checkpoint(m);
  }
  t.sum = mix(t.sum, check_all(m, &t));

  GCL_FRAME_POP(m, f);
  uint64_t release_ns = gcl_now_ns(); /* the whole heap dies from here on */
  gcl_release(m, t.table);
  for (uint32_t r = 0; r < p->nregions; r++)
    pyheap_shadow_release(&t.sh, p, t.cur_id[p->region_nodes[p->region_start[r]]]);
  /* Nothing is reachable now: every copy still counted is garbage. Without this stamp a
   * thread that finished first left its last garbage unstamped, and another thread's
   * collection freed it before the window ended (a negative outstanding_garbage_mean at 2
   * threads); with it the stamped total equals what is added to ctx->cyclic_garbage. */
  pyheap_shadow_stamp(&t.sh, 0, release_ns);
  __atomic_fetch_add(&ctx->cyclic_garbage, (int64_t)pyheap_shadow_leaked(&t.sh), __ATOMIC_RELAXED);
  pyheap_shadow_free(&t.sh);
  free(t.cur);
  free(t.cur_id);
  return t.sum;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The median of v[0..n) (n >= 1; sorts v). */
static double median_of(double *v, uint64_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The file parameter `snapshot` names: shipped index N, or -1 for GCLAB_PYHEAP's file.
 * Exits 2 after one line when the two disagree (see the top of this file). */
static void snapshot_path(const struct gcl_workload_ctx *ctx, char *path, size_t len) {
  int which = (int)gcl_param(ctx, "snapshot");
  const char *env = getenv("GCLAB_PYHEAP");
  bool have_env = env && *env;
  if (which < 0 && !have_env) {
    fprintf(stderr, "gclab-run: pyheap: snapshot=-1 replays the file named by GCLAB_PYHEAP, "
            "which is not set (set GCLAB_PYHEAP=path, or choose a shipped snapshot 0..%u)\n",
            (unsigned)NSHIPPED - 1);
    exit(2);
  }
  if (which >= 0 && have_env) {
    fprintf(stderr, "gclab-run: pyheap: GCLAB_PYHEAP is set but snapshot=%d selects the shipped "
            "%s; pass --param pyheap.snapshot=-1 to replay GCLAB_PYHEAP's file (the row then "
            "says so), or unset GCLAB_PYHEAP\n", which, shipped[which]);
    exit(2);
  }
  if (which < 0)
    snprintf(path, len, "%s", env);
  else
    shipped_path((unsigned)which, path, len);
}

static int run(struct gcl_workload_ctx *ctx) {
  struct plan p = {0};
  char path[4096], err[512];
  snapshot_path(ctx, path, sizeof path);
  snprintf(ctx->input, sizeof ctx->input, "%s", path); /* the row names the file that ran */
  const char *env = (int)gcl_param(ctx, "snapshot") < 0 ? "GCLAB_PYHEAP" : NULL;
  int rc = gcl_pyheap_load(path, &p.h, err, sizeof err);
  if (rc == -ENOMEM) gcl_alloc_failed(0);
  if (rc != 0) {
    fprintf(stderr, "gclab-run: pyheap: bad snapshot%s: %s\n", env ? " (from GCLAB_PYHEAP)" : "", err);
    exit(2);
  }
  pyheap_make_plan(&p);
  double total = gcl_param(ctx, "rounds") * ctx->scale;
  p.rounds = total < 1 ? 1 : (uint64_t)llround(total);
  double churn = gcl_param(ctx, "churn");
  p.churn_threshold = churn >= 1 ? UINT32_MAX : (uint32_t)(churn * 4294967296.0);
  uint64_t nt = p.rounds * ctx->threads;
  p.collect_ns = pyheap_alloc(nt, sizeof *p.collect_ns);
  p.collect_cpu_ns = pyheap_alloc(nt, sizeof *p.collect_cpu_ns);

  ctx->cyclic_garbage = 0;
  ctx->checksum = gcl_run_threads(ctx, thread_body, &p);

  gcl_figure_set(ctx, "tracked", p.h.ntracked);
  uint64_t hh = p.h.file_hash;
  gcl_figure_set(ctx, "snapshot_hash", (double)((hh ^ hh >> 53) & ((UINT64_C(1) << 53) - 1)));
  gcl_figure_set(ctx, "snapshot_bytes", (double)p.h.file_bytes);
  if (p.h.collect_tracked > 0)
    gcl_figure_set(ctx, "cpython_full_ns_per_tracked", p.h.collect_s * 1e9 / (double)p.h.collect_tracked);
  if (gcl_collects_cycles() && p.reachable_tracked > 0) {
    gcl_figure_set(ctx, "gc_full_ns_per_tracked", median_of(p.collect_ns, nt));
    gcl_figure_set(ctx, "gc_full_cpu_ns_per_tracked", median_of(p.collect_cpu_ns, nt));
  }
  pyheap_free_plan(&p);
  return 0;
}

static const struct gcl_fig_decl figures[] = {
    {"tracked", "objects", "gc-tracked objects in the snapshot"},
    {"snapshot_hash", "hash", "which snapshot file ran: FNV-1a 64 of its bytes folded to 53 bits"},
    {"snapshot_bytes", "bytes", "the size of the snapshot file that ran"},
    {"gc_full_ns_per_tracked", "ns",
     "median full-collection time per tracked object (collectors that collect cycles only)"},
    {"gc_full_cpu_ns_per_tracked", "ns",
     "the same with the collecting thread's CPU time (robust on a loaded machine)"},
    {"cpython_full_ns_per_tracked", "ns",
     "CPython's own gc.collect() time per tracked object, measured when the snapshot was dumped"},
};

static const struct gcl_param_def params[] = {
    {"snapshot", 0, -1, NSHIPPED - 1, true,
     "shipped snapshot: 0 stdlib-tour, 1 ast-pydecimal, 2 tiny-synthetic; -1: the file GCLAB_PYHEAP names"},
    {"rounds", 40, 1, 1e9, true, "churn + timed full collection rounds per thread at scale 1"},
    {"churn", 0.1, 0, 1, false, "probability that a root's region is rebuilt in a round"},
};

const struct gcl_workload gcl_workload_pyheap = {
    .name = "pyheap",
    .description = "replay of a real CPython heap snapshot: churn root regions, time full collections",
    .params = params,
    .nparams = sizeof params / sizeof params[0],
    .figures = figures,
    .nfigures = GCL_COUNT(figures),
    .run = run,
};
