/* harness/analysis/compare.c — `gclab compare` (first version: usage only; the real command follows). */
#include <stdio.h>

#include "analysis.h"

int gcl_cmd_compare(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "gclab compare: not implemented yet\n");
    return 2;
}
