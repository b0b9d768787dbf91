/* SPDX-License-Identifier: MIT */
/* core/gil.h — the global interpreter lock mode: CPython's GIL (Python/ceval_gil.c) for
 * gclab's mutators, off by default (core/GIL.md has the design in one page).
 *
 * With the GIL on, a mutator thread holds the GIL exactly while it is ATTACHED
 * (core/world.c): attach takes it before DETACHED -> ATTACHED, every way out of ATTACHED
 * (detach, a blocking region, suspension for a stop) releases it afterwards. A thread that
 * waits for the GIL is therefore DETACHED, and a stop-the-world requester may park it like
 * any detached thread. A waiter that sees no switch during a whole switch interval sets
 * GCL_SAFEPOINT_GIL_DROP in the holder's safepoint_work; the holder's next safepoint
 * (its existing slow-path test, nothing added to the fast path) detaches, drops the GIL,
 * and waits until another thread took it (CPython's FORCE_SWITCHING) before it waits for
 * the GIL again. Collector threads and liburcu's call_rcu thread are not mutators and never
 * take it.
 *
 * Invariants: gcl_gil_enabled is written only by gcl_gil_init, before any thread attaches,
 * and read without synchronisation afterwards (pthread_create orders it); only the holder
 * clears its drop bit, and only under the GIL's mutex, as the requester sets it.
 *
 * Macros: GCL_DEBUG >= 1 counts the threads that are ATTACHED and hold the GIL and asserts
 * that there is never more than one. */
#ifndef GCL_GIL_H
#define GCL_GIL_H

#include <stdbool.h>
#include <stdint.h>

#define GCL_GIL_DEFAULT_INTERVAL_US 5000 /* CPython's sys.getswitchinterval(): 5 ms */

struct gcl_mutator;

/* True in GIL mode. The allocator `pool` tests it in its lock fast path. */
extern bool gcl_gil_enabled;

/* Once per process, before any thread attaches (gcl_heap_init_with calls it). interval_us
 * is the switch interval in microseconds (0: the default). */
void gcl_gil_init(bool on, uint64_t interval_us);

/* core/world.c only. Take: block until this thread holds the GIL. Drop: release it; with
 * force, and when a drop was requested of this thread, return only once another thread
 * took it. */
void gcl_gil_take(struct gcl_mutator *m);
void gcl_gil_drop(struct gcl_mutator *m, bool force);
/* GCL_DEBUG bookkeeping of core/world.c: m became ATTACHED holding the GIL / left it. */
void gcl_gil_note_attached(struct gcl_mutator *m);
void gcl_gil_note_left(struct gcl_mutator *m);

/* CPUs in this process's affinity mask, at least 1 (core/world.c; cached at first call):
 * the GIL's and the stop's spins run only when another CPU can run the thread they wait for. */
unsigned gcl_usable_cpus(void);

/* Figures (tests, experiments): hand-offs of the GIL to a thread other than its previous
 * holder, and drop requests made by waiters whose interval expired. */
uint64_t gcl_gil_switches(void);
uint64_t gcl_gil_drop_requests(void);
/* Of those drop requests, the ones whose waiter saw the GIL released while it spun (so the
 * switch needed no wake-up of the waiter); 0 when the spin is off (GCL_GIL_SPIN_NS 0, or
 * a process limited to one CPU). */
uint64_t gcl_gil_spin_takes(void);

#endif
