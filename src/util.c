#define _POSIX_C_SOURCE 200809L
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int mtl_fail(mtl_err *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

double mtl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void *mtl_alloc(size_t n, size_t size, mtl_err *err)
{
    if (size && n > SIZE_MAX / size) {
        mtl_fail(err, "allocation of %zu x %zu bytes overflows", n, size);
        return NULL;
    }
    size_t bytes = n * size;
    void *p = malloc(bytes ? bytes : 1);
    if (!p) mtl_fail(err, "out of memory (%zu bytes)", n * size);
    return p;
}

void *mtl_calloc(size_t n, size_t size, mtl_err *err)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) mtl_fail(err, "out of memory (%zu x %zu bytes)", n, size);
    return p;
}

void *mtl_alloc_aligned(size_t bytes, mtl_err *err)
{
    size_t n = (bytes + 63) / 64 * 64;
    void *p = aligned_alloc(64, n ? n : 64);
    if (!p) {
        mtl_fail(err, "out of memory (%zu bytes)", bytes);
        return NULL;
    }
    memset(p, 0, n ? n : 64);
    return p;
}

void mtl_free_aligned(void *p) { free(p); }

char *mtl_read_file(const char *path, size_t *len, mtl_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        mtl_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        mtl_fail(err, "%s: out of memory", path);
        return NULL;
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                mtl_fail(err, "%s: out of memory", path);
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        mtl_fail(err, "%s: read error", path);
        return NULL;
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

int mtl_parse_double(const char *s, double *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

int mtl_parse_long(const char *s, long *out)
{
    if (!s || !*s) return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE) return -1;
    *out = v;
    return 0;
}

uint64_t mtl_fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

void mtl_fmt_duration(double s, char *buf, size_t n)
{
    if (!(s >= 0) || s > 1e8) {
        snprintf(buf, n, "?");
    } else if (s >= 3600) {
        int h = (int)(s / 3600), m = (int)((s - 3600.0 * h) / 60);
        snprintf(buf, n, "%dh%02dm", h, m);
    } else if (s >= 60) {
        int m = (int)(s / 60), sec = (int)(s - 60.0 * m);
        snprintf(buf, n, "%dm%02ds", m, sec);
    } else {
        snprintf(buf, n, "%.1fs", s);
    }
}

int mtl_mkdir_p(const char *dir, mtl_err *err)
{
    size_t len = strlen(dir);
    char *p = malloc(len + 1);
    if (!p) return mtl_fail(err, "%s: out of memory", dir);
    memcpy(p, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0') continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            mtl_fail(err, "%s: cannot create directory: %s", p, strerror(e));
            free(p);
            return -1;
        }
        p[i] = c;
    }
    free(p);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return mtl_fail(err, "%s: not a directory", dir);
    return 0;
}

void mtl_fmt_shortest(double x, char *buf, size_t n)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) return;
    }
}

int mtl_name_index(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}
