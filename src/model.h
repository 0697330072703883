/* The two networks of SPEC section 3, each with two heads, over tiles of TB samples (see
 * kernels.h). Both are five k x 1 convolutions (10, 10, 10, 10 filters of 10 steps, then 1
 * filter of 3), flatten, dropout, dense 100 tanh, and the heads:
 *   dcnn   Li, Ding & Sun 2018 as published: one input channel of R = 14 rows (sensors);
 *          every sensor keeps its own row of feature maps; W x 14 values reach the dense
 *          layer; Xavier-normal weights.
 *   cnn1d  the sensors are the 14 input channels of 1-D convolutions (R = 1), so the first
 *          layer mixes them and W values reach the dense layer; Xavier-uniform weights.
 *
 * Parameters live in one flat float buffer, gradients in a second with the same layout:
 *   conv1 w[10][C0][10] b[10] (C0 = 1 dcnn, 14 cnn1d), conv2..4 w[10][10][10] b[10],
 *   conv5 w[1][10][3] b[1], fc w[100][R*W] b[100], rul w[1][100] b[1], health w[3][100] b[3],
 *   then the weighting method's own parameters (n_extra floats, e.g. uw's s_r, s_h). */
#ifndef MTL_MODEL_H
#define MTL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"
#include "profile.h"
#include "util.h"

#define MODEL_CONVS 5
#define MODEL_CLASSES 3

typedef enum { MODEL_DCNN, MODEL_CNN1D } model_kind;

/* "dcnn" / "cnn1d" */
const char *model_name(model_kind k);
/* 0 and *k set when name is a model's name, -1 otherwise. */
int model_parse(const char *name, model_kind *k);

typedef struct {
    model_kind kind;
    int W, features, filters, kernel, kernel_out, hidden;
    int rows;          /* rows of every feature map: 14 (dcnn) or 1 (cnn1d) */
    int flat;          /* rows * W: inputs of the dense layer */
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
    float *mask;                  /* [flat][TB] dropout multipliers */
    float *xd;                    /* [flat][TB] flattened conv output after dropout */
    float *h;                     /* [hidden][TB] */
    float *yhat;                  /* [TB] */
    float *logits;                /* [3][TB] */
    float *mem;
} tile_acts;

/* Per-thread scratch of the backward pass. dyhat and dlogits are set by the caller, and
 * fc_sum: when it is set, the dense layer's weight gradient goes there summed over the lanes
 * ([hidden][flat], see dense_wgrad_sum); when it is NULL, the gradient is not formed (the
 * caller forms it from the pre-activation gradients left in dh, [hidden][TB], and the
 * inputs, model_dense_inputs_by_lane). Its per-lane part of `lanes` is never written. */
typedef struct {
    float *dseq[2];
    float *dxd, *dh, *dh2;
    float *dyhat, *dlogits;
    float *lanes;   /* [n_params][TB] per-lane gradients */
    float *fc_sum;
    float *xT;      /* scratch of the dense weight gradient: [TB][flat rounded up to 16] */
    float *mem;
} tile_grads;

int model_init(model *m, model_kind kind, int W, float dropout, size_t n_extra, mtl_err *err);
/* Xavier weights (normal for dcnn, uniform for cnn1d), zero biases, from counter-based
 * random numbers keyed by seed. */
void model_init_params(const model *m, float *params, uint64_t seed);

/* Floating-point operations per sample (a multiply-add counts 2): the forward pass, or with
 * train set the training step (forward, weight gradients, input gradients but the first
 * layer's), as the kernels compute them. */
double model_flops(const model *m, int train);

int tile_acts_alloc(const model *m, tile_acts *a, mtl_err *err);
void tile_acts_free(tile_acts *a);
int tile_grads_alloc(const model *m, tile_grads *g, mtl_err *err);
void tile_grads_free(tile_grads *g);

/* Copies n <= TB windows (rows x[start[i] .. start[i]+W) of `features` floats) into the input
 * tile, one feature per row (dcnn) or per channel (cnn1d): the same memory layout; lanes
 * n..TB-1 are zero. */
void model_gather(const model *m, const float *x, const int *start, int n, tile_acts *a);

/* Forward pass of a gathered tile. With train set, dropout masks are drawn from
 * (seed, epoch, sample id, position); ids[] are the dataset indices of the lanes. clock:
 * NULL, or where each layer's time goes (profile.h; the caller has started it). */
void model_forward(const model *m, const float *params, tile_acts *a, int train, uint64_t seed, int epoch,
                   const int *ids, phase_clock *clock);
/* Backward pass from g->dyhat, g->dlogits to per-lane parameter gradients in g->lanes
 * (network part only; the weighting part of the lanes is left to the caller), but the dense
 * layer's weights (see fc_sum). clock as for model_forward. */
void model_backward(const model *m, const float *params, tile_acts *a, tile_grads *g, phase_clock *clock);
/* The floating-point operations per sample of one phase of a training step (the sum over
 * the phases is model_flops(m, 1)); 0 for the phases that the count leaves out. */
double model_phase_flops(const model *m, phase_id p);

/* Per-sample task losses of lane l: squared error and cross-entropy. */
void model_sample_losses(const tile_acts *a, int l, float y, int label, double *lr, double *lh);
/* The gradients of those losses with respect to the outputs of lanes 0..n-1, unweighted
 * and per sample: dyhat[l] = yhat - y[l] (half the derivative of the squared error) and
 * dlogits[c][l] = softmax(logits)_c - [c == label[l]] (of the cross-entropy); lanes n..TB-1
 * get 0. y and label hold the targets of the lanes. */
void model_loss_grads(const tile_acts *a, int n, const float *y, const int *label, float *dyhat, float *dlogits);
/* Per-task gradients on the dense layer's pre-activations, [2][hidden][TB]: from output
 * gradients dyhat [TB] (RUL) and dlogits [3][TB] (health) through each task's head alone,
 * delta_t[o][l] = (1 - h_o^2) (head_t^T u_t)_o. The gradient of task t on the dense weights
 * W[o][i] is then the sum over lanes of delta_t[o][l] x[i][l] (GradNorm's task gradients). */
void model_task_dense_deltas(const model *m, const float *params, const tile_acts *a, const float *dyhat,
                             const float *dlogits, float *delta);
/* The dense layer's inputs x (after dropout) transposed to [TB][flat]. */
void model_dense_inputs_by_lane(const model *m, const tile_acts *a, float *xt);
/* Predicted class of lane l (argmax, ties to the lowest class). */
int model_argmax(const tile_acts *a, int l);

#endif
