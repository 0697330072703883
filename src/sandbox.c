/* Child processes for untrusted work (contract in sandbox.h). */
#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* The child's address space now, in bytes; 0 when unknown. */
static size_t address_space_now(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long pages = 0;
    int ok = fscanf(f, "%lu", &pages) == 1;
    fclose(f);
    long ps = sysconf(_SC_PAGESIZE);
    return ok && ps > 0 ? (size_t)pages * (size_t)ps : 0;
}

static void set_limit(int which, rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(which, &rl) != 0) return;
    if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max) want = rl.rlim_max;
    rl.rlim_cur = want;
    setrlimit(which, &rl);
}

static void child_limits(size_t mem_budget, long cpu_seconds)
{
    set_limit(RLIMIT_CORE, 0);
    if (cpu_seconds > 0) set_limit(RLIMIT_CPU, (rlim_t)cpu_seconds);
    size_t now = address_space_now();
    if (now > 0 && mem_budget > 0 && now < (size_t)-1 - mem_budget) set_limit(RLIMIT_AS, (rlim_t)(now + mem_budget));
}

int mtl_sandbox_start(mtl_sandbox *sb, int (*body)(int fd, void *ctx), void *ctx, size_t mem_budget,
                      long cpu_seconds, mtl_err *err)
{
    int p[2];
    sb->pid = -1;
    sb->fd = -1;
    sb->at = sb->n = 0;
    sb->eof = sb->timed_out = 0;
    if (pipe2(p, O_CLOEXEC) != 0) return mtl_fail(err, "cannot create a pipe for the reader process: %s", strerror(errno));
    fflush(NULL); /* nothing buffered is written twice */
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return mtl_fail(err, "cannot start the reader process: %s", strerror(e));
    }
    if (pid == 0) {
        close(p[0]);
        signal(SIGPIPE, SIG_DFL);
        child_limits(mem_budget, cpu_seconds);
        int rc = body(p[1], ctx);
        _exit(rc == 0 ? 0 : 1);
    }
    close(p[1]);
    sb->pid = pid;
    sb->fd = p[0];
    return 0;
}

static void kill_child(mtl_sandbox *sb)
{
    if (sb->pid > 0) kill(sb->pid, SIGKILL);
}

/* Fills the buffer once; 0, or -1 at the end of the stream or the deadline. */
static int fill(mtl_sandbox *sb, double deadline)
{
    for (;;) {
        double left = deadline - mtl_now();
        if (left <= 0) {
            sb->timed_out = 1;
            kill_child(sb);
            return -1;
        }
        struct pollfd pf = {sb->fd, POLLIN, 0};
        int ms = left > 1e6 ? 1000000000 : (int)(left * 1000) + 1;
        int r = poll(&pf, 1, ms);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) continue;
        ssize_t got = read(sb->fd, sb->buf, sizeof sb->buf);
        if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (got <= 0) {
            sb->eof = 1;
            return -1;
        }
        sb->at = 0;
        sb->n = (size_t)got;
        return 0;
    }
}

int mtl_sandbox_read(mtl_sandbox *sb, void *dst, size_t n, double deadline)
{
    unsigned char *d = dst;
    while (n > 0) {
        if (sb->at == sb->n && (sb->eof || sb->timed_out || fill(sb, deadline) < 0)) return -1;
        size_t k = sb->n - sb->at < n ? sb->n - sb->at : n;
        memcpy(d, sb->buf + sb->at, k);
        sb->at += k;
        d += k;
        n -= k;
    }
    return 0;
}

int mtl_sandbox_finish(mtl_sandbox *sb, int wait, char *why, size_t n)
{
    double end = mtl_now() + 5;
    while (wait && !sb->eof && !sb->timed_out) {
        sb->at = sb->n;
        if (fill(sb, end) < 0) break;
    }
    if (sb->fd >= 0) close(sb->fd);
    sb->fd = -1;
    if (sb->pid <= 0) {
        snprintf(why, n, "it was not started");
        return -1;
    }
    /* a child that has not finished its answer is not waited for */
    if (!sb->eof) kill_child(sb);
    int st = 0;
    while (waitpid(sb->pid, &st, 0) < 0 && errno == EINTR) {}
    sb->pid = -1;
    if (sb->timed_out) {
        snprintf(why, n, "it took longer than its time limit");
        return -1;
    }
    if (WIFSIGNALED(st)) {
        int s = WTERMSIG(st);
        if (s == SIGXCPU) snprintf(why, n, "it used more than its CPU time limit");
        else snprintf(why, n, "it was killed by signal %d (%s)", s, strsignal(s));
        return -1;
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) != 0) {
        snprintf(why, n, "it exited with status %d", WEXITSTATUS(st));
        return -1;
    }
    return 0;
}
