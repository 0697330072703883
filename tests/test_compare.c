/* Tests of `mtlbench compare --distribution` (src/report.c), run as the real program on
 * small results files built here, and of the Welch t-test directly.
 *
 * The baseline: FD001, dcnn, spec, seeds 1-5, host nodeA, 1 rank x 2 threads.
 *   uw         rmse 14.0 14.5 15.0 15.5 16.0   mean 15, deviations -1 -.5 0 .5 1: sum of
 *              squares 2.5, sd sqrt(2.5 / 4) = 0.790569; tolerance 0.05 * 15 = 0.75
 *              acc  0.90 0.91 0.92 0.93 0.94   mean 0.92, sd 0.0158114
 *              samples/s 1000 1010 990 1005 995   mean 1000, sd sqrt(250 / 4) = 7.90569
 *   fixed:0.5  rmse 15.00 15.01 15.02 15.03 15.04   mean 15.02, sd 0.0158114
 *   uw-o       rmse 10 20 15 12 18   mean 15, deviations -5 5 0 -3 3: sd sqrt(68 / 4) = 4.12311
 * A shift of d of the whole distribution (same spread), 5 runs a side:
 *   Welch t = d / sqrt(2 sd² / 5), dof = (2v)² / (2 v² / 4) = 8. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "report.h"
#include "results.h"
#include "run_fixture.h"

#define N_SEEDS 5
static const double UW_RMSE[N_SEEDS] = {14.0, 14.5, 15.0, 15.5, 16.0};
static const double UW_ACC[N_SEEDS] = {0.90, 0.91, 0.92, 0.93, 0.94};
static const double SPS[N_SEEDS] = {1000, 1010, 990, 1005, 995};
static const double FIXED_RMSE[N_SEEDS] = {15.00, 15.01, 15.02, 15.03, 15.04};
static const double UWO_RMSE[N_SEEDS] = {10, 20, 15, 12, 18};
#define UW_SD 0.7905694150420949

static void make_run(run_record *r, const char *method, long seed, double rmse)
{
    th_run(r, method, seed, rmse);
    r->epochs = 100;
    r->window = 30;
    r->batch = 512;
    r->lr = 0.001;
    r->dropout = 0.5;
    run_config_id(r, r->run_id);
    /* what compare reads: status, host and layout, the metrics (the rest stays zero) */
    strcpy(r->host, "nodeA");
    r->ranks = 1;
    r->threads = 2;
    r->rmse_uncapped = rmse + 1;
    r->mae = rmse - 3;
    r->score = 300;
    r->acc = 0.92;
    r->f1 = 0.85;
    r->samples_per_s = SPS[(seed - 1) % N_SEEDS];
}

/* The baseline's 15 runs. */
typedef struct {
    run_record v[3 * N_SEEDS];
    int n;
} run_set;

static void baseline(run_set *s)
{
    s->n = 0;
    for (int i = 0; i < N_SEEDS; i++) {
        run_record *r = &s->v[s->n++];
        make_run(r, "uw", i + 1, UW_RMSE[i]);
        r->acc = UW_ACC[i];
        make_run(&s->v[s->n++], "fixed:0.5", i + 1, FIXED_RMSE[i]);
        make_run(&s->v[s->n++], "uw-o", i + 1, UWO_RMSE[i]);
    }
}

static run_record *find(run_set *s, const char *method, long seed)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->v[i].method, method) == 0 && s->v[i].seed == seed) return &s->v[i];
    cr_assert_fail("no run %s seed %ld", method, seed);
    return NULL;
}

static void shift(run_set *s, const char *method, double d)
{
    for (int i = 1; i <= N_SEEDS; i++) find(s, method, i)->rmse += d;
}

/* Writes the set into a fresh folder (results.h5); the folder's path in dir. */
static void write_set(const run_set *s, char *dir, size_t n)
{
    th_tmpdir(dir, n);
    char path[512];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    mtl_err err;
    cr_assert_eq(results_write_all(path, s->v, s->n, &err), 0, "%s", err.msg);
}

static char base_dir[256];

static void setup_base(void)
{
    run_set s;
    baseline(&s);
    write_set(&s, base_dir, sizeof base_dir);
}

static void rm_base(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base_dir);
    th_system(cmd);
}

/* Runs compare (options opts) of the baseline against s; returns the status, output in *out. */
static int compare_with(const run_set *s, const char *opts, char **out)
{
    char dir[256], cmd[1024];
    write_set(s, dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "%s compare %s %s %s", MTL_BIN, opts, base_dir, dir);
    int rc = run_capture(cmd, out, NULL);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    th_system(cmd);
    return rc;
}

static void assert_contains(const char *hay, const char *needle)
{
    cr_assert_not_null(strstr(hay, needle), "expected '%s' in:\n%s", needle, hay);
}

/* ------------------------------------------------------------------ the test itself */

Test(welch, hand_values)
{
    double t, dof;
    /* means 0 and 1.5, sd 1 (n 4) and 2 (n 8): v = 1/4 and 1/2, t = 1.5 / sqrt(3/4) = sqrt 3,
     * dof = (3/4)² / ((1/4)²/3 + (1/2)²/7) = 189/19 */
    cr_assert_eq(report_welch_t(0, 1, 4, 1.5, 2, 8, &t, &dof), 0);
    cr_assert_float_eq(t, sqrt(3.0), 1e-12);
    cr_assert_float_eq(dof, 189.0 / 19.0, 1e-12);
    /* equal spreads and sizes: dof = 2 (n - 1) */
    cr_assert_eq(report_welch_t(15, UW_SD, 5, 15 + 3 * UW_SD, UW_SD, 5, &t, &dof), 0);
    cr_assert_float_eq(t, 3 * UW_SD / 0.5, 1e-12);   /* sqrt(2 * 0.625 / 5) = 0.5 */
    cr_assert_float_eq(dof, 8, 1e-12);
    /* no spread at all */
    cr_assert_eq(report_welch_t(2, 0, 3, 2, 0, 3, &t, &dof), 0);
    cr_assert_float_eq(t, 0, 1e-15);
    cr_assert_eq(report_welch_t(2, 0, 3, 2.5, 0, 3, &t, &dof), 0);
    cr_assert(isinf(t) && t > 0);
    cr_assert_eq(report_welch_t(2, 0, 3, 1.5, 0, 3, &t, &dof), 0);
    cr_assert(isinf(t) && t < 0);
    /* too few values or bad input */
    cr_assert_eq(report_welch_t(0, 1, 1, 1, 1, 5, &t, &dof), -1);
    cr_assert(isnan(t) && isnan(dof));
    cr_assert_eq(report_welch_t(NAN, 1, 3, 1, 1, 5, &t, &dof), -1);
    cr_assert_eq(report_welch_t(0, -1, 3, 1, 1, 5, &t, &dof), -1);
}

Test(welch, one_sided_quantiles_from_tables)
{
    /* t tables: the 0.99 quantile of t(8) is 2.896, the 0.995 quantile of t(4) is 4.604 */
    cr_assert_float_eq(1 - report_t_cdf(2.896, 8), 0.01, 1e-4);
    cr_assert_float_eq(1 - report_t_cdf(4.604, 4), 0.005, 1e-4);
    /* 3 sd shift, 5 a side: t = 4.7434, dof 8 -> one-sided p = 0.000729 */
    cr_assert_float_eq(1 - report_t_cdf(3 * UW_SD / 0.5, 8), 0.000729, 1e-6);
}

TestSuite(distribution, .init = setup_base, .fini = rm_base);

Test(distribution, equal_distributions_pass)
{
    /* the same values under other seeds: every single run differs, the distributions do not */
    run_set s;
    baseline(&s);
    for (int i = 0; i < N_SEEDS; i++) {
        find(&s, "uw", i + 1)->rmse = UW_RMSE[N_SEEDS - 1 - i];
        find(&s, "uw-o", i + 1)->rmse = UWO_RMSE[(i + 2) % N_SEEDS];
    }
    char *out;
    cr_assert_eq(compare_with(&s, "", &out), 1, "%s", out);   /* run by run: 14 -> 16 is a regression */
    assert_contains(out, "REGRESSION");
    free(out);
    cr_assert_eq(compare_with(&s, "--distribution", &out), 0, "%s", out);
    assert_contains(out, "compare: 3 groups checked, 0 regressions, 0 missing, 0 with too few seeds (0 improved, 0 new;"
                         " rtol 0.05, atol 0, alpha 0.01)");
    cr_assert_null(strstr(out, "REGRESSION"), "%s", out);
    free(out);
}

Test(distribution, shift_of_three_sd_fails)
{
    run_set s;
    baseline(&s);
    shift(&s, "uw", 3 * UW_SD);
    char *out;
    cr_assert_eq(compare_with(&s, "--distribution --metrics rmse", &out), 1, "%s", out);
    /* +2.3717 = +15.8 %; t = 4.74, dof 8, p = 0.000729 */
    assert_contains(out, "REGRESSION FD001 dcnn spec uw (5 vs 5 seeds): rmse 15.00 ± 0.79 -> 17.37 ± 0.79 "
                         "(+15.8%, tolerance 0.75; Welch t 4.74, dof 8.0, one-sided p 0.00073)\n");
    assert_contains(out, "compare: 3 groups checked, 1 regressions, 0 missing");
    free(out);
    /* the same shift is not significant at a level below its p-value */
    cr_assert_eq(compare_with(&s, "--distribution --metrics rmse --alpha 0.0005", &out), 0, "%s", out);
    free(out);
}

Test(distribution, shift_within_tolerance_passes)
{
    /* fixed:0.5 moves by 0.5 (3.3 %): significant (t = 0.5 / 0.01 = 50) but within 5 % */
    run_set s;
    baseline(&s);
    shift(&s, "fixed:0.5", 0.5);
    char *out;
    cr_assert_eq(compare_with(&s, "--distribution", &out), 0, "%s", out);
    free(out);
    /* tolerance 2 %: 0.3004 < 0.5 */
    cr_assert_eq(compare_with(&s, "--distribution --rtol 0.02", &out), 1, "%s", out);
    assert_contains(out, "REGRESSION FD001 dcnn spec fixed:0.5 (5 vs 5 seeds): rmse 15.02 ± 0.02 -> 15.52 ± 0.02 "
                         "(+3.3%, tolerance 0.30; Welch t 50.00, dof 8.0");
    free(out);
    /* an absolute tolerance adds to it: 0.3004 + 0.2 > 0.5 */
    cr_assert_eq(compare_with(&s, "--distribution --rtol 0.02 --atol 0.2", &out), 0, "%s", out);
    free(out);
}

Test(distribution, worse_beyond_tolerance_but_not_significant_passes)
{
    /* uw-o by +1 (6.7 % > 5 %), sd 4.12: t = 1 / sqrt(2 * 17 / 5) = 0.383, p = 0.356 */
    run_set s;
    baseline(&s);
    shift(&s, "uw-o", 1.0);
    char *out;
    cr_assert_eq(compare_with(&s, "--distribution", &out), 0, "%s", out);
    free(out);
    cr_assert_eq(compare_with(&s, "--distribution --alpha 0.4", &out), 1, "%s", out);
    assert_contains(out, "REGRESSION FD001 dcnn spec uw-o (5 vs 5 seeds): rmse 15.00 ± 4.12 -> 16.00 ± 4.12 "
                         "(+6.7%, tolerance 0.75; Welch t 0.38, dof 8.0, one-sided p 0.36)");
    free(out);
}

Test(distribution, higher_is_better_for_accuracy)
{
    run_set s;
    baseline(&s);
    for (int i = 1; i <= N_SEEDS; i++) find(&s, "uw", i)->acc -= 0.1;
    char *out;
    cr_assert_eq(compare_with(&s, "--distribution --metrics acc", &out), 1, "%s", out);
    assert_contains(out, "REGRESSION FD001 dcnn spec uw (5 vs 5 seeds): acc 0.9200 ± 0.0158 -> 0.8200 ± 0.0158");
    free(out);
    for (int i = 1; i <= N_SEEDS; i++) find(&s, "uw", i)->acc += 0.2;
    cr_assert_eq(compare_with(&s, "--distribution --metrics acc", &out), 0, "%s", out);
    assert_contains(out, "improved FD001 dcnn spec uw (5 vs 5 seeds): acc 0.9200 ± 0.0158 -> 1.0200 ± 0.0158");
    assert_contains(out, "(1 improved, 0 new;");
    free(out);
}

Test(distribution, throughput_drop_caught_on_the_same_host_only)
{
    run_set s;
    baseline(&s);
    for (int i = 0; i < s.n; i++) s.v[i].samples_per_s *= 0.8;
    char *out;
    /* not asked for: not checked */
    cr_assert_eq(compare_with(&s, "--distribution", &out), 0, "%s", out);
    free(out);
    /* same host and layout: 1000 -> 800, tolerance 100; t = -200 / sqrt(12.5 + 8) = -44.2 */
    cr_assert_eq(compare_with(&s, "--distribution --perf-rtol 0.1", &out), 1, "%s", out);
    assert_contains(out, "PERF REGRESSION FD001 dcnn spec uw (5 vs 5 seeds): samples_per_s 1000 ± 8 -> 800 ± 6 "
                         "(-20.0%, tolerance 100; Welch t 44.17, dof 7.6");
    assert_contains(out, "throughput: 3 groups checked, 3 regressions, 0 not checked (another host or layout), "
                         "perf-rtol 0.1)");
    free(out);
    /* within the tolerance */
    cr_assert_eq(compare_with(&s, "--distribution --perf-rtol 0.25", &out), 0, "%s", out);
    free(out);
    /* another host: not checked, no failure */
    for (int i = 0; i < s.n; i++) strcpy(s.v[i].host, "nodeB");
    cr_assert_eq(compare_with(&s, "--distribution --perf-rtol 0.1", &out), 0, "%s", out);
    assert_contains(out, "perf not checked FD001 dcnn spec uw: another host or layout (BASELINE nodeA, 1 x 2; "
                         "NEW nodeB, 1 x 2)");
    assert_contains(out, "throughput: 0 groups checked, 0 regressions, 3 not checked");
    free(out);
    /* the same host with other threads: not checked either */
    for (int i = 0; i < s.n; i++) strcpy(s.v[i].host, "nodeA"), s.v[i].threads = 4;
    cr_assert_eq(compare_with(&s, "--distribution --perf-rtol 0.1", &out), 0, "%s", out);
    assert_contains(out, "3 not checked");
    free(out);
}

Test(distribution, missing_diverged_and_too_few)
{
    run_set s;
    baseline(&s);
    /* uw-o only under seed 1; fixed:0.5 gone; uw seed 5 diverged */
    int k = 0;
    for (int i = 0; i < s.n; i++) {
        run_record *r = &s.v[i];
        if (strcmp(r->method, "fixed:0.5") == 0 || (strcmp(r->method, "uw-o") == 0 && r->seed != 1)) continue;
        s.v[k++] = *r;
    }
    s.n = k;
    run_record *d = find(&s, "uw", 5);
    strcpy(d->status, "diverged");
    d->rmse = d->score = d->acc = d->f1 = NAN;
    char *out;
    cr_assert_eq(compare_with(&s, "--distribution", &out), 1, "%s", out);
    assert_contains(out, "MISSING FD001 dcnn spec fixed:0.5 (5 runs in BASELINE)\n");
    assert_contains(out, "DIVERGED FD001 dcnn spec uw: 1 of 5 runs not ok in NEW, none in BASELINE\n");
    assert_contains(out, "TOO FEW FD001 dcnn spec uw-o: 5 ok runs in BASELINE, 1 in NEW; the test needs at least 2 "
                         "on each side\n");
    assert_contains(out, "compare: 2 groups checked, 1 regressions, 1 missing, 1 with too few seeds");
    free(out);
}

Test(distribution, partial_repetition)
{
    /* NEW repeats uw only: two baseline groups missing */
    run_set s;
    baseline(&s);
    int k = 0;
    for (int i = 0; i < s.n; i++)
        if (strcmp(s.v[i].method, "uw") == 0) s.v[k++] = s.v[i];
    s.n = k;
    char *out;
    cr_assert_eq(compare_with(&s, "--distribution", &out), 1, "%s", out);
    assert_contains(out, "compare: 1 groups checked, 0 regressions, 2 missing");
    free(out);
    cr_assert_eq(compare_with(&s, "--distribution --partial", &out), 0, "%s", out);
    assert_contains(out, "MISSING FD001 dcnn spec uw-o (5 runs in BASELINE)\n");
    free(out);
    /* a regression still fails */
    shift(&s, "uw", 3 * UW_SD);
    cr_assert_eq(compare_with(&s, "--distribution --partial --metrics rmse", &out), 1, "%s", out);
    free(out);
    /* run by run likewise */
    shift(&s, "uw", -3 * UW_SD);
    cr_assert_eq(compare_with(&s, "", &out), 1, "%s", out);
    free(out);
    cr_assert_eq(compare_with(&s, "--partial", &out), 0, "%s", out);
    assert_contains(out, "compare: 5 runs checked, 0 regressions, 10 missing");
    free(out);
    /* nothing in common is a failure, partial or not */
    for (int i = 0; i < s.n; i++) {
        s.v[i].epochs = 50;
        run_config_id(&s.v[i], s.v[i].run_id);
    }
    cr_assert_eq(compare_with(&s, "--distribution --partial", &out), 1, "%s", out);
    free(out);
    cr_assert_eq(compare_with(&s, "--partial", &out), 1, "%s", out);
    free(out);
}

Test(distribution, other_configurations_are_other_groups)
{
    /* 50 epochs instead of 100: another configuration, not the baseline's seeds */
    run_set s;
    baseline(&s);
    for (int i = 0; i < s.n; i++) {
        s.v[i].epochs = 50;
        run_config_id(&s.v[i], s.v[i].run_id);
    }
    char *out;
    cr_assert_eq(compare_with(&s, "--distribution", &out), 1, "%s", out);
    assert_contains(out, "compare: 0 groups checked, 0 regressions, 3 missing, 0 with too few seeds (0 improved, 3 new;");
    free(out);
}

Test(distribution, bad_usage)
{
    run_set s;
    baseline(&s);
    static const char *const bad[] = {
        "--distribution --alpha 0",       "--distribution --alpha 0.5",   "--distribution --alpha x",
        "--alpha 0.05",                   "--perf-rtol 0.1",              "--distribution --perf-rtol -1",
        "--distribution --metrics rmse,samples_per_s",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *out;
        cr_assert_eq(compare_with(&s, bad[i], &out), 2, "compare %s", bad[i]);
        free(out);
    }
}
