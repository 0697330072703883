/* Small shared helpers: error reporting, timing, growable buffers. */
#ifndef MTL_UTIL_H
#define MTL_UTIL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* Every fallible library call takes an mtl_err and returns 0 on success, -1 on
 * failure with a one-line message in err->msg (no trailing newline), long enough for three
 * paths of PATH_MAX and their reason. */
#define MTL_ERRLEN (3 * PATH_MAX + 1024)
typedef struct { char msg[MTL_ERRLEN]; } mtl_err;

#if defined(__GNUC__)
#define MTL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MTL_PRINTF(a, b)
#endif

/* Formats into err (if not NULL) and returns -1, so callers can `return mtl_fail(...)`. */
int mtl_fail(mtl_err *err, const char *fmt, ...) MTL_PRINTF(2, 3);

/* Monotonic wall clock in seconds. */
double mtl_now(void);

/* malloc/calloc that report failure through err instead of aborting. */
void *mtl_alloc(size_t n, size_t size, mtl_err *err);
void *mtl_calloc(size_t n, size_t size, mtl_err *err);
/* 64-byte aligned, zeroed; free with mtl_free_aligned. */
void *mtl_alloc_aligned(size_t bytes, mtl_err *err);
void mtl_free_aligned(void *p);

/* Reads a whole file into a NUL-terminated buffer; *len gets the byte count. */
char *mtl_read_file(const char *path, size_t *len, mtl_err *err);
/* The same for a regular file of at most cap bytes: a FIFO, a directory, a device or a larger
 * file is refused with a message naming path, without blocking on it. */
char *mtl_read_regular(const char *path, size_t cap, size_t *len, mtl_err *err);

/* Safe replacement of a file. mtl_tmp_create creates a new, unique file "<path>.tmp.<pid>.<hex>"
 * in path's folder (O_CREAT | O_EXCL | O_NOFOLLOW: never an existing file or a planted link)
 * and returns its descriptor (-1 on error); *tmp gets its malloc'd name. mtl_write_all writes
 * every byte. mtl_commit_tmp fsyncs and closes fd, renames tmp over path and fsyncs the
 * folder; on any failure it removes tmp. It always frees tmp. Messages name the path and say
 * "no space left on device" when the file system is full. */
int mtl_tmp_create(const char *path, char **tmp, mtl_err *err);
int mtl_write_all(int fd, const void *buf, size_t n, const char *path, mtl_err *err);
int mtl_commit_tmp(int fd, char *tmp, const char *path, mtl_err *err);
/* An output file named by the user. Symlinks are followed: the file they lead to is written,
 * the link stays. A regular file (or a new one) is replaced atomically through a temporary
 * file beside it (mtl_tmp_create, mtl_commit_tmp); a FIFO, a terminal or another device
 * (/dev/stdout) is written in place; a folder or a link to nothing is refused. open returns
 * the descriptor to write (-1 on error); commit ends the file: with failed set it only
 * removes the temporary file and returns -1. */
typedef struct {
    char *target;   /* the path written, symlinks resolved */
    char *tmp;      /* its temporary file, NULL when written in place */
    int fd, direct;
} mtl_output;
int mtl_output_open(const char *path, mtl_output *o, mtl_err *err);
int mtl_output_commit(mtl_output *o, int failed, mtl_err *err);
/* strerror(e), with a fixed lower-case "no space left on device" for ENOSPC and EDQUOT. */
const char *mtl_errno_text(int e);

/* 0 when the folder of path exists and is writable; else -1 and a message naming both. */
int mtl_check_folder_writable(const char *path, mtl_err *err);
/* Moves path into the folder bad/ beside it (created if needed), under path's name or, when
 * that is taken, name.1, name.2, ...; *to gets the malloc'd new path. */
int mtl_move_aside(const char *path, char **to, mtl_err *err);

/* Opens (creating it, never through a symlink) lock_path and takes an exclusive flock on it,
 * waiting for it with wait set; returns the descriptor that holds it. -1 when it cannot be
 * taken, with *busy 1 when another process holds it (without wait), 2 when the file system
 * has no locks, else 0. */
int mtl_lock_file(const char *lock_path, int wait, int *busy, mtl_err *err);
/* Takes an exclusive lock (flock) on dir/.lock, held until the returned descriptor is closed
 * (or the process ends), and writes "process PID on HOST" into it. When another process holds
 * it: -1 and a message naming dir, what ("a sweep"), and the holder. On a file system without
 * locks the descriptor comes back unlocked, with *no_locks set. */
int mtl_lock_folder(const char *dir, const char *what, int *no_locks, mtl_err *err);

/* 0 when path leaves room for extra more characters (the names a command makes under or
 * beside it) within PATH_MAX; else -1 and a message naming what (an option) and the limit. */
int mtl_path_room(const char *path, size_t extra, const char *what, mtl_err *err);

/* mkdir -p: creates dir and its missing parents; error when dir is not a folder after. */
int mtl_mkdir_p(const char *dir, mtl_err *err);

/* Parses a strictly decimal number (no trailing junk); returns 0 on success. */
int mtl_parse_double(const char *s, double *out);
int mtl_parse_long(const char *s, long *out);

/* 64-bit FNV-1a over bytes, chainable through h (start with MTL_FNV_INIT). */
#define MTL_FNV_INIT 0xcbf29ce484222325ULL
uint64_t mtl_fnv1a(uint64_t h, const void *data, size_t n);

/* Human-readable duration, "1h02m", "3m05s", "12.3s". */
void mtl_fmt_duration(double s, char *buf, size_t n);
/* Index of s in names[0..n), -1 when it is none of them. */
int mtl_name_index(const char *s, const char *const *names, int n);
/* The shortest spelling of x that reads back as the same double, plain decimals unless an
 * exponent is shorter: 20, 0.5, 1e-05. */
void mtl_fmt_shortest(double x, char *buf, size_t n);

#endif
