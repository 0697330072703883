#include "prep.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const int PREP_SENSORS[PREP_FEATURES] = {2, 3, 4, 7, 8, 9, 11, 12, 13, 14, 15, 17, 20, 21};

int prep_default_window(const char *subset)
{
    if (strcmp(subset, "FD002") == 0) return 20;
    if (strcmp(subset, "FD004") == 0) return 15;
    return 30;
}

int prep_regimes(const char *subset)
{
    return (strcmp(subset, "FD002") == 0 || strcmp(subset, "FD004") == 0) ? 6 : 1;
}

static double dist2(const double *a, const double *b, int dim)
{
    double s = 0;
    for (int d = 0; d < dim; d++) s += (a[d] - b[d]) * (a[d] - b[d]);
    return s;
}

int prep_nearest(const double *p, const double *centers, int k, int dim)
{
    int best = 0;
    double bd = dist2(p, centers, dim);
    for (int j = 1; j < k; j++) {
        double d = dist2(p, centers + (size_t)j * dim, dim);
        if (d < bd) {
            bd = d;
            best = j;
        }
    }
    return best;
}

static int cmp_lex3(const void *a, const void *b)
{
    const double *x = a, *y = b;
    for (int d = 0; d < 3; d++)
        if (x[d] != y[d]) return x[d] < y[d] ? -1 : 1;
    return 0;
}

int prep_kmeans(const double *x, int n, int dim, int k, double *centers, mtl_err *err)
{
    if (n < k) return mtl_fail(err, "k-means: %d points for %d regimes", n, k);
    if (dim != 3) return mtl_fail(err, "k-means: expected 3 settings, got %d", dim);
    double *d2 = malloc(sizeof(double) * (size_t)n);
    int *assign = malloc(sizeof(int) * (size_t)n);
    double *sum = calloc((size_t)k * dim, sizeof(double));
    int *cnt = calloc((size_t)k, sizeof(int));
    if (!d2 || !assign || !sum || !cnt) {
        free(d2), free(assign), free(sum), free(cnt);
        return mtl_fail(err, "k-means: out of memory");
    }
    memcpy(centers, x, sizeof(double) * dim);
    for (int i = 0; i < n; i++) d2[i] = dist2(x + (size_t)i * dim, centers, dim);
    for (int j = 1; j < k; j++) {
        int far = 0;
        for (int i = 1; i < n; i++)
            if (d2[i] > d2[far]) far = i;
        memcpy(centers + (size_t)j * dim, x + (size_t)far * dim, sizeof(double) * dim);
        for (int i = 0; i < n; i++) {
            double d = dist2(x + (size_t)i * dim, centers + (size_t)j * dim, dim);
            if (d < d2[i]) d2[i] = d;
        }
    }
    for (int i = 0; i < n; i++) assign[i] = -1;
    for (int it = 0; it < 100; it++) {
        int changed = 0;
        for (int i = 0; i < n; i++) {
            int a = prep_nearest(x + (size_t)i * dim, centers, k, dim);
            changed |= (a != assign[i]);
            assign[i] = a;
        }
        if (!changed) break;
        memset(sum, 0, sizeof(double) * (size_t)k * dim);
        memset(cnt, 0, sizeof(int) * (size_t)k);
        for (int i = 0; i < n; i++) {
            cnt[assign[i]]++;
            for (int d = 0; d < dim; d++) sum[(size_t)assign[i] * dim + d] += x[(size_t)i * dim + d];
        }
        for (int j = 0; j < k; j++)
            if (cnt[j])
                for (int d = 0; d < dim; d++) centers[(size_t)j * dim + d] = sum[(size_t)j * dim + d] / cnt[j];
    }
    qsort(centers, (size_t)k, sizeof(double) * dim, cmp_lex3);
    free(d2), free(assign), free(sum), free(cnt);
    return 0;
}

void prep_free(prep_data *d)
{
    prep_split *s[3] = {&d->train, &d->val, &d->test};
    for (int i = 0; i < 3; i++) {
        free(s[i]->x), free(s[i]->win_start), free(s[i]->y), free(s[i]->y_raw), free(s[i]->h), free(s[i]->unit);
    }
    free(d->val_units);
    memset(d, 0, sizeof *d);
}

static int split_alloc(prep_split *s, int n_rows, int n_win)
{
    s->n_rows = n_rows;
    s->n_win = n_win;
    s->x = malloc(sizeof(float) * ((size_t)n_rows * PREP_FEATURES + 1));
    s->win_start = malloc(sizeof(int) * ((size_t)n_win + 1));
    s->y = malloc(sizeof(float) * ((size_t)n_win + 1));
    s->y_raw = malloc(sizeof(float) * ((size_t)n_win + 1));
    s->h = malloc((size_t)n_win + 1);
    s->unit = malloc(sizeof(int) * ((size_t)n_win + 1));
    return (s->x && s->win_start && s->y && s->y_raw && s->h && s->unit) ? 0 : -1;
}

static int row_regime(const prep_data *d, const double *row)
{
    if (d->n_regimes == 1) return 0;
    return prep_nearest(row + CMAPSS_COL_SETTING, &d->centers[0][0], d->n_regimes, 3);
}

/* The group of statistics a row is normalised with: its regime, or 0 for global statistics. */
static int stats_group(const prep_data *d, const double *row)
{
    return d->norm_scope == PREP_SCOPE_GLOBAL ? 0 : row_regime(d, row);
}

static int stats_groups(const prep_data *d) { return d->norm_scope == PREP_SCOPE_GLOBAL ? 1 : d->n_regimes; }

static const char *const NORM_NAMES[] = {"z", "minmax"}; /* by PREP_NORM_* */
static const char *const SCOPE_NAMES[] = {"regime", "global"}; /* by PREP_SCOPE_* */

const char *prep_norm_name(int norm) { return NORM_NAMES[norm == PREP_NORM_MINMAX ? 1 : 0]; }

int prep_norm_parse(const char *name, int *norm)
{
    int i = mtl_name_index(name, NORM_NAMES, 2);
    if (i >= 0) *norm = i;
    return i >= 0 ? 0 : -1;
}

const char *prep_scope_name(int scope) { return SCOPE_NAMES[scope == PREP_SCOPE_GLOBAL ? 1 : 0]; }

int prep_scope_parse(const char *name, int *scope)
{
    int i = mtl_name_index(name, SCOPE_NAMES, 2);
    if (i >= 0) *scope = i;
    return i >= 0 ? 0 : -1;
}

static void normalise_row(const prep_data *d, const double *row, float *out)
{
    int g = stats_group(d, row);
    for (int f = 0; f < PREP_FEATURES; f++) {
        double v = row[CMAPSS_COL_SENSOR1 - 1 + PREP_SENSORS[f]];
        if (d->norm == PREP_NORM_MINMAX)
            out[f] = (float)(2.0 * (v - d->min[g][f]) / (d->max[g][f] - d->min[g][f] + 1e-8) - 1.0);
        else
            out[f] = (float)((v - d->mean[g][f]) / (d->std[g][f] + 1e-8));
    }
}

/* Windows of the units marked `want` in is_val (0 train, 1 validation). */
static int build_windowed(prep_data *d, const cmapss_table *t, const uint8_t *is_val, int want, prep_split *s)
{
    int W = d->W, rows = 0, wins = 0;
    for (int u = 0; u < t->n_units; u++) {
        if (is_val[u] != want) continue;
        int L = t->unit_start[u + 1] - t->unit_start[u];
        rows += L;
        if (L >= W) wins += L - W + 1;
    }
    if (split_alloc(s, rows, wins)) return -1;
    int r = 0, w = 0;
    for (int u = 0; u < t->n_units; u++) {
        if (is_val[u] != want) continue;
        int r0 = t->unit_start[u], L = t->unit_start[u + 1] - r0;
        double last = t->x[(size_t)(r0 + L - 1) * CMAPSS_COLS + 1];
        for (int i = 0; i < L; i++) {
            const double *row = t->x + (size_t)(r0 + i) * CMAPSS_COLS;
            normalise_row(d, row, s->x + (size_t)(r + i) * PREP_FEATURES);
            if (i >= W - 1) {
                float raw = (float)(last - row[1]);
                float y = raw < PREP_RUL_CAP ? raw : PREP_RUL_CAP;
                s->win_start[w] = r + i - (W - 1);
                s->y[w] = y;
                s->y_raw[w] = raw;
                s->h[w] = (uint8_t)prep_health(y);
                s->unit[w] = t->unit_id[u];
                w++;
            }
        }
        r += L;
    }
    return 0;
}

int prep_build(const cmapss_set *set, const prep_options *opt, prep_data *out, mtl_err *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->subset, sizeof out->subset, "%s", set->subset);
    out->W = opt->window > 0 ? opt->window : prep_default_window(set->subset);
    out->norm = opt->norm;
    out->norm_scope = opt->norm_scope;
    out->data_digest = cmapss_set_digest(set);
    if (opt->norm != PREP_NORM_Z && opt->norm != PREP_NORM_MINMAX) return mtl_fail(err, "unknown normalisation %d", opt->norm);
    if (opt->norm_scope != PREP_SCOPE_REGIME && opt->norm_scope != PREP_SCOPE_GLOBAL)
        return mtl_fail(err, "unknown normalisation scope %d", opt->norm_scope);
    if (!(opt->val_frac >= 0 && opt->val_frac < 1))
        return mtl_fail(err, "validation fraction %g, expected [0, 1)", opt->val_frac);
    out->n_regimes = prep_regimes(set->subset);
    const cmapss_table *tr = &set->train, *te = &set->test;
    out->train_units = tr->n_units;
    out->train_rows = tr->n_rows;
    out->test_units = te->n_units;
    out->test_rows = te->n_rows;
    if (out->W < 1 || out->W > 1000) return mtl_fail(err, "window %d, expected 1..1000", out->W);
    if (tr->n_units < 2) return mtl_fail(err, "%s: %d training units, need at least 2", set->subset, tr->n_units);

    /* validation split: a seeded permutation of the units; the first n_val are validation */
    int nu = tr->n_units;
    int n_val = (int)floor(opt->val_frac * nu + 0.5);
    if (n_val >= nu) n_val = nu - 1;
    if (n_val < 1 && opt->val_frac > 0) n_val = 1;
    int *perm = malloc(sizeof(int) * (size_t)nu);
    uint8_t *is_val = calloc((size_t)nu, 1);
    out->val_units = malloc(sizeof(int) * (size_t)(n_val + 1));
    if (!perm || !is_val || !out->val_units) {
        free(perm), free(is_val);
        prep_free(out);
        return mtl_fail(err, "out of memory");
    }
    for (int i = 0; i < nu; i++) perm[i] = i;
    for (int i = nu - 1; i > 0; i--) {
        int j = (int)rng_below(opt->seed, RNG_SPLIT, (uint64_t)i, 0, 0, (uint32_t)(i + 1));
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (int i = 0; i < n_val; i++) is_val[perm[i]] = 1;
    out->n_val_units = 0;
    for (int u = 0; u < nu; u++)
        if (is_val[u]) out->val_units[out->n_val_units++] = tr->unit_id[u];
    free(perm);

    /* rows of the training units only: regimes and statistics are fitted on these */
    int nfit = 0;
    for (int u = 0; u < nu; u++)
        if (!is_val[u]) nfit += tr->unit_start[u + 1] - tr->unit_start[u];
    double *settings = malloc(sizeof(double) * 3 * (size_t)nfit);
    int *fit_row = malloc(sizeof(int) * (size_t)nfit);
    if (!settings || !fit_row) {
        free(settings), free(fit_row), free(is_val);
        prep_free(out);
        return mtl_fail(err, "out of memory");
    }
    int k = 0;
    for (int u = 0; u < nu; u++) {
        if (is_val[u]) continue;
        for (int r = tr->unit_start[u]; r < tr->unit_start[u + 1]; r++) {
            memcpy(settings + 3 * (size_t)k, tr->x + (size_t)r * CMAPSS_COLS + CMAPSS_COL_SETTING, 3 * sizeof(double));
            fit_row[k++] = r;
        }
    }
    int rc = 0;
    if (out->n_regimes > 1)
        rc = prep_kmeans(settings, nfit, 3, out->n_regimes, &out->centers[0][0], err);
    if (rc == 0) {
        double sum[PREP_MAX_REGIMES][PREP_FEATURES] = {{0}}, sq[PREP_MAX_REGIMES][PREP_FEATURES] = {{0}};
        long cnt[PREP_MAX_REGIMES] = {0};
        for (int g = 0; g < PREP_MAX_REGIMES; g++)
            for (int f = 0; f < PREP_FEATURES; f++) out->min[g][f] = INFINITY, out->max[g][f] = -INFINITY;
        for (int i = 0; i < nfit; i++) {
            const double *row = tr->x + (size_t)fit_row[i] * CMAPSS_COLS;
            int g = stats_group(out, row);
            cnt[g]++;
            for (int f = 0; f < PREP_FEATURES; f++) {
                double v = row[CMAPSS_COL_SENSOR1 - 1 + PREP_SENSORS[f]];
                sum[g][f] += v;
                if (v < out->min[g][f]) out->min[g][f] = v;
                if (v > out->max[g][f]) out->max[g][f] = v;
            }
        }
        for (int g = 0; g < stats_groups(out) && rc == 0; g++) {
            if (cnt[g] == 0) rc = mtl_fail(err, "%s: operating regime %d has no training rows", set->subset, g);
            for (int f = 0; f < PREP_FEATURES && rc == 0; f++) out->mean[g][f] = sum[g][f] / (double)cnt[g];
        }
        /* two-pass variance (population), numerically safer than sum of squares */
        for (int i = 0; i < nfit && rc == 0; i++) {
            const double *row = tr->x + (size_t)fit_row[i] * CMAPSS_COLS;
            int g = stats_group(out, row);
            for (int f = 0; f < PREP_FEATURES; f++) {
                double dv = row[CMAPSS_COL_SENSOR1 - 1 + PREP_SENSORS[f]] - out->mean[g][f];
                sq[g][f] += dv * dv;
            }
        }
        for (int g = 0; g < stats_groups(out) && rc == 0; g++)
            for (int f = 0; f < PREP_FEATURES; f++) out->std[g][f] = sqrt(sq[g][f] / (double)cnt[g]);
    }
    free(settings);
    free(fit_row);
    if (rc) {
        free(is_val);
        prep_free(out);
        return -1;
    }
    for (int r = 0; r < tr->n_rows; r++) out->regime_rows[row_regime(out, tr->x + (size_t)r * CMAPSS_COLS)]++;

    if (build_windowed(out, tr, is_val, 0, &out->train) || build_windowed(out, tr, is_val, 1, &out->val)) {
        free(is_val);
        prep_free(out);
        return mtl_fail(err, "out of memory");
    }
    free(is_val);
    for (int i = 0; i < out->train.n_win; i++) out->label_counts[out->train.h[i]]++;

    /* test: the last W cycles of each unit, left-padded with its first row when shorter */
    int W = out->W, nt = te->n_units;
    prep_split *s = &out->test;
    if (split_alloc(s, nt * W, nt)) {
        prep_free(out);
        return mtl_fail(err, "out of memory");
    }
    for (int u = 0; u < nt; u++) {
        int r0 = te->unit_start[u], L = te->unit_start[u + 1] - r0;
        if (L < W) out->test_padded++;
        for (int t = 0; t < W; t++) {
            int src = L - W + t;
            if (src < 0) src = 0;
            normalise_row(out, te->x + (size_t)(r0 + src) * CMAPSS_COLS, s->x + ((size_t)u * W + t) * PREP_FEATURES);
        }
        float raw = (float)set->rul[u];
        s->win_start[u] = u * W;
        s->y_raw[u] = raw;
        s->y[u] = raw < PREP_RUL_CAP ? raw : PREP_RUL_CAP;
        s->h[u] = (uint8_t)prep_health(s->y[u]);
        s->unit[u] = te->unit_id[u];
    }
    return 0;
}

int prep_check_trainable(const prep_data *d, mtl_err *err)
{
    if (d->train.n_win < 1)
        return mtl_fail(err, "%s: no training windows: every training unit is shorter than the window of %d cycles",
                        d->subset, d->W);
    if (d->n_val_units > 0 && d->val.n_win < 1)
        return mtl_fail(err, "%s: no validation windows: the %d validation units are shorter than the window of %d cycles",
                        d->subset, d->n_val_units, d->W);
    return 0;
}
