/* SPDX-License-Identifier: MIT */
/* harness/describe.c — reading a runner's `--describe` text (protocol version 2,
 * runner/README.md) and the union of every runner's modules.
 *
 * Lines read: `workload`, `param` (the workloads and their parameters), `module`, `option`,
 * `figure` (every module's declarations). `pair` and unknown kinds are skipped: they are
 * not ours to judge. An `option` or `figure` line belongs to the module of the latest
 * `module` line and must name it.
 *
 * Invariants: every string in a parsed description is a private copy that lives until
 * exit; the union keeps a module's declarations from the first runner that described it,
 * in the order collectors (CMake order), allocators (CMake order), workloads (describe
 * order). No macros change this file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "typed-option.h"

/* Take the next space-separated word of *p (NUL-terminating it in place). */
static char *next_word(char **p) {
  while (**p == ' ') (*p)++;
  if (!**p) return NULL;
  char *w = *p;
  *p += strcspn(*p, " ");
  if (**p) *(*p)++ = 0;
  return w;
}

/* "-" (absent) as NULL, anything else as a private copy. */
static char *dash_null(const char *w) { return strcmp(w, "-") == 0 ? NULL : gcl_must_strdup(w); }

static char *rest(char *p) {
  while (*p == ' ') p++;
  return gcl_must_strdup(p);
}

static int parse_param(char *p, struct gcl_describe *d) {
  char *wname = next_word(&p), *name = next_word(&p), *def = next_word(&p);
  char *min = next_word(&p), *max = next_word(&p), *type = next_word(&p);
  if (!type || (strcmp(type, "int") != 0 && strcmp(type, "num") != 0)) return -1;
  struct gcl_workload_info *w = NULL;
  for (unsigned i = 0; i < d->nworkloads; i++)
    if (strcmp(d->workloads[i].name, wname) == 0) w = &d->workloads[i];
  if (!w) return -1;
  struct gcl_param_info pi = {.name = gcl_must_strdup(name), .integer = type[0] == 'i'};
  if (!gcl_num_parse(def, &pi.def) || !gcl_num_parse(min, &pi.min) || !gcl_num_parse(max, &pi.max))
    return -1;
  pi.help = rest(p);
  w->params = gcl_must_realloc(w->params, (w->nparams + 1) * sizeof *w->params);
  w->params[w->nparams++] = pi;
  return 0;
}

static int parse_module(char *p, struct gcl_describe *d) {
  char *kind = next_word(&p), *name = next_word(&p);
  if (!name || next_word(&p)) return -1;
  if (strcmp(kind, "collector") != 0 && strcmp(kind, "allocator") != 0 && strcmp(kind, "workload") != 0)
    return -1;
  for (unsigned i = 0; i < d->nmodules; i++) {
    if (strcmp(d->modules[i].name, name) != 0) continue;
    /* One module line per module, except a collector and an allocator of one name (bdw:
     * libgc is both): they are one module, one namespace of options and figures; the
     * lines that follow add to the entry, which moves last so that current() finds it. */
    bool pair = strcmp(kind, "workload") != 0 && strcmp(d->modules[i].kind, "workload") != 0 &&
                strcmp(d->modules[i].kind, kind) != 0;
    if (!pair) return -1;
    struct gcl_module_info m = d->modules[i];
    memmove(&d->modules[i], &d->modules[i + 1], (d->nmodules - i - 1) * sizeof *d->modules);
    d->modules[d->nmodules - 1] = m;
    return 0;
  }
  d->modules = gcl_must_realloc(d->modules, (d->nmodules + 1) * sizeof *d->modules);
  d->modules[d->nmodules++] = (struct gcl_module_info){.name = gcl_must_strdup(name), .kind = gcl_must_strdup(kind)};
  return 0;
}

/* The module an option/figure line names: the latest module line's, or NULL. */
static struct gcl_module_info *current(struct gcl_describe *d, const char *name) {
  if (!d->nmodules || !name || strcmp(d->modules[d->nmodules - 1].name, name) != 0) return NULL;
  return &d->modules[d->nmodules - 1];
}

static int parse_option(char *p, struct gcl_describe *d) {
  struct gcl_module_info *m = current(d, next_word(&p));
  char *name = next_word(&p), *type = next_word(&p), *def = next_word(&p);
  char *min = next_word(&p), *max = next_word(&p), *choices = next_word(&p);
  struct gcl_opt_decl o = {0};
  if (!m || !choices || !gcl_opt_name_ok(name) || gcl_opt_type_parse(type, &o.type) != 0) return -1;
  for (unsigned i = 0; i < m->nopts; i++)
    if (strcmp(m->opts[i].name, name) == 0) return -1;
  o.name = gcl_must_strdup(name);
  o.def = strcmp(def, "-") == 0 ? "" : gcl_must_strdup(def);
  o.min = dash_null(min);
  o.max = dash_null(max);
  o.choices = dash_null(choices);
  o.help = rest(p);
  if (o.type == GCL_OPT_ENUM && !o.choices) return -1;
  m->opts = gcl_must_realloc(m->opts, (m->nopts + 1) * sizeof *m->opts);
  m->opts[m->nopts++] = o;
  return 0;
}

static int parse_figure(char *p, struct gcl_describe *d) {
  struct gcl_module_info *m = current(d, next_word(&p));
  char *name = next_word(&p), *unit = next_word(&p);
  if (!m || !unit || !gcl_opt_name_ok(name)) return -1;
  for (unsigned i = 0; i < m->nfigs; i++)
    if (strcmp(m->figs[i].name, name) == 0) return -1;
  m->figs = gcl_must_realloc(m->figs, (m->nfigs + 1) * sizeof *m->figs);
  m->figs[m->nfigs++] = (struct gcl_fig_decl){gcl_must_strdup(name), gcl_must_strdup(unit), rest(p)};
  return 0;
}

int gcl_parse_describe(const char *text, struct gcl_describe *d, char *why, size_t why_len) {
  memset(d, 0, sizeof *d);
  char *copy = gcl_must_strdup(text);
  unsigned lineno = 0;
  for (char *line = copy, *next; *line; line = next) {
    lineno++;
    next = line + strcspn(line, "\n");
    if (*next) *next++ = 0;
    char *p = line;
    char *kind = next_word(&p);
    int r = 0;
    if (!kind) continue;
    if (strcmp(kind, "workload") == 0) {
      char *name = next_word(&p);
      if (!name) r = -1;
      else {
        d->workloads = gcl_must_realloc(d->workloads, (d->nworkloads + 1) * sizeof *d->workloads);
        d->workloads[d->nworkloads++] = (struct gcl_workload_info){gcl_must_strdup(name), rest(p), NULL, 0};
      }
    } else if (strcmp(kind, "param") == 0) r = parse_param(p, d);
    else if (strcmp(kind, "module") == 0) r = parse_module(p, d);
    else if (strcmp(kind, "option") == 0) r = parse_option(p, d);
    else if (strcmp(kind, "figure") == 0) r = parse_figure(p, d);
    if (r) {
      snprintf(why, why_len, "malformed --describe output, line %u", lineno);
      free(copy);
      return -1;
    }
  }
  free(copy);
  return 0;
}

/* Rank of a module in the union order: kind first, then its place in the CMake list. */
static unsigned rank(const struct gcl_catalog *cat, const struct gcl_module_info *m, unsigned seen) {
  unsigned kind = strcmp(m->kind, "collector") == 0 ? 0 : strcmp(m->kind, "allocator") == 0 ? 1 : 2;
  char **list = kind == 0 ? cat->collectors : cat->allocators;
  unsigned n = kind == 0 ? cat->ncollectors : kind == 1 ? cat->nallocators : 0;
  unsigned pos = n + seen; /* not in the CMake list (or a workload): in the order seen */
  for (unsigned i = 0; i < n; i++)
    if (strcmp(list[i], m->name) == 0) pos = i;
  return kind << 24 | pos;
}

void gcl_modules_add(struct gcl_catalog *cat, const struct gcl_describe *d) {
  for (unsigned i = 0; i < d->nmodules; i++) {
    if (gcl_catalog_module(cat, d->modules[i].name)) continue;
    cat->modules = gcl_must_realloc(cat->modules, (cat->nmodules + 1) * sizeof *cat->modules);
    cat->module_rank = gcl_must_realloc(cat->module_rank, (cat->nmodules + 1) * sizeof *cat->module_rank);
    unsigned r = rank(cat, &d->modules[i], cat->nmodules), k = cat->nmodules++;
    /* Insertion into the sorted union keeps it in rank order. */
    while (k > 0 && cat->module_rank[k - 1] > r) {
      cat->modules[k] = cat->modules[k - 1];
      cat->module_rank[k] = cat->module_rank[k - 1];
      k--;
    }
    cat->modules[k] = d->modules[i];
    cat->module_rank[k] = r;
  }
}

bool gcl_module_column_ok(const char *name) {
  size_t m = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-");
  return m > 0 && name[m] == '.' && gcl_opt_name_ok(name + m + 1);
}

const struct gcl_module_info *gcl_catalog_module(const struct gcl_catalog *cat, const char *name) {
  for (unsigned i = 0; i < cat->nmodules; i++)
    if (strcmp(cat->modules[i].name, name) == 0) return &cat->modules[i];
  return NULL;
}

void gcl_catalog_figures(struct gcl_catalog *cat) {
  cat->figcols = NULL;
  cat->nfigcols = 0;
  for (unsigned i = 0; i < cat->nmodules; i++)
    for (unsigned f = 0; f < cat->modules[i].nfigs; f++) {
      struct gcl_buf b = {0};
      gcl_buf_printf(&b, "%s.%s", cat->modules[i].name, cat->modules[i].figs[f].name);
      cat->figcols = gcl_must_realloc(cat->figcols, (cat->nfigcols + 1) * sizeof *cat->figcols);
      cat->figcols[cat->nfigcols++] = b.p;
    }
}

int gcl_catalog_figcol(const struct gcl_catalog *cat, const char *module, const char *figure) {
  size_t ml = strlen(module);
  for (unsigned i = 0; i < cat->nfigcols; i++)
    if (strncmp(cat->figcols[i], module, ml) == 0 && cat->figcols[i][ml] == '.' &&
        strcmp(cat->figcols[i] + ml + 1, figure) == 0)
      return (int)i;
  return -1;
}
