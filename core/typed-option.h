/* SPDX-License-Identifier: MIT */
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

/* Parse TEXT under D's rule into *OUT. INT and SIZE values outside the declared range, or
 * without one outside the type's own (INT [-2^63, 2^63-1], SIZE [0, 2^64-1]), are refused.
 * SIZE values, and INT values of a range past 2^63-1, are read through .u. Returns 0, or -1 with WHY set to "expected …"
 * (what is accepted: the type and the range or choices), for a one-line message that
 * the caller prefixes with the bad value and the option's name. */
int gcl_opt_parse(const struct gcl_opt_decl *d, const char *text, union gcl_opt_value *out,
                  char *why, size_t why_len);

/* The canonical text of V (what the row echoes): integers in decimal, sizes in bytes,
 * doubles as the shortest text that reads back exactly, enums by name, bools as
 * true/false, strings as they are. */
void gcl_opt_format(const struct gcl_opt_decl *d, const union gcl_opt_value *v, char *out,
                    size_t len);

/* The shortest decimal text that reads back as exactly V (whole numbers below 2^53 in
 * plain digits); the record writer and the option echo share it. */
void gcl_double_format(double v, char *out, size_t len);

/* "int", "size", "double", "enum", "bool", "string"; and back (0, or -1 if unknown). */
const char *gcl_opt_type_name(enum gcl_opt_type t);
int gcl_opt_type_parse(const char *name, enum gcl_opt_type *out);

/* Fill OUT[0..m->nopts) with the defaults of M's options. A default that breaks its own
 * rule is a bug in the module: one line on stderr, then abort(). */
void gcl_module_defaults(const struct gcl_module *m, union gcl_opt_value *out);

/* Whether a declaration keeps the rules of core/module.h: a [a-z0-9_] name, help, a
 * default without spaces that its own rule accepts, bounds that parse under the option's
 * rule with min <= max (an INT range past 2^63-1 must not include negatives: one value,
 * one text), choices only on an enum (non-empty words), bounds only on numbers. 0, or -1
 * with the reason in WHY. gcl_module_check does it for every option of M, and checks its
 * figures (names, one-word units, help) and that no name is declared twice. */
int gcl_opt_decl_check(const struct gcl_opt_decl *d, char *why, size_t why_len);
int gcl_module_check(const struct gcl_module *m, char *why, size_t why_len);

/* True when NAME is a valid option or figure name: [a-z0-9_]+, at most 63 bytes. */
bool gcl_opt_name_ok(const char *name);

#endif
