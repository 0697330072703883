/* Writes a complete, made-up run file OUT/runs/<run_id>.h5 for every run of a sweep's plan,
 * so that folders of thousands of runs can be built in seconds without training:
 *   fake_runs OUT EPOCHS TEST_ROWS [sweep options: --subsets, --methods, --seeds, ...]
 * A sweep started with the same options then finds every run complete. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmapss.h"
#include "results.h"
#include "sweep.h"

/* The digest of a subset's data, as the sweep hashes it into the run ids; 0 when it cannot
 * be read. */
static uint64_t data_digest(const char *dir, const char *subset)
{
    cmapss_set s;
    mtl_err err;
    if (cmapss_load(dir, subset, &s, &err)) {
        fprintf(stderr, "fake_runs: %s\n", err.msg);
        return 0;
    }
    uint64_t d = cmapss_set_digest(&s);
    cmapss_set_free(&s);
    return d;
}

static void fill(run_record *r, int epochs, int n_test, run_epoch *hist, run_test_row *test)
{
    snprintf(r->status, sizeof r->status, "ok");
    snprintf(r->git, sizeof r->git, "fake");
    snprintf(r->version, sizeof r->version, "0");
    snprintf(r->host, sizeof r->host, "fake");
    snprintf(r->start_time, sizeof r->start_time, "2026-01-01T00:00:00Z");
    snprintf(r->param_digest, sizeof r->param_digest, "0000000000000000");
    r->ranks = r->threads = 1;
    r->rmse = 15 + (double)(r->seed % 7), r->rmse_uncapped = r->rmse + 1, r->mae = 11, r->score = 400;
    r->acc = 0.9, r->f1 = 0.8, r->best_val_rmse = 14, r->best_epoch = epochs, r->epochs_run = epochs;
    r->samples_per_s = 1e4, r->comm_fraction = 0, r->w_rul = r->w_health = 0.5, r->wall_s = 1;
    for (int e = 0; e < epochs; e++)
        hist[e] = (run_epoch){e + 1, 100.0 / (e + 1), 0.5, 0.5, 0.5, NAN, NAN, 20, 0.9, 0.1, 0, 0.1, 1e4};
    for (int t = 0; t < n_test; t++) test[t] = (run_test_row){t + 1, 50, 60, 60, 1, 1};
    r->n_hist = epochs, r->hist = hist, r->n_test = n_test, r->test = test;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: fake_runs OUT EPOCHS TEST_ROWS [sweep options]\n");
        return 2;
    }
    const char *out = argv[1];
    int epochs = atoi(argv[2]), n_test = atoi(argv[3]);
    sweep_job j;
    sweep_job_init(&j, 0, 1);
    argv[3] = "sweep";
    if (epochs < 1 || n_test < 1 || sweep_parse(&j, argc - 3, argv + 3)) return 2;
    j.o.base.epochs = epochs;
    mtl_err err;
    if (sweep_plan(&j.o, &j.plan, &j.n, &err)) {
        fprintf(stderr, "fake_runs: %s\n", err.msg);
        return 2;
    }
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/runs", out);
    if (mtl_mkdir_p(dir, &err)) {
        fprintf(stderr, "fake_runs: %s\n", err.msg);
        return 2;
    }
    run_epoch *hist = calloc((size_t)epochs, sizeof *hist);
    run_test_row *test = calloc((size_t)n_test, sizeof *test);
    char digest_of[16] = "";
    uint64_t digest = 0;
    for (int i = 0; i < j.n; i++) {
        const sweep_item *it = &j.plan[i];
        if (strcmp(digest_of, it->subset) != 0) {
            snprintf(digest_of, sizeof digest_of, "%s", it->subset);
            digest = data_digest(j.o.data, it->subset);
            if (!digest) return 2;
        }
        train_config tc = j.o.base;
        weighting_parse(it->method, &tc.method, NULL);
        tc.seed = it->seed;
        run_record r;
        train_config_record(&tc, it->subset, it->window, digest, &r);
        fill(&r, epochs, n_test, hist, test);
        char p[4300];
        snprintf(p, sizeof p, "%s/%s.h5", dir, r.run_id);
        if (results_write_all(p, &r, 1, &err)) {
            fprintf(stderr, "fake_runs: %s\n", err.msg);
            return 1;
        }
    }
    printf("%d runs in %s\n", j.n, dir);
    free(hist), free(test);
    sweep_job_free(&j);
    return 0;
}
