/* The dcnn of SPEC section 3 with two heads, over tiles of TB samples (see kernels.h).
 *
 * Parameters live in one flat float buffer, gradients in a second with the same layout:
 *   conv1 w[10][14][10] b[10], conv2..4 w[10][10][10] b[10], conv5 w[1][10][3] b[1],
 *   fc w[100][W] b[100], rul w[1][100] b[1], health w[3][100] b[3],
 *   then the weighting method's own parameters (n_extra floats, e.g. uw's s_r, s_h). */
#ifndef MTL_MODEL_H
#define MTL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"
#include "util.h"

#define MODEL_CONVS 5
#define MODEL_CLASSES 3

typedef struct {
    int W, features, filters, kernel, kernel_out, hidden;
    float dropout;
    size_t off_cw[MODEL_CONVS], off_cb[MODEL_CONVS];
    int conv_cin[MODEL_CONVS], conv_cout[MODEL_CONVS], conv_k[MODEL_CONVS];
    size_t off_fw, off_fb, off_rw, off_rb, off_hw, off_hb;
    size_t n_net;      /* network parameters */
    size_t n_extra;    /* weighting parameters, after the network's */
    size_t n_params;   /* n_net + n_extra */
} model;

/* Activations of one tile, kept from forward to backward. */
typedef struct {
    float *seq[MODEL_CONVS + 1];  /* seq[0] input, seq[i] output of conv i */
    float *mask;                  /* [W][TB] dropout multipliers */
    float *xd;                    /* [W][TB] flattened conv output after dropout */
    float *h;                     /* [hidden][TB] */
    float *yhat;                  /* [TB] */
    float *logits;                /* [3][TB] */
    float *mem;
} tile_acts;

/* Per-thread scratch of the backward pass. dyhat and dlogits are set by the caller. */
typedef struct {
    float *dseq[2];
    float *dxd, *dh, *dh2;
    float *dyhat, *dlogits;
    float *lanes;   /* [n_params][TB] per-lane gradients */
    float *mem;
} tile_grads;

int model_init(model *m, int W, float dropout, size_t n_extra, mtl_err *err);
/* Xavier-uniform weights, zero biases, from counter-based random numbers keyed by seed. */
void model_init_params(const model *m, float *params, uint64_t seed);

int tile_acts_alloc(const model *m, tile_acts *a, mtl_err *err);
void tile_acts_free(tile_acts *a);
int tile_grads_alloc(const model *m, tile_grads *g, mtl_err *err);
void tile_grads_free(tile_grads *g);

/* Copies n <= TB windows (rows x[start[i] .. start[i]+W) of `features` floats) into the input
 * tile; lanes n..TB-1 are zero. */
void model_gather(const model *m, const float *x, const int *start, int n, tile_acts *a);

/* Forward pass of a gathered tile. With train set, dropout masks are drawn from
 * (seed, epoch, sample id, position); ids[] are the dataset indices of the lanes. */
void model_forward(const model *m, const float *params, tile_acts *a, int train, uint64_t seed, int epoch,
                   const int *ids);
/* Backward pass from g->dyhat, g->dlogits to per-lane parameter gradients in g->lanes
 * (network part only; the weighting part of the lanes is left to the caller). */
void model_backward(const model *m, const float *params, tile_acts *a, tile_grads *g);

/* Per-sample task losses of lane l: squared error and cross-entropy. */
void model_sample_losses(const tile_acts *a, int l, float y, int label, double *lr, double *lh);
/* Predicted class of lane l (argmax, ties to the lowest class). */
int model_argmax(const tile_acts *a, int l);

#endif
