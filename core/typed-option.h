/* core/typed-option.h — the one rule for option values (core/module.h's types): parsing,
 * range checks, formatting and type names. The runner uses it for every option it
 * accepts; the harness links the same file to check `--opt` values and matrix-file values
 * against the declarations it learned from `--describe`, so a value is judged the same way
 * wherever it is written. No allocation, no global state. */
#ifndef GCL_TYPED_OPTION_H
#define GCL_TYPED_OPTION_H

#include <stdbool.h>
#include <stddef.h>

#include "module.h"

/* Parse TEXT under D's rule into *OUT. Returns 0, or -1 with WHY set to "expected …"
 * (what is accepted: the type and the range or choices), for a one-line message that
 * the caller prefixes with the bad value and the option's name. */
int gcl_opt_parse(const struct gcl_opt_decl *d, const char *text, union gcl_opt_value *out,
                  char *why, size_t why_len);

/* The canonical text of V (what the row echoes): integers in decimal, sizes in bytes,
 * doubles as the shortest text that reads back exactly, enums by name, bools as
 * true/false, strings as they are. */
void gcl_opt_format(const struct gcl_opt_decl *d, const union gcl_opt_value *v, char *out,
                    size_t len);

/* "int", "size", "double", "enum", "bool", "string"; and back (0, or -1 if unknown). */
const char *gcl_opt_type_name(enum gcl_opt_type t);
int gcl_opt_type_parse(const char *name, enum gcl_opt_type *out);

/* Fill OUT[0..m->nopts) with the defaults of M's options. A default that breaks its own
 * rule is a bug in the module: one line on stderr, then abort(). */
void gcl_module_defaults(const struct gcl_module *m, union gcl_opt_value *out);

/* True when NAME is a valid option or figure name: [a-z0-9_]+, at most 63 bytes. */
bool gcl_opt_name_ok(const char *name);

#endif
