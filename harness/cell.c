/* SPDX-License-Identifier: MIT */
/* harness/cell.c — runs one matrix cell in a child process and watches it.
 *
 * The child gets its own process group (so a timeout or a stop signal kills everything it
 * started), PR_SET_PDEATHSIG(SIGKILL) (so a SIGKILLed gclab leaves no runner behind), the
 * record pipe on GCL_RECORD_FD, /dev/null on stdin and our stderr on its stdout (gclab's
 * stdout carries only the summary). The parent waits in ppoll on the record pipe and a
 * self-pipe fed by the signal handlers, until the child exits, the deadline passes or a
 * stop signal arrives.
 *
 * Invariants: the child is reaped exactly once, by wait4 (which gives its rusage), and its
 * process group is killed while its leader is still an unreaped zombie, so the group id
 * cannot have been reused. Signals are blocked across fork so a handler never runs in the
 * child before exec. */
#define _GNU_SOURCE /* pipe2, ppoll */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static int signal_pipe[2] = {-1, -1};    /* written by handlers, read by gcl_cell_run */
static volatile sig_atomic_t stop_signal; /* first SIGINT/SIGTERM/SIGHUP received */

static void on_signal(int sig) {
  int saved = errno;
  if (sig != SIGCHLD && !stop_signal) stop_signal = sig;
  unsigned char c = (unsigned char)sig;
  ssize_t r = write(signal_pipe[1], &c, 1); /* full pipe: a wakeup is already pending */
  (void)r;
  errno = saved;
}

static const int handled[] = {SIGINT, SIGTERM, SIGHUP, SIGCHLD};

void gcl_signals_install(void) {
  if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    fprintf(stderr, "gclab: pipe: %s\n", strerror(errno));
    exit(1);
  }
  struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++) sigaction(handled[i], &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
}

int gcl_stop_signal(void) { return stop_signal; }

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static _Noreturn void child(char *const argv[], int record_w, pid_t parent) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127); /* the parent died before prctl took effect */
  for (size_t i = 0; i < sizeof handled / sizeof handled[0]; i++) signal(handled[i], SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  signal(SIGXFSZ, SIG_DFL); /* gclab ignores it to cut a short row back (run-outputs.c) */
  if (record_w == GCL_RECORD_FD)
    fcntl(record_w, F_SETFD, 0); /* keep it across exec */
  else if (dup2(record_w, GCL_RECORD_FD) < 0)
    _exit(127);
  int null = open("/dev/null", O_RDONLY);
  if (null >= 0 && null != 0) dup2(null, 0);
  dup2(2, 1);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execv(argv[0], argv);
  /* Tell the parent why, in the record's own language. */
  const char *e = strerror(errno);
  static const char a[] = "status=error:cannot execute runner: ";
  ssize_t r = write(GCL_RECORD_FD, a, sizeof a - 1);
  r = write(GCL_RECORD_FD, e, strlen(e));
  r = write(GCL_RECORD_FD, "\nend\n", 5);
  (void)r;
  _exit(127);
}

/* Read what is available on the record pipe; false at end of file. */
static bool drain(int fd, struct gcl_cell_result *res) {
  char chunk[4096];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    if (n == 0) return false;
    size_t keep = (size_t)n;
    if (res->record.len + keep > GCL_RECORD_MAX) {
      keep = GCL_RECORD_MAX - res->record.len;
      res->record_overflow = true;
    }
    gcl_buf_putn(&res->record, chunk, keep);
  }
}

/* Consume pending signal bytes; the stop flag itself is set by the handler. */
static void drain_signals(void) {
  unsigned char c[64];
  while (read(signal_pipe[0], c, sizeof c) > 0) {}
}

/* True once the child has exited (it stays an unreaped zombie). */
static bool child_exited(pid_t pid) {
  siginfo_t si = {0};
  if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0) return errno == ECHILD;
  return si.si_pid == pid;
}

static void reap(pid_t pid, struct gcl_cell_result *res, int *status) {
  kill(-pid, SIGKILL); /* anything the runner left in its group; the leader is a zombie */
  while (wait4(pid, status, 0, &res->ru) < 0)
    if (errno != EINTR) return;
  res->have_rusage = true;
}

void gcl_cell_run(char *const argv[], double timeout_s, struct gcl_cell_result *res) {
  memset(res, 0, sizeof *res);
  int rec[2];
  if (pipe2(rec, O_CLOEXEC) != 0) {
    res->end = GCL_CELL_SPAWN_FAILED;
    snprintf(res->why, sizeof res->why, "pipe: %s", strerror(errno));
    return;
  }
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  pid_t parent = getpid();
  double t0 = now_s();
  pid_t pid = fork();
  if (pid == 0) child(argv, rec[1], parent);
  int fork_errno = errno;
  sigprocmask(SIG_SETMASK, &old, NULL);
  close(rec[1]);
  if (pid < 0) {
    close(rec[0]);
    res->end = GCL_CELL_SPAWN_FAILED;
    snprintf(res->why, sizeof res->why, "fork: %s", strerror(fork_errno));
    return;
  }
  setpgid(pid, pid); /* also done by the child; whichever runs first wins the race */
  fcntl(rec[0], F_SETFL, O_NONBLOCK);

  double deadline = t0 + timeout_s;
  bool open = true; /* the record pipe has not reached end of file */
  int status = 0;
  for (;;) {
    if (child_exited(pid)) {
      if (open) drain(rec[0], res); /* the rest of the record, already in the pipe */
      reap(pid, res, &status);
      if (WIFSIGNALED(status)) {
        res->end = GCL_CELL_SIGNALED;
        res->term_signal = WTERMSIG(status);
      } else {
        res->end = GCL_CELL_EXITED;
        res->exit_status = WEXITSTATUS(status);
      }
      break;
    }
    if (gcl_stop_signal()) {
      res->end = GCL_CELL_INTERRUPTED;
      res->stop_signal = gcl_stop_signal();
      reap(pid, res, &status);
      break;
    }
    double left = deadline - now_s();
    if (left <= 0) {
      res->end = GCL_CELL_TIMEOUT;
      reap(pid, res, &status);
      break;
    }
    struct pollfd pf[2] = {{signal_pipe[0], POLLIN, 0}, {open ? rec[0] : -1, POLLIN, 0}};
    /* Wake at least every 100 ms: a lost SIGCHLD must not stall us until the deadline. */
    if (left > 0.1) left = 0.1;
    struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
    if (ppoll(pf, 2, &ts, NULL) < 0 && errno != EINTR) {
      fprintf(stderr, "gclab: ppoll: %s\n", strerror(errno));
      exit(1);
    }
    if (pf[0].revents) drain_signals();
    if (open && pf[1].revents) open = drain(rec[0], res);
  }
  res->process_wall_s = now_s() - t0;
  close(rec[0]);
}
