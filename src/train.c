#define _POSIX_C_SOURCE 200809L
#include "train.h"
#include "checkpoint.h"
#include "metrics.h"
#include "model.h"
#include "optim.h"
#include "rng.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct train_engine {
    const model *m;
    const weighting *w;
    int deterministic;
    dist_ctx *dist;
    int max_tiles, n_threads;
    tile_acts *acts;          /* one per tile of a shard */
    tile_grads *scratch;      /* one per thread */
    float *tile_grad;         /* [max_tiles][n_params] (default mode) */
    int64_t *tile_fix;        /* [max_tiles][n_params] (deterministic mode) */
    int64_t *fix;             /* [n_params] */
    double *lr_s, *lh_s;      /* per-sample losses of the shard, [max_tiles * TB] */
    int *bad_tile;
    weighting_state ws;       /* the method's view of the run (epoch, step, loss history) */
    /* methods trained on the task gradients (GradNorm): per-task gradients of the unweighted
     * losses on the dense layer's weights, [2][hidden][fc inputs] */
    size_t n_aux, aux_stride;
    float *aux_dpre;          /* [n_threads][2 hidden + fc inputs][TB] scratch */
    float *tile_aux;          /* [max_tiles][n_aux] (default mode) */
    int64_t *tile_aux_fix;    /* [max_tiles][n_aux] (deterministic mode) */
    float *aux;               /* [n_aux] global sums */
    int64_t *aux_fix;         /* [n_aux] */
};

static const char *const PROTOCOL_NAMES[] = {"spec", "li2018"}; /* by protocol_kind */

const char *protocol_name(protocol_kind p) { return PROTOCOL_NAMES[p == PROTOCOL_LI2018 ? 1 : 0]; }

int protocol_parse(const char *name, protocol_kind *p)
{
    int i = mtl_name_index(name, PROTOCOL_NAMES, 2);
    if (i >= 0) *p = (protocol_kind)i;
    return i >= 0 ? 0 : -1;
}

void train_config_defaults(train_config *c)
{
    memset(c, 0, sizeof *c);
    c->model = MODEL_DCNN;
    c->protocol = PROTOCOL_SPEC;
    c->seed = 1;
    c->batch = 512;
    c->dropout = 0.5;
    train_config_apply_protocol(c);
}

void train_config_apply_protocol(train_config *c)
{
    const int li = c->protocol == PROTOCOL_LI2018;
    if (!(c->given & GIVEN_EPOCHS)) c->epochs = li ? 250 : 100;
    if (!(c->given & GIVEN_NORM)) c->norm = li ? PREP_NORM_MINMAX : PREP_NORM_Z;
    if (!(c->given & GIVEN_VAL_FRAC)) c->val_frac = li ? 0.0 : 0.2;
    if (!(c->given & GIVEN_LR)) c->lr = 1e-3;
    if (!(c->given & GIVEN_LR_STEP)) {
        c->lr_step_epoch = li ? 200 : 0;
        c->lr_step_factor = li ? 0.1 : 1.0;
    }
}

void train_lr_step_text(const train_config *c, char *buf, size_t n)
{
    if (c->lr_step_epoch <= 0) {
        snprintf(buf, n, "none");
        return;
    }
    char f[24];
    mtl_fmt_shortest(c->lr_step_factor, f, sizeof f);
    snprintf(buf, n, "%d:%.24s", c->lr_step_epoch, f);
}

prep_options train_prep_options(const train_config *c, int window)
{
    prep_options po = {window, c->val_frac, (uint64_t)c->seed, c->norm};
    return po;
}

void engine_free(train_engine *e)
{
    if (!e) return;
    for (int i = 0; i < e->max_tiles && e->acts; i++) tile_acts_free(&e->acts[i]);
    for (int i = 0; i < e->n_threads && e->scratch; i++) tile_grads_free(&e->scratch[i]);
    free(e->acts), free(e->scratch), free(e->tile_grad), free(e->tile_fix), free(e->fix);
    free(e->lr_s), free(e->lh_s), free(e->bad_tile);
    free(e->aux_dpre), free(e->tile_aux), free(e->tile_aux_fix), free(e->aux), free(e->aux_fix);
    free(e);
}

int engine_create(const model *m, const weighting *w, int deterministic, int max_batch, dist_ctx *dist,
                  train_engine **out, mtl_err *err)
{
    if (m->n_extra > 8) return mtl_fail(err, "a weighting method may have at most 8 parameters");
    train_engine *e = mtl_calloc(1, sizeof *e, err);
    if (!e) return -1;
    e->m = m;
    e->w = w;
    e->deterministic = deterministic;
    e->dist = dist;
    long lo, hi, most = 0;
    for (int r = 0; r < dist->size; r++) {
        dist_share(max_batch, r, dist->size, &lo, &hi);
        if (hi - lo > most) most = hi - lo;
    }
    e->max_tiles = (int)((most + TB - 1) / TB);
    if (e->max_tiles < 1) e->max_tiles = 1;
    e->n_threads = omp_get_max_threads();
    size_t np = m->n_params, nt = (size_t)e->max_tiles;
    e->acts = mtl_calloc(nt, sizeof(tile_acts), err);
    e->scratch = mtl_calloc((size_t)e->n_threads, sizeof(tile_grads), err);
    e->lr_s = mtl_calloc(nt * TB, sizeof(double), err);
    e->lh_s = mtl_calloc(nt * TB, sizeof(double), err);
    e->bad_tile = mtl_calloc(nt, sizeof(int), err);
    if (deterministic) {
        e->tile_fix = mtl_calloc(nt * np, sizeof(int64_t), err);
        e->fix = mtl_calloc(np, sizeof(int64_t), err);
    } else {
        e->tile_grad = mtl_calloc(nt * np, sizeof(float), err);
    }
    if (!e->acts || !e->scratch || !e->lr_s || !e->lh_s || !e->bad_tile ||
        (deterministic ? (!e->tile_fix || !e->fix) : !e->tile_grad)) {
        engine_free(e);
        return -1;
    }
    weighting_state_init(&e->ws, 0);
    if (w->m->shared_grad) {
        e->n_aux = 2 * (m->off_fb - m->off_fw);
        e->aux_stride = (2 * (size_t)m->hidden + (m->off_fb - m->off_fw) / (size_t)m->hidden) * TB;
        e->aux_dpre = mtl_calloc((size_t)e->n_threads * e->aux_stride, sizeof(float), err);
        e->aux = mtl_calloc(e->n_aux, sizeof(float), err);
        if (deterministic) {
            e->tile_aux_fix = mtl_calloc(nt * e->n_aux, sizeof(int64_t), err);
            e->aux_fix = mtl_calloc(e->n_aux, sizeof(int64_t), err);
        } else {
            e->tile_aux = mtl_calloc(nt * e->n_aux, sizeof(float), err);
        }
        if (!e->aux_dpre || !e->aux || (deterministic ? (!e->tile_aux_fix || !e->aux_fix) : !e->tile_aux)) {
            engine_free(e);
            return -1;
        }
    }
    for (int i = 0; i < e->max_tiles; i++)
        if (tile_acts_alloc(m, &e->acts[i], err)) {
            engine_free(e);
            return -1;
        }
    for (int i = 0; i < e->n_threads; i++)
        if (tile_grads_alloc(m, &e->scratch[i], err)) {
            engine_free(e);
            return -1;
        }
    *out = e;
    return 0;
}

static const double FIX_SCALE = (double)(1ULL << TRAIN_FIX_BITS);

/* Loss sums in fixed point have their own, coarser scale: a per-sample loss can be ~10^4. */
#define LOSS_FIX_BITS 24

/* Largest per-sample magnitude whose fixed-point sum over a global batch of ng samples stays
 * below 2^62 (so no partial sum can overflow int64): 2^(62 - bits) / ng. */
static double fix_limit(int bits, int ng) { return ldexp(1.0, 62 - bits) / ng; }

/* Per-task gradients of one tile on the dense layer's weights W[o][i], from the unweighted
 * output gradients ur (RUL, [TB]) and uh (health logits, [3][TB]):
 * dL_t/dW[o][i] = sum over lanes of (1 - h_o^2) (head_t^T u_t)_o x_i, with x the dense layer's
 * input. Summed over lanes into out (float) or, per lane in fixed point, into fix. Returns 1
 * when a per-lane value is out of the fixed-point range (or NaN), else 0. */
static int shared_task_grads(const train_engine *e, const float *params, const tile_acts *a, const float *ur,
                             const float *uh, float *dpre, float *out, int64_t *fix, float glim)
{
    const model *m = e->m;
    const int H = m->hidden, nin = (int)((m->off_fb - m->off_fw) / (size_t)H);
    const float *wr = params + m->off_rw, *wh = params + m->off_hw;
    for (int o = 0; o < H; o++) {
        float *dr = dpre + (size_t)o * TB, *dh = dpre + ((size_t)H + o) * TB;
        const float *h = a->h + (size_t)o * TB;
        for (int l = 0; l < TB; l++) {
            float d = 1.0f - h[l] * h[l], sh = 0.0f;
            for (int c = 0; c < MODEL_CLASSES; c++) sh += wh[c * H + o] * uh[c * TB + l];
            dr[l] = d * wr[o] * ur[l];
            dh[l] = d * sh;
        }
    }
    /* the input transposed to [TB][nin], so that the sums over lanes (in lane order, the same
     * for every element) vectorise over the inputs */
    float *xt = dpre + 2 * (size_t)H * TB;
    for (int i = 0; i < nin; i++)
        for (int l = 0; l < TB; l++) xt[(size_t)l * nin + i] = a->xd[(size_t)i * TB + l];
    int over = 0;
    for (int t = 0; t < 2; t++)
        for (int o = 0; o < H; o++) {
            const float *d = dpre + ((size_t)t * H + o) * TB;
            size_t base = ((size_t)t * H + o) * (size_t)nin;
            if (fix) {
                int64_t *dst = fix + base;
                for (int i = 0; i < nin; i++) dst[i] = 0;
                for (int l = 0; l < TB && !over; l++) {
                    const float *x = xt + (size_t)l * nin;
                    float dl = d[l];
                    for (int i = 0; i < nin; i++) {
                        float v = dl * x[i];
                        over |= !(fabsf(v) < glim);
                        dst[i] += (int64_t)((double)v * FIX_SCALE);
                    }
                }
            } else {
                float *dst = out + base;
                for (int i = 0; i < nin; i++) dst[i] = 0.0f;
                for (int l = 0; l < TB; l++) {
                    const float *x = xt + (size_t)l * nin;
                    float dl = d[l];
                    for (int i = 0; i < nin; i++) dst[i] += dl * x[i];
                }
            }
        }
    return over;
}

int engine_grad(train_engine *e, const float *params, const prep_split *s, const int *batch, int ng,
                uint64_t seed, int epoch, int train, float *grad, double *Lr, double *Lh, double *wr, double *wh)
{
    const model *m = e->m;
    const size_t np = m->n_params, nnet = m->n_net;
    long lo, hi;
    dist_share(ng, e->dist->rank, e->dist->size, &lo, &hi);
    const int nl = (int)(hi - lo), ntiles = (nl + TB - 1) / TB;
    const int *shard = batch + lo;

    /* 1. forward over the shard's tiles, per-sample task losses */
#pragma omp parallel for schedule(static)
    for (int t = 0; t < ntiles; t++) {
        int n = nl - t * TB < TB ? nl - t * TB : TB;
        int starts[TB], ids[TB];
        for (int l = 0; l < TB; l++) {
            ids[l] = l < n ? shard[t * TB + l] : -1;
            starts[l] = l < n ? s->win_start[ids[l]] : 0;
        }
        tile_acts *a = &e->acts[t];
        model_gather(m, s->x, starts, n, a);
        model_forward(m, params, a, train, seed, epoch, ids);
        for (int l = 0; l < n; l++)
            model_sample_losses(a, l, s->y[ids[l]], s->h[ids[l]], &e->lr_s[t * TB + l], &e->lh_s[t * TB + l]);
    }

    /* 2. global batch losses: the weights of uw-o / uw-so come from these */
    int bad = 0;
    if (e->deterministic) {
        int64_t fx[2] = {0, 0};
        const double lim = fix_limit(LOSS_FIX_BITS, ng);
        for (int i = 0; i < nl; i++) {
            if (!(fabs(e->lr_s[i]) < lim && fabs(e->lh_s[i]) < lim)) {
                bad = 1;
            } else {
                fx[0] += (int64_t)(e->lr_s[i] * (double)(1 << LOSS_FIX_BITS));
                fx[1] += (int64_t)(e->lh_s[i] * (double)(1 << LOSS_FIX_BITS));
            }
        }
        if (dist_sum_int64(e->dist, fx, 2)) return -1;
        *Lr = (double)fx[0] / (double)(1 << LOSS_FIX_BITS) / ng;
        *Lh = (double)fx[1] / (double)(1 << LOSS_FIX_BITS) / ng;
    } else {
        double sums[2] = {0, 0};
        for (int i = 0; i < nl; i++) {
            sums[0] += e->lr_s[i];
            sums[1] += e->lh_s[i];
        }
        if (dist_sum_double(e->dist, sums, 2)) return -1;
        *Lr = sums[0] / ng;
        *Lh = sums[1] / ng;
    }
    if (dist_any(e->dist, bad || !isfinite(*Lr) || !isfinite(*Lh))) return 1;
    weighting_state *ws = &e->ws;
    ws->seed = seed;
    if (epoch != ws->epoch) ws->epoch = epoch, ws->step = 0;
    if (!ws->have_first) ws->have_first = 1, ws->first[0] = *Lr, ws->first[1] = *Lh;
    const float *extra = params + nnet;
    e->w->m->weights(e->w, ws, extra, *Lr, *Lh, wr, wh);
    const double inv_b = 1.0 / ng;
    const float gr = (float)(*wr * 2.0 * inv_b), gh = (float)(*wh * inv_b);
    const float glim = (float)fix_limit(TRAIN_FIX_BITS, ng);

    /* 3. backward per tile; lanes -> one gradient per tile, summed in a fixed order */
#pragma omp parallel for schedule(static)
    for (int t = 0; t < ntiles; t++) {
        tile_grads *g = &e->scratch[omp_get_thread_num()];
        tile_acts *a = &e->acts[t];
        int n = nl - t * TB < TB ? nl - t * TB : TB;
        const int *ids = shard + t * TB;
        float ur[TB], uh[MODEL_CLASSES * TB]; /* unweighted: d L_t / d output (GradNorm) */
        for (int l = 0; l < TB; l++) {
            int valid = l < n;
            g->dyhat[l] = valid ? gr * (a->yhat[l] - s->y[ids[l]]) : 0.0f;
            ur[l] = valid ? (float)(2.0 * inv_b) * (a->yhat[l] - s->y[ids[l]]) : 0.0f;
            float mx = a->logits[l];
            for (int c = 1; c < MODEL_CLASSES; c++) mx = fmaxf(mx, a->logits[c * TB + l]);
            float p[MODEL_CLASSES], z = 0;
            for (int c = 0; c < MODEL_CLASSES; c++) z += p[c] = expf(a->logits[c * TB + l] - mx);
            for (int c = 0; c < MODEL_CLASSES; c++) {
                float u = valid ? p[c] / z - (c == s->h[ids[l]] ? 1.0f : 0.0f) : 0.0f;
                g->dlogits[c * TB + l] = gh * u;
                uh[c * TB + l] = (float)inv_b * u;
            }
        }
        g->fc_sum = e->deterministic ? NULL : e->tile_grad + (size_t)t * np + m->off_fw;
        int abad = 0;
        if (e->n_aux)
            abad = shared_task_grads(e, params, a, ur, uh,
                                     e->aux_dpre + (size_t)omp_get_thread_num() * e->aux_stride,
                                     e->tile_aux ? e->tile_aux + (size_t)t * e->n_aux : NULL,
                                     e->tile_aux_fix ? e->tile_aux_fix + (size_t)t * e->n_aux : NULL, glim);
        model_backward(m, params, a, g);
        for (size_t k = nnet; k < np; k++)
            for (int l = 0; l < TB; l++) g->lanes[k * TB + l] = 0.0f;
        if (e->w->m->param_grad) {
            float one[8];
            for (int l = 0; l < n; l++) {
                memset(one, 0, sizeof one);
                e->w->m->param_grad(e->w, extra, e->lr_s[t * TB + l], e->lh_s[t * TB + l], inv_b, one);
                for (size_t k = nnet; k < np; k++) g->lanes[k * TB + l] = one[k - nnet];
            }
        }
        int tbad = abad;
        if (e->deterministic) {
            /* exact per-sample sums: one range check over all lanes (false for NaN too),
             * then truncation to fixed point, which vectorises (llrint would not) */
            int64_t *dst = e->tile_fix + (size_t)t * np;
            const float *v = g->lanes;
            int over = 0;
            for (size_t i = 0; i < np * TB; i++) over |= !(fabsf(v[i]) < glim);
            tbad |= over;
            for (size_t k = 0; k < np && !over; k++) {
                int64_t acc = 0;
#pragma omp simd reduction(+ : acc)
                for (int l = 0; l < TB; l++) acc += (int64_t)((double)v[k * TB + l] * FIX_SCALE);
                dst[k] = acc;
            }
        } else {
            /* the dense layer's weights were summed by the backward pass (fc_sum) */
            float *dst = e->tile_grad + (size_t)t * np;
            const size_t fw0 = m->off_fw, fw1 = m->off_fw + (size_t)m->hidden * m->flat;
            for (size_t k = 0; k < np; k++) {
                if (k == fw0) k = fw1;
                float acc = 0;
                for (int l = 0; l < TB; l++) acc += g->lanes[k * TB + l];
                dst[k] = acc;
            }
        }
        e->bad_tile[t] = tbad;
    }
    for (int t = 0; t < ntiles; t++) bad |= e->bad_tile[t];

    /* 4. tiles in order, then one allreduce of the whole buffer */
    if (e->deterministic) {
#pragma omp parallel for schedule(static)
        for (size_t k = 0; k < np; k++) {
            int64_t acc = 0;
            for (int t = 0; t < ntiles; t++) acc += e->tile_fix[(size_t)t * np + k];
            e->fix[k] = acc;
        }
        if (dist_sum_int64(e->dist, e->fix, np)) return -1;
        for (size_t k = 0; k < np; k++) grad[k] = (float)((double)e->fix[k] / FIX_SCALE);
    } else {
#pragma omp parallel for schedule(static)
        for (size_t k = 0; k < np; k++) {
            float acc = 0;
            for (int t = 0; t < ntiles; t++) acc += e->tile_grad[(size_t)t * np + k];
            grad[k] = acc;
        }
        if (dist_sum_float(e->dist, grad, np)) return -1;
    }
    if (e->n_aux) {
        /* the global per-task gradients on the dense layer, in the same fixed order */
        const size_t na = e->n_aux;
        if (e->deterministic) {
#pragma omp parallel for schedule(static)
            for (size_t k = 0; k < na; k++) {
                int64_t acc = 0;
                for (int t = 0; t < ntiles; t++) acc += e->tile_aux_fix[(size_t)t * na + k];
                e->aux_fix[k] = acc;
            }
            if (dist_sum_int64(e->dist, e->aux_fix, na)) return -1;
            for (size_t k = 0; k < na; k++) e->aux[k] = (float)((double)e->aux_fix[k] / FIX_SCALE);
        } else {
#pragma omp parallel for schedule(static)
            for (size_t k = 0; k < na; k++) {
                float acc = 0;
                for (int t = 0; t < ntiles; t++) acc += e->tile_aux[(size_t)t * na + k];
                e->aux[k] = acc;
            }
            if (dist_sum_float(e->dist, e->aux, na)) return -1;
        }
        double gn[2] = {0, 0};
        for (int t = 0; t < 2; t++) {
            const float *v = e->aux + (size_t)t * (na / 2);
            for (size_t k = 0; k < na / 2; k++) gn[t] += (double)v[k] * v[k];
            gn[t] = sqrt(gn[t]);
        }
        e->w->m->shared_grad(e->w, ws, extra, *Lr, *Lh, gn, grad + nnet);
    }
    for (size_t k = 0; k < np && !bad; k++) bad = !isfinite(grad[k]);
    bad = dist_any(e->dist, bad);
    if (!bad) ws->step++;
    return bad;
}

void engine_epoch_end(train_engine *e, double mean_Lr, double mean_Lh)
{
    weighting_state_epoch_end(&e->ws, mean_Lr, mean_Lh);
}

int engine_predict(train_engine *e, const float *params, const prep_split *s, float *pred_rul, int *pred_cls)
{
    const model *m = e->m;
    dist_ctx *d = e->dist;
    long lo, hi;
    dist_share(s->n_win, d->rank, d->size, &lo, &hi);
    int nl = (int)(hi - lo), ntiles = (nl + TB - 1) / TB;
    float *part = malloc(sizeof(float) * 2 * (size_t)(nl > 0 ? nl : 1));
    float *all = malloc(sizeof(float) * 2 * (size_t)(s->n_win > 0 ? s->n_win : 1));
    int *counts = malloc(sizeof(int) * (size_t)d->size);
    if (!part || !all || !counts) {
        free(part), free(all), free(counts);
        return -1;
    }
    /* tiles of the evaluation reuse the per-thread activation buffers in rounds */
    int rounds = (ntiles + e->max_tiles - 1) / e->max_tiles;
    for (int r = 0; r < rounds; r++) {
        int t0 = r * e->max_tiles, t1 = t0 + e->max_tiles < ntiles ? t0 + e->max_tiles : ntiles;
#pragma omp parallel for schedule(static)
        for (int t = t0; t < t1; t++) {
            int base = (int)lo + t * TB;
            int n = (int)hi - base < TB ? (int)hi - base : TB;
            int starts[TB], ids[TB];
            for (int l = 0; l < TB; l++) {
                ids[l] = l < n ? base + l : -1;
                starts[l] = l < n ? s->win_start[base + l] : 0;
            }
            tile_acts *a = &e->acts[t - t0];
            model_gather(m, s->x, starts, n, a);
            model_forward(m, params, a, 0, 0, 0, ids);
            for (int l = 0; l < n; l++) {
                part[2 * (t * TB + l)] = a->yhat[l];
                part[2 * (t * TB + l) + 1] = (float)model_argmax(a, l);
            }
        }
    }
    for (int r = 0; r < d->size; r++) {
        long a, b;
        dist_share(s->n_win, r, d->size, &a, &b);
        counts[r] = (int)(b - a);
    }
    int rc = dist_allgather_float(d, part, nl, all, counts, 2);
    if (rc == 0)
        for (int i = 0; i < s->n_win; i++) {
            pred_rul[i] = all[2 * i];
            pred_cls[i] = (int)all[2 * i + 1];
        }
    free(part), free(all), free(counts);
    return rc;
}

/* ---------------------------------------------------------------- the training loop */

static void shuffle(int *perm, int n, uint64_t seed, int epoch)
{
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rng_below(seed, RNG_SHUFFLE, (uint64_t)epoch, (uint64_t)i, 0, (uint32_t)(i + 1));
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

static int all_finite(const float *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i])) return 0;
    return 1;
}

void train_config_record(const train_config *c, const char *subset, int W, run_record *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->subset, sizeof r->subset, "%s", subset);
    snprintf(r->method, sizeof r->method, "%s", c->method.canon);
    snprintf(r->model, sizeof r->model, "%s", model_name(c->model));
    snprintf(r->protocol, sizeof r->protocol, "%s", protocol_name(c->protocol));
    snprintf(r->norm, sizeof r->norm, "%s", prep_norm_name(c->norm));
    train_lr_step_text(c, r->lr_step, sizeof r->lr_step);
    r->seed = c->seed;
    r->epochs = c->epochs;
    r->window = W;
    r->batch = c->batch;
    r->patience = c->patience;
    r->deterministic = c->deterministic;
    r->lr = c->lr;
    r->dropout = c->dropout;
    r->val_frac = c->val_frac;
    run_config_id(r, r->run_id);
}

static void record_config(const train_config *c, const prep_data *d, dist_ctx *dist, run_record *r)
{
    train_config_record(c, d->subset, d->W, r);
    r->ranks = dist->size;
    r->threads = omp_get_max_threads();
    snprintf(r->git, sizeof r->git, "%s", MTL_GIT);
    snprintf(r->version, sizeof r->version, "%s", MTL_VERSION);
    if (gethostname(r->host, sizeof r->host - 1) != 0) snprintf(r->host, sizeof r->host, "unknown");
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(r->start_time, sizeof r->start_time, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    snprintf(r->status, sizeof r->status, "ok");
}

/* What a run carries from one epoch to the next, besides its parameter buffers. */
typedef struct {
    double best_val, train_time, comm_time, wall_before;
    long samples;
    int since_best;
    double wr, wh;
} train_progress;

/* The configuration a checkpoint must match: the run id, the data it trains and validates
 * on, the parameter count, and the ranks when the sums depend on them. */
static void checkpoint_config(const train_config *c, const prep_data *d, const dist_ctx *dist, const run_record *r,
                              size_t np, char out[CKPT_CONFIG_LEN])
{
    uint64_t h = MTL_FNV_INIT;
    const prep_split *sp[2] = {&d->train, &d->val};
    for (int i = 0; i < 2; i++) {
        const prep_split *s = sp[i];
        h = mtl_fnv1a(h, s->x, sizeof(float) * PREP_FEATURES * (size_t)s->n_rows);
        h = mtl_fnv1a(h, s->win_start, sizeof(int) * (size_t)s->n_win);
        h = mtl_fnv1a(h, s->y, sizeof(float) * (size_t)s->n_win);
        h = mtl_fnv1a(h, s->h, (size_t)s->n_win);
    }
    char ranks[32];
    if (c->deterministic) snprintf(ranks, sizeof ranks, "any");
    else snprintf(ranks, sizeof ranks, "%d", dist->size);
    snprintf(out, CKPT_CONFIG_LEN, "run %s, data %016llx, %zu parameters, ranks %s", r->run_id,
             (unsigned long long)h, np, ranks);
}

/* A checkpoint that cannot be used (err says why, on rank 0) is moved into bad/ beside it,
 * with a warning, and the run starts afresh. Returns 0. */
static int set_aside(const train_config *c, const dist_ctx *dist, const mtl_err *why)
{
    if (dist->rank != 0) return 0;
    char *to = NULL;
    mtl_err e;
    if (mtl_move_aside(c->checkpoint, &to, &e) == 0)
        fprintf(stderr, "warning: %s; moved to %s, starting this run afresh\n", why->msg, to);
    else
        fprintf(stderr, "warning: %s; starting this run afresh (%s)\n", why->msg, e.msg);
    free(to);
    return 0;
}

/* Restores the state of c->checkpoint when there is one: parameters (GradNorm's weights among
 * them), Adam, and the method's weighting_state (DWA's loss history, the first losses, the
 * step). Rank 0 reads the file, every rank decodes the same bytes. Returns 0 (resumed, or
 * nothing to resume), TRAIN_REFUSED or -1. */
static int checkpoint_resume(const train_config *c, const char *config, dist_ctx *dist, float *params, float *best,
                             adam *opt, weighting_state *ws, run_record *r, train_progress *p, mtl_err *err)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    long hdr[2] = {0, 0}; /* read status, length */
    if (dist->rank == 0) {
        hdr[0] = ckpt_read_file(c->checkpoint, ckpt_max_size(opt->n, c->epochs, sizeof *ws), &buf, &len, err);
        hdr[1] = (long)len;
    }
    if (dist_bcast_bytes(dist, hdr, sizeof hdr)) return mtl_fail(err, "MPI error while sharing the checkpoint");
    if (hdr[0] == CKPT_MISSING) return 0;
    if (hdr[0] != CKPT_OK) {
        if (c->checkpoint_replace) return set_aside(c, dist, err);
        if (dist->rank != 0) mtl_fail(err, "%s: rank 0 cannot read the checkpoint", c->checkpoint);
        return TRAIN_REFUSED;
    }
    if (dist->rank != 0 && !(buf = mtl_alloc((size_t)hdr[1] + 1, 1, err))) return -1;
    len = (size_t)hdr[1];
    if (dist_bcast_bytes(dist, buf, len)) {
        free(buf);
        return mtl_fail(err, "MPI error while sharing the checkpoint");
    }
    checkpoint k;
    int st = ckpt_decode(buf, len, config, c->checkpoint, &k, err);
    free(buf);
    if (st == CKPT_OK && (k.n_params != opt->n || k.method_len != sizeof *ws || k.n_hist > c->epochs)) {
        mtl_fail(err, "%s: checkpoint of another layout (%zu parameters, %d epochs)", c->checkpoint, k.n_params,
                 k.n_hist);
        ckpt_free(&k);
        st = -1;
    }
    if (st != CKPT_OK) return c->checkpoint_replace ? set_aside(c, dist, err) : TRAIN_REFUSED;
    size_t pb = opt->n * sizeof(float);
    memcpy(params, k.params, pb);
    memcpy(best, k.best, pb);
    memcpy(opt->m, k.adam_m, pb);
    memcpy(opt->v, k.adam_v, pb);
    opt->t = k.step;
    opt->lr = k.lr;
    memcpy(ws, k.method_state, sizeof *ws);
    memcpy(r->hist, k.hist, sizeof(run_epoch) * (size_t)k.n_hist);
    r->n_hist = k.n_hist;
    r->best_epoch = k.best_epoch;
    r->resumed_from_epoch = k.epoch;
    p->best_val = k.best_val;
    p->since_best = k.since_best;
    p->samples = k.samples;
    p->train_time = k.train_time;
    p->comm_time = k.comm_time;
    p->wall_before = k.wall_s;
    p->wr = k.w_rul;
    p->wh = k.w_health;
    ckpt_free(&k);
    return 0;
}

/* Rank 0 writes the state after epoch r->n_hist to c->checkpoint. */
static int checkpoint_save(const train_config *c, const char *config, const float *params, const float *best,
                           const adam *opt, const weighting_state *ws, const run_record *r, const train_progress *p,
                           double wall, mtl_err *err)
{
    checkpoint k;
    memset(&k, 0, sizeof k);
    snprintf(k.config, sizeof k.config, "%s", config);
    k.epoch = r->n_hist;
    k.step = opt->t;
    k.lr = opt->lr;
    k.best_epoch = r->best_epoch;
    k.since_best = p->since_best;
    k.best_val = p->best_val;
    k.samples = p->samples;
    k.train_time = p->train_time;
    k.comm_time = p->comm_time;
    k.wall_s = wall;
    k.w_rul = p->wr;
    k.w_health = p->wh;
    k.n_params = opt->n;
    k.params = (float *)params, k.best = (float *)best, k.adam_m = opt->m, k.adam_v = opt->v;
    k.n_hist = r->n_hist;
    k.hist = r->hist;
    k.method_state = (void *)ws;
    k.method_len = sizeof *ws;
    unsigned char *buf;
    size_t len;
    if (ckpt_encode(&k, &buf, &len, err)) return -1;
    int rc = ckpt_write_file(c->checkpoint, buf, len, err);
    free(buf);
    return rc;
}

/* At an epoch boundary, every rank learns whether any was asked to stop and whether rank
 * 0 failed to write the checkpoint: 0 go on, TRAIN_STOPPED, or -1 (err set). */
static int epoch_boundary(const train_config *c, dist_ctx *dist, int save_failed, mtl_err *err)
{
    if (!c->stop && !c->checkpoint) return 0;
    int64_t f[2] = {c->stop ? c->stop(c->stop_ctx) != 0 : 0, save_failed};
    if (dist_sum_int64(dist, f, 2)) return mtl_fail(err, "MPI error at the end of an epoch");
    if (f[1]) {
        if (!save_failed) mtl_fail(err, "%s: rank 0 could not write the checkpoint", c->checkpoint);
        return TRAIN_CKPT_FAILED;
    }
    return f[0] ? TRAIN_STOPPED : 0;
}

int train_run(const train_config *c, const prep_data *d, dist_ctx *dist, run_record *r, mtl_err *err)
{
    double t_start = mtl_now();
    record_config(c, d, dist, r);
    model m;
    if (model_init(&m, c->model, d->W, (float)c->dropout, (size_t)c->method.m->n_params, err)) return -1;
    const prep_split *tr = &d->train, *va = &d->val, *te = &d->test;
    if (prep_check_trainable(d, err)) return -1;
    const int has_val = d->n_val_units > 0;
    if (!has_val && c->patience > 0) return mtl_fail(err, "early stopping (--patience) needs a validation set (--val-frac > 0)");

    const size_t np = m.n_params;
    const int N = tr->n_win, B = c->batch;
    float *params = mtl_alloc_aligned(np * sizeof(float), err);
    float *best = mtl_alloc_aligned(np * sizeof(float), err);
    float *grad = mtl_alloc_aligned(np * sizeof(float), err);
    int *perm = mtl_alloc((size_t)N, sizeof(int), err);
    int nmax = va->n_win > te->n_win ? va->n_win : te->n_win;
    float *pred = mtl_alloc((size_t)nmax, sizeof(float), err);
    int *cls = mtl_alloc((size_t)nmax, sizeof(int), err);
    r->hist = mtl_calloc((size_t)c->epochs, sizeof(run_epoch), err);
    adam opt = {0};
    train_engine *e = NULL;
    int rc = -1;
    if (!params || !best || !grad || !perm || !pred || !cls || !r->hist) goto out;
    if (adam_init(&opt, np, c->lr, err)) goto out;
    /* buffers for the largest batch that can occur: a batch above N is the whole set */
    if (engine_create(&m, &c->method, c->deterministic, B < N ? B : N, dist, &e, err)) goto out;

    model_init_params(&m, params, (uint64_t)c->seed);
    if (c->method.m->init) c->method.m->init(&c->method, params + m.n_net);
    memcpy(best, params, np * sizeof(float));

    FILE *out = c->progress ? c->progress : stderr;
    int show = !c->quiet && dist->rank == 0;
    train_progress prog = {INFINITY, 0, 0, 0, 0, 0, NAN, NAN};
    char ckpt_config[CKPT_CONFIG_LEN];
    if (c->checkpoint) {
        checkpoint_config(c, d, dist, r, np, ckpt_config);
        int st = checkpoint_resume(c, ckpt_config, dist, params, best, &opt, &e->ws, r, &prog, err);
        if (st) {
            rc = st;
            goto out;
        }
        if (show && r->resumed_from_epoch > 0)
            fprintf(out, "%sresumed from epoch %d (%s)\n", c->label ? c->label : "", r->resumed_from_epoch,
                    c->checkpoint);
    }
    double best_val = prog.best_val, train_time = prog.train_time, comm_time = prog.comm_time;
    long samples = prog.samples;
    int since_best = prog.since_best, save_failed = 0, first = r->resumed_from_epoch + 1;
    double wr = prog.wr, wh = prog.wh;
    for (int ep = first; ep <= c->epochs; ep++) {
        if (c->patience > 0 && since_best >= c->patience) break;
        int b = epoch_boundary(c, dist, save_failed, err);
        if (b) {
            rc = b;
            goto out;
        }
        shuffle(perm, N, (uint64_t)c->seed, ep);
        dist_barrier(dist);
        double comm0 = dist->comm_seconds, t0 = mtl_now();
        double sum_lr = 0, sum_lh = 0, sum_wr = 0, sum_wh = 0;
        int steps = 0, diverged = 0;
        for (int i = 0; i < N; i += B) {
            int ng = N - i < B ? N - i : B;
            double Lr, Lh;
            int st = engine_grad(e, params, tr, perm + i, ng, (uint64_t)c->seed, ep, 1, grad, &Lr, &Lh, &wr, &wh);
            if (st < 0) {
                mtl_fail(err, "MPI error during the gradient allreduce");
                goto out;
            }
            if (st > 0) {
                diverged = 1;
                break;
            }
            adam_step(&opt, params, grad);
            if (c->method.m->after_step) c->method.m->after_step(&c->method, params + m.n_net);
            if (c->poll) c->poll(c->poll_ctx);
            sum_lr += Lr * ng;
            sum_lh += Lh * ng;
            sum_wr += wr;
            sum_wh += wh;
            steps++;
            samples += ng;
        }
        if (!diverged) diverged = dist_any(dist, !all_finite(params, np));
        double t_ep = mtl_now() - t0, c_ep = dist->comm_seconds - comm0;
        train_time += t_ep;
        comm_time += c_ep;
        run_epoch *h = &r->hist[r->n_hist++];
        h->epoch = ep;
        h->seconds = t_ep;
        h->comm_seconds = c_ep;
        h->compute_seconds = t_ep - c_ep;
        h->samples_per_s = steps ? (double)N / t_ep : 0;
        h->loss_rul = steps ? sum_lr / N : NAN;
        h->loss_health = steps ? sum_lh / N : NAN;
        h->w_rul = steps ? sum_wr / steps : NAN;
        h->w_health = steps ? sum_wh / steps : NAN;
        h->s_rul = m.n_extra >= 2 ? params[m.n_net] : NAN;
        h->s_health = m.n_extra >= 2 ? params[m.n_net + 1] : NAN;
        h->val_rmse = h->val_acc = NAN;
        if (!diverged) engine_epoch_end(e, h->loss_rul, h->loss_health);
        if (diverged) {
            snprintf(r->status, sizeof r->status, "diverged");
            if (!has_val) r->best_epoch = 0; /* the last parameters are not finite: nothing to test */
            if (show) fprintf(out, "%sepoch %d: non-finite loss or parameter, run diverged\n", c->label ? c->label : "", ep);
            break;
        }
        if (c->lr_step_epoch > 0 && ep == c->lr_step_epoch) opt.lr *= c->lr_step_factor;
        if (!has_val) {
            r->best_epoch = ep; /* no validation: the last epoch's parameters are evaluated */
        } else {
            if (engine_predict(e, params, va, pred, cls)) {
                mtl_fail(err, "MPI error during validation");
                goto out;
            }
            h->val_rmse = metric_rmse(pred, va->y, va->n_win);
            int hit = 0;
            for (int i = 0; i < va->n_win; i++) hit += cls[i] == va->h[i];
            h->val_acc = (double)hit / va->n_win;
            if (h->val_rmse < best_val) {
                best_val = h->val_rmse;
                r->best_epoch = ep;
                memcpy(best, params, np * sizeof(float));
                since_best = 0;
            } else {
                since_best++;
            }
        }
        if (show) {
            char eta[32];
            mtl_fmt_duration((mtl_now() - t_start) / (ep - first + 1) * (c->epochs - ep), eta, sizeof eta);
            char val[32] = "";
            if (has_val) snprintf(val, sizeof val, "  val_rmse %6.2f", h->val_rmse);
            fprintf(out, "%sepoch %3d/%d  L_r %8.2f  L_h %.4f  w_r %.4g  w_h %.4g%s  %7.0f samples/s  ETA %s\n",
                    c->label ? c->label : "", ep, c->epochs, h->loss_rul, h->loss_health, h->w_rul, h->w_health, val,
                    h->samples_per_s, eta);
            fflush(out);
        }
        /* after the last epoch only the result is written: a run killed before that redoes
         * its last epoch from the previous checkpoint, to the same result */
        if (c->checkpoint && dist->rank == 0 && ep < c->epochs) {
            train_progress now = {best_val, train_time, comm_time, 0, samples, since_best, wr, wh};
            save_failed = checkpoint_save(c, ckpt_config, params, best, &opt, &e->ws, r, &now,
                                          prog.wall_before + mtl_now() - t_start, err) != 0;
        }
    }
    if (save_failed) fprintf(stderr, "mtlbench: warning: %s\n", err->msg); /* after the last epoch */
    if (!has_val) memcpy(best, params, np * sizeof(float));
    r->epochs_run = r->n_hist;
    r->best_val_rmse = has_val ? best_val : NAN;
    r->w_rul = wr;
    r->w_health = wh;
    r->samples_per_s = train_time > 0 ? (double)samples / train_time : 0;
    r->comm_fraction = train_time > 0 ? comm_time / train_time : 0;
    uint64_t dig = mtl_fnv1a(MTL_FNV_INIT, params, np * sizeof(float));
    snprintf(r->param_digest, sizeof r->param_digest, "%016llx", (unsigned long long)dig);

    /* test at the best-validation parameters */
    r->rmse = r->rmse_uncapped = r->mae = r->score = r->acc = r->f1 = NAN;
    r->n_test = te->n_win;
    r->test = mtl_calloc((size_t)te->n_win, sizeof(run_test_row), err);
    if (!r->test) goto out;
    if (r->best_epoch > 0) {
        if (engine_predict(e, best, te, pred, cls)) {
            mtl_fail(err, "MPI error during the test evaluation");
            goto out;
        }
        int *truth = mtl_alloc((size_t)te->n_win, sizeof(int), err);
        if (!truth) goto out;
        for (int i = 0; i < te->n_win; i++) truth[i] = te->h[i];
        r->rmse = metric_rmse(pred, te->y, te->n_win);
        r->rmse_uncapped = metric_rmse(pred, te->y_raw, te->n_win);
        r->mae = metric_mae(pred, te->y, te->n_win);
        r->score = metric_nasa_score(pred, te->y, te->n_win);
        r->acc = metric_accuracy(cls, truth, te->n_win);
        r->f1 = metric_macro_f1(cls, truth, te->n_win, MODEL_CLASSES);
        free(truth);
    } else { /* diverged in the first epoch: no parameters to test */
        for (int i = 0; i < te->n_win; i++) pred[i] = NAN, cls[i] = -1;
    }
    for (int i = 0; i < te->n_win; i++) {
        run_test_row *row = &r->test[i];
        row->unit = te->unit[i];
        row->pred_rul = pred[i];
        row->true_rul = te->y[i];
        row->true_rul_raw = te->y_raw[i];
        row->pred_health = cls[i];
        row->true_health = te->h[i];
    }
    r->wall_s = prog.wall_before + mtl_now() - t_start;
    rc = 0;
out:
    engine_free(e);
    adam_free(&opt);
    mtl_free_aligned(params), mtl_free_aligned(best), mtl_free_aligned(grad);
    free(perm), free(pred), free(cls);
    return rc;
}
