/* SPDX-License-Identifier: MIT */
/* harness/safe-file.h — the front end's only ways to read a whole input file and to write
 * a whole output file, so that hostile paths (a FIFO, /dev/zero, a directory, a symlink, a
 * file named twice) are handled the same way everywhere.
 *
 * Reading: gcl_file_slurp takes a regular file (or standard input where the caller allows
 * "-"), refuses anything else before reading a byte, and never holds more than the
 * caller's limit in memory (a stream is cut off at the limit, not read to its end).
 * Writing: gcl_file_write_atomic writes into a private temporary file made by mkstemp in
 * the target's own folder and renames it over the target, so a crash, a full disk or a
 * symlink at the target can never destroy an existing file: the target is the old file or
 * the complete new one, and the rename replaces a symlink itself, never what it points to.
 * Identity: two names are the same file when they name the same device and inode (after
 * following symlinks), which is how outputs are compared with each other and with inputs.
 *
 * Nothing here prints or exits: errors come back as a negative errno and a phrase in `why`:
 * the reason alone when reading ("it is a FIFO, not a regular file"), for the caller to
 * say what the file was for; "cannot write 'PATH': reason" when writing. */
#ifndef GCL_SAFE_FILE_H
#define GCL_SAFE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* What a path names, for comparisons and checks (stat, following symlinks). */
struct gcl_file_id {
  bool exists; /* stat succeeded */
  dev_t dev;   /* its device */
  ino_t ino;   /* its inode */
  mode_t mode; /* its type and permissions */
};

/* Fill *id for PATH; 0 (also when it does not exist: exists = false), or -errno for any
 * other stat failure (ENOTDIR: a path under a regular file, EACCES, ...). */
int gcl_file_id(const char *path, struct gcl_file_id *id);
/* Whether A and B both exist and are the same file. */
bool gcl_file_same(const struct gcl_file_id *a, const struct gcl_file_id *b);
/* "a directory", "a FIFO", "a character device", ... for a non-regular MODE. */
const char *gcl_file_kind(mode_t mode);

/* Read all of PATH into a malloc'd buffer with one NUL after its LEN bytes. PATH must be a
 * regular file of at most MAX bytes, or "-" (standard input, read up to MAX bytes) when
 * ALLOW_STDIN. When STOP_AT_NUL, the read also stops after the first NUL byte (a binary
 * file such as /dev/zero on standard input): *len then ends just past that NUL, so the
 * caller still finds it and can say where it is. Returns 0, or -errno with the
 * reason in why (EFBIG: larger than MAX). */
int gcl_file_slurp(const char *path, size_t max, bool allow_stdin, bool stop_at_nul, char **buf,
                   size_t *len, char *why, size_t why_len);

/* Write LEN bytes as the whole content of PATH, atomically (see the top of this file),
 * with mode 0666 less the umask. When NO_REPLACE, an existing PATH is left alone and
 * EEXIST returned. An existing PATH that is not a regular file (or a symlink to one) is
 * refused with EINVAL. Returns 0, or -errno with "cannot write 'PATH': ..." in why; on
 * failure nothing is left behind (the temporary file is removed). */
/* Write LEN bytes as the new file DIR/NAME with MODE, whole or not at all (through
 * gcl_file_write_atomic_mode; an existing DIR/NAME, file or symlink, is never replaced or
 * followed). 0, or -1 with errno (EEXIST when DIR/NAME exists). */
int gcl_file_write_new(const char *dir, const char *name, const char *data, size_t len,
                       mode_t mode);

/* The same as gcl_file_write_atomic with the file's MODE given (no umask applied). */
int gcl_file_write_atomic_mode(const char *path, const void *data, size_t len, bool no_replace,
                               mode_t mode, char *why, size_t why_len);
int gcl_file_write_atomic(const char *path, const void *data, size_t len, bool no_replace,
                          char *why, size_t why_len);

#endif
