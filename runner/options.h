/* runner/options.h — the runner's options as one X-macro table. From it come the parser,
 * the --help text and the `config` echo written into every CSV row. A collector adds its
 * own options by defining GCL_COLLECTOR_OPTIONS(X) in its attrs header.
 *
 * X(name, kind, default, min, max, help): kind is NUM (a number; min/max inclusive) or
 * INT (a whole number in range) or STR (min/max ignored). Names use underscores in C and
 * dashes on the command line. */
#ifndef GCL_OPTIONS_H
#define GCL_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "mutator.h"

#define GCL_CORE_OPTIONS(X)                                                          \
  X(workload, STR, 0, 0, 0, "workload to run (--describe lists them)")               \
  X(threads, INT, 1, 1, 4096, "mutator threads")                                     \
  X(scale, NUM, 1, 0.0001, 10000, "work multiplier; 1 runs about a second")          \
  X(seed, INT, 1, 0, 9007199254740992.0, "seed of every random choice")              \
  X(record_fd, INT, 1, 1, 1023, "file descriptor the result record is written to")

#ifndef GCL_COLLECTOR_OPTIONS
#define GCL_COLLECTOR_OPTIONS(X)
#endif

#define GCL_ALL_OPTIONS(X) GCL_CORE_OPTIONS(X) GCL_COLLECTOR_OPTIONS(X)

enum gcl_option_kind { GCL_OPT_NUM, GCL_OPT_INT, GCL_OPT_STR };

struct gcl_options {
#define GCL_OPTION_FIELD(name, kind, def, min, max, help) double name; const char *name##_str;
  GCL_ALL_OPTIONS(GCL_OPTION_FIELD)
#undef GCL_OPTION_FIELD
};

extern struct gcl_options gcl_opts; /* the effective options of this process */

/* Parse `--name value` / `--name=value` for one option; returns 1 if argv[*i] was an
 * option of the table (advancing *i past its value), 0 if not, -1 after printing one
 * error line for a bad value. */
int gcl_options_parse_one(int argc, char **argv, int *i);
void gcl_options_print_help(FILE *out);
/* "name=value;..." of every option except workload and record_fd, for the CSV. */
void gcl_options_echo(char *buf, size_t len);

#endif
