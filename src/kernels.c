#include "kernels.h"

#include <string.h>

/* exp(x) for x in [-20, 0]: 2^n * p(r), r = x - n ln2, degree-6 Taylor polynomial. */
static inline float exp_neg(float x)
{
    const float log2e = 1.44269504f, ln2_hi = 0.693145752f, ln2_lo = 1.42860677e-6f;
    /* round to nearest by the 1.5 * 2^23 trick (vectorises, unlike roundf) */
    float n = (x * log2e + 12582912.0f) - 12582912.0f;
    float r = (x - n * ln2_hi) - n * ln2_lo;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int bits = ((int)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

static inline float tanh_v(float x)
{
    float ax = x < 0 ? -x : x;
    ax = ax < 9.0f ? ax : 9.0f; /* NaN becomes 9 here, so no NaN reaches exp_neg's int conversion */
    float e = exp_neg(-2.0f * ax);
    float big = (1.0f - e) / (1.0f + e);
    float x2 = ax * ax;
    float small = ax * (1.0f + x2 * (-1.0f / 3.0f + x2 * (2.0f / 15.0f + x2 * (-17.0f / 315.0f))));
    float r = ax < 0.125f ? small : big;
    r = x < 0 ? -r : r;
    return x == x ? r : x; /* NaN in, NaN out */
}

float mtl_tanhf(float x) { return tanh_v(x); }

#define SEQ(buf, c, r, t, R, Wp) ((buf) + (((size_t)(c) * (R) + (r)) * (Wp) + PAD + (t)) * TB)

/* Register blocks: CO_BLOCK output channels x four time steps of accumulators, so that each
 * input vector loaded serves CO_BLOCK multiply-adds and each weight four. The kernels are
 * specialised on the tap count k (10 and 3 in both networks) and on the block (5 channels,
 * or 1 for the single-channel last layer) so that every loop below unrolls and the
 * accumulators stay in registers; other shapes take the same code with run-time bounds. */
#define CO_BLOCK 5
#define ALWAYS_INLINE inline __attribute__((always_inline))

#define DISPATCH(BLOCK, call)                                                                                   \
    do {                                                                                                        \
        if (nb == BLOCK && k == 10) call(BLOCK, 10);                                                            \
        else if (nb == BLOCK && k == 3) call(BLOCK, 3);                                                         \
        else if (nb == 1 && k == 10) call(1, 10);                                                               \
        else if (nb == 1 && k == 3) call(1, 3);                                                                 \
        else call(nb, k);                                                                                       \
    } while (0)

/* the weight gradient keeps k accumulators per channel: blocks of two channels */
#define WG_BLOCK 2

static int block_of(int n, int block) { return n % block == 0 ? block : 1; }

/* out[co0 .. co0+nb) of one row, four time steps at a time */
static ALWAYS_INLINE void conv_fwd_block(const float *restrict in, int cin, int R, int r0, int r1, int W,
                                         const float *restrict w, const float *restrict b, int co0, const int nb,
                                         const int k, int use_tanh, float *restrict out)
{
    const int Wp = SEQ_STRIDE(W), pl = (k - 1) / 2;
    const size_t wstride = (size_t)cin * k;
    for (int r = r0; r < r1; r++)
        for (int t = 0; t < W; t += 4) {
            const int nq = W - t < 4 ? W - t : 4;
            float acc[CO_BLOCK][4][TB]; /* unrolled, so that it lives in registers from the start */
#pragma GCC unroll 8
            for (int c = 0; c < nb; c++)
#pragma GCC unroll 4
                for (int q = 0; q < 4; q++)
#pragma omp simd
                    for (int l = 0; l < TB; l++) acc[c][q][l] = b[co0 + c];
            for (int ci = 0; ci < cin; ci++) {
                const float *wr = w + (size_t)co0 * wstride + (size_t)ci * k;
                const float *src = SEQ(in, ci, r, t - pl, R, Wp);
#pragma GCC unroll 16
                for (int j = 0; j < k; j++)
#pragma GCC unroll 8
                    for (int c = 0; c < nb; c++) {
                        const float wv = wr[c * wstride + j];
#pragma GCC unroll 4
                        for (int q = 0; q < 4; q++)
#pragma omp simd
                            for (int l = 0; l < TB; l++) acc[c][q][l] += wv * src[(j + q) * TB + l];
                    }
            }
            for (int c = 0; c < nb; c++)
                for (int q = 0; q < nq; q++) {
                    float *dst = SEQ(out, co0 + c, r, t + q, R, Wp);
                    if (use_tanh) {
#pragma omp simd
                        for (int l = 0; l < TB; l++) dst[l] = tanh_v(acc[c][q][l]);
                    } else {
#pragma omp simd
                        for (int l = 0; l < TB; l++) dst[l] = acc[c][q][l];
                    }
                }
        }
}

void conv2d_forward_rows(const float *restrict in, int cin, int R, int r0, int r1, int W, const float *restrict w,
                         const float *restrict b, int cout, int k, int use_tanh, float *restrict out)
{
    const int nb = block_of(cout, CO_BLOCK);
    for (int co0 = 0; co0 < cout; co0 += nb) {
#define FWD(NB, K) conv_fwd_block(in, cin, R, r0, r1, W, w, b, co0, NB, K, use_tanh, out)
        DISPATCH(CO_BLOCK, FWD);
#undef FWD
    }
}

void conv2d_forward(const float *restrict in, int cin, int R, int W, const float *restrict w,
                    const float *restrict b, int cout, int k, int use_tanh, float *restrict out)
{
    conv2d_forward_rows(in, cin, R, 0, R, W, w, b, cout, k, use_tanh, out);
}

void seq_tanh_rows(float *restrict buf, int c, int R, int r0, int r1, int W)
{
    const int Wp = SEQ_STRIDE(W);
    for (int ch = 0; ch < c; ch++)
        for (int r = r0; r < r1; r++) {
            float *row = buf + (((size_t)ch * R + r) * Wp + PAD) * TB;
#pragma omp simd
            for (int j = 0; j < W * TB; j++) row[j] = tanh_v(row[j]);
        }
}

/* per-lane weight gradients of output channels co0 .. co0+nb:
 * gw[co][ci][j] = sum_r sum_t dz[co][r][t] in[ci][r][t + j - pl] */
static ALWAYS_INLINE void conv_wgrad_block(const float *restrict in, int cin, int R, int W,
                                           const float *restrict dz, int co0, const int nb, const int k,
                                           float *restrict gw_lanes)
{
    const int Wp = SEQ_STRIDE(W), pl = (k - 1) / 2;
    for (int ci = 0; ci < cin; ci++) {
        float acc[WG_BLOCK][2 * PAD + 1][TB]; /* fixed size: a VLA would live in memory */
        for (int c = 0; c < nb; c++)
            for (int j = 0; j < k; j++)
                for (int l = 0; l < TB; l++) acc[c][j][l] = 0;
        for (int r = 0; r < R; r++)
            for (int t = 0; t < W; t++) {
                const float *src = SEQ(in, ci, r, t - pl, R, Wp);
#pragma GCC unroll 16
                for (int j = 0; j < k; j++)
#pragma GCC unroll 8
                    for (int c = 0; c < nb; c++) {
                        const float *d = SEQ(dz, co0 + c, r, t, R, Wp);
#pragma omp simd
                        for (int l = 0; l < TB; l++) acc[c][j][l] += d[l] * src[j * TB + l];
                    }
            }
        for (int c = 0; c < nb; c++) {
            float *gw = gw_lanes + ((size_t)(co0 + c) * cin + ci) * k * TB;
            for (int j = 0; j < k; j++)
                for (int l = 0; l < TB; l++) gw[j * TB + l] = acc[c][j][l];
        }
    }
}

/* input gradients of channels ci0 .. ci0+nb, four steps s at once:
 * din[ci][r][s] = sum_co sum_j w[co][ci][j] dz[co][r][s - j + pl], reading the zero
 * padding of dz instead of testing bounds */
static ALWAYS_INLINE void conv_dgrad_block(int cin, int R, int W, const float *restrict w, int cout,
                                           const float *restrict dz, int ci0, const int nb, const int k,
                                           float *restrict din)
{
    const int Wp = SEQ_STRIDE(W), pl = (k - 1) / 2;
    for (int r = 0; r < R; r++)
        for (int s = 0; s < W; s += 4) {
            const int nq = W - s < 4 ? W - s : 4;
            float acc[CO_BLOCK][4][TB];
            for (int c = 0; c < nb; c++)
                for (int q = 0; q < 4; q++)
                    for (int l = 0; l < TB; l++) acc[c][q][l] = 0;
            for (int co = 0; co < cout; co++) {
                const float *wr = w + ((size_t)co * cin + ci0) * k;
                const float *d = SEQ(dz, co, r, s + pl, R, Wp);
#pragma GCC unroll 16
                for (int j = 0; j < k; j++)
#pragma GCC unroll 8
                    for (int c = 0; c < nb; c++) {
                        const float wv = wr[c * k + j];
#pragma GCC unroll 4
                        for (int q = 0; q < 4; q++)
#pragma omp simd
                            for (int l = 0; l < TB; l++) acc[c][q][l] += wv * d[(q - j) * TB + l];
                    }
            }
            for (int c = 0; c < nb; c++)
                for (int q = 0; q < nq; q++) {
                    float *dst = SEQ(din, ci0 + c, r, s + q, R, Wp);
                    for (int l = 0; l < TB; l++) dst[l] = acc[c][q][l];
                }
        }
}

void conv2d_backward(const float *restrict in, int cin, int R, int W, const float *restrict w, int cout, int k,
                     const float *restrict out, float *restrict dout, float *restrict gw_lanes,
                     float *restrict gb_lanes, float *restrict din)
{
    const int Wp = SEQ_STRIDE(W);
    /* through tanh: dz = dy (1 - y^2); the padding of dout stays zero */
    for (int co = 0; co < cout; co++) {
        float *gb = gb_lanes + (size_t)co * TB;
        for (int l = 0; l < TB; l++) gb[l] = 0;
        for (int r = 0; r < R; r++)
            for (int t = 0; t < W; t++) {
                float *d = SEQ(dout, co, r, t, R, Wp);
                const float *y = SEQ(out, co, r, t, R, Wp);
#pragma omp simd
                for (int l = 0; l < TB; l++) {
                    d[l] *= 1.0f - y[l] * y[l];
                    gb[l] += d[l];
                }
            }
    }
    int nb = block_of(cout, WG_BLOCK);
    for (int co0 = 0; co0 < cout; co0 += nb) {
#define WGRAD(NB, K) conv_wgrad_block(in, cin, R, W, dout, co0, NB, K, gw_lanes)
        DISPATCH(WG_BLOCK, WGRAD);
#undef WGRAD
    }
    if (!din) return;
    nb = block_of(cin, CO_BLOCK);
    for (int ci0 = 0; ci0 < cin; ci0 += nb) {
#define DGRAD(NB, K) conv_dgrad_block(cin, R, W, w, cout, dout, ci0, NB, K, din)
        DISPATCH(CO_BLOCK, DGRAD);
#undef DGRAD
    }
}

/* Dense layers keep DN_BLOCK independent accumulators (outputs, or inputs for the input
 * gradient), enough to cover the multiply-add latency; each sums in the fixed order i (or o)
 * = 0, 1, ..., so a block's results do not depend on its neighbours. */
#define DN_BLOCK 8

void dense_forward(const float *restrict in, int nin, const float *restrict w, const float *restrict b, int nout,
                   int use_tanh, float *restrict out)
{
    for (int o0 = 0; o0 < nout; o0 += DN_BLOCK) {
        const int no = nout - o0 < DN_BLOCK ? nout - o0 : DN_BLOCK;
        float acc[DN_BLOCK][TB];
        for (int c = 0; c < DN_BLOCK; c++)
            for (int l = 0; l < TB; l++) acc[c][l] = c < no ? b[o0 + c] : 0.0f;
        for (int i = 0; i < nin; i++) {
            const float *x = in + (size_t)i * TB;
#pragma GCC unroll 8
            for (int c = 0; c < DN_BLOCK; c++) {
                const float wv = c < no ? w[(size_t)(o0 + c) * nin + i] : 0.0f;
#pragma omp simd
                for (int l = 0; l < TB; l++) acc[c][l] += wv * x[l];
            }
        }
        for (int c = 0; c < no; c++) {
            float *dst = out + (size_t)(o0 + c) * TB;
            if (use_tanh) {
#pragma omp simd
                for (int l = 0; l < TB; l++) dst[l] = tanh_v(acc[c][l]);
            } else {
                for (int l = 0; l < TB; l++) dst[l] = acc[c][l];
            }
        }
    }
}

void dense_backward(const float *restrict in, int nin, const float *restrict w, int nout, int use_tanh,
                    const float *restrict out, float *restrict dout, float *restrict gw_lanes,
                    float *restrict gb_lanes, float *restrict din)
{
    for (int o = 0; o < nout; o++) {
        float *d = dout + (size_t)o * TB;
        if (use_tanh) {
            const float *y = out + (size_t)o * TB;
#pragma omp simd
            for (int l = 0; l < TB; l++) d[l] *= 1.0f - y[l] * y[l];
        }
        for (int l = 0; l < TB; l++) gb_lanes[(size_t)o * TB + l] = d[l];
        if (!gw_lanes) continue;
        float *gw = gw_lanes + (size_t)o * nin * TB;
        for (int i = 0; i < nin; i++)
#pragma omp simd
            for (int l = 0; l < TB; l++) gw[(size_t)i * TB + l] = d[l] * in[(size_t)i * TB + l];
    }
    if (!din) return;
    for (int i0 = 0; i0 < nin; i0 += DN_BLOCK) {
        const int ni = nin - i0 < DN_BLOCK ? nin - i0 : DN_BLOCK;
        float acc[DN_BLOCK][TB];
        for (int c = 0; c < DN_BLOCK; c++)
            for (int l = 0; l < TB; l++) acc[c][l] = 0;
        for (int o = 0; o < nout; o++) {
            const float *d = dout + (size_t)o * TB;
#pragma GCC unroll 8
            for (int c = 0; c < DN_BLOCK; c++) {
                const float wv = c < ni ? w[(size_t)o * nin + i0 + c] : 0.0f;
#pragma omp simd
                for (int l = 0; l < TB; l++) acc[c][l] += wv * d[l];
            }
        }
        for (int c = 0; c < ni; c++)
            for (int l = 0; l < TB; l++) din[(size_t)(i0 + c) * TB + l] = acc[c][l];
    }
}

void dense_wgrad_sum(const float *restrict in, int nin, const float *restrict dz, int nout, float *restrict inT,
                     float *restrict gw)
{
    /* inT [TB][ninp], rows padded to whole vectors of DW_VEC */
    enum { DW_VEC = 16, DW_OUT = 8 };
    const int ninp = (nin + DW_VEC - 1) / DW_VEC * DW_VEC;
    for (int l = 0; l < TB; l++) {
        for (int i = 0; i < nin; i++) inT[(size_t)l * ninp + i] = in[(size_t)i * TB + l];
        for (int i = nin; i < ninp; i++) inT[(size_t)l * ninp + i] = 0.0f;
    }
    /* DW_OUT outputs x DW_VEC inputs of accumulators; every load of inT serves DW_OUT
     * multiply-adds, the lanes are summed in order l = 0, 1, ... */
    for (int o0 = 0; o0 < nout; o0 += DW_OUT) {
        const int no = nout - o0 < DW_OUT ? nout - o0 : DW_OUT;
        for (int i0 = 0; i0 < ninp; i0 += DW_VEC) {
            float acc[DW_OUT][DW_VEC];
            for (int k = 0; k < DW_OUT; k++)
                for (int v = 0; v < DW_VEC; v++) acc[k][v] = 0.0f;
            for (int l = 0; l < TB; l++) {
                const float *x = inT + (size_t)l * ninp + i0;
#pragma GCC unroll 8
                for (int k = 0; k < DW_OUT; k++) {
                    const float d = k < no ? dz[(size_t)(o0 + k) * TB + l] : 0.0f;
#pragma omp simd
                    for (int v = 0; v < DW_VEC; v++) acc[k][v] += d * x[v];
                }
            }
            const int nv = nin - i0 < DW_VEC ? nin - i0 : DW_VEC;
            for (int k = 0; k < no; k++) {
                float *dst = gw + (size_t)(o0 + k) * nin + i0;
                if (nv == DW_VEC) {
#pragma omp simd
                    for (int v = 0; v < DW_VEC; v++) dst[v] = acc[k][v];
                } else {
                    for (int v = 0; v < nv; v++) dst[v] = acc[k][v];
                }
            }
        }
    }
}
