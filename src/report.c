/* The report and compare subcommands: Markdown tables, CSV and SVG plots from results, and
 * the regression check of new results against a baseline. */
#define _POSIX_C_SOURCE 200809L
#include "report.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "cli.h"
#include "results.h"
#include "svg.h"
#include "util.h"
#include "weighting.h"

/* ------------------------------------------------------------------ statistics */

/* Continued fraction of the incomplete beta function, evaluated by the modified Lentz method
 * (converges quickly for x < (a + 1) / (a + b + 2)). */
static double incbeta_cf(double a, double b, double x)
{
    const double tiny = 1e-300, eps = 1e-15;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    if (fabs(d) < tiny) d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m <= 500; m++) {
        double m2 = 2.0 * m;
        /* even step: d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)) */
        double num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        d = 1.0 + num * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + num / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        h *= d * c;
        /* odd step: d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)) */
        num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
        d = 1.0 + num * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + num / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        double delta = d * c;
        h *= delta;
        if (fabs(delta - 1.0) < eps) break;
    }
    return h;
}

double report_incbeta(double a, double b, double x)
{
    if (!(a > 0) || !(b > 0) || isnan(x) || x < 0 || x > 1) return NAN;
    if (x == 0) return 0;
    if (x == 1) return 1;
    /* x^a (1 - x)^b / B(a, b), the same for I_x(a, b) and I_{1-x}(b, a) */
    double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1.0) / (a + b + 2.0)) return front * incbeta_cf(a, b, x) / a;
    return 1.0 - front * incbeta_cf(b, a, 1.0 - x) / b;
}

double report_t_cdf(double t, double dof)
{
    if (isnan(t) || !(dof > 0)) return NAN;
    if (isinf(t)) return t > 0 ? 1.0 : 0.0;
    /* P(|T| > |t|) = I_{dof / (dof + t^2)}(dof / 2, 1 / 2) */
    double tail = 0.5 * report_incbeta(0.5 * dof, 0.5, dof / (dof + t * t));
    return t > 0 ? 1.0 - tail : tail;
}

int report_paired_t(const double *d, int n, double *mean, double *sd, double *t, double *p)
{
    *mean = *sd = *t = *p = NAN;
    if (n < 1) return -1;
    double s = 0;
    for (int i = 0; i < n; i++) s += d[i];
    *mean = s / n;
    if (n < 2) return -1;
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (d[i] - *mean) * (d[i] - *mean);
    *sd = sqrt(ss / (n - 1));
    if (*sd == 0) {
        *t = *mean == 0 ? 0 : copysign(INFINITY, *mean);
        *p = *mean == 0 ? 1.0 : 0.0;
        return 0;
    }
    *t = *mean / (*sd / sqrt((double)n));
    double dof = n - 1;
    *p = report_incbeta(0.5 * dof, 0.5, dof / (dof + *t * *t));   /* two-sided */
    return 0;
}

/* Regularised upper incomplete gamma function Q(a, x): the series of P below x = a + 1,
 * the continued fraction of Q (modified Lentz) above. */
double report_gamma_q(double a, double x)
{
    if (!(a > 0) || isnan(x) || x < 0) return NAN;
    if (x == 0) return 1;
    if (isinf(x)) return 0;
    const double tiny = 1e-300, eps = 1e-15;
    double lfront = -x + a * log(x) - lgamma(a);
    if (x < a + 1) {
        double term = 1 / a, sum = term;
        for (int n = 1; n < 1000 && fabs(term) > fabs(sum) * eps; n++) {
            term *= x / (a + n);
            sum += term;
        }
        return 1 - sum * exp(lfront);
    }
    double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
    for (int i = 1; i < 1000; i++) {
        double an = -i * (i - a);
        b += 2;
        d = an * d + b;
        if (fabs(d) < tiny) d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double delta = d * c;
        h *= delta;
        if (fabs(delta - 1) < eps) break;
    }
    return exp(lfront) * h;
}

double report_chi2_sf(double x, double dof)
{
    if (isnan(x) || !(dof > 0)) return NAN;
    if (x <= 0) return 1;
    return report_gamma_q(0.5 * dof, 0.5 * x);
}

/* Indices of the n values in ascending order of v (insertion sort: n is small). */
static void order_of(const double *v, int n, int *idx)
{
    for (int i = 0; i < n; i++) {
        int j = i;
        for (; j > 0 && v[idx[j - 1]] > v[i]; j--) idx[j] = idx[j - 1];
        idx[j] = i;
    }
}

int report_holm(const double *p, int n, double *adj)
{
    int *idx = malloc((size_t)(n > 0 ? n : 1) * sizeof *idx);
    if (!idx) return -1;
    int m = 0;
    for (int i = 0; i < n; i++) {
        adj[i] = NAN;
        if (!isfinite(p[i])) continue;
        int j = m++;   /* the finite ones, ascending */
        for (; j > 0 && p[idx[j - 1]] > p[i]; j--) idx[j] = idx[j - 1];
        idx[j] = i;
    }
    double run = 0;
    for (int r = 0; r < m; r++) {
        double v = (m - r) * p[idx[r]];
        if (v > 1) v = 1;
        if (v < run) v = run;   /* step-down: never below a smaller p's adjusted value */
        run = v;
        adj[idx[r]] = v;
    }
    free(idx);
    return m;
}

void report_ranks(const double *v, int n, double *rank)
{
    for (int i = 0; i < n; i++) {
        /* 1 + the values below, + half of the other values equal to it: tied values share
         * the mean of the ranks they occupy */
        double below = 0, equal = 0;
        for (int j = 0; j < n; j++) {
            if (j == i) continue;
            below += v[j] < v[i];
            equal += v[j] == v[i];
        }
        rank[i] = 1 + below + 0.5 * equal;
    }
}

int report_friedman(const double *v, int nb, int k, double *mean_rank, double *chi2, double *p)
{
    *chi2 = *p = NAN;
    for (int j = 0; j < k; j++) mean_rank[j] = NAN;
    if (nb < 1 || k < 2) return -1;
    double *r = malloc((size_t)k * sizeof *r);
    if (!r) return -1;
    for (int j = 0; j < k; j++) mean_rank[j] = 0;
    for (int b = 0; b < nb; b++) {
        report_ranks(v + (size_t)b * k, k, r);
        for (int j = 0; j < k; j++) mean_rank[j] += r[j];
    }
    free(r);
    double ss = 0;
    for (int j = 0; j < k; j++) {
        mean_rank[j] /= nb;
        ss += mean_rank[j] * mean_rank[j];
    }
    if (nb < 2) return -1;
    *chi2 = 12.0 * nb / (k * (k + 1.0)) * (ss - k * (k + 1.0) * (k + 1.0) / 4);
    if (*chi2 < 0) *chi2 = 0;   /* rounding below an exact 0 */
    *p = report_chi2_sf(*chi2, k - 1);
    return 0;
}

/* q_0.05 of the studentized range with infinite degrees of freedom, divided by sqrt(2), for
 * k = 2 .. 20 compared methods (Demšar 2006, table 5a, for k <= 10). */
static const double NEMENYI_Q05[] = {1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164, 3.219,
                                     3.268, 3.313, 3.354, 3.391, 3.426, 3.458, 3.489, 3.517, 3.544};
#define NEMENYI_KMAX (1 + (int)(sizeof NEMENYI_Q05 / sizeof NEMENYI_Q05[0]))

double report_nemenyi_q05(int k)
{
    return k >= 2 && k <= NEMENYI_KMAX ? NEMENYI_Q05[k - 2] : NAN;
}

double report_nemenyi_cd(int k, int nb)
{
    if (nb < 1) return NAN;
    return report_nemenyi_q05(k) * sqrt(k * (k + 1.0) / (6.0 * nb));
}

double report_delta_m(double rmse, double f1, double rmse_b, double f1_b)
{
    if (!(rmse_b > 0) || !(f1_b > 0)) return NAN;
    return 50.0 * (-(rmse - rmse_b) / rmse_b + (f1 - f1_b) / f1_b);
}

typedef struct {
    int n;
    double mean, sd;   /* sd NaN when n < 2 */
} mstat;

static mstat stat_of(const double *v, int n)
{
    mstat s = {0, NAN, NAN};
    double sum = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) {
            sum += v[i];
            s.n++;
        }
    if (s.n == 0) return s;
    s.mean = sum / s.n;
    if (s.n < 2) return s;
    double ss = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) ss += (v[i] - s.mean) * (v[i] - s.mean);
    s.sd = sqrt(ss / (s.n - 1));
    return s;
}

/* ------------------------------------------------------------------ metrics and methods */

typedef struct {
    const char *name;
    size_t off;
    int higher_better;
    int decimals;
    int check_default;   /* checked by compare unless --metrics says otherwise */
} metric_desc;

#define METRIC(f, higher, dec, check) \
    {.name = #f, .off = offsetof(run_record, f), .higher_better = higher, .decimals = dec, .check_default = check}
static const metric_desc METRICS[] = {
    METRIC(rmse, 0, 2, 1),
    METRIC(rmse_uncapped, 0, 2, 1),
    METRIC(mae, 0, 2, 1),
    METRIC(score, 0, 1, 1),
    METRIC(acc, 1, 4, 1),
    METRIC(f1, 1, 4, 1),
    METRIC(best_val_rmse, 0, 2, 0),
    METRIC(samples_per_s, 1, 0, 0),
    METRIC(wall_s, 0, 1, 0),
};
#undef METRIC
#define N_METRICS ((int)(sizeof METRICS / sizeof METRICS[0]))

static double metric_of(const run_record *r, const metric_desc *m)
{
    return *(const double *)(const void *)((const char *)r + m->off);
}

/* Where a canonical method name goes in a report: its method's display order in the
 * registry (names it does not know last), then the argument. */
typedef struct {
    const weighting_method *def;   /* NULL for a name the registry does not know */
    double arg;                    /* NaN without one */
} method_key;

static method_key method_key_of(weighting_registry_list reg, const char *name)
{
    method_key k = {.def = NULL, .arg = NAN};
    weighting w;
    mtl_err ignored;
    if (weighting_parse_in(reg, name, &w, &ignored) == 0) {
        k.def = w.def;
        if (w.def->arg) k.arg = w.x;
    }
    return k;
}

static int method_key_cmp(method_key ka, const char *a, method_key kb, const char *b)
{
    if (ka.def != kb.def) {
        if (!ka.def || !kb.def) return ka.def ? -1 : 1;
        if (ka.def->order != kb.def->order) return ka.def->order < kb.def->order ? -1 : 1;
        return strcmp(ka.def->name, kb.def->name);
    }
    if (!isnan(ka.arg) && !isnan(kb.arg) && ka.arg != kb.arg) return ka.arg < kb.arg ? -1 : 1;
    return strcmp(a, b);
}

int report_method_cmp(const char *a, const char *b)
{
    weighting_registry_list reg = weighting_registry();
    return method_key_cmp(method_key_of(reg, a), a, method_key_of(reg, b), b);
}

/* The setup key. Runs are compared only within one setup: the data (the subset and its digest) and the
 * training setup (the model, the protocol and the options it sets: norm and its
 * scope, validation fraction, learning-rate step). Two setups never share a table or a plot; the summary
 * across subsets groups the setups of one training setup (KEY_TRAINING). A new field of
 * the key is one line here, in its part, and one row of SETUP_PARTS (below), which names it
 * in headings and file names. */
enum { KEY_ALL, KEY_TRAINING };

static int setup_key_cmp(const run_record *a, const run_record *b, int scope)
{
    int c = 0;
    /* the data */
    if (scope == KEY_ALL) c = strcmp(a->subset, b->subset);
    if (!c && scope == KEY_ALL) c = strcmp(a->data_digest, b->data_digest);
    /* the training setup */
    if (!c) c = strcmp(a->model, b->model);
    if (!c) c = strcmp(a->protocol, b->protocol);
    if (!c) c = strcmp(a->norm, b->norm);
    if (!c) c = strcmp(a->norm_scope, b->norm_scope);
    if (!c && a->val_frac != b->val_frac) c = a->val_frac < b->val_frac ? -1 : 1;
    if (!c) c = strcmp(a->lr_step, b->lr_step);
    return c;
}

static int setup_cmp(const run_record *a, const run_record *b)
{
    return setup_key_cmp(a, b, KEY_ALL);
}

/* "FD001 dcnn spec": names a setup in headings, titles and plot file names. */
static void setup_name(const run_record *r, char *buf, size_t n, char sep)
{
    snprintf(buf, n, "%s%c%s%c%s", r->subset, sep, r->model, sep, r->protocol);
}

/* A run and the key of its method, for sorting. */
typedef struct {
    const run_record *run;
    method_key key;
} ordered_run;

static int cmp_ordered_run(const void *x, const void *y)
{
    const ordered_run *ka = x, *kb = y;
    const run_record *a = ka->run, *b = kb->run;
    int c = setup_cmp(a, b);
    if (c) return c;
    c = method_key_cmp(ka->key, a->method, kb->key, b->method);
    if (c) return c;
    if (a->seed != b->seed) return a->seed < b->seed ? -1 : 1;
    return strcmp(a->run_id, b->run_id);
}

/* An ok run whose reported metrics are all finite: only these are counted as ok and averaged. */
static int is_ok(const run_record *r)
{
    return strcmp(r->status, "ok") == 0 && isfinite(r->rmse) && isfinite(r->score) && isfinite(r->acc) &&
           isfinite(r->f1);
}

/* Leaves out (with a warning) every run whose configuration does not hash to its run_id:
 * a file's claim about itself is not trusted. Returns the new count. */
static int drop_inconsistent(const char *cmd, const char *path, run_record *runs, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (results_id_consistent(&runs[i])) {
            runs[k++] = runs[i];
            continue;
        }
        fprintf(stderr, "mtlbench %s: %s: run %s (%s %s seed %ld): its configuration does not hash to its run_id; "
                "left out\n", cmd, path, runs[i].run_id, runs[i].subset, runs[i].method, runs[i].seed);
        run_record_free(&runs[i]);
    }
    return k;
}

/* Pointers to the n runs, sorted by setup, method order (as reg knows the methods), seed. */
static const run_record **sorted_runs(const run_record *runs, int n, weighting_registry_list reg, mtl_err *err)
{
    const run_record **v = mtl_alloc((size_t)(n > 0 ? n : 1), sizeof *v, err);
    ordered_run *kr = mtl_alloc((size_t)(n > 0 ? n : 1), sizeof *kr, err);
    if (!v || !kr) {
        free(v);
        free(kr);
        return NULL;
    }
    for (int i = 0; i < n; i++) kr[i] = (ordered_run){.run = &runs[i], .key = method_key_of(reg, runs[i].method)};
    if (n > 1) qsort(kr, (size_t)n, sizeof *kr, cmp_ordered_run);
    for (int i = 0; i < n; i++) v[i] = kr[i].run;
    free(kr);
    return v;
}

/* ------------------------------------------------------------------ grouping */

typedef struct {
    const run_record **runs;   /* into the sorted array */
    int n, n_ok;
    const weighting_method *def; /* the registry's method, NULL for a name it does not know */
    double param;                /* its argument, NaN without one */
    int only_task;               /* 0 RUL only, 1 health only (a single-task baseline), -1 */
    mstat rmse, score, acc, f1, val;
    mstat dm;                    /* Δm per seed against the setup's single-task baselines */
    double cost_s;               /* the cost of choosing the row: wall time of its family's runs */
    int cost_runs;
    int family_n;                /* settings of its tuned family in the setup, 0 if not tuned */
    int chosen, oracle, nondominated;
    int family_chose;            /* its tuned family has a setting chosen on validation */
    int npairs;                  /* seeds paired with the reference */
    double diff, p, p_holm;      /* mean RMSE difference to the reference, raw and Holm p */
} method_row;

/* The parts of the setup key that setup_name leaves out, each with the value a run has. */
static void part_data(const run_record *r, char *buf, size_t n)
{
    snprintf(buf, n, "%s", r->data_digest[0] ? r->data_digest : "not recorded");
}
static void part_norm(const run_record *r, char *buf, size_t n) { snprintf(buf, n, "%s", r->norm); }
static void part_scope(const run_record *r, char *buf, size_t n) { snprintf(buf, n, "%s", r->norm_scope); }
static void part_val_frac(const run_record *r, char *buf, size_t n) { mtl_fmt_shortest(r->val_frac, buf, n); }
static void part_lr_step(const run_record *r, char *buf, size_t n) { snprintf(buf, n, "%s", r->lr_step); }

static const struct {
    const char *label;
    void (*value)(const run_record *r, char *buf, size_t n);
    int of_data;   /* a part of the data, not of the training setup */
} SETUP_PARTS[] = {{"data", part_data, 1},
                   {"norm", part_norm, 0},
                   {"norm scope", part_scope, 0},
                   {"val_frac", part_val_frac, 0},
                   {"lr step", part_lr_step, 0}};
#define N_SETUP_PARTS ((int)(sizeof SETUP_PARTS / sizeof SETUP_PARTS[0]))

/* Appends to buf, for each part in which r's peers among rows differ, its label and r's
 * value after sep (" · norm scope regime"), or with labels 0 its value alone ("_regime").
 * The peers of a setup (KEY_ALL) are those of its name (subset, model, protocol), and every
 * part may tell them apart; those of a training setup (KEY_TRAINING) share its model and
 * protocol, and the data does not tell them apart. So setups never share a heading, a title
 * or a plot file. */
static void setup_distinction(const method_row *rows, int nrows, const run_record *r, int scope, const char *sep,
                              int labels, char *buf, size_t n)
{
    for (int p = 0; p < N_SETUP_PARTS; p++) {
        if (scope == KEY_TRAINING && SETUP_PARTS[p].of_data) continue;
        char mine[64], theirs[64];
        SETUP_PARTS[p].value(r, mine, sizeof mine);
        int differs = 0;
        for (int i = 0; i < nrows && !differs; i++) {
            const run_record *q = rows[i].runs[0];
            if ((scope == KEY_ALL && strcmp(q->subset, r->subset)) || strcmp(q->model, r->model) ||
                strcmp(q->protocol, r->protocol))
                continue;
            SETUP_PARTS[p].value(q, theirs, sizeof theirs);
            differs = strcmp(mine, theirs) != 0;
        }
        size_t len = strlen(buf);
        if (differs && len < n)
            snprintf(buf + len, n - len, "%s%s%s%s", sep, labels ? SETUP_PARTS[p].label : "", labels ? " " : "", mine);
    }
}

static mstat metric_stat(const method_row *row, const metric_desc *m, double *scratch)
{
    int k = 0;
    for (int i = 0; i < row->n; i++)
        if (is_ok(row->runs[i])) scratch[k++] = metric_of(row->runs[i], m);
    return stat_of(scratch, k);
}

static const metric_desc *metric_named(const char *name)
{
    for (int i = 0; i < N_METRICS; i++)
        if (strcmp(METRICS[i].name, name) == 0) return &METRICS[i];
    return NULL;
}

/* Rows of consecutive runs with the same setup and method, the methods as reg knows them;
 * *nrows set. */
static method_row *group_rows(const run_record **v, int n, weighting_registry_list reg, int *nrows, mtl_err *err)
{
    method_row *rows = mtl_calloc((size_t)(n > 0 ? n : 1), sizeof *rows, err);
    double *scratch = mtl_alloc((size_t)(n > 0 ? n : 1), sizeof *scratch, err);
    if (!rows || !scratch) {
        free(rows);
        free(scratch);
        return NULL;
    }
    int k = 0;
    for (int i = 0; i < n;) {
        int j = i + 1;
        while (j < n && setup_cmp(v[j], v[i]) == 0 && strcmp(v[j]->method, v[i]->method) == 0) j++;
        method_row *r = &rows[k++];
        r->runs = v + i;
        r->n = j - i;
        for (int t = i; t < j; t++) r->n_ok += is_ok(v[t]);
        weighting w;
        mtl_err ignored;
        r->def = weighting_parse_in(reg, v[i]->method, &w, &ignored) == 0 ? w.def : NULL;
        r->only_task = r->def ? weighting_only_task(&w) : -1;
        r->param = r->def && r->def->arg ? w.x : NAN;
        r->rmse = metric_stat(r, metric_named("rmse"), scratch);
        r->score = metric_stat(r, metric_named("score"), scratch);
        r->acc = metric_stat(r, metric_named("acc"), scratch);
        r->f1 = metric_stat(r, metric_named("f1"), scratch);
        r->val = metric_stat(r, metric_named("best_val_rmse"), scratch);
        r->dm = stat_of(scratch, 0);
        r->diff = r->p = r->p_holm = NAN;
        i = j;
    }
    free(scratch);
    *nrows = k;
    return rows;
}

/* Index (in rows[a..b)) of the row of this method with the lowest mean RMSE, or -1. */
static int best_row(const method_row *rows, int a, int b, const weighting_method *def)
{
    int best = -1;
    for (int i = a; i < b; i++) {
        if (rows[i].def != def || rows[i].rmse.n < 1) continue;
        if (best < 0 || rows[i].rmse.mean < rows[best].rmse.mean) best = i;
    }
    return best;
}

/* The first ok run of row with this seed, or NULL. */
static const run_record *run_of_seed(const method_row *row, long seed)
{
    for (int i = 0; i < row->n; i++)
        if (row->runs[i]->seed == seed && is_ok(row->runs[i])) return row->runs[i];
    return NULL;
}

/* RMSE differences (row - ref) of the seeds ok in both (first run of a seed); returns the count. */
static int paired_diffs(const method_row *row, const method_row *ref, double *d)
{
    int n = 0;
    for (int i = 0; i < row->n; i++) {
        const run_record *a = row->runs[i];
        if (!is_ok(a) || run_of_seed(row, a->seed) != a) continue;
        const run_record *b = run_of_seed(ref, a->seed);
        if (b) d[n++] = a->rmse - b->rmse;
    }
    return n;
}

/* ------------------------------------------------------------------ analysis of a setup */

/* A setup's rows and what is chosen, compared and marked in them. */
typedef struct {
    int a, b;            /* rows[a..b) */
    int has_val;         /* the protocol holds validation units: settings can be chosen */
    int ref;             /* the scalarisation setting chosen on validation ("vs best fixed"), or -1 */
    int single[2];       /* the single-task rows: RUL only (fixed:1), health only (fixed:0), or -1 */
    double rmse_b, f1_b; /* their mean test RMSE and macro-F1: the baselines of Δm (NaN: missing) */
    int best;            /* best overall, or -1 */
    weighting_registry_list reg;   /* the methods as the report knows them */
    char distinct[160];  /* what tells it from the setups of its name: " · norm scope regime" */
    char title[224];     /* its name and that: "FD002 dcnn li2018 · norm scope regime" */
    char tag[224];       /* the same for file names: "FD002_dcnn_li2018_regime" */
} section;

/* A setting of a family tuned over a grid of its argument (fixed:λ, uw-so:T, dwa:T,
 * gradnorm:α), not a single-task baseline: its setting is chosen on validation. */
static int row_tuned(const method_row *r)
{
    return r->def && r->def->arg_sym && r->only_task < 0;
}

static int row_multitask(const method_row *r)
{
    return r->only_task < 0;
}

/* A row that stands for its method in comparisons: a multi-task row that is not one of the
 * settings of a tuned family left unchosen. */
static int row_contender(const method_row *r)
{
    return row_multitask(r) && (!row_tuned(r) || r->chosen);
}

/* A setting of the registry's reference scalarisation (fixed:λ, the "vs best fixed"). */
static int row_reference(const method_row *r)
{
    return r->def && r->def->reference;
}

/* The summed wall time of a row's runs, diverged ones included. */
static double row_wall(const method_row *r)
{
    double t = 0;
    for (int k = 0; k < r->n; k++) t += isfinite(r->runs[k]->wall_s) ? r->runs[k]->wall_s : 0;
    return t;
}

/* Marks the tuned families of rows[a..b): sizes, costs, the setting chosen on validation and
 * the test oracle. */
static void choose_settings(method_row *rows, section *s)
{
    for (int i = s->a; i < s->b; i++) {
        method_row *r = &rows[i];
        r->cost_s = row_wall(r);
        r->cost_runs = r->n;
        if (!row_tuned(r)) continue;
        int chosen = -1, oracle = -1;
        double cost = 0;
        int nfam = 0, runs = 0;
        for (int j = s->a; j < s->b; j++) {
            const method_row *q = &rows[j];
            if (q->def != r->def || !row_tuned(q)) continue;
            nfam++;
            runs += q->n;
            cost += row_wall(q);
            /* ties: the first, i.e. the smaller argument */
            if (q->val.n > 0 && q->rmse.n > 0 && (chosen < 0 || q->val.mean < rows[chosen].val.mean)) chosen = j;
            if (q->rmse.n > 0 && (oracle < 0 || q->rmse.mean < rows[oracle].rmse.mean)) oracle = j;
        }
        r->family_n = nfam;
        if (s->has_val) {   /* choosing the setting takes the whole grid; without validation nothing is chosen */
            r->cost_s = cost;
            r->cost_runs = runs;
        }
        r->chosen = s->has_val && chosen == i;
        r->family_chose = s->has_val && chosen >= 0;
        r->oracle = oracle == i;
    }
}

/* Δm of every ok run of every row against the single-task baselines. */
static void delta_m_rows(method_row *rows, const section *s, double *scratch)
{
    for (int i = s->a; i < s->b; i++) {
        method_row *r = &rows[i];
        int k = 0;
        for (int j = 0; j < r->n; j++)
            if (is_ok(r->runs[j]))
                scratch[k++] = report_delta_m(r->runs[j]->rmse, r->runs[j]->f1, s->rmse_b, s->f1_b);
        r->dm = stat_of(scratch, isfinite(s->rmse_b) && isfinite(s->f1_b) ? k : 0);
    }
}

/* Paired t-tests of every multi-task row against the reference, Holm-adjusted together. */
static int test_rows(method_row *rows, const section *s, double *d, mtl_err *err)
{
    int n = s->b - s->a;
    double *p = mtl_alloc((size_t)n * 2, sizeof *p, err);
    if (!p) return -1;
    double *adj = p + n;
    for (int i = s->a; i < s->b; i++) {
        method_row *r = &rows[i];
        p[i - s->a] = NAN;
        if (s->ref < 0 || i == s->ref || !row_multitask(r)) continue;
        double sd, t;
        r->npairs = paired_diffs(r, &rows[s->ref], d);
        report_paired_t(d, r->npairs, &r->diff, &sd, &t, &r->p);
        p[i - s->a] = r->p;
    }
    if (report_holm(p, n, adj) < 0) {
        free(p);
        return mtl_fail(err, "out of memory");
    }
    for (int i = s->a; i < s->b; i++) rows[i].p_holm = adj[i - s->a];
    free(p);
    return 0;
}

/* Marks the multi-task rows no other multi-task row beats in both test RMSE (lower) and
 * macro-F1 (higher) at once. */
static void mark_front(method_row *rows, const section *s)
{
    for (int i = s->a; i < s->b; i++) {
        method_row *r = &rows[i];
        r->nondominated = 0;
        if (!row_multitask(r) || r->rmse.n < 1) continue;
        int dominated = 0;
        for (int j = s->a; j < s->b && !dominated; j++) {
            const method_row *q = &rows[j];
            if (j == i || !row_multitask(q) || q->rmse.n < 1) continue;
            dominated = q->rmse.mean <= r->rmse.mean && q->f1.mean >= r->f1.mean &&
                        (q->rmse.mean < r->rmse.mean || q->f1.mean > r->f1.mean);
        }
        r->nondominated = !dominated;
    }
}

/* Everything chosen and computed for the setup rows[s->a .. s->b). */
static int analyse_section(method_row *rows, section *s, mtl_err *err)
{
    int nruns = 0;
    for (int i = s->a; i < s->b; i++) nruns += rows[i].n;
    double *scratch = mtl_alloc((size_t)nruns, sizeof *scratch, err);
    if (!scratch) return -1;
    s->has_val = rows[s->a].runs[0]->val_frac > 0;
    s->single[0] = s->single[1] = s->ref = s->best = -1;
    for (int i = s->a; i < s->b; i++) {
        int t = rows[i].only_task;
        if (t >= 0 && s->single[t] < 0 && rows[i].rmse.n > 0) s->single[t] = i;
    }
    s->rmse_b = s->single[0] >= 0 ? rows[s->single[0]].rmse.mean : NAN;
    s->f1_b = s->single[1] >= 0 ? rows[s->single[1]].f1.mean : NAN;
    delta_m_rows(rows, s, scratch);
    choose_settings(rows, s);
    for (int i = s->a; i < s->b; i++) {
        const method_row *r = &rows[i];
        if (row_reference(r) && r->chosen) s->ref = i;
        if (s->has_val && row_contender(r) && r->rmse.n > 0 && (s->best < 0 || r->rmse.mean < rows[s->best].rmse.mean))
            s->best = i;
    }
    int rc = test_rows(rows, s, scratch, err);
    mark_front(rows, s);
    free(scratch);
    return rc;
}

/* ------------------------------------------------------------------ tables */

#define CELL 160

/* A table of text cells; cells may hold **bold** spans. */
typedef struct {
    int ncol, nrow;      /* nrow counts the header */
    char *cell;          /* nrow x ncol cells of CELL bytes */
    int *right;          /* per column: 1 right-aligned */
} table;

static int table_init(table *t, int ncol, int nrow, mtl_err *err)
{
    t->ncol = ncol;
    t->nrow = nrow;
    t->cell = mtl_calloc((size_t)ncol * (size_t)nrow, CELL, err);
    t->right = mtl_calloc((size_t)ncol, sizeof *t->right, err);
    if (!t->cell || !t->right) {
        free(t->cell);
        free(t->right);
        t->cell = NULL;
        t->right = NULL;
        return -1;
    }
    return 0;
}

static void table_free(table *t)
{
    free(t->cell);
    free(t->right);
}

static char *tcell(const table *t, int row, int col)
{
    return t->cell + ((size_t)row * (size_t)t->ncol + (size_t)col) * CELL;
}

static void tset(const table *t, int row, int col, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void tset(const table *t, int row, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tcell(t, row, col), CELL, fmt, ap);
    va_end(ap);
}

/* Wraps a cell in ** (bold) when it has room. */
static void tbold(const table *t, int row, int col)
{
    char *c = tcell(t, row, col), tmp[CELL];
    if (strlen(c) + 5 > CELL || !c[0]) return;
    snprintf(tmp, sizeof tmp, "**%s**", c);
    memcpy(c, tmp, CELL);
}

static size_t utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void fmt_stat(char *buf, size_t n, mstat s, int dec)
{
    if (s.n == 0) snprintf(buf, n, "—");
    else if (s.n < 2) snprintf(buf, n, "%.*f ± —", dec, s.mean);
    else snprintf(buf, n, "%.*f ± %.*f", dec, s.mean, dec, s.sd);
}

/* "12.5 s", "3.2 min", "1.25 h" */
static void fmt_seconds(char *buf, size_t n, double s)
{
    if (s < 60) snprintf(buf, n, "%.1f s", s);
    else if (s < 3600) snprintf(buf, n, "%.1f min", s / 60);
    else snprintf(buf, n, "%.2f h", s / 3600);
}

static void append(char *buf, size_t n, const char *s)
{
    size_t len = strlen(buf);
    if (len + 1 >= n) return;
    snprintf(buf + len, n - len, "%s%s", len ? ", " : "", s);
}

/* ------------------------------------------------------------------ output: Markdown or HTML */

/* The report is written once as Markdown (stdout) and, with --html, once more as one
 * self-contained HTML page, by the same code: every piece goes through these calls. Text may
 * hold **bold** and `code` spans and line breaks. */
typedef struct {
    FILE *f;
    int html;
    const char *svgdir;   /* Markdown: plots are written into this folder (NULL: none) */
    int plots;            /* plots are made: HTML, or Markdown with svgdir */
} doc;

static void html_escaped(FILE *f, const char *s, size_t n)
{
    for (size_t i = 0; i < n && s[i]; i++) {
        switch (s[i]) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\n': fputs("<br/>\n", f); break;
        default:
            if ((unsigned char)s[i] < 0x20 && s[i] != '\t') fputc(' ', f);
            else fputc(s[i], f);
        }
    }
}

/* Text with its ** and ` spans, as HTML (unpaired markers are written as they are). */
static void html_inline(FILE *f, const char *s)
{
    while (*s) {
        const char *mark = NULL, *tag = NULL;
        size_t ml = 0;
        const char *b = strstr(s, "**"), *c = strchr(s, '`');
        if (b && (!c || b < c)) mark = b, ml = 2, tag = "strong";
        else if (c) mark = c, ml = 1, tag = "code";
        const char *end = mark ? strstr(mark + ml, ml == 2 ? "**" : "`") : NULL;
        if (!mark || !end) {
            html_escaped(f, s, strlen(s));
            return;
        }
        html_escaped(f, s, (size_t)(mark - s));
        fprintf(f, "<%s>", tag);
        html_escaped(f, mark + ml, (size_t)(end - mark - ml));
        fprintf(f, "</%s>", tag);
        s = end + ml;
    }
}

/* A malloc'd, formatted string (NULL when out of memory). */
static char *vformat(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

static void doc_heading(doc *d, int level, const char *text)
{
    if (d->html) {
        fprintf(d->f, "<h%d>", level);
        html_inline(d->f, text);
        fprintf(d->f, "</h%d>\n", level);
    } else {
        fprintf(d->f, "%.*s %s\n\n", level, "######", text);
    }
}

/* A paragraph. cls NULL: plain; "note": a footnote (italic); "item": a list item (a run of
 * items is one list in Markdown, each its own list in HTML, which ends the run with a blank
 * line the caller writes). */
static void doc_para(doc *d, const char *cls, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void doc_para(doc *d, const char *cls, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = vformat(fmt, ap);
    va_end(ap);
    if (!text) return;
    int item = cls && strcmp(cls, "item") == 0;
    if (d->html) {
        fputs(item ? "<ul><li>" : "", d->f);
        if (!item) fprintf(d->f, cls ? "<p class=\"%s\">" : "<p>", cls);
        html_inline(d->f, text);
        fputs(item ? "</li></ul>\n" : "</p>\n", d->f);
    } else if (item) {
        fprintf(d->f, "- %s\n", text);
    } else {
        fprintf(d->f, cls ? "_%s_\n\n" : "%s\n\n", text);
    }
    free(text);
}

static void doc_table(doc *d, const table *t)
{
    if (d->html) {
        fputs("<table>\n", d->f);
        for (int i = 0; i < t->nrow; i++) {
            fputs("<tr>", d->f);
            for (int c = 0; c < t->ncol; c++) {
                const char *tag = i == 0 ? "th" : "td";
                fprintf(d->f, t->right[c] ? "<%s class=\"num\">" : "<%s>", tag);
                html_inline(d->f, tcell(t, i, c));
                fprintf(d->f, "</%s>", tag);
            }
            fputs("</tr>\n", d->f);
        }
        fputs("</table>\n", d->f);
        return;
    }
    size_t *w = calloc((size_t)t->ncol, sizeof *w);
    if (!w) return;
    for (int i = 0; i < t->nrow; i++)
        for (int c = 0; c < t->ncol; c++) {
            size_t l = utf8_len(tcell(t, i, c));
            if (l > w[c]) w[c] = l;
        }
    for (int i = 0; i < t->nrow; i++) {
        for (int c = 0; c < t->ncol; c++) {
            const char *s = tcell(t, i, c);
            size_t pad = w[c] - utf8_len(s);
            fputs("| ", d->f);
            if (t->right[c]) fprintf(d->f, "%*s", (int)pad, "");
            fputs(s, d->f);
            if (!t->right[c]) fprintf(d->f, "%*s", (int)pad, "");
            fputc(' ', d->f);
        }
        fputs("|\n", d->f);
        if (i == 0) {
            for (int c = 0; c < t->ncol; c++) {
                fputs(t->right[c] ? "|-" : "|:", d->f);
                for (size_t k = 0; k < w[c]; k++) fputc('-', d->f);
                fputs(t->right[c] ? ":" : "-", d->f);
            }
            fputs("|\n", d->f);
        }
    }
    fputc('\n', d->f);
    free(w);
}

/* ------------------------------------------------------------------ a setup's text */

/* "name value" of an int field across runs: one value or "min..max". */
static void describe_int(char *buf, size_t n, const char *name, const run_record **v, int k, size_t off)
{
    int lo = *(const int *)(const void *)((const char *)v[0] + off), hi = lo;
    for (int i = 1; i < k; i++) {
        int x = *(const int *)(const void *)((const char *)v[i] + off);
        if (x < lo) lo = x;
        if (x > hi) hi = x;
    }
    char s[96];
    if (lo == hi) snprintf(s, sizeof s, "%s %d", name, lo);
    else snprintf(s, sizeof s, "%s %d..%d (mixed)", name, lo, hi);
    append(buf, n, s);
}

static void describe_double(char *buf, size_t n, const char *name, const run_record **v, int k, size_t off)
{
    double lo = *(const double *)(const void *)((const char *)v[0] + off), hi = lo;
    for (int i = 1; i < k; i++) {
        double x = *(const double *)(const void *)((const char *)v[i] + off);
        if (x < lo) lo = x;
        if (x > hi) hi = x;
    }
    char s[96];
    if (lo == hi) snprintf(s, sizeof s, "%s %g", name, lo);
    else snprintf(s, sizeof s, "%s %g..%g (mixed)", name, lo, hi);
    append(buf, n, s);
}

/* The configuration of the k runs of a setup. */
static void describe_config(char *buf, size_t n, const run_record **v, int k)
{
    buf[0] = '\0';
    char s[256];
    snprintf(s, sizeof s, "model %s, protocol %s (norm %s, lr step %s, statistics per %s), data %s", v[0]->model,
             v[0]->protocol, v[0]->norm, v[0]->lr_step,
             strcmp(v[0]->norm_scope, "global") == 0 ? "sensor" : "regime and sensor",
             v[0]->data_digest[0] ? v[0]->data_digest : "not recorded");
    append(buf, n, s);
    describe_int(buf, n, "epochs", v, k, offsetof(run_record, epochs));
    describe_int(buf, n, "window", v, k, offsetof(run_record, window));
    describe_int(buf, n, "batch", v, k, offsetof(run_record, batch));
    describe_double(buf, n, "lr", v, k, offsetof(run_record, lr));
    describe_double(buf, n, "dropout", v, k, offsetof(run_record, dropout));
    describe_double(buf, n, "val_frac", v, k, offsetof(run_record, val_frac));
    describe_int(buf, n, "patience", v, k, offsetof(run_record, patience));
}

/* The distinct seeds of the k runs, ascending: "3): 1, 2, 3". */
static void describe_seeds(char *buf, size_t n, const run_record **v, int k)
{
    buf[0] = '\0';
    long *seeds = malloc((size_t)k * sizeof *seeds);
    if (!seeds) return;
    int ns = 0;
    for (int i = 0; i < k; i++) {
        int j = 0;
        while (j < ns && seeds[j] != v[i]->seed) j++;
        if (j == ns) seeds[ns++] = v[i]->seed;
    }
    for (int i = 1; i < ns; i++)
        for (int j = i; j > 0 && seeds[j - 1] > seeds[j]; j--) {
            long t = seeds[j];
            seeds[j] = seeds[j - 1];
            seeds[j - 1] = t;
        }
    size_t len = (size_t)snprintf(buf, n, "%d):", ns);
    for (int i = 0; i < ns && i < 30 && len < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "%s %ld", i ? "," : "", seeds[i]);
    if (ns > 30 && len < n) snprintf(buf + len, n - len, ", …");
    free(seeds);
}

/* The distinct values of a string field of the k runs: up to six, then how many in all. */
static void describe_distinct(char *buf, size_t n, const run_record **v, int k, size_t off)
{
    buf[0] = '\0';
    int shown = 0, all = 0;
    for (int i = 0; i < k; i++) {
        const char *s = (const char *)v[i] + off;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) seen = strcmp((const char *)v[j] + off, s) == 0;
        if (seen) continue;
        all++;
        if (shown < 6) {
            append(buf, n, s[0] ? s : "(none)");
            shown++;
        }
    }
    if (all > shown) {
        char s[48];
        snprintf(s, sizeof s, "… (%d in all)", all);
        append(buf, n, s);
    }
}

/* Commits, versions, hosts and the dates of the k runs. */
static void describe_provenance(char *buf, size_t n, const run_record **v, int k)
{
    char git[512], ver[256], host[512];
    describe_distinct(git, sizeof git, v, k, offsetof(run_record, git));
    describe_distinct(ver, sizeof ver, v, k, offsetof(run_record, version));
    describe_distinct(host, sizeof host, v, k, offsetof(run_record, host));
    const char *lo = v[0]->start_time, *hi = v[0]->start_time;
    for (int i = 1; i < k; i++) {
        if (strcmp(v[i]->start_time, lo) < 0) lo = v[i]->start_time;
        if (strcmp(v[i]->start_time, hi) > 0) hi = v[i]->start_time;
    }
    snprintf(buf, n, "commits %s; versions %s; hosts %s; started %s%s%s", git, ver, host, lo,
             strcmp(lo, hi) ? " to " : "", strcmp(lo, hi) ? hi : "");
}

static const char REPORT_LEGEND[] =
    "Columns: rank = 1 + the number of multi-task methods of the setup with a lower mean test RMSE; "
    "runs = ok/total (diverged runs and ok runs with a non-finite metric are counted and listed but left "
    "out of every mean); "
    "RMSE, NASA score (both lower is better), accuracy and macro-F1 of the health classes, all on the "
    "test units: mean ± sample standard deviation (n − 1) over seeds, — with fewer than two runs; "
    "val RMSE = the validation RMSE of the selected epoch (best_val_rmse), the only figure settings are "
    "chosen by; "
    "Δm = ½ [−(RMSE − RMSE_b) / RMSE_b + (F1 − F1_b) / F1_b] × 100 % per seed, mean ± std, with RMSE_b the "
    "mean test RMSE of fixed:1 (RUL only) and F1_b the mean test macro-F1 of fixed:0 (health only) of the "
    "setup (higher is better; left out without both baselines); "
    "vs best fixed = mean RMSE difference method − the fixed λ chosen on validation, over the seeds ok in "
    "both (negative is better), with the two-sided paired t-test's p-value adjusted by Holm–Bonferroni over "
    "all the comparisons of the setup, and the number of pairs n; "
    "cost = the wall time of the runs it takes to choose the method: every run of every setting of a tuned "
    "family (fixed:λ, uw-so:T, dwa:T, gradnorm:α) in the setup, the method's own runs otherwise (and without "
    "validation units, where nothing is chosen); "
    "**best λ** / **best T** / **best α** = the setting of its family with the lowest mean validation RMSE "
    "(ties: the smaller setting), and its test figures are the family's; oracle = the lowest mean test "
    "RMSE of a family where it differs: information only, never a baseline; "
    "**best overall** = the lowest mean test RMSE among the methods, each tuned family by its chosen "
    "setting; non-dominated = no other multi-task method has both a lower mean test RMSE and a higher mean "
    "macro-F1. Without validation units (val_frac 0) nothing is chosen or marked best.";

enum { T_METHOD, T_RANK, T_RUNS, T_RMSE, T_SCORE, T_ACC, T_F1, T_VAL, T_DM, T_VS, T_COST, T_NOTES, T_NCOL };

/* The notes cell of row i. */
static void row_notes(char *notes, const method_row *rows, const section *s, int i)
{
    const method_row *r = &rows[i];
    char buf[64];
    if (r->only_task >= 0) append(notes, CELL, r->only_task == 0 ? "single-task: RUL only" : "single-task: health only");
    if (r->chosen && r->family_n > 1) {
        snprintf(buf, sizeof buf, "**best %s** (validation)", r->def->arg_sym);
        append(notes, CELL, buf);
    }
    if (s->has_val && r->oracle && !r->chosen && r->family_n > 1) {
        snprintf(buf, sizeof buf, "oracle %s (test)", r->def->arg_sym);
        append(notes, CELL, buf);
    }
    if (i == s->best) append(notes, CELL, "**best overall**");
    if (r->nondominated) append(notes, CELL, "non-dominated");
    if (r->n_ok < r->n) {
        int nonfinite = 0;
        for (int k = 0; k < r->n; k++) nonfinite += strcmp(r->runs[k]->status, "ok") == 0 && !is_ok(r->runs[k]);
        if (r->n - r->n_ok > nonfinite) {
            snprintf(buf, sizeof buf, "%d diverged", r->n - r->n_ok - nonfinite);
            append(notes, CELL, buf);
        }
        if (nonfinite) {
            snprintf(buf, sizeof buf, "%d with a non-finite metric", nonfinite);
            append(notes, CELL, buf);
        }
    }
}

/* The "vs best fixed" cell of row i. */
static void row_versus(char *c, const method_row *rows, const section *s, int i)
{
    const method_row *r = &rows[i];
    if (!row_multitask(r)) snprintf(c, CELL, "single-task");
    else if (s->ref < 0) snprintf(c, CELL, s->has_val ? "n/a" : "n/a (no validation)");
    else if (i == s->ref) snprintf(c, CELL, "reference");
    else if (r->npairs == 0) snprintf(c, CELL, "n/a (no common seeds)");
    else if (r->npairs < 2) snprintf(c, CELL, "%+.2f (p n/a, n=1)", r->diff);
    else if (r->p_holm < 0.0001) snprintf(c, CELL, "%+.2f (Holm p<0.0001, n=%d)", r->diff, r->npairs);
    else snprintf(c, CELL, "%+.2f (Holm p=%.4f, n=%d)", r->diff, r->p_holm, r->npairs);
}

static int section_table(table *t, const method_row *rows, const section *s, mtl_err *err)
{
    int have_dm = isfinite(s->rmse_b) && isfinite(s->f1_b);
    if (table_init(t, T_NCOL - !have_dm, s->b - s->a + 1, err) < 0) return -1;
    static const char *const head[T_NCOL] = {"method",   "rank", "runs", "RMSE",          "NASA score", "accuracy",
                                             "macro-F1", "val RMSE", "Δm %", "vs best fixed", "cost",      "notes"};
    /* column of each field (Δm may be left out) */
    int col[T_NCOL];
    for (int c = 0, k = 0; c < T_NCOL; c++) col[c] = c == T_DM && !have_dm ? -1 : k++;
    for (int c = 0; c < T_NCOL; c++) {
        if (col[c] < 0) continue;
        tset(t, 0, col[c], "%s", head[c]);
        t->right[col[c]] = c != T_METHOD && c != T_NOTES;
    }
    for (int i = s->a; i < s->b; i++) {
        const method_row *r = &rows[i];
        int row = i - s->a + 1;
        tset(t, row, col[T_METHOD], "%s", r->runs[0]->method);
        if (r->rmse.n < 1 || !row_multitask(r)) {
            tset(t, row, col[T_RANK], "—");
        } else {
            int rank = 1;
            for (int j = s->a; j < s->b; j++)
                rank += row_multitask(&rows[j]) && rows[j].rmse.n > 0 && rows[j].rmse.mean < r->rmse.mean;
            tset(t, row, col[T_RANK], "%d", rank);
        }
        tset(t, row, col[T_RUNS], "%d/%d", r->n_ok, r->n);
        fmt_stat(tcell(t, row, col[T_RMSE]), CELL, r->rmse, 2);
        fmt_stat(tcell(t, row, col[T_SCORE]), CELL, r->score, 1);
        fmt_stat(tcell(t, row, col[T_ACC]), CELL, r->acc, 3);
        fmt_stat(tcell(t, row, col[T_F1]), CELL, r->f1, 3);
        fmt_stat(tcell(t, row, col[T_VAL]), CELL, r->val, 2);
        if (have_dm) {
            if (r->only_task >= 0) tset(t, row, col[T_DM], "baseline");
            else fmt_stat(tcell(t, row, col[T_DM]), CELL, r->dm, 2);
        }
        row_versus(tcell(t, row, col[T_VS]), rows, s, i);
        char secs[32];
        fmt_seconds(secs, sizeof secs, r->cost_s);
        tset(t, row, col[T_COST], "%s (%d run%s)", secs, r->cost_runs, r->cost_runs == 1 ? "" : "s");
        row_notes(tcell(t, row, col[T_NOTES]), rows, s, i);
    }
    return 0;
}

/* What was chosen on validation, or why nothing was; where Δm is missing, why. */
static void section_remarks(doc *d, const method_row *rows, const section *s)
{
    if (!s->has_val) {
        doc_para(d, NULL, "This protocol has no validation units (val_frac 0): no setting of a tuned family is "
                          "chosen, nothing is marked best, and no method is compared with a chosen λ.");
    } else {
        char chosen[512] = "", oracle[512] = "";
        for (int i = s->a; i < s->b; i++) {
            const method_row *r = &rows[i];
            if (r->family_n < 2) continue;
            char buf[96];
            snprintf(buf, sizeof buf, "`%s` (of %d settings)", r->runs[0]->method, r->family_n);
            if (r->chosen) append(chosen, sizeof chosen, buf);
            if (r->oracle && !r->chosen) {
                snprintf(buf, sizeof buf, "`%s`", r->runs[0]->method);
                append(oracle, sizeof oracle, buf);
            }
        }
        if (chosen[0]) doc_para(d, NULL, "Chosen on validation (lowest mean validation RMSE): %s.%s%s%s", chosen,
                                oracle[0] ? " The test oracle, for information only, would have taken " : "", oracle,
                                oracle[0] ? "." : "");
    }
    if (!isfinite(s->rmse_b) || !isfinite(s->f1_b))
        doc_para(d, NULL, "No Δm column: it needs the single-task runs of this setup, `fixed:1` (RUL only) and "
                          "`fixed:0` (health only)%s%s%s.",
                 isfinite(s->rmse_b) ? "; `fixed:0` is missing" : "", isfinite(s->f1_b) ? "; `fixed:1` is missing" : "",
                 !isfinite(s->rmse_b) && !isfinite(s->f1_b) ? "; both are missing" : "");
}

/* ------------------------------------------------------------------ files */

/* Opens the output file path (mtl_output: through symlinks, atomically, devices in place); a
 * results file is never overwritten. */
static FILE *open_out(const char *path, mtl_output *o, mtl_err *err)
{
    if (results_is_results_file(path)) {
        mtl_fail(err, "%s: is a results file; it is not overwritten (name another output file)", path);
        return NULL;
    }
    int fd = mtl_output_open(path, o, err);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        mtl_fail(err, "%s: cannot open: %s", path, strerror(errno));
        mtl_output_commit(o, 1, NULL);
    }
    return f;
}

/* Closes f and ends the output (removing its temporary file on failure). */
static int close_out(FILE *f, mtl_output *o, const char *path, mtl_err *err)
{
    int bad = fflush(f) != 0 || ferror(f);
    int e = errno ? errno : EIO;
    int fd = bad ? -1 : dup(fileno(f));
    if (fclose(f) != 0 && !bad) bad = 1, e = errno;
    if (bad || fd < 0) {
        if (fd >= 0) close(fd);
        o->fd = -1;
        if (o->tmp) unlink(o->tmp);
        free(o->tmp);
        free(o->target);
        return mtl_fail(err, "%s: cannot write: %s", path, mtl_errno_text(bad ? e : errno));
    }
    o->fd = fd;
    return mtl_output_commit(o, 0, err);
}

/* Writes n bytes to path through a temporary file, and says so on stderr. */
static int write_whole(const char *path, const char *text, size_t n, mtl_err *err)
{
    mtl_output o;
    FILE *f = open_out(path, &o, err);
    if (!f) return -1;
    fwrite(text, 1, n, f);
    if (close_out(f, &o, path, err) < 0) return -1;
    fprintf(stderr, "report: wrote %s\n", path);
    return 0;
}

static void csv_str(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\n\r") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_num(FILE *f, double v)
{
    if (isfinite(v)) fprintf(f, "%.10g", v);
}

/* One row per run, in report order; delta_m against its setup's single-task baselines. */
static int write_csv(const char *path, const method_row *rows, const section *secs, int nsec, mtl_err *err)
{
    mtl_output o;
    FILE *f = open_out(path, &o, err);
    if (!f) return -1;
    fputs("subset,method,seed,status,rmse,rmse_uncapped,mae,score,acc,f1,best_val_rmse,best_epoch,epochs_run,"
          "samples_per_s,ranks,threads,wall_s,run_id,delta_m\n",
          f);
    for (int s = 0; s < nsec; s++)
        for (int i = secs[s].a; i < secs[s].b; i++)
            for (int k = 0; k < rows[i].n; k++) {
                const run_record *r = rows[i].runs[k];
                csv_str(f, r->subset);
                fputc(',', f);
                csv_str(f, r->method);
                fprintf(f, ",%ld,", r->seed);
                csv_str(f, r->status);
                const double m[] = {r->rmse, r->rmse_uncapped, r->mae, r->score, r->acc, r->f1, r->best_val_rmse};
                for (size_t j = 0; j < sizeof m / sizeof m[0]; j++) {
                    fputc(',', f);
                    csv_num(f, m[j]);
                }
                fprintf(f, ",%d,%d,", r->best_epoch, r->epochs_run);
                csv_num(f, r->samples_per_s);
                fprintf(f, ",%d,%d,", r->ranks, r->threads);
                csv_num(f, r->wall_s);
                fputc(',', f);
                csv_str(f, r->run_id);
                fputc(',', f);
                if (is_ok(r) && rows[i].only_task < 0)
                    csv_num(f, report_delta_m(r->rmse, r->f1, secs[s].rmse_b, secs[s].f1_b));
                fputc('\n', f);
            }
    return close_out(f, &o, path, err);
}

/* prefix_<a>[_<b>].svg with characters other than [A-Za-z0-9._-] in a and b made '_'. */
static void plot_name(char *buf, size_t n, const char *prefix, const char *a, const char *b)
{
    snprintf(buf, n, "%s_%s%s%s.svg", prefix, a, b ? "_" : "", b ? b : "");
    for (char *s = buf; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-' || c == '_'))
            *s = '_';
    }
}

/* ------------------------------------------------------------------ plots */

/* A plot is made in memory, then written to the --svg folder (Markdown pass) or embedded
 * in the page (HTML pass). */
typedef struct {
    char *text;
    size_t len;
    FILE *f;
} membuf;

static FILE *mem_open(membuf *m, mtl_err *err)
{
    m->text = NULL;
    m->len = 0;
    m->f = open_memstream(&m->text, &m->len);
    if (!m->f) mtl_fail(err, "out of memory");
    return m->f;
}

/* Closes m and, when made, hands the plot to the document under name; frees m. */
static int doc_plot(doc *d, membuf *m, int made, const char *name, mtl_err *err)
{
    int bad = fclose(m->f) != 0;
    int rc = 0;
    if (bad) rc = mtl_fail(err, "out of memory");
    else if (made && d->html) {
        const char *svg = strstr(m->text, "<svg");
        fputs("<figure>\n", d->f);
        fputs(svg ? svg : "", d->f);
        fputs("<figcaption>", d->f);
        html_escaped(d->f, name, strlen(name));
        fputs("</figcaption>\n</figure>\n", d->f);
    } else if (made && d->svgdir) {
        size_t n = strlen(d->svgdir) + strlen(name) + 2;
        char *path = malloc(n);
        if (!path) rc = mtl_fail(err, "out of memory");
        else {
            snprintf(path, n, "%s/%s", d->svgdir, name);
            rc = write_whole(path, m->text, m->len, err);
            free(path);
        }
    }
    free(m->text);
    m->text = NULL;
    return rc;
}

#define C_SERIES "#1f77b4"
#define C_RUL "#1f77b4"
#define C_HEALTH "#ff7f0e"
#define C_FIXED "#d62728"
#define C_UW "#2ca02c"
#define C_UWO "#9467bd"
#define C_BASE "#555555"

static const char *const PALETTE[] = {"#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                                      "#bcbd22", "#ff7f0e", "#7f7f7f", "#000000", "#393b79", "#c51b7d"};
#define N_PALETTE ((int)(sizeof PALETTE / sizeof PALETTE[0]))

/* The colour and marker shape of the k-th method of a plot: 4 x 12 distinct pairs. */
static const char *style_color(int k)
{
    return PALETTE[k % N_PALETTE];
}

static int style_shape(int k)
{
    return (k + k / N_PALETTE) % SVG_RING;
}

/* The plots of a family's test RMSE against its setting, by the grid kind of its argument:
 * the file name's prefix (NULL: no such plot). */
static const char *const FAMILY_PLOT[WEIGHTING_GRIDS] = {[WEIGHTING_GRID_T] = "rmse_vs_temperature"};

/* The method of reg with grid kind g first in display order, or NULL: the one family of
 * the plot of that kind. */
static const weighting_method *family_of_grid(weighting_registry_list reg, weighting_grid g)
{
    const weighting_method *fam = NULL;
    for (weighting_registry_list def = reg; *def; def++)
        if ((*def)->grid == g && (!fam || (*def)->order < fam->order)) fam = *def;
    return fam;
}

/* The colours of the reference lines after the reference scalarisation's, in row order. */
static const char *const LINE_COLORS[] = {C_UW, C_UWO, "#8c564b", "#e377c2"};
static const char *const LINE_DASHES[] = {"2,3", "9,3,2,3", "4,2", "1,2"};
#define MAX_LINES ((int)(sizeof LINE_COLORS / sizeof LINE_COLORS[0]))

/* A horizontal reference line of a family plot: a row's mean test RMSE. */
typedef struct {
    int row;
    const char *color, *dash;
    char label[96];
} ref_line;

/* The reference lines of a family plot: the chosen setting of the reference scalarisation,
 * then the best row of every method the registry draws as a line; returns the count. */
static int family_ref_lines(const method_row *rows, const section *s, ref_line *ref)
{
    int nref = 0;
    if (s->ref >= 0) {
        const method_row *r = &rows[s->ref];
        char num[32];
        mtl_fmt_shortest(r->param, num, sizeof num);
        ref[nref] = (ref_line){.row = s->ref, .color = C_FIXED, .dash = "7,4"};
        snprintf(ref[nref].label, sizeof ref[nref].label, "%s %s=%s (validation): %.2f", r->def->name, r->def->arg_sym,
                 num, r->rmse.mean);
        nref++;
    }
    const weighting_method *done[MAX_LINES];
    int ndone = 0;
    for (int i = s->a; i < s->b && ndone < MAX_LINES; i++) {
        const weighting_method *def = rows[i].def;
        if (!def || !def->plot_line) continue;
        int seen = 0;
        for (int k = 0; k < ndone; k++) seen |= done[k] == def;
        if (seen) continue;
        int best = best_row(rows, s->a, s->b, def);
        if (best < 0) continue;
        ref[nref] = (ref_line){.row = best, .color = LINE_COLORS[ndone], .dash = LINE_DASHES[ndone]};
        snprintf(ref[nref].label, sizeof ref[nref].label, "%s: %.2f", def->name, rows[best].rmse.mean);
        done[ndone++] = def;
        nref++;
    }
    return nref;
}

/* Test RMSE of the family fam against its setting (grid kind g) with reference lines, for
 * the rows of one setup, into f. Returns 1 when made, 0 when the setup has no results of
 * fam, -1 on error. */
static int plot_family(FILE *f, const method_row *rows, const section *s, const weighting_method *fam,
                       const weighting_grid_kind *g, mtl_err *err)
{
    int a = s->a, b = s->b;
    int npts = 0;
    for (int i = a; i < b; i++) npts += rows[i].def == fam && rows[i].rmse.n > 0;
    if (npts == 0) return 0;
    double *x = mtl_alloc((size_t)npts * 3, sizeof *x, err);
    if (!x) return -1;
    double *y = x + npts, *e = y + npts;
    int k = 0;
    double ylo = INFINITY, yhi = -INFINITY;
    for (int i = a; i < b; i++) {
        if (rows[i].def != fam || rows[i].rmse.n == 0) continue;
        x[k] = rows[i].param;
        y[k] = rows[i].rmse.mean;
        e[k] = rows[i].rmse.sd;
        double lo = isfinite(e[k]) ? y[k] - e[k] : y[k], hi = isfinite(e[k]) ? y[k] + e[k] : y[k];
        if (lo < ylo) ylo = lo;
        if (hi > yhi) yhi = hi;
        k++;
    }

    ref_line ref[1 + MAX_LINES];
    int nref = family_ref_lines(rows, s, ref);
    for (int i = 0; i < nref; i++) {
        double v = rows[ref[i].row].rmse.mean;
        if (v < ylo) ylo = v;
        if (v > yhi) yhi = v;
    }
    double pad = (yhi - ylo) * 0.06;
    ylo -= pad;
    yhi += pad;
    svg_range_linear(&ylo, &yhi);
    double xlo = x[0], xhi = x[0];
    for (int i = 1; i < k; i++) {
        if (x[i] < xlo) xlo = x[i];
        if (x[i] > xhi) xhi = x[i];
    }
    int xlog = xlo > 0;
    if (xlog) svg_range_log(&xlo, &xhi, 0.12);
    else svg_range_linear(&xlo, &xhi);

    svg_legend_item items[3 + MAX_LINES];
    char series[64], chosen_label[64];
    int maxn = 0;
    for (int i = a; i < b; i++)
        if (rows[i].def == fam && rows[i].rmse.n > maxn) maxn = rows[i].rmse.n;
    snprintf(series, sizeof series, "%s (mean ± std, %d seed%s)", fam->name, maxn, maxn == 1 ? "" : "s");
    items[0] = (svg_legend_item){.label = series, .color = C_SERIES, .marker = 1};
    for (int i = 0; i < nref; i++)
        items[i + 1] = (svg_legend_item){.label = ref[i].label, .color = ref[i].color, .dash = ref[i].dash};
    int nitems = nref + 1, chosen = -1;
    for (int i = a; i < b; i++)
        if (rows[i].def == fam && rows[i].chosen && rows[i].rmse.n > 0) chosen = i;
    snprintf(chosen_label, sizeof chosen_label, "%s chosen on validation", g->sym);
    if (chosen >= 0)
        items[nitems++] = (svg_legend_item){.label = chosen_label, .color = "#222222", .marker = 1 + SVG_RING,
                                            .no_line = 1};

    svg_area area = {.left = 84, .top = 52, .width = 500, .height = 340};
    double lw = svg_legend_width(items, nitems);
    int width = (int)ceil(area.left + area.width + 24 + lw + 16), height = (int)(area.top + area.height + 62);
    char title[320], xlabel[96];
    snprintf(title, sizeof title, "%s: test RMSE of %s against %s", s->title, fam->name, g->axis);
    snprintf(xlabel, sizeof xlabel, xlog ? "%s (log scale)" : "%s", g->axis);

    svg_begin(f, width, height);
    svg_title(f, width, title);
    svg_plot p;
    svg_plot_init(&p, f, &area, &(svg_ranges){.xmin = xlo, .xmax = xhi, .xlog = xlog, .ymin = ylo, .ymax = yhi});
    svg_axes(&p, xlabel, "test RMSE (cycles)");
    for (int i = 0; i < nref; i++) svg_hline(&p, rows[ref[i].row].rmse.mean, ref[i].color, 2, ref[i].dash);
    svg_error_bars(&p, x, y, e, k, C_SERIES);
    svg_polyline(&p, x, y, k, C_SERIES, 2, NULL, 1);
    svg_markers(&p, x, y, k, C_SERIES, 4.5);
    if (chosen >= 0) svg_shape(&p, rows[chosen].param, rows[chosen].rmse.mean, SVG_RING, "#222222", 9);
    svg_legend(f, area.left + area.width + 24, area.top, items, nitems);
    svg_end(f);
    free(x);
    return 1;
}

/* Task weights per epoch of one method row (mean over its ok runs, thin lines per run), into
 * f. Returns 1 when made, 0 when the row has no weight history, -1 on error. */
static int plot_weights(FILE *f, const method_row *row, const section *s, mtl_err *err)
{
    int emin = 0, emax = -1, nr = 0;
    for (int i = 0; i < row->n; i++) {
        const run_record *r = row->runs[i];
        if (!is_ok(r) || r->n_hist < 1 || !r->hist) continue;
        for (int k = 0; k < r->n_hist; k++) {
            int e = r->hist[k].epoch;
            if (emax < emin) emin = emax = e;
            if (e < emin) emin = e;
            if (e > emax) emax = e;
        }
        nr++;
    }
    if (nr == 0 || emax < emin) return 0;
    if ((long)emax - (long)emin > 1000000) return mtl_fail(err, "%s %s: epoch numbers out of range (%d..%d)",
                                                           row->runs[0]->subset, row->runs[0]->method, emin, emax);
    int ne = emax - emin + 1;
    double *buf = mtl_calloc((size_t)ne * 5, sizeof *buf, err);
    if (!buf) return -1;
    double *ex = buf, *mr = buf + ne, *mh = buf + 2 * (size_t)ne, *cr = buf + 3 * (size_t)ne,
           *ch = buf + 4 * (size_t)ne;
    double ylo = INFINITY, yhi = -INFINITY;
    for (int i = 0; i < row->n; i++) {
        const run_record *r = row->runs[i];
        if (!is_ok(r) || r->n_hist < 1 || !r->hist) continue;
        for (int k = 0; k < r->n_hist; k++) {
            int e = r->hist[k].epoch - emin;
            double w_rul = r->hist[k].w_rul, w_health = r->hist[k].w_health;
            if (isfinite(w_rul) && w_rul > 0) {
                mr[e] += w_rul, cr[e] += 1;
                if (w_rul < ylo) ylo = w_rul;
                if (w_rul > yhi) yhi = w_rul;
            }
            if (isfinite(w_health) && w_health > 0) {
                mh[e] += w_health, ch[e] += 1;
                if (w_health < ylo) ylo = w_health;
                if (w_health > yhi) yhi = w_health;
            }
        }
    }
    if (!(ylo <= yhi)) {   /* no positive weight to show on a log axis */
        free(buf);
        return 0;
    }
    for (int e = 0; e < ne; e++) {
        ex[e] = emin + e;
        mr[e] = cr[e] > 0 ? mr[e] / cr[e] : NAN;
        mh[e] = ch[e] > 0 ? mh[e] / ch[e] : NAN;
    }
    /* whole decades, so that the ends are labelled and 2 and 5 times them in between */
    svg_range_log_decades(&ylo, &yhi);
    double xlo = emin, xhi = emax;
    if (xhi - xlo < 1) xlo -= 1, xhi += 1;
    svg_range_linear(&xlo, &xhi);

    char label_rul[64], label_health[64];
    snprintf(label_rul, sizeof label_rul, "w_rul (mean of %d seed%s)", nr, nr == 1 ? "" : "s");
    snprintf(label_health, sizeof label_health, "w_health (mean of %d seed%s)", nr, nr == 1 ? "" : "s");
    svg_legend_item items[3] = {{.label = label_rul, .color = C_RUL}, {.label = label_health, .color = C_HEALTH},
                                {.label = "single seeds", .color = "#aaaaaa"}};
    int nitems = nr > 1 ? 3 : 2;

    const double left = 84, top = 52, pw = 500, ph = 340;
    double lw = svg_legend_width(items, nitems);
    int width = (int)ceil(left + pw + 24 + lw + 16), height = (int)(top + ph + 62);
    char title[320];
    snprintf(title, sizeof title, "%s %s: task weights per epoch", s->title, row->runs[0]->method);

    svg_begin(f, width, height);
    svg_title(f, width, title);
    svg_plot p;
    svg_plot_init(&p, f, &(svg_area){.left = left, .top = top, .width = pw, .height = ph},
                  &(svg_ranges){.xmin = xlo, .xmax = xhi, .ymin = ylo, .ymax = yhi, .ylog = 1});
    p.xint = 1;
    svg_axes(&p, "epoch", "weight (log scale)");
    if (nr > 1) {
        /* one thin line per run, under the means */
        for (int i = 0; i < row->n; i++) {
            const run_record *r = row->runs[i];
            if (!is_ok(r) || r->n_hist < 1 || !r->hist) continue;
            double *sx = mtl_alloc((size_t)r->n_hist * 3, sizeof *sx, err);
            if (!sx) {
                free(buf);
                return -1;
            }
            double *sr = sx + r->n_hist, *sh = sr + r->n_hist;
            for (int k = 0; k < r->n_hist; k++) {
                sx[k] = r->hist[k].epoch;
                sr[k] = r->hist[k].w_rul;
                sh[k] = r->hist[k].w_health;
            }
            svg_polyline(&p, sx, sr, r->n_hist, C_RUL, 1, NULL, 0.3);
            svg_polyline(&p, sx, sh, r->n_hist, C_HEALTH, 1, NULL, 0.3);
            free(sx);
        }
    }
    svg_polyline(&p, ex, mr, ne, C_RUL, 2.2, NULL, 1);
    svg_polyline(&p, ex, mh, ne, C_HEALTH, 2.2, NULL, 1);
    if (ne == 1) {
        svg_markers(&p, ex, mr, 1, C_RUL, 4);
        svg_markers(&p, ex, mh, 1, C_HEALTH, 4);
    }
    svg_legend(f, left + pw + 24, top, items, nitems);
    svg_end(f);
    free(buf);
    return 1;
}


/* Extends [*lo, *hi] by v - e and v + e (e ignored when not finite). */
static void widen(double *lo, double *hi, double v, double e)
{
    if (!isfinite(v)) return;
    double a = isfinite(e) ? v - e : v, b = isfinite(e) ? v + e : v;
    if (a < *lo) *lo = a;
    if (b > *hi) *hi = b;
}

/* Marks the pixel box around a data point as taken (labels keep clear of it). */
static int occupy_point(svg_occupied *o, const svg_plot *p, double x, double y, double r)
{
    double px = svg_px(p, x), py = svg_py(p, y);
    if (!isfinite(px) || !isfinite(py)) return 0;
    return svg_occupy(o, px - r, py - r, px + r, py + r);
}

/* Marks the pixels of error bars x +- ex, y +- ey as taken. */
static int occupy_bars(svg_occupied *o, const svg_plot *p, double x, double y, double ex, double ey)
{
    double px = svg_px(p, x), py = svg_py(p, y);
    if (!isfinite(px) || !isfinite(py)) return 0;
    if (isfinite(ex) && svg_occupy(o, svg_px(p, x - ex), py - 5, svg_px(p, x + ex), py + 5) < 0) return -1;
    if (isfinite(ey) && svg_occupy(o, px - 5, svg_py(p, y - ey), px + 5, svg_py(p, y + ey)) < 0) return -1;
    return 0;
}

/* The trade-off of one setup, into f: test RMSE (x) against health macro-F1 (y). The fixed:λ
 * means joined in λ order (the scalarisation front), the single-task baselines as lines,
 * every other multi-task method as its own marker with ±1 std bars over seeds, the
 * non-dominated ones ringed. Returns 1 when made, 0 without multi-task results, -1 on error. */
static int plot_pareto(FILE *f, const method_row *rows, const section *s, mtl_err *err)
{
    const weighting_method *ref_def = NULL;   /* the reference scalarisation, when it has rows */
    int npts = 0, nother = 0;
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (int i = s->a; i < s->b; i++) {
        const method_row *r = &rows[i];
        if (!row_multitask(r) || r->rmse.n < 1) continue;
        npts++;
        nother += !row_reference(r);
        if (row_reference(r)) ref_def = r->def;
        widen(&xlo, &xhi, r->rmse.mean, r->rmse.sd);
        widen(&ylo, &yhi, r->f1.mean, r->f1.sd);
    }
    if (npts == 0) return 0;
    widen(&xlo, &xhi, s->rmse_b, NAN);
    widen(&ylo, &yhi, s->f1_b, NAN);
    double padx = (xhi - xlo) * 0.08, pady = (yhi - ylo) * 0.08;
    xlo -= padx, xhi += padx, ylo -= pady, yhi += pady;
    svg_range_linear(&xlo, &xhi);
    svg_range_linear(&ylo, &yhi);

    /* legend: the front, each other method, the baselines, the ring */
    int cap = nother + 6;
    svg_legend_item *items = mtl_calloc((size_t)cap, sizeof *items, err);
    char (*labels)[80] = mtl_calloc((size_t)cap, sizeof *labels, err);
    double *fx = mtl_alloc((size_t)npts * 2, sizeof *fx, err);   /* the front: x, then y */
    svg_occupied occ = {.box = NULL};
    if (!items || !labels || !fx) {
        free(items);
        free(labels);
        free(fx);
        return -1;
    }
    int ni = 0;
    char front[64];
    if (ref_def) {
        snprintf(front, sizeof front, "%s:%s (%s order)", ref_def->name, ref_def->arg_sym, ref_def->arg_sym);
        items[ni++] = (svg_legend_item){.label = front, .color = C_FIXED, .marker = 1};
    }
    for (int i = s->a; i < s->b; i++) {
        const method_row *r = &rows[i];
        if (!row_reference(r) || !r->chosen || r->family_n < 2 || r->rmse.n < 1) continue;
        char num[32];
        mtl_fmt_shortest(r->param, num, sizeof num);
        snprintf(labels[ni], sizeof labels[ni], "%s=%s: chosen on validation", r->def->arg_sym, num);
        items[ni] = (svg_legend_item){.label = labels[ni], .color = C_FIXED, .marker = 1 + SVG_SQUARE, .no_line = 1};
        ni++;
    }
    for (int i = s->a, k = 0; i < s->b; i++) {
        const method_row *r = &rows[i];
        if (!row_multitask(r) || r->rmse.n < 1 || row_reference(r)) continue;
        snprintf(labels[ni], sizeof labels[ni], "%s%s", r->runs[0]->method, r->chosen && r->family_n > 1 ? " (chosen)" : "");
        items[ni] = (svg_legend_item){.label = labels[ni], .color = style_color(k), .marker = 1 + style_shape(k),
                                      .no_line = 1};
        ni++, k++;
    }
    if (isfinite(s->rmse_b)) {
        snprintf(labels[ni], sizeof labels[ni], "%s (RUL only): RMSE %.2f", rows[s->single[0]].runs[0]->method,
                 s->rmse_b);
        items[ni] = (svg_legend_item){.label = labels[ni], .color = C_BASE, .dash = "7,4"};
        ni++;
    }
    if (isfinite(s->f1_b)) {
        snprintf(labels[ni], sizeof labels[ni], "%s (health only): F1 %.3f", rows[s->single[1]].runs[0]->method,
                 s->f1_b);
        items[ni] = (svg_legend_item){.label = labels[ni], .color = C_BASE, .dash = "2,3"};
        ni++;
    }
    items[ni++] = (svg_legend_item){.label = "non-dominated", .color = "#222222", .marker = 1 + SVG_RING, .no_line = 1};

    const double left = 84, top = 52, pw = 520, ph = 400;
    double legend_w = svg_legend_width(items, ni), legend_h = 8 + ni * 20.0 + 4;
    int width = (int)ceil(left + pw + 24 + legend_w + 16), height = (int)ceil(fmax(top + ph + 62, top + legend_h + 16));
    char title[320];
    snprintf(title, sizeof title, "%s: the trade-off between the tasks (mean ± std over seeds)", s->title);
    svg_begin(f, width, height);
    svg_title(f, width, title);
    svg_plot p;
    svg_plot_init(&p, f, &(svg_area){.left = left, .top = top, .width = pw, .height = ph},
                  &(svg_ranges){.xmin = xlo, .xmax = xhi, .ymin = ylo, .ymax = yhi});
    svg_axes(&p, "test RMSE (cycles), lower is better", "health macro-F1, higher is better");
    int rc = 0;
    if (isfinite(s->rmse_b)) {
        svg_vline(&p, s->rmse_b, C_BASE, 1.5, "7,4");
        double px = svg_px(&p, s->rmse_b);
        rc |= svg_occupy(&occ, px - 2, top, px + 2, top + ph);
    }
    if (isfinite(s->f1_b)) {
        svg_hline(&p, s->f1_b, C_BASE, 1.5, "2,3");
        double py = svg_py(&p, s->f1_b);
        rc |= svg_occupy(&occ, left, py - 2, left + pw, py + 2);
    }

    /* the scalarisation front, in λ order (rows are sorted by λ) */
    double *fy = fx + npts;
    int nf = 0;
    for (int i = s->a; i < s->b; i++) {
        const method_row *r = &rows[i];
        if (!row_multitask(r) || r->rmse.n < 1 || !row_reference(r)) continue;
        fx[nf] = r->rmse.mean, fy[nf] = r->f1.mean;
        nf++;
    }
    svg_polyline(&p, fx, fy, nf, C_FIXED, 2, NULL, 1);
    for (int k = 0; k + 1 < nf; k++)   /* the segments, sampled, keep labels off the line */
        for (int t = 0; t <= 8; t++) {
            double u = t / 8.0;
            rc |= occupy_point(&occ, &p, fx[k] + u * (fx[k + 1] - fx[k]), fy[k] + u * (fy[k + 1] - fy[k]), 2);
        }
    free(fx);

    /* every point and its bars first, so that no label covers any of them */
    for (int i = s->a; i < s->b; i++) {
        const method_row *r = &rows[i];
        if (!row_multitask(r) || r->rmse.n < 1) continue;
        rc |= occupy_point(&occ, &p, r->rmse.mean, r->f1.mean, r->nondominated ? 10 : 7);
        if (!row_reference(r)) rc |= occupy_bars(&occ, &p, r->rmse.mean, r->f1.mean, r->rmse.sd, r->f1.sd);
    }
    for (int i = s->a, k = 0; i < s->b; i++) {
        const method_row *r = &rows[i];
        if (!row_multitask(r) || r->rmse.n < 1) continue;
        const char *color = row_reference(r) ? C_FIXED : style_color(k);
        if (!row_reference(r)) {
            svg_error_bars_x(&p, &r->rmse.mean, &r->f1.mean, &r->rmse.sd, 1, color);
            svg_error_bars(&p, &r->rmse.mean, &r->f1.mean, &r->f1.sd, 1, color);
            svg_shape(&p, r->rmse.mean, r->f1.mean, style_shape(k), color, 5.5);
            k++;
        } else {
            int mark = r->chosen && r->family_n > 1;
            svg_shape(&p, r->rmse.mean, r->f1.mean, mark ? SVG_SQUARE : SVG_CIRCLE, color, mark ? 6 : 4.5);
        }
        if (r->nondominated) svg_shape(&p, r->rmse.mean, r->f1.mean, SVG_RING, "#222222", 9.5);
    }
    /* λ beside the front's points where there is room (the legend names the rest) */
    for (int i = s->a; i < s->b && rc == 0; i++) {
        const method_row *r = &rows[i];
        if (!row_multitask(r) || r->rmse.n < 1 || !row_reference(r)) continue;
        char lab[48], num[32];
        mtl_fmt_shortest(r->param, num, sizeof num);
        snprintf(lab, sizeof lab, "%s=%s", r->def->arg_sym, num);
        if (svg_label_free(&p, &occ, svg_px(&p, r->rmse.mean), svg_py(&p, r->f1.mean), r->nondominated ? 13 : 9, 11, lab) < 0)
            rc = -1;
    }
    svg_legend(f, left + pw + 24, top, items, ni);
    svg_end(f);
    svg_occupied_free(&occ);
    free(items);
    free(labels);
    if (rc) return mtl_fail(err, "out of memory");
    return 1;
}

/* The critical-difference diagram (Demšar 2006), into f: the k methods on an axis of mean
 * rank (1 = best, left), the Nemenyi critical difference as a bar, and thick lines joining
 * the groups of methods whose mean ranks differ by less than it. The labels are sorted by
 * rank. Returns 1 (made) or -1 on error. */
static int plot_cd(FILE *f, const char *title, const char *const *label, const double *rank, int k, double cd,
                   mtl_err *err)
{
    int *ord = mtl_alloc((size_t)k * 3, sizeof *ord, err);   /* the order, then the groups' ends */
    char (*text)[112] = mtl_calloc((size_t)k, sizeof *text, err);
    if (!ord || !text) {
        free(ord);
        free(text);
        return -1;
    }
    int *g0 = ord + k, *g1 = g0 + k;
    order_of(rank, k, ord);
    double tw = 0;
    for (int i = 0; i < k; i++) {
        snprintf(text[i], sizeof text[i], "%s (%.2f)", label[i], rank[i]);
        double w = svg_text_width(text[i], 12);
        if (w > tw) tw = w;
    }
    /* groups: from each method, the furthest one within the CD, unless inside the last group */
    int ngroup = 0, last = -1;
    for (int i = 0; i < k && isfinite(cd); i++) {
        int j = i;
        while (j + 1 < k && rank[ord[j + 1]] - rank[ord[i]] < cd) j++;
        if (j > i && j > last) {
            g0[ngroup] = i, g1[ngroup] = j, ngroup++;
            last = j;
        }
    }
    int half = (k + 1) / 2;
    const double axis_w = 420, margin = tw + 44, axis_y = 100;
    double x0 = margin, x1 = margin + axis_w;
    if (2 * margin + axis_w < svg_text_width(title, 16) + 40) {   /* centre the axis under a wider title */
        x0 = (svg_text_width(title, 16) + 40 - axis_w) / 2;
        x1 = x0 + axis_w;
    }
    double rows_y = axis_y + 22 + ngroup * 9;
    int width = (int)ceil(fmax(2 * margin + axis_w, svg_text_width(title, 16) + 40)), height = (int)ceil(rows_y + (k - half > half ? k - half : half) * 22 + 24);
    svg_begin(f, width, height);
    svg_title(f, width, title);
    double span = k > 1 ? k - 1 : 1;
#define RX(r) (x0 + ((r) - 1) / span * axis_w)
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222222\" stroke-width=\"1.5\"/>\n", x0,
            axis_y, x1, axis_y);
    for (int r = 1; r <= k; r++) {
        char num[16];
        snprintf(num, sizeof num, "%d", r);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222222\"/>\n", RX(r), axis_y - 6,
                RX(r), axis_y);
        svg_text(f, RX(r), axis_y - 10, "middle", 12, 0, 0, num);
    }
    svg_text(f, x0 - 12, axis_y + 4, "end", 11, 0, 0, "mean rank");
    if (isfinite(cd)) {
        double cx1 = RX(1 + (cd < span ? cd : span));
        char lab[64];
        snprintf(lab, sizeof lab, "CD = %.2f%s", cd, cd < span ? "" : " (wider than the axis)");
        fprintf(f,
                "<path d=\"M%.1f,%.1f H%.1f M%.1f,%.1f V%.1f M%.1f,%.1f V%.1f\" fill=\"none\" stroke=\"#d62728\" "
                "stroke-width=\"2\"/>\n",
                x0, 56.0, cx1, x0, 51.0, 61.0, cx1, 51.0, 61.0);
        svg_text(f, (x0 + cx1) / 2, 48, "middle", 12, 0, 0, lab);
    }
    for (int g = 0; g < ngroup; g++) {
        double y = axis_y + 12 + g * 9;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222222\" stroke-width=\"4\" "
                "stroke-linecap=\"round\"/>\n",
                RX(rank[ord[g0[g]]]) - 3, y, RX(rank[ord[g1[g]]]) + 3, y);
    }
    /* the better half to the left (best on top), the rest to the right (worst on top) */
    for (int i = 0; i < k; i++) {
        int left = i < half, row = left ? i : k - 1 - i;
        int m = ord[i];
        double x = RX(rank[m]), y = rows_y + row * 22, end = left ? x0 - 10 : x1 + 10;
        fprintf(f, "<path d=\"M%.1f,%.1f V%.1f H%.1f\" fill=\"none\" stroke=\"#444444\"/>\n", x, axis_y, y, end);
        svg_text(f, left ? end - 4 : end + 4, y + 4, left ? "end" : "start", 12, 0, 0, text[m]);
    }
#undef RX
    svg_end(f);
    free(ord);
    free(text);
    return 1;
}

/* ------------------------------------------------------------------ the report */

/* The plots of one setup: the trade-off, each family with a plot of its kind against its
 * setting (uw-so against T), the weights of every method. */
static int section_plots(doc *d, const method_row *rows, const section *s, mtl_err *err)
{
    char name[320];
    const char *tag = s->tag;
    int say = !d->html;   /* what was not drawn is said once, on stderr, by the --svg pass */
    membuf m;
    if (!mem_open(&m, err)) return -1;
    int made = plot_pareto(m.f, rows, s, err);
    plot_name(name, sizeof name, "pareto", tag, NULL);
    if (doc_plot(d, &m, made > 0, name, err) < 0 || made < 0) return -1;
    for (int g = 0; g < WEIGHTING_GRIDS; g++) {
        const weighting_method *fam = FAMILY_PLOT[g] ? family_of_grid(s->reg, (weighting_grid)g) : NULL;
        if (!fam) continue;
        if (!mem_open(&m, err)) return -1;
        made = plot_family(m.f, rows, s, fam, weighting_grid_kind_of((weighting_grid)g), err);
        plot_name(name, sizeof name, FAMILY_PLOT[g], tag, NULL);
        if (doc_plot(d, &m, made > 0, name, err) < 0 || made < 0) return -1;
        if (!made && say)
            fprintf(stderr, "report: %s has no %s results, no %s plot\n", s->title, fam->name, FAMILY_PLOT[g]);
    }
    if (d->html) fputs("<details>\n<summary>task weights per epoch, one plot per method</summary>\n", d->f);
    for (int i = s->a; i < s->b; i++) {
        if (row_reference(&rows[i])) continue;   /* its weights are its setting */
        if (!mem_open(&m, err)) return -1;
        made = plot_weights(m.f, &rows[i], s, err);
        plot_name(name, sizeof name, "weights", tag, rows[i].runs[0]->method);
        if (doc_plot(d, &m, made > 0, name, err) < 0 || made < 0) return -1;
        if (!made && say)
            fprintf(stderr, "report: %s %s has no weight history, no weights plot\n", s->title,
                    rows[i].runs[0]->method);
    }
    if (d->html) fputs("</details>\n", d->f);
    return 0;
}

static int emit_section(doc *d, const method_row *rows, const section *s, mtl_err *err)
{
    const run_record **first = rows[s->a].runs;
    int nruns = 0, nok = 0;
    for (int i = s->a; i < s->b; i++) nruns += rows[i].n, nok += rows[i].n_ok;
    char head[256], config[1024], seeds[512], prov[1600];
    /* setups of one name (runs of one subset on other files, or with another norm scope) never
     * share a table, and the heading says how they differ */
    snprintf(head, sizeof head, "%s · model %s · protocol %s%s", first[0]->subset, first[0]->model, first[0]->protocol,
             s->distinct);
    describe_config(config, sizeof config, first, nruns);
    describe_seeds(seeds, sizeof seeds, first, nruns);
    describe_provenance(prov, sizeof prov, first, nruns);
    doc_heading(d, 2, head);
    doc_para(d, NULL, "%d run%s (%d ok, %d diverged or failed), %d method%s.\nConfiguration: %s.\nSeeds (%s.\nRuns: %s.",
             nruns, nruns == 1 ? "" : "s", nok, nruns - nok, s->b - s->a, s->b - s->a == 1 ? "" : "s", config, seeds,
             prov);
    table t;
    if (section_table(&t, rows, s, err) < 0) return -1;
    doc_table(d, &t);
    table_free(&t);
    section_remarks(d, rows, s);
    int listed = 0;
    for (int i = s->a; i < s->b; i++)
        for (int k = 0; k < rows[i].n; k++) {
            const run_record *r = rows[i].runs[k];
            if (is_ok(r)) continue;
            if (!listed++) doc_para(d, NULL, "Not ok (excluded from the means):");
            doc_para(d, "item", "%s seed %ld: %s (run %s, %d epochs run)", r->method, r->seed,
                     strcmp(r->status, "ok") == 0 ? "ok, but a test metric is not finite" : r->status, r->run_id,
                     r->epochs_run);
        }
    if (listed && !d->html) fputc('\n', d->f);
    return d->plots ? section_plots(d, rows, s, err) : 0;
}

/* ------------------------------------------------------------------ the summary across subsets */

/* A method of the summary: one row per setup (subset) of the training setup, or -1. A tuned
 * family with validation units is one entry: its chosen setting in each subset. */
typedef struct {
    const method_row *rep;          /* its first row */
    const weighting_method *fam;    /* the collapsed family, or NULL */
    int *row;
    int named;                      /* a collapsed family with one and the same setting everywhere:
                                       named by it */
    char label[64];
} entry;

static int entry_cmp(const void *x, const void *y)
{
    const entry *a = x, *b = y;
    return method_key_cmp((method_key){.def = a->rep->def, .arg = a->rep->param}, a->rep->runs[0]->method,
                          (method_key){.def = b->rep->def, .arg = b->rep->param}, b->rep->runs[0]->method);
}

/* The entries of the ng setups g[] of one training setup; *n set. */
static entry *summary_entries(const method_row *rows, const section *secs, const int *g, int ng, int *n, int **rowbuf,
                              mtl_err *err)
{
    int cap = 0;
    for (int k = 0; k < ng; k++) cap += secs[g[k]].b - secs[g[k]].a;
    entry *e = mtl_calloc((size_t)cap, sizeof *e, err);
    int *idx = mtl_alloc((size_t)cap * (size_t)ng, sizeof *idx, err);
    if (!e || !idx) {
        free(e);
        free(idx);
        return NULL;
    }
    for (int i = 0; i < cap * ng; i++) idx[i] = -1;
    int ne = 0;
    for (int k = 0; k < ng; k++) {
        const section *s = &secs[g[k]];
        for (int i = s->a; i < s->b; i++) {
            const method_row *r = &rows[i];
            if (!row_multitask(r) || r->rmse.n < 1) continue;
            int collapse = row_tuned(r) && r->family_chose;
            if (collapse && !r->chosen) continue;
            const weighting_method *fam = collapse ? r->def : NULL;
            int j = 0;
            for (; j < ne; j++)
                if (e[j].fam == fam && (fam || strcmp(e[j].rep->runs[0]->method, r->runs[0]->method) == 0)) break;
            if (j == ne) {
                e[ne].rep = r;
                e[ne].fam = fam;
                e[ne].row = idx + (size_t)ne * ng;
                if (fam) snprintf(e[ne].label, sizeof e[ne].label, "%s:%s (validation)", fam->name, fam->arg_sym);
                else snprintf(e[ne].label, sizeof e[ne].label, "%s", r->runs[0]->method);
                ne++;
            }
            e[j].row[k] = i;
        }
    }
    for (int j = 0; j < ne; j++) {
        if (!e[j].fam) continue;
        int one = 1;
        for (int k = 0; k < ng && one; k++) {
            int i = e[j].row[k];
            one = i < 0 || (rows[i].family_n == 1 && strcmp(rows[i].runs[0]->method, e[j].rep->runs[0]->method) == 0);
        }
        if (one) {
            e[j].named = 1;
            snprintf(e[j].label, sizeof e[j].label, "%s", e[j].rep->runs[0]->method);
        }
    }
    if (ne > 1) qsort(e, (size_t)ne, sizeof *e, entry_cmp);
    *n = ne;
    *rowbuf = idx;
    return e;
}

/* The ranking of the entries present in every subset: mean rank of their mean test RMSE
 * over the subsets, and per block (subset, seed) where all of them have an ok run. */
typedef struct {
    int k, nb;
    int *ranked;                 /* the k entry indices */
    double *rank_sub, *rank_blk; /* per entry (NaN when not ranked) */
    double chi2, p, cd;
} ranking;

static void ranking_free(ranking *q)
{
    free(q->ranked);
    free(q->rank_sub);
}

static int rank_entries(const method_row *rows, const entry *e, int ne, int ng, ranking *q, mtl_err *err)
{
    memset(q, 0, sizeof *q);
    q->chi2 = q->p = q->cd = NAN;
    int nrunmax = 0;
    for (int j = 0; j < ne; j++)
        for (int k = 0; k < ng; k++)
            if (e[j].row[k] >= 0 && rows[e[j].row[k]].n > nrunmax) nrunmax = rows[e[j].row[k]].n;
    q->ranked = mtl_alloc((size_t)ne + 1, sizeof *q->ranked, err);
    q->rank_sub = mtl_alloc((size_t)ne * 2 + 2, sizeof *q->rank_sub, err);
    double *v = mtl_alloc((size_t)(ng * nrunmax + 1) * (size_t)(ne + 1), sizeof *v, err);
    double *r = mtl_alloc((size_t)ne * 2 + 2, sizeof *r, err);
    if (!q->ranked || !q->rank_sub || !v || !r) {
        free(v);
        free(r);
        ranking_free(q);
        return -1;
    }
    q->rank_blk = q->rank_sub + ne;
    for (int j = 0; j < ne; j++) {
        q->rank_sub[j] = q->rank_blk[j] = NAN;
        int all = 1;
        for (int k = 0; k < ng; k++) all &= e[j].row[k] >= 0;
        if (all) q->ranked[q->k++] = j;
    }
    int k = q->k;
    double *acc = r + k;
    for (int i = 0; i < k; i++) acc[i] = 0;
    for (int s = 0; s < ng && k > 0; s++) {
        for (int i = 0; i < k; i++) v[i] = rows[e[q->ranked[i]].row[s]].rmse.mean;
        report_ranks(v, k, r);
        for (int i = 0; i < k; i++) acc[i] += r[i];
        /* the blocks of this subset: the seeds of the first ranked entry that all have */
        const method_row *lead = &rows[e[q->ranked[0]].row[s]];
        for (int t = 0; t < lead->n; t++) {
            const run_record *a = lead->runs[t];
            if (!is_ok(a) || run_of_seed(lead, a->seed) != a) continue;
            double *blk = v + (size_t)(q->nb + 1) * k;   /* row 0 of v is scratch */
            int whole = 1;
            for (int i = 0; i < k && whole; i++) {
                const run_record *b = run_of_seed(&rows[e[q->ranked[i]].row[s]], a->seed);
                if (b) blk[i] = b->rmse;
                else whole = 0;
            }
            q->nb += whole;
        }
    }
    for (int i = 0; i < k; i++) q->rank_sub[q->ranked[i]] = acc[i] / ng;
    if (k >= 1 && q->nb >= 1) {
        report_friedman(v + k, q->nb, k, r, &q->chi2, &q->p);
        for (int i = 0; i < k; i++) q->rank_blk[q->ranked[i]] = r[i];
        q->cd = report_nemenyi_cd(k, q->nb);
    }
    free(v);
    free(r);
    return 0;
}

static const char SUMMARY_LEGEND[] =
    "Summary columns: each subset's mean test RMSE (a tuned family by the setting chosen on validation in that "
    "subset, named in the cell); Δm = the mean of the subsets' Δm (— unless every subset has its single-task "
    "baselines); mean rank (subsets) = the rank of the mean test RMSE among the methods present in every subset "
    "(1 = lowest, ties share the mean rank), averaged over the subsets; mean rank (blocks) = the same per block "
    "(subset, seed) with an ok run of every one of them, averaged over the blocks: the ranks of the Friedman test "
    "and of the critical-difference diagram; cost = the summed cost of the subsets. Bold = the best of the "
    "column (the lowest RMSE and mean rank, the highest Δm).";

/* Bolds the best cells of column c over the table's rows (lower is better unless higher). */
static void bold_best(const table *t, int c, const double *val, int n, int higher)
{
    double best = NAN;
    for (int i = 0; i < n; i++)
        if (isfinite(val[i]) && (isnan(best) || (higher ? val[i] > best : val[i] < best))) best = val[i];
    for (int i = 0; i < n; i++)
        if (isfinite(val[i]) && val[i] == best) tbold(t, i + 1, c);
}

/* One training setup's summary: its setups, its entries and their ranking. */
typedef struct {
    const method_row *rows;
    const section *secs;
    const int *g;          /* its setups, indices into secs */
    int ng;
    const entry *e;        /* its methods */
    int ne;
    const ranking *q;
    int mark;              /* the protocol has validation units: the best cells are bold */
} summary;

/* The name of the k-th of the ng setups g[] of a summary: its subset, and its data when
 * another of them is of that subset too ("FD001 (data 00000000000000d2)"). */
static void summary_column(const method_row *rows, const section *secs, const int *g, int ng, int k, char *buf,
                           size_t n)
{
    const run_record *r = rows[secs[g[k]].a].runs[0];
    int twice = 0;
    for (int j = 0; j < ng && !twice; j++) twice = j != k && strcmp(rows[secs[g[j]].a].runs[0]->subset, r->subset) == 0;
    char data[64];
    part_data(r, data, sizeof data);
    if (twice) snprintf(buf, n, "%s (data %s)", r->subset, data);
    else snprintf(buf, n, "%s", r->subset);
}

static int summary_table(table *t, const summary *sm, mtl_err *err)
{
    const method_row *rows = sm->rows;
    const section *secs = sm->secs;
    const int *g = sm->g;
    const entry *e = sm->e;
    const ranking *q = sm->q;
    int ng = sm->ng, ne = sm->ne, mark = sm->mark;
    int have_dm = 0;
    double *dm = mtl_alloc((size_t)ne * 2, sizeof *dm, err);
    if (!dm) return -1;
    for (int j = 0; j < ne; j++) {
        double sum = 0;
        int n = 0;
        for (int k = 0; k < ng; k++)
            if (e[j].row[k] >= 0 && rows[e[j].row[k]].dm.n > 0) sum += rows[e[j].row[k]].dm.mean, n++;
        int present = 0;
        for (int k = 0; k < ng; k++) present += e[j].row[k] >= 0;
        dm[j] = n > 0 && n == present ? sum / n : NAN;
        have_dm |= isfinite(dm[j]);
    }
    int ncol = 1 + ng + have_dm + 3;
    if (table_init(t, ncol, ne + 1, err) < 0) {
        free(dm);
        return -1;
    }
    tset(t, 0, 0, "method");
    for (int k = 0; k < ng; k++) {
        char col[96];
        summary_column(rows, secs, g, ng, k, col, sizeof col);
        tset(t, 0, 1 + k, "%s RMSE", col);
    }
    int c_dm = 1 + ng, c_rs = c_dm + have_dm, c_rb = c_rs + 1, c_cost = c_rb + 1;
    if (have_dm) tset(t, 0, c_dm, "Δm %%");
    tset(t, 0, c_rs, "mean rank (subsets)");
    tset(t, 0, c_rb, "mean rank (blocks)");
    tset(t, 0, c_cost, "cost");
    for (int c = 1; c < ncol; c++) t->right[c] = 1;
    for (int j = 0; j < ne; j++) {
        tset(t, j + 1, 0, "%s", e[j].label);
        double cost = 0;
        int runs = 0;
        for (int k = 0; k < ng; k++) {
            int i = e[j].row[k];
            if (i < 0) {
                tset(t, j + 1, 1 + k, "—");
                continue;
            }
            cost += rows[i].cost_s, runs += rows[i].cost_runs;
            if (e[j].fam && !e[j].named) {
                char num[32];
                mtl_fmt_shortest(rows[i].param, num, sizeof num);
                tset(t, j + 1, 1 + k, "%.2f (%s=%s)", rows[i].rmse.mean, e[j].fam->arg_sym, num);
            } else {
                tset(t, j + 1, 1 + k, "%.2f", rows[i].rmse.mean);
            }
        }
        if (have_dm) {
            if (isfinite(dm[j])) tset(t, j + 1, c_dm, "%+.2f", dm[j]);
            else tset(t, j + 1, c_dm, "—");
        }
        if (isfinite(q->rank_sub[j])) tset(t, j + 1, c_rs, "%.2f", q->rank_sub[j]);
        else tset(t, j + 1, c_rs, "—");
        if (isfinite(q->rank_blk[j])) tset(t, j + 1, c_rb, "%.2f", q->rank_blk[j]);
        else tset(t, j + 1, c_rb, "—");
        char secs_txt[32];
        fmt_seconds(secs_txt, sizeof secs_txt, cost);
        tset(t, j + 1, c_cost, "%s (%d run%s)", secs_txt, runs, runs == 1 ? "" : "s");
    }
    if (mark) {
        double *v = dm + ne;
        for (int k = 0; k < ng; k++) {
            for (int j = 0; j < ne; j++) v[j] = e[j].row[k] >= 0 ? rows[e[j].row[k]].rmse.mean : NAN;
            bold_best(t, 1 + k, v, ne, 0);
        }
        if (have_dm) bold_best(t, c_dm, dm, ne, 1);
        bold_best(t, c_rs, q->rank_sub, ne, 0);
        bold_best(t, c_rb, q->rank_blk, ne, 0);
    }
    free(dm);
    return 0;
}

/* The summary of the ng setups g[] that share one training setup; its heading, diagram and
 * diagram file name what tells it from the training setups of its model and protocol. */
static int emit_summary(doc *d, const method_row *rows, int nrows, const section *secs, const int *g, int ng,
                        mtl_err *err)
{
    const run_record *first = rows[secs[g[0]].a].runs[0];
    int mark = secs[g[0]].has_val;
    char head[1200], distinct[160] = "";
    setup_distinction(rows, nrows, first, KEY_TRAINING, " · ", 1, distinct, sizeof distinct);
    int len = snprintf(head, sizeof head, "Summary · model %s · protocol %s%s", first->model, first->protocol, distinct);
    len += snprintf(head + len, sizeof head - (size_t)len, " · subsets");
    for (int k = 0; k < ng && len < (int)sizeof head; k++) {
        char col[96];
        summary_column(rows, secs, g, ng, k, col, sizeof col);
        len += snprintf(head + len, sizeof head - (size_t)len, "%s %s", k ? "," : "", col);
    }
    int *rowbuf = NULL, ne = 0, rc = -1;
    entry *e = summary_entries(rows, secs, g, ng, &ne, &rowbuf, err);
    if (!e) return -1;
    if (ne == 0) {   /* single-task runs only: nothing to compare */
        free(rowbuf);
        free(e);
        return 0;
    }
    ranking q;
    table t = {.cell = NULL};
    if (rank_entries(rows, e, ne, ng, &q, err) < 0) goto out_entries;
    summary sm = {.rows = rows, .secs = secs, .g = g, .ng = ng, .e = e, .ne = ne, .q = &q, .mark = mark};
    if (summary_table(&t, &sm, err) < 0) goto out_ranking;
    doc_heading(d, 2, head);
    doc_table(d, &t);
    if (!mark)
        doc_para(d, NULL, "This protocol has no validation units (val_frac 0): nothing is marked best, and each "
                          "setting of a tuned family is its own row.");
    if (q.k >= 2 && q.nb >= 2) {
        char cd[160];
        if (isfinite(q.cd))
            snprintf(cd, sizeof cd, "Nemenyi critical difference (α = 0.05): CD = %.2f; mean ranks closer than that "
                     "are not significantly different (the diagram joins them).", q.cd);
        else snprintf(cd, sizeof cd, "No critical difference: the Nemenyi table goes up to 20 methods.");
        doc_para(d, NULL, "Friedman test over %d blocks (subset, seed) of the %d methods present in every subset: "
                          "χ² = %.2f, %d degrees of freedom, p = %.4g. %s",
                 q.nb, q.k, q.chi2, q.k - 1, q.p, cd);
    } else {
        doc_para(d, NULL, "No Friedman test: it needs at least two methods present in every subset and two blocks "
                          "(subset, seed) in which each of them has an ok run (here %d and %d).", q.k, q.nb);
    }
    doc_para(d, "note", "%s", SUMMARY_LEGEND);
    rc = 0;
    if (d->plots && q.k >= 2 && q.nb >= 2) {
        const char **labels = mtl_alloc((size_t)q.k, sizeof *labels, err);
        double *rk = mtl_alloc((size_t)q.k, sizeof *rk, err);
        membuf m;
        if (!labels || !rk || !mem_open(&m, err)) {
            rc = -1;
        } else {
            for (int i = 0; i < q.k; i++) labels[i] = e[q.ranked[i]].label, rk[i] = q.rank_blk[q.ranked[i]];
            char title[400], tag[224], name[320];
            snprintf(title, sizeof title, "%s %s%s: mean ranks over %d blocks (subset, seed), %s", first->model,
                     first->protocol, distinct, q.nb,
                     isfinite(q.cd) ? "Nemenyi CD at α = 0.05" : "no CD beyond 20 methods");
            snprintf(tag, sizeof tag, "%s_%s", first->model, first->protocol);
            setup_distinction(rows, nrows, first, KEY_TRAINING, "_", 0, tag, sizeof tag);
            plot_name(name, sizeof name, "cd", tag, NULL);
            int made = plot_cd(m.f, title, labels, rk, q.k, q.cd, err);
            if (doc_plot(d, &m, made > 0, name, err) < 0 || made < 0) rc = -1;
        }
        free(labels);
        free(rk);
    }
    table_free(&t);
out_ranking:
    ranking_free(&q);
out_entries:
    free(rowbuf);
    free(e);
    return rc;
}

/* What a report is made of: the results it reads, their runs as method rows, the setups
 * analysed. */
typedef struct {
    const char *path;        /* the results, named in the heading */
    int n, nok;              /* runs, of which ok */
    const method_row *rows;
    int nrows;
    const section *secs;
    int nsec;
} report_body;

/* Every setup's section, then one summary per training setup, then the legend. */
static int emit_report(doc *d, const report_body *rb, mtl_err *err)
{
    const method_row *rows = rb->rows;
    const section *secs = rb->secs;
    int nsec = rb->nsec;
    doc_heading(d, 1, "mtlbench report");
    doc_para(d, NULL, "Results: %s (%d runs, %d ok, %d diverged or failed).", rb->path, rb->n, rb->nok,
             rb->n - rb->nok);
    for (int s = 0; s < nsec; s++)
        if (emit_section(d, rows, &secs[s], err) < 0) return -1;
    int *g = mtl_alloc((size_t)nsec, sizeof *g, err);
    if (!g) return -1;
    for (int s = 0; s < nsec; s++) {
        const run_record *a = rows[secs[s].a].runs[0];
        int seen = 0;
        for (int t = 0; t < s && !seen; t++) seen = setup_key_cmp(rows[secs[t].a].runs[0], a, KEY_TRAINING) == 0;
        if (seen) continue;
        int ng = 0;
        for (int t = s; t < nsec; t++)
            if (setup_key_cmp(rows[secs[t].a].runs[0], a, KEY_TRAINING) == 0) g[ng++] = t;
        if (emit_summary(d, rows, rb->nrows, secs, g, ng, err) < 0) {
            free(g);
            return -1;
        }
    }
    free(g);
    doc_para(d, "note", "%s", REPORT_LEGEND);
    return 0;
}

static const char HTML_HEAD[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>mtlbench report</title>\n"
    "<style>\n"
    "body { font-family: DejaVu Sans, Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1400px; "
    "padding: 0 1em; color: #222; }\n"
    "h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 2.2em; border-bottom: 1px solid #ccc; }\n"
    "table { border-collapse: collapse; margin: 1em 0; font-size: 0.88em; }\n"
    "th, td { border: 1px solid #ccc; padding: 0.25em 0.55em; text-align: left; vertical-align: top; }\n"
    "th { background: #f2f2f2; } td.num, th.num { text-align: right; white-space: nowrap; }\n"
    "td:last-child { min-width: 16em; }\n"
    "tr:nth-child(even) td { background: #fafafa; }\n"
    "figure { display: inline-block; margin: 0.5em 1em 1em 0; vertical-align: top; }\n"
    "figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }\n"
    "figcaption { font-size: 0.8em; color: #666; }\n"
    "details figure { width: 46%; } details figure svg { width: 100%; }\n"
    "summary { cursor: pointer; color: #1f4e99; margin: 0.5em 0; }\n"
    "p.note { font-size: 0.85em; color: #444; font-style: italic; }\n"
    "ul { margin: 0.2em 0; } code { background: #f4f4f4; padding: 0 0.2em; }\n"
    "</style>\n</head>\n<body>\n";

/* The whole report as one HTML page at html (through a temporary file). */
static int write_html(const char *html, const report_body *rb, mtl_err *err)
{
    mtl_output o;
    FILE *f = open_out(html, &o, err);
    if (!f) return -1;
    doc d = {.f = f, .html = 1, .svgdir = NULL, .plots = 1};
    fputs(HTML_HEAD, f);
    if (emit_report(&d, rb, err) < 0) {
        fclose(f);
        o.fd = -1;
        mtl_output_commit(&o, 1, NULL);
        return -1;
    }
    fputs("</body>\n</html>\n", f);
    if (close_out(f, &o, html, err) < 0) return -1;
    fprintf(stderr, "report: wrote %s\n", html);
    return 0;
}

/* The names of setup s among the rows: its distinction, title and file tag. */
static void section_names(section *s, const method_row *rows, int nrows)
{
    const run_record *r = rows[s->a].runs[0];
    char name[64];
    setup_distinction(rows, nrows, r, KEY_ALL, " · ", 1, s->distinct, sizeof s->distinct);
    setup_name(r, name, sizeof name, ' ');
    snprintf(s->title, sizeof s->title, "%s%s", name, s->distinct);
    setup_name(r, s->tag, sizeof s->tag, '_');
    setup_distinction(rows, nrows, r, KEY_ALL, "_", 0, s->tag, sizeof s->tag);
}

/* The setups of the sorted rows, analysed; *nsec set. */
static section *make_sections(method_row *rows, int nrows, weighting_registry_list reg, int *nsec, mtl_err *err)
{
    section *secs = mtl_calloc((size_t)(nrows > 0 ? nrows : 1), sizeof *secs, err);
    if (!secs) return NULL;
    int ns = 0;
    for (int a = 0; a < nrows;) {
        int b = a + 1;
        while (b < nrows && setup_cmp(rows[b].runs[0], rows[a].runs[0]) == 0) b++;
        secs[ns].a = a;
        secs[ns].b = b;
        secs[ns].reg = reg;
        section_names(&secs[ns], rows, nrows);
        if (analyse_section(rows, &secs[ns], err) < 0) {
            free(secs);
            return NULL;
        }
        ns++;
        a = b;
    }
    *nsec = ns;
    return secs;
}

static const char REPORT_USAGE[] =
    "usage: mtlbench report RESULTS [--csv FILE] [--svg DIR] [--html FILE] [--reference REF]\n"
    "\n"
    "Summarises the runs in RESULTS (a results .h5 file, or a folder: its *.h5 files and those\n"
    "of its runs/ subfolder) as Markdown on stdout. One table per setup (subset and its data,\n"
    "model and protocol with its norm, norm scope, validation fraction and lr step: two setups\n"
    "never share a table, and the heading names the parts that tell setups of one name apart)\n"
    "of every method (fixed:λ, uw, uw-o, uw-so:T, then the others by name: dwa:T, ew, gls,\n"
    "gradnorm:A, imtl-l, rlw, ...) with its rank by mean test RMSE, runs ok/total, test RMSE,\n"
    "NASA score, accuracy and macro-F1 as mean ± sample standard deviation over seeds, the\n"
    "validation RMSE, Δm against the single-task runs fixed:1 and fixed:0 (when both are\n"
    "there), a paired t-test of RMSE against the fixed λ chosen on validation (Holm-adjusted),\n"
    "and the cost (wall time) of choosing the method. A tuned family (fixed:λ, uw-so:T, dwa:T,\n"
    "gradnorm:A) is represented by its setting with the lowest mean validation RMSE; nothing\n"
    "is ever chosen on test data, and under a protocol without validation units (val_frac 0)\n"
    "nothing is chosen or marked best. Then one summary per training setup across its subsets:\n"
    "each subset's mean test RMSE, Δm, mean ranks, the Friedman test and the Nemenyi critical\n"
    "difference. Diverged runs are counted and listed, never averaged.\n"
    "\n"
    "  --csv FILE   also write one CSV row per run to FILE (missing values empty; delta_m\n"
    "               against the setup's single-task baselines). FILE, the page and the plots\n"
    "               are replaced atomically, through symlinks (the file they name is\n"
    "               written); a FIFO or device (/dev/stdout) is written in place; a results\n"
    "               or other HDF5 file is never overwritten\n"
    "  --svg DIR    also write SVG plots into DIR (created if needed):\n"
    "                 pareto_<SETUP>.svg                test RMSE against macro-F1: the fixed:λ\n"
    "                                                   front, single-task baselines, every\n"
    "                                                   method with ±1 std, non-dominated ringed\n"
    "                 rmse_vs_temperature_<SETUP>.svg   uw-so RMSE against T (log axis) with\n"
    "                                                   lines for the chosen fixed λ, uw and uw-o\n"
    "                 weights_<SETUP>_<METHOD>.svg      task weights per epoch, one plot per\n"
    "                                                   method except the constant fixed:λ\n"
    "                                                   (':' in METHOD becomes '_')\n"
    "                 cd_<MODEL>_<PROTOCOL>.svg         critical-difference diagram of the\n"
    "                                                   summary's mean ranks (then what tells\n"
    "                                                   it from the others of that model and\n"
    "                                                   protocol, if any: e.g. _regime)\n"
    "               SETUP is SUBSET_MODEL_PROTOCOL, e.g. FD001_dcnn_spec, then what tells it\n"
    "               from the other setups of that name in RESULTS, if any: its data digest,\n"
    "               norm, norm scope, val_frac or lr step, e.g. FD002_dcnn_li2018_regime\n"
    "  --html FILE  also write the whole report as one self-contained HTML page: every table,\n"
    "               every plot inline, the configuration and the runs' provenance\n"
    "  --reference REF  end with one line per method of RESULTS against the runs of the same\n"
    "               setup and method in REF (results file or folder, e.g. results/reference):\n"
    "               the mean test RMSE here, and the reference's mean ± std over its seeds\n"
    "  --help       this text\n"
    "\n"
    "Exit status: 0 success, 1 no runs found, 2 bad usage, unreadable input or unwritable output.\n";

/* The runs of a results path, checked, sorted and grouped into method rows. */
typedef struct {
    run_record *runs;
    int n;
    const run_record **v;
    method_row *rows;
    int nrows;
} run_set;

static void run_set_free(run_set *s)
{
    free(s->rows);
    free(s->v);
    for (int i = 0; i < s->n; i++) run_record_free(&s->runs[i]);
    free(s->runs);
    memset(s, 0, sizeof *s);
}

/* 0, 1 when path holds no consistent run (said on stderr), 2 on errors (said). */
static int run_set_load_or_say(const char *path, weighting_registry_list reg, run_set *s)
{
    memset(s, 0, sizeof *s);
    mtl_err err;
    if (results_read(path, &s->runs, &s->n, &err) < 0) {
        fprintf(stderr, "mtlbench report: %s\n", err.msg);
        return 2;
    }
    s->n = drop_inconsistent("report", path, s->runs, s->n);
    if (s->n == 0) {
        fprintf(stderr, "mtlbench report: no runs in %s\n", path);
        return 1;
    }
    s->v = sorted_runs(s->runs, s->n, reg, &err);
    if (s->v) s->rows = group_rows(s->v, s->n, reg, &s->nrows, &err);
    if (!s->rows) {
        fprintf(stderr, "mtlbench report: %s\n", err.msg);
        return 2;
    }
    return 0;
}

/* One line per method row of `here`: its mean test RMSE, and the mean ± std of the row of
 * the same setup and method in `ref`, or why there is none. */
static void print_against_reference(const run_set *here, const run_set *ref, const char *ref_path)
{
    printf("\n## Against the reference results in %s\n\n", ref_path);
    printf("Mean test RMSE over the ok runs here; in brackets the reference runs of the same setup and method "
           "(mean ± sample std over their seeds, the number of seeds, and the difference here − reference).\n\n");
    const run_record *setup = NULL;
    for (int i = 0; i < here->nrows; i++) {
        const method_row *row = &here->rows[i];
        if (!setup || setup_cmp(setup, row->runs[0]) != 0) {
            setup = row->runs[0];
            char name[224];
            setup_name(setup, name, sizeof name, ' ');
            setup_distinction(here->rows, here->nrows, setup, KEY_ALL, " · ", 1, name, sizeof name);
            printf("%s%s:\n", i ? "\n" : "", name);
        }
        const method_row *match = NULL;
        for (int k = 0; k < ref->nrows && !match; k++)
            if (setup_cmp(ref->rows[k].runs[0], row->runs[0]) == 0 &&
                strcmp(ref->rows[k].runs[0]->method, row->runs[0]->method) == 0)
                match = &ref->rows[k];
        char mine[32];
        if (row->rmse.n > 0) snprintf(mine, sizeof mine, "%6.2f", row->rmse.mean);
        else snprintf(mine, sizeof mine, "%6s", "—");
        printf("    %-12s %s  ", row->runs[0]->method, mine);
        if (!match || match->rmse.n == 0) {
            printf("(no ok reference run of this setup and method)\n");
        } else if (match->rmse.n == 1) {
            printf("(reference %.2f, 1 seed; %+.2f)\n", match->rmse.mean, row->rmse.mean - match->rmse.mean);
        } else {
            printf("(reference mean %.2f ± %.2f, %d seeds; %+.2f)\n", match->rmse.mean, match->rmse.sd,
                   match->rmse.n, row->rmse.mean - match->rmse.mean);
        }
    }
}

int report_markdown(FILE *f, const char *source, const run_record *runs, int n, weighting_registry_list reg,
                    mtl_err *err)
{
    if (n < 1) return mtl_fail(err, "no runs");
    int rc = -1;
    report_body rb = {.path = source, .n = n};
    for (int i = 0; i < n; i++) rb.nok += is_ok(&runs[i]);
    method_row *rows = NULL;
    section *secs = NULL;
    const run_record **v = sorted_runs(runs, n, reg, err);
    if (!v || !(rows = group_rows(v, n, reg, &rb.nrows, err))) goto out;
    if (!(secs = make_sections(rows, rb.nrows, reg, &rb.nsec, err))) goto out;
    rb.rows = rows;
    rb.secs = secs;
    doc md = {.f = f, .html = 0, .svgdir = NULL, .plots = 0};
    rc = emit_report(&md, &rb, err);
out:
    free(secs);
    free(rows);
    free(v);
    return rc;
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"csv", 1, 0, 'c'}, {"svg", 1, 0, 's'}, {"html", 1, 0, 'w'},
                                         {"reference", 1, 0, 'r'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *csv = NULL, *svgdir = NULL, *html = NULL, *ref_path = NULL;
    int o;
    optind = 1;
    opterr = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c': csv = optarg; break;
        case 's': svgdir = optarg; break;
        case 'w': html = optarg; break;
        case 'r': ref_path = optarg; break;
        case 'h': fputs(REPORT_USAGE, stdout); return 0;
        default: fputs(REPORT_USAGE, stderr); return 2;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "mtlbench report: expected one RESULTS path, got %d\n\n%s", argc - optind, REPORT_USAGE);
        return 2;
    }
    const char *path = argv[optind];
    if ((csv && !csv[0]) || (svgdir && !svgdir[0]) || (html && !html[0]) || (ref_path && !ref_path[0])) {
        fprintf(stderr, "mtlbench report: empty --csv, --svg, --html or --reference argument\n");
        return 2;
    }

    mtl_err err;
    run_set set, ref = {.runs = NULL};
    section *secs = NULL;
    int nsec = 0;
    weighting_registry_list reg = weighting_registry();
    int status = run_set_load_or_say(path, reg, &set);
    if (status == 0 && ref_path) {
        status = run_set_load_or_say(ref_path, reg, &ref);
        if (status == 1) status = 2; /* an empty reference is bad input */
    }
    if (status) goto done;
    secs = make_sections(set.rows, set.nrows, reg, &nsec, &err);
    if (!secs || (svgdir && mtl_mkdir_p(svgdir, &err) < 0)) {
        fprintf(stderr, "mtlbench report: %s\n", err.msg);
        status = 2;
        goto done;
    }
    if (status) goto done;

    report_body rb = {.path = path, .n = set.n, .rows = set.rows, .nrows = set.nrows, .secs = secs, .nsec = nsec};
    for (int i = 0; i < set.n; i++) rb.nok += is_ok(&set.runs[i]);
    doc md = {.f = stdout, .html = 0, .svgdir = svgdir, .plots = svgdir != NULL};
    if (emit_report(&md, &rb, &err) < 0) {
        fprintf(stderr, "mtlbench report: %s\n", err.msg);
        status = 2;
    }
    if (status == 0 && ref_path) print_against_reference(&set, &ref, ref_path);
    fflush(stdout);
    if (status == 0 && csv) {
        if (write_csv(csv, set.rows, secs, nsec, &err) < 0) {
            fprintf(stderr, "mtlbench report: %s\n", err.msg);
            status = 2;
        } else {
            fprintf(stderr, "report: wrote %s\n", csv);
        }
    }
    if (status == 0 && html && write_html(html, &rb, &err) < 0) {
        fprintf(stderr, "mtlbench report: %s\n", err.msg);
        status = 2;
    }
done:
    free(secs);
    run_set_free(&set);
    run_set_free(&ref);
    return status;
}

/* ------------------------------------------------------------------ compare */

static const char COMPARE_USAGE[] =
    "usage: mtlbench compare BASELINE NEW [--rtol X] [--atol Y] [--metrics LIST] [--partial]\n"
    "       mtlbench compare --distribution BASELINE NEW [--rtol X] [--atol Y] [--alpha A]\n"
    "                        [--metrics LIST] [--perf-rtol P] [--partial]\n"
    "\n"
    "Checks the runs in NEW against those in BASELINE (each a results .h5 file or a folder, as\n"
    "for report), matching runs by run_id (the hash of their configuration). Per baseline run:\n"
    "  MISSING     the run is not in NEW (a failure)\n"
    "  DIVERGED    the run diverged in NEW but not in BASELINE (a failure)\n"
    "  REGRESSION  a metric is worse than in BASELINE by more than atol + rtol * |baseline|\n"
    "              (a failure)\n"
    "  improved    a metric is better by more than that tolerance (information only)\n"
    "Larger is worse for rmse, rmse_uncapped, mae, score, best_val_rmse and wall_s; smaller is\n"
    "worse for acc, f1 and samples_per_s. Runs only in NEW are listed as 'new' (information).\n"
    "The last line is a summary: compare: N runs checked, K regressions, M missing.\n"
    "\n"
    "--distribution compares seed distributions instead of single runs, for results of\n"
    "another machine, rank count or build: runs are grouped by their whole configuration but\n"
    "the seed (setup and method), and per group and metric the mean over the ok runs of NEW\n"
    "against BASELINE's. A REGRESSION is a mean worse by more than atol + rtol * |baseline\n"
    "mean| and significantly worse by a one-sided Welch t-test at level A; 'improved' the\n"
    "same the other way. A group missing from NEW (MISSING), with runs not ok in NEW but none\n"
    "in BASELINE (DIVERGED) or with fewer than two ok runs on a side (TOO FEW) is a failure.\n"
    "Throughput (samples_per_s) is a property of the machine: with --perf-rtol it is checked\n"
    "only where every run of the group, in both, ran on the same host with the same ranks\n"
    "and threads, and a mean slower by more than P * baseline (and significant) is a\n"
    "PERF REGRESSION (a failure). Summary: compare: N groups checked, K regressions, ...\n"
    "\n"
    "  --rtol X        relative tolerance, X >= 0 (default 0.05)\n"
    "  --atol Y        absolute tolerance, Y >= 0 (default 0)\n"
    "  --metrics LIST  comma-separated metrics to check (default rmse,rmse_uncapped,mae,score,acc,f1;\n"
    "                  also: best_val_rmse, samples_per_s (not with --distribution), wall_s)\n"
    "  --distribution  compare seed distributions per setup and method (above)\n"
    "  --alpha A       significance level of the Welch t-test, 0 < A < 0.5 (default 0.01)\n"
    "  --perf-rtol P   check throughput on the same host: relative tolerance P >= 0\n"
    "                  (default: not checked)\n"
    "  --partial       NEW repeats only part of BASELINE: baseline runs (groups) missing from\n"
    "                  NEW are listed, not failures (nothing in common still fails)\n"
    "  --help          this text\n"
    "\n"
    "Exit status: 0 no failures, 1 a regression, a diverged or missing run (or group), too\n"
    "few seeds, or nothing in common, 2 bad usage or an unreadable input.\n";

static int cmp_id_ptr(const void *x, const void *y)
{
    return strcmp((*(const run_record *const *)x)->run_id, (*(const run_record *const *)y)->run_id);
}

static const run_record *find_run(const run_record **by_id, int n, const char *id)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(by_id[mid]->run_id, id);
        if (c == 0) return by_id[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return NULL;
}

/* Formats b and v with at least dec decimals, more (up to 10) until they differ. */
static int pair_decimals(double b, double v, int dec)
{
    char sb[64], sv[64];
    for (; dec < 10; dec++) {
        snprintf(sb, sizeof sb, "%.*f", dec, b);
        snprintf(sv, sizeof sv, "%.*f", dec, v);
        if (strcmp(sb, sv) != 0) break;
    }
    return dec;
}

static void print_run_id(const char *tag, const run_record *r)
{
    printf("%s %s %s %s seed %ld", tag, r->run_id, r->subset, r->method, r->seed);
}

/* Parses a comma-separated metric list into sel (1 = checked). */
static int parse_metrics(const char *s, int *sel)
{
    for (int i = 0; i < N_METRICS; i++) sel[i] = 0;
    int any = 0;
    while (*s) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        int found = 0;
        for (int i = 0; i < N_METRICS; i++)
            if (strlen(METRICS[i].name) == len && strncmp(METRICS[i].name, s, len) == 0) sel[i] = found = 1;
        if (!found) {
            fprintf(stderr, "mtlbench compare: unknown metric '%.*s' in --metrics\n", (int)len, s);
            return -1;
        }
        any = 1;
        s += len;
        if (*s == ',') s++;
    }
    if (!any) {
        fprintf(stderr, "mtlbench compare: --metrics is empty\n");
        return -1;
    }
    return 0;
}

/* How much worse v is than the baseline b under the metric's direction (negative: better). */
static double worse_by(const metric_desc *m, double b, double v)
{
    return m->higher_better ? b - v : v - b;
}

/* ------------------------------------------------------------------ compare by distribution */

int report_welch_t(double m1, double s1, int n1, double m2, double s2, int n2, double *t, double *dof)
{
    *t = *dof = NAN;
    if (n1 < 2 || n2 < 2 || !isfinite(m1) || !isfinite(m2) || !(s1 >= 0) || !(s2 >= 0)) return -1;
    double v1 = s1 * s1 / n1, v2 = s2 * s2 / n2, d = m2 - m1;
    if (v1 + v2 == 0) {
        *t = d == 0 ? 0 : copysign(INFINITY, d);
        *dof = n1 + n2 - 2;
        return 0;
    }
    *t = d / sqrt(v1 + v2);
    *dof = (v1 + v2) * (v1 + v2) / (v1 * v1 / (n1 - 1) + v2 * v2 / (n2 - 1));
    return 0;
}

/* A run and the id of its configuration without the seed: the runs of one setup and method
 * over seeds share it. */
typedef struct {
    const run_record *r;
    char key[17];
} keyed_run;

static int keyed_cmp(const void *x, const void *y)
{
    const keyed_run *a = x, *b = y;
    int c = setup_cmp(a->r, b->r);
    if (!c) c = report_method_cmp(a->r->method, b->r->method);
    if (!c) c = strcmp(a->key, b->key);
    if (!c && a->r->seed != b->r->seed) c = a->r->seed < b->r->seed ? -1 : 1;
    return c;
}

/* The n runs with their keys, sorted by setup, method, key and seed (groups are contiguous). */
static keyed_run *keyed_runs(const run_record *runs, int n, mtl_err *err)
{
    keyed_run *v = mtl_alloc((size_t)(n > 0 ? n : 1), sizeof *v, err);
    if (!v) return NULL;
    for (int i = 0; i < n; i++) {
        run_record c = runs[i];
        c.seed = 0;
        v[i].r = &runs[i];
        run_config_id(&c, v[i].key);
    }
    if (n > 1) qsort(v, (size_t)n, sizeof *v, keyed_cmp);
    return v;
}

/* End of the group that starts at v[i]. */
static int group_end(const keyed_run *v, int n, int i)
{
    int j = i + 1;
    while (j < n && strcmp(v[j].key, v[i].key) == 0) j++;
    return j;
}

/* Start of the group of NEW with the key of g, or -1. */
static int find_group(const keyed_run *v, int n, const keyed_run *g)
{
    for (int i = 0; i < n; i = group_end(v, n, i))
        if (strcmp(v[i].key, g->key) == 0) return i;
    return -1;
}

typedef struct {
    const keyed_run *v;
    int n, n_ok;
} run_group;

/* The ok runs' values of metric m, and their statistics. */
static mstat group_stat(const run_group *g, const metric_desc *m, double *scratch)
{
    int k = 0;
    for (int i = 0; i < g->n; i++)
        if (is_ok(g->v[i].r)) scratch[k++] = metric_of(g->v[i].r, m);
    return stat_of(scratch, k);
}

/* 1 when every run of both groups ran on one host with one layout (ranks x threads). */
static int same_machine(const run_group *a, const run_group *b)
{
    const run_record *f = a->v[0].r;
    const run_group *gs[2] = {a, b};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < gs[k]->n; i++) {
            const run_record *r = gs[k]->v[i].r;
            if (strcmp(r->host, f->host) != 0 || r->ranks != f->ranks || r->threads != f->threads) return 0;
        }
    return 1;
}

static void print_group(const char *tag, const run_record *r)
{
    printf("%s %s %s %s %s", tag, r->subset, r->model, r->protocol, r->method);
}

typedef struct {
    double rtol, atol, alpha, perf_rtol;   /* perf_rtol < 0: throughput not checked */
    const int *sel;
    int partial;                           /* groups missing from NEW are not failures */
} dist_opts;

typedef struct {
    int checked, regressions, perf_regressions, missing, too_few, improved, fresh, perf_checked, perf_skipped;
} dist_counts;

/* Compares metric m of the ok runs of b (BASELINE) and c (NEW): a regression (tagged tag)
 * when the mean is worse by more than atol + rtol * |baseline mean| and the one-sided Welch
 * test says worse at level alpha; "improved" the same the other way. Prints a line for
 * either; returns 1 for a regression. Groups with fewer than two ok runs are not compared. */
/* The test of one metric: tolerance atol + rtol * |baseline mean|, one-sided level alpha. */
typedef struct {
    double rtol, atol, alpha;
} dist_test;

static int compare_metric(const run_group *b, const run_group *c, const metric_desc *m, const dist_test *test,
                          const char *tag, dist_counts *k, double *scratch)
{
    const double rtol = test->rtol, atol = test->atol, alpha = test->alpha;
    mstat sb = group_stat(b, m, scratch), sc = group_stat(c, m, scratch);
    double t, dof;
    if (report_welch_t(sb.mean, sb.sd, sb.n, sc.mean, sc.sd, sc.n, &t, &dof) < 0) return 0;
    double tol = atol + rtol * fabs(sb.mean), worse = worse_by(m, sb.mean, sc.mean);
    double t_worse = m->higher_better ? -t : t;   /* positive: NEW is worse */
    double p_worse = 1 - report_t_cdf(t_worse, dof), p_better = report_t_cdf(t_worse, dof);
    int regression = worse > tol && p_worse < alpha, better = -worse > tol && p_better < alpha;
    if (!regression && !better) return 0;
    int dec = pair_decimals(sb.mean, sc.mean, m->decimals);
    print_group(regression ? tag : "improved", b->v[0].r);
    printf(" (%d vs %d seeds): %s %.*f ± %.*f -> %.*f ± %.*f (", sb.n, sc.n, m->name, dec, sb.mean, dec, sb.sd, dec,
           sc.mean, dec, sc.sd);
    if (sb.mean != 0) printf("%+.1f%%, ", 100 * (sc.mean - sb.mean) / fabs(sb.mean));
    printf("tolerance %.*f; Welch t %.2f, dof %.1f, one-sided p %.2g)\n", dec, tol, t_worse, dof,
           regression ? p_worse : p_better);
    if (better) k->improved++;
    return regression;
}

/* One group of BASELINE against its group in NEW (c NULL: missing there). */
static void compare_group(const run_group *b, const run_group *c, const dist_opts *o, dist_counts *k,
                          double *scratch)
{
    const run_record *r = b->v[0].r;
    if (!c) {
        print_group("MISSING", r);
        printf(" (%d run%s in BASELINE)\n", b->n, b->n == 1 ? "" : "s");
        k->missing++;
        return;
    }
    k->checked++;
    if (c->n_ok < c->n && b->n_ok == b->n) {
        print_group("DIVERGED", r);
        printf(": %d of %d runs not ok in NEW, none in BASELINE\n", c->n - c->n_ok, c->n);
        k->regressions++;
    }
    if (b->n_ok < 2 || c->n_ok < 2) {
        print_group("TOO FEW", r);
        printf(": %d ok run%s in BASELINE, %d in NEW; the test needs at least 2 on each side\n", b->n_ok,
               b->n_ok == 1 ? "" : "s", c->n_ok);
        k->too_few++;
        return;
    }
    for (int m = 0; m < N_METRICS; m++)
        if (o->sel[m])
            k->regressions += compare_metric(b, c, &METRICS[m],
                                             &(dist_test){.rtol = o->rtol, .atol = o->atol, .alpha = o->alpha},
                                             "REGRESSION", k, scratch);
    if (o->perf_rtol < 0) return;
    if (!same_machine(b, c)) {
        print_group("perf not checked", r);
        printf(": another host or layout (BASELINE %s, %d x %d; NEW %s, %d x %d)\n", r->host, r->ranks, r->threads,
               c->v[0].r->host, c->v[0].r->ranks, c->v[0].r->threads);
        k->perf_skipped++;
        return;
    }
    k->perf_checked++;
    k->perf_regressions += compare_metric(b, c, metric_named("samples_per_s"),
                                          &(dist_test){.rtol = o->perf_rtol, .alpha = o->alpha}, "PERF REGRESSION",
                                          k, scratch);
}

/* The --distribution mode of compare over the runs of both inputs; returns the exit status. */
static int compare_distributions(const run_record *base, int nb, const run_record *cur, int nn, const dist_opts *o)
{
    mtl_err err;
    keyed_run *bv = keyed_runs(base, nb, &err), *cv = keyed_runs(cur, nn, &err);
    double *scratch = mtl_alloc((size_t)(nb > nn ? nb : nn) + 1, sizeof *scratch, &err);
    if (!bv || !cv || !scratch) {
        fprintf(stderr, "mtlbench compare: %s\n", err.msg);
        free(bv), free(cv), free(scratch);
        return 2;
    }
    dist_counts k = {0};
    for (int i = 0; i < nb;) {
        int j = group_end(bv, nb, i), ci = find_group(cv, nn, &bv[i]);
        run_group b = {bv + i, j - i, 0}, c = {NULL, 0, 0};
        for (int t = i; t < j; t++) b.n_ok += is_ok(bv[t].r);
        if (ci >= 0) {
            c.v = cv + ci;
            c.n = group_end(cv, nn, ci) - ci;
            for (int t = 0; t < c.n; t++) c.n_ok += is_ok(c.v[t].r);
        }
        compare_group(&b, ci >= 0 ? &c : NULL, o, &k, scratch);
        i = j;
    }
    for (int i = 0; i < nn; i = group_end(cv, nn, i))
        if (find_group(bv, nb, &cv[i]) < 0) {
            int n = group_end(cv, nn, i) - i;
            print_group("new", cv[i].r);
            printf(" (%d run%s)\n", n, n == 1 ? "" : "s");
            k.fresh++;
        }
    printf("compare: %d groups checked, %d regressions, %d missing, %d with too few seeds (%d improved, %d new; "
           "rtol %g, atol %g, alpha %g", k.checked, k.regressions + k.perf_regressions, k.missing, k.too_few,
           k.improved, k.fresh, o->rtol, o->atol, o->alpha);
    if (o->perf_rtol >= 0)
        printf("; throughput: %d groups checked, %d regressions, %d not checked (another host or layout), "
               "perf-rtol %g", k.perf_checked, k.perf_regressions, k.perf_skipped, o->perf_rtol);
    printf(")\n");
    if (k.checked == 0) fprintf(stderr, "mtlbench compare: no group of the baseline is in NEW: nothing was checked\n");
    free(bv), free(cv), free(scratch);
    return k.regressions || k.perf_regressions || (k.missing && !o->partial) || k.too_few || k.checked == 0 ? 1 : 0;
}

int cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {
        {"rtol", 1, 0, 'r'},         {"atol", 1, 0, 'a'},  {"metrics", 1, 0, 'm'},   {"distribution", 0, 0, 'D'},
        {"alpha", 1, 0, 'A'},        {"perf-rtol", 1, 0, 'p'}, {"partial", 0, 0, 'P'}, {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    double rtol = 0.05, atol = 0, alpha = 0.01, perf_rtol = -1;
    int sel[N_METRICS], distribution = 0, alpha_given = 0, partial = 0;
    for (int i = 0; i < N_METRICS; i++) sel[i] = METRICS[i].check_default;
    int o;
    optind = 1;
    opterr = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'r':
        case 'a':
        case 'p': {
            double x;
            const char *name = o == 'r' ? "rtol" : o == 'a' ? "atol" : "perf-rtol";
            if (mtl_parse_double(optarg, &x) || !isfinite(x) || x < 0) {
                fprintf(stderr, "mtlbench compare: --%s '%s', expected a number >= 0\n", name, optarg);
                return 2;
            }
            if (o == 'r') rtol = x;
            else if (o == 'a') atol = x;
            else perf_rtol = x;
            break;
        }
        case 'A':
            if (mtl_parse_double(optarg, &alpha) || !(alpha > 0 && alpha < 0.5)) {
                fprintf(stderr, "mtlbench compare: --alpha '%s', expected a level between 0 and 0.5\n", optarg);
                return 2;
            }
            alpha_given = 1;
            break;
        case 'D': distribution = 1; break;
        case 'P': partial = 1; break;
        case 'm':
            if (parse_metrics(optarg, sel) < 0) return 2;
            break;
        case 'h': fputs(COMPARE_USAGE, stdout); return 0;
        default: fputs(COMPARE_USAGE, stderr); return 2;
        }
    }
    if (!distribution && (alpha_given || perf_rtol >= 0)) {
        fprintf(stderr, "mtlbench compare: --%s needs --distribution\n", alpha_given ? "alpha" : "perf-rtol");
        return 2;
    }
    if (distribution && sel[metric_named("samples_per_s") - METRICS]) {
        fprintf(stderr, "mtlbench compare: with --distribution throughput is checked by --perf-rtol, on the same "
                        "host only; leave samples_per_s out of --metrics\n");
        return 2;
    }
    if (argc - optind != 2) {
        fprintf(stderr, "mtlbench compare: expected BASELINE and NEW, got %d path%s\n\n%s", argc - optind,
                argc - optind == 1 ? "" : "s", COMPARE_USAGE);
        return 2;
    }
    const char *bpath = argv[optind], *npath = argv[optind + 1];

    mtl_err err;
    run_record *base = NULL, *cur = NULL;
    int nb = 0, nn = 0;
    if (results_read(bpath, &base, &nb, &err) < 0) {
        fprintf(stderr, "mtlbench compare: %s\n", err.msg);
        return 2;
    }
    if (results_read(npath, &cur, &nn, &err) < 0) {
        fprintf(stderr, "mtlbench compare: %s\n", err.msg);
        for (int i = 0; i < nb; i++) run_record_free(&base[i]);
        free(base);
        return 2;
    }
    nb = drop_inconsistent("compare", bpath, base, nb);
    nn = drop_inconsistent("compare", npath, cur, nn);
    int status = 0;
    const run_record **bv = NULL, **nv = NULL, **nid = NULL, **bid = NULL;
    if (distribution) {
        dist_opts d = {.rtol = rtol, .atol = atol, .alpha = alpha, .perf_rtol = perf_rtol, .sel = sel, .partial = partial};
        status = compare_distributions(base, nb, cur, nn, &d);
        goto done;
    }
    weighting_registry_list reg = weighting_registry();
    bv = sorted_runs(base, nb, reg, &err), nv = sorted_runs(cur, nn, reg, &err);
    nid = sorted_runs(cur, nn, reg, &err), bid = sorted_runs(base, nb, reg, &err);
    if (!bv || !nv || !nid || !bid) {
        fprintf(stderr, "mtlbench compare: %s\n", err.msg);
        status = 2;
        goto done;
    }
    if (nn > 1) qsort(nid, (size_t)nn, sizeof *nid, cmp_id_ptr);
    if (nb > 1) qsort(bid, (size_t)nb, sizeof *bid, cmp_id_ptr);

    int checked = 0, regressions = 0, missing = 0, improved = 0, fresh = 0;
    for (int i = 0; i < nb; i++) {
        const run_record *b = bv[i], *r = find_run(nid, nn, b->run_id);
        if (!r) {
            print_run_id("MISSING", b);
            printf("\n");
            missing++;
            continue;
        }
        checked++;
        int bok = is_ok(b), rok = is_ok(r);
        if (bok && !rok) {
            print_run_id("DIVERGED", b);
            printf(": status ok -> %s\n", r->status);
            regressions++;
            continue;
        }
        if (!bok) {
            if (rok) {
                print_run_id("improved", b);
                printf(": status %s -> ok\n", b->status);
                improved++;
            }
            continue;
        }
        for (int m = 0; m < N_METRICS; m++) {
            if (!sel[m]) continue;
            const metric_desc *md = &METRICS[m];
            double bvv = metric_of(b, md), nvv = metric_of(r, md);
            if (!isfinite(bvv)) continue;
            double tol = atol + rtol * fabs(bvv);
            double worse = isfinite(nvv) ? worse_by(md, bvv, nvv) : INFINITY;
            const char *tag = worse > tol ? "REGRESSION" : -worse > tol ? "improved" : NULL;
            if (!tag) continue;
            int dec = isfinite(nvv) ? pair_decimals(bvv, nvv, md->decimals) : md->decimals;
            print_run_id(tag, b);
            printf(": %s %.*f -> %.*f", md->name, dec, bvv, dec, nvv);
            if (isfinite(nvv) && bvv != 0) printf(" (%+.1f%%, tolerance %.*f)\n", 100 * (nvv - bvv) / fabs(bvv), dec, tol);
            else printf(" (tolerance %.*f)\n", dec, tol);
            if (worse > tol) regressions++;
            else improved++;
        }
    }
    for (int i = 0; i < nn; i++)
        if (!find_run(bid, nb, nv[i]->run_id)) {
            print_run_id("new", nv[i]);
            printf("\n");
            fresh++;
        }
    printf("compare: %d runs checked, %d regressions, %d missing (%d improved, %d new; rtol %g, atol %g)\n",
           checked, regressions, missing, improved, fresh, rtol, atol);
    if (nb == 0) fprintf(stderr, "mtlbench compare: the baseline %s has no runs: nothing was checked\n", bpath);
    if (checked == 0 && nb > 0) fprintf(stderr, "mtlbench compare: no run of the baseline is in NEW: nothing was checked\n");
    status = regressions || (missing && !partial) || checked == 0 ? 1 : 0;
done:
    free(bv);
    free(nv);
    free(nid);
    free(bid);
    for (int i = 0; i < nb; i++) run_record_free(&base[i]);
    for (int i = 0; i < nn; i++) run_record_free(&cur[i]);
    free(base);
    free(cur);
    return status;
}
