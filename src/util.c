#define _DEFAULT_SOURCE
#define _POSIX_C_SOURCE 200809L
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

const char *mtl_errno_text(int e)
{
    if (e == ENOSPC
#ifdef EDQUOT
        || e == EDQUOT
#endif
    )
        return "no space left on device";
    return strerror(e);
}

char *mtl_read_regular(const char *path, size_t cap, size_t *len, mtl_err *err)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        mtl_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        mtl_fail(err, "%s: cannot stat: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        const char *what = S_ISDIR(st.st_mode)    ? "a directory"
                           : S_ISFIFO(st.st_mode) ? "a FIFO"
                           : S_ISSOCK(st.st_mode) ? "a socket"
                           : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                                          : "not a plain file";
        mtl_fail(err, "%s: is %s, expected a regular file", path, what);
        close(fd);
        return NULL;
    }
    if (st.st_size < 0 || (uintmax_t)st.st_size > (uintmax_t)cap) {
        mtl_fail(err, "%s: %jd bytes, more than the limit of %zu MiB", path, (intmax_t)st.st_size, cap >> 20);
        close(fd);
        return NULL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    size_t want = (size_t)st.st_size, n = 0;
    char *buf = malloc(want + 1);
    if (!buf) {
        mtl_fail(err, "%s: out of memory (%zu bytes)", path, want + 1);
        close(fd);
        return NULL;
    }
    /* the file may change while read: read to its end, but never beyond cap */
    for (;;) {
        if (n == want) {
            if (want >= cap) break;
            size_t nw = want * 2 + 4096;
            if (nw > cap) nw = cap;
            char *nb = realloc(buf, nw + 1);
            if (!nb) {
                free(buf);
                close(fd);
                mtl_fail(err, "%s: out of memory", path);
                return NULL;
            }
            buf = nb;
            want = nw;
        }
        ssize_t got = read(fd, buf + n, want - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            mtl_fail(err, "%s: read error: %s", path, strerror(errno));
            free(buf);
            close(fd);
            return NULL;
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    close(fd);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

int mtl_tmp_create(const char *path, char **tmp, mtl_err *err)
{
    *tmp = NULL;
    size_t n = strlen(path) + 48;
    char *name = malloc(n);
    if (!name) return mtl_fail(err, "%s: out of memory", path);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t salt = mtl_fnv1a(MTL_FNV_INIT, &ts, sizeof ts);
    long pid = (long)getpid();
    salt = mtl_fnv1a(salt, &pid, sizeof pid);
    for (int attempt = 0; attempt < 64; attempt++) {
        salt = mtl_fnv1a(salt, &attempt, sizeof attempt);
        snprintf(name, n, "%s.tmp.%ld.%06x", path, pid, (unsigned)(salt & 0xffffff));
        int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0) {
            *tmp = name;
            return fd;
        }
        if (errno != EEXIST) {
            int e = errno;
            mtl_fail(err, "%s: cannot create a temporary file beside it: %s", path, mtl_errno_text(e));
            free(name);
            return -1;
        }
    }
    mtl_fail(err, "%s: cannot create a temporary file beside it: every name tried exists", path);
    free(name);
    return -1;
}

int mtl_write_all(int fd, const void *buf, size_t n, const char *path, mtl_err *err)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return mtl_fail(err, "%s: cannot write: %s", path, mtl_errno_text(errno));
        if (w == 0) return mtl_fail(err, "%s: cannot write: %s", path, mtl_errno_text(ENOSPC));
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* fsyncs the folder holding path; file systems that cannot sync a folder are not an error. */
static char *folder_of(const char *path);

static int fsync_folder(const char *path)
{
    char *dir = folder_of(path);
    if (!dir) {
        errno = ENOMEM;
        return -1;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc < 0 && (e == EINVAL || e == ENOTSUP)) rc = 0;
    errno = e;
    return rc;
}

int mtl_commit_tmp(int fd, char *tmp, const char *path, mtl_err *err)
{
    int rc = 0;
    if (fsync(fd) != 0 && errno != EINVAL) {
        rc = mtl_fail(err, "%s: cannot fsync %s: %s", path, tmp, mtl_errno_text(errno));
        close(fd);
    } else if (close(fd) != 0) {
        rc = mtl_fail(err, "%s: cannot close %s: %s", path, tmp, mtl_errno_text(errno));
    } else if (rename(tmp, path) != 0) {
        rc = mtl_fail(err, "%s: cannot rename %s over it: %s", path, tmp, strerror(errno));
    } else {
        free(tmp);
        if (fsync_folder(path) != 0)
            return mtl_fail(err, "%s: written, but cannot fsync its folder: %s", path, strerror(errno));
        return 0;
    }
    unlink(tmp);
    free(tmp);
    return rc;
}

void mtl_fmt_shortest(double x, char *buf, size_t n)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) break;
    }
    /* plain decimals (20, not 2e+01) unless the exponent form is shorter (1e-05) */
    char plain[400];
    for (int dec = 0; dec <= 20; dec++) {
        snprintf(plain, sizeof plain, "%.*f", dec, x);
        if (strtod(plain, NULL) == x) {
            if (strlen(plain) <= strlen(buf) && strlen(plain) < n) snprintf(buf, n, "%s", plain);
            return;
        }
    }
}

int mtl_name_index(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}

/* The folder part of path: "." for a bare name, "/" for a name in the root; malloc'd. */
static char *folder_of(const char *path)
{
    size_t n = strlen(path);
    char *dir = malloc(n + 2);
    if (!dir) return NULL;
    memcpy(dir, path, n + 1);
    char *slash = strrchr(dir, '/');
    if (!slash) strcpy(dir, ".");
    else if (slash == dir) dir[1] = '\0';
    else *slash = '\0';
    return dir;
}

int mtl_check_folder_writable(const char *path, mtl_err *err)
{
    char *dir = folder_of(path);
    if (!dir) return mtl_fail(err, "%s: out of memory", path);
    struct stat st;
    int rc = 0;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) rc = mtl_fail(err, "%s: folder %s does not exist", path, dir);
    else if (access(dir, W_OK) != 0) rc = mtl_fail(err, "%s: folder %s is not writable", path, dir);
    free(dir);
    return rc;
}

int mtl_move_aside(const char *path, char **to, mtl_err *err)
{
    *to = NULL;
    char *dir = folder_of(path);
    const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
    size_t ton = (dir ? strlen(dir) : 0) + strlen(name) + 24;
    char *bad = dir ? malloc(strlen(dir) + 8) : NULL, *dst = malloc(ton);
    int rc = -1;
    if (!dir || !bad || !dst) {
        mtl_fail(err, "%s: out of memory", path);
        goto done;
    }
    snprintf(bad, strlen(dir) + 8, "%s/bad", dir);
    if (mtl_mkdir_p(bad, err) < 0) goto done;
    for (int k = 0; k < 1000; k++) {
        if (k == 0) snprintf(dst, ton, "%s/%s", bad, name);
        else snprintf(dst, ton, "%s/%s.%d", bad, name, k);
        struct stat st;
        if (lstat(dst, &st) == 0) continue;
        if (rename(path, dst) != 0) {
            mtl_fail(err, "%s: cannot move it to %s: %s", path, dst, strerror(errno));
            goto done;
        }
        *to = dst;
        dst = NULL;
        rc = 0;
        goto done;
    }
    mtl_fail(err, "%s: cannot move it aside: %s/%s.* are all taken", path, bad, name);
done:
    free(dir);
    free(bad);
    free(dst);
    return rc;
}

int mtl_lock_file(const char *lock_path, int wait, int *busy, mtl_err *err)
{
    *busy = 0;
    int fd = open(lock_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) return mtl_fail(err, "cannot open the lock file %s: %s", lock_path, mtl_errno_text(errno));
    int rc;
    while ((rc = flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB))) != 0 && errno == EINTR) {}
    if (rc == 0) return fd;
    int e = errno;
    *busy = e == EWOULDBLOCK ? 1 : e == ENOLCK || e == EOPNOTSUPP ? 2 : 0;
    mtl_fail(err, "cannot lock %s: %s", lock_path, strerror(e));
    close(fd);
    return -1;
}

int mtl_lock_folder(const char *dir, const char *what, int *no_locks, mtl_err *err)
{
    *no_locks = 0;
    size_t n = strlen(dir) + 8;
    char *p = malloc(n);
    if (!p) return mtl_fail(err, "%s: out of memory", dir);
    snprintf(p, n, "%s/.lock", dir);
    int busy, fd = mtl_lock_file(p, 0, &busy, err);
    if (fd < 0 && busy == 1) {
        char holder[160] = "";
        int hfd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        ssize_t got = hfd >= 0 ? pread(hfd, holder, sizeof holder - 1, 0) : 0;
        if (hfd >= 0) close(hfd);
        holder[got > 0 ? got : 0] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        mtl_fail(err, "%s: %s already runs on this folder (%s holds %s); wait for it to end or use another folder",
                 dir, what, holder[0] ? holder : "another process", p);
    } else if (fd < 0 && busy == 2) { /* a file system without locks: the caller decides */
        *no_locks = 1;
        fd = open(p, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) mtl_fail(err, "%s: cannot open the lock file %s: %s", dir, p, mtl_errno_text(errno));
    }
    free(p);
    if (fd < 0) return -1;
    char host[128] = "?", text[200];
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    int len = snprintf(text, sizeof text, "process %ld on %s\n", (long)getpid(), host);
    if (ftruncate(fd, 0) == 0 && len > 0) (void)!pwrite(fd, text, (size_t)len, 0);
    return fd;
}

int mtl_output_open(const char *path, mtl_output *o, mtl_err *err)
{
    memset(o, 0, sizeof *o);
    o->fd = -1;
    struct stat st, lst;
    int exists = stat(path, &st) == 0;
    if (!exists && lstat(path, &lst) == 0) return mtl_fail(err, "%s: is a link to nothing; not written", path);
    if (exists && S_ISDIR(st.st_mode)) return mtl_fail(err, "%s: is a directory, expected a file", path);
    if (exists && !S_ISREG(st.st_mode)) {
        /* a FIFO, a terminal, /dev/stdout: written in place (a FIFO without a reader is an error) */
        o->direct = 1;
        o->target = strdup(path);
        o->fd = o->target ? open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC) : -1;
        int fl = o->fd >= 0 ? fcntl(o->fd, F_GETFL) : -1;
        if (fl >= 0) fcntl(o->fd, F_SETFL, fl & ~O_NONBLOCK);
        if (o->fd < 0) mtl_fail(err, "%s: cannot open for writing: %s", path, strerror(errno));
    } else {
        /* a regular file is replaced where it is, through any symlinks to it */
        o->target = exists ? realpath(path, NULL) : strdup(path);
        if (!o->target) return mtl_fail(err, "%s: cannot resolve: %s", path, strerror(errno));
        o->fd = mtl_tmp_create(o->target, &o->tmp, err);
    }
    if (o->fd < 0) {
        free(o->target);
        o->target = NULL;
        return -1;
    }
    return o->fd;
}

int mtl_output_commit(mtl_output *o, int failed, mtl_err *err)
{
    int rc = 0;
    if (o->direct) {
        if (close(o->fd) != 0 && !failed) rc = mtl_fail(err, "%s: cannot write: %s", o->target, mtl_errno_text(errno));
    } else if (failed) {
        close(o->fd);
        unlink(o->tmp);
        free(o->tmp);
    } else {
        rc = mtl_commit_tmp(o->fd, o->tmp, o->target, err);
    }
    free(o->target);
    memset(o, 0, sizeof *o);
    o->fd = -1;
    return failed ? -1 : rc;
}

int mtl_path_room(const char *path, size_t extra, const char *what, mtl_err *err)
{
    size_t n = strlen(path);
    if (n + extra < PATH_MAX) return 0;
    return mtl_fail(err, "%s %s: %zu characters; the files made under it need up to %zu more, and paths are limited to "
                    "%d (PATH_MAX)", what, path, n, extra, PATH_MAX - 1);
}
