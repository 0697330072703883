/* Tests of `mtlbench report` and `mtlbench compare` (src/report.c, src/svg.c), run as the
 * real program on small results files built here, and of the t distribution directly. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "report.h"
#include "results.h"
#include "svg.h"

/* ------------------------------------------------------------------ the data set
 *
 * FD001, seeds 1, 2, 3 (+ one diverged uw-so:1 run, seed 4). Test RMSE per seed:
 *   fixed:0.3  15.0 16.0 17.0   mean 16.00, sd 1.00
 *   fixed:0.5  14.0 14.5 15.0   mean 14.50, sd 0.50   <- best λ (lowest mean among fixed)
 *   uw         15.0 16.5 18.0   mean 16.50, sd 1.50
 *              vs fixed:0.5: differences 1, 2, 3 -> mean 2, sd 1, t = 2 / (1 / sqrt 3) = 3.4641,
 *              dof 2: two-sided p = 1 - t / sqrt(t^2 + 2) = 1 - 3.4641 / 3.7417 = 0.0742
 *   uw-so:1    14.5 15.0 16.0   mean 15.1667, deviations -2/3, -1/6, 5/6: sum of squares 7/6,
 *              sd = sqrt(7/12) = 0.7638  -> "15.17 ± 0.76"; seed 4 diverged (NaN metrics)
 *   uw-so:5    13.0 13.5 14.6   mean 13.70, sd sqrt(1.34 / 2) = 0.8185 -> "13.70 ± 0.82"
 *              <- best T and best overall
 *              vs fixed:0.5: differences -1, -1, -0.4 -> mean -0.8, sd sqrt(0.24 / 2) = 0.3464,
 *              t = -0.8 / 0.2 = -4, dof 2: p = 1 - 4 / sqrt(18) = 0.0572
 * fixed:0.5 also: NASA score 300 320 340 -> "320.0 ± 20.0", accuracy 0.90 0.92 0.94 ->
 * "0.920 ± 0.020", macro-F1 0.80 0.85 0.90 -> "0.850 ± 0.050". */

typedef struct {
    const char *method;
    double rmse[3];
} method_data;

static const method_data DATA[] = {
    /* deliberately not in report order */
    {"uw-so:5", {13.0, 13.5, 14.6}},
    {"fixed:0.5", {14.0, 14.5, 15.0}},
    {"uw", {15.0, 16.5, 18.0}},
    {"fixed:0.3", {15.0, 16.0, 17.0}},
    {"uw-so:1", {14.5, 15.0, 16.0}},
};
#define N_METHODS ((int)(sizeof DATA / sizeof DATA[0]))
#define N_RUNS (N_METHODS * 3 + 1)

static void make_run(run_record *r, const char *method, long seed, double rmse)
{
    memset(r, 0, sizeof *r);
    strcpy(r->subset, "FD001");
    snprintf(r->method, sizeof r->method, "%s", method);
    strcpy(r->model, "dcnn");
    strcpy(r->protocol, "spec");
    strcpy(r->norm, "z");
    strcpy(r->lr_step, "none");
    r->seed = seed;
    r->epochs = 4;
    r->window = 30;
    r->batch = 512;
    r->lr = 0.001;
    r->dropout = 0.5;
    r->val_frac = 0.2;
    run_config_id(r, r->run_id);
    strcpy(r->status, "ok");
    r->ranks = 1;
    r->threads = 2;
    r->wall_s = 12.5;
    strcpy(r->git, "test");
    strcpy(r->version, "0.1.0");
    strcpy(r->host, "localhost");
    strcpy(r->start_time, "2024-01-01T00:00:00Z");
    r->rmse = rmse;
    r->rmse_uncapped = rmse + 1;
    r->mae = rmse - 3;
    r->score = 280 + 20 * seed;          /* 300, 320, 340 */
    r->acc = 0.88 + 0.02 * (double)seed;  /* 0.90, 0.92, 0.94 */
    r->f1 = 0.75 + 0.05 * (double)seed;   /* 0.80, 0.85, 0.90 */
    r->best_val_rmse = 12.5;
    r->best_epoch = 3;
    r->epochs_run = 4;
    r->samples_per_s = 1000;
    r->comm_fraction = 0;
    r->w_rul = r->w_health = 0.5;
    strcpy(r->param_digest, "0123456789abcdef");
    r->n_hist = 4;
    r->hist = calloc(4, sizeof *r->hist);
    cr_assert_not_null(r->hist);
    for (int e = 0; e < 4; e++) {
        run_epoch *h = &r->hist[e];
        h->epoch = e + 1;
        h->loss_rul = 100.0 / (e + 1);
        h->loss_health = 0.5 / (e + 1);
        /* weights orders of magnitude apart, as under uncertainty weighting */
        h->w_rul = 0.001 * (e + 1) * (double)seed;
        h->w_health = 2.0 / (e + 1);
        h->s_rul = h->s_health = NAN;
        h->val_rmse = 20.0 - e;
        h->val_acc = 0.8;
        h->seconds = 1;
        h->comm_seconds = 0;
        h->samples_per_s = 1000;
    }
    r->n_test = 2;
    r->test = calloc(2, sizeof *r->test);
    cr_assert_not_null(r->test);
    for (int i = 0; i < 2; i++) {
        r->test[i].unit = i + 1;
        r->test[i].pred_rul = 50.0f;
        r->test[i].true_rul = 60.0f;
        r->test[i].true_rul_raw = 60.0f;
    }
}

/* The N_RUNS runs described above; the last is the diverged uw-so:1 seed 4. */
static run_record *make_runs(void)
{
    run_record *v = calloc(N_RUNS, sizeof *v);
    cr_assert_not_null(v);
    int k = 0;
    for (int m = 0; m < N_METHODS; m++)
        for (int s = 0; s < 3; s++) make_run(&v[k++], DATA[m].method, s + 1, DATA[m].rmse[s]);
    run_record *d = &v[k++];
    make_run(d, "uw-so:1", 4, NAN);
    strcpy(d->status, "diverged");
    d->rmse_uncapped = d->mae = d->score = d->acc = d->f1 = d->best_val_rmse = NAN;
    d->epochs_run = 2;
    return v;
}

static void free_runs(run_record *v, int n)
{
    for (int i = 0; i < n; i++) run_record_free(&v[i]);
    free(v);
}

static run_record *find(run_record *v, int n, const char *method, long seed)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v[i].method, method) == 0 && v[i].seed == seed) return &v[i];
    cr_assert_fail("no run %s seed %ld", method, seed);
    return NULL;
}

static void write_runs(const char *dir, const run_record *v, int n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    mtl_err err;
    cr_assert_eq(results_write_all(path, v, n, &err), 0, "%s", err.msg);
}

/* A fresh temporary directory holding results.h5 with the standard runs. */
static void standard_dir(char *dir, size_t n)
{
    th_tmpdir(dir, n);
    run_record *v = make_runs();
    write_runs(dir, v, N_RUNS);
    free_runs(v, N_RUNS);
}

static void rm_rf(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    th_system(cmd);
}

/* The table line of a method (starts with "| method "), copied into line. */
static void table_line(const char *text, const char *method, char *line, size_t n)
{
    char key[64];
    snprintf(key, sizeof key, "\n| %s ", method);
    const char *s = strstr(text, key);
    cr_assert_not_null(s, "no table row for %s in:\n%s", method, text);
    s++;
    const char *e = strchr(s, '\n');
    size_t len = e ? (size_t)(e - s) : strlen(s);
    cr_assert_lt(len, n);
    memcpy(line, s, len);
    line[len] = '\0';
}

static void assert_contains(const char *hay, const char *needle)
{
    cr_assert_not_null(strstr(hay, needle), "expected '%s' in:\n%s", needle, hay);
}

/* ------------------------------------------------------------------ statistics */

Test(tdist, known_values)
{
    cr_assert_float_eq(report_t_cdf(0.0, 5), 0.5, 1e-12);
    /* dof 1 is the Cauchy distribution: F(1) = 1/2 + atan(1)/pi = 0.75 */
    cr_assert_float_eq(report_t_cdf(1.0, 1), 0.75, 1e-10);
    cr_assert_float_eq(report_t_cdf(-1.0, 1), 0.25, 1e-10);
    /* dof 2: F(t) = 1/2 + t / (2 sqrt(2 + t^2)); t = sqrt(12): 1/2 + sqrt(12)/(2 sqrt(14)) */
    cr_assert_float_eq(report_t_cdf(sqrt(12.0), 2), 0.5 + sqrt(12.0) / (2 * sqrt(14.0)), 1e-10);
    /* the 97.5% quantile of t with 10 dof is 2.228139 (tables) */
    cr_assert_float_eq(report_t_cdf(2.228139, 10), 0.975, 1e-6);
    /* many dof: the standard normal, Phi(-2) = 0.0227501319 */
    cr_assert_float_eq(report_t_cdf(-2.0, 1e7), 0.0227501319, 1e-7);
    cr_assert_float_eq(report_incbeta(2, 3, 0.4), 0.5248, 1e-10);   /* 1 - (0.6^4 + 4 * 0.4 * 0.6^3) */
    cr_assert(isnan(report_t_cdf(NAN, 3)));
}

Test(tdist, paired_test)
{
    double d[] = {1, 2, 3}, mean, sd, t, p;
    cr_assert_eq(report_paired_t(d, 3, &mean, &sd, &t, &p), 0);
    cr_assert_float_eq(mean, 2.0, 1e-12);
    cr_assert_float_eq(sd, 1.0, 1e-12);
    cr_assert_float_eq(t, sqrt(12.0), 1e-12);
    cr_assert_float_eq(p, 1 - sqrt(12.0) / sqrt(14.0), 1e-10);   /* 0.07418 */
    cr_assert_eq(report_paired_t(d, 1, &mean, &sd, &t, &p), -1);
    cr_assert(isnan(p));
    double same[] = {0.5, 0.5};
    cr_assert_eq(report_paired_t(same, 2, &mean, &sd, &t, &p), 0);
    cr_assert_float_eq(p, 0.0, 0);
}

Test(methods, order)
{
    cr_assert_gt(report_method_cmp("fixed:0.3", "fixed:0.25"), 0);
    cr_assert_lt(report_method_cmp("fixed:0.5", "fixed:10"), 0);   /* numeric, not text order */
    cr_assert_lt(report_method_cmp("fixed:1", "uw"), 0);
    cr_assert_lt(report_method_cmp("uw", "uw-o"), 0);
    cr_assert_lt(report_method_cmp("uw-o", "uw-so:0.1"), 0);
    cr_assert_lt(report_method_cmp("uw-so:2", "uw-so:10"), 0);
    cr_assert_eq(report_method_cmp("uw-so:2", "uw-so:2"), 0);
}

Test(svg, ticks_and_escaping)
{
    double t[SVG_MAX_TICKS], step;
    int n = svg_ticks_linear(0, 10, 5, t, SVG_MAX_TICKS, &step);
    cr_assert_eq(n, 6);
    cr_assert_float_eq(step, 2, 1e-12);
    cr_assert_float_eq(t[5], 10, 1e-12);
    n = svg_ticks_log(0.5, 20, t, SVG_MAX_TICKS);   /* 1.6 decades: 1, 2, 5 steps */
    cr_assert_eq(n, 6);                             /* 0.5 1 2 5 10 20 */
    cr_assert_float_eq(t[0], 0.5, 1e-12);
    cr_assert_float_eq(t[5], 20, 1e-9);
    n = svg_ticks_log(1e-4, 10, t, SVG_MAX_TICKS);  /* 5 decades: powers of ten */
    cr_assert_eq(n, 6);
    char buf[32];
    svg_format_tick(0.30000000000000004, 0.1, buf, sizeof buf);
    cr_assert_str_eq(buf, "0.3");
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    svg_write_escaped(f, "a<b & \"c\">");
    fclose(f);
    cr_assert_str_eq(text, "a&lt;b &amp; &quot;c&quot;&gt;");
    free(text);
}

/* ------------------------------------------------------------------ report */

Test(report, table)
{
    char dir[64], cmd[512];
    standard_dir(dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "%s report %s", MTL_BIN, dir);
    char *out, *err;
    cr_assert_eq(run_capture(cmd, &out, &err), 0, "stderr: %s", err);
    assert_contains(out, "## FD001 · model dcnn · protocol spec");

    /* rows in method order */
    const char *order[] = {"| fixed:0.3 ", "| fixed:0.5 ", "| uw ", "| uw-so:1 ", "| uw-so:5 "};
    const char *prev = out;
    for (int i = 0; i < 5; i++) {
        const char *s = strstr(out, order[i]);
        cr_assert_not_null(s, "%s missing", order[i]);
        cr_assert(s >= prev, "%s out of order", order[i]);
        prev = s;
    }

    char line[512];
    table_line(out, "fixed:0.5", line, sizeof line);
    assert_contains(line, "| fixed:0.5 |    2 |");   /* rank by mean RMSE: after uw-so:5 */
    assert_contains(line, " 3/3 |");
    assert_contains(line, "14.50 ± 0.50");
    assert_contains(line, "320.0 ± 20.0");
    assert_contains(line, "0.920 ± 0.020");
    assert_contains(line, "0.850 ± 0.050");
    assert_contains(line, "reference");
    assert_contains(line, "**best λ**");
    cr_assert_null(strstr(line, "**best overall**"));

    table_line(out, "fixed:0.3", line, sizeof line);
    assert_contains(line, "16.00 ± 1.00");
    cr_assert_null(strstr(line, "**best λ**"));

    table_line(out, "uw", line, sizeof line);
    assert_contains(line, "| uw        |    5 |");
    assert_contains(line, "16.50 ± 1.50");
    assert_contains(line, "+2.00 (p=0.0742, n=3)");

    table_line(out, "uw-so:1", line, sizeof line);
    assert_contains(line, " 3/4 |");   /* the diverged seed counts in the total only */
    assert_contains(line, "15.17 ± 0.76");
    assert_contains(line, "1 diverged");
    cr_assert_null(strstr(line, "**best T**"));

    table_line(out, "uw-so:5", line, sizeof line);
    assert_contains(line, "13.70 ± 0.82");
    assert_contains(line, "-0.80 (p=0.0572, n=3)");
    assert_contains(line, "**best T**");
    assert_contains(line, "**best overall**");
    assert_contains(line, "| uw-so:5   |    1 |");

    /* the diverged run is listed, and the legend is there */
    assert_contains(out, "- uw-so:1 seed 4: diverged");
    assert_contains(out, "vs best fixed = mean RMSE difference");
    free(out);
    free(err);
    rm_rf(dir);
}

Test(report, single_run_and_no_fixed)
{
    char dir[64], cmd[512];
    th_tmpdir(dir, sizeof dir);
    run_record *v = calloc(2, sizeof *v);
    cr_assert_not_null(v);
    make_run(&v[0], "uw", 1, 14.25);
    make_run(&v[1], "uw-so:2", 1, 13.5);
    write_runs(dir, v, 2);
    free_runs(v, 2);
    snprintf(cmd, sizeof cmd, "%s report %s/results.h5", MTL_BIN, dir);
    char *out;
    cr_assert_eq(run_capture(cmd, &out, NULL), 0);
    char line[512];
    table_line(out, "uw", line, sizeof line);
    assert_contains(line, "14.25 ± —");
    assert_contains(line, " n/a |");   /* no fixed weights to compare with */
    free(out);
    rm_rf(dir);
}

/* Runs of two models, or of one model under two protocols, never share a table. */
Test(report, models_and_protocols_get_their_own_tables)
{
    char dir[64], cmd[512];
    th_tmpdir(dir, sizeof dir);
    run_record *v = calloc(4, sizeof *v);
    cr_assert_not_null(v);
    make_run(&v[0], "fixed:0.5", 1, 12.0);
    make_run(&v[1], "fixed:0.5", 1, 15.0);
    strcpy(v[1].model, "cnn1d");
    make_run(&v[2], "fixed:0.5", 1, 13.0);
    strcpy(v[2].protocol, "li2018");
    strcpy(v[2].norm, "minmax");
    v[2].val_frac = 0;
    strcpy(v[2].lr_step, "200:0.1");
    make_run(&v[3], "fixed:0.5", 2, 14.0);
    strcpy(v[3].protocol, "li2018");
    strcpy(v[3].norm, "minmax");
    v[3].val_frac = 0;
    strcpy(v[3].lr_step, "200:0.1");
    for (int i = 0; i < 4; i++) run_config_id(&v[i], v[i].run_id);
    write_runs(dir, v, 4);
    free_runs(v, 4);
    snprintf(cmd, sizeof cmd, "%s report %s/results.h5", MTL_BIN, dir);
    char *out;
    cr_assert_eq(run_capture(cmd, &out, NULL), 0);
    const char *a = strstr(out, "## FD001 · model cnn1d · protocol spec");
    const char *b = strstr(out, "## FD001 · model dcnn · protocol li2018");
    const char *c = strstr(out, "## FD001 · model dcnn · protocol spec");
    cr_assert(a && b && c, "three sections expected:\n%s", out);
    char line[512];
    table_line(a, "fixed:0.5", line, sizeof line);
    assert_contains(line, "15.00 ± —");
    table_line(b, "fixed:0.5", line, sizeof line);
    assert_contains(line, " 2/2 |");
    assert_contains(line, "13.50 ± 0.71");
    assert_contains(b, "norm minmax, lr step 200:0.1");
    table_line(c, "fixed:0.5", line, sizeof line);
    assert_contains(line, "12.00 ± —");
    free(out);
    rm_rf(dir);
}

Test(report, csv)
{
    char dir[64], cmd[512];
    standard_dir(dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "%s report %s --csv %s/runs.csv", MTL_BIN, dir, dir);
    char *out, *err;
    cr_assert_eq(run_capture(cmd, &out, &err), 0, "stderr: %s", err);
    assert_contains(err, "runs.csv");
    char path[256];
    snprintf(path, sizeof path, "%s/runs.csv", dir);
    mtl_err e;
    size_t len;
    char *csv = mtl_read_file(path, &len, &e);
    cr_assert_not_null(csv, "%s", e.msg);
    static const char header[] = "subset,method,seed,status,rmse,rmse_uncapped,mae,score,acc,f1,best_val_rmse,"
                                 "best_epoch,epochs_run,samples_per_s,ranks,threads,wall_s,run_id\n";
    cr_assert_eq(strncmp(csv, header, strlen(header)), 0, "header: %.200s", csv);

    run_record *v = make_runs();
    char row[256];
    run_record *r = find(v, N_RUNS, "fixed:0.5", 1);
    snprintf(row, sizeof row, "\nFD001,fixed:0.5,1,ok,14,15,11,300,0.9,0.8,12.5,3,4,1000,1,2,12.5,%s\n", r->run_id);
    assert_contains(csv, row);
    r = find(v, N_RUNS, "uw-so:1", 4);   /* NaN -> empty */
    snprintf(row, sizeof row, "\nFD001,uw-so:1,4,diverged,,,,,,,,3,2,1000,1,2,12.5,%s\n", r->run_id);
    assert_contains(csv, row);
    /* 1 header + one line per run, no temporary left behind */
    int lines = 0;
    for (char *s = csv; *s; s++) lines += *s == '\n';
    cr_assert_eq(lines, N_RUNS + 1);
    snprintf(path, sizeof path, "%s/runs.csv.tmp", dir);
    struct stat st;
    cr_assert_neq(stat(path, &st), 0);
    free_runs(v, N_RUNS);
    free(csv);
    free(out);
    free(err);
    rm_rf(dir);
}

static char *read_svg(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    mtl_err e;
    size_t len;
    char *s = mtl_read_file(path, &len, &e);
    cr_assert_not_null(s, "%s", e.msg);
    assert_contains(s, "<svg");
    assert_contains(s, "viewBox=");
    assert_contains(s, "</svg>");
    assert_contains(s, "<polyline");
    cr_assert_null(strstr(s, "<script"));
    cr_assert_null(strstr(s, "nan"), "a NaN coordinate in %s", name);
    return s;
}

Test(report, svg)
{
    char dir[64], svgdir[128], cmd[512];
    standard_dir(dir, sizeof dir);
    snprintf(svgdir, sizeof svgdir, "%s/plots/nested", dir);   /* created with its parent */
    snprintf(cmd, sizeof cmd, "%s report %s --svg %s", MTL_BIN, dir, svgdir);
    char *out, *err;
    cr_assert_eq(run_capture(cmd, &out, &err), 0, "stderr: %s", err);
    assert_contains(out, "## FD001");   /* the report itself still on stdout */
    assert_contains(err, "rmse_vs_temperature_FD001_dcnn_spec.svg");
    cr_assert_null(strstr(out, ".svg"));

    char *s = read_svg(svgdir, "rmse_vs_temperature_FD001_dcnn_spec.svg");
    assert_contains(s, "best fixed (λ=0.5)");
    assert_contains(s, "uw: 16.50");
    assert_contains(s, "temperature T (log scale)");
    free(s);
    s = read_svg(svgdir, "weights_FD001_dcnn_spec_uw.svg");
    assert_contains(s, "w_rul");
    assert_contains(s, "w_health");
    free(s);
    free(read_svg(svgdir, "weights_FD001_dcnn_spec_uw-so_1.svg"));
    free(read_svg(svgdir, "weights_FD001_dcnn_spec_uw-so_5.svg"));
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/weights_FD001_dcnn_spec_fixed_0.5.svg", svgdir);
    cr_assert_neq(stat(path, &st), 0, "no weights plot for fixed weights");
    free(out);
    free(err);
    rm_rf(dir);
}

Test(report, no_runs_and_bad_input)
{
    char dir[64], cmd[512];
    th_tmpdir(dir, sizeof dir);
    char *out, *err;
    snprintf(cmd, sizeof cmd, "%s report %s", MTL_BIN, dir);   /* empty folder */
    cr_assert_eq(run_capture(cmd, &out, &err), 1);
    assert_contains(err, "no runs");
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "%s report %s/does-not-exist.h5", MTL_BIN, dir);
    cr_assert_eq(run_capture(cmd, &out, &err), 2);
    assert_contains(err, "does-not-exist.h5");
    free(out);
    free(err);
    char path[256];
    snprintf(path, sizeof path, "%s/garbage.h5", dir);
    th_write(path, "not hdf5\n");
    snprintf(cmd, sizeof cmd, "%s report %s", MTL_BIN, path);
    cr_assert_eq(run_capture(cmd, &out, &err), 2);
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "%s report", MTL_BIN);
    cr_assert_eq(run_capture(cmd, &out, &err), 2);
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "%s report --help", MTL_BIN);
    cr_assert_eq(run_capture(cmd, &out, &err), 0);
    assert_contains(out, "usage: mtlbench report RESULTS");
    free(out);
    free(err);
    rm_rf(dir);
}

/* ------------------------------------------------------------------ compare */

/* A second directory with the standard runs changed by edit (may remove runs by returning a
 * smaller count). */
static void edited_dir(char *dir, size_t n, int (*edit)(run_record *v, int n))
{
    th_tmpdir(dir, n);
    run_record *v = make_runs();
    int k = edit(v, N_RUNS);
    write_runs(dir, v, k);
    free_runs(v, N_RUNS);
}

static int worse_rmse(run_record *v, int n)
{
    find(v, n, "fixed:0.5", 2)->rmse = 16.0;   /* 14.5 -> 16.0: +10.3%, tolerance 5% = 0.725 */
    return n;
}

static int better_rmse(run_record *v, int n)
{
    find(v, n, "uw", 3)->rmse = 16.0;   /* 18.0 -> 16.0 */
    return n;
}

static int better_acc(run_record *v, int n)
{
    find(v, n, "uw", 1)->acc = 0.99;   /* 0.90 in the standard runs */
    return n;
}

static int drop_one(run_record *v, int n)
{
    run_record *r = find(v, n, "uw-so:5", 3), tmp = *r;
    *r = v[n - 1];   /* move it to the end, out of the written range */
    v[n - 1] = tmp;
    return n - 1;
}

static int diverge_one(run_record *v, int n)
{
    run_record *r = find(v, n, "uw", 2);
    strcpy(r->status, "diverged");
    r->rmse = r->rmse_uncapped = r->mae = r->score = r->acc = r->f1 = NAN;
    return n;
}

static const char *run_id_of(const char *method, long seed, char *buf)
{
    run_record *v = make_runs();
    strcpy(buf, find(v, N_RUNS, method, seed)->run_id);
    free_runs(v, N_RUNS);
    return buf;
}

Test(compare, same_results)
{
    char dir[64], cmd[512];
    standard_dir(dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "%s compare %s %s", MTL_BIN, dir, dir);
    char *out;
    cr_assert_eq(run_capture(cmd, &out, NULL), 0, "%s", out);
    assert_contains(out, "compare: 16 runs checked, 0 regressions, 0 missing");
    free(out);
    rm_rf(dir);
}

Test(compare, regression)
{
    char base[64], cur[64], cmd[512], id[17];
    standard_dir(base, sizeof base);
    edited_dir(cur, sizeof cur, worse_rmse);
    snprintf(cmd, sizeof cmd, "%s compare %s %s", MTL_BIN, base, cur);
    char *out;
    cr_assert_eq(run_capture(cmd, &out, NULL), 1, "%s", out);
    char want[128];
    snprintf(want, sizeof want, "REGRESSION %s FD001 fixed:0.5 seed 2: rmse 14.50 -> 16.00 (+10.3%%, tolerance 0.7",
             run_id_of("fixed:0.5", 2, id));
    assert_contains(out, want);
    assert_contains(out, "1 regressions, 0 missing");
    free(out);
    /* a looser tolerance accepts it */
    snprintf(cmd, sizeof cmd, "%s compare %s %s --rtol 0.2", MTL_BIN, base, cur);
    cr_assert_eq(run_capture(cmd, &out, NULL), 0, "%s", out);
    free(out);
    /* other metrics only: rmse not checked */
    snprintf(cmd, sizeof cmd, "%s compare --metrics acc,f1 %s %s", MTL_BIN, base, cur);
    cr_assert_eq(run_capture(cmd, &out, NULL), 0, "%s", out);
    free(out);
    rm_rf(base);
    rm_rf(cur);
}

Test(compare, improvement_is_not_a_failure)
{
    char base[64], cur[64], cmd[512], id[17];
    standard_dir(base, sizeof base);
    edited_dir(cur, sizeof cur, better_rmse);
    snprintf(cmd, sizeof cmd, "%s compare %s %s", MTL_BIN, base, cur);
    char *out;
    cr_assert_eq(run_capture(cmd, &out, NULL), 0, "%s", out);
    char want[96];
    snprintf(want, sizeof want, "improved %s FD001 uw seed 3: rmse 18.00 -> 16.00", run_id_of("uw", 3, id));
    assert_contains(out, want);
    free(out);
    rm_rf(base);
    rm_rf(cur);
}

Test(compare, better_baseline)
{
    char base[64], cur[64], cmd[512], id[17];
    edited_dir(base, sizeof base, better_acc);
    standard_dir(cur, sizeof cur);
    snprintf(cmd, sizeof cmd, "%s compare %s %s", MTL_BIN, base, cur);
    char *out;
    cr_assert_eq(run_capture(cmd, &out, NULL), 1, "%s", out);
    char want[96];
    snprintf(want, sizeof want, "REGRESSION %s FD001 uw seed 1: acc 0.9900 -> 0.9000", run_id_of("uw", 1, id));
    assert_contains(out, want);
    free(out);
    rm_rf(base);
    rm_rf(cur);
}

Test(compare, missing_and_new)
{
    char base[64], cur[64], cmd[512], id[17];
    standard_dir(base, sizeof base);
    edited_dir(cur, sizeof cur, drop_one);
    snprintf(cmd, sizeof cmd, "%s compare %s %s", MTL_BIN, base, cur);
    char *out;
    cr_assert_eq(run_capture(cmd, &out, NULL), 1, "%s", out);
    char want[96];
    snprintf(want, sizeof want, "MISSING %s FD001 uw-so:5 seed 3\n", run_id_of("uw-so:5", 3, id));
    assert_contains(out, want);
    assert_contains(out, "compare: 15 runs checked, 0 regressions, 1 missing");
    free(out);
    /* the other way round the run is new: information only */
    snprintf(cmd, sizeof cmd, "%s compare %s %s", MTL_BIN, cur, base);
    cr_assert_eq(run_capture(cmd, &out, NULL), 0, "%s", out);
    snprintf(want, sizeof want, "new %s FD001 uw-so:5 seed 3\n", id);
    assert_contains(out, want);
    free(out);
    rm_rf(base);
    rm_rf(cur);
}

Test(compare, diverged_in_new)
{
    char base[64], cur[64], cmd[512], id[17];
    standard_dir(base, sizeof base);
    edited_dir(cur, sizeof cur, diverge_one);
    snprintf(cmd, sizeof cmd, "%s compare %s %s", MTL_BIN, base, cur);
    char *out;
    cr_assert_eq(run_capture(cmd, &out, NULL), 1, "%s", out);
    char want[96];
    snprintf(want, sizeof want, "DIVERGED %s FD001 uw seed 2: status ok -> diverged", run_id_of("uw", 2, id));
    assert_contains(out, want);
    cr_assert_null(strstr(out, "REGRESSION"), "one failure line per diverged run:\n%s", out);
    free(out);
    rm_rf(base);
    rm_rf(cur);
}

Test(compare, bad_input)
{
    char dir[64], cmd[512];
    standard_dir(dir, sizeof dir);
    char *out;
    snprintf(cmd, sizeof cmd, "%s compare %s %s/nope.h5", MTL_BIN, dir, dir);
    cr_assert_eq(run_capture(cmd, &out, NULL), 2);
    free(out);
    snprintf(cmd, sizeof cmd, "%s compare /nonexistent/path %s", MTL_BIN, dir);
    cr_assert_eq(run_capture(cmd, &out, NULL), 2);
    free(out);
    snprintf(cmd, sizeof cmd, "%s compare %s", MTL_BIN, dir);
    cr_assert_eq(run_capture(cmd, &out, NULL), 2);
    free(out);
    snprintf(cmd, sizeof cmd, "%s compare %s %s --rtol -1", MTL_BIN, dir, dir);
    cr_assert_eq(run_capture(cmd, &out, NULL), 2);
    free(out);
    snprintf(cmd, sizeof cmd, "%s compare %s %s --metrics rmse,bogus", MTL_BIN, dir, dir);
    cr_assert_eq(run_capture(cmd, &out, NULL), 2);
    free(out);
    snprintf(cmd, sizeof cmd, "%s compare --help", MTL_BIN);
    cr_assert_eq(run_capture(cmd, &out, NULL), 0);
    assert_contains(out, "default 0.05");
    free(out);
    rm_rf(dir);
}

/* ------------------------------------------------------------------ trust */

Test(report, run_id_mismatch_left_out)
{
    char dir[64], cmd[512];
    th_tmpdir(dir, sizeof dir);
    run_record *v = make_runs();
    /* a file claiming a run id its configuration does not hash to (an edited seed) */
    run_record *r = find(v, N_RUNS, "uw", 2);
    r->seed = 7;
    char id[17];
    snprintf(id, sizeof id, "%s", r->run_id);
    write_runs(dir, v, N_RUNS);
    free_runs(v, N_RUNS);
    snprintf(cmd, sizeof cmd, "%s report %s", MTL_BIN, dir);
    char *out, *err;
    cr_assert_eq(run_capture(cmd, &out, &err), 0, "stderr: %s", err);
    assert_contains(err, id);
    assert_contains(err, "does not hash to its run_id; left out");
    assert_contains(out, "(15 runs, 14 ok, 1 diverged or failed)");
    const char *line = strstr(out, "| uw ");
    cr_assert_not_null(line, "%s", out);
    assert_contains(line, " 2/2 |");
    free(out);
    free(err);
    rm_rf(dir);
}

Test(report, ok_run_with_nonfinite_metric_counted_consistently)
{
    char dir[64], cmd[512];
    th_tmpdir(dir, sizeof dir);
    run_record *v = make_runs();
    find(v, N_RUNS, "uw", 2)->score = INFINITY; /* status ok, but a metric is not finite */
    write_runs(dir, v, N_RUNS);
    free_runs(v, N_RUNS);
    snprintf(cmd, sizeof cmd, "%s report %s", MTL_BIN, dir);
    char *out, *err;
    cr_assert_eq(run_capture(cmd, &out, &err), 0, "stderr: %s", err);
    const char *line = strstr(out, "| uw ");
    cr_assert_not_null(line, "%s", out);
    char row[512];
    snprintf(row, sizeof row, "%.*s", (int)strcspn(line, "\n"), line);
    /* 2 of 3 counted as ok, and the RMSE mean is over the same 2 runs (seeds 1 and 3) */
    assert_contains(row, " 2/3 |");
    assert_contains(row, "1 with a non-finite metric");
    assert_contains(row, "16.50 ± 2.12"); /* (15 + 18) / 2, sd sqrt(4.5) */
    assert_contains(out, "- uw seed 2: ok, but a test metric is not finite");
    free(out);
    free(err);
    rm_rf(dir);
}
