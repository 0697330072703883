/* Forward and backward kernels of the dcnn, on tiles of TB samples.
 *
 * Layout: samples are the innermost (SIMD) dimension. A feature map with C channels of
 * R rows (sensors) over W time steps is stored as [C][R][SEQ_STRIDE(W)][TB], the data at
 * time index PAD + t and zeros around it (PAD slots on the left, PAD_R on the right), so a
 * 'same' convolution with kernel up to 2*PAD+1, computed four time steps at a time, reads
 * padding without branches. A vector activation is [n][TB].
 * Every lane (sample) goes through exactly the same arithmetic, so a sample's results
 * do not depend on which tile, thread or rank computes it.
 *
 * Weight gradients are written per lane (`*_lanes`: [param][TB]) and summed over lanes by
 * the caller, which keeps per-sample gradients available for exact (fixed-point) sums. */
#ifndef MTL_KERNELS_H
#define MTL_KERNELS_H

#define TB 16
#define PAD 5
#define PAD_R (PAD + 3)
#define SEQ_STRIDE(W) ((W) + PAD + PAD_R)

/* 2-D convolution with k x 1 kernels (k time steps, one row), weights w[cout][cin][k]
 * shared by the R rows: out[co][r] = act(b[co] + sum_ci conv_t(w[co][ci], in[ci][r])),
 * act = tanh when use_tanh, else identity; 'same' padding in time, k <= 2*PAD+1. Rows never
 * mix: with R = 14 sensors this is the dcnn's per-sensor convolution, with R = 1 (sensors as
 * channels) the cnn1d's 1-D one. The sum is formed in the same order either way, so
 * conv2d_forward(..., 0, out) then seq_tanh_rows(out, ...) gives the bits of use_tanh = 1. */
void conv2d_forward(const float *in, int cin, int R, int W, const float *w, const float *b, int cout, int k,
                    int use_tanh, float *out);
/* conv2d_forward on rows r0 .. r1-1 of the R only, 0 <= r0 <= r1 <= R (the others are not
 * written). */
void conv2d_forward_rows(const float *in, int cin, int R, int r0, int r1, int W, const float *w, const float *b,
                         int cout, int k, int use_tanh, float *out);
/* buf = tanh(buf) over the data (not the padding) of rows r0 .. r1-1 of a feature map of c
 * channels, 0 <= r0 <= r1 <= R. */
void seq_tanh_rows(float *buf, int c, int R, int r0, int r1, int W);
/* dout: dL/d(out) on entry, overwritten with dL/d(pre-activation). Adds nothing: sets
 * gw_lanes [cout*cin*k][TB] and gb_lanes [cout][TB] (summed over rows and time, per lane);
 * din (feature-map layout, may be NULL) is set. */
void conv2d_backward(const float *in, int cin, int R, int W, const float *w, int cout, int k, const float *out,
                     float *dout, float *gw_lanes, float *gb_lanes, float *din);

/* out[o] = act(b[o] + sum_i w[o][i] in[i]); act = tanh when use_tanh, else identity. */
void dense_forward(const float *in, int nin, const float *w, const float *b, int nout, int use_tanh, float *out);
/* dout as for conv2d_backward (converted in place when use_tanh); gw_lanes [nout*nin][TB]
 * per lane, or NULL to leave the weight gradient to dense_wgrad_sum; din may be NULL. */
void dense_backward(const float *in, int nin, const float *w, int nout, int use_tanh, const float *out,
                    float *dout, float *gw_lanes, float *gb_lanes, float *din);

/* The weight gradient of a dense layer summed over the lanes of a tile, lane 0 first:
 * gw[o][i] = sum_l dz[o][l] in[i][l], with dz the pre-activation gradient left in dout by
 * dense_backward. inT is scratch of (nin rounded up to a multiple of 16) * TB floats. The same values, in the same order,
 * whatever the thread; per-lane gradients (dense_backward's gw_lanes) are needed only for
 * exact fixed-point sums. */
void dense_wgrad_sum(const float *in, int nin, const float *dz, int nout, float *inT, float *gw);

/* Vectorisable tanh, absolute error below 2e-7 (1.1e-7 measured over [-20, 20]). */
float mtl_tanhf(float x);

#endif
