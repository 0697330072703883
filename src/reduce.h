/* Sums of per-sample values in a fixed order, as the training step needs them: each tile of
 * TB lanes is summed over its lanes, the tiles are summed in tile order, then the ranks
 * are summed by one allreduce. A reduction does it in one of two modes, chosen once when it
 * is created:
 *   float  float sums in lane and tile order: the same result for any number of threads;
 *   exact  every per-sample value rounded to a fixed-point int64 at 2^bits and summed
 *          exactly (--deterministic): the same result for any number of ranks too. A value
 *          of magnitude 2^(62 - bits) / B or more (B the global batch, see reduction_begin)
 *          cannot be represented: the call that meets it returns 1, and the step is lost.
 * A reduction holds n values per tile for `tiles` tiles.
 *
 *   reduction g;
 *   reduction_init(&g, exact, TRAIN_FIX_BITS, n, tiles, err);
 *   reduction_begin(&g, batch);                   // per step: the range of exact values
 *   ... per tile t (in parallel): reduction_put_lanes(&g, t, k0, k1, lanes) ...
 *   reduction_reduce(&g, ntiles, dist, out);      // tiles in order, then the ranks
 */
#ifndef MTL_REDUCE_H
#define MTL_REDUCE_H

#include <stddef.h>
#include <stdint.h>

#include "dist.h"
#include "util.h"

typedef struct reduction reduction;

typedef struct {
    int (*put_lanes)(reduction *r, int t, size_t k0, size_t k1, const float *lanes);
    int (*put_outer)(reduction *r, int t, size_t k0, int nout, size_t n, const float *d, const float *xt);
    int (*reduce)(reduction *r, int ntiles, dist_ctx *dist, float *out);
    int (*sum_pairs)(reduction *r, const double *a, const double *b, int count, dist_ctx *dist, double out[2]);
} reduction_ops;

struct reduction {
    const reduction_ops *ops;  /* the mode's */
    size_t n;                  /* values per tile */
    int tiles;
    double scale;              /* 2^bits (exact mode) */
    double limit;              /* magnitude limit of one value (exact mode), set by reduction_begin */
    int bits;
    float *tile;               /* [tiles][n] (float mode) */
    int64_t *tile_fix;         /* [tiles][n] (exact mode) */
    int64_t *fix;              /* [n] (exact mode) */
};

/* exact: fixed point at 2^bits; tiles may be 0 for a reduction used by reduction_sum_pairs only. */
int reduction_init(reduction *r, int exact, int bits, size_t n, int tiles, mtl_err *err);
void reduction_free(reduction *r);
/* Sets the range of exact values for a global batch of `batch` samples. */
void reduction_begin(reduction *r, int batch);
/* Tile t's float sums, for a pass that sums over lanes itself (float mode); NULL in exact
 * mode, where the lanes go through reduction_put_lanes. */
float *reduction_tile_floats(reduction *r, int t);

/* Tile t's values k in [k0, k1) are the sums over the lanes of lanes[k * TB + l]. Returns 1
 * when a value is out of range or not finite (exact mode), else 0. */
static inline int reduction_put_lanes(reduction *r, int t, size_t k0, size_t k1, const float *lanes)
{
    return r->ops->put_lanes(r, t, k0, k1, lanes);
}
/* Tile t's values k0 + o n + i, o in [0, nout), i in [0, n), are the sums over the lanes l
 * of d[o * TB + l] * xt[l * n + i]: a matrix of outer products summed over the lanes, e.g.
 * a dense layer's weight gradient from its pre-activation gradients d [nout][TB] and its
 * inputs by lane xt [TB][n]; no product is stored. In exact mode each product is the float
 * one that per-lane values would hold, so the sums are those of put_lanes on them; in float
 * mode the products may be fused into the sums. Returns as put_lanes; after a 1 the tile's
 * values are unspecified (the step is lost). */
static inline int reduction_put_outer(reduction *r, int t, size_t k0, int nout, size_t n, const float *d,
                                      const float *xt)
{
    return r->ops->put_outer(r, t, k0, nout, n, d, xt);
}
/* out[0..n) = the sum over tiles 0..ntiles-1 in order, then over the ranks of dist.
 * Returns 0, or -1 on an MPI error. */
static inline int reduction_reduce(reduction *r, int ntiles, dist_ctx *dist, float *out)
{
    return r->ops->reduce(r, ntiles, dist, out);
}
/* out = the sums over samples 0..count-1 (in order) and over the ranks of a[] and of b[], in
 * double (float mode) or exactly (exact mode). Returns 0, 1 when a value is out of range
 * (the sums are then still formed and shared), -1 on an MPI error. */
static inline int reduction_sum_pairs(reduction *r, const double *a, const double *b, int count, dist_ctx *dist,
                                      double out[2])
{
    return r->ops->sum_pairs(r, a, b, count, dist, out);
}

#endif
