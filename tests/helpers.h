/* Small helpers shared by the unit tests. */
#ifndef MTL_TEST_HELPERS_H
#define MTL_TEST_HELPERS_H

#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

/* A fresh temporary directory (path in buf). */
static inline void th_tmpdir(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/mtltest.XXXXXX");
    if (!mkdtemp(buf)) abort();
}

static inline void th_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    fputs(text, f);
    fclose(f);
}

/* Runs a shell command, returns its exit status (or -1). */
static inline int th_system(const char *cmd)
{
    int rc = system(cmd);
    if (rc == -1) return -1;
    return (rc >> 8) & 0xff;
}

/* Runs cmd, stdout captured into a malloc'd *out, stderr into *err_out when not NULL;
 * returns its exit status, or -1 when it did not exit normally. */
static inline int run_capture(const char *cmd, char **out, char **err_out)
{
    char errfile[] = "/tmp/mtltest_stderr.XXXXXX";
    int fd = mkstemp(errfile);
    if (fd < 0) abort();
    close(fd);
    size_t flen = strlen(cmd) + sizeof errfile + 8;
    char *full = malloc(flen);
    if (!full) abort();
    snprintf(full, flen, "%s 2>%s", cmd, errfile);
    FILE *p = popen(full, "r");
    free(full);
    if (!p) abort();
    size_t cap = 4096, len = 0, got;
    char *buf = malloc(cap);
    if (!buf) abort();
    while ((got = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += got;
        if (cap - len < 1024) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf) abort();
        }
    }
    buf[len] = '\0';
    int st = pclose(p);
    *out = buf;
    if (err_out) {
        mtl_err e;
        size_t n;
        *err_out = mtl_read_file(errfile, &n, &e);
        if (!*err_out) abort();
    }
    unlink(errfile);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
