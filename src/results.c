/* The run record and its HDF5 storage (layout and crash-safety contract in results.h).
 *
 * Writer and reader are driven by the same field tables below, so every field of
 * run_record / run_epoch / run_test_row that is written is also read back.
 * Every HDF5 call runs with HDF5's automatic error printing switched off (and the
 * caller's handler restored afterwards); failures become mtl_err messages. */
#define _POSIX_C_SOURCE 200809L
#include "results.h"

#include <hdf5.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define RESULTS_FORMAT "mtlbench-results-3"
#define RESULTS_FORMAT_V2 "mtlbench-results-2"
#define RESULTS_FORMAT_V1 "mtlbench-results-1"
/* Longest fixed-length string attribute the reader accepts before even looking at it. */
#define MAX_FIXED_STR (1u << 20)
/* Largest results file read (a sweep of thousands of runs is a few hundred MiB). */
#define RESULTS_MAX_BYTES ((size_t)4 << 30)

/* ------------------------------------------------------------------ field tables */

/* F_OPT_STR: a string that files of any format may lack (written by later versions of the
 * program than the format's first); read as "" when absent. */
enum fkind { F_STR, F_INT, F_LONG, F_DBL, F_OPT_STR };

typedef struct {
    const char *name;
    enum fkind kind;
    size_t off, size;
    int since;   /* first format version with this field */
} field_desc;

#define FSZ(f) sizeof(((run_record *)0)->f)
#define FSTR(f) {#f, F_STR, offsetof(run_record, f), FSZ(f), 1}
#define FSTR2(f) {#f, F_STR, offsetof(run_record, f), FSZ(f), 2}
#define FSTR3(f) {#f, F_STR, offsetof(run_record, f), FSZ(f), 3}
#define FINT(f) {#f, F_INT, offsetof(run_record, f), FSZ(f), 1}
#define FLNG(f) {#f, F_LONG, offsetof(run_record, f), FSZ(f), 1}
#define FDBL(f) {#f, F_DBL, offsetof(run_record, f), FSZ(f), 1}
#define FOPT(f) {#f, F_OPT_STR, offsetof(run_record, f), FSZ(f), 1}

/* Every scalar field of run_record, stored as an attribute of /runs/<run_id> under the
 * field's own name (n_hist / n_test are the lengths of the datasets). */
static const field_desc RUN_FIELDS[] = {
    FSTR(subset), FSTR(method), FSTR(model), FSTR2(protocol), FSTR2(norm), FSTR3(norm_scope), FSTR2(lr_step),
    FSTR3(data_digest), FLNG(seed),
    FINT(epochs), FINT(window), FINT(batch), FINT(patience), FINT(deterministic),
    FDBL(lr), FDBL(dropout), FDBL(val_frac),
    FSTR(run_id), FSTR(status), FINT(ranks), FINT(threads), FDBL(wall_s),
    FSTR(git), FSTR(version), FSTR(host), FSTR(start_time), FOPT(build),
    FDBL(rmse), FDBL(rmse_uncapped), FDBL(mae), FDBL(score), FDBL(acc), FDBL(f1),
    FDBL(best_val_rmse), FINT(best_epoch), FINT(epochs_run),
    FDBL(samples_per_s), FDBL(comm_fraction), FDBL(w_rul), FDBL(w_health),
    FSTR(param_digest),
};
#define N_RUN_FIELDS (sizeof RUN_FIELDS / sizeof RUN_FIELDS[0])

enum mkind { M_INT, M_FLOAT, M_DOUBLE };

typedef struct {
    const char *name;
    size_t off;
    enum mkind kind;
} member_desc;

#define EM(f, k) {#f, offsetof(run_epoch, f), k}
static const member_desc EPOCH_MEMBERS[] = {
    EM(epoch, M_INT), EM(loss_rul, M_DOUBLE), EM(loss_health, M_DOUBLE),
    EM(w_rul, M_DOUBLE), EM(w_health, M_DOUBLE), EM(s_rul, M_DOUBLE), EM(s_health, M_DOUBLE),
    EM(val_rmse, M_DOUBLE), EM(val_acc, M_DOUBLE), EM(seconds, M_DOUBLE),
    EM(comm_seconds, M_DOUBLE), EM(compute_seconds, M_DOUBLE), EM(samples_per_s, M_DOUBLE),
};
#define TM(f, k) {#f, offsetof(run_test_row, f), k}
static const member_desc TEST_MEMBERS[] = {
    TM(unit, M_INT), TM(pred_rul, M_FLOAT), TM(true_rul, M_FLOAT), TM(true_rul_raw, M_FLOAT),
    TM(pred_health, M_INT), TM(true_health, M_INT),
};
#define N_EPOCH_MEMBERS (sizeof EPOCH_MEMBERS / sizeof EPOCH_MEMBERS[0])
#define N_TEST_MEMBERS (sizeof TEST_MEMBERS / sizeof TEST_MEMBERS[0])

/* A field added to run_epoch / run_test_row must be added to the tables above too. */
_Static_assert(sizeof(run_epoch) == 8 + 12 * sizeof(double), "run_epoch changed: update EPOCH_MEMBERS");
_Static_assert(sizeof(run_test_row) == 3 * sizeof(int) + 3 * sizeof(float),
               "run_test_row changed: update TEST_MEMBERS");

/* ------------------------------------------------------------------ run id */

/* The configuration fields, in the order of the text a run id hashes ("model=dcnn;subset=
 * FD001;..."), each with the option that sets it. Fields of format 3 are left out of the text
 * of a run without a data digest (format 2), so that such a run keeps its id. */
typedef struct {
    const char *key;      /* in the hashed text */
    const char *option;   /* the train/sweep option; NULL: set by the data, not by an option */
    enum fkind kind;
    size_t off, size;
    int since;
} config_field;

#define CF(key, option, kind, f, since) {key, option, kind, offsetof(run_record, f), FSZ(f), since}
static const config_field CONFIG_FIELDS[] = {
    CF("model", "model", F_STR, model, 2),          CF("subset", "subset", F_STR, subset, 1),
    CF("method", "method", F_STR, method, 1),       CF("seed", "seed", F_LONG, seed, 1),
    CF("epochs", "epochs", F_INT, epochs, 1),       CF("window", "window", F_INT, window, 1),
    CF("batch", "batch", F_INT, batch, 1),          CF("lr", "lr", F_DBL, lr, 1),
    CF("dropout", "dropout", F_DBL, dropout, 1),    CF("val_frac", "val-frac", F_DBL, val_frac, 1),
    CF("patience", "patience", F_INT, patience, 1), CF("deterministic", "deterministic", F_INT, deterministic, 1),
    CF("protocol", "protocol", F_STR, protocol, 2), CF("norm", "norm", F_STR, norm, 2),
    CF("lr_step", "lr-step", F_STR, lr_step, 2),    CF("norm_scope", "norm-scope", F_STR, norm_scope, 3),
    CF("data", NULL, F_STR, data_digest, 3),
};
#define N_CONFIG_FIELDS ((int)(sizeof CONFIG_FIELDS / sizeof CONFIG_FIELDS[0]))

int run_config_count(void) { return N_CONFIG_FIELDS; }

const char *run_config_field(const run_record *r, int i, char *buf, size_t n)
{
    const config_field *f = &CONFIG_FIELDS[i];
    const char *p = (const char *)r + f->off;
    switch (f->kind) {
    case F_STR: snprintf(buf, n, "%.*s", (int)strnlen(p, f->size), p); break;
    case F_INT: snprintf(buf, n, "%d", *(const int *)p); break;
    case F_LONG: snprintf(buf, n, "%ld", *(const long *)p); break;
    default: snprintf(buf, n, "%.17g", *(const double *)p); break;
    }
    return f->option;
}

void run_config_id(const run_record *r, char out[17])
{
    char text[640], value[64];
    size_t len = 0;
    const int version = r->data_digest[0] ? 3 : 2;
    for (int i = 0; i < N_CONFIG_FIELDS && len < sizeof text; i++) {
        if (CONFIG_FIELDS[i].since > version) continue;
        run_config_field(r, i, value, sizeof value);
        int k = snprintf(text + len, sizeof text - len, "%s%s=%s", len ? ";" : "", CONFIG_FIELDS[i].key, value);
        if (k > 0) len += (size_t)k;
    }
    if (len >= sizeof text) len = sizeof text - 1; /* cannot happen: fields are bounded */
    uint64_t h = mtl_fnv1a(MTL_FNV_INIT, text, len);
    snprintf(out, 17, "%016" PRIx64, h);
}

void run_record_free(run_record *r)
{
    if (!r) return;
    free(r->hist);
    free(r->test);
    r->hist = NULL;
    r->test = NULL;
    r->n_hist = 0;
    r->n_test = 0;
}

/* ------------------------------------------------------------------ HDF5 helpers */

typedef struct {
    H5E_auto2_t func;
    void *data;
} h5_quiet;

static void quiet_on(h5_quiet *q)
{
    q->func = NULL;
    q->data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void quiet_off(const h5_quiet *q) { H5Eset_auto2(H5E_DEFAULT, q->func, q->data); }

typedef struct {
    char *s;
    size_t n;
} reason_buf;

static herr_t walk_innermost(unsigned n, const H5E_error2_t *e, void *data)
{
    reason_buf *b = data;
    if (n == 0 && e && e->desc && e->desc[0]) snprintf(b->s, b->n, "%s", e->desc);
    return 0;
}

/* The innermost message of the HDF5 error stack left by the last failed call. */
static const char *h5_reason(char *buf, size_t n)
{
    reason_buf b = {.s = buf, .n = n};
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_innermost, &b);
    if (!buf[0]) snprintf(buf, n, "unknown HDF5 error");
    return buf;
}

/* File access with "strong" close: H5Fclose closes every object still open in the
 * file, so the file is really closed (and can be fsync'd / renamed) afterwards. */
static hid_t strong_fapl(void)
{
    hid_t f = H5Pcreate(H5P_FILE_ACCESS);
    if (f < 0) return -1;
    if (H5Pset_fclose_degree(f, H5F_CLOSE_STRONG) < 0) {
        H5Pclose(f);
        return -1;
    }
    return f;
}

static hid_t vstr_type(H5T_cset_t cset)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, cset) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

static hid_t compound_type(const member_desc *m, size_t nm, size_t size)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, size);
    if (t < 0) return -1;
    for (size_t i = 0; i < nm; i++) {
        hid_t mt = m[i].kind == M_INT ? H5T_NATIVE_INT : m[i].kind == M_FLOAT ? H5T_NATIVE_FLOAT
                                                                               : H5T_NATIVE_DOUBLE;
        if (H5Tinsert(t, m[i].name, m[i].off, mt) < 0) {
            H5Tclose(t);
            return -1;
        }
    }
    return t;
}

static void close_type(hid_t *h) { if (*h >= 0) H5Tclose(*h); *h = -1; }
static void close_space(hid_t *h) { if (*h >= 0) H5Sclose(*h); *h = -1; }
static void close_dset(hid_t *h) { if (*h >= 0) H5Dclose(*h); *h = -1; }
static void close_group(hid_t *h) { if (*h >= 0) H5Gclose(*h); *h = -1; }

/* ------------------------------------------------------------------ writing */

static int write_attr_scalar(hid_t obj, const char *name, hid_t type, const void *val)
{
    hid_t sp = H5Screate(H5S_SCALAR), a = -1;
    int rc = -1;
    if (sp < 0) return -1;
    a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0 && H5Awrite(a, type, val) >= 0) rc = 0;
    if (a >= 0 && H5Aclose(a) < 0) rc = -1;
    H5Sclose(sp);
    return rc;
}

/* Fixed-length, NUL-terminated UTF-8 string attribute: no global heap, so damaged bytes in a
 * file cannot send libhdf5 into its heap code (h5py reads it as bytes). s must be
 * NUL-terminated within cap bytes; the caller checks that. */
static int write_attr_str(hid_t obj, const char *name, const char *s)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    int rc = -1;
    if (H5Tset_size(t, strlen(s) + 1) >= 0 && H5Tset_strpad(t, H5T_STR_NULLTERM) >= 0 &&
        H5Tset_cset(t, H5T_CSET_UTF8) >= 0)
        rc = write_attr_scalar(obj, name, t, s);
    H5Tclose(t);
    return rc;
}

static int write_table(hid_t g, const char *name, const member_desc *m, size_t nm, size_t rowsize,
                       const void *rows, int n)
{
    hid_t mt = -1, ft = -1, sp = -1, ds = -1;
    hsize_t dims[1] = {(hsize_t)n};
    int rc = -1;
    mt = compound_type(m, nm, rowsize);
    if (mt < 0) goto done;
    ft = H5Tcopy(mt); /* on disk without the padding of the in-memory struct */
    if (ft < 0 || H5Tpack(ft) < 0) goto done;
    sp = H5Screate_simple(1, dims, NULL);
    if (sp < 0) goto done;
    ds = H5Dcreate2(g, name, ft, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (ds < 0) goto done;
    if (n > 0 && H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0) goto done;
    rc = 0;
done:
    if (ds >= 0 && H5Dclose(ds) < 0) rc = -1;
    close_space(&sp);
    close_type(&ft);
    close_type(&mt);
    return rc;
}

static int write_run(hid_t runs_g, const run_record *r, const char *path, mtl_err *err)
{
    hid_t g = H5Gcreate2(runs_g, r->run_id, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return mtl_fail(err, "%s: cannot create group /runs/%s", path, r->run_id);
    const char *base = (const char *)r;
    for (size_t i = 0; i < N_RUN_FIELDS; i++) {
        const field_desc *f = &RUN_FIELDS[i];
        const void *p = base + f->off;
        int rc;
        switch (f->kind) {
        case F_STR:
        case F_OPT_STR: rc = write_attr_str(g, f->name, (const char *)p); break;
        case F_INT: rc = write_attr_scalar(g, f->name, H5T_NATIVE_INT, p); break;
        case F_LONG: rc = write_attr_scalar(g, f->name, H5T_NATIVE_LONG, p); break;
        default: rc = write_attr_scalar(g, f->name, H5T_NATIVE_DOUBLE, p); break;
        }
        if (rc < 0) {
            H5Gclose(g);
            return mtl_fail(err, "%s: cannot write attribute '%s' of run %s", path, f->name, r->run_id);
        }
    }
    if (write_table(g, "history", EPOCH_MEMBERS, N_EPOCH_MEMBERS, sizeof(run_epoch), r->hist,
                    r->n_hist) < 0) {
        H5Gclose(g);
        return mtl_fail(err, "%s: cannot write dataset /runs/%s/history", path, r->run_id);
    }
    if (write_table(g, "test", TEST_MEMBERS, N_TEST_MEMBERS, sizeof(run_test_row), r->test,
                    r->n_test) < 0) {
        H5Gclose(g);
        return mtl_fail(err, "%s: cannot write dataset /runs/%s/test", path, r->run_id);
    }
    if (H5Gclose(g) < 0) return mtl_fail(err, "%s: cannot close group /runs/%s", path, r->run_id);
    return 0;
}

/* A run id must name exactly one HDF5 link: non-empty, NUL-terminated within 17
 * bytes, no '/', not ".". */
static int valid_run_id(const char *id)
{
    size_t n = strnlen(id, 17);
    if (n == 0 || n == 17) return 0;
    if (strcmp(id, ".") == 0) return 0;
    return strchr(id, '/') == NULL;
}

static int check_run(const run_record *r, int i, const char *path, mtl_err *err)
{
    if (!valid_run_id(r->run_id))
        return mtl_fail(err, "%s: run %d has an invalid run_id (empty, too long or containing '/')",
                        path, i);
    for (size_t k = 0; k < N_RUN_FIELDS; k++) {
        const field_desc *f = &RUN_FIELDS[k];
        if ((f->kind == F_STR || f->kind == F_OPT_STR) && strnlen((const char *)r + f->off, f->size) == f->size)
            return mtl_fail(err, "%s: run %s: string field '%s' is not NUL-terminated", path,
                            r->run_id, f->name);
    }
    if (r->n_hist < 0 || (r->n_hist > 0 && !r->hist))
        return mtl_fail(err, "%s: run %s: n_hist is %d but hist is %s", path, r->run_id, r->n_hist,
                        r->hist ? "set" : "NULL");
    if (r->n_test < 0 || (r->n_test > 0 && !r->test))
        return mtl_fail(err, "%s: run %s: n_test is %d but test is %s", path, r->run_id, r->n_test,
                        r->test ? "set" : "NULL");
    return 0;
}

/* Every file written starts with a 512-byte user block (libhdf5 finds the superblock after
 * it) holding this header: the
 * magic line, the file's length and a checksum of every byte after the block. A reader checks
 * both before libhdf5 sees a single byte, so a damaged or truncated file is an error that
 * names it, never a hang or a crash inside libhdf5. */
#define UB_SIZE 512
/* The name libhdf5 gives an in-memory file. Its core driver checks that an image's name is
 * not a file on disk (and would open a FIFO of that name), so it names none that can exist. */
#define IMAGE_NAME "/dev/null/mtlbench-results-image"
#define UB_MAGIC "mtlbench results file\n"

static uint64_t image_checksum(const unsigned char *img, size_t len)
{
    return mtl_fnv1a(MTL_FNV_INIT, img + UB_SIZE, len - UB_SIZE);
}

static void write_header(unsigned char *img, size_t len)
{
    char h[UB_SIZE];
    memset(h, 0, sizeof h);
    snprintf(h, sizeof h, UB_MAGIC "bytes %zu\nfnv1a64 %016" PRIx64 "\n", len, image_checksum(img, len));
    memcpy(img, h, UB_SIZE);
}

/* Builds the whole file in memory (HDF5's core driver, no backing store): libhdf5 never
 * touches the file system, so a full disk is an ordinary write error. *img is malloc'd. */
static int build_image(const char *path, const run_record *runs, int n, unsigned char **img, size_t *len,
                       mtl_err *err)
{
    *img = NULL;
    *len = 0;
    hid_t fapl = -1, file = -1, runs_g = -1;
    int rc = -1;
    char why[256];
    fapl = strong_fapl();
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 16, 0) < 0) {
        mtl_fail(err, "%s: cannot set up HDF5 file access", path);
        goto done;
    }
    file = H5Fcreate(IMAGE_NAME, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (file < 0) {
        mtl_fail(err, "%s: cannot create the file in memory (%s)", path, h5_reason(why, sizeof why));
        goto done;
    }
    if (write_attr_str(file, "format", RESULTS_FORMAT) < 0) {
        mtl_fail(err, "%s: cannot write the format attribute", path);
        goto done;
    }
    runs_g = H5Gcreate2(file, "runs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (runs_g < 0) {
        mtl_fail(err, "%s: cannot create group /runs", path);
        goto done;
    }
    for (int i = 0; i < n; i++)
        if (write_run(runs_g, &runs[i], path, err) < 0) goto done;
    if (H5Gclose(runs_g) < 0) {
        runs_g = -1;
        mtl_fail(err, "%s: cannot close group /runs", path);
        goto done;
    }
    runs_g = -1;
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0) {
        mtl_fail(err, "%s: cannot flush (%s)", path, h5_reason(why, sizeof why));
        goto done;
    }
    ssize_t size = H5Fget_file_image(file, NULL, 0);
    if (size <= 0) {
        mtl_fail(err, "%s: cannot get the file image (%s)", path, h5_reason(why, sizeof why));
        goto done;
    }
    *img = malloc(UB_SIZE + (size_t)size);
    if (!*img) {
        mtl_fail(err, "%s: out of memory (%zd bytes)", path, size);
        goto done;
    }
    if (H5Fget_file_image(file, *img + UB_SIZE, (size_t)size) != size) {
        mtl_fail(err, "%s: cannot get the file image (%s)", path, h5_reason(why, sizeof why));
        goto done;
    }
    *len = UB_SIZE + (size_t)size;
    write_header(*img, *len);
    rc = 0;
done:
    close_group(&runs_g);
    if (file >= 0 && H5Fclose(file) < 0 && rc == 0) rc = mtl_fail(err, "%s: cannot close the file in memory", path);
    if (fapl >= 0) H5Pclose(fapl);
    if (rc < 0) {
        free(*img);
        *img = NULL;
        *len = 0;
    }
    return rc;
}

int results_write_all(const char *path, const run_record *runs, int n, mtl_err *err)
{
    if (!path || !path[0]) return mtl_fail(err, "results_write_all: empty path");
    if (n < 0 || (n > 0 && !runs)) return mtl_fail(err, "%s: invalid run list (n = %d)", path, n);
    for (int i = 0; i < n; i++) {
        if (check_run(&runs[i], i, path, err) < 0) return -1;
        for (int j = 0; j < i; j++)
            if (strcmp(runs[i].run_id, runs[j].run_id) == 0)
                return mtl_fail(err, "%s: run_id %s appears twice", path, runs[i].run_id);
    }
    unsigned char *img;
    size_t len;
    h5_quiet q;
    quiet_on(&q);
    int rc = build_image(path, runs, n, &img, &len, err);
    quiet_off(&q);
    if (rc < 0) return -1;
    char *tmp;
    int fd = mtl_tmp_create(path, &tmp, err);
    if (fd < 0) {
        free(img);
        return -1;
    }
    if (mtl_write_all(fd, img, len, path, err) < 0) {
        close(fd);
        unlink(tmp);
        free(tmp);
        free(img);
        return -1;
    }
    free(img);
    return mtl_commit_tmp(fd, tmp, path, err);
}

/* The lock of train --out: an flock on the side file "<path>.lock", held across read, merge
 * and rename, so that concurrent writers of one file are serialised and none loses a run. */
static int lock_target(const char *path, mtl_err *err)
{
    size_t n = strlen(path) + 8;
    char *lp = malloc(n);
    if (!lp) return mtl_fail(err, "%s: out of memory", path);
    snprintf(lp, n, "%s.lock", path);
    int fd = open(lp, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) {
        mtl_fail(err, "%s: cannot open the lock file %s: %s", path, lp, mtl_errno_text(errno));
        free(lp);
        return -1;
    }
    int rc;
    while ((rc = flock(fd, LOCK_EX)) != 0 && errno == EINTR) {}
    if (rc != 0) {
        mtl_fail(err, "%s: cannot lock %s (%s); concurrent writers could lose runs, so nothing is written", path,
                 lp, strerror(errno));
        close(fd);
        free(lp);
        return -1;
    }
    free(lp);
    return fd;
}

int results_append(const char *path, const run_record *r, mtl_err *err)
{
    if (!path || !path[0]) return mtl_fail(err, "results_append: empty path");
    if (!r) return mtl_fail(err, "%s: no run to append", path);
    run_record *old = NULL;
    int n = 0;
    int lock = lock_target(path, err);
    if (lock < 0) return -1;
    struct stat st;
    if (stat(path, &st) == 0) {
        if (results_read_file(path, &old, &n, err) < 0) {
            close(lock);
            return -1;
        }
    } else if (errno != ENOENT) {
        close(lock);
        return mtl_fail(err, "%s: cannot access: %s", path, strerror(errno));
    }
    /* Shallow copies: the tables stay owned by old[] and by the caller's r. */
    run_record *all = malloc(((size_t)n + 1) * sizeof *all);
    int rc = -1;
    if (!all) {
        mtl_fail(err, "%s: out of memory", path);
    } else {
        int m = 0, replaced = 0;
        for (int i = 0; i < n; i++) {
            if (!replaced && strncmp(old[i].run_id, r->run_id, sizeof r->run_id) == 0) {
                all[m++] = *r;
                replaced = 1;
            } else {
                all[m++] = old[i];
            }
        }
        if (!replaced) all[m++] = *r;
        rc = results_write_all(path, all, m, err);
    }
    free(all);
    for (int i = 0; i < n; i++) run_record_free(&old[i]);
    free(old);
    close(lock); /* releases the lock, after the rename */
    return rc;
}

/* ------------------------------------------------------------------ reading */

/* Opens attribute name of obj and checks it holds exactly one element. */
static hid_t open_attr(hid_t obj, const char *name, hid_t *type, const char *where, mtl_err *err)
{
    *type = -1;
    htri_t ex = H5Aexists(obj, name);
    if (ex <= 0) {
        mtl_fail(err, "%s: missing attribute '%s'", where, name);
        return -1;
    }
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) {
        mtl_fail(err, "%s: cannot open attribute '%s'", where, name);
        return -1;
    }
    hid_t sp = H5Aget_space(a);
    hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
    close_space(&sp);
    *type = H5Aget_type(a);
    if (np != 1 || *type < 0) {
        close_type(type);
        H5Aclose(a);
        mtl_fail(err, "%s: attribute '%s' is not a single value", where, name);
        return -1;
    }
    return a;
}

static int read_attr_str(hid_t obj, const char *name, char *dst, size_t cap, const char *where,
                         mtl_err *err)
{
    hid_t ft, a = open_attr(obj, name, &ft, where, err), mt = -1;
    if (a < 0) return -1;
    int rc = -1;
    char *buf = NULL, *vs = NULL;
    const char *s = NULL;
    if (H5Tget_class(ft) != H5T_STRING) {
        mtl_fail(err, "%s: attribute '%s' is not a string", where, name);
        goto done;
    }
    H5T_cset_t cset = H5Tget_cset(ft);
    htri_t vl = H5Tis_variable_str(ft);
    if (cset < 0 || vl < 0) {
        mtl_fail(err, "%s: cannot inspect attribute '%s'", where, name);
        goto done;
    }
    if (vl > 0) {
        mt = vstr_type(cset);
        if (mt < 0 || H5Aread(a, mt, &vs) < 0) {
            mtl_fail(err, "%s: cannot read attribute '%s'", where, name);
            goto done;
        }
        s = vs ? vs : "";
    } else {
        size_t sz = H5Tget_size(ft);
        if (sz == 0 || sz > MAX_FIXED_STR) {
            mtl_fail(err, "%s: attribute '%s' has an unreasonable size (%zu bytes)", where, name, sz);
            goto done;
        }
        mt = H5Tcopy(H5T_C_S1);
        if (mt < 0 || H5Tset_size(mt, sz + 1) < 0 || H5Tset_strpad(mt, H5T_STR_NULLTERM) < 0 ||
            H5Tset_cset(mt, cset) < 0) {
            mtl_fail(err, "%s: cannot read attribute '%s'", where, name);
            goto done;
        }
        buf = calloc(sz + 2, 1);
        if (!buf) {
            mtl_fail(err, "%s: out of memory", where);
            goto done;
        }
        if (H5Aread(a, mt, buf) < 0) {
            mtl_fail(err, "%s: cannot read attribute '%s'", where, name);
            goto done;
        }
        buf[sz + 1] = '\0';
        s = buf;
    }
    size_t len = strlen(s);
    if (len >= cap) {
        mtl_fail(err, "%s: attribute '%s' is too long (%zu characters, at most %zu)", where, name,
                 len, cap - 1);
        goto done;
    }
    memcpy(dst, s, len + 1);
    rc = 0;
done:
    if (vs) H5free_memory(vs);
    free(buf);
    close_type(&mt);
    close_type(&ft);
    H5Aclose(a);
    return rc;
}

static int read_attr_num(hid_t obj, const field_desc *f, void *dst, const char *where, mtl_err *err)
{
    hid_t ft, a = open_attr(obj, f->name, &ft, where, err);
    if (a < 0) return -1;
    int rc = -1;
    H5T_class_t cls = H5Tget_class(ft);
    if (f->kind == F_DBL) {
        double d;
        if (cls != H5T_FLOAT && cls != H5T_INTEGER)
            mtl_fail(err, "%s: attribute '%s' is not a number", where, f->name);
        else if (H5Aread(a, H5T_NATIVE_DOUBLE, &d) < 0)
            mtl_fail(err, "%s: cannot read attribute '%s'", where, f->name);
        else {
            memcpy(dst, &d, sizeof d);
            rc = 0;
        }
    } else {
        long long v;
        if (cls != H5T_INTEGER)
            mtl_fail(err, "%s: attribute '%s' is not an integer", where, f->name);
        else if (H5Aread(a, H5T_NATIVE_LLONG, &v) < 0)
            mtl_fail(err, "%s: cannot read attribute '%s'", where, f->name);
        else if (f->kind == F_INT) {
            if (v < INT_MIN || v > INT_MAX) {
                mtl_fail(err, "%s: attribute '%s' = %lld is out of range", where, f->name, v);
            } else {
                int iv = (int)v;
                memcpy(dst, &iv, sizeof iv);
                rc = 0;
            }
        } else {
            int ok = 1;
#if LONG_MAX < LLONG_MAX
            ok = v >= LONG_MIN && v <= LONG_MAX;
#endif
            if (!ok) {
                mtl_fail(err, "%s: attribute '%s' = %lld is out of range", where, f->name, v);
            } else {
                long lv = (long)v;
                memcpy(dst, &lv, sizeof lv);
                rc = 0;
            }
        }
    }
    close_type(&ft);
    H5Aclose(a);
    return rc;
}

/* Reads a compound dataset into a malloc'd array (NULL when empty). Fields are
 * matched by name; every field of the in-memory row must be present in the file. */
static int read_table(hid_t g, const char *name, const member_desc *m, size_t nm, size_t rowsize,
                      void **rows, int *n, const char *where, mtl_err *err)
{
    *rows = NULL;
    *n = 0;
    if (H5Lexists(g, name, H5P_DEFAULT) <= 0)
        return mtl_fail(err, "%s: missing dataset '%s'", where, name);
    hid_t ds = H5Dopen2(g, name, H5P_DEFAULT), ft = -1, sp = -1, mt = -1;
    int rc = -1;
    void *buf = NULL;
    if (ds < 0) {
        mtl_fail(err, "%s: '%s' is not a dataset", where, name);
        goto done;
    }
    ft = H5Dget_type(ds);
    if (ft < 0 || H5Tget_class(ft) != H5T_COMPOUND) {
        mtl_fail(err, "%s: dataset '%s' is not a table (compound type)", where, name);
        goto done;
    }
    for (size_t i = 0; i < nm; i++) {
        if (H5Tget_member_index(ft, m[i].name) < 0) {
            mtl_fail(err, "%s: dataset '%s' has no field '%s'", where, name, m[i].name);
            goto done;
        }
    }
    sp = H5Dget_space(ds);
    hsize_t dims[1] = {0};
    if (sp < 0 || H5Sget_simple_extent_ndims(sp) != 1 || H5Sget_simple_extent_dims(sp, dims, NULL) != 1) {
        mtl_fail(err, "%s: dataset '%s' is not one-dimensional", where, name);
        goto done;
    }
    if (dims[0] > (hsize_t)INT_MAX) {
        mtl_fail(err, "%s: dataset '%s' has too many rows (%llu)", where, name,
                 (unsigned long long)dims[0]);
        goto done;
    }
    if (dims[0] > 0) {
        mt = compound_type(m, nm, rowsize);
        buf = calloc((size_t)dims[0], rowsize);
        if (mt < 0 || !buf) {
            mtl_fail(err, "%s: out of memory reading dataset '%s'", where, name);
            goto done;
        }
        if (H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
            mtl_fail(err, "%s: cannot read dataset '%s'", where, name);
            goto done;
        }
    }
    *rows = buf;
    *n = (int)dims[0];
    buf = NULL;
    rc = 0;
done:
    free(buf);
    close_type(&mt);
    close_space(&sp);
    close_type(&ft);
    close_dset(&ds);
    return rc;
}

static int read_run(hid_t g, int version, run_record *r, const char *where, mtl_err *err)
{
    memset(r, 0, sizeof *r);
    char *base = (char *)r;
    for (size_t i = 0; i < N_RUN_FIELDS; i++) {
        const field_desc *f = &RUN_FIELDS[i];
        if (f->since > version) continue;
        if (f->kind == F_OPT_STR && H5Aexists(g, f->name) == 0) continue;
        int str = f->kind == F_STR || f->kind == F_OPT_STR;
        int rc = str ? read_attr_str(g, f->name, base + f->off, f->size, where, err)
                     : read_attr_num(g, f, base + f->off, where, err);
        if (rc < 0) return -1;
    }
    if (version < 3) snprintf(r->norm_scope, sizeof r->norm_scope, "regime"); /* data_digest stays empty */
    if (version == 1) { /* the 1-D network, named dcnn then; see results.h */
        snprintf(r->model, sizeof r->model, "cnn1d");
        snprintf(r->protocol, sizeof r->protocol, "spec");
        snprintf(r->norm, sizeof r->norm, "z");
        snprintf(r->lr_step, sizeof r->lr_step, "none");
    }
    void *rows;
    int n;
    if (read_table(g, "history", EPOCH_MEMBERS, N_EPOCH_MEMBERS, sizeof(run_epoch), &rows, &n,
                   where, err) < 0)
        return -1;
    r->hist = rows;
    r->n_hist = n;
    if (read_table(g, "test", TEST_MEMBERS, N_TEST_MEMBERS, sizeof(run_test_row), &rows, &n, where,
                   err) < 0) {
        run_record_free(r);
        return -1;
    }
    r->test = rows;
    r->n_test = n;
    return 0;
}

/* Walks the global heap collections ("GCOL") of a file without a checksum (written before
 * checksums, with variable-length strings) as libhdf5 would, and refuses one whose objects
 * do not tile it: libhdf5 1.10 loops forever on an object header of zeros. */
static int check_heaps(const char *path, const unsigned char *img, size_t len, mtl_err *err)
{
    for (size_t at = 0; at + 16 <= len; at++) {
        if (memcmp(img + at, "GCOL", 4) != 0) continue;
        uint64_t size = 0;
        for (int i = 7; i >= 0; i--) size = size << 8 | img[at + 8 + i];
        if (img[at + 4] != 1 || size < 16 || size > len - at)
            return mtl_fail(err, "%s: damaged results file (global heap at byte %zu is invalid)", path, at);
        const unsigned char *p = img + at + 16, *end = img + at + size;
        while (p < end) {
            if (end - p < 16) break; /* too small for an object: free space */
            unsigned idx = (unsigned)p[0] | (unsigned)p[1] << 8;
            uint64_t osize = 0;
            for (int i = 7; i >= 0; i--) osize = osize << 8 | p[8 + i];
            uint64_t need = idx > 0 ? 16 + ((osize + 7) & ~(uint64_t)7) : osize;
            if (need == 0 || osize > (uint64_t)(end - p) || need > (uint64_t)(end - p))
                return mtl_fail(err, "%s: damaged results file (global heap at byte %zu: bad object at byte %zu)",
                                path, at, (size_t)(p - img));
            p += need;
        }
    }
    return 0;
}

/* A file with the header of write_header must have its length and checksum; one without
 * (an older file) must at least have sound heaps. */
static int check_image(const char *path, const unsigned char *img, size_t len, mtl_err *err)
{
    if (len < 8) return mtl_fail(err, "%s: not a results file (%zu bytes)", path, len);
    size_t ml = strlen(UB_MAGIC);
    if (len < UB_SIZE || memcmp(img, UB_MAGIC, ml) != 0) {
        /* older files start with the HDF5 superblock; after a header block means a damaged header */
        if (len > UB_SIZE + 8 && memcmp(img + UB_SIZE, "\211HDF\r\n\032\n", 8) == 0)
            return mtl_fail(err, "%s: damaged results file (its header is unreadable)", path);
        return check_heaps(path, img, len, err);
    }
    char h[UB_SIZE + 1];
    memcpy(h, img, UB_SIZE);
    h[UB_SIZE] = '\0';
    size_t want = 0;
    uint64_t sum = 0;
    if (sscanf(h + ml, "bytes %zu\nfnv1a64 %" SCNx64, &want, &sum) != 2)
        return mtl_fail(err, "%s: damaged results file (its header is unreadable)", path);
    if (want != len)
        return mtl_fail(err, "%s: damaged results file (%zu bytes, its header says %zu: truncated or appended to)",
                        path, len, want);
    if (image_checksum(img, len) != sum)
        return mtl_fail(err, "%s: damaged results file (checksum mismatch)", path);
    return 0;
}

int results_read_file(const char *path, run_record **runs, int *n, mtl_err *err)
{
    *runs = NULL;
    *n = 0;
    size_t ilen;
    unsigned char *img = (unsigned char *)mtl_read_regular(path, RESULTS_MAX_BYTES, &ilen, err);
    if (!img) return -1;
    if (check_image(path, img, ilen, err) < 0) {
        free(img);
        return -1;
    }

    h5_quiet q;
    quiet_on(&q);
    hid_t fapl = strong_fapl(), file = -1, runs_g = -1, g = -1;
    run_record *recs = NULL;
    int k = 0, rc = -1;
    char why[256], *name = NULL, *where = NULL;

    /* libhdf5 reads the checked bytes from memory (a copy), never the file itself */
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 16, 0) < 0 || H5Pset_file_image(fapl, img, ilen) < 0) {
        mtl_fail(err, "%s: cannot set up HDF5 file access", path);
        free(img);
        goto done;
    }
    free(img);
    file = H5Fopen(IMAGE_NAME, H5F_ACC_RDONLY, fapl);
    if (file < 0) {
        mtl_fail(err, "%s: cannot open as HDF5 (%s)", path, h5_reason(why, sizeof why));
        goto done;
    }
    htri_t has_fmt = H5Aexists(file, "format");
    int version = 1;
    if (has_fmt > 0) {
        char fmt[64];
        if (read_attr_str(file, "format", fmt, sizeof fmt, path, err) < 0) goto done;
        if (strcmp(fmt, RESULTS_FORMAT) == 0) {
            version = 3;
        } else if (strcmp(fmt, RESULTS_FORMAT_V2) == 0) {
            version = 2;
        } else if (strcmp(fmt, RESULTS_FORMAT_V1) != 0) {
            mtl_fail(err, "%s: unsupported results format '%s' (expected %s, %s or %s)", path, fmt,
                     RESULTS_FORMAT, RESULTS_FORMAT_V2, RESULTS_FORMAT_V1);
            goto done;
        }
    }
    if (H5Lexists(file, "runs", H5P_DEFAULT) <= 0 ||
        (runs_g = H5Gopen2(file, "runs", H5P_DEFAULT)) < 0) {
        mtl_fail(err, "%s: not an mtlbench results file (no /runs group)", path);
        goto done;
    }
    H5G_info_t info;
    if (H5Gget_info(runs_g, &info) < 0) {
        mtl_fail(err, "%s: cannot list /runs", path);
        goto done;
    }
    if (info.nlinks > (hsize_t)INT_MAX) {
        mtl_fail(err, "%s: too many runs (%llu)", path, (unsigned long long)info.nlinks);
        goto done;
    }
    recs = calloc(info.nlinks ? (size_t)info.nlinks : 1, sizeof *recs);
    if (!recs) {
        mtl_fail(err, "%s: out of memory", path);
        goto done;
    }
    for (hsize_t i = 0; i < info.nlinks; i++) {
        ssize_t len = H5Lget_name_by_idx(runs_g, ".", H5_INDEX_NAME, H5_ITER_INC, i, NULL, 0,
                                         H5P_DEFAULT);
        if (len < 0) {
            mtl_fail(err, "%s: cannot list /runs", path);
            goto done;
        }
        free(name);
        free(where);
        where = NULL;
        name = malloc((size_t)len + 1);
        if (!name) {
            mtl_fail(err, "%s: out of memory", path);
            goto done;
        }
        if (H5Lget_name_by_idx(runs_g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, (size_t)len + 1,
                               H5P_DEFAULT) < 0) {
            mtl_fail(err, "%s: cannot list /runs", path);
            goto done;
        }
        size_t wlen = strlen(path) + strlen(name) + 16;
        where = malloc(wlen);
        if (!where) {
            mtl_fail(err, "%s: out of memory", path);
            goto done;
        }
        snprintf(where, wlen, "%s: /runs/%s", path, name);
        g = H5Gopen2(runs_g, name, H5P_DEFAULT);
        if (g < 0) {
            mtl_fail(err, "%s: not a run group", where);
            goto done;
        }
        if (read_run(g, version, &recs[k], where, err) < 0) goto done;
        k++;
        close_group(&g);
        if (strcmp(recs[k - 1].run_id, name) != 0) {
            mtl_fail(err, "%s: attribute run_id is '%s', not the group's name", where,
                     recs[k - 1].run_id);
            goto done;
        }
    }
    rc = 0;
done:
    close_group(&g);
    close_group(&runs_g);
    if (file >= 0) H5Fclose(file);
    if (fapl >= 0) H5Pclose(fapl);
    quiet_off(&q);
    free(name);
    free(where);
    if (rc < 0) {
        for (int i = 0; i < k; i++) run_record_free(&recs[i]);
        free(recs);
        return -1;
    }
    *runs = recs;
    *n = k;
    return 0;
}

/* ------------------------------------------------------------------ directories */

typedef struct {
    run_record *v;
    int n, cap;
} run_list;

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_results_name(const char *name)
{
    size_t len = strlen(name);
    return len > 3 && strcmp(name + len - 3, ".h5") == 0 && strstr(name, ".tmp.") == NULL;
}

static char *join_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Appends the runs of every results file directly in dir (sorted by name) to list,
 * skipping run ids already in it. */
static int read_dir_into(const char *dir, run_list *list, mtl_err *err)
{
    DIR *d = opendir(dir);
    if (!d) return mtl_fail(err, "%s: cannot read directory: %s", dir, strerror(errno));
    char **names = NULL;
    size_t nn = 0, cap = 0;
    int rc = -1;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (!is_results_name(e->d_name)) continue;
        if (nn == cap) {
            size_t nc = cap ? cap * 2 : 16;
            char **nv = realloc(names, nc * sizeof *nv);
            if (!nv) {
                mtl_fail(err, "%s: out of memory", dir);
                goto done;
            }
            names = nv;
            cap = nc;
        }
        names[nn] = malloc(strlen(e->d_name) + 1);
        if (!names[nn]) {
            mtl_fail(err, "%s: out of memory", dir);
            goto done;
        }
        strcpy(names[nn++], e->d_name);
        errno = 0;
    }
    if (errno != 0) {
        mtl_fail(err, "%s: cannot read directory: %s", dir, strerror(errno));
        goto done;
    }
    if (nn > 1) qsort(names, nn, sizeof *names, cmp_names);
    for (size_t i = 0; i < nn; i++) {
        char *file = join_path(dir, names[i]);
        if (!file) {
            mtl_fail(err, "%s: out of memory", dir);
            goto done;
        }
        struct stat st;
        if (stat(file, &st) < 0 || !S_ISREG(st.st_mode)) {
            free(file);
            continue;
        }
        run_record *v;
        int k;
        int r = results_read_file(file, &v, &k, err);
        free(file);
        if (r < 0) goto done;
        int fail = 0;
        for (int j = 0; j < k; j++) {
            int dup = 0;
            for (int t = 0; t < list->n && !dup; t++) dup = strcmp(list->v[t].run_id, v[j].run_id) == 0;
            if (dup || fail) {
                run_record_free(&v[j]);
                continue;
            }
            if (list->n == list->cap) {
                int nc = list->cap ? list->cap * 2 : 64;
                run_record *nv = list->cap > INT_MAX / 2 ? NULL : realloc(list->v, (size_t)nc * sizeof *nv);
                if (!nv) {
                    mtl_fail(err, "%s: out of memory", dir);
                    fail = 1;
                    run_record_free(&v[j]);
                    continue;
                }
                list->v = nv;
                list->cap = nc;
            }
            list->v[list->n++] = v[j];
        }
        free(v);
        if (fail) goto done;
    }
    rc = 0;
done:
    for (size_t i = 0; i < nn; i++) free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

int results_read(const char *path, run_record **runs, int *n, mtl_err *err)
{
    *runs = NULL;
    *n = 0;
    if (!path || !path[0]) return mtl_fail(err, "results_read: empty path");
    struct stat st;
    if (stat(path, &st) < 0) return mtl_fail(err, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return results_read_file(path, runs, n, err);

    /* runs/ first: a run file is never older than its copy in a merged file */
    run_list list = {0};
    int rc = 0;
    char *sub = join_path(path, "runs");
    if (!sub) {
        rc = mtl_fail(err, "%s: out of memory", path);
    } else {
        if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) rc = read_dir_into(sub, &list, err);
        free(sub);
    }
    if (rc == 0) rc = read_dir_into(path, &list, err);
    if (rc == 0 && !list.v) {
        list.v = calloc(1, sizeof *list.v);
        if (!list.v) rc = mtl_fail(err, "%s: out of memory", path);
    }
    if (rc < 0) {
        for (int i = 0; i < list.n; i++) run_record_free(&list.v[i]);
        free(list.v);
        return -1;
    }
    *runs = list.v;
    *n = list.n;
    return 0;
}

/* The run id of a format-1 run (read back as cnn1d, spec protocol): hashed before models
 * and protocols were options, with the network's name then, dcnn. */
static void run_config_id_v1(const run_record *r, char out[17])
{
    char text[512];
    int len = snprintf(text, sizeof text,
                       "model=dcnn;subset=%.*s;method=%.*s;seed=%ld;epochs=%d;window=%d;batch=%d;"
                       "lr=%.17g;dropout=%.17g;val_frac=%.17g;patience=%d;deterministic=%d",
                       (int)strnlen(r->subset, sizeof r->subset), r->subset,
                       (int)strnlen(r->method, sizeof r->method), r->method,
                       r->seed, r->epochs, r->window, r->batch,
                       r->lr, r->dropout, r->val_frac, r->patience, r->deterministic);
    if (len < 0) len = 0;
    if ((size_t)len >= sizeof text) len = (int)sizeof text - 1;
    snprintf(out, 17, "%016" PRIx64, mtl_fnv1a(MTL_FNV_INIT, text, (size_t)len));
}

int results_id_consistent(const run_record *r)
{
    char id[17];
    run_config_id(r, id);
    if (strncmp(id, r->run_id, sizeof id) == 0) return 1;
    if (strcmp(r->model, "cnn1d") != 0 || strcmp(r->protocol, "spec") != 0 || strcmp(r->norm, "z") != 0 ||
        strcmp(r->lr_step, "none") != 0)
        return 0;
    run_config_id_v1(r, id);
    return strncmp(id, r->run_id, sizeof id) == 0;
}

int results_run_whole(const run_record *r, mtl_err *err)
{
    if (!results_id_consistent(r)) {
        char id[17];
        run_config_id(r, id);
        return mtl_fail(err, "run %.16s: its configuration hashes to %s, not to its run_id", r->run_id, id);
    }
    if (strcmp(r->status, "ok") != 0 && strcmp(r->status, "diverged") != 0)
        return mtl_fail(err, "run %s: status '%s', expected ok or diverged", r->run_id, r->status);
    if (r->epochs_run < 1 || r->epochs_run > r->epochs || r->n_hist != r->epochs_run)
        return mtl_fail(err, "run %s: %d history rows for %d epochs run of %d", r->run_id, r->n_hist,
                        r->epochs_run, r->epochs);
    if (strcmp(r->status, "ok") == 0 && r->n_test < 1)
        return mtl_fail(err, "run %s: no test rows", r->run_id);
    return 0;
}

int results_has_run(const char *path, const char *run_id)
{
    if (!path || !run_id || !valid_run_id(run_id)) return 0;
    run_record *runs = NULL;
    int n = 0, found = 0;
    if (results_read_file(path, &runs, &n, NULL) < 0) return 0;
    for (int i = 0; i < n; i++) {
        if (!found && strcmp(runs[i].run_id, run_id) == 0 && results_run_whole(&runs[i], NULL) == 0) found = 1;
        run_record_free(&runs[i]);
    }
    free(runs);
    return found;
}

/* Moves dir/name into dir/bad/ (created if needed), under a new name if that one is taken. */
static int move_aside(const char *dir, const char *name, char *to, size_t ton, mtl_err *err)
{
    char *bad = join_path(dir, "bad"), *from = join_path(dir, name);
    int rc = -1;
    if (!bad || !from) {
        mtl_fail(err, "%s: out of memory", dir);
        goto done;
    }
    if (mtl_mkdir_p(bad, err) < 0) goto done;
    for (int k = 0; k < 1000; k++) {
        if (k == 0) snprintf(to, ton, "%s/%s", bad, name);
        else snprintf(to, ton, "%s/%s.%d", bad, name, k);
        struct stat st;
        if (lstat(to, &st) == 0) continue;
        if (rename(from, to) != 0) {
            mtl_fail(err, "%s: cannot move it to %s: %s", from, to, strerror(errno));
            goto done;
        }
        rc = 0;
        goto done;
    }
    mtl_fail(err, "%s: cannot move it aside: %s/%s.* are all taken", from, bad, name);
done:
    free(bad);
    free(from);
    return rc;
}

int results_tidy_runs(const char *dir, FILE *log, mtl_err *err)
{
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : mtl_fail(err, "%s: cannot read directory: %s", dir, strerror(errno));
    char **names = NULL;
    size_t nn = 0, cap = 0;
    int moved = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!is_results_name(e->d_name)) continue;
        if (nn == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **nv = realloc(names, nc * sizeof *nv);
            if (!nv) break;
            names = nv;
            cap = nc;
        }
        if (!(names[nn] = malloc(strlen(e->d_name) + 1))) break;
        strcpy(names[nn++], e->d_name);
    }
    closedir(d);
    for (size_t i = 0; i < nn && moved >= 0; i++) {
        char *file = join_path(dir, names[i]);
        if (!file) {
            moved = mtl_fail(err, "%s: out of memory", dir);
            break;
        }
        mtl_err why;
        snprintf(why.msg, sizeof why.msg, "?");
        run_record *runs = NULL;
        int n = 0, whole = 0;
        if (results_read_file(file, &runs, &n, &why) == 0) {
            size_t len = strlen(names[i]);
            if (n != 1)
                snprintf(why.msg, sizeof why.msg, "%s: %d runs, a run file holds one", file, n);
            else if (len != strlen(runs[0].run_id) + 3 || strncmp(names[i], runs[0].run_id, len - 3) != 0)
                snprintf(why.msg, sizeof why.msg, "%s: holds run %s, not the run of its name", file, runs[0].run_id);
            else if (results_run_whole(&runs[0], &why) == 0)
                whole = 1;
            else {
                char m[512];
                snprintf(m, sizeof m, "%.500s", why.msg);
                snprintf(why.msg, sizeof why.msg, "%.400s: %s", file, m);
            }
        }
        for (int k = 0; k < n; k++) run_record_free(&runs[k]);
        free(runs);
        if (!whole) {
            char to[4096 + 600];
            if (move_aside(dir, names[i], to, sizeof to, err) < 0) {
                moved = -1;
            } else {
                if (log) fprintf(log, "warning: %s; moved to %s (a planned run is redone)\n", why.msg, to);
                moved++;
            }
        }
        free(file);
    }
    for (size_t i = 0; i < nn; i++) free(names[i]);
    free(names);
    return moved;
}

int results_check_target(const char *path, mtl_err *err)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = '\0';
    else *slash = '\0';
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) return mtl_fail(err, "%s: folder %s does not exist", path, dir);
    if (access(dir, W_OK) != 0) return mtl_fail(err, "%s: folder %s is not writable", path, dir);
    if (stat(path, &st) == 0) {
        run_record *runs = NULL;
        int n = 0;
        if (results_read_file(path, &runs, &n, err)) return -1;
        for (int i = 0; i < n; i++) run_record_free(&runs[i]);
        free(runs);
    }
    return 0;
}
