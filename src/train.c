#define _POSIX_C_SOURCE 200809L
#include "train.h"
#include "checkpoint.h"
#include "metrics.h"
#include "model.h"
#include "optim.h"
#include "reduce.h"
#include "rng.h"
#include "version.h"

#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct train_engine {
    const model *m;
    const weighting *w;
    dist_ctx *dist;
    int max_tiles, n_threads, n_acts;
    /* n_acts = max(max_tiles, n_threads) buffers: tile t's is acts[t] when every forward
     * pass runs first (and in evaluation, by rounds of max_tiles tiles), thread k's is
     * acts[k] when each tile's backward pass follows its forward pass */
    tile_acts *acts;
    tile_grads *scratch;      /* one per thread */
    double *sample_rul, *sample_health;  /* per-sample task losses of the shard, [max_tiles * TB] */
    int *bad_tile;
    weighting_state ws;       /* the method's view of the run (epoch, step, loss history) */
    reduction losses;         /* the global batch losses */
    reduction grad;           /* the gradient buffer: network + the method's parameters */
    /* methods trained on the task gradients (GradNorm): the gradients of the unweighted task
     * losses on the dense layer's weights, [2][hidden][fc inputs] */
    size_t n_task;
    reduction task;
    float *task_grad;         /* [n_task] global sums */
    float *task_scratch;      /* [n_threads][task_stride]: deltas [2][hidden][TB], inputs [TB][fc inputs] */
    size_t task_stride;
    phase_clock *clock;       /* NULL, or where the phases' time goes (one thread) */
};

/* A tile of a shard: its lanes' dataset indices (the first n valid). */
typedef struct {
    int n;
    const int *ids;
} shard_tile;

/* This rank's contiguous part of a global batch, in tiles of TB. */
typedef struct {
    const int *windows;
    int n, tiles;
} shard;

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
    if (!(c->given & GIVEN_NORM_SCOPE)) c->norm_scope = li ? PREP_SCOPE_GLOBAL : PREP_SCOPE_REGIME;
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
    prep_options po = {.window = window, .val_frac = c->val_frac, .seed = (uint64_t)c->seed, .norm = c->norm,
                       .norm_scope = c->norm_scope};
    return po;
}

void engine_free(train_engine *e)
{
    if (!e) return;
    for (int i = 0; i < e->n_acts && e->acts; i++) tile_acts_free(&e->acts[i]);
    for (int i = 0; i < e->n_threads && e->scratch; i++) tile_grads_free(&e->scratch[i]);
    free(e->acts), free(e->scratch), free(e->sample_rul), free(e->sample_health), free(e->bad_tile);
    reduction_free(&e->losses);
    reduction_free(&e->grad);
    reduction_free(&e->task);
    free(e->task_grad), free(e->task_scratch);
    free(e);
}

/* Loss sums in fixed point have their own, coarser scale: a per-sample loss can be ~10^4. */
#define LOSS_FIX_BITS 24

int engine_create(const model *m, const weighting *w, int deterministic, int max_batch, dist_ctx *dist,
                  train_engine **out, mtl_err *err)
{
    if (m->n_extra > 8) return mtl_fail(err, "a weighting method may have at most 8 parameters");
    train_engine *e = mtl_calloc(1, sizeof *e, err);
    if (!e) return -1;
    e->m = m;
    e->w = w;
    e->dist = dist;
    long lo, hi, most = 0;
    for (int r = 0; r < dist->size; r++) {
        dist_share(max_batch, r, dist->size, &lo, &hi);
        if (hi - lo > most) most = hi - lo;
    }
    e->max_tiles = (int)((most + TB - 1) / TB);
    if (e->max_tiles < 1) e->max_tiles = 1;
    e->n_threads = omp_get_max_threads();
    e->n_acts = e->max_tiles > e->n_threads ? e->max_tiles : e->n_threads;
    size_t nt = (size_t)e->max_tiles;
    e->acts = mtl_calloc((size_t)e->n_acts, sizeof(tile_acts), err);
    e->scratch = mtl_calloc((size_t)e->n_threads, sizeof(tile_grads), err);
    e->sample_rul = mtl_calloc(nt * TB, sizeof(double), err);
    e->sample_health = mtl_calloc(nt * TB, sizeof(double), err);
    e->bad_tile = mtl_calloc(nt, sizeof(int), err);
    if (!e->acts || !e->scratch || !e->sample_rul || !e->sample_health || !e->bad_tile ||
        reduction_init(&e->losses, deterministic, LOSS_FIX_BITS, 2, 0, err) ||
        reduction_init(&e->grad, deterministic, TRAIN_FIX_BITS, m->n_params, e->max_tiles, err))
        goto fail;
    weighting_state_init(&e->ws, 0);
    if (w->def->shared_grad) {
        e->n_task = 2 * (size_t)m->hidden * (size_t)m->flat;
        e->task_stride = (2 * (size_t)m->hidden + (size_t)m->flat) * TB;
        e->task_scratch = mtl_calloc((size_t)e->n_threads * e->task_stride, sizeof(float), err);
        e->task_grad = mtl_calloc(e->n_task, sizeof(float), err);
        if (!e->task_scratch || !e->task_grad ||
            reduction_init(&e->task, deterministic, TRAIN_FIX_BITS, e->n_task, e->max_tiles, err))
            goto fail;
    }
    for (int i = 0; i < e->n_acts; i++)
        if (tile_acts_alloc(m, &e->acts[i], err)) goto fail;
    for (int i = 0; i < e->n_threads; i++)
        if (tile_grads_alloc(m, &e->scratch[i], err)) goto fail;
    *out = e;
    return 0;
fail:
    engine_free(e);
    return -1;
}

static shard shard_of(const train_engine *e, const train_batch *b)
{
    long lo, hi;
    dist_share(b->n, e->dist->rank, e->dist->size, &lo, &hi);
    shard sh = {.windows = b->windows + lo, .n = (int)(hi - lo)};
    sh.tiles = (sh.n + TB - 1) / TB;
    return sh;
}

static shard_tile tile_of(const shard *sh, int t)
{
    shard_tile st = {.n = sh->n - t * TB < TB ? sh->n - t * TB : TB, .ids = sh->windows + t * TB};
    return st;
}

/* Tile t's forward pass into a, with dropout; its per-sample task losses. */
static void forward_tile(train_engine *e, const float *params, const train_batch *b, const shard *sh, int t,
                         tile_acts *a)
{
    const prep_split *s = b->split;
    shard_tile st = tile_of(sh, t);
    int starts[TB], ids[TB];
    for (int l = 0; l < TB; l++) {
        ids[l] = l < st.n ? st.ids[l] : -1;
        starts[l] = l < st.n ? s->win_start[ids[l]] : 0;
    }
    model_gather(e->m, s->x, starts, st.n, a);
    phase_end(e->clock, PHASE_GATHER);
    model_forward(e->m, params, a, 1, b->seed, b->epoch, ids, e->clock);
    for (int l = 0; l < st.n; l++)
        model_sample_losses(a, l, s->y[ids[l]], s->h[ids[l]], &e->sample_rul[t * TB + l], &e->sample_health[t * TB + l]);
    phase_end(e->clock, PHASE_HEADS_LOSS);
}

/* The threads of a loop over tiles: as many as OpenMP would use, but never more than the
 * engine has per-thread buffers for. The results do not depend on it. */
static int tile_threads(const train_engine *e)
{
    const int t = omp_get_max_threads();
    return t < e->n_threads ? t : e->n_threads;
}

/* Phase 1: forward over the shard's tiles, each into its own activations. */
static void forward_tiles(train_engine *e, const float *params, const train_batch *b, const shard *sh)
{
#pragma omp parallel for schedule(static) num_threads(tile_threads(e))
    for (int t = 0; t < sh->tiles; t++) forward_tile(e, params, b, sh, t, &e->acts[t]);
}

/* Phase 2: the global batch losses, summed over the ranks (the weights of uw-o, uw-so, gls
 * come from these). 0, 1 when a loss is not finite (on every rank alike), -1 on MPI errors. */
static int global_losses(train_engine *e, const shard *sh, int batch, step_losses *out)
{
    double sums[2];
    reduction_begin(&e->losses, batch);
    int over = reduction_sum_pairs(&e->losses, e->sample_rul, e->sample_health, sh->n, e->dist, sums);
    if (over < 0) return -1;
    out->rul = sums[0] / batch;
    out->health = sums[1] / batch;
    phase_end(e->clock, PHASE_HEADS_LOSS);
    return dist_any(e->dist, over || !isfinite(out->rul) || !isfinite(out->health));
}

/* The method's weighting_state at the start of a step: its seed, epoch and step. */
static void method_begin(train_engine *e, const train_batch *b)
{
    weighting_state *ws = &e->ws;
    ws->seed = b->seed;
    if (b->epoch != ws->epoch) ws->epoch = b->epoch, ws->step = 0;
}

/* The global batch losses of the run's first good step, which GradNorm's targets divide by. */
static void method_first_losses(train_engine *e, const step_losses *l)
{
    weighting_state *ws = &e->ws;
    if (!ws->have_first) ws->have_first = 1, ws->first[0] = l->rul, ws->first[1] = l->health;
}

/* Phase 3: the task weights of this step, from the method, given the batch losses (NaN for
 * a method with weights_before_forward, which never reads them). With method_begin and
 * method_first_losses the only places that move the method's weighting_state forward (its
 * step counter moves after a good step). */
static void method_weights(train_engine *e, const float *params, double Lr, double Lh, step_losses *out)
{
    e->w->def->weights(e->w, &e->ws, params + e->m->n_net, Lr, Lh, &out->w_rul, &out->w_health);
    phase_end(e->clock, PHASE_METHOD);
}

/* GradNorm's per-task gradients of tile t on the dense layer's weights, from the unweighted
 * output gradients of the tile (scaled to the batch mean). 1 when out of range. */
static int put_task_grads(train_engine *e, const float *params, const tile_acts *a, int t, const float *rul_grad,
                          const float *health_grad)
{
    const model *m = e->m;
    const size_t H = (size_t)m->hidden, nin = (size_t)m->flat;
    float *delta = e->task_scratch + (size_t)omp_get_thread_num() * e->task_stride, *xt = delta + 2 * H * TB;
    model_task_dense_deltas(m, params, a, rul_grad, health_grad, delta);
    model_dense_inputs_by_lane(m, a, xt);
    return reduction_put_outer(&e->task, t, 0, (int)(2 * H), nin, delta, xt);
}

/* The dense layer's weight gradient of tile t straight into the gradient reduction: for
 * each output o the lanes' products of its pre-activation gradient and the inputs, the
 * products that per-lane gradients would hold, never stored. 1 when out of range. */
static int put_dense_products(train_engine *e, const tile_acts *a, int t, tile_grads *g)
{
    const model *m = e->m;
    const size_t nin = (size_t)m->flat;
    model_dense_inputs_by_lane(m, a, g->xT);
    return reduction_put_outer(&e->grad, t, m->off_fw, m->hidden, nin, g->dh, g->xT);
}

/* The per-lane gradients of the method's own parameters (uw's log-variances, imtl-l's s). */
static void method_param_lanes(const train_engine *e, const float *params, int t, int n, double inv_batch,
                               tile_grads *g)
{
    const size_t nnet = e->m->n_net, np = e->m->n_params;
    for (size_t k = nnet; k < np; k++)
        for (int l = 0; l < TB; l++) g->lanes[k * TB + l] = 0.0f;
    if (!e->w->def->param_grad) return;
    float one[8];
    for (int l = 0; l < n; l++) {
        memset(one, 0, sizeof one);
        e->w->def->param_grad(e->w, params + nnet, e->sample_rul[t * TB + l], e->sample_health[t * TB + l], inv_batch,
                            one);
        for (size_t k = nnet; k < np; k++) g->lanes[k * TB + l] = one[k - nnet];
    }
}

/* The reductions a step's backward passes put their tiles into. */
static void backward_begin(train_engine *e, const train_batch *b)
{
    reduction_begin(&e->grad, b->n);
    if (e->n_task) reduction_begin(&e->task, b->n);
}

/* Tile t's backward pass from its activations a, with the weighted loss gradients; its lanes
 * go into the gradient reduction (and GradNorm's task reduction), and bad_tile[t] is 1 when a
 * value is out of range. */
static void backward_tile(train_engine *e, const float *params, const train_batch *b, const shard *sh, int t,
                          const step_losses *w, tile_acts *a)
{
    const model *m = e->m;
    const prep_split *s = b->split;
    const double inv_b = 1.0 / b->n;
    const float rul_scale = (float)(w->w_rul * 2.0 * inv_b), health_scale = (float)(w->w_health * inv_b);
    const float rul_mean = (float)(2.0 * inv_b), health_mean = (float)inv_b;
    tile_grads *g = &e->scratch[omp_get_thread_num()];
    shard_tile st = tile_of(sh, t);
    float y[TB] = {0};
    int label[TB] = {0};
    for (int l = 0; l < st.n; l++) y[l] = s->y[st.ids[l]], label[l] = s->h[st.ids[l]];
    model_loss_grads(a, st.n, y, label, g->dyhat, g->dlogits);
    /* unweighted batch-mean gradients for GradNorm, then the weighted ones */
    float rul_grad[TB], health_grad[MODEL_CLASSES * TB];
    for (int l = 0; l < TB; l++) rul_grad[l] = rul_mean * g->dyhat[l], g->dyhat[l] *= rul_scale;
    for (int k = 0; k < MODEL_CLASSES * TB; k++)
        health_grad[k] = health_mean * g->dlogits[k], g->dlogits[k] *= health_scale;
    float *sums = reduction_tile_floats(&e->grad, t);
    /* float sums: the backward pass sums the dense weights' gradient; exact sums: its
     * products go to fixed point as they are formed, in put_dense_products */
    g->fc_sum = sums ? sums + m->off_fw : NULL;
    phase_end(e->clock, PHASE_HEADS_LOSS);
    int over = e->n_task ? put_task_grads(e, params, a, t, rul_grad, health_grad) : 0;
    phase_end(e->clock, PHASE_METHOD);
    model_backward(m, params, a, g, e->clock);
    method_param_lanes(e, params, t, st.n, inv_b, g);
    phase_end(e->clock, PHASE_METHOD);
    /* every parameter's lanes but the dense layer's weights, which the backward pass
     * summed (float mode) or left to put_dense_products (exact mode) */
    const size_t fw1 = m->off_fw + (size_t)m->hidden * m->flat;
    over |= reduction_put_lanes(&e->grad, t, 0, m->off_fw, g->lanes);
    over |= reduction_put_lanes(&e->grad, t, fw1, m->n_params, g->lanes);
    phase_end(e->clock, PHASE_LANE_SUMS);
    if (!g->fc_sum) {
        over |= put_dense_products(e, a, t, g);
        phase_end(e->clock, PHASE_DENSE_BWD); /* the dense weights' gradient, in fixed point */
    }
    e->bad_tile[t] = over;
}

static int any_bad_tile(const train_engine *e, const shard *sh)
{
    int bad = 0;
    for (int t = 0; t < sh->tiles; t++) bad |= e->bad_tile[t];
    return bad;
}

/* Phase 4: backward per tile, each from its own activations. 1 when a value is out of range. */
static int backward_tiles(train_engine *e, const float *params, const train_batch *b, const shard *sh,
                          const step_losses *w)
{
    backward_begin(e, b);
#pragma omp parallel for schedule(static) num_threads(tile_threads(e))
    for (int t = 0; t < sh->tiles; t++) backward_tile(e, params, b, sh, t, w, &e->acts[t]);
    return any_bad_tile(e, sh);
}

/* Phases 1 and 4 at once, for a method whose weights are known before the step: each tile's
 * forward pass and then its backward pass, in one activation buffer per thread, so that the
 * backward pass finds the activations in cache. The same arithmetic on every tile as
 * forward_tiles then backward_tiles, so the same bits. 1 when a value is out of range. */
static int forward_backward_tiles(train_engine *e, const float *params, const train_batch *b, const shard *sh,
                                  const step_losses *w)
{
    backward_begin(e, b);
#pragma omp parallel for schedule(static) num_threads(tile_threads(e))
    for (int t = 0; t < sh->tiles; t++) {
        tile_acts *a = &e->acts[omp_get_thread_num()];
        forward_tile(e, params, b, sh, t, a);
        backward_tile(e, params, b, sh, t, w, a);
    }
    return any_bad_tile(e, sh);
}

/* Phase 5: the tiles in order, then one allreduce of the whole gradient buffer (and one of
 * GradNorm's task gradients, whose norms give the gradient of its weights). 0, 1 when a
 * gradient is not finite (every rank alike), -1 on MPI errors. */
static int reduce_gradients(train_engine *e, const float *params, const shard *sh, const step_losses *w, int bad,
                            float *grad)
{
    const size_t nnet = e->m->n_net, np = e->m->n_params;
    if (reduction_reduce(&e->grad, sh->tiles, e->dist, grad)) return -1;
    if (e->n_task) {
        const size_t half = e->n_task / 2;
        if (reduction_reduce(&e->task, sh->tiles, e->dist, e->task_grad)) return -1;
        double norm[2] = {0, 0};
        for (int t = 0; t < 2; t++) {
            const float *v = e->task_grad + (size_t)t * half;
            for (size_t k = 0; k < half; k++) norm[t] += (double)v[k] * v[k];
            norm[t] = sqrt(norm[t]);
        }
        e->w->def->shared_grad(e->w, &e->ws, params + nnet, w->rul, w->health, norm, grad + nnet);
    }
    for (size_t k = 0; k < np && !bad; k++) bad = !isfinite(grad[k]);
    int st = dist_any(e->dist, bad);
    phase_end(e->clock, PHASE_ALLREDUCE);
    return st;
}

/* Phases 1 to 4 in the order of the losses: every tile's forward pass, the batch losses, the
 * weights from them, every tile's backward pass. *bad as backward_tiles; returns as
 * global_losses, and on a lost step leaves the method's state and out's weights as they were. */
static int losses_first(train_engine *e, const float *params, const train_batch *b, const shard *sh,
                        step_losses *out, int *bad)
{
    forward_tiles(e, params, b, sh);
    int st = global_losses(e, sh, b->n, out);
    if (st) return st;
    method_begin(e, b);
    method_first_losses(e, out);
    method_weights(e, params, out->rul, out->health, out);
    *bad = backward_tiles(e, params, b, sh, out);
    return 0;
}

/* The same phases for a method with weights_before_forward: the weights, each tile's forward
 * and backward passes back to back, the batch losses. The same bits, the same state and the
 * same *out as losses_first, lost steps included. */
static int weights_first(train_engine *e, const float *params, const train_batch *b, const shard *sh,
                         step_losses *out, int *bad)
{
    const weighting_state before = e->ws;
    step_losses w;
    method_begin(e, b);
    method_weights(e, params, NAN, NAN, &w);
    *bad = forward_backward_tiles(e, params, b, sh, &w);
    int st = global_losses(e, sh, b->n, out);
    if (st) {
        e->ws = before;
        return st;
    }
    method_first_losses(e, out);
    out->w_rul = w.w_rul, out->w_health = w.w_health;
    return 0;
}

int engine_grad(train_engine *e, const float *params, const train_batch *b, float *grad, step_losses *out)
{
    if (e->clock && omp_get_max_threads() != 1) e->clock = NULL; /* a clock times one thread */
    phase_start(e->clock);
    shard sh = shard_of(e, b);
    int bad = 0;
    int st = e->w->def->weights_before_forward ? weights_first(e, params, b, &sh, out, &bad)
                                               : losses_first(e, params, b, &sh, out, &bad);
    if (st) return st;
    st = reduce_gradients(e, params, &sh, out, bad, grad);
    if (st == 0) e->ws.step++;
    return st;
}

int engine_step(train_engine *e, float *params, adam *opt, const train_batch *b, float *grad, step_losses *out)
{
    int st = engine_grad(e, params, b, grad, out);
    if (st) return st;
    adam_step(opt, params, grad);
    if (e->w->def->after_step) e->w->def->after_step(e->w, params + e->m->n_net);
    phase_end(e->clock, PHASE_ADAM);
    return 0;
}

int engine_set_clock(train_engine *e, phase_clock *clock, mtl_err *err)
{
    if (clock && e->n_threads != 1)
        return mtl_fail(err, "a profile times one thread, the engine has %d", e->n_threads);
    e->clock = clock;
    return 0;
}

void engine_epoch_end(train_engine *e, double mean_rul, double mean_health)
{
    weighting_state_epoch_end(&e->ws, mean_rul, mean_health);
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
    /* the evaluation's tiles take the activation buffers by rounds of max_tiles tiles */
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
            model_forward(m, params, a, 0, 0, 0, ids, NULL);
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

void train_shuffle(int *perm, int n, uint64_t seed, int epoch)
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

void train_config_record(const train_config *c, const char *subset, int W, uint64_t data_digest, run_record *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->subset, sizeof r->subset, "%s", subset);
    snprintf(r->method, sizeof r->method, "%s", c->method.canon);
    snprintf(r->model, sizeof r->model, "%s", model_name(c->model));
    snprintf(r->protocol, sizeof r->protocol, "%s", protocol_name(c->protocol));
    snprintf(r->norm, sizeof r->norm, "%s", prep_norm_name(c->norm));
    snprintf(r->norm_scope, sizeof r->norm_scope, "%s", prep_scope_name(c->norm_scope));
    snprintf(r->data_digest, sizeof r->data_digest, "%016" PRIx64, data_digest);
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
    train_config_record(c, d->subset, d->W, d->data_digest, r);
    r->ranks = dist->size;
    r->threads = omp_get_max_threads();
    snprintf(r->git, sizeof r->git, "%s", mtl_git());
    snprintf(r->version, sizeof r->version, "%s", mtl_version());
    snprintf(r->build, sizeof r->build, "%s", mtl_build());
    if (gethostname(r->host, sizeof r->host - 1) != 0) snprintf(r->host, sizeof r->host, "unknown");
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(r->start_time, sizeof r->start_time, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    snprintf(r->status, sizeof r->status, "ok");
}

/* One run between its steps: the buffers, the optimiser, the engine, and the progress that a
 * checkpoint carries from one epoch to the next. */
typedef struct {
    const train_config *c;
    const prep_data *d;
    dist_ctx *dist;
    run_record *r;
    model m;
    train_engine *e;
    adam opt;
    float *params, *best, *grad;
    int *perm;                 /* the epoch's order of the training windows */
    float *pred;               /* predictions of the validation or test windows */
    int *cls;
    int has_val;
    /* progress */
    double best_val;           /* best validation RMSE so far */
    int since_best;            /* epochs since it */
    double train_time, comm_time;
    long samples;              /* training samples seen */
    double w_rul, w_health;    /* the task weights of the last step */
    double wall_before;        /* wall time of the earlier processes of a resumed run */
    double t_start;
    int first_epoch, save_failed;
    /* output */
    FILE *log;
    int show;                  /* progress lines (rank 0, not quiet) */
    char ckpt_config[CKPT_CONFIG_LEN];
} train_state;

/* The configuration a checkpoint must match: the run id, the data it trains and validates
 * on, the parameter count, and the ranks when the sums depend on them. */
static void checkpoint_config(train_state *st)
{
    uint64_t hash = MTL_FNV_INIT;
    const prep_split *sp[2] = {&st->d->train, &st->d->val};
    for (int i = 0; i < 2; i++) {
        const prep_split *s = sp[i];
        hash = mtl_fnv1a(hash, s->x, sizeof(float) * PREP_FEATURES * (size_t)s->n_rows);
        hash = mtl_fnv1a(hash, s->win_start, sizeof(int) * (size_t)s->n_win);
        hash = mtl_fnv1a(hash, s->y, sizeof(float) * (size_t)s->n_win);
        hash = mtl_fnv1a(hash, s->h, (size_t)s->n_win);
    }
    char ranks[32];
    if (st->c->deterministic) snprintf(ranks, sizeof ranks, "any");
    else snprintf(ranks, sizeof ranks, "%d", st->dist->size);
    snprintf(st->ckpt_config, sizeof st->ckpt_config, "run %s, data %016llx, %zu parameters, ranks %s",
             st->r->run_id, (unsigned long long)hash, st->m.n_params, ranks);
}

/* A checkpoint that cannot be used (err says why, on rank 0) is moved into bad/ beside it,
 * with a warning, and the run starts afresh. Returns 0. */
static int set_aside(const train_state *st, const mtl_err *why)
{
    if (st->dist->rank != 0) return 0;
    char *to = NULL;
    mtl_err e;
    if (mtl_move_aside(st->c->checkpoint, &to, &e) == 0)
        fprintf(stderr, "warning: %s; moved to %s, starting this run afresh\n", why->msg, to);
    else
        fprintf(stderr, "warning: %s; starting this run afresh (%s)\n", why->msg, e.msg);
    free(to);
    return 0;
}

enum { SHARED_OK, SHARED_MISSING, SHARED_UNREADABLE };

/* Rank 0 reads c->checkpoint, every rank gets the same bytes: SHARED_OK (buf, len set),
 * SHARED_MISSING, SHARED_UNREADABLE (err says why), or -1 on MPI errors. */
static int checkpoint_share(const train_state *st, unsigned char **buf, size_t *len, mtl_err *err)
{
    long hdr[2] = {0, 0}; /* read status, length */
    *buf = NULL;
    if (st->dist->rank == 0) {
        hdr[0] = ckpt_read_file(st->c->checkpoint, ckpt_max_size(st->opt.n, st->c->epochs, sizeof st->e->ws), buf,
                                len, err);
        hdr[1] = (long)*len;
    }
    if (dist_bcast_bytes(st->dist, hdr, sizeof hdr)) return mtl_fail(err, "MPI error while sharing the checkpoint");
    if (hdr[0] == CKPT_MISSING) return SHARED_MISSING;
    if (hdr[0] != CKPT_OK) {
        if (st->dist->rank != 0) mtl_fail(err, "%s: rank 0 cannot read the checkpoint", st->c->checkpoint);
        return SHARED_UNREADABLE;
    }
    *len = (size_t)hdr[1];
    if (st->dist->rank != 0 && !(*buf = mtl_alloc(*len + 1, 1, err))) return -1;
    if (dist_bcast_bytes(st->dist, *buf, *len)) {
        free(*buf);
        *buf = NULL;
        return mtl_fail(err, "MPI error while sharing the checkpoint");
    }
    return SHARED_OK;
}

/* The state of a decoded checkpoint into st: parameters (GradNorm's weights among them),
 * Adam, the method's weighting_state (DWA's loss history, the first losses, the step), the
 * history and the progress. */
static void checkpoint_restore(train_state *st, const checkpoint *k)
{
    size_t pb = st->opt.n * sizeof(float);
    memcpy(st->params, k->params, pb);
    memcpy(st->best, k->best, pb);
    memcpy(st->opt.m, k->adam_m, pb);
    memcpy(st->opt.v, k->adam_v, pb);
    st->opt.t = k->step;
    st->opt.lr = k->lr;
    memcpy(&st->e->ws, k->method_state, sizeof st->e->ws);
    memcpy(st->r->hist, k->hist, sizeof(run_epoch) * (size_t)k->n_hist);
    st->r->n_hist = k->n_hist;
    st->r->best_epoch = k->best_epoch;
    st->r->resumed_from_epoch = k->epoch;
    st->best_val = k->best_val;
    st->since_best = k->since_best;
    st->samples = k->samples;
    st->train_time = k->train_time;
    st->comm_time = k->comm_time;
    st->wall_before = k->wall_s;
    st->w_rul = k->w_rul;
    st->w_health = k->w_health;
}

/* Resumes st from c->checkpoint when there is one. Returns 0 (resumed, or nothing to
 * resume, or a checkpoint replaced with a warning), TRAIN_REFUSED or -1. */
static int checkpoint_resume(train_state *st, mtl_err *err)
{
    const train_config *c = st->c;
    unsigned char *buf;
    size_t len = 0;
    int shared = checkpoint_share(st, &buf, &len, err);
    if (shared < 0) return -1;
    if (shared == SHARED_MISSING) return 0;
    if (shared == SHARED_UNREADABLE) return c->checkpoint_replace ? set_aside(st, err) : TRAIN_REFUSED;
    checkpoint k;
    int rc = ckpt_decode(buf, len, st->ckpt_config, c->checkpoint, &k, err);
    free(buf);
    if (rc == CKPT_OK && (k.n_params != st->opt.n || k.method_len != sizeof st->e->ws || k.n_hist > c->epochs)) {
        mtl_fail(err, "%s: checkpoint of another layout (%zu parameters, %d epochs)", c->checkpoint, k.n_params,
                 k.n_hist);
        ckpt_free(&k);
        rc = -1;
    }
    if (rc != CKPT_OK) return c->checkpoint_replace ? set_aside(st, err) : TRAIN_REFUSED;
    checkpoint_restore(st, &k);
    ckpt_free(&k);
    return 0;
}

/* Rank 0 writes the state after epoch r->n_hist to c->checkpoint. */
static int checkpoint_save(const train_state *st, mtl_err *err)
{
    checkpoint k;
    memset(&k, 0, sizeof k);
    snprintf(k.config, sizeof k.config, "%s", st->ckpt_config);
    k.epoch = st->r->n_hist;
    k.step = st->opt.t;
    k.lr = st->opt.lr;
    k.best_epoch = st->r->best_epoch;
    k.since_best = st->since_best;
    k.best_val = st->best_val;
    k.samples = st->samples;
    k.train_time = st->train_time;
    k.comm_time = st->comm_time;
    k.wall_s = st->wall_before + mtl_now() - st->t_start;
    k.w_rul = st->w_rul;
    k.w_health = st->w_health;
    k.n_params = st->opt.n;
    k.params = st->params, k.best = st->best, k.adam_m = st->opt.m, k.adam_v = st->opt.v;
    k.n_hist = st->r->n_hist;
    k.hist = st->r->hist;
    k.method_state = (void *)&st->e->ws;
    k.method_len = sizeof st->e->ws;
    unsigned char *buf;
    size_t len;
    if (ckpt_encode(&k, &buf, &len, err)) return -1;
    int rc = ckpt_write_file(st->c->checkpoint, buf, len, err);
    free(buf);
    return rc;
}

/* At an epoch boundary, every rank learns whether any was asked to stop and whether rank
 * 0 failed to write the checkpoint: 0 go on, TRAIN_STOPPED, or -1 (err set). */
static int epoch_boundary(const train_state *st, mtl_err *err)
{
    const train_config *c = st->c;
    if (!c->stop && !c->checkpoint) return 0;
    int64_t f[2] = {c->stop ? c->stop(c->stop_ctx) != 0 : 0, st->save_failed};
    if (dist_sum_int64(st->dist, f, 2)) return mtl_fail(err, "MPI error at the end of an epoch");
    if (f[1]) {
        if (!st->save_failed) mtl_fail(err, "%s: rank 0 could not write the checkpoint", c->checkpoint);
        return TRAIN_CKPT_FAILED;
    }
    return f[0] ? TRAIN_STOPPED : 0;
}

static void run_close(train_state *st)
{
    engine_free(st->e);
    adam_free(&st->opt);
    mtl_free_aligned(st->params), mtl_free_aligned(st->best), mtl_free_aligned(st->grad);
    free(st->perm), free(st->pred), free(st->cls);
}

/* Sets up st for a run of c on d: the record's configuration, the model and its buffers,
 * the initial parameters, and the state of a checkpoint to resume from. Returns 0,
 * TRAIN_REFUSED or -1; run_close frees st in every case. */
static int run_open(train_state *st, const train_config *c, const prep_data *d, dist_ctx *dist, run_record *r,
                    mtl_err *err)
{
    memset(st, 0, sizeof *st);
    st->c = c, st->d = d, st->dist = dist, st->r = r;
    st->t_start = mtl_now();
    st->best_val = INFINITY;
    st->w_rul = st->w_health = NAN;
    record_config(c, d, dist, r);
    if (model_init(&st->m, c->model, d->W, (float)c->dropout, (size_t)c->method.def->n_params, err)) return -1;
    if (prep_check_trainable(d, err)) return -1;
    st->has_val = d->n_val_units > 0;
    if (!st->has_val && c->patience > 0)
        return mtl_fail(err, "early stopping (--patience) needs a validation set (--val-frac > 0)");
    const size_t np = st->m.n_params;
    const int N = d->train.n_win, nmax = d->val.n_win > d->test.n_win ? d->val.n_win : d->test.n_win;
    st->params = mtl_alloc_aligned(np * sizeof(float), err);
    st->best = mtl_alloc_aligned(np * sizeof(float), err);
    st->grad = mtl_alloc_aligned(np * sizeof(float), err);
    st->perm = mtl_alloc((size_t)N, sizeof(int), err);
    st->pred = mtl_alloc((size_t)nmax, sizeof(float), err);
    st->cls = mtl_alloc((size_t)nmax, sizeof(int), err);
    r->hist = mtl_calloc((size_t)c->epochs, sizeof(run_epoch), err);
    if (!st->params || !st->best || !st->grad || !st->perm || !st->pred || !st->cls || !r->hist) return -1;
    if (adam_init(&st->opt, np, c->lr, err)) return -1;
    /* buffers for the largest batch that can occur: a batch above N is the whole set */
    if (engine_create(&st->m, &c->method, c->deterministic, c->batch < N ? c->batch : N, dist, &st->e, err))
        return -1;
    model_init_params(&st->m, st->params, (uint64_t)c->seed);
    if (c->method.def->init) c->method.def->init(&c->method, st->params + st->m.n_net);
    memcpy(st->best, st->params, np * sizeof(float));
    st->log = c->progress ? c->progress : stderr;
    st->show = !c->quiet && dist->rank == 0;
    if (c->checkpoint) {
        checkpoint_config(st);
        int rc = checkpoint_resume(st, err);
        if (rc) return rc;
        if (st->show && r->resumed_from_epoch > 0)
            fprintf(st->log, "%sresumed from epoch %d (%s)\n", c->label ? c->label : "", r->resumed_from_epoch,
                    c->checkpoint);
    }
    st->first_epoch = r->resumed_from_epoch + 1;
    return 0;
}

/* The training steps of epoch ep into its history row `row`. Returns 0, 1 when the run
 * diverged (a non-finite loss, gradient or parameter), -1 on MPI errors. */
static int run_train_epoch(train_state *st, int ep, run_epoch *row, mtl_err *err)
{
    const train_config *c = st->c;
    const int N = st->d->train.n_win, B = c->batch;
    train_shuffle(st->perm, N, (uint64_t)c->seed, ep);
    dist_barrier(st->dist);
    double comm0 = st->dist->comm_seconds, t0 = mtl_now();
    double sum_rul = 0, sum_health = 0, sum_w_rul = 0, sum_w_health = 0;
    int steps = 0, diverged = 0;
    for (int i = 0; i < N && !diverged; i += B) {
        train_batch b = {.split = &st->d->train, .windows = st->perm + i, .n = N - i < B ? N - i : B,
                         .seed = (uint64_t)c->seed, .epoch = ep};
        step_losses sl = {.w_rul = st->w_rul, .w_health = st->w_health};
        int rc = engine_step(st->e, st->params, &st->opt, &b, st->grad, &sl);
        st->w_rul = sl.w_rul, st->w_health = sl.w_health;
        if (rc < 0) return mtl_fail(err, "MPI error during the gradient allreduce");
        if (rc > 0) {
            diverged = 1;
            break;
        }
        if (c->poll) c->poll(c->poll_ctx);
        sum_rul += sl.rul * b.n;
        sum_health += sl.health * b.n;
        sum_w_rul += sl.w_rul;
        sum_w_health += sl.w_health;
        steps++;
        st->samples += b.n;
    }
    if (!diverged) diverged = dist_any(st->dist, !all_finite(st->params, st->m.n_params));
    double t_ep = mtl_now() - t0, c_ep = st->dist->comm_seconds - comm0;
    st->train_time += t_ep;
    st->comm_time += c_ep;
    row->epoch = ep;
    row->seconds = t_ep;
    row->comm_seconds = c_ep;
    row->compute_seconds = t_ep - c_ep;
    row->samples_per_s = steps ? (double)N / t_ep : 0;
    row->loss_rul = steps ? sum_rul / N : NAN;
    row->loss_health = steps ? sum_health / N : NAN;
    row->w_rul = steps ? sum_w_rul / steps : NAN;
    row->w_health = steps ? sum_w_health / steps : NAN;
    row->s_rul = st->m.n_extra >= 2 ? st->params[st->m.n_net] : NAN;
    row->s_health = st->m.n_extra >= 2 ? st->params[st->m.n_net + 1] : NAN;
    row->val_rmse = row->val_acc = NAN;
    if (!diverged) engine_epoch_end(st->e, row->loss_rul, row->loss_health);
    return diverged;
}

/* After epoch ep: the validation metrics into row and the best parameters so far (or, without
 * validation units, the last epoch as the one evaluated). Returns 0 or -1 on MPI errors. */
static int run_validate(train_state *st, int ep, run_epoch *row, mtl_err *err)
{
    const prep_split *va = &st->d->val;
    if (!st->has_val) {
        st->r->best_epoch = ep;
        return 0;
    }
    if (engine_predict(st->e, st->params, va, st->pred, st->cls)) return mtl_fail(err, "MPI error during validation");
    row->val_rmse = metric_rmse(st->pred, va->y, va->n_win);
    int hit = 0;
    for (int i = 0; i < va->n_win; i++) hit += st->cls[i] == va->h[i];
    row->val_acc = (double)hit / va->n_win;
    if (row->val_rmse < st->best_val) {
        st->best_val = row->val_rmse;
        st->r->best_epoch = ep;
        memcpy(st->best, st->params, st->m.n_params * sizeof(float));
        st->since_best = 0;
    } else {
        st->since_best++;
    }
    return 0;
}

static void run_print_epoch(const train_state *st, int ep, const run_epoch *row)
{
    const train_config *c = st->c;
    char eta[32], val[32] = "";
    mtl_fmt_duration((mtl_now() - st->t_start) / (ep - st->first_epoch + 1) * (c->epochs - ep), eta, sizeof eta);
    if (st->has_val) snprintf(val, sizeof val, "  val_rmse %6.2f", row->val_rmse);
    fprintf(st->log, "%sepoch %3d/%d  L_r %8.2f  L_h %.4f  w_r %.4g  w_h %.4g%s  %7.0f samples/s  ETA %s\n",
            c->label ? c->label : "", ep, c->epochs, row->loss_rul, row->loss_health, row->w_rul, row->w_health, val,
            row->samples_per_s, eta);
    fflush(st->log);
}

/* One epoch: train, then (unless it diverged) the learning-rate step, validation, the
 * progress line and the checkpoint. Returns 0, 1 when the run diverged, -1 on errors. */
static int run_next_epoch(train_state *st, int ep, mtl_err *err)
{
    const train_config *c = st->c;
    run_record *r = st->r;
    run_epoch *row = &r->hist[r->n_hist++];
    int rc = run_train_epoch(st, ep, row, err);
    if (rc < 0) return -1;
    if (rc > 0) {
        snprintf(r->status, sizeof r->status, "diverged");
        if (!st->has_val) r->best_epoch = 0; /* the last parameters are not finite: nothing to test */
        if (st->show)
            fprintf(st->log, "%sepoch %d: non-finite loss or parameter, run diverged\n", c->label ? c->label : "", ep);
        return 1;
    }
    if (c->lr_step_epoch > 0 && ep == c->lr_step_epoch) st->opt.lr *= c->lr_step_factor;
    if (run_validate(st, ep, row, err)) return -1;
    if (st->show) run_print_epoch(st, ep, row);
    /* after the last epoch only the result is written: a run killed before that redoes
     * its last epoch from the previous checkpoint, to the same result */
    if (c->checkpoint && st->dist->rank == 0 && ep < c->epochs) st->save_failed = checkpoint_save(st, err) != 0;
    return 0;
}

/* The test metrics and rows of r at the parameters evaluated (the best-validation ones, or
 * the last epoch's). Returns 0 or -1. */
static int run_test(train_state *st, mtl_err *err)
{
    const prep_split *te = &st->d->test;
    run_record *r = st->r;
    float *pred = st->pred;
    int *cls = st->cls;
    r->rmse = r->rmse_uncapped = r->mae = r->score = r->acc = r->f1 = NAN;
    r->n_test = te->n_win;
    r->test = mtl_calloc((size_t)te->n_win, sizeof(run_test_row), err);
    if (!r->test) return -1;
    if (r->best_epoch > 0) {
        if (engine_predict(st->e, st->best, te, pred, cls)) return mtl_fail(err, "MPI error during the test evaluation");
        int *truth = mtl_alloc((size_t)te->n_win, sizeof(int), err);
        if (!truth) return -1;
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
    return 0;
}

/* The run's summary into r: epochs run, best validation RMSE, the last weights, speed, and
 * the digest of the final parameters; then the test. Returns 0 or -1. */
static int run_report(train_state *st, mtl_err *err)
{
    run_record *r = st->r;
    const size_t np = st->m.n_params;
    if (st->save_failed) fprintf(stderr, "mtlbench: warning: %s\n", err->msg); /* after the last epoch */
    if (!st->has_val) memcpy(st->best, st->params, np * sizeof(float));
    r->epochs_run = r->n_hist;
    r->best_val_rmse = st->has_val ? st->best_val : NAN;
    r->w_rul = st->w_rul;
    r->w_health = st->w_health;
    r->samples_per_s = st->train_time > 0 ? (double)st->samples / st->train_time : 0;
    r->comm_fraction = st->train_time > 0 ? st->comm_time / st->train_time : 0;
    uint64_t dig = mtl_fnv1a(MTL_FNV_INIT, st->params, np * sizeof(float));
    snprintf(r->param_digest, sizeof r->param_digest, "%016llx", (unsigned long long)dig);
    if (run_test(st, err)) return -1;
    r->wall_s = st->wall_before + mtl_now() - st->t_start;
    return 0;
}

int train_run(const train_config *c, const prep_data *d, dist_ctx *dist, run_record *r, mtl_err *err)
{
    train_state st;
    int rc = run_open(&st, c, d, dist, r, err);
    for (int ep = st.first_epoch; rc == 0 && ep <= c->epochs; ep++) {
        if (c->patience > 0 && st.since_best >= c->patience) break;
        rc = epoch_boundary(&st, err);
        if (rc == 0 && (rc = run_next_epoch(&st, ep, err)) == 1) {
            rc = 0;
            break;
        }
    }
    if (rc == 0) rc = run_report(&st, err);
    run_close(&st);
    return rc;
}
