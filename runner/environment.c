/* SPDX-License-Identifier: MIT */
/* runner/environment.c — the reproducibility keys of a record (see environment.h).
 *
 * Build facts come from the compiler and from definitions CMake passes to the runner
 * (GCL_BUILD_TYPE, GCL_BUILD_FLAGS, GCL_SANITIZER, GCL_HWLOC_VERSION, GCL_URCU_VERSION:
 * the versions pkg-config reported at configure time). `malloc_lib` is the shared object
 * that defines the `malloc` this process calls (dladdr, then realpath: the file name
 * carries the library's version), so an LD_PRELOAD or a linked allocator library shows; `malloc_env` lists LD_PRELOAD and every variable that steers a
 * malloc (MIMALLOC_*, MALLOC_*, JE_MALLOC_CONF, GLIBC_TUNABLES) as NAME=VALUE;... */
#define _GNU_SOURCE /* dladdr */
#include "environment.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#if defined(__GLIBC__)
#include <gnu/libc-version.h>
#endif

#ifndef GCL_BUILD_TYPE
#define GCL_BUILD_TYPE ""
#endif
#ifndef GCL_BUILD_FLAGS
#define GCL_BUILD_FLAGS ""
#endif
#ifndef GCL_SANITIZER
#define GCL_SANITIZER ""
#endif
#ifndef GCL_HWLOC_VERSION
#define GCL_HWLOC_VERSION ""
#endif
#ifndef GCL_URCU_VERSION
#define GCL_URCU_VERSION ""
#endif

extern char **environ;

/* Write KEY=text when text is non-empty (unknown values stay empty fields). */
static void put(struct gcl_report *r, const char *key, const char *text) {
  if (text && *text) gcl_report_str(r, key, text);
}

/* The first line of a small file into buf, or "" when it cannot be read. */
static void read_line(const char *path, char *buf, size_t len) {
  buf[0] = 0;
  FILE *f = fopen(path, "r");
  if (!f) return;
  if (!fgets(buf, (int)len, f)) buf[0] = 0;
  fclose(f);
  buf[strcspn(buf, "\n")] = 0;
}

/* "always [madvise] never" -> "madvise": the bracketed word of a sysfs choice file. */
static void bracketed(char *buf) {
  char *open = strchr(buf, '['), *close = open ? strchr(open, ']') : NULL;
  if (!open || !close) return;
  memmove(buf, open + 1, (size_t)(close - open - 1));
  buf[close - open - 1] = 0;
}

static bool steers_malloc(const char *var) {
  static const char *const prefixes[] = {"LD_PRELOAD=", "MIMALLOC_", "MALLOC_", "JE_MALLOC_CONF=",
                                         "GLIBC_TUNABLES="};
  for (unsigned i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
    if (strncmp(var, prefixes[i], strlen(prefixes[i])) == 0) return true;
  return false;
}

static void report_malloc(struct gcl_report *r) {
  Dl_info info;
  void *(*volatile m)(size_t) = malloc; /* the malloc this process resolves */
  if (dladdr((void *)m, &info) && info.dli_fname) {
    /* The file behind the soname link, and the library's own version where it says it
     * (mimalloc's mi_version, jemalloc's mallctl "version"), found by symbol so that an
     * LD_PRELOADed library is named as well as a linked one. */
    char *real = realpath(info.dli_fname, NULL), lib[512], ver[128] = "";
    /* The version symbols of the library that defines malloc, not of any other loaded. */
    void *h = dlopen(info.dli_fname, RTLD_NOLOAD | RTLD_LAZY);
    int (*mi_version)(void) = h ? (int (*)(void))dlsym(h, "mi_version") : NULL;
    int (*mallctl)(const char *, void *, size_t *, void *, size_t) =
        h ? (int (*)(const char *, void *, size_t *, void *, size_t))dlsym(h, "mallctl") : NULL;
    const char *jv = NULL;
    size_t jlen = sizeof jv;
    if (mi_version)
      snprintf(ver, sizeof ver, " (mimalloc %d.%d.%d)", mi_version() / 100, mi_version() / 10 % 10,
               mi_version() % 10);
    else if (mallctl && mallctl("version", &jv, &jlen, NULL, 0) == 0 && jv)
      snprintf(ver, sizeof ver, " (jemalloc %s)", jv);
    snprintf(lib, sizeof lib, "%s%s", real ? real : info.dli_fname, ver);
    put(r, "malloc_lib", lib);
    free(real);
    if (h) dlclose(h);
  }
  char env[1024];
  size_t used = 0;
  env[0] = 0;
  for (char **e = environ; e && *e; e++) {
    if (!steers_malloc(*e)) continue;
    int k = snprintf(env + used, sizeof env - used, "%s%s", used ? ";" : "", *e);
    if (k < 0 || (size_t)k >= sizeof env - used) break;
    used += (size_t)k;
  }
  put(r, "malloc_env", env);
}

void gcl_report_environment(struct gcl_report *r) {
#if defined(__clang__)
  put(r, "compiler", "clang " __clang_version__);
#elif defined(__GNUC__)
  put(r, "compiler", "gcc " __VERSION__);
#endif
  put(r, "build_type", GCL_BUILD_TYPE);
  put(r, "build_flags", GCL_BUILD_FLAGS);
  put(r, "sanitizer", *GCL_SANITIZER ? GCL_SANITIZER : "none");
  struct utsname u;
  if (uname(&u) == 0) put(r, "kernel", u.release);
#if defined(__GLIBC__)
  char libc[64];
  snprintf(libc, sizeof libc, "glibc %s", gnu_get_libc_version());
  put(r, "libc", libc);
#endif
  put(r, "hwloc_version", GCL_HWLOC_VERSION);
  put(r, "urcu_version", GCL_URCU_VERSION);
  report_malloc(r);
  char buf[256];
  read_line("/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof buf);
  bracketed(buf);
  put(r, "thp", buf);
  read_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", buf, sizeof buf);
  put(r, "cpu_governor", buf);
}
