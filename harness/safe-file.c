/* SPDX-License-Identifier: MIT */
/* harness/safe-file.c — reading and writing whole files safely (see safe-file.h).
 *
 * Invariants: gcl_file_slurp opens with O_NONBLOCK so that a FIFO cannot block it before
 * fstat refuses it, and never allocates more than max + 1 bytes; gcl_file_write_atomic
 * never opens the target itself (only its private mkstemp file), so no symlink or special
 * file at the target is ever written through. */
#define _GNU_SOURCE /* renameat2, RENAME_NOREPLACE */
#include "safe-file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int gcl_file_id(const char *path, struct gcl_file_id *id) {
  struct stat st;
  memset(id, 0, sizeof *id);
  if (stat(path, &st) != 0) return errno == ENOENT ? 0 : -errno;
  *id = (struct gcl_file_id){true, st.st_dev, st.st_ino, st.st_mode};
  return 0;
}

bool gcl_file_same(const struct gcl_file_id *a, const struct gcl_file_id *b) {
  return a->exists && b->exists && a->dev == b->dev && a->ino == b->ino;
}

const char *gcl_file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISREG(mode)) return "a regular file";
  return "not a regular file";
}

/* Read from fd until EOF, MAX bytes or (when asked) a NUL byte. The buffer starts at the
 * expected size plus one spare byte, so a regular file is read without growing it. */
static int read_all(int fd, size_t max, size_t hint, bool stop_at_nul, char **buf, size_t *len) {
  size_t cap = (hint < max ? hint : max) + 2, n = 0; /* room for n bytes and the NUL */
  char *b = malloc(cap);
  if (!b) return -ENOMEM;
  for (;;) {
    if (n + 1 == cap) { /* full: grow, up to max + 1 bytes (one past the limit) */
      if (n > max) {
        free(b);
        return -EFBIG;
      }
      size_t nc = cap * 2 > max + 2 ? max + 2 : cap * 2;
      char *nb = realloc(b, nc);
      if (!nb) {
        free(b);
        return -ENOMEM;
      }
      b = nb, cap = nc;
    }
    ssize_t got = read(fd, b + n, cap - 1 - n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int e = errno;
      free(b);
      return -e;
    }
    if (got == 0) break;
    char *nul = stop_at_nul ? memchr(b + n, 0, (size_t)got) : NULL;
    n += (size_t)got;
    if (nul) {
      n = (size_t)(nul - b) + 1; /* keep the NUL: the caller reports where it is */
      break;
    }
  }
  if (n > max) {
    free(b);
    return -EFBIG;
  }
  b[n] = 0;
  *buf = b;
  *len = n;
  return 0;
}

int gcl_file_slurp(const char *path, size_t max, bool allow_stdin, bool stop_at_nul, char **buf,
                   size_t *len, char *why, size_t why_len) {
  bool is_stdin = allow_stdin && strcmp(path, "-") == 0;
  int fd = is_stdin ? 0 : open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    snprintf(why, why_len, "%s", strerror(e));
    return -e;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    snprintf(why, why_len, "%s", strerror(e));
    if (!is_stdin) close(fd);
    return -e;
  }
  if (!is_stdin && !S_ISREG(st.st_mode)) {
    snprintf(why, why_len, "it is %s, not a regular file", gcl_file_kind(st.st_mode));
    close(fd);
    return -EINVAL;
  }
  if (S_ISREG(st.st_mode) && (unsigned long long)st.st_size > max) {
    snprintf(why, why_len, "%lld bytes, more than the %zu this reader takes",
             (long long)st.st_size, max);
    if (!is_stdin) close(fd);
    return -EFBIG;
  }
  if (!is_stdin) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  size_t hint = S_ISREG(st.st_mode) ? (size_t)st.st_size : 65536;
  int rc = read_all(fd, max, hint, stop_at_nul, buf, len);
  if (!is_stdin) close(fd);
  if (rc == -EFBIG)
    snprintf(why, why_len, "more than the %zu bytes this reader takes", max);
  else if (rc)
    snprintf(why, why_len, "%s", strerror(-rc));
  return rc;
}

/* The private temporary name next to PATH: DIR/.BASE.XXXXXX */
static char *temp_name(const char *path) {
  const char *slash = strrchr(path, '/');
  size_t dlen = slash ? (size_t)(slash - path + 1) : 0;
  char *t = malloc(strlen(path) + 16);
  if (!t) return NULL;
  sprintf(t, "%.*s.%s.XXXXXX", (int)dlen, path, slash ? slash + 1 : path);
  return t;
}

static int write_fd(int fd, const char *p, size_t len) {
  while (len) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -errno;
    if (w == 0) return -ENOSPC;
    p += w, len -= (size_t)w;
  }
  return 0;
}

/* Put TMP at PATH: replacing what is there, or only if nothing is (no_replace). */
static int install(const char *tmp, const char *path, bool no_replace) {
  if (!no_replace) return rename(tmp, path) == 0 ? 0 : -errno;
  if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -errno;
  /* A file system without renameat2 flags: a hard link also refuses to replace. */
  if (link(tmp, path) != 0) return -errno;
  unlink(tmp);
  return 0;
}

int gcl_file_write_atomic(const char *path, const void *data, size_t len, bool no_replace,
                          char *why, size_t why_len) {
  mode_t mask = umask(0);
  umask(mask);
  return gcl_file_write_atomic_mode(path, data, len, no_replace, 0666 & ~mask, why, why_len);
}

int gcl_file_write_new(const char *dir, const char *name, const char *data, size_t len,
                       mode_t mode) {
  char path[4096], why[512];
  if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) return errno = ENAMETOOLONG, -1;
  int rc = gcl_file_write_atomic_mode(path, data, len, true, mode, why, sizeof why);
  if (rc != 0) return errno = -rc, -1;
  return 0;
}

int gcl_file_write_atomic_mode(const char *path, const void *data, size_t len, bool no_replace,
                               mode_t mode, char *why, size_t why_len) {
  struct stat st;
  if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
    snprintf(why, why_len, "cannot write '%s': it is %s, not a regular file", path,
             gcl_file_kind(st.st_mode));
    return -EINVAL;
  }
  char *tmp = temp_name(path);
  if (!tmp) {
    snprintf(why, why_len, "cannot write '%s': out of memory", path);
    return -ENOMEM;
  }
  int fd = mkstemp(tmp);
  if (fd < 0) {
    int e = errno;
    snprintf(why, why_len, "cannot write '%s': cannot create a temporary file next to it: %s",
             path, strerror(e));
    free(tmp);
    return -e;
  }
  int rc = fchmod(fd, mode) == 0 ? 0 : -errno;
  if (!rc) rc = write_fd(fd, data, len);
  if (!rc && fsync(fd) != 0) rc = -errno;
  if (close(fd) != 0 && !rc) rc = -errno;
  if (!rc) rc = install(tmp, path, no_replace);
  if (rc) {
    if (rc == -EEXIST)
      snprintf(why, why_len, "cannot write '%s': it exists (this writes a new file)", path);
    else
      snprintf(why, why_len, "cannot write '%s': %s", path, strerror(-rc));
    unlink(tmp);
  }
  free(tmp);
  return rc;
}
