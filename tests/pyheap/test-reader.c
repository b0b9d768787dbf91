/* SPDX-License-Identifier: MIT */
/* tests/pyheap/test-reader.c — the pyheap snapshot reader (workloads/pyheap/snapshot.c)
 * accepts the shipped snapshots and a hand-written tiny one, and rejects malformed input
 * with one clear line naming the file, the line and what was expected: every truncation,
 * dangling references, oversized counts, bad magic, non-numeric fields, trailing data.
 * The round trip runs pyheap-dump.py on a tiny Python program and reads the result back
 * (skipped with a message when python3 is absent).
 *
 * Macros (tests/pyheap/CMakeLists.txt): GCL_PYHEAP_DIR, the workloads/pyheap folder;
 * GCL_PYTHON3, the python3 found at configure time ("" if none). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "snapshot.h"

#define TINY GCL_PYHEAP_DIR "/snapshots/tiny-synthetic.pyheap"

static char *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *s = malloc((size_t)n + 1);
  cr_assert_not_null(s);
  cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
  s[n] = 0;
  fclose(f);
  *len = (size_t)n;
  return s;
}

/* The tiny snapshot's text with the first occurrence of `from` replaced by `to`. */
static char *tiny_with(const char *from, const char *to, unsigned long *line) {
  size_t len;
  char *text = read_all(TINY, &len);
  char *at = strstr(text, from);
  cr_assert_not_null(at, "'%s' is not in %s", from, TINY);
  if (line) {
    *line = 1;
    for (char *c = text; c < at; c++) *line += *c == '\n';
  }
  size_t fl = strlen(from), tl = strlen(to);
  char *out = malloc(len - fl + tl + 1);
  cr_assert_not_null(out);
  memcpy(out, text, (size_t)(at - text));
  memcpy(out + (at - text), to, tl);
  memcpy(out + (at - text) + tl, at + fl, len - (size_t)(at - text) - fl + 1);
  free(text);
  return out;
}

/* Parse `text` and require failure with a message containing `want` (and, when line > 0,
 * starting with "tiny:<line>:"). */
static void expect_error(const char *text, size_t len, const char *want, unsigned long line) {
  struct gcl_pyheap h;
  char err[512];
  int rc = gcl_pyheap_parse("tiny", text, len, &h, err, sizeof err);
  cr_assert_eq(rc, -EINVAL, "accepted a bad file (expected an error containing '%s')", want);
  cr_assert(strstr(err, want) != NULL, "error '%s' does not mention '%s'", err, want);
  cr_assert(strchr(err, '\n') == NULL, "error '%s' is more than one line", err);
  if (line) {
    char prefix[32];
    snprintf(prefix, sizeof prefix, "tiny:%lu:", line);
    cr_assert(strncmp(err, prefix, strlen(prefix)) == 0, "error '%s' does not start with %s", err, prefix);
  }
  cr_assert_null(h.objects, "a failed parse left memory behind");
}

static void expect_sub_error(const char *from, const char *to, const char *want, bool at_line) {
  unsigned long line;
  char *text = tiny_with(from, to, &line);
  expect_error(text, strlen(text), want, at_line ? line : 0);
  free(text);
}

/* --- valid input ---------------------------------------------------------------------- */

Test(reader, reads_the_tiny_snapshot) {
  struct gcl_pyheap h;
  char err[512];
  int rc = gcl_pyheap_load(TINY, &h, err, sizeof err);
  cr_assert_eq(rc, 0, "%s", err);
  cr_expect_str_eq(h.python, "3.11.7");
  cr_expect_str_eq(h.program, "tiny-synthetic (hand-written)");
  cr_expect_str_eq(h.cpu, "none (the timings are invented)");
  cr_expect_eq(h.gc_head, 16);
  cr_expect_eq(h.nobjects, 15);
  cr_expect_eq(h.ntracked, 8);
  cr_expect_eq(h.ntypes, 7);
  cr_expect_eq(h.nedges, 19);
  cr_expect_eq(h.bytes, 2897);
  cr_expect_eq(h.collect_runs, 3);
  cr_expect_float_eq(h.collect_s, 2e-6, 1e-15);
  cr_expect_float_eq(h.collect_first_s, 3e-6, 1e-15);
  cr_expect_eq(h.collect_tracked, 8);
  cr_expect_eq(h.collect_collected, 3);
  cr_expect_str_eq(h.types[6].name, "type");
  cr_expect(h.types[0].container && !h.types[3].container);
  /* object 1: a tracked list holding the tuple twice and a string */
  cr_expect_eq(h.objects[1].type, 1);
  cr_expect(h.objects[1].tracked);
  cr_expect_eq(h.objects[1].size, 88);
  cr_expect_eq(h.objects[1].ext, 0);
  cr_expect_eq(h.objects[1].nrefs, 3);
  const uint32_t *r = &h.refs[h.objects[1].ref_start];
  cr_expect(r[0] == 2 && r[1] == 2 && r[2] == 8);
  /* object 2: an untracked tuple that holds references */
  cr_expect(!h.objects[2].tracked && h.objects[2].nrefs == 2);
  cr_expect_eq(h.objects[4].ext, 3);
  cr_expect_eq(h.objects[14].ref_start, 19);
  gcl_pyheap_free(&h);
  cr_expect_null(h.objects);
}

Test(reader, accepts_a_missing_final_newline) {
  size_t len;
  char *text = read_all(TINY, &len);
  cr_assert_eq(text[len - 1], '\n');
  struct gcl_pyheap h;
  char err[512];
  cr_assert_eq(gcl_pyheap_parse("tiny", text, len - 1, &h, err, sizeof err), 0, "%s", err);
  gcl_pyheap_free(&h);
  free(text);
}

Test(reader, reads_the_shipped_snapshots) {
  static const char *const names[] = {"stdlib-tour.pyheap", "ast-pydecimal.pyheap"};
  for (unsigned i = 0; i < 2; i++) {
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/snapshots/%s", GCL_PYHEAP_DIR, names[i]);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s is missing", path);
    cr_expect_lt(st.st_size, 5 << 20, "%s is %lld bytes, over 5 MiB", path, (long long)st.st_size);
    struct gcl_pyheap h;
    cr_assert_eq(gcl_pyheap_load(path, &h, err, sizeof err), 0, "%s", err);
    cr_expect_gt(h.ntracked, 10000, "%s: a real heap has more than %u tracked objects", path, h.ntracked);
    cr_expect_gt(h.collect_s, 0);
    gcl_pyheap_free(&h);
  }
}

/* --- truncation ----------------------------------------------------------------------- */

Test(reader, rejects_every_truncation) {
  size_t len;
  char *text = read_all(TINY, &len);
  /* Every prefix shorter than the file without its final newline must fail, saying it
   * is truncated. */
  for (size_t cut = 0; cut + 1 < len; cut++) {
    char *copy = malloc(cut ? cut : 1); /* exactly cut bytes: ASan sees any overread */
    memcpy(copy, text, cut);
    struct gcl_pyheap h;
    char err[512];
    int rc = gcl_pyheap_parse("tiny", copy, cut, &h, err, sizeof err);
    cr_assert_eq(rc, -EINVAL, "a prefix of %zu bytes was accepted", cut);
    cr_assert(strstr(err, "truncated") != NULL, "prefix of %zu bytes: '%s' does not say truncated", cut, err);
    free(copy);
  }
  free(text);
}

Test(reader, rejects_a_header_promising_more_than_the_file_holds) {
  expect_sub_error("objects 15\n", "objects 40000000\n", "truncated or inconsistent", false);
  expect_sub_error("edges 19\n", "edges 100000000\n", "truncated or inconsistent", false);
}

/* --- dangling references and bad ids --------------------------------------------------- */

Test(reader, rejects_a_dangling_reference) {
  expect_sub_error("1 1 72 0 2 11 6\n", "1 1 72 0 2 11 15\n",
                   "reference target: expected a whole number in [0, 14], got '15'", true);
}

Test(reader, rejects_a_type_index_out_of_range) {
  expect_sub_error("4 0 28 3 0\n", "7 0 28 3 0\n", "object type: expected a whole number in [0, 6], got '7'", true);
}

Test(reader, rejects_missing_and_extra_references) {
  expect_sub_error("0 1 232 1 4 3 1 7 5\n", "0 1 232 1 4 3 1 7\n", "expected 4 references, got 3", true);
  expect_sub_error("4 0 28 3 0\n", "4 0 28 3 0 7\n", "unexpected field after the references", true);
  expect_sub_error("0 1 232 1 4 3 1 7 5\n", "0 1 232 1 40 3 1 7 5\n", "more than the header's edges", true);
}

Test(reader, rejects_totals_that_disagree_with_the_header) {
  expect_sub_error("edges 19\n", "edges 20\n", "the objects have 19 references in all, the header says edges 20", false);
  expect_sub_error("bytes 2897\n", "bytes 2898\n", "sum to 2897 bytes, the header says bytes 2898", false);
  expect_sub_error("bytes 2897\n", "bytes 2000\n", "exceed the header's bytes 2000", false);
  expect_sub_error("tracked 8\n", "tracked 7\n", "8 objects are tracked, the header says tracked 7", false);
}

Test(reader, rejects_references_and_tracking_on_non_containers) {
  expect_sub_error("3 0 53 1 0\n", "3 1 53 1 0\n", "tracked but its type str is not a container", true);
  char *t = tiny_with("edges 19\n", "edges 20\n", NULL);
  char *at = strstr(t, "3 0 53 1 0\n");
  cr_assert_not_null(at);
  char *u = malloc(strlen(t) + 3);
  memcpy(u, t, (size_t)(at - t));
  strcpy(u + (at - t), "3 0 53 1 1 0\n");
  strcat(u, at + strlen("3 0 53 1 0\n"));
  expect_error(u, strlen(u), "has references but its type str is not a container", 0);
  free(u);
  free(t);
}

/* --- oversized values ------------------------------------------------------------------ */

Test(reader, rejects_oversized_counts_and_sizes) {
  expect_sub_error("objects 15\n", "objects 50000001\n", "objects: expected a whole number in [1, 50000000]", true);
  expect_sub_error("objects 15\n", "objects 99999999999999999999999\n", "objects: expected a whole number", true);
  expect_sub_error("types 7\n", "types 1000001\n", "types: expected a whole number in [1, 1000000]", true);
  expect_sub_error("edges 19\n", "edges 134217729\n", "edges: expected a whole number in [0, 134217728]", true);
  expect_sub_error("bytes 2897\n", "bytes 1073741825\n", "bytes: expected a whole number in [1, 1073741824]", true);
  expect_sub_error("6 1 1072 1 1 10\n", "6 1 67108865 1 1 10\n",
                   "object size: expected a whole number in [1, 67108864], got '67108865'", true);
  expect_sub_error("4 0 28 3 0\n", "4 0 28 4611686018427387905 0\n", "object external references", true);
  expect_sub_error("tracked 8\n", "tracked 16\n", "tracked 16 exceeds objects 15", false);
}

/* --- magic, version, header ------------------------------------------------------------ */

Test(reader, rejects_bad_magic_and_versions) {
  expect_sub_error("pyheap 1\n", "pyhep 1\n", "not a pyheap snapshot: expected 'pyheap 1', got 'pyhep 1'", true);
  expect_sub_error("pyheap 1\n", "PK\x03\x04 1\n", "not a pyheap snapshot", true);
  expect_sub_error("pyheap 1\n", "pyheap 2\n", "unsupported format version 2", true);
  expect_sub_error("pyheap 1\n", "pyheap\n", "format version", true);
  expect_error("", 0, "truncated: expected the magic line", 1);
}

Test(reader, rejects_header_mistakes) {
  expect_sub_error("gc_head 16\n", "", "lacks the key 'gc_head'", false);
  expect_sub_error("objects 15\n", "objects 15\nobjects 15\n", "header key 'objects' given twice", false);
  expect_sub_error("gc_head 16\n", "gc_heap 16\n", "unknown header key 'gc_heap'", true);
  expect_sub_error("gc_head 16\n", "gc_head\n", "header key 'gc_head' has no value", true);
  expect_sub_error("gc_head 16\n", "gc_head 16 17\n", "unexpected field after gc_head", true);
  expect_sub_error("gc_head 16\n", "\n", "empty line in the header", true);
  expect_sub_error("objects\n", "object\n", "expected the 'objects' line after the types, got 'object'", true);
  expect_sub_error("end\n", "ende\n", "expected the 'end' line", true);
}

/* --- non-numeric fields ----------------------------------------------------------------- */

Test(reader, rejects_non_numeric_fields) {
  expect_sub_error("tracked 8\n", "tracked eight\n", "tracked: expected a whole number in [0, 50000000], got 'eight'", true);
  expect_sub_error("objects 15\n", "objects -15\n", "objects: expected a whole number", true);
  expect_sub_error("objects 15\n", "objects +15\n", "objects: expected a whole number", true);
  expect_sub_error("0 1 232 1 4", "0 1 23x 1 4", "object size: expected a whole number in [1, 67108864], got '23x'", true);
  expect_sub_error("4 0 28 3 0\n", "4 0 28 -1 0\n", "object external references", true);
  expect_sub_error("4 0 28 3 0\n", "4 2 28 3 0\n", "object tracked flag: expected a whole number in [0, 1]", true);
  expect_sub_error("1 dict\n", "2 dict\n", "type container flag", true);
  expect_sub_error("collect_s 0.000002\n", "collect_s nan\n", "collect_s: expected seconds", true);
  expect_sub_error("collect_s 0.000002\n", "collect_s inf\n", "collect_s: expected seconds", true);
  expect_sub_error("collect_s 0.000002\n", "collect_s 1e400\n", "collect_s: expected seconds", true);
  expect_sub_error("collect_s 0.000002\n", "collect_s -0.1\n", "collect_s: expected seconds", true);
  expect_sub_error("collect_s 0.000002\n", "collect_s 0x10\n", "collect_s: expected seconds", true);
  expect_sub_error("collect_s 0.000002\n", "collect_s 0.1.2\n", "collect_s: expected seconds", true);
}

Test(reader, rejects_bad_bytes_and_line_ends) {
  size_t len;
  char *text = read_all(TINY, &len);
  /* A NUL byte inside a type name. */
  char *at = strstr(text, "1 dict\n");
  cr_assert_not_null(at);
  at[4] = '\0';
  expect_error(text, len, "type name: expected 1..4096 printable ASCII characters", 0);
  free(text);
  /* CRLF line ends. */
  text = read_all(TINY, &len);
  char *crlf = malloc(2 * len + 1);
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    if (text[i] == '\n') crlf[n++] = '\r';
    crlf[n++] = text[i];
  }
  expect_error(crlf, n, "carriage return", 1);
  free(crlf);
  free(text);
}

Test(reader, rejects_trailing_data) {
  size_t len;
  char *text = read_all(TINY, &len);
  char *more = malloc(len + 16);
  memcpy(more, text, len);
  memcpy(more + len, "x\n", 2);
  expect_error(more, len + 2, "trailing data after 'end'", 0);
  memcpy(more + len, "\n", 1);
  expect_error(more, len + 1, "trailing data after 'end'", 0);
  memcpy(more + len, "end\n", 4);
  expect_error(more, len + 4, "trailing data after 'end'", 0);
  free(more);
  free(text);
}

Test(reader, reports_unreadable_files) {
  struct gcl_pyheap h;
  char err[512];
  cr_expect_eq(gcl_pyheap_load("/nonexistent/x.pyheap", &h, err, sizeof err), -ENOENT);
  cr_expect(strstr(err, "/nonexistent/x.pyheap: cannot open") != NULL, "%s", err);
  cr_expect_eq(gcl_pyheap_load(GCL_PYHEAP_DIR, &h, err, sizeof err), -EINVAL);
  cr_expect(strstr(err, "not a regular file") != NULL, "%s", err);
}

/* --- the dump script, end to end --------------------------------------------------------- */

static int run_command(const char *cmd) {
  int st = system(cmd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(dump, round_trip_of_a_tiny_program) {
  if (!GCL_PYTHON3[0] || access(GCL_PYTHON3, X_OK) != 0)
    cr_skip_test("python3 was not found when the build was configured: round trip not run");
  char dir[] = "/tmp/gclab-pyheap-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char prog[256], out[256], cmd[2048];
  snprintf(prog, sizeof prog, "%s/prog.py", dir);
  snprintf(out, sizeof out, "%s/out.pyheap", dir);
  FILE *f = fopen(prog, "w");
  cr_assert_not_null(f);
  fputs("class Marker:\n    pass\n\nkeep = [Marker(), Marker()]\nkeep.append(keep)\n", f);
  fclose(f);
  snprintf(cmd, sizeof cmd, "PYTHONHASHSEED=0 '%s' '%s/pyheap-dump.py' --out '%s' --repeats 2 --run '%s' 2>/dev/null",
           GCL_PYTHON3, GCL_PYHEAP_DIR, out, prog);
  cr_assert_eq(run_command(cmd), 0, "the dump script failed: %s", cmd);

  struct gcl_pyheap h;
  char err[512];
  cr_assert_eq(gcl_pyheap_load(out, &h, err, sizeof err), 0, "%s", err);
  cr_expect(strncmp(h.python, "3.", 2) == 0, "python %s", h.python);
  cr_expect_eq(h.collect_runs, 2);
  cr_expect_gt(h.ntracked, 100);
  cr_expect_gt(h.collect_tracked, 100);
  uint32_t marker = UINT32_MAX, list = UINT32_MAX, nmarkers = 0;
  for (uint32_t t = 0; t < h.ntypes; t++)
    if (strcmp(h.types[t].name, "__main__.Marker") == 0) marker = t;
  cr_assert_neq(marker, UINT32_MAX, "no __main__.Marker type in the dump");
  for (uint32_t i = 0; i < h.nobjects; i++) {
    const struct gcl_pyheap_object *o = &h.objects[i];
    if (o->type == marker) {
      nmarkers++;
      cr_expect(o->tracked, "a Marker instance is gc-tracked");
      cr_expect_eq(o->ext, 0, "the list is the only reference to a Marker, got ext %llu",
                   (unsigned long long)o->ext);
    }
    /* `keep`: three references, two Markers and itself (in tp_traverse's order: a list
     * visits its items from the last) */
    if (o->nrefs == 3) {
      unsigned self = 0, markers = 0;
      for (uint32_t k = 0; k < 3; k++) {
        uint32_t j = h.refs[o->ref_start + k];
        self += j == i;
        markers += h.objects[j].type == marker;
      }
      if (self == 1 && markers == 2) list = i;
    }
  }
  cr_expect_eq(nmarkers, 2);
  cr_assert_neq(list, UINT32_MAX, "the list `keep` (two Markers and itself) is not in the dump");
  cr_expect_eq(h.objects[list].ext, 0,
               "`keep` is referenced only by itself and the program's globals (dumped), got ext %llu",
               (unsigned long long)h.objects[list].ext);
  gcl_pyheap_free(&h);

  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  run_command(cmd);
}

Test(dump, refuses_bad_arguments) {
  if (!GCL_PYTHON3[0] || access(GCL_PYTHON3, X_OK) != 0)
    cr_skip_test("python3 was not found when the build was configured");
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "'%s' '%s/pyheap-dump.py' --out /tmp/x --run /nonexistent.py 2>/dev/null",
           GCL_PYTHON3, GCL_PYHEAP_DIR);
  cr_expect_eq(run_command(cmd), 2);
  snprintf(cmd, sizeof cmd, "'%s' '%s/pyheap-dump.py' --out /tmp/x --repeats 0 --run /dev/null 2>/dev/null",
           GCL_PYTHON3, GCL_PYHEAP_DIR);
  cr_expect_eq(run_command(cmd), 2);
}
