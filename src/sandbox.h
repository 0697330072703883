/* A child process that does work which may crash, hang or exhaust memory (parsing an
 * untrusted file with a library that trusts it), and streams its answer back through a pipe.
 *
 * The child is a fork of the caller: it sees the caller's memory as it was at the fork, runs
 * body(fd, ctx), which writes its answer to fd, and leaves with _exit (no atexit handlers, no
 * stdio flushes, no MPI). It runs under RLIMIT_AS (its size at the fork plus mem_budget
 * bytes), RLIMIT_CPU (cpu_seconds) and RLIMIT_CORE 0. The caller reads with deadlines; when a
 * deadline passes the child is killed. A crash, a kill or a hang becomes a message. */
#ifndef MTL_SANDBOX_H
#define MTL_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

#include "util.h"

typedef struct {
    pid_t pid;
    int fd;                  /* read end */
    unsigned char buf[1 << 16];
    size_t at, n;
    int eof, timed_out;
} mtl_sandbox;

/* Starts the child. 0, or -1 when no child can be started (err says why). */
int mtl_sandbox_start(mtl_sandbox *sb, int (*body)(int fd, void *ctx), void *ctx, size_t mem_budget,
                      long cpu_seconds, mtl_err *err);
/* Reads exactly n bytes, waiting at most until the monotonic time deadline (mtl_now()).
 * 0, or -1 at the end of the stream or when the deadline passed (timed_out set); the child
 * is then killed. */
int mtl_sandbox_read(mtl_sandbox *sb, void *dst, size_t n, double deadline);
/* Ends the child and reaps it: with wait set, after its end of stream (at most a few
 * seconds), else at once (killed). Returns 0 when it had ended by itself with status 0; else
 * -1 and a description in why: "it took longer than its time limit", "it was killed by
 * signal 11 (Segmentation fault)", "it exited with status 1". */
int mtl_sandbox_finish(mtl_sandbox *sb, int wait, char *why, size_t n);

#endif
