/* SPDX-License-Identifier: MIT */
/* harness/run-options.c — module options of `gclab run` (--opt M.N=V and the matrix file's
 * M: {N: V}): each value is judged by core/typed-option.c against the declaration the
 * runners --describe (the one value rule, shared with the runner), kept in its canonical
 * text (gcl_opt_format), and expanded with the other option axes of the cell's pair into
 * option sets (the cross product), which become the runner's `--opt M.N=V` arguments and
 * the row's `options` column.
 *
 * Invariants: an option of module M applies only to cells whose collector or allocator is
 * M; a pair's options appear in the union's module order (its collector, then its
 * allocator), each module's in declaration order; a later --opt for the same M.N replaces
 * the earlier one's values (the file's come first, so flags win); no value is given twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "typed-option.h"

struct gcl_valset *gcl_valsets(char *const *names, const struct gcl_axis *axes, unsigned naxes,
                               unsigned *nsets) {
  double product = 1;
  for (unsigned i = 0; i < naxes; i++) product *= axes[i].n;
  if (product > GCL_CELLS_MAX) return NULL; /* more cells than one run may have */
  unsigned total = (unsigned)product;
  struct gcl_valset *sets = gcl_must_realloc(NULL, total * sizeof *sets);
  for (unsigned s = 0; s < total; s++) {
    /* Mixed radix, the last axis fastest: set s picks value (s / stride_i) mod n_i. */
    struct gcl_buf col = {0};
    sets[s] = (struct gcl_valset){gcl_must_realloc(NULL, (naxes + 1) * sizeof(char *)), naxes, NULL};
    unsigned rest = s;
    for (unsigned i = naxes; i-- > 0;) {
      struct gcl_buf kv = {0};
      gcl_buf_printf(&kv, "%s=%s", names[i], axes[i].v[rest % axes[i].n]);
      sets[s].args[i] = kv.p;
      rest /= axes[i].n;
    }
    for (unsigned i = 0; i < naxes; i++) gcl_buf_printf(&col, "%s%s", i ? ";" : "", sets[s].args[i]);
    sets[s].col = gcl_must_strdup(gcl_buf_str(&col));
    gcl_buf_free(&col);
  }
  *nsets = total;
  return sets;
}

/* The modules that have options, for a message. */
static void modules_with_options(const struct gcl_catalog *cat, struct gcl_buf *b) {
  for (unsigned i = 0; i < cat->nmodules; i++)
    if (cat->modules[i].nopts && strcmp(cat->modules[i].kind, "workload") != 0)
      gcl_buf_printf(b, "%s%s", b->len ? " " : "", cat->modules[i].name);
  if (!b->len) gcl_buf_puts(b, "none");
}

/* Parse "M.N=a,b" into its module, option and canonical values; 0 or 2. */
static int resolve(const struct gcl_catalog *cat, const char *raw, struct gcl_opt_axis *out) {
  const char *eq = strchr(raw, '='), *dot = strchr(raw, '.');
  struct gcl_buf b = {0};
  if (!eq || !dot || dot > eq || dot == raw || dot + 1 == eq)
    return gcl_run_bad("--opt '%s': expected MODULE.NAME=VALUE (e.g. rc-gen.threshold0=700)", raw);
  char *mod = gcl_must_strdup(raw), *name = mod + (dot - raw) + 1;
  mod[dot - raw] = 0;
  name[eq - dot - 1] = 0;
  const struct gcl_module_info *m = gcl_catalog_module(cat, mod);
  if (!m) {
    modules_with_options(cat, &b);
    return gcl_run_bad("--opt '%s': unknown module '%s' (modules with options: %s)", raw, mod, gcl_buf_str(&b));
  }
  if (strcmp(m->kind, "workload") == 0)
    return gcl_run_bad("--opt '%s': %s is a workload; a runner takes --opt for its collector "
                       "and allocator only (workload parameters are --param)", raw, mod);
  unsigned k = 0;
  while (k < m->nopts && strcmp(m->opts[k].name, name) != 0) k++;
  if (k == m->nopts) {
    for (unsigned i = 0; i < m->nopts; i++) gcl_buf_printf(&b, "%s%s", i ? " " : "", m->opts[i].name);
    return gcl_run_bad("--opt '%s': %s %s has no option '%s' (it has: %s)", raw, m->kind, mod, name,
                       m->nopts ? gcl_buf_str(&b) : "none");
  }
  *out = (struct gcl_opt_axis){m, k, {0}};
  const struct gcl_opt_decl *d = &m->opts[k];
  for (const char *t = eq + 1;; t += strcspn(t, ",") + 1) {
    char *text = gcl_must_strdup(t), canon[256], why[256];
    text[strcspn(text, ",")] = 0;
    union gcl_opt_value v;
    if (gcl_opt_parse(d, text, &v, why, sizeof why) != 0)
      return gcl_run_bad("--opt '%s': bad value '%s' for %s.%s: %s%s", raw, text, mod, name, why,
                         strchr(eq + 1, ',') ? " (a list a,b is an axis)" : "");
    gcl_opt_format(d, &v, canon, sizeof canon);
    if (gcl_axis_has(&out->values, canon))
      return gcl_run_bad("--opt '%s': value %s of %s.%s is given twice", raw, canon, mod, name);
    gcl_axis_push(&out->values, gcl_must_strdup(canon), NULL);
    free(text);
    if (!strchr(t, ',')) break;
  }
  return 0;
}

/* Whether module m is among the selected collectors or allocators. */
static bool selected(const struct gcl_run_opts *o, const struct gcl_module_info *m) {
  return gcl_axis_has(strcmp(m->kind, "collector") == 0 ? &o->collectors : &o->allocators, m->name);
}

/* The option sets of pair (collector c, allocator a). */
static struct gcl_valset *pair_sets(const struct gcl_matrix *m, const char *c, const char *a,
                                    unsigned *n) {
  char **names = gcl_must_realloc(NULL, (m->noptaxes + 1) * sizeof *names);
  struct gcl_axis *axes = gcl_must_realloc(NULL, (m->noptaxes + 1) * sizeof *axes);
  unsigned k = 0;
  for (unsigned i = 0; i < m->noptaxes; i++) {
    const struct gcl_opt_axis *x = &m->optaxes[i];
    if (strcmp(x->mod->name, c) != 0 && strcmp(x->mod->name, a) != 0) continue;
    struct gcl_buf nm = {0};
    gcl_buf_printf(&nm, "%s.%s", x->mod->name, x->mod->opts[x->k].name);
    names[k] = nm.p;
    axes[k++] = x->values;
  }
  struct gcl_valset *sets = gcl_valsets(names, axes, k, n);
  free(axes);
  return sets;
}

int gcl_run_options(const struct gcl_run_opts *o, struct gcl_matrix *m) {
  const struct gcl_catalog *cat = &m->cat;
  m->optaxes = gcl_must_realloc(NULL, (o->opts.n + 1) * sizeof *m->optaxes);
  m->noptaxes = 0;
  for (unsigned i = 0; i < o->opts.n; i++) {
    struct gcl_opt_axis x;
    gcl_run_where = o->opts.where[i];
    if (resolve(cat, o->opts.v[i], &x)) return 2;
    unsigned j = 0;
    while (j < m->noptaxes && (m->optaxes[j].mod != x.mod || m->optaxes[j].k != x.k)) j++;
    if (j == m->noptaxes) m->optaxes[m->noptaxes++] = x;
    else m->optaxes[j].values = x.values; /* a later one wins */
    if (!selected(o, x.mod))
      gcl_buf_printf(&m->notes, "gclab run: note: --opt '%s' applies to no cell (%s %s is not "
                     "selected)\n", o->opts.v[i], x.mod->kind, x.mod->name);
  }
  gcl_run_where = NULL;
  /* Module (union) order, then declaration order: the options column's order. */
  for (unsigned i = 1; i < m->noptaxes; i++)
    for (unsigned j = i; j > 0; j--) {
      struct gcl_opt_axis *p = &m->optaxes[j - 1], *q = &m->optaxes[j];
      bool later = p->mod > q->mod || (p->mod == q->mod && p->k > q->k);
      if (!later) break;
      struct gcl_opt_axis t = *p;
      *p = *q;
      *q = t;
    }
  unsigned np = o->collectors.n * o->allocators.n;
  m->optsets = gcl_must_realloc(NULL, (np + 1) * sizeof *m->optsets);
  m->noptsets = gcl_must_realloc(NULL, (np + 1) * sizeof *m->noptsets);
  for (unsigned c = 0; c < o->collectors.n; c++)
    for (unsigned a = 0; a < o->allocators.n; a++) {
      unsigned pi = c * o->allocators.n + a;
      m->optsets[pi] = pair_sets(m, o->collectors.v[c], o->allocators.v[a], &m->noptsets[pi]);
      if (!m->optsets[pi])
        return gcl_run_bad("the option axes of %s x %s make more than %d combinations (at most "
                           "%d cells in one run)", o->collectors.v[c], o->allocators.v[a],
                           GCL_CELLS_MAX, GCL_CELLS_MAX);
    }
  return 0;
}
