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
#include "run_fixture.h"
#include "results.h"
#include "svg.h"
#include "weighting.h"

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
    th_run(r, method, seed, rmse);
    r->epochs = 4;
    r->window = 30;
    r->batch = 512;
    r->lr = 0.001;
    r->dropout = 0.5;
    run_config_id(r, r->run_id);
    r->ranks = 1;
    r->threads = 2;
    r->wall_s = 12.5;
    strcpy(r->git, "test");
    strcpy(r->version, "0.1.0");
    strcpy(r->host, "localhost");
    strcpy(r->start_time, "2024-01-01T00:00:00Z");
    r->rmse_uncapped = rmse + 1;
    r->mae = rmse - 3;
    r->score = 280 + 20 * seed;          /* 300, 320, 340 */
    r->acc = 0.88 + 0.02 * (double)seed;  /* 0.90, 0.92, 0.94 */
    r->f1 = 0.75 + 0.05 * (double)seed;   /* 0.80, 0.85, 0.90 */
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

/* Gives the n runs of v their ids, writes them to DIR/results.h5, frees them, and returns
 * the stdout of `mtlbench report DIR/results.h5`, which must succeed. */
static char *report_runs(const char *dir, run_record *v, int n)
{
    char cmd[512], *out;
    for (int i = 0; i < n; i++) run_config_id(&v[i], v[i].run_id);
    write_runs(dir, v, n);
    free_runs(v, n);
    snprintf(cmd, sizeof cmd, "%s report %s/results.h5", MTL_BIN, dir);
    cr_assert_eq(run_capture(cmd, &out, NULL), 0);
    return out;
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

/* The file DIR/NAME, which must be readable (freed by the caller). */
static char *read_in(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    mtl_err e;
    size_t len;
    char *s = mtl_read_file(path, &len, &e);
    cr_assert_not_null(s, "%s", e.msg);
    return s;
}

/* The SVG file DIR/NAME, checked for the parts every plot has (freed by the caller). */
static char *read_svg(const char *dir, const char *name)
{
    char *s = read_in(dir, name);
    assert_contains(s, "<svg");
    assert_contains(s, "viewBox=");
    assert_contains(s, "</svg>");
    assert_contains(s, "<polyline");
    cr_assert_null(strstr(s, "<script"));
    cr_assert_null(strstr(s, "nan"), "a NaN coordinate in %s", name);
    return s;
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

Test(svg, labels_keep_clear_of_marks)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    svg_plot p;
    svg_plot_init(&p, f, &(svg_area){.width = 200, .height = 100}, &(svg_ranges){.xmax = 1, .ymax = 1});
    svg_occupied o = {0};
    /* a mark at (100, 50) and everything to its right taken: the label goes to the left */
    cr_assert_eq(svg_occupy(&o, 95, 45, 105, 55), 0);
    cr_assert_eq(svg_occupy(&o, 105, 0, 200, 100), 0);
    cr_assert_eq(svg_label_free(&p, &o, 100, 50, 8, 10, "abc"), 0);
    cr_assert_eq(o.n, 3);
    const svg_box *b = &o.box[2];
    cr_assert_lt(b->x1, 95, "placed over the mark: %g..%g", b->x0, b->x1);
    cr_assert_geq(b->x0, 0);
    /* the same place again is taken, and so is every other: nothing is written */
    cr_assert_eq(svg_occupy(&o, 0, 0, 95, 100), 0);
    long before = ftell(f);
    cr_assert_eq(svg_label_free(&p, &o, 100, 50, 8, 10, "abc"), 1);
    cr_assert_eq(ftell(f), before);
    svg_occupied_free(&o);
    fclose(f);
    cr_assert_not_null(strstr(text, ">abc</text>"));
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
    assert_contains(line, "+1.50 (Holm p=0.1404, n=3)");
    cr_assert_null(strstr(line, "**best λ**"));

    table_line(out, "uw", line, sizeof line);
    assert_contains(line, "| uw        |    5 |");
    assert_contains(line, "16.50 ± 1.50");
    /* Holm over the four comparisons with fixed:0.5: raw p 0.0351 (fixed:0.3: differences 1,
     * 1.5, 2, t = 3 sqrt 3), 0.0572, 0.0572 (uw-so:1 and uw-so:5: |t| = 4), 0.0742 (uw);
     * adjusted 4 x 0.0351 = 0.1404, 3 x 0.0572 = 0.1716, then max(0.1716, 2 x 0.0572) and
     * max(0.1716, 0.0742) */
    assert_contains(line, "+2.00 (Holm p=0.1716, n=3)");

    table_line(out, "uw-so:1", line, sizeof line);
    assert_contains(line, " 3/4 |");   /* the diverged seed counts in the total only */
    assert_contains(line, "15.17 ± 0.76");
    assert_contains(line, "1 diverged");
    cr_assert_null(strstr(line, "**best T**"));

    table_line(out, "uw-so:5", line, sizeof line);
    assert_contains(line, "13.70 ± 0.82");
    assert_contains(line, "-0.80 (Holm p=0.1716, n=3)");
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
    char dir[64];
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
    char *out = report_runs(dir, v, 4);
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

/* Runs of one subset on different data (other files, or a corrected copy) never share a
 * table, nor do runs of another normalisation scope; the headings, plot titles and plot
 * files name what tells them apart. */
Test(report, runs_of_other_data_get_their_own_tables)
{
    char dir[64], cmd[512];
    th_tmpdir(dir, sizeof dir);
    run_record *v = calloc(4, sizeof *v);
    cr_assert_not_null(v);
    make_run(&v[0], "uw", 1, 12.0);
    make_run(&v[1], "uw", 2, 13.0);
    make_run(&v[2], "uw", 1, 20.0);
    strcpy(v[2].data_digest, "00000000000000d2");
    make_run(&v[3], "uw", 1, 30.0);
    strcpy(v[3].norm_scope, "global");
    char *out = report_runs(dir, v, 4);
    const char *head = "## FD001 · model dcnn · protocol spec · data 00000000000000d";
    /* on the first data, the global-scope run has a table of its own (sorted before "regime") */
    const char *a = strstr(out, "## FD001 · model dcnn · protocol spec · data 00000000000000d1 · norm scope global\n");
    const char *c = strstr(out, "## FD001 · model dcnn · protocol spec · data 00000000000000d1 · norm scope regime\n");
    const char *b = strstr(out, "## FD001 · model dcnn · protocol spec · data 00000000000000d2 · norm scope regime\n");
    cr_assert(a && b && c, "a section per data digest and scope expected:\n%s", out);
    cr_assert(a < c && c < b);
    int n = 0;
    for (const char *p = strstr(out, head); p; p = strstr(p + 1, head)) n++;
    cr_assert_eq(n, 3, "%d sections", n);
    char line[512];
    table_line(a, "uw", line, sizeof line);
    assert_contains(line, "30.00 ± —");
    assert_contains(a, "statistics per sensor), data 00000000000000d1,");
    table_line(c, "uw", line, sizeof line);
    assert_contains(line, "12.50 ± 0.71");
    assert_contains(c, "statistics per regime and sensor), data 00000000000000d1,");
    table_line(b, "uw", line, sizeof line);
    assert_contains(line, "20.00 ± —");
    assert_contains(b, "data 00000000000000d2,");
    /* the summary of the regime scope spans both data, and its columns say which is which */
    assert_contains(out, "## Summary · model dcnn · protocol spec · norm scope regime · subsets FD001 (data "
                         "00000000000000d1), FD001 (data 00000000000000d2)\n");
    assert_contains(out, "| FD001 (data 00000000000000d1) RMSE | FD001 (data 00000000000000d2) RMSE |");
    free(out);
    /* one plot file per setup, none written over another */
    char *err;
    snprintf(cmd, sizeof cmd, "%s report %s/results.h5 --svg %s/svg", MTL_BIN, dir, dir);
    cr_assert_eq(run_capture(cmd, &out, &err), 0, "%s", err);
    char svgdir[128];
    snprintf(svgdir, sizeof svgdir, "%s/svg", dir);
    static const char *const files[] = {"weights_FD001_dcnn_spec_00000000000000d1_global_uw.svg",
                                        "weights_FD001_dcnn_spec_00000000000000d1_regime_uw.svg",
                                        "weights_FD001_dcnn_spec_00000000000000d2_regime_uw.svg"};
    for (int i = 0; i < 3; i++) {
        char *s = read_svg(svgdir, files[i]);
        assert_contains(s, i == 0   ? "FD001 dcnn spec · data 00000000000000d1 · norm scope global uw: task weights"
                           : i == 1 ? "FD001 dcnn spec · data 00000000000000d1 · norm scope regime uw: task weights"
                                    : "FD001 dcnn spec · data 00000000000000d2 · norm scope regime uw: task weights");
        free(s);
    }
    free(out);
    free(err);
    rm_rf(dir);
}

/* --reference: one line per method against the runs of the same setup and method. */
Test(report, against_reference)
{
    char here[64], ref[64], cmd[512];
    th_tmpdir(here, sizeof here);
    th_tmpdir(ref, sizeof ref);
    run_record *v = calloc(5, sizeof *v);
    cr_assert_not_null(v);
    make_run(&v[0], "uw", 1, 12.0);
    make_run(&v[1], "uw", 2, 13.0);
    make_run(&v[2], "uw", 3, 14.0);
    make_run(&v[3], "fixed:0.5", 1, 11.0);
    make_run(&v[4], "uw", 1, 40.0); /* the same method on other data is not its reference */
    strcpy(v[4].data_digest, "00000000000000d2");
    for (int i = 0; i < 5; i++) run_config_id(&v[i], v[i].run_id);
    write_runs(ref, v, 5);
    free_runs(v, 5);
    v = calloc(2, sizeof *v);
    cr_assert_not_null(v);
    make_run(&v[0], "uw", 1, 12.61);
    make_run(&v[1], "uw-o", 1, 15.0);
    v[0].epochs = v[1].epochs = 5; /* epochs are not part of the setup */
    for (int i = 0; i < 2; i++) run_config_id(&v[i], v[i].run_id);
    write_runs(here, v, 2);
    free_runs(v, 2);
    snprintf(cmd, sizeof cmd, "%s report %s --reference %s/results.h5", MTL_BIN, here, ref);
    char *out;
    cr_assert_eq(run_capture(cmd, &out, NULL), 0);
    assert_contains(out, "## Against the reference results in ");
    assert_contains(out, "\nFD001 dcnn spec:\n");
    assert_contains(out, "    uw            12.61  (reference mean 13.00 ± 1.00, 3 seeds; -0.39)\n");
    assert_contains(out, "    uw-o          15.00  (no ok reference run of this setup and method)\n");
    free(out);
    /* a reference without runs is bad input */
    snprintf(cmd, sizeof cmd, "%s report %s --reference %s/nothing.h5 >/dev/null 2>&1", MTL_BIN, here, ref);
    cr_assert_eq(WEXITSTATUS(system(cmd)), 2);
    rm_rf(here);
    rm_rf(ref);
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
                                 "best_epoch,epochs_run,samples_per_s,ranks,threads,wall_s,run_id,delta_m\n";
    cr_assert_eq(strncmp(csv, header, strlen(header)), 0, "header: %.200s", csv);

    run_record *v = make_runs();
    char row[256];
    run_record *r = find(v, N_RUNS, "fixed:0.5", 1);
    /* no single-task runs here: delta_m is empty */
    snprintf(row, sizeof row, "\nFD001,fixed:0.5,1,ok,14,15,11,300,0.9,0.8,12.5,3,4,1000,1,2,12.5,%s,\n", r->run_id);
    assert_contains(csv, row);
    r = find(v, N_RUNS, "uw-so:1", 4);   /* NaN -> empty */
    snprintf(row, sizeof row, "\nFD001,uw-so:1,4,diverged,,,,,,,,3,2,1000,1,2,12.5,%s,\n", r->run_id);
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
    assert_contains(s, "fixed λ=0.5 (validation): 14.50");
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

/* ------------------------------------------------------------------ the analysis statistics */

/* Standard normal distribution function. */
static double phi_cdf(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

Test(stats, chi_square_tail)
{
    /* the 95% quantile of chi-square with 1 dof is 3.841459 (tables); with 1 dof the tail is
     * erfc(sqrt(x / 2)), with 2 dof e^(-x/2), with 4 dof e^(-x/2) (1 + x/2) */
    cr_assert_float_eq(report_chi2_sf(3.841459, 1), 0.05, 1e-6);
    for (double x = 0.25; x < 40; x *= 1.7) {
        cr_assert_float_eq(report_chi2_sf(x, 1), erfc(sqrt(x / 2)), 1e-12 + 1e-9 * erfc(sqrt(x / 2)), "x %g", x);
        cr_assert_float_eq(report_chi2_sf(x, 2), exp(-x / 2), 1e-12, "x %g", x);
        cr_assert_float_eq(report_chi2_sf(x, 4), exp(-x / 2) * (1 + x / 2), 1e-12, "x %g", x);
    }
    cr_assert_float_eq(report_gamma_q(1, 2.5), exp(-2.5), 1e-13);
    cr_assert_float_eq(report_chi2_sf(0, 3), 1.0, 0);
    cr_assert(isnan(report_chi2_sf(NAN, 3)));
    cr_assert(isnan(report_chi2_sf(1, 0)));
    cr_assert(isnan(report_gamma_q(-1, 1)));
}

Test(stats, holm)
{
    /* sorted 0.005, 0.01, 0.03, 0.04 (m = 4): 4 x 0.005 = 0.02, 3 x 0.01 = 0.03,
     * 2 x 0.03 = 0.06, max(0.06, 1 x 0.04) = 0.06; the NaN is left out of m */
    double p[] = {0.01, 0.04, 0.03, 0.005, NAN}, adj[5];
    cr_assert_eq(report_holm(p, 5, adj), 4);
    cr_assert_float_eq(adj[0], 0.03, 1e-15);
    cr_assert_float_eq(adj[1], 0.06, 1e-15);
    cr_assert_float_eq(adj[2], 0.06, 1e-15);
    cr_assert_float_eq(adj[3], 0.02, 1e-15);
    cr_assert(isnan(adj[4]));
    double big[] = {0.6, 0.5}, ab[2];
    report_holm(big, 2, ab);
    cr_assert_float_eq(ab[0], 1.0, 0);   /* capped at 1, and never below a smaller p's */
    cr_assert_float_eq(ab[1], 1.0, 0);

    /* against the definition, on pseudo-random p-values: adj_i = min(1, max over the p_j <= p_i
     * of (m - (number of p below p_j)) p_j) */
    unsigned x = 12345;
    for (int trial = 0; trial < 50; trial++) {
        int n = 1 + trial % 9;
        double q[9], a[9];
        for (int i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            q[i] = (x >> 8) / 16777216.0 * 0.2;
        }
        cr_assert_eq(report_holm(q, n, a), n);
        for (int i = 0; i < n; i++) {
            double want = 0;
            for (int j = 0; j < n; j++) {
                if (q[j] > q[i]) continue;
                int below = 0;
                for (int k = 0; k < n; k++) below += q[k] < q[j];
                double v = (n - below) * q[j];
                if (v > want) want = v;
            }
            cr_assert_float_eq(a[i], want < 1 ? want : 1, 1e-15, "trial %d, p %d", trial, i);
        }
    }
}

Test(stats, ranks_and_friedman)
{
    double v[] = {3, 1, 2, 2}, r[4];
    report_ranks(v, 4, r);
    cr_assert_float_eq(r[0], 4, 0);
    cr_assert_float_eq(r[1], 1, 0);
    cr_assert_float_eq(r[2], 2.5, 0);   /* tied: the mean of ranks 2 and 3 */
    cr_assert_float_eq(r[3], 2.5, 0);

    /* three methods in the same order in four blocks: R = (1, 2, 3), chi2 = 12 * 4 / (3 * 4) *
     * (1 + 4 + 9 - 3 * 16 / 4) = 8, p = e^(-8/2) with 2 dof */
    double m[4 * 3], mean[3], chi2, p;
    for (int b = 0; b < 4; b++) m[b * 3] = 10 + b, m[b * 3 + 1] = 11 + b, m[b * 3 + 2] = 12 + 2 * b;
    cr_assert_eq(report_friedman(m, 4, 3, mean, &chi2, &p), 0);
    cr_assert_float_eq(mean[0], 1, 1e-15);
    cr_assert_float_eq(mean[2], 3, 1e-15);
    cr_assert_float_eq(chi2, 8, 1e-12);
    cr_assert_float_eq(p, exp(-4), 1e-12);

    /* against the textbook form 12 / (N k (k + 1)) sum_j S_j^2 - 3 N (k + 1), with the rank
     * sums S_j counted directly, on pseudo-random blocks without ties */
    unsigned x = 777;
    for (int trial = 0; trial < 20; trial++) {
        int nb = 2 + trial % 7, k = 2 + trial % 5;
        double w[8 * 6], mr[6], S[6] = {0};
        for (int i = 0; i < nb * k; i++) {
            x = x * 1103515245u + 12345u;
            w[i] = (x >> 8) / 16777216.0;
        }
        for (int b = 0; b < nb; b++)
            for (int j = 0; j < k; j++) {
                int below = 0;
                for (int i = 0; i < k; i++) below += w[b * k + i] < w[b * k + j];
                S[j] += 1 + below;
            }
        double ss = 0;
        for (int j = 0; j < k; j++) ss += S[j] * S[j];
        double want = 12.0 / (nb * k * (k + 1.0)) * ss - 3.0 * nb * (k + 1);
        cr_assert_eq(report_friedman(w, nb, k, mr, &chi2, &p), 0);
        cr_assert_float_eq(chi2, want, 1e-9, "trial %d", trial);
        cr_assert_float_eq(mr[0], S[0] / nb, 1e-12);
        cr_assert_float_eq(p, report_chi2_sf(want, k - 1), 1e-12);
    }
    cr_assert_eq(report_friedman(m, 1, 3, mean, &chi2, &p), -1);   /* one block: no test */
    cr_assert(isnan(p));
}

/* P(range of k standard normals <= q), by the trapezoid rule on
 * k * integral phi(z) (Phi(z + q) - Phi(z))^(k - 1) dz. */
static double range_cdf(double q, int k)
{
    double s = 0, h = 0.002;
    for (double z = -9; z <= 9; z += h) {
        double d = exp(-0.5 * z * z) / sqrt(2 * 3.14159265358979323846) * pow(phi_cdf(z + q) - phi_cdf(z), k - 1);
        s += d * h;
    }
    return k * s;
}

Test(stats, nemenyi)
{
    /* the table is q_0.05 of the studentized range (infinite dof) over sqrt 2: the range of k
     * standard normals stays below q sqrt 2 with probability 0.95 (up to the table's rounding) */
    for (int k = 2; k <= 20; k++) {
        double q = report_nemenyi_q05(k);
        cr_assert(isfinite(q), "k %d", k);
        cr_assert_float_eq(range_cdf(q * sqrt(2.0), k), 0.95, 4e-4, "k %d: q %g", k, q);
    }
    cr_assert_float_eq(report_nemenyi_q05(2), 1.960, 0);     /* Demšar 2006, table 5a */
    cr_assert_float_eq(report_nemenyi_q05(10), 3.164, 0);
    cr_assert(isnan(report_nemenyi_q05(1)));
    cr_assert(isnan(report_nemenyi_q05(21)));
    /* k = 3 over 4 blocks: 2.343 sqrt(12 / 24) */
    cr_assert_float_eq(report_nemenyi_cd(3, 4), 2.343 * sqrt(0.5), 1e-12);
}

Test(stats, delta_m)
{
    /* 50 (-(14 - 12) / 12 + (0.72 - 0.8) / 0.8) = 50 (-1/6 - 1/10) = -13.333 */
    cr_assert_float_eq(report_delta_m(14, 0.72, 12, 0.8), -40.0 / 3, 1e-12);
    cr_assert_float_eq(report_delta_m(12, 0.8, 12, 0.8), 0, 1e-15);
    cr_assert_float_eq(report_delta_m(9, 0.88, 12, 0.8), 50 * (0.25 + 0.1), 1e-12);   /* better in both */
    cr_assert(isnan(report_delta_m(12, 0.8, 0, 0.8)));
    cr_assert(isnan(report_delta_m(12, 0.8, 12, NAN)));
}

Test(methods, tuned_families_and_single_tasks)
{
    /* every method with an argument names it: the report's grids are the registry's */
    int tuned = 0;
    for (const weighting_method *const *m = weighting_registry(); *m; m++) {
        cr_assert_eq((*m)->arg != 0, (*m)->arg_sym != NULL, "%s", (*m)->name);
        tuned += (*m)->arg != 0;
    }
    cr_assert_eq(tuned, 4);   /* fixed:λ, uw-so:T, dwa:T, gradnorm:α */
    const char *spec[] = {"fixed:1", "fixed:0", "fixed:0.5", "uw", "gradnorm"};
    const int only[] = {0, 1, -1, -1, -1};
    for (int i = 0; i < 5; i++) {
        weighting w;
        mtl_err err;
        cr_assert_eq(weighting_parse(spec[i], &w, &err), 0, "%s", err.msg);
        cr_assert_eq(weighting_only_task(&w), only[i], "%s", spec[i]);
    }
}

/* ------------------------------------------------------------------ the analysis in the report
 *
 * FD001, seeds 1 and 2 (test RMSE, macro-F1, validation RMSE, equal for both seeds unless
 * two values are given):
 *   fixed:1    12.0          F1 0.30   val 10.0    single-task RUL: RMSE_b = 12
 *   fixed:0    80.0          F1 0.80   val 70.0    single-task health: F1_b = 0.80
 *   fixed:0.3  13.0          F1 0.70   val 11.0    lowest test RMSE of the λ: the test oracle
 *   fixed:0.7  14.0          F1 0.72   val 10.5    lowest validation RMSE: the chosen λ
 *   uw         13.1 / 14.1   F1 0.76   val 11.0
 *   gls        15.0          F1 0.70   val 12.0
 * Δm: fixed:0.7 50 (-2/12 - 0.08/0.8) = -13.33; fixed:0.3 50 (-1/12 - 0.1/0.8) = -10.42;
 *     uw per seed 50 (-1.1/12 - 0.05) = -7.083 and 50 (-2.1/12 - 0.05) = -11.25: mean -9.17,
 *     sd 4.1667 / sqrt 2 = 2.95.
 * vs fixed:0.7: fixed:0.3 -1, -1 (sd 0: p = 0); uw -0.9, +0.1: mean -0.4, sd 1/sqrt 2,
 *     t = -0.8 with 1 dof: p = 1 - (2/pi) atan 0.8 = 0.5704; gls +1, +1 (p = 0). Holm over
 *     the three: 0, 0, 0.5704.
 * Best overall: uw (13.6) among fixed:0.7 (the chosen λ), uw and gls; fixed:0.3 (13.0) is not
 * a candidate. Non-dominated (RMSE, F1): fixed:0.3 (lowest RMSE) and uw (highest F1).
 * Cost: 12.5 s a run: the λ family 2 settings x 2 seeds = 50 s, uw 25 s.
 *
 * FD002 (for the summary), the same but fixed:0.3 16.0 F1 0.72 val 12.0 (now chosen),
 * fixed:0.7 15.0 val 13.0, uw 17.0, gls 15.5. Per subset ranks of (fixed:λ, uw, gls):
 * FD001 (2, 1, 3), FD002 (2, 3, 1): mean 2, 2, 2. Per block: FD001 seed 1 (2, 1, 3), seed 2
 * (1, 2, 3), FD002 (2, 3, 1) twice: mean ranks 1.75, 2.25, 2.00; Friedman chi2 = 12 * 4 /
 * (3 * 4) (1.75^2 + 2.25^2 + 2^2 - 12) = 0.5, p = e^(-0.25) = 0.7788; CD = 2.343 sqrt(1/2) =
 * 1.66. Δm of the chosen λ: FD001 -13.33, FD002 50 (-4/12 - 0.08/0.8) = -21.67: mean -17.50. */

typedef struct {
    const char *subset, *method;
    double rmse[2], f1, val;
} analysis_run;

static const analysis_run ANALYSIS[] = {
    {"FD001", "fixed:1", {12.0, 12.0}, 0.30, 10.0},   {"FD001", "fixed:0", {80.0, 80.0}, 0.80, 70.0},
    {"FD001", "fixed:0.3", {13.0, 13.0}, 0.70, 11.0}, {"FD001", "fixed:0.7", {14.0, 14.0}, 0.72, 10.5},
    {"FD001", "uw", {13.1, 14.1}, 0.76, 11.0},        {"FD001", "gls", {15.0, 15.0}, 0.70, 12.0},
    {"FD002", "fixed:1", {12.0, 12.0}, 0.30, 10.0},   {"FD002", "fixed:0", {80.0, 80.0}, 0.80, 70.0},
    {"FD002", "fixed:0.3", {16.0, 16.0}, 0.72, 12.0}, {"FD002", "fixed:0.7", {15.0, 15.0}, 0.72, 13.0},
    {"FD002", "uw", {17.0, 17.0}, 0.76, 11.0},        {"FD002", "gls", {15.5, 15.5}, 0.70, 12.0},
};
#define N_ANALYSIS ((int)(sizeof ANALYSIS / sizeof ANALYSIS[0]))

/* The runs above of the subsets named in `subsets` (e.g. "FD001"), into v (room for
 * 2 N_ANALYSIS), under the spec protocol or, with no_val, under li2018 (no validation
 * units), each with its run id. Returns the run count. */
static int analysis_runs(run_record *v, const char *subsets, int no_val)
{
    int k = 0;
    for (int i = 0; i < N_ANALYSIS; i++) {
        if (!strstr(subsets, ANALYSIS[i].subset)) continue;
        for (int s = 0; s < 2; s++) {
            run_record *r = &v[k++];
            make_run(r, ANALYSIS[i].method, s + 1, ANALYSIS[i].rmse[s]);
            strcpy(r->subset, ANALYSIS[i].subset);
            r->f1 = ANALYSIS[i].f1;
            r->best_val_rmse = ANALYSIS[i].val;
            if (no_val) {
                strcpy(r->protocol, "li2018");
                strcpy(r->norm, "minmax");
                r->val_frac = 0;
            }
            run_config_id(r, r->run_id);
        }
    }
    return k;
}

/* A folder with those runs. Returns the run count. */
static int analysis_dir(char *dir, size_t n, const char *subsets, int no_val)
{
    th_tmpdir(dir, n);
    run_record *v = calloc(N_ANALYSIS * 2, sizeof *v);
    cr_assert_not_null(v);
    int k = analysis_runs(v, subsets, no_val);
    write_runs(dir, v, k);
    free_runs(v, k);
    return k;
}

/* Runs `mtlbench report DIR ARGS`, which must succeed; returns its stdout, its stderr in *err. */
static char *report_ok(const char *dir, const char *args, char **err)
{
    char cmd[1024], *out;
    snprintf(cmd, sizeof cmd, "%s report %s %s", MTL_BIN, dir, args);
    cr_assert_eq(run_capture(cmd, &out, err), 0, "%s: stderr: %s", cmd, *err);
    return out;
}

Test(report, validation_chooses_not_test)
{
    char dir[64];
    analysis_dir(dir, sizeof dir, "FD001", 0);
    char *err, *out = report_ok(dir, "", &err);
    char line[1024];
    table_line(out, "fixed:0.7", line, sizeof line);
    assert_contains(line, "**best λ** (validation)");
    assert_contains(line, "reference");
    assert_contains(line, "-13.33 ± 0.00");
    assert_contains(line, "50.0 s (4 runs)");
    cr_assert_null(strstr(line, "best overall"));
    cr_assert_null(strstr(line, "non-dominated"));
    table_line(out, "fixed:0.3", line, sizeof line);
    assert_contains(line, "oracle λ (test)");
    cr_assert_null(strstr(line, "**best λ**"));
    assert_contains(line, "-1.00 (Holm p<0.0001, n=2)");
    assert_contains(line, "-10.42 ± 0.00");
    assert_contains(line, "non-dominated");
    table_line(out, "uw", line, sizeof line);
    assert_contains(line, "-0.40 (Holm p=0.5704, n=2)");
    assert_contains(line, "-9.17 ± 2.95");
    assert_contains(line, "**best overall**");
    assert_contains(line, "non-dominated");
    assert_contains(line, "25.0 s (2 runs)");
    table_line(out, "gls", line, sizeof line);
    assert_contains(line, "+1.00 (Holm p<0.0001, n=2)");
    cr_assert_null(strstr(line, "non-dominated"));
    table_line(out, "fixed:1", line, sizeof line);
    assert_contains(line, "single-task: RUL only");
    assert_contains(line, "baseline");
    assert_contains(line, "| fixed:1   |    — |");   /* not ranked among the multi-task methods */
    table_line(out, "fixed:0", line, sizeof line);
    assert_contains(line, "single-task: health only");
    assert_contains(out, "Chosen on validation (lowest mean validation RMSE): `fixed:0.7` (of 2 settings). The "
                         "test oracle, for information only, would have taken `fixed:0.3`.");
    assert_contains(out, "Holm–Bonferroni");
    assert_contains(out, "Δm = ½ [−(RMSE − RMSE_b) / RMSE_b + (F1 − F1_b) / F1_b] × 100 %");
    free(out);
    free(err);

    /* the CSV carries Δm per run: uw seed 2 is 50 (-2.1/12 - 0.05) = -11.25 */
    char args[256];
    snprintf(args, sizeof args, "--csv %s/runs.csv", dir);
    out = report_ok(dir, args, &err);
    char path[256];
    snprintf(path, sizeof path, "%s/runs.csv", dir);
    mtl_err e;
    size_t len;
    char *csv = mtl_read_file(path, &len, &e);
    cr_assert_not_null(csv, "%s", e.msg);
    assert_contains(csv, "\nFD001,uw,2,ok,14.1,");
    const char *row = strstr(csv, "\nFD001,uw,2,ok,14.1,");
    const char *last = row + strcspn(row + 1, "\n");
    while (last > row && *last != ',') last--;
    cr_assert_float_eq(strtod(last + 1, NULL), -11.25, 1e-8, "row %.200s", row);
    assert_contains(csv, "\nFD001,fixed:1,1,ok,");   /* a baseline has no Δm of its own */
    row = strstr(csv, "\nFD001,fixed:1,1,ok,");
    cr_assert_eq(row[strcspn(row + 1, "\n")], ',', "row %.200s", row);
    free(csv);
    free(out);
    free(err);
    rm_rf(dir);
}

Test(report, no_validation_marks_nothing)
{
    char dir[64];
    analysis_dir(dir, sizeof dir, "FD001", 1);
    char *err, *out = report_ok(dir, "", &err);
    assert_contains(out, "## FD001 · model dcnn · protocol li2018");
    assert_contains(out, "no validation units (val_frac 0): no setting of a tuned family is chosen, nothing is "
                         "marked best");
    const char *legend = strstr(out, "_Columns:");
    cr_assert_not_null(legend);
    char *body = strndup(out, (size_t)(legend - out));
    cr_assert_not_null(body);
    cr_assert_null(strstr(body, "**"), "nothing in bold:\n%s", body);
    free(body);
    cr_assert_null(strstr(out, "oracle λ (test)"));
    char line[1024];
    table_line(out, "uw", line, sizeof line);
    assert_contains(line, "n/a (no validation)");
    assert_contains(line, "-9.17 ± 2.95");   /* Δm does not need a choice */
    table_line(out, "fixed:0.7", line, sizeof line);
    assert_contains(line, "25.0 s (2 runs)");   /* nothing is chosen, so no grid is paid for */
    /* the summary lists every setting, none in bold */
    const char *sum = strstr(out, "## Summary");
    cr_assert_not_null(sum);
    table_line(sum, "fixed:0.3", line, sizeof line);
    table_line(sum, "fixed:0.7", line, sizeof line);
    cr_assert_null(strstr(sum, "(validation)"));
    free(out);
    free(err);
    rm_rf(dir);
}

Test(report, summary_across_subsets)
{
    char dir[64];
    analysis_dir(dir, sizeof dir, "FD001 FD002", 0);
    char *err, *out = report_ok(dir, "", &err);
    const char *sum = strstr(out, "## Summary · model dcnn · protocol spec · subsets FD001, FD002");
    cr_assert_not_null(sum, "%s", out);
    assert_contains(sum, "FD001 RMSE |    FD002 RMSE |       Δm % | mean rank (subsets) | mean rank (blocks) |");
    char line[1024];
    table_line(sum, "fixed:λ (validation)", line, sizeof line);
    assert_contains(line, "| 14.00 (λ=0.7) | 16.00 (λ=0.3) |");
    assert_contains(line, "-17.50");
    assert_contains(line, "**2.00**");   /* all three tie over the subsets */
    assert_contains(line, "**1.75**");                   /* the lowest mean rank over the blocks */
    assert_contains(line, "1.7 min (8 runs)");          /* 2 subsets x 2 λ x 2 seeds x 12.5 s */
    table_line(sum, "uw", line, sizeof line);
    assert_contains(line, "**13.60**");                 /* the lowest FD001 mean */
    assert_contains(line, "**-16.25**");   /* Δm: FD001 -9.17, FD002 50 (-5/12 - 0.05) = -23.33 */
    assert_contains(line, " 2.25 |");
    table_line(sum, "gls", line, sizeof line);
    assert_contains(line, "**15.50**");
    assert_contains(line, " 2.00 |");
    assert_contains(line, "-19.79");   /* 50 (-3/12 - 0.125) = -18.75, 50 (-3.5/12 - 0.125) = -20.83 */
    assert_contains(sum, "Friedman test over 4 blocks (subset, seed) of the 3 methods present in every subset: "
                         "χ² = 0.50, 2 degrees of freedom, p = 0.7788.");
    assert_contains(sum, "CD = 1.66");
    cr_assert_null(strstr(sum, "\n| fixed:1 "), "single-task runs are not ranked");
    free(out);
    free(err);
    rm_rf(dir);
}

/* ------------------------------------------------------------------ well-formed XML */

/* Checks that s is well-formed XML (markup balanced, attributes quoted, only the five XML
 * entities and character references) and counts the elements named `name` into *count.
 * Returns NULL when well-formed, else what is wrong. */
static const char *xml_check(const char *s, const char *name, int *count)
{
    static char why[160];
    char stack[128][32];
    int depth = 0;
    *count = 0;
    for (const char *p = s; *p;) {
        if (*p == '&') {
            static const char *const ent[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
            int ok = p[1] == '#' && strchr(p, ';') && strspn(p + 2, "0123456789") == (size_t)(strchr(p, ';') - p - 2);
            for (int i = 0; i < 5; i++) ok |= strncmp(p, ent[i], strlen(ent[i])) == 0;
            if (!ok) return snprintf(why, sizeof why, "bad entity at '%.20s'", p), why;
            p++;
            continue;
        }
        if (*p != '<') {
            p++;
            continue;
        }
        const char *end = NULL;
        if (strncmp(p, "<?", 2) == 0) end = strstr(p, "?>"), end = end ? end + 2 : NULL;
        else if (strncmp(p, "<!--", 4) == 0) end = strstr(p, "-->"), end = end ? end + 3 : NULL;
        else if (strncmp(p, "<!DOCTYPE", 9) == 0) end = strchr(p, '>'), end = end ? end + 1 : NULL;
        if (p[1] == '?' || p[1] == '!') {
            if (!end) return "unterminated declaration";
            p = end;
            continue;
        }
        int closing = p[1] == '/';
        const char *q = p + 1 + closing;
        size_t nl = strspn(q, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-");
        if (nl == 0 || nl >= 32) return snprintf(why, sizeof why, "bad tag at '%.20s'", p), why;
        char tag[32];
        memcpy(tag, q, nl);
        tag[nl] = '\0';
        q += nl;
        if (closing) {
            q += strspn(q, " \t\n");
            if (*q != '>') return "bad closing tag";
            if (depth == 0 || strcmp(stack[depth - 1], tag) != 0)
                return snprintf(why, sizeof why, "</%s> closes <%s>", tag, depth ? stack[depth - 1] : "nothing"), why;
            depth--;
            p = q + 1;
            continue;
        }
        for (;;) {   /* attributes */
            q += strspn(q, " \t\n");
            if (*q == '>' || (q[0] == '/' && q[1] == '>')) break;
            size_t al = strspn(q, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_-");
            if (al == 0 || q[al] != '=' || (q[al + 1] != '"' && q[al + 1] != '\''))
                return snprintf(why, sizeof why, "bad attribute in <%s> at '%.20s'", tag, q), why;
            char quote = q[al + 1];
            const char *v = q + al + 2, *ve = strchr(v, quote);
            if (!ve || memchr(v, '<', (size_t)(ve - v))) return "unterminated attribute value";
            q = ve + 1;
        }
        *count += strcmp(tag, name) == 0;
        if (*q == '>') {
            if (depth == 128) return "nested too deeply";
            strcpy(stack[depth++], tag);
            p = q + 1;
        } else {
            p = q + 2;
        }
    }
    if (depth) return snprintf(why, sizeof why, "<%s> is never closed", stack[depth - 1]), why;
    return NULL;
}

/* The file dir/name, which must be well-formed XML with `want` elements `name` (want < 0:
 * any number). */
static char *read_xml(const char *dir, const char *file, const char *name, int want)
{
    char *s = read_in(dir, file);
    int n;
    const char *why = xml_check(s, name, &n);
    cr_assert_null(why, "%s is not well-formed: %s", file, why ? why : "");
    if (want >= 0) cr_assert_eq(n, want, "%s: %d <%s>, expected %d", file, n, name, want);
    cr_assert_null(strstr(s, "nan"), "a NaN in %s", file);
    return s;
}

Test(xml, checker_refuses_bad_markup)
{
    int n;
    cr_assert_null(xml_check("<?xml version=\"1.0\"?>\n<a x=\"1\"><b/><b>t &amp; u</b></a>", "b", &n));
    cr_assert_eq(n, 2);
    cr_assert_not_null(xml_check("<a><b></a></b>", "b", &n));
    cr_assert_not_null(xml_check("<a x=1></a>", "a", &n));
    cr_assert_not_null(xml_check("<a>&nbsp;</a>", "a", &n));
    cr_assert_not_null(xml_check("<a>", "a", &n));
}

Test(report, pareto_and_cd_plots)
{
    char dir[64], svgdir[128];
    analysis_dir(dir, sizeof dir, "FD001 FD002", 0);
    snprintf(svgdir, sizeof svgdir, "%s/svg", dir);
    char args[256];
    snprintf(args, sizeof args, "--svg %s", svgdir);
    char *err, *out = report_ok(dir, args, &err);
    const char *sub[] = {"FD001", "FD002"};
    for (int i = 0; i < 2; i++) {
        char name[96];
        snprintf(name, sizeof name, "pareto_%s_dcnn_spec.svg", sub[i]);
        assert_contains(err, name);
        /* one polyline: the front of fixed:0.3 and fixed:0.7 */
        char *s = read_xml(svgdir, name, "polyline", 1);
        assert_contains(s, "fixed:λ (λ order)");
        assert_contains(s, "fixed:1 (RUL only): RMSE 12.00");
        assert_contains(s, "fixed:0 (health only): F1 0.800");
        assert_contains(s, "non-dominated");
        assert_contains(s, ">uw<");
        assert_contains(s, ">gls<");
        assert_contains(s, "health macro-F1");
        free(s);
    }
    char *s = read_xml(svgdir, "cd_dcnn_spec.svg", "svg", 1);
    assert_contains(s, "CD = 1.66");
    assert_contains(s, "fixed:λ (validation) (1.75)");
    assert_contains(s, "uw (2.25)");
    assert_contains(s, "gls (2.00)");
    free(s);
    free(out);
    free(err);
    rm_rf(dir);
}

/* Two training setups of one model and protocol (the same runs under both norm scopes):
 * their summaries, diagrams, diagram files and reference lines name the scope. */
Test(report, training_setups_of_one_name_are_named_apart)
{
    char dir[64], svgdir[128];
    th_tmpdir(dir, sizeof dir);
    run_record *v = calloc(N_ANALYSIS * 4, sizeof *v);
    cr_assert_not_null(v);
    int k = analysis_runs(v, "FD001 FD002", 0);
    int k2 = analysis_runs(v + k, "FD001 FD002", 0);
    for (int i = k; i < k + k2; i++) {
        strcpy(v[i].norm_scope, "global");
        v[i].rmse += 1;
        run_config_id(&v[i], v[i].run_id);
    }
    write_runs(dir, v, k + k2);
    free_runs(v, k + k2);
    snprintf(svgdir, sizeof svgdir, "%s/svg", dir);
    char args[512];
    snprintf(args, sizeof args, "--svg %s --reference %s/results.h5", svgdir, dir);
    char *err, *out = report_ok(dir, args, &err);
    assert_contains(out, "## Summary · model dcnn · protocol spec · norm scope global · subsets FD001, FD002\n");
    assert_contains(out, "## Summary · model dcnn · protocol spec · norm scope regime · subsets FD001, FD002\n");
    assert_contains(out, "\nFD001 dcnn spec · norm scope global:\n");
    assert_contains(out, "\nFD002 dcnn spec · norm scope regime:\n");
    static const char *const scope[] = {"global", "regime"};
    for (int i = 0; i < 2; i++) {
        char name[96], title[96];
        snprintf(name, sizeof name, "cd_dcnn_spec_%s.svg", scope[i]);
        snprintf(title, sizeof title, "dcnn spec · norm scope %s: mean ranks", scope[i]);
        char *s = read_xml(svgdir, name, "svg", 1);
        assert_contains(s, title);
        free(s);
        snprintf(name, sizeof name, "pareto_FD002_dcnn_spec_%s.svg", scope[i]);
        free(read_xml(svgdir, name, "svg", 1));
    }
    free(out);
    free(err);
    rm_rf(dir);
}

Test(report, html_page)
{
    char dir[64], cmd[512];
    analysis_dir(dir, sizeof dir, "FD001 FD002", 0);
    char args[256];
    snprintf(args, sizeof args, "--html %s/report.html", dir);
    char *err, *out = report_ok(dir, args, &err);
    assert_contains(err, "report.html");
    /* two setup tables and the summary; per setup a Pareto plot and one weights plot per
     * method but fixed:λ (uw, gls), and the critical-difference diagram */
    char *s = read_xml(dir, "report.html", "table", 3);
    int n;
    cr_assert_null(xml_check(s, "svg", &n));
    cr_assert_eq(n, 2 * 3 + 1, "%d plots", n);
    cr_assert_null(xml_check(s, "figure", &n));
    cr_assert_eq(n, 2 * 3 + 1);
    assert_contains(s, "<!DOCTYPE html>");
    assert_contains(s, "<h2>FD001 · model dcnn · protocol spec</h2>");
    assert_contains(s, "<h2>Summary · model dcnn · protocol spec · subsets FD001, FD002</h2>");
    assert_contains(s, "<strong>best λ</strong> (validation)");
    assert_contains(s, "pareto_FD002_dcnn_spec.svg");
    assert_contains(s, "cd_dcnn_spec.svg");
    assert_contains(s, "Configuration: model dcnn, protocol spec");
    assert_contains(s, "commits test; versions 0.1.0; hosts localhost; started 2024-01-01T00:00:00Z");
    cr_assert_null(strstr(s, "<script"));
    cr_assert_null(strstr(s, "<?xml"), "the plots are embedded without their XML declaration");
    free(s);
    free(out);
    free(err);
    /* an HTML file that cannot be written: status 2, nothing left behind */
    snprintf(cmd, sizeof cmd, "%s report %s --html %s/no/such/dir/r.html", MTL_BIN, dir, dir);
    cr_assert_eq(run_capture(cmd, &out, &err), 2);
    assert_contains(err, "r.html");
    free(out);
    free(err);
    snprintf(cmd, sizeof cmd, "%s report %s --html ''", MTL_BIN, dir);
    cr_assert_eq(run_capture(cmd, &out, &err), 2);
    free(out);
    free(err);
    rm_rf(dir);
}

Test(report, single_task_runs_only)
{
    char dir[64];
    th_tmpdir(dir, sizeof dir);
    run_record *v = calloc(2, sizeof *v);
    cr_assert_not_null(v);
    make_run(&v[0], "fixed:1", 1, 12.0);
    make_run(&v[1], "fixed:0", 1, 80.0);
    write_runs(dir, v, 2);
    free_runs(v, 2);
    char args[256];
    snprintf(args, sizeof args, "--svg %s/svg", dir);
    char *err, *out = report_ok(dir, args, &err);
    char line[1024];
    table_line(out, "fixed:1", line, sizeof line);
    assert_contains(line, "| baseline |");
    assert_contains(line, "single-task");
    cr_assert_null(strstr(out, "## Summary"), "nothing to rank:\n%s", out);
    cr_assert_null(strstr(err, "pareto_"), "no trade-off to draw:\n%s", err);
    free(out);
    free(err);
    rm_rf(dir);
}
