#include "reduce.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

/* ---------------------------------------------------------------- float mode */

static int float_put_lanes(reduction *r, int t, size_t k0, size_t k1, const float *lanes)
{
    float *dst = r->tile + (size_t)t * r->n;
    for (size_t k = k0; k < k1; k++) {
        float acc = 0;
        for (int l = 0; l < TB; l++) acc += lanes[k * TB + l];
        dst[k] = acc;
    }
    return 0;
}

static int float_put_outer(reduction *r, int t, size_t k0, int nout, size_t n, const float *d, const float *xt)
{
    for (int o = 0; o < nout; o++) {
        float *restrict dst = r->tile + (size_t)t * r->n + k0 + (size_t)o * n;
        for (size_t i = 0; i < n; i++) dst[i] = 0.0f;
        for (int l = 0; l < TB; l++) {
            const float *restrict x = xt + (size_t)l * n;
            const float dl = d[(size_t)o * TB + l];
            for (size_t i = 0; i < n; i++) dst[i] += dl * x[i];
        }
    }
    return 0;
}

/* Values per block of the tile sums: a block's partial sums stay in L1 while the tiles
 * stream past, and the sums run along contiguous values (vectorised). */
#define SUM_BLOCK 1024

static int float_reduce(reduction *r, int ntiles, dist_ctx *dist, float *out)
{
    const size_t n = r->n;
    /* every value summed from 0 in tile order, 0, 1, ..., by one thread */
#pragma omp parallel for schedule(static)
    for (size_t k0 = 0; k0 < n; k0 += SUM_BLOCK) {
        const size_t k1 = n - k0 < SUM_BLOCK ? n : k0 + SUM_BLOCK;
        for (size_t k = k0; k < k1; k++) out[k] = 0.0f;
        for (int t = 0; t < ntiles; t++) {
            const float *restrict src = r->tile + (size_t)t * n;
            for (size_t k = k0; k < k1; k++) out[k] += src[k];
        }
    }
    return dist_sum_float(dist, out, n);
}

static int float_sum_pairs(reduction *r, const double *a, const double *b, int count, dist_ctx *dist, double out[2])
{
    (void)r;
    out[0] = out[1] = 0;
    for (int i = 0; i < count; i++) {
        out[0] += a[i];
        out[1] += b[i];
    }
    return dist_sum_double(dist, out, 2);
}

static const reduction_ops FLOAT_OPS = {
    .put_lanes = float_put_lanes, .put_outer = float_put_outer, .reduce = float_reduce,
    .sum_pairs = float_sum_pairs};

/* ---------------------------------------------------------------- exact mode */

/* Truncation of v * 2^bits to an integer: v scaled in float, which is exact (a power of two
 * whose product stays far inside the float range for |v| < limit), then converted to int64
 * directly; the same integer as scaling in double. */
static inline int64_t to_fixed(float v, float scale) { return (int64_t)(v * scale); }

static int exact_put_lanes(reduction *r, int t, size_t k0, size_t k1, const float *lanes)
{
    /* one range check over all lanes (false for NaN too), then truncation to fixed point,
     * which vectorises (llrint would not) */
    const float lim = (float)r->limit;
    int over = 0;
    for (size_t i = k0 * TB; i < k1 * TB; i++) over |= !(fabsf(lanes[i]) < lim);
    if (over) return 1;
    int64_t *dst = r->tile_fix + (size_t)t * r->n;
    const float scale = (float)r->scale;
    for (size_t k = k0; k < k1; k++) {
        int64_t acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int l = 0; l < TB; l++) acc += to_fixed(lanes[k * TB + l], scale);
        dst[k] = acc;
    }
    return 0;
}

static int exact_put_outer(reduction *r, int t, size_t k0, int nout, size_t n, const float *d, const float *xt)
{
    /* The range check without forming the products twice: rounding is monotonic, so the
     * largest |d_l x_i| over i is the rounded |d_l| max_i |x_i|; a NaN among the x fails it. */
    float xmax[TB];
    int nan = 0;
    for (int l = 0; l < TB; l++) {
        const float *restrict x = xt + (size_t)l * n;
        float mx = 0.0f;
        for (size_t i = 0; i < n; i++) {
            const float a = fabsf(x[i]);
            nan |= a != a;
            mx = a > mx ? a : mx;
        }
        xmax[l] = mx;
    }
    const float lim = (float)r->limit, scale = (float)r->scale;
    for (int o = 0; o < nout; o++) {
        int over = nan;
        for (int l = 0; l < TB; l++) over |= !(fabsf(d[(size_t)o * TB + l]) * xmax[l] < lim);
        if (over) return 1;
        int64_t *restrict dst = r->tile_fix + (size_t)t * r->n + k0 + (size_t)o * n;
        for (size_t i = 0; i < n; i++) dst[i] = 0;
        for (int l = 0; l < TB; l++) {
            const float *restrict x = xt + (size_t)l * n;
            const float dl = d[(size_t)o * TB + l];
#pragma omp simd
            for (size_t i = 0; i < n; i++) dst[i] += to_fixed(dl * x[i], scale);
        }
    }
    return 0;
}

static int exact_reduce(reduction *r, int ntiles, dist_ctx *dist, float *out)
{
    const size_t n = r->n;
#pragma omp parallel for schedule(static)
    for (size_t k0 = 0; k0 < n; k0 += SUM_BLOCK) {
        const size_t k1 = n - k0 < SUM_BLOCK ? n : k0 + SUM_BLOCK;
        int64_t *restrict dst = r->fix;
        for (size_t k = k0; k < k1; k++) dst[k] = 0;
        for (int t = 0; t < ntiles; t++) {
            const int64_t *restrict src = r->tile_fix + (size_t)t * n;
            for (size_t k = k0; k < k1; k++) dst[k] += src[k];
        }
    }
    if (dist_sum_int64(dist, r->fix, n)) return -1;
    for (size_t k = 0; k < n; k++) out[k] = (float)((double)r->fix[k] / r->scale);
    return 0;
}

static int exact_sum_pairs(reduction *r, const double *a, const double *b, int count, dist_ctx *dist, double out[2])
{
    int64_t fx[2] = {0, 0};
    int over = 0;
    for (int i = 0; i < count; i++) {
        if (!(fabs(a[i]) < r->limit && fabs(b[i]) < r->limit)) {
            over = 1;
        } else {
            fx[0] += (int64_t)(a[i] * r->scale);
            fx[1] += (int64_t)(b[i] * r->scale);
        }
    }
    if (dist_sum_int64(dist, fx, 2)) return -1;
    out[0] = (double)fx[0] / r->scale;
    out[1] = (double)fx[1] / r->scale;
    return over;
}

static const reduction_ops EXACT_OPS = {
    .put_lanes = exact_put_lanes, .put_outer = exact_put_outer, .reduce = exact_reduce,
    .sum_pairs = exact_sum_pairs};

/* ---------------------------------------------------------------- life cycle */

int reduction_init(reduction *r, int exact, int bits, size_t n, int tiles, mtl_err *err)
{
    memset(r, 0, sizeof *r);
    if (bits < 0 || bits > 62) return mtl_fail(err, "fixed point at 2^%d, expected 2^0 .. 2^62", bits);
    r->ops = exact ? &EXACT_OPS : &FLOAT_OPS;
    r->n = n;
    r->tiles = tiles;
    r->bits = bits;
    r->scale = ldexp(1.0, bits);
    size_t cells = (size_t)tiles * n;
    if (cells == 0) return 0;
    if (exact) {
        r->tile_fix = mtl_calloc(cells, sizeof(int64_t), err);
        r->fix = mtl_calloc(n, sizeof(int64_t), err);
        if (r->tile_fix && r->fix) return 0;
    } else {
        r->tile = mtl_calloc(cells, sizeof(float), err);
        if (r->tile) return 0;
    }
    reduction_free(r);
    return -1;
}

void reduction_free(reduction *r)
{
    free(r->tile);
    free(r->tile_fix);
    free(r->fix);
    r->tile = NULL;
    r->tile_fix = r->fix = NULL;
}

/* The largest per-sample magnitude whose fixed-point sum over a global batch stays below
 * 2^62, so that no partial sum can overflow int64. */
void reduction_begin(reduction *r, int batch) { r->limit = ldexp(1.0, 62 - r->bits) / batch; }

float *reduction_tile_floats(reduction *r, int t) { return r->tile ? r->tile + (size_t)t * r->n : NULL; }
