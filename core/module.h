/* SPDX-License-Identifier: MIT */
/* core/module.h — what a plug-in (collector, allocator, workload) declares about itself:
 * its typed options and its figures. The declarations live next to the module's code;
 * the runner reads them (runner/options.c parses `--opt MODULE.NAME=VALUE` against them,
 * `--describe` prints them for the harness) and nothing outside the module's folder lists
 * them again. The harness learns every module's figures from the runners and writes
 * them as namespaced CSV columns `<module>.<figure>` after the core columns.
 *
 * A collector's <name>.c ends with
 *   GCL_COLLECTOR_DECLARE(options, noptions, figures, nfigures);
 * an allocator's with GCL_ALLOCATOR_DECLARE(...) (same arguments; GCL_NONE, 0 for none);
 * a workload puts its figures in struct gcl_workload (core/workload.h).
 *
 * Invariants: names are [a-z0-9_] (options and figures) and unique within a module; a
 * module reports only figures it declared (runner/report.c asserts it); every declaration
 * keeps the rules of gcl_module_check (core/typed-option.h), which every runner checks at
 * start-up. This header has no macros that change it. */
#ifndef GCL_MODULE_H
#define GCL_MODULE_H

#include <stdbool.h>
#include <stdint.h>

/* The type of an option's value, and the rule its text must follow. */
enum gcl_opt_type {
  GCL_OPT_INT,    /* a decimal whole number (optional '-'), in [min, max] */
  GCL_OPT_SIZE,   /* bytes: digits with an optional k, m, g or t suffix (powers of 1024) */
  GCL_OPT_DOUBLE, /* a finite decimal number (no hex, nan or inf), in [min, max] */
  GCL_OPT_ENUM,   /* one of the '|'-separated words of choices */
  GCL_OPT_BOOL,   /* true/false, on/off, yes/no, 1/0 */
  GCL_OPT_STRING  /* any printable text without control bytes, ',' or ';' */
};

/* A parsed value. INT values are read through i, or through u when the declared range
 * goes past INT64_MAX (a seed); SIZE values always through u; ENUM through e (index into
 * choices). */
union gcl_opt_value {
  int64_t i;     /* INT */
  uint64_t u;    /* SIZE; INT with a range beyond INT64_MAX */
  double d;      /* DOUBLE */
  bool b;        /* BOOL */
  unsigned e;    /* ENUM: index of the choice */
  const char *s; /* STRING (points into argv or a static default) */
};

/* One option. min and max are decimal text (exact for 64-bit integers); NULL means
 * unbounded on that side. */
struct gcl_opt_decl {
  const char *name;       /* [a-z0-9_]: written MODULE.NAME on the command line */
  enum gcl_opt_type type; /* the rule */
  const char *def;        /* the default, as text under the same rule */
  const char *min, *max;  /* INT/SIZE/DOUBLE: inclusive range, or NULL */
  const char *choices;    /* ENUM: "a|b|c"; NULL otherwise */
  const char *help;       /* one line */
};

/* One figure the module measures and writes into its record. */
struct gcl_fig_decl {
  const char *name; /* [a-z0-9_]: the CSV column is <module>.<name> */
  const char *unit; /* one word: count, bytes, kb, s, ns, ratio, objects... */
  const char *help; /* one line of meaning */
};

/* Everything one module declares; its option values are filled by the runner (defaults
 * otherwise) before the module's init runs. */
struct gcl_module {
  const char *name;                  /* collector/allocator/workload name (kebab-case) */
  const char *kind;                  /* "collector", "allocator" or "workload" */
  const struct gcl_opt_decl *opts;   /* its options */
  unsigned nopts;                    /* how many */
  const struct gcl_fig_decl *figs;   /* its figures */
  unsigned nfigs;                    /* how many */
};

/* What a module's init receives: the run's shape and its own option values, in the
 * order of its declaration (values[k] belongs to opts[k]). */
struct gcl_init {
  unsigned threads;                  /* mutator threads the run will start (1 if unknown) */
  const union gcl_opt_value *opts;   /* this module's option values */
};

#define GCL_MODULE_MAX_OPTS 32 /* options one module may declare */

/* A module's init that cannot run this cell with these options (not a failure: a pair
 * that does not support them, e.g. cmark.mode=concurrent on an allocator without
 * heap-walk-concurrent) writes the reason here and returns -ENOTSUP; the runner then
 * ends the cell with status invalid:<reason>, as for a thread count the collector refuses
 * (core/heap.c defines it; empty otherwise). */
extern char gcl_init_invalid_reason[160];

#define GCL_NONE ((void *)0)
#define GCL_COUNT(a) ((unsigned)(sizeof(a) / sizeof((a)[0])))

extern const struct gcl_module gcl_collector_module; /* the selected collector's */
extern const struct gcl_module gcl_allocator_module; /* the selected allocator's */

#define GCL_COLLECTOR_DECLARE(o, no, f, nf) \
  const struct gcl_module gcl_collector_module = {GCL_COLLECTOR_NAME, "collector", o, no, f, nf}
#define GCL_ALLOCATOR_DECLARE(o, no, f, nf) \
  const struct gcl_module gcl_allocator_module = {GCL_ALLOCATOR_NAME, "allocator", o, no, f, nf}

#endif
