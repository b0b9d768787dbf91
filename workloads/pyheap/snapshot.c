/* SPDX-License-Identifier: MIT */
/* workloads/pyheap/snapshot.c — the `pyheap` snapshot reader (format: FORMAT.md).
 *
 * One pass over the text, line by line, with a cursor that never reads past the buffer:
 * every line must end with '\n' (only the final `end` may lack it), fields are separated
 * by spaces or tabs, numbers are plain decimal digits checked for overflow and bounds.
 * Arrays are sized from the header only after the header's counts were checked against
 * the bytes left in the file, so a lying header cannot make the reader allocate much more
 * than the file's own size. Every failure writes one line "FILE:LINE: what, expected X,
 * got 'Y'" and returns -EINVAL; nothing is left allocated. */
#include "snapshot.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FILE_BYTES (4ull << 30) /* no valid snapshot is larger */
#define MAX_EXT (1ull << 62)         /* external reference counts */
#define MAX_SECONDS 1e6              /* a timed collection */
#define SHOW_MAX 40                  /* characters of a bad token quoted in a message */

struct parser {
  const char *name;     /* file name, for messages */
  const char *p, *end;  /* cursor and end of the text */
  const char *ls, *le;  /* current line: [ls, le), le at its '\n' or at end */
  const char *tp;       /* token cursor within the current line */
  unsigned long line;   /* 1-based number of the current line */
  char *err;            /* message buffer */
  size_t errlen;        /* its size */
  char show[4 * SHOW_MAX + 8]; /* a quoted token, escaped */
};

__attribute__((format(printf, 2, 3))) static int fail(struct parser *ps, const char *fmt, ...) {
  if (ps->errlen == 0) return -EINVAL;
  int n = snprintf(ps->err, ps->errlen, "%s:%lu: ", ps->name, ps->line);
  if (n < 0 || (size_t)n >= ps->errlen) return -EINVAL;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return -EINVAL;
}

/* Escape a token for a message: printable ASCII as is, anything else as \xNN. */
static const char *show(struct parser *ps, const char *s, size_t n) {
  char *o = ps->show;
  size_t k = 0;
  for (; k < n && k < SHOW_MAX; k++) {
    unsigned char c = (unsigned char)s[k];
    if (c >= 0x20 && c < 0x7f)
      *o++ = (char)c;
    else
      o += sprintf(o, "\\x%02X", c);
  }
  if (k < n) o += sprintf(o, "...");
  *o = 0;
  return ps->show;
}

/* Advance to the next line. Returns 0, or fails naming `what` was expected. */
static int next_line(struct parser *ps, const char *what) {
  ps->line++;
  if (ps->p >= ps->end) return fail(ps, "truncated: expected %s, got the end of the file", what);
  const char *nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
  ps->ls = ps->p;
  ps->le = nl ? nl : ps->end;
  ps->p = nl ? nl + 1 : ps->end;
  ps->tp = ps->ls;
  if (!nl) {
    /* Only the final `end` may lack its newline; anything else was cut short. */
    if ((size_t)(ps->le - ps->ls) != 3 || memcmp(ps->ls, "end", 3) != 0)
      return fail(ps, "truncated: expected %s ending with a newline, got '%s' and the end of the file",
                  what, show(ps, ps->ls, (size_t)(ps->le - ps->ls)));
  }
  if (ps->le > ps->ls && ps->le[-1] == '\r')
    return fail(ps, "carriage return at the end of the line: expected Unix line ends (\\n)");
  return 0;
}

/* The next field of the current line, or false at the end of the line. */
static bool next_token(struct parser *ps, const char **tok, size_t *len) {
  while (ps->tp < ps->le && (*ps->tp == ' ' || *ps->tp == '\t')) ps->tp++;
  if (ps->tp >= ps->le) return false;
  const char *s = ps->tp;
  while (ps->tp < ps->le && *ps->tp != ' ' && *ps->tp != '\t') ps->tp++;
  *tok = s;
  *len = (size_t)(ps->tp - s);
  return true;
}

static int need_token(struct parser *ps, const char *field, const char **tok, size_t *len) {
  if (!next_token(ps, tok, len))
    return fail(ps, "line ends early: expected %s, got '%s'", field,
                show(ps, ps->ls, (size_t)(ps->le - ps->ls)));
  return 0;
}

static int no_more_tokens(struct parser *ps, const char *after) {
  const char *t = NULL;
  size_t n = 0;
  if (next_token(ps, &t, &n))
    return fail(ps, "unexpected field after %s: expected the end of the line, got '%s'", after, show(ps, t, n));
  return 0;
}

/* A whole number in [min, max], plain decimal digits. */
static int parse_u64(struct parser *ps, const char *field, const char *t, size_t n, uint64_t min,
                     uint64_t max, uint64_t *out) {
  uint64_t v = 0;
  bool ok = n > 0 && n <= 20;
  for (size_t i = 0; ok && i < n; i++) {
    unsigned d = (unsigned)(unsigned char)t[i] - '0';
    if (d > 9 || v > (UINT64_MAX - d) / 10) ok = false;
    else v = v * 10 + d;
  }
  if (!ok || v < min || v > max)
    return fail(ps, "%s: expected a whole number in [%llu, %llu], got '%s'", field,
                (unsigned long long)min, (unsigned long long)max, show(ps, t, n));
  *out = v;
  return 0;
}

static int field_u64(struct parser *ps, const char *field, uint64_t min, uint64_t max, uint64_t *out) {
  const char *t = NULL;
  size_t n = 0;
  int rc = need_token(ps, field, &t, &n);
  return rc ? rc : parse_u64(ps, field, t, n, min, max, out);
}

/* Seconds: a finite decimal number in [0, MAX_SECONDS] (digits, '.', an exponent). */
static int parse_seconds(struct parser *ps, const char *field, const char *t, size_t n, double *out) {
  char buf[64];
  bool ok = n > 0 && n < sizeof buf && (t[0] == '.' || (t[0] >= '0' && t[0] <= '9'));
  for (size_t i = 0; ok && i < n; i++)
    if (!strchr("0123456789.eE+-", t[i])) ok = false;
  double v = 0;
  if (ok) {
    memcpy(buf, t, n);
    buf[n] = 0;
    char *e;
    v = strtod(buf, &e);
    ok = *e == 0 && isfinite(v) && v >= 0 && v <= MAX_SECONDS;
  }
  if (!ok)
    return fail(ps, "%s: expected seconds, a decimal number in [0, %g], got '%s'", field, MAX_SECONDS,
                show(ps, t, n));
  *out = v;
  return 0;
}

/* Printable ASCII (spaces allowed when `spaces`), 1..GCL_PYHEAP_MAX_LINE characters. */
static int text_value(struct parser *ps, const char *field, const char *s, size_t n, bool spaces,
                      char **out) {
  bool ok = n > 0 && n <= GCL_PYHEAP_MAX_LINE;
  for (size_t i = 0; ok && i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c > 0x7e || (!spaces && c == ' ')) ok = false;
  }
  if (!ok)
    return fail(ps, "%s: expected 1..%d printable ASCII characters%s, got '%s'", field,
                GCL_PYHEAP_MAX_LINE, spaces ? "" : " without spaces", show(ps, s, n));
  char *c = malloc(n + 1);
  if (!c) return -ENOMEM;
  memcpy(c, s, n);
  c[n] = 0;
  *out = c;
  return 0;
}

/* --- the header --------------------------------------------------------------------- */

enum key_kind { KEY_TOKEN, KEY_TEXT, KEY_U64, KEY_SECONDS };

struct key_def {
  const char *name;   /* as written in the file */
  enum key_kind kind; /* how its value is read */
  uint64_t min, max;  /* bounds of a KEY_U64 */
};

enum {
  K_PYTHON, K_PROGRAM, K_CPU, K_GC_HEAD, K_OBJECTS, K_TRACKED, K_TYPES, K_EDGES, K_BYTES,
  K_RUNS, K_COLLECT_S, K_FIRST_S, K_CTRACKED, K_CCOLLECTED, NKEYS
};

static const struct key_def keys[NKEYS] = {
    [K_PYTHON] = {"python", KEY_TOKEN, 0, 0},
    [K_PROGRAM] = {"program", KEY_TEXT, 0, 0},
    [K_CPU] = {"cpu", KEY_TEXT, 0, 0},
    [K_GC_HEAD] = {"gc_head", KEY_U64, 0, 256},
    [K_OBJECTS] = {"objects", KEY_U64, 1, GCL_PYHEAP_MAX_OBJECTS},
    [K_TRACKED] = {"tracked", KEY_U64, 0, GCL_PYHEAP_MAX_OBJECTS},
    [K_TYPES] = {"types", KEY_U64, 1, GCL_PYHEAP_MAX_TYPES},
    [K_EDGES] = {"edges", KEY_U64, 0, GCL_PYHEAP_MAX_EDGES},
    [K_BYTES] = {"bytes", KEY_U64, 1, GCL_PYHEAP_MAX_TOTAL_BYTES},
    [K_RUNS] = {"collect_runs", KEY_U64, 1, 1000000},
    [K_COLLECT_S] = {"collect_s", KEY_SECONDS, 0, 0},
    [K_FIRST_S] = {"collect_first_s", KEY_SECONDS, 0, 0},
    [K_CTRACKED] = {"collect_tracked", KEY_U64, 0, UINT64_MAX},
    [K_CCOLLECTED] = {"collect_collected", KEY_U64, 0, UINT64_MAX},
};

static int parse_header(struct parser *ps, struct gcl_pyheap *h, uint64_t *num) {
  int rc;
  const char *t = NULL;
  size_t n = 0;
  if ((rc = next_line(ps, "the magic line 'pyheap 1'"))) return rc;
  if (!next_token(ps, &t, &n) || n != 6 || memcmp(t, "pyheap", 6) != 0)
    return fail(ps, "not a pyheap snapshot: expected 'pyheap %d', got '%s'", GCL_PYHEAP_VERSION,
                show(ps, ps->ls, (size_t)(ps->le - ps->ls)));
  uint64_t version;
  if ((rc = field_u64(ps, "format version", 0, UINT64_MAX, &version))) return rc;
  if (version != GCL_PYHEAP_VERSION)
    return fail(ps, "unsupported format version %llu: this reader reads version %d",
                (unsigned long long)version, GCL_PYHEAP_VERSION);
  if ((rc = no_more_tokens(ps, "the version"))) return rc;

  bool seen[NKEYS] = {0};
  for (;;) {
    if ((rc = next_line(ps, "a header line 'key value' or the 'types' line"))) return rc;
    if (ps->ls < ps->le && ps->ls[0] == '#') continue; /* comment */
    if (!next_token(ps, &t, &n)) return fail(ps, "empty line in the header: expected 'key value' or 'types'");
    const char *v = NULL;
    size_t vn = 0;
    bool has_value = next_token(ps, &v, &vn);
    if (!has_value && n == 5 && memcmp(t, "types", 5) == 0) break; /* the types section */
    int k = 0;
    while (k < NKEYS && (strlen(keys[k].name) != n || memcmp(keys[k].name, t, n) != 0)) k++;
    if (k == NKEYS)
      return fail(ps, "unknown header key '%s': expected one of python, program, cpu, gc_head, objects, "
                  "tracked, types, edges, bytes, collect_runs, collect_s, collect_first_s, "
                  "collect_tracked, collect_collected", show(ps, t, n));
    if (seen[k]) return fail(ps, "header key '%s' given twice", keys[k].name);
    seen[k] = true;
    if (!has_value) return fail(ps, "header key '%s' has no value", keys[k].name);
    switch (keys[k].kind) {
    case KEY_TEXT: /* the rest of the line, spaces included */
      rc = text_value(ps, keys[k].name, v, (size_t)(ps->le - v),
                      true, k == K_PROGRAM ? &h->program : &h->cpu);
      if (rc) return rc;
      ps->tp = ps->le;
      break;
    case KEY_TOKEN:
      if ((rc = text_value(ps, keys[k].name, v, vn, false, &h->python))) return rc;
      break;
    case KEY_U64:
      if ((rc = parse_u64(ps, keys[k].name, v, vn, keys[k].min, keys[k].max, &num[k]))) return rc;
      break;
    case KEY_SECONDS:
      if ((rc = parse_seconds(ps, keys[k].name, v, vn, k == K_COLLECT_S ? &h->collect_s : &h->collect_first_s)))
        return rc;
      break;
    }
    if ((rc = no_more_tokens(ps, keys[k].name))) return rc;
  }
  for (int k = 0; k < NKEYS; k++)
    if (!seen[k]) return fail(ps, "header lacks the key '%s': expected it before the 'types' line", keys[k].name);
  if (num[K_TRACKED] > num[K_OBJECTS])
    return fail(ps, "header: tracked %llu exceeds objects %llu", (unsigned long long)num[K_TRACKED],
                (unsigned long long)num[K_OBJECTS]);
  if (num[K_TYPES] > num[K_OBJECTS])
    return fail(ps, "header: types %llu exceeds objects %llu (every type has an object)",
                (unsigned long long)num[K_TYPES], (unsigned long long)num[K_OBJECTS]);
  h->gc_head = (unsigned)num[K_GC_HEAD];
  h->nobjects = (uint32_t)num[K_OBJECTS];
  h->ntracked = (uint32_t)num[K_TRACKED];
  h->ntypes = (uint32_t)num[K_TYPES];
  h->nedges = (uint32_t)num[K_EDGES];
  h->bytes = num[K_BYTES];
  h->collect_runs = (unsigned)num[K_RUNS];
  h->collect_tracked = num[K_CTRACKED];
  h->collect_collected = num[K_CCOLLECTED];
  return 0;
}

/* --- the sections ------------------------------------------------------------------- */

static int parse_types(struct parser *ps, struct gcl_pyheap *h) {
  int rc;
  char what[64];
  for (uint32_t i = 0; i < h->ntypes; i++) {
    snprintf(what, sizeof what, "type line %u of %u", i + 1, h->ntypes);
    if ((rc = next_line(ps, what))) return rc;
    uint64_t container;
    if ((rc = field_u64(ps, "type container flag", 0, 1, &container))) return rc;
    const char *t = NULL;
    size_t n = 0;
    if ((rc = need_token(ps, "a type name", &t, &n))) return rc;
    if ((rc = text_value(ps, "type name", t, n, false, &h->types[i].name))) return rc;
    h->types[i].container = container;
    if ((rc = no_more_tokens(ps, "the type name"))) return rc;
  }
  return 0;
}

static int section_line(struct parser *ps, const char *word, const char *what) {
  int rc = next_line(ps, what);
  if (rc) return rc;
  size_t n = strlen(word);
  if ((size_t)(ps->le - ps->ls) != n || memcmp(ps->ls, word, n) != 0)
    return fail(ps, "expected %s, got '%s'", what, show(ps, ps->ls, (size_t)(ps->le - ps->ls)));
  return 0;
}

static int parse_objects(struct parser *ps, struct gcl_pyheap *h) {
  int rc;
  char what[64];
  uint64_t edges = 0, bytes = 0, tracked = 0;
  for (uint32_t i = 0; i < h->nobjects; i++) {
    struct gcl_pyheap_object *o = &h->objects[i];
    snprintf(what, sizeof what, "object line %u of %u", i + 1, h->nobjects);
    if ((rc = next_line(ps, what))) return rc;
    uint64_t type, trk, size, ext, nrefs;
    if ((rc = field_u64(ps, "object type", 0, h->ntypes - 1, &type))) return rc;
    if ((rc = field_u64(ps, "object tracked flag", 0, 1, &trk))) return rc;
    if ((rc = field_u64(ps, "object size", 1, GCL_PYHEAP_MAX_OBJECT_BYTES, &size))) return rc;
    if ((rc = field_u64(ps, "object external references", 0, MAX_EXT, &ext))) return rc;
    if ((rc = field_u64(ps, "object reference count", 0, GCL_PYHEAP_MAX_EDGES, &nrefs))) return rc;
    if (nrefs > h->nedges - edges)
      return fail(ps, "object %u has %llu references, more than the header's edges %u leave (%llu)", i,
                  (unsigned long long)nrefs, h->nedges, (unsigned long long)(h->nedges - edges));
    if (trk && !h->types[type].container)
      return fail(ps, "object %u is tracked but its type %s is not a container", i, h->types[type].name);
    if (nrefs && !h->types[type].container)
      return fail(ps, "object %u has references but its type %s is not a container", i, h->types[type].name);
    o->type = (uint32_t)type;
    o->tracked = trk;
    o->size = (uint32_t)size;
    o->ext = ext;
    o->ref_start = (uint32_t)edges;
    o->nrefs = (uint32_t)nrefs;
    for (uint64_t k = 0; k < nrefs; k++) {
      uint64_t target;
      const char *t = NULL;
      size_t n = 0;
      if (!next_token(ps, &t, &n))
        return fail(ps, "object %u: expected %llu references, got %llu", i, (unsigned long long)nrefs,
                    (unsigned long long)k);
      if ((rc = parse_u64(ps, "reference target", t, n, 0, h->nobjects - 1, &target))) return rc;
      h->refs[edges + k] = (uint32_t)target;
    }
    if ((rc = no_more_tokens(ps, "the references"))) return rc;
    edges += nrefs;
    bytes += size;
    tracked += trk;
    if (bytes > h->bytes)
      return fail(ps, "the sizes so far (%llu bytes) exceed the header's bytes %llu",
                  (unsigned long long)bytes, (unsigned long long)h->bytes);
  }
  if (edges != h->nedges)
    return fail(ps, "the objects have %llu references in all, the header says edges %u",
                (unsigned long long)edges, h->nedges);
  if (bytes != h->bytes)
    return fail(ps, "the object sizes sum to %llu bytes, the header says bytes %llu",
                (unsigned long long)bytes, (unsigned long long)h->bytes);
  if (tracked != h->ntracked)
    return fail(ps, "%llu objects are tracked, the header says tracked %u", (unsigned long long)tracked,
                h->ntracked);
  return 0;
}

void gcl_pyheap_free(struct gcl_pyheap *h) {
  if (h->types)
    for (uint32_t i = 0; i < h->ntypes; i++) free(h->types[i].name);
  free(h->types);
  free(h->objects);
  free(h->refs);
  free(h->python);
  free(h->program);
  free(h->cpu);
  memset(h, 0, sizeof *h);
}

int gcl_pyheap_parse(const char *name, const char *text, size_t len, struct gcl_pyheap *h, char *err,
                     size_t errlen) {
  struct parser ps = {.name = name, .p = text, .end = text + len, .err = err, .errlen = errlen};
  uint64_t num[NKEYS] = {0};
  memset(h, 0, sizeof *h);
  if (errlen) err[0] = 0;
  int rc = parse_header(&ps, h, num);
  if (rc == 0) {
    /* Smallest possible text for what the header promises: "0 x\n" per type, "0 0 1 0 0\n"
     * per object, " 0" per reference, plus "objects\nend". */
    uint64_t need = 4ull * h->ntypes + 10ull * h->nobjects + 2ull * h->nedges + 11;
    uint64_t have = (uint64_t)(ps.end - ps.p);
    if (need > have)
      rc = fail(&ps, "truncated or inconsistent: the header promises %u types, %u objects and %u "
                "references, which need at least %llu more bytes, but only %llu remain",
                h->ntypes, h->nobjects, h->nedges, (unsigned long long)need, (unsigned long long)have);
  }
  if (rc == 0) {
    h->types = calloc(h->ntypes, sizeof *h->types);
    h->objects = calloc(h->nobjects, sizeof *h->objects);
    h->refs = malloc((h->nedges ? h->nedges : 1) * sizeof *h->refs);
    if (!h->types || !h->objects || !h->refs) rc = -ENOMEM;
  }
  if (rc == 0) rc = parse_types(&ps, h);
  if (rc == 0) rc = section_line(&ps, "objects", "the 'objects' line after the types");
  if (rc == 0) rc = parse_objects(&ps, h);
  if (rc == 0) rc = section_line(&ps, "end", "the 'end' line after the objects");
  if (rc == 0 && ps.p < ps.end) {
    ps.line++;
    rc = fail(&ps, "trailing data after 'end': expected the end of the file, got '%s'",
              show(&ps, ps.p, (size_t)(ps.end - ps.p)));
  }
  if (rc == -ENOMEM && errlen)
    snprintf(err, errlen, "%s: out of memory reading the snapshot", name);
  if (rc) gcl_pyheap_free(h);
  if (rc == 0) { /* what identifies the snapshot in a row: its size and content hash */
    uint64_t hash = 0xcbf29ce484222325ull;
    for (size_t k = 0; k < len; k++) hash = (hash ^ (unsigned char)text[k]) * 0x100000001b3ull;
    h->file_bytes = len;
    h->file_hash = hash;
  }
  return rc;
}

int gcl_pyheap_load(const char *path, struct gcl_pyheap *h, char *err, size_t errlen) {
  memset(h, 0, sizeof *h);
  FILE *f = fopen(path, "rb");
  if (!f) {
    int e = errno;
    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
    return -e;
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(err, errlen, "%s: not a regular file", path);
    fclose(f);
    return -EINVAL;
  }
  if ((uint64_t)st.st_size > MAX_FILE_BYTES) {
    snprintf(err, errlen, "%s: %lld bytes: expected a snapshot of at most %llu bytes", path,
             (long long)st.st_size, (unsigned long long)MAX_FILE_BYTES);
    fclose(f);
    return -EINVAL;
  }
  size_t len = (size_t)st.st_size;
  char *text = malloc(len ? len : 1);
  if (!text) {
    snprintf(err, errlen, "%s: out of memory reading %zu bytes", path, len);
    fclose(f);
    return -ENOMEM;
  }
  size_t got = fread(text, 1, len, f);
  int e = ferror(f) ? errno : 0;
  fclose(f);
  if (got != len) {
    snprintf(err, errlen, "%s: read %zu of %zu bytes: %s", path, got, len, e ? strerror(e) : "file shrank");
    free(text);
    return e ? -e : -EIO;
  }
  int rc = gcl_pyheap_parse(path, text, len, h, err, errlen);
  free(text);
  return rc;
}
