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

#define SEQ(buf, c, t, Wp) ((buf) + ((size_t)(c) * (Wp) + PAD + (t)) * TB)

/* Kernels are specialised on the tap count k (10 and 3 in the dcnn) so that the tap
 * loops unroll and the accumulators stay in registers; other k take the same code with
 * a run-time k. */
#define DISPATCH_K(call_k)                                                                                      \
    switch (k) {                                                                                                \
    case 10: call_k(10); break;                                                                                 \
    case 3: call_k(3); break;                                                                                   \
    default: call_k(k); break;                                                                                  \
    }

/* Four output time steps at once: each weight is loaded once for four vectors, and four
 * independent accumulators hide the FMA latency. */
static inline void conv_fwd_k(const float *restrict in, int cin, int W, const float *restrict w,
                              const float *restrict b, int cout, const int k, float *restrict out)
{
    const int Wp = SEQ_STRIDE(W), pl = (k - 1) / 2;
    for (int co = 0; co < cout; co++) {
        for (int t = 0; t < W; t += 4) {
            const int nq = W - t < 4 ? W - t : 4;
            float acc[4][TB];
            for (int q = 0; q < 4; q++)
                for (int l = 0; l < TB; l++) acc[q][l] = b[co];
            for (int ci = 0; ci < cin; ci++) {
                const float *wr = w + ((size_t)co * cin + ci) * k;
                const float *src = SEQ(in, ci, t - pl, Wp);
                for (int j = 0; j < k; j++) {
                    const float wv = wr[j];
                    for (int q = 0; q < 4; q++)
#pragma omp simd
                        for (int l = 0; l < TB; l++) acc[q][l] += wv * src[(j + q) * TB + l];
                }
            }
            for (int q = 0; q < nq; q++) {
                float *dst = SEQ(out, co, t + q, Wp);
#pragma omp simd
                for (int l = 0; l < TB; l++) dst[l] = tanh_v(acc[q][l]);
            }
        }
    }
}

void conv1d_forward(const float *restrict in, int cin, int W, const float *restrict w, const float *restrict b,
                    int cout, int k, float *restrict out)
{
#define FWD(K) conv_fwd_k(in, cin, W, w, b, cout, K, out)
    DISPATCH_K(FWD)
#undef FWD
}

static inline void conv_bwd_k(const float *restrict in, int cin, int W, const float *restrict w, int cout,
                              const int k, const float *restrict out, float *restrict dout,
                              float *restrict gw_lanes, float *restrict gb_lanes, float *restrict din)
{
    const int Wp = SEQ_STRIDE(W), pl = (k - 1) / 2;
    /* through tanh: dz = dy (1 - y^2); the padding of dout stays zero */
    for (int co = 0; co < cout; co++) {
        float *gb = gb_lanes + (size_t)co * TB;
        for (int l = 0; l < TB; l++) gb[l] = 0;
        for (int t = 0; t < W; t++) {
            float *d = SEQ(dout, co, t, Wp);
            const float *y = SEQ(out, co, t, Wp);
#pragma omp simd
            for (int l = 0; l < TB; l++) {
                d[l] *= 1.0f - y[l] * y[l];
                gb[l] += d[l];
            }
        }
    }
    /* weight gradients, per lane: gw[co][ci][j] = sum_t dz[co][t] in[ci][t + j - pl] */
    for (int co = 0; co < cout; co++) {
        for (int ci = 0; ci < cin; ci++) {
            float acc[2 * PAD + 1][TB]; /* fixed size: a VLA would live in memory */
            for (int j = 0; j < k; j++)
                for (int l = 0; l < TB; l++) acc[j][l] = 0;
            for (int t = 0; t < W; t++) {
                const float *d = SEQ(dout, co, t, Wp);
                const float *src = SEQ(in, ci, t - pl, Wp);
                for (int j = 0; j < k; j++)
#pragma omp simd
                    for (int l = 0; l < TB; l++) acc[j][l] += d[l] * src[j * TB + l];
            }
            float *gw = gw_lanes + ((size_t)co * cin + ci) * k * TB;
            for (int j = 0; j < k; j++)
                for (int l = 0; l < TB; l++) gw[j * TB + l] = acc[j][l];
        }
    }
    if (!din) return;
    /* input gradients: din[ci][s] = sum_co sum_j w[co][ci][j] dz[co][s - j + pl], reading
     * the zero padding of dz instead of testing bounds; four steps s at once */
    for (int ci = 0; ci < cin; ci++) {
        for (int s = 0; s < W; s += 4) {
            const int nq = W - s < 4 ? W - s : 4;
            float acc[4][TB];
            for (int q = 0; q < 4; q++)
                for (int l = 0; l < TB; l++) acc[q][l] = 0;
            for (int co = 0; co < cout; co++) {
                const float *wr = w + ((size_t)co * cin + ci) * k;
                const float *d = SEQ(dout, co, s + pl, Wp);
                for (int j = 0; j < k; j++) {
                    const float wv = wr[j];
                    for (int q = 0; q < 4; q++)
#pragma omp simd
                        for (int l = 0; l < TB; l++) acc[q][l] += wv * d[(q - j) * TB + l];
                }
            }
            for (int q = 0; q < nq; q++) {
                float *dst = SEQ(din, ci, s + q, Wp);
                for (int l = 0; l < TB; l++) dst[l] = acc[q][l];
            }
        }
    }
}

void conv1d_backward(const float *restrict in, int cin, int W, const float *restrict w, int cout, int k,
                     const float *restrict out, float *restrict dout, float *restrict gw_lanes,
                     float *restrict gb_lanes, float *restrict din)
{
#define BWD(K) conv_bwd_k(in, cin, W, w, cout, K, out, dout, gw_lanes, gb_lanes, din)
    DISPATCH_K(BWD)
#undef BWD
}

void dense_forward(const float *restrict in, int nin, const float *restrict w, const float *restrict b, int nout,
                   int use_tanh, float *restrict out)
{
    for (int o = 0; o < nout; o++) {
        float acc[TB];
        for (int l = 0; l < TB; l++) acc[l] = b[o];
        const float *wr = w + (size_t)o * nin;
        for (int i = 0; i < nin; i++) {
            float wv = wr[i];
#pragma omp simd
            for (int l = 0; l < TB; l++) acc[l] += wv * in[(size_t)i * TB + l];
        }
        float *dst = out + (size_t)o * TB;
        if (use_tanh) {
#pragma omp simd
            for (int l = 0; l < TB; l++) dst[l] = tanh_v(acc[l]);
        } else {
            for (int l = 0; l < TB; l++) dst[l] = acc[l];
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
        float *gw = gw_lanes + (size_t)o * nin * TB;
        for (int i = 0; i < nin; i++)
#pragma omp simd
            for (int l = 0; l < TB; l++) gw[(size_t)i * TB + l] = d[l] * in[(size_t)i * TB + l];
    }
    if (!din) return;
    for (int i = 0; i < nin; i++) {
        float acc[TB];
        for (int l = 0; l < TB; l++) acc[l] = 0;
        for (int o = 0; o < nout; o++) {
            float wv = w[(size_t)o * nin + i];
#pragma omp simd
            for (int l = 0; l < TB; l++) acc[l] += wv * dout[(size_t)o * TB + l];
        }
        for (int l = 0; l < TB; l++) din[(size_t)i * TB + l] = acc[l];
    }
}
