/* Small helpers shared by the unit tests. */
#ifndef MTL_TEST_HELPERS_H
#define MTL_TEST_HELPERS_H

#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#endif
