/* SPDX-License-Identifier: MIT */
/* workloads/pyheap/snapshot.h — reader of `pyheap` snapshot files (CPython heaps dumped by
 * pyheap-dump.py; the format is FORMAT.md next to this file).
 *
 * The reader validates everything before it returns a snapshot: magic and version line,
 * every header key present once, counts within bounds (GCL_PYHEAP_MAX_*), every object
 * line complete and numeric, type indices and reference targets in range, the header's
 * totals (tracked objects, edges, bytes) equal to the sums of the lines, and nothing after
 * `end`. A malformed or truncated file yields one line in `err` naming the file, the line,
 * what was expected and what was found; it never crashes and never allocates more than the
 * file's size justifies.
 *
 * Invariants of a loaded struct gcl_pyheap: objects[i].type < ntypes; a tracked object's
 * type is a container; a non-container has no references; refs[objects[i].ref_start ..
 * + nrefs) are object indices < nobjects; the sums match the header. */
#ifndef GCL_PYHEAP_SNAPSHOT_H
#define GCL_PYHEAP_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GCL_PYHEAP_VERSION 1                      /* the format version this reader reads */
#define GCL_PYHEAP_MAX_OBJECTS 50000000u          /* objects in one snapshot */
#define GCL_PYHEAP_MAX_TYPES 1000000u             /* distinct types */
#define GCL_PYHEAP_MAX_OBJECT_BYTES (64u << 20)   /* sys.getsizeof of one object */
#define GCL_PYHEAP_MAX_TOTAL_BYTES (1ull << 30)   /* sum of the sizes */
#define GCL_PYHEAP_MAX_EDGES (GCL_PYHEAP_MAX_TOTAL_BYTES / 8) /* references, 8 bytes each */
#define GCL_PYHEAP_MAX_LINE 4096                  /* longest header or type line */

struct gcl_pyheap_type {
  char *name;     /* CPython type name, %XX-escaped printable ASCII without spaces */
  bool container; /* the type has Py_TPFLAGS_HAVE_GC (its objects may be tracked) */
};

struct gcl_pyheap_object {
  uint32_t type;      /* index into types[] */
  uint32_t size;      /* sys.getsizeof: bytes, GC head included for container types */
  uint64_t ext;       /* references from outside the dumped graph; > 0 makes it a root */
  uint32_t ref_start; /* its references are refs[ref_start .. ref_start + nrefs) */
  uint32_t nrefs;     /* how many (duplicates kept) */
  bool tracked;       /* gc-tracked in CPython when dumped */
};

struct gcl_pyheap {
  char *python;                      /* CPython version that made it */
  char *program;                     /* what ran (free text) */
  char *cpu;                         /* the CPU the timings were taken on */
  unsigned gc_head;                  /* bytes of CPython's GC head in container sizes */
  uint32_t nobjects;                 /* objects (lines of the objects section) */
  uint32_t ntracked;                 /* of which gc-tracked */
  uint32_t ntypes;                   /* entries of types[] */
  uint32_t nedges;                   /* entries of refs[] */
  uint64_t bytes;                    /* sum of the sizes */
  unsigned collect_runs;             /* timed gc.collect() runs */
  double collect_s;                  /* their median, seconds */
  double collect_first_s;            /* the first run, seconds */
  uint64_t collect_tracked;          /* len(gc.get_objects()) before the runs */
  uint64_t collect_collected;        /* objects the runs collected, in total */
  struct gcl_pyheap_type *types;     /* ntypes entries */
  struct gcl_pyheap_object *objects; /* nobjects entries */
  uint32_t *refs;                    /* nedges reference targets (object indices) */
  uint64_t file_bytes;               /* gcl_pyheap_load: the file's size (parse: len) */
  uint64_t file_hash;                /* FNV-1a 64 of those bytes: which snapshot ran */
};

/* Read and validate the file at `path`. Returns 0, or a negative errno (-EINVAL for a
 * malformed file, -ENOMEM, or the error of open/read) with one line in err. On failure *h
 * holds nothing to free. */
int gcl_pyheap_load(const char *path, struct gcl_pyheap *h, char *err, size_t errlen);

/* The same on text already in memory; `name` only labels the messages. */
int gcl_pyheap_parse(const char *name, const char *text, size_t len, struct gcl_pyheap *h,
                     char *err, size_t errlen);

void gcl_pyheap_free(struct gcl_pyheap *h);

#endif
