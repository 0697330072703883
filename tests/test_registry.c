/* The method registry is the one place that knows a method: a method added in this file
 * alone, as a table and a registry line, is expanded over its grid by the sweep planner and
 * ordered, tuned and marked best by the report. And the program's registry is consistent. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "results.h"
#include "run_fixture.h"
#include "sweep.h"
#include "weighting.h"

/* toy:α -- w = (α, 1), detached; tuned over the α grid (sweep --alphas) */
static int toy_parse(weighting *w, double x, mtl_err *err)
{
    if (!(x > 0.0) || !isfinite(x)) return mtl_fail(err, "method toy:%g: alpha must be > 0", x);
    w->x = x;
    return 0;
}

static void toy_weights(const weighting *w, const weighting_state *st, const float *params, double Lr, double Lh,
                        double *w_rul, double *w_health)
{
    (void)st, (void)params, (void)Lr, (void)Lh;
    *w_rul = w->x;
    *w_health = 1.0;
}

static double toy_total(const weighting *w, const float *params, double Lr, double Lh)
{
    (void)params;
    return w->x * Lr + Lh;
}

static const weighting_method TOY = {.name = "toy",
                                     .help = "toy:A  alpha*L_r + L_h, A > 0",
                                     .grid = WEIGHTING_GRID_ALPHA,
                                     .order = 11,
                                     .arg = 1,
                                     .arg_sym = "α",
                                     .parse = toy_parse,
                                     .weights = toy_weights,
                                     .total = toy_total};

/* The program's methods and the toy, NULL-terminated, into reg[0..cap). */
static weighting_registry_list with_toy(const weighting_method **reg, int cap)
{
    int n = 0;
    for (weighting_registry_list def = weighting_registry(); *def; def++) {
        cr_assert_lt(n, cap - 2);
        reg[n++] = *def;
    }
    reg[n++] = &TOY;
    reg[n] = NULL;
    return reg;
}

Test(registry, the_programs_methods_are_consistent)
{
    int seen_order[64] = {0}, n_reference = 0;
    for (weighting_registry_list def = weighting_registry(); *def; def++) {
        const weighting_method *m = *def;
        cr_assert(m->order > 0 && m->order < 64, "%s: order %d", m->name, m->order);
        cr_assert_eq(seen_order[m->order]++, 0, "%s: order %d is taken twice", m->name, m->order);
        n_reference += m->reference;
        const weighting_grid_kind *kind = weighting_grid_kind_of(m->grid);
        if (m->grid == WEIGHTING_GRID_NONE) {
            cr_assert_null(kind);
            continue;
        }
        /* a method with a grid takes an argument, named by its grid kind's symbol */
        cr_assert_not_null(kind, "%s", m->name);
        cr_assert_neq(m->arg, 0, "%s", m->name);
        cr_assert_str_eq(m->arg_sym, kind->sym, "%s", m->name);
        /* every default value of its grid is a valid setting */
        char buf[512], spec[96];
        snprintf(buf, sizeof buf, "%s", kind->values);
        for (char *v = strtok(buf, ","); v; v = strtok(NULL, ",")) {
            weighting w;
            mtl_err err;
            snprintf(spec, sizeof spec, "%s:%s", m->name, v);
            cr_assert_eq(weighting_parse(spec, &w, &err), 0, "%s: %s", spec, err.msg);
        }
    }
    cr_assert_eq(n_reference, 1);
    cr_assert_null(weighting_grid_kind_of(WEIGHTING_GRID_NONE));
    cr_assert_null(weighting_grid_kind_of(WEIGHTING_GRIDS));
    cr_assert_str_eq(weighting_grid_kind_of(WEIGHTING_GRID_T)->option, "temperatures");
    /* the lookup by name, with or without a setting */
    cr_assert_str_eq(weighting_find(weighting_registry(), "uw-so:2")->name, "uw-so");
    cr_assert_str_eq(weighting_find(weighting_registry(), "uw")->name, "uw");
    cr_assert_null(weighting_find(weighting_registry(), "uw-s"));
    cr_assert_null(weighting_find(weighting_registry(), "toy"));
}

/* weights_before_forward is 1 only for a method whose weights read neither the batch losses
 * nor the first step's losses: the same finite weights for two pairs of losses and for NaN
 * ones, with st->first set to each pair (the engine then weights the step before its losses
 * exist); and it is 0 only where the weights do change with the losses. */
Test(registry, weights_before_forward_only_where_the_weights_read_no_losses)
{
    for (weighting_registry_list def = weighting_registry(); *def; def++) {
        const weighting_method *m = *def;
        char spec[96];
        if (m->arg == 1) snprintf(spec, sizeof spec, "%s:%s", m->name, m->grid ? weighting_grid_kind_of(m->grid)->values : "0.5");
        else snprintf(spec, sizeof spec, "%s", m->name);
        char *comma = strchr(spec, ',');
        if (comma) *comma = '\0';
        weighting w;
        mtl_err err;
        cr_assert_eq(weighting_parse(spec, &w, &err), 0, "%s: %s", spec, err.msg);
        float params[8] = {0.3f, -0.2f};
        if (m->init) m->init(&w, params);
        weighting_state st;
        weighting_state_init(&st, 1);
        st.epoch = 4, st.step = 3;
        weighting_state_epoch_end(&st, 900.0, 0.9);
        weighting_state_epoch_end(&st, 600.0, 0.5);
        const double losses[3][2] = {{800.0, 0.7}, {40.0, 0.01}, {NAN, NAN}};
        double wr[3], wh[3];
        for (int k = 0; k < 3; k++) {
            st.have_first = 1, st.first[0] = losses[k][0], st.first[1] = losses[k][1];
            m->weights(&w, &st, params, losses[k][0], losses[k][1], &wr[k], &wh[k]);
        }
        if (!m->weights_before_forward) {
            cr_assert(wr[0] != wr[1] || wh[0] != wh[1], "%s: its weights read no losses; mark it weights_before_forward",
                      spec);
            continue;
        }
        for (int k = 0; k < 3; k++) {
            cr_assert(isfinite(wr[k]) && isfinite(wh[k]), "%s: weights %g, %g for losses %g, %g", spec, wr[k], wh[k],
                      losses[k][0], losses[k][1]);
            cr_assert(wr[k] == wr[0] && wh[k] == wh[0], "%s: marked weights_before_forward, its weights read the losses",
                      spec);
        }
    }
}

Test(registry, the_sweep_expands_a_new_method_over_its_grid)
{
    const weighting_method *reg[32];
    sweep_options o;
    sweep_options_defaults(&o);
    o.data = MTL_TEST_DATA;
    snprintf(o.subsets, sizeof o.subsets, "FD001");
    snprintf(o.methods, sizeof o.methods, "toy,uw,toy:7,fixed");
    snprintf(o.grid[WEIGHTING_GRID_ALPHA], sizeof o.grid[0], "0.5,2,0.50");
    snprintf(o.grid[WEIGHTING_GRID_LAMBDA], sizeof o.grid[0], "0.3");
    snprintf(o.seeds, sizeof o.seeds, "1");
    sweep_item *it;
    int n;
    mtl_err err;
    /* the program's registry does not know it */
    cr_assert_eq(sweep_plan(&o, &it, &n, &err), -1);
    cr_assert(strstr(err.msg, "unknown method 'toy'") != NULL, "%s", err.msg);
    o.registry = with_toy(reg, 32);
    cr_assert_eq(sweep_plan(&o, &it, &n, &err), 0, "%s", err.msg);
    const char *want[] = {"toy:0.5", "toy:2", "uw", "toy:7", "fixed:0.3"};
    cr_assert_eq(n, 5);
    for (int i = 0; i < n; i++) cr_assert_str_eq(it[i].method, want[i]);
    free(it);
    /* 'all' takes it too, over the same grid; gradnorm shares the α values */
    snprintf(o.methods, sizeof o.methods, "all");
    cr_assert_eq(sweep_plan(&o, &it, &n, &err), 0, "%s", err.msg);
    cr_assert_str_eq(it[n - 2].method, "toy:0.5");
    cr_assert_str_eq(it[n - 1].method, "toy:2");
    cr_assert_str_eq(it[n - 4].method, "gradnorm:0.5");
    free(it);
    /* its grid's values are checked by its own parse */
    snprintf(o.methods, sizeof o.methods, "toy");
    snprintf(o.grid[WEIGHTING_GRID_ALPHA], sizeof o.grid[0], "1,-1");
    cr_assert_eq(sweep_plan(&o, &it, &n, &err), -1);
    cr_assert(strstr(err.msg, "toy:-1: alpha must be > 0") != NULL, "%s", err.msg);
    o.grid[WEIGHTING_GRID_ALPHA][0] = '\0';
    cr_assert_eq(sweep_plan(&o, &it, &n, &err), -1);
    cr_assert(strstr(err.msg, "--alphas is empty") != NULL, "%s", err.msg);
}

/* A run of the fixture's setup with the cost and test figures the report needs. */
static void make_run(run_record *r, const char *method, long seed, double rmse)
{
    th_run(r, method, seed, rmse);
    snprintf(r->run_id, sizeof r->run_id, "%.12s%04ld", method, seed);
    r->wall_s = 10;
    r->score = 300;
    r->acc = 0.9;
    r->f1 = 0.8;
}

/* Where the first table row whose first cell is text starts in md, or NULL. */
static const char *find_row(const char *md, const char *text)
{
    char key[64];
    snprintf(key, sizeof key, "\n| %s ", text);
    for (const char *p = strstr(md, key); p; p = strstr(p + 1, key)) {
        const char *q = p + strlen(key);
        while (*q == ' ') q++;
        if (*q == '|') return p + 1;
    }
    return NULL;
}

/* The table row of method in the Markdown report md, as a malloc'd string. */
static char *row_of(const char *md, const char *method)
{
    const char *p = find_row(md, method);
    cr_assert_not_null(p, "no row of %s in:\n%s", method, md);
    const char *e = strchr(p, '\n');
    return strndup(p, e ? (size_t)(e - p) : strlen(p));
}

/* The report of toy:0.5 (RMSE 15, 16, 17), toy:2 (13, 14, 15) and fixed:0.5 (14, 14.5, 15)
 * over seeds 1..3, validation RMSE = test - 1.5, under reg, as a malloc'd string. */
static char *report_of(weighting_registry_list reg)
{
    static const struct {
        const char *method;
        double rmse[3];
    } data[] = {{"toy:2", {13, 14, 15}}, {"fixed:0.5", {14, 14.5, 15}}, {"toy:0.5", {15, 16, 17}}};
    run_record runs[9];
    for (int i = 0; i < 3; i++)
        for (int s = 0; s < 3; s++) make_run(&runs[i * 3 + s], data[i].method, s + 1, data[i].rmse[s]);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    mtl_err err;
    cr_assert_eq(report_markdown(f, "test runs", runs, 9, reg, &err), 0, "%s", err.msg);
    fclose(f);
    return text;
}

Test(registry, the_report_tunes_and_marks_a_new_method)
{
    const weighting_method *reg[32];
    char *md = report_of(with_toy(reg, 32));
    /* the registry's order: fixed first, then toy by its argument */
    const char *fixed = find_row(md, "fixed:0.5"), *low = find_row(md, "toy:0.5"), *high = find_row(md, "toy:2");
    cr_assert(fixed && low && high && fixed < low && low < high, "%s", md);
    /* toy:2 has the lower mean validation RMSE (12.5 against 14.5): the family's chosen
     * setting, and with mean test RMSE 14 < 14.5 the best overall */
    char *row = row_of(md, "toy:2");
    cr_assert(strstr(row, "**best α** (validation)") != NULL, "%s", row);
    cr_assert(strstr(row, "**best overall**") != NULL, "%s", row);
    /* the whole grid's cost: 6 runs of 10 s */
    cr_assert(strstr(row, "(6 runs)") != NULL, "%s", row);
    free(row);
    row = row_of(md, "toy:0.5");
    cr_assert_null(strstr(row, "best"), "%s", row);
    free(row);
    /* the summary names the family by its symbol */
    cr_assert_not_null(find_row(md, "toy:α (validation)"), "%s", md);
    free(md);

    /* under the program's registry toy is a name it does not know: listed last, not a family */
    md = report_of(weighting_registry());
    row = row_of(md, "toy:2");
    cr_assert_null(strstr(row, "best α"), "%s", row);
    cr_assert(find_row(md, "toy:0.5") && find_row(md, "fixed:0.5") < find_row(md, "toy:0.5"), "%s", md);
    free(row);
    free(md);
}
