/* SPDX-License-Identifier: MIT */
/* harness/analysis/analysis.h — the gclab subcommands that read CSV files written by
 * `gclab run`: summary, compare, table and lbo. Each takes the arguments after its name
 * (argv[0] is the subcommand) and returns the process exit status: 0 success, 1 (compare
 * only) a significant regression, 2 bad input (after printing one line naming it). */
#ifndef GCL_ANALYSIS_H
#define GCL_ANALYSIS_H

int gcl_cmd_summary(int argc, char **argv);
int gcl_cmd_compare(int argc, char **argv);
int gcl_cmd_table(int argc, char **argv);
int gcl_cmd_lbo(int argc, char **argv); /* lower-bound overhead (harness/analysis/lbo.c) */

#endif
