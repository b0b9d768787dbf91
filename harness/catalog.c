/* SPDX-License-Identifier: MIT */
/* harness/catalog.c — what this build can run. Collectors, allocators and pairs (with the
 * reason an invalid pair was rejected) come from the table CMake generated at configure
 * time (generated/gclab-pairs.h); workloads and their parameters, and every module's
 * options and figures, come from the runners' `--describe` (describe.c), because the
 * runners are what actually run them.
 *
 * Runners live in <directory of the gclab executable>/runners, or in $GCLAB_RUNNERS. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gclab-pairs.h"
#include "harness.h"

extern char **environ;

/* Split a space-separated list into a fresh array of fresh strings. */
static char **split_words(const char *list, unsigned *n) {
  char **v = NULL;
  *n = 0;
  const char *p = list;
  while (*p) {
    while (*p == ' ') p++;
    if (!*p) break;
    size_t len = strcspn(p, " ");
    v = gcl_must_realloc(v, (*n + 1) * sizeof *v);
    v[*n] = gcl_must_strdup(p);
    v[*n][len] = 0;
    (*n)++;
    p += len;
  }
  return v;
}

static char *runners_dir(void) {
  const char *env = getenv("GCLAB_RUNNERS");
  if (env && *env) return gcl_must_strdup(env);
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return gcl_must_strdup("runners");
  self[n] = 0;
  char *slash = strrchr(self, '/');
  if (slash) *slash = 0;
  struct gcl_buf b = {0};
  gcl_buf_printf(&b, "%s/runners", self);
  return b.p;
}

bool gcl_runner_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int gcl_runner_describe(const char *runner, struct gcl_buf *out, char *why, size_t why_len) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    snprintf(why, why_len, "pipe: %s", strerror(errno));
    return -1;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  char *argv[] = {(char *)runner, "--describe", NULL};
  pid_t pid;
  int err = posix_spawn(&pid, runner, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (err) {
    close(fds[0]);
    snprintf(why, why_len, "cannot run %s: %s", runner, strerror(err));
    return -1;
  }
  char chunk[4096];
  for (;;) {
    ssize_t n = read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    gcl_buf_putn(out, chunk, (size_t)n);
  }
  close(fds[0]);
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    snprintf(why, why_len, "%s --describe failed (%s %d)", runner,
             WIFEXITED(st) ? "exit status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
    return -1;
  }
  return 0;
}

void gcl_catalog_load(struct gcl_catalog *cat) {
  memset(cat, 0, sizeof *cat);
  cat->runners_dir = runners_dir();
  cat->collectors = split_words(GCL_COLLECTOR_LIST, &cat->ncollectors);
  cat->allocators = split_words(GCL_ALLOCATOR_LIST, &cat->nallocators);
  for (const struct gcl_pair_row *r = gcl_pair_rows; r->collector; r++) {
    cat->pairs = gcl_must_realloc(cat->pairs, (cat->npairs + 1) * sizeof *cat->pairs);
    struct gcl_buf path = {0};
    gcl_buf_printf(&path, "%s/gclab-run-%s-%s", cat->runners_dir, r->collector, r->allocator);
    cat->pairs[cat->npairs++] =
        (struct gcl_pair_info){.collector = r->collector, .allocator = r->allocator,
                               .invalid_reason = r->invalid_reason, .runner = path.p};
  }
  snprintf(cat->describe_error, sizeof cat->describe_error,
           "no runner in %s (build them: cmake --build <build dir>; or set GCLAB_RUNNERS)",
           cat->runners_dir);
  bool tried = false; /* a runner was asked: describe_error says why the first one failed */
  for (unsigned i = 0; i < cat->npairs; i++) {
    struct gcl_pair_info *p = &cat->pairs[i];
    if (p->invalid_reason[0] || !gcl_runner_exists(p->runner)) continue;
    struct gcl_buf text = {0};
    if (gcl_runner_describe(p->runner, &text, p->why, sizeof p->why) == 0 &&
        gcl_parse_describe(gcl_buf_str(&text), &p->desc, p->why, sizeof p->why) == 0) {
      p->described = true;
      p->describe_text = gcl_must_strdup(gcl_buf_str(&text));
      gcl_modules_add(cat, &p->desc);
      if (!cat->describer) {
        cat->describer = p->runner;
        cat->workloads = p->desc.workloads;
        cat->nworkloads = p->desc.nworkloads;
      }
    } else if (!cat->describer && !tried) {
      snprintf(cat->describe_error, sizeof cat->describe_error, "%s", p->why);
    }
    tried = true;
    gcl_buf_free(&text);
  }
  gcl_catalog_figures(cat);
}

const struct gcl_pair_info *gcl_catalog_pair(const struct gcl_catalog *cat, const char *c,
                                             const char *a) {
  for (unsigned i = 0; i < cat->npairs; i++)
    if (strcmp(cat->pairs[i].collector, c) == 0 && strcmp(cat->pairs[i].allocator, a) == 0)
      return &cat->pairs[i];
  return NULL;
}

const struct gcl_workload_info *gcl_catalog_workload(const struct gcl_catalog *cat,
                                                     const char *name) {
  for (unsigned i = 0; i < cat->nworkloads; i++)
    if (strcmp(cat->workloads[i].name, name) == 0) return &cat->workloads[i];
  return NULL;
}
