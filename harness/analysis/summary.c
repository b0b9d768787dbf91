/* harness/analysis/summary.c — `gclab summary` (first version: usage only; the real command follows). */
#include <stdio.h>

#include "analysis.h"

int gcl_cmd_summary(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "gclab summary: not implemented yet\n");
    return 2;
}
