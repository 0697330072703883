#include "model.h"
#include "rng.h"

#include <math.h>
#include <string.h>

static const char *const MODEL_NAMES[] = {"dcnn", "cnn1d"}; /* by model_kind */

const char *model_name(model_kind k) { return MODEL_NAMES[k == MODEL_DCNN ? 0 : 1]; }

int model_parse(const char *name, model_kind *k)
{
    int i = mtl_name_index(name, MODEL_NAMES, 2);
    if (i >= 0) *k = (model_kind)i;
    return i >= 0 ? 0 : -1;
}

int model_init(model *m, model_kind kind, int W, float dropout, size_t n_extra, mtl_err *err)
{
    if (W < 1 || W > 1000) return mtl_fail(err, "window %d, expected 1..1000", W);
    if (!(dropout >= 0.0f && dropout < 1.0f)) return mtl_fail(err, "dropout %g, expected [0, 1)", dropout);
    if (kind != MODEL_DCNN && kind != MODEL_CNN1D) return mtl_fail(err, "unknown model kind %d", (int)kind);
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->W = W;
    m->features = 14;
    m->filters = 10;
    m->kernel = 10;
    m->kernel_out = 3;
    m->hidden = 100;
    m->dropout = dropout;
    m->rows = kind == MODEL_DCNN ? m->features : 1;
    m->flat = m->rows * W;
    size_t off = 0;
    for (int i = 0; i < MODEL_CONVS; i++) {
        m->conv_cin[i] = i > 0 ? m->filters : kind == MODEL_DCNN ? 1 : m->features;
        m->conv_cout[i] = i == MODEL_CONVS - 1 ? 1 : m->filters;
        m->conv_k[i] = i == MODEL_CONVS - 1 ? m->kernel_out : m->kernel;
        m->off_cw[i] = off;
        off += (size_t)m->conv_cout[i] * m->conv_cin[i] * m->conv_k[i];
        m->off_cb[i] = off;
        off += (size_t)m->conv_cout[i];
    }
    m->off_fw = off;
    off += (size_t)m->hidden * m->flat;
    m->off_fb = off;
    off += (size_t)m->hidden;
    m->off_rw = off;
    off += (size_t)m->hidden;
    m->off_rb = off;
    off += 1;
    m->off_hw = off;
    off += (size_t)MODEL_CLASSES * m->hidden;
    m->off_hb = off;
    off += MODEL_CLASSES;
    m->n_net = off;
    m->n_extra = n_extra;
    m->n_params = off + n_extra;
    return 0;
}

/* Xavier (Glorot) initialisation: uniform on [-a, a], a = sqrt(6 / (fan_in + fan_out)), or
 * normal with standard deviation sqrt(2 / (fan_in + fan_out)) by Box-Muller. */
static void xavier(float *w, size_t n, int fan_in, int fan_out, int normal, uint64_t seed, int layer)
{
    if (!normal) {
        float lim = sqrtf(6.0f / (float)(fan_in + fan_out));
        for (size_t i = 0; i < n; i++) w[i] = (2.0f * rng_uniform(seed, RNG_INIT, (uint64_t)layer, i, 0) - 1.0f) * lim;
        return;
    }
    double sd = sqrt(2.0 / (double)(fan_in + fan_out));
    for (size_t i = 0; i < n; i++) {
        double u1 = 1.0 - (double)rng_uniform(seed, RNG_INIT, (uint64_t)layer, i, 1); /* (0, 1] */
        double u2 = (double)rng_uniform(seed, RNG_INIT, (uint64_t)layer, i, 2);
        w[i] = (float)(sd * sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
    }
}

void model_init_params(const model *m, float *p, uint64_t seed)
{
    memset(p, 0, sizeof(float) * m->n_net);
    const int nrm = m->kind == MODEL_DCNN;
    for (int i = 0; i < MODEL_CONVS; i++) {
        int ci = m->conv_cin[i], co = m->conv_cout[i], k = m->conv_k[i];
        xavier(p + m->off_cw[i], (size_t)co * ci * k, ci * k, co * k, nrm, seed, i);
    }
    xavier(p + m->off_fw, (size_t)m->hidden * m->flat, m->flat, m->hidden, nrm, seed, 10);
    xavier(p + m->off_rw, (size_t)m->hidden, m->hidden, 1, nrm, seed, 11);
    xavier(p + m->off_hw, (size_t)MODEL_CLASSES * m->hidden, m->hidden, MODEL_CLASSES, nrm, seed, 12);
}

double model_flops(const model *m, int train)
{
    double fwd = 0, dgrad = 0;
    for (int i = 0; i < MODEL_CONVS; i++) {
        double macs = (double)m->conv_cout[i] * m->conv_cin[i] * m->conv_k[i] * m->rows * m->W;
        fwd += macs;
        if (i > 0) dgrad += macs;
    }
    double dense = (double)m->hidden * m->flat + (double)(1 + MODEL_CLASSES) * m->hidden;
    fwd += dense;
    dgrad += dense;
    return 2.0 * (train ? 2.0 * fwd + dgrad : fwd);
}

double model_phase_flops(const model *m, phase_id p)
{
    const double heads = (double)(1 + MODEL_CLASSES) * m->hidden, dense = (double)m->hidden * m->flat;
    for (int i = 0; i < MODEL_CONVS; i++) {
        double macs = (double)m->conv_cout[i] * m->conv_cin[i] * m->conv_k[i] * m->rows * m->W;
        if (p == phase_conv_fwd(i)) return 2.0 * macs;
        if (p == phase_conv_bwd(i)) return 2.0 * macs * (i > 0 ? 2 : 1); /* weights; inputs but the first */
    }
    switch (p) {
    case PHASE_DENSE_FWD: return 2.0 * dense;
    case PHASE_DENSE_BWD: return 4.0 * dense;
    case PHASE_HEADS_LOSS: return 6.0 * heads;
    default: return 0;
    }
}

/* a feature map of c channels: [c][rows][SEQ_STRIDE(W)][TB] */
static size_t seq_floats(const model *m, int c) { return (size_t)c * m->rows * SEQ_STRIDE(m->W) * TB; }

int tile_acts_alloc(const model *m, tile_acts *a, mtl_err *err)
{
    size_t n = seq_floats(m, m->conv_cin[0]);
    for (int i = 0; i < MODEL_CONVS; i++) n += seq_floats(m, m->conv_cout[i]);
    n += 2 * (size_t)m->flat * TB + (size_t)m->hidden * TB + TB + MODEL_CLASSES * TB;
    a->mem = mtl_alloc_aligned(n * sizeof(float), err);
    if (!a->mem) return -1;
    float *p = a->mem;
    a->seq[0] = p;
    p += seq_floats(m, m->conv_cin[0]);
    for (int i = 1; i <= MODEL_CONVS; i++) {
        a->seq[i] = p;
        p += seq_floats(m, m->conv_cout[i - 1]);
    }
    a->mask = p;
    p += (size_t)m->flat * TB;
    a->xd = p;
    p += (size_t)m->flat * TB;
    a->h = p;
    p += (size_t)m->hidden * TB;
    a->yhat = p;
    p += TB;
    a->logits = p;
    return 0;
}

void tile_acts_free(tile_acts *a)
{
    mtl_free_aligned(a->mem);
    memset(a, 0, sizeof *a);
}

int tile_grads_alloc(const model *m, tile_grads *g, mtl_err *err)
{
    int cmax = m->conv_cin[0] > m->filters ? m->conv_cin[0] : m->filters;
    size_t flat16 = ((size_t)m->flat + 15) / 16 * 16; /* dense_wgrad_sum's scratch */
    size_t n = 2 * seq_floats(m, cmax) + ((size_t)m->flat + flat16) * TB + 2 * (size_t)m->hidden * TB + TB +
               MODEL_CLASSES * TB;
    n += m->n_params * TB;
    g->mem = mtl_alloc_aligned(n * sizeof(float), err);
    if (!g->mem) return -1;
    float *p = g->mem;
    g->dseq[0] = p;
    p += seq_floats(m, cmax);
    g->dseq[1] = p;
    p += seq_floats(m, cmax);
    g->dxd = p;
    p += (size_t)m->flat * TB;
    g->xT = p;
    p += flat16 * TB;
    g->dh = p;
    p += (size_t)m->hidden * TB;
    g->dh2 = p;
    p += (size_t)m->hidden * TB;
    g->dyhat = p;
    p += TB;
    g->dlogits = p;
    p += MODEL_CLASSES * TB;
    g->lanes = p;
    g->fc_sum = NULL;
    return 0;
}

void tile_grads_free(tile_grads *g)
{
    mtl_free_aligned(g->mem);
    memset(g, 0, sizeof *g);
}

void model_gather(const model *m, const float *x, const int *start, int n, tile_acts *a)
{
    const int W = m->W, F = m->features, Wp = SEQ_STRIDE(W);
    float *in = a->seq[0];
    for (int f = 0; f < F; f++)
        for (int t = 0; t < W; t++) {
            float *dst = in + ((size_t)f * Wp + PAD + t) * TB;
            for (int l = 0; l < TB; l++) dst[l] = l < n ? x[((size_t)start[l] + t) * F + f] : 0.0f;
        }
}

void model_forward(const model *m, const float *p, tile_acts *a, int train, uint64_t seed, int epoch,
                   const int *ids, phase_clock *clock)
{
    const int W = m->W, R = m->rows, Wp = SEQ_STRIDE(W), nflat = m->flat;
    for (int i = 0; i < MODEL_CONVS; i++) {
        const float *w = p + m->off_cw[i], *b = p + m->off_cb[i];
        if (!clock) {
            conv2d_forward(a->seq[i], m->conv_cin[i], R, W, w, b, m->conv_cout[i], m->conv_k[i], 1, a->seq[i + 1]);
            continue;
        }
        /* timed, the tanh is a pass of its own, row by row while the row is in cache: the
         * same bits, its cost visible */
        for (int r = 0; r < R; r++) {
            conv2d_forward_rows(a->seq[i], m->conv_cin[i], R, r, r + 1, W, w, b, m->conv_cout[i], m->conv_k[i], 0,
                                a->seq[i + 1]);
            phase_end(clock, phase_conv_fwd(i));
            seq_tanh_rows(a->seq[i + 1], m->conv_cout[i], R, r, r + 1, W);
            phase_end(clock, PHASE_TANH);
        }
    }
    if (train && m->dropout > 0) {
        float keep = 1.0f - m->dropout, scale = 1.0f / keep;
        for (int t = 0; t < nflat; t++)
            for (int l = 0; l < TB; l++) {
                float u = rng_uniform(seed, RNG_DROPOUT, (uint64_t)epoch, (uint64_t)(ids[l] < 0 ? 0 : ids[l]),
                                      (uint64_t)t);
                a->mask[t * TB + l] = u < keep ? scale : 0.0f;
            }
    } else {
        for (int i = 0; i < nflat * TB; i++) a->mask[i] = 1.0f;
    }
    /* flatten the last (one-channel) feature map row by row: value (r, t) is input r W + t */
    for (int r = 0; r < R; r++) {
        const float *row = a->seq[MODEL_CONVS] + ((size_t)r * Wp + PAD) * TB;
        float *xd = a->xd + (size_t)r * W * TB;
        const float *mk = a->mask + (size_t)r * W * TB;
        for (int i = 0; i < W * TB; i++) xd[i] = row[i] * mk[i];
    }
    phase_end(clock, PHASE_DROPOUT);
    dense_forward(a->xd, nflat, p + m->off_fw, p + m->off_fb, m->hidden, 1, a->h);
    phase_end(clock, PHASE_DENSE_FWD);
    dense_forward(a->h, m->hidden, p + m->off_rw, p + m->off_rb, 1, 0, a->yhat);
    dense_forward(a->h, m->hidden, p + m->off_hw, p + m->off_hb, MODEL_CLASSES, 0, a->logits);
    phase_end(clock, PHASE_HEADS_LOSS);
}

void model_backward(const model *m, const float *p, tile_acts *a, tile_grads *g, phase_clock *clock)
{
    const int W = m->W, R = m->rows, Wp = SEQ_STRIDE(W);
    float *gl = g->lanes;
    /* heads: dh = w_r^T dyhat + w_h^T dlogits */
    dense_backward(a->h, m->hidden, p + m->off_rw, 1, 0, a->yhat, g->dyhat, gl + m->off_rw * TB,
                   gl + m->off_rb * TB, g->dh);
    float *dh_cls = g->dh2;
    dense_backward(a->h, m->hidden, p + m->off_hw, MODEL_CLASSES, 0, a->logits, g->dlogits, gl + m->off_hw * TB,
                   gl + m->off_hb * TB, dh_cls);
    for (int i = 0; i < m->hidden * TB; i++) g->dh[i] += dh_cls[i];
    phase_end(clock, PHASE_HEADS_LOSS);
    dense_backward(a->xd, m->flat, p + m->off_fw, m->hidden, 1, a->h, g->dh, NULL, gl + m->off_fb * TB, g->dxd);
    if (g->fc_sum) dense_wgrad_sum(a->xd, m->flat, g->dh, m->hidden, g->xT, g->fc_sum);
    phase_end(clock, PHASE_DENSE_BWD);
    /* through dropout into the last conv's output (feature-map layout, one channel); the
     * padding of every feature-map gradient must be zero, which the kernels never write */
    float *d = g->dseq[0];
    memset(d, 0, sizeof(float) * (size_t)R * Wp * TB);
    for (int r = 0; r < R; r++)
        for (int i = 0; i < W * TB; i++)
            d[((size_t)r * Wp + PAD) * TB + i] = g->dxd[(size_t)r * W * TB + i] * a->mask[(size_t)r * W * TB + i];
    phase_end(clock, PHASE_DROPOUT);
    int cur = 0;
    for (int i = MODEL_CONVS - 1; i >= 0; i--) {
        float *din = i > 0 ? g->dseq[1 - cur] : NULL;
        conv2d_backward(a->seq[i], m->conv_cin[i], R, W, p + m->off_cw[i], m->conv_cout[i], m->conv_k[i],
                        a->seq[i + 1], g->dseq[cur], gl + m->off_cw[i] * TB, gl + m->off_cb[i] * TB, din);
        phase_end(clock, phase_conv_bwd(i));
        cur = 1 - cur;
    }
}

void model_sample_losses(const tile_acts *a, int l, float y, int label, double *lr, double *lh)
{
    double e = (double)a->yhat[l] - (double)y;
    *lr = e * e;
    double mx = a->logits[l];
    for (int c = 1; c < MODEL_CLASSES; c++)
        if (a->logits[c * TB + l] > mx) mx = a->logits[c * TB + l];
    double s = 0;
    for (int c = 0; c < MODEL_CLASSES; c++) s += exp((double)a->logits[c * TB + l] - mx);
    *lh = mx + log(s) - (double)a->logits[label * TB + l];
}

void model_loss_grads(const tile_acts *a, int n, const float *y, const int *label, float *dyhat, float *dlogits)
{
    for (int l = 0; l < TB; l++) {
        int valid = l < n;
        dyhat[l] = valid ? a->yhat[l] - y[l] : 0.0f;
        float mx = a->logits[l];
        for (int c = 1; c < MODEL_CLASSES; c++) mx = fmaxf(mx, a->logits[c * TB + l]);
        float p[MODEL_CLASSES], z = 0;
        for (int c = 0; c < MODEL_CLASSES; c++) z += p[c] = expf(a->logits[c * TB + l] - mx);
        for (int c = 0; c < MODEL_CLASSES; c++)
            dlogits[c * TB + l] = valid ? p[c] / z - (c == label[l] ? 1.0f : 0.0f) : 0.0f;
    }
}

void model_task_dense_deltas(const model *m, const float *params, const tile_acts *a, const float *dyhat,
                             const float *dlogits, float *delta)
{
    const int H = m->hidden;
    const float *rul_w = params + m->off_rw, *health_w = params + m->off_hw;
    for (int o = 0; o < H; o++) {
        float *dr = delta + (size_t)o * TB, *dh = delta + ((size_t)H + o) * TB;
        const float *hid = a->h + (size_t)o * TB;
        for (int l = 0; l < TB; l++) {
            float d = 1.0f - hid[l] * hid[l], sh = 0.0f;
            for (int c = 0; c < MODEL_CLASSES; c++) sh += health_w[c * H + o] * dlogits[c * TB + l];
            dr[l] = d * rul_w[o] * dyhat[l];
            dh[l] = d * sh;
        }
    }
}

void model_dense_inputs_by_lane(const model *m, const tile_acts *a, float *xt)
{
    const int nin = m->flat;
    for (int i = 0; i < nin; i++)
        for (int l = 0; l < TB; l++) xt[(size_t)l * nin + i] = a->xd[(size_t)i * TB + l];
}

int model_argmax(const tile_acts *a, int l)
{
    int best = 0;
    for (int c = 1; c < MODEL_CLASSES; c++)
        if (a->logits[c * TB + l] > a->logits[best * TB + l]) best = c;
    return best;
}
