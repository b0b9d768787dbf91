/* SPDX-License-Identifier: MIT */
/* harness/matrix-file.c — reading the YAML matrix file (see matrix-file.h) with libyaml's
 * document API: the whole file becomes a node tree whose marks give the lines.
 *
 * Invariant: on success every string in *mf is a private copy (the yaml document is gone);
 * on failure *mf holds nothing (it is freed before returning). */
#include "matrix-file.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Reader state: the document and where errors go. */
struct reader {
  yaml_document_t *doc; /* the loaded document */
  const char *path;     /* for messages */
  char *err;            /* message buffer */
  size_t err_len;       /* its size */
};

static __attribute__((format(printf, 3, 4))) int fail(struct reader *r, yaml_node_t *at,
                                                      const char *fmt, ...) {
  int n = snprintf(r->err, r->err_len, "%s:%lu: ", r->path,
                   at ? (unsigned long)at->start_mark.line + 1 : 1ul);
  if (n < 0 || (size_t)n >= r->err_len) return -1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->err + n, r->err_len - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

static char *dup_scalar(yaml_node_t *n) {
  char *s = malloc(n->data.scalar.length + 1);
  if (!s) abort();
  memcpy(s, n->data.scalar.value, n->data.scalar.length);
  s[n->data.scalar.length] = 0;
  return s;
}

static unsigned line_of(yaml_node_t *n) { return (unsigned)n->start_mark.line + 1; }

/* A scalar with no NUL byte inside (libyaml allows "\0" escapes). */
static int scalar(struct reader *r, yaml_node_t *n, const char *what, struct gcl_mf_value *out) {
  if (!n || n->type != YAML_SCALAR_NODE)
    return fail(r, n, "%s must be a single value (a scalar), not a %s", what,
                n && n->type == YAML_SEQUENCE_NODE ? "list" : "mapping");
  if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
    return fail(r, n, "%s contains a NUL byte", what);
  if (!n->data.scalar.length) return fail(r, n, "%s is empty", what);
  out->text = dup_scalar(n);
  out->line = line_of(n);
  return 0;
}

static int list(struct reader *r, yaml_node_t *n, const char *key, struct gcl_mf_list *out) {
  out->set = true;
  if (n->type == YAML_SCALAR_NODE) {
    out->v = calloc(1, sizeof *out->v);
    if (!out->v) abort();
    out->n = 1;
    return scalar(r, n, key, &out->v[0]);
  }
  if (n->type != YAML_SEQUENCE_NODE)
    return fail(r, n, "'%s' must be a list such as [a, b] (or one value), not a mapping", key);
  size_t cnt = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
  if (!cnt) return fail(r, n, "'%s' is an empty list (omit the key for the default)", key);
  out->v = calloc(cnt, sizeof *out->v);
  if (!out->v) abort();
  for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
    char what[64];
    snprintf(what, sizeof what, "an item of '%s'", key);
    if (scalar(r, yaml_document_get_node(r->doc, *it), what, &out->v[out->n]) < 0) return -1;
    out->n++;
  }
  return 0;
}

/* Whether the key of pair P (a scalar, checked by the caller) already appeared earlier in
 * mapping M; if so, fails naming it and the line of its first appearance. YAML says keys
 * are unique; libyaml keeps both, and "last wins" would hide a mistake. */
static int dup_key(struct reader *r, yaml_node_t *m, yaml_node_pair_t *p, const char *in) {
  yaml_node_t *k = yaml_document_get_node(r->doc, p->key);
  for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < p; q++) {
    yaml_node_t *e = yaml_document_get_node(r->doc, q->key);
    if (e->type == YAML_SCALAR_NODE && e->data.scalar.length == k->data.scalar.length &&
        memcmp(e->data.scalar.value, k->data.scalar.value, k->data.scalar.length) == 0)
      return fail(r, k, "key '%.60s' under '%.60s' is given twice (first on line %u)",
                  (const char *)k->data.scalar.value, in, line_of(e));
  }
  return 0;
}

static void add_param(struct gcl_mf_param **v, unsigned *n, char *w, char *name, char *value,
                      unsigned line) {
  *v = realloc(*v, (*n + 1) * sizeof **v);
  if (!*v) abort();
  (*v)[(*n)++] = (struct gcl_mf_param){w, name, value, line};
}

/* One value or a list of values, as one comma-joined text (an axis, like a flag's a,b);
 * no item may hold a comma itself. */
static int values(struct reader *r, yaml_node_t *n, const char *what, struct gcl_mf_value *out) {
  if (n->type != YAML_SEQUENCE_NODE) {
    if (scalar(r, n, what, out) < 0) return -1;
    if (strchr(out->text, ',')) return fail(r, n, "%s '%s' holds a comma (give a list [a, b])", what, out->text);
    return 0;
  }
  struct gcl_mf_list l = {0};
  if (list(r, n, what, &l) < 0) {
    for (unsigned i = 0; i < l.n; i++) free(l.v[i].text);
    free(l.v);
    return -1;
  }
  size_t len = 1;
  for (unsigned i = 0; i < l.n; i++) len += strlen(l.v[i].text) + 1;
  out->text = calloc(1, len);
  if (!out->text) abort();
  out->line = l.n ? l.v[0].line : line_of(n);
  int rc = 0;
  for (unsigned i = 0; i < l.n; i++) {
    if (strchr(l.v[i].text, ',') && !rc)
      rc = fail(r, n, "an item of %s holds a comma ('%s')", what, l.v[i].text);
    if (i) strcat(out->text, ",");
    strcat(out->text, l.v[i].text);
    free(l.v[i].text);
  }
  free(l.v);
  return rc;
}

/* {name: value-or-list, ...} under OWNER (a workload, a module, or NULL for params that
 * apply to every selected workload having them) into *v. */
static int name_values(struct reader *r, yaml_node_t *n, const char *owner, const char *what,
                       struct gcl_mf_param **v, unsigned *nv) {
  for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < n->data.mapping.pairs.top; q++) {
    struct gcl_mf_value pn, pv = {0};
    if (scalar(r, yaml_document_get_node(r->doc, q->key), what, &pn) < 0) return -1;
    if (dup_key(r, n, q, owner ? owner : "params")) {
      free(pn.text);
      return -1;
    }
    if (values(r, yaml_document_get_node(r->doc, q->value), "a value", &pv) < 0) {
      free(pn.text);
      free(pv.text);
      return -1;
    }
    add_param(v, nv, owner ? strdup(owner) : NULL, pn.text, pv.text, pv.line);
  }
  return 0;
}

/* params: {workload: {name: value, ...}, name: value, ...}; each value one or a list. */
static int params(struct reader *r, yaml_node_t *n, struct gcl_matrix_file *mf) {
  if (n->type != YAML_MAPPING_NODE)
    return fail(r, n, "'params' must be a mapping: workload: {parameter: value, ...} or parameter: value");
  for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(r->doc, p->key);
    yaml_node_t *v = yaml_document_get_node(r->doc, p->value);
    struct gcl_mf_value w;
    if (scalar(r, k, "a workload or parameter name under 'params'", &w) < 0) return -1;
    if (dup_key(r, n, p, "params")) {
      free(w.text);
      return -1;
    }
    int rc;
    if (v->type == YAML_MAPPING_NODE) {
      rc = name_values(r, v, w.text, "a parameter name", &mf->params, &mf->nparams);
    } else {
      struct gcl_mf_value pv = {0};
      rc = values(r, v, "a parameter value", &pv);
      if (rc == 0) add_param(&mf->params, &mf->nparams, NULL, strdup(w.text), pv.text, pv.line);
      else free(pv.text);
    }
    free(w.text);
    if (rc) return rc;
  }
  return 0;
}

/* MODULE: {option: value-or-list, ...} — a top-level key that is not one of ours. */
static int module_options(struct reader *r, yaml_node_t *k, yaml_node_t *v, struct gcl_matrix_file *mf) {
  struct gcl_mf_value mod;
  if (scalar(r, k, "a module name", &mod) < 0) return -1;
  for (unsigned i = 0; i < mf->nopts; i++)
    if (strcmp(mf->opts[i].workload, mod.text) == 0) {
      free(mod.text);
      return fail(r, k, "module '%.60s' is given twice", (const char *)k->data.scalar.value);
    }
  unsigned before = mf->nopts;
  int rc = name_values(r, v, mod.text, "an option name", &mf->opts, &mf->nopts);
  if (rc == 0 && mf->nopts == before) rc = fail(r, v, "module '%s' sets no option", mod.text);
  free(mod.text);
  return rc;
}

/* timeouts: {workload: seconds, ...} */
static int timeouts(struct reader *r, yaml_node_t *n, struct gcl_matrix_file *mf) {
  if (n->type != YAML_MAPPING_NODE)
    return fail(r, n, "'timeouts' must be a mapping: workload: seconds");
  for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
    struct gcl_mf_value w, v;
    if (scalar(r, yaml_document_get_node(r->doc, p->key), "a workload name under 'timeouts'", &w) < 0)
      return -1;
    if (dup_key(r, n, p, "timeouts")) {
      free(w.text);
      return -1;
    }
    if (scalar(r, yaml_document_get_node(r->doc, p->value), "a timeout", &v) < 0) {
      free(w.text);
      return -1;
    }
    add_param(&mf->timeouts, &mf->ntimeouts, w.text, NULL, v.text, v.line);
  }
  return 0;
}

/* Our keys; a key may also be written in its other number (collector for collectors,
 * placements for placement: the flags' words), but not both in one file. */
static const char *const keys[] = {"name",  "collectors", "allocators", "workloads",
                                   "threads", "placement", "repeat",    "scale",
                                   "seed",    "timeout",   "iterations", "params",
                                   "timeouts", "heap", "heap_factor", "heap_ref", "gil",
                                   "freelists"};
static const char *const other_number[] = {NULL, "collector", "allocator", "workload", "thread",
                                           "placements", NULL, NULL, NULL, NULL, NULL, "param",
                                           NULL, NULL, "heap-factor", "heap-ref", NULL, NULL};
#define NKEYS (sizeof keys / sizeof keys[0])

static bool key_is(const char *word, const yaml_node_t *k) {
  return word && strlen(word) == k->data.scalar.length && strcmp(word, (const char *)k->data.scalar.value) == 0;
}

static int top(struct reader *r, yaml_node_t *root, struct gcl_matrix_file *mf) {
  if (!root || (root->type == YAML_MAPPING_NODE && root->data.mapping.pairs.top == root->data.mapping.pairs.start))
    return fail(r, root, "the matrix file is empty (no keys): it would run the whole default "
                "matrix; give at least one key such as collectors: [...] (or run without --matrix)");
  if (root->type != YAML_MAPPING_NODE)
    return fail(r, root, "a matrix file is a mapping of keys (%s, ...), not a %s", keys[1],
                root->type == YAML_SEQUENCE_NODE ? "list" : "single value");
  bool seen[NKEYS] = {0};
  yaml_node_t *seen_as[NKEYS] = {0}; /* the spelling each key was given in */
  for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
    yaml_node_t *k = yaml_document_get_node(r->doc, p->key);
    yaml_node_t *v = yaml_document_get_node(r->doc, p->value);
    if (k->type != YAML_SCALAR_NODE) return fail(r, k, "a key must be a plain name");
    const char *name = (const char *)k->data.scalar.value;
    size_t i = 0;
    while (i < NKEYS && !key_is(keys[i], k) && !key_is(other_number[i], k)) i++;
    if (i == NKEYS && v->type == YAML_MAPPING_NODE) {
      if (module_options(r, k, v, mf) < 0) return -1;
      continue;
    }
    if (i == NKEYS)
      return fail(r, k, "unknown key '%.60s' (expected name, collectors, allocators, workloads, "
                  "threads, placement, repeat, scale, seed, timeout, iterations, params, timeouts, heap, heap_factor, heap_ref, "
                  "gil, freelists, or a module name with a mapping of its options)", name);
    if (seen[i] && key_is(keys[i], k) != key_is(keys[i], seen_as[i]))
      return fail(r, k, "keys '%s' and '%s' are one key (give one of them)",
                  (const char *)seen_as[i]->data.scalar.value, name);
    if (seen[i]) return fail(r, k, "key '%s' is given twice", name);
    seen[i] = true;
    seen_as[i] = k;
    int rc = 0;
    switch (i) {
    case 0: rc = scalar(r, v, "'name'", &mf->name); break;
    case 1: rc = list(r, v, keys[i], &mf->collectors); break;
    case 2: rc = list(r, v, keys[i], &mf->allocators); break;
    case 3: rc = list(r, v, keys[i], &mf->workloads); break;
    case 4: rc = list(r, v, keys[i], &mf->threads); break;
    case 5: rc = list(r, v, keys[i], &mf->placement); break;
    case 6: rc = scalar(r, v, "'repeat'", &mf->repeat); break;
    case 7: rc = scalar(r, v, "'scale'", &mf->scale); break;
    case 8: rc = scalar(r, v, "'seed'", &mf->seed); break;
    case 9: rc = scalar(r, v, "'timeout'", &mf->timeout); break;
    case 10: rc = scalar(r, v, "'iterations'", &mf->iterations); break;
    case 11: rc = params(r, v, mf); break;
    case 12: rc = timeouts(r, v, mf); break;
    case 13: rc = list(r, v, keys[i], &mf->heap); break;
    case 14: rc = list(r, v, keys[i], &mf->heap_factor); break;
    case 15: rc = scalar(r, v, "'heap_ref'", &mf->heap_ref); break;
    case 16: rc = list(r, v, keys[i], &mf->gil); break;
    case 17: rc = list(r, v, keys[i], &mf->freelists); break;
    }
    if (rc) return rc;
  }
  return 0;
}

/* A first pass over the tokens, before any node is built: the nesting depth stays within
 * GCL_MF_MAX_DEPTH and there are no aliases. libyaml's scanner costs O(depth) per token
 * (its simple-key stack), so a file nested 10^6 deep would take hours to load; this pass
 * stops at the first token past the limit, so it costs O(GCL_MF_MAX_DEPTH) per token. */
static int prescan(const char *path, const char *text, size_t len, char *err, size_t err_len) {
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) abort();
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  int depth = 0, rc = 1;
  while (rc > 0) {
    yaml_token_t tok;
    if (!yaml_parser_scan(&parser, &tok)) {
      rc = 0; /* the loader reports the syntax error with its context */
      break;
    }
    unsigned long line = (unsigned long)tok.start_mark.line + 1;
    switch (tok.type) {
    case YAML_BLOCK_SEQUENCE_START_TOKEN:
    case YAML_BLOCK_MAPPING_START_TOKEN:
    case YAML_FLOW_SEQUENCE_START_TOKEN:
    case YAML_FLOW_MAPPING_START_TOKEN:
      if (++depth > GCL_MF_MAX_DEPTH) {
        snprintf(err, err_len, "%s:%lu: nested more than %d levels deep (a matrix file needs 3: "
                 "params: {workload: {name: value}})", path, line, GCL_MF_MAX_DEPTH);
        rc = -1;
      }
      break;
    case YAML_BLOCK_END_TOKEN:
    case YAML_FLOW_SEQUENCE_END_TOKEN:
    case YAML_FLOW_MAPPING_END_TOKEN: depth--; break;
    case YAML_ALIAS_TOKEN:
    case YAML_ANCHOR_TOKEN:
      snprintf(err, err_len, "%s:%lu: YAML anchors and aliases (&name, *name) are not accepted in "
               "a matrix file (write each value out)", path, line);
      rc = -1;
      break;
    case YAML_STREAM_END_TOKEN: rc = 0; break;
    default: break;
    }
    yaml_token_delete(&tok);
  }
  yaml_parser_delete(&parser);
  return rc;
}

int gcl_matrix_parse(const char *path, const char *text, size_t len, struct gcl_matrix_file *mf,
                     char *err, size_t err_len) {
  memset(mf, 0, sizeof *mf);
  if (len > GCL_MF_MAX_BYTES) {
    snprintf(err, err_len, "%s:1: %zu bytes; a matrix file is at most %d bytes", path, len,
             GCL_MF_MAX_BYTES);
    return -1;
  }
  if (prescan(path, text, len, err, err_len) < 0) return -1;
  yaml_parser_t parser;
  yaml_document_t doc;
  if (!yaml_parser_initialize(&parser)) abort();
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if (!yaml_parser_load(&parser, &doc)) {
    snprintf(err, err_len, "%s:%lu: malformed YAML: %s%s%s", path,
             (unsigned long)(parser.problem_mark.line + 1),
             parser.problem ? parser.problem : "parse error", parser.context ? " " : "",
             parser.context ? parser.context : "");
    yaml_parser_delete(&parser);
    return -1;
  }
  struct reader r = {&doc, path, err, err_len};
  int rc = top(&r, yaml_document_get_root_node(&doc), mf);
  if (rc == 0) {
    /* One document only: a second one is most likely a mistake. */
    yaml_document_t more;
    if (!yaml_parser_load(&parser, &more)) {
      snprintf(err, err_len, "%s:%lu: malformed YAML: %s", path,
               (unsigned long)(parser.problem_mark.line + 1),
               parser.problem ? parser.problem : "parse error");
      rc = -1;
    } else {
      yaml_node_t *root2 = yaml_document_get_root_node(&more);
      if (root2) rc = fail(&r, root2, "a second YAML document; a matrix file holds one");
      yaml_document_delete(&more);
    }
  }
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  if (rc) gcl_matrix_free(mf);
  return rc;
}

static void free_list(struct gcl_mf_list *l) {
  for (unsigned i = 0; i < l->n; i++) free(l->v[i].text);
  free(l->v);
}

void gcl_matrix_free(struct gcl_matrix_file *mf) {
  free(mf->name.text);
  free_list(&mf->collectors);
  free_list(&mf->allocators);
  free_list(&mf->workloads);
  free_list(&mf->threads);
  free_list(&mf->placement);
  free_list(&mf->heap);
  free_list(&mf->heap_factor);
  free(mf->heap_ref.text);
  free_list(&mf->gil);
  free_list(&mf->freelists);
  free(mf->repeat.text);
  free(mf->scale.text);
  free(mf->seed.text);
  free(mf->timeout.text);
  free(mf->iterations.text);
  for (unsigned i = 0; i < mf->nparams; i++) {
    free(mf->params[i].workload);
    free(mf->params[i].name);
    free(mf->params[i].value);
  }
  free(mf->params);
  for (unsigned i = 0; i < mf->nopts; i++) {
    free(mf->opts[i].workload);
    free(mf->opts[i].name);
    free(mf->opts[i].value);
  }
  free(mf->opts);
  for (unsigned i = 0; i < mf->ntimeouts; i++) {
    free(mf->timeouts[i].workload);
    free(mf->timeouts[i].value);
  }
  free(mf->timeouts);
  memset(mf, 0, sizeof *mf);
}
