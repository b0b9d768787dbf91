/* SPDX-License-Identifier: MIT */
/* runner/environment.h — what a row needs to be reproduced: the build (compiler, build
 * type and flags, sanitizer, library versions as built) and the machine state the run saw
 * (kernel, C library, which malloc served the process and the environment variables that
 * steer it, transparent huge pages, CPU frequency governor). Each is one record key of
 * harness/schema.h's core columns; a value that cannot be read is not written. */
#ifndef GCL_RUNNER_ENVIRONMENT_H
#define GCL_RUNNER_ENVIRONMENT_H

#include "report.h"

void gcl_report_environment(struct gcl_report *r);

#endif
