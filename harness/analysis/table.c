/* harness/analysis/table.c — `gclab table` (first version: usage only; the real command follows). */
#include <stdio.h>

#include "analysis.h"

int gcl_cmd_table(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "gclab table: not implemented yet\n");
    return 2;
}
