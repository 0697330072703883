/* The run record and its HDF5 storage (layout and crash-safety contract in results.h).
 *
 * Writer and reader are driven by the same field tables below, so every field of
 * run_record / run_epoch / run_test_row that is written is also read back.
 * Every HDF5 call runs with HDF5's automatic error printing switched off (and the
 * caller's handler restored afterwards); failures become mtl_err messages. */
#define _POSIX_C_SOURCE 200809L
#include "results.h"
#include "sandbox.h"

#include <hdf5.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
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

/* The two tables of a run: its dataset's name, its row's members and the row's size. */
typedef struct {
    const char *name;
    const member_desc *m;
    size_t nm, rowsize;
} table_desc;

static const table_desc HISTORY_TABLE = {.name = "history", .m = EPOCH_MEMBERS, .nm = N_EPOCH_MEMBERS,
                                         .rowsize = sizeof(run_epoch)};
static const table_desc TEST_TABLE = {.name = "test", .m = TEST_MEMBERS, .nm = N_TEST_MEMBERS,
                                      .rowsize = sizeof(run_test_row)};

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

static int write_table(hid_t g, const table_desc *t, const void *rows, int n)
{
    const char *name = t->name;
    const member_desc *m = t->m;
    const size_t nm = t->nm, rowsize = t->rowsize;
    hid_t mt = -1, ft = -1, sp = -1, ds = -1, dx = -1;
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
    /* a conversion buffer of the table's size, not libhdf5's default 1 MiB per write */
    size_t big = rowsize * (size_t)n;
    dx = H5Pcreate(H5P_DATASET_XFER);
    if (dx < 0 || H5Pset_buffer(dx, big < 4096 ? 4096 : big, NULL, NULL) < 0) goto done;
    if (n > 0 && H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, dx, rows) < 0) goto done;
    rc = 0;
done:
    if (dx >= 0) H5Pclose(dx);
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
    if (write_table(g, &HISTORY_TABLE, r->hist, r->n_hist) < 0) {
        H5Gclose(g);
        return mtl_fail(err, "%s: cannot write dataset /runs/%s/history", path, r->run_id);
    }
    if (write_table(g, &TEST_TABLE, r->test, r->n_test) < 0) {
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
    mtl_err why;
    int busy, fd = mtl_lock_file(lp, 1, &busy, &why);
    free(lp);
    if (fd < 0) mtl_fail(err, "%s: %s; concurrent writers could lose runs, so nothing is written", path, why.msg);
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
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT); /* one lookup; why it failed is asked after */
    if (a < 0) {
        if (H5Aexists(obj, name) <= 0) mtl_fail(err, "%s: missing attribute '%s'", where, name);
        else mtl_fail(err, "%s: cannot open attribute '%s'", where, name);
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

/* A string attribute into dst (cap bytes); a fixed-length one may not claim more bytes than the
 * file's ilen. */
static int read_attr_str(hid_t obj, const char *name, char *dst, size_t cap, size_t ilen, const char *where,
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
        H5T_str_t pad = H5Tget_strpad(ft);
        if (sz == 0 || sz > MAX_FIXED_STR || sz > ilen) {
            mtl_fail(err, "%s: attribute '%s' has an unreasonable size (%zu bytes)", where, name, sz);
            goto done;
        }
        buf = calloc(sz + 2, 1);
        if (!buf) {
            mtl_fail(err, "%s: out of memory", where);
            goto done;
        }
        /* the stored bytes as they are (the file's own type: no conversion), cut at the first
         * NUL; space padding is removed */
        if (pad < 0 || H5Aread(a, ft, buf) < 0) {
            mtl_fail(err, "%s: cannot read attribute '%s'", where, name);
            goto done;
        }
        buf[sz] = '\0';
        if (pad == H5T_STR_SPACEPAD)
            for (size_t k = strlen(buf); k > 0 && buf[k - 1] == ' '; k--) buf[k - 1] = '\0';
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

/* Only hard links are followed: a soft or external link (which would make libhdf5 open
 * another file, a FIFO say) or a user-defined one is refused. */
static int hard_link(hid_t g, const char *name, const char *where, mtl_err *err)
{
    H5L_info_t li;
    if (H5Lexists(g, name, H5P_DEFAULT) <= 0) return mtl_fail(err, "%s: missing '%s'", where, name);
    if (H5Lget_info(g, name, &li, H5P_DEFAULT) < 0) return mtl_fail(err, "%s: cannot inspect link '%s'", where, name);
    if (li.type != H5L_TYPE_HARD)
        return mtl_fail(err, "%s: '%s' is %s link; only plain (hard) links are read", where, name,
                        li.type == H5L_TYPE_SOFT ? "a soft" : li.type == H5L_TYPE_EXTERNAL ? "an external" : "a user-defined");
    return 0;
}

/* A dataset whose bytes are in the file itself: not virtual, no external raw-data files;
 * *filtered set when its chunks pass through filters (compression). */
static int own_storage(hid_t ds, const char *name, int *filtered, const char *where, mtl_err *err)
{
    hid_t pl = H5Dget_create_plist(ds);
    if (pl < 0) return mtl_fail(err, "%s: cannot inspect dataset '%s'", where, name);
    H5D_layout_t lay = H5Pget_layout(pl);
    int ext = H5Pget_external_count(pl), nf = H5Pget_nfilters(pl);
    H5Pclose(pl);
    if (lay != H5D_COMPACT && lay != H5D_CONTIGUOUS && lay != H5D_CHUNKED)
        return mtl_fail(err, "%s: dataset '%s' is not stored in the file (virtual or unknown layout)", where, name);
    if (ext != 0) return mtl_fail(err, "%s: dataset '%s' keeps its data in other files; refused", where, name);
    *filtered = nf > 0;
    return 0;
}

/* The bytes of a packed row of these members. */
static size_t packed_row(const member_desc *m, size_t nm)
{
    size_t n = 0;
    for (size_t i = 0; i < nm; i++) n += m[i].kind == M_DOUBLE ? 8 : 4;
    return n;
}

/* A compressed table may hold at most this many times the bytes of its file. */
#define MAX_EXPANSION 64

/* Reads a compound dataset into a malloc'd array (NULL when empty). Fields are matched by
 * name; every field of the in-memory row must be present in the file. Its row count is
 * bounded by what a file of ilen bytes can hold, and its data must be stored, not filled. */
static int read_table(hid_t g, const table_desc *t, size_t ilen, void **rows, int *n, const char *where,
                      mtl_err *err)
{
    const char *name = t->name;
    const member_desc *m = t->m;
    const size_t nm = t->nm, rowsize = t->rowsize;
    *rows = NULL;
    *n = 0;
    if (hard_link(g, name, where, err) < 0) return -1;
    hid_t ds = H5Dopen2(g, name, H5P_DEFAULT), ft = -1, sp = -1, mt = -1, dx = -1;
    int rc = -1, filtered = 0;
    void *buf = NULL;
    if (ds < 0) {
        mtl_fail(err, "%s: '%s' is not a dataset", where, name);
        goto done;
    }
    if (own_storage(ds, name, &filtered, where, err) < 0) goto done;
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
    size_t tsize = H5Tget_size(ft);
    sp = H5Dget_space(ds);
    hsize_t dims[1] = {0};
    if (sp < 0 || H5Sget_simple_extent_ndims(sp) != 1 || H5Sget_simple_extent_dims(sp, dims, NULL) != 1) {
        mtl_fail(err, "%s: dataset '%s' is not one-dimensional", where, name);
        goto done;
    }
    size_t cap = (filtered ? MAX_EXPANSION : 1) * ilen / (tsize > 0 ? tsize : 1);
    if (tsize < packed_row(m, nm) || dims[0] > (hsize_t)cap || dims[0] > (hsize_t)INT_MAX) {
        mtl_fail(err, "%s: dataset '%s' claims %llu rows, more than the file's %zu bytes can hold", where, name,
                 (unsigned long long)dims[0], ilen);
        goto done;
    }
    hsize_t stored = H5Dget_storage_size(ds);
    if (!filtered && stored < dims[0] * tsize) {
        mtl_fail(err, "%s: dataset '%s' has %llu rows but only %llu bytes of data", where, name,
                 (unsigned long long)dims[0], (unsigned long long)stored);
        goto done;
    }
    if (dims[0] > 0) {
        mt = compound_type(m, nm, rowsize);
        buf = calloc((size_t)dims[0], rowsize);
        /* a conversion buffer of the table's size, not libhdf5's default 1 MiB per read */
        dx = H5Pcreate(H5P_DATASET_XFER);
        size_t big = (tsize > rowsize ? tsize : rowsize) * (size_t)dims[0];
        if (mt < 0 || !buf || dx < 0 || H5Pset_buffer(dx, big < 4096 ? 4096 : big, NULL, NULL) < 0) {
            mtl_fail(err, "%s: out of memory reading dataset '%s'", where, name);
            goto done;
        }
        if (H5Dread(ds, mt, H5S_ALL, H5S_ALL, dx, buf) < 0) {
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
    if (dx >= 0) H5Pclose(dx);
    close_type(&mt);
    close_space(&sp);
    close_type(&ft);
    close_dset(&ds);
    return rc;
}

static int read_run(hid_t g, int version, size_t ilen, run_record *r, const char *where, mtl_err *err)
{
    memset(r, 0, sizeof *r);
    char *base = (char *)r;
    for (size_t i = 0; i < N_RUN_FIELDS; i++) {
        const field_desc *f = &RUN_FIELDS[i];
        if (f->since > version) continue;
        if (f->kind == F_OPT_STR && H5Aexists(g, f->name) == 0) continue;
        int str = f->kind == F_STR || f->kind == F_OPT_STR;
        int rc = str ? read_attr_str(g, f->name, base + f->off, f->size, ilen, where, err)
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
    if (read_table(g, &HISTORY_TABLE, ilen, &rows, &n, where, err) < 0)
        return -1;
    r->hist = rows;
    r->n_hist = n;
    if (read_table(g, &TEST_TABLE, ilen, &rows, &n, where, err) < 0) {
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

/* ------------------------------------------------------------------ lists and sets of runs */

typedef struct {
    run_record *v;
    int n, cap;
} run_list;

static void run_list_free(run_list *l)
{
    for (int i = 0; i < l->n; i++) run_record_free(&l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* Appends r (taking its tables); -1 when out of memory (r is then freed). */
static int run_list_push(run_list *l, run_record *r)
{
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 64;
        run_record *nv = l->cap > INT_MAX / 2 ? NULL : realloc(l->v, (size_t)nc * sizeof *nv);
        if (!nv) {
            run_record_free(r);
            return -1;
        }
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = *r;
    return 0;
}

/* A set of run ids: open addressing on their FNV-1a hash; an empty slot is an empty string. */
typedef struct {
    char (*slot)[17];
    size_t cap, n;
} id_set;

static void id_set_free(id_set *s)
{
    free(s->slot);
    s->slot = NULL;
    s->cap = s->n = 0;
}

static size_t id_slot(const id_set *s, const char *id)
{
    size_t i = (size_t)mtl_fnv1a(MTL_FNV_INIT, id, strnlen(id, 16)) & (s->cap - 1);
    while (s->slot[i][0] && strncmp(s->slot[i], id, 17) != 0) i = (i + 1) & (s->cap - 1);
    return i;
}

static int id_set_has(const id_set *s, const char *id)
{
    return s && s->cap && s->slot[id_slot(s, id)][0];
}

/* Adds a valid run id; -1 when out of memory. */
static int id_set_add(id_set *s, const char *id)
{
    if (2 * (s->n + 1) > s->cap) {
        id_set t = {calloc(s->cap ? s->cap * 2 : 256, 17), s->cap ? s->cap * 2 : 256, 0};
        if (!t.slot) return -1;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i][0]) memcpy(t.slot[id_slot(&t, s->slot[i])], s->slot[i], 17), t.n++;
        free(s->slot);
        *s = t;
    }
    size_t i = id_slot(s, id);
    if (!s->slot[i][0]) {
        snprintf(s->slot[i], 17, "%s", id);
        s->n++;
    }
    return 0;
}

typedef struct {
    char **v;
    int n, cap;
} name_list;

static void name_list_free(name_list *l)
{
    for (int i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int name_list_grow(name_list *l)
{
    int nc = l->cap ? 2 * l->cap : 64;
    char **nv = l->cap > INT_MAX / 2 ? NULL : realloc(l->v, (size_t)nc * sizeof *nv);
    if (!nv) return -1;
    l->v = nv;
    l->cap = nc;
    return 0;
}

typedef struct {
    name_list *names;
    size_t ilen;
    int failed;
} link_names;

static herr_t collect_name(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)g, (void)info;
    link_names *ln = data;
    size_t len = strnlen(name, ln->ilen + 1);
    char *p = len <= ln->ilen ? malloc(len + 1) : NULL;
    if (!p || (ln->names->n == ln->names->cap && name_list_grow(ln->names) < 0)) {
        free(p);
        ln->failed = 1;
        return -1;
    }
    memcpy(p, name, len);
    p[len] = '\0';
    ln->names->v[ln->names->n++] = p;
    return 0;
}

/* ------------------------------------------------------------------ parsing a file image */

/* Parses a checked image with libhdf5 (called in the reader process only), appending its runs
 * whose ids are not in skip to out. */
static int parse_image(const char *path, unsigned char *img, size_t ilen, const id_set *skip, run_list *out,
                       mtl_err *err)
{
    hid_t fapl = strong_fapl(), file = -1, runs_g = -1, g = -1;
    int rc = -1;
    char why[256], *where = NULL;
    name_list names = {NULL, 0, 0};

    /* libhdf5 reads the checked bytes from memory (a copy), never the file itself */
    if (fapl < 0 || H5Pset_fapl_core(fapl, 1 << 16, 0) < 0 || H5Pset_file_image(fapl, img, ilen) < 0) {
        mtl_fail(err, "%s: cannot set up HDF5 file access", path);
        goto done;
    }
    file = H5Fopen(IMAGE_NAME, H5F_ACC_RDONLY, fapl);
    if (file < 0) {
        mtl_fail(err, "%s: cannot open as HDF5 (%s)", path, h5_reason(why, sizeof why));
        goto done;
    }
    htri_t has_fmt = H5Aexists(file, "format");
    int version = 1;
    if (has_fmt > 0) {
        char fmt[64];
        if (read_attr_str(file, "format", fmt, sizeof fmt, ilen, path, err) < 0) goto done;
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
    if (H5Lexists(file, "runs", H5P_DEFAULT) <= 0) {
        mtl_fail(err, "%s: not an mtlbench results file (no /runs group)", path);
        goto done;
    }
    if (hard_link(file, "runs", path, err) < 0) goto done;
    if ((runs_g = H5Gopen2(file, "runs", H5P_DEFAULT)) < 0) {
        mtl_fail(err, "%s: not an mtlbench results file (no /runs group)", path);
        goto done;
    }
    H5G_info_t info;
    if (H5Gget_info(runs_g, &info) < 0) {
        mtl_fail(err, "%s: cannot list /runs", path);
        goto done;
    }
    if (info.nlinks > (hsize_t)(ilen / 64)) {
        mtl_fail(err, "%s: /runs claims %llu runs, more than the file can hold", path, (unsigned long long)info.nlinks);
        goto done;
    }
    /* the names in one pass (by index, each lookup would walk the group again) */
    link_names ln = {&names, ilen, 0};
    hsize_t at = 0;
    if (H5Literate(runs_g, H5_INDEX_NAME, H5_ITER_INC, &at, collect_name, &ln) < 0 || ln.failed ||
        names.n != (int)info.nlinks) {
        mtl_fail(err, "%s: cannot list /runs", path);
        goto done;
    }
    for (int i = 0; i < names.n; i++) {
        const char *name = names.v[i];
        free(where);
        where = NULL;
        if (valid_run_id(name) && id_set_has(skip, name)) continue;
        size_t wlen = strlen(path) + strlen(name) + 16;
        where = malloc(wlen);
        if (!where) {
            mtl_fail(err, "%s: out of memory", path);
            goto done;
        }
        snprintf(where, wlen, "%s: /runs/%s", path, name);
        if (hard_link(runs_g, name, where, err) < 0) goto done;
        g = H5Gopen2(runs_g, name, H5P_DEFAULT);
        if (g < 0) {
            mtl_fail(err, "%s: not a run group", where);
            goto done;
        }
        run_record r;
        if (read_run(g, version, ilen, &r, where, err) < 0) goto done;
        close_group(&g);
        if (strcmp(r.run_id, name) != 0) {
            mtl_fail(err, "%s: attribute run_id is '%s', not the group's name", where, r.run_id);
            run_record_free(&r);
            goto done;
        }
        if (run_list_push(out, &r) < 0) {
            mtl_fail(err, "%s: out of memory", path);
            goto done;
        }
    }
    rc = 0;
done:
    close_group(&g);
    close_group(&runs_g);
    if (file >= 0) H5Fclose(file);
    if (fapl >= 0) H5Pclose(fapl);
    name_list_free(&names);
    free(where);
    return rc;
}

/* Reads, checks and parses one file (in the reader process). */
static int read_one(const char *path, const id_set *skip, run_list *out, mtl_err *err)
{
    size_t ilen;
    unsigned char *img = (unsigned char *)mtl_read_regular(path, RESULTS_MAX_BYTES, &ilen, err);
    if (!img) return -1;
    int rc = check_image(path, img, ilen, err);
    if (rc == 0) rc = parse_image(path, img, ilen, skip, out, err);
    free(img);
    return rc;
}

/* ------------------------------------------------------------------ the reader process
 *
 * libhdf5 trusts the files it opens: damaged bytes can crash it, hang it or make it allocate
 * gigabytes. So no results file is parsed in the calling process. A reader process (a fork,
 * see sandbox.h) parses the files one after the other and sends each file's outcome through
 * a pipe as one frame: a frame_head, the message (an error) or the runs (each run_record
 * as it is in memory, then its history and test rows). The caller checks every frame against
 * the file's size before it uses it. A reader that crashes, overruns its memory or time, or
 * sends a bad frame marks its current file unreadable, naming it; a new reader goes on with
 * the next file. */

#define FRAME_MAGIC 0x6d746c72u
/* Reader limits: memory beyond its size at the fork, and time per file */
#define READER_MEM_BASE ((size_t)1 << 30)
#define READER_MEM_PER_BYTE 16
#define READER_SECONDS_BASE 30
#define READER_SECONDS_PER_MIB 1

typedef struct {
    uint32_t magic;
    int32_t index, rc;
    uint32_t msglen, nrec;
} frame_head;

typedef struct {
    const char *const *files;
    int nf, start;
    id_set *skip;   /* the reader's copy: ids read are added */
} reader_job;

static int send_frame(int fd, int index, int rc, const char *msg, const run_list *l)
{
    frame_head h = {FRAME_MAGIC, index, rc, rc ? (uint32_t)strlen(msg) : 0, rc ? 0 : (uint32_t)l->n};
    if (mtl_write_all(fd, &h, sizeof h, "pipe", NULL) < 0 || mtl_write_all(fd, msg, h.msglen, "pipe", NULL) < 0)
        return -1;
    for (uint32_t i = 0; i < h.nrec; i++) {
        const run_record *r = &l->v[i];
        if (mtl_write_all(fd, r, sizeof *r, "pipe", NULL) < 0 ||
            mtl_write_all(fd, r->hist, sizeof(run_epoch) * (size_t)r->n_hist, "pipe", NULL) < 0 ||
            mtl_write_all(fd, r->test, sizeof(run_test_row) * (size_t)r->n_test, "pipe", NULL) < 0)
            return -1;
    }
    return 0;
}

static int reader_body(int fd, void *ctx)
{
    reader_job *job = ctx;
    h5_quiet q;
    quiet_on(&q);
    for (int i = job->start; i < job->nf; i++) {
        run_list got = {NULL, 0, 0};
        mtl_err e;
        e.msg[0] = '\0';
        int rc = read_one(job->files[i], job->skip, &got, &e);
        if (send_frame(fd, i, rc, e.msg, &got) < 0) return -1;
        for (int k = 0; job->skip && k < got.n; k++) id_set_add(job->skip, got.v[k].run_id);
        run_list_free(&got);
    }
    return 0;
}

typedef struct {
    int rc;          /* 0 read, -1 not (msg says why) */
    run_list runs;
    char *msg;       /* malloc'd, NULL when read (or out of memory) */
} file_result;

/* Sets the message of a file not read. */
static void result_fail(file_result *res, const char *fmt, ...) MTL_PRINTF(2, 3);
static void result_fail(file_result *res, const char *fmt, ...)
{
    char buf[MTL_ERRLEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    free(res->msg);
    res->msg = strdup(buf);
    res->rc = -1;
}

static void result_why(const file_result *res, mtl_err *why)
{
    mtl_fail(why, "%s", res->msg ? res->msg : "out of memory");
}

/* Receives one run; the file's size bounds its tables. */
static int recv_run(mtl_sandbox *sb, size_t fsize, double deadline, run_record *r)
{
    if (mtl_sandbox_read(sb, r, sizeof *r, deadline) < 0) return -1;
    r->hist = NULL;
    r->test = NULL;
    for (size_t k = 0; k < N_RUN_FIELDS; k++) {
        const field_desc *f = &RUN_FIELDS[k];
        if (f->kind == F_STR && strnlen((const char *)r + f->off, f->size) == f->size) return -1;
    }
    size_t eb = packed_row(EPOCH_MEMBERS, N_EPOCH_MEMBERS), tb = packed_row(TEST_MEMBERS, N_TEST_MEMBERS);
    if (!valid_run_id(r->run_id) || r->n_hist < 0 || r->n_test < 0 ||
        (size_t)r->n_hist > MAX_EXPANSION * fsize / eb || (size_t)r->n_test > MAX_EXPANSION * fsize / tb) {
        r->n_hist = r->n_test = 0;
        return -1;
    }
    r->hist = malloc(sizeof(run_epoch) * (size_t)r->n_hist + 1);
    r->test = malloc(sizeof(run_test_row) * (size_t)r->n_test + 1);
    if (!r->hist || !r->test || mtl_sandbox_read(sb, r->hist, sizeof(run_epoch) * (size_t)r->n_hist, deadline) < 0 ||
        mtl_sandbox_read(sb, r->test, sizeof(run_test_row) * (size_t)r->n_test, deadline) < 0) {
        run_record_free(r);
        return -1;
    }
    if (r->n_hist == 0) free(r->hist), r->hist = NULL;
    if (r->n_test == 0) free(r->test), r->test = NULL;
    return 0;
}

/* Receives the frame of file index into res; -1 when the reader broke off or sent a bad frame. */
static int recv_frame(mtl_sandbox *sb, int index, size_t fsize, id_set *skip, file_result *res)
{
    double deadline = mtl_now() + READER_SECONDS_BASE + READER_SECONDS_PER_MIB * (double)(fsize >> 20);
    frame_head h;
    if (mtl_sandbox_read(sb, &h, sizeof h, deadline) < 0) return -1;
    if (h.magic != FRAME_MAGIC || h.index != index || h.msglen >= MTL_ERRLEN || h.nrec > fsize / 64 + 1) return -1;
    char msg[MTL_ERRLEN];
    if (mtl_sandbox_read(sb, msg, h.msglen, deadline) < 0) return -1;
    msg[h.msglen] = '\0';
    if (h.rc) result_fail(res, "%s", msg);
    else res->rc = 0;
    for (uint32_t i = 0; i < h.nrec; i++) {
        run_record r;
        if (recv_run(sb, fsize, deadline, &r) < 0 || run_list_push(&res->runs, &r) < 0) return -1;
        if (skip && id_set_add(skip, r.run_id) < 0) return -1;
    }
    return 0;
}

/* Reads files[0..nf) through reader processes into res[0..nf) (each res[i].rc says whether
 * file i was read). With skip, the runs whose ids are in it are left out and the ids read are
 * added, so that the first copy of a run wins. -1 only when no reader can be started. */
static int read_files(const char *const *files, int nf, id_set *skip, file_result *res, mtl_err *err)
{
    size_t *size = calloc((size_t)nf + 1, sizeof *size);
    if (!size) return mtl_fail(err, "out of memory");
    for (int i = 0; i < nf; i++) {
        struct stat st;
        size[i] = stat(files[i], &st) == 0 && st.st_size > 0 ? (size_t)st.st_size : 0;
        res[i].rc = -1;
        res[i].runs = (run_list){NULL, 0, 0};
        res[i].msg = NULL;
    }
    int next = 0, rc = 0;
    while (next < nf) {
        size_t biggest = 0;
        long cpu = 0;
        for (int i = next; i < nf; i++) {
            if (size[i] > biggest) biggest = size[i];
            cpu += READER_SECONDS_BASE + READER_SECONDS_PER_MIB * (long)(size[i] >> 20);
        }
        reader_job job = {files, nf, next, skip};
        mtl_sandbox sb;
        if (mtl_sandbox_start(&sb, reader_body, &job, READER_MEM_BASE + READER_MEM_PER_BYTE * biggest, cpu, err) < 0) {
            rc = -1;
            break;
        }
        for (; next < nf; next++) {
            if (recv_frame(&sb, next, size[next], skip, &res[next]) < 0) break;
        }
        char why[128];
        mtl_sandbox_finish(&sb, next == nf, why, sizeof why);
        if (next < nf) {
            run_list_free(&res[next].runs);
            result_fail(&res[next], "%s: damaged results file: its reader process stopped on it (%s)", files[next],
                        why);
            next++;
        }
    }
    free(size);
    return rc;
}

static void free_results(file_result *res, int nf)
{
    for (int i = 0; res && i < nf; i++) run_list_free(&res[i].runs), free(res[i].msg);
    free(res);
}

/* Moves the runs of res[0..nf) into one list, in order; -1 (with the first file's message)
 * when a file could not be read. */
static int collect(file_result *res, int nf, run_list *all, mtl_err *err)
{
    for (int i = 0; i < nf; i++)
        if (res[i].rc != 0) {
            if (err) result_why(&res[i], err);
            return -1;
        }
    for (int i = 0; i < nf; i++) {
        for (int k = 0; k < res[i].runs.n; k++)
            if (run_list_push(all, &res[i].runs.v[k]) < 0) {
                for (int j = k + 1; j < res[i].runs.n; j++) run_record_free(&res[i].runs.v[j]);
                res[i].runs.n = 0;
                return mtl_fail(err, "out of memory");
            }
        res[i].runs.n = 0;
    }
    return 0;
}

static int hand_over(run_list *l, run_record **runs, int *n, mtl_err *err)
{
    if (!l->v && !(l->v = calloc(1, sizeof *l->v))) return mtl_fail(err, "out of memory");
    *runs = l->v;
    *n = l->n;
    l->v = NULL;
    l->n = l->cap = 0;
    return 0;
}

int results_read_file(const char *path, run_record **runs, int *n, mtl_err *err)
{
    *runs = NULL;
    *n = 0;
    file_result *res = calloc(1, sizeof *res);
    if (!res) return mtl_fail(err, "%s: out of memory", path);
    run_list all = {NULL, 0, 0};
    int rc = read_files(&path, 1, NULL, res, err);
    if (rc == 0) rc = collect(res, 1, &all, err);
    free_results(res, 1);
    if (rc == 0) rc = hand_over(&all, runs, n, err);
    run_list_free(&all);
    return rc;
}

/* ------------------------------------------------------------------ directories */

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

/* Appends the paths (full with dir when full is set, else the names) of the results files
 * directly in dir, sorted by name; with regular_only, only regular files. */
static int list_results(const char *dir, int full, int regular_only, name_list *l, mtl_err *err)
{
    DIR *d = opendir(dir);
    if (!d) return mtl_fail(err, "%s: cannot read directory: %s", dir, strerror(errno));
    int first = l->n, rc = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (!is_results_name(e->d_name)) continue;
        char *p = join_path(dir, e->d_name);
        struct stat st;
        if (p && regular_only && (stat(p, &st) != 0 || !S_ISREG(st.st_mode))) {
            free(p);
            errno = 0;
            continue;
        }
        if (p && !full) snprintf(p, strlen(p) + 1, "%s", e->d_name);
        if (!p || (l->n == l->cap && name_list_grow(l) < 0)) {
            free(p);
            rc = mtl_fail(err, "%s: out of memory", dir);
            break;
        }
        l->v[l->n++] = p;
        errno = 0;
    }
    if (rc == 0 && errno != 0) rc = mtl_fail(err, "%s: cannot read directory: %s", dir, strerror(errno));
    closedir(d);
    if (l->n - first > 1) qsort(l->v + first, (size_t)(l->n - first), sizeof *l->v, cmp_names);
    return rc;
}

/* Reads the runs of files[0..nf), the first copy of a run id winning. */
static int read_list(const name_list *files, run_record **runs, int *n, mtl_err *err)
{
    file_result *res = calloc((size_t)files->n + 1, sizeof *res);
    if (!res) return mtl_fail(err, "out of memory");
    id_set seen = {NULL, 0, 0};
    run_list all = {NULL, 0, 0};
    int rc = read_files((const char *const *)files->v, files->n, &seen, res, err);
    if (rc == 0) rc = collect(res, files->n, &all, err);
    free_results(res, files->n);
    id_set_free(&seen);
    if (rc == 0) rc = hand_over(&all, runs, n, err);
    run_list_free(&all);
    return rc;
}

static int merge_current(const char *dir);

int results_read(const char *path, run_record **runs, int *n, mtl_err *err)
{
    *runs = NULL;
    *n = 0;
    if (!path || !path[0]) return mtl_fail(err, "results_read: empty path");
    struct stat st;
    if (stat(path, &st) < 0) return mtl_fail(err, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return results_read_file(path, runs, n, err);

    /* runs/ first: a run file is never older than its copy in a merged file; runs/ is left
     * out when sweep.h5 holds its runs as they are (merged, and neither changed since) */
    name_list files = {0};
    int rc = 0;
    char *sub = join_path(path, "runs");
    if (!sub) rc = mtl_fail(err, "%s: out of memory", path);
    else if (!merge_current(path) && stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
        rc = list_results(sub, 1, 1, &files, err);
    free(sub);
    if (rc == 0) rc = list_results(path, 1, 1, &files, err);
    if (rc == 0) rc = read_list(&files, runs, n, err);
    name_list_free(&files);
    return rc;
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

/* Moves dir/name into dir/bad/; *to gets its new path. */
static int move_aside(const char *dir, const char *name, char **to, mtl_err *err)
{
    char *from = join_path(dir, name);
    *to = NULL;
    if (!from) return mtl_fail(err, "%s: out of memory", dir);
    int rc = mtl_move_aside(from, to, err);
    free(from);
    return rc;
}

static uint64_t stat_digest(uint64_t h, const char *name, const struct stat *st)
{
    int64_t v[6] = {(int64_t)st->st_size, (int64_t)st->st_ino, (int64_t)st->st_mtim.tv_sec,
                    (int64_t)st->st_mtim.tv_nsec, (int64_t)st->st_ctim.tv_sec, (int64_t)st->st_ctim.tv_nsec};
    h = mtl_fnv1a(h, name, strlen(name) + 1);
    return mtl_fnv1a(h, v, sizeof v);
}

/* The run files a scan found whole, as one key per file (stat_digest of its name and inode
 * data) in dir/.checked: a file with the same key is not read again. Any write or rename
 * changes a file's key, so only files left as they were are taken on trust. */
#define CHECKED_NAME ".checked"
#define CHECKED_MAGIC "mtlbench checked 1\n"

typedef struct {
    uint64_t *v;
    size_t n;
} key_list;

static int cmp_keys(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The keys of dir/.checked, sorted; none when it is missing or not one of ours. */
static key_list read_checked(const char *dir)
{
    key_list k = {NULL, 0};
    char *p = join_path(dir, CHECKED_NAME);
    size_t len = 0, ml = strlen(CHECKED_MAGIC);
    char *s = p ? mtl_read_regular(p, (size_t)64 << 20, &len, NULL) : NULL;
    free(p);
    if (s && len >= ml && memcmp(s, CHECKED_MAGIC, ml) == 0 && (len - ml) % 8 == 0 && (k.v = malloc(len - ml + 8))) {
        k.n = (len - ml) / 8;
        memcpy(k.v, s + ml, len - ml);
        qsort(k.v, k.n, 8, cmp_keys);
    }
    free(s);
    return k;
}

static void write_checked(const char *dir, const uint64_t *keys, size_t n)
{
    char *p = join_path(dir, CHECKED_NAME), *tmp;
    int fd = p ? mtl_tmp_create(p, &tmp, NULL) : -1;
    if (fd >= 0) {
        if (mtl_write_all(fd, CHECKED_MAGIC, strlen(CHECKED_MAGIC), p, NULL) == 0 &&
            mtl_write_all(fd, keys, n * sizeof *keys, p, NULL) == 0) {
            mtl_commit_tmp(fd, tmp, p, NULL);
        } else {
            close(fd);
            unlink(tmp);
            free(tmp);
        }
    }
    free(p);
}

/* Why file (of dir) is not one whole run of its name, in why; 1 when it is. */
static int whole_run_file(const file_result *res, const char *name, const char *file, mtl_err *why)
{
    if (res->rc != 0) {
        result_why(res, why);
        return 0;
    }
    const run_list *l = &res->runs;
    size_t len = strlen(name);
    if (l->n != 1) {
        mtl_fail(why, "%s: %d runs, a run file holds one", file, l->n);
        return 0;
    }
    if (len != strlen(l->v[0].run_id) + 3 || strncmp(name, l->v[0].run_id, len - 3) != 0) {
        mtl_fail(why, "%s: holds run %s, not the run of its name", file, l->v[0].run_id);
        return 0;
    }
    mtl_err e;
    if (results_run_whole(&l->v[0], &e) < 0) {
        mtl_fail(why, "%s: %s", file, e.msg);
        return 0;
    }
    return 1;
}

static int cmp_ids(const void *a, const void *b) { return strcmp(a, b); }

int results_scan_runs(const char *dir, int tidy, FILE *log, char (**ids)[17], int *n_ids, mtl_err *err)
{
    if (ids) *ids = NULL;
    if (n_ids) *n_ids = 0;
    name_list names = {NULL, 0, 0}, files = {NULL, 0, 0};
    struct stat st;
    if (stat(dir, &st) != 0 && errno == ENOENT) return 0;
    if (list_results(dir, 0, 0, &names, err) < 0) return -1;
    key_list known = read_checked(dir);
    size_t nn = (size_t)names.n + 1;
    uint64_t *key = calloc(nn, sizeof *key), *keep = calloc(nn, sizeof *keep);
    int *todo = calloc(nn, sizeof *todo);
    const char **tp = calloc(nn, sizeof *tp); /* the files to read */
    file_result *res = calloc(nn, sizeof *res);
    char (*whole)[17] = calloc(nn, 17);
    int rc = 0, moved = 0, nw = 0, nt = 0;
    size_t nk = 0;
    if (!key || !keep || !todo || !tp || !res || !whole) rc = mtl_fail(err, "%s: out of memory", dir);
    /* files unchanged since they were found whole are not read again */
    for (int i = 0; i < names.n && rc == 0; i++) {
        char *p = join_path(dir, names.v[i]);
        if (!p || (files.n == files.cap && name_list_grow(&files) < 0)) {
            free(p);
            rc = mtl_fail(err, "%s: out of memory", dir);
            break;
        }
        files.v[files.n++] = p;
        key[i] = stat(p, &st) == 0 ? stat_digest(MTL_FNV_INIT, names.v[i], &st) : 0;
        char id[17];
        snprintf(id, sizeof id, "%.16s", names.v[i]);
        todo[i] = !(key[i] && known.n && bsearch(&key[i], known.v, known.n, 8, cmp_keys) &&
                    strlen(names.v[i]) == 19 && valid_run_id(id));
        if (todo[i]) tp[nt++] = p;
    }
    if (rc == 0) rc = read_files(tp, nt, NULL, res, err);
    for (int i = 0, t = 0; i < names.n && rc == 0; i++) {
        mtl_err why;
        if (!todo[i] || whole_run_file(&res[t], names.v[i], tp[t], &why)) {
            snprintf(whole[nw++], 17, "%.16s", names.v[i]);
            keep[nk++] = key[i];
            t += todo[i];
            continue;
        }
        t++;
        if (!tidy) continue;
        char *to = NULL;
        if (move_aside(dir, names.v[i], &to, err) < 0) {
            rc = -1;
            break;
        }
        if (log) fprintf(log, "warning: %s; moved to %s (a planned run is redone)\n", why.msg, to);
        free(to);
        moved++;
    }
    if (rc == 0 && tidy && (nt > 0 || nk != known.n)) write_checked(dir, keep, nk);
    free_results(res, nt);
    name_list_free(&names);
    name_list_free(&files);
    free(known.v), free(key), free(keep), free(todo), free(tp);
    if (rc == 0 && ids) {
        qsort(whole, (size_t)nw, 17, cmp_ids);
        *ids = whole;
        *n_ids = nw;
        whole = NULL;
    }
    free(whole);
    return rc < 0 ? -1 : moved;
}

int results_tidy_runs(const char *dir, FILE *log, mtl_err *err)
{
    return results_scan_runs(dir, 1, log, NULL, NULL, err);
}

int results_is_results_file(const char *path)
{
    unsigned char head[UB_SIZE + 8];
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return 0;
    struct stat st;
    ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? pread(fd, head, sizeof head, 0) : 0;
    close(fd);
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    size_t ml = strlen(UB_MAGIC);
    return (n >= (ssize_t)ml && memcmp(head, UB_MAGIC, ml) == 0) || (n >= 8 && memcmp(head, sig, 8) == 0) ||
           (n >= UB_SIZE + 8 && memcmp(head + UB_SIZE, sig, 8) == 0);
}

int results_check_target(const char *path, mtl_err *err)
{
    if (mtl_check_folder_writable(path, err) < 0) return -1;
    struct stat st;
    if (stat(path, &st) == 0) {
        run_record *runs = NULL;
        int n = 0;
        if (results_read_file(path, &runs, &n, err)) return -1;
        for (int i = 0; i < n; i++) run_record_free(&runs[i]);
        free(runs);
    }
    return 0;
}

/* ------------------------------------------------------------------ merging a sweep's folder */

#define MERGED_NAME "sweep.h5"
#define MERGE_STATE_NAME ".sweep.h5.state"
#define MERGE_STATE_MAGIC "mtlbench merge state 1"

/* A digest of the names and inode data of the run files and of the merged file: any write,
 * rename or removal of one of them changes it. */
static int folder_digest(const char *runs_dir, const char *merged, uint64_t *digest, mtl_err *err)
{
    name_list names = {NULL, 0, 0};
    struct stat st;
    uint64_t h = MTL_FNV_INIT;
    if (stat(runs_dir, &st) == 0 && list_results(runs_dir, 1, 0, &names, err) < 0) return -1;
    for (int i = 0; i < names.n; i++) {
        if (lstat(names.v[i], &st) != 0) memset(&st, 0, sizeof st);
        h = stat_digest(h, names.v[i], &st);
    }
    name_list_free(&names);
    if (lstat(merged, &st) != 0) memset(&st, 0, sizeof st);
    *digest = stat_digest(h, merged, &st);
    return 0;
}

/* The digest and run count of the last merge, from the state file; -1 when there is none. */
static int read_merge_state(const char *state, uint64_t *digest, int *n)
{
    size_t len;
    char *s = mtl_read_regular(state, 4096, &len, NULL);
    if (!s) return -1;
    unsigned long long d = 0;
    int ok = sscanf(s, MERGE_STATE_MAGIC "\nruns %d\ndigest %16llx\n", n, &d) == 2 && *n >= 0;
    free(s);
    *digest = d;
    return ok ? 0 : -1;
}

static int write_merge_state(const char *state, uint64_t digest, int n, mtl_err *err)
{
    char text[128];
    int len = snprintf(text, sizeof text, MERGE_STATE_MAGIC "\nruns %d\ndigest %016llx\n", n,
                       (unsigned long long)digest);
    char *tmp;
    int fd = mtl_tmp_create(state, &tmp, err);
    if (fd < 0) return -1;
    if (mtl_write_all(fd, text, (size_t)len, state, err) < 0) {
        close(fd);
        unlink(tmp);
        free(tmp);
        return -1;
    }
    return mtl_commit_tmp(fd, tmp, state, err);
}

/* 1 when dir/sweep.h5 was merged from dir/runs and neither changed since. */
static int merge_current(const char *dir)
{
    char *runs_dir = join_path(dir, "runs"), *merged = join_path(dir, MERGED_NAME),
         *state = join_path(dir, MERGE_STATE_NAME);
    uint64_t now, last;
    int n, cur = runs_dir && merged && state && read_merge_state(state, &last, &n) == 0 &&
                 folder_digest(runs_dir, merged, &now, NULL) == 0 && now == last;
    free(runs_dir);
    free(merged);
    free(state);
    return cur;
}

/* Moves dir/MERGED_NAME, which cannot be read, into dir/bad/ with a warning. */
static int set_aside_merged(const char *dir, const mtl_err *why, FILE *log, mtl_err *err)
{
    char *to;
    if (move_aside(dir, MERGED_NAME, &to, err) < 0) return -1;
    if (log)
        fprintf(log, "warning: %s; moved to %s (its runs that are not in runs/ are only there now)\n", why->msg,
                to);
    free(to);
    return 0;
}

/* Reads the run files and then the runs of the merged file that are in no run file. */
static int read_for_merge(const char *dir, const char *runs_dir, const char *merged, FILE *log, run_list *all,
                          mtl_err *err)
{
    name_list files = {NULL, 0, 0};
    struct stat st;
    int rc = 0;
    if (stat(runs_dir, &st) == 0) rc = list_results(runs_dir, 1, 1, &files, err);
    int has_merged = lstat(merged, &st) == 0;
    char *mp = has_merged ? strdup(merged) : NULL;
    if (rc == 0 && has_merged && (!mp || (files.n == files.cap && name_list_grow(&files) < 0)))
        rc = mtl_fail(err, "%s: out of memory", dir);
    if (rc == 0 && has_merged) files.v[files.n++] = mp, mp = NULL;
    free(mp);
    file_result *res = rc == 0 ? calloc((size_t)files.n + 1, sizeof *res) : NULL;
    id_set seen = {NULL, 0, 0};
    if (rc == 0 && !res) rc = mtl_fail(err, "%s: out of memory", dir);
    if (rc == 0) rc = read_files((const char *const *)files.v, files.n, &seen, res, err);
    if (rc == 0 && has_merged && res[files.n - 1].rc != 0) {
        mtl_err why;
        result_why(&res[files.n - 1], &why);
        rc = set_aside_merged(dir, &why, log, err);
        run_list_free(&res[files.n - 1].runs);
        res[files.n - 1].rc = 0;
    }
    if (rc == 0) rc = collect(res, files.n, all, err);
    free_results(res, files.n);
    id_set_free(&seen);
    name_list_free(&files);
    return rc;
}

int results_merge_dir(const char *dir, FILE *log, int *n, int *unchanged, mtl_err *err)
{
    *n = 0;
    *unchanged = 0;
    char *runs_dir = join_path(dir, "runs"), *merged = join_path(dir, MERGED_NAME),
         *state = join_path(dir, MERGE_STATE_NAME);
    run_list all = {NULL, 0, 0};
    int rc = -1, lock = -1, last_n = 0;
    uint64_t now = 0, last = 0;
    if (!runs_dir || !merged || !state) {
        mtl_fail(err, "%s: out of memory", dir);
        goto done;
    }
    /* the lock of train --out: no run added to the merged file meanwhile is lost */
    if ((lock = lock_target(merged, err)) < 0) goto done;
    if (folder_digest(runs_dir, merged, &now, err) < 0) goto done;
    if (read_merge_state(state, &last, &last_n) == 0 && last == now) {
        *n = last_n;
        *unchanged = 1;
        rc = 0;
        goto done;
    }
    if (read_for_merge(dir, runs_dir, merged, log, &all, err) < 0) goto done;
    if (results_write_all(merged, all.v, all.n, err) < 0) goto done;
    *n = all.n;
    /* a merge whose state cannot be recorded is done again next time: not an error */
    if (folder_digest(runs_dir, merged, &now, err) == 0) write_merge_state(state, now, all.n, NULL);
    rc = 0;
done:
    if (lock >= 0) close(lock);
    run_list_free(&all);
    free(runs_dir);
    free(merged);
    free(state);
    return rc;
}
