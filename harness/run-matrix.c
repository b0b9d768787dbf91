/* SPDX-License-Identifier: MIT */
/* harness/run-matrix.c — the matrix of `gclab run` before it becomes cells: the YAML
 * matrix file applied under the flags (a flag wins over the file), every name checked
 * against the catalog, the selected workloads with their effective parameters and
 * timeouts.
 *
 * Invariant: --param values apply in order (the file's first), so a later one wins; each
 * bad name or value is reported as FILE:LINE when it came from the file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "matrix-file.h"
#include "run.h"
#include "safe-file.h"


/* Put the file's params or options (as "owner.name=value" or "name=value") before the
 * flags' ones in *ax, each with its FILE:LINE. */
static void prepend(struct gcl_axis *ax, const struct gcl_mf_param *v, unsigned n, const char *path) {
  struct gcl_axis all = {0};
  char where[1100];
  for (unsigned i = 0; i < n; i++) {
    struct gcl_buf kv = {0};
    if (v[i].workload) gcl_buf_printf(&kv, "%s.", v[i].workload);
    gcl_buf_printf(&kv, "%s=%s", v[i].name, v[i].value);
    snprintf(where, sizeof where, "%s:%u", path, v[i].line);
    gcl_axis_push(&all, kv.p, where);
  }
  for (unsigned i = 0; i < ax->n; i++) gcl_axis_push(&all, ax->v[i], ax->where[i]);
  *ax = all;
}

int gcl_run_apply_matrix(struct gcl_run_opts *o) {
  /* A regular file of at most GCL_MF_MAX_BYTES: /dev/zero or a FIFO is refused unread. */
  char *text, why[1200];
  size_t len;
  if (gcl_file_slurp(o->matrix, GCL_MF_MAX_BYTES, false, false, &text, &len, why, sizeof why) != 0)
    return gcl_run_bad("cannot read matrix file '%s': %s", o->matrix, why);
  struct gcl_matrix_file mf;
  if (gcl_matrix_parse(o->matrix, text, len, &mf, why, sizeof why) != 0) return gcl_run_bad("%s", why);
  free(text);
  char where[1100];
  const struct gcl_mf_list *lists[] = {&mf.collectors, &mf.allocators, &mf.workloads, &mf.threads,
                                       &mf.placement, &mf.heap, &mf.heap_factor, &mf.gil,
                                       &mf.freelists};
  struct gcl_axis *axes[] = {&o->collectors, &o->allocators, &o->workloads, &o->threads, &o->placement,
                             &o->heaps, &o->heap_factors, &o->gil, &o->freelists};
  static const char *const lnames[] = {"collectors", "allocators", "workloads", "threads", "placement",
                                       "heap", "heap_factor", "gil", "freelists"};
  for (unsigned l = 0; l < sizeof axes / sizeof axes[0]; l++) {
    if (axes[l]->n) continue; /* the flag wins */
    for (unsigned i = 0; i < lists[l]->n; i++) {
      snprintf(where, sizeof where, "%s:%u", o->matrix, lists[l]->v[i].line);
      if (gcl_axis_has(axes[l], lists[l]->v[i].text)) {
        gcl_run_where = where;
        return gcl_run_bad("%s: '%s' is given twice", lnames[l], lists[l]->v[i].text);
      }
      gcl_axis_push(axes[l], gcl_must_strdup(lists[l]->v[i].text), where);
    }
  }
  struct {
    const struct gcl_mf_value *v;
    bool *set;
    const char *opt;
    double min, max, *out;
    bool whole, open_min;
  } scalars[] = {
      {&mf.repeat, &o->set_repeat, "repeat", 1, GCL_REPEAT_MAX, &o->repeat, true, false},
      {&mf.scale, &o->set_scale, "scale", GCL_SCALE_MIN, GCL_SCALE_MAX, &o->scale, false, false},
      {&mf.timeout, &o->set_timeout, "timeout", 0, GCL_TIMEOUT_MAX, &o->timeout, false, true},
      {&mf.iterations, &o->set_iterations, "iterations", 1, GCL_ITERATIONS_MAX, &o->iterations, true, false},
  };
  /* Every value in the file is checked, also one a flag overrides: a bad file is refused
   * whatever the command line says. */
  for (unsigned i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
    if (!scalars[i].v->text) continue;
    snprintf(where, sizeof where, "%s:%u", o->matrix, scalars[i].v->line);
    gcl_run_where = where;
    double v;
    if (gcl_number_opt(scalars[i].opt, scalars[i].v->text, scalars[i].min, scalars[i].max,
                   scalars[i].whole, scalars[i].open_min, &v))
      return 2;
    if (!*scalars[i].set) *scalars[i].out = v; /* the flag wins */
    gcl_run_where = NULL;
  }
  if (mf.seed.text && !o->set_seed) {
    snprintf(where, sizeof where, "%s:%u", o->matrix, mf.seed.line);
    gcl_run_where = where;
    if (gcl_seed_opt("seed", mf.seed.text, &o->seed)) return 2;
    gcl_run_where = NULL;
  }
  if (mf.name.text) o->name = gcl_must_strdup(mf.name.text);
  if (mf.heap_ref.text && !o->heap_ref) o->heap_ref = gcl_must_strdup(mf.heap_ref.text); /* the flag wins */
  /* File params and options go first, so the flags' --param and --opt (later) win. */
  prepend(&o->params, mf.params, mf.nparams, o->matrix);
  prepend(&o->opts, mf.opts, mf.nopts, o->matrix);
  for (unsigned i = 0; i < mf.ntimeouts; i++) {
    snprintf(where, sizeof where, "%s:%u", o->matrix, mf.timeouts[i].line);
    gcl_run_where = where;
    double t = 0;
    char opt[300];
    snprintf(opt, sizeof opt, "timeouts.%.200s", mf.timeouts[i].workload);
    if (gcl_number_opt(opt, mf.timeouts[i].value, 0, GCL_TIMEOUT_MAX, false, true, &t)) return 2;
    gcl_run_where = NULL;
    o->wl_timeouts = gcl_must_realloc(o->wl_timeouts, (o->nwl_timeouts + 1) * sizeof *o->wl_timeouts);
    o->wl_timeouts[o->nwl_timeouts] = (struct gcl_wl_timeout){gcl_must_strdup(mf.timeouts[i].workload), t};
    o->nwl_timeouts++;
    /* The workload name is checked with the others (check_names). */
    gcl_axis_push(&o->timeout_names, gcl_must_strdup(mf.timeouts[i].workload), where);
  }
  gcl_matrix_free(&mf);
  return 0;
}

/* Check every name against the catalog; fill defaults. */
static int check_names(struct gcl_run_opts *o, const struct gcl_catalog *cat) {
  struct gcl_buf known = {0};
  if (!o->collectors.n)
    for (unsigned i = 0; i < cat->ncollectors; i++) gcl_axis_add(&o->collectors, "", cat->collectors[i]);
  if (!o->allocators.n)
    for (unsigned i = 0; i < cat->nallocators; i++) gcl_axis_add(&o->allocators, "", cat->allocators[i]);
  for (unsigned i = 0; i < o->collectors.n; i++) {
    bool found = false;
    for (unsigned j = 0; j < cat->ncollectors; j++) found |= strcmp(cat->collectors[j], o->collectors.v[i]) == 0;
    if (!found) {
      gcl_run_where = o->collectors.where[i];
      gcl_join_words(&known, cat->collectors, cat->ncollectors);
      return gcl_run_bad("unknown collector '%s' (known: %s)", o->collectors.v[i], gcl_buf_str(&known));
    }
  }
  for (unsigned i = 0; i < o->allocators.n; i++) {
    bool found = false;
    for (unsigned j = 0; j < cat->nallocators; j++) found |= strcmp(cat->allocators[j], o->allocators.v[i]) == 0;
    if (!found) {
      gcl_run_where = o->allocators.where[i];
      gcl_join_words(&known, cat->allocators, cat->nallocators);
      return gcl_run_bad("unknown allocator '%s' (known: %s)", o->allocators.v[i], gcl_buf_str(&known));
    }
  }
  if (!cat->describer) {
    fprintf(stderr, "gclab run: cannot check workloads: %s\n", cat->describe_error);
    return 1;
  }
  if (!o->workloads.n)
    for (unsigned i = 0; i < cat->nworkloads; i++) gcl_axis_add(&o->workloads, "", cat->workloads[i].name);
  for (unsigned i = 0; i < o->workloads.n; i++) {
    if (gcl_catalog_workload(cat, o->workloads.v[i])) continue;
    gcl_run_where = o->workloads.where[i];
    for (unsigned j = 0; j < cat->nworkloads; j++)
      gcl_buf_printf(&known, "%s%s", j ? " " : "", cat->workloads[j].name);
    return gcl_run_bad("unknown workload '%s' (known: %s)", o->workloads.v[i], gcl_buf_str(&known));
  }
  for (unsigned i = 0; i < o->timeout_names.n; i++) {
    if (gcl_axis_has(&o->workloads, o->timeout_names.v[i])) continue;
    gcl_run_where = o->timeout_names.where[i];
    return gcl_run_bad("timeouts: workload '%s' is not selected (selected: %s)", o->timeout_names.v[i],
                     (gcl_join_words(&known, o->workloads.v, o->workloads.n), gcl_buf_str(&known)));
  }
  return 0;
}

static void param_names(struct gcl_buf *b, const struct gcl_workload_info *w) {
  if (!w->nparams) gcl_buf_puts(b, "none");
  for (unsigned i = 0; i < w->nparams; i++) gcl_buf_printf(b, "%s%s", i ? " " : "", w->params[i].name);
}

/* Set the values of parameter p of s from a comma list; 2 after a message naming the bad
 * value. The list replaces what an earlier --param gave. */
static int set_param(struct gcl_sel_workload *s, unsigned p, const char *raw, const char *list) {
  const struct gcl_param_info *pi = &s->info->params[p];
  struct gcl_axis ax = {0};
  for (const char *t = list;; t += strcspn(t, ",") + 1) {
    char *text = gcl_must_strdup(t), num[32];
    text[strcspn(text, ",")] = 0;
    double v;
    char expected[160];
    if (!gcl_num_in_range(text, pi->min, pi->max, pi->integer, false, &v, expected, sizeof expected))
      return gcl_run_bad("--param '%s': bad value '%s' for %s.%s: %s%s", raw, text, s->info->name,
                         pi->name, expected, strchr(list, ',') ? ", or a list a,b of them" : "");
    gcl_num_format(num, sizeof num, v);
    if (gcl_axis_has(&ax, num))
      return gcl_run_bad("--param '%s': value %s of %s.%s is given twice", raw, num, s->info->name, pi->name);
    gcl_axis_push(&ax, gcl_must_strdup(num), NULL);
    free(text);
    if (!strchr(t, ',')) break;
  }
  s->values[p] = ax;
  return 0;
}

/* Apply every --param in order to the selected workloads. */
static int apply_params(const struct gcl_run_opts *o, const struct gcl_catalog *cat,
                        struct gcl_sel_workload *sel) {
  for (unsigned i = 0; i < o->params.n; i++) {
    const char *raw = o->params.v[i];
    gcl_run_where = o->params.where[i];
    const char *eq = strchr(raw, '=');
    if (!eq || eq == raw)
      return gcl_run_bad("--param '%s': expected name=value or workload.name=value", raw);
    char *key = gcl_must_strdup(raw);
    key[eq - raw] = 0;
    char *pname = key, *dot = strchr(key, '.');
    const char *only = NULL; /* the one workload named, if any */
    if (dot) {
      *dot = 0;
      only = key;
      pname = dot + 1;
      if (!gcl_catalog_workload(cat, only)) {
        struct gcl_buf known = {0};
        for (unsigned j = 0; j < cat->nworkloads; j++)
          gcl_buf_printf(&known, "%s%s", j ? " " : "", cat->workloads[j].name);
        return gcl_run_bad("--param '%s': unknown workload '%s' (known: %s)", raw, only, gcl_buf_str(&known));
      }
      if (!gcl_axis_has(&o->workloads, only))
        return gcl_run_bad("--param '%s': workload '%s' is not selected by --workload", raw, only);
    }
    if (!*pname) return gcl_run_bad("--param '%s': empty parameter name", raw);
    unsigned hits = 0;
    for (unsigned w = 0; w < o->workloads.n; w++) {
      if (only && strcmp(sel[w].info->name, only) != 0) continue;
      for (unsigned p = 0; p < sel[w].info->nparams; p++) {
        if (strcmp(sel[w].info->params[p].name, pname) != 0) continue;
        if (set_param(&sel[w], p, raw, eq + 1)) return 2;
        hits++;
      }
    }
    if (!hits && only) {
      struct gcl_buf has = {0};
      param_names(&has, gcl_catalog_workload(cat, only));
      return gcl_run_bad("--param '%s': workload %s has no parameter '%s' (it has: %s)", raw, only,
                       pname, gcl_buf_str(&has));
    }
    if (!hits) {
      struct gcl_buf has = {0};
      for (unsigned w = 0; w < o->workloads.n; w++) {
        gcl_buf_printf(&has, "%s%s has: ", has.len ? "; " : "", sel[w].info->name);
        param_names(&has, sel[w].info);
      }
      return gcl_run_bad("--param '%s': no selected workload has a parameter '%s' (%s)", raw, pname,
                       gcl_buf_str(&has));
    }
    free(key);
  }
  gcl_run_where = NULL;
  return 0;
}

/* The parameter sets of each selected workload: the cross product of its axes. */
static int render_params(struct gcl_sel_workload *s) {
  char **names = gcl_must_realloc(NULL, (s->info->nparams + 1) * sizeof *names);
  for (unsigned p = 0; p < s->info->nparams; p++) names[p] = s->info->params[p].name;
  s->sets = gcl_valsets(names, s->values, s->info->nparams, &s->nsets);
  free(names);
  if (!s->sets)
    return gcl_run_bad("the parameter axes of %s make more than %d combinations (at most %d "
                       "cells in one run)", s->info->name, GCL_CELLS_MAX, GCL_CELLS_MAX);
  return 0;
}

int gcl_run_select(struct gcl_run_opts *o, struct gcl_matrix *m) {
  int r;
  gcl_catalog_load(&m->cat);
  m->ncols = GCL_NCOLS + m->cat.nfigcols;
  if ((r = check_names(o, &m->cat))) return r;
  struct gcl_sel_workload *sel = gcl_must_realloc(NULL, o->workloads.n * sizeof *sel);
  for (unsigned w = 0; w < o->workloads.n; w++) {
    sel[w] = (struct gcl_sel_workload){.info = gcl_catalog_workload(&m->cat, o->workloads.v[w])};
    if (sel[w].info->nparams > sizeof sel[w].values / sizeof sel[w].values[0]) {
      fprintf(stderr, "gclab run: workload %s has too many parameters\n", sel[w].info->name);
      return 1;
    }
    for (unsigned p = 0; p < sel[w].info->nparams; p++) {
      char num[32];
      gcl_num_format(num, sizeof num, sel[w].info->params[p].def);
      gcl_axis_push(&sel[w].values[p], gcl_must_strdup(num), NULL);
    }
  }
  if ((r = apply_params(o, &m->cat, sel))) return r;
  for (unsigned w = 0; w < o->workloads.n; w++)
    if ((r = render_params(&sel[w]))) return r;
  m->sel = sel;
  if ((r = gcl_run_options(o, m))) return r;
  m->wl_timeout = gcl_must_realloc(NULL, o->workloads.n * sizeof *m->wl_timeout);
  for (unsigned w = 0; w < o->workloads.n; w++) {
    m->wl_timeout[w] = o->timeout;
    for (unsigned i = 0; i < o->nwl_timeouts; i++)
      if (strcmp(o->wl_timeouts[i].workload, o->workloads.v[w]) == 0 && !o->set_timeout)
        m->wl_timeout[w] = o->wl_timeouts[i].s;
  }
  /* Every valid pair we will run needs its runner. */
  for (unsigned c = 0; c < o->collectors.n && !o->dry_run; c++)
    for (unsigned a = 0; a < o->allocators.n; a++) {
      const struct gcl_pair_info *p = gcl_catalog_pair(&m->cat, o->collectors.v[c], o->allocators.v[a]);
      if (!p->invalid_reason[0] && !gcl_runner_exists(p->runner)) {
        fprintf(stderr, "gclab run: runner for %s x %s not found: %s (build it, or set GCLAB_RUNNERS)\n",
                p->collector, p->allocator, p->runner);
        return 1;
      }
      /* Its figures are known only from its own --describe: without it, no row could be
       * trusted (every figure key would be refused). */
      if (!p->invalid_reason[0] && !p->described) {
        fprintf(stderr, "gclab run: runner for %s x %s cannot describe itself: %s (rebuild it)\n",
                p->collector, p->allocator, p->why);
        return 1;
      }
    }
  return 0;
}
