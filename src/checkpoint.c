/* Checkpoint files (format and contract in checkpoint.h). */
#define _POSIX_C_SOURCE 200809L
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char MAGIC[8] = "MTLCKPT";
#define BOM 0x01020304u

/* ------------------------------------------------------------------ encoding */

typedef struct {
    unsigned char *p;
    size_t n, cap;
    int oom;
} wbuf;

static void put(wbuf *b, const void *src, size_t n)
{
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q, b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void put_u32(wbuf *b, uint32_t v) { put(b, &v, sizeof v); }
static void put_u64(wbuf *b, uint64_t v) { put(b, &v, sizeof v); }
static void put_i64(wbuf *b, int64_t v) { put(b, &v, sizeof v); }
static void put_f64(wbuf *b, double v) { put(b, &v, sizeof v); }

static uint64_t config_key(const char *config) { return mtl_fnv1a(MTL_FNV_INIT, config, strnlen(config, CKPT_CONFIG_LEN)); }

int ckpt_encode(const checkpoint *c, unsigned char **buf, size_t *len, mtl_err *err)
{
    *buf = NULL;
    *len = 0;
    if (c->n_hist < 0 || (c->n_hist > 0 && !c->hist) || (c->method_len > 0 && !c->method_state) ||
        !c->params || !c->adam_m || !c->adam_v || !c->best)
        return mtl_fail(err, "checkpoint: incomplete state");
    wbuf b = {0};
    char config[CKPT_CONFIG_LEN] = {0};
    snprintf(config, sizeof config, "%s", c->config);
    put(&b, MAGIC, sizeof MAGIC);
    put_u32(&b, CKPT_VERSION);
    put_u32(&b, BOM);
    put_u64(&b, config_key(config));
    put(&b, config, sizeof config);
    put_i64(&b, c->epoch);
    put_i64(&b, c->step);
    put_f64(&b, c->lr);
    put_i64(&b, c->best_epoch);
    put_i64(&b, c->since_best);
    put_f64(&b, c->best_val);
    put_i64(&b, c->samples);
    put_f64(&b, c->train_time);
    put_f64(&b, c->comm_time);
    put_f64(&b, c->wall_s);
    put_f64(&b, c->w_rul);
    put_f64(&b, c->w_health);
    put_u64(&b, c->n_params);
    put_u64(&b, (uint64_t)c->n_hist);
    put_u64(&b, sizeof(run_epoch));
    put_u64(&b, c->method_len);
    size_t pb = c->n_params * sizeof(float);
    put(&b, c->params, pb);
    put(&b, c->adam_m, pb);
    put(&b, c->adam_v, pb);
    put(&b, c->best, pb);
    put(&b, c->hist, (size_t)c->n_hist * sizeof(run_epoch));
    put(&b, c->method_state, c->method_len);
    if (!b.oom) put_u64(&b, mtl_fnv1a(MTL_FNV_INIT, b.p, b.n));
    if (b.oom) {
        free(b.p);
        return mtl_fail(err, "checkpoint: out of memory");
    }
    *buf = b.p;
    *len = b.n;
    return 0;
}

/* ------------------------------------------------------------------ decoding */

typedef struct {
    const unsigned char *p;
    size_t n, at;
    int short_read;
} rbuf;

static void get(rbuf *b, void *dst, size_t n)
{
    if (b->short_read || n > b->n - b->at) {
        b->short_read = 1;
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, b->p + b->at, n);
    b->at += n;
}

static uint64_t get_u64(rbuf *b) { uint64_t v; get(b, &v, sizeof v); return v; }
static int64_t get_i64(rbuf *b) { int64_t v; get(b, &v, sizeof v); return v; }
static double get_f64(rbuf *b) { double v; get(b, &v, sizeof v); return v; }

/* A malloc'd copy of the next n bytes (NULL for n = 0 or when short). */
static void *get_copy(rbuf *b, size_t n, int *oom)
{
    if (n == 0 || b->short_read) return NULL;
    if (n > b->n - b->at) {
        b->short_read = 1;
        return NULL;
    }
    void *q = malloc(n);
    if (!q) {
        *oom = 1;
        return NULL;
    }
    get(b, q, n);
    return q;
}

void ckpt_free(checkpoint *c)
{
    free(c->params), free(c->adam_m), free(c->adam_v), free(c->best), free(c->hist), free(c->method_state);
    c->params = c->adam_m = c->adam_v = c->best = NULL;
    c->hist = NULL;
    c->method_state = NULL;
}

int ckpt_decode(const unsigned char *buf, size_t len, const char *config, const char *what, checkpoint *c,
                mtl_err *err)
{
    memset(c, 0, sizeof *c);
    const size_t fixed = sizeof MAGIC + 8 + 8 + CKPT_CONFIG_LEN + 16 * 8 + 8;
    if (len < fixed || memcmp(buf, MAGIC, sizeof MAGIC) != 0)
        return mtl_fail(err, "%s: not an mtlbench checkpoint", what);
    uint64_t sum;
    memcpy(&sum, buf + len - sizeof sum, sizeof sum);
    rbuf b = {.p = buf, .n = len - sizeof sum};
    char magic[8];
    uint32_t version, bom;
    get(&b, magic, sizeof magic);
    get(&b, &version, sizeof version);
    get(&b, &bom, sizeof bom);
    if (bom != BOM) return mtl_fail(err, "%s: checkpoint written on a machine of another byte order", what);
    if (version != CKPT_VERSION)
        return mtl_fail(err, "%s: checkpoint format %u, this mtlbench reads format %d", what, (unsigned)version,
                        CKPT_VERSION);
    if (mtl_fnv1a(MTL_FNV_INIT, buf, len - sizeof sum) != sum)
        return mtl_fail(err, "%s: checkpoint damaged (checksum mismatch)", what);
    uint64_t key = get_u64(&b);
    get(&b, c->config, sizeof c->config);
    c->config[CKPT_CONFIG_LEN - 1] = '\0';
    if (key != config_key(c->config)) return mtl_fail(err, "%s: checkpoint damaged (configuration key)", what);
    if (key != config_key(config) || strcmp(c->config, config) != 0) {
        mtl_fail(err, "%s is a checkpoint of another configuration (%s), not of this run (%s)", what, c->config,
                 config);
        return CKPT_FOREIGN;
    }
    c->epoch = (int)get_i64(&b);
    c->step = (long)get_i64(&b);
    c->lr = get_f64(&b);
    c->best_epoch = (int)get_i64(&b);
    c->since_best = (int)get_i64(&b);
    c->best_val = get_f64(&b);
    c->samples = (long)get_i64(&b);
    c->train_time = get_f64(&b);
    c->comm_time = get_f64(&b);
    c->wall_s = get_f64(&b);
    c->w_rul = get_f64(&b);
    c->w_health = get_f64(&b);
    uint64_t np = get_u64(&b), nh = get_u64(&b), row = get_u64(&b), ml = get_u64(&b);
    if (b.short_read) return mtl_fail(err, "%s: checkpoint truncated", what);
    if (row != sizeof(run_epoch))
        return mtl_fail(err, "%s: checkpoint written by another version of mtlbench (history rows)", what);
    size_t rest = b.n - b.at;
    if (np > rest / (4 * sizeof(float)) || nh > rest / sizeof(run_epoch) || ml > rest ||
        np * 4 * sizeof(float) + nh * sizeof(run_epoch) + ml != rest || c->epoch < 0 || nh != (uint64_t)c->epoch)
        return mtl_fail(err, "%s: checkpoint damaged (sizes)", what);
    c->n_params = (size_t)np;
    c->n_hist = (int)nh;
    c->method_len = (size_t)ml;
    int oom = 0;
    size_t pb = c->n_params * sizeof(float);
    c->params = get_copy(&b, pb, &oom);
    c->adam_m = get_copy(&b, pb, &oom);
    c->adam_v = get_copy(&b, pb, &oom);
    c->best = get_copy(&b, pb, &oom);
    c->hist = get_copy(&b, (size_t)c->n_hist * sizeof(run_epoch), &oom);
    c->method_state = get_copy(&b, c->method_len, &oom);
    if (oom || b.short_read) {
        ckpt_free(c);
        return mtl_fail(err, "%s: %s", what, oom ? "out of memory" : "checkpoint truncated");
    }
    return CKPT_OK;
}

/* ------------------------------------------------------------------ files */

int ckpt_write_file(const char *path, const unsigned char *buf, size_t len, mtl_err *err)
{
    char *tmp;
    int fd = mtl_tmp_create(path, &tmp, err);
    if (fd < 0) return -1;
    if (mtl_write_all(fd, buf, len, path, err)) {
        close(fd);
        unlink(tmp);
        free(tmp);
        return -1;
    }
    return mtl_commit_tmp(fd, tmp, path, err);
}

size_t ckpt_max_size(size_t n_params, int max_hist, size_t method_len)
{
    /* header, configuration, scalars and sizes (well under 1 KiB), the arrays, the checksum */
    return 4096 + n_params * 4 * sizeof(float) + (size_t)(max_hist > 0 ? max_hist : 0) * sizeof(run_epoch) +
           method_len;
}

int ckpt_read_file(const char *path, size_t cap, unsigned char **buf, size_t *len, mtl_err *err)
{
    *buf = NULL;
    *len = 0;
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT) return CKPT_MISSING;
        return mtl_fail(err, "%s: %s", path, strerror(errno));
    }
    char *p = mtl_read_regular(path, cap, len, err);
    if (!p) return -1;
    *buf = (unsigned char *)p;
    return CKPT_OK;
}
