/* Finite-difference checks of every kernel and of the whole loss under every method. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <math.h>

#include "kernels.h"
#include "model.h"
#include "rng.h"
#include "train.h"
#include "weighting.h"

static float rnd(uint64_t i, uint64_t j) { return 2.0f * rng_uniform(42, 99, i, j, 0) - 1.0f; }

/* |a - b| <= atol + rtol * max(|a|, |b|) */
static void near(double a, double b, double rtol, double atol, const char *what, int i)
{
    double tol = atol + rtol * fmax(fabs(a), fabs(b));
    cr_assert(fabs(a - b) <= tol, "%s[%d]: analytic %.7g vs numeric %.7g", what, i, a, b);
}

/* Index of (channel c, row r, time t, lane l) in a feature map of R rows (kernels.h). */
static size_t fm(int c, int r, int t, int l, int R, int W)
{
    return (((size_t)c * R + r) * SEQ_STRIDE(W) + PAD + t) * TB + l;
}

/* L = sum over outputs of Rnd * out, for a fixed random Rnd: dL/dout = Rnd. */
static double conv_loss(const float *in, int cin, int R, int W, const float *w, const float *b, int cout, int k,
                        float *out, const float *Rnd)
{
    conv2d_forward(in, cin, R, W, w, b, cout, k, 1, out);
    double s = 0;
    for (int c = 0; c < cout; c++)
        for (int r = 0; r < R; r++)
            for (int t = 0; t < W; t++)
                for (int l = 0; l < TB; l++) s += (double)Rnd[fm(c, r, t, l, R, W)] * out[fm(c, r, t, l, R, W)];
    return s;
}

/* Central difference of conv_loss in the element *x of in, w or b. */
static double conv_fd(float *x, float h, const float *in, int cin, int R, int W, const float *w, const float *b,
                      int cout, int k, float *out, const float *Rnd)
{
    float keep = *x;
    *x = keep + h;
    double lp = conv_loss(in, cin, R, W, w, b, cout, k, out, Rnd);
    *x = keep - h;
    double lm = conv_loss(in, cin, R, W, w, b, cout, k, out, Rnd);
    *x = keep;
    return (lp - lm) / (2 * h);
}

static void check_conv(int cin, int R, int cout, int k, int W)
{
    size_t nin = (size_t)cin * R * SEQ_STRIDE(W) * TB, nout = (size_t)cout * R * SEQ_STRIDE(W) * TB;
    size_t nw = (size_t)cout * cin * k;
    float *in = calloc(nin, 4), *out = calloc(nout, 4), *Rnd = calloc(nout, 4), *dout = calloc(nout, 4);
    float *din = calloc(nin, 4), *w = calloc(nw, 4), *b = calloc(cout, 4);
    float *gw = calloc(nw * TB, 4), *gb = calloc((size_t)cout * TB, 4);
    for (int c = 0; c < cin; c++)
        for (int r = 0; r < R; r++)
            for (int t = 0; t < W; t++)
                for (int l = 0; l < TB; l++) in[fm(c, r, t, l, R, W)] = rnd(1, fm(c, r, t, l, R, W));
    for (int c = 0; c < cout; c++)
        for (int r = 0; r < R; r++)
            for (int t = 0; t < W; t++)
                for (int l = 0; l < TB; l++) Rnd[fm(c, r, t, l, R, W)] = rnd(2, fm(c, r, t, l, R, W));
    for (size_t i = 0; i < nw; i++) w[i] = 0.4f * rnd(3, i);
    for (int i = 0; i < cout; i++) b[i] = 0.1f * rnd(4, (uint64_t)i);
    conv_loss(in, cin, R, W, w, b, cout, k, out, Rnd);
    /* rows never mix: every output row depends on its own input row only */
    if (R > 1) {
        float *out2 = calloc(nout, 4);
        in[fm(0, 1, W / 2, 3, R, W)] += 0.5f;
        conv2d_forward(in, cin, R, W, w, b, cout, k, 1, out2);
        in[fm(0, 1, W / 2, 3, R, W)] -= 0.5f;
        for (int c = 0; c < cout; c++)
            for (int r = 0; r < R; r++)
                for (int t = 0; t < W; t++)
                    for (int l = 0; l < TB; l++) {
                        size_t i = fm(c, r, t, l, R, W);
                        if (r != 1 || l != 3) cr_assert_eq(out2[i], out[i], "row %d lane %d changed", r, l);
                    }
        free(out2);
        conv_loss(in, cin, R, W, w, b, cout, k, out, Rnd);
    }
    memcpy(dout, Rnd, nout * 4);
    conv2d_backward(in, cin, R, W, w, cout, k, out, dout, gw, gb, din);
    const float h = 1e-2f;
    /* every 7th weight of a 1-D layer; about 30 weights of a layer with sensor rows, whose
     * loss is 14 times dearer (the sanitizer build runs these too) */
    const size_t wstep = R > 1 ? nw / 30 + 1 : 7;
    for (size_t i = 0; i < nw; i += wstep) {
        double an = 0;
        for (int l = 0; l < TB; l++) an += gw[i * TB + l];
        near(an, conv_fd(&w[i], h, in, cin, R, W, w, b, cout, k, out, Rnd), 2e-2, 2e-3 * R, "conv weight", (int)i);
    }
    for (int i = 0; i < cout; i++) {
        double an = 0;
        for (int l = 0; l < TB; l++) an += gb[(size_t)i * TB + l];
        near(an, conv_fd(&b[i], h, in, cin, R, W, w, b, cout, k, out, Rnd), 2e-2, 2e-3 * R, "conv bias", i);
    }
    for (int c = 0; c < cin; c += R > 4 ? 3 : 1)
        for (int r = 0; r < R; r += R > 4 ? 5 : 1)
            for (int t = 0; t < W; t += R > 4 ? 7 : 3) {
                size_t i = fm(c, r, t, (c + r + t) % TB, R, W);
                near(din[i], conv_fd(&in[i], h, in, cin, R, W, w, b, cout, k, out, Rnd), 2e-2, 2e-3, "conv input",
                     (int)i);
            }
    /* padding of the input gradient stays zero, on both sides of every row */
    for (int c = 0; c < cin; c++)
        for (int r = 0; r < R; r++)
            for (int l = 0; l < TB; l++) {
                cr_assert_eq(din[fm(c, r, -PAD, l, R, W)], 0.0f);
                cr_assert_eq(din[fm(c, r, W, l, R, W)], 0.0f);
                cr_assert_eq(din[fm(c, r, W + PAD_R - 1, l, R, W)], 0.0f);
            }
    free(in), free(out), free(Rnd), free(dout), free(din), free(w), free(b), free(gw), free(gb);
}

/* cnn1d layers: one row, sensors as channels */
Test(grad, conv1d_kernel10_14_to_10) { check_conv(14, 1, 10, 10, 30); }
Test(grad, conv1d_kernel10_odd_window) { check_conv(10, 1, 10, 10, 15); }
Test(grad, conv1d_kernel3_to_one_channel) { check_conv(10, 1, 1, 3, 20); }
Test(grad, conv1d_generic_kernel) { check_conv(3, 1, 2, 5, 7); }
/* dcnn layers: 14 sensor rows, 10 x 1 kernels shared by the rows */
Test(grad, conv2d_sensor_rows_1_to_10) { check_conv(1, 14, 10, 10, 30); }
Test(grad, conv2d_sensor_rows_10_to_10) { check_conv(10, 14, 10, 10, 30); }
Test(grad, conv2d_sensor_rows_10_to_10_odd_window) { check_conv(10, 14, 10, 10, 15); }
Test(grad, conv2d_sensor_rows_3x1_to_one_channel) { check_conv(10, 14, 1, 3, 20); }
Test(grad, conv2d_generic_kernel_and_rows) { check_conv(3, 4, 2, 5, 7); }

static double dense_loss(const float *in, int nin, const float *w, const float *b, int nout, int act, float *out,
                         const float *R)
{
    dense_forward(in, nin, w, b, nout, act, out);
    double s = 0;
    for (int i = 0; i < nout * TB; i++) s += (double)R[i] * out[i];
    return s;
}

static void check_dense(int nin, int nout, int act)
{
    float *in = calloc((size_t)nin * TB, 4), *out = calloc((size_t)nout * TB, 4), *R = calloc((size_t)nout * TB, 4);
    float *dout = calloc((size_t)nout * TB, 4), *din = calloc((size_t)nin * TB, 4);
    float *w = calloc((size_t)nin * nout, 4), *b = calloc((size_t)nout, 4);
    float *gw = calloc((size_t)nin * nout * TB, 4), *gb = calloc((size_t)nout * TB, 4);
    for (int i = 0; i < nin * TB; i++) in[i] = rnd(5, (uint64_t)i);
    for (int i = 0; i < nout * TB; i++) R[i] = rnd(6, (uint64_t)i);
    for (int i = 0; i < nin * nout; i++) w[i] = 0.3f * rnd(7, (uint64_t)i);
    for (int i = 0; i < nout; i++) b[i] = 0.1f * rnd(8, (uint64_t)i);
    dense_loss(in, nin, w, b, nout, act, out, R);
    memcpy(dout, R, sizeof(float) * nout * TB);
    dense_backward(in, nin, w, nout, act, out, dout, gw, gb, din);
    const float h = 1e-2f;
    /* every 5th weight and 3rd input of a small layer; about 1000 weights and 500 inputs of
     * the dcnn's 420 x 100 (strides prime to both sides, so every row and column is met),
     * whose probes would take minutes under the sanitizers */
    const int wstep = nin * nout <= 5000 ? 5 : 41, istep = nin * TB <= 2000 ? 3 : 13;
    for (int i = 0; i < nin * nout; i += wstep) {
        double an = 0;
        for (int l = 0; l < TB; l++) an += gw[(size_t)i * TB + l];
        float keep = w[i];
        w[i] = keep + h;
        double lp = dense_loss(in, nin, w, b, nout, act, out, R);
        w[i] = keep - h;
        double lm = dense_loss(in, nin, w, b, nout, act, out, R);
        w[i] = keep;
        near(an, (lp - lm) / (2 * h), 2e-2, 2e-3, "dense weight", i);
    }
    /* the lane-summed weight gradient equals the sum of the per-lane ones */
    float *gsum = calloc((size_t)nin * nout, 4), *inT = calloc((size_t)(nin + 15) / 16 * 16 * TB, 4);
    dense_wgrad_sum(in, nin, dout, nout, inT, gsum);
    for (int i = 0; i < nin * nout; i++) {
        double an = 0;
        for (int l = 0; l < TB; l++) an += gw[(size_t)i * TB + l];
        near(gsum[i], an, 1e-5, 1e-6, "summed dense weight", i);
    }
    free(gsum), free(inT);
    for (int i = 0; i < nout; i++) {
        double an = 0;
        for (int l = 0; l < TB; l++) an += gb[(size_t)i * TB + l];
        float keep = b[i];
        b[i] = keep + h;
        double lp = dense_loss(in, nin, w, b, nout, act, out, R);
        b[i] = keep - h;
        double lm = dense_loss(in, nin, w, b, nout, act, out, R);
        b[i] = keep;
        near(an, (lp - lm) / (2 * h), 2e-2, 2e-3, "dense bias", i);
    }
    for (int i = 0; i < nin * TB; i += istep) {
        float keep = in[i];
        in[i] = keep + h;
        double lp = dense_loss(in, nin, w, b, nout, act, out, R);
        in[i] = keep - h;
        double lm = dense_loss(in, nin, w, b, nout, act, out, R);
        in[i] = keep;
        near(din[i], (lp - lm) / (2 * h), 2e-2, 2e-3, "dense input", i);
    }
    free(in), free(out), free(R), free(dout), free(din), free(w), free(b), free(gw), free(gb);
}

Test(grad, dense_tanh) { check_dense(30, 100, 1); }
Test(grad, dense_linear_head) { check_dense(100, 3, 0); }
Test(grad, dense_dcnn_flatten) { check_dense(420, 100, 1); }

Test(kernels, tanh_accuracy)
{
    double worst = 0;
    for (int i = -200000; i <= 200000; i++) {
        float x = (float)i * 1e-4f;
        double e = fabs((double)mtl_tanhf(x) - tanh((double)x));
        if (e > worst) worst = e;
    }
    cr_assert_lt(worst, 2e-7, "max |error| %g", worst);
    cr_assert_eq(mtl_tanhf(0.0f), 0.0f);
    cr_assert_eq(mtl_tanhf(50.0f), 1.0f);
    cr_assert_eq(mtl_tanhf(-50.0f), -1.0f);
    cr_assert(isnan(mtl_tanhf(NAN)));
    cr_assert_eq(mtl_tanhf(INFINITY), 1.0f);
}

/* The profile's split of a convolution, linear then seq_tanh_rows (all rows at once or one by
 * one), gives the fused kernel's bits, and seq_tanh_rows leaves the padding as it is. */
Test(kernels, conv_then_tanh_is_the_fused_kernel)
{
    const int cin = 10, R = 3, cout = 10, k = 10, W = 13;
    size_t nin = (size_t)cin * R * SEQ_STRIDE(W) * TB, nout = (size_t)cout * R * SEQ_STRIDE(W) * TB;
    float *in = calloc(nin, 4), *w = calloc((size_t)cout * cin * k, 4), *b = calloc(cout, 4);
    float *fused = calloc(nout, 4), *split = calloc(nout, 4);
    for (int c = 0; c < cin; c++)
        for (int r = 0; r < R; r++)
            for (int t = 0; t < W; t++)
                for (int l = 0; l < TB; l++) in[fm(c, r, t, l, R, W)] = rnd(5, fm(c, r, t, l, R, W));
    for (int i = 0; i < cout * cin * k; i++) w[i] = 0.3f * rnd(6, (uint64_t)i);
    for (int i = 0; i < cout; i++) b[i] = 0.1f * rnd(7, (uint64_t)i);
    for (size_t i = 0; i < nout; i++) split[i] = fused[i] = 7.0f; /* padding marker */
    conv2d_forward(in, cin, R, W, w, b, cout, k, 1, fused);
    conv2d_forward(in, cin, R, W, w, b, cout, k, 0, split);
    int linear = 0;
    for (size_t i = 0; i < nout; i++) linear += split[i] != fused[i];
    cr_assert_gt(linear, cout * R * W * TB / 2, "the linear outputs differ from the tanh ones");
    seq_tanh_rows(split, cout, R, 0, R, W);
    cr_assert_eq(memcmp(split, fused, nout * 4), 0);
    cr_assert_eq(fused[0], 7.0f, "padding kept");
    /* and row by row, as the timed forward pass runs it */
    for (size_t i = 0; i < nout; i++) split[i] = 7.0f;
    for (int r = R - 1; r >= 0; r--) {
        conv2d_forward_rows(in, cin, R, r, r + 1, W, w, b, cout, k, 0, split);
        seq_tanh_rows(split, cout, R, r, r + 1, W);
    }
    cr_assert_eq(memcmp(split, fused, nout * 4), 0);
    free(in), free(w), free(b), free(fused), free(split);
}

/* ---------------------------------------------------------------- whole loss, every method */

/* A tiny data set of nwin windows over random rows. */
static void tiny_split(prep_split *s, int W, int nwin)
{
    int rows = nwin + W;
    s->n_rows = rows;
    s->n_win = nwin;
    s->x = malloc(sizeof(float) * rows * PREP_FEATURES);
    s->win_start = malloc(sizeof(int) * nwin);
    s->y = malloc(sizeof(float) * nwin);
    s->y_raw = malloc(sizeof(float) * nwin);
    s->h = malloc(nwin);
    s->unit = malloc(sizeof(int) * nwin);
    for (int i = 0; i < rows * PREP_FEATURES; i++) s->x[i] = rnd(9, (uint64_t)i);
    for (int i = 0; i < nwin; i++) {
        s->win_start[i] = i;
        s->y[i] = s->y_raw[i] = 5.0f + 3.0f * (float)((i * 37) % 41);
        s->h[i] = (uint8_t)prep_health(s->y[i]);
        s->unit[i] = 1 + i / 10;
    }
}

static void free_split(prep_split *s)
{
    free(s->x), free(s->win_start), free(s->y), free(s->y_raw), free(s->h), free(s->unit);
}

/* Up to per evenly spaced indices of each parameter block of the network (every layer's
 * weights and its bias, heads included), so that every layer is probed; the count. */
static int layer_probes(const model *m, int per, size_t *idx)
{
    size_t edge[2 * MODEL_CONVS + 7];
    int ne = 0, n = 0;
    for (int i = 0; i < MODEL_CONVS; i++) edge[ne++] = m->off_cw[i], edge[ne++] = m->off_cb[i];
    size_t tail[] = {m->off_fw, m->off_fb, m->off_rw, m->off_rb, m->off_hw, m->off_hb, m->n_net};
    for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++) edge[ne++] = tail[i];
    for (int k = 0; k + 1 < ne; k++) {
        size_t len = edge[k + 1] - edge[k], take = len < (size_t)per ? len : (size_t)per;
        for (size_t j = 0; j < take; j++) idx[n++] = edge[k] + (2 * j + 1) * len / (2 * take);
    }
    return n;
}

static void check_method_on(model_kind kind, const char *spec)
{
    weighting w;
    mtl_err err;
    cr_assert_eq(weighting_parse(spec, &w, &err), 0, "%s", err.msg);
    model m;
    const int W = 12, nb = 37; /* more than two tiles, last one partial */
    cr_assert_eq(model_init(&m, kind, W, 0.5f, (size_t)w.def->n_params, &err), 0);
    prep_split s;
    tiny_split(&s, W, nb);
    int batch[37];
    for (int i = 0; i < nb; i++) batch[i] = (i * 11) % nb;
    dist_ctx dist;
    dist_single(&dist);
    train_engine *e;
    cr_assert_eq(engine_create(&m, &w, 0, nb, &dist, &e, &err), 0, "%s", err.msg);
    float *p = calloc(m.n_params, 4), *g = calloc(m.n_params, 4), *g2 = calloc(m.n_params, 4);
    model_init_params(&m, p, 3);
    if (w.def->init) w.def->init(&w, p + m.n_net);
    /* away from the symmetric start (GradNorm's weights stay positive) */
    if (w.def->n_params) p[m.n_net] = 0.7f, p[m.n_net + 1] = w.def->exact ? -0.4f : 1.3f;
    /* two epochs of loss history, so that DWA's weights are not the first epochs' (1, 1) */
    engine_epoch_end(e, 400.0, 0.9);
    engine_epoch_end(e, 300.0, 0.8);
    train_batch b = {.split = &s, .windows = batch, .n = nb, .seed = 5, .epoch = 3};
    step_losses at, sl;
    cr_assert_eq(engine_grad(e, p, &b, g, &at), 0);
    const double wr0 = at.w_rul, wh0 = at.w_health;
    /* the objective: the method's own total where its gradient is exact (uw, imtl-l, gls),
     * else the weights held at their detached values */
#define OBJ(Lr_, Lh_) (w.def->exact ? w.def->total(&w, p + m.n_net, Lr_, Lh_) : wr0 * (Lr_) + wh0 * (Lh_))
    const float h = 2e-3f;
    int checked = 0;
    size_t idx[128];
    /* 5 parameters of every block of the cnn1d, 2 of the dearer dcnn's (16 blocks) */
    int n_idx = layer_probes(&m, kind == MODEL_DCNN ? 2 : 5, idx);
    /* every method parameter whose gradient is that of the total (not GradNorm's weights,
     * trained on their own objective: see the next test) */
    if (w.def->exact)
        for (size_t i = m.n_net; i < m.n_params; i++) idx[n_idx++] = i;
    for (int q = 0; q < n_idx; q++) {
        size_t i = idx[q];
        float keep = p[i];
        p[i] = keep + h;
        cr_assert_eq(engine_grad(e, p, &b, g2, &sl), 0);
        double jp = OBJ(sl.rul, sl.health);
        p[i] = keep - h;
        cr_assert_eq(engine_grad(e, p, &b, g2, &sl), 0);
        double jm = OBJ(sl.rul, sl.health);
        p[i] = keep;
        near(g[i], (jp - jm) / (2 * h), 3e-2, 1e-3 * (fabs(wr0) + fabs(wh0) + 0.1), spec, (int)i);
        checked++;
    }
    cr_assert_eq(checked, n_idx);
    cr_assert_geq(checked, kind == MODEL_DCNN ? 30 : 70);
    /* every parameter gets a gradient: no layer is left out */
    size_t zero = 0;
    for (size_t i = 0; i < m.n_params; i++) zero += g[i] == 0.0f;
    cr_assert_lt(zero, m.n_params / 20, "%zu of %zu gradients are exactly zero", zero, m.n_params);
#undef OBJ
    engine_free(e);
    free(p), free(g), free(g2);
    free_split(&s);
}

static void check_method(const char *spec) { check_method_on(MODEL_CNN1D, spec); }

Test(grad, whole_loss_dcnn) { check_method_on(MODEL_DCNN, "fixed:0.3"); }
Test(grad, whole_loss_dcnn_uw) { check_method_on(MODEL_DCNN, "uw"); }
Test(grad, whole_loss_fixed) { check_method("fixed:0.3"); }
Test(grad, whole_loss_uw_including_log_variances) { check_method("uw"); }
Test(grad, whole_loss_uw_o) { check_method("uw-o"); }
Test(grad, whole_loss_uw_so) { check_method("uw-so:2"); }
Test(grad, whole_loss_ew) { check_method("ew"); }
Test(grad, whole_loss_dwa) { check_method("dwa:2"); }
Test(grad, whole_loss_rlw) { check_method("rlw"); }
Test(grad, whole_loss_imtl_l_including_s) { check_method("imtl-l"); }
Test(grad, whole_loss_gls_exact_gradient_of_the_geometric_mean) { check_method("gls"); }
Test(grad, whole_loss_gradnorm_network_part) { check_method("gradnorm"); }

/* GradNorm's per-task gradient norms on the dense layer: |d L_grad / d w_t| = ||dL_t/dW||,
 * equal to the norm of the dense-layer weight gradient that fixed:1 (L_r alone) and
 * fixed:0 (L_h alone) give, in both summation modes. */
static void check_gradnorm_norms(model_kind kind)
{
    mtl_err err;
    const int W = 12, nb = 37;
    prep_split s;
    tiny_split(&s, W, nb);
    int batch[37];
    for (int i = 0; i < nb; i++) batch[i] = (i * 11) % nb;
    dist_ctx dist;
    dist_single(&dist);
    for (int det = 0; det < 2; det++) {
        double norm[2];
        const char *single[2] = {"fixed:1", "fixed:0"};
        for (int t = 0; t < 2; t++) {
            weighting w;
            cr_assert_eq(weighting_parse(single[t], &w, &err), 0);
            model m;
            cr_assert_eq(model_init(&m, kind, W, 0.5f, 0, &err), 0);
            train_engine *e;
            cr_assert_eq(engine_create(&m, &w, det, nb, &dist, &e, &err), 0, "%s", err.msg);
            float *p = calloc(m.n_params, 4), *g = calloc(m.n_params, 4);
            model_init_params(&m, p, 3);
            train_batch b = {.split = &s, .windows = batch, .n = nb, .seed = 5, .epoch = 1};
            step_losses sl;
            cr_assert_eq(engine_grad(e, p, &b, g, &sl), 0);
            double ss = 0;
            for (size_t i = m.off_fw; i < m.off_fb; i++) ss += (double)g[i] * g[i];
            norm[t] = sqrt(ss);
            cr_assert_gt(norm[t], 0);
            engine_free(e);
            free(p), free(g);
        }
        weighting w;
        cr_assert_eq(weighting_parse("gradnorm", &w, &err), 0);
        cr_assert_str_eq(w.canon, "gradnorm:1.5");
        model m;
        cr_assert_eq(model_init(&m, kind, W, 0.5f, 2, &err), 0);
        train_engine *e;
        cr_assert_eq(engine_create(&m, &w, det, nb, &dist, &e, &err), 0, "%s", err.msg);
        float *p = calloc(m.n_params, 4), *g = calloc(m.n_params, 4);
        model_init_params(&m, p, 3);
        w.def->init(&w, p + m.n_net);
        train_batch b = {.split = &s, .windows = batch, .n = nb, .seed = 5, .epoch = 1};
        step_losses sl;
        cr_assert_eq(engine_grad(e, p, &b, g, &sl), 0);
        cr_assert_eq(sl.w_rul, 1.0);
        cr_assert_eq(sl.w_health, 1.0);
        /* first step: r_t = 1, targets = mean(G); the larger gradient is pushed down */
        for (int t = 0; t < 2; t++) near(fabs(g[m.n_net + t]), norm[t], 1e-4, 0, "gradnorm |dL/dw|", t);
        cr_assert_gt(g[m.n_net], 0.0f, "RUL's gradient is the larger one: its weight must go down");
        cr_assert_lt(g[m.n_net + 1], 0.0f);
        engine_free(e);
        free(p), free(g);
    }
    free_split(&s);
}

Test(grad, gradnorm_task_gradient_norms_on_the_dense_layer) { check_gradnorm_norms(MODEL_CNN1D); }
Test(grad, gradnorm_task_gradient_norms_dcnn) { check_gradnorm_norms(MODEL_DCNN); }
