/* The report and compare subcommands: Markdown tables, CSV and SVG plots from results, and
 * the regression check of new results against a baseline. */
#define _POSIX_C_SOURCE 200809L
#include "report.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
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

static const metric_desc METRICS[] = {
    {"rmse", offsetof(run_record, rmse), 0, 2, 1},
    {"rmse_uncapped", offsetof(run_record, rmse_uncapped), 0, 2, 1},
    {"mae", offsetof(run_record, mae), 0, 2, 1},
    {"score", offsetof(run_record, score), 0, 1, 1},
    {"acc", offsetof(run_record, acc), 1, 4, 1},
    {"f1", offsetof(run_record, f1), 1, 4, 1},
    {"best_val_rmse", offsetof(run_record, best_val_rmse), 0, 2, 0},
    {"samples_per_s", offsetof(run_record, samples_per_s), 1, 0, 0},
    {"wall_s", offsetof(run_record, wall_s), 0, 1, 0},
};
#define N_METRICS ((int)(sizeof METRICS / sizeof METRICS[0]))

static double metric_of(const run_record *r, const metric_desc *m)
{
    return *(const double *)(const void *)((const char *)r + m->off);
}

enum { M_FIXED, M_UW, M_UWO, M_UWSO, M_OTHER };

/* Kind of a canonical method name and its parameter (λ or T; NaN if none or unparsable). */
static int method_kind(const char *m, double *param)
{
    *param = NAN;
    int kind = M_OTHER;
    const char *arg = NULL;
    if (strncmp(m, "fixed:", 6) == 0) kind = M_FIXED, arg = m + 6;
    else if (strcmp(m, "uw") == 0) kind = M_UW;
    else if (strcmp(m, "uw-o") == 0) kind = M_UWO;
    else if (strncmp(m, "uw-so:", 6) == 0) kind = M_UWSO, arg = m + 6;
    if (arg) {
        double v;
        if (mtl_parse_double(arg, &v) == 0 && isfinite(v)) *param = v;
        else kind = M_OTHER;
    }
    return kind;
}

int report_method_cmp(const char *a, const char *b)
{
    double pa, pb;
    int ka = method_kind(a, &pa), kb = method_kind(b, &pb);
    if (ka != kb) return ka < kb ? -1 : 1;
    if (!isnan(pa) && !isnan(pb) && pa != pb) return pa < pb ? -1 : 1;
    return strcmp(a, b);
}

/* Runs are compared only within one setup: the subset, the model and the protocol with the
 * options it sets (norm, validation fraction, learning-rate step). Two setups never share a
 * table or a plot. */
static int setup_cmp(const run_record *a, const run_record *b)
{
    int c = strcmp(a->subset, b->subset);
    if (!c) c = strcmp(a->model, b->model);
    if (!c) c = strcmp(a->protocol, b->protocol);
    if (!c) c = strcmp(a->norm, b->norm);
    if (!c && a->val_frac != b->val_frac) c = a->val_frac < b->val_frac ? -1 : 1;
    if (!c) c = strcmp(a->lr_step, b->lr_step);
    return c;
}

/* "FD001 dcnn spec": names a setup in headings, titles and plot file names. */
static void setup_name(const run_record *r, char *buf, size_t n, char sep)
{
    snprintf(buf, n, "%s%c%s%c%s", r->subset, sep, r->model, sep, r->protocol);
}

static int cmp_run_ptr(const void *x, const void *y)
{
    const run_record *a = *(const run_record *const *)x, *b = *(const run_record *const *)y;
    int c = setup_cmp(a, b);
    if (c) return c;
    c = report_method_cmp(a->method, b->method);
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

/* Pointers to the n runs, sorted by subset, method order, seed. */
static const run_record **sorted_runs(const run_record *runs, int n, mtl_err *err)
{
    const run_record **v = mtl_alloc((size_t)(n > 0 ? n : 1), sizeof *v, err);
    if (!v) return NULL;
    for (int i = 0; i < n; i++) v[i] = &runs[i];
    if (n > 1) qsort(v, (size_t)n, sizeof *v, cmp_run_ptr);
    return v;
}

/* ------------------------------------------------------------------ grouping */

typedef struct {
    const run_record **runs;   /* into the sorted array */
    int n, n_ok;
    int kind;
    double param;
    mstat rmse, score, acc, f1;
} method_row;

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

/* Rows of consecutive runs with the same setup and method; *nrows set. */
static method_row *group_rows(const run_record **v, int n, int *nrows, mtl_err *err)
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
        r->kind = method_kind(v[i]->method, &r->param);
        r->rmse = metric_stat(r, metric_named("rmse"), scratch);
        r->score = metric_stat(r, metric_named("score"), scratch);
        r->acc = metric_stat(r, metric_named("acc"), scratch);
        r->f1 = metric_stat(r, metric_named("f1"), scratch);
        i = j;
    }
    free(scratch);
    *nrows = k;
    return rows;
}

/* Index (in rows[a..b)) of the row of this kind (M_OTHER + 1: any) with the lowest mean RMSE,
 * or -1. */
static int best_row(const method_row *rows, int a, int b, int kind)
{
    int best = -1;
    for (int i = a; i < b; i++) {
        if (kind <= M_OTHER && rows[i].kind != kind) continue;
        if (rows[i].rmse.n < 1) continue;
        if (best < 0 || rows[i].rmse.mean < rows[best].rmse.mean) best = i;
    }
    return best;
}

/* RMSE differences (row - ref) of the seeds ok in both (first run of a seed); returns the count. */
static int paired_diffs(const method_row *row, const method_row *ref, double *d)
{
    int n = 0;
    for (int i = 0; i < row->n; i++) {
        const run_record *a = row->runs[i];
        if (!is_ok(a) || !isfinite(a->rmse)) continue;
        int dup = 0;
        for (int k = 0; k < i && !dup; k++)
            dup = row->runs[k]->seed == a->seed && is_ok(row->runs[k]) && isfinite(row->runs[k]->rmse);
        if (dup) continue;
        for (int j = 0; j < ref->n; j++) {
            const run_record *b = ref->runs[j];
            if (b->seed == a->seed && is_ok(b) && isfinite(b->rmse)) {
                d[n++] = a->rmse - b->rmse;
                break;
            }
        }
    }
    return n;
}

/* ------------------------------------------------------------------ Markdown */

#define NCOL 9
#define CELL 160
typedef struct {
    char c[NCOL][CELL];
} table_row;

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

static void append(char *buf, size_t n, const char *s)
{
    size_t len = strlen(buf);
    if (len + 1 >= n) return;
    snprintf(buf + len, n - len, "%s%s", len ? ", " : "", s);
}

static void print_table(const table_row *t, int nrows, const int *right)
{
    size_t w[NCOL] = {0};
    for (int i = 0; i < nrows; i++)
        for (int c = 0; c < NCOL; c++) {
            size_t l = utf8_len(t[i].c[c]);
            if (l > w[c]) w[c] = l;
        }
    for (int i = 0; i < nrows; i++) {
        for (int c = 0; c < NCOL; c++) {
            size_t pad = w[c] - utf8_len(t[i].c[c]);
            fputs("| ", stdout);
            if (right[c]) printf("%*s", (int)pad, "");
            fputs(t[i].c[c], stdout);
            if (!right[c]) printf("%*s", (int)pad, "");
            fputc(' ', stdout);
        }
        fputs("|\n", stdout);
        if (i == 0) {
            for (int c = 0; c < NCOL; c++) {
                fputs(right[c] ? "|-" : "|:", stdout);
                for (size_t k = 0; k < w[c]; k++) fputc('-', stdout);
                fputs(right[c] ? ":" : "-", stdout);
            }
            fputs("|\n", stdout);
        }
    }
}

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

/* One line describing the configuration of the runs of a subset and its seeds. */
static void print_config(const run_record **v, int k)
{
    char buf[1024] = "";
    int same_model = 1;
    for (int i = 1; i < k; i++) same_model &= strcmp(v[i]->model, v[0]->model) == 0;
    char s[160];
    snprintf(s, sizeof s, "model %s, protocol %s (norm %s, lr step %s)", same_model ? v[0]->model : "mixed",
             v[0]->protocol, v[0]->norm, v[0]->lr_step);
    append(buf, sizeof buf, s);
    describe_int(buf, sizeof buf, "epochs", v, k, offsetof(run_record, epochs));
    describe_int(buf, sizeof buf, "window", v, k, offsetof(run_record, window));
    describe_int(buf, sizeof buf, "batch", v, k, offsetof(run_record, batch));
    describe_double(buf, sizeof buf, "lr", v, k, offsetof(run_record, lr));
    describe_double(buf, sizeof buf, "dropout", v, k, offsetof(run_record, dropout));
    describe_double(buf, sizeof buf, "val_frac", v, k, offsetof(run_record, val_frac));
    describe_int(buf, sizeof buf, "patience", v, k, offsetof(run_record, patience));
    printf("Configuration: %s.\n", buf);

    /* distinct seeds, ascending (runs are sorted by seed within a method only) */
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
    printf("Seeds (%d):", ns);
    for (int i = 0; i < ns && i < 30; i++) printf("%s %ld", i ? "," : "", seeds[i]);
    if (ns > 30) printf(", …");
    printf(".\n");
    free(seeds);
}

static const char REPORT_LEGEND[] =
    "_Columns: rank = 1 + the number of methods of the subset with a lower mean test RMSE; "
    "runs = ok/total (diverged runs and ok runs with a non-finite metric are counted and listed but left "
    "out of every mean); "
    "RMSE, NASA score (both lower is better), accuracy and macro-F1 of the health classes, all on the "
    "test units: mean ± sample standard deviation (n − 1) over seeds, — with fewer than two runs; "
    "vs best fixed = mean RMSE difference method − best fixed λ over the seeds ok in both (negative "
    "is better), two-sided paired t-test p-value and number of pairs n; **best λ** / **best T** = lowest "
    "mean RMSE among the fixed / uw-so rows, **best overall** = lowest mean RMSE of the subset._\n";

/* Prints the section of rows[a..b) (one subset). Returns -1 on out of memory. */
static int print_section(const method_row *rows, int a, int b, mtl_err *err)
{
    const run_record **first = rows[a].runs;
    int nruns = 0, nok = 0;
    for (int i = a; i < b; i++) nruns += rows[i].n, nok += rows[i].n_ok;
    printf("## %s · model %s · protocol %s\n\n", first[0]->subset, first[0]->model, first[0]->protocol);
    printf("%d runs (%d ok, %d diverged or failed), %d methods.\n", nruns, nok, nruns - nok, b - a);
    print_config(first, nruns);
    printf("\n");

    int bf = best_row(rows, a, b, M_FIXED), bt = best_row(rows, a, b, M_UWSO), ball = best_row(rows, a, b, M_OTHER + 1);
    table_row *t = mtl_calloc((size_t)(b - a + 1), sizeof *t, err);
    double *d = mtl_alloc((size_t)nruns, sizeof *d, err);
    if (!t || !d) {
        free(t);
        free(d);
        return -1;
    }
    static const char *const head[NCOL] = {"method", "rank", "runs", "RMSE", "NASA score", "accuracy", "macro-F1",
                                           "vs best fixed", "notes"};
    static const int right[NCOL] = {0, 1, 1, 1, 1, 1, 1, 1, 0};
    for (int c = 0; c < NCOL; c++) snprintf(t[0].c[c], CELL, "%s", head[c]);
    for (int i = a; i < b; i++) {
        const method_row *r = &rows[i];
        table_row *tr = &t[i - a + 1];
        snprintf(tr->c[0], CELL, "%s", r->runs[0]->method);
        if (r->rmse.n < 1) {
            snprintf(tr->c[1], CELL, "—");
        } else {
            int rank = 1;   /* 1 + the rows of the subset with a lower mean RMSE */
            for (int j = a; j < b; j++) rank += rows[j].rmse.n > 0 && rows[j].rmse.mean < r->rmse.mean;
            snprintf(tr->c[1], CELL, "%d", rank);
        }
        snprintf(tr->c[2], CELL, "%d/%d", r->n_ok, r->n);
        fmt_stat(tr->c[3], CELL, r->rmse, 2);
        fmt_stat(tr->c[4], CELL, r->score, 1);
        fmt_stat(tr->c[5], CELL, r->acc, 3);
        fmt_stat(tr->c[6], CELL, r->f1, 3);
        if (bf < 0) {
            snprintf(tr->c[7], CELL, "n/a");
        } else if (i == bf) {
            snprintf(tr->c[7], CELL, "reference");
        } else {
            int np = paired_diffs(r, &rows[bf], d);
            double mean, sd, tv, p;
            report_paired_t(d, np, &mean, &sd, &tv, &p);
            if (np == 0) snprintf(tr->c[7], CELL, "n/a (no common seeds)");
            else if (np < 2) snprintf(tr->c[7], CELL, "%+.2f (p n/a, n=1)", mean);
            else if (p < 0.0001) snprintf(tr->c[7], CELL, "%+.2f (p<0.0001, n=%d)", mean, np);
            else snprintf(tr->c[7], CELL, "%+.2f (p=%.4f, n=%d)", mean, p, np);
        }
        char *notes = tr->c[8];
        if (i == bf) append(notes, CELL, "**best λ**");
        if (i == bt) append(notes, CELL, "**best T**");
        if (i == ball) append(notes, CELL, "**best overall**");
        if (r->n_ok < r->n) {
            int nonfinite = 0;
            for (int k = 0; k < r->n; k++) nonfinite += strcmp(r->runs[k]->status, "ok") == 0 && !is_ok(r->runs[k]);
            char s[48];
            if (r->n - r->n_ok > nonfinite) {
                snprintf(s, sizeof s, "%d diverged", r->n - r->n_ok - nonfinite);
                append(notes, CELL, s);
            }
            if (nonfinite) {
                snprintf(s, sizeof s, "%d with a non-finite metric", nonfinite);
                append(notes, CELL, s);
            }
        }
    }
    print_table(t, b - a + 1, right);
    free(t);
    free(d);

    int listed = 0;
    for (int i = a; i < b; i++)
        for (int k = 0; k < rows[i].n; k++) {
            const run_record *r = rows[i].runs[k];
            if (is_ok(r)) continue;
            if (!listed++) printf("\nNot ok (excluded from the means):\n\n");
            printf("- %s seed %ld: %s (run %s, %d epochs run)\n", r->method, r->seed,
                   strcmp(r->status, "ok") == 0 ? "ok, but a test metric is not finite" : r->status, r->run_id,
                   r->epochs_run);
        }
    printf("\n");
    return 0;
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

static int write_csv(const char *path, const run_record **v, int n, mtl_err *err)
{
    mtl_output o;
    FILE *f = open_out(path, &o, err);
    if (!f) return -1;
    fputs("subset,method,seed,status,rmse,rmse_uncapped,mae,score,acc,f1,best_val_rmse,best_epoch,epochs_run,"
          "samples_per_s,ranks,threads,wall_s,run_id\n",
          f);
    for (int i = 0; i < n; i++) {
        const run_record *r = v[i];
        csv_str(f, r->subset);
        fputc(',', f);
        csv_str(f, r->method);
        fprintf(f, ",%ld,", r->seed);
        csv_str(f, r->status);
        const double m[] = {r->rmse, r->rmse_uncapped, r->mae, r->score, r->acc, r->f1, r->best_val_rmse};
        for (size_t k = 0; k < sizeof m / sizeof m[0]; k++) {
            fputc(',', f);
            csv_num(f, m[k]);
        }
        fprintf(f, ",%d,%d,", r->best_epoch, r->epochs_run);
        csv_num(f, r->samples_per_s);
        fprintf(f, ",%d,%d,", r->ranks, r->threads);
        csv_num(f, r->wall_s);
        fputc(',', f);
        csv_str(f, r->run_id);
        fputc('\n', f);
    }
    return close_out(f, &o, path, err);
}

/* mkdir -p */

/* dir/prefix_<a>[_<b>].svg with characters other than [A-Za-z0-9._-] in a and b made '_'. */
static char *svg_path(const char *dir, const char *prefix, const char *a, const char *b)
{
    size_t n = strlen(dir) + strlen(prefix) + strlen(a) + (b ? strlen(b) : 0) + 16;
    char *p = malloc(n);
    if (!p) return NULL;
    snprintf(p, n, "%s/%s_%s%s%s.svg", dir, prefix, a, b ? "_" : "", b ? b : "");
    for (char *s = p + strlen(dir) + 1; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-' || c == '_'))
            *s = '_';
    }
    return p;
}

/* Opens the plot file dir/prefix_<a>[_<b>].svg (through a temporary file) and writes the
 * SVG header and title. NULL on failure, with *path freed. */
static FILE *plot_open(const char *dir, const char *prefix, const char *a, const char *b, int width, int height,
                       const char *title, char **path, mtl_output *o, mtl_err *err)
{
    *path = svg_path(dir, prefix, a, b);
    if (!*path) {
        mtl_fail(err, "out of memory");
        return NULL;
    }
    FILE *f = open_out(*path, o, err);
    if (!f) {
        free(*path);
        *path = NULL;
        return NULL;
    }
    svg_begin(f, width, height);
    svg_title(f, width, title);
    return f;
}

/* Ends the SVG, renames it into place and says so; frees path. */
static int plot_close(FILE *f, mtl_output *o, char *path, int *written, mtl_err *err)
{
    svg_end(f);
    int rc = close_out(f, o, path, err);
    if (rc == 0) {
        fprintf(stderr, "report: wrote %s\n", path);
        *written = 1;
    }
    free(path);
    return rc;
}

#define C_SERIES "#1f77b4"
#define C_RUL "#1f77b4"
#define C_HEALTH "#ff7f0e"
#define C_FIXED "#d62728"
#define C_UW "#2ca02c"
#define C_UWO "#9467bd"

/* RMSE of uw-so against T with reference lines, for the rows of one subset. *written = 0
 * when the subset has no uw-so results. */
static int plot_rmse_vs_t(const char *dir, const method_row *rows, int a, int b, int *written, mtl_err *err)
{
    *written = 0;
    int npts = 0;
    for (int i = a; i < b; i++) npts += rows[i].kind == M_UWSO && rows[i].rmse.n > 0;
    if (npts == 0) return 0;
    double *x = mtl_alloc((size_t)npts * 3, sizeof *x, err);
    if (!x) return -1;
    double *y = x + npts, *e = y + npts;
    int k = 0;
    double ylo = INFINITY, yhi = -INFINITY;
    for (int i = a; i < b; i++) {
        if (rows[i].kind != M_UWSO || rows[i].rmse.n == 0) continue;
        x[k] = rows[i].param;
        y[k] = rows[i].rmse.mean;
        e[k] = rows[i].rmse.sd;
        double lo = isfinite(e[k]) ? y[k] - e[k] : y[k], hi = isfinite(e[k]) ? y[k] + e[k] : y[k];
        if (lo < ylo) ylo = lo;
        if (hi > yhi) yhi = hi;
        k++;
    }

    /* reference lines */
    struct {
        int row;
        const char *color, *dash;
        char label[96];
    } ref[3];
    int nref = 0;
    int bf = best_row(rows, a, b, M_FIXED), uw = best_row(rows, a, b, M_UW), uwo = best_row(rows, a, b, M_UWO);
    if (bf >= 0) {
        ref[nref].row = bf, ref[nref].color = C_FIXED, ref[nref].dash = "7,4";
        snprintf(ref[nref].label, sizeof ref[nref].label, "best fixed (λ=%s): %.2f",
                 rows[bf].runs[0]->method + 6, rows[bf].rmse.mean);
        nref++;
    }
    if (uw >= 0) {
        ref[nref].row = uw, ref[nref].color = C_UW, ref[nref].dash = "2,3";
        snprintf(ref[nref].label, sizeof ref[nref].label, "uw: %.2f", rows[uw].rmse.mean);
        nref++;
    }
    if (uwo >= 0) {
        ref[nref].row = uwo, ref[nref].color = C_UWO, ref[nref].dash = "9,3,2,3";
        snprintf(ref[nref].label, sizeof ref[nref].label, "uw-o: %.2f", rows[uwo].rmse.mean);
        nref++;
    }
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

    svg_legend_item items[4];
    char series[64];
    int maxn = 0;
    for (int i = a; i < b; i++)
        if (rows[i].kind == M_UWSO && rows[i].rmse.n > maxn) maxn = rows[i].rmse.n;
    snprintf(series, sizeof series, "uw-so (mean ± std, %d seed%s)", maxn, maxn == 1 ? "" : "s");
    items[0] = (svg_legend_item){series, C_SERIES, NULL, 1};
    for (int i = 0; i < nref; i++) items[i + 1] = (svg_legend_item){ref[i].label, ref[i].color, ref[i].dash, 0};
    int nitems = nref + 1;

    const double left = 84, top = 52, pw = 500, ph = 340;
    double lw = svg_legend_width(items, nitems);
    int width = (int)ceil(left + pw + 24 + lw + 16), height = (int)(top + ph + 62);
    char title[128];
    char setup[64], tag[64];
    setup_name(rows[a].runs[0], setup, sizeof setup, ' ');
    setup_name(rows[a].runs[0], tag, sizeof tag, '_');
    snprintf(title, sizeof title, "%s: test RMSE of uw-so against temperature T", setup);

    char *path;
    mtl_output out;
    FILE *f = plot_open(dir, "rmse_vs_temperature", tag, NULL, width, height, title, &path, &out, err);
    if (!f) {
        free(x);
        return -1;
    }
    svg_plot p;
    svg_plot_init(&p, f, left, top, pw, ph, xlo, xhi, xlog, ylo, yhi, 0);
    svg_axes(&p, xlog ? "temperature T (log scale)" : "temperature T", "test RMSE (cycles)");
    for (int i = 0; i < nref; i++) svg_hline(&p, rows[ref[i].row].rmse.mean, ref[i].color, 2, ref[i].dash);
    svg_error_bars(&p, x, y, e, k, C_SERIES);
    svg_polyline(&p, x, y, k, C_SERIES, 2, NULL, 1);
    svg_markers(&p, x, y, k, C_SERIES, 4.5);
    svg_legend(f, left + pw + 24, top, items, nitems);
    int rc = plot_close(f, &out, path, written, err);
    free(x);
    return rc;
}

/* Task weights per epoch of one method row (mean over its ok runs, thin lines per run). */
static int plot_weights(const char *dir, const method_row *row, int *written, mtl_err *err)
{
    *written = 0;
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
            double wr = r->hist[k].w_rul, wh = r->hist[k].w_health;
            if (isfinite(wr) && wr > 0) {
                mr[e] += wr, cr[e] += 1;
                if (wr < ylo) ylo = wr;
                if (wr > yhi) yhi = wr;
            }
            if (isfinite(wh) && wh > 0) {
                mh[e] += wh, ch[e] += 1;
                if (wh < ylo) ylo = wh;
                if (wh > yhi) yhi = wh;
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

    char lr[64], lh[64];
    snprintf(lr, sizeof lr, "w_rul (mean of %d seed%s)", nr, nr == 1 ? "" : "s");
    snprintf(lh, sizeof lh, "w_health (mean of %d seed%s)", nr, nr == 1 ? "" : "s");
    svg_legend_item items[3] = {{lr, C_RUL, NULL, 0}, {lh, C_HEALTH, NULL, 0}, {"single seeds", "#aaaaaa", NULL, 0}};
    int nitems = nr > 1 ? 3 : 2;

    const double left = 84, top = 52, pw = 500, ph = 340;
    double lw = svg_legend_width(items, nitems);
    int width = (int)ceil(left + pw + 24 + lw + 16), height = (int)(top + ph + 62);
    char title[160];
    char setup[64], tag[64];
    setup_name(row->runs[0], setup, sizeof setup, ' ');
    setup_name(row->runs[0], tag, sizeof tag, '_');
    snprintf(title, sizeof title, "%s %s: task weights per epoch", setup, row->runs[0]->method);

    char *path;
    mtl_output out;
    FILE *f = plot_open(dir, "weights", tag, row->runs[0]->method, width, height, title, &path, &out, err);
    if (!f) {
        free(buf);
        return -1;
    }
    svg_plot p;
    svg_plot_init(&p, f, left, top, pw, ph, xlo, xhi, 0, ylo, yhi, 1);
    p.xint = 1;
    svg_axes(&p, "epoch", "weight (log scale)");
    if (nr > 1) {
        /* one thin line per run, under the means */
        for (int i = 0; i < row->n; i++) {
            const run_record *r = row->runs[i];
            if (!is_ok(r) || r->n_hist < 1 || !r->hist) continue;
            double *sx = mtl_alloc((size_t)r->n_hist * 3, sizeof *sx, err);
            if (!sx) {
                fclose(f);
                out.fd = -1;
                mtl_output_commit(&out, 1, NULL);
                free(path);
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
    int rc = plot_close(f, &out, path, written, err);
    free(buf);
    return rc;
}

static int write_svgs(const char *dir, const method_row *rows, int nrows, mtl_err *err)
{
    if (mtl_mkdir_p(dir, err) < 0) return -1;
    for (int a = 0; a < nrows;) {
        int b = a + 1;
        while (b < nrows && setup_cmp(rows[b].runs[0], rows[a].runs[0]) == 0) b++;
        int w;
        if (plot_rmse_vs_t(dir, rows, a, b, &w, err) < 0) return -1;
        if (!w)
            fprintf(stderr, "report: %s %s %s has no uw-so results, no rmse_vs_temperature plot\n",
                    rows[a].runs[0]->subset, rows[a].runs[0]->model, rows[a].runs[0]->protocol);
        for (int i = a; i < b; i++) {
            if (rows[i].kind == M_FIXED) continue;   /* constant by definition */
            if (plot_weights(dir, &rows[i], &w, err) < 0) return -1;
            if (!w)
                fprintf(stderr, "report: %s %s has no weight history, no weights plot\n", rows[i].runs[0]->subset,
                        rows[i].runs[0]->method);
        }
        a = b;
    }
    return 0;
}

/* ------------------------------------------------------------------ report */

static const char REPORT_USAGE[] =
    "usage: mtlbench report RESULTS [--csv FILE] [--svg DIR]\n"
    "\n"
    "Summarises the runs in RESULTS (a results .h5 file, or a folder: its *.h5 files and those\n"
    "of its runs/ subfolder) as Markdown on stdout. One table per setup (subset, model and\n"
    "protocol with its norm, validation fraction and lr step: two setups never share a table)\n"
    "of every method (fixed:λ, uw, uw-o, uw-so:T, then the others by name: dwa:T, ew, gls,\n"
    "gradnorm:A, imtl-l, rlw, ...) with its rank by mean test RMSE, runs ok/total, test RMSE,\n"
    "NASA score, accuracy and macro-F1 as mean ± sample standard deviation over seeds, and a\n"
    "paired t-test of RMSE against the best fixed weights (seeds ok in both). The best λ, the\n"
    "best T and the best method are marked. Diverged runs are counted and listed, never\n"
    "averaged.\n"
    "\n"
    "  --csv FILE   also write one CSV row per run to FILE (missing values empty)\n"
    "               FILE and the plots are replaced atomically, through symlinks (the file\n"
    "               they name is written); a FIFO or device (/dev/stdout) is written in\n"
    "               place; a results or other HDF5 file is never overwritten\n"
    "  --svg DIR    also write SVG plots into DIR (created if needed):\n"
    "                 rmse_vs_temperature_<SETUP>.svg   uw-so RMSE against T (log axis) with\n"
    "                                                   lines for best fixed, uw and uw-o\n"
    "                 weights_<SETUP>_<METHOD>.svg      task weights per epoch, one plot per\n"
    "                                                   method except the constant fixed:λ\n"
    "                                                   (':' in METHOD becomes '_')\n"
    "               SETUP is SUBSET_MODEL_PROTOCOL, e.g. FD001_dcnn_spec\n"
    "  --help       this text\n"
    "\n"
    "Exit status: 0 success, 1 no runs found, 2 bad usage, unreadable input or unwritable output.\n";

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"csv", 1, 0, 'c'}, {"svg", 1, 0, 's'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *csv = NULL, *svgdir = NULL;
    int o;
    optind = 1;
    opterr = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c': csv = optarg; break;
        case 's': svgdir = optarg; break;
        case 'h': fputs(REPORT_USAGE, stdout); return 0;
        default: fputs(REPORT_USAGE, stderr); return 2;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "mtlbench report: expected one RESULTS path, got %d\n\n%s", argc - optind, REPORT_USAGE);
        return 2;
    }
    const char *path = argv[optind];
    if ((csv && !csv[0]) || (svgdir && !svgdir[0])) {
        fprintf(stderr, "mtlbench report: empty --csv or --svg argument\n");
        return 2;
    }

    mtl_err err;
    run_record *runs;
    int n;
    if (results_read(path, &runs, &n, &err) < 0) {
        fprintf(stderr, "mtlbench report: %s\n", err.msg);
        return 2;
    }
    n = drop_inconsistent("report", path, runs, n);
    int status = 0;
    const run_record **v = NULL;
    method_row *rows = NULL;
    int nrows = 0;
    if (n == 0) {
        fprintf(stderr, "mtlbench report: no runs in %s\n", path);
        status = 1;
        goto done;
    }
    v = sorted_runs(runs, n, &err);
    if (v) rows = group_rows(v, n, &nrows, &err);
    if (!rows) {
        fprintf(stderr, "mtlbench report: %s\n", err.msg);
        status = 2;
        goto done;
    }

    int nok = 0;
    for (int i = 0; i < n; i++) nok += is_ok(&runs[i]);
    printf("# mtlbench report\n\n");
    printf("Results: %s (%d runs, %d ok, %d diverged or failed).\n\n", path, n, nok, n - nok);
    for (int a = 0; a < nrows && status == 0;) {
        int b = a + 1;
        while (b < nrows && setup_cmp(rows[b].runs[0], rows[a].runs[0]) == 0) b++;
        if (print_section(rows, a, b, &err) < 0) {
            fprintf(stderr, "mtlbench report: %s\n", err.msg);
            status = 2;
        }
        a = b;
    }
    if (status == 0) fputs(REPORT_LEGEND, stdout);
    fflush(stdout);

    if (status == 0 && csv) {
        if (write_csv(csv, v, n, &err) < 0) {
            fprintf(stderr, "mtlbench report: %s\n", err.msg);
            status = 2;
        } else {
            fprintf(stderr, "report: wrote %s\n", csv);
        }
    }
    if (status == 0 && svgdir && write_svgs(svgdir, rows, nrows, &err) < 0) {
        fprintf(stderr, "mtlbench report: %s\n", err.msg);
        status = 2;
    }
done:
    free(rows);
    free(v);
    for (int i = 0; i < n; i++) run_record_free(&runs[i]);
    free(runs);
    return status;
}

/* ------------------------------------------------------------------ compare */

static const char COMPARE_USAGE[] =
    "usage: mtlbench compare BASELINE NEW [--rtol X] [--atol Y] [--metrics LIST]\n"
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
    "  --rtol X        relative tolerance, X >= 0 (default 0.05)\n"
    "  --atol Y        absolute tolerance, Y >= 0 (default 0)\n"
    "  --metrics LIST  comma-separated metrics to check (default rmse,rmse_uncapped,mae,score,acc,f1;\n"
    "                  also: best_val_rmse, samples_per_s, wall_s)\n"
    "  --help          this text\n"
    "\n"
    "Exit status: 0 no failures, 1 a regression, a diverged or missing run, or an empty\n"
    "baseline, 2 bad usage or an unreadable input.\n";

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

int cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {
        {"rtol", 1, 0, 'r'}, {"atol", 1, 0, 'a'}, {"metrics", 1, 0, 'm'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    double rtol = 0.05, atol = 0;
    int sel[N_METRICS];
    for (int i = 0; i < N_METRICS; i++) sel[i] = METRICS[i].check_default;
    int o;
    optind = 1;
    opterr = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'r':
        case 'a': {
            double x;
            if (mtl_parse_double(optarg, &x) || !isfinite(x) || x < 0) {
                fprintf(stderr, "mtlbench compare: --%s '%s', expected a number >= 0\n", o == 'r' ? "rtol" : "atol",
                        optarg);
                return 2;
            }
            if (o == 'r') rtol = x;
            else atol = x;
            break;
        }
        case 'm':
            if (parse_metrics(optarg, sel) < 0) return 2;
            break;
        case 'h': fputs(COMPARE_USAGE, stdout); return 0;
        default: fputs(COMPARE_USAGE, stderr); return 2;
        }
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
    const run_record **bv = sorted_runs(base, nb, &err), **nv = sorted_runs(cur, nn, &err);
    const run_record **nid = sorted_runs(cur, nn, &err), **bid = sorted_runs(base, nb, &err);
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
            double worse = isfinite(nvv) ? (md->higher_better ? bvv - nvv : nvv - bvv) : INFINITY;
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
    status = regressions || missing || nb == 0 ? 1 : 0;
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
