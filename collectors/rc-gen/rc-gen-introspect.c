/* SPDX-License-Identifier: MIT */
/* collectors/rc-gen/rc-gen-introspect.c — rc-gen's view for tests and experiments
 * (rc-gen-attrs.h's introspection section): statistics, thresholds, counts, generation
 * sizes and the list checker. Invariant: list walks only while no thread runs mutator code.
 * No macros change it. */
#include "rc-gen-internal.h"

/* --- introspection -------------------------------------------------------------------- */

/* The stop-the-world collections' figures plus every thread's local ones (rc-gen-local.c). */
void gcl_rcgen_get_stats(struct gcl_rcgen_stats *out) {
  pthread_mutex_lock(&gcl_rcgen.registry_lock);
  *out = gcl_rcgen.stats;
  gcl_rcgen_local_add(out, &gcl_rcgen.local);
  for (struct gcl_collector_mutator *cm = gcl_rcgen.registry; cm; cm = cm->reg_next)
    gcl_rcgen_local_add(out, &cm->local);
  pthread_mutex_unlock(&gcl_rcgen.registry_lock);
}

void gcl_rcgen_set_thresholds(int64_t t0, int64_t t1, int64_t t2) {
  pthread_mutex_lock(&gcl_rcgen.registry_lock);
  if (t0 >= 0) gcl_rcgen.gens[0].threshold = t0;
  if (t1 >= 0) gcl_rcgen.gens[1].threshold = t1;
  if (t2 >= 0) gcl_rcgen.gens[2].threshold = t2;
  int64_t total = gcl_rcgen_gen0_total_locked();
  for (struct gcl_collector_mutator *cm = gcl_rcgen.registry; cm; cm = cm->reg_next)
    gcl_rcgen_set_limit_locked(cm, total);
  pthread_mutex_unlock(&gcl_rcgen.registry_lock);
}

void gcl_rcgen_get_thresholds(int64_t out[3]) {
  pthread_mutex_lock(&gcl_rcgen.registry_lock);
  for (int i = 0; i < NGEN; i++) out[i] = gcl_rcgen.gens[i].threshold;
  pthread_mutex_unlock(&gcl_rcgen.registry_lock);
}

int64_t gcl_rcgen_gen0_count(void) {
  pthread_mutex_lock(&gcl_rcgen.registry_lock);
  int64_t t = gcl_rcgen_gen0_total_locked();
  pthread_mutex_unlock(&gcl_rcgen.registry_lock);
  return t;
}

void gcl_rcgen_thread_counts(const struct gcl_collector_mutator *cm, int64_t out[3], uint64_t *ll_total,
                             uint64_t *ll_pending) {
  out[0] = __atomic_load_n(&cm->count, __ATOMIC_RELAXED);
  out[1] = cm->lcount[1];
  out[2] = cm->lcount[2];
  *ll_total = cm->ll_total;
  *ll_pending = cm->ll_pending;
}

int64_t gcl_rcgen_gen_count(int generation) {
  if (generation == 0) return gcl_rcgen_gen0_count();
  return generation > 0 && generation < NGEN ? gcl_rcgen.gens[generation].count : -1;
}

void gcl_rcgen_long_lived(uint64_t *total, uint64_t *pending) {
  *total = gcl_rcgen.long_lived_total;
  *pending = gcl_rcgen.long_lived_pending;
}

void gcl_rcgen_incremental_state(int64_t *work_to_do, int *visited) {
  *work_to_do = gcl_rcgen.work_to_do;
  *visited = gcl_rcgen.visited;
}

int gcl_rcgen_generation_of(struct gcl_object *o) {
  unsigned tag = gcl_rcgen_tag_of(gcl_rcgen_head_of(o));
  switch (tag) {
  case 0: return -1;
  case GCL_RCGEN_TAG_GEN1: return 1;
  case GCL_RCGEN_TAG_GEN2: return 2;
  case GCL_RCGEN_TAG_PERMANENT: return 3;
  default: return 0;
  }
}

uint64_t gcl_rcgen_generation_size(int g) {
  if (g == 3) return list_size(&gcl_rcgen.permanent);
  if (g < 0 || g >= NGEN) return 0;
  uint64_t n = list_size(&gcl_rcgen.gens[g].head);
  if (g > 0) /* young=thread: the threads' local heaps */
    for (unsigned t = 1; t <= GCL_RCGEN_MAX_SLOT; t++) n += list_size(&gcl_rcgen.local_old[t][g - 1]);
  if (g == 0)
    for (unsigned t = 1; t < GCL_RCGEN_NTAGS; t++) n += list_size(&gcl_rcgen.gen0_lists[t].head);
  return n;
}

/* Checks one list whose members must all carry `tag`; returns its length or < 0. */
static int64_t check_list(struct gcl_rcgen_head *l, unsigned tag) {
  if ((ld(&l->next) | ld(&l->prev)) & GCL_RCGEN_LOW) return -2; /* sentinel bits */
  struct gcl_rcgen_head *prev = l;
  int64_t n = 0;
  for (struct gcl_rcgen_head *h = first(l); h != l; h = ptr(ld(&h->next))) {
    if (ptr(ld(&h->prev)) != prev) return -3;          /* broken back link */
    if (ld(&h->prev) & COLLECTING) return -4;          /* a collection bit left set */
    if (gcl_rcgen_tag_of(h) != tag) return -5;         /* wrong tag (or UNREACHABLE left) */
    struct gcl_object *o = obj_of(h);
    if (!(gcl_type_of(o)->flags & GCL_TYPE_CONTAINER)) return -6; /* tracked non-container */
    if (gcl_rc_count(o, gcl_rc_kind()) == 0) return -7; /* dead but tracked */
    prev = h;
    n++;
  }
  if (ptr(ld(&l->prev)) != prev) return -8; /* tail link */
  return n;
}

int64_t gcl_rcgen_check(void) {
  if (__atomic_load_n(&gcl_rcgen.collecting, __ATOMIC_RELAXED)) return -1;
  int64_t total = 0, n;
  if (!list_empty(&gcl_rcgen.gens[0].head)) return -9; /* gen0's own list is used only while collected */
  for (int g = 1; g < NGEN; g++) {
    if ((n = check_list(&gcl_rcgen.gens[g].head, gcl_rcgen.gens[g].tag)) < 0) return n;
    total += n;
  }
  if ((n = check_list(&gcl_rcgen.permanent, GCL_RCGEN_TAG_PERMANENT)) < 0) return n;
  total += n;
  pthread_mutex_lock(&gcl_rcgen.registry_lock);
  for (unsigned t = 1; t < GCL_RCGEN_NTAGS; t++) {
    n = check_list(&gcl_rcgen.gen0_lists[t].head, t);
    bool may_hold = t == GCL_RCGEN_TAG_ORPHAN || (t <= GCL_RCGEN_MAX_SLOT && gcl_rcgen.slot_used[t]);
    if (n > 0 && !may_hold) n = -10; /* a list no thread owns holds objects */
    if (n < 0) break;
    total += n;
    for (int g = 0; g < 2 && t <= GCL_RCGEN_MAX_SLOT; g++) { /* young=thread's local gen1/gen2 */
      int64_t k = check_list(&gcl_rcgen.local_old[t][g], t);
      if (k > 0 && !may_hold) k = -10;
      if (k < 0) {
        n = k;
        break;
      }
      total += k;
    }
    if (n < 0) break;
  }
  pthread_mutex_unlock(&gcl_rcgen.registry_lock);
  return n < 0 ? n : total;
}
