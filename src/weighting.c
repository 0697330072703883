#include "weighting.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#define K WEIGHTING_TASKS

static double plain_total(const weighting *w, const float *params, double Lr, double Lh)
{
    double w_rul, w_health;
    w->def->weights(w, NULL, params, Lr, Lh, &w_rul, &w_health);
    return w_rul * Lr + w_health * Lh;
}

/* fixed:lambda -- lambda L_r + (1 - lambda) L_h */
static int fixed_parse(weighting *w, double x, mtl_err *err)
{
    if (!(x >= 0.0 && x <= 1.0)) return mtl_fail(err, "method fixed:%g: lambda must be in [0, 1]", x);
    w->x = x;
    return 0;
}

static void fixed_weights(const weighting *w, const weighting_state *st, const float *params, double Lr, double Lh,
                          double *w_rul, double *w_health)
{
    (void)st, (void)params, (void)Lr, (void)Lh;
    *w_rul = w->x;
    *w_health = 1.0 - w->x;
}

static int fixed_only_task(const weighting *w)
{
    return w->x == 1.0 ? 0 : w->x == 0.0 ? 1 : -1;
}

static const weighting_method FIXED = {.name = "fixed",
                                       .weights_before_forward = 1,
                                      .help = "fixed:L  L*L_r + (1-L)*L_h, L in [0, 1]",
                                      .grid = WEIGHTING_GRID_LAMBDA,
                                      .order = 1,
                                      .reference = 1,
                                      .arg = 1,
                                      .arg_sym = "λ",
                                      .parse = fixed_parse,
                                      .weights = fixed_weights,
                                      .total = plain_total,
                                      .only_task = fixed_only_task};

/* uw -- Kendall et al. 2018: 1/2 e^{-s_r} L_r + 1/2 s_r + 1/2 e^{-s_h} L_h + 1/2 s_h,
 * s = log sigma^2 learnable (params[0] = s_r, params[1] = s_h), initialised at 0. */
static void uw_init(const weighting *w, float *params)
{
    (void)w;
    params[0] = params[1] = 0.0f;
}

static void uw_weights(const weighting *w, const weighting_state *st, const float *p, double Lr, double Lh,
                       double *w_rul, double *w_health)
{
    (void)w, (void)st, (void)Lr, (void)Lh;
    *w_rul = 0.5 * exp(-(double)p[0]);
    *w_health = 0.5 * exp(-(double)p[1]);
}

static double uw_total(const weighting *w, const float *p, double Lr, double Lh)
{
    (void)w;
    return 0.5 * exp(-(double)p[0]) * Lr + 0.5 * p[0] + 0.5 * exp(-(double)p[1]) * Lh + 0.5 * p[1];
}

static void uw_param_grad(const weighting *w, const float *p, double loss_rul, double loss_health,
                          double inv_b, float *g)
{
    (void)w;
    g[0] += (float)((0.5 - 0.5 * exp(-(double)p[0]) * loss_rul) * inv_b);
    g[1] += (float)((0.5 - 0.5 * exp(-(double)p[1]) * loss_health) * inv_b);
}

static const weighting_method UW = {.name = "uw",
                                    .weights_before_forward = 1,
                                   .help = "uw  Kendall uncertainty weighting, learnable log-variances",
                                   .order = 2,
                                   .plot_line = 1,
                                   .n_params = 2,
                                   .exact = 1,
                                   .init = uw_init,
                                   .weights = uw_weights,
                                   .total = uw_total,
                                   .param_grad = uw_param_grad};

/* uw-o -- w_t = 1 / (L_t + 1e-8), the analytically optimal sigma^2 = L_t, detached */
static void uwo_weights(const weighting *w, const weighting_state *st, const float *p, double Lr, double Lh,
                        double *w_rul, double *w_health)
{
    (void)w, (void)st, (void)p;
    *w_rul = 1.0 / (Lr + 1e-8);
    *w_health = 1.0 / (Lh + 1e-8);
}

static const weighting_method UWO = {.name = "uw-o",
                                    .help = "uw-o  w_t = 1/L_t (analytic optimum of uw), detached",
                                    .order = 3,
                                    .plot_line = 1,
                                    .weights = uwo_weights,
                                    .total = plain_total};

/* uw-so:T -- Kirchdorfer et al. 2024: w = softmax((1 / (L_t + 1e-8)) / T), detached */
static int uwso_parse(weighting *w, double x, mtl_err *err)
{
    if (!(x > 0.0) || !isfinite(x)) return mtl_fail(err, "method uw-so:%g: temperature must be > 0", x);
    w->x = x;
    return 0;
}

static void uwso_weights(const weighting *w, const weighting_state *st, const float *p, double Lr, double Lh,
                         double *w_rul, double *w_health)
{
    (void)st, (void)p;
    double a = 1.0 / (Lr + 1e-8) / w->x, b = 1.0 / (Lh + 1e-8) / w->x;
    double mx = a > b ? a : b;
    double ea = exp(a - mx), eb = exp(b - mx);
    *w_rul = ea / (ea + eb);
    *w_health = eb / (ea + eb);
}

static const weighting_method UWSO = {.name = "uw-so",
                                     .help = "uw-so:T  softmax of 1/L_t at temperature T > 0, detached",
                                     .grid = WEIGHTING_GRID_T,
                                     .order = 4,
                                     .arg = 1,
                                     .arg_sym = "T",
                                     .parse = uwso_parse,
                                     .weights = uwso_weights,
                                     .total = plain_total};

/* ew -- equal weighting, w = (1, 1) */
static void ew_weights(const weighting *w, const weighting_state *st, const float *p, double Lr, double Lh,
                       double *w_rul, double *w_health)
{
    (void)w, (void)st, (void)p, (void)Lr, (void)Lh;
    *w_rul = *w_health = 1.0;
}

static const weighting_method EW = {.name = "ew",
                                    .weights_before_forward = 1,
                                   .help = "ew  equal weights, L_r + L_h",
                                   .order = 6,
                                   .weights = ew_weights,
                                   .total = plain_total};

/* dwa:T -- Liu, Johns & Davison 2019: w_t(e) = K softmax_t(r / T), r_t = Lbar_t(e-1) / Lbar_t(e-2)
 * with Lbar the epoch's mean training loss (global); w = 1 in the first two epochs. */
static int temperature_parse(weighting *w, double x, mtl_err *err)
{
    if (!(x > 0.0) || !isfinite(x)) return mtl_fail(err, "method %s:%g: temperature must be > 0", w->def->name, x);
    w->x = x;
    return 0;
}

static void dwa_weights(const weighting *w, const weighting_state *st, const float *p, double Lr, double Lh,
                        double *w_rul, double *w_health)
{
    (void)p, (void)Lr, (void)Lh;
    if (!st || st->epochs_done < 2) {
        *w_rul = *w_health = 1.0;
        return;
    }
    double a = st->mean[0][0] / st->mean[1][0] / w->x, b = st->mean[0][1] / st->mean[1][1] / w->x;
    double mx = a > b ? a : b;
    double ea = exp(a - mx), eb = exp(b - mx);
    *w_rul = K * ea / (ea + eb);
    *w_health = K * eb / (ea + eb);
}

static const weighting_method DWA = {.name = "dwa",
                                     .weights_before_forward = 1,
                                    .help = "dwa:T  dynamic weight average, K softmax(epoch loss ratios / T) (dwa:2)",
                                    .order = 5,
                                    .arg = 2,
                                    .arg_default = 2.0,
                                    .arg_sym = "T",
                                    .parse = temperature_parse,
                                    .weights = dwa_weights,
                                    .total = plain_total};

/* rlw -- Lin et al. 2022: every step w = K softmax(z), z ~ N(0, I_K) drawn from
 * (seed, RNG_WEIGHTS, epoch, step), so every rank draws the same numbers. */
static double rng_open01(uint64_t seed, uint64_t epoch, uint64_t step, uint64_t k)
{
    /* 53 random bits, in (0, 1] */
    return (double)((rng_u64(seed, RNG_WEIGHTS, epoch, step, k) >> 11) + 1) * 0x1p-53;
}

static void rlw_weights(const weighting *w, const weighting_state *st, const float *p, double Lr, double Lh,
                        double *w_rul, double *w_health)
{
    (void)w, (void)p, (void)Lr, (void)Lh;
    if (!st) {
        *w_rul = *w_health = 1.0;
        return;
    }
    /* Box-Muller: two independent standard normals from two uniforms */
    double u1 = rng_open01(st->seed, (uint64_t)st->epoch, (uint64_t)st->step, 0);
    double u2 = rng_open01(st->seed, (uint64_t)st->epoch, (uint64_t)st->step, 1);
    double rad = sqrt(-2.0 * log(u1)), ang = 6.283185307179586 * u2;
    double a = rad * cos(ang), b = rad * sin(ang);
    double mx = a > b ? a : b;
    double ea = exp(a - mx), eb = exp(b - mx);
    *w_rul = K * ea / (ea + eb);
    *w_health = K * eb / (ea + eb);
}

static const weighting_method RLW = {.name = "rlw",
                                     .weights_before_forward = 1,
                                    .help = "rlw  random loss weighting, K softmax of N(0, I) drawn every step",
                                    .order = 10,
                                    .weights = rlw_weights,
                                    .total = plain_total};

/* imtl-l -- Liu et al. 2021: total = sum_t (e^{s_t} L_t - s_t), s learnable, init 0
 * (params[0] = s_r, params[1] = s_h); the network sees w_t = e^{s_t}. */
static void imtl_weights(const weighting *w, const weighting_state *st, const float *p, double Lr, double Lh,
                         double *w_rul, double *w_health)
{
    (void)w, (void)st, (void)Lr, (void)Lh;
    *w_rul = exp((double)p[0]);
    *w_health = exp((double)p[1]);
}

static double imtl_total(const weighting *w, const float *p, double Lr, double Lh)
{
    (void)w;
    return exp((double)p[0]) * Lr - p[0] + exp((double)p[1]) * Lh - p[1];
}

static void imtl_param_grad(const weighting *w, const float *p, double loss_rul, double loss_health,
                            double inv_b, float *g)
{
    (void)w;
    g[0] += (float)((exp((double)p[0]) * loss_rul - 1.0) * inv_b);
    g[1] += (float)((exp((double)p[1]) * loss_health - 1.0) * inv_b);
}

static const weighting_method IMTL = {.name = "imtl-l",
                                      .weights_before_forward = 1,
                                     .help = "imtl-l  IMTL-L, sum of e^s_t L_t - s_t, s learnable",
                                     .order = 9,
                                     .n_params = 2,
                                     .exact = 1,
                                     .init = uw_init,
                                     .weights = imtl_weights,
                                     .total = imtl_total,
                                     .param_grad = imtl_param_grad};

/* gls -- Chennupati et al. 2019: total = (L_r L_h)^{1/K}, the geometric mean. Its exact
 * gradient is sum_t (d total / d L_t) dL_t, i.e. weights w_t = total / (K L_t) formed from
 * the global batch losses (a loss below 1e-30 is taken as 1e-30). */
static void gls_weights(const weighting *w, const weighting_state *st, const float *p, double Lr, double Lh,
                        double *w_rul, double *w_health)
{
    (void)w, (void)st, (void)p;
    double r = Lr > 1e-30 ? Lr : 1e-30, h = Lh > 1e-30 ? Lh : 1e-30;
    double g = sqrt(r * h);
    *w_rul = g / (K * r);
    *w_health = g / (K * h);
}

static double gls_total(const weighting *w, const float *p, double Lr, double Lh)
{
    (void)w, (void)p;
    return sqrt(Lr * Lh);
}

static const weighting_method GLS = {.name = "gls",
                                    .help = "gls  geometric loss strategy, (L_r L_h)^(1/K), exact gradient",
                                    .order = 7,
                                    .exact = 1,
                                    .weights = gls_weights,
                                    .total = gls_total};

/* gradnorm:alpha -- Chen et al. 2018. Learnable weights w (params[0] = w_r, params[1] = w_h,
 * init 1) trained on L_grad = sum_t |G_t - mean(G) r_t^alpha|, G_t = w_t ||dL_t/dW|| on the
 * dense layer's weights W, r_t = (L_t / L_t(first step)) / mean over tasks, the targets
 * mean(G) r_t^alpha held constant; so dL_grad/dw_t = sign(G_t - target_t) ||dL_t/dW||. The
 * weights take the same Adam step as the network; after it they are floored at
 * GRADNORM_MIN and renormalised to sum to K. */
#define GRADNORM_MIN 1e-4

static int alpha_parse(weighting *w, double x, mtl_err *err)
{
    if (!(x >= 0.0) || !isfinite(x)) return mtl_fail(err, "method gradnorm:%g: alpha must be >= 0", x);
    w->x = x;
    return 0;
}

static void gradnorm_init(const weighting *w, float *params)
{
    (void)w;
    params[0] = params[1] = 1.0f;
}

static void gradnorm_weights(const weighting *w, const weighting_state *st, const float *p, double Lr, double Lh,
                             double *w_rul, double *w_health)
{
    (void)w, (void)st, (void)Lr, (void)Lh;
    *w_rul = p[0];
    *w_health = p[1];
}

static void gradnorm_shared_grad(const weighting *w, const weighting_state *st, const float *p, double Lr, double Lh,
                                 const double gn[2], float *grad)
{
    double L[2] = {Lr, Lh}, G[2], rel[2];
    for (int t = 0; t < K; t++) {
        G[t] = (double)p[t] * gn[t];
        double first = st && st->have_first ? st->first[t] : L[t];
        rel[t] = first > 0 ? L[t] / first : 1.0;
    }
    double gbar = 0.5 * (G[0] + G[1]), rbar = 0.5 * (rel[0] + rel[1]);
    for (int t = 0; t < K; t++) {
        double target = gbar * pow(rbar > 0 ? rel[t] / rbar : 1.0, w->x);
        double d = G[t] - target;
        grad[t] = (float)((d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0) * gn[t]);
    }
}

static void gradnorm_after_step(const weighting *w, float *p)
{
    (void)w;
    double a = p[0] > GRADNORM_MIN ? p[0] : GRADNORM_MIN, b = p[1] > GRADNORM_MIN ? p[1] : GRADNORM_MIN;
    double s = a + b;
    p[0] = (float)(K * a / s);
    p[1] = (float)(K * b / s);
}

static const weighting_method GRADNORM = {.name = "gradnorm",
                                          .weights_before_forward = 1,
                                         .help = "gradnorm:A  GradNorm, learnable weights balancing task gradients "
                                                 "(gradnorm:1.5)",
                                         .grid = WEIGHTING_GRID_ALPHA,
                                         .order = 8,
                                         .arg = 2,
                                         .arg_default = 1.5,
                                         .arg_sym = "α",
                                         .n_params = 2,
                                         .parse = alpha_parse,
                                         .init = gradnorm_init,
                                         .weights = gradnorm_weights,
                                         .total = plain_total,
                                         .shared_grad = gradnorm_shared_grad,
                                         .after_step = gradnorm_after_step};

static const weighting_method *const REGISTRY[] = {&FIXED, &UW, &UWO, &UWSO, &EW, &DWA, &RLW, &IMTL, &GLS, &GRADNORM, NULL};

weighting_registry_list weighting_registry(void) { return REGISTRY; }

static const weighting_grid_kind GRID_KINDS[WEIGHTING_GRIDS] = {
    [WEIGHTING_GRID_LAMBDA] = {.sym = "λ", .option = "lambdas", .values = "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9",
                               .axis = "weight λ"},
    [WEIGHTING_GRID_T] = {.sym = "T", .option = "temperatures", .values = "0.5,1,2,5,10,20", .axis = "temperature T"},
    [WEIGHTING_GRID_ALPHA] = {.sym = "α", .option = "alphas", .values = "1.5", .axis = "asymmetry α"},
};

const weighting_grid_kind *weighting_grid_kind_of(weighting_grid g)
{
    return g > WEIGHTING_GRID_NONE && g < WEIGHTING_GRIDS ? &GRID_KINDS[g] : NULL;
}

/* The method of reg whose name is the first len bytes of spec, or NULL. */
static const weighting_method *find_prefix(weighting_registry_list reg, const char *spec, size_t len)
{
    for (weighting_registry_list def = reg; *def; def++)
        if (strlen((*def)->name) == len && strncmp((*def)->name, spec, len) == 0) return *def;
    return NULL;
}

const weighting_method *weighting_find(weighting_registry_list reg, const char *name)
{
    const char *colon = strchr(name, ':');
    return find_prefix(reg, name, colon ? (size_t)(colon - name) : strlen(name));
}

/* Sets out->x from the argument text (NULL: none given) and out->canon. */
static int parse_argument(const char *spec, const char *arg, weighting *out, mtl_err *err)
{
    const weighting_method *def = out->def;
    if (!def->arg) {
        if (arg) return mtl_fail(err, "method '%s' takes no argument", def->name);
        snprintf(out->canon, sizeof out->canon, "%s", def->name);
        return 0;
    }
    double x = def->arg_default;
    if (!arg && def->arg == 1) return mtl_fail(err, "method '%s' needs an argument, e.g. %s:1", spec, def->name);
    if (arg && mtl_parse_double(arg, &x)) return mtl_fail(err, "method '%s': '%s' is not a number", spec, arg);
    if (def->parse(out, x, err)) return -1;
    /* the shortest spelling that reads back as the same double, so that two different
     * arguments never share a name (and a run id) */
    char num[32];
    mtl_fmt_shortest(out->x, num, sizeof num);
    snprintf(out->canon, sizeof out->canon, "%s:%s", def->name, num);
    return 0;
}

int weighting_parse_in(weighting_registry_list reg, const char *spec, weighting *out, mtl_err *err)
{
    memset(out, 0, sizeof *out);
    const char *colon = strchr(spec, ':');
    out->def = find_prefix(reg, spec, colon ? (size_t)(colon - spec) : strlen(spec));
    if (out->def) return parse_argument(spec, colon ? colon + 1 : NULL, out, err);
    char names[256] = "";
    size_t len = 0;
    for (weighting_registry_list def = reg; *def && len < sizeof names; def++) {
        const char *sp = strchr((*def)->help, ' ');
        int n = sp ? (int)(sp - (*def)->help) : (int)strlen((*def)->help);
        len += (size_t)snprintf(names + len, sizeof names - len, "%s%.*s", len ? ", " : "", n, (*def)->help);
    }
    return mtl_fail(err, "unknown method '%s', expected one of %s", spec, names);
}

int weighting_parse(const char *spec, weighting *out, mtl_err *err)
{
    return weighting_parse_in(REGISTRY, spec, out, err);
}

int weighting_only_task(const weighting *w)
{
    return w->def && w->def->only_task ? w->def->only_task(w) : -1;
}

void weighting_print_help(FILE *f, const char *indent)
{
    for (weighting_registry_list def = REGISTRY; *def; def++) {
        const char *h = (*def)->help, *sp = strstr(h, "  ");
        int n = sp ? (int)(sp - h) : (int)strlen(h);
        fprintf(f, "%s%-12.*s %s\n", indent, n, h, sp ? sp + 2 : "");
    }
}

void weighting_state_init(weighting_state *st, uint64_t seed)
{
    memset(st, 0, sizeof *st);
    st->seed = seed;
}

void weighting_state_epoch_end(weighting_state *st, double mean_Lr, double mean_Lh)
{
    st->mean[1][0] = st->mean[0][0];
    st->mean[1][1] = st->mean[0][1];
    st->mean[0][0] = mean_Lr;
    st->mean[0][1] = mean_Lh;
    st->epochs_done++;
}
