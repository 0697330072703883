#include "weighting.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double plain_total(const weighting *w, const float *params, double Lr, double Lh)
{
    double wr, wh;
    w->m->weights(w, params, Lr, Lh, &wr, &wh);
    return wr * Lr + wh * Lh;
}

/* fixed:lambda -- lambda L_r + (1 - lambda) L_h */
static int fixed_parse(weighting *w, double x, mtl_err *err)
{
    if (!(x >= 0.0 && x <= 1.0)) return mtl_fail(err, "method fixed:%g: lambda must be in [0, 1]", x);
    w->x = x;
    return 0;
}

static void fixed_weights(const weighting *w, const float *params, double Lr, double Lh, double *wr, double *wh)
{
    (void)params, (void)Lr, (void)Lh;
    *wr = w->x;
    *wh = 1.0 - w->x;
}

static const weighting_method FIXED = {
    "fixed", "fixed:L  L*L_r + (1-L)*L_h, L in [0, 1]", 1, 0, fixed_parse, NULL, fixed_weights, plain_total, NULL};

/* uw -- Kendall et al. 2018: 1/2 e^{-s_r} L_r + 1/2 s_r + 1/2 e^{-s_h} L_h + 1/2 s_h,
 * s = log sigma^2 learnable (params[0] = s_r, params[1] = s_h), initialised at 0. */
static void uw_init(const weighting *w, float *params)
{
    (void)w;
    params[0] = params[1] = 0.0f;
}

static void uw_weights(const weighting *w, const float *p, double Lr, double Lh, double *wr, double *wh)
{
    (void)w, (void)Lr, (void)Lh;
    *wr = 0.5 * exp(-(double)p[0]);
    *wh = 0.5 * exp(-(double)p[1]);
}

static double uw_total(const weighting *w, const float *p, double Lr, double Lh)
{
    (void)w;
    return 0.5 * exp(-(double)p[0]) * Lr + 0.5 * p[0] + 0.5 * exp(-(double)p[1]) * Lh + 0.5 * p[1];
}

static void uw_param_grad(const weighting *w, const float *p, double lr, double lh, double inv_b, float *g)
{
    (void)w;
    g[0] += (float)((0.5 - 0.5 * exp(-(double)p[0]) * lr) * inv_b);
    g[1] += (float)((0.5 - 0.5 * exp(-(double)p[1]) * lh) * inv_b);
}

static const weighting_method UW = {"uw", "uw  Kendall uncertainty weighting, learnable log-variances", 0, 2,
                                    NULL, uw_init, uw_weights, uw_total, uw_param_grad};

/* uw-o -- w_t = 1 / (L_t + 1e-8), the analytically optimal sigma^2 = L_t, detached */
static void uwo_weights(const weighting *w, const float *p, double Lr, double Lh, double *wr, double *wh)
{
    (void)w, (void)p;
    *wr = 1.0 / (Lr + 1e-8);
    *wh = 1.0 / (Lh + 1e-8);
}

static const weighting_method UWO = {"uw-o", "uw-o  w_t = 1/L_t (analytic optimum of uw), detached", 0, 0, NULL,
                                     NULL, uwo_weights, plain_total, NULL};

/* uw-so:T -- Kirchdorfer et al. 2024: w = softmax((1 / (L_t + 1e-8)) / T), detached */
static int uwso_parse(weighting *w, double x, mtl_err *err)
{
    if (!(x > 0.0) || !isfinite(x)) return mtl_fail(err, "method uw-so:%g: temperature must be > 0", x);
    w->x = x;
    return 0;
}

static void uwso_weights(const weighting *w, const float *p, double Lr, double Lh, double *wr, double *wh)
{
    (void)p;
    double a = 1.0 / (Lr + 1e-8) / w->x, b = 1.0 / (Lh + 1e-8) / w->x;
    double mx = a > b ? a : b;
    double ea = exp(a - mx), eb = exp(b - mx);
    *wr = ea / (ea + eb);
    *wh = eb / (ea + eb);
}

static const weighting_method UWSO = {
    "uw-so", "uw-so:T  softmax of 1/L_t at temperature T > 0, detached", 1, 0, uwso_parse, NULL, uwso_weights,
    plain_total, NULL};

static const weighting_method *const REGISTRY[] = {&FIXED, &UW, &UWO, &UWSO, NULL};

const weighting_method *const *weighting_registry(void) { return REGISTRY; }

int weighting_parse(const char *spec, weighting *out, mtl_err *err)
{
    memset(out, 0, sizeof *out);
    const char *colon = strchr(spec, ':');
    size_t nlen = colon ? (size_t)(colon - spec) : strlen(spec);
    for (const weighting_method *const *m = REGISTRY; *m; m++) {
        if (strlen((*m)->name) != nlen || strncmp((*m)->name, spec, nlen) != 0) continue;
        out->m = *m;
        if ((*m)->arg) {
            double x;
            if (!colon) return mtl_fail(err, "method '%s' needs an argument, e.g. %s:1", spec, (*m)->name);
            if (mtl_parse_double(colon + 1, &x))
                return mtl_fail(err, "method '%s': '%s' is not a number", spec, colon + 1);
            if ((*m)->parse(out, x, err)) return -1;
            /* the shortest spelling that reads back as the same double, so that two
             * different arguments never share a name (and a run id) */
            char num[32];
            mtl_fmt_shortest(out->x, num, sizeof num);
            snprintf(out->canon, sizeof out->canon, "%s:%s", (*m)->name, num);
        } else {
            if (colon) return mtl_fail(err, "method '%s' takes no argument", (*m)->name);
            snprintf(out->canon, sizeof out->canon, "%s", (*m)->name);
        }
        return 0;
    }
    return mtl_fail(err, "unknown method '%s', expected fixed:L, uw, uw-o or uw-so:T", spec);
}
