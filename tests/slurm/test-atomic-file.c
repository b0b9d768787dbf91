/* SPDX-License-Identifier: MIT */
/* tests/slurm/test-atomic-file.c — gcl_file_write_new (harness/safe-file.c), which writes
 * gclab slurm's job script: the file appears whole with its mode, an existing file or a
 * symlink of that name (dangling or not) is neither replaced nor written through, and no
 * temporary file is left either way. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static char dir[64];

static void setup(void) {
  snprintf(dir, sizeof dir, "/tmp/gclab-atomic.XXXXXX");
  cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}

/* The entries of dir, sorted, joined by spaces. */
static const char *entries(void) {
  static char out[512];
  struct dirent **v;
  int n = scandir(dir, &v, NULL, alphasort);
  out[0] = 0;
  for (int i = 0; i < n; i++) {
    if (v[i]->d_name[0] != '.' || (strcmp(v[i]->d_name, ".") && strcmp(v[i]->d_name, "..")))
      snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", out[0] ? " " : "", v[i]->d_name);
    free(v[i]);
  }
  free(v);
  return out;
}

static const char *slurp(const char *path) {
  static char buf[256];
  int fd = open(path, O_RDONLY);
  cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  buf[n < 0 ? 0 : n] = 0;
  return buf;
}

Test(atomic_file, writes_a_new_file_whole, .init = setup, .fini = teardown) {
  cr_assert_eq(gcl_file_write_new(dir, "job.sbatch", "#!/bin/bash\n", 12, 0755), 0);
  char p[128];
  snprintf(p, sizeof p, "%s/job.sbatch", dir);
  cr_assert_str_eq(slurp(p), "#!/bin/bash\n");
  struct stat st;
  cr_assert_eq(stat(p, &st), 0);
  cr_assert_eq(st.st_mode & 07777, 0755);
  cr_assert_str_eq(entries(), "job.sbatch");
}

Test(atomic_file, never_replaces_an_existing_file, .init = setup, .fini = teardown) {
  char p[128];
  snprintf(p, sizeof p, "%s/f", dir);
  cr_assert_eq(gcl_file_write_new(dir, "f", "old", 3, 0644), 0);
  errno = 0;
  cr_assert_eq(gcl_file_write_new(dir, "f", "new", 3, 0644), -1);
  cr_assert_eq(errno, EEXIST);
  cr_assert_str_eq(slurp(p), "old");
  cr_assert_str_eq(entries(), "f");
}

Test(atomic_file, never_follows_a_symlink, .init = setup, .fini = teardown) {
  char victim[128], link_to_victim[128], dangling[128], gone[128];
  snprintf(victim, sizeof victim, "%s/victim", dir);
  snprintf(link_to_victim, sizeof link_to_victim, "%s/a", dir);
  snprintf(dangling, sizeof dangling, "%s/b", dir);
  snprintf(gone, sizeof gone, "%s/gone", dir);
  cr_assert_eq(gcl_file_write_new(dir, "victim", "keep", 4, 0644), 0);
  cr_assert_eq(symlink(victim, link_to_victim), 0);
  cr_assert_eq(symlink(gone, dangling), 0);
  cr_assert_eq(gcl_file_write_new(dir, "a", "evil", 4, 0644), -1);
  cr_assert_eq(errno, EEXIST);
  cr_assert_eq(gcl_file_write_new(dir, "b", "evil", 4, 0644), -1);
  cr_assert_eq(errno, EEXIST);
  cr_assert_str_eq(slurp(victim), "keep");
  cr_assert_eq(access(gone, F_OK), -1, "a dangling symlink was written through");
  cr_assert_str_eq(entries(), "a b victim");
}

Test(atomic_file, an_unwritable_folder_fails_cleanly, .init = setup, .fini = teardown) {
  char file[128], under[160];
  snprintf(file, sizeof file, "%s/plain", dir);
  cr_assert_eq(gcl_file_write_new(dir, "plain", "x", 1, 0644), 0);
  snprintf(under, sizeof under, "%s", file); /* a folder path that is a regular file */
  cr_assert_eq(gcl_file_write_new(under, "job.sbatch", "x", 1, 0644), -1);
  cr_assert_eq(errno, ENOTDIR);
  cr_assert_str_eq(entries(), "plain");
}
