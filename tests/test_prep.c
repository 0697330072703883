#include "helpers.h"

#include <criterion/criterion.h>
#include <math.h>

#include "cli.h"
#include "cmapss.h"
#include "prep.h"

static const double OPS[6][3] = {{0, 0, 100}, {10, 0.25, 100}, {20, 0.70, 100},
                                 {25, 0.62, 60}, {35, 0.84, 100}, {42, 0.84, 100}};

/* Generates a six-regime fleet; returns the generator's JSON line in json. */
static void generate(const char *dir, const char *subset, int train_units, char *json, size_t n)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s --out %s --subset %s --train-units %d --test-units 12 --seed 7", MTL_GENCMAPSS, dir,
             subset, train_units);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    cr_assert_not_null(fgets(json, (int)n, p));
    cr_assert_eq(pclose(p), 0);
}

static void load(const char *dir, const char *subset, int window, long seed, cmapss_set *s, prep_data *d)
{
    mtl_err err;
    cr_assert_eq(cmapss_load(dir, subset, s, &err), 0, "%s", err.msg);
    prep_options po = {.window = window, .val_frac = 0.2, .seed = (uint64_t)seed, .norm = PREP_NORM_Z};
    cr_assert_eq(prep_build(s, &po, d, &err), 0, "%s", err.msg);
}

Test(prep, kmeans_recovers_the_six_regimes_on_every_row)
{
    char dir[64], json[512];
    th_tmpdir(dir, sizeof dir);
    generate(dir, "FD002", 40, json, sizeof json);
    cmapss_set s;
    prep_data d;
    load(dir, "FD002", 0, 1, &s, &d);
    cr_assert_eq(d.n_regimes, 6);
    for (int g = 0; g < 6; g++)
        for (int k = 0; k < 3; k++) cr_assert_float_eq(d.centers[g][k], OPS[g][k], 0.01, "centre %d", g);
    int counts[6] = {0};
    for (int r = 0; r < s.train.n_rows; r++) {
        const double *row = s.train.x + (size_t)r * CMAPSS_COLS;
        int truth = -1;
        for (int g = 0; g < 6; g++)
            if (fabs(row[2] - OPS[g][0]) < 0.05 && fabs(row[3] - OPS[g][1]) < 0.05 && row[4] == OPS[g][2]) truth = g;
        cr_assert_neq(truth, -1);
        cr_assert_eq(prep_nearest(row + 2, &d.centers[0][0], 6, 3), truth, "row %d", r);
        counts[truth]++;
    }
    for (int g = 0; g < 6; g++) cr_assert_eq(d.regime_rows[g], counts[g]);
    /* the generator's own counts, as printed in its JSON line */
    char want[128];
    snprintf(want, sizeof want, "\"regime_rows\":[%d,%d,%d,%d,%d,%d]", counts[0], counts[1], counts[2], counts[3],
             counts[4], counts[5]);
    cr_assert(strstr(json, want) != NULL, "%s vs %s", json, want);
    /* same answer twice */
    prep_data d2;
    prep_options po = {.val_frac = 0.2, .seed = 1, .norm = PREP_NORM_Z};
    mtl_err err;
    cr_assert_eq(prep_build(&s, &po, &d2, &err), 0);
    cr_assert_eq(memcmp(d.centers, d2.centers, sizeof d.centers), 0);
    cr_assert_eq(memcmp(d.train.x, d2.train.x, sizeof(float) * d.train.n_rows * PREP_FEATURES), 0);
    prep_free(&d2);
    prep_free(&d);
    cmapss_set_free(&s);
}

Test(prep, training_windows_are_standardised_per_regime)
{
    char dir[64], json[512];
    th_tmpdir(dir, sizeof dir);
    generate(dir, "FD004", 30, json, sizeof json);
    cmapss_set s;
    prep_data d;
    load(dir, "FD004", 0, 3, &s, &d);
    cr_assert_eq(d.W, 15);
    /* rows of the training units, grouped by regime */
    double sum[6][PREP_FEATURES] = {{0}}, sq[6][PREP_FEATURES] = {{0}};
    int cnt[6] = {0};
    int r = 0;
    for (int u = 0; u < s.train.n_units; u++) {
        int is_val = 0;
        for (int v = 0; v < d.n_val_units; v++) is_val |= d.val_units[v] == s.train.unit_id[u];
        if (is_val) continue;
        for (int k = s.train.unit_start[u]; k < s.train.unit_start[u + 1]; k++, r++) {
            int g = prep_nearest(s.train.x + (size_t)k * CMAPSS_COLS + 2, &d.centers[0][0], 6, 3);
            cnt[g]++;
            for (int f = 0; f < PREP_FEATURES; f++) {
                double z = d.train.x[(size_t)r * PREP_FEATURES + f];
                sum[g][f] += z;
                sq[g][f] += z * z;
            }
        }
    }
    cr_assert_eq(r, d.train.n_rows);
    for (int g = 0; g < 6; g++) {
        cr_assert_gt(cnt[g], 50);
        for (int f = 0; f < PREP_FEATURES; f++) {
            double mean = sum[g][f] / cnt[g], sd = sqrt(sq[g][f] / cnt[g] - mean * mean);
            cr_assert_float_eq(mean, 0.0, 1e-4, "regime %d feature %d mean %g", g, f, mean);
            /* a constant sensor has std 0 and z = 0 */
            if (d.std[g][f] > 1e-6) cr_assert_float_eq(sd, 1.0, 1e-3, "regime %d feature %d std %g", g, f, sd);
        }
    }
    prep_free(&d);
    cmapss_set_free(&s);
}

/* With the global scope every training row is normalised with one set of statistics: over
 * all training rows each feature has mean 0 and standard deviation 1, and the per-regime
 * means of the raw sensors stay apart. */
Test(prep, global_scope_normalises_over_all_rows)
{
    char dir[64], json[512];
    th_tmpdir(dir, sizeof dir);
    generate(dir, "FD002", 30, json, sizeof json);
    cmapss_set s;
    prep_data d;
    mtl_err err;
    cr_assert_eq(cmapss_load(dir, "FD002", &s, &err), 0, "%s", err.msg);
    prep_options po = {.val_frac = 0.2, .seed = 1, .norm = PREP_NORM_Z, .norm_scope = PREP_SCOPE_GLOBAL};
    cr_assert_eq(prep_build(&s, &po, &d, &err), 0, "%s", err.msg);
    cr_assert_eq(d.n_regimes, 6); /* the regimes are still found */
    double sum[PREP_FEATURES] = {0}, sq[PREP_FEATURES] = {0}, regime_sum[6] = {0};
    int regime_cnt[6] = {0};
    int n = d.train.n_rows;
    for (int r = 0; r < n; r++)
        for (int f = 0; f < PREP_FEATURES; f++) {
            double z = d.train.x[(size_t)r * PREP_FEATURES + f];
            sum[f] += z;
            sq[f] += z * z;
        }
    for (int f = 0; f < PREP_FEATURES; f++) {
        double mean = sum[f] / n, sd = sqrt(sq[f] / n - mean * mean);
        cr_assert_float_eq(mean, 0.0, 1e-4, "feature %d mean %g", f, mean);
        if (d.std[0][f] > 1e-6) cr_assert_float_eq(sd, 1.0, 1e-3, "feature %d std %g", f, sd);
    }
    /* feature 0 (s2) by regime: the operating point still shows in the normalised values */
    int r = 0;
    for (int u = 0; u < s.train.n_units; u++) {
        int is_val = 0;
        for (int v = 0; v < d.n_val_units; v++) is_val |= d.val_units[v] == s.train.unit_id[u];
        if (is_val) continue;
        for (int k = s.train.unit_start[u]; k < s.train.unit_start[u + 1]; k++, r++) {
            int g = prep_nearest(s.train.x + (size_t)k * CMAPSS_COLS + 2, &d.centers[0][0], 6, 3);
            regime_sum[g] += d.train.x[(size_t)r * PREP_FEATURES];
            regime_cnt[g]++;
        }
    }
    double lo = INFINITY, hi = -INFINITY;
    for (int g = 0; g < 6; g++) {
        double m = regime_sum[g] / regime_cnt[g];
        lo = m < lo ? m : lo;
        hi = m > hi ? m : hi;
    }
    cr_assert_gt(hi - lo, 1.0, "regime means of s2 span %g, expected the regimes apart", hi - lo);
    prep_free(&d);
    /* per regime, the same rows are centred within each regime instead */
    po.norm_scope = PREP_SCOPE_REGIME;
    cr_assert_eq(prep_build(&s, &po, &d, &err), 0, "%s", err.msg);
    cr_assert_neq(d.train.x[0], 0.0f);
    prep_free(&d);
    cmapss_set_free(&s);
}

/* A subset with one regime gives the same windows in either scope. */
Test(prep, scope_does_not_change_a_one_regime_subset)
{
    cmapss_set s;
    prep_data a, b;
    mtl_err err;
    cr_assert_eq(cmapss_load(MTL_TEST_DATA, "FD001", &s, &err), 0, "%s", err.msg);
    prep_options po = {.val_frac = 0.2, .seed = 1, .norm = PREP_NORM_MINMAX, .norm_scope = PREP_SCOPE_REGIME};
    cr_assert_eq(prep_build(&s, &po, &a, &err), 0, "%s", err.msg);
    po.norm_scope = PREP_SCOPE_GLOBAL;
    cr_assert_eq(prep_build(&s, &po, &b, &err), 0, "%s", err.msg);
    cr_assert_eq(a.train.n_rows, b.train.n_rows);
    cr_assert_eq(memcmp(a.train.x, b.train.x, sizeof(float) * PREP_FEATURES * (size_t)a.train.n_rows), 0);
    cr_assert_eq(memcmp(a.test.x, b.test.x, sizeof(float) * PREP_FEATURES * (size_t)a.test.n_rows), 0);
    cr_assert_eq(a.data_digest, cmapss_set_digest(&s));
    prep_free(&a);
    prep_free(&b);
    cmapss_set_free(&s);
}

Test(prep, scope_names)
{
    int scope = -1;
    cr_assert_eq(prep_scope_parse("global", &scope), 0);
    cr_assert_eq(scope, PREP_SCOPE_GLOBAL);
    cr_assert_eq(prep_scope_parse("regime", &scope), 0);
    cr_assert_eq(scope, PREP_SCOPE_REGIME);
    cr_assert_eq(prep_scope_parse("Global", &scope), -1);
    cr_assert_eq(prep_scope_parse("", &scope), -1);
    cr_assert_eq(scope, PREP_SCOPE_REGIME);
    cr_assert_str_eq(prep_scope_name(PREP_SCOPE_GLOBAL), "global");
}

/* The regimes k-means finds on NASA's FD002 and FD004, against an independent count: rows
 * grouped by their settings rounded (setting1 to an integer alone tells the six operating
 * points 0, 10, 20, 25, 35 and 42 apart), in the order of the sorted centres. */
Test(prep, real_multi_regime_row_counts)
{
    static const char *const subsets[] = {"FD002", "FD004"};
    static const int points[6] = {0, 10, 20, 25, 35, 42};
    for (int i = 0; i < 2; i++) {
        if (!cmapss_subset_present(MTL_TEST_DATA, subsets[i])) {
            cr_log_warn("%s: no %s, not checked", MTL_TEST_DATA, subsets[i]);
            continue;
        }
        cmapss_set s;
        prep_data d;
        load(MTL_TEST_DATA, subsets[i], 0, 1, &s, &d);
        int cnt[6] = {0};
        for (int r = 0; r < s.train.n_rows; r++) {
            long p = lround(s.train.x[(size_t)r * CMAPSS_COLS + 2]);
            int g = 0;
            while (g < 6 && points[g] != p) g++;
            cr_assert_lt(g, 6, "%s row %d: setting1 %g is none of the six operating points", subsets[i], r,
                         s.train.x[(size_t)r * CMAPSS_COLS + 2]);
            cnt[g]++;
        }
        int total = 0;
        for (int g = 0; g < 6; g++) {
            cr_assert_float_eq(d.centers[g][0], points[g], 0.01, "%s centre %d", subsets[i], g);
            cr_assert_eq(d.regime_rows[g], cnt[g], "%s regime %d: %d rows, counted %d", subsets[i], g,
                         d.regime_rows[g], cnt[g]);
            total += cnt[g];
        }
        cr_assert_eq(total, s.train.n_rows);
        prep_free(&d);
        cmapss_set_free(&s);
    }
}

Test(prep, statistics_ignore_test_rows)
{
    char dir[64], json[512], path[128];
    th_tmpdir(dir, sizeof dir);
    generate(dir, "FD002", 20, json, sizeof json);
    cmapss_set s;
    prep_data a, b;
    load(dir, "FD002", 0, 1, &s, &a);
    /* alter every sensor value of the test file */
    for (int r = 0; r < s.test.n_rows; r++)
        for (int c = 5; c < CMAPSS_COLS; c++) s.test.x[(size_t)r * CMAPSS_COLS + c] += 1000.0 + r;
    prep_options po = {.val_frac = 0.2, .seed = 1, .norm = PREP_NORM_Z};
    mtl_err err;
    cr_assert_eq(prep_build(&s, &po, &b, &err), 0);
    cr_assert_eq(memcmp(a.mean, b.mean, sizeof a.mean), 0);
    cr_assert_eq(memcmp(a.std, b.std, sizeof a.std), 0);
    cr_assert_eq(memcmp(a.centers, b.centers, sizeof a.centers), 0);
    cr_assert_eq(memcmp(a.train.x, b.train.x, sizeof(float) * a.train.n_rows * PREP_FEATURES), 0);
    cr_assert_eq(memcmp(a.val.x, b.val.x, sizeof(float) * a.val.n_rows * PREP_FEATURES), 0);
    cr_assert_neq(memcmp(a.test.x, b.test.x, sizeof(float) * a.test.n_rows * PREP_FEATURES), 0);
    prep_free(&a);
    prep_free(&b);
    cmapss_set_free(&s);
    (void)path;
}

Test(prep, split_is_by_whole_units_and_follows_the_seed)
{
    cmapss_set s;
    prep_data a, b;
    load(MTL_TEST_DATA, "FD001", 0, 1, &s, &a);
    load(MTL_TEST_DATA, "FD001", 0, 2, &s, &b);
    cr_assert_eq(a.n_val_units, 20);
    cr_assert_eq(a.train.n_win + a.val.n_win, 17731);
    cr_assert_eq(a.test.n_win, 100);
    /* no unit in both splits */
    for (int i = 0; i < a.train.n_win; i++)
        for (int v = 0; v < a.n_val_units; v++) cr_assert_neq(a.train.unit[i], a.val_units[v]);
    for (int i = 0; i < a.val.n_win; i++) {
        int found = 0;
        for (int v = 0; v < a.n_val_units; v++) found |= a.val.unit[i] == a.val_units[v];
        cr_assert(found);
    }
    cr_assert_neq(memcmp(a.val_units, b.val_units, sizeof(int) * 20), 0, "seed does not change the split");
    /* labels: capped RUL and health thresholds */
    for (int i = 0; i < a.train.n_win; i++) {
        cr_assert_leq(a.train.y[i], 125.0f);
        cr_assert_eq(a.train.h[i], prep_health(a.train.y[i]));
    }
    cr_assert_eq(prep_health(80.5f), 0);
    cr_assert_eq(prep_health(80.0f), 1);
    cr_assert_eq(prep_health(30.0f), 2);
    cr_assert_eq(a.label_counts[0] + a.label_counts[1] + a.label_counts[2], a.train.n_win);
    prep_free(&a);
    prep_free(&b);
    cmapss_set_free(&s);
}

#define ROWU(u, c, v) #u " " #c " 0 0 100 " v " " v " " v " " v " " v " " v " " v " " v " " v " " v " " v " " v " " v " " v " " v " " v " " v " " v " " v " " v " " v "\n"

Test(prep, windows_and_left_padding_on_tiny_units)
{
    char dir[64], p[128];
    th_tmpdir(dir, sizeof dir);
    /* training: units of 5, 4 and 3 cycles; W = 3 -> 3 + 2 + 1 windows */
    snprintf(p, sizeof p, "%s/train_FD001.txt", dir);
    th_write(p, ROWU(1, 1, "1") ROWU(1, 2, "2") ROWU(1, 3, "3") ROWU(1, 4, "4") ROWU(1, 5, "5")
                    ROWU(2, 1, "1") ROWU(2, 2, "2") ROWU(2, 3, "3") ROWU(2, 4, "4")
                        ROWU(3, 1, "1") ROWU(3, 2, "2") ROWU(3, 3, "3"));
    /* test: unit 1 has 2 cycles (< W, padded), unit 2 has 4 */
    snprintf(p, sizeof p, "%s/test_FD001.txt", dir);
    th_write(p, ROWU(1, 1, "1") ROWU(1, 2, "2") ROWU(2, 1, "1") ROWU(2, 2, "2") ROWU(2, 3, "3") ROWU(2, 4, "4"));
    snprintf(p, sizeof p, "%s/RUL_FD001.txt", dir);
    th_write(p, "7\n200\n");
    cmapss_set s;
    prep_data d;
    mtl_err err;
    cr_assert_eq(cmapss_load(dir, "FD001", &s, &err), 0, "%s", err.msg);
    prep_options po = {.window = 3, .val_frac = 0.0, .seed = 1, .norm = PREP_NORM_Z};
    cr_assert_eq(prep_build(&s, &po, &d, &err), 0, "%s", err.msg);
    cr_assert_eq(d.train.n_win, 6);
    cr_assert_eq(d.val.n_win, 0);
    /* first window of unit 1 ends at cycle 3: RUL 5 - 3 = 2 */
    cr_assert_float_eq(d.train.y[0], 2.0f, 0);
    cr_assert_eq(d.train.win_start[0], 0);
    cr_assert_eq(d.train.win_start[3], 5);
    cr_assert_eq(d.test.n_win, 2);
    cr_assert_eq(d.test_padded, 1);
    /* padded test unit: rows (1, 1, 2) */
    const float *t0 = d.test.x;
    cr_assert_eq(t0[0], t0[PREP_FEATURES]);
    cr_assert_neq(t0[PREP_FEATURES], t0[2 * PREP_FEATURES]);
    /* unit 2: last three cycles 2, 3, 4 */
    const float *t1 = d.test.x + 3 * PREP_FEATURES;
    cr_assert_lt(t1[0], t1[PREP_FEATURES]);
    cr_assert_lt(t1[PREP_FEATURES], t1[2 * PREP_FEATURES]);
    cr_assert_float_eq(d.test.y[1], 125.0f, 0);
    cr_assert_float_eq(d.test.y_raw[1], 200.0f, 0);
    cr_assert_eq(d.test.h[0], 2);
    prep_free(&d);
    cmapss_set_free(&s);
}

Test(prep, data_json_on_a_generated_six_regime_set)
{
    char dir[64], json[512], cmd[512], out[2048];
    th_tmpdir(dir, sizeof dir);
    generate(dir, "FD002", 25, json, sizeof json);
    snprintf(cmd, sizeof cmd, "%s data --data %s --subset FD002 --json", MTL_BIN, dir);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(fgets(out, sizeof out, p));
    cr_assert_eq(pclose(p), 0);
    cr_assert(strstr(out, "\"regimes\":6") != NULL, "%s", out);
    const char *want = strstr(json, "\"regime_rows\"");
    cr_assert_not_null(want);
    char rr[128];
    snprintf(rr, sizeof rr, "%.*s", (int)(strchr(want, ']') - want + 1), want);
    cr_assert(strstr(out, rr) != NULL, "data says %s, generator says %s", out, rr);
}

Test(prep, data_command_fd001_truth)
{
    char cmd[512], out[2048];
    snprintf(cmd, sizeof cmd, "%s data --data %s --subset FD001 --json", MTL_BIN, MTL_TEST_DATA);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(fgets(out, sizeof out, p));
    cr_assert_eq(pclose(p), 0);
    cr_assert(strstr(out, "\"train_units\":100,\"train_rows\":20631,\"test_units\":100,\"test_rows\":13096,\"regimes\":1") != NULL, "%s", out);
    cr_assert(strstr(out, "\"windows_test\":100") != NULL, "%s", out);
}

Test(prep, bad_data_exits_nonzero_with_file_and_line)
{
    char dir[64], p[128], cmd[512];
    th_tmpdir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/train_FD001.txt", dir);
    th_write(p, ROWU(1, 1, "1") ROWU(1, 3, "2"));
    snprintf(cmd, sizeof cmd, "%s data --data %s 2>&1 | grep -q 'train_FD001.txt:2: unit 1 cycle 3, expected cycle 2'", MTL_BIN, dir);
    cr_assert_eq(th_system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s data --data %s 2>/dev/null", MTL_BIN, dir);
    cr_assert_eq(th_system(cmd), 2);
}
