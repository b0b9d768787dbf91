/* harness/atomic-file.c — writing a new file whole: gcl_file_write_new.
 *
 * Invariants: the bytes go to a temporary file made by mkstemp in the target's own folder
 * (O_CREAT|O_EXCL: a symlink planted there is never followed), are fsync'ed, and the file
 * is then renamed onto its name with RENAME_NOREPLACE, so a reader sees either no file or
 * the whole file, and an existing file or symlink of that name is never replaced or
 * written through (where the filesystem lacks RENAME_NOREPLACE, link(2) + unlink(2) gives
 * the same guarantee). On any failure the temporary file is removed. */
#define _GNU_SOURCE /* renameat2, RENAME_NOREPLACE */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* Rename tmp to path unless path exists; 0 or -1 with errno. */
static int rename_new(const char *tmp, const char *path) {
  if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  if (link(tmp, path) != 0) return -1; /* EEXIST when path is there */
  return unlink(tmp) == 0 || errno == ENOENT ? 0 : -1;
}

int gcl_file_write_new(const char *dir, const char *name, const char *data, size_t len,
                       mode_t mode) {
  struct gcl_buf tmp = {0}, path = {0};
  gcl_buf_printf(&tmp, "%s/.%s.XXXXXX", dir, name);
  gcl_buf_printf(&path, "%s/%s", dir, name);
  int fd = mkstemp(tmp.p), err = 0;
  if (fd < 0) {
    err = errno;
    goto out;
  }
  size_t done = 0;
  while (done < len && !err) {
    ssize_t w = write(fd, data + done, len - done);
    if (w > 0) done += (size_t)w;
    else if (w < 0 && errno != EINTR) err = errno;
    else if (w == 0) err = ENOSPC;
  }
  if (!err && fchmod(fd, mode) != 0) err = errno;
  if (!err && fsync(fd) != 0) err = errno;
  if (close(fd) != 0 && !err) err = errno;
  if (!err && rename_new(tmp.p, path.p) != 0) err = errno;
  if (err) unlink(tmp.p);
out:
  gcl_buf_free(&tmp);
  gcl_buf_free(&path);
  errno = err;
  return err ? -1 : 0;
}
