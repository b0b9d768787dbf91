/* SPDX-License-Identifier: MIT */
/* core/world-parallel.h — what core/world.c and core/world-parallel.c share: the hooks by
 * which a stopped thread finds and does its part of a gcl_world_parallel (declared, for
 * collectors, in core/mutator.h). Not for collectors, workloads or tests. No macros. */
#ifndef GCL_WORLD_PARALLEL_H
#define GCL_WORLD_PARALLEL_H

#include <stdbool.h>

#include "mutator.h"

/* Bumped once a parallel phase is published (atomic load). */
unsigned gcl_world_par_generation(void);
/* A parallel phase is in progress (atomic load; a hint: gcl_world_par_serve decides). */
bool gcl_world_par_active(void);
/* Called with world_lock NOT held: do m's part of the phase in progress if it is still
 * pending (true), or wait until the requester has finished doing it on m's behalf (true);
 * false if m has no part in it. */
bool gcl_world_par_serve(struct gcl_mutator *m);
/* core/world.c: wake every thread waiting for the restart, so it looks for its part. */
void gcl_world_wake_suspended(void);

#endif
