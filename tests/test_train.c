/* Weighting, Adam and metrics against hand values; thread-count invariance; sweep plans. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>

#include "cli.h"
#include "metrics.h"
#include "optim.h"
#include "reduce.h"
#include "sweep.h"
#include "train.h"
#include "weighting.h"

static void weights_of(const char *spec, double Lr, double Lh, double *wr, double *wh)
{
    weighting w;
    mtl_err err;
    cr_assert_eq(weighting_parse(spec, &w, &err), 0, "%s", err.msg);
    float s[2] = {0, 0};
    w.def->weights(&w, NULL, s, Lr, Lh, wr, wh);
}

Test(weighting, uw_so_against_hand_values)
{
    /* losses (400, 0.36): inverses 0.0025 and 2.7778; softmax at T = 1 and T = 100 */
    double wr, wh;
    weights_of("uw-so:1", 400, 0.36, &wr, &wh);
    cr_assert_float_eq(wr, 0.05867483512, 1e-10);
    cr_assert_float_eq(wh, 0.94132516488, 1e-10);
    weights_of("uw-so:100", 400, 0.36, &wr, &wh);
    cr_assert_float_eq(wr, 0.49306225104, 1e-10);
    cr_assert_float_eq(wh, 0.50693774896, 1e-10);
    /* no overflow at a tiny temperature */
    weights_of("uw-so:0.001", 400, 0.36, &wr, &wh);
    cr_assert(isfinite(wr) && isfinite(wh));
    cr_assert_float_eq(wh, 1.0, 1e-12);
}

Test(weighting, other_methods_and_names)
{
    double wr, wh;
    weights_of("fixed:0.3", 400, 0.36, &wr, &wh);
    cr_assert_float_eq(wr, 0.3, 1e-15);
    cr_assert_float_eq(wh, 0.7, 1e-15);
    weights_of("uw-o", 400, 0.36, &wr, &wh);
    cr_assert_float_eq(wr, 1.0 / 400, 1e-12);
    cr_assert_float_eq(wh, 1.0 / 0.36, 1e-7);
    weights_of("uw", 400, 0.36, &wr, &wh); /* s = 0: 1/2 e^0 */
    cr_assert_float_eq(wr, 0.5, 1e-15);
    weighting w;
    mtl_err err;
    cr_assert_eq(weighting_parse("uw-so:2.50", &w, &err), 0);
    cr_assert_str_eq(w.canon, "uw-so:2.5");
    cr_assert_eq(weighting_parse("fixed:1.5", &w, &err), -1);
    cr_assert(strstr(err.msg, "lambda must be in [0, 1]") != NULL, "%s", err.msg);
    cr_assert_eq(weighting_parse("uw-so:0", &w, &err), -1);
    cr_assert(strstr(err.msg, "temperature must be > 0") != NULL, "%s", err.msg);
    cr_assert_eq(weighting_parse("uw-so", &w, &err), -1);
    cr_assert_eq(weighting_parse("uw:3", &w, &err), -1);
    cr_assert_eq(weighting_parse("dwb", &w, &err), -1);
    cr_assert(strstr(err.msg, "unknown method 'dwb'") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "gradnorm:A") != NULL, "the message lists every method: %s", err.msg);
    /* default arguments and canonical names */
    cr_assert_eq(weighting_parse("dwa", &w, &err), 0);
    cr_assert_str_eq(w.canon, "dwa:2");
    cr_assert_eq(weighting_parse("dwa:2.0", &w, &err), 0);
    cr_assert_str_eq(w.canon, "dwa:2");
    cr_assert_eq(weighting_parse("gradnorm", &w, &err), 0);
    cr_assert_str_eq(w.canon, "gradnorm:1.5");
    cr_assert_eq(weighting_parse("gradnorm:0", &w, &err), 0);
    cr_assert_str_eq(w.canon, "gradnorm:0");
    cr_assert_eq(weighting_parse("gradnorm:-1", &w, &err), -1);
    cr_assert(strstr(err.msg, "alpha must be >= 0") != NULL, "%s", err.msg);
    cr_assert_eq(weighting_parse("dwa:0", &w, &err), -1);
    cr_assert(strstr(err.msg, "temperature must be > 0") != NULL, "%s", err.msg);
    const char *plain[] = {"ew", "rlw", "imtl-l", "gls"};
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(weighting_parse(plain[i], &w, &err), 0, "%s", err.msg);
        cr_assert_str_eq(w.canon, plain[i]);
        char with_arg[32];
        snprintf(with_arg, sizeof with_arg, "%s:1", plain[i]);
        cr_assert_eq(weighting_parse(with_arg, &w, &err), -1);
    }
    weights_of("ew", 400, 0.36, &wr, &wh);
    cr_assert(wr == 1.0 && wh == 1.0);
    /* gls: w_t = sqrt(L_r L_h) / (2 L_t) = (sqrt(0.36/400)/2, sqrt(400/0.36)/2) */
    weights_of("gls", 400, 0.36, &wr, &wh);
    cr_assert_float_eq(wr, 0.015, 1e-15);
    cr_assert_float_eq(wh, 16.666666666666667, 1e-12);
    /* imtl-l at s = 0: e^0 */
    weights_of("imtl-l", 400, 0.36, &wr, &wh);
    cr_assert(wr == 1.0 && wh == 1.0);
}

Test(weighting, dwa_three_epochs_by_hand)
{
    /* epoch mean losses (400, 0.9), (300, 0.8), (270, 0.6); T = 2:
     * epochs 1, 2: w = (1, 1);
     * epoch 3: r = (300/400, 0.8/0.9), w = 2 softmax(r / 2) = (0.965291725134, 1.034708274866);
     * epoch 4: r = (270/300, 0.6/0.8), w = (1.037482431757, 0.962517568243); at T = 0.5
     * (1.148885033623, 0.851114966377) */
    weighting w, w05;
    mtl_err err;
    cr_assert_eq(weighting_parse("dwa", &w, &err), 0);
    cr_assert_eq(weighting_parse("dwa:0.5", &w05, &err), 0);
    weighting_state st;
    weighting_state_init(&st, 1);
    const double L[3][2] = {{400, 0.9}, {300, 0.8}, {270, 0.6}};
    const double want[4][2] = {{1, 1}, {1, 1}, {0.965291725134, 1.034708274866}, {1.037482431757, 0.962517568243}};
    for (int e = 0; e < 4; e++) {
        double wr, wh;
        st.epoch = e + 1;
        w.def->weights(&w, &st, NULL, 123.0, 0.5, &wr, &wh);   /* batch losses play no part */
        cr_assert_float_eq(wr, want[e][0], 1e-11, "epoch %d", e + 1);
        cr_assert_float_eq(wh, want[e][1], 1e-11, "epoch %d", e + 1);
        cr_assert_float_eq(wr + wh, 2.0, 1e-14);
        if (e == 3) {
            w05.def->weights(&w05, &st, NULL, 123.0, 0.5, &wr, &wh);
            cr_assert_float_eq(wr, 1.148885033623, 1e-11);
            cr_assert_float_eq(wh, 0.851114966377, 1e-11);
        }
        if (e < 3) weighting_state_epoch_end(&st, L[e][0], L[e][1]);
    }
}

Test(weighting, rlw_weights_sum_to_two_every_step_and_are_reproducible)
{
    weighting w;
    mtl_err err;
    cr_assert_eq(weighting_parse("rlw", &w, &err), 0);
    weighting_state st, other;
    weighting_state_init(&st, 7);
    weighting_state_init(&other, 8);
    double sum = 0, sum2 = 0, logratio = 0;
    int n = 0, differ = 0;
    for (int e = 1; e <= 3; e++)
        for (long k = 0; k < 200; k++) {
            double wr, wh, wr2, wh2;
            st.epoch = other.epoch = e;
            st.step = other.step = k;
            w.def->weights(&w, &st, NULL, 400, 0.36, &wr, &wh);
            cr_assert(wr > 0 && wh > 0);
            cr_assert_float_eq(wr + wh, 2.0, 1e-14, "epoch %d step %ld: %.17g + %.17g", e, k, wr, wh);
            w.def->weights(&w, &st, NULL, 1.0, 2.0, &wr2, &wh2);   /* a pure function of (seed, epoch, step) */
            cr_assert(wr2 == wr && wh2 == wh);
            w.def->weights(&w, &other, NULL, 400, 0.36, &wr2, &wh2);
            differ += wr2 != wr;
            sum += wr, sum2 += wr * wr, logratio += log(wr / wh), n++;
        }
    cr_assert_gt(differ, n - 3, "another seed draws other weights");
    /* log(w_r / w_h) = z_r - z_h ~ N(0, 2): mean near 0, the weights spread */
    cr_assert_lt(fabs(logratio / n), 0.3);
    double mean = sum / n, sd = sqrt(sum2 / n - mean * mean);
    cr_assert(fabs(mean - 1.0) < 0.1 && sd > 0.3, "mean %g sd %g", mean, sd);
}

Test(weighting, gradnorm_one_step_by_hand_and_renormalisation)
{
    weighting w;
    mtl_err err;
    cr_assert_eq(weighting_parse("gradnorm", &w, &err), 0);
    cr_assert_eq(w.def->n_params, 2);
    float p[2];
    w.def->init(&w, p);
    cr_assert(p[0] == 1.0f && p[1] == 1.0f);
    weighting_state st;
    weighting_state_init(&st, 1);
    st.have_first = 1, st.first[0] = 1000.0, st.first[1] = 1.0;
    /* losses (500, 0.8): relative (0.5, 0.8), r = (0.769231, 1.230769); norms (3, 0.5), so
     * G = (3, 0.5), mean 1.75, targets 1.75 r^1.5 = (1.180655, 2.389478):
     * dL_grad/dw = (sign(3 - 1.18) 3, sign(0.5 - 2.39) 0.5) = (3, -0.5) */
    float g[2];
    const double gn1[2] = {3.0, 0.5};
    w.def->shared_grad(&w, &st, p, 500.0, 0.8, gn1, g);
    cr_assert_float_eq(g[0], 3.0f, 1e-7);
    cr_assert_float_eq(g[1], -0.5f, 1e-7);
    /* RUL trains slower: losses (900, 0.4), relative (0.9, 0.4), r = (1.384615, 0.615385);
     * norms (1, 1.2): G mean 1.1, targets (1.792, 0.531): (-1, +1.2), w_r goes up */
    const double gn2[2] = {1.0, 1.2};
    w.def->shared_grad(&w, &st, p, 900.0, 0.4, gn2, g);
    cr_assert_float_eq(g[0], -1.0f, 1e-7);
    cr_assert_float_eq(g[1], 1.2f, 1e-7);
    /* with weights (0.5, 1.5) G = (0.5, 1.8), mean 1.15, targets (1.874, 0.555): (-1, +1.2) */
    float q[2] = {0.5f, 1.5f};
    w.def->shared_grad(&w, &st, q, 900.0, 0.4, gn2, g);
    cr_assert_float_eq(g[0], -1.0f, 1e-7);
    cr_assert_float_eq(g[1], 1.2f, 1e-7);
    /* one Adam step (the first moves each parameter by lr against its gradient's sign),
     * then the renormalisation to sum 2 */
    adam a;
    cr_assert_eq(adam_init(&a, 2, 1e-3, &err), 0);
    w.def->shared_grad(&w, &st, p, 500.0, 0.8, gn1, g);
    adam_step(&a, p, g);
    w.def->after_step(&w, p);
    cr_assert_float_eq(p[0], 0.999f, 1e-6);
    cr_assert_float_eq(p[1], 1.001f, 1e-6);
    cr_assert_float_eq((double)p[0] + p[1], 2.0, 1e-6);
    adam_free(&a);
    /* renormalisation: (0.5, 2.5) -> (1/3, 5/3); a weight at or below 1e-4 is floored first */
    float r[2] = {0.5f, 2.5f};
    w.def->after_step(&w, r);
    cr_assert_float_eq(r[0], 1.0 / 3.0, 1e-7);
    cr_assert_float_eq(r[1], 5.0 / 3.0, 1e-6);
    float f[2] = {-0.2f, 1.0f};
    w.def->after_step(&w, f);
    cr_assert_float_eq(f[0], 2e-4 / 1.0001, 1e-9);
    cr_assert_float_eq(f[1], 2.0 / 1.0001, 1e-6);
    cr_assert(f[0] > 0);
}

Test(weighting, help_lists_every_registered_method)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    weighting_print_help(f, "  ");
    fclose(f);
    int n = 0;
    for (const weighting_method *const *m = weighting_registry(); *m; m++, n++) {
        char key[64];
        snprintf(key, sizeof key, "\n  %s", (*m)->name);
        cr_assert(strstr(buf, key + (n == 0)) != NULL, "%s missing from:\n%s", (*m)->name, buf);
    }
    cr_assert_eq(n, 10);
    free(buf);
}

Test(optim, adam_two_steps_by_hand)
{
    /* step 1, g = 0.5: m = 0.05, v = 0.00025, p -= 1e-3/(1-0.9) * m / (sqrt(v)/sqrt(1-0.999) + 1e-8)
     *   = 1 - 0.01 * 0.05 / (0.5 + 1e-8) = 0.99900000002
     * step 2, g = -1: m = -0.055, v = 0.00124975; p = 0.9993661035424 */
    adam a;
    mtl_err err;
    cr_assert_eq(adam_init(&a, 1, 1e-3, &err), 0);
    float p = 1.0f, g = 0.5f;
    adam_step(&a, &p, &g);
    cr_assert_float_eq(p, 0.99900000002, 1e-7);
    g = -1.0f;
    adam_step(&a, &p, &g);
    cr_assert_float_eq(p, 0.9993661035424, 1e-7);
    adam_free(&a);
}

Test(metrics, hand_cases)
{
    float pred[3] = {90, 20, 50}, truth[3] = {103, 10, 50};
    /* d = -13, 10, 0: score (e - 1) + (e - 1) + 0 */
    cr_assert_float_eq(metric_nasa_score(pred, truth, 3), 2 * (exp(1.0) - 1), 1e-12);
    cr_assert_float_eq(metric_rmse(pred, truth, 3), sqrt((169.0 + 100.0) / 3), 1e-12);
    cr_assert_float_eq(metric_mae(pred, truth, 3), 23.0 / 3, 1e-12);
    /* classes: truth 0 0 1 2 2, pred 0 1 1 2 0
     * class 0: tp 1 fp 1 fn 1 -> F1 0.5; class 1: tp 1 fp 1 fn 0 -> 2/3; class 2: tp 1 fp 0 fn 1 -> 2/3 */
    int t[5] = {0, 0, 1, 2, 2}, p[5] = {0, 1, 1, 2, 0};
    cr_assert_float_eq(metric_accuracy(p, t, 5), 0.6, 1e-15);
    cr_assert_float_eq(metric_macro_f1(p, t, 5, 3), (0.5 + 2.0 / 3 + 2.0 / 3) / 3, 1e-12);
    /* a class never predicted nor present scores 0 */
    int t2[2] = {0, 0}, p2[2] = {0, 0};
    cr_assert_float_eq(metric_macro_f1(p2, t2, 2, 3), 1.0 / 3, 1e-15);
}

static void train_digest(const char *dir, model_kind kind, int threads, int epochs, char out[17])
{
    omp_set_num_threads(threads);
    train_config c;
    train_config_defaults(&c);
    c.model = kind;
    c.epochs = epochs;
    c.batch = 96; /* several steps, several tiles per thread, a last batch that is not full */
    c.quiet = 1;
    mtl_err err;
    cr_assert_eq(weighting_parse("uw", &c.method, &err), 0);
    prep_data d;
    prep_options po = train_prep_options(&c, 0);
    cr_assert_eq(cli_load(dir, "FD001", &po, &d, &err), 0, "%s", err.msg);
    dist_ctx one;
    dist_single(&one);
    run_record r;
    cr_assert_eq(train_run(&c, &d, &one, &r, &err), 0, "%s", err.msg);
    cr_assert_str_eq(r.status, "ok");
    cr_assert_eq(r.threads, threads);
    cr_assert_eq(r.n_hist, epochs);
    cr_assert_eq(r.n_test, 8);
    memcpy(out, r.param_digest, 17);
    run_record_free(&r);
    prep_free(&d);
}

/* On a small generated fleet, so that the sanitizer build runs it quickly. */
Test(train, one_and_two_threads_give_the_same_parameters)
{
    char dir[64], cmd[512];
    th_tmpdir(dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "%s --out %s --subset FD001 --regimes 1 --train-units 16 --test-units 8 "
             "--min-cycles 50 --max-cycles 70 --seed 3 >/dev/null", MTL_GENCMAPSS, dir);
    cr_assert_eq(th_system(cmd), 0);
    char a[17], b[17], c[17], d[17];
    train_digest(dir, MODEL_CNN1D, 1, 2, a);
    train_digest(dir, MODEL_CNN1D, 2, 2, b);
    cr_assert_str_eq(a, b);
    cr_assert_eq(strlen(a), 16);
    /* the dcnn, 14 times dearer, for one epoch: as many steps and tiles per step */
    train_digest(dir, MODEL_DCNN, 1, 1, c);
    train_digest(dir, MODEL_DCNN, 2, 1, d);
    cr_assert_str_eq(c, d);
    cr_assert_str_neq(a, c);
}

Test(sweep, plan_expansion_order_and_stable_ids)
{
    char dir[64], cmd[512];
    th_tmpdir(dir, sizeof dir);
    /* FD001 (bundled, larger) and a small generated FD002 */
    snprintf(cmd, sizeof cmd, "cp %s/train_FD001.txt %s/test_FD001.txt %s/RUL_FD001.txt %s && %s --out %s --subset FD002 >/dev/null",
             MTL_TEST_DATA, MTL_TEST_DATA, MTL_TEST_DATA, dir, MTL_GENCMAPSS, dir);
    cr_assert_eq(th_system(cmd), 0);
    sweep_options o;
    sweep_options_defaults(&o);
    o.data = dir;
    snprintf(o.subsets, sizeof o.subsets, "FD002,FD001,FD002");
    snprintf(o.methods, sizeof o.methods, "fixed,uw-so,uw,fixed:0.5");
    snprintf(o.grid[WEIGHTING_GRID_LAMBDA], sizeof o.grid[0], "0.3,0.5");
    snprintf(o.grid[WEIGHTING_GRID_T], sizeof o.grid[0], "1,5.0");
    snprintf(o.seeds, sizeof o.seeds, "1,2,1");
    sweep_item *it;
    int n;
    mtl_err err;
    cr_assert_eq(sweep_plan(&o, &it, &n, &err), 0, "%s", err.msg);
    /* 2 subsets x (fixed:0.3, fixed:0.5, uw-so:1, uw-so:5, uw) x 2 seeds; duplicates dropped */
    cr_assert_eq(n, 20);
    cr_assert_str_eq(it[0].subset, "FD001"); /* largest first */
    cr_assert_str_eq(it[10].subset, "FD002");
    const char *order[5] = {"fixed:0.3", "fixed:0.5", "uw-so:1", "uw-so:5", "uw"};
    for (int m = 0; m < 5; m++) {
        cr_assert_str_eq(it[2 * m].method, order[m]);
        cr_assert_eq(it[2 * m].seed, 1);
        cr_assert_eq(it[2 * m + 1].seed, 2);
    }
    cr_assert_eq(it[0].window, 30);
    cr_assert_eq(it[10].window, 20);
    /* the ids hash the data, which the plan has not read yet */
    cr_assert_str_eq(it[0].run_id, "");
    /* configuration hashes are stable: the same configuration on the same data has this id in
     * every version (FNV-1a of "model=dcnn;subset=FD001;method=fixed:0.5;...;lr_step=none;
     * norm_scope=regime;data=00000000000000ab") */
    train_config c;
    train_config_defaults(&c);
    cr_assert_eq(weighting_parse("fixed:0.5", &c.method, &err), 0);
    run_record r;
    train_config_record(&c, "FD001", 30, 0xab, &r);
    cr_assert_str_eq(r.data_digest, "00000000000000ab");
    cr_assert_str_eq(r.norm_scope, "regime");
    cr_assert_str_eq(r.run_id, "39d22c1f013ff24b");
    /* li2018 presets the global scope */
    c.protocol = PROTOCOL_LI2018;
    train_config_apply_protocol(&c);
    cr_assert_eq(c.norm_scope, PREP_SCOPE_GLOBAL);
    free(it);
}

/* An epoch's order: a permutation of the windows, fixed by (seed, epoch), another for
 * another epoch or seed. */
Test(train, shuffle_is_a_permutation_fixed_by_seed_and_epoch)
{
    enum { N = 1000 };
    static int a[N], b[N], c[N], d[N], seen[N];
    train_shuffle(a, N, 7, 3);
    train_shuffle(b, N, 7, 3);
    train_shuffle(c, N, 7, 4);
    train_shuffle(d, N, 8, 3);
    int moved = 0, same_c = 0, same_d = 0;
    for (int i = 0; i < N; i++) {
        cr_assert(a[i] >= 0 && a[i] < N);
        cr_assert_eq(seen[a[i]]++, 0, "window %d twice", a[i]);
        cr_assert_eq(a[i], b[i]);
        moved += a[i] != i, same_c += a[i] == c[i], same_d += a[i] == d[i];
    }
    cr_assert_gt(moved, N - 20, "%d of %d windows moved", moved, N);
    cr_assert_lt(same_c, 20, "epochs 3 and 4 agree at %d places", same_c);
    cr_assert_lt(same_d, 20, "seeds 7 and 8 agree at %d places", same_d);
    train_shuffle(a, 1, 7, 3);
    cr_assert_eq(a[0], 0);
}

/* The ETA a group prints: its own time per run, for the rounds of runs left to the groups. */
Test(sweep, eta_counts_every_group_and_whole_rounds)
{
    /* one group: 3 runs in 300 s, 7 to go */
    cr_assert_float_eq(sweep_eta(300, 3, 1, 7), 700, 1e-9);
    /* two groups, this one 2 runs in 800 s (400 s per run): 27 left are 14 rounds */
    cr_assert_float_eq(sweep_eta(800, 2, 2, 27), 5600, 1e-9);
    cr_assert_float_eq(sweep_eta(800, 2, 2, 26), 5200, 1e-9);
    /* the last runs: one in flight in the other group is one round; none left is 0 */
    cr_assert_float_eq(sweep_eta(800, 2, 2, 1), 400, 1e-9);
    cr_assert_float_eq(sweep_eta(800, 2, 2, 0), 0, 1e-9);
    cr_assert_float_eq(sweep_eta(800, 0, 2, 5), 0, 1e-9);
}

Test(sweep, plan_all_methods)
{
    sweep_options o;
    sweep_options_defaults(&o);
    o.data = MTL_TEST_DATA;
    snprintf(o.subsets, sizeof o.subsets, "FD001");
    snprintf(o.methods, sizeof o.methods, "all,dwa:1");
    snprintf(o.grid[WEIGHTING_GRID_LAMBDA], sizeof o.grid[0], "0.3,0.5");
    snprintf(o.grid[WEIGHTING_GRID_T], sizeof o.grid[0], "1");
    snprintf(o.seeds, sizeof o.seeds, "1");
    sweep_item *it;
    int n;
    mtl_err err;
    cr_assert_eq(sweep_plan(&o, &it, &n, &err), 0, "%s", err.msg);
    const char *want[] = {"fixed:0.3", "fixed:0.5", "uw", "uw-o", "uw-so:1", "ew", "dwa:2",
                          "rlw", "imtl-l", "gls", "gradnorm:1.5", "dwa:1"};
    cr_assert_eq(n, 12);
    for (int i = 0; i < n; i++) cr_assert_str_eq(it[i].method, want[i]);
    free(it);
    /* the default grid is unchanged */
    sweep_options_defaults(&o);
    cr_assert_str_eq(o.methods, "fixed,uw,uw-o,uw-so");
}

Test(sweep, plan_errors)
{
    sweep_options o;
    sweep_options_defaults(&o);
    o.data = MTL_TEST_DATA;
    sweep_item *it;
    int n;
    mtl_err err;
    snprintf(o.subsets, sizeof o.subsets, "FD007");
    cr_assert_eq(sweep_plan(&o, &it, &n, &err), -1);
    cr_assert(strstr(err.msg, "unknown subset 'FD007'") != NULL, "%s", err.msg);
    o.subsets[0] = '\0';
    snprintf(o.seeds, sizeof o.seeds, "1,x");
    cr_assert_eq(sweep_plan(&o, &it, &n, &err), -1);
    cr_assert(strstr(err.msg, "'x' is not an integer") != NULL, "%s", err.msg);
    snprintf(o.seeds, sizeof o.seeds, "1");
    snprintf(o.grid[WEIGHTING_GRID_T], sizeof o.grid[0], "-1");
    cr_assert_eq(sweep_plan(&o, &it, &n, &err), -1);
    cr_assert(strstr(err.msg, "temperature must be > 0") != NULL, "%s", err.msg);
    /* default subsets: only those complete in --data (FD001 here; FD003 lacks its train file) */
    char dir[64], cmd[1024];
    th_tmpdir(dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "cp %s/train_FD001.txt %s/test_FD001.txt %s/RUL_FD001.txt %s/test_FD003.txt "
             "%s/RUL_FD003.txt %s", MTL_TEST_DATA, MTL_TEST_DATA, MTL_TEST_DATA, MTL_TEST_DATA, MTL_TEST_DATA, dir);
    cr_assert_eq(th_system(cmd), 0);
    o.data = dir;
    snprintf(o.grid[WEIGHTING_GRID_T], sizeof o.grid[0], "1");
    cr_assert_eq(sweep_plan(&o, &it, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, (9 + 1 + 1 + 1) * 1);
    for (int i = 0; i < n; i++) cr_assert_str_eq(it[i].subset, "FD001");
    free(it);
}

/* A non-finite loss or gradient loses the step (1) in both modes, for a method of either
 * order (uw-so weights from the losses, fixed before them); a lost loss leaves the weights
 * the caller holds as they were. */
Test(train, non_finite_values_are_reported_as_divergence)
{
    mtl_err err;
    prep_data d;
    prep_options po = {.val_frac = 0.2, .seed = 1, .norm = PREP_NORM_Z};
    cr_assert_eq(cli_load(MTL_TEST_DATA, "FD001", &po, &d, &err), 0, "%s", err.msg);
    model m;
    cr_assert_eq(model_init(&m, MODEL_CNN1D, d.W, 0.5f, 0, &err), 0);
    dist_ctx one;
    dist_single(&one);
    int batch[64];
    for (int i = 0; i < 64; i++) batch[i] = i * 7;
    const char *specs[] = {"uw-so:1", "fixed:0.5"};
    for (int i = 0; i < 2; i++)
        for (int det = 0; det < 2; det++) {
            weighting w;
            cr_assert_eq(weighting_parse(specs[i], &w, &err), 0);
            cr_assert_eq(w.def->weights_before_forward, i);
            train_engine *e;
            cr_assert_eq(engine_create(&m, &w, det, 64, &one, &e, &err), 0, "%s", err.msg);
            float *p = calloc(m.n_params, sizeof(float)), *g = calloc(m.n_params, sizeof(float));
            model_init_params(&m, p, 1);
            train_batch b = {.split = &d.train, .windows = batch, .n = 64, .seed = 1, .epoch = 1};
            step_losses sl;
            cr_assert_eq(engine_grad(e, p, &b, g, &sl), 0);
            p[m.off_fw + 5] = NAN;
            sl.w_rul = sl.w_health = -7.0;
            cr_assert_eq(engine_grad(e, p, &b, g, &sl), 1, "%s mode %d", specs[i], det);
            cr_assert(sl.w_rul == -7.0 && sl.w_health == -7.0, "%s: a lost step wrote weights %g, %g", specs[i],
                      sl.w_rul, sl.w_health);
            p[m.off_fw + 5] = 0.0f;
            p[m.off_rw + 5] = 1e30f; /* finite, but the gradients overflow */
            cr_assert_eq(engine_grad(e, p, &b, g, &sl), 1, "%s mode %d", specs[i], det);
            free(p), free(g);
            engine_free(e);
        }
    prep_free(&d);
}

/* Two steps of w on batch[0..n) of d's training split from fresh parameters, with the
 * engine's clock when clock is not NULL: the parameters after them (to free), the last step's
 * losses in *last, the two steps' wall time in *seconds. */
static float *two_steps(const model *m, const weighting *w, int det, const prep_data *d, const int *batch, int n,
                        phase_clock *clock, step_losses *last, double *seconds)
{
    mtl_err err;
    dist_ctx one;
    dist_single(&one);
    train_engine *e;
    adam opt;
    cr_assert_eq(engine_create(m, w, det, n, &one, &e, &err), 0, "%s", err.msg);
    cr_assert_eq(adam_init(&opt, m->n_params, 1e-3, &err), 0);
    cr_assert_eq(engine_set_clock(e, clock, &err), 0, "%s", err.msg);
    float *p = calloc(m->n_params, sizeof(float)), *g = calloc(m->n_params, sizeof(float));
    model_init_params(m, p, 1);
    if (w->def->init) w->def->init(w, p + m->n_net);
    const double t0 = mtl_now();
    for (int step = 0; step < 2; step++) {
        train_batch b = {.split = &d->train, .windows = batch, .n = n, .seed = 1, .epoch = 1};
        cr_assert_eq(engine_step(e, p, &opt, &b, g, last), 0);
    }
    *seconds = mtl_now() - t0;
    free(g);
    adam_free(&opt);
    engine_free(e);
    return p;
}

/* Two steps of spec on FD001 with the method as registered (weights_before_forward) and with
 * a copy of it without the flag: the engine runs each tile's forward and backward passes back
 * to back for the one, all forward passes first for the other; the parameters and what the
 * steps report come out the same bit for bit. */
static void check_back_to_back(const char *spec, int det, int threads)
{
    mtl_err err;
    weighting w;
    cr_assert_eq(weighting_parse(spec, &w, &err), 0, "%s", err.msg);
    cr_assert_eq(w.def->weights_before_forward, 1, "%s", spec);
    weighting_method all_first = *w.def;
    all_first.weights_before_forward = 0;
    prep_data d;
    prep_options po = {.val_frac = 0.2, .seed = 1, .norm = PREP_NORM_Z};
    cr_assert_eq(cli_load(MTL_TEST_DATA, "FD001", &po, &d, &err), 0, "%s", err.msg);
    model m;
    cr_assert_eq(model_init(&m, MODEL_CNN1D, d.W, 0.5f, (size_t)w.def->n_params, &err), 0);
    int batch[40];
    for (int i = 0; i < 40; i++) batch[i] = i * 13;
    omp_set_num_threads(threads);
    float *params[2];
    step_losses last[2];
    for (int k = 0; k < 2; k++) {
        weighting wk = w;
        if (k) wk.def = &all_first;
        double seconds;
        params[k] = two_steps(&m, &wk, det, &d, batch, 40, NULL, &last[k], &seconds);
    }
    cr_assert_eq(memcmp(params[0], params[1], sizeof(float) * m.n_params), 0, "%s mode %d, %d threads", spec, det,
                 threads);
    cr_assert(last[0].rul == last[1].rul && last[0].health == last[1].health, "%s: losses", spec);
    cr_assert(last[0].w_rul == last[1].w_rul && last[0].w_health == last[1].w_health, "%s: weights", spec);
    free(params[0]), free(params[1]);
    prep_free(&d);
}

Test(train, a_tiles_forward_and_backward_back_to_back_give_the_same_bits)
{
    const char *specs[] = {"fixed:0.5", "uw", "gradnorm:1.5"};
    for (int i = 0; i < 3; i++)
        for (int det = 0; det < 2; det++) check_back_to_back(specs[i], det, 1 + (i + det) % 2);
}

/* Two steps on FD001 with the engine's clock and without: the same parameters bit for bit,
 * every layer's phases timed, and the phases within the steps' wall time. */
static void check_clock(model_kind kind, int n, int det)
{
    mtl_err err;
    weighting w;
    cr_assert_eq(weighting_parse("uw", &w, &err), 0);
    prep_data d;
    prep_options po = {.val_frac = 0.2, .seed = 1, .norm = PREP_NORM_Z};
    cr_assert_eq(cli_load(MTL_TEST_DATA, "FD001", &po, &d, &err), 0, "%s", err.msg);
    model m;
    cr_assert_eq(model_init(&m, kind, d.W, 0.5f, (size_t)w.def->n_params, &err), 0);
    int batch[48];
    for (int i = 0; i < n; i++) batch[i] = i * 11;
    omp_set_num_threads(1);
    float *params[2];
    phase_clock clock = {0};
    double wall = 0;
    for (int timed = 0; timed < 2; timed++) {
        step_losses sl;
        double seconds;
        params[timed] = two_steps(&m, &w, det, &d, batch, n, timed ? &clock : NULL, &sl, &seconds);
        if (timed) wall = seconds;
    }
    cr_assert_eq(memcmp(params[0], params[1], sizeof(float) * m.n_params), 0, "%s mode %d: the clock changed bits",
                 model_name(kind), det);
    double sum = 0;
    for (int ph = 0; ph < PHASE_COUNT; ph++) sum += clock.seconds[ph];
    for (int i = 0; i < MODEL_CONVS; i++) {
        cr_assert_gt(clock.seconds[phase_conv_fwd(i)], 0, "conv%d forward", i + 1);
        cr_assert_gt(clock.seconds[phase_conv_bwd(i)], 0, "conv%d backward", i + 1);
    }
    cr_assert_gt(clock.seconds[PHASE_TANH], 0);
    cr_assert_gt(clock.seconds[PHASE_DENSE_BWD], 0);
    cr_assert_gt(clock.seconds[PHASE_ADAM], 0);
    cr_assert_leq(sum, wall, "phases %g s, steps %g s", sum, wall);
    cr_assert_gt(sum, 0.5 * wall, "phases %g s, steps %g s", sum, wall);
    free(params[0]), free(params[1]);
    prep_free(&d);
}

/* The cnn1d in both modes; the dcnn (14 rows, each convolution timed row by row) on one tile,
 * which keeps it short under the sanitizers. */
Test(profile, timed_steps_give_the_same_bits_and_add_up)
{
    check_clock(MODEL_CNN1D, 48, 0);
    check_clock(MODEL_CNN1D, 48, 1);
    check_clock(MODEL_DCNN, 16, 0);
}

Test(profile, one_thread_only_and_the_phase_flops_add_up)
{
    mtl_err err;
    weighting w;
    cr_assert_eq(weighting_parse("fixed:0.5", &w, &err), 0);
    dist_ctx one;
    dist_single(&one);
    for (int kind = 0; kind < 2; kind++) {
        model m;
        cr_assert_eq(model_init(&m, (model_kind)kind, 30, 0.5f, 0, &err), 0);
        double sum = 0;
        for (int ph = 0; ph < PHASE_COUNT; ph++) sum += model_phase_flops(&m, (phase_id)ph);
        cr_assert_float_eq(sum, model_flops(&m, 1), 1e-9 * sum, "%s", model_name((model_kind)kind));
        cr_assert_eq(model_phase_flops(&m, PHASE_ADAM), 0);
        cr_assert_float_eq(model_phase_flops(&m, PHASE_CONV2_FWD), 2.0 * 10 * 10 * 10 * m.rows * 30, 1e-9);
        cr_assert_float_eq(model_phase_flops(&m, PHASE_CONV1_BWD), model_phase_flops(&m, PHASE_CONV1_FWD), 1e-9,
                           "no input gradient of the first layer");
    }
    model m;
    cr_assert_eq(model_init(&m, MODEL_CNN1D, 30, 0.5f, 0, &err), 0);
    omp_set_num_threads(2);
    train_engine *e;
    cr_assert_eq(engine_create(&m, &w, 0, 64, &one, &e, &err), 0, "%s", err.msg);
    phase_clock clock = {0};
    cr_assert_eq(engine_set_clock(e, &clock, &err), -1);
    cr_assert(strstr(err.msg, "one thread") != NULL, "%s", err.msg);
    cr_assert_eq(engine_set_clock(e, NULL, &err), 0);
    engine_free(e);
    cr_assert_str_eq(phase_name(PHASE_CONV3_BWD), "conv3 backward");
    cr_assert_null(phase_name(PHASE_COUNT));
}

/* An outer product summed over lanes gives what its per-lane products would: bit for bit in
 * the exact mode, which also finds the values out of its range as put_lanes does; up to
 * rounding in the float mode (the products may be fused into the sums there). */
Test(reduction, outer_products_as_their_lanes_sum)
{
    enum { NOUT = 3, NIN = 37 };
    static float d[NOUT * TB], xt[TB * NIN], lanes[NOUT * NIN * TB];
    mtl_err err;
    dist_ctx one;
    dist_single(&one);
    for (int i = 0; i < NOUT * TB; i++) d[i] = (float)sin(1.0 + i) * 3.0f;
    for (int i = 0; i < TB * NIN; i++) xt[i] = (float)cos(2.0 + 0.7 * i);
    for (int probe = 0; probe < 6; probe++) {
        if (probe == 1) xt[5 * NIN + 11] = NAN;
        if (probe == 2) xt[5 * NIN + 11] = 1.0f, d[1 * TB + 4] = 1e7f;  /* limit 2^22 / 16 */
        if (probe == 3) d[1 * TB + 4] = 2e5f;                          /* inside it */
        if (probe == 4) d[2 * TB + 7] = INFINITY;
        if (probe == 5) d[2 * TB + 7] = 0.5f, d[2 * TB + 3] = INFINITY, xt[3 * NIN + 9] = 0.0f; /* inf x 0 */
        for (int o = 0; o < NOUT; o++)
            for (int i = 0; i < NIN; i++)
                for (int l = 0; l < TB; l++) lanes[((size_t)o * NIN + i) * TB + l] = d[o * TB + l] * xt[l * NIN + i];
        for (int exact = 0; exact < 2; exact++) {
            reduction a, b;
            float out_a[NOUT * NIN], out_b[NOUT * NIN];
            cr_assert_eq(reduction_init(&a, exact, TRAIN_FIX_BITS, NOUT * NIN, 1, &err), 0);
            cr_assert_eq(reduction_init(&b, exact, TRAIN_FIX_BITS, NOUT * NIN, 1, &err), 0);
            reduction_begin(&a, 16);
            reduction_begin(&b, 16);
            int over_a = reduction_put_outer(&a, 0, 0, NOUT, NIN, d, xt);
            int over_b = reduction_put_lanes(&b, 0, 0, NOUT * NIN, lanes);
            cr_assert_eq(over_a, over_b, "probe %d mode %d", probe, exact);
            cr_assert_eq(over_a, exact && probe != 0 && probe != 3, "probe %d mode %d", probe, exact);
            if (!over_a && (probe == 0 || probe == 2 || probe == 3)) { /* NaN or Inf: non-finite sums, found later */
                cr_assert_eq(reduction_reduce(&a, 1, &one, out_a), 0);
                cr_assert_eq(reduction_reduce(&b, 1, &one, out_b), 0);
                if (exact)
                    cr_assert_eq(memcmp(out_a, out_b, sizeof out_a), 0, "probe %d", probe);
                else
                    for (int k = 0; k < NOUT * NIN; k++)
                        cr_assert_float_eq(out_a[k], out_b[k], 1e-5f * (1.0f + fabsf(out_b[k])), "probe %d, %d", probe, k);
                cr_assert_neq(out_a[NIN + 11], 0.0f);
            }
            reduction_free(&a);
            reduction_free(&b);
        }
    }
}
